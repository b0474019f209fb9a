//! Stock by location, and for the whole network as their sum.
//!
//! Per (sku, location): `onHand`, `reserved` (taken by orders not yet
//! shipped), the safety stock held back from orders, and `available` =
//! onHand − reserved − safety stock (what orders may take). A sku's
//! network-wide safety stock is kept back on top, when reservation decides. An order takes its units
//! at the locations that will ship them in the same commit that reserves
//! it ([`StockMove::Allocate`]), so every reserved unit is a located unit:
//! the network's counters are the sums, never a second count to keep in
//! step. Invariant: 0 ≤ reserved ≤ onHand at every location.
//!
//! A hot sku's stock can be split into shards ([`ShardFree`]): each shard
//! holds a share of every location's units and is its own item in the
//! store, so orders for that sku commit on different items (partitions)
//! instead of queueing on one. An order draws from its home shard first
//! ([`home_shard`]) and falls back to the fullest others ([`draw`]); its
//! allocations name the shard, so shipping and releasing go back to it.

use crate::geo::GeoPoint;
use crate::ids::{LocationId, Quantity, Sku};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LocationKind {
    Warehouse,
    Store,
}

/// A place that holds stock and ships orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    pub location_id: LocationId,
    pub name: String,
    pub kind: LocationKind,
    /// Where it is (`lat`, `lon`).
    #[serde(flatten)]
    pub point: GeoPoint,
    /// Its country (ISO 3166 alpha-2). A location with a country ships only
    /// there and to `shipsTo`; one without ships anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Other countries it may ship to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ships_to: Vec<String>,
    /// An inactive location takes no new orders (what it already holds
    /// stays its own).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub active: bool,
    /// Orders placed before this hour (UTC) ship the same day (15 unless
    /// set; see `crate::promise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff_hour_utc: Option<u8>,
    /// Days it takes to pick and pack (0 unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_days: Option<u8>,
    /// Preferred by cost routing (0 to 100; see `crate::routing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Orders it can take a day (cost routing avoids it past them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_capacity: Option<u32>,
    /// It ships orders (`false`: a store that only hands over pickups).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ships: bool,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

impl Location {
    /// Where it may ship.
    pub fn reach(&self) -> crate::routing::Reach {
        crate::routing::Reach {
            country: self.country.clone(),
            ships_to: self.ships_to.clone(),
        }
    }
}

/// Units of one sku taken from one location (from one shard of its stock).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub sku: Sku,
    pub location_id: LocationId,
    pub quantity: Quantity,
    /// The shard of the sku's stock the units came from (0 unless the sku
    /// is split into shards).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shard: u16,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

impl Allocation {
    pub fn new(sku: Sku, location_id: LocationId, quantity: Quantity) -> Self {
        Self {
            sku,
            location_id,
            quantity,
            shard: 0,
        }
    }
}

/// Units of one sku.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct LineQty {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Units per sku, in sku order: what an order asks of the network.
pub type Demand = Vec<LineQty>;

/// Lines with each sku once, their quantities added up, in sku order.
pub fn merged(lines: impl IntoIterator<Item = LineQty>) -> Demand {
    let mut by_sku: std::collections::BTreeMap<Sku, Quantity> = Default::default();
    for l in lines {
        by_sku
            .entry(l.sku)
            .and_modify(|q| *q = q.plus(l.quantity).unwrap_or(*q))
            .or_insert(l.quantity);
    }
    by_sku
        .into_iter()
        .map(|(sku, quantity)| LineQty { sku, quantity })
        .collect()
}

/// Counters of one sku at one location, or for the network.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Counters {
    pub on_hand: u64,
    pub reserved: u64,
    /// Units on hand kept back from orders (the safety stock, as far as
    /// there are units for it).
    #[serde(default)]
    pub safety: u64,
}

impl Counters {
    /// What orders may take: on hand − reserved − safety stock, never
    /// below 0.
    pub fn available(&self) -> u64 {
        self.on_hand
            .saturating_sub(self.reserved)
            .saturating_sub(self.safety)
    }
}

/// The safety stock held at a location given its setting: as much of the
/// setting as the units not reserved cover.
pub fn safety_held(setting: u64, on_hand: u64, reserved: u64) -> u64 {
    setting.min(on_hand.saturating_sub(reserved))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationStock {
    pub location_id: LocationId,
    pub on_hand: u64,
    pub reserved: u64,
    pub available: u64,
    /// The location's safety stock setting.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub safety_stock: u64,
    /// Units announced and not received yet (`POST …/incoming`).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub incoming: u64,
    /// Units backordered orders wait for (claimed of the incoming, or
    /// received and held for them).
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub backordered: u64,
    /// Orders may wait for the incoming supply.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backorder: bool,
    /// Orders may wait for it until then (preorders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preorder_until: Option<crate::time::Timestamp>,
    /// The latest date incoming supply is announced for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_at: Option<crate::time::Timestamp>,
    /// The reorder point set here (see `crate::replenishment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<u64>,
    /// Days supply takes to arrive here, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_days: Option<u64>,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// A change of the units on hand at a location, with its reason: a
/// receipt, damage, a count. Kept per sku and location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Adjustment {
    pub adjustment_id: String,
    pub sku: Sku,
    pub location_id: LocationId,
    /// Units added (positive) or taken off (negative).
    pub delta: i64,
    pub reason: String,
    /// Who made it (`operator:alice`).
    pub actor: String,
    pub at: crate::time::Timestamp,
    /// Units on hand at the location right after it.
    pub on_hand_after: u64,
}

/// What `GET /inventory/{sku}/{locationId}/adjustments` answers, newest
/// first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentList {
    pub adjustments: Vec<Adjustment>,
}

/// What `GET /inventory/{sku}` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockView {
    pub sku: Sku,
    pub on_hand: u64,
    pub reserved: u64,
    /// On hand − reserved − the locations' safety stock − the network's,
    /// never below 0.
    pub available: u64,
    pub locations: Vec<LocationStock>,
    /// How many items (shards) the sku's stock is split into.
    #[serde(default = "one")]
    pub shards: u16,
    /// The network's safety stock setting for the sku.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub safety_stock: u64,
}

fn one() -> u16 {
    1
}

impl StockView {
    pub fn new(sku: Sku, network: Counters, mut locations: Vec<(LocationId, Counters)>) -> Self {
        locations.sort_by(|a, b| a.0.cmp(&b.0));
        Self {
            sku,
            on_hand: network.on_hand,
            reserved: network.reserved,
            available: network.available(),
            locations: locations
                .into_iter()
                .map(|(location_id, c)| LocationStock {
                    location_id,
                    on_hand: c.on_hand,
                    reserved: c.reserved,
                    available: c.available(),
                    safety_stock: 0,
                    incoming: 0,
                    backordered: 0,
                    backorder: false,
                    preorder_until: None,
                    expected_at: None,
                    reorder_point: None,
                    lead_time_days: None,
                })
                .collect(),
            shards: 1,
            safety_stock: 0,
        }
    }

    /// With the locations' and the network's safety stock settings.
    pub fn with_safety(mut self, locations: &BTreeMap<LocationId, u64>, network: u64) -> Self {
        for l in &mut self.locations {
            l.safety_stock = locations.get(&l.location_id).copied().unwrap_or(0);
        }
        self.safety_stock = network;
        self.available = self.available.saturating_sub(network);
        self
    }
}

/// A change to stock that a transition needs, applied by the store in the
/// same commit as the order's new state.
#[derive(Debug, Clone, PartialEq)]
pub enum StockMove {
    /// Take units at locations: available → reserved (condition: that
    /// many available in that shard).
    Allocate(Vec<Allocation>),
    /// Give taken units back: reserved → available.
    Release(Vec<Allocation>),
    /// Taken units left their location: no longer reserved nor on hand.
    Ship(Vec<Allocation>),
    /// Returned units back on the shelf at a location.
    Restock {
        location_id: LocationId,
        lines: Vec<LineQty>,
    },
    /// A backordered order claims units of incoming supply (condition:
    /// that many not claimed yet), recorded in the queue of its sku and
    /// location by placement time (`entry`).
    ClaimIncoming {
        entry: BackorderEntry,
        claims: Vec<Allocation>,
    },
    /// Gives claims of incoming supply back (the order ended unfilled).
    UnclaimIncoming {
        entry: BackorderEntry,
        claims: Vec<Allocation>,
    },
    /// Received units held for backorders become the order's reservation
    /// (condition: that many held), and its place in the queue goes.
    FillBackorder {
        entry: BackorderEntry,
        fills: Vec<Allocation>,
    },
}

/// Where a backordered order waits in the queue of each sku and location
/// it claims incoming supply at: first placed, first filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackorderEntry {
    pub order_id: crate::ids::OrderId,
    pub placed_at: crate::time::Timestamp,
}

/// Incoming supply of a sku at a location, as reservation sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Incoming {
    /// Expected units no backorder claimed yet.
    pub free: u64,
    /// When the expected supply arrives (the latest date announced).
    pub expected_at: Option<crate::time::Timestamp>,
    /// Orders may wait for it (`backorder: true`).
    pub backorder: bool,
    /// Orders may wait for it until then (a preorder's release date).
    pub preorder_until: Option<crate::time::Timestamp>,
    /// The reorder point set at the location (`LowStock` below it).
    pub reorder_point: Option<u64>,
}

impl Incoming {
    /// Whether an order placed at `now` may wait for this supply.
    pub fn open_at(&self, now: crate::time::Timestamp) -> bool {
        self.backorder || self.preorder_until.is_some_and(|until| now < until)
    }
}

/// Free units of a sku at a location, per shard of the sku's stock (one
/// entry when it is not split).
pub type ShardFree = BTreeMap<(Sku, LocationId), Vec<u64>>;

/// Most shards a sku's stock may be split into.
pub const MAX_SHARDS: u16 = 32;

/// The shard an order draws a sku from first: orders spread evenly over the
/// shards, and the same order always starts at the same one.
pub fn home_shard(order: &crate::ids::OrderId, sku: &Sku, shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    // FNV-1a: stable across builds and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in order
        .as_str()
        .bytes()
        .chain([0])
        .chain(sku.as_str().bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (h % shards as u64) as usize
}

/// Splits each planned allocation over the shards that hold its units: the
/// order's home shard first, then the fullest (lowest index on ties).
/// `None` when the shards hold less than the plan takes.
pub fn draw(
    plan: &[Allocation],
    free: &ShardFree,
    home: impl Fn(&Sku, usize) -> usize,
) -> Option<Vec<Allocation>> {
    let mut out = Vec::new();
    for a in plan {
        let shards = free.get(&(a.sku.clone(), a.location_id.clone()))?;
        let first = home(&a.sku, shards.len());
        let mut order: Vec<usize> = (0..shards.len()).filter(|i| *i != first).collect();
        order.sort_by(|x, y| shards[*y].cmp(&shards[*x]).then(x.cmp(y)));
        let mut left = u64::from(a.quantity.get());
        for i in std::iter::once(first).chain(order) {
            let take = shards.get(i).copied().unwrap_or(0).min(left);
            if let Some(quantity) = Quantity::of(take) {
                left -= take;
                out.push(Allocation {
                    shard: u16::try_from(i).ok()?,
                    quantity,
                    ..a.clone()
                });
            }
            if left == 0 {
                break;
            }
        }
        if left > 0 {
            return None;
        }
    }
    Some(out)
}

/// The allocation slices `lines` consume at `location`, when `before` units
/// of each sku there have already shipped: allocations are consumed in
/// their order, so every shipment takes the next units and none twice.
pub fn consume(
    allocations: &[Allocation],
    location: &LocationId,
    lines: &[LineQty],
    before: &BTreeMap<Sku, u64>,
) -> Vec<Allocation> {
    let mut out = Vec::new();
    for l in lines {
        let mut skip = before.get(&l.sku).copied().unwrap_or(0);
        let mut left = u64::from(l.quantity.get());
        for a in allocations
            .iter()
            .filter(|a| a.sku == l.sku && &a.location_id == location)
        {
            let mut have = u64::from(a.quantity.get());
            let skipped = skip.min(have);
            skip -= skipped;
            have -= skipped;
            let take = have.min(left);
            if let Some(quantity) = Quantity::of(take) {
                left -= take;
                out.push(Allocation {
                    quantity,
                    ..a.clone()
                });
            }
            if left == 0 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(sku: &str, loc: &str, q: u64, shard: u16) -> Allocation {
        Allocation {
            shard,
            ..Allocation::new(
                Sku::parse(sku).unwrap(),
                LocationId::parse(loc).unwrap(),
                Quantity::of(q).unwrap(),
            )
        }
    }
    fn lq(sku: &str, q: u64) -> LineQty {
        LineQty {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::of(q).unwrap(),
        }
    }

    #[test]
    fn shipments_consume_allocations_in_order_and_never_twice() {
        let taken = [a("A", "wh", 2, 3), a("A", "wh", 3, 0), a("A", "st", 4, 0)];
        let wh = LocationId::parse("wh").unwrap();
        let first = consume(&taken, &wh, &[lq("A", 3)], &BTreeMap::new());
        assert_eq!(first, [a("A", "wh", 2, 3), a("A", "wh", 1, 0)]);
        let before = BTreeMap::from([(Sku::parse("A").unwrap(), 3)]);
        let second = consume(&taken, &wh, &[lq("A", 2)], &before);
        assert_eq!(second, [a("A", "wh", 2, 0)]);
    }

    #[test]
    fn a_sku_spreads_over_its_shards_and_draws_only_what_they_hold() {
        let order = crate::ids::OrderId::parse("ord_1").unwrap();
        let sku = Sku::parse("A").unwrap();
        let homes: std::collections::BTreeSet<usize> = (0..64)
            .map(|i| {
                let id = crate::ids::OrderId::parse(&format!("ord_{i}")).unwrap();
                home_shard(&id, &sku, 4)
            })
            .collect();
        assert_eq!(homes.len(), 4, "orders start on every shard");
        assert_eq!(home_shard(&order, &sku, 1), 0);
        let free: ShardFree = [(
            (sku.clone(), LocationId::parse("wh").unwrap()),
            vec![1, 0, 2],
        )]
        .into();
        let plan = [a("A", "wh", 3, 0)];
        let drawn = draw(&plan, &free, |_, _| 1).unwrap();
        assert_eq!(drawn, [a("A", "wh", 2, 2), a("A", "wh", 1, 0)]);
        assert!(draw(&[a("A", "wh", 4, 0)], &free, |_, _| 0).is_none());
    }
}
