#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    oms::telemetry::init();
    let deps = oms::Deps::from_aws_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| {
        order_intake::handle(&deps, req)
    }))
    .await
}
