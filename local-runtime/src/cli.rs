//! The `oms` command: the whole OMS in one process on 127.0.0.1, the local
//! stand-ins for what AWS issues — bearer tokens (`oms token`) and partner
//! credentials (`oms partner-key`) — and the operator's commands against a
//! running OMS (`oms orders`, `oms kpis`, `oms stock import`).

use clap::{Parser, Subcommand, ValueEnum};
use oms_domain::access::Role;
use oms_domain::partner::PartnerKind;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "oms",
    version,
    about = "Run every OMS function in one local process",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Port on 127.0.0.1 (0 picks a free port).
    #[arg(long, env = "OMS_PORT", default_value_t = 3000)]
    port: u16,
    /// Directory of the embedded store, the token key and the partner keys.
    #[arg(long, env = "OMS_DATA_DIR", default_value = ".oms-data", global = true)]
    data_dir: PathBuf,
    /// Keep the store in memory (nothing survives a restart; the keys in
    /// --data-dir are still used).
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
    /// Requests per second each bearer token may send (429 beyond; off by
    /// default, so that benchmarks measure the OMS).
    #[arg(long, env = "OMS_RATE_LIMIT")]
    rate_limit: Option<u32>,
    /// Connections served at once (keep it under the file-descriptor limit).
    #[arg(long, env = "OMS_MAX_CONNECTIONS", default_value_t = 1000)]
    max_connections: usize,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a bearer token for the API, signed with --data-dir's key
    /// (what Cognito issues on AWS). Only the token is printed.
    Token {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// The channel a storefront places and reads orders for.
        #[arg(long, required_if_eq("role", "storefront"))]
        channel: Option<String>,
        /// The customer a customer token is (its subject).
        #[arg(long, required_if_eq("role", "customer"))]
        customer_id: Option<String>,
        /// Who the token names in orders' history (operators, storefronts).
        #[arg(long)]
        subject: Option<String>,
        /// How long the token lasts.
        #[arg(long, default_value = "24h")]
        ttl: humantime::Duration,
    },
    /// Print a partner's credentials for signed `PutEvents`
    /// (`AWS_ACCESS_KEY_ID=…` and `AWS_SECRET_ACCESS_KEY=…` lines).
    PartnerKey {
        #[arg(long, value_enum)]
        kind: KindArg,
    },
    /// Send an event to the running OMS as a partner sends it: `PutEvents`
    /// signed with that partner kind's key from --data-dir. Either a sample
    /// (`--file events/partner/payment-confirmed.entries.json`, the kind
    /// taken from its source) or `--kind`, `--detail-type` and `--detail`;
    /// `--order-id` fills in the detail's `orderId`. Prints the answer.
    PartnerEvent {
        /// A `PutEvents` entries file (`[{"Source","DetailType","Detail"}]`).
        #[arg(long, conflicts_with_all = ["kind", "detail_type", "detail"])]
        file: Option<PathBuf>,
        #[arg(long, value_enum, required_unless_present = "file")]
        kind: Option<KindArg>,
        #[arg(long, required_unless_present = "file")]
        detail_type: Option<String>,
        /// The event's detail, a JSON object.
        #[arg(long, default_value = "{}")]
        detail: String,
        #[arg(long)]
        order_id: Option<String>,
        /// Where the OMS listens.
        #[arg(long, env = "OMS_URL", default_value = "http://127.0.0.1:3000")]
        url: String,
    },
    /// Find and look at orders in a running OMS.
    Orders {
        #[command(subcommand)]
        command: OrdersCommand,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The key figures of the orders placed in a window (default: the last
    /// 24 hours).
    Kpis {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Stock levels in bulk.
    Stock {
        #[command(subcommand)]
        command: StockCommand,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Replay past orders against a stock snapshot under each routing
    /// strategy and print split rate, distance and cost per strategy; or,
    /// with --generate DIR, write an order set to try it on.
    Backtest {
        /// One order a line (`shipTo` with `country`, `lat`, `lon`; `lines`
        /// with `sku`, `quantity`).
        #[arg(required_unless_present = "generate")]
        orders: Option<PathBuf>,
        /// `sku,locationId,onHand` rows.
        #[arg(long, required_unless_present = "generate")]
        stock: Option<PathBuf>,
        /// The locations (`GET /locations`'s answer).
        #[arg(long, required_unless_present = "generate")]
        locations: Option<PathBuf>,
        /// Which strategies to replay.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            default_value = "nearest,cost"
        )]
        strategy: Vec<StrategyArg>,
        /// The cost weights (`GET /routing-rules`'s answer); the defaults
        /// otherwise.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Write orders.jsonl, stock.csv and locations.json into this
        /// directory instead.
        #[arg(long, conflicts_with = "orders")]
        generate: Option<PathBuf>,
        /// With --generate: how many orders, locations and skus, and the seed.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 20)]
        location_count: usize,
        #[arg(long, default_value_t = 200)]
        sku_count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Fill the running OMS with a living business: locations, stock, and
    /// orders at --rate for --duration, each paid, shipped and delivered by
    /// simulated partners (some cancelled, some returned), with a progress
    /// bar.
    Demo {
        /// Orders per second.
        #[arg(long, default_value_t = 20)]
        rate: u32,
        #[arg(long, default_value = "60s")]
        duration: humantime::Duration,
        /// Where the OMS listens.
        #[arg(long, env = "OMS_URL", default_value = "http://127.0.0.1:3000")]
        url: String,
        /// `--aws` mode: put the partners' events on this EventBridge bus
        /// (OMS_BUS), at the environment's endpoint and credentials.
        #[arg(long, env = "OMS_BUS")]
        bus: Option<String>,
    },
}

/// How the operator commands reach the OMS.
#[derive(clap::Args, Debug)]
struct ApiArgs {
    /// Where the OMS listens (its API Gateway URL on AWS).
    #[arg(
        long,
        env = "OMS_URL",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    url: String,
    /// An operator's bearer token; without one, a token signed with
    /// --data-dir's key (what a local OMS accepts).
    #[arg(long, env = "OMS_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
}

#[derive(Subcommand, Debug)]
enum OrdersCommand {
    /// Orders newest first, filtered (`GET /orders`).
    List {
        /// One status or several, comma-separated.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        customer_id: Option<String>,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        sku: Option<String>,
        /// Placed at or after (ISO-8601).
        #[arg(long)]
        from: Option<String>,
        /// Placed at or before (ISO-8601).
        #[arg(long)]
        to: Option<String>,
        /// Only orders at risk of missing a service level.
        #[arg(long)]
        at_risk: bool,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Continue after a page (its `nextCursor`).
        #[arg(long)]
        cursor: Option<String>,
        /// Every page, not only the first.
        #[arg(long)]
        all: bool,
    },
    /// One order and its history as a timeline.
    Show { order_id: String },
    /// The order lines placed in a window, as CSV on stdout.
    Export {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum StrategyArg {
    Nearest,
    Cost,
}

#[derive(Subcommand, Debug)]
enum StockCommand {
    /// Set units on hand from a CSV file of `sku,locationId,onHand` rows.
    Import { file: PathBuf },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Operator,
    Storefront,
    Customer,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum KindArg {
    Payments,
    Wms,
    Carrier,
    Marketplace,
    Store,
}

fn partner_kind(kind: KindArg) -> PartnerKind {
    match kind {
        KindArg::Payments => PartnerKind::Payments,
        KindArg::Wms => PartnerKind::Wms,
        KindArg::Carrier => PartnerKind::Carrier,
        KindArg::Marketplace => PartnerKind::Marketplace,
        KindArg::Store => PartnerKind::Store,
    }
}

/// Runs the command line: `cargo run` at the root calls this.
pub async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Token {
            role,
            channel,
            customer_id,
            subject,
            ttl,
        }) => {
            let role = match role {
                RoleArg::Operator => Role::Operator,
                RoleArg::Storefront => Role::Storefront,
                RoleArg::Customer => Role::Customer,
            };
            let subject = match role {
                Role::Customer => customer_id.unwrap_or_default(),
                _ => subject.unwrap_or_else(|| format!("local-{role}")),
            };
            if role == Role::Customer {
                oms_domain::ids::CustomerId::parse(&subject)
                    .map_err(|e| anyhow::anyhow!("--customer-id: {e}"))?;
            }
            if let Some(c) = &channel {
                oms_domain::ids::Channel::parse(c)
                    .map_err(|e| anyhow::anyhow!("--channel: {e}"))?;
            }
            let issuer = crate::auth::Issuer::open(&cli.data_dir)?;
            println!(
                "{}",
                issuer.mint(role, &subject, channel.as_deref(), ttl.into())?
            );
            Ok(())
        }
        Some(Command::PartnerKey { kind }) => {
            let kind = partner_kind(kind);
            let keys = crate::partners::PartnerKeys::open(&cli.data_dir)?;
            let key = keys
                .of(kind)
                .ok_or_else(|| anyhow::anyhow!("no key for {}", kind.name()))?;
            println!("AWS_ACCESS_KEY_ID={}", key.access_key_id);
            println!("AWS_SECRET_ACCESS_KEY={}", key.secret);
            Ok(())
        }
        Some(Command::PartnerEvent {
            file,
            kind,
            detail_type,
            detail,
            order_id,
            url,
        }) => {
            let entries = match file {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    let entries: Vec<serde_json::Value> =
                        serde_json::from_str(&text).map_err(|e| {
                            anyhow::anyhow!("{}: not an entries list: {e}", path.display())
                        })?;
                    entries
                        .into_iter()
                        .map(|e| {
                            let field =
                                |name: &str| e[name].as_str().unwrap_or_default().to_owned();
                            (field("Source"), field("DetailType"), field("Detail"))
                        })
                        .collect()
                }
                None => {
                    let kind = partner_kind(kind.unwrap_or(KindArg::Payments));
                    vec![(
                        kind.default_source(),
                        detail_type.unwrap_or_default(),
                        detail,
                    )]
                }
            };
            crate::partners::send(&cli.data_dir, &url, entries, order_id.as_deref()).await
        }
        Some(Command::Demo {
            rate,
            duration,
            url,
            bus,
        }) => {
            let issuer = crate::auth::Issuer::open(&cli.data_dir)?;
            let token = issuer.mint(
                Role::Operator,
                "demo",
                None,
                std::time::Duration::from_secs(24 * 3600),
            )?;
            let partners = match bus {
                Some(bus) => crate::partners::PartnerSender::on_bus(&bus).await,
                None => crate::partners::PartnerSender::local(&cli.data_dir, &url)?,
            };
            crate::demo::run(crate::demo::DemoOptions {
                url,
                token,
                partners,
                rate,
                duration: duration.into(),
            })
            .await
        }
        Some(Command::Orders { command, api }) => {
            let client = crate::ops::Client::new(&api.url, api.token, &cli.data_dir)?;
            match command {
                OrdersCommand::List {
                    status,
                    customer_id,
                    channel,
                    sku,
                    from,
                    to,
                    at_risk,
                    limit,
                    cursor,
                    all,
                } => {
                    let filters = crate::ops::query(&[
                        ("status", status),
                        ("customerId", customer_id),
                        ("channel", channel),
                        ("sku", sku),
                        ("from", from),
                        ("to", to),
                        ("atRisk", at_risk.then(|| "true".to_owned())),
                        ("limit", Some(limit.to_string())),
                        ("cursor", cursor),
                    ]);
                    crate::ops::list(&client, filters, all).await
                }
                OrdersCommand::Show { order_id } => crate::ops::show(&client, &order_id).await,
                OrdersCommand::Export { from, to } => {
                    crate::ops::export(&client, crate::ops::query(&[("from", from), ("to", to)]))
                        .await
                }
            }
        }
        Some(Command::Kpis { from, to, api }) => {
            let client = crate::ops::Client::new(&api.url, api.token, &cli.data_dir)?;
            crate::ops::kpis(&client, crate::ops::query(&[("from", from), ("to", to)])).await
        }
        Some(Command::Stock {
            command: StockCommand::Import { file },
            api,
        }) => {
            let client = crate::ops::Client::new(&api.url, api.token, &cli.data_dir)?;
            crate::ops::import_stock(&client, &file).await
        }
        Some(Command::Backtest {
            orders,
            stock,
            locations,
            strategy,
            rules,
            generate,
            count,
            location_count,
            sku_count,
            seed,
        }) => match generate {
            Some(dir) => crate::backtest::generate(&dir, count, location_count, sku_count, seed),
            None => {
                let missing = || anyhow::anyhow!("ORDERS, --stock and --locations are needed");
                let (orders, stock, locations) = (
                    orders.ok_or_else(missing)?,
                    stock.ok_or_else(missing)?,
                    locations.ok_or_else(missing)?,
                );
                let strategies: Vec<oms_domain::routing::Strategy> = strategy
                    .iter()
                    .map(|s| match s {
                        StrategyArg::Nearest => oms_domain::routing::Strategy::Nearest,
                        StrategyArg::Cost => oms_domain::routing::Strategy::Cost,
                    })
                    .collect();
                crate::backtest::run(
                    &crate::backtest::Inputs {
                        orders: &orders,
                        stock: &stock,
                        locations: &locations,
                        rules: rules.as_deref(),
                    },
                    &strategies,
                )
            }
        },
        None => serve(cli).await,
    }
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    crate::logging::init();
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
        secrets_dir: Some(cli.data_dir.clone()),
        limits: crate::server::Limits {
            rate_per_token: cli.rate_limit,
            max_connections: cli.max_connections,
            ..crate::server::Limits::default()
        },
        clock: None,
    })
    .await?;
    // The first line is for scripts (and tests) that start us on port 0.
    println!("OMS listening on {} (store {store})", running.url());
    shutdown_signal().await?;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

/// Ctrl-C or SIGTERM: both stop the runtime cleanly.
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
