use super::*;
use crate::catalog::ProductRequest;
use crate::ids::Quantity;
use crate::order::tests::sample_new_order;

fn brl(n: i64) -> Money {
    Money::new(n, Currency::parse("BRL").unwrap())
}

fn product(sku: &str, price: i64, grams: i64, category: Option<&str>) -> crate::catalog::Product {
    ProductRequest {
        name: Some(sku.to_owned()),
        weight_grams: Some(grams),
        prices: Some([("BRL".to_owned(), price)].into()),
        tax_category: category.map(str::to_owned),
        bundle: None,
    }
    .validate(sku)
    .unwrap()
}

fn promotion(id: &str, body: serde_json::Value) -> Promotion {
    serde_json::from_value::<PromotionRequest>(body)
        .unwrap()
        .validate(id)
        .unwrap()
}

/// 2 × SHIRT at 19.90 and 3 × MUG at 25.00, coupon `take10`.
fn order() -> NewOrder {
    let mut o = sample_new_order(&[("SHIRT", 2), ("MUG", 3)]);
    for l in &mut o.lines {
        let unit = if l.sku.as_str() == "SHIRT" {
            1990
        } else {
            2500
        };
        *l = OrderLine::priced(l.line_no, l.sku.clone(), l.quantity, brl(unit)).unwrap();
    }
    o.coupon_codes = coupon_codes(&["take10".to_owned()]).unwrap();
    o
}

fn book_parts() -> (
    Vec<Promotion>,
    ShippingRates,
    TaxRules,
    BTreeMap<Sku, crate::catalog::Product>,
) {
    let promotions = vec![
        promotion(
            "MUGS-3-FOR-2",
            serde_json::json!({"type": "BUY_X_GET_Y", "skus": ["MUG"], "buy": 2, "get": 1}),
        ),
        promotion(
            "TAKE10",
            serde_json::json!({"type": "AMOUNT_OFF_ORDER", "value": 1000, "currency": "BRL",
                "couponCode": "TAKE10", "minSubtotal": 5000}),
        ),
        promotion(
            "FREE-OVER-200",
            serde_json::json!({"type": "FREE_SHIPPING", "minSubtotal": 20000}),
        ),
    ];
    let rates: ShippingRates = serde_json::from_value::<ShippingRates>(serde_json::json!({"rates": [
        {"method": "STANDARD", "country": "BR", "maxWeightGrams": 1000, "prices": {"BRL": 1500}},
        {"method": "STANDARD", "country": "BR", "prices": {"BRL": 2500}},
        {"method": "STANDARD", "prices": {"BRL": 9000}},
    ]}))
    .unwrap()
    .validate()
    .unwrap();
    let tax: TaxRules = serde_json::from_value::<TaxRules>(serde_json::json!({"rules": [
        {"country": "BR", "rateBasisPoints": 1000},
        {"country": "BR", "category": "apparel", "rateBasisPoints": 500},
    ]}))
    .unwrap()
    .validate()
    .unwrap();
    let products = [
        product("SHIRT", 1990, 300, Some("apparel")),
        product("MUG", 2500, 400, None),
    ]
    .into_iter()
    .map(|p| (p.sku.clone(), p))
    .collect();
    (promotions, rates, tax, products)
}

fn priced(mut o: NewOrder, now: Timestamp) -> Result<NewOrder, PricingError> {
    let (promotions, shipping, tax, products) = book_parts();
    let book = PriceBook {
        promotions: &promotions,
        shipping: &shipping,
        products: &products,
    };
    let basket = prepare(&mut o, &book, now)?;
    finish(&mut o, &tax.quote(&basket)?)?;
    Ok(o)
}

#[test]
fn the_worked_example_to_the_cent() {
    let o = priced(order(), Timestamp(0)).unwrap();
    let line = |sku: &str| o.lines.iter().find(|l| l.sku.as_str() == sku).unwrap();
    let (shirt, mug) = (line("SHIRT"), line("MUG"));
    // Weight 2 × 300 + 3 × 400 = 1,800 g: the heavier BR band.
    assert_eq!(o.shipping.amount, brl(2500));
    // Three mugs for the price of two: one free (25.00).
    // Then 10.00 off the order, shared by what the lines still cost
    // (39.80 and 50.00): 4.4320… and 5.5679…, floors 4.43 and 5.56, the
    // cent left over to the larger remainder (the mug).
    assert_eq!(shirt.discount, brl(443));
    assert_eq!(mug.discount, brl(2500 + 557));
    assert_eq!(
        mug.adjustments,
        vec![
            Adjustment {
                promotion_id: "MUGS-3-FOR-2".into(),
                amount: brl(2500)
            },
            Adjustment {
                promotion_id: "TAKE10".into(),
                amount: brl(557)
            },
        ]
    );
    // Tax on what is left: apparel at 5 % (35.37 → 1.7685 → 1.77), the
    // mug at the country's 10 % (44.43 → 4.443 → 4.44), shipping at 10 %.
    assert_eq!((shirt.tax, shirt.tax_rate_basis_points), (brl(177), 500));
    assert_eq!((mug.tax, mug.tax_rate_basis_points), (brl(444), 1000));
    assert_eq!(o.shipping.tax, brl(250));
    let t = Totals::of(&o.lines, &o.shipping);
    assert_eq!(
        (t.subtotal, t.discount, t.shipping, t.tax),
        (brl(11480), brl(3500), brl(2500), brl(871))
    );
    assert_eq!(o.total, brl(11480 - 3500 + 2500 + 871));
    assert_eq!(o.total, brl(11351));
    assert_eq!(
        shirt.payable().amount + mug.payable().amount + o.shipping.payable().amount,
        11351
    );
}

#[test]
fn free_shipping_over_a_subtotal_and_exclusive_promotions() {
    let mut big = order();
    big.lines[1] = OrderLine::priced(
        2,
        big.lines[1].sku.clone(),
        Quantity::new(9).unwrap(),
        brl(2500),
    )
    .unwrap();
    let o = priced(big, Timestamp(0)).unwrap();
    assert_eq!(
        o.shipping.amount,
        brl(2500),
        "4,200 g: BR's open band, before the rate for anywhere"
    );
    assert_eq!(o.shipping.discount, brl(2500));
    assert_eq!(o.shipping.payable(), brl(0));
    assert_eq!(o.shipping.adjustments[0].promotion_id, "FREE-OVER-200");

    let (mut promotions, ..) = book_parts();
    promotions.push(promotion(
        "STAFF",
        serde_json::json!({"type": "PERCENT_OFF_ORDER", "value": 30, "exclusive": true}),
    ));
    let mut o = order();
    let chosen = eligible(&o, &promotions, Timestamp(0)).unwrap();
    assert_eq!(
        chosen
            .iter()
            .map(|p| p.promotion_id.as_str())
            .collect::<Vec<_>>(),
        ["STAFF"],
        "an exclusive promotion applies alone"
    );
    apply(&mut o, &chosen).unwrap();
    assert_eq!(o.lines[0].discount, brl(1194), "30 % of 39.80");
    assert_eq!(o.lines[1].discount, brl(2250), "30 % of 75.00");
}

#[test]
fn coupons_must_exist_and_apply() {
    let mut o = order();
    o.coupon_codes = vec!["NOPE".into()];
    let e = priced(o, Timestamp(0)).unwrap_err();
    assert_eq!(
        (e.code, e.field.field.as_str()),
        ("UNKNOWN_COUPON", "couponCodes[0]")
    );

    let mut small = sample_new_order(&[("SHIRT", 1)]);
    small.coupon_codes = vec!["TAKE10".into()];
    let e = priced(small, Timestamp(0)).unwrap_err();
    assert_eq!(e.code, "COUPON_NOT_APPLICABLE");
    assert!(e.field.message.contains("BRL 50.00"), "{}", e.field.message);

    let (mut promotions, rates, _, products) = book_parts();
    promotions[1].ends_at = Some(Timestamp(1000));
    let book = PriceBook {
        promotions: &promotions,
        shipping: &rates,
        products: &products,
    };
    let e = prepare(&mut order(), &book, Timestamp(1000)).unwrap_err();
    assert!(e.field.message.contains("has ended"));
}

#[test]
fn inclusive_tax_is_inside_the_price_and_the_most_specific_rule_wins() {
    let rules = TaxRules {
        rules: vec![
            TaxRule {
                country: "DE".into(),
                region: None,
                category: None,
                rate_basis_points: 1900,
                inclusive: true,
            },
            TaxRule {
                country: "DE".into(),
                region: Some("BY".into()),
                category: Some("books".into()),
                rate_basis_points: 700,
                inclusive: true,
            },
        ],
    };
    let eur = |n| Money::new(n, Currency::parse("EUR").unwrap());
    let line = |n: u16, category: Option<&str>, amount| TaxableLine {
        line_no: n,
        sku: Sku::parse("X").unwrap(),
        category: category.map(str::to_owned),
        amount: eur(amount),
    };
    let quote = rules
        .quote(&TaxBasket {
            to: TaxDestination {
                country: "DE".into(),
                region: Some("BY".into()),
            },
            lines: vec![line(1, None, 1190), line(2, Some("books"), 1070)],
            shipping: eur(0),
        })
        .unwrap();
    assert_eq!(quote.lines[0].1.amount, eur(190), "19 % inside 11.90");
    assert_eq!(
        quote.lines[1].1.amount,
        eur(70),
        "7 % inside 10.70 for books in BY"
    );
    assert!(quote.lines[0].1.inclusive);
    let elsewhere = rules
        .quote(&TaxBasket {
            to: TaxDestination {
                country: "FR".into(),
                region: None,
            },
            lines: vec![line(1, None, 1190)],
            shipping: eur(500),
        })
        .unwrap();
    assert_eq!(elsewhere.lines[0].1.amount, eur(0), "no rule, no tax");
}

#[test]
fn a_promotion_for_some_channels_leaves_the_others_alone() {
    let web_only = promotion(
        "WEB10",
        serde_json::json!({"type": "PERCENT_OFF_ORDER", "value": 10, "channels": ["web"]}),
    );
    let mut web = order();
    web.coupon_codes.clear();
    let mut market = web.clone();
    market.channel = crate::ids::Channel::parse("marketplace-x").unwrap();
    let promotions = [web_only];
    assert_eq!(eligible(&web, &promotions, Timestamp(0)).unwrap().len(), 1);
    assert!(
        eligible(&market, &promotions, Timestamp(0))
            .unwrap()
            .is_empty()
    );
    let mut coupon = promotions[0].clone();
    coupon.coupon_code = Some("WEB10".into());
    market.coupon_codes = vec!["WEB10".into()];
    let e = eligible(&market, &[coupon], Timestamp(0)).unwrap_err();
    assert_eq!(e.code, "COUPON_NOT_APPLICABLE");
    assert!(e.field.message.contains("not for channel marketplace-x"));
}

#[test]
fn shares_add_up_exactly() {
    assert_eq!(share(1000, &[3980, 5000]), vec![443, 557]);
    assert_eq!(share(2, &[1, 1, 1]), vec![1, 1, 0], "earlier line on a tie");
    assert_eq!(share(0, &[5, 5]), vec![0, 0]);
    assert_eq!(share(7, &[0, 0]), vec![0, 0]);
}

#[test]
fn promotions_are_checked() {
    let bad = |body: serde_json::Value| {
        serde_json::from_value::<PromotionRequest>(body)
            .unwrap()
            .validate("P")
            .unwrap_err()
            .field
    };
    assert_eq!(
        bad(serde_json::json!({"type": "PERCENT_OFF_ORDER"})),
        "value"
    );
    assert_eq!(
        bad(serde_json::json!({"type": "PERCENT_OFF_ORDER", "value": 101})),
        "value"
    );
    assert_eq!(
        bad(serde_json::json!({"type": "BUY_X_GET_Y", "skus": ["A"], "buy": 2})),
        "get"
    );
    assert_eq!(
        bad(serde_json::json!({"type": "PERCENT_OFF_SKUS", "value": 5})),
        "skus"
    );
    assert_eq!(
        bad(serde_json::json!({"type": "FREE_SHIPPING", "value": 5})),
        "value"
    );
    assert_eq!(
        bad(
            serde_json::json!({"type": "FREE_SHIPPING", "startsAt": "2026-02-01T00:00:00Z", "endsAt": "2026-01-01T00:00:00Z"})
        ),
        "endsAt"
    );
    assert_eq!(bad(serde_json::json!({"type": "X"})), "type");
}

proptest::proptest! {
    /// Whatever the promotions and rates, every line's discount stays
    /// within what it costs, and the total is the sum of its parts.
    #[test]
    fn totals_add_up(
        qty in proptest::collection::vec(1i64..20, 1..6),
        price in proptest::collection::vec(0i64..100_000, 6),
        percent in 1i64..=100,
        amount in 1i64..1_000_000,
        bp in 0u32..3000,
        inclusive: bool,
    ) {
        let skus = ["A", "B", "C", "D", "E", "F"];
        let spec: Vec<(&str, i64)> = qty.iter().enumerate().map(|(i, q)| (skus[i], *q)).collect();
        let mut o = sample_new_order(&spec);
        for (i, l) in o.lines.iter_mut().enumerate() {
            *l = OrderLine::priced(l.line_no, l.sku.clone(), l.quantity, brl(price[i])).unwrap();
        }
        let promotions = vec![
            promotion("P1", serde_json::json!({"type": "PERCENT_OFF_SKUS", "value": percent, "skus": ["A", "C"]})),
            promotion("P2", serde_json::json!({"type": "BUY_X_GET_Y", "skus": ["B"], "buy": 1, "get": 1})),
            promotion("P3", serde_json::json!({"type": "AMOUNT_OFF_ORDER", "value": amount})),
            promotion("P4", serde_json::json!({"type": "PERCENT_OFF_ORDER", "value": percent})),
        ];
        let chosen = eligible(&o, &promotions, Timestamp(0)).unwrap();
        apply(&mut o, &chosen).unwrap();
        let tax = TaxRules { rules: vec![TaxRule { country: "BR".into(), region: None, category: None, rate_basis_points: bp, inclusive }] };
        let quote = tax.quote(&basket(&o, &BTreeMap::new())).unwrap();
        finish(&mut o, &quote).unwrap();
        for l in &o.lines {
            proptest::prop_assert!(l.discount.amount >= 0 && l.discount.amount <= l.line_total.amount);
            let adj: i64 = l.adjustments.iter().map(|a| a.amount.amount).sum();
            proptest::prop_assert_eq!(adj, l.discount.amount);
            proptest::prop_assert!(l.tax.amount >= 0);
        }
        let t = Totals::of(&o.lines, &o.shipping);
        let exclusive = if inclusive { 0 } else { t.tax.amount };
        proptest::prop_assert_eq!(o.total.amount, t.subtotal.amount - t.discount.amount + t.shipping.amount + exclusive);
        proptest::prop_assert!(o.total.amount >= 0);
    }
}
