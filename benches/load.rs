//! The embedded runtime under a load generator outside its process:
//! `cargo bench --bench load` (needs `wrk`, Debian package `wrk`).
//!
//! Starts the `oms` binary on an on-disk store, then drives `POST /orders`
//! (two lines, an operator's token) with `wrk` in rounds until
//! `OMS_LOAD_ORDERS` orders (default 200,000) were placed, and prints a
//! table: per round the orders placed so far, the POST rate and latency
//! percentiles, the server's resident memory; then the rate from the first
//! POST until every order is ROUTED.
//!
//! `OMS_LOAD_CONNECTIONS` (32) and `OMS_LOAD_ROUND_SECS` (10) tune it.

#[path = "wrk/mod.rs"]
mod wrk;

use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let target = env_or("OMS_LOAD_ORDERS", 200_000);
    let connections = env_or("OMS_LOAD_CONNECTIONS", 32);
    let round_secs = env_or("OMS_LOAD_ROUND_SECS", 10);
    wrk::require();
    let dir = std::env::temp_dir().join(format!("oms-load-{}", std::process::id()));
    let server = wrk::Server::start(&dir);
    let (url, token) = (server.url.clone(), server.token.clone());
    let pid = server.child.id();

    let http = reqwest::Client::new();
    let put = |path: String, body: Value| {
        http.put(format!("{url}{path}"))
            .bearer_auth(&token)
            .body(body.to_string())
            .send()
    };
    for (id, lat, lon) in [
        ("sp", -23.55, -46.63),
        ("rj", -22.9, -43.2),
        ("bh", -19.92, -43.94),
    ] {
        put(
            format!("/locations/{id}"),
            json!({"name": id, "kind": "warehouse", "lat": lat, "lon": lon}),
        )
        .await
        .expect("location");
        for sku in ["SKU-A", "SKU-B"] {
            put(
                format!("/inventory/{sku}/{id}"),
                json!({"onHand": 1_000_000_000}),
            )
            .await
            .expect("stock");
        }
    }
    let body = json!({
        "channel": "web", "customer": {"id": "load"}, "currency": "BRL",
        "shipTo": {"country": "BR", "city": "Rio", "line1": "Rua A", "lat": -22.9, "lon": -43.2},
        "lines": [{"sku": "SKU-A", "quantity": 1, "unitPrice": 1990}, {"sku": "SKU-B", "quantity": 1, "unitPrice": 990}],
    })
    .to_string();
    let script = dir.join("post.lua");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = [[{body}]]\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
        ),
    )
    .expect("script");

    println!("| orders placed | POST /orders/s | p50 / p99 ms | non-2xx | server RSS |");
    println!("|---|---|---|---|---|");
    let started = Instant::now();
    let mut placed = 0u64;
    let mut worst_p99: f64 = 0.0;
    let mut peak_rss: f64 = 0.0;
    while placed < target {
        let round = wrk::run(
            &script,
            &format!("{url}/orders"),
            2,
            connections,
            round_secs,
        );
        placed += round.requests - round.errors;
        let rss = rss_mib(pid);
        peak_rss = peak_rss.max(rss);
        worst_p99 = worst_p99.max(round.p99);
        println!(
            "| {placed} | {:.0} | {:.2} / {:.2} | {} | {rss:.1} MiB |",
            round.rate, round.p50, round.p99, round.errors
        );
    }
    let posted = started.elapsed();
    // Until the queues are empty: every order ROUTED. (A new client: the
    // first one's idle connection was closed while `wrk` blocked this thread.)
    let http = reqwest::Client::new();
    loop {
        let v: Value = http
            .get(format!("{url}/_local/bus"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("bus")
            .json()
            .await
            .expect("json");
        if v["stats"]["inFlight"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let routed = started.elapsed();
    let rss_idle = rss_mib(pid);
    println!();
    println!(
        "| embedded runtime, on-disk store, wrk -c{connections} outside the process | value |"
    );
    println!("|---|---|");
    println!("| orders (2 lines) | {placed} |");
    println!(
        "| POST /orders accepted | {:.0} orders/s over {:.1} s |",
        placed as f64 / posted.as_secs_f64(),
        posted.as_secs_f64()
    );
    println!(
        "| POST → every order ROUTED | {:.0} orders/s ({:.1} s) |",
        placed as f64 / routed.as_secs_f64(),
        routed.as_secs_f64()
    );
    println!("| worst round POST p99 | {worst_p99:.2} ms |");
    println!("| server RSS: peak / after | {peak_rss:.1} / {rss_idle:.1} MiB |");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
