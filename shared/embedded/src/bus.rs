//! The in-process bus: the outbox relay, SQS queues, timers and EventBridge
//! rules for partners' events, all durable in the embedded store.
//!
//! - An OMS event is committed with the change that made it (the item's
//!   `outbox`); the store shows it to this bus's [`CommitHook`], which
//!   turns it into messages for the queues of the functions that consume
//!   it (and timers for their queue), committed in the same transaction —
//!   what DynamoDB Streams, the relay function and SQS do on AWS.
//! - A partner's event (`PutEvents`) goes to the queues whose subscription
//!   matches its source and detail-type, and is on disk before `PutEvents`
//!   answers.
//! - Each queue is drained like Lambda's SQS event source mapping: batches
//!   of up to [`BATCH_SIZE`], a bounded number of concurrent invocations, a
//!   failed message offered again after a delay that doubles, and after
//!   [`MAX_RECEIVES`] receives moved to the dead letters. What is on a
//!   queue when the process stops is delivered when it starts again.
//! - Events the business publishes (for partners) are counted and the
//!   latest kept for `GET /_local/bus`.

use crate::store::{CommitHook, DeadLetter, EmbeddedItems, Row, TIMERS_WOKEN};
use oms_app::inbound::eventbridge_json;
use oms_app::outbox::{Delivery, Publish, route};
use oms_app::ports::{PublishError, Scheduler};
use oms_app::store::{Attrs, Key};
use oms_app::wiring::{BATCH_SIZE, Function, MAX_RECEIVES, SUBSCRIPTIONS, Subscription};
use oms_domain::events::{DomainEvent, OMS_SOURCE};
use oms_domain::time::Timestamp;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, Semaphore};

/// Concurrent invocations per queue (Lambda's maximum concurrency setting).
const CONCURRENCY: usize = 8;
/// First redelivery delay; doubles per receive (a short visibility timeout).
const REDELIVERY_DELAY: Duration = Duration::from_millis(100);
/// Published events kept for the operator's view.
const KEPT_PUBLISHED: usize = 100;

/// One message handed to a consumer.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    /// The EventBridge event, as JSON.
    pub body: Arc<str>,
    /// Receives before this one.
    pub receive_count: u32,
}

/// A queue's consumer: takes a batch, answers the ids of the messages that
/// failed (to be delivered again).
pub type Consumer = Arc<
    dyn Fn(&'static str, Vec<Message>) -> Pin<Box<dyn Future<Output = Vec<String>> + Send>>
        + Send
        + Sync,
>;

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BusStats {
    /// OMS events published for partners.
    pub published: u64,
    /// Messages handled.
    pub delivered: u64,
    /// Messages on the queues, not yet handled.
    pub in_flight: u64,
    /// Timers set, not yet due.
    pub timers: u64,
    pub dead_lettered: u64,
}

/// A message a drain has taken: in an invocation, or waiting to be offered
/// again.
#[derive(Debug, Clone, Copy)]
struct Taken {
    receives: u32,
    in_flight: bool,
    visible_at: Instant,
}

struct QueueState {
    subscription: &'static Subscription,
    wake: Notify,
    taken: Mutex<HashMap<u64, Taken>>,
}

pub struct Bus {
    store: Arc<EmbeddedItems>,
    queues: Vec<QueueState>,
    drains: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    timer_wake: Notify,
    published: AtomicU64,
    recent: Mutex<VecDeque<DomainEvent>>,
    delivered: AtomicU64,
}

/// Turns committed outboxes into messages and timers (the relay).
struct Relay {
    publish: Publish,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn message_body(event: &DomainEvent) -> Vec<u8> {
    eventbridge_json(event, OMS_SOURCE, "local").into_bytes()
}

impl CommitHook for Relay {
    fn writes(&self, _key: &Key, item: &Attrs) -> Vec<oms_app::store::Write> {
        oms_app::kpi::delta_of(item)
            .map(|d| oms_app::kpi::writes(std::iter::once(&d)))
            .unwrap_or_default()
    }

    fn rows(&self, _key: &Key, item: &Attrs) -> Vec<Row> {
        let events = match oms_app::outbox::events_of(item) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = %e, "an outbox that cannot be read; its events are lost");
                return Vec::new();
            }
        };
        let mut rows = Vec::new();
        for d in route(&events, &self.publish) {
            match d {
                Delivery::Queue { queue, event } => rows.push(Row::Queue {
                    queue: queue.to_owned(),
                    body: message_body(&event),
                }),
                Delivery::Timer { queue, due, event } => rows.push(Row::Timer {
                    due_ms: due.millis(),
                    queue: queue.to_owned(),
                    body: message_body(&event),
                }),
                // Announced once the commit is durable (never for one that
                // failed).
                Delivery::Publish(event) => rows.push(Row::Published {
                    body: serde_json::to_vec(&event).unwrap_or_default(),
                }),
            }
        }
        rows
    }
}

impl Bus {
    /// The bus over `store`: it becomes the store's relay.
    pub fn new(store: Arc<EmbeddedItems>, publish: Publish) -> Arc<Self> {
        let queues = SUBSCRIPTIONS
            .iter()
            .map(|subscription| QueueState {
                subscription,
                wake: Notify::new(),
                taken: Mutex::new(HashMap::new()),
            })
            .collect();
        let bus = Arc::new(Self {
            store: store.clone(),
            queues,
            drains: Mutex::new(Vec::new()),
            timer_wake: Notify::new(),
            published: AtomicU64::new(0),
            recent: Mutex::new(VecDeque::new()),
            delivered: AtomicU64::new(0),
        });
        store.set_hook(Arc::new(Relay { publish }));
        let weak = Arc::downgrade(&bus);
        store.set_listener(Arc::new(move |woken: &[String], published: &[Vec<u8>]| {
            if let Some(bus) = weak.upgrade() {
                for body in published {
                    let Ok(event) = serde_json::from_slice::<DomainEvent>(body) else {
                        continue;
                    };
                    bus.published.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut recent) = bus.recent.lock() {
                        if recent.len() == KEPT_PUBLISHED {
                            recent.pop_front();
                        }
                        recent.push_back(event);
                    }
                }
                for name in woken {
                    if name == TIMERS_WOKEN {
                        bus.timer_wake.notify_one();
                    } else if let Some(q) = bus.queues.iter().find(|q| q.subscription.queue == name)
                    {
                        q.wake.notify_one();
                    }
                }
            }
        }));
        bus
    }

    /// Starts draining every queue into its function's consumer, and the
    /// timers.
    pub fn start(self: &Arc<Self>, consumers: &HashMap<Function, Consumer>) {
        let mut tasks = Vec::new();
        for (i, q) in self.queues.iter().enumerate() {
            if let Some(consumer) = consumers.get(&q.subscription.function) {
                tasks.push(tokio::spawn(self.clone().drain(i, consumer.clone())));
            }
        }
        tasks.push(tokio::spawn(self.clone().run_timers()));
        if let Ok(mut drains) = self.drains.lock() {
            drains.extend(tasks);
        }
    }

    /// Stops every consumer; what is still queued waits on disk.
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

    /// Puts a partner's event on the queues whose rules match it, durably:
    /// returns how many queues took it once it is on disk.
    pub async fn put(
        &self,
        source: &str,
        detail_type: &str,
        event_json: &serde_json::Value,
    ) -> Result<usize, oms_app::store::StoreError> {
        let body = event_json.to_string().into_bytes();
        let rows: Vec<Row> = self
            .queues
            .iter()
            .filter(|q| !q.subscription.is_internal())
            .filter(|q| q.subscription.matches(source, detail_type))
            .map(|q| Row::Queue {
                queue: q.subscription.queue.to_owned(),
                body: body.clone(),
            })
            .collect();
        let n = rows.len();
        if n > 0 {
            self.store.enqueue(rows).await?;
        }
        Ok(n)
    }

    /// Dead letters after `after`, oldest first.
    pub fn dead_letters(&self, after: u64, limit: usize) -> Vec<DeadLetter> {
        self.store.dead_letters(after, limit).unwrap_or_default()
    }

    /// The latest events published for partners.
    pub fn recently_published(&self) -> Vec<DomainEvent> {
        self.recent
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn stats(&self) -> BusStats {
        let (in_flight, timers, dead_lettered) = self.store.counts().unwrap_or_default();
        BusStats {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            in_flight,
            timers,
            dead_lettered,
        }
    }

    async fn drain(self: Arc<Self>, index: usize, consumer: Consumer) {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        // Invocations live in this set, so stopping the drain stops them.
        let mut invocations = tokio::task::JoinSet::new();
        loop {
            while invocations.try_join_next().is_some() {}
            let Ok(permit) = slots.clone().acquire_owned().await else {
                return;
            };
            let batch = self.take_batch(index).await;
            let bus = self.clone();
            let consumer = consumer.clone();
            invocations.spawn(async move {
                bus.invoke(index, batch, &consumer).await;
                drop(permit);
            });
        }
    }

    /// The next batch of messages to hand out, waiting for one if need be.
    async fn take_batch(&self, index: usize) -> Vec<Message> {
        let q = &self.queues[index];
        let queue = q.subscription.queue;
        loop {
            let now = Instant::now();
            let received = {
                let taken = q.taken.lock().unwrap_or_else(|e| e.into_inner());
                let skip = |seq: u64| {
                    taken
                        .get(&seq)
                        .is_some_and(|t| t.in_flight || t.visible_at > now)
                };
                self.store.receive(queue, BATCH_SIZE, &skip)
            };
            match received {
                Ok(batch) if !batch.is_empty() => {
                    let mut taken = q.taken.lock().unwrap_or_else(|e| e.into_inner());
                    return batch
                        .into_iter()
                        .map(|(seq, body)| {
                            let t = taken.entry(seq).or_insert(Taken {
                                receives: 0,
                                in_flight: true,
                                visible_at: now,
                            });
                            let receive_count = t.receives;
                            t.receives += 1;
                            t.in_flight = true;
                            Message {
                                id: format!("{queue}:{seq}"),
                                body: Arc::from(String::from_utf8_lossy(&body).as_ref()),
                                receive_count,
                            }
                        })
                        .collect();
                }
                Ok(_) => {}
                Err(e) => tracing::error!(%queue, error = %e, "queue unreadable"),
            }
            let next_retry = {
                let taken = q.taken.lock().unwrap_or_else(|e| e.into_inner());
                taken
                    .values()
                    .filter(|t| !t.in_flight)
                    .map(|t| t.visible_at)
                    .min()
            };
            let wait = next_retry
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            tokio::select! {
                _ = q.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn invoke(&self, index: usize, batch: Vec<Message>, consumer: &Consumer) {
        let q = &self.queues[index];
        let queue = q.subscription.queue;
        let failed = consumer(queue, batch.clone()).await;
        let seq_of = |id: &str| id.rsplit_once(':').and_then(|(_, s)| s.parse::<u64>().ok());
        // Handled messages stay taken until their removal is on disk, so
        // that no drain hands them out again meanwhile.
        let mut acked = Vec::new();
        let mut dead = Vec::new();
        {
            let mut taken = q.taken.lock().unwrap_or_else(|e| e.into_inner());
            for m in &batch {
                let Some(seq) = seq_of(&m.id) else { continue };
                if !failed.contains(&m.id) {
                    acked.push(seq);
                    continue;
                }
                let receives = m.receive_count + 1;
                if receives >= MAX_RECEIVES {
                    tracing::error!(%queue, message_id = %m.id, "moved to the dead letters");
                    dead.push((seq, receives));
                } else if let Some(t) = taken.get_mut(&seq) {
                    t.in_flight = false;
                    t.visible_at = Instant::now() + REDELIVERY_DELAY * 2u32.pow(receives - 1);
                }
            }
        }
        self.delivered
            .fetch_add(acked.len() as u64, Ordering::Relaxed);
        let done: Vec<u64> = acked
            .iter()
            .copied()
            .chain(dead.iter().map(|(s, _)| *s))
            .collect();
        if let Err(e) = self.store.ack(queue, acked).await {
            tracing::error!(%queue, error = %e, "ack not written; the messages come again");
        }
        for (seq, receives) in dead {
            if let Err(e) = self.store.dead_letter(queue, seq, receives, now_ms()).await {
                tracing::error!(%queue, error = %e, "dead letter not written");
            }
        }
        {
            let mut taken = q.taken.lock().unwrap_or_else(|e| e.into_inner());
            for seq in done {
                taken.remove(&seq);
            }
        }
        q.wake.notify_one();
    }

    /// Moves due timers to their queues, waking when the next is due or a
    /// new one is set.
    async fn run_timers(self: Arc<Self>) {
        loop {
            let now = now_ms();
            if let Err(e) = self.store.fire_timers(now).await {
                tracing::error!(error = %e, "timers not fired");
            }
            let wait = match self.store.next_timer() {
                Ok(Some(due)) => Duration::from_millis(due.saturating_sub(now_ms())),
                _ => Duration::from_secs(60),
            }
            .min(Duration::from_secs(60));
            tokio::select! {
                _ = self.timer_wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// The scheduler port on the bus: a timer kept in the store, delivered to
/// its queue when due — even after a restart.
pub struct DurableTimer {
    pub bus: Arc<Bus>,
}

#[async_trait::async_trait]
impl Scheduler for DurableTimer {
    async fn schedule(&self, due: Timestamp, event: DomainEvent) -> Result<(), PublishError> {
        let queue = oms_app::wiring::timer_queue(event.type_name()).ok_or_else(|| {
            PublishError(format!("no queue takes the timer {}", event.type_name()))
        })?;
        let row = Row::Timer {
            due_ms: due.millis(),
            queue: queue.to_owned(),
            body: message_body(&event),
        };
        self.bus
            .store
            .enqueue(vec![row])
            .await
            .map_err(|e| PublishError(e.to_string()))
    }
}
