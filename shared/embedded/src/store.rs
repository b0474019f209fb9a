//! The embedded store: DynamoDB's item semantics on redb, in one file — and
//! the durable queues, timers and dead letters of the in-process bus, in
//! the same database so that an item and the messages its change produces
//! commit together.
//!
//! Reads use redb read transactions (snapshots, concurrent). Writes go to a
//! single writer thread that takes every operation waiting in its queue,
//! applies each one all-or-nothing inside one redb write transaction and
//! makes the whole group durable with one fsync (group commit). A caller's
//! write returns only after its group is on disk, so durability is per
//! commit while the fsync cost is shared by everything that arrived
//! meanwhile.
//!
//! The stream: an item written whole (a `Put`) that carries an `outbox` is
//! shown to the [`CommitHook`], whose rows (queue messages, timers) commit
//! with it — what DynamoDB Streams, the relay function and SQS do together
//! on AWS.

use oms_app::store::{
    Attrs, INDEXES, Items, Key, Query, Read, StoreError, Value, Write, apply, check_batch,
    conditions_hold, index_entry,
};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// Messages waiting in a queue: (queue, sequence) → body.
const QUEUE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue");
/// Timers: (due, sequence) → (queue, body).
const TIMERS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("timers");
/// Index entries: `{index}\0{index pk}\0{index sk}\0{pk}\0{sk}` → nothing.
const INDEX: TableDefinition<&str, ()> = TableDefinition::new("index");
/// Dead letters: sequence → what they were.
const DEAD: TableDefinition<u64, &[u8]> = TableDefinition::new("dead");

/// Most operations applied under one fsync.
const MAX_GROUP: usize = 1024;
/// Dead letters kept (the oldest go first).
pub const MAX_DEAD_LETTERS: u64 = 10_000;
/// The store's page cache: bounded, whatever the data's size.
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Something an item's change produces, committed with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    /// A message on a queue.
    Queue { queue: String, body: Vec<u8> },
    /// A message for a queue at a time (epoch milliseconds).
    Timer {
        due_ms: u64,
        queue: String,
        body: Vec<u8>,
    },
    /// An event published for partners: handed to the listener once the
    /// commit is durable, never for a commit that failed.
    Published { body: Vec<u8> },
}

/// Sees every item written whole with an `outbox` (or a `kpi` delta) and
/// says what its change produces.
pub trait CommitHook: Send + Sync {
    fn rows(&self, key: &Key, item: &Attrs) -> Vec<Row>;
    /// Unconditional writes the change implies (additions to sums), made
    /// in the same transaction.
    fn writes(&self, _key: &Key, _item: &Attrs) -> Vec<Write> {
        Vec::new()
    }
}

/// What the listener hears when timers were set.
pub const TIMERS_WOKEN: &str = "\u{0}timers";

/// Told, after each group commit, which queues got messages (and
/// [`TIMERS_WOKEN`] when timers were set).
/// Hears, after each group commits, the queues that got messages (and
/// [`TIMERS_WOKEN`] for new timers) and the events published by its
/// commits.
pub type Listener = Arc<dyn Fn(&[String], &[Vec<u8>]) + Send + Sync>;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TimerRecord {
    queue: String,
    #[serde(with = "serde_bytes")]
    body: Vec<u8>,
}

/// A message that kept failing, kept for an operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub seq: u64,
    pub queue: String,
    pub receives: u32,
    pub at_ms: u64,
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

type Reply = oneshot::Sender<Result<(), StoreError>>;

enum Op {
    Commit {
        writes: Vec<Write>,
        rows: Vec<Row>,
        /// Unconditional additions the hook derived from the change (the
        /// KPI sums), applied in the same transaction when it commits —
        /// added up over the group and written once per item.
        derived: Vec<Write>,
        reply: Reply,
    },
    Enqueue {
        rows: Vec<Row>,
        reply: Reply,
    },
    Ack {
        queue: String,
        seqs: Vec<u64>,
        reply: Reply,
    },
    DeadLetter {
        queue: String,
        seq: u64,
        receives: u32,
        at_ms: u64,
        reply: Reply,
    },
    FireTimers {
        now_ms: u64,
        reply: oneshot::Sender<usize>,
    },
}

pub struct EmbeddedItems {
    db: Arc<Database>,
    writer: Option<mpsc::Sender<Op>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    hook: Mutex<Option<Arc<dyn CommitHook>>>,
    listener: Arc<Mutex<Option<Listener>>>,
}

impl Drop for EmbeddedItems {
    /// Lets the writer finish its queue and release the file, so the same
    /// directory can be opened again as soon as this returns.
    fn drop(&mut self) {
        self.writer.take();
        if let Some(t) = self.writer_thread.take() {
            let _ = t.join();
        }
    }
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("embedded store: {e}"))
}

fn encode_key(key: &Key) -> String {
    format!("{}\u{0}{}", key.pk, key.sk)
}

fn encode_item(attrs: &Attrs) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(attrs).map_err(io)
}

fn decode_item(bytes: &[u8]) -> Result<Attrs, StoreError> {
    postcard::from_bytes(bytes).map_err(io)
}

impl EmbeddedItems {
    /// Opens (or creates) the store in `dir/oms.redb`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(dir.join("oms.redb"))
            .map_err(io)?;
        Self::start(db)
    }

    /// A store that lives in memory and is gone when the process ends.
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(io)?;
        Self::start(db)
    }

    fn start(db: Database) -> Result<Self, StoreError> {
        let tx = db.begin_write().map_err(io)?;
        tx.open_table(ITEMS).map_err(io)?;
        tx.open_table(INDEX).map_err(io)?;
        let mut next = 0;
        {
            let queue = tx.open_table(QUEUE).map_err(io)?;
            for entry in queue.iter().map_err(io)? {
                next = next.max(entry.map_err(io)?.0.value().1);
            }
            let timers = tx.open_table(TIMERS).map_err(io)?;
            for entry in timers.iter().map_err(io)? {
                next = next.max(entry.map_err(io)?.0.value().1);
            }
            let dead = tx.open_table(DEAD).map_err(io)?;
            if let Some(last) = dead.last().map_err(io)? {
                next = next.max(last.0.value());
            }
        }
        tx.commit().map_err(io)?;
        let db = Arc::new(db);
        let (writer, queue) = mpsc::channel();
        let for_writer = db.clone();
        let listener: Arc<Mutex<Option<Listener>>> = Arc::new(Mutex::new(None));
        let for_listener = listener.clone();
        let seq = Arc::new(AtomicU64::new(next + 1));
        let writer_thread = std::thread::Builder::new()
            .name("oms-store-writer".into())
            .spawn(move || write_loop(&for_writer, &queue, &seq, &for_listener))
            .map_err(io)?;
        Ok(Self {
            db,
            writer: Some(writer),
            writer_thread: Some(writer_thread),
            hook: Mutex::new(None),
            listener,
        })
    }

    /// Sets what every outbox-carrying item's change produces.
    pub fn set_hook(&self, hook: Arc<dyn CommitHook>) {
        *self.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    /// Sets who hears about new messages.
    pub fn set_listener(&self, listener: Listener) {
        *self.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(listener);
    }

    fn send(&self, op: Op) -> Result<(), StoreError> {
        self.writer
            .as_ref()
            .ok_or_else(|| io("store closed"))?
            .send(op)
            .map_err(|_| io("writer stopped"))
    }

    /// Puts messages and timers durably (partners' events, timers set
    /// again): done when they are on disk.
    pub async fn enqueue(&self, rows: Vec<Row>) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Op::Enqueue { rows, reply })?;
        answer.await.map_err(|_| io("writer stopped"))?
    }

    /// Up to `max` messages of a queue in order, skipping those `skip`
    /// says are taken.
    pub fn receive(
        &self,
        queue: &str,
        max: usize,
        skip: &dyn Fn(u64) -> bool,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let table = tx.open_table(QUEUE).map_err(io)?;
        let mut out = Vec::with_capacity(max);
        for entry in table.range((queue, 0)..=(queue, u64::MAX)).map_err(io)? {
            let (k, v) = entry.map_err(io)?;
            let seq = k.value().1;
            if skip(seq) {
                continue;
            }
            out.push((seq, v.value().to_vec()));
            if out.len() == max {
                break;
            }
        }
        Ok(out)
    }

    /// Takes messages off a queue (they were handled): done when that is
    /// on disk.
    pub async fn ack(&self, queue: &str, seqs: Vec<u64>) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.send(Op::Ack {
            queue: queue.to_owned(),
            seqs,
            reply,
        })?;
        answer.await.map_err(|_| io("writer stopped"))?
    }

    /// Moves a message that kept failing to the dead letters.
    pub async fn dead_letter(
        &self,
        queue: &str,
        seq: u64,
        receives: u32,
        at_ms: u64,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Op::DeadLetter {
            queue: queue.to_owned(),
            seq,
            receives,
            at_ms,
            reply,
        })?;
        answer.await.map_err(|_| io("writer stopped"))?
    }

    /// When the next timer is due, if any.
    pub fn next_timer(&self) -> Result<Option<u64>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let table = tx.open_table(TIMERS).map_err(io)?;
        Ok(table.first().map_err(io)?.map(|(k, _)| k.value().0))
    }

    /// Moves every timer due by `now_ms` to its queue; how many moved.
    pub async fn fire_timers(&self, now_ms: u64) -> Result<usize, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.send(Op::FireTimers { now_ms, reply })?;
        answer.await.map_err(|_| io("writer stopped"))
    }

    /// Dead letters after `after` (a sequence), oldest first.
    pub fn dead_letters(&self, after: u64, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let table = tx.open_table(DEAD).map_err(io)?;
        let mut out = Vec::new();
        for entry in table.range(after.saturating_add(1)..).map_err(io)? {
            let (_, v) = entry.map_err(io)?;
            out.push(postcard::from_bytes(v.value()).map_err(io)?);
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Messages waiting (all queues), timers set, dead letters kept.
    pub fn counts(&self) -> Result<(u64, u64, u64), StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let q = tx.open_table(QUEUE).map_err(io)?.len().map_err(io)?;
        let t = tx.open_table(TIMERS).map_err(io)?.len().map_err(io)?;
        let d = tx.open_table(DEAD).map_err(io)?.len().map_err(io)?;
        Ok((q, t, d))
    }
}

fn write_loop(
    db: &Database,
    queue: &mpsc::Receiver<Op>,
    seq: &AtomicU64,
    listener: &Mutex<Option<Listener>>,
) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut woken: Vec<String> = Vec::new();
        let mut published: Vec<Vec<u8>> = Vec::new();
        let results = commit_group(db, &group, seq, &mut woken, &mut published);
        for (op, result) in group.into_iter().zip(results) {
            match op {
                Op::Commit { reply, .. }
                | Op::Enqueue { reply, .. }
                | Op::Ack { reply, .. }
                | Op::DeadLetter { reply, .. } => {
                    let _ = reply.send(result.map(|_| ()));
                }
                Op::FireTimers { reply, .. } => {
                    let _ = reply.send(result.unwrap_or(0));
                }
            }
        }
        if !woken.is_empty() || !published.is_empty() {
            woken.sort();
            woken.dedup();
            let l = listener.lock().ok().and_then(|l| l.clone());
            if let Some(l) = l {
                l(&woken, &published);
            }
        }
    }
}

/// Applies each operation of the group in order (each sees the ones before
/// it) and makes them durable together. A failure of the whole group (I/O)
/// is every operation's answer; otherwise each gets its own.
fn commit_group(
    db: &Database,
    group: &[Op],
    seq: &AtomicU64,
    woken: &mut Vec<String>,
    published: &mut Vec<Vec<u8>>,
) -> Vec<Result<usize, StoreError>> {
    let mut pending = Vec::new();
    let mut announced = Vec::new();
    let applied = (|| -> Result<Vec<Result<usize, StoreError>>, StoreError> {
        let tx = db.begin_write().map_err(io)?;
        let mut results = Vec::with_capacity(group.len());
        {
            let mut items = tx.open_table(ITEMS).map_err(io)?;
            let mut index = tx.open_table(INDEX).map_err(io)?;
            let mut queue = tx.open_table(QUEUE).map_err(io)?;
            let mut timers = tx.open_table(TIMERS).map_err(io)?;
            let mut dead = tx.open_table(DEAD).map_err(io)?;
            let mut derived_sums: std::collections::BTreeMap<
                Key,
                std::collections::BTreeMap<String, i64>,
            > = std::collections::BTreeMap::new();
            for op in group {
                let result = match op {
                    Op::Commit {
                        writes,
                        rows,
                        derived,
                        ..
                    } => match apply_commit(&mut items, &mut index, writes)? {
                        Ok(()) => {
                            // Added up over the group, written once per item.
                            for w in derived {
                                if let Write::Update { key, add, .. } = w {
                                    let sums = derived_sums.entry(key.clone()).or_default();
                                    for (name, d) in add {
                                        *sums.entry(name.clone()).or_default() += d;
                                    }
                                }
                            }
                            put_rows(
                                rows,
                                &mut queue,
                                &mut timers,
                                seq,
                                &mut pending,
                                &mut announced,
                            )
                            .map(|()| 0)
                        }
                        Err(e) => Err(e),
                    },
                    Op::Enqueue { rows, .. } => {
                        put_rows(
                            rows,
                            &mut queue,
                            &mut timers,
                            seq,
                            &mut pending,
                            &mut announced,
                        )?;
                        Ok(0)
                    }
                    Op::Ack { queue: q, seqs, .. } => {
                        for s in seqs {
                            queue.remove((q.as_str(), *s)).map_err(io)?;
                        }
                        Ok(0)
                    }
                    Op::DeadLetter {
                        queue: q,
                        seq: s,
                        receives,
                        at_ms,
                        ..
                    } => {
                        let body = queue
                            .remove((q.as_str(), *s))
                            .map_err(io)?
                            .map(|v| v.value().to_vec());
                        if let Some(body) = body {
                            let letter = DeadLetter {
                                seq: *s,
                                queue: q.clone(),
                                receives: *receives,
                                at_ms: *at_ms,
                                body,
                            };
                            let bytes = postcard::to_stdvec(&letter).map_err(io)?;
                            dead.insert(*s, bytes.as_slice()).map_err(io)?;
                            while dead.len().map_err(io)? > MAX_DEAD_LETTERS {
                                dead.pop_first().map_err(io)?;
                            }
                        }
                        Ok(0)
                    }
                    Op::FireTimers { now_ms, .. } => {
                        let mut due = Vec::new();
                        for entry in timers.range(..=(*now_ms, u64::MAX)).map_err(io)? {
                            let (k, v) = entry.map_err(io)?;
                            due.push((k.value(), v.value().to_vec()));
                        }
                        for ((at, n), bytes) in &due {
                            timers.remove((*at, *n)).map_err(io)?;
                            let record: TimerRecord = postcard::from_bytes(bytes).map_err(io)?;
                            queue
                                .insert((record.queue.as_str(), *n), record.body.as_slice())
                                .map_err(io)?;
                            pending.push(record.queue);
                        }
                        Ok(due.len())
                    }
                };
                results.push(result);
            }
            let derived: Vec<Write> = derived_sums
                .into_iter()
                .map(|(key, sums)| Write::Update {
                    key,
                    set: vec![],
                    add: sums.into_iter().filter(|(_, d)| *d != 0).collect(),
                    when: vec![],
                })
                .filter(|w| matches!(w, Write::Update { add, .. } if !add.is_empty()))
                .collect();
            for chunk in derived.chunks(oms_app::store::MAX_WRITES) {
                if let Err(e) = apply_commit(&mut items, &mut index, chunk)? {
                    tracing::error!(error = %e, "derived writes refused");
                }
            }
        }
        tx.commit().map_err(io)?;
        Ok(results)
    })();
    match applied {
        Ok(results) => {
            woken.extend(pending);
            published.extend(announced);
            results
        }
        Err(e) => group.iter().map(|_| Err(e.clone())).collect(),
    }
}

/// Puts messages and timers, each with the next sequence.
fn put_rows(
    rows: &[Row],
    queue: &mut redb::Table<(&str, u64), &[u8]>,
    timers: &mut redb::Table<(u64, u64), &[u8]>,
    seq: &AtomicU64,
    pending: &mut Vec<String>,
    published: &mut Vec<Vec<u8>>,
) -> Result<(), StoreError> {
    for row in rows {
        let n = seq.fetch_add(1, Ordering::Relaxed);
        match row {
            Row::Queue { queue: q, body } => {
                queue.insert((q.as_str(), n), body.as_slice()).map_err(io)?;
                pending.push(q.clone());
            }
            Row::Timer {
                due_ms,
                queue: q,
                body,
            } => {
                let record = postcard::to_stdvec(&TimerRecord {
                    queue: q.clone(),
                    body: body.clone(),
                })
                .map_err(io)?;
                timers.insert((*due_ms, n), record.as_slice()).map_err(io)?;
                pending.push(TIMERS_WOKEN.to_owned());
            }
            Row::Published { body } => published.push(body.clone()),
        }
    }
    Ok(())
}

/// One commit: check every condition first, then apply every write.
/// The outer error aborts the whole group (I/O); the inner one is this
/// commit's own outcome.
fn apply_commit(
    table: &mut redb::Table<&str, &[u8]>,
    index: &mut redb::Table<&str, ()>,
    writes: &[Write],
) -> Result<Result<(), StoreError>, StoreError> {
    if let Err(e) = check_batch(writes) {
        return Ok(Err(e));
    }
    let mut next = Vec::with_capacity(writes.len());
    for (i, w) in writes.iter().enumerate() {
        let k = encode_key(w.key());
        let current = match table.get(k.as_str()).map_err(io)? {
            Some(bytes) => Some(decode_item(bytes.value())?),
            None => None,
        };
        if !conditions_hold(current.as_ref(), w.conditions()) {
            return Ok(Err(StoreError::ConditionFailed { index: i }));
        }
        let old_entries = index_keys(w.key(), current.as_ref());
        let item = apply(current, w);
        next.push((k, old_entries, index_keys(w.key(), item.as_ref()), item));
    }
    for (k, old_entries, new_entries, item) in next {
        for e in old_entries.iter().filter(|e| !new_entries.contains(e)) {
            index.remove(e.as_str()).map_err(io)?;
        }
        for e in new_entries.iter().filter(|e| !old_entries.contains(e)) {
            index.insert(e.as_str(), ()).map_err(io)?;
        }
        match item {
            Some(attrs) => {
                let bytes = encode_item(&attrs)?;
                table.insert(k.as_str(), bytes.as_slice()).map_err(io)?;
            }
            None => {
                table.remove(k.as_str()).map_err(io)?;
            }
        }
    }
    Ok(Ok(()))
}

/// The index entries of an item (none for no item).
fn index_keys(key: &Key, item: Option<&Attrs>) -> Vec<String> {
    let Some(item) = item else {
        return Vec::new();
    };
    INDEXES
        .iter()
        .filter_map(|ix| {
            let (ipk, isk) = index_entry(ix, item)?;
            Some(format!(
                "{}\u{0}{ipk}\u{0}{isk}\u{0}{}\u{0}{}",
                ix.name, key.pk, key.sk
            ))
        })
        .collect()
}

/// A range in key order, or reversed.
fn directed<'a, I>(range: I, descending: bool) -> Box<dyn Iterator<Item = I::Item> + 'a>
where
    I: DoubleEndedIterator + 'a,
{
    if descending {
        Box::new(range.rev())
    } else {
        Box::new(range)
    }
}

/// The range of encoded keys under `prefix` (ending in `\0`) whose sort
/// key lies in the query's range: (from, to) with `to` exclusive.
fn key_range(prefix: &str, q: &Query) -> (String, String) {
    let from = format!("{prefix}{}", q.from.as_deref().unwrap_or(""));
    // Every key with sort key ≤ `to` sorts before `to` followed by \u{1}
    // (an index entry continues with \0 and the item's keys).
    let to = match &q.to {
        Some(to) => format!("{prefix}{to}\u{1}"),
        None => format!("{}\u{1}", &prefix[..prefix.len() - 1]),
    };
    (from, to)
}

#[async_trait::async_trait]
impl Items for EmbeddedItems {
    async fn get(&self, key: &Key, _read: Read) -> Result<Option<Attrs>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let table = tx.open_table(ITEMS).map_err(io)?;
        match table.get(encode_key(key).as_str()).map_err(io)? {
            Some(bytes) => Ok(Some(decode_item(bytes.value())?)),
            None => Ok(None),
        }
    }

    async fn query(&self, q: &Query) -> Result<Vec<(String, Attrs)>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        match q.index {
            None => {
                let table = tx.open_table(ITEMS).map_err(io)?;
                let prefix = format!("{}\u{0}", q.pk);
                let (from, to) = key_range(&prefix, q);
                let range = table.range(from.as_str()..to.as_str()).map_err(io)?;
                for entry in directed(range, q.descending).take(limit) {
                    let (k, v) = entry.map_err(io)?;
                    let sk = k.value()[prefix.len()..].to_owned();
                    out.push((sk, decode_item(v.value())?));
                }
            }
            Some(ix) => {
                let table = tx.open_table(INDEX).map_err(io)?;
                let prefix = format!("{}\u{0}{}\u{0}", ix.name, q.pk);
                let (from, to) = key_range(&prefix, q);
                let range = table.range(from.as_str()..to.as_str()).map_err(io)?;
                for entry in directed(range, q.descending).take(limit) {
                    let (k, _) = entry.map_err(io)?;
                    let rest = &k.value()[prefix.len()..];
                    let mut parts = rest.splitn(3, '\u{0}');
                    let (Some(isk), Some(pk), Some(sk)) =
                        (parts.next(), parts.next(), parts.next())
                    else {
                        return Err(io("an index entry is unreadable"));
                    };
                    let mut attrs = Attrs::new();
                    attrs.insert("pk".into(), Value::S(pk.to_owned()));
                    attrs.insert("sk".into(), Value::S(sk.to_owned()));
                    out.push((isk.to_owned(), attrs));
                }
            }
        }
        Ok(out)
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let hook = self.hook.lock().ok().and_then(|h| h.clone());
        let mut rows: Vec<Row> = Vec::new();
        let mut derived: Vec<Write> = Vec::new();
        if let Some(hook) = hook {
            for w in &writes {
                if let Write::Put { key, attrs, .. } = w
                    && (attrs.contains_key(oms_app::outbox::ATTR)
                        || attrs.contains_key(oms_app::kpi::ATTR))
                {
                    rows.extend(hook.rows(key, attrs));
                    derived.extend(hook.writes(key, attrs));
                }
            }
        }
        let (reply, answer) = oneshot::channel();
        self.send(Op::Commit {
            writes,
            rows,
            derived,
            reply,
        })?;
        answer.await.map_err(|_| io("writer stopped"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oms_app::store::Value;

    fn bytes(v: &[u8]) -> Value {
        Value::B(v.to_vec())
    }

    struct EveryOutbox;
    impl CommitHook for EveryOutbox {
        fn rows(&self, key: &Key, _: &Attrs) -> Vec<Row> {
            vec![
                Row::Queue {
                    queue: "q".into(),
                    body: key.pk.as_bytes().to_vec(),
                },
                Row::Timer {
                    due_ms: 10,
                    queue: "q".into(),
                    body: b"later".to_vec(),
                },
            ]
        }
    }

    fn put(pk: &str, with_outbox: bool) -> Write {
        let mut attrs = Attrs::new();
        attrs.insert("n".into(), Value::N(1));
        if with_outbox {
            attrs.insert(oms_app::outbox::ATTR.into(), bytes(b"x"));
        }
        Write::Put {
            key: Key::new(pk, "s"),
            attrs,
            when: vec![oms_app::store::Cond::NotExists],
        }
    }

    #[tokio::test]
    async fn an_outbox_commits_its_messages_with_the_item_and_only_then() {
        let store = EmbeddedItems::in_memory().unwrap();
        store.set_hook(Arc::new(EveryOutbox));
        store.write(vec![put("a", true)]).await.unwrap();
        store.write(vec![put("b", false)]).await.unwrap();
        // A failed condition writes neither the item nor its messages.
        assert!(store.write(vec![put("a", true)]).await.is_err());
        let got = store.receive("q", 10, &|_| false).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, b"a");
        assert_eq!(store.next_timer().unwrap(), Some(10));
        assert_eq!(store.fire_timers(9).await.unwrap(), 0);
        assert_eq!(store.fire_timers(10).await.unwrap(), 1);
        assert_eq!(store.next_timer().unwrap(), None);
        let got = store.receive("q", 10, &|_| false).unwrap();
        assert_eq!(got.len(), 2);
        store.ack("q", vec![got[0].0]).await.unwrap();
        store.dead_letter("q", got[1].0, 3, 99).await.unwrap();
        assert!(store.receive("q", 10, &|_| false).unwrap().is_empty());
        let dead = store.dead_letters(0, 10).unwrap();
        assert_eq!((dead.len(), dead[0].receives), (1, 3));
        assert_eq!(store.counts().unwrap(), (0, 0, 1));
    }

    #[tokio::test]
    async fn messages_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("oms-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let store = EmbeddedItems::open(&dir).unwrap();
            store.set_hook(Arc::new(EveryOutbox));
            store.write(vec![put("a", true)]).await.unwrap();
        }
        let store = EmbeddedItems::open(&dir).unwrap();
        assert_eq!(store.receive("q", 10, &|_| false).unwrap().len(), 1);
        assert_eq!(store.next_timer().unwrap(), Some(10));
        // New sequences never reuse old ones.
        store
            .enqueue(vec![Row::Queue {
                queue: "q".into(),
                body: b"b".to_vec(),
            }])
            .await
            .unwrap();
        let seqs: Vec<u64> = store
            .receive("q", 10, &|_| false)
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert!(seqs[1] > seqs[0], "{seqs:?}");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
