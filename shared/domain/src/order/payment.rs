//! Payment facts on the order: capture, failure, refunds, the payment window.
//!
//! Money rule: the sum refunded never exceeds the sum captured.

use super::{Cause, Change, Order, OrderStatus, Outcome, Refusal};
use crate::events::EventData;
use crate::money::{Currency, Money};
use crate::notice::Notice;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Captured,
    /// The provider confirmed an amount or currency that is not the order's.
    Mismatch,
    Failed,
}

/// Money given back. `A` as in [`super::OrderLine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "Refund",
    description = "Money given back, in minor units of the order's currency."
)]
pub struct Refund<A = Money> {
    pub refund_id: String,
    pub amount: A,
    pub reason: String,
}

/// The order's payment. `A` as in [`super::OrderLine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "Payment",
    description = "The order's payment; `captured` and `refunded` in minor units of the order's currency."
)]
pub struct Payment<A = Money> {
    pub payment_id: String,
    pub status: PaymentStatus,
    /// The amount the provider reported, in minor units of `currency`.
    pub amount: i64,
    /// The currency the provider reported (it may not be the order's).
    pub currency: String,
    pub captured: A,
    pub refunded: A,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund<A>>,
}

impl Payment {
    pub fn is_captured(&self) -> bool {
        self.status == PaymentStatus::Captured
    }
}

impl Order {
    /// The payment provider confirmed a payment.
    pub fn confirm_payment(
        &mut self,
        payment_id: &str,
        amount: i64,
        currency: &str,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if let Some(p) = &self.payment {
            if p.payment_id == payment_id && p.status != PaymentStatus::Failed {
                return Err(Refusal::Duplicate);
            }
            if p.is_captured() {
                return Err(Refusal::Refused(format!(
                    "already paid by payment {}; refund {payment_id} with the provider",
                    p.payment_id
                )));
            }
        }
        let matches =
            amount == self.total.amount && Currency::parse(currency).ok() == Some(self.currency);
        let mut change = Change::new(None);
        if !matches {
            if !self.status.before_release() {
                return Err(Refusal::Refused(format!(
                    "a mismatched payment cannot apply to an order that is {}",
                    self.status
                )));
            }
            let reason = format!(
                "payment {payment_id} confirmed {amount} {currency}, the order totals {} {}",
                self.total.amount, self.currency
            );
            self.payment = Some(Payment {
                payment_id: payment_id.to_owned(),
                status: PaymentStatus::Mismatch,
                amount,
                currency: currency.to_owned(),
                captured: self.no_money(),
                refunded: self.no_money(),
                refunds: Vec::new(),
            });
            self.status = OrderStatus::OnHold;
            self.hold_reason = Some(reason.clone());
            change.step(
                self,
                "OrderOnHold",
                cause,
                Some(reason.clone()),
                vec![EventData::OrderOnHold { reason }],
            );
            return Ok(change.finish(self));
        }
        self.payment = Some(Payment {
            payment_id: payment_id.to_owned(),
            status: PaymentStatus::Captured,
            amount,
            currency: currency.to_owned(),
            captured: self.total,
            refunded: self.no_money(),
            refunds: Vec::new(),
        });
        let mut events = vec![EventData::PaymentCaptured {
            payment_id: payment_id.to_owned(),
            amount: self.total,
        }];
        let mut detail = None;
        if self.status.is_closed() {
            // Money that arrives after the order ended goes straight back.
            detail = Some(format!("the order is {}: refunded at once", self.status));
            events.extend(self.refund_rest(
                &format!("late-{payment_id}"),
                "payment after the order ended",
            ));
        }
        change.step(self, "PaymentCaptured", cause, detail, events);
        self.release_if_paid(&mut change, cause);
        Ok(change.finish(self))
    }

    /// The payment provider reports a failed payment.
    pub fn fail_payment(
        &mut self,
        payment_id: &str,
        reason: &str,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if let Some(p) = &self.payment {
            if p.is_captured() {
                return Err(Refusal::Refused(format!(
                    "payment {} is already captured; a late failure of {payment_id} is ignored",
                    p.payment_id
                )));
            }
            if p.payment_id == payment_id && p.status == PaymentStatus::Failed {
                return Err(Refusal::Duplicate);
            }
        }
        if !self.status.before_release() {
            return Err(Refusal::Refused(format!(
                "payment failure ignored: the order is {}",
                self.status
            )));
        }
        self.payment = Some(Payment {
            payment_id: payment_id.to_owned(),
            status: PaymentStatus::Failed,
            amount: 0,
            currency: self.currency.to_string(),
            captured: self.no_money(),
            refunded: self.no_money(),
            refunds: Vec::new(),
        });
        Ok(self.close_cancelled(format!("PAYMENT_FAILED: {reason}"), cause))
    }

    /// The payment window closed: an unpaid order is cancelled.
    pub fn payment_window_closed(&mut self, cause: &Cause) -> Result<Outcome, Refusal> {
        let paid = self.payment.as_ref().is_some_and(Payment::is_captured);
        if paid || !self.status.before_release() {
            return Err(Refusal::Duplicate);
        }
        Ok(self.close_cancelled(
            "PAYMENT_TIMEOUT: not paid within the payment window".into(),
            cause,
        ))
    }

    /// Refunds what was captured and not yet refunded, up to `limit`.
    pub(crate) fn refund_up_to(
        &mut self,
        refund_id: &str,
        limit: Money,
        reason: &str,
    ) -> Option<EventData> {
        let p = self.payment.as_mut().filter(|p| p.is_captured())?;
        if p.refunds.iter().any(|r| r.refund_id == refund_id) {
            return None;
        }
        let left = p.captured.minus(p.refunded).ok()?;
        let amount = limit.min(left).ok()?;
        if !amount.is_positive() {
            return None;
        }
        p.refunded = p.refunded.plus(amount).ok()?;
        p.refunds.push(Refund {
            refund_id: refund_id.to_owned(),
            amount,
            reason: reason.to_owned(),
        });
        Some(EventData::RefundIssued {
            refund_id: refund_id.to_owned(),
            payment_id: p.payment_id.clone(),
            amount,
            reason: reason.to_owned(),
        })
    }

    /// Refunds everything still refundable, with a customer notification.
    pub(crate) fn refund_rest(&mut self, refund_id: &str, reason: &str) -> Vec<EventData> {
        let everything = Money::new(i64::MAX, self.currency);
        self.refund_with_notice(refund_id, everything, reason)
    }

    pub(crate) fn refund_with_notice(
        &mut self,
        refund_id: &str,
        limit: Money,
        reason: &str,
    ) -> Vec<EventData> {
        match self.refund_up_to(refund_id, limit, reason) {
            Some(refund) => {
                let amount = match &refund {
                    EventData::RefundIssued { amount, .. } => *amount,
                    _ => self.no_money(),
                };
                let notice = self.notification(Notice::RefundIssued {
                    amount,
                    reason: reason.to_owned(),
                });
                vec![refund, notice]
            }
            None => Vec::new(),
        }
    }

    /// When the payment window closes, if the order has one.
    pub fn payment_due(&self) -> Option<Timestamp> {
        self.payment_due_at
    }
}
