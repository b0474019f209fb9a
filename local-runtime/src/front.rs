//! The HTTP front: behaves like API Gateway's HTTP API in front of the
//! function handlers. It matches the route from [`oms_app::wiring::ROUTES`],
//! verifies the bearer token as the JWT authorizer does (401 without a
//! valid one, 403 when the route does not take the token's role), builds
//! the `lambda_http` request (path parameters, request context with a
//! request id and the token's claims) and returns the function's response
//! as it is.
//!
//! It also answers EventBridge's `PutEvents` (signed with a partner key,
//! AWS Signature Version 4), `GET /health`, `GET /openapi.json` and the
//! operator's `/_local` views.

use crate::auth::{Issuer, TokenError};
use crate::functions::HttpFn;
use crate::partners::PartnerKeys;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request as AxumRequest, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription,
    ApiGatewayV2httpRequestContext,
};
use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use oms_app::Deps;
use oms_app::wiring::{Function, match_route};
use oms_aws::http::{ApiError, error_response, json, no_route};
use oms_domain::access::Role;
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
    //! the embedded bus exactly as they reach AWS: signed with the
    //! partner's key, each entry's `source` one the key's kind may use.

    use crate::partners::PartnerKey;
    use axum::response::{IntoResponse, Response};
    use lambda_http::http::{StatusCode, header};
    use oms_app::Deps;
    use oms_app::inbound::BusEvent;
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

    pub fn answer(status: StatusCode, body: Value) -> Response {
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

    /// An entry's outcome: its event id, or EventBridge's error code and
    /// message (and, for a refused source, the event to record as refused).
    enum Outcome {
        Put(String),
        Failed(&'static str, String, Option<BusEvent>),
    }

    pub async fn handle(
        bus: &Bus,
        bus_name: &str,
        deps: &Deps,
        key: &PartnerKey,
        body: &[u8],
    ) -> Response {
        let request: Request = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => return validation(&format!("malformed PutEvents request: {e}")),
        };
        if request.entries.is_empty() || request.entries.len() > MAX_ENTRIES {
            return validation("Entries must hold 1 to 10 entries");
        }
        let mut failed = 0;
        let mut results = Vec::with_capacity(request.entries.len());
        for e in request.entries {
            match accept(bus, bus_name, deps, key, e).await {
                Outcome::Put(id) => results.push(json!({"EventId": id})),
                Outcome::Failed(code, message, refused) => {
                    failed += 1;
                    if let Some(event) = refused {
                        // Recorded in the order's history, never applied.
                        let result = oms_app::services::facts::record_refused_delivery(
                            deps, &event, &message,
                        )
                        .await;
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "refused entry not recorded");
                        }
                    }
                    results.push(json!({"ErrorCode": code, "ErrorMessage": message}));
                }
            }
        }
        answer(
            StatusCode::OK,
            json!({"FailedEntryCount": failed, "Entries": results}),
        )
    }

    async fn accept(bus: &Bus, bus_name: &str, deps: &Deps, key: &PartnerKey, e: Entry) -> Outcome {
        let invalid = |m: &str| Outcome::Failed("InvalidArgument", m.to_owned(), None);
        if let Some(name) = &e.event_bus_name {
            let ours = name == bus_name || name.ends_with(&format!(":event-bus/{bus_name}"));
            if !ours {
                return invalid(&format!("unknown event bus {name}; this bus is {bus_name}"));
            }
        }
        let Some(source) = e.source.filter(|s| !s.is_empty()) else {
            return invalid("Source is required");
        };
        let Some(detail_type) = e.detail_type.filter(|s| !s.is_empty()) else {
            return invalid("DetailType is required");
        };
        let Some(detail) = e
            .detail
            .as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
        else {
            return invalid("Detail is required and must be valid JSON");
        };
        if !detail.is_object() {
            return invalid("Detail must be a JSON object");
        }
        let id = uuid::Uuid::new_v4().to_string();
        if !deps.config.partner_sources.may_use(key.kind, &source) {
            let why = format!(
                "a {} partner may not put events with source {}",
                key.kind.name(),
                oms_domain::ids::clip(&source, 64)
            );
            tracing::warn!(kind = key.kind.name(), %detail_type, "entry refused: source not allowed");
            let refused = BusEvent {
                id,
                detail_type: oms_domain::ids::clip(&detail_type, 64),
                source: format!(
                    "{} partner key, claiming {}",
                    key.kind.name(),
                    oms_domain::ids::clip(&source, 64)
                ),
                detail,
            };
            return Outcome::Failed("NotAuthorizedForSourceException", why, Some(refused));
        }
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let event = json!({
            "version": "0", "id": id, "detail-type": detail_type, "source": source,
            "account": "000000000000", "time": now, "region": "local",
            "resources": e.resources, "detail": detail,
        });
        // On disk before the answer: an accepted event is never lost.
        match bus.put(&source, &detail_type, &event).await {
            Ok(0) => {
                tracing::warn!(%source, %detail_type, "no rule matched the event");
                Outcome::Put(id)
            }
            Ok(_) => Outcome::Put(id),
            Err(e) => {
                tracing::error!(error = %e, "partner event not stored");
                Outcome::Failed(
                    "InternalException",
                    "the event could not be stored; send it again".into(),
                    None,
                )
            }
        }
    }
}

pub struct Front {
    pub handlers: HashMap<Function, HttpFn>,
    pub bus: Option<Arc<Bus>>,
    /// The name partners' `PutEvents` entries may give as `EventBusName`.
    pub bus_name: String,
    pub notifications: Arc<notifications::LogSender>,
    pub requests: AtomicU64,
    pub issuer: Arc<Issuer>,
    pub partner_keys: Arc<PartnerKeys>,
    pub deps: Arc<Deps>,
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

fn api_error(e: ApiError) -> AxumResponse {
    lambda_to_axum(error_response(e))
}

fn authorization(req: &AxumRequest) -> Option<&str> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
}

/// The verified claims of the request's token, or the 401.
fn authenticate(front: &Front, req: &AxumRequest) -> Result<crate::auth::TokenClaims, ApiError> {
    front.issuer.verify(authorization(req)).map_err(|e| {
        let message = match &e {
            TokenError::Missing => e.to_string(),
            TokenError::Invalid(_) => {
                "the bearer token is not valid (signature, issuer, audience or expiry)".into()
            }
        };
        ApiError::new(401, "UNAUTHENTICATED", message)
    })
}

/// 403 unless the token's scopes include one of `roles`'.
fn authorize(
    claims: &crate::auth::TokenClaims,
    roles: &[Role],
    what: &str,
) -> Result<(), ApiError> {
    let scopes = claims.scopes();
    if roles.iter().any(|r| scopes.iter().any(|s| s == r.scope())) {
        return Ok(());
    }
    Err(ApiError::new(
        403,
        "FORBIDDEN",
        format!("this token may not call {what}"),
    ))
}

async fn serve(State(front): State<Arc<Front>>, req: AxumRequest) -> AxumResponse {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    match (method.as_str(), path.as_str()) {
        ("GET", "/health") => {
            return lambda_to_axum(json(StatusCode::OK, &serde_json::json!({"status": "ok"})));
        }
        ("GET", "/openapi.json") => {
            return lambda_to_axum(json(StatusCode::OK, &oms_contracts::openapi::document()));
        }
        ("POST", "/") if is_put_events(&req) => return put_events(&front, req).await,
        ("GET", "/dashboard") => {
            return (
                StatusCode::PERMANENT_REDIRECT,
                [(axum::http::header::LOCATION, "/dashboard/")],
            )
                .into_response();
        }
        ("GET", page) if page.starts_with("/dashboard/") => {
            return match crate::dashboard::file(&page["/dashboard/".len()..]) {
                Some((content_type, body)) => (
                    StatusCode::OK,
                    [
                        (axum::http::header::CONTENT_TYPE, content_type),
                        (
                            axum::http::header::CONTENT_SECURITY_POLICY,
                            crate::dashboard::CONTENT_SECURITY_POLICY,
                        ),
                        (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                        (axum::http::header::CACHE_CONTROL, "no-cache"),
                    ],
                    body,
                )
                    .into_response(),
                None => api_error(ApiError::not_found(format!(
                    "{page} is not a page of the dashboard"
                ))),
            };
        }
        ("GET", local) if local.starts_with("/_local/") => {
            let claims = match authenticate(&front, &req) {
                Ok(c) => c,
                Err(e) => return api_error(e),
            };
            if let Err(e) = authorize(&claims, &[Role::Operator], local) {
                return api_error(e);
            }
            let query = req.uri().query().unwrap_or("").to_owned();
            return local_view(&front, local, &query);
        }
        _ => {}
    }
    let Some((route, params)) = match_route(&method, &path) else {
        return api_error(no_route(&method, &path));
    };
    let claims = match authenticate(&front, &req) {
        Ok(c) => c,
        Err(e) => return api_error(e),
    };
    if let Err(e) = authorize(&claims, route.roles, &format!("{method} {}", route.path)) {
        return api_error(e);
    }
    let Some(handler) = front.handlers.get(&route.function) else {
        return api_error(ApiError::not_found("no function serves this route"));
    };
    let (parts, body) = req.into_parts();
    let bytes = match to_bytes(body, FRONT_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return api_error(ApiError::new(
                413,
                "PAYLOAD_TOO_LARGE",
                format!("the request body exceeds {FRONT_BODY_LIMIT} bytes"),
            ));
        }
    };
    let n = front.requests.fetch_add(1, Ordering::Relaxed);
    let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
    jwt.scopes = Some(claims.scopes());
    jwt.claims = claims.as_map();
    let mut authorizer = ApiGatewayRequestAuthorizer::default();
    authorizer.jwt = Some(jwt);
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.request_id = Some(format!("local-{n}"));
    ctx.route_key = Some(format!("{} {}", route.method, route.path));
    ctx.stage = Some("$default".into());
    ctx.http.method = parts.method.clone();
    ctx.http.path = Some(path.clone());
    ctx.authorizer = Some(authorizer);
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    };
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| {
            // Decoded, as API Gateway hands them to a function.
            form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
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

/// The operator's views of the local runtime.
fn local_view(front: &Front, path: &str, query: &str) -> AxumResponse {
    let Some(bus) = &front.bus else {
        return api_error(ApiError::new(
            404,
            "NOT_FOUND",
            format!(
                "{path} shows the embedded bus; in --aws mode use the SQS queues and their dead-letter queues"
            ),
        ));
    };
    match path {
        "/_local/bus" => {
            let view = serde_json::json!({
                "stats": bus.stats(),
                "recentlyPublished": bus.recently_published(),
            });
            lambda_to_axum(json(StatusCode::OK, &view))
        }
        "/_local/dead-letters" => {
            // A page of dead letters, oldest first: `?after=<seq>&limit=<n>`.
            let param = |name: &str| {
                query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .find(|(k, _)| *k == name)
                    .and_then(|(_, v)| v.parse::<u64>().ok())
            };
            let after = param("after").unwrap_or(0);
            let limit = param("limit").unwrap_or(100).clamp(1, 1000) as usize;
            let letters: Vec<serde_json::Value> = bus
                .dead_letters(after, limit)
                .into_iter()
                .map(|d| {
                    serde_json::json!({
                        "seq": d.seq, "queue": d.queue, "receives": d.receives,
                        "at": oms_domain::time::Timestamp::from_millis(d.at_ms),
                        "body": serde_json::from_slice::<serde_json::Value>(&d.body).unwrap_or_default(),
                    })
                })
                .collect();
            let next = letters.last().and_then(|l| l["seq"].as_u64());
            let page = serde_json::json!({"deadLetters": letters, "next": next});
            lambda_to_axum(json(StatusCode::OK, &page))
        }
        "/_local/notifications" => {
            lambda_to_axum(json(StatusCode::OK, &front.notifications.sent()))
        }
        _ => api_error(no_route("GET", path)),
    }
}

async fn put_events(front: &Front, req: AxumRequest) -> AxumResponse {
    let Some(bus) = &front.bus else {
        return put_events::answer(
            StatusCode::BAD_REQUEST,
            serde_json::json!({
                "__type": "ValidationException",
                "message": "in --aws mode partners put events on the emulator's bus: use its endpoint (AWS_ENDPOINT_URL), not the OMS's",
            }),
        );
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FRONT_BODY_LIMIT).await else {
        return put_events::answer(
            StatusCode::PAYLOAD_TOO_LARGE,
            serde_json::json!({"__type": "ValidationException", "message": "the request is too large"}),
        );
    };
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str(), v)))
        .collect();
    let signed = crate::sigv4::Signed {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body: &bytes,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let key = match crate::sigv4::verify(&signed, &front.partner_keys, now) {
        Ok(key) => key.clone(),
        Err(e) => {
            tracing::warn!(code = e.code(), "PutEvents refused");
            let message = e.to_string();
            let message = message.split_once(": ").map(|(_, m)| m).unwrap_or(&message);
            return put_events::answer(
                StatusCode::FORBIDDEN,
                serde_json::json!({"__type": e.code(), "message": message}),
            );
        }
    };
    put_events::handle(bus, &front.bus_name, &front.deps, &key, &bytes).await
}
