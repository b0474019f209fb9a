//! Choosing fulfilment locations for an order being reserved. Pure: no I/O.
//!
//! Two strategies ([`RoutingRules`], `PUT /routing-rules`):
//! - `NEAREST` (the default): one location that can ship everything,
//!   nearest to the customer; otherwise the fewest locations, then the
//!   shortest total distance;
//! - `COST`: every plan that can ship the order — one location, or a split
//!   over up to [`EXACT_SPLIT_LIMIT`] — is scored by the rules' weights
//!   ([`RoutingRules::score`]: per package, per 100 km, a border crossed,
//!   past the location's daily capacity, less its priority) and the lowest
//!   score wins; the routing reason names it and the runner-up with both
//!   scores.
//!
//! Both search location subsets exactly up to [`EXACT_SPLIT_LIMIT`]
//! locations, then fall back to a greedy cover (most units first, nearest
//! on ties).

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
    /// Preferred by the cost strategy (0 to 100).
    pub priority: u8,
    /// Orders it can still take today, if it has a daily capacity.
    pub capacity_left: Option<u64>,
    /// It ships orders (a store may only hand them over the counter).
    pub ships: bool,
}

/// How routing chooses (`PUT /routing-rules`): the strategy and the cost
/// strategy's weights, in minor units of cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingRules {
    pub strategy: Strategy,
    /// What each package (each location of a split) costs: the split
    /// penalty.
    #[serde(default = "RoutingRules::default_per_package")]
    pub per_package: i64,
    /// What a package costs per 100 km from its location to the customer.
    #[serde(default = "RoutingRules::default_per_100_km")]
    pub per_100_km: i64,
    /// Added for a package that crosses a border.
    #[serde(default = "RoutingRules::default_cross_border")]
    pub cross_border: i64,
    /// Added for a location past its daily capacity (`dailyCapacity`).
    #[serde(default = "RoutingRules::default_over_capacity")]
    pub over_capacity: i64,
    /// Taken off per point of a location's `priority` (0 to 100).
    #[serde(default = "RoutingRules::default_per_priority_point")]
    pub per_priority_point: i64,
}

#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Strategy {
    #[default]
    Nearest,
    Cost,
}

impl Default for RoutingRules {
    fn default() -> Self {
        Self {
            strategy: Strategy::Nearest,
            per_package: Self::default_per_package(),
            per_100_km: Self::default_per_100_km(),
            cross_border: Self::default_cross_border(),
            over_capacity: Self::default_over_capacity(),
            per_priority_point: Self::default_per_priority_point(),
        }
    }
}

impl RoutingRules {
    fn default_per_package() -> i64 {
        1500
    }
    fn default_per_100_km() -> i64 {
        100
    }
    fn default_cross_border() -> i64 {
        3000
    }
    fn default_over_capacity() -> i64 {
        100_000
    }
    fn default_per_priority_point() -> i64 {
        10
    }

    /// The rules if every weight is 0 to 10^9.
    pub fn validate(self) -> Result<Self, crate::validation::FieldError> {
        for (field, v) in [
            ("perPackage", self.per_package),
            ("per100Km", self.per_100_km),
            ("crossBorder", self.cross_border),
            ("overCapacity", self.over_capacity),
            ("perPriorityPoint", self.per_priority_point),
        ] {
            if !(0..=1_000_000_000).contains(&v) {
                return Err(crate::validation::FieldError::new(
                    field,
                    "must be 0 to 1000000000",
                ));
            }
        }
        Ok(self)
    }

    /// What shipping a package from `c`, `km` away, to `country` costs.
    fn package(&self, c: &Candidate, km: f64, country: Option<&str>) -> Score {
        let mut parts = vec![format!("{:.0} km", km)];
        let mut cost = self.per_package + (km * self.per_100_km as f64 / 100.0).round() as i64;
        if let (Some(own), Some(to)) = (c.reach.country.as_deref(), country)
            && own != to
        {
            cost += self.cross_border;
            parts.push("cross-border".into());
        }
        if c.capacity_left == Some(0) {
            cost += self.over_capacity;
            parts.push("past its daily capacity".into());
        }
        if c.priority > 0 {
            cost -= self.per_priority_point * i64::from(c.priority);
            parts.push(format!("priority {}", c.priority));
        }
        Score {
            cost,
            detail: format!("{} ({})", c.location_id, parts.join(", ")),
        }
    }

    /// A plan's score: the sum of its packages'.
    pub fn score(&self, set: &[(&Candidate, f64)], country: Option<&str>) -> (i64, String) {
        let packages: Vec<Score> = set
            .iter()
            .map(|(c, km)| self.package(c, *km, country))
            .collect();
        let cost = packages.iter().map(|p| p.cost).sum();
        let detail = packages
            .iter()
            .map(|p| p.detail.as_str())
            .collect::<Vec<_>>()
            .join(" + ");
        (cost, detail)
    }
}

struct Score {
    cost: i64,
    detail: String,
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
    /// Whether it may ship to `country`: it ships at all, and there.
    pub fn serves(&self, country: &str) -> bool {
        self.ships && self.reach.serves(country)
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
    /// How to choose among the plans.
    rules: RoutingRules,
    /// Incoming supply per sku and location (for backorders).
    incoming: BTreeMap<(Sku, LocationId), crate::inventory::Incoming>,
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
                priority: l.priority.unwrap_or(0),
                capacity_left: l.daily_capacity.map(u64::from),
                ships: l.ships,
            })
            .collect();
        Self {
            candidates,
            shards,
            network_safety: BTreeMap::new(),
            rules: RoutingRules::default(),
            incoming: BTreeMap::new(),
        }
    }

    /// With the incoming supply of its skus.
    pub fn with_incoming(
        mut self,
        incoming: BTreeMap<(Sku, LocationId), crate::inventory::Incoming>,
    ) -> Self {
        self.incoming = incoming;
        self
    }

    /// The incoming supply of a sku at a location, if any is announced.
    pub fn incoming(
        &self,
        sku: &Sku,
        location: &LocationId,
    ) -> Option<&crate::inventory::Incoming> {
        self.incoming.get(&(sku.clone(), location.clone()))
    }

    /// Chosen by these rules, with the orders each location already took
    /// today (against its daily capacity).
    pub fn with_rules(
        mut self,
        rules: RoutingRules,
        taken_today: &BTreeMap<LocationId, u64>,
    ) -> Self {
        self.rules = rules;
        for c in &mut self.candidates {
            if let (Some(left), Some(taken)) =
                (c.capacity_left.as_mut(), taken_today.get(&c.location_id))
            {
                *left = left.saturating_sub(*taken);
            }
        }
        self
    }

    pub fn rules(&self) -> &RoutingRules {
        &self.rules
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

/// The plan for `demand`, within [`MAX_ALLOCATIONS`], by the nearest
/// strategy.
pub fn plan(
    demand: &[LineQty],
    ship_to: GeoPoint,
    candidates: &[Candidate],
) -> Result<Plan, Unroutable> {
    plan_by(demand, ship_to, None, candidates, &RoutingRules::default())
}

/// The plan for `demand` to `ship_to` (in `country`) by `rules`, within
/// [`MAX_ALLOCATIONS`].
pub fn plan_by(
    demand: &[LineQty],
    ship_to: GeoPoint,
    country: Option<&str>,
    candidates: &[Candidate],
    rules: &RoutingRules,
) -> Result<Plan, Unroutable> {
    let p = match rules.strategy {
        Strategy::Nearest => choose(demand, ship_to, candidates)?,
        Strategy::Cost => cheapest(demand, ship_to, country, candidates, rules)?,
    };
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
    let scored = nearest_first(demand, ship_to, candidates);
    let covers = |set: &[&Scored]| covers(demand, set);

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

/// The cost strategy: every plan of up to [`EXACT_SPLIT_LIMIT`] locations
/// that covers the order, scored; the lowest wins (fewer packages, then
/// the location ids, on a tie). Beyond what is enumerated: the nearest
/// strategy's greedy cover.
fn cheapest(
    demand: &[LineQty],
    ship_to: GeoPoint,
    country: Option<&str>,
    candidates: &[Candidate],
    rules: &RoutingRules,
) -> Result<Plan, Unroutable> {
    let mut scored = nearest_first(demand, ship_to, candidates);
    scored.truncate(EXACT_CANDIDATE_LIMIT);
    let covers = |set: &[&Scored]| covers(demand, set);
    // (cost, packages, indexes, detail)
    let mut plans: Vec<(i64, usize, Vec<usize>, String)> = Vec::new();
    for k in 1..=EXACT_SPLIT_LIMIT.min(scored.len()) {
        for_each_subset(scored.len(), k, &mut |idx| {
            let set: Vec<&Scored> = idx.iter().map(|&i| &scored[i]).collect();
            // A plan with a location it does not need is never cheaper.
            let needed = set.len() == 1
                || (0..set.len()).all(|skip| {
                    let rest: Vec<&Scored> = set
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != skip)
                        .map(|(_, s)| *s)
                        .collect();
                    !covers(&rest)
                });
            if needed && covers(&set) {
                let parts: Vec<(&Candidate, f64)> = set.iter().map(|s| (s.c, s.km)).collect();
                let (cost, detail) = rules.score(&parts, country);
                plans.push((cost, k, idx.to_vec(), detail));
            }
        });
    }
    plans.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then_with(|| a.2.cmp(&b.2))
    });
    let Some((cost, _, idx, detail)) = plans.first().cloned() else {
        return choose(demand, ship_to, candidates);
    };
    let set: Vec<&Scored> = idx.iter().map(|&i| &scored[i]).collect();
    let runner_up = match plans.get(1) {
        Some((c, _, _, d)) => format!("; runner-up {d}, cost {c}"),
        None => "; no other plan".to_owned(),
    };
    let reason = format!(
        "lowest cost of {} plan(s): {detail}, cost {cost}{runner_up}",
        plans.len()
    );
    Ok(allocate(demand, &set, reason))
}

/// The candidates that hold any of `demand`, nearest first (the id as the
/// tie-break, so results are deterministic).
fn nearest_first<'a>(
    demand: &[LineQty],
    ship_to: GeoPoint,
    candidates: &'a [Candidate],
) -> Vec<Scored<'a>> {
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
    scored
}

/// Whether a set of locations holds every line.
fn covers(demand: &[LineQty], set: &[&Scored]) -> bool {
    demand
        .iter()
        .all(|l| set.iter().map(|s| s.free(&l.sku)).sum::<u64>() >= u64::from(l.quantity.get()))
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
            priority: 0,
            capacity_left: None,
            ships: true,
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
    fn the_cost_strategy_weighs_packages_distance_capacity_and_priority() {
        let cost = RoutingRules {
            strategy: super::Strategy::Cost,
            ..RoutingRules::default()
        };
        let locs = |p: &Plan| {
            p.allocations
                .iter()
                .map(|a| a.location_id.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
        };
        // One location 2,500 km away, or two next door: two packages
        // (2 × 1500 + a few km) cost less than one that far (1500 + 2500).
        let c = [
            cand("far", -3.7, -38.5, &[("A", 5), ("B", 5)]),
            cand("a", -22.91, -43.2, &[("A", 5)]),
            cand("b", -22.92, -43.2, &[("B", 5)]),
        ];
        let demand = want(&[("A", 1), ("B", 1)]);
        let p = plan_by(&demand, RIO, Some("BR"), &c, &cost).unwrap();
        assert_eq!(locs(&p), ["a", "b"], "{}", p.reason);
        assert!(
            p.reason.contains("runner-up far"),
            "the runner-up is named: {}",
            p.reason
        );
        // The nearest strategy keeps one package.
        let p = plan(&demand, RIO, &c).unwrap();
        assert_eq!(locs(&p), ["far"]);

        // Past its daily capacity a location is avoided; priority breaks a
        // near tie.
        let mut full = cand("near", -22.9, -43.2, &[("A", 5)]);
        full.capacity_left = Some(0);
        let mut preferred = cand("pref", -23.0, -43.3, &[("A", 5)]);
        preferred.priority = 50;
        let c = [full, preferred, cand("other", -22.95, -43.25, &[("A", 5)])];
        let p = plan_by(&want(&[("A", 1)]), RIO, Some("BR"), &c, &cost).unwrap();
        assert_eq!(locs(&p), ["pref"], "{}", p.reason);
        // A border crossed costs.
        let mut abroad = cand("abroad", -22.9, -43.2, &[("A", 5)]);
        abroad.reach.country = Some("AR".into());
        abroad.reach.ships_to = vec!["BR".into()];
        let mut home = cand("home", -23.5, -46.6, &[("A", 5)]);
        home.reach.country = Some("BR".into());
        let p = plan_by(&want(&[("A", 1)]), RIO, Some("BR"), &[abroad, home], &cost).unwrap();
        assert_eq!(locs(&p), ["home"], "{}", p.reason);
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
                priority: (i % 3) as u8,
                capacity_left: (i % 4 == 0).then_some(0),
                ships: true,
            }).collect();
            let demand: Vec<LineQty> = skus.iter().zip(&wanted).map(|(s, q)| LineQty { sku: sku(s), quantity: Quantity::new(i64::from(*q)).unwrap() }).collect();
            let total_free = |s: &str| cands.iter().map(|c| c.free[&sku(s)]).sum::<u64>();
            let feasible = demand.iter().all(|l| total_free(l.sku.as_str()) >= u64::from(l.quantity.get()));
            let cost = RoutingRules { strategy: super::Strategy::Cost, ..RoutingRules::default() };
            if let Ok(p) = plan_by(&demand, RIO, Some("BR"), &cands, &cost) {
                prop_assert!(feasible);
                for l in &demand {
                    let got: u64 = p.allocations.iter().filter(|a| a.sku == l.sku).map(|a| u64::from(a.quantity.get())).sum();
                    prop_assert_eq!(got, u64::from(l.quantity.get()));
                }
                for a in &p.allocations {
                    let c = cands.iter().find(|c| c.location_id == a.location_id).unwrap();
                    prop_assert!(u64::from(a.quantity.get()) <= c.free[&a.sku]);
                }
            }
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
