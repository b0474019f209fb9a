//! Buy online, pick up in store: a `PICKUP` order is reserved and routed
//! at its store only, released to it once paid, and then the store tells
//! the OMS (`partner.store`):
//! - `ReadyForPickup {orderId, locationId}`: set aside at the counter —
//!   `READY_FOR_PICKUP`, the customer told where to collect it;
//! - `PickedUp {orderId, locationId}`: collected — `PICKED_UP` (final, like
//!   `DELIVERED`): its units leave the store's stock as a shipment
//!   `pickup-{locationId}` delivered there, which is invoiced, captured and
//!   returnable like any other.
//!
//! An order ready and not collected within `OMS_PICKUP_HOLD_SECS` is
//! cancelled by the sweep: its units go back on the shelf, what was paid is
//! refunded.

use super::{Cause, Change, FulfillmentMethod, Order, OrderStatus, Outcome, Refusal, Shipment};
use crate::events::EventData;
use crate::ids::{LocationId, PartnerRef};
use crate::inventory::{LineQty, StockMove};
use crate::notice::{CancelCode, Notice};
use crate::partner::ShipmentStatus;

impl Order {
    fn pickup_store(&self, location: &LocationId) -> Result<(), Refusal> {
        match (self.fulfillment.method, self.fulfillment.pickup_at()) {
            (FulfillmentMethod::Pickup, Some(store)) if store == location => Ok(()),
            (FulfillmentMethod::Pickup, _) => Err(Refusal::Refused(format!(
                "the order is collected at {}, not {location}",
                self.fulfillment
                    .location_id
                    .as_ref()
                    .map_or("-".to_owned(), ToString::to_string)
            ))),
            (FulfillmentMethod::Ship, _) => Err(Refusal::Refused(
                "the order is shipped, not collected".into(),
            )),
        }
    }

    /// The store set the order aside: `READY_TO_SHIP → READY_FOR_PICKUP`.
    pub fn ready_for_pickup(
        &mut self,
        location: &LocationId,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        self.pickup_store(location)?;
        match self.status {
            OrderStatus::ReadyToShip => {}
            OrderStatus::ReadyForPickup | OrderStatus::PickedUp => {
                return Err(Refusal::Duplicate);
            }
            s => {
                return Err(Refusal::Refused(format!(
                    "the order is {s}: only a released order is set aside"
                )));
            }
        }
        self.status = OrderStatus::ReadyForPickup;
        self.ready_for_pickup_at = Some(cause.at);
        let notice = self.notification(Notice::ReadyForPickup {
            location_id: location.clone(),
        });
        let mut change = Change::new(None);
        change.step(
            self,
            "OrderReadyForPickup",
            cause,
            Some(format!("at {location}")),
            vec![
                EventData::OrderReadyForPickup {
                    location_id: location.clone(),
                },
                notice,
            ],
        );
        Ok(change.finish(self))
    }

    /// The customer collected it: `READY_FOR_PICKUP` (or `READY_TO_SHIP`,
    /// the store skipping the first message) `→ PICKED_UP`.
    pub fn picked_up(&mut self, location: &LocationId, cause: &Cause) -> Result<Outcome, Refusal> {
        self.pickup_store(location)?;
        match self.status {
            OrderStatus::ReadyForPickup | OrderStatus::ReadyToShip => {}
            OrderStatus::PickedUp | OrderStatus::Returned => return Err(Refusal::Duplicate),
            s => {
                return Err(Refusal::Refused(format!(
                    "the order is {s}: nothing is waiting at {location}"
                )));
            }
        }
        let lines: Vec<LineQty> = crate::inventory::merged(
            self.allocations
                .iter()
                .filter(|a| &a.location_id == location)
                .map(|a| LineQty {
                    sku: a.sku.clone(),
                    quantity: a.quantity,
                }),
        );
        let Ok(shipment_id) = PartnerRef::parse(&format!("pickup-{location}")) else {
            return Err(Refusal::Refused("an unusable location id".into()));
        };
        self.shipments.push(Shipment {
            shipment_id: shipment_id.clone(),
            location_id: location.clone(),
            status: ShipmentStatus::Delivered,
            lines: lines.clone(),
            carrier: None,
            tracking_number: None,
            exception: false,
        });
        let taken: Vec<_> = self
            .allocations
            .iter()
            .filter(|a| &a.location_id == location)
            .cloned()
            .collect();
        let mut change = Change::new(Some(StockMove::Ship(taken)));
        self.holds_stock = false;
        self.status = OrderStatus::PickedUp;
        let index = self.shipments.len() - 1;
        let value = self.shipment_value(index);
        let mut events = vec![EventData::OrderPickedUp {
            location_id: location.clone(),
            lines,
        }];
        events.extend(self.request_captures(shipment_id.as_str(), value, true));
        change.step(
            self,
            "OrderPickedUp",
            cause,
            Some(format!("at {location}")),
            events,
        );
        Ok(change.finish(self))
    }

    /// Ready for pickup longer than `hold_ms` at the cause's time: cancelled,
    /// its units back on the shelf and what was paid refunded.
    pub fn pickup_not_collected(
        &mut self,
        hold_ms: u64,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        let due = self.ready_for_pickup_at.map(|at| at.plus_millis(hold_ms));
        match (self.status, due) {
            (OrderStatus::ReadyForPickup, Some(due)) if cause.at >= due => Ok(self
                .close_cancelled(
                    CancelCode::NotCollected,
                    "NOT_COLLECTED: not collected from the store in time".into(),
                    cause,
                )),
            _ => Err(Refusal::Duplicate),
        }
    }

    /// When a pickup waiting at its store is due back on the shelf.
    pub fn pickup_due(&self, hold_ms: u64) -> Option<crate::time::Timestamp> {
        (self.status == OrderStatus::ReadyForPickup)
            .then_some(self.ready_for_pickup_at?)
            .map(|at| at.plus_millis(hold_ms))
    }
}
