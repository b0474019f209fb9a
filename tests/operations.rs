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
