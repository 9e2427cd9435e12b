//! `GET /audit` and `GET /audit.csv`: the audit log, filtered by actor,
//! action and a date range (UTC days, both inclusive), newest first.
//!
//! The page shows [`PAGE_SIZE`] entries and links to the next (older)
//! page by cursor (`?before=`); each cell is cut to [`SHOWN_CHARS`]
//! characters, so no entry can make the page large. The CSV export streams
//! every matching entry, [`CSV_PAGE`] rows per store read, so its memory
//! does not grow with the log.

use crate::auth::rules::Routes;
use crate::auth::CurrentUser;
use crate::auth::Permission;
use crate::error::PageError;
use crate::params::Params;
use crate::{templates, AppState, Error};
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use futures::StreamExt;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use opsdeck_domain::Timestamp;
use opsdeck_store::{AuditAction, AuditCursor, AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};

/// Rows on one page.
const PAGE_SIZE: u32 = 100;
/// Rows per store read while streaming the CSV export.
const CSV_PAGE: u32 = 1_000;
/// Characters of one cell the page shows (the CSV has them all).
const SHOWN_CHARS: usize = 300;

pub(super) fn router() -> Routes {
    Routes::new()
        .get("/audit", Permission::ViewAudit, page)
        .get("/audit.csv", Permission::ExportAudit, csv)
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    /// First day, `YYYY-MM-DD` (UTC).
    #[serde(default)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC), included.
    #[serde(default)]
    to: Option<String>,
    /// Where the page starts: the cursor the previous page's "Older
    /// entries" link carries.
    #[serde(default)]
    before: Option<String>,
}

fn day_start(key: &str, value: &str) -> Result<Timestamp, Error> {
    let date: Date = value.parse().map_err(|_| {
        Error::BadRequest(format!(
            "{key} must be a date like 2026-06-10, not {value:?}"
        ))
    })?;
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| Error::BadRequest(format!("{key}: {e}")))
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

impl AuditQuery {
    fn filter(&self, limit: u32) -> Result<AuditFilter, Error> {
        let from = non_empty(&self.from)
            .map(|v| day_start("from", &v))
            .transpose()?;
        let to = non_empty(&self.to)
            .map(|v| day_start("to", &v).map(|t| t + jiff::SignedDuration::from_hours(24)))
            .transpose()?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(Error::BadRequest("from must be on or before to".into()));
            }
        }
        let before = non_empty(&self.before)
            .map(|c| {
                c.parse::<AuditCursor>()
                    .map_err(|e| Error::BadRequest(format!("before: {e}")))
            })
            .transpose()?;
        Ok(AuditFilter {
            actor: non_empty(&self.actor),
            action: non_empty(&self.action).map(|a| AuditAction::parse(&a)),
            from,
            to,
            limit,
            before,
        })
    }
}

#[derive(Serialize)]
struct Row {
    at: String,
    actor: String,
    action: String,
    subject: String,
    payload: String,
    ip: String,
}

fn row(e: &AuditEntry) -> Row {
    let shown = |s: &str| super::bounded(s, SHOWN_CHARS);
    Row {
        at: e.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        actor: shown(&e.actor),
        action: shown(e.action.as_str()),
        subject: shown(&e.subject),
        payload: shown(&e.payload.to_string()),
        ip: shown(e.ip.as_deref().unwrap_or_default()),
    }
}

/// The words that mark an entry as another brand's for a person who
/// does not see every brand: the ids and names of the brands they do not
/// see (lowercase); empty for one who sees every brand.
fn hidden_words(state: &AppState, scope: &opsdeck_accounts::BrandScope) -> Vec<String> {
    state
        .brands
        .iter()
        .filter(|b| !scope.sees(b.id.as_str()))
        .flat_map(|b| [b.id.to_string().to_lowercase(), b.name.to_lowercase()])
        .collect()
}

/// Whether an entry is shown to a person whose scope hides `hidden`: the
/// log is free-form (a subject like `alert:E12`, a payload of any
/// shape), so an entry that names a hidden brand's id or name as a whole
/// word anywhere (`"brand":"kumo"`, `shopify-kumo`) is left out. Entries
/// about one brand name it (alerts, incidents, approvals, silences carry
/// their brand), so a scoped reviewer reads their brands' trail and the
/// brand-less ones.
fn entry_seen(e: &AuditEntry, hidden: &[String]) -> bool {
    if hidden.is_empty() {
        return true;
    }
    let text = format!("{} {} {}", e.subject, e.payload, e.actor).to_lowercase();
    !hidden.iter().any(|w| names_word(&text, w))
}

/// Whether `word` occurs in `text` with no letter or digit on either side.
fn names_word(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Params<AuditQuery>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = query?;
    let page = state
        .store
        .search_audit_page(&q.filter(PAGE_SIZE)?)
        .await
        .map_err(Error::from)?;
    let hidden = hidden_words(&state, &crate::scope::current());
    let csv_query = serde_urlencoded_query(&q, None);
    let older_query = page.next.map(|c| serde_urlencoded_query(&q, Some(c)));
    let html = templates::render(
        "audit.html",
        minijinja::context! {
            rows => page.entries.iter().filter(|e| entry_seen(e, &hidden)).map(row).collect::<Vec<_>>(),
            filter => q,
            csv_query,
            older_query,
            paged => non_empty(&q.before).is_some(),
            limit => PAGE_SIZE,
            csrf_token => user.csrf_token,
            username => user.username,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// The filter as a query string, starting at `before` when given.
fn serde_urlencoded_query(q: &AuditQuery, before: Option<AuditCursor>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(c) = before {
        s.append_pair("before", &c.to_string());
    }
    for (k, v) in [
        ("actor", &q.actor),
        ("action", &q.action),
        ("from", &q.from),
        ("to", &q.to),
    ] {
        if let Some(v) = non_empty(v) {
            s.append_pair(k, &v);
        }
    }
    s.finish()
}

const CSV_HEADER: &str = "at,actor,action,subject,payload,ip\r\n";

fn csv_line(e: &AuditEntry) -> String {
    opsdeck_reports::csv::line(&[
        e.at.to_string(),
        e.actor.clone(),
        e.action.to_string(),
        e.subject.clone(),
        e.payload.to_string(),
        e.ip.clone().unwrap_or_default(),
    ])
}

/// `GET /audit.csv`: every entry the filter matches (not one page),
/// streamed a store page at a time. A store failure after the first bytes
/// ends the download early (the status is already sent) and is logged.
async fn csv(
    State(state): State<AppState>,
    query: Result<Params<AuditQuery>, Error>,
) -> Result<Response, Error> {
    let Params(q) = query?;
    let first = q.filter(CSV_PAGE)?;
    // Read now: the body streams after the handler, outside its scope.
    let hidden = hidden_words(&state, &crate::scope::current());
    let pages = futures::stream::unfold(Some(first), move |filter| {
        let state = state.clone();
        let hidden = hidden.clone();
        async move {
            let filter = filter?;
            match state.store.search_audit_page(&filter).await {
                Ok(page) => {
                    let text: String = page
                        .entries
                        .iter()
                        .filter(|e| entry_seen(e, &hidden))
                        .map(csv_line)
                        .collect();
                    let next = page.next.map(|c| AuditFilter {
                        before: Some(c),
                        ..filter
                    });
                    Some((Ok::<_, opsdeck_store::StoreError>(text), next))
                }
                Err(error) => {
                    tracing::error!(%error, "audit export stopped");
                    Some((Err(error), None))
                }
            }
        }
    });
    let stream = futures::stream::once(async { Ok(CSV_HEADER.to_string()) }).chain(pages);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"opsdeck-audit.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_naming_a_hidden_brand_as_a_word_is_left_out() {
        let entry = |subject: &str, payload: serde_json::Value| AuditEntry {
            at: Timestamp::UNIX_EPOCH,
            actor: "ana".into(),
            action: AuditAction::ApiTokenCreate,
            subject: subject.into(),
            payload,
            ip: None,
        };
        let hidden = vec!["kumo".to_string(), "kumo tea".to_string()];
        assert!(!entry_seen(
            &entry("alert:E1", serde_json::json!({"brand": "kumo"})),
            &hidden
        ));
        assert!(!entry_seen(
            &entry("source:shopify-kumo", serde_json::json!({})),
            &hidden
        ));
        assert!(!entry_seen(
            &entry("x", serde_json::json!({"t": "Kumo Tea is down"})),
            &hidden
        ));
        assert!(entry_seen(
            &entry("x", serde_json::json!({"brand": "kumori"})),
            &hidden
        ));
        assert!(entry_seen(
            &entry("alert:E1", serde_json::json!({"brand": "mavena"})),
            &hidden
        ));
        assert!(entry_seen(
            &entry("alert:E1", serde_json::json!({"brand": "kumo"})),
            &[]
        ));
    }

    #[test]
    fn dates_are_utc_days_and_to_is_inclusive() {
        let q = AuditQuery {
            from: Some("2026-06-01".into()),
            to: Some("2026-06-01".into()),
            actor: Some("  ".into()),
            ..Default::default()
        };
        let f = q.filter(10).unwrap();
        assert_eq!(f.from, Some("2026-06-01T00:00:00Z".parse().unwrap()));
        assert_eq!(f.to, Some("2026-06-02T00:00:00Z".parse().unwrap()));
        assert_eq!(f.actor, None, "blank means no filter");
        let bad = AuditQuery {
            from: Some("June".into()),
            ..Default::default()
        };
        assert!(bad
            .filter(10)
            .unwrap_err()
            .to_string()
            .contains("from must be a date"));
        let backwards = AuditQuery {
            from: Some("2026-06-02".into()),
            to: Some("2026-06-01".into()),
            ..Default::default()
        };
        assert!(backwards.filter(10).is_err());
    }
}
