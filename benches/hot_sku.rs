//! One sku everyone buys: `cargo bench --bench hot_sku`.
//!
//! Places `OMS_HOT_ORDERS` (default 20,000) one-unit orders for the same
//! sku, `OMS_HOT_CONCURRENCY` (32) at a time, through the intake service
//! (which reserves and routes as it places) on the embedded store on disk,
//! with the sku's stock in 1, 8 and 16 shards. It counts what each
//! reservation read and wrote per stock item, and prints a table: measured
//! reservations/s, reads and writes per reservation, the share of them the
//! busiest stock item took — and from those counts what DynamoDB would
//! take for this sku, where one partition serves at most 1,000 write units
//! and 3,000 read units a second, a transactional write costs 2 write units
//! per KB and a strong read 1 read unit per 4 KB.

use oms_app::Deps;
use oms_app::services::intake::{PlaceOrder, place};
use oms_app::store::{Attrs, Items, Key, Query, Read, StoreError, Write};
use oms_domain::access::Caller;
use oms_domain::ids::{LocationId, Sku};
use oms_embedded::store::EmbeddedItems;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Counts reads and writes of stock items, per item.
struct Counting {
    inner: EmbeddedItems,
    reads: Mutex<HashMap<String, u64>>,
    writes: Mutex<HashMap<String, u64>>,
}

fn is_stock(key: &Key) -> bool {
    key.pk.starts_with("SKU#")
}

#[async_trait::async_trait]
impl Items for Counting {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Attrs>, StoreError> {
        if is_stock(key) {
            *self
                .reads
                .lock()
                .expect("reads")
                .entry(key.pk.clone())
                .or_default() += 1;
        }
        self.inner.get(key, read).await
    }
    async fn query(&self, q: &Query) -> Result<Vec<(String, Attrs)>, StoreError> {
        self.inner.query(q).await
    }
    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        let stock: Vec<String> = writes
            .iter()
            .filter(|w| is_stock(w.key()))
            .map(|w| w.key().pk.clone())
            .collect();
        let result = self.inner.write(writes).await;
        if result.is_ok() {
            let mut counts = self.writes.lock().expect("writes");
            for pk in stock {
                *counts.entry(pk).or_default() += 1;
            }
        }
        result
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Row {
    shards: u16,
    per_sec: f64,
    p99_ms: f64,
    reads: f64,
    writes: f64,
    hottest_reads: f64,
    hottest_writes: f64,
    routed: usize,
}

async fn run(shards: u16, orders: usize, concurrency: usize) -> Row {
    let dir = std::env::temp_dir().join(format!("oms-hot-sku-{}-{shards}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let items = Arc::new(Counting {
        inner: EmbeddedItems::open(&dir).expect("store"),
        reads: Mutex::default(),
        writes: Mutex::default(),
    });
    let deps = Deps::new(items.clone());
    let sku = Sku::parse("HOT").expect("sku");
    for (id, lat, lon) in [("sp", -23.55, -46.63), ("rio", -22.9, -43.2)] {
        let location: oms_domain::inventory::Location = serde_json::from_value(
            serde_json::json!({"locationId": id, "name": id, "kind": "warehouse", "lat": lat, "lon": lon}),
        )
        .expect("location");
        oms_app::services::inventory::put_location(&deps, &location)
            .await
            .expect("location");
        let loc = LocationId::parse(id).expect("id");
        deps.inventory()
            .set_on_hand(
                &sku,
                &loc,
                oms_domain::validation::StockLevels::on_hand(orders as u64),
            )
            .await
            .expect("stock");
    }
    if shards > 1 {
        let settings = oms_domain::validation::StockSettings {
            shards: Some(shards),
            safety_stock: None,
        };
        oms_app::services::inventory::settings(&deps, &sku, settings)
            .await
            .expect("split");
    }
    items.reads.lock().expect("reads").clear();
    items.writes.lock().expect("writes").clear();
    let body: oms_domain::validation::PlaceOrderRequest = serde_json::from_value(serde_json::json!({
        "channel": "web", "customer": {"id": "bench"}, "currency": "BRL",
        "shipTo": {"country": "BR", "city": "Rio", "line1": "Rua A", "lat": -22.9, "lon": -43.2},
        "lines": [{"sku": "HOT", "quantity": 1, "unitPrice": 1990}],
    }))
    .expect("order");
    let started = Instant::now();
    let latencies: Vec<(f64, bool)> =
        futures::StreamExt::collect(futures::StreamExt::buffer_unordered(
            futures::stream::iter((0..orders).map(|i| {
                let deps = deps.clone();
                let body = body.clone();
                async move {
                    let t = Instant::now();
                    let placed = place(
                        &deps,
                        PlaceOrder {
                            caller: Caller::operator("bench"),
                            body,
                            key: None,
                            trigger: format!("bench-{i}"),
                            order_id: None,
                            answer: false,
                        },
                    )
                    .await
                    .expect("placed");
                    let routed = match placed {
                        oms_app::services::intake::Placed::New(o)
                        | oms_app::services::intake::Placed::Replayed(o) => {
                            o.status == oms_domain::order::OrderStatus::Routed
                        }
                    };
                    (t.elapsed().as_secs_f64() * 1000.0, routed)
                }
            })),
            concurrency,
        ))
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut ms: Vec<f64> = latencies.iter().map(|(m, _)| *m).collect();
    ms.sort_by(f64::total_cmp);
    let n = orders as f64;
    let reads = items.reads.lock().expect("reads").clone();
    let writes = items.writes.lock().expect("writes").clone();
    let _ = std::fs::remove_dir_all(&dir);
    Row {
        shards,
        per_sec: n / elapsed,
        p99_ms: ms[(ms.len() * 99 / 100).min(ms.len() - 1)],
        reads: reads.values().sum::<u64>() as f64 / n,
        writes: writes.values().sum::<u64>() as f64 / n,
        hottest_reads: reads.values().copied().max().unwrap_or(0) as f64 / n,
        hottest_writes: writes.values().copied().max().unwrap_or(0) as f64 / n,
        routed: latencies.iter().filter(|(_, r)| *r).count(),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orders = env_or("OMS_HOT_ORDERS", 20_000);
    let concurrency = env_or("OMS_HOT_CONCURRENCY", 32);
    println!(
        "| shards | orders routed | reservations/s (embedded) | p99 ms | stock reads / reservation | stock writes / reservation | busiest item: share of reads | share of writes | DynamoDB ceiling for this sku (reservations/s) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for shards in [1u16, 8, 16] {
        let r = run(shards, orders, concurrency).await;
        // The busiest stock item's partition limits the sku: each
        // reservation writes it (transactionally, 2 WCU) with probability
        // `hottest_writes` and reads it (strongly, 1 RCU) with probability
        // `hottest_reads`.
        let by_writes = 1000.0 / (2.0 * r.hottest_writes.max(f64::EPSILON));
        let by_reads = 3000.0 / r.hottest_reads.max(f64::EPSILON);
        println!(
            "| {} | {}/{orders} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} |",
            r.shards,
            r.routed,
            r.per_sec,
            r.p99_ms,
            r.reads,
            r.writes,
            r.hottest_reads,
            r.hottest_writes,
            by_writes.min(by_reads)
        );
    }
    println!(
        "\nDynamoDB ceiling = min(1,000 WCU/s ÷ (2 × share of writes), 3,000 RCU/s ÷ share of reads) for the busiest stock item, assuming each shard item on a partition of its own (adaptive capacity isolates hot items)."
    );
}
