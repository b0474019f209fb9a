//! Black-box tests of the storefront API against the embedded runtime.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_for_stocked_items_is_reserved_and_routed_to_the_nearest_location() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("SKU-1", "wh-sp", 10).await;
    oms.stock("SKU-1", "wh-rio", 10).await;

    let (status, placed) = oms.post_order(&order(&[("SKU-1", 2)]), None).await;
    assert_eq!(status, 201, "{placed}");
    // Reserved and routed in the commit that placed it: the answer says so.
    assert_eq!(placed["status"], "ROUTED", "{placed}");
    assert_eq!(placed["total"], 3980);
    let id = placed["orderId"].as_str().unwrap();

    let routed = oms.settled(id).await;
    assert_eq!(routed["status"], "ROUTED", "{routed}");
    assert_eq!(
        routed["allocations"],
        json!([{"sku": "SKU-1", "locationId": "wh-rio", "quantity": 2}])
    );
    let history: Vec<&str> = routed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["PLACED", "RESERVED", "ROUTED"]);
    assert!(
        routed["routingReason"]
            .as_str()
            .unwrap()
            .contains("wh-rio ships every line")
    );
    for h in routed["history"].as_array().unwrap() {
        assert!(
            h["at"].is_string() && h["actor"].is_string() && h["cause"].is_string(),
            "{h}"
        );
    }

    let (_, stock) = oms.get("/inventory/SKU-1").await;
    assert_eq!(stock["available"], 18);
    assert_eq!(stock["reserved"], 2);
    let rio = stock["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locationId"] == "wh-rio")
        .unwrap();
    assert_eq!(
        (
            rio["onHand"].as_u64(),
            rio["reserved"].as_u64(),
            rio["available"].as_u64()
        ),
        (Some(10), Some(2), Some(8))
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_no_single_location_holds_are_split_across_the_fewest_locations() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-rec", RECIFE.0, RECIFE.1).await;
    oms.location("st-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    oms.stock("A", "wh-rec", 5).await;
    oms.stock("B", "wh-rec", 5).await;
    oms.stock("B", "st-rio", 1).await;

    let (_, placed) = oms.post_order(&order(&[("A", 3), ("B", 2)]), None).await;
    let routed = oms.settled(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(routed["status"], "ROUTED", "{routed}");
    // wh-rec holds both lines: one location beats a nearer split.
    assert_eq!(
        routed["allocations"],
        json!([{"sku": "A", "locationId": "wh-rec", "quantity": 3}, {"sku": "B", "locationId": "wh-rec", "quantity": 2}])
    );

    // Now only a split works: 6 of A needs wh-sp and wh-rec (st-rio has none).
    let (_, placed) = oms.post_order(&order(&[("A", 6)]), None).await;
    let routed = oms.settled(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(routed["status"], "ROUTED", "{routed}");
    let allocs = routed["allocations"].as_array().unwrap();
    assert_eq!(allocs.len(), 2, "{routed}");
    assert_eq!(
        allocs
            .iter()
            .map(|a| a["quantity"].as_u64().unwrap())
            .sum::<u64>(),
        6
    );
    assert!(
        routed["routingReason"]
            .as_str()
            .unwrap()
            .contains("split across 2")
    );
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(stock["available"], 1);
    for l in stock["locations"].as_array().unwrap() {
        assert!(l["reserved"].as_u64() <= l["onHand"].as_u64(), "{stock}");
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_the_network_cannot_cover_is_rejected_and_takes_nothing() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    oms.stock("B", "wh-sp", 1).await;
    let (_, placed) = oms
        .post_order(&order(&[("A", 2), ("B", 2), ("C", 1)]), None)
        .await;
    let done = oms.settled(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "REJECTED");
    assert_eq!(done["rejection"]["reason"], "INSUFFICIENT_STOCK");
    assert_eq!(done["rejection"]["skus"], json!(["B", "C"]));
    let (_, a) = oms.get("/inventory/A").await;
    assert_eq!(
        (a["available"].as_u64(), a["reserved"].as_u64()),
        (Some(5), Some(0))
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_return_the_first_order_and_reserve_nothing_twice() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 10).await;
    let body = order(&[("A", 2)]);

    let (s1, first) = oms.post_order(&body, Some("key-1")).await;
    let (s2, again) = oms.post_order(&body, Some("key-1")).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(first["orderId"], again["orderId"]);

    // Same key, different body: a conflict, and nothing new.
    let (s3, err) = oms.post_order(&order(&[("A", 3)]), Some("key-1")).await;
    assert_eq!(s3, 409, "{err}");
    assert_eq!(err["error"]["code"], "IDEMPOTENCY_CONFLICT");

    // channel + externalId dedupe without a key, even across keys.
    let mut marketplace = order(&[("A", 1)]);
    marketplace["channel"] = json!("marketplace-x");
    marketplace["externalId"] = json!("MX-1001");
    let (s4, m1) = oms.post_order(&marketplace, None).await;
    let (s5, m2) = oms.post_order(&marketplace, Some("another-key")).await;
    assert_eq!((s4, s5), (201, 200));
    assert_eq!(m1["orderId"], m2["orderId"]);
    let mut changed = marketplace.clone();
    changed["lines"][0]["quantity"] = json!(4);
    assert_eq!(oms.post_order(&changed, None).await.0, 409);

    oms.settled(first["orderId"].as_str().unwrap()).await;
    oms.settled(m1["orderId"].as_str().unwrap()).await;
    oms.quiet().await;
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(stock["reserved"], 3, "{stock}");

    // Concurrent replays of one key create exactly one order.
    let body = order(&[("A", 1)]);
    let posts = (0..20).map(|_| oms.post_order(&body, Some("key-race")));
    let results = futures::future::join_all(posts).await;
    let ids: std::collections::BTreeSet<_> = results
        .iter()
        .map(|(_, v)| v["orderId"].to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(results.iter().filter(|(s, _)| *s == 201).count(), 1);
    assert!(results.iter().all(|(s, _)| *s == 201 || *s == 200));
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_orders_for_fifty_units_sell_exactly_fifty() {
    sell_fifty_to_two_hundred(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_sku_split_into_shards_still_sells_exactly_its_stock() {
    sell_fifty_to_two_hundred(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_are_added_never_merged() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("HOT", "wh-sp", 10).await;
    let (s, v) = oms.put("/inventory/HOT", json!({"shards": 4})).await;
    assert_eq!(
        (s, v["shards"].as_u64(), v["available"].as_u64()),
        (200, Some(4), Some(10)),
        "{v}"
    );
    let (s, v) = oms.put("/inventory/HOT", json!({"shards": 2})).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("SHARDS_CANNOT_MERGE")),
        "{v}"
    );
    for bad in [json!({"shards": 0}), json!({"shards": 33}), json!({})] {
        let (s, v) = oms.put("/inventory/HOT", bad).await;
        assert_eq!(
            (s, v["error"]["field"].as_str()),
            (422, Some("shards")),
            "{v}"
        );
    }
    // Stock set afterwards is spread over the shards; the total is as set.
    oms.stock("HOT", "wh-sp", 7).await;
    let (_, v) = oms.get("/inventory/HOT").await;
    assert_eq!(
        (v["onHand"].as_u64(), v["shards"].as_u64()),
        (Some(7), Some(4)),
        "{v}"
    );
    oms.running.stop().await;
}

/// Two hundred buyers at once for fifty units at two locations, the sku's
/// stock split into `shards`: exactly fifty sold, the rest refused.
async fn sell_fifty_to_two_hundred(shards: u16) {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("HOT", "wh-sp", 30).await;
    oms.stock("HOT", "wh-rio", 20).await;
    if shards > 1 {
        let (s, v) = oms.put("/inventory/HOT", json!({"shards": shards})).await;
        assert_eq!(
            (s, v["shards"].as_u64()),
            (200, Some(u64::from(shards))),
            "{v}"
        );
    }

    let body = order(&[("HOT", 1)]);
    let posts = (0..200).map(|_| oms.post_order(&body, None));
    let placed = futures::future::join_all(posts).await;
    assert!(placed.iter().all(|(s, _)| *s == 201));

    let mut routed = 0;
    let mut rejected = 0;
    for (_, p) in &placed {
        let done = oms.settled(p["orderId"].as_str().unwrap()).await;
        match done["status"].as_str().unwrap() {
            "ROUTED" => routed += 1,
            "REJECTED" => {
                assert_eq!(done["rejection"]["reason"], "INSUFFICIENT_STOCK");
                rejected += 1
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((routed, rejected), (50, 150));
    let (_, stock) = oms.get("/inventory/HOT").await;
    assert_eq!(
        (
            stock["onHand"].as_u64(),
            stock["reserved"].as_u64(),
            stock["available"].as_u64()
        ),
        (Some(50), Some(50), Some(0))
    );
    for l in stock["locations"].as_array().unwrap() {
        assert_eq!(l["reserved"], l["onHand"], "{stock}");
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_cannot_drop_below_what_orders_hold() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    let (_, placed) = oms.post_order(&order(&[("A", 4)]), None).await;
    oms.settled(placed["orderId"].as_str().unwrap()).await;
    let (s, err) = oms.put("/inventory/A/wh-sp", json!({"onHand": 3})).await;
    assert_eq!(s, 409, "{err}");
    assert_eq!(err["error"]["code"], "BELOW_RESERVED");
    oms.stock("A", "wh-sp", 4).await;
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(
        (stock["onHand"].as_u64(), stock["available"].as_u64()),
        (Some(4), Some(0))
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_survive_a_restart_on_the_same_data_dir() {
    let dir = std::env::temp_dir().join(format!("oms-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = oms_local_runtime::Options {
        port: 0,
        backend: oms_local_runtime::Backend::Embedded {
            data_dir: dir.clone(),
            in_memory: false,
        },
        payment_window: None,
        secrets_dir: None,
        limits: Default::default(),
        clock: None,
    };
    let oms = Oms::start_with(options.clone()).await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    let (_, placed) = oms.post_order(&order(&[("A", 1)]), None).await;
    let id = placed["orderId"].as_str().unwrap().to_owned();
    oms.settled(&id).await;
    oms.quiet().await;
    oms.running.stop().await;

    // The store's writer thread lets go of the file when its handles drop.
    let again = Oms::start_with(options).await;
    let (s, v) = again.get(&format!("/orders/{id}")).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ROUTED")));
    again.running.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_without_coordinates_is_located_by_its_postal_code_or_country() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-recife", RECIFE.0, RECIFE.1).await;
    oms.stock("A", "wh-sp", 5).await;
    oms.stock("A", "wh-recife", 5).await;
    let mut body = order(&[("A", 1)]);
    let to = body["shipTo"].as_object_mut().unwrap();
    to.remove("lat");
    to.remove("lon");
    // A CEP in Pernambuco: Recife is nearer than São Paulo.
    to.insert("postalCode".into(), json!("50030-000"));
    let (s, placed) = oms.post_order(&body, None).await;
    assert_eq!(s, 201, "{placed}");
    assert_eq!(placed["status"], "ROUTED", "{placed}");
    assert_eq!(
        placed["allocations"][0]["locationId"], "wh-recife",
        "{placed}"
    );
    assert!(placed["shipTo"]["lat"].is_number(), "{placed}");

    // No postal code: the country's centre.
    body["shipTo"].as_object_mut().unwrap().remove("postalCode");
    let (s, placed) = oms.post_order(&body, None).await;
    assert_eq!(
        (s, placed["status"].as_str()),
        (201, Some("ROUTED")),
        "{placed}"
    );

    // A country the table does not know: a clear 422 naming what to send.
    body["shipTo"]["country"] = json!("ZZ");
    let (s, err) = oms.post_order(&body, None).await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("shipTo.lat")),
        "{err}"
    );
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("send shipTo.lat and shipTo.lon")
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_may_be_given_by_its_address() {
    let oms = Oms::start().await;
    let (s, v) = oms
        .put(
            "/locations/wh-recife",
            json!({"name": "Recife DC", "kind": "warehouse", "country": "BR", "postalCode": "50030-000"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let lat = v["lat"].as_f64().unwrap();
    assert!((lat - RECIFE.0).abs() < 1.0, "{v}");
    for (body, field) in [
        (json!({"name": "x", "kind": "store"}), "lat"),
        (
            json!({"name": "x", "kind": "store", "country": "ZZ"}),
            "lat",
        ),
    ] {
        let (s, v) = oms.put("/locations/st-x", body).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some(field)), "{v}");
    }
    oms.running.stop().await;
}
