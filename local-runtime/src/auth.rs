//! Bearer tokens, locally: what the HTTP API's JWT authorizer and the
//! Cognito user pool do on AWS.
//!
//! The runtime signs tokens with a key kept in its data directory
//! (`auth.key`, created on first use, readable by its owner only) and
//! verifies every API request's token with it: signature, issuer, audience,
//! expiry. `oms token --role …` mints one. The claims are the ones the
//! functions read from the authorizer on AWS: `sub`, `scope`
//! (`oms/operator`, `oms/storefront`, `oms/customer`) and, for a storefront,
//! `oms_channel`.

use anyhow::Context;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use oms_domain::access::Role;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The issuer every local token names (`iss`).
pub const ISSUER: &str = "oms-local";
/// The audience every local token names (`aud`).
pub const AUDIENCE: &str = "oms";
/// How long a minted token lasts unless told otherwise.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 3600);

const KEY_FILE: &str = "auth.key";

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    /// Space-separated scopes.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oms_channel: Option<String>,
    pub token_use: String,
}

impl TokenClaims {
    /// The claims as API Gateway hands them to a function: strings by name.
    pub fn as_map(&self) -> HashMap<String, String> {
        let mut m = HashMap::from([
            ("iss".to_owned(), self.iss.clone()),
            ("aud".to_owned(), self.aud.clone()),
            ("sub".to_owned(), self.sub.clone()),
            ("iat".to_owned(), self.iat.to_string()),
            ("exp".to_owned(), self.exp.to_string()),
            ("scope".to_owned(), self.scope.clone()),
            ("token_use".to_owned(), self.token_use.clone()),
        ]);
        if let Some(c) = &self.oms_channel {
            m.insert("oms_channel".to_owned(), c.clone());
        }
        m
    }

    pub fn scopes(&self) -> Vec<String> {
        self.scope.split_whitespace().map(str::to_owned).collect()
    }
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a bearer token is required (Authorization: Bearer …)")]
    Missing,
    #[error("the token is not valid: {0}")]
    Invalid(String),
}

/// Signs and verifies tokens with one key.
pub struct Issuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Issuer {
    /// The key in `dir/auth.key`, made on first use.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        Ok(Self::with_secret(&crate::secrets::read_or_create(
            dir,
            KEY_FILE,
            || crate::secrets::random_hex(32),
        )?))
    }

    /// A key that lives as long as the process (tests, throwaway runs).
    pub fn ephemeral() -> Self {
        Self::with_secret(&crate::secrets::random_hex(32))
    }

    fn with_secret(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// A token for `role`; `subject` is the customer id of a customer.
    pub fn mint(
        &self,
        role: Role,
        subject: &str,
        channel: Option<&str>,
        ttl: Duration,
    ) -> anyhow::Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let claims = TokenClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: subject.into(),
            iat: now,
            exp: now + ttl.as_secs(),
            scope: role.scope().into(),
            oms_channel: channel.map(str::to_owned),
            token_use: "access".into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("signing the token")
    }

    /// The claims of an `Authorization` header's bearer token, verified.
    pub fn verify(&self, authorization: Option<&str>) -> Result<TokenClaims, TokenError> {
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(TokenError::Missing)?;
        jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_with_their_key_only() {
        let issuer = Issuer::ephemeral();
        let t = issuer
            .mint(Role::Storefront, "app", Some("web"), DEFAULT_TTL)
            .unwrap();
        let claims = issuer.verify(Some(&format!("Bearer {t}"))).unwrap();
        assert_eq!(claims.scopes(), ["oms/storefront"]);
        assert_eq!(claims.as_map()["oms_channel"], "web");
        assert!(matches!(issuer.verify(None), Err(TokenError::Missing)));
        let other = Issuer::ephemeral();
        assert!(matches!(
            other.verify(Some(&format!("Bearer {t}"))),
            Err(TokenError::Invalid(_))
        ));
        let mut old = claims.clone();
        old.exp = old.iat - 60;
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &old, &issuer.encoding).unwrap();
        assert!(matches!(
            issuer.verify(Some(&format!("Bearer {expired}"))),
            Err(TokenError::Invalid(m)) if m.contains("xpired")
        ));
    }
}
