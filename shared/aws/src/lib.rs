//! The OMS on AWS: adapters for the application's ports and the edges of
//! the Lambda functions.
//!
//! Module map:
//! - adapters: [`dynamo`] (the item store on DynamoDB: conditional writes,
//!   transactions only where atomicity across items is the point),
//!   [`eventbridge`] (the publisher: `PutEvents` in batches of 10),
//!   [`sqs_timer`] (the scheduler: SQS delay messages), [`sqs_sender`]
//!   (the outbox relay's queue port: SQS message batches);
//! - wiring a process: [`settings`] (resource names), [`env`] (the ports
//!   from the environment), [`telemetry`] (JSON logs for CloudWatch),
//!   [`provision`] (create the resources on an emulator);
//! - edges: [`http`] (API Gateway requests in, JSON responses and errors
//!   out), [`sqs`] (SQS batches in, partial batch failures out), [`mixed`]
//!   (a function with both triggers), [`stream`] (DynamoDB Streams records
//!   for the relay), [`sqs_main!`] and [`http_main!`] (a bootstrap's
//!   `main`).
//!
//! Depends on `oms_app` and `oms_domain`.

pub mod dynamo;
pub mod env;
pub mod eventbridge;
pub mod http;
mod main_macros;
pub mod mixed;
pub mod provision;
pub mod settings;
pub mod sqs;
pub mod sqs_sender;
pub mod sqs_timer;
pub mod stream;
pub mod telemetry;

pub use settings::AwsSettings;
// For the `main` macros.
pub use lambda_http;
pub use lambda_runtime;
