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
