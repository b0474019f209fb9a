#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::telemetry::init();
    let relay = oms_aws::env::relay_from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |ev: lambda_runtime::LambdaEvent<_>| relay::handle(&relay, ev.payload),
    ))
    .await
}
