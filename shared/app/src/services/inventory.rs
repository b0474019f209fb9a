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
    let repo = deps.inventory();
    if levels.sets_rules() {
        if repo.location(location).await?.is_none() {
            return Err(StockError::UnknownLocation(location.clone()));
        }
        repo.set_stock_rules(
            sku,
            location,
            levels.backorder,
            levels.preorder_until.map(Some),
            levels.reorder_point,
            levels.lead_time_days,
        )
        .await?;
    }
    if levels.on_hand.is_none() && levels.safety_stock.is_none() {
        return Ok(repo.levels(sku).await?);
    }
    repo.set_on_hand(sku, location, levels).await
}

/// Announces supply on its way to a location (`POST …/incoming`): orders
/// the stock cannot cover may wait for it where backorders or preorders
/// are taken.
#[instrument(skip(deps))]
pub async fn announce_incoming(
    deps: &Deps,
    sku: &Sku,
    location: &LocationId,
    supply: oms_domain::validation::Supply,
) -> Result<StockView, StockError> {
    let expected = supply.expected_at.unwrap_or_else(|| deps.clock.now());
    let reference = supply.reference.unwrap_or_default();
    deps.inventory()
        .announce_incoming(sku, location, supply.quantity, expected, &reference)
        .await
}

/// Receives goods at a location (`POST …/receipts`), then fills the
/// backorders waiting there in placement order (see
/// `oms_domain::order::BackorderLine`). Run again with the same reference,
/// it moves no stock and fills what is still due (a receipt interrupted
/// after its stock moved finishes so).
#[instrument(skip(deps))]
pub async fn receive(
    deps: &Deps,
    sku: &Sku,
    location: &LocationId,
    supply: oms_domain::validation::Supply,
    trigger: &str,
) -> Result<(StockView, usize), StockError> {
    let reference = supply.reference.unwrap_or_else(|| trigger.to_owned());
    deps.inventory()
        .receive(sku, location, supply.quantity, &reference)
        .await?;
    let filled = fill_backorders(deps, sku, location, trigger).await?;
    Ok((deps.inventory().levels(sku).await?, filled))
}

/// Fills the backorders of `sku` at `location` from the units held for
/// them, first placed first, until the next one waits for more than is
/// held; how many were filled.
pub async fn fill_backorders(
    deps: &Deps,
    sku: &Sku,
    location: &LocationId,
    trigger: &str,
) -> Result<usize, StoreError> {
    let (queue, mut held) = deps.inventory().backorder_queue(sku, location).await?;
    let mut filled = 0;
    for (order_id, quantity) in queue {
        if quantity > held {
            break;
        }
        let result = crate::change::change_order(
            deps,
            &order_id,
            "inventory:receipt",
            trigger,
            |order, cause| order.fill_backorder(sku, location, cause),
        )
        .await;
        match result {
            Ok(_) => {
                held -= quantity;
                filled += 1;
            }
            // Filled already, or ended: its entry is done with.
            Err(crate::change::ChangeError::Denied(_) | crate::change::ChangeError::NotFound) => {}
            Err(crate::change::ChangeError::StockShort { .. }) => break,
            Err(crate::change::ChangeError::Store(e)) => return Err(e),
            Err(e) => return Err(StoreError::Unavailable(e.to_string())),
        }
    }
    Ok(filled)
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

/// Most skus one replenishment listing looks at.
const REPLENISHMENT_SKUS: usize = 500;

/// What to reorder at a location (`GET /replenishment`): every sku of the
/// catalog or sold in the last `window_days`, at or below its reorder
/// point (see `oms_domain::replenishment`). Velocity: the sku's units sold
/// across the network over the window (the KPI sums), times the
/// location's share of all units shipped from locations in it, per day.
#[instrument(skip(deps))]
pub async fn replenishment(
    deps: &Deps,
    location: &LocationId,
    window_days: u64,
) -> Result<oms_domain::replenishment::ReplenishmentList, StoreError> {
    use oms_domain::kpi::{Metric, ReportBy, ReportQuery, Window};
    let now = deps.clock.now();
    let window = Window {
        from: oms_domain::time::Timestamp::from_millis(
            now.millis().saturating_sub(window_days * 86_400_000),
        ),
        to: now,
    };
    let query = |by| ReportQuery {
        by,
        metric: Metric::Units,
        window,
        limit: REPLENISHMENT_SKUS,
    };
    let sold = crate::services::kpis::report(deps, query(ReportBy::Product)).await?;
    let by_location = crate::services::kpis::report(deps, query(ReportBy::Location)).await?;
    let all_units: i64 = by_location.rows.iter().map(|r| r.units).sum();
    let here: i64 = by_location
        .rows
        .iter()
        .find(|r| r.key == location.as_str())
        .map_or(0, |r| r.units);
    let mut skus: Vec<Sku> = sold
        .rows
        .iter()
        .filter_map(|r| Sku::parse(&r.key).ok())
        .collect();
    for p in deps.inventory().products().await? {
        if skus.len() >= REPLENISHMENT_SKUS {
            break;
        }
        if p.bundle.is_empty() && !skus.contains(&p.sku) {
            skus.push(p.sku);
        }
    }
    let mut suggestions = Vec::new();
    for sku in skus {
        let view = deps.inventory().levels(&sku).await?;
        let Some(at) = view.locations.iter().find(|l| &l.location_id == location) else {
            continue;
        };
        let units = sold
            .rows
            .iter()
            .find(|r| r.key == sku.as_str())
            .map_or(0, |r| r.units);
        let position = oms_domain::replenishment::StockPosition {
            sku: sku.clone(),
            location_id: location.clone(),
            available: at.available,
            incoming: at.incoming,
            safety_stock: at.safety_stock,
            velocity_per_day: oms_domain::replenishment::velocity_per_day(
                units,
                here,
                all_units,
                window_days,
            ),
            reorder_point: at.reorder_point,
            lead_time_days: at.lead_time_days,
        };
        suggestions.extend(oms_domain::replenishment::suggest(&position));
    }
    suggestions.sort_by(|a, b| {
        let cover = |s: &oms_domain::replenishment::Suggestion| s.days_of_cover.unwrap_or(f64::MAX);
        cover(a)
            .total_cmp(&cover(b))
            .then_with(|| a.sku.cmp(&b.sku))
    });
    Ok(oms_domain::replenishment::ReplenishmentList {
        location_id: location.clone(),
        window_days,
        suggestions,
    })
}
