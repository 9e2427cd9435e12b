//! The export archive: everything opsdeck holds about one person, as a
//! zip of JSON and CSV per kind, built from the records [`super::find`]
//! finds (the same ones an erasure would erase).
//!
//! Inside: `README.txt` (what this is, for whom, when), and for each kind
//! with records `{kind}.json` (the records whole, as opsdeck stores them)
//! and `{kind}.csv` (one row per record, one column per top-level field,
//! nested values as JSON); `timeline.json|csv` (what happened, in time
//! order); `audit_log.json|csv` (changes people made that name them).
//! No secret is in any record or audit entry (neither ever holds one;
//! the recovery link of a checkout is never stored), so none can be here.
//!
//! Built when downloaded, never stored: an archive kept on disk would be
//! one more copy to find and erase.

use opsdeck_domain::{AnyRecord, RecordKind, Timestamp};
use opsdeck_store::AuditEntry;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;

/// One moment of the person's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub kind: &'static str,
    /// The record it comes from, `source/external_id`.
    pub record: String,
    pub what: String,
}

/// Files of an archive by name, before zipping: what tests read back.
pub type ArchiveFiles = BTreeMap<String, Vec<u8>>;

fn json_of<T: Serialize>(r: &T) -> Value {
    serde_json::to_value(r).expect("domain records serialize")
}

/// The record as JSON (the stored shape).
fn record_json(r: &AnyRecord) -> Value {
    opsdeck_domain::dispatch_any_record!(r, x => json_of(x))
}

/// The person's history from their records, oldest first.
pub fn timeline(records: &[AnyRecord]) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for r in records {
        let id = format!("{}/{}", r.source(), r.external_id());
        let mut push = |at: Timestamp, kind: &'static str, what: String| {
            out.push(TimelineEntry {
                at,
                kind,
                record: id.clone(),
                what,
            })
        };
        match r {
            AnyRecord::Order(o) => {
                push(o.created_at, "order", format!("order {} placed", o.name));
                for f in &o.fulfillments {
                    push(f.created_at, "order", format!("order {} shipped", o.name));
                    if let Some(at) = f.delivered_at {
                        push(at, "order", format!("order {} delivered", o.name));
                    }
                }
                for refund in &o.refunds {
                    push(
                        refund.created_at,
                        "order",
                        format!("order {} refunded", o.name),
                    );
                }
                if let Some(at) = o.cancelled_at {
                    push(at, "order", format!("order {} cancelled", o.name));
                }
            }
            AnyRecord::Ticket(t) => {
                push(
                    t.created_at,
                    "ticket",
                    format!("ticket {} opened", t.external_id),
                );
                if let Some(at) = t.closed_at {
                    push(at, "ticket", format!("ticket {} closed", t.external_id));
                }
            }
            AnyRecord::TicketMessage(m) => {
                let who = if m.from_agent { "agent" } else { "customer" };
                push(
                    m.created_at,
                    "ticket_message",
                    format!("message from the {who} on ticket {}", m.ticket_id),
                );
            }
            AnyRecord::SatisfactionSurvey(s) => {
                if let (Some(at), Some(score)) = (s.scored_at, s.score) {
                    push(
                        at,
                        "satisfaction_survey",
                        format!("rated ticket {} {score}/5", s.ticket_id),
                    );
                }
            }
            AnyRecord::ReturnRequest(q) => push(
                q.requested_at,
                "return_request",
                format!("{} requested ({})", q.kind, q.status),
            ),
            AnyRecord::PaymentEvent(p) => push(
                p.occurred_at,
                "payment_event",
                format!("payment {}", p.kind),
            ),
            AnyRecord::TrackingEvent(e) => push(
                e.occurred_at,
                "tracking_event",
                format!("parcel {}", e.status),
            ),
            AnyRecord::ReviewItem(i) => push(
                i.submitted_at,
                "review_item",
                format!("{} item submitted ({})", i.queue, i.status),
            ),
            AnyRecord::AbandonedCheckout(c) => push(
                c.created_at,
                "abandoned_checkout",
                "checkout left unpaid".into(),
            ),
            AnyRecord::CustomerSummary(c) => {
                push(c.created_at, "customer_summary", "customer since".into())
            }
            AnyRecord::Product(_)
            | AnyRecord::InventoryLevel(_)
            | AnyRecord::InventoryBatch(_)
            | AnyRecord::HealthCheck(_) => {}
        }
    }
    out.sort_by(|a, b| (a.at, &a.record).cmp(&(b.at, &b.record)));
    out
}

/// Rows of JSON objects as CSV: one column per top-level key (in first
/// appearance order), strings as they are, other values as JSON.
fn csv_of(rows: &[Value]) -> Vec<u8> {
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        if let Value::Object(map) = row {
            for k in map.keys() {
                if !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>, cells: Vec<String>| {
        w.write_record(cells)
            .expect("writing CSV to memory cannot fail");
    };
    write(&mut w, columns.clone());
    for row in rows {
        let cells = columns
            .iter()
            .map(|c| match row.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            })
            .collect();
        write(&mut w, cells);
    }
    w.into_inner().expect("writing CSV to memory cannot fail")
}

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("JSON values serialize")
}

/// What goes in the archive of request `request_id`, by file name.
pub fn archive_files(
    request_id: i64,
    generated_at: Timestamp,
    records: &[AnyRecord],
    audit: &[AuditEntry],
) -> ArchiveFiles {
    let mut files = ArchiveFiles::new();
    let mut by_kind: BTreeMap<RecordKind, Vec<Value>> = BTreeMap::new();
    for r in records {
        by_kind.entry(r.kind()).or_default().push(record_json(r));
    }
    let mut counts = Vec::new();
    for (kind, rows) in &by_kind {
        files.insert(
            format!("{}.json", kind.as_str()),
            pretty(&Value::from(rows.clone())),
        );
        files.insert(format!("{}.csv", kind.as_str()), csv_of(rows));
        counts.push(format!("- {}: {}", kind.as_str(), rows.len()));
    }
    let events: Vec<Value> = timeline(records).iter().map(json_of).collect();
    files.insert("timeline.json".into(), pretty(&Value::from(events.clone())));
    files.insert("timeline.csv".into(), csv_of(&events));
    let entries: Vec<Value> = audit
        .iter()
        .map(|e| {
            serde_json::json!({
                "at": e.at,
                "actor": e.actor,
                "action": e.action.as_str(),
                "subject": e.subject,
                "payload": e.payload,
            })
        })
        .collect();
    files.insert(
        "audit_log.json".into(),
        pretty(&Value::from(entries.clone())),
    );
    files.insert("audit_log.csv".into(), csv_of(&entries));
    let readme = format!(
        "Personal data held by opsdeck, privacy request {request_id}, generated {generated_at}.\n\n\
         Each kind of record is given twice: as JSON (whole) and as CSV (one row per record).\n\
         timeline.* lists what happened in time order; audit_log.* the changes people made\n\
         that name the person.\n\nRecords by kind:\n{}\n- audit entries: {}\n",
        if counts.is_empty() { "- none".to_string() } else { counts.join("\n") },
        audit.len()
    );
    files.insert("README.txt".into(), readme.into_bytes());
    files
}

/// `files` as a zip archive (deflated).
pub fn zip(files: &ArchiveFiles) -> std::io::Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        out.start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        out.write_all(bytes)?;
    }
    Ok(out.finish().map_err(std::io::Error::other)?.into_inner())
}
