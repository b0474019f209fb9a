//! The `oms` binary as a user runs it: `--port 0 --in-memory` serves the API.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_binary_serves_on_the_port_it_prints() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oms"))
        .args(["--port", "0", "--in-memory"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("oms starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("a line");
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("an address on 127.0.0.1")
        .to_owned();
    let health = reqwest::get(format!("{url}/health")).await;
    let _ = child.kill();
    let _ = child.wait();
    let body: serde_json::Value = health.expect("health answers").json().await.expect("json");
    assert_eq!(body["status"], "ok");
}
