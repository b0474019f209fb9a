//! The fault harness: the OMS in `--aws` mode (a child process, so that it
//! can be killed) talks to the emulators through a proxy that injects
//! faults — throttling, 5xx, slow answers, and responses dropped after the
//! request took effect — while randomized operations run against it:
//! orders (with Idempotency-Keys, retried as a storefront retries, some
//! replayed), cancellations, stock raises, and partner facts (payments,
//! shipments, deliveries) sent in any order, some twice. The process is
//! killed with SIGKILL and restarted a few times. At the end, with the
//! faults off and the pipeline drained, it checks what must hold:
//!
//! - every acknowledged order exists and is not stuck (`PLACED`/`RESERVED`);
//! - per sku and location, 0 ≤ reserved ≤ onHand, and reserved is exactly
//!   what the orders holding stock hold there, less what they shipped (no
//!   unit promised twice, none leaked);
//! - per payment, refunded ≤ captured; no payment or shipment recorded
//!   twice;
//! - the dead-letter queues are empty (a message there would be an order
//!   that stopped moving).
//!
//! Used by `tests/faults.rs` (a few hundred operations, in the test
//! command) and `benches/faults.rs` (100,000).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Settings {
    pub ops: usize,
    /// SIGKILLs (each followed by a restart), spread over the run.
    pub kills: usize,
    /// Faults per thousand requests to AWS.
    pub faults_per_mille: u64,
    pub concurrency: usize,
    pub seed: u64,
}

/// A small deterministic generator (SplitMix64): the same seed, the same run.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[derive(Default)]
struct Injected {
    throttled: AtomicU64,
    failed: AtomicU64,
    slow: AtomicU64,
    dropped: AtomicU64,
    requests: AtomicU64,
}

struct Proxy {
    upstream: String,
    dynamodb: Option<String>,
    http: reqwest::Client,
    rng: Mutex<Rng>,
    per_mille: u64,
    on: AtomicBool,
    injected: Injected,
}

enum Fault {
    Throttle,
    Fail,
    Slow,
    Drop,
}

fn aws_error(status: StatusCode, kind: &str) -> (StatusCode, HeaderMap, Bytes) {
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/x-amz-json-1.0".parse().expect("header"),
    );
    headers.insert("x-amzn-errortype", kind.parse().expect("header"));
    let body = json!({"__type": kind, "message": "injected by the fault harness"});
    (status, headers, Bytes::from(body.to_string()))
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, Bytes) {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("other")
        .to_owned();
    p.injected.requests.fetch_add(1, Ordering::Relaxed);
    let fault = if p.on.load(Ordering::Relaxed) {
        let mut rng = p.rng.lock().expect("rng");
        if rng.below(1000) < p.per_mille {
            Some(match rng.below(4) {
                0 => Fault::Throttle,
                1 => Fault::Fail,
                2 => Fault::Slow,
                _ => Fault::Drop,
            })
        } else {
            None
        }
    } else {
        None
    };
    match fault {
        Some(Fault::Throttle) => {
            p.injected.throttled.fetch_add(1, Ordering::Relaxed);
            return aws_error(StatusCode::BAD_REQUEST, "ThrottlingException");
        }
        Some(Fault::Fail) => {
            p.injected.failed.fetch_add(1, Ordering::Relaxed);
            return aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure");
        }
        Some(Fault::Slow) => {
            p.injected.slow.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(1500)).await;
        }
        Some(Fault::Drop) | None => {}
    }
    let upstream = match &p.dynamodb {
        Some(d) if target.starts_with("DynamoDB") => d,
        _ => &p.upstream,
    };
    let url = format!(
        "{}{}",
        upstream,
        uri.path_and_query().map(|x| x.as_str()).unwrap_or("/")
    );
    let mut req = p.http.request(method, url).body(body);
    for (k, v) in &headers {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                HeaderMap::new(),
                Bytes::from(e.to_string()),
            );
        }
    };
    if matches!(fault, Some(Fault::Drop)) {
        // The request took effect; its caller never hears of it.
        p.injected.dropped.fetch_add(1, Ordering::Relaxed);
        return aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure");
    }
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HeaderMap::new();
    for (k, v) in resp.headers() {
        if k != "content-length" && k != "transfer-encoding" && k != "connection" {
            out.insert(k.clone(), v.clone());
        }
    }
    (status, out, resp.bytes().await.unwrap_or_default())
}

/// The OMS as a child process in `--aws` mode, through the proxy.
struct Process {
    bin: String,
    dir: std::path::PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    url: String,
}

impl Process {
    fn start(&mut self, provision: bool) {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["--aws", "--port", "0", "--data-dir"])
            .arg(&self.dir)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if provision {
            cmd.arg("--provision");
        }
        let mut child = cmd.spawn().expect("oms starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        self.url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Default, Debug)]
pub struct Counts {
    pub orders: u64,
    pub replays: u64,
    pub cancels: u64,
    pub payments: u64,
    pub shipments: u64,
    pub deliveries: u64,
    pub repeats: u64,
    pub stock_changes: u64,
    pub client_retries: u64,
}

pub struct Report {
    pub ops: usize,
    pub kills: usize,
    pub counts: Counts,
    pub requests: u64,
    pub throttled: u64,
    pub failed: u64,
    pub slow: u64,
    pub dropped: u64,
    pub statuses: BTreeMap<String, u64>,
    pub dead_letters: u64,
    pub problems: Vec<String>,
    pub seconds: f64,
    /// Of which the operations (the rest: draining and checking).
    pub ops_seconds: f64,
}

impl Report {
    pub fn line(&self) -> String {
        let c = &self.counts;
        format!(
            "faults: {} ops in {:.0} s ({:.0} s of operations; {} orders, {} replays, {} cancels, {} payments, {} shipments, {} deliveries, {} repeated facts, {} stock changes; {} client retries), {} kills; injected into {} AWS requests: {} throttled, {} 5xx, {} slow, {} dropped after taking effect; orders by status {:?}; {} dead letters; {} problems",
            self.ops,
            self.seconds,
            self.ops_seconds,
            c.orders,
            c.replays,
            c.cancels,
            c.payments,
            c.shipments,
            c.deliveries,
            c.repeats,
            c.stock_changes,
            c.client_retries,
            self.kills,
            self.requests,
            self.throttled,
            self.failed,
            self.slow,
            self.dropped,
            self.statuses,
            self.dead_letters,
            self.problems.len()
        )
    }
}

const SKUS: &[&str] = &["F-1", "F-2", "F-3", "F-4"];
const LOCATIONS: &[(&str, f64, f64)] = &[("f-sp", -23.55, -46.63), ("f-rio", -22.9, -43.2)];

/// An acknowledged order, as the client knows it.
#[derive(Clone)]
struct Placed {
    id: String,
    total: i64,
}

struct Client {
    http: reqwest::Client,
    token: String,
    url: Arc<Mutex<String>>,
    retries: AtomicU64,
}

impl Client {
    /// Sends until the OMS answers something other than a 5xx or a broken
    /// connection (as a storefront retries; the process may be restarting).
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> (u16, Value) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let url = format!("{}{path}", self.url.lock().expect("url"));
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(&self.token)
                .timeout(Duration::from_secs(30));
            if let Some(b) = body {
                req = req.json(b);
            }
            if let Some(k) = key {
                req = req.header("Idempotency-Key", k);
            }
            if let Ok(resp) = req.send().await {
                let status = resp.status().as_u16();
                let v: Value = resp.json().await.unwrap_or(Value::Null);
                if status < 500 {
                    return (status, v);
                }
            }
            assert!(Instant::now() < deadline, "{method} {path} kept failing");
            self.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Runs the harness; `None` when no emulator is configured.
pub async fn run(settings: Settings, bin: &str) -> Option<Report> {
    let Ok(upstream) = std::env::var("AWS_ENDPOINT_URL") else {
        assert!(
            std::env::var_os("OMS_REQUIRE_EMULATOR").is_none(),
            "OMS_REQUIRE_EMULATOR is set but AWS_ENDPOINT_URL is not"
        );
        eprintln!("no AWS_ENDPOINT_URL: the fault harness needs the emulators (scripts/emulators)");
        return None;
    };
    let started = Instant::now();
    let dynamodb = std::env::var("OMS_DYNAMODB_LOCAL_URL").ok();
    let proxy = Arc::new(Proxy {
        upstream: upstream.clone(),
        dynamodb: dynamodb.clone(),
        http: reqwest::Client::new(),
        rng: Mutex::new(Rng(settings.seed ^ 0xFA17)),
        per_mille: settings.faults_per_mille,
        on: AtomicBool::new(false),
        injected: Injected::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy_url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let names = oms_aws::AwsSettings::unique("faults");
    let dir = std::env::temp_dir().join(format!(
        "oms-faults-{}-{}",
        std::process::id(),
        settings.seed
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(bin)
        .args(["token", "--role", "operator", "--data-dir"])
        .arg(&dir)
        .output()
        .expect("oms token");
    assert!(out.status.success(), "oms token failed");
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let mut process = Process {
        bin: bin.to_owned(),
        dir: dir.clone(),
        env: vec![
            ("AWS_ENDPOINT_URL".into(), proxy_url.clone()),
            ("AWS_ENDPOINT_URL_DYNAMODB".into(), proxy_url.clone()),
            (
                "AWS_ENDPOINT_URL_DYNAMODB_STREAMS".into(),
                proxy_url.clone(),
            ),
            ("OMS_TABLE".into(), names.table.clone()),
            ("OMS_BUS".into(), names.bus.clone()),
            ("OMS_QUEUE_PREFIX".into(), names.queue_prefix.clone()),
            // Unpaid orders time out within the run (cancellations and
            // refunds of late payments in the mix), and the payment queue
            // holds a minute of timers, not half an hour: moto looks at
            // every delayed message on each receive.
            ("OMS_PAYMENT_WINDOW_SECS".into(), "60".into()),
        ],
        child: None,
        url: String::new(),
    };
    process.start(true);
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        token,
        url: Arc::new(Mutex::new(process.url.clone())),
        retries: AtomicU64::new(0),
    });

    // The partners and the final checks talk to the emulators directly.
    let direct = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&upstream)
        .http_client(oms_aws::env::http_client())
        .load()
        .await;
    let events = aws_sdk_eventbridge::Client::new(&direct);
    let sqs = aws_sdk_sqs::Client::new(&direct);
    let items: Arc<dyn oms_app::store::Items> = Arc::new(oms_aws::dynamo::DynamoItems::new(
        aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&direct)
                .endpoint_url(dynamodb.as_deref().unwrap_or(&upstream))
                .build(),
        ),
        names.table.clone(),
    ));

    for (id, lat, lon) in LOCATIONS {
        let (s, v) = client
            .send(
                reqwest::Method::PUT,
                &format!("/locations/{id}"),
                Some(&json!({"name": id, "kind": "warehouse", "lat": lat, "lon": lon})),
                None,
            )
            .await;
        assert!(s < 300, "{v}");
    }
    // Enough for most orders, not for all: some are rejected, and the
    // flash of the last units races.
    let per_location = (settings.ops as u64 / 6).max(20);
    let mut on_hand: HashMap<(String, String), u64> = HashMap::new();
    for sku in SKUS {
        for (loc, _, _) in LOCATIONS {
            let (s, v) = client
                .send(
                    reqwest::Method::PUT,
                    &format!("/inventory/{sku}/{loc}"),
                    Some(&json!({"onHand": per_location})),
                    None,
                )
                .await;
            assert!(s < 300, "{v}");
            on_hand.insert(((*sku).to_owned(), (*loc).to_owned()), per_location);
        }
    }
    proxy.on.store(true, Ordering::Relaxed);

    let placed: Arc<Mutex<Vec<Placed>>> = Arc::default();
    let facts: Arc<Mutex<Vec<(String, String, Value)>>> = Arc::default();
    let counts = Arc::new(Mutex::new(Counts::default()));
    let on_hand = Arc::new(Mutex::new(on_hand));
    let mut rng = Rng(settings.seed);
    let chunk = settings.ops.div_ceil(settings.kills + 1);
    let mut done = 0;
    let mut kills = 0;
    while done < settings.ops {
        let n = chunk.min(settings.ops - done);
        let seeds: Vec<u64> = (0..n).map(|_| rng.next()).collect();
        let ops = futures::stream::iter(seeds.into_iter().enumerate().map(|(i, seed)| {
            let (client, placed, facts, counts, events, on_hand) = (
                client.clone(),
                placed.clone(),
                facts.clone(),
                counts.clone(),
                events.clone(),
                on_hand.clone(),
            );
            let bus = names.bus.clone();
            let n = done + i;
            async move {
                one_op(
                    n,
                    Rng(seed),
                    &client,
                    &placed,
                    &facts,
                    &counts,
                    &events,
                    &bus,
                    &on_hand,
                )
                .await;
            }
        }));
        let kill_now = done + n < settings.ops;
        let wait = Duration::from_millis(500 + rng.below(1500));
        let killer = async move {
            // Somewhere in the middle of this chunk.
            tokio::time::sleep(wait).await;
            kill_now
        };
        let run = futures::StreamExt::for_each_concurrent(ops, settings.concurrency, |f| f);
        tokio::pin!(run);
        tokio::pin!(killer);
        let mut killed = false;
        loop {
            tokio::select! {
                () = &mut run => break,
                kill = &mut killer, if !killed => {
                    killed = true;
                    if kill {
                        process.kill();
                        kills += 1;
                        process.start(false);
                        *client.url.lock().expect("url") = process.url.clone();
                    }
                }
            }
        }
        done += n;
    }

    // Faults off; let the pipeline drain.
    proxy.on.store(false, Ordering::Relaxed);
    let ops_seconds = started.elapsed().as_secs_f64();
    let placed = placed.lock().expect("placed").clone();
    let orders = oms_app::repo::OrderRepo::new(items.clone());
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut last = String::new();
    let mut stable_since = Instant::now();
    let snapshot = loop {
        let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
        let mut fingerprint = String::new();
        for p in &placed {
            let id = oms_domain::ids::OrderId::parse(&p.id).expect("id");
            let o = orders.get(&id).await.ok().flatten();
            let s = o.as_ref().map(|o| o.status.as_str()).unwrap_or("MISSING");
            *statuses.entry(s.to_owned()).or_default() += 1;
            fingerprint.push_str(&format!("{}:{}", o.as_ref().map_or(0, |o| o.version), s));
        }
        if fingerprint != last {
            last = fingerprint;
            stable_since = Instant::now();
        }
        let stuck = statuses.get("PLACED").copied().unwrap_or(0)
            + statuses.get("RESERVED").copied().unwrap_or(0);
        if (stuck == 0 && stable_since.elapsed() > Duration::from_secs(5))
            || Instant::now() > deadline
        {
            break statuses;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    process.stop();
    server.abort();

    // The checks.
    let mut problems = Vec::new();
    let mut held: HashMap<(String, String), i64> = HashMap::new();
    let mut all = Vec::new();
    for p in &placed {
        let id = oms_domain::ids::OrderId::parse(&p.id).expect("id");
        match orders.get(&id).await {
            Ok(Some(o)) => all.push(o),
            Ok(None) => problems.push(format!("acknowledged order {} is missing", p.id)),
            Err(e) => problems.push(format!("order {} unreadable: {e}", p.id)),
        }
    }
    for o in &all {
        let status = o.status.as_str();
        if matches!(status, "PLACED" | "RESERVED") {
            problems.push(format!("order {} stuck in {status}", o.order_id));
        }
        let mut payment_ids = std::collections::HashSet::new();
        for pay in &o.payments {
            if !payment_ids.insert(pay.payment_id.to_string()) {
                problems.push(format!(
                    "order {}: payment {} recorded twice",
                    o.order_id, pay.payment_id
                ));
            }
            if pay.refunded.amount > pay.captured.amount {
                problems.push(format!(
                    "order {}: refunded {} > captured {}",
                    o.order_id, pay.refunded.amount, pay.captured.amount
                ));
            }
        }
        let mut shipment_ids = std::collections::HashSet::new();
        for s in &o.shipments {
            if !shipment_ids.insert(s.shipment_id.to_string()) {
                problems.push(format!(
                    "order {}: shipment {} recorded twice",
                    o.order_id, s.shipment_id
                ));
            }
        }
        if o.holds_stock {
            for a in &o.allocations {
                *held
                    .entry((a.sku.to_string(), a.location_id.to_string()))
                    .or_default() += i64::from(a.quantity.get());
            }
            for s in o.shipments.iter().filter(|s| s.has_shipped()) {
                for l in &s.lines {
                    *held
                        .entry((l.sku.to_string(), s.location_id.to_string()))
                        .or_default() -= i64::from(l.quantity.get());
                }
            }
        }
    }
    let inventory = oms_app::repo::InventoryRepo::new(items.clone());
    for sku in SKUS {
        let view = inventory
            .levels(&oms_domain::ids::Sku::parse(sku).expect("sku"))
            .await
            .expect("levels");
        for l in &view.locations {
            let key = (sku.to_string(), l.location_id.to_string());
            let want = held.get(&key).copied().unwrap_or(0);
            if l.reserved > l.on_hand {
                problems.push(format!(
                    "{sku} at {}: reserved {} > onHand {}",
                    l.location_id, l.reserved, l.on_hand
                ));
            }
            if l.reserved as i64 != want {
                problems.push(format!(
                    "{sku} at {}: reserved {} but orders hold {want}",
                    l.location_id, l.reserved
                ));
            }
        }
    }
    let mut dead_letters = 0;
    for s in oms_app::wiring::SUBSCRIPTIONS {
        let name = format!("{}-dlq", names.queue(s.queue));
        let Ok(url) = sqs.get_queue_url().queue_name(&name).send().await else {
            continue;
        };
        let Some(url) = url.queue_url else { continue };
        loop {
            let got = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            let msgs = got.messages.unwrap_or_default();
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                dead_letters += 1;
                problems.push(format!(
                    "dead letter in {name}: {}",
                    m.body
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect::<String>()
                ));
            }
        }
    }
    let counts = std::mem::take(&mut *counts.lock().expect("counts"));
    let counts = Counts {
        client_retries: client.retries.load(Ordering::Relaxed),
        ..counts
    };
    let _ = std::fs::remove_dir_all(&dir);
    Some(Report {
        ops: settings.ops,
        kills,
        counts,
        requests: proxy.injected.requests.load(Ordering::Relaxed),
        throttled: proxy.injected.throttled.load(Ordering::Relaxed),
        failed: proxy.injected.failed.load(Ordering::Relaxed),
        slow: proxy.injected.slow.load(Ordering::Relaxed),
        dropped: proxy.injected.dropped.load(Ordering::Relaxed),
        statuses: snapshot,
        dead_letters,
        problems,
        seconds: started.elapsed().as_secs_f64(),
        ops_seconds,
    })
}

#[allow(clippy::too_many_arguments)]
async fn one_op(
    n: usize,
    mut rng: Rng,
    client: &Client,
    placed: &Mutex<Vec<Placed>>,
    facts: &Mutex<Vec<(String, String, Value)>>,
    counts: &Mutex<Counts>,
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
    on_hand: &Mutex<HashMap<(String, String), u64>>,
) {
    let pick = |rng: &mut Rng| {
        let list = placed.lock().expect("placed");
        if list.is_empty() {
            None
        } else {
            Some(list[rng.below(list.len() as u64) as usize].clone())
        }
    };
    let roll = rng.below(100);
    let fact = |source: &str, detail_type: &str, detail: Value| {
        (source.to_owned(), detail_type.to_owned(), detail)
    };
    let to_send = match roll {
        0..=44 => {
            let mut lines = Vec::new();
            let first = rng.below(SKUS.len() as u64) as usize;
            lines.push(json!({"sku": SKUS[first], "quantity": 1 + rng.below(2), "unitPrice": 1990}));
            if rng.below(2) == 0 {
                let second = (first + 1 + rng.below(SKUS.len() as u64 - 1) as usize) % SKUS.len();
                lines.push(json!({"sku": SKUS[second], "quantity": 1, "unitPrice": 990}));
            }
            let body = json!({
                "channel": "web", "customer": {"id": format!("c-{}", n % 97)}, "currency": "BRL",
                "shipTo": {"country": "BR", "city": "Rio", "line1": "Rua A", "lat": -22.9, "lon": -43.2},
                "lines": lines,
            });
            let key = format!("fk-{n}");
            let (s, v) = client.send(reqwest::Method::POST, "/orders", Some(&body), Some(&key)).await;
            assert!(s == 201 || s == 200, "POST /orders: {s} {v}");
            let p = Placed {
                id: v["orderId"].as_str().expect("orderId").to_owned(),
                total: v["total"].as_i64().expect("total"),
            };
            counts.lock().expect("counts").orders += 1;
            if rng.below(10) == 0 {
                let (s2, v2) = client.send(reqwest::Method::POST, "/orders", Some(&body), Some(&key)).await;
                assert_eq!((s2, v2["orderId"].as_str()), (200, Some(p.id.as_str())), "a replay: {v2}");
                counts.lock().expect("counts").replays += 1;
            }
            placed.lock().expect("placed").push(p);
            None
        }
        45..=64 => pick(&mut rng).map(|p| {
            counts.lock().expect("counts").payments += 1;
            // Now and then a wrong amount (the order goes on hold) before
            // the right one.
            let amount = if rng.below(20) == 0 { p.total - 1 } else { p.total };
            fact(
                "partner.payments",
                "PaymentConfirmed",
                json!({"orderId": p.id, "paymentId": format!("pay-{}-{}", p.id, amount == p.total), "amount": amount, "currency": "BRL"}),
            )
        }),
        65..=76 => pick(&mut rng).map(|p| {
            counts.lock().expect("counts").shipments += 1;
            let (loc, _, _) = LOCATIONS[rng.below(LOCATIONS.len() as u64) as usize];
            fact(
                "partner.wms",
                "ShipmentStatusChanged",
                json!({"orderId": p.id, "shipmentId": format!("S-{}-{loc}", p.id), "locationId": loc, "status": "SHIPPED", "carrier": "Correios", "trackingNumber": "BR1"}),
            )
        }),
        77..=83 => pick(&mut rng).map(|p| {
            counts.lock().expect("counts").deliveries += 1;
            let (loc, _, _) = LOCATIONS[rng.below(LOCATIONS.len() as u64) as usize];
            fact(
                "partner.carrier",
                "ShipmentStatusChanged",
                json!({"orderId": p.id, "shipmentId": format!("S-{}-{loc}", p.id), "locationId": loc, "status": "DELIVERED"}),
            )
        }),
        84..=89 => {
            if let Some(p) = pick(&mut rng) {
                let (s, v) = client
                    .send(reqwest::Method::POST, &format!("/orders/{}/cancel", p.id), Some(&json!({"reason": "changed my mind"})), None)
                    .await;
                assert!(s == 200 || s == 202 || s == 409, "cancel: {s} {v}");
                counts.lock().expect("counts").cancels += 1;
            }
            None
        }
        90..=94 => {
            let sku = SKUS[rng.below(SKUS.len() as u64) as usize];
            let (loc, _, _) = LOCATIONS[rng.below(LOCATIONS.len() as u64) as usize];
            let to = {
                let mut m = on_hand.lock().expect("on hand");
                let e = m.entry((sku.to_owned(), loc.to_owned())).or_default();
                *e += 1 + rng.below(5);
                *e
            };
            let (s, v) = client
                .send(reqwest::Method::PUT, &format!("/inventory/{sku}/{loc}"), Some(&json!({"onHand": to})), None)
                .await;
            // 409 when shipments took it below what orders hold.
            assert!(s == 200 || s == 409, "stock: {s} {v}");
            counts.lock().expect("counts").stock_changes += 1;
            None
        }
        _ => {
            let list = facts.lock().expect("facts");
            if list.is_empty() {
                None
            } else {
                counts.lock().expect("counts").repeats += 1;
                Some(list[rng.below(list.len() as u64) as usize].clone())
            }
        }
    };
    if let Some((source, detail_type, detail)) = to_send {
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(bus)
            .source(&source)
            .detail_type(&detail_type)
            .detail(detail.to_string())
            .build();
        let out = events
            .put_events()
            .entries(entry)
            .send()
            .await
            .expect("PutEvents");
        assert_eq!(out.failed_entry_count, 0, "PutEvents");
        facts
            .lock()
            .expect("facts")
            .push((source, detail_type, detail));
    }
}
