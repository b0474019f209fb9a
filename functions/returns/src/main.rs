#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms::telemetry::init();
    let deps = oms::Deps::from_aws_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |ev: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let deps = &deps;
            oms::mixed::dispatch(
                ev.payload,
                ev.context,
                move |req| returns::handle_http(deps, req),
                move |batch| returns::handle_sqs(deps, batch),
            )
        },
    ))
    .await
}
