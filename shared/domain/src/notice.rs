//! What the OMS tells a customer, and how it reads: one variant per
//! template, with typed data, rendered here so that every channel (email,
//! SMS, push) says the same thing and money reads in the currency's own
//! digits.
//!
//! On the wire a notice is `{"templateId": "order-shipped", "data": {…}}`
//! inside `CustomerNotificationRequested`.

use crate::events::RejectReason;
use crate::ids::{OrderId, PartnerRef, Text};
use crate::inventory::LineQty;
use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Why an order was cancelled, as the customer is told. The words a person
/// typed stay on the order (`cancelReason`); they never reach a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancelCode {
    /// The customer, or the storefront on their behalf, asked.
    CustomerRequest,
    /// The business cancelled it.
    OperatorRequest,
    PaymentFailed,
    PaymentTimeout,
    /// Ready for pickup at a store and not collected in time.
    NotCollected,
}

impl CancelCode {
    fn words(self) -> &'static str {
        match self {
            Self::CustomerRequest => "you asked us to cancel it",
            Self::OperatorRequest => "we could not fulfil it",
            Self::PaymentFailed => "the payment did not go through",
            Self::PaymentTimeout => "the payment did not arrive in time",
            Self::NotCollected => "it was not collected from the store in time",
        }
    }
}

/// Why money was given back, as the customer is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundReason {
    OrderCancelled,
    OrderRejected,
    /// A payment for an order that had already ended.
    OrderEnded,
    /// A payment in another currency than the order's.
    WrongCurrency,
    /// A second payment for an order already paid.
    AlreadyPaid,
    /// The part of a payment beyond the order's total.
    Overpaid,
    Returned,
    /// An operator refunded it.
    Goodwill,
    /// The order was edited to cost less.
    OrderEdited,
}

impl RefundReason {
    fn words(self) -> &'static str {
        match self {
            Self::OrderCancelled => "order cancelled",
            Self::OrderRejected => "order not accepted",
            Self::OrderEnded => "payment after the order ended",
            Self::WrongCurrency => "payment in another currency",
            Self::AlreadyPaid => "the order was already paid",
            Self::Overpaid => "paid more than the total",
            Self::Returned => "items returned",
            Self::Goodwill => "a refund from our team",
            Self::OrderEdited => "your order was changed",
        }
    }

    /// The start of the refund ids this reason makes.
    pub fn id_prefix(self) -> &'static str {
        match self {
            Self::OrderCancelled => "cancel",
            Self::OrderRejected => "reject",
            Self::OrderEnded => "late",
            Self::WrongCurrency => "mismatch",
            Self::AlreadyPaid => "duplicate",
            Self::Overpaid => "excess",
            Self::Returned => "return",
            Self::Goodwill => "operator",
            Self::OrderEdited => "edit",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(
    tag = "templateId",
    content = "data",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum Notice {
    OrderPlaced {
        /// `total` (minor units) and `currency`.
        #[serde(flatten, with = "crate::money::as_total")]
        #[schemars(with = "crate::money::TotalFields")]
        total: Money,
    },
    OrderRejected {
        reason: RejectReason,
        detail: String,
    },
    OrderCancelled {
        reason: CancelCode,
    },
    RefundIssued {
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
        reason: RefundReason,
    },
    OrderShipped {
        shipment_id: PartnerRef,
        carrier: Option<Text<64>>,
        tracking_number: Option<PartnerRef>,
        lines: Vec<LineQty>,
    },
    OrderDelivered {},
    /// Waiting at a store for the customer.
    ReadyForPickup {
        location_id: crate::ids::LocationId,
    },
}

impl Notice {
    /// The template's name, as in `templateId`.
    pub fn template_id(&self) -> &'static str {
        match self {
            Self::OrderPlaced { .. } => "order-placed",
            Self::OrderRejected { .. } => "order-rejected",
            Self::OrderCancelled { .. } => "order-cancelled",
            Self::RefundIssued { .. } => "refund-issued",
            Self::OrderShipped { .. } => "order-shipped",
            Self::OrderDelivered {} => "order-delivered",
            Self::ReadyForPickup { .. } => "ready-for-pickup",
        }
    }

    /// Subject and body of the message.
    pub fn render(&self, order_id: &OrderId) -> (String, String) {
        let or_dash = |s: Option<String>| s.unwrap_or_else(|| "-".into());
        match self {
            Self::OrderPlaced { total } => (
                format!("We received your order {order_id}"),
                format!("Thank you! Your order totals {total}."),
            ),
            Self::OrderShipped {
                shipment_id,
                carrier,
                tracking_number,
                ..
            } => (
                format!("Your order {order_id} is on its way"),
                format!(
                    "Shipment {shipment_id} left with {}; tracking number {}.",
                    or_dash(carrier.as_ref().map(ToString::to_string)),
                    or_dash(tracking_number.as_ref().map(ToString::to_string))
                ),
            ),
            Self::OrderDelivered {} => (
                format!("Your order {order_id} was delivered"),
                "Enjoy! If something is not right, you can return it from your account.".into(),
            ),
            Self::ReadyForPickup { location_id } => (
                format!("Your order {order_id} is ready for pickup"),
                format!("Collect it at {location_id}; bring your order number."),
            ),
            Self::OrderCancelled { reason } => (
                format!("Your order {order_id} was cancelled"),
                format!("Your order was cancelled because {}.", reason.words()),
            ),
            Self::OrderRejected { detail, .. } => (
                format!("We could not accept your order {order_id}"),
                format!("{detail}."),
            ),
            Self::RefundIssued { amount, reason } => (
                format!("Refund for order {order_id}"),
                format!("We refunded {amount} ({}).", reason.words()),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn wire_shape_is_template_and_data() {
        let n = Notice::OrderPlaced {
            total: Money::new(1990, Currency::parse("JPY").unwrap()),
        };
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"templateId": "order-placed", "data": {"total": 1990, "currency": "JPY"}})
        );
        assert_eq!(serde_json::from_value::<Notice>(v).unwrap(), n);
        let d = serde_json::to_value(Notice::OrderDelivered {}).unwrap();
        assert_eq!(
            d,
            serde_json::json!({"templateId": "order-delivered", "data": {}})
        );
    }

    #[test]
    fn what_a_person_typed_never_reaches_a_message() {
        let forged = serde_json::from_value::<Notice>(serde_json::json!({
            "templateId": "order-cancelled", "data": {"reason": "<a href=evil>click</a>"}
        }));
        assert!(forged.is_err(), "free text is not a cancel reason");
        let id = OrderId::parse("ord_1").unwrap();
        let cancelled = Notice::OrderCancelled {
            reason: CancelCode::PaymentTimeout,
        };
        assert_eq!(
            cancelled.render(&id).1,
            "Your order was cancelled because the payment did not arrive in time."
        );
    }

    #[test]
    fn amounts_read_in_the_currency_digits() {
        let id = OrderId::parse("ord_1").unwrap();
        let yen = Notice::RefundIssued {
            amount: Money::new(1990, Currency::parse("JPY").unwrap()),
            reason: RefundReason::Returned,
        };
        assert_eq!(yen.render(&id).1, "We refunded JPY 1990 (items returned).");
        let dinar = Notice::OrderPlaced {
            total: Money::new(1990, Currency::parse("KWD").unwrap()),
        };
        assert_eq!(
            dinar.render(&id).1,
            "Thank you! Your order totals KWD 1.990."
        );
    }
}
