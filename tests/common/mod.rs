//! Helpers for the black-box API tests: a runtime on a free port and a
//! small client.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub struct Oms {
    pub running: oms_local::Running,
    pub http: reqwest::Client,
}

impl Oms {
    pub async fn start() -> Self {
        Self::start_with(oms_local::Options::in_memory()).await
    }

    /// The OMS on the emulator at `AWS_ENDPOINT_URL`, with resources of its
    /// own. `None` (test skipped) when no emulator is configured, unless
    /// `OMS_REQUIRE_EMULATOR` is set (as `scripts/test` does).
    pub async fn start_on_emulator(tag: &str) -> Option<(Self, oms::adapters::AwsSettings)> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
            assert!(
                std::env::var_os("OMS_REQUIRE_EMULATOR").is_none(),
                "OMS_REQUIRE_EMULATOR is set but AWS_ENDPOINT_URL is not"
            );
            eprintln!("no AWS_ENDPOINT_URL: emulator test skipped (scripts/test runs it)");
            return None;
        }
        let names = oms::adapters::AwsSettings::unique(tag);
        let oms = Self::start_with(oms_local::Options {
            port: 0,
            backend: oms_local::Backend::Aws {
                names: names.clone(),
                provision: true,
            },
            payment_window: None,
        })
        .await;
        Some((oms, names))
    }

    pub async fn start_with(options: oms_local::Options) -> Self {
        let running = oms_local::start(options).await.expect("runtime starts");
        Self {
            running,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().expect("method"), self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, &[]).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("PUT", path, Some(&body.to_string()), &[]).await
    }

    pub async fn post_order(&self, body: &Value, key: Option<&str>) -> (u16, Value) {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.send("POST", "/orders", Some(&body.to_string()), &headers)
            .await
    }

    pub async fn location(&self, id: &str, lat: f64, lon: f64) {
        let (s, _) = self
            .put(
                &format!("/locations/{id}"),
                json!({"name": id, "kind": "warehouse", "lat": lat, "lon": lon}),
            )
            .await;
        assert!(s == 200 || s == 201, "location {id}: {s}");
    }

    pub async fn stock(&self, sku: &str, loc: &str, on_hand: u64) {
        let (s, v) = self
            .put(
                &format!("/inventory/{sku}/{loc}"),
                json!({"onHand": on_hand}),
            )
            .await;
        assert_eq!(s, 200, "stock {sku}@{loc}: {v}");
    }

    /// Polls the order until it leaves the in-between statuses.
    pub async fn settled(&self, order_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (s, v) = self.get(&format!("/orders/{order_id}")).await;
            assert_eq!(s, 200, "{v}");
            let status = v["status"].as_str().unwrap_or_default().to_owned();
            if !matches!(status.as_str(), "PLACED" | "RESERVED") {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "order {order_id} stuck in {status}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the bus has nothing in flight.
    pub async fn quiet(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let Some(bus) = &self.running.bus else { return };
        while bus.stats().in_flight > 0 {
            assert!(Instant::now() < deadline, "bus never went quiet");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub const RIO: (f64, f64) = (-22.9, -43.2);
pub const SAO_PAULO: (f64, f64) = (-23.55, -46.63);
pub const RECIFE: (f64, f64) = (-8.05, -34.9);

pub fn order(lines: &[(&str, u32)]) -> Value {
    json!({
        "channel": "web",
        "customer": {"id": "c-1", "email": "ana@example.com"},
        "currency": "BRL",
        "shipTo": {"country": "BR", "postalCode": "20000-000", "city": "Rio de Janeiro", "line1": "Rua A, 1", "lat": RIO.0, "lon": RIO.1},
        "lines": lines.iter().map(|(sku, q)| json!({"sku": sku, "quantity": q, "unitPrice": 1990})).collect::<Vec<_>>(),
    })
}
