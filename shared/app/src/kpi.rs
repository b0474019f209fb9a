//! Derived additions — the KPI projection, and the stock a shipment took:
//! each change of an order carries, in the same item write, as the
//! attribute [`ATTR`] ([`Derived`]), the difference it made to the order's
//! contribution to the sums of its cohort hour (`oms_domain::kpi`) and the
//! additions to stock counters that may follow it (a shipment's units off
//! the reserved counters: they were not available, so nothing can be sold
//! twice while they wait). Those additions are made exactly once per
//! change:
//!
//! - locally, by the embedded store's commit hook, in the very transaction
//!   that commits the change;
//! - on AWS, by the relay, from the table's stream, in groups of records
//!   committed each with a marker item named after the group's first
//!   record — a batch that comes again (it always comes again whole, from
//!   the same first record) finds the markers of the groups it already
//!   added and skips them.
//!
//! Either way the sums equal the contributions of the orders as they are,
//! so duplicated or reordered events cannot skew them: the domain applies a
//! fact once, and the projection follows the committed changes, not the
//! events. The figures are read back by [`read_totals`] and [`read_cells`].

use crate::store::{Attrs, Cond, Items, Key, Query, Read, StoreError, Value, Write};
use oms_domain::kpi::{Cell, HOUR_MS, KpiDelta};
use std::collections::BTreeMap;

/// The attribute of an order item holding its latest change's [`Derived`]
/// additions.
pub const ATTR: &str = "kpi";

/// Additions to number attributes of one item.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Addition {
    pub pk: String,
    pub sk: String,
    pub add: Vec<(String, i64)>,
}

impl Addition {
    /// The additions of `writes` that are updates without conditions on
    /// them (conditions are dropped: an addition that follows a commit
    /// cannot be refused).
    pub fn of(writes: Vec<Write>) -> Vec<Addition> {
        writes
            .into_iter()
            .filter_map(|w| match w {
                Write::Update { key, add, .. } => Some(Addition {
                    pk: key.pk,
                    sk: key.sk,
                    add,
                }),
                _ => None,
            })
            .collect()
    }
}

/// What a change adds after it commits: its KPI delta and other additions.
/// Stored as the KPI delta's own fields plus `adds` (a delta written before
/// there were other additions reads as one without them).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Derived {
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<KpiDelta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adds: Vec<Addition>,
}

impl Derived {
    pub fn is_empty(&self) -> bool {
        self.kpi.is_none() && self.adds.is_empty()
    }
}

/// Most sum items added to in one commit (DynamoDB's transaction limit,
/// less the marker).
const GROUP_ITEMS: usize = 99;

/// How long a relay group's marker is kept (TTL): longer than the stream
/// keeps records (24 h).
const MARKER_TTL_SECS: i64 = 2 * 24 * 3600;

/// The additions an item's change carries, if any.
pub fn delta_of(item: &Attrs) -> Option<Derived> {
    let v = item.get(ATTR)?;
    match crate::outbox::unpack::<Derived>(v, "kpi delta") {
        Ok(d) if d.is_empty() => None,
        Ok(d) => Some(d),
        Err(e) => {
            tracing::error!(error = %e, "a KPI delta that cannot be read; skipped");
            None
        }
    }
}

/// The writes that make the additions: one per item, figures of the same
/// item added together.
pub fn writes<'a>(deltas: impl IntoIterator<Item = &'a Derived>) -> Vec<Write> {
    let mut merged: BTreeMap<Key, BTreeMap<String, i64>> = BTreeMap::new();
    for d in deltas {
        if let Some(k) = &d.kpi {
            let pk = KpiDelta::partition(k.hour);
            for (sk, figures) in &k.cells {
                let item = merged.entry(Key::new(pk.clone(), sk.clone())).or_default();
                for (name, v) in figures {
                    *item.entry(name.clone()).or_default() += v;
                }
            }
        }
        for a in &d.adds {
            let item = merged
                .entry(Key::new(a.pk.clone(), a.sk.clone()))
                .or_default();
            for (name, v) in &a.add {
                *item.entry(name.clone()).or_default() += v;
            }
        }
    }
    merged
        .into_iter()
        .map(|(key, figures)| Write::Update {
            key,
            set: vec![],
            add: figures.into_iter().filter(|(_, v)| *v != 0).collect(),
            when: vec![],
        })
        .filter(|w| matches!(w, Write::Update { add, .. } if !add.is_empty()))
        .collect()
}

/// One stream record's delta and its sequence number.
pub struct Record {
    pub sequence: String,
    pub delta: Derived,
}

fn marker_key(first: &str) -> Key {
    Key::new(format!("KPIRELAY#{first}"), "MARKER")
}

/// Whether stream sequence number `a` comes after `b` (decimal strings).
fn after(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// Adds the deltas of a batch of stream records (in stream order, all of
/// one shard) to the sums, exactly once even when the batch comes again:
/// in groups, each committed with a marker naming its first record and
/// holding its last. Returns how many records were added now.
pub async fn apply_stream_batch(
    items: &dyn Items,
    records: &[Record],
    now_secs: i64,
) -> Result<usize, StoreError> {
    let mut added = 0;
    let mut i = 0;
    while i < records.len() {
        let marker = marker_key(&records[i].sequence);
        if let Some(done) = items.get(&marker, Read::Strong).await? {
            // This group was added before: go on after its last record.
            let last = done.get("last").and_then(Value::as_s).unwrap_or_default();
            let next = records[i..]
                .iter()
                .position(|r| after(&r.sequence, last))
                .map_or(records.len(), |p| i + p);
            i = next.max(i + 1);
            continue;
        }
        // The longest run from `i` whose additions fit one commit.
        let mut end = i + 1;
        while end < records.len()
            && writes(records[i..=end].iter().map(|r| &r.delta)).len() <= GROUP_ITEMS
        {
            end += 1;
        }
        let mut group = writes(records[i..end].iter().map(|r| &r.delta));
        let mut attrs = Attrs::new();
        attrs.insert("last".into(), Value::S(records[end - 1].sequence.clone()));
        attrs.insert("expiresAt".into(), Value::N(now_secs + MARKER_TTL_SECS));
        group.push(Write::Put {
            key: marker,
            attrs,
            when: vec![Cond::NotExists],
        });
        match items.write(group).await {
            Ok(()) => {
                added += end - i;
                i = end;
            }
            // Another delivery of the same batch added it meanwhile.
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(added)
}

/// The first millisecond of each hour in `[from, to)`.
pub fn hours(from: u64, to: u64) -> impl Iterator<Item = u64> {
    let first = from / HOUR_MS;
    let last = to.saturating_sub(1) / HOUR_MS;
    (first..=last)
        .filter(move |_| to > from)
        .map(|h| h * HOUR_MS)
}

/// The sum items of each hour whose sort keys start with `prefix`: (hour,
/// sort key, figures).
pub async fn read_cells(
    items: &dyn Items,
    hours: impl Iterator<Item = u64>,
    prefix: &str,
) -> Result<Vec<(u64, String, Cell)>, StoreError> {
    let mut out = Vec::new();
    for hour in hours {
        let query = Query {
            from: Some(prefix.to_owned()),
            to: Some(format!("{prefix}\u{7f}")),
            ..Query::partition(KpiDelta::partition(hour))
        };
        for (sk, attrs) in items.query(&query).await? {
            let cell: Cell = attrs
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_n()?)))
                .collect();
            out.push((hour, sk, cell));
        }
    }
    Ok(out)
}

/// The totals of each hour (its `T#` items summed): (hour, figures).
pub async fn read_totals(
    items: &dyn Items,
    hours: impl Iterator<Item = u64>,
) -> Result<Vec<(u64, Cell)>, StoreError> {
    let mut by_hour: BTreeMap<u64, Cell> = BTreeMap::new();
    for (hour, _, cell) in read_cells(items, hours, "T#").await? {
        let sum = by_hour.entry(hour).or_default();
        for (k, v) in cell {
            *sum.entry(k).or_default() += v;
        }
    }
    Ok(by_hour.into_iter().collect())
}
