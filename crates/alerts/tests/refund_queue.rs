//! The refunds queue's breach alert (`refund_queue_breach`) on real items
//! with a fixed clock: nothing while the item is on track or at risk, one
//! episode per breached item once its deadline has passed (a dispute's at
//! its sooner evidence date), firing after the rule's pending time, and
//! resolved once the item leaves the queue (its return approved).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::runner::{BrandWatch, ObservationSource, StoreObservations};
use opsdeck_alerts::*;
use opsdeck_domain::dispute::{DisputeState, DisputeStatus};
use opsdeck_domain::{
    Brand, BrandId, BrandKind, Currency, Money, PaymentEvent, PaymentEventKind, ReturnKind,
    ReturnRequest, ReturnStatus, SourceId, Thresholds,
};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::{Projection, SharedProjection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Store};
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

fn shop() -> SourceId {
    SourceId::parse("shopify-mavena").unwrap()
}

fn a_return(status: ReturnStatus, updated: &str) -> AnyRecord {
    AnyRecord::ReturnRequest(ReturnRequest {
        source: shop(),
        external_id: "17000000001".into(),
        brand: brand().id,
        order_id: Some("5001".into()),
        kind: ReturnKind::Return,
        status,
        amount: None,
        reason: None,
        requested_at: t("2026-03-10T08:00:00Z"),
        resolved_at: None,
        updated_at: t(updated),
        status_history: Vec::new(),
    })
}

fn a_dispute() -> AnyRecord {
    AnyRecord::PaymentEvent(PaymentEvent {
        source: shop(),
        external_id: "2800000001".into(),
        brand: brand().id,
        order_id: Some("5002".into()),
        kind: PaymentEventKind::Chargeback,
        amount: Some(Money::new(12_900, Currency::EUR)),
        reason: None,
        gateway: Some("shopify_payments".into()),
        occurred_at: t("2026-03-10T12:00:00Z"),
        updated_at: t("2026-03-10T12:00:00Z"),
        dispute: Some(DisputeState {
            status: DisputeStatus::NeedsResponse,
            // Sooner than 24 h: due at 20:00 the same day.
            evidence_due_by: Some(t("2026-03-10T20:00:00Z")),
            evidence_sent_on: None,
            finalized_on: None,
        }),
    })
}

async fn rebuild(store: &Arc<dyn Store>, shared: &SharedProjection) {
    *shared.write().unwrap() =
        Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
            .await
            .unwrap();
}

async fn open_episodes(store: &Arc<dyn Store>) -> Vec<(String, EpisodeState)> {
    let filter = opsdeck_store::alerts::EpisodeFilter {
        open_only: true,
        brand: None,
        limit: 100,
    };
    let mut out: Vec<(String, EpisodeState)> = store
        .alert_episodes(&filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.rule == "refund_queue_breach")
        .map(|e| {
            let subject = e.dedup_key.rsplit('|').next().unwrap().to_string();
            (subject, e.state)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn a_breached_item_opens_an_episode_that_resolves_when_it_leaves_the_queue() {
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    store
        .upsert(
            &[
                a_return(ReturnStatus::Requested, "2026-03-10T08:00:00Z"),
                a_dispute(),
            ],
            None,
        )
        .await
        .unwrap();
    let projection: SharedProjection = Arc::new(RwLock::new(Projection::new(
        vec![brand()],
        SubscriptionRules::default(),
    )));
    rebuild(&store, &projection).await;
    let rules = RuleSet::defaults();
    let rule = rules.get("refund_queue_breach").unwrap().clone();
    assert_eq!(rule.condition, rules::Condition::RefundQueueBreach);
    let only_queue = RuleSet::new(vec![rule]);
    let source = StoreObservations {
        store: store.clone(),
        brands: vec![BrandWatch {
            brand: brand(),
            hours: opsdeck_alerts::hours::BusinessHours::always(brand().time_zone),
            sources: vec![shop()],
            cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(300)),
        }],
        rules: only_queue.clone(),
        projection: Some((projection.clone(), PanelConfig::default())),
    };
    let service = AlertService::new(
        store.clone(),
        Evaluator::new(only_queue),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "s",
    );
    let step = |now: &'static str| {
        let (source, service) = (&source, &service);
        async move {
            let observed = source.observe(t(now)).await.unwrap();
            service.step(&observed, t(now)).await.unwrap();
            observed
        }
    };

    // 19:00: the return is on track (at risk from 02:00 on the 11th),
    // the dispute at risk (from 18:00): neither is observed.
    assert!(step("2026-03-10T19:00:00Z").await.is_empty());
    assert!(open_episodes(&store).await.is_empty());

    // 20:00:01: the dispute passed its evidence date; pending, then
    // firing after the rule's pending time.
    let observed = step("2026-03-10T20:00:01Z").await;
    assert_eq!(observed.len(), 1, "{observed:?}");
    assert_eq!(observed[0].subject, "dispute:shopify-mavena/2800000001");
    assert!(
        observed[0].why.contains("past its deadline"),
        "{}",
        observed[0].why
    );
    assert_eq!(observed[0].dashboard_path, "/queues/refunds?brand=mavena");
    step("2026-03-10T20:03:00Z").await;
    assert_eq!(
        open_episodes(&store).await,
        [(
            "dispute:shopify-mavena/2800000001".to_string(),
            EpisodeState::Firing
        )]
    );

    // The next morning the return breaches too: a second episode.
    step("2026-03-11T08:00:01Z").await;
    step("2026-03-11T08:03:00Z").await;
    let open = open_episodes(&store).await;
    assert_eq!(open.len(), 2, "{open:?}");
    assert!(open
        .iter()
        .any(|(s, st)| s == "return:shopify-mavena/17000000001" && *st == EpisodeState::Firing));

    // The return is approved: it leaves the queue, and its episode
    // resolves once the keep-firing time has passed; the dispute's stays.
    store
        .upsert(
            &[a_return(ReturnStatus::Approved, "2026-03-11T08:10:00Z")],
            None,
        )
        .await
        .unwrap();
    rebuild(&store, &projection).await;
    let observed = step("2026-03-11T08:11:00Z").await;
    assert_eq!(observed.len(), 1);
    let keep = RuleSet::defaults()
        .get("refund_queue_breach")
        .unwrap()
        .timing
        .keep_firing_for;
    let after = t("2026-03-11T08:11:00Z")
        .checked_add(keep + SignedDuration::from_secs(1))
        .unwrap();
    let observed = source.observe(after).await.unwrap();
    service.step(&observed, after).await.unwrap();
    assert_eq!(
        open_episodes(&store).await,
        [(
            "dispute:shopify-mavena/2800000001".to_string(),
            EpisodeState::Firing
        )]
    );
}
