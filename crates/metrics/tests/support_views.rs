//! Support views (issue 10.A4, B5, B10): unattributed tickets are counted
//! as such and the account-wide view holds every ticket, so brands +
//! unattributed add up to the helpdesk's own totals; attribution tags are
//! not issues; first response time has one definition.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts};
use opsdeck_domain::support::first_response_secs;
use opsdeck_domain::*;
use opsdeck_metrics::panels::support::{
    csat, queue, times, top_issues, view_ix, ALL_BRANDS, UNATTRIBUTED,
};
use opsdeck_metrics::panels::Range;
use opsdeck_metrics::projection::{BrandIx, Projection, ProjectionRules, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

const NOW: i64 = 1_773_252_300;

fn brands() -> Vec<Brand> {
    vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        brand("kumo", "America/New_York", BrandKind::Dropship, true),
    ]
}

fn projection(records: &[AnyRecord], rules: ProjectionRules) -> Projection {
    let mut p = Projection::new(brands(), rules);
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    p
}

/// The demo world with one ticket in four unattributed (no brand) and one
/// in ten claimed for a brand that is not configured: both are the
/// helpdesk's tickets all the same.
fn helpdesk() -> Vec<AnyRecord> {
    let mut records = gen::world(11, &brands(), 300, 900, 40, NOW);
    let ghost = BrandId::parse("ghost").unwrap();
    let brand_of = |ticket: &str| -> Option<Option<BrandId>> {
        let n: u64 = ticket.trim_start_matches('t').parse().ok()?;
        if n.is_multiple_of(4) {
            Some(None)
        } else if n % 10 == 1 {
            Some(Some(ghost.clone()))
        } else {
            None
        }
    };
    for r in &mut records {
        match r {
            AnyRecord::Ticket(t) => {
                if let Some(b) = brand_of(&t.external_id) {
                    t.brand = b;
                }
            }
            AnyRecord::TicketMessage(m) => {
                if let Some(b) = brand_of(&m.ticket_id) {
                    m.brand = b;
                }
            }
            AnyRecord::SatisfactionSurvey(s) => {
                if let Some(b) = brand_of(&s.ticket_id) {
                    s.brand = b;
                }
            }
            _ => {}
        }
    }
    records
}

#[test]
fn brands_and_unattributed_add_up_to_the_helpdesk_totals() {
    let records = helpdesk();
    let p = projection(&records, SubscriptionRules::default().into());
    let now = ts(NOW);
    let week = Range::Days { days: 7 };
    let views: Vec<BrandIx> = vec![0, 1, UNATTRIBUTED];

    // The helpdesk's own figures, counted from the records.
    let tickets: Vec<&Ticket> = records
        .iter()
        .filter_map(|r| match r {
            AnyRecord::Ticket(t) => Some(t),
            _ => None,
        })
        .collect();
    let open = tickets
        .iter()
        .filter(|t| t.status != TicketStatus::Closed)
        .filter(|t| t.snooze_until.is_none_or(|s| s.as_second() <= NOW))
        .count() as i64;
    let pending = tickets
        .iter()
        .filter(|t| t.status != TicketStatus::Closed)
        .filter(|t| t.snooze_until.is_some_and(|s| s.as_second() > NOW))
        .count() as i64;
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let today = jiff::Timestamp::from_second(NOW)
        .unwrap()
        .to_zoned(tz.clone())
        .date();
    let week_start = (today - jiff::Span::new().days(6))
        .to_zoned(tz.clone())
        .unwrap()
        .timestamp()
        .as_second();
    let created_7d = tickets
        .iter()
        .filter(|t| t.created_at.as_second() >= week_start)
        .count() as i64;
    let surveys_7d = records
        .iter()
        .filter(|r| match r {
            AnyRecord::SatisfactionSurvey(s) => {
                s.score.is_some() && s.scored_at.is_some_and(|a| a.as_second() >= week_start)
            }
            _ => false,
        })
        .count() as i64;
    let unattributed = tickets
        .iter()
        .filter(|t| t.brand.as_ref().is_none_or(|b| b.as_str() == "ghost"))
        .count();
    assert!(unattributed > 200, "{unattributed} unattributed tickets");

    let q: Vec<_> = views
        .iter()
        .map(|b| queue(&p, *b, jiff::civil::Weekday::Monday, now))
        .collect();
    let all = queue(&p, ALL_BRANDS, jiff::civil::Weekday::Monday, now);
    let created = |q: &opsdeck_metrics::panels::support::Queue| {
        q.created_series
            .iter()
            .map(|pt| pt.value as i64)
            .sum::<i64>()
    };
    assert_eq!(
        (all.open, all.pending, created(&all)),
        (open, pending, created_7d)
    );
    assert_eq!(q.iter().map(|x| x.open).sum::<i64>(), all.open);
    assert_eq!(q.iter().map(|x| x.pending).sum::<i64>(), all.pending);
    assert_eq!(q.iter().map(created).sum::<i64>(), all_created(&all));
    assert_eq!(
        q.iter().map(|x| x.resolved_this_week).sum::<i64>(),
        all.resolved_this_week
    );
    assert!(
        q[2].open > 0,
        "unattributed tickets are counted: {:?}",
        q[2]
    );

    let c: Vec<_> = views.iter().map(|b| csat(&p, *b, week, now)).collect();
    let all_c = csat(&p, ALL_BRANDS, week, now);
    assert_eq!(all_c.surveys, surveys_7d);
    assert_eq!(c.iter().map(|x| x.surveys).sum::<i64>(), all_c.surveys);

    let t: Vec<_> = views.iter().map(|b| times(&p, *b, week, now)).collect();
    let all_t = times(&p, ALL_BRANDS, week, now);
    assert_eq!(
        t.iter().map(|x| x.first_response_tickets).sum::<usize>(),
        all_t.first_response_tickets
    );
    assert_eq!(
        t.iter().map(|x| x.resolved_tickets).sum::<usize>(),
        all_t.resolved_tickets
    );

    let i: Vec<_> = views
        .iter()
        .map(|b| top_issues(&p, *b, week, now))
        .collect();
    let all_i = top_issues(&p, ALL_BRANDS, week, now);
    assert_eq!(all_i.tickets, created_7d);
    assert_eq!(i.iter().map(|x| x.tickets).sum::<i64>(), all_i.tickets);

    assert_eq!(view_ix(&p, "unattributed"), Some(UNATTRIBUTED));
    assert_eq!(view_ix(&p, "all"), Some(ALL_BRANDS));
    assert_eq!(view_ix(&p, "kumo"), Some(1));
    assert_eq!(view_ix(&p, "nosuch"), None);
}

fn all_created(q: &opsdeck_metrics::panels::support::Queue) -> i64 {
    q.created_series.iter().map(|pt| pt.value as i64).sum()
}

fn tagged(id: &str, brand: Option<&str>, tags: &[&str], subject: &str) -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("helpdesk").unwrap(),
        external_id: id.into(),
        brand: brand.map(|b| BrandId::parse(b).unwrap()),
        status: TicketStatus::Open,
        channel: Channel::Email,
        subject: Some(subject.into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        customer: None,
        assignee: None,
        created_at: ts(NOW - 3600),
        opened_at: None,
        updated_at: ts(NOW - 3600),
        last_received_message_at: None,
        closed_at: None,
        snooze_until: None,
        trashed_at: None,
    })
}

#[test]
fn attribution_tags_name_a_brand_not_an_issue() {
    let rules = ProjectionRules {
        attribution_tags: vec!["Mavena".into(), "kumo-store".into()],
        ..Default::default()
    };
    let p = projection(
        &[
            tagged("1", Some("mavena"), &["mavena"], "Wrong size 5.5"),
            tagged("2", Some("mavena"), &["mavena", "returns"], "Return"),
            tagged("3", Some("mavena"), &["MAVENA"], "Where is my package"),
            tagged("4", Some("kumo"), &["kumo-store", "returns"], "Return"),
        ],
        rules,
    );
    let issues = top_issues(&p, 0, Range::Today, ts(NOW));
    let tags: Vec<(&str, i64)> = issues
        .by_tag
        .iter()
        .map(|i| (i.name.as_str(), i.tickets))
        .collect();
    assert_eq!(
        tags,
        vec![("returns", 1)],
        "the brand's own tag is not an issue"
    );
    // Tickets tagged only with the brand's tag are clustered by subject.
    let mut clusters: Vec<(&str, i64)> = issues
        .untagged_clusters
        .iter()
        .map(|i| (i.name.as_str(), i.tickets))
        .collect();
    clusters.sort();
    assert_eq!(clusters, vec![("size", 1), ("tracking", 1)]);
    let all = top_issues(&p, ALL_BRANDS, Range::Today, ts(NOW));
    assert_eq!(
        all.by_tag
            .iter()
            .map(|i| (i.name.as_str(), i.tickets))
            .collect::<Vec<_>>(),
        vec![("returns", 2)]
    );
}

fn message(id: &str, from_agent: bool, public: bool, rule: Option<&str>, at: i64) -> TicketMessage {
    TicketMessage {
        source: SourceId::parse("helpdesk").unwrap(),
        external_id: id.into(),
        brand: Some(BrandId::parse("mavena").unwrap()),
        ticket_id: "1".into(),
        from_agent,
        public,
        rule_id: rule.map(String::from),
        channel: None,
        subject: None,
        body_text: None,
        intents: vec![],
        created_at: ts(at),
        sent_at: Some(ts(at)),
        failed_at: None,
        updated_at: ts(at),
    }
}

#[test]
fn first_response_on_the_panel_is_the_one_definition() {
    let asked = NOW - 6 * 3600;
    let mut failed = message("m4", true, true, None, asked + 3600);
    failed.failed_at = Some(ts(asked + 3601));
    let messages = [
        // An agent's outbound note before the customer wrote: not a response.
        message("m0", true, true, None, asked - 600),
        message("m1", false, true, None, asked),
        message("m2", true, true, Some("rule-7"), asked + 5),
        message("m3", true, false, None, asked + 1800),
        failed,
        message("m5", true, true, None, asked + 2 * 3600 + 900),
    ];
    let mut records = vec![tagged("1", Some("mavena"), &[], "Hello")];
    if let AnyRecord::Ticket(t) = &mut records[0] {
        t.created_at = ts(asked);
    }
    records.extend(messages.iter().cloned().map(AnyRecord::TicketMessage));
    let p = projection(&records, SubscriptionRules::default().into());
    let t = times(&p, 0, Range::Today, ts(NOW));
    let defined = first_response_secs(messages.iter().map(TicketMessage::timing));
    assert_eq!(defined, Some(2 * 3600 + 900));
    assert_eq!(t.first_response_tickets, 1);
    assert_eq!(t.first_response_median_hours, Some(2.25));
}
