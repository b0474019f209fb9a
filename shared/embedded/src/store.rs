//! The embedded store: DynamoDB's item semantics on redb, in one file.
//!
//! Reads use redb read transactions (snapshots, concurrent). Writes go to a
//! single writer thread that takes every commit waiting in its queue, applies
//! each one all-or-nothing inside one redb write transaction and makes the
//! whole group durable with one fsync (group commit). A caller's `write`
//! returns only after its group is on disk, so durability is per commit
//! while the fsync cost is shared by everything that arrived meanwhile.

use oms_app::store::{Attrs, Items, Key, StoreError, Write, apply, check_batch, conditions_hold};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::{Arc, mpsc};
use tokio::sync::oneshot;

const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// Most commits applied under one fsync.
const MAX_GROUP: usize = 1024;

type Reply = oneshot::Sender<Result<(), StoreError>>;

pub struct EmbeddedItems {
    db: Arc<Database>,
    writer: Option<mpsc::Sender<(Vec<Write>, Reply)>>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
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

fn decode(bytes: &[u8]) -> Result<Attrs, StoreError> {
    serde_json::from_slice(bytes).map_err(io)
}

impl EmbeddedItems {
    /// Opens (or creates) the store in `dir/oms.redb`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let db = Database::create(dir.join("oms.redb")).map_err(io)?;
        Self::start(db)
    }

    /// A store that lives in memory and is gone when the process ends.
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(io)?;
        Self::start(db)
    }

    fn start(db: Database) -> Result<Self, StoreError> {
        let tx = db.begin_write().map_err(io)?;
        tx.open_table(ITEMS).map_err(io)?;
        tx.commit().map_err(io)?;
        let db = Arc::new(db);
        let (writer, queue) = mpsc::channel();
        let for_writer = db.clone();
        let writer_thread = std::thread::Builder::new()
            .name("oms-store-writer".into())
            .spawn(move || write_loop(&for_writer, &queue))
            .map_err(io)?;
        Ok(Self {
            db,
            writer: Some(writer),
            writer_thread: Some(writer_thread),
        })
    }
}

fn write_loop(db: &Database, queue: &mpsc::Receiver<(Vec<Write>, Reply)>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        match commit_group(db, &group) {
            Ok(results) => {
                for ((_, reply), result) in group.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                for (_, reply) in group {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Applies each commit of the group in order (each sees the ones before
/// it) and makes them durable together.
fn commit_group(
    db: &Database,
    group: &[(Vec<Write>, Reply)],
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let tx = db.begin_write().map_err(io)?;
    let mut results = Vec::with_capacity(group.len());
    {
        let mut table = tx.open_table(ITEMS).map_err(io)?;
        for (writes, _) in group {
            results.push(apply_commit(&mut table, writes)?);
        }
    }
    tx.commit().map_err(io)?;
    Ok(results)
}

/// One commit: check every condition first, then apply every write.
/// The outer error aborts the whole group (I/O); the inner one is this
/// commit's own outcome.
fn apply_commit(
    table: &mut redb::Table<&str, &[u8]>,
    writes: &[Write],
) -> Result<Result<(), StoreError>, StoreError> {
    if let Err(e) = check_batch(writes) {
        return Ok(Err(e));
    }
    let mut next = Vec::with_capacity(writes.len());
    for (index, w) in writes.iter().enumerate() {
        let k = encode_key(w.key());
        let current = match table.get(k.as_str()).map_err(io)? {
            Some(bytes) => Some(decode(bytes.value())?),
            None => None,
        };
        if !conditions_hold(current.as_ref(), w.conditions()) {
            return Ok(Err(StoreError::ConditionFailed { index }));
        }
        next.push((k, apply(current, w)));
    }
    for (k, item) in next {
        match item {
            Some(attrs) => {
                let bytes = serde_json::to_vec(&attrs).map_err(io)?;
                table.insert(k.as_str(), bytes.as_slice()).map_err(io)?;
            }
            None => {
                table.remove(k.as_str()).map_err(io)?;
            }
        }
    }
    Ok(Ok(()))
}

#[async_trait::async_trait]
impl Items for EmbeddedItems {
    async fn get(&self, key: &Key) -> Result<Option<Attrs>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let table = tx.open_table(ITEMS).map_err(io)?;
        match table.get(encode_key(key).as_str()).map_err(io)? {
            Some(bytes) => Ok(Some(decode(bytes.value())?)),
            None => Ok(None),
        }
    }

    async fn query(&self, pk: &str) -> Result<Vec<(String, Attrs)>, StoreError> {
        let tx = self.db.begin_read().map_err(io)?;
        let table = tx.open_table(ITEMS).map_err(io)?;
        let (start, end) = (format!("{pk}\u{0}"), format!("{pk}\u{1}"));
        let mut out = Vec::new();
        for entry in table.range(start.as_str()..end.as_str()).map_err(io)? {
            let (k, v) = entry.map_err(io)?;
            let sk = k.value()[start.len()..].to_owned();
            out.push((sk, decode(v.value())?));
        }
        Ok(out)
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .as_ref()
            .ok_or_else(|| io("store closed"))?
            .send((writes, reply))
            .map_err(|_| io("writer stopped"))?;
        answer.await.map_err(|_| io("writer stopped"))?
    }
}
