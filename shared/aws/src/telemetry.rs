//! Logging on Lambda: JSON lines for CloudWatch (no timestamps: CloudWatch
//! adds its own), at the level `RUST_LOG` names (`error`, `warn`, `info` —
//! the default —, `debug`, `trace`). A plain level, not a filter
//! expression: that keeps a regex engine out of every bootstrap.

use tracing_subscriber::filter::LevelFilter;

/// The level `RUST_LOG` names, `info` otherwise.
pub fn level_from_env() -> LevelFilter {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// Installs the global subscriber once.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(level_from_env())
        .with_target(false)
        .json()
        .without_time()
        .try_init();
}
