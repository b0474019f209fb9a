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
    let deps = Deps::new(Arc::new(items));
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

/// The outbox relay from the environment: queue URLs from `OMS_QUEUE_URLS`
/// (`name=url,…`), the bus from `OMS_BUS`.
pub async fn relay_from_env() -> Result<oms_app::outbox::Relay, AwsConfigError> {
    let aws = AwsSettings::from_env()?;
    let sdk = sdk_config().await;
    let urls = crate::sqs_sender::SqsSender::parse_urls(
        &std::env::var("OMS_QUEUE_URLS").map_err(|_| AwsConfigError("OMS_QUEUE_URLS"))?,
    );
    Ok(relay_on_aws(&sdk, aws, urls))
}

/// The outbox relay with explicit queue URLs.
pub fn relay_on_aws(
    sdk: &aws_config::SdkConfig,
    aws: AwsSettings,
    urls: std::collections::HashMap<String, String>,
) -> oms_app::outbox::Relay {
    oms_app::outbox::Relay {
        items: Arc::new(crate::dynamo::DynamoItems::new(
            aws_sdk_dynamodb::Client::new(sdk),
            aws.table.clone(),
        )),
        queues: Arc::new(crate::sqs_sender::SqsSender::new(
            aws_sdk_sqs::Client::new(sdk),
            urls,
        )),
        bus: Arc::new(crate::eventbridge::EventBridgePublisher::new(
            aws_sdk_eventbridge::Client::new(sdk),
            aws.bus,
        )),
        clock: Arc::new(oms_app::ports::SystemClock),
        publish: oms_app::config::Config::from_env().publish,
        region: sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "aws".into()),
    }
}
