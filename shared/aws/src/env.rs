//! The ports on AWS, built once per Lambda process from its environment:
//! DynamoDB, EventBridge and (where the function schedules) SQS clients
//! from the standard `AWS_*` variables (`AWS_ENDPOINT_URL` too, for
//! emulators) and the resource names the SAM template sets.

use crate::settings::{AwsConfigError, AwsSettings};
use oms_app::Deps;
use std::sync::Arc;

/// The ports from the environment.
pub async fn deps_from_env() -> Result<Deps, AwsConfigError> {
    let aws = AwsSettings::from_env()?;
    let sdk = aws_config::load_from_env().await;
    Ok(deps_on_aws(&sdk, aws))
}

/// The ports with explicit resource names. `OMS_TIMER_QUEUE_URL`, when set,
/// is where timers are sent (an SQS delay message).
pub fn deps_on_aws(sdk: &aws_config::SdkConfig, aws: AwsSettings) -> Deps {
    let items = crate::dynamo::DynamoItems::new(aws_sdk_dynamodb::Client::new(sdk), aws.table);
    let events = crate::eventbridge::EventBridgePublisher::new(
        aws_sdk_eventbridge::Client::new(sdk),
        aws.bus,
    );
    let deps = Deps::new(Arc::new(items), Arc::new(events));
    match std::env::var("OMS_TIMER_QUEUE_URL") {
        Ok(url) if !url.is_empty() => {
            let timer = crate::sqs_timer::SqsDelayScheduler::new(
                aws_sdk_sqs::Client::new(sdk),
                url,
                deps.clock.clone(),
            );
            deps.with_scheduler(Arc::new(timer))
        }
        _ => deps,
    }
}
