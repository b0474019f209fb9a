//! The event contract cannot drift: the JSON Schemas in `events/schemas/`
//! and the catalog page `docs/events.md` are what the Rust types generate,
//! and every example and sample validates against its schema.
//!
//! After changing an event type: `OMS_WRITE_GENERATED=1 cargo test --test catalog`.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn all_schemas() -> Vec<(String, Value)> {
    let mut all = oms_contracts::catalog::domain_schemas();
    all.extend(oms_contracts::catalog::partner_schemas());
    all
}

/// Compares a generated file with the one on disk (or writes it).
fn check_generated(path: &Path, generated: &str) -> Option<String> {
    if std::env::var_os("OMS_WRITE_GENERATED").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, generated).expect("write");
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(on_disk) if on_disk == generated => None,
        _ => Some(format!("{} is out of date", path.display())),
    }
}

fn partner_examples() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("events/partner"))
        .expect("events/partner")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut out: Vec<(String, Value)> = Vec::new();
    for f in files {
        let entries: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("entries");
        for e in entries {
            let t = e["DetailType"].as_str().expect("DetailType").to_owned();
            if !out.iter().any(|(x, _)| *x == t) {
                out.push((
                    t,
                    serde_json::from_str(e["Detail"].as_str().expect("Detail")).expect("json"),
                ));
            }
        }
    }
    out
}

#[test]
fn schema_files_and_the_catalog_page_match_the_types() {
    let mut stale = Vec::new();
    for (name, schema) in all_schemas() {
        let text = serde_json::to_string_pretty(&schema).expect("json") + "\n";
        stale.extend(check_generated(
            &root().join(format!("events/schemas/{name}.json")),
            &text,
        ));
    }
    let md = oms_contracts::catalog::markdown(&partner_examples());
    stale.extend(check_generated(&root().join("docs/events.md"), &md));
    assert!(
        stale.is_empty(),
        "{stale:?}\nregenerate with: OMS_WRITE_GENERATED=1 cargo test --test catalog"
    );
    let expected =
        oms_domain::events::EVENT_TYPES.len() + oms_domain::partner::PARTNER_EVENTS.len();
    let on_disk = std::fs::read_dir(root().join("events/schemas"))
        .expect("dir")
        .count();
    assert_eq!(on_disk, expected, "a schema file without an event type");
}

fn validator(name: &str) -> jsonschema::Validator {
    let (_, schema) = all_schemas()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no schema for {name}"));
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn assert_valid(name: &str, instance: &Value, what: &str) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks the {name} schema: {errors:?}"
    );
}

#[test]
fn every_example_event_has_a_schema_and_validates() {
    let examples = oms_contracts::catalog::examples();
    let types: Vec<&str> = examples.iter().map(|e| e.type_name()).collect();
    assert_eq!(
        types,
        oms_domain::events::EVENT_TYPES,
        "an example for every event type"
    );
    for ev in &examples {
        let v = serde_json::to_value(ev).expect("json");
        assert_valid(ev.type_name(), &v, &format!("example {}", ev.event_id));
    }
    for (t, detail) in partner_examples() {
        assert_valid(&t, &detail, &format!("partner sample {t}"));
    }
}

#[test]
fn every_sqs_sample_carries_a_valid_event() {
    let mut seen = 0;
    for dir in std::fs::read_dir(root().join("events")).expect("events") {
        let dir = dir.expect("entry").path();
        for f in std::fs::read_dir(&dir).into_iter().flatten() {
            let f = f.expect("entry").path();
            if !f.to_string_lossy().ends_with(".sqs.json") {
                continue;
            }
            let sample: Value =
                serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("json");
            for record in sample["Records"].as_array().expect("records") {
                let body: Value = serde_json::from_str(record["body"].as_str().expect("body"))
                    .expect("an EventBridge event");
                let t = body["detail-type"].as_str().expect("detail-type");
                assert_valid(t, &body["detail"], &f.display().to_string());
                seen += 1;
            }
        }
    }
    assert!(seen >= 9, "only {seen} samples");
}

#[test]
fn schemas_refuse_what_the_types_refuse() {
    let v = validator("PaymentConfirmed");
    assert!(v.is_valid(
        &serde_json::json!({"orderId": "ord_1", "paymentId": "p", "amount": 10, "currency": "BRL"})
    ));
    assert!(!v.is_valid(&serde_json::json!({"orderId": "ord_1", "paymentId": "p", "amount": "10", "currency": "BRL"})));
    assert!(!v.is_valid(&serde_json::json!({"orderId": "not an id!", "paymentId": "p", "amount": 10, "currency": "BRL"})));
    let shipped = validator("ShipmentStatusChanged");
    assert!(!shipped.is_valid(&serde_json::json!({"orderId": "ord_1", "shipmentId": "s", "locationId": "l", "status": "LOST"})));
}
