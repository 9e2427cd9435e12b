//! The one way opsdeck writes a CSV cell, used by every CSV export.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, TAB or
//! CR as a formula (CSV injection). Opening the file in a locale whose
//! list separator differs (`;` in much of Europe) splits a cell at that
//! separator too, so `note;=HYPERLINK(…)` becomes a cell starting with `=`.
//! [`cell`] therefore puts a `'` (which spreadsheets show as text) before
//! such a character at the start of the cell and after any `,` or `;`
//! (spaces between allowed), and quotes every cell holding a separator,
//! a quote or a line break.
//!
//! [`write_report`] writes a whole [`Report`]: one block per table, each
//! headed by its section (and table) title, money as a plain decimal with
//! the currency in a column of its own, times in the report's zone.

use crate::document::{Cell, Column, ColumnKind, Report, Section};
use std::io::{self, Write};

/// Characters a spreadsheet reads as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `value` as one CSV cell: defused and quoted as needed.
pub fn cell(value: &str) -> String {
    let mut defused = String::with_capacity(value.len() + 2);
    // At the start of the cell, or of a fragment a `,` or `;` locale
    // would make a cell of (spaces in between are skipped by some).
    let mut fragment_start = true;
    for c in value.chars() {
        if fragment_start && FORMULA_START.contains(&c) {
            defused.push('\'');
        }
        defused.push(c);
        fragment_start = match c {
            ',' | ';' => true,
            ' ' => fragment_start,
            _ => false,
        };
    }
    if defused.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// One CSV line of `cells`, CRLF-terminated (RFC 4180).
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells
        .iter()
        .map(|c| cell(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

/// `cell` as the text a CSV file holds: plain decimals (no thousands
/// separators), ISO 8601 times in the report's zone, durations in seconds.
pub fn value(cell: &Cell, zone: &jiff::tz::TimeZone) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(t) => t.clone(),
        Cell::Count(n) | Cell::Duration(n) => n.to_string(),
        Cell::Money(m) => m.to_decimal_string(),
        Cell::Percent(p) => format!("{p:.2}"),
        Cell::Time(t) => t
            .to_zoned(zone.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Cell::Date(d) => d.to_string(),
    }
}

/// `report` as CSV: for each section its facts (label, value), then each
/// table under a title line, then its gaps; a blank line between blocks.
/// A money column is followed by a `… currency` column so the amount stays
/// a plain number a spreadsheet can sum.
pub fn write_report(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let zone = jiff::tz::TimeZone::get(&report.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    out.write_all(line(&[&report.title, &report.subtitle]).as_bytes())?;
    for section in &report.sections {
        write_section(section, &zone, out)?;
    }
    Ok(())
}

/// One section of a report: title, facts, tables, gaps.
pub fn write_section(
    section: &Section,
    zone: &jiff::tz::TimeZone,
    out: &mut impl Write,
) -> io::Result<()> {
    out.write_all(b"\r\n")?;
    out.write_all(line(&[&section.title]).as_bytes())?;
    for fact in &section.facts {
        let mut cells = vec![fact.label.clone(), value(&fact.value, zone)];
        if let Cell::Money(m) = &fact.value {
            cells.push(m.currency.code().to_string());
        }
        out.write_all(line(&cells).as_bytes())?;
    }
    for table in &section.tables {
        out.write_all(b"\r\n")?;
        if let Some(title) = &table.title {
            out.write_all(line(&[title]).as_bytes())?;
        }
        write_header(&table.columns, out)?;
        for row in &table.rows {
            write_row(&table.columns, row, zone, out)?;
        }
    }
    for gap in &section.gaps {
        out.write_all(line(&["Not shown", &gap.what, &gap.why]).as_bytes())?;
    }
    Ok(())
}

/// A table's header line: each column's name, a money column followed by
/// its `… currency` column.
pub fn write_header(columns: &[Column], out: &mut impl Write) -> io::Result<()> {
    let mut header = Vec::with_capacity(columns.len() + 1);
    for column in columns {
        header.push(column.name.clone());
        if column.kind == ColumnKind::Money {
            header.push(format!("{} currency", column.name));
        }
    }
    out.write_all(line(&header).as_bytes())
}

/// One row of a table of `columns` (see [`write_header`]).
pub fn write_row(
    columns: &[Column],
    row: &[Cell],
    zone: &jiff::tz::TimeZone,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut cells = Vec::with_capacity(columns.len() + 1);
    for (column, cell) in columns.iter().zip(row) {
        cells.push(value(cell, zone));
        if column.kind == ColumnKind::Money {
            cells.push(match cell {
                Cell::Money(m) => m.currency.code().to_string(),
                _ => String::new(),
            });
        }
    }
    out.write_all(line(&cells).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_at_the_start_are_defused_and_quoted_when_needed() {
        assert_eq!(cell("anna"), "anna");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(cell(""), "");
        assert_eq!(cell("a=b"), "a=b", "only at the start of a fragment");
    }

    #[test]
    fn formulas_after_another_locales_separator_are_defused() {
        assert_eq!(
            cell("note;=cmd|' /C calc'!A0"),
            "\"note;'=cmd|' /C calc'!A0\""
        );
        assert_eq!(cell("a,+1"), "\"a,'+1\"");
        assert_eq!(cell("a; @x"), "\"a; '@x\"");
        assert_eq!(cell("a;-"), "\"a;'-\"");
        assert_eq!(cell("a;b"), "\"a;b\"", "a `;` alone is quoted, not changed");
        assert_eq!(cell("a; b=1"), "\"a; b=1\"");
    }

    #[test]
    fn a_report_keeps_amounts_as_plain_decimals_beside_their_currency() {
        use crate::document::{Column, Section, Table};
        use opsdeck_domain::{Currency, Money};
        let mut section = Section::new("s", "Revenue by brand");
        section.tables.push(Table {
            title: None,
            columns: vec![
                Column {
                    name: "Brand".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    name: "Revenue".into(),
                    kind: ColumnKind::Money,
                },
                Column {
                    name: "Last order".into(),
                    kind: ColumnKind::Time,
                },
            ],
            rows: vec![vec![
                Cell::Text("=Plentum".into()),
                Cell::Money(Money::new(1_234_567, Currency::parse("EUR").unwrap())),
                Cell::Time("2026-12-07T06:00:00Z".parse().unwrap()),
            ]],
        });
        let report = Report {
            title: "Daily".into(),
            subtitle: "All brands".into(),
            generated_at: "2026-12-07T06:00:00Z".parse().unwrap(),
            time_zone: "Europe/Berlin".into(),
            sections: vec![section],
        };
        let mut out = Vec::new();
        write_report(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("Brand,Revenue,Revenue currency,Last order\r\n"),
            "{text}"
        );
        assert!(
            text.contains("'=Plentum,12345.67,EUR,2026-12-07T07:00:00+01:00\r\n"),
            "{text}"
        );
    }

    #[test]
    fn lines_join_cells_with_crlf() {
        assert_eq!(line(&["a", "=1", "b,c"]), "a,'=1,\"b,c\"\r\n");
    }

    /// The text a spreadsheet sees in `cell`'s output (quotes undone).
    fn unquoted(out: &str) -> String {
        match out.strip_prefix('"').and_then(|o| o.strip_suffix('"')) {
            Some(inner) => inner.replace("\"\"", "\""),
            None => out.to_string(),
        }
    }

    proptest::proptest! {
        /// Split at `,` or `;` as any locale would, no piece starts a
        /// formula, and nothing but the `'` marks was added.
        #[test]
        fn no_fragment_of_any_cell_starts_a_formula(value in "[=+@ ,;\t\r\n\"a-z0-9-]{0,24}") {
            let out = cell(&value);
            let seen = unquoted(&out);
            for piece in seen.split([',', ';']) {
                let piece = piece.trim_start_matches(' ');
                proptest::prop_assert!(!piece.starts_with(FORMULA_START), "{:?} -> {:?}", value, out);
            }
            proptest::prop_assert_eq!(seen.replace('\'', ""), value.replace('\'', ""));
        }
    }
}
