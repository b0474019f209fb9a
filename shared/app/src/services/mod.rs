//! One application service per step of an order's life. Each loads what it
//! needs, lets the domain decide, commits the decision (state, stock moves)
//! in one atomic write and publishes its events, and says what happened in
//! a typed result the function's edge maps to its wire answer.

pub mod facts;
pub mod intake;
pub mod inventory;
pub mod kpis;
pub mod marketplace;
pub mod notify;
pub mod operator;
pub mod pricing;
pub mod promise;
pub mod reservation;
pub mod returns;
pub mod search;
pub mod sla;
