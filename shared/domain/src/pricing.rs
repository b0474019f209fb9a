//! Pricing an order at intake, after the catalog set its unit prices:
//! promotions, the shipping charge and tax — in integer minor units.
//!
//! The steps, in order:
//! 1. the **shipping charge**, from the rate table ([`ShippingRates`]: ship
//!    method × destination country × weight band; no table, no charge);
//! 2. **promotions** ([`Promotion`]): the coupons the order names must exist
//!    and apply; automatic ones (no coupon) apply inside their window. An
//!    exclusive promotion applies alone (the exclusive one of highest
//!    priority, when any is eligible); otherwise every eligible one applies,
//!    highest priority first — sku promotions (`PERCENT_OFF_SKUS`,
//!    `BUY_X_GET_Y`) on the lines, then order promotions
//!    (`PERCENT_OFF_ORDER`, `AMOUNT_OFF_ORDER`) on what the lines still cost,
//!    then `FREE_SHIPPING`. A discount never exceeds what it discounts;
//!    `minSubtotal` is compared with the subtotal before any discount;
//! 3. **tax** on each line's net amount (after its discounts) and on the
//!    shipping charge (category `shipping`), by a [`TaxQuote`] — the rule
//!    table's ([`TaxRules::quote`]) unless another provider answers.
//!
//! **Rounding, one rule everywhere**: an amount computed from a rate (a
//! percentage off, a tax rate) is rounded to the nearest minor unit, halves
//! away from zero ([`Money::scaled`]); an order-level discount is shared
//! among the lines in proportion to what each still costs, floors first and
//! the units left over one each to the largest remainders (earlier line on
//! a tie), so the lines add up exactly to the order's discount.
//!
//! Totals: `subtotal` = Σ quantity × unit price; `discount` = Σ line
//! discounts; `shipping` = the charge less its discount; `tax` = every tax
//! (inclusive taxes are inside the prices, exclusive ones are added);
//! `total` = subtotal − discount + shipping + exclusive tax.

use crate::ids::Sku;
use crate::money::{Currency, MAX_UNIT_PRICE, Money, MoneyError};
use crate::order::{NewOrder, OrderLine};
use crate::time::Timestamp;
use crate::validation::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most promotions kept (all are read to price an order).
pub const MAX_PROMOTIONS: usize = 500;
/// Most rates in the shipping table, and rules in the tax table.
pub const MAX_RULES: usize = 1000;
/// The ship method of an order that names none.
pub const DEFAULT_SHIP_METHOD: &str = "STANDARD";
/// The ship method of an order collected at a store: nothing to charge.
pub const PICKUP_METHOD: &str = "PICKUP";
/// The tax category of the shipping charge.
pub const SHIPPING_TAX_CATEGORY: &str = "shipping";

pub use crate::catalog::PricingError;

impl PricingError {
    fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            field: FieldError::new(field, message),
        }
    }
}

impl From<MoneyError> for PricingError {
    fn from(e: MoneyError) -> Self {
        Self::new("INVALID_VALUE", "lines", e.to_string())
    }
}

/// An amount as documents hold it: a [`Money`], or minor units on the wire.
pub trait Amount {
    fn is_nothing(&self) -> bool;
}
impl Amount for i64 {
    fn is_nothing(&self) -> bool {
        *self == 0
    }
}
impl Amount for Money {
    fn is_nothing(&self) -> bool {
        self.is_zero()
    }
}

/// For `skip_serializing_if`: an amount of nothing is left out.
pub fn nothing<A: Amount>(a: &A) -> bool {
    a.is_nothing()
}

/// A promotion's share of an amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "PriceAdjustment")]
pub struct Adjustment<A = Money> {
    pub promotion_id: String,
    /// Taken off (minor units of the order's currency).
    pub amount: A,
}

impl<A> Adjustment<A> {
    pub fn map<B>(self, f: impl Fn(A) -> B) -> Adjustment<B> {
        Adjustment {
            promotion_id: self.promotion_id,
            amount: f(self.amount),
        }
    }
}

/// What the order pays for delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(bound = "A: schemars::JsonSchema + Default + Serialize")]
pub struct ShippingCharge<A = Money> {
    /// The ship method (`STANDARD` unless the order named another).
    pub method: String,
    /// The rate table's charge, before discounts.
    pub amount: A,
    #[serde(default)]
    pub discount: A,
    #[serde(default)]
    pub tax: A,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_included: bool,
    /// The rate applied, in hundredths of a percent.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tax_rate_basis_points: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment<A>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ShippingCharge {
    pub fn free(currency: Currency) -> Self {
        Self {
            method: DEFAULT_SHIP_METHOD.to_owned(),
            amount: Money::zero(currency),
            discount: Money::zero(currency),
            tax: Money::zero(currency),
            tax_included: false,
            tax_rate_basis_points: 0,
            adjustments: Vec::new(),
        }
    }
    /// What the customer pays for it: the charge less its discount, plus
    /// its tax when the tax is not inside.
    pub fn payable(&self) -> Money {
        let net = self.amount.amount - self.discount.amount;
        let tax = if self.tax_included {
            0
        } else {
            self.tax.amount
        };
        Money::new(net + tax, self.amount.currency)
    }
}

impl<A> ShippingCharge<A> {
    pub fn map<B>(self, f: impl Fn(A) -> B) -> ShippingCharge<B> {
        ShippingCharge {
            method: self.method,
            amount: f(self.amount),
            discount: f(self.discount),
            tax: f(self.tax),
            tax_included: self.tax_included,
            tax_rate_basis_points: self.tax_rate_basis_points,
            adjustments: self.adjustments.into_iter().map(|a| a.map(&f)).collect(),
        }
    }
}

impl ShippingCharge<i64> {
    /// Free, by the default method, with nothing on it: left out of
    /// stored and shown orders.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for ShippingCharge<i64> {
    fn default() -> Self {
        Self {
            method: DEFAULT_SHIP_METHOD.to_owned(),
            amount: 0,
            discount: 0,
            tax: 0,
            tax_included: false,
            tax_rate_basis_points: 0,
            adjustments: Vec::new(),
        }
    }
}

impl OrderLine {
    /// What the customer pays for the line: its amount less its discount,
    /// plus its tax when the tax is not inside the price.
    pub fn payable(&self) -> Money {
        let tax = if self.tax_included {
            0
        } else {
            self.tax.amount
        };
        Money::new(
            self.line_total.amount - self.discount.amount + tax,
            self.line_total.currency,
        )
    }
    /// The line's amount after its discounts (the taxable amount).
    fn net(&self) -> Money {
        Money::new(
            self.line_total.amount - self.discount.amount,
            self.line_total.currency,
        )
    }
}

// ---------------------------------------------------------------- promotions

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PromotionType {
    PercentOffOrder,
    AmountOffOrder,
    PercentOffSkus,
    BuyXGetY,
    FreeShipping,
}

impl PromotionType {
    /// When it applies among the others: sku promotions, order ones, shipping.
    fn stage(self) -> u8 {
        match self {
            Self::PercentOffSkus | Self::BuyXGetY => 0,
            Self::PercentOffOrder | Self::AmountOffOrder => 1,
            Self::FreeShipping => 2,
        }
    }
}

/// A promotion, as validated from a [`PromotionRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    pub promotion_id: String,
    #[serde(rename = "type")]
    pub kind: PromotionType,
    /// Whole percent (`PERCENT_OFF_*`, and `BUY_X_GET_Y`'s discount on the
    /// free units, 100 unless set), or minor units (`AMOUNT_OFF_ORDER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skus: Vec<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get: Option<u32>,
    /// Minor units of the order's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_subtotal: Option<i64>,
    /// Only orders in this currency (amounts are minor units of the order's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// Upper case; an order names it in `couponCodes` (any case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<Timestamp>,
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub priority: i32,
    /// Only orders of these channels (absent: every channel) — so that,
    /// say, a marketplace's orders keep the prices the marketplace charged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<crate::ids::Channel>,
}

/// `PUT /promotions/{promotionId}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionRequest {
    #[serde(rename = "type")]
    #[schemars(
        required,
        extend("enum" = ["PERCENT_OFF_ORDER", "AMOUNT_OFF_ORDER", "PERCENT_OFF_SKUS", "BUY_X_GET_Y", "FREE_SHIPPING"])
    )]
    pub kind: Option<String>,
    /// Whole percent (1–100) or minor units (`AMOUNT_OFF_ORDER`).
    #[schemars(range(min = 1, max = 1_000_000_000_000i64))]
    pub value: Option<i64>,
    #[schemars(length(max = 100))]
    pub skus: Option<Vec<String>>,
    #[schemars(range(min = 1, max = 1000))]
    pub buy: Option<i64>,
    #[schemars(range(min = 1, max = 1000))]
    pub get: Option<i64>,
    #[schemars(range(min = 0, max = 1_000_000_000_000i64))]
    pub min_subtotal: Option<i64>,
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: Option<String>,
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub coupon_code: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub exclusive: Option<bool>,
    #[schemars(range(min = -1000, max = 1000))]
    pub priority: Option<i64>,
    /// Only orders of these channels.
    #[schemars(length(max = 50))]
    pub channels: Option<Vec<String>>,
}

/// `GET /promotions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PromotionList {
    pub promotions: Vec<Promotion>,
}

fn id_like(s: &str, max: usize) -> bool {
    crate::validation::token(s, "", max).is_ok()
}

fn time_field(v: &Option<String>, field: &str) -> Result<Option<Timestamp>, FieldError> {
    v.as_deref()
        .map(|s| {
            Timestamp::parse_rfc3339(s)
                .ok_or_else(|| FieldError::new(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

fn small(v: Option<i64>, field: &str, min: i64, max: i64) -> Result<Option<i64>, FieldError> {
    match v {
        Some(n) if !(min..=max).contains(&n) => Err(FieldError::new(
            field,
            format!("must be between {min} and {max}"),
        )),
        v => Ok(v),
    }
}

impl PromotionRequest {
    pub fn validate(&self, id: &str) -> Result<Promotion, FieldError> {
        if !id_like(id, 64) {
            return Err(FieldError::new(
                "promotionId",
                "must be 1 to 64 letters, digits, `_` or `-`",
            ));
        }
        let kind = match self.kind.as_deref() {
            Some("PERCENT_OFF_ORDER") => PromotionType::PercentOffOrder,
            Some("AMOUNT_OFF_ORDER") => PromotionType::AmountOffOrder,
            Some("PERCENT_OFF_SKUS") => PromotionType::PercentOffSkus,
            Some("BUY_X_GET_Y") => PromotionType::BuyXGetY,
            Some("FREE_SHIPPING") => PromotionType::FreeShipping,
            None => return Err(FieldError::new("type", "is required")),
            Some(_) => {
                return Err(FieldError::new(
                    "type",
                    "one of PERCENT_OFF_ORDER, AMOUNT_OFF_ORDER, PERCENT_OFF_SKUS, BUY_X_GET_Y, FREE_SHIPPING",
                ));
            }
        };
        let value = match kind {
            PromotionType::PercentOffOrder | PromotionType::PercentOffSkus => Some(
                small(self.value, "value", 1, 100)?
                    .ok_or_else(|| FieldError::new("value", "is required: whole percent"))?,
            ),
            PromotionType::AmountOffOrder => Some(
                small(self.value, "value", 1, MAX_UNIT_PRICE)?
                    .ok_or_else(|| FieldError::new("value", "is required: minor units"))?,
            ),
            PromotionType::BuyXGetY => small(self.value, "value", 1, 100)?,
            PromotionType::FreeShipping => match self.value {
                Some(_) => {
                    return Err(FieldError::new("value", "FREE_SHIPPING takes no value"));
                }
                None => None,
            },
        };
        let mut skus = Vec::new();
        for (i, s) in self.skus.iter().flatten().enumerate() {
            skus.push(Sku::parse(s).map_err(|e| FieldError::new(format!("skus[{i}]"), e.0))?);
        }
        if skus.len() > 100 {
            return Err(FieldError::new("skus", "at most 100"));
        }
        skus.sort();
        skus.dedup();
        let needs_skus = matches!(
            kind,
            PromotionType::PercentOffSkus | PromotionType::BuyXGetY
        );
        if needs_skus && skus.is_empty() {
            return Err(FieldError::new("skus", "is required for this type"));
        }
        let (mut buy, mut get) = (None, None);
        if kind == PromotionType::BuyXGetY {
            let n = |v, f| {
                small(v, f, 1, 1000)?
                    .map(|n| n as u32)
                    .ok_or_else(|| FieldError::new(f, "is required for BUY_X_GET_Y"))
            };
            buy = Some(n(self.buy, "buy")?);
            get = Some(n(self.get, "get")?);
        }
        let currency = self
            .currency
            .as_deref()
            .map(Currency::parse)
            .transpose()
            .map_err(|e| FieldError::new("currency", e.0))?;
        let coupon_code = match self.coupon_code.as_deref() {
            None => None,
            Some(c) if id_like(c, 64) => Some(c.to_ascii_uppercase()),
            Some(_) => {
                return Err(FieldError::new(
                    "couponCode",
                    "must be 1 to 64 letters, digits, `_` or `-`",
                ));
            }
        };
        let starts_at = time_field(&self.starts_at, "startsAt")?;
        let ends_at = time_field(&self.ends_at, "endsAt")?;
        if let (Some(s), Some(e)) = (starts_at, ends_at)
            && e <= s
        {
            return Err(FieldError::new("endsAt", "must be after startsAt"));
        }
        Ok(Promotion {
            promotion_id: id.to_owned(),
            kind,
            value,
            skus,
            buy,
            get,
            min_subtotal: small(self.min_subtotal, "minSubtotal", 0, MAX_UNIT_PRICE)?,
            currency,
            coupon_code,
            starts_at,
            ends_at,
            exclusive: self.exclusive.unwrap_or(false),
            priority: small(self.priority, "priority", -1000, 1000)?.unwrap_or(0) as i32,
            channels: {
                let given = self.channels.as_deref().unwrap_or_default();
                if given.len() > 50 {
                    return Err(FieldError::new("channels", "at most 50"));
                }
                given
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        crate::ids::Channel::parse(c)
                            .map_err(|e| FieldError::new(format!("channels[{i}]"), e.0))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            },
        })
    }
}

impl Promotion {
    /// Why it does not apply to an order in `currency` with this subtotal
    /// at `now`, if it does not.
    fn inapplicable(
        &self,
        channel: &crate::ids::Channel,
        currency: Currency,
        subtotal: Money,
        now: Timestamp,
    ) -> Option<String> {
        if !self.channels.is_empty() && !self.channels.contains(channel) {
            return Some(format!("is not for channel {channel}"));
        }
        if self.starts_at.is_some_and(|s| now < s) {
            return Some("has not started".into());
        }
        if self.ends_at.is_some_and(|e| now >= e) {
            return Some("has ended".into());
        }
        if self.currency.is_some_and(|c| c != currency) {
            return Some(format!("is not for orders in {currency}"));
        }
        if let Some(min) = self.min_subtotal
            && subtotal.amount < min
        {
            return Some(format!("needs a subtotal of {}", Money::new(min, currency)));
        }
        None
    }
}

/// The order's coupon codes, upper case, each once.
pub fn coupon_codes(codes: &[String]) -> Result<Vec<String>, FieldError> {
    if codes.len() > 10 {
        return Err(FieldError::new("couponCodes", "at most 10"));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        if !id_like(c, 64) {
            return Err(FieldError::new(
                format!("couponCodes[{i}]"),
                "must be 1 to 64 letters, digits, `_` or `-`",
            ));
        }
        let c = c.to_ascii_uppercase();
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// The promotions that apply to `order` at `now`, in the order they apply.
/// A coupon the order names that is unknown (`UNKNOWN_COUPON`) or does not
/// apply (`COUPON_NOT_APPLICABLE`) refuses the order, naming it.
pub fn eligible<'a>(
    order: &NewOrder,
    promotions: &'a [Promotion],
    now: Timestamp,
) -> Result<Vec<&'a Promotion>, PricingError> {
    let currency = order.currency();
    let subtotal = subtotal(&order.lines, currency)?;
    let mut out: Vec<&Promotion> = Vec::new();
    for (i, code) in order.coupon_codes.iter().enumerate() {
        let field = format!("couponCodes[{i}]");
        let Some(p) = promotions
            .iter()
            .find(|p| p.coupon_code.as_deref() == Some(code))
        else {
            return Err(PricingError::new(
                "UNKNOWN_COUPON",
                field,
                format!("no promotion has coupon {code}"),
            ));
        };
        if let Some(why) = p.inapplicable(&order.channel, currency, subtotal, now) {
            return Err(PricingError::new(
                "COUPON_NOT_APPLICABLE",
                field,
                format!("coupon {code} {why}"),
            ));
        }
        out.push(p);
    }
    out.extend(
        promotions
            .iter()
            .filter(|p| p.coupon_code.is_none())
            .filter(|p| {
                p.inapplicable(&order.channel, currency, subtotal, now)
                    .is_none()
            }),
    );
    out.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then_with(|| a.promotion_id.cmp(&b.promotion_id))
    });
    out.dedup_by(|a, b| a.promotion_id == b.promotion_id);
    if let Some(first) = out.iter().find(|p| p.exclusive) {
        return Ok(vec![*first]);
    }
    out.sort_by_key(|p| (p.kind.stage(), -p.priority, p.promotion_id.clone()));
    Ok(out)
}

fn subtotal(lines: &[OrderLine], currency: Currency) -> Result<Money, MoneyError> {
    lines
        .iter()
        .try_fold(Money::zero(currency), |t, l| t.plus(l.line_total))
}

/// Shares `total` among `weights` in proportion (largest remainders).
pub(crate) fn share(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    let mut out = Vec::with_capacity(weights.len());
    let mut rems = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let p = i128::from(total) * i128::from(*w);
        out.push((p / sum) as i64);
        rems.push((p % sum, i));
    }
    let left = total - out.iter().sum::<i64>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems.into_iter().take(left.max(0) as usize) {
        out[i] += 1;
    }
    out
}

fn adjust(adjustments: &mut Vec<Adjustment>, promotion_id: &str, amount: Money) {
    if amount.is_zero() {
        return;
    }
    match adjustments
        .iter_mut()
        .find(|a| a.promotion_id == promotion_id)
    {
        Some(a) => a.amount = Money::new(a.amount.amount + amount.amount, amount.currency),
        None => adjustments.push(Adjustment {
            promotion_id: promotion_id.to_owned(),
            amount,
        }),
    }
}

/// Applies `promotions` (from [`eligible`], in order) to the order's lines
/// and shipping charge.
pub fn apply(order: &mut NewOrder, promotions: &[&Promotion]) -> Result<(), PricingError> {
    for p in promotions {
        let value = p.value.unwrap_or(100);
        match p.kind {
            PromotionType::PercentOffSkus => {
                // A bundle's sku discounts its products' lines.
                let named = |l: &OrderLine| {
                    p.skus.contains(&l.sku)
                        || l.bundle.as_ref().is_some_and(|b| p.skus.contains(&b.sku))
                };
                for l in order.lines.iter_mut().filter(|l| named(l)) {
                    let off = l.net().scaled(value, 100)?.min(l.net())?;
                    take(l, &p.promotion_id, off);
                }
            }
            PromotionType::BuyXGetY => {
                let (buy, get) = (p.buy.unwrap_or(1), p.get.unwrap_or(1));
                for l in order.lines.iter_mut().filter(|l| p.skus.contains(&l.sku)) {
                    let free = l.quantity.get() / (buy + get) * get;
                    let off = l.unit_price.times(free)?.scaled(value, 100)?.min(l.net())?;
                    take(l, &p.promotion_id, off);
                }
            }
            PromotionType::PercentOffOrder | PromotionType::AmountOffOrder => {
                let weights: Vec<i64> = order.lines.iter().map(|l| l.net().amount).collect();
                let left: i64 = weights.iter().sum();
                let off = if p.kind == PromotionType::PercentOffOrder {
                    Money::new(left, order.currency())
                        .scaled(value, 100)?
                        .amount
                } else {
                    value
                }
                .min(left);
                for (l, amount) in order.lines.iter_mut().zip(share(off, &weights)) {
                    take(
                        l,
                        &p.promotion_id,
                        Money::new(amount, l.line_total.currency),
                    );
                }
            }
            PromotionType::FreeShipping => {
                let s = &mut order.shipping;
                let off = Money::new(s.amount.amount - s.discount.amount, s.amount.currency);
                s.discount = s.discount.plus(off)?;
                adjust(&mut s.adjustments, &p.promotion_id, off);
            }
        }
    }
    Ok(())
}

pub(crate) fn take(line: &mut OrderLine, promotion_id: &str, off: Money) {
    line.discount = Money::new(line.discount.amount + off.amount, off.currency);
    adjust(&mut line.adjustments, promotion_id, off);
}

// ------------------------------------------------------------------ shipping

/// One rate of the shipping table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingRate {
    /// `STANDARD`, `EXPRESS`, … (upper case).
    pub method: String,
    /// ISO 3166 alpha-2; absent: every destination without a rate of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The band's upper weight (grams, inclusive); absent: any weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_weight_grams: Option<u32>,
    /// The charge per ISO-4217 currency, minor units.
    pub prices: BTreeMap<String, i64>,
}

/// The shipping table (`PUT /shipping-rates`): the charge of an order is
/// the rate of its ship method for its destination (a country's own rates
/// before the rates for any country) in the lightest band its weight fits.
/// No rates at all: shipping is not charged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShippingRates {
    pub rates: Vec<ShippingRate>,
    /// Transit days per method and distance band, for delivery promises
    /// (`crate::promise`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transit: Vec<crate::promise::TransitBand>,
}

fn country_code(s: &str, field: &str) -> Result<String, FieldError> {
    crate::validation::country(s, field)
}

fn prices(given: &BTreeMap<String, i64>, field: &str) -> Result<BTreeMap<String, i64>, FieldError> {
    if given.is_empty() || given.len() > 50 {
        return Err(FieldError::new(field, "must name 1 to 50 currencies"));
    }
    let mut out = BTreeMap::new();
    for (code, amount) in given {
        let f = format!("{field}.{code}");
        let c = Currency::parse(code).map_err(|e| FieldError::new(&f, e.0))?;
        if !(0..=MAX_UNIT_PRICE).contains(amount) {
            return Err(FieldError::new(f, "must be 0 to 10^12 minor units"));
        }
        out.insert(c.to_string(), *amount);
    }
    Ok(out)
}

impl ShippingRates {
    /// Checked as sent by `PUT /shipping-rates`.
    pub fn validate(self) -> Result<Self, FieldError> {
        if self.rates.len() > MAX_RULES {
            return Err(FieldError::new("rates", format!("at most {MAX_RULES}")));
        }
        let mut rates = Vec::with_capacity(self.rates.len());
        for (i, r) in self.rates.into_iter().enumerate() {
            let f = |n: &str| format!("rates[{i}].{n}");
            if !id_like(&r.method, 32) {
                return Err(FieldError::new(f("method"), "must be 1 to 32 letters"));
            }
            rates.push(ShippingRate {
                method: r.method.to_ascii_uppercase(),
                country: r
                    .country
                    .as_deref()
                    .map(|c| country_code(c, &f("country")))
                    .transpose()?,
                max_weight_grams: r.max_weight_grams,
                prices: prices(&r.prices, &f("prices"))?,
            });
        }
        if self.transit.len() > MAX_RULES {
            return Err(FieldError::new("transit", format!("at most {MAX_RULES}")));
        }
        let mut transit = Vec::with_capacity(self.transit.len());
        for (i, t) in self.transit.into_iter().enumerate() {
            if !id_like(&t.method, 32) {
                return Err(FieldError::new(
                    format!("transit[{i}].method"),
                    "must be 1 to 32 letters",
                ));
            }
            if t.days > 365 {
                return Err(FieldError::new(format!("transit[{i}].days"), "at most 365"));
            }
            transit.push(crate::promise::TransitBand {
                method: t.method.to_ascii_uppercase(),
                ..t
            });
        }
        Ok(Self { rates, transit })
    }

    /// The charge for `grams` by `method` to `country` in `currency`;
    /// `None` when there is no table. A table without a rate that fits is
    /// `NO_SHIPPING_RATE`.
    pub fn charge(
        &self,
        method: &str,
        country: &str,
        grams: u64,
        currency: Currency,
    ) -> Result<Option<Money>, PricingError> {
        if self.rates.is_empty() {
            return Ok(None);
        }
        let mut fits: Vec<&ShippingRate> = self
            .rates
            .iter()
            .filter(|r| r.method == method)
            .filter(|r| r.country.as_deref().is_none_or(|c| c == country))
            .filter(|r| r.max_weight_grams.is_none_or(|m| u64::from(m) >= grams))
            .filter(|r| r.prices.contains_key(currency.as_str()))
            .collect();
        fits.sort_by_key(|r| (r.country.is_none(), r.max_weight_grams.unwrap_or(u32::MAX)));
        match fits.first() {
            Some(r) => Ok(Some(Money::new(r.prices[currency.as_str()], currency))),
            None => Err(PricingError::new(
                "NO_SHIPPING_RATE",
                "shippingMethod",
                format!("no {method} rate to {country} for {grams} g in {currency}"),
            )),
        }
    }
}

// ----------------------------------------------------------------------- tax

/// One rule of the tax table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaxRule {
    /// ISO 3166 alpha-2 of the destination.
    pub country: String,
    /// The destination's region (`shipTo.region`); absent: the whole country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The products' `taxCategory` (`shipping` for the shipping charge);
    /// absent: every category without a rule of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Hundredths of a percent: 1750 is 17.5 %.
    pub rate_basis_points: u32,
    /// The prices include the tax (VAT-style); else it is added.
    #[serde(default)]
    pub inclusive: bool,
}

/// The tax table (`PUT /tax-rules`): a line is taxed by the most specific
/// rule of its destination (region over country, its category over any
/// category; the earlier rule on a tie). No rule: no tax.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaxRules {
    pub rules: Vec<TaxRule>,
}

impl TaxRules {
    /// Checked as sent by `PUT /tax-rules`.
    pub fn validate(self) -> Result<Self, FieldError> {
        if self.rules.len() > MAX_RULES {
            return Err(FieldError::new("rules", format!("at most {MAX_RULES}")));
        }
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, r) in self.rules.into_iter().enumerate() {
            let f = |n: &str| format!("rules[{i}].{n}");
            if r.rate_basis_points > 100_000 {
                return Err(FieldError::new(
                    f("rateBasisPoints"),
                    "must be 0 to 100000 (1000 %)",
                ));
            }
            let text = |v: Option<String>, n: &str| match v {
                Some(s) if s.trim().is_empty() || s.len() > 64 => {
                    Err(FieldError::new(f(n), "must be 1 to 64 characters"))
                }
                v => Ok(v.map(|s| s.trim().to_owned())),
            };
            rules.push(TaxRule {
                country: country_code(&r.country, &f("country"))?,
                region: text(r.region, "region")?,
                category: text(r.category, "category")?,
                rate_basis_points: r.rate_basis_points,
                inclusive: r.inclusive,
            });
        }
        Ok(Self { rules })
    }

    fn rule_for(&self, to: &TaxDestination, category: Option<&str>) -> Option<&TaxRule> {
        self.rules
            .iter()
            .filter(|r| r.country == to.country)
            .filter(|r| r.region.is_none() || r.region == to.region)
            .filter(|r| r.category.is_none() || r.category.as_deref() == category)
            .enumerate()
            .max_by_key(|(i, r)| {
                (
                    r.region.is_some(),
                    r.category.is_some(),
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(_, r)| r)
    }

    /// The tax of every line and of the shipping charge under this table.
    pub fn quote(&self, basket: &TaxBasket) -> Result<TaxQuote, PricingError> {
        let tax = |amount: Money, category: Option<&str>| -> Result<LineTax, PricingError> {
            Ok(match self.rule_for(&basket.to, category) {
                None => LineTax {
                    amount: Money::zero(amount.currency),
                    rate_basis_points: 0,
                    inclusive: false,
                },
                Some(r) => {
                    let bp = i64::from(r.rate_basis_points);
                    let den = if r.inclusive { 10_000 + bp } else { 10_000 };
                    LineTax {
                        amount: amount.scaled(bp, den)?,
                        rate_basis_points: r.rate_basis_points,
                        inclusive: r.inclusive,
                    }
                }
            })
        };
        let mut lines = Vec::with_capacity(basket.lines.len());
        for l in &basket.lines {
            lines.push((l.line_no, tax(l.amount, l.category.as_deref())?));
        }
        Ok(TaxQuote {
            lines,
            shipping: tax(basket.shipping, Some(SHIPPING_TAX_CATEGORY))?,
        })
    }
}

/// Where the goods go, as tax sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxDestination {
    pub country: String,
    pub region: Option<String>,
}

/// A line to tax: its net amount (after discounts) and its category.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxableLine {
    pub line_no: u16,
    pub sku: Sku,
    pub category: Option<String>,
    pub amount: Money,
}

/// What a tax provider is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxBasket {
    pub to: TaxDestination,
    pub lines: Vec<TaxableLine>,
    /// The shipping charge after its discount.
    pub shipping: Money,
}

/// One tax amount and how it was reached.
#[derive(Debug, Clone, PartialEq)]
pub struct LineTax {
    pub amount: Money,
    pub rate_basis_points: u32,
    pub inclusive: bool,
}

/// A tax provider's answer: the tax of each line (by line number) and of
/// the shipping charge.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxQuote {
    pub lines: Vec<(u16, LineTax)>,
    pub shipping: LineTax,
}

/// The basket to tax once promotions applied; `categories` are the
/// products' tax categories by sku.
pub fn basket(order: &NewOrder, categories: &BTreeMap<Sku, String>) -> TaxBasket {
    TaxBasket {
        to: TaxDestination {
            country: order.ship_to.country.clone(),
            region: order.ship_to.region.clone(),
        },
        lines: order
            .lines
            .iter()
            .map(|l| TaxableLine {
                line_no: l.line_no,
                sku: l.sku.clone(),
                category: categories.get(&l.sku).cloned(),
                amount: l.net(),
            })
            .collect(),
        shipping: Money::new(
            order.shipping.amount.amount - order.shipping.discount.amount,
            order.currency(),
        ),
    }
}

/// What prices an order besides the catalog's unit prices.
pub struct PriceBook<'a> {
    pub promotions: &'a [Promotion],
    pub shipping: &'a ShippingRates,
    /// The products of the order's skus (weights, tax categories).
    pub products: &'a BTreeMap<Sku, crate::catalog::Product>,
}

/// Steps 1 and 2 (the shipping charge, then promotions); the basket to
/// tax for step 3 ([`finish`]).
pub fn prepare(
    order: &mut NewOrder,
    book: &PriceBook,
    now: Timestamp,
) -> Result<TaxBasket, PricingError> {
    let currency = order.currency();
    let grams: u64 = order
        .lines
        .iter()
        .map(|l| {
            let unit = book
                .products
                .get(&l.sku)
                .and_then(|p| p.weight_grams)
                .unwrap_or(0);
            u64::from(unit) * u64::from(l.quantity.get())
        })
        .sum();
    let method = order.shipping.method.clone();
    // A pickup is not shipped: no rate applies.
    if method != PICKUP_METHOD
        && let Some(charge) =
            book.shipping
                .charge(&method, &order.ship_to.country, grams, currency)?
    {
        order.shipping.amount = charge;
    }
    let promotions = eligible(order, book.promotions, now)?;
    apply(order, &promotions)?;
    let categories: BTreeMap<Sku, String> = book
        .products
        .iter()
        .filter_map(|(sku, p)| p.tax_category.clone().map(|c| (sku.clone(), c)))
        .collect();
    Ok(basket(order, &categories))
}

/// Every promotion's whole share of an order (its lines and shipping), by
/// promotion id.
pub fn adjustments(lines: &[OrderLine], shipping: &ShippingCharge) -> Vec<Adjustment> {
    let mut out = Vec::new();
    for a in lines
        .iter()
        .flat_map(|l| &l.adjustments)
        .chain(&shipping.adjustments)
    {
        adjust(&mut out, &a.promotion_id, a.amount);
    }
    out.sort_by(|a, b| a.promotion_id.cmp(&b.promotion_id));
    out
}

/// Records `quote` on the order and sets its total.
pub fn finish(order: &mut NewOrder, quote: &TaxQuote) -> Result<(), PricingError> {
    let currency = order.currency();
    for l in order.lines.iter_mut() {
        if let Some((_, t)) = quote.lines.iter().find(|(n, _)| *n == l.line_no) {
            if t.amount.currency != currency || t.amount.amount < 0 {
                return Err(PricingError::new("INVALID_VALUE", "lines", "bad tax quote"));
            }
            l.tax = t.amount;
            l.tax_included = t.inclusive;
            l.tax_rate_basis_points = t.rate_basis_points;
        }
    }
    order.shipping.tax = quote.shipping.amount;
    order.shipping.tax_included = quote.shipping.inclusive;
    order.shipping.tax_rate_basis_points = quote.shipping.rate_basis_points;
    let mut total = order.shipping.payable();
    for l in &order.lines {
        total = total.plus(l.payable())?;
    }
    order.total = total;
    Ok(())
}

/// The whole price of an order from its parts (see the module's totals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub subtotal: Money,
    pub discount: Money,
    pub shipping: Money,
    pub tax: Money,
}

impl Totals {
    pub fn of(lines: &[OrderLine], shipping: &ShippingCharge) -> Self {
        let c = shipping.amount.currency;
        let sum = |f: &dyn Fn(&OrderLine) -> i64| lines.iter().map(f).sum::<i64>();
        Self {
            subtotal: Money::new(sum(&|l| l.line_total.amount), c),
            discount: Money::new(sum(&|l| l.discount.amount), c),
            shipping: Money::new(shipping.amount.amount - shipping.discount.amount, c),
            tax: Money::new(sum(&|l| l.tax.amount) + shipping.tax.amount, c),
        }
    }
}

/// An order's price in parts, as events carry it (minor units of the
/// order's currency).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceSummary {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub lines: Vec<LinePrice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment<i64>>,
}

/// A line's price in parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LinePrice {
    pub sku: Sku,
    pub line_total: i64,
    pub discount: i64,
    pub tax: i64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tax_included: bool,
    pub tax_rate_basis_points: u32,
}

impl PriceSummary {
    /// `None` for an order only its unit prices price.
    pub fn of(lines: &[OrderLine], shipping: &ShippingCharge) -> Option<Self> {
        let t = Totals::of(lines, shipping);
        if t.discount.is_zero() && shipping.amount.is_zero() && t.tax.is_zero() {
            return None;
        }
        Some(Self {
            subtotal: t.subtotal.amount,
            discount: t.discount.amount,
            shipping: t.shipping.amount,
            tax: t.tax.amount,
            lines: lines
                .iter()
                .map(|l| LinePrice {
                    sku: l.sku.clone(),
                    line_total: l.line_total.amount,
                    discount: l.discount.amount,
                    tax: l.tax.amount,
                    tax_included: l.tax_included,
                    tax_rate_basis_points: l.tax_rate_basis_points,
                })
                .collect(),
            adjustments: adjustments(lines, shipping)
                .into_iter()
                .map(|a| a.map(|m| m.amount))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests;
