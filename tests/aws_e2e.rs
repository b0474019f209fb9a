//! End to end on the AWS emulator: the HTTP front, DynamoDB, EventBridge
//! rules delivering to SQS, and the pollers standing in for Lambda's event
//! source mappings — all through the real AWS SDK.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_reach_routed_through_eventbridge_sqs_and_dynamodb() {
    let Some((oms, _)) = Oms::start_on_emulator("happy").await else {
        return;
    };
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    oms.stock("B", "wh-rio", 5).await;
    let (s, placed) = oms
        .post_order(&order(&[("A", 2), ("B", 1)]), Some("aws-key-1"))
        .await;
    assert_eq!(s, 201, "{placed}");
    let (s, again) = oms
        .post_order(&order(&[("A", 2), ("B", 1)]), Some("aws-key-1"))
        .await;
    assert_eq!((s, &again["orderId"]), (200, &placed["orderId"]));

    let routed = oms.settled(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(routed["status"], "ROUTED", "{routed}");
    assert_eq!(
        routed["allocations"],
        json!([{"sku": "A", "locationId": "wh-sp", "quantity": 2}, {"sku": "B", "locationId": "wh-rio", "quantity": 1}])
    );
    let (_, a) = oms.get("/inventory/A").await;
    assert_eq!(
        (a["reserved"].as_u64(), a["available"].as_u64()),
        (Some(2), Some(3)),
        "{a}"
    );
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_orders_for_fifty_units_reserve_exactly_fifty_on_dynamodb() {
    let Some((oms, _)) = Oms::start_on_emulator("rush").await else {
        return;
    };
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("HOT", "wh-sp", 25).await;
    oms.stock("HOT", "wh-rio", 25).await;
    let body = order(&[("HOT", 1)]);
    let placed = futures::future::join_all((0..200).map(|_| oms.post_order(&body, None))).await;
    assert!(
        placed.iter().all(|(s, _)| *s == 201),
        "{:?}",
        placed.iter().find(|(s, _)| *s != 201)
    );
    let mut counts = std::collections::BTreeMap::new();
    for (_, p) in &placed {
        let done = oms.settled(p["orderId"].as_str().unwrap()).await;
        *counts
            .entry(done["status"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(counts.get("ROUTED"), Some(&50), "{counts:?}");
    assert_eq!(counts.get("REJECTED"), Some(&150), "{counts:?}");
    let (_, stock) = oms.get("/inventory/HOT").await;
    assert_eq!(
        (stock["reserved"].as_u64(), stock["available"].as_u64()),
        (Some(50), Some(0)),
        "{stock}"
    );
    for l in stock["locations"].as_array().unwrap() {
        assert_eq!(l["reserved"], l["onHand"], "{stock}");
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_lands_in_the_dead_letter_queue_without_blocking_others() {
    let Some((oms, names)) = Oms::start_on_emulator("poison").await else {
        return;
    };
    let sdk = oms_aws::env::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let url = |name: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_url()
                .queue_name(name)
                .send()
                .await
                .unwrap()
                .queue_url
                .unwrap()
        }
    };
    let queue = url(names.queue("reservation")).await;
    let dlq = url(names.dead_letter_queue("reservation")).await;
    sqs.send_message()
        .queue_url(&queue)
        .message_body("this is not an event")
        .send()
        .await
        .unwrap();

    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    let (_, placed) = oms.post_order(&order(&[("A", 1)]), None).await;
    let done = oms.settled(placed["orderId"].as_str().unwrap()).await;
    assert_eq!(done["status"], "ROUTED", "{done}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        let got = sqs
            .receive_message()
            .queue_url(&dlq)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(m) = got.messages.unwrap_or_default().into_iter().next() {
            break m.body.unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "the poison message never reached the dead-letter queue"
        );
    };
    assert_eq!(body, "this is not an event");
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_is_idempotent_and_matches_the_wiring() {
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    let Some((oms, names)) = Oms::start_on_emulator("provision").await else {
        return;
    };
    let sdk = oms_aws::env::sdk_config().await;
    // A second run changes nothing and does not fail.
    oms_aws::provision::provision(&sdk, &names)
        .await
        .expect("provisioning twice");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    for s in oms_app::wiring::SUBSCRIPTIONS {
        let url = sqs
            .get_queue_url()
            .queue_name(names.queue(s.queue))
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(Q::All)
            .send()
            .await
            .unwrap();
        let attrs = attrs.attributes.unwrap();
        assert_eq!(
            attrs[&Q::VisibilityTimeout],
            oms_app::wiring::VISIBILITY_TIMEOUT_SECS.to_string()
        );
        let redrive: serde_json::Value = serde_json::from_str(&attrs[&Q::RedrivePolicy]).unwrap();
        assert_eq!(
            redrive["maxReceiveCount"].to_string().trim_matches('"'),
            oms_app::wiring::MAX_RECEIVES.to_string()
        );
        assert!(
            redrive["deadLetterTargetArn"]
                .as_str()
                .unwrap()
                .ends_with(&names.dead_letter_queue(s.queue))
        );
        let rule = events
            .describe_rule()
            .name(names.queue(s.queue))
            .event_bus_name(&names.bus)
            .send()
            .await
            .unwrap();
        let pattern: serde_json::Value =
            serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
        assert_eq!(pattern, oms_aws::provision::event_pattern(s));
        let targets = events
            .list_targets_by_rule()
            .rule(names.queue(s.queue))
            .event_bus_name(&names.bus)
            .send()
            .await
            .unwrap();
        let arns: Vec<_> = targets
            .targets()
            .iter()
            .map(|t| t.arn().to_owned())
            .collect();
        assert_eq!(arns.len(), 1);
        assert!(
            arns[0].ends_with(&format!(":{}", names.queue(s.queue))),
            "{arns:?}"
        );
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_runs_on_the_emulator_delivery_cancellation_and_return() {
    let Some((oms, _)) = Oms::start_on_emulator("life").await else {
        return;
    };
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 10).await;

    // Placement to delivery, with partner events through EventBridge.
    let id = oms.routed_order(&[("A", 2)]).await;
    assert_eq!(oms.pay(&id).await["status"], "READY_TO_SHIP");
    oms.ship(&id, "S1", "wh-sp", "SHIPPED", None).await;
    oms.status(&id, "SHIPPED").await;
    oms.ship(&id, "S1", "wh-sp", "DELIVERED", None).await;
    oms.status(&id, "DELIVERED").await;

    // A partial return with restock and one refund.
    let back = oms.return_received(&id, "A", 1).await;
    assert_eq!(back["payment"]["refunded"], 1990);
    // The shipment's invoice and the refund's credit note, numbered in the
    // location's series on DynamoDB.
    let (s, docs) = oms.get(&format!("/orders/{id}/invoices")).await;
    assert_eq!(s, 200, "{docs}");
    let numbers: Vec<&str> = docs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["number"].as_str().unwrap())
        .collect();
    assert_eq!(numbers, ["INV-wh-sp-000001", "CN-wh-sp-000001"], "{docs}");
    let (s, invoice) = oms.get("/invoices/INV-wh-sp-000001").await;
    assert_eq!((s, &invoice["total"]), (200, &json!(3980)), "{invoice}");

    // Cancellation after release, accepted by the warehouse: stock back, refund.
    // First edited from 2 to 3: its 2 given back and 3 taken in one
    // transaction (one update of the stock item, its floor the net take).
    let other = oms.routed_order(&[("A", 2)]).await;
    let edit = json!({"lines": [{"sku": "A", "quantity": 3}]}).to_string();
    let (s, edited) = oms
        .send("PATCH", &format!("/orders/{other}"), Some(&edit), &[])
        .await;
    assert_eq!((s, &edited["total"]), (200, &json!(5970)), "{edited}");
    assert_eq!(oms.get("/inventory/A").await.1["reserved"], 3);
    oms.pay(&other).await;
    assert_eq!(
        oms.send("POST", &format!("/orders/{other}/cancel"), None, &[])
            .await
            .0,
        202
    );
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": other, "accepted": true}),
    )
    .await;
    let cancelled = oms.status(&other, "CANCELLED").await;
    assert_eq!(cancelled["payment"]["refunded"], cancelled["total"]);

    let (_, stock) = oms.get("/inventory/A").await;
    // 10 − 2 shipped + 1 restocked; nothing reserved.
    assert_eq!(
        (stock["onHand"].as_u64(), stock["reserved"].as_u64()),
        (Some(9), Some(0)),
        "{stock}"
    );

    // Search from the table's indexes; KPIs from the sums the relay adds
    // from the stream (both a moment behind).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (found, kpis) = loop {
        let (s, found) = oms.get("/orders?customerId=c-1").await;
        assert_eq!(s, 200, "{found}");
        let (s, kpis) = oms.get("/kpis").await;
        assert_eq!(s, 200, "{kpis}");
        let listed = found["orders"].as_array().map_or(0, Vec::len);
        if (listed == 2 && kpis["statuses"]["CANCELLED"] == 1 && kpis["refunds"]["BRL"] == 7960)
            || std::time::Instant::now() > deadline
        {
            break (found, kpis);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let ids: Vec<&str> = found["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["orderId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other.as_str(), id.as_str()], "newest first: {found}");
    assert_eq!(kpis["orders"], 2, "{kpis}");
    assert_eq!(kpis["cancellationRate"], 0.5, "{kpis}");
    assert_eq!(
        kpis["revenue"],
        json!({"BRL": 1990}),
        "3980 less 1990 refunded: {kpis}"
    );
    assert_eq!(kpis["refunds"], json!({"BRL": 7960}), "{kpis}");
    assert_eq!(kpis["returnRate"], 1.0, "{kpis}");
    oms.running.stop().await;
}
