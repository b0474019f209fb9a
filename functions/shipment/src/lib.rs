//! shipment: warehouse (WMS) and carrier facts about an order's shipments —
//! `ShipmentStatusChanged` (PICKED, PACKED, SHIPPED, DELIVERED, EXCEPTION;
//! partial shipments by line) and `CancellationResponse` — applied by
//! `oms_app::services::facts`. The rules for late, early and repeated facts
//! live in the domain (`oms_domain::order`, shipping).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms_app::Deps;
use oms_app::services::facts;
use oms_app::wiring::Function;

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    let on_event = |ev| facts::on_event(deps, Function::Shipment, ev);
    Ok(oms_aws::sqs::process_batch(event, on_event).await)
}
