//! The outbox relay of `--aws` mode: the table's stream read the way
//! Lambda's event source mapping reads it for the relay function — every
//! shard in order, a batch retried until it is delivered, the position
//! checkpointed — so a restart resumes after the last delivered batch
//! instead of replaying the stream or skipping what was not yet relayed.
//!
//! Checkpoints are items of the table (`RELAY` / `SHARD#<id>`, attribute
//! `seq`), written after each delivered batch that carried events. An
//! iterator the stream refuses (expired, or trimmed as DynamoDB Local
//! trims them) is taken again after the last delivered record.

use aws_sdk_dynamodb::types::AttributeValue as Stored;
use aws_sdk_dynamodbstreams::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
use oms_app::store::Value;
use std::collections::HashMap;
use std::time::Duration;

const CHECKPOINT_PK: &str = "RELAY";

/// How long the reader lets records gather before it reads a shard again
/// once it is caught up (`OMS_RELAY_WINDOW_MS`, default 0): the event
/// source mapping's `MaximumBatchingWindowInSeconds` (the template's
/// `RelayBatchingWindowSeconds`). Longer batches merge more derived
/// additions into one write; each hop of an order waits up to that long.
fn window() -> Duration {
    Duration::from_millis(
        std::env::var("OMS_RELAY_WINDOW_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
    )
}
/// Records per read, as the relay function's batch size.
const BATCH: i32 = 100;

pub(crate) struct StreamReader {
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    pub table: String,
    pub stream_arn: String,
}

/// Where the relay stands in one shard.
#[derive(Default)]
struct Shard {
    iterator: Option<String>,
    /// The last record delivered (or checkpointed before a restart).
    last: Option<String>,
    /// Closed and read to its end.
    done: bool,
}

/// Whether a read failed because the iterator itself is no longer good.
fn iterator_refused(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("TrimmedDataAccessException" | "ExpiredIteratorException")
    )
}

/// A string attribute (`outbox`, `kpi`) of a stream image, inflated if the
/// store deflated it.
fn outbox_of(v: &AttributeValue) -> Option<Value> {
    match v {
        AttributeValue::S(s) => Some(Value::S(s.clone())),
        AttributeValue::B(b) => {
            oms_aws::dynamo::from_stored(oms_app::outbox::ATTR, Stored::B(b.clone())).ok()
        }
        _ => None,
    }
}

impl StreamReader {
    pub(crate) async fn run(self, relay: oms_app::outbox::Relay) {
        let mut shards: HashMap<String, Shard> = HashMap::new();
        let window = window();
        loop {
            self.discover(&mut shards).await;
            let mut idle = true;
            let mut full = false;
            for (id, shard) in shards.iter_mut().filter(|(_, s)| !s.done) {
                if shard.iterator.is_none() {
                    shard.iterator = self.iterator(id, shard.last.as_deref()).await;
                }
                let Some(current) = shard.iterator.clone() else {
                    continue;
                };
                let page = match self
                    .streams
                    .get_records()
                    .shard_iterator(&current)
                    .limit(BATCH)
                    .send()
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        if iterator_refused(e.code()) {
                            shard.iterator = None;
                        } else {
                            tracing::warn!(error = %DisplayErrorContext(&e), "stream read failed");
                        }
                        continue;
                    }
                };
                let records = page.records();
                full |= records.len() >= BATCH as usize;
                let outboxes: Vec<Value> = records
                    .iter()
                    .filter_map(|r| r.dynamodb()?.new_image()?.get(oms_app::outbox::ATTR))
                    .filter_map(outbox_of)
                    .collect();
                let deltas: Vec<oms_app::kpi::Record> = records
                    .iter()
                    .filter_map(|r| {
                        let data = r.dynamodb()?;
                        let packed = outbox_of(data.new_image()?.get(oms_app::kpi::ATTR)?)?;
                        let item =
                            oms_app::store::Attrs::from([(oms_app::kpi::ATTR.to_owned(), packed)]);
                        Some(oms_app::kpi::Record {
                            sequence: data.sequence_number()?.to_owned(),
                            delta: oms_app::kpi::delta_of(&item)?,
                        })
                    })
                    .collect();
                if let Err(e) = relay.project(&deltas).await {
                    tracing::warn!(error = %e, "KPI sums failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                if !outboxes.is_empty()
                    && let Err(e) = relay.forward(&outboxes).await
                {
                    // Not moving on: the same records are read again.
                    tracing::warn!(error = %e, "relay failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                if let Some(seq) = records.last().and_then(|r| r.dynamodb()?.sequence_number()) {
                    idle = false;
                    shard.last = Some(seq.to_owned());
                    if !outboxes.is_empty() || !deltas.is_empty() {
                        self.checkpoint(id, seq).await;
                    }
                }
                match page.next_shard_iterator {
                    Some(next) => shard.iterator = Some(next),
                    None => shard.done = true,
                }
            }
            if idle {
                tokio::time::sleep(Duration::from_millis(50).max(window)).await;
            } else if !full && !window.is_zero() {
                // Caught up: let the next batch gather.
                tokio::time::sleep(window).await;
            }
        }
    }

    /// Adds the stream's new shards, each from its checkpoint.
    async fn discover(&self, shards: &mut HashMap<String, Shard>) {
        let Ok(described) = self
            .streams
            .describe_stream()
            .stream_arn(&self.stream_arn)
            .send()
            .await
        else {
            return;
        };
        for shard in described
            .stream_description()
            .map(|d| d.shards())
            .unwrap_or_default()
        {
            let Some(id) = shard.shard_id() else { continue };
            if !shards.contains_key(id) {
                let last = self.checkpointed(id).await;
                shards.insert(
                    id.to_owned(),
                    Shard {
                        last,
                        ..Shard::default()
                    },
                );
            }
        }
    }

    /// An iterator after `last`, or from the shard's oldest record.
    async fn iterator(&self, shard: &str, last: Option<&str>) -> Option<String> {
        let request = |kind: ShardIteratorType, seq: Option<&str>| {
            self.streams
                .get_shard_iterator()
                .stream_arn(&self.stream_arn)
                .shard_id(shard)
                .shard_iterator_type(kind)
                .set_sequence_number(seq.map(str::to_owned))
                .send()
        };
        if let Some(seq) = last
            && let Ok(out) = request(ShardIteratorType::AfterSequenceNumber, Some(seq)).await
        {
            return out.shard_iterator;
        }
        match request(ShardIteratorType::TrimHorizon, None).await {
            Ok(out) => out.shard_iterator,
            Err(e) => {
                tracing::warn!(error = %DisplayErrorContext(&e), shard, "no iterator for a shard");
                None
            }
        }
    }

    fn checkpoint_key(shard: &str) -> HashMap<String, Stored> {
        HashMap::from([
            ("pk".to_owned(), Stored::S(CHECKPOINT_PK.to_owned())),
            ("sk".to_owned(), Stored::S(format!("SHARD#{shard}"))),
        ])
    }

    async fn checkpointed(&self, shard: &str) -> Option<String> {
        let out = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::checkpoint_key(shard)))
            .consistent_read(true)
            .send()
            .await
            .ok()?;
        match out.item?.get("seq")? {
            Stored::S(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// Records that everything up to `seq` was delivered. A lost checkpoint
    /// only means a batch delivered again (event ids deduplicate it).
    async fn checkpoint(&self, shard: &str, seq: &str) {
        let mut item = Self::checkpoint_key(shard);
        item.insert("seq".to_owned(), Stored::S(seq.to_owned()));
        if let Err(e) = self
            .dynamo
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
        {
            tracing::warn!(error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "checkpoint not written");
        }
    }
}
