//! Delivery promises: when an order would ship and arrive, by which
//! method, from where, at what shipping cost — before anything is
//! reserved (`POST /promise`).
//!
//! The locations are the ones routing would choose now over the same
//! available-to-sell stock ([`crate::routing::plan`]). Each ships on the
//! day an order placed now is picked: the same day before its cut-off hour
//! (`cutoffHourUtc`, 15 unless set), else the next, plus its processing
//! days (`processingDays`, 0 unless set); a split order ships when its last
//! location does. It arrives after the method's transit days for the
//! distance from the farthest of its locations (the shipping table's
//! `transit` bands; without them STANDARD takes 1 day up to 300 km, 2 up to
//! 1,000, 4 up to 3,000 and 7 beyond). Calendar days, UTC.

use crate::geo::GeoPoint;
use crate::ids::{LocationId, Sku};
use crate::inventory::{LineQty, Location};
use crate::money::{Currency, Money};
use crate::pricing::{DEFAULT_SHIP_METHOD, ShippingRates};
use crate::routing::Availability;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The cut-off hour (UTC) of a location that sets none.
pub const DEFAULT_CUTOFF_HOUR_UTC: u8 = 15;
const DAY_MS: u64 = 24 * 3600 * 1000;

/// Transit days for a method up to a distance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransitBand {
    pub method: String,
    /// Up to this distance (km, inclusive); absent: any distance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_km: Option<u32>,
    pub days: u32,
}

/// Standard transit without a table: (up to km, days).
const DEFAULT_BANDS: [(f64, u32); 4] = [(300.0, 1), (1000.0, 2), (3000.0, 4), (f64::MAX, 7)];

/// One way the order could be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOption {
    pub method: String,
    pub ship_from: Vec<LocationId>,
    /// `YYYY-MM-DD` (UTC).
    pub ship_date: String,
    pub delivery_date: String,
    /// Minor units of the request's `currency` (0 without one or without a
    /// shipping table).
    pub shipping_cost: i64,
}

/// `POST /promise`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Promise {
    /// Fastest first.
    pub options: Vec<DeliveryOption>,
    /// Skus the network cannot cover now (then there is no option).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub short: Vec<Sku>,
}

/// `POST /promise`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromiseRequest {
    #[schemars(required, length(min = 1, max = 40))]
    pub lines: Option<Vec<PromiseLine>>,
    #[schemars(required)]
    pub ship_to: Option<PromiseShipTo>,
    /// For the shipping cost (ISO-4217).
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromiseLine {
    #[schemars(required, length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub sku: Option<String>,
    #[schemars(required, range(min = 1, max = 100_000))]
    pub quantity: Option<i64>,
}

/// Where to: a country, and a point or a postal code to locate it by.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromiseShipTo {
    #[schemars(required, pattern(r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    pub postal_code: Option<String>,
    #[schemars(range(min = -90.0, max = 90.0))]
    pub lat: Option<f64>,
    #[schemars(range(min = -180.0, max = 180.0))]
    pub lon: Option<f64>,
}

/// A promise request, validated.
pub struct PromiseAsk {
    pub lines: Vec<LineQty>,
    pub country: String,
    pub postal_code: Option<String>,
    /// `None`: to be located from the country and postal code.
    pub point: Option<GeoPoint>,
    pub currency: Option<Currency>,
}

impl PromiseRequest {
    pub fn validate(&self) -> Result<PromiseAsk, crate::validation::FieldError> {
        use crate::validation::FieldError;
        let given = self
            .lines
            .as_ref()
            .ok_or_else(|| FieldError::new("lines", "is required"))?;
        let lines = crate::validation::sku_quantities(given.iter().map(|l| (&l.sku, &l.quantity)))?;
        let to = self
            .ship_to
            .as_ref()
            .ok_or_else(|| FieldError::new("shipTo", "is required"))?;
        let country = crate::validation::country(
            to.country.as_deref().unwrap_or_default(),
            "shipTo.country",
        )?;
        let point = match (to.lat, to.lon) {
            (Some(lat), Some(lon)) => {
                Some(GeoPoint::new(lat, lon).map_err(|e| FieldError::new("shipTo.lat", e.0))?)
            }
            (None, None) => None,
            _ => {
                return Err(FieldError::new(
                    "shipTo.lat",
                    "send both lat and lon, or neither",
                ));
            }
        };
        let currency = self
            .currency
            .as_deref()
            .map(Currency::parse)
            .transpose()
            .map_err(|e| FieldError::new("currency", e.0))?;
        Ok(PromiseAsk {
            lines,
            country,
            postal_code: to.postal_code.clone(),
            point,
            currency,
        })
    }
}

/// The date of a time, `YYYY-MM-DD`.
fn date(t: Timestamp) -> String {
    t.to_rfc3339()[..10].to_owned()
}

/// The day (from the epoch) a location ships an order placed at `now`.
fn ship_day(location: &Location, now: Timestamp) -> u64 {
    let day = now.millis() / DAY_MS;
    let hour = (now.millis() % DAY_MS) / 3_600_000;
    let cutoff = u64::from(location.cutoff_hour_utc.unwrap_or(DEFAULT_CUTOFF_HOUR_UTC));
    let after_cutoff = u64::from(hour >= cutoff);
    day + after_cutoff + u64::from(location.processing_days.unwrap_or(0))
}

/// The methods the shipping table knows, STANDARD first.
fn methods(rates: &ShippingRates) -> Vec<String> {
    let mut out = vec![DEFAULT_SHIP_METHOD.to_owned()];
    for m in rates
        .transit
        .iter()
        .map(|t| &t.method)
        .chain(rates.rates.iter().map(|r| &r.method))
    {
        if !out.contains(m) {
            out.push(m.clone());
        }
    }
    out
}

/// Transit days by `method` for `km`; `None` when the table has bands for
/// the method and none reaches that far.
fn transit_days(rates: &ShippingRates, method: &str, km: f64) -> Option<u32> {
    let mut bands: Vec<&TransitBand> = rates
        .transit
        .iter()
        .filter(|t| t.method == method)
        .collect();
    if bands.is_empty() {
        if method != DEFAULT_SHIP_METHOD {
            return None;
        }
        return DEFAULT_BANDS
            .iter()
            .find(|(max, _)| km <= *max)
            .map(|(_, d)| *d);
    }
    bands.sort_by_key(|b| b.max_km.unwrap_or(u32::MAX));
    bands
        .into_iter()
        .find(|b| b.max_km.is_none_or(|m| km <= f64::from(m)))
        .map(|b| b.days)
}

/// What a promise is asked about.
pub struct PromiseInput<'a> {
    pub lines: &'a [LineQty],
    pub country: &'a str,
    pub point: GeoPoint,
    pub currency: Option<Currency>,
    /// Total weight of the lines, grams.
    pub grams: u64,
}

/// The delivery options for `input` over `stock` at `now`.
pub fn promise(
    input: &PromiseInput,
    stock: &Availability,
    locations: &[Location],
    rates: &ShippingRates,
    now: Timestamp,
) -> Promise {
    let short: Vec<Sku> = input
        .lines
        .iter()
        .filter(|l| stock.network_free(&l.sku) < u64::from(l.quantity.get()))
        .map(|l| l.sku.clone())
        .collect();
    if !short.is_empty() {
        return Promise {
            options: Vec::new(),
            short,
        };
    }
    let eligible: Vec<_> = stock
        .candidates()
        .iter()
        .filter(|c| c.serves(input.country))
        .cloned()
        .collect();
    let Ok(plan) = crate::routing::plan(input.lines, input.point, &eligible) else {
        return Promise {
            options: Vec::new(),
            short: input.lines.iter().map(|l| l.sku.clone()).collect(),
        };
    };
    let mut from: Vec<&Location> = locations
        .iter()
        .filter(|l| {
            plan.allocations
                .iter()
                .any(|a| a.location_id == l.location_id)
        })
        .collect();
    from.sort_by(|a, b| a.location_id.cmp(&b.location_id));
    let ship = from
        .iter()
        .map(|l| ship_day(l, now))
        .max()
        .unwrap_or(now.millis() / DAY_MS);
    let km = from
        .iter()
        .map(|l| l.point.distance_km(input.point))
        .fold(0.0, f64::max);
    let mut options: Vec<DeliveryOption> = methods(rates)
        .into_iter()
        .filter_map(|method| {
            let days = transit_days(rates, &method, km)?;
            let cost = match input.currency {
                Some(c) => {
                    rates
                        .charge(&method, input.country, input.grams, c)
                        .ok()?
                        .unwrap_or(Money::zero(c))
                        .amount
                }
                None => 0,
            };
            Some(DeliveryOption {
                method,
                ship_from: from.iter().map(|l| l.location_id.clone()).collect(),
                ship_date: date(Timestamp::from_millis(ship * DAY_MS)),
                delivery_date: date(Timestamp::from_millis((ship + u64::from(days)) * DAY_MS)),
                shipping_cost: cost,
            })
        })
        .collect();
    options.sort_by(|a, b| {
        a.delivery_date
            .cmp(&b.delivery_date)
            .then(a.shipping_cost.cmp(&b.shipping_cost))
    });
    Promise {
        options,
        short: Vec::new(),
    }
}

/// Whether a delivery promised at checkout can still be kept, given the
/// options the OMS can promise now: one of its method delivering by its
/// date (else `PROMISE_UNAVAILABLE`, or `PROMISE_EXPIRED` naming the
/// earliest date now).
pub fn still_kept(
    chosen: &crate::order::ChosenPromise,
    options: &[DeliveryOption],
) -> Result<(), crate::catalog::PricingError> {
    let refuse = |code, field: &str, message: String| crate::catalog::PricingError {
        code,
        field: crate::validation::FieldError::new(field, message),
    };
    let Some(option) = options.iter().find(|o| o.method == chosen.method) else {
        return Err(refuse(
            "PROMISE_UNAVAILABLE",
            "promise.method",
            format!(
                "no {} delivery can be promised for this order now",
                chosen.method
            ),
        ));
    };
    if option.delivery_date > chosen.delivery_date {
        return Err(refuse(
            "PROMISE_EXPIRED",
            "promise.deliveryDate",
            format!(
                "{} by {} can no longer be kept: the earliest is now {}",
                chosen.method, chosen.delivery_date, option.delivery_date
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::{location, stock};

    fn rio() -> GeoPoint {
        GeoPoint::new(-22.9, -43.2).unwrap()
    }

    #[test]
    fn cutoff_processing_and_transit_make_the_dates() {
        // 2026-11-26 10:00 UTC and 16:00 UTC.
        let morning = Timestamp::parse_rfc3339("2026-11-26T10:00:00Z").unwrap();
        let evening = Timestamp::parse_rfc3339("2026-11-26T16:00:00Z").unwrap();
        let a = stock(&[("A", "wh", 5)]);
        let mut locations = vec![location("wh", rio(), None)];
        let lines = [LineQty {
            sku: Sku::parse("A").unwrap(),
            quantity: crate::ids::Quantity::new(2).unwrap(),
        }];
        let input = PromiseInput {
            lines: &lines,
            country: "BR",
            point: rio(),
            currency: None,
            grams: 0,
        };
        let p = promise(&input, &a, &locations, &ShippingRates::default(), morning);
        assert_eq!(p.options.len(), 1);
        assert_eq!(
            (
                p.options[0].ship_date.as_str(),
                p.options[0].delivery_date.as_str()
            ),
            ("2026-11-26", "2026-11-27"),
            "before the cut-off: ships today, a day's transit nearby"
        );
        let p = promise(&input, &a, &locations, &ShippingRates::default(), evening);
        assert_eq!(
            p.options[0].ship_date, "2026-11-27",
            "after the cut-off: tomorrow"
        );
        locations[0].processing_days = Some(2);
        locations[0].cutoff_hour_utc = Some(18);
        let p = promise(&input, &a, &locations, &ShippingRates::default(), evening);
        assert_eq!(
            p.options[0].ship_date, "2026-11-28",
            "before 18:00, plus two days"
        );

        let rates: ShippingRates = serde_json::from_value(serde_json::json!({
            "rates": [{"method": "EXPRESS", "prices": {"BRL": 3000}}, {"method": "STANDARD", "prices": {"BRL": 1000}}],
            "transit": [{"method": "EXPRESS", "days": 1}, {"method": "STANDARD", "maxKm": 100, "days": 3}, {"method": "STANDARD", "days": 6}]
        }))
        .unwrap();
        let priced = PromiseInput {
            currency: Some(Currency::parse("BRL").unwrap()),
            ..input
        };
        let p = promise(&priced, &a, &locations, &rates, morning);
        let got: Vec<(&str, &str, i64)> = p
            .options
            .iter()
            .map(|o| (o.method.as_str(), o.delivery_date.as_str(), o.shipping_cost))
            .collect();
        assert_eq!(
            got,
            [
                ("EXPRESS", "2026-11-29", 3000),
                ("STANDARD", "2026-12-01", 1000)
            ],
            "fastest first"
        );

        let short = PromiseInput {
            lines: &[LineQty {
                sku: Sku::parse("A").unwrap(),
                quantity: crate::ids::Quantity::new(9).unwrap(),
            }],
            ..input
        };
        let p = promise(&short, &a, &locations, &rates, morning);
        assert!(p.options.is_empty());
        assert_eq!(p.short, [Sku::parse("A").unwrap()]);
    }

    #[test]
    fn a_promise_is_kept_while_an_option_of_its_method_delivers_by_its_date() {
        let option = |date: &str| DeliveryOption {
            method: "STANDARD".into(),
            ship_from: vec![],
            ship_date: date.into(),
            delivery_date: date.into(),
            shipping_cost: 0,
        };
        let chosen = crate::order::ChosenPromise::new(
            "STANDARD".into(),
            "2027-01-17",
            Timestamp::from_millis(0),
            75,
        )
        .unwrap();
        assert!(still_kept(&chosen, &[option("2027-01-16")]).is_ok());
        assert!(still_kept(&chosen, &[option("2027-01-17")]).is_ok());
        let late = still_kept(&chosen, &[option("2027-01-18")]).unwrap_err();
        assert_eq!(
            (late.code, late.field.field.as_str()),
            ("PROMISE_EXPIRED", "promise.deliveryDate")
        );
        assert!(late.field.message.contains("2027-01-18"));
        assert_eq!(
            still_kept(&chosen, &[]).unwrap_err().code,
            "PROMISE_UNAVAILABLE"
        );
    }
}
