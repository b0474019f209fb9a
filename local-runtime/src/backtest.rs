//! `oms backtest`: past orders replayed against a stock snapshot under each
//! routing strategy (`oms_domain::backtest`), printed as a table; and
//! `oms backtest --generate DIR`, a reproducible order set to try it on.

use anyhow::Context;
use oms_domain::backtest::{PastOrder, Replayed, replay};
use oms_domain::geo::GeoPoint;
use oms_domain::ids::{LocationId, Quantity, Sku};
use oms_domain::inventory::{LineQty, Location};
use oms_domain::routing::{RoutingRules, Strategy};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

/// The files a backtest reads.
pub struct Inputs<'a> {
    /// One order a line: `shipTo` (`country`, `lat`, `lon`) and `lines`
    /// (`sku`, `quantity`) — an order as `GET /orders/{id}` shows it, or as
    /// `POST /orders` takes it.
    pub orders: &'a Path,
    /// `sku,locationId,onHand` rows (as `oms stock import` reads them).
    pub stock: &'a Path,
    /// The locations, as `GET /locations` answers (or a JSON array).
    pub locations: &'a Path,
    /// The cost weights (`GET /routing-rules`), if not the defaults.
    pub rules: Option<&'a Path>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLine {
    ship_to: ShipTo,
    lines: Vec<Line>,
}

#[derive(Deserialize)]
struct ShipTo {
    country: String,
    lat: f64,
    lon: f64,
}

#[derive(Deserialize)]
struct Line {
    sku: String,
    quantity: i64,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LocationsFile {
    Listed { locations: Vec<Location> },
    Bare(Vec<Location>),
}

fn read_orders(path: &Path) -> anyhow::Result<Vec<PastOrder>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let mut out = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("{}:{}", path.display(), n + 1);
        let o: OrderLine = serde_json::from_str(line).with_context(at)?;
        let lines = o
            .lines
            .iter()
            .map(|l| {
                Ok(LineQty {
                    sku: Sku::parse(&l.sku).map_err(|e| anyhow::anyhow!("{}: {}", at(), e.0))?,
                    quantity: Quantity::new(l.quantity)
                        .map_err(|e| anyhow::anyhow!("{}: {}", at(), e.0))?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        out.push(PastOrder {
            ship_to: GeoPoint::new(o.ship_to.lat, o.ship_to.lon)
                .map_err(|e| anyhow::anyhow!("{}: {}", at(), e.0))?,
            country: o.ship_to.country,
            lines: oms_domain::inventory::merged(lines),
        });
    }
    Ok(out)
}

fn read_stock(path: &Path) -> anyhow::Result<BTreeMap<(Sku, LocationId), u64>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .with_context(|| path.display().to_string())?;
    let mut out = BTreeMap::new();
    for (n, record) in reader.records().enumerate() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim();
        if n == 0 && field(0).eq_ignore_ascii_case("sku") {
            continue;
        }
        let at = || format!("{}:{}", path.display(), n + 1);
        let sku = Sku::parse(field(0)).map_err(|e| anyhow::anyhow!("{}: {}", at(), e.0))?;
        let loc = LocationId::parse(field(1)).map_err(|e| anyhow::anyhow!("{}: {}", at(), e.0))?;
        let q: u64 = field(2).parse().with_context(at)?;
        *out.entry((sku, loc)).or_default() += q;
    }
    Ok(out)
}

/// Replays the orders under both strategies and prints the table.
pub fn run(inputs: &Inputs, strategies: &[Strategy]) -> anyhow::Result<()> {
    let orders = read_orders(inputs.orders)?;
    let stock = read_stock(inputs.stock)?;
    let text = std::fs::read_to_string(inputs.locations)
        .with_context(|| inputs.locations.display().to_string())?;
    let locations = match serde_json::from_str(&text).context("locations")? {
        LocationsFile::Listed { locations } | LocationsFile::Bare(locations) => locations,
    };
    let weights: RoutingRules = match inputs.rules {
        Some(p) => serde_json::from_str(&std::fs::read_to_string(p)?).context("rules")?,
        None => RoutingRules::default(),
    };
    println!(
        "{} orders, {} locations, {} stock rows; cost weights: {} per package, {} per 100 km, {} across a border",
        orders.len(),
        locations.len(),
        stock.len(),
        weights.per_package,
        weights.per_100_km,
        weights.cross_border
    );
    println!(
        "{:<9} {:>7} {:>7} {:>10} {:>9} {:>10} {:>11}",
        "strategy", "orders", "routed", "split rate", "packages", "km/order", "cost/order"
    );
    for strategy in strategies {
        let rules = RoutingRules {
            strategy: *strategy,
            ..weights.clone()
        };
        let r: Replayed = replay(&orders, &locations, &stock, &rules);
        println!(
            "{:<9} {:>7} {:>7} {:>9.1}% {:>9} {:>10.0} {:>11.0}",
            format!("{strategy:?}").to_uppercase(),
            r.orders,
            r.routed,
            r.split_rate() * 100.0,
            r.packages,
            r.km_per_order(),
            r.cost_per_order()
        );
    }
    Ok(())
}

/// Writes a reproducible order set into `dir`: `locations.json` (across
/// Brazil), `stock.csv` and `orders.jsonl` (customers anywhere in the
/// country, 1 to 4 lines of popular and less popular skus).
pub fn generate(
    dir: &Path,
    orders: usize,
    locations: usize,
    skus: usize,
    seed: u64,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = fastrand::Rng::with_seed(seed);
    let point = |rng: &mut fastrand::Rng| {
        (
            -30.0 + rng.f64() * 27.0, // latitude, south to north-east
            -55.0 + rng.f64() * 20.0, // longitude
        )
    };
    let mut locs = Vec::new();
    for i in 0..locations {
        let (lat, lon) = point(&mut rng);
        locs.push(serde_json::json!({
            "locationId": format!("loc-{i:02}"),
            "name": format!("Location {i}"),
            "kind": if i % 4 == 3 { "store" } else { "warehouse" },
            "lat": lat, "lon": lon, "country": "BR",
        }));
    }
    std::fs::write(
        dir.join("locations.json"),
        serde_json::to_vec_pretty(&serde_json::json!({ "locations": locs }))?,
    )?;
    let mut stock = csv::Writer::from_path(dir.join("stock.csv"))?;
    stock.write_record(["sku", "locationId", "onHand"])?;
    for s in 0..skus {
        for l in 0..locations {
            // A sku sits at about half the locations.
            if rng.bool() {
                // Popular skus (low numbers) are stocked deeper.
                let depth = 1 + (skus / (s + 1)).min(20) as u64;
                let q = rng.u64(1..60) * depth;
                stock.write_record([
                    format!("SKU-{s:03}"),
                    format!("loc-{l:02}"),
                    q.to_string(),
                ])?;
            }
        }
    }
    stock.flush()?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("orders.jsonl"))?);
    for _ in 0..orders {
        let (lat, lon) = point(&mut rng);
        let n = rng.usize(1..=4);
        let mut lines: Vec<serde_json::Value> = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..n {
            // Popular skus more often: the square of a uniform draw.
            let r = rng.f64();
            let s = ((r * r) * skus as f64) as usize;
            if seen.contains(&s) {
                continue;
            }
            seen.push(s);
            lines.push(
                serde_json::json!({"sku": format!("SKU-{s:03}"), "quantity": rng.u32(1..=2)}),
            );
        }
        let order = serde_json::json!({
            "shipTo": {"country": "BR", "lat": lat, "lon": lon},
            "lines": lines,
        });
        writeln!(out, "{order}")?;
    }
    out.flush()?;
    println!(
        "wrote {}/orders.jsonl ({orders} orders), stock.csv ({skus} skus), locations.json ({locations} locations)",
        dir.display()
    );
    Ok(())
}
