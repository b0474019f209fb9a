//! The front keeps bad clients in check: half-sent requests are cut off,
//! connections are capped, and a token can be held to a rate.

mod common;

use common::*;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn limited(rate: Option<u32>) -> oms_local_runtime::Options {
    oms_local_runtime::Options {
        limits: oms_local_runtime::server::Limits {
            header_timeout: Duration::from_millis(500),
            body_timeout: Duration::from_millis(500),
            max_connections: 8,
            rate_per_token: rate,
            ..Default::default()
        },
        ..oms_local_runtime::Options::in_memory()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_cut_off_and_never_lock_others_out() {
    let oms = Oms::start_with(limited(None)).await;
    let addr = oms.running.addr;
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"POST /orders HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    // A body that trickles is cut off too.
    let mut trickle = tokio::net::TcpStream::connect(addr).await.unwrap();
    trickle
        .write_all(b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let started = Instant::now();
    let (s, _) = oms.get("/locations").await;
    assert_eq!(s, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "served after {:?}",
        started.elapsed()
    );
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(3), trickle.read(&mut buf))
        .await
        .expect("answered")
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    for mut s in slow {
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("closed in time")
            .unwrap_or(0);
        let got = String::from_utf8_lossy(&buf[..n]);
        assert!(n == 0 || got.starts_with("HTTP/1.1 408"), "{got}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let oms = Oms::start_with(limited(Some(5))).await;
    let mut limited_answers = Vec::new();
    for _ in 0..15 {
        let r = oms
            .http
            .get(oms.url("/locations"))
            .bearer_auth(&oms.token)
            .send()
            .await
            .unwrap();
        if r.status().as_u16() == 429 {
            limited_answers.push(r);
        }
    }
    assert!(
        !limited_answers.is_empty(),
        "15 requests at once exceed 5 per second"
    );
    let r = limited_answers.remove(0);
    assert!(r.headers().get("retry-after").is_some());
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "TOO_MANY_REQUESTS");
    // Another token has its own budget.
    let other = oms.token_for(oms_domain::access::Role::Operator, "other", None);
    let (s, _) = oms
        .send_as(Some(&other), "GET", "/locations", None, &[])
        .await;
    assert_eq!(s, 200);
}
