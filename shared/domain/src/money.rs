//! Money: integer minor units with an ISO-4217 currency. Never floats.

use crate::ids::InvalidValue;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Active ISO-4217 alphabetic codes.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP \
DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK \
JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP \
MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD \
RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD \
TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL";

/// Every active ISO-4217 code.
pub fn iso_4217_codes() -> impl Iterator<Item = &'static str> {
    ISO_4217.split_ascii_whitespace()
}

/// An ISO-4217 currency code such as `BRL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, InvalidValue> {
        let known = code.len() == 3
            && code.bytes().all(|b| b.is_ascii_uppercase())
            && ISO_4217.split_ascii_whitespace().any(|c| c == code);
        if !known {
            return Err(InvalidValue(format!(
                "`{code}` is not an ISO-4217 currency code"
            )));
        }
        let b = code.as_bytes();
        Ok(Self([b[0], b[1], b[2]]))
    }
    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}
impl schemars::JsonSchema for Currency {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Currency".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "ISO-4217 currency code",
            "pattern": "^[A-Z]{3}$",
        })
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        Self::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Currency {
    /// Digits after the decimal point of the currency's minor unit
    /// (ISO 4217 exponent): 2 for BRL or EUR, 0 for JPY, 3 for KWD.
    pub fn minor_digits(self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            "CLF" | "UYW" => 4,
            _ => 2,
        }
    }
}

/// An amount of a currency, in integer minor units (cents, centavos, yen).
/// Arithmetic refuses overflow and never mixes currencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Money {
    /// Integer minor units of `currency`.
    pub amount: i64,
    pub currency: Currency,
}

/// Largest unit price accepted: 10^12 minor units (ten billion in a two-decimal currency).
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000_000;

/// Why an amount could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount overflows")]
    Overflow,
    #[error("cannot combine {0} and {1}")]
    MixedCurrencies(Currency, Currency),
}

impl From<MoneyError> for InvalidValue {
    fn from(e: MoneyError) -> Self {
        InvalidValue(e.to_string())
    }
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// `unit × quantity`, refusing overflow.
    pub fn times(self, quantity: u32) -> Result<Self, MoneyError> {
        self.amount
            .checked_mul(i64::from(quantity))
            .map(|amount| Self { amount, ..self })
            .ok_or(MoneyError::Overflow)
    }

    pub fn plus(self, other: Money) -> Result<Self, MoneyError> {
        self.same(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|amount| Self { amount, ..self })
            .ok_or(MoneyError::Overflow)
    }

    pub fn minus(self, other: Money) -> Result<Self, MoneyError> {
        self.same(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|amount| Self { amount, ..self })
            .ok_or(MoneyError::Overflow)
    }

    /// The smaller of two amounts of the same currency.
    pub fn min(self, other: Money) -> Result<Self, MoneyError> {
        self.same(other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }

    /// `amount × numerator / denominator`, rounded to the nearest minor
    /// unit with halves away from zero — the OMS's one rounding rule for an
    /// amount computed from a rate (a percentage off, a tax rate).
    pub fn scaled(self, numerator: i64, denominator: i64) -> Result<Self, MoneyError> {
        if denominator <= 0 {
            return Err(MoneyError::Overflow);
        }
        let product = i128::from(self.amount) * i128::from(numerator);
        let d = i128::from(denominator);
        let (q, r) = (product / d, product % d);
        let rounded = if 2 * r.abs() >= d {
            q + product.signum()
        } else {
            q
        };
        i64::try_from(rounded)
            .map(|amount| Self { amount, ..self })
            .map_err(|_| MoneyError::Overflow)
    }

    pub fn is_positive(self) -> bool {
        self.amount > 0
    }

    pub fn is_zero(self) -> bool {
        self.amount == 0
    }

    fn same(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::MixedCurrencies(self.currency, other.currency))
        }
    }
}

/// Serde for a [`Money`] written as an amount field of another name beside
/// `currency` — the shape of fields that predate the type (`total` and
/// `currency` of an order, `refundAmount` and `currency` of a return).
macro_rules! named_amount {
    ($(#[$doc:meta])* $module:ident, $fields:ident, $name:literal) => {
        /// The wire fields of a named amount.
        #[derive(Serialize, Deserialize, schemars::JsonSchema)]
        #[schemars(description = "")]
        pub struct $fields {
            /// Integer minor units of `currency`.
            #[serde(rename = $name)]
            pub amount: i64,
            pub currency: Currency,
        }

        $(#[$doc])*
        pub mod $module {
            use super::{$fields, Money};
            use serde::{Deserialize, Deserializer, Serialize, Serializer};

            pub fn serialize<S: Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
                $fields {
                    amount: m.amount,
                    currency: m.currency,
                }
                .serialize(s)
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
                let f = $fields::deserialize(d)?;
                Ok(Money::new(f.amount, f.currency))
            }
        }
    };
}

named_amount!(
    /// `{"total", "currency"}`.
    as_total,
    TotalFields,
    "total"
);
named_amount!(
    /// `{"refundAmount", "currency"}`.
    as_refund_amount,
    RefundAmountFields,
    "refundAmount"
);

/// `BRL 19.90`, `JPY 1990`, `KWD 1.990`: the code, then the amount with
/// as many decimals as the currency's minor unit has.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let sign = if self.amount < 0 { "-" } else { "" };
        let minor = self.amount.unsigned_abs();
        if digits == 0 {
            return write!(f, "{} {sign}{minor}", self.currency);
        }
        let scale = 10u64.pow(digits);
        write!(
            f,
            "{} {sign}{}.{:0width$}",
            self.currency,
            minor / scale,
            minor % scale,
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_must_be_a_known_iso_code() {
        assert!(Currency::parse("BRL").is_ok());
        assert!(Currency::parse("brl").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("EURO").is_err());
        assert_eq!(
            Currency::parse("USD").map(|c| c.to_string()),
            Ok("USD".into())
        );
    }

    #[test]
    fn formats_with_the_currency_minor_digits() {
        let m = |a, c| Money::new(a, Currency::parse(c).unwrap()).to_string();
        assert_eq!(m(1990, "BRL"), "BRL 19.90");
        assert_eq!(m(5, "USD"), "USD 0.05");
        assert_eq!(m(1990, "JPY"), "JPY 1990");
        assert_eq!(m(1990, "KWD"), "KWD 1.990");
        assert_eq!(m(-250, "EUR"), "EUR -2.50");
        assert_eq!(m(12345, "CLF"), "CLF 1.2345");
    }

    #[test]
    fn arithmetic_refuses_overflow_and_mixed_currencies() {
        let brl = Currency::parse("BRL").unwrap();
        let usd = Currency::parse("USD").unwrap();
        let m = Money {
            amount: 1990,
            currency: brl,
        };
        assert_eq!(m.times(2).unwrap().amount, 3980);
        assert!(
            Money {
                amount: i64::MAX,
                currency: brl
            }
            .times(2)
            .is_err()
        );
        assert!(m.plus(Money::zero(usd)).is_err());
        assert_eq!(m.plus(m).unwrap().amount, 3980);
        assert_eq!(m.minus(m).unwrap(), Money::zero(brl));
        assert_eq!(m.min(Money::new(5, brl)).unwrap().amount, 5);
        assert!(m.min(Money::zero(usd)).is_err());
    }

    #[test]
    fn scaling_rounds_halves_away_from_zero() {
        let brl = Currency::parse("BRL").unwrap();
        let s = |a: i64, n: i64, d: i64| Money::new(a, brl).scaled(n, d).unwrap().amount;
        assert_eq!(s(1990, 10, 100), 199);
        assert_eq!(s(1995, 10, 100), 200, "199.5 rounds up");
        assert_eq!(s(1994, 10, 100), 199, "199.4 rounds down");
        assert_eq!(s(-1995, 10, 100), -200, "halves away from zero");
        assert_eq!(
            s(1000, 1700, 11_700),
            145,
            "tax inside 10.00 at 17%: 1.4529…"
        );
        assert!(Money::new(i64::MAX, brl).scaled(2, 1).is_err());
    }
}
