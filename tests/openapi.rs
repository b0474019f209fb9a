//! The OpenAPI document describes every route the code serves, is what the
//! runtime serves at `GET /openapi.json`, and is kept in `openapi/openapi.json`
//! for tools (regenerate: `OMS_WRITE_GENERATED=1 cargo test --test openapi`).

mod common;

use common::*;

#[test]
fn every_route_is_documented_and_the_file_is_current() {
    assert!(
        oms_contracts::openapi::undocumented_routes().is_empty(),
        "{:?}",
        oms_contracts::openapi::undocumented_routes()
    );
    let doc = oms_contracts::openapi::document();
    let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("OMS_WRITE_GENERATED").is_some() {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi")).expect("dir");
        std::fs::write(path, &text).expect("write");
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == text,
        "openapi/openapi.json is out of date: OMS_WRITE_GENERATED=1 cargo test --test openapi"
    );
    let paths = doc["paths"].as_object().expect("paths");
    for r in oms_app::wiring::ROUTES {
        assert!(
            paths[r.path][r.method.to_lowercase()].is_object(),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[tokio::test]
async fn the_runtime_serves_it_and_responses_match_it() {
    let oms = Oms::start().await;
    let (s, served) = oms.get("/openapi.json").await;
    assert_eq!((s, &served), (200, &oms_contracts::openapi::document()));
    // A real error and a real order validate against their documented schemas.
    let components = served["components"]["schemas"].clone();
    let validate = |name: &str, instance: &serde_json::Value| {
        let schema = serde_json::json!({"$ref": format!("#/components/schemas/{name}"), "components": {"schemas": components}});
        let v = jsonschema::validator_for(&schema).expect("schema");
        let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?} in {instance}");
    };
    let (_, err) = oms.get("/orders/ord_missing").await;
    validate("ErrorBody", &err);
    oms.location("wh-sp", SAO_PAULO.0, SAO_PAULO.1).await;
    oms.stock("A", "wh-sp", 5).await;
    let (_, placed) = oms.post_order(&order(&[("A", 1)]), None).await;
    let routed = oms.settled(placed["orderId"].as_str().unwrap()).await;
    validate("Order", &routed);
    let (_, stock) = oms.get("/inventory/A").await;
    validate("StockView", &stock);
    oms.running.stop().await;
}

#[test]
fn the_http_api_is_built_from_the_generated_document() {
    let doc = oms_contracts::openapi::aws_document();
    let text = serde_json::to_string_pretty(&doc).expect("json") + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/openapi.json");
    if std::env::var_os("OMS_WRITE_GENERATED").is_some() {
        std::fs::write(path, &text).expect("write");
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == text,
        "infra/openapi.json is out of date: OMS_WRITE_GENERATED=1 cargo test --test openapi"
    );
    for r in oms_app::wiring::ROUTES {
        let integration =
            &doc["paths"][r.path][r.method.to_lowercase()]["x-amazon-apigateway-integration"];
        let uri = integration["uri"]["Fn::Sub"].as_str().unwrap_or_default();
        assert!(
            uri.contains(&format!(
                "${{{}.Arn}}",
                oms_contracts::openapi::function_logical_id(r.function)
            )),
            "{} {}",
            r.method,
            r.path
        );
    }
}
