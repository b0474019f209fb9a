//! inventory: locations and stock levels. The edge of
//! `oms_app::services::inventory`.
//!
//! `PUT /locations/{locationId}`, `GET /locations`, `GET /locations/{locationId}`,
//! `PUT /products/{sku}`, `GET /products/{sku}`, `GET /products` (the catalog),
//! `PUT /inventory/{sku}/{locationId}` (`{"onHand"?, "safetyStock"?}`), `GET /inventory/{sku}`,
//! `PUT /inventory/{sku}` (`{"shards"?, "safetyStock"?}`: split a hot sku's stock, the network's safety stock),
//! `POST /inventory/{sku}/{locationId}/adjustments` (`{"delta", "reason"}`)
//! and `GET` of the same path (the audit trail); the pricing rules:
//! `PUT`/`GET /promotions/{promotionId}`, `GET /promotions`,
//! `PUT`/`GET /shipping-rates`, `PUT`/`GET /tax-rules`; business accounts
//! and price lists: `PUT`/`GET /accounts/{accountId}`,
//! `PUT`/`GET /price-lists/{priceListId}`.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, Response};
use oms_app::Deps;
use oms_app::repo::StockError;
use oms_app::services::inventory;
use oms_app::services::pricing::{self, PricingRuleError};
use oms_aws::http::{
    ApiError, caller, idempotency_key, json, no_route, parse_body, path_value, respond, segments,
};
use oms_domain::ids::{LocationId, Sku};
use oms_domain::validation::{
    AdjustmentRequest, LocationRequest, StockRequest, StockSettingsRequest,
};
use tracing::instrument;

#[instrument(skip_all, fields(method = %req.method(), path = %req.uri().path()))]
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, Error> {
    if let Err(e) = caller(&req, &deps.config) {
        return Ok(respond(Err(e)));
    }
    let path = segments(&req);
    let path: Vec<&str> = path.iter().map(String::as_str).collect();
    let result = match (req.method(), path.as_slice()) {
        (&Method::GET, ["locations"]) => list_locations(deps).await,
        (&Method::GET, ["products"]) => Ok(json(StatusCode::OK, &inventory::products(deps).await?)),
        (&Method::GET, ["products", sku]) => get_product(deps, sku).await,
        (&Method::PUT, ["products", sku]) => put_product(deps, sku, &req).await,
        (_, ["promotions", ..] | ["shipping-rates"] | ["tax-rules"])
        | (_, ["accounts", _] | ["price-lists", _]) => {
            pricing_rules(deps, &req, path.as_slice()).await
        }
        (&Method::GET, ["locations", id]) => get_location(deps, id).await,
        (&Method::PUT, ["locations", id]) => put_location(deps, id, &req).await,
        (&Method::GET, ["inventory", sku]) => get_stock(deps, sku).await,
        (&Method::PUT, ["inventory", sku]) => put_settings(deps, sku, &req).await,
        (&Method::PUT, ["inventory", sku, location]) => put_stock(deps, sku, location, &req).await,
        (&Method::POST, ["inventory", sku, location, "adjustments"]) => {
            adjust(deps, sku, location, &req).await
        }
        (&Method::GET, ["inventory", sku, location, "adjustments"]) => {
            adjustments(deps, sku, location).await
        }
        (&Method::GET, ["replenishment"]) => replenishment(deps, &req).await,
        (&Method::POST, ["inventory", sku, location, "incoming"]) => {
            incoming(deps, sku, location, &req).await
        }
        (&Method::POST, ["inventory", sku, location, "receipts"]) => {
            receipt(deps, sku, location, &req).await
        }
        _ => Err(no_route(req.method().as_str(), req.uri().path())),
    };
    Ok(respond(result))
}

async fn pricing_rules(
    deps: &Deps,
    req: &Request,
    path: &[&str],
) -> Result<Response<Body>, ApiError> {
    match (req.method(), path) {
        (&Method::GET, ["promotions"]) => {
            Ok(json(StatusCode::OK, &pricing::promotions(deps).await?))
        }
        (&Method::GET, ["promotions", id]) => match pricing::promotion(deps, id).await? {
            Some(p) => Ok(json(StatusCode::OK, &p)),
            None => Err(ApiError::not_found(format!(
                "promotion {id} does not exist"
            ))),
        },
        (&Method::PUT, ["promotions", id]) => pricing::put_promotion(deps, id, parse_body(req)?)
            .await
            .map(|(p, created)| json(created_or_ok(created), &p))
            .map_err(rule_error),
        (&Method::GET, ["shipping-rates"]) => {
            Ok(json(StatusCode::OK, &pricing::shipping_rates(deps).await?))
        }
        (&Method::PUT, ["shipping-rates"]) => pricing::set_shipping_rates(deps, parse_body(req)?)
            .await
            .map(|r| json(StatusCode::OK, &r))
            .map_err(rule_error),
        (&Method::GET, ["tax-rules"]) => Ok(json(StatusCode::OK, &pricing::tax_rules(deps).await?)),
        (&Method::GET, ["accounts", id]) => match pricing::account(deps, id).await? {
            Some(a) => Ok(json(StatusCode::OK, &a)),
            None => Err(ApiError::not_found(format!("account {id} does not exist"))),
        },
        (&Method::PUT, ["accounts", id]) => pricing::put_account(deps, id, parse_body(req)?)
            .await
            .map(|(a, created)| json(created_or_ok(created), &a))
            .map_err(rule_error),
        (&Method::GET, ["price-lists", id]) => match pricing::price_list(deps, id).await? {
            Some(l) => Ok(json(StatusCode::OK, &l)),
            None => Err(ApiError::not_found(format!(
                "price list {id} does not exist"
            ))),
        },
        (&Method::PUT, ["price-lists", id]) => pricing::put_price_list(deps, id, parse_body(req)?)
            .await
            .map(|(l, created)| json(created_or_ok(created), &l))
            .map_err(rule_error),
        (&Method::PUT, ["tax-rules"]) => pricing::set_tax_rules(deps, parse_body(req)?)
            .await
            .map(|r| json(StatusCode::OK, &r))
            .map_err(rule_error),
        _ => Err(no_route(req.method().as_str(), req.uri().path())),
    }
}

fn created_or_ok(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

fn rule_error(e: PricingRuleError) -> ApiError {
    match e {
        PricingRuleError::Invalid(e) => ApiError::invalid(e),
        PricingRuleError::CouponTaken { .. } => ApiError {
            field: Some("couponCode".into()),
            ..ApiError::conflict("COUPON_TAKEN", e.to_string())
        },
        PricingRuleError::Store(e) => e.into(),
    }
}

async fn list_locations(deps: &Deps) -> Result<Response<Body>, ApiError> {
    let locations = inventory::locations(deps).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "locations": locations }),
    ))
}

async fn get_product(deps: &Deps, sku: &str) -> Result<Response<Body>, ApiError> {
    let not_found = || ApiError::not_found(format!("product {sku} is not in the catalog"));
    let sku = Sku::parse(sku).map_err(|_| not_found())?;
    let product = inventory::product(deps, &sku)
        .await?
        .ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &product))
}

async fn put_product(deps: &Deps, sku: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: oms_domain::catalog::ProductRequest = parse_body(req)?;
    let (product, created) =
        inventory::put_product(deps, sku, body)
            .await
            .map_err(|e| match e {
                inventory::LocationError::Invalid(e) => ApiError::invalid(e),
                inventory::LocationError::Store(e) => e.into(),
            })?;
    Ok(json(created_or_ok(created), &product))
}

async fn get_location(deps: &Deps, id: &str) -> Result<Response<Body>, ApiError> {
    let not_found = || ApiError::not_found(format!("location {id} does not exist"));
    let id = LocationId::parse(id).map_err(|_| not_found())?;
    let location = inventory::location(deps, &id)
        .await?
        .ok_or_else(not_found)?;
    Ok(json(StatusCode::OK, &location))
}

async fn put_location(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: LocationRequest = parse_body(req)?;
    let (location, created) = inventory::put_location_request(deps, id, body)
        .await
        .map_err(|e| match e {
            inventory::LocationError::Invalid(e) => ApiError::invalid(e),
            inventory::LocationError::Store(e) => e.into(),
        })?;
    Ok(json(created_or_ok(created), &location))
}

async fn get_stock(deps: &Deps, sku: &str) -> Result<Response<Body>, ApiError> {
    let sku = path_value(sku, "sku", Sku::parse)?;
    Ok(json(StatusCode::OK, &inventory::stock(deps, &sku).await?))
}

async fn put_stock(
    deps: &Deps,
    sku: &str,
    location: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let sku = path_value(sku, "sku", Sku::parse)?;
    let location = path_value(location, "locationId", LocationId::parse)?;
    let levels = parse_body::<StockRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    match inventory::set_on_hand(deps, &sku, &location, levels).await {
        Ok(view) => Ok(json(StatusCode::OK, &view)),
        Err(e) => Err(stock_error(e)),
    }
}

async fn put_settings(deps: &Deps, sku: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let sku = path_value(sku, "sku", Sku::parse)?;
    let settings = parse_body::<StockSettingsRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    let view = inventory::settings(deps, &sku, settings)
        .await
        .map_err(stock_error)?;
    Ok(json(StatusCode::OK, &view))
}

async fn adjust(
    deps: &Deps,
    sku: &str,
    location: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(req, &deps.config)?;
    let sku = path_value(sku, "sku", Sku::parse)?;
    let location = path_value(location, "locationId", LocationId::parse)?;
    let key = idempotency_key(req)?;
    let asked = parse_body::<AdjustmentRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    let adjustment = inventory::adjust(deps, &caller, &sku, &location, asked, key.as_ref())
        .await
        .map_err(stock_error)?;
    Ok(json(StatusCode::CREATED, &adjustment))
}

async fn adjustments(deps: &Deps, sku: &str, location: &str) -> Result<Response<Body>, ApiError> {
    let sku = path_value(sku, "sku", Sku::parse)?;
    let location = path_value(location, "locationId", LocationId::parse)?;
    let list = inventory::adjustments(deps, &sku, &location).await?;
    Ok(json(StatusCode::OK, &list))
}

/// `GET /replenishment?locationId=&windowDays=`: what to reorder there.
async fn replenishment(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    caller(req, &deps.config)?;
    let mut location = None;
    let mut window_days = 28;
    for (name, value) in oms_aws::http::query_params(req).pairs {
        match name.as_str() {
            "locationId" => {
                location = Some(LocationId::parse(&value).map_err(|e| {
                    ApiError::invalid(oms_domain::validation::FieldError::new("locationId", e.0))
                })?)
            }
            "windowDays" => {
                window_days = value
                    .parse::<u64>()
                    .ok()
                    .filter(|d| (1..=365).contains(d))
                    .ok_or_else(|| {
                        ApiError::invalid(oms_domain::validation::FieldError::new(
                            "windowDays",
                            "must be 1 to 365",
                        ))
                    })?
            }
            _ => {
                return Err(ApiError::invalid(oms_domain::validation::FieldError::new(
                    name,
                    "is not a parameter of this listing (locationId, windowDays)",
                )));
            }
        }
    }
    let location = location.ok_or_else(|| {
        ApiError::invalid(oms_domain::validation::FieldError::new(
            "locationId",
            "is required",
        ))
    })?;
    let list = inventory::replenishment(deps, &location, window_days).await?;
    Ok(json(StatusCode::OK, &list))
}

/// `POST /inventory/{sku}/{locationId}/incoming`: supply on its way.
async fn incoming(
    deps: &Deps,
    sku: &str,
    location: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    caller(req, &deps.config)?;
    let sku = path_value(sku, "sku", Sku::parse)?;
    let location = path_value(location, "locationId", LocationId::parse)?;
    let supply = parse_body::<oms_domain::validation::IncomingRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    let view = inventory::announce_incoming(deps, &sku, &location, supply)
        .await
        .map_err(stock_error)?;
    Ok(json(StatusCode::OK, &view))
}

/// `POST /inventory/{sku}/{locationId}/receipts`: goods received; the
/// backorders waiting there are filled in placement order.
async fn receipt(
    deps: &Deps,
    sku: &str,
    location: &str,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    caller(req, &deps.config)?;
    let sku = path_value(sku, "sku", Sku::parse)?;
    let location = path_value(location, "locationId", LocationId::parse)?;
    let supply = parse_body::<oms_domain::validation::ReceiptRequest>(req)?
        .validate()
        .map_err(ApiError::invalid)?;
    let trigger = oms_aws::http::request_id(req);
    let (view, filled) = inventory::receive(deps, &sku, &location, supply, &trigger)
        .await
        .map_err(stock_error)?;
    let mut body = serde_json::to_value(&view).unwrap_or_default();
    body["backordersFilled"] = serde_json::json!(filled);
    Ok(json(StatusCode::OK, &body))
}

fn stock_error(e: StockError) -> ApiError {
    match e {
        StockError::UnknownLocation(l) => ApiError::not_found(format!(
            "location {l} does not exist; create it with PUT /locations/{l}"
        )),
        e @ StockError::BelowReserved { .. } => ApiError::conflict("BELOW_RESERVED", e.to_string()),
        e @ StockError::ShardsOutOfRange { .. } => {
            ApiError::conflict("SHARDS_CANNOT_MERGE", e.to_string())
        }
        e @ StockError::ReferenceTaken(_) => ApiError::conflict("REFERENCE_TAKEN", e.to_string()),
        StockError::Store(e) => e.into(),
    }
}
