//! The catalog: products and their prices per currency, and the rule that
//! prices an order's lines from it.
//!
//! A line for a sku with a product record is priced by the catalog: a
//! `unitPrice` sent with it must equal the catalog's (`PRICE_MISMATCH`),
//! and a currency the product has no price in is refused (`NO_PRICE`). A
//! sku without a product record keeps the price the request sends — for
//! storefronts and operators (an order priced by a commerce platform) —
//! but is `UNKNOWN_SKU` for a customer's own token, and for everyone when
//! the catalog is required (`OMS_REQUIRE_CATALOG=true`): no end customer
//! sets a price.

use crate::access::Role;
use crate::ids::Sku;
use crate::money::{Currency, MAX_UNIT_PRICE};
use crate::validation::{FieldError, PlaceOrderRequest};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A product of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub sku: Sku,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u32>,
    /// Unit price per ISO-4217 currency, in its minor units.
    pub prices: BTreeMap<String, i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_category: Option<String>,
}

/// `PUT /products/{sku}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProductRequest {
    #[schemars(required, length(min = 1, max = 200))]
    pub name: Option<String>,
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub weight_grams: Option<i64>,
    /// Unit price per ISO-4217 currency (`{"BRL": 1990}`), minor units.
    #[schemars(required)]
    pub prices: Option<BTreeMap<String, i64>>,
    #[schemars(length(min = 1, max = 64))]
    pub tax_category: Option<String>,
}

/// `GET /products`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductList {
    pub products: Vec<Product>,
}

impl ProductRequest {
    pub fn validate(&self, sku: &str) -> Result<Product, FieldError> {
        let sku = Sku::parse(sku).map_err(|e| FieldError::new("sku", e.0))?;
        let name = self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty() && n.len() <= 200)
            .ok_or_else(|| FieldError::new("name", "must be 1 to 200 characters"))?
            .to_owned();
        let weight_grams = match self.weight_grams {
            None => None,
            Some(w) => Some(
                u32::try_from(w)
                    .ok()
                    .filter(|w| *w <= 1_000_000_000)
                    .ok_or_else(|| FieldError::new("weightGrams", "must be 0 to 10^9"))?,
            ),
        };
        let given = self
            .prices
            .as_ref()
            .ok_or_else(|| FieldError::new("prices", "is required"))?;
        if given.is_empty() || given.len() > 50 {
            return Err(FieldError::new("prices", "must name 1 to 50 currencies"));
        }
        let mut prices = BTreeMap::new();
        for (code, amount) in given {
            let field = format!("prices.{code}");
            let currency = Currency::parse(code).map_err(|e| FieldError::new(&field, e.0))?;
            if !(0..=MAX_UNIT_PRICE).contains(amount) {
                return Err(FieldError::new(
                    field,
                    format!("must be between 0 and {MAX_UNIT_PRICE} minor units"),
                ));
            }
            prices.insert(currency.to_string(), *amount);
        }
        let tax_category = match &self.tax_category {
            None => None,
            Some(t) if !t.trim().is_empty() && t.len() <= 64 => Some(t.trim().to_owned()),
            Some(_) => {
                return Err(FieldError::new("taxCategory", "must be 1 to 64 characters"));
            }
        };
        Ok(Product {
            sku,
            name,
            weight_grams,
            prices,
            tax_category,
        })
    }
}

/// Why a line could not be priced: a stable code and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingError {
    pub code: &'static str,
    pub field: FieldError,
}

/// The skus of a request's lines that parse (what to look up).
pub fn skus_of(request: &PlaceOrderRequest) -> Vec<Sku> {
    let mut skus: Vec<Sku> = request
        .lines
        .iter()
        .flatten()
        .filter_map(|l| l.sku.as_deref().and_then(|s| Sku::parse(s).ok()))
        .collect();
    skus.sort();
    skus.dedup();
    skus
}

/// Prices the request's lines from `catalog` (the products of its skus
/// that exist), before the request is validated: see the module's rules.
/// Lines and fields that do not parse are left to validation.
pub fn price_lines(
    request: &mut PlaceOrderRequest,
    catalog: &BTreeMap<Sku, Product>,
    role: Role,
    require_catalog: bool,
    price_list: Option<&crate::accounts::PriceList>,
) -> Result<(), PricingError> {
    let currency = request.currency.clone().unwrap_or_default();
    let parsed_currency = crate::money::Currency::parse(&currency).ok();
    for (i, line) in request.lines.iter_mut().flatten().enumerate() {
        let Some(sku) = line.sku.as_deref().and_then(|s| Sku::parse(s).ok()) else {
            continue;
        };
        let field = |name: &str| format!("lines[{i}].{name}");
        // An account's price list prices its skus first, by quantity tier.
        let listed = match (price_list, parsed_currency, line.quantity) {
            (Some(list), Some(c), Some(q)) => u32::try_from(q)
                .ok()
                .and_then(|q| list.unit_price(&sku, q, c)),
            _ => None,
        };
        if let Some(price) = listed {
            match line.unit_price {
                Some(sent) if sent != price => {
                    return Err(PricingError {
                        code: "PRICE_MISMATCH",
                        field: FieldError::new(
                            field("unitPrice"),
                            format!(
                                "{sku} costs {price} in {currency} on the account's price list, not {sent}"
                            ),
                        ),
                    });
                }
                _ => line.unit_price = Some(price),
            }
            continue;
        }
        match catalog.get(&sku) {
            Some(product) => {
                let Some(price) = product.prices.get(&currency).copied() else {
                    return Err(PricingError {
                        code: "NO_PRICE",
                        field: FieldError::new(
                            field("sku"),
                            format!("{sku} has no price in {currency}"),
                        ),
                    });
                };
                match line.unit_price {
                    Some(sent) if sent != price => {
                        return Err(PricingError {
                            code: "PRICE_MISMATCH",
                            field: FieldError::new(
                                field("unitPrice"),
                                format!("{sku} costs {price} in {currency}, not {sent}"),
                            ),
                        });
                    }
                    _ => line.unit_price = Some(price),
                }
            }
            None if role == Role::Customer || require_catalog => {
                return Err(PricingError {
                    code: "UNKNOWN_SKU",
                    field: FieldError::new(field("sku"), format!("{sku} is not in the catalog")),
                });
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validation::LineRequest;

    fn request(lines: &[(&str, Option<i64>)]) -> PlaceOrderRequest {
        PlaceOrderRequest {
            currency: Some("BRL".into()),
            lines: Some(
                lines
                    .iter()
                    .map(|(sku, price)| LineRequest {
                        sku: Some(sku.to_string()),
                        quantity: Some(1),
                        unit_price: *price,
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn catalog() -> BTreeMap<Sku, Product> {
        let req = ProductRequest {
            name: Some("Shirt".into()),
            prices: Some([("BRL".to_owned(), 1990)].into()),
            ..Default::default()
        };
        let p = req.validate("SHIRT").unwrap();
        [(p.sku.clone(), p)].into()
    }

    #[test]
    fn the_catalog_prices_lines_and_refuses_another_price() {
        let mut r = request(&[("SHIRT", None), ("LOOSE", Some(500))]);
        price_lines(&mut r, &catalog(), Role::Storefront, false, None).unwrap();
        let prices: Vec<Option<i64>> = r.lines.unwrap().iter().map(|l| l.unit_price).collect();
        assert_eq!(
            prices,
            [Some(1990), Some(500)],
            "a sku without a record keeps its price"
        );

        let mut r = request(&[("SHIRT", Some(1))]);
        let e = price_lines(&mut r, &catalog(), Role::Storefront, false, None).unwrap_err();
        assert_eq!(
            (e.code, e.field.field.as_str()),
            ("PRICE_MISMATCH", "lines[0].unitPrice")
        );

        let mut r = request(&[("SHIRT", Some(1990)), ("LOOSE", Some(1))]);
        let e = price_lines(&mut r, &catalog(), Role::Customer, false, None).unwrap_err();
        assert_eq!(
            (e.code, e.field.field.as_str()),
            ("UNKNOWN_SKU", "lines[1].sku")
        );
        let mut r = request(&[("LOOSE", Some(1))]);
        assert_eq!(
            price_lines(&mut r, &catalog(), Role::Operator, true, None)
                .unwrap_err()
                .code,
            "UNKNOWN_SKU"
        );

        let mut r = request(&[("SHIRT", None)]);
        r.currency = Some("USD".into());
        assert_eq!(
            price_lines(&mut r, &catalog(), Role::Operator, false, None)
                .unwrap_err()
                .code,
            "NO_PRICE"
        );
    }

    #[test]
    fn products_are_checked() {
        let bad = ProductRequest {
            name: Some("x".into()),
            prices: Some([("XYZ".to_owned(), 1)].into()),
            ..Default::default()
        };
        assert_eq!(bad.validate("A").unwrap_err().field, "prices.XYZ");
        let none = ProductRequest {
            name: Some("x".into()),
            prices: Some(BTreeMap::new()),
            ..Default::default()
        };
        assert_eq!(none.validate("A").unwrap_err().field, "prices");
    }
}
