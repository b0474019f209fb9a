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

/// The HTTP handler of a function that serves API routes.
pub fn http(function: Function, deps: Arc<Deps>) -> Option<HttpFn> {
    Some(match function {
        Function::OrderIntake => Arc::new(move |req| {
            let deps = deps.clone();
            Box::pin(async move { order_intake::handle(&deps, req).await })
        }),
        Function::Inventory => Arc::new(move |req| {
            let deps = deps.clone();
            Box::pin(async move { inventory::handle(&deps, req).await })
        }),
        Function::Reservation | Function::Routing => return None,
    })
}

/// The SQS handler of a function that consumes a queue.
pub fn sqs(function: Function, deps: Arc<Deps>) -> Option<SqsFn> {
    Some(match function {
        Function::Reservation => Arc::new(move |ev| {
            let deps = deps.clone();
            Box::pin(async move { reservation::handle(&deps, ev).await })
        }),
        Function::Routing => Arc::new(move |ev| {
            let deps = deps.clone();
            Box::pin(async move { routing::handle(&deps, ev).await })
        }),
        Function::OrderIntake | Function::Inventory => return None,
    })
}
