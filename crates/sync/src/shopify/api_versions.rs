//! What a shop's answers said about the API version, recorded by each run
//! for /sources: per API (REST, GraphQL) the version asked for, the one
//! that answered and the latest deprecation notice with when it was first
//! seen ([`ApiVersionNote`]). The clients log each change once
//! (`VersionNotes` in the sources crate); a run writes the note only when it
//! differs from the stored one, so a steady shop costs one read per run
//! and no write. A deprecation also goes into the run's notices: shown in
//! the resource's last error of a run that otherwise succeeded, never a
//! failure. A stored deprecation stays until another text replaces it or
//! the requested version changes (a client that has not made the
//! deprecated call yet in this process does not clear it).

use super::Progress;
use opsdeck_domain::{ShopifyApi, SourceId, Timestamp};
use opsdeck_sources::shopify::VersionReport;
use opsdeck_store::{ApiVersionNote, Store, StoreError};

/// The note `report` makes of `stored` (the source's note of `api`, if
/// any) at `now`; `None` when the answers said nothing yet.
pub(crate) fn merged(
    source: &SourceId,
    api: ShopifyApi,
    report: &VersionReport,
    stored: Option<&ApiVersionNote>,
    now: Timestamp,
) -> Option<ApiVersionNote> {
    let same_request = stored.filter(|s| s.requested == report.requested);
    let answered = report
        .answered
        .clone()
        .or_else(|| same_request.and_then(|s| s.answered.clone()));
    let deprecation = report
        .deprecation
        .clone()
        .or_else(|| same_request.and_then(|s| s.deprecation.clone()));
    if answered.is_none() && deprecation.is_none() {
        return None;
    }
    let deprecation_since = match (&deprecation, same_request) {
        (None, _) => None,
        (Some(text), Some(s)) if s.deprecation.as_ref() == Some(text) => s.deprecation_since,
        (Some(_), _) => Some(now),
    };
    Some(ApiVersionNote {
        source: source.clone(),
        api,
        requested: report.requested.clone(),
        answered,
        deprecation,
        deprecation_since,
        noted_at: now,
    })
}

/// Records the run's clients' reports (writing only what changed) and
/// pushes a notice for each deprecation.
pub(crate) async fn record(p: &mut Progress<'_>, now: Timestamp) -> Result<(), StoreError> {
    let mut reports = vec![(ShopifyApi::Rest, p.client.version_report())];
    if let Some(graphql) = p.graphql {
        reports.push((ShopifyApi::Graphql, graphql.version_report()));
    }
    let store: &dyn Store = p.book.store;
    let source = p.ctx.source.clone();
    let stored = store.api_versions().await?;
    for (api, report) in reports {
        let old = stored.iter().find(|n| n.source == source && n.api == api);
        let Some(note) = merged(&source, api, &report, old, now) else {
            continue;
        };
        let changed = old.is_none_or(|old| {
            ApiVersionNote {
                noted_at: now,
                ..old.clone()
            } != note
        });
        if changed {
            store.save_api_version(&note).await?;
        }
        if let (Some(text), Some(since)) = (&note.deprecation, note.deprecation_since) {
            p.book.notices.push(format!(
                "Shopify reports a deprecated {} call (first seen {since}): {text}",
                api.label()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn report(answered: Option<&str>, deprecation: Option<&str>) -> VersionReport {
        VersionReport {
            requested: "2026-01".into(),
            answered: answered.map(str::to_string),
            deprecation: deprecation.map(str::to_string),
        }
    }

    #[test]
    fn a_deprecation_keeps_when_it_was_first_seen_until_its_text_changes() {
        let source = SourceId::parse("shopify-mavena").unwrap();
        let api = ShopifyApi::Graphql;
        let (t1, t2, t3) = (
            ts("2026-06-10T10:00:00Z"),
            ts("2026-06-10T11:00:00Z"),
            ts("2026-06-10T12:00:00Z"),
        );
        assert_eq!(merged(&source, api, &report(None, None), None, t1), None);
        let first = merged(&source, api, &report(Some("2026-04"), Some("a")), None, t1).unwrap();
        assert_eq!(first.deprecation_since, Some(t1));
        assert!(first.fell_forward());
        // A new process that has not seen the header yet keeps the stored text.
        let again = merged(&source, api, &report(None, None), Some(&first), t2).unwrap();
        assert_eq!(
            (again.deprecation.as_deref(), again.deprecation_since),
            (Some("a"), Some(t1))
        );
        assert_eq!(again.answered.as_deref(), Some("2026-04"));
        let other = merged(
            &source,
            api,
            &report(Some("2026-04"), Some("b")),
            Some(&again),
            t3,
        )
        .unwrap();
        assert_eq!(other.deprecation_since, Some(t3));
        // Another requested version starts afresh.
        let moved = VersionReport {
            requested: "2026-04".into(),
            ..report(Some("2026-04"), None)
        };
        let moved = merged(&source, api, &moved, Some(&other), t3).unwrap();
        assert_eq!((moved.fell_forward(), moved.deprecation), (false, None));
    }
}
