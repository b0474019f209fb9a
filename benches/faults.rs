//! The fault harness at scale: `OMS_FAULT_OPS` randomized operations
//! (default 100,000) against `oms --aws` on the emulators while a proxy
//! injects faults and the process is killed now and then; prints one line
//! with the counts and every problem found.
//!
//!   unshare -n bash -c 'ip link set lo up && exec "$0" "$@"' \
//!     scripts/emulators cargo bench --bench faults

#[path = "../tests/fault_harness/mod.rs"]
mod fault_harness;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let ops = env("OMS_FAULT_OPS", 100_000) as usize;
    let Some(report) = fault_harness::run(
        fault_harness::Settings {
            ops,
            kills: env("OMS_FAULT_KILLS", 5) as usize,
            faults_per_mille: env("OMS_FAULTS_PER_MILLE", 20),
            concurrency: env("OMS_FAULT_CONCURRENCY", 32) as usize,
            seed: env("OMS_FAULT_SEED", 1),
        },
        env!("CARGO_BIN_EXE_oms"),
    )
    .await
    else {
        return;
    };
    println!("{}", report.line());
    for p in &report.problems {
        println!("  problem: {p}");
    }
    if !report.problems.is_empty() {
        std::process::exit(1);
    }
}
