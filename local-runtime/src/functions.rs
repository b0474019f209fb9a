//! The function handlers, as the runtime calls them: the same `handle`
//! functions the Lambda bootstraps run, fed the same event shapes.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use futures::future::BoxFuture;
use lambda_http::{Body, Request, Response};
use oms_app::Deps;
use oms_app::wiring::Function;
use oms_embedded::bus::{Consumer, Message};
use std::collections::HashMap;
use std::sync::Arc;

pub type Error = lambda_http::Error;
pub type HttpFn =
    Arc<dyn Fn(Request) -> BoxFuture<'static, Result<Response<Body>, Error>> + Send + Sync>;
pub type SqsFn = Arc<
    dyn Fn(SqsEvent) -> BoxFuture<'static, Result<aws_lambda_events::sqs::SqsBatchResponse, Error>>
        + Send
        + Sync,
>;

/// What the functions are given locally.
pub struct Locals {
    pub deps: Arc<Deps>,
    /// The notifications function's sender (records what it sent).
    pub sender: Arc<notifications::LogSender>,
}

macro_rules! handler {
    ($deps:expr, $f:path) => {{
        let deps = $deps.clone();
        Arc::new(move |input| {
            let deps = deps.clone();
            Box::pin(async move { $f(&deps, input).await })
        })
    }};
}

/// The HTTP handler of a function that serves API routes.
pub fn http(function: Function, locals: &Locals) -> Option<HttpFn> {
    let deps = &locals.deps;
    Some(match function {
        Function::OrderIntake => handler!(deps, order_intake::handle),
        Function::Inventory => handler!(deps, inventory::handle),
        Function::Returns => handler!(deps, returns::handle_http),
        Function::Reservation
        | Function::Payment
        | Function::Shipment
        | Function::Notifications
        | Function::Relay
        | Function::Sla
        | Function::Marketplace => return None,
    })
}

/// The SQS handler of a function that consumes a queue.
pub fn sqs(function: Function, locals: &Locals) -> Option<SqsFn> {
    let deps = &locals.deps;
    Some(match function {
        Function::Reservation => handler!(deps, reservation::handle),
        Function::Payment => handler!(deps, payment::handle),
        Function::Shipment => handler!(deps, shipment::handle),
        Function::Returns => handler!(deps, returns::handle_sqs),
        Function::Marketplace => handler!(deps, marketplace::handle),
        Function::Notifications => {
            let sender = locals.sender.clone();
            Arc::new(move |input| {
                let sender = sender.clone();
                Box::pin(async move { notifications::handle(sender.as_ref(), input).await })
            })
        }
        Function::OrderIntake | Function::Inventory | Function::Relay | Function::Sla => {
            return None;
        }
    })
}

/// Every function's SQS handler.
pub fn sqs_handlers(locals: &Locals) -> HashMap<Function, SqsFn> {
    Function::ALL
        .into_iter()
        .filter_map(|f| sqs(f, locals).map(|h| (f, h)))
        .collect()
}

/// Invokes a function on a batch as Lambda's SQS event source mapping does,
/// and answers the ids of the messages to deliver again: the ones the
/// function reported, or all of them if the invocation failed.
pub async fn invoke_batch(handler: &SqsFn, queue: &str, records: Vec<SqsMessage>) -> Vec<String> {
    let ids: Vec<String> = records
        .iter()
        .filter_map(|m| m.message_id.clone())
        .collect();
    let mut event = SqsEvent::default();
    event.records = records;
    match handler(event).await {
        Ok(resp) => resp
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect(),
        Err(e) => {
            tracing::error!(%queue, error = %e, "invocation failed");
            ids
        }
    }
}

/// An SQS record as Lambda hands it to a function.
pub fn sqs_record(
    queue: &str,
    id: &str,
    receipt: &str,
    body: &str,
    attributes: HashMap<String, String>,
) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.to_owned());
    m.receipt_handle = Some(receipt.to_owned());
    m.body = Some(body.to_owned());
    m.attributes = attributes;
    m.event_source = Some("aws:sqs".into());
    m.event_source_arn = Some(format!("arn:aws:sqs:local:000000000000:{queue}"));
    m.aws_region = Some("local".into());
    m
}

/// The in-process bus's consumer for a function: its SQS handler.
pub fn bus_consumer(handler: SqsFn) -> Consumer {
    Arc::new(move |queue: &'static str, batch: Vec<Message>| {
        let handler = handler.clone();
        Box::pin(async move {
            let records = batch
                .iter()
                .map(|d| {
                    let attributes = HashMap::from([(
                        "ApproximateReceiveCount".to_owned(),
                        (d.receive_count + 1).to_string(),
                    )]);
                    sqs_record(queue, &d.id, &d.id, &d.body, attributes)
                })
                .collect();
            invoke_batch(&handler, queue, records).await
        })
    })
}
