//! Urgent tickets: open tickets with at least one flag, newest first, each
//! flag with the reason it was raised.
//!
//! Negative sentiment is **unavailable**: no well-kept lexicon-based
//! sentiment crate exists for Rust (the one candidate, `vader_sentiment`
//! 0.1.1, is a single unmaintained release), so the flag is reported as
//! unavailable rather than guessed.

use super::{major_to_minor, PanelConfig};
use crate::money_json::MoneyText;
use crate::projection::support::TicketRow;
use crate::projection::text::CHARGEBACK;
use crate::projection::{BrandIx, Projection, Stage};
use opsdeck_domain::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub flag: &'static str,
    /// Names the order's amount where there is one: the viewer's role
    /// decides which wording shows (see [`MoneyText`]).
    pub reason: MoneyText,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UrgentTicket {
    pub ticket_created_at: Timestamp,
    pub age_hours: i64,
    pub linked_order: Option<String>,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Urgent {
    /// Flagged among the newest [`SCAN_LIMIT`] open tickets.
    pub flagged: usize,
    /// Open tickets looked at (the newest, at most [`SCAN_LIMIT`]).
    pub scanned: usize,
    pub tickets: Vec<UrgentTicket>,
    /// Flags this build cannot compute, with why.
    pub unavailable: Vec<Flag>,
}

/// The order a ticket is about: the number quoted in its text, else the
/// customer's most recent order placed before the ticket (else their latest).
pub fn linked_order(p: &Projection, b: BrandIx, t: &TicketRow) -> Option<u64> {
    crate::projection::links::linked_order(&p.orders, b, t)
}

/// The queue looks at the newest this-many open tickets of a brand, so a
/// backlog of old open tickets cannot slow the dashboard down.
pub const SCAN_LIMIT: usize = 2_000;

pub const SENTIMENT_UNAVAILABLE: &str =
    "no well-kept lexicon-based sentiment library exists for Rust; this flag is not computed";

pub fn urgent(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Urgent {
    let brand = p.brand(b);
    let now_s = now.as_second();
    let vip_value = major_to_minor(cfg.vip_order_value, brand.currency);
    let mut out = Urgent {
        flagged: 0,
        scanned: 0,
        tickets: vec![],
        unavailable: vec![Flag {
            flag: "negative_sentiment",
            reason: MoneyText::plain(SENTIMENT_UNAVAILABLE),
        }],
    };
    // The flags' facts are kept per open ticket (`projection::links`), so
    // deciding them is a comparison; the reasons are written only for the
    // tickets shown.
    for ((_, created, key), facts) in p
        .support
        .open
        .range((b, i64::MIN, 0)..=(b, i64::MAX, u64::MAX))
        .rev()
        .take(SCAN_LIMIT)
    {
        out.scanned += 1;
        if !facts.flagged(vip_value, cfg.vip_order_count) {
            continue;
        }
        out.flagged += 1;
        if out.tickets.len() >= 50 {
            continue;
        }
        let Some(t) = p.support.tickets.get(key) else {
            continue;
        };
        let link = linked_order(p, b, t);
        let order = link.and_then(|k| p.orders.rows.get(&k));
        let vip_order = order.filter(|o| o.total > vip_value);
        let vip_count = if vip_order.is_none() && t.email != 0 {
            let n = p.orders.rows.of_customer(t.email).count();
            (n >= cfg.vip_order_count).then_some(n)
        } else {
            None
        };
        let chargeback = t.words().words & CHARGEBACK != 0;
        let emergency = match (order, t.last_customer_message()) {
            (Some(o), Some(last))
                if o.stage().is_open()
                    && o.stage() != Stage::Delivered
                    && last - o.created >= 5 * 86_400 =>
            {
                Some((o, last))
            }
            _ => None,
        };
        let mut flags = vec![];
        if let Some(o) = vip_order {
            flags.push(Flag {
                flag: "vip",
                reason: MoneyText::new(
                    format!(
                        "linked order #{} is worth {} (over {})",
                        o.number,
                        opsdeck_domain::Money::new(o.total, brand.currency).display(),
                        cfg.vip_order_value
                    ),
                    format!("linked order #{} is over the VIP order value", o.number),
                ),
            });
        } else if let Some(n) = vip_count {
            flags.push(Flag {
                flag: "vip",
                reason: MoneyText::plain(format!("customer has {n} orders")),
            });
        }
        if chargeback {
            flags.push(Flag {
                flag: "chargeback_risk",
                reason: MoneyText::plain("mentions refund, dispute, bank or chargeback"),
            });
        }
        if let Some((o, last)) = emergency {
            flags.push(Flag {
                flag: "shipping_emergency",
                reason: MoneyText::plain(format!(
                    "order #{} unfulfilled; customer wrote {} days after ordering",
                    o.number,
                    (last - o.created) / 86_400
                )),
            });
        }
        if t.social {
            flags.push(Flag {
                flag: "social_channel",
                reason: MoneyText::plain("public social channel"),
            });
        }
        out.tickets.push(UrgentTicket {
            ticket_created_at: Timestamp::from_second(*created).unwrap_or(Timestamp::UNIX_EPOCH),
            age_hours: (now_s - created) / 3600,
            linked_order: order.map(|o| format!("#{}", o.number)),
            flags,
        });
    }
    out
}
