//! `oms demo`: a living business in a minute. Seeds locations in Brazilian
//! cities and stock of a dozen products, then places orders at a chosen
//! rate for a chosen time — from addresses without coordinates, located by
//! their postal codes — and plays the partners for each: the payment
//! provider pays (now and then in two parts, holding the order until the
//! sum matches), the warehouse ships from each allocated location, the
//! carrier delivers; some customers cancel, some return a unit. A progress
//! bar counts what happened. Works against the embedded runtime (partners'
//! events signed and sent to its `PutEvents`) and `--aws` mode (`--bus`:
//! put on the emulator's or AWS's bus with the environment's credentials).

use crate::partners::PartnerSender;
use oms_domain::partner::PartnerKind;
use serde_json::{Value, json};
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct DemoOptions {
    pub url: String,
    pub token: String,
    pub partners: PartnerSender,
    pub rate: u32,
    pub duration: Duration,
}

const LOCATIONS: &[(&str, &str, &str, f64, f64)] = &[
    ("wh-sao-paulo", "São Paulo DC", "warehouse", -23.55, -46.63),
    ("wh-recife", "Recife DC", "warehouse", -8.05, -34.90),
    (
        "wh-porto-alegre",
        "Porto Alegre DC",
        "warehouse",
        -30.03,
        -51.20,
    ),
    ("st-rio", "Rio de Janeiro store", "store", -22.90, -43.20),
    (
        "st-belo-horizonte",
        "Belo Horizonte store",
        "store",
        -19.92,
        -43.94,
    ),
];

const PRODUCTS: &[(&str, i64)] = &[
    ("TSHIRT-BLK-M", 7990),
    ("TSHIRT-WHT-M", 7990),
    ("JEANS-32", 19990),
    ("SNEAKER-41", 34990),
    ("SNEAKER-42", 34990),
    ("CAP-RED", 4990),
    ("SOCKS-3P", 2990),
    ("HOODIE-L", 24990),
    ("JACKET-M", 49990),
    ("BACKPACK", 29990),
    ("BOTTLE", 5990),
    ("SUNGLASSES", 15990),
];

/// A random number below `n` (std's hasher keys are random per process).
fn roll(n: u64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(n);
    h.finish() % n.max(1)
}

#[derive(Default)]
struct Counts {
    placed: AtomicU64,
    rejected: AtomicU64,
    paid: AtomicU64,
    held: AtomicU64,
    shipped: AtomicU64,
    delivered: AtomicU64,
    cancelled: AtomicU64,
    returned: AtomicU64,
    errors: AtomicU64,
}

impl Counts {
    fn line(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "placed {} · rejected {} · paid {} (held first {}) · shipped {} · delivered {} · cancelled {} · returned {} · errors {}",
            g(&self.placed),
            g(&self.rejected),
            g(&self.paid),
            g(&self.held),
            g(&self.shipped),
            g(&self.delivered),
            g(&self.cancelled),
            g(&self.returned),
            g(&self.errors)
        )
    }
}

struct Api {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }
}

async fn pause(min_ms: u64, max_ms: u64) {
    tokio::time::sleep(Duration::from_millis(min_ms + roll(max_ms - min_ms + 1))).await;
}

/// Seeds, then runs the orders; prints a summary at the end.
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let api = Arc::new(Api {
        http: reqwest::Client::new(),
        url: options.url.trim_end_matches('/').to_owned(),
        token: options.token,
    });
    let partners = Arc::new(options.partners);
    for (id, name, kind, lat, lon) in LOCATIONS {
        let (s, v) = api
            .call(
                reqwest::Method::PUT,
                &format!("/locations/{id}"),
                Some(json!({"name": name, "kind": kind, "lat": lat, "lon": lon, "country": "BR"})),
            )
            .await
            .map_err(|e| anyhow::anyhow!("is the OMS running at {}? {e}", api.url))?;
        anyhow::ensure!(s < 300, "PUT /locations/{id}: {s} {v}");
    }
    let orders = u64::from(options.rate) * options.duration.as_secs().max(1);
    for (sku, _) in PRODUCTS {
        for (loc, _, _, _, _) in LOCATIONS {
            // Enough for most orders, not for all of the popular ones.
            let units = orders / 12 + roll(orders / 8 + 10);
            let (s, v) = api
                .call(
                    reqwest::Method::PUT,
                    &format!("/inventory/{sku}/{loc}"),
                    Some(json!({"onHand": units})),
                )
                .await?;
            anyhow::ensure!(s < 300, "PUT /inventory/{sku}/{loc}: {s} {v}");
        }
    }
    println!(
        "seeded {} locations and {} products; placing {} orders over {} s",
        LOCATIONS.len(),
        PRODUCTS.len(),
        orders,
        options.duration.as_secs()
    );

    let counts = Arc::new(Counts::default());
    let bar = indicatif::ProgressBar::new(orders);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} orders\n{msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let mut tasks = tokio::task::JoinSet::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(
        1.0 / f64::from(options.rate.max(1)),
    ));
    for _ in 0..orders {
        tick.tick().await;
        let (api, partners, order_counts) = (api.clone(), partners.clone(), counts.clone());
        tasks.spawn(async move {
            if let Err(e) = lifecycle(&api, &partners, &order_counts).await {
                order_counts.errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "demo order");
            }
        });
        bar.inc(1);
        bar.set_message(counts.line());
        while tasks.try_join_next().is_some() {}
    }
    // Let the orders in flight finish their lifecycle.
    let drain = async {
        while tasks.join_next().await.is_some() {
            bar.set_message(counts.line());
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), drain)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    bar.finish_and_clear();
    println!("{}", counts.line());
    Ok(())
}

async fn lifecycle(api: &Api, partners: &PartnerSender, counts: &Counts) -> anyhow::Result<()> {
    let lines: Vec<Value> = (0..1 + roll(3))
        .map(|n| {
            let (sku, price) =
                PRODUCTS[((roll(PRODUCTS.len() as u64) + n) % PRODUCTS.len() as u64) as usize];
            json!({"sku": sku, "quantity": 1 + roll(2), "unitPrice": price})
        })
        .collect::<Vec<_>>();
    let mut seen = std::collections::HashSet::new();
    let lines: Vec<Value> = lines
        .into_iter()
        .filter(|l| seen.insert(l["sku"].as_str().unwrap_or_default().to_owned()))
        .collect();
    let customer = format!("c-{}", roll(500));
    // An address without coordinates: located by its CEP's region.
    let cep = format!("{}{:04}-{:03}", roll(10), roll(10_000), roll(1_000));
    let body = json!({
        "channel": "web", "customer": {"id": customer, "email": format!("{customer}@example.com")},
        "currency": "BRL",
        "shipTo": {"country": "BR", "postalCode": cep, "city": "Cidade", "line1": "Rua das Flores, 10"},
        "lines": lines,
    });
    let (s, order) = api
        .call(reqwest::Method::POST, "/orders", Some(body))
        .await?;
    anyhow::ensure!(s == 201, "POST /orders: {s} {order}");
    let id = order["orderId"].as_str().unwrap_or_default().to_owned();
    if order["status"] == "REJECTED" {
        counts.rejected.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    counts.placed.fetch_add(1, Ordering::Relaxed);
    let total = order["total"].as_i64().unwrap_or(0);
    pause(300, 2000).await;
    let fate = roll(100);
    if fate < 7 {
        let (s, v) = api
            .call(
                reqwest::Method::POST,
                &format!("/orders/{id}/cancel"),
                Some(json!({"reason": "changed my mind"})),
            )
            .await?;
        anyhow::ensure!(s < 300, "cancel: {s} {v}");
        counts.cancelled.fetch_add(1, Ordering::Relaxed);
        return Ok(());
    }
    let pay = |payment: &str, amount: i64| json!({"orderId": id, "paymentId": payment, "amount": amount, "currency": "BRL"});
    if fate < 12 && total > 100 {
        // Paid in two parts: on hold until the sum matches.
        partners
            .put(
                PartnerKind::Payments,
                "PaymentConfirmed",
                &pay(&format!("pay-{id}-a"), total - 100),
            )
            .await?;
        counts.held.fetch_add(1, Ordering::Relaxed);
        pause(500, 1500).await;
        partners
            .put(
                PartnerKind::Payments,
                "PaymentConfirmed",
                &pay(&format!("pay-{id}-b"), 100),
            )
            .await?;
    } else {
        partners
            .put(
                PartnerKind::Payments,
                "PaymentConfirmed",
                &pay(&format!("pay-{id}"), total),
            )
            .await?;
    }
    counts.paid.fetch_add(1, Ordering::Relaxed);
    pause(500, 3000).await;
    let mut locations: Vec<String> = order["allocations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["locationId"].as_str().map(str::to_owned))
        .collect();
    locations.dedup();
    for loc in &locations {
        partners
            .put(
                PartnerKind::Wms,
                "ShipmentStatusChanged",
                &json!({"orderId": id, "shipmentId": format!("S-{id}-{loc}"), "locationId": loc,
                        "status": "SHIPPED", "carrier": "Correios", "trackingNumber": format!("BR{}", roll(1_000_000_000))}),
            )
            .await?;
    }
    counts.shipped.fetch_add(1, Ordering::Relaxed);
    pause(1000, 4000).await;
    for loc in &locations {
        partners
            .put(
                PartnerKind::Carrier,
                "ShipmentStatusChanged",
                &json!({"orderId": id, "shipmentId": format!("S-{id}-{loc}"), "locationId": loc, "status": "DELIVERED"}),
            )
            .await?;
    }
    counts.delivered.fetch_add(1, Ordering::Relaxed);
    if roll(100) < 6 {
        pause(500, 1500).await;
        let sku = order["lines"][0]["sku"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let (s, v) = api
            .call(
                reqwest::Method::POST,
                &format!("/orders/{id}/returns"),
                Some(json!({"lines": [{"sku": sku, "quantity": 1}], "reason": "did not fit"})),
            )
            .await?;
        anyhow::ensure!(s == 201, "return: {s} {v}");
        let rma = v["return"]["rmaId"].as_str().unwrap_or_default().to_owned();
        pause(500, 1500).await;
        partners
            .put(
                PartnerKind::Wms,
                "ReturnReceived",
                &json!({"orderId": id, "returnId": rma, "lines": [{"sku": sku, "quantity": 1, "condition": "RESELLABLE"}]}),
            )
            .await?;
        counts.returned.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}
