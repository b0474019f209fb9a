//! Business customers: accounts, their price lists, and buying on credit.
//!
//! An account (`PUT /accounts/{accountId}`) names the customers who buy
//! for it, its price list, its credit limit and payment terms. An order
//! placed for an account (`accountId`) must come from one of its customers
//! (`NOT_IN_ACCOUNT`) and may carry the buyer's `purchaseOrderNumber`.
//!
//! **Price lists** (`PUT /price-lists/{priceListId}`) price skus in one
//! currency by quantity tiers: a line is priced by the tier with the
//! highest `minQuantity` its quantity reaches. A sku on the account's list
//! takes the list's price instead of the catalog's, by the catalog's rules
//! (a `unitPrice` sent must equal it).
//!
//! **On account** (`"payment": {"method": "ON_ACCOUNT"}`, only for an
//! account's order): released without prepayment, paid later by the
//! account (`PaymentConfirmed`) within its terms. The account's open
//! balance — what its on-account orders charged and it has not paid, per
//! currency — follows every change of those orders ([`open_amount`]); an
//! order that would take the balance beyond the credit limit is placed on
//! hold (`CREDIT_LIMIT`) for an operator to release or cancel.

use crate::ids::{CustomerId, Sku};
use crate::money::{Currency, MAX_UNIT_PRICE, Money};
use crate::order::{Order, PaymentMethod};
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most customers an account lists.
pub const MAX_CUSTOMERS: usize = 1000;
/// Most skus a price list prices, and tiers per sku.
pub const MAX_PRICED_SKUS: usize = 5000;
pub const MAX_TIERS: usize = 20;

fn id_field(id: &str, field: &str) -> Result<String, FieldError> {
    crate::validation::token(id, field, 64)
}

/// A business customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub account_id: String,
    pub name: String,
    /// The customers who buy for it.
    pub customers: Vec<CustomerId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_list_id: Option<String>,
    /// Most it may owe on account, in minor units of `currency`; absent:
    /// no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<i64>,
    /// The currency of the credit limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// `NET30`, … (shown on its orders; the OMS does not dun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terms: Option<String>,
}

/// `PUT /accounts/{accountId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountRequest {
    #[schemars(required, length(min = 1, max = 200))]
    pub name: Option<String>,
    #[schemars(length(max = 1000))]
    pub customers: Option<Vec<String>>,
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub price_list_id: Option<String>,
    #[schemars(range(min = 0, max = 1_000_000_000_000_000i64))]
    pub credit_limit: Option<i64>,
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: Option<String>,
    #[schemars(length(min = 1, max = 32))]
    pub payment_terms: Option<String>,
}

impl AccountRequest {
    pub fn validate(&self, id: &str) -> Result<Account, FieldError> {
        let account_id = id_field(id, "accountId")?;
        let name = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.len() <= 200)
            .ok_or_else(|| FieldError::new("name", "must be 1 to 200 characters"))?
            .to_owned();
        let given = self.customers.as_deref().unwrap_or_default();
        if given.len() > MAX_CUSTOMERS {
            return Err(FieldError::new(
                "customers",
                format!("at most {MAX_CUSTOMERS}"),
            ));
        }
        let mut customers = Vec::with_capacity(given.len());
        for (i, c) in given.iter().enumerate() {
            customers.push(
                CustomerId::parse(c)
                    .map_err(|e| FieldError::new(format!("customers[{i}]"), e.0))?,
            );
        }
        customers.sort();
        customers.dedup();
        let currency = self
            .currency
            .as_deref()
            .map(Currency::parse)
            .transpose()
            .map_err(|e| FieldError::new("currency", e.0))?;
        if let Some(limit) = self.credit_limit {
            if !(0..=1_000_000_000_000_000).contains(&limit) {
                return Err(FieldError::new("creditLimit", "must be 0 to 10^15"));
            }
            if currency.is_none() {
                return Err(FieldError::new(
                    "currency",
                    "is required with a credit limit",
                ));
            }
        }
        let payment_terms = match self.payment_terms.as_deref().map(str::trim) {
            None => None,
            Some(t) if !t.is_empty() && t.len() <= 32 => Some(t.to_owned()),
            Some(_) => {
                return Err(FieldError::new(
                    "paymentTerms",
                    "must be 1 to 32 characters",
                ));
            }
        };
        Ok(Account {
            account_id,
            name,
            customers,
            price_list_id: self
                .price_list_id
                .as_deref()
                .map(|p| id_field(p, "priceListId"))
                .transpose()?,
            credit_limit: self.credit_limit,
            currency,
            payment_terms,
        })
    }
}

/// An account and its open balance per currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    #[serde(flatten)]
    pub account: Account,
    /// What its on-account orders charged and it has not paid, per
    /// currency (a moment behind on AWS).
    pub open_balance: std::collections::BTreeMap<String, i64>,
}

/// One quantity tier of a price list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// From this many units on a line.
    pub min_quantity: u32,
    /// Minor units of the list's currency.
    pub unit_price: i64,
}

/// Prices for an account, by sku and quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceList {
    pub price_list_id: String,
    pub currency: Currency,
    /// Tiers by sku, lowest `minQuantity` first.
    pub prices: BTreeMap<Sku, Vec<Tier>>,
}

/// `PUT /price-lists/{priceListId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceListRequest {
    #[schemars(required, pattern(r"^[A-Z]{3}$"))]
    pub currency: Option<String>,
    /// Tiers by sku: `{"SHIRT": [{"minQuantity": 1, "unitPrice": 1800}, {"minQuantity": 10, "unitPrice": 1500}]}`.
    #[schemars(required)]
    pub prices: Option<BTreeMap<String, Vec<Tier>>>,
}

impl PriceListRequest {
    pub fn validate(&self, id: &str) -> Result<PriceList, FieldError> {
        let price_list_id = id_field(id, "priceListId")?;
        let currency = Currency::parse(
            self.currency
                .as_deref()
                .ok_or_else(|| FieldError::new("currency", "is required"))?,
        )
        .map_err(|e| FieldError::new("currency", e.0))?;
        let given = self
            .prices
            .as_ref()
            .ok_or_else(|| FieldError::new("prices", "is required"))?;
        if given.len() > MAX_PRICED_SKUS {
            return Err(FieldError::new(
                "prices",
                format!("at most {MAX_PRICED_SKUS} skus"),
            ));
        }
        let mut prices = BTreeMap::new();
        for (sku, tiers) in given {
            let field = format!("prices.{sku}");
            let parsed = Sku::parse(sku).map_err(|e| FieldError::new(&field, e.0))?;
            if tiers.is_empty() || tiers.len() > MAX_TIERS {
                return Err(FieldError::new(
                    field,
                    format!("must have 1 to {MAX_TIERS} tiers"),
                ));
            }
            let mut tiers = tiers.clone();
            tiers.sort_by_key(|t| t.min_quantity);
            for (i, t) in tiers.iter().enumerate() {
                if t.min_quantity == 0 || !(0..=MAX_UNIT_PRICE).contains(&t.unit_price) {
                    return Err(FieldError::new(
                        format!("{field}[{i}]"),
                        "minQuantity must be at least 1 and unitPrice 0 to 10^12",
                    ));
                }
                if i > 0 && tiers[i - 1].min_quantity == t.min_quantity {
                    return Err(FieldError::new(
                        format!("{field}[{i}].minQuantity"),
                        "is listed twice",
                    ));
                }
            }
            prices.insert(parsed, tiers);
        }
        Ok(PriceList {
            price_list_id,
            currency,
            prices,
        })
    }
}

impl PriceList {
    /// The unit price of `quantity` units of `sku` in `currency`, if the
    /// list prices them: the tier with the highest `minQuantity` reached.
    pub fn unit_price(&self, sku: &Sku, quantity: u32, currency: Currency) -> Option<i64> {
        if currency != self.currency {
            return None;
        }
        self.prices
            .get(sku)?
            .iter()
            .rev()
            .find(|t| quantity >= t.min_quantity)
            .map(|t| t.unit_price)
    }
}

/// What an order on account still owes its account: its total less what
/// was paid, while it is open; nothing once it ended or for other methods.
pub fn open_amount(order: &Order) -> Option<(String, Money)> {
    let account = order.account_id.clone()?;
    if order.payment_method != PaymentMethod::OnAccount {
        return None;
    }
    let owed = if order.status.is_closed() {
        0
    } else {
        (order.total.amount - order.net_paid().amount).max(0)
    };
    Some((account, Money::new(owed, order.currency)))
}

/// How a change moved its account's open balance: (account, currency,
/// difference), when it did.
pub fn balance_delta(before: Option<&Order>, after: &Order) -> Option<(String, Currency, i64)> {
    let was = before.and_then(open_amount).map_or(0, |(_, m)| m.amount);
    let (account, now) = open_amount(after)?;
    let d = now.amount - was;
    (d != 0).then_some((account, now.currency, d))
}

/// Why an order on account is held, if the account's open balance (as
/// read, in the order's currency) plus the order would exceed its limit.
pub fn credit_hold(account: &Account, open: i64, total: Money) -> Option<String> {
    let limit = account.credit_limit?;
    if account.currency != Some(total.currency) {
        return Some(format!(
            "account {} has credit in {}, not {}",
            account.account_id,
            account
                .currency
                .map_or("no currency".to_owned(), |c| c.to_string()),
            total.currency
        ));
    }
    let after = open.saturating_add(total.amount);
    (after > limit).then(|| {
        format!(
            "account {} would owe {} on a credit limit of {}",
            account.account_id,
            Money::new(after, total.currency),
            Money::new(limit, total.currency)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> PriceList {
        serde_json::from_value::<PriceListRequest>(serde_json::json!({
            "currency": "BRL",
            "prices": {"SHIRT": [{"minQuantity": 10, "unitPrice": 1500}, {"minQuantity": 1, "unitPrice": 1800}]}
        }))
        .unwrap()
        .validate("B2B")
        .unwrap()
    }

    #[test]
    fn the_highest_tier_reached_prices_the_line() {
        let brl = Currency::parse("BRL").unwrap();
        let shirt = Sku::parse("SHIRT").unwrap();
        assert_eq!(list().unit_price(&shirt, 9, brl), Some(1800));
        assert_eq!(list().unit_price(&shirt, 10, brl), Some(1500));
        assert_eq!(list().unit_price(&shirt, 50, brl), Some(1500));
        assert_eq!(list().unit_price(&Sku::parse("MUG").unwrap(), 1, brl), None);
        assert_eq!(
            list().unit_price(&shirt, 10, Currency::parse("USD").unwrap()),
            None
        );
    }

    #[test]
    fn a_credit_limit_holds_what_goes_beyond_it() {
        let brl = Currency::parse("BRL").unwrap();
        let account = AccountRequest {
            name: Some("Acme".into()),
            customers: Some(vec!["buyer-1".into()]),
            credit_limit: Some(10_000),
            currency: Some("BRL".into()),
            ..Default::default()
        }
        .validate("acme")
        .unwrap();
        assert_eq!(credit_hold(&account, 4_000, Money::new(6_000, brl)), None);
        let held = credit_hold(&account, 4_001, Money::new(6_000, brl)).unwrap();
        assert!(held.contains("BRL 100.01"), "{held}");
        assert!(credit_hold(&account, 0, Money::new(1, Currency::parse("USD").unwrap())).is_some());
        let bad = AccountRequest {
            name: Some("Acme".into()),
            credit_limit: Some(5),
            ..Default::default()
        };
        assert_eq!(bad.validate("acme").unwrap_err().field, "currency");
    }
}
