//! Creating what `infra/template.yaml` declares — the table, the bus, per
//! consumer a queue with a dead-letter queue (redrive after
//! [`MAX_RECEIVES`] receives) and a rule targeting it — idempotently, from
//! the same wiring the functions use. For emulators and tests; on AWS the
//! SAM template does it.

use crate::settings::AwsSettings;
use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use oms_app::wiring::{
    DEAD_LETTER_RETENTION_SECS, MAX_RECEIVES, SUBSCRIPTIONS, Subscription, VISIBILITY_TIMEOUT_SECS,
};

/// The EventBridge pattern of a subscription's rule.
pub fn event_pattern(s: &Subscription) -> serde_json::Value {
    if s.sources.is_empty() {
        serde_json::json!({ "detail-type": s.detail_types })
    } else {
        serde_json::json!({ "source": s.sources, "detail-type": s.detail_types })
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> anyhow::Result<String> {
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await?;
    attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .context("queue has no ARN")
}

/// Creates every resource the OMS needs, or leaves it as it is.
pub async fn provision(sdk: &SdkConfig, names: &AwsSettings) -> anyhow::Result<()> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let events = aws_sdk_eventbridge::Client::new(sdk);

    crate::dynamo::create_table(&dynamo, &names.table)
        .await
        .context("creating the table")?;
    if names.bus != "default" {
        match events.create_event_bus().name(&names.bus).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_already_exists_exception()) => {}
            Err(e) => return Err(e).context("creating the event bus"),
        }
    }
    for s in SUBSCRIPTIONS {
        let dlq = sqs
            .create_queue()
            .queue_name(names.dead_letter_queue(s.queue))
            .attributes(
                QueueAttributeName::MessageRetentionPeriod,
                DEAD_LETTER_RETENTION_SECS.to_string(),
            )
            .send()
            .await
            .context("creating a dead-letter queue")?;
        let dlq_arn = queue_arn(&sqs, dlq.queue_url().unwrap_or_default()).await?;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": MAX_RECEIVES.to_string(),
        });
        let queue = sqs
            .create_queue()
            .queue_name(names.queue(s.queue))
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                VISIBILITY_TIMEOUT_SECS.to_string(),
            )
            .send()
            .await
            .context("creating a queue")?;
        let url = queue.queue_url().unwrap_or_default().to_owned();
        let arn = queue_arn(&sqs, &url).await?;
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }]
        });
        sqs.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .context("allowing EventBridge to send to the queue")?;
        let rule = names.queue(s.queue);
        events
            .put_rule()
            .name(&rule)
            .event_bus_name(&names.bus)
            .event_pattern(event_pattern(s).to_string())
            .send()
            .await
            .context("creating a rule")?;
        events
            .put_targets()
            .rule(&rule)
            .event_bus_name(&names.bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(arn)
                    .build()
                    .context("target")?,
            )
            .send()
            .await
            .context("targeting the queue")?;
    }
    Ok(())
}
