//! The HTTP edge shared by API functions: one error shape, JSON in and out.
//!
//! Every error is `{"error": {"code", "message", "field"?}}`. Client mistakes
//! are 4xx and are detected before anything is written.

use crate::validation::FieldError;
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest request body accepted by the API functions.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
    pub fn invalid(e: FieldError) -> Self {
        Self {
            field: Some(e.field),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_VALUE", e.message)
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn no_route(method: &str, path: &str) -> Self {
        if crate::wiring::path_exists(path) {
            Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                format!("{method} is not allowed on {path}"),
            )
        } else {
            Self::not_found(format!("no route for {method} {path}"))
        }
    }
    /// The service could not do its part (store or bus down): retry later.
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the service is briefly unavailable; retry with the same Idempotency-Key",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        #[derive(Serialize)]
        struct Inner<'a> {
            code: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Outer<'a> {
            error: Inner<'a>,
        }
        let body = Outer {
            error: Inner {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        json(self.status, &body)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        ApiError::unavailable(e)
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = Response::new(Body::Binary(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Turns a handler's outcome into the wire response.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

fn body_bytes(req: &Request) -> &[u8] {
    match req.body() {
        Body::Empty => &[],
        Body::Text(t) => t.as_bytes(),
        Body::Binary(b) => b,
        _ => &[],
    }
}

/// Parses a JSON object body: 422 if too large, 400 if not JSON or not an
/// object, 422 naming the field if a value has the wrong type.
pub fn parse_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = body_bytes(req);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "BODY_TOO_LARGE",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_JSON",
            "the body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        ApiError::invalid(FieldError::new(field, e.into_inner().to_string()))
    })
}

/// Path segments of the request, without empty ones.
pub fn segments(req: &Request) -> Vec<String> {
    req.uri()
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Request {
        let mut r = Request::new(Body::Text(body.to_owned()));
        *r.uri_mut() = "/orders/a%20b/x".parse().unwrap();
        r
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct T {
        n: Option<i64>,
    }

    #[test]
    fn classifies_bad_bodies() {
        assert_eq!(
            parse_body::<T>(&req("{")).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            parse_body::<T>(&req("[]")).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let e = parse_body::<T>(&req(r#"{"n": "x"}"#)).unwrap_err();
        assert_eq!(
            (e.status, e.field.as_deref()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("n"))
        );
        let big = format!(r#"{{"n": 1, "pad": "{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(
            parse_body::<T>(&req(&big)).unwrap_err().code,
            "BODY_TOO_LARGE"
        );
        assert!(parse_body::<T>(&req(r#"{"n": 1}"#)).is_ok());
    }

    #[test]
    fn decodes_path_segments() {
        assert_eq!(segments(&req("")), ["orders", "a b", "x"]);
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("a%"), "a%");
    }

    #[test]
    fn errors_have_the_wire_shape() {
        let r = ApiError::invalid(FieldError::new("lines[0].quantity", "bad")).into_response();
        assert_eq!(r.status(), 422);
        let Body::Binary(b) = r.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_slice(b).unwrap();
        assert_eq!(v["error"]["field"], "lines[0].quantity");
        assert_eq!(v["error"]["code"], "INVALID_VALUE");
    }
}
