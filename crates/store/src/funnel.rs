//! Storage of the storefront funnel (migration 0021): one row per brand,
//! local day and session, holding the funnel steps the session reached
//! that day as bits (`opsdeck_domain::funnel::Steps`).
//!
//! The rule the store keeps: adding steps is a bitwise OR, so writing the
//! same steps again changes nothing (and reports "unchanged"), whatever the
//! order events arrive in. The day is the caller's (the brand's local day,
//! computed where the brand's zone is known); the store only groups by it.
//!
//! Also here: the creation times of a brand's abandoned checkouts (the
//! Shopify sync keeps them as records), for the funnel's "abandoned
//! checkouts" column, read through the `abandoned_checkouts` table's
//! `brand_created` index.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{from_micros, micros, text};
use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use opsdeck_domain::BrandId;
use serde::Serialize;

/// One session's steps on one local day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDay {
    pub brand: BrandId,
    /// The brand's local day, `YYYY-MM-DD`.
    pub day: String,
    pub session_key: i64,
    /// `Steps` bits to add.
    pub steps: u8,
}

/// What writing a batch of session-days did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FunnelWrite {
    /// Rows created or given a step they did not have.
    pub changed: u64,
    /// Rows that already had every step (repeats, duplicates).
    pub unchanged: u64,
}

/// One brand's funnel on one local day: session-days by step reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunnelDayCounts {
    /// `YYYY-MM-DD`, the brand's local day.
    pub day: String,
    pub sessions: i64,
    pub added_to_cart: i64,
    pub checkout_started: i64,
    pub checkout_completed: i64,
}

/// An abandoned checkout's creation, and its completion when the buyer
/// came back and paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbandonedAt {
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
}

/// The funnel's tables. Every [`crate::Store`] implements it.
#[async_trait]
pub trait FunnelStore: Send + Sync {
    /// Merges each row's steps into the stored row by a bitwise OR (the
    /// row created when missing), in one transaction: all or nothing.
    async fn funnel_add(&self, rows: &[SessionDay]) -> Result<FunnelWrite>;

    /// Counts per local day `from..=to` (`YYYY-MM-DD`) of `brand`, days
    /// without a session left out, oldest first.
    async fn funnel_days(
        &self,
        brand: &BrandId,
        from: &str,
        to: &str,
    ) -> Result<Vec<FunnelDayCounts>>;

    /// The abandoned checkouts of `brand` created in `[from, to)`.
    async fn abandoned_checkouts_created(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<AbandonedAt>>;
}

/// The step bits the day counts read (see `opsdeck_domain::funnel::Steps`).
const CART_BIT: i64 = 2;
const CHECKOUT_BIT: i64 = 4;
const COMPLETED_BIT: i64 = 8;

fn day_counts(row: &Row) -> Result<FunnelDayCounts> {
    Ok(FunnelDayCounts {
        day: row.text("day")?,
        sessions: row.int("sessions")?,
        added_to_cart: row.int("added_to_cart")?,
        checkout_started: row.int("checkout_started")?,
        checkout_completed: row.int("checkout_completed")?,
    })
}

#[async_trait]
impl<D: Db> FunnelStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(rows = rows.len()))]
    async fn funnel_add(&self, rows: &[SessionDay]) -> Result<FunnelWrite> {
        let mut tx = self.db.begin().await?;
        let mut report = FunnelWrite::default();
        for r in rows {
            // The WHERE makes a row that already has every step an
            // unchanged row (0 affected) on both backends.
            let changed = tx
                .execute(
                    "INSERT INTO funnel_sessions (brand_id, day, session_key, steps) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (brand_id, day, session_key) DO UPDATE \
                     SET steps = funnel_sessions.steps | excluded.steps \
                     WHERE (funnel_sessions.steps | excluded.steps) <> funnel_sessions.steps",
                    &[
                        text(r.brand.as_str()),
                        text(&r.day),
                        Value::Int(Some(r.session_key)),
                        Value::Int(Some(i64::from(r.steps))),
                    ],
                )
                .await?;
            if changed == 0 {
                report.unchanged += 1;
            } else {
                report.changed += 1;
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn funnel_days(
        &self,
        brand: &BrandId,
        from: &str,
        to: &str,
    ) -> Result<Vec<FunnelDayCounts>> {
        let sql = format!(
            "SELECT day, COUNT(*) AS sessions, \
             SUM(CASE WHEN (steps & {CART_BIT}) <> 0 THEN 1 ELSE 0 END) AS added_to_cart, \
             SUM(CASE WHEN (steps & {CHECKOUT_BIT}) <> 0 THEN 1 ELSE 0 END) AS checkout_started, \
             SUM(CASE WHEN (steps & {COMPLETED_BIT}) <> 0 THEN 1 ELSE 0 END) AS checkout_completed \
             FROM funnel_sessions WHERE brand_id = $1 AND day >= $2 AND day <= $3 \
             GROUP BY day ORDER BY day"
        );
        let rows = self
            .db
            .fetch(
                &sql,
                &[text(brand.as_str()), text(from), text(to)],
                &[Col::Text, Col::Int, Col::Int, Col::Int, Col::Int],
            )
            .await?;
        rows.iter().map(day_counts).collect()
    }

    async fn abandoned_checkouts_created(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<AbandonedAt>> {
        let rows = self
            .db
            .fetch(
                "SELECT external_id, created_at_us, completed_at_us FROM abandoned_checkouts \
                 WHERE brand_id = $1 AND created_at_us >= $2 AND created_at_us < $3 \
                 ORDER BY created_at_us",
                &[
                    text(brand.as_str()),
                    Value::Int(Some(micros(from))),
                    Value::Int(Some(micros(to))),
                ],
                &[Col::Text, Col::Int, Col::Int],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let id = row.text("external_id")?;
                Ok(AbandonedAt {
                    created_at: from_micros(row.int("created_at_us")?, "abandoned_checkout", &id)?,
                    completed_at: row
                        .opt_int("completed_at_us")
                        .map(|us| from_micros(us, "abandoned_checkout", &id))
                        .transpose()?,
                })
            })
            .collect()
    }
}
