//! Engines behind the ports: embedded (redb), AWS (DynamoDB, EventBridge),
//! and a recording publisher for tests.

#[cfg(feature = "aws")]
pub mod dynamo;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "aws")]
pub mod eventbridge;
pub mod memory;

/// Names of the AWS resources, from the environment the SAM template sets.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub table: String,
    pub bus: String,
}

#[derive(Debug, thiserror::Error)]
#[error("missing environment variable {0}")]
pub struct AwsConfigError(pub &'static str);

impl AwsSettings {
    pub fn from_env() -> Result<Self, AwsConfigError> {
        Ok(Self {
            table: std::env::var("OMS_TABLE").unwrap_or_else(|_| "oms".into()),
            bus: std::env::var("OMS_BUS").unwrap_or_else(|_| "oms".into()),
        })
    }
}
