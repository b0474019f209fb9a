//! notifications: renders `CustomerNotificationRequested` with its template
//! and hands it to a sender (email, SMS, push…). The sender is a port; the
//! default writes the message to the log.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::Error;
use oms::events::EventData;
use oms::ids::OrderId;
use oms::sqs::{BusEvent, HandlerError, process_batch};
use serde::Serialize;
use std::sync::Mutex;

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The event id, so a redelivered request is recognisable downstream.
    pub id: String,
    pub order_id: OrderId,
    pub template_id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), String>;
}

/// Writes messages to the log; the recording one (local runs) also keeps
/// them for `GET /_local/notifications`.
#[derive(Default)]
pub struct LogSender {
    kept: Option<Mutex<Vec<Message>>>,
}

impl LogSender {
    pub fn recording() -> Self {
        Self {
            kept: Some(Mutex::new(Vec::new())),
        }
    }

    pub fn sent(&self) -> Vec<Message> {
        self.kept
            .as_ref()
            .and_then(|k| k.lock().ok().map(|m| m.clone()))
            .unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Sender for LogSender {
    async fn send(&self, m: &Message) -> Result<(), String> {
        tracing::info!(to = %m.to, order_id = %m.order_id, template = %m.template_id, subject = %m.subject, "notification sent");
        if let Some(kept) = &self.kept {
            kept.lock().map_err(|e| e.to_string())?.push(m.clone());
        }
        Ok(())
    }
}

fn text(data: &serde_json::Value, key: &str) -> String {
    match data.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => "-".into(),
        Some(v) => v.to_string(),
    }
}

fn money(data: &serde_json::Value, key: &str) -> String {
    let minor = data.get(key).and_then(|v| v.as_i64()).unwrap_or(0);
    format!(
        "{} {}.{:02}",
        text(data, "currency"),
        minor / 100,
        (minor % 100).abs()
    )
}

/// Subject and body for a template; unknown templates get a generic text.
pub fn render(template: &str, order_id: &OrderId, data: &serde_json::Value) -> (String, String) {
    match template {
        "order-placed" => (
            format!("We received your order {order_id}"),
            format!("Thank you! Your order totals {}.", money(data, "total")),
        ),
        "order-shipped" => (
            format!("Your order {order_id} is on its way"),
            format!(
                "Shipment {} left with {}; tracking number {}.",
                text(data, "shipmentId"),
                text(data, "carrier"),
                text(data, "trackingNumber")
            ),
        ),
        "order-delivered" => (
            format!("Your order {order_id} was delivered"),
            "Enjoy! If something is not right, you can return it from your account.".into(),
        ),
        "order-cancelled" => (
            format!("Your order {order_id} was cancelled"),
            format!("Reason: {}.", text(data, "reason")),
        ),
        "order-rejected" => (
            format!("We could not accept your order {order_id}"),
            format!("{}.", text(data, "detail")),
        ),
        "refund-issued" => (
            format!("Refund for order {order_id}"),
            format!(
                "We refunded {} ({}).",
                money(data, "amount"),
                text(data, "reason")
            ),
        ),
        other => (
            format!("About your order {order_id}"),
            format!("Update: {other}."),
        ),
    }
}

pub async fn handle(sender: &dyn Sender, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(process_batch(event, |ev| on_event(sender, ev)).await)
}

pub async fn on_event(sender: &dyn Sender, event: BusEvent) -> Result<(), HandlerError> {
    let Some(ev) = event.own_event() else {
        return Ok(());
    };
    let EventData::CustomerNotificationRequested {
        template_id,
        customer_id,
        email,
        data,
    } = ev.data
    else {
        return Ok(());
    };
    let (subject, body) = render(&template_id, &ev.order_id, &data);
    let message = Message {
        id: ev.event_id,
        order_id: ev.order_id,
        template_id,
        to: email.unwrap_or_else(|| format!("customer:{customer_id}")),
        subject,
        body,
    };
    sender.send(&message).await.map_err(HandlerError::Retry)
}
