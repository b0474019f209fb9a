//! What every service is given: its ports, built once per process by the
//! runtime that hosts it (`oms_aws::env` on Lambda, the local runtime).

use crate::config::Config;
use crate::ports::{
    Clock, Geocoder, IdGenerator, NoScheduler, Scheduler, SystemClock, TableGeocoder, TaxProvider,
    TaxTable, UuidIds,
};
use crate::repo::{InventoryRepo, OrderRepo};
use crate::store::Items;
use crate::store::StoreError;
use oms_domain::catalog::Product;
use oms_domain::ids::Sku;
use oms_domain::inventory::Location;
use oms_domain::order::Cause;
use oms_domain::risk::RiskRules;
use oms_domain::time::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// A service's ports. Events are not published by the services: they are
/// committed with the change that made them (the outbox) and relayed after
/// it (see [`crate::outbox`]).
#[derive(Clone)]
pub struct Deps {
    pub items: Arc<dyn Items>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub scheduler: Arc<dyn Scheduler>,
    /// Locates addresses sent without coordinates.
    pub geocoder: Arc<dyn Geocoder>,
    /// Computes tax (the tax table unless replaced).
    pub tax: Arc<dyn TaxProvider>,
    pub config: Config,
    /// The locations as last read, shared by every clone of these ports.
    locations: Arc<std::sync::Mutex<Option<LocationsRead>>>,
    /// The shard counts of split skus (hot ones, few), as last read.
    shard_counts: Arc<std::sync::Mutex<HashMap<Sku, (Timestamp, u16)>>>,
    /// The catalog's products as last read (or that a sku has none).
    products: Arc<std::sync::Mutex<ProductsRead>>,
    /// The fraud rules as last read.
    risk_rules: Arc<std::sync::Mutex<Option<RulesRead>>>,
    routing: Arc<std::sync::Mutex<Option<RoutingRead>>>,
    /// The last number this process took in each document series.
    series: Arc<std::sync::Mutex<HashMap<String, u64>>>,
    /// Held while this process numbers documents and saves them: its own
    /// changes never race for a number (other processes still may).
    pub(crate) numbering: Arc<futures::lock::Mutex<()>>,
    /// Held while a cached configuration is read again: a burst of
    /// requests that find it expired reads it once.
    refresh: Arc<futures::lock::Mutex<()>>,
    /// Promotions, shipping rates and tax rules as last read.
    pricing: Arc<std::sync::Mutex<Option<PricingRead>>>,
}

/// What prices an order besides the catalog: read together, cached together.
#[derive(Debug, Default)]
pub struct PricingRules {
    pub promotions: Vec<oms_domain::pricing::Promotion>,
    pub shipping: oms_domain::pricing::ShippingRates,
    pub tax: oms_domain::pricing::TaxRules,
}

/// The pricing rules, and when they were read.
type PricingRead = (Timestamp, Arc<PricingRules>);

/// The fraud rules, and when they were read.
type RulesRead = (Timestamp, Arc<RiskRules>);

/// How routing chooses, and what each location took today, when read.
type RoutingRead = (Timestamp, Arc<Routing>);

/// How routing chooses ([`oms_domain::routing::RoutingRules`]) and the
/// orders each location took today (against daily capacities).
#[derive(Debug, Default)]
pub struct Routing {
    pub rules: oms_domain::routing::RoutingRules,
    pub taken_today: BTreeMap<oms_domain::ids::LocationId, u64>,
}

/// Products as read (`None`: the sku has none), and when.
type ProductsRead = HashMap<Sku, (Timestamp, Option<Product>)>;

/// Most products remembered (the cache starts over beyond).
const PRODUCTS_CACHED: usize = 10_000;

/// The locations, and when they were read.
type LocationsRead = (Timestamp, Arc<Vec<Location>>);

impl Deps {
    /// The ports with the system clock, random ids, no scheduler and the
    /// configuration from the environment.
    pub fn new(items: Arc<dyn Items>) -> Self {
        Self {
            items,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidIds),
            scheduler: Arc::new(NoScheduler),
            geocoder: Arc::new(TableGeocoder),
            tax: Arc::new(TaxTable),
            config: Config::from_env(),
            locations: Arc::default(),
            shard_counts: Arc::default(),
            products: Arc::default(),
            risk_rules: Arc::default(),
            routing: Arc::default(),
            pricing: Arc::default(),
            series: Arc::default(),
            numbering: Arc::default(),
            refresh: Arc::default(),
        }
    }

    pub fn with_scheduler(mut self, scheduler: Arc<dyn Scheduler>) -> Self {
        self.scheduler = scheduler;
        self
    }

    pub fn orders(&self) -> OrderRepo {
        OrderRepo::new(self.items.clone())
    }

    pub fn inventory(&self) -> InventoryRepo {
        InventoryRepo::new(self.items.clone())
    }

    /// The locations, read again once they are older than
    /// `config.locations_ttl_ms` (reservation reads them for every order;
    /// they change rarely).
    pub async fn locations(&self) -> Result<Arc<Vec<Location>>, StoreError> {
        let now = self.clock.now();
        if let Ok(cached) = self.locations.lock()
            && let Some((at, locations)) = cached.as_ref()
            && now.millis().saturating_sub(at.millis()) < self.config.locations_ttl_ms
        {
            return Ok(locations.clone());
        }
        let fresh = Arc::new(self.inventory().locations().await?);
        if let Ok(mut cached) = self.locations.lock() {
            *cached = Some((now, fresh.clone()));
        }
        Ok(fresh)
    }

    /// Forgets the locations read (after this process changed one).
    pub fn locations_changed(&self) {
        if let Ok(mut cached) = self.locations.lock() {
            *cached = None;
        }
        // A daily capacity may have been set: what was taken is read again.
        self.routing_changed();
    }

    /// The catalog's products of these skus, each read again once older
    /// than `config.locations_ttl_ms` (intake prices every order with
    /// them; a price changed is used within that time).
    pub async fn products_of(&self, skus: &[Sku]) -> Result<BTreeMap<Sku, Product>, StoreError> {
        let now = self.clock.now();
        let ttl = self.config.locations_ttl_ms;
        let mut out = BTreeMap::new();
        let mut missing = Vec::new();
        if let Ok(cached) = self.products.lock() {
            for sku in skus {
                match cached.get(sku) {
                    Some((at, product)) if now.millis().saturating_sub(at.millis()) < ttl => {
                        if let Some(p) = product {
                            out.insert(sku.clone(), p.clone());
                        }
                    }
                    _ => missing.push(sku.clone()),
                }
            }
        } else {
            missing = skus.to_vec();
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let mut read = self
            .inventory()
            .products_of(&missing, crate::store::Read::Eventual)
            .await?;
        if let Ok(mut cached) = self.products.lock() {
            if cached.len() + missing.len() > PRODUCTS_CACHED {
                cached.clear();
            }
            for sku in missing {
                cached.insert(sku.clone(), (now, read.get(&sku).cloned()));
            }
        }
        out.append(&mut read);
        Ok(out)
    }

    /// The fraud rules, read again once older than
    /// `config.locations_ttl_ms`; the defaults until some are set.
    pub async fn risk_rules(&self) -> Result<Arc<RiskRules>, StoreError> {
        self.cached(&self.risk_rules, || async {
            Ok(self.orders().risk_rules().await?.unwrap_or_default())
        })
        .await
    }

    /// How routing chooses, read again once older than
    /// `config.locations_ttl_ms`, with the orders each location with a
    /// daily capacity took today (from the KPI sums, a moment behind).
    pub async fn routing(&self) -> Result<Arc<Routing>, StoreError> {
        self.cached(&self.routing, || async {
            let rules = self.orders().routing_rules().await?.unwrap_or_default();
            let mut taken_today = BTreeMap::new();
            let capped = self
                .locations()
                .await?
                .iter()
                .any(|l| l.daily_capacity.is_some());
            if rules.strategy == oms_domain::routing::Strategy::Cost && capped {
                let now = self.clock.now().millis();
                let day = now - now % 86_400_000;
                let hours = crate::kpi::hours(day, now + 1);
                for (_, cell) in crate::kpi::read_totals(&*self.items, hours).await? {
                    for (key, n) in cell {
                        let Some(loc) = key
                            .strip_prefix("by#location#")
                            .and_then(|k| k.strip_suffix("#orders"))
                            .and_then(|l| oms_domain::ids::LocationId::parse(l).ok())
                        else {
                            continue;
                        };
                        *taken_today.entry(loc).or_default() += n.max(0) as u64;
                    }
                }
            }
            Ok(Routing { rules, taken_today })
        })
        .await
    }

    /// Forgets the routing rules read (after this process set them).
    pub fn routing_changed(&self) {
        if let Ok(mut cached) = self.routing.lock() {
            *cached = None;
        }
    }

    /// The promotions, shipping rates and tax rules, read again once older
    /// than `config.locations_ttl_ms` (a change is used within that time).
    pub async fn pricing(&self) -> Result<Arc<PricingRules>, StoreError> {
        self.cached(&self.pricing, || async {
            let repo = self.inventory();
            Ok(PricingRules {
                promotions: repo.promotions().await?,
                shipping: repo.shipping_rates().await?,
                tax: repo.tax_rules().await?,
            })
        })
        .await
    }

    /// A cached configuration, read again by `load` once older than
    /// `config.locations_ttl_ms` — by one request of a burst that finds it
    /// expired, the others waiting for it.
    async fn cached<T, Fut>(
        &self,
        slot: &std::sync::Mutex<Option<(Timestamp, Arc<T>)>>,
        load: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, StoreError>
    where
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let now = self.clock.now();
        let fresh_enough = || {
            let cached = slot.lock().ok()?;
            let (at, value) = cached.as_ref()?;
            (now.millis().saturating_sub(at.millis()) < self.config.locations_ttl_ms)
                .then(|| value.clone())
        };
        if let Some(value) = fresh_enough() {
            return Ok(value);
        }
        let _one_reader = self.refresh.lock().await;
        if let Some(value) = fresh_enough() {
            return Ok(value);
        }
        let fresh = Arc::new(load().await?);
        if let Ok(mut cached) = slot.lock() {
            *cached = Some((now, fresh.clone()));
        }
        Ok(fresh)
    }

    /// The last number this process took in a document series, if any.
    pub fn series_known(&self, series: &str) -> Option<u64> {
        self.series.lock().ok()?.get(series).copied()
    }

    /// Remembers the last number taken in a series.
    pub fn series_at(&self, series: &str, last: u64) {
        if let Ok(mut known) = self.series.lock() {
            if known.len() > 10_000 {
                known.clear();
            }
            let n = known.entry(series.to_owned()).or_default();
            *n = (*n).max(last);
        }
    }

    /// Forgets what this process knew of these series (another took a
    /// number in between).
    pub fn series_moved<'a>(&self, series: impl Iterator<Item = &'a str>) {
        if let Ok(mut known) = self.series.lock() {
            for s in series {
                known.remove(s);
            }
        }
    }

    /// Forgets the pricing rules read (after this process changed them).
    pub fn pricing_changed(&self) {
        if let Ok(mut cached) = self.pricing.lock() {
            *cached = None;
        }
    }

    /// Forgets the fraud rules read (after this process set them).
    pub fn risk_rules_changed(&self) {
        if let Ok(mut cached) = self.risk_rules.lock() {
            *cached = None;
        }
    }

    /// Forgets a product read (after this process changed it).
    pub fn product_changed(&self, sku: &Sku) {
        if let Ok(mut cached) = self.products.lock() {
            cached.remove(sku);
        }
    }

    /// How many shards a split sku has, if read less than
    /// `config.locations_ttl_ms` ago (shards are only ever added: a count
    /// that is behind names shards that exist).
    pub fn known_shards(&self, sku: &Sku) -> Option<u16> {
        let now = self.clock.now().millis();
        let counts = self.shard_counts.lock().ok()?;
        counts
            .get(sku)
            .filter(|(at, _)| now.saturating_sub(at.millis()) < self.config.locations_ttl_ms)
            .map(|(_, n)| *n)
    }

    /// Remembers shard counts read.
    pub fn learn_shards(&self, split: &[(Sku, u16)]) {
        let now = self.clock.now();
        if let Ok(mut counts) = self.shard_counts.lock() {
            for (sku, n) in split {
                counts.insert(sku.clone(), (now, *n));
            }
        }
    }

    /// A transition's cause: this function, what triggered it, now.
    pub fn cause(&self, actor: &str, trigger: &str) -> Cause {
        Cause {
            actor: actor.to_owned(),
            trigger: trigger.to_owned(),
            at: self.clock.now(),
        }
    }
}
