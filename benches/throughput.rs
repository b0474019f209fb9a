//! Embedded-runtime benchmark: `cargo bench --bench throughput`.
//!
//! Starts the OMS in this process on an on-disk store (the default
//! durability: every commit fsynced, in groups), drives it over HTTP on
//! 127.0.0.1 and prints a table:
//! - sustained: orders/s from the first `POST /orders` until every order is
//!   `ROUTED`, POST latency percentiles, peak RSS of the whole process
//!   (load generator included);
//! - flash sale: 100 buyers at once for 20 units — units sold, 5xx count,
//!   and the slowest time for a buyer to see the final answer.
//!
//! `OMS_BENCH_ORDERS` (default 20000) and `OMS_BENCH_CONCURRENCY` (32) tune
//! the sustained run.

use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn order_body(sku: &str, lat: f64, lon: f64) -> String {
    json!({
        "channel": "web",
        "customer": {"id": "bench"},
        "currency": "BRL",
        "shipTo": {"country": "BR", "city": "X", "line1": "Y", "lat": lat, "lon": lon},
        "lines": [{"sku": sku, "quantity": 1, "unitPrice": 1990}, {"sku": "SKU-B", "quantity": 1, "unitPrice": 990}],
    })
    .to_string()
}

struct Client {
    http: reqwest::Client,
    base: String,
    /// An operator's bearer token (a storefront's would do for orders).
    token: String,
}

impl Client {
    async fn put(&self, path: &str, body: Value) {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .body(body.to_string())
            .send()
            .await
            .expect("put");
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    async fn post_order(&self, body: String) -> (u16, String, Duration) {
        let t = Instant::now();
        let r = self
            .http
            .post(format!("{}/orders", self.base))
            .bearer_auth(&self.token)
            .body(body)
            .send()
            .await
            .expect("post");
        let status = r.status().as_u16();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        (
            status,
            v["orderId"].as_str().unwrap_or_default().to_owned(),
            t.elapsed(),
        )
    }
    async fn status(&self, id: &str) -> String {
        let v: Value = self
            .http
            .get(format!("{}/orders/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        v["status"].as_str().unwrap_or_default().to_owned()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn wait_quiet(running: &oms_local_runtime::Running) {
    let bus = running.bus.as_ref().expect("embedded bus");
    while bus.stats().in_flight > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orders = env_or("OMS_BENCH_ORDERS", 20_000);
    let concurrency = env_or("OMS_BENCH_CONCURRENCY", 32);
    let dir = std::env::temp_dir().join(format!("oms-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let running = oms_local_runtime::start(oms_local_runtime::Options {
        port: 0,
        backend: oms_local_runtime::Backend::Embedded {
            data_dir: dir.clone(),
            in_memory: false,
        },
        payment_window: None,
        secrets_dir: None,
        limits: Default::default(),
        clock: None,
    })
    .await
    .expect("runtime");
    let token = running
        .issuer
        .mint(
            oms_domain::access::Role::Operator,
            "bench",
            None,
            Duration::from_secs(3600),
        )
        .expect("token");
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: running.url(),
        token,
    });

    // Five locations across Brazil; ten skus everywhere; one flash-sale sku.
    let locations = [
        ("sp", -23.55, -46.63),
        ("rj", -22.9, -43.2),
        ("bh", -19.92, -43.94),
        ("poa", -30.03, -51.23),
        ("rec", -8.05, -34.9),
    ];
    for (id, lat, lon) in locations {
        client
            .put(
                &format!("/locations/{id}"),
                json!({"name": id, "kind": "warehouse", "lat": lat, "lon": lon}),
            )
            .await;
        for s in 0..10 {
            client
                .put(
                    &format!("/inventory/SKU-{s}/{id}"),
                    json!({"onHand": 1_000_000}),
                )
                .await;
        }
        client
            .put(
                &format!("/inventory/SKU-B/{id}"),
                json!({"onHand": 1_000_000}),
            )
            .await;
    }
    client
        .put("/inventory/FLASH/sp", json!({"onHand": 20}))
        .await;

    // ---- sustained ----
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, next) = (client.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= orders {
                        return out;
                    }
                    let (lat, lon) = (-30.0 + (i % 23) as f64, -50.0 + (i % 17) as f64);
                    out.push(
                        client
                            .post_order(order_body(&format!("SKU-{}", i % 10), lat, lon))
                            .await,
                    );
                }
            })
        })
        .collect();
    let mut results = Vec::with_capacity(orders);
    for w in workers {
        results.extend(w.await.expect("worker"));
    }
    let posted = started.elapsed();
    wait_quiet(&running).await;
    let settled = started.elapsed();
    let failures = results.iter().filter(|(s, _, _)| *s != 201).count();
    let mut routed = 0;
    for (_, id, _) in results.iter().step_by((orders / 500).max(1)) {
        if client.status(id).await == "ROUTED" {
            routed += 1;
        }
    }
    let sampled = results.iter().step_by((orders / 500).max(1)).count();
    let mut latencies: Vec<Duration> = results.iter().map(|r| r.2).collect();
    latencies.sort();

    // ---- flash sale ----
    let flash_start = Instant::now();
    let buyers: Vec<_> = (0..100)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let body = json!({
                    "channel": "web", "customer": {"id": "buyer"}, "currency": "BRL",
                    "shipTo": {"country": "BR", "city": "X", "line1": "Y", "lat": -23.5, "lon": -46.6},
                    "lines": [{"sku": "FLASH", "quantity": 1, "unitPrice": 100}],
                })
                .to_string();
                let (status, id, _) = client.post_order(body).await;
                if status >= 500 || id.is_empty() {
                    return (status, String::new(), flash_start.elapsed());
                }
                loop {
                    let s = client.status(&id).await;
                    if s == "ROUTED" || s == "REJECTED" {
                        return (status, s, flash_start.elapsed());
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        })
        .collect();
    let mut flash = Vec::new();
    for b in buyers {
        flash.push(b.await.expect("buyer"));
    }
    let sold = flash.iter().filter(|(_, s, _)| s == "ROUTED").count();
    let refused = flash.iter().filter(|(_, s, _)| s == "REJECTED").count();
    let server_errors = flash.iter().filter(|(s, _, _)| *s >= 500).count();
    let slowest = flash.iter().map(|f| f.2).max().unwrap_or_default();

    println!();
    println!("| embedded runtime, 2 workers, on-disk store (fsync per group) | value |");
    println!("|---|---|");
    println!("| orders (2 lines each), concurrency | {orders}, {concurrency} |");
    println!(
        "| POST /orders → all ROUTED | {:.0} orders/s ({:.2} s) |",
        orders as f64 / settled.as_secs_f64(),
        settled.as_secs_f64()
    );
    println!(
        "| POST /orders accepted | {:.0} orders/s ({failures} not 201) |",
        orders as f64 / posted.as_secs_f64()
    );
    println!(
        "| POST latency p50 / p99 / max | {:.2} / {:.2} / {:.2} ms |",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO))
    );
    println!("| sampled orders ROUTED | {routed} / {sampled} |");
    println!(
        "| peak RSS (server + load generator) | {:.1} MiB |",
        peak_rss_mib()
    );
    println!(
        "| flash sale: 100 buyers, 20 units | {sold} sold, {refused} refused, {server_errors} 5xx |"
    );
    println!(
        "| flash sale: slowest final answer | {:.0} ms |",
        ms(slowest)
    );
    running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
