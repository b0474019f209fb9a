//! The function handlers, as the runtime calls them: the same `handle`
//! functions the Lambda bootstraps run.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::BoxFuture;
use lambda_http::{Body, Request, Response};
use oms::Deps;
use oms::wiring::Function;
use std::sync::Arc;

pub type Error = lambda_http::Error;
pub type HttpFn =
    Arc<dyn Fn(Request) -> BoxFuture<'static, Result<Response<Body>, Error>> + Send + Sync>;
pub type SqsFn =
    Arc<dyn Fn(SqsEvent) -> BoxFuture<'static, Result<SqsBatchResponse, Error>> + Send + Sync>;

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
        | Function::Routing
        | Function::Payment
        | Function::Shipment
        | Function::Notifications => return None,
    })
}

/// The SQS handler of a function that consumes a queue.
pub fn sqs(function: Function, locals: &Locals) -> Option<SqsFn> {
    let deps = &locals.deps;
    Some(match function {
        Function::Reservation => handler!(deps, reservation::handle),
        Function::Routing => handler!(deps, routing::handle),
        Function::Payment => handler!(deps, payment::handle),
        Function::Shipment => handler!(deps, shipment::handle),
        Function::Returns => handler!(deps, returns::handle_sqs),
        Function::Notifications => {
            let sender = locals.sender.clone();
            Arc::new(move |input| {
                let sender = sender.clone();
                Box::pin(async move { notifications::handle(sender.as_ref(), input).await })
            })
        }
        Function::OrderIntake | Function::Inventory => return None,
    })
}
