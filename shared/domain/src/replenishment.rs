//! Low stock and replenishment: when a sku at a location should be
//! reordered, and how much.
//!
//! A location's **reorder point** for a sku is the one set on it
//! (`PUT /inventory/{sku}/{locationId}` `reorderPoint`), else what it sells
//! over its lead time plus its safety stock: ⌈velocity × leadTimeDays⌉ +
//! safetyStock, where velocity is units per day over the window and the
//! lead time is the one set (`leadTimeDays`, 7 unless set). A sku whose
//! available and incoming units together are at or below its reorder point
//! is suggested, for enough to reach two lead times of sales plus the
//! safety stock again (and at least past the reorder point). An order that
//! takes a location's available units across a reorder point set on it
//! raises `LowStock` (see `crate::order`).

use crate::ids::{LocationId, Sku};
use serde::{Deserialize, Serialize};

/// The lead time of a location's supply unless one is set, in days.
pub const DEFAULT_LEAD_TIME_DAYS: u64 = 7;

/// One sku to reorder at a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub sku: Sku,
    pub location_id: LocationId,
    pub available: u64,
    /// Units on their way (announced, not received).
    pub incoming: u64,
    /// Units sold per day over the window.
    pub velocity_per_day: f64,
    /// Days the available units last at that pace (absent: nothing sells).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_of_cover: Option<f64>,
    pub reorder_point: u64,
    /// `SET` on the inventory record, or `VELOCITY` (computed).
    pub reorder_point_from: String,
    pub lead_time_days: u64,
    pub suggested_quantity: u64,
}

/// `GET /replenishment?locationId=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplenishmentList {
    pub location_id: LocationId,
    /// The days of sales velocity is measured over.
    pub window_days: u64,
    pub suggestions: Vec<Suggestion>,
}

/// What one sku at one location has and sells.
#[derive(Debug, Clone, PartialEq)]
pub struct StockPosition {
    pub sku: Sku,
    pub location_id: LocationId,
    pub available: u64,
    pub incoming: u64,
    pub safety_stock: u64,
    pub velocity_per_day: f64,
    pub reorder_point: Option<u64>,
    pub lead_time_days: Option<u64>,
}

/// Units a location sells per day: the sku's units sold across the
/// network over `window_days`, times the location's share of all units
/// the locations shipped in that window.
pub fn velocity_per_day(
    sku_units: i64,
    location_units: i64,
    all_units: i64,
    window_days: u64,
) -> f64 {
    if all_units <= 0 {
        return 0.0;
    }
    let share = location_units.max(0) as f64 / all_units as f64;
    sku_units.max(0) as f64 * share / window_days.max(1) as f64
}

/// The suggestion for a position, if it is at or below its reorder point.
pub fn suggest(p: &StockPosition) -> Option<Suggestion> {
    let lead = p.lead_time_days.unwrap_or(DEFAULT_LEAD_TIME_DAYS);
    let velocity = p.velocity_per_day.max(0.0);
    let (reorder_point, from) = match p.reorder_point {
        Some(rp) => (rp, "SET"),
        None if velocity > 0.0 => (
            (velocity * lead as f64).ceil() as u64 + p.safety_stock,
            "VELOCITY",
        ),
        // Nothing sells and no point is set: nothing to suggest.
        None => return None,
    };
    let position = p.available + p.incoming;
    if position > reorder_point {
        return None;
    }
    let target =
        ((velocity * 2.0 * lead as f64).ceil() as u64 + p.safety_stock).max(reorder_point + 1);
    Some(Suggestion {
        sku: p.sku.clone(),
        location_id: p.location_id.clone(),
        available: p.available,
        incoming: p.incoming,
        velocity_per_day: (velocity * 100.0).round() / 100.0,
        days_of_cover: (velocity > 0.0)
            .then(|| ((p.available as f64 / velocity) * 10.0).round() / 10.0),
        reorder_point,
        reorder_point_from: from.into(),
        lead_time_days: lead,
        suggested_quantity: target - position,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(available: u64, velocity: f64, rp: Option<u64>) -> StockPosition {
        StockPosition {
            sku: Sku::parse("A").unwrap(),
            location_id: LocationId::parse("wh").unwrap(),
            available,
            incoming: 0,
            safety_stock: 2,
            velocity_per_day: velocity,
            reorder_point: rp,
            lead_time_days: None,
        }
    }

    #[test]
    fn velocity_is_the_skus_sales_times_the_locations_share_per_day() {
        // 28 sold in 7 days; the location shipped 30 of 120 units.
        assert_eq!(velocity_per_day(28, 30, 120, 7), 1.0);
        assert_eq!(
            velocity_per_day(28, 0, 0, 7),
            0.0,
            "nothing shipped anywhere"
        );
    }

    #[test]
    fn a_position_at_or_below_its_reorder_point_is_suggested_to_two_lead_times() {
        // 1.5 a day over 7 days, 2 kept back: reorder at 13 (⌈10.5⌉ + 2),
        // up to 23 (⌈21⌉ + 2).
        let s = suggest(&position(13, 1.5, None)).unwrap();
        assert_eq!(
            (
                s.reorder_point,
                s.suggested_quantity,
                s.reorder_point_from.as_str()
            ),
            (13, 10, "VELOCITY")
        );
        assert_eq!(s.days_of_cover, Some(8.7));
        assert!(suggest(&position(14, 1.5, None)).is_none());
        // Incoming supply counts.
        let mut p = position(5, 1.5, None);
        p.incoming = 10;
        assert!(suggest(&p).is_none());
        // A point set wins; nothing selling and none set: nothing.
        let s = suggest(&position(3, 0.0, Some(5))).unwrap();
        assert_eq!(
            (s.reorder_point, s.suggested_quantity, s.days_of_cover),
            (5, 3, None)
        );
        assert!(suggest(&position(0, 0.0, None)).is_none());
    }
}
