//! `infra/template.yaml` and the code's wiring (`oms_app::wiring`) describe the
//! same system: these tests fail when one changes without the other.

use oms_app::wiring::{
    BATCH_SIZE, DEAD_LETTER_RETENTION_SECS, Function, MAX_RECEIVES, ROUTES, SUBSCRIPTIONS,
    VISIBILITY_TIMEOUT_SECS,
};
use serde_norway::Value;
use std::collections::BTreeSet;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml");
    let text = std::fs::read_to_string(path).expect("infra/template.yaml");
    serde_norway::from_str(&text).expect("the template is YAML")
}

fn resources(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v))
        .collect()
}

/// The logical id a `!Ref X` or `!GetAtt X.Attr` points at.
fn target(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) if t.value.as_str() == Some("${OmsTable.Arn}/index/*") => {
            Some("OmsTable/index/*".to_owned())
        }
        Value::Tagged(t) => {
            let s = t.value.as_str()?;
            Some(s.split('.').next().unwrap_or(s).to_owned())
        }
        _ => None,
    }
}

fn strings(v: &Value) -> BTreeSet<String> {
    match v {
        Value::Sequence(seq) => seq
            .iter()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect(),
        Value::String(s) => [s.clone()].into(),
        _ => BTreeSet::new(),
    }
}

fn function_resource(t: &Value, f: Function) -> (String, &Value) {
    let found: Vec<_> = resources(t)
        .into_iter()
        .filter(|(_, r)| {
            r["Type"] == "AWS::Serverless::Function"
                && r["Metadata"]["BuildProperties"]["Binary"] == f.name()
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one function builds binary {}",
        f.name()
    );
    found.into_iter().next().expect("one")
}

/// The queue the payment-window timer is sent to: the one feeding the
/// function of the `TIMER_QUEUE` subscription.
fn timer_queue_id(t: &Value) -> String {
    let s = SUBSCRIPTIONS
        .iter()
        .find(|s| s.queue == oms_app::wiring::TIMER_QUEUE)
        .expect("timer subscription");
    let (_, consumer) = function_resource(t, s.function);
    consumer["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .find(|(_, e)| e["Type"] == "SQS")
        .and_then(|(_, e)| target(&e["Properties"]["Queue"]))
        .expect("the timer queue")
}

#[test]
fn every_function_is_deployed_as_a_cargo_lambda_arm64_function() {
    let t = template();
    assert_eq!(t["Globals"]["Function"]["Runtime"], "provided.al2023");
    assert_eq!(
        strings(&t["Globals"]["Function"]["Architectures"]),
        ["arm64".to_owned()].into()
    );
    let deployed = resources(&t)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .count();
    assert_eq!(deployed, Function::ALL.len());
    for f in Function::ALL {
        let (_, r) = function_resource(&t, f);
        assert_eq!(r["Metadata"]["BuildMethod"], "rust-cargolambda");
        // cargo-lambda builds in CodeUri: the function's own crate.
        assert_eq!(
            r["Properties"]["CodeUri"],
            format!("../functions/{}", f.name()).as_str()
        );
    }
}

#[test]
fn the_http_api_serves_exactly_the_routes_the_code_serves() {
    let t = template();
    // The API is built from the generated OpenAPI document beside the template…
    let include = &t["Resources"]["HttpApi"]["Properties"]["DefinitionBody"]["Fn::Transform"];
    assert_eq!(include["Name"], "AWS::Include");
    let location = include["Parameters"]["Location"]
        .as_str()
        .expect("Location");
    let path = format!("{}/infra/{location}", env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the included document"))
            .expect("json");
    // …whose integrations are exactly the route table, each to its function.
    let mut declared = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let uri = op["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
                .as_str()
                .expect("a Lambda integration");
            let function = Function::ALL
                .into_iter()
                .find(|f| {
                    uri.contains(&format!(
                        "${{{}.Arn}}",
                        oms_contracts::openapi::function_logical_id(*f)
                    ))
                })
                .expect("an integration with a function of this stack");
            declared.insert((method.to_uppercase(), path.clone(), function));
        }
    }
    let wired: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned(), r.function))
        .collect();
    assert_eq!(declared, wired);
    // Every route takes a bearer token from the JWT authorizer, with exactly
    // the scopes of the roles the code lets in.
    let authorizer = &doc["components"]["securitySchemes"][oms_contracts::openapi::AUTHORIZER];
    assert_eq!(
        authorizer["x-amazon-apigateway-authorizer"]["type"], "jwt",
        "{authorizer}"
    );
    assert_eq!(
        authorizer["x-amazon-apigateway-authorizer"]["identitySource"],
        "$request.header.Authorization"
    );
    for r in ROUTES {
        let security = &doc["paths"][r.path][r.method.to_lowercase()]["security"];
        let scopes: BTreeSet<String> = security[0][oms_contracts::openapi::AUTHORIZER]
            .as_array()
            .unwrap_or_else(|| panic!("{} {} has no authorizer", r.method, r.path))
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect();
        let roles: BTreeSet<String> = r.roles.iter().map(|x| x.scope().to_owned()).collect();
        assert_eq!(scopes, roles, "{} {}", r.method, r.path);
    }
    // The issuer is the stack's user pool unless one is given, whose
    // resource server defines exactly the roles' scopes.
    let server = &t["Resources"]["OmsResourceServer"]["Properties"];
    let identifier = server["Identifier"].as_str().expect("identifier");
    let defined: BTreeSet<String> = server["Scopes"]
        .as_sequence()
        .expect("scopes")
        .iter()
        .filter_map(|s| s["ScopeName"].as_str().map(|n| format!("{identifier}/{n}")))
        .collect();
    let roles: BTreeSet<String> = oms_domain::access::Role::ALL
        .iter()
        .map(|r| r.scope().to_owned())
        .collect();
    assert_eq!(defined, roles);
    // API Gateway may invoke exactly the functions that serve routes.
    for f in Function::ALL {
        let id = oms_contracts::openapi::function_logical_id(f);
        let permitted = resources(&t).iter().any(|(_, r)| {
            r["Type"] == "AWS::Lambda::Permission"
                && r["Properties"]["Principal"] == "apigateway.amazonaws.com"
                && target(&r["Properties"]["FunctionName"]).as_deref() == Some(id.as_str())
        });
        let serves = ROUTES.iter().any(|r| r.function == f);
        assert_eq!(permitted, serves, "{} API permission", f.name());
        let (_, r) = function_resource(&t, f);
        let http_events = r["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(|(_, e)| e["Type"] == "HttpApi")
            .count();
        assert_eq!(
            http_events, 0,
            "routes live in the OpenAPI document, not in function events"
        );
    }
}

/// A queue resource's name in `oms_app::wiring` (its `QueueName` is
/// `oms-${Stage}-<name>`).
fn queue_name(t: &Value, id: &str) -> Option<String> {
    let name = &t["Resources"][id]["Properties"]["QueueName"];
    let sub = match name {
        Value::Tagged(tagged) => tagged.value.as_str()?.to_owned(),
        other => other.as_str()?.to_owned(),
    };
    sub.strip_prefix("oms-${Stage}-").map(str::to_owned)
}

#[test]
fn each_queue_feeds_its_function_and_partner_events_come_by_rules_only() {
    let t = template();
    let all = resources(&t);
    // Rules into the OMS's queues; the ops alerts rule feeds a topic.
    let rules: Vec<_> = all
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
        .filter(|(_, r)| {
            target(&r["Properties"]["Targets"][0]["Arn"]).as_deref() != Some("OpsAlertsTopic")
        })
        .collect();
    let partner_subscriptions = SUBSCRIPTIONS.iter().filter(|s| !s.is_internal()).count();
    assert_eq!(
        rules.len(),
        partner_subscriptions,
        "a rule per partner subscription; the OMS's own events come from the relay"
    );
    let ops = &all
        .iter()
        .find(|(id, _)| id == "SlaAlertsRule")
        .expect("the SLA alerts rule")
        .1["Properties"]["EventPattern"];
    let published = oms_app::outbox::Publish::default();
    for t in strings(&ops["detail-type"]) {
        assert!(
            published.includes(&t),
            "{t} goes to operations, so it must be on the bus by default"
        );
    }
    for s in SUBSCRIPTIONS {
        let (_, consumer) = function_resource(&t, s.function);
        let sqs_events: Vec<&Value> = consumer["Properties"]["Events"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(_, e)| e)
            .filter(|e| e["Type"] == "SQS")
            .collect();
        assert_eq!(
            sqs_events.len(),
            1,
            "{} consumes one queue",
            s.function.name()
        );
        let e = sqs_events[0];
        assert_eq!(
            e["Properties"]["BatchSize"].as_u64(),
            Some(BATCH_SIZE as u64)
        );
        assert_eq!(
            strings(&e["Properties"]["FunctionResponseTypes"]),
            ["ReportBatchItemFailures".to_owned()].into()
        );
        let queue_id = target(&e["Properties"]["Queue"]).expect("queue reference");
        assert_eq!(queue_name(&t, &queue_id).as_deref(), Some(s.queue));
        let queue = &t["Resources"][queue_id.as_str()];
        assert_eq!(queue["Type"], "AWS::SQS::Queue");
        assert_eq!(
            queue["Properties"]["VisibilityTimeout"].as_u64(),
            Some(u64::from(VISIBILITY_TIMEOUT_SECS))
        );
        let redrive = &queue["Properties"]["RedrivePolicy"];
        assert_eq!(
            redrive["maxReceiveCount"].as_u64(),
            Some(u64::from(MAX_RECEIVES))
        );
        let dlq_id = target(&redrive["deadLetterTargetArn"]).expect("dead-letter queue");
        assert_eq!(
            t["Resources"][dlq_id.as_str()]["Properties"]["MessageRetentionPeriod"].as_u64(),
            Some(u64::from(DEAD_LETTER_RETENTION_SECS))
        );
        let alarmed = all.iter().any(|(_, r)| {
            r["Type"] == "AWS::CloudWatch::Alarm"
                && r["Properties"]["Dimensions"]
                    .as_sequence()
                    .is_some_and(|d| {
                        d.iter()
                            .any(|x| target(&x["Value"]).as_deref() == Some(dlq_id.as_str()))
                    })
        });
        assert!(alarmed, "the dead-letter queue {dlq_id} has an alarm");

        let feeding: Vec<_> = rules
            .iter()
            .filter(|(_, r)| {
                r["Properties"]["Targets"].as_sequence().is_some_and(|ts| {
                    ts.iter()
                        .any(|x| target(&x["Arn"]).as_deref() == Some(queue_id.as_str()))
                })
            })
            .collect();
        if s.is_internal() {
            assert!(feeding.is_empty(), "the relay feeds {queue_id}, not a rule");
            continue;
        }
        assert_eq!(feeding.len(), 1, "one rule feeds {queue_id}");
        let pattern = &feeding[0].1["Properties"]["EventPattern"];
        assert_eq!(
            strings(&pattern["source"]),
            s.sources.iter().map(|x| x.to_string()).collect()
        );
        assert_eq!(
            strings(&pattern["detail-type"]),
            s.detail_types.iter().map(|x| x.to_string()).collect()
        );
        let keys = if s.sources.is_empty() { 1 } else { 2 };
        assert_eq!(
            pattern.as_mapping().map(|m| m.len()),
            Some(keys),
            "the pattern matches on source and detail-type only"
        );
    }
}

#[test]
fn the_relay_reads_committed_outboxes_and_knows_every_queue_it_feeds() {
    let t = template();
    let table = &t["Resources"]["OmsTable"]["Properties"];
    assert_eq!(table["StreamSpecification"]["StreamViewType"], "NEW_IMAGE");
    let (_, relay) = function_resource(&t, Function::Relay);
    let stream = relay["Properties"]["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .map(|(_, e)| e)
        .find(|e| e["Type"] == "DynamoDB")
        .expect("a stream event");
    assert_eq!(
        target(&stream["Properties"]["Stream"]).as_deref(),
        Some("OmsTable")
    );
    // Only records with an outbox or a KPI delta, stored either way.
    let filtered: BTreeSet<String> = stream["Properties"]["FilterCriteria"]["Filters"]
        .as_sequence()
        .expect("filters")
        .iter()
        .map(|f| {
            let pattern: serde_json::Value =
                serde_json::from_str(f["Pattern"].as_str().expect("a pattern")).expect("json");
            let image = pattern["dynamodb"]["NewImage"].as_object().expect("image");
            assert_eq!(image.len(), 1, "{pattern}");
            image.keys().next().cloned().unwrap_or_default()
        })
        .collect();
    assert_eq!(
        filtered,
        [
            oms_app::outbox::ATTR.to_owned(),
            oms_app::kpi::ATTR.to_owned()
        ]
        .into()
    );
    assert_eq!(
        stream["Properties"]["BisectBatchOnFunctionError"], false,
        "a failed batch must come again whole (the KPI sums' markers)"
    );
    assert!(
        target(&stream["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]).is_some()
    );
    let urls = &relay["Properties"]["Environment"]["Variables"]["OMS_QUEUE_URLS"];
    let urls = match urls {
        Value::Tagged(tagged) => tagged.value.as_str().unwrap_or_default().to_owned(),
        other => other.as_str().unwrap_or_default().to_owned(),
    };
    let named: BTreeSet<String> = urls
        .split(',')
        .filter_map(|kv| kv.split_once('=').map(|(k, _)| k.to_owned()))
        .collect();
    let wanted: BTreeSet<String> = oms_contracts::iam::sends_to(Function::Relay)
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(named, wanted);
}

#[test]
fn partners_may_put_only_their_own_sources_and_never_the_oms_source() {
    let t = template();
    let defaults = oms_domain::partner::PartnerSources::default();
    let policies: Vec<_> = resources(&t)
        .into_iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::EventBusPolicy")
        .collect();
    assert_eq!(policies.len(), oms_domain::partner::PartnerKind::ALL.len());
    for kind in oms_domain::partner::PartnerKind::ALL {
        let (_, policy) = policies
            .iter()
            .find(|(id, _)| id.to_lowercase().starts_with(kind.name()))
            .unwrap_or_else(|| panic!("a bus policy for the {} partner", kind.name()));
        let statement = &policy["Properties"]["Statement"];
        assert_eq!(statement["Action"], "events:PutEvents");
        let sources = strings(&statement["Condition"]["StringEquals"]["events:source"]);
        let allowed: BTreeSet<String> = defaults.sources_of(kind).iter().cloned().collect();
        assert_eq!(sources, allowed, "{}", kind.name());
        assert!(!sources.contains(oms_domain::events::OMS_SOURCE));
    }
    // Timers reach their queue directly, never through a rule.
    for s in SUBSCRIPTIONS {
        for timer in s.timers {
            assert!(!s.detail_types.contains(timer));
        }
    }
}

#[test]
fn each_function_may_call_exactly_what_its_code_calls() {
    let t = template();
    for f in Function::ALL {
        let (_, r) = function_resource(&t, f);
        let mut table = BTreeSet::new();
        let mut indexes = BTreeSet::new();
        let mut events = BTreeSet::new();
        let mut sends = BTreeSet::new();
        for policy in r["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            for st in policy["Statement"].as_sequence().expect("statements") {
                assert_eq!(st["Effect"], "Allow");
                let on = target(&st["Resource"]).expect("a resource of this stack, never *");
                let actions = strings(&st["Action"]);
                match on.as_str() {
                    "OmsTable" => table.extend(actions),
                    "OmsTable/index/*" => indexes.extend(actions),
                    "OmsBus" => events.extend(actions),
                    q => {
                        assert_eq!(
                            actions,
                            ["sqs:SendMessage".to_owned()].into(),
                            "{} on {q}",
                            f.name()
                        );
                        sends.insert(
                            queue_name(&t, q)
                                .unwrap_or_else(|| panic!("{} may act on {q}", f.name())),
                        );
                    }
                }
            }
        }
        let mut want_sends: BTreeSet<String> = oms_contracts::iam::sends_to(f)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if f == Function::Relay {
            // Its event source mapping's destination for records that fail.
            want_sends.insert("relay-dlq".to_owned());
        }
        assert_eq!(sends, want_sends, "{} queues", f.name());
        let env = &r["Properties"]["Environment"]["Variables"]["OMS_TIMER_QUEUE_URL"];
        assert_eq!(
            target(env),
            (f == Function::Payment).then(|| timer_queue_id(&t)),
            "{} OMS_TIMER_QUEUE_URL",
            f.name()
        );
        let want: BTreeSet<String> = oms_contracts::iam::table_actions(f)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(table, want, "{} table actions", f.name());
        let want: BTreeSet<String> = oms_contracts::iam::index_actions(f)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(indexes, want, "{} index actions", f.name());
        let want_events: BTreeSet<String> = if oms_contracts::iam::publishes(f) {
            ["events:PutEvents".to_owned()].into()
        } else {
            BTreeSet::new()
        };
        assert_eq!(events, want_events, "{} bus actions", f.name());
    }
}

#[test]
fn the_table_matches_the_one_the_code_provisions() {
    let t = template();
    let table = &t["Resources"]["OmsTable"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expiresAt"
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    let keys: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .expect("keys")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap_or_default().to_owned(),
                k["KeyType"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("pk".to_owned(), "HASH".to_owned()),
            ("sk".to_owned(), "RANGE".to_owned())
        ]
    );
    let indexes = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes");
    assert_eq!(indexes.len(), oms_app::store::INDEXES.len());
    for ix in oms_app::store::INDEXES {
        let declared = indexes
            .iter()
            .find(|i| i["IndexName"] == ix.name)
            .unwrap_or_else(|| panic!("index {} is not in the template", ix.name));
        assert_eq!(declared["Projection"]["ProjectionType"], "KEYS_ONLY");
        assert_eq!(declared["KeySchema"][0]["AttributeName"], ix.pk);
        assert_eq!(declared["KeySchema"][1]["AttributeName"], ix.sk);
    }
}
