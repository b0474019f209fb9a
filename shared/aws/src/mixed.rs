//! One Lambda function with two triggers (an HTTP API route and an SQS
//! queue): the payload's shape says which handler runs.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Body, Context, Error, LambdaEvent, Request, Response};
use serde_json::Value;
use std::future::Future;

/// Runs `sqs` for an SQS batch and `http` for an API Gateway request.
pub async fn dispatch<H, HF, Q, QF>(
    payload: Value,
    context: Context,
    http: H,
    sqs: Q,
) -> Result<Value, Error>
where
    H: Fn(Request) -> HF + Send,
    HF: Future<Output = Result<Response<Body>, Error>> + Send,
    Q: FnOnce(SqsEvent) -> QF,
    QF: Future<Output = Result<SqsBatchResponse, Error>>,
{
    if payload.get("Records").is_some() {
        let batch: SqsEvent = serde_json::from_value(payload)?;
        return Ok(serde_json::to_value(sqs(batch).await?)?);
    }
    let request: LambdaRequest = serde_json::from_value(payload)?;
    let adapter = lambda_http::Adapter::from(lambda_http::service_fn(http));
    let response = adapter.oneshot(LambdaEvent::new(request, context)).await?;
    Ok(serde_json::to_value(response)?)
}
