//! A partner's fact, applied to the order it names: one entry point for
//! every kind, so the functions that receive them need no dispatch of their
//! own.

use super::{Cause, Order, Outcome, Refusal};
use crate::partner::PartnerFact;

impl Order {
    /// Applies a payment provider's, warehouse's or carrier's fact.
    pub fn apply_fact(&mut self, fact: &PartnerFact, cause: &Cause) -> Result<Outcome, Refusal> {
        match fact {
            PartnerFact::PaymentConfirmed(p) => {
                self.confirm_payment(&p.payment_id, p.money(), cause)
            }
            PartnerFact::PaymentFailed(p) => {
                self.fail_payment(&p.payment_id, p.reason.as_str(), cause)
            }
            PartnerFact::ShipmentStatusChanged(u) => {
                let shipped = self.update_shipment(u, cause)?;
                self.collect_on_delivery(u, shipped, cause)
            }
            PartnerFact::ReturnReceived(r) => {
                self.receive_return(r.return_id.as_str(), &r.lines, cause)
            }
            PartnerFact::FulfillmentRejected(f) => {
                self.fulfillment_rejected(&f.location_id, f.reason.as_str(), cause)
            }
            PartnerFact::CancellationResponse(a) => self.cancellation_answered(
                a.accepted,
                a.reason.as_ref().map(ToString::to_string),
                cause,
            ),
        }
    }
}

impl Order {
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
        match self.confirm_payment(&payment_id, money, cause) {
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
