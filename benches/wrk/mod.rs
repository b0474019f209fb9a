//! What the benches that drive the `oms` binary with `wrk` share: starting
//! the binary on a fresh on-disk store with an operator token, running
//! `wrk`, reading its summary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `wrk`'s summary: requests, requests/s, p50/p99 latency (ms), non-2xx.
pub struct Round {
    pub requests: u64,
    pub rate: f64,
    pub p50: f64,
    pub p99: f64,
    pub errors: u64,
}

fn millis(s: &str) -> f64 {
    let s = s.trim();
    if let Some(v) = s.strip_suffix("us") {
        v.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
    } else if let Some(v) = s.strip_suffix("ms") {
        v.parse().unwrap_or(f64::NAN)
    } else if let Some(v) = s.strip_suffix('s') {
        v.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
    } else {
        f64::NAN
    }
}

pub fn parse(out: &str) -> Round {
    let find = |prefix: &str| {
        out.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .unwrap_or_default()
            .to_owned()
    };
    let requests = out
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let rate = find("Requests/sec:")
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let p50 = millis(find("50%").split_whitespace().nth(1).unwrap_or(""));
    let p99 = millis(find("99%").split_whitespace().nth(1).unwrap_or(""));
    let errors = find("Non-2xx or 3xx responses:")
        .split_whitespace()
        .last()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Round {
        requests,
        rate,
        p50,
        p99,
        errors,
    }
}

/// Runs `wrk` with `threads`, `connections`, for `secs`, with a Lua script.
pub fn run(
    script: &std::path::Path,
    url: &str,
    threads: u64,
    connections: u64,
    secs: u64,
) -> Round {
    let out = Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{secs}s"),
            "--latency",
            "-s",
            script.to_str().expect("path"),
            url,
        ])
        .output()
        .expect("wrk runs");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// Exits unless `wrk` is installed.
pub fn require() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed (apt-get install wrk)");
        std::process::exit(1);
    }
}

/// The `oms` binary serving a fresh on-disk store in `dir`.
pub struct Server {
    pub child: Child,
    pub url: String,
    /// An operator's token for it.
    pub token: String,
}

impl Server {
    pub fn start(dir: &std::path::Path) -> Self {
        let _ = std::fs::remove_dir_all(dir);
        let data = dir.to_str().expect("path").to_owned();
        let token = String::from_utf8(
            Command::new(env!("CARGO_BIN_EXE_oms"))
                .args(["token", "--role", "operator", "--data-dir", &data])
                .output()
                .expect("token")
                .stdout,
        )
        .expect("utf-8")
        .trim()
        .to_owned();
        let mut child = Command::new(env!("CARGO_BIN_EXE_oms"))
            .args(["--port", "0", "--data-dir", &data])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("oms starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("a line");
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
            .expect("address")
            .to_owned();
        Self { child, url, token }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
