//! Applying a fact to an order, the same way in every handler: load, decide
//! (a pure domain method), commit the new state with its stock moves under
//! the version read, publish the events; retry when someone else saved the
//! order in between. Partner facts are deduplicated by event id, refused
//! ones are recorded in the order's history.

use crate::Deps;
use crate::ids::OrderId;
use crate::order::{Cause, Order, Outcome, Refusal};
use crate::repo::{InventoryRepo, SaveError};
use crate::sqs::{BusEvent, HandlerError};
use crate::store::StoreError;

/// Re-reads after a concurrent change to the same order.
const ATTEMPTS: usize = 8;

/// Why a change was not made.
#[derive(Debug)]
pub enum ChangeError<E> {
    NotFound,
    /// The domain said no.
    Denied(E),
    Store(StoreError),
}

impl<E> From<StoreError> for ChangeError<E> {
    fn from(e: StoreError) -> Self {
        ChangeError::Store(e)
    }
}

/// Loads the order, lets `decide` change it and commits the change with its
/// stock moves, then publishes its events. Returns the saved order.
pub async fn change_order<E, F>(
    deps: &Deps,
    order_id: &OrderId,
    actor: &str,
    trigger: &str,
    decide: F,
) -> Result<Order, ChangeError<E>>
where
    F: Fn(&mut Order, &Cause) -> Result<Outcome, E>,
{
    let orders = deps.orders();
    for _ in 0..ATTEMPTS {
        let mut order = orders.get(order_id).await?.ok_or(ChangeError::NotFound)?;
        let cause = deps.cause(actor, trigger);
        let outcome = decide(&mut order, &cause).map_err(ChangeError::Denied)?;
        match orders
            .save(&mut order, InventoryRepo::writes(&outcome.stock))
            .await
        {
            Ok(()) => {
                publish(deps, &outcome).await?;
                return Ok(order);
            }
            Err(SaveError::Stale) => continue,
            Err(SaveError::Condition(i)) => {
                return Err(ChangeError::Store(StoreError::Unavailable(format!(
                    "stock condition {i} failed for order {order_id}"
                ))));
            }
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(ChangeError::Store(StoreError::Unavailable(format!(
        "order {order_id} kept changing"
    ))))
}

async fn publish(deps: &Deps, outcome: &Outcome) -> Result<(), StoreError> {
    // The change is committed; a failed publish is retried by the caller's
    // retry, which finds the trigger seen and republishes the outbox.
    deps.events
        .publish(&outcome.events)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Applies a fact that arrived on the bus (a partner's or the OMS's own):
/// at most once per event id; refused facts go into the history.
pub async fn apply_fact<F>(
    deps: &Deps,
    event: &BusEvent,
    order_id: &OrderId,
    actor: &str,
    decide: F,
) -> Result<(), HandlerError>
where
    F: Fn(&mut Order, &Cause) -> Result<Outcome, Refusal>,
{
    let trigger = event.id.as_str();
    let result = change_order(deps, order_id, actor, trigger, |order, cause| {
        if order.has_seen(trigger) {
            return Err(Refusal::Duplicate);
        }
        decide(order, cause)
    })
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(ChangeError::NotFound) => {
            tracing::warn!(%order_id, event_type = %event.detail_type, "fact for an unknown order; ignored");
            Ok(())
        }
        Err(ChangeError::Denied(Refusal::Duplicate)) => {
            republish_if_last(deps, order_id, trigger).await
        }
        Err(ChangeError::Denied(Refusal::Refused(why))) => {
            tracing::warn!(%order_id, event_type = %event.detail_type, source = %event.source, %why, "fact refused");
            record_refusal(deps, event, order_id, &why).await
        }
        Err(ChangeError::Store(e)) => Err(e.into()),
    }
}

/// Writes a refused fact into the order's history (once per event id).
pub async fn record_refusal(
    deps: &Deps,
    event: &BusEvent,
    order_id: &OrderId,
    why: &str,
) -> Result<(), HandlerError> {
    let trigger = event.id.as_str();
    let actor = format!("source:{}", event.source);
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if order.has_seen(trigger) {
            return Err(());
        }
        order.refuse(&event.detail_type, why, cause);
        Ok(Outcome::default())
    })
    .await;
    match result {
        Ok(_) | Err(ChangeError::Denied(())) | Err(ChangeError::NotFound) => Ok(()),
        Err(ChangeError::Store(e)) => Err(e.into()),
    }
}

/// A duplicate of the fact that made the latest change: its events may not
/// have reached the bus (the first attempt failed after committing), so
/// publish them again — same ids, so consumers see a duplicate at worst.
async fn republish_if_last(
    deps: &Deps,
    order_id: &OrderId,
    trigger: &str,
) -> Result<(), HandlerError> {
    match deps.orders().get(order_id).await? {
        Some(order) => republish_if_made_by(deps, &order, trigger).await,
        None => Ok(()),
    }
}

/// Publishes the order's latest events again when `trigger` made that
/// change: its first publish may have failed after the commit. Same event
/// ids, so consumers see at worst a duplicate.
pub async fn republish_if_made_by(
    deps: &Deps,
    order: &Order,
    trigger: &str,
) -> Result<(), HandlerError> {
    if order
        .history
        .last()
        .is_some_and(|h| h.cause == trigger && !h.refused)
    {
        deps.events.publish(&order.current_events()).await?;
    }
    Ok(())
}

/// Loads the order a step of the pipeline acts on, if it is still in the
/// status that step expects. Otherwise — unknown, or already moved on (a
/// duplicate delivery, a cancellation meanwhile) — there is nothing to do
/// beyond republishing this trigger's own change.
pub async fn load_in_status(
    deps: &Deps,
    order_id: &OrderId,
    trigger: &str,
    status: crate::order::OrderStatus,
) -> Result<Option<Order>, HandlerError> {
    let Some(order) = deps.orders().get(order_id).await? else {
        tracing::warn!(%order_id, %trigger, "event for an unknown order; ignored");
        return Ok(None);
    };
    if order.status != status {
        republish_if_made_by(deps, &order, trigger).await?;
        return Ok(None);
    }
    Ok(Some(order))
}

/// Reads a partner event: refuses (logs and records in the order's history)
/// one from a source not allowed to send it, or whose payload is malformed.
pub async fn partner_fact<T: serde::de::DeserializeOwned>(
    deps: &Deps,
    event: &BusEvent,
) -> Result<Option<T>, HandlerError> {
    let why = if !deps
        .config
        .partner_sources
        .allows(&event.source, &event.detail_type)
    {
        format!("source {} may not send {}", event.source, event.detail_type)
    } else {
        match event.partner_detail::<T>() {
            Ok(fact) => return Ok(Some(fact)),
            Err(e) => format!("malformed: {e}"),
        }
    };
    tracing::warn!(event_id = %event.id, source = %event.source, detail_type = %event.detail_type, %why, "partner event refused");
    if let Some(order_id) = event.order_id() {
        record_refusal(deps, event, &order_id, &why).await?;
    }
    Ok(None)
}
