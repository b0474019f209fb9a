//! What makes a placed order unique, and how a repeated request is told
//! from a conflicting one.
//!
//! An order is placed together with its claims, in one commit: the client's
//! `Idempotency-Key` (remembered for [`IDEMPOTENCY_TTL_SECS`]) and the
//! channel's `externalId` (remembered for ever). A claim already taken means
//! the request was seen: with the same body ([`Claim::fingerprint`]) it is a
//! replay and gets the existing order; with another body it is a conflict.

use crate::ids::{Channel, ExternalId, IdempotencyKey};
use crate::order::NewOrder;
use crate::time::Timestamp;
use sha2::{Digest, Sha256};

/// How long an `Idempotency-Key` is remembered (external ids never expire).
pub const IDEMPOTENCY_TTL_SECS: u64 = 24 * 3600;

/// What a claim is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimKind {
    IdempotencyKey(IdempotencyKey),
    ExternalId {
        channel: Channel,
        external_id: ExternalId,
    },
}

impl ClaimKind {
    /// Why a request with another body is refused.
    pub fn conflict(&self) -> &'static str {
        match self {
            Self::IdempotencyKey(_) => "this Idempotency-Key was used",
            Self::ExternalId { .. } => "this channel and externalId were used",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub kind: ClaimKind,
    /// Identifies the request body.
    pub fingerprint: String,
    /// When the claim may be forgotten (epoch seconds), if ever.
    pub expires_at: Option<u64>,
}

/// The hash of a request's canonical bytes (the parsed request serialized
/// again, so the order of keys in the client's JSON does not matter).
pub fn fingerprint(canonical: &[u8]) -> String {
    Sha256::digest(canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl NewOrder {
    /// The claims to commit with this order.
    pub fn claims(
        &self,
        key: Option<&IdempotencyKey>,
        fingerprint: &str,
        now: Timestamp,
    ) -> Vec<Claim> {
        let mut claims = Vec::new();
        if let Some(key) = key {
            claims.push(Claim {
                kind: ClaimKind::IdempotencyKey(key.clone()),
                fingerprint: fingerprint.to_owned(),
                expires_at: Some(now.millis() / 1000 + IDEMPOTENCY_TTL_SECS),
            });
        }
        if let Some(external_id) = &self.external_id {
            claims.push(Claim {
                kind: ClaimKind::ExternalId {
                    channel: self.channel.clone(),
                    external_id: external_id.clone(),
                },
                fingerprint: fingerprint.to_owned(),
                expires_at: None,
            });
        }
        claims
    }
}
