//! The DynamoDB Streams edge of the relay function: the records of the
//! table's stream in (only what the relay reads of them: the new image's
//! `outbox`), the first record to retry out.

use oms_app::store::Value;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A batch of stream records, as Lambda hands it over.
#[derive(Debug, Deserialize)]
pub struct StreamEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<StreamRecord>,
}

#[derive(Debug, Deserialize)]
pub struct StreamRecord {
    pub dynamodb: StreamData,
}

#[derive(Debug, Deserialize)]
pub struct StreamData {
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
    #[serde(rename = "NewImage", default)]
    pub new_image: HashMap<String, serde_json::Value>,
}

impl StreamRecord {
    /// The new image's `outbox` (DynamoDB JSON: `{"S": ...}`, or
    /// `{"B": "<base64>"}` when the store deflated it), as the store port
    /// hands it back.
    pub fn outbox(&self) -> Option<Value> {
        self.string_attr(oms_app::outbox::ATTR)
    }

    /// The new image's derived additions (KPI delta, stock) with the
    /// record's sequence number.
    pub fn kpi(&self) -> Option<oms_app::kpi::Record> {
        let packed = self.string_attr(oms_app::kpi::ATTR)?;
        let mut item = oms_app::store::Attrs::new();
        item.insert(oms_app::kpi::ATTR.to_owned(), packed);
        Some(oms_app::kpi::Record {
            sequence: self.dynamodb.sequence_number.clone()?,
            delta: oms_app::kpi::delta_of(&item)?,
        })
    }

    /// A string attribute of the new image, inflated if the store deflated it.
    fn string_attr(&self, name: &str) -> Option<Value> {
        let attr = self.dynamodb.new_image.get(name)?;
        if let Some(s) = attr.get("S").and_then(|s| s.as_str()) {
            return Some(Value::S(s.to_owned()));
        }
        let b = aws_smithy_types::base64::decode(attr.get("B")?.as_str()?).ok()?;
        crate::dynamo::from_stored(name, aws_sdk_dynamodb::types::AttributeValue::B(b.into())).ok()
    }
}

/// What the relay answers: the records to deliver again.
#[derive(Debug, Default, Serialize)]
pub struct StreamResponse {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
}

#[derive(Debug, Serialize)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_outbox_of_the_new_image() {
        let event: StreamEvent = serde_json::from_value(serde_json::json!({"Records": [{
            "eventID": "1", "eventName": "MODIFY",
            "dynamodb": {"SequenceNumber": "42", "NewImage": {
                "pk": {"S": "ORDER#ord_1"}, "outbox": {"B": "AQID"}
            }}
        }, {
            "eventID": "2", "eventName": "MODIFY",
            "dynamodb": {"SequenceNumber": "43", "NewImage": {"outbox": {"S": "[]"}}}
        }]}))
        .unwrap();
        assert_eq!(event.records[0].outbox(), Some(Value::B(vec![1, 2, 3])));
        assert_eq!(event.records[1].outbox(), Some(Value::S("[]".into())));
        assert_eq!(
            event.records[0].dynamodb.sequence_number.as_deref(),
            Some("42")
        );
    }
}
