//! routing: on `InventoryReserved`, choose the fulfilment location(s) (see
//! [`oms::routing`]), move the quantities onto those locations' counters in
//! one commit with the order's move to `ROUTED`, and record why.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms::Deps;
use oms::events::EventData;
use oms::handling::load_in_status;
use oms::ids::OrderId;
use oms::ids::Sku;
use oms::order::{OrderStatus, RejectReason, Rejection};
use oms::repo::{InventoryRepo, SaveError};
use oms::routing::{Candidate, Plan, Unroutable, plan};
use oms::sqs::{BusEvent, HandlerError, process_batch};
use oms::store::MAX_WRITES;
use std::collections::BTreeMap;

const ACTOR: &str = "routing";
/// Re-plans when a location's stock moved between reading and committing.
const ATTEMPTS: usize = 8;

pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(process_batch(event, |ev| on_event(deps, ev)).await)
}

pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), HandlerError> {
    let Some(ev) = event.own_event() else {
        return Ok(());
    };
    match ev.data {
        EventData::InventoryReserved { .. } => route(deps, &ev.order_id, &ev.event_id).await,
        _ => Ok(()),
    }
}

/// Free units per location for the skus of an order.
async fn candidates(deps: &Deps, skus: &[&oms::ids::Sku]) -> Result<Vec<Candidate>, HandlerError> {
    let inventory = deps.inventory();
    let mut by_location: BTreeMap<_, Candidate> = inventory
        .locations()
        .await?
        .into_iter()
        .map(|l| {
            let c = Candidate {
                location_id: l.location_id.clone(),
                point: l.point(),
                free: BTreeMap::new(),
            };
            (l.location_id, c)
        })
        .collect();
    for sku in skus {
        for stock in inventory.levels(sku).await?.locations {
            if let Some(c) = by_location.get_mut(&stock.location_id) {
                c.free.insert((*sku).clone(), stock.available);
            }
        }
    }
    Ok(by_location.into_values().collect())
}

/// The allocation moves and the order's save must fit one transaction.
/// Routing and, later, a cancellation's release (network counters plus
/// every allocation, with the order) must each fit one transaction.
fn fits_one_commit(p: Plan, demand: &[(Sku, u32)]) -> Result<Plan, Unroutable> {
    let located = InventoryRepo::allocate_writes(&p.allocations).len();
    if located + demand.len() < MAX_WRITES {
        return Ok(p);
    }
    let sku = match (demand.first(), p.allocations.first()) {
        (Some((s, _)), _) => s.clone(),
        (None, Some(a)) => a.sku.clone(),
        (None, None) => return Ok(p),
    };
    Err(Unroutable { sku, missing: 0 })
}

async fn route(deps: &Deps, order_id: &OrderId, trigger: &str) -> Result<(), HandlerError> {
    let orders = deps.orders();
    for attempt in 0..ATTEMPTS {
        let Some(order) = load_in_status(deps, order_id, trigger, OrderStatus::Reserved).await?
        else {
            return Ok(());
        };
        let demand = order.demand();
        let skus: Vec<_> = demand.iter().map(|(s, _)| s).collect();
        let cause = deps.cause(ACTOR, trigger);
        let mut next = order.clone();
        let candidates = candidates(deps, &skus).await?;
        let planned = plan(&demand, order.ship_to.point(), &candidates)
            .and_then(|p| fits_one_commit(p, &demand));
        let outcome = match planned {
            Ok(p) => next
                .mark_routed(p.allocations, p.reason, &cause)
                .map_err(|e| HandlerError::Retry(e.to_string()))?,
            // The network reservation guarantees enough units across
            // locations, so this means stock was removed under the order
            // (or a race): try again, then give the reservation back.
            Err(e) if attempt + 1 < ATTEMPTS => {
                tracing::warn!(%order_id, error = %e, "no plan yet; retrying");
                continue;
            }
            Err(e) => next
                .reject(
                    Rejection {
                        reason: RejectReason::Unroutable,
                        detail: e.to_string(),
                        skus: vec![e.sku.clone()],
                    },
                    &cause,
                )
                .map_err(|e| HandlerError::Retry(e.to_string()))?,
        };
        match orders
            .save(&mut next, InventoryRepo::writes(&outcome.stock))
            .await
        {
            Ok(()) => {
                tracing::info!(%order_id, status = %next.status, "routing decided");
                deps.events.publish(&outcome.events).await?;
                return Ok(());
            }
            Err(SaveError::Stale | SaveError::Condition(_)) => continue,
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(HandlerError::Retry(format!(
        "order {order_id} could not be routed; stock kept moving"
    )))
}
