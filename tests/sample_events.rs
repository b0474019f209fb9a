//! Every sample in `events/` (as AWS delivers it, usable with
//! `cargo lambda invoke --data-file` and `sam local invoke -e`) goes through
//! its function's handler and does what it says.

use aws_lambda_events::sqs::SqsEvent;
use oms_app::Deps;
use oms_app::store::{Attrs, Items, Key, Query, Read, StoreError, Write};
use oms_domain::ids::OrderId;
use oms_domain::order::{Cause, Order, OrderStatus};
use oms_domain::time::Timestamp;
use oms_embedded::store::EmbeddedItems;
use std::sync::Arc;

struct FixedClock(Timestamp);

impl oms_app::ports::Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/events/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

async fn http(deps: &Deps, path: &str) -> (u16, serde_json::Value) {
    let req = lambda_http::request::from_str(&read(path)).expect("an API Gateway HTTP API request");
    let function = path.split('/').next().unwrap_or_default();
    let resp = match function {
        "order-intake" => order_intake::handle(deps, req).await,
        "inventory" => inventory::handle(deps, req).await,
        "returns" => returns::handle_http(deps, req).await,
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

/// The order the SQS samples talk about, stored `PLACED` as intake stores
/// one it could not reserve.
async fn seed_sample_order(deps: &Deps) -> OrderId {
    let sample: serde_json::Value =
        serde_json::from_str(&read("order-intake/get-order.json")).unwrap();
    let id = OrderId::parse(sample["pathParameters"]["orderId"].as_str().unwrap()).unwrap();
    let new =
        serde_json::from_str::<serde_json::Value>(&read("order-intake/post-orders.json")).unwrap();
    let request: oms_domain::validation::PlaceOrderRequest =
        serde_json::from_str(new["body"].as_str().unwrap()).unwrap();
    let cause = Cause {
        actor: "test".into(),
        trigger: "sample".into(),
        at: Timestamp(1),
    };
    let (mut order, _) = Order::place(id.clone(), request.validate().unwrap(), None, &cause);
    deps.orders()
        .create(&mut order, &[], vec![], None)
        .await
        .expect("seeded order");
    id
}

fn sqs(path: &str) -> SqsEvent {
    serde_json::from_str(&read(path)).expect("an SQS event")
}

#[tokio::test]
async fn every_sample_event_is_handled() {
    lifecycle(Arc::new(EmbeddedItems::in_memory().expect("store"))).await;
}

/// An engine whose eventually consistent reads are always one write
/// behind (DynamoDB's worst case, every time): an item just created is
/// not there yet, a changed one is as it was before the change.
struct OneWriteBehind {
    inner: EmbeddedItems,
    before: std::sync::Mutex<std::collections::HashMap<Key, Option<Attrs>>>,
    stale_served: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Items for OneWriteBehind {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Attrs>, StoreError> {
        if read == Read::Eventual {
            let before = self.before.lock().unwrap().get(key).cloned();
            if let Some(before) = before {
                self.stale_served
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return Ok(before);
            }
        }
        self.inner.get(key, Read::Strong).await
    }
    async fn query(&self, q: &Query) -> Result<Vec<(String, Attrs)>, StoreError> {
        self.inner.query(q).await
    }
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let mut before = Vec::with_capacity(writes.len());
        for w in &writes {
            before.push((
                w.key().clone(),
                self.inner.get(w.key(), Read::Strong).await?,
            ));
        }
        self.inner.write(writes).await?;
        self.before.lock().unwrap().extend(before);
        Ok(())
    }
}

#[tokio::test]
async fn the_lifecycle_holds_when_every_eventual_read_is_a_version_behind() {
    let items = Arc::new(OneWriteBehind {
        inner: EmbeddedItems::in_memory().expect("store"),
        before: Default::default(),
        stale_served: Default::default(),
    });
    lifecycle(items.clone()).await;
    let stale = items
        .stale_served
        .load(std::sync::atomic::Ordering::Relaxed);
    // reservation, three facts, the return: each first read was stale.
    assert!(stale >= 5, "{stale} stale reads served");
}

async fn lifecycle(items: Arc<dyn Items>) {
    let mut deps = Deps::new(items);
    // The events of the order's latest change, committed with it.
    let outbox = |deps: &Deps, id: &OrderId| {
        let (deps, id) = (deps.clone(), id.clone());
        async move {
            deps.orders()
                .get(&id)
                .await
                .unwrap()
                .map(|o| o.current_events())
                .unwrap_or_default()
                .iter()
                .map(|e| e.type_name())
                .collect::<Vec<_>>()
        }
    };
    // After every time in the samples (the payment window closes at 10:30).
    deps.clock = Arc::new(FixedClock(
        Timestamp::parse_rfc3339("2026-11-23T11:00:00Z").expect("time"),
    ));

    assert_eq!(http(&deps, "inventory/put-location.json").await.0, 201);
    let (status, stock) = http(&deps, "inventory/put-stock.json").await;
    assert_eq!((status, stock["onHand"].as_u64()), (200, Some(10)));
    assert_eq!(
        http(&deps, "inventory/get-stock.json").await.1["available"],
        10
    );
    deps.inventory()
        .set_on_hand(
            &oms_domain::ids::Sku::parse("SKU-2").unwrap(),
            &oms_domain::ids::LocationId::parse("wh-sp").unwrap(),
            oms_domain::validation::StockLevels::on_hand(5),
        )
        .await
        .expect("stock");

    // The order the SQS samples talk about, as intake would have stored it.
    let (status, placed) = http(&deps, "order-intake/post-orders.json").await;
    assert_eq!(status, 201, "{placed}");
    let id = seed_sample_order(&deps).await;

    let resp = reservation::handle(&deps, sqs("reservation/order-placed.sqs.json"))
        .await
        .expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        deps.orders().get(&id).await.unwrap().map(|o| o.status),
        Some(OrderStatus::Routed)
    );
    assert_eq!(
        outbox(&deps, &id).await,
        ["InventoryReserved", "OrderRouted"]
    );

    let (status, got) = http(&deps, "order-intake/get-order.json").await;
    assert_eq!((status, got["status"].as_str()), (200, Some("ROUTED")));

    // The rest of the lifecycle, one sample at a time.
    let status_now = || async { deps.orders().get(&id).await.unwrap().map(|o| o.status) };
    for (sample, then) in [
        (
            "payment/payment-confirmed.sqs.json",
            OrderStatus::ReadyToShip,
        ),
        ("shipment/shipment-shipped.sqs.json", OrderStatus::Shipped),
        (
            "shipment/shipment-delivered.sqs.json",
            OrderStatus::Delivered,
        ),
        // Too late for these: refused and recorded, nothing changes.
        ("payment/payment-failed.sqs.json", OrderStatus::Delivered),
        // An authorisation for a paid order: voided at once.
        (
            "payment/payment-authorized.sqs.json",
            OrderStatus::Delivered,
        ),
        (
            "payment/payment-window-expired.sqs.json",
            OrderStatus::Delivered,
        ),
        (
            "shipment/cancellation-response.sqs.json",
            OrderStatus::Delivered,
        ),
    ] {
        let batch = sqs(sample);

        let resp = match sample.split('/').next() {
            Some("payment") => payment::handle(&deps, batch).await,
            Some("shipment") => shipment::handle(&deps, batch).await,
            _ => unreachable!(),
        }
        .expect("handled");
        assert!(resp.batch_item_failures.is_empty(), "{sample}");
        assert_eq!(status_now().await, Some(then), "{sample}");
    }
    let (status, rma) = http(&deps, "returns/authorize-return.json").await;
    assert_eq!(status, 201, "{rma}");
    let resp = returns::handle_sqs(&deps, sqs("returns/return-received.sqs.json"))
        .await
        .expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    let order = deps.orders().get(&id).await.unwrap().unwrap();
    assert_eq!(
        order.returns[0].status,
        oms_domain::order::ReturnStatus::Received
    );
    assert_eq!(
        order.principal_payment().map(|p| p.refunded.amount),
        Some(1990)
    );
    assert_eq!(http(&deps, "order-intake/cancel-order.json").await.0, 409);

    let sender = notifications::LogSender::recording();
    let resp = notifications::handle(
        &sender,
        sqs("notifications/customer-notification-requested.sqs.json"),
    )
    .await
    .expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    let sent = sender.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains("BR123456789"), "{}", sent[0].body);
}

#[test]
fn partner_samples_are_put_events_entries_of_allowed_sources() {
    let sources = oms_domain::partner::PartnerSources::default();
    let dir = format!("{}/events/partner", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("events/partner") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("sample");
        let entries: Vec<serde_json::Value> =
            serde_json::from_str(&text).expect("a PutEvents entry list");
        for e in entries {
            let (source, detail_type) = (
                e["Source"].as_str().unwrap(),
                e["DetailType"].as_str().unwrap(),
            );
            assert!(
                sources.allows(source, detail_type),
                "{source} {detail_type}"
            );
            let detail: serde_json::Value =
                serde_json::from_str(e["Detail"].as_str().unwrap()).expect("Detail is JSON");
            if detail_type == "OrderSubmitted" {
                // A new order: named by its channel and external id.
                assert!(detail["externalId"].is_string() && detail["channel"].is_string());
            } else {
                assert!(detail["orderId"].is_string());
            }
            seen += 1;
        }
    }
    assert!(seen >= 5);
}

/// A marketplace's submission sample is placed, under the id its channel
/// and external id give, answered with `OrderAccepted` in its outbox; the
/// same again places nothing new.
#[tokio::test]
async fn the_marketplace_sample_places_and_answers() {
    let deps = Deps::new(Arc::new(EmbeddedItems::in_memory().expect("store")));
    let event = sqs("marketplace/order-submitted.sqs.json");
    let resp = marketplace::handle(&deps, event).await.expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    let id = OrderId::for_submission(
        &oms_domain::ids::Channel::parse("marketplace-x").unwrap(),
        &oms_domain::ids::ExternalId::parse("MX-1001").unwrap(),
    );
    let order = deps.orders().get(&id).await.unwrap().expect("placed");
    assert!(
        order
            .outbox
            .iter()
            .any(|e| e.type_name() == "OrderAccepted"),
        "{:?}",
        order.outbox
    );
    let resp = marketplace::handle(&deps, sqs("marketplace/order-submitted.sqs.json"))
        .await
        .expect("handled again");
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(
        deps.orders().get(&id).await.unwrap().unwrap().version,
        order.version
    );
}

/// The schedule's event runs a sweep: the sample order, placed and never
/// routed, is at risk 12 minutes on (the route SLA is 15 minutes; 75%).
#[tokio::test]
async fn the_sla_sample_sweeps_and_raises_the_alert() {
    let mut deps = Deps::new(Arc::new(EmbeddedItems::in_memory().expect("store")));
    deps.config.sla = oms_domain::search::Sla::default();
    let id = seed_sample_order(&deps).await;
    deps.clock = Arc::new(FixedClock(Timestamp(1 + 12 * 60 * 1000)));
    let event: serde_json::Value = serde_json::from_str(&read("sla/scheduled.json")).unwrap();
    let answer = sla::handle(&deps, event).await.expect("swept");
    assert_eq!(answer["raised"], 1, "{answer}");
    let order = deps.orders().get(&id).await.unwrap().unwrap();
    let alert = order.sla_alert.expect("alert");
    assert_eq!(alert.step, oms_domain::search::SlaStep::Route);
    assert!(!alert.breached);
}

#[test]
fn every_function_has_samples() {
    for f in oms_app::wiring::Function::ALL {
        let dir = format!("{}/events/{}", env!("CARGO_MANIFEST_DIR"), f.name());
        let count = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(count > 0, "no sample events in {dir}");
    }
}

/// Records what the relay sends to queues.
#[derive(Default)]
struct RecordingQueues(std::sync::Mutex<Vec<(String, oms_app::ports::QueueMessage)>>);

#[async_trait::async_trait]
impl oms_app::ports::QueueSender for RecordingQueues {
    async fn send(
        &self,
        queue: &str,
        messages: &[oms_app::ports::QueueMessage],
    ) -> Result<(), oms_app::ports::PublishError> {
        let mut sent = self.0.lock().unwrap();
        sent.extend(messages.iter().map(|m| (queue.to_owned(), m.clone())));
        Ok(())
    }
}

#[tokio::test]
async fn the_relay_sample_delivers_each_event_where_it_goes() {
    let queues = Arc::new(RecordingQueues::default());
    let bus = Arc::new(oms_app::testing::RecordingPublisher::default());
    let items = Arc::new(oms_embedded::store::EmbeddedItems::in_memory().expect("store"));
    let relay = oms_app::outbox::Relay {
        items: items.clone(),
        queues: queues.clone(),
        bus: bus.clone(),
        clock: Arc::new(FixedClock(
            Timestamp::parse_rfc3339("2026-11-23T10:00:00Z").expect("time"),
        )),
        publish: oms_app::outbox::Publish::default(),
        region: "us-east-1".into(),
    };
    let event: oms_aws::stream::StreamEvent =
        serde_json::from_str(&read("relay/order-placed.stream.json")).expect("a stream event");
    let resp = relay::handle(&relay, event).await.expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    let sent = queues.0.lock().unwrap().clone();
    let to: Vec<(&str, String, u32)> = sent
        .iter()
        .map(|(q, m)| {
            let body: serde_json::Value = serde_json::from_str(&m.body).unwrap();
            (
                q.as_str(),
                body["detail-type"].as_str().unwrap().to_owned(),
                m.delay_secs,
            )
        })
        .collect();
    assert_eq!(
        to,
        [
            (
                "notifications",
                "CustomerNotificationRequested".to_owned(),
                0
            ),
            ("payment", "PaymentWindowExpired".to_owned(), 900),
            ("reservation", "OrderPlaced".to_owned(), 0),
        ],
        "the timer waits at most 15 minutes, then is set again"
    );
    assert!(
        bus.taken().is_empty(),
        "nothing here is published for partners"
    );
    // The change's KPI delta was added to its hour's sums — once, however
    // often the batch comes.
    let event: oms_aws::stream::StreamEvent =
        serde_json::from_str(&read("relay/order-placed.stream.json")).expect("a stream event");
    relay::handle(&relay, event).await.expect("handled again");
    let hour = 1_795_428_000_000;
    let totals = oms_app::kpi::read_totals(&*items, std::iter::once(hour))
        .await
        .expect("totals");
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[0].1.get("orders"), Some(&1), "{totals:?}");
    assert_eq!(totals[0].1.get("units"), Some(&3));
    let products = oms_app::kpi::read_cells(&*items, std::iter::once(hour), "P#")
        .await
        .expect("cells");
    assert_eq!(products[0].2.get("rev#BRL"), Some(&3980));
}

/// Records what is scheduled.
#[derive(Default)]
struct RecordingScheduler(std::sync::Mutex<Vec<oms_domain::events::DomainEvent>>);

#[async_trait::async_trait]
impl oms_app::ports::Scheduler for RecordingScheduler {
    async fn schedule(
        &self,
        _due: Timestamp,
        event: oms_domain::events::DomainEvent,
    ) -> Result<(), oms_app::ports::PublishError> {
        self.0.lock().unwrap().push(event);
        Ok(())
    }
}

#[tokio::test]
async fn an_early_payment_timer_is_set_again_only_while_the_order_is_unpaid() {
    let scheduled = Arc::new(RecordingScheduler::default());
    let mut deps = Deps::new(Arc::new(EmbeddedItems::in_memory().expect("store")))
        .with_scheduler(scheduled.clone());
    // Before the sample timer's due time (10:30): it arrived early.
    deps.clock = Arc::new(FixedClock(
        Timestamp::parse_rfc3339("2026-11-23T10:10:00Z").expect("time"),
    ));
    let id = seed_sample_order(&deps).await;

    let timer = || sqs("payment/payment-window-expired.sqs.json");
    let resp = payment::handle(&deps, timer()).await.expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(scheduled.0.lock().unwrap().len(), 1, "unpaid: set again");

    let resp = payment::handle(&deps, sqs("payment/payment-confirmed.sqs.json"))
        .await
        .expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    assert!(deps.orders().get(&id).await.unwrap().unwrap().is_paid());
    let resp = payment::handle(&deps, timer()).await.expect("handled");
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(scheduled.0.lock().unwrap().len(), 1, "paid: not set again");
    assert_eq!(
        deps.orders().get(&id).await.unwrap().map(|o| o.status),
        Some(OrderStatus::Placed),
        "an early timer changes nothing"
    );
}
