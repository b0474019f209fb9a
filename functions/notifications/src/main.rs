#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    oms_aws::telemetry::init();
    let sender = notifications::LogSender::default();
    lambda_runtime::run(lambda_runtime::service_fn(
        |ev: lambda_runtime::LambdaEvent<_>| notifications::handle(&sender, ev.payload),
    ))
    .await
}
