//! Shipments reported by warehouses (WMS) and carriers.
//!
//! Rules for facts that arrive late, early or twice:
//! - the same status again changes nothing;
//! - an older status after a newer one (PICKED after SHIPPED) is recorded as
//!   stale and ignored;
//! - DELIVERED before SHIPPED counts as shipped, then delivered;
//! - a shipment while a cancellation is pending means the warehouse did not
//!   stop it: the order ships and the history says so;
//! - nothing ships for an order not yet released, or cancelled;
//! - a shipment's lines are counted per sku (a sku listed twice counts
//!   twice) against what the order has allocated there and not yet put in
//!   another shipment;
//! - an exception is cleared by any later status.

use super::{Cause, Change, Order, OrderStatus, Outcome, Refusal};
use crate::events::EventData;
use crate::ids::{LocationId, PartnerRef, Quantity, Sku, Text};
use crate::inventory::{LineQty, StockMove};
use crate::notice::Notice;
use crate::partner::{ShipmentStatus, ShipmentStatusChanged};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub shipment_id: PartnerRef,
    pub location_id: LocationId,
    pub status: ShipmentStatus,
    pub lines: Vec<LineQty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<Text<64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<PartnerRef>,
    /// A carrier or warehouse exception was reported and no later status
    /// has cleared it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exception: bool,
}

impl Shipment {
    /// The units left the location (their stock was consumed).
    pub fn has_shipped(&self) -> bool {
        matches!(
            self.status,
            ShipmentStatus::Shipped | ShipmentStatus::Delivered | ShipmentStatus::Refused
        )
    }

    /// At the end of its way: delivered, or refused at the door.
    pub fn has_arrived(&self) -> bool {
        matches!(
            self.status,
            ShipmentStatus::Delivered | ShipmentStatus::Refused
        )
    }
}

fn rank(s: ShipmentStatus) -> u8 {
    match s {
        ShipmentStatus::Picked => 1,
        ShipmentStatus::Packed => 2,
        ShipmentStatus::Shipped => 3,
        ShipmentStatus::Delivered | ShipmentStatus::Refused => 4,
        ShipmentStatus::Exception => 0,
    }
}

/// What a location picks and packs for an order: the units allocated there
/// and not yet shipped, and where they go (the packing slip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PickList {
    pub order_id: crate::ids::OrderId,
    pub location_id: LocationId,
    pub lines: Vec<LineQty>,
    pub ship_to: super::Address,
    pub customer_id: crate::ids::CustomerId,
    /// When it was released to the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_at: Option<crate::time::Timestamp>,
}

impl Order {
    /// The pick list of a location: what is allocated there and not yet
    /// shipped; `None` when nothing is left to pick there.
    pub fn pick_list(&self, location: &LocationId) -> Option<PickList> {
        let none = PartnerRef::parse("-").ok()?;
        let lines: Vec<LineQty> = self
            .unassigned_at(location, &none)
            .into_iter()
            .filter_map(|(sku, q)| {
                Some(LineQty {
                    sku,
                    quantity: crate::ids::Quantity::of(u64::from(q))?,
                })
            })
            .collect();
        if lines.is_empty() {
            return None;
        }
        let released_at = self
            .history
            .iter()
            .rev()
            .find(|h| h.event == "OrderReleased")
            .map(|h| h.at);
        Some(PickList {
            order_id: self.order_id.clone(),
            location_id: location.clone(),
            lines,
            ship_to: self.ship_to.clone(),
            customer_id: self.customer.id.clone(),
            released_at,
        })
    }

    /// Every location's pick list.
    pub fn pick_lists(&self) -> Vec<PickList> {
        let mut locations: Vec<&LocationId> =
            self.allocations.iter().map(|a| &a.location_id).collect();
        locations.sort();
        locations.dedup();
        locations
            .into_iter()
            .filter_map(|l| self.pick_list(l))
            .collect()
    }

    /// Units of each sku allocated to a location and not yet in a shipment.
    fn unassigned_at(&self, location: &LocationId, except: &PartnerRef) -> BTreeMap<Sku, u32> {
        let mut left: BTreeMap<Sku, u32> = BTreeMap::new();
        for a in self
            .allocations
            .iter()
            .filter(|a| &a.location_id == location)
        {
            *left.entry(a.sku.clone()).or_default() += a.quantity.get();
        }
        for s in self
            .shipments
            .iter()
            .filter(|s| &s.location_id == location && &s.shipment_id != except)
        {
            for l in &s.lines {
                if let Some(q) = left.get_mut(&l.sku) {
                    *q = q.saturating_sub(l.quantity.get());
                }
            }
        }
        left.retain(|_, q| *q > 0);
        left
    }

    /// Units shipped per sku, over every shipment.
    pub fn shipped_units(&self) -> BTreeMap<Sku, u32> {
        let mut out = BTreeMap::new();
        for s in self.shipments.iter().filter(|s| s.has_shipped()) {
            for l in &s.lines {
                *out.entry(l.sku.clone()).or_default() += l.quantity.get();
            }
        }
        out
    }

    /// Units delivered per sku.
    pub fn delivered_units(&self) -> BTreeMap<Sku, u32> {
        let mut out = BTreeMap::new();
        for s in self
            .shipments
            .iter()
            .filter(|s| s.status == ShipmentStatus::Delivered)
        {
            for l in &s.lines {
                *out.entry(l.sku.clone()).or_default() += l.quantity.get();
            }
        }
        out
    }

    fn all_shipped(&self) -> bool {
        let shipped = self.shipped_units();
        self.demand()
            .iter()
            .all(|l| shipped.get(&l.sku).copied().unwrap_or(0) >= l.quantity.get())
    }

    /// Applies a warehouse or carrier status update.
    pub fn update_shipment(
        &mut self,
        u: &ShipmentStatusChanged,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        use OrderStatus::*;
        if !matches!(
            self.status,
            ReadyToShip | CancelRequested | PartiallyShipped | Shipped | Delivered
        ) {
            return Err(Refusal::Refused(format!(
                "no shipment can apply to an order that is {}",
                self.status
            )));
        }
        let existing = self
            .shipments
            .iter()
            .position(|s| s.shipment_id == u.shipment_id);
        if let Some(i) = existing {
            let s = &self.shipments[i];
            if s.location_id != u.location_id {
                return Err(Refusal::Refused(format!(
                    "shipment {} ships from {}, not {}",
                    s.shipment_id, s.location_id, u.location_id
                )));
            }
            if u.status == ShipmentStatus::Exception && s.exception {
                return Err(Refusal::Duplicate);
            }
            if u.status == s.status {
                return Err(Refusal::Duplicate);
            }
            if u.status != ShipmentStatus::Exception && rank(u.status) == rank(s.status) {
                return Err(Refusal::Refused(format!(
                    "{:?} after {:?}: ignored",
                    u.status, s.status
                )));
            }
            if u.status != ShipmentStatus::Exception && rank(u.status) < rank(s.status) {
                return Err(Refusal::Refused(format!(
                    "stale {:?} after {:?}: ignored",
                    u.status, s.status
                )));
            }
        }
        let lines = match (&u.lines, existing) {
            (Some(lines), _) => {
                let mut free = self.unassigned_at(&u.location_id, &u.shipment_id);
                for l in lines {
                    let left = free.get_mut(&l.sku).filter(|q| **q >= l.quantity.get());
                    match left {
                        Some(q) => *q -= l.quantity.get(),
                        None => {
                            return Err(Refusal::Refused(format!(
                                "{} × {} is not allocated to {} (or already in another shipment)",
                                l.quantity, l.sku, u.location_id
                            )));
                        }
                    }
                }
                crate::inventory::merged(lines.iter().cloned())
            }
            (None, Some(i)) => self.shipments[i].lines.clone(),
            (None, None) => self
                .unassigned_at(&u.location_id, &u.shipment_id)
                .into_iter()
                .filter_map(|(sku, q)| {
                    Quantity::of(u64::from(q)).map(|quantity| LineQty { sku, quantity })
                })
                .collect(),
        };
        if lines.is_empty() {
            return Err(Refusal::Refused(format!(
                "nothing of this order is left to ship from {}",
                u.location_id
            )));
        }

        let index = match existing {
            Some(i) => i,
            None => {
                self.shipments.push(Shipment {
                    shipment_id: u.shipment_id.clone(),
                    location_id: u.location_id.clone(),
                    status: ShipmentStatus::Picked,
                    lines: Vec::new(),
                    carrier: None,
                    tracking_number: None,
                    exception: false,
                });
                self.shipments.len() - 1
            }
        };
        let was_shipped = self.shipments[index].has_shipped();
        let was_pending_cancel = self.status == CancelRequested;
        {
            let s = &mut self.shipments[index];
            s.lines = lines.clone();
            if u.carrier.is_some() {
                s.carrier = u.carrier.clone();
            }
            if u.tracking_number.is_some() {
                s.tracking_number = u.tracking_number.clone();
            }
            if u.status == ShipmentStatus::Exception {
                s.exception = true;
            } else {
                s.status = u.status;
                s.exception = false;
            }
        }
        let shipment = self.shipments[index].clone();
        // Shipped while an edit waited: the edit is not made.
        let dropped = if shipment.has_shipped() {
            self.drop_pending_edit()
        } else {
            None
        };
        let mut change = Change::new(dropped);

        if u.status == ShipmentStatus::Exception {
            change.step(
                self,
                "ShipmentException",
                cause,
                Some(format!("shipment {} reported an exception", u.shipment_id)),
                vec![],
            );
            return Ok(change.finish(self));
        }
        if !shipment.has_shipped() {
            change.step(
                self,
                "ShipmentUpdated",
                cause,
                Some(format!("shipment {} {:?}", u.shipment_id, u.status)),
                vec![],
            );
            return Ok(change.finish(self));
        }
        if !was_shipped {
            // The units this shipment takes: the allocations at its
            // location after what earlier shipments from there took.
            let mut before: BTreeMap<Sku, u64> = BTreeMap::new();
            for (i, other) in self.shipments.iter().enumerate() {
                if i != index && other.has_shipped() && other.location_id == shipment.location_id {
                    for l in &other.lines {
                        *before.entry(l.sku.clone()).or_default() += u64::from(l.quantity.get());
                    }
                }
            }
            change.add_stock(StockMove::Ship(crate::inventory::consume(
                &self.allocations,
                &shipment.location_id,
                &shipment.lines,
                &before,
            )));
            let complete = self.all_shipped();
            self.status = if complete { Shipped } else { PartiallyShipped };
            if complete {
                // The whole order left: no reservation is held any more.
                self.holds_stock = false;
            }
            let detail = if was_pending_cancel {
                Some(
                    "shipped while a cancellation was pending: the warehouse did not stop it"
                        .to_owned(),
                )
            } else {
                None
            };
            let notice = self.notification(Notice::OrderShipped {
                shipment_id: shipment.shipment_id.clone(),
                carrier: shipment.carrier.clone(),
                tracking_number: shipment.tracking_number.clone(),
                lines: shipment.lines.clone(),
            });
            let mut events = vec![
                EventData::OrderShipped {
                    shipment_id: shipment.shipment_id.clone(),
                    location_id: shipment.location_id.clone(),
                    lines: shipment.lines.clone(),
                    carrier: shipment.carrier.clone(),
                    tracking_number: shipment.tracking_number.clone(),
                    complete,
                },
                notice,
            ];
            // An authorised payment is captured shipment by shipment.
            let value = self.shipment_value(index);
            events.extend(self.request_captures(shipment.shipment_id.as_str(), value, complete));
            change.step(self, "OrderShipped", cause, detail, events);
        }
        if shipment.has_arrived() {
            let complete = self.status == Shipped
                && self
                    .shipments
                    .iter()
                    .filter(|s| s.has_shipped())
                    .all(Shipment::has_arrived);
            let refused = shipment.status == ShipmentStatus::Refused;
            let mut events = vec![if refused {
                EventData::DeliveryRefused {
                    shipment_id: shipment.shipment_id.clone(),
                    lines: shipment.lines.clone(),
                }
            } else {
                EventData::OrderDelivered {
                    shipment_id: shipment.shipment_id.clone(),
                    complete,
                }
            }];
            if complete {
                self.status = Delivered;
                if self
                    .shipments
                    .iter()
                    .any(|s| s.status == ShipmentStatus::Delivered)
                {
                    events.push(self.notification(Notice::OrderDelivered {}));
                }
            }
            let step = if refused {
                "DeliveryRefused"
            } else {
                "OrderDelivered"
            };
            change.step(self, step, cause, None, events);
        }
        Ok(change.finish(self))
    }
}
