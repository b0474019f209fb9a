//! Events partner systems put on the bus, and who may send which.
//!
//! A partner event's `detail-type` names it; its `source` must be on the
//! allow-list of the partner kind that may send it (configurable per kind,
//! by default `partner.payments`, `partner.wms`, `partner.carrier`,
//! `partner.marketplace`). Anything else is refused, logged and, when the
//! order exists, recorded in its history — never applied.

use crate::ids::{LocationId, OrderId, Quantity, Sku};
use crate::inventory::LineQty;
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
    /// The sources allowed per kind; a kind left out keeps its default.
    pub fn new(overrides: impl IntoIterator<Item = (PartnerKind, Vec<String>)>) -> Self {
        let mut sources = Self::default();
        for (kind, list) in overrides {
            if let Some(entry) = sources.by_kind.iter_mut().find(|(k, _)| *k == kind)
                && !list.is_empty()
            {
                entry.1 = list;
            }
        }
        sources
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
    pub quantity: Quantity,
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

/// A partner event, read by its `detail-type`.
#[derive(Debug, Clone, PartialEq)]
pub enum PartnerFact {
    PaymentConfirmed(PaymentConfirmed),
    PaymentFailed(PaymentFailed),
    ShipmentStatusChanged(ShipmentStatusChanged),
    ReturnReceived(ReturnReceived),
    CancellationResponse(CancellationResponse),
}

/// Why a partner event could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    #[error("{0} is not a partner event")]
    Unknown(String),
    #[error("malformed: {0}")]
    Malformed(String),
}

impl PartnerFact {
    /// Reads the `detail` of a partner event of type `detail_type`.
    pub fn parse(detail_type: &str, detail: &serde_json::Value) -> Result<Self, FactError> {
        fn read<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, FactError> {
            T::deserialize(v).map_err(|e| FactError::Malformed(e.to_string()))
        }
        Ok(match detail_type {
            "PaymentConfirmed" => Self::PaymentConfirmed(read(detail)?),
            "PaymentFailed" => Self::PaymentFailed(read(detail)?),
            "ShipmentStatusChanged" => Self::ShipmentStatusChanged(read(detail)?),
            "ReturnReceived" => Self::ReturnReceived(read(detail)?),
            "CancellationResponse" => Self::CancellationResponse(read(detail)?),
            other => return Err(FactError::Unknown(other.to_owned())),
        })
    }

    pub fn order_id(&self) -> &OrderId {
        match self {
            Self::PaymentConfirmed(f) => &f.order_id,
            Self::PaymentFailed(f) => &f.order_id,
            Self::ShipmentStatusChanged(f) => &f.order_id,
            Self::ReturnReceived(f) => &f.order_id,
            Self::CancellationResponse(f) => &f.order_id,
        }
    }
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
        let custom = PartnerSources::new([(PartnerKind::Wms, vec!["acme.wms".to_owned()])]);
        assert!(custom.allows("acme.wms", "ReturnReceived"));
        assert!(!custom.allows("partner.wms", "ReturnReceived"));
        assert!(custom.allows("partner.payments", "PaymentConfirmed"));
    }

    #[test]
    fn facts_are_read_by_type() {
        let v = serde_json::json!({"orderId": "ord_1", "accepted": true});
        let f = PartnerFact::parse("CancellationResponse", &v).unwrap();
        assert_eq!(f.order_id().as_str(), "ord_1");
        assert!(matches!(
            PartnerFact::parse("PaymentFailed", &v),
            Err(FactError::Malformed(_))
        ));
        assert!(matches!(
            PartnerFact::parse("Nope", &v),
            Err(FactError::Unknown(_))
        ));
    }
}
