//! Review queues (METRICS.md, "Queues with deadlines"): the items custom
//! platforms push that wait for a person — the pharmacy's prescriptions —
//! per brand and per queue ("kind"), each against its queue's SLA.
//!
//! The one home of the queue numbers: the `/queues/review` page and API,
//! the operations panel ([`super::operations`]), the dashboard's urgent
//! list and the "review SLA breached" alert all call [`review_queues`], so
//! they cannot disagree.
//!
//! - An item's clock is [`SlaClock`] from its submission with its queue's
//!   window ([`ReviewSlas`], `[review_queues.NAME] sla` in the
//!   configuration; the playbook's 1 h for `prescriptions`): at risk at
//!   75 % of the window, breached after it (`opsdeck_domain::sla`).
//! - A queue without a configured window has no deadline: its items show
//!   their age and are never at risk or breached, and the queue says it
//!   has no SLA (rather than one invented here).
//! - Items are listed breached first, then at risk, then on track, the
//!   most overdue (the soonest deadline) first within each; at most
//!   [`ITEMS_SHOWN`] per queue, the counts always whole.

use crate::projection::{BrandIx, Projection};
use jiff::SignedDuration;
use opsdeck_domain::sla::{human_duration, SlaClock, SlaState};
use opsdeck_domain::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// Items listed per queue (the counts are exact).
pub const ITEMS_SHOWN: usize = 100;

/// Each review queue's SLA window, by queue name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSlas(BTreeMap<String, SignedDuration>);

impl ReviewSlas {
    /// The playbook's queue: a prescription pending review over 1 h is
    /// urgent.
    pub fn playbook() -> ReviewSlas {
        ReviewSlas(BTreeMap::from([(
            "prescriptions".to_string(),
            SignedDuration::from_hours(1),
        )]))
    }

    /// The playbook's windows with `configured` ones added or replacing
    /// them.
    pub fn with(configured: impl IntoIterator<Item = (String, SignedDuration)>) -> ReviewSlas {
        let mut slas = ReviewSlas::playbook();
        slas.0.extend(configured);
        slas
    }

    /// The window of `queue`, if one is configured.
    pub fn of(&self, queue: &str) -> Option<SignedDuration> {
        self.0.get(queue).copied()
    }

    /// Every configured (queue, window).
    pub fn all(&self) -> impl Iterator<Item = (&str, SignedDuration)> {
        self.0.iter().map(|(q, d)| (q.as_str(), *d))
    }
}

impl Default for ReviewSlas {
    fn default() -> Self {
        ReviewSlas::playbook()
    }
}

/// One queue's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueCounts {
    /// The queue's name, e.g. `prescriptions`.
    pub queue: String,
    /// Its SLA window in seconds and in words; `None`: no SLA configured.
    pub sla_seconds: Option<i64>,
    pub sla: Option<String>,
    /// Items waiting (status open).
    pub pending: usize,
    pub oldest_submitted_at: Option<Timestamp>,
    /// How long the oldest has waited, in seconds and in words.
    pub oldest_age_seconds: Option<i64>,
    pub oldest_age: Option<String>,
    /// Items at risk (75 % of the window gone) but not breached.
    pub at_risk: usize,
    /// Items past their deadline.
    pub breached: usize,
}

/// One waiting item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewQueueItem {
    pub external_id: String,
    pub subject: Option<String>,
    pub order_id: Option<String>,
    /// The platform's OCR state as sent (`pending`, `low_confidence`, …).
    pub ocr_state: Option<String>,
    pub submitted_at: Timestamp,
    pub age_seconds: i64,
    pub age: String,
    /// Its deadline, time left (negative once breached) and state; all
    /// `None` in a queue without an SLA.
    pub deadline: Option<Timestamp>,
    pub time_left_seconds: Option<i64>,
    /// "12 min left" or "overdue by 1 h 05 min".
    pub time_left: Option<String>,
    pub state: Option<SlaState>,
}

/// One queue: its numbers and its items, most urgent first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewQueue {
    #[serde(flatten)]
    pub counts: QueueCounts,
    pub items: Vec<ReviewQueueItem>,
}

/// Every review queue of a brand that has an item waiting, those with
/// breaches first, then at risk, then by name.
pub fn review_queues(
    p: &Projection,
    slas: &ReviewSlas,
    b: BrandIx,
    now: Timestamp,
) -> Vec<ReviewQueue> {
    let mut by_queue: BTreeMap<&str, Vec<ReviewQueueItem>> = BTreeMap::new();
    for row in p.ops.open_review_rows(b) {
        let queue = p.syms.text(row.queue);
        let submitted_at = Timestamp::from_second(row.submitted).unwrap_or(Timestamp::UNIX_EPOCH);
        let clock = slas.of(queue).map(|w| SlaClock::new(submitted_at, w));
        let text = |s: u32| (s != 0).then(|| p.syms.text(s).to_string());
        let age = now.duration_since(submitted_at).max(SignedDuration::ZERO);
        let left = clock.map(|c| c.time_left_at(now));
        by_queue.entry(queue).or_default().push(ReviewQueueItem {
            external_id: p.syms.text(row.external_id).to_string(),
            subject: text(row.subject),
            order_id: text(row.order),
            ocr_state: text(row.ocr_state),
            submitted_at,
            age_seconds: age.as_secs(),
            age: human_duration(age),
            deadline: clock.map(|c| c.deadline),
            time_left_seconds: left.map(|l| l.as_secs()),
            time_left: left.map(|l| {
                if l.is_negative() {
                    format!("overdue by {}", human_duration(l))
                } else {
                    format!("{} left", human_duration(l))
                }
            }),
            state: clock.map(|c| c.state_at(now)),
        });
    }
    let mut queues: Vec<ReviewQueue> = by_queue
        .into_iter()
        .map(|(queue, mut items)| {
            let count = |s: SlaState| items.iter().filter(|i| i.state == Some(s)).count();
            let (at_risk, breached) = (count(SlaState::AtRisk), count(SlaState::Breached));
            let oldest = items.iter().map(|i| i.submitted_at).min();
            let oldest_age = oldest.map(|o| now.duration_since(o).max(SignedDuration::ZERO));
            let window = slas.of(queue);
            let pending = items.len();
            items.sort_by_key(|i| (std::cmp::Reverse(i.state), i.deadline, i.submitted_at));
            items.truncate(ITEMS_SHOWN);
            ReviewQueue {
                counts: QueueCounts {
                    queue: queue.to_string(),
                    sla_seconds: window.map(|w| w.as_secs()),
                    sla: window.map(human_duration),
                    pending,
                    oldest_submitted_at: oldest,
                    oldest_age_seconds: oldest_age.map(|a| a.as_secs()),
                    oldest_age: oldest_age.map(human_duration),
                    at_risk,
                    breached,
                },
                items,
            }
        })
        .collect();
    queues.sort_by(|a, b| {
        (b.counts.breached, b.counts.at_risk)
            .cmp(&(a.counts.breached, a.counts.at_risk))
            .then_with(|| a.counts.queue.cmp(&b.counts.queue))
    });
    queues
}

/// The breached items of every queue of a brand, as (queue, item), the
/// most overdue first: what the dashboard's urgent list adds.
pub fn breached_items(queues: &[ReviewQueue]) -> Vec<(&str, &ReviewQueueItem)> {
    let mut out: Vec<(&str, &ReviewQueueItem)> = queues
        .iter()
        .flat_map(|q| {
            q.items
                .iter()
                .filter(|i| i.state == Some(SlaState::Breached))
                .map(move |i| (q.counts.queue.as_str(), i))
        })
        .collect();
    out.sort_by_key(|(_, i)| i.time_left_seconds);
    out
}
