//! Events partner systems put on the bus, and who may send which.
//!
//! A partner event's `detail-type` names it; its `source` must be on the
//! allow-list of the partner kind that may send it (configurable per kind,
//! by default `partner.payments`, `partner.wms`, `partner.carrier`,
//! `partner.marketplace`). Anything else is refused, logged and, when the
//! order exists, recorded in its history — never applied.

use crate::events::LineQty;
use crate::ids::{LocationId, OrderId, Sku};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerKind {
    Payments,
    Wms,
    Carrier,
    Marketplace,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 4] = [Self::Payments, Self::Wms, Self::Carrier, Self::Marketplace];

    pub fn name(self) -> &'static str {
        match self {
            Self::Payments => "payments",
            Self::Wms => "wms",
            Self::Carrier => "carrier",
            Self::Marketplace => "marketplace",
        }
    }

    pub fn default_source(self) -> String {
        format!("partner.{}", self.name())
    }
}

/// Partner event types and the kinds allowed to send them.
pub const PARTNER_EVENTS: &[(&str, &[PartnerKind])] = &[
    ("PaymentConfirmed", &[PartnerKind::Payments]),
    ("PaymentFailed", &[PartnerKind::Payments]),
    (
        "ShipmentStatusChanged",
        &[PartnerKind::Wms, PartnerKind::Carrier],
    ),
    ("ReturnReceived", &[PartnerKind::Wms]),
    ("CancellationResponse", &[PartnerKind::Wms]),
];

/// The allowed sources per partner kind.
#[derive(Debug, Clone)]
pub struct PartnerSources {
    by_kind: Vec<(PartnerKind, Vec<String>)>,
}

impl Default for PartnerSources {
    fn default() -> Self {
        Self {
            by_kind: PartnerKind::ALL
                .iter()
                .map(|k| (*k, vec![k.default_source()]))
                .collect(),
        }
    }
}

impl PartnerSources {
    /// From `OMS_PARTNER_SOURCES_<KIND>` (comma-separated), else the defaults.
    pub fn from_env() -> Self {
        let by_kind = PartnerKind::ALL
            .iter()
            .map(|k| {
                let var = format!("OMS_PARTNER_SOURCES_{}", k.name().to_uppercase());
                let sources = std::env::var(var)
                    .ok()
                    .map(|v| {
                        v.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect::<Vec<_>>()
                    })
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| vec![k.default_source()]);
                (*k, sources)
            })
            .collect();
        Self { by_kind }
    }

    /// Whether `source` may send `detail_type`.
    pub fn allows(&self, source: &str, detail_type: &str) -> bool {
        PARTNER_EVENTS
            .iter()
            .find(|(t, _)| *t == detail_type)
            .is_some_and(|(_, kinds)| {
                self.by_kind
                    .iter()
                    .any(|(k, sources)| kinds.contains(k) && sources.iter().any(|s| s == source))
            })
    }

    /// Every allowed source (the rules' `source` patterns).
    pub fn all_sources(&self) -> Vec<String> {
        self.by_kind.iter().flat_map(|(_, s)| s.clone()).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentConfirmed {
    pub order_id: OrderId,
    pub payment_id: String,
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    pub order_id: OrderId,
    pub payment_id: String,
    pub reason: String,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShipmentStatus {
    Picked,
    Packed,
    Shipped,
    Delivered,
    Exception,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentStatusChanged {
    pub order_id: OrderId,
    pub shipment_id: String,
    pub location_id: LocationId,
    pub status: ShipmentStatus,
    #[serde(default)]
    pub lines: Option<Vec<LineQty>>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ItemCondition {
    Resellable,
    Damaged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnedLine {
    pub sku: Sku,
    pub quantity: u32,
    pub condition: ItemCondition,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnReceived {
    pub order_id: OrderId,
    pub return_id: String,
    pub lines: Vec<ReturnedLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationResponse {
    pub order_id: OrderId,
    pub accepted: bool,
    #[serde(default)]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_allowed_per_kind_and_event() {
        let s = PartnerSources::default();
        assert!(s.allows("partner.payments", "PaymentConfirmed"));
        assert!(!s.allows("partner.wms", "PaymentConfirmed"));
        assert!(s.allows("partner.carrier", "ShipmentStatusChanged"));
        assert!(!s.allows("partner.carrier", "ReturnReceived"));
        assert!(!s.allows("evil", "ShipmentStatusChanged"));
        assert!(!s.allows("partner.payments", "SomethingElse"));
    }
}
