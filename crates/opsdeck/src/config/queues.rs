//! `[queues.refunds]`: the refunds, returns and disputes queue's windows
//! (issue 15 point 1; METRICS.md "Queues with deadlines").
//!
//! ```toml
//! [queues.refunds]
//! return_hours = 24          # a return request is due 24 h after it was made
//! refund_hours = 24          # a refund request (or a ticket asking for one)
//! dispute_hours = 24         # a dispute: the sooner of this and its evidence date
//! ```
//!
//! Without the section: 24 hours each. Whether Shopify e-mails the
//! customer a return decided from the queue is per brand, in its shop's
//! section (`notify_customer_on_returns`, true unless set).

use super::walk::Section;
use jiff::SignedDuration;

/// The parsed `[queues.refunds]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundQueueConfig {
    pub return_window: SignedDuration,
    pub refund_window: SignedDuration,
    pub dispute_window: SignedDuration,
}

impl Default for RefundQueueConfig {
    fn default() -> Self {
        let d = opsdeck_metrics::panels::refunds_queue::DEFAULT_WINDOW;
        RefundQueueConfig {
            return_window: d,
            refund_window: d,
            dispute_window: d,
        }
    }
}

/// A window of whole hours from 1 to 720 (30 days).
fn hours(s: &Section<'_, '_>, key: &'static str, default: SignedDuration) -> SignedDuration {
    match s.opt_int(key) {
        None => default,
        Some(h) if (1..=720).contains(&h) => SignedDuration::from_hours(h),
        Some(h) => {
            s.problem(key, format!("must be whole hours from 1 to 720, not {h}"));
            default
        }
    }
}

pub(super) fn parse_queues(root: &Section<'_, '_>) -> RefundQueueConfig {
    let mut config = RefundQueueConfig::default();
    let Some(queues) = root.opt_table("queues") else {
        return config;
    };
    if let Some(s) = queues.opt_table("refunds") {
        config.return_window = hours(&s, "return_hours", config.return_window);
        config.refund_window = hours(&s, "refund_hours", config.refund_window);
        config.dispute_window = hours(&s, "dispute_hours", config.dispute_window);
        s.finish();
    }
    queues.finish();
    config
}
