//! Routing: on `InventoryReserved`, the domain chooses the fulfilment
//! location(s) from the free stock of every location (see
//! `oms_domain::routing`); the quantities move onto those locations'
//! counters in one commit with the order's move to `ROUTED`, and the reason
//! is recorded. A location whose stock moved in between fails its condition
//! and routing plans again.

use crate::Deps;
use crate::change::{OnStockShort, StepError, change_order_with, settle_step};
use crate::inbound::BusEvent;
use crate::store::StoreError;
use oms_domain::ids::{OrderId, Sku};
use oms_domain::routing::Candidate;
use std::collections::BTreeMap;
use tracing::instrument;

const ACTOR: &str = "routing";

/// Reacts to `InventoryReserved`; other events are not for this step.
pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), StepError> {
    match event.own_event_of("InventoryReserved") {
        Some(ev) => route(deps, &ev.order_id, &ev.event_id).await,
        None => Ok(()),
    }
}

#[instrument(skip(deps))]
pub async fn route(deps: &Deps, order_id: &OrderId, trigger: &str) -> Result<(), StepError> {
    let routed = change_order_with(
        deps,
        order_id,
        ACTOR,
        trigger,
        OnStockShort::Retry,
        |order| {
            let skus: Vec<Sku> = order.demand().into_iter().map(|l| l.sku).collect();
            async move { candidates(deps, &skus).await }
        },
        |order, cause, candidates| order.route(&candidates, cause),
    )
    .await;
    match routed {
        Ok(order) => {
            tracing::info!(status = %order.status, "routing decided");
            Ok(())
        }
        Err(e) => settle_step(e),
    }
}

/// Every active location, with the units of `skus` it can still allocate.
async fn candidates(deps: &Deps, skus: &[Sku]) -> Result<Vec<Candidate>, StoreError> {
    let inventory = deps.inventory();
    let mut by_location: BTreeMap<_, Candidate> = inventory
        .locations()
        .await?
        .into_iter()
        .filter(|l| l.active)
        .map(|l| {
            let c = Candidate {
                location_id: l.location_id.clone(),
                point: l.point,
                free: BTreeMap::new(),
                reach: l.reach(),
            };
            (l.location_id, c)
        })
        .collect();
    for sku in skus {
        for stock in inventory.levels(sku).await?.locations {
            if let Some(c) = by_location.get_mut(&stock.location_id) {
                c.free.insert(sku.clone(), stock.available);
            }
        }
    }
    Ok(by_location.into_values().collect())
}
