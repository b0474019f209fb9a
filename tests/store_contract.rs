//! One contract, two engines: every case runs against the embedded redb
//! store and against DynamoDB on the emulator (`AWS_ENDPOINT_URL`), so the
//! embedded store cannot drift from DynamoDB's semantics.

use oms_app::repo::{Created, InventoryRepo, OrderRepo, SaveError, StockError};
use oms_app::store::{
    BY_CUSTOMER, BY_DAY, Cond, Items, Key, Query, Read, StoreError, Value, Write, listed,
};
use oms_aws::dynamo::{DynamoItems, create_table};
use oms_domain::geo::GeoPoint;
use oms_domain::ids::{IdempotencyKey, LocationId, OrderId, Quantity, Sku};
use oms_domain::intake::{Claim, ClaimKind};
use oms_domain::inventory::{LineQty, Location, LocationKind, StockMove};
use oms_domain::order::{Allocation, CancelCode, Cause, Order};
use oms_domain::routing::Availability;
use oms_domain::validation::StockLevels;
use oms_embedded::store::EmbeddedItems;
use std::sync::Arc;

/// A DynamoDB client at `endpoint`.
async fn dynamodb_at(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let sdk = oms_aws::env::sdk_config().await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// The engines to run a case on: embedded always; moto's DynamoDB when an
/// emulator is configured (`AWS_ENDPOINT_URL`), and AWS's own DynamoDB
/// Local (`OMS_DYNAMODB_LOCAL_URL`) — each required when
/// `OMS_REQUIRE_EMULATOR` / `OMS_REQUIRE_DYNAMODB_LOCAL` is set, as
/// `scripts/test` does.
async fn engines() -> Vec<(&'static str, Arc<dyn Items>)> {
    let mut out: Vec<(&'static str, Arc<dyn Items>)> = vec![(
        "embedded",
        Arc::new(EmbeddedItems::in_memory().expect("embedded store")),
    )];
    for (engine, url_var, required_var) in [
        ("moto", "AWS_ENDPOINT_URL", "OMS_REQUIRE_EMULATOR"),
        (
            "dynamodb-local",
            "OMS_DYNAMODB_LOCAL_URL",
            "OMS_REQUIRE_DYNAMODB_LOCAL",
        ),
    ] {
        match std::env::var(url_var) {
            Ok(url) => {
                let client = dynamodb_at(&url).await;
                let table = format!("contract-{}", uuid::Uuid::new_v4().simple());
                create_table(&client, &table)
                    .await
                    .unwrap_or_else(|e| panic!("table on {engine}: {e}"));
                out.push((engine, Arc::new(DynamoItems::new(client, table))));
            }
            Err(_) if std::env::var_os(required_var).is_some() => {
                panic!("{required_var} is set but {url_var} is not")
            }
            Err(_) => eprintln!("no {url_var}: the {engine} half of the contract is skipped"),
        }
    }
    out
}

fn key(pk: &str, sk: &str) -> Key {
    Key::new(pk, sk)
}
fn put(k: &Key, n: i64, when: Vec<Cond>) -> Write {
    Write::Put {
        key: k.clone(),
        attrs: [("n".to_owned(), Value::N(n))].into(),
        when,
    }
}
fn add(k: &Key, name: &str, d: i64, when: Vec<Cond>) -> Write {
    Write::Update {
        key: k.clone(),
        set: vec![],
        add: vec![(name.to_owned(), d)],
        when,
    }
}
async fn n_of(items: &dyn Items, k: &Key, name: &str) -> Option<i64> {
    items
        .get(k, Read::Strong)
        .await
        .expect("get")
        .and_then(|a| a.get(name).and_then(Value::as_n))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_puts_and_deletes() {
    for (engine, items) in engines().await {
        let k = key("P", "1");
        items
            .write(vec![put(&k, 1, vec![Cond::NotExists])])
            .await
            .expect(engine);
        assert_eq!(
            items.write(vec![put(&k, 2, vec![Cond::NotExists])]).await,
            Err(StoreError::ConditionFailed { index: 0 }),
            "{engine}"
        );
        assert_eq!(n_of(&*items, &k, "n").await, Some(1), "{engine}");
        // Eq on the current value passes, on a stale one fails.
        let eq = |v| vec![Cond::Eq("n".into(), Value::N(v))];
        items.write(vec![put(&k, 2, eq(1))]).await.expect(engine);
        assert_eq!(
            items.write(vec![put(&k, 3, eq(1))]).await,
            Err(StoreError::ConditionFailed { index: 0 }),
            "{engine}"
        );
        // Conditions on a missing item are false, except NotExists.
        let missing = key("P", "missing");
        for when in [
            vec![Cond::Exists],
            eq(0),
            vec![Cond::AtLeast("n".into(), 0)],
        ] {
            assert_eq!(
                items
                    .write(vec![Write::Delete {
                        key: missing.clone(),
                        when
                    }])
                    .await,
                Err(StoreError::ConditionFailed { index: 0 }),
                "{engine}"
            );
        }
        items
            .write(vec![Write::Delete {
                key: k.clone(),
                when: vec![Cond::Exists],
            }])
            .await
            .expect(engine);
        assert_eq!(
            items.get(&k, Read::Strong).await.expect(engine),
            None,
            "{engine}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_create_items_and_add_from_zero() {
    for (engine, items) in engines().await {
        let k = key("U", "1");
        items
            .write(vec![Write::Update {
                key: k.clone(),
                set: vec![("name".into(), Value::S("x".into()))],
                add: vec![("count".into(), 5)],
                when: vec![],
            }])
            .await
            .expect(engine);
        items
            .write(vec![add(
                &k,
                "count",
                -2,
                vec![Cond::AtLeast("count".into(), 2)],
            )])
            .await
            .expect(engine);
        assert_eq!(n_of(&*items, &k, "count").await, Some(3), "{engine}");
        // Absent: holds for a missing attribute (and a missing item), not
        // for a present one.
        for (k, name, holds) in [
            (k.clone(), "other", true),
            (key("U", "none"), "count", true),
            (k.clone(), "count", false),
        ] {
            let r = items
                .write(vec![add(&k, "seen", 1, vec![Cond::Absent(name.into())])])
                .await;
            assert_eq!(r.is_ok(), holds, "{engine}: Absent({name}) on {k:?}: {r:?}");
        }
        // AtLeast holds at equality, fails below.
        items
            .write(vec![add(
                &k,
                "count",
                -3,
                vec![Cond::AtLeast("count".into(), 3)],
            )])
            .await
            .expect(engine);
        assert_eq!(
            items
                .write(vec![add(
                    &k,
                    "count",
                    -1,
                    vec![Cond::AtLeast("count".into(), 1)]
                )])
                .await,
            Err(StoreError::ConditionFailed { index: 0 }),
            "{engine}"
        );
        let attrs = items
            .get(&k, Read::Strong)
            .await
            .expect(engine)
            .expect("item");
        assert_eq!(attrs.get("name"), Some(&Value::S("x".into())), "{engine}");
        assert_eq!(attrs.get("count"), Some(&Value::N(0)), "{engine}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_all_or_nothing_and_name_the_failed_write() {
    for (engine, items) in engines().await {
        let (a, b, c) = (key("T", "a"), key("T", "b"), key("T", "c"));
        items.write(vec![put(&c, 1, vec![])]).await.expect(engine);
        let result = items
            .write(vec![
                put(&a, 1, vec![Cond::NotExists]),
                add(&b, "n", 1, vec![]),
                put(&c, 2, vec![Cond::NotExists]),
            ])
            .await;
        assert_eq!(
            result,
            Err(StoreError::ConditionFailed { index: 2 }),
            "{engine}"
        );
        assert_eq!(
            items.get(&a, Read::Strong).await.expect(engine),
            None,
            "{engine}"
        );
        assert_eq!(
            items.get(&b, Read::Strong).await.expect(engine),
            None,
            "{engine}"
        );
        assert_eq!(n_of(&*items, &c, "n").await, Some(1), "{engine}");

        let twice = items
            .write(vec![put(&a, 1, vec![]), put(&a, 2, vec![])])
            .await;
        assert!(
            matches!(twice, Err(StoreError::Invalid(_))),
            "{engine}: {twice:?}"
        );
        let empty = items.write(vec![]).await;
        assert!(matches!(empty, Err(StoreError::Invalid(_))), "{engine}");

        items
            .write(vec![
                put(&a, 1, vec![Cond::NotExists]),
                add(&b, "n", 1, vec![]),
            ])
            .await
            .expect(engine);
        let listed: Vec<String> = items
            .query(&Query::partition("T"))
            .await
            .expect(engine)
            .into_iter()
            .map(|(sk, _)| sk)
            .collect();
        assert_eq!(listed, ["a", "b", "c"], "{engine}");
        assert!(
            items
                .query(&Query::partition("T-other"))
                .await
                .expect(engine)
                .is_empty(),
            "{engine}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conditional_decrements_never_go_below_zero() {
    for (engine, items) in engines().await {
        let k = key("SKU#HOT", "NETWORK");
        items
            .write(vec![add(&k, "available", 25, vec![])])
            .await
            .expect(engine);
        let take = |items: Arc<dyn Items>, k: Key| async move {
            items
                .write(vec![add(
                    &k,
                    "available",
                    -1,
                    vec![Cond::AtLeast("available".into(), 1)],
                )])
                .await
        };
        let results = futures::future::join_all(
            (0..60).map(|_| tokio::spawn(take(items.clone(), k.clone()))),
        )
        .await;
        let ok = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Ok(Err(StoreError::ConditionFailed { index: 0 }))))
            .count();
        assert_eq!((ok, refused), (25, 35), "{engine}");
        assert_eq!(n_of(&*items, &k, "available").await, Some(0), "{engine}");
    }
}

fn cause() -> Cause {
    Cause {
        actor: "contract".into(),
        trigger: "t".into(),
        at: oms_domain::time::Timestamp::from_millis(1),
    }
}

fn new_order(id: &str, lines: &[(&str, i64)]) -> Order {
    let mut v = serde_json::json!({
        "channel": "web", "customer": {"id": "c"}, "currency": "BRL",
        "shipTo": {"country": "BR", "city": "Rio", "line1": "R", "lat": -22.9, "lon": -43.2},
        "lines": []
    });
    v["lines"] = lines
        .iter()
        .map(|(s, q)| serde_json::json!({"sku": s, "quantity": q, "unitPrice": 100}))
        .collect();
    let req: oms_domain::validation::PlaceOrderRequest =
        serde_json::from_value(v).expect("request");
    Order::place(
        OrderId::parse(id).expect("id"),
        req.validate().expect("valid"),
        None,
        &cause(),
    )
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_created_once_per_claim_and_saved_with_optimistic_versions() {
    for (engine, items) in engines().await {
        let orders = OrderRepo::new(items.clone());
        let key = ClaimKind::IdempotencyKey(IdempotencyKey::parse("k1").unwrap());
        let claim = |fp: &str| Claim {
            kind: key.clone(),
            fingerprint: fp.into(),
            expires_at: Some(4_000_000_000),
        };
        let mut first = new_order("ord_1", &[("A", 1)]);
        assert_eq!(
            orders
                .create(&mut first, &[claim("f1")], vec![], None)
                .await,
            Ok(Created::New),
            "{engine}"
        );
        let mut second = new_order("ord_2", &[("A", 1)]);
        let again = orders
            .create(&mut second, &[claim("f1")], vec![], None)
            .await
            .expect(engine);
        assert_eq!(
            again,
            Created::Existing {
                order_id: first.order_id.clone(),
                same_request: true,
                kind: key.clone()
            }
        );
        let other = orders
            .create(&mut second, &[claim("f2")], vec![], None)
            .await
            .expect(engine);
        assert!(
            matches!(
                other,
                Created::Existing {
                    same_request: false,
                    ..
                }
            ),
            "{engine}"
        );
        assert_eq!(
            orders.get(&second.order_id).await.expect(engine),
            None,
            "{engine}: a refused create wrote the order"
        );

        let mut a = orders
            .get(&first.order_id)
            .await
            .expect(engine)
            .expect("stored");
        let mut b = a.clone();
        // Nothing in stock: a change (PLACED → REJECTED) without stock moves.
        a.reserve(&Availability::default(), &cause())
            .expect("transition");
        orders
            .save(&mut a, vec![], None, vec![])
            .await
            .expect(engine);
        assert_eq!(a.version, 2, "{engine}");
        b.cancel(CancelCode::CustomerRequest, "late".into(), &cause())
            .expect("transition");
        assert_eq!(
            orders.save(&mut b, vec![], None, vec![]).await,
            Err(SaveError::Stale),
            "{engine}"
        );
        assert_eq!(
            b.version, 1,
            "{engine}: a failed save must not bump the version"
        );
        let stored = orders
            .get(&first.order_id)
            .await
            .expect(engine)
            .expect("stored");
        assert_eq!(stored, a, "{engine}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_moves_keep_the_counters_consistent() {
    for (engine, items) in engines().await {
        let inv = InventoryRepo::new(items.clone());
        let orders = OrderRepo::new(items.clone());
        let (sku, l1, l2) = (
            Sku::parse("A").unwrap(),
            LocationId::parse("l1").unwrap(),
            LocationId::parse("l2").unwrap(),
        );
        assert!(
            matches!(
                inv.set_on_hand(&sku, &l1, StockLevels::on_hand(3)).await,
                Err(StockError::UnknownLocation(_))
            ),
            "{engine}"
        );
        for l in [&l1, &l2] {
            let loc = Location {
                location_id: l.clone(),
                name: l.to_string(),
                kind: LocationKind::Warehouse,
                point: GeoPoint::new(0.0, 0.0).unwrap(),
                country: None,
                ships_to: vec![],
                active: true,
                cutoff_hour_utc: None,
                processing_days: None,
                priority: None,
                daily_capacity: None,
                ships: true,
            };
            assert!(inv.put_location(&loc).await.expect(engine), "{engine}");
            assert!(!inv.put_location(&loc).await.expect(engine), "{engine}");
        }
        let locations = inv.locations().await.expect(engine);
        inv.set_on_hand(&sku, &l1, StockLevels::on_hand(3))
            .await
            .expect(engine);
        inv.set_on_hand(&sku, &l2, StockLevels::on_hand(2))
            .await
            .expect(engine);
        let before = inv
            .availability(std::slice::from_ref(&sku), &locations)
            .await
            .expect(engine);

        // 4 of 5 taken, split over both locations, with the order's save.
        let mut o = new_order("ord_s1", &[("A", 4)]);
        orders
            .create(&mut o, &[], vec![], None)
            .await
            .expect(engine);
        let out = o.reserve(&before, &cause()).expect("transition");
        orders
            .save(&mut o, InventoryRepo::writes(&out.stock), None, vec![])
            .await
            .expect(engine);
        assert_eq!(o.status, oms_domain::order::OrderStatus::Routed, "{engine}");
        // An order decided on the levels read before: its condition fails
        // and nothing of it is written.
        let mut late = new_order("ord_s2", &[("A", 2)]);
        orders
            .create(&mut late, &[], vec![], None)
            .await
            .expect(engine);
        let out = late.reserve(&before, &cause()).expect("transition");
        assert_eq!(
            orders
                .save(&mut late, InventoryRepo::writes(&out.stock), None, vec![])
                .await,
            Err(SaveError::Condition(0)),
            "{engine}"
        );
        assert_eq!(
            orders
                .get(&late.order_id)
                .await
                .expect(engine)
                .map(|o| o.status),
            Some(oms_domain::order::OrderStatus::Placed),
            "{engine}"
        );

        let view = inv.levels(&sku).await.expect(engine);
        assert_eq!(
            (view.on_hand, view.reserved, view.available),
            (5, 4, 1),
            "{engine}"
        );
        let at = |view: &oms_domain::inventory::StockView, l: &str| {
            view.locations
                .iter()
                .find(|s| s.location_id.as_str() == l)
                .map(|s| (s.on_hand, s.reserved, s.available))
        };
        assert_eq!(
            (at(&view, "l1"), at(&view, "l2")),
            (Some((3, 3, 0)), Some((2, 1, 1))),
            "{engine}"
        );
        assert!(
            matches!(
                inv.set_on_hand(&sku, &l1, StockLevels::on_hand(2)).await,
                Err(StockError::BelowReserved { reserved: 3 })
            ),
            "{engine}"
        );
        let alloc =
            |l: &LocationId, q| Allocation::new(sku.clone(), l.clone(), Quantity::new(q).unwrap());
        assert!(
            matches!(
                items
                    .write(InventoryRepo::writes(&[StockMove::Allocate(vec![alloc(
                        &l2, 2
                    )])]))
                    .await,
                Err(StoreError::ConditionFailed { index: 0 })
            ),
            "{engine}: more than l2 has free"
        );
        inv.set_on_hand(&sku, &l2, StockLevels::on_hand(1))
            .await
            .expect(engine);

        // One unit ships from l1: it leaves on hand and reserved.
        items
            .write(InventoryRepo::writes(&[StockMove::Ship(vec![alloc(
                &l1, 1,
            )])]))
            .await
            .expect(engine);
        let view = inv.levels(&sku).await.expect(engine);
        assert_eq!(at(&view, "l1"), Some((2, 2, 0)), "{engine}");

        // The rest goes back: counters return to on-hand only.
        items
            .write(InventoryRepo::writes(&[StockMove::Release(vec![
                alloc(&l1, 2),
                alloc(&l2, 1),
            ])]))
            .await
            .expect(engine);
        let view = inv.levels(&sku).await.expect(engine);
        assert_eq!(
            (view.on_hand, view.reserved, view.available),
            (3, 0, 3),
            "{engine}"
        );

        // Split into 3 shards: the same totals, spread; never merged back.
        let view = inv.split(&sku, 3).await.expect(engine);
        assert_eq!(
            (view.shards, view.on_hand, view.available),
            (3, 3, 3),
            "{engine}"
        );
        assert!(
            matches!(
                inv.split(&sku, 2).await,
                Err(StockError::ShardsOutOfRange { current: 3 })
            ),
            "{engine}"
        );
        let free = inv
            .availability(std::slice::from_ref(&sku), &locations)
            .await
            .expect(engine);
        assert_eq!(
            free.shards().get(&(sku.clone(), l1.clone())),
            Some(&vec![1, 1, 0]),
            "{engine}: l1's 2 units over 3 shards"
        );
        // An order sees first only its home shard (one read), and says so;
        // the shard count is learnt from shard 0 or taken as known.
        let order = OrderId::parse("ord_seen").unwrap();
        let home = oms_domain::inventory::home_shard(&order, &sku, 3);
        for known in [None, Some(3)] {
            let seen = inv
                .availability_seen_by(
                    &order,
                    std::slice::from_ref(&sku),
                    &locations,
                    |_| known,
                    oms_app::store::Read::Strong,
                )
                .await
                .expect(engine);
            let mut want = vec![0, 0, 0];
            want[home] = [1, 1, 0][home];
            assert_eq!(
                (
                    seen.stock.shards().get(&(sku.clone(), l1.clone())),
                    seen.partial
                ),
                (Some(&want), true),
                "{engine}: known {known:?}"
            );
            assert_eq!(seen.split, vec![(sku.clone(), 3)], "{engine}");
        }
        let whole = Sku::parse("WHOLE").unwrap();
        inv.set_on_hand(&whole, &l1, StockLevels::on_hand(4))
            .await
            .expect(engine);
        let seen = inv
            .availability_seen_by(
                &order,
                std::slice::from_ref(&whole),
                &locations,
                |_| None,
                oms_app::store::Read::Strong,
            )
            .await
            .expect(engine);
        assert_eq!(
            (
                seen.stock.shards().get(&(whole.clone(), l1.clone())),
                seen.partial
            ),
            (Some(&vec![4]), false),
            "{engine}: a sku in one shard is seen whole"
        );
        inv.set_on_hand(&sku, &l1, StockLevels::on_hand(5))
            .await
            .expect(engine);
        let view = inv.levels(&sku).await.expect(engine);
        assert_eq!(at(&view, "l1"), Some((5, 0, 5)), "{engine}");
        assert_eq!(inv.locations().await.expect(engine).len(), 2, "{engine}");
    }
}

mod interleavings {
    //! Random orders reserving, allocating and releasing while stock is
    //! being changed, all at once: the stock invariants hold on both engines.
    use super::*;
    use proptest::prelude::*;

    const SKUS: [&str; 2] = ["A", "B"];
    const LOCS: [&str; 3] = ["l1", "l2", "l3"];

    #[derive(Debug, Clone)]
    struct Scenario {
        initial: Vec<u64>,
        orders: Vec<(u32, u32, bool)>,
        /// (sku, location, units on hand, safety stock to set with them).
        changes: Vec<(usize, usize, u64, Option<u64>)>,
        /// Sku B's stock split into 3 shards first.
        split: bool,
        /// Supply of sku A announced per location (backorders taken there).
        supply: Vec<u64>,
        /// Backorders of sku A waiting at a location: (location, units).
        waits: Vec<(usize, u32)>,
        /// Goods of sku A received at a location meanwhile.
        receipts: Vec<(usize, u64)>,
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        (
            proptest::collection::vec(0u64..5, SKUS.len() * LOCS.len()),
            proptest::collection::vec((0u32..4, 0u32..4, any::<bool>()), 1..8),
            proptest::collection::vec(
                (
                    0..SKUS.len(),
                    0..LOCS.len(),
                    0u64..6,
                    proptest::option::of(0u64..4),
                ),
                0..6,
            ),
            any::<bool>(),
            (
                proptest::collection::vec(0u64..5, LOCS.len()),
                proptest::collection::vec((0..LOCS.len(), 1u32..4), 0..5),
                proptest::collection::vec((0..LOCS.len(), 1u64..5), 0..4),
            ),
        )
            .prop_map(
                |(initial, orders, changes, split, (supply, waits, receipts))| Scenario {
                    initial,
                    orders,
                    changes,
                    split,
                    supply,
                    waits,
                    receipts,
                },
            )
    }

    fn sku(i: usize) -> Sku {
        Sku::parse(SKUS[i]).unwrap()
    }
    fn loc(i: usize) -> LocationId {
        LocationId::parse(LOCS[i]).unwrap()
    }

    /// Takes the order's units where they are free (levels read afresh,
    /// drawn from the shards as reservation does) until the commit's
    /// conditions hold, or gives up when the network cannot cover it; then
    /// maybe gives them back. Returns what the order still holds.
    async fn run_order(
        items: Arc<dyn Items>,
        id: String,
        demand: Vec<LineQty>,
        release: bool,
    ) -> Option<Vec<Allocation>> {
        let inv = InventoryRepo::new(items.clone());
        let order = OrderId::parse(&id).unwrap();
        let skus: Vec<Sku> = demand.iter().map(|l| l.sku.clone()).collect();
        for attempt in 0.. {
            assert!(attempt < 200, "the conditions never held");
            let locations = inv.locations().await.expect("locations");
            let free = inv.availability(&skus, &locations).await.expect("levels");
            let mut plan = Vec::new();
            for d in &demand {
                let mut left = u64::from(d.quantity.get());
                for c in free.candidates() {
                    let take = c.free.get(&d.sku).copied().unwrap_or(0).min(left);
                    if let Some(quantity) = Quantity::of(take) {
                        left -= take;
                        plan.push(Allocation::new(
                            d.sku.clone(),
                            c.location_id.clone(),
                            quantity,
                        ));
                    }
                }
                if left > 0 {
                    return None;
                }
            }
            let taken = oms_domain::inventory::draw(&plan, free.shards(), |sku, n| {
                oms_domain::inventory::home_shard(&order, sku, n)
            })
            .expect("the shards hold the totals");
            match items
                .write(InventoryRepo::writes(&[StockMove::Allocate(taken.clone())]))
                .await
            {
                Ok(()) if release => {
                    items
                        .write(InventoryRepo::writes(&[StockMove::Release(taken)]))
                        .await
                        .expect("release");
                    return None;
                }
                Ok(()) => return Some(taken),
                Err(StoreError::ConditionFailed { .. }) => tokio::task::yield_now().await,
                Err(e) => panic!("allocate: {e}"),
            }
        }
        None
    }

    async fn run(items: Arc<dyn Items>, sc: Scenario, engine: &str) {
        let inv = InventoryRepo::new(items.clone());
        for (i, l) in LOCS.iter().enumerate() {
            let location = Location {
                location_id: loc(i),
                name: l.to_string(),
                kind: LocationKind::Store,
                point: GeoPoint::new(0.0, 0.0).unwrap(),
                country: None,
                ships_to: vec![],
                active: true,
                cutoff_hour_utc: None,
                processing_days: None,
                priority: None,
                daily_capacity: None,
                ships: true,
            };
            inv.put_location(&location).await.expect(engine);
        }
        for (i, n) in sc.initial.iter().enumerate() {
            inv.set_on_hand(
                &sku(i / LOCS.len()),
                &loc(i % LOCS.len()),
                StockLevels::on_hand(*n),
            )
            .await
            .expect(engine);
        }
        for (l, q) in sc.supply.iter().enumerate().filter(|(_, q)| **q > 0) {
            inv.set_supply_rules(&sku(0), &loc(l), Some(true), None)
                .await
                .expect(engine);
            inv.announce_incoming(
                &sku(0),
                &loc(l),
                *q,
                oms_domain::time::Timestamp::from_millis(1),
                &format!("PO-{l}"),
            )
            .await
            .expect(engine);
        }
        let mut orders = Vec::new();
        if sc.split {
            inv.split(&sku(1), 3).await.expect(engine);
        }
        // Backorders claim the supply coming while goods arrive.
        let mut waits = Vec::new();
        for (i, (l, q)) in sc.waits.iter().enumerate() {
            let items = items.clone();
            let claim = Allocation::new(sku(0), loc(*l), Quantity::of(u64::from(*q)).unwrap());
            let entry = oms_domain::inventory::BackorderEntry {
                order_id: OrderId::parse(&format!("ord_w{i}")).unwrap(),
                placed_at: oms_domain::time::Timestamp::from_millis(i as u64 + 1),
            };
            waits.push(tokio::spawn(async move {
                let claimed = StockMove::ClaimIncoming {
                    entry: entry.clone(),
                    claims: vec![claim.clone()],
                };
                match items.write(InventoryRepo::writes(&[claimed])).await {
                    Ok(()) => Some((entry, claim)),
                    Err(StoreError::ConditionFailed { .. }) => None,
                    Err(e) => panic!("claim: {e}"),
                }
            }));
        }
        let mut receipts = Vec::new();
        for (i, (l, q)) in sc.receipts.iter().enumerate() {
            let inv = inv.clone();
            let (l, q) = (*l, *q);
            receipts.push(tokio::spawn(async move {
                inv.receive(&sku(0), &loc(l), q, &format!("R-{i}"))
                    .await
                    .expect("receipt");
            }));
        }
        for (i, (a, b, release)) in sc.orders.iter().enumerate() {
            let demand: Vec<LineQty> = [(sku(0), *a), (sku(1), *b)]
                .into_iter()
                .filter_map(|(sku, q)| {
                    Quantity::of(u64::from(q)).map(|quantity| LineQty { sku, quantity })
                })
                .collect();
            if !demand.is_empty() {
                orders.push(tokio::spawn(run_order(
                    items.clone(),
                    format!("ord_{i}"),
                    demand,
                    *release,
                )));
            }
        }
        let mut changes = Vec::new();
        for (s, l, n, safety_stock) in sc.changes.clone() {
            let inv = inv.clone();
            let levels = StockLevels {
                on_hand: Some(n),
                safety_stock,
                ..StockLevels::on_hand(0)
            };
            changes.push(tokio::spawn(async move {
                match inv.set_on_hand(&sku(s), &loc(l), levels).await {
                    Ok(_) | Err(StockError::BelowReserved { .. }) => {}
                    Err(e) => panic!("set_on_hand: {e}"),
                }
            }));
        }
        let held: Vec<_> = futures::future::join_all(orders)
            .await
            .into_iter()
            .map(|r| r.expect("order task"))
            .collect();
        for c in futures::future::join_all(changes).await {
            c.expect("change task");
        }
        for r in futures::future::join_all(receipts).await {
            r.expect("receipt task");
        }
        let claims: Vec<_> = futures::future::join_all(waits)
            .await
            .into_iter()
            .filter_map(|r| r.expect("claim task"))
            .collect();
        // Fill what was received, first placed first, at each location.
        let mut filled = Vec::new();
        for l in 0..LOCS.len() {
            let (queue, _) = inv.backorder_queue(&sku(0), &loc(l)).await.expect(engine);
            for (order_id, _) in queue {
                let Some((entry, claim)) = claims.iter().find(|(e, _)| e.order_id == order_id)
                else {
                    panic!("{engine}: a queue entry no claim made");
                };
                let fill = StockMove::FillBackorder {
                    entry: entry.clone(),
                    fills: vec![claim.clone()],
                };
                match items.write(InventoryRepo::writes(&[fill])).await {
                    Ok(()) => filled.push(claim.clone()),
                    Err(StoreError::ConditionFailed { .. }) => break,
                    Err(e) => panic!("fill: {e}"),
                }
            }
        }
        for (si, _) in SKUS.iter().enumerate() {
            let s = sku(si);
            let view = inv.levels(&s).await.expect(engine);
            let (mut on_hand, mut reserved) = (0, 0);
            for l in &view.locations {
                assert!(l.reserved <= l.on_hand, "{engine}: {view:?}");
                // What is neither reserved nor available is safety stock
                // held back, never more than the setting.
                assert!(l.available <= l.on_hand - l.reserved, "{engine}: {view:?}");
                assert!(
                    l.on_hand - l.reserved - l.available <= l.safety_stock,
                    "{engine}: {view:?}"
                );
                on_hand += l.on_hand;
                reserved += l.reserved;
                let held: u64 = held
                    .iter()
                    .flatten()
                    .flatten()
                    .filter(|a| a.sku == s && a.location_id == l.location_id)
                    .map(|a| u64::from(a.quantity.get()))
                    .sum();
                let here = |a: &&Allocation| a.sku == s && a.location_id == l.location_id;
                let units = |a: &Allocation| u64::from(a.quantity.get());
                let filled: u64 = filled.iter().filter(here).map(units).sum();
                let waiting: u64 = claims
                    .iter()
                    .map(|(_, c)| c)
                    .filter(here)
                    .map(units)
                    .sum::<u64>()
                    - filled;
                // Backorders wait for exactly what they claimed — of the
                // supply coming, or received and held for them — and never
                // for units an order holds.
                assert_eq!(l.backordered, waiting, "{engine}: {view:?}");
                let promised = l.reserved - held - filled;
                assert!(
                    l.reserved >= held + filled && promised <= waiting,
                    "{engine}: a location's reserved units are what orders hold there and what is held for its backorders: {view:?}"
                );
            }
            assert_eq!(
                (view.on_hand, view.reserved),
                (on_hand, reserved),
                "{engine}: the network is the sum of its locations: {view:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn stock_invariants_hold_under_random_interleavings(sc in scenario()) {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async {
                for (engine, items) in engines().await {
                    run(items, sc.clone(), engine).await;
                }
            });
        }
    }
}

fn sort_keys(found: &[(String, oms_app::store::Attrs)]) -> Vec<&str> {
    found.iter().map(|(sk, _)| sk.as_str()).collect()
}

#[tokio::test]
async fn queries_take_a_range_either_way_with_a_limit() {
    for (engine, items) in engines().await {
        for sk in ["a", "b", "b1", "c", "d"] {
            items
                .write(vec![put(&key("Q", sk), 1, vec![])])
                .await
                .expect(engine);
        }
        let q = |from: Option<&str>, to: Option<&str>, descending, limit| Query {
            index: None,
            pk: "Q".into(),
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
            descending,
            limit,
        };
        let found = items.query(&q(Some("b"), Some("c"), false, None)).await;
        assert_eq!(
            sort_keys(&found.expect(engine)),
            ["b", "b1", "c"],
            "{engine}"
        );
        let found = items.query(&q(None, Some("c"), true, Some(2))).await;
        assert_eq!(sort_keys(&found.expect(engine)), ["c", "b1"], "{engine}");
        let found = items.query(&q(Some("b1"), None, true, None)).await;
        assert_eq!(
            sort_keys(&found.expect(engine)),
            ["d", "c", "b1"],
            "{engine}"
        );
        let found = items.query(&q(Some("e"), None, false, None)).await;
        assert!(found.expect(engine).is_empty(), "{engine}");
    }
}

#[tokio::test]
async fn an_index_lists_items_that_have_its_keys_and_follows_their_changes() {
    for (engine, items) in engines().await {
        let indexed = |pk: &str, csk: &str, dpk: Option<&str>| {
            let mut attrs = oms_app::store::Attrs::new();
            attrs.insert("cpk".into(), Value::S(pk.into()));
            attrs.insert("csk".into(), Value::S(csk.into()));
            if let Some(d) = dpk {
                attrs.insert("dpk".into(), Value::S(d.into()));
                attrs.insert("dsk".into(), Value::S(csk.into()));
            }
            attrs.insert("n".into(), Value::N(1));
            attrs
        };
        let write = |k: Key, attrs| Write::Put {
            key: k,
            attrs,
            when: vec![],
        };
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let c = format!("C#{suffix}");
        let d = format!("D#{suffix}");
        items
            .write(vec![
                write(key("O#1", "ORDER"), indexed(&c, "001#1", Some(&d))),
                write(key("O#2", "ORDER"), indexed(&c, "002#2", None)),
                write(key("O#3", "ORDER"), indexed("C#other", "003#3", Some(&d))),
                put(&key("O#4", "ORDER"), 1, vec![]),
            ])
            .await
            .expect(engine);
        let by = |ix, pk: &str, descending| Query {
            index: Some(ix),
            pk: pk.to_owned(),
            descending,
            ..Query::default()
        };
        // Indexes are read eventually: DynamoDB's may lag a moment.
        let mut found = Vec::new();
        for _ in 0..50 {
            found = listed(items.query(&by(BY_CUSTOMER, &c, true)).await.expect(engine));
            if found.len() == 2 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let keys: Vec<(&str, &str)> = found
            .iter()
            .map(|l| (l.key.pk.as_str(), l.sk.as_str()))
            .collect();
        assert_eq!(keys, [("O#2", "002#2"), ("O#1", "001#1")], "{engine}");
        let day = listed(items.query(&by(BY_DAY, &d, false)).await.expect(engine));
        let keys: Vec<&str> = day.iter().map(|l| l.key.pk.as_str()).collect();
        assert_eq!(keys, ["O#1", "O#3"], "{engine}");
        let ranged = Query {
            from: Some("002".into()),
            ..by(BY_CUSTOMER, &c, false)
        };
        let keys = listed(items.query(&ranged).await.expect(engine));
        assert_eq!(keys.len(), 1, "{engine}");
        assert_eq!(keys[0].key.pk, "O#2", "{engine}");

        // An item that loses the index's keys leaves it; a deleted one too.
        items
            .write(vec![
                put(&key("O#1", "ORDER"), 2, vec![]),
                Write::Delete {
                    key: key("O#3", "ORDER"),
                    when: vec![],
                },
            ])
            .await
            .expect(engine);
        let mut day = vec![];
        for _ in 0..50 {
            day = listed(items.query(&by(BY_DAY, &d, false)).await.expect(engine));
            if day.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(day.is_empty(), "{engine}: {day:?}");
        let left = listed(
            items
                .query(&by(BY_CUSTOMER, &c, false))
                .await
                .expect(engine),
        );
        assert_eq!(left.len(), 1, "{engine}");
    }
}

#[tokio::test]
async fn safety_stock_is_held_back_from_orders_and_follows_the_units_on_hand() {
    for (engine, items) in engines().await {
        let inv = InventoryRepo::new(items.clone());
        let l1 = LocationId::parse("wh-1").unwrap();
        inv.put_location(&Location {
            location_id: l1.clone(),
            name: "one".into(),
            kind: LocationKind::Warehouse,
            point: GeoPoint::new(0.0, 0.0).unwrap(),
            country: None,
            ships_to: vec![],
            active: true,
            cutoff_hour_utc: None,
            processing_days: None,
            priority: None,
            daily_capacity: None,
            ships: true,
        })
        .await
        .expect(engine);
        let sku = Sku::parse("SAFE").unwrap();
        let set = |on_hand, safety_stock| StockLevels {
            on_hand,
            safety_stock,
            ..StockLevels::on_hand(0)
        };
        let view = inv
            .set_on_hand(&sku, &l1, set(Some(10), Some(3)))
            .await
            .expect(engine);
        assert_eq!(
            (view.on_hand, view.available),
            (10, 7),
            "{engine}: {view:?}"
        );
        assert_eq!(view.locations[0].safety_stock, 3, "{engine}");
        // Orders see only what is available.
        let free = inv
            .availability(
                std::slice::from_ref(&sku),
                &inv.locations().await.expect(engine),
            )
            .await
            .expect(engine);
        assert_eq!(free.network_free(&sku), 7, "{engine}");
        let take = |q| {
            InventoryRepo::writes(&[StockMove::Allocate(vec![Allocation::new(
                sku.clone(),
                l1.clone(),
                Quantity::new(q).unwrap(),
            )])])
        };
        assert!(
            matches!(
                items.write(take(8)).await,
                Err(StoreError::ConditionFailed { .. })
            ),
            "{engine}: safety stock is not for orders"
        );
        items.write(take(7)).await.expect(engine);
        // Fewer on hand than reserved + safety: the safety stock shrinks first.
        let view = inv
            .set_on_hand(&sku, &l1, set(Some(8), None))
            .await
            .expect(engine);
        assert_eq!(
            (view.on_hand, view.reserved, view.available),
            (8, 7, 0),
            "{engine}: {view:?}"
        );
        // A setting alone keeps what is on hand.
        let view = inv
            .set_on_hand(&sku, &l1, set(None, Some(0)))
            .await
            .expect(engine);
        assert_eq!((view.on_hand, view.available), (8, 1), "{engine}: {view:?}");
        // The network's safety stock comes off what reservation may take.
        let view = inv.set_network_safety(&sku, 1).await.expect(engine);
        assert_eq!(
            (view.available, view.safety_stock),
            (0, 1),
            "{engine}: {view:?}"
        );
        let free = inv
            .availability(
                std::slice::from_ref(&sku),
                &inv.locations().await.expect(engine),
            )
            .await
            .expect(engine);
        assert_eq!(free.network_free(&sku), 0, "{engine}");
    }
}
