//! Payment facts on the order: captures (one payment or several), failures,
//! refunds, the payment window.
//!
//! Money rules — no customer's money is ever stranded:
//! - the order is paid when the money captured in its currency, less what
//!   was given back, covers its total;
//! - a payment that leaves the order short holds it (`PAYMENT_MISMATCH`)
//!   until the rest arrives, and the hold lifts by itself when the sum
//!   matches; a payment beyond the total is captured and the excess
//!   refunded at once; a payment in another currency is refunded at once;
//! - money captured on an order that ended (`REJECTED`, `CANCELLED`) is
//!   refunded at once, whichever fact came first;
//! - per payment, the sum refunded never exceeds the sum captured.
//!
//! Authorise now, capture per shipment: a provider may send
//! `PaymentAuthorized` instead of `PaymentConfirmed`. An authorisation that
//! covers the total (in the order's currency) secures the order, which is
//! released as if paid; as each shipment leaves, the OMS asks for its
//! value (what its invoice totals) with `CaptureRequested {paymentId,
//! captureId: shipmentId, amount}`, and the provider's `PaymentConfirmed`
//! for that payment (with the `captureId`) takes it. What is left of an
//! authorisation once the order shipped in full, or when it ends before,
//! is given back with `VoidRequested` — nothing stays held.

use super::{Cause, Change, HoldCode, Order, OrderStatus, Outcome, Refusal};
use crate::events::EventData;
use crate::ids::PartnerRef;
use crate::money::{Currency, Money};
use crate::notice::{Notice, RefundReason};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Money taken (wholly or in part kept: see `refunded`).
    Captured,
    /// Money taken in a currency that is not the order's: given back.
    Mismatch,
    Failed,
    /// Authorised by the provider, captured shipment by shipment.
    Authorized,
}

/// A capture the OMS asked of the provider for one shipment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Capture")]
pub struct Capture<A = Money> {
    /// The shipment it pays for; the provider's `PaymentConfirmed` names it.
    pub capture_id: String,
    pub amount: A,
    /// The provider confirmed it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmed: bool,
    /// The provider took it without the OMS asking.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unasked: bool,
}

/// Money given back. `A` as in [`super::OrderLine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "Refund",
    description = "Money given back, in minor units of the payment's currency."
)]
pub struct Refund<A = Money> {
    pub refund_id: String,
    pub amount: A,
    pub reason: String,
    /// Made once the order was invoiced: a credit note documents it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub credit_note: bool,
}

/// One payment of the order. `A` is how its amounts are held: [`Money`] in
/// the aggregate, integer minor units of the payment's `currency` on the
/// wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "Payment",
    description = "A payment of the order: `amount`, `captured` and `refunded` in minor units of its `currency`."
)]
pub struct Payment<A = Money> {
    pub payment_id: PartnerRef,
    pub status: PaymentStatus,
    /// The amount the provider reported.
    pub amount: i64,
    /// The currency the provider reported (it may not be the order's).
    pub currency: Currency,
    pub captured: A,
    pub refunded: A,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund<A>>,
    /// What the provider authorised (an `AUTHORIZED` payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized: Option<A>,
    /// The captures asked of it, one per shipment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub captures: Vec<Capture<A>>,
    /// What of the authorisation was given back unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<A>,
}

impl Payment {
    /// Money was taken by it (captured, or captured from its authorisation).
    pub fn is_captured(&self) -> bool {
        matches!(
            self.status,
            PaymentStatus::Captured | PaymentStatus::Authorized
        )
    }

    /// Of its authorisation: not yet asked for, nor voided.
    pub(crate) fn unasked(&self) -> Money {
        let zero = Money::zero(self.currency);
        let Some(authorized) = self.authorized else {
            return zero;
        };
        let asked: i64 = self.captures.iter().map(|c| c.amount.amount).sum();
        let voided = self.voided.map_or(0, |v| v.amount);
        Money::new((authorized.amount - asked - voided).max(0), self.currency)
    }

    /// Of its authorisation: still held by the provider for the order (not
    /// captured, nor voided).
    fn held(&self) -> Money {
        let unconfirmed: i64 = self
            .captures
            .iter()
            .filter(|c| !c.confirmed)
            .map(|c| c.amount.amount)
            .sum();
        Money::new(self.unasked().amount + unconfirmed, self.currency)
    }

    /// What can still be given back.
    pub fn refundable(&self) -> Money {
        self.captured
            .minus(self.refunded)
            .unwrap_or(Money::zero(self.currency))
    }
}

/// How the customer pays.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethod {
    /// Paid before release: the provider's `PaymentConfirmed` captures it,
    /// within the payment window.
    #[default]
    Card,
    Wallet,
    /// Released to the warehouse unpaid; the carrier collects it, and its
    /// `DELIVERED` (with `collectedAmount`) settles it.
    CashOnDelivery,
    /// Paid before release, like a card, but within the longer transfer
    /// window (`OMS_TRANSFER_WINDOW_SECS`): the bank's `PaymentConfirmed`
    /// captures it.
    BankTransfer,
    /// A business account's order: released without prepayment, paid by
    /// the account later (its `PaymentConfirmed`), within its credit limit.
    OnAccount,
}

impl PaymentMethod {
    /// Paid before the order is released to its locations.
    pub fn prepaid(self) -> bool {
        !matches!(self, Self::CashOnDelivery | Self::OnAccount)
    }
}

impl Order {
    /// Money kept from the order's own-currency payments: captured, less
    /// refunded.
    pub fn net_paid(&self) -> Money {
        self.payments
            .iter()
            .filter(|p| p.is_captured())
            .map(Payment::refundable)
            .fold(self.no_money(), |sum, m| sum.plus(m).unwrap_or(sum))
    }

    /// The order's total is covered.
    pub fn is_paid(&self) -> bool {
        self.net_paid().amount >= self.total.amount
    }

    /// The order's total is paid, or paid and authorised together: it may
    /// be released.
    pub fn is_secured(&self) -> bool {
        let held: i64 = self
            .payments
            .iter()
            .filter(|p| p.status == PaymentStatus::Authorized && p.currency == self.currency)
            .map(|p| p.held().amount)
            .sum();
        self.net_paid().amount + held >= self.total.amount
    }

    /// The payment provider authorised a payment, to be captured as the
    /// order ships (see the module's rules). An authorisation in another
    /// currency, or for an order that ended, is voided at once; one that
    /// leaves the order short holds it (`PAYMENT_MISMATCH`) until the rest
    /// arrives.
    pub fn authorize_payment(
        &mut self,
        payment_id: &PartnerRef,
        amount: Money,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if let Some(p) = self.payments.iter().find(|p| &p.payment_id == payment_id)
            && p.status != PaymentStatus::Failed
        {
            return Err(Refusal::Duplicate);
        }
        if amount.amount < 0 {
            return Err(Refusal::Refused("a negative amount".into()));
        }
        let was_secured = self.is_secured();
        self.payments.retain(|p| &p.payment_id != payment_id);
        let zero = Money::zero(amount.currency);
        self.payments.push(Payment {
            payment_id: payment_id.clone(),
            status: PaymentStatus::Authorized,
            amount: amount.amount,
            currency: amount.currency,
            captured: zero,
            refunded: zero,
            refunds: Vec::new(),
            authorized: Some(amount),
            captures: Vec::new(),
            voided: None,
        });
        let mut events = Vec::new();
        let unusable = if self.status.is_closed() {
            Some(format!("the order is {}: voided at once", self.status))
        } else if amount.currency != self.currency {
            Some(format!(
                "authorised in {}, the order is in {}: voided at once",
                amount.currency, self.currency
            ))
        } else if was_secured {
            Some("the order was already paid or authorised: voided at once".to_owned())
        } else {
            None
        };
        if unusable.is_some() {
            events.extend(self.void_unasked(Some(payment_id)));
            if amount.currency != self.currency
                && let Some(p) = self.payments.last_mut()
            {
                p.status = PaymentStatus::Mismatch;
            }
        }
        if unusable.is_none() && self.shipments.iter().any(|s| s.has_shipped()) {
            // Units left before it came (paid on delivery or on account):
            // what they are worth beyond what was paid is asked for now.
            let shipped: i64 = (0..self.shipments.len())
                .filter(|i| self.shipments[*i].has_shipped())
                .map(|i| self.shipment_value(i).amount)
                .sum();
            let due = (shipped.min(self.total.amount) - self.net_paid().amount).max(0);
            let complete =
                self.status.has_shipped() && self.status != OrderStatus::PartiallyShipped;
            events.extend(self.request_captures(
                "shipped-before",
                Money::new(due, self.currency),
                complete,
            ));
        }
        let mut change = Change::new(None);
        change.step(self, "PaymentAuthorized", cause, unusable, events);
        if self.status.before_release() && !self.status.is_closed() && !was_secured {
            if self.is_secured() {
                self.lift_hold(&mut change, HoldCode::PaymentMismatch, cause);
                self.release_if_paid(&mut change, cause);
            } else {
                let reason = format!(
                    "payment {payment_id} authorised {amount}; the order totals {}",
                    self.total
                );
                self.put_on_hold(&mut change, HoldCode::PaymentMismatch, reason, cause);
            }
        }
        Ok(change.finish(self))
    }

    /// Asks the provider to void what is left unasked of the authorisations
    /// (of one payment, or of all).
    pub(crate) fn void_unasked(&mut self, only: Option<&PartnerRef>) -> Vec<EventData> {
        let mut events = Vec::new();
        for p in self
            .payments
            .iter_mut()
            .filter(|p| only.is_none_or(|id| &p.payment_id == id))
        {
            let rest = p.unasked();
            if !rest.is_positive() {
                continue;
            }
            let before = p.voided.map_or(0, |v| v.amount);
            p.voided = Some(Money::new(before + rest.amount, p.currency));
            events.push(EventData::VoidRequested {
                payment_id: p.payment_id.to_string(),
                amount: rest,
            });
        }
        events
    }

    /// Asks the authorisations for `value` — what a shipment that just
    /// left is worth — as capture `capture_id`, oldest authorisation
    /// first; once the order shipped in full, voids what is left.
    pub(crate) fn request_captures(
        &mut self,
        capture_id: &str,
        value: Money,
        complete: bool,
    ) -> Vec<EventData> {
        let mut events = Vec::new();
        let mut left = value.amount;
        for p in self
            .payments
            .iter_mut()
            .filter(|p| p.status == PaymentStatus::Authorized && p.currency == value.currency)
        {
            if left <= 0 {
                break;
            }
            if p.captures.iter().any(|c| c.capture_id == capture_id) {
                continue;
            }
            let take = left.min(p.unasked().amount);
            if take <= 0 {
                continue;
            }
            left -= take;
            let amount = Money::new(take, p.currency);
            p.captures.push(Capture {
                capture_id: capture_id.to_owned(),
                amount,
                confirmed: false,
                unasked: false,
            });
            events.push(EventData::CaptureRequested {
                payment_id: p.payment_id.to_string(),
                capture_id: capture_id.to_owned(),
                amount,
            });
        }
        if complete {
            events.extend(self.void_unasked(None));
        }
        events
    }

    /// The provider took (part of) an authorisation: the capture asked as
    /// `capture_id` (or, without one, the oldest asked and not yet
    /// confirmed of that amount, else a capture of its own).
    fn capture_authorized(
        &mut self,
        payment_id: &PartnerRef,
        capture_id: Option<&str>,
        amount: Money,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if amount.currency != self.currency {
            return Err(Refusal::Refused(format!(
                "a capture in {} of an authorisation in {}",
                amount.currency, self.currency
            )));
        }
        let Some(p) = self
            .payments
            .iter_mut()
            .find(|p| &p.payment_id == payment_id)
        else {
            return Err(Refusal::Refused(format!("no payment {payment_id}")));
        };
        let asked = match capture_id {
            Some(id) => p.captures.iter().position(|c| c.capture_id == id),
            None => p
                .captures
                .iter()
                .position(|c| !c.confirmed && c.amount == amount),
        };
        if let Some(i) = asked {
            if p.captures[i].confirmed {
                return Err(Refusal::Duplicate);
            }
            p.captures[i].confirmed = true;
        } else if let Some(id) = capture_id {
            // Taken without being asked: recorded as its own capture.
            p.captures.push(Capture {
                capture_id: id.to_owned(),
                amount,
                confirmed: true,
                unasked: true,
            });
        } else {
            return Err(Refusal::Refused(format!(
                "no capture of {amount} was asked of payment {payment_id}"
            )));
        }
        p.captured = p.captured.plus(amount).unwrap_or(p.captured);
        let mut change = Change::new(None);
        let mut events = vec![EventData::PaymentCaptured {
            payment_id: payment_id.to_string(),
            amount,
        }];
        // Taken for an order that ended, or beyond what the order costs:
        // given back at once.
        let (reason, back, text) = if self.status.is_closed() {
            let text = format!("the order is {}: refunded at once", self.status);
            (RefundReason::OrderEnded, amount, text)
        } else {
            let excess = self.net_paid().minus(self.total).unwrap_or(self.no_money());
            let text = format!("{excess} more than the total: refunded at once");
            (RefundReason::Overpaid, excess, text)
        };
        let mut detail = capture_id.map(|id| format!("capture {id}"));
        if back.is_positive() {
            let refund_id = format!(
                "{}-{payment_id}-{}",
                reason.id_prefix(),
                capture_id.unwrap_or("capture")
            );
            events.extend(self.refund_payment(payment_id, &refund_id, back, reason, &text));
            detail = Some(text);
        }
        change.step(self, "PaymentCaptured", cause, detail, events);
        Ok(change.finish(self))
    }

    /// The payment shown as the order's `payment`: the latest that captured
    /// money, else the latest authorisation still held, else the latest.
    pub fn principal_payment(&self) -> Option<&Payment> {
        self.payments
            .iter()
            .rev()
            .find(|p| p.is_captured() && p.captured.is_positive())
            .or_else(|| {
                self.payments
                    .iter()
                    .rev()
                    .find(|p| p.is_captured() && p.held().is_positive())
            })
            .or_else(|| self.payments.last())
    }

    /// The payment provider confirmed a payment.
    pub fn confirm_payment(
        &mut self,
        payment_id: &PartnerRef,
        amount: Money,
        capture_id: Option<&str>,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if self
            .payments
            .iter()
            .any(|p| &p.payment_id == payment_id && p.authorized.is_some())
        {
            return self.capture_authorized(payment_id, capture_id, amount, cause);
        }
        if let Some(p) = self.payments.iter().find(|p| &p.payment_id == payment_id)
            && p.status != PaymentStatus::Failed
        {
            return Err(Refusal::Duplicate);
        }
        if amount.amount < 0 {
            return Err(Refusal::Refused("a negative amount".into()));
        }
        let wrong_currency = amount.currency != self.currency;
        let status = if wrong_currency {
            PaymentStatus::Mismatch
        } else {
            PaymentStatus::Captured
        };
        let was_paid = self.is_paid();
        self.payments.retain(|p| &p.payment_id != payment_id);
        self.payments.push(Payment {
            payment_id: payment_id.clone(),
            status,
            amount: amount.amount,
            currency: amount.currency,
            captured: amount,
            refunded: Money::zero(amount.currency),
            refunds: Vec::new(),
            authorized: None,
            captures: Vec::new(),
            voided: None,
        });
        let mut events = vec![EventData::PaymentCaptured {
            payment_id: payment_id.to_string(),
            amount,
        }];
        let mut change = Change::new(None);
        let give_back = |reason| (reason, amount);
        // Money that cannot be kept goes straight back.
        let back = if self.status.is_closed() {
            Some(give_back(RefundReason::OrderEnded))
        } else if wrong_currency {
            Some(give_back(RefundReason::WrongCurrency))
        } else if was_paid || (!self.status.before_release() && self.payment_method.prepaid()) {
            // Paid already — a prepaid order is released only once paid.
            // An order paid after release (cash on delivery, on account)
            // keeps what covers its total.
            Some(give_back(RefundReason::AlreadyPaid))
        } else {
            let excess = self.net_paid().minus(self.total).unwrap_or(self.no_money());
            excess
                .is_positive()
                .then_some((RefundReason::Overpaid, excess))
        };
        let mut detail = None;
        if let Some((reason, limit)) = back {
            let text = match reason {
                RefundReason::OrderEnded => {
                    format!("the order is {}: refunded at once", self.status)
                }
                RefundReason::WrongCurrency => format!(
                    "paid in {}, the order is in {}: refunded at once",
                    amount.currency, self.currency
                ),
                RefundReason::AlreadyPaid => "the order was already paid: refunded at once".into(),
                _ => format!("{limit} more than the total: refunded at once"),
            };
            let refund_id = format!("{}-{payment_id}", reason.id_prefix());
            events.extend(self.refund_payment(payment_id, &refund_id, limit, reason, &text));
            detail = Some(text);
        }
        change.step(self, "PaymentCaptured", cause, detail, events);
        if self.status.before_release() && !self.status.is_closed() {
            if self.is_paid() {
                self.lift_hold(&mut change, HoldCode::PaymentMismatch, cause);
                self.release_if_paid(&mut change, cause);
            } else if !was_paid {
                let paid = self.net_paid();
                let reason = format!(
                    "payment {payment_id} confirmed {amount}: {paid} of {} paid; the order totals {}",
                    self.total, self.total
                );
                self.put_on_hold(&mut change, HoldCode::PaymentMismatch, reason, cause);
            }
        }
        Ok(change.finish(self))
    }

    /// The payment provider reports a failed payment.
    pub fn fail_payment(
        &mut self,
        payment_id: &PartnerRef,
        reason: &str,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if let Some(p) = self.payments.iter().find(|p| &p.payment_id == payment_id) {
            if p.status == PaymentStatus::Failed {
                return Err(Refusal::Duplicate);
            }
            return Err(Refusal::Refused(format!(
                "payment {payment_id} is already captured; its late failure is ignored"
            )));
        }
        if self.is_paid() {
            return Err(Refusal::Refused(format!(
                "the order is paid; the failure of payment {payment_id} is ignored"
            )));
        }
        if !self.status.before_release() || self.status.is_closed() {
            return Err(Refusal::Refused(format!(
                "payment failure ignored: the order is {}",
                self.status
            )));
        }
        self.payments.push(Payment {
            payment_id: payment_id.clone(),
            status: PaymentStatus::Failed,
            amount: 0,
            currency: self.currency,
            captured: self.no_money(),
            refunded: self.no_money(),
            refunds: Vec::new(),
            authorized: None,
            captures: Vec::new(),
            voided: None,
        });
        Ok(self.close_cancelled(
            super::CancelCode::PaymentFailed,
            format!("PAYMENT_FAILED: {reason}"),
            cause,
        ))
    }

    /// The payment window closed: an order not paid in full is cancelled
    /// (what was paid in part is refunded).
    pub fn payment_window_closed(&mut self, cause: &Cause) -> Result<Outcome, Refusal> {
        if !self.awaits_payment() {
            return Err(Refusal::Duplicate);
        }
        Ok(self.close_cancelled(
            super::CancelCode::PaymentTimeout,
            "PAYMENT_TIMEOUT: not paid within the payment window".into(),
            cause,
        ))
    }

    /// Whether the payment window still matters: the order is open, not
    /// released and not paid.
    pub fn awaits_payment(&self) -> bool {
        self.payment_method.prepaid()
            && !self.is_secured()
            && self.status.before_release()
            && !self.status.is_closed()
    }

    /// Gives back up to `limit` of one payment, once per `refund_id`, with a
    /// customer notice.
    fn refund_payment(
        &mut self,
        payment_id: &PartnerRef,
        refund_id: &str,
        limit: Money,
        reason: RefundReason,
        text: &str,
    ) -> Vec<EventData> {
        let credit_note = self.is_invoiced();
        let Some(p) = self
            .payments
            .iter_mut()
            .find(|p| &p.payment_id == payment_id)
        else {
            return Vec::new();
        };
        if p.refunds.iter().any(|r| r.refund_id == refund_id) {
            return Vec::new();
        }
        let Ok(amount) = limit.min(p.refundable()) else {
            return Vec::new();
        };
        if !amount.is_positive() {
            return Vec::new();
        }
        p.refunded = p.refunded.plus(amount).unwrap_or(p.refunded);
        p.refunds.push(Refund {
            refund_id: refund_id.to_owned(),
            amount,
            reason: text.to_owned(),
            credit_note,
        });
        let refund = EventData::RefundIssued {
            refund_id: refund_id.to_owned(),
            payment_id: payment_id.to_string(),
            amount,
            reason: text.to_owned(),
        };
        vec![
            refund,
            self.notification(Notice::RefundIssued { amount, reason }),
        ]
    }

    /// Gives back up to `limit` of what the order's own-currency payments
    /// kept, newest payment first; one refund per payment it touches, each
    /// once per `refund_id`.
    pub(crate) fn refund_up_to(
        &mut self,
        refund_id: &str,
        limit: Money,
        reason: RefundReason,
        text: &str,
    ) -> (Money, Vec<EventData>) {
        let mut left = limit;
        let mut given = self.no_money();
        let mut events = Vec::new();
        let ids: Vec<PartnerRef> = self
            .payments
            .iter()
            .rev()
            .filter(|p| p.is_captured())
            .map(|p| p.payment_id.clone())
            .collect();
        for (n, id) in ids.iter().enumerate() {
            if !left.is_positive() {
                break;
            }
            let this_id = if n == 0 {
                refund_id.to_owned()
            } else {
                format!("{refund_id}-{}", n + 1)
            };
            let before = self.net_paid();
            events.extend(self.refund_payment(id, &this_id, left, reason, text));
            let taken = before.minus(self.net_paid()).unwrap_or(self.no_money());
            left = left.minus(taken).unwrap_or(left);
            given = given.plus(taken).unwrap_or(given);
        }
        (given, events)
    }

    /// Refunds everything still kept.
    pub(crate) fn refund_rest(
        &mut self,
        refund_id: &str,
        reason: RefundReason,
        text: &str,
    ) -> Vec<EventData> {
        let everything = Money::new(i64::MAX, self.currency);
        let mut events = self.refund_up_to(refund_id, everything, reason, text).1;
        // And nothing stays authorised for an order that ended.
        events.extend(self.void_unasked(None));
        events
    }

    /// When the payment window closes, if the order has one.
    pub fn payment_due(&self) -> Option<Timestamp> {
        self.payment_due_at
    }
}
