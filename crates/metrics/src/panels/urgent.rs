//! The urgent queue: open tickets with at least one flag, ranked by a
//! documented score so the top of the queue is what to answer first, each
//! with what an agent needs to act (subject, customer, brand, age, the
//! flags with their evidence, a link that opens it in the helpdesk). The
//! whole queue stays behind the top, a page at a time.
//!
//! Score (docs/metrics.md, "Urgent queue"): the flags' weights
//! ([`UrgentFlag::weight`]: chargeback risk 40, shipping emergency 30, VIP
//! 25, social channel 15), plus 1 per 6 hours open (at most 20), plus the linked
//! order's value: 10 points per VIP threshold of value (at most 20). Ties:
//! the older ticket first.
//!
//! Money: a VIP order's value is kept as [`Money`] in [`UrgentTicket::order_value`]
//! and never written into a reason; it is not serialized, so only a page
//! that holds the viewer's revenue permission renders it.
//!
//! Customer risk flags ([`crate::customers::risk`]: high value, frequent
//! returns, dispute history) are shown beside each ticket's own flags as
//! [`UrgentTicket::customer_risk`]. They are another rule (the customer's
//! whole history, not this ticket's words and order) with other names,
//! and they do not enter the score.
//!
//! Negative sentiment is **unavailable**: no well-kept lexicon-based
//! sentiment crate exists for Rust (the one candidate, `vader_sentiment`
//! 0.1.1, is a single unmaintained release), so the flag is reported as
//! unavailable rather than guessed.

use super::support::{ALL_BRANDS, UNATTRIBUTED};
use super::{major_to_minor, PanelConfig};
use crate::customers::{customer_risk, CustomerOf, RiskFlag};
use crate::projection::links::UrgentFacts;
use crate::projection::support::TicketRow;
use crate::projection::text::chargeback_word;
use crate::projection::{BrandIx, Projection};
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;

/// Why a ticket is urgent. Each flag's facts (its serialized id, its
/// weight in the score, its label on a page) live here and nowhere else;
/// the API and the pages spell it as [`UrgentFlag::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UrgentFlag {
    /// Chargeback or dispute words in the customer's messages.
    ChargebackRisk,
    /// The linked order is still open and the customer wrote 5 days or
    /// more after ordering.
    ShippingEmergency,
    /// A high-value linked order, or a customer with many orders.
    Vip,
    /// The ticket came in on a public social channel.
    SocialChannel,
    /// Not computed by this build (see [`SENTIMENT_UNAVAILABLE`]).
    NegativeSentiment,
}

impl UrgentFlag {
    /// Every flag, in the order of their weights.
    pub const ALL: [UrgentFlag; 5] = [
        UrgentFlag::ChargebackRisk,
        UrgentFlag::ShippingEmergency,
        UrgentFlag::Vip,
        UrgentFlag::SocialChannel,
        UrgentFlag::NegativeSentiment,
    ];

    /// The flag's facts: id (as serialized), weight in the score, label.
    const fn facts(self) -> (&'static str, u32, &'static str) {
        match self {
            UrgentFlag::ChargebackRisk => ("chargeback_risk", 40, "chargeback risk"),
            UrgentFlag::ShippingEmergency => ("shipping_emergency", 30, "shipping emergency"),
            UrgentFlag::Vip => ("vip", 25, "vip"),
            UrgentFlag::SocialChannel => ("social_channel", 15, "social channel"),
            UrgentFlag::NegativeSentiment => ("negative_sentiment", 0, "negative sentiment"),
        }
    }

    /// The id the API serializes (`chargeback_risk`).
    pub const fn as_str(self) -> &'static str {
        self.facts().0
    }

    /// What the flag adds to the score.
    pub const fn weight(self) -> u32 {
        self.facts().1
    }

    /// The flag in words, for pages (`chargeback risk`).
    pub const fn label(self) -> &'static str {
        self.facts().2
    }
}

impl Serialize for UrgentFlag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for UrgentFlag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the serialized id, so code and tests that hold the id as
/// text (an alert rule's condition) need no parse step.
impl PartialEq<&str> for UrgentFlag {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One raised flag and its evidence, in words an agent can check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub flag: UrgentFlag,
    /// The evidence ("chargeback words: 'dispute'", "order #1234"), never
    /// with money in it.
    pub reason: String,
    /// What the flag adds to the score.
    pub weight: u32,
}

/// How long a ticket has been open, as a badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeBadge {
    /// Under 4 hours.
    New,
    /// Under 24 hours.
    Today,
    /// 1 to 3 days.
    Days,
    /// Over 3 days.
    Old,
}

impl AgeBadge {
    pub fn of(age_hours: i64) -> AgeBadge {
        match age_hours {
            h if h < 4 => AgeBadge::New,
            h if h < 24 => AgeBadge::Today,
            h if h <= 72 => AgeBadge::Days,
            _ => AgeBadge::Old,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UrgentTicket {
    /// The helpdesk's id of the ticket.
    pub ticket_id: String,
    pub subject: String,
    /// The customer's name, else e-mail ("" when the helpdesk has neither).
    pub customer: String,
    /// The brand id, or `unattributed`.
    pub brand: String,
    pub ticket_created_at: Timestamp,
    pub age_hours: i64,
    pub age_badge: AgeBadge,
    pub linked_order: Option<String>,
    /// The linked order's total: rendered only where the viewer may see
    /// revenue, so never serialized.
    #[serde(skip)]
    pub order_value: Option<Money>,
    pub flags: Vec<Flag>,
    /// The customer's risk flags with their evidence (amounts only where
    /// shown): the ticket's e-mail, else its linked order's customer.
    pub customer_risk: Vec<RiskFlag>,
    /// The rank score (see the module doc).
    pub score: u32,
    /// Opens the ticket in the helpdesk (`None` without one configured).
    pub helpdesk_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Urgent {
    /// Flagged among every open ticket of the view.
    pub flagged: usize,
    /// Open tickets looked at: every open ticket of the view.
    pub scanned: usize,
    /// Which page of the ranked queue `tickets` is (from 1), its size and
    /// how many pages there are.
    pub page: usize,
    pub per_page: usize,
    pub pages: usize,
    /// The page's tickets, highest score first.
    pub tickets: Vec<UrgentTicket>,
    /// Flags this build cannot compute, with why.
    pub unavailable: Vec<Flag>,
}

/// The order a ticket is about: the number quoted in its text, else the
/// customer's most recent order placed before the ticket (else their latest).
pub fn linked_order(p: &Projection, b: BrandIx, t: &TicketRow) -> Option<u64> {
    crate::projection::links::linked_order(&p.orders, b, t)
}

/// Tickets per page of the queue (the dashboard shows the first page).
pub const PER_PAGE: usize = 50;

/// Points per 6 hours open, and their cap.
const AGE_POINTS_CAP: u32 = 20;
/// Points per VIP threshold of linked order value, and their cap.
const VALUE_POINTS_PER_THRESHOLD: i64 = 10;
const VALUE_POINTS_CAP: u32 = 20;

pub const SENTIMENT_UNAVAILABLE: &str =
    "no well-kept lexicon-based sentiment library exists for Rust; this flag is not computed";

/// The VIP order value of brand index `b`, in its currency's minor units
/// (the unattributed tickets link no order, so theirs never matters).
fn vip_value(p: &Projection, cfg: &PanelConfig, b: BrandIx) -> i64 {
    p.ctx.brands.get(usize::from(b)).map_or(i64::MAX, |brand| {
        major_to_minor(cfg.vip_order_value, brand.currency)
    })
}

/// The score of an open ticket from its kept facts (see the module doc).
pub fn score(facts: &UrgentFacts, age_hours: i64, vip_value: i64, vip_count: usize) -> u32 {
    let vip_order = facts.order_total.is_some_and(|t| t > vip_value);
    let vip_count = facts
        .customer_orders
        .is_some_and(|n| usize::try_from(n).unwrap_or(usize::MAX) >= vip_count);
    let mut s = 0;
    if facts.chargeback {
        s += UrgentFlag::ChargebackRisk.weight();
    }
    if facts.emergency {
        s += UrgentFlag::ShippingEmergency.weight();
    }
    if vip_order || vip_count {
        s += UrgentFlag::Vip.weight();
    }
    if facts.social {
        s += UrgentFlag::SocialChannel.weight();
    }
    s += u32::try_from(age_hours.max(0) / 6)
        .unwrap_or(u32::MAX)
        .min(AGE_POINTS_CAP);
    if let Some(total) = facts.order_total.filter(|_| vip_value > 0) {
        let points = total.max(0).saturating_mul(VALUE_POINTS_PER_THRESHOLD) / vip_value;
        s += u32::try_from(points)
            .unwrap_or(u32::MAX)
            .min(VALUE_POINTS_CAP);
    }
    s
}

/// The first page of the queue of brand index `b` (a brand,
/// [`UNATTRIBUTED`] or [`ALL_BRANDS`]).
pub fn urgent(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Urgent {
    urgent_page(p, cfg, b, now, 1)
}

/// Page `page` (from 1) of the ranked queue of brand index `b`.
pub fn urgent_page(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    now: Timestamp,
    page: usize,
) -> Urgent {
    let now_s = now.as_second();
    let Ranked {
        scanned,
        mut ranked,
    } = ranked(p, cfg, b, now_s);
    let flagged = ranked.len();
    let pages = flagged.div_ceil(PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    // Only the tickets up to the page's end are put in order: a selection
    // (linear) then a sort of that prefix, not a sort of the whole queue.
    let end = (page * PER_PAGE).min(flagged);
    if end < flagged {
        ranked.select_nth_unstable_by(end, by_rank);
    }
    ranked[..end].sort_unstable_by(by_rank);
    let tickets = rows(
        p,
        cfg,
        ranked.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE),
        now_s,
    );
    Urgent {
        flagged,
        scanned,
        page,
        per_page: PER_PAGE,
        pages,
        tickets,
        unavailable: vec![Flag {
            flag: UrgentFlag::NegativeSentiment,
            reason: SENTIMENT_UNAVAILABLE.into(),
            weight: UrgentFlag::NegativeSentiment.weight(),
        }],
    }
}

/// Every flagged open ticket of brand index `b`, highest score first: the
/// ranking the pages of [`urgent_page`] are cut from, over every open
/// ticket (for the alerts, which must not stop at the first page).
pub fn flagged_tickets(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    now: Timestamp,
) -> Vec<UrgentTicket> {
    let now_s = now.as_second();
    let mut ranked = ranked(p, cfg, b, now_s).ranked;
    ranked.sort_unstable_by(by_rank);
    rows(p, cfg, ranked.iter(), now_s)
}

/// The queue's order: highest score first, then the older ticket, then the
/// ticket key (a total order, so a page is the same however it is cut).
fn by_rank(a: &(u32, i64, u64, BrandIx), b: &(u32, i64, u64, BrandIx)) -> std::cmp::Ordering {
    b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

/// The ranked queue: (score, created, ticket key, brand) of each flagged
/// ticket among the `scanned` open ones (every open ticket of the view),
/// in no order: the caller orders what it needs with [`by_rank`].
struct Ranked {
    scanned: usize,
    ranked: Vec<(u32, i64, u64, BrandIx)>,
}

/// The one flag rule and ranking, for every page and for the alerts.
fn ranked(p: &Projection, cfg: &PanelConfig, b: BrandIx, now_s: i64) -> Ranked {
    let views: Vec<BrandIx> = if b == ALL_BRANDS {
        (0..p.ctx.brands.len())
            .filter_map(|i| BrandIx::try_from(i).ok())
            .chain([UNATTRIBUTED])
            .collect()
    } else {
        vec![b]
    };
    // Every open ticket of the view(s) is looked at: the flag test and the
    // score are comparisons on its kept facts, and only the flagged ones
    // are kept and sorted (the oldest tickets are the ones past deadlines);
    // the evidence is written only for the rows asked for.
    let mut scanned = 0;
    let mut ranked: Vec<(u32, i64, u64, BrandIx)> = vec![];
    for v in views {
        let vip = vip_value(p, cfg, v);
        for ((b, created, key), f) in p
            .support
            .open
            .range((v, i64::MIN, 0)..=(v, i64::MAX, u64::MAX))
        {
            scanned += 1;
            if f.flagged(vip, cfg.vip_order_count) {
                let age = (now_s - created) / 3600;
                let s = score(f, age, vip, cfg.vip_order_count);
                ranked.push((s, *created, *key, *b));
            }
        }
    }
    Ranked { scanned, ranked }
}

/// The rows, with their flags' evidence, of some ranked tickets.
fn rows<'a>(
    p: &Projection,
    cfg: &PanelConfig,
    ranked: impl Iterator<Item = &'a (u32, i64, u64, BrandIx)>,
    now_s: i64,
) -> Vec<UrgentTicket> {
    ranked
        .filter_map(|(s, created, key, b)| {
            let t = p.support.tickets.get(key)?;
            Some(row(p, cfg, *b, t, *created, *s, now_s))
        })
        .collect()
}

/// One ticket of the page with its flags' evidence.
fn row(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    t: &TicketRow,
    created: i64,
    score: u32,
    now_s: i64,
) -> UrgentTicket {
    let vip_value = vip_value(p, cfg, b);
    let link = linked_order(p, b, t);
    let order = link.and_then(|k| p.orders.rows.get(&k));
    let vip_order = order.filter(|o| o.total > vip_value);
    let vip_count = if vip_order.is_none() && t.email != 0 {
        let n = p.orders.rows.of_customer(t.email).count();
        (n >= cfg.vip_order_count).then_some(n)
    } else {
        None
    };
    let words = t.words();
    let emergency = match (order, t.last_customer_message()) {
        (Some(o), Some(last)) if o.stage().is_open() && last - o.created >= 5 * 86_400 => {
            Some((o, last))
        }
        _ => None,
    };
    let mut flags = vec![];
    let mut flag = |flag: UrgentFlag, reason: String| {
        flags.push(Flag {
            flag,
            reason,
            weight: flag.weight(),
        })
    };
    if let Some(c) = chargeback_word(words.chargeback_word) {
        flag(
            UrgentFlag::ChargebackRisk,
            format!("chargeback words: '{c}'"),
        );
    }
    if let Some((o, last)) = emergency {
        flag(
            UrgentFlag::ShippingEmergency,
            format!(
                "order #{} unfulfilled; customer wrote {} days after ordering",
                o.number,
                (last - o.created) / 86_400
            ),
        );
    }
    if let Some(o) = vip_order {
        flag(UrgentFlag::Vip, format!("order #{}", o.number));
    } else if let Some(n) = vip_count {
        flag(UrgentFlag::Vip, format!("customer has {n} orders"));
    }
    if t.social {
        flag(UrgentFlag::SocialChannel, "public social channel".into());
    }
    let currency = p.ctx.brands.get(usize::from(b)).map(|x| x.currency);
    let customer = match (t.email, link) {
        (0, Some(order)) => Some(CustomerOf::OrderKey(order)),
        (0, None) => None,
        (email, _) => Some(CustomerOf::EmailKey(email)),
    };
    let risk = customer
        .and_then(|c| customer_risk(p, cfg, c))
        .map(|r| r.flags)
        .unwrap_or_default();
    let text = t.text.as_deref().cloned().unwrap_or_default();
    let age_hours = (now_s - created) / 3600;
    UrgentTicket {
        ticket_id: text.external_id.to_string(),
        subject: text.subject.to_string(),
        customer: text.customer.to_string(),
        brand: p
            .ctx
            .brands
            .get(usize::from(b))
            .map_or_else(|| "unattributed".to_string(), |x| x.id.to_string()),
        ticket_created_at: Timestamp::from_second(created).unwrap_or(Timestamp::UNIX_EPOCH),
        age_hours,
        age_badge: AgeBadge::of(age_hours),
        linked_order: order.map(|o| format!("#{}", o.number)),
        order_value: order.zip(currency).map(|(o, c)| Money::new(o.total, c)),
        flags,
        customer_risk: risk,
        score,
        helpdesk_url: cfg
            .helpdesk_ticket_url
            .as_ref()
            .filter(|_| !text.external_id.is_empty())
            .map(|base| format!("{base}{}", text.external_id)),
    }
}

#[cfg(test)]
mod tests {
    use super::UrgentFlag;

    #[test]
    fn flags_serialize_as_their_id_and_read_as_their_words() {
        let ids: Vec<String> = UrgentFlag::ALL
            .iter()
            .map(|f| {
                serde_json::to_value(f)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            ids,
            [
                "chargeback_risk",
                "shipping_emergency",
                "vip",
                "social_channel",
                "negative_sentiment"
            ]
        );
        for f in UrgentFlag::ALL {
            assert_eq!(f.label(), f.as_str().replace('_', " "));
        }
        let weights: Vec<u32> = UrgentFlag::ALL.iter().map(|f| f.weight()).collect();
        assert_eq!(weights, [40, 30, 25, 15, 0]);
    }
}
