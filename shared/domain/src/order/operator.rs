//! What an operator may do to an order: hold it, refund money, send it to
//! be routed again. Each change is audited in the history with the
//! operator as actor; a state that does not allow it is a typed error.

use super::{Change, Order, OrderStatus, Outcome};
use crate::events::{EventData, HoldCode};
use crate::money::Money;
use crate::notice::RefundReason;
use crate::order::Cause;

/// Why an operator's action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("the order is {0}: only an order not yet released to its locations can be held")]
    NotHoldable(OrderStatus),
    #[error("the order is already held ({0})")]
    AlreadyHeld(String),
    #[error("only {refundable} of the money captured is not refunded yet")]
    AboveRefundable { refundable: Money },
    #[error("the order is in {order}, not {asked}")]
    WrongCurrency { order: String, asked: String },
    #[error("the order is {0}: only a routed order not yet released can be routed again")]
    NotReroutable(OrderStatus),
}

impl OperatorError {
    /// A stable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotHoldable(_) => "NOT_HOLDABLE",
            Self::AlreadyHeld(_) => "ALREADY_HELD",
            Self::AboveRefundable { .. } => "ABOVE_REFUNDABLE",
            Self::WrongCurrency { .. } => "WRONG_CURRENCY",
            Self::NotReroutable(_) => "NOT_REROUTABLE",
        }
    }
}

impl Order {
    /// An operator holds the order back from release: it keeps its stock
    /// and goes nowhere until the hold is released (`release_hold`) or it
    /// is cancelled.
    pub fn hold_by_operator(
        &mut self,
        reason: &str,
        cause: &Cause,
    ) -> Result<Outcome, OperatorError> {
        if let Some(h) = &self.hold {
            return Err(OperatorError::AlreadyHeld(h.detail.clone()));
        }
        if !self.status.before_release() {
            return Err(OperatorError::NotHoldable(self.status));
        }
        let mut change = Change::new(None);
        self.put_on_hold(&mut change, HoldCode::Operator, reason.to_owned(), cause);
        Ok(change.finish(self))
    }

    /// An operator gives money back (a goodwill refund, a price
    /// adjustment): never more than captured less refunded. `refund_id`
    /// names it, so that the same request twice refunds once.
    pub fn refund_by_operator(
        &mut self,
        refund_id: &str,
        amount: Money,
        reason: &str,
        cause: &Cause,
    ) -> Result<Outcome, OperatorError> {
        if amount.currency != self.currency {
            return Err(OperatorError::WrongCurrency {
                order: self.currency.to_string(),
                asked: amount.currency.to_string(),
            });
        }
        let refundable = self.net_paid();
        if amount.amount > refundable.amount {
            return Err(OperatorError::AboveRefundable { refundable });
        }
        let mut change = Change::new(None);
        let (given, events) = self.refund_up_to(refund_id, amount, RefundReason::Goodwill, reason);
        let status = self.status;
        change.step(
            self,
            "RefundIssued",
            cause,
            Some(format!("{given}: {reason}")),
            events,
        );
        debug_assert_eq!(self.status, status);
        Ok(change.finish(self))
    }

    /// Gives back the stock the order was routed to and sends it to be
    /// routed again over what is free now (after a location failed or was
    /// made inactive): `ROUTED`/`ON_HOLD → PLACED`, with
    /// `RerouteRequested`, which reservation takes as it takes
    /// `OrderPlaced`. A hold stays; an order already released to its
    /// locations is cancelled instead.
    pub fn reroute(&mut self, reason: &str, cause: &Cause) -> Result<Outcome, OperatorError> {
        if !matches!(self.status, OrderStatus::Routed | OrderStatus::OnHold) {
            return Err(OperatorError::NotReroutable(self.status));
        }
        let released = self.allocations.clone();
        let mut change = Change::new(self.release_stock());
        self.allocations.clear();
        self.routing_reason = None;
        self.status = OrderStatus::Placed;
        change.step(
            self,
            "RerouteRequested",
            cause,
            Some(reason.to_owned()),
            vec![EventData::RerouteRequested {
                released,
                reason: reason.to_owned(),
            }],
        );
        Ok(change.finish(self))
    }
}
