//! The Order aggregate and its state machine.
//!
//! Every transition is a method that checks the current status, changes the
//! order, appends a history entry (who, what, when, why) and returns the
//! domain events the change produced. Illegal transitions are typed errors.

use crate::events::{DomainEvent, EventData, LineQty, ShipToSummary};
use crate::geo::GeoPoint;
use crate::ids::{Channel, CustomerId, ExternalId, LocationId, OrderId, Quantity, Sku};
use crate::money::Currency;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Placed,
    Reserved,
    Routed,
    Rejected,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "PLACED",
            Self::Reserved => "RESERVED",
            Self::Routed => "ROUTED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
        }
    }
    /// No transition leaves a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Rejected | Self::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectReason {
    InsufficientStock,
    Unroutable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    pub city: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub lat: f64,
    pub lon: f64,
}

impl Address {
    pub fn point(&self) -> GeoPoint {
        GeoPoint {
            lat: self.lat,
            lon: self.lon,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub line_no: u16,
    pub sku: Sku,
    pub quantity: Quantity,
    pub unit_price: i64,
    pub line_total: i64,
}

/// Units of one sku taken from one location.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub sku: Sku,
    pub location_id: LocationId,
    pub quantity: Quantity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub reason: RejectReason,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<Sku>,
}

/// One transition: the audit trail and the raw data for KPIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    /// The event type this transition emitted.
    pub event: String,
    /// The function (or partner) that made the change.
    pub actor: String,
    /// What triggered it: a request id or the id of the event consumed.
    pub cause: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Who and what caused a transition, carried into the history.
#[derive(Debug, Clone)]
pub struct Cause {
    pub actor: String,
    pub trigger: String,
    pub at: Timestamp,
}

/// An order that passed validation and is ready to be placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub channel: Channel,
    pub external_id: Option<ExternalId>,
    pub customer: Customer,
    pub currency: Currency,
    pub ship_to: Address,
    pub lines: Vec<OrderLine>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
    pub total: i64,
    #[serde(default)]
    pub allocations: Vec<Allocation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} an order that is {from}")]
pub struct TransitionError {
    pub from: OrderStatus,
    pub action: &'static str,
}

impl Order {
    /// Places a new order: the first transition, `→ PLACED`.
    pub fn place(id: OrderId, new: NewOrder, cause: &Cause) -> (Order, Vec<DomainEvent>) {
        let mut order = Order {
            order_id: id,
            status: OrderStatus::Placed,
            version: 0,
            channel: new.channel,
            external_id: new.external_id,
            customer: new.customer,
            currency: new.currency,
            ship_to: new.ship_to,
            lines: new.lines,
            total: new.total,
            allocations: Vec::new(),
            routing_reason: None,
            rejection: None,
            created_at: cause.at,
            updated_at: cause.at,
            history: Vec::new(),
        };
        order.record(None, OrderStatus::Placed, cause, None);
        let events = order.current_events();
        (order, events)
    }

    /// `PLACED → RESERVED`: every line was taken from the network stock.
    pub fn mark_reserved(&mut self, cause: &Cause) -> Result<Vec<DomainEvent>, TransitionError> {
        self.expect(OrderStatus::Placed, "reserve")?;
        self.transition(OrderStatus::Reserved, cause, None);
        Ok(self.current_events())
    }

    /// `PLACED → REJECTED` (stock short) or `RESERVED → REJECTED` (unroutable).
    pub fn reject(
        &mut self,
        rejection: Rejection,
        cause: &Cause,
    ) -> Result<Vec<DomainEvent>, TransitionError> {
        if !matches!(self.status, OrderStatus::Placed | OrderStatus::Reserved) {
            return Err(TransitionError {
                from: self.status,
                action: "reject",
            });
        }
        let detail = rejection.detail.clone();
        self.rejection = Some(rejection);
        self.transition(OrderStatus::Rejected, cause, Some(detail));
        Ok(self.current_events())
    }

    /// `RESERVED → ROUTED`: the quantities now sit on these locations.
    pub fn mark_routed(
        &mut self,
        allocations: Vec<Allocation>,
        reason: String,
        cause: &Cause,
    ) -> Result<Vec<DomainEvent>, TransitionError> {
        self.expect(OrderStatus::Reserved, "route")?;
        self.allocations = allocations;
        self.routing_reason = Some(reason.clone());
        self.transition(OrderStatus::Routed, cause, Some(reason));
        Ok(self.current_events())
    }

    /// `PLACED | RESERVED | ROUTED → CANCELLED`. The caller releases stock in
    /// the same atomic write (see [`Order::held_stock`]).
    pub fn cancel(
        &mut self,
        why: String,
        cause: &Cause,
    ) -> Result<Vec<DomainEvent>, TransitionError> {
        if self.status.is_terminal() {
            return Err(TransitionError {
                from: self.status,
                action: "cancel",
            });
        }
        self.transition(OrderStatus::Cancelled, cause, Some(why));
        Ok(self.current_events())
    }

    /// Units per sku, merged across lines, in sku order.
    pub fn demand(&self) -> Vec<(Sku, u32)> {
        let mut by_sku: BTreeMap<&Sku, u32> = BTreeMap::new();
        for line in &self.lines {
            *by_sku.entry(&line.sku).or_default() += line.quantity.get();
        }
        by_sku.into_iter().map(|(s, q)| (s.clone(), q)).collect()
    }

    /// The events of the latest transition. Event ids are derived from the
    /// order id and the transition's position in the history, so a replay
    /// (after a failed publish, say) carries the same ids as the original.
    pub fn current_events(&self) -> Vec<DomainEvent> {
        let seq = self.history.len().saturating_sub(1);
        let at = self.updated_at;
        let make = |n: usize, data: EventData| DomainEvent {
            event_id: format!("{}.{}.{}", self.order_id, seq, n),
            order_id: self.order_id.clone(),
            occurred_at: at,
            data,
        };
        match self.status {
            OrderStatus::Placed => vec![make(0, self.placed_data())],
            OrderStatus::Reserved => vec![make(
                0,
                EventData::InventoryReserved {
                    lines: self.demand_lines(),
                },
            )],
            OrderStatus::Routed => vec![make(
                0,
                EventData::OrderRouted {
                    allocations: self.allocations.clone(),
                    reason: self.routing_reason.clone().unwrap_or_default(),
                },
            )],
            OrderStatus::Rejected => {
                let Some(rejection) = &self.rejection else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                if rejection.reason == RejectReason::InsufficientStock {
                    out.push(make(
                        0,
                        EventData::InventoryShort {
                            skus: rejection.skus.clone(),
                        },
                    ));
                }
                out.push(make(
                    1,
                    EventData::OrderRejected {
                        reason: rejection.reason,
                        detail: rejection.detail.clone(),
                    },
                ));
                out
            }
            OrderStatus::Cancelled => vec![make(
                0,
                EventData::OrderCancelled {
                    reason: self
                        .history
                        .last()
                        .and_then(|h| h.detail.clone())
                        .unwrap_or_default(),
                },
            )],
        }
    }

    fn demand_lines(&self) -> Vec<LineQty> {
        self.demand()
            .into_iter()
            .map(|(sku, quantity)| LineQty { sku, quantity })
            .collect()
    }

    fn placed_data(&self) -> EventData {
        EventData::OrderPlaced {
            channel: self.channel.clone(),
            external_id: self.external_id.clone(),
            customer_id: self.customer.id.clone(),
            currency: self.currency,
            total: self.total,
            lines: self.demand_lines(),
            ship_to: ShipToSummary {
                country: self.ship_to.country.clone(),
                postal_code: self.ship_to.postal_code.clone(),
                lat: self.ship_to.lat,
                lon: self.ship_to.lon,
            },
        }
    }

    fn expect(&self, status: OrderStatus, action: &'static str) -> Result<(), TransitionError> {
        if self.status == status {
            Ok(())
        } else {
            Err(TransitionError {
                from: self.status,
                action,
            })
        }
    }

    fn transition(&mut self, to: OrderStatus, cause: &Cause, detail: Option<String>) {
        let from = self.status;
        self.status = to;
        self.updated_at = cause.at.max(self.updated_at);
        self.record(Some(from), to, cause, detail);
    }

    fn record(
        &mut self,
        from: Option<OrderStatus>,
        to: OrderStatus,
        cause: &Cause,
        detail: Option<String>,
    ) {
        let event = match to {
            OrderStatus::Placed => "OrderPlaced",
            OrderStatus::Reserved => "InventoryReserved",
            OrderStatus::Routed => "OrderRouted",
            OrderStatus::Rejected => "OrderRejected",
            OrderStatus::Cancelled => "OrderCancelled",
        };
        self.history.push(HistoryEntry {
            at: cause.at,
            from,
            to,
            event: event.to_owned(),
            actor: cause.actor.clone(),
            cause: cause.trigger.clone(),
            detail,
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn cause(ms: u64) -> Cause {
        Cause {
            actor: "test".into(),
            trigger: "t".into(),
            at: Timestamp(ms),
        }
    }

    pub fn sample_new_order(lines: &[(&str, i64)]) -> NewOrder {
        let lines: Vec<OrderLine> = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, q))| OrderLine {
                line_no: i as u16 + 1,
                sku: Sku::parse(sku).unwrap(),
                quantity: Quantity::new(*q).unwrap(),
                unit_price: 100,
                line_total: 100 * q,
            })
            .collect();
        NewOrder {
            channel: Channel::parse("web").unwrap(),
            external_id: None,
            customer: Customer {
                id: CustomerId::parse("c-1").unwrap(),
                email: None,
            },
            currency: Currency::parse("BRL").unwrap(),
            ship_to: Address {
                country: "BR".into(),
                postal_code: None,
                city: "Rio".into(),
                line1: "Rua 1".into(),
                line2: None,
                lat: -22.9,
                lon: -43.2,
            },
            total: lines.iter().map(|l| l.line_total).sum(),
            lines,
        }
    }

    fn placed() -> Order {
        Order::place(
            OrderId::parse("ord_1").unwrap(),
            sample_new_order(&[("A", 2), ("B", 1), ("A", 1)]),
            &cause(1),
        )
        .0
    }

    #[test]
    fn happy_path_records_every_transition() {
        let mut o = placed();
        assert_eq!(o.status, OrderStatus::Placed);
        let ev = o.mark_reserved(&cause(2)).unwrap();
        assert_eq!(ev[0].data.type_name(), "InventoryReserved");
        let alloc = vec![Allocation {
            sku: Sku::parse("A").unwrap(),
            location_id: LocationId::parse("wh").unwrap(),
            quantity: Quantity::new(3).unwrap(),
        }];
        let ev = o
            .mark_routed(alloc.clone(), "nearest".into(), &cause(3))
            .unwrap();
        assert_eq!(ev[0].data.type_name(), "OrderRouted");
        assert_eq!(o.allocations, alloc);
        let tos: Vec<_> = o.history.iter().map(|h| h.to).collect();
        assert_eq!(
            tos,
            [
                OrderStatus::Placed,
                OrderStatus::Reserved,
                OrderStatus::Routed
            ]
        );
        assert_eq!(o.updated_at, Timestamp(3));
    }

    #[test]
    fn demand_merges_lines_of_the_same_sku() {
        let d = placed().demand();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].0.as_str(), d[0].1), ("A", 3));
        assert_eq!((d[1].0.as_str(), d[1].1), ("B", 1));
    }

    #[test]
    fn illegal_transitions_are_errors() {
        let mut o = placed();
        assert!(o.mark_routed(vec![], String::new(), &cause(2)).is_err());
        o.reject(
            Rejection {
                reason: RejectReason::InsufficientStock,
                detail: "short".into(),
                skus: vec![],
            },
            &cause(2),
        )
        .unwrap();
        assert_eq!(
            o.mark_reserved(&cause(3)),
            Err(TransitionError {
                from: OrderStatus::Rejected,
                action: "reserve"
            })
        );
        assert!(o.cancel("late".into(), &cause(3)).is_err());
    }

    #[test]
    fn replayed_events_keep_their_ids() {
        let mut o = placed();
        let first = o.mark_reserved(&cause(2)).unwrap();
        assert_eq!(o.current_events(), first);
    }

    #[derive(Debug, Clone)]
    enum Step {
        Reserve,
        Route,
        Reject,
        Cancel,
    }

    proptest! {
        /// Whatever sequence of commands arrives, the status only moves along
        /// the allowed edges, refused commands change nothing, and the history
        /// has exactly one entry per accepted transition.
        #[test]
        fn state_machine_only_moves_along_allowed_edges(
            steps in proptest::collection::vec(
                prop_oneof![Just(Step::Reserve), Just(Step::Route), Just(Step::Reject), Just(Step::Cancel)],
                0..12,
            )
        ) {
            use OrderStatus::*;
            let mut o = placed();
            for (i, step) in steps.iter().enumerate() {
                let before = o.clone();
                let c = cause(10 + i as u64);
                let result = match step {
                    Step::Reserve => o.mark_reserved(&c),
                    Step::Route => o.mark_routed(vec![], "r".into(), &c),
                    Step::Reject => o.reject(Rejection { reason: RejectReason::Unroutable, detail: "x".into(), skus: vec![] }, &c),
                    Step::Cancel => o.cancel("asked".into(), &c),
                };
                match result {
                    Ok(events) => {
                        prop_assert!(!events.is_empty());
                        let allowed = matches!(
                            (before.status, o.status),
                            (Placed, Reserved) | (Reserved, Routed) | (Placed | Reserved, Rejected)
                                | (Placed | Reserved | Routed, Cancelled)
                        );
                        prop_assert!(allowed, "{} -> {}", before.status, o.status);
                        prop_assert_eq!(o.history.len(), before.history.len() + 1);
                    }
                    Err(_) => prop_assert_eq!(&o, &before),
                }
            }
        }
    }
}
