//! The store conformance suite: every rule of the `Store` trait, checked the
//! same way on SQLite and on PostgreSQL.
//!
//! Each test body is an `async fn(&TestStore)`; `conformance!` generates a
//! `sqlite::NAME` and a `postgres::NAME` test for it. The PostgreSQL ones
//! print SKIPPED and pass when `OPSDECK_TEST_POSTGRES_URL` is unset (and
//! fail when CI also sets `OPSDECK_REQUIRE_POSTGRES=1`).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod alerts;
mod api_versions;
mod approvals;
mod decisions;
mod exports;
mod feed;
#[path = "../fixtures/mod.rs"]
mod fixtures;
mod funnel;
mod handover;
mod health_checks;
mod inbox;
mod ingest;
mod privacy;
mod queries;
mod report_runs;
mod tables;
mod upserts;
mod users;

use alerts::*;
use api_versions::*;
use approvals::*;
use decisions::*;
use exports::*;
use feed::*;
use funnel::*;
use handover::*;
use health_checks::*;
use inbox::*;
use ingest::*;
use privacy::*;
use queries::*;
use report_runs::*;
use tables::*;
use upserts::*;
use users::*;

use opsdeck_store::testing::TestStore;
use opsdeck_store::{Backend, UpsertOutcome};
use sqlx::Connection;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = opsdeck_store::testing::sqlite_store().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = opsdeck_store::testing::postgres_store().await else {
                        eprintln!(
                            "SKIPPED postgres::{}: set OPSDECK_TEST_POSTGRES_URL to run it",
                            stringify!($name)
                        );
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

conformance!(
    an_erased_person_is_stored_erased_whoever_brings_them_back,
    after_shop_redact_the_shops_records_are_stored_erased,
    upsert_is_idempotent,
    older_update_is_stale_and_ignored,
    a_field_only_one_face_carries_is_kept,
    newer_update_wins_with_a_new_seq,
    equal_time_different_content_updates,
    sub_microsecond_times_still_order_updates,
    duplicate_keys_in_one_batch_apply_in_order,
    change_feed_returns_later_writes_in_order,
    change_feed_limit_pages_through,
    latest_seq_counts_only_writes,
    failed_batch_leaves_nothing_written,
    failed_checkpoint_leaves_no_records,
    checkpoint_commits_with_the_batch,
    sync_state_round_trips_and_replaces,
    order_facts_window_is_half_open_without_test_orders,
    get_and_list_are_keyed_and_ordered,
    every_kind_round_trips_exactly,
    unknown_enum_values_round_trip,
    ids_above_2_pow_53_round_trip,
    record_counts_count_each_kind,
    concurrent_batches_get_distinct_ordered_seqs,
    ingest_kinds_round_trip_on_the_feed,
    ingest_kinds_ignore_older_updates,
    graphql_kinds_round_trip_counted_and_newer_wins,
    api_tokens_verify_revoke_and_audit,
    failed_token_insert_writes_no_audit_entry,
    ingest_notes_count_requests_and_errors,
    upsert_noting_ingest_counts_in_the_same_commit,
    alert_step_commits_whole_with_history,
    episode_severity_and_state_of_a_newer_version_are_kept,
    outbox_channels_read_back_as_written,
    outbox_claim_lease_and_finish,
    silences_by_window,
    leader_lease_is_exclusive_until_it_expires,
    inbox_dedupes_on_source_and_webhook_id,
    inbox_processed_events_leave_the_queue,
    inbox_failures_retry_later_then_give_up_visibly,
    inbox_recent_failures_are_listed_newest_first,
    inbox_large_batches_commit_whole,
    inbox_events_applied_with_their_records_in_one_commit,
    get_product_reads_one_product,
    users_are_created_once_and_audited,
    a_configured_role_name_is_stored_as_is,
    sessions_read_back_touch_and_end,
    password_change_and_disable_end_sessions_with_audit,
    audit_search_filters_and_prune_deletes_old,
    login_attacks_group_recent_reports_by_account,
    decisions_are_stored_with_their_audit_entry,
    failed_decision_audit_leaves_no_decision,
    descriptors_declare_the_migrated_record_tables,
    missing_record_tables_are_created_from_descriptors,
    api_version_notes_round_trip_and_replace,
    report_runs_are_scheduled_claimed_once_and_listed,
    approvals_round_trip_with_money_and_audit,
    approval_expiry_is_enforced_at_decision_time,
    concurrent_approval_decisions_record_exactly_one,
    approval_runs_are_claimed_once_and_finished_once,
    approvals_are_found_by_their_exact_subject,
    handovers_are_one_per_shift_and_change_by_version,
    an_unacknowledged_handover_is_notified_once_with_its_outbox_rows,
    funnel_steps_are_ored_per_session_day,
    abandoned_checkouts_are_read_by_brand_and_creation,
    a_checklist_item_is_checked_once_per_local_day,
    health_results_and_state_changes_round_trip_and_prune,
    export_jobs_are_claimed_once_and_finished_once,
    export_links_are_kept_by_hash_and_expire_with_the_file,
);

pub(crate) fn seqs_of(outcomes: &[UpsertOutcome]) -> Vec<u64> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            UpsertOutcome::Inserted { seq } | UpsertOutcome::Updated { seq } => Some(*seq),
            _ => None,
        })
        .collect()
}

/// Runs raw SQL on the test's own database, to break it on purpose.
pub(crate) async fn raw_execute(db: &TestStore, sql: &str) {
    match db.store.backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}
