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

/// An amount in minor units (cents, centavos) of a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

/// Largest unit price accepted: 10^12 minor units (ten billion in a two-decimal currency).
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000_000;

impl Money {
    pub fn zero(currency: Currency) -> Self {
        Self {
            amount: 0,
            currency,
        }
    }

    /// `unit × quantity`, refusing overflow.
    pub fn times(self, quantity: u32) -> Result<Self, InvalidValue> {
        self.amount
            .checked_mul(i64::from(quantity))
            .map(|amount| Self { amount, ..self })
            .ok_or_else(|| InvalidValue("amount overflows".into()))
    }

    pub fn plus(self, other: Money) -> Result<Self, InvalidValue> {
        if self.currency != other.currency {
            return Err(InvalidValue("cannot add different currencies".into()));
        }
        self.amount
            .checked_add(other.amount)
            .map(|amount| Self { amount, ..self })
            .ok_or_else(|| InvalidValue("amount overflows".into()))
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
    }
}
