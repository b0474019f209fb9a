//! SQS-triggered handlers: EventBridge events wrapped in SQS messages in,
//! `batchItemFailures` out, so one bad message never fails its batch.

use crate::events::DomainEvent;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use std::future::Future;

/// What a handler made of one message.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// A dependency failed; the message is retried (then dead-lettered).
    #[error("transient: {0}")]
    Retry(String),
}

impl From<crate::store::StoreError> for HandlerError {
    fn from(e: crate::store::StoreError) -> Self {
        HandlerError::Retry(e.to_string())
    }
}
impl From<crate::ports::PublishError> for HandlerError {
    fn from(e: crate::ports::PublishError) -> Self {
        HandlerError::Retry(e.to_string())
    }
}

/// The part of an EventBridge event the handlers read.
#[derive(Debug, Deserialize)]
pub struct BusEvent {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub detail: serde_json::Value,
}

/// The EventBridge event that EventBridge would put on a target queue.
pub fn eventbridge_json(event: &DomainEvent, source: &str, region: &str) -> serde_json::Value {
    serde_json::json!({
        "version": "0",
        "id": event.event_id,
        "detail-type": event.type_name(),
        "source": source,
        "account": "000000000000",
        "time": event.occurred_at.to_rfc3339().replace(".000Z", "Z"),
        "region": region,
        "resources": [],
        "detail": event,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("message body is not an EventBridge event: {0}")]
    NotAnEvent(String),
    #[error("{detail_type} from {from} does not match its schema: {error}")]
    BadDetail {
        detail_type: String,
        from: String,
        error: String,
    },
}

impl BusEvent {
    /// Reads an SQS message body (an EventBridge event).
    pub fn parse(body: &str) -> Result<Self, DecodeError> {
        serde_json::from_str(body).map_err(|e| DecodeError::NotAnEvent(e.to_string()))
    }

    /// The OMS domain event inside, if the OMS sent it.
    pub fn domain_event(&self) -> Result<DomainEvent, DecodeError> {
        if self.source != crate::events::OMS_SOURCE {
            return Err(self.bad("not sent by the OMS".into()));
        }
        serde_json::from_value(self.detail.clone()).map_err(|e| self.bad(e.to_string()))
    }

    /// The OMS domain event inside; anything else is logged and skipped
    /// (a handler of OMS events has nothing to do with it).
    pub fn own_event(&self) -> Option<DomainEvent> {
        self.domain_event()
            .map_err(
                |e| tracing::error!(event_id = %self.id, error = %e, "not an OMS event; ignored"),
            )
            .ok()
    }

    /// A partner's payload inside.
    pub fn partner_detail<T: serde::de::DeserializeOwned>(&self) -> Result<T, DecodeError> {
        serde_json::from_value(self.detail.clone()).map_err(|e| self.bad(e.to_string()))
    }

    /// The `orderId` of the detail, when there is a readable one.
    pub fn order_id(&self) -> Option<crate::ids::OrderId> {
        self.detail
            .get("orderId")
            .and_then(|v| v.as_str())
            .and_then(|s| crate::ids::OrderId::parse(s).ok())
    }

    fn bad(&self, error: String) -> DecodeError {
        DecodeError::BadDetail {
            detail_type: self.detail_type.clone(),
            from: self.source.clone(),
            error,
        }
    }
}

/// Runs `handle` on every message of the batch concurrently and reports the
/// ones to retry. Messages that are not EventBridge events at all are
/// reported too, so that after [`crate::wiring::MAX_RECEIVES`] receives they
/// land in the dead-letter queue.
pub async fn process_batch<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(BusEvent) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
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
