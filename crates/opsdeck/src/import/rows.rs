//! From CSV rows to the ingest API's JSON records, and from a problem's
//! field path back to the line and column it came from.

use super::{ImportKind, RowError};
use anyhow::Context;
use opsdeck_domain::Brand;
use serde_json::{json, Map, Value};
use std::io::Read;

/// One record's rows: the JSON built from them and the line of each row
/// (the first is the record's own; the others add a line item or variant).
pub(super) struct Group {
    pub(super) json: Value,
    pub(super) lines: Vec<u64>,
}

pub(super) struct Groups {
    pub(super) groups: Vec<Group>,
    pub(super) rows: u64,
    /// Problems found while reading (unknown or missing columns, bad numbers).
    pub(super) errors: Vec<RowError>,
}

/// (CSV column, JSON field, type) of each column of a record or child.
type Columns = &'static [(&'static str, &'static str, Ty)];

/// The type of a cell.
#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Text,
    Int,
    Bool,
    Money,
    Tags,
}

const ORDER_COLUMNS: &[(&str, &str, Ty)] = &[
    ("external_id", "external_id", Ty::Text),
    ("name", "name", Ty::Text),
    ("number", "number", Ty::Int),
    ("created_at", "created_at", Ty::Text),
    ("updated_at", "updated_at", Ty::Text),
    ("processed_at", "processed_at", Ty::Text),
    ("cancelled_at", "cancelled_at", Ty::Text),
    ("cancel_reason", "cancel_reason", Ty::Text),
    ("closed_at", "closed_at", Ty::Text),
    ("total_price", "total_price", Ty::Money),
    ("subtotal_price", "subtotal_price", Ty::Money),
    ("total_discounts", "total_discounts", Ty::Money),
    ("total_tax", "total_tax", Ty::Money),
    ("financial_status", "financial_status", Ty::Text),
    ("fulfillment_status", "fulfillment_status", Ty::Text),
    ("tags", "tags", Ty::Tags),
    ("source_name", "source_name", Ty::Text),
    ("test", "test", Ty::Bool),
    ("email", "email", Ty::Text),
];
/// Customer columns of an order row.
const CUSTOMER_COLUMNS: &[(&str, &str)] = &[
    ("customer_id", "external_id"),
    ("customer_email", "email"),
    ("customer_name", "name"),
];
const LINE_COLUMNS: &[(&str, &str, Ty)] = &[
    ("line_id", "external_id", Ty::Text),
    ("line_product_id", "product_id", Ty::Text),
    ("line_variant_id", "variant_id", Ty::Text),
    ("line_sku", "sku", Ty::Text),
    ("line_title", "title", Ty::Text),
    ("line_variant_title", "variant_title", Ty::Text),
    ("line_quantity", "quantity", Ty::Int),
    ("line_price", "price", Ty::Money),
];
const PRODUCT_COLUMNS: &[(&str, &str, Ty)] = &[
    ("external_id", "external_id", Ty::Text),
    ("title", "title", Ty::Text),
    ("handle", "handle", Ty::Text),
    ("status", "status", Ty::Text),
    ("body_html", "body_html", Ty::Text),
    ("image_count", "image_count", Ty::Int),
    ("vendor", "vendor", Ty::Text),
    ("product_type", "product_type", Ty::Text),
    ("tags", "tags", Ty::Tags),
    ("created_at", "created_at", Ty::Text),
    ("updated_at", "updated_at", Ty::Text),
];
const VARIANT_COLUMNS: &[(&str, &str, Ty)] = &[
    ("variant_id", "external_id", Ty::Text),
    ("variant_title", "title", Ty::Text),
    ("sku", "sku", Ty::Text),
    ("price", "price", Ty::Money),
    ("inventory_item_id", "inventory_item_id", Ty::Text),
    ("inventory_quantity", "inventory_quantity", Ty::Int),
    ("inventory_tracked", "inventory_tracked", Ty::Bool),
];
const INVENTORY_COLUMNS: &[(&str, &str, Ty)] = &[
    ("external_id", "external_id", Ty::Text),
    ("inventory_item_id", "inventory_item_id", Ty::Text),
    ("location_id", "location_id", Ty::Text),
    ("available", "available", Ty::Int),
    ("updated_at", "updated_at", Ty::Text),
];

/// (record columns, child array field, child columns).
fn layout(kind: ImportKind) -> (Columns, Option<(&'static str, Columns)>) {
    match kind {
        ImportKind::Orders => (ORDER_COLUMNS, Some(("line_items", LINE_COLUMNS))),
        ImportKind::Products => (PRODUCT_COLUMNS, Some(("variants", VARIANT_COLUMNS))),
        ImportKind::Inventory => (INVENTORY_COLUMNS, None),
    }
}

fn all_columns(kind: ImportKind) -> Vec<&'static str> {
    let (own, child) = layout(kind);
    let mut cols: Vec<&str> = own.iter().map(|c| c.0).collect();
    if kind == ImportKind::Orders {
        cols.extend(CUSTOMER_COLUMNS.iter().map(|c| c.0));
    }
    if let Some((_, child)) = child {
        cols.extend(child.iter().map(|c| c.0));
    }
    cols
}

/// A cell as a JSON value of its type; `Err` names why it is not one.
///
/// Cells are trimmed, except an amount: a spreadsheet never pads one, and
/// it is read exactly as the ingest API reads it (no spaces, no `+`).
fn cell(raw: &str, ty: Ty, brand: &Brand) -> Result<Option<Value>, String> {
    use opsdeck_domain::bounds::excerpt;
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(match ty {
        Ty::Text => json!(value),
        Ty::Int => json!(value
            .parse::<i64>()
            .map_err(|_| format!("{:?} is not a whole number", excerpt(value)))?),
        Ty::Bool => json!(match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            _ => return Err(format!("{:?} is not true or false", excerpt(value))),
        }),
        Ty::Money => json!({ "amount": raw, "currency": brand.currency.code() }),
        Ty::Tags => json!(opsdeck_domain::Order::split_tags(value)),
    }))
}

fn fill(
    target: &mut Map<String, Value>,
    columns: &[(&str, &str, Ty)],
    row: &csv::StringRecord,
    index: &dyn Fn(&str) -> Option<usize>,
    brand: &Brand,
    line: u64,
    errors: &mut Vec<RowError>,
) {
    for (column, field, ty) in columns {
        let Some(raw) = index(column).and_then(|i| row.get(i)) else {
            continue;
        };
        match cell(raw, *ty, brand) {
            Ok(Some(v)) => {
                target.insert(field.to_string(), v);
            }
            Ok(None) => {}
            Err(reason) => errors.push(RowError {
                line,
                column: Some(column.to_string()),
                reason,
            }),
        }
    }
}

pub(super) fn read_groups(
    kind: ImportKind,
    brand: &Brand,
    input: impl Read,
) -> anyhow::Result<Groups> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header = reader
        .headers()
        .context("cannot read the header line")?
        .clone();
    let known = all_columns(kind);
    let mut errors = Vec::new();
    let unknown: Vec<&str> = header.iter().filter(|h| !known.contains(h)).collect();
    if !unknown.is_empty() {
        errors.push(RowError {
            line: 1,
            column: None,
            reason: format!(
                "unknown column(s) {}; known columns: {}",
                unknown.join(", "),
                known.join(", ")
            ),
        });
    }
    let position = |name: &str| header.iter().position(|h| h == name);
    if position("external_id").is_none() && kind != ImportKind::Inventory {
        errors.push(RowError {
            line: 1,
            column: Some("external_id".into()),
            reason: "missing column (required)".into(),
        });
    }
    let (own, child) = layout(kind);
    let mut groups: Vec<Group> = Vec::new();
    let mut last_id: Option<String> = None;
    let mut rows = 0;
    for result in reader.records() {
        let row = match result {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    column: None,
                    reason: format!("not a valid CSV row: {e}"),
                });
                last_id = None;
                continue;
            }
        };
        rows += 1;
        let line = row.position().map_or(0, |p| p.line());
        let id = position("external_id")
            .and_then(|i| row.get(i))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let continues = child.is_some() && id.is_some() && id == last_id;
        if !continues {
            let mut map = Map::new();
            fill(&mut map, own, &row, &position, brand, line, &mut errors);
            if kind == ImportKind::Orders {
                let mut customer = Map::new();
                for (column, field) in CUSTOMER_COLUMNS {
                    if let Some(v) = position(column)
                        .and_then(|i| row.get(i))
                        .filter(|v| !v.trim().is_empty())
                    {
                        customer.insert(field.to_string(), json!(v.trim()));
                    }
                }
                // A customer needs an id; an email alone is the order's email.
                if customer.contains_key("external_id") {
                    map.insert("customer".into(), Value::Object(customer));
                } else if let Some(email) = customer.remove("email") {
                    map.entry("email").or_insert(email);
                }
            }
            groups.push(Group {
                json: Value::Object(map),
                lines: Vec::new(),
            });
        }
        let group = groups
            .last_mut()
            .expect("a group was just pushed or continued");
        group.lines.push(line);
        if let Some((array, columns)) = child {
            let mut item = Map::new();
            fill(
                &mut item,
                columns,
                &row,
                &position,
                brand,
                line,
                &mut errors,
            );
            if !item.is_empty() {
                let obj = group.json.as_object_mut().expect("groups are objects");
                let items = obj.entry(array).or_insert_with(|| json!([]));
                if let Value::Array(items) = items {
                    items.push(Value::Object(item));
                }
            }
        }
        last_id = id;
    }
    Ok(Groups {
        groups,
        rows,
        errors,
    })
}

/// The line and column a problem with `field` (a path inside the record's
/// JSON) came from.
pub(super) fn locate(kind: ImportKind, group: &Group, field: &str) -> (u64, Option<String>) {
    let first = group.lines.first().copied().unwrap_or(0);
    let (own, child) = layout(kind);
    let top = field.split(['.', '[']).next().unwrap_or(field);
    if let Some((array, columns)) = child {
        if let Some(rest) = field.strip_prefix(array).and_then(|r| r.strip_prefix('[')) {
            let (n, after) = rest.split_once(']').unwrap_or((rest, ""));
            // Child items are only pushed for rows with child columns, which
            // is every row of a multi-row group.
            let line = n
                .parse::<usize>()
                .ok()
                .and_then(|i| group.lines.get(i))
                .copied()
                .unwrap_or(first);
            let sub = after
                .trim_start_matches('.')
                .split('.')
                .next()
                .unwrap_or("");
            let column = columns.iter().find(|c| c.1 == sub).map(|c| c.0.to_string());
            return (line, column.or_else(|| Some(format!("{array} ({sub})"))));
        }
    }
    if top == "customer" {
        let sub = field.rsplit('.').next().unwrap_or("");
        let column = CUSTOMER_COLUMNS
            .iter()
            .find(|c| c.1 == sub)
            .map(|c| c.0.to_string());
        return (first, column);
    }
    let column = own.iter().find(|c| c.1 == top).map(|c| c.0.to_string());
    (
        first,
        column.or_else(|| (!top.is_empty()).then(|| top.to_string())),
    )
}
