//! The order as it is stored and as the API shows it.
//!
//! In the aggregate every amount is a [`Money`]; in the document they are
//! integers of minor units, all in the order's `currency` (`total`,
//! `lines[].unitPrice`, `payment.captured`, `returns[].refundAmount`, …), as
//! storefronts have always read them. The conversion happens here, once, in
//! both directions; nothing else sees a bare amount.

use super::{
    Address, CancelCode, Customer, HistoryEntry, Hold, Order, OrderLine, OrderStatus, Payment,
    Refund, Rejection, ReturnAuth, Shipment,
};
use crate::ids::{Channel, ExternalId, InvalidValue, OrderId};
use crate::inventory::Allocation;
use crate::money::{Currency, Money};
use crate::pricing::{Adjustment, ShippingCharge, Totals};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderDoc {
    order_id: OrderId,
    status: OrderStatus,
    /// Optimistic-concurrency version; the store bumps it on every save.
    version: u64,
    channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    external_id: Option<ExternalId>,
    customer: Customer,
    currency: Currency,
    ship_to: Address,
    lines: Vec<OrderLine<i64>>,
    /// Σ quantity × unit price (minor units of `currency`).
    #[serde(default)]
    subtotal: i64,
    /// Taken off the lines by promotions.
    #[serde(default)]
    discount: i64,
    /// What delivery costs, after its discount.
    #[serde(default)]
    shipping: i64,
    /// Every tax (inclusive taxes are inside the prices).
    #[serde(default)]
    tax: i64,
    /// subtotal − discount + shipping + exclusive tax.
    total: i64,
    /// The shipping charge in detail: method, amount, discount, tax
    /// (absent: free, by `STANDARD`).
    #[serde(default, skip_serializing_if = "ShippingCharge::is_default")]
    shipping_charge: ShippingCharge<i64>,
    /// Every promotion applied and what it took off in all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    adjustments: Vec<Adjustment<i64>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    coupon_codes: Vec<String>,
    #[serde(default)]
    allocations: Vec<Allocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    routing_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejection: Option<Rejection>,
    /// The order holds stock that a cancellation must give back.
    #[serde(default)]
    holds_stock: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment_due_at: Option<Timestamp>,
    /// The payment that counts: the latest captured, else the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payment: Option<Payment<i64>>,
    /// Every payment, in the order they arrived.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    payments: Vec<Payment<i64>>,
    /// What holds the order back from release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold: Option<Hold>,
    /// The hold's detail (as `hold.detail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hold_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancel_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cancel_code: Option<CancelCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    shipments: Vec<Shipment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    returns: Vec<ReturnAuth<i64>>,
    /// Its invoices and credit notes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    documents: Vec<super::DocumentRef>,
    /// The latest service-level alert raised on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sla_alert: Option<crate::search::SlaAlert>,
    /// The risk score at intake and the rules that fired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    risk: Option<crate::risk::RiskAssessment>,
    /// How the customer pays (`CARD` unless the order said otherwise).
    #[serde(default)]
    payment_method: super::PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purchase_order_number: Option<String>,
    /// Locations that said they cannot fulfil it (not routed there again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    excluded_locations: Vec<crate::ids::LocationId>,
    /// An edit of the released order waiting for its locations to stop it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_edit: Option<super::Edit<i64>>,
    /// Shipped (absent) or collected at a store.
    #[serde(default, skip_serializing_if = "super::Fulfillment::is_default")]
    fulfillment: super::Fulfillment,
    /// When its store set it aside for the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ready_for_pickup_at: Option<Timestamp>,
    /// The incoming supply it waits for, line by line (`BACKORDERED`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    backorder: Vec<super::BackorderLine>,
    /// Where it is billed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bill_to: Option<super::BillTo>,
    /// The delivery promised at checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    promise: Option<super::ChosenPromise>,
    /// When it was promised to arrive (`promise.promisedDeliveryAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    promised_delivery_at: Option<Timestamp>,
    created_at: Timestamp,
    updated_at: Timestamp,
    history: Vec<HistoryEntry>,
}

fn amount(m: Money) -> i64 {
    m.amount
}

impl From<Order> for OrderDoc {
    fn from(o: Order) -> Self {
        let payment = o.principal_payment().cloned().map(|p| p.map(amount));
        let totals = Totals::of(&o.lines, &o.shipping);
        let adjustments = crate::pricing::adjustments(&o.lines, &o.shipping)
            .into_iter()
            .map(|a| a.map(amount))
            .collect();
        Self {
            subtotal: totals.subtotal.amount,
            discount: totals.discount.amount,
            shipping: totals.shipping.amount,
            tax: totals.tax.amount,
            shipping_charge: o.shipping.map(amount),
            adjustments,
            coupon_codes: o.coupon_codes,
            order_id: o.order_id,
            status: o.status,
            version: o.version,
            channel: o.channel,
            external_id: o.external_id,
            customer: o.customer,
            currency: o.currency,
            ship_to: o.ship_to,
            lines: o.lines.into_iter().map(|l| l.map(amount)).collect(),
            total: o.total.amount,
            allocations: o.allocations,
            routing_reason: o.routing_reason,
            rejection: o.rejection,
            holds_stock: o.holds_stock,
            payment_due_at: o.payment_due_at,
            payment,
            payments: o.payments.into_iter().map(|p| p.map(amount)).collect(),
            hold_reason: o.hold.as_ref().map(|h| h.detail.clone()),
            hold: o.hold,
            cancel_reason: o.cancel_reason,
            cancel_code: o.cancel_code,
            shipments: o.shipments,
            returns: o.returns.into_iter().map(|r| r.map(amount)).collect(),
            documents: o.documents,
            sla_alert: o.sla_alert,
            risk: o.risk,
            payment_method: o.payment_method,
            account_id: o.account_id,
            purchase_order_number: o.purchase_order_number,
            excluded_locations: o.excluded_locations,
            pending_edit: o.pending_edit.map(|e| e.map(amount)),
            fulfillment: o.fulfillment,
            ready_for_pickup_at: o.ready_for_pickup_at,
            backorder: o.backorder,
            bill_to: o.bill_to,
            promised_delivery_at: o.promise.as_ref().map(|p| p.promised_delivery_at),
            promise: o.promise,
            created_at: o.created_at,
            updated_at: o.updated_at,
            history: o.history,
        }
    }
}

impl TryFrom<OrderDoc> for Order {
    type Error = InvalidValue;
    fn try_from(d: OrderDoc) -> Result<Self, InvalidValue> {
        let money = |a: i64| Money::new(a, d.currency);
        Ok(Self {
            lines: d.lines.into_iter().map(|l| l.map(money)).collect(),
            shipping: d.shipping_charge.map(money),
            coupon_codes: d.coupon_codes,
            total: money(d.total),
            payments: d
                .payments
                .into_iter()
                .map(|p| {
                    let currency = p.currency;
                    p.map(|a| Money::new(a, currency))
                })
                .collect(),
            hold: d.hold,
            cancel_code: d.cancel_code,
            returns: d.returns.into_iter().map(|r| r.map(money)).collect(),
            documents: d.documents,
            order_id: d.order_id,
            status: d.status,
            version: d.version,
            channel: d.channel,
            external_id: d.external_id,
            customer: d.customer,
            currency: d.currency,
            ship_to: d.ship_to,
            allocations: d.allocations,
            routing_reason: d.routing_reason,
            rejection: d.rejection,
            holds_stock: d.holds_stock,
            payment_due_at: d.payment_due_at,
            cancel_reason: d.cancel_reason,
            shipments: d.shipments,
            sla_alert: d.sla_alert,
            risk: d.risk,
            payment_method: d.payment_method,
            account_id: d.account_id,
            purchase_order_number: d.purchase_order_number,
            excluded_locations: d.excluded_locations,
            pending_edit: d.pending_edit.map(|e| e.map(money)),
            fulfillment: d.fulfillment,
            ready_for_pickup_at: d.ready_for_pickup_at,
            backorder: d.backorder,
            bill_to: d.bill_to,
            promise: d.promise,
            created_at: d.created_at,
            updated_at: d.updated_at,
            history: d.history,
            outbox: Vec::new(),
        })
    }
}

impl<A> OrderLine<A> {
    pub(crate) fn map<B>(self, f: impl Fn(A) -> B) -> OrderLine<B> {
        OrderLine {
            line_no: self.line_no,
            sku: self.sku,
            quantity: self.quantity,
            unit_price: f(self.unit_price),
            line_total: f(self.line_total),
            adjustments: self.adjustments.into_iter().map(|a| a.map(&f)).collect(),
            discount: f(self.discount),
            tax: f(self.tax),
            tax_included: self.tax_included,
            tax_rate_basis_points: self.tax_rate_basis_points,
            bundle: self.bundle,
        }
    }
}

impl<A> Payment<A> {
    pub(crate) fn map<B>(self, f: impl Fn(A) -> B) -> Payment<B> {
        Payment {
            payment_id: self.payment_id,
            status: self.status,
            amount: self.amount,
            currency: self.currency,
            captured: f(self.captured),
            refunded: f(self.refunded),
            refunds: self.refunds.into_iter().map(|r| r.map(&f)).collect(),
            authorized: self.authorized.map(&f),
            captures: self
                .captures
                .into_iter()
                .map(|c| super::Capture {
                    capture_id: c.capture_id,
                    amount: f(c.amount),
                    confirmed: c.confirmed,
                    unasked: c.unasked,
                })
                .collect(),
            voided: self.voided.map(&f),
        }
    }
}

impl<A> Refund<A> {
    fn map<B>(self, f: impl Fn(A) -> B) -> Refund<B> {
        Refund {
            refund_id: self.refund_id,
            amount: f(self.amount),
            reason: self.reason,
            credit_note: self.credit_note,
        }
    }
}

impl ReturnAuth {
    /// The authorisation as the API shows it (amounts in minor units).
    pub fn to_doc(&self) -> ReturnAuth<i64> {
        self.clone().map(amount)
    }
}

impl<A> ReturnAuth<A> {
    pub(crate) fn map<B>(self, f: impl Fn(A) -> B) -> ReturnAuth<B> {
        ReturnAuth {
            rma_id: self.rma_id,
            status: self.status,
            reason: self.reason,
            lines: self.lines,
            received: self.received,
            receipts: self.receipts,
            refund_amount: f(self.refund_amount),
        }
    }
}
