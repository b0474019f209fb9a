//! The local runtime: every OMS function in one process, on the embedded
//! store and bus (the default) or on emulated AWS (`--aws`).
//!
//! Module map:
//! - [`cli`]: the `oms` command (flags, environment, Ctrl-C and SIGTERM);
//!   [`logging`]: text on a terminal, plain in files, JSON on request;
//! - [`front`]: an HTTP front shaped like API Gateway's HTTP API, plus
//!   EventBridge's `PutEvents` for partners and the `/_local` views;
//!   [`server`]: its connections (timeouts, a cap, a rate per token);
//! - [`functions`]: the handlers, exactly as the Lambda bootstraps call
//!   them, and the batch invocation both queue consumers share;
//! - [`aws_mode`]: the SQS pollers of `--aws` mode;
//! - trust: [`auth`] (bearer tokens: minted and verified as the JWT
//!   authorizer does), [`partners`] (partner keys), [`sigv4`] (partners'
//!   signed `PutEvents`), [`secrets`] (where keys are kept);
//! - the store, bus and timer: `oms_embedded`.

pub mod auth;
pub mod aws_mode;
pub mod backtest;
pub mod cli;
pub mod dashboard;
pub mod demo;
pub mod front;
pub mod functions;
pub mod logging;
pub mod ops;
pub mod partners;
pub mod secrets;
pub mod server;
pub mod sigv4;
mod stream_relay;

use anyhow::Context;
use oms_app::Deps;
use oms_app::wiring::Function;
use oms_embedded::bus::{Bus, DurableTimer};
use oms_embedded::store::EmbeddedItems;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use tokio::sync::watch;

#[derive(Debug, Clone)]
pub struct Options {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    pub backend: Backend,
    /// Overrides `OMS_PAYMENT_WINDOW_SECS`.
    pub payment_window: Option<std::time::Duration>,
    /// Where the token-signing key and the partner keys are kept; `None`:
    /// keys that live as long as the process.
    pub secrets_dir: Option<PathBuf>,
    /// How the front treats its clients (timeouts, connections, rate).
    pub limits: server::Limits,
    /// The services' clock instead of the system's (tests).
    pub clock: Option<ClockOverride>,
}

/// A clock the services use instead of the system's.
#[derive(Clone)]
pub struct ClockOverride(pub Arc<dyn oms_app::ports::Clock>);

impl std::fmt::Debug for ClockOverride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClockOverride(now {})", self.0.now().to_rfc3339())
    }
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
        names: oms_aws::AwsSettings,
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
            secrets_dir: None,
            limits: server::Limits::default(),
            clock: None,
        }
    }
}

pub struct Running {
    pub addr: SocketAddr,
    /// Signs and verifies the API's bearer tokens.
    pub issuer: Arc<auth::Issuer>,
    /// The partners' `PutEvents` credentials.
    pub partner_keys: Arc<partners::PartnerKeys>,
    /// What the notifications function sent.
    pub notifications: Arc<notifications::LogSender>,
    /// The in-process bus (embedded backend only).
    pub bus: Option<Arc<Bus>>,
    pub deps: Arc<Deps>,
    pollers: Vec<tokio::task::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting requests, stops the bus and closes the store.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
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
            let store = Arc::new(items);
            let deps = Deps::new(store.clone());
            let bus = Bus::new(store, deps.config.publish.clone());
            (deps, Some(bus), None)
        }
        Backend::Aws { names, provision } => {
            let sdk = oms_aws::env::sdk_config().await;
            if *provision {
                oms_aws::provision::provision(&sdk, names).await?;
            }
            (
                oms_aws::env::deps_on_aws(&sdk, names.clone()),
                None,
                Some(sdk),
            )
        }
    };
    let mut deps = deps;
    if let Some(clock) = &options.clock {
        deps.clock = clock.0.clone();
    }
    if let Some(window) = options.payment_window {
        deps.config.payment_window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    }
    let scheduler: Arc<dyn oms_app::ports::Scheduler> = match (&bus, &sdk, &options.backend) {
        (Some(bus), _, _) => Arc::new(DurableTimer { bus: bus.clone() }),
        (None, Some(sdk), Backend::Aws { names, .. }) => {
            Arc::new(aws_mode::timer(sdk, names, deps.clock.clone()).await?)
        }
        _ => anyhow::bail!("no scheduler for this backend"),
    };
    let deps = Arc::new(deps.with_scheduler(scheduler));
    let locals = functions::Locals {
        deps: deps.clone(),
        sender: Arc::new(notifications::LogSender::recording()),
    };

    let sqs_handlers = functions::sqs_handlers(&locals);
    let http_handlers: HashMap<Function, functions::HttpFn> = Function::ALL
        .into_iter()
        .filter_map(|f| functions::http(f, &locals).map(|h| (f, h)))
        .collect();
    let mut pollers = Vec::new();
    match (&bus, &sdk, &options.backend) {
        (Some(bus), _, _) => {
            let consumers = sqs_handlers
                .iter()
                .map(|(f, h)| (*f, functions::bus_consumer(h.clone())))
                .collect();
            bus.start(&consumers);
        }
        (None, Some(sdk), Backend::Aws { names, .. }) => {
            pollers = aws_mode::start_pollers(sdk, names, &sqs_handlers).await?;
            pollers.push(aws_mode::start_relay(sdk, names).await?);
        }
        _ => {}
    }

    if deps.config.sla_sweep_secs > 0 {
        let deps = deps.clone();
        let every = std::time::Duration::from_secs(deps.config.sla_sweep_secs);
        pollers.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match oms_app::services::sla::sweep(&deps).await {
                    Ok(s) if s.raised > 0 => {
                        tracing::info!(examined = s.examined, raised = s.raised, "SLA sweep")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "SLA sweep failed; next time"),
                }
            }
        }));
    }
    let (issuer, partner_keys) = match &options.secrets_dir {
        Some(dir) => (auth::Issuer::open(dir)?, partners::PartnerKeys::open(dir)?),
        None => (
            auth::Issuer::ephemeral(),
            partners::PartnerKeys::ephemeral(),
        ),
    };
    let (issuer, partner_keys) = (Arc::new(issuer), Arc::new(partner_keys));
    let front = Arc::new(front::Front {
        handlers: http_handlers,
        bus: bus.clone(),
        bus_name: std::env::var("OMS_BUS").unwrap_or_else(|_| "oms".into()),
        notifications: locals.sender.clone(),
        requests: AtomicU64::new(0),
        issuer: issuer.clone(),
        partner_keys: partner_keys.clone(),
        deps: deps.clone(),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", options.port))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let server = tokio::spawn(server::serve(
        listener,
        front::router(front),
        options.limits.clone(),
        stopped,
    ));
    Ok(Running {
        addr,
        issuer,
        partner_keys,
        notifications: locals.sender,
        bus,
        deps,
        pollers,
        stop,
        server,
    })
}
