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
}

/// Time-ordered random ids (UUID v7), so ids sort by creation time.
pub struct UuidIds;

impl IdGenerator for UuidIds {
    fn order_id(&self) -> OrderId {
        OrderId::new_from_uuid(uuid::Uuid::now_v7())
    }
}
