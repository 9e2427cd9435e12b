//! A [`Report`] as an XLSX workbook (`rust_xlsxwriter`), written in
//! constant-memory mode: each row goes to a temporary file as it is
//! written, so a sheet of a million rows costs no more memory than one of
//! ten.
//!
//! One sheet per section (its title, made a valid and unique sheet name of
//! at most 31 characters). The first table's header is the sheet's first
//! row, frozen; further tables follow under a title row, then the facts
//! and gaps. Cells keep their type: counts are numbers, money is a number
//! in major units with its currency's format, percents are percent-formatted
//! numbers, durations are Excel durations (`[h]:mm:ss`), times and dates are
//! Excel dates in the report's zone.
//!
//! A table too large to build ([`crate::sections::audit`]) is streamed:
//! [`XlsxWriter::begin_table`] opens its sheet and [`XlsxWriter::row`] adds
//! rows as they are read, continuing on a new sheet past Excel's row limit.

use crate::document::{Cell, Column, Report, Section};
use jiff::tz::TimeZone;
use opsdeck_domain::{Currency, Money};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Excel's longest sheet name.
pub const SHEET_NAME_MAX: usize = 31;
/// Rows of one Excel sheet.
pub const SHEET_ROWS: u32 = 1_048_576;
/// Characters Excel refuses in a sheet name.
const NAME_FORBIDDEN: [char; 7] = ['[', ']', ':', '*', '?', '/', '\\'];

/// An XLSX file being written, sheet after sheet, row after row.
pub struct XlsxWriter {
    workbook: Workbook,
    zone: TimeZone,
    names: BTreeSet<String>,
    formats: Formats,
    /// The sheet being written: its index, next row, and the streamed
    /// table it holds (to repeat its header on a continuation sheet).
    sheet: Option<Sheet>,
}

struct Sheet {
    index: usize,
    row: u32,
    /// The streamed table on this sheet: its title and columns.
    streamed: Option<(String, Vec<Column>)>,
}

struct Formats {
    bold: Format,
    percent: Format,
    duration: Format,
    time: Format,
    date: Format,
    money: BTreeMap<Currency, Format>,
}

impl Formats {
    fn new() -> Self {
        Formats {
            bold: Format::new().set_bold(),
            percent: Format::new().set_num_format("0.00%"),
            duration: Format::new().set_num_format("[h]:mm:ss"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            money: BTreeMap::new(),
        }
    }

    /// `#,##0.00 "EUR"`, with the currency's number of decimals.
    fn money(&mut self, currency: Currency) -> &Format {
        self.money.entry(currency).or_insert_with(|| {
            let decimals = usize::from(currency.exponent());
            let number = if decimals == 0 {
                "#,##0".to_string()
            } else {
                format!("#,##0.{}", "0".repeat(decimals))
            };
            Format::new().set_num_format(format!("{number} \"{}\"", currency.code()))
        })
    }
}

/// An amount in major units, as Excel holds it.
pub fn major(m: Money) -> f64 {
    m.minor as f64 / 10f64.powi(i32::from(m.currency.exponent()))
}

/// `title` as a sheet name Excel accepts and no other sheet in `taken`
/// has (compared case-insensitively, as Excel does): forbidden characters
/// replaced, at most [`SHEET_NAME_MAX`] characters, a number added to a
/// repeated name.
pub fn sheet_name(title: &str, taken: &BTreeSet<String>) -> String {
    let clean: String = title
        .chars()
        .map(|c| if NAME_FORBIDDEN.contains(&c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').trim();
    let clean = if clean.is_empty() { "Sheet" } else { clean };
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let mut name = cut(clean, SHEET_NAME_MAX);
    let mut n = 1;
    while taken.contains(&name.to_lowercase()) {
        n += 1;
        let suffix = format!(" ({n})");
        name = format!(
            "{}{suffix}",
            cut(clean, SHEET_NAME_MAX - suffix.chars().count())
        );
    }
    name
}

impl XlsxWriter {
    /// A workbook whose times are shown in `time_zone` (UTC when unknown).
    pub fn new(time_zone: &str) -> Self {
        XlsxWriter {
            workbook: Workbook::new(),
            zone: TimeZone::get(time_zone).unwrap_or(TimeZone::UTC),
            names: BTreeSet::new(),
            formats: Formats::new(),
            sheet: None,
        }
    }

    fn new_sheet(&mut self, title: &str) -> Result<(), XlsxError> {
        let name = sheet_name(title, &self.names);
        self.names.insert(name.to_lowercase());
        let sheet = self.workbook.add_worksheet_with_constant_memory();
        sheet.set_name(name)?;
        let index = self.workbook.worksheets().len() - 1;
        self.sheet = Some(Sheet {
            index,
            row: 0,
            streamed: None,
        });
        Ok(())
    }

    fn current(&mut self) -> Result<(&mut rust_xlsxwriter::Worksheet, &mut Sheet), XlsxError> {
        let Some(sheet) = self.sheet.as_mut() else {
            return Err(XlsxError::ParameterError("no sheet begun".to_string()));
        };
        let ws = self.workbook.worksheet_from_index(sheet.index)?;
        Ok((ws, sheet))
    }

    fn write_header(&mut self, columns: &[Column]) -> Result<(), XlsxError> {
        let bold = self.formats.bold.clone();
        let (ws, sheet) = self.current()?;
        for (c, column) in columns.iter().enumerate() {
            ws.write_string_with_format(sheet.row, col_num(c), &column.name, &bold)?;
            ws.set_column_width(col_num(c), (column.name.chars().count() + 4).max(12) as f64)?;
        }
        if sheet.row == 0 {
            ws.set_freeze_panes(1, 0)?;
        }
        sheet.row += 1;
        Ok(())
    }

    fn write_cells(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        let Some(sheet) = self.sheet.as_ref() else {
            return Err(XlsxError::ParameterError("no sheet begun".to_string()));
        };
        let (index, row) = (sheet.index, sheet.row);
        let zone = self.zone.clone();
        for (c, cell) in cells.iter().enumerate() {
            let formats = &mut self.formats;
            let ws = self.workbook.worksheet_from_index(index)?;
            write_cell(ws, formats, &zone, row, col_num(c), cell)?;
        }
        if let Some(sheet) = self.sheet.as_mut() {
            sheet.row += 1;
        }
        Ok(())
    }

    /// A section on a sheet of its own.
    pub fn section(&mut self, section: &Section) -> Result<(), XlsxError> {
        self.new_sheet(&section.title)?;
        for (i, table) in section.tables.iter().enumerate() {
            if i > 0 {
                self.skip_row()?;
                if let Some(title) = &table.title {
                    self.title_row(title)?;
                }
            }
            self.write_header(&table.columns)?;
            for row in &table.rows {
                self.write_cells(row)?;
            }
        }
        if !section.facts.is_empty() {
            self.skip_row()?;
            for fact in &section.facts {
                self.write_cells(&[Cell::Text(fact.label.clone()), fact.value.clone()])?;
            }
        }
        // A chart's numbers are the tables'; XLSX carries them there.
        if !section.gaps.is_empty() {
            self.skip_row()?;
            for gap in &section.gaps {
                self.write_cells(&[
                    Cell::Text("Not shown".to_string()),
                    Cell::Text(gap.what.clone()),
                    Cell::Text(gap.why.clone()),
                ])?;
            }
        }
        Ok(())
    }

    fn skip_row(&mut self) -> Result<(), XlsxError> {
        let (_, sheet) = self.current()?;
        sheet.row += 1;
        Ok(())
    }

    fn title_row(&mut self, title: &str) -> Result<(), XlsxError> {
        let bold = self.formats.bold.clone();
        let (ws, sheet) = self.current()?;
        ws.write_string_with_format(sheet.row, 0, title, &bold)?;
        sheet.row += 1;
        Ok(())
    }

    /// Opens a sheet for a streamed table of `columns`, headed by them.
    pub fn begin_table(&mut self, title: &str, columns: &[Column]) -> Result<(), XlsxError> {
        self.new_sheet(title)?;
        self.write_header(columns)?;
        if let Some(sheet) = self.sheet.as_mut() {
            sheet.streamed = Some((title.to_string(), columns.to_vec()));
        }
        Ok(())
    }

    /// One row of the streamed table; past Excel's last row the table goes
    /// on in a new sheet under the same header.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), XlsxError> {
        let full = self.sheet.as_ref().is_some_and(|s| s.row >= SHEET_ROWS);
        if full {
            let streamed = self.sheet.as_ref().and_then(|s| s.streamed.clone());
            if let Some((title, columns)) = streamed {
                self.begin_table(&title, &columns)?;
            }
        }
        self.write_cells(cells)
    }

    /// Writes the workbook to `path`.
    pub fn save(mut self, path: &Path) -> Result<(), XlsxError> {
        if self.workbook.worksheets().is_empty() {
            self.new_sheet("Report")?;
        }
        self.workbook.save(path)
    }
}

fn col_num(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

fn write_cell(
    ws: &mut rust_xlsxwriter::Worksheet,
    formats: &mut Formats,
    zone: &TimeZone,
    row: u32,
    col: u16,
    cell: &Cell,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(t) => {
            ws.write_string(row, col, t)?;
        }
        Cell::Count(n) => {
            ws.write_number(row, col, *n as f64)?;
        }
        Cell::Money(m) => {
            let format = formats.money(m.currency).clone();
            ws.write_number_with_format(row, col, major(*m), &format)?;
        }
        Cell::Percent(p) => {
            ws.write_number_with_format(row, col, p / 100.0, &formats.percent)?;
        }
        Cell::Duration(s) => {
            ws.write_number_with_format(row, col, *s as f64 / 86_400.0, &formats.duration)?;
        }
        Cell::Time(t) => {
            let dt = t.to_zoned(zone.clone()).datetime();
            let excel = excel_date(dt.date())?.and_hms(
                u16::try_from(dt.hour()).unwrap_or(0),
                u8::try_from(dt.minute()).unwrap_or(0),
                f64::from(dt.second()),
            )?;
            ws.write_datetime_with_format(row, col, excel, &formats.time)?;
        }
        Cell::Date(d) => {
            ws.write_datetime_with_format(row, col, excel_date(*d)?, &formats.date)?;
        }
    }
    Ok(())
}

fn excel_date(d: jiff::civil::Date) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(
        u16::try_from(d.year()).unwrap_or(1900),
        u8::try_from(d.month()).unwrap_or(1),
        u8::try_from(d.day()).unwrap_or(1),
    )
}

/// `report` as an XLSX file at `path`.
pub fn write_report(report: &Report, path: &Path) -> Result<(), XlsxError> {
    let mut writer = XlsxWriter::new(&report.time_zone);
    for section in &report.sections {
        writer.section(section)?;
    }
    writer.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{ColumnKind, Fact, Gap, Table};
    use calamine::{open_workbook, Data, Reader, Xlsx};
    use opsdeck_domain::Currency;

    fn col(name: &str, kind: ColumnKind) -> Column {
        Column {
            name: name.into(),
            kind,
        }
    }

    fn money(minor: i64, code: &str) -> Cell {
        Cell::Money(Money::new(minor, Currency::parse(code).unwrap()))
    }

    fn report() -> Report {
        let mut section = Section::new("orders", "Orders: by brand [all]");
        section.tables.push(Table {
            title: None,
            columns: vec![
                col("Brand", ColumnKind::Text),
                col("Orders", ColumnKind::Count),
                col("Revenue", ColumnKind::Money),
                col("Share", ColumnKind::Percent),
                col("Time to ship", ColumnKind::Duration),
                col("Last order", ColumnKind::Time),
                col("Day", ColumnKind::Date),
            ],
            rows: vec![
                vec![
                    Cell::Text("mavena".into()),
                    Cell::Count(1204),
                    money(1_234_567, "EUR"),
                    Cell::Percent(12.5),
                    Cell::Duration(90 * 60),
                    Cell::Time("2026-12-07T06:30:00Z".parse().unwrap()),
                    Cell::Date(jiff::civil::date(2026, 12, 7)),
                ],
                vec![
                    Cell::Text("kumo".into()),
                    Cell::Count(3),
                    money(271_828, "JPY"),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                ],
            ],
        });
        section.tables.push(Table {
            title: Some("Carriers".into()),
            columns: vec![col("Carrier", ColumnKind::Text)],
            rows: vec![vec![Cell::Text("DHL".into())]],
        });
        section.facts.push(Fact {
            label: "Orders".into(),
            value: Cell::Count(1207),
        });
        section.gaps.push(Gap {
            what: "3 orders".into(),
            why: "no rate".into(),
        });
        let mut twin = Section::new("orders2", "Orders: by brand [all]");
        twin.tables.push(Table {
            title: None,
            columns: vec![col("Brand", ColumnKind::Text)],
            rows: vec![],
        });
        Report {
            title: "Export".into(),
            subtitle: "All brands".into(),
            generated_at: "2026-12-07T07:00:00Z".parse().unwrap(),
            time_zone: "Europe/Berlin".into(),
            sections: vec![section, twin],
        }
    }

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("opsdeck-xlsx-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("report.xlsx")
    }

    fn number(d: &Data) -> f64 {
        match d {
            Data::Float(f) => *f,
            Data::Int(i) => *i as f64,
            Data::DateTime(dt) => dt.as_f64(),
            other => panic!("not a number: {other:?}"),
        }
    }

    #[test]
    fn a_workbook_reads_back_with_typed_cells_one_sheet_per_section() {
        let path = temp("typed");
        write_report(&report(), &path).unwrap();
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        let names = book.sheet_names();
        assert_eq!(
            names,
            ["Orders_ by brand _all_", "Orders_ by brand _all_ (2)"],
            "valid, unique names"
        );
        let sheet = book.worksheet_range(&names[0]).unwrap();
        let row = |r: u32| -> Vec<Data> {
            (0..7)
                .map(|c| sheet.get_value((r, c)).cloned().unwrap_or(Data::Empty))
                .collect()
        };
        assert_eq!(
            row(0)[0],
            Data::String("Brand".into()),
            "the header row first"
        );
        let first = row(1);
        assert_eq!(first[0], Data::String("mavena".into()));
        assert_eq!(number(&first[1]), 1204.0, "a count is a number");
        assert_eq!(number(&first[2]), 12345.67, "money in major units");
        assert_eq!(number(&first[3]), 0.125, "a percent is a share");
        assert!(
            (number(&first[4]) - 90.0 * 60.0 / 86_400.0).abs() < 1e-9,
            "a duration in days"
        );
        // 07:30 in Berlin on 2026-12-07: Excel serial 46363 + 7.5/24.
        let serial = number(&first[5]);
        assert!((serial - (46363.0 + 7.5 / 24.0)).abs() < 1e-6, "{serial}");
        assert_eq!(number(&first[6]), 46363.0);
        assert_eq!(number(&row(2)[2]), 271828.0, "yen have no decimals");
        assert_eq!(row(2)[3], Data::Empty);
        // The second table under its title, then the facts and gaps.
        assert_eq!(row(4)[0], Data::String("Carriers".into()));
        assert_eq!(row(5)[0], Data::String("Carrier".into()));
        assert_eq!(row(6)[0], Data::String("DHL".into()));
        assert_eq!(row(8)[0], Data::String("Orders".into()));
        assert_eq!(number(&row(8)[1]), 1207.0);
        assert_eq!(row(10)[1], Data::String("3 orders".into()));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn money_keeps_its_currency_format() {
        let mut f = Formats::new();
        let eur = f.money(Currency::parse("EUR").unwrap()).clone();
        assert_eq!(eur, Format::new().set_num_format("#,##0.00 \"EUR\""));
        let jpy = f.money(Currency::parse("JPY").unwrap()).clone();
        assert_eq!(jpy, Format::new().set_num_format("#,##0 \"JPY\""));
    }

    #[test]
    fn sheet_names_are_valid_unique_and_short() {
        let mut taken = BTreeSet::new();
        let long = "A very long section title that goes on and on";
        let first = sheet_name(long, &taken);
        assert_eq!(first.chars().count(), SHEET_NAME_MAX);
        taken.insert(first.to_lowercase());
        let second = sheet_name(long, &taken);
        assert_eq!(second.chars().count(), SHEET_NAME_MAX);
        assert!(second.ends_with(" (2)"), "{second}");
        assert_eq!(sheet_name("a/b:c?", &BTreeSet::new()), "a_b_c_");
        assert_eq!(sheet_name("'", &BTreeSet::new()), "Sheet");
        taken.insert("orders".into());
        assert_eq!(
            sheet_name("ORDERS", &taken),
            "ORDERS (2)",
            "Excel ignores case"
        );
    }

    #[test]
    fn a_streamed_table_continues_on_a_new_sheet_past_the_row_limit() {
        let path = temp("stream");
        let mut w = XlsxWriter::new("UTC");
        let columns = [col("n", ColumnKind::Count)];
        w.begin_table("Audit log", &columns).unwrap();
        // Pretend the sheet is full rather than writing a million rows.
        if let Some(sheet) = w.sheet.as_mut() {
            sheet.row = SHEET_ROWS;
        }
        w.row(&[Cell::Count(7)]).unwrap();
        w.save(&path).unwrap();
        let mut book: Xlsx<_> = open_workbook(&path).unwrap();
        assert_eq!(book.sheet_names(), ["Audit log", "Audit log (2)"]);
        let sheet = book.worksheet_range("Audit log (2)").unwrap();
        assert_eq!(sheet.get_value((0, 0)), Some(&Data::String("n".into())));
        assert_eq!(sheet.get_value((1, 0)).map(number), Some(7.0));
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
