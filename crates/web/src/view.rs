//! The words, arrows and local times the dashboard shows. Pure functions of
//! already computed metrics, kept apart from the handler so the wording is
//! tested without HTTP.
//!
//! # Money
//! An amount in a view model is a [`Guarded`] value, never a plain string: it renders only where the request's
//! role may see revenue (the guard sets that for the whole request, see
//! `opsdeck_metrics::money_json`), and as `null` / nothing elsewhere.
//! Alerts are stored with their amounts; [`alert_why`], [`figure_as_shown`]
//! and [`alert_body_as_shown`] (for event bodies) give the stored texts and
//! figures to each role as it may read them.

use crate::cards::BrandCards;
use jiff::tz::TimeZone;
use opsdeck_alerts::evaluate::Alert;
use opsdeck_alerts::Figure;
use opsdeck_domain::{Money, Timestamp};
use opsdeck_metrics::money_json::{shown, Guarded};
use opsdeck_metrics::{Freshness, PeriodVolume};
use serde::Serialize;
use serde_json::Value;

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
    /// Absent for roles that may not see revenue.
    pub revenue: Guarded<RevenueFigures>,
    /// What the card could not sum, e.g. "1 order left out: currency EUR,
    /// brand currency USD"; empty when it summed everything.
    pub left_out: Vec<String>,
}

/// The money half of a period card.
#[derive(Debug, Serialize)]
pub(crate) struct RevenueFigures {
    pub gross_revenue: String,
    /// The revenue sum is beyond the largest amount: `gross_revenue` is
    /// that bound, shown as "≥" with a note, never a wrapped figure.
    pub revenue_beyond_range: bool,
    pub revenue_delta: Delta,
    pub aov: String,
    pub aov_delta: Delta,
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
            revenue: Guarded(RevenueFigures {
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
            }),
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

/// Shown instead of a stored alert text that names an amount when the
/// viewer may not see money and the text has no wording without it (alerts
/// stored before amounts were kept apart).
pub(crate) const AMOUNT_HIDDEN: &str =
    "Details name an amount of money, which your role does not show.";

/// A stored alert text as the viewer may read it: unchanged where money is
/// shown; elsewhere its wording without money, or, when it has none and
/// names an amount (alerts stored before amounts were kept apart),
/// [`AMOUNT_HIDDEN`].
pub(crate) fn text_as_shown(text: &str, without_money: Option<&str>) -> String {
    if shown() {
        return text.to_string();
    }
    match without_money {
        Some(plain) => plain.to_string(),
        None if mentions_amount(text) => AMOUNT_HIDDEN.to_string(),
        None => text.to_string(),
    }
}

/// Whether a figure is an amount: marked so, or (stored before figures
/// were marked) its text names one.
fn is_amount(marked_money: bool, text: &str) -> bool {
    marked_money || mentions_amount(text)
}

/// A figure as the pages and the API show it: its number and its text,
/// without the stored `money` mark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ShownFigure {
    pub value: f64,
    pub text: String,
}

/// An alert's figure as the viewer may read it: left out where it is an
/// amount and money is not shown.
pub(crate) fn figure_as_shown(figure: Option<&Figure>) -> Option<ShownFigure> {
    let f = figure?;
    if is_amount(f.money, &f.text) && !shown() {
        return None;
    }
    Some(ShownFigure {
        value: f.value,
        text: f.text.clone(),
    })
}

/// An alert's reason (`why`) as the viewer may read it.
pub(crate) fn alert_why(alert: &Alert) -> String {
    text_as_shown(&alert.why, alert.why_without_money.as_deref())
}

/// A stored event body (an episode's history: a state change's `note`)
/// as the viewer may read it, by the rules of [`text_as_shown`] and
/// [`figure_as_shown`]: each `why` or `note` in its wording for the
/// viewer, each figure that is an amount left out where money is not
/// shown, the `*_without_money` and `money` marks dropped.
pub(crate) fn alert_body_as_shown(body: &Value) -> Value {
    let mut body = body.clone();
    let Some(fields) = body.as_object_mut() else {
        return body;
    };
    for key in ["why", "note"] {
        let plain = fields.remove(&format!("{key}_without_money"));
        let Some(text) = fields.get(key).and_then(Value::as_str) else {
            continue;
        };
        let text = text_as_shown(text, plain.as_ref().and_then(Value::as_str));
        fields.insert(key.to_string(), Value::String(text));
    }
    for key in ["value", "baseline", "threshold"] {
        let Some(figure) = fields.get_mut(key) else {
            continue;
        };
        let hidden = is_amount(
            figure.get("money").and_then(Value::as_bool) == Some(true),
            figure.get("text").and_then(Value::as_str).unwrap_or(""),
        ) && !shown();
        if let Some(f) = figure.as_object_mut() {
            f.remove("money");
        }
        if hidden {
            *figure = Value::Null;
        }
    }
    body
}

/// Whether `text` holds an amount as [`Money::display`] writes one: a
/// currency symbol before a digit ("$412.00", "-€3"), or a number followed
/// by a three-letter code ("1,500 KWD").
pub(crate) fn mentions_amount(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, c)| {
        let next_is_digit = |at: usize| chars.get(at).is_some_and(char::is_ascii_digit);
        match c {
            '$' | '€' | '£' | '¥' => next_is_digit(i + 1),
            c if c.is_ascii_digit() => {
                let code = chars.get(i + 2..i + 5).unwrap_or(&[]);
                chars.get(i + 1) == Some(&' ')
                    && code.len() == 3
                    && code.iter().all(char::is_ascii_uppercase)
                    && !chars.get(i + 5).is_some_and(|c| c.is_alphanumeric())
            }
            _ => false,
        }
    })
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

    fn card() -> PeriodCard {
        use opsdeck_domain::Currency;
        let usd = |c| Money::new(c, Currency::USD);
        PeriodCard {
            label: "Today",
            orders: count(2),
            orders_delta: delta(Some(1.0), "yesterday", "1"),
            revenue: Guarded(RevenueFigures {
                gross_revenue: usd(41_234).display(),
                revenue_beyond_range: false,
                revenue_delta: delta(Some(4.15), "yesterday", &usd(8_000).display()),
                aov: money_or_dash(Some(usd(20_617))),
                aov_delta: delta(Some(1.58), "yesterday", &usd(8_000).display()),
            }),
            left_out: vec![],
        }
    }

    #[test]
    fn a_period_cards_revenue_renders_only_where_money_is_shown() {
        use opsdeck_metrics::money_json::with_shown;
        let card = card();
        let hidden = serde_json::to_string(&card).unwrap();
        assert!(!hidden.contains("412.34"), "{hidden}");
        assert!(!hidden.contains("80.00"), "{hidden}");
        assert!(hidden.contains(r#""revenue":null"#), "{hidden}");
        let shown = with_shown(true, || serde_json::to_string(&card)).unwrap();
        assert!(shown.contains(r#""gross_revenue":"$412.34""#), "{shown}");
        assert!(shown.contains("yesterday: $80.00"), "{shown}");
    }

    #[test]
    fn alert_texts_lose_their_amounts_where_money_is_not_shown() {
        use opsdeck_metrics::money_json::with_shown;
        use serde_json::json;
        let body = json!({
            "why": "Order #1234 ($412.34) unfulfilled for 30 h",
            "why_without_money": "Order #1234 unfulfilled for 30 h",
            "value": {"value": 41234.0, "text": "$412.34", "money": true},
            "threshold": {"value": 24.0, "text": "24 h"},
        });
        assert_eq!(
            alert_body_as_shown(&body),
            json!({
                "why": "Order #1234 unfulfilled for 30 h",
                "value": null,
                "threshold": {"value": 24.0, "text": "24 h"},
            })
        );
        assert_eq!(
            with_shown(true, || alert_body_as_shown(&body)),
            json!({
                "why": "Order #1234 ($412.34) unfulfilled for 30 h",
                "value": {"value": 41234.0, "text": "$412.34"},
                "threshold": {"value": 24.0, "text": "24 h"},
            })
        );
        // Stored before amounts were kept apart: the text goes, not the amount.
        let old = json!({"why": "Revenue is 1,500 KWD", "value": {"value": 1.0, "text": "¥1,500"}});
        assert_eq!(
            alert_body_as_shown(&old),
            json!({"why": AMOUNT_HIDDEN, "value": null})
        );
        let plain = json!({"note": "condition cleared", "why": "3 units left of MAV-30"});
        assert_eq!(alert_body_as_shown(&plain), plain);
    }

    #[test]
    fn amounts_are_recognised_as_money_displays_them() {
        for text in [
            "$412.34",
            "is -€3.00 now",
            "£1",
            "¥1,500",
            "1,500.000 KWD.",
            "12 CHF",
        ] {
            assert!(mentions_amount(text), "{text}");
        }
        for text in [
            "3 units",
            "MAV-30 has 2 left",
            "12 SKUs",
            "$ sign",
            "24 h",
            "5 USDC",
        ] {
            assert!(!mentions_amount(text), "{text}");
        }
    }
}
