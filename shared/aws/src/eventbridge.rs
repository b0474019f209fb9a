//! The publisher port on EventBridge: `PutEvents` in batches of at most 10,
//! retrying only the entries that failed, with backoff.

use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use oms_app::ports::{EventPublisher, PublishError};
use oms_domain::events::{DomainEvent, OMS_SOURCE};
use std::time::Duration;

/// `PutEvents` takes at most 10 entries.
pub const MAX_ENTRIES: usize = 10;
const ATTEMPTS: u32 = 4;

pub struct EventBridgePublisher {
    client: Client,
    bus: String,
}

impl EventBridgePublisher {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }

    fn entry(&self, event: &DomainEvent) -> Result<PutEventsRequestEntry, PublishError> {
        let detail = serde_json::to_string(event).map_err(|e| PublishError(e.to_string()))?;
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(OMS_SOURCE)
            .detail_type(event.type_name())
            .detail(detail)
            .build())
    }

    async fn put_batch(&self, mut pending: Vec<PutEventsRequestEntry>) -> Result<(), PublishError> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            let out = match self
                .client
                .put_events()
                .set_entries(Some(pending.clone()))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if attempt + 1 < ATTEMPTS => {
                    tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&e), "PutEvents failed; retrying");
                    continue;
                }
                Err(e) => {
                    return Err(PublishError(
                        aws_sdk_eventbridge::error::DisplayErrorContext(e).to_string(),
                    ));
                }
            };
            if out.failed_entry_count == 0 {
                return Ok(());
            }
            // Result entries line up with request entries; keep the failed ones.
            pending = pending
                .into_iter()
                .zip(out.entries())
                .filter(|(_, r)| r.error_code().is_some())
                .map(|(e, _)| e)
                .collect();
        }
        Err(PublishError(format!(
            "{} event(s) still failing after {ATTEMPTS} attempts",
            pending.len()
        )))
    }
}

#[async_trait::async_trait]
impl EventPublisher for EventBridgePublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        for chunk in events.chunks(MAX_ENTRIES) {
            let entries = chunk
                .iter()
                .map(|e| self.entry(e))
                .collect::<Result<Vec<_>, _>>()?;
            self.put_batch(entries).await?;
        }
        Ok(())
    }
}
