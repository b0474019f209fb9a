//! Returns: authorise (RMA) what was delivered and not already returned;
//! on each receipt, restock the resellable units it brings where they
//! shipped from and refund their value, once. An RMA stays open
//! (`PARTIALLY_RECEIVED`) until every authorised unit is back (`RECEIVED`).

use super::{Cause, Change, Order, OrderStatus, Outcome, RefundReason, Refusal};
use crate::events::EventData;
use crate::ids::{IdempotencyKey, LocationId, OrderId, Sku};
use crate::inventory::{LineQty, StockMove};
use crate::money::Money;
use crate::partner::{ItemCondition, ReturnedLine};
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReturnStatus {
    Authorized,
    /// Some authorised units are back, not all.
    PartiallyReceived,
    Received,
}

/// A return authorisation (RMA). `A` as in [`super::OrderLine`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    rename = "ReturnAuth",
    description = "A return authorisation (RMA); `refundAmount` in minor units of the order's currency."
)]
pub struct ReturnAuth<A = Money> {
    pub rma_id: String,
    pub status: ReturnStatus,
    pub reason: String,
    pub lines: Vec<LineQty>,
    /// Every unit received so far, receipt after receipt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub received: Vec<ReturnedLine>,
    /// How many receipts arrived.
    #[serde(default)]
    pub receipts: u32,
    pub refund_amount: A,
}

impl ReturnAuth {
    /// The RMA id of a return requested with an `Idempotency-Key`: derived
    /// from the order and the key, so a replayed request finds the same
    /// return. Without a key the caller mints a random one (`rma_` + token).
    pub fn id_for_key(order_id: &OrderId, key: &IdempotencyKey) -> String {
        let digest = Sha256::digest(format!("{order_id}/{}", key.as_str()).as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("rma_{hex}")
    }

    /// A fresh RMA id from a random token.
    pub fn id_from_token(token: &str) -> String {
        format!("rma_{token}")
    }
}

/// Why a return cannot be authorised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReturnError {
    #[error("the order is {0}: only delivered units can be returned")]
    NotDelivered(OrderStatus),
    /// This RMA exists already (a replayed request).
    #[error("return {0} exists")]
    Exists(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
}

impl Order {
    /// Units per sku still returnable: delivered minus already authorised.
    pub fn returnable(&self) -> BTreeMap<Sku, u32> {
        let mut left = self.delivered_units();
        for r in &self.returns {
            for l in &r.lines {
                if let Some(q) = left.get_mut(&l.sku) {
                    *q = q.saturating_sub(l.quantity.get());
                }
            }
        }
        left.retain(|_, q| *q > 0);
        left
    }

    /// Authorises a return of delivered units (an RMA).
    pub fn authorize_return(
        &mut self,
        rma_id: String,
        lines: Vec<LineQty>,
        reason: String,
        cause: &Cause,
    ) -> Result<Outcome, ReturnError> {
        if self.returns.iter().any(|r| r.rma_id == rma_id) {
            return Err(ReturnError::Exists(rma_id));
        }
        if !matches!(
            self.status,
            OrderStatus::PartiallyShipped
                | OrderStatus::Shipped
                | OrderStatus::Delivered
                | OrderStatus::PickedUp
        ) || self.delivered_units().is_empty()
        {
            return Err(ReturnError::NotDelivered(self.status));
        }
        let mut left = self.returnable();
        for (i, l) in lines.iter().enumerate() {
            let have = left.get(&l.sku).copied().unwrap_or(0);
            if l.quantity.get() > have {
                return Err(FieldError::new(
                    format!("lines[{i}].quantity"),
                    format!(
                        "only {have} unit(s) of {} are delivered and not already returned",
                        l.sku
                    ),
                )
                .into());
            }
            left.insert(l.sku.clone(), have - l.quantity.get());
        }
        self.returns.push(ReturnAuth {
            rma_id: rma_id.clone(),
            status: ReturnStatus::Authorized,
            reason: reason.clone(),
            lines: lines.clone(),
            received: Vec::new(),
            receipts: 0,
            refund_amount: self.no_money(),
        });
        let mut change = Change::new(None);
        change.step(
            self,
            "ReturnAuthorized",
            cause,
            Some(reason.clone()),
            vec![EventData::ReturnAuthorized {
                rma_id,
                lines,
                reason,
            }],
        );
        Ok(change.finish(self))
    }

    /// The warehouse received a return.
    pub fn receive_return(
        &mut self,
        rma_id: &str,
        lines: &[ReturnedLine],
        cause: &Cause,
    ) -> Result<Outcome, Refusal> {
        let Some(index) = self.returns.iter().position(|r| r.rma_id == rma_id) else {
            return Err(Refusal::Refused(format!(
                "no return {rma_id} was authorised"
            )));
        };
        if self.returns[index].status == ReturnStatus::Received {
            return Err(Refusal::Refused(format!(
                "return {rma_id} is already received in full"
            )));
        }
        let mut allowed: BTreeMap<Sku, u32> = BTreeMap::new();
        for l in &self.returns[index].lines {
            *allowed.entry(l.sku.clone()).or_default() += l.quantity.get();
        }
        for l in &self.returns[index].received {
            if let Some(q) = allowed.get_mut(&l.sku) {
                *q = q.saturating_sub(l.quantity.get());
            }
        }
        for l in lines {
            let left = allowed.get_mut(&l.sku);
            match left {
                Some(q) if *q >= l.quantity.get() => *q -= l.quantity.get(),
                _ => {
                    return Err(Refusal::Refused(format!(
                        "{} × {} is more than return {rma_id} authorised and has not received",
                        l.quantity, l.sku
                    )));
                }
            }
        }

        let mut restock: BTreeMap<LocationId, Vec<LineQty>> = BTreeMap::new();
        let mut restocked = Vec::new();
        let mut damaged = Vec::new();
        let mut value = self.no_money();
        let mut counted: BTreeMap<&Sku, u32> = BTreeMap::new();
        for l in lines {
            let earlier = counted.entry(&l.sku).or_default();
            value = value
                .plus(self.refund_value(&l.sku, *earlier, l.quantity.get()))
                .unwrap_or(value);
            *earlier += l.quantity.get();
            let line = LineQty {
                sku: l.sku.clone(),
                quantity: l.quantity,
            };
            match l.condition {
                ItemCondition::Resellable => {
                    let from = self.shipped_from(&l.sku);
                    if let Some(loc) = from {
                        restock.entry(loc).or_default().push(line.clone());
                    }
                    restocked.push(line);
                }
                ItemCondition::Damaged => damaged.push(line),
            }
        }
        let mut change = Change::new(None);
        for (location_id, lines) in restock {
            change.add_stock(StockMove::Restock { location_id, lines });
        }
        let mut events = Vec::new();
        // The first receipt of an RMA refunds as `return-{rma}`, later ones
        // as `return-{rma}-{n}`: each receipt once.
        let receipts = self.returns[index].receipts;
        let refund_id = match receipts {
            0 => format!("return-{rma_id}"),
            n => format!("return-{rma_id}-r{}", n + 1),
        };
        let (refunded, refund) = self.refund_up_to(
            &refund_id,
            value,
            RefundReason::Returned,
            &format!("return {rma_id}"),
        );
        {
            let r = &mut self.returns[index];
            r.receipts += 1;
            r.received.extend(lines.iter().cloned());
            r.refund_amount = r.refund_amount.plus(refunded).unwrap_or(r.refund_amount);
            let back: u32 = r.received.iter().map(|l| l.quantity.get()).sum();
            let authorised: u32 = r.lines.iter().map(|l| l.quantity.get()).sum();
            r.status = if back >= authorised {
                ReturnStatus::Received
            } else {
                ReturnStatus::PartiallyReceived
            };
        }
        events.push(EventData::ReturnCompleted {
            rma_id: rma_id.to_owned(),
            restocked,
            damaged,
            refund_amount: refunded,
        });
        events.extend(refund);
        let all_back = self.all_returned();
        if all_back {
            self.status = OrderStatus::Returned;
        }
        change.step(self, "ReturnCompleted", cause, None, events);
        Ok(change.finish(self))
    }

    fn all_returned(&self) -> bool {
        let mut back: BTreeMap<&Sku, u32> = BTreeMap::new();
        for r in &self.returns {
            for l in &r.received {
                *back.entry(&l.sku).or_default() += l.quantity.get();
            }
        }
        self.demand()
            .iter()
            .all(|l| back.get(&l.sku).copied().unwrap_or(0) >= l.quantity.get())
    }

    /// What `quantity` more units of a sku give back: their share of what
    /// the line cost the customer (after its discounts, with its tax), the
    /// shares of all its units adding up exactly to that. Units received
    /// earlier (in `earlier` receipts, or `earlier` units of this one) count first: the `k` units received after `before` are worth
    /// `⌊cost × (before + k) / q⌋ − ⌊cost × before / q⌋`.
    fn refund_value(&self, sku: &Sku, earlier: u32, quantity: u32) -> Money {
        let Some(line) = self.lines.iter().find(|l| &l.sku == sku) else {
            return self.no_money();
        };
        let before: u32 = self
            .returns
            .iter()
            .flat_map(|r| &r.received)
            .filter(|l| &l.sku == sku)
            .map(|l| l.quantity.get())
            .sum::<u32>()
            + earlier;
        let q = i128::from(line.quantity.get());
        let cost = i128::from(line.payable().amount);
        let upto = |n: u32| cost * i128::from(n.min(line.quantity.get())) / q;
        let amount = upto(before + quantity) - upto(before);
        Money::new(i64::try_from(amount).unwrap_or(0), self.currency)
    }

    /// The location a sku shipped from (the first shipment carrying it).
    fn shipped_from(&self, sku: &Sku) -> Option<LocationId> {
        self.shipments
            .iter()
            .find(|s| s.lines.iter().any(|l| &l.sku == sku))
            .map(|s| s.location_id.clone())
    }
}
