//! The ports the application needs besides storage ([`crate::store::Items`]):
//! a publisher, a scheduler, a clock and an id generator. Each has an AWS
//! adapter (`oms_aws`) and an embedded one (`oms_embedded`); the clock and
//! the ids are injected so that tests can pin them.

use oms_domain::events::DomainEvent;
use oms_domain::geo::GeoPoint;
use oms_domain::ids::OrderId;
use oms_domain::time::Timestamp;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not publish events: {0}")]
pub struct PublishError(pub String);

/// Publishes domain events to the bus (EventBridge, or the embedded bus).
#[async_trait::async_trait]
pub trait EventPublisher: Send + Sync {
    async fn publish(&self, events: &[DomainEvent]) -> Result<(), PublishError>;
}

/// A message for a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueMessage {
    /// Unique within one send.
    pub id: String,
    pub body: String,
    /// Seconds before it may be received (a timer), at most 900.
    pub delay_secs: u32,
}

/// Sends messages to the OMS's queues by name (SQS on AWS).
#[async_trait::async_trait]
pub trait QueueSender: Send + Sync {
    async fn send(&self, queue: &str, messages: &[QueueMessage]) -> Result<(), PublishError>;
}

/// Mints ids.
pub trait IdGenerator: Send + Sync {
    fn order_id(&self) -> OrderId;
    /// A short random token for other ids (return authorisations, …).
    fn token(&self) -> String;
}

/// Time-ordered random ids (UUID v7), so ids sort by creation time.
pub struct UuidIds;

impl IdGenerator for UuidIds {
    fn order_id(&self) -> OrderId {
        OrderId::minted(uuid::Uuid::now_v7().as_u128())
    }
    fn token(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
    }
}

/// Delivers an event at a given time (the payment window's deadline).
/// On AWS a delayed SQS message; locally a timer of the runtime.
#[async_trait::async_trait]
pub trait Scheduler: Send + Sync {
    async fn schedule(&self, due: Timestamp, event: DomainEvent) -> Result<(), PublishError>;
}

/// For processes that never schedule (notifications, admin).
pub struct NoScheduler;

#[async_trait::async_trait]
impl Scheduler for NoScheduler {
    async fn schedule(&self, _due: Timestamp, event: DomainEvent) -> Result<(), PublishError> {
        Err(PublishError(format!(
            "no scheduler configured for {} (set OMS_TIMER_QUEUE_URL)",
            event.type_name()
        )))
    }
}

/// The wall clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        Timestamp::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// A clock that shows what it is set to (tests, replays).
pub struct ManualClock(std::sync::atomic::AtomicU64);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::atomic::AtomicU64::new(at.millis()))
    }
    pub fn set(&self, at: Timestamp) {
        self.0
            .store(at.millis(), std::sync::atomic::Ordering::SeqCst);
    }
    pub fn advance_secs(&self, secs: u64) {
        self.0
            .fetch_add(secs * 1000, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// Where an address is, when it comes without coordinates.
#[async_trait::async_trait]
pub trait Geocoder: Send + Sync {
    /// A point for an address in `country` (ISO 3166 alpha-2) with this
    /// postal code, or `None` when it cannot be located.
    async fn locate(&self, country: &str, postal_code: Option<&str>) -> Option<GeoPoint>;
}

/// The bundled table of postal-region and country centres
/// ([`oms_domain::geo::centroids`]): no network, rough but enough to rank
/// locations by distance.
pub struct TableGeocoder;

#[async_trait::async_trait]
impl Geocoder for TableGeocoder {
    async fn locate(&self, country: &str, postal_code: Option<&str>) -> Option<GeoPoint> {
        oms_domain::geo::centroids::locate(country, postal_code).map(|(p, _)| p)
    }
}

/// Computes an order's tax (a tax service such as Avalara or Stripe Tax
/// could answer instead). Given the basket and the OMS's own tax table.
#[async_trait::async_trait]
pub trait TaxProvider: Send + Sync {
    async fn quote(
        &self,
        basket: &oms_domain::pricing::TaxBasket,
        table: &oms_domain::pricing::TaxRules,
    ) -> Result<oms_domain::pricing::TaxQuote, oms_domain::pricing::PricingError>;
}

/// The default: the tax table (`PUT /tax-rules`).
pub struct TaxTable;

#[async_trait::async_trait]
impl TaxProvider for TaxTable {
    async fn quote(
        &self,
        basket: &oms_domain::pricing::TaxBasket,
        table: &oms_domain::pricing::TaxRules,
    ) -> Result<oms_domain::pricing::TaxQuote, oms_domain::pricing::PricingError> {
        table.quote(basket)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_sort_by_creation_time() {
        let ids = UuidIds;
        let a = ids.order_id();
        let b = ids.order_id();
        assert!(a.as_str().starts_with("ord_") && a.as_str().len() == 36);
        assert!(a <= b);
    }
}
