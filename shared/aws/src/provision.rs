//! The emulated-AWS mode of the runtime (`--aws`): the same functions, but
//! state in DynamoDB and events through EventBridge → SQS, with a poller per
//! queue playing Lambda's SQS event source mapping.
//!
//! [`provision`] creates what `infra/template.yaml` declares — the table, the
//! bus, per consumer a queue with a dead-letter queue (redrive after
//! [`MAX_RECEIVES`] receives) and a rule targeting it — idempotently, from
//! the same wiring the runtime uses.

use crate::functions::SqsFn;
use anyhow::Context;
use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use oms::adapters::AwsSettings;
use oms::wiring::{
    BATCH_SIZE, DEAD_LETTER_RETENTION_SECS, Function, MAX_RECEIVES, SUBSCRIPTIONS, Subscription,
    VISIBILITY_TIMEOUT_SECS,
};
use std::collections::HashMap;
use std::time::Duration;

/// Seconds before a failed message is offered again (the local poller's
/// stand-in for waiting out the visibility timeout).
const RETRY_AFTER_SECS: i32 = 1;

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

    oms::adapters::dynamo::create_table(&dynamo, &names.table)
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

/// Starts a poller per subscription whose function has a handler.
pub async fn start_pollers(
    sdk: &SdkConfig,
    names: &AwsSettings,
    handlers: &HashMap<Function, SqsFn>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut tasks = Vec::new();
    for s in SUBSCRIPTIONS {
        let Some(handler) = handlers.get(&s.function) else {
            continue;
        };
        let url = sqs
            .get_queue_url()
            .queue_name(names.queue(s.queue))
            .send()
            .await
            .with_context(|| format!("queue {} (run with --provision?)", names.queue(s.queue)))?
            .queue_url
            .context("queue URL")?;
        tasks.push(tokio::spawn(poll(sqs.clone(), url, handler.clone())));
    }
    Ok(tasks)
}

/// Receives batches, invokes the handler, deletes what succeeded and makes
/// the failures visible again soon; SQS moves a message that keeps failing
/// to the dead-letter queue after its redrive policy's receive count.
async fn poll(sqs: aws_sdk_sqs::Client, url: String, handler: SqsFn) {
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(BATCH_SIZE as i32)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await;
        let messages = match received {
            Ok(r) => r.messages.unwrap_or_default(),
            Err(e) => {
                tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), queue = %url, "receive failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let mut event = SqsEvent::default();
        event.records = messages
            .iter()
            .map(|m| {
                let mut out = SqsMessage::default();
                out.message_id = m.message_id.clone();
                out.receipt_handle = m.receipt_handle.clone();
                out.body = m.body.clone();
                out.attributes = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                out.event_source = Some("aws:sqs".into());
                out
            })
            .collect();
        let failed: Vec<String> = match handler(event).await {
            Ok(r) => r
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "invocation failed");
                messages
                    .iter()
                    .filter_map(|m| m.message_id.clone())
                    .collect()
            }
        };
        let mut done = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let (Some(id), Some(handle)) = (&m.message_id, &m.receipt_handle) else {
                continue;
            };
            if failed.contains(id) {
                let _ = sqs
                    .change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(handle)
                    .visibility_timeout(RETRY_AFTER_SECS)
                    .send()
                    .await;
            } else if let Ok(entry) = DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(handle)
                .build()
            {
                done.push(entry);
            }
        }
        if !done.is_empty()
            && let Err(e) = sqs
                .delete_message_batch()
                .queue_url(&url)
                .set_entries(Some(done))
                .send()
                .await
        {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "delete failed; messages will be redelivered");
        }
    }
}
