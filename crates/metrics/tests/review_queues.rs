//! Review queues on a hand-computed set with a fixed clock: per queue the
//! count, the oldest, at-risk and breached counts by the one SLA clock,
//! the items most urgent first, a queue without an SLA, another brand's
//! items kept apart, and the operations panel giving the same numbers.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts};
use jiff::SignedDuration;
use opsdeck_domain::sla::SlaState;
use opsdeck_domain::*;
use opsdeck_metrics::panels::review_queues::{breached_items, review_queues, ReviewSlas};
use opsdeck_metrics::panels::{self, PanelConfig};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

/// Wednesday 2026-03-11 14:05 in New York.
const NOW: i64 = 1_773_252_300;
const MIN: i64 = 60;
const HOUR: i64 = 3_600;

fn item(x: &str, b: &str, queue: &str, status: ReviewStatus, ago: i64) -> AnyRecord {
    AnyRecord::ReviewItem(ReviewItem {
        source: SourceId::parse("ingest-pharma").unwrap(),
        external_id: x.into(),
        brand: BrandId::parse(b).unwrap(),
        queue: queue.into(),
        status,
        order_id: Some(format!("order-{x}")),
        subject: Some(format!("Rx {x}")),
        submitted_at: ts(NOW - ago),
        decided_at: None,
        updated_at: ts(NOW - ago),
        ocr_state: Some(OcrState::parse("low_confidence")),
        events: vec![],
    })
}

fn projection(records: &[AnyRecord]) -> Projection {
    let mut p = Projection::new(
        vec![
            brand("pharma", "Europe/Berlin", BrandKind::Standard, true),
            brand("kumo", "Asia/Tokyo", BrandKind::Standard, true),
        ],
        SubscriptionRules::default(),
    );
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    p
}

fn slas() -> ReviewSlas {
    ReviewSlas::with([("age_checks".to_string(), SignedDuration::from_hours(4))])
}

fn set() -> Vec<AnyRecord> {
    use ReviewStatus::*;
    vec![
        // prescriptions, 1 h (the playbook): at risk from 45 min.
        item("rx1", "pharma", "prescriptions", Open, 2 * HOUR), // breached, 1 h over
        item("rx2", "pharma", "prescriptions", Open, 50 * MIN), // at risk, 10 min left
        item("rx3", "pharma", "prescriptions", Open, 10 * MIN), // on track
        item("rx4", "pharma", "prescriptions", Approved, 3 * HOUR), // decided: not waiting
        item("rx5", "pharma", "prescriptions", Open, 61 * MIN), // breached, 1 min over
        // age_checks, 4 h (configured): at risk from 3 h.
        item("a1", "pharma", "age_checks", Open, 3 * HOUR), // at risk, exactly 75 %
        item("a2", "pharma", "age_checks", Open, 30 * MIN), // on track
        // photos: no SLA configured.
        item("p1", "pharma", "photos", Open, 5 * 24 * HOUR),
        // Another brand's breach.
        item("rx9", "kumo", "prescriptions", Open, 2 * HOUR),
    ]
}

#[test]
fn queue_numbers_on_a_hand_computed_set() {
    let p = projection(&set());
    let now = ts(NOW);
    let queues = review_queues(&p, &slas(), 0, now);
    let summary: Vec<(&str, usize, usize, usize, Option<i64>)> = queues
        .iter()
        .map(|q| {
            let c = &q.counts;
            (
                c.queue.as_str(),
                c.pending,
                c.at_risk,
                c.breached,
                c.oldest_age_seconds,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("prescriptions", 4, 1, 2, Some(2 * HOUR)),
            ("age_checks", 2, 1, 0, Some(3 * HOUR)),
            ("photos", 1, 0, 0, Some(5 * 24 * HOUR)),
        ]
    );
    let rx = &queues[0];
    assert_eq!(rx.counts.sla_seconds, Some(HOUR));
    assert_eq!(rx.counts.sla.as_deref(), Some("1 h 00 min"));
    assert_eq!(rx.counts.oldest_age.as_deref(), Some("2 h 00 min"));
    let order: Vec<(&str, Option<SlaState>, Option<i64>)> = rx
        .items
        .iter()
        .map(|i| (i.external_id.as_str(), i.state, i.time_left_seconds))
        .collect();
    assert_eq!(
        order,
        vec![
            ("rx1", Some(SlaState::Breached), Some(-HOUR)),
            ("rx5", Some(SlaState::Breached), Some(-MIN)),
            ("rx2", Some(SlaState::AtRisk), Some(10 * MIN)),
            ("rx3", Some(SlaState::OnTrack), Some(50 * MIN)),
        ],
        "breached first, the most overdue first"
    );
    assert_eq!(
        rx.items[0].time_left.as_deref(),
        Some("overdue by 1 h 00 min")
    );
    assert_eq!(rx.items[2].time_left.as_deref(), Some("10 min left"));
    assert_eq!(rx.items[0].ocr_state.as_deref(), Some("low_confidence"));
    assert_eq!(rx.items[0].order_id.as_deref(), Some("order-rx1"));
    let photos = &queues[2];
    assert_eq!(photos.counts.sla, None, "no SLA configured, none invented");
    assert_eq!(photos.items[0].state, None);
    assert_eq!(photos.items[0].deadline, None);

    let breached: Vec<&str> = breached_items(&queues)
        .iter()
        .map(|(_, i)| i.external_id.as_str())
        .collect();
    assert_eq!(breached, vec!["rx1", "rx5"]);

    // Another brand's items stay its own.
    let kumo = review_queues(&p, &slas(), 1, now);
    assert_eq!(kumo.len(), 1);
    assert_eq!((kumo[0].counts.pending, kumo[0].counts.breached), (1, 1));
    assert_eq!(kumo[0].items[0].external_id, "rx9");
}

#[test]
fn the_operations_panel_shows_the_same_numbers() {
    let p = projection(&set());
    let now = ts(NOW);
    let cfg = PanelConfig {
        review_slas: slas(),
        ..PanelConfig::default()
    };
    let ops = panels::operations::operations(&p, &cfg, 0, now);
    let counts: Vec<_> = review_queues(&p, &cfg.review_slas, 0, now)
        .into_iter()
        .map(|q| q.counts)
        .collect();
    assert_eq!(ops.review_queues, counts);
    assert_eq!(ops.review_queue_pending, 7);
    assert_eq!(
        ops.oldest_review_submitted_at,
        Some(ts(NOW - 5 * 24 * HOUR))
    );
}

#[test]
fn an_item_turns_at_risk_then_breached_as_the_fixed_clock_moves() {
    // rx3 was submitted at NOW − 10 min: at risk from NOW + 35 min,
    // breached after NOW + 50 min.
    let p = projection(&set());
    let state_at = |t: i64| {
        let queues = review_queues(&p, &slas(), 0, ts(t));
        let rx = queues
            .iter()
            .find(|q| q.counts.queue == "prescriptions")
            .unwrap();
        rx.items
            .iter()
            .find(|i| i.external_id == "rx3")
            .unwrap()
            .state
    };
    assert_eq!(state_at(NOW + 35 * MIN - 1), Some(SlaState::OnTrack));
    assert_eq!(state_at(NOW + 35 * MIN), Some(SlaState::AtRisk));
    assert_eq!(state_at(NOW + 50 * MIN), Some(SlaState::AtRisk));
    assert_eq!(state_at(NOW + 50 * MIN + 1), Some(SlaState::Breached));
}

#[test]
fn a_decision_takes_the_item_out_of_its_queue() {
    let mut p = projection(&set());
    for (i, x) in ["rx1", "rx5"].into_iter().enumerate() {
        p.apply(&Change {
            seq: 100 + i as u64,
            record: item(x, "pharma", "prescriptions", ReviewStatus::Rejected, 0),
        });
    }
    let queues = review_queues(&p, &slas(), 0, ts(NOW));
    let rx = &queues
        .iter()
        .find(|q| q.counts.queue == "prescriptions")
        .unwrap()
        .counts;
    assert_eq!((rx.pending, rx.at_risk, rx.breached), (2, 1, 0));
    assert_eq!(rx.oldest_age_seconds, Some(50 * MIN));
}
