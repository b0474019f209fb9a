//! Re-sourcing: a location says it cannot fulfil what it was given. Its
//! units for the order are written off there (the stock it reported was
//! not there to ship), the rest of the order's stock is given back, the
//! location is never used for the order again, and the order goes back to
//! `PLACED` with `RerouteRequested`: reservation routes it over what is free
//! elsewhere — released again at once if it was paid — or rejects it (and
//! refunds what was paid) when nothing else can serve it.

use super::{Change, Order, OrderStatus, Outcome, Refusal};
use crate::events::EventData;
use crate::ids::LocationId;
use crate::inventory::StockMove;
use crate::order::Cause;

impl Order {
    pub fn fulfillment_rejected(
        &mut self,
        location: &LocationId,
        reason: &str,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        if !matches!(
            self.status,
            OrderStatus::Routed | OrderStatus::OnHold | OrderStatus::ReadyToShip
        ) {
            return Err(Refusal::Refused(format!(
                "the order is {}: nothing to route again",
                self.status
            )));
        }
        if !self.shipments.is_empty() {
            return Err(Refusal::Refused(
                "units have shipped already: cancel the rest instead".into(),
            ));
        }
        let (there, elsewhere): (Vec<_>, Vec<_>) = self
            .allocations
            .iter()
            .cloned()
            .partition(|a| &a.location_id == location);
        if there.is_empty() {
            return Err(Refusal::Refused(format!(
                "nothing of the order is allocated to {location}"
            )));
        }
        let mut change = Change::new(None);
        // Written off where they were not to be had; given back elsewhere.
        change.add_stock(StockMove::Ship(there));
        if !elsewhere.is_empty() {
            change.add_stock(StockMove::Release(elsewhere));
        }
        let released = std::mem::take(&mut self.allocations);
        self.holds_stock = false;
        self.routing_reason = None;
        self.excluded_locations.push(location.clone());
        self.status = OrderStatus::Placed;
        let why = format!("{location} cannot fulfil it: {reason}");
        change.step(
            self,
            "RerouteRequested",
            cause,
            Some(why.clone()),
            vec![EventData::RerouteRequested {
                released,
                reason: why,
            }],
        );
        Ok(change.finish(self))
    }
}
