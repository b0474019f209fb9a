//! Order intake: placing an order (validated, deduplicated by its claims,
//! stored with them in one commit, `OrderPlaced` published, the payment
//! window started), reading one, and cancelling one.

use crate::Deps;
use crate::change::{ChangeError, change_order};
use crate::repo::Created;
use crate::store::StoreError;
use oms_domain::access::{Caller, Forbidden, Role};
use oms_domain::events::{DomainEvent, EventData};
use oms_domain::ids::{IdempotencyKey, OrderId};
use oms_domain::intake::{ClaimKind, fingerprint};
use oms_domain::order::{CancelCode, CancelError, Order, OrderStatus, TransitionError};
use oms_domain::validation::{FieldError, PlaceOrderRequest};
use tracing::instrument;

/// A request to place an order.
pub struct PlaceOrder {
    pub caller: Caller,
    pub body: PlaceOrderRequest,
    pub key: Option<IdempotencyKey>,
    /// The request id, recorded as the cause of the placement.
    pub trigger: String,
}

/// A placed order: new, or the one an earlier identical request placed.
#[derive(Debug)]
pub enum Placed {
    New(Order),
    Replayed(Order),
}

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error(transparent)]
    Invalid(FieldError),
    #[error(transparent)]
    Forbidden(Forbidden),
    /// The claim was taken by `order_id` with a different request.
    #[error("{} for order {order_id} with a different body", .kind.conflict())]
    Conflict { kind: ClaimKind, order_id: OrderId },
    #[error("unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for PlaceError {
    fn from(e: StoreError) -> Self {
        PlaceError::Unavailable(e.to_string())
    }
}

/// Places an order, or finds the one the same request placed before.
#[instrument(skip_all, fields(trigger = %request.trigger, order_id))]
pub async fn place(deps: &Deps, request: PlaceOrder) -> Result<Placed, PlaceError> {
    let new = request.body.validate().map_err(PlaceError::Invalid)?;
    request
        .caller
        .may_place(&new)
        .map_err(PlaceError::Forbidden)?;
    let canonical = serde_json::to_vec(&request.body).unwrap_or_default();
    let now = deps.clock.now();
    let claims = new.claims(request.key.as_ref(), &fingerprint(&canonical), now);
    let cause = deps.cause(
        &format!("order-intake:{}:{}", new.channel, request.caller.actor()),
        &request.trigger,
    );
    let due = now.plus_millis(deps.config.payment_window_ms);
    let (mut order, placed) = Order::place(deps.ids.order_id(), new, Some(due), &cause);
    tracing::Span::current().record("order_id", tracing::field::display(&order.order_id));
    match deps.orders().create(&mut order, &claims).await? {
        Created::New => {
            tracing::info!("order placed");
            deps.events
                .publish(&placed.events)
                .await
                .map_err(|e| PlaceError::Unavailable(e.to_string()))?;
            start_payment_window(deps, &order).await;
            Ok(Placed::New(order))
        }
        Created::Existing {
            order_id,
            same_request: true,
            kind,
        } => {
            let existing = deps
                .orders()
                .get(&order_id)
                .await?
                .ok_or_else(|| PlaceError::Unavailable("claimed order not found".into()))?;
            if !request.caller.can_see(&existing) {
                // Another caller's order under the same claim: not a replay.
                return Err(PlaceError::Conflict { kind, order_id });
            }
            // A replay after a failed publish must still get the order
            // moving: while it is PLACED nothing downstream has acted on it,
            // so publish its placement again (same event ids).
            if existing.status == OrderStatus::Placed {
                deps.events
                    .publish(&existing.current_events())
                    .await
                    .map_err(|e| PlaceError::Unavailable(e.to_string()))?;
                start_payment_window(deps, &existing).await;
            }
            Ok(Placed::Replayed(existing))
        }
        Created::Existing { order_id, kind, .. } => Err(PlaceError::Conflict { kind, order_id }),
    }
}

/// Schedules `PaymentWindowExpired` at the order's payment deadline. A
/// failure is logged, not returned: the order is placed either way.
async fn start_payment_window(deps: &Deps, order: &Order) {
    let Some(due_at) = order.payment_due_at else {
        return;
    };
    let timer = DomainEvent {
        event_id: format!("{}.payment-window", order.order_id),
        order_id: order.order_id.clone(),
        occurred_at: order.created_at,
        data: EventData::PaymentWindowExpired { due_at },
    };
    if let Err(e) = deps.scheduler.schedule(due_at, timer).await {
        tracing::error!(error = %e, "payment window not scheduled");
    }
}

/// The order, if it exists for this caller.
#[instrument(skip(deps, caller))]
pub async fn get(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
) -> Result<Option<Order>, StoreError> {
    Ok(deps
        .orders()
        .get(order_id)
        .await?
        .filter(|o| caller.can_see(o)))
}

#[derive(Debug, thiserror::Error)]
pub enum CancelFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(CancelError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Cancels an order: at once before release to a warehouse, by asking the
/// warehouse after, never after shipment (that is a return). A repeated
/// request answers with the order as it is.
#[instrument(skip(deps, caller, reason))]
pub async fn cancel(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    reason: String,
    trigger: &str,
) -> Result<Order, CancelFailure> {
    let code = match caller.role {
        Role::Operator => CancelCode::OperatorRequest,
        Role::Storefront | Role::Customer => CancelCode::CustomerRequest,
    };
    let actor = format!("order-intake:cancel:{}", caller.actor());
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Hidden::Hidden);
        }
        order
            .cancel(code, reason.clone(), cause)
            .map_err(Hidden::Shown)
    })
    .await;
    match result {
        Ok(order) => Ok(order),
        Err(ChangeError::Denied(Hidden::Shown(CancelError::AlreadyAsked))) => {
            let order = get(deps, caller, order_id)
                .await
                .map_err(|e| CancelFailure::Unavailable(e.to_string()))?
                .ok_or(CancelFailure::NotFound)?;
            // A retried cancel: the first attempt may have committed without
            // publishing. Its events, with the same ids, again.
            if order.last_change_is_a_cancellation() {
                deps.events
                    .publish(&order.current_events())
                    .await
                    .map_err(|e| CancelFailure::Unavailable(e.to_string()))?;
            }
            Ok(order)
        }
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(CancelFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(CancelFailure::NotFound)
        }
        Err(e) => Err(CancelFailure::Unavailable(e.to_string())),
    }
}

/// A refusal, or an order the caller may not see (which, for it, does not
/// exist).
#[derive(Debug, thiserror::Error)]
pub enum Hidden<E> {
    #[error("not found")]
    Hidden,
    #[error(transparent)]
    Shown(E),
}

#[derive(Debug, thiserror::Error)]
pub enum ReleaseFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(TransitionError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// An operator lifts an order's hold: the order goes on, released to its
/// locations if it is paid.
#[instrument(skip(deps, caller))]
pub async fn release(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    trigger: &str,
) -> Result<Order, ReleaseFailure> {
    let actor = format!("order-intake:release:{}", caller.actor());
    let result = change_order(deps, order_id, &actor, trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Hidden::Hidden);
        }
        order.release_hold(cause).map_err(Hidden::Shown)
    })
    .await;
    match result {
        Ok(order) => Ok(order),
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(ReleaseFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(ReleaseFailure::NotFound)
        }
        Err(e) => Err(ReleaseFailure::Unavailable(e.to_string())),
    }
}
