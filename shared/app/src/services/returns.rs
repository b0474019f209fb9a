//! Returns: authorising a return (an RMA) of delivered units not already
//! returned. Receiving it is a partner fact ([`super::facts`]).

use crate::Deps;
use crate::change::{ChangeError, change_order};
use crate::services::intake::Hidden;
use oms_domain::access::Caller;
use oms_domain::ids::{IdempotencyKey, OrderId};
use oms_domain::inventory::LineQty;
use oms_domain::order::{Order, ReturnAuth, ReturnError};
use tracing::instrument;

/// An authorised return, new or found again by its `Idempotency-Key`.
#[derive(Debug)]
pub struct Authorized {
    pub order: Order,
    pub rma_id: String,
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ReturnFailure {
    #[error("the order does not exist")]
    NotFound,
    #[error(transparent)]
    Refused(ReturnError),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

#[instrument(skip(deps, caller, lines, reason, key))]
pub async fn authorize(
    deps: &Deps,
    caller: &Caller,
    order_id: &OrderId,
    key: Option<&IdempotencyKey>,
    lines: Vec<LineQty>,
    reason: String,
) -> Result<Authorized, ReturnFailure> {
    let rma_id = match key {
        Some(k) => ReturnAuth::id_for_key(order_id, k),
        None => ReturnAuth::id_from_token(&deps.ids.token()),
    };
    let trigger = format!("return:{rma_id}");
    let actor = format!("returns:{}", caller.actor());
    let result = change_order(deps, order_id, &actor, &trigger, |order, cause| {
        if !caller.can_see(order) {
            return Err(Hidden::Hidden);
        }
        order
            .authorize_return(rma_id.clone(), lines.clone(), reason.clone(), cause)
            .map_err(Hidden::Shown)
    })
    .await;
    let unavailable = |e: &dyn std::fmt::Display| ReturnFailure::Unavailable(e.to_string());
    match result {
        Ok(order) => Ok(Authorized {
            order,
            rma_id,
            replayed: false,
        }),
        Err(ChangeError::Denied(Hidden::Shown(ReturnError::Exists(_)))) => {
            // A replay: the return exists (its events were committed with it).
            let order = deps
                .orders()
                .get(order_id)
                .await
                .map_err(|e| unavailable(&e))?
                .ok_or(ReturnFailure::NotFound)?;
            Ok(Authorized {
                order,
                rma_id,
                replayed: true,
            })
        }
        Err(ChangeError::Denied(Hidden::Shown(e))) => Err(ReturnFailure::Refused(e)),
        Err(ChangeError::Denied(Hidden::Hidden) | ChangeError::NotFound) => {
            Err(ReturnFailure::NotFound)
        }
        Err(e) => Err(unavailable(&e)),
    }
}
