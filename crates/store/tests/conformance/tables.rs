//! The record tables the store creates from its kinds' descriptors
//! (`kinds.rs`) agree with the ones its migrations made, and a database
//! missing a record table gets it from the descriptor.

use crate::fixtures::*;
use crate::ingest::{graphql_kinds, ingest_kinds};
use crate::raw_execute;
use opsdeck_domain::RecordKind;
use opsdeck_store::testing::{record_table_ddl, record_table_name, TestStore};
use opsdeck_store::Backend;
use sqlx::{Connection, Row};

/// A table as the catalog describes it, with its own name replaced by `T`
/// (so a table and its scratch copy compare equal): each column (name,
/// type, nullability, place in the primary key) in order, and each index
/// (name, definition) sorted by name.
#[derive(Debug, PartialEq)]
struct Shape {
    columns: Vec<String>,
    indexes: Vec<String>,
}

async fn shape(db: &TestStore, table: &str) -> Shape {
    let mut indexes = Vec::new();
    let columns;
    match db.store.backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            columns = sqlx::query(
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
            )
            .bind(table)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let (name, ty, not_null, pk): (String, String, i64, i64) =
                    (r.get(0), r.get(1), r.get(2), r.get(3));
                format!("{name} {ty} not_null={not_null} pk={pk}")
            })
            .collect();
            let list = sqlx::query("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
                .bind(table)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            for r in list {
                let (name, unique, origin): (String, i64, String) = (r.get(0), r.get(1), r.get(2));
                let cols: Vec<String> =
                    sqlx::query("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                        .bind(&name)
                        .fetch_all(&mut conn)
                        .await
                        .unwrap()
                        .iter()
                        .map(|c| c.get(0))
                        .collect();
                indexes.push(format!(
                    "{} unique={unique} origin={origin} ({})",
                    name.replace(table, "T"),
                    cols.join(", ")
                ));
            }
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            columns = sqlx::query(
                "SELECT column_name::text, data_type::text, is_nullable::text \
                 FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let (name, ty, nullable): (String, String, String) = (r.get(0), r.get(1), r.get(2));
                format!("{name} {ty} nullable={nullable}")
            })
            .collect();
            indexes = sqlx::query(
                "SELECT indexname::text, indexdef FROM pg_indexes \
                 WHERE schemaname = current_schema() AND tablename = $1",
            )
            .bind(table)
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let (name, def): (String, String) = (r.get(0), r.get(1));
                format!("{}: {}", name.replace(table, "T"), def.replace(table, "T"))
            })
            .collect();
        }
    }
    indexes.sort();
    Shape { columns, indexes }
}

pub(crate) async fn descriptors_declare_the_migrated_record_tables(db: &TestStore) {
    for kind in RecordKind::ALL {
        let table = record_table_name(kind);
        let scratch = format!("scratch_{table}");
        for sql in record_table_ddl(db.store.backend(), kind, &scratch) {
            raw_execute(db, &sql).await;
        }
        let migrated = shape(db, table).await;
        assert!(
            !migrated.columns.is_empty(),
            "{}: no migrated table {table}",
            db.label
        );
        assert_eq!(
            shape(db, &scratch).await,
            migrated,
            "{}: the descriptor of {kind} (left) and its migrated table (right) differ",
            db.label
        );
    }
}

pub(crate) async fn missing_record_tables_are_created_from_descriptors(db: &TestStore) {
    for kind in RecordKind::ALL {
        raw_execute(db, &format!("DROP TABLE {}", record_table_name(kind))).await;
    }
    // Instances starting together on one database migrate at once: each
    // of these runs on its own pooled connection, and all must succeed.
    let (a, b, c, d) = tokio::join!(
        db.store.migrate(),
        db.store.migrate(),
        db.store.migrate(),
        db.store.migrate()
    );
    for result in [a, b, c, d] {
        result.unwrap();
    }
    let mut batch = one_of_each("2024-05-01T10:00:00.123456789Z");
    batch.extend(ingest_kinds("2024-05-01T10:00:00.123456789Z"));
    batch.extend(graphql_kinds("2024-05-01T10:00:00.123456789Z"));
    let kinds: std::collections::HashSet<_> = batch.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds.len(), RecordKind::COUNT, "a record of every kind");
    db.store.upsert(&batch, None).await.unwrap();
    let back: Vec<_> = db
        .store
        .changes_since(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch, "{}", db.label);
}
