//! Reservation: the order is reserved *and* routed in one atomic commit —
//! by intake as it places the order, or here, on `OrderPlaced`, for an
//! order intake stored `PLACED` (its stock could not be read or kept
//! moving). The domain chooses the location(s) that will ship it
//! from what each has free (`oms_domain::routing`: one location that ships
//! everything, nearest; else the fewest, then the shortest distance) and
//! the units are taken there, each on the condition that its stock item
//! still has them — `PLACED → RESERVED → ROUTED` — or the order is
//! rejected: `INSUFFICIENT_STOCK` naming every sku the network cannot
//! cover, `NO_ELIGIBLE_LOCATION`, `UNROUTABLE`. Nothing is ever oversold,
//! and an order never holds units that are not at a location.
//!
//! Stock that moved between the read and the commit fails its condition:
//! the levels are read again and the domain decides again. Exactly once on
//! at-least-once delivery: the stock moves in the same commit as the
//! order's versioned save, so a duplicate finds the order no longer
//! `PLACED` and does nothing (its events were committed with the change).

use crate::Deps;
use crate::change::{OnStockShort, StepError, change_order_with, settle_step};
use crate::inbound::BusEvent;
use oms_domain::ids::{OrderId, Sku};
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
    let reserved = change_order_with(
        deps,
        order_id,
        ACTOR,
        trigger,
        OnStockShort::Retry,
        |order| {
            let skus: Vec<Sku> = order.demand().into_iter().map(|l| l.sku).collect();
            async move {
                let locations = deps.locations().await?;
                deps.inventory().availability(&skus, &locations).await
            }
        },
        |order, cause, stock| order.reserve(&stock, cause),
    )
    .await;
    match reserved {
        Ok(order) => {
            tracing::info!(status = %order.status, "reservation decided");
            Ok(())
        }
        Err(e) => settle_step(e),
    }
}
