//! Events partner systems put on the bus, and who may send which.
//!
//! A partner event's `detail-type` names it; its `source` must be on the
//! allow-list of the partner kind that may send it (configurable per kind,
//! by default `partner.payments`, `partner.wms`, `partner.carrier`,
//! `partner.marketplace`, `partner.store`). Anything else is refused, logged and, when the
//! order exists, recorded in its history — never applied.

use crate::ids::{LocationId, OrderId, PartnerRef, Quantity, Reason, Sku, Text};
use crate::inventory::LineQty;
use crate::money::{Currency, Money};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerKind {
    Payments,
    Wms,
    Carrier,
    Marketplace,
    /// A store's system (pickups).
    Store,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 5] = [
        Self::Payments,
        Self::Wms,
        Self::Carrier,
        Self::Marketplace,
        Self::Store,
    ];

    pub fn parse(name: &str) -> Option<PartnerKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Payments => "payments",
            Self::Wms => "wms",
            Self::Carrier => "carrier",
            Self::Marketplace => "marketplace",
            Self::Store => "store",
        }
    }

    pub fn default_source(self) -> String {
        format!("partner.{}", self.name())
    }
}

/// Partner event types and the kinds allowed to send them.
pub const PARTNER_EVENTS: &[(&str, &[PartnerKind])] = &[
    ("FulfillmentRejected", &[PartnerKind::Wms]),
    // An order from a marketplace: the body of `POST /orders`, with its
    // channel and external id.
    ("OrderSubmitted", &[PartnerKind::Marketplace]),
    ("PaymentConfirmed", &[PartnerKind::Payments]),
    ("PaymentAuthorized", &[PartnerKind::Payments]),
    ("PaymentFailed", &[PartnerKind::Payments]),
    (
        "ShipmentStatusChanged",
        &[PartnerKind::Wms, PartnerKind::Carrier],
    ),
    ("ReturnReceived", &[PartnerKind::Wms]),
    ("CancellationResponse", &[PartnerKind::Wms]),
    ("ReadyForPickup", &[PartnerKind::Store]),
    ("PickedUp", &[PartnerKind::Store]),
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

    /// Whether a partner of `kind` may put events with `source` on the bus
    /// (never the OMS's own source).
    pub fn may_use(&self, kind: PartnerKind, source: &str) -> bool {
        source != crate::events::OMS_SOURCE
            && self
                .by_kind
                .iter()
                .any(|(k, sources)| *k == kind && sources.iter().any(|s| s == source))
    }

    /// The sources a partner kind may use.
    pub fn sources_of(&self, kind: PartnerKind) -> &[String] {
        self.by_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s.as_slice())
            .unwrap_or_default()
    }

    /// Every allowed source (the rules' `source` patterns).
    pub fn all_sources(&self) -> Vec<String> {
        self.by_kind.iter().flat_map(|(_, s)| s.clone()).collect()
    }
}

/// Most lines a partner fact may list (as many as an order may have).
pub const MAX_FACT_LINES: usize = crate::validation::MAX_LINES;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentConfirmed {
    pub order_id: OrderId,
    pub payment_id: PartnerRef,
    /// Minor units of `currency`; never negative.
    #[schemars(range(min = 0))]
    pub amount: i64,
    pub currency: Currency,
    /// The capture the OMS asked for (`CaptureRequested`), when this
    /// confirms one of an authorisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capture_id: Option<PartnerRef>,
}

/// The provider authorised a payment: the OMS asks for captures as the
/// order ships (`CaptureRequested`) and voids the rest (`VoidRequested`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentAuthorized {
    pub order_id: OrderId,
    pub payment_id: PartnerRef,
    /// Minor units of `currency`; never negative.
    #[schemars(range(min = 0))]
    pub amount: i64,
    pub currency: Currency,
}

impl PaymentConfirmed {
    /// The money the provider took.
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFailed {
    pub order_id: OrderId,
    pub payment_id: PartnerRef,
    pub reason: Reason,
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
    /// The customer refused it at the door: it goes back to where it
    /// shipped from.
    Refused,
    Exception,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentStatusChanged {
    pub order_id: OrderId,
    pub shipment_id: PartnerRef,
    pub location_id: LocationId,
    pub status: ShipmentStatus,
    /// What the shipment carries; by default every unit allocated to the
    /// location and not yet in another shipment.
    #[serde(default)]
    #[schemars(length(max = 40))]
    pub lines: Option<Vec<LineQty>>,
    #[serde(default)]
    pub carrier: Option<Text<64>>,
    #[serde(default)]
    pub tracking_number: Option<PartnerRef>,
    /// Cash collected at the door for a cash-on-delivery order (minor
    /// units of the order's currency), with its `DELIVERED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub collected_amount: Option<i64>,
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
    /// The RMA id the OMS gave the return.
    pub return_id: PartnerRef,
    #[schemars(length(min = 1, max = 40))]
    pub lines: Vec<ReturnedLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationResponse {
    pub order_id: OrderId,
    pub accepted: bool,
    #[serde(default)]
    pub reason: Option<Reason>,
}

/// A location (its warehouse system) cannot fulfil what it was given: the
/// OMS writes those units off there and routes the order again elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentRejected {
    pub order_id: OrderId,
    pub location_id: LocationId,
    /// What it cannot ship (informative: the order's whole allocation there
    /// is routed again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 40))]
    pub lines: Option<Vec<crate::inventory::LineQty>>,
    pub reason: Reason,
}

/// A store set a pickup order aside (`ReadyForPickup`), or the customer
/// collected it (`PickedUp`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AtStore {
    pub order_id: OrderId,
    pub location_id: LocationId,
}

/// A partner event, read by its `detail-type`.
#[derive(Debug, Clone, PartialEq)]
pub enum PartnerFact {
    FulfillmentRejected(FulfillmentRejected),
    PaymentConfirmed(PaymentConfirmed),
    PaymentAuthorized(PaymentAuthorized),
    PaymentFailed(PaymentFailed),
    ShipmentStatusChanged(ShipmentStatusChanged),
    ReturnReceived(ReturnReceived),
    CancellationResponse(CancellationResponse),
    ReadyForPickup(AtStore),
    PickedUp(AtStore),
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
            T::deserialize(v)
                .map_err(|e| FactError::Malformed(crate::ids::clip(&e.to_string(), 200)))
        }
        let fact = match detail_type {
            "PaymentConfirmed" => Self::PaymentConfirmed(read(detail)?),
            "PaymentAuthorized" => Self::PaymentAuthorized(read(detail)?),
            "PaymentFailed" => Self::PaymentFailed(read(detail)?),
            "ShipmentStatusChanged" => Self::ShipmentStatusChanged(read(detail)?),
            "ReturnReceived" => Self::ReturnReceived(read(detail)?),
            "CancellationResponse" => Self::CancellationResponse(read(detail)?),
            "FulfillmentRejected" => Self::FulfillmentRejected(read(detail)?),
            "ReadyForPickup" => Self::ReadyForPickup(read(detail)?),
            "PickedUp" => Self::PickedUp(read(detail)?),
            other => return Err(FactError::Unknown(crate::ids::clip(other, 64))),
        };
        fact.check()?;
        Ok(fact)
    }

    /// Rules a schema alone does not keep.
    fn check(&self) -> Result<(), FactError> {
        let malformed = |m: &str| Err(FactError::Malformed(m.to_owned()));
        match self {
            Self::PaymentConfirmed(p) if p.amount < 0 => malformed("amount must not be negative"),
            Self::PaymentAuthorized(p) if p.amount < 0 => malformed("amount must not be negative"),
            Self::ShipmentStatusChanged(s) if s.collected_amount.is_some_and(|a| a < 0) => {
                malformed("collectedAmount must not be negative")
            }
            Self::ShipmentStatusChanged(s)
                if s.lines.as_ref().is_some_and(|l| l.len() > MAX_FACT_LINES) =>
            {
                malformed("lines: too many")
            }
            Self::ReturnReceived(r) if r.lines.is_empty() || r.lines.len() > MAX_FACT_LINES => {
                malformed("lines: 1 to 40 lines")
            }
            Self::FulfillmentRejected(f)
                if f.lines.as_ref().is_some_and(|l| l.len() > MAX_FACT_LINES) =>
            {
                malformed("lines: too many")
            }
            _ => Ok(()),
        }
    }

    pub fn order_id(&self) -> &OrderId {
        match self {
            Self::PaymentConfirmed(f) => &f.order_id,
            Self::PaymentAuthorized(f) => &f.order_id,
            Self::PaymentFailed(f) => &f.order_id,
            Self::ShipmentStatusChanged(f) => &f.order_id,
            Self::ReturnReceived(f) => &f.order_id,
            Self::CancellationResponse(f) => &f.order_id,
            Self::FulfillmentRejected(f) => &f.order_id,
            Self::ReadyForPickup(f) | Self::PickedUp(f) => &f.order_id,
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
        assert!(custom.may_use(PartnerKind::Wms, "acme.wms"));
        assert!(!custom.may_use(PartnerKind::Payments, "acme.wms"));
        let forged = PartnerSources::new([(PartnerKind::Payments, vec!["oms".to_owned()])]);
        assert!(
            !forged.may_use(PartnerKind::Payments, "oms"),
            "no partner is the OMS"
        );
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
        let negative = serde_json::json!({"orderId": "ord_1", "paymentId": "p", "amount": -5, "currency": "BRL"});
        assert!(matches!(
            PartnerFact::parse("PaymentConfirmed", &negative),
            Err(FactError::Malformed(m)) if m.contains("negative")
        ));
        let huge = serde_json::json!({"orderId": "ord_1", "paymentId": "p".repeat(200_000), "amount": 5, "currency": "BRL"});
        match PartnerFact::parse("PaymentConfirmed", &huge) {
            Err(FactError::Malformed(m)) => assert!(m.len() < 400, "{}", m.len()),
            other => panic!("{other:?}"),
        }
    }
}
