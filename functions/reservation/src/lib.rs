//! reservation: on `OrderPlaced`, take every line from the network stock or
//! reject the order (`oms_app::services::reservation`).

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms_app::Deps;
pub use oms_app::services::reservation::on_event;

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(oms_aws::sqs::process_batch(event, |ev| on_event(deps, ev)).await)
}
