//! Facts about an order that arrive on the bus: from partners (payment
//! providers, warehouses, carriers) and the OMS's own payment-window timer.
//! One entry point for every function that receives them: the function
//! names itself, the wiring says what it consumes.

use crate::Deps;
use crate::change::{StepError, apply_fact, record_refusal};
use crate::inbound::BusEvent;
use crate::store::Read;
use crate::wiring::Function;
use oms_domain::events::{EventData, OMS_SOURCE};
use oms_domain::partner::{FactError, PartnerFact};
use tracing::instrument;

/// Applies `event` for `function`: a partner fact, or the payment window's
/// timer. Anything the function does not consume is logged and dropped.
#[instrument(skip_all, fields(function = function.name(), event_id = %event.id, detail_type = %event.detail_type, source = %event.source))]
pub async fn on_event(deps: &Deps, function: Function, event: BusEvent) -> Result<(), StepError> {
    if !function.consumes(&event.detail_type) {
        tracing::warn!("not for this function; ignored");
        return Ok(());
    }
    if event.detail_type == "PaymentWindowExpired" {
        return payment_window(deps, &event).await;
    }
    let fact = match partner_fact(deps, &event) {
        Ok(fact) => fact,
        Err(why) => {
            tracing::warn!(%why, "partner event refused");
            return match event.order_id() {
                Some(order_id) => record_refusal(deps, &event, &order_id, &why).await,
                None => Ok(()),
            };
        }
    };
    let actor = format!("{}:{}", function.name(), event.source);
    let order_id = fact.order_id().clone();
    apply_fact(deps, &event, &order_id, &actor, |order, cause| {
        order.apply_fact(&fact, cause)
    })
    .await
}

/// A partner event the bus did not take — its sender may not use its
/// `source` — recorded in the order's history when it names one; never
/// applied.
#[instrument(skip_all, fields(event_id = %event.id, source = %event.source))]
pub async fn record_refused_delivery(
    deps: &Deps,
    event: &BusEvent,
    why: &str,
) -> Result<(), StepError> {
    match event.order_id() {
        Some(order_id) => record_refusal(deps, event, &order_id, why).await,
        None => Ok(()),
    }
}

/// Reads a partner event, refusing one whose source may not send it or
/// whose payload is malformed.
fn partner_fact(deps: &Deps, event: &BusEvent) -> Result<PartnerFact, String> {
    if !deps
        .config
        .partner_sources
        .allows(&event.source, &event.detail_type)
    {
        return Err(format!(
            "source {} may not send {}",
            event.source, event.detail_type
        ));
    }
    PartnerFact::parse(&event.detail_type, &event.detail).map_err(|e| match e {
        FactError::Unknown(t) => format!("{t} is not a partner event"),
        e @ FactError::Malformed(_) => e.to_string(),
    })
}

/// The payment window closed: an order still unpaid is cancelled. A timer
/// that arrives early (SQS delays are at most 15 minutes) is set again.
async fn payment_window(deps: &Deps, event: &BusEvent) -> Result<(), StepError> {
    if event.source != OMS_SOURCE {
        tracing::warn!("a timer not from the OMS; ignored");
        return Ok(());
    }
    let timer = match event.domain_event() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "unreadable timer; ignored");
            return Ok(());
        }
    };
    let EventData::PaymentWindowExpired { due_at } = timer.data else {
        return Ok(());
    };
    if deps.clock.now() < due_at {
        // Set again only while the order may still need it: most orders
        // are paid long before their window closes.
        let waiting = deps
            .orders()
            .read(&timer.order_id, Read::Eventual)
            .await?
            .is_some_and(|o| o.awaits_payment());
        if waiting {
            deps.scheduler.schedule(due_at, timer).await?;
        }
        return Ok(());
    }
    apply_fact(
        deps,
        event,
        &timer.order_id,
        "payment:window",
        |order, cause| order.payment_window_closed(cause),
    )
    .await
}
