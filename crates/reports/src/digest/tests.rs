//! The digest on a real store: a breached return and an open incident are
//! both named; a quiet store gives an empty digest ("skip when empty");
//! amounts are gone for an audience without revenue.

use super::*;
use jiff::tz::TimeZone;
use opsdeck_domain::{
    Brand, BrandKind, Currency, ReturnKind, ReturnRequest, ReturnStatus, SourceId, Thresholds,
};
use opsdeck_metrics::{Projection, SubscriptionRules};
use opsdeck_operations::incidents::{Actor, Declaration, DeclaredVia, Severity, SeverityPolicies};
use opsdeck_store::AnyRecord;
use std::sync::RwLock;

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

fn a_requested_return() -> AnyRecord {
    AnyRecord::ReturnRequest(ReturnRequest {
        source: SourceId::parse("shopify-mavena").unwrap(),
        external_id: "17000000001".into(),
        brand: brand().id,
        order_id: Some("5001".into()),
        kind: ReturnKind::Return,
        status: ReturnStatus::Requested,
        amount: None,
        reason: None,
        requested_at: t("2026-03-10T08:00:00Z"),
        resolved_at: None,
        updated_at: t("2026-03-10T08:00:00Z"),
        status_history: Vec::new(),
    })
}

const NOW: &str = "2026-03-11T12:00:00Z";

async fn sources(store: Arc<dyn Store>) -> DigestSources {
    let projection = Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
        .await
        .unwrap();
    let now = t(NOW);
    DigestSources {
        projection: Arc::new(RwLock::new(projection)),
        panel: PanelConfig::default(),
        review_slas: ReviewSlas::playbook(),
        store: store.clone(),
        incidents: Arc::new(IncidentService::new(
            store,
            SeverityPolicies::default(),
            Arc::new(move || now),
            vec![],
            "http://opsdeck.test",
        )),
        regions: vec![],
    }
}

#[tokio::test]
async fn a_breached_return_and_an_open_incident_are_both_named() {
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    store.upsert(&[a_requested_return()], None).await.unwrap();
    let sources = sources(store).await;
    sources
        .incidents
        .declare(
            Declaration {
                title: "Checkout down in DE".into(),
                severity: Severity::High,
                brand: Some("mavena".into()),
                alerts: vec![],
                via: DeclaredVia::Dashboard,
                summary: None,
            },
            &Actor::new("ops"),
        )
        .await
        .unwrap();
    let facts = sources.gather(t(NOW)).await.unwrap();
    assert_eq!(facts.brands[0].refund_breaches, 1);
    let report = daily_digest(&facts, None, "Europe/Berlin", true);
    assert!(!report.is_empty());
    let text = summary_text(&report);
    assert!(text.contains("Checkout down in DE"), "{text}");
    assert!(
        text.contains("Refunds, returns and disputes past 24 h: 1"),
        "{text}"
    );
    assert!(text.contains("Mavena, Refunds queue breached 1"), "{text}");
    // Another brand's subscription sees neither.
    let other = [BrandId::parse("plentum").unwrap()];
    let theirs = daily_digest(&facts, Some(&other), "Europe/Berlin", true);
    assert!(theirs.is_empty(), "{}", summary_text(&theirs));
}

#[tokio::test]
async fn a_quiet_store_gives_an_empty_digest_to_skip() {
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let facts = sources(store).await.gather(t(NOW)).await.unwrap();
    assert!(daily_digest(&facts, None, "Europe/Berlin", true).is_empty());
}

#[test]
fn amounts_are_left_out_for_an_audience_without_revenue() {
    let facts = DigestFacts {
        as_of: t(NOW),
        incidents: vec![],
        brands: vec![BrandAttention {
            brand: brand().id,
            name: "Mavena".into(),
            orders_yesterday: 12,
            revenue_yesterday: Money::new(123_456, Currency::EUR),
            refund_breaches: 0,
            review_breaches: 0,
            privacy_due: 2,
        }],
        privacy_due_all_brands: 0,
    };
    let with = daily_digest(&facts, None, "Europe/Berlin", true);
    assert!(format!("{with:?}").contains("Money("));
    assert!(
        summary_text(&with).contains("1234.56"),
        "{}",
        summary_text(&with)
    );
    let without = daily_digest(&facts, None, "Europe/Berlin", false);
    assert!(!format!("{without:?}").contains("Money("));
    let text = summary_text(&without);
    assert!(!text.contains("1234"), "{text}");
    assert!(text.contains("Orders 12"), "{text}");
    assert!(text.contains("your role may not see revenue"), "{text}");
}
