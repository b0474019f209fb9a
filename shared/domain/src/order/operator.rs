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

/// Why a line could not be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineCancelError {
    #[error("the order has no line of {0}")]
    NoSuchLine(crate::ids::Sku),
    #[error(
        "the order is {0}: lines can be cancelled only before it is released to its locations (cancel the order instead)"
    )]
    Released(OrderStatus),
    #[error("{sku} is part of bundle {bundle}: cancel the bundle")]
    InBundle {
        sku: crate::ids::Sku,
        bundle: crate::ids::Sku,
    },
    #[error(transparent)]
    Order(#[from] crate::order::CancelError),
}

impl LineCancelError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSuchLine(_) => "NO_SUCH_LINE",
            Self::Released(_) => "NOT_CANCELLABLE",
            Self::InBundle { .. } => "IN_BUNDLE",
            Self::Order(_) => "NOT_CANCELLABLE",
        }
    }
}

impl Order {
    /// Cancels one line before release: its stock is given back, the total
    /// falls by the line's, and money paid beyond the new total is
    /// refunded; a paid order whose payment now covers it is released.
    /// A bundle's sku cancels every line of the bundle; one of its products
    /// alone is not cancelled (`IN_BUNDLE`). The last line cancels the
    /// order.
    pub fn cancel_line(
        &mut self,
        sku: &crate::ids::Sku,
        why: String,
        cause: &Cause,
    ) -> Result<Outcome, LineCancelError> {
        if !self.status.before_release()
            || self.status.is_closed()
            || self.status == OrderStatus::Backordered
        {
            return Err(LineCancelError::Released(self.status));
        }
        let of_bundle =
            |l: &crate::order::OrderLine| l.bundle.as_ref().is_some_and(|b| &b.sku == sku);
        if let Some(bundle) = self
            .lines
            .iter()
            .find(|l| &l.sku == sku)
            .and_then(|l| l.bundle.as_ref())
        {
            return Err(LineCancelError::InBundle {
                sku: sku.clone(),
                bundle: bundle.sku.clone(),
            });
        }
        let cancelled = self
            .lines
            .iter()
            .filter(|l| l.sku == *sku || of_bundle(l))
            .count();
        if cancelled == 0 {
            return Err(LineCancelError::NoSuchLine(sku.clone()));
        }
        if cancelled == self.lines.len() {
            return Ok(self.cancel(crate::notice::CancelCode::CustomerRequest, why, cause)?);
        }
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.lines)
            .into_iter()
            .partition(|l| l.sku == *sku || of_bundle(l));
        self.lines = kept;
        let (released, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.allocations)
            .into_iter()
            .partition(|a| gone.iter().any(|l| l.sku == a.sku));
        self.allocations = kept;
        let stock = (!released.is_empty() && self.holds_stock)
            .then(|| crate::inventory::StockMove::Release(released.clone()));
        let mut change = Change::new(stock);
        // What the lines cost the customer: their amounts less their
        // discounts, with their tax (the shipping charge stays).
        let mut events = Vec::new();
        let mut amount = self.no_money();
        for line in &gone {
            let paid = line.payable();
            amount = amount.plus(paid).unwrap_or(amount);
            events.push(EventData::OrderLineCancelled {
                sku: line.sku.clone(),
                quantity: line.quantity,
                amount: paid,
                reason: why.clone(),
            });
        }
        self.total = self.total.minus(amount).unwrap_or(self.total);
        let status = self.status;
        let excess = self.net_paid().minus(self.total).unwrap_or(self.no_money());
        if excess.is_positive() {
            let refund_id = format!("line-{}-{}", sku, self.history.len());
            let (_, refunds) = self.refund_up_to(
                &refund_id,
                excess,
                crate::notice::RefundReason::OrderCancelled,
                &why,
            );
            events.extend(refunds);
        }
        let units: u32 = gone.iter().map(|l| l.quantity.get()).sum();
        change.step(
            self,
            "OrderLineCancelled",
            cause,
            Some(format!("{units} × {sku}: {why}")),
            events,
        );
        debug_assert_eq!(self.status, status);
        self.release_if_paid(&mut change, cause);
        Ok(change.finish(self))
    }
}
