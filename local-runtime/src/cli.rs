//! The `oms` command: the whole OMS in one process on 127.0.0.1.

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
    #[arg(long, conflicts_with = "aws")]
    in_memory: bool,
    /// Use DynamoDB, EventBridge and SQS at the endpoint and with the
    /// credentials of the standard AWS_* variables (e.g. AWS_ENDPOINT_URL
    /// for an emulator). Names come from OMS_TABLE, OMS_BUS, OMS_QUEUE_PREFIX.
    #[arg(long)]
    aws: bool,
    /// With --aws: create the table, bus, queues and rules first (idempotent).
    #[arg(long, requires = "aws")]
    provision: bool,
}

/// Runs the command line: `cargo run` at the root calls this.
pub async fn main() -> anyhow::Result<()> {
    oms_aws::telemetry::init();
    let cli = Cli::parse();
    let backend = if cli.aws {
        crate::Backend::Aws {
            names: oms_aws::AwsSettings::from_env()?,
            provision: cli.provision,
        }
    } else {
        crate::Backend::Embedded {
            data_dir: cli.data_dir.clone(),
            in_memory: cli.in_memory,
        }
    };
    let store = match &backend {
        crate::Backend::Aws { names, .. } => format!("DynamoDB table {}", names.table),
        _ if cli.in_memory => "in memory".to_owned(),
        _ => format!("in {}", cli.data_dir.display()),
    };
    let running = crate::start(crate::Options {
        port: cli.port,
        backend,
        payment_window: None,
    })
    .await?;
    // The first line is for scripts (and tests) that start us on port 0.
    println!("OMS listening on {} (store {store})", running.url());
    tokio::signal::ctrl_c().await?;
    running.stop().await;
    Ok(())
}
