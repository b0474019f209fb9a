//! order-intake: `POST /orders`, `GET /orders` (search), `GET /orders/{orderId}`,
//! `POST /orders/{orderId}/cancel`, `POST /orders/{orderId}/release`. The edge: parse the request, call the
//! intake service (`oms_app::services::intake`), map its answer.

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Error, Request, Response};
use oms_app::Deps;
use oms_app::services::intake::{
    self, CancelFailure, PlaceError, PlaceOrder, Placed, ReleaseFailure,
};
use oms_app::services::kpis;
use oms_app::services::operator::{self, Action, ActionFailure};
use oms_aws::http::{
    ApiError, caller, idempotency_key, json, no_route, parse_body, query_params, request_id,
    respond, segments,
};
use oms_domain::ids::OrderId;
use oms_domain::kpi::{ReportQuery, Window};
use oms_domain::order::{CancelError, Order, OrderStatus};
use oms_domain::search::Position;
use oms_domain::validation::FieldError;
use oms_domain::validation::{CancelRequest, PlaceOrderRequest, ReasonRequest, RefundRequest};
use tracing::instrument;

mod documents;

#[instrument(skip_all, fields(method = %req.method(), path = %req.uri().path(), request_id = %request_id(&req)))]
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, Error> {
    let path = segments(&req);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let result = route(deps, &req, &path).await;
    Ok(respond(result))
}

async fn route(deps: &Deps, req: &Request, path: &[&str]) -> Result<Response<Body>, ApiError> {
    match (req.method(), path) {
        (&Method::POST, ["orders"]) => place(deps, req).await,
        (&Method::GET, ["orders"]) => search(deps, req).await,
        (&Method::GET, ["kpis"]) => kpis(deps, req).await,
        (&Method::POST, ["promise"]) => {
            caller(req, &deps.config)?;
            let body = parse_body(req)?;
            match oms_app::services::promise::promise(deps, &body).await {
                Ok(p) => Ok(json(StatusCode::OK, &p)),
                Err(oms_app::services::promise::PromiseError::Invalid(e)) => {
                    Err(ApiError::invalid(e))
                }
                Err(oms_app::services::promise::PromiseError::Store(e)) => Err(e.into()),
            }
        }
        (&Method::GET, ["locations", location, "pick-lists"]) => {
            pick_lists(deps, location, req).await
        }
        (&Method::GET, ["risk-rules"]) => {
            caller(req, &deps.config)?;
            Ok(json(StatusCode::OK, &*deps.risk_rules().await?))
        }
        (&Method::PUT, ["risk-rules"]) => {
            caller(req, &deps.config)?;
            let rules: oms_domain::risk::RiskRules = parse_body(req)?;
            match intake::set_risk_rules(deps, rules).await {
                Ok(rules) => Ok(json(StatusCode::OK, &rules)),
                Err(PlaceError::Invalid(e)) => Err(ApiError::invalid(e)),
                Err(e) => Err(ApiError::unavailable(e)),
            }
        }
        (&Method::GET, ["routing-rules"]) => {
            caller(req, &deps.config)?;
            Ok(json(StatusCode::OK, &deps.routing().await?.rules))
        }
        (&Method::PUT, ["routing-rules"]) => {
            caller(req, &deps.config)?;
            let rules: oms_domain::routing::RoutingRules = parse_body(req)?;
            match intake::set_routing_rules(deps, rules).await {
                Ok(rules) => Ok(json(StatusCode::OK, &rules)),
                Err(PlaceError::Invalid(e)) => Err(ApiError::invalid(e)),
                Err(e) => Err(ApiError::unavailable(e)),
            }
        }
        (&Method::GET, ["reports", "top"]) => report(deps, req).await,
        (&Method::GET, ["reports", "orders.csv"]) => export(deps, req).await,
        (&Method::GET, ["orders", id]) => get(deps, id, req).await,
        (&Method::GET, ["orders", id, "invoices"]) => documents::of_order(deps, id, req).await,
        (&Method::GET, ["invoices", number]) => documents::one(deps, number, req).await,
        (&Method::POST, ["orders", id, "cancel"]) => cancel(deps, id, req).await,
        (&Method::PATCH, ["orders", id]) => edit(deps, id, req).await,
        (&Method::POST, ["orders", id, "lines", sku, "cancel"]) => {
            cancel_line(deps, id, sku, req).await
        }
        (&Method::POST, ["orders", id, "release"]) => release(deps, id, req).await,
        (&Method::POST, ["orders", id, "hold"]) => {
            let reason = parse_body::<ReasonRequest>(req)?.validate();
            let action = reason.map(|reason| Action::Hold { reason });
            act(deps, id, req, action).await
        }
        (&Method::POST, ["orders", id, "reroute"]) => {
            let reason = parse_body::<ReasonRequest>(req)?.validate();
            let action = reason.map(|reason| Action::Reroute { reason });
            act(deps, id, req, action).await
        }
        (&Method::POST, ["orders", id, "refunds"]) => {
            let action = parse_body::<RefundRequest>(req)?
                .validate()
                .map(Action::Refund);
            act(deps, id, req, action).await
        }
        _ => Err(no_route(req.method().as_str(), req.uri().path())),
    }
}

async fn search(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let query = query_params(req).validate().map_err(ApiError::invalid)?;
    let page = oms_app::services::search::orders(deps, &caller, query).await?;
    Ok(json(StatusCode::OK, &page))
}

/// `GET /locations/{locationId}/pick-lists?status=open&cursor=`.
async fn pick_lists(
    deps: &Deps,
    location: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    caller(req, &deps.config)?;
    let location =
        oms_aws::http::path_value(location, "locationId", oms_domain::ids::LocationId::parse)?;
    let mut after = None;
    for (name, value) in query_params(req).pairs {
        match name.as_str() {
            "status" if value == "open" => {}
            "status" => {
                return Err(ApiError::invalid(FieldError::new(
                    "status",
                    "only open pick lists are listed (status=open)",
                )));
            }
            "cursor" => {
                after = Some(Position::from_cursor(&value).ok_or_else(|| {
                    ApiError::invalid(FieldError::new(
                        "cursor",
                        "not a cursor this API handed out",
                    ))
                })?)
            }
            _ => {
                return Err(ApiError::invalid(FieldError::new(
                    name,
                    "unknown parameter",
                )));
            }
        }
    }
    let page = oms_app::services::search::pick_lists(deps, &location, after).await?;
    Ok(json(StatusCode::OK, &page))
}

async fn kpis(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    caller(req, &deps.config)?;
    let window = Window::parse_only(&query_params(req).pairs, deps.clock.now())
        .map_err(ApiError::invalid)?;
    Ok(json(StatusCode::OK, &kpis::kpis(deps, window).await?))
}

async fn report(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    caller(req, &deps.config)?;
    let query = ReportQuery::parse(&query_params(req).pairs, deps.clock.now())
        .map_err(ApiError::invalid)?;
    Ok(json(StatusCode::OK, &kpis::report(deps, query).await?))
}

/// `GET /reports/orders.csv?from=&to=&cursor=`: a page of order lines as
/// CSV; `oms-next-cursor` names the next page.
async fn export(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let pairs = query_params(req).pairs;
    let (cursor, window): (Vec<_>, Vec<_>) = pairs.into_iter().partition(|(n, _)| n == "cursor");
    let window = Window::parse_only(&window, deps.clock.now()).map_err(ApiError::invalid)?;
    let after = match cursor.first() {
        Some((_, c)) => Some(Position::from_cursor(c).ok_or_else(|| {
            ApiError::invalid(FieldError::new(
                "cursor",
                "not a cursor this API handed out",
            ))
        })?),
        None => None,
    };
    let (csv, next) = kpis::export(deps, &caller, window, after).await?;
    let mut resp = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/csv; charset=utf-8");
    if let Some(next) = next {
        resp = resp.header("oms-next-cursor", next);
    }
    resp.body(Body::Text(csv))
        .map_err(|e| ApiError::unavailable(e.to_string()))
}

fn order_id(id: &str) -> Result<OrderId, ApiError> {
    OrderId::parse(id).map_err(|_| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("order {id} does not exist"))
}

async fn get(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let order = intake::get(deps, &caller, &order_id(id)?)
        .await?
        .ok_or_else(|| not_found(id))?;
    Ok(json(StatusCode::OK, &order))
}

async fn place(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let key = idempotency_key(req)?;
    let body: PlaceOrderRequest = parse_body(req)?;
    let request = PlaceOrder {
        caller,
        body,
        key,
        trigger: request_id(req),
        order_id: None,
        answer: false,
    };
    match intake::place(deps, request).await {
        Ok(Placed::New(order)) => Ok(order_response(StatusCode::CREATED, &order, false)),
        Ok(Placed::Replayed(order)) => Ok(order_response(StatusCode::OK, &order, true)),
        Err(PlaceError::Invalid(e)) => Err(ApiError::invalid(e)),
        Err(PlaceError::Forbidden(e)) => Err(ApiError::new(403, "FORBIDDEN", e.0)),
        Err(e @ PlaceError::Conflict { .. }) => {
            Err(ApiError::conflict("IDEMPOTENCY_CONFLICT", e.to_string()))
        }
        Err(PlaceError::Pricing(e)) => Err(ApiError {
            field: Some(e.field.field),
            ..ApiError::new(422, e.code, e.field.message)
        }),
        Err(PlaceError::Unavailable(e)) => Err(ApiError::unavailable(e)),
    }
}

async fn cancel(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let order_id = order_id(id)?;
    let reason = if matches!(req.body(), Body::Empty) {
        CancelRequest::default()
    } else {
        parse_body::<CancelRequest>(req)?
    }
    .validate()
    .map_err(ApiError::invalid)?;
    let order = match intake::cancel(deps, &caller, &order_id, reason, &request_id(req)).await {
        Ok(order) => order,
        Err(CancelFailure::NotFound) => return Err(not_found(id)),
        Err(CancelFailure::Refused(e @ CancelError::Shipped)) => {
            return Err(ApiError::conflict("ALREADY_SHIPPED", e.to_string()));
        }
        Err(CancelFailure::Refused(e)) => {
            return Err(ApiError::conflict("NOT_CANCELLABLE", e.to_string()));
        }
        Err(CancelFailure::Unavailable(e)) => return Err(ApiError::unavailable(e)),
    };
    // Cancelled now: 200. Waiting for the warehouse to confirm: 202.
    let status = if order.status == OrderStatus::CancelRequested {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &order))
}

/// `PATCH /orders/{id}`: 200 with the edited order; 202 when it was
/// released and its locations are asked to stop it first.
async fn edit(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let order_id = order_id(id)?;
    let body: oms_domain::order::EditOrderRequest = parse_body(req)?;
    match intake::edit(deps, &caller, &order_id, body, &request_id(req)).await {
        Ok(order) if order.pending_edit.is_some() => Ok(json(StatusCode::ACCEPTED, &order)),
        Ok(order) => Ok(json(StatusCode::OK, &order)),
        Err(intake::EditFailure::NotFound) => Err(not_found(id)),
        Err(intake::EditFailure::Refused(e)) => {
            let code = e.code();
            let mut error = ApiError::conflict(code, e.to_string());
            if let oms_domain::order::EditError::NotPossible(r) = &e
                && !r.skus.is_empty()
            {
                error.field = Some("lines".into());
            }
            Err(error)
        }
        Err(intake::EditFailure::Invalid(PlaceError::Invalid(e))) => Err(ApiError::invalid(e)),
        Err(intake::EditFailure::Invalid(PlaceError::Forbidden(e))) => {
            Err(ApiError::new(403, "FORBIDDEN", e.0))
        }
        Err(intake::EditFailure::Invalid(PlaceError::Pricing(e))) => Err(ApiError {
            field: Some(e.field.field),
            ..ApiError::new(422, e.code, e.field.message)
        }),
        Err(intake::EditFailure::Invalid(e)) => Err(ApiError::unavailable(e)),
        Err(intake::EditFailure::Unavailable(e)) => Err(ApiError::unavailable(e)),
    }
}

async fn cancel_line(
    deps: &Deps,
    id: &str,
    sku: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let order_id = order_id(id)?;
    let sku = oms_aws::http::path_value(sku, "sku", oms_domain::ids::Sku::parse)?;
    let reason = if matches!(req.body(), Body::Empty) {
        CancelRequest::default()
    } else {
        parse_body::<CancelRequest>(req)?
    }
    .validate()
    .map_err(ApiError::invalid)?;
    match intake::cancel_line(deps, &caller, &order_id, &sku, reason, &request_id(req)).await {
        Ok(order) => Ok(json(StatusCode::OK, &order)),
        Err(intake::LineCancelFailure::NotFound) => Err(not_found(id)),
        Err(intake::LineCancelFailure::Refused(e)) => {
            Err(ApiError::conflict(e.code(), e.to_string()))
        }
        Err(intake::LineCancelFailure::Unavailable(e)) => Err(ApiError::unavailable(e)),
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

/// An operator's action on an order.
async fn act(
    deps: &Deps,
    id: &str,
    req: &Request,
    action: Result<Action, oms_domain::validation::FieldError>,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let order_id = order_id(id)?;
    let key = idempotency_key(req)?;
    let action = action.map_err(ApiError::invalid)?;
    match operator::act(
        deps,
        &caller,
        &order_id,
        action,
        key.as_ref(),
        &request_id(req),
    )
    .await
    {
        Ok(order) => Ok(json(StatusCode::OK, &order)),
        Err(ActionFailure::NotFound) => Err(not_found(id)),
        Err(ActionFailure::Refused(e)) => Err(ApiError::conflict(e.code(), e.to_string())),
        Err(ActionFailure::Unavailable(e)) => Err(ApiError::unavailable(e)),
    }
}

async fn release(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    match intake::release(deps, &caller, &order_id(id)?, &request_id(req)).await {
        Ok(order) => Ok(json(StatusCode::OK, &order)),
        Err(ReleaseFailure::NotFound) => Err(not_found(id)),
        Err(ReleaseFailure::Refused(e)) => Err(ApiError::conflict("NOT_HELD", e.to_string())),
        Err(ReleaseFailure::Unavailable(e)) => Err(ApiError::unavailable(e)),
    }
}
