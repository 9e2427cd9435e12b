//! The playbook reports on a real store: yesterday's orders in the daily
//! order summary (with their region), gaps where opsdeck has no data, and
//! no amount for an audience without revenue.

use super::*;
use crate::digest::DigestSources;
use jiff::tz::TimeZone;
use opsdeck_domain::{
    Brand, BrandKind, Currency, FinancialStatus, Money, Order, OrderFulfillmentStatus, RegionId,
    SourceId, Thresholds,
};
use opsdeck_metrics::panels::review_queues::ReviewSlas;
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::SubscriptionRules;
use opsdeck_operations::incidents::{IncidentService, SeverityPolicies};
use opsdeck_store::AnyRecord;
use std::sync::{Arc, RwLock};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn brand() -> Brand {
    Brand {
        id: BrandId::parse("mavena").unwrap(),
        name: "Mavena".into(),
        kind: BrandKind::Standard,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
        currency: Currency::EUR,
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

fn order(id: &str, created_at: &str) -> AnyRecord {
    let price = Money::new(12_000, Currency::EUR);
    let zero = Money::zero(Currency::EUR);
    AnyRecord::Order(Order {
        source: SourceId::parse("shopify-mavena").unwrap(),
        external_id: id.to_string(),
        brand: brand().id,
        name: format!("#{id}"),
        number: None,
        created_at: t(created_at),
        updated_at: t(created_at),
        processed_at: Some(t(created_at)),
        cancelled_at: None,
        cancel_reason: None,
        closed_at: None,
        currency: Currency::EUR,
        total_price: price,
        subtotal_price: price,
        total_discounts: zero,
        total_tax: zero,
        financial_status: FinancialStatus::Paid,
        fulfillment_status: OrderFulfillmentStatus::Unfulfilled,
        tags: Vec::new(),
        source_name: Some("web".into()),
        test: false,
        email: None,
        customer: None,
        line_items: Vec::new(),
        fulfillments: Vec::new(),
        refunds: Vec::new(),
    })
}

const NOW: &str = "2026-03-11T06:00:00Z";

async fn sources(records: Vec<AnyRecord>) -> (DigestSources, opsdeck_store::testing::TempGuard) {
    let (store, guard) = opsdeck_store::testing::sqlite_temp().await;
    store.upsert(&records, None).await.unwrap();
    let projection = Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
        .await
        .unwrap();
    let sources = DigestSources {
        projection: Arc::new(RwLock::new(projection)),
        panel: PanelConfig::default(),
        review_slas: ReviewSlas::playbook(),
        store: store.clone(),
        incidents: Arc::new(IncidentService::new(
            store,
            SeverityPolicies::default(),
            Arc::new(|| t(NOW)),
            vec![],
            "http://opsdeck.test",
        )),
        regions: vec![Region {
            id: RegionId::parse("eu").unwrap(),
            name: "Europe".into(),
            currency: Currency::EUR,
            time_zone: TimeZone::get("Europe/Berlin").unwrap(),
            brands: vec![brand().id],
            countries: vec![],
            leads: vec![],
        }],
    };
    (sources, guard)
}

fn section<'r>(report: &'r Report, id: &str) -> &'r Section {
    report.sections.iter().find(|s| s.id == id).unwrap()
}

#[tokio::test]
async fn the_daily_report_sums_yesterdays_orders_by_region_and_says_what_it_lacks() {
    // Two orders on 10 March (Berlin), one today: yesterday counts two.
    let (sources, _guard) = sources(vec![
        order("1", "2026-03-10T09:00:00Z"),
        order("2", "2026-03-10T15:00:00Z"),
        order("3", "2026-03-11T05:30:00Z"),
    ])
    .await;
    let regions = sources.regions.clone();
    let report = playbook_report(
        &sources,
        &regions,
        Cadence::Daily,
        None,
        "Europe/Berlin",
        true,
        t(NOW),
    )
    .await
    .unwrap();
    assert_eq!(report.subtitle, "2026-03-10");
    let ids: Vec<&str> = report.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, Cadence::Daily.sections());
    let orders = &section(&report, "orders_by_region").tables[0];
    assert_eq!(
        orders.rows,
        [vec![
            Cell::Text("Europe".into()),
            Cell::Text("Mavena".into()),
            Cell::Count(2),
            Cell::Money(Money::new(24_000, Currency::EUR)),
        ]]
    );
    let target = section(&report, "revenue_against_target");
    assert_eq!(target.gaps[0].what, "Revenue targets");

    let hidden = playbook_report(
        &sources,
        &regions,
        Cadence::Daily,
        None,
        "Europe/Berlin",
        false,
        t(NOW),
    )
    .await
    .unwrap();
    assert!(!format!("{hidden:?}").contains("Money("));
    assert_eq!(
        section(&hidden, "orders_by_region").tables[0].rows[0][2],
        Cell::Count(2)
    );
}

#[tokio::test]
async fn the_monthly_report_covers_last_month_and_names_each_missing_source() {
    let (sources, _guard) = sources(vec![]).await;
    let report = playbook_report(
        &sources,
        &[],
        Cadence::Monthly,
        None,
        "Europe/Berlin",
        true,
        t(NOW),
    )
    .await
    .unwrap();
    assert_eq!(report.subtitle, "2026-02-01 to 2026-02-28");
    for id in ["reconciliation", "tax_by_country", "cohorts"] {
        let s = section(&report, id);
        assert!(s.is_empty() && !s.gaps.is_empty(), "{id}: {s:?}");
    }
    assert!(report.is_empty(), "no orders, no stock: nothing to send");
    let weekly = playbook_report(
        &sources,
        &[],
        Cadence::Weekly,
        None,
        "Europe/Berlin",
        true,
        t(NOW),
    )
    .await
    .unwrap();
    assert_eq!(weekly.subtitle, "2026-03-04 to 2026-03-10");
    assert!(section(&weekly, "team_activity")
        .gaps
        .iter()
        .any(|g| g.what == "Per-agent activity"));
}
