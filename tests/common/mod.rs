//! Helpers for the black-box API tests: a runtime on a free port and a
//! small client.
#![allow(dead_code)]

use oms_domain::access::Role;
use oms_domain::partner::PartnerKind;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub struct Oms {
    pub running: oms_local_runtime::Running,
    pub http: reqwest::Client,
    /// On the emulator: the bus partner events go to.
    pub aws_bus: Option<String>,
    /// An operator's bearer token: what `send` uses unless told otherwise.
    pub token: String,
}

impl Oms {
    pub async fn start() -> Self {
        Self::start_with(oms_local_runtime::Options::in_memory()).await
    }

    /// The OMS on the emulator at `AWS_ENDPOINT_URL`, with resources of its
    /// own. `None` (test skipped) when no emulator is configured, unless
    /// `OMS_REQUIRE_EMULATOR` is set (as `scripts/test` does).
    pub async fn start_on_emulator(tag: &str) -> Option<(Self, oms_aws::AwsSettings)> {
        if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
            assert!(
                std::env::var_os("OMS_REQUIRE_EMULATOR").is_none(),
                "OMS_REQUIRE_EMULATOR is set but AWS_ENDPOINT_URL is not"
            );
            eprintln!("no AWS_ENDPOINT_URL: emulator test skipped (scripts/test runs it)");
            return None;
        }
        let names = oms_aws::AwsSettings::unique(tag);
        let oms = Self::start_with(oms_local_runtime::Options {
            port: 0,
            backend: oms_local_runtime::Backend::Aws {
                names: names.clone(),
                provision: true,
            },
            payment_window: None,
            secrets_dir: None,
            limits: Default::default(),
            clock: None,
        })
        .await;
        let oms = Self {
            aws_bus: Some(names.bus.clone()),
            ..oms
        };
        Some((oms, names))
    }

    pub async fn start_with(options: oms_local_runtime::Options) -> Self {
        // A data directory just let go of by a stopped runtime may stay
        // locked a moment (its last handle drops with its last task).
        let deadline = Instant::now() + Duration::from_secs(10);
        let running = loop {
            match oms_local_runtime::start(options.clone()).await {
                Ok(running) => break running,
                Err(e)
                    if format!("{e:#}").contains("already open") && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("runtime starts: {e:#}"),
            }
        };
        let token = running
            .issuer
            .mint(
                Role::Operator,
                "test-operator",
                None,
                Duration::from_secs(3600),
            )
            .expect("token");
        Self {
            running,
            http: reqwest::Client::new(),
            aws_bus: None,
            token,
        }
    }

    /// A token for a role (`channel` for a storefront; a customer's
    /// subject is its customer id).
    pub fn token_for(&self, role: Role, subject: &str, channel: Option<&str>) -> String {
        self.running
            .issuer
            .mint(role, subject, channel, Duration::from_secs(3600))
            .expect("token")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.running.url(), path)
    }

    /// A request with the operator's token.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        self.send_as(Some(&self.token), method, path, body, headers)
            .await
    }

    /// A request with this token, or none.
    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().expect("method"), self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
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

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send("POST", path, Some(&body.to_string()), &[]).await
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

    /// Puts a partner event on the bus as the partner whose default source
    /// it is (a payments partner for any other source), signed with its key
    /// through the EventBridge-compatible `PutEvents` endpoint; every entry
    /// must be accepted.
    pub async fn put_event(&self, source: &str, detail_type: &str, detail: Value) -> Value {
        let kind = PartnerKind::ALL
            .into_iter()
            .find(|k| k.default_source() == source)
            .unwrap_or(PartnerKind::Payments);
        let v = self.put_event_as(kind, source, detail_type, detail).await;
        assert_eq!(v["FailedEntryCount"], 0, "{v}");
        v
    }

    /// Puts a partner event signed with `kind`'s key, as the AWS SDK does;
    /// returns EventBridge's answer, failed entries included. On the
    /// emulator, puts it on the emulator's bus.
    pub async fn put_event_as(
        &self,
        kind: PartnerKind,
        source: &str,
        detail_type: &str,
        detail: Value,
    ) -> Value {
        let sender = match &self.aws_bus {
            Some(bus) => oms_local_runtime::partners::PartnerSender::on_bus(bus).await,
            None => oms_local_runtime::partners::PartnerSender::with_keys(
                &self.running.partner_keys,
                &self.running.url(),
            )
            .expect("partner keys"),
        };
        sender
            .put_as(kind, source, detail_type, &detail)
            .await
            .expect("PutEvents")
    }

    /// A raw `PutEvents` request with this body, signed (by the AWS SDK's
    /// own signer) with `kind`'s key, or unsigned.
    pub async fn raw_put_events(&self, body: &str, kind: Option<PartnerKind>) -> (u16, Value) {
        let url = self.url("/");
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut headers = vec![
            ("x-amz-target".to_owned(), "AWSEvents.PutEvents".to_owned()),
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            ("host".to_owned(), host),
        ];
        if let Some(kind) = kind {
            let key = self.running.partner_keys.of(kind).expect("partner key");
            let signed = sign(&url, &headers, body, &key.access_key_id, &key.secret);
            headers.extend(signed);
        }
        let mut req = self.http.post(&url).body(body.to_owned());
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.expect("PutEvents");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Polls the order until `done` holds for it.
    pub async fn until(&self, order_id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (s, v) = self.get(&format!("/orders/{order_id}")).await;
            assert_eq!(s, 200, "{v}");
            if done(&v) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "order {order_id} never reached {what}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Polls until the order has the status.
    pub async fn status(&self, order_id: &str, status: &str) -> Value {
        self.until(order_id, status, |v| v["status"] == status)
            .await
    }

    /// Places a routed order for `lines` (stock must exist) and returns its id.
    pub async fn routed_order(&self, lines: &[(&str, u32)]) -> String {
        let (s, placed) = self.post_order(&order(lines), None).await;
        assert_eq!(s, 201, "{placed}");
        let id = placed["orderId"].as_str().expect("id").to_owned();
        let routed = self.settled(&id).await;
        assert_eq!(routed["status"], "ROUTED", "{routed}");
        id
    }

    /// Pays an order in full, as the payment provider would.
    pub async fn pay(&self, order_id: &str) -> Value {
        let (_, o) = self.get(&format!("/orders/{order_id}")).await;
        self.put_event(
            "partner.payments",
            "PaymentConfirmed",
            json!({"orderId": order_id, "paymentId": format!("pay-{order_id}"), "amount": o["total"], "currency": o["currency"]}),
        )
        .await;
        self.until(order_id, "paid", |v| v["payment"]["status"] == "CAPTURED")
            .await
    }

    /// A warehouse or carrier shipment update.
    pub async fn ship(
        &self,
        order_id: &str,
        shipment: &str,
        location: &str,
        status: &str,
        lines: Option<Value>,
    ) {
        let mut detail = json!({
            "orderId": order_id, "shipmentId": shipment, "locationId": location, "status": status,
            "carrier": "Correios", "trackingNumber": format!("BR{shipment}"),
        });
        if let Some(l) = lines {
            detail["lines"] = l;
        }
        self.put_event("partner.wms", "ShipmentStatusChanged", detail)
            .await;
    }

    /// Returns `quantity` of `sku` of a delivered order: the RMA asked
    /// for, the warehouse receiving it resellable; the order once received.
    pub async fn return_received(&self, order_id: &str, sku: &str, quantity: u32) -> Value {
        let ask =
            json!({"lines": [{"sku": sku, "quantity": quantity}], "reason": "not as expected"})
                .to_string();
        let (status, rma) = self
            .send(
                "POST",
                &format!("/orders/{order_id}/returns"),
                Some(&ask),
                &[],
            )
            .await;
        assert_eq!(status, 201, "{rma}");
        let received = json!({"orderId": order_id, "returnId": rma["return"]["rmaId"], "lines": [
            {"sku": sku, "quantity": quantity, "condition": "RESELLABLE"}]});
        self.put_event("partner.wms", "ReturnReceived", received)
            .await;
        let rma_id = rma["return"]["rmaId"].clone();
        self.until(order_id, "return received", |v| {
            v["returns"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["rmaId"] == rma_id && r["status"] == "RECEIVED")
        })
        .await
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

/// The SigV4 headers for a POST of `body` to `url`, from the AWS SDK's signer.
pub fn sign(
    url: &str,
    headers: &[(String, String)],
    body: &str,
    access_key_id: &str,
    secret: &str,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(access_key_id, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("events")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(request, &params).expect("signed").into_parts();
    instructions
        .into_parts()
        .0
        .into_iter()
        .map(|h| (h.name().to_owned(), h.value().to_owned()))
        .collect()
}

/// The `oms` binary started as a user starts it (`args` after the port,
/// which is 0): the child, killed when dropped, and the URL it printed on
/// its first line.
pub struct Process {
    pub child: std::process::Child,
    pub url: String,
}

impl Process {
    pub fn start(args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(["--port", "0"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("oms starts");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address on 127.0.0.1 in {first:?}"))
            .to_owned();
        Self { child, url }
    }

    /// SIGKILL, as a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The README's shop: a warehouse in Rio, shirts and mugs, a 3-for-2 on
/// mugs, a coupon TAKE10, free shipping over 200.00, two weight bands, and
/// tax at 10 % (5 % for apparel). Returns the tax table as set.
pub async fn priced_shop(oms: &Oms) -> serde_json::Value {
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("SHIRT", "wh-rio", 10).await;
    oms.stock("MUG", "wh-rio", 10).await;
    for (sku, body) in [
        (
            "SHIRT",
            json!({"name": "Shirt", "prices": {"BRL": 1990}, "weightGrams": 300, "taxCategory": "apparel"}),
        ),
        (
            "MUG",
            json!({"name": "Mug", "prices": {"BRL": 2500}, "weightGrams": 400}),
        ),
    ] {
        assert_eq!(oms.put(&format!("/products/{sku}"), body).await.0, 201);
    }
    for (id, body) in [
        (
            "MUGS-3-FOR-2",
            json!({"type": "BUY_X_GET_Y", "skus": ["MUG"], "buy": 2, "get": 1}),
        ),
        (
            "TAKE10",
            json!({"type": "AMOUNT_OFF_ORDER", "value": 1000, "currency": "BRL", "couponCode": "TAKE10", "minSubtotal": 5000}),
        ),
        (
            "FREE-OVER-200",
            json!({"type": "FREE_SHIPPING", "minSubtotal": 20000}),
        ),
    ] {
        let (status, p) = oms.put(&format!("/promotions/{id}"), body).await;
        assert_eq!(status, 201, "{p}");
    }
    let (status, rates) = oms
        .put(
            "/shipping-rates",
            json!({"rates": [
                {"method": "STANDARD", "country": "BR", "maxWeightGrams": 1000, "prices": {"BRL": 1500}},
                {"method": "STANDARD", "country": "BR", "prices": {"BRL": 2500}},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{rates}");
    let (status, tax) = oms
        .put(
            "/tax-rules",
            json!({"rules": [
                {"country": "BR", "rateBasisPoints": 1000},
                {"country": "BR", "category": "apparel", "rateBasisPoints": 500},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{tax}");

    tax
}

/// 2 shirts and 3 mugs priced by the catalog, coupon `take10`.
pub fn priced_order() -> serde_json::Value {
    let mut body = order(&[("SHIRT", 2), ("MUG", 3)]);
    for l in body["lines"].as_array_mut().unwrap() {
        l.as_object_mut().unwrap().remove("unitPrice");
    }
    body["couponCodes"] = json!(["take10"]);
    body
}
