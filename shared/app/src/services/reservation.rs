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
//! A hot sku split into shards is read one shard per order: the order's
//! home shard (orders spread evenly over them), the others counted as
//! empty, so that its reads spread as its writes do. A view that finds too
//! little is never the last word: the rejection is decided again over every
//! shard.
//!
//! Stock that moved between the read and the commit fails its condition:
//! the levels are read again and the domain decides again. Exactly once on
//! at-least-once delivery: the stock moves in the same commit as the
//! order's versioned save, so a duplicate finds the order no longer
//! `PLACED` and does nothing (its events were committed with the change).

use crate::Deps;
use crate::change::{ChangeError, OnStockShort, StepError, change_order_with, settle_step};
use crate::inbound::BusEvent;
use crate::repo::SeenBy;
use crate::store::StoreError;
use oms_domain::ids::{OrderId, Sku};
use oms_domain::order::{OrderStatus, TransitionError};
use oms_domain::routing::Availability;
use tracing::instrument;

const ACTOR: &str = "reservation";

/// Reacts to `OrderPlaced` and `RerouteRequested` (an order sent back to
/// `PLACED` to be routed again); other events are not for this step.
pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), StepError> {
    let own = event
        .own_event_of("OrderPlaced")
        .or_else(|| event.own_event_of("RerouteRequested"));
    match own {
        Some(ev) => reserve(deps, &ev.order_id, &ev.event_id).await,
        None => Ok(()),
    }
}

/// Why a reservation was not decided.
#[derive(Debug, thiserror::Error)]
enum Undecided {
    #[error(transparent)]
    Refused(TransitionError),
    /// Decided over part of a split sku's stock, the order would be
    /// rejected: decide again over the whole.
    #[error("decide again over the whole stock")]
    WholeStockNeeded,
}

#[instrument(skip(deps))]
pub async fn reserve(deps: &Deps, order_id: &OrderId, trigger: &str) -> Result<(), StepError> {
    // First over the stock as the order sees it; again over the whole stock
    // when that view, partial for a split sku, would reject it.
    for whole in [false, true] {
        let decided = change_order_with(
            deps,
            order_id,
            ACTOR,
            trigger,
            OnStockShort::Retry,
            |order| {
                let skus: Vec<Sku> = order.demand().into_iter().map(|l| l.sku).collect();
                let id = order.order_id.clone();
                async move {
                    if whole {
                        whole_stock(deps, &skus).await.map(|stock| SeenBy {
                            stock,
                            partial: false,
                            split: Vec::new(),
                        })
                    } else {
                        stock_seen_by(deps, &id, &skus, crate::store::Read::Strong).await
                    }
                }
            },
            |order, cause, seen: SeenBy| {
                let outcome = order
                    .reserve(&seen.stock, cause)
                    .map_err(Undecided::Refused)?;
                if seen.partial && order.status == OrderStatus::Rejected {
                    return Err(Undecided::WholeStockNeeded);
                }
                Ok(outcome)
            },
        )
        .await;
        match decided {
            Err(ChangeError::Denied(Undecided::WholeStockNeeded)) => continue,
            Ok(order) => {
                tracing::info!(status = %order.status, "reservation decided");
                return Ok(());
            }
            Err(e) => return settle_step(e),
        }
    }
    // The whole stock is never partial: the second pass always decides.
    Err(StepError::Retry("reservation undecided".into()))
}

/// The stock an order is decided over first: as the order sees it, one
/// read per sku (see [`crate::repo::InventoryRepo::availability_seen_by`]).
/// When it is `partial`, a rejection over it is confirmed over
/// [`whole_stock`].
pub(crate) async fn stock_seen_by(
    deps: &Deps,
    order_id: &OrderId,
    skus: &[Sku],
    read: crate::store::Read,
) -> Result<SeenBy, StoreError> {
    let locations = deps.locations().await?;
    let seen = deps
        .inventory()
        .availability_seen_by(
            order_id,
            skus,
            &locations,
            |sku| deps.known_shards(sku),
            read,
        )
        .await?;
    deps.learn_shards(&seen.split);
    let routing = deps.routing().await?;
    Ok(SeenBy {
        stock: seen
            .stock
            .with_rules(routing.rules.clone(), &routing.taken_today),
        ..seen
    })
}

/// Every shard of every sku's stock.
pub(crate) async fn whole_stock(deps: &Deps, skus: &[Sku]) -> Result<Availability, StoreError> {
    let locations = deps.locations().await?;
    let routing = deps.routing().await?;
    Ok(deps
        .inventory()
        .availability(skus, &locations)
        .await?
        .with_rules(routing.rules.clone(), &routing.taken_today))
}
