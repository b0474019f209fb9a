//! The dashboard in a real browser: headless Chromium (Debian's), driven by
//! Playwright (`tests/browser/dashboard.mjs`, from `.tools/`), against the
//! embedded runtime — sign in, overview, search, open an order, hold and
//! release it; and an invoice's printable page. Screenshots go to
//! `target/dashboard-*.png` and `target/invoice.png`. Skipped without
//! Chromium or Playwright unless `OMS_REQUIRE_BROWSER` is set (as
//! `scripts/test` does, after installing them).

mod common;

use common::*;
use oms_domain::access::Role;

fn browser_tools() -> Option<(std::path::PathBuf, std::path::PathBuf)> {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join(".tools/node_modules");
    let chromium = std::path::PathBuf::from(
        std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    (modules.join("playwright-core").exists() && chromium.exists()).then_some((modules, chromium))
}

/// Whether there is no browser to run in (allowed only without
/// `OMS_REQUIRE_BROWSER`): the test is then skipped.
fn no_browser() -> bool {
    if browser_tools().is_some() {
        return false;
    }
    assert!(
        std::env::var_os("OMS_REQUIRE_BROWSER").is_none(),
        "OMS_REQUIRE_BROWSER is set but Chromium or playwright-core is missing"
    );
    eprintln!("no Chromium or playwright-core: browser test skipped (scripts/test runs it)");
    true
}

/// Runs a Playwright script of `tests/browser/` with these arguments and
/// asserts it succeeded.
async fn in_browser(script: &str, args: Vec<String>) {
    let (modules, chromium) = browser_tools().expect("checked by no_browser");
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser")
        .join(script);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .args(&args)
            .env("NODE_PATH", &modules)
            .env("CHROMIUM", &chromium)
            .current_dir(modules.parent().expect(".tools"))
            .output()
            .expect("node runs")
    })
    .await
    .expect("the browser run");
    assert!(
        out.status.success(),
        "the browser run failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_signs_in_searches_opens_holds_and_releases_an_order_in_the_browser() {
    if no_browser() {
        return;
    }
    let oms = Oms::start().await;
    oms.location("wh-rio", RIO.0, RIO.1).await;
    oms.stock("A", "wh-rio", 8).await;
    let id = oms.routed_order(&[("A", 2)]).await;
    let token = oms.token_for(Role::Operator, "browser-operator", None);
    let shots = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&shots).expect("target/");
    in_browser(
        "dashboard.mjs",
        vec![
            oms.running.url(),
            token,
            id.clone(),
            "c-1".into(),
            shots.display().to_string(),
        ],
    )
    .await;
    // What the browser did is on the order: held and released by the
    // token's subject.
    let (_, order) = oms.get(&format!("/orders/{id}")).await;
    let by_browser: Vec<&str> = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h["actor"]
                .as_str()
                .unwrap_or("")
                .ends_with("browser-operator")
        })
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(by_browser, ["OrderOnHold", "HoldReleased"], "{order}");
    assert_eq!(order["status"], "ROUTED");
    for shot in ["dashboard-overview.png", "dashboard-order.png"] {
        let len = std::fs::metadata(shots.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 10_000, "{shot}: {len} bytes");
    }
    oms.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_prints_in_the_browser() {
    if no_browser() {
        return;
    }
    let oms = Oms::start().await;
    priced_shop(&oms).await;
    let (status, placed) = oms.post_order(&priced_order(), None).await;
    assert_eq!(status, 201, "{placed}");
    let id = placed["orderId"].as_str().unwrap().to_owned();
    oms.settled(&id).await;
    oms.pay(&id).await;
    oms.ship(&id, "S1", "wh-rio", "SHIPPED", None).await;
    let order = oms
        .until(&id, "invoiced", |o| {
            o["documents"].as_array().is_some_and(|d| !d.is_empty())
        })
        .await;
    let number = order["documents"][0]["number"].as_str().unwrap().to_owned();
    let token = oms.token_for(Role::Customer, "c-1", None);
    let shot = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/invoice.png");
    let _ = std::fs::remove_file(&shot);
    in_browser(
        "invoice.mjs",
        vec![
            oms.running.url(),
            token,
            number,
            "113.51".into(),
            shot.display().to_string(),
        ],
    )
    .await;
    let len = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(len > 10_000, "invoice.png: {len} bytes");
    oms.running.stop().await;
}
