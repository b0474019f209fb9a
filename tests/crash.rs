//! `kill -9` of the local runtime in the middle of the load, then a restart
//! on the same data directory: every order that got a 201 reaches the
//! status it would have reached without the crash, every partner event
//! `PutEvents` acknowledged is applied, and nothing happens twice (no
//! double reservation).

mod common;

use serde_json::{Value, json};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn oms(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args(args)
        .args(["--data-dir", dir.to_str().expect("path")])
        .output()
        .expect("oms runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8")
}

fn start(dir: &std::path::Path) -> common::Process {
    common::Process::start(&["--data-dir", dir.to_str().expect("path")])
}

fn order_body(i: usize) -> String {
    json!({
        "channel": "web", "customer": {"id": format!("c-{i}")}, "currency": "BRL",
        "shipTo": {"country": "BR", "city": "Rio", "line1": "Rua A", "lat": -22.9, "lon": -43.2},
        "lines": [{"sku": "A", "quantity": 1, "unitPrice": 1990}],
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_loses_nothing_acknowledged_and_strands_nothing() {
    let dir = std::env::temp_dir().join(format!("oms-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let token = oms(&dir, &["token", "--role", "operator"])
        .trim()
        .to_owned();
    let keys = oms(&dir, &["partner-key", "--kind", "payments"]);
    let key = |name: &str| {
        keys.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .expect("key line")
            .to_owned()
    };
    let (akid, secret) = (key("AWS_ACCESS_KEY_ID"), key("AWS_SECRET_ACCESS_KEY"));
    let mut server = start(&dir);
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let put = |path: &str, body: Value| {
        http.put(format!("{url}{path}"))
            .bearer_auth(&token)
            .body(body.to_string())
            .send()
    };
    assert!(
        put(
            "/locations/wh",
            json!({"name": "wh", "kind": "warehouse", "lat": -23.5, "lon": -46.6})
        )
        .await
        .unwrap()
        .status()
        .is_success()
    );
    assert!(
        put("/inventory/A/wh", json!({"onHand": 100000}))
            .await
            .unwrap()
            .status()
            .is_success()
    );

    // Orders from 8 clients, and payments for every other acknowledged one,
    // until the process is killed.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let paid: Arc<Mutex<Vec<String>>> = Arc::default();
    // Payments sent whose answer the kill may have cut off: applied or not.
    let pay_sent: Arc<Mutex<Vec<String>>> = Arc::default();
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..8 {
        let (http, url, token, acked, paid, pay_sent, attempts) = (
            http.clone(),
            url.clone(),
            token.clone(),
            acked.clone(),
            paid.clone(),
            pay_sent.clone(),
            attempts.clone(),
        );
        let (akid, secret) = (akid.clone(), secret.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let n = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Ok(resp) = http
                    .post(format!("{url}/orders"))
                    .bearer_auth(&token)
                    .body(order_body(n))
                    .send()
                    .await
                else {
                    return;
                };
                if resp.status().as_u16() != 201 {
                    continue;
                }
                let Ok(v) = resp.json::<Value>().await else { return };
                let id = v["orderId"].as_str().unwrap().to_owned();
                acked.lock().unwrap().push(id.clone());
                if (c + i) % 2 == 0 {
                    let detail = json!({"orderId": id, "paymentId": format!("p-{id}"), "amount": 1990, "currency": "BRL"});
                    let body = json!({"Entries": [{"Source": "partner.payments", "DetailType": "PaymentConfirmed", "Detail": detail.to_string()}]}).to_string();
                    let host = url.trim_start_matches("http://").to_owned();
                    let mut headers = vec![
                        ("x-amz-target".to_owned(), "AWSEvents.PutEvents".to_owned()),
                        ("content-type".to_owned(), "application/x-amz-json-1.1".to_owned()),
                        ("host".to_owned(), host),
                    ];
                    headers.extend(common::sign(&format!("{url}/"), &headers, &body, &akid, &secret));
                    pay_sent.lock().unwrap().push(id.clone());
                    let mut req = http.post(format!("{url}/")).body(body);
                    for (k, v) in &headers {
                        req = req.header(k, v);
                    }
                    let Ok(resp) = req.send().await else { return };
                    let Ok(v) = resp.json::<Value>().await else { return };
                    if v["FailedEntryCount"] == 0 {
                        paid.lock().unwrap().push(id);
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    server.kill();
    for c in clients {
        let _ = c.await;
    }
    let acked = acked.lock().unwrap().clone();
    let paid = paid.lock().unwrap().clone();
    let pay_sent = pay_sent.lock().unwrap().clone();
    let attempts = attempts.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        acked.len() > 20,
        "some load before the kill: {}",
        acked.len()
    );

    let mut server = start(&dir);
    let url = server.url.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut pending: Vec<String> = acked.clone();
    let mut last_seen: Vec<Value> = Vec::new();
    while !pending.is_empty() {
        assert!(
            Instant::now() < deadline,
            "stuck after the restart: {last_seen:#?}"
        );
        let mut still = Vec::new();
        last_seen.clear();
        for id in pending {
            let v: Value = http
                .get(format!("{url}/orders/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let status = v["status"].as_str().unwrap_or_default().to_owned();
            let settled = if paid.contains(&id) {
                status == "READY_TO_SHIP"
            } else if pay_sent.contains(&id) {
                matches!(status.as_str(), "ROUTED" | "READY_TO_SHIP")
            } else {
                status == "ROUTED"
            };
            if !settled {
                last_seen.push(json!({
                    "orderId": id, "status": status, "paid": paid.contains(&id),
                    "payments": v["payments"], "history": v["history"],
                }));
                still.push(id);
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every unit reserved belongs to an order, none twice; orders the
    // crash kept from answering are placed too, and routed.
    let (stock, reserved, at_wh) = loop {
        let stock: Value = http
            .get(format!("{url}/inventory/A"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let reserved = stock["reserved"].as_u64().unwrap() as usize;
        let at_wh = stock["locations"][0]["reserved"].as_u64().unwrap() as usize;
        if at_wh == reserved || Instant::now() > deadline {
            break (stock, reserved, at_wh);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        reserved >= acked.len() && reserved <= attempts,
        "reserved {reserved}, acknowledged {}, attempted {attempts}",
        acked.len()
    );
    assert_eq!(at_wh, reserved, "every reservation allocated: {stock}");
    server.kill();
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "crash: {} orders acknowledged ({} paid) before kill -9, all settled after the restart; {reserved} units reserved",
        acked.len(),
        paid.len()
    );
}
