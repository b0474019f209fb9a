//! The OMS on one machine: adapters for the application's ports that need
//! nothing installed, durable across crashes.
//!
//! Module map:
//! - [`store`]: the item store on redb, with DynamoDB's semantics
//!   (conditional writes, all-or-nothing commits) and group commit; in the
//!   same database, the queues, timers and dead letters, written in the
//!   commit of the change that produced them;
//! - [`bus`]: the outbox relay (OMS events to their consumers' queues),
//!   partners' events to the queues their rules match, queue drains with
//!   batches, redelivery and dead letters, durable timers.
//!
//! Depends on `oms_app` and `oms_domain`.

pub mod bus;
pub mod store;
