//! The audit log as a table. The log can be long, so it is never a
//! [`Table`](crate::Table) of its own: [`columns`] heads a streamed table
//! and [`row`] turns each entry into its cells as the store pages through
//! it (see `crate::stream`). `/audit.csv` and an export job write the same
//! columns.

use super::col;
use crate::document::{Cell, Column, ColumnKind as K};
use opsdeck_store::AuditEntry;

/// The audit table's columns.
pub fn columns() -> Vec<Column> {
    vec![
        col("at", K::Time),
        col("actor", K::Text),
        col("action", K::Text),
        col("subject", K::Text),
        col("payload", K::Text),
        col("ip", K::Text),
    ]
}

/// One entry's cells, in [`columns`]' order.
pub fn row(e: &AuditEntry) -> Vec<Cell> {
    vec![
        Cell::Time(e.at),
        Cell::Text(e.actor.clone()),
        Cell::Text(e.action.to_string()),
        Cell::Text(e.subject.clone()),
        Cell::Text(e.payload.to_string()),
        e.ip.clone().map_or(Cell::Empty, Cell::Text),
    ]
}
