//! Turning what a client sent into valid domain values, field by field.
//!
//! Request shapes use loose types (`Option`, raw numbers and strings) so that
//! a wrong value is reported with its exact field path, not as a parse error.

use crate::geo::GeoPoint;
use crate::ids::LocationId;
use crate::ids::{Channel, CustomerId, ExternalId, InvalidValue, Quantity, Sku};
use crate::inventory::{LineQty, Location, LocationKind};
use crate::money::{Currency, MAX_UNIT_PRICE, Money};
use crate::order::{Address, Customer, NewOrder, OrderLine};
use serde::{Deserialize, Serialize};

/// Most items one change of an order may touch: it commits atomically, and
/// an atomic commit takes at most 100 items (DynamoDB's transaction limit).
pub const MAX_ITEMS_PER_CHANGE: usize = 100;

/// Lines per order. Every change of an order must fit one atomic commit of
/// [`MAX_ITEMS_PER_CHANGE`] items: reservation (a counter per sku + the
/// order), a shipment or a restock (two counters per sku + the order) and a
/// release (a counter per sku and per allocation + the order; routing keeps
/// allocations within [`crate::routing::MAX_ALLOCATIONS`]).
pub const MAX_LINES: usize = 40;

/// A refused field: the `field` path uses the request's own names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

trait At<T> {
    fn at(self, field: &str) -> Result<T, FieldError>;
}
impl<T> At<T> for Result<T, InvalidValue> {
    fn at(self, field: &str) -> Result<T, FieldError> {
        self.map_err(|e| FieldError::new(field, e.0))
    }
}

fn required<'a, T>(v: &'a Option<T>, field: &str) -> Result<&'a T, FieldError> {
    v.as_ref()
        .ok_or_else(|| FieldError::new(field, "is required"))
}

fn text(v: &Option<String>, field: &str, max: usize) -> Result<String, FieldError> {
    let s = required(v, field)?.trim();
    if s.is_empty() || s.len() > max {
        return Err(FieldError::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    Ok(s.to_owned())
}

fn optional_text(
    v: &Option<String>,
    field: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    match v {
        None => Ok(None),
        Some(_) => text(v, field, max).map(Some),
    }
}

/// The currency field's schema: one of the ISO-4217 codes.
fn currency_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "description": "ISO-4217 code; prices are integer minor units of it.",
        "enum": crate::money::iso_4217_codes().collect::<Vec<_>>(),
    })
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrderRequest {
    /// The sales channel (`web`, `app`, `marketplace-x`, …).
    #[schemars(required, length(min = 1, max = 32), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub channel: Option<String>,
    /// The order's id in the channel's system; unique per channel.
    #[schemars(length(min = 1, max = 128), pattern(r"^[A-Za-z0-9_.:#/-]+$"))]
    pub external_id: Option<String>,
    #[schemars(required)]
    pub customer: Option<CustomerRequest>,
    /// ISO-4217 code; prices are integer minor units of it.
    #[schemars(required, schema_with = "currency_schema")]
    pub currency: Option<String>,
    #[schemars(required)]
    pub ship_to: Option<AddressRequest>,
    #[schemars(required, length(min = 1, max = 40))]
    pub lines: Option<Vec<LineRequest>>,
    /// How the customer pays (default `CARD`).
    pub payment: Option<PaymentRequest>,
    /// The ship method the shipping table charges (default `STANDARD`).
    #[schemars(length(min = 1, max = 32), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub shipping_method: Option<String>,
    /// Coupons of promotions (any case).
    #[schemars(length(max = 10))]
    pub coupon_codes: Option<Vec<String>>,
    /// The business account it is for (its customer must belong to it).
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub account_id: Option<String>,
    /// The buyer's purchase order number.
    #[schemars(length(min = 1, max = 64))]
    pub purchase_order_number: Option<String>,
    /// Shipped to `shipTo` (the default) or collected at a store.
    pub fulfillment: Option<FulfillmentRequest>,
    /// Where the payment is billed (fraud review compares its country
    /// with the destination's).
    pub bill_to: Option<BillToRequest>,
    /// The delivery option chosen from `POST /promise`: intake checks it
    /// can still be kept, and the SLA sweep holds the order to it.
    pub promise: Option<PromiseChoice>,
}

/// A delivery option chosen at checkout.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromiseChoice {
    #[schemars(required, length(min = 1, max = 32), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub method: Option<String>,
    /// `YYYY-MM-DD`, as the option said.
    #[schemars(required, pattern(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub delivery_date: Option<String>,
}

/// The billing address: its country, and what else the storefront has.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BillToRequest {
    /// ISO-3166 alpha-2.
    #[schemars(required, pattern(r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    #[schemars(length(max = 32))]
    pub postal_code: Option<String>,
    #[schemars(length(max = 128))]
    pub city: Option<String>,
    #[schemars(length(max = 256))]
    pub line1: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentRequest {
    #[schemars(extend("enum" = ["SHIP", "PICKUP"]))]
    pub method: Option<String>,
    /// The store it is collected at (`PICKUP`).
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub location_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequest {
    #[schemars(extend("enum" = ["CARD", "WALLET", "CASH_ON_DELIVERY", "BANK_TRANSFER", "ON_ACCOUNT"]))]
    pub method: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRequest {
    #[schemars(required, length(min = 1, max = 128), pattern(r"^[A-Za-z0-9_.@:|-]+$"))]
    pub id: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressRequest {
    /// ISO-3166 alpha-2.
    #[schemars(required, pattern(r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    pub postal_code: Option<String>,
    #[schemars(required, length(min = 1, max = 128))]
    pub city: Option<String>,
    #[schemars(required, length(min = 1, max = 256))]
    pub line1: Option<String>,
    pub line2: Option<String>,
    /// State, province or region code (regional tax rules match it).
    #[schemars(length(min = 1, max = 32))]
    pub region: Option<String>,
    /// Optional: without `lat` and `lon` the address is located from its
    /// country and postal code (the centre of its postal region or country).
    #[schemars(range(min = -90.0, max = 90.0))]
    pub lat: Option<f64>,
    #[schemars(range(min = -180.0, max = 180.0))]
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineRequest {
    #[schemars(required, length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub sku: Option<String>,
    #[schemars(required, range(min = 1, max = 100_000))]
    pub quantity: Option<i64>,
    /// Minor units of the order's currency. Optional for a sku in the
    /// catalog (which prices it; a price sent must equal the catalog's);
    /// required otherwise.
    #[schemars(range(min = 0, max = 1_000_000_000_000i64))]
    pub unit_price: Option<i64>,
}

impl PlaceOrderRequest {
    pub fn validate(&self) -> Result<NewOrder, FieldError> {
        let channel = Channel::parse(required(&self.channel, "channel")?).at("channel")?;
        let external_id = self
            .external_id
            .as_deref()
            .map(ExternalId::parse)
            .transpose()
            .at("externalId")?;
        let customer = required(&self.customer, "customer")?;
        let customer = Customer {
            id: CustomerId::parse(required(&customer.id, "customer.id")?).at("customer.id")?,
            email: match optional_text(&customer.email, "customer.email", 254)? {
                Some(e) if !is_plausible_email(&e) => {
                    return Err(FieldError::new("customer.email", "is not an email address"));
                }
                e => e,
            },
        };
        let currency = Currency::parse(required(&self.currency, "currency")?).at("currency")?;
        let ship_to = validate_address(required(&self.ship_to, "shipTo")?)?;
        let mut seen = std::collections::BTreeSet::new();
        let lines_in = required(&self.lines, "lines")?;
        if lines_in.is_empty() {
            return Err(FieldError::new("lines", "must have at least one line"));
        }
        if lines_in.len() > MAX_LINES {
            return Err(FieldError::new(
                "lines",
                format!("must have at most {MAX_LINES} lines"),
            ));
        }
        let mut lines = Vec::with_capacity(lines_in.len());
        let mut total = Money::zero(currency);
        for (i, line) in lines_in.iter().enumerate() {
            let f = |name: &str| format!("lines[{i}].{name}");
            let sku = Sku::parse(required(&line.sku, &f("sku"))?).at(&f("sku"))?;
            if !seen.insert(sku.clone()) {
                return Err(FieldError::new(
                    f("sku"),
                    format!("{sku} is on an earlier line; put the whole quantity on one line"),
                ));
            }
            let quantity =
                Quantity::new(*required(&line.quantity, &f("quantity"))?).at(&f("quantity"))?;
            let unit_price = *required(&line.unit_price, &f("unitPrice"))?;
            if !(0..=MAX_UNIT_PRICE).contains(&unit_price) {
                return Err(FieldError::new(
                    f("unitPrice"),
                    format!("must be between 0 and {MAX_UNIT_PRICE} minor units"),
                ));
            }
            let line = OrderLine::priced(
                (i + 1) as u16,
                sku,
                quantity,
                Money::new(unit_price, currency),
            )
            .map_err(InvalidValue::from)
            .at(&f("unitPrice"))?;
            total = total
                .plus(line.line_total)
                .map_err(InvalidValue::from)
                .at("lines")?;
            lines.push(line);
        }
        let mut shipping = crate::pricing::ShippingCharge::free(currency);
        if let Some(m) = &self.shipping_method {
            let m = m.trim();
            if m.is_empty()
                || m.len() > 32
                || !m
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(FieldError::new(
                    "shippingMethod",
                    "must be 1 to 32 letters, digits, `_` or `-`",
                ));
            }
            shipping.method = m.to_ascii_uppercase();
        }
        let coupon_codes =
            crate::pricing::coupon_codes(self.coupon_codes.as_deref().unwrap_or_default())?;
        let fulfillment = match &self.fulfillment {
            None => crate::order::Fulfillment::default(),
            Some(f) => match (f.method.as_deref(), f.location_id.as_deref()) {
                (None | Some("SHIP"), None) => crate::order::Fulfillment::default(),
                (None | Some("SHIP"), Some(_)) => {
                    return Err(FieldError::new(
                        "fulfillment.locationId",
                        "only a PICKUP names a store",
                    ));
                }
                (Some("PICKUP"), Some(l)) => crate::order::Fulfillment {
                    method: crate::order::FulfillmentMethod::Pickup,
                    location_id: Some(LocationId::parse(l).at("fulfillment.locationId")?),
                },
                (Some("PICKUP"), None) => {
                    return Err(FieldError::new(
                        "fulfillment.locationId",
                        "a PICKUP names the store it is collected at",
                    ));
                }
                (Some(_), _) => {
                    return Err(FieldError::new(
                        "fulfillment.method",
                        "must be SHIP or PICKUP",
                    ));
                }
            },
        };
        if fulfillment.pickup_at().is_some() {
            // Collected: no delivery to charge for.
            if self.shipping_method.is_some() {
                return Err(FieldError::new(
                    "shippingMethod",
                    "a PICKUP order is not shipped",
                ));
            }
            shipping.method = crate::pricing::PICKUP_METHOD.to_owned();
        }
        let bill_to = match &self.bill_to {
            None => None,
            Some(b) => Some(crate::order::BillTo {
                country: country(required(&b.country, "billTo.country")?, "billTo.country")?,
                postal_code: optional_text(&b.postal_code, "billTo.postalCode", 32)?,
                city: optional_text(&b.city, "billTo.city", 128)?,
                line1: optional_text(&b.line1, "billTo.line1", 256)?,
            }),
        };
        // The promise chosen: its method ships the order; intake dates it
        // (`ChosenPromise::new`) once it checked the option still holds.
        let promise = match &self.promise {
            None => None,
            Some(p) => {
                let method = p
                    .method
                    .as_deref()
                    .map(str::trim)
                    .filter(|m| {
                        !m.is_empty()
                            && m.len() <= 32
                            && m.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                    })
                    .ok_or_else(|| FieldError::new("promise.method", "is required"))?
                    .to_ascii_uppercase();
                let date = required(&p.delivery_date, "promise.deliveryDate")?;
                let chosen = crate::order::ChosenPromise::new(
                    method.clone(),
                    date,
                    crate::time::Timestamp::from_millis(0),
                    100,
                )
                .filter(|_| date.len() == 10)
                .ok_or_else(|| FieldError::new("promise.deliveryDate", "must be YYYY-MM-DD"))?;
                if fulfillment.pickup_at().is_some() {
                    return Err(FieldError::new(
                        "promise",
                        "a PICKUP order is collected, not delivered",
                    ));
                }
                match &self.shipping_method {
                    Some(m) if !m.trim().eq_ignore_ascii_case(&method) => {
                        return Err(FieldError::new(
                            "promise.method",
                            "must be the order's shippingMethod",
                        ));
                    }
                    _ => shipping.method = method,
                }
                Some(chosen)
            }
        };
        Ok(NewOrder {
            promise,
            bill_to,
            fulfillment,
            channel,
            external_id,
            customer,
            ship_to,
            lines,
            shipping,
            coupon_codes,
            total,
            account_id: match self.account_id.as_deref() {
                None => None,
                Some(a)
                    if !a.is_empty()
                        && a.len() <= 64
                        && a.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
                {
                    Some(a.to_owned())
                }
                Some(_) => {
                    return Err(FieldError::new(
                        "accountId",
                        "must be 1 to 64 letters, digits, `_` or `-`",
                    ));
                }
            },
            purchase_order_number: optional_text(
                &self.purchase_order_number,
                "purchaseOrderNumber",
                64,
            )?,
            credit_hold: None,
            risk: None,
            payment_method: match self.payment.as_ref().and_then(|p| p.method.as_deref()) {
                None | Some("CARD") => crate::order::PaymentMethod::Card,
                Some("WALLET") => crate::order::PaymentMethod::Wallet,
                Some("CASH_ON_DELIVERY") => crate::order::PaymentMethod::CashOnDelivery,
                Some("BANK_TRANSFER") => crate::order::PaymentMethod::BankTransfer,
                Some("ON_ACCOUNT") if self.account_id.is_some() => {
                    crate::order::PaymentMethod::OnAccount
                }
                Some("ON_ACCOUNT") => {
                    return Err(FieldError::new(
                        "payment.method",
                        "ON_ACCOUNT is for an account's order: send accountId",
                    ));
                }
                Some(_) => {
                    return Err(FieldError::new(
                        "payment.method",
                        "one of CARD, WALLET, CASH_ON_DELIVERY, BANK_TRANSFER, ON_ACCOUNT",
                    ));
                }
            },
        })
    }
}

fn is_plausible_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn validate_address(a: &AddressRequest) -> Result<Address, FieldError> {
    let country = country(required(&a.country, "shipTo.country")?, "shipTo.country")?;
    let point = point(a.lat, a.lon, "shipTo.")?;
    Ok(Address {
        country,
        postal_code: optional_text(&a.postal_code, "shipTo.postalCode", 32)?,
        city: text(&a.city, "shipTo.city", 128)?,
        line1: text(&a.line1, "shipTo.line1", 256)?,
        line2: optional_text(&a.line2, "shipTo.line2", 256)?,
        region: optional_text(&a.region, "shipTo.region", 32)?,
        point,
    })
}

/// An id made of letters, digits, `_` and `-`, 1 to `max` long (promotion,
/// account, price list ids; coupon codes; ship methods).
pub(crate) fn token(s: &str, field: &str, max: usize) -> Result<String, FieldError> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            format!("must be 1 to {max} letters, digits, `_` or `-`"),
        ))
    }
}

/// An ISO 3166 alpha-2 country code such as `BR`.
pub(crate) fn country(s: &str, field: &str) -> Result<String, FieldError> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(FieldError::new(
            field,
            "must be an ISO-3166 alpha-2 code such as BR",
        ));
    }
    Ok(s.to_owned())
}

/// A point from `lat` and `lon`, each required and in range; `prefix` is the
/// path of the object that holds them.
fn point(lat: Option<f64>, lon: Option<f64>, prefix: &str) -> Result<GeoPoint, FieldError> {
    let lat_field = format!("{prefix}lat");
    let lon_field = format!("{prefix}lon");
    let lat = *required(&lat, &lat_field)?;
    let lon = *required(&lon, &lon_field)?;
    // Each coordinate checked on its own, so the error names the field.
    GeoPoint::new(lat, 0.0).at(&lat_field)?;
    GeoPoint::new(0.0, lon).at(&lon_field)?;
    GeoPoint::new(lat, lon).at(prefix.trim_end_matches('.'))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationRequest {
    #[schemars(required, length(min = 1, max = 128))]
    pub name: Option<String>,
    #[schemars(required, extend("enum" = ["warehouse", "store"]))]
    pub kind: Option<String>,
    /// Optional with a `country`: without `lat` and `lon` the location is
    /// placed at the centre of its postal region (`postalCode`) or country.
    #[schemars(range(min = -90.0, max = 90.0))]
    pub lat: Option<f64>,
    #[schemars(range(min = -180.0, max = 180.0))]
    pub lon: Option<f64>,
    /// ISO 3166 alpha-2: the location then ships only there and to `shipsTo`.
    #[schemars(pattern(r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// Used, with `country`, only to locate a location sent without `lat`
    /// and `lon`.
    #[schemars(length(max = 32))]
    pub postal_code: Option<String>,
    /// Other countries it may ship to (ISO 3166 alpha-2).
    #[schemars(length(max = 250))]
    pub ships_to: Option<Vec<String>>,
    /// `false`: no new orders are routed there (default `true`).
    pub active: Option<bool>,
    /// Orders placed before this hour (UTC) ship the same day (default 15).
    #[schemars(range(min = 0, max = 24))]
    pub cutoff_hour_utc: Option<i64>,
    /// Days to pick and pack (default 0).
    #[schemars(range(min = 0, max = 60))]
    pub processing_days: Option<i64>,
    /// Preferred by cost routing (0 to 100, default 0).
    #[schemars(range(min = 0, max = 100))]
    pub priority: Option<i64>,
    /// Orders it can take a day (cost routing avoids it past them).
    #[schemars(range(min = 0, max = 10_000_000))]
    pub daily_capacity: Option<i64>,
    /// `false`: it does not ship orders (a store that only hands over
    /// pickups); default `true`.
    pub ships: Option<bool>,
}

impl LocationRequest {
    pub fn validate(&self, id: &str) -> Result<Location, FieldError> {
        let location_id = LocationId::parse(id).at("locationId")?;
        let kind = match required(&self.kind, "kind")?.as_str() {
            "warehouse" => LocationKind::Warehouse,
            "store" => LocationKind::Store,
            _ => return Err(FieldError::new("kind", "must be `warehouse` or `store`")),
        };
        let point = point(self.lat, self.lon, "")?;
        let ships_to = self.ships_to.clone().unwrap_or_default();
        if ships_to.len() > 250 {
            return Err(FieldError::new("shipsTo", "at most 250 countries"));
        }
        let ships_to = ships_to
            .iter()
            .enumerate()
            .map(|(i, c)| country(c, &format!("shipsTo[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Location {
            location_id,
            name: text(&self.name, "name", 128)?,
            kind,
            point,
            country: self
                .country
                .as_deref()
                .map(|c| country(c, "country"))
                .transpose()?,
            ships_to,
            active: self.active.unwrap_or(true),
            cutoff_hour_utc: match self.cutoff_hour_utc {
                None => None,
                Some(h @ 0..=24) => Some(h as u8),
                Some(_) => return Err(FieldError::new("cutoffHourUtc", "must be 0 to 24")),
            },
            processing_days: match self.processing_days {
                None => None,
                Some(d @ 0..=60) => Some(d as u8),
                Some(_) => return Err(FieldError::new("processingDays", "must be 0 to 60")),
            },
            priority: match self.priority {
                None => None,
                Some(p @ 0..=100) => Some(p as u8),
                Some(_) => return Err(FieldError::new("priority", "must be 0 to 100")),
            },
            ships: self.ships.unwrap_or(true),
            daily_capacity: match self.daily_capacity {
                None => None,
                Some(c @ 0..=10_000_000) => Some(c as u32),
                Some(_) => {
                    return Err(FieldError::new("dailyCapacity", "must be 0 to 10000000"));
                }
            },
        })
    }
}

/// `PUT /inventory/{sku}/{locationId}`: the units on hand, the safety stock
/// kept back from orders, or both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockRequest {
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub on_hand: Option<i64>,
    /// Units kept back from orders at this location: available = onHand −
    /// reserved − safetyStock, never below 0.
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub safety_stock: Option<i64>,
    /// Orders that the stock cannot cover may wait for the incoming
    /// supply here (`BACKORDERED`).
    pub backorder: Option<bool>,
    /// Orders may wait for the incoming supply here until then (a
    /// preorder's release date, ISO-8601).
    pub preorder_until: Option<String>,
    /// Reorder when available and incoming units fall to this (else
    /// computed from sales; see `GET /replenishment`).
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub reorder_point: Option<i64>,
    /// Days supply takes to arrive here (default 7).
    #[schemars(range(min = 1, max = 365))]
    pub lead_time_days: Option<i64>,
}

/// `POST /inventory/{sku}/{locationId}/incoming`: supply on its way.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IncomingRequest {
    #[schemars(required, range(min = 1, max = 1_000_000_000))]
    pub quantity: Option<i64>,
    /// When it is expected (ISO-8601).
    #[schemars(required)]
    pub expected_at: Option<String>,
    /// The purchase order or transfer it comes with (once per reference).
    #[schemars(required, length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.:#/-]+$"))]
    pub reference: Option<String>,
}

/// `POST /inventory/{sku}/{locationId}/receipts`: goods received.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRequest {
    #[schemars(required, range(min = 1, max = 1_000_000_000))]
    pub quantity: Option<i64>,
    /// The supply it brings (once per reference); without one, the request
    /// id.
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.:#/-]+$"))]
    pub reference: Option<String>,
}

/// Supply announced or received, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supply {
    pub quantity: u64,
    pub expected_at: Option<crate::time::Timestamp>,
    pub reference: Option<String>,
}

fn reference(v: &Option<String>) -> Result<Option<String>, FieldError> {
    match v.as_deref() {
        None => Ok(None),
        Some(r)
            if !r.is_empty()
                && r.len() <= 64
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.:#/-".contains(&b)) =>
        {
            Ok(Some(r.to_owned()))
        }
        Some(_) => Err(FieldError::new(
            "reference",
            "must be 1 to 64 letters, digits or _.:#/-",
        )),
    }
}

fn supply_quantity(v: Option<i64>) -> Result<u64, FieldError> {
    match v {
        Some(q @ 1..=MAX_ON_HAND) => Ok(q as u64),
        Some(_) => Err(FieldError::new("quantity", "must be 1 to 1000000000")),
        None => Err(FieldError::new("quantity", "is required")),
    }
}

impl IncomingRequest {
    pub fn validate(&self) -> Result<Supply, FieldError> {
        let quantity = supply_quantity(self.quantity)?;
        let expected_at = crate::time::Timestamp::parse_rfc3339(
            self.expected_at
                .as_deref()
                .ok_or_else(|| FieldError::new("expectedAt", "is required"))?,
        )
        .ok_or_else(|| FieldError::new("expectedAt", "must be an ISO-8601 date and time"))?;
        let reference = reference(&self.reference)?
            .ok_or_else(|| FieldError::new("reference", "is required"))?;
        Ok(Supply {
            quantity,
            expected_at: Some(expected_at),
            reference: Some(reference),
        })
    }
}

impl ReceiptRequest {
    pub fn validate(&self) -> Result<Supply, FieldError> {
        Ok(Supply {
            quantity: supply_quantity(self.quantity)?,
            expected_at: None,
            reference: reference(&self.reference)?,
        })
    }
}

/// Units on hand at one location: 0 to 10^9.
pub const MAX_ON_HAND: i64 = 1_000_000_000;

fn units(v: Option<i64>, field: &str) -> Result<Option<u64>, FieldError> {
    match v {
        None => Ok(None),
        Some(n) if (0..=MAX_ON_HAND).contains(&n) => Ok(Some(n as u64)),
        Some(_) => Err(FieldError::new(
            field,
            format!("must be between 0 and {MAX_ON_HAND}"),
        )),
    }
}

/// What a stock request sets: on hand, safety stock, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevels {
    pub on_hand: Option<u64>,
    pub safety_stock: Option<u64>,
    pub backorder: Option<bool>,
    pub preorder_until: Option<crate::time::Timestamp>,
    pub reorder_point: Option<u64>,
    pub lead_time_days: Option<u64>,
}

impl StockLevels {
    /// Only the units on hand.
    pub fn on_hand(units: u64) -> Self {
        Self {
            on_hand: Some(units),
            safety_stock: None,
            backorder: None,
            preorder_until: None,
            reorder_point: None,
            lead_time_days: None,
        }
    }

    /// Whether it sets any rule of the location's stock (not its levels).
    pub fn sets_rules(&self) -> bool {
        self.backorder.is_some()
            || self.preorder_until.is_some()
            || self.reorder_point.is_some()
            || self.lead_time_days.is_some()
    }
}

impl StockRequest {
    pub fn validate(&self) -> Result<StockLevels, FieldError> {
        let levels = StockLevels {
            on_hand: units(self.on_hand, "onHand")?,
            safety_stock: units(self.safety_stock, "safetyStock")?,
            backorder: self.backorder,
            reorder_point: units(self.reorder_point, "reorderPoint")?,
            lead_time_days: match self.lead_time_days {
                None => None,
                Some(d @ 1..=365) => Some(d as u64),
                Some(_) => return Err(FieldError::new("leadTimeDays", "must be 1 to 365")),
            },
            preorder_until: match self.preorder_until.as_deref() {
                None => None,
                Some(t) => Some(crate::time::Timestamp::parse_rfc3339(t).ok_or_else(|| {
                    FieldError::new("preorderUntil", "must be an ISO-8601 date and time")
                })?),
            },
        };
        if levels.on_hand.is_none() && levels.safety_stock.is_none() && !levels.sets_rules() {
            return Err(FieldError::new(
                "onHand",
                "is required (or safetyStock, backorder, preorderUntil, reorderPoint, leadTimeDays)",
            ));
        }
        Ok(levels)
    }
}

/// `PUT /inventory/{sku}`: how many shards the sku's stock is split into,
/// the network's safety stock, or both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockSettingsRequest {
    #[schemars(range(min = 1, max = 32))]
    pub shards: Option<i64>,
    /// Units of the sku kept back from orders across the network, on top
    /// of each location's own.
    #[schemars(range(min = 0, max = 1_000_000_000))]
    pub safety_stock: Option<i64>,
}

/// What `PUT /inventory/{sku}` sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockSettings {
    pub shards: Option<u16>,
    pub safety_stock: Option<u64>,
}

impl StockSettingsRequest {
    pub fn validate(&self) -> Result<StockSettings, FieldError> {
        let max = crate::inventory::MAX_SHARDS;
        let shards = match self.shards {
            None => None,
            Some(n) => Some(
                u16::try_from(n)
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        FieldError::new("shards", format!("must be between 1 and {max}"))
                    })?,
            ),
        };
        let settings = StockSettings {
            shards,
            safety_stock: units(self.safety_stock, "safetyStock")?,
        };
        if settings.shards.is_none() && settings.safety_stock.is_none() {
            return Err(FieldError::new("shards", "is required (or safetyStock)"));
        }
        Ok(settings)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    #[schemars(length(min = 1, max = 500))]
    pub reason: Option<String>,
}

impl CancelRequest {
    pub fn validate(&self) -> Result<String, FieldError> {
        Ok(optional_text(&self.reason, "reason", 500)?
            .unwrap_or_else(|| "cancelled by the customer".into()))
    }
}

/// `POST /orders/{id}/hold` and `POST /orders/{id}/reroute`: why.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReasonRequest {
    #[schemars(required, length(min = 1, max = 500))]
    pub reason: Option<String>,
}

impl ReasonRequest {
    pub fn validate(&self) -> Result<String, FieldError> {
        text(&self.reason, "reason", 500)
    }
}

/// `POST /orders/{id}/refunds`: money given back by an operator.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundRequest {
    /// Minor units of the order's currency.
    #[schemars(required, range(min = 1, max = 100_000_000_000_i64))]
    pub amount: Option<i64>,
    /// The order's currency, if sent (a check, not a conversion).
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: Option<String>,
    #[schemars(required, length(min = 1, max = 500))]
    pub reason: Option<String>,
}

/// A validated operator refund: amount in the order's minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAsk {
    pub amount: i64,
    pub currency: Option<Currency>,
    pub reason: String,
}

impl RefundRequest {
    pub fn validate(&self) -> Result<RefundAsk, FieldError> {
        let amount = *required(&self.amount, "amount")?;
        if !(1..=100_000_000_000).contains(&amount) {
            return Err(FieldError::new(
                "amount",
                "must be a positive number of minor units",
            ));
        }
        let currency = match &self.currency {
            None => None,
            Some(c) => Some(Currency::parse(c).map_err(|e| FieldError::new("currency", e.0))?),
        };
        Ok(RefundAsk {
            amount,
            currency,
            reason: text(&self.reason, "reason", 500)?,
        })
    }
}

/// `POST /inventory/{sku}/{locationId}/adjustments`: units found, received,
/// damaged or counted wrong, with the reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentRequest {
    /// Units added (positive) or taken off (negative) the units on hand.
    #[schemars(required, range(min = -1_000_000_000, max = 1_000_000_000))]
    pub delta: Option<i64>,
    #[schemars(required, length(min = 1, max = 500))]
    pub reason: Option<String>,
}

impl AdjustmentRequest {
    pub fn validate(&self) -> Result<(i64, String), FieldError> {
        let delta = *required(&self.delta, "delta")?;
        if delta == 0 || delta.abs() > MAX_ON_HAND {
            return Err(FieldError::new(
                "delta",
                format!("must be a non-zero number of units, at most {MAX_ON_HAND} either way"),
            ));
        }
        Ok((delta, text(&self.reason, "reason", 500)?))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnLineRequest {
    #[schemars(required, length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub sku: Option<String>,
    #[schemars(required, range(min = 1, max = 100_000))]
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReturnRequest {
    #[schemars(required, length(min = 1, max = 40))]
    pub lines: Option<Vec<ReturnLineRequest>>,
    #[schemars(required, length(min = 1, max = 500))]
    pub reason: Option<String>,
}

impl ReturnRequest {
    /// Lines merged per sku, and the reason.
    pub fn validate(&self) -> Result<(Vec<LineQty>, String), FieldError> {
        let lines_in = required(&self.lines, "lines")?;
        let lines = sku_quantities(lines_in.iter().map(|l| (&l.sku, &l.quantity)))?;
        Ok((lines, text(&self.reason, "reason", 500)?))
    }
}

/// `lines` of `{sku, quantity}` (returns, delivery promises): 1 to
/// [`MAX_LINES`], each field checked by its path, merged per sku.
pub(crate) fn sku_quantities<'a>(
    given: impl ExactSizeIterator<Item = (&'a Option<String>, &'a Option<i64>)>,
) -> Result<Vec<LineQty>, FieldError> {
    if given.len() == 0 || given.len() > MAX_LINES {
        return Err(FieldError::new(
            "lines",
            format!("must have 1 to {MAX_LINES} lines"),
        ));
    }
    let mut lines: Vec<LineQty> = Vec::new();
    for (i, (sku, quantity)) in given.enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let sku = Sku::parse(required(sku, &f("sku"))?).at(&f("sku"))?;
        let quantity = Quantity::new(*required(quantity, &f("quantity"))?).at(&f("quantity"))?;
        match lines.iter_mut().find(|x| x.sku == sku) {
            Some(x) => {
                x.quantity = x
                    .quantity
                    .plus(quantity)
                    .ok_or_else(|| FieldError::new(f("quantity"), "too many units of this sku"))?
            }
            None => lines.push(LineQty { sku, quantity }),
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(v: serde_json::Value) -> PlaceOrderRequest {
        serde_json::from_value(v).unwrap()
    }

    fn good() -> serde_json::Value {
        json!({
            "channel": "web", "customer": {"id": "c-1", "email": "a@b.co"}, "currency": "BRL",
            "shipTo": {"country": "BR", "postalCode": "20000-000", "city": "Rio", "line1": "Rua 1", "lat": -22.9, "lon": -43.2},
            "lines": [{"sku": "SKU-1", "quantity": 2, "unitPrice": 1990}, {"sku": "SKU-2", "quantity": 1, "unitPrice": 500}]
        })
    }

    fn field_of(v: serde_json::Value) -> String {
        request(v).validate().unwrap_err().field
    }

    #[test]
    fn a_good_request_validates_with_totals() {
        let o = request(good()).validate().unwrap();
        assert_eq!(o.total.amount, 2 * 1990 + 500);
        assert_eq!(o.total.currency.as_str(), "BRL");
        assert_eq!(o.lines[0].line_total.amount, 3980);
        assert_eq!(o.lines[1].line_no, 2);
        assert_eq!(
            o.ship_to.point,
            GeoPoint::new(-22.9, -43.2).unwrap(),
            "the address keeps both coordinates"
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut v = good();
        v["lines"][1]["quantity"] = json!(0);
        assert_eq!(field_of(v), "lines[1].quantity");
        let mut v = good();
        v["lines"] = json!([]);
        assert_eq!(field_of(v), "lines");
        let mut v = good();
        v["currency"] = json!("ZZZ");
        assert_eq!(field_of(v), "currency");
        let mut v = good();
        v["lines"][0]["unitPrice"] = json!(-1);
        assert_eq!(field_of(v), "lines[0].unitPrice");
        let mut v = good();
        v["shipTo"].as_object_mut().unwrap().remove("lat");
        assert_eq!(field_of(v), "shipTo.lat");
        let mut v = good();
        v["customer"]["email"] = json!("nope");
        assert_eq!(field_of(v), "customer.email");
        let mut v = good();
        v["lines"] = json!(vec![
            json!({"sku": "A", "quantity": 1, "unitPrice": 1});
            MAX_LINES + 1
        ]);
        assert_eq!(field_of(v), "lines");
        let mut v = good();
        v["lines"][0]["unitPrice"] = json!(MAX_UNIT_PRICE + 1);
        assert_eq!(field_of(v), "lines[0].unitPrice");
        let mut v = good();
        v["lines"][1]["sku"] = json!("SKU-1");
        assert_eq!(field_of(v), "lines[1].sku");
    }

    #[test]
    fn stock_and_location_requests_are_checked() {
        let stock = |on_hand, safety_stock| StockRequest {
            on_hand,
            safety_stock,
            ..Default::default()
        };
        assert!(stock(Some(-1), None).validate().is_err());
        assert_eq!(stock(Some(7), None).validate(), Ok(StockLevels::on_hand(7)));
        assert_eq!(
            stock(None, Some(3)).validate().unwrap().safety_stock,
            Some(3)
        );
        assert_eq!(stock(None, None).validate().unwrap_err().field, "onHand");
        assert_eq!(
            stock(Some(1), Some(-2)).validate().unwrap_err().field,
            "safetyStock"
        );
        let settings = |shards, safety_stock| StockSettingsRequest {
            shards,
            safety_stock,
        };
        assert_eq!(settings(None, None).validate().unwrap_err().field, "shards");
        assert_eq!(
            settings(Some(40), None).validate().unwrap_err().field,
            "shards"
        );
        assert_eq!(
            settings(None, Some(5)).validate().unwrap().safety_stock,
            Some(5)
        );
        let loc = LocationRequest {
            name: Some("SP".into()),
            kind: Some("warehouse".into()),
            lat: Some(-23.5),
            lon: Some(-46.6),
            ..Default::default()
        };
        assert_eq!(
            loc.validate("wh-sp").unwrap().point,
            GeoPoint::new(-23.5, -46.6).unwrap()
        );
        assert_eq!(loc.validate("bad id").unwrap_err().field, "locationId");
        let bad_kind = LocationRequest {
            kind: Some("depot".into()),
            ..loc.clone()
        };
        assert_eq!(bad_kind.validate("x").unwrap_err().field, "kind");
        let bad_reach = LocationRequest {
            country: Some("BR".into()),
            ships_to: Some(vec!["AR".into(), "japan".into()]),
            ..loc
        };
        assert_eq!(bad_reach.validate("x").unwrap_err().field, "shipsTo[1]");
    }
}
