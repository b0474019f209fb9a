//! reservation: on `OrderPlaced`, take every line from the network stock in
//! one atomic commit with the order's move to `RESERVED` — or take nothing
//! and reject the order (`INSUFFICIENT_STOCK`).
//!
//! Exactly-once effect on at-least-once delivery: the stock moves in the
//! same commit as the order's versioned save, so a duplicate finds the order
//! no longer `PLACED` and only republishes the outcome (same event ids).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms::Deps;
use oms::events::EventData;
use oms::handling::load_in_status;
use oms::ids::{OrderId, Sku};
use oms::order::{OrderStatus, RejectReason, Rejection};
use oms::repo::{InventoryRepo, SaveError};
use oms::sqs::{BusEvent, HandlerError, process_batch};

const ACTOR: &str = "reservation";
/// Re-reads after a concurrent change to the same order.
const ATTEMPTS: usize = 5;

pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(process_batch(event, |ev| on_event(deps, ev)).await)
}

pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), HandlerError> {
    let Some(ev) = event.own_event() else {
        return Ok(());
    };
    match ev.data {
        EventData::OrderPlaced { .. } => reserve(deps, &ev.order_id, &ev.event_id).await,
        _ => Ok(()),
    }
}

async fn reserve(deps: &Deps, order_id: &OrderId, trigger: &str) -> Result<(), HandlerError> {
    let orders = deps.orders();
    for _ in 0..ATTEMPTS {
        let Some(order) = load_in_status(deps, order_id, trigger, OrderStatus::Placed).await?
        else {
            return Ok(());
        };
        let demand = order.demand();
        let cause = deps.cause(ACTOR, trigger);
        let mut reserved = order.clone();
        let outcome = reserved
            .mark_reserved(&cause)
            .map_err(|e| HandlerError::Retry(e.to_string()))?;
        // Write i of the reservation is for demand[i] (see reserve_writes).
        match orders
            .save(&mut reserved, InventoryRepo::writes(&outcome.stock))
            .await
        {
            Ok(()) => {
                tracing::info!(%order_id, "inventory reserved");
                deps.events.publish(&outcome.events).await?;
                return Ok(());
            }
            Err(SaveError::Stale) => continue,
            Err(SaveError::Condition(short_index)) => {
                let mut rejected = order;
                let skus = short_skus(deps, &demand, short_index).await?;
                let listed: Vec<String> = skus.iter().map(ToString::to_string).collect();
                let outcome = rejected
                    .reject(
                        Rejection {
                            reason: RejectReason::InsufficientStock,
                            detail: format!("not enough stock for {}", listed.join(", ")),
                            skus,
                        },
                        &cause,
                    )
                    .map_err(|e| HandlerError::Retry(e.to_string()))?;
                match orders
                    .save(&mut rejected, InventoryRepo::writes(&outcome.stock))
                    .await
                {
                    Ok(()) => {
                        tracing::info!(%order_id, "rejected: insufficient stock");
                        deps.events.publish(&outcome.events).await?;
                        return Ok(());
                    }
                    Err(SaveError::Stale) => continue,
                    Err(e) => return Err(HandlerError::Retry(e.to_string())),
                }
            }
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(HandlerError::Retry(format!(
        "order {order_id} kept changing while reserving"
    )))
}

/// Every sku the network cannot cover now; at least the one whose
/// condition failed.
async fn short_skus(
    deps: &Deps,
    demand: &[(Sku, u32)],
    failed: usize,
) -> Result<Vec<Sku>, HandlerError> {
    let mut short = Vec::new();
    for (i, (sku, q)) in demand.iter().enumerate() {
        let view = deps.inventory().levels(sku).await?;
        if i == failed || view.available < u64::from(*q) {
            short.push(sku.clone());
        }
    }
    Ok(short)
}
