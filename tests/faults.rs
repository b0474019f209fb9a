//! The fault harness, small enough for the test command: a few hundred
//! randomized operations against `oms --aws` while a proxy injects
//! throttling, 5xx, slow and dropped responses, and one SIGKILL. See
//! `tests/fault_harness/mod.rs` for what it checks; `cargo bench --bench
//! faults` runs 100,000 operations.

#[path = "fault_harness/mod.rs"]
mod fault_harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_faults_and_a_kill_nothing_is_lost_stuck_oversold_or_done_twice() {
    let ops = std::env::var("OMS_FAULT_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let Some(report) = fault_harness::run(
        fault_harness::Settings {
            ops,
            kills: 1,
            faults_per_mille: 50,
            concurrency: 16,
            seed: 7,
        },
        env!("CARGO_BIN_EXE_oms"),
    )
    .await
    else {
        return;
    };
    println!("{}", report.line());
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
    assert_eq!(report.kills, 1);
    assert!(
        report.throttled + report.failed + report.slow + report.dropped > 0,
        "no fault was injected: {}",
        report.line()
    );
    assert!(report.counts.orders > 0 && report.counts.payments > 0);
}
