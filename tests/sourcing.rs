//! Black-box tests of sourcing: safety stock (per location and network
//! wide) kept back from orders.

mod common;

use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safety_stock_is_kept_back_from_orders_at_a_location_and_across_the_network() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    let (status, view) = oms
        .put(
            "/inventory/A/wh-rio",
            json!({"onHand": 10, "safetyStock": 3}),
        )
        .await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["onHand"].as_u64(), view["available"].as_u64()),
        (Some(10), Some(7))
    );
    assert_eq!(view["locations"][0]["safetyStock"], 3, "{view}");

    let (_, too_many) = oms.post_order(&order(&[("A", 8)]), None).await;
    assert_eq!(too_many["status"], "REJECTED", "{too_many}");
    assert_eq!(too_many["rejection"]["reason"], "INSUFFICIENT_STOCK");
    let (_, fits) = oms.post_order(&order(&[("A", 7)]), None).await;
    assert_eq!(fits["status"], "ROUTED", "{fits}");

    // Only the setting: what is on hand stays, the buffer is released.
    let (_, view) = oms
        .put("/inventory/A/wh-rio", json!({"safetyStock": 0}))
        .await;
    assert_eq!(
        (
            view["onHand"].as_u64(),
            view["reserved"].as_u64(),
            view["available"].as_u64()
        ),
        (Some(10), Some(7), Some(3)),
        "{view}"
    );
    // The network's safety stock for the sku.
    let (status, view) = oms.put("/inventory/A", json!({"safetyStock": 2})).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["available"].as_u64(), view["safetyStock"].as_u64()),
        (Some(1), Some(2))
    );
    let (_, two) = oms.post_order(&order(&[("A", 2)]), None).await;
    assert_eq!(two["status"], "REJECTED", "{two}");
    let (_, one) = oms.post_order(&order(&[("A", 1)]), None).await;
    assert_eq!(one["status"], "ROUTED", "{one}");

    for (body, field) in [
        (json!({}), "onHand"),
        (json!({"safetyStock": -1}), "safetyStock"),
    ] {
        let (status, e) = oms.put("/inventory/A/wh-rio", body).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{e}"
        );
    }
    let (status, e) = oms.put("/inventory/A", json!({})).await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("shards")),
        "{e}"
    );
    oms.running.stop().await;
}
