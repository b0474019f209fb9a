//! The `oms` binary as a user runs it: `--port 0 --in-memory` serves the API.

mod common;

use std::process::Command;

#[tokio::test]
async fn the_binary_serves_on_the_port_it_prints() {
    let server = common::Process::start(&["--in-memory"]);
    let url = server.url.clone();
    let health = reqwest::get(format!("{url}/health")).await;
    drop(server);
    let body: serde_json::Value = health.expect("health answers").json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

/// `oms token` and `oms partner-key` print what a user pastes: a token the
/// server started on the same data directory accepts, and partner
/// credentials as environment lines.
#[tokio::test]
async fn tokens_and_partner_keys_come_from_the_data_directory() {
    let dir = std::env::temp_dir().join(format!("oms-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let oms = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(args)
            .args(["--data-dir", dir.to_str().expect("utf-8 path")])
            .output()
            .expect("oms runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let token = oms(&["token", "--role", "operator"]);
    assert_eq!(
        token.trim().split('.').count(),
        3,
        "a JWT and nothing else: {token}"
    );
    let storefront = oms(&["token", "--role", "storefront", "--channel", "web"]);
    assert_ne!(token, storefront);
    let keys = oms(&["partner-key", "--kind", "payments"]);
    let lines: Vec<&str> = keys.lines().collect();
    assert!(
        lines.len() == 2 && lines[0].starts_with("AWS_ACCESS_KEY_ID=AKID"),
        "{keys}"
    );
    assert!(lines[1].starts_with("AWS_SECRET_ACCESS_KEY="), "{keys}");
    assert_eq!(
        oms(&["partner-key", "--kind", "payments"]),
        keys,
        "the same key every time"
    );
    let customer = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args([
            "token",
            "--role",
            "customer",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .output()
        .expect("oms runs");
    assert!(
        !customer.status.success(),
        "a customer token needs --customer-id"
    );

    let server = common::Process::start(&["--in-memory", "--data-dir", dir.to_str().unwrap()]);
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let with = http
        .get(format!("{url}/locations"))
        .bearer_auth(token.trim())
        .send()
        .await
        .map(|r| r.status().as_u16());
    let without = http
        .get(format!("{url}/locations"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(with.expect("answer"), 200);
    assert_eq!(without.expect("answer"), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_plays_whole_lifecycles_against_the_running_oms() {
    let dir = std::env::temp_dir().join(format!("oms-cli-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = common::Process::start(&["--in-memory", "--data-dir", dir.to_str().unwrap()]);
    let url = server.url.clone();
    let demo = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args([
            "demo",
            "--rate",
            "10",
            "--duration",
            "2s",
            "--url",
            &url,
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .expect("demo runs");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let out = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.status.success(), "{out}");
    let summary = out.lines().last().unwrap_or_default();
    let count = |name: &str| -> u64 {
        summary
            .split(" · ")
            .find_map(|part| part.strip_prefix(&format!("{name} ")))
            .and_then(|n| n.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {summary:?}"))
    };
    assert_eq!(count("placed") + count("rejected"), 20, "{summary}");
    assert_eq!(count("errors"), 0, "{summary}");
    assert!(count("delivered") > 0, "{summary}");
    assert_eq!(
        count("delivered") + count("cancelled"),
        count("placed"),
        "{summary}"
    );
}

/// The operator's commands against a running OMS: a stock import with a
/// summary of refused rows, then orders listed, shown, exported, and KPIs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_import_stock_list_show_export_and_measure() {
    let dir = std::env::temp_dir().join(format!("oms-ops-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data_dir = dir.to_str().unwrap().to_owned();
    let server = common::Process::start(&["--in-memory", "--data-dir", &data_dir]);
    let url = server.url.clone();
    let oms = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(args)
            .args(["--data-dir", &data_dir, "--url", &url])
            .output()
            .expect("oms runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let http = reqwest::Client::new();
    let token = {
        let out = Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(["token", "--role", "operator", "--data-dir", &data_dir])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let put = |path: String, body: serde_json::Value| {
        let req = http
            .put(format!("{url}{path}"))
            .bearer_auth(&token)
            .json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        put(
            "/locations/wh-rio".into(),
            serde_json::json!({"name": "Rio", "kind": "warehouse", "lat": -22.9, "lon": -43.2})
        )
        .await,
        201
    );

    // 2,000 rows of stock, three of them wrong.
    let mut csv = String::from("sku,locationId,onHand\n");
    for i in 0..1997 {
        csv.push_str(&format!("SKU-{i},wh-rio,{}\n", i % 50 + 1));
    }
    csv.push_str("SKU-X,wh-nowhere,5\nSKU-Y,wh-rio,many\nSKU-Z,wh-rio\n");
    let file = dir.join("stock.csv");
    std::fs::write(&file, csv).unwrap();
    let (ok, out, err) = oms(&["stock", "import", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("1997 row(s) accepted, 3 refused"), "{out}");
    assert!(out.contains("line 1999: 404"), "{out}");
    assert!(
        out.contains("line 2000: onHand \"many\" is not a whole number"),
        "{out}"
    );
    assert!(
        out.contains("line 2001: expected sku,locationId,onHand"),
        "{out}"
    );
    let stock: serde_json::Value = http
        .get(format!("{url}/inventory/SKU-7"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stock["onHand"], 8, "{stock}");

    // Two orders, then the commands that find them.
    let mut ids = Vec::new();
    for sku in ["SKU-1", "SKU-2"] {
        let body = serde_json::json!({
            "channel": "web", "customer": {"id": "c-9"}, "currency": "BRL",
            "shipTo": {"country": "BR", "city": "Rio", "line1": "Rua A, 1", "lat": -22.9, "lon": -43.2},
            "lines": [{"sku": sku, "quantity": 1, "unitPrice": 1000}],
        });
        let placed: serde_json::Value = http
            .post(format!("{url}/orders"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(placed["orderId"].as_str().unwrap().to_owned());
    }
    let mut listed = String::new();
    for _ in 0..50 {
        listed = oms(&["orders", "list", "--customer-id", "c-9"]).1;
        if listed.contains("2 order(s)") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(listed.contains("2 order(s)"), "{listed}");
    assert!(
        listed.find(&ids[1]) < listed.find(&ids[0]),
        "newest first: {listed}"
    );
    let (ok, one, _) = oms(&["orders", "list", "--limit", "1", "--all"]);
    assert!(ok && one.contains("2 order(s)"), "every page: {one}");
    let (ok, shown, _) = oms(&["orders", "show", &ids[0]]);
    assert!(ok, "{shown}");
    assert!(
        shown.contains("timeline:") && shown.contains("→ ROUTED"),
        "{shown}"
    );
    let (ok, csv, _) = oms(&["orders", "export"]);
    assert!(ok);
    assert_eq!(csv.lines().count(), 3, "a header and two lines: {csv}");
    let (ok, kpis, _) = oms(&["kpis"]);
    assert!(ok, "{kpis}");
    assert!(kpis.contains("orders            2"), "{kpis}");
    assert!(kpis.contains("fill rate         100.0%"), "{kpis}");
    let (ok, _, err) = oms(&["orders", "show", "ord_missing"]);
    assert!(!ok && err.contains("404"), "{err}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `oms backtest --generate DIR` writes an order set; `oms backtest` replays
/// it under both strategies and prints a row each.
#[test]
fn backtest_generates_an_order_set_and_replays_it_under_both_strategies() {
    let dir = std::env::temp_dir().join(format!("oms-backtest-{}", std::process::id()));
    let oms = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(args)
            .output()
            .expect("oms runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let d = dir.to_str().unwrap();
    oms(&[
        "backtest",
        "--generate",
        d,
        "--count",
        "300",
        "--location-count",
        "6",
        "--sku-count",
        "20",
    ]);
    let path = |f: &str| format!("{d}/{f}");
    let table = oms(&[
        "backtest",
        &path("orders.jsonl"),
        "--stock",
        &path("stock.csv"),
        "--locations",
        &path("locations.json"),
    ]);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .filter(|l| l.starts_with("NEAREST") || l.starts_with("COST"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{table}");
    for row in &rows {
        assert_eq!(row[1], "300", "every order replayed: {table}");
        let routed: u64 = row[2].parse().unwrap();
        assert!(routed > 0 && routed <= 300, "{table}");
    }
    // A file that is not an order list is refused, naming the line.
    let bad = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args([
            "backtest",
            &path("stock.csv"),
            "--stock",
            &path("stock.csv"),
            "--locations",
            &path("locations.json"),
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("stock.csv:1"));
    let _ = std::fs::remove_dir_all(&dir);
}
