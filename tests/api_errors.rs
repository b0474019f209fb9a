//! Every class of client mistake gets a clear 4xx JSON error and changes nothing.

mod common;

use common::*;
use serde_json::{Value, json};

fn assert_error(
    status: u16,
    body: &Value,
    want_status: u16,
    want_code: &str,
    want_field: Option<&str>,
) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    if let Some(f) = want_field {
        assert_eq!(body["error"]["field"], f, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_orders_are_refused_with_the_field_named_and_nothing_changes() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    let (_, stock_before) = oms.get("/inventory/A").await;
    let published_before = oms.running.bus.as_ref().unwrap().stats().published;

    let oms = &oms;
    let post = |body: String| async move { oms.send("POST", "/orders", Some(&body), &[]).await };

    let (s, v) = post("{\"channel\": ".into()).await;
    assert_error(s, &v, 400, "MALFORMED_JSON", None);
    let (s, v) = post("[1, 2]".into()).await;
    assert_error(s, &v, 400, "MALFORMED_JSON", None);
    let (s, v) = post(String::new()).await;
    assert_error(s, &v, 400, "MALFORMED_JSON", None);

    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (
            Box::new(|o| o["lines"][0]["quantity"] = json!(0)),
            "lines[0].quantity",
        ),
        (
            Box::new(|o| o["lines"][0]["quantity"] = json!(-2)),
            "lines[0].quantity",
        ),
        (
            Box::new(|o| o["lines"][0]["quantity"] = json!("two")),
            "lines[0].quantity",
        ),
        (
            Box::new(|o| o["lines"][0]["quantity"] = json!(1.5)),
            "lines[0].quantity",
        ),
        (Box::new(|o| o["lines"] = json!([])), "lines"),
        (
            Box::new(|o| {
                o["lines"] = json!(vec![
                    json!({"sku": "A", "quantity": 1, "unitPrice": 1});
                    oms_domain::validation::MAX_LINES + 1
                ])
            }),
            "lines",
        ),
        (Box::new(|o| o["currency"] = json!("XXY")), "currency"),
        (
            Box::new(|o| o["lines"][0]["unitPrice"] = json!(-1)),
            "lines[0].unitPrice",
        ),
        (
            Box::new(|o| {
                o["shipTo"].as_object_mut().unwrap().remove("lat");
            }),
            "shipTo.lat",
        ),
        (Box::new(|o| o["shipTo"]["lon"] = json!(200)), "shipTo.lon"),
        (
            Box::new(|o| {
                o.as_object_mut().unwrap().remove("customer");
            }),
            "customer",
        ),
        (
            Box::new(|o| o["lines"][0]["sku"] = json!("has space")),
            "lines[0].sku",
        ),
        (Box::new(|o| o["channel"] = json!("")), "channel"),
    ];
    for (mutate, field) in &cases {
        let mut body = order(&[("A", 1)]);
        mutate(&mut body);
        let (s, v) = post(body.to_string()).await;
        assert_error(s, &v, 422, "INVALID_VALUE", Some(field));
    }

    let mut huge = order(&[("A", 1)]);
    huge["note"] = json!("x".repeat(70 * 1024));
    let (s, v) = post(huge.to_string()).await;
    assert_error(s, &v, 422, "BODY_TOO_LARGE", None);

    let (s, v) = oms
        .send(
            "POST",
            "/orders",
            Some(&order(&[("A", 1)]).to_string()),
            &[("Idempotency-Key", "bad key with spaces")],
        )
        .await;
    assert_error(s, &v, 422, "INVALID_VALUE", Some("Idempotency-Key"));

    oms.quiet().await;
    assert_eq!(
        oms.running.bus.as_ref().unwrap().stats().published,
        published_before,
        "a refused order was published"
    );
    assert_eq!(oms.get("/inventory/A").await.1, stock_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_things_are_404_and_wrong_methods_405() {
    let oms = Oms::start().await;
    let (s, v) = oms.get("/orders/ord_doesnotexist").await;
    assert_error(s, &v, 404, "NOT_FOUND", None);
    let (s, v) = oms.get("/orders/..%2F..").await;
    assert_error(s, &v, 404, "NOT_FOUND", None);
    let (s, v) = oms.get("/nothing/here").await;
    assert_error(s, &v, 404, "NOT_FOUND", None);
    let (s, v) = oms.send("DELETE", "/orders", None, &[]).await;
    assert_error(s, &v, 405, "METHOD_NOT_ALLOWED", None);
    let (s, v) = oms.get("/locations/nowhere").await;
    assert_error(s, &v, 404, "NOT_FOUND", None);
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_inventory_and_location_requests_are_refused() {
    let oms = Oms::start().await;
    let (s, v) = oms.put("/inventory/A/nowhere", json!({"onHand": 3})).await;
    assert_error(s, &v, 404, "NOT_FOUND", None);
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    let (s, v) = oms.put("/inventory/A/wh-sp", json!({"onHand": -3})).await;
    assert_error(s, &v, 422, "INVALID_VALUE", Some("onHand"));
    let (s, v) = oms
        .put("/inventory/A/wh-sp", json!({"onHand": "many"}))
        .await;
    assert_error(s, &v, 422, "INVALID_VALUE", Some("onHand"));
    let (s, v) = oms.put("/inventory/A/wh-sp", json!({})).await;
    assert_error(s, &v, 422, "INVALID_VALUE", Some("onHand"));
    let (s, v) = oms
        .put(
            "/locations/wh-x",
            json!({"name": "X", "kind": "depot", "lat": 0, "lon": 0}),
        )
        .await;
    assert_error(s, &v, 422, "INVALID_VALUE", Some("kind"));
    let (s, v) = oms
        .put(
            "/locations/wh-x",
            json!({"name": "X", "kind": "store", "lon": 0}),
        )
        .await;
    assert_error(s, &v, 422, "INVALID_VALUE", Some("lat"));
    let (s, v) = oms.send("PUT", "/locations/wh-x", Some("{nope"), &[]).await;
    assert_error(s, &v, 400, "MALFORMED_JSON", None);

    // Replacing a location answers 200; creating one 201.
    let (s, _) = oms
        .put(
            "/locations/wh-x",
            json!({"name": "X", "kind": "store", "lat": 1, "lon": 1}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = oms
        .put(
            "/locations/wh-x",
            json!({"name": "X2", "kind": "store", "lat": 1, "lon": 1}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = oms.get("/locations").await;
    assert_eq!(list["locations"].as_array().map(Vec::len), Some(2));
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(
        stock,
        json!({"sku": "A", "onHand": 0, "reserved": 0, "available": 0, "locations": [], "shards": 1})
    );
    oms.running.stop().await;
}
