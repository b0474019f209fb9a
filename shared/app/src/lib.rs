//! The OMS's application layer: what the system does with the domain's
//! rules, written once over ports so that the same services run on AWS
//! (`oms_aws`) and on one machine (`oms_embedded`).
//!
//! Module map:
//! - ports (traits the adapters implement): [`store`] (items with
//!   DynamoDB's semantics: conditional writes, atomic commits), [`ports`]
//!   (publisher, scheduler, clock, ids);
//! - repositories over the store: [`repo`] (orders with their claims,
//!   stock counters and locations; the key design), [`outbox`] (events
//!   committed with the change that made them, and where each goes),
//!   [`kpi`] (each change's difference to the KPI sums, added once);
//! - services, one per step: [`services`] (intake, reservation, routing,
//!   facts from partners and timers, returns, inventory, notifications,
//!   operator actions, search, KPIs and reports),
//!   built on [`change`] (load → decide → commit → publish, with retries
//!   and typed failures);
//! - what the services are given and read: [`deps`], [`config`],
//!   [`inbound`] (the bus envelope), [`api`] (the transport-neutral API
//!   error), [`wiring`] (functions, routes, subscriptions);
//! - [`testing`]: a recording publisher for tests.
//!
//! Depends on `oms_domain` only; never on an adapter.

pub mod api;
pub mod change;
pub mod config;
pub mod deps;
pub mod inbound;
pub mod kpi;
pub mod outbox;
pub mod ports;
pub mod repo;
pub mod services;
pub mod store;
pub mod testing;
pub mod wiring;

pub use deps::Deps;
