//! The OMS's business rules. Pure: no I/O, no async runtime, no AWS, no
//! storage — a test fails if any of those ever shows up in this crate's
//! dependencies. Everything here is a value or a function of values.
//!
//! Module map:
//! - values, valid by construction: [`ids`] (order, sku, location, channel,
//!   customer ids; quantities; idempotency keys), [`money`] (amounts with
//!   their currency and its minor digits), [`time`] (timestamps),
//!   [`geo`] (points and distances);
//! - who may do what: [`access`] (roles from token claims; what a caller
//!   may see and place);
//! - the order: [`order`] (the aggregate and its state machine: placement,
//!   reservation, routing, payment, shipment, cancellation, returns, with
//!   every change recorded in its history), [`intake`] (what makes an order
//!   unique: idempotency and external-id claims);
//! - stock and sourcing: [`inventory`] (counters, locations, allocations,
//!   stock moves), [`routing`] (which locations ship an order, and why:
//!   nearest or by cost), [`backtest`] (past orders replayed under a
//!   strategy), [`promise`] (delivery dates before the order);
//! - commerce: [`catalog`] (products and their prices), [`pricing`]
//!   (promotions, shipping charges, tax; the rounding rule), [`risk`]
//!   (fraud scoring);
//! - what crosses the boundary: [`events`] (the catalog of the OMS's own
//!   events), [`partner`] (the facts partners send, and who may send
//!   which), [`notice`] (customer messages and how they read),
//!   [`validation`] (requests into domain values, field by field).

pub mod access;
pub mod accounts;
pub mod backtest;
pub mod catalog;
pub mod events;
pub mod geo;
pub mod ids;
pub mod intake;
pub mod inventory;
pub mod kpi;
pub mod money;
pub mod notice;
pub mod order;
pub mod partner;
pub mod pricing;
pub mod promise;
pub mod replenishment;
pub mod risk;
pub mod routing;
pub mod search;
pub mod time;
pub mod validation;
