//! Where an address is, roughly, when it comes without coordinates: the
//! centre of its postal region (by the first digit of the postal code in
//! Brazil, the United States, Germany and Japan) or of its country —
//! approximate population centres, good enough to rank fulfilment
//! locations by distance, never to deliver by. Pure data: a geocoding
//! service can stand in front of it (the application's `Geocoder` port).

use super::GeoPoint;

/// How precisely an address was located.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// The centre of the region of the postal code's first digit.
    PostalRegion,
    /// The country's centre.
    Country,
}

/// (country, first digit of the postal code, lat, lon).
const POSTAL_REGIONS: &[(&str, char, f64, f64)] = &[
    // Brazil: CEP regions.
    ("BR", '0', -23.55, -46.63), // São Paulo (capital)
    ("BR", '1', -22.40, -47.90), // São Paulo (state)
    ("BR", '2', -22.60, -42.90), // Rio de Janeiro, Espírito Santo
    ("BR", '3', -19.90, -43.95), // Minas Gerais
    ("BR", '4', -12.97, -38.50), // Bahia, Sergipe
    ("BR", '5', -8.05, -35.00),  // Pernambuco, Alagoas, Paraíba, Rio Grande do Norte
    ("BR", '6', -3.00, -44.00),  // Ceará, Piauí, Maranhão, the North
    ("BR", '7', -15.80, -49.50), // Distrito Federal, Goiás, the Centre-West
    ("BR", '8', -26.00, -49.80), // Paraná, Santa Catarina
    ("BR", '9', -30.03, -51.20), // Rio Grande do Sul
    // United States: ZIP national areas.
    ("US", '0', 42.40, -71.80),  // New England, New Jersey
    ("US", '1', 41.60, -75.80),  // New York, Pennsylvania, Delaware
    ("US", '2', 37.60, -78.40),  // DC, Maryland, Virginias, Carolinas
    ("US", '3', 31.80, -84.00),  // Florida, Georgia, Alabama, Tennessee, Mississippi
    ("US", '4', 40.30, -84.60),  // Ohio, Michigan, Indiana, Kentucky
    ("US", '5', 44.30, -93.50),  // Minnesota, Wisconsin, Iowa, Dakotas, Montana
    ("US", '6', 39.90, -91.80),  // Illinois, Missouri, Kansas, Nebraska
    ("US", '7', 32.50, -96.00),  // Texas, Louisiana, Oklahoma, Arkansas
    ("US", '8', 39.00, -108.00), // Mountain states
    ("US", '9', 38.60, -121.50), // Pacific states
    // Germany: Postleitzonen.
    ("DE", '0', 51.10, 13.00),
    ("DE", '1', 52.80, 13.20),
    ("DE", '2', 53.60, 9.80),
    ("DE", '3', 52.00, 9.80),
    ("DE", '4', 51.50, 7.30),
    ("DE", '5', 50.70, 7.00),
    ("DE", '6', 50.00, 8.40),
    ("DE", '7', 48.70, 9.00),
    ("DE", '8', 48.10, 11.50),
    ("DE", '9', 49.60, 11.00),
    // Japan: the first digit of the postal code.
    ("JP", '0', 43.06, 141.35), // Hokkaido
    ("JP", '1', 35.69, 139.69), // Tokyo
    ("JP", '2', 35.50, 139.90), // Kanagawa, Chiba
    ("JP", '3', 36.10, 139.60), // Saitama, northern Kanto
    ("JP", '4', 35.00, 137.50), // Aichi, Shizuoka, Gifu
    ("JP", '5', 34.69, 135.50), // Osaka, Mie, Nara
    ("JP", '6', 34.90, 135.30), // Kyoto, Hyogo
    ("JP", '7', 34.20, 133.00), // Chugoku, Shikoku
    ("JP", '8', 33.20, 130.60), // Kyushu, Okinawa
    ("JP", '9', 38.50, 140.00), // Tohoku, Hokuriku
];

/// (country, lat, lon): where most of its people live, roughly.
const COUNTRIES: &[(&str, f64, f64)] = &[
    ("AR", -34.60, -60.50),
    ("AT", 47.70, 14.60),
    ("AU", -33.00, 147.00),
    ("BE", 50.80, 4.50),
    ("BO", -17.40, -65.00),
    ("BR", -20.00, -46.00),
    ("CA", 45.50, -77.00),
    ("CH", 46.90, 8.00),
    ("CL", -33.50, -70.70),
    ("CN", 32.00, 114.00),
    ("CO", 5.00, -74.50),
    ("CZ", 49.80, 15.50),
    ("DE", 51.00, 9.80),
    ("DK", 55.90, 10.50),
    ("EC", -1.50, -78.80),
    ("ES", 40.20, -3.70),
    ("FI", 61.50, 24.50),
    ("FR", 47.00, 2.40),
    ("GB", 52.60, -1.60),
    ("GR", 38.50, 23.00),
    ("IE", 53.30, -7.50),
    ("IN", 23.00, 79.00),
    ("IT", 43.50, 11.50),
    ("JP", 35.60, 137.50),
    ("KR", 37.00, 127.30),
    ("MX", 20.50, -100.00),
    ("NL", 52.20, 5.30),
    ("NO", 60.00, 10.00),
    ("NZ", -39.50, 175.00),
    ("PE", -11.00, -76.50),
    ("PL", 51.90, 19.40),
    ("PT", 39.80, -8.40),
    ("PY", -25.30, -57.50),
    ("RO", 45.50, 25.00),
    ("SE", 59.00, 16.00),
    ("UY", -34.50, -56.20),
    ("US", 38.50, -88.00),
    ("VE", 9.50, -67.50),
    ("ZA", -27.00, 27.50),
];

/// The point standing for an address of `country` (ISO 3166 alpha-2) with
/// this postal code, and how precise it is; `None` for a country not in
/// the table.
pub fn locate(country: &str, postal_code: Option<&str>) -> Option<(GeoPoint, Precision)> {
    let first = postal_code.and_then(|p| p.trim().chars().next());
    let found = first
        .and_then(|d| {
            POSTAL_REGIONS
                .iter()
                .find(|(c, digit, _, _)| *c == country && *digit == d)
                .map(|(_, _, lat, lon)| (*lat, *lon, Precision::PostalRegion))
        })
        .or_else(|| {
            COUNTRIES
                .iter()
                .find(|(c, _, _)| *c == country)
                .map(|(_, lat, lon)| (*lat, *lon, Precision::Country))
        })?;
    let (lat, lon, precision) = found;
    GeoPoint::new(lat, lon).ok().map(|p| (p, precision))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postal_regions_then_countries() {
        let (rio, p) = locate("BR", Some("20040-002")).unwrap();
        assert_eq!(p, Precision::PostalRegion);
        let real_rio = GeoPoint::new(-22.9, -43.2).unwrap();
        assert!(rio.distance_km(real_rio) < 100.0);
        let (sp, _) = locate("BR", Some("01310-100")).unwrap();
        assert!(sp.distance_km(GeoPoint::new(-23.55, -46.63).unwrap()) < 10.0);
        let (la, _) = locate("US", Some("90012")).unwrap();
        assert!(la.distance_km(GeoPoint::new(34.05, -118.24).unwrap()) < 800.0);
        let (madrid, p) = locate("ES", Some("28013")).unwrap();
        assert_eq!(p, Precision::Country);
        assert!(madrid.distance_km(GeoPoint::new(40.42, -3.70).unwrap()) < 100.0);
        assert_eq!(locate("BR", None).map(|(_, p)| p), Some(Precision::Country));
        assert_eq!(locate("ZZ", Some("1")), None);
    }

    #[test]
    fn every_entry_is_a_valid_point_in_its_country_list_once() {
        let mut seen = std::collections::HashSet::new();
        for (c, lat, lon) in COUNTRIES {
            assert!(GeoPoint::new(*lat, *lon).is_ok(), "{c}");
            assert!(seen.insert(*c), "{c} twice");
        }
        for c in [
            "BR", "US", "ES", "PT", "MX", "AR", "CO", "CL", "DE", "FR", "GB", "JP",
        ] {
            assert!(locate(c, None).is_some(), "{c}");
        }
        for (c, d, lat, lon) in POSTAL_REGIONS {
            assert!(GeoPoint::new(*lat, *lon).is_ok(), "{c} {d}");
            assert!(seen.contains(c), "{c} has regions but no country entry");
        }
    }
}
