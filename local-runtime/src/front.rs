//! The HTTP front: behaves like API Gateway's HTTP API in front of the
//! function handlers. It matches the route from [`oms_app::wiring::ROUTES`],
//! builds the `lambda_http` request (path parameters, request context with
//! a request id) and returns the function's response as it is.

use crate::functions::HttpFn;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request as AxumRequest, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use oms_app::wiring::{Function, match_route};
use oms_aws::http::{ApiError, error_response, json, no_route};
use oms_embedded::bus::Bus;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest body the front accepts (API Gateway's own limit is 10 MB; the
/// functions refuse far smaller bodies with their own error).
const FRONT_BODY_LIMIT: usize = 1024 * 1024;

mod put_events {
    //! EventBridge's `PutEvents` (JSON 1.1 protocol), so partners and
    //! `aws events put-events --endpoint-url http://127.0.0.1:3000` reach
    //! the embedded bus exactly as they reach AWS.

    use axum::response::{IntoResponse, Response};
    use lambda_http::http::{StatusCode, header};
    use oms_embedded::bus::Bus;
    use serde::Deserialize;
    use serde_json::{Value, json};

    /// `PutEvents` takes at most 10 entries.
    const MAX_ENTRIES: usize = 10;

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Request {
        entries: Vec<Entry>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        source: Option<String>,
        detail_type: Option<String>,
        detail: Option<String>,
        event_bus_name: Option<String>,
        #[serde(default)]
        resources: Vec<String>,
    }

    fn answer(status: StatusCode, body: Value) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, "application/x-amz-json-1.1")],
            body.to_string(),
        )
            .into_response()
    }

    fn validation(message: &str) -> Response {
        answer(
            StatusCode::BAD_REQUEST,
            json!({"__type": "ValidationException", "message": message}),
        )
    }

    pub fn handle(bus: &Bus, bus_name: &str, body: &[u8]) -> Response {
        let request: Request = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => return validation(&format!("malformed PutEvents request: {e}")),
        };
        if request.entries.is_empty() || request.entries.len() > MAX_ENTRIES {
            return validation("Entries must hold 1 to 10 entries");
        }
        let mut failed = 0;
        let results: Vec<Value> = request
            .entries
            .into_iter()
            .map(|e| match accept(bus, bus_name, e) {
                Ok(id) => json!({"EventId": id}),
                Err(why) => {
                    failed += 1;
                    json!({"ErrorCode": "InvalidArgument", "ErrorMessage": why})
                }
            })
            .collect();
        answer(
            StatusCode::OK,
            json!({"FailedEntryCount": failed, "Entries": results}),
        )
    }

    fn accept(bus: &Bus, bus_name: &str, e: Entry) -> Result<String, String> {
        if let Some(name) = &e.event_bus_name {
            let ours = name == bus_name || name.ends_with(&format!(":event-bus/{bus_name}"));
            if !ours {
                return Err(format!("unknown event bus {name}; this bus is {bus_name}"));
            }
        }
        let source = e
            .source
            .filter(|s| !s.is_empty())
            .ok_or("Source is required")?;
        let detail_type = e
            .detail_type
            .filter(|s| !s.is_empty())
            .ok_or("DetailType is required")?;
        let detail: Value = serde_json::from_str(e.detail.as_deref().ok_or("Detail is required")?)
            .map_err(|_| "Detail is not valid JSON".to_owned())?;
        if !detail.is_object() {
            return Err("Detail must be a JSON object".into());
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let event = json!({
            "version": "0", "id": id, "detail-type": detail_type, "source": source,
            "account": "000000000000", "time": now, "region": "local",
            "resources": e.resources, "detail": detail,
        });
        let delivered = bus.put(&source, &detail_type, &event, &id);
        if delivered == 0 {
            tracing::warn!(%source, %detail_type, "no rule matched the event");
        }
        Ok(id)
    }
}

pub struct Front {
    pub handlers: HashMap<Function, HttpFn>,
    pub bus: Option<Arc<Bus>>,
    /// The name partners' `PutEvents` entries may give as `EventBusName`.
    pub bus_name: String,
    pub notifications: Arc<notifications::LogSender>,
    pub requests: AtomicU64,
}

pub fn router(front: Arc<Front>) -> axum::Router {
    axum::Router::new().fallback(serve).with_state(front)
}

fn is_put_events(req: &AxumRequest) -> bool {
    req.headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.ends_with(".PutEvents"))
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
        ("GET", "/openapi.json") => {
            return lambda_to_axum(json(StatusCode::OK, &oms_contracts::openapi::document()));
        }
        ("GET", "/_local/notifications") => {
            return lambda_to_axum(json(StatusCode::OK, &front.notifications.sent()));
        }
        ("POST", "/") if is_put_events(&req) => {
            let Some(bus) = &front.bus else {
                return lambda_to_axum(error_response(ApiError::not_found(
                    "PutEvents is served in embedded mode only",
                )));
            };
            let bytes = to_bytes(req.into_body(), FRONT_BODY_LIMIT)
                .await
                .unwrap_or_default();
            return put_events::handle(bus, &front.bus_name, &bytes);
        }
        _ => {}
    }
    let Some((route, params)) = match_route(&method, &path) else {
        return lambda_to_axum(error_response(no_route(&method, &path)));
    };
    let Some(handler) = front.handlers.get(&route.function) else {
        return lambda_to_axum(error_response(ApiError::not_found(
            "no function serves this route",
        )));
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FRONT_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(
                413,
                "PAYLOAD_TOO_LARGE",
                format!("the request body exceeds {FRONT_BODY_LIMIT} bytes"),
            );
            return lambda_to_axum(error_response(e));
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
