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
            PartnerFact::ShipmentStatusChanged(u) => self.update_shipment(u, cause),
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
