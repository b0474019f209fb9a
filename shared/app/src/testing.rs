//! A publisher that records what it was given (tests, dry runs).

use crate::ports::{EventPublisher, PublishError};
use oms_domain::events::DomainEvent;
use std::sync::Mutex;

#[derive(Default)]
pub struct RecordingPublisher {
    pub events: Mutex<Vec<DomainEvent>>,
}

impl RecordingPublisher {
    pub fn taken(&self) -> Vec<DomainEvent> {
        self.events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl EventPublisher for RecordingPublisher {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError> {
        self.events
            .lock()
            .map_err(|_| PublishError("recorder poisoned".into()))?
            .extend_from_slice(events);
        Ok(())
    }
}
