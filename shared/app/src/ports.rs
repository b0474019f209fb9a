//! Ports the handlers need besides storage ([`crate::store::Items`]).

use crate::events::DomainEvent;
use crate::ids::OrderId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not publish events: {0}")]
pub struct PublishError(pub String);

/// Publishes domain events to the bus (EventBridge, or the embedded bus).
#[async_trait::async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError>;
}

/// Mints ids, injected so tests can make them predictable.
pub trait IdGenerator: Send + Sync {
    fn order_id(&self) -> OrderId;
    /// A short random token for other ids (return authorisations, …).
    fn token(&self) -> String;
}

/// Time-ordered random ids (UUID v7), so ids sort by creation time.
pub struct UuidIds;

impl IdGenerator for UuidIds {
    fn order_id(&self) -> OrderId {
        OrderId::new_from_uuid(uuid::Uuid::now_v7())
    }
    fn token(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
    }
}

/// Delivers an event at a given time (the payment window's deadline).
/// On AWS a delayed SQS message; locally a timer of the runtime.
#[async_trait::async_trait]
pub trait Scheduler: Send + Sync {
    async fn schedule(
        &self,
        due: crate::time::Timestamp,
        event: DomainEvent,
    ) -> Result<(), PublishError>;
}

/// For processes that never schedule (notifications, admin).
pub struct NoScheduler;

#[async_trait::async_trait]
impl Scheduler for NoScheduler {
    async fn schedule(
        &self,
        _due: crate::time::Timestamp,
        event: DomainEvent,
    ) -> Result<(), PublishError> {
        Err(PublishError(format!(
            "no scheduler configured for {} (set OMS_TIMER_QUEUE_URL)",
            event.type_name()
        )))
    }
}
