//! The scheduler port on SQS: a delayed message (at most 15 minutes) on the
//! consumer's queue. A message that arrives before its due time is simply
//! scheduled again by the consumer, so any delay works.

use oms_app::ports::{Clock, PublishError, Scheduler};
use oms_domain::events::{DomainEvent, OMS_SOURCE};
use oms_domain::time::Timestamp;
use std::sync::Arc;

/// SQS's longest message delay.
pub const MAX_DELAY_SECS: u64 = 900;

pub struct SqsDelayScheduler {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    clock: Arc<dyn Clock>,
}

impl SqsDelayScheduler {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            queue_url,
            clock,
        }
    }
}

#[async_trait::async_trait]
impl Scheduler for SqsDelayScheduler {
    async fn schedule(&self, due: Timestamp, event: DomainEvent) -> Result<(), PublishError> {
        let wait_ms = due.millis().saturating_sub(self.clock.now().millis());
        let delay = (wait_ms.div_ceil(1000)).min(MAX_DELAY_SECS) as i32;
        let body = oms_app::inbound::eventbridge_json(&event, OMS_SOURCE, "aws");
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PublishError(aws_sdk_sqs::error::DisplayErrorContext(e).to_string()))
    }
}
