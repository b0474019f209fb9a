//! The transactional outbox: every change of an order carries its events in
//! the same item write as its new state (`outbox`), and a relay — DynamoDB
//! Streams and the relay function on AWS, the embedded store's commit hook
//! locally — delivers them after the commit: never lost with a crash, never
//! sent for a change that did not commit. Event ids are derived from the
//! order and the change, so a redelivered event is still recognised.
//!
//! Where each event goes is decided here, once, for both:
//! - a timer (`PaymentWindowExpired`) to its queue at its due time;
//! - an event an OMS function consumes straight to that function's queue
//!   (an SQS message: cheaper than an EventBridge event, and nothing else
//!   needs it on the bus);
//! - an event the business publishes (by default the ones partners act
//!   on: `OrderReleased`, `CancellationRequested`, `RefundIssued`,
//!   `ReturnAuthorized`) to the event bus.

use crate::inbound::eventbridge_json;
use crate::ports::{Clock, EventPublisher, PublishError, QueueMessage, QueueSender};
use crate::store::{Attrs, StoreError, Value};
use crate::wiring::SUBSCRIPTIONS;
use oms_domain::events::{DomainEvent, EventData, OMS_SOURCE};
use oms_domain::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The attribute of an item that holds its latest change's events.
pub const ATTR: &str = "outbox";

/// The events published on the bus unless `OMS_PUBLISH` says otherwise:
/// what partners act on, and the SLA alerts operations act on.
pub const PUBLISHED_BY_DEFAULT: &[&str] = &[
    "OrderReleased",
    "CancellationRequested",
    "RefundIssued",
    "ReturnAuthorized",
    // Payment providers capture and void authorisations as asked.
    "CaptureRequested",
    "VoidRequested",
    // Purchasing reorders.
    "LowStock",
    // For operations (alerting, paging, review).
    "OrderOnHold",
    "OrderAtRisk",
    "OrderSlaBreached",
    // The answers to marketplaces' submissions.
    "OrderAccepted",
    "OrderRefused",
];

/// `value` as a JSON attribute: what an item stores (an engine may keep a
/// long one compressed; it hands it back as given).
pub fn pack<T: serde::Serialize>(value: &T) -> Value {
    // Serializing our own plain structs cannot fail.
    Value::S(serde_json::to_string(value).unwrap_or_default())
}

/// The value of a JSON attribute written by [`pack`].
pub fn unpack<T: serde::de::DeserializeOwned>(v: &Value, what: &str) -> Result<T, StoreError> {
    let corrupt = || StoreError::Unavailable(format!("stored {what} is unreadable"));
    match v {
        Value::S(s) => serde_json::from_str(s).map_err(|_| corrupt()),
        Value::B(_) | Value::N(_) => Err(corrupt()),
    }
}

/// The events an item's latest change carries, if any.
pub fn events_of(item: &Attrs) -> Result<Vec<DomainEvent>, StoreError> {
    match item.get(ATTR) {
        Some(v) => unpack(v, "outbox"),
        None => Ok(Vec::new()),
    }
}

/// Which events go to the event bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publish {
    All,
    Only(Vec<String>),
}

impl Default for Publish {
    fn default() -> Self {
        Publish::Only(PUBLISHED_BY_DEFAULT.iter().map(|s| s.to_string()).collect())
    }
}

impl Publish {
    /// `all`, or a comma-separated list of event types; empty: the default.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            "" => Self::default(),
            "all" => Self::All,
            list => Self::Only(
                list.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        }
    }

    pub fn includes(&self, event_type: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(types) => types.iter().any(|t| t == event_type),
        }
    }
}

/// Where one event goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// To an OMS function's queue.
    Queue {
        queue: &'static str,
        event: DomainEvent,
    },
    /// To a queue when it is due.
    Timer {
        queue: &'static str,
        due: Timestamp,
        event: DomainEvent,
    },
    /// On the event bus, for partners and integrations.
    Publish(DomainEvent),
}

/// Every delivery of the events of one commit, in order.
pub fn route(events: &[DomainEvent], publish: &Publish) -> Vec<Delivery> {
    let mut out = Vec::new();
    let done = |s: &&crate::wiring::Subscription| {
        s.done_with
            .iter()
            .any(|d| events.iter().any(|e| e.type_name() == *d))
    };
    for e in events {
        let t = e.type_name();
        if let EventData::PaymentWindowExpired { due_at } = &e.data {
            if let Some(queue) = crate::wiring::timer_queue(t) {
                out.push(Delivery::Timer {
                    queue,
                    due: *due_at,
                    event: e.clone(),
                });
            }
            continue;
        }
        for s in SUBSCRIPTIONS
            .iter()
            .filter(|s| s.is_internal() && s.matches(OMS_SOURCE, t))
            .filter(|s| !done(s))
        {
            out.push(Delivery::Queue {
                queue: s.queue,
                event: e.clone(),
            });
        }
        if publish.includes(t) {
            out.push(Delivery::Publish(e.clone()));
        }
    }
    out
}

/// How many events of each type committed outboxes carry.
pub fn type_counts(packed: &[Value]) -> BTreeMap<&'static str, u64> {
    let mut counts = BTreeMap::new();
    for p in packed {
        for e in unpack::<Vec<DomainEvent>>(p, "outbox").unwrap_or_default() {
            *counts.entry(e.type_name()).or_default() += 1;
        }
    }
    counts
}

/// The longest delay a queue message may have (SQS's limit); a timer due
/// later is received early and set again by its consumer.
pub const MAX_DELAY_SECS: u64 = 900;

/// The relay on AWS: delivers committed outboxes (from the table's stream)
/// to the OMS's queues and the event bus.
pub struct Relay {
    /// Where the KPI sums are added to (the table).
    pub items: Arc<dyn crate::store::Items>,
    pub queues: Arc<dyn QueueSender>,
    pub bus: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    pub publish: Publish,
    /// The region written in the messages' EventBridge envelope.
    pub region: String,
}

impl Relay {
    /// Adds the KPI deltas of a batch of stream records (one shard's, in
    /// stream order) to the sums, exactly once per record however often the
    /// batch comes (see [`crate::kpi::apply_stream_batch`]).
    pub async fn project(&self, records: &[crate::kpi::Record]) -> Result<usize, StoreError> {
        if records.is_empty() {
            return Ok(0);
        }
        let now = i64::try_from(self.clock.now().millis() / 1000).unwrap_or(i64::MAX);
        crate::kpi::apply_stream_batch(&*self.items, records, now).await
    }

    /// Delivers the events of committed outboxes (`packed` is an item's
    /// `outbox` attribute), in order: per queue in as few sends as the
    /// queue takes, published events in batches. At least once: after a
    /// failure the caller sends them all again, and consumers recognise
    /// the event ids they have seen.
    pub async fn forward(&self, packed: &[Value]) -> Result<usize, PublishError> {
        let mut deliveries = Vec::new();
        for p in packed {
            match unpack::<Vec<DomainEvent>>(p, "outbox") {
                Ok(events) => deliveries.extend(route(&events, &self.publish)),
                // A damaged outbox cannot get better by retrying.
                Err(e) => tracing::error!(error = %e, "an outbox that cannot be read; skipped"),
            }
        }
        let now = self.clock.now();
        let mut by_queue: BTreeMap<&str, Vec<QueueMessage>> = BTreeMap::new();
        let mut published = Vec::new();
        for d in deliveries {
            let (queue, event, delay_secs) = match d {
                Delivery::Queue { queue, event } => (queue, event, 0),
                Delivery::Timer { queue, due, event } => {
                    let wait = due.millis().saturating_sub(now.millis()).div_ceil(1000);
                    (queue, event, wait.min(MAX_DELAY_SECS) as u32)
                }
                Delivery::Publish(event) => {
                    published.push(event);
                    continue;
                }
            };
            let messages = by_queue.entry(queue).or_default();
            messages.push(QueueMessage {
                id: messages.len().to_string(),
                body: eventbridge_json(&event, OMS_SOURCE, &self.region),
                delay_secs,
            });
        }
        let mut sent = 0;
        for (queue, messages) in &by_queue {
            self.queues.send(queue, messages).await?;
            sent += messages.len();
        }
        if !published.is_empty() {
            self.bus.publish(&published).await?;
            sent += published.len();
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oms_domain::events::EventData;
    use oms_domain::ids::OrderId;

    fn event(data: EventData) -> DomainEvent {
        DomainEvent {
            event_id: "e".into(),
            order_id: OrderId::parse("ord_1").unwrap(),
            occurred_at: Timestamp::from_millis(0),
            data,
        }
    }

    #[test]
    fn events_go_to_their_consumers_timers_to_their_queue() {
        let placed = event(EventData::InventoryShort { skus: vec![] });
        assert!(
            route(&[placed], &Publish::default()).is_empty(),
            "nobody consumes it"
        );
        let timer = event(EventData::PaymentWindowExpired {
            due_at: Timestamp::from_millis(5),
        });
        assert!(matches!(
            route(std::slice::from_ref(&timer), &Publish::All)[..],
            [Delivery::Timer {
                queue: "payment",
                ..
            }]
        ));
        let released = event(EventData::OrderReleased {
            allocations: vec![],
            pick_lists: vec![],
        });
        assert!(matches!(
            route(&[released], &Publish::default())[..],
            [Delivery::Publish(_)]
        ));
        let short = event(EventData::InventoryShort { skus: vec![] });
        assert!(matches!(
            route(&[short], &Publish::parse("all"))[..],
            [Delivery::Publish(_)]
        ));
        assert_eq!(Publish::parse(""), Publish::default());
    }

    #[test]
    fn order_placed_goes_to_reservation_unless_its_commit_reserved_it() {
        let sample: serde_json::Value = serde_json::from_str(include_str!(
            "../../../events/order-intake/post-orders.json"
        ))
        .unwrap();
        let body = sample["body"].as_str().unwrap();
        let new = || {
            serde_json::from_str::<oms_domain::validation::PlaceOrderRequest>(body)
                .unwrap()
                .validate()
                .unwrap()
        };
        let cause = oms_domain::order::Cause {
            actor: "test".into(),
            trigger: "t".into(),
            at: Timestamp::from_millis(1),
        };
        let id = OrderId::parse("ord_1").unwrap();
        let to_reservation = |events: &[DomainEvent]| {
            route(events, &Publish::default())
                .iter()
                .filter(|d| {
                    matches!(
                        d,
                        Delivery::Queue {
                            queue: "reservation",
                            ..
                        }
                    )
                })
                .count()
        };
        let (_, placed) = oms_domain::order::Order::place(id.clone(), new(), None, &cause);
        assert_eq!(to_reservation(&placed.events), 1);
        // No stock anywhere: rejected in the same commit.
        let none = oms_domain::routing::Availability::new(&[], Default::default());
        let (order, rejected) =
            oms_domain::order::Order::place_and_reserve(id, new(), None, &none, &cause);
        assert_eq!(order.status.as_str(), "REJECTED");
        assert!(
            rejected
                .events
                .iter()
                .any(|e| e.type_name() == "OrderPlaced")
        );
        assert_eq!(to_reservation(&rejected.events), 0);
    }

    #[test]
    fn packed_values_round_trip() {
        let text: Vec<String> = (0..50).map(|i| format!("history entry {i}")).collect();
        let back: Vec<String> = unpack(&pack(&text), "test").unwrap();
        assert_eq!(back, text);
        assert!(unpack::<Vec<String>>(&Value::B(vec![1, 2, 3]), "x").is_err());
        assert!(unpack::<Vec<String>>(&Value::S("[1".into()), "x").is_err());
    }
}
