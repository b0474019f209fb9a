//! The emulated-AWS mode of the runtime (`--aws`): the same functions, with
//! state in DynamoDB and events through EventBridge → SQS, and a poller per
//! queue playing Lambda's SQS event source mapping.

use crate::functions::{SqsFn, invoke_batch, sqs_record};
use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use oms_app::wiring::{BATCH_SIZE, Function, SUBSCRIPTIONS};
use oms_aws::AwsSettings;
use std::collections::HashMap;
use std::time::Duration;

/// Seconds before a failed message is offered again (the local poller's
/// stand-in for waiting out the visibility timeout).
const RETRY_AFTER_SECS: i32 = 1;

/// The scheduler of `--aws` mode, as deployed: an SQS delay message on the
/// timer's queue.
pub async fn timer(
    sdk: &SdkConfig,
    names: &AwsSettings,
    clock: std::sync::Arc<dyn oms_app::ports::Clock>,
) -> anyhow::Result<oms_aws::sqs_timer::SqsDelayScheduler> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue = names.queue(oms_app::wiring::TIMER_QUEUE);
    let url = sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .with_context(|| format!("queue {queue} (run with --provision?)"))?
        .queue_url
        .context("queue URL")?;
    Ok(oms_aws::sqs_timer::SqsDelayScheduler::new(sqs, url, clock))
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
        let records = messages
            .iter()
            .map(|m| {
                let attributes = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                sqs_record(
                    &url,
                    m.message_id().unwrap_or_default(),
                    m.receipt_handle().unwrap_or_default(),
                    m.body().unwrap_or_default(),
                    attributes,
                )
            })
            .collect();
        let failed = invoke_batch(&handler, &url, records).await;
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

/// Starts the outbox relay of `--aws` mode, as deployed: the table's
/// stream read like the relay function's event source mapping reads it,
/// each committed outbox handed to [`oms_app::outbox::Relay`].
pub async fn start_relay(
    sdk: &SdkConfig,
    names: &AwsSettings,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let table = dynamo
        .describe_table()
        .table_name(&names.table)
        .send()
        .await
        .with_context(|| format!("table {} (run with --provision?)", names.table))?;
    let stream_arn = table
        .table()
        .and_then(|t| t.latest_stream_arn())
        .context("the table has no stream: provision it again (--provision)")?
        .to_owned();
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut urls = HashMap::new();
    for queue in oms_contracts::iam::sends_to(Function::Relay) {
        let url = sqs
            .get_queue_url()
            .queue_name(names.queue(queue))
            .send()
            .await
            .with_context(|| format!("queue {}", names.queue(queue)))?
            .queue_url
            .context("queue URL")?;
        urls.insert(queue.to_owned(), url);
    }
    let relay = oms_aws::env::relay_on_aws(sdk, names.clone(), urls);
    let reader = crate::stream_relay::StreamReader {
        streams: aws_sdk_dynamodbstreams::Client::new(sdk),
        dynamo,
        table: names.table.clone(),
        stream_arn,
    };
    Ok(tokio::spawn(reader.run(relay)))
}
