//! The OMS on one machine: adapters for the application's ports that need
//! nothing installed.
//!
//! Module map:
//! - [`store`]: the item store on redb, with DynamoDB's semantics
//!   (conditional writes, all-or-nothing commits) and group commit;
//! - [`bus`]: EventBridge rules and SQS queues in process, with batches,
//!   redelivery and a dead-letter list;
//! - [`timer`]: the scheduler as a runtime timer.
//!
//! Depends on `oms_app` and `oms_domain`.

pub mod bus;
pub mod store;
pub mod timer;
