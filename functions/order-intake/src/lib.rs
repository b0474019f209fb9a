//! order-intake: `POST /orders`, `GET /orders/{orderId}`,
//! `POST /orders/{orderId}/cancel`.
//!
//! Validates, dedupes (by `Idempotency-Key` and by channel + `externalId`,
//! both claimed in the same commit as the order) and persists the order,
//! publishes `OrderPlaced` and starts the payment window. Cancels: at once
//! before release to a warehouse, by asking the warehouse after, never
//! after shipment (that is a return).

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Error, Request, Response};
use oms::Deps;
use oms::events::{DomainEvent, EventData};
use oms::handling::{ChangeError, change_order};
use oms::http::{ApiError, json, parse_body, respond, segments};
use oms::ids::{IdempotencyKey, OrderId};
use oms::order::{CancelError, Order, OrderStatus};
use oms::repo::{Claim, Created};
use oms::time::Timestamp;
use oms::validation::{CancelRequest, FieldError, PlaceOrderRequest};
use sha2::{Digest, Sha256};

/// How long an `Idempotency-Key` is remembered (external ids never expire).
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;

pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, Error> {
    let path = segments(&req);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let result = match (req.method(), path.as_slice()) {
        (&Method::POST, ["orders"]) => place(deps, &req).await,
        (&Method::GET, ["orders", id]) => get(deps, id).await,
        (&Method::POST, ["orders", id, "cancel"]) => cancel(deps, id, &req).await,
        _ => Err(ApiError::no_route(req.method().as_str(), req.uri().path())),
    };
    Ok(respond(result))
}

async fn get(deps: &Deps, id: &str) -> Result<Response<Body>, ApiError> {
    let not_found = || ApiError::not_found(format!("order {id} does not exist"));
    let id = OrderId::parse(id).map_err(|_| not_found())?;
    let order = deps.orders().get(&id).await?.ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &order))
}

async fn place(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let key = match oms::http::header(req, "idempotency-key") {
        Some(k) => Some(
            IdempotencyKey::parse(k)
                .map_err(|e| ApiError::invalid(FieldError::new("Idempotency-Key", e.0)))?,
        ),
        None => None,
    };
    let request: PlaceOrderRequest = parse_body(req)?;
    let new = request.validate().map_err(ApiError::invalid)?;
    let fingerprint = fingerprint(&request);

    let now = deps.clock.now();
    let mut claims = Vec::new();
    if let Some(key) = &key {
        claims.push(Claim {
            scope: format!("key#{}", key.as_str()),
            fingerprint: fingerprint.clone(),
            expires_at: Some(now.millis() / 1000 + IDEMPOTENCY_TTL_SECS),
        });
    }
    if let Some(ext) = &new.external_id {
        claims.push(Claim {
            scope: format!("ext#{}#{}", new.channel, ext),
            fingerprint,
            expires_at: None,
        });
    }

    let trigger = request_id(req);
    let cause = deps.cause(&format!("order-intake:{}", new.channel), &trigger);
    let due = Timestamp::from_millis(now.millis() + deps.config.payment_window_ms);
    let (mut order, placed) = Order::place(deps.ids.order_id(), new, Some(due), &cause);
    match deps.orders().create(&mut order, &claims).await? {
        Created::New => {
            tracing::info!(order_id = %order.order_id, "order placed");
            deps.events
                .publish(&placed.events)
                .await
                .map_err(ApiError::unavailable)?;
            start_payment_window(deps, &order).await;
            Ok(order_response(StatusCode::CREATED, &order, false))
        }
        Created::Existing {
            order_id,
            same_request: true,
            ..
        } => {
            let existing = deps
                .orders()
                .get(&order_id)
                .await?
                .ok_or_else(|| ApiError::unavailable("claimed order not found"))?;
            // A replay after a failed publish must still get the order moving:
            // republish (same event ids) while nothing downstream has acted.
            if existing.status == OrderStatus::Placed && existing.history.len() == 1 {
                deps.events
                    .publish(&existing.current_events())
                    .await
                    .map_err(ApiError::unavailable)?;
                start_payment_window(deps, &existing).await;
            }
            Ok(order_response(StatusCode::OK, &existing, true))
        }
        Created::Existing {
            order_id, scope, ..
        } => {
            let what = if scope.starts_with("key#") {
                "this Idempotency-Key was used"
            } else {
                "this channel and externalId were used"
            };
            Err(ApiError::conflict(
                "IDEMPOTENCY_CONFLICT",
                format!("{what} for order {order_id} with a different body"),
            ))
        }
    }
}

/// Schedules `PaymentWindowExpired` at the order's payment deadline. A
/// failure is logged, not returned: the order is placed either way.
async fn start_payment_window(deps: &Deps, order: &Order) {
    let Some(due_at) = order.payment_due_at else {
        return;
    };
    let timer = DomainEvent {
        event_id: format!("{}.payment-window", order.order_id),
        order_id: order.order_id.clone(),
        occurred_at: order.created_at,
        data: EventData::PaymentWindowExpired { due_at },
    };
    if let Err(e) = deps.scheduler.schedule(due_at, timer).await {
        tracing::error!(order_id = %order.order_id, error = %e, "payment window not scheduled");
    }
}

async fn cancel(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let not_found = || ApiError::not_found(format!("order {id} does not exist"));
    let order_id = OrderId::parse(id).map_err(|_| not_found())?;
    let reason = if matches!(req.body(), Body::Empty) {
        CancelRequest::default()
    } else {
        parse_body::<CancelRequest>(req)?
    }
    .validate()
    .map_err(ApiError::invalid)?;
    let trigger = request_id(req);
    let result = change_order(
        deps,
        &order_id,
        "order-intake:cancel",
        &trigger,
        |order, cause| order.cancel(reason.clone(), cause),
    )
    .await;
    let order = match result {
        Ok(order) => order,
        Err(ChangeError::Denied(CancelError::AlreadyAsked)) => {
            let order = deps.orders().get(&order_id).await?.ok_or_else(not_found)?;
            // A retried cancel: the first attempt may have committed without
            // publishing. Its events, with the same ids, again.
            let last = order.history.last().map(|h| h.event.as_str());
            if matches!(last, Some("OrderCancelled" | "CancellationRequested")) {
                deps.events
                    .publish(&order.current_events())
                    .await
                    .map_err(ApiError::unavailable)?;
            }
            order
        }
        Err(ChangeError::Denied(e @ CancelError::Shipped)) => {
            return Err(ApiError::conflict("ALREADY_SHIPPED", e.to_string()));
        }
        Err(ChangeError::Denied(e @ CancelError::Closed(_))) => {
            return Err(ApiError::conflict("NOT_CANCELLABLE", e.to_string()));
        }
        Err(ChangeError::NotFound) => return Err(not_found()),
        Err(ChangeError::Store(e)) => return Err(e.into()),
    };
    // Cancelled now: 200. Waiting for the warehouse to confirm: 202.
    let status = if order.status == OrderStatus::CancelRequested {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &order))
}

fn order_response(status: StatusCode, order: &Order, replayed: bool) -> Response<Body> {
    let mut resp = json(status, order);
    if let Ok(v) = HeaderValue::from_str(&format!("/orders/{}", order.order_id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// Identifies a request body for idempotency: the hash of the parsed request
/// (field order fixed by the struct, so key order in the JSON does not matter).
fn fingerprint(request: &PlaceOrderRequest) -> String {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn request_id(req: &Request) -> String {
    use lambda_http::RequestExt;
    let from_context = match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    from_context
        .or_else(|| oms::http::header(req, "x-request-id").map(str::to_owned))
        .map(|id| format!("request:{id}"))
        .unwrap_or_else(|| "request".to_owned())
}
