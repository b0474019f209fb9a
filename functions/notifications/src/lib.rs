//! notifications: renders `CustomerNotificationRequested` and hands it to a
//! sender (`oms_app::services::notify`). The default sender writes the
//! message to the log; the recording one (local runs) also keeps the latest
//! messages for `GET /_local/notifications`.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
pub use oms_app::services::notify::{Message, Sender};
use std::collections::VecDeque;
use std::sync::Mutex;

/// How many messages the recording sender keeps (the oldest go first).
pub const KEPT: usize = 1000;

/// Writes messages to the log; the recording one also keeps the latest
/// [`KEPT`].
#[derive(Default)]
pub struct LogSender {
    kept: Option<Mutex<VecDeque<Message>>>,
}

impl LogSender {
    pub fn recording() -> Self {
        Self {
            kept: Some(Mutex::new(VecDeque::new())),
        }
    }

    /// The messages kept, oldest first.
    pub fn sent(&self) -> Vec<Message> {
        self.kept
            .as_ref()
            .and_then(|k| k.lock().ok().map(|m| m.iter().cloned().collect()))
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Sender for LogSender {
    async fn send(&self, m: &Message) -> Result<(), String> {
        tracing::info!(order_id = %m.order_id, template = %m.template_id, message_id = %m.id, "notification sent");
        if let Some(kept) = &self.kept {
            let mut kept = kept.lock().map_err(|e| e.to_string())?;
            if kept.len() == KEPT {
                kept.pop_front();
            }
            kept.push_back(m.clone());
        }
        Ok(())
    }
}

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(sender: &dyn Sender, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    let on_event = |ev| oms_app::services::notify::notify(sender, ev);
    Ok(oms_aws::sqs::process_batch(event, on_event).await)
}
