//! Choosing fulfilment locations for an order being reserved. Pure: no I/O.
//!
//! Rule: one location that can ship everything, nearest to the customer;
//! otherwise the fewest locations, then the shortest total distance. Exact
//! search over location subsets up to [`EXACT_SPLIT_LIMIT`] locations, then a
//! greedy cover (most units first, nearest on ties) as a fallback.

use crate::geo::GeoPoint;
use crate::ids::{LocationId, Quantity, Sku};
use crate::inventory::{Allocation, LineQty, Location, ShardFree};
use crate::validation::{MAX_ITEMS_PER_CHANGE, MAX_LINES};
use std::collections::{BTreeMap, BTreeSet};

/// Largest split searched exhaustively.
pub const EXACT_SPLIT_LIMIT: usize = 3;
/// Above this many candidate locations, subsets are not enumerated.
const EXACT_CANDIDATE_LIMIT: usize = 24;
/// Most (sku, location) allocations one order may have: reservation commits
/// them with the order, and so does a cancellation that gives them back,
/// each in one atomic change.
pub const MAX_ALLOCATIONS: usize = MAX_ITEMS_PER_CHANGE - 1 - MAX_LINES;

/// A location that may ship, with the units it can still allocate per sku.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub location_id: LocationId,
    pub point: GeoPoint,
    pub free: BTreeMap<Sku, u64>,
    /// Where it may ship: its own country and these; anywhere if it has
    /// no country.
    pub reach: Reach,
}

/// The countries a location may ship to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    pub country: Option<String>,
    pub ships_to: Vec<String>,
}

impl Reach {
    pub fn serves(&self, destination: &str) -> bool {
        match &self.country {
            None => true,
            Some(own) => own == destination || self.ships_to.iter().any(|c| c == destination),
        }
    }
}

impl Candidate {
    /// Whether it may ship to `country`.
    pub fn serves(&self, country: &str) -> bool {
        self.reach.serves(country)
    }
}

/// What reservation decides over: every active location as a
/// [`Candidate`], free units summed over the shards of each sku's stock,
/// and those shards. The totals are the shards' sums by construction.
#[derive(Debug, Clone, Default)]
pub struct Availability {
    candidates: Vec<Candidate>,
    shards: ShardFree,
    /// Units of each sku kept back across the network.
    network_safety: BTreeMap<Sku, u64>,
}

impl Availability {
    /// From the locations (inactive ones take no orders and are left out)
    /// and what each shard of each sku has free at each location.
    pub fn new(locations: &[Location], shards: ShardFree) -> Self {
        let candidates = locations
            .iter()
            .filter(|l| l.active)
            .map(|l| Candidate {
                location_id: l.location_id.clone(),
                point: l.point,
                free: shards
                    .iter()
                    .filter(|((_, at), _)| at == &l.location_id)
                    .map(|((sku, _), per_shard)| (sku.clone(), per_shard.iter().sum()))
                    .collect(),
                reach: l.reach(),
            })
            .collect();
        Self {
            candidates,
            shards,
            network_safety: BTreeMap::new(),
        }
    }

    /// With the skus' network-wide safety stock: an order may not take
    /// those units anywhere.
    pub fn with_network_safety(mut self, safety: BTreeMap<Sku, u64>) -> Self {
        self.network_safety = safety;
        self
    }

    /// As it would be with `held` given back: what an order already holds
    /// counts as free for that order when it is reserved again (an edit).
    pub fn with_returned(mut self, held: &[Allocation]) -> Self {
        for a in held {
            let q = u64::from(a.quantity.get());
            let shards = self
                .shards
                .entry((a.sku.clone(), a.location_id.clone()))
                .or_default();
            let at = usize::from(a.shard);
            if shards.len() <= at {
                shards.resize(at + 1, 0);
            }
            shards[at] += q;
            if let Some(c) = self
                .candidates
                .iter_mut()
                .find(|c| c.location_id == a.location_id)
            {
                *c.free.entry(a.sku.clone()).or_default() += q;
            }
        }
        self
    }

    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    pub fn shards(&self) -> &ShardFree {
        &self.shards
    }

    /// Units of `sku` free anywhere an order may be shipped from, less the
    /// sku's network safety stock.
    pub fn network_free(&self, sku: &Sku) -> u64 {
        let free: u64 = self
            .candidates
            .iter()
            .map(|c| c.free.get(sku).copied().unwrap_or(0))
            .sum();
        free.saturating_sub(self.network_safety.get(sku).copied().unwrap_or(0))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub allocations: Vec<Allocation>,
    pub reason: String,
}

/// Why no plan was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unroutable {
    #[error("no set of locations holds {sku} × {missing} more")]
    Short { sku: Sku, missing: u64 },
    #[error("the plan needs {count} allocations; at most {MAX_ALLOCATIONS} fit one change")]
    TooSplit { count: usize },
}

impl Unroutable {
    /// The skus the plan could not cover.
    pub fn skus(&self) -> Vec<Sku> {
        match self {
            Self::Short { sku, .. } => vec![sku.clone()],
            Self::TooSplit { .. } => Vec::new(),
        }
    }
}

struct Scored<'a> {
    c: &'a Candidate,
    km: f64,
}

impl Scored<'_> {
    fn free(&self, sku: &Sku) -> u64 {
        self.c.free.get(sku).copied().unwrap_or(0)
    }
}

/// The plan for `demand`, within [`MAX_ALLOCATIONS`].
pub fn plan(
    demand: &[LineQty],
    ship_to: GeoPoint,
    candidates: &[Candidate],
) -> Result<Plan, Unroutable> {
    let p = choose(demand, ship_to, candidates)?;
    let count = p
        .allocations
        .iter()
        .map(|a| (&a.sku, &a.location_id))
        .collect::<BTreeSet<_>>()
        .len();
    if count > MAX_ALLOCATIONS {
        return Err(Unroutable::TooSplit { count });
    }
    Ok(p)
}

fn choose(
    demand: &[LineQty],
    ship_to: GeoPoint,
    candidates: &[Candidate],
) -> Result<Plan, Unroutable> {
    // Nearest first, id as the tie-break, so results are deterministic.
    let mut scored: Vec<Scored> = candidates
        .iter()
        .filter(|c| {
            demand
                .iter()
                .any(|l| c.free.get(&l.sku).copied().unwrap_or(0) > 0)
        })
        .map(|c| Scored {
            c,
            km: c.point.distance_km(ship_to),
        })
        .collect();
    scored.sort_by(|a, b| {
        a.km.total_cmp(&b.km)
            .then_with(|| a.c.location_id.cmp(&b.c.location_id))
    });

    let covers = |set: &[&Scored]| {
        demand
            .iter()
            .all(|l| set.iter().map(|s| s.free(&l.sku)).sum::<u64>() >= u64::from(l.quantity.get()))
    };

    if let Some(one) = scored.iter().find(|s| covers(&[*s])) {
        let eligible = scored.iter().filter(|s| covers(&[*s])).count();
        let reason = format!(
            "{} ships every line: nearest ({:.0} km) of {} location(s) that could",
            one.c.location_id, one.km, eligible
        );
        return Ok(allocate(demand, &[one], reason));
    }

    if scored.len() <= EXACT_CANDIDATE_LIMIT {
        for k in 2..=EXACT_SPLIT_LIMIT.min(scored.len()) {
            let mut best: Option<(f64, Vec<usize>)> = None;
            for_each_subset(scored.len(), k, &mut |idx| {
                let set: Vec<&Scored> = idx.iter().map(|&i| &scored[i]).collect();
                if covers(&set) {
                    let km: f64 = set.iter().map(|s| s.km).sum();
                    if best.as_ref().is_none_or(|(b, _)| km < *b) {
                        best = Some((km, idx.to_vec()));
                    }
                }
            });
            if let Some((km, idx)) = best {
                let set: Vec<&Scored> = idx.iter().map(|&i| &scored[i]).collect();
                let reason = format!(
                    "no single location holds every line; split across {k} ({}), {km:.0} km in total, the fewest locations and then the shortest distance",
                    names(&set)
                );
                return Ok(allocate(demand, &set, reason));
            }
        }
    }

    // Greedy cover: take the location that covers most outstanding units.
    let mut outstanding: BTreeMap<&Sku, u64> = demand
        .iter()
        .map(|l| (&l.sku, u64::from(l.quantity.get())))
        .collect();
    let mut chosen: Vec<&Scored> = Vec::new();
    while outstanding.values().any(|&q| q > 0) {
        let gain = |s: &Scored| -> u64 { outstanding.iter().map(|(k, q)| s.free(k).min(*q)).sum() };
        let next = scored
            .iter()
            .filter(|s| !chosen.iter().any(|c| c.c.location_id == s.c.location_id))
            .max_by(|a, b| gain(a).cmp(&gain(b)).then_with(|| b.km.total_cmp(&a.km)));
        match next {
            Some(s) if gain(s) > 0 => {
                for (sku, q) in outstanding.iter_mut() {
                    *q -= s.free(sku).min(*q);
                }
                chosen.push(s);
            }
            _ => {
                let short = outstanding
                    .iter()
                    .find(|(_, q)| **q > 0)
                    .map(|(s, q)| ((*s).clone(), *q));
                return Err(match short {
                    Some((sku, missing)) => Unroutable::Short { sku, missing },
                    None => Unroutable::TooSplit { count: 0 },
                });
            }
        }
    }
    chosen.sort_by(|a, b| a.km.total_cmp(&b.km));
    let reason = format!(
        "no small split holds every line; greedy cover across {} location(s) ({})",
        chosen.len(),
        names(&chosen)
    );
    Ok(allocate(demand, &chosen, reason))
}

fn names(set: &[&Scored]) -> String {
    set.iter()
        .map(|s| format!("{} {:.0} km", s.c.location_id, s.km))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Fills each sku from the chosen locations, nearest first.
fn allocate(demand: &[LineQty], set: &[&Scored], reason: String) -> Plan {
    let mut allocations = Vec::new();
    for l in demand {
        let mut left = u64::from(l.quantity.get());
        for s in set {
            let take = s.free(&l.sku).min(left);
            if let Some(quantity) = Quantity::of(take) {
                left -= take;
                allocations.push(Allocation::new(
                    l.sku.clone(),
                    s.c.location_id.clone(),
                    quantity,
                ));
            }
        }
    }
    Plan {
        allocations,
        reason,
    }
}

/// Calls `f` with every k-subset of `0..n`, in lexicographic order.
fn for_each_subset(n: usize, k: usize, f: &mut dyn FnMut(&[usize])) {
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        f(&idx);
        let Some(i) = (0..k).rev().find(|&i| idx[i] < n - k + i) else {
            return;
        };
        idx[i] += 1;
        for j in i + 1..k {
            idx[j] = idx[j - 1] + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn want(lines: &[(&str, u32)]) -> Vec<LineQty> {
        lines
            .iter()
            .map(|(s, q)| LineQty {
                sku: sku(s),
                quantity: Quantity::new(i64::from(*q)).unwrap(),
            })
            .collect()
    }

    fn cand(id: &str, lat: f64, lon: f64, stock: &[(&str, u64)]) -> Candidate {
        Candidate {
            location_id: LocationId::parse(id).unwrap(),
            point: GeoPoint { lat, lon },
            free: stock.iter().map(|(s, q)| (sku(s), *q)).collect(),
            reach: Reach::default(),
        }
    }

    const RIO: GeoPoint = GeoPoint {
        lat: -22.9,
        lon: -43.2,
    };

    #[test]
    fn prefers_one_location_that_ships_everything_even_if_farther() {
        let c = [
            cand("rio", -22.9, -43.2, &[("A", 5)]),
            cand("sp", -23.5, -46.6, &[("A", 5), ("B", 5)]),
        ];
        let p = plan(&want(&[("A", 1), ("B", 1)]), RIO, &c).unwrap();
        assert!(p.allocations.iter().all(|a| a.location_id.as_str() == "sp"));
        assert!(p.reason.contains("sp ships every line"), "{}", p.reason);
    }

    #[test]
    fn picks_the_nearest_single_location() {
        let c = [
            cand("far", 10.0, 10.0, &[("A", 5)]),
            cand("near", -22.8, -43.1, &[("A", 5)]),
        ];
        let p = plan(&want(&[("A", 2)]), RIO, &c).unwrap();
        assert_eq!(p.allocations.len(), 1);
        assert_eq!(p.allocations[0].location_id.as_str(), "near");
    }

    #[test]
    fn splits_across_the_fewest_then_nearest_locations() {
        let c = [
            cand("a-far", 40.0, 0.0, &[("A", 5)]),
            cand("a-near", -22.0, -43.0, &[("A", 5)]),
            cand("b", -23.0, -46.0, &[("B", 5)]),
            cand("ab-partial", -22.9, -43.2, &[("A", 1), ("B", 1)]),
        ];
        let p = plan(&want(&[("A", 3), ("B", 3)]), RIO, &c).unwrap();
        let locs: std::collections::BTreeSet<_> = p
            .allocations
            .iter()
            .map(|a| a.location_id.as_str())
            .collect();
        assert_eq!(locs.into_iter().collect::<Vec<_>>(), ["a-near", "b"]);
    }

    #[test]
    fn a_location_with_a_country_serves_it_and_those_it_ships_to() {
        let open = Reach::default();
        assert!(open.serves("JP"));
        let br = Reach {
            country: Some("BR".into()),
            ships_to: vec!["AR".into()],
        };
        assert!(br.serves("BR") && br.serves("AR"));
        assert!(!br.serves("JP"));
    }

    #[test]
    fn reports_what_is_missing() {
        let c = [cand("x", 0.0, 0.0, &[("A", 1)])];
        let e = plan(&want(&[("A", 3)]), RIO, &c).unwrap_err();
        assert_eq!(
            e,
            Unroutable::Short {
                sku: sku("A"),
                missing: 2
            }
        );
    }

    #[test]
    fn refuses_a_plan_that_cannot_fit_one_change() {
        // One unit of each of 40 skus at each of 2 locations, 2 units wanted
        // of each: 80 allocations, more than fit.
        let skus: Vec<String> = (0..40).map(|i| format!("S{i}")).collect();
        let stock: Vec<(&str, u64)> = skus.iter().map(|s| (s.as_str(), 1)).collect();
        let c = [
            cand("a", -22.9, -43.2, &stock),
            cand("b", -23.5, -46.6, &stock),
        ];
        let lines: Vec<(&str, u32)> = skus.iter().map(|s| (s.as_str(), 2)).collect();
        let e = plan(&want(&lines), RIO, &c).unwrap_err();
        assert_eq!(e, Unroutable::TooSplit { count: 80 });
    }

    proptest! {
        /// Any plan allocates exactly the demand, never more than a location
        /// holds, and uses a single location whenever one could ship it all.
        #[test]
        fn plans_are_exact_and_within_stock(
            stock in proptest::collection::vec(proptest::collection::vec(0u64..6, 3), 1..30),
            wanted in proptest::collection::vec(1u32..8, 3),
        ) {
            let skus = ["A", "B", "C"];
            let cands: Vec<Candidate> = stock.iter().enumerate().map(|(i, row)| Candidate {
                location_id: LocationId::parse(&format!("l{i}")).unwrap(),
                point: GeoPoint { lat: (i as f64) - 10.0, lon: (i as f64) * 2.0 - 40.0 },
                free: skus.iter().zip(row).map(|(s, q)| (sku(s), *q)).collect(),
                reach: Reach::default(),
            }).collect();
            let demand: Vec<LineQty> = skus.iter().zip(&wanted).map(|(s, q)| LineQty { sku: sku(s), quantity: Quantity::new(i64::from(*q)).unwrap() }).collect();
            let total_free = |s: &str| cands.iter().map(|c| c.free[&sku(s)]).sum::<u64>();
            let feasible = demand.iter().all(|l| total_free(l.sku.as_str()) >= u64::from(l.quantity.get()));
            match plan(&demand, RIO, &cands) {
                Ok(p) => {
                    prop_assert!(feasible);
                    for l in &demand {
                        let got: u64 = p.allocations.iter().filter(|a| a.sku == l.sku).map(|a| u64::from(a.quantity.get())).sum();
                        prop_assert_eq!(got, u64::from(l.quantity.get()));
                    }
                    for a in &p.allocations {
                        let c = cands.iter().find(|c| c.location_id == a.location_id).unwrap();
                        prop_assert!(u64::from(a.quantity.get()) <= c.free[&a.sku]);
                    }
                    let single = cands.iter().any(|c| demand.iter().all(|l| c.free[&l.sku] >= u64::from(l.quantity.get())));
                    let used: std::collections::BTreeSet<_> = p.allocations.iter().map(|a| &a.location_id).collect();
                    if single { prop_assert_eq!(used.len(), 1); }
                }
                Err(_) => prop_assert!(!feasible),
            }
        }
    }
}
