//! Pushed records: the wire format of the ingest API (and of the CSV
//! import, which reads its rows through the same functions), read and
//! validated into domain records. Pure: no HTTP, no store.
//!
//! - [`reader`]: [`Obj`] reads one JSON object field by field and collects
//!   *every* problem with its path ([`Problems`]).
//! - [`kinds`]: the kinds, [`IngestKind`] (one per route, token scope and CSV kind)
//!   and [`read_record`], one record of a kind into a [`Parsed`] record or
//!   partial update.
//! - [`validate`] (here): a whole batch, all of it valid or every problem
//!   named as `records[i].field`.
//!
//! The store-bound half (partial updates applied to the stored order, the
//! group commit) is `opsdeck_sync::ingest`; the HTTP half (token, body,
//! status codes) is the web's.

pub mod kinds;
pub mod reader;

pub use kinds::{read_record, IngestKind, Parsed, RecordContext};
pub use reader::{FieldError, Obj, Problems};

use opsdeck_domain::Brand;
use serde::Serialize;
use serde_json::Value;

/// One problem of one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    pub index: usize,
    /// `records[i].field.path`.
    pub field: String,
    pub reason: String,
}

/// Why a batch was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchRefusal {
    /// Records name another configured brand than the context's: the text
    /// names them (the web answers 403).
    ForeignBrand(String),
    /// Records are invalid: the summary and every problem (the web answers
    /// 422).
    Invalid {
        message: String,
        errors: Vec<RecordError>,
    },
}

/// Validates every record of a batch of `kind` for `cx` (its source and
/// the brand every record gets; `brands` are the configured ones, to tell
/// a record for another brand from a typo); all problems, or all records.
pub fn validate(
    kind: IngestKind,
    records: &[Value],
    cx: &RecordContext,
    brands: &[Brand],
) -> Result<Vec<Parsed>, BatchRefusal> {
    let brand = cx.brand;
    let mut errors = Vec::new();
    let mut foreign = Vec::new();
    let mut parsed = Vec::with_capacity(records.len());
    for (index, value) in records.iter().enumerate() {
        let problems = Problems::default();
        let record = Obj::new(value, String::new(), &problems).and_then(|obj| {
            match value.get("brand") {
                None | Some(Value::Null) => {}
                Some(Value::String(b)) if b == brand.id.as_str() => {}
                Some(Value::String(b)) if brands.iter().any(|x| x.id.as_str() == b) => {
                    foreign.push(format!("records[{index}] is for brand {b}"));
                }
                Some(Value::String(b)) => obj.problem(
                    "brand",
                    format!("unknown brand {:?}", opsdeck_domain::bounds::excerpt(b)),
                ),
                Some(other) => obj.problem(
                    "brand",
                    format!("expected a string, got {}", reader::type_name(other)),
                ),
            }
            read_record(kind, &obj, cx)
        });
        let problems = problems.into_vec();
        if problems.is_empty() {
            parsed.extend(record);
        }
        errors.extend(problems.into_iter().map(|p| RecordError {
            index,
            field: if p.field.is_empty() {
                format!("records[{index}]")
            } else {
                format!("records[{index}].{}", p.field)
            },
            reason: p.reason,
        }));
    }
    if !foreign.is_empty() {
        return Err(BatchRefusal::ForeignBrand(format!(
            "this token writes brand {} only; {}",
            brand.id,
            foreign.join(", ")
        )));
    }
    if !errors.is_empty() {
        let bad_records = {
            let mut idx: Vec<usize> = errors.iter().map(|e| e.index).collect();
            idx.dedup();
            idx.len()
        };
        return Err(BatchRefusal::Invalid {
            message: format!(
                "{bad_records} of {} records are invalid; nothing was stored",
                records.len()
            ),
            errors,
        });
    }
    Ok(parsed)
}
