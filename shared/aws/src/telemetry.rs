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

/// The CloudWatch namespace of the OMS's metrics.
pub const NAMESPACE: &str = "OMS";

/// One CloudWatch Embedded Metric Format record: `metrics` (name, value,
/// unit) under the dimension `Function`, as the JSON line Lambda's log
/// shipping turns into metrics (no `PutMetricData` call, nothing to wait
/// for).
pub fn emf_record(function: &str, metrics: &[(&str, f64, &str)], at_ms: u64) -> String {
    let definitions: Vec<serde_json::Value> = metrics
        .iter()
        .map(|(name, _, unit)| serde_json::json!({"Name": name, "Unit": unit}))
        .collect();
    let mut record = serde_json::json!({
        "_aws": {
            "Timestamp": at_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": definitions,
            }],
        },
        "Function": function,
    });
    for (name, value, _) in metrics {
        record[*name] = serde_json::json!(value);
    }
    record.to_string()
}

/// Writes an EMF record to stdout (CloudWatch Logs on Lambda).
pub fn emit(function: &str, metrics: &[(&str, f64, &str)]) {
    if metrics.is_empty() {
        return;
    }
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    println!("{}", emf_record(function, metrics, at_ms));
}

/// The function's name on Lambda (`AWS_LAMBDA_FUNCTION_NAME`), or `local`.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into())
}

/// Emits the handler's latency (milliseconds since `started`).
pub fn latency(started: std::time::Instant) {
    emit(
        &function_name(),
        &[(
            "HandlerLatency",
            started.elapsed().as_secs_f64() * 1000.0,
            "Milliseconds",
        )],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_record_declares_every_metric_it_carries() {
        let line = emf_record(
            "relay",
            &[("OrdersPlaced", 3.0, "Count")],
            1_700_000_000_000,
        );
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "OMS");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "OrdersPlaced"
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Function"
        );
        assert_eq!(v["Function"], "relay");
        assert_eq!(v["OrdersPlaced"], 3.0);
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000_u64);
    }
}
