//! The ports on AWS, built once per Lambda process from its environment:
//! DynamoDB, EventBridge and (where the function schedules) SQS clients
//! from the standard `AWS_*` variables (`AWS_ENDPOINT_URL` too, for
//! emulators) and the resource names the SAM template sets.

use crate::settings::{AwsConfigError, AwsSettings};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use oms_app::Deps;
use std::sync::Arc;

/// The HTTPS client every SDK client uses: rustls on ring.
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK configuration from the standard `AWS_*` environment
/// (credentials, region, `AWS_ENDPOINT_URL` for emulators) with
/// [`http_client`]. Everything that talks to AWS starts here.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .load()
        .await
}

/// The ports from the environment.
pub async fn deps_from_env() -> Result<Deps, AwsConfigError> {
    let aws = AwsSettings::from_env()?;
    let sdk = sdk_config().await;
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
