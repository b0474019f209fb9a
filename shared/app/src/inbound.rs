//! Events as they arrive from the bus: the EventBridge envelope (`id`,
//! `source`, `detail-type`, `detail`), whoever sent it — the OMS itself or a
//! partner — and the same envelope built for an OMS event.

use oms_domain::events::{DomainEvent, OMS_SOURCE};
use oms_domain::ids::OrderId;
use serde::Deserialize;

/// The part of an EventBridge event the services read.
#[derive(Debug, Clone, Deserialize)]
pub struct BusEvent {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("message body is not an EventBridge event: {0}")]
    NotAnEvent(String),
    #[error("{detail_type} from {from} does not match its schema: {error}")]
    BadDetail {
        detail_type: String,
        from: String,
        error: String,
    },
}

/// The EventBridge event that EventBridge would deliver for an OMS event.
#[derive(serde::Serialize)]
struct Envelope<'a> {
    version: &'static str,
    id: &'a str,
    #[serde(rename = "detail-type")]
    detail_type: &'static str,
    source: &'a str,
    account: &'static str,
    time: String,
    region: &'a str,
    resources: [(); 0],
    detail: &'a DomainEvent,
}

/// The EventBridge event (JSON text) that EventBridge would deliver for an
/// OMS event: what the OMS's own queues carry.
pub fn eventbridge_json(event: &DomainEvent, source: &str, region: &str) -> String {
    let envelope = Envelope {
        version: "0",
        id: &event.event_id,
        detail_type: event.type_name(),
        source,
        account: "000000000000",
        time: event.occurred_at.to_rfc3339().replace(".000Z", "Z"),
        region,
        resources: [],
        detail: event,
    };
    // Our own plain structs always serialize.
    serde_json::to_string(&envelope).unwrap_or_default()
}

impl BusEvent {
    /// Reads a message body (an EventBridge event).
    pub fn parse(body: &str) -> Result<Self, DecodeError> {
        serde_json::from_str(body).map_err(|e| DecodeError::NotAnEvent(e.to_string()))
    }

    /// The OMS domain event inside, if the OMS sent it.
    pub fn domain_event(&self) -> Result<DomainEvent, DecodeError> {
        if self.source != OMS_SOURCE {
            return Err(self.bad("not sent by the OMS".into()));
        }
        DomainEvent::deserialize(&self.detail).map_err(|e| self.bad(e.to_string()))
    }

    /// The OMS domain event inside; anything else is logged and skipped
    /// (a consumer of OMS events has nothing to do with it).
    pub fn own_event(&self) -> Option<DomainEvent> {
        self.domain_event()
            .map_err(
                |e| tracing::error!(event_id = %self.id, error = %e, "not an OMS event; ignored"),
            )
            .ok()
    }

    /// The OMS event inside if it is of type `type_name`; any other event
    /// is not for the caller.
    pub fn own_event_of(&self, type_name: &str) -> Option<DomainEvent> {
        if self.detail_type != type_name {
            return None;
        }
        self.own_event().filter(|e| e.type_name() == type_name)
    }

    /// The `orderId` of the detail, when there is a readable one.
    pub fn order_id(&self) -> Option<OrderId> {
        self.detail
            .get("orderId")
            .and_then(|v| v.as_str())
            .and_then(|s| OrderId::parse(s).ok())
    }

    fn bad(&self, error: String) -> DecodeError {
        DecodeError::BadDetail {
            detail_type: self.detail_type.clone(),
            from: self.source.clone(),
            error,
        }
    }
}
