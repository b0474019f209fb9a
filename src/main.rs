//! `cargo run`: the whole OMS in one process on 127.0.0.1.

use clap::Parser;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "oms", about = "Run every OMS function in one local process")]
struct Cli {
    /// Port on 127.0.0.1 (0 picks a free port).
    #[arg(long, env = "OMS_PORT", default_value_t = 3000)]
    port: u16,
    /// Directory of the embedded store.
    #[arg(long, env = "OMS_DATA_DIR", default_value = ".oms-data")]
    data_dir: PathBuf,
    /// Keep everything in memory (nothing survives a restart).
    #[arg(long)]
    in_memory: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    oms::telemetry::init();
    let cli = Cli::parse();
    let running = oms_local::start(oms_local::Options {
        port: cli.port,
        data_dir: cli.data_dir.clone(),
        in_memory: cli.in_memory,
    })
    .await?;
    let store = if cli.in_memory {
        "in memory".to_owned()
    } else {
        format!("in {}", cli.data_dir.display())
    };
    // The first line is for scripts (and tests) that start us on port 0.
    println!("OMS listening on {} (store {store})", running.url());
    tokio::signal::ctrl_c().await?;
    running.stop().await;
    Ok(())
}
