//! returns: `POST /orders/{orderId}/returns` authorises a return (an RMA)
//! of delivered units not already returned; `ReturnReceived` (from
//! `partner.wms`) puts resellable units back in stock where they shipped
//! from and refunds the returned value, once.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, Response};
use oms::Deps;
use oms::handling::{ChangeError, apply_fact, change_order, partner_fact, republish_if_made_by};
use oms::http::{ApiError, json, parse_body, respond, segments};
use oms::ids::OrderId;
use oms::order::{ReturnAuth, ReturnError};
use oms::partner::ReturnReceived;
use oms::sqs::{BusEvent, HandlerError, process_batch};
use oms::validation::{FieldError, ReturnRequest};
use sha2::{Digest, Sha256};

pub async fn handle_http(deps: &Deps, req: Request) -> Result<Response<Body>, Error> {
    let path = segments(&req);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let result = match (req.method(), path.as_slice()) {
        (&Method::POST, ["orders", id, "returns"]) => authorize(deps, id, &req).await,
        _ => Err(ApiError::no_route(req.method().as_str(), req.uri().path())),
    };
    Ok(respond(result))
}

pub async fn handle_sqs(deps: &Deps, event: SqsEvent) -> Result<SqsBatchResponse, Error> {
    Ok(process_batch(event, |ev| on_event(deps, ev)).await)
}

/// An RMA id: derived from the `Idempotency-Key` when there is one, so a
/// replayed request finds the same return.
fn rma_id(deps: &Deps, order_id: &OrderId, key: Option<&str>) -> String {
    match key {
        Some(k) => {
            let digest = Sha256::digest(format!("{order_id}/{k}").as_bytes());
            let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("rma_{hex}")
        }
        None => format!("rma_{}", deps.ids.token()),
    }
}

async fn authorize(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let not_found = || ApiError::not_found(format!("order {id} does not exist"));
    let order_id = OrderId::parse(id).map_err(|_| not_found())?;
    let key = oms::http::header(req, "idempotency-key");
    if let Some(k) = key {
        oms::ids::IdempotencyKey::parse(k)
            .map_err(|e| ApiError::invalid(FieldError::new("Idempotency-Key", e.0)))?;
    }
    let (lines, reason) = parse_body::<ReturnRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    let rma = rma_id(deps, &order_id, key);
    let trigger = format!("return:{rma}");
    let result = change_order(deps, &order_id, "returns", &trigger, |order, cause| {
        order.authorize_return(rma.clone(), lines.clone(), reason.clone(), cause)
    })
    .await;
    let (status, order) = match result {
        Ok(order) => (StatusCode::CREATED, order),
        Err(ChangeError::Denied(ReturnError::Exists(_))) => {
            let order = deps.orders().get(&order_id).await?.ok_or_else(not_found)?;
            // A replay: the first attempt may have committed without publishing.
            republish_if_made_by(deps, &order, &trigger)
                .await
                .map_err(ApiError::unavailable)?;
            (StatusCode::OK, order)
        }
        Err(ChangeError::Denied(e @ ReturnError::NotDelivered(_))) => {
            return Err(ApiError::conflict("NOT_RETURNABLE", e.to_string()));
        }
        Err(ChangeError::Denied(ReturnError::Invalid(e))) => return Err(ApiError::invalid(e)),
        Err(ChangeError::NotFound) => return Err(not_found()),
        Err(ChangeError::Store(e)) => return Err(e.into()),
    };
    let rma: Option<&ReturnAuth> = order.returns.iter().find(|r| r.rma_id == rma);
    let body = serde_json::json!({ "orderId": order.order_id, "return": rma });
    Ok(json(status, &body))
}

pub async fn on_event(deps: &Deps, event: BusEvent) -> Result<(), HandlerError> {
    if event.detail_type != "ReturnReceived" {
        return Ok(());
    }
    let Some(received) = partner_fact::<ReturnReceived>(deps, &event).await? else {
        return Ok(());
    };
    let actor = format!("returns:{}", event.source);
    apply_fact(deps, &event, &received.order_id, &actor, |order, cause| {
        order.receive_return(&received.return_id, &received.lines, cause)
    })
    .await
}
