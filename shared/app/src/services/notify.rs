//! Notifications: renders `CustomerNotificationRequested` (see
//! `oms_domain::notice`) and hands the message to a sender (email, SMS,
//! push…), a port.

use crate::change::StepError;
use crate::inbound::BusEvent;
use oms_domain::events::EventData;
use oms_domain::ids::OrderId;
use serde::Serialize;
use tracing::instrument;

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

/// Sends a message to a customer.
#[async_trait::async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, message: &Message) -> Result<(), String>;
}

/// Renders and sends the notification an OMS event asks for; other events
/// are ignored.
#[instrument(skip_all, fields(event_id = %event.id))]
pub async fn notify(sender: &dyn Sender, event: BusEvent) -> Result<(), StepError> {
    let Some(ev) = event.own_event() else {
        return Ok(());
    };
    let EventData::CustomerNotificationRequested {
        customer_id,
        email,
        notice,
    } = ev.data
    else {
        return Ok(());
    };
    let (subject, body) = notice.render(&ev.order_id);
    let message = Message {
        id: ev.event_id,
        order_id: ev.order_id,
        template_id: notice.template_id().to_owned(),
        to: email.unwrap_or_else(|| format!("customer:{customer_id}")),
        subject,
        body,
    };
    sender.send(&message).await.map_err(StepError::Retry)
}
