//! Search, KPIs and reports with a big store: `cargo bench --bench
//! operations` (needs `wrk`, Debian package `wrk`).
//!
//! Starts the `oms` binary on an on-disk store, places `OMS_OPS_ORDERS`
//! orders (default 100,000: 5,000 customers, 500 skus, three channels, two
//! lines each) with `wrk`, waits until every one is routed, then asks each
//! operator query with `wrk` from outside the process — one connection, so
//! the latencies are a single operator's — and prints p50 and p99 per
//! query. `OMS_OPS_SECS` (5) is how long each query is asked.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn millis(s: &str) -> f64 {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().unwrap_or(f64::NAN)
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
    } else {
        f64::NAN
    }
}

/// (requests, p50 ms, p99 ms, non-2xx) from `wrk --latency`.
fn parse_wrk(out: &str) -> (u64, f64, f64, u64) {
    let line = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_owned()
    };
    let requests = out
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let p50 = millis(line("50%").split_whitespace().nth(1).unwrap_or(""));
    let p99 = millis(line("99%").split_whitespace().nth(1).unwrap_or(""));
    let errors = line("Non-2xx or 3xx responses:")
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (requests, p50, p99, errors)
}

fn wrk(script: &std::path::Path, url: &str, connections: u64, secs: u64) -> String {
    let out = Command::new("wrk")
        .args([
            "-t1",
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{secs}s"),
            "--latency",
            "-s",
            script.to_str().expect("path"),
            url,
        ])
        .output()
        .expect("wrk runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let target = env_or("OMS_OPS_ORDERS", 100_000);
    let secs = env_or("OMS_OPS_SECS", 5);
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed (apt-get install wrk)");
        std::process::exit(1);
    }
    let dir = std::env::temp_dir().join(format!("oms-ops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_str().expect("path").to_owned();
    let token = String::from_utf8(
        Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(["token", "--role", "operator", "--data-dir", &data])
            .output()
            .expect("token")
            .stdout,
    )
    .expect("utf-8")
    .trim()
    .to_owned();
    let mut server = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args(["--port", "0", "--data-dir", &data])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("oms starts");
    let mut first = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("a line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("address")
        .to_owned();

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
        let (requests, _, _, errors) = parse_wrk(&wrk(&place, &format!("{url}/orders"), 32, 10));
        placed += requests - errors;
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
        "| {placed} orders in the embedded store, wrk -c1 outside the process | requests | p50 ms | p99 ms | non-2xx |"
    );
    println!("|---|---|---|---|---|");
    let get = dir.join("get.lua");
    std::fs::write(
        &get,
        format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"),
    )
    .expect("script");
    for (name, path) in queries {
        let (requests, p50, p99, errors) = parse_wrk(&wrk(&get, &format!("{url}{path}"), 1, secs));
        println!("| {name} `{path}` | {requests} | {p50:.2} | {p99:.2} | {errors} |");
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
