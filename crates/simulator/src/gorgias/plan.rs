//! Ticket plans and the state of a ticket at a moment.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::limit::CallLimit;
use super::{CHANNELS, DESKS};
use crate::rhythm::{log_normal, mix};
use crate::world::Shop;

/// Tickets created per day at scale 1.0.
const TICKETS_PER_DAY: f64 = 54.0;
/// Days of ticket history before the start clock.
const HISTORY_DAYS: i64 = 120;
/// Days of tickets planned after the start clock, revealed by `advance_to`.
const FUTURE_DAYS: i64 = 60;
/// Share of tickets nobody ever closes (the backlog).
const NEVER_CLOSED: f64 = 0.42;
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Author {
    Customer,
    Agent,
    /// An automation rule's reply (carries a `rule_id`).
    Rule,
    /// An internal note (not public).
    Note,
    /// An agent reply whose sending failed.
    Failed,
}

#[derive(Clone, Debug)]
pub(crate) struct PlannedMessage {
    pub id: u64,
    pub at: i64,
    pub author: Author,
    pub body: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub id: u64,
    pub email: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub(crate) struct PlannedSurvey {
    pub id: u64,
    pub sent_at: i64,
    pub scored_at: i64,
    /// `None`: never answered.
    pub score: Option<u8>,
    pub body: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Ticket {
    pub id: u64,
    /// Index into `DESKS`; `None` for the shared inbox.
    pub desk: Option<usize>,
    pub channel: usize,
    pub customer: Customer,
    pub subject: String,
    pub tags: Vec<&'static str>,
    pub priority: &'static str,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    /// (set at, snoozed until)
    pub snooze: Option<(i64, i64)>,
    pub spam: bool,
    pub trashed_at: Option<i64>,
    pub assignee: Option<usize>,
    pub messages: Vec<PlannedMessage>,
    pub survey: Option<PlannedSurvey>,
    /// Index into `DESKS` of the brand the ticket really is about, `None`
    /// for a stranger writing to the group inbox (nothing can tell).
    pub brand: Option<usize>,
}

/// What a ticket looks like at `now`.
pub(crate) struct TicketState {
    pub open: bool,
    pub closed_at: Option<i64>,
    pub snooze_until: Option<i64>,
    pub trashed_at: Option<i64>,
    pub updated_at: i64,
    pub last_received: Option<i64>,
    pub opened_at: Option<i64>,
}

impl Ticket {
    pub fn visible(&self, now: i64) -> bool {
        self.created_at <= now
    }

    pub fn messages_at(&self, now: i64) -> impl DoubleEndedIterator<Item = &PlannedMessage> {
        self.messages.iter().filter(move |m| m.at <= now)
    }

    pub fn state(&self, now: i64) -> TicketState {
        let closed_at = self.closed_at.filter(|c| *c <= now);
        let snooze = self
            .snooze
            .filter(|(set, _)| *set <= now && closed_at.is_none());
        let trashed_at = self.trashed_at.filter(|t| *t <= now);
        let mut updated_at = self.created_at;
        let mut last_received = None;
        let mut opened_at = None;
        for m in self.messages_at(now) {
            updated_at = updated_at.max(m.at);
            match m.author {
                Author::Customer => last_received = Some(m.at),
                Author::Agent | Author::Note if opened_at.is_none() => opened_at = Some(m.at),
                _ => {}
            }
        }
        for t in [closed_at, snooze.map(|s| s.0), trashed_at]
            .into_iter()
            .flatten()
        {
            updated_at = updated_at.max(t);
        }
        TicketState {
            open: closed_at.is_none(),
            closed_at,
            snooze_until: snooze.map(|s| s.1),
            trashed_at,
            updated_at,
            last_received,
            opened_at,
        }
    }
}

pub(crate) const AGENTS: [(&str, &str); 5] = [
    ("Maya Chen", "maya@acme-brands.example"),
    ("Luis Ortega", "luis@acme-brands.example"),
    ("Sara Novak", "sara@acme-brands.example"),
    ("Tom Becker", "tom@acme-brands.example"),
    ("Aisha Bello", "aisha@acme-brands.example"),
];

pub(crate) struct Helpdesk {
    pub user: String,
    pub api_key: String,
    pub tickets: Vec<Ticket>,
    /// Gorgias's call limit, independent of the shops' buckets.
    pub limit: CallLimit,
    pub requests: u64,
    /// The HTTP integration events are POSTed through, once set up.
    pub integration: super::hooks::Integration,
}

/// A customer of a shop (so the linked-order rule can find them) with the
/// name of one of their orders, or a stranger.
fn shop_customer(shop: &Shop, rng: &mut ChaCha8Rng) -> Option<(Customer, Option<String>)> {
    let orders = &shop.book.orders;
    if orders.is_empty() {
        return None;
    }
    for _ in 0..8 {
        let index = rng.gen_range(0..orders.len());
        let order = &orders[index];
        let Some(c) = shop.book.customers.get(order.customer as usize) else {
            continue;
        };
        let id = 5_000_000
            + (mix(shop.profile.id_salt * 1_000_003 + order.customer as u64) % 90_000_000);
        return Some((
            Customer {
                id,
                email: c.email(order.customer),
                name: format!("{} {}", c.first_name(), c.last_name()),
            },
            Some(format!("#{}", 1000 + index + 1)),
        ));
    }
    None
}

fn stranger(rng: &mut ChaCha8Rng, n: u64) -> Customer {
    let first =
        crate::customers::FIRST_NAMES[rng.gen_range(0..crate::customers::FIRST_NAMES.len())];
    Customer {
        id: 100_000_000 + n,
        email: format!("{}{}@mail.example", first.to_lowercase(), n),
        name: first.to_string(),
    }
}

const SIZE_SUBJECTS: [&str; 3] = [
    "Website defaults to size 5.5",
    "Ordered the wrong size - the site picked 5.5",
    "Why does the size always reset to 5.5?",
];
const SUBSCRIPTION_SUBJECTS: [&str; 3] = [
    "How do I pause my subscription?",
    "Cancel my subscription please",
    "Change my subscription delivery date",
];
const OTHER_SUBJECTS: [&str; 6] = [
    "Item arrived damaged",
    "Request a refund",
    "Question about ingredients",
    "Discount code not working",
    "Change my shipping address",
    "Product question",
];

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list[rng.gen_range(0..list.len())]
}

fn pick_channel(rng: &mut ChaCha8Rng) -> usize {
    let draw: f64 = rng.gen();
    let mut acc = 0.0;
    for (i, (_, share)) in CHANNELS.iter().enumerate() {
        acc += share;
        if draw < acc {
            return i;
        }
    }
    0
}

impl Helpdesk {
    /// Plans the helpdesk for the shops, from the seed; `now` is the start clock.
    pub fn generate(seed: u64, now: i64, scale: f64, shops: &[Shop]) -> Helpdesk {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ 0x6f72_6769_6173));
        let start = now - HISTORY_DAYS * DAY;
        let end = now + FUTURE_DAYS * DAY;
        let count = ((HISTORY_DAYS + FUTURE_DAYS) as f64 * TICKETS_PER_DAY * scale.max(0.0)).round()
            as usize;
        let mut times: Vec<i64> = (0..count).map(|_| rng.gen_range(start..end)).collect();
        times.sort_unstable();
        let mut tickets = Vec::with_capacity(count);
        let mut next_message = 300_000_000u64;
        for (n, created_at) in times.into_iter().enumerate() {
            let id = 20_000_000 + n as u64;
            let ticket = plan_ticket(&mut rng, shops, id, created_at, &mut next_message);
            tickets.push(ticket);
        }
        let key_bits: u64 = rng.gen();
        Helpdesk {
            user: super::USER.to_string(),
            api_key: format!("gorgias_{key_bits:016x}"),
            tickets,
            limit: CallLimit::default(),
            requests: 0,
            integration: Default::default(),
        }
    }
}

fn plan_ticket(
    rng: &mut ChaCha8Rng,
    shops: &[Shop],
    id: u64,
    created_at: i64,
    next_message: &mut u64,
) -> Ticket {
    let draw: f64 = rng.gen();
    let mut acc = 0.0;
    let mut desk = None;
    for (i, d) in DESKS.iter().enumerate() {
        acc += d.share;
        if draw < acc {
            desk = Some(i);
            break;
        }
    }
    let channel = pick_channel(rng);
    let brand_desk = match desk {
        Some(d) => d,
        None => rng.gen_range(0..DESKS.len()),
    };
    let shop_index = DESKS[brand_desk].shop;
    let linked = shops
        .get(shop_index)
        .and_then(|shop| shop_customer(shop, rng));
    // Two in five of the group inbox write from an address no shop knows.
    let (customer, order_name, brand) = match linked {
        Some((c, o)) if desk.is_some() || rng.gen_bool(0.6) => (c, o, Some(brand_desk)),
        _ => (stranger(rng, id), None, desk),
    };
    let mut tags: Vec<&'static str> = Vec::new();
    let subject;
    let mut body;
    let top = desk.and_then(|d| DESKS[d].top_issue);
    let wismo = order_name.is_some() && rng.gen_bool(0.22);
    let top_hit = top.filter(|(_, share)| rng.gen_bool(*share));
    if let Some((tag, _)) = top_hit {
        tags.push(tag);
        subject = if tag == "size-5.5" {
            pick(rng, &SIZE_SUBJECTS).to_string()
        } else {
            pick(rng, &SUBSCRIPTION_SUBJECTS).to_string()
        };
        body = format!("Hi, {}. Can you help?", subject.to_lowercase());
    } else if wismo {
        let name = order_name.clone().unwrap_or_default();
        subject = format!("Where is my order {name}?");
        body =
            format!("Hello, I ordered a while ago and order {name} has not arrived. Where is it?");
        if desk.is_some_and(|d| DESKS[d].brand_id != "pawfully") {
            tags.push("wismo");
        }
    } else {
        subject = pick(rng, &OTHER_SUBJECTS).to_string();
        body = format!("{subject}. Thanks in advance.");
    }
    if desk.is_some_and(|d| DESKS[d].brand_id == "pawfully") {
        tags.clear();
    }
    if desk.is_none() && !wismo {
        body.push_str(" (sent to the group inbox)");
    }
    let spam = rng.gen_bool(0.02);
    let trashed_at =
        (spam || rng.gen_bool(0.01)).then(|| created_at + rng.gen_range(HOUR..3 * DAY));
    let priority = if rng.gen_bool(0.1) { "high" } else { "normal" };

    let mut messages = Vec::new();
    let mut message = |at: i64, author: Author, body: String| {
        *next_message += 1;
        PlannedMessage {
            id: *next_message,
            at,
            author,
            body,
        }
    };
    messages.push(message(created_at, Author::Customer, body));
    if rng.gen_bool(0.35) {
        messages.push(message(
            created_at + rng.gen_range(2..30),
            Author::Rule,
            "Thanks for reaching out! We usually answer within 48 hours.".into(),
        ));
    }
    if rng.gen_bool(0.2) {
        messages.push(message(
            created_at + rng.gen_range(HOUR..2 * DAY),
            Author::Note,
            "Checked with the warehouse, waiting on their answer.".into(),
        ));
    }
    let answered = !spam && rng.gen_bool(0.8);
    let mut last = created_at;
    if answered {
        let first_reply = created_at + (log_normal(rng, 30.0, 0.9) * HOUR as f64) as i64;
        if rng.gen_bool(0.05) {
            messages.push(message(
                (first_reply - HOUR).max(created_at + 60),
                Author::Failed,
                "Sorry for the wait!".into(),
            ));
        }
        messages.push(message(
            first_reply,
            Author::Agent,
            "Sorry for the wait! Let me look into this.".into(),
        ));
        last = first_reply;
        if rng.gen_bool(0.4) {
            let follow = first_reply + rng.gen_range(2 * HOUR..4 * DAY);
            messages.push(message(
                follow,
                Author::Customer,
                "Any update on this?".into(),
            ));
            let reply = follow + (log_normal(rng, 24.0, 0.8) * HOUR as f64) as i64;
            messages.push(message(
                reply,
                Author::Agent,
                "Thanks for your patience, it is sorted.".into(),
            ));
            last = reply;
        }
    }
    messages.sort_by_key(|m| (m.at, m.id));
    let closed_at = (answered && !rng.gen_bool(NEVER_CLOSED))
        .then(|| last.max(created_at + (log_normal(rng, 16.0, 0.7) * DAY as f64) as i64));
    let snooze = (closed_at.is_none() && answered && rng.gen_bool(0.12)).then(|| {
        let set = last + HOUR;
        (set, set + rng.gen_range(DAY..10 * DAY))
    });
    let survey = closed_at
        .filter(|_| !spam && rng.gen_bool(0.7))
        .map(|closed| {
            let weights = [0.32, 0.2, 0.2, 0.14, 0.14];
            let draw: f64 = rng.gen();
            let mut acc = 0.0;
            let mut score = 5u8;
            for (i, w) in weights.iter().enumerate() {
                acc += w;
                if draw < acc {
                    score = i as u8 + 1;
                    break;
                }
            }
            let answered = rng.gen_bool(0.55);
            PlannedSurvey {
                id: 7_000_000 + id,
                sent_at: closed + HOUR,
                scored_at: closed + HOUR + rng.gen_range(HOUR..3 * DAY),
                score: answered.then_some(score),
                body: (answered && score <= 2).then(|| "Took far too long.".to_string()),
            }
        });
    Ticket {
        id,
        desk,
        channel,
        customer,
        subject,
        tags,
        priority,
        created_at,
        closed_at,
        snooze,
        spam,
        trashed_at,
        assignee: answered.then(|| rng.gen_range(0..AGENTS.len())),
        messages,
        survey,
        brand,
    }
}
