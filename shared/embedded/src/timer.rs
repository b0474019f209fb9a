//! The scheduler port in process: a timer of the runtime publishes the
//! event when it is due, playing EventBridge Scheduler / a delayed SQS
//! message.

use oms_app::ports::{Clock, EventPublisher, PublishError, Scheduler};
use oms_domain::events::DomainEvent;
use oms_domain::time::Timestamp;
use std::sync::Arc;

pub struct LocalTimer {
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn Clock>,
}

impl LocalTimer {
    pub fn new(events: Arc<dyn EventPublisher>, clock: Arc<dyn Clock>) -> Self {
        Self { events, clock }
    }
}

#[async_trait::async_trait]
impl Scheduler for LocalTimer {
    async fn schedule(&self, due: Timestamp, event: DomainEvent) -> Result<(), PublishError> {
        let wait = due.millis().saturating_sub(self.clock.now().millis());
        let events = self.events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            if let Err(e) = events.publish(&[event]).await {
                tracing::error!(error = %e, "timer event not published");
            }
        });
        Ok(())
    }
}
