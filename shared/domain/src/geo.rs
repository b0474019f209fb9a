//! Coordinates and great-circle distance, used to pick the nearest location.

pub mod centroids;

use crate::ids::InvalidValue;
use serde::{Deserialize, Serialize};

/// A point on Earth: latitude in [-90, 90], longitude in [-180, 180].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "RawPoint")]
pub struct GeoPoint {
    #[schemars(range(min = -90.0, max = 90.0))]
    pub lat: f64,
    #[schemars(range(min = -180.0, max = 180.0))]
    pub lon: f64,
}

/// The shape a point arrives in, checked before it becomes a [`GeoPoint`].
#[derive(Deserialize, schemars::JsonSchema)]
#[schemars(rename = "GeoPoint")]
struct RawPoint {
    #[schemars(range(min = -90.0, max = 90.0))]
    lat: f64,
    #[schemars(range(min = -180.0, max = 180.0))]
    lon: f64,
}

impl TryFrom<RawPoint> for GeoPoint {
    type Error = InvalidValue;
    fn try_from(p: RawPoint) -> Result<Self, InvalidValue> {
        GeoPoint::new(p.lat, p.lon)
    }
}

impl GeoPoint {
    pub fn new(lat: f64, lon: f64) -> Result<Self, InvalidValue> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(InvalidValue("lat must be between -90 and 90".into()));
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(InvalidValue("lon must be between -180 and 180".into()));
        }
        Ok(Self { lat, lon })
    }

    /// Haversine distance in kilometres.
    pub fn distance_km(self, other: GeoPoint) -> f64 {
        const EARTH_RADIUS_KM: f64 = 6371.0;
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sao_paulo_to_rio_is_about_360_km() {
        let sp = GeoPoint::new(-23.55, -46.63).unwrap();
        let rio = GeoPoint::new(-22.9, -43.2).unwrap();
        let d = sp.distance_km(rio);
        assert!((350.0..370.0).contains(&d), "{d}");
        assert_eq!(sp.distance_km(sp), 0.0);
    }

    #[test]
    fn serde_goes_through_validation() {
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lat": 1.0, "lon": 2.0}"#).is_ok());
        assert!(serde_json::from_str::<GeoPoint>(r#"{"lat": 95.0, "lon": 2.0}"#).is_err());
    }

    #[test]
    fn refuses_out_of_range_and_nan() {
        assert!(GeoPoint::new(91.0, 0.0).is_err());
        assert!(GeoPoint::new(0.0, -181.0).is_err());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_err());
    }
}
