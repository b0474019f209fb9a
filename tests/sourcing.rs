//! Black-box tests of sourcing: safety stock (per location and network
//! wide) kept back from orders.

mod common;

use common::*;
use oms_domain::access::Role;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_that_cannot_fulfil_loses_the_order_to_another_or_it_is_rejected_and_refunded() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-rio", 5).await;
    oms.stock("A", "wh-sp", 5).await;
    let id = oms.routed_order(&[("A", 2)]).await;
    assert_eq!(oms.pay(&id).await["status"], "READY_TO_SHIP");
    let rejected = json!({"orderId": id, "locationId": "wh-rio", "lines": [{"sku": "A", "quantity": 2}], "reason": "bin empty"});
    oms.put_event("partner.wms", "FulfillmentRejected", rejected.clone())
        .await;
    let again = oms
        .until(&id, "released from wh-sp", |o| {
            o["status"] == "READY_TO_SHIP" && o["allocations"][0]["locationId"] == "wh-sp"
        })
        .await;
    assert_eq!(again["excludedLocations"], json!(["wh-rio"]), "{again}");
    let events: Vec<&str> = again["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert!(
        events.ends_with(&[
            "RerouteRequested",
            "InventoryReserved",
            "OrderRouted",
            "OrderReleased"
        ]),
        "{events:?}"
    );
    let (_, stock) = oms.get("/inventory/A").await;
    let at = |loc: &str| {
        let l = stock["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["locationId"] == loc)
            .unwrap();
        (
            l["onHand"].as_u64().unwrap(),
            l["reserved"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        at("wh-rio"),
        (3, 0),
        "written off where they were not: {stock}"
    );
    assert_eq!(at("wh-sp"), (5, 2), "{stock}");

    // The same fact again changes nothing; then wh-sp cannot either, and
    // nobody else has it: rejected, the payment refunded.
    oms.put_event("partner.wms", "FulfillmentRejected", rejected)
        .await;
    oms.put_event(
        "partner.wms",
        "FulfillmentRejected",
        json!({"orderId": id, "locationId": "wh-sp", "reason": "damaged"}),
    )
    .await;
    let gone = oms.status(&id, "REJECTED").await;
    assert_eq!(gone["payment"]["refunded"], gone["total"], "{gone}");
    assert_eq!(gone["excludedLocations"], json!(["wh-rio", "wh-sp"]));
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(
        (stock["onHand"].as_u64(), stock["reserved"].as_u64()),
        (Some(6), Some(0)),
        "{stock}"
    );
    // A location the order was never at: refused, recorded.
    let other = oms.routed_order(&[("A", 1)]).await;
    oms.put_event(
        "partner.wms",
        "FulfillmentRejected",
        json!({"orderId": other, "locationId": "wh-nowhere", "reason": "?"}),
    )
    .await;
    let refused = oms
        .until(&other, "refusal recorded", |o| {
            o["history"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["refused"] == true)
        })
        .await;
    assert_eq!(refused["status"], "ROUTED");
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_marketplace_submits_orders_on_the_bus_and_gets_each_answered() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 5).await;
    let mut submitted = order(&[("A", 2)]);
    submitted["channel"] = json!("marketplace-x");
    submitted["externalId"] = json!("MX-1");
    oms.put_event("partner.marketplace", "OrderSubmitted", submitted.clone())
        .await;
    // The same submission again (a marketplace retrying), and one that is wrong.
    oms.put_event("partner.marketplace", "OrderSubmitted", submitted.clone())
        .await;
    let mut wrong = submitted.clone();
    wrong["externalId"] = json!("MX-2");
    wrong["lines"][0]["quantity"] = json!(0);
    oms.put_event("partner.marketplace", "OrderSubmitted", wrong)
        .await;
    // Only a marketplace may submit.
    let mut forged = submitted.clone();
    forged["externalId"] = json!("MX-3");
    oms.put_event("partner.wms", "OrderSubmitted", forged).await;
    oms.quiet().await;

    let (_, found) = oms.get("/orders?channel=marketplace-x").await;
    let orders = found["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "placed once: {found}");
    assert_eq!(orders[0]["externalId"], "MX-1");
    assert_eq!(orders[0]["status"], "ROUTED");
    let id = orders[0]["orderId"].as_str().unwrap().to_owned();

    let (_, bus) = oms.get("/_local/bus").await;
    let published = bus["recentlyPublished"].as_array().unwrap();
    let answers: Vec<(&str, &str)> = published
        .iter()
        .filter(|e| matches!(e["type"].as_str(), Some("OrderAccepted" | "OrderRefused")))
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["externalId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        answers,
        [("OrderAccepted", "MX-1"), ("OrderRefused", "MX-2")],
        "{bus}"
    );
    let accepted = published
        .iter()
        .find(|e| e["type"] == "OrderAccepted")
        .unwrap();
    assert_eq!(accepted["orderId"], id.as_str());
    let refused = published
        .iter()
        .find(|e| e["type"] == "OrderRefused")
        .unwrap();
    assert_eq!(
        refused["data"]["errors"][0]["field"], "lines[0].quantity",
        "{refused}"
    );
    oms.running.stop().await;
}

/// A delivery promise before ordering: where it would ship from, when it
/// ships and arrives by each method, at what cost — nothing reserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_names_methods_locations_dates_and_costs_without_reserving() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.location("wh-recife", RECIFE.0, RECIFE.1).await;
    oms.stock("A", "wh-rio", 1).await;
    oms.stock("A", "wh-recife", 5).await;
    // Rio picks by 23:00 UTC and takes a day; Recife by 00:00 (never today).
    let (status, _) = oms
        .put(
            "/locations/wh-rio",
            json!({"name": "Rio", "kind": "warehouse", "lat": RIO.0, "lon": RIO.1, "cutoffHourUtc": 23, "processingDays": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = oms
        .put(
            "/shipping-rates",
            json!({"rates": [{"method": "STANDARD", "prices": {"BRL": 1500}}, {"method": "EXPRESS", "prices": {"BRL": 4000}}],
                   "transit": [{"method": "EXPRESS", "days": 1}, {"method": "STANDARD", "maxKm": 500, "days": 2}, {"method": "STANDARD", "days": 5}]}),
        )
        .await;
    assert_eq!(status, 200);
    let ask = |quantity: u32| {
        json!({"lines": [{"sku": "A", "quantity": quantity}], "currency": "BRL",
               "shipTo": {"country": "BR", "lat": RIO.0, "lon": RIO.1}})
    };
    let customer = oms.token_for(Role::Customer, "c-1", None);
    let (status, one) = oms
        .send_as(
            Some(&customer),
            "POST",
            "/promise",
            Some(&ask(1).to_string()),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{one}");
    let options = one["options"].as_array().unwrap();
    assert_eq!(options.len(), 2, "{one}");
    assert_eq!(
        (
            &options[0]["method"],
            &options[0]["shipFrom"],
            &options[0]["shippingCost"]
        ),
        (&json!("EXPRESS"), &json!(["wh-rio"]), &json!(4000)),
        "fastest first, from the nearest location: {one}"
    );
    let day = |v: &serde_json::Value| {
        oms_domain::time::Timestamp::parse_rfc3339(&format!("{}T00:00:00Z", v.as_str().unwrap()))
            .unwrap()
            .millis()
            / 86_400_000
    };
    let ship = day(&options[0]["shipDate"]);
    assert_eq!(day(&options[0]["deliveryDate"]), ship + 1);
    assert_eq!(
        day(&options[1]["deliveryDate"]),
        ship + 2,
        "STANDARD within 500 km"
    );
    // Three units: only Recife has them, 1,800 km away.
    let (_, three) = oms.post("/promise", ask(3)).await;
    let standard = three["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["method"] == "STANDARD")
        .cloned()
        .unwrap();
    assert_eq!(standard["shipFrom"], json!(["wh-recife"]), "{three}");
    assert_eq!(
        day(&standard["deliveryDate"]) - day(&standard["shipDate"]),
        5
    );
    // More than the network has: no option, the short sku named.
    let (status, none) = oms.post("/promise", ask(7)).await;
    assert_eq!(
        (status, &none["options"], &none["short"]),
        (200, &json!([]), &json!(["A"]))
    );
    // Nothing was reserved.
    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(stock["reserved"], 0, "{stock}");
    let (status, e) = oms
        .post(
            "/promise",
            json!({"lines": [{"sku": "A", "quantity": 0}], "shipTo": {"country": "BR"}}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("lines[0].quantity"))
    );
    oms.running.stop().await;
}

/// `PUT /routing-rules {"strategy": "COST"}`: plans are scored by their
/// packages, distance, borders, capacity and priority; the reason names
/// the runner-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_routing_scores_the_plans_and_explains_the_choice() {
    let oms = Oms::start().await;
    oms.location("wh-recife", RECIFE.0, RECIFE.1).await;
    oms.location("wh-a", RIO.0, RIO.1).await;
    oms.location("wh-b", -22.95, -43.25).await;
    oms.stock("A", "wh-recife", 10).await;
    oms.stock("B", "wh-recife", 10).await;
    oms.stock("A", "wh-a", 10).await;
    oms.stock("B", "wh-b", 10).await;
    let (_, rules) = oms.get("/routing-rules").await;
    assert_eq!(rules["strategy"], "NEAREST", "{rules}");
    // The nearest strategy ships it in one package from Recife.
    let (_, o) = oms.post_order(&order(&[("A", 1), ("B", 1)]), None).await;
    assert_eq!(o["allocations"].as_array().map(Vec::len), Some(2));
    assert!(
        o["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["locationId"] == "wh-recife"),
        "{o}"
    );

    let (status, e) = oms
        .put(
            "/routing-rules",
            json!({"strategy": "COST", "perPackage": -1}),
        )
        .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("perPackage"))
    );
    let (status, rules) = oms.put("/routing-rules", json!({"strategy": "COST"})).await;
    assert_eq!(status, 200, "{rules}");
    assert_eq!(rules["perPackage"], 1500, "defaults filled in: {rules}");
    // Two packages next door cost less than one from 1,900 km away.
    let (_, o) = oms.post_order(&order(&[("A", 1), ("B", 1)]), None).await;
    let mut at: Vec<&str> = o["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["locationId"].as_str().unwrap())
        .collect();
    at.sort();
    assert_eq!(at, ["wh-a", "wh-b"], "{o}");
    let reason = o["routingReason"].as_str().unwrap();
    assert!(
        reason.starts_with("lowest cost of") && reason.contains("runner-up wh-recife"),
        "{reason}"
    );
    // A location past its daily capacity is avoided; a preferred one wins.
    let (status, _) = oms
        .put(
            "/locations/wh-a",
            json!({"name": "A", "kind": "warehouse", "lat": RIO.0, "lon": RIO.1, "dailyCapacity": 0}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, o) = oms.post_order(&order(&[("A", 1)]), None).await;
    assert_eq!(o["allocations"][0]["locationId"], "wh-recife", "{o}");
    // Only operators set the rules.
    let shop = oms.token_for(Role::Storefront, "shop", Some("web"));
    let (status, _) = oms
        .send_as(
            Some(&shop),
            "PUT",
            "/routing-rules",
            Some(r#"{"strategy":"NEAREST"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 403);
    oms.running.stop().await;
}

/// Buy online, pick up in store: reserved and routed at the store only,
/// released to it once paid, set aside and collected as the store says
/// (`partner.store`); not collected in time, it goes back on the shelf.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pickup_order_is_collected_at_its_store_or_goes_back_on_the_shelf() {
    use oms_app::ports::ManualClock;
    use oms_domain::time::Timestamp;
    const T0: u64 = 1_800_000_000_000;
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let oms = Oms::start_with(oms_local_runtime::Options {
        clock: Some(oms_local_runtime::ClockOverride(clock.clone())),
        ..oms_local_runtime::Options::in_memory()
    })
    .await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    let (s, _) = oms
        .put(
            "/locations/st-recife",
            json!({"name": "Recife store", "kind": "store", "lat": RECIFE.0, "lon": RECIFE.1, "ships": false}),
        )
        .await;
    assert_eq!(s, 201);
    oms.stock("A", "wh-rio", 10).await;
    oms.stock("A", "st-recife", 3).await;
    let pickup = |q: u32, at: &str| {
        let mut body = order(&[("A", q)]);
        body["fulfillment"] = json!({"method": "PICKUP", "locationId": at});
        body
    };
    // A store that does not ship: an order shipped to Recife comes from
    // Rio, however near the store is.
    let mut to_recife = order(&[("A", 1)]);
    to_recife["shipTo"]["lat"] = json!(RECIFE.0);
    to_recife["shipTo"]["lon"] = json!(RECIFE.1);
    let (_, o) = oms.post_order(&to_recife, None).await;
    assert_eq!(o["allocations"][0]["locationId"], "wh-rio", "{o}");
    oms.send(
        "POST",
        &format!("/orders/{}/cancel", o["orderId"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    // Not a store, or no store named: refused.
    let (s, e) = oms.post_order(&pickup(1, "wh-rio"), None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("NOT_A_PICKUP_LOCATION")),
        "{e}"
    );
    let mut nameless = order(&[("A", 1)]);
    nameless["fulfillment"] = json!({"method": "PICKUP"});
    let (s, e) = oms.post_order(&nameless, None).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (422, Some("fulfillment.locationId"))
    );
    // More than the store has: rejected, though the warehouse next to the
    // customer has plenty.
    let (_, o) = oms.post_order(&pickup(4, "st-recife"), None).await;
    assert_eq!(o["status"], "REJECTED", "{o}");
    assert!(
        o["rejection"]["detail"]
            .as_str()
            .unwrap()
            .contains("st-recife"),
        "{o}"
    );

    // Reserved at the store, released to it once paid, set aside, collected.
    let (s, o) = oms.post_order(&pickup(2, "st-recife"), None).await;
    assert_eq!(s, 201, "{o}");
    let id = o["orderId"].as_str().unwrap().to_owned();
    assert_eq!(o["status"], "ROUTED", "{o}");
    assert_eq!(
        o["fulfillment"],
        json!({"method": "PICKUP", "locationId": "st-recife"})
    );
    assert_eq!(
        o["allocations"],
        json!([{"sku": "A", "locationId": "st-recife", "quantity": 2}])
    );
    oms.pay(&id).await;
    oms.status(&id, "READY_TO_SHIP").await;
    let at_store = json!({"orderId": id, "locationId": "st-recife"});
    // Only a store says so.
    oms.put_event("partner.wms", "ReadyForPickup", at_store.clone())
        .await;
    oms.quiet().await;
    assert_eq!(
        oms.get(&format!("/orders/{id}")).await.1["status"],
        "READY_TO_SHIP"
    );
    oms.put_event("partner.store", "ReadyForPickup", at_store.clone())
        .await;
    let o = oms.status(&id, "READY_FOR_PICKUP").await;
    assert!(o["readyForPickupAt"].is_string(), "{o}");
    // The customer is told (the notifications function, a moment later).
    oms.quiet().await;
    let (_, sent) = oms.get("/_local/notifications").await;
    assert!(sent.to_string().contains("ready for pickup"), "{sent}");
    oms.put_event("partner.store", "PickedUp", at_store.clone())
        .await;
    let o = oms.status(&id, "PICKED_UP").await;
    assert_eq!(o["shipments"][0]["shipmentId"], "pickup-st-recife", "{o}");
    let (_, a) = oms.get("/inventory/A").await;
    let store = a["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locationId"] == "st-recife")
        .unwrap()
        .clone();
    assert_eq!(
        (store["onHand"].as_u64(), store["reserved"].as_u64()),
        (Some(1), Some(0)),
        "{a}"
    );
    // Invoiced like a shipment.
    let (_, docs) = oms.get(&format!("/orders/{id}/invoices")).await;
    assert_eq!(
        docs["documents"][0]["number"], "INV-st-recife-000001",
        "{docs}"
    );

    // Set aside and never collected: after OMS_PICKUP_HOLD_SECS (3 days)
    // the sweep cancels it, the unit goes back, the money is refunded.
    let (_, o) = oms.post_order(&pickup(1, "st-recife"), None).await;
    let late = o["orderId"].as_str().unwrap().to_owned();
    oms.pay(&late).await;
    oms.status(&late, "READY_TO_SHIP").await;
    oms.put_event(
        "partner.store",
        "ReadyForPickup",
        json!({"orderId": late, "locationId": "st-recife"}),
    )
    .await;
    oms.status(&late, "READY_FOR_PICKUP").await;
    let deps = oms.running.deps.clone();
    clock.set(Timestamp::from_millis(T0 + 2 * 86_400_000));
    let swept = oms_app::services::sla::sweep(&deps).await.unwrap();
    assert_eq!(swept.expired, 0, "not yet");
    clock.set(Timestamp::from_millis(T0 + 3 * 86_400_000 + 1000));
    let swept = oms_app::services::sla::sweep(&deps).await.unwrap();
    assert_eq!(swept.expired, 1, "{swept:?}");
    let o = oms.status(&late, "CANCELLED").await;
    assert_eq!(
        (o["cancelCode"].as_str(), o["payment"]["refunded"].as_i64()),
        (Some("NOT_COLLECTED"), Some(1990)),
        "{o}"
    );
    let (_, a) = oms.get("/inventory/A").await;
    assert_eq!(a["reserved"], 0, "{a}");
    oms.running.stop().await;
}

/// Supply on its way serves orders the stock cannot: `BACKORDERED` with
/// the expected date, filled in placement order as goods are received; a
/// backorder never takes what another order holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backorders_wait_for_incoming_supply_and_are_filled_in_placement_order() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 2).await;
    let at = |sku: &str| {
        let oms = &oms;
        let sku = sku.to_owned();
        async move {
            let (_, v) = oms.get(&format!("/inventory/{sku}")).await;
            v["locations"][0].clone()
        }
    };
    // No backorders taken yet: short is rejected.
    let (_, o) = oms.post_order(&order(&[("A", 3)]), None).await;
    assert_eq!(o["status"], "REJECTED", "{o}");
    let (s, v) = oms
        .put("/inventory/A/wh-rio", json!({"backorder": true}))
        .await;
    assert_eq!(s, 200, "{v}");
    let po = json!({"quantity": 5, "expectedAt": "2026-12-10T00:00:00Z", "reference": "PO-1"});
    let (s, v) = oms.post("/inventory/A/wh-rio/incoming", po.clone()).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["locations"][0]["incoming"].as_u64(),
            v["locations"][0]["backorder"].as_bool()
        ),
        (Some(5), Some(true)),
        "{v}"
    );
    // The same announcement again changes nothing; other supply under the
    // same reference is refused.
    assert_eq!(
        oms.post("/inventory/A/wh-rio/incoming", po).await.1["locations"][0]["incoming"],
        5
    );
    let (s, e) = oms
        .post(
            "/inventory/A/wh-rio/incoming",
            json!({"quantity": 9, "expectedAt": "2026-12-10T00:00:00Z", "reference": "PO-1"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("REFERENCE_TAKEN"))
    );
    let (s, e) = oms
        .post(
            "/inventory/A/wh-rio/incoming",
            json!({"quantity": 0, "expectedAt": "x", "reference": "R"}),
        )
        .await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("quantity")));

    // 2 on hand taken, 1 claimed of the 5 coming.
    let (_, first) = oms.post_order(&order(&[("A", 3)]), None).await;
    assert_eq!(first["status"], "BACKORDERED", "{first}");
    assert_eq!(
        first["allocations"],
        json!([{"sku": "A", "locationId": "wh-rio", "quantity": 2}])
    );
    assert_eq!(
        first["backorder"],
        json!([{"sku": "A", "locationId": "wh-rio", "quantity": 1, "expectedAt": "2026-12-10T00:00:00.000Z"}])
    );
    let first_id = first["orderId"].as_str().unwrap().to_owned();
    // Nothing on hand: all 4 claimed of the 4 left coming.
    let mut second = order(&[("A", 4)]);
    second["customer"]["id"] = json!("c-2");
    let (_, second) = oms.post_order(&second, None).await;
    assert_eq!(second["status"], "BACKORDERED", "{second}");
    let second_id = second["orderId"].as_str().unwrap().to_owned();
    // Everything coming is promised: the next order is rejected.
    let (_, third) = oms.post_order(&order(&[("A", 1)]), None).await;
    assert_eq!(third["status"], "REJECTED", "{third}");
    let a = at("A").await;
    assert_eq!(
        (
            a["onHand"].as_u64(),
            a["reserved"].as_u64(),
            a["incoming"].as_u64(),
            a["backordered"].as_u64()
        ),
        (Some(2), Some(2), Some(5), Some(5)),
        "{a}"
    );
    oms.pay(&first_id).await;
    assert_eq!(
        oms.get(&format!("/orders/{first_id}")).await.1["status"],
        "BACKORDERED"
    );

    // 3 arrive: the first order's 1 is filled and it goes on (paid:
    // released); the second waits for 4, 2 held for it.
    let (s, r) = oms
        .post(
            "/inventory/A/wh-rio/receipts",
            json!({"quantity": 3, "reference": "PO-1"}),
        )
        .await;
    assert_eq!((s, r["backordersFilled"].as_u64()), (200, Some(1)), "{r}");
    let o = oms.status(&first_id, "READY_TO_SHIP").await;
    assert_eq!(o["allocations"].as_array().map(Vec::len), Some(2), "{o}");
    assert_eq!(
        oms.get(&format!("/orders/{second_id}")).await.1["status"],
        "BACKORDERED"
    );
    let a = at("A").await;
    assert_eq!(
        (
            a["onHand"].as_u64(),
            a["available"].as_u64(),
            a["incoming"].as_u64()
        ),
        (Some(5), Some(0), Some(2)),
        "received units are the backorders', not anyone's: {a}"
    );
    let (_, fourth) = oms.post_order(&order(&[("A", 1)]), None).await;
    assert_eq!(fourth["status"], "REJECTED", "{fourth}");
    // The same receipt again moves nothing.
    let (_, r) = oms
        .post(
            "/inventory/A/wh-rio/receipts",
            json!({"quantity": 3, "reference": "PO-1"}),
        )
        .await;
    assert_eq!(r["backordersFilled"], 0);
    assert_eq!(at("A").await["onHand"], 5);
    // The rest arrives: the second is filled and routed.
    let (_, r) = oms
        .post(
            "/inventory/A/wh-rio/receipts",
            json!({"quantity": 2, "reference": "PO-2"}),
        )
        .await;
    assert_eq!(r["backordersFilled"], 1, "{r}");
    let o = oms.status(&second_id, "ROUTED").await;
    assert_eq!(
        o["allocations"],
        json!([{"sku": "A", "locationId": "wh-rio", "quantity": 4}]),
        "{o}"
    );
    let a = at("A").await;
    assert_eq!(
        (
            a["onHand"].as_u64(),
            a["reserved"].as_u64(),
            a["incoming"].as_u64(),
            a["backordered"].as_u64()
        ),
        (Some(7), Some(7), None, None),
        "nothing coming, nothing waiting (left out): {a}"
    );

    // Cancelled while waiting: its claim goes back to the supply coming.
    oms.post(
        "/inventory/A/wh-rio/incoming",
        json!({"quantity": 2, "expectedAt": "2026-12-20T00:00:00Z", "reference": "PO-3"}),
    )
    .await;
    let (_, waiting) = oms.post_order(&order(&[("A", 2)]), None).await;
    assert_eq!(waiting["status"], "BACKORDERED", "{waiting}");
    let id = waiting["orderId"].as_str().unwrap();
    let (s, o) = oms
        .send("POST", &format!("/orders/{id}/cancel"), None, &[])
        .await;
    assert_eq!((s, o["status"].as_str()), (200, Some("CANCELLED")), "{o}");
    let a = at("A").await;
    assert!(a["backordered"].is_null(), "{a}");
    assert_eq!(a["incoming"], 2, "{a}");

    // Preorders: taken until their release date only.
    oms.stock("P", "wh-rio", 0).await;
    oms.post(
        "/inventory/P/wh-rio/incoming",
        json!({"quantity": 10, "expectedAt": "2099-01-01T00:00:00Z", "reference": "LAUNCH"}),
    )
    .await;
    let (_, o) = oms.post_order(&order(&[("P", 1)]), None).await;
    assert_eq!(o["status"], "REJECTED", "not open for preorders: {o}");
    oms.put(
        "/inventory/P/wh-rio",
        json!({"preorderUntil": "2098-12-31T00:00:00Z"}),
    )
    .await;
    let (_, o) = oms.post_order(&order(&[("P", 1)]), None).await;
    assert_eq!(o["status"], "BACKORDERED", "{o}");
    oms.put(
        "/inventory/P/wh-rio",
        json!({"preorderUntil": "2020-01-01T00:00:00Z"}),
    )
    .await;
    let (_, o) = oms.post_order(&order(&[("P", 1)]), None).await;
    assert_eq!(o["status"], "REJECTED", "preorders closed: {o}");
    oms.running.stop().await;
}

/// A reorder point set on a location raises `LowStock` when an order
/// crosses it; `GET /replenishment` lists what to reorder, from a point set
/// or from sales velocity over the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn low_stock_is_raised_once_per_crossing_and_replenishment_suggests_what_to_reorder() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 10).await;
    oms.stock("B", "wh-rio", 4).await;
    let (s, v) = oms
        .put(
            "/inventory/A/wh-rio",
            json!({"reorderPoint": 6, "leadTimeDays": 5}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["locations"][0]["reorderPoint"].as_u64(),
            v["locations"][0]["leadTimeDays"].as_u64()
        ),
        (Some(6), Some(5)),
        "{v}"
    );
    let low = || async {
        let (_, bus) = oms.get("/_local/bus").await;
        bus["recentlyPublished"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "LowStock")
            .cloned()
            .collect::<Vec<_>>()
    };
    oms.routed_order(&[("A", 3)]).await; // 10 → 7: above the point
    oms.quiet().await;
    assert!(low().await.is_empty());
    oms.routed_order(&[("A", 2)]).await; // 7 → 5: crosses it
    oms.routed_order(&[("A", 1)]).await; // 5 → 4: already below
    oms.quiet().await;
    let raised = low().await;
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(
        raised[0]["data"],
        json!({"sku": "A", "locationId": "wh-rio", "available": 5, "reorderPoint": 6})
    );

    // Reorder A (4 available ≤ its point 6) up to two lead times of sales
    // and past the point; B sold 0 and has no point: nothing to say.
    let (s, list) = oms
        .get("/replenishment?locationId=wh-rio&windowDays=7")
        .await;
    assert_eq!(s, 200, "{list}");
    let suggestions = list["suggestions"].as_array().unwrap();
    assert_eq!(suggestions.len(), 1, "{list}");
    let a = &suggestions[0];
    assert_eq!(
        (
            a["sku"].as_str(),
            a["available"].as_u64(),
            a["reorderPoint"].as_u64(),
            a["reorderPointFrom"].as_str()
        ),
        (Some("A"), Some(4), Some(6), Some("SET")),
        "{a}"
    );
    // 6 sold in the 7-day window: 0.86 a day; up to ⌈0.857 × 10⌉ = 9.
    assert_eq!(
        (
            a["velocityPerDay"].as_f64(),
            a["suggestedQuantity"].as_u64()
        ),
        (Some(0.86), Some(5)),
        "{a}"
    );
    // Supply on its way counts: nothing to reorder once enough is coming.
    oms.post(
        "/inventory/A/wh-rio/incoming",
        json!({"quantity": 5, "expectedAt": "2026-12-10T00:00:00Z", "reference": "PO-A"}),
    )
    .await;
    let (_, list) = oms.get("/replenishment?locationId=wh-rio").await;
    assert_eq!(list["suggestions"], json!([]), "{list}");
    let (s, e) = oms.get("/replenishment").await;
    assert_eq!((s, e["error"]["field"].as_str()), (422, Some("locationId")));
    let (s, _) = oms
        .get("/replenishment?locationId=wh-rio&windowDays=0")
        .await;
    assert_eq!(s, 422);
    oms.running.stop().await;
}

/// A promise chosen at checkout rides with the order: intake checks it can
/// still be kept, and the SLA sweep holds the order to its date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promise_chosen_at_checkout_is_kept_and_the_sla_holds_the_order_to_it() {
    use oms_app::ports::ManualClock;
    use oms_domain::time::Timestamp;
    const T0: u64 = 1_800_000_000_000; // 2027-01-15T08:00:00Z, before the cut-off
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let oms = Oms::start_with(oms_local_runtime::Options {
        clock: Some(oms_local_runtime::ClockOverride(clock.clone())),
        ..oms_local_runtime::Options::in_memory()
    })
    .await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 10).await;
    let (s, p) = oms
        .post(
            "/promise",
            json!({"lines": [{"sku": "A", "quantity": 1}], "shipTo": {"country": "BR", "lat": RIO.0, "lon": RIO.1}}),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let date = p["options"][0]["deliveryDate"].as_str().unwrap().to_owned();
    assert_eq!(p["options"][0]["method"], "STANDARD");

    // Sooner than can be kept now: refused, naming the earliest.
    let mut body = order(&[("A", 1)]);
    body["promise"] = json!({"method": "STANDARD", "deliveryDate": "2027-01-15"});
    let (s, e) = oms.post_order(&body, None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str(), e["error"]["field"].as_str()),
        (422, Some("PROMISE_EXPIRED"), Some("promise.deliveryDate")),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains(&date),
        "{e}"
    );
    body["promise"] = json!({"method": "DRONE", "deliveryDate": date});
    let (s, e) = oms.post_order(&body, None).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("PROMISE_UNAVAILABLE")),
        "{e}"
    );

    // The option offered: kept, and dated.
    body["promise"] = json!({"method": "standard", "deliveryDate": date});
    let (s, o) = oms.post_order(&body, None).await;
    assert_eq!(s, 201, "{o}");
    let id = o["orderId"].as_str().unwrap().to_owned();
    let due = format!("{date}T23:59:59.999Z");
    assert_eq!(o["promisedDeliveryAt"], due, "{o}");
    assert_eq!(o["promise"]["method"], "STANDARD");
    oms.pay(&id).await;
    oms.ship(&id, "S1", "wh-sp", "SHIPPED", None).await;
    oms.status(&id, "SHIPPED").await;

    // At 75 % of the time to the promised date it is at risk; past the
    // date, breached — whatever the service levels from placement say.
    let deps = oms.running.deps.clone();
    let due_ms = Timestamp::parse_rfc3339(&due).unwrap().millis();
    let risk_ms = T0 + (due_ms - T0) * 75 / 100;
    clock.set(Timestamp::from_millis(risk_ms - 60_000));
    oms_app::services::sla::sweep(&deps).await.unwrap();
    assert!(oms.get(&format!("/orders/{id}")).await.1["slaAlert"].is_null());
    clock.set(Timestamp::from_millis(risk_ms + 60_000));
    oms_app::services::sla::sweep(&deps).await.unwrap();
    let o = oms.get(&format!("/orders/{id}")).await.1;
    assert_eq!(
        (
            o["slaAlert"]["step"].as_str(),
            o["slaAlert"]["breached"].as_bool(),
            o["slaAlert"]["dueAt"].as_str()
        ),
        (Some("DELIVER"), Some(false), Some(due.as_str())),
        "{o}"
    );
    clock.set(Timestamp::from_millis(due_ms + 60_000));
    oms_app::services::sla::sweep(&deps).await.unwrap();
    let o = oms.get(&format!("/orders/{id}")).await.1;
    assert_eq!(o["slaAlert"]["breached"], true, "{o}");
    let (_, late) = oms.get("/orders?atRisk=true").await;
    assert_eq!(late["orders"][0]["orderId"], id.as_str(), "{late}");
    oms.running.stop().await;
}
