//! `opsdeck import orders|products|inventory FILE --brand ID`: a CSV file
//! into the store, validated exactly like the ingest API.
//!
//! Each row (or group of rows: consecutive rows with the same `external_id`
//! are one order with several lines, or one product with several variants)
//! is turned into the ingest API's JSON record and read by the same code
//! (`opsdeck_sources::ingest::read_record`), so a CSV import and an API push of
//! the same data store the same records. Column sets: docs/import.md.
//!
//! The whole file is validated before anything is written. Every invalid
//! row is listed with its line number (the line its record starts on, so
//! quoted multi-line fields do not shift the count), the column and the
//! reason. With any invalid row nothing is written, unless `--skip-invalid`
//! is given, which writes only the valid records. `--dry-run` validates and
//! counts without writing. Records are written in batches of
//! [`BATCH_SIZE`], each batch one transaction; records are keyed by (source,
//! external id), so re-running an import after a crash (or twice) writes
//! each record once.

mod rows;
#[cfg(test)]
pub(crate) mod tests;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use opsdeck_domain::{Brand, SourceId};
use opsdeck_sources::ingest::{read_record, IngestKind, Obj, Parsed, Problems, RecordContext};
use opsdeck_store::{AnyRecord, Store};
use std::io::IsTerminal;
use std::path::Path;

/// Records per transaction.
pub const BATCH_SIZE: usize = 500;

/// What the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Orders,
    Products,
    Inventory,
}

impl ImportKind {
    fn ingest_kind(self) -> IngestKind {
        match self {
            ImportKind::Orders => IngestKind::Orders,
            ImportKind::Products => IngestKind::Products,
            ImportKind::Inventory => IngestKind::InventoryLevels,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub skip_invalid: bool,
}

/// One problem of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line of the file where the row starts (line 1 is the header).
    pub line: u64,
    /// The column, when the problem is with one.
    pub column: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read (not counting the header).
    pub rows: u64,
    /// Valid records (an order with three line rows is one record).
    pub valid_records: u64,
    pub invalid_rows: Vec<RowError>,
    /// Whether anything was written (false for a dry run or a refused file).
    pub written: bool,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub stale: u64,
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// Reads, validates and (unless refused or a dry run) writes `path`.
#[tracing::instrument(skip_all, fields(kind = ?kind, brand = %brand.id, source = %source))]
pub async fn import_file(
    store: &dyn Store,
    brand: &Brand,
    source: &SourceId,
    kind: ImportKind,
    path: &Path,
    options: ImportOptions,
) -> anyhow::Result<ImportReport> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(size, "reading");
    let groups = rows::read_groups(kind, brand, bar.wrap_read(file))?;
    bar.finish_and_clear();

    let cx = RecordContext { source, brand };
    let mut report = ImportReport {
        rows: groups.rows,
        invalid_rows: groups.errors.clone(),
        ..Default::default()
    };
    let mut records: Vec<AnyRecord> = Vec::new();
    for group in &groups.groups {
        let problems = Problems::default();
        let parsed = Obj::new(&group.json, String::new(), &problems)
            .and_then(|obj| read_record(kind.ingest_kind(), &obj, &cx));
        let problems = problems.into_vec();
        if problems.is_empty() {
            if let Some(Parsed::Record(record)) = parsed {
                records.push(record);
            }
            continue;
        }
        for p in problems {
            let (line, column) = rows::locate(kind, group, &p.field);
            // A cell that did not parse was already reported and left out,
            // which the record reader then sees as missing: say it once.
            let known = |e: &RowError| e.line == line && e.column == column;
            if groups.errors.iter().any(known) {
                continue;
            }
            report.invalid_rows.push(RowError {
                line,
                column,
                reason: p.reason,
            });
        }
    }
    report.invalid_rows.sort_by_key(|e| e.line);
    report.valid_records = records.len() as u64;
    if options.dry_run || (!report.invalid_rows.is_empty() && !options.skip_invalid) {
        return Ok(report);
    }
    let bar = progress(records.len() as u64, "writing");
    for batch in records.chunks(BATCH_SIZE) {
        let r = store.upsert(batch, None).await.context(
            "writing a batch failed; batches before it are stored, re-run the import to finish",
        )?;
        report.inserted += r.inserted() as u64;
        report.updated += r.updated() as u64;
        report.unchanged += r.unchanged() as u64;
        report.stale += r.stale() as u64;
        report.written = true;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    Ok(report)
}

/// `opsdeck import KIND FILE --brand ID …`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// What the file holds: orders, products or inventory (columns: docs/import.md).
    #[arg(value_parser = ["orders", "products", "inventory"])]
    pub kind: String,
    /// The CSV file (UTF-8, header line first).
    pub file: std::path::PathBuf,
    /// The brand the records belong to.
    #[arg(long)]
    pub brand: String,
    /// Validate and count, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the valid records even when some rows are invalid.
    #[arg(long)]
    pub skip_invalid: bool,
    #[arg(long, short, default_value = "opsdeck.toml")]
    pub config: std::path::PathBuf,
}

/// Runs an import; `Ok(false)` when rows were invalid (the exit code says so).
pub async fn run(args: ImportArgs, config: &crate::config::Config) -> anyhow::Result<bool> {
    let brand = config
        .brands
        .iter()
        .find(|b| b.id.as_str() == args.brand)
        .with_context(|| format!("unknown brand {:?}", args.brand))?;
    let kind = match args.kind.as_str() {
        "orders" => ImportKind::Orders,
        "products" => ImportKind::Products,
        _ => ImportKind::Inventory,
    };
    let source = crate::tokens_cli::default_source(brand)?;
    let store = crate::app::open_store(config).await?;
    let options = ImportOptions {
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
    };
    let report = import_file(store.as_ref(), brand, &source, kind, &args.file, options).await?;
    for e in &report.invalid_rows {
        eprintln!("{}: {e}", args.file.display());
    }
    println!(
        "{} rows, {} valid records, {} invalid rows",
        report.rows,
        report.valid_records,
        report.invalid_rows.len()
    );
    if report.written {
        println!(
            "written to {source}: {} inserted, {} updated, {} unchanged, {} stale",
            report.inserted, report.updated, report.unchanged, report.stale
        );
    } else if args.dry_run {
        println!("dry run: nothing written");
    } else if args.skip_invalid && report.valid_records == 0 {
        println!("nothing written: no row is valid");
    } else if !report.invalid_rows.is_empty() {
        println!("nothing written: fix the rows above, or pass --skip-invalid to write only the valid ones");
    }
    Ok(report.invalid_rows.is_empty())
}
