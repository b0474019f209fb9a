//! Black-box tests of what operators run the business with: order search,
//! operator actions, KPIs and reports — against the embedded runtime.

mod common;

use common::*;
use oms_domain::access::Role;
use serde_json::{Value, json};

fn ids(page: &Value) -> Vec<String> {
    page["orders"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|o| o["orderId"].as_str().unwrap().to_owned())
        .collect()
}

fn order_for(customer: &str, channel: &str, sku: &str) -> Value {
    let mut o = order(&[(sku, 1)]);
    o["customer"]["id"] = json!(customer);
    o["channel"] = json!(channel);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_orders_newest_first_by_filter_and_pages_with_a_cursor() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 100).await;
    oms.stock("B", "wh-rio", 100).await;
    let mut placed = Vec::new();
    for (customer, channel, sku) in [
        ("c-1", "web", "A"),
        ("c-2", "web", "B"),
        ("c-1", "app", "B"),
        ("c-3", "app", "A"),
        ("c-1", "web", "A"),
    ] {
        let (status, o) = oms
            .post_order(&order_for(customer, channel, sku), None)
            .await;
        assert_eq!(status, 201, "{o}");
        placed.push(o["orderId"].as_str().unwrap().to_owned());
        // Distinct placement times: newest first is then exact.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let newest_first: Vec<String> = placed.iter().rev().cloned().collect();
    // The index is a moment behind the orders.
    let mut all = Value::Null;
    for _ in 0..100 {
        all = oms.get("/orders").await.1;
        if ids(&all).len() == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(ids(&all), newest_first, "{all}");
    assert!(all.get("nextCursor").is_none(), "{all}");
    let first = &all["orders"][0];
    assert_eq!(first["status"], "ROUTED");
    assert_eq!(first["customerId"], "c-1");
    assert_eq!(
        (first["total"].as_i64(), first["units"].as_u64()),
        (Some(1990), Some(1))
    );

    // Filters.
    let c1 = oms.get("/orders?customerId=c-1").await.1;
    assert_eq!(
        ids(&c1),
        [placed[4].as_str(), placed[2].as_str(), placed[0].as_str()],
        "{c1}"
    );
    let app = oms.get("/orders?channel=app").await.1;
    assert_eq!(ids(&app), [placed[3].as_str(), placed[2].as_str()], "{app}");
    let b = oms.get("/orders?sku=B").await.1;
    assert_eq!(ids(&b), [placed[2].as_str(), placed[1].as_str()], "{b}");
    let (_, cancelled) = oms
        .send("POST", &format!("/orders/{}/cancel", placed[1]), None, &[])
        .await;
    assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
    let status = oms.get("/orders?status=CANCELLED,REJECTED").await.1;
    assert_eq!(ids(&status), [placed[1].as_str()], "{status}");
    let none = oms
        .get("/orders?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z")
        .await
        .1;
    assert!(ids(&none).is_empty(), "{none}");
    assert!(ids(&oms.get("/orders?atRisk=true").await.1).is_empty());

    // Pages: two, two, one, each continuing where the last stopped.
    let mut seen = Vec::new();
    let mut path = "/orders?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = oms.get(&path).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(c) => path = format!("/orders?limit=2&cursor={c}"),
            None => break,
        }
        assert!(pages < 10, "the cursor must move on");
    }
    assert_eq!(seen, newest_first);

    // A customer sees only its own orders, a storefront only its channel's.
    let customer = oms.token_for(Role::Customer, "c-3", None);
    let (status, own) = oms
        .send_as(Some(&customer), "GET", "/orders", None, &[])
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(&own), [placed[3].as_str()], "{own}");
    let (_, other) = oms
        .send_as(Some(&customer), "GET", "/orders?customerId=c-1", None, &[])
        .await;
    assert!(ids(&other).is_empty(), "{other}");
    let storefront = oms.token_for(Role::Storefront, "shop", Some("app"));
    let (_, app_only) = oms
        .send_as(Some(&storefront), "GET", "/orders", None, &[])
        .await;
    assert_eq!(
        ids(&app_only),
        [placed[3].as_str(), placed[2].as_str()],
        "{app_only}"
    );

    // Bad parameters: a clear 422 naming the parameter; no token: 401.
    for (query, field) in [
        ("status=LOST", "status"),
        ("limit=500", "limit"),
        ("from=yesterday", "from"),
        ("cursor=abc", "cursor"),
        ("colour=red", "colour"),
    ] {
        let (status, e) = oms.get(&format!("/orders?{query}")).await;
        assert_eq!(status, 422, "{query}: {e}");
        assert_eq!(e["error"]["field"], field, "{e}");
    }
    let (status, _) = oms.send_as(None, "GET", "/orders", None, &[]).await;
    assert_eq!(status, 401);
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_holds_releases_refunds_and_reroutes_and_each_is_audited() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-rio", 5).await;
    oms.stock("A", "wh-sp", 5).await;
    let id = oms.routed_order(&[("A", 2)]).await;
    let post = |path: String, body: Value, key: Option<&'static str>| {
        let oms = &oms;
        async move {
            let headers: Vec<(&str, &str)> =
                key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
            oms.send("POST", &path, Some(&body.to_string()), &headers)
                .await
        }
    };

    // Hold: the order stays ON_HOLD even once paid.
    let (status, held) = post(
        format!("/orders/{id}/hold"),
        json!({"reason": "call the customer"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["status"], "ON_HOLD");
    let last = held["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "OrderOnHold");
    assert_eq!(last["actor"], "operator:test-operator", "{last}");
    let (status, again) = post(
        format!("/orders/{id}/hold"),
        json!({"reason": "twice"}),
        None,
    )
    .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("ALREADY_HELD"))
    );
    oms.pay(&id).await;
    assert_eq!(
        oms.get(&format!("/orders/{id}")).await.1["status"],
        "ON_HOLD"
    );

    // Reroute after wh-rio closes: the allocation moves to wh-sp.
    let (status, _) = oms
        .put(
            "/locations/wh-rio",
            json!({"name": "wh-rio", "kind": "warehouse", "lat": RIO.0, "lon": RIO.1, "active": false}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, rerouting) = post(
        format!("/orders/{id}/reroute"),
        json!({"reason": "wh-rio closed"}),
        None,
    )
    .await;
    assert_eq!(status, 200, "{rerouting}");
    let rerouted = oms
        .until(&id, "routed again", |o| {
            o["status"] == "ON_HOLD" && o["allocations"][0]["locationId"] == "wh-sp"
        })
        .await;
    assert_eq!(rerouted["allocations"][0]["quantity"], 2, "{rerouted}");
    let (_, stock) = oms.get("/inventory/A").await;
    let at = |loc: &str| {
        stock["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["locationId"] == loc)
            .map(|l| {
                (
                    l["reserved"].as_u64().unwrap(),
                    l["available"].as_u64().unwrap(),
                )
            })
            .unwrap()
    };
    assert_eq!(at("wh-rio"), (0, 5), "released where it was: {stock}");
    assert_eq!(at("wh-sp"), (2, 3), "taken where it went: {stock}");

    // Release: paid, so it goes to its location.
    let (status, released) = oms
        .send("POST", &format!("/orders/{id}/release"), None, &[])
        .await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["status"], "READY_TO_SHIP");
    let (status, e) = post(
        format!("/orders/{id}/reroute"),
        json!({"reason": "late"}),
        None,
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("NOT_REROUTABLE"))
    );

    // Refunds: once per Idempotency-Key, never above what was captured.
    let (status, refunded) = post(
        format!("/orders/{id}/refunds"),
        json!({"amount": 500, "reason": "late delivery"}),
        Some("refund-1"),
    )
    .await;
    assert_eq!(status, 200, "{refunded}");
    assert_eq!(refunded["payment"]["refunded"], 500, "{refunded}");
    let (status, replayed) = post(
        format!("/orders/{id}/refunds"),
        json!({"amount": 500, "reason": "late delivery"}),
        Some("refund-1"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        replayed["payment"]["refunded"], 500,
        "refunded once: {replayed}"
    );
    let (status, e) = post(
        format!("/orders/{id}/refunds"),
        json!({"amount": 3481, "reason": "too much"}),
        None,
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("ABOVE_REFUNDABLE")),
        "{e}"
    );
    let (status, e) = post(
        format!("/orders/{id}/refunds"),
        json!({"amount": 10, "currency": "USD", "reason": "x"}),
        None,
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("WRONG_CURRENCY"))
    );
    let (status, e) = post(
        format!("/orders/{id}/refunds"),
        json!({"amount": 0, "reason": "x"}),
        None,
    )
    .await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("amount"))
    );
    let (status, _) = post(
        "/orders/ord_nope/hold".to_owned(),
        json!({"reason": "x"}),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Only operators.
    let shop = oms.token_for(Role::Storefront, "shop", Some("web"));
    let (status, _) = oms
        .send_as(
            Some(&shop),
            "POST",
            &format!("/orders/{id}/refunds"),
            Some(r#"{"amount": 1, "reason": "x"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 403);
    let events: Vec<String> = oms.get(&format!("/orders/{id}")).await.1["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap().to_owned())
        .collect();
    for e in [
        "OrderOnHold",
        "RerouteRequested",
        "HoldReleased",
        "RefundIssued",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} in {events:?}");
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_adjustments_change_what_is_on_hand_and_are_listed_with_their_reason() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 10).await;
    let id = oms.routed_order(&[("A", 4)]).await;
    let adjust = |delta: i64, reason: &str, key: Option<&'static str>| {
        let body = json!({"delta": delta, "reason": reason}).to_string();
        let oms = &oms;
        async move {
            let headers: Vec<(&str, &str)> =
                key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
            oms.send(
                "POST",
                "/inventory/A/wh-rio/adjustments",
                Some(&body),
                &headers,
            )
            .await
        }
    };
    let (status, received) = adjust(5, "receipt PO-7", Some("po-7")).await;
    assert_eq!(status, 201, "{received}");
    assert_eq!(received["onHandAfter"], 15);
    assert_eq!(received["actor"], "operator:test-operator");
    let (status, again) = adjust(5, "receipt PO-7", Some("po-7")).await;
    assert_eq!(status, 201);
    assert_eq!(
        again["adjustmentId"], received["adjustmentId"],
        "once per key"
    );
    let (status, damaged) = adjust(-3, "damaged in the aisle", None).await;
    assert_eq!(status, 201, "{damaged}");
    assert_eq!(damaged["onHandAfter"], 12);
    // Never below what orders hold (4 reserved of 12).
    let (status, e) = adjust(-9, "count", None).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("BELOW_RESERVED")),
        "{e}"
    );
    let (status, e) = adjust(0, "nothing", None).await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("delta")));
    let (status, e) = oms
        .send(
            "POST",
            "/inventory/A/wh-nope/adjustments",
            Some(r#"{"delta": 1, "reason": "x"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 404, "{e}");

    let (_, stock) = oms.get("/inventory/A").await;
    assert_eq!(
        (stock["onHand"].as_u64(), stock["reserved"].as_u64()),
        (Some(12), Some(4))
    );
    let (status, list) = oms.get("/inventory/A/wh-rio/adjustments").await;
    assert_eq!(status, 200);
    let deltas: Vec<i64> = list["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(deltas, [-3, 5], "newest first: {list}");
    assert_eq!(list["adjustments"][0]["reason"], "damaged in the aisle");
    let _ = id;
    oms.running.stop().await;
}

/// 2027-03-02T10:00:00Z: after the real time (payment windows never close
/// during the test), on the hour.
const T0_MS: u64 = 1_803_981_600_000;

async fn place_at(oms: &Oms, customer: &str, channel: &str, lines: &[(&str, u32)]) -> String {
    let mut o = order(lines);
    o["customer"]["id"] = json!(customer);
    o["channel"] = json!(channel);
    let (status, placed) = oms.post_order(&o, None).await;
    assert_eq!(status, 201, "{placed}");
    placed["orderId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kpis_and_reports_add_up_exactly_and_replayed_events_change_nothing() {
    use oms_app::ports::ManualClock;
    use oms_domain::time::Timestamp;
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp::from_millis(T0_MS)));
    let oms = Oms::start_with(oms_local_runtime::Options {
        clock: Some(oms_local_runtime::ClockOverride(clock.clone())),
        ..oms_local_runtime::Options::in_memory()
    })
    .await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 100).await;
    oms.stock("B", "wh-rio", 100).await;
    let at = |secs: u64| clock.set(Timestamp::from_millis(T0_MS + secs * 1000));

    // 1: paid after 60 s, shipped after an hour, delivered after a day.
    let one = place_at(&oms, "c-1", "web", &[("A", 2)]).await;
    // 2: paid after 120 s, shipped after 3 days (late), delivered after 4, a return asked.
    let two = place_at(&oms, "c-2", "app", &[("B", 1)]).await;
    // 3: cancelled; 4: rejected (no stock of C).
    let three = place_at(&oms, "c-1", "web", &[("A", 1)]).await;
    let four = place_at(&oms, "c-3", "web", &[("C", 1)]).await;
    assert_eq!(oms.settled(&four).await["status"], "REJECTED");
    let (status, _) = oms
        .send("POST", &format!("/orders/{three}/cancel"), None, &[])
        .await;
    assert_eq!(status, 200);
    at(60);
    oms.pay(&one).await;
    at(120);
    oms.pay(&two).await;
    at(3_600);
    oms.ship(&one, "S1", "wh-rio", "SHIPPED", None).await;
    oms.status(&one, "SHIPPED").await;
    at(86_400);
    oms.ship(&one, "S1", "wh-rio", "DELIVERED", None).await;
    oms.status(&one, "DELIVERED").await;
    at(3 * 86_400);
    oms.ship(&two, "S2", "wh-rio", "SHIPPED", None).await;
    oms.status(&two, "SHIPPED").await;
    at(4 * 86_400);
    oms.ship(&two, "S2", "wh-rio", "DELIVERED", None).await;
    oms.status(&two, "DELIVERED").await;
    let (status, rma) = oms
        .send(
            "POST",
            &format!("/orders/{two}/returns"),
            Some(r#"{"lines": [{"sku": "B", "quantity": 1}], "reason": "too small"}"#),
            &[],
        )
        .await;
    assert_eq!(status, 201, "{rma}");
    oms.quiet().await;

    let window = "from=2027-03-02T10:00:00Z&to=2027-03-02T11:00:00Z";
    let kpis = || async { oms.get(&format!("/kpis?{window}")).await };
    let (status, k) = kpis().await;
    assert_eq!(status, 200, "{k}");
    assert_eq!(k["orders"], 4, "{k}");
    assert_eq!(k["units"], 5);
    assert_eq!(k["revenue"], json!({"BRL": 5970}));
    assert_eq!(k["fillRate"], 0.8, "4 of 5 units routed");
    assert_eq!(k["rejectionRate"], 0.25);
    assert_eq!(k["cancellationRate"], 0.25);
    assert_eq!(k["returnRate"], 0.5);
    assert_eq!(k["onTimeShipRate"], 0.5);
    assert_eq!(k["perfectOrderRate"], 0.5);
    let d = &k["durations"];
    assert_eq!(d["routed"], json!({"count": 3, "p50": 0, "p90": 0}), "{d}");
    assert_eq!(d["released"], json!({"count": 2, "p50": 60, "p90": 120}));
    assert_eq!(
        d["shipped"],
        json!({"count": 2, "p50": 3600, "p90": 250000})
    );
    assert_eq!(
        d["delivered"],
        json!({"count": 2, "p50": 86000, "p90": 340000})
    );
    assert_eq!(
        k["statuses"],
        json!({"CANCELLED": 1, "DELIVERED": 2, "REJECTED": 1})
    );
    assert_eq!(k["backlog"], json!({}));

    // The same partner events again, and an older one after newer ones:
    // refused as duplicates or stale, the figures stay.
    oms.pay(&one).await;
    oms.ship(&one, "S1", "wh-rio", "SHIPPED", None).await;
    oms.ship(&two, "S2", "wh-rio", "SHIPPED", None).await;
    oms.ship(&two, "S2", "wh-rio", "DELIVERED", None).await;
    oms.quiet().await;
    assert_eq!(kpis().await.1, k, "replayed events changed the figures");

    // Reports from the same sums.
    let oms_ref = &oms;
    let report = |q: &str| {
        let path = format!("/reports/top?{q}&{window}");
        async move { oms_ref.get(&path).await }
    };
    let (status, products) = report("by=product&metric=revenue").await;
    assert_eq!(status, 200, "{products}");
    assert_eq!(
        products["rows"],
        json!([
            {"key": "A", "orders": 1, "units": 2, "revenue": {"BRL": 3980}},
            {"key": "B", "orders": 1, "units": 1, "revenue": {"BRL": 1990}},
        ])
    );
    let customers = report("by=customer&metric=orders&limit=1").await.1;
    assert_eq!(customers["rows"][0]["key"], "c-1", "{customers}");
    assert_eq!(customers["rows"].as_array().unwrap().len(), 1);
    let channels = report("by=channel").await.1;
    assert_eq!(channels["rows"][0]["key"], "web", "{channels}");
    assert_eq!(channels["rows"][1]["revenue"], json!({"BRL": 1990}));
    let days = report("by=day&metric=units").await.1;
    assert_eq!(
        days["rows"],
        json!([{"key": "2027-03-02", "orders": 2, "units": 3, "revenue": {"BRL": 5970}}])
    );
    let locations = report("by=location").await.1;
    assert_eq!(
        locations["rows"],
        json!([{"key": "wh-rio", "orders": 2, "units": 3, "revenue": {"BRL": 5970}}])
    );
    let countries = report("by=country").await.1;
    assert_eq!(countries["rows"][0]["key"], "BR");
    for (q, field) in [
        ("by=colour", "by"),
        ("metric=x&by=day", "metric"),
        ("by=day&limit=0", "limit"),
    ] {
        let (status, e) = report(q).await;
        assert_eq!(
            (status, e["error"]["field"].as_str()),
            (422, Some(field)),
            "{q}: {e}"
        );
    }
    let (status, e) = oms
        .get("/kpis?from=2027-03-02T11:00:00Z&to=2027-03-02T10:00:00Z")
        .await;
    assert_eq!((status, e["error"]["field"].as_str()), (422, Some("from")));
    let (status, empty) = oms
        .get("/kpis?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (empty["orders"].as_u64(), empty["fillRate"].is_null()),
        (Some(0), true)
    );

    // The CSV export: a header and one row per order line.
    let resp = reqwest::Client::new()
        .get(oms.url(&format!("/reports/orders.csv?{window}")))
        .bearer_auth(&oms.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("orderId,placedAt,status"), "{csv}");
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "{one},2027-03-02T10:00:00.000Z,DELIVERED,web,,c-1,BR,BRL,1,A,2,1990,3980,3980"
        ))),
        "{csv}"
    );
    for id in [&two, &three, &four] {
        assert!(csv.contains(id.as_str()), "{id} in {csv}");
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sla_sweep_raises_at_risk_then_breached_once_and_search_finds_them() {
    use oms_app::ports::ManualClock;
    use oms_app::services::sla::sweep;
    use oms_domain::time::Timestamp;
    let clock = std::sync::Arc::new(ManualClock::new(Timestamp::from_millis(T0_MS)));
    let oms = Oms::start_with(oms_local_runtime::Options {
        clock: Some(oms_local_runtime::ClockOverride(clock.clone())),
        ..oms_local_runtime::Options::in_memory()
    })
    .await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 10).await;
    let deps = oms.running.deps.clone();
    assert_eq!(sweep(&deps).await.unwrap().raised, 0, "nothing placed yet");
    // Both paid at once: each waits on its first shipment (2 days; at risk
    // after 36 hours). One ships after a day, the other never.
    let late = place_at(&oms, "c-1", "web", &[("A", 1)]).await;
    let prompt = place_at(&oms, "c-2", "web", &[("A", 1)]).await;
    oms.pay(&late).await;
    oms.pay(&prompt).await;
    let hours = |h: u64| clock.set(Timestamp::from_millis(T0_MS + h * 3_600_000));
    hours(24);
    oms.ship(&prompt, "S1", "wh-rio", "SHIPPED", None).await;
    oms.status(&prompt, "SHIPPED").await;
    assert_eq!(sweep(&deps).await.unwrap().raised, 0, "nobody late yet");
    assert!(ids(&oms.get("/orders?atRisk=true").await.1).is_empty());

    hours(37);
    let swept = sweep(&deps).await.unwrap();
    assert_eq!(swept.raised, 1, "{swept:?}");
    let o = oms.get(&format!("/orders/{late}")).await.1;
    assert_eq!(o["slaAlert"]["step"], "SHIP", "{o}");
    assert_eq!(o["slaAlert"]["breached"], false);
    assert_eq!(o["slaAlert"]["dueAt"], "2027-03-04T10:00:00.000Z");
    assert_eq!(
        o["history"].as_array().unwrap().last().unwrap()["event"],
        "OrderAtRisk"
    );
    let risky = oms.get("/orders?atRisk=true").await.1;
    assert_eq!(ids(&risky), [late.as_str()], "{risky}");
    assert_eq!(
        risky["orders"][0]["sla"],
        json!({"state": "AT_RISK", "step": "SHIP"})
    );
    assert_eq!(sweep(&deps).await.unwrap().raised, 0, "raised once");

    hours(49);
    assert_eq!(sweep(&deps).await.unwrap().raised, 1);
    let o = oms.get(&format!("/orders/{late}")).await.1;
    assert_eq!(o["slaAlert"]["breached"], true, "{o}");
    let events: Vec<&str> = o["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["event"].as_str())
        .filter(|e| e.starts_with("OrderAtRisk") || e.starts_with("OrderSla"))
        .collect();
    assert_eq!(events, ["OrderAtRisk", "OrderSlaBreached"]);
    // The sweep's position is kept: a later sweep over the same time finds nothing new.
    assert_eq!(sweep(&deps).await.unwrap(), Default::default());
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_location_lists_its_open_pick_lists_and_the_release_carries_them() {
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-rio", 5).await;
    oms.stock("B", "wh-sp", 5).await;
    // Split over two locations, paid: released to both.
    let id = oms.routed_order(&[("A", 2), ("B", 1)]).await;
    oms.pay(&id).await;
    let unpaid = oms.routed_order(&[("A", 1)]).await;
    oms.quiet().await;

    let (status, rio) = oms.get("/locations/wh-rio/pick-lists?status=open").await;
    assert_eq!(status, 200, "{rio}");
    let lists = rio["pickLists"].as_array().unwrap();
    assert_eq!(lists.len(), 1, "the unpaid order is not released: {rio}");
    assert_eq!(lists[0]["orderId"], id.as_str());
    assert_eq!(lists[0]["lines"], json!([{"sku": "A", "quantity": 2}]));
    assert_eq!(lists[0]["shipTo"]["city"], "Rio de Janeiro");
    let (_, sp) = oms.get("/locations/wh-sp/pick-lists").await;
    assert_eq!(
        sp["pickLists"][0]["lines"],
        json!([{"sku": "B", "quantity": 1}]),
        "{sp}"
    );

    // The release on the bus carries the same lists.
    let (_, bus) = oms.get("/_local/bus").await;
    let released = bus["recentlyPublished"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "OrderReleased" && e["orderId"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{bus}"));
    assert_eq!(
        released["data"]["pickLists"].as_array().unwrap().len(),
        2,
        "{released}"
    );

    // Shipped from wh-rio: nothing left to pick there.
    oms.ship(&id, "S1", "wh-rio", "SHIPPED", None).await;
    oms.status(&id, "PARTIALLY_SHIPPED").await;
    let (_, rio) = oms.get("/locations/wh-rio/pick-lists").await;
    assert!(rio["pickLists"].as_array().unwrap().is_empty(), "{rio}");
    let (_, sp) = oms.get("/locations/wh-sp/pick-lists").await;
    assert_eq!(sp["pickLists"].as_array().unwrap().len(), 1, "{sp}");
    let (status, e) = oms.get("/locations/wh-sp/pick-lists?status=done").await;
    assert_eq!(
        (status, e["error"]["field"].as_str()),
        (422, Some("status"))
    );
    let _ = unpaid;
    oms.running.stop().await;
}
