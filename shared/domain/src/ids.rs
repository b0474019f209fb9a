//! Validated identifiers and quantities: a value of these types is always valid.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused, in words a client can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

fn check_token(kind: &str, s: &str, max: usize, extra: &[char]) -> Result<(), InvalidValue> {
    if s.is_empty() || s.len() > max {
        return Err(InvalidValue(format!(
            "{kind} must be 1 to {max} characters"
        )));
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
    {
        let allowed: String = extra.iter().collect();
        return Err(InvalidValue(format!(
            "{kind} may contain only letters, digits and `{allowed}`"
        )));
    }
    Ok(())
}

/// The JSON Schema of a token: its length and allowed characters.
fn token_schema(max: usize, extra: &[char]) -> schemars::Schema {
    // Inside a character class only `-` needs care: it goes last.
    let mut class: String = extra.iter().filter(|c| **c != '-').collect();
    if extra.contains(&'-') {
        class.push('-');
    }
    schemars::json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": max,
        "pattern": format!("^[A-Za-z0-9{class}]+$"),
    })
}

macro_rules! token_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal, $extra:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                check_token($kind, s, $max, $extra)?;
                Ok(Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                check_token($kind, &s, $max, $extra)?;
                Ok(Self(s))
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
        impl schemars::JsonSchema for $name {
            fn inline_schema() -> bool {
                true
            }
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                token_schema($max, $extra)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

token_id!(
    /// An order id, minted by the OMS (`ord_` + a time-ordered UUID).
    OrderId, "order id", 64, &['_', '-']
);
token_id!(
    /// A stock-keeping unit code.
    Sku, "sku", 64, &['_', '-', '.']
);
token_id!(
    /// A fulfilment location (warehouse or store).
    LocationId, "location id", 64, &['_', '-', '.']
);
token_id!(
    /// The sales channel an order came from (`web`, `app`, `marketplace-x`, …).
    Channel, "channel", 32, &['_', '-', '.']
);
token_id!(
    /// The customer's id in the channel's system.
    CustomerId, "customer id", 128, &['_', '-', '.', '@', ':', '|']
);
token_id!(
    /// The order's id in the channel's system (unique per channel).
    ExternalId, "externalId", 128, &['_', '-', '.', ':', '#', '/']
);

impl OrderId {
    /// The id of a new order: `ord_` and 32 hex digits of a time-ordered
    /// 128-bit value (a UUID v7 from the id generator), so ids sort by
    /// creation time.
    pub fn minted(bits: u128) -> Self {
        Self(format!("ord_{bits:032x}"))
    }

    /// The id of the order a channel submits as `external_id` (a
    /// marketplace's order number): the same for every submission of it,
    /// so its acceptance and its refusals name one order.
    pub fn for_submission(channel: &Channel, external_id: &ExternalId) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{channel}/{external_id}").as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        Self(format!("ord_{hex}"))
    }
}

/// A reference a partner gave (a payment id, a shipment id, a tracking
/// number): 1 to 128 visible characters, no control characters — so that
/// nothing a partner sends can bloat an order or break a log line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartnerRef(String);

impl PartnerRef {
    pub const MAX: usize = 128;

    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.chars().count() > Self::MAX || s.chars().any(char::is_control) {
            return Err(InvalidValue(format!(
                "must be 1 to {} characters, none of them control characters",
                Self::MAX
            )));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for PartnerRef {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl From<PartnerRef> for String {
    fn from(v: PartnerRef) -> String {
        v.0
    }
}
impl fmt::Display for PartnerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl schemars::JsonSchema for PartnerRef {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PartnerRef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "minLength": 1, "maxLength": Self::MAX})
    }
}

/// Free text of at most `N` characters, trimmed, without control
/// characters (a reason, a note).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const N: usize>(String);

impl<const N: usize> Text<N> {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > N || s.chars().any(char::is_control) {
            return Err(InvalidValue(format!(
                "must be 1 to {N} characters, none of them control characters"
            )));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl<const N: usize> TryFrom<String> for Text<N> {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl<const N: usize> From<Text<N>> for String {
    fn from(v: Text<N>) -> String {
        v.0
    }
}
impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl<const N: usize> schemars::JsonSchema for Text<N> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Text{N}").into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "minLength": 1, "maxLength": N})
    }
}

/// A reason given by a person or a partner: at most 500 characters.
pub type Reason = Text<500>;

/// Cuts `s` to at most `max` characters, marking the cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A client-chosen key that makes a request safe to retry (`Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        if s.is_empty() || s.len() > 255 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(InvalidValue(
                "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            ));
        }
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A positive number of units, at most [`Quantity::MAX`] — the most one
/// order line, one stock move or one partner fact may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 100_000;
    pub const ONE: Quantity = Quantity(1);

    pub fn new(n: i64) -> Result<Self, InvalidValue> {
        if n <= 0 || n > i64::from(Self::MAX) {
            return Err(InvalidValue(format!(
                "quantity must be between 1 and {}",
                Self::MAX
            )));
        }
        Ok(Self(n as u32))
    }
    /// A count that may be zero: `None` for zero.
    pub fn of(n: u64) -> Option<Self> {
        i64::try_from(n).ok().and_then(|n| Self::new(n).ok())
    }
    pub fn get(self) -> u32 {
        self.0
    }
    /// As a stock delta.
    pub fn units(self) -> i64 {
        i64::from(self.0)
    }
    /// The sum, if it is still a quantity.
    pub fn plus(self, other: Quantity) -> Option<Quantity> {
        Self::of(u64::from(self.0) + u64::from(other.0))
    }
    /// What is left after taking `other`, `None` when nothing is.
    pub fn minus(self, other: Quantity) -> Option<Quantity> {
        self.0
            .checked_sub(other.0)
            .and_then(|n| Self::of(u64::from(n)))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl schemars::JsonSchema for Quantity {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "integer", "minimum": 1, "maximum": Self::MAX})
    }
}

impl TryFrom<i64> for Quantity {
    type Error = InvalidValue;
    fn try_from(n: i64) -> Result<Self, InvalidValue> {
        Self::new(n)
    }
}
impl From<Quantity> for i64 {
    fn from(q: Quantity) -> i64 {
        i64::from(q.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_refuse_empty_long_and_odd_characters() {
        assert!(Sku::parse("SKU-1").is_ok());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse(&"x".repeat(65)).is_err());
        assert!(Sku::parse("a b").is_err());
        assert!(Sku::parse("a/b").is_err());
        assert!(LocationId::parse("wh-sp.1").is_ok());
    }

    #[test]
    fn quantity_is_positive_and_bounded() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(-3).is_err());
        assert_eq!(Quantity::new(5).map(Quantity::get), Ok(5));
        assert!(Quantity::new(i64::from(Quantity::MAX) + 1).is_err());
    }

    #[test]
    fn partner_strings_are_bounded() {
        assert!(PartnerRef::parse("pay-1").is_ok());
        assert!(PartnerRef::parse(&"x".repeat(129)).is_err());
        assert!(PartnerRef::parse("a\nb").is_err());
        assert!(
            serde_json::from_str::<PartnerRef>(&format!("\"{}\"", "y".repeat(200_000))).is_err()
        );
        assert_eq!(Reason::parse("  too small ").unwrap().as_str(), "too small");
        assert!(Reason::parse(&"z".repeat(501)).is_err());
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn serde_goes_through_validation() {
        assert!(serde_json::from_str::<Sku>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<Sku>("\"not ok\"").is_err());
        assert!(serde_json::from_str::<Quantity>("0").is_err());
    }
}
