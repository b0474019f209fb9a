//! shipment: warehouse (WMS) and carrier facts about an order's shipments.
//!
//! - `ShipmentStatusChanged` (from `partner.wms` or `partner.carrier`):
//!   PICKED, PACKED, SHIPPED (stock leaves the location), DELIVERED,
//!   EXCEPTION; partial shipments by line; the order is `SHIPPED` when every
//!   unit shipped and `DELIVERED` when every shipment is delivered. The
//!   rules for late, early and repeated facts live in the domain
//!   (`oms::order` shipping).
//! - `CancellationResponse` (from `partner.wms`): the warehouse's answer to
//!   `CancellationRequested`.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms::Deps;
use oms::handling::{apply_fact, partner_fact};
use oms::partner::{CancellationResponse, ShipmentStatusChanged};
use oms::sqs::{BusEvent, HandlerError, process_batch};

pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(process_batch(event, |ev| on_event(deps, ev)).await)
}

pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), HandlerError> {
    let actor = format!("shipment:{}", event.source);
    match event.detail_type.as_str() {
        "ShipmentStatusChanged" => {
            let Some(update) = partner_fact::<ShipmentStatusChanged>(deps, &event).await? else {
                return Ok(());
            };
            apply_fact(deps, &event, &update.order_id, &actor, |order, cause| {
                order.update_shipment(&update, cause)
            })
            .await
        }
        "CancellationResponse" => {
            let Some(answer) = partner_fact::<CancellationResponse>(deps, &event).await? else {
                return Ok(());
            };
            apply_fact(deps, &event, &answer.order_id, &actor, |order, cause| {
                order.cancellation_answered(answer.accepted, answer.reason.clone(), cause)
            })
            .await
        }
        other => {
            tracing::warn!(
                detail_type = other,
                "not for the shipment function; ignored"
            );
            Ok(())
        }
    }
}
