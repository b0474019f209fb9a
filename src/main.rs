//! `cargo run`: the whole OMS in one process on 127.0.0.1 (see
//! `oms_local_runtime::cli`).

/// The local runtime's allocator: many small allocations from two worker
/// threads at once (requests, JSON, the store) are where glibc's malloc
/// spends its time on locks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    oms_local_runtime::cli::main().await
}
