//! The `query:` argument of list fields, Shopify's search syntax, for the
//! terms a sync sends: `updated_at:>'2026-01-01T00:00:00Z'` (also `>=`,
//! `<`, `<=`, and `created_at`), several terms joined by spaces or `AND`;
//! and for orders `return_status:<status>` (`no_return`, or any other
//! status: the order has a return), negated by a leading `-`. Other terms
//! are ignored, as Shopify ignores terms it cannot apply.

/// The time bounds a search asks for, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Search {
    pub updated: Bounds,
    pub created: Bounds,
    /// `Some(true)`: only orders with a return; `Some(false)`: only
    /// orders without one.
    pub has_return: Option<bool>,
}

/// `(min, max)`, each inclusive when set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl Bounds {
    pub fn contains(&self, at: i64) -> bool {
        self.min.is_none_or(|m| at >= m) && self.max.is_none_or(|m| at <= m)
    }
}

impl Search {
    pub fn matches(&self, created_at: i64, updated_at: i64) -> bool {
        self.created.contains(created_at) && self.updated.contains(updated_at)
    }
}

/// A timestamp as search terms write it: RFC 3339, or a bare date (UTC midnight).
fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().as_second());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_second())
}

/// Splits on spaces outside quotes.
fn terms(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

pub(crate) fn parse(query: Option<&str>) -> Search {
    let mut search = Search::default();
    for term in terms(query.unwrap_or_default()) {
        let Some((name, condition)) = term.split_once(':') else {
            continue;
        };
        let (negated, field) = match name.strip_prefix('-') {
            Some(field) => (true, field),
            None => (false, name),
        };
        if field == "return_status" {
            let wants_return = condition != "no_return";
            search.has_return = Some(wants_return != negated);
            continue;
        }
        let bounds = match name {
            "updated_at" => &mut search.updated,
            "created_at" => &mut search.created,
            _ => continue,
        };
        let (op, value) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| condition.strip_prefix(op).map(|v| (*op, v)))
            .unwrap_or(("=", condition));
        let Some(at) = parse_time(value) else {
            continue;
        };
        match op {
            ">" => bounds.min = Some(at + 1),
            ">=" => bounds.min = Some(at),
            "<" => bounds.max = Some(at - 1),
            "<=" => bounds.max = Some(at),
            _ => {
                bounds.min = Some(at);
                bounds.max = Some(at);
            }
        }
    }
    search
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_time_terms_a_sync_sends() {
        let s = parse(Some(
            "updated_at:>'2026-01-01T00:00:00Z' AND created_at:<=2026-02-01",
        ));
        assert_eq!(s.updated.min, Some(1_767_225_600 + 1));
        assert_eq!(s.created.max, Some(1_769_904_000));
        assert!(s.matches(1_769_904_000, 1_767_225_601));
        assert!(!s.matches(1_769_904_000, 1_767_225_600));
        assert_eq!(parse(Some("status:open")), Search::default());
        assert_eq!(
            parse(Some(
                "updated_at:>'2026-01-01T00:00:00Z' AND -return_status:no_return"
            ))
            .has_return,
            Some(true)
        );
        assert_eq!(
            parse(Some("return_status:no_return")).has_return,
            Some(false)
        );
        assert_eq!(
            parse(Some("return_status:return_requested")).has_return,
            Some(true)
        );
        assert_eq!(
            parse(Some("updated_at:>=\"2026-01-01T05:00:00+05:00\""))
                .updated
                .min,
            Some(1_767_225_600)
        );
    }
}
