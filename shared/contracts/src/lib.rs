//! What the OMS promises to the outside, as data generated from the code:
//! for tests, docs and the SAM template — never linked into a Lambda.
//!
//! Module map:
//! - [`openapi`]: the storefront API as OpenAPI 3.1 (and the variant the
//!   HTTP API in the template is built from);
//! - [`catalog`]: the event catalog — a JSON Schema per event, who emits
//!   and who consumes it, real examples made by the domain;
//! - [`iam`]: the AWS actions each function's code calls.

pub mod catalog;
pub mod iam;
pub mod openapi;
