//! Helpdesk records in the projection: a compact row per ticket (with a
//! summary of each of its messages) and per survey, and the rollups they feed.
//!
//! Messages may arrive before their ticket; the ticket's row then exists
//! with only its messages until the ticket itself lands. A ticket's
//! contribution (created, resolved, first response, tags, clusters) is
//! recomputed from its row whenever the ticket or one of its messages
//! changes: −old, +new, like orders.

use super::keys::{email_key, record_key, KeyMap, Symbols};
use super::links::{TicketIndex, UrgentFacts, WismoDay};
use super::orders::OrderState;
use super::series::{bump_count, update, Counter, Durations};
use super::text::{classify, Classified};
use super::{local_day, BrandIx, Context};
use opsdeck_domain::support::{first_response_secs, MessageTiming};
use opsdeck_domain::{SatisfactionSurvey, Ticket, TicketMessage, TicketStatus};
use std::collections::BTreeMap;

/// The brand index of tickets (and surveys) no attribution rule claimed,
/// or claimed for a brand not configured: counted as "unattributed", in the
/// account's zone.
pub const NO_BRAND: BrandIx = BrandIx::MAX;
/// The same: the name the panels use.
pub const UNATTRIBUTED: BrandIx = NO_BRAND;
/// The account-wide support view: every ticket and survey, whichever brand
/// (or none) it belongs to, in the account's zone, so its totals equal the
/// helpdesk's own. Only the day rollups and the open/pending counts are kept
/// under it; the urgent queue and where-is-my-order stay per brand.
pub const ALL_BRANDS: BrandIx = BrandIx::MAX - 1;

/// What the projection keeps of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSummary {
    pub key: u64,
    pub at: i64,
    pub from_agent: bool,
    pub human_reply: bool,
    /// Text words matched (chargeback words, shipping words).
    pub words: Classified,
}

/// What the projection keeps of one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketRow {
    /// False while only messages of it have been seen.
    pub known: bool,
    pub brand: BrandIx,
    pub open: bool,
    pub hidden: bool,
    pub social: bool,
    pub created: i64,
    pub closed: Option<i64>,
    pub snooze: Option<i64>,
    pub email: u64,
    pub tags: Box<[u32]>,
    /// Subject (and excerpt) classification: cluster, detail, words.
    pub subject: Classified,
    pub messages: Vec<MessageSummary>,
    /// What an agent reads in the urgent queue, kept while the ticket is
    /// open (a closed one needs none: 8 bytes instead of ~100).
    pub text: Option<Box<TicketText>>,
}

/// An open ticket's words for the urgent queue: the helpdesk's ticket id
/// (for the link that opens it), the subject and the customer (name, else
/// e-mail).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketText {
    pub external_id: Box<str>,
    pub subject: Box<str>,
    pub customer: Box<str>,
}

impl TicketRow {
    /// First response time, seconds, by the one definition
    /// ([`opsdeck_domain::support::first_response_secs`]).
    pub fn first_response(&self) -> Option<i64> {
        first_response_secs(self.messages.iter().map(|m| MessageTiming {
            at: m.at,
            from_customer: !m.from_agent,
            human_reply: m.human_reply,
        }))
    }

    /// Public replies a person on the team sent (the replies first
    /// response time counts: no internal note, no automation rule).
    pub fn agent_replies(&self) -> usize {
        self.messages.iter().filter(|m| m.human_reply).count()
    }

    /// Resolved at first contact: closed after exactly one agent reply
    /// (the one home of first-contact resolution, METRICS.md "Support").
    pub fn resolved_at_first_contact(&self) -> bool {
        self.resolution().is_some() && self.agent_replies() == 1
    }

    /// Closed − created for a closed ticket (a reopened one is open again
    /// and has none).
    pub fn resolution(&self) -> Option<i64> {
        if self.open {
            return None;
        }
        self.closed
            .filter(|c| *c >= self.created)
            .map(|c| c - self.created)
    }

    /// Words matched in the subject or any message.
    pub fn words(&self) -> Classified {
        let mut w = self.subject;
        for m in &self.messages {
            w.words |= m.words.words;
            if w.order_number == 0 {
                w.order_number = m.words.order_number;
            }
            if w.chargeback_word == 0 {
                w.chargeback_word = m.words.chargeback_word;
            }
            if w.cluster == 0 && !m.from_agent {
                w.cluster = m.words.cluster;
                w.detail = m.words.detail;
            }
        }
        w
    }

    pub fn last_customer_message(&self) -> Option<i64> {
        self.messages
            .iter()
            .filter(|m| !m.from_agent)
            .map(|m| m.at)
            .max()
    }
}

/// Per (brand, local day) ticket figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketDay {
    pub created: i64,
    pub resolved: i64,
    pub inquiries: i64,
    /// Of `resolved`, those closed after exactly one agent reply
    /// ([`TicketRow::resolved_at_first_contact`]).
    pub first_contact: i64,
}

impl Counter for TicketDay {
    fn add(&mut self, o: &Self, sign: i64) {
        self.created += o.created * sign;
        self.resolved += o.resolved * sign;
        self.inquiries += o.inquiries * sign;
        self.first_contact += o.first_contact * sign;
    }
}

/// Survey score counts 1–5 per (brand, local day scored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scores(pub [i64; 5]);

impl Counter for Scores {
    fn add(&mut self, o: &Self, sign: i64) {
        for (a, b) in self.0.iter_mut().zip(o.0) {
            *a += b * sign;
        }
    }
}

/// What links an inquiry to an order: the order number quoted in it (0 for
/// none) and the customer's e-mail key (0 for none); the order it is linked
/// to now, and what where-is-my-order counts of it (see `links`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inquiry {
    pub created: i64,
    pub order_number: u32,
    pub email: u64,
    pub link: Option<u64>,
    /// Local day of the previous inquiry linked to the same order.
    pub prev_day: Option<i32>,
    /// Local hour of creation (0–23).
    pub hour: u8,
    /// Index in `text::INQUIRY_TYPES`.
    pub kind: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SurveyRow {
    pub brand: BrandIx,
    pub score: u8,
    pub scored: i64,
    /// The surveyed ticket's key, so satisfaction can be read against the
    /// ticket's first response and resolution times.
    pub ticket: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupportState {
    pub tickets: KeyMap<u64, TicketRow>,
    /// Message key → its ticket's key.
    pub message_ticket: KeyMap<u64, u64>,
    pub surveys: KeyMap<u64, SurveyRow>,
    pub days: BTreeMap<(BrandIx, i32), TicketDay>,
    /// Open tickets by brand and creation (newest last), with what their
    /// urgent flags depend on, for the urgent queue.
    pub open: BTreeMap<(BrandIx, i64, u64), UrgentFacts>,
    /// Open tickets' snooze end per brand (`i64::MIN` = not snoozed), counted.
    pub snoozes: BTreeMap<(BrandIx, i64), i64>,
    /// First response seconds per (brand, local day created).
    pub first_response: BTreeMap<(BrandIx, i32), Durations>,
    /// Resolution seconds per (brand, local day closed).
    pub resolution: BTreeMap<(BrandIx, i32), Durations>,
    /// Tickets per (brand, local day created, tag).
    pub tags: BTreeMap<(BrandIx, i32, u32), i64>,
    /// Untagged tickets per (brand, local day created, cluster).
    pub clusters: BTreeMap<(BrandIx, i32, u8), i64>,
    /// Untagged tickets per (brand, day, cluster, detail phrase symbol).
    pub details: BTreeMap<(BrandIx, i32, u8, u32), i64>,
    /// Order-status inquiries by (brand, local day created, ticket key),
    /// with what links them to an order, so where-is-my-order can skip the
    /// lookback inquiries that cannot be about the orders in its window.
    pub inquiries: BTreeMap<(BrandIx, i32, u64), Inquiry>,
    pub scores: BTreeMap<(BrandIx, i32), Scores>,
    /// Answered surveys by (brand, local day scored, survey key), under the
    /// brand and [`ALL_BRANDS`]: what satisfaction by response time reads
    /// for a window without walking every survey.
    pub scored_surveys: std::collections::BTreeSet<(BrandIx, i32, u64)>,
    /// Open tickets and inquiries by the order number they quote, sorted
    /// keys, to re-link them when an order with that number changes.
    pub ticket_numbers: TicketIndex<(BrandIx, u32)>,
    /// The same by customer e-mail key (any brand).
    pub ticket_emails: TicketIndex<u64>,
    /// Order key → its linked inquiries as sorted (created, ticket key, local day).
    pub chains: KeyMap<u64, Vec<(i64, u64, i32)>>,
    /// Where-is-my-order figures per (brand, local day created).
    pub wismo_days: BTreeMap<(BrandIx, i32), WismoDay>,
}

impl SupportState {
    pub fn apply_ticket(
        &mut self,
        t: &Ticket,
        ctx: &Context,
        syms: &mut Symbols,
        orders: &OrderState,
    ) {
        let key = record_key(t.source.as_str(), &t.external_id);
        let mut row = self.take(key, ctx, orders);
        row.known = true;
        row.brand = t
            .brand
            .as_ref()
            .and_then(|b| ctx.brand_ix(b))
            .unwrap_or(NO_BRAND);
        row.open = t.status != TicketStatus::Closed;
        row.text = row.open.then(|| {
            let customer = t.customer.as_ref().and_then(|c| {
                c.name
                    .as_deref()
                    .filter(|n| !n.trim().is_empty())
                    .or(c.email.as_deref())
            });
            Box::new(TicketText {
                external_id: t.external_id.as_str().into(),
                subject: t.subject.as_deref().unwrap_or("").trim().into(),
                customer: customer.unwrap_or("").trim().into(),
            })
        });
        row.hidden = t.is_hidden();
        row.social = t.channel.is_social();
        row.created = t.created_at.as_second();
        row.closed = t.closed_at.map(|c| c.as_second());
        row.snooze = t.snooze_until.map(|c| c.as_second());
        row.email = email_key(t.customer.as_ref().and_then(|c| c.email.as_deref()));
        let mut tags: Vec<u32> = t
            .tags
            .iter()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .map(|s| syms.intern(&s))
            .collect();
        tags.sort_unstable();
        tags.dedup();
        row.tags = tags.into();
        let text = format!(
            "{} {}",
            t.subject.as_deref().unwrap_or(""),
            t.excerpt.as_deref().unwrap_or("")
        );
        row.subject = classify(&text, syms);
        self.put(key, row, ctx, orders);
    }

    pub fn apply_message(
        &mut self,
        m: &TicketMessage,
        ctx: &Context,
        syms: &mut Symbols,
        orders: &OrderState,
    ) {
        let key = record_key(m.source.as_str(), &m.external_id);
        let ticket = record_key(m.source.as_str(), &m.ticket_id);
        // A message never moves between tickets, but be safe if it does.
        if let Some(old) = self.message_ticket.insert(key, ticket) {
            if old != ticket {
                let mut row = self.take(old, ctx, orders);
                row.messages.retain(|x| x.key != key);
                self.put(old, row, ctx, orders);
            }
        }
        let text = format!(
            "{} {}",
            m.subject.as_deref().unwrap_or(""),
            m.body_text.as_deref().unwrap_or("")
        );
        let timing = m.timing();
        let summary = MessageSummary {
            key,
            at: timing.at,
            from_agent: m.from_agent,
            human_reply: timing.human_reply,
            words: classify(&text, syms),
        };
        let mut row = self.take(ticket, ctx, orders);
        row.messages.retain(|x| x.key != key);
        let at = row
            .messages
            .partition_point(|x| (x.at, x.key) < (summary.at, summary.key));
        row.messages.insert(at, summary);
        self.put(ticket, row, ctx, orders);
    }

    pub fn apply_survey(&mut self, s: &SatisfactionSurvey, ctx: &Context) {
        let key = record_key(s.source.as_str(), &s.external_id);
        if let Some(old) = self.surveys.remove(&key) {
            self.account_survey(key, &old, ctx, -1);
        }
        let brand = s
            .brand
            .as_ref()
            .and_then(|b| ctx.brand_ix(b))
            .unwrap_or(NO_BRAND);
        // Unanswered surveys count nowhere; unattributed ones count as such.
        if let (Some(score), Some(at)) = (s.score, s.scored_at) {
            if (1..=5).contains(&score) {
                let row = SurveyRow {
                    brand,
                    score,
                    scored: at.as_second(),
                    ticket: record_key(s.source.as_str(), &s.ticket_id),
                };
                self.account_survey(key, &row, ctx, 1);
                self.surveys.insert(key, row);
            }
        }
    }

    fn account_survey(&mut self, key: u64, row: &SurveyRow, ctx: &Context, sign: i64) {
        let mut s = Scores::default();
        s.0[usize::from(row.score - 1)] = 1;
        for b in [row.brand, ALL_BRANDS] {
            let day = local_day(row.scored, ctx.zone(b));
            update(&mut self.scores, (b, day), &s, sign);
            if sign > 0 {
                self.scored_surveys.insert((b, day, key));
            } else {
                self.scored_surveys.remove(&(b, day, key));
            }
        }
    }

    /// Removes a ticket's row (and its contribution) to be changed.
    fn take(&mut self, key: u64, ctx: &Context, orders: &OrderState) -> TicketRow {
        match self.tickets.remove(&key) {
            Some(row) => {
                self.account(key, &row, ctx, orders, -1);
                row
            }
            None => TicketRow {
                brand: NO_BRAND,
                ..Default::default()
            },
        }
    }

    fn put(&mut self, key: u64, row: TicketRow, ctx: &Context, orders: &OrderState) {
        self.account(key, &row, ctx, orders, 1);
        self.tickets.insert(key, row);
    }

    /// An order-status inquiry: by its words or an inquiry tag.
    pub(super) fn is_inquiry(&self, row: &TicketRow, ctx: &Context) -> bool {
        row.words().is_inquiry() || row.tags.iter().any(|t| ctx.inquiry_tags.contains(t))
    }

    fn account(
        &mut self,
        key: u64,
        row: &TicketRow,
        ctx: &Context,
        orders: &OrderState,
        sign: i64,
    ) {
        if !row.known || row.hidden {
            return;
        }
        let inquiry = self.is_inquiry(row, ctx);
        self.account_linked(key, row, inquiry, ctx, orders, sign);
        // The ticket's brand (or unattributed), and the account-wide view.
        for b in [row.brand, ALL_BRANDS] {
            self.account_rollups(b, row, inquiry, ctx, sign);
        }
    }

    /// What a ticket adds to the day rollups and open counts of brand
    /// index `b` (a brand, [`UNATTRIBUTED`] or [`ALL_BRANDS`]).
    fn account_rollups(
        &mut self,
        b: BrandIx,
        row: &TicketRow,
        inquiry: bool,
        ctx: &Context,
        sign: i64,
    ) {
        let tz = ctx.zone(b);
        let day = local_day(row.created, tz);
        let words = row.words();
        let created = TicketDay {
            created: 1,
            inquiries: i64::from(inquiry),
            ..Default::default()
        };
        update(&mut self.days, (b, day), &created, sign);
        if let Some(r) = row.resolution() {
            let closed_day = local_day(row.created + r, tz);
            update(
                &mut self.days,
                (b, closed_day),
                &TicketDay {
                    resolved: 1,
                    first_contact: i64::from(row.resolved_at_first_contact()),
                    ..Default::default()
                },
                sign,
            );
            durations(&mut self.resolution, (b, closed_day), r, sign);
        }
        if let Some(f) = row.first_response() {
            durations(&mut self.first_response, (b, day), f, sign);
        }
        if row.open {
            bump_count(&mut self.snoozes, (b, row.snooze.unwrap_or(i64::MIN)), sign);
        }
        // Tags of the attribution rules name a brand, not an issue: a
        // ticket with only those counts as untagged (by its subject).
        let mut issues = row
            .tags
            .iter()
            .filter(|t| ctx.attribution_tags.binary_search(t).is_err())
            .peekable();
        if issues.peek().is_none() {
            bump_count(&mut self.clusters, (b, day, words.cluster), sign);
            if words.detail != 0 {
                bump_count(
                    &mut self.details,
                    (b, day, words.cluster, words.detail),
                    sign,
                );
            }
        } else {
            for tag in issues {
                bump_count(&mut self.tags, (b, day, *tag), sign);
            }
        }
    }
}

fn durations(map: &mut BTreeMap<(BrandIx, i32), Durations>, k: (BrandIx, i32), v: i64, sign: i64) {
    if sign > 0 {
        map.entry(k).or_default().insert(v);
    } else if let Some(d) = map.get_mut(&k) {
        d.remove(v);
        if d.values().is_empty() {
            map.remove(&k);
        }
    }
}
