//! Repositories: the domain's view of storage, written once over [`Items`].
//!
//! Single-table key design (DynamoDB table `oms`, keys `pk`/`sk`):
//!
//! | item | pk | sk | attributes |
//! |---|---|---|---|
//! | order | `ORDER#{orderId}` | `ORDER` | `doc` (deflated JSON), `outbox` (deflated JSON of the latest change's events, when it has any), `version`, `status`; search keys `cpk` = `C#{customerId}`, `dpk` = `D#{yyyy-mm-dd}#{shard}`, `csk` = `dsk` = `{placedAt ms, 13 digits}#{orderId}` (indexes `byCustomer`, `byDay`) |
//! | idempotency claim | `CLAIM#{scope}` | `CLAIM` | `orderId`, `fingerprint`, `expiresAt`? (TTL) |
//! | stock of a sku (shard 0) | `SKU#{sku}` | `STOCK` | per location `a#{locationId}` (available) and `r#{locationId}` (reserved); `shards` when split; `v` (bumped by every absolute set) |
//! | stock of a sku, shard i > 0 | `SKU#{sku}#{i}` | `STOCK` | per location `a#…`, `r#…` |
//! | location | `LOCATION` | `{locationId}` | `doc` (JSON) |
//! | product | `PRODUCT` | `{sku}` | `doc` (JSON: name, prices per currency, …) |
//! | fraud rules, shipping rates, tax rules | `CONFIG` | `RISK_RULES`, `SHIPPING_RATES`, `TAX_RULES` | `doc` (JSON) |
//! | promotion | `PROMOTION` | `{promotionId}` | `doc` (JSON) |
//! | business account, price list | `ACCOUNT`, `PRICELIST` | `{accountId}`, `{priceListId}` | `doc` (JSON) |
//! | an account's open balance | `ACCOUNT#{accountId}` | `BALANCE` | `open#{currency}` (added to after each change of its on-account orders) |
//! | invoice or credit note | `DOCS#{series}` | `{sequence, 12 digits}` | `doc` (JSON), `orderId` |
//!
//! Stock: one item holds a sku's counters at every location — onHand is
//! `a + r` — so an order commits one stock write per sku whatever the
//! number of locations: taking units moves them from `a` to `r` on the
//! condition that `a` has them; shipping takes them off `r`; a release
//! moves them back; a restock or more stock adds to `a`. The network's
//! figures are the sums. A hot sku is split into shards, each its own
//! item under its own partition key holding a share of every location's
//! units (see `oms_domain::inventory`), so its orders spread over several
//! partitions.
//!
//! An order's item also carries `kpi`, its latest change's difference to the
//! KPI sums (see [`crate::kpi`]); the sums are items `KPI#{yyyy-mm-ddThh}` /
//! `T#{n}`, `P#{sku}`, `C#{customerId}` of number attributes.
//!
//! Access patterns: an order by id (get); a customer's orders, or a day's,
//! newest first (query of an index, keys only, then a get per order); a claim by key (get, conditional
//! put); a sku's stock (one get per shard); all locations (one query); an
//! order's change and its stock moves as one transaction with a condition
//! per stock item.

use crate::store::{
    Attrs, BY_CUSTOMER, BY_DAY, Cond, Items, Key, Query, Read, StoreError, Value, Write,
};
use oms_domain::catalog::Product;
use oms_domain::ids::CustomerId;
use oms_domain::ids::{LocationId, OrderId, Sku};
use oms_domain::intake::{Claim, ClaimKind};
use oms_domain::inventory::{
    Adjustment, Allocation, Counters, Location, MAX_SHARDS, ShardFree, StockMove, StockView,
};
use oms_domain::kpi::KpiDelta;
use oms_domain::order::{Document, Order, OrderStatus};
use oms_domain::routing::Availability;
use oms_domain::search::Position;
use oms_domain::time::Timestamp;
use oms_domain::validation::StockLevels;
use std::collections::BTreeMap;
use std::sync::Arc;

const STOCK_SK: &str = "STOCK";
const LOCATIONS_PK: &str = "LOCATION";
const PRODUCTS_PK: &str = "PRODUCT";
const PROMOTIONS_PK: &str = "PROMOTION";
const PRICING_PK: &str = "CONFIG";
/// Shard 0's count of shards, when the sku is split.
const SHARDS_ATTR: &str = "shards";
/// Shard 0's version, bumped by every absolute change (a stock level set,
/// a new split): two of them never both apply to the same reading.
const VERSION_ATTR: &str = "v";

fn order_key(id: &OrderId) -> Key {
    Key::new(format!("ORDER#{id}"), "ORDER")
}
fn claim_key(kind: &ClaimKind) -> Key {
    let scope = match kind {
        ClaimKind::IdempotencyKey(key) => format!("key#{}", key.as_str()),
        ClaimKind::ExternalId {
            channel,
            external_id,
        } => format!("ext#{channel}#{external_id}"),
    };
    Key::new(format!("CLAIM#{scope}"), "CLAIM")
}
/// The item of shard `shard` of a sku's stock.
fn stock_key(sku: &Sku, shard: u16) -> Key {
    match shard {
        0 => Key::new(format!("SKU#{sku}"), STOCK_SK),
        i => Key::new(format!("SKU#{sku}#{i}"), STOCK_SK),
    }
}
fn available_attr(loc: &LocationId) -> String {
    format!("a#{loc}")
}
fn reserved_attr(loc: &LocationId) -> String {
    format!("r#{loc}")
}

fn s(v: impl Into<String>) -> Value {
    Value::S(v.into())
}
fn n(v: u64) -> Value {
    Value::N(i64::try_from(v).unwrap_or(i64::MAX))
}
fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("stored {what} is unreadable"))
}
fn doc<T: serde::de::DeserializeOwned>(attrs: &Attrs, what: &str) -> Result<T, StoreError> {
    let v = attrs.get("doc").ok_or_else(|| corrupt(what))?;
    crate::outbox::unpack(v, what)
}
fn to_doc<T: serde::Serialize>(v: &T) -> Value {
    crate::outbox::pack(v)
}

/// Stores `value` as the whole item at `key` (replacing it); whether the
/// item is new. For configuration-like items (locations, products, rules):
/// last write wins.
async fn put_doc<T: serde::Serialize>(
    items: &dyn Items,
    key: Key,
    value: &T,
) -> Result<bool, StoreError> {
    let existed = items.get(&key, Read::Strong).await?.is_some();
    let mut attrs = Attrs::new();
    attrs.insert("doc".into(), to_doc(value));
    items
        .write(vec![Write::Put {
            key,
            attrs,
            when: vec![],
        }])
        .await?;
    Ok(!existed)
}

/// Every item of a partition, read as `what`.
async fn docs<T: serde::de::DeserializeOwned>(
    items: &dyn Items,
    pk: &str,
    what: &str,
) -> Result<Vec<T>, StoreError> {
    items
        .query(&Query::partition(pk))
        .await?
        .iter()
        .map(|(_, a)| doc(a, what))
        .collect()
}
/// One shard of a sku's stock: (available, reserved) per location.
type Shard = BTreeMap<LocationId, (u64, u64)>;

fn shard_of(attrs: &Attrs) -> Shard {
    let mut out = Shard::new();
    for (name, v) in attrs {
        let units = v.as_n().unwrap_or(0).max(0) as u64;
        let (slot, loc) = match name.split_once('#') {
            Some(("a", loc)) => (0, loc),
            Some(("r", loc)) => (1, loc),
            _ => continue,
        };
        if let Ok(loc) = LocationId::parse(loc) {
            let e = out.entry(loc).or_default();
            if slot == 0 {
                e.0 = units;
            } else {
                e.1 = units;
            }
        }
    }
    out
}

/// A sku's stock as read: every shard, and shard 0's version.
struct SkuStock {
    shards: Vec<Shard>,
    /// Shard 0's raw `v`, if it has one.
    version: Option<Value>,
    /// Per location: the safety stock setting (`S#{loc}`) and the units
    /// held for it (`s#{loc}`), on shard 0.
    safety: BTreeMap<LocationId, (u64, u64)>,
    /// The sku's network safety stock (`ns`, on shard 0).
    network_safety: u64,
    /// Incoming supply per location (shard 0).
    supply: BTreeMap<LocationId, SupplyAttrs>,
}

/// Shard 0's network safety stock attribute.
const NETWORK_SAFETY_ATTR: &str = "ns";

fn setting_attr(loc: &LocationId) -> String {
    format!("S#{loc}")
}
fn held_attr(loc: &LocationId) -> String {
    format!("s#{loc}")
}

fn incoming_attr(loc: &LocationId) -> String {
    format!("i#{loc}")
}
fn free_incoming_attr(loc: &LocationId) -> String {
    format!("f#{loc}")
}
fn backorder_held_attr(loc: &LocationId) -> String {
    format!("h#{loc}")
}
fn backorder_attr(loc: &LocationId) -> String {
    format!("B#{loc}")
}
fn preorder_attr(loc: &LocationId) -> String {
    format!("P#{loc}")
}
fn expected_attr(loc: &LocationId) -> String {
    format!("e#{loc}")
}
fn reorder_attr(loc: &LocationId) -> String {
    format!("R#{loc}")
}
fn lead_time_attr(loc: &LocationId) -> String {
    format!("L#{loc}")
}
fn backorder_queue_key(
    sku: &Sku,
    loc: &LocationId,
    entry: &oms_domain::inventory::BackorderEntry,
) -> Key {
    Key::new(
        format!("BO#{sku}#{loc}"),
        format!("{:013}#{}", entry.placed_at.millis(), entry.order_id),
    )
}

/// A backorder queue entry that is done with (filled, or its order ended):
/// marked, and forgotten by the table's TTL a month after its placement.
fn queue_entry_done(
    sku: &Sku,
    loc: &LocationId,
    entry: &oms_domain::inventory::BackorderEntry,
) -> Write {
    let forget = entry.placed_at.millis() / 1000 + 30 * 86_400;
    Write::Update {
        key: backorder_queue_key(sku, loc, entry),
        set: vec![("done".into(), n(1)), ("expiresAt".into(), n(forget))],
        add: vec![],
        when: vec![],
    }
}

/// Incoming supply at one location, from shard 0: expected units
/// (`i#`), those no backorder claimed (`f#`), received units held for
/// backorders (`h#`), the settings (`B#` backorders taken, `P#` preorders
/// until) and the latest expected date announced (`e#`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SupplyAttrs {
    pub incoming: u64,
    pub free: u64,
    pub held: u64,
    pub backorder: bool,
    pub preorder_until: Option<u64>,
    pub expected_at: Option<u64>,
    /// The reorder point set (`R#`, stored + 1 so 0 can be set).
    pub reorder_point: Option<u64>,
    pub lead_time_days: Option<u64>,
}

fn supply_of(first: &Attrs) -> BTreeMap<LocationId, SupplyAttrs> {
    let mut out: BTreeMap<LocationId, SupplyAttrs> = BTreeMap::new();
    for (name, v) in first {
        let Some((kind, loc)) = name.split_once('#') else {
            continue;
        };
        if !matches!(kind, "i" | "f" | "h" | "B" | "P" | "e" | "R" | "L") {
            continue;
        }
        let Ok(loc) = LocationId::parse(loc) else {
            continue;
        };
        let units = v.as_n().unwrap_or(0).max(0) as u64;
        let e = out.entry(loc).or_default();
        match kind {
            "i" => e.incoming = units,
            "f" => e.free = units,
            "h" => e.held = units,
            "B" => e.backorder = units > 0,
            "P" => e.preorder_until = (units > 0).then_some(units),
            "R" => e.reorder_point = units.checked_sub(1),
            "L" => e.lead_time_days = (units > 0).then_some(units),
            _ => e.expected_at = (units > 0).then_some(units),
        }
    }
    out
}

fn incoming_view(
    sku: &Sku,
    supply: &BTreeMap<LocationId, SupplyAttrs>,
) -> BTreeMap<(Sku, LocationId), oms_domain::inventory::Incoming> {
    supply
        .iter()
        .map(|(loc, a)| {
            (
                (sku.clone(), loc.clone()),
                oms_domain::inventory::Incoming {
                    free: a.free,
                    expected_at: a.expected_at.map(Timestamp::from_millis),
                    backorder: a.backorder,
                    preorder_until: a.preorder_until.map(Timestamp::from_millis),
                    reorder_point: a.reorder_point,
                },
            )
        })
        .collect()
}

/// Safety stock settings and held units per location, from shard 0.
fn safety_of(first: &Attrs) -> BTreeMap<LocationId, (u64, u64)> {
    let mut out: BTreeMap<LocationId, (u64, u64)> = BTreeMap::new();
    for (name, v) in first {
        let units = v.as_n().unwrap_or(0).max(0) as u64;
        let (held, loc) = match name.split_once('#') {
            Some(("S", loc)) => (false, loc),
            Some(("s", loc)) => (true, loc),
            _ => continue,
        };
        if let Ok(loc) = LocationId::parse(loc) {
            let e = out.entry(loc).or_default();
            if held {
                e.1 = units;
            } else {
                e.0 = units;
            }
        }
    }
    out
}

fn network_safety_of(first: &Attrs) -> u64 {
    first
        .get(NETWORK_SAFETY_ATTR)
        .and_then(Value::as_n)
        .unwrap_or(0)
        .max(0) as u64
}

impl SkuStock {
    /// Units held back as safety stock at a location.
    fn held(&self, loc: &LocationId) -> u64 {
        self.safety.get(loc).map_or(0, |(_, held)| *held)
    }
    fn setting(&self, loc: &LocationId) -> u64 {
        self.safety.get(loc).map_or(0, |(setting, _)| *setting)
    }
    /// Units on hand at a location: free, reserved and held back.
    fn on_hand(&self, loc: &LocationId) -> u64 {
        self.at(loc).iter().map(|(a, r)| a + r).sum::<u64>()
            + self.held(loc)
            + self.backorder_held(loc)
    }
    /// Received units held for the backorders waiting there.
    fn backorder_held(&self, loc: &LocationId) -> u64 {
        self.supply.get(loc).map_or(0, |s| s.held)
    }

    /// Per location: (available, reserved) summed over the shards.
    fn totals(&self) -> BTreeMap<LocationId, (u64, u64)> {
        let mut out: BTreeMap<LocationId, (u64, u64)> = BTreeMap::new();
        for shard in &self.shards {
            for (loc, (a, r)) in shard {
                let e = out.entry(loc.clone()).or_default();
                e.0 += a;
                e.1 += r;
            }
        }
        out
    }

    fn at(&self, loc: &LocationId) -> Vec<(u64, u64)> {
        self.shards
            .iter()
            .map(|s| s.get(loc).copied().unwrap_or_default())
            .collect()
    }

    /// The condition that shard 0 is as read (no absolute change since).
    fn unchanged(&self) -> Cond {
        match &self.version {
            Some(v) => Cond::Eq(VERSION_ATTR.into(), v.clone()),
            None => Cond::Absent(VERSION_ATTR.into()),
        }
    }

    fn next_version(&self) -> Value {
        Value::N(self.version.as_ref().and_then(Value::as_n).unwrap_or(0) + 1)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New,
    /// A condition of the extra (stock) writes failed: nothing was written.
    StockShort,
    /// A claim was already taken by this order.
    Existing {
        order_id: OrderId,
        same_request: bool,
        /// The claim that was taken.
        kind: ClaimKind,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// Someone saved the order since it was read: reload and decide again.
    #[error("order changed since it was read")]
    Stale,
    /// The condition of extra write `index` failed (e.g. stock too low).
    #[error("condition of write {0} failed")]
    Condition(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct OrderRepo {
    items: Arc<dyn Items>,
}

fn balance_key(account: &str) -> Key {
    Key::new(format!("ACCOUNT#{account}"), "BALANCE")
}

/// The addition a change makes to its account's open balance, if any
/// (see `oms_domain::accounts`).
pub fn balance_addition(before: Option<&Order>, after: &Order) -> Option<crate::kpi::Addition> {
    let (account, currency, delta) = oms_domain::accounts::balance_delta(before, after)?;
    let key = balance_key(&account);
    Some(crate::kpi::Addition {
        pk: key.pk,
        sk: key.sk,
        add: vec![(format!("open#{currency}"), delta)],
    })
}

fn document_key(series: &str, sequence: u64) -> Key {
    Key::new(format!("DOCS#{series}"), format!("{sequence:012}"))
}

fn risk_rules_key() -> Key {
    Key::new("CONFIG", "RISK_RULES")
}

/// The due index's partition of pickups waiting at their stores.
pub const PICKUP_PARTITION: &str = "PICKUP";
/// The due index's partition of promised deliveries.
pub const PROMISE_PARTITION: &str = "PROMISE";

fn routing_rules_key() -> Key {
    Key::new("CONFIG", "ROUTING_RULES")
}

impl OrderRepo {
    /// The last number taken in a document series (0: none yet): a
    /// series is a partition of its documents, by sequence.
    pub async fn last_number(&self, series: &str) -> Result<u64, StoreError> {
        let mut q = Query::partition(format!("DOCS#{series}"));
        q.descending = true;
        q.limit = Some(1);
        let last = self.items.query(&q).await?;
        Ok(last
            .first()
            .and_then(|(sk, _)| sk.parse().ok())
            .unwrap_or(0))
    }

    /// The writes that store numbered documents, each on the condition
    /// that its number is free: committed with the order's change, they
    /// fail together if another change took one of the numbers in between
    /// (numbers follow the last one read, so none is ever skipped).
    pub fn document_writes(documents: &[Document]) -> Vec<Write> {
        documents
            .iter()
            .map(|d| {
                let mut attrs = Attrs::new();
                attrs.insert("doc".into(), to_doc(d));
                attrs.insert("orderId".into(), Value::S(d.order_id.to_string()));
                Write::Put {
                    key: document_key(&d.series, d.sequence),
                    attrs,
                    when: vec![Cond::NotExists],
                }
            })
            .collect()
    }

    /// An invoice or credit note by number (`{series}-{sequence}`).
    pub async fn document(&self, number: &str) -> Result<Option<Document>, StoreError> {
        let Some((series, sequence)) = number
            .rsplit_once('-')
            .and_then(|(s, n)| Some((s, n.parse::<u64>().ok()?)))
        else {
            return Ok(None);
        };
        match self
            .items
            .get(&document_key(series, sequence), Read::Eventual)
            .await?
        {
            Some(attrs) => {
                let d: Document = doc(&attrs, "document")?;
                Ok((d.number == number).then_some(d))
            }
            None => Ok(None),
        }
    }

    /// The fraud rules as last set (`None`: never set, the defaults apply).
    pub async fn risk_rules(&self) -> Result<Option<oms_domain::risk::RiskRules>, StoreError> {
        match self.items.get(&risk_rules_key(), Read::Eventual).await? {
            Some(attrs) => Ok(Some(doc(&attrs, "risk rules")?)),
            None => Ok(None),
        }
    }

    /// How routing chooses, if set (`PUT /routing-rules`).
    pub async fn routing_rules(
        &self,
    ) -> Result<Option<oms_domain::routing::RoutingRules>, StoreError> {
        match self.items.get(&routing_rules_key(), Read::Eventual).await? {
            Some(attrs) => Ok(Some(doc(&attrs, "routing rules")?)),
            None => Ok(None),
        }
    }

    pub async fn put_routing_rules(
        &self,
        rules: &oms_domain::routing::RoutingRules,
    ) -> Result<(), StoreError> {
        put_doc(&*self.items, routing_rules_key(), rules)
            .await
            .map(|_| ())
    }

    pub async fn put_risk_rules(
        &self,
        rules: &oms_domain::risk::RiskRules,
    ) -> Result<(), StoreError> {
        put_doc(&*self.items, risk_rules_key(), rules)
            .await
            .map(|_| ())
    }

    /// Records that a channel's submission was refused, with the refusal
    /// as its outbox (the relay publishes it). A later refusal of the same
    /// submission replaces it.
    pub async fn record_refusal(
        &self,
        channel: &oms_domain::ids::Channel,
        external_id: &oms_domain::ids::ExternalId,
        refusal: oms_domain::events::DomainEvent,
    ) -> Result<(), StoreError> {
        let mut attrs = Attrs::new();
        attrs.insert(
            crate::outbox::ATTR.into(),
            crate::outbox::pack(&vec![refusal]),
        );
        self.items
            .write(vec![Write::Put {
                key: Key::new(format!("SUBMISSION#{channel}#{external_id}"), "REFUSED"),
                attrs,
                when: vec![],
            }])
            .await
    }
}

/// The orders of a day are spread over this many index partitions, so a
/// busy day does not load one partition of the index.
pub const DAY_SHARDS: u16 = 4;

fn day_shard(id: &OrderId) -> u16 {
    // FNV-1a: stable across processes and versions.
    let h = id.as_str().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (h % u64::from(DAY_SHARDS)) as u16
}

fn day_partition(at: Timestamp, shard: u16) -> String {
    let day = at.to_rfc3339();
    format!("D#{}#{shard}", &day[..10.min(day.len())])
}

/// Which orders a listing reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// A customer's orders.
    Customer(CustomerId),
    /// The orders placed on the day of this time (UTC).
    Day(Timestamp),
}

impl OrderRepo {
    pub fn new(items: Arc<dyn Items>) -> Self {
        Self { items }
    }

    /// Up to `limit` orders of a listing placed between `from` and `to`
    /// (positions, inclusive), newest first: their positions and ids, as
    /// the index has them (a moment behind the orders).
    pub async fn list(
        &self,
        listing: &Listing,
        from: &Position,
        to: &Position,
        limit: usize,
    ) -> Result<Vec<(Position, OrderId)>, StoreError> {
        let (index, partitions) = match listing {
            Listing::Customer(c) => (BY_CUSTOMER, vec![format!("C#{c}")]),
            Listing::Day(t) => (
                BY_DAY,
                (0..DAY_SHARDS).map(|i| day_partition(*t, i)).collect(),
            ),
        };
        let mut found = Vec::new();
        for pk in partitions {
            let query = Query {
                index: Some(index),
                pk,
                from: Some(from.as_str().to_owned()),
                to: Some(to.as_str().to_owned()),
                descending: true,
                limit: Some(limit),
            };
            for l in crate::store::listed(self.items.query(&query).await?) {
                let id = l
                    .key
                    .pk
                    .strip_prefix("ORDER#")
                    .and_then(|id| OrderId::parse(id).ok());
                if let (Some(p), Some(id)) = (Position::parse(&l.sk), id) {
                    found.push((p, id));
                }
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0));
        found.truncate(limit);
        Ok(found)
    }

    /// The order as last committed.
    pub async fn get(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        self.read(id, Read::Strong).await
    }

    /// The order, read as fresh as `read` says: an eventual read may be an
    /// older version (or none, for an order just placed) — for decisions
    /// saved under the version read, which then fail and are read again.
    pub async fn read(&self, id: &OrderId, read: Read) -> Result<Option<Order>, StoreError> {
        let Some(attrs) = self.items.get(&order_key(id), read).await? else {
            return Ok(None);
        };
        let mut order: Order = doc(&attrs, "order")?;
        order.outbox = crate::outbox::events_of(&attrs)?;
        Ok(Some(order))
    }

    fn put(
        order: &Order,
        kpi: Option<&KpiDelta>,
        adds: Vec<crate::kpi::Addition>,
        when: Vec<Cond>,
    ) -> Write {
        let mut attrs = Attrs::new();
        attrs.insert("doc".into(), crate::outbox::pack(order));
        let derived = crate::kpi::Derived {
            kpi: kpi.cloned(),
            adds,
        };
        if !derived.is_empty() {
            attrs.insert(crate::kpi::ATTR.into(), crate::outbox::pack(&derived));
        }
        if !order.outbox.is_empty() {
            attrs.insert(
                crate::outbox::ATTR.into(),
                crate::outbox::pack(&order.outbox),
            );
        }
        attrs.insert("version".into(), n(order.version));
        attrs.insert("status".into(), s(order.status.as_str()));
        // Search keys: fixed at placement, so no later change writes an index.
        let at = Position::of(order);
        attrs.insert(BY_CUSTOMER.pk.into(), s(format!("C#{}", order.customer.id)));
        attrs.insert(BY_CUSTOMER.sk.into(), s(at.as_str()));
        attrs.insert(
            BY_DAY.pk.into(),
            s(day_partition(order.created_at, day_shard(&order.order_id))),
        );
        attrs.insert(BY_DAY.sk.into(), s(at.as_str()));
        // Waiting at a store: found by the sweep once its hold runs out; a
        // promised delivery: at its next mark.
        let due = match (order.status, order.ready_for_pickup_at) {
            (OrderStatus::ReadyForPickup, Some(ready)) => Some((PICKUP_PARTITION, ready)),
            _ => oms_domain::search::Sla::next_promise_mark(order).map(|t| (PROMISE_PARTITION, t)),
        };
        if let Some((partition, at)) = due {
            attrs.insert(crate::store::BY_DUE.pk.into(), s(partition));
            attrs.insert(
                crate::store::BY_DUE.sk.into(),
                s(format!("{:013}#{}", at.millis(), order.order_id)),
            );
        }
        Write::Put {
            key: order_key(&order.order_id),
            attrs,
            when,
        }
    }

    /// Stores a new order together with its claims and `extra` writes (the
    /// stock moves of a reservation made on placement), atomically: either
    /// all are written, or a claim was taken or a stock condition failed and
    /// nothing is.
    pub async fn create(
        &self,
        order: &mut Order,
        claims: &[Claim],
        extra: Vec<Write>,
        kpi: Option<&KpiDelta>,
    ) -> Result<Created, StoreError> {
        order.version = 1;
        let adds = balance_addition(None, order).into_iter().collect();
        let mut writes = vec![Self::put(order, kpi, adds, vec![Cond::NotExists])];
        for c in claims {
            let mut attrs = Attrs::new();
            attrs.insert("orderId".into(), s(order.order_id.as_str()));
            attrs.insert("fingerprint".into(), s(&c.fingerprint));
            if let Some(t) = c.expires_at {
                attrs.insert("expiresAt".into(), n(t));
            }
            writes.push(Write::Put {
                key: claim_key(&c.kind),
                attrs,
                when: vec![Cond::NotExists],
            });
        }
        writes.extend(extra);
        match self.items.write(writes).await {
            Ok(()) => Ok(Created::New),
            Err(StoreError::ConditionFailed { index }) if index > claims.len() => {
                Ok(Created::StockShort)
            }
            // The order itself exists (its id derived from its claim, as a
            // submission's is) or a claim is taken: the claim tells which.
            Err(StoreError::ConditionFailed { index }) if !claims.is_empty() => {
                let claim = &claims[index.max(1) - 1];
                let taken = self
                    .items
                    .get(&claim_key(&claim.kind), Read::Strong)
                    .await?
                    .ok_or_else(|| StoreError::Unavailable("claim vanished; retry".into()))?;
                let order_id = taken
                    .get("orderId")
                    .and_then(Value::as_s)
                    .and_then(|s| OrderId::parse(s).ok())
                    .ok_or_else(|| corrupt("claim"))?;
                let same_request =
                    taken.get("fingerprint").and_then(Value::as_s) == Some(&claim.fingerprint);
                Ok(Created::Existing {
                    order_id,
                    same_request,
                    kind: claim.kind.clone(),
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Saves a changed order if nobody else did since it was read, together
    /// with `extra` writes (stock moves) in the same atomic commit.
    /// Saves a changed order under the version it was read at, with
    /// `extra` writes in the same commit and `adds` made after it (see
    /// [`crate::kpi`]).
    pub async fn save(
        &self,
        order: &mut Order,
        extra: Vec<Write>,
        kpi: Option<&KpiDelta>,
        adds: Vec<crate::kpi::Addition>,
    ) -> Result<(), SaveError> {
        let read_version = order.version;
        order.version += 1;
        let mut writes = vec![Self::put(
            order,
            kpi,
            adds,
            vec![Cond::Eq("version".into(), n(read_version))],
        )];
        writes.extend(extra);
        let result = self.items.write(writes).await;
        if result.is_err() {
            order.version = read_version;
        }
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed { index: 0 }) => Err(SaveError::Stale),
            Err(StoreError::ConditionFailed { index }) => Err(SaveError::Condition(index - 1)),
            Err(e) => Err(SaveError::Store(e)),
        }
    }
}

/// The stock as one order sees it first ([`InventoryRepo::availability_seen_by`]).
pub struct SeenBy {
    pub stock: Availability,
    /// Some sku was seen in part (one of its shards): a decision that
    /// finds too little must be made again over the whole stock.
    pub partial: bool,
    /// The shard counts of the split skus seen.
    pub split: Vec<(Sku, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("location {0} is not registered")]
    UnknownLocation(LocationId),
    #[error("{reserved} units are reserved for orders; onHand cannot go below that")]
    BelowReserved { reserved: u64 },
    /// Shards are only ever added: orders hold units in each.
    #[error(
        "the stock is split in {current} shards; it can be split further (up to {MAX_SHARDS}), not merged"
    )]
    ShardsOutOfRange { current: u16 },
    /// The reference names other supply (another quantity or date).
    #[error("reference {0} was used for other supply")]
    ReferenceTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a receipt did: units received, of them held for backorders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    pub quantity: u64,
    pub for_backorders: u64,
    /// The reference was received before: nothing moved this time.
    pub replayed: bool,
}

fn eq_or_absent(name: String, v: Option<&Value>) -> Cond {
    match v {
        Some(v) => Cond::Eq(name, v.clone()),
        None => Cond::Absent(name),
    }
}

#[derive(Clone)]
pub struct InventoryRepo {
    items: Arc<dyn Items>,
}

impl InventoryRepo {
    pub fn new(items: Arc<dyn Items>) -> Self {
        Self { items }
    }

    /// Creates or replaces a location; `true` when it is new.
    pub async fn put_location(&self, loc: &Location) -> Result<bool, StoreError> {
        let key = Key::new(LOCATIONS_PK, loc.location_id.as_str());
        put_doc(&*self.items, key, loc).await
    }

    /// Stores a product (replacing it); whether it is new.
    pub async fn put_product(&self, product: &Product) -> Result<bool, StoreError> {
        let key = Key::new(PRODUCTS_PK, product.sku.as_str());
        put_doc(&*self.items, key, product).await
    }

    /// The products of these skus that exist, as fresh as `read` says.
    pub async fn products_of(
        &self,
        skus: &[Sku],
        read: Read,
    ) -> Result<BTreeMap<Sku, Product>, StoreError> {
        let mut out = BTreeMap::new();
        for sku in skus {
            if let Some(attrs) = self
                .items
                .get(&Key::new(PRODUCTS_PK, sku.as_str()), read)
                .await?
            {
                out.insert(sku.clone(), doc(&attrs, "product")?);
            }
        }
        Ok(out)
    }

    /// Creates or replaces a promotion; whether it is new.
    pub async fn put_promotion(
        &self,
        promotion: &oms_domain::pricing::Promotion,
    ) -> Result<bool, StoreError> {
        let key = Key::new(PROMOTIONS_PK, &promotion.promotion_id);
        put_doc(&*self.items, key, promotion).await
    }

    pub async fn put_account(
        &self,
        account: &oms_domain::accounts::Account,
    ) -> Result<bool, StoreError> {
        let key = Key::new("ACCOUNT", &account.account_id);
        put_doc(&*self.items, key, account).await
    }

    pub async fn account(
        &self,
        id: &str,
    ) -> Result<Option<oms_domain::accounts::Account>, StoreError> {
        self.doc_at(Key::new("ACCOUNT", id), "account").await
    }

    pub async fn put_price_list(
        &self,
        list: &oms_domain::accounts::PriceList,
    ) -> Result<bool, StoreError> {
        let key = Key::new("PRICELIST", &list.price_list_id);
        put_doc(&*self.items, key, list).await
    }

    pub async fn price_list(
        &self,
        id: &str,
    ) -> Result<Option<oms_domain::accounts::PriceList>, StoreError> {
        self.doc_at(Key::new("PRICELIST", id), "price list").await
    }

    /// An account's open balance per currency (what its on-account orders
    /// charged and it has not paid), as the additions so far made it.
    pub async fn open_balance(&self, id: &str) -> Result<BTreeMap<String, i64>, StoreError> {
        let attrs = self
            .items
            .get(&balance_key(id), Read::Eventual)
            .await?
            .unwrap_or_default();
        Ok(attrs
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("open#")?.to_owned(), v.as_n()?)))
            .collect())
    }

    async fn doc_at<T: serde::de::DeserializeOwned>(
        &self,
        key: Key,
        what: &str,
    ) -> Result<Option<T>, StoreError> {
        match self.items.get(&key, Read::Eventual).await? {
            Some(attrs) => Ok(Some(doc(&attrs, what)?)),
            None => Ok(None),
        }
    }

    /// Every promotion, by id.
    pub async fn promotions(&self) -> Result<Vec<oms_domain::pricing::Promotion>, StoreError> {
        docs(&*self.items, PROMOTIONS_PK, "promotion").await
    }

    /// The shipping table (empty until set: shipping is not charged).
    pub async fn shipping_rates(&self) -> Result<oms_domain::pricing::ShippingRates, StoreError> {
        self.config_doc("SHIPPING_RATES", "shipping rates").await
    }

    pub async fn put_shipping_rates(
        &self,
        rates: &oms_domain::pricing::ShippingRates,
    ) -> Result<(), StoreError> {
        put_doc(&*self.items, Key::new(PRICING_PK, "SHIPPING_RATES"), rates)
            .await
            .map(|_| ())
    }

    /// The tax table (empty until set: no tax).
    pub async fn tax_rules(&self) -> Result<oms_domain::pricing::TaxRules, StoreError> {
        self.config_doc("TAX_RULES", "tax rules").await
    }

    pub async fn put_tax_rules(
        &self,
        rules: &oms_domain::pricing::TaxRules,
    ) -> Result<(), StoreError> {
        put_doc(&*self.items, Key::new(PRICING_PK, "TAX_RULES"), rules)
            .await
            .map(|_| ())
    }

    async fn config_doc<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<T, StoreError> {
        match self
            .items
            .get(&Key::new(PRICING_PK, name), Read::Eventual)
            .await?
        {
            Some(attrs) => doc(&attrs, what),
            None => Ok(T::default()),
        }
    }

    /// Every product, by sku.
    pub async fn products(&self) -> Result<Vec<Product>, StoreError> {
        docs(&*self.items, PRODUCTS_PK, "product").await
    }

    pub async fn locations(&self) -> Result<Vec<Location>, StoreError> {
        docs(&*self.items, LOCATIONS_PK, "location").await
    }

    pub async fn location(&self, id: &LocationId) -> Result<Option<Location>, StoreError> {
        match self
            .items
            .get(&Key::new(LOCATIONS_PK, id.as_str()), Read::Strong)
            .await?
        {
            Some(a) => Ok(Some(doc(&a, "location")?)),
            None => Ok(None),
        }
    }

    /// Shard 0 of a sku's stock, and how many shards it says there are.
    async fn first_shard(&self, sku: &Sku) -> Result<(u16, Attrs), StoreError> {
        self.first_shard_read(sku, Read::Strong).await
    }

    async fn first_shard_read(&self, sku: &Sku, read: Read) -> Result<(u16, Attrs), StoreError> {
        let first = self
            .items
            .get(&stock_key(sku, 0), read)
            .await?
            .unwrap_or_default();
        let count = first
            .get(SHARDS_ATTR)
            .and_then(Value::as_n)
            .unwrap_or(1)
            .clamp(1, i64::from(MAX_SHARDS)) as u16;
        Ok((count, first))
    }

    /// Every shard of a sku's stock (shard 0 says how many there are).
    async fn stock(&self, sku: &Sku) -> Result<SkuStock, StoreError> {
        let (count, first) = self.first_shard(sku).await?;
        let version = first.get(VERSION_ATTR).cloned();
        let mut shards = vec![shard_of(&first)];
        for i in 1..count {
            let attrs = self
                .items
                .get(&stock_key(sku, i), Read::Strong)
                .await?
                .unwrap_or_default();
            shards.push(shard_of(&attrs));
        }
        Ok(SkuStock {
            shards,
            version,
            safety: safety_of(&first),
            network_safety: network_safety_of(&first),
            supply: supply_of(&first),
        })
    }

    /// A sku's stock at every location, and for the network (the sums).
    pub async fn levels(&self, sku: &Sku) -> Result<StockView, StoreError> {
        let stock = self.stock(sku).await?;
        let mut totals = stock.totals();
        for loc in stock.safety.keys().chain(stock.supply.keys()) {
            totals.entry(loc.clone()).or_default();
        }
        let locations: Vec<(LocationId, Counters)> = totals
            .into_iter()
            .map(|(loc, (a, r))| {
                let held = stock.held(&loc);
                // Received for backorders: on hand, and theirs.
                let promised = stock.backorder_held(&loc);
                let c = Counters {
                    on_hand: a + r + held + promised,
                    reserved: r + promised,
                    safety: held,
                };
                (loc, c)
            })
            .collect();
        let network = Counters {
            on_hand: locations.iter().map(|(_, c)| c.on_hand).sum(),
            reserved: locations.iter().map(|(_, c)| c.reserved).sum(),
            safety: locations.iter().map(|(_, c)| c.safety).sum(),
        };
        let settings: BTreeMap<LocationId, u64> = stock
            .safety
            .iter()
            .map(|(loc, (setting, _))| (loc.clone(), *setting))
            .collect();
        let mut view = StockView {
            shards: stock.shards.len() as u16,
            ..StockView::new(sku.clone(), network, locations)
                .with_safety(&settings, stock.network_safety)
        };
        for l in &mut view.locations {
            if let Some(a) = stock.supply.get(&l.location_id) {
                l.incoming = a.incoming;
                l.backordered = a.incoming.saturating_sub(a.free) + a.held;
                l.backorder = a.backorder;
                l.preorder_until = a.preorder_until.map(Timestamp::from_millis);
                l.expected_at = a.expected_at.map(Timestamp::from_millis);
                l.reorder_point = a.reorder_point;
                l.lead_time_days = a.lead_time_days;
            }
        }
        Ok(view)
    }

    /// What reservation decides over for `skus`: the active `locations`
    /// and what every shard of each sku has free at each.
    pub async fn availability(
        &self,
        skus: &[Sku],
        locations: &[Location],
    ) -> Result<Availability, StoreError> {
        let mut free = ShardFree::new();
        let mut network_safety = BTreeMap::new();
        let mut incoming = BTreeMap::new();
        for sku in skus {
            let stock = self.stock(sku).await?;
            for loc in stock.totals().into_keys() {
                let per_shard = stock.at(&loc).into_iter().map(|(a, _)| a).collect();
                free.insert((sku.clone(), loc), per_shard);
            }
            if stock.network_safety > 0 {
                network_safety.insert(sku.clone(), stock.network_safety);
            }
            incoming.extend(incoming_view(sku, &stock.supply));
        }
        Ok(Availability::new(locations, free)
            .with_network_safety(network_safety)
            .with_incoming(incoming))
    }

    /// What one order sees first of the stock of `skus`: of a sku split in
    /// shards, only the shard the order draws from first (its home shard),
    /// the others counted as empty — a view that may under-state what is
    /// free, never over-state it, at one read per sku however many shards
    /// it has, so that a hot sku's reads spread over its shards as its
    /// writes do. `known` gives shard counts already known; a sku not in it
    /// is read at shard 0, which tells its count (and is the whole stock of
    /// a sku in one shard). Read `Eventual`, the view may also be a moment
    /// behind: the conditional stock writes of the decision catch what it
    /// over-states, and the caller confirms a rejection over a strong read.
    pub async fn availability_seen_by(
        &self,
        order: &OrderId,
        skus: &[Sku],
        locations: &[Location],
        known: impl Fn(&Sku) -> Option<u16>,
        read: Read,
    ) -> Result<SeenBy, StoreError> {
        let mut free = ShardFree::new();
        let mut partial = false;
        let mut split = Vec::new();
        let mut network_safety = BTreeMap::new();
        let mut incoming = BTreeMap::new();
        for sku in skus {
            let (count, first) = match known(sku) {
                Some(count) if count > 1 => (count, None),
                _ => {
                    let (count, first) = self.first_shard_read(sku, read).await?;
                    (count, Some(first))
                }
            };
            // Shard 0 holds the network's safety stock (a split sku read at
            // another shard is decided without it).
            if let Some(n) = first.as_ref().map(network_safety_of).filter(|n| *n > 0) {
                network_safety.insert(sku.clone(), n);
            }
            if let Some(first) = &first {
                incoming.extend(incoming_view(sku, &supply_of(first)));
            }
            let home = oms_domain::inventory::home_shard(order, sku, usize::from(count));
            let attrs = match first {
                Some(first) if home == 0 => first,
                _ => self
                    .items
                    .get(&stock_key(sku, home as u16), read)
                    .await?
                    .unwrap_or_default(),
            };
            if count > 1 {
                partial = true;
                split.push((sku.clone(), count));
            }
            for (loc, (available, _)) in shard_of(&attrs) {
                let mut per_shard = vec![0; usize::from(count)];
                per_shard[home] = available;
                free.insert((sku.clone(), loc), per_shard);
            }
        }
        Ok(SeenBy {
            stock: Availability::new(locations, free)
                .with_network_safety(network_safety)
                .with_incoming(incoming),
            partial,
            split,
        })
    }

    /// Sets the units on hand of a sku at a location: what is available
    /// there moves by the difference, never below what orders hold
    /// (reserved). More stock is spread over the shards; less is taken from
    /// the fullest. Two sets never both apply to the same reading.
    pub async fn set_on_hand(
        &self,
        sku: &Sku,
        loc: &LocationId,
        levels: StockLevels,
    ) -> Result<StockView, StockError> {
        if self.location(loc).await?.is_none() {
            return Err(StockError::UnknownLocation(loc.clone()));
        }
        for _ in 0..16 {
            let stock = self.stock(sku).await?;
            let on_hand = levels.on_hand.unwrap_or_else(|| stock.on_hand(loc));
            let writes = Self::set_writes(&stock, sku, loc, on_hand, levels.safety_stock)?;
            match self.items.write(writes).await {
                Ok(()) => return Ok(self.levels(sku).await?),
                // Orders took units, or another set landed: read again.
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("stock keeps changing; retry".into()).into())
    }

    /// Adds `delta` units to (or takes them off) what is on hand at a
    /// location, never below what orders hold there, and records the
    /// adjustment — in one commit. With a `key`, the same request twice
    /// adjusts once and answers with the first adjustment.
    pub async fn adjust(
        &self,
        mut adjustment: Adjustment,
        key: Option<&str>,
    ) -> Result<Adjustment, StockError> {
        let (sku, loc) = (adjustment.sku.clone(), adjustment.location_id.clone());
        if self.location(&loc).await?.is_none() {
            return Err(StockError::UnknownLocation(loc));
        }
        let log_pk = format!("ADJ#{sku}#{loc}");
        let claim = key.map(|k| Key::new(format!("CLAIM#adj#{sku}#{loc}#{k}"), "CLAIM"));
        if let Some(claim) = &claim
            && let Some(first) = self.items.get(claim, Read::Strong).await?
        {
            return self.recorded(&log_pk, &first).await;
        }
        for _ in 0..16 {
            let stock = self.stock(&sku).await?;
            let on_hand = stock.on_hand(&loc);
            let target = i64::try_from(on_hand).unwrap_or(i64::MAX) + adjustment.delta;
            let reserved: u64 = stock.at(&loc).iter().map(|(_, r)| r).sum();
            let target = u64::try_from(target)
                .ok()
                .filter(|t| *t >= reserved)
                .ok_or(StockError::BelowReserved { reserved })?;
            adjustment.on_hand_after = target;
            let mut writes = Self::set_writes(&stock, &sku, &loc, target, None)?;
            let log_sk = format!(
                "{:013}#{}",
                adjustment.at.millis(),
                adjustment.adjustment_id
            );
            let mut attrs = Attrs::new();
            attrs.insert("doc".into(), to_doc(&adjustment));
            writes.push(Write::Put {
                key: Key::new(log_pk.clone(), log_sk.clone()),
                attrs,
                when: vec![Cond::NotExists],
            });
            if let Some(claim) = &claim {
                let mut attrs = Attrs::new();
                attrs.insert("log".into(), s(log_sk));
                writes.push(Write::Put {
                    key: claim.clone(),
                    attrs,
                    when: vec![Cond::NotExists],
                });
            }
            let claim_index = writes.len() - 1;
            match (self.items.write(writes).await, &claim) {
                (Ok(()), _) => return Ok(adjustment),
                // The same request landed first: answer with it.
                (Err(StoreError::ConditionFailed { index }), Some(claim))
                    if index == claim_index =>
                {
                    let first = self
                        .items
                        .get(claim, Read::Strong)
                        .await?
                        .ok_or_else(|| corrupt("adjustment claim"))?;
                    return self.recorded(&log_pk, &first).await;
                }
                // Orders took units meanwhile: read again.
                (Err(StoreError::ConditionFailed { .. }), _) => continue,
                (Err(e), _) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("stock keeps changing; retry".into()).into())
    }

    /// The adjustment a claim points at.
    async fn recorded(&self, log_pk: &str, claim: &Attrs) -> Result<Adjustment, StockError> {
        let sk = claim
            .get("log")
            .and_then(Value::as_s)
            .ok_or_else(|| corrupt("adjustment claim"))?;
        let item = self
            .items
            .get(&Key::new(log_pk, sk), Read::Strong)
            .await?
            .ok_or_else(|| corrupt("adjustment"))?;
        Ok(doc(&item, "adjustment")?)
    }

    /// The latest adjustments of a sku at a location, newest first.
    pub async fn adjustments(
        &self,
        sku: &Sku,
        loc: &LocationId,
        limit: usize,
    ) -> Result<Vec<Adjustment>, StoreError> {
        let query = Query {
            descending: true,
            limit: Some(limit),
            ..Query::partition(format!("ADJ#{sku}#{loc}"))
        };
        self.items
            .query(&query)
            .await?
            .iter()
            .map(|(_, a)| doc(a, "adjustment"))
            .collect()
    }

    /// The writes that make `on_hand` units be at a location: its available
    /// units spread over the shards (more added evenly, fewer taken from
    /// the fullest first), on the condition that the stock did not change.
    fn set_writes(
        stock: &SkuStock,
        sku: &Sku,
        loc: &LocationId,
        on_hand: u64,
        safety: Option<u64>,
    ) -> Result<Vec<Write>, StockError> {
        {
            let at = stock.at(loc);
            // Units received for backorders count as theirs.
            let reserved: u64 = at.iter().map(|(_, r)| r).sum::<u64>() + stock.backorder_held(loc);
            let available: u64 = at.iter().map(|(a, _)| a).sum();
            if on_hand < reserved {
                return Err(StockError::BelowReserved { reserved });
            }
            let setting = safety.unwrap_or_else(|| stock.setting(loc));
            let held = oms_domain::inventory::safety_held(setting, on_hand, reserved);
            let target = on_hand - reserved - held;
            let mut deltas = vec![0i64; at.len()];
            if target >= available {
                let more = target - available;
                let k = at.len() as u64;
                for (i, d) in deltas.iter_mut().enumerate() {
                    *d = (more / k + u64::from((i as u64) < more % k)) as i64;
                }
            } else {
                let mut less = available - target;
                let mut fullest: Vec<usize> = (0..at.len()).collect();
                fullest.sort_by(|x, y| at[*y].0.cmp(&at[*x].0).then(x.cmp(y)));
                for i in fullest {
                    let take = at[i].0.min(less);
                    deltas[i] = -(take as i64);
                    less -= take;
                }
            }
            let mut set = vec![(VERSION_ATTR.into(), stock.next_version())];
            if setting > 0 || stock.safety.contains_key(loc) {
                set.push((setting_attr(loc), n(setting)));
                set.push((held_attr(loc), n(held)));
            }
            let mut writes = vec![Write::Update {
                key: stock_key(sku, 0),
                set,
                add: vec![(available_attr(loc), deltas[0]), (reserved_attr(loc), 0)],
                when: floor(stock.unchanged(), loc, deltas[0]),
            }];
            for (i, d) in deltas.iter().enumerate().skip(1).filter(|(_, d)| **d != 0) {
                writes.push(Write::Update {
                    key: stock_key(sku, i as u16),
                    set: vec![],
                    add: vec![(available_attr(loc), *d)],
                    when: floor_only(loc, *d),
                });
            }
            Ok(writes)
        }
    }

    /// Whether orders may wait for the supply coming to a location:
    /// `backorder` (any time) and `preorder_until` (until then; `Some(None)`
    /// clears it).
    pub async fn set_supply_rules(
        &self,
        sku: &Sku,
        loc: &LocationId,
        backorder: Option<bool>,
        preorder_until: Option<Option<Timestamp>>,
    ) -> Result<(), StoreError> {
        self.set_stock_rules(sku, loc, backorder, preorder_until, None, None)
            .await
    }

    /// The rules of a sku's stock at a location: backorders, preorders
    /// (see [`InventoryRepo::set_supply_rules`]), the reorder point and the
    /// lead time.
    pub async fn set_stock_rules(
        &self,
        sku: &Sku,
        loc: &LocationId,
        backorder: Option<bool>,
        preorder_until: Option<Option<Timestamp>>,
        reorder_point: Option<u64>,
        lead_time_days: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut set = Vec::new();
        if let Some(rp) = reorder_point {
            set.push((reorder_attr(loc), n(rp + 1)));
        }
        if let Some(d) = lead_time_days {
            set.push((lead_time_attr(loc), n(d)));
        }
        if let Some(b) = backorder {
            set.push((backorder_attr(loc), n(u64::from(b))));
        }
        if let Some(p) = preorder_until {
            set.push((preorder_attr(loc), n(p.map_or(0, |t| t.millis()))));
        }
        if set.is_empty() {
            return Ok(());
        }
        self.items
            .write(vec![Write::Update {
                key: stock_key(sku, 0),
                set,
                add: vec![],
                when: vec![],
            }])
            .await
    }

    /// Announces supply on its way to a location (a purchase order, a
    /// transfer): `quantity` expected at `expected_at`, under `reference`
    /// (the same again changes nothing; other supply under it is refused).
    pub async fn announce_incoming(
        &self,
        sku: &Sku,
        loc: &LocationId,
        quantity: u64,
        expected_at: Timestamp,
        reference: &str,
    ) -> Result<StockView, StockError> {
        if self.location(loc).await?.is_none() {
            return Err(StockError::UnknownLocation(loc.clone()));
        }
        let record = Key::new(format!("INCOMING#{sku}"), format!("{loc}#{reference}"));
        for _ in 0..16 {
            if let Some(found) = self.items.get(&record, Read::Strong).await? {
                let same = found.get("quantity").and_then(Value::as_n) == Some(quantity as i64)
                    && found.get("expectedAt").and_then(Value::as_n)
                        == Some(expected_at.millis() as i64);
                return if same {
                    Ok(self.levels(sku).await?)
                } else {
                    Err(StockError::ReferenceTaken(reference.to_owned()))
                };
            }
            let first = self
                .items
                .get(&stock_key(sku, 0), Read::Strong)
                .await?
                .unwrap_or_default();
            let e = expected_attr(loc);
            let latest = first.get(&e).and_then(Value::as_n).unwrap_or(0).max(0) as u64;
            let mut attrs = Attrs::new();
            attrs.insert("quantity".into(), n(quantity));
            attrs.insert("expectedAt".into(), n(expected_at.millis()));
            let writes = vec![
                Write::Put {
                    key: record.clone(),
                    attrs,
                    when: vec![Cond::NotExists],
                },
                Write::Update {
                    key: stock_key(sku, 0),
                    set: vec![(e.clone(), n(latest.max(expected_at.millis())))],
                    add: vec![
                        (incoming_attr(loc), quantity as i64),
                        (free_incoming_attr(loc), quantity as i64),
                    ],
                    when: vec![eq_or_absent(e, first.get(&expected_attr(loc)))],
                },
            ];
            match self.items.write(writes).await {
                Ok(()) => return Ok(self.levels(sku).await?),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("stock keeps changing; retry".into()).into())
    }

    /// Receives goods at a location: `quantity` more on hand, of which
    /// what backorders claimed of the incoming supply is held for them (the
    /// rest is available); the incoming supply falls by what arrived, and
    /// the supply announced under `reference`, if any, is done. Once per
    /// reference.
    pub async fn receive(
        &self,
        sku: &Sku,
        loc: &LocationId,
        quantity: u64,
        reference: &str,
    ) -> Result<Received, StockError> {
        if self.location(loc).await?.is_none() {
            return Err(StockError::UnknownLocation(loc.clone()));
        }
        let receipt = Key::new(format!("RECEIPT#{sku}"), format!("{loc}#{reference}"));
        for _ in 0..16 {
            if let Some(found) = self.items.get(&receipt, Read::Strong).await? {
                let q = found.get("quantity").and_then(Value::as_n).unwrap_or(0);
                if q != quantity as i64 {
                    return Err(StockError::ReferenceTaken(reference.to_owned()));
                }
                return Ok(Received {
                    quantity,
                    for_backorders: 0,
                    replayed: true,
                });
            }
            let stock = self.stock(sku).await?;
            let first = self
                .items
                .get(&stock_key(sku, 0), Read::Strong)
                .await?
                .unwrap_or_default();
            let supply = stock.supply.get(loc).copied().unwrap_or_default();
            let consumed = quantity.min(supply.incoming);
            let claimed = supply.incoming.saturating_sub(supply.free);
            let for_backorders = quantity.min(claimed);
            let on_hand = stock.on_hand(loc) + quantity - for_backorders;
            let mut writes = Self::set_writes(&stock, sku, loc, on_hand, None)?;
            if let Some(Write::Update { add, when, .. }) = writes.first_mut() {
                add.push((incoming_attr(loc), -(consumed as i64)));
                add.push((
                    free_incoming_attr(loc),
                    -((consumed - for_backorders) as i64),
                ));
                add.push((backorder_held_attr(loc), for_backorders as i64));
                when.push(eq_or_absent(
                    incoming_attr(loc),
                    first.get(&incoming_attr(loc)),
                ));
                when.push(eq_or_absent(
                    free_incoming_attr(loc),
                    first.get(&free_incoming_attr(loc)),
                ));
            }
            let mut attrs = Attrs::new();
            attrs.insert("quantity".into(), n(quantity));
            writes.push(Write::Put {
                key: receipt.clone(),
                attrs,
                when: vec![Cond::NotExists],
            });
            match self.items.write(writes).await {
                Ok(()) => {
                    return Ok(Received {
                        quantity,
                        for_backorders,
                        replayed: false,
                    });
                }
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("stock keeps changing; retry".into()).into())
    }

    /// The orders waiting for supply of a sku at a location, first placed
    /// first, with the units each waits for; and the units received and
    /// held for them.
    pub async fn backorder_queue(
        &self,
        sku: &Sku,
        loc: &LocationId,
    ) -> Result<(Vec<(OrderId, u64)>, u64), StoreError> {
        let held = self
            .items
            .get(&stock_key(sku, 0), Read::Strong)
            .await?
            .and_then(|a| a.get(&backorder_held_attr(loc)).and_then(Value::as_n))
            .unwrap_or(0)
            .max(0) as u64;
        let mut out = Vec::new();
        for (sk, attrs) in self
            .items
            .query(&Query::partition(format!("BO#{sku}#{loc}")))
            .await?
        {
            if attrs.contains_key("done") {
                continue;
            }
            let Some(id) = sk
                .split_once('#')
                .and_then(|(_, id)| OrderId::parse(id).ok())
            else {
                continue;
            };
            let q = attrs
                .get("quantity")
                .and_then(Value::as_n)
                .unwrap_or(0)
                .max(0) as u64;
            out.push((id, q));
        }
        Ok((out, held))
    }

    /// Sets the sku's network-wide safety stock (units no order may take
    /// anywhere, on top of each location's own).
    pub async fn set_network_safety(&self, sku: &Sku, units: u64) -> Result<StockView, StoreError> {
        self.items
            .write(vec![Write::Update {
                key: stock_key(sku, 0),
                set: vec![(NETWORK_SAFETY_ATTR.into(), n(units))],
                add: vec![],
                when: vec![],
            }])
            .await?;
        self.levels(sku).await
    }

    /// Splits a sku's stock into `shards` items (more than it has; at most
    /// [`MAX_SHARDS`]): every location's available units are spread evenly
    /// over them; what orders hold stays in the shard it came from.
    pub async fn split(&self, sku: &Sku, shards: u16) -> Result<StockView, StockError> {
        for _ in 0..16 {
            let stock = self.stock(sku).await?;
            let current = stock.shards.len() as u16;
            if shards < current || shards > MAX_SHARDS {
                return Err(StockError::ShardsOutOfRange { current });
            }
            if shards == current {
                return Ok(self.levels(sku).await?);
            }
            let totals = stock.totals();
            let mut writes = Vec::new();
            for i in 0..shards {
                let mut set = Vec::new();
                let mut when = Vec::new();
                for (loc, (available, _)) in &totals {
                    let k = u64::from(shards);
                    let share = available / k + u64::from(u64::from(i) < available % k);
                    set.push((available_attr(loc), n(share)));
                    if i < current {
                        // Nothing else moved in this shard since it was read.
                        let was = stock.shards[usize::from(i)].get(loc).map(|c| c.0);
                        when.push(match was {
                            Some(a) => Cond::Eq(available_attr(loc), n(a)),
                            None => Cond::Absent(available_attr(loc)),
                        });
                    }
                }
                if i == 0 {
                    set.push((SHARDS_ATTR.into(), n(u64::from(shards))));
                    set.push((VERSION_ATTR.into(), stock.next_version()));
                    when.push(stock.unchanged());
                } else if i >= current {
                    when.push(Cond::NotExists);
                }
                writes.push(Write::Update {
                    key: stock_key(sku, i),
                    set,
                    add: vec![],
                    when,
                });
            }
            match self.items.write(writes).await {
                Ok(()) => return Ok(self.levels(sku).await?),
                Err(StoreError::ConditionFailed { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Unavailable("stock keeps changing; retry".into()).into())
    }

    /// A change's stock moves as the writes to commit with it and the
    /// additions that may follow it: units shipped come off counters of
    /// units reserved — never available — so they follow the commit (see
    /// [`crate::kpi`]), sparing the shipment a transaction.
    pub fn now_and_later(moves: &[StockMove]) -> (Vec<Write>, Vec<crate::kpi::Addition>) {
        let (later, now): (Vec<StockMove>, Vec<StockMove>) = moves
            .iter()
            .cloned()
            .partition(|m| matches!(m, StockMove::Ship(_)));
        (
            Self::writes(&now),
            crate::kpi::Addition::of(Self::writes(&later)),
        )
    }

    /// The writes for a change's stock moves, one per stock item: moves of
    /// the same item are merged (a transaction may name an item once).
    pub fn writes(moves: &[StockMove]) -> Vec<Write> {
        let update =
            |a: &Allocation, add: Vec<(String, i64)>, floor: Option<(String, i64)>| Write::Update {
                key: stock_key(&a.sku, a.shard),
                set: vec![],
                add,
                when: floor
                    .map(|(name, q)| vec![Cond::AtLeast(name, q)])
                    .unwrap_or_default(),
            };
        let mut all = Vec::new();
        for m in moves {
            match m {
                StockMove::Allocate(taken) => all.extend(taken.iter().map(|a| {
                    let q = a.quantity.units();
                    let avail = available_attr(&a.location_id);
                    update(
                        a,
                        vec![(avail.clone(), -q), (reserved_attr(&a.location_id), q)],
                        Some((avail, q)),
                    )
                })),
                StockMove::Release(taken) => all.extend(taken.iter().map(|a| {
                    let q = a.quantity.units();
                    let res = reserved_attr(&a.location_id);
                    update(
                        a,
                        vec![(available_attr(&a.location_id), q), (res.clone(), -q)],
                        Some((res, q)),
                    )
                })),
                StockMove::Ship(taken) => all.extend(taken.iter().map(|a| {
                    let q = a.quantity.units();
                    let res = reserved_attr(&a.location_id);
                    update(a, vec![(res.clone(), -q)], Some((res, q)))
                })),
                StockMove::ClaimIncoming { entry, claims } => {
                    for c in claims {
                        let q = c.quantity.units();
                        let free = free_incoming_attr(&c.location_id);
                        all.push(Write::Update {
                            key: stock_key(&c.sku, 0),
                            set: vec![],
                            add: vec![(free.clone(), -q)],
                            when: vec![Cond::AtLeast(free, q)],
                        });
                        let mut attrs = Attrs::new();
                        attrs.insert("quantity".into(), n(q as u64));
                        all.push(Write::Put {
                            key: backorder_queue_key(&c.sku, &c.location_id, entry),
                            attrs,
                            when: vec![],
                        });
                    }
                }
                StockMove::UnclaimIncoming { entry, claims } => {
                    for c in claims {
                        all.push(Write::Update {
                            key: stock_key(&c.sku, 0),
                            set: vec![],
                            add: vec![(free_incoming_attr(&c.location_id), c.quantity.units())],
                            when: vec![],
                        });
                        all.push(queue_entry_done(&c.sku, &c.location_id, entry));
                    }
                }
                StockMove::FillBackorder { entry, fills } => {
                    for f in fills {
                        let q = f.quantity.units();
                        let held = backorder_held_attr(&f.location_id);
                        all.push(Write::Update {
                            key: stock_key(&f.sku, 0),
                            set: vec![],
                            add: vec![(held.clone(), -q), (reserved_attr(&f.location_id), q)],
                            when: vec![Cond::AtLeast(held, q)],
                        });
                        all.push(queue_entry_done(&f.sku, &f.location_id, entry));
                    }
                }
                StockMove::Restock { location_id, lines } => {
                    all.extend(lines.iter().map(|l| Write::Update {
                        key: stock_key(&l.sku, 0),
                        set: vec![],
                        add: vec![
                            (available_attr(location_id), l.quantity.units()),
                            (reserved_attr(location_id), 0),
                        ],
                        when: vec![],
                    }))
                }
            }
        }
        merge_writes(all)
    }
}

/// Shard 0's conditions for a set: unchanged, and enough available when
/// units are taken off it.
fn floor(unchanged: Cond, loc: &LocationId, delta: i64) -> Vec<Cond> {
    let mut when = vec![unchanged];
    when.extend(floor_only(loc, delta));
    when
}

fn floor_only(loc: &LocationId, delta: i64) -> Vec<Cond> {
    if delta < 0 {
        vec![Cond::AtLeast(available_attr(loc), -delta)]
    } else {
        vec![]
    }
}

/// Folds updates of the same item into one: deltas add up, and each
/// `AtLeast` floor becomes what the net delta takes off its attribute.
fn merge_writes(writes: Vec<Write>) -> Vec<Write> {
    let mut out: Vec<Write> = Vec::with_capacity(writes.len());
    for w in writes {
        let Write::Update { key, add, when, .. } = &w else {
            out.push(w);
            continue;
        };
        let same = out.iter_mut().find(|o| o.key() == key);
        match same {
            Some(Write::Update {
                add: into_add,
                when: into_when,
                ..
            }) => {
                for (name, d) in add {
                    match into_add.iter_mut().find(|(n, _)| n == name) {
                        Some((_, total)) => *total += d,
                        None => into_add.push((name.clone(), *d)),
                    }
                }
                for c in when {
                    match (c, into_when.iter_mut().find(|x| matches!((x, c), (Cond::AtLeast(a, _), Cond::AtLeast(b, _)) if a == b))) {
                        (Cond::AtLeast(_, n), Some(Cond::AtLeast(_, total))) => *total += n,
                        _ => into_when.push(c.clone()),
                    }
                }
            }
            _ => out.push(w),
        }
    }
    // Each floor guards what the write takes off its attribute: merged,
    // it is what the net change takes (units given back and taken again in
    // one change — an edit — need only the difference free).
    for w in &mut out {
        if let Write::Update { add, when, .. } = w {
            when.retain_mut(|c| match c {
                Cond::AtLeast(name, floor) => match add.iter().find(|(n, _)| n == name) {
                    Some((_, d)) => {
                        *floor = (-*d).max(0);
                        *floor > 0
                    }
                    None => true,
                },
                _ => true,
            });
        }
    }
    out
}
