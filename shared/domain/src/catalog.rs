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
//!
//! A **bundle** is a product made of other products (`bundle: [{sku,
//! quantity}]`, each a product with no bundle of its own, priced in every
//! currency the bundle is). An order line for a bundle becomes a line per
//! component ([`expand_bundles`]): each at the component's own price, for
//! the component's quantity × the bundle's, marked with the bundle it came
//! from; what the bundle saves over its parts bought alone is an adjustment
//! (`BUNDLE:{sku}`) shared among them in proportion to their amounts. So
//! the components are reserved, routed, shipped, invoiced and returned as
//! lines of their own, and the order costs what the bundle costs. A bundle
//! never costs more than its parts: `PUT /products` refuses one that would,
//! and should a component's price fall later the order pays the parts.

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
    /// The products it is made of, when it is a bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundle: Vec<Component>,
}

/// One product of a bundle, per unit of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub sku: Sku,
    pub quantity: crate::ids::Quantity,
}

/// A bundle component as `PUT /products/{sku}` takes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRequest {
    #[schemars(required, length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub sku: Option<String>,
    #[schemars(required, range(min = 1, max = 1000))]
    pub quantity: Option<i64>,
}

/// Most products in a bundle.
pub const MAX_COMPONENTS: usize = 20;

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
    /// Makes it a bundle of these products (1 to 20, each once, none a
    /// bundle itself).
    #[schemars(length(min = 1, max = 20))]
    pub bundle: Option<Vec<ComponentRequest>>,
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
        let mut bundle: Vec<Component> = Vec::new();
        if let Some(given) = &self.bundle {
            if given.is_empty() || given.len() > MAX_COMPONENTS {
                return Err(FieldError::new(
                    "bundle",
                    format!("must name 1 to {MAX_COMPONENTS} products"),
                ));
            }
            for (i, c) in given.iter().enumerate() {
                let f = |n: &str| format!("bundle[{i}].{n}");
                let part = c
                    .sku
                    .as_deref()
                    .ok_or_else(|| FieldError::new(f("sku"), "is required"))
                    .and_then(|s| Sku::parse(s).map_err(|e| FieldError::new(f("sku"), e.0)))?;
                if part == sku || bundle.iter().any(|b| b.sku == part) {
                    return Err(FieldError::new(
                        f("sku"),
                        format!("{part} is the bundle itself or named twice"),
                    ));
                }
                let quantity = c
                    .quantity
                    .filter(|q| (1..=1000).contains(q))
                    .and_then(|q| crate::ids::Quantity::new(q).ok())
                    .ok_or_else(|| FieldError::new(f("quantity"), "must be 1 to 1000"))?;
                bundle.push(Component {
                    sku: part,
                    quantity,
                });
            }
        }
        Ok(Product {
            sku,
            name,
            weight_grams,
            prices,
            tax_category,
            bundle,
        })
    }
}

impl Product {
    /// Whether this bundle can be sold as its parts are now (`parts`: the
    /// catalog's products of its components): each a product that is no
    /// bundle, priced in every currency the bundle is, together costing no
    /// less than the bundle. The field and why not, if it cannot.
    pub fn check_bundle(&self, parts: &BTreeMap<Sku, Product>) -> Result<(), FieldError> {
        for (i, c) in self.bundle.iter().enumerate() {
            let field = format!("bundle[{i}].sku");
            let Some(part) = parts.get(&c.sku) else {
                return Err(FieldError::new(
                    field,
                    format!("{} is not in the catalog", c.sku),
                ));
            };
            if !part.bundle.is_empty() {
                return Err(FieldError::new(
                    field,
                    format!("{} is a bundle itself", c.sku),
                ));
            }
            for currency in self.prices.keys() {
                if !part.prices.contains_key(currency) {
                    return Err(FieldError::new(
                        field,
                        format!("{} has no price in {currency}", c.sku),
                    ));
                }
            }
        }
        for (currency, price) in &self.prices {
            let parts_cost: i64 = self
                .bundle
                .iter()
                .map(|c| parts[&c.sku].prices[currency] * i64::from(c.quantity.get()))
                .sum();
            if *price > parts_cost {
                return Err(FieldError::new(
                    format!("prices.{currency}"),
                    format!(
                        "a bundle may not cost more than its parts ({parts_cost} in {currency})"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The skus of the components of the bundles among `products` (what to
/// look up next).
pub fn components_of(products: &BTreeMap<Sku, Product>) -> Vec<Sku> {
    let mut skus: Vec<Sku> = products
        .values()
        .flat_map(|p| p.bundle.iter().map(|c| c.sku.clone()))
        .filter(|s| !products.contains_key(s))
        .collect();
    skus.sort();
    skus.dedup();
    skus
}

/// Replaces each line for a bundle by a line per component (see the
/// module's rules); lines are numbered again from 1. `catalog` holds the
/// products of the order's skus and of their components. A component
/// without a price in the order's currency is `NO_PRICE`; a component on
/// two lines (in two bundles, or also on its own) is `DUPLICATE_SKU`.
pub fn expand_bundles(
    order: &mut crate::order::NewOrder,
    catalog: &BTreeMap<Sku, Product>,
) -> Result<(), PricingError> {
    use crate::money::Money;
    use crate::order::{BundleRef, OrderLine};
    if !order
        .lines
        .iter()
        .any(|l| catalog.get(&l.sku).is_some_and(|p| !p.bundle.is_empty()))
    {
        return Ok(());
    }
    let currency = order.currency();
    let refuse = |code, field: String, message: String| PricingError {
        code,
        field: FieldError::new(field, message),
    };
    let mut lines: Vec<OrderLine> = Vec::new();
    for (i, line) in std::mem::take(&mut order.lines).into_iter().enumerate() {
        let Some(bundle) = catalog.get(&line.sku).filter(|p| !p.bundle.is_empty()) else {
            lines.push(line);
            continue;
        };
        let mut parts = Vec::with_capacity(bundle.bundle.len());
        for c in &bundle.bundle {
            let price = catalog
                .get(&c.sku)
                .filter(|p| p.bundle.is_empty())
                .and_then(|p| p.prices.get(currency.as_str()))
                .ok_or_else(|| {
                    refuse(
                        "NO_PRICE",
                        format!("lines[{i}].sku"),
                        format!(
                            "{} (in bundle {}) has no price in {currency}",
                            c.sku, line.sku
                        ),
                    )
                })?;
            let quantity = c
                .quantity
                .get()
                .checked_mul(line.quantity.get())
                .and_then(|q| crate::ids::Quantity::new(i64::from(q)).ok())
                .ok_or_else(|| {
                    refuse(
                        "INVALID_VALUE",
                        format!("lines[{i}].quantity"),
                        format!("too many units of {} in bundle {}", c.sku, line.sku),
                    )
                })?;
            let mut part =
                OrderLine::priced(0, c.sku.clone(), quantity, Money::new(*price, currency))?;
            part.bundle = Some(BundleRef {
                sku: line.sku.clone(),
                quantity: line.quantity,
            });
            parts.push(part);
        }
        let parts_cost: i64 = parts.iter().map(|p| p.line_total.amount).sum();
        let saving = (parts_cost - line.line_total.amount).max(0);
        let weights: Vec<i64> = parts.iter().map(|p| p.line_total.amount).collect();
        let id = format!("BUNDLE:{}", line.sku);
        for (part, off) in parts
            .iter_mut()
            .zip(crate::pricing::share(saving, &weights))
        {
            crate::pricing::take(part, &id, Money::new(off, currency));
        }
        lines.extend(parts);
    }
    if lines.len() > crate::validation::MAX_LINES {
        return Err(refuse(
            "INVALID_VALUE",
            "lines".into(),
            format!(
                "with their bundles' products the order has more than {} lines",
                crate::validation::MAX_LINES
            ),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for l in &lines {
        if !seen.insert(l.sku.clone()) {
            let why = match &l.bundle {
                Some(b) => format!("{} of bundle {} is also on another line", l.sku, b.sku),
                None => format!("{} is also in a bundle of the order", l.sku),
            };
            return Err(refuse("DUPLICATE_SKU", "lines".into(), why));
        }
    }
    for (n, l) in lines.iter_mut().enumerate() {
        l.line_no = (n + 1) as u16;
    }
    order.total = lines.iter().try_fold(Money::zero(currency), |t, l| {
        t.plus(l.line_total)?.minus(l.discount)
    })?;
    order.lines = lines;
    Ok(())
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
    fn a_bundle_becomes_its_products_and_costs_what_it_costs() {
        let product = |sku: &str, price: i64, bundle: Option<Vec<ComponentRequest>>| {
            ProductRequest {
                name: Some(sku.into()),
                prices: Some([("BRL".to_owned(), price)].into()),
                bundle,
                ..Default::default()
            }
            .validate(sku)
            .unwrap()
        };
        let part = |sku: &str, q: i64| ComponentRequest {
            sku: Some(sku.into()),
            quantity: Some(q),
        };
        let kit = product("KIT", 1000, Some(vec![part("A", 3), part("B", 1)]));
        let catalog: BTreeMap<Sku, Product> = [
            product("A", 333, None),
            product("B", 7, None),
            kit.clone(),
            product("C", 50, None),
        ]
        .into_iter()
        .map(|p| (p.sku.clone(), p))
        .collect();
        kit.check_bundle(&catalog).unwrap();
        let mut r = request(&[("C", Some(50)), ("KIT", Some(1000))]);
        r.lines.as_mut().unwrap()[1].quantity = Some(3);
        r.customer = Some(crate::validation::CustomerRequest {
            id: Some("c".into()),
            email: None,
        });
        r.channel = Some("web".into());
        r.ship_to = Some(crate::validation::AddressRequest {
            country: Some("BR".into()),
            city: Some("Rio".into()),
            line1: Some("Rua A".into()),
            lat: Some(0.0),
            lon: Some(0.0),
            ..Default::default()
        });
        let mut new = r.validate().unwrap();
        expand_bundles(&mut new, &catalog).unwrap();
        let lines: Vec<(u16, &str, u32, i64, i64)> = new
            .lines
            .iter()
            .map(|l| {
                (
                    l.line_no,
                    l.sku.as_str(),
                    l.quantity.get(),
                    l.line_total.amount,
                    l.discount.amount,
                )
            })
            .collect();
        // 3 kits: 9 × 333 + 3 × 7 = 3018 for 3000; 18 saved, shared
        // 2997 : 21 (17.87 and 0.13: floors 17 and 0, the unit left over
        // to the larger remainder).
        assert_eq!(
            lines,
            [
                (1, "C", 1, 50, 0),
                (2, "A", 9, 2997, 18),
                (3, "B", 3, 21, 0)
            ]
        );
        assert_eq!(new.total.amount, 3050);
        assert!(new.lines[1..].iter().all(|l| {
            l.bundle
                .as_ref()
                .is_some_and(|b| b.sku.as_str() == "KIT" && b.quantity.get() == 3)
        }));

        // A part with no price in the order's currency; a kit dearer than
        // its parts.
        let mut usd = catalog.clone();
        usd.get_mut(&Sku::parse("B").unwrap())
            .unwrap()
            .prices
            .clear();
        assert_eq!(kit.check_bundle(&usd).unwrap_err().field, "bundle[1].sku");
        let mut again = r.validate().unwrap();
        assert_eq!(
            expand_bundles(&mut again, &usd).unwrap_err().code,
            "NO_PRICE"
        );
        let dear = product("KIT", 1019, Some(vec![part("A", 3), part("B", 1)]));
        assert_eq!(dear.check_bundle(&catalog).unwrap_err().field, "prices.BRL");
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
