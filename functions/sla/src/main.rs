#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::telemetry::init();
    let deps = oms_aws::env::deps_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |ev: lambda_runtime::LambdaEvent<serde_json::Value>| sla::handle(&deps, ev.payload),
    ))
    .await
}
