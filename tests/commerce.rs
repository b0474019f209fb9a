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
    assert_eq!(
        delivered["payment"]["refunded"], 0,
        "the cash collected is kept: {delivered}"
    );
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
    // A bank transfer waits too, three days instead of the card's window.
    let mut transfer = order(&[("A", 1)]);
    transfer["payment"] = json!({"method": "BANK_TRANSFER"});
    let (status, bank) = oms.post_order(&transfer, None).await;
    assert_eq!((status, &bank["status"]), (201, &json!("ROUTED")), "{bank}");
    let at = |v: &serde_json::Value, f: &str| {
        oms_domain::time::Timestamp::parse_rfc3339(v[f].as_str().unwrap())
            .unwrap()
            .millis()
            / 1000
    };
    assert_eq!(
        at(&bank, "paymentDueAt") - at(&bank, "createdAt"),
        3 * 24 * 3600,
        "{bank}"
    );
    assert!(at(&card, "paymentDueAt") - at(&card, "createdAt") < 3600);
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

/// The README's priced example: a promotion, a coupon, a shipping band and
/// two tax rates, asserted to the cent; a returned unit refunds its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotions_shipping_and_tax_price_the_order_to_the_cent() {
    let oms = Oms::start().await;
    let tax = priced_shop(&oms).await;
    let mut body = priced_order();
    let (status, placed) = oms.post_order(&body, None).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(
        [
            &placed["subtotal"],
            &placed["discount"],
            &placed["shipping"],
            &placed["tax"],
            &placed["total"]
        ],
        [
            &json!(11480),
            &json!(3500),
            &json!(2500),
            &json!(871),
            &json!(11351)
        ],
        "{placed}"
    );
    let shirt = &placed["lines"][0];
    let mug = &placed["lines"][1];
    assert_eq!(
        (
            &shirt["discount"],
            &shirt["tax"],
            &shirt["taxRateBasisPoints"]
        ),
        (&json!(443), &json!(177), &json!(500))
    );
    assert_eq!(
        mug["adjustments"],
        json!([{"promotionId": "MUGS-3-FOR-2", "amount": 2500}, {"promotionId": "TAKE10", "amount": 557}])
    );
    assert_eq!(mug["tax"], 444);
    assert_eq!(
        placed["shippingCharge"],
        json!({"method": "STANDARD", "amount": 2500, "discount": 0, "tax": 250, "taxRateBasisPoints": 1000})
    );
    assert_eq!(
        placed["adjustments"],
        json!([{"promotionId": "MUGS-3-FOR-2", "amount": 2500}, {"promotionId": "TAKE10", "amount": 1000}])
    );
    assert_eq!(placed["couponCodes"], json!(["TAKE10"]));

    // Paid in full, delivered, one mug back: a third of what the mugs cost
    // (44.43 + 4.44 tax = 48.87 → 16.29).
    let id = placed["orderId"].as_str().unwrap().to_owned();
    assert_eq!(oms.settled(&id).await["status"], "ROUTED");
    oms.pay(&id).await;
    oms.ship(&id, "S1", "wh-rio", "DELIVERED", None).await;
    oms.status(&id, "DELIVERED").await;
    let back = oms.return_received(&id, "MUG", 1).await;
    assert_eq!(back["payment"]["refunded"], 1629, "{back}");

    // A coupon nobody issued, or one the order does not reach.
    body["couponCodes"] = json!(["NOPE"]);
    let (status, e) = oms.post_order(&body, None).await;
    assert_eq!(
        (
            status,
            e["error"]["code"].as_str(),
            e["error"]["field"].as_str()
        ),
        (422, Some("UNKNOWN_COUPON"), Some("couponCodes[0]")),
        "{e}"
    );
    let mut small = order(&[("SHIRT", 1)]);
    small["lines"][0]
        .as_object_mut()
        .unwrap()
        .remove("unitPrice");
    small["couponCodes"] = json!(["TAKE10"]);
    let (status, e) = oms.post_order(&small, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("COUPON_NOT_APPLICABLE")),
        "{e}"
    );
    // No rate for the method: refused, naming it.
    small["couponCodes"] = json!([]);
    small["shippingMethod"] = json!("express");
    let (status, e) = oms.post_order(&small, None).await;
    assert_eq!(
        (
            status,
            e["error"]["code"].as_str(),
            e["error"]["field"].as_str()
        ),
        (422, Some("NO_SHIPPING_RATE"), Some("shippingMethod")),
        "{e}"
    );

    // A coupon names one promotion; only operators set promotions.
    let (status, e) = oms
        .put(
            "/promotions/OTHER",
            json!({"type": "PERCENT_OFF_ORDER", "value": 5, "couponCode": "take10"}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("COUPON_TAKEN")),
        "{e}"
    );
    let (status, e) = oms
        .put(
            "/promotions/BAD",
            json!({"type": "PERCENT_OFF_ORDER", "value": 0}),
        )
        .await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("value")));
    let storefront = oms.token_for(Role::Storefront, "shop", Some("web"));
    let (status, list) = oms
        .send_as(Some(&storefront), "GET", "/promotions", None, &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["promotions"].as_array().map(Vec::len), Some(3));
    let (status, _) = oms
        .send_as(
            Some(&storefront),
            "PUT",
            "/tax-rules",
            Some(r#"{"rules":[]}"#),
            &[],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(oms.get("/tax-rules").await.1, tax);
    oms.running.stop().await;
}

/// An invoice per shipment, numbered in the shipping location's series
/// without gaps, charging exactly what the order charged; a credit note for
/// a refund after invoicing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipments_are_invoiced_and_refunds_credited_to_the_cent() {
    let oms = Oms::start().await;
    priced_shop(&oms).await;
    let (status, placed) = oms.post_order(&priced_order(), None).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["orderId"].as_str().unwrap().to_owned();
    assert_eq!(oms.settled(&id).await["status"], "ROUTED");
    oms.pay(&id).await;
    // Nothing shipped, nothing invoiced.
    let (status, none) = oms.get(&format!("/orders/{id}/invoices")).await;
    assert_eq!((status, &none["documents"]), (200, &json!([])), "{none}");

    oms.ship(
        &id,
        "S1",
        "wh-rio",
        "SHIPPED",
        Some(json!([{"sku": "SHIRT", "quantity": 2}, {"sku": "MUG", "quantity": 1}])),
    )
    .await;
    oms.until(&id, "first invoice", |o| {
        o["documents"].as_array().is_some_and(|d| d.len() == 1)
    })
    .await;
    oms.ship(
        &id,
        "S2",
        "wh-rio",
        "SHIPPED",
        Some(json!([{"sku": "MUG", "quantity": 2}])),
    )
    .await;
    oms.status(&id, "SHIPPED").await;
    let (_, docs) = oms.get(&format!("/orders/{id}/invoices")).await;
    let docs = docs["documents"].as_array().unwrap().clone();
    let numbers: Vec<&str> = docs.iter().map(|d| d["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["INV-wh-rio-000001", "INV-wh-rio-000002"]);
    let first = &docs[0];
    // Both shirts (39.80 − 4.43 + 1.77 tax), a third of the mugs (25.00 −
    // 10.19 + 1.48) and the shipping (25.00 + 2.50).
    let line = |d: &serde_json::Value, sku: &str| {
        d["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["sku"] == sku)
            .cloned()
            .unwrap()
    };
    let mugs = line(first, "MUG");
    assert_eq!(
        [
            &mugs["quantity"],
            &mugs["amount"],
            &mugs["discount"],
            &mugs["tax"],
            &mugs["total"]
        ],
        [
            &json!(1),
            &json!(2500),
            &json!(1019),
            &json!(148),
            &json!(1629)
        ]
    );
    assert_eq!(line(first, "SHIRT")["total"], 3714);
    assert_eq!(line(first, "SHIRT")["description"], "Shirt");
    assert_eq!(
        (&first["shipping"], &first["total"]),
        (&json!(2500), &json!(8093))
    );
    assert_eq!(
        first["taxLines"],
        json!([{"rateBasisPoints": 500, "base": 3537, "tax": 177}, {"rateBasisPoints": 1000, "base": 3981, "tax": 398}])
    );
    // The rest of the mugs: the shares add up to the line, the invoices to the order.
    assert_eq!(line(&docs[1], "MUG")["total"], 3258);
    assert_eq!(docs[1]["shipping"], 0);
    assert_eq!(
        docs[0]["total"].as_i64().unwrap() + docs[1]["total"].as_i64().unwrap(),
        placed["total"].as_i64().unwrap()
    );

    // Delivered, a mug back: a credit note for the refund, its tax the
    // refund's share of the order's (16.29 × 8.71 / 113.51 = 1.24998 → 1.25).
    oms.ship(&id, "S1", "wh-rio", "DELIVERED", None).await;
    oms.ship(&id, "S2", "wh-rio", "DELIVERED", None).await;
    oms.status(&id, "DELIVERED").await;
    oms.return_received(&id, "MUG", 1).await;
    let order = oms
        .until(&id, "credit note", |o| {
            o["documents"].as_array().is_some_and(|d| d.len() == 3)
        })
        .await;
    assert_eq!(order["documents"][2]["kind"], "CREDIT_NOTE");
    let (status, note) = oms.get("/invoices/CN-wh-rio-000001").await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(
        [&note["total"], &note["tax"], &note["corrects"]],
        [
            &json!(1629),
            &json!(125),
            &json!(["INV-wh-rio-000001", "INV-wh-rio-000002"])
        ]
    );

    // The printable page, and who may see it.
    let (status, page) = oms.get("/invoices/INV-wh-rio-000001.html").await;
    assert_eq!(status, 200);
    let page = page.as_str().expect("an HTML page, not JSON");
    for text in ["INV-wh-rio-000001", "Shirt", "80.93", "5 %", "−14.62"] {
        assert!(page.contains(text), "{text} not on the page:\n{page}");
    }
    let stranger = oms.token_for(Role::Customer, "c-2", None);
    let (status, _) = oms
        .send_as(
            Some(&stranger),
            "GET",
            "/invoices/INV-wh-rio-000001",
            None,
            &[],
        )
        .await;
    assert_eq!(status, 404, "another customer's invoice is not found");
    let (status, _) = oms
        .send_as(
            Some(&stranger),
            "GET",
            &format!("/orders/{id}/invoices"),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(oms.get("/invoices/INV-wh-rio-000009").await.0, 404);
    assert_eq!(oms.get("/invoices/nonsense").await.0, 404);
    oms.running.stop().await;
}

/// A business account: its customers buy at its price list's tiers, on
/// account within its credit limit; beyond it an operator decides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_buys_at_its_price_list_on_credit_within_its_limit() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("SHIRT", "wh-rio", 100).await;
    assert_eq!(
        oms.put(
            "/products/SHIRT",
            json!({"name": "Shirt", "prices": {"BRL": 1990}})
        )
        .await
        .0,
        201
    );
    let (status, list) = oms
        .put(
            "/price-lists/ACME-2026",
            json!({"currency": "BRL", "prices": {"SHIRT": [
                {"minQuantity": 1, "unitPrice": 1800}, {"minQuantity": 10, "unitPrice": 1500}]}}),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    let (status, account) = oms
        .put(
            "/accounts/acme",
            json!({"name": "Acme Ltda", "customers": ["buyer-1"], "priceListId": "ACME-2026",
                "creditLimit": 30000, "currency": "BRL", "paymentTerms": "NET30"}),
        )
        .await;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["openBalance"], json!({}));

    let b2b = |quantity: u32| {
        let mut o = order(&[("SHIRT", quantity)]);
        o["lines"][0].as_object_mut().unwrap().remove("unitPrice");
        o["customer"]["id"] = json!("buyer-1");
        o["accountId"] = json!("acme");
        o["purchaseOrderNumber"] = json!("PO-77");
        o["payment"] = json!({"method": "ON_ACCOUNT"});
        o
    };
    // 12 shirts: the 10+ tier, on account, released at once unpaid.
    let (status, first) = oms.post_order(&b2b(12), None).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        (
            &first["lines"][0]["unitPrice"],
            &first["total"],
            &first["status"]
        ),
        (&json!(1500), &json!(18000), &json!("READY_TO_SHIP")),
        "{first}"
    );
    assert_eq!(
        (
            &first["purchaseOrderNumber"],
            &first["accountId"],
            &first["paymentMethod"]
        ),
        (&json!("PO-77"), &json!("acme"), &json!("ON_ACCOUNT"))
    );
    assert!(first.get("paymentDueAt").is_none());
    let (_, acme) = oms.get("/accounts/acme").await;
    assert_eq!(acme["openBalance"], json!({"BRL": 18000}), "{acme}");

    // 9 more at 18.00: 16,200 on top of 18,000 is beyond 30,000: held.
    let (status, second) = oms.post_order(&b2b(9), None).await;
    assert_eq!(status, 201, "{second}");
    assert_eq!(second["status"], "ON_HOLD", "{second}");
    assert_eq!(second["hold"]["code"], "CREDIT_LIMIT");
    assert!(
        second["hold"]["detail"]
            .as_str()
            .unwrap()
            .contains("BRL 342.00"),
        "{second}"
    );
    // The account pays the first: its balance falls, and an operator
    // releases the second.
    let first_id = first["orderId"].as_str().unwrap();
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": first_id, "paymentId": "wire-1", "amount": 18000, "currency": "BRL"}),
    )
    .await;
    oms.until(first_id, "paid on account", |o| {
        o["payment"]["status"] == "CAPTURED"
    })
    .await;
    let (_, acme) = oms.get("/accounts/acme").await;
    assert_eq!(acme["openBalance"], json!({"BRL": 16200}), "{acme}");
    let second_id = second["orderId"].as_str().unwrap();
    let (status, released) = oms
        .send("POST", &format!("/orders/{second_id}/release"), None, &[])
        .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["status"], "READY_TO_SHIP", "{released}");
    // A cancelled order owes nothing.
    let (status, third) = oms.post_order(&b2b(1), None).await;
    assert_eq!((status, &third["status"]), (201, &json!("READY_TO_SHIP")));
    let third_id = third["orderId"].as_str().unwrap();
    let (_, acme) = oms.get("/accounts/acme").await;
    assert_eq!(acme["openBalance"], json!({"BRL": 18000}), "{acme}");
    oms.send("POST", &format!("/orders/{third_id}/cancel"), None, &[])
        .await;
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": third_id, "accepted": true}),
    )
    .await;
    oms.status(third_id, "CANCELLED").await;
    let (_, acme) = oms.get("/accounts/acme").await;
    assert_eq!(acme["openBalance"], json!({"BRL": 16200}), "{acme}");

    // Who may buy for it, and how.
    let mut stranger = b2b(1);
    stranger["customer"]["id"] = json!("someone-else");
    let (status, e) = oms.post_order(&stranger, None).await;
    assert_eq!(
        (
            status,
            e["error"]["code"].as_str(),
            e["error"]["field"].as_str()
        ),
        (422, Some("NOT_IN_ACCOUNT"), Some("customer.id")),
        "{e}"
    );
    let mut nowhere = b2b(1);
    nowhere["accountId"] = json!("nope");
    let (status, e) = oms.post_order(&nowhere, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("UNKNOWN_ACCOUNT"))
    );
    let mut loose = order(&[("SHIRT", 1)]);
    loose["lines"][0]
        .as_object_mut()
        .unwrap()
        .remove("unitPrice");
    loose["payment"] = json!({"method": "ON_ACCOUNT"});
    let (status, e) = oms.post_order(&loose, None).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("payment.method")),
        "{e}"
    );
    let mut wrong = b2b(12);
    wrong["lines"][0]["unitPrice"] = json!(1990);
    let (status, e) = oms.post_order(&wrong, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("PRICE_MISMATCH")),
        "{e}"
    );
    let (status, e) = oms
        .put("/accounts/acme", json!({"name": "Acme", "creditLimit": 5}))
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("currency"))
    );
    oms.running.stop().await;
}

/// A bundle is sold at its price and reserved, shipped and returned as its
/// products: a line each, the saving shared among them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_is_sold_as_one_and_fulfilled_and_returned_as_its_products() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("MUG", "wh-rio", 10).await;
    oms.stock("TEA", "wh-rio", 10).await;
    for (sku, price) in [("MUG", 2500), ("TEA", 1000)] {
        let (status, p) = oms
            .put(
                &format!("/products/{sku}"),
                json!({"name": sku, "prices": {"BRL": price}}),
            )
            .await;
        assert_eq!(status, 201, "{p}");
    }
    // A bundle may not cost more than its parts, nor name an unknown one.
    let gift = |price: i64, part: &str| {
        json!({"name": "Gift set", "prices": {"BRL": price},
               "bundle": [{"sku": "MUG", "quantity": 2}, {"sku": part, "quantity": 1}]})
    };
    let (status, e) = oms.put("/products/GIFT", gift(6001, "TEA")).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("prices.BRL")),
        "{e}"
    );
    let (status, e) = oms.put("/products/GIFT", gift(5000, "NOPE")).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("bundle[1].sku")),
        "{e}"
    );
    let (status, p) = oms.put("/products/GIFT", gift(5000, "TEA")).await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["bundle"][0], json!({"sku": "MUG", "quantity": 2}));

    // Two gift sets: 4 mugs (10000) and 2 teas (2000) for 10000; the 2000
    // saved is shared 10000 : 2000.
    let mut body = order(&[("GIFT", 2)]);
    body["lines"][0]["unitPrice"] = json!(5000);
    let (status, placed) = oms.post_order(&body, None).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["orderId"].as_str().unwrap().to_owned();
    let o = oms.settled(&id).await;
    assert_eq!(o["status"], "ROUTED", "{o}");
    assert_eq!(
        o["lines"],
        json!([
            {"lineNo": 1, "sku": "MUG", "quantity": 4, "unitPrice": 2500, "lineTotal": 10000,
             "adjustments": [{"promotionId": "BUNDLE:GIFT", "amount": 1667}], "discount": 1667,
             "bundle": {"sku": "GIFT", "quantity": 2}},
            {"lineNo": 2, "sku": "TEA", "quantity": 2, "unitPrice": 1000, "lineTotal": 2000,
             "adjustments": [{"promotionId": "BUNDLE:GIFT", "amount": 333}], "discount": 333,
             "bundle": {"sku": "GIFT", "quantity": 2}}
        ]),
        "{o}"
    );
    assert_eq!(
        (o["subtotal"].as_i64(), o["total"].as_i64()),
        (Some(12000), Some(10000))
    );
    let (_, mug) = oms.get("/inventory/MUG").await;
    assert_eq!(mug["reserved"], 4, "{mug}");

    // A product of the bundle is not cancelled alone; and a sku in a
    // bundle is not ordered again on a line of its own.
    let (status, e) = oms
        .send("POST", &format!("/orders/{id}/lines/TEA/cancel"), None, &[])
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("IN_BUNDLE")),
        "{e}"
    );
    let mut both = order(&[("GIFT", 1), ("MUG", 1)]);
    both["lines"][0]["unitPrice"] = json!(5000);
    both["lines"][1]["unitPrice"] = json!(2500);
    let (status, e) = oms.post_order(&both, None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("DUPLICATE_SKU")),
        "{e}"
    );

    // Shipped and delivered as its products; a mug comes back: its share
    // of what the mugs cost (8333 for 4 → 2083).
    oms.pay(&id).await;
    oms.ship(&id, "S1", "wh-rio", "DELIVERED", None).await;
    let done = oms.status(&id, "DELIVERED").await;
    assert_eq!(
        done["shipments"][0]["lines"],
        json!([{"sku": "MUG", "quantity": 4}, {"sku": "TEA", "quantity": 2}]),
        "{done}"
    );
    let back = oms.return_received(&id, "MUG", 1).await;
    assert_eq!(back["payment"]["refunded"], 2083, "{back}");
    let (_, mug) = oms.get("/inventory/MUG").await;
    assert_eq!(mug["onHand"], 7, "{mug}");

    // Cancelling the bundle's sku cancels its lines.
    let (status, placed) = oms.post_order(&body, None).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["orderId"].as_str().unwrap().to_owned();
    oms.settled(&id).await;
    let (status, o) = oms
        .send(
            "POST",
            &format!("/orders/{id}/lines/GIFT/cancel"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (status, o["status"].as_str()),
        (200, Some("CANCELLED")),
        "{o}"
    );
    oms.running.stop().await;
}

/// A provider that authorises: the order is released on the authorisation,
/// each shipment's value is asked for as it leaves, the rest is voided; a
/// delivery refused at the door comes back to stock and is refunded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authorisation_is_captured_per_shipment_and_a_refused_delivery_comes_back() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-rio", 5).await;
    oms.stock("B", "wh-sp", 5).await;
    let id = oms.routed_order(&[("A", 1), ("B", 1)]).await;
    let auth = |amount: i64| json!({"orderId": id, "paymentId": "auth-1", "amount": amount, "currency": "BRL"});
    oms.put_event("partner.payments", "PaymentAuthorized", auth(5000))
        .await;
    let o = oms
        .until(&id, "released", |v| v["status"] == "READY_TO_SHIP")
        .await;
    assert_eq!(
        (
            o["payment"]["status"].as_str(),
            o["payment"]["authorized"].as_i64(),
            o["payment"]["captured"].as_i64()
        ),
        (Some("AUTHORIZED"), Some(5000), Some(0)),
        "{o}"
    );
    // The same authorisation again changes nothing.
    oms.put_event("partner.payments", "PaymentAuthorized", auth(5000))
        .await;

    // The first shipment leaves: its value is asked for.
    oms.ship(&id, "S1", "wh-rio", "SHIPPED", None).await;
    let o = oms
        .until(&id, "first capture asked", |v| {
            v["payments"][0]["captures"]
                .as_array()
                .is_some_and(|c| c.len() == 1)
        })
        .await;
    assert_eq!(
        o["payments"][0]["captures"],
        json!([{"captureId": "S1", "amount": 1990}]),
        "{o}"
    );
    let confirm = |capture: &str| json!({"orderId": id, "paymentId": "auth-1", "amount": 1990, "currency": "BRL", "captureId": capture});
    oms.put_event("partner.payments", "PaymentConfirmed", confirm("S1"))
        .await;
    oms.until(&id, "first capture", |v| v["payment"]["captured"] == 1990)
        .await;
    // The last one: asked for, and the 1020 authorised beyond the total
    // voided.
    oms.ship(&id, "S2", "wh-sp", "SHIPPED", None).await;
    let o = oms.status(&id, "SHIPPED").await;
    assert_eq!(
        (
            o["payments"][0]["captures"][1].clone(),
            o["payments"][0]["voided"].as_i64()
        ),
        (json!({"captureId": "S2", "amount": 1990}), Some(1020)),
        "{o}"
    );
    oms.put_event("partner.payments", "PaymentConfirmed", confirm("S2"))
        .await;
    oms.put_event("partner.payments", "PaymentConfirmed", confirm("S2"))
        .await;
    let o = oms
        .until(&id, "second capture", |v| v["payment"]["captured"] == 3980)
        .await;
    assert_eq!(o["payment"]["refunded"], 0, "captured once each: {o}");

    // S2 is refused at the door: B goes back to wh-sp, its 19.90 refunded.
    oms.ship(&id, "S2", "wh-sp", "REFUSED", None).await;
    let o = oms
        .until(&id, "refused", |v| v["payment"]["refunded"] == 1990)
        .await;
    assert_eq!(o["returns"][0]["rmaId"], "refused-S2", "{o}");
    let (_, b) = oms.get("/inventory/B").await;
    assert_eq!(
        (b["onHand"].as_u64(), b["reserved"].as_u64()),
        (Some(5), Some(0)),
        "{b}"
    );
    oms.ship(&id, "S1", "wh-rio", "DELIVERED", None).await;
    let o = oms.status(&id, "DELIVERED").await;
    // Refused after it was refused: a conflicting status changes nothing.
    oms.ship(&id, "S2", "wh-sp", "DELIVERED", None).await;
    oms.quiet().await;
    assert_eq!(
        oms.get(&format!("/orders/{id}")).await.1["payment"],
        o["payment"]
    );

    // Cash on delivery refused: nothing was collected, nothing refunded,
    // the goods back in stock and the order returned.
    let mut cod = order(&[("A", 2)]);
    cod["payment"] = json!({"method": "CASH_ON_DELIVERY"});
    let (status, placed) = oms.post_order(&cod, None).await;
    assert_eq!(status, 201, "{placed}");
    let cod_id = placed["orderId"].as_str().unwrap().to_owned();
    oms.status(&cod_id, "READY_TO_SHIP").await;
    oms.ship(&cod_id, "C1", "wh-rio", "SHIPPED", None).await;
    oms.status(&cod_id, "SHIPPED").await;
    oms.ship(&cod_id, "C1", "wh-rio", "REFUSED", None).await;
    let o = oms.status(&cod_id, "RETURNED").await;
    assert!(o["payments"].as_array().is_none_or(Vec::is_empty), "{o}");
    let (_, a) = oms.get("/inventory/A").await;
    assert_eq!(a["onHand"], 4, "one A delivered, two back: {a}");

    // An order cancelled while authorised: the authorisation is voided.
    let id = oms.routed_order(&[("A", 1)]).await;
    oms.put_event(
        "partner.payments",
        "PaymentAuthorized",
        json!({"orderId": id, "paymentId": "auth-2", "amount": 1990, "currency": "BRL"}),
    )
    .await;
    oms.status(&id, "READY_TO_SHIP").await;
    oms.send("POST", &format!("/orders/{id}/cancel"), None, &[])
        .await;
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": id, "accepted": true}),
    )
    .await;
    let o = oms.status(&id, "CANCELLED").await;
    assert_eq!(o["payment"]["voided"], 1990, "{o}");
    oms.running.stop().await;
}

/// `PATCH /orders/{id}`: before release the order is priced, reserved and
/// routed again all or nothing; after release the locations are asked to
/// stop it first; money follows the new total.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_edited_all_or_nothing_and_after_release_through_its_locations() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.location("wh-recife", RECIFE.0, RECIFE.1).await;
    oms.stock("A", "wh-rio", 4).await;
    oms.stock("A", "wh-recife", 2).await;
    oms.stock("B", "wh-rio", 5).await;
    let patch = |id: &str, body: serde_json::Value| {
        let path = format!("/orders/{id}");
        let body = body.to_string();
        let oms = &oms;
        async move { oms.send("PATCH", &path, Some(&body), &[]).await }
    };
    let reserved = |sku: &'static str| {
        let oms = &oms;
        async move { oms.get(&format!("/inventory/{sku}")).await.1["reserved"].clone() }
    };

    // Unpaid and routed: 2 → 4 of A, re-reserved in one change.
    let id = oms.routed_order(&[("A", 2)]).await;
    let (status, o) = patch(
        &id,
        json!({"lines": [{"sku": "A", "quantity": 4}], "reason": "one more pair"}),
    )
    .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        (
            o["status"].as_str(),
            o["total"].as_i64(),
            o["lines"][0]["quantity"].as_i64()
        ),
        (Some("ROUTED"), Some(7960), Some(4)),
        "{o}"
    );
    assert_eq!(
        o["allocations"],
        json!([{"sku": "A", "locationId": "wh-rio", "quantity": 4}])
    );
    assert_eq!(reserved("A").await, 4);
    // More than the network has: nothing changes.
    let (status, e) = patch(&id, json!({"lines": [{"sku": "A", "quantity": 7}]})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("EDIT_NOT_POSSIBLE")),
        "{e}"
    );
    assert_eq!(reserved("A").await, 4);
    assert_eq!(oms.get(&format!("/orders/{id}")).await.1["total"], 7960);
    // A new address: routed again from the nearest location that has it.
    let (status, o) = patch(
        &id,
        json!({"lines": [{"sku": "A", "quantity": 2}],
               "shipTo": {"country": "BR", "city": "Recife", "line1": "Rua R, 9", "lat": RECIFE.0, "lon": RECIFE.1}}),
    )
    .await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        (o["shipTo"]["city"].as_str(), o["allocations"].clone()),
        (
            Some("Recife"),
            json!([{"sku": "A", "locationId": "wh-recife", "quantity": 2}])
        ),
        "{o}"
    );
    assert_eq!(reserved("A").await, 2);
    // Invalid edits: 422, nothing changes.
    let (status, e) = patch(&id, json!({"lines": [{"sku": "A", "quantity": 0}]})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines")),
        "{e}"
    );
    let (status, e) = patch(&id, json!({"lines": [{"sku": "Z", "quantity": 0}]})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines[0].quantity")),
        "{e}"
    );
    let (status, _) = patch(&id, json!({"lines": "x"})).await;
    assert_eq!(status, 422);
    let (status, _) = oms
        .send("PATCH", &format!("/orders/{id}"), Some("{"), &[])
        .await;
    assert_eq!(status, 400);

    // Held and paid: B removed, its money refunded at once.
    let id = oms.routed_order(&[("A", 1), ("B", 1)]).await;
    oms.send(
        "POST",
        &format!("/orders/{id}/hold"),
        Some(r#"{"reason":"check"}"#),
        &[],
    )
    .await;
    oms.pay(&id).await;
    let (status, o) = patch(&id, json!({"lines": [{"sku": "B", "quantity": 0}]})).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        (
            o["status"].as_str(),
            o["total"].as_i64(),
            o["payment"]["refunded"].as_i64()
        ),
        (Some("ON_HOLD"), Some(1990), Some(1990)),
        "{o}"
    );
    assert_eq!(reserved("B").await, 0);

    // Released: the locations are asked first; the new line is reserved
    // beside the old ones until they answer.
    let id = oms.routed_order(&[("A", 1)]).await;
    oms.pay(&id).await;
    oms.status(&id, "READY_TO_SHIP").await;
    let (status, o) = patch(
        &id,
        json!({"lines": [{"sku": "B", "quantity": 1, "unitPrice": 1990}]}),
    )
    .await;
    assert_eq!(status, 202, "{o}");
    assert_eq!(o["status"], "CANCEL_REQUESTED");
    assert_eq!(o["pendingEdit"]["total"], 3980, "{o}");
    assert_eq!(reserved("B").await, 1);
    let (status, e) = patch(
        &id,
        json!({"lines": [{"sku": "B", "quantity": 2, "unitPrice": 1990}]}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("EDIT_PENDING"))
    );
    // The warehouse cannot stop it: the edit is dropped, B given back.
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": id, "accepted": false, "reason": "packed"}),
    )
    .await;
    let o = oms.status(&id, "READY_TO_SHIP").await;
    assert!(o["pendingEdit"].is_null(), "{o}");
    assert_eq!(
        (o["total"].as_i64(), reserved("B").await),
        (Some(1990), json!(0))
    );
    // Again, and this time it stops it: re-released with the new lines,
    // held for the 19.90 more it costs until that is paid.
    let (status, _) = patch(
        &id,
        json!({"lines": [{"sku": "B", "quantity": 1, "unitPrice": 1990}]}),
    )
    .await;
    assert_eq!(status, 202);
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": id, "accepted": true}),
    )
    .await;
    let o = oms.status(&id, "ON_HOLD").await;
    assert_eq!(
        (
            o["hold"]["code"].as_str(),
            o["total"].as_i64(),
            o["lines"].as_array().map(Vec::len)
        ),
        (Some("PAYMENT_MISMATCH"), Some(3980), Some(2)),
        "{o}"
    );
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "paymentId": "pay-more", "amount": 1990, "currency": "BRL"}),
    )
    .await;
    let o = oms.status(&id, "READY_TO_SHIP").await;
    assert_eq!(o["allocations"].as_array().map(Vec::len), Some(2), "{o}");
    // Shipped: no more edits.
    oms.ship(&id, "S1", "wh-rio", "SHIPPED", None).await;
    oms.status(&id, "SHIPPED").await;
    let (status, e) = patch(
        &id,
        json!({"lines": [{"sku": "B", "quantity": 2, "unitPrice": 1990}]}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("NOT_EDITABLE")),
        "{e}"
    );
    oms.running.stop().await;
}

/// The history and billing rules: an order far above what the customer
/// usually spends, or billed in another country than it ships to, scores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_far_above_the_customers_history_or_billed_abroad_is_scored() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 100).await;
    let (s, rules) = oms
        .put(
            "/risk-rules",
            json!({"holdScore": 50, "historyMultipleOver": 3, "historyPoints": 50, "countryMismatchPoints": 50}),
        )
        .await;
    assert_eq!(s, 200, "{rules}");
    // Two orders of 19.90, then one of 99.50 (5 ×): held for review.
    for _ in 0..2 {
        oms.routed_order(&[("A", 1)]).await;
    }
    let (_, big) = oms.post_order(&order(&[("A", 5)]), None).await;
    assert_eq!(
        (big["status"].as_str(), big["hold"]["code"].as_str()),
        (Some("ON_HOLD"), Some("FRAUD_REVIEW")),
        "{big}"
    );
    assert_eq!(big["risk"]["fired"][0]["rule"], "ABOVE_HISTORY", "{big}");
    // Within 3 × the average: not scored.
    let (_, fine) = oms.post_order(&order(&[("A", 2)]), None).await;
    assert_eq!(fine["status"], "ROUTED", "{fine}");
    // Billed abroad.
    let mut abroad = order(&[("A", 1)]);
    abroad["customer"]["id"] = json!("c-new");
    abroad["billTo"] = json!({"country": "US", "postalCode": "10001"});
    let (_, o) = oms.post_order(&abroad, None).await;
    assert_eq!(o["risk"]["fired"][0]["rule"], "COUNTRY_MISMATCH", "{o}");
    assert_eq!(o["billTo"]["country"], "US");
    abroad["billTo"] = json!({"country": "usa"});
    let (s, e) = oms.post_order(&abroad, None).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (422, Some("billTo.country"))
    );
    oms.running.stop().await;
}
