use super::*;
use opsdeck_domain::{BrandKind, Currency, Thresholds};

pub(crate) fn brand() -> Brand {
    Brand {
        id: opsdeck_domain::BrandId::parse("pharma").unwrap(),
        name: "Pharma".into(),
        kind: BrandKind::Standard,
        time_zone: jiff::tz::TimeZone::UTC,
        currency: Currency::USD,
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

const GOOD_ORDERS: &str = "\
external_id,name,created_at,total_price,financial_status,tags,customer_email,line_sku,line_title,line_quantity,line_price,line_id
1001,#1001,2026-06-10T10:00:00Z,49.90,paid,\"rx, repeat\",a@example.com,AMOX,Amoxicillin,2,24.95,l1
1002,#1002,2026-06-10T11:00:00Z,10.00,paid,,,VITD,Vitamin D,1,5.00,l2
1002,#1002,2026-06-10T11:00:00Z,10.00,paid,,,ZINC,Zinc,1,5.00,l3
";

/// Line 3 holds a quoted note over two lines, so the bad rows after it
/// are on lines 5 and 6 of the file (rows 3 and 4).
const BAD_ORDERS: &str = "\
external_id,name,created_at,total_price,financial_status,cancel_reason,line_id,line_title,line_quantity,line_price
2001,#2001,2026-06-10T10:00:00Z,49.90,paid,,l1,A,1,49.90
2002,#2002,2026-06-10T10:00:00Z,5.00,paid,\"customer wrote:
please cancel\",l2,B,1,5.00
2003,#2003,2026-06-10 10:00,5.00,paid,,l3,C,two,5.00
2004,#2004,2026-06-10T10:00:00Z,5.001,paid,,l4,D,1,5.00
";

async fn run(
    csv: &str,
    kind: ImportKind,
    options: ImportOptions,
) -> (
    ImportReport,
    std::sync::Arc<dyn Store>,
    opsdeck_store::testing::TempGuard,
) {
    let (store, guard) = opsdeck_store::testing::sqlite_temp().await;
    let path = guard.dir().join("import.csv");
    std::fs::write(&path, csv).unwrap();
    let source = SourceId::parse("ingest-pharma").unwrap();
    let report = import_file(store.as_ref(), &brand(), &source, kind, &path, options)
        .await
        .unwrap();
    (report, store, guard)
}

#[tokio::test]
async fn a_good_file_is_imported_and_rerunning_is_idempotent() {
    let (report, store, guard) =
        run(GOOD_ORDERS, ImportKind::Orders, ImportOptions::default()).await;
    assert!(report.invalid_rows.is_empty(), "{:?}", report.invalid_rows);
    assert_eq!(
        (report.rows, report.valid_records, report.inserted),
        (3, 2, 2)
    );
    let source = SourceId::parse("ingest-pharma").unwrap();
    let orders = store.list_orders(&source).await.unwrap();
    assert_eq!(orders[0].tags, ["rx", "repeat"]);
    assert_eq!(
        orders[0].email.as_deref(),
        Some("a@example.com"),
        "an email without a customer id"
    );
    assert_eq!(
        orders[1].line_items.len(),
        2,
        "rows with the same id are one order"
    );
    assert_eq!(orders[1].total_price.minor, 10_00);
    let path = guard.dir().join("import.csv");
    let again = import_file(
        store.as_ref(),
        &brand(),
        &source,
        ImportKind::Orders,
        &path,
        ImportOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 2));
}

#[tokio::test]
async fn bad_rows_are_listed_by_line_and_nothing_is_written() {
    let (report, store, _guard) =
        run(BAD_ORDERS, ImportKind::Orders, ImportOptions::default()).await;
    let listed: Vec<String> = report.invalid_rows.iter().map(|e| e.to_string()).collect();
    assert_eq!(listed.len(), 3, "{listed:#?}");
    assert!(
        listed[0].starts_with("line 5, column line_quantity: \"two\" is not a whole number"),
        "{listed:#?}"
    );
    assert!(
        listed[1].starts_with("line 5, column created_at: \"2026-06-10 10:00\" is not an RFC 3339"),
        "{listed:#?}"
    );
    assert!(
        listed[2]
            .starts_with("line 6, column total_price: amount \"5.001\" has more decimal places"),
        "{listed:#?}"
    );
    assert!(!report.written);
    assert_eq!(store.record_counts().await.unwrap().orders, 0);
}

#[tokio::test]
async fn skip_invalid_writes_only_the_good_rows() {
    let options = ImportOptions {
        skip_invalid: true,
        ..Default::default()
    };
    let (report, store, _guard) = run(BAD_ORDERS, ImportKind::Orders, options).await;
    assert_eq!(
        (
            report.valid_records,
            report.inserted,
            report.invalid_rows.len()
        ),
        (2, 2, 3)
    );
    let ids: Vec<String> = store
        .list_orders(&SourceId::parse("ingest-pharma").unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.external_id)
        .collect();
    assert_eq!(ids, ["2001", "2002"]);
}

#[tokio::test]
async fn dry_run_validates_and_writes_nothing() {
    let options = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    let (report, store, _guard) = run(GOOD_ORDERS, ImportKind::Orders, options).await;
    assert_eq!((report.valid_records, report.written), (2, false));
    assert_eq!(store.latest_seq().await.unwrap(), 0);
}

#[tokio::test]
async fn products_and_inventory_and_unknown_columns() {
    let products =
        "external_id,title,created_at,variant_id,variant_title,sku,price,inventory_tracked\n\
        p1,Amoxicillin,2026-06-01T00:00:00Z,v1,20 caps,AMOX,24.95,yes\n\
        p1,Amoxicillin,2026-06-01T00:00:00Z,v2,40 caps,AMOX40,44.95,maybe\n";
    let (report, _, _g) = run(products, ImportKind::Products, ImportOptions::default()).await;
    assert_eq!(
        report
            .invalid_rows
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>(),
        ["line 3, column inventory_tracked: \"maybe\" is not true or false"]
    );
    let inventory =
        "inventory_item_id,location_id,available,updated_at\nii1,wh1,40,2026-06-10T10:00:00Z\n";
    let (report, store, _g) = run(inventory, ImportKind::Inventory, ImportOptions::default()).await;
    assert_eq!(report.inserted, 1);
    assert_eq!(
        store
            .list_inventory_levels(&SourceId::parse("ingest-pharma").unwrap())
            .await
            .unwrap()[0]
            .external_id,
        "ii1:wh1"
    );
    let (report, _, _g) = run(
        "external_id,colour\n1,red\n",
        ImportKind::Orders,
        ImportOptions::default(),
    )
    .await;
    assert!(report.invalid_rows[0]
        .to_string()
        .starts_with("line 1: unknown column(s) colour"));
}

/// Issue 11.4 / 11.5: a CSV file with values no merchant has is refused
/// row by row, naming the column and the bound, and nothing is written.
#[tokio::test]
async fn values_beyond_their_bounds_are_refused_naming_the_column() {
    let long_name = "n".repeat(2_000);
    let csv = format!(
        "external_id,name,created_at,total_price,financial_status,line_id,line_title,line_quantity,line_price\n\
         3001,#3001,2026-06-10T10:00:00Z,92233720368547758.07,paid,l1,A,1,1.00\n\
         3002,#3002,2026-06-10T10:00:00Z,+5.00,paid,l2,B,1,1.00\n\
         3003,#3003,2026-06-10T10:00:00Z, 5.00,paid,l3,C,1,1.00\n\
         3004,#3004,0000-06-10T10:00:00Z,5.00,paid,l4,D,1,1.00\n\
         3005,#3005,2026-06-10T10:00:00+25:00,5.00,paid,l5,E,1,1.00\n\
         3006,{long_name},2026-06-10T10:00:00Z,5.00,paid,l6,F,1,1.00\n"
    );
    let (report, store, _guard) = run(&csv, ImportKind::Orders, ImportOptions::default()).await;
    let listed: Vec<String> = report.invalid_rows.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        listed,
        [
            "line 2, column total_price: amount 92233720368547758.07 USD is beyond the limit of ±1000000000000.00 USD",
            "line 3, column total_price: amount \"+5.00\" is not a decimal number",
            "line 4, column total_price: amount \" 5.00\" is not a decimal number",
            "line 5, column created_at: 0000-06-10T10:00:00Z is outside the accepted years 2000-2099",
            "line 6, column created_at: \"2026-06-10T10:00:00+25:00\" has the offset +25:00; offsets run from -12:00 to +14:00",
            "line 7, column name: is 2000 bytes long; the limit is 1024 bytes",
        ]
    );
    assert!(!report.written);
    assert_eq!(store.record_counts().await.unwrap().orders, 0);
}
