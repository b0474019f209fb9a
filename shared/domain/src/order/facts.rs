//! A partner's fact, applied to the order it names: one entry point for
//! every kind, so the functions that receive them need no dispatch of their
//! own.

use super::{Cause, Order, Outcome, Refusal};
use crate::partner::PartnerFact;

impl Order {
    /// Applies a payment provider's, warehouse's or carrier's fact.
    pub fn apply_fact(&mut self, fact: &PartnerFact, cause: &Cause) -> Result<Outcome, Refusal> {
        match fact {
            PartnerFact::PaymentConfirmed(p) => self.confirm_payment(
                &p.payment_id,
                p.money(),
                p.capture_id.as_ref().map(|c| c.as_str()),
                cause,
            ),
            PartnerFact::PaymentAuthorized(p) => self.authorize_payment(
                &p.payment_id,
                crate::money::Money::new(p.amount, p.currency),
                cause,
            ),
            PartnerFact::PaymentFailed(p) => {
                self.fail_payment(&p.payment_id, p.reason.as_str(), cause)
            }
            PartnerFact::ShipmentStatusChanged(u) => {
                let shipped = self.update_shipment(u, cause)?;
                if u.status == crate::partner::ShipmentStatus::Refused {
                    return self.take_back_refused(&u.shipment_id, shipped, cause);
                }
                self.collect_on_delivery(u, shipped, cause)
            }
            PartnerFact::ReturnReceived(r) => {
                self.receive_return(r.return_id.as_str(), &r.lines, cause)
            }
            PartnerFact::FulfillmentRejected(f) => {
                self.fulfillment_rejected(&f.location_id, f.reason.as_str(), cause)
            }
            PartnerFact::ReadyForPickup(f) => self.ready_for_pickup(&f.location_id, cause),
            PartnerFact::PickedUp(f) => self.picked_up(&f.location_id, cause),
            PartnerFact::CancellationResponse(a) => self.cancellation_answered(
                a.accepted,
                a.reason.as_ref().map(ToString::to_string),
                cause,
            ),
        }
    }
}

impl Order {
    /// A shipment refused at the door comes back whole: received as return
    /// `refused-{shipmentId}` of its units, resellable — restocked where
    /// they shipped from and refunded (what was paid for them; nothing for
    /// cash on delivery, which was never collected) — in the same change.
    fn take_back_refused(
        &mut self,
        shipment_id: &crate::ids::PartnerRef,
        mut shipped: Outcome,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        let Some(lines) = self
            .shipments
            .iter()
            .find(|s| &s.shipment_id == shipment_id)
            .map(|s| s.lines.clone())
        else {
            return Ok(shipped);
        };
        let rma_id = format!("refused-{shipment_id}");
        if self.returns.iter().any(|r| r.rma_id == rma_id) {
            return Ok(shipped);
        }
        self.returns.push(super::ReturnAuth {
            rma_id: rma_id.clone(),
            status: super::ReturnStatus::Authorized,
            reason: "delivery refused".into(),
            lines: lines.clone(),
            received: Vec::new(),
            receipts: 0,
            refund_amount: self.no_money(),
        });
        let received: Vec<crate::partner::ReturnedLine> = lines
            .into_iter()
            .map(|l| crate::partner::ReturnedLine {
                sku: l.sku,
                quantity: l.quantity,
                condition: crate::partner::ItemCondition::Resellable,
            })
            .collect();
        let back = self.receive_return(&rma_id, &received, cause)?;
        shipped.events.extend(back.events);
        shipped.stock.extend(back.stock);
        self.outbox = shipped.events.clone();
        Ok(shipped)
    }

    /// Cash collected at the door settles a cash-on-delivery order: taken as
    /// a payment (`cod-{shipmentId}`), in the same change as the delivery.
    fn collect_on_delivery(
        &mut self,
        u: &crate::partner::ShipmentStatusChanged,
        mut shipped: Outcome,
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        let Some(collected) = u.collected_amount else {
            return Ok(shipped);
        };
        if self.payment_method != super::PaymentMethod::CashOnDelivery
            || u.status != crate::partner::ShipmentStatus::Delivered
        {
            return Ok(shipped);
        }
        let Ok(payment_id) = crate::ids::PartnerRef::parse(&format!("cod-{}", u.shipment_id))
        else {
            return Ok(shipped);
        };
        let money = crate::money::Money::new(collected, self.currency);
        match self.confirm_payment(&payment_id, money, None, cause) {
            Ok(paid) => {
                shipped.events.extend(paid.events);
                shipped.stock.extend(paid.stock);
                // One change: its outbox carries both.
                self.outbox = shipped.events.clone();
                Ok(shipped)
            }
            Err(Refusal::Duplicate) => Ok(shipped),
            Err(e) => Err(e),
        }
    }
}
