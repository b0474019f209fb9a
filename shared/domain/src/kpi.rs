//! Key figures of the business, kept as sums.
//!
//! Every order adds to the figures of the hour it was placed in (its
//! cohort) a [`Contribution`]: counted once, it says what the order is now —
//! placed, units, routed, rejected, cancelled, shipped (and whether on
//! time), delivered, returned, revenue and refunds, its current status, how
//! long each step took, and what it sold by channel, country, location,
//! product and customer. Each change of an order commits with it the
//! difference between its contribution after and before
//! ([`Contribution::delta`]); the OMS adds those differences to the
//! cohort's sums exactly once per change. So the sums always equal the
//! contributions of the orders as they are now, whatever order the events
//! that moved them came in, and however often they came.
//!
//! The sums live in items of the cohort's partition ([`KpiDelta::partition`]):
//! `T#{n}` (totals, in a few shards so concurrent writers spread), `P#{sku}`
//! and `C#{customerId}` (per product and per customer). [`Kpis`] and
//! [`top`] read them back.

use crate::ids::Sku;
use crate::order::{Order, OrderStatus};
use crate::search::Sla;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const HOUR_MS: u64 = 3_600_000;
/// Shards of an hour's totals.
pub const TOTAL_SHARDS: u64 = 4;

/// Figures of one sum item: attribute → amount.
pub type Cell = BTreeMap<String, i64>;

/// What one order adds to the sums of its placement hour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contribution {
    /// The cohort: the hour the order was placed in (its first millisecond).
    pub hour: u64,
    /// Sum item (sort key) → figures.
    pub cells: BTreeMap<String, Cell>,
}

/// The difference a change made to an order's contribution: what to add to
/// which sum items of the cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiDelta {
    /// The cohort hour's first millisecond.
    pub hour: u64,
    /// Sum item (sort key) → figures to add.
    pub cells: Vec<(String, Vec<(String, i64)>)>,
}

impl KpiDelta {
    /// The partition of an hour's sums.
    pub fn partition(hour: u64) -> String {
        let t = Timestamp::from_millis(hour).to_rfc3339();
        format!("KPI#{}", &t[..13.min(t.len())])
    }
}

/// A duration's histogram bucket, in seconds: exact below 100 s, then two
/// significant digits (120, 3600, 170000).
pub fn bucket(secs: u64) -> u64 {
    if secs < 100 {
        return secs;
    }
    let mut scale = 1;
    while secs / scale >= 100 {
        scale *= 10;
    }
    secs / scale * scale
}

/// The steps whose time from placement is measured.
pub const STEPS: [(&str, OrderStatus); 4] = [
    ("routed", OrderStatus::Routed),
    ("released", OrderStatus::ReadyToShip),
    ("shipped", OrderStatus::PartiallyShipped),
    ("delivered", OrderStatus::Delivered),
];

fn first_reached(order: &Order, status: OrderStatus) -> Option<Timestamp> {
    let also = |s: OrderStatus| match status {
        // A shipment that ships everything at once goes straight to SHIPPED.
        OrderStatus::PartiallyShipped => s == OrderStatus::Shipped || s == OrderStatus::PickedUp,
        // Collected at a store: delivered there.
        OrderStatus::Delivered => s == OrderStatus::PickedUp,
        OrderStatus::Routed => s == OrderStatus::OnHold,
        _ => false,
    };
    order
        .history
        .iter()
        .find(|h| !h.refused && (h.to == status || also(h.to)))
        .map(|h| h.at)
}

fn secs_between(from: Timestamp, to: Timestamp) -> u64 {
    to.millis().saturating_sub(from.millis()) / 1000
}

impl Contribution {
    /// Nothing: an order not yet stored.
    pub fn none() -> Self {
        Self::default()
    }

    /// What the order, as it is now, adds to its cohort's sums. `sla`
    /// decides whether it shipped and was delivered on time.
    pub fn of(order: &Order, sla: &Sla) -> Self {
        let hour = order.created_at.millis() / HOUR_MS * HOUR_MS;
        let mut t = Cell::new();
        let add = |cell: &mut Cell, k: String, v: i64| {
            if v != 0 {
                *cell.entry(k).or_default() += v;
            }
        };
        let cur = order.currency.to_string();
        let units: i64 = order.lines.iter().map(|l| l.quantity.units()).sum();
        let status = order.status;
        let counted = !status.is_closed();
        add(&mut t, "orders".into(), 1);
        add(&mut t, "units".into(), units);
        add(&mut t, format!("s#{status}"), 1);
        let routed_at = first_reached(order, OrderStatus::Routed);
        if routed_at.is_some() {
            add(&mut t, "unitsRouted".into(), units);
        }
        add(
            &mut t,
            "rejected".into(),
            i64::from(status == OrderStatus::Rejected),
        );
        add(
            &mut t,
            "cancelled".into(),
            i64::from(status == OrderStatus::Cancelled),
        );
        let refunded: i64 = order
            .payments
            .iter()
            .filter(|p| p.currency == order.currency)
            .map(|p| p.refunded.amount)
            .sum();
        add(&mut t, format!("refunds#{cur}"), refunded);
        let revenue = if counted {
            order.total.amount - refunded
        } else {
            0
        };
        add(&mut t, format!("rev#{cur}"), revenue);
        for (step, s) in STEPS {
            if let Some(at) = first_reached(order, s) {
                let secs = secs_between(order.created_at, at);
                add(&mut t, format!("d#{step}#{}", bucket(secs)), 1);
            }
        }
        let shipped_at = first_reached(order, OrderStatus::PartiallyShipped);
        let delivered_at = first_reached(order, OrderStatus::Delivered);
        if let Some(at) = shipped_at {
            add(&mut t, "shipped".into(), 1);
            let on_time = secs_between(order.created_at, at) <= sla.ship_secs;
            add(&mut t, "shippedOnTime".into(), i64::from(on_time));
        }
        let returned = !order.returns.is_empty();
        if let Some(at) = delivered_at {
            add(&mut t, "delivered".into(), 1);
            add(&mut t, "returned".into(), i64::from(returned));
            let on_time = secs_between(order.created_at, at) <= sla.deliver_secs;
            let complete =
                matches!(status, OrderStatus::Delivered | OrderStatus::PickedUp) && refunded == 0;
            add(
                &mut t,
                "perfect".into(),
                i64::from(on_time && complete && !returned),
            );
        }
        let mut cells = BTreeMap::new();
        if counted {
            add(&mut t, "soldOrders".into(), 1);
            add(&mut t, "soldUnits".into(), units);
            for (dim, value) in [
                ("channel", order.channel.to_string()),
                ("country", order.ship_to.country.clone()),
            ] {
                add(&mut t, format!("by#{dim}#{value}#orders"), 1);
                add(&mut t, format!("by#{dim}#{value}#units"), units);
                add(&mut t, format!("by#{dim}#{value}#rev#{cur}"), revenue);
            }
            let price = |sku: &Sku| {
                order
                    .lines
                    .iter()
                    .find(|l| l.sku == *sku)
                    .map_or(0, |l| l.unit_price.amount)
            };
            let mut locations: BTreeMap<String, (i64, i64)> = BTreeMap::new();
            for a in &order.allocations {
                let e = locations.entry(a.location_id.to_string()).or_default();
                e.0 += a.quantity.units();
                e.1 += a.quantity.units() * price(&a.sku);
            }
            for (loc, (u, rev)) in locations {
                add(&mut t, format!("by#location#{loc}#orders"), 1);
                add(&mut t, format!("by#location#{loc}#units"), u);
                add(&mut t, format!("by#location#{loc}#rev#{cur}"), rev);
            }
            for l in &order.lines {
                let cell: &mut Cell = cells.entry(format!("P#{}", l.sku)).or_default();
                add(cell, "orders".into(), 1);
                add(cell, "units".into(), l.quantity.units());
                add(cell, format!("rev#{cur}"), l.line_total.amount);
            }
            let cell: &mut Cell = cells.entry(format!("C#{}", order.customer.id)).or_default();
            add(cell, "orders".into(), 1);
            add(cell, "units".into(), units);
            add(cell, format!("rev#{cur}"), revenue);
        }
        cells.insert(format!("T#{}", shard_of(order)), t);
        Self { hour, cells }
    }

    /// What to add to the sums so that `before`'s part becomes `after`'s;
    /// `None` when nothing changes.
    pub fn delta(before: &Self, after: &Self) -> Option<KpiDelta> {
        let mut cells: BTreeMap<&String, BTreeMap<&String, i64>> = BTreeMap::new();
        for (sk, cell) in &after.cells {
            for (k, v) in cell {
                *cells.entry(sk).or_default().entry(k).or_default() += v;
            }
        }
        for (sk, cell) in &before.cells {
            for (k, v) in cell {
                *cells.entry(sk).or_default().entry(k).or_default() -= v;
            }
        }
        let cells: Vec<(String, Vec<(String, i64)>)> = cells
            .into_iter()
            .map(|(sk, c)| {
                let figures: Vec<(String, i64)> = c
                    .into_iter()
                    .filter(|(_, v)| *v != 0)
                    .map(|(k, v)| (k.clone(), v))
                    .collect();
                (sk.clone(), figures)
            })
            .filter(|(_, c)| !c.is_empty())
            .collect();
        if cells.is_empty() {
            return None;
        }
        // An order's cohort never changes; a new order has no `before`.
        Some(KpiDelta {
            hour: after.hour.max(before.hour),
            cells,
        })
    }
}

fn shard_of(order: &Order) -> u64 {
    let h = order
        .order_id
        .as_str()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    h % TOTAL_SHARDS
}

/// Seconds at the 50th and 90th percentile of a histogram of durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    pub count: u64,
    pub p50: Option<u64>,
    pub p90: Option<u64>,
}

fn percentiles(hist: &BTreeMap<u64, i64>) -> Percentiles {
    let count: i64 = hist.values().filter(|v| **v > 0).sum();
    let at = |share: i64| {
        if count <= 0 {
            return None;
        }
        // The smallest value with at least `share`% of the counts at or below it.
        let need = (count * share + 99) / 100;
        let mut seen = 0;
        hist.iter()
            .filter(|(_, n)| **n > 0)
            .find(|(_, n)| {
                seen += **n;
                seen >= need
            })
            .map(|(secs, _)| *secs)
    };
    Percentiles {
        count: count.max(0) as u64,
        p50: at(50),
        p90: at(90),
    }
}

/// `GET /kpis`: the figures of the orders placed in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Kpis {
    pub from: Timestamp,
    pub to: Timestamp,
    pub orders: u64,
    /// Per currency, minor units: totals of orders not rejected or
    /// cancelled, less what was refunded.
    pub revenue: BTreeMap<String, i64>,
    pub refunds: BTreeMap<String, i64>,
    pub units: u64,
    /// Units routed ÷ units ordered.
    pub fill_rate: Option<f64>,
    /// Rejected ÷ placed.
    pub rejection_rate: Option<f64>,
    /// Cancelled ÷ placed.
    pub cancellation_rate: Option<f64>,
    /// Delivered orders with a return ÷ delivered orders.
    pub return_rate: Option<f64>,
    /// Shipped within the ship SLA ÷ shipped.
    pub on_time_ship_rate: Option<f64>,
    /// Delivered complete, on time, not returned, nothing refunded ÷
    /// delivered.
    pub perfect_order_rate: Option<f64>,
    /// Seconds from placement to each step: `routed`, `released`,
    /// `shipped` (first shipment), `delivered`.
    pub durations: BTreeMap<String, Percentiles>,
    /// Orders of the window by their current status.
    pub statuses: BTreeMap<String, u64>,
    /// The statuses still waiting on the OMS, a location or a carrier.
    pub backlog: BTreeMap<String, u64>,
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part.max(0) as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// Sums of the total cells read back: attribute → amount.
pub fn sum_cells<'a>(cells: impl IntoIterator<Item = &'a Cell>) -> Cell {
    let mut out = Cell::new();
    for c in cells {
        for (k, v) in c {
            *out.entry(k.clone()).or_default() += v;
        }
    }
    out
}

impl Kpis {
    /// The figures from the summed totals of the window's hours.
    pub fn from_totals(from: Timestamp, to: Timestamp, t: &Cell) -> Self {
        let n = |k: &str| t.get(k).copied().unwrap_or(0);
        let per_currency = |prefix: &str| -> BTreeMap<String, i64> {
            t.iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), *v)))
                .filter(|(_, v)| *v != 0)
                .collect()
        };
        let mut durations = BTreeMap::new();
        for (step, _) in STEPS {
            let prefix = format!("d#{step}#");
            let hist: BTreeMap<u64, i64> = t
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.parse().ok()?, *v)))
                .collect();
            durations.insert(step.to_owned(), percentiles(&hist));
        }
        let statuses: BTreeMap<String, u64> = t
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("s#")?.to_owned(), *v)))
            .filter(|(_, v)| *v > 0)
            .map(|(k, v)| (k, v as u64))
            .collect();
        let backlog = statuses
            .iter()
            .filter(|(s, _)| {
                !matches!(
                    s.as_str(),
                    "DELIVERED" | "RETURNED" | "REJECTED" | "CANCELLED"
                )
            })
            .map(|(s, v)| (s.clone(), *v))
            .collect();
        let orders = n("orders");
        Self {
            from,
            to,
            orders: orders.max(0) as u64,
            revenue: per_currency("rev#"),
            refunds: per_currency("refunds#"),
            units: n("units").max(0) as u64,
            fill_rate: rate(n("unitsRouted"), n("units")),
            rejection_rate: rate(n("rejected"), orders),
            cancellation_rate: rate(n("cancelled"), orders),
            return_rate: rate(n("returned"), n("delivered")),
            on_time_ship_rate: rate(n("shippedOnTime"), n("shipped")),
            perfect_order_rate: rate(n("perfect"), n("delivered")),
            durations,
            statuses,
            backlog,
        }
    }
}

/// What a report ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBy {
    Product,
    Customer,
    Channel,
    Country,
    Day,
    /// Each hour of the window, in time order (not ranked).
    Hour,
    Location,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    Revenue,
    Orders,
    Units,
}

impl ReportBy {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "product" => Self::Product,
            "customer" => Self::Customer,
            "channel" => Self::Channel,
            "country" => Self::Country,
            "day" => Self::Day,
            "hour" => Self::Hour,
            "location" => Self::Location,
            _ => return None,
        })
    }
    /// The sum items' sort-key prefix for products and customers; the
    /// totals' attribute prefix for the others.
    pub fn cell_prefix(self) -> Option<&'static str> {
        match self {
            Self::Product => Some("P#"),
            Self::Customer => Some("C#"),
            _ => None,
        }
    }
    pub fn attr_prefix(self) -> Option<&'static str> {
        match self {
            Self::Channel => Some("by#channel#"),
            Self::Country => Some("by#country#"),
            Self::Location => Some("by#location#"),
            _ => None,
        }
    }
}

impl Metric {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "revenue" => Self::Revenue,
            "orders" => Self::Orders,
            "units" => Self::Units,
            _ => return None,
        })
    }
}

/// One row of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    pub key: String,
    pub orders: i64,
    pub units: i64,
    /// Per currency, minor units.
    pub revenue: BTreeMap<String, i64>,
}

/// `GET /reports/top`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub by: String,
    pub metric: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub rows: Vec<ReportRow>,
}

/// Folds figures into rows: `key` → (`figure` → amount), where a figure is
/// `orders`, `units` or `rev#{CUR}`.
pub fn rows(figures: BTreeMap<String, Cell>) -> Vec<ReportRow> {
    figures
        .into_iter()
        .map(|(key, c)| ReportRow {
            key,
            orders: c.get("orders").copied().unwrap_or(0),
            units: c.get("units").copied().unwrap_or(0),
            revenue: c
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("rev#")?.to_owned(), *v)))
                .filter(|(_, v)| *v != 0)
                .collect(),
        })
        .filter(|r| r.orders > 0 || r.units > 0)
        .collect()
}

/// The first `limit` rows by the metric, highest first (revenue: summed
/// over currencies as minor units — rank within one currency for
/// meaningful totals); ties by key.
pub fn top(mut rows: Vec<ReportRow>, metric: &Metric, limit: usize) -> Vec<ReportRow> {
    let value = |r: &ReportRow| match metric {
        Metric::Orders => r.orders,
        Metric::Units => r.units,
        Metric::Revenue => r.revenue.values().sum(),
    };
    rows.sort_by(|a, b| value(b).cmp(&value(a)).then(a.key.cmp(&b.key)));
    rows.truncate(limit);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_two_significant_digits_above_a_hundred_seconds() {
        assert_eq!(bucket(7), 7);
        assert_eq!(bucket(99), 99);
        assert_eq!(bucket(120), 120);
        assert_eq!(bucket(3_659), 3_600);
        assert_eq!(bucket(172_800), 170_000);
    }

    #[test]
    fn percentiles_are_the_smallest_value_covering_the_share() {
        let hist: BTreeMap<u64, i64> = [(10, 5), (20, 4), (60, 1)].into();
        let p = percentiles(&hist);
        assert_eq!((p.count, p.p50, p.p90), (10, Some(10), Some(20)));
        assert_eq!(percentiles(&BTreeMap::new()).p50, None);
    }
}

/// Longest window a KPI or report request may span.
pub const MAX_WINDOW_MS: u64 = 92 * 24 * HOUR_MS;
/// Most rows of a report.
pub const MAX_REPORT_ROWS: usize = 1000;

/// The window of a KPI or report request: the hours from `from` (rounded
/// down to the hour) up to `to` (rounded up); by default the 24 hours that
/// end with the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// `GET /reports/top`'s parameters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    pub by: ReportBy,
    pub metric: Metric,
    pub window: Window,
    pub limit: usize,
}

fn time_param(name: &str, value: &str) -> Result<Timestamp, FieldError> {
    Timestamp::parse_rfc3339(value).ok_or_else(|| {
        FieldError::new(name, "expected an ISO-8601 time, e.g. 2026-01-31T00:00:00Z")
    })
}

use crate::validation::FieldError;

impl Window {
    /// `from` and `to` among `pairs` (other names are left to the caller).
    pub fn parse(pairs: &[(String, String)], now: Timestamp) -> Result<Self, FieldError> {
        let mut from = None;
        let mut to = None;
        for (name, value) in pairs {
            match name.as_str() {
                "from" => from = Some(time_param(name, value)?),
                "to" => to = Some(time_param(name, value)?),
                _ => {}
            }
        }
        let to = Timestamp::from_millis(to.unwrap_or(now).millis().div_ceil(HOUR_MS) * HOUR_MS);
        // By default the 24 whole hours that end with the current one.
        let from = from.unwrap_or(Timestamp::from_millis(
            to.millis().saturating_sub(24 * HOUR_MS),
        ));
        let from = Timestamp::from_millis(from.millis() / HOUR_MS * HOUR_MS);
        if from >= to {
            return Err(FieldError::new("from", "from must be before to"));
        }
        if to.millis() - from.millis() > MAX_WINDOW_MS {
            return Err(FieldError::new(
                "from",
                "a window spans at most 92 days; ask for several",
            ));
        }
        Ok(Self { from, to })
    }

    /// Only `from` and `to` may be given.
    pub fn parse_only(pairs: &[(String, String)], now: Timestamp) -> Result<Self, FieldError> {
        if let Some((name, _)) = pairs.iter().find(|(n, _)| n != "from" && n != "to") {
            return Err(FieldError::new(name.clone(), "unknown parameter"));
        }
        Self::parse(pairs, now)
    }
}

impl ReportQuery {
    pub fn parse(pairs: &[(String, String)], now: Timestamp) -> Result<Self, FieldError> {
        let mut by = None;
        let mut metric = Metric::Revenue;
        let mut limit = 10;
        for (name, value) in pairs {
            let bad = |why: &str| FieldError::new(name.clone(), why);
            match name.as_str() {
                "by" => {
                    by = Some(ReportBy::parse(value).ok_or_else(|| {
                        bad("one of product, customer, channel, country, day, hour, location")
                    })?)
                }
                "metric" => {
                    metric =
                        Metric::parse(value).ok_or_else(|| bad("one of revenue, orders, units"))?
                }
                "limit" => {
                    limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_REPORT_ROWS).contains(n))
                        .ok_or_else(|| bad("a whole number from 1 to 1000"))?
                }
                "from" | "to" => {}
                _ => return Err(bad("unknown parameter")),
            }
        }
        Ok(Self {
            by: by.ok_or_else(|| FieldError::new("by", "is required"))?,
            metric,
            window: Window::parse(pairs, now)?,
            limit,
        })
    }
}

impl ReportBy {
    pub fn name(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Customer => "customer",
            Self::Channel => "channel",
            Self::Country => "country",
            Self::Day => "day",
            Self::Hour => "hour",
            Self::Location => "location",
        }
    }
}

impl Metric {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Revenue => "revenue",
            Self::Orders => "orders",
            Self::Units => "units",
        }
    }
}

/// The figures of a report from the sum items read: products and customers
/// from their own items, channels, countries and locations from the totals'
/// `by#…` figures, days from the totals of their hours.
pub fn report_figures(
    by: ReportBy,
    totals: &[(u64, Cell)],
    cells: &[(u64, String, Cell)],
) -> BTreeMap<String, Cell> {
    let mut out: BTreeMap<String, Cell> = BTreeMap::new();
    let mut add = |key: String, figure: &str, v: i64| {
        *out.entry(key)
            .or_default()
            .entry(figure.to_owned())
            .or_default() += v;
    };
    match (by.cell_prefix(), by.attr_prefix()) {
        (Some(prefix), _) => {
            for (_, sk, cell) in cells {
                if let Some(key) = sk.strip_prefix(prefix) {
                    for (figure, v) in cell {
                        add(key.to_owned(), figure, *v);
                    }
                }
            }
        }
        (None, Some(prefix)) => {
            for (_, t) in totals {
                for (name, v) in t {
                    // `by#channel#web#rev#BRL` → ("web", "rev#BRL")
                    if let Some((key, figure)) = name
                        .strip_prefix(prefix)
                        .and_then(|rest| rest.split_once('#'))
                    {
                        add(key.to_owned(), figure, *v);
                    }
                }
            }
        }
        (None, None) => {
            for (hour, t) in totals {
                let stamp = Timestamp::from_millis(*hour).to_rfc3339();
                let day = match by {
                    ReportBy::Hour => format!("{}:00Z", &stamp[..13]),
                    _ => stamp[..10].to_owned(),
                };
                // Orders neither rejected nor cancelled, as in every report.
                for (figure, sold) in [("orders", "soldOrders"), ("units", "soldUnits")] {
                    add(day.clone(), figure, t.get(sold).copied().unwrap_or(0));
                }
                for (name, v) in t.iter().filter(|(k, _)| k.starts_with("rev#")) {
                    add(day.clone(), name, *v);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod window_tests {
    use super::*;

    #[test]
    fn the_default_window_is_the_24_hours_ending_with_the_current_one() {
        let now = Timestamp::parse_rfc3339("2026-11-26T00:40:00Z").unwrap();
        let w = Window::parse(&[], now).unwrap();
        assert_eq!(w.to.to_rfc3339(), "2026-11-26T01:00:00.000Z");
        assert_eq!(w.from.to_rfc3339(), "2026-11-25T01:00:00.000Z");
        let pairs = [("from".to_owned(), "2026-11-25T10:30:00Z".to_owned())];
        let w = Window::parse(&pairs, now).unwrap();
        assert_eq!(w.from.to_rfc3339(), "2026-11-25T10:00:00.000Z");
    }
}
