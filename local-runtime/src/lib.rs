//! The embedded runtime: every OMS function in one process.
//!
//! - [`front`]: an HTTP front shaped like API Gateway's HTTP API;
//! - [`bus`]: EventBridge rules → SQS queues → functions, in memory;
//! - [`functions`]: the handlers, exactly as the Lambda bootstraps call them;
//! - the store: [`oms::adapters::embedded`] (redb, group commit), on disk
//!   under `--data-dir` or in memory.

pub mod aws;
pub mod bus;
pub mod front;
pub mod functions;

use anyhow::Context;
use oms::Deps;
use oms::adapters::embedded::EmbeddedItems;
use oms::events::DomainEvent;
use oms::ports::{EventPublisher, PublishError, Scheduler};
use oms::time::Timestamp;
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
    pub backend: Backend,
    /// Overrides `OMS_PAYMENT_WINDOW_SECS`.
    pub payment_window: Option<std::time::Duration>,
}

#[derive(Debug, Clone)]
pub enum Backend {
    /// The embedded store and the in-process bus.
    Embedded {
        /// Where the store keeps its file.
        data_dir: PathBuf,
        /// A throwaway store that lives in memory.
        in_memory: bool,
    },
    /// DynamoDB, EventBridge and SQS at the endpoint of the `AWS_*`
    /// environment (an emulator, or AWS itself).
    Aws {
        names: oms::adapters::AwsSettings,
        /// Create the resources first (idempotent).
        provision: bool,
    },
}

impl Options {
    /// A throwaway in-memory OMS on a free port.
    pub fn in_memory() -> Self {
        Self {
            port: 0,
            backend: Backend::Embedded {
                data_dir: PathBuf::new(),
                in_memory: true,
            },
            payment_window: None,
        }
    }
}

/// The scheduler port as a local timer: the runtime plays the part of
/// EventBridge Scheduler / delayed SQS messages.
struct LocalTimer {
    events: Arc<dyn EventPublisher>,
    clock: Arc<dyn oms::time::Clock>,
}

#[async_trait::async_trait]
impl Scheduler for LocalTimer {
    async fn schedule(&self, due: Timestamp, event: DomainEvent) -> Result<(), PublishError> {
        let wait = due.millis().saturating_sub(self.clock.now().millis());
        let events = self.events.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            if let Err(e) = events.publish(&[event]).await {
                tracing::error!(error = %e, "timer event not published");
            }
        });
        Ok(())
    }
}

pub struct Running {
    pub addr: SocketAddr,
    /// What the notifications function sent.
    pub notifications: Arc<notifications::LogSender>,
    /// The in-process bus (embedded backend only).
    pub bus: Option<Arc<bus::Bus>>,
    pub deps: Arc<Deps>,
    pollers: Vec<tokio::task::JoinHandle<()>>,
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
        if let Some(bus) = &self.bus {
            bus.stop().await;
        }
        for p in self.pollers.drain(..) {
            p.abort();
            let _ = p.await;
        }
    }
}

/// Starts the store, the bus, every function and the HTTP front.
pub async fn start(options: Options) -> anyhow::Result<Running> {
    let (deps, bus, sdk) = match &options.backend {
        Backend::Embedded {
            data_dir,
            in_memory,
        } => {
            let items = if *in_memory {
                EmbeddedItems::in_memory()
            } else {
                EmbeddedItems::open(data_dir)
            }
            .with_context(|| format!("opening the store in {}", data_dir.display()))?;
            let bus = bus::Bus::new();
            (Deps::new(Arc::new(items), bus.clone()), Some(bus), None)
        }
        Backend::Aws { names, provision } => {
            let sdk = aws_config::load_from_env().await;
            if *provision {
                aws::provision(&sdk, names).await?;
            }
            (Deps::on_aws(&sdk, names.clone()), None, Some(sdk))
        }
    };
    let mut deps = deps;
    if let Some(window) = options.payment_window {
        deps.config.payment_window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    }
    let timer = LocalTimer {
        events: deps.events.clone(),
        clock: deps.clock.clone(),
    };
    let deps = Arc::new(deps.with_scheduler(Arc::new(timer)));
    let locals = functions::Locals {
        deps: deps.clone(),
        sender: Arc::new(notifications::LogSender::recording()),
    };

    let mut sqs_handlers = HashMap::new();
    let mut http_handlers = HashMap::new();
    for f in Function::ALL {
        if let Some(h) = functions::sqs(f, &locals) {
            sqs_handlers.insert(f, h);
        }
        if let Some(h) = functions::http(f, &locals) {
            http_handlers.insert(f, h);
        }
    }
    let mut pollers = Vec::new();
    match (&bus, &sdk, &options.backend) {
        (Some(bus), _, _) => bus.start(&sqs_handlers),
        (None, Some(sdk), Backend::Aws { names, .. }) => {
            pollers = aws::start_pollers(sdk, names, &sqs_handlers).await?;
        }
        _ => {}
    }

    let front = Arc::new(front::Front {
        handlers: http_handlers,
        bus: bus.clone(),
        bus_name: std::env::var("OMS_BUS").unwrap_or_else(|_| "oms".into()),
        notifications: locals.sender.clone(),
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
        notifications: locals.sender,
        bus,
        deps,
        pollers,
        stop: Some(stop),
        server,
    })
}
