//! What the OMS tells a customer, and how it reads: one variant per
//! template, with typed data, rendered here so that every channel (email,
//! SMS, push) says the same thing and money reads in the currency's own
//! digits.
//!
//! On the wire a notice is `{"templateId": "order-shipped", "data": {…}}`
//! inside `CustomerNotificationRequested`.

use crate::events::RejectReason;
use crate::ids::OrderId;
use crate::inventory::LineQty;
use crate::money::Money;
use serde::{Deserialize, Serialize};

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
        reason: String,
    },
    RefundIssued {
        /// `amount` (minor units) and `currency`.
        #[serde(flatten)]
        amount: Money,
        reason: String,
    },
    OrderShipped {
        shipment_id: String,
        carrier: Option<String>,
        tracking_number: Option<String>,
        lines: Vec<LineQty>,
    },
    OrderDelivered {},
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
        }
    }

    /// Subject and body of the message.
    pub fn render(&self, order_id: &OrderId) -> (String, String) {
        let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
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
                    or_dash(carrier),
                    or_dash(tracking_number)
                ),
            ),
            Self::OrderDelivered {} => (
                format!("Your order {order_id} was delivered"),
                "Enjoy! If something is not right, you can return it from your account.".into(),
            ),
            Self::OrderCancelled { reason } => (
                format!("Your order {order_id} was cancelled"),
                format!("Reason: {reason}."),
            ),
            Self::OrderRejected { detail, .. } => (
                format!("We could not accept your order {order_id}"),
                format!("{detail}."),
            ),
            Self::RefundIssued { amount, reason } => (
                format!("Refund for order {order_id}"),
                format!("We refunded {amount} ({reason})."),
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
    fn amounts_read_in_the_currency_digits() {
        let id = OrderId::parse("ord_1").unwrap();
        let yen = Notice::RefundIssued {
            amount: Money::new(1990, Currency::parse("JPY").unwrap()),
            reason: "return".into(),
        };
        assert_eq!(yen.render(&id).1, "We refunded JPY 1990 (return).");
        let dinar = Notice::OrderPlaced {
            total: Money::new(1990, Currency::parse("KWD").unwrap()),
        };
        assert_eq!(
            dinar.render(&id).1,
            "Thank you! Your order totals KWD 1.990."
        );
    }
}
