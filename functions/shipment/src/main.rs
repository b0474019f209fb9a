#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms::telemetry::init();
    let deps = oms::Deps::from_aws_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |ev: lambda_runtime::LambdaEvent<_>| shipment::handle(&deps, ev.payload),
    ))
    .await
}
