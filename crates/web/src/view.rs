//! The words, arrows and local times the dashboard shows. Pure functions of
//! already computed metrics, kept apart from the handler so the wording is
//! tested without HTTP.

use crate::cards::BrandCards;
use jiff::tz::TimeZone;
use opsdeck_domain::{Money, Timestamp};
use opsdeck_metrics::{Freshness, PeriodVolume};
use serde::Serialize;

/// Shown where a value does not exist (no AOV, no prior to compare with):
/// a dash, never a misleading 0.
pub(crate) const NO_VALUE: &str = "—";

/// Everything the dashboard template needs, already formatted.
#[derive(Debug, Serialize)]
pub(crate) struct DashboardPage {
    pub brands: Vec<BrandPanel>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BrandPanel {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub time_zone: String,
    /// The brand's local time now, so "today" is unambiguous on screen.
    pub local_now: String,
    pub launched: bool,
    pub freshness: FreshnessLine,
    /// Empty for a brand that has not launched.
    pub periods: Vec<PeriodCard>,
}

#[derive(Debug, Serialize)]
pub(crate) struct PeriodCard {
    pub label: &'static str,
    pub orders: String,
    pub orders_delta: Delta,
    pub gross_revenue: String,
    /// The revenue sum is beyond the largest amount: `gross_revenue` is
    /// that bound, shown as "≥" with a note, never a wrapped figure.
    pub revenue_beyond_range: bool,
    pub revenue_delta: Delta,
    pub aov: String,
    pub aov_delta: Delta,
    /// What the card could not sum, e.g. "1 order left out: currency EUR,
    /// brand currency USD"; empty when it summed everything.
    pub left_out: Vec<String>,
}

/// A change against the prior period, e.g. "↑ 12 % vs yesterday".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Delta {
    pub text: String,
    /// "up", "down", "flat" or "none"; the stylesheet colours by it.
    pub direction: &'static str,
    /// What it is compared with, e.g. "yesterday: $80.00", shown on hover
    /// so a surprising percentage can be checked at a glance.
    pub prior: String,
}

/// The freshness line under a brand's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct FreshnessLine {
    pub text: String,
    /// "synced", "never" or "failing"; the stylesheet colours by it.
    pub state: &'static str,
}

impl DashboardPage {
    pub(crate) fn new(panels: &[BrandCards<'_>], now: Timestamp) -> Self {
        DashboardPage {
            brands: panels.iter().map(|p| BrandPanel::new(p, now)).collect(),
        }
    }
}

impl BrandPanel {
    fn new(panel: &BrandCards<'_>, now: Timestamp) -> Self {
        let brand = panel.brand;
        BrandPanel {
            id: brand.id.to_string(),
            name: brand.name.clone(),
            kind: brand.kind.to_string(),
            time_zone: brand.time_zone_name().to_string(),
            local_now: local_time(now, &brand.time_zone, now),
            launched: panel.volume.is_launched(),
            freshness: freshness_line(&panel.freshness, now, &brand.time_zone),
            periods: panel.volume.periods().iter().map(PeriodCard::new).collect(),
        }
    }
}

impl PeriodCard {
    fn new(card: &PeriodVolume) -> Self {
        let prior = card.period.prior_label();
        PeriodCard {
            label: card.period.label(),
            orders: count(card.orders),
            orders_delta: delta(card.orders_delta, prior, &count(card.prior_orders)),
            gross_revenue: if card.revenue_beyond_range {
                format!("≥ {}", card.gross_revenue.display())
            } else {
                card.gross_revenue.display()
            },
            revenue_beyond_range: card.revenue_beyond_range,
            revenue_delta: delta(
                card.revenue_delta,
                prior,
                &card.prior_gross_revenue.display(),
            ),
            aov: money_or_dash(card.aov),
            aov_delta: delta(card.aov_delta, prior, &money_or_dash(card.prior_aov)),
            left_out: card.left_out.iter().map(|l| l.to_string()).collect(),
        }
    }
}

/// "↑ 12 % vs yesterday", "↓ 3 % vs last week", "→ 0 % vs last month", or a
/// dash when there is no prior to compare with; `prior_value` is the prior
/// period's figure as shown.
pub(crate) fn delta(ratio: Option<f64>, prior_label: &str, prior_value: &str) -> Delta {
    let prior = format!("{prior_label}: {prior_value}");
    let Some(ratio) = ratio else {
        return Delta {
            text: NO_VALUE.to_string(),
            direction: "none",
            prior,
        };
    };
    let percent = (ratio * 100.0).round();
    let (arrow, direction) = if percent > 0.0 {
        ("↑", "up")
    } else if percent < 0.0 {
        ("↓", "down")
    } else {
        ("→", "flat")
    };
    Delta {
        text: format!("{arrow} {} % vs {prior_label}", percent.abs()),
        direction,
        prior,
    }
}

/// A count with thousands separators, e.g. "1,204".
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    // The first group takes what is left over, so the rest are threes.
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut grouped = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        grouped.push(',');
        grouped.extend(group.iter().map(|&b| char::from(b)));
    }
    grouped
}

fn money_or_dash(m: Option<Money>) -> String {
    m.map_or_else(|| NO_VALUE.to_string(), |m| m.display())
}

/// How long ago, coarsely: "just now", "2 min ago", "3 h ago", "5 d ago".
pub(crate) fn age(then: Timestamp, now: Timestamp) -> String {
    let seconds = now.duration_since(then).as_secs();
    match seconds {
        s if s < 60 => "just now".to_string(),
        s if s < 3_600 => format!("{} min ago", s / 60),
        s if s < 86_400 => format!("{} h ago", s / 3_600),
        s => format!("{} d ago", s / 86_400),
    }
}

/// `t` on the brand's wall clock: "14:03 EDT" when it is the same local day
/// as `now`, "Jun 9 14:03 EDT" otherwise.
pub(crate) fn local_time(t: Timestamp, tz: &TimeZone, now: Timestamp) -> String {
    let local = t.to_zoned(tz.clone());
    let same_day = local.date() == now.to_zoned(tz.clone()).date();
    let format = if same_day {
        "%H:%M %Z"
    } else {
        "%b %-d %H:%M %Z"
    };
    local.strftime(format).to_string()
}

pub(crate) fn freshness_line(f: &Freshness, now: Timestamp, tz: &TimeZone) -> FreshnessLine {
    match f {
        Freshness::NeverSynced => FreshnessLine {
            text: "never synced".to_string(),
            state: "never",
        },
        Freshness::Synced { at } => FreshnessLine {
            text: format!("synced {} ({})", age(*at, now), local_time(*at, tz, now)),
            state: "synced",
        },
        Freshness::Failing {
            error, failed_at, ..
        } => FreshnessLine {
            text: match failed_at {
                Some(at) => format!("last sync failed: {error} ({})", local_time(*at, tz, now)),
                None => format!("last sync failed: {error}"),
            },
            state: "failing",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    #[test]
    fn deltas_read_as_arrows_and_whole_percents() {
        assert_eq!(
            delta(Some(0.123), "yesterday", "$1.00").text,
            "↑ 12 % vs yesterday"
        );
        assert_eq!(
            delta(Some(-0.034), "last week", "1").text,
            "↓ 3 % vs last week"
        );
        assert_eq!(delta(Some(0.001), "last month", "1").direction, "flat");
        assert_eq!(
            delta(Some(2.4667), "last week", "1").text,
            "↑ 247 % vs last week"
        );
        assert_eq!(
            delta(None, "yesterday", "0"),
            Delta {
                text: "—".into(),
                direction: "none",
                prior: "yesterday: 0".into(),
            }
        );
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_204), "1,204");
        assert_eq!(count(1_000_000), "1,000,000");
    }

    #[test]
    fn ages_are_coarse() {
        let now = ts("2026-06-10T18:05:00Z");
        assert_eq!(age(ts("2026-06-10T18:04:30Z"), now), "just now");
        assert_eq!(age(ts("2026-06-10T18:03:00Z"), now), "2 min ago");
        assert_eq!(age(ts("2026-06-10T15:00:00Z"), now), "3 h ago");
        assert_eq!(age(ts("2026-06-07T18:00:00Z"), now), "3 d ago");
        // A clock a little behind the sync: not "-1 min ago".
        assert_eq!(age(ts("2026-06-10T18:06:00Z"), now), "just now");
    }

    #[test]
    fn times_are_on_the_brands_wall_clock() {
        let now = ts("2026-06-10T18:05:00Z");
        assert_eq!(
            local_time(ts("2026-06-10T18:03:00Z"), &ny(), now),
            "14:03 EDT"
        );
        assert_eq!(
            local_time(ts("2026-06-09T13:00:00Z"), &ny(), now),
            "Jun 9 09:00 EDT"
        );
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(local_time(now, &tokyo, now), "03:05 JST");
    }

    #[test]
    fn freshness_lines() {
        let now = ts("2026-06-10T18:05:00Z");
        let synced = Freshness::Synced {
            at: ts("2026-06-10T18:03:00Z"),
        };
        assert_eq!(
            freshness_line(&synced, now, &ny()).text,
            "synced 2 min ago (14:03 EDT)"
        );
        assert_eq!(
            freshness_line(&Freshness::NeverSynced, now, &ny()).text,
            "never synced"
        );
        let failing = Freshness::Failing {
            error: "HTTP 401 from Shopify".into(),
            failed_at: Some(ts("2026-06-10T18:04:00Z")),
            last_success_at: None,
        };
        let line = freshness_line(&failing, now, &ny());
        assert_eq!(
            line.text,
            "last sync failed: HTTP 401 from Shopify (14:04 EDT)"
        );
        assert_eq!(line.state, "failing");
    }
}
