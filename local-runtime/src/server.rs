//! The front's connections, kept in check the way API Gateway keeps its
//! own: a client that does not send its request headers in time is cut off,
//! so is one whose body trickles; there are at most so many connections at
//! once (the rest wait in the kernel's backlog), so half-sent requests can
//! never use up the process's file descriptors; and each token may be held
//! to a request rate (429 with `Retry-After`; off unless asked for).

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// How the front treats its clients.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Time to send the request line and headers.
    pub header_timeout: Duration,
    /// Time to send the body once the headers are in.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Requests per second per bearer token (burst the same); `None`: no limit.
    pub rate_per_token: Option<u32>,
    /// Largest request body read.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 1000,
            rate_per_token: None,
            max_body: 1024 * 1024,
        }
    }
}

/// Token buckets, one per bearer token (at most [`MAX_BUCKETS`] kept).
struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

const MAX_BUCKETS: usize = 10_000;

impl RateLimiter {
    /// `Err(seconds to wait)` when the token spent its budget.
    fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS && !buckets.contains_key(key) {
            // Forget buckets that have refilled: they hold nothing.
            let rate = self.rate;
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < rate
            });
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.rate, now));
        let refilled = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.rate);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(((1.0 - refilled) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

fn too_many(retry_after: u64) -> Response {
    let body = serde_json::json!({"error": {
        "code": "TOO_MANY_REQUESTS",
        "message": format!("this token sent too many requests; retry in {retry_after} s"),
    }});
    (
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        [
            (axum::http::header::RETRY_AFTER, retry_after.to_string()),
            (axum::http::header::CONTENT_TYPE, "application/json".into()),
        ],
        body.to_string(),
    )
        .into_response()
}

fn too_large(max: usize) -> Response {
    let body = serde_json::json!({"error": {
        "code": "PAYLOAD_TOO_LARGE",
        "message": format!("the request body exceeds {max} bytes"),
    }});
    (
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn request_timeout() -> Response {
    let body = serde_json::json!({"error": {
        "code": "REQUEST_TIMEOUT",
        "message": "the request body did not arrive in time",
    }});
    (
        axum::http::StatusCode::REQUEST_TIMEOUT,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Wraps the router: body deadline and per-token rate.
fn guarded(router: Router, limits: &Limits) -> Router {
    let body_timeout = limits.body_timeout;
    let max_body = limits.max_body;
    let limiter = limits.rate_per_token.map(|r| {
        Arc::new(RateLimiter {
            rate: f64::from(r.max(1)),
            buckets: Mutex::new(HashMap::new()),
        })
    });
    router.layer(axum::middleware::from_fn(
        move |req: Request, next: axum::middleware::Next| {
            let limiter = limiter.clone();
            async move {
                if let Some(limiter) = &limiter
                    && let Some(token) = req
                        .headers()
                        .get(axum::http::header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                    && let Err(wait) = limiter.check(token)
                {
                    return too_many(wait);
                }
                // Read the whole body within the deadline, then hand it on.
                let (parts, body) = req.into_parts();
                match tokio::time::timeout(body_timeout, axum::body::to_bytes(body, max_body)).await
                {
                    Ok(Ok(bytes)) => {
                        next.run(Request::from_parts(parts, Body::from(bytes)))
                            .await
                    }
                    Ok(Err(_)) => too_large(max_body),
                    Err(_) => request_timeout(),
                }
            }
        },
    ))
}

/// Serves `router` on `listener` until `stop` turns true; in-flight
/// requests finish first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let router = guarded(router, &limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            TowerToHyperService::new(router.clone().into_service::<hyper::body::Incoming>());
        let builder = builder.clone();
        let mut stop = stop.clone();
        connections.spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
            drop(permit);
        });
    }
    // Let what is in flight finish.
    while connections.join_next().await.is_some() {}
}
