//! relay: the transactional outbox's delivery on AWS. Triggered by the
//! table's stream (only records whose new image carries an `outbox` or a
//! `kpi` delta), it
//! hands each committed change's events to `oms_app::outbox::Relay`: the
//! OMS's own consumers' queues, timers (delayed messages), and the event
//! bus for what the business publishes — and each change's KPI delta to the
//! sums (`oms_app::kpi`). After a failure the whole batch comes again, from
//! its first record (consumers recognise event ids they have seen; the KPI
//! sums recognise the groups of records they added).

use lambda_runtime::Error;
use oms_app::outbox::Relay;
use oms_aws::stream::{ItemFailure, StreamEvent, StreamResponse};

#[tracing::instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle(relay: &Relay, event: StreamEvent) -> Result<StreamResponse, Error> {
    let outboxes: Vec<_> = event.records.iter().filter_map(|r| r.outbox()).collect();
    let deltas: Vec<_> = event.records.iter().filter_map(|r| r.kpi()).collect();
    let delivered = match relay.project(&deltas).await {
        Ok(added) => {
            tracing::info!(added, "KPI deltas added");
            relay.forward(&outboxes).await
        }
        Err(e) => Err(oms_app::ports::PublishError(format!("KPI sums: {e}"))),
    };
    match delivered {
        Ok(sent) => {
            tracing::info!(sent, "outboxes relayed");
            emit_metrics(&outboxes);
            Ok(StreamResponse::default())
        }
        Err(e) => {
            tracing::warn!(error = %e, "relay failed; the batch comes again");
            let first = event
                .records
                .first()
                .and_then(|r| r.dynamodb.sequence_number.clone());
            Ok(StreamResponse {
                batch_item_failures: first
                    .map(|s| ItemFailure { item_identifier: s })
                    .into_iter()
                    .collect(),
            })
        }
    }
}

/// The business's flow as CloudWatch metrics (EMF), from the events the
/// batch delivered: orders placed, routed, rejected, shipped, delivered,
/// cancelled, at risk, past their SLA.
fn emit_metrics(outboxes: &[oms_app::store::Value]) {
    const METRICS: &[(&str, &str)] = &[
        ("OrderPlaced", "OrdersPlaced"),
        ("OrderRouted", "OrdersRouted"),
        ("OrderRejected", "OrdersRejected"),
        ("OrderShipped", "OrdersShipped"),
        ("OrderDelivered", "OrdersDelivered"),
        ("OrderCancelled", "OrdersCancelled"),
        ("OrderAtRisk", "OrdersAtRisk"),
        ("OrderSlaBreached", "OrdersSlaBreached"),
    ];
    let counts = oms_app::outbox::type_counts(outboxes);
    let metrics: Vec<(&str, f64, &str)> = METRICS
        .iter()
        .filter_map(|(event, metric)| counts.get(event).map(|n| (*metric, *n as f64, "Count")))
        .collect();
    oms_aws::telemetry::emit(&oms_aws::telemetry::function_name(), &metrics);
}
