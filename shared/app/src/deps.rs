//! What every service is given: its ports, built once per process by the
//! runtime that hosts it (`oms_aws::env` on Lambda, the local runtime).

use crate::config::Config;
use crate::ports::{Clock, IdGenerator, NoScheduler, Scheduler, SystemClock, UuidIds};
use crate::repo::{InventoryRepo, OrderRepo};
use crate::store::Items;
use oms_domain::order::Cause;
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
    pub config: Config,
}

impl Deps {
    /// The ports with the system clock, random ids, no scheduler and the
    /// configuration from the environment.
    pub fn new(items: Arc<dyn Items>) -> Self {
        Self {
            items,
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidIds),
            scheduler: Arc::new(NoScheduler),
            config: Config::from_env(),
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

    /// A transition's cause: this function, what triggered it, now.
    pub fn cause(&self, actor: &str, trigger: &str) -> Cause {
        Cause {
            actor: actor.to_owned(),
            trigger: trigger.to_owned(),
            at: self.clock.now(),
        }
    }
}
