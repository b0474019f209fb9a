//! Black-box tests of commerce: the catalog prices orders; no end customer
//! sets a price.

mod common;

use common::*;
use oms_domain::access::Role;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_prices_lines_and_no_customer_sets_a_price() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("SHIRT", "wh-rio", 10).await;
    oms.stock("LOOSE", "wh-rio", 10).await;
    let (status, product) = oms
        .put(
            "/products/SHIRT",
            json!({"name": "Shirt", "prices": {"BRL": 4990, "USD": 1200}, "weightGrams": 200}),
        )
        .await;
    assert_eq!(status, 201, "{product}");
    assert_eq!(
        oms.put(
            "/products/SHIRT",
            json!({"name": "Shirt", "prices": {"BRL": 4990, "USD": 1200}})
        )
        .await
        .0,
        200
    );

    // No price sent: the catalog's.
    let mut body = order(&[("SHIRT", 2)]);
    body["lines"][0]
        .as_object_mut()
        .unwrap()
        .remove("unitPrice");
    let (status, placed) = oms.post_order(&body, None).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(
        (
            placed["lines"][0]["unitPrice"].as_i64(),
            placed["total"].as_i64()
        ),
        (Some(4990), Some(9980))
    );

    // Another price: refused, naming the line.
    let (status, e) = oms.post_order(&order(&[("SHIRT", 1)]), None).await;
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["error"]["code"], "PRICE_MISMATCH");
    assert_eq!(e["error"]["field"], "lines[0].unitPrice");
    // A currency the product has no price in.
    let mut usd = body.clone();
    usd["currency"] = json!("EUR");
    let (status, e) = oms.post_order(&usd, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("NO_PRICE")),
        "{e}"
    );

    // A sku outside the catalog: a storefront's price stands, a customer's does not.
    let (status, loose) = oms.post_order(&order(&[("LOOSE", 1)]), None).await;
    assert_eq!(
        (status, loose["total"].as_i64()),
        (201, Some(1990)),
        "{loose}"
    );
    let customer = oms.token_for(Role::Customer, "c-1", None);
    let (status, e) = oms
        .send_as(
            Some(&customer),
            "POST",
            "/orders",
            Some(&order(&[("LOOSE", 1)]).to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("UNKNOWN_SKU")),
        "{e}"
    );
    assert_eq!(e["error"]["field"], "lines[0].sku");
    // The customer may buy from the catalog at its price.
    let (status, own) = oms
        .send_as(
            Some(&customer),
            "POST",
            "/orders",
            Some(&body.to_string()),
            &[],
        )
        .await;
    assert_eq!((status, own["total"].as_i64()), (201, Some(9980)), "{own}");

    let (status, list) = oms
        .send_as(Some(&customer), "GET", "/products", None, &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["products"][0]["prices"]["BRL"], 4990, "{list}");
    assert_eq!(oms.get("/products/NOPE").await.0, 404);
    let (status, e) = oms
        .put(
            "/products/SHIRT",
            json!({"name": "Shirt", "prices": {"BRL": -1}}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("prices.BRL"))
    );
    let (status, _) = oms
        .send_as(
            Some(&customer),
            "PUT",
            "/products/SHIRT",
            Some(r#"{"name":"x","prices":{"BRL":1}}"#),
            &[],
        )
        .await;
    assert_eq!(status, 403, "only operators change the catalog");
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_orders_are_held_for_review_and_an_operator_releases_or_cancels_them() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 100).await;
    let (status, rules) = oms
        .put(
            "/risk-rules",
            json!({"holdScore": 50, "blocklist": {"emails": ["Bad@Example.com"]},
                   "firstOrderAmountOver": 100000, "maxOrdersPerCustomerPerHour": 2, "highValueOver": 5000}),
        )
        .await;
    assert_eq!(status, 200, "{rules}");
    assert_eq!(oms.get("/risk-rules").await.1, rules);

    // A blocklisted email alone reaches the hold score.
    let mut bad = order(&[("A", 1)]);
    bad["customer"] = json!({"id": "c-bad", "email": "bad@example.com"});
    let (_, held) = oms.post_order(&bad, None).await;
    assert_eq!(held["status"], "ON_HOLD", "{held}");
    assert_eq!(held["hold"]["code"], "FRAUD_REVIEW");
    assert_eq!(held["risk"]["score"], 50);
    assert_eq!(held["risk"]["fired"][0]["rule"], "BLOCKLISTED_EMAIL");
    let id = held["orderId"].as_str().unwrap().to_owned();
    assert_eq!(
        oms.pay(&id).await["status"],
        "ON_HOLD",
        "paid, still held: nothing released"
    );
    let (_, released) = oms
        .send("POST", &format!("/orders/{id}/release"), None, &[])
        .await;
    assert_eq!(released["status"], "READY_TO_SHIP", "{released}");

    // Velocity and value add up: the third big order within the hour is held.
    let mut big = order(&[("A", 5)]);
    big["customer"] = json!({"id": "c-fast"});
    let statuses: Vec<String> = {
        let mut out = Vec::new();
        for _ in 0..3 {
            let (_, o) = oms.post_order(&big, None).await;
            out.push(o["status"].as_str().unwrap().to_owned());
        }
        out
    };
    assert_eq!(statuses, ["ROUTED", "ROUTED", "ON_HOLD"]);
    let (_, found) = oms.get("/orders?status=ON_HOLD&customerId=c-fast").await;
    let third = found["orders"][0]["orderId"].as_str().unwrap().to_owned();
    let (_, o) = oms.get(&format!("/orders/{third}")).await;
    let fired: Vec<&str> = o["risk"]["fired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(fired, ["VELOCITY", "HIGH_VALUE"], "{o}");
    let (status, cancelled) = oms
        .send("POST", &format!("/orders/{third}/cancel"), None, &[])
        .await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("CANCELLED"))
    );

    let (status, e) = oms.put("/risk-rules", json!({"holdScore": 0})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("holdScore")),
        "{e}"
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_on_delivery_is_released_unpaid_and_settled_by_the_carriers_delivery() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 10).await;
    let mut cod = order(&[("A", 2)]);
    cod["payment"] = json!({"method": "CASH_ON_DELIVERY"});
    let (status, placed) = oms.post_order(&cod, None).await;
    assert_eq!(status, 201, "{placed}");
    // Released to the warehouse at once, with no payment window.
    assert_eq!(placed["status"], "READY_TO_SHIP", "{placed}");
    assert_eq!(placed["paymentMethod"], "CASH_ON_DELIVERY");
    assert!(placed.get("paymentDueAt").is_none(), "{placed}");
    let id = placed["orderId"].as_str().unwrap().to_owned();
    oms.ship(&id, "S1", "wh-rio", "SHIPPED", None).await;
    oms.status(&id, "SHIPPED").await;
    oms.put_event(
        "partner.carrier",
        "ShipmentStatusChanged",
        json!({"orderId": id, "shipmentId": "S1", "locationId": "wh-rio", "status": "DELIVERED", "collectedAmount": 3980}),
    )
    .await;
    let delivered = oms
        .until(&id, "delivered and paid", |o| {
            o["payment"]["status"] == "CAPTURED"
        })
        .await;
    assert_eq!(delivered["status"], "DELIVERED", "{delivered}");
    assert_eq!(delivered["payment"]["captured"], 3980);
    assert_eq!(delivered["payment"]["paymentId"], "cod-S1");

    let mut wrong = order(&[("A", 1)]);
    wrong["payment"] = json!({"method": "IOU"});
    let (status, e) = oms.post_order(&wrong, None).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("payment.method")),
        "{e}"
    );
    // A card order still waits for its payment.
    let (_, card) = oms.post_order(&order(&[("A", 1)]), None).await;
    assert_eq!(
        (card["status"].as_str(), card["paymentMethod"].as_str()),
        (Some("ROUTED"), Some("CARD"))
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_is_cancelled_before_release_with_its_stock_and_money() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 10).await;
    oms.stock("B", "wh-rio", 10).await;
    // Unpaid: the line goes, its stock comes back, the total falls.
    let id = oms.routed_order(&[("A", 2), ("B", 1)]).await;
    let (status, o) = oms
        .send(
            "POST",
            &format!("/orders/{id}/lines/B/cancel"),
            Some(r#"{"reason":"out of budget"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        (o["status"].as_str(), o["total"].as_i64()),
        (Some("ROUTED"), Some(3980)),
        "{o}"
    );
    assert_eq!(o["lines"].as_array().unwrap().len(), 1);
    assert_eq!(
        o["allocations"],
        json!([{"sku": "A", "locationId": "wh-rio", "quantity": 2}])
    );
    let (_, b) = oms.get("/inventory/B").await;
    assert_eq!(
        (b["available"].as_u64(), b["reserved"].as_u64()),
        (Some(10), Some(0)),
        "{b}"
    );
    // Paid in full already: the line's money is refunded.
    let paid = oms.routed_order(&[("A", 1), ("B", 1)]).await;
    oms.pay(&paid).await;
    let (status, e) = oms
        .send("POST", &format!("/orders/{paid}/lines/B/cancel"), None, &[])
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("NOT_CANCELLABLE")),
        "released: {e}"
    );
    let held = oms.routed_order(&[("A", 1), ("B", 1)]).await;
    oms.send(
        "POST",
        &format!("/orders/{held}/hold"),
        Some(r#"{"reason":"check"}"#),
        &[],
    )
    .await;
    oms.pay(&held).await;
    let (_, o) = oms
        .send("POST", &format!("/orders/{held}/lines/B/cancel"), None, &[])
        .await;
    assert_eq!(
        (o["total"].as_i64(), o["payment"]["refunded"].as_i64()),
        (Some(1990), Some(1990)),
        "{o}"
    );
    // Again: no such line; the last line cancels the order.
    let (status, e) = oms
        .send("POST", &format!("/orders/{held}/lines/B/cancel"), None, &[])
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("NO_SUCH_LINE"))
    );
    let (_, o) = oms
        .send("POST", &format!("/orders/{held}/lines/A/cancel"), None, &[])
        .await;
    assert_eq!(o["status"], "CANCELLED", "{o}");
    assert_eq!(
        o["payment"]["refunded"], 3980,
        "everything paid is back: {o}"
    );
    oms.running.stop().await;
}
