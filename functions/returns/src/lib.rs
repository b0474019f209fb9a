//! returns: `POST /orders/{orderId}/returns` authorises a return (an RMA)
//! of delivered units not already returned; `ReturnReceived` (from
//! `partner.wms`) puts resellable units back in stock where they shipped
//! from and refunds the returned value, once.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, Response};
use oms_app::Deps;
use oms_app::services::facts;
use oms_app::services::returns::{self, ReturnFailure};
use oms_app::wiring::Function;
use oms_aws::http::{
    ApiError, caller, idempotency_key, json, no_route, parse_body, respond, segments,
};
use oms_domain::ids::OrderId;
use oms_domain::order::ReturnError;
use oms_domain::validation::ReturnRequest;
use tracing::instrument;

#[instrument(skip_all, fields(method = %req.method(), path = %req.uri().path()))]
pub async fn handle_http(deps: &Deps, req: Request) -> Result<Response<Body>, Error> {
    let path = segments(&req);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let result = match (req.method(), path.as_slice()) {
        (&Method::POST, ["orders", id, "returns"]) => authorize(deps, id, &req).await,
        _ => Err(no_route(req.method().as_str(), req.uri().path())),
    };
    Ok(respond(result))
}

#[instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle_sqs(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    let on_event = |ev| facts::on_event(deps, Function::Returns, ev);
    Ok(oms_aws::sqs::process_batch(event, on_event).await)
}

async fn authorize(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let not_found = || ApiError::not_found(format!("order {id} does not exist"));
    let order_id = OrderId::parse(id).map_err(|_| not_found())?;
    let key = idempotency_key(req)?;
    let (lines, reason) = parse_body::<ReturnRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    let done = match returns::authorize(deps, &caller, &order_id, key.as_ref(), lines, reason).await
    {
        Ok(done) => done,
        Err(ReturnFailure::Refused(e @ ReturnError::NotDelivered(_))) => {
            return Err(ApiError::conflict("NOT_RETURNABLE", e.to_string()));
        }
        Err(ReturnFailure::Refused(ReturnError::Invalid(e))) => return Err(ApiError::invalid(e)),
        Err(ReturnFailure::Refused(e @ ReturnError::Exists(_))) => {
            return Err(ApiError::unavailable(e));
        }
        Err(ReturnFailure::NotFound) => return Err(not_found()),
        Err(ReturnFailure::Unavailable(e)) => return Err(ApiError::unavailable(e)),
    };
    let status = if done.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let rma = done
        .order
        .returns
        .iter()
        .find(|r| r.rma_id == done.rma_id)
        .map(|r| r.to_doc());
    let body = serde_json::json!({ "orderId": done.order.order_id, "return": rma });
    Ok(json(status, &body))
}
