//! Reservation: on `OrderPlaced`, every line is taken from the network
//! stock in one atomic commit with the order's move to `RESERVED` — or
//! nothing is, and the order is rejected (`INSUFFICIENT_STOCK`) naming every
//! short sku.
//!
//! Exactly once on at-least-once delivery: the stock moves in the same
//! commit as the order's versioned save, so a duplicate finds the order no
//! longer `PLACED` and only publishes the outcome again (same event ids).

use crate::Deps;
use crate::change::{ChangeError, StepError, change_order, settle_step};
use crate::inbound::BusEvent;
use oms_domain::ids::{OrderId, Sku};
use oms_domain::inventory::LineQty;
use tracing::instrument;

const ACTOR: &str = "reservation";

/// Reacts to `OrderPlaced`; other events are not for this step.
pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), StepError> {
    match event.own_event_of("OrderPlaced") {
        Some(ev) => reserve(deps, &ev.order_id, &ev.event_id).await,
        None => Ok(()),
    }
}

#[instrument(skip(deps))]
pub async fn reserve(deps: &Deps, order_id: &OrderId, trigger: &str) -> Result<(), StepError> {
    let reserved = change_order(deps, order_id, ACTOR, trigger, |order, cause| {
        order.mark_reserved(cause)
    })
    .await;
    match reserved {
        Ok(_) => {
            tracing::info!("inventory reserved");
            Ok(())
        }
        Err(ChangeError::StockShort { index }) => {
            reject_short(deps, order_id, trigger, index).await
        }
        Err(e) => settle_step(e),
    }
}

/// Rejects the order for the skus the network cannot cover now — at least
/// the one whose condition failed (write `failed` is for the order's
/// `demand()[failed]`).
async fn reject_short(
    deps: &Deps,
    order_id: &OrderId,
    trigger: &str,
    failed: usize,
) -> Result<(), StepError> {
    let Some(order) = deps.orders().get(order_id).await? else {
        return Ok(());
    };
    let short = short_skus(deps, &order.demand(), failed).await?;
    let rejected = change_order(deps, order_id, ACTOR, trigger, |order, cause| {
        order.reject_for_stock(short.clone(), cause)
    })
    .await;
    match rejected {
        Ok(_) => {
            tracing::info!("rejected: insufficient stock");
            Ok(())
        }
        Err(e) => settle_step(e),
    }
}

async fn short_skus(deps: &Deps, demand: &[LineQty], failed: usize) -> Result<Vec<Sku>, StepError> {
    let mut short = Vec::new();
    for (i, l) in demand.iter().enumerate() {
        let view = deps.inventory().levels(&l.sku).await?;
        if i == failed || view.available < u64::from(l.quantity.get()) {
            short.push(l.sku.clone());
        }
    }
    Ok(short)
}
