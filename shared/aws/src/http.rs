//! The API Gateway edge of the API functions: JSON in, JSON out, and one
//! error shape, `{"error": {"code", "message", "field"?}}` (see
//! [`oms_app::api::ApiError`]). Client mistakes are 4xx and are detected
//! before anything is written.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
pub use oms_app::api::ApiError;
use oms_app::config::Config;
use oms_domain::access::{Caller, Claims};
use oms_domain::ids::IdempotencyKey;
use oms_domain::validation::FieldError;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest request body accepted by the API functions.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The wire response of an error.
pub fn error_response(e: ApiError) -> Response<Body> {
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
            code: e.code,
            message: &e.message,
            field: e.field.as_deref(),
        },
    };
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(status, &body)
}

/// 405 when some route has the path with another method, else 404.
pub fn no_route(method: &str, path: &str) -> ApiError {
    if oms_app::wiring::path_exists(path) {
        ApiError::new(
            405,
            "METHOD_NOT_ALLOWED",
            format!("{method} is not allowed on {path}"),
        )
    } else {
        ApiError::not_found(format!("no route for {method} {path}"))
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
    result.unwrap_or_else(error_response)
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
            422,
            "BODY_TOO_LARGE",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            400,
            "MALFORMED_JSON",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(ApiError::new(
            400,
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

/// The request's `Idempotency-Key`, if it sent one: 422 when it is not 1 to
/// 255 visible ASCII characters (never silently ignored).
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(raw.as_bytes()).unwrap_or("\u{fffd}");
    IdempotencyKey::parse(text)
        .map(Some)
        .map_err(|e| ApiError::invalid(FieldError::new("Idempotency-Key", e.0)))
}

/// Who is calling, from the claims of the token the HTTP API's JWT
/// authorizer verified (the local front verifies it the same way), and
/// whether the route lets that role in: 401 `UNAUTHENTICATED` without
/// verified claims, 403 `FORBIDDEN` for a role the route does not take.
pub fn caller(req: &Request, config: &Config) -> Result<Caller, ApiError> {
    use lambda_http::RequestExt;
    let jwt = match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => {
            ctx.authorizer.as_ref().and_then(|a| a.jwt.as_ref())
        }
        _ => None,
    }
    .ok_or_else(|| ApiError::new(401, "UNAUTHENTICATED", "a bearer token is required"))?;
    let claim = |name: &str| jwt.claims.get(name).filter(|v| !v.is_empty());
    // The authorizer passes the token's scopes; a `scope` claim is the same
    // list as one string ("a b", or "[a b]" for arrays).
    let scopes = match &jwt.scopes {
        Some(s) if !s.is_empty() => s.clone(),
        _ => claim("scope")
            .map(|s| {
                s.trim_matches(['[', ']'])
                    .split([' ', ','])
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    let channel = claim("oms_channel").cloned().or_else(|| {
        claim("client_id")
            .and_then(|c| config.channel_of_client(c))
            .map(str::to_owned)
    });
    let claims = Claims {
        subject: claim("sub").cloned().unwrap_or_default(),
        scopes,
        channel,
    };
    let caller = Caller::from_claims(&claims).map_err(|f| ApiError::new(403, "FORBIDDEN", f.0))?;
    let path = req.uri().path();
    let allowed = oms_app::wiring::match_route(req.method().as_str(), path)
        .is_some_and(|(route, _)| route.roles.contains(&caller.role));
    if !allowed {
        return Err(ApiError::new(
            403,
            "FORBIDDEN",
            format!(
                "a {} token may not call {} {path}",
                caller.role,
                req.method()
            ),
        ));
    }
    Ok(caller)
}

/// The id of the request (API Gateway's), as the cause recorded in history.
pub fn request_id(req: &Request) -> String {
    use lambda_http::RequestExt;
    let from_context = match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    };
    from_context
        .or_else(|| header(req, "x-request-id").map(str::to_owned))
        .map(|id| format!("request:{id}"))
        .unwrap_or_else(|| "request".to_owned())
}

/// The query string's parameters, decoded (every value of a repeated one).
pub fn query_params(req: &Request) -> oms_domain::search::SearchParams {
    use lambda_http::RequestExt;
    oms_domain::search::SearchParams::new(
        req.query_string_parameters_ref()
            .map(|q| {
                q.iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    )
}

/// A path segment that must be a valid value, else 422 naming `field`.
pub fn path_value<T>(
    raw: &str,
    field: &str,
    parse: impl Fn(&str) -> Result<T, oms_domain::ids::InvalidValue>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|e| ApiError::invalid(FieldError::new(field, e.0)))
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
        assert_eq!(parse_body::<T>(&req("{")).unwrap_err().status, 400);
        assert_eq!(parse_body::<T>(&req("[]")).unwrap_err().status, 400);
        let e = parse_body::<T>(&req(r#"{"n": "x"}"#)).unwrap_err();
        assert_eq!((e.status, e.field.as_deref()), (422, Some("n")));
        let big = format!(r#"{{"n": 1, "pad": "{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(
            parse_body::<T>(&req(&big)).unwrap_err().code,
            "BODY_TOO_LARGE"
        );
        assert!(parse_body::<T>(&req(r#"{"n": 1}"#)).is_ok());
    }

    #[test]
    fn an_idempotency_key_that_is_not_ascii_is_refused() {
        let mut r = req("");
        r.headers_mut().insert(
            "idempotency-key",
            HeaderValue::from_bytes("cl\u{e9}".as_bytes()).unwrap(),
        );
        assert_eq!(idempotency_key(&r).unwrap_err().status, 422);
        let mut r = req("");
        r.headers_mut()
            .insert("idempotency-key", HeaderValue::from_static("k-1"));
        assert_eq!(idempotency_key(&r).unwrap().unwrap().as_str(), "k-1");
        assert_eq!(idempotency_key(&req("")).unwrap(), None);
    }

    #[test]
    fn decodes_path_segments() {
        assert_eq!(segments(&req("")), ["orders", "a b", "x"]);
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("a%"), "a%");
    }

    #[test]
    fn errors_have_the_wire_shape() {
        let r = error_response(ApiError::invalid(FieldError::new(
            "lines[0].quantity",
            "bad",
        )));
        assert_eq!(r.status(), 422);
        let Body::Binary(b) = r.body() else { panic!() };
        let v: serde_json::Value = serde_json::from_slice(b).unwrap();
        assert_eq!(v["error"]["field"], "lines[0].quantity");
        assert_eq!(v["error"]["code"], "INVALID_VALUE");
    }
}
