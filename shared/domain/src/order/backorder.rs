//! Backorders and preorders: an order the stock cannot cover, but the
//! supply announced at a location can, waits for it instead of being
//! rejected.
//!
//! - **Placement**: the nearest eligible location where every line is
//!   covered by what is free there plus the incoming supply no earlier
//!   backorder claimed — for the short skus only where that location takes
//!   backorders (`backorder: true`) or preorders until a release date still
//!   ahead (`preorderUntil`). The free units are reserved as usual; the
//!   rest is claimed from the incoming supply (so no two orders wait for
//!   the same unit, and a backorder never takes what another order holds),
//!   and the order is `BACKORDERED` with each short line's expected date.
//! - **Receipt**: received units go first to the supply's claims, held for
//!   the orders that wait, in placement order; each order's claim becomes
//!   its reservation (`BackorderFilled`), and an order whose every claim is
//!   filled is routed there — and released if paid.
//! - **Cancellation** gives back its reservation and its claims.

use super::{Cause, Change, Order, OrderStatus, Outcome, Refusal};
use crate::events::EventData;
use crate::ids::{LocationId, Quantity, Sku};
use crate::inventory::{Allocation, BackorderEntry, LineQty, StockMove};
use crate::routing::{Availability, Candidate};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A line (or the part of one) waiting for incoming supply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackorderLine {
    pub sku: Sku,
    pub location_id: LocationId,
    pub quantity: Quantity,
    /// When the supply it waits for is expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_at: Option<Timestamp>,
    /// The supply arrived and the units are the order's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub filled: bool,
}

impl Order {
    /// Where the order's queue entries are: its placement time and id.
    pub fn backorder_entry(&self) -> BackorderEntry {
        BackorderEntry {
            order_id: self.order_id.clone(),
            placed_at: self.created_at,
        }
    }

    /// The location that can serve `demand` from its free units and the
    /// supply on its way, nearest first: the units to take there now and
    /// the claims on its incoming supply (see the module's rules).
    pub(crate) fn backorder_plan(
        &self,
        demand: &[LineQty],
        stock: &Availability,
        now: Timestamp,
    ) -> Option<(Vec<Allocation>, Vec<BackorderLine>)> {
        let mut eligible: Vec<Candidate> = self.eligible(stock);
        eligible.sort_by(|a, b| {
            let (da, db) = (
                a.point.distance_km(self.ship_to.point),
                b.point.distance_km(self.ship_to.point),
            );
            da.total_cmp(&db)
                .then_with(|| a.location_id.cmp(&b.location_id))
        });
        for c in eligible {
            let mut take = Vec::new();
            let mut claims = Vec::new();
            let fits = demand.iter().all(|l| {
                let want = u64::from(l.quantity.get());
                let free = c.free.get(&l.sku).copied().unwrap_or(0).min(want);
                if let Some(q) = Quantity::of(free) {
                    take.push(Allocation::new(l.sku.clone(), c.location_id.clone(), q));
                }
                let short = want - free;
                if short == 0 {
                    return true;
                }
                match stock.incoming(&l.sku, &c.location_id) {
                    Some(inc) if inc.open_at(now) && inc.free >= short => {
                        claims.push(BackorderLine {
                            sku: l.sku.clone(),
                            location_id: c.location_id.clone(),
                            quantity: Quantity::of(short).unwrap_or(Quantity::ONE),
                            expected_at: inc.expected_at,
                            filled: false,
                        });
                        true
                    }
                    _ => false,
                }
            });
            if !fits || claims.is_empty() {
                continue;
            }
            let home = |sku: &Sku, shards: usize| {
                crate::inventory::home_shard(&self.order_id, sku, shards)
            };
            let taken = crate::inventory::draw(&take, stock.shards(), home)?;
            return Some((taken, claims));
        }
        None
    }

    /// `PLACED → BACKORDERED`: its free units taken, the rest claimed from
    /// the supply on its way.
    pub(crate) fn backordered(
        &mut self,
        change: &mut Change,
        taken: Vec<Allocation>,
        claims: Vec<BackorderLine>,
        cause: &Cause,
    ) {
        if !taken.is_empty() {
            change.add_stock(StockMove::Allocate(taken.clone()));
        }
        change.add_stock(StockMove::ClaimIncoming {
            entry: self.backorder_entry(),
            claims: claims.iter().map(BackorderLine::allocation).collect(),
        });
        self.allocations = taken;
        self.holds_stock = true;
        self.backorder = claims.clone();
        self.status = OrderStatus::Backordered;
        let detail = claims
            .iter()
            .map(|c| {
                let when = c
                    .expected_at
                    .map_or("a date not announced".to_owned(), |t| t.to_rfc3339());
                format!(
                    "{} × {} at {} expected {when}",
                    c.quantity, c.sku, c.location_id
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        change.step(
            self,
            "OrderBackordered",
            cause,
            Some(detail),
            vec![EventData::OrderBackordered { lines: claims }],
        );
    }

    /// The supply arrived: this order's claim of `sku` at `location`
    /// becomes its reservation; once every claim is filled it is routed
    /// there (and released if paid).
    pub fn fill_backorder(
        &mut self,
        sku: &Sku,
        location: &LocationId,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if self.status != OrderStatus::Backordered {
            return Err(Refusal::Duplicate);
        }
        let Some(line) = self
            .backorder
            .iter_mut()
            .find(|l| &l.sku == sku && &l.location_id == location && !l.filled)
        else {
            return Err(Refusal::Duplicate);
        };
        line.filled = true;
        let fill = line.allocation();
        let mut change = Change::new(Some(StockMove::FillBackorder {
            entry: self.backorder_entry(),
            fills: vec![fill.clone()],
        }));
        self.allocations.push(fill.clone());
        change.step(
            self,
            "BackorderFilled",
            cause,
            Some(format!("{} × {sku} received at {location}", fill.quantity)),
            vec![EventData::BackorderFilled {
                sku: sku.clone(),
                location_id: location.clone(),
                quantity: fill.quantity,
            }],
        );
        if self.backorder.iter().all(|l| l.filled) {
            self.status = OrderStatus::Reserved;
            let allocations = self.allocations.clone();
            let reason = format!("backorder filled: every line at {location}");
            self.routed(&mut change, allocations, reason, cause);
        }
        Ok(change.finish(self))
    }

    /// The claims on incoming supply not filled yet, given back.
    pub(crate) fn release_claims(&mut self) -> Option<StockMove> {
        let claims: Vec<Allocation> = self
            .backorder
            .iter()
            .filter(|l| !l.filled)
            .map(BackorderLine::allocation)
            .collect();
        self.backorder.retain(|l| l.filled);
        (!claims.is_empty()).then(|| StockMove::UnclaimIncoming {
            entry: self.backorder_entry(),
            claims,
        })
    }
}

impl BackorderLine {
    fn allocation(&self) -> Allocation {
        Allocation::new(self.sku.clone(), self.location_id.clone(), self.quantity)
    }
}
