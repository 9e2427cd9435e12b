//! The urgent queue (issue 10.D1): ranked by the documented score, the top
//! first and the whole queue behind it a page at a time; each row with
//! subject, customer, brand, age, its flags' evidence and a link that opens
//! the ticket in the helpdesk; the order value kept as money and never
//! serialized.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts, Rng};
use opsdeck_domain::support::Party;
use opsdeck_domain::*;
use opsdeck_metrics::panels::support::{ALL_BRANDS, UNATTRIBUTED};
use opsdeck_metrics::panels::urgent::{urgent, urgent_page, AgeBadge, PER_PAGE};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

const NOW: i64 = 1_773_252_300;

fn ticket(
    id: &str,
    brand: Option<&str>,
    subject: &str,
    hours_ago: i64,
    channel: Channel,
    email: &str,
) -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("helpdesk").unwrap(),
        external_id: id.into(),
        brand: brand.map(|b| BrandId::parse(b).unwrap()),
        status: TicketStatus::Open,
        channel,
        subject: Some(subject.into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some(email.into()),
            name: (email == "ann@example.com").then(|| "Ann Lee".into()),
        }),
        assignee: None,
        created_at: ts(NOW - hours_ago * 3600),
        opened_at: None,
        updated_at: ts(NOW - hours_ago * 3600),
        last_received_message_at: None,
        closed_at: None,
        snooze_until: None,
        trashed_at: None,
    })
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

fn cfg() -> PanelConfig {
    PanelConfig {
        helpdesk_ticket_url: Some("https://acme.gorgias.com/app/ticket/".into()),
        ..PanelConfig::default()
    }
}

fn records() -> Vec<AnyRecord> {
    let b = BrandId::parse("mavena").unwrap();
    let mut order = gen::order(&mut Rng::new(1), &b, 234, NOW - 40 * 3600, NOW);
    order.test = false;
    order.cancelled_at = None;
    order.total_price = Money::new(41_200, Currency::USD);
    order.email = Some("bo@example.com".into());
    vec![
        AnyRecord::Order(order),
        // Chargeback words, 2 hours old: 40 points.
        ticket(
            "901",
            Some("mavena"),
            "I will dispute this charge",
            2,
            Channel::Email,
            "ann@example.com",
        ),
        // A VIP order quoted ($412 > $200): 25 + 20 for the value + 3 for 20 h = 48.
        ticket(
            "902",
            Some("mavena"),
            "Question about order #1234",
            20,
            Channel::Email,
            "bo@example.com",
        ),
        // Social, 50 h open: 15 + 8 = 23.
        ticket(
            "903",
            Some("mavena"),
            "Hello",
            50,
            Channel::Twitter,
            "cy@example.com",
        ),
        // Nothing to flag.
        ticket(
            "904",
            Some("mavena"),
            "Hello again",
            1,
            Channel::Email,
            "di@example.com",
        ),
        // Unattributed, chargeback words, 30 h: 40 + 5 = 45.
        ticket(
            "905",
            None,
            "My bank says no",
            30,
            Channel::Email,
            "ed@example.com",
        ),
    ]
}

#[test]
fn the_queue_is_ranked_by_its_score_with_evidence_and_a_helpdesk_link() {
    let p = projection(&records());
    let u = urgent(&p, &cfg(), 0, ts(NOW));
    assert_eq!((u.scanned, u.flagged, u.pages), (4, 3, 1));
    let ids: Vec<&str> = u.tickets.iter().map(|t| t.ticket_id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["902", "901", "903"],
        "highest score first, not newest"
    );
    let scores: Vec<u32> = u.tickets.iter().map(|t| t.score).collect();
    assert_eq!(scores, vec![48, 40, 23]);

    let vip = &u.tickets[0];
    assert_eq!(vip.subject, "Question about order #1234");
    assert_eq!(vip.customer, "bo@example.com");
    assert_eq!(vip.brand, "mavena");
    assert_eq!((vip.age_hours, vip.age_badge), (20, AgeBadge::Today));
    assert_eq!(vip.linked_order.as_deref(), Some("#1234"));
    assert_eq!(vip.order_value, Some(Money::new(41_200, Currency::USD)));
    assert_eq!(vip.flags[0].flag, "vip");
    assert_eq!(vip.flags[0].reason, "order #1234");
    assert_eq!(
        vip.helpdesk_url.as_deref(),
        Some("https://acme.gorgias.com/app/ticket/902")
    );
    let chargeback = &u.tickets[1];
    assert_eq!(chargeback.customer, "Ann Lee");
    assert_eq!(chargeback.flags[0].reason, "chargeback words: 'dispute'");
    assert_eq!(chargeback.age_badge, AgeBadge::New);
    assert_eq!(u.tickets[2].age_badge, AgeBadge::Days);

    // No money leaves the view model as JSON: the value is for pages that
    // hold the revenue permission.
    let json = serde_json::to_string(&u).unwrap();
    assert!(!json.contains("412") && !json.contains("41200"), "{json}");

    // Unattributed tickets have their own queue, and the account-wide one
    // ranks every ticket.
    let un = urgent(&p, &cfg(), UNATTRIBUTED, ts(NOW));
    assert_eq!(un.tickets.len(), 1);
    assert_eq!(un.tickets[0].brand, "unattributed");
    assert_eq!(un.tickets[0].flags[0].reason, "chargeback words: 'bank'");
    let all = urgent(&p, &cfg(), ALL_BRANDS, ts(NOW));
    let ids: Vec<&str> = all.tickets.iter().map(|t| t.ticket_id.as_str()).collect();
    assert_eq!(ids, vec!["902", "905", "901", "903"]);
    assert_eq!((all.scanned, all.flagged), (5, 4));
}

#[test]
fn the_whole_queue_stays_behind_the_top_a_page_at_a_time() {
    let mut recs = vec![];
    for i in 0..(PER_PAGE as i64 + 7) {
        recs.push(ticket(
            &format!("t{i}"),
            Some("mavena"),
            "Refund please",
            i,
            Channel::Email,
            &format!("c{i}@example.com"),
        ));
    }
    let p = projection(&recs);
    let first = urgent_page(&p, &cfg(), 0, ts(NOW), 1);
    let second = urgent_page(&p, &cfg(), 0, ts(NOW), 2);
    assert_eq!((first.flagged, first.pages), (PER_PAGE + 7, 2));
    assert_eq!((first.tickets.len(), second.tickets.len()), (PER_PAGE, 7));
    // Equal flags: the older ticket (more age points) ranks first.
    assert_eq!(first.tickets[0].ticket_id, format!("t{}", PER_PAGE + 6));
    assert_eq!(second.tickets.last().unwrap().ticket_id, "t0");
    // A page past the end shows the last one.
    assert_eq!(urgent_page(&p, &cfg(), 0, ts(NOW), 9).page, 2);
}

/// Issue 10.D2: every open ticket is looked at in every view, so flagged
/// tickets behind 2,100 newer unflagged ones are in the queue, and the
/// All-brands view holds exactly the brands' and the unattributed ones.
#[test]
fn every_open_ticket_is_looked_at_however_many_newer_ones_there_are() {
    let mut recs = vec![];
    for i in 0..2_100 {
        recs.push(ticket(
            &format!("n{i}"),
            Some("mavena"),
            "Hello",
            i,
            Channel::Email,
            &format!("n{i}@example.com"),
        ));
    }
    for i in 0..30 {
        recs.push(ticket(
            &format!("m{i}"),
            Some("mavena"),
            "I will dispute this charge",
            3_000 + i,
            Channel::Email,
            &format!("m{i}@example.com"),
        ));
    }
    for i in 0..20 {
        recs.push(ticket(
            &format!("u{i}"),
            None,
            "I will dispute this charge",
            4_000 + i,
            Channel::Email,
            &format!("u{i}@example.com"),
        ));
    }
    let p = projection(&recs);
    let mavena = urgent(&p, &cfg(), 0, ts(NOW));
    assert_eq!((mavena.scanned, mavena.flagged), (2_130, 30));
    let un = urgent(&p, &cfg(), UNATTRIBUTED, ts(NOW));
    assert_eq!((un.scanned, un.flagged), (20, 20));
    let all = urgent(&p, &cfg(), ALL_BRANDS, ts(NOW));
    assert_eq!((all.scanned, all.flagged), (2_150, 50));
    // Equal flags and capped age points: the oldest first.
    assert_eq!(all.tickets[0].ticket_id, "u19");
    assert_eq!(all.tickets.len(), 50);
}
