//! What one order costs on AWS: `cargo bench --bench aws_cost` with an
//! emulator at `AWS_ENDPOINT_URL` (scripts/moto_server.py, or LocalStack).
//!
//! Runs the OMS in `--aws` mode with the emulator behind a counting proxy on
//! 127.0.0.1, takes orders through the happy lifecycle (place → reserve →
//! route → pay → ship → deliver, two lines) `OMS_COST_CONCURRENCY` (8) at a
//! time, so that batches form as they do under load, and prints, per order,
//! the requests the code really made — EventBridge entries, SQS requests,
//! DynamoDB write and read units (from the items' sizes), Lambda
//! invocations (API, SQS batches, stream batches), API calls — priced at
//! us-east-1 list prices, then the levers that brought it there. Lambda
//! duration and logs are not included.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PAYMENT_WINDOW: Duration = Duration::from_secs(30);
/// The template's default `RelayBatchingWindowSeconds`, in milliseconds.
const RELAY_WINDOW_MS: u64 = 1000;

#[derive(Default)]
struct Tally {
    calls: BTreeMap<String, u64>,
    sqs_messages_received: u64,
    /// Stream reads that returned records: each is one relay invocation.
    stream_batches: u64,
    /// The largest order item written, in bytes, and its document.
    largest_order: usize,
    largest_doc: String,
    /// Requests and units by what they touched ("GetItem ORDER", "events
    /// OrderReleased", ...): where the cost comes from.
    detail: BTreeMap<String, (u64, f64)>,
}

/// A stored string attribute as the store reads it back (inflated).
fn stored_string(v: &Value) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    let av = if let Some(s) = v["S"].as_str() {
        AttributeValue::S(s.to_owned())
    } else {
        let b64 = v["B"].as_str().unwrap_or_default();
        let bytes = aws_smithy_types::base64::decode(b64).unwrap_or_default();
        AttributeValue::B(bytes.into())
    };
    match oms_aws::dynamo::from_stored("doc", av) {
        Ok(oms_app::store::Value::S(s)) => s,
        _ => String::new(),
    }
}

/// What an item key is: its `pk` up to the first `#`.
fn kind_of(key: &Value) -> String {
    let pk = key["pk"]["S"].as_str().unwrap_or("?");
    pk.split('#').next().unwrap_or(pk).to_owned()
}

struct Proxy {
    upstream: String,
    /// Where DynamoDB (and its streams) requests go, when not `upstream`.
    dynamodb: Option<String>,
    http: reqwest::Client,
    tally: Mutex<Tally>,
}

/// DynamoDB item size: attribute names plus values, in bytes.
fn item_size(item: &Value) -> usize {
    item.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    k.len()
                        + v.get("S")
                            .and_then(Value::as_str)
                            .map(str::len)
                            .unwrap_or(0)
                        + v.get("N")
                            .and_then(Value::as_str)
                            .map(|n| n.len().div_ceil(2) + 1)
                            .unwrap_or(0)
                        + v.get("B")
                            .and_then(Value::as_str)
                            .map(|b| b.len() * 3 / 4)
                            .unwrap_or(0)
                })
                .sum()
        })
        .unwrap_or(0)
}

fn units(bytes: usize, per: usize) -> f64 {
    bytes.div_ceil(per).max(1) as f64
}

/// An update's item is not in the request: counters are small (one unit).
fn write_units_of(op: &Value) -> f64 {
    if let Some(item) = op.get("Item") {
        units(item_size(item), 1024)
    } else {
        1.0
    }
}

/// The puts of a request, each with its item: (the put, its item).
fn written_puts<'a>(target: &str, body: &'a Value) -> Vec<(&'a Value, &'a Value)> {
    match target {
        "DynamoDB_20120810.PutItem" => vec![(body, &body["Item"])],
        "DynamoDB_20120810.TransactWriteItems" => body["TransactItems"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("Put").map(|p| (p, &p["Item"])))
            .collect(),
        _ => Vec::new(),
    }
}

impl Proxy {
    fn count(&self, target: &str, body: &Value, response: &Value) {
        let mut t = self.tally.lock().expect("tally");
        *t.calls.entry(target.to_owned()).or_default() += 1;
        fn largest_order(items: Vec<&Value>) -> Option<(usize, &Value)> {
            items
                .into_iter()
                .filter(|i| i["sk"]["S"] == "ORDER")
                .map(|i| (item_size(i), i))
                .max_by_key(|(size, _)| *size)
        }
        let written: Vec<&Value> = match target {
            "DynamoDB_20120810.PutItem" => vec![&body["Item"]],
            "DynamoDB_20120810.TransactWriteItems" => body["TransactItems"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i.get("Put").map(|p| &p["Item"]))
                .collect(),
            _ => Vec::new(),
        };
        if let Some((size, item)) = largest_order(written)
            && size > t.largest_order
        {
            t.largest_order = size;
            t.largest_doc = stored_string(&item["doc"]);
        }
        let op = target.rsplit('.').next().unwrap_or(target).to_owned();
        let mut note = |what: String, units: f64| {
            let e = t.detail.entry(what).or_default();
            e.0 += 1;
            e.1 += units;
        };
        // A new item with an index's keys writes the index too: keys only,
        // under 1 KB, one unit per index (its keys never change after, so
        // later writes of the item write no index).
        for (op, item) in written_puts(target, body) {
            let creates = op["ConditionExpression"]
                .as_str()
                .is_some_and(|c| c.contains("attribute_not_exists"));
            for ix in oms_app::store::INDEXES {
                if creates && item.get(ix.pk).is_some() && item.get(ix.sk).is_some() {
                    note(format!("index {} (new {})", ix.name, kind_of(item)), 1.0);
                }
            }
        }
        match target {
            "AWSEvents.PutEvents" => {
                for e in body["Entries"].as_array().into_iter().flatten() {
                    note(
                        format!("event {}", e["DetailType"].as_str().unwrap_or("?")),
                        1.0,
                    );
                }
            }
            "DynamoDB_20120810.PutItem"
            | "DynamoDB_20120810.UpdateItem"
            | "DynamoDB_20120810.DeleteItem" => {
                let key = body.get("Item").unwrap_or(&body["Key"]);
                // The local relay's stream checkpoints: on AWS the event
                // source mapping keeps them, free.
                if kind_of(key) != "RELAY" {
                    note(format!("{op} {}", kind_of(key)), write_units_of(body));
                }
            }
            "DynamoDB_20120810.TransactWriteItems" => {
                for item in body["TransactItems"].as_array().into_iter().flatten() {
                    let (kind, op) = ["Put", "Update", "Delete", "ConditionCheck"]
                        .iter()
                        .find_map(|k| item.get(*k).map(|o| (*k, o)))
                        .unwrap_or(("?", &Value::Null));
                    let key = op.get("Item").unwrap_or(&op["Key"]);
                    note(
                        format!("TransactWriteItems {kind} {}", kind_of(key)),
                        2.0 * write_units_of(op),
                    );
                }
            }
            // A strongly consistent read: one unit per 4 KB; an eventually
            // consistent one: half of that.
            "DynamoDB_20120810.GetItem" => {
                let strong = body["ConsistentRead"].as_bool() == Some(true);
                let units = units(response.get("Item").map(item_size).unwrap_or(0), 4096);
                let (read, units) = if strong {
                    ("GetItem", units)
                } else {
                    ("GetItem (eventual)", units / 2.0)
                };
                note(format!("{read} {}", kind_of(&body["Key"])), units);
            }
            "DynamoDB_20120810.Query" => {
                let bytes: usize = response["Items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(item_size)
                    .sum();
                let pk = body["ExpressionAttributeValues"][":pk"].clone();
                note(
                    format!("Query {}", kind_of(&json!({ "pk": pk }))),
                    units(bytes, 4096),
                );
            }
            "AmazonSQS.ReceiveMessage" => {
                t.sqs_messages_received +=
                    response["Messages"].as_array().map(Vec::len).unwrap_or(0) as u64
            }
            "DynamoDBStreams_20120810.GetRecords" => {
                let records = response["Records"].as_array().map_or(0, Vec::len);
                t.stream_batches += u64::from(records > 0);
            }
            _ => {}
        }
    }
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
    let upstream = match &p.dynamodb {
        Some(d) if target.starts_with("DynamoDB") => d,
        _ => &p.upstream,
    };
    let url = format!(
        "{}{}",
        upstream,
        uri.path_and_query().map(|x| x.as_str()).unwrap_or("/")
    );
    let mut req = p.http.request(method, url).body(body.clone());
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
    let status = resp.status();
    let mut out_headers = HeaderMap::new();
    for (k, v) in resp.headers() {
        if k != "content-length" && k != "transfer-encoding" && k != "connection" {
            out_headers.insert(k.clone(), v.clone());
        }
    }
    let bytes = resp.bytes().await.unwrap_or_default();
    let request_json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let response_json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    // Empty long polls are the poller idling, not work an order caused (on
    // AWS, Lambda's pollers do them, at a fixed cost per queue).
    let idle_poll = (target == "AmazonSQS.ReceiveMessage"
        && response_json["Messages"]
            .as_array()
            .is_none_or(Vec::is_empty))
        || (target == "DynamoDBStreams_20120810.GetRecords"
            && response_json["Records"]
                .as_array()
                .is_none_or(Vec::is_empty));
    if status.is_success() && !idle_poll {
        p.count(&target, &request_json, &response_json);
    }
    (
        StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
        out_headers,
        bytes,
    )
}

/// Polls the order straight from the emulator (not through the proxy), so
/// the bench's own reads are not counted.
async fn wait_for(orders: &oms_app::repo::OrderRepo, id: &oms_domain::ids::OrderId, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = orders
            .get(id)
            .await
            .ok()
            .flatten()
            .map(|o| o.status.as_str());
        if status == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "never {want}: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Ok(upstream) = std::env::var("AWS_ENDPOINT_URL") else {
        eprintln!("set AWS_ENDPOINT_URL to an emulator (see the README); nothing measured");
        return;
    };
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let orders = env("OMS_COST_ORDERS", 40);
    let concurrency = env("OMS_COST_CONCURRENCY", 8).max(1);
    // The bench's own client (partners' events, its polling) goes to the
    // emulator directly, named explicitly: the environment is about to
    // point at the proxy.
    let direct = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&upstream)
        .http_client(oms_aws::env::http_client())
        .load()
        .await;
    // DynamoDB Local, when scripts/emulators started it: faster than moto's
    // DynamoDB, so that the run can be concurrent enough for batches to form.
    let dynamodb = std::env::var("OMS_DYNAMODB_LOCAL_URL").ok();
    let direct_dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&direct)
            .endpoint_url(dynamodb.as_deref().unwrap_or(&upstream))
            .build(),
    );
    let proxy = Arc::new(Proxy {
        upstream: upstream.clone(),
        dynamodb: dynamodb.clone(),
        http: reqwest::Client::new(),
        tally: Mutex::new(Tally::default()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let proxy_url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.expect("proxy") });
    // The OMS's SDK clients go through the proxy.
    // SAFETY: set once during setup; no other code of this process reads the
    // environment concurrently (the runtime reads it below, after this).
    unsafe {
        for var in [
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_DYNAMODB",
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS",
        ] {
            std::env::set_var(var, &proxy_url);
        }
        // The relay's batching window as the template deploys it
        // (RelayBatchingWindowSeconds), unless set.
        if std::env::var_os("OMS_RELAY_WINDOW_MS").is_none() {
            std::env::set_var("OMS_RELAY_WINDOW_MS", RELAY_WINDOW_MS.to_string());
        }
    }

    let names = oms_aws::AwsSettings::unique("cost");
    let running = oms_local_runtime::start(oms_local_runtime::Options {
        port: 0,
        backend: oms_local_runtime::Backend::Aws {
            names: names.clone(),
            provision: true,
        },
        // Short, so that each order's payment-window timer comes back
        // within the run and its requests are counted (with the default
        // 30 minutes it comes back once, after 15, for a paid order too).
        payment_window: Some(PAYMENT_WINDOW),
        secrets_dir: None,
        limits: Default::default(),
        clock: None,
    })
    .await
    .expect("runtime");
    let base = running.url();
    let token = running
        .issuer
        .mint(
            oms_domain::access::Role::Operator,
            "cost-bench",
            None,
            Duration::from_secs(3600),
        )
        .expect("token");
    let http = reqwest::Client::new();
    let put = |path: String, body: Value| {
        let http = http.clone();
        let url = format!("{base}{path}");
        let token = token.clone();
        async move {
            http.put(url)
                .bearer_auth(token)
                .body(body.to_string())
                .send()
                .await
                .expect("put")
        }
    };
    put(
        "/locations/wh-sp".into(),
        json!({"name": "SP", "kind": "warehouse", "lat": -23.55, "lon": -46.63}),
    )
    .await;
    for sku in ["SKU-1", "SKU-2"] {
        put(
            format!("/inventory/{sku}/wh-sp"),
            json!({"onHand": 1_000_000}),
        )
        .await;
    }
    // Partners and the bench's own reads talk to the emulator directly.
    let events = aws_sdk_eventbridge::Client::new(&direct);
    let orders_direct = oms_app::repo::OrderRepo::new(Arc::new(oms_aws::dynamo::DynamoItems::new(
        direct_dynamodb,
        names.table.clone(),
    )));
    let partner = |source: &'static str, detail_type: &'static str, detail: Value| {
        let events = events.clone();
        let bus = names.bus.clone();
        async move {
            let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name(bus)
                .source(source)
                .detail_type(detail_type)
                .detail(detail.to_string())
                .build();
            events
                .put_events()
                .entries(entry)
                .send()
                .await
                .expect("partner event");
        }
    };

    // Setup traffic is not an order's cost.
    tokio::time::sleep(Duration::from_millis(500)).await;
    *proxy.tally.lock().expect("tally") = Tally::default();
    let lifecycle = |i: usize| {
        let (http, base, token, orders_direct) = (
            http.clone(),
            base.clone(),
            token.clone(),
            orders_direct.clone(),
        );
        let partner = &partner;
        async move {
            let body = json!({
                "channel": "web", "customer": {"id": "c-1", "email": "ana@example.com"}, "currency": "BRL",
                "shipTo": {"country": "BR", "city": "Rio", "line1": "Rua A", "lat": -22.9, "lon": -43.2},
                "lines": [{"sku": "SKU-1", "quantity": 2, "unitPrice": 1990}, {"sku": "SKU-2", "quantity": 1, "unitPrice": 500}],
            });
            let placed: Value = http
                .post(format!("{base}/orders"))
                .bearer_auth(&token)
                .body(body.to_string())
                .send()
                .await
                .expect("post")
                .json()
                .await
                .expect("json");
            let id = placed["orderId"].as_str().expect("id").to_owned();
            let order_id = oms_domain::ids::OrderId::parse(&id).expect("order id");
            wait_for(&orders_direct, &order_id, "ROUTED").await;
            partner("partner.payments", "PaymentConfirmed", json!({"orderId": id, "paymentId": format!("pay-{i}"), "amount": 4480, "currency": "BRL"})).await;
            wait_for(&orders_direct, &order_id, "READY_TO_SHIP").await;
            partner("partner.wms", "ShipmentStatusChanged", json!({"orderId": id, "shipmentId": format!("S{i}"), "locationId": "wh-sp", "status": "SHIPPED", "carrier": "Correios", "trackingNumber": "BR1"})).await;
            wait_for(&orders_direct, &order_id, "SHIPPED").await;
            partner("partner.carrier", "ShipmentStatusChanged", json!({"orderId": id, "shipmentId": format!("S{i}"), "locationId": "wh-sp", "status": "DELIVERED"})).await;
            wait_for(&orders_direct, &order_id, "DELIVERED").await;
        }
    };
    let started = Instant::now();
    // `concurrency` lifecycles in flight at any moment.
    use futures::StreamExt;
    futures::stream::iter(0..orders)
        .map(lifecycle)
        .buffer_unordered(concurrency)
        .collect::<Vec<()>>()
        .await;
    let api_calls = orders as u64;
    let elapsed = started.elapsed();
    // Let the last notifications and the payment-window timers come back.
    tokio::time::sleep(PAYMENT_WINDOW + Duration::from_secs(3)).await;
    running.stop().await;

    let t = proxy.tally.lock().expect("tally");
    let n = orders as f64;
    let per = |x: f64| x / n;
    let calls = |name: &str| t.calls.get(name).copied().unwrap_or(0) as f64;
    let sqs_requests = t
        .calls
        .iter()
        .filter(|(k, _)| k.starts_with("AmazonSQS."))
        .map(|(_, v)| *v as f64)
        .sum::<f64>();
    // A batch received is an invocation; so is a batch of stream records
    // (the relay) and an API request.
    let invocations =
        calls("AmazonSQS.ReceiveMessage") + t.stream_batches as f64 + api_calls as f64;
    // The OMS's own PutEvents entries; partners' events are put (and paid)
    // by the partners, and each is then one SQS send to its queue, done by
    // EventBridge (not through this proxy).
    let sum = |prefixes: &[&str]| -> f64 {
        t.detail
            .iter()
            .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
            .map(|(_, (_, u))| u)
            .sum()
    };
    let oms_entries = sum(&["event "]);
    let write_units = sum(&[
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactWriteItems",
        "index ",
    ]);
    let read_units = sum(&["GetItem", "Query"]);
    let partner_entries = 3.0 * n;
    let rows = [
        ("EventBridge events (OMS)", per(oms_entries), 1.00),
        (
            "SQS requests (relay sends, non-empty receives, deletes)",
            per(sqs_requests),
            0.40,
        ),
        (
            "SQS sends by EventBridge rules (partner events)",
            per(partner_entries),
            0.40,
        ),
        ("DynamoDB write units", per(write_units), 0.625),
        ("DynamoDB read units", per(read_units), 0.125),
        ("Lambda invocations", per(invocations), 0.20),
        (
            "HTTP API requests (POST /orders)",
            per(api_calls as f64),
            1.00,
        ),
    ];
    println!();
    println!("| per order, happy lifecycle (2 lines), {orders} orders | count | $ per 1M orders |");
    println!("|---|---|---|");
    let mut total = 0.0;
    for (what, count, price) in rows {
        total += count * price;
        println!("| {what} | {count:.1} | {:.2} |", count * price);
    }
    println!("| **total (requests; Lambda duration and logs excluded)** | | **{total:.2}** |");
    println!(
        "| partners' own PutEvents (billed to the partners' accounts) | {:.1} | {:.2} |",
        per(partner_entries),
        per(partner_entries) * 1.00
    );
    println!();
    println!(
        "{orders} orders, {concurrency} at a time, in {:.1} s; largest order item written: {} bytes",
        elapsed.as_secs_f64(),
        t.largest_order
    );
    // Where the bytes of the largest order document are.
    if let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(&t.largest_doc) {
        let mut fields: Vec<(usize, &String)> =
            doc.iter().map(|(k, v)| (v.to_string().len(), k)).collect();
        fields.sort_by(|a, b| b.cmp(a));
        let top: Vec<String> = fields
            .iter()
            .take(6)
            .map(|(n, k)| format!("{k} {n}"))
            .collect();
        let _ = std::fs::write(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/aws_cost-largest-order.json"
            ),
            &t.largest_doc,
        );
        println!(
            "its document (target/aws_cost-largest-order.json): {} bytes of JSON; largest fields (bytes): {}",
            t.largest_doc.len(),
            top.join(", ")
        );
    }
    println!();
    println!("levers pulled (from $51 per million orders measured before them):");
    for lever in [
        "events committed with the change (outbox) and relayed from the table's stream in batches: no PutEvents from the request path",
        "the OMS's own consumers get their events straight on their queues (SQS batches), not through EventBridge; the bus carries only what partners act on (OMS_PUBLISH)",
        "reservation and routing are one commit: no network counter to move, no second order write, no hop between them",
        "that commit is the one that places the order: intake reserves as it stores it (no OrderPlaced hop, no second order write)",
        "the first read of an order for a change is eventually consistent (half price); the save is conditional on its version, so a stale read is read again",
        "one stock item per sku holds every location's counters: one stock write per sku per change",
        "order documents and outboxes deflated with a preset dictionary of the OMS's vocabulary: every order write of the lifecycle fits one write unit",
        "a single conditional write wherever one item changes (intake without keys, payment, delivery); transactions only where stock moves with the order",
        "the locations cached by intake and reservation for 30 s (OMS_LOCATIONS_TTL_SECS) instead of a query per order",
        "SQS batches of 10 (receive, delete) and stream batches of up to 100 records",
    ] {
        println!("- {lever}");
    }
    println!();
    println!("calls by operation through the proxy, all {orders} orders:");
    for (k, v) in &t.calls {
        println!("  {k}: {v}");
    }
    println!();
    println!("| per order, by what was touched | requests | units (events, WRU, RRU) |");
    println!("|---|---|---|");
    for (k, (count, u)) in &t.detail {
        println!("| {k} | {:.2} | {:.2} |", per(*count as f64), per(*u));
    }
}
