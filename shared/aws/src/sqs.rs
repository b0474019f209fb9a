//! The SQS edge of the queue-triggered functions: EventBridge events wrapped
//! in SQS messages in, `batchItemFailures` out, so one bad message never
//! fails its batch.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use oms_app::change::StepError;
use oms_app::inbound::BusEvent;
use std::future::Future;

/// Runs `handle` on every message of the batch concurrently and reports the
/// ones to retry. Messages that are not EventBridge events at all are
/// reported too, so that after `oms_app::wiring::MAX_RECEIVES` receives they
/// land in the dead-letter queue.
pub async fn process_batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(BusEvent) -> Fut,
    Fut: Future<Output = Result<(), StepError>>,
{
    let handle = &handle;
    let outcomes =
        futures::future::join_all(event.records.into_iter().map(|m: SqsMessage| async move {
            let id = m.message_id.clone().unwrap_or_default();
            let body = m.body.as_deref().unwrap_or("");
            let result = match BusEvent::parse(body) {
                Ok(ev) => {
                    let (event_id, event_type) = (ev.id.clone(), ev.detail_type.clone());
                    handle(ev).await.map_err(|e| {
                        tracing::warn!(%event_id, %event_type, error = %e, "will retry");
                    })
                }
                Err(e) => {
                    tracing::error!(message_id = %id, error = %e, "poison message");
                    Err(())
                }
            };
            (id, result)
        }))
        .await;
    let mut response = SqsBatchResponse::default();
    for (id, result) in outcomes {
        if result.is_err() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}
