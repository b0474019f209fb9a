//! Stock by location and for the whole network.
//!
//! Per (sku, location): `onHand` and `reserved` (allocated to routed orders).
//! Per sku, for the network: `onHand` = Σ location onHand and `reserved` =
//! every unit promised to an order, allocated or not yet. `available` is
//! always `onHand − reserved`. Invariants: at every location and for the
//! network, 0 ≤ reserved ≤ onHand, and Σ location reserved ≤ network reserved,
//! so a reserved order can always be allocated (possibly split).

use crate::geo::GeoPoint;
use crate::ids::{LocationId, Quantity, Sku};
use serde::{Deserialize, Serialize};

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

/// Units of one sku taken from one location.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub sku: Sku,
    pub location_id: LocationId,
    pub quantity: Quantity,
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
}

impl Counters {
    pub fn available(&self) -> u64 {
        self.on_hand.saturating_sub(self.reserved)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationStock {
    pub location_id: LocationId,
    pub on_hand: u64,
    pub reserved: u64,
    pub available: u64,
}

/// What `GET /inventory/{sku}` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockView {
    pub sku: Sku,
    pub on_hand: u64,
    pub reserved: u64,
    pub available: u64,
    pub locations: Vec<LocationStock>,
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
                })
                .collect(),
        }
    }
}

/// A change to stock that a transition needs, applied by the store in the
/// same commit as the order's new state.
#[derive(Debug, Clone, PartialEq)]
pub enum StockMove {
    /// Take units from the network counters (condition: available).
    Reserve(Demand),
    /// Put reserved units on location counters (condition: available there).
    Allocate(Vec<Allocation>),
    /// Give back a reservation (network) and its allocations (locations).
    Release {
        network: Demand,
        located: Vec<Allocation>,
    },
    /// Units left a location: on hand and reserved both drop.
    Ship {
        location_id: LocationId,
        lines: Vec<LineQty>,
    },
    /// Returned units back on the shelf at a location.
    Restock {
        location_id: LocationId,
        lines: Vec<LineQty>,
    },
}
