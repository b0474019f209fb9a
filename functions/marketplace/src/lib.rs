//! marketplace: orders submitted by marketplaces on the bus
//! (`OrderSubmitted` from `partner.marketplace`), placed through the same
//! intake as `POST /orders` and answered on the bus
//! (`oms_app::services::marketplace`).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms_app::Deps;
use oms_app::services::marketplace;

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    let on_event = |ev| marketplace::on_event(deps, ev);
    Ok(oms_aws::sqs::process_batch(event, on_event).await)
}
