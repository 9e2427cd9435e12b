//! A deterministic generator of domain records at any scale (orders with
//! line items, fulfillments and refunds; tickets with messages; surveys),
//! shared by the tests and the benchmark. Records are built directly,
//! without JSON, so ten million orders take seconds.
#![allow(
    dead_code,
    reason = "each test crate and the benchmark that include this file use a different part of it"
)]

use jiff::tz::TimeZone;
use opsdeck_domain::support::Party;
use opsdeck_domain::*;
use opsdeck_store::AnyRecord;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

pub fn brand(id: &str, zone: &str, kind: BrandKind, launched: bool) -> Brand {
    Brand {
        id: BrandId::parse(id).unwrap(),
        name: id.to_string(),
        kind: kind.clone(),
        time_zone: TimeZone::get(zone).unwrap(),
        currency: Currency::USD,
        launched,
        thresholds: Thresholds::defaults_for(&kind),
    }
}

pub fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

const CARRIERS: [&str; 4] = ["UPS", "USPS", "FedEx", "DHL"];
const SUBJECTS: [&str; 8] = [
    "Where is my order",
    "Wrong size 5.5",
    "Cancel my subscription",
    "Refund please",
    "Package damaged",
    "Question about ingredients",
    "Hello",
    "Tracking not updating",
];

/// An order of `brand` created at `created` (unix seconds), variant `i`.
pub fn order(rng: &mut Rng, brand: &BrandId, i: u64, created: i64, now: i64) -> Order {
    let usd = Currency::USD;
    let lines: Vec<LineItem> = (0..1 + rng.below(3))
        .map(|l| LineItem {
            external_id: format!("{i}-{l}"),
            product_id: None,
            variant_id: None,
            sku: Some(format!("SKU-{}", rng.below(40))),
            title: "Item".into(),
            variant_title: None,
            quantity: 1 + rng.below(3) as i64,
            price: Money::new(1000 + 500 * rng.below(20) as i64, usd),
            fulfilled_quantity: None,
        })
        .collect();
    let total: i64 = lines.iter().map(|l| l.price.minor * l.quantity).sum();
    let roll = rng.below(100);
    let mut fulfillments = vec![];
    let mut status = OrderFulfillmentStatus::Unfulfilled;
    // As in a real store, orders older than 30 days have shipped, except a
    // few stuck ones (1 in 200); newer ones are open one time in four.
    let old = now - created > 30 * 86_400;
    if roll < 75 || (old && !i.is_multiple_of(200)) {
        let shipped = (created + 3600 * (2 + rng.below(70)) as i64).min(now);
        let delivered = rng.chance(60);
        let delivered_at = shipped + 3600 * (24 + rng.below(150)) as i64;
        let delivered = delivered && delivered_at < now;
        let tracked = rng.chance(90);
        let exception = !delivered && rng.chance(5);
        fulfillments.push(Fulfillment {
            external_id: format!("f{i}"),
            status: FulfillmentState::Success,
            shipment_status: Some(if delivered {
                ShipmentStatus::Delivered
            } else if exception {
                ShipmentStatus::Delayed
            } else {
                ShipmentStatus::InTransit
            }),
            tracking_company: Some(CARRIERS[rng.below(4) as usize].to_string()),
            tracking_numbers: if tracked {
                vec![format!("1Z{i}")]
            } else {
                vec![]
            },
            tracking_urls: vec![],
            created_at: ts(shipped),
            updated_at: ts(shipped),
            delivered_at: delivered.then(|| ts(delivered_at)),
            estimated_delivery_at: rng.chance(50).then(|| ts(shipped + 4 * 86_400)),
        });
        status = if roll < 65 || old {
            OrderFulfillmentStatus::Fulfilled
        } else {
            OrderFulfillmentStatus::Partial
        };
    }
    let refunds = if rng.chance(5) {
        vec![Refund {
            external_id: format!("r{i}"),
            created_at: ts((created + 86_400).min(now)),
            amount: lines[0].price,
            line_items: vec![RefundLineItem {
                line_item_id: lines[0].external_id.clone(),
                quantity: 1,
            }],
            note: None,
        }]
    } else {
        vec![]
    };
    Order {
        source: SourceId::parse("shop").unwrap(),
        external_id: i.to_string(),
        brand: brand.clone(),
        name: format!("#{}", 1000 + i),
        number: Some(1000 + i as i64),
        created_at: ts(created),
        updated_at: ts(created + 60),
        processed_at: Some(ts(created)),
        cancelled_at: rng.chance(8).then(|| ts(created + 120)),
        cancel_reason: None,
        closed_at: None,
        currency: usd,
        total_price: Money::new(total, usd),
        subtotal_price: Money::new(total, usd),
        total_discounts: Money::zero(usd),
        total_tax: Money::zero(usd),
        financial_status: FinancialStatus::Paid,
        fulfillment_status: status,
        tags: if rng.chance(20) {
            vec!["Subscription Recurring Order".into()]
        } else {
            vec![]
        },
        source_name: Some("web".into()),
        test: rng.chance(2),
        email: Some(format!("c{}@example.com", rng.below(1 + i / 3))),
        customer: None,
        line_items: lines,
        fulfillments,
        refunds,
    }
}

/// A ticket, its two messages and maybe a survey.
pub fn ticket(
    rng: &mut Rng,
    brand: &BrandId,
    i: u64,
    created: i64,
    now: i64,
    orders: u64,
) -> Vec<AnyRecord> {
    let src = SourceId::parse("helpdesk").unwrap();
    let subject = SUBJECTS[rng.below(SUBJECTS.len() as u64) as usize];
    let closed = rng.chance(60);
    let closed_at = (created + 3600 * (1 + rng.below(100)) as i64).min(now);
    let id = format!("t{i}");
    let t = Ticket {
        source: src.clone(),
        external_id: id.clone(),
        brand: Some(brand.clone()),
        status: if closed {
            TicketStatus::Closed
        } else {
            TicketStatus::Open
        },
        channel: if rng.chance(5) {
            Channel::Twitter
        } else {
            Channel::Email
        },
        subject: Some(if rng.chance(30) {
            format!("{subject} #{}", 1000 + rng.below(orders.max(1)))
        } else {
            subject.to_string()
        }),
        excerpt: None,
        priority: None,
        spam: false,
        tags: if rng.chance(40) {
            vec![["wismo", "returns", "vip", "product"][rng.below(4) as usize].to_string()]
        } else {
            vec![]
        },
        customer: Some(Party {
            external_id: None,
            email: Some(format!("c{}@example.com", rng.below(1 + orders / 3))),
            name: None,
        }),
        assignee: None,
        created_at: ts(created),
        opened_at: None,
        updated_at: ts(created + 10),
        last_received_message_at: None,
        closed_at: closed.then(|| ts(closed_at)),
        snooze_until: (!closed && rng.chance(10)).then(|| ts(now + 86_400)),
        trashed_at: None,
    };
    let msg = |n: u32, agent: bool, at: i64| TicketMessage {
        source: src.clone(),
        external_id: format!("{id}-m{n}"),
        brand: Some(brand.clone()),
        ticket_id: id.clone(),
        from_agent: agent,
        public: true,
        rule_id: None,
        channel: None,
        subject: None,
        body_text: Some(if agent {
            "Thanks, looking into it".into()
        } else {
            subject.to_string()
        }),
        intents: vec![],
        created_at: ts(at),
        sent_at: None,
        failed_at: None,
        updated_at: ts(at),
    };
    let mut out = vec![
        AnyRecord::Ticket(t),
        AnyRecord::TicketMessage(msg(0, false, created)),
    ];
    if rng.chance(80) {
        out.push(AnyRecord::TicketMessage(msg(
            1,
            true,
            (created + 60 * (5 + rng.below(600)) as i64).min(now),
        )));
    }
    if closed && rng.chance(40) {
        let answered = rng.chance(80);
        out.push(AnyRecord::SatisfactionSurvey(SatisfactionSurvey {
            source: src.clone(),
            external_id: format!("s{i}"),
            brand: Some(brand.clone()),
            ticket_id: id.clone(),
            customer_id: None,
            score: answered.then(|| 1 + rng.below(5) as u8),
            body_text: None,
            sent_at: Some(ts(closed_at)),
            scored_at: answered.then(|| ts(closed_at + 3600)),
            updated_at: ts(closed_at + 3600),
        }));
    }
    out
}

/// `orders` orders and `tickets` tickets spread over `days` days before `now`.
pub fn world(
    seed: u64,
    brands: &[Brand],
    orders: u64,
    tickets: u64,
    days: i64,
    now: i64,
) -> Vec<AnyRecord> {
    let mut rng = Rng::new(seed);
    let live: Vec<&Brand> = brands.iter().filter(|b| b.launched).collect();
    let mut out = Vec::with_capacity((orders + tickets * 3) as usize);
    for i in 0..orders {
        let b = &live[rng.below(live.len() as u64) as usize].id;
        let created = now - rng.below((days * 86_400) as u64) as i64 - 1;
        out.push(AnyRecord::Order(order(&mut rng, b, i, created, now)));
    }
    for i in 0..tickets {
        let b = &live[rng.below(live.len() as u64) as usize].id;
        let created = now - rng.below((days * 86_400) as u64) as i64 - 1;
        out.extend(ticket(&mut rng, b, i, created, now, orders));
    }
    out
}
