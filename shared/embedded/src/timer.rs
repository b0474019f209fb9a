//! The scheduler port in process: a timer of the runtime puts the event,
//! when it is due, straight on the queue of the function that takes it —
//! as an SQS delay message does on AWS — never through the bus.

use crate::bus::Bus;
use oms_app::inbound::eventbridge_json;
use oms_app::ports::{Clock, PublishError, Scheduler};
use oms_domain::events::{DomainEvent, OMS_SOURCE};
use oms_domain::time::Timestamp;
use std::sync::Arc;

pub struct LocalTimer {
    bus: Arc<Bus>,
    clock: Arc<dyn Clock>,
}

impl LocalTimer {
    pub fn new(bus: Arc<Bus>, clock: Arc<dyn Clock>) -> Self {
        Self { bus, clock }
    }
}

#[async_trait::async_trait]
impl Scheduler for LocalTimer {
    async fn schedule(&self, due: Timestamp, event: DomainEvent) -> Result<(), PublishError> {
        let queue = oms_app::wiring::timer_queue(event.type_name()).ok_or_else(|| {
            PublishError(format!("no queue takes the timer {}", event.type_name()))
        })?;
        let wait = due.millis().saturating_sub(self.clock.now().millis());
        let bus = self.bus.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            let json = eventbridge_json(&event, OMS_SOURCE, "local");
            if !bus.send_to_queue(queue, &json, &event.event_id) {
                tracing::error!(%queue, "timer event not delivered");
            }
        });
        Ok(())
    }
}
