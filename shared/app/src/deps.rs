//! What every handler is given: its ports, built once per process.

use crate::config::Config;
use crate::order::Cause;
use crate::ports::{EventPublisher, IdGenerator, NoScheduler, Scheduler};
use crate::repo::{InventoryRepo, OrderRepo};
use crate::store::Items;
use crate::time::Clock;
use std::sync::Arc;

#[derive(Clone)]
pub struct Deps {
    pub items: Arc<dyn Items>,
    pub events: Arc<dyn EventPublisher>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub scheduler: Arc<dyn Scheduler>,
    pub config: Config,
}

impl Deps {
    pub fn new(items: Arc<dyn Items>, events: Arc<dyn EventPublisher>) -> Self {
        Self {
            items,
            events,
            clock: Arc::new(crate::time::SystemClock),
            ids: Arc::new(crate::ports::UuidIds),
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

    /// Ports on AWS: DynamoDB and EventBridge clients from the standard
    /// `AWS_*` environment (including `AWS_ENDPOINT_URL` for emulators).
    #[cfg(feature = "aws")]
    pub async fn from_aws_env() -> Result<Self, crate::adapters::AwsConfigError> {
        let aws = crate::adapters::AwsSettings::from_env()?;
        let sdk = aws_config::load_from_env().await;
        Ok(Self::on_aws(&sdk, aws))
    }

    /// Ports on AWS with explicit resource names.
    #[cfg(feature = "aws")]
    pub fn on_aws(sdk: &aws_config::SdkConfig, aws: crate::adapters::AwsSettings) -> Self {
        let sdk = sdk.clone();
        let items = crate::adapters::dynamo::DynamoItems::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            aws.table,
        );
        let events = crate::adapters::eventbridge::EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(&sdk),
            aws.bus,
        );
        let deps = Self::new(Arc::new(items), Arc::new(events));
        match std::env::var("OMS_TIMER_QUEUE_URL") {
            Ok(url) if !url.is_empty() => {
                let timer = crate::adapters::sqs_timer::SqsDelayScheduler::new(
                    aws_sdk_sqs::Client::new(&sdk),
                    url,
                    deps.clock.clone(),
                );
                deps.with_scheduler(Arc::new(timer))
            }
            _ => deps,
        }
    }
}
