//! The rules that price an order besides the catalog (see
//! [`oms_domain::pricing`]): promotions, the shipping table, the tax table.
//! Operators set them; intake reads them through [`Deps::pricing`].

use crate::Deps;
use crate::store::StoreError;
use oms_domain::accounts::AccountView;
use oms_domain::pricing::{Promotion, PromotionList, PromotionRequest, ShippingRates, TaxRules};
use oms_domain::validation::FieldError;
use tracing::instrument;

#[derive(Debug, thiserror::Error)]
pub enum PricingRuleError {
    #[error(transparent)]
    Invalid(FieldError),
    /// Another promotion has this coupon code.
    #[error("coupon {code} belongs to promotion {promotion_id}")]
    CouponTaken { code: String, promotion_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates or replaces a promotion; whether it is new. A coupon code names
/// one promotion only.
#[instrument(skip(deps, request))]
pub async fn put_promotion(
    deps: &Deps,
    id: &str,
    request: PromotionRequest,
) -> Result<(Promotion, bool), PricingRuleError> {
    let promotion = request.validate(id).map_err(PricingRuleError::Invalid)?;
    let repo = deps.inventory();
    let existing = repo.promotions().await?;
    if let Some(code) = &promotion.coupon_code
        && let Some(other) = existing.iter().find(|p| {
            p.promotion_id != promotion.promotion_id && p.coupon_code.as_ref() == Some(code)
        })
    {
        return Err(PricingRuleError::CouponTaken {
            code: code.clone(),
            promotion_id: other.promotion_id.clone(),
        });
    }
    let is_new = !existing
        .iter()
        .any(|p| p.promotion_id == promotion.promotion_id);
    if is_new && existing.len() >= oms_domain::pricing::MAX_PROMOTIONS {
        return Err(PricingRuleError::Invalid(FieldError::new(
            "promotionId",
            format!(
                "at most {} promotions; replace one",
                oms_domain::pricing::MAX_PROMOTIONS
            ),
        )));
    }
    repo.put_promotion(&promotion).await?;
    deps.pricing_changed();
    Ok((promotion, is_new))
}

pub async fn promotions(deps: &Deps) -> Result<PromotionList, StoreError> {
    Ok(PromotionList {
        promotions: deps.inventory().promotions().await?,
    })
}

pub async fn promotion(deps: &Deps, id: &str) -> Result<Option<Promotion>, StoreError> {
    Ok(deps
        .inventory()
        .promotions()
        .await?
        .into_iter()
        .find(|p| p.promotion_id == id))
}

/// Replaces the shipping table.
#[instrument(skip_all)]
pub async fn set_shipping_rates(
    deps: &Deps,
    rates: ShippingRates,
) -> Result<ShippingRates, PricingRuleError> {
    let rates = rates.validate().map_err(PricingRuleError::Invalid)?;
    deps.inventory().put_shipping_rates(&rates).await?;
    deps.pricing_changed();
    Ok(rates)
}

pub async fn shipping_rates(deps: &Deps) -> Result<ShippingRates, StoreError> {
    deps.inventory().shipping_rates().await
}

/// Replaces the tax table.
#[instrument(skip_all)]
pub async fn set_tax_rules(deps: &Deps, rules: TaxRules) -> Result<TaxRules, PricingRuleError> {
    let rules = rules.validate().map_err(PricingRuleError::Invalid)?;
    deps.inventory().put_tax_rules(&rules).await?;
    deps.pricing_changed();
    Ok(rules)
}

pub async fn tax_rules(deps: &Deps) -> Result<TaxRules, StoreError> {
    deps.inventory().tax_rules().await
}

/// Creates or replaces a business account; whether it is new.
#[instrument(skip(deps, request))]
pub async fn put_account(
    deps: &Deps,
    id: &str,
    request: oms_domain::accounts::AccountRequest,
) -> Result<(AccountView, bool), PricingRuleError> {
    let account = request.validate(id).map_err(PricingRuleError::Invalid)?;
    let repo = deps.inventory();
    let created = repo.put_account(&account).await?;
    let open_balance = repo.open_balance(&account.account_id).await?;
    Ok((
        AccountView {
            account,
            open_balance,
        },
        created,
    ))
}

pub async fn account(deps: &Deps, id: &str) -> Result<Option<AccountView>, StoreError> {
    let repo = deps.inventory();
    let Some(account) = repo.account(id).await? else {
        return Ok(None);
    };
    Ok(Some(AccountView {
        open_balance: repo.open_balance(id).await?,
        account,
    }))
}

/// Creates or replaces a price list; whether it is new.
#[instrument(skip(deps, request))]
pub async fn put_price_list(
    deps: &Deps,
    id: &str,
    request: oms_domain::accounts::PriceListRequest,
) -> Result<(oms_domain::accounts::PriceList, bool), PricingRuleError> {
    let list = request.validate(id).map_err(PricingRuleError::Invalid)?;
    let created = deps.inventory().put_price_list(&list).await?;
    Ok((list, created))
}

pub async fn price_list(
    deps: &Deps,
    id: &str,
) -> Result<Option<oms_domain::accounts::PriceList>, StoreError> {
    deps.inventory().price_list(id).await
}
