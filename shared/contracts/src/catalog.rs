//! The event catalog as data: a JSON Schema per event (generated from the
//! Rust types), who emits and who consumes each event, and real examples
//! produced by the domain itself. `events/schemas/` and `docs/events.md` are
//! written from here, and tests fail when they fall behind.

use oms_app::wiring::{Function, SUBSCRIPTIONS};
use oms_domain::events::{DomainEvent, EVENT_TYPES, EventData};
use oms_domain::geo::GeoPoint;
use oms_domain::ids::{ExternalId, LocationId, OrderId, PartnerRef, Quantity, Sku, Text};
use oms_domain::inventory::{LineQty, Location, LocationKind};
use oms_domain::money::{Currency, Money};
use oms_domain::order::{Address, CancelCode, Cause, Customer, NewOrder, Order, OrderLine};
use oms_domain::partner::{self, PARTNER_EVENTS};
use oms_domain::routing::Availability;
use oms_domain::time::Timestamp;
use serde_json::{Value, json};

/// The functions whose handlers emit each OMS event.
pub const EMITTED_BY: &[(&str, &[Function])] = &[
    ("OrderPlaced", &[Function::OrderIntake]),
    // Intake reserves as it places; reservation when intake could not.
    (
        "InventoryReserved",
        &[Function::OrderIntake, Function::Reservation],
    ),
    (
        "InventoryShort",
        &[Function::OrderIntake, Function::Reservation],
    ),
    (
        "OrderRouted",
        &[Function::OrderIntake, Function::Reservation],
    ),
    (
        "OrderRejected",
        &[Function::OrderIntake, Function::Reservation],
    ),
    ("PaymentCaptured", &[Function::Payment]),
    ("OrderOnHold", &[Function::Payment, Function::OrderIntake]),
    ("HoldReleased", &[Function::Payment, Function::OrderIntake]),
    (
        "RerouteRequested",
        &[Function::OrderIntake, Function::Shipment],
    ),
    ("OrderReleased", &[Function::Reservation, Function::Payment]),
    (
        "RefundIssued",
        &[
            Function::OrderIntake,
            Function::Reservation,
            Function::Payment,
            Function::Shipment,
            Function::Returns,
        ],
    ),
    ("CancellationRequested", &[Function::OrderIntake]),
    ("CancellationRejected", &[Function::Shipment]),
    (
        "OrderCancelled",
        &[Function::OrderIntake, Function::Payment, Function::Shipment],
    ),
    ("OrderShipped", &[Function::Shipment]),
    ("OrderDelivered", &[Function::Shipment]),
    ("ReturnAuthorized", &[Function::Returns]),
    ("ReturnCompleted", &[Function::Returns]),
    ("OrderAtRisk", &[Function::Sla]),
    ("OrderAccepted", &[Function::Marketplace]),
    ("OrderRefused", &[Function::Marketplace]),
    ("OrderSlaBreached", &[Function::Sla]),
    (
        "PaymentWindowExpired",
        &[Function::OrderIntake, Function::Payment],
    ),
    (
        "CustomerNotificationRequested",
        &[
            Function::OrderIntake,
            Function::Reservation,
            Function::Payment,
            Function::Shipment,
            Function::Returns,
        ],
    ),
];

const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The JSON Schema of each OMS event's `detail` (the envelope), by type.
pub fn domain_schemas() -> Vec<(String, Value)> {
    let all = serde_json::to_value(schemars::schema_for!(EventData)).unwrap_or_default();
    let defs = all.get("$defs").cloned().unwrap_or_else(|| json!({}));
    let envelope = serde_json::to_value(schemars::schema_for!(OrderId)).unwrap_or_default();
    all["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|variant| {
            let name = variant["properties"]["type"]["const"].as_str()?.to_owned();
            let mut order_id = envelope.clone();
            if let Some(o) = order_id.as_object_mut() {
                o.remove("$schema");
                o.remove("title");
            }
            let schema = json!({
                "$schema": SCHEMA_DIALECT,
                "title": name,
                "description": format!("The detail of an OMS `{name}` event (source `oms`)."),
                "type": "object",
                "properties": {
                    "eventId": {"type": "string", "minLength": 1},
                    "orderId": order_id,
                    "occurredAt": {"type": "string", "format": "date-time"},
                    "type": {"const": name},
                    "data": variant["properties"]["data"].clone(),
                },
                "required": ["eventId", "orderId", "occurredAt", "type", "data"],
                "$defs": defs,
            });
            Some((name, schema))
        })
        .collect()
}

fn partner_schema<T: schemars::JsonSchema>(name: &str) -> (String, Value) {
    let mut v = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
    v["title"] = json!(name);
    v["description"] = json!(format!("The detail of a partner `{name}` event."));
    (name.to_owned(), v)
}

/// The JSON Schema of each partner event's `detail`, by type.
pub fn partner_schemas() -> Vec<(String, Value)> {
    vec![
        partner_schema::<partner::PaymentConfirmed>("PaymentConfirmed"),
        partner_schema::<partner::PaymentAuthorized>("PaymentAuthorized"),
        partner_schema::<partner::PaymentFailed>("PaymentFailed"),
        partner_schema::<partner::ShipmentStatusChanged>("ShipmentStatusChanged"),
        partner_schema::<partner::ReturnReceived>("ReturnReceived"),
        partner_schema::<partner::CancellationResponse>("CancellationResponse"),
        partner_schema::<partner::FulfillmentRejected>("FulfillmentRejected"),
        partner_schema::<partner::AtStore>("ReadyForPickup"),
        partner_schema::<partner::AtStore>("PickedUp"),
        partner_schema::<oms_domain::validation::PlaceOrderRequest>("OrderSubmitted"),
    ]
}

/// One real example of every OMS event, made by driving orders through the
/// domain with a fixed clock.
pub fn examples() -> Vec<DomainEvent> {
    let at = |n: u64| Cause {
        actor: "example".into(),
        trigger: format!("example-{n}"),
        at: Timestamp::from_millis(1_795_428_000_000 + n * 60_000),
    };
    let sku = |s: &str| Sku::parse(s).unwrap_or_else(|_| unreachable!());
    let loc = |s: &str| LocationId::parse(s).unwrap_or_else(|_| unreachable!());
    let qty = |n: i64| Quantity::new(n).unwrap_or_else(|_| unreachable!());
    let pref = |s: &str| PartnerRef::parse(s).unwrap_or_else(|_| unreachable!());
    let brl = |n: i64| Money::new(n, Currency::parse("BRL").unwrap_or_else(|_| unreachable!()));
    let new = |external: &str| NewOrder {
        channel: oms_domain::ids::Channel::parse("web").unwrap_or_else(|_| unreachable!()),
        external_id: ExternalId::parse(external).ok(),
        customer: Customer {
            id: oms_domain::ids::CustomerId::parse("c-1").unwrap_or_else(|_| unreachable!()),
            email: Some("ana@example.com".into()),
        },
        ship_to: Address {
            country: "BR".into(),
            postal_code: Some("20000-000".into()),
            city: "Rio de Janeiro".into(),
            line1: "Rua A, 1".into(),
            line2: None,
            region: None,
            point: GeoPoint::new(-22.9, -43.2).unwrap_or_else(|_| unreachable!()),
        },
        lines: vec![
            OrderLine::priced(1, sku("SKU-1"), qty(2), brl(1990))
                .unwrap_or_else(|_| unreachable!()),
            OrderLine::priced(2, sku("SKU-2"), qty(1), brl(500)).unwrap_or_else(|_| unreachable!()),
        ],
        shipping: oms_domain::pricing::ShippingCharge::free(brl(0).currency),
        coupon_codes: Vec::new(),
        account_id: None,
        purchase_order_number: None,
        credit_hold: None,
        fulfillment: Default::default(),
        bill_to: None,
        promise: None,
        total: brl(4480),
        risk: None,
        payment_method: Default::default(),
    };
    let id = |n: u8| {
        OrderId::parse(&format!("ord_0190f5a1b2c37d4e8f9a0b1c2d3e4f5{n}"))
            .unwrap_or_else(|_| unreachable!())
    };
    let mut out = Vec::new();
    let mut keep = |o: Result<oms_domain::order::Outcome, String>| {
        if let Ok(o) = o {
            out.extend(o.events);
        }
    };
    let due = Some(Timestamp::from_millis(1_795_429_800_000));

    // Delivered, a cancellation refused by the warehouse, then a return.
    let (mut o, placed) = Order::place(id(0), new("W-1001"), due, &at(0));
    keep(Ok(placed));
    let place = |id: &str, lat: f64, lon: f64| Location {
        location_id: loc(id),
        name: id.into(),
        kind: LocationKind::Warehouse,
        point: GeoPoint::new(lat, lon).unwrap_or_else(|_| unreachable!()),
        country: Some("BR".into()),
        ships_to: vec![],
        active: true,
        cutoff_hour_utc: None,
        processing_days: None,
        priority: None,
        daily_capacity: None,
        ships: true,
    };
    let locations = [
        place("wh-sp", -23.55, -46.63),
        place("st-rio", -22.9, -43.2),
    ];
    let stock = |free: &[(&str, &str, u64)]| {
        let shards = free
            .iter()
            .map(|(s, l, n)| ((sku(s), loc(l)), vec![*n]))
            .collect();
        Availability::new(&locations, shards)
    };
    keep(
        o.reserve(
            &stock(&[("SKU-1", "wh-sp", 2), ("SKU-2", "st-rio", 1)]),
            &at(1),
        )
        .map_err(|e| e.to_string()),
    );
    keep(
        o.confirm_payment(&pref("pay_81f2"), brl(4480), None, &at(3))
            .map_err(|e| e.to_string()),
    );
    keep(
        o.cancel(
            CancelCode::CustomerRequest,
            "changed my mind".into(),
            &at(4),
        )
        .map_err(|e| e.to_string()),
    );
    keep(
        o.cancellation_answered(false, Some("already packed".into()), &at(5))
            .map_err(|e| e.to_string()),
    );
    for (n, (shipment, location, status)) in [
        ("SHP-1", "wh-sp", partner::ShipmentStatus::Shipped),
        ("SHP-2", "st-rio", partner::ShipmentStatus::Delivered),
        ("SHP-1", "wh-sp", partner::ShipmentStatus::Delivered),
    ]
    .into_iter()
    .enumerate()
    {
        let update = partner::ShipmentStatusChanged {
            order_id: o.order_id.clone(),
            shipment_id: pref(shipment),
            location_id: loc(location),
            status,
            lines: None,
            carrier: Text::parse("Correios").ok(),
            tracking_number: PartnerRef::parse(&format!("BR{shipment}")).ok(),
            collected_amount: None,
        };
        keep(
            o.update_shipment(&update, &at(6 + n as u64))
                .map_err(|e| e.to_string()),
        );
    }
    let line = LineQty {
        sku: sku("SKU-1"),
        quantity: Quantity::ONE,
    };
    keep(
        o.authorize_return(
            "rma_a6b51308d5b1e894".into(),
            vec![line],
            "too small".into(),
            &at(9),
        )
        .map_err(|e| e.to_string()),
    );
    let back = [partner::ReturnedLine {
        sku: sku("SKU-1"),
        quantity: Quantity::ONE,
        condition: partner::ItemCondition::Resellable,
    }];
    keep(
        o.receive_return("rma_a6b51308d5b1e894", &back, &at(10))
            .map_err(|e| e.to_string()),
    );

    // Rejected for want of stock.
    let (mut short, _) = Order::place(id(1), new("W-1002"), due, &at(0));
    keep(
        short
            .reserve(&stock(&[("SKU-1", "wh-sp", 5)]), &at(1))
            .map_err(|e| e.to_string()),
    );

    // Held for a mismatched payment, then cancelled.
    let (mut held, _) = Order::place(id(2), new("W-1003"), due, &at(0));
    keep(
        held.confirm_payment(&pref("pay_81f3"), brl(4000), None, &at(1))
            .map_err(|e| e.to_string()),
    );
    keep(
        held.cancel(CancelCode::CustomerRequest, "customer asked".into(), &at(2))
            .map_err(|e| e.to_string()),
    );

    // Paid in two parts: held until the second arrives.
    let (mut split, _) = Order::place(id(3), new("W-1004"), due, &at(0));
    keep(
        split
            .confirm_payment(&pref("pay_81f4"), brl(4000), None, &at(1))
            .map_err(|e| e.to_string()),
    );
    keep(
        split
            .confirm_payment(&pref("pay_81f5"), brl(480), None, &at(2))
            .map_err(|e| e.to_string()),
    );

    // Routed, held by an operator and sent to be routed again.
    let (mut rerouted, _) = Order::place(id(4), new("W-1005"), due, &at(0));
    keep(
        rerouted
            .reserve(
                &stock(&[("SKU-1", "wh-sp", 2), ("SKU-2", "wh-sp", 1)]),
                &at(1),
            )
            .map_err(|e| e.to_string()),
    );
    keep(
        rerouted
            .hold_by_operator("address to be confirmed", &at(2))
            .map_err(|e| e.to_string()),
    );
    keep(
        rerouted
            .reroute("wh-sp closed for inventory", &at(3))
            .map_err(|e| e.to_string()),
    );
    // Two lines, one cancelled before release.
    let (mut shorter, _) = Order::place(id(7), new("W-1008"), due, &at(0));
    keep(
        shorter
            .cancel_line(&sku("SKU-2"), "changed my mind".into(), &at(1))
            .map_err(|e| e.to_string()),
    );

    // Paid, never shipped: at risk after 36 hours, breached after 48.
    let sla = oms_domain::search::Sla::default();
    let (mut late, _) = Order::place(id(5), new("W-1006"), due, &at(0));
    keep(
        late.reserve(
            &stock(&[("SKU-1", "wh-sp", 2), ("SKU-2", "wh-sp", 1)]),
            &at(1),
        )
        .map_err(|e| e.to_string()),
    );
    keep(
        late.confirm_payment(&pref("pay_81f6"), brl(4480), None, &at(2))
            .map_err(|e| e.to_string()),
    );
    for hours in [37, 49] {
        let cause = Cause {
            at: at(0).at.plus_millis(hours * 3_600_000),
            ..at(100 + hours)
        };
        keep(
            late.raise_sla_alert(&sla, &cause)
                .map_err(|e| format!("{e:?}")),
        );
    }

    // Authorised, captured shipment by shipment, the rest voided; the
    // second shipment refused at the door.
    let (mut authorised, _) = Order::place(id(7), new("W-1008"), due, &at(0));
    keep(
        authorised
            .reserve(
                &stock(&[("SKU-1", "wh-sp", 2), ("SKU-2", "st-rio", 1)]),
                &at(1),
            )
            .map_err(|e| e.to_string()),
    );
    keep(
        authorised
            .apply_fact(
                &partner::PartnerFact::PaymentAuthorized(partner::PaymentAuthorized {
                    order_id: id(7),
                    payment_id: pref("pay_81f7"),
                    amount: 5000,
                    currency: brl(0).currency,
                }),
                &at(2),
            )
            .map_err(|e| e.to_string()),
    );
    for (n, (shipment, location, status)) in [
        ("SHP-7", "wh-sp", partner::ShipmentStatus::Shipped),
        ("SHP-8", "st-rio", partner::ShipmentStatus::Shipped),
        ("SHP-8", "st-rio", partner::ShipmentStatus::Refused),
    ]
    .into_iter()
    .enumerate()
    {
        let update = partner::ShipmentStatusChanged {
            order_id: id(7),
            shipment_id: pref(shipment),
            location_id: loc(location),
            status,
            lines: None,
            carrier: Text::parse("Correios").ok(),
            tracking_number: PartnerRef::parse(&format!("BR{shipment}")).ok(),
            collected_amount: None,
        };
        keep(
            authorised
                .apply_fact(
                    &partner::PartnerFact::ShipmentStatusChanged(update),
                    &at(3 + n as u64),
                )
                .map_err(|e| e.to_string()),
        );
    }

    // Edited before release: one SKU-1 fewer, re-reserved in one change.
    let (mut edited, _) = Order::place(id(8), new("W-1009"), due, &at(0));
    let routed_at = stock(&[("SKU-1", "wh-sp", 2), ("SKU-2", "wh-sp", 1)]);
    keep(
        edited
            .reserve(&routed_at, &at(1))
            .map_err(|e| e.to_string()),
    );
    let mut fewer = new("W-1009");
    fewer.lines.retain(|l| l.sku == sku("SKU-2"));
    fewer.total = fewer
        .lines
        .iter()
        .map(|l| l.line_total)
        .fold(brl(0), |t, m| t.plus(m).unwrap_or(t));
    keep(
        edited
            .edit(fewer, &stock(&[]), "only the mug".into(), &at(2))
            .map_err(|e| e.to_string()),
    );

    // Backordered: one unit on hand, one coming; filled when received.
    let (mut waiting, _) = Order::place(id(10), new("W-1011"), due, &at(0));
    let coming = oms_domain::inventory::Incoming {
        free: 5,
        expected_at: Some(Timestamp::from_millis(1_796_000_000_000)),
        backorder: true,
        preorder_until: None,
        reorder_point: None,
    };
    let supply = stock(&[("SKU-1", "wh-sp", 1), ("SKU-2", "wh-sp", 1)]).with_incoming(
        [((sku("SKU-1"), loc("wh-sp")), coming)]
            .into_iter()
            .collect(),
    );
    keep(waiting.reserve(&supply, &at(1)).map_err(|e| e.to_string()));
    keep(
        waiting
            .fill_backorder(&sku("SKU-1"), &loc("wh-sp"), &at(2))
            .map_err(|e| e.to_string()),
    );

    // A reservation that takes a location to its reorder point.
    let (mut low, _) = Order::place(id(11), new("W-1012"), due, &at(0));
    let reorder = oms_domain::inventory::Incoming {
        reorder_point: Some(1),
        ..Default::default()
    };
    let shelf = stock(&[("SKU-1", "wh-sp", 3), ("SKU-2", "wh-sp", 5)]).with_incoming(
        [((sku("SKU-1"), loc("wh-sp")), reorder)]
            .into_iter()
            .collect(),
    );
    keep(low.reserve(&shelf, &at(1)).map_err(|e| e.to_string()));

    // Collected at a store: set aside, then picked up.
    let mut pickup_new = new("W-1010");
    pickup_new.fulfillment = oms_domain::order::Fulfillment {
        method: oms_domain::order::FulfillmentMethod::Pickup,
        location_id: Some(loc("st-rio")),
    };
    let (mut pickup, _) = Order::place(id(9), pickup_new, due, &at(0));
    keep(
        pickup
            .reserve(
                &stock(&[("SKU-1", "st-rio", 2), ("SKU-2", "st-rio", 1)]),
                &at(1),
            )
            .map_err(|e| e.to_string()),
    );
    keep(
        pickup
            .confirm_payment(&pref("pay_81fa"), pickup.total, None, &at(2))
            .map_err(|e| e.to_string()),
    );
    keep(
        pickup
            .ready_for_pickup(&loc("st-rio"), &at(3))
            .map_err(|e| e.to_string()),
    );
    keep(
        pickup
            .picked_up(&loc("st-rio"), &at(4))
            .map_err(|e| e.to_string()),
    );

    // A marketplace's submission, accepted; another refused.
    let channel =
        oms_domain::ids::Channel::parse("marketplace-x").unwrap_or_else(|_| unreachable!());
    let submitted = |n: &str| ExternalId::parse(n).unwrap_or_else(|_| unreachable!());
    out.push(DomainEvent {
        event_id: format!("{}.accepted", id(6)),
        order_id: id(6),
        occurred_at: at(0).at,
        data: EventData::OrderAccepted {
            channel: channel.clone(),
            external_id: submitted("MX-1001"),
        },
    });
    let refused = OrderId::for_submission(&channel, &submitted("MX-1002"));
    out.push(DomainEvent {
        event_id: format!("{refused}.refused.example"),
        order_id: refused,
        occurred_at: at(0).at,
        data: EventData::OrderRefused {
            channel,
            external_id: submitted("MX-1002"),
            errors: vec![oms_domain::events::SubmissionError {
                code: "INVALID_VALUE".into(),
                field: Some("lines[0].quantity".into()),
                message: "quantity must be between 1 and 100000".into(),
            }],
        },
    });

    out.push(DomainEvent {
        event_id: format!("{}.payment-window", id(0)),
        order_id: id(0),
        occurred_at: Timestamp::from_millis(1_795_428_000_000),
        data: EventData::PaymentWindowExpired {
            due_at: Timestamp::from_millis(1_795_429_800_000),
        },
    });
    // The first example of each type, in catalog order.
    EVENT_TYPES
        .iter()
        .filter_map(|t| out.iter().find(|e| e.type_name() == *t).cloned())
        .collect()
}

fn names(fs: &[Function]) -> String {
    fs.iter()
        .map(|f| format!("`{}`", f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn consumers(detail_type: &str) -> String {
    let fs: Vec<Function> = SUBSCRIPTIONS
        .iter()
        .filter(|s| s.detail_types.contains(&detail_type))
        .map(|s| s.function)
        .collect();
    if fs.is_empty() {
        "— (for partners and analytics)".into()
    } else {
        names(&fs)
    }
}

/// `docs/events.md`.
pub fn markdown(partner_examples: &[(String, Value)]) -> String {
    let mut md = String::from(
        "# Event catalog\n\n_Generated by `OMS_WRITE_GENERATED=1 cargo test --test catalog` from the Rust types \
         (`shared/domain/src/events.rs`, `shared/domain/src/partner.rs`) and the wiring; do not edit by hand._\n\n\
         Every event travels on the bus as an EventBridge event. OMS events have `source` `oms`, \
         `detail-type` the event type and `detail` the envelope `{eventId, type, orderId, occurredAt, data}`; \
         event ids are derived from the order and the change, so a republished event keeps its id. \
         Partner events have the partner's `source` (allow-listed per kind) and the `detail` below.\n\n\
         ## OMS events\n\n| event | emitted by | consumed by | schema |\n|---|---|---|---|\n",
    );
    for t in EVENT_TYPES {
        let by = EMITTED_BY
            .iter()
            .find(|(e, _)| e == t)
            .map(|(_, f)| names(f))
            .unwrap_or_default();
        md.push_str(&format!(
            "| [`{t}`](#{}) | {by} | {} | [schema](../events/schemas/{t}.json) |\n",
            t.to_lowercase(),
            consumers(t)
        ));
    }
    md.push_str("\n## Partner events\n\n| event | allowed senders (default sources) | consumed by | schema |\n|---|---|---|---|\n");
    for (t, kinds) in PARTNER_EVENTS {
        let senders: Vec<String> = kinds
            .iter()
            .map(|k| format!("`{}`", k.default_source()))
            .collect();
        md.push_str(&format!(
            "| [`{t}`](#{}) | {} | {} | [schema](../events/schemas/{t}.json) |\n",
            t.to_lowercase(),
            senders.join(", "),
            consumers(t)
        ));
    }
    md.push_str("\n## Examples\n\n");
    for ev in examples() {
        let json = serde_json::to_string_pretty(&ev).unwrap_or_default();
        md.push_str(&format!(
            "### {}\n\n```json\n{json}\n```\n\n",
            ev.type_name()
        ));
    }
    for (t, example) in partner_examples {
        let json = serde_json::to_string_pretty(example).unwrap_or_default();
        md.push_str(&format!("### {t}\n\n```json\n{json}\n```\n\n"));
    }
    md
}
