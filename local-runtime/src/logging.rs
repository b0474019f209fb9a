//! Logging of the local runtime: readable text on a terminal (with
//! colours), plain text when stderr is a file or a pipe, JSON lines with
//! `OMS_LOG_FORMAT=json`; `RUST_LOG` filters (default `info`).

use std::io::IsTerminal;

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let json = std::env::var("OMS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = if json {
        builder.json().try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .try_init()
    };
}
