//! The order after routing: payment, shipment, cancellation, returns and
//! refunds, notifications — driven through the API and partner events put
//! on the embedded bus with the EventBridge `PutEvents` API.

mod common;

use common::*;
use oms_domain::partner::PartnerKind;
use serde_json::{Value, json};
use std::time::Duration;

async fn stocked() -> Oms {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-sp", 10).await;
    oms.stock("B", "wh-rio", 10).await;
    oms
}

async fn stock_of(oms: &Oms, sku: &str, loc: &str) -> (u64, u64, u64) {
    let (_, v) = oms.get(&format!("/inventory/{sku}")).await;
    let l = v["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["locationId"] == loc)
        .cloned()
        .unwrap_or(json!({}));
    (
        l["onHand"].as_u64().unwrap_or(0),
        l["reserved"].as_u64().unwrap_or(0),
        v["available"].as_u64().unwrap_or(0),
    )
}

fn refused(order: &Value) -> Vec<Value> {
    order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["refused"] == true)
        .cloned()
        .collect()
}

fn templates(oms: &Oms, order_id: &str) -> Vec<String> {
    oms.running
        .notifications
        .sent()
        .into_iter()
        .filter(|m| m.order_id.as_str() == order_id)
        .map(|m| m.template_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_goes_from_placement_to_delivery_with_partial_shipments() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 2), ("B", 1)]).await;
    let paid = oms.pay(&id).await;
    assert_eq!(paid["status"], "READY_TO_SHIP");

    // The São Paulo warehouse ships one unit of A first, then the rest.
    oms.ship(
        &id,
        "S1",
        "wh-sp",
        "PICKED",
        Some(json!([{"sku": "A", "quantity": 1}])),
    )
    .await;
    // SQS keeps no order: wait, as a warehouse would, for PICKED to land.
    oms.until(&id, "picked", |v| v["shipments"][0]["status"] == "PICKED")
        .await;
    oms.ship(&id, "S1", "wh-sp", "SHIPPED", None).await;
    let partial = oms.status(&id, "PARTIALLY_SHIPPED").await;
    assert_eq!(partial["shipments"][0]["trackingNumber"], "BRS1");
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (9, 1, 8));
    oms.ship(&id, "S2", "wh-sp", "SHIPPED", None).await;
    oms.ship(&id, "S3", "wh-rio", "SHIPPED", None).await;
    oms.status(&id, "SHIPPED").await;
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (8, 0, 8));
    assert_eq!(stock_of(&oms, "B", "wh-rio").await, (9, 0, 9));
    for s in ["S1", "S2"] {
        oms.ship(&id, s, "wh-sp", "DELIVERED", None).await;
    }
    oms.ship(&id, "S3", "wh-rio", "DELIVERED", None).await;
    let done = oms.status(&id, "DELIVERED").await;
    let tos: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert!(
        tos.starts_with(&["PLACED", "RESERVED", "ROUTED", "ROUTED", "READY_TO_SHIP"]),
        "{tos:?}"
    );
    assert_eq!(tos.last(), Some(&"DELIVERED"));
    oms.quiet().await;
    let sent = templates(&oms, &id);
    assert_eq!(
        sent.iter().filter(|t| *t == "order-shipped").count(),
        3,
        "{sent:?}"
    );
    assert!(
        sent.contains(&"order-placed".to_owned()) && sent.contains(&"order-delivered".to_owned()),
        "{sent:?}"
    );
    let shipped = oms
        .running
        .notifications
        .sent()
        .into_iter()
        .find(|m| m.template_id == "order-shipped")
        .unwrap();
    assert!(
        shipped.body.contains("Correios") && shipped.body.contains("BRS1"),
        "{}",
        shipped.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_before_release_gives_stock_back_and_refunds_the_capture() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 3)]).await;
    // A payment that does not match puts the order on hold, not paid.
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "paymentId": "p-1", "amount": 1, "currency": "BRL"}),
    )
    .await;
    let held = oms.status(&id, "ON_HOLD").await;
    assert!(
        held["holdReason"].as_str().unwrap().contains("totals"),
        "{held}"
    );
    let (s, cancelled) = oms
        .send(
            "POST",
            &format!("/orders/{id}/cancel"),
            Some(r#"{"reason": "customer asked"}"#),
            &[],
        )
        .await;
    assert_eq!(
        (s, cancelled["status"].as_str()),
        (200, Some("CANCELLED")),
        "{cancelled}"
    );
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (10, 0, 10));
    // Cancelling again is harmless.
    let (s, again) = oms
        .send("POST", &format!("/orders/{id}/cancel"), None, &[])
        .await;
    assert_eq!((s, again["status"].as_str()), (200, Some("CANCELLED")));

    // A paid order cancelled before release is refunded in full.
    let id = oms.routed_order(&[("A", 1)]).await;
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "paymentId": "p-2", "amount": 1, "currency": "BRL"}),
    )
    .await;
    oms.status(&id, "ON_HOLD").await;
    let (_, c) = oms
        .send("POST", &format!("/orders/{id}/cancel"), None, &[])
        .await;
    assert_eq!(
        c["payment"]["refunded"], 1,
        "the part paid is captured, and refunded when the order is cancelled: no money stranded"
    );

    let paid_id = oms.routed_order(&[("A", 1)]).await;
    let (_, order) = oms.get(&format!("/orders/{paid_id}")).await;
    // Pay while routed: released to the warehouse; then cancel → the warehouse is asked.
    oms.pay(&paid_id).await;
    let (s, asked) = oms
        .send("POST", &format!("/orders/{paid_id}/cancel"), None, &[])
        .await;
    assert_eq!(
        (s, asked["status"].as_str()),
        (202, Some("CANCEL_REQUESTED"))
    );
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": paid_id, "accepted": true}),
    )
    .await;
    let done = oms.status(&paid_id, "CANCELLED").await;
    assert_eq!(done["payment"]["refunded"], order["total"]);
    assert_eq!(done["payment"]["captured"], order["total"]);
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (10, 0, 10));
    oms.quiet().await;
    let sent = templates(&oms, &paid_id);
    assert!(
        sent.contains(&"order-cancelled".to_owned()) && sent.contains(&"refund-issued".to_owned()),
        "{sent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warehouse_can_refuse_a_cancellation_and_shipped_orders_cannot_be_cancelled() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 1)]).await;
    oms.pay(&id).await;
    assert_eq!(
        oms.send("POST", &format!("/orders/{id}/cancel"), None, &[])
            .await
            .0,
        202
    );
    oms.put_event(
        "partner.wms",
        "CancellationResponse",
        json!({"orderId": id, "accepted": false, "reason": "already packed"}),
    )
    .await;
    let back = oms.status(&id, "READY_TO_SHIP").await;
    assert!(
        back["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["event"] == "CancellationRejected")
    );
    oms.ship(&id, "S1", "wh-sp", "SHIPPED", None).await;
    oms.status(&id, "SHIPPED").await;
    let (s, err) = oms
        .send("POST", &format!("/orders/{id}/cancel"), None, &[])
        .await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (409, Some("ALREADY_SHIPPED")),
        "{err}"
    );
    let (s, _) = oms.send("POST", "/orders/ord_nope/cancel", None, &[]).await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_return_restocks_resellable_units_and_refunds_once() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 2), ("B", 1)]).await;
    let (_, before) = oms.get(&format!("/orders/{id}")).await;
    // Not delivered yet: nothing to return.
    oms.pay(&id).await;
    let body = json!({"lines": [{"sku": "A", "quantity": 2}], "reason": "too small"}).to_string();
    let (s, err) = oms
        .send("POST", &format!("/orders/{id}/returns"), Some(&body), &[])
        .await;
    assert_eq!(
        (s, err["error"]["code"].as_str()),
        (409, Some("NOT_RETURNABLE")),
        "{err}"
    );
    oms.ship(&id, "S1", "wh-sp", "DELIVERED", None).await;
    oms.ship(&id, "S2", "wh-rio", "DELIVERED", None).await;
    oms.status(&id, "DELIVERED").await;

    let too_many = json!({"lines": [{"sku": "A", "quantity": 3}], "reason": "x"}).to_string();
    let (s, err) = oms
        .send(
            "POST",
            &format!("/orders/{id}/returns"),
            Some(&too_many),
            &[],
        )
        .await;
    assert_eq!(
        (s, err["error"]["field"].as_str()),
        (422, Some("lines[0].quantity")),
        "{err}"
    );
    let (s, rma) = oms
        .send(
            "POST",
            &format!("/orders/{id}/returns"),
            Some(&body),
            &[("Idempotency-Key", "ret-1")],
        )
        .await;
    assert_eq!(s, 201, "{rma}");
    let (s, same) = oms
        .send(
            "POST",
            &format!("/orders/{id}/returns"),
            Some(&body),
            &[("Idempotency-Key", "ret-1")],
        )
        .await;
    assert_eq!(
        (s, &same["return"]["rmaId"]),
        (200, &rma["return"]["rmaId"])
    );
    let rma_id = rma["return"]["rmaId"].as_str().unwrap().to_owned();
    // Everything of A is authorised already.
    let (s, _) = oms
        .send("POST", &format!("/orders/{id}/returns"), Some(&body), &[])
        .await;
    assert_eq!(s, 422);

    let received = json!({"orderId": id, "returnId": rma_id, "lines": [
        {"sku": "A", "quantity": 1, "condition": "RESELLABLE"}, {"sku": "A", "quantity": 1, "condition": "DAMAGED"}]});
    oms.put_event("partner.wms", "ReturnReceived", received.clone())
        .await;
    let after = oms
        .until(&id, "return received", |v| {
            v["returns"][0]["status"] == "RECEIVED"
        })
        .await;
    // Two units back at 1990 each; one resellable unit back on the shelf.
    assert_eq!(after["payment"]["refunded"], 2 * 1990);
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (9, 0, 9));
    // The same receipt again (a new event id) changes nothing.
    oms.put_event("partner.wms", "ReturnReceived", received)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    oms.quiet().await;
    let (_, again) = oms.get(&format!("/orders/{id}")).await;
    assert_eq!(again["payment"]["refunded"], 2 * 1990);
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (9, 0, 9));
    assert!(again["payment"]["refunded"].as_i64() <= before["total"].as_i64());
    assert_eq!(again["status"], "DELIVERED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_and_late_payments_follow_the_rules() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 4)]).await;
    oms.put_event(
        "partner.payments",
        "PaymentFailed",
        json!({"orderId": id, "paymentId": "p-1", "reason": "card declined"}),
    )
    .await;
    let cancelled = oms.status(&id, "CANCELLED").await;
    assert!(
        cancelled["cancelReason"]
            .as_str()
            .unwrap()
            .contains("card declined")
    );
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (10, 0, 10));
    // Money that arrives after cancellation goes straight back.
    let total = cancelled["total"].clone();
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "paymentId": "p-2", "amount": total, "currency": "BRL"}),
    )
    .await;
    let refunded = oms
        .until(&id, "refunded", |v| v["payment"]["refunded"] == total)
        .await;
    assert_eq!(refunded["status"], "CANCELLED");

    // A late failure after a capture is refused and recorded.
    let id = oms.routed_order(&[("A", 1)]).await;
    oms.pay(&id).await;
    oms.put_event(
        "partner.payments",
        "PaymentFailed",
        json!({"orderId": id, "paymentId": "p-x", "reason": "late"}),
    )
    .await;
    let o = oms
        .until(&id, "refusal recorded", |v| !refused(v).is_empty())
        .await;
    assert_eq!(o["status"], "READY_TO_SHIP");
    assert_eq!(refused(&o)[0]["event"], "PaymentFailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_from_sources_not_on_the_allow_list_are_refused_and_audited() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 1)]).await;
    let (_, o) = oms.get(&format!("/orders/{id}")).await;
    let pay = json!({"orderId": id, "paymentId": "p-1", "amount": o["total"], "currency": "BRL"});
    oms.put_event("partner.wms", "PaymentConfirmed", pay.clone())
        .await;
    // A source the payments partner may not use: refused at the bus, and
    // recorded on the order it names.
    let r = oms
        .put_event_as(
            PartnerKind::Payments,
            "someone.else",
            "PaymentConfirmed",
            pay,
        )
        .await;
    assert_eq!(
        r["Entries"][0]["ErrorCode"], "NotAuthorizedForSourceException",
        "{r}"
    );
    oms.put_event(
        "partner.payments",
        "PaymentConfirmed",
        json!({"orderId": id, "amount": "lots"}),
    )
    .await;
    let o = oms
        .until(&id, "three refusals", |v| refused(v).len() == 3)
        .await;
    assert_eq!(o["status"], "ROUTED");
    assert!(o.get("payment").is_none_or(Value::is_null), "{o}");
    let actors: Vec<String> = refused(&o)
        .iter()
        .map(|h| h["actor"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actors.contains(&"source:payments partner key, claiming someone.else".to_owned())
            && actors.contains(&"source:partner.wms".to_owned()),
        "{actors:?}"
    );
    assert!(
        refused(&o)
            .iter()
            .all(|h| h["cause"].is_string() && h["at"].is_string() && h["detail"].is_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_and_out_of_order_shipment_events_change_nothing_twice() {
    let oms = stocked().await;
    let id = oms.routed_order(&[("A", 2)]).await;
    // A shipment before release is refused.
    oms.ship(&id, "S0", "wh-sp", "SHIPPED", None).await;
    oms.until(&id, "refusal", |v| !refused(v).is_empty()).await;
    oms.pay(&id).await;
    oms.pay(&id).await; // the same payment confirmed twice
    // Delivered arrives before shipped: shipped then delivered, stock moved once.
    oms.ship(&id, "S1", "wh-sp", "DELIVERED", None).await;
    oms.status(&id, "DELIVERED").await;
    oms.ship(&id, "S1", "wh-sp", "SHIPPED", None).await;
    oms.ship(&id, "S1", "wh-sp", "DELIVERED", None).await;
    oms.ship(&id, "S1", "wh-sp", "PICKED", None).await;
    oms.quiet().await;
    let (_, o) = oms.get(&format!("/orders/{id}")).await;
    assert_eq!(o["status"], "DELIVERED");
    assert_eq!(o["payment"]["captured"], o["total"]);
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (8, 0, 8));
    let stale = refused(&o)
        .iter()
        .filter(|h| h["detail"].as_str().unwrap_or("").contains("stale"))
        .count();
    assert_eq!(stale, 2, "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaid_order_is_cancelled_when_its_payment_window_closes() {
    let mut options = oms_local_runtime::Options::in_memory();
    options.payment_window = Some(Duration::from_millis(300));
    let oms = Oms::start_with(options).await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    let unpaid = oms.routed_order(&[("A", 2)]).await;
    let paid = oms.routed_order(&[("A", 1)]).await;
    oms.pay(&paid).await;
    let o = oms.status(&unpaid, "CANCELLED").await;
    assert!(
        o["cancelReason"]
            .as_str()
            .unwrap()
            .starts_with("PAYMENT_TIMEOUT"),
        "{o}"
    );
    assert_eq!(stock_of(&oms, "A", "wh-sp").await, (5, 1, 4));
    tokio::time::sleep(Duration::from_millis(400)).await;
    oms.quiet().await;
    assert_eq!(
        oms.get(&format!("/orders/{paid}")).await.1["status"],
        "READY_TO_SHIP"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_events_answers_like_eventbridge() {
    let oms = stocked().await;
    let post = |body: Value, kind: Option<PartnerKind>| {
        let oms = &oms;
        async move { oms.raw_put_events(&body.to_string(), kind).await }
    };
    let wms = Some(PartnerKind::Wms);
    let ok = json!({"Source": "partner.wms", "DetailType": "X", "Detail": "{}"});
    let mut wrong_bus = ok.clone();
    wrong_bus["EventBusName"] = json!("someone-elses-bus");
    let mut named = ok.clone();
    named["EventBusName"] = json!("oms");
    let no_detail = json!({"Source": "partner.wms", "DetailType": "X"});
    let (s, r) = post(json!({"Entries": [ok, wrong_bus, named, no_detail]}), wms).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["FailedEntryCount"], 2, "{r}");
    assert!(r["Entries"][0]["EventId"].is_string() && r["Entries"][2]["EventId"].is_string());
    assert_eq!(r["Entries"][1]["ErrorCode"], "InvalidArgument");
    let too_many =
        json!({"Entries": vec![json!({"Source": "a", "DetailType": "b", "Detail": "{}"}); 11]});
    assert_eq!(post(too_many, wms).await.0, 400);
    assert_eq!(post(json!({"nope": 1}), wms).await.0, 400);

    // Unsigned, or signed with a key the OMS does not know, or tampered with:
    // 403 with EventBridge's error shape, nothing put.
    let entries =
        json!({"Entries": [{"Source": "partner.wms", "DetailType": "X", "Detail": "{}"}]});
    let (s, r) = post(entries.clone(), None).await;
    assert_eq!(
        (s, r["__type"].as_str()),
        (403, Some("MissingAuthenticationTokenException")),
        "{r}"
    );
    let url = oms.url("/");
    let headers = vec![
        ("x-amz-target".to_owned(), "AWSEvents.PutEvents".to_owned()),
        (
            "host".to_owned(),
            url.trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
        ),
    ];
    let body = entries.to_string();
    let send = |signed: Vec<(String, String)>, body: String| {
        let mut req = oms.http.post(&url).body(body);
        for (k, v) in headers.iter().chain(signed.iter()) {
            req = req.header(k, v);
        }
        async move {
            let resp = req.send().await.expect("PutEvents");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let stranger = sign(
        &url,
        &headers,
        &body,
        "AKIDSTRANGER0000",
        "not-a-secret-we-know",
    );
    let (s, r) = send(stranger, body.clone()).await;
    assert_eq!(
        (s, r["__type"].as_str()),
        (403, Some("UnrecognizedClientException")),
        "{r}"
    );
    let key = oms.running.partner_keys.of(PartnerKind::Wms).unwrap();
    let signed = sign(&url, &headers, &body, &key.access_key_id, &key.secret);
    let tampered = body.replace("partner.wms", "partner.pay");
    let (s, r) = send(signed.clone(), tampered).await;
    assert_eq!(
        (s, r["__type"].as_str()),
        (403, Some("InvalidSignatureException")),
        "{r}"
    );
    let (s, r) = send(signed, body).await;
    assert_eq!((s, r["FailedEntryCount"].as_u64()), (200, Some(0)), "{r}");

    // No partner may put the OMS's own source.
    let forged = json!({"Entries": [{"Source": "oms", "DetailType": "CustomerNotificationRequested", "Detail": "{}"}]});
    let (s, r) = post(forged, Some(PartnerKind::Payments)).await;
    assert_eq!(s, 200);
    assert_eq!(
        r["Entries"][0]["ErrorCode"], "NotAuthorizedForSourceException",
        "{r}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_order_fits_every_transaction_of_its_life() {
    let oms = Oms::start().await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    let skus: Vec<String> = (0..oms_domain::validation::MAX_LINES)
        .map(|i| format!("BIG-{i}"))
        .collect();
    for s in &skus {
        oms.stock(s, "wh-sp", 4).await;
    }
    let lines: Vec<(&str, u32)> = skus.iter().map(|s| (s.as_str(), 2)).collect();

    // Reserve, route, cancel: every counter released in one commit.
    let cancelled = oms.routed_order(&lines).await;
    let (s, c) = oms
        .send("POST", &format!("/orders/{cancelled}/cancel"), None, &[])
        .await;
    assert_eq!((s, c["status"].as_str()), (200, Some("CANCELLED")), "{c}");

    // Pay, ship everything at once, deliver, return everything.
    let id = oms.routed_order(&lines).await;
    oms.pay(&id).await;
    oms.ship(&id, "S1", "wh-sp", "DELIVERED", None).await;
    oms.status(&id, "DELIVERED").await;
    let all: Vec<Value> = skus
        .iter()
        .map(|s| json!({"sku": s, "quantity": 2}))
        .collect();
    let (s, rma) = oms
        .send(
            "POST",
            &format!("/orders/{id}/returns"),
            Some(&json!({"lines": all, "reason": "all wrong"}).to_string()),
            &[],
        )
        .await;
    assert_eq!(s, 201, "{rma}");
    let back: Vec<Value> = skus
        .iter()
        .map(|s| json!({"sku": s, "quantity": 2, "condition": "RESELLABLE"}))
        .collect();
    oms.put_event(
        "partner.wms",
        "ReturnReceived",
        json!({"orderId": id, "returnId": rma["return"]["rmaId"], "lines": back}),
    )
    .await;
    let returned = oms.status(&id, "RETURNED").await;
    assert_eq!(returned["payment"]["refunded"], returned["total"]);
    assert_eq!(stock_of(&oms, "BIG-7", "wh-sp").await, (4, 0, 4));
}
