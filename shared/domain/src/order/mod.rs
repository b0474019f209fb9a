//! The Order aggregate and its state machine.
//!
//! ```text
//! PLACED ─reserve─▶ RESERVED ─route─▶ ROUTED ─paid─▶ READY_TO_SHIP ─▶ PARTIALLY_SHIPPED ─▶ SHIPPED ─▶ DELIVERED ─▶ RETURNED
//!   │                  │                 │                │
//!   ▼                  ▼                 ▼                ▼
//! REJECTED / ON_HOLD / CANCELLED    CANCEL_REQUESTED ─accepted─▶ CANCELLED  (rejected ─▶ READY_TO_SHIP)
//!
//! ROUTED / ON_HOLD ─reroute (operator)─▶ PLACED ─reserve─▶ …   (the hold stays)
//! ROUTED / ON_HOLD / READY_TO_SHIP ─FulfillmentRejected (a location)─▶ PLACED ─reserve elsewhere─▶ …
//! … SHIPPED ─every shipment REFUSED at the door─▶ RETURNED   (restocked, refunded)
//! PLACED … ON_HOLD ─edit─▶ same status, re-reserved and re-routed in one change
//! READY_TO_SHIP ─ReadyForPickup (its store)─▶ READY_FOR_PICKUP ─PickedUp─▶ PICKED_UP ─▶ RETURNED
//!                                              └─not collected in OMS_PICKUP_HOLD_SECS─▶ CANCELLED (restocked, refunded)
//! PLACED ─short, supply on its way (backorder / preorder)─▶ BACKORDERED ─supply received─▶ ROUTED ─▶ …
//! READY_TO_SHIP ─edit─▶ CANCEL_REQUESTED ─accepted─▶ ROUTED ─▶ READY_TO_SHIP (new lines)  (rejected ─▶ READY_TO_SHIP, old lines)
//! ```
//!
//! Every change is a method that checks the current status, changes the
//! order, appends a history entry (who, what, when, why) and returns an
//! [`Outcome`]: the domain events and the stock moves that must commit with
//! it. Illegal changes are typed errors; partner facts that cannot apply are
//! [`Refusal`]s, recorded in the history by [`Order::refuse`].

mod backorder;
mod documents;
mod edits;
mod facts;
mod operator;
mod payment;
mod pickup;
mod resourcing;
mod returns;
mod shipping;
mod sla;
#[cfg(test)]
pub(crate) mod tests;
mod wire;

pub use crate::events::{HoldCode, RejectReason};
pub use crate::inventory::Allocation;
pub use crate::notice::{CancelCode, RefundReason};
pub use backorder::BackorderLine;
pub use documents::{
    Buyer, Document, DocumentDraft, DocumentKind, DocumentLine, DocumentList, DocumentRef, TaxLine,
    net_invoiced,
};
pub use edits::{Edit, EditError, EditLine, EditOrderRequest};
pub use operator::{LineCancelError, OperatorError};
pub use payment::{Capture, Payment, PaymentMethod, PaymentStatus, Refund};
pub use returns::{ReturnAuth, ReturnError, ReturnStatus};
pub use shipping::{PickList, Shipment};

use crate::events::{DomainEvent, EventData, ShipToSummary};
use crate::geo::GeoPoint;
use crate::ids::{Channel, CustomerId, ExternalId, OrderId, Quantity, Sku};
use crate::inventory::{Demand, LineQty, StockMove};
use crate::money::{Currency, Money};
use crate::notice::Notice;
use crate::routing::{Availability, Candidate};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Placed,
    Reserved,
    Routed,
    OnHold,
    ReadyToShip,
    CancelRequested,
    PartiallyShipped,
    Shipped,
    Delivered,
    Returned,
    Rejected,
    Cancelled,
    /// A pickup order waits at its store for the customer.
    ReadyForPickup,
    /// The customer collected it (final, like `DELIVERED`).
    PickedUp,
    /// Waiting for incoming supply it claimed (its other units reserved).
    Backordered,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "PLACED",
            Self::Reserved => "RESERVED",
            Self::Routed => "ROUTED",
            Self::OnHold => "ON_HOLD",
            Self::ReadyToShip => "READY_TO_SHIP",
            Self::CancelRequested => "CANCEL_REQUESTED",
            Self::PartiallyShipped => "PARTIALLY_SHIPPED",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Returned => "RETURNED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
            Self::ReadyForPickup => "READY_FOR_PICKUP",
            Self::PickedUp => "PICKED_UP",
            Self::Backordered => "BACKORDERED",
        }
    }
    /// The order ended without shipping.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Rejected | Self::Cancelled)
    }
    /// Not yet released to a warehouse: cancelling is immediate.
    pub fn before_release(self) -> bool {
        matches!(
            self,
            Self::Placed | Self::Reserved | Self::Routed | Self::OnHold | Self::Backordered
        )
    }
    /// Units have left a warehouse: too late to cancel, time to return.
    pub fn has_shipped(self) -> bool {
        matches!(
            self,
            Self::PartiallyShipped
                | Self::Shipped
                | Self::Delivered
                | Self::Returned
                | Self::PickedUp
        )
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    pub city: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// State, province or region code (what regional tax rules match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Where it is (`lat`, `lon`).
    #[serde(flatten)]
    pub point: GeoPoint,
}

/// One line of an order. `A` is how amounts are held: [`Money`] in the
/// aggregate; integer minor units of the order's currency in its stored and
/// wire form ([`wire`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "OrderLine",
    description = "One line of an order; prices in minor units of the order's currency."
)]
#[schemars(bound = "A: schemars::JsonSchema + Default + Serialize + crate::pricing::Amount")]
#[serde(bound(
    serialize = "A: Serialize + crate::pricing::Amount",
    deserialize = "A: Deserialize<'de> + Default"
))]
pub struct OrderLine<A = Money> {
    pub line_no: u16,
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price: A,
    /// Quantity × unit price, before discounts.
    pub line_total: A,
    /// The promotions that took something off the line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<crate::pricing::Adjustment<A>>,
    /// Taken off by promotions (the sum of `adjustments`; absent: 0).
    #[serde(default, skip_serializing_if = "crate::pricing::nothing")]
    pub discount: A,
    /// Tax on the line's amount after discounts (absent: 0).
    #[serde(default, skip_serializing_if = "crate::pricing::nothing")]
    pub tax: A,
    /// The tax is inside the price (else it is added to it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_included: bool,
    /// The rate applied, in hundredths of a percent.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tax_rate_basis_points: u32,
    /// The bundle this line is a product of, as ordered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<BundleRef>,
}

/// The bundle an order line came from: its sku and how many were ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BundleRef {
    pub sku: Sku,
    pub quantity: Quantity,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl OrderLine {
    /// A line of `quantity` × `unit_price`, before any promotion or tax.
    pub fn priced(
        line_no: u16,
        sku: Sku,
        quantity: Quantity,
        unit_price: Money,
    ) -> Result<Self, crate::money::MoneyError> {
        let zero = Money::zero(unit_price.currency);
        Ok(Self {
            line_no,
            sku,
            line_total: unit_price.times(quantity.get())?,
            quantity,
            unit_price,
            adjustments: Vec::new(),
            discount: zero,
            tax: zero,
            tax_included: false,
            tax_rate_basis_points: 0,
            bundle: None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<Sku>,
}

/// One change or one refused fact: the audit trail and the data for KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    /// What happened: the event emitted, or the partner event refused.
    pub event: String,
    /// The function (or partner source) that made or asked for the change.
    pub actor: String,
    /// What triggered it: a request id or the id of the event consumed.
    pub cause: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The fact was refused and changed nothing else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

/// A hold: the order keeps its stock and is not released until it lifts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hold {
    pub code: HoldCode,
    pub detail: String,
    pub since: Timestamp,
}

/// Most refused facts an order records; later ones are only logged, so
/// that a flood of bad events cannot bloat the order.
pub const MAX_REFUSALS: usize = 50;
/// Longest detail a refusal records.
pub const MAX_REFUSAL_DETAIL: usize = 300;

/// Who and what caused a change, carried into the history.
#[derive(Debug, Clone)]
pub struct Cause {
    pub actor: String,
    pub trigger: String,
    pub at: Timestamp,
}

/// What a change produced: events to publish and stock to move, both in the
/// same commit as the order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub events: Vec<DomainEvent>,
    pub stock: Vec<StockMove>,
}

/// Why a fact could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Already applied: nothing to do, nothing to record.
    #[error("already applied")]
    Duplicate,
    /// Cannot apply: recorded in the history, otherwise changes nothing.
    #[error("{0}")]
    Refused(String),
}

/// An order that passed validation and is ready to be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub channel: Channel,
    pub external_id: Option<ExternalId>,
    pub customer: Customer,
    pub ship_to: Address,
    pub lines: Vec<OrderLine>,
    /// What it pays for delivery ([`crate::pricing`]).
    pub shipping: crate::pricing::ShippingCharge,
    /// The coupons it names (upper case).
    pub coupon_codes: Vec<String>,
    /// Lines less discounts, plus shipping and exclusive tax.
    pub total: Money,
    /// Its risk assessment, when intake scored it: at the hold score it is
    /// placed on hold for review.
    pub risk: Option<crate::risk::RiskAssessment>,
    pub payment_method: PaymentMethod,
    /// The business account it is placed for.
    pub account_id: Option<String>,
    /// The buyer's purchase order number.
    pub purchase_order_number: Option<String>,
    /// Why it goes beyond its account's credit, if it does: placed on hold.
    pub credit_hold: Option<String>,
    /// Shipped (the default) or collected at a store.
    pub fulfillment: Fulfillment,
    /// Where it is billed, if the storefront said.
    pub bill_to: Option<BillTo>,
    /// The delivery promised at checkout (`POST /promise`'s option chosen),
    /// checked and dated by intake.
    pub promise: Option<ChosenPromise>,
}

/// The delivery promised to the customer when the order was placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChosenPromise {
    /// The ship method of the option chosen.
    pub method: String,
    /// Its delivery date (`YYYY-MM-DD`).
    pub delivery_date: String,
    /// The end of that day (UTC): the delivery step's deadline.
    pub promised_delivery_at: Timestamp,
    /// When an order not delivered yet is at risk of missing it
    /// (`OMS_SLA_RISK_PERCENT` of the time from placement).
    pub at_risk_at: Timestamp,
}

impl ChosenPromise {
    /// The promise of delivery on `date` (`YYYY-MM-DD`) by `method`, made
    /// at `now`: due at the end of that day (UTC), at risk after
    /// `risk_percent` of the time until then.
    pub fn new(method: String, date: &str, now: Timestamp, risk_percent: u64) -> Option<Self> {
        let due = Timestamp::parse_rfc3339(&format!("{date}T23:59:59.999Z"))?;
        let span = due.millis().saturating_sub(now.millis());
        Some(Self {
            method,
            delivery_date: date.to_owned(),
            promised_delivery_at: due,
            at_risk_at: now.plus_millis(span.saturating_mul(risk_percent) / 100),
        })
    }
}

/// Where an order is billed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillTo {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
}

/// How an order reaches its customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    pub method: FulfillmentMethod,
    /// The store a `PICKUP` order is collected at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<crate::ids::LocationId>,
}

impl Fulfillment {
    /// The store it is collected at, if it is a pickup.
    pub fn pickup_at(&self) -> Option<&crate::ids::LocationId> {
        match self.method {
            FulfillmentMethod::Pickup => self.location_id.as_ref(),
            FulfillmentMethod::Ship => None,
        }
    }
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// A pickup's store must be one of `locations`, active and a store
    /// (else `NOT_A_PICKUP_LOCATION`).
    pub fn check_store(
        &self,
        locations: &[crate::inventory::Location],
    ) -> Result<(), crate::catalog::PricingError> {
        let Some(store) = self.pickup_at() else {
            return Ok(());
        };
        let open = locations.iter().any(|l| {
            &l.location_id == store && l.active && l.kind == crate::inventory::LocationKind::Store
        });
        if open {
            return Ok(());
        }
        Err(crate::catalog::PricingError {
            code: "NOT_A_PICKUP_LOCATION",
            field: crate::validation::FieldError::new(
                "fulfillment.locationId",
                format!("{store} is not an open store to collect from"),
            ),
        })
    }
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FulfillmentMethod {
    #[default]
    Ship,
    Pickup,
}

impl NewOrder {
    pub fn currency(&self) -> Currency {
        self.total.currency
    }
}

/// The order aggregate. Stored and shown as [`wire::OrderDoc`], where
/// amounts are integers in `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "wire::OrderDoc", into = "wire::OrderDoc")]
#[schemars(
    description = "An order: lines, status, allocations, payment, shipments, returns and the history of every change. Amounts are integer minor units of `currency`."
)]
pub struct Order {
    pub order_id: OrderId,
    pub status: OrderStatus,
    /// Optimistic-concurrency version; the store bumps it on every save.
    pub version: u64,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    pub customer: Customer,
    pub currency: Currency,
    pub ship_to: Address,
    pub lines: Vec<OrderLine>,
    /// What it pays for delivery.
    pub shipping: crate::pricing::ShippingCharge,
    /// The coupons it named.
    pub coupon_codes: Vec<String>,
    /// Lines less discounts, plus shipping and exclusive tax
    /// ([`crate::pricing::Totals`]).
    pub total: Money,
    pub allocations: Vec<Allocation>,
    pub routing_reason: Option<String>,
    pub rejection: Option<Rejection>,
    /// The order holds stock (a network reservation, and its allocations
    /// once routed) that a cancellation must give back.
    pub holds_stock: bool,
    pub payment_due_at: Option<Timestamp>,
    /// Every payment, in the order they arrived.
    pub payments: Vec<Payment>,
    /// What holds the order back from release, if anything.
    pub hold: Option<Hold>,
    pub cancel_reason: Option<String>,
    /// Why it was cancelled, as the customer is told.
    pub cancel_code: Option<CancelCode>,
    pub shipments: Vec<Shipment>,
    pub returns: Vec<ReturnAuth>,
    /// Its invoices and credit notes ([`Order::documents_due`]).
    pub documents: Vec<DocumentRef>,
    /// The latest service-level alert (`OrderAtRisk`, `OrderSlaBreached`).
    pub sla_alert: Option<crate::search::SlaAlert>,
    /// The risk score at intake and the rules that fired.
    pub risk: Option<crate::risk::RiskAssessment>,
    pub payment_method: PaymentMethod,
    /// The business account it was placed for ([`crate::accounts`]).
    pub account_id: Option<String>,
    pub purchase_order_number: Option<String>,
    /// Locations that said they cannot fulfil it: never routed there again.
    pub excluded_locations: Vec<crate::ids::LocationId>,
    /// An edit of the released order, waiting for its locations to stop it.
    pub pending_edit: Option<Edit>,
    /// Shipped to its address, or collected at a store.
    pub fulfillment: Fulfillment,
    /// When its store said it was ready for pickup.
    pub ready_for_pickup_at: Option<Timestamp>,
    /// The incoming supply it waits for (`BACKORDERED`), line by line.
    pub backorder: Vec<BackorderLine>,
    /// Where it is billed, if the storefront said.
    pub bill_to: Option<BillTo>,
    /// The delivery promised at checkout, which the SLA sweep holds it to.
    pub promise: Option<ChosenPromise>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub history: Vec<HistoryEntry>,
    /// The events of the latest change, kept so a retry can publish them
    /// again with the same ids (stored beside the order, not shown).
    pub outbox: Vec<DomainEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an order that is {from}")]
pub struct TransitionError {
    pub from: OrderStatus,
    pub action: &'static str,
}

impl Order {
    /// Places a new order: the first transition, `→ PLACED`.
    pub fn place(
        id: OrderId,
        new: NewOrder,
        payment_due_at: Option<Timestamp>,
        cause: &Cause,
    ) -> (Order, Outcome) {
        let (mut order, change) = Self::placing(id, new, payment_due_at, cause);
        let outcome = change.finish(&mut order);
        (order, outcome)
    }

    /// Places a new order and reserves it in the same change, for intake
    /// that reads the stock before it stores the order: `→ PLACED →
    /// RESERVED → ROUTED` (or `→ REJECTED`), with the events — and event
    /// ids — that [`Order::place`] then [`Order::reserve`] would make.
    pub fn place_and_reserve(
        id: OrderId,
        new: NewOrder,
        payment_due_at: Option<Timestamp>,
        stock: &Availability,
        cause: &Cause,
    ) -> (Order, Outcome) {
        let (mut order, mut change) = Self::placing(id, new, payment_due_at, cause);
        order.reserve_into(&mut change, stock, cause);
        let outcome = change.finish(&mut order);
        (order, outcome)
    }

    fn placing(
        id: OrderId,
        new: NewOrder,
        payment_due_at: Option<Timestamp>,
        cause: &Cause,
    ) -> (Order, Change) {
        let mut order = Order {
            order_id: id,
            status: OrderStatus::Placed,
            version: 0,
            channel: new.channel,
            external_id: new.external_id,
            customer: new.customer,
            currency: new.total.currency,
            ship_to: new.ship_to,
            lines: new.lines,
            shipping: new.shipping,
            coupon_codes: new.coupon_codes,
            total: new.total,
            allocations: Vec::new(),
            routing_reason: None,
            rejection: None,
            holds_stock: false,
            payment_due_at,
            payments: Vec::new(),
            hold: None,
            cancel_reason: None,
            cancel_code: None,
            shipments: Vec::new(),
            returns: Vec::new(),
            documents: Vec::new(),
            sla_alert: None,
            risk: new.risk.clone(),
            payment_method: new.payment_method,
            account_id: new.account_id,
            purchase_order_number: new.purchase_order_number,
            excluded_locations: Vec::new(),
            pending_edit: None,
            fulfillment: new.fulfillment.clone(),
            ready_for_pickup_at: None,
            backorder: Vec::new(),
            bill_to: new.bill_to.clone(),
            promise: new.promise.clone(),
            created_at: cause.at,
            updated_at: cause.at,
            history: Vec::new(),
            outbox: Vec::new(),
        };
        let placed = order.placed_data();
        let notify = order.notification(Notice::OrderPlaced { total: order.total });
        let mut change = Change::new(None);
        change.step(&mut order, "OrderPlaced", cause, None, vec![placed, notify]);
        if let Some(risk) = order.risk.clone().filter(|r| r.review) {
            let rules: Vec<&str> = risk.fired.iter().map(|f| f.rule.as_str()).collect();
            let detail = format!("risk score {}: {}", risk.score, rules.join(", "));
            order.put_on_hold(&mut change, HoldCode::FraudReview, detail, cause);
        }
        if let Some(detail) = new.credit_hold.clone()
            && order.hold.is_none()
        {
            order.put_on_hold(&mut change, HoldCode::CreditLimit, detail, cause);
        }
        if let Some(due_at) = payment_due_at {
            // The payment window's timer: due when the window closes.
            change.timer(DomainEvent {
                event_id: format!("{}.payment-window", order.order_id),
                order_id: order.order_id.clone(),
                occurred_at: order.created_at,
                data: EventData::PaymentWindowExpired { due_at },
            });
        }
        (order, change)
    }

    /// `PLACED → RESERVED → ROUTED`, in one change: the locations that will
    /// ship the order are chosen over what is free at each (see
    /// [`crate::routing`]) and its units are taken there, from the shards of
    /// stock that hold them ([`crate::inventory::draw`]). Or `→ REJECTED`:
    /// `INSUFFICIENT_STOCK` naming every sku the network cannot cover;
    /// `NO_ELIGIBLE_LOCATION` when only locations that do not serve the
    /// destination could; `UNROUTABLE` when no plan fits one change.
    pub fn reserve(
        &mut self,
        stock: &Availability,
        cause: &Cause,
    ) -> Result<Outcome, TransitionError> {
        self.require(&[OrderStatus::Placed], "reserve")?;
        let mut change = Change::new(None);
        self.reserve_into(&mut change, stock, cause);
        Ok(change.finish(self))
    }

    /// The steps of [`Order::reserve`] on a `PLACED` order, added to `change`.
    fn reserve_into(&mut self, change: &mut Change, stock: &Availability, cause: &Cause) {
        let demand = self.demand();
        let (allocations, reason) = match self.allocate(&demand, stock) {
            Ok(found) => found,
            Err(rejection) => {
                // Short, but the supply on its way may serve it.
                if rejection.reason == RejectReason::InsufficientStock
                    && let Some((taken, claims)) = self.backorder_plan(&demand, stock, cause.at)
                {
                    return self.backordered(change, taken, claims, cause);
                }
                return self.reject(change, rejection, cause);
            }
        };
        change.add_stock(StockMove::Allocate(allocations.clone()));
        self.status = OrderStatus::Reserved;
        self.holds_stock = true;
        let mut events = vec![EventData::InventoryReserved { lines: demand }];
        events.extend(low_stock(&allocations, stock));
        change.step(self, "InventoryReserved", cause, None, events);
        self.routed(change, allocations, reason, cause);
    }

    /// The locations that may serve the order: its store, for a pickup
    /// (wherever the customer lives); else those that ship to its country
    /// — never one that said it cannot fulfil it.
    pub(crate) fn eligible(&self, stock: &Availability) -> Vec<Candidate> {
        let country = self.ship_to.country.as_str();
        let pickup = self.fulfillment.pickup_at();
        stock
            .candidates()
            .iter()
            .filter(|c| match pickup {
                Some(store) => &c.location_id == store,
                None => c.serves(country),
            })
            .filter(|c| !self.excluded_locations.contains(&c.location_id))
            .cloned()
            .collect()
    }

    /// Where `demand` would be taken from over `stock`, and why there (see
    /// [`crate::routing`]): the units drawn from the shards that hold them;
    /// or why it cannot be — `INSUFFICIENT_STOCK` naming every sku the
    /// network cannot cover, `NO_ELIGIBLE_LOCATION` when only locations
    /// that do not serve the destination could, `UNROUTABLE` when no plan
    /// fits one change.
    fn allocate(
        &self,
        demand: &[LineQty],
        stock: &Availability,
    ) -> Result<(Vec<Allocation>, String), Rejection> {
        let short: Vec<Sku> = demand
            .iter()
            .filter(|l| stock.network_free(&l.sku) < u64::from(l.quantity.get()))
            .map(|l| l.sku.clone())
            .collect();
        if !short.is_empty() {
            return Err(Self::stock_rejection(short));
        }
        let country = self.ship_to.country.as_str();
        let eligible = self.eligible(stock);
        if let Some(store) = self.fulfillment.pickup_at() {
            let short: Vec<Sku> = demand
                .iter()
                .filter(|l| {
                    eligible
                        .first()
                        .map_or(0, |c| c.free.get(&l.sku).copied().unwrap_or(0))
                        < u64::from(l.quantity.get())
                })
                .map(|l| l.sku.clone())
                .collect();
            if !short.is_empty() {
                let listed: Vec<String> = short.iter().map(ToString::to_string).collect();
                return Err(Rejection {
                    reason: RejectReason::InsufficientStock,
                    detail: format!("not enough at {store} for {}", listed.join(", ")),
                    skus: short,
                });
            }
        }
        let plan = match crate::routing::plan_by(
            demand,
            self.ship_to.point,
            Some(country),
            &eligible,
            stock.rules(),
        ) {
            Ok(p) => p,
            Err(e) => {
                let elsewhere =
                    crate::routing::plan(demand, self.ship_to.point, stock.candidates()).is_ok();
                let (reason, detail) = if elsewhere {
                    (
                        RejectReason::NoEligibleLocation,
                        format!("no location that serves {country} can ship it ({e})"),
                    )
                } else {
                    (RejectReason::Unroutable, e.to_string())
                };
                return Err(Rejection {
                    reason,
                    detail,
                    skus: e.skus(),
                });
            }
        };
        let order_id = self.order_id.clone();
        let home = |sku: &Sku, shards: usize| crate::inventory::home_shard(&order_id, sku, shards);
        match crate::inventory::draw(&plan.allocations, stock.shards(), home) {
            Some(allocations) => Ok((allocations, plan.reason)),
            // Availability's totals are the sums of its shards: unreachable,
            // and still not a reason to take what is not there.
            None => Err(Self::stock_rejection(
                demand.iter().map(|l| l.sku.clone()).collect(),
            )),
        }
    }

    /// `PLACED → REJECTED`.
    fn reject(&mut self, change: &mut Change, rejection: Rejection, cause: &Cause) {
        if let Some(m) = self.release_stock() {
            change.add_stock(m);
        }
        if let Some(m) = self.release_claims() {
            change.add_stock(m);
        }
        let mut events = Vec::new();
        if rejection.reason == RejectReason::InsufficientStock {
            events.push(EventData::InventoryShort {
                skus: rejection.skus.clone(),
            });
        }
        events.push(EventData::OrderRejected {
            reason: rejection.reason,
            detail: rejection.detail.clone(),
        });
        events.push(self.notification(Notice::OrderRejected {
            reason: rejection.reason,
            detail: rejection.detail.clone(),
        }));
        let detail = rejection.detail.clone();
        self.rejection = Some(rejection);
        self.status = OrderStatus::Rejected;
        self.hold = None;
        let refund_id = format!("reject-{}", self.history.len());
        events.extend(self.refund_rest(&refund_id, RefundReason::OrderRejected, &detail));
        change.step(self, "OrderRejected", cause, Some(detail), events);
    }

    /// `RESERVED → ROUTED`: the quantities now sit on these locations. An
    /// order already paid is released to them at once.
    fn routed(
        &mut self,
        change: &mut Change,
        allocations: Vec<Allocation>,
        reason: String,
        cause: &Cause,
    ) {
        self.allocations = allocations.clone();
        self.routing_reason = Some(reason.clone());
        self.status = if self.hold.is_some() {
            OrderStatus::OnHold
        } else {
            OrderStatus::Routed
        };
        change.step(
            self,
            "OrderRouted",
            cause,
            Some(reason.clone()),
            vec![EventData::OrderRouted {
                allocations,
                reason,
            }],
        );
        self.release_if_paid(change, cause);
    }

    /// Why an order cannot be had: the network cannot cover `short`.
    fn stock_rejection(short: Vec<Sku>) -> Rejection {
        let listed: Vec<String> = short.iter().map(ToString::to_string).collect();
        Rejection {
            reason: RejectReason::InsufficientStock,
            detail: format!("not enough stock for {}", listed.join(", ")),
            skus: short,
        }
    }

    /// A cancellation asked by the customer or the storefront. Before
    /// release: immediate, stock given back and any capture refunded. After
    /// release: the warehouse is asked (`CANCEL_REQUESTED`). After shipment:
    /// an error — that is a return.
    pub fn cancel(
        &mut self,
        code: CancelCode,
        why: String,
        cause: &Cause,
    ) -> Result<Outcome, CancelError> {
        match self.status {
            // Before release, or set aside at the store: at once.
            s if s.before_release() || s == OrderStatus::ReadyForPickup => {
                Ok(self.close_cancelled(code, why, cause))
            }
            OrderStatus::ReadyToShip => {
                let mut change = Change::new(None);
                self.status = OrderStatus::CancelRequested;
                self.cancel_reason = Some(why.clone());
                self.cancel_code = Some(code);
                change.step(
                    self,
                    "CancellationRequested",
                    cause,
                    Some(why.clone()),
                    vec![EventData::CancellationRequested { reason: why }],
                );
                Ok(change.finish(self))
            }
            OrderStatus::CancelRequested if self.pending_edit.is_some() => {
                // The whole order instead of the edit.
                let mut change = Change::new(self.drop_pending_edit());
                self.cancel_reason = Some(why.clone());
                self.cancel_code = Some(code);
                change.step(
                    self,
                    "CancellationRequested",
                    cause,
                    Some(why.clone()),
                    vec![EventData::CancellationRequested { reason: why }],
                );
                Ok(change.finish(self))
            }
            OrderStatus::CancelRequested | OrderStatus::Cancelled => Err(CancelError::AlreadyAsked),
            s if s.has_shipped() => Err(CancelError::Shipped),
            _ => Err(CancelError::Closed(self.status)),
        }
    }

    /// The warehouse's answer to a cancellation request.
    pub fn cancellation_answered(
        &mut self,
        accepted: bool,
        reason: Option<String>,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if self.status != OrderStatus::CancelRequested {
            return Err(Refusal::Refused(format!(
                "no cancellation is pending (order is {})",
                self.status
            )));
        }
        if self.pending_edit.is_some() {
            if accepted {
                return Ok(self.edit_accepted(cause));
            }
            let mut change = Change::new(self.drop_pending_edit());
            self.status = OrderStatus::ReadyToShip;
            let reason = reason.unwrap_or_else(|| "the warehouse could not stop the order".into());
            change.step(
                self,
                "CancellationRejected",
                cause,
                Some(format!("the edit is not made: {reason}")),
                vec![EventData::CancellationRejected { reason }],
            );
            return Ok(change.finish(self));
        }
        let why = self
            .cancel_reason
            .clone()
            .unwrap_or_else(|| "cancelled".into());
        if accepted {
            let code = self.cancel_code.unwrap_or(CancelCode::CustomerRequest);
            return Ok(self.close_cancelled(code, why, cause));
        }
        let mut change = Change::new(None);
        self.status = OrderStatus::ReadyToShip;
        let reason = reason.unwrap_or_else(|| "the warehouse could not stop the order".into());
        change.step(
            self,
            "CancellationRejected",
            cause,
            Some(reason.clone()),
            vec![EventData::CancellationRejected { reason }],
        );
        Ok(change.finish(self))
    }

    /// Cancels now: stock given back, every payment kept refunded.
    fn close_cancelled(&mut self, code: CancelCode, why: String, cause: &Cause) -> Outcome {
        let mut change = Change::new(self.release_stock());
        if let Some(m) = self.release_claims() {
            change.add_stock(m);
        }
        self.status = OrderStatus::Cancelled;
        self.cancel_reason = Some(why.clone());
        self.cancel_code = Some(code);
        self.hold = None;
        let mut events = vec![EventData::OrderCancelled {
            reason: why.clone(),
        }];
        events.push(self.notification(Notice::OrderCancelled { reason: code }));
        let refund_id = format!("cancel-{}", self.history.len());
        events.extend(self.refund_rest(&refund_id, RefundReason::OrderCancelled, &why));
        change.step(self, "OrderCancelled", cause, Some(why), events);
        change.finish(self)
    }

    /// Holds the order back from release (it keeps its stock). A held
    /// order that was routed shows `ON_HOLD`; one not yet routed goes on
    /// to `ON_HOLD` when it is.
    pub(crate) fn put_on_hold(
        &mut self,
        change: &mut Change,
        code: HoldCode,
        detail: String,
        cause: &Cause,
    ) {
        self.hold = Some(Hold {
            code,
            detail: detail.clone(),
            since: cause.at,
        });
        if self.status == OrderStatus::Routed {
            self.status = OrderStatus::OnHold;
        }
        change.step(
            self,
            "OrderOnHold",
            cause,
            Some(detail.clone()),
            vec![EventData::OrderOnHold {
                reason: detail,
                code: Some(code),
            }],
        );
    }

    /// Lifts a hold of this kind, if the order has one, and releases the
    /// order if it is paid.
    pub(crate) fn lift_hold(&mut self, change: &mut Change, code: HoldCode, cause: &Cause) {
        if self.hold.as_ref().is_none_or(|h| h.code != code) {
            return;
        }
        self.hold = None;
        if self.status == OrderStatus::OnHold {
            self.status = OrderStatus::Routed;
        }
        change.step(
            self,
            "HoldReleased",
            cause,
            None,
            vec![EventData::HoldReleased { code }],
        );
    }

    /// An operator lifts the order's hold, whatever it is: the order goes on
    /// (and is released to its locations if it is paid).
    pub fn release_hold(&mut self, cause: &Cause) -> Result<Outcome, TransitionError> {
        let Some(code) = self.hold.as_ref().map(|h| h.code) else {
            return Err(TransitionError {
                from: self.status,
                action: "release the hold of",
            });
        };
        let mut change = Change::new(None);
        self.lift_hold(&mut change, code, cause);
        self.release_if_paid(&mut change, cause);
        Ok(change.finish(self))
    }

    /// The stock move that gives back what the order holds, if anything.
    fn release_stock(&mut self) -> Option<StockMove> {
        let mut taken = Vec::new();
        if let Some(StockMove::Release(pending)) = self.drop_pending_edit() {
            taken = pending;
        }
        if self.holds_stock {
            self.holds_stock = false;
            taken.extend(self.allocations.iter().cloned());
        }
        (!taken.is_empty()).then_some(StockMove::Release(taken))
    }

    /// `ROUTED → READY_TO_SHIP` when the order is paid (or paid on
    /// delivery) and not held.
    fn release_if_paid(&mut self, change: &mut Change, cause: &Cause) {
        let paid = self.is_secured() || !self.payment_method.prepaid();
        if self.status == OrderStatus::Routed && self.hold.is_none() && paid {
            self.status = OrderStatus::ReadyToShip;
            change.step(
                self,
                "OrderReleased",
                cause,
                None,
                vec![EventData::OrderReleased {
                    allocations: self.allocations.clone(),
                    pick_lists: self.pick_lists(),
                }],
            );
        }
    }

    /// Records a fact that could not apply: who sent it, when, and why not
    /// (clipped). After [`MAX_REFUSALS`] refusals nothing more is recorded:
    /// `false`.
    pub fn refuse(&mut self, event: &str, why: &str, cause: &Cause) -> bool {
        if self.history.iter().filter(|h| h.refused).count() >= MAX_REFUSALS {
            return false;
        }
        self.history.push(HistoryEntry {
            at: cause.at,
            from: Some(self.status),
            to: self.status,
            event: crate::ids::clip(event, 64),
            actor: crate::ids::clip(&cause.actor, 128),
            cause: crate::ids::clip(&cause.trigger, 128),
            detail: Some(crate::ids::clip(why, MAX_REFUSAL_DETAIL)),
            refused: true,
        });
        self.outbox.clear();
        true
    }

    /// Whether a trigger (an event id) was already applied or refused.
    pub fn has_seen(&self, trigger: &str) -> bool {
        self.history.iter().any(|h| h.cause == trigger)
    }

    /// Units per sku, in sku order. Intake refuses a sku on two lines;
    /// should an order still have one twice, its lines are merged.
    pub fn demand(&self) -> Demand {
        crate::inventory::merged(self.lines.iter().map(|l| LineQty {
            sku: l.sku.clone(),
            quantity: l.quantity,
        }))
    }

    /// The events of the latest change (same ids when published again).
    pub fn current_events(&self) -> Vec<DomainEvent> {
        self.outbox.clone()
    }

    fn placed_data(&self) -> EventData {
        EventData::OrderPlaced {
            channel: self.channel.clone(),
            external_id: self.external_id.clone(),
            customer_id: self.customer.id.clone(),
            total: self.total,
            lines: self.demand(),
            ship_to: ShipToSummary {
                country: self.ship_to.country.clone(),
                postal_code: self.ship_to.postal_code.clone(),
                point: self.ship_to.point,
            },
            payment_due_at: self.payment_due_at,
            pricing: crate::pricing::PriceSummary::of(&self.lines, &self.shipping),
        }
    }

    /// A message for the customer, rendered by the notifications function.
    fn notification(&self, notice: Notice) -> EventData {
        EventData::CustomerNotificationRequested {
            customer_id: self.customer.id.clone(),
            email: self.customer.email.clone(),
            notice,
        }
    }

    /// No money in the order's currency.
    pub fn no_money(&self) -> Money {
        Money::zero(self.currency)
    }

    fn require(
        &self,
        allowed: &[OrderStatus],
        action: &'static str,
    ) -> Result<(), TransitionError> {
        if allowed.contains(&self.status) {
            Ok(())
        } else {
            Err(TransitionError {
                from: self.status,
                action,
            })
        }
    }
}

/// `LowStock` for each location whose available units of a sku these
/// allocations take from above its reorder point to at or below it (as
/// the reserving order saw the stock).
fn low_stock(allocations: &[Allocation], stock: &Availability) -> Vec<EventData> {
    let mut taken: std::collections::BTreeMap<(&Sku, &crate::ids::LocationId), u64> =
        std::collections::BTreeMap::new();
    for a in allocations {
        *taken.entry((&a.sku, &a.location_id)).or_default() += u64::from(a.quantity.get());
    }
    taken
        .into_iter()
        .filter_map(|((sku, loc), q)| {
            let point = stock.incoming(sku, loc)?.reorder_point?;
            let before = stock
                .candidates()
                .iter()
                .find(|c| &c.location_id == loc)?
                .free
                .get(sku)
                .copied()
                .unwrap_or(0);
            let after = before.saturating_sub(q);
            (before > point && after <= point).then(|| EventData::LowStock {
                sku: sku.clone(),
                location_id: loc.clone(),
                available: after,
                reorder_point: point,
            })
        })
        .collect()
}

/// Why a cancellation cannot be done as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("a cancellation was already asked for or done")]
    AlreadyAsked,
    #[error("units have shipped: request a return instead")]
    Shipped,
    #[error("the order is {0} and cannot be cancelled")]
    Closed(OrderStatus),
}

/// Builds one change: history entries, events (with ids derived from the
/// order and the history position) and stock moves.
pub(crate) struct Change {
    events: Vec<DomainEvent>,
    stock: Vec<StockMove>,
    first_status: Option<OrderStatus>,
    started: bool,
}

impl Change {
    pub(crate) fn new(stock: Option<StockMove>) -> Self {
        Self {
            events: Vec::new(),
            stock: stock.into_iter().collect(),
            first_status: None,
            started: false,
        }
    }

    /// An event due later (a timer), committed with the change.
    pub(crate) fn timer(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    pub(crate) fn add_stock(&mut self, m: StockMove) {
        self.stock.push(m);
    }

    /// Records a step whose new status is already set on `order`. `from` is
    /// the status before the change's first step.
    pub(crate) fn step(
        &mut self,
        order: &mut Order,
        event: &str,
        cause: &Cause,
        detail: Option<String>,
        data: Vec<EventData>,
    ) {
        let from = if self.started {
            order.history.last().map(|h| h.to)
        } else {
            self.started = true;
            self.first_status = order.history.last().map(|h| h.to);
            self.first_status
        };
        order.updated_at = cause.at.max(order.updated_at);
        order.history.push(HistoryEntry {
            at: cause.at,
            from,
            to: order.status,
            event: event.to_owned(),
            actor: cause.actor.clone(),
            cause: cause.trigger.clone(),
            detail,
            refused: false,
        });
        let seq = order.history.len() - 1;
        for (n, d) in data.into_iter().enumerate() {
            self.events.push(DomainEvent {
                event_id: format!("{}.{}.{}", order.order_id, seq, n),
                order_id: order.order_id.clone(),
                occurred_at: order.updated_at,
                data: d,
            });
        }
    }

    pub(crate) fn finish(self, order: &mut Order) -> Outcome {
        order.outbox = self.events.clone();
        Outcome {
            events: self.events,
            stock: self.stock,
        }
    }
}
