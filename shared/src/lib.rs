//! The OMS domain crate and its adapters.
//!
//! Module map:
//! - domain (pure, no AWS or HTTP types): [`ids`], [`money`], [`time`],
//!   [`geo`], [`order`] (the aggregate and its state machine), [`inventory`],
//!   [`routing`] (location choice), [`events`] (the catalog), [`validation`]
//!   (request shapes → domain values);
//! - ports: [`store`] (items with DynamoDB semantics), [`ports`] (publisher,
//!   ids), [`repo`] (orders and stock over the store);
//! - edges: [`http`] (API errors and JSON), [`sqs`] (batch handling),
//!   [`wiring`] (routes and event subscriptions), [`deps`], [`telemetry`];
//! - [`adapters`]: embedded redb store, DynamoDB, EventBridge.

pub mod adapters;
pub mod catalog;
pub mod config;
pub mod deps;
pub mod events;
pub mod geo;
pub mod handling;
pub mod http;
pub mod ids;
pub mod inventory;
pub mod mixed;
pub mod money;
pub mod openapi;
pub mod order;
pub mod partner;
pub mod ports;
pub mod repo;
pub mod routing;
pub mod sqs;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod validation;
pub mod wiring;

pub use deps::Deps;
