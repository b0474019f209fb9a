//! The one shape of every API error, independent of the transport: a status,
//! a stable code, a message and, for a bad value, the field it is in. The
//! HTTP edge (`oms_aws::http`) writes it as
//! `{"error": {"code", "message", "field"?}}`; each API function maps its
//! service's errors to it.

use crate::store::StoreError;
use oms_domain::validation::FieldError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }
    /// 422 `INVALID_VALUE`, naming the field.
    pub fn invalid(e: FieldError) -> Self {
        Self {
            field: Some(e.field),
            ..Self::new(422, "INVALID_VALUE", e.message)
        }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "NOT_FOUND", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(409, code, message)
    }
    /// The service could not do its part (store or bus down): retry later.
    pub fn unavailable(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "dependency unavailable");
        Self::new(
            503,
            "UNAVAILABLE",
            "the service is briefly unavailable; retry with the same Idempotency-Key",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::unavailable(e)
    }
}
