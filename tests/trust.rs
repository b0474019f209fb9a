//! Trust, as a stranger and as an attacker would test it: every caller
//! authenticated and kept to its role, partner facts only from their
//! rightful senders, no customer's money stranded, hostile input neither
//! corrupting nor bloating an order.

mod common;

use common::*;
use oms_domain::access::Role;
use serde_json::{Value, json};

async fn stocked() -> Oms {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 10).await;
    // In the catalog at the price the orders here send: customers may only
    // buy catalog skus.
    let (status, _) = oms
        .put("/products/A", json!({"name": "A", "prices": {"BRL": 1990}}))
        .await;
    assert_eq!(status, 201);
    oms
}

fn order_for(channel: &str, customer: &str) -> Value {
    let mut o = order(&[("A", 1)]);
    o["channel"] = json!(channel);
    o["customer"]["id"] = json!(customer);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_a_bad_one_is_401_and_changes_nothing() {
    let oms = stocked().await;
    let body = order(&[("A", 1)]).to_string();
    for token in [
        None,
        Some("not-a-jwt"),
        Some("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
    ] {
        let (s, v) = oms
            .send_as(token, "POST", "/orders", Some(&body), &[])
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (401, Some("UNAUTHENTICATED")),
            "{v}"
        );
        let (s, _) = oms
            .send_as(
                token,
                "PUT",
                "/inventory/A/wh-sp",
                Some(r#"{"onHand": 0}"#),
                &[],
            )
            .await;
        assert_eq!(s, 401);
        let (s, _) = oms.send_as(token, "GET", "/orders/ord_1", None, &[]).await;
        assert_eq!(s, 401);
    }
    // A token signed by someone else's key.
    let stranger = oms_local_runtime::auth::Issuer::ephemeral()
        .mint(
            Role::Operator,
            "mallory",
            None,
            std::time::Duration::from_secs(60),
        )
        .unwrap();
    let (s, _) = oms
        .send_as(
            Some(&stranger),
            "PUT",
            "/inventory/A/wh-sp",
            Some(r#"{"onHand": 0}"#),
            &[],
        )
        .await;
    assert_eq!(s, 401);
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(stock["onHand"], 10, "nothing changed");
    // What stays open.
    assert_eq!(oms.send_as(None, "GET", "/health", None, &[]).await.0, 200);
    assert_eq!(
        oms.send_as(None, "GET", "/openapi.json", None, &[]).await.0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storefront_works_for_its_channel_only() {
    let oms = stocked().await;
    let web = oms.token_for(Role::Storefront, "web-app", Some("web"));
    let (s, placed) = oms
        .send_as(
            Some(&web),
            "POST",
            "/orders",
            Some(&order_for("web", "c-9").to_string()),
            &[],
        )
        .await;
    assert_eq!(s, 201, "{placed}");
    let id = placed["orderId"].as_str().unwrap();
    assert_eq!(
        placed["history"][0]["actor"],
        "order-intake:web:storefront:web-app"
    );
    let (s, v) = oms
        .send_as(
            Some(&web),
            "POST",
            "/orders",
            Some(&order_for("app", "c-9").to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "{v}"
    );
    // The operator places an order on another channel; the web storefront
    // does not see it.
    let (_, other) = oms.post_order(&order_for("app", "c-9"), None).await;
    let other = other["orderId"].as_str().unwrap();
    let (s, _) = oms
        .send_as(Some(&web), "GET", &format!("/orders/{other}"), None, &[])
        .await;
    assert_eq!(s, 404);
    let (s, _) = oms
        .send_as(
            Some(&web),
            "POST",
            &format!("/orders/{other}/cancel"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        oms.send_as(Some(&web), "GET", &format!("/orders/{id}"), None, &[])
            .await
            .0,
        200
    );
    // Stock and locations: read, never write.
    assert_eq!(
        oms.send_as(Some(&web), "GET", "/inventory/A", None, &[])
            .await
            .0,
        200
    );
    assert_eq!(
        oms.send_as(Some(&web), "GET", "/locations", None, &[])
            .await
            .0,
        200
    );
    let (s, v) = oms
        .send_as(
            Some(&web),
            "PUT",
            "/inventory/A/wh-sp",
            Some(r#"{"onHand": 999}"#),
            &[],
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "{v}"
    );
    let (s, _) = oms
        .send_as(
            Some(&web),
            "PUT",
            "/locations/evil",
            Some(r#"{"name": "x", "kind": "store", "lat": 0, "lon": 0}"#),
            &[],
        )
        .await;
    assert_eq!(s, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_sees_and_acts_on_its_own_orders_only() {
    let oms = stocked().await;
    let ana = oms.token_for(Role::Customer, "c-ana", None);
    let bob = oms.token_for(Role::Customer, "c-bob", None);
    let (s, mine) = oms
        .send_as(
            Some(&ana),
            "POST",
            "/orders",
            Some(&order_for("web", "c-ana").to_string()),
            &[],
        )
        .await;
    assert_eq!(s, 201, "{mine}");
    let id = mine["orderId"].as_str().unwrap();
    let (s, v) = oms
        .send_as(
            Some(&ana),
            "POST",
            "/orders",
            Some(&order_for("web", "c-bob").to_string()),
            &[],
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (403, Some("FORBIDDEN")),
        "{v}"
    );
    // Bob cannot tell Ana's order exists, nor cancel or return it.
    let (s, v) = oms
        .send_as(Some(&bob), "GET", &format!("/orders/{id}"), None, &[])
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")));
    assert!(!v.to_string().contains("ana@example.com"));
    let (s, _) = oms
        .send_as(
            Some(&bob),
            "POST",
            &format!("/orders/{id}/cancel"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 404);
    let ret = json!({"lines": [{"sku": "A", "quantity": 1}], "reason": "mine now"}).to_string();
    let (s, _) = oms
        .send_as(
            Some(&bob),
            "POST",
            &format!("/orders/{id}/returns"),
            Some(&ret),
            &[],
        )
        .await;
    assert_eq!(s, 404);
    // Operator-only routes.
    for (method, path) in [
        ("GET", "/inventory/A"),
        ("GET", "/locations"),
        ("GET", "/_local/notifications"),
    ] {
        let (s, _) = oms.send_as(Some(&ana), method, path, None, &[]).await;
        assert_eq!(s, 403, "{method} {path}");
    }
    let (s, _) = oms
        .send_as(
            Some(&ana),
            "POST",
            &format!("/orders/{id}/release"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, 403);
    // Ana reads and cancels her own.
    let (s, got) = oms
        .send_as(Some(&ana), "GET", &format!("/orders/{id}"), None, &[])
        .await;
    assert_eq!((s, got["orderId"].as_str()), (200, Some(id)));
    let (s, cancelled) = oms
        .send_as(
            Some(&ana),
            "POST",
            &format!("/orders/{id}/cancel"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        (s, cancelled["status"].as_str()),
        (200, Some("CANCELLED")),
        "{cancelled}"
    );
    assert_eq!(cancelled["cancelCode"], "CUSTOMER_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notification_log_is_for_operators_only() {
    let oms = stocked().await;
    let web = oms.token_for(Role::Storefront, "web-app", Some("web"));
    assert_eq!(
        oms.send_as(None, "GET", "/_local/notifications", None, &[])
            .await
            .0,
        401
    );
    assert_eq!(
        oms.send_as(Some(&web), "GET", "/_local/notifications", None, &[])
            .await
            .0,
        403
    );
    assert_eq!(oms.get("/_local/notifications").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_money_on_a_rejected_order_is_refunded() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    // No stock: the order will be rejected; the payment arrives at once.
    let mut rejected = 0;
    for i in 0..10 {
        let (s, placed) = oms.post_order(&order(&[("NONE", 1)]), None).await;
        assert_eq!(s, 201);
        let id = placed["orderId"].as_str().unwrap().to_owned();
        oms.put_event(
            "partner.payments",
            "PaymentConfirmed",
            json!({"orderId": id, "paymentId": format!("p-{i}"), "amount": 1990, "currency": "BRL"}),
        )
        .await;
        let o = oms
            .until(&id, "paid and settled", |v| {
                v["status"] == "REJECTED" && v["payments"].as_array().is_some_and(|p| !p.is_empty())
            })
            .await;
        assert_eq!(o["payment"]["captured"], 1990, "{o}");
        assert_eq!(
            o["payment"]["refunded"], 1990,
            "no money stranded on a rejected order: {o}"
        );
        rejected += 1;
    }
    assert_eq!(rejected, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_order_is_released_by_the_rest_of_the_money_or_by_an_operator() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 1)]).await;
    let pay = |pid: &str, amount: i64| json!({"orderId": id, "paymentId": pid, "amount": amount, "currency": "BRL"});
    oms.put_event("partner.payments", "PaymentConfirmed", pay("p-1", 990))
        .await;
    let held = oms.status(&id, "ON_HOLD").await;
    assert_eq!(held["hold"]["code"], "PAYMENT_MISMATCH");
    oms.put_event("partner.payments", "PaymentConfirmed", pay("p-2", 1500))
        .await;
    let released = oms.status(&id, "READY_TO_SHIP").await;
    let payments = released["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 2, "both payments kept: {released}");
    assert_eq!(payments[0]["captured"], 990);
    assert_eq!(payments[1]["captured"], 1500);
    assert_eq!(
        payments[1]["refunded"], 500,
        "the excess went back: {released}"
    );

    // An operator releases a hold; nobody else may, and twice is a 409.
    let id = oms.routed_order(&[("A", 1)]).await;
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "paymentId": "p-3", "amount": 1990, "currency": "USD"}),
    )
    .await;
    let held = oms.status(&id, "ON_HOLD").await;
    assert_eq!(held["payments"][0]["status"], "MISMATCH");
    assert_eq!(
        held["payments"][0]["refunded"], 1990,
        "money in another currency went back"
    );
    let (s, o) = oms
        .send("POST", &format!("/orders/{id}/release"), None, &[])
        .await;
    assert_eq!((s, o["status"].as_str()), (200, Some("ROUTED")), "{o}");
    let (s, v) = oms
        .send("POST", &format!("/orders/{id}/release"), None, &[])
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (409, Some("NOT_HELD")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_for_a_country_no_location_serves_is_rejected_and_its_stock_released() {
    let oms = Oms::start().await;
    let (s, v) = oms
        .put(
            "/locations/wh-sp",
            json!({"name": "SP", "kind": "warehouse", "lat": -23.55, "lon": -46.63, "country": "BR", "shipsTo": ["AR"]}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["shipsTo"], json!(["AR"]));
    oms.stock("A", "wh-sp", 5).await;
    let mut to_japan = order(&[("A", 1)]);
    to_japan["shipTo"] =
        json!({"country": "JP", "city": "Tokyo", "line1": "1-1", "lat": 35.68, "lon": 139.69});
    let (_, placed) = oms.post_order(&to_japan, None).await;
    let o = oms.settled(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(o["status"], "REJECTED");
    assert_eq!(o["rejection"]["reason"], "NO_ELIGIBLE_LOCATION");
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(
        (stock["reserved"].as_u64(), stock["available"].as_u64()),
        (Some(0), Some(5))
    );
    // Argentina is served.
    let mut to_ar = order(&[("A", 1)]);
    to_ar["shipTo"] =
        json!({"country": "AR", "city": "BA", "line1": "x", "lat": -34.6, "lon": -58.4});
    let (_, placed) = oms.post_order(&to_ar, None).await;
    assert_eq!(
        oms.settled(placed["orderId"].as_str().unwrap()).await["status"],
        "ROUTED"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_partner_strings_neither_bloat_nor_corrupt_an_order() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 1)]).await;
    let huge = "x".repeat(200_000);
    for i in 0..60 {
        oms.put_event(
            "partner.payments",
            "PaymentConfirmed",
            json!({"orderId": id, "paymentId": format!("{huge}{i}"), "amount": 1990, "currency": "BRL"}),
        )
        .await;
    }
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "paymentId": "neg", "amount": -5, "currency": "BRL"}),
    )
    .await;
    let o = oms
        .until(&id, "refusals recorded", |v| {
            v["history"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["refused"] == true)
                .count()
                >= 50
        })
        .await;
    oms.quiet().await;
    let (_, o2) = oms.get(&format!("/orders/{id}")).await;
    assert_eq!(
        o2["status"], "ROUTED",
        "no malformed payment applied: {}",
        o["status"]
    );
    let refusals = o2["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["refused"] == true)
        .count();
    assert_eq!(refusals, 50, "refusals stop being recorded at 50");
    let size = o2.to_string().len();
    assert!(size < 60_000, "the order stayed small: {size} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_sku_a_non_ascii_key_and_free_text_are_handled() {
    let oms = stocked().await;
    let mut twice = order(&[("A", 1)]);
    twice["lines"] =
        json!([{"sku": "A", "quantity": 1, "unitPrice": 1990}, {"sku": "A", "quantity": 2}]);
    let (s, v) = oms.post_order(&twice, None).await;
    assert_eq!(
        (s, v["error"]["field"].as_str()),
        (422, Some("lines[1].sku")),
        "{v}"
    );
    let req = oms
        .http
        .post(oms.url("/orders"))
        .bearer_auth(&oms.token)
        .header(
            "Idempotency-Key",
            reqwest::header::HeaderValue::from_bytes("clé-1".as_bytes()).unwrap(),
        )
        .body(order(&[("A", 1)]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(req.status().as_u16(), 422);
    let v: Value = req.json().await.unwrap();
    assert_eq!(v["error"]["field"], "Idempotency-Key");
    // A cancel reason reaches the order, never the customer's message.
    let id = oms.routed_order(&[("A", 1)]).await;
    let reason =
        json!({"reason": "<a href='https://evil.example'>claim your refund</a>"}).to_string();
    let (s, _) = oms
        .send("POST", &format!("/orders/{id}/cancel"), Some(&reason), &[])
        .await;
    assert_eq!(s, 200);
    oms.quiet().await;
    let sent = oms.running.notifications.sent();
    let cancelled = sent
        .iter()
        .find(|m| m.order_id.as_str() == id && m.template_id == "order-cancelled")
        .expect("a cancellation message");
    assert!(!cancelled.body.contains("evil"), "{}", cancelled.body);
}
