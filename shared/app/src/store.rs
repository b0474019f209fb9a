//! The storage port: items with DynamoDB's semantics.
//!
//! An item lives under a (partition key, sort key) pair and holds string and
//! number attributes. A write is conditional; a list of writes commits
//! all-or-nothing, as `TransactWriteItems` does. Two engines implement it —
//! DynamoDB (`oms_aws::dynamo`) and the embedded redb store
//! (`oms_embedded::store`) — and the repositories in [`crate::repo`] speak
//! to it, so key design and conditions are written once and both engines
//! pass the same contract tests (`tests/store_contract.rs`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most writes in one atomic commit (DynamoDB's transaction limit; the
/// domain keeps every change of an order within it).
pub const MAX_WRITES: usize = oms_domain::validation::MAX_ITEMS_PER_CHANGE;

/// An attribute's value: a string, an integer or bytes (DynamoDB's S, N
/// and B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    S(String),
    N(i64),
    B(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl Value {
    pub fn as_b(&self) -> Option<&[u8]> {
        match self {
            Value::B(b) => Some(b),
            _ => None,
        }
    }
    pub fn as_n(&self) -> Option<i64> {
        match self {
            Value::N(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_s(&self) -> Option<&str> {
        match self {
            Value::S(s) => Some(s),
            _ => None,
        }
    }
}

pub type Attrs = BTreeMap<String, Value>;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }
}

/// A condition on the item as it is *before* the write. A list of
/// conditions must all hold. As in DynamoDB, a comparison with a missing
/// item or attribute is false.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Exists,
    NotExists,
    /// The item has no attribute of this name (or there is no item).
    Absent(String),
    Eq(String, Value),
    AtLeast(String, i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Replace the whole item.
    Put {
        key: Key,
        attrs: Attrs,
        when: Vec<Cond>,
    },
    /// Set some attributes and add to number attributes (a missing number
    /// counts as 0); creates the item if it is absent and no condition says
    /// otherwise.
    Update {
        key: Key,
        set: Vec<(String, Value)>,
        add: Vec<(String, i64)>,
        when: Vec<Cond>,
    },
    Delete {
        key: Key,
        when: Vec<Cond>,
    },
}

impl Write {
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { key, .. } | Write::Update { key, .. } | Write::Delete { key, .. } => key,
        }
    }
    pub fn conditions(&self) -> &[Cond] {
        match self {
            Write::Put { when, .. } | Write::Update { when, .. } | Write::Delete { when, .. } => {
                when
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The condition of write `index` did not hold; nothing was written.
    #[error("condition of write {index} failed")]
    ConditionFailed { index: usize },
    /// The request itself is malformed (too many writes, one item twice).
    #[error("invalid write: {0}")]
    Invalid(String),
    /// The engine could not answer (network, throttling, I/O). Retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// How fresh a read must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// The latest committed version (DynamoDB's strongly consistent read).
    Strong,
    /// Possibly an older version, or nothing for an item just created, at
    /// half the price on DynamoDB. For reads whose decision is committed
    /// under a condition on the version read (a stale read then fails its
    /// condition and is read again, strongly). The embedded engine always
    /// reads the latest.
    Eventual,
}

/// A global secondary index: an item that has both attributes (strings)
/// is listed in it under them, with its keys only (DynamoDB's `KEYS_ONLY`
/// projection). An index is read eventually: an item written a moment
/// ago may not be listed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

/// Orders by customer, newest first (`cpk` = `C#{customerId}`).
pub const BY_CUSTOMER: Index = Index {
    name: "byCustomer",
    pk: "cpk",
    sk: "csk",
};
/// Orders by day of placement, in a few shards (`dpk` = `D#{day}#{shard}`).
pub const BY_DAY: Index = Index {
    name: "byDay",
    pk: "dpk",
    sk: "dsk",
};
/// Orders with something due at a time, soonest first, one partition per
/// kind (`ppk`: `PICKUP` — a pickup waiting at its store since `psk`;
/// `PROMISE` — a promised delivery's next mark, at risk then due): sparse,
/// an order has these keys only while something is due, so only those
/// orders ever write this index.
pub const BY_DUE: Index = Index {
    name: "byDue",
    pk: "ppk",
    sk: "psk",
};
/// Every index of the table (both engines keep them; the template and
/// `oms_aws::dynamo::create_table` declare them).
pub const INDEXES: &[Index] = &[BY_CUSTOMER, BY_DAY, BY_DUE];

/// Items of one partition of the table or of an index, by sort key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// `None`: the table (read strongly); else the index (read eventually).
    pub index: Option<Index>,
    pub pk: String,
    /// Sort keys from (inclusive).
    pub from: Option<String>,
    /// Sort keys up to (inclusive).
    pub to: Option<String>,
    /// Highest sort key first.
    pub descending: bool,
    /// At most this many items; `None`: all of them.
    pub limit: Option<usize>,
}

impl Query {
    /// The whole partition `pk` of the table, in sort-key order.
    pub fn partition(pk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            ..Self::default()
        }
    }

    /// Whether `sk` lies in the query's range.
    pub fn covers(&self, sk: &str) -> bool {
        self.from.as_deref().is_none_or(|f| sk >= f) && self.to.as_deref().is_none_or(|t| sk <= t)
    }
}

/// The keys of an item found in an index: its table key and its sort key in
/// the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: Key,
    pub sk: String,
}

#[async_trait::async_trait]
pub trait Items: Send + Sync {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Attrs>, StoreError>;
    /// Items of a partition in sort-key order (or reversed), within the
    /// query's range and limit. From the table: each item's sort key and
    /// attributes. From an index: the index's sort key and, as attributes,
    /// the table's `pk` and `sk` (see [`listed`]).
    async fn query(&self, query: &Query) -> Result<Vec<(String, Attrs)>, StoreError>;
    /// Commits every write or none.
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError>;
}

/// Shared checks both engines make before committing.
pub fn check_batch(writes: &[Write]) -> Result<(), StoreError> {
    if writes.is_empty() || writes.len() > MAX_WRITES {
        return Err(StoreError::Invalid(format!(
            "a commit takes 1 to {MAX_WRITES} writes, got {}",
            writes.len()
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(writes.len());
    for w in writes {
        if !seen.insert(w.key()) {
            return Err(StoreError::Invalid(format!(
                "item {}/{} is written twice in one commit",
                w.key().pk,
                w.key().sk
            )));
        }
    }
    Ok(())
}

/// Evaluates conditions against the current item, as DynamoDB does.
pub fn conditions_hold(item: Option<&Attrs>, when: &[Cond]) -> bool {
    when.iter().all(|c| match c {
        Cond::Exists => item.is_some(),
        Cond::NotExists => item.is_none(),
        Cond::Absent(name) => item.is_none_or(|i| !i.contains_key(name)),
        Cond::Eq(name, v) => item.and_then(|i| i.get(name)) == Some(v),
        Cond::AtLeast(name, n) => item
            .and_then(|i| i.get(name))
            .and_then(Value::as_n)
            .is_some_and(|have| have >= *n),
    })
}

/// Applies one write to the current item; `None` means deleted.
pub fn apply(item: Option<Attrs>, write: &Write) -> Option<Attrs> {
    match write {
        Write::Put { attrs, .. } => Some(attrs.clone()),
        Write::Delete { .. } => None,
        Write::Update { set, add, .. } => {
            let mut item = item.unwrap_or_default();
            for (name, v) in set {
                item.insert(name.clone(), v.clone());
            }
            for (name, d) in add {
                let cur = item.get(name).and_then(Value::as_n).unwrap_or(0);
                item.insert(name.clone(), Value::N(cur.saturating_add(*d)));
            }
            Some(item)
        }
    }
}

/// The table keys of items an index query returned.
pub fn listed(found: Vec<(String, Attrs)>) -> Vec<Listed> {
    found
        .into_iter()
        .filter_map(|(sk, attrs)| {
            let pk = attrs.get("pk")?.as_s()?.to_owned();
            let table_sk = attrs.get("sk")?.as_s()?.to_owned();
            Some(Listed {
                key: Key::new(pk, table_sk),
                sk,
            })
        })
        .collect()
}

/// An item's entry in `index`, if it has both of the index's attributes:
/// (index pk, index sk).
pub fn index_entry<'a>(index: &Index, item: &'a Attrs) -> Option<(&'a str, &'a str)> {
    Some((item.get(index.pk)?.as_s()?, item.get(index.sk)?.as_s()?))
}
