//! Locations and stock levels, as operators and stock feeds set them.

use crate::Deps;
use crate::repo::StockError;
use crate::store::StoreError;
use oms_domain::ids::{LocationId, Sku};
use oms_domain::inventory::{Location, StockView};
use tracing::instrument;

pub async fn locations(deps: &Deps) -> Result<Vec<Location>, StoreError> {
    deps.inventory().locations().await
}

pub async fn location(deps: &Deps, id: &LocationId) -> Result<Option<Location>, StoreError> {
    deps.inventory().location(id).await
}

/// Creates or replaces a location; `true` when it is new.
#[instrument(skip(deps, location), fields(location_id = %location.location_id))]
pub async fn put_location(deps: &Deps, location: &Location) -> Result<bool, StoreError> {
    let created = deps.inventory().put_location(location).await?;
    deps.locations_changed();
    Ok(created)
}

pub async fn stock(deps: &Deps, sku: &Sku) -> Result<StockView, StoreError> {
    deps.inventory().levels(sku).await
}

/// Sets the units on hand of a sku at a location (never below what orders
/// hold there).
#[instrument(skip(deps))]
pub async fn set_on_hand(
    deps: &Deps,
    sku: &Sku,
    location: &LocationId,
    on_hand: u64,
) -> Result<StockView, StockError> {
    deps.inventory().set_on_hand(sku, location, on_hand).await
}

/// Splits a hot sku's stock into `shards` items (see
/// `oms_domain::inventory`): its orders then commit on different items.
#[instrument(skip(deps))]
pub async fn split(deps: &Deps, sku: &Sku, shards: u16) -> Result<StockView, StockError> {
    let view = deps.inventory().split(sku, shards).await?;
    deps.learn_shards(&[(sku.clone(), view.shards)]);
    Ok(view)
}
