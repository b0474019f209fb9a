//! The `oms` binary as a user runs it: `--port 0 --in-memory` serves the API.

mod common;

use std::process::Command;

#[tokio::test]
async fn the_binary_serves_on_the_port_it_prints() {
    let server = common::Process::start(&["--in-memory"]);
    let url = server.url.clone();
    let health = reqwest::get(format!("{url}/health")).await;
    drop(server);
    let body: serde_json::Value = health.expect("health answers").json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

/// `oms token` and `oms partner-key` print what a user pastes: a token the
/// server started on the same data directory accepts, and partner
/// credentials as environment lines.
#[tokio::test]
async fn tokens_and_partner_keys_come_from_the_data_directory() {
    let dir = std::env::temp_dir().join(format!("oms-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let oms = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(args)
            .args(["--data-dir", dir.to_str().expect("utf-8 path")])
            .output()
            .expect("oms runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let token = oms(&["token", "--role", "operator"]);
    assert_eq!(
        token.trim().split('.').count(),
        3,
        "a JWT and nothing else: {token}"
    );
    let storefront = oms(&["token", "--role", "storefront", "--channel", "web"]);
    assert_ne!(token, storefront);
    let keys = oms(&["partner-key", "--kind", "payments"]);
    let lines: Vec<&str> = keys.lines().collect();
    assert!(
        lines.len() == 2 && lines[0].starts_with("AWS_ACCESS_KEY_ID=AKID"),
        "{keys}"
    );
    assert!(lines[1].starts_with("AWS_SECRET_ACCESS_KEY="), "{keys}");
    assert_eq!(
        oms(&["partner-key", "--kind", "payments"]),
        keys,
        "the same key every time"
    );
    let customer = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args([
            "token",
            "--role",
            "customer",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .output()
        .expect("oms runs");
    assert!(
        !customer.status.success(),
        "a customer token needs --customer-id"
    );

    let server = common::Process::start(&["--in-memory", "--data-dir", dir.to_str().unwrap()]);
    let url = server.url.clone();
    let http = reqwest::Client::new();
    let with = http
        .get(format!("{url}/locations"))
        .bearer_auth(token.trim())
        .send()
        .await
        .map(|r| r.status().as_u16());
    let without = http
        .get(format!("{url}/locations"))
        .send()
        .await
        .map(|r| r.status().as_u16());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(with.expect("answer"), 200);
    assert_eq!(without.expect("answer"), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_plays_whole_lifecycles_against_the_running_oms() {
    let dir = std::env::temp_dir().join(format!("oms-cli-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = common::Process::start(&["--in-memory", "--data-dir", dir.to_str().unwrap()]);
    let url = server.url.clone();
    let demo = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args([
            "demo",
            "--rate",
            "10",
            "--duration",
            "2s",
            "--url",
            &url,
            "--data-dir",
        ])
        .arg(&dir)
        .output()
        .expect("demo runs");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let out = String::from_utf8_lossy(&demo.stdout);
    assert!(demo.status.success(), "{out}");
    let summary = out.lines().last().unwrap_or_default();
    let count = |name: &str| -> u64 {
        summary
            .split(" · ")
            .find_map(|part| part.strip_prefix(&format!("{name} ")))
            .and_then(|n| n.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {summary:?}"))
    };
    assert_eq!(count("placed") + count("rejected"), 20, "{summary}");
    assert_eq!(count("errors"), 0, "{summary}");
    assert!(count("delivered") > 0, "{summary}");
    assert_eq!(
        count("delivered") + count("cancelled"),
        count("placed"),
        "{summary}"
    );
}
