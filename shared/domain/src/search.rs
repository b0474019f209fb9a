//! Finding orders: the filters of `GET /orders`, valid by construction and
//! narrowed to what the caller may see; the summary each match shows; the
//! opaque cursor that continues a listing; and the service levels that say
//! whether an order is at risk of missing its promise.
//!
//! Orders are listed newest first by placement time. The position of an
//! order in a listing is its [`Position`]: placement time, then id — the
//! sort key of the search indexes.

use crate::access::{Caller, Role};
use crate::ids::{Channel, CustomerId, OrderId, Sku};
use crate::order::{Order, OrderStatus};
use crate::time::Timestamp;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};

/// Results per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;
/// Most results per page.
pub const MAX_LIMIT: usize = 200;
/// Without `from`, a listing goes back this far.
pub const DEFAULT_LOOKBACK_MS: u64 = 90 * DAY_MS;
pub const DAY_MS: u64 = 86_400_000;

/// Where an order sits in a listing: placement time, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position(String);

impl Position {
    pub fn of(order: &Order) -> Self {
        Self::at(order.created_at, &order.order_id)
    }
    pub fn at(placed: Timestamp, id: &OrderId) -> Self {
        Self(format!("{:013}#{id}", placed.millis()))
    }
    /// Before every order placed at `t` or later.
    pub fn first_at(t: Timestamp) -> Self {
        Self(format!("{:013}#", t.millis()))
    }
    /// After every order placed at `t` or earlier.
    pub fn last_at(t: Timestamp) -> Self {
        Self(format!("{:013}#~", t.millis()))
    }
    /// A position as stored in an index.
    pub fn parse(s: &str) -> Option<Self> {
        let (millis, id) = s.split_once('#')?;
        (millis.len() == 13 && millis.bytes().all(|b| b.is_ascii_digit()))
            .then_some(())
            .and(OrderId::parse(id).ok())
            .map(|_| Self(s.to_owned()))
    }
    pub fn placed_at(&self) -> Timestamp {
        Timestamp::from_millis(self.0[..13].parse().unwrap_or(0))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The cursor a page ending here hands out: opaque to callers.
    pub fn cursor(&self) -> String {
        self.0.bytes().map(|b| format!("{b:02x}")).collect()
    }
    pub fn from_cursor(cursor: &str) -> Option<Self> {
        if !cursor.len().is_multiple_of(2) || cursor.len() > 200 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..cursor.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
            .collect();
        Self::parse(&String::from_utf8(bytes?).ok()?)
    }
}

/// The query string of `GET /orders`, as sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchParams {
    pub pairs: Vec<(String, String)>,
}

/// What `GET /orders` looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderQuery {
    /// Any of these statuses (empty: any).
    pub statuses: Vec<OrderStatus>,
    pub customer_id: Option<CustomerId>,
    pub channel: Option<Channel>,
    pub sku: Option<Sku>,
    /// Orders with units allocated at this location.
    pub location: Option<crate::ids::LocationId>,
    /// Placed at or after.
    pub from: Option<Timestamp>,
    /// Placed at or before.
    pub to: Option<Timestamp>,
    /// Only orders at risk of missing a service level (`true`), or only
    /// those that are not (`false`).
    pub at_risk: Option<bool>,
    pub limit: usize,
    /// Continue after this position.
    pub after: Option<Position>,
}

impl Default for OrderQuery {
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            customer_id: None,
            channel: None,
            sku: None,
            location: None,
            from: None,
            to: None,
            at_risk: None,
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

fn status_named(s: &str) -> Option<OrderStatus> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl SearchParams {
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self {
            pairs: pairs.into_iter().collect(),
        }
    }

    /// The query, or the first parameter that is wrong.
    pub fn validate(&self) -> Result<OrderQuery, FieldError> {
        let mut q = OrderQuery::default();
        for (name, value) in &self.pairs {
            let bad = |why: String| FieldError::new(name.clone(), why);
            match name.as_str() {
                "status" => {
                    for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        q.statuses.push(
                            status_named(s).ok_or_else(|| bad(format!("unknown status {s}")))?,
                        );
                    }
                }
                "customerId" => {
                    q.customer_id = Some(CustomerId::parse(value).map_err(|e| bad(e.0))?)
                }
                "channel" => q.channel = Some(Channel::parse(value).map_err(|e| bad(e.0))?),
                "sku" => q.sku = Some(Sku::parse(value).map_err(|e| bad(e.0))?),
                "locationId" => {
                    q.location = Some(crate::ids::LocationId::parse(value).map_err(|e| bad(e.0))?)
                }
                "from" | "to" => {
                    let t = Timestamp::parse_rfc3339(value).ok_or_else(|| {
                        bad("expected an ISO-8601 time, e.g. 2026-01-31T00:00:00Z".into())
                    })?;
                    if name == "from" {
                        q.from = Some(t);
                    } else {
                        q.to = Some(t);
                    }
                }
                "atRisk" => {
                    q.at_risk = Some(match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad("expected true or false".into())),
                    })
                }
                "limit" => {
                    q.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            bad(format!("expected a whole number from 1 to {MAX_LIMIT}"))
                        })?
                }
                "cursor" => {
                    q.after = Some(
                        Position::from_cursor(value)
                            .ok_or_else(|| bad("not a cursor this API handed out".into()))?,
                    )
                }
                _ => return Err(bad("unknown parameter".into())),
            }
        }
        if let (Some(from), Some(to)) = (q.from, q.to)
            && from > to
        {
            return Err(FieldError::new("from", "from is after to"));
        }
        Ok(q)
    }
}

/// How far back a location's open pick lists are looked for.
pub const PICK_LIST_LOOKBACK_MS: u64 = 30 * DAY_MS;

impl OrderQuery {
    /// The orders whose pick lists a location still has open: released to
    /// it and not all shipped (`READY_TO_SHIP`, `PARTIALLY_SHIPPED`), with
    /// units there, placed in the last [`PICK_LIST_LOOKBACK_MS`].
    pub fn open_pick_lists(
        location: crate::ids::LocationId,
        now: Timestamp,
        after: Option<Position>,
    ) -> Self {
        Self {
            statuses: vec![OrderStatus::ReadyToShip, OrderStatus::PartiallyShipped],
            location: Some(location),
            from: Some(Timestamp::from_millis(
                now.millis().saturating_sub(PICK_LIST_LOOKBACK_MS),
            )),
            limit: MAX_LIMIT,
            after,
            ..Self::default()
        }
    }

    /// The query as the caller may run it: a customer sees only its own
    /// orders, a storefront only its channel's. Asking for someone else's
    /// finds nothing (as `GET /orders/{id}` answers 404).
    pub fn scoped_to(mut self, caller: &Caller) -> Self {
        match caller.role {
            Role::Operator => {}
            Role::Storefront => {
                if self.channel.is_some() && self.channel != caller.channel {
                    self.limit = 0;
                }
                self.channel = caller.channel.clone();
            }
            Role::Customer => {
                if self.customer_id.is_some() && self.customer_id != caller.customer_id {
                    self.limit = 0;
                }
                self.customer_id = caller.customer_id.clone();
            }
        }
        self
    }

    /// Placed at or after (the look-back when `from` is not given).
    pub fn earliest(&self, now: Timestamp) -> Timestamp {
        self.from.unwrap_or(Timestamp::from_millis(
            now.millis().saturating_sub(DEFAULT_LOOKBACK_MS),
        ))
    }

    /// Whether an order found in the window is one the query asks for.
    pub fn matches(&self, order: &Order, sla: &Sla, now: Timestamp) -> bool {
        (self.statuses.is_empty() || self.statuses.contains(&order.status))
            && self
                .customer_id
                .as_ref()
                .is_none_or(|c| *c == order.customer.id)
            && self.channel.as_ref().is_none_or(|c| *c == order.channel)
            && self
                .sku
                .as_ref()
                .is_none_or(|s| order.lines.iter().any(|l| l.sku == *s))
            && self
                .location
                .as_ref()
                .is_none_or(|l| order.allocations.iter().any(|a| a.location_id == *l))
            && self
                .at_risk
                .is_none_or(|want| sla.state(order, now).at_risk() == want)
    }
}

/// An order as a listing shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub customer_id: CustomerId,
    pub currency: String,
    /// Minor units of `currency`.
    pub total: i64,
    pub lines: usize,
    pub units: u64,
    pub ship_to_country: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why it is held, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<String>,
    /// The service level it is about to miss or missed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaState>,
    pub at_risk: bool,
}

impl OrderSummary {
    pub fn of(order: &Order, sla: &Sla, now: Timestamp) -> Self {
        let state = sla.state(order, now);
        Self {
            order_id: order.order_id.clone(),
            status: order.status,
            channel: order.channel.clone(),
            external_id: order.external_id.as_ref().map(ToString::to_string),
            customer_id: order.customer.id.clone(),
            currency: order.currency.to_string(),
            total: order.total.amount,
            lines: order.lines.len(),
            units: order
                .lines
                .iter()
                .map(|l| u64::from(l.quantity.get()))
                .sum(),
            ship_to_country: order.ship_to.country.clone(),
            created_at: order.created_at,
            updated_at: order.updated_at,
            hold: order.hold.as_ref().map(|h| h.detail.clone()),
            at_risk: state.at_risk(),
            sla: (state != SlaState::OnTrack).then_some(state),
        }
    }
}

/// One page of `GET /orders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderPage {
    pub orders: Vec<OrderSummary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of a location's open pick lists
/// (`GET /locations/{locationId}/pick-lists`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickListPage {
    pub pick_lists: Vec<crate::order::PickList>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The service level of each step, from placement (`OMS_SLA_ROUTE_SECS`,
/// `OMS_SLA_SHIP_SECS`, `OMS_SLA_DELIVER_SECS`), and the share of a step's
/// time after which an order that has not moved on is at risk
/// (`OMS_SLA_RISK_PERCENT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sla {
    pub route_secs: u64,
    pub ship_secs: u64,
    pub deliver_secs: u64,
    pub risk_percent: u64,
}

impl Default for Sla {
    fn default() -> Self {
        Self {
            route_secs: 15 * 60,
            ship_secs: 2 * 86_400,
            deliver_secs: 7 * 86_400,
            risk_percent: 75,
        }
    }
}

/// Where an order stands against its service levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "state", content = "step")]
pub enum SlaState {
    OnTrack,
    /// Past the risk share of the step's time, not yet past its deadline.
    AtRisk(SlaStep),
    /// Past the step's deadline.
    Breached(SlaStep),
}

impl SlaStep {
    pub const ALL: [SlaStep; 3] = [SlaStep::Route, SlaStep::Ship, SlaStep::Deliver];
}

impl SlaState {
    /// At risk or already breached: something an operator should look at.
    pub fn at_risk(self) -> bool {
        self != SlaState::OnTrack
    }
}

/// The latest service-level alert raised on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlaAlert {
    pub step: SlaStep,
    /// Past the deadline (else past the risk share of the step's time).
    pub breached: bool,
    /// The step's deadline.
    pub due_at: Timestamp,
    /// When it was raised.
    pub at: Timestamp,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SlaStep {
    Route,
    Ship,
    Deliver,
}

impl Sla {
    /// The step an order is waiting on, with its deadline in seconds after
    /// placement; `None` when it waits on nothing the OMS promises (ended,
    /// delivered, or waiting for the customer's payment).
    pub fn pending_step(&self, order: &Order) -> Option<(SlaStep, u64)> {
        use OrderStatus::*;
        match order.status {
            Placed | Reserved => Some((SlaStep::Route, self.route_secs)),
            Routed if !order.is_secured() && order.hold.is_none() => None,
            Routed | OnHold | ReadyToShip | CancelRequested => {
                Some((SlaStep::Ship, self.ship_secs))
            }
            PartiallyShipped | Shipped => Some((SlaStep::Deliver, self.deliver_secs)),
            // Waiting on the customer at the store, or collected.
            Delivered | Returned | Rejected | Cancelled | ReadyForPickup | PickedUp => None,
            // Waiting for supply (its expected date is on the order).
            Backordered => None,
        }
    }

    /// The deadline of a step for an order placed at `placed`.
    pub fn deadline(&self, step: SlaStep, placed: Timestamp) -> Timestamp {
        let secs = match step {
            SlaStep::Route => self.route_secs,
            SlaStep::Ship => self.ship_secs,
            SlaStep::Deliver => self.deliver_secs,
        };
        placed.plus_millis(secs.saturating_mul(1000))
    }

    /// How long after placement an order waiting on `step` is at risk
    /// (`breached`: past its deadline), in milliseconds.
    pub fn mark_ms(&self, step: SlaStep, breached: bool) -> u64 {
        let deadline = self.deadline(step, Timestamp::from_millis(0)).millis();
        if breached {
            deadline
        } else {
            deadline.saturating_mul(self.risk_percent) / 100
        }
    }

    /// The order's standing at `now`: against the step it waits on — the
    /// delivery step against the date promised to the customer, when the
    /// order carries a promise — and, for a promised order, against its
    /// promised delivery whatever step it waits on (the worse of the two).
    pub fn state(&self, order: &Order, now: Timestamp) -> SlaState {
        let promised = order
            .promise
            .as_ref()
            .filter(|_| self.awaits_delivery(order));
        let by_promise = match promised {
            Some(p) if now >= p.promised_delivery_at => SlaState::Breached(SlaStep::Deliver),
            Some(p) if now >= p.at_risk_at => SlaState::AtRisk(SlaStep::Deliver),
            _ => SlaState::OnTrack,
        };
        let Some((step, _)) = self.pending_step(order) else {
            return SlaState::OnTrack;
        };
        let by_step = if step == SlaStep::Deliver && promised.is_some() {
            // The promise is the delivery step's service level.
            SlaState::OnTrack
        } else {
            let elapsed_ms = now.millis().saturating_sub(order.created_at.millis());
            if elapsed_ms >= self.mark_ms(step, true) {
                SlaState::Breached(step)
            } else if elapsed_ms >= self.mark_ms(step, false) {
                SlaState::AtRisk(step)
            } else {
                SlaState::OnTrack
            }
        };
        let rank = |s: SlaState| match s {
            SlaState::OnTrack => 0,
            SlaState::AtRisk(_) => 1,
            SlaState::Breached(_) => 2,
        };
        if rank(by_promise) > rank(by_step) {
            by_promise
        } else {
            by_step
        }
    }

    /// The order is yet to reach its customer (and has not ended).
    fn awaits_delivery(&self, order: &Order) -> bool {
        use OrderStatus::*;
        !matches!(
            order.status,
            Delivered | Returned | Rejected | Cancelled | PickedUp
        )
    }

    /// A step's deadline for this order: the promised delivery for the
    /// delivery step of a promised order, else the step's service level
    /// from placement.
    pub fn deadline_of(&self, order: &Order, step: SlaStep) -> Timestamp {
        match (&order.promise, step) {
            (Some(p), SlaStep::Deliver) => p.promised_delivery_at,
            _ => self.deadline(step, order.created_at),
        }
    }

    /// When the sweep should look at a promised order next: at its risk
    /// mark until that alert is raised, then at its promised delivery
    /// until that one is; never once it was delivered or ended.
    pub fn next_promise_mark(order: &Order) -> Option<Timestamp> {
        use OrderStatus::*;
        let p = order.promise.as_ref()?;
        if matches!(
            order.status,
            Delivered | Returned | Rejected | Cancelled | PickedUp
        ) {
            return None;
        }
        match &order.sla_alert {
            Some(a) if a.step == SlaStep::Deliver && a.breached => None,
            Some(a) if a.step == SlaStep::Deliver => Some(p.promised_delivery_at),
            _ => Some(p.at_risk_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &[(&str, &str)]) -> Result<OrderQuery, FieldError> {
        SearchParams::new(q.iter().map(|(k, v)| (k.to_string(), v.to_string()))).validate()
    }

    #[test]
    fn parameters_are_checked_one_by_one() {
        let q = params(&[
            ("status", "ON_HOLD,PLACED"),
            ("limit", "10"),
            ("channel", "web"),
        ])
        .unwrap();
        assert_eq!(q.statuses, [OrderStatus::OnHold, OrderStatus::Placed]);
        assert_eq!(q.limit, 10);
        for (bad, field) in [
            (("status", "LOST"), "status"),
            (("limit", "0"), "limit"),
            (("limit", "201"), "limit"),
            (("from", "yesterday"), "from"),
            (("cursor", "zz"), "cursor"),
            (("atRisk", "yes"), "atRisk"),
            (("color", "red"), "color"),
        ] {
            assert_eq!(params(&[bad]).unwrap_err().field, field, "{bad:?}");
        }
        let e = params(&[
            ("from", "2026-02-01T00:00:00Z"),
            ("to", "2026-01-01T00:00:00Z"),
        ])
        .unwrap_err();
        assert_eq!(e.field, "from");
    }

    #[test]
    fn a_cursor_round_trips_and_nothing_else_passes_for_one() {
        let id = OrderId::parse("ord_abc").unwrap();
        let p = Position::at(Timestamp::from_millis(1_700_000_000_000), &id);
        assert_eq!(Position::from_cursor(&p.cursor()), Some(p.clone()));
        assert_eq!(p.placed_at().millis(), 1_700_000_000_000);
        assert!(Position::first_at(p.placed_at()) < p && p < Position::last_at(p.placed_at()));
        assert_eq!(Position::from_cursor("41"), None);
        assert_eq!(Position::parse("12#ord_abc"), None);
    }

    #[test]
    fn callers_are_narrowed_to_what_they_may_see() {
        let customer = Caller {
            role: Role::Customer,
            subject: "c-1".into(),
            channel: None,
            customer_id: Some(CustomerId::parse("c-1").unwrap()),
        };
        let q = OrderQuery::default().scoped_to(&customer);
        assert_eq!(q.customer_id, customer.customer_id);
        let other = OrderQuery {
            customer_id: Some(CustomerId::parse("c-2").unwrap()),
            ..OrderQuery::default()
        }
        .scoped_to(&customer);
        assert_eq!(other.limit, 0, "another customer's orders: none");
        let op = OrderQuery::default().scoped_to(&Caller::operator("alice"));
        assert_eq!(op, OrderQuery::default());
    }
}
