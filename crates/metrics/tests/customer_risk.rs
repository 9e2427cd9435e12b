//! Customer risk flags (METRICS.md "Customers") on a hand-computed data set.
//! Every expected number below is worked out by hand in the comments.
//!
//! Reporting currency EUR; rates: 1 USD = 0.90 EUR, 1 GBP = 1.20 EUR; CHF
//! has no rate. Brands: `lux` (EUR, Paris; its platform reports lifetime
//! figures) and `pet` (USD, New York; it does not).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts are written as units_cents (6_240_00 is €6,240.00)"
)]

use opsdeck_domain::*;
use opsdeck_metrics::customers::{customer_risk, CustomerOf, CustomerRisk, RiskKind, RiskRules};
use opsdeck_metrics::money_json::with_shown;
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};
use std::collections::BTreeMap;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn cur(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, cur("EUR"))
}

fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

fn brand(id: &str, zone: &str, currency: &str) -> Brand {
    Brand {
        id: BrandId::parse(id).unwrap(),
        name: id.to_string(),
        kind: BrandKind::Standard,
        time_zone: jiff::tz::TimeZone::get(zone).unwrap(),
        currency: cur(currency),
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

fn brands() -> Vec<Brand> {
    vec![
        brand("lux", "Europe/Paris", "EUR"),
        brand("pet", "America/New_York", "USD"),
    ]
}

fn cfg() -> PanelConfig {
    PanelConfig {
        reporting_currency: cur("EUR"),
        rates: BTreeMap::from([(Currency::USD, 900_000), (cur("GBP"), 1_200_000)]),
        ..PanelConfig::default()
    }
}

/// The source of each brand's orders.
fn src(brand: &str) -> SourceId {
    SourceId::parse(&format!("shop-{brand}")).unwrap()
}

/// A non-test order of `brand`, numbered `n` (its id is `o{n}`).
fn order(brand: &str, n: i64, email: &str, total: Money) -> Order {
    let zero = Money::zero(total.currency);
    Order {
        source: src(brand),
        external_id: format!("o{n}"),
        brand: BrandId::parse(brand).unwrap(),
        name: format!("#{n}"),
        number: Some(n),
        created_at: t("2026-10-01T10:00:00Z"),
        updated_at: t("2026-10-01T10:00:00Z"),
        processed_at: None,
        cancelled_at: None,
        cancel_reason: None,
        closed_at: None,
        currency: total.currency,
        total_price: total,
        subtotal_price: total,
        total_discounts: zero,
        total_tax: zero,
        financial_status: FinancialStatus::Paid,
        fulfillment_status: OrderFulfillmentStatus::Fulfilled,
        tags: vec![],
        source_name: None,
        test: false,
        email: (!email.is_empty()).then(|| email.to_string()),
        customer: None,
        line_items: vec![],
        fulfillments: vec![],
        refunds: vec![],
    }
}

fn refunded(mut o: Order, amount: Money) -> Order {
    o.financial_status = FinancialStatus::PartiallyRefunded;
    o.refunds.push(Refund {
        external_id: format!("r-{}", o.external_id),
        created_at: t("2026-10-05T10:00:00Z"),
        amount,
        line_items: vec![],
        note: None,
    });
    o
}

fn cancelled(mut o: Order) -> Order {
    o.cancelled_at = Some(t("2026-10-01T12:00:00Z"));
    o
}

fn summary(brand: &str, id: &str, email: &str, orders: u64, spend: Money) -> AnyRecord {
    AnyRecord::CustomerSummary(CustomerSummary {
        source: src(brand),
        external_id: id.into(),
        brand: BrandId::parse(brand).unwrap(),
        email: Some(email.into()),
        name: None,
        order_count: orders,
        lifetime_spend: spend,
        tags: vec![],
        created_at: t("2025-01-01T00:00:00Z"),
        updated_at: t("2026-11-30T00:00:00Z"),
    })
}

fn request(brand: &str, id: &str, order: i64, kind: ReturnKind, status: ReturnStatus) -> AnyRecord {
    AnyRecord::ReturnRequest(ReturnRequest {
        source: src(brand),
        external_id: id.into(),
        brand: BrandId::parse(brand).unwrap(),
        order_id: Some(format!("o{order}")),
        kind,
        status,
        amount: None,
        reason: None,
        requested_at: t("2026-10-10T10:00:00Z"),
        resolved_at: None,
        updated_at: t("2026-10-10T10:00:00Z"),
        status_history: vec![],
    })
}

fn payment(brand: &str, id: &str, order: i64, kind: PaymentEventKind, at: &str) -> AnyRecord {
    AnyRecord::PaymentEvent(PaymentEvent {
        source: src(brand),
        external_id: id.into(),
        brand: BrandId::parse(brand).unwrap(),
        order_id: Some(format!("o{order}")),
        kind,
        amount: None,
        reason: None,
        gateway: None,
        occurred_at: t(at),
        updated_at: t(at),
        dispute: None,
    })
}

fn records() -> Vec<AnyRecord> {
    let o = |x: Order| AnyRecord::Order(x);
    vec![
        // Ana: lux reports €6,240.00 over 5 orders. opsdeck stores two of
        // them (#1001 refunded €20, #1002) and a cancelled #1003 that was
        // charged back on 2 November; and one pet order of $100.00.
        summary("lux", "c-ana", "ana@example.com", 5, eur(6_240_00)),
        o(refunded(
            order("lux", 1001, "ana@example.com", eur(100_00)),
            eur(20_00),
        )),
        o(order("lux", 1002, "ana@example.com", eur(200_00))),
        o(cancelled(order(
            "lux",
            1003,
            "ana@example.com",
            eur(999_00),
        ))),
        payment(
            "lux",
            "d1",
            1003,
            PaymentEventKind::Chargeback,
            "2026-11-02T10:00:00Z",
        ),
        o(order("pet", 2901, "ana@example.com", usd(100_00))),
        // Ben: pet, no platform figures, so computed from his orders.
        o(order("pet", 2001, "ben@example.com", usd(3_000_00))),
        o(refunded(
            order("pet", 2002, "BEN@Example.com", usd(3_000_00)),
            usd(500_00),
        )),
        o(cancelled(order(
            "pet",
            2003,
            "ben@example.com",
            usd(1_000_00),
        ))),
        // An order in euros at the dollar brand.
        o(order("pet", 2004, "ben@example.com", eur(300_00))),
        o(order("pet", 2005, "ben@example.com", usd(100_00))),
        request(
            "pet",
            "rr-2005",
            2005,
            ReturnKind::Return,
            ReturnStatus::Requested,
        ),
        // In francs: no rate, left out of the spend, still an order.
        o(order(
            "pet",
            2006,
            "ben@example.com",
            Money::new(500_00, cur("CHF")),
        )),
        // Frank: lux reports exactly the threshold, €5,000.00.
        summary("lux", "c-frank", "frank@example.com", 1, eur(5_000_00)),
        // Eve: an inquiry and a chargeback on two pet orders, and a failed
        // payment (not a dispute) on a third.
        o(order("pet", 2101, "eve@example.com", usd(10_00))),
        o(order("pet", 2102, "eve@example.com", usd(10_00))),
        o(order("pet", 2103, "eve@example.com", usd(10_00))),
        payment(
            "pet",
            "d2",
            2101,
            PaymentEventKind::Other("inquiry".into()),
            "2026-11-20T15:00:00Z",
        ),
        payment(
            "pet",
            "d3",
            2102,
            PaymentEventKind::Chargeback,
            // 01:00 UTC on the 3rd is still the 2nd in New York.
            "2026-11-03T01:00:00Z",
        ),
        payment(
            "pet",
            "d4",
            2103,
            PaymentEventKind::PaymentFailed,
            "2026-11-04T10:00:00Z",
        ),
    ]
    .into_iter()
    .chain(cleo())
    .collect()
}

/// Cleo: exactly 30 % — 10 orders at pet, 3 returned or refunded
/// (#3001 refunded, #3002 a refund request, #3003 an exchange), and a
/// fourth request on #3004 that was rejected (it does not count).
fn cleo() -> Vec<AnyRecord> {
    let mut out: Vec<AnyRecord> = (3001..=3010)
        .map(|n| {
            let o = order("pet", n, "cleo@example.com", usd(10_00));
            AnyRecord::Order(if n == 3001 {
                refunded(o, usd(10_00))
            } else {
                o
            })
        })
        .collect();
    out.push(request(
        "pet",
        "rr-3002",
        3002,
        ReturnKind::Refund,
        ReturnStatus::Requested,
    ));
    out.push(request(
        "pet",
        "rr-3003",
        3003,
        ReturnKind::Exchange,
        ReturnStatus::Approved,
    ));
    out.push(request(
        "pet",
        "rr-3004",
        3004,
        ReturnKind::Return,
        ReturnStatus::Rejected,
    ));
    out
}

fn projection(records: &[AnyRecord]) -> Projection {
    let mut p = Projection::new(brands(), SubscriptionRules::default());
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    p
}

fn risk(p: &Projection, email: &str) -> CustomerRisk {
    customer_risk(p, &cfg(), CustomerOf::Email(email)).unwrap()
}

fn kinds(r: &CustomerRisk) -> Vec<RiskKind> {
    r.flags.iter().map(|f| f.kind).collect()
}

/// The evidence of each flag, as a person with revenue permission reads it.
fn evidence(r: &CustomerRisk) -> Vec<String> {
    r.flags.iter().map(|f| f.evidence_text(true)).collect()
}

#[test]
fn platform_lifetime_figures_win_where_the_platform_has_them() {
    let p = projection(&records());
    let ana = risk(&p, "ana@example.com");
    // lux: the platform's €6,240.00 (not the stored €280.00 net);
    // pet: $100.00 × 0.90 = €90.00. Total €6,330.00 > €5,000.00.
    assert_eq!(ana.lifetime_spend, eur(6_330_00));
    // Orders: lux max(5 reported, 2 stored non-cancelled) + pet 1 = 6;
    // returned: #1001 (refunded) = 1 → 16.7 %, no flag.
    assert_eq!((ana.orders, ana.returned_orders, ana.disputes), (6, 1, 1));
    assert_eq!(kinds(&ana), [RiskKind::HighValue, RiskKind::DisputeHistory]);
    assert_eq!(
        evidence(&ana),
        [
            "lifetime spend €6,330.00 > €5,000.00",
            // The cancelled order's chargeback counts.
            "1 chargeback (order #1003, 2026-11-02)",
        ]
    );
    assert!(ana.without_rate.is_empty());
}

#[test]
fn spend_computed_from_orders_net_of_refunds_in_the_reporting_currency() {
    let p = projection(&records());
    let ben = risk(&p, "ben@example.com");
    // #2001 $3,000 + #2002 ($3,000 − $500) + #2005 $100 = $5,600.00
    // → €5,040.00; #2004 €300.00 as it is; #2003 cancelled; #2006 CHF left
    // out. €5,340.00 > €5,000.00.
    assert_eq!(ben.lifetime_spend, eur(5_340_00));
    // Orders: 2001, 2002, 2004, 2005, 2006 (not the cancelled 2003) = 5;
    // returned: 2002 (refund), 2005 (return request) = 2 → 40 %.
    assert_eq!((ben.orders, ben.returned_orders, ben.disputes), (5, 2, 0));
    assert_eq!(
        kinds(&ben),
        [RiskKind::HighValue, RiskKind::FrequentReturns]
    );
    assert_eq!(
        evidence(&ben),
        [
            "lifetime spend €5,340.00 > €5,000.00; 1 amount in CHF left out (no rate)",
            "2 of 5 orders returned or refunded = 40 % > 30 %",
        ]
    );
    assert_eq!(ben.without_rate.len(), 1);
    assert_eq!(ben.without_rate[0].currency.code(), "CHF");
    // The same person whichever of their orders a page starts from, and
    // whatever the case of the e-mail.
    let by_order = customer_risk(
        &p,
        &cfg(),
        CustomerOf::Order {
            source: "shop-pet",
            external_id: "o2002",
        },
    )
    .unwrap();
    assert_eq!(by_order, ben);
    assert_eq!(risk(&p, "Ben@EXAMPLE.com"), ben);
}

#[test]
fn thresholds_are_strict_and_configurable() {
    let p = projection(&records());
    // Exactly €5,000.00 is not above €5,000.00.
    let frank = risk(&p, "frank@example.com");
    assert_eq!(frank.lifetime_spend, eur(5_000_00));
    assert!(frank.flags.is_empty(), "{:?}", frank.flags);
    // Exactly 30 %: 3 of 10 (the rejected request does not count).
    let cleo = risk(&p, "cleo@example.com");
    assert_eq!((cleo.orders, cleo.returned_orders), (10, 3));
    assert!(!cleo.has(RiskKind::FrequentReturns));
    // A lower threshold from the configuration flags Frank.
    let low = PanelConfig {
        customer_risk: RiskRules {
            high_value_spend: 4_999,
        },
        ..cfg()
    };
    let frank = customer_risk(&p, &low, CustomerOf::Email("frank@example.com")).unwrap();
    assert_eq!(evidence(&frank), ["lifetime spend €5,000.00 > €4,999.00"]);
}

#[test]
fn frequent_returns_needs_three_orders() {
    // Dan: 1 of 2 orders refunded = 50 %, but only 2 orders.
    let mut records = vec![
        AnyRecord::Order(refunded(
            order("pet", 4001, "dan@example.com", usd(50_00)),
            usd(50_00),
        )),
        AnyRecord::Order(order("pet", 4002, "dan@example.com", usd(50_00))),
    ];
    let p = projection(&records);
    let dan = risk(&p, "dan@example.com");
    assert_eq!((dan.orders, dan.returned_orders), (2, 1));
    assert!(dan.flags.is_empty());
    // A third order: 1 of 3 = 33.3 % > 30 %.
    records.push(AnyRecord::Order(order(
        "pet",
        4003,
        "dan@example.com",
        usd(50_00),
    )));
    let p = projection(&records);
    assert_eq!(
        evidence(&risk(&p, "dan@example.com")),
        ["1 of 3 orders returned or refunded = 33.3 % > 30 %"]
    );
}

#[test]
fn disputes_and_chargebacks_with_their_orders_and_days() {
    let p = projection(&records());
    let eve = risk(&p, "eve@example.com");
    assert_eq!(kinds(&eve), [RiskKind::DisputeHistory]);
    assert_eq!(
        evidence(&eve),
        ["2 disputes (chargeback: order #2102, 2026-11-02; inquiry: order #2101, 2026-11-20)"]
    );
}

#[test]
fn a_viewer_without_revenue_permission_sees_the_flag_not_the_amount() {
    let p = projection(&records());
    let ana = risk(&p, "ana@example.com");
    let hidden = with_shown(false, || serde_json::to_value(&ana)).unwrap();
    assert_eq!(hidden["lifetime_spend"], serde_json::Value::Null);
    assert_eq!(hidden["flags"][0]["kind"], "high_value");
    assert_eq!(
        hidden["flags"][0]["evidence"],
        "lifetime spend above the high-value threshold"
    );
    let text = hidden.to_string();
    assert!(!text.contains('€') && !text.contains("6,330"), "{text}");
    let shown = with_shown(true, || serde_json::to_value(&ana)).unwrap();
    assert_eq!(
        shown["flags"][0]["evidence"],
        "lifetime spend €6,330.00 > €5,000.00"
    );
    assert_eq!(shown["lifetime_spend"]["display"], "€6,330.00");
}

#[test]
fn updates_replace_what_a_record_contributed() {
    let mut all = records();
    let p = projection(&all);
    // Ben's return request is rejected, the francs order turns out to be a
    // test, the chargeback on Ana's order is re-sent as its order moved:
    // each replaces what the old version counted.
    all.push(request(
        "pet",
        "rr-2005",
        2005,
        ReturnKind::Return,
        ReturnStatus::Rejected,
    ));
    let mut chf = order(
        "pet",
        2006,
        "ben@example.com",
        Money::new(500_00, cur("CHF")),
    );
    chf.test = true;
    all.push(AnyRecord::Order(chf));
    all.push(payment(
        "lux",
        "d1",
        1002,
        PaymentEventKind::Chargeback,
        "2026-11-02T10:00:00Z",
    ));
    let q = projection(&all);
    assert_ne!(p, q);
    let ben = risk(&q, "ben@example.com");
    // 1 of 4 orders = 25 %; nothing left out any more.
    assert_eq!((ben.orders, ben.returned_orders), (4, 1));
    assert!(ben.without_rate.is_empty());
    assert_eq!(kinds(&ben), [RiskKind::HighValue]);
    assert_eq!(
        evidence(&risk(&q, "ana@example.com"))[1],
        "1 chargeback (order #1002, 2026-11-02)"
    );
    // Arrival order does not matter.
    let mut reversed = all.clone();
    reversed.reverse();
    let latest: Vec<AnyRecord> = {
        // Keep each record's last version only, then apply newest-last
        // in reverse: the projection must equal the one built in order.
        let mut seen = std::collections::HashSet::new();
        reversed
            .into_iter()
            .filter(|r| {
                seen.insert((
                    format!("{:?}", r.kind()),
                    r.source().to_string(),
                    r.external_id().to_string(),
                ))
            })
            .collect()
    };
    let r = projection(&latest);
    assert_eq!(risk(&r, "ben@example.com"), risk(&q, "ben@example.com"));
    assert_eq!(risk(&r, "ana@example.com"), risk(&q, "ana@example.com"));
}

#[test]
fn unknown_customers_and_orders_without_an_email() {
    let mut lone = refunded(order("pet", 5001, "", usd(10_00)), usd(10_00));
    lone.customer = None;
    let mut records = records();
    records.push(AnyRecord::Order(lone));
    records.push(payment(
        "pet",
        "d9",
        5001,
        PaymentEventKind::Chargeback,
        "2026-11-10T15:00:00Z",
    ));
    let p = projection(&records);
    assert_eq!(
        customer_risk(&p, &cfg(), CustomerOf::Email("nobody@example.com")),
        None
    );
    assert_eq!(
        customer_risk(
            &p,
            &cfg(),
            CustomerOf::Order {
                source: "shop-pet",
                external_id: "missing"
            }
        ),
        None
    );
    // An order without an e-mail is judged on its own.
    let lone = customer_risk(
        &p,
        &cfg(),
        CustomerOf::Order {
            source: "shop-pet",
            external_id: "o5001",
        },
    )
    .unwrap();
    assert_eq!((lone.orders, lone.returned_orders), (1, 1));
    assert_eq!(lone.lifetime_spend, eur(0));
    assert_eq!(evidence(&lone), ["1 chargeback (order #5001, 2026-11-10)"]);
}
