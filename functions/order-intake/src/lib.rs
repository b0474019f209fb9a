//! order-intake: `POST /orders`, `GET /orders/{orderId}`.
//!
//! Validates, dedupes (by `Idempotency-Key` and by channel + `externalId`,
//! both claimed in the same commit as the order) and persists the order,
//! then publishes `OrderPlaced`.

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Error, Request, Response};
use oms::Deps;
use oms::http::{ApiError, json, parse_body, respond, segments};
use oms::ids::{IdempotencyKey, OrderId};
use oms::order::Order;
use oms::repo::{Claim, Created};
use oms::validation::{FieldError, PlaceOrderRequest};
use sha2::{Digest, Sha256};

/// How long an `Idempotency-Key` is remembered (external ids never expire).
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;

pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, Error> {
    let path = segments(&req);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let result = match (req.method(), path.as_slice()) {
        (&Method::POST, ["orders"]) => place(deps, &req).await,
        (&Method::GET, ["orders", id]) => get(deps, id).await,
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
    let (mut order, events) = Order::place(deps.ids.order_id(), new, &cause);
    match deps.orders().create(&mut order, &claims).await? {
        Created::New => {
            tracing::info!(order_id = %order.order_id, "order placed");
            deps.events
                .publish(&events)
                .await
                .map_err(ApiError::unavailable)?;
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
            if existing.status == oms::order::OrderStatus::Placed {
                deps.events
                    .publish(&existing.current_events())
                    .await
                    .map_err(ApiError::unavailable)?;
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
