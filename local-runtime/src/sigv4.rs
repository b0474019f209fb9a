//! Verifying AWS Signature Version 4 on a request, as EventBridge does: the
//! canonical request is rebuilt from what the client says it signed
//! (`SignedHeaders`), hashed, and signed again with the secret of the
//! claimed access key; the signatures must match, and the request's time
//! must be within 15 minutes of now.

use crate::partners::{PartnerKey, PartnerKeys};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// How far the request's `X-Amz-Date` may be from now.
const MAX_SKEW_SECS: i64 = 15 * 60;

/// Why a request is not accepted, as EventBridge names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    #[error("MissingAuthenticationTokenException: Missing Authentication Token")]
    Missing,
    #[error("IncompleteSignatureException: {0}")]
    Incomplete(String),
    #[error("UnrecognizedClientException: The security token included in the request is invalid.")]
    UnknownKey,
    #[error(
        "InvalidSignatureException: The request signature we calculated does not match the signature you provided."
    )]
    BadSignature,
    #[error("InvalidSignatureException: Signature expired: the request time is too far from now.")]
    Expired,
}

impl SigError {
    /// EventBridge's `__type`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "MissingAuthenticationTokenException",
            Self::Incomplete(_) => "IncompleteSignatureException",
            Self::UnknownKey => "UnrecognizedClientException",
            Self::BadSignature | Self::Expired => "InvalidSignatureException",
        }
    }
}

/// The parts of a request the signature covers.
pub struct Signed<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    /// Header names (any case) and values.
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn header<'a>(r: &'a Signed, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// `20261125T180000Z` as seconds since the epoch.
fn amz_seconds(t: &str) -> Option<i64> {
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        t.get(0..4)?,
        t.get(4..6)?,
        t.get(6..8)?,
        t.get(9..11)?,
        t.get(11..13)?,
        t.get(13..15)?
    );
    let at = humantime::parse_rfc3339(&iso).ok()?;
    let secs = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// Each path segment percent-encoded as SigV4 wants it.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    b'%' => "%".into(),
                    _ => format!("%{b:02X}"),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The key that signed the request, if the signature is right.
pub fn verify<'k>(
    r: &Signed,
    keys: &'k PartnerKeys,
    now_secs: i64,
) -> Result<&'k PartnerKey, SigError> {
    let auth = header(r, "authorization").ok_or(SigError::Missing)?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or_else(|| SigError::Incomplete("not an AWS4-HMAC-SHA256 signature".into()))?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or(("", ""));
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(SigError::Incomplete(
            "Credential, SignedHeaders and Signature are required".into(),
        ));
    };
    let mut scope = credential.splitn(2, '/');
    let access_key = scope.next().unwrap_or_default();
    let scope = scope
        .next()
        .ok_or_else(|| SigError::Incomplete("the credential has no scope".into()))?;
    let key = keys.by_access_key(access_key).ok_or(SigError::UnknownKey)?;
    let parts: Vec<&str> = scope.split('/').collect();
    let [date, region, service, "aws4_request"] = parts.as_slice() else {
        return Err(SigError::Incomplete("a malformed credential scope".into()));
    };
    let amz_date = header(r, "x-amz-date")
        .ok_or_else(|| SigError::Incomplete("X-Amz-Date is required".into()))?;
    let at = amz_seconds(amz_date)
        .ok_or_else(|| SigError::Incomplete("a malformed X-Amz-Date".into()))?;
    if (now_secs - at).abs() > MAX_SKEW_SECS {
        return Err(SigError::Expired);
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = header(r, name).unwrap_or_default();
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        canonical_headers.push_str(&format!("{}:{value}\n", name.to_ascii_lowercase()));
    }
    let payload = match header(r, "x-amz-content-sha256") {
        Some(h) if h != "UNSIGNED-PAYLOAD" => h.to_owned(),
        _ => hex(&Sha256::digest(r.body)),
    };
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload}",
        r.method,
        canonical_uri(r.path),
        canonical_query(r.query),
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{}", key.secret).as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let expected = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    // Constant-time comparison of the two signatures.
    let same = expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(key)
    } else {
        Err(SigError::BadSignature)
    }
}
