//! Locations and stock levels, as operators and stock feeds set them.

use crate::Deps;
use crate::repo::StockError;
use crate::store::StoreError;
use oms_domain::ids::{LocationId, Sku};
use oms_domain::inventory::{Location, StockView};
use oms_domain::validation::{FieldError, LocationRequest};
use tracing::instrument;

pub async fn locations(deps: &Deps) -> Result<Vec<Location>, StoreError> {
    deps.inventory().locations().await
}

pub async fn location(deps: &Deps, id: &LocationId) -> Result<Option<Location>, StoreError> {
    deps.inventory().location(id).await
}

/// Why a location was not stored.
#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error(transparent)]
    Invalid(FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates or replaces the location a request describes — located from its
/// country and postal code when it has no coordinates; `true` when new.
pub async fn put_location_request(
    deps: &Deps,
    id: &str,
    mut request: LocationRequest,
) -> Result<(Location, bool), LocationError> {
    if let (Some(country), None, None) = (request.country.as_deref(), request.lat, request.lon) {
        let found = deps
            .geocoder
            .locate(country, request.postal_code.as_deref())
            .await
            .ok_or_else(|| {
                LocationError::Invalid(FieldError::new(
                    "lat",
                    format!("no coordinates, and a location in {country} cannot be located: send lat and lon"),
                ))
            })?;
        request.lat = Some(found.lat);
        request.lon = Some(found.lon);
    }
    let location = request.validate(id).map_err(LocationError::Invalid)?;
    let created = put_location(deps, &location).await?;
    Ok((location, created))
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
/// hold there), its safety stock, or both.
#[instrument(skip(deps))]
pub async fn set_on_hand(
    deps: &Deps,
    sku: &Sku,
    location: &LocationId,
    levels: oms_domain::validation::StockLevels,
) -> Result<StockView, StockError> {
    deps.inventory().set_on_hand(sku, location, levels).await
}

/// A sku's settings: split its stock into `shards` items (see
/// `oms_domain::inventory`: its orders then commit on different items),
/// set its network safety stock, or both.
#[instrument(skip(deps))]
pub async fn settings(
    deps: &Deps,
    sku: &Sku,
    settings: oms_domain::validation::StockSettings,
) -> Result<StockView, StockError> {
    let mut view = None;
    if let Some(shards) = settings.shards {
        let split = deps.inventory().split(sku, shards).await?;
        deps.learn_shards(&[(sku.clone(), split.shards)]);
        view = Some(split);
    }
    if let Some(units) = settings.safety_stock {
        view = Some(deps.inventory().set_network_safety(sku, units).await?);
    }
    match view {
        Some(v) => Ok(v),
        None => Ok(deps.inventory().levels(sku).await?),
    }
}

/// Adjusts the units on hand at a location by `delta` with a reason,
/// audited per sku and location (see [`crate::repo::InventoryRepo::adjust`]).
#[instrument(skip(deps, caller, reason))]
pub async fn adjust(
    deps: &Deps,
    caller: &oms_domain::access::Caller,
    sku: &Sku,
    location: &LocationId,
    (delta, reason): (i64, String),
    key: Option<&oms_domain::ids::IdempotencyKey>,
) -> Result<oms_domain::inventory::Adjustment, StockError> {
    let adjustment = oms_domain::inventory::Adjustment {
        adjustment_id: format!("adj_{}", deps.ids.token()),
        sku: sku.clone(),
        location_id: location.clone(),
        delta,
        reason,
        actor: caller.actor(),
        at: deps.clock.now(),
        on_hand_after: 0,
    };
    deps.inventory()
        .adjust(adjustment, key.map(|k| k.as_str()))
        .await
}

/// The latest adjustments of a sku at a location, newest first.
pub async fn adjustments(
    deps: &Deps,
    sku: &Sku,
    location: &LocationId,
) -> Result<oms_domain::inventory::AdjustmentList, StoreError> {
    Ok(oms_domain::inventory::AdjustmentList {
        adjustments: deps.inventory().adjustments(sku, location, 200).await?,
    })
}

/// Stores a product of the catalog; whether it is new.
#[instrument(skip(deps, request))]
pub async fn put_product(
    deps: &Deps,
    sku: &str,
    request: oms_domain::catalog::ProductRequest,
) -> Result<(oms_domain::catalog::Product, bool), LocationError> {
    let product = request.validate(sku).map_err(LocationError::Invalid)?;
    if !product.bundle.is_empty() {
        let skus: Vec<Sku> = product.bundle.iter().map(|c| c.sku.clone()).collect();
        let parts = deps
            .inventory()
            .products_of(&skus, crate::store::Read::Strong)
            .await?;
        product
            .check_bundle(&parts)
            .map_err(LocationError::Invalid)?;
    }
    let created = deps
        .inventory()
        .put_product(&product)
        .await
        .map_err(LocationError::Store)?;
    deps.product_changed(&product.sku);
    Ok((product, created))
}

pub async fn product(
    deps: &Deps,
    sku: &Sku,
) -> Result<Option<oms_domain::catalog::Product>, StoreError> {
    Ok(deps
        .inventory()
        .products_of(std::slice::from_ref(sku), crate::store::Read::Strong)
        .await?
        .remove(sku))
}

pub async fn products(deps: &Deps) -> Result<oms_domain::catalog::ProductList, StoreError> {
    Ok(oms_domain::catalog::ProductList {
        products: deps.inventory().products().await?,
    })
}
