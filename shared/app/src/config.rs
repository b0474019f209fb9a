//! Settings read once per process from the environment.

use oms_domain::partner::{PartnerKind, PartnerSources};

#[derive(Debug, Clone)]
pub struct Config {
    /// How long an order may stay unpaid before it is cancelled
    /// (`OMS_PAYMENT_WINDOW_SECS`, default 1800).
    pub payment_window_ms: u64,
    /// Who may send which partner event (`OMS_PARTNER_SOURCES_<KIND>`).
    pub partner_sources: PartnerSources,
    /// The channel of each storefront app client whose tokens carry no
    /// `oms_channel` claim (`OMS_STOREFRONT_CHANNELS`: `clientId=channel,…`;
    /// the SAM template sets it for the Cognito storefront client).
    pub storefront_channels: Vec<(String, String)>,
    /// Which OMS events go on the event bus for partners and integrations
    /// (`OMS_PUBLISH`: `all`, or event types comma-separated; default: the
    /// ones partners act on). Consumers inside the OMS get theirs anyway.
    pub publish: crate::outbox::Publish,
    /// How long reservation reuses the locations it read
    /// (`OMS_LOCATIONS_TTL_SECS`, default 30; 0 reads them every time): a
    /// location added or changed is used by new orders within that time.
    pub locations_ttl_ms: u64,
    /// Service levels (`OMS_SLA_ROUTE_SECS`, `OMS_SLA_SHIP_SECS`,
    /// `OMS_SLA_DELIVER_SECS`, `OMS_SLA_RISK_PERCENT`).
    pub sla: oms_domain::search::Sla,
    /// How often the local runtime sweeps for SLA alerts
    /// (`OMS_SLA_SWEEP_SECS`, default 60; 0: never). On AWS a schedule runs
    /// the sweep every minute.
    pub sla_sweep_secs: u64,
    /// Every line's sku must be in the catalog, whoever places the order
    /// (`OMS_REQUIRE_CATALOG=true`); otherwise only customers' own orders.
    pub require_catalog: bool,
    /// How long a bank transfer may take before the order is cancelled
    /// (`OMS_TRANSFER_WINDOW_SECS`, 3 days).
    pub transfer_window_ms: u64,
    /// The seller named on invoices and credit notes (`OMS_SELLER_NAME`).
    pub seller: String,
    /// How long a store holds a pickup that is ready before it goes back
    /// on the shelf (`OMS_PICKUP_HOLD_SECS`, 3 days).
    pub pickup_hold_ms: u64,
}

/// Three days.
const TRANSFER_WINDOW_MS: u64 = 3 * 24 * 3600 * 1000;

impl Default for Config {
    fn default() -> Self {
        Self {
            payment_window_ms: 30 * 60 * 1000,
            partner_sources: PartnerSources::default(),
            storefront_channels: Vec::new(),
            publish: crate::outbox::Publish::default(),
            locations_ttl_ms: 30_000,
            sla: oms_domain::search::Sla::default(),
            sla_sweep_secs: 60,
            require_catalog: false,
            transfer_window_ms: TRANSFER_WINDOW_MS,
            seller: "OMS".into(),
            pickup_hold_ms: TRANSFER_WINDOW_MS,
        }
    }
}

impl Config {
    pub fn from_env() -> Self {
        let window = std::env::var("OMS_PAYMENT_WINDOW_SECS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|s| *s > 0);
        Self {
            payment_window_ms: window.map(|s| s * 1000).unwrap_or(30 * 60 * 1000),
            partner_sources: partner_sources_from_env(),
            storefront_channels: pairs(
                &std::env::var("OMS_STOREFRONT_CHANNELS").unwrap_or_default(),
            ),
            publish: crate::outbox::Publish::parse(
                &std::env::var("OMS_PUBLISH").unwrap_or_default(),
            ),
            locations_ttl_ms: std::env::var("OMS_LOCATIONS_TTL_SECS")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(30_000, |s| s * 1000),
            sla: sla_from_env(),
            sla_sweep_secs: std::env::var("OMS_SLA_SWEEP_SECS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(60),
            require_catalog: std::env::var("OMS_REQUIRE_CATALOG").is_ok_and(|v| v == "true"),
            transfer_window_ms: std::env::var("OMS_TRANSFER_WINDOW_SECS")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|s| *s > 0)
                .map_or(TRANSFER_WINDOW_MS, |s| s * 1000),
            seller: std::env::var("OMS_SELLER_NAME")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "OMS".into()),
            pickup_hold_ms: std::env::var("OMS_PICKUP_HOLD_SECS")
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|s| *s > 0)
                .map_or(TRANSFER_WINDOW_MS, |s| s * 1000),
        }
    }

    /// The channel of a storefront app client, if configured.
    /// How long an order paid by `method` may stay unpaid; `None`: it is
    /// not paid before release.
    pub fn payment_window_ms(&self, method: oms_domain::order::PaymentMethod) -> Option<u64> {
        use oms_domain::order::PaymentMethod;
        match method {
            PaymentMethod::CashOnDelivery | PaymentMethod::OnAccount => None,
            PaymentMethod::BankTransfer => Some(self.transfer_window_ms),
            PaymentMethod::Card | PaymentMethod::Wallet => Some(self.payment_window_ms),
        }
    }

    pub fn channel_of_client(&self, client_id: &str) -> Option<&str> {
        self.storefront_channels
            .iter()
            .find(|(c, _)| c == client_id)
            .map(|(_, ch)| ch.as_str())
    }
}

/// `a=b,c=d` as pairs; malformed parts are skipped.
fn pairs(s: &str) -> Vec<(String, String)> {
    s.split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .collect()
}

/// `OMS_PARTNER_SOURCES_<KIND>` (comma-separated) per partner kind; a kind
/// without the variable keeps its default source `partner.<kind>`.
fn partner_sources_from_env() -> PartnerSources {
    PartnerSources::new(PartnerKind::ALL.iter().filter_map(|k| {
        let var = format!("OMS_PARTNER_SOURCES_{}", k.name().to_uppercase());
        let list: Vec<String> = std::env::var(var)
            .ok()?
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        Some((*k, list))
    }))
}

fn sla_from_env() -> oms_domain::search::Sla {
    let d = oms_domain::search::Sla::default();
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| *v > 0)
            .unwrap_or(default)
    };
    oms_domain::search::Sla {
        route_secs: var("OMS_SLA_ROUTE_SECS", d.route_secs),
        ship_secs: var("OMS_SLA_SHIP_SECS", d.ship_secs),
        deliver_secs: var("OMS_SLA_DELIVER_SECS", d.deliver_secs),
        risk_percent: var("OMS_SLA_RISK_PERCENT", d.risk_percent).min(100),
    }
}
