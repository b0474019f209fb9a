//! sla: the SLA sweep (`oms_app::services::sla`), run by a schedule (every
//! minute on AWS, an interval locally). The schedule's event says nothing
//! the sweep needs: it sweeps from where the last one stopped to now.

use lambda_runtime::Error;
use oms_app::Deps;

#[tracing::instrument(skip_all)]
pub async fn handle(
    deps: &Deps,
    _scheduled: serde_json::Value,
) -> Result<serde_json::Value, Error> {
    let swept = oms_app::services::sla::sweep(deps).await?;
    tracing::info!(
        examined = swept.examined,
        raised = swept.raised,
        "SLA sweep"
    );
    Ok(serde_json::json!({"examined": swept.examined, "raised": swept.raised}))
}
