//! The file formats a report is rendered to, and one writer over them that
//! an export fills section by section, streaming its long tables row by
//! row without holding them.

use crate::document::{Cell, Column, Report, Section};
use crate::xlsx::XlsxWriter;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Csv, Format::Xlsx];

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The names [`Format::parse`] accepts, for an error message.
    pub fn names() -> String {
        Format::ALL.map(Format::as_str).join(", ")
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("writing the file: {0}")]
    Io(#[from] io::Error),
    #[error("writing the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// A report file being written.
pub struct Renderer {
    zone: jiff::tz::TimeZone,
    out: Out,
    /// Columns of the table being streamed (CSV repeats them per row).
    streamed: Vec<Column>,
}

enum Out {
    Csv(BufWriter<File>),
    Xlsx(Box<XlsxWriter>, PathBuf),
}

impl Renderer {
    /// Starts a file at `path` for a report headed by `report`'s title
    /// (its sections are not written: call [`Renderer::section`]).
    pub fn create(format: Format, path: &Path, report: &Report) -> Result<Self, RenderError> {
        let zone = jiff::tz::TimeZone::get(&report.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let out = match format {
            Format::Csv => {
                let mut file = BufWriter::new(File::create(path)?);
                file.write_all(crate::csv::line(&[&report.title, &report.subtitle]).as_bytes())?;
                Out::Csv(file)
            }
            Format::Xlsx => Out::Xlsx(
                Box::new(XlsxWriter::new(&report.time_zone)),
                path.to_path_buf(),
            ),
        };
        Ok(Renderer {
            zone,
            out,
            streamed: Vec::new(),
        })
    }

    pub fn section(&mut self, section: &Section) -> Result<(), RenderError> {
        match &mut self.out {
            Out::Csv(file) => crate::csv::write_section(section, &self.zone, file)?,
            Out::Xlsx(x, _) => x.section(section)?,
        }
        Ok(())
    }

    /// Starts a streamed table (a sheet of its own in XLSX).
    pub fn begin_table(&mut self, title: &str, columns: &[Column]) -> Result<(), RenderError> {
        self.streamed = columns.to_vec();
        match &mut self.out {
            Out::Csv(file) => {
                file.write_all(b"\r\n")?;
                file.write_all(crate::csv::line(&[title]).as_bytes())?;
                crate::csv::write_header(columns, file)?;
            }
            Out::Xlsx(x, _) => x.begin_table(title, columns)?,
        }
        Ok(())
    }

    /// One row of the streamed table.
    pub fn row(&mut self, cells: &[Cell]) -> Result<(), RenderError> {
        match &mut self.out {
            Out::Csv(file) => crate::csv::write_row(&self.streamed, cells, &self.zone, file)?,
            Out::Xlsx(x, _) => x.row(cells)?,
        }
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(self) -> Result<(), RenderError> {
        match self.out {
            Out::Csv(mut file) => file.flush()?,
            Out::Xlsx(x, path) => x.save(&path)?,
        }
        Ok(())
    }
}

/// `report` as a `format` file at `path`.
pub fn write_file(report: &Report, format: Format, path: &Path) -> Result<(), RenderError> {
    let mut r = Renderer::create(format, path, report)?;
    for section in &report.sections {
        r.section(section)?;
    }
    r.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{ColumnKind, Fact, Table};
    use calamine::{open_workbook, Data, Reader, Xlsx};
    use opsdeck_domain::{Currency, Money};

    fn report() -> Report {
        let mut section = Section::new("fulfillment", "Fulfillment pipeline");
        section.facts.push(Fact {
            label: "Revenue".into(),
            value: Cell::Money(Money::new(413_793, Currency::USD)),
        });
        section.tables.push(Table {
            title: None,
            columns: vec![
                Column {
                    name: "Order".into(),
                    kind: ColumnKind::Text,
                },
                Column {
                    name: "Value".into(),
                    kind: ColumnKind::Money,
                },
            ],
            rows: vec![vec![
                Cell::Text("#4137".into()),
                Cell::Money(Money::new(413_793, Currency::USD)),
            ]],
        });
        Report {
            title: "Export".into(),
            subtitle: "All brands".into(),
            generated_at: "2026-12-07T07:00:00Z".parse().unwrap(),
            time_zone: "UTC".into(),
            sections: vec![section],
        }
    }

    #[test]
    fn formats_parse_by_name_and_name_the_others() {
        assert_eq!(Format::parse("xlsx"), Some(Format::Xlsx));
        assert_eq!(Format::parse("pdf"), None);
        assert_eq!(Format::names(), "csv, xlsx");
    }

    #[test]
    fn a_report_without_money_has_no_amount_in_either_format() {
        let dir = std::env::temp_dir().join(format!("opsdeck-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (with_money, name) in [(true, "with"), (false, "without")] {
            let report = if with_money {
                report()
            } else {
                report().without_money()
            };
            let csv = dir.join(format!("{name}.csv"));
            write_file(&report, Format::Csv, &csv).unwrap();
            let text = std::fs::read_to_string(&csv).unwrap();
            assert_eq!(text.contains("4137.93"), with_money, "{text}");
            let xlsx = dir.join(format!("{name}.xlsx"));
            write_file(&report, Format::Xlsx, &xlsx).unwrap();
            let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
            let sheet = book.worksheet_range("Fulfillment pipeline").unwrap();
            let amounts = sheet
                .cells()
                .filter(|(_, _, d)| matches!(d, Data::Float(f) if (*f - 4137.93).abs() < 1e-9))
                .count();
            assert_eq!(amounts > 0, with_money);
            let hidden = sheet
                .cells()
                .any(|(_, _, d)| d == &Data::String("your role may not see revenue".into()));
            assert_eq!(hidden, !with_money, "the gap says why");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_streamed_csv_table_writes_each_row_as_it_comes() {
        let dir = std::env::temp_dir().join(format!("opsdeck-render-s-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.csv");
        let mut r = Renderer::create(Format::Csv, &path, &report()).unwrap();
        let columns = crate::sections::audit::columns();
        r.begin_table("Audit log", &columns).unwrap();
        for i in 0..3 {
            r.row(&[
                Cell::Time("2026-12-07T06:00:00Z".parse().unwrap()),
                Cell::Text(format!("=user{i}")),
                Cell::Text("login.success".into()),
                Cell::Text("user:x".into()),
                Cell::Text("{}".into()),
                Cell::Empty,
            ])
            .unwrap();
        }
        r.finish().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("Audit log\r\nat,actor,action,subject,payload,ip\r\n"),
            "{text}"
        );
        assert!(
            text.contains("2026-12-07T06:00:00+00:00,'=user2,login.success,user:x,{},\r\n"),
            "{text}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
