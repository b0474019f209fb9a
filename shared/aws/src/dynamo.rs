//! The store port on DynamoDB.
//!
//! One write is a conditional `PutItem` / `UpdateItem` / `DeleteItem` (one
//! write unit per KB); several are one `TransactWriteItems` (two units per
//! KB), used only where atomicity across items is the point. Conditional
//! failures are read from the typed errors and the per-item cancellation
//! reasons, never from messages. Reads are strongly consistent unless the caller says
//! [`Read::Eventual`]; queries always are.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use oms_app::store::{
    Attrs, Cond, INDEXES, Items, Key, Query, Read, StoreError, Value, Write, check_batch,
};
use std::collections::HashMap;
use std::time::Duration;

/// Attempts for a transaction cancelled by a conflicting one in flight.
const CONFLICT_ATTEMPTS: u32 = 6;

#[derive(Clone)]
pub struct DynamoItems {
    client: Client,
    table: String,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("dynamodb: {e}"))
}

fn sdk_error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    unavailable(aws_sdk_dynamodb::error::DisplayErrorContext(e))
}

/// The outcome of a single conditional write: the typed "condition failed"
/// error of each operation becomes [`StoreError::ConditionFailed`].
fn single_outcome<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    is_condition_failure: impl Fn(&E) -> bool,
) -> Result<(), StoreError>
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(err) if err.as_service_error().is_some_and(&is_condition_failure) => {
            Err(StoreError::ConditionFailed { index: 0 })
        }
        Err(err) => Err(sdk_error(err)),
    }
}

/// Strings longer than this are stored deflated when that makes them
/// shorter (write units are charged per KB: a delivered order's 2.2 KB
/// document is stored in about 400 bytes; a change's KPI delta and stock
/// additions, a few hundred bytes of JSON, in a third of that). Shorter
/// strings — keys, search keys, fingerprints, sequence numbers that
/// conditions compare — stay as they are.
const COMPRESS_OVER: usize = 120;
/// The first bytes of a binary attribute that holds a string deflated with
/// the preset dictionary [`DICTIONARY`] (raw deflate, no header).
const DEFLATED: &[u8] = b"\xDE\x02";
/// The mark of strings deflated with [`DICTIONARY_V1`] (still read).
const DEFLATED_V1: &[u8] = b"\xDE\x01";
/// What order documents and outboxes are made of (their keys, statuses,
/// event types, actors), so that even a small document compresses well.
/// Items written with it can only be read with it: a new dictionary gets
/// a new mark, and this one stays.
const DICTIONARY: &[u8] = include_bytes!("deflate-dictionary-v2.txt");
/// The first dictionary, before prices, documents and derived additions.
const DICTIONARY_V1: &[u8] = include_bytes!("deflate-dictionary-v1.txt");
/// Largest inflated string accepted (a guard against a damaged item).
const MAX_INFLATED: usize = 4 * 1024 * 1024;

fn deflate(text: &[u8]) -> Vec<u8> {
    deflate_with(text, DICTIONARY, DEFLATED)
}

fn deflate_with(text: &[u8], dictionary: &[u8], mark: &[u8]) -> Vec<u8> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    let mut c = Compress::new(Compression::best(), false);
    // Setting the dictionary of a fresh raw stream cannot fail.
    let _ = c.set_dictionary(dictionary);
    let mut out = Vec::with_capacity(mark.len() + text.len() / 2 + 64);
    out.extend_from_slice(mark);
    loop {
        let read = c.total_in() as usize;
        match c.compress_vec(&text[read..], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return out,
            _ => out.reserve(text.len() / 4 + 64),
        }
    }
}

fn inflate(z: &[u8], dictionary: &[u8]) -> Option<Vec<u8>> {
    use flate2::{Decompress, FlushDecompress, Status};
    let mut d = Decompress::new(false);
    d.set_dictionary(dictionary).ok()?;
    let mut out = Vec::with_capacity(z.len() * 4);
    loop {
        let read = d.total_in() as usize;
        let before = d.total_out();
        match d.decompress_vec(&z[read..], &mut out, FlushDecompress::Finish) {
            Ok(Status::StreamEnd) => return Some(out),
            Ok(_) if out.len() < MAX_INFLATED => {
                if d.total_out() == before
                    && d.total_in() as usize == read
                    && out.len() < out.capacity()
                {
                    return None; // no progress: truncated input
                }
                out.reserve(z.len() * 4);
            }
            _ => return None,
        }
    }
}

/// A value as a condition compares it: exactly as given.
fn to_av(v: &Value) -> AttributeValue {
    match v {
        Value::S(s) => AttributeValue::S(s.clone()),
        Value::N(n) => AttributeValue::N(n.to_string()),
        Value::B(b) => AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b.clone())),
    }
}

/// A value as an item stores it: a long string deflated behind the
/// [`DEFLATED`] mark, everything else as given. [`from_stored`] undoes it,
/// so the port's callers never see the difference.
pub fn to_stored(v: &Value) -> AttributeValue {
    match v {
        Value::S(s) if s.len() > COMPRESS_OVER => {
            let z = deflate(s.as_bytes());
            if z.len() < s.len() {
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(z))
            } else {
                to_av(v)
            }
        }
        v => to_av(v),
    }
}

/// A stored attribute as the port hands it back (see [`to_stored`]).
pub fn from_stored(name: &str, v: AttributeValue) -> Result<Value, StoreError> {
    match v {
        AttributeValue::S(s) => Ok(Value::S(s)),
        AttributeValue::B(b) => {
            let b = b.into_inner();
            let deflated = match (b.strip_prefix(DEFLATED), b.strip_prefix(DEFLATED_V1)) {
                (Some(z), _) => Some((z, DICTIONARY)),
                (None, Some(z)) => Some((z, DICTIONARY_V1)),
                (None, None) => None,
            };
            match deflated {
                Some((z, dictionary)) => inflate(z, dictionary)
                    .and_then(|s| String::from_utf8(s).ok())
                    .map(Value::S)
                    .ok_or_else(|| unavailable(format!("stored {name} is unreadable"))),
                None => Ok(Value::B(b)),
            }
        }
        AttributeValue::N(n) => n
            .parse()
            .map(Value::N)
            .map_err(|_| unavailable("non-integer number stored")),
        _ => Err(unavailable(format!("unexpected attribute type for {name}"))),
    }
}

fn from_item(mut item: HashMap<String, AttributeValue>) -> Result<Attrs, StoreError> {
    item.remove("pk");
    item.remove("sk");
    item.into_iter()
        .map(|(k, v)| from_stored(&k, v).map(|v| (k, v)))
        .collect()
}

fn key_map(key: &Key) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk.clone())),
        ("sk".to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// Placeholders for one request's expressions.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    fn name(&mut self, name: &str) -> String {
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }
    fn value(&mut self, v: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), v);
        placeholder
    }
    fn condition(&mut self, when: &[Cond]) -> Option<String> {
        let parts: Vec<String> = when
            .iter()
            .map(|c| match c {
                Cond::Exists => "attribute_exists(pk)".to_owned(),
                Cond::NotExists => "attribute_not_exists(pk)".to_owned(),
                Cond::Absent(name) => format!("attribute_not_exists({})", self.name(name)),
                Cond::Eq(name, v) => format!("{} = {}", self.name(name), self.value(to_av(v))),
                Cond::AtLeast(name, n) => format!(
                    "{} >= {}",
                    self.name(name),
                    self.value(AttributeValue::N(n.to_string()))
                ),
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" AND "))
    }
    fn update(&mut self, set: &[(String, Value)], add: &[(String, i64)]) -> String {
        let mut out = String::new();
        if !set.is_empty() {
            let parts: Vec<String> = set
                .iter()
                .map(|(n, v)| format!("{} = {}", self.name(n), self.value(to_stored(v))))
                .collect();
            out.push_str(&format!("SET {}", parts.join(", ")));
        }
        if !add.is_empty() {
            let parts: Vec<String> = add
                .iter()
                .map(|(n, d)| {
                    format!(
                        "{} {}",
                        self.name(n),
                        self.value(AttributeValue::N(d.to_string()))
                    )
                })
                .collect();
            out.push_str(&format!(" ADD {}", parts.join(", ")));
        }
        out
    }
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<HashMap<String, AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

impl DynamoItems {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn full_item(key: &Key, attrs: &Attrs) -> HashMap<String, AttributeValue> {
        let mut item = key_map(key);
        item.extend(attrs.iter().map(|(k, v)| (k.clone(), to_stored(v))));
        item
    }

    fn transact_item(&self, w: &Write) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::default();
        let item = match w {
            Write::Put { key, attrs, when } => {
                let cond = e.condition(when);
                TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(Self::full_item(key, attrs)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(unavailable)?,
                )
            }
            Write::Update {
                key,
                set,
                add,
                when,
            } => {
                let update = e.update(set, add);
                let cond = e.condition(when);
                TransactWriteItem::builder().update(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(key)))
                        .update_expression(update)
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(unavailable)?,
                )
            }
            Write::Delete { key, when } => {
                let cond = e.condition(when);
                TransactWriteItem::builder().delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_map(key)))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(unavailable)?,
                )
            }
        };
        Ok(item.build())
    }

    /// One write without a transaction: half the write units.
    async fn write_one(&self, w: &Write) -> Result<(), StoreError> {
        let mut e = Expr::default();
        match w {
            Write::Put { key, attrs, when } => {
                let cond = e.condition(when);
                let r = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(Self::full_item(key, attrs)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .send()
                    .await;
                single_outcome(r, |e| e.is_conditional_check_failed_exception())
            }
            Write::Update {
                key,
                set,
                add,
                when,
            } => {
                let update = e.update(set, add);
                let cond = e.condition(when);
                let r = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .update_expression(update)
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .send()
                    .await;
                single_outcome(r, |e| e.is_conditional_check_failed_exception())
            }
            Write::Delete { key, when } => {
                let cond = e.condition(when);
                let r = self
                    .client
                    .delete_item()
                    .table_name(&self.table)
                    .set_key(Some(key_map(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .send()
                    .await;
                single_outcome(r, |e| e.is_conditional_check_failed_exception())
            }
        }
    }

    async fn write_many(&self, writes: &[Write]) -> Result<(), StoreError> {
        let items = writes
            .iter()
            .map(|w| self.transact_item(w))
            .collect::<Result<Vec<_>, _>>()?;
        for attempt in 0..CONFLICT_ATTEMPTS {
            let r = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match r {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let Some(cancelled) = err.as_service_error().and_then(|s| match s {
                aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                _ => None,
            }) else {
                return Err(sdk_error(err));
            };
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            if let Some(index) = codes.iter().position(|c| *c == "ConditionalCheckFailed") {
                return Err(StoreError::ConditionFailed { index });
            }
            if codes.contains(&"TransactionConflict") && attempt + 1 < CONFLICT_ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(10 << attempt)).await;
                continue;
            }
            return Err(unavailable(format!("transaction cancelled: {codes:?}")));
        }
        Err(unavailable("transaction kept conflicting"))
    }
}

#[async_trait::async_trait]
impl Items for DynamoItems {
    async fn get(&self, key: &Key, read: Read) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(read == Read::Strong)
            .send()
            .await
            .map_err(sdk_error)?;
        out.item.map(from_item).transpose()
    }

    async fn query(&self, q: &Query) -> Result<Vec<(String, Attrs)>, StoreError> {
        let (pk_name, sk_name) = match q.index {
            Some(ix) => (ix.pk, ix.sk),
            None => ("pk", "sk"),
        };
        let condition = match (&q.from, &q.to) {
            (Some(_), Some(_)) => "#p = :p AND #s BETWEEN :from AND :to",
            (Some(_), None) => "#p = :p AND #s >= :from",
            (None, Some(_)) => "#p = :p AND #s <= :to",
            (None, None) => "#p = :p",
        };
        let limit = q.limit.unwrap_or(usize::MAX);
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(q.index.map(|ix| ix.name.to_owned()))
                .key_condition_expression(condition)
                .expression_attribute_names("#p", pk_name)
                .expression_attribute_values(":p", AttributeValue::S(q.pk.clone()))
                .scan_index_forward(!q.descending)
                // An index cannot be read strongly.
                .consistent_read(q.index.is_none())
                .set_exclusive_start_key(start);
            if q.from.is_some() || q.to.is_some() {
                request = request.expression_attribute_names("#s", sk_name);
            }
            if let Some(from) = &q.from {
                request =
                    request.expression_attribute_values(":from", AttributeValue::S(from.clone()));
            }
            if let Some(to) = &q.to {
                request = request.expression_attribute_values(":to", AttributeValue::S(to.clone()));
            }
            if let Some(n) = q.limit {
                let left = n.saturating_sub(out.len()).clamp(1, 1000);
                request = request.limit(i32::try_from(left).unwrap_or(1000));
            }
            let page = request.send().await.map_err(sdk_error)?;
            for item in page.items.unwrap_or_default() {
                let sk = match item.get(sk_name) {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => return Err(unavailable("item without sort key")),
                };
                let attrs = if q.index.is_some() {
                    let mut keys = Attrs::new();
                    for name in ["pk", "sk"] {
                        if let Some(AttributeValue::S(v)) = item.get(name) {
                            keys.insert(name.to_owned(), Value::S(v.clone()));
                        }
                    }
                    keys
                } else {
                    from_item(item)?
                };
                out.push((sk, attrs));
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    async fn write(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        check_batch(&writes)?;
        match writes.as_slice() {
            [one] => self.write_one(one).await,
            many => self.write_many(many).await,
        }
    }
}

/// Creates the OMS table (`pk`/`sk` strings, on-demand, TTL on `expiresAt`,
/// a stream of new images for the outbox relay) unless it exists. Returns whether it was created. The same definition is
/// in `infra/template.yaml`; a test keeps them equal.
pub async fn create_table(client: &Client, table: &str) -> Result<bool, StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
        TimeToLiveSpecification,
    };
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(unavailable)
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .map_err(unavailable)
    };
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk")?)
        .attribute_definitions(attr("sk")?)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?);
    for ix in INDEXES {
        create = create
            .attribute_definitions(attr(ix.pk)?)
            .attribute_definitions(attr(ix.sk)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(ix.name)
                    .key_schema(key(ix.pk, KeyType::Hash)?)
                    .key_schema(key(ix.sk, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()
                    .map_err(unavailable)?,
            );
    }
    let created = create
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(unavailable)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(false);
        }
        Err(e) => return Err(sdk_error(e)),
    }
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expiresAt")
                .enabled(true)
                .build()
                .map_err(unavailable)?,
        )
        .send()
        .await
        .map_err(sdk_error)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_stored_deflated_and_read_back_as_given() {
        let long = Value::S("history entry ".repeat(100));
        let stored = to_stored(&long);
        let AttributeValue::B(b) = &stored else {
            panic!("a long string is stored as binary")
        };
        assert!(b.as_ref().starts_with(DEFLATED));
        assert!(b.as_ref().len() < 100, "{} bytes", b.as_ref().len());
        assert_eq!(from_stored("doc", stored).unwrap(), long);

        let short = Value::S("PLACED".into());
        assert_eq!(to_stored(&short), AttributeValue::S("PLACED".into()));
        let raw = Value::B(vec![1, 2, 3]);
        assert_eq!(from_stored("x", to_stored(&raw)).unwrap(), raw);
        let damaged = AttributeValue::B([DEFLATED, &[9, 9, 9]].concat().into());
        assert!(from_stored("doc", damaged).is_err());
        let AttributeValue::B(whole) = to_stored(&long) else {
            unreachable!()
        };
        let cut = AttributeValue::B(whole.as_ref()[..whole.as_ref().len() / 2].to_vec().into());
        assert!(
            from_stored("doc", cut).is_err(),
            "a truncated value is refused"
        );

        // A shipped order's document (2.2 KB of JSON) fits one write unit.
        let doc = include_str!("../testdata/shipped-order.json").trim();
        let AttributeValue::B(small) = to_stored(&Value::S(doc.into())) else {
            panic!("stored deflated")
        };
        assert!(small.as_ref().len() < 600, "{} bytes", small.as_ref().len());
        assert_eq!(
            from_stored("doc", AttributeValue::B(small)).unwrap(),
            Value::S(doc.into())
        );
        // Written with the first dictionary: still read.
        let old = deflate_with(doc.as_bytes(), DICTIONARY_V1, DEFLATED_V1);
        assert_eq!(
            from_stored("doc", AttributeValue::B(old.into())).unwrap(),
            Value::S(doc.into())
        );
    }
}
