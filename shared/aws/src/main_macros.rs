//! The `main` of a function's bootstrap, written once: logging, the ports
//! built once from the environment, then the Lambda runtime loop calling
//! the function's handler.

/// `main` for a function triggered by an SQS queue:
/// `oms_aws::sqs_main!(reservation::handle);`
#[macro_export]
macro_rules! sqs_main {
    ($handle:path) => {
        #[tokio::main]
        async fn main() -> Result<(), $crate::lambda_runtime::Error> {
            $crate::telemetry::init();
            let deps = $crate::env::deps_from_env().await?;
            $crate::lambda_runtime::run($crate::lambda_runtime::service_fn(
                |ev: $crate::lambda_runtime::LambdaEvent<_>| async {
                    let started = std::time::Instant::now();
                    let answer = $handle(&deps, ev.payload).await;
                    $crate::telemetry::latency(started);
                    answer
                },
            ))
            .await
        }
    };
}

/// `main` for a function behind the HTTP API:
/// `oms_aws::http_main!(inventory::handle);`
#[macro_export]
macro_rules! http_main {
    ($handle:path) => {
        #[tokio::main]
        async fn main() -> Result<(), $crate::lambda_http::Error> {
            $crate::telemetry::init();
            let deps = $crate::env::deps_from_env().await?;
            $crate::lambda_http::run($crate::lambda_http::service_fn(|req| async {
                let started = std::time::Instant::now();
                let answer = $handle(&deps, req).await;
                $crate::telemetry::latency(started);
                answer
            }))
            .await
        }
    };
}
