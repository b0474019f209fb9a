//! The in-process bus: EventBridge rules → SQS queues → functions.
//!
//! Publishing matches each event against every subscription in
//! [`oms_app::wiring::SUBSCRIPTIONS`] (source + detail-type, like a rule's
//! pattern) and puts a message wrapping the EventBridge event on the
//! subscription's queue. Each queue is drained like Lambda's SQS event source
//! mapping: batches of up to [`BATCH_SIZE`], a bounded number of concurrent
//! invocations, failed items redelivered after a visibility delay, and
//! after [`MAX_RECEIVES`] receives moved to the dead-letter list. What a
//! consumer does with a batch is the runtime's business ([`Consumer`]).

use oms_app::ports::{EventPublisher, PublishError};
use oms_app::wiring::{BATCH_SIZE, Function, MAX_RECEIVES, SUBSCRIPTIONS, Subscription};
use oms_domain::events::{DomainEvent, OMS_SOURCE};
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};

/// One message handed to a consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    /// The EventBridge event, as JSON.
    pub body: Arc<str>,
    /// Receives before this one.
    pub receive_count: u32,
}

/// A queue's consumer: takes a batch, answers the ids of the messages that
/// failed (to be delivered again).
pub type Consumer = Arc<
    dyn Fn(&'static str, Vec<Delivery>) -> Pin<Box<dyn Future<Output = Vec<String>> + Send>>
        + Send
        + Sync,
>;

/// Concurrent invocations per queue (Lambda's maximum concurrency setting).
const CONCURRENCY: usize = 8;
/// First redelivery delay; doubles per receive (a short visibility timeout).
const REDELIVERY_DELAY: Duration = Duration::from_millis(100);

type Message = Delivery;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub queue: &'static str,
    pub message_id: String,
    pub receive_count: u32,
    pub body: String,
}

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusStats {
    pub published: u64,
    pub delivered: u64,
    pub in_flight: u64,
    pub dead_lettered: u64,
}

struct Queue {
    subscription: &'static Subscription,
    tx: mpsc::UnboundedSender<Message>,
}

pub struct Bus {
    queues: Vec<Queue>,
    receivers: Mutex<Vec<mpsc::UnboundedReceiver<Message>>>,
    drains: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    dead_letters: Mutex<Vec<DeadLetter>>,
    published: AtomicU64,
    delivered: AtomicU64,
    in_flight: AtomicU64,
    next_id: AtomicU64,
}

impl Bus {
    pub fn new() -> Arc<Self> {
        let (queues, receivers) = SUBSCRIPTIONS
            .iter()
            .map(|subscription| {
                let (tx, rx) = mpsc::unbounded_channel();
                (Queue { subscription, tx }, rx)
            })
            .unzip();
        Arc::new(Self {
            queues,
            receivers: Mutex::new(receivers),
            drains: Mutex::new(Vec::new()),
            dead_letters: Mutex::new(Vec::new()),
            published: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
        })
    }

    /// Starts draining every queue into its function's consumer.
    pub fn start(self: &Arc<Self>, handlers: &HashMap<Function, Consumer>) {
        let receivers =
            std::mem::take(&mut *self.receivers.lock().unwrap_or_else(|e| e.into_inner()));
        for (queue, rx) in self.queues.iter().zip(receivers) {
            if let Some(handler) = handlers.get(&queue.subscription.function) {
                let task =
                    tokio::spawn(self.clone().drain(queue.subscription, rx, handler.clone()));
                if let Ok(mut drains) = self.drains.lock() {
                    drains.push(task);
                }
            }
        }
    }

    /// Stops every queue's consumer; messages still queued are dropped.
    pub async fn stop(&self) {
        let drains = self
            .drains
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default();
        for task in drains {
            task.abort();
            let _ = task.await;
        }
    }

    /// Puts an event on the bus as `source` would, returning how many
    /// queues it was delivered to.
    pub fn put(
        &self,
        source: &str,
        detail_type: &str,
        event_json: &serde_json::Value,
        id: &str,
    ) -> usize {
        self.published.fetch_add(1, Ordering::Relaxed);
        let body: Arc<str> = Arc::from(event_json.to_string());
        let mut matched = 0;
        for q in self
            .queues
            .iter()
            .filter(|q| q.subscription.matches(source, detail_type))
        {
            matched += 1;
            let seq = self.next_id.fetch_add(1, Ordering::Relaxed);
            self.in_flight.fetch_add(1, Ordering::Relaxed);
            let msg = Message {
                id: format!("{id}/{}/{seq}", q.subscription.queue),
                body: body.clone(),
                receive_count: 0,
            };
            if q.tx.send(msg).is_err() {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
            }
        }
        matched
    }

    /// Puts an event straight on one queue, as an SQS `SendMessage` does
    /// (timers): no rule sees it. `false` if there is no such queue.
    pub fn send_to_queue(&self, queue: &str, event_json: &serde_json::Value, id: &str) -> bool {
        let Some(q) = self.queues.iter().find(|q| q.subscription.queue == queue) else {
            return false;
        };
        let seq = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let msg = Message {
            id: format!("{id}/{queue}/{seq}"),
            body: Arc::from(event_json.to_string()),
            receive_count: 0,
        };
        if q.tx.send(msg).is_err() {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            return false;
        }
        true
    }

    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead_letters
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    pub fn stats(&self) -> BusStats {
        BusStats {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            dead_lettered: self
                .dead_letters
                .lock()
                .map(|d| d.len() as u64)
                .unwrap_or(0),
        }
    }

    async fn drain(
        self: Arc<Self>,
        subscription: &'static Subscription,
        mut rx: mpsc::UnboundedReceiver<Message>,
        handler: Consumer,
    ) {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        let tx = self
            .queues
            .iter()
            .find(|q| q.subscription.queue == subscription.queue)
            .map(|q| q.tx.clone());
        let Some(tx) = tx else { return };
        // Invocations live in this set, so stopping the drain stops them.
        let mut invocations = tokio::task::JoinSet::new();
        loop {
            while invocations.try_join_next().is_some() {}
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let mut batch = Vec::with_capacity(BATCH_SIZE);
            if rx.recv_many(&mut batch, BATCH_SIZE).await == 0 {
                return;
            }
            let bus = self.clone();
            let handler = handler.clone();
            let tx = tx.clone();
            invocations.spawn(async move {
                bus.invoke(subscription, batch, &handler, &tx).await;
                drop(permit);
            });
        }
    }

    async fn invoke(
        &self,
        subscription: &'static Subscription,
        batch: Vec<Message>,
        handler: &Consumer,
        tx: &mpsc::UnboundedSender<Message>,
    ) {
        let failed = handler(subscription.queue, batch.clone()).await;
        for mut m in batch {
            m.receive_count += 1;
            if !failed.contains(&m.id) {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
            } else if m.receive_count >= MAX_RECEIVES {
                tracing::error!(queue = subscription.queue, message_id = %m.id, "moved to the dead-letter queue");
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                if let Ok(mut dl) = self.dead_letters.lock() {
                    dl.push(DeadLetter {
                        queue: subscription.queue,
                        message_id: m.id,
                        receive_count: m.receive_count,
                        body: m.body.to_string(),
                    });
                }
            } else {
                let tx = tx.clone();
                let delay = REDELIVERY_DELAY * 2u32.pow(m.receive_count - 1);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(m);
                });
            }
        }
    }
}

#[async_trait::async_trait]
impl EventPublisher for Bus {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        for ev in events {
            let json = oms_app::inbound::eventbridge_json(ev, OMS_SOURCE, "local");
            self.put(OMS_SOURCE, ev.type_name(), &json, &ev.event_id);
        }
        Ok(())
    }
}
