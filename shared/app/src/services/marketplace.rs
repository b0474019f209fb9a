//! Orders from marketplaces by event: a `partner.marketplace` source sends
//! `OrderSubmitted` with the body of `POST /orders` (its `channel` and
//! `externalId` required). The order goes through the same intake — the
//! same validation, the same dedupe by channel + external id — under an id
//! derived from them, and the answer goes back on the bus: `OrderAccepted`
//! committed with the order, or `OrderRefused` with what is wrong, from an
//! item of its own (`SUBMISSION#{channel}#{externalId}`) that the relay
//! publishes. A submission sent again after it was accepted changes
//! nothing (the first answer stands); after a refusal, a corrected one is
//! placed.

use crate::Deps;
use crate::change::StepError;
use crate::inbound::BusEvent;
use crate::services::intake::{self, PlaceError, PlaceOrder, Placed};
use oms_domain::access::{Caller, Role};
use oms_domain::events::{DomainEvent, EventData, SubmissionError};
use oms_domain::ids::{Channel, ExternalId, OrderId};
use oms_domain::validation::PlaceOrderRequest;
use tracing::instrument;

/// Places a submitted order, or refuses it on the bus.
#[instrument(skip_all, fields(event_id = %event.id, source = %event.source))]
pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), StepError> {
    if event.detail_type != "OrderSubmitted" {
        tracing::warn!(detail_type = %event.detail_type, "not a submission; ignored");
        return Ok(());
    }
    if !deps
        .config
        .partner_sources
        .allows(&event.source, &event.detail_type)
    {
        tracing::warn!("a source that may not submit orders; dropped");
        return Ok(());
    }
    // Without a channel and an external id there is nobody to answer.
    let text = |name: &str| event.detail.get(name).and_then(|v| v.as_str());
    let (Some(channel), Some(external_id)) = (
        text("channel").and_then(|c| Channel::parse(c).ok()),
        text("externalId").and_then(|e| ExternalId::parse(e).ok()),
    ) else {
        tracing::warn!("a submission without a valid channel and externalId; dropped");
        return Ok(());
    };
    let order_id = OrderId::for_submission(&channel, &external_id);
    let refuse = |code: &str, field: Option<String>, message: String| SubmissionError {
        code: code.to_owned(),
        field,
        message,
    };
    let body: PlaceOrderRequest = match serde_path_to_error::deserialize(&event.detail) {
        Ok(b) => b,
        Err(e) => {
            let field = Some(e.path().to_string()).filter(|p| p != ".");
            let error = refuse("INVALID_VALUE", field, e.inner().to_string());
            return refused(deps, &event, &order_id, channel, external_id, error).await;
        }
    };
    let request = PlaceOrder {
        caller: Caller {
            role: Role::Storefront,
            subject: format!("marketplace:{}", event.source),
            channel: Some(channel.clone()),
            customer_id: None,
        },
        body,
        key: None,
        trigger: event.id.clone(),
        order_id: Some(order_id.clone()),
        answer: true,
    };
    match intake::place(deps, request).await {
        Ok(Placed::New(order)) => {
            tracing::info!(order_id = %order.order_id, status = %order.status, "submission placed");
            Ok(())
        }
        Ok(Placed::Replayed(_)) => Ok(()),
        Err(PlaceError::Invalid(e)) => {
            let error = refuse("INVALID_VALUE", Some(e.field), e.message);
            refused(deps, &event, &order_id, channel, external_id, error).await
        }
        Err(PlaceError::Pricing(e)) => {
            let error = refuse(e.code, Some(e.field.field), e.field.message);
            refused(deps, &event, &order_id, channel, external_id, error).await
        }
        Err(e @ (PlaceError::Forbidden(_) | PlaceError::Conflict { .. })) => {
            let error = refuse("CONFLICT", None, e.to_string());
            refused(deps, &event, &order_id, channel, external_id, error).await
        }
        Err(PlaceError::Unavailable(e)) => Err(StepError::Retry(e)),
    }
}

async fn refused(
    deps: &Deps,
    event: &BusEvent,
    order_id: &OrderId,
    channel: Channel,
    external_id: ExternalId,
    error: SubmissionError,
) -> Result<(), StepError> {
    tracing::warn!(code = %error.code, field = ?error.field, "submission refused");
    let refusal = DomainEvent {
        event_id: format!(
            "{order_id}.refused.{}",
            oms_domain::ids::clip(&event.id, 80)
        ),
        order_id: order_id.clone(),
        occurred_at: deps.clock.now(),
        data: EventData::OrderRefused {
            channel: channel.clone(),
            external_id: external_id.clone(),
            errors: vec![error],
        },
    };
    deps.orders()
        .record_refusal(&channel, &external_id, refusal)
        .await?;
    Ok(())
}
