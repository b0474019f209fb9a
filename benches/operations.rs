//! Search, KPIs and reports with a big store: `cargo bench --bench
//! operations` (needs `wrk`, Debian package `wrk`).
//!
//! Starts the `oms` binary on an on-disk store, places `OMS_OPS_ORDERS`
//! orders (default 100,000: 5,000 customers, 500 skus, three channels, two
//! lines each) with `wrk`, waits until every one is routed, then asks each
//! operator query with `wrk` from outside the process — one connection, so
//! the latencies are a single operator's — and prints p50 and p99 per
//! query. `OMS_OPS_SECS` (5) is how long each query is asked.

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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let target = env_or("OMS_OPS_ORDERS", 100_000);
    let secs = env_or("OMS_OPS_SECS", 5);
    wrk::require();
    let dir = std::env::temp_dir().join(format!("oms-ops-{}", std::process::id()));
    let server = wrk::Server::start(&dir);
    let (url, token) = (server.url.clone(), server.token.clone());

    let http = reqwest::Client::new();
    let put = |path: String, body: Value| {
        http.put(format!("{url}{path}"))
            .bearer_auth(&token)
            .body(body.to_string())
            .send()
    };
    put(
        "/locations/rj".into(),
        json!({"name": "rj", "kind": "warehouse", "lat": -22.9, "lon": -43.2}),
    )
    .await
    .expect("location");
    for i in 0..500 {
        put(
            format!("/inventory/S-{i}/rj"),
            json!({"onHand": 1_000_000_000}),
        )
        .await
        .expect("stock");
    }

    // Orders of 5,000 customers over 500 skus and three channels.
    let place = dir.join("place.lua");
    std::fs::write(
        &place,
        format!(
            r#"local channels = {{"web", "app", "marketplace"}}
request = function()
  local s1 = math.random(0, 499)
  local s2 = (s1 + math.random(1, 499)) % 500
  local body = string.format('{{"channel":"%s","customer":{{"id":"c-%d"}},"currency":"BRL","shipTo":{{"country":"BR","city":"Rio","line1":"Rua A","lat":-22.9,"lon":-43.2}},"lines":[{{"sku":"S-%d","quantity":1,"unitPrice":1990}},{{"sku":"S-%d","quantity":2,"unitPrice":990}}]}}', channels[math.random(1, 3)], math.random(1, 5000), s1, s2)
  return wrk.format("POST", "/orders", {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {token}"}}, body)
end
"#
        ),
    )
    .expect("script");
    let started = Instant::now();
    let mut placed = 0;
    while placed < target {
        let round = wrk::run(&place, &format!("{url}/orders"), 1, 32, 10);
        placed += round.requests - round.errors;
    }
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
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "{placed} orders placed and routed in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let queries = [
        ("newest 50 orders", "/orders?limit=50"),
        ("a customer's orders", "/orders?customerId=c-123"),
        ("a channel's newest 50", "/orders?channel=app&limit=50"),
        ("orders with a sku, 50", "/orders?sku=S-7&limit=50"),
        (
            "a status none has (1,000 examined)",
            "/orders?status=CANCELLED",
        ),
        ("KPIs, last 24 h", "/kpis"),
        ("top 10 products", "/reports/top?by=product"),
        ("top 10 customers", "/reports/top?by=customer"),
        ("top channels", "/reports/top?by=channel"),
        ("orders per hour", "/reports/top?by=hour"),
    ];
    println!();
    println!(
        "| {placed} orders in the embedded store, wrk -c1 outside the process | requests/s | p50 ms | p99 ms | non-2xx |"
    );
    println!("|---|---|---|---|---|");
    let get = dir.join("get.lua");
    std::fs::write(
        &get,
        format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"),
    )
    .expect("script");
    for (name, path) in queries {
        let r = wrk::run(&get, &format!("{url}{path}"), 1, 1, secs);
        println!(
            "| {name} `{path}` | {:.0} | {:.2} | {:.2} | {} |",
            r.rate, r.p50, r.p99, r.errors
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
