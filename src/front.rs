//! The HTTP front: behaves like API Gateway's HTTP API in front of the
//! function handlers. It matches the route from [`oms::wiring::ROUTES`],
//! builds the `lambda_http` request (path parameters, request context with
//! a request id) and returns the function's response as it is.

use crate::bus::Bus;
use crate::functions::HttpFn;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request as AxumRequest, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use oms::http::{ApiError, json};
use oms::wiring::{Function, match_route};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest body the front accepts (API Gateway's own limit is 10 MB; the
/// functions refuse far smaller bodies with their own error).
const FRONT_BODY_LIMIT: usize = 1024 * 1024;

pub struct Front {
    pub handlers: HashMap<Function, HttpFn>,
    pub bus: Option<Arc<Bus>>,
    pub requests: AtomicU64,
}

pub fn router(front: Arc<Front>) -> axum::Router {
    axum::Router::new().fallback(serve).with_state(front)
}

fn lambda_to_axum(resp: lambda_http::Response<Body>) -> AxumResponse {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Text(t) => t.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    AxumResponse::from_parts(parts, AxumBody::from(bytes))
}

async fn serve(State(front): State<Arc<Front>>, req: AxumRequest) -> AxumResponse {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    match (method.as_str(), path.as_str()) {
        ("GET", "/health") => {
            return lambda_to_axum(json(StatusCode::OK, &serde_json::json!({"status": "ok"})));
        }
        ("GET", "/_local/bus") if front.bus.is_some() => {
            let stats = front.bus.as_ref().map(|b| b.stats());
            return lambda_to_axum(json(StatusCode::OK, &stats));
        }
        ("GET", "/_local/dead-letters") if front.bus.is_some() => {
            let dead = front.bus.as_ref().map(|b| b.dead_letters());
            return lambda_to_axum(json(StatusCode::OK, &dead));
        }
        _ => {}
    }
    let Some((route, params)) = match_route(&method, &path) else {
        return lambda_to_axum(ApiError::no_route(&method, &path).into_response());
    };
    let Some(handler) = front.handlers.get(&route.function) else {
        return lambda_to_axum(
            ApiError::not_found("no function serves this route").into_response(),
        );
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FRONT_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("the request body exceeds {FRONT_BODY_LIMIT} bytes"),
            );
            return lambda_to_axum(e.into_response());
        }
    };
    let n = front.requests.fetch_add(1, Ordering::Relaxed);
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.request_id = Some(format!("local-{n}"));
    ctx.route_key = Some(format!("{} {}", route.method, route.path));
    ctx.stage = Some("$default".into());
    ctx.http.method = parts.method.clone();
    ctx.http.path = Some(path.clone());
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    };
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let request = lambda_http::Request::from_parts(parts, body)
        .with_path_parameters(params.into_iter().collect::<HashMap<_, _>>())
        .with_query_string_parameters(query)
        .with_request_context(RequestContext::ApiGatewayV2(ctx));
    match handler(request).await {
        Ok(resp) => lambda_to_axum(resp),
        Err(e) => {
            // A handler error is what API Gateway shows as a 500.
            tracing::error!(error = %e, route = route.path, "function failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
