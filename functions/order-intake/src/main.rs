#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    oms_aws::telemetry::init();
    let deps = oms_aws::env::deps_from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| {
        order_intake::handle(&deps, req)
    }))
    .await
}
