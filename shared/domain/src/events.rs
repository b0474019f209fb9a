//! The event catalog: every domain event in one envelope.
//!
//! On the bus an event travels as an EventBridge event whose `source` is
//! [`OMS_SOURCE`], whose `detail-type` is the event type and whose `detail`
//! is the envelope below:
//! `{"eventId", "type", "orderId", "occurredAt", "data": {…}}`.

use crate::geo::GeoPoint;
use crate::ids::{Channel, CustomerId, ExternalId, LocationId, OrderId, PartnerRef, Sku, Text};
pub use crate::inventory::LineQty;
use crate::inventory::{Allocation, Demand};
use crate::money::Money;
pub use crate::notice::Notice;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// EventBridge `source` of every event the OMS emits.
pub const OMS_SOURCE: &str = "oms";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainEvent {
    pub event_id: String,
    pub order_id: OrderId,
    pub occurred_at: Timestamp,
    #[serde(flatten)]
    pub data: EventData,
}

/// Why a submitted order was refused: the field (as `POST /orders` names
/// it) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionError {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

/// Where an order goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShipToSummary {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Where the order goes (`lat`, `lon`).
    #[serde(flatten)]
    pub point: GeoPoint,
}

/// Why an order was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectReason {
    InsufficientStock,
    Unroutable,
    /// Stock exists, but at no location that may ship to the destination.
    NoEligibleLocation,
}

/// Why an order is held back from release to its locations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HoldCode {
    /// The money paid does not add up to the total.
    PaymentMismatch,
    /// An operator held it.
    Operator,
    /// Its risk score reached the hold score: an operator reviews it.
    FraudReview,
    /// On account beyond the account's credit limit: an operator decides.
    CreditLimit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", content = "data", rename_all_fields = "camelCase")]
pub enum EventData {
    OrderPlaced {
        channel: Channel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external_id: Option<ExternalId>,
        customer_id: CustomerId,
        /// `currency` and `total` (minor units).
        #[serde(flatten, with = "crate::money::as_total")]
        #[schemars(with = "crate::money::TotalFields")]
        total: Money,
        lines: Demand,
        ship_to: ShipToSummary,
        /// When the order is cancelled if still unpaid.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment_due_at: Option<Timestamp>,
        /// The price in parts, when promotions, shipping or tax priced it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pricing: Option<crate::pricing::PriceSummary>,
    },
    InventoryReserved {
        lines: Demand,
    },
    /// The order was edited (`PATCH /orders/{id}`): its lines, total and
    /// allocations now.
    OrderEdited {
        lines: Demand,
        /// `currency` and `total` (minor units).
        #[serde(flatten, with = "crate::money::as_total")]
        #[schemars(with = "crate::money::TotalFields")]
        total: Money,
        allocations: Vec<Allocation>,
        reason: String,
    },
    InventoryShort {
        skus: Vec<Sku>,
    },
    OrderRouted {
        allocations: Vec<Allocation>,
        reason: String,
    },
    OrderRejected {
        reason: RejectReason,
        detail: String,
    },
    PaymentCaptured {
        payment_id: String,
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
    },
    OrderOnHold {
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<HoldCode>,
    },
    /// An operator sent the order to be routed again: the stock it was
    /// routed to is given back, and reservation routes it over what is
    /// free now.
    RerouteRequested {
        released: Vec<Allocation>,
        reason: String,
    },
    /// One line was cancelled before release: its stock given back, the
    /// total lower by `amount` (money paid beyond it refunded).
    OrderLineCancelled {
        sku: Sku,
        quantity: crate::ids::Quantity,
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
        reason: String,
    },
    /// The hold was lifted: the order goes on (released if paid).
    HoldReleased {
        code: HoldCode,
    },
    /// Paid and allocated: the locations may pick, pack and ship.
    OrderReleased {
        allocations: Vec<Allocation>,
        /// Per location: what to pick and where it goes (the packing slip).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pick_lists: Vec<crate::order::PickList>,
    },
    RefundIssued {
        refund_id: String,
        payment_id: String,
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
        reason: String,
    },
    /// Asks the fulfilment locations to stop an order already released.
    CancellationRequested {
        reason: String,
    },
    CancellationRejected {
        reason: String,
    },
    OrderCancelled {
        reason: String,
    },
    OrderShipped {
        shipment_id: PartnerRef,
        location_id: LocationId,
        lines: Vec<LineQty>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        carrier: Option<Text<64>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tracking_number: Option<PartnerRef>,
        /// Every unit of the order has now shipped.
        complete: bool,
    },
    OrderDelivered {
        shipment_id: PartnerRef,
        /// Every unit of the order has now been delivered.
        complete: bool,
    },
    /// The order's reservation took a location's available units of a sku
    /// to its reorder point or below: time to replenish.
    LowStock {
        sku: Sku,
        location_id: LocationId,
        available: u64,
        reorder_point: u64,
    },
    /// The order waits for incoming supply: what it claimed, where, and
    /// when it is expected (its other units are reserved).
    OrderBackordered {
        lines: Vec<crate::order::BackorderLine>,
    },
    /// Supply arrived for a backordered order: these units are now its.
    BackorderFilled {
        sku: Sku,
        location_id: LocationId,
        quantity: crate::ids::Quantity,
    },
    /// A pickup order waits at its store for the customer.
    OrderReadyForPickup {
        location_id: LocationId,
    },
    /// The customer collected a pickup order at its store.
    OrderPickedUp {
        location_id: LocationId,
        lines: Vec<LineQty>,
    },
    /// The customer refused a shipment at the door: its units go back to
    /// stock where they shipped from, and what they cost is refunded (a
    /// `ReturnCompleted` of return `refused-{shipmentId}` follows).
    DeliveryRefused {
        shipment_id: PartnerRef,
        lines: Vec<LineQty>,
    },
    /// Asks the payment provider to capture part of an authorisation: what
    /// the shipment `captureId` is worth. It answers with
    /// `PaymentConfirmed` naming the payment and the capture.
    CaptureRequested {
        payment_id: String,
        capture_id: String,
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
    },
    /// Asks the payment provider to give back what is left of an
    /// authorisation (the order shipped in full, or ended).
    VoidRequested {
        payment_id: String,
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
    },
    ReturnAuthorized {
        rma_id: String,
        lines: Vec<LineQty>,
        reason: String,
    },
    ReturnCompleted {
        rma_id: String,
        restocked: Vec<LineQty>,
        damaged: Vec<LineQty>,
        /// `refundAmount` (minor units) and `currency`.
        #[serde(flatten, with = "crate::money::as_refund_amount")]
        #[schemars(with = "crate::money::RefundAmountFields")]
        refund_amount: Money,
    },
    /// The order is past the risk share of a step's service level and has
    /// not moved on (operations should look at it).
    OrderAtRisk {
        step: crate::search::SlaStep,
        due_at: Timestamp,
    },
    /// The order is past a step's deadline and has not moved on.
    OrderSlaBreached {
        step: crate::search::SlaStep,
        due_at: Timestamp,
    },
    /// A marketplace's `OrderSubmitted` became this order (the answer on
    /// the bus, committed with the order).
    OrderAccepted {
        channel: Channel,
        external_id: ExternalId,
    },
    /// A marketplace's `OrderSubmitted` was refused; `orderId` is the id
    /// the order would have had (the same for every submission of that
    /// channel and external id).
    OrderRefused {
        channel: Channel,
        external_id: ExternalId,
        errors: Vec<SubmissionError>,
    },
    /// Due when the payment window closes: cancels the order if unpaid.
    PaymentWindowExpired {
        due_at: Timestamp,
    },
    /// A message for the customer: `templateId` and its `data`.
    CustomerNotificationRequested {
        customer_id: CustomerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
        #[serde(flatten)]
        notice: Notice,
    },
}

/// Every event type the OMS emits, as written in `detail-type`.
pub const EVENT_TYPES: &[&str] = &[
    "OrderPlaced",
    "InventoryReserved",
    "OrderEdited",
    "InventoryShort",
    "OrderRouted",
    "OrderRejected",
    "PaymentCaptured",
    "OrderOnHold",
    "HoldReleased",
    "RerouteRequested",
    "OrderLineCancelled",
    "OrderReleased",
    "RefundIssued",
    "CancellationRequested",
    "CancellationRejected",
    "OrderCancelled",
    "OrderShipped",
    "OrderDelivered",
    "LowStock",
    "OrderBackordered",
    "BackorderFilled",
    "OrderReadyForPickup",
    "OrderPickedUp",
    "DeliveryRefused",
    "CaptureRequested",
    "VoidRequested",
    "ReturnAuthorized",
    "ReturnCompleted",
    "OrderAtRisk",
    "OrderSlaBreached",
    "OrderAccepted",
    "OrderRefused",
    "PaymentWindowExpired",
    "CustomerNotificationRequested",
];

impl EventData {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::OrderPlaced { .. } => "OrderPlaced",
            Self::InventoryReserved { .. } => "InventoryReserved",
            Self::OrderEdited { .. } => "OrderEdited",
            Self::InventoryShort { .. } => "InventoryShort",
            Self::OrderRouted { .. } => "OrderRouted",
            Self::OrderRejected { .. } => "OrderRejected",
            Self::PaymentCaptured { .. } => "PaymentCaptured",
            Self::OrderOnHold { .. } => "OrderOnHold",
            Self::HoldReleased { .. } => "HoldReleased",
            Self::RerouteRequested { .. } => "RerouteRequested",
            Self::OrderLineCancelled { .. } => "OrderLineCancelled",
            Self::OrderReleased { .. } => "OrderReleased",
            Self::RefundIssued { .. } => "RefundIssued",
            Self::CancellationRequested { .. } => "CancellationRequested",
            Self::CancellationRejected { .. } => "CancellationRejected",
            Self::OrderCancelled { .. } => "OrderCancelled",
            Self::OrderShipped { .. } => "OrderShipped",
            Self::OrderDelivered { .. } => "OrderDelivered",
            Self::LowStock { .. } => "LowStock",
            Self::OrderBackordered { .. } => "OrderBackordered",
            Self::BackorderFilled { .. } => "BackorderFilled",
            Self::OrderReadyForPickup { .. } => "OrderReadyForPickup",
            Self::OrderPickedUp { .. } => "OrderPickedUp",
            Self::DeliveryRefused { .. } => "DeliveryRefused",
            Self::CaptureRequested { .. } => "CaptureRequested",
            Self::VoidRequested { .. } => "VoidRequested",
            Self::ReturnAuthorized { .. } => "ReturnAuthorized",
            Self::ReturnCompleted { .. } => "ReturnCompleted",
            Self::OrderAtRisk { .. } => "OrderAtRisk",
            Self::OrderAccepted { .. } => "OrderAccepted",
            Self::OrderRefused { .. } => "OrderRefused",
            Self::OrderSlaBreached { .. } => "OrderSlaBreached",
            Self::PaymentWindowExpired { .. } => "PaymentWindowExpired",
            Self::CustomerNotificationRequested { .. } => "CustomerNotificationRequested",
        }
    }
}

impl DomainEvent {
    pub fn type_name(&self) -> &'static str {
        self.data.type_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_the_documented_shape() {
        let ev = DomainEvent {
            event_id: "e1".into(),
            order_id: OrderId::parse("ord_1").unwrap(),
            occurred_at: Timestamp(0),
            data: EventData::InventoryShort {
                skus: vec![Sku::parse("A").unwrap()],
            },
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "eventId": "e1", "orderId": "ord_1", "occurredAt": "1970-01-01T00:00:00.000Z",
                "type": "InventoryShort", "data": {"skus": ["A"]}
            })
        );
        assert_eq!(serde_json::from_value::<DomainEvent>(v).unwrap(), ev);
    }

    #[test]
    fn money_travels_as_sibling_fields() {
        let brl = crate::money::Currency::parse("BRL").unwrap();
        let data = EventData::ReturnCompleted {
            rma_id: "r".into(),
            restocked: vec![],
            damaged: vec![],
            refund_amount: Money::new(1990, brl),
        };
        let v = serde_json::to_value(&data).unwrap();
        assert_eq!(v["data"]["refundAmount"], 1990);
        assert_eq!(v["data"]["currency"], "BRL");
        assert_eq!(serde_json::from_value::<EventData>(v).unwrap(), data);
        let captured = EventData::PaymentCaptured {
            payment_id: "p".into(),
            amount: Money::new(5, brl),
        };
        let v = serde_json::to_value(&captured).unwrap();
        assert_eq!(
            v["data"],
            serde_json::json!({"paymentId": "p", "amount": 5, "currency": "BRL"})
        );
        assert_eq!(serde_json::from_value::<EventData>(v).unwrap(), captured);
    }

    #[test]
    fn the_catalog_lists_every_type_once() {
        let unique: std::collections::BTreeSet<_> = EVENT_TYPES.iter().collect();
        assert_eq!(unique.len(), EVENT_TYPES.len());
    }
}
