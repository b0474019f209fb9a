//! Every sample in `events/` (as AWS delivers it, usable with
//! `cargo lambda invoke --data-file` and `sam local invoke -e`) goes through
//! its function's handler and does what it says.

use aws_lambda_events::sqs::SqsEvent;
use oms::Deps;
use oms::adapters::embedded::EmbeddedItems;
use oms::adapters::memory::RecordingPublisher;
use oms::ids::OrderId;
use oms::order::{Cause, Order, OrderStatus};
use std::sync::Arc;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/events/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

async fn http(deps: &Deps, path: &str) -> (u16, serde_json::Value) {
    let req = lambda_http::request::from_str(&read(path)).expect("an API Gateway HTTP API request");
    let function = path.split('/').next().unwrap_or_default();
    let resp = match function {
        "order-intake" => order_intake::handle(deps, req).await,
        "inventory" => inventory::handle(deps, req).await,
        other => panic!("no HTTP function {other}"),
    }
    .expect("handled");
    let body = match resp.body() {
        lambda_http::Body::Binary(b) => serde_json::from_slice(b).unwrap_or_default(),
        lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    (resp.status().as_u16(), body)
}

fn sqs(path: &str) -> SqsEvent {
    serde_json::from_str(&read(path)).expect("an SQS event")
}

#[tokio::test]
async fn every_sample_event_is_handled() {
    let events = Arc::new(RecordingPublisher::default());
    let deps = Deps::new(
        Arc::new(EmbeddedItems::in_memory().expect("store")),
        events.clone(),
    );

    assert_eq!(http(&deps, "inventory/put-location.json").await.0, 201);
    let (status, stock) = http(&deps, "inventory/put-stock.json").await;
    assert_eq!((status, stock["onHand"].as_u64()), (200, Some(10)));
    assert_eq!(
        http(&deps, "inventory/get-stock.json").await.1["available"],
        10
    );
    deps.inventory()
        .set_on_hand(
            &oms::ids::Sku::parse("SKU-2").unwrap(),
            &oms::ids::LocationId::parse("wh-sp").unwrap(),
            5,
        )
        .await
        .expect("stock");

    // The order the SQS samples talk about, as intake would have stored it.
    let (status, placed) = http(&deps, "order-intake/post-orders.json").await;
    assert_eq!(status, 201, "{placed}");
    let sample: serde_json::Value =
        serde_json::from_str(&read("order-intake/get-order.json")).unwrap();
    let id = OrderId::parse(sample["pathParameters"]["orderId"].as_str().unwrap()).unwrap();
    let new =
        serde_json::from_str::<serde_json::Value>(&read("order-intake/post-orders.json")).unwrap();
    let request: oms::validation::PlaceOrderRequest =
        serde_json::from_str(new["body"].as_str().unwrap()).unwrap();
    let cause = Cause {
        actor: "test".into(),
        trigger: "sample".into(),
        at: oms::time::Timestamp(1),
    };
    let (mut order, _) = Order::place(id.clone(), request.validate().unwrap(), None, &cause);
    deps.orders()
        .create(&mut order, &[])
        .await
        .expect("seeded order");
    events.taken();

    let resp = reservation::handle(&deps, sqs("reservation/order-placed.sqs.json"))
        .await
        .expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        deps.orders().get(&id).await.unwrap().map(|o| o.status),
        Some(OrderStatus::Reserved)
    );
    assert_eq!(
        events
            .taken()
            .iter()
            .map(|e| e.type_name())
            .collect::<Vec<_>>(),
        ["InventoryReserved"]
    );

    let resp = routing::handle(&deps, sqs("routing/inventory-reserved.sqs.json"))
        .await
        .expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        events
            .taken()
            .iter()
            .map(|e| e.type_name())
            .collect::<Vec<_>>(),
        ["OrderRouted"]
    );

    let (status, got) = http(&deps, "order-intake/get-order.json").await;
    assert_eq!((status, got["status"].as_str()), (200, Some("ROUTED")));
}

#[test]
fn every_function_has_samples() {
    for f in oms::wiring::Function::ALL {
        let dir = format!("{}/events/{}", env!("CARGO_MANIFEST_DIR"), f.name());
        let count = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(count > 0, "no sample events in {dir}");
    }
}
