//! Order edits (`PATCH /orders/{id}`): another address, lines added or
//! removed, quantities changed — priced again by intake exactly as a new
//! order would be, then applied here all or nothing.
//!
//! - **Before release** (`PLACED`, `RESERVED`, `ROUTED`, `ON_HOLD`): the
//!   edited order is reserved and routed again over what is free plus what
//!   it already holds, in the same change that gives back its old
//!   allocations — if the new lines cannot all be had, nothing changes
//!   (`EDIT_NOT_POSSIBLE`, naming the skus).
//! - **After release** (`READY_TO_SHIP`): the locations already have the
//!   order, so the edit becomes a cancel-and-recreate request to them: the
//!   new lines are reserved now, beside what the order holds (all or
//!   nothing), the order goes `CANCEL_REQUESTED` with the edit pending, and
//!   the warehouse's `CancellationResponse` decides — accepted: the old
//!   allocations are given back and the order is released again with its
//!   new lines (new pick lists); refused, or shipped meanwhile: the edit's
//!   reservation is given back and the order goes on as it was.
//! - **Money**: paid beyond the new total is refunded at once (reason
//!   `ORDER_EDITED`); a total no longer covered holds the order
//!   (`PAYMENT_MISMATCH`) until the rest is paid or authorised.

use super::{Address, Cause, Change, HoldCode, Order, OrderLine, OrderStatus, Outcome, Rejection};
use crate::events::EventData;
use crate::inventory::{Allocation, StockMove};
use crate::money::Money;
use crate::notice::RefundReason;
use crate::pricing::ShippingCharge;
use crate::routing::Availability;
use serde::{Deserialize, Serialize};

/// What an edit changes: the order's content as intake priced it again.
/// `A` as in [`OrderLine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "OrderEdit",
    description = "An edit waiting for the locations to stop the released order: its lines and amounts in minor units of the order's currency."
)]
#[schemars(bound = "A: schemars::JsonSchema + Default + Serialize + crate::pricing::Amount")]
#[serde(bound(
    serialize = "A: Serialize + crate::pricing::Amount",
    deserialize = "A: Deserialize<'de> + Default"
))]
pub struct Edit<A = Money> {
    pub ship_to: Address,
    pub lines: Vec<OrderLine<A>>,
    pub shipping: ShippingCharge<A>,
    pub coupon_codes: Vec<String>,
    pub total: A,
    pub reason: String,
    /// The units reserved for it beside what the order holds.
    pub allocations: Vec<Allocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_reason: Option<String>,
}

impl<A> Edit<A> {
    pub(crate) fn map<B>(self, f: impl Fn(A) -> B) -> Edit<B> {
        Edit {
            ship_to: self.ship_to,
            lines: self.lines.into_iter().map(|l| l.map(&f)).collect(),
            shipping: self.shipping.map(&f),
            coupon_codes: self.coupon_codes,
            total: f(self.total),
            reason: self.reason,
            allocations: self.allocations,
            routing_reason: self.routing_reason,
        }
    }
}

/// Why an order cannot be edited as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error(
        "the order is {0}: it can be edited until it ships (after release, through its locations)"
    )]
    NotEditable(OrderStatus),
    #[error("an edit already waits for the locations to answer")]
    Pending,
    #[error("the edited order cannot be had: {}", .0.detail)]
    NotPossible(Rejection),
    #[error("an edit cannot change the order's currency")]
    Currency,
}

impl EditError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotEditable(_) => "NOT_EDITABLE",
            Self::Pending => "EDIT_PENDING",
            Self::NotPossible(_) => "EDIT_NOT_POSSIBLE",
            Self::Currency => "CURRENCY_CHANGE",
        }
    }
}

impl Order {
    /// Applies an edit — `edited` is the order as intake priced it again —
    /// over `stock` (see the module's rules).
    pub fn edit(
        &mut self,
        edited: super::NewOrder,
        stock: &Availability,
        reason: String,
        cause: &Cause,
    ) -> Result<Outcome, EditError> {
        if edited.currency() != self.currency {
            return Err(EditError::Currency);
        }
        let mut edit = Edit {
            ship_to: edited.ship_to,
            lines: edited.lines,
            shipping: edited.shipping,
            coupon_codes: edited.coupon_codes,
            total: edited.total,
            reason,
            allocations: Vec::new(),
            routing_reason: None,
        };
        match self.status {
            OrderStatus::Backordered => Err(EditError::NotEditable(self.status)),
            OrderStatus::Placed => {
                // Not reserved yet: the reservation step reserves the new
                // lines.
                let mut change = Change::new(None);
                self.apply_edit(&mut change, edit, cause);
                Ok(change.finish(self))
            }
            s if s.before_release() && !s.is_closed() => {
                let stock = stock.clone().with_returned(&self.allocations);
                let probe = self.edited(&edit);
                let (allocations, routing) = probe
                    .allocate(&probe.demand(), &stock)
                    .map_err(EditError::NotPossible)?;
                let mut change = Change::new(self.release_stock());
                change.add_stock(StockMove::Allocate(allocations.clone()));
                self.holds_stock = true;
                edit.allocations = allocations;
                edit.routing_reason = Some(routing);
                self.apply_edit(&mut change, edit, cause);
                Ok(change.finish(self))
            }
            OrderStatus::ReadyToShip => {
                let probe = self.edited(&edit);
                let (allocations, routing) = probe
                    .allocate(&probe.demand(), stock)
                    .map_err(EditError::NotPossible)?;
                edit.allocations = allocations.clone();
                edit.routing_reason = Some(routing);
                let why = format!("order edited: {}", edit.reason);
                self.pending_edit = Some(edit);
                self.status = OrderStatus::CancelRequested;
                self.cancel_reason = Some(why.clone());
                let mut change = Change::new(Some(StockMove::Allocate(allocations)));
                change.step(
                    self,
                    "CancellationRequested",
                    cause,
                    Some(why.clone()),
                    vec![EventData::CancellationRequested { reason: why }],
                );
                Ok(change.finish(self))
            }
            OrderStatus::CancelRequested if self.pending_edit.is_some() => Err(EditError::Pending),
            s => Err(EditError::NotEditable(s)),
        }
    }

    /// The order as it would be with the edit's content (to plan over).
    fn edited(&self, edit: &Edit) -> Order {
        let mut probe = self.clone();
        probe.ship_to = edit.ship_to.clone();
        probe.lines = edit.lines.clone();
        probe
    }

    /// The locations stopped the released order: it takes its edit, gives
    /// back its old allocations and is released again with the new ones.
    pub(crate) fn edit_accepted(&mut self, cause: &Cause) -> Outcome {
        let Some(edit) = self.pending_edit.take() else {
            return Outcome::default();
        };
        let old = std::mem::take(&mut self.allocations);
        let mut change = Change::new((!old.is_empty()).then_some(StockMove::Release(old)));
        self.status = OrderStatus::Routed;
        self.cancel_reason = None;
        self.apply_edit(&mut change, edit, cause);
        change.finish(self)
    }

    /// The locations could not stop the released order (or shipped it): the
    /// edit's reservation is given back and the order goes on as it was.
    pub(crate) fn drop_pending_edit(&mut self) -> Option<StockMove> {
        let edit = self.pending_edit.take()?;
        self.cancel_reason = None;
        (!edit.allocations.is_empty()).then_some(StockMove::Release(edit.allocations))
    }

    /// Takes the edit's content, with its allocations if it has some, then
    /// settles the money and releases the order if it may go.
    fn apply_edit(&mut self, change: &mut Change, edit: Edit, cause: &Cause) {
        let was_secured = self.is_secured();
        self.ship_to = edit.ship_to;
        self.lines = edit.lines;
        self.shipping = edit.shipping;
        self.coupon_codes = edit.coupon_codes;
        self.total = edit.total;
        if !edit.allocations.is_empty() {
            self.allocations = edit.allocations;
            self.routing_reason = edit.routing_reason;
            self.holds_stock = true;
            if self.status == OrderStatus::Reserved {
                self.status = OrderStatus::Routed;
            }
            if self.hold.is_some() && self.status == OrderStatus::Routed {
                self.status = OrderStatus::OnHold;
            }
        }
        let mut events = vec![EventData::OrderEdited {
            lines: self.demand(),
            total: self.total,
            allocations: self.allocations.clone(),
            reason: edit.reason.clone(),
        }];
        let excess = self.net_paid().minus(self.total).unwrap_or(self.no_money());
        if excess.is_positive() {
            let refund_id = format!("edit-{}", self.history.len());
            let text = format!("order edited: {}", edit.reason);
            events.extend(
                self.refund_up_to(&refund_id, excess, RefundReason::OrderEdited, &text)
                    .1,
            );
        }
        change.step(self, "OrderEdited", cause, Some(edit.reason), events);
        let secured = self.is_secured() || !self.payment_method.prepaid();
        if secured {
            self.lift_hold(change, HoldCode::PaymentMismatch, cause);
        } else if was_secured && self.hold.is_none() {
            let due = self.total.minus(self.net_paid()).unwrap_or(self.total);
            let detail = format!("edited: {due} more to pay");
            self.put_on_hold(change, HoldCode::PaymentMismatch, detail, cause);
        }
        self.release_if_paid(change, cause);
    }
}

/// `PATCH /orders/{id}`: what to change. Lines name a sku and its new
/// quantity (0 removes it; a sku not on the order is added; a bundle by
/// its own sku); anything left out stays as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditOrderRequest {
    /// The new address (whole).
    pub ship_to: Option<crate::validation::AddressRequest>,
    #[schemars(length(min = 1, max = 40))]
    pub lines: Option<Vec<EditLine>>,
    #[schemars(length(max = 10))]
    pub coupon_codes: Option<Vec<String>>,
    #[schemars(length(min = 1, max = 32), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub shipping_method: Option<String>,
    /// Why (recorded in the history).
    #[schemars(length(min = 1, max = 300))]
    pub reason: Option<String>,
}

/// One line of an edit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditLine {
    #[schemars(required, length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub sku: Option<String>,
    /// The new quantity; 0 removes the line.
    #[schemars(required, range(min = 0, max = 100_000))]
    pub quantity: Option<i64>,
    /// For a sku outside the catalog (as when placing).
    #[schemars(range(min = 0, max = 1_000_000_000_000i64))]
    pub unit_price: Option<i64>,
}

impl Order {
    /// The order as a placement request with `edit` applied, for intake to
    /// price again; `in_catalog` tells the skus the catalog prices (their
    /// current price is taken; others keep theirs). The reason recorded.
    pub fn edit_request(
        &self,
        edit: &EditOrderRequest,
        in_catalog: impl Fn(&crate::ids::Sku) -> bool,
    ) -> Result<(crate::validation::PlaceOrderRequest, String), crate::validation::FieldError> {
        use crate::validation::{
            AddressRequest, CustomerRequest, FieldError, LineRequest, PaymentRequest,
            PlaceOrderRequest,
        };
        // The lines as ordered: a bundle as its own sku, once.
        let mut lines: Vec<LineRequest> = Vec::new();
        for l in &self.lines {
            let (sku, quantity, price) = match &l.bundle {
                Some(b) => (&b.sku, b.quantity, None),
                None => (
                    &l.sku,
                    l.quantity,
                    (!in_catalog(&l.sku)).then_some(l.unit_price.amount),
                ),
            };
            if lines.iter().any(|r| r.sku.as_deref() == Some(sku.as_str())) {
                continue;
            }
            lines.push(LineRequest {
                sku: Some(sku.to_string()),
                quantity: Some(i64::from(quantity.get())),
                unit_price: price,
            });
        }
        for (i, e) in edit.lines.iter().flatten().enumerate() {
            let f = |n: &str| format!("lines[{i}].{n}");
            let sku = e
                .sku
                .as_deref()
                .ok_or_else(|| FieldError::new(f("sku"), "is required"))
                .and_then(|s| {
                    crate::ids::Sku::parse(s).map_err(|e| FieldError::new(f("sku"), e.0))
                })?;
            let quantity = e
                .quantity
                .filter(|q| (0..=i64::from(crate::ids::Quantity::MAX)).contains(q))
                .ok_or_else(|| FieldError::new(f("quantity"), "must be 0 to 100000"))?;
            if self
                .lines
                .iter()
                .any(|l| l.sku == sku && l.bundle.is_some())
            {
                return Err(FieldError::new(
                    f("sku"),
                    format!("{sku} is part of a bundle: edit the bundle"),
                ));
            }
            match lines
                .iter()
                .position(|r| r.sku.as_deref() == Some(sku.as_str()))
            {
                Some(at) if quantity == 0 => {
                    lines.remove(at);
                }
                Some(at) => {
                    lines[at].quantity = Some(quantity);
                    if e.unit_price.is_some() {
                        lines[at].unit_price = e.unit_price;
                    }
                }
                None if quantity == 0 => {
                    return Err(FieldError::new(
                        f("quantity"),
                        format!("{sku} is not on the order"),
                    ));
                }
                None => lines.push(LineRequest {
                    sku: Some(sku.to_string()),
                    quantity: Some(quantity),
                    unit_price: e.unit_price,
                }),
            }
        }
        if lines.is_empty() {
            return Err(FieldError::new(
                "lines",
                "an edit cannot remove every line: cancel the order instead",
            ));
        }
        let to = &self.ship_to;
        let ship_to = edit.ship_to.clone().unwrap_or_else(|| AddressRequest {
            country: Some(to.country.clone()),
            postal_code: to.postal_code.clone(),
            city: Some(to.city.clone()),
            line1: Some(to.line1.clone()),
            line2: to.line2.clone(),
            region: to.region.clone(),
            lat: Some(to.point.lat),
            lon: Some(to.point.lon),
        });
        let method = serde_json::to_value(self.payment_method)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned));
        let reason = match edit.reason.as_deref().map(str::trim) {
            None => "edited".to_owned(),
            Some(r) if !r.is_empty() && r.len() <= 300 => r.to_owned(),
            Some(_) => return Err(FieldError::new("reason", "must be 1 to 300 characters")),
        };
        Ok((
            PlaceOrderRequest {
                channel: Some(self.channel.to_string()),
                external_id: None,
                customer: Some(CustomerRequest {
                    id: Some(self.customer.id.to_string()),
                    email: self.customer.email.clone(),
                }),
                currency: Some(self.currency.to_string()),
                ship_to: Some(ship_to),
                lines: Some(lines),
                payment: Some(PaymentRequest { method }),
                shipping_method: match self.fulfillment.pickup_at() {
                    Some(_) => edit.shipping_method.clone(),
                    None => Some(
                        edit.shipping_method
                            .clone()
                            .unwrap_or_else(|| self.shipping.method.clone()),
                    ),
                },
                // The promise made at checkout stays the order's.
                promise: None,
                bill_to: self
                    .bill_to
                    .as_ref()
                    .map(|b| crate::validation::BillToRequest {
                        country: Some(b.country.clone()),
                        postal_code: b.postal_code.clone(),
                        city: b.city.clone(),
                        line1: b.line1.clone(),
                    }),
                fulfillment: self.fulfillment.pickup_at().map(|store| {
                    crate::validation::FulfillmentRequest {
                        method: Some("PICKUP".into()),
                        location_id: Some(store.to_string()),
                    }
                }),
                coupon_codes: Some(
                    edit.coupon_codes
                        .clone()
                        .unwrap_or_else(|| self.coupon_codes.clone()),
                ),
                account_id: self.account_id.clone(),
                purchase_order_number: self.purchase_order_number.clone(),
            },
            reason,
        ))
    }
}
