//! The names of the OMS's AWS resources.

/// Names of the AWS resources, from the environment the SAM template sets:
/// `OMS_TABLE` (default `oms`), `OMS_BUS` (default `oms`) and
/// `OMS_QUEUE_PREFIX` (default `oms-`, used by the local poller).
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub table: String,
    pub bus: String,
    pub queue_prefix: String,
}

#[derive(Debug, thiserror::Error)]
#[error("missing environment variable {0}")]
pub struct AwsConfigError(pub &'static str);

impl AwsSettings {
    pub fn from_env() -> Result<Self, AwsConfigError> {
        Ok(Self {
            table: std::env::var("OMS_TABLE").unwrap_or_else(|_| "oms".into()),
            bus: std::env::var("OMS_BUS").unwrap_or_else(|_| "oms".into()),
            queue_prefix: std::env::var("OMS_QUEUE_PREFIX").unwrap_or_else(|_| "oms-".into()),
        })
    }

    /// Names unique to one run, so tests can share one emulator.
    pub fn unique(tag: &str) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let short = &id[..12];
        Self {
            table: format!("oms-{tag}-{short}"),
            bus: format!("oms-{tag}-{short}"),
            queue_prefix: format!("oms-{tag}-{short}-"),
        }
    }

    pub fn queue(&self, queue: &str) -> String {
        format!("{}{queue}", self.queue_prefix)
    }

    pub fn dead_letter_queue(&self, queue: &str) -> String {
        format!("{}{queue}-dlq", self.queue_prefix)
    }
}
