//! The Shopify response headers that steer the client: `Link` (pagination)
//! and `X-Shopify-Shop-Api-Call-Limit` (the leaky bucket); `Retry-After` is
//! read by the shared retry loop ([`crate::http`]). Pure parsing, so each
//! rule is tested without a server.

use crate::http::header_str;
use opsdeck_domain::SourceId;
use reqwest::header::HeaderMap;
use std::sync::Mutex;
use std::time::Duration;

/// The header naming the API version that answered.
const API_VERSION_HEADER: &str = "X-Shopify-API-Version";
/// Sent when a request used something deprecated (a version, a field, an
/// endpoint): a URL or, for newer versions, the deprecated names.
const DEPRECATED_HEADER: &str = "X-Shopify-API-Deprecated-Reason";

/// What Shopify's answers said about the API version, as a sync run
/// records it for /sources ([`VersionNotes::report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionReport {
    /// The version asked for.
    pub requested: String,
    /// The version the latest answer came in, once one said.
    pub answered: Option<String>,
    /// The latest deprecation notice seen.
    pub deprecation: Option<String>,
}

/// What Shopify's answers say about the API version, kept for /sources and
/// logged when it changes: the version that answered (an expired pinned
/// version silently falls forward, so it may differ from the one asked
/// for, and it may fall forward while opsdeck runs) and the latest
/// deprecation notice (logged once per distinct text). One per client;
/// the REST and the GraphQL client share this rule.
#[derive(Debug)]
pub(crate) struct VersionNotes {
    requested: String,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    answered: Option<String>,
    deprecation: Option<String>,
}

impl VersionNotes {
    /// Notes for a client asking for `requested`.
    pub(crate) fn new(requested: &str) -> Self {
        VersionNotes {
            requested: requested.to_string(),
            seen: Mutex::default(),
        }
    }

    /// Notes an answer's headers. `api` names the API in the log
    /// ("API" for REST, "graphql").
    pub(crate) fn note(&self, headers: &HeaderMap, source: &SourceId, api: &str) {
        let answered = header_str(headers, API_VERSION_HEADER);
        let reason = header_str(headers, DEPRECATED_HEADER).map(str::trim);
        if answered.is_none() && reason.is_none() {
            return;
        }
        let requested = self.requested.as_str();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(answered) = answered.filter(|a| seen.answered.as_deref() != Some(*a)) {
            if answered == requested {
                tracing::info!(%source, api_version = answered, "shopify {api} version");
            } else {
                tracing::warn!(
                    %source,
                    requested,
                    answered,
                    "shopify answered {api} with another version than requested"
                );
            }
            seen.answered = Some(answered.to_string());
        }
        if let Some(reason) = reason.filter(|r| seen.deprecation.as_deref() != Some(*r)) {
            tracing::warn!(
                %source,
                api_version = requested,
                reason,
                "shopify reports a deprecated {api} call"
            );
            seen.deprecation = Some(reason.to_string());
        }
    }

    /// The version Shopify answered with, once an answer said.
    pub(crate) fn answered(&self) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .answered
            .clone()
    }

    /// The last deprecation notice seen.
    pub(crate) fn deprecation(&self) -> Option<String> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .deprecation
            .clone()
    }

    /// All of it at once, for the sync run to record.
    pub(crate) fn report(&self) -> VersionReport {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        VersionReport {
            requested: self.requested.clone(),
            answered: seen.answered.clone(),
            deprecation: seen.deprecation.clone(),
        }
    }
}

/// The URL of the `rel="next"` entry of a `Link` header, verbatim.
///
/// The header looks like `<https://…page_info=abc&limit=50>; rel="previous",
/// <https://…>; rel="next"`. URLs are taken between `<` and `>` rather than
/// split on commas, because a URL may itself contain commas (`fields=id,title`).
pub(crate) fn next_link(header: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let url = &after[..close];
        let params_and_more = &after[close + 1..];
        // The parameters of this entry run until the next entry's '<'.
        let params_end = params_and_more.find('<').unwrap_or(params_and_more.len());
        let params = &params_and_more[..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            let Some(value) = p.strip_prefix("rel=") else {
                return false;
            };
            value
                .trim_matches('"')
                .split_whitespace()
                .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(url.to_string());
        }
        rest = params_and_more;
    }
    None
}

/// The leaky bucket's fill as Shopify reports it after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallLimit {
    pub used: u32,
    pub size: u32,
}

impl CallLimit {
    /// Parses `"32/40"`.
    pub fn parse(header: &str) -> Option<CallLimit> {
        let (used, size) = header.trim().split_once('/')?;
        let limit = CallLimit {
            used: used.trim().parse().ok()?,
            size: size.trim().parse().ok()?,
        };
        (limit.size > 0).then_some(limit)
    }

    /// Requests leaked per second. Shopify's buckets are sized so they drain
    /// in 20 s (40 at 2/s standard, 80 at 4/s Advanced, 400 at 20/s Plus),
    /// so the size tells the plan's leak rate.
    pub fn leak_per_second(&self) -> f64 {
        f64::from(self.size) / 20.0
    }

    /// How long to pause before the next request: zero while the bucket is
    /// below `threshold` (a fraction of its size), else the time one request
    /// takes to leak out. Sending no faster than the leak rate once the
    /// bucket is this full stops it from growing, so syncs sharing one bucket
    /// (and the merchant's other apps) rarely meet a 429, while a backfill
    /// still runs at the plan's full sustained rate.
    pub fn pause(&self, threshold: f64) -> Duration {
        if f64::from(self.used) < f64::from(self.size) * threshold {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(1.0 / self.leak_per_second())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_entries() {
        let h = r#"<https://shop.myshopify.com/admin/api/2025-07/orders.json?limit=50&page_info=prev1>; rel="previous", <https://shop.myshopify.com/admin/api/2025-07/orders.json?limit=50&page_info=next2>; rel="next""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some(
                "https://shop.myshopify.com/admin/api/2025-07/orders.json?limit=50&page_info=next2"
            )
        );
        let only_prev = r#"<https://x/a.json?page_info=p>; rel="previous""#;
        assert_eq!(next_link(only_prev), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn next_link_keeps_commas_inside_urls() {
        let h = r#"<http://127.0.0.1:9/x.json?fields=id,title&page_info=a>; rel=next"#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("http://127.0.0.1:9/x.json?fields=id,title&page_info=a")
        );
        let h = r#"<http://h/x?page_info=n>; rel="next", <http://h/x?page_info=p>; rel="previous""#;
        assert_eq!(next_link(h).as_deref(), Some("http://h/x?page_info=n"));
    }

    #[test]
    fn call_limit_pauses_near_full() {
        let limit = CallLimit::parse("32/40").unwrap();
        assert_eq!(limit, CallLimit { used: 32, size: 40 });
        assert_eq!(limit.leak_per_second(), 2.0);
        assert_eq!(limit.pause(0.8), Duration::from_millis(500));
        assert_eq!(
            CallLimit::parse("10/40").unwrap().pause(0.8),
            Duration::ZERO
        );
        assert_eq!(
            CallLimit::parse("31/40").unwrap().pause(0.8),
            Duration::ZERO
        );
        assert_eq!(
            CallLimit::parse("40/40").unwrap().pause(0.8),
            Duration::from_millis(500)
        );
        // A Plus shop's bucket (400, leaking 20/s) paces at 50 ms.
        assert_eq!(
            CallLimit::parse("390/400").unwrap().pause(0.8),
            Duration::from_millis(50)
        );
        assert!(CallLimit::parse("x/40").is_none());
        assert!(CallLimit::parse("1/0").is_none());
    }
}
