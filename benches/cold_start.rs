//! Lambda cold start: `cargo bench --bench cold_start`.
//!
//! Builds the bootstraps with the deploy profile (`--profile deploy`) for
//! this machine, serves a minimal Lambda Runtime API on 127.0.0.1, starts
//! each bootstrap the way Lambda does (`AWS_LAMBDA_RUNTIME_API`) and times
//! launch → its first `GET …/invocation/next`, the moment it is ready for an
//! event (SDK clients built, config read). Prints a table with the binary's
//! size and its resident memory at that moment. `OMS_COLD_STARTS` (default
//! 20) sets the launches per function.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FUNCTIONS: &[&str] = &[
    "order-intake",
    "reservation",
    "inventory",
    "payment",
    "shipment",
    "returns",
    "notifications",
    "relay",
    "sla",
    "marketplace",
];

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Launches the bootstrap and waits for its first request to the runtime API.
fn one_start(bootstrap: &str, listener: &TcpListener, function: &str) -> (Duration, u64) {
    let addr = listener.local_addr().expect("addr");
    let started = Instant::now();
    let mut child = Command::new(bootstrap)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("OMS_TABLE", "oms-bench")
        .env("OMS_BUS", "oms-bench")
        // The relay's queues (it refuses to start without them).
        .env(
            "OMS_QUEUE_URLS",
            "notifications=https://sqs.us-east-1.amazonaws.com/1/n,payment=https://sqs.us-east-1.amazonaws.com/1/p,reservation=https://sqs.us-east-1.amazonaws.com/1/r",
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bootstrap starts");
    // A bootstrap that exits before asking for an event is a failure of
    // the bench, not a hang.
    listener.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("{function} exited ({status}) before calling the runtime API");
                }
                assert!(
                    Instant::now() < deadline,
                    "{function} did not call the runtime API within 10 s"
                );
                std::thread::sleep(Duration::from_micros(100));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    stream.set_nonblocking(false).expect("blocking");
    let mut first = String::new();
    BufReader::new(stream.try_clone().expect("clone"))
        .read_line(&mut first)
        .expect("request line");
    let ready = started.elapsed();
    let rss = rss_kib(child.id());
    assert!(
        first.contains("/runtime/invocation/next"),
        "unexpected first request: {first}"
    );
    let _ = stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n");
    let _ = child.kill();
    let _ = child.wait();
    (ready, rss)
}

fn main() {
    let starts: usize = std::env::var("OMS_COLD_STARTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let root = env!("CARGO_MANIFEST_DIR");
    let mut build = Command::new(env!("CARGO"));
    build
        .current_dir(root)
        .args(["build", "--quiet", "--profile", "deploy"]);
    for f in FUNCTIONS {
        build.args(["-p", f]);
    }
    assert!(
        build.status().expect("cargo").success(),
        "deploy build failed"
    );
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!();
    println!(
        "| function (x86_64, profile deploy) | bootstrap size | launch → ready p50 / max | RSS when ready |"
    );
    println!("|---|---|---|---|");
    for f in FUNCTIONS {
        let bootstrap = format!("{root}/target/deploy/{f}");
        let size = std::fs::metadata(&bootstrap).map(|m| m.len()).unwrap_or(0);
        let mut times: Vec<Duration> = Vec::new();
        let mut rss = 0;
        for _ in 0..starts {
            let (t, r) = one_start(&bootstrap, &listener, f);
            times.push(t);
            rss = rss.max(r);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| {f} | {:.2} MiB | {:.1} / {:.1} ms | {:.1} MiB |",
            size as f64 / (1024.0 * 1024.0),
            ms(times[times.len() / 2]),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
            rss as f64 / 1024.0
        );
    }
}
