//! `cargo run`: the whole OMS in one process on 127.0.0.1 (see
//! `oms_local_runtime::cli`).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    oms_local_runtime::cli::main().await
}
