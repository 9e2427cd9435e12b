//! What drives satisfaction (issue 15 point 6) on a hand-computed set:
//! CSAT by first-response and resolution bucket with the surveys behind
//! each, the rank correlation with its n, first-contact resolution, and
//! the insight when slow answers visibly cost satisfaction.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts};
use opsdeck_domain::*;
use opsdeck_metrics::panels::satisfaction::satisfaction;
use opsdeck_metrics::panels::support::ALL_BRANDS;
use opsdeck_metrics::panels::Range;
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

/// 2026-03-11 18:05 UTC.
const NOW: i64 = 1_773_252_300;
const H: i64 = 3_600;

fn source() -> SourceId {
    SourceId::parse("gorgias").unwrap()
}

fn ticket(id: &str, created: i64, closed: Option<i64>) -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: source(),
        external_id: id.into(),
        brand: Some(BrandId::parse("mavena").unwrap()),
        status: if closed.is_some() {
            TicketStatus::Closed
        } else {
            TicketStatus::Open
        },
        channel: Channel::Email,
        subject: Some("Question".into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec!["question".into()],
        customer: None,
        assignee: None,
        created_at: ts(created),
        opened_at: None,
        updated_at: ts(closed.unwrap_or(created)),
        last_received_message_at: None,
        closed_at: closed.map(ts),
        snooze_until: None,
        trashed_at: None,
    })
}

/// A message: `who` is "customer", "agent", "rule" (an automation's
/// reply) or "note" (an agent's internal note).
fn message(ticket: &str, n: u32, who: &str, at: i64) -> AnyRecord {
    AnyRecord::TicketMessage(TicketMessage {
        source: source(),
        external_id: format!("{ticket}-m{n}"),
        brand: Some(BrandId::parse("mavena").unwrap()),
        ticket_id: ticket.into(),
        from_agent: who != "customer",
        public: who != "note",
        rule_id: (who == "rule").then(|| "r1".to_string()),
        channel: None,
        subject: None,
        body_text: Some("text".into()),
        intents: vec![],
        created_at: ts(at),
        sent_at: Some(ts(at)),
        failed_at: None,
        updated_at: ts(at),
    })
}

fn survey(ticket: &str, score: Option<u8>, scored: i64) -> AnyRecord {
    AnyRecord::SatisfactionSurvey(SatisfactionSurvey {
        source: source(),
        external_id: format!("s-{ticket}"),
        brand: Some(BrandId::parse("mavena").unwrap()),
        ticket_id: ticket.into(),
        customer_id: None,
        score,
        body_text: None,
        sent_at: Some(ts(scored)),
        scored_at: score.map(|_| ts(scored)),
        updated_at: ts(scored),
    })
}

/// The set, all tickets created 5 days before `NOW`:
/// - A: 20 tickets answered after 30 min by one agent reply, closed after
///   2 h (first contact); scored 5 (15 of them) and 4 (5);
/// - B: 3 tickets where a rule answered at once and an agent wrote an
///   internal note (neither counts), one agent reply after 2 h, closed
///   after 5 h (first contact); scored 4, 4, 5;
/// - C: 20 tickets answered after 30 h and again after 40 h, closed after
///   48 h (two replies: not first contact); scored 3 (10) and 4 (10);
/// - D: one open ticket nobody answered, scored 1 (no time: counted apart);
/// - E: one ticket closed without any reply, not surveyed;
/// - F: one survey never answered, one scored 40 days ago: neither counts.
fn records() -> Vec<AnyRecord> {
    let t0 = NOW - 5 * 24 * H;
    let mut r = Vec::new();
    let mut add =
        |id: String, answers: &[i64], extra: &[(&str, i64)], closed: Option<i64>, score| {
            r.push(ticket(&id, t0, closed.map(|c| t0 + c)));
            r.push(message(&id, 0, "customer", t0));
            for (i, a) in answers.iter().enumerate() {
                r.push(message(&id, i as u32 + 1, "agent", t0 + a));
            }
            for (i, (who, at)) in extra.iter().enumerate() {
                r.push(message(&id, 10 + i as u32, who, t0 + at));
            }
            if let Some(score) = score {
                r.push(survey(&id, Some(score), t0 + closed.unwrap_or(H) + H));
            }
        };
    for i in 0..20 {
        let score = if i < 15 { 5 } else { 4 };
        add(format!("a{i}"), &[H / 2], &[], Some(2 * H), Some(score));
    }
    for (i, score) in [4, 4, 5].into_iter().enumerate() {
        add(
            format!("b{i}"),
            &[2 * H],
            &[("rule", 60), ("note", 120)],
            Some(5 * H),
            Some(score),
        );
    }
    for i in 0..20 {
        let score = if i < 10 { 3 } else { 4 };
        add(
            format!("c{i}"),
            &[30 * H, 40 * H],
            &[],
            Some(48 * H),
            Some(score),
        );
    }
    add("d0".into(), &[], &[], None, Some(1));
    add("e0".into(), &[], &[], Some(H), None);
    r.push(survey("a0-unanswered", None, t0));
    r.push(ticket("old", NOW - 45 * 24 * H, Some(NOW - 44 * 24 * H)));
    r.push(survey("old", Some(1), NOW - 40 * 24 * H));
    r
}

fn projection(records: &[AnyRecord]) -> Projection {
    let brands = vec![brand(
        "mavena",
        "America/New_York",
        BrandKind::Standard,
        true,
    )];
    let mut p = Projection::new(brands, SubscriptionRules::default());
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    p
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn satisfaction_by_bucket_correlation_and_first_contact_by_hand() {
    let p = projection(&records());
    let s = satisfaction(&p, 0, Range::Days { days: 30 }, ts(NOW));
    // 20 + 3 + 20 + 1 answered in the window; the unanswered and the
    // 40-day-old one are not counted.
    assert_eq!(s.surveys, 44);

    let fr = &s.by_first_response;
    let counts: Vec<i64> = fr.buckets.iter().map(|b| b.surveys).collect();
    assert_eq!(counts, vec![20, 3, 0, 20]);
    let labels: Vec<&str> = fr.buckets.iter().map(|b| b.bucket).collect();
    assert_eq!(labels, vec!["< 1 h", "1–4 h", "4–24 h", "> 24 h"]);
    assert!(close(fr.buckets[0].mean.unwrap(), 4.75)); // (15×5 + 5×4) / 20
    assert!(close(fr.buckets[1].mean.unwrap(), 13.0 / 3.0)); // the rule's reply does not count
    assert_eq!(fr.buckets[2].mean, None);
    assert!(close(fr.buckets[3].mean.unwrap(), 3.5)); // (10×3 + 10×4) / 20
    assert_eq!(fr.without_time, 1); // the open, unanswered ticket
                                    // Spearman on ranks by hand: times tie in 3 groups (ranks 10.5, 22,
                                    // 33.5), scores in 3 (3 → 5.5, 4 → 19, 5 → 35.5): rho = −0.79470…
    assert_eq!(fr.correlation.n, 43);
    let rho = fr.correlation.rho.unwrap();
    assert!((rho - -0.794_704_941_5).abs() < 1e-9, "{rho}");
    let insight = fr.insight.as_deref().unwrap();
    assert!(
        insight.contains("first responses > 24 h is 3.50 (20 surveys), 1.25 below 4.75"),
        "{insight}"
    );

    let rs = &s.by_resolution;
    let counts: Vec<i64> = rs.buckets.iter().map(|b| b.surveys).collect();
    assert_eq!(counts, vec![0, 20, 3, 20]);
    assert_eq!(rs.without_time, 1);
    assert_eq!(rs.correlation.n, 43);
    // Same order of times per group: the same ranks, the same rho.
    assert!((rs.correlation.rho.unwrap() - rho).abs() < 1e-12);
    assert!(rs.insight.is_some());

    // Closed in the window: 20 + 3 + 20 + 1 (E, no reply) = 44; at first
    // contact (exactly one agent reply): A and B = 23.
    assert_eq!(s.first_contact.closed, 44);
    assert_eq!(s.first_contact.at_first_contact, 23);
    assert!(close(s.first_contact.rate.unwrap(), 23.0 / 44.0));

    // The account-wide view holds the same surveys.
    let all = satisfaction(&p, ALL_BRANDS, Range::Days { days: 30 }, ts(NOW));
    assert_eq!(all.surveys, 44);
    assert_eq!(all.first_contact.at_first_contact, 23);
}

#[test]
fn a_reply_after_the_survey_moves_it_and_a_reopened_ticket_leaves_the_buckets() {
    let mut records = records();
    let p = projection(&records);
    let before = satisfaction(&p, 0, Range::Days { days: 30 }, ts(NOW));
    assert_eq!(before.first_contact.at_first_contact, 23);
    // A second agent reply on a0: no longer first contact, and (a second
    // reply does not change the first response) still "< 1 h".
    let t0 = NOW - 5 * 24 * H;
    records.push(message("a0", 99, "agent", t0 + H));
    // a1 reopened: no resolution time until it closes again.
    if let Some(AnyRecord::Ticket(t)) = records
        .iter()
        .find(|r| matches!(r, AnyRecord::Ticket(t) if t.external_id == "a1"))
    {
        let mut t = t.clone();
        t.status = TicketStatus::Open;
        t.updated_at = ts(NOW - H);
        records.push(AnyRecord::Ticket(t));
    }
    let p = projection(&records);
    let after = satisfaction(&p, 0, Range::Days { days: 30 }, ts(NOW));
    assert_eq!(after.first_contact.at_first_contact, 21);
    assert_eq!(after.first_contact.closed, 43);
    assert_eq!(after.by_first_response.buckets[0].surveys, 20);
    assert_eq!(after.by_resolution.buckets[1].surveys, 19);
    assert_eq!(after.by_resolution.without_time, 2);
    // Fewer than 20 surveys in the fast resolution bucket: no comparison
    // from it; the 4–24 h bucket has 3: only one bucket qualifies.
    assert_eq!(after.by_resolution.insight, None);
}

#[test]
fn no_surveys_no_numbers() {
    let p = projection(&[]);
    let s = satisfaction(&p, 0, Range::Days { days: 7 }, ts(NOW));
    assert_eq!(s.surveys, 0);
    assert!(s.by_first_response.buckets.iter().all(|b| b.mean.is_none()));
    assert_eq!(s.by_first_response.correlation.rho, None);
    assert_eq!(s.first_contact.rate, None);
    assert_eq!(s.by_first_response.insight, None);
}
