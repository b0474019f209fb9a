//! payment: applies the payment provider's facts to orders.
//!
//! - `PaymentConfirmed` (from `partner.payments`): captured when amount and
//!   currency match the order (an order already routed is released to its
//!   locations); otherwise the order goes `ON_HOLD`. A payment for an order
//!   that already ended is refunded at once.
//! - `PaymentFailed`: the order is cancelled and its stock released; a late
//!   failure after a capture is refused and recorded.
//! - `PaymentWindowExpired` (the OMS's timer): an unpaid order is cancelled.
//!
//! Refunds (`RefundIssued`) are decided by the order itself when it is
//! cancelled or a return is received; the sum refunded never exceeds the
//! sum captured.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms::Deps;
use oms::events::{EventData, OMS_SOURCE};
use oms::handling::{apply_fact, partner_fact};
use oms::partner::{PaymentConfirmed, PaymentFailed};
use oms::sqs::{BusEvent, HandlerError, process_batch};

pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(process_batch(event, |ev| on_event(deps, ev)).await)
}

pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), HandlerError> {
    let actor = format!("payment:{}", event.source);
    match event.detail_type.as_str() {
        "PaymentConfirmed" => {
            let Some(p) = partner_fact::<PaymentConfirmed>(deps, &event).await? else {
                return Ok(());
            };
            apply_fact(deps, &event, &p.order_id, &actor, |order, cause| {
                order.confirm_payment(&p.payment_id, p.amount, &p.currency, cause)
            })
            .await
        }
        "PaymentFailed" => {
            let Some(p) = partner_fact::<PaymentFailed>(deps, &event).await? else {
                return Ok(());
            };
            apply_fact(deps, &event, &p.order_id, &actor, |order, cause| {
                order.fail_payment(&p.payment_id, &p.reason, cause)
            })
            .await
        }
        "PaymentWindowExpired" if event.source == OMS_SOURCE => payment_window(deps, &event).await,
        other => {
            tracing::warn!(detail_type = other, source = %event.source, "not for the payment function; ignored");
            Ok(())
        }
    }
}

async fn payment_window(deps: &Deps, event: &BusEvent) -> Result<(), HandlerError> {
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
        // Delivered early (a delay is capped at 15 minutes on SQS): wait more.
        deps.scheduler.schedule(due_at, timer).await?;
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
