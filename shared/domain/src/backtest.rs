//! Replaying past orders against a stock snapshot under a routing strategy
//! (`oms backtest`): which plans routing would have chosen, one order after
//! the other over the stock the earlier ones left, and what they add up to
//! — split rate, distance and the cost strategy's score of every plan, so
//! strategies compare on the same terms. Pure: no I/O.

use crate::geo::GeoPoint;
use crate::ids::{LocationId, Sku};
use crate::inventory::{Demand, Location};
use crate::routing::{Availability, RoutingRules};
use std::collections::BTreeMap;

/// An order to replay: where it goes and what it wants.
#[derive(Debug, Clone, PartialEq)]
pub struct PastOrder {
    pub ship_to: GeoPoint,
    pub country: String,
    pub lines: Demand,
}

/// What a strategy did with the orders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replayed {
    pub orders: u64,
    /// Orders some plan could ship.
    pub routed: u64,
    /// Routed orders shipped from more than one location.
    pub split: u64,
    /// Packages (one per location of a plan).
    pub packages: u64,
    /// Kilometres from each package's location to its customer.
    pub km: f64,
    /// The plans' scores under the cost weights (whatever chose them).
    pub cost: i64,
}

impl Replayed {
    pub fn split_rate(&self) -> f64 {
        ratio(self.split as f64, self.routed as f64)
    }
    pub fn km_per_order(&self) -> f64 {
        ratio(self.km, self.routed as f64)
    }
    pub fn cost_per_order(&self) -> f64 {
        ratio(self.cost as f64, self.routed as f64)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// Replays `orders`, in order, over `stock` (on hand per sku and location)
/// at `locations` by `rules` (its strategy chooses; its weights score).
pub fn replay(
    orders: &[PastOrder],
    locations: &[Location],
    stock: &BTreeMap<(Sku, LocationId), u64>,
    rules: &RoutingRules,
) -> Replayed {
    let mut free: BTreeMap<(Sku, LocationId), Vec<u64>> =
        stock.iter().map(|(k, q)| (k.clone(), vec![*q])).collect();
    let mut taken: BTreeMap<LocationId, u64> = BTreeMap::new();
    let mut out = Replayed::default();
    for order in orders {
        out.orders += 1;
        let skus: Vec<&Sku> = order.lines.iter().map(|l| &l.sku).collect();
        let relevant = free
            .iter()
            .filter(|((sku, _), _)| skus.contains(&sku))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let stock = Availability::new(locations, relevant).with_rules(rules.clone(), &taken);
        let eligible: Vec<_> = stock
            .candidates()
            .iter()
            .filter(|c| c.serves(&order.country))
            .cloned()
            .collect();
        let Ok(plan) = crate::routing::plan_by(
            &order.lines,
            order.ship_to,
            Some(&order.country),
            &eligible,
            rules,
        ) else {
            continue;
        };
        out.routed += 1;
        let mut at: Vec<&LocationId> = plan.allocations.iter().map(|a| &a.location_id).collect();
        at.sort();
        at.dedup();
        out.packages += at.len() as u64;
        if at.len() > 1 {
            out.split += 1;
        }
        let parts: Vec<(&crate::routing::Candidate, f64)> = at
            .iter()
            .filter_map(|l| eligible.iter().find(|c| &c.location_id == *l))
            .map(|c| (c, c.point.distance_km(order.ship_to)))
            .collect();
        out.km += parts.iter().map(|(_, km)| km).sum::<f64>();
        out.cost += rules.score(&parts, Some(&order.country)).0;
        for a in &plan.allocations {
            if let Some(q) = free.get_mut(&(a.sku.clone(), a.location_id.clone())) {
                q[0] = q[0].saturating_sub(u64::from(a.quantity.get()));
            }
        }
        for l in at {
            *taken.entry(l.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Quantity;
    use crate::inventory::LineQty;
    use crate::routing::Strategy;

    fn loc(id: &str, lat: f64, lon: f64) -> Location {
        crate::order::tests::location(id, GeoPoint::new(lat, lon).unwrap(), None)
    }

    #[test]
    fn a_replay_consumes_stock_and_compares_strategies_on_the_same_terms() {
        let locations = [
            loc("far", -8.05, -34.9),
            loc("a", -22.9, -43.2),
            loc("b", -22.95, -43.25),
        ];
        let sku = |s: &str| Sku::parse(s).unwrap();
        let id = |s: &str| LocationId::parse(s).unwrap();
        let stock: BTreeMap<(Sku, LocationId), u64> = [
            ((sku("A"), id("far")), 1),
            ((sku("B"), id("far")), 1),
            ((sku("A"), id("a")), 5),
            ((sku("B"), id("b")), 5),
        ]
        .into();
        let order = PastOrder {
            ship_to: GeoPoint::new(-22.9, -43.2).unwrap(),
            country: "BR".into(),
            lines: ["A", "B"]
                .iter()
                .map(|s| LineQty {
                    sku: sku(s),
                    quantity: Quantity::ONE,
                })
                .collect(),
        };
        let orders = vec![order.clone(), order.clone(), order];
        let nearest = replay(&orders, &locations, &stock, &RoutingRules::default());
        // The first from far (one package), then split (far is empty).
        assert_eq!((nearest.routed, nearest.split, nearest.packages), (3, 2, 5));
        let cost = RoutingRules {
            strategy: Strategy::Cost,
            ..RoutingRules::default()
        };
        let cheap = replay(&orders, &locations, &stock, &cost);
        assert_eq!((cheap.routed, cheap.split, cheap.packages), (3, 3, 6));
        assert!(cheap.cost < nearest.cost, "{cheap:?} vs {nearest:?}");
        assert!(cheap.km_per_order() < nearest.km_per_order());
    }
}
