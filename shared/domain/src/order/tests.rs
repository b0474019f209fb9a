use super::*;
use crate::ids::{LocationId, PartnerRef, Text};
use crate::partner::{ItemCondition, ReturnedLine, ShipmentStatus, ShipmentStatusChanged};
use proptest::prelude::*;

pub fn cause(ms: u64) -> Cause {
    Cause {
        actor: "test".into(),
        trigger: format!("t{ms}"),
        at: Timestamp(ms),
    }
}

pub fn brl(amount: i64) -> Money {
    Money::new(amount, Currency::parse("BRL").unwrap())
}

pub fn sample_new_order(lines: &[(&str, i64)]) -> NewOrder {
    let lines: Vec<OrderLine> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| {
            OrderLine::priced(
                i as u16 + 1,
                Sku::parse(sku).unwrap(),
                Quantity::new(*q).unwrap(),
                brl(100),
            )
            .unwrap()
        })
        .collect();
    NewOrder {
        channel: Channel::parse("web").unwrap(),
        external_id: None,
        customer: Customer {
            id: CustomerId::parse("c-1").unwrap(),
            email: None,
        },
        ship_to: Address {
            country: "BR".into(),
            postal_code: None,
            city: "Rio".into(),
            line1: "Rua 1".into(),
            line2: None,
            region: None,
            point: GeoPoint::new(-22.9, -43.2).unwrap(),
        },
        shipping: crate::pricing::ShippingCharge::free(brl(0).currency),
        coupon_codes: Vec::new(),
        account_id: None,
        purchase_order_number: None,
        credit_hold: None,
        fulfillment: Default::default(),
        bill_to: None,
        promise: None,
        total: brl(lines.iter().map(|l| l.line_total.amount).sum()),
        risk: None,
        payment_method: Default::default(),
        lines,
    }
}

fn placed() -> Order {
    Order::place(
        OrderId::parse("ord_1").unwrap(),
        sample_new_order(&[("A", 2), ("B", 1), ("A", 1)]),
        Some(Timestamp(1000)),
        &cause(1),
    )
    .0
}

fn alloc(sku: &str, loc: &str, q: i64) -> Allocation {
    Allocation::new(
        Sku::parse(sku).unwrap(),
        LocationId::parse(loc).unwrap(),
        Quantity::new(q).unwrap(),
    )
}

/// A location at `point`, shipping anywhere (or only within `country`).
pub fn location(id: &str, point: GeoPoint, country: Option<&str>) -> crate::inventory::Location {
    crate::inventory::Location {
        location_id: LocationId::parse(id).unwrap(),
        name: id.into(),
        kind: crate::inventory::LocationKind::Warehouse,
        point,
        country: country.map(str::to_owned),
        ships_to: vec![],
        active: true,
        cutoff_hour_utc: None,
        processing_days: None,
        priority: None,
        daily_capacity: None,
        ships: true,
    }
}

/// Exactly these units free — (sku, location, units), one shard each — at
/// locations by the customer's door.
pub fn stock(free: &[(&str, &str, u64)]) -> Availability {
    let here = GeoPoint::new(-22.9, -43.2).unwrap();
    let mut locations: Vec<crate::inventory::Location> = Vec::new();
    let mut shards = crate::inventory::ShardFree::new();
    for (sku, loc, units) in free {
        if !locations.iter().any(|l| l.location_id.as_str() == *loc) {
            locations.push(location(loc, here, None));
        }
        shards.insert(
            (Sku::parse(sku).unwrap(), LocationId::parse(loc).unwrap()),
            vec![*units],
        );
    }
    Availability::new(&locations, shards)
}

fn routed() -> Order {
    let mut o = placed();
    o.reserve(&stock(&[("A", "wh", 3), ("B", "st", 1)]), &cause(2))
        .unwrap();
    o
}

fn pay(
    o: &mut Order,
    id: &str,
    amount: i64,
    currency: &str,
    c: &Cause,
) -> Result<Outcome, Refusal> {
    let money = Money::new(amount, Currency::parse(currency).unwrap());
    o.confirm_payment(&PartnerRef::parse(id).unwrap(), money, None, c)
}

fn fail(o: &mut Order, id: &str, reason: &str, c: &Cause) -> Result<Outcome, Refusal> {
    o.fail_payment(&PartnerRef::parse(id).unwrap(), reason, c)
}

fn lq(sku: &str, q: i64) -> LineQty {
    LineQty {
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::new(q).unwrap(),
    }
}

fn types(outcome: &Outcome) -> Vec<&'static str> {
    outcome.events.iter().map(|e| e.type_name()).collect()
}

fn ship(
    o: &mut Order,
    id: &str,
    loc: &str,
    status: ShipmentStatus,
    at: u64,
) -> Result<Outcome, Refusal> {
    let update = ShipmentStatusChanged {
        order_id: o.order_id.clone(),
        shipment_id: PartnerRef::parse(id).unwrap(),
        location_id: LocationId::parse(loc).unwrap(),
        status,
        lines: None,
        carrier: Some(Text::parse("Correios").unwrap()),
        tracking_number: Some(PartnerRef::parse(&format!("TRK-{id}")).unwrap()),
        collected_amount: None,
    };
    o.apply_fact(
        &crate::partner::PartnerFact::ShipmentStatusChanged(update),
        &cause(at),
    )
}

#[test]
fn happy_path_records_every_transition_with_stock_moves() {
    let mut o = placed();
    assert_eq!(o.status, OrderStatus::Placed);
    let out = o
        .reserve(&stock(&[("A", "wh", 3), ("B", "st", 1)]), &cause(2))
        .unwrap();
    assert_eq!(types(&out), ["InventoryReserved", "OrderRouted"]);
    assert!(
        matches!(&out.stock[..], [StockMove::Allocate(a)] if a == &[alloc("A", "wh", 3), alloc("B", "st", 1)])
    );
    let out = pay(&mut o, "pay-1", 400, "BRL", &cause(4)).unwrap();
    assert_eq!(types(&out), ["PaymentCaptured", "OrderReleased"]);
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    let out = ship(&mut o, "s1", "wh", ShipmentStatus::Shipped, 5).unwrap();
    assert_eq!(o.status, OrderStatus::PartiallyShipped);
    assert_eq!(
        types(&out),
        ["OrderShipped", "CustomerNotificationRequested"]
    );
    assert!(matches!(&out.stock[..], [StockMove::Ship(a)] if a == &[alloc("A", "wh", 3)]));
    ship(&mut o, "s2", "st", ShipmentStatus::Shipped, 6).unwrap();
    assert_eq!(o.status, OrderStatus::Shipped);
    ship(&mut o, "s1", "wh", ShipmentStatus::Delivered, 7).unwrap();
    assert_eq!(o.status, OrderStatus::Shipped);
    let out = ship(&mut o, "s2", "st", ShipmentStatus::Delivered, 8).unwrap();
    assert_eq!(o.status, OrderStatus::Delivered);
    assert_eq!(
        types(&out),
        ["OrderDelivered", "CustomerNotificationRequested"]
    );
    let tos: Vec<_> = o.history.iter().map(|h| h.to.as_str()).collect();
    assert_eq!(
        tos,
        [
            "PLACED",
            "RESERVED",
            "ROUTED",
            "ROUTED",
            "READY_TO_SHIP",
            "PARTIALLY_SHIPPED",
            "SHIPPED",
            "SHIPPED",
            "DELIVERED"
        ]
    );
    assert!(!o.holds_stock);
}

#[test]
fn payment_before_routing_releases_as_soon_as_routed() {
    let mut o = placed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(2)).unwrap();
    assert_eq!(o.status, OrderStatus::Placed);
    let out = o
        .reserve(&stock(&[("A", "wh", 3), ("B", "wh", 1)]), &cause(3))
        .unwrap();
    assert_eq!(
        types(&out),
        ["InventoryReserved", "OrderRouted", "OrderReleased"]
    );
    assert_eq!(o.status, OrderStatus::ReadyToShip);
}

#[test]
fn a_mismatched_payment_puts_the_order_on_hold() {
    let mut o = routed();
    let out = pay(&mut o, "pay-1", 399, "BRL", &cause(4)).unwrap();
    assert_eq!(types(&out), ["PaymentCaptured", "OrderOnHold"]);
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(
        o.hold.as_ref().map(|h| h.code),
        Some(HoldCode::PaymentMismatch)
    );
    let mut o = routed();
    pay(&mut o, "pay-1", 400, "USD", &cause(4)).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    assert_eq!(
        pay(&mut o, "pay-1", 400, "USD", &cause(5)),
        Err(Refusal::Duplicate)
    );
}

#[test]
fn duplicates_and_late_facts_follow_explicit_rules() {
    let mut o = routed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(4)).unwrap();
    assert_eq!(
        pay(&mut o, "pay-1", 400, "BRL", &cause(5)),
        Err(Refusal::Duplicate)
    );
    assert!(matches!(
        fail(&mut o, "pay-1", "late", &cause(5)),
        Err(Refusal::Refused(_))
    ));
    ship(&mut o, "s1", "wh", ShipmentStatus::Shipped, 6).unwrap();
    assert_eq!(
        ship(&mut o, "s1", "wh", ShipmentStatus::Shipped, 7),
        Err(Refusal::Duplicate)
    );
    assert!(
        matches!(ship(&mut o, "s1", "wh", ShipmentStatus::Picked, 7), Err(Refusal::Refused(m)) if m.contains("stale"))
    );
    // Delivered before shipped: ships, then delivers.
    let out = ship(&mut o, "s2", "st", ShipmentStatus::Delivered, 8).unwrap();
    assert_eq!(
        types(&out),
        [
            "OrderShipped",
            "CustomerNotificationRequested",
            "OrderDelivered"
        ]
    );
    assert_eq!(out.stock.len(), 1);
    // Nothing ships that was not released.
    let mut early = routed();
    assert!(matches!(
        ship(&mut early, "s1", "wh", ShipmentStatus::Shipped, 5),
        Err(Refusal::Refused(_))
    ));
}

#[test]
fn cancellation_depends_on_how_far_the_order_went() {
    // Before release: immediate, stock released, capture refunded.
    let mut o = routed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(4)).unwrap();
    let mut o2 = routed();
    let out = o2
        .cancel(
            CancelCode::CustomerRequest,
            "changed my mind".into(),
            &cause(5),
        )
        .unwrap();
    assert_eq!(o2.status, OrderStatus::Cancelled);
    assert!(
        matches!(&out.stock[..], [StockMove::Release(a)] if a == &[alloc("A", "wh", 3), alloc("B", "st", 1)])
    );
    // After release: the warehouse is asked.
    let out = o
        .cancel(
            CancelCode::CustomerRequest,
            "changed my mind".into(),
            &cause(5),
        )
        .unwrap();
    assert_eq!(types(&out), ["CancellationRequested"]);
    assert_eq!(
        o.cancel(CancelCode::CustomerRequest, "again".into(), &cause(6)),
        Err(CancelError::AlreadyAsked)
    );
    let mut rejected = o.clone();
    rejected
        .cancellation_answered(false, None, &cause(7))
        .unwrap();
    assert_eq!(rejected.status, OrderStatus::ReadyToShip);
    let out = o.cancellation_answered(true, None, &cause(7)).unwrap();
    assert_eq!(o.status, OrderStatus::Cancelled);
    assert!(types(&out).contains(&"RefundIssued"));
    assert_eq!(o.principal_payment().map(|p| p.refunded), Some(brl(400)));
    // After shipment: a return.
    let mut shipped = routed();
    pay(&mut shipped, "pay-1", 400, "BRL", &cause(4)).unwrap();
    ship(&mut shipped, "s1", "wh", ShipmentStatus::Shipped, 5).unwrap();
    assert_eq!(
        shipped.cancel(CancelCode::CustomerRequest, "late".into(), &cause(6)),
        Err(CancelError::Shipped)
    );
}

#[test]
fn returns_refund_once_and_restock_resellable_units() {
    let mut o = routed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(4)).unwrap();
    ship(&mut o, "s1", "wh", ShipmentStatus::Delivered, 5).unwrap();
    ship(&mut o, "s2", "st", ShipmentStatus::Delivered, 6).unwrap();
    let a = |q| lq("A", q);
    assert!(matches!(
        o.authorize_return("rma-0".into(), vec![a(4)], "too many".into(), &cause(7)),
        Err(ReturnError::Invalid(_))
    ));
    o.authorize_return("rma-1".into(), vec![a(2)], "wrong size".into(), &cause(7))
        .unwrap();
    assert_eq!(o.returnable().get(&Sku::parse("A").unwrap()), Some(&1));
    let back = [
        ReturnedLine {
            sku: Sku::parse("A").unwrap(),
            quantity: Quantity::ONE,
            condition: ItemCondition::Resellable,
        },
        ReturnedLine {
            sku: Sku::parse("A").unwrap(),
            quantity: Quantity::ONE,
            condition: ItemCondition::Damaged,
        },
    ];
    let out = o.receive_return("rma-1", &back, &cause(8)).unwrap();
    assert!(matches!(&out.stock[..], [StockMove::Restock { lines, .. }] if lines == &[lq("A", 1)]));
    assert_eq!(o.principal_payment().map(|p| p.refunded), Some(brl(200)));
    // The same units again: the RMA is received in full.
    assert!(matches!(
        o.receive_return("rma-1", &back, &cause(9)),
        Err(Refusal::Refused(m)) if m.contains("in full")
    ));
    assert!(matches!(
        o.receive_return("rma-x", &back, &cause(9)),
        Err(Refusal::Refused(_))
    ));
    assert_eq!(o.status, OrderStatus::Delivered);
}

#[test]
fn demand_merges_lines_of_the_same_sku() {
    let d = placed().demand();
    assert_eq!(d.len(), 2);
    assert_eq!((d[0].sku.as_str(), d[0].quantity.get()), ("A", 3));
    assert_eq!((d[1].sku.as_str(), d[1].quantity.get()), ("B", 1));
}

#[test]
fn replayed_events_keep_their_ids() {
    let mut o = placed();
    let first = o
        .reserve(&stock(&[("A", "wh", 9), ("B", "wh", 9)]), &cause(2))
        .unwrap();
    assert_eq!(o.current_events(), first.events);
}

#[derive(Debug, Clone)]
enum Step {
    Reserve,
    Short,
    Cancel,
    Pay(i64, &'static str),
    FailPay,
    Release,
    Timeout,
    Ship(&'static str, ShipmentStatus),
    Answer(bool),
    Return(u32),
    Receive(u32),
    /// The carrier delivers s1 and collects this much (cash on delivery).
    Collect(i64),
    CancelLine(&'static str),
    /// The provider authorises this much (payment `auth`).
    Authorize(i64),
    /// The provider confirms the capture asked for this shipment.
    Capture(&'static str),
    /// The order is edited to this many A (and one B, or none).
    Edit(i64, bool),
}

fn step() -> impl Strategy<Value = Step> {
    use ShipmentStatus::*;
    prop_oneof![
        Just(Step::Reserve),
        Just(Step::Short),
        Just(Step::Cancel),
        (
            prop_oneof![Just(400i64), Just(1), Just(100), Just(300), Just(500)],
            prop_oneof![Just("BRL"), Just("BRL"), Just("BRL"), Just("USD")]
        )
            .prop_map(|(a, c)| Step::Pay(a, c)),
        Just(Step::FailPay),
        Just(Step::Release),
        Just(Step::Timeout),
        (
            prop_oneof![Just("s1"), Just("s2")],
            prop_oneof![
                Just(Picked),
                Just(Shipped),
                Just(Delivered),
                Just(Refused),
                Just(Exception)
            ]
        )
            .prop_map(|(s, st)| Step::Ship(s, st)),
        any::<bool>().prop_map(Step::Answer),
        (1u32..4).prop_map(Step::Return),
        (1u32..4).prop_map(Step::Receive),
        prop_oneof![Just(400i64), Just(100), Just(900)].prop_map(Step::Collect),
        prop_oneof![Just("A"), Just("B")].prop_map(Step::CancelLine),
        prop_oneof![Just(400i64), Just(300), Just(900)].prop_map(Step::Authorize),
        prop_oneof![Just("s1"), Just("s2")].prop_map(Step::Capture),
        ((1i64..5), any::<bool>()).prop_map(|(a, b)| Step::Edit(a, b)),
    ]
}

fn method() -> impl Strategy<Value = PaymentMethod> {
    prop_oneof![
        Just(PaymentMethod::Card),
        Just(PaymentMethod::BankTransfer),
        Just(PaymentMethod::CashOnDelivery),
        Just(PaymentMethod::OnAccount),
    ]
}

proptest! {
    /// Whatever facts arrive, in whatever order and however often: the
    /// status moves only along allowed edges, refused facts change nothing,
    /// stock is released at most once, refunds never exceed captures, no
    /// money is stranded — whatever the payment method (card, bank
    /// transfer, cash on delivery, on account) and whether the order was
    /// held for review at placement — and an account is owed exactly what
    /// its open orders have not paid.
    #[test]
    fn any_sequence_of_facts_keeps_the_order_consistent(
        steps in proptest::collection::vec(step(), 0..24),
        method in method(),
        held in any::<bool>(),
    ) {
        use OrderStatus::*;
        use crate::kpi::Contribution;
        let sla = crate::search::Sla::default();
        // Paid by any method, on an account or not, held for review at
        // placement or not.
        let mut new = sample_new_order(&[("A", 2), ("B", 1), ("A", 1)]);
        new.payment_method = method;
        if method == PaymentMethod::OnAccount {
            new.account_id = Some("acme".into());
        }
        if held {
            new.credit_hold = Some("beyond the credit limit".into());
        }
        let due = method.prepaid().then_some(Timestamp(1000));
        let mut o = Order::place(OrderId::parse("ord_1").unwrap(), new, due, &cause(1)).0;
        // The account's open balance as the store adds each change's part.
        let mut balance = crate::accounts::balance_delta(None, &o).map_or(0, |(_, _, d)| d);
        let (mut released, mut allocated) = (0u32, 0u32);
        // The KPI sums as the store adds each change's difference.
        let mut sums: std::collections::BTreeMap<String, std::collections::BTreeMap<String, i64>> =
            std::collections::BTreeMap::new();
        let mut add = |d: Option<crate::kpi::KpiDelta>| {
            for (sk, figures) in d.into_iter().flat_map(|d| d.cells) {
                for (k, v) in figures {
                    *sums.entry(sk.clone()).or_default().entry(k).or_default() += v;
                }
            }
        };
        add(Contribution::delta(&Contribution::none(), &Contribution::of(&o, &sla)));
        for (i, st) in steps.iter().enumerate() {
            let before = o.clone();
            let contributed = Contribution::of(&before, &sla);
            let c = cause(10 + i as u64);
            let a = |q: u32| lq("A", i64::from(q));
            let result: Result<Outcome, String> = match st {
                Step::Reserve => o.reserve(&stock(&[("A", "wh", 3), ("B", "st", 1)]), &c).map_err(|e| e.to_string()),
                Step::Short => o.reserve(&stock(&[("A", "wh", 2), ("B", "st", 1)]), &c).map_err(|e| e.to_string()),
                Step::Cancel => o.cancel(CancelCode::CustomerRequest, "asked".into(), &c).map_err(|e| e.to_string()),
                Step::Pay(amount, currency) => pay(&mut o, &format!("p{i}"), *amount, currency, &c).map_err(|e| e.to_string()),
                Step::Release => o.release_hold(&c).map_err(|e| e.to_string()),
                Step::FailPay => fail(&mut o, "p1", "declined", &c).map_err(|e| e.to_string()),
                Step::Timeout => o.payment_window_closed(&c).map_err(|e| e.to_string()),
                Step::Ship(id, s) => ship(&mut o, id, if *id == "s1" { "wh" } else { "st" }, *s, 10 + i as u64).map_err(|e| e.to_string()),
                Step::Answer(ok) => o.cancellation_answered(*ok, None, &c).map_err(|e| e.to_string()),
                Step::Return(q) => o.authorize_return(format!("rma-{i}"), vec![a(*q)], "r".into(), &c).map_err(|e| e.to_string()),
                Step::Receive(q) => {
                    let rma = o.returns.last().map(|r| r.rma_id.clone()).unwrap_or_default();
                    o.receive_return(&rma, &[ReturnedLine { sku: Sku::parse("A").unwrap(), quantity: Quantity::new(i64::from(*q)).unwrap(), condition: ItemCondition::Resellable }], &c).map_err(|e| e.to_string())
                }
                Step::Collect(amount) => o
                    .update_shipment(
                        &ShipmentStatusChanged {
                            order_id: o.order_id.clone(),
                            shipment_id: PartnerRef::parse("s1").unwrap(),
                            location_id: LocationId::parse("wh").unwrap(),
                            status: ShipmentStatus::Delivered,
                            lines: None,
                            carrier: None,
                            tracking_number: None,
                            collected_amount: Some(*amount),
                        },
                        &c,
                    )
                    .map_err(|e| e.to_string()),
                Step::CancelLine(sku) => o
                    .cancel_line(&Sku::parse(sku).unwrap(), "asked".into(), &c)
                    .map_err(|e| e.to_string()),
                Step::Authorize(amount) => o
                    .authorize_payment(&PartnerRef::parse("auth").unwrap(), brl(*amount), &c)
                    .map_err(|e| e.to_string()),
                Step::Edit(a, with_b) => {
                    let mut lines = vec![("A", *a)];
                    if *with_b {
                        lines.push(("B", 1));
                    }
                    o.edit(sample_new_order(&lines), &stock(&[("A", "wh", 1), ("B", "st", 1)]), "changed".into(), &c)
                        .map_err(|e| e.to_string())
                }
                Step::Capture(shipment) => {
                    let asked = o
                        .payments
                        .iter()
                        .flat_map(|p| &p.captures)
                        .find(|k| k.capture_id == *shipment)
                        .map_or(brl(100), |k| k.amount);
                    o.confirm_payment(&PartnerRef::parse("auth").unwrap(), asked, Some(shipment), &c)
                        .map_err(|e| e.to_string())
                }
            };
            if result.is_ok() {
                add(Contribution::delta(&contributed, &Contribution::of(&o, &sla)));
                balance += crate::accounts::balance_delta(Some(&before), &o).map_or(0, |(_, _, d)| d);
            }
            match result {
                Ok(out) => {
                    let units = |taken: &[Allocation]| taken.iter().map(|a| a.quantity.get()).sum::<u32>();
                    for m in &out.stock {
                        match m {
                            StockMove::Allocate(taken) => allocated += units(taken),
                            StockMove::Release(taken) | StockMove::Ship(taken) => released += units(taken),
                            StockMove::Restock { .. }
                            | StockMove::ClaimIncoming { .. }
                            | StockMove::UnclaimIncoming { .. }
                            | StockMove::FillBackorder { .. } => {}
                        }
                    }
                    prop_assert!(released <= allocated, "{released} units given back or shipped of {allocated} taken, after {:?}", st);
                    let allowed = before.status == o.status || matches!(
                        (before.status, o.status),
                        (Placed, Routed | Rejected | OnHold | Cancelled | ReadyToShip)
                            | (Reserved, Routed | Rejected | OnHold | Cancelled | ReadyToShip)
                            | (Routed, ReadyToShip | OnHold | Cancelled)
                            | (OnHold, Cancelled | Routed | ReadyToShip)
                            | (ReadyToShip, CancelRequested | PartiallyShipped | Shipped | Delivered)
                            | (CancelRequested, Cancelled | ReadyToShip | PartiallyShipped | Shipped | Delivered)
                            | (PartiallyShipped, Shipped | Delivered)
                            | (Shipped, Delivered)
                            // An edit the locations stopped the order for.
                            | (CancelRequested, Routed | OnHold)
                            // Every unit refused at the door comes back.
                            | (ReadyToShip | CancelRequested | PartiallyShipped | Shipped, Returned)
                            | (Delivered, Returned)
                    );
                    prop_assert!(allowed, "{} -> {} on {:?}", before.status, o.status, st);
                    prop_assert!(o.history.len() > before.history.len());
                }
                Err(_) => prop_assert_eq!(&o, &before),
            }
            for p in &o.payments {
                prop_assert!(p.refunded.amount <= p.captured.amount, "refunded {} of {}", p.refunded, p.captured);
                if p.status == PaymentStatus::Mismatch {
                    prop_assert_eq!(p.refunded, p.captured, "money in another currency is given back");
                }
            }
            if o.status.is_closed() {
                prop_assert_eq!(o.net_paid().amount, 0, "money stranded on a {} order", o.status);
            }
            if o.status == ReadyToShip {
                prop_assert!(
                    (o.is_secured() || !o.payment_method.prepaid()) && o.hold.is_none(),
                    "released unpaid or held"
                );
            }
            // An authorisation is never asked for more than it holds, and
            // nothing of it stays held once the order ended or shipped.
            for p in o.payments.iter().filter(|p| p.authorized.is_some()) {
                let asked: i64 = p.captures.iter().filter(|k| !k.unasked).map(|k| k.amount.amount).sum();
                let voided = p.voided.map_or(0, |v| v.amount);
                prop_assert!(asked + voided <= p.authorized.map_or(0, |a| a.amount), "{:?}", p);
                let done = o.status.is_closed() || matches!(o.status, Shipped | Delivered | Returned);
                if done {
                    prop_assert_eq!(p.unasked().amount, 0, "authorisation left held on a {} order", o.status);
                }
            }
            // Money kept never exceeds what the order charges.
            prop_assert!(o.net_paid().amount <= o.total.amount.max(0), "kept {} of {}", o.net_paid(), o.total);
            // The account is owed exactly what its open order has not paid.
            let owed = crate::accounts::open_amount(&o).map_or(0, |(_, m)| m.amount);
            prop_assert_eq!(balance, owed, "account balance after {:?}", st);
        }
        // Each reserved unit is given back or shipped at most once (a
        // cancelled line gives back its own, an edit the old ones, a
        // cancelled order the rest) — and a closed order holds nothing.
        if o.status.is_closed() {
            prop_assert_eq!(released, allocated, "units still held by a {} order", o.status);
        }
        // The sums of the differences are the order's contribution as it
        // is now: nothing counted twice, nothing left behind.
        let now = Contribution::of(&o, &sla);
        let mut expected = now.cells.clone();
        for cell in expected.values_mut() {
            cell.retain(|_, v| *v != 0);
        }
        expected.retain(|_, c| !c.is_empty());
        for cell in sums.values_mut() {
            cell.retain(|_, v| *v != 0);
        }
        sums.retain(|_, c| !c.is_empty());
        prop_assert_eq!(sums, expected);
    }
}

#[test]
fn the_document_keeps_amounts_as_minor_units_of_the_order_currency() {
    let mut o = routed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(4)).unwrap();
    let v = serde_json::to_value(&o).unwrap();
    assert_eq!(v["currency"], "BRL");
    assert_eq!(v["total"], 400);
    assert_eq!(v["lines"][0]["unitPrice"], 100);
    assert_eq!(v["lines"][0]["lineTotal"], 200);
    assert_eq!(v["payment"]["captured"], 400);
    assert_eq!(v["shipTo"]["lat"], -22.9);
    assert!(v.get("outbox").is_none());
    let back: Order = serde_json::from_value(v).unwrap();
    o.outbox.clear();
    assert_eq!(back, o);
}

#[test]
fn money_captured_before_a_rejection_is_refunded() {
    let mut o = placed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(2)).unwrap();
    assert!(o.is_paid());
    let out = o.reserve(&stock(&[("A", "wh", 1)]), &cause(3)).unwrap();
    assert!(types(&out).contains(&"RefundIssued"), "{:?}", types(&out));
    assert_eq!(o.net_paid(), brl(0));
    assert_eq!(o.status, OrderStatus::Rejected);
    // And money arriving after the rejection goes straight back too.
    let out = pay(&mut o, "pay-2", 400, "BRL", &cause(4)).unwrap();
    assert!(types(&out).contains(&"RefundIssued"));
    assert_eq!(o.net_paid(), brl(0));
}

#[test]
fn partial_payments_hold_the_order_until_the_sum_matches() {
    let mut o = routed();
    pay(&mut o, "pay-1", 100, "BRL", &cause(4)).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    let out = pay(&mut o, "pay-2", 300, "BRL", &cause(5)).unwrap();
    assert_eq!(
        types(&out),
        ["PaymentCaptured", "HoldReleased", "OrderReleased"]
    );
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    assert_eq!(o.payments.len(), 2);
    assert!(
        o.payments
            .iter()
            .all(|p| p.status == PaymentStatus::Captured)
    );
    assert!(o.hold.is_none());
    // Cancelling later refunds both payments, each at most what it brought.
    let mut c = o.clone();
    c.status = OrderStatus::Routed;
    let out = c
        .cancel(CancelCode::CustomerRequest, "x".into(), &cause(6))
        .unwrap();
    let refunds: Vec<i64> = out
        .events
        .iter()
        .filter_map(|e| match &e.data {
            EventData::RefundIssued { amount, .. } => Some(amount.amount),
            _ => None,
        })
        .collect();
    assert_eq!(refunds, [300, 100]);
}

#[test]
fn an_overpayment_is_captured_and_its_excess_refunded() {
    let mut o = routed();
    let out = pay(&mut o, "pay-1", 500, "BRL", &cause(4)).unwrap();
    assert_eq!(
        types(&out),
        [
            "PaymentCaptured",
            "RefundIssued",
            "CustomerNotificationRequested",
            "OrderReleased"
        ]
    );
    assert_eq!(o.net_paid(), brl(400));
    assert_eq!(o.status, OrderStatus::ReadyToShip);
    // A second payment for a paid order goes back whole.
    pay(&mut o, "pay-2", 400, "BRL", &cause(5)).unwrap();
    assert_eq!(o.net_paid(), brl(400));
    assert_eq!(o.payments[1].refunded, brl(400));
}

#[test]
fn a_payment_in_another_currency_is_refunded_and_holds_the_order() {
    let mut o = routed();
    let out = pay(&mut o, "pay-1", 400, "USD", &cause(4)).unwrap();
    assert!(types(&out).contains(&"RefundIssued"));
    assert_eq!(o.payments[0].status, PaymentStatus::Mismatch);
    assert_eq!(o.payments[0].refunded, o.payments[0].captured);
    assert_eq!(o.status, OrderStatus::OnHold);
    // Then the right payment releases it.
    pay(&mut o, "pay-2", 400, "BRL", &cause(5)).unwrap();
    assert_eq!(o.status, OrderStatus::ReadyToShip);
}

#[test]
fn an_operator_releases_a_hold() {
    let mut o = routed();
    pay(&mut o, "pay-1", 1, "BRL", &cause(4)).unwrap();
    assert_eq!(o.status, OrderStatus::OnHold);
    let out = o.release_hold(&cause(5)).unwrap();
    assert_eq!(types(&out), ["HoldReleased"]);
    assert_eq!(
        o.status,
        OrderStatus::Routed,
        "released, still waiting for the rest of the money"
    );
    assert!(
        o.release_hold(&cause(6)).is_err(),
        "nothing left to release"
    );
    // A hold placed before routing shows once the order is routed.
    let mut early = placed();
    pay(&mut early, "pay-1", 1, "BRL", &cause(2)).unwrap();
    assert_eq!(early.status, OrderStatus::Placed);
    early
        .reserve(&stock(&[("A", "wh", 3), ("B", "st", 1)]), &cause(3))
        .unwrap();
    assert_eq!(early.status, OrderStatus::OnHold);
}

#[test]
fn an_rma_stays_open_until_every_unit_is_back_and_each_receipt_refunds_once() {
    let mut o = routed();
    pay(&mut o, "pay-1", 400, "BRL", &cause(4)).unwrap();
    ship(&mut o, "s1", "wh", ShipmentStatus::Delivered, 5).unwrap();
    ship(&mut o, "s2", "st", ShipmentStatus::Delivered, 6).unwrap();
    o.authorize_return(
        "rma-1".into(),
        vec![lq("A", 2)],
        "too big".into(),
        &cause(7),
    )
    .unwrap();
    let one = [ReturnedLine {
        sku: Sku::parse("A").unwrap(),
        quantity: Quantity::ONE,
        condition: ItemCondition::Resellable,
    }];
    o.receive_return("rma-1", &one, &cause(8)).unwrap();
    assert_eq!(o.returns[0].status, ReturnStatus::PartiallyReceived);
    assert_eq!(o.returns[0].refund_amount, brl(100));
    let out = o.receive_return("rma-1", &one, &cause(9)).unwrap();
    assert!(types(&out).contains(&"RefundIssued"));
    assert_eq!(o.returns[0].status, ReturnStatus::Received);
    assert_eq!(o.returns[0].refund_amount, brl(200));
    assert_eq!(o.net_paid(), brl(200));
    assert!(o.receive_return("rma-1", &one, &cause(10)).is_err());
}

#[test]
fn routing_keeps_inside_the_destination_country() {
    let with_stock_at = |locations: Vec<crate::inventory::Location>| {
        let mut shards = crate::inventory::ShardFree::new();
        for l in &locations {
            for sku in ["A", "B"] {
                shards.insert((Sku::parse(sku).unwrap(), l.location_id.clone()), vec![10]);
            }
        }
        Availability::new(&locations, shards)
    };
    let near_but_foreign = location("ar", GeoPoint::new(-22.0, -43.0).unwrap(), Some("AR"));
    let far_but_home = location("br", GeoPoint::new(-3.0, -60.0).unwrap(), Some("BR"));
    // The order ships to BR: a nearer location in AR may not serve it.
    let mut o = placed();
    o.reserve(
        &with_stock_at(vec![near_but_foreign.clone(), far_but_home]),
        &cause(2),
    )
    .unwrap();
    assert!(o.allocations.iter().all(|a| a.location_id.as_str() == "br"));
    // Only foreign stock: rejected, nothing taken.
    let mut o = placed();
    let out = o
        .reserve(&with_stock_at(vec![near_but_foreign]), &cause(2))
        .unwrap();
    assert_eq!(o.status, OrderStatus::Rejected);
    assert_eq!(
        o.rejection.as_ref().map(|r| r.reason),
        Some(RejectReason::NoEligibleLocation)
    );
    assert!(out.stock.is_empty());
}

#[test]
fn a_short_network_rejects_naming_every_short_sku_and_takes_nothing() {
    let mut o = placed();
    let out = o
        .reserve(&stock(&[("A", "wh", 2), ("B", "st", 0)]), &cause(2))
        .unwrap();
    assert_eq!(o.status, OrderStatus::Rejected);
    let rejection = o.rejection.clone().unwrap();
    assert_eq!(rejection.reason, RejectReason::InsufficientStock);
    assert_eq!(
        rejection.skus,
        [Sku::parse("A").unwrap(), Sku::parse("B").unwrap()]
    );
    assert!(out.stock.is_empty());
    assert_eq!(types(&out)[..2], ["InventoryShort", "OrderRejected"]);
}

#[test]
fn a_split_stock_is_drawn_from_the_home_shard_then_the_fullest() {
    let a = Sku::parse("A").unwrap();
    let b = Sku::parse("B").unwrap();
    let wh = LocationId::parse("wh").unwrap();
    let here = GeoPoint::new(-22.9, -43.2).unwrap();
    let mut shards = crate::inventory::ShardFree::new();
    shards.insert((a.clone(), wh.clone()), vec![1, 1, 1, 1]);
    shards.insert((b.clone(), wh.clone()), vec![0, 5]);
    let mut o = placed();
    let home = crate::inventory::home_shard(&o.order_id, &a, 4);
    let out = o
        .reserve(
            &Availability::new(&[location("wh", here, None)], shards),
            &cause(2),
        )
        .unwrap();
    let StockMove::Allocate(taken) = &out.stock[0] else {
        panic!("allocated: {:?}", out.stock)
    };
    let from_a: Vec<u16> = taken
        .iter()
        .filter(|t| t.sku == a)
        .map(|t| t.shard)
        .collect();
    assert_eq!(from_a.len(), 3, "three units from three shards of one each");
    assert_eq!(usize::from(from_a[0]), home, "the home shard first");
    assert!(
        taken
            .iter()
            .any(|t| t.sku == b && t.shard == 1 && t.quantity.get() == 1)
    );
    // Shipping and cancelling give each unit back to its own shard.
    assert_eq!(o.allocations, *taken);
}

#[test]
fn placing_and_reserving_in_one_change_is_the_two_steps_in_one_commit() {
    for levels in [
        &[("A", "wh", 3), ("B", "st", 1)][..],
        &[("A", "wh", 1), ("B", "st", 1)][..],
    ] {
        let new = || sample_new_order(&[("A", 2), ("B", 1), ("A", 1)]);
        let id = OrderId::parse("ord_1").unwrap();
        let (mut two, placed) = Order::place(id.clone(), new(), Some(Timestamp(1000)), &cause(1));
        let reserved = two.reserve(&stock(levels), &cause(1)).unwrap();
        let (one, outcome) =
            Order::place_and_reserve(id, new(), Some(Timestamp(1000)), &stock(levels), &cause(1));
        let ids = |events: &[DomainEvent]| -> Vec<(String, &'static str)> {
            events
                .iter()
                .map(|e| (e.event_id.clone(), e.type_name()))
                .collect()
        };
        let mut both = placed.events.clone();
        both.extend(reserved.events.clone());
        assert_eq!(ids(&outcome.events), ids(&both));
        assert_eq!(one.outbox, outcome.events);
        assert_eq!(outcome.stock, reserved.stock);
        assert_eq!(one.status, two.status);
        assert_eq!(one.history, two.history);
        assert_eq!(one.allocations, two.allocations);
    }
}

proptest! {
    /// However a priced order ships — in whatever parts — its invoices are
    /// numbered 1, 2, … without gaps and add up to exactly what it charged;
    /// each line's units, discount and tax are invoiced exactly once.
    #[test]
    fn invoices_add_up_to_the_order_however_it_ships(
        qa in 1i64..9,
        qb in 1i64..9,
        discount_a in 0i64..200,
        tax_bp in 0i64..2500,
        shipping in 0i64..3000,
        cuts in proptest::collection::vec(1u32..4, 1..4),
    ) {
        let mut new = sample_new_order(&[("A", qa), ("B", qb)]);
        for l in &mut new.lines {
            if l.sku.as_str() == "A" {
                l.discount = brl(discount_a.min(l.line_total.amount));
            }
            l.tax = l.line_total.minus(l.discount).unwrap().scaled(tax_bp, 10_000).unwrap();
            l.tax_rate_basis_points = tax_bp as u32;
        }
        new.shipping.amount = brl(shipping);
        new.shipping.tax = brl(shipping).scaled(tax_bp, 10_000).unwrap();
        let total: i64 = new.lines.iter().map(|l| l.payable().amount).sum::<i64>()
            + new.shipping.payable().amount;
        new.total = brl(total);
        let mut o = Order::place(OrderId::parse("ord_1").unwrap(), new, Some(Timestamp(1000)), &cause(1)).0;
        o.reserve(&stock(&[("A", "wh", 20), ("B", "wh", 20)]), &cause(2)).unwrap();
        pay(&mut o, "p1", total, "BRL", &cause(3)).unwrap();
        // Ship the units in parts: each cut takes up to that many of each sku.
        let mut left = [("A", qa as u32), ("B", qb as u32)];
        let mut n = 0;
        let mut issued = Vec::new();
        let mut parts: Vec<u32> = cuts.clone();
        parts.push(u32::MAX);
        for cut in parts {
            let lines: Vec<LineQty> = left
                .iter_mut()
                .filter(|(_, q)| *q > 0)
                .map(|(sku, q)| {
                    let take = (*q).min(cut);
                    *q -= take;
                    lq(sku, i64::from(take))
                })
                .collect();
            if lines.is_empty() {
                break;
            }
            n += 1;
            o.update_shipment(
                &ShipmentStatusChanged {
                    order_id: o.order_id.clone(),
                    shipment_id: PartnerRef::parse(&format!("S{n}")).unwrap(),
                    location_id: LocationId::parse("wh").unwrap(),
                    status: ShipmentStatus::Shipped,
                    lines: Some(lines),
                    carrier: None,
                    tracking_number: None,
                    collected_amount: None,
                },
                &cause(10 + n),
            )
            .unwrap();
            let due = o.documents_due("OMS", Timestamp(10 + n));
            prop_assert_eq!(due.len(), 1, "one invoice per shipment");
            let doc = due[0].numbered(issued.len() as u64 + 1);
            o.issue(std::slice::from_ref(&doc));
            prop_assert!(o.documents_due("OMS", Timestamp(10 + n)).is_empty(), "issued once");
            issued.push(doc);
        }
        let numbers: Vec<String> = issued.iter().map(|d| d.number.clone()).collect();
        let expected: Vec<String> = (1..=issued.len()).map(|i| format!("INV-wh-{i:06}")).collect();
        prop_assert_eq!(numbers, expected);
        prop_assert_eq!(issued.iter().map(|d| d.total).sum::<i64>(), total);
        for l in &o.lines {
            let of = |f: fn(&DocumentLine) -> i64| -> i64 {
                issued.iter().flat_map(|d| &d.lines).filter(|x| x.sku == l.sku).map(f).sum()
            };
            prop_assert_eq!(of(|x| i64::from(x.quantity)), i64::from(l.quantity.get()));
            prop_assert_eq!(of(|x| x.discount), l.discount.amount);
            prop_assert_eq!(of(|x| x.tax), l.tax.amount);
            prop_assert_eq!(of(|x| x.amount), l.line_total.amount);
        }
        prop_assert_eq!(issued.iter().map(|d| d.shipping).sum::<i64>(), shipping);
    }
}
