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
    let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
    Ok(tokio::spawn(relay_loop(streams, stream_arn, relay)))
}

/// Reads every shard of the stream from its start, forwarding each batch
/// of records until it is delivered.
async fn relay_loop(
    streams: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    relay: oms_app::outbox::Relay,
) {
    use aws_sdk_dynamodbstreams::types::{AttributeValue, ShardIteratorType};
    let mut iterators: HashMap<String, Option<String>> = HashMap::new();
    loop {
        // New shards appear over time; closed ones end (no next iterator).
        if let Ok(described) = streams
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
        {
            for shard in described
                .stream_description()
                .map(|d| d.shards())
                .unwrap_or_default()
            {
                let Some(id) = shard.shard_id() else { continue };
                if iterators.contains_key(id) {
                    continue;
                }
                let iterator = streams
                    .get_shard_iterator()
                    .stream_arn(&stream_arn)
                    .shard_id(id)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .ok()
                    .and_then(|o| o.shard_iterator);
                iterators.insert(id.to_owned(), iterator);
            }
        }
        let mut idle = true;
        for iterator in iterators.values_mut() {
            let Some(current) = iterator.clone() else {
                continue;
            };
            let page = match streams
                .get_records()
                .shard_iterator(&current)
                .limit(100)
                .send()
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e), "stream read failed");
                    continue;
                }
            };
            let outboxes: Vec<oms_app::store::Value> = page
                .records()
                .iter()
                .filter_map(|r| r.dynamodb()?.new_image()?.get(oms_app::outbox::ATTR))
                .filter_map(|v| match v {
                    AttributeValue::B(b) => Some(oms_app::store::Value::B(b.clone().into_inner())),
                    _ => None,
                })
                .collect();
            if !page.records().is_empty() {
                idle = false;
            }
            if !outboxes.is_empty()
                && let Err(e) = relay.forward(&outboxes).await
            {
                // Not moving on: the same records are read again.
                tracing::warn!(error = %e, "relay failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            *iterator = page.next_shard_iterator;
        }
        if idle {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
