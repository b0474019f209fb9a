//! What every handler is given: its ports, built once per process.

use crate::order::Cause;
use crate::ports::{EventPublisher, IdGenerator};
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
}

impl Deps {
    pub fn new(items: Arc<dyn Items>, events: Arc<dyn EventPublisher>) -> Self {
        Self {
            items,
            events,
            clock: Arc::new(crate::time::SystemClock),
            ids: Arc::new(crate::ports::UuidIds),
        }
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
        Self::new(Arc::new(items), Arc::new(events))
    }
}
