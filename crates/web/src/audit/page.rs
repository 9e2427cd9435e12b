//! `GET /audit` and `GET /audit.csv`: the audit log, filtered by actor,
//! action and a date range (UTC days, both inclusive), newest first.

use crate::auth::rules::Routes;
use crate::auth::CurrentUser;
use crate::auth::Permission;
use crate::error::PageError;
use crate::params::Params;
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use opsdeck_domain::Timestamp;
use opsdeck_store::{AuditEntry, AuditFilter};
use serde::{Deserialize, Serialize};

/// Rows on the page; the CSV has up to [`CSV_LIMIT`].
const PAGE_LIMIT: u32 = 500;
const CSV_LIMIT: u32 = 100_000;

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
        Ok(AuditFilter {
            actor: non_empty(&self.actor),
            action: non_empty(&self.action),
            from,
            to,
            limit,
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
    Row {
        at: e.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        actor: e.actor.clone(),
        action: e.action.clone(),
        subject: e.subject.clone(),
        payload: e.payload.to_string(),
        ip: e.ip.clone().unwrap_or_default(),
    }
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Params<AuditQuery>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = query?;
    let entries = state
        .store
        .search_audit(&q.filter(PAGE_LIMIT)?)
        .await
        .map_err(Error::from)?;
    let csv_query = serde_urlencoded_query(&q);
    let html = templates::render(
        "audit.html",
        minijinja::context! {
            rows => entries.iter().map(row).collect::<Vec<_>>(),
            filter => q,
            csv_query,
            limit => PAGE_LIMIT,
            csrf_token => user.csrf_token,
            username => user.username,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

fn serde_urlencoded_query(q: &AuditQuery) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
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

/// One CSV cell: quoted when it holds a comma, quote or line break, and
/// prefixed with `'` when it starts with `=`, `+`, `-`, `@`, tab or CR, so
/// a spreadsheet shows it as text instead of running it as a formula.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

async fn csv(
    State(state): State<AppState>,
    query: Result<Params<AuditQuery>, Error>,
) -> Result<Response, Error> {
    let Params(q) = query?;
    let entries = state.store.search_audit(&q.filter(CSV_LIMIT)?).await?;
    let mut out = String::from("at,actor,action,subject,payload,ip\r\n");
    for e in &entries {
        let cells = [
            e.at.to_string(),
            e.actor.clone(),
            e.action.clone(),
            e.subject.clone(),
            e.payload.to_string(),
            e.ip.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"opsdeck-audit.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_defuse_formulas_and_quote() {
        assert_eq!(csv_cell("anna"), "anna");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell(""), "");
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
