//! The embedded runtime: every OMS function in one process.
//!
//! - [`front`]: an HTTP front shaped like API Gateway's HTTP API;
//! - [`bus`]: EventBridge rules → SQS queues → functions, in memory;
//! - [`functions`]: the handlers, exactly as the Lambda bootstraps call them;
//! - the store: [`oms::adapters::embedded`] (redb, group commit), on disk
//!   under `--data-dir` or in memory.

pub mod bus;
pub mod front;
pub mod functions;

use anyhow::Context;
use oms::Deps;
use oms::adapters::embedded::EmbeddedItems;
use oms::wiring::Function;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::sync::oneshot;

#[derive(Debug, Clone)]
pub struct Options {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Where the embedded store keeps its file.
    pub data_dir: PathBuf,
    /// A throwaway store that lives in memory.
    pub in_memory: bool,
}

pub struct Running {
    pub addr: SocketAddr,
    pub bus: Arc<bus::Bus>,
    pub deps: Arc<Deps>,
    stop: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, stops the bus and closes the store.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
        self.bus.stop().await;
    }
}

/// Starts the store, the bus, every function and the HTTP front.
pub async fn start(options: Options) -> anyhow::Result<Running> {
    let items = if options.in_memory {
        EmbeddedItems::in_memory()
    } else {
        EmbeddedItems::open(&options.data_dir)
    }
    .with_context(|| format!("opening the store in {}", options.data_dir.display()))?;
    let bus = bus::Bus::new();
    let deps = Arc::new(Deps::new(Arc::new(items), bus.clone()));

    let mut sqs_handlers = HashMap::new();
    let mut http_handlers = HashMap::new();
    for f in Function::ALL {
        if let Some(h) = functions::sqs(f, deps.clone()) {
            sqs_handlers.insert(f, h);
        }
        if let Some(h) = functions::http(f, deps.clone()) {
            http_handlers.insert(f, h);
        }
    }
    bus.start(&sqs_handlers);

    let front = Arc::new(front::Front {
        handlers: http_handlers,
        bus: bus.clone(),
        requests: AtomicU64::new(0),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", options.port))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = axum::serve(listener, front::router(front))
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "server stopped");
        }
    });
    Ok(Running {
        addr,
        bus,
        deps,
        stop: Some(stop),
        server,
    })
}
