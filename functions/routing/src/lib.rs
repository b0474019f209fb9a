//! routing: on `InventoryReserved`, choose the fulfilment location(s) and
//! allocate the stock there (`oms_app::services::routing`).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms_app::Deps;
pub use oms_app::services::routing::on_event;

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(oms_aws::sqs::process_batch(event, |ev| on_event(deps, ev)).await)
}
