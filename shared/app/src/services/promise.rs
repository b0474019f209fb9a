//! Delivery promises (`POST /promise`): what the order would be, shipped
//! from where, when, at what shipping cost — over the stock as it is now,
//! reserving nothing (see [`oms_domain::promise`]).

use crate::Deps;
use crate::services::reservation::whole_stock;
use crate::store::StoreError;
use oms_domain::ids::Sku;
use oms_domain::promise::{Promise, PromiseInput, PromiseRequest};
use oms_domain::validation::FieldError;
use tracing::instrument;

#[derive(Debug, thiserror::Error)]
pub enum PromiseError {
    #[error(transparent)]
    Invalid(FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[instrument(skip_all)]
pub async fn promise(deps: &Deps, request: &PromiseRequest) -> Result<Promise, PromiseError> {
    let ask = request.validate().map_err(PromiseError::Invalid)?;
    let point = match ask.point {
        Some(p) => p,
        None => deps
            .geocoder
            .locate(&ask.country, ask.postal_code.as_deref())
            .await
            .ok_or_else(|| {
                PromiseError::Invalid(FieldError::new(
                    "shipTo.lat",
                    format!(
                        "cannot locate an address in {}: send lat and lon",
                        ask.country
                    ),
                ))
            })?,
    };
    let skus: Vec<Sku> = ask.lines.iter().map(|l| l.sku.clone()).collect();
    let stock = whole_stock(deps, &skus).await?;
    let locations = deps.locations().await?;
    let products = deps.products_of(&skus).await?;
    let grams = ask
        .lines
        .iter()
        .map(|l| {
            let unit = products
                .get(&l.sku)
                .and_then(|p| p.weight_grams)
                .unwrap_or(0);
            u64::from(unit) * u64::from(l.quantity.get())
        })
        .sum();
    let rules = deps.pricing().await?;
    Ok(oms_domain::promise::promise(
        &PromiseInput {
            lines: &ask.lines,
            country: &ask.country,
            point,
            currency: ask.currency,
            grams,
        },
        &stock,
        &locations,
        &rules.shipping,
        deps.clock.now(),
    ))
}
