//! The standing robustness suite for the binary's own doors (issue 11):
//! configuration files and CSV imports under generated hostile input.
//!
//! - A configuration, however mangled, parses or is refused with every
//!   problem named by line and key, briefly — never a panic.
//! - A CSV file, however hostile its cells, is imported or refused row by
//!   row naming line and column, and a refused file writes nothing.
//!
//! 64 cases per property by default (CI); a deeper run:
//! `PROPTEST_CASES=2000 cargo test -p opsdeck --test it hostile_input`.

use crate::helpers::Secrets;
use opsdeck::config::{parse_config, EXAMPLE_CONFIG};
use opsdeck::import::{import_file, ImportKind, ImportOptions};
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, SourceId, Thresholds};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        config.cases = 64;
    }
    config.failure_persistence = None;
    config
}

/// Every secret the example names is set; files are not found.
const ANY_SECRET: Secrets = Secrets::any("s3cret-value");

/// Text a hostile or careless hand puts in a configuration line.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,80}",
        Just("\"".to_string()),
        Just("[[brands]]".to_string()),
        Just("= = =".to_string()),
        Just("key = \"\\u0000\"".to_string()),
        Just("currency = \"EURO\"".to_string()),
        Just("time_zone = \"Mars/Olympus\"".to_string()),
        Just("base_url = \"http://example.com\"".to_string()),
        Just("session_idle_timeout = \"-1m\"".to_string()),
        (1usize..200).prop_map(|n| format!("{}1{}", "[".repeat(n), "]".repeat(n))),
        (1usize..100_000).prop_map(|n| format!("name = \"{}\"", "x".repeat(n))),
    ]
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, String),
    Insert(usize, String),
    Delete(usize),
    ReplaceValue(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let lines = EXAMPLE_CONFIG.lines().count().max(1);
    prop_oneof![
        (0..lines, hostile_text()).prop_map(|(i, t)| Edit::Replace(i, t)),
        (0..lines, hostile_text()).prop_map(|(i, t)| Edit::Insert(i, t)),
        (0..lines).prop_map(Edit::Delete),
        (0..lines, hostile_text()).prop_map(|(i, t)| Edit::ReplaceValue(i, t)),
    ]
}

fn apply(edits: &[Edit]) -> String {
    let mut lines: Vec<String> = EXAMPLE_CONFIG.lines().map(str::to_string).collect();
    for e in edits {
        let n = lines.len().max(1);
        match e {
            Edit::Replace(i, t) if !lines.is_empty() => lines[i % n] = t.clone(),
            Edit::Insert(i, t) => lines.insert(i % (lines.len() + 1), t.clone()),
            Edit::Delete(i) if !lines.is_empty() => {
                lines.remove(i % n);
            }
            Edit::ReplaceValue(i, t) if !lines.is_empty() => {
                let line = &mut lines[i % n];
                if let Some((key, _)) = line.split_once('=') {
                    *line = format!("{key}= {t}");
                }
            }
            _ => {}
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn configuration_files_parse_or_name_every_problem_briefly(
        edits in proptest::collection::vec(edit(), 1..5),
    ) {
        let text = apply(&edits);
        if let Err(problems) = parse_config(&text, &ANY_SECRET) {
            prop_assert!(!problems.is_empty());
            for p in &problems {
                let shown = p.to_string();
                prop_assert!(!p.message.is_empty(), "{shown}");
                prop_assert!(!shown.contains("s3cret-value"), "a secret in {shown}");
                prop_assert!(shown.len() < 4_000, "a problem of {} bytes", shown.len());
            }
        }
    }
}

fn brand() -> Brand {
    Brand {
        id: BrandId::parse("pharma").unwrap(),
        name: "Pharma".into(),
        kind: BrandKind::Standard,
        time_zone: jiff::tz::TimeZone::UTC,
        currency: Currency::USD,
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

/// A cell a spreadsheet (or an attacker) may hold.
fn hostile_cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,30}",
        any::<String>(),
        "[ +\\-]{0,2}[0-9]{0,22}(\\.[0-9]{0,5})?",
        "(0000|1999|2026|2100)-(01|13)-(01|31)T(00|24):00:00(Z|[+-](00|14|25):00)?",
        Just("=HYPERLINK(\"http://evil.example\")".to_string()),
        Just("\"".to_string()),
        (1usize..3_000).prop_map(|n| "x".repeat(n)),
    ]
}

const HEADER: &str = "external_id,name,created_at,total_price,financial_status,tags,line_id,line_title,line_quantity,line_price";
const GOOD_ROW: [&str; 10] = [
    "1001",
    "#1001",
    "2026-06-10T10:00:00Z",
    "49.90",
    "paid",
    "rx",
    "l1",
    "Amoxicillin",
    "2",
    "49.90",
];

fn csv_cell(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[test]
fn csv_rows_import_or_are_refused_naming_line_and_column_writing_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // One store for every case (a fresh one per case costs 100 ms): each
    // case checks what it added.
    let (store, guard) = rt.block_on(opsdeck_store::testing::sqlite_temp());
    let path = guard.dir().join("import.csv");
    let source = SourceId::parse("ingest-pharma").unwrap();
    let strategy = proptest::collection::vec((0..GOOD_ROW.len(), hostile_cell()), 1..4);
    let mut runner = TestRunner::new(config());
    runner
        .run(&strategy, |edits| {
            let mut row: Vec<String> = GOOD_ROW.iter().map(|c| c.to_string()).collect();
            for (i, cell) in edits {
                row[i] = cell;
            }
            let line: Vec<String> = row.iter().map(|c| csv_cell(c)).collect();
            let csv = format!("{HEADER}\n{}\n", line.join(","));
            rt.block_on(async {
                let before = store.record_counts().await.unwrap().orders;
                std::fs::write(&path, &csv).unwrap();
                let report = import_file(
                    store.as_ref(),
                    &brand(),
                    &source,
                    ImportKind::Orders,
                    &path,
                    ImportOptions::default(),
                )
                .await;
                let report = match report {
                    Ok(r) => r,
                    // A file the CSV reader cannot read is refused whole.
                    Err(e) => {
                        prop_assert!(!e.to_string().is_empty());
                        prop_assert_eq!(store.record_counts().await.unwrap().orders, before);
                        return Ok(());
                    }
                };
                let orders = store.record_counts().await.unwrap().orders;
                if report.invalid_rows.is_empty() {
                    prop_assert!(orders == before || orders == before + 1);
                    for stored in store.list_orders(&source).await.unwrap() {
                        let outside = opsdeck_domain::Bounded::check(&stored);
                        prop_assert!(outside.is_empty(), "{outside:?}");
                    }
                } else {
                    prop_assert!(!report.written);
                    prop_assert_eq!(orders, before);
                    for e in &report.invalid_rows {
                        prop_assert!(e.line >= 2);
                        prop_assert!(e.to_string().len() < 2_000, "{} bytes", e.to_string().len());
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}
