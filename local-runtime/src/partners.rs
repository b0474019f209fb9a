//! The credentials partners sign their `PutEvents` requests with, locally:
//! an access key id and a secret per partner kind, as an AWS account's IAM
//! user would have. `oms partner-key --kind payments` prints them; the
//! front verifies the signature (AWS Signature Version 4) and lets each key
//! put only the `source`s of its kind.

use oms_domain::partner::PartnerKind;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerKey {
    pub kind: PartnerKind,
    pub access_key_id: String,
    pub secret: String,
}

pub struct PartnerKeys {
    keys: Vec<PartnerKey>,
}

fn make() -> String {
    let id = format!("AKID{}", crate::secrets::random_hex(8).to_uppercase());
    format!("{id}:{}", crate::secrets::random_hex(20))
}

fn parse(kind: PartnerKind, text: &str) -> anyhow::Result<PartnerKey> {
    let (id, secret) = text
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("the {} partner key file is damaged", kind.name()))?;
    Ok(PartnerKey {
        kind,
        access_key_id: id.to_owned(),
        secret: secret.to_owned(),
    })
}

impl PartnerKeys {
    /// The keys in `dir/partner-keys/`, each made on first use.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        let dir = dir.join("partner-keys");
        let keys = PartnerKind::ALL
            .iter()
            .map(|k| parse(*k, &crate::secrets::read_or_create(&dir, k.name(), make)?))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { keys })
    }

    /// Keys that live as long as the process.
    pub fn ephemeral() -> Self {
        let keys = PartnerKind::ALL
            .iter()
            .filter_map(|k| parse(*k, &make()).ok())
            .collect();
        Self { keys }
    }

    /// The key of a partner kind.
    pub fn of(&self, kind: PartnerKind) -> Option<&PartnerKey> {
        self.keys.iter().find(|k| k.kind == kind)
    }

    pub fn by_access_key(&self, access_key_id: &str) -> Option<&PartnerKey> {
        self.keys.iter().find(|k| k.access_key_id == access_key_id)
    }
}

/// Puts events as partners do: locally, `PutEvents` to the OMS signed
/// with each partner kind's key; in `--aws` mode, on the bus (an
/// emulator's or AWS's) with the credentials of the environment.
pub struct PartnerSender {
    clients: Vec<(PartnerKind, aws_sdk_eventbridge::Client)>,
    bus: Option<String>,
}

impl PartnerSender {
    /// Signed with the keys in `data_dir`, to the OMS at `url`.
    pub fn local(data_dir: &Path, url: &str) -> anyhow::Result<Self> {
        Self::with_keys(&PartnerKeys::open(data_dir)?, url)
    }

    /// Signed with `keys`, to the OMS at `url`.
    pub fn with_keys(keys: &PartnerKeys, url: &str) -> anyhow::Result<Self> {
        let mut clients = Vec::new();
        for kind in PartnerKind::ALL {
            let key = keys
                .of(kind)
                .ok_or_else(|| anyhow::anyhow!("no key for {}", kind.name()))?;
            let credentials = aws_sdk_eventbridge::config::Credentials::new(
                &key.access_key_id,
                &key.secret,
                None,
                None,
                "oms-partner",
            );
            let config = aws_sdk_eventbridge::Config::builder()
                .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
                .region(aws_sdk_eventbridge::config::Region::new("us-east-1"))
                .endpoint_url(url)
                .credentials_provider(credentials)
                .http_client(oms_aws::env::http_client())
                .build();
            clients.push((kind, aws_sdk_eventbridge::Client::from_conf(config)));
        }
        Ok(Self { clients, bus: None })
    }

    /// On the bus `bus`, with the environment's endpoint and credentials.
    pub async fn on_bus(bus: &str) -> Self {
        let client = aws_sdk_eventbridge::Client::new(&oms_aws::env::sdk_config().await);
        Self {
            clients: PartnerKind::ALL
                .into_iter()
                .map(|k| (k, client.clone()))
                .collect(),
            bus: Some(bus.to_owned()),
        }
    }

    /// Puts one event from `kind`'s default source; the answer as
    /// `PutEvents` gives it (`{"FailedEntryCount","Entries"}`).
    pub async fn put(
        &self,
        kind: PartnerKind,
        detail_type: &str,
        detail: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        self.put_as(kind, &kind.default_source(), detail_type, detail)
            .await
    }

    /// [`PartnerSender::put`] claiming `source` (which the OMS checks
    /// against what `kind` may send).
    pub async fn put_as(
        &self,
        kind: PartnerKind,
        source: &str,
        detail_type: &str,
        detail: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let client = self
            .clients
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, c)| c)
            .ok_or_else(|| anyhow::anyhow!("no client for {}", kind.name()))?;
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .source(source)
            .detail_type(detail_type)
            .detail(detail.to_string())
            .set_event_bus_name(self.bus.clone())
            .build();
        let out = client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "PutEvents: {}",
                    aws_sdk_eventbridge::error::DisplayErrorContext(e)
                )
            })?;
        let answers: Vec<serde_json::Value> = out
            .entries()
            .iter()
            .map(|e| match e.event_id() {
                Some(id) => serde_json::json!({"EventId": id}),
                None => serde_json::json!({"ErrorCode": e.error_code(), "ErrorMessage": e.error_message()}),
            })
            .collect();
        Ok(serde_json::json!({"FailedEntryCount": out.failed_entry_count, "Entries": answers}))
    }
}

/// Sends `(source, detail type, detail)` entries to the OMS at `url` as
/// their partners would: signed with the key of the partner kind whose
/// default source each entry names, `orderId` set in each detail when
/// `order_id` is given. Prints each answer as one line of JSON; an entry
/// the OMS failed makes the command fail.
pub async fn send(
    data_dir: &Path,
    url: &str,
    entries: Vec<(String, String, String)>,
    order_id: Option<&str>,
) -> anyhow::Result<()> {
    let sender = PartnerSender::local(data_dir, url)?;
    let mut failed = 0;
    for (source, detail_type, detail) in entries {
        let kind = PartnerKind::ALL
            .into_iter()
            .find(|k| k.default_source() == source)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "source {source} is no partner kind's (partner.payments, partner.wms, …)"
                )
            })?;
        let mut detail: serde_json::Value = serde_json::from_str(&detail)
            .map_err(|e| anyhow::anyhow!("the detail is not JSON: {e}"))?;
        if let (Some(id), Some(obj)) = (order_id, detail.as_object_mut()) {
            obj.insert("orderId".into(), serde_json::Value::String(id.to_owned()));
        }
        let answer = sender.put(kind, &detail_type, &detail).await?;
        failed += answer["FailedEntryCount"].as_i64().unwrap_or(0);
        println!("{answer}");
    }
    if failed > 0 {
        anyhow::bail!("{failed} entries failed");
    }
    Ok(())
}
