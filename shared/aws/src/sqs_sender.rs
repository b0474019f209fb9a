//! The queue port on SQS: `SendMessageBatch`, ten messages a request,
//! retrying only the entries that failed.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use oms_app::ports::{PublishError, QueueMessage, QueueSender};
use std::collections::HashMap;
use std::time::Duration;

/// `SendMessageBatch` takes at most 10 entries.
const MAX_ENTRIES: usize = 10;
const ATTEMPTS: u32 = 4;

pub struct SqsSender {
    client: Client,
    /// Queue name → URL.
    urls: HashMap<String, String>,
}

impl SqsSender {
    pub fn new(client: Client, urls: HashMap<String, String>) -> Self {
        Self { client, urls }
    }

    /// `name=url,name=url` (what the template puts in `OMS_QUEUE_URLS`).
    pub fn parse_urls(s: &str) -> HashMap<String, String> {
        s.split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .collect()
    }

    async fn send_batch(
        &self,
        url: &str,
        mut pending: Vec<SendMessageBatchRequestEntry>,
    ) -> Result<(), PublishError> {
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            let out = match self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(pending.clone()))
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) if attempt + 1 < ATTEMPTS => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "SendMessageBatch failed; retrying");
                    continue;
                }
                Err(e) => {
                    return Err(PublishError(
                        aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
                    ));
                }
            };
            let failed: Vec<&str> = out.failed().iter().map(|f| f.id()).collect();
            if failed.is_empty() {
                return Ok(());
            }
            pending.retain(|e| failed.contains(&e.id()));
        }
        Err(PublishError(format!(
            "{} message(s) still failing after {ATTEMPTS} attempts",
            pending.len()
        )))
    }
}

#[async_trait::async_trait]
impl QueueSender for SqsSender {
    async fn send(&self, queue: &str, messages: &[QueueMessage]) -> Result<(), PublishError> {
        let url = self
            .urls
            .get(queue)
            .ok_or_else(|| PublishError(format!("no URL for queue {queue} (OMS_QUEUE_URLS)")))?;
        for chunk in messages.chunks(MAX_ENTRIES) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&m.body)
                        .delay_seconds(m.delay_secs as i32)
                        .build()
                        .map_err(|e| PublishError(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.send_batch(url, entries).await?;
        }
        Ok(())
    }
}
