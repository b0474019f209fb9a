//! Operator actions on an order — hold, refund, route again — each audited
//! in the order's history with the operator as actor. A request repeated
//! with the same `Idempotency-Key` answers with the order as it is and
//! changes nothing again (a refund is never given twice).

use crate::Deps;
use crate::change::{ChangeError, change_order};
use oms_domain::access::Caller;
use oms_domain::ids::{IdempotencyKey, OrderId, clip};
use oms_domain::money::Money;
use oms_domain::order::{OperatorError, Order, Outcome};
use oms_domain::validation::RefundAsk;
use tracing::instrument;

/// What the operator asks for.
#[derive(Debug, Clone)]
pub enum Action {
    Hold { reason: String },
    Refund(RefundAsk),
    Reroute { reason: String },
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Hold { .. } => "hold",
            Action::Refund(_) => "refund",
            Action::Reroute { .. } => "reroute",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ActionFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(OperatorError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// Why the decision was not made.
enum Declined {
    Hidden,
    /// The same request was made before: nothing to do.
    Replayed,
    Refused(OperatorError),
}

/// Applies an operator's action. `trigger` is the request's
/// `Idempotency-Key` when it has one, else its request id.
#[instrument(skip(deps, caller, action), fields(action = action.name()))]
pub async fn act(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    action: Action,
    key: Option<&IdempotencyKey>,
    request_id: &str,
) -> Result<Order, ActionFailure> {
    let actor = caller.actor();
    let trigger = match key {
        Some(k) => format!("key:{}", k.as_str()),
        None => request_id.to_owned(),
    };
    let decided = change_order(deps, order_id, &actor, &trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Declined::Hidden);
        }
        if order.has_seen(&trigger) {
            return Err(Declined::Replayed);
        }
        decide(order, &action, &trigger, cause).map_err(Declined::Refused)
    })
    .await;
    match decided {
        Ok(order) => Ok(order),
        Err(ChangeError::Denied(Declined::Replayed)) => deps
            .orders()
            .get(order_id)
            .await
            .map_err(|e| ActionFailure::Unavailable(e.to_string()))?
            .ok_or(ActionFailure::NotFound),
        Err(ChangeError::Denied(Declined::Refused(e))) => Err(ActionFailure::Refused(e)),
        Err(ChangeError::Denied(Declined::Hidden) | ChangeError::NotFound) => {
            Err(ActionFailure::NotFound)
        }
        Err(e) => Err(ActionFailure::Unavailable(e.to_string())),
    }
}

fn decide(
    order: &mut Order,
    action: &Action,
    trigger: &str,
    cause: &oms_domain::order::Cause,
) -> Result<Outcome, OperatorError> {
    match action {
        Action::Hold { reason } => order.hold_by_operator(reason, cause),
        Action::Reroute { reason } => order.reroute(reason, cause),
        Action::Refund(ask) => {
            let currency = ask.currency.unwrap_or(order.currency);
            let refund_id = format!("operator-{}", clip(trigger, 100));
            order.refund_by_operator(
                &refund_id,
                Money::new(ask.amount, currency),
                &ask.reason,
                cause,
            )
        }
    }
}
