//! Freeze flags, their delivery outbox and the storefront keys that read
//! them (issue 14, point 2). The rules — who may change a flag, when a
//! change needs approval, what a flag evaluates to — are
//! `opsdeck-operations::flags`'; this module only keeps them durable:
//!
//! - a flag change, its audit entry and the deliveries it owes (signed
//!   webhooks, shop metafields) commit in one transaction, so no change is
//!   made unaudited or without its receivers being owed it;
//! - a change names the version it replaces and is refused when another
//!   change got there first (two people switching one flag at once);
//! - storefront keys are hashed like API tokens ([`crate::tokens`]): the
//!   store never holds a key's secret.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros, opt_micros, text};
use crate::tokens::{
    audit_entry, audit_params, random_id_and_secret, secret_matches, sha256_hex, split_token_with,
    AuditEntry, AUDIT_COLS, AUDIT_INSERT, AUDIT_SELECT,
};
use crate::Result;
use async_trait::async_trait;
use opsdeck_domain::{BrandId, Secret, Timestamp};
use serde::Serialize;
use tracing::instrument;

opsdeck_domain::open_enum! {
    /// The flags opsdeck keeps, by their OFREP key. Each has one meaning a
    /// storefront can rely on; an unknown stored key (a newer version's)
    /// is kept as `Other` and never evaluated.
    pub enum FlagKey {
        /// Checkout is closed: the storefront stops taking orders.
        FreezeCheckout = "freeze-checkout",
        /// No refunds are issued (opsdeck's own refund actions refuse too).
        FreezeRefunds = "freeze-refunds",
        /// Prices must not change.
        FreezePrices = "freeze-prices",
        /// Content (pages, descriptions, images) must not change.
        FreezeContent = "freeze-content",
        /// Sales paused in the listed countries or regions.
        SalesPause = "sales-pause",
        /// A maintenance banner with its text.
        MaintenanceBanner = "maintenance-banner",
    }
}

impl FlagKey {
    /// Every flag opsdeck serves, in the order pages and OFREP list them.
    pub const ALL: [FlagKey; 6] = [
        FlagKey::FreezeCheckout,
        FlagKey::FreezeRefunds,
        FlagKey::FreezePrices,
        FlagKey::FreezeContent,
        FlagKey::SalesPause,
        FlagKey::MaintenanceBanner,
    ];

    /// The words a page shows.
    pub fn label(&self) -> &str {
        match self {
            FlagKey::FreezeCheckout => "Freeze checkout",
            FlagKey::FreezeRefunds => "Freeze refunds",
            FlagKey::FreezePrices => "Freeze prices",
            FlagKey::FreezeContent => "Freeze content",
            FlagKey::SalesPause => "Sales pause",
            FlagKey::MaintenanceBanner => "Maintenance banner",
            FlagKey::Other(other) => other,
        }
    }

    /// A key this version knows, or `None` (an unknown name from a request).
    pub fn known(name: &str) -> Option<FlagKey> {
        FlagKey::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A flag as it was last set. A flag never set has no row and reads as off.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagRecord {
    pub key: FlagKey,
    /// Switched on (before its automatic end is considered).
    pub on: bool,
    /// The countries (ISO 3166-1 alpha-2) or regions a sales pause covers;
    /// empty for the other flags.
    pub targets: Vec<String>,
    /// The maintenance banner's text.
    pub text: Option<String>,
    /// Why it was set, in the words of the person who set it.
    pub reason: String,
    pub set_by: String,
    pub set_at: Timestamp,
    /// When it turns itself off; past it the flag reads as off.
    pub ends_at: Option<Timestamp>,
    /// 1 for the first change, one more for each change after.
    pub version: i64,
}

/// Who a flag change is owed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub enum DeliveryTarget {
    /// A configured webhook receiver, by its configured name.
    Webhook(String),
    /// The shop metafield of a Shopify brand.
    ShopifyMetafield(BrandId),
}

impl DeliveryTarget {
    /// The stored form: `webhook:NAME` or `shopify:BRAND`.
    pub fn as_column(&self) -> String {
        match self {
            DeliveryTarget::Webhook(name) => format!("webhook:{name}"),
            DeliveryTarget::ShopifyMetafield(brand) => format!("shopify:{brand}"),
        }
    }

    pub fn parse(s: &str) -> std::result::Result<DeliveryTarget, String> {
        match s.split_once(':') {
            Some(("webhook", name)) if !name.is_empty() => Ok(DeliveryTarget::Webhook(name.into())),
            Some(("shopify", brand)) => BrandId::parse(brand)
                .map(DeliveryTarget::ShopifyMetafield)
                .map_err(|e| e.to_string()),
            _ => Err(format!(
                "delivery target {s:?} is not webhook:NAME or shopify:BRAND"
            )),
        }
    }
}

impl From<DeliveryTarget> for String {
    fn from(t: DeliveryTarget) -> String {
        t.as_column()
    }
}

impl std::fmt::Display for DeliveryTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_column())
    }
}

/// One delivery a change owes: to whom, and what to send.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFlagDelivery {
    pub target: DeliveryTarget,
    pub payload: serde_json::Value,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Given up on (refused by the receiver, or out of attempts).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlagDelivery {
    pub id: i64,
    pub target: DeliveryTarget,
    pub key: FlagKey,
    pub version: i64,
    pub payload: serde_json::Value,
    pub status: DeliveryStatus,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryAttempt {
    Delivered,
    /// Try again at `next_at`; `error` is kept (it holds no secret).
    Retry {
        next_at: Timestamp,
        error: String,
    },
    /// Given up on.
    Failed {
        error: String,
    },
}

/// How deliveries to one target stand, for /sources.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetHealth {
    pub target: DeliveryTarget,
    pub last_delivered_at: Option<Timestamp>,
    pub pending: i64,
    pub failed: i64,
    /// The newest attempt that failed, and when, if any attempt did.
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
}

/// The prefix of storefront keys (`ofk_<id>_<secret>`): not an ingest
/// token's, so neither kind of key opens the other's door.
pub const STOREFRONT_KEY_PREFIX: &str = "ofk_";

/// A storefront key, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorefrontKey {
    pub id: String,
    /// What it is for, e.g. "eu storefront".
    pub name: String,
    pub created_at: Timestamp,
    pub created_by: String,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A freshly generated storefront key: the row to store and the whole key
/// to show once.
#[derive(Debug)]
pub struct NewStorefrontKey {
    pub key: StorefrontKey,
    /// `ofk_<id>_<secret>`; never stored, logged or shown again.
    pub plaintext: Secret,
    secret_sha256: String,
}

impl NewStorefrontKey {
    pub fn generate(name: &str, created_by: &str, now: Timestamp) -> Self {
        let (id, secret) = random_id_and_secret();
        NewStorefrontKey {
            plaintext: Secret::new(format!("{STOREFRONT_KEY_PREFIX}{id}_{secret}")),
            secret_sha256: sha256_hex(&secret),
            key: StorefrontKey {
                id,
                name: name.to_string(),
                created_at: now,
                created_by: created_by.to_string(),
                last_used_at: None,
                revoked_at: None,
            },
        }
    }
}

/// Whether a presented storefront key opens the flags. Every refusal is
/// the same 401 to the caller; the variants are for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    Valid(StorefrontKey),
    /// Not shaped like a key, unknown id, or wrong secret.
    Invalid,
    Revoked,
}

const FLAG_SELECT: &str = "SELECT flag_key, is_on, targets, banner_text, reason, set_by, \
    set_at_us, ends_at_us, version FROM flags";
const FLAG_COLS: [Col; 9] = [
    Col::Text,
    Col::Bool,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
];

fn flag_from_row(row: &Row) -> Result<FlagRecord> {
    const KIND: &str = "flag";
    let key = row.text("flag_key")?;
    Ok(FlagRecord {
        on: row.bool("is_on")?,
        targets: serde_json::from_str(&row.text("targets")?).map_err(|e| corrupt(KIND, &key, e))?,
        text: row.opt_text("banner_text"),
        reason: row.text("reason")?,
        set_by: row.text("set_by")?,
        set_at: from_micros(row.int("set_at_us")?, KIND, &key)?,
        ends_at: row
            .opt_int("ends_at_us")
            .map(|us| from_micros(us, KIND, &key))
            .transpose()?,
        version: row.int("version")?,
        key: FlagKey::parse(&key),
    })
}

const DELIVERY_SELECT: &str = "SELECT id, target, flag_key, version, payload, status, attempts, \
    next_attempt_us, last_error, created_at_us, delivered_at_us FROM flag_deliveries";
const DELIVERY_COLS: [Col; 11] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
];

fn delivery_from_row(row: &Row) -> Result<FlagDelivery> {
    const KIND: &str = "flag_delivery";
    let id = row.int("id")?;
    let key = id.to_string();
    Ok(FlagDelivery {
        id,
        target: DeliveryTarget::parse(&row.text("target")?).map_err(|e| corrupt(KIND, &key, e))?,
        key: FlagKey::parse(&row.text("flag_key")?),
        version: row.int("version")?,
        payload: serde_json::from_str(&row.text("payload")?).map_err(|e| corrupt(KIND, &key, e))?,
        status: DeliveryStatus::parse(&row.text("status")?)
            .ok_or_else(|| corrupt(KIND, &key, "unknown status"))?,
        attempts: row.int("attempts")?,
        next_attempt_at: from_micros(row.int("next_attempt_us")?, KIND, &key)?,
        last_error: row.opt_text("last_error"),
        created_at: from_micros(row.int("created_at_us")?, KIND, &key)?,
        delivered_at: row
            .opt_int("delivered_at_us")
            .map(|us| from_micros(us, KIND, &key))
            .transpose()?,
    })
}

const KEY_COLUMNS: &str =
    "id, name, secret_sha256, created_at_us, created_by, last_used_at_us, revoked_at_us";
const KEY_COLS: [Col; 7] = [
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
];

fn key_from_row(row: &Row) -> Result<(StorefrontKey, String)> {
    const KIND: &str = "storefront_key";
    let id = row.text("id")?;
    let opt_ts = |col: &str| {
        row.opt_int(col)
            .map(|us| from_micros(us, KIND, &id))
            .transpose()
    };
    let key = StorefrontKey {
        name: row.text("name")?,
        created_at: from_micros(row.int("created_at_us")?, KIND, &id)?,
        created_by: row.text("created_by")?,
        last_used_at: opt_ts("last_used_at_us")?,
        revoked_at: opt_ts("revoked_at_us")?,
        id: id.clone(),
    };
    Ok((key, row.text("secret_sha256")?))
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

impl<D: Db> SqlStore<D> {
    async fn flag_write(
        &self,
        flag: &FlagRecord,
        deliveries: &[NewFlagDelivery],
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let params = [
            text(flag.key.as_str()),
            Value::Bool(flag.on),
            text(&serde_json::Value::from(flag.targets.clone()).to_string()),
            Value::Text(flag.text.clone()),
            text(&flag.reason),
            text(&flag.set_by),
            int(micros(flag.set_at)),
            opt_micros(flag.ends_at),
            int(flag.version),
        ];
        // The first change inserts (a concurrent first change hits the
        // primary key: no row is written twice); a later one replaces
        // exactly the version it read.
        let written = if flag.version == 1 {
            tx.execute(
                "INSERT INTO flags (flag_key, is_on, targets, banner_text, reason, set_by, \
                 set_at_us, ends_at_us, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (flag_key) DO NOTHING",
                &params,
            )
            .await?
        } else {
            tx.execute(
                "UPDATE flags SET is_on = $2, targets = $3, banner_text = $4, reason = $5, \
                 set_by = $6, set_at_us = $7, ends_at_us = $8, version = $9 \
                 WHERE flag_key = $1 AND version = $9 - 1",
                &params,
            )
            .await?
        };
        if written == 0 {
            return Ok(false); // dropping the transaction rolls back
        }
        let now = int(micros(flag.set_at));
        for d in deliveries {
            tx.execute(
                "INSERT INTO flag_deliveries (target, flag_key, version, payload, status, \
                 attempts, next_attempt_us, created_at_us) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
                &[
                    text(&d.target.as_column()),
                    text(flag.key.as_str()),
                    int(flag.version),
                    text(&d.payload.to_string()),
                    text(DeliveryStatus::Pending.as_str()),
                    now.clone(),
                ],
            )
            .await?;
        }
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn delivery_record(
        &self,
        id: i64,
        at: Timestamp,
        attempt: &DeliveryAttempt,
    ) -> Result<()> {
        let at = int(micros(at));
        let (sql, params) = match attempt {
            DeliveryAttempt::Delivered => (
                "UPDATE flag_deliveries SET status = 'delivered', attempts = attempts + 1, \
                 last_attempt_us = $2, delivered_at_us = $2 WHERE id = $1",
                vec![int(id), at],
            ),
            DeliveryAttempt::Retry { next_at, error } => (
                "UPDATE flag_deliveries SET attempts = attempts + 1, last_attempt_us = $2, \
                 next_attempt_us = $3, last_error = $4 WHERE id = $1",
                vec![int(id), at, int(micros(*next_at)), text(error)],
            ),
            DeliveryAttempt::Failed { error } => (
                "UPDATE flag_deliveries SET status = 'failed', attempts = attempts + 1, \
                 last_attempt_us = $2, last_error = $3 WHERE id = $1",
                vec![int(id), at, text(error)],
            ),
        };
        self.db.execute(sql, &params).await?;
        Ok(())
    }

    async fn target_health(&self) -> Result<Vec<TargetHealth>> {
        let rows = self
            .db
            .fetch(
                "SELECT target, MAX(delivered_at_us) AS last_delivered_us, \
                 SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending, \
                 SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed \
                 FROM flag_deliveries GROUP BY target ORDER BY target",
                &[],
                &[Col::Text, Col::Int, Col::Int, Col::Int],
            )
            .await?;
        let errors = self
            .db
            .fetch(
                "SELECT target, last_error, last_attempt_us FROM flag_deliveries \
                 WHERE last_error IS NOT NULL ORDER BY last_attempt_us DESC, id DESC",
                &[],
                &[Col::Text, Col::Text, Col::Int],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let column = row.text("target")?;
                let newest_error = errors
                    .iter()
                    .find(|e| e.opt_text("target").as_deref() == Some(column.as_str()));
                let ts = |us: Option<i64>| {
                    us.map(|us| from_micros(us, "flag_delivery", &column))
                        .transpose()
                };
                Ok(TargetHealth {
                    target: DeliveryTarget::parse(&column)
                        .map_err(|e| corrupt("flag_delivery", &column, e))?,
                    last_delivered_at: ts(row.opt_int("last_delivered_us"))?,
                    pending: row.opt_int("pending").unwrap_or(0),
                    failed: row.opt_int("failed").unwrap_or(0),
                    last_error: newest_error.and_then(|e| e.opt_text("last_error")),
                    last_error_at: ts(newest_error.and_then(|e| e.opt_int("last_attempt_us")))?,
                })
            })
            .collect()
    }

    async fn key_verify(&self, presented: &str, now: Timestamp) -> Result<KeyCheck> {
        let Some((id, secret)) = split_token_with(STOREFRONT_KEY_PREFIX, presented) else {
            return Ok(KeyCheck::Invalid);
        };
        let rows = self
            .db
            .fetch(
                &format!("SELECT {KEY_COLUMNS} FROM storefront_keys WHERE id = $1"),
                &[text(id)],
                &KEY_COLS,
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(KeyCheck::Invalid);
        };
        let (mut key, stored_hash) = key_from_row(row)?;
        if !secret_matches(secret, &stored_hash) {
            return Ok(KeyCheck::Invalid);
        }
        if key.revoked_at.is_some() {
            return Ok(KeyCheck::Revoked);
        }
        self.touch_last_used("storefront_keys", &key.id, &mut key.last_used_at, now)
            .await?;
        Ok(KeyCheck::Valid(key))
    }
}

/// Flags, their deliveries and storefront keys: the part of a
/// [`crate::Store`] the flag service uses. A supertrait of `Store`.
#[async_trait]
pub trait FlagStore: Send + Sync {
    /// Every flag ever set, by key.
    async fn flags(&self) -> Result<Vec<FlagRecord>>;

    /// Writes `flag` (version 1: the first change; otherwise replacing
    /// version − 1), owes `deliveries` and appends `audit`, in one
    /// transaction. `false` (and nothing written) when the flag is no
    /// longer at the version the change was made from.
    async fn write_flag(
        &self,
        flag: &FlagRecord,
        deliveries: &[NewFlagDelivery],
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// The audit entries about `key`, newest first.
    async fn flag_audit(&self, key: &FlagKey, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Pending deliveries, oldest first (due or not: a target's later
    /// change waits for its earlier one).
    async fn pending_flag_deliveries(&self, limit: u32) -> Result<Vec<FlagDelivery>>;

    /// The newest deliveries, newest first (tests and the flags page).
    async fn recent_flag_deliveries(&self, limit: u32) -> Result<Vec<FlagDelivery>>;

    /// Records one attempt of delivery `id` made at `at`.
    async fn record_flag_delivery(
        &self,
        id: i64,
        at: Timestamp,
        attempt: &DeliveryAttempt,
    ) -> Result<()>;

    /// How deliveries to each target stand.
    async fn flag_target_health(&self) -> Result<Vec<TargetHealth>>;

    /// Stores a new storefront key (its hash only) and its audit entry.
    async fn create_storefront_key(&self, key: &NewStorefrontKey, audit: &AuditEntry)
        -> Result<()>;

    async fn list_storefront_keys(&self) -> Result<Vec<StorefrontKey>>;

    /// Checks a presented `ofk_…` key (constant-time hash compare).
    async fn verify_storefront_key(&self, presented: &str, now: Timestamp) -> Result<KeyCheck>;

    /// Revokes a key and writes the audit entry; `false` when no unrevoked
    /// key has this id.
    async fn revoke_storefront_key(
        &self,
        id: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool>;
}

#[async_trait]
impl<D: Db> FlagStore for SqlStore<D> {
    async fn flags(&self) -> Result<Vec<FlagRecord>> {
        let rows = self
            .db
            .fetch(&format!("{FLAG_SELECT} ORDER BY flag_key"), &[], &FLAG_COLS)
            .await?;
        rows.iter().map(flag_from_row).collect()
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), flag = flag.key.as_str(), version = flag.version))]
    async fn write_flag(
        &self,
        flag: &FlagRecord,
        deliveries: &[NewFlagDelivery],
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.flag_write(flag, deliveries, audit).await
    }

    async fn flag_audit(&self, key: &FlagKey, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = self
            .db
            .fetch(
                &format!(
                    "SELECT {AUDIT_SELECT} FROM audit_log WHERE subject = $1 \
                     ORDER BY at_us DESC, id DESC LIMIT $2"
                ),
                &[
                    text(&format!("flag:{}", key.as_str())),
                    int(i64::from(limit)),
                ],
                &AUDIT_COLS,
            )
            .await?;
        rows.iter().map(audit_entry).collect()
    }

    async fn pending_flag_deliveries(&self, limit: u32) -> Result<Vec<FlagDelivery>> {
        let rows = self
            .db
            .fetch(
                &format!("{DELIVERY_SELECT} WHERE status = 'pending' ORDER BY id LIMIT $1"),
                &[int(i64::from(limit))],
                &DELIVERY_COLS,
            )
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn recent_flag_deliveries(&self, limit: u32) -> Result<Vec<FlagDelivery>> {
        let rows = self
            .db
            .fetch(
                &format!("{DELIVERY_SELECT} ORDER BY id DESC LIMIT $1"),
                &[int(i64::from(limit))],
                &DELIVERY_COLS,
            )
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn record_flag_delivery(
        &self,
        id: i64,
        at: Timestamp,
        attempt: &DeliveryAttempt,
    ) -> Result<()> {
        self.delivery_record(id, at, attempt).await
    }

    async fn flag_target_health(&self) -> Result<Vec<TargetHealth>> {
        self.target_health().await
    }

    async fn create_storefront_key(
        &self,
        new: &NewStorefrontKey,
        audit: &AuditEntry,
    ) -> Result<()> {
        let k = &new.key;
        let mut tx = self.db.begin().await?;
        tx.execute(
            &format!(
                "INSERT INTO storefront_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
            ),
            &[
                text(&k.id),
                text(&k.name),
                text(&new.secret_sha256),
                int(micros(k.created_at)),
                text(&k.created_by),
                opt_micros(k.last_used_at),
                opt_micros(k.revoked_at),
            ],
        )
        .await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await
    }

    async fn list_storefront_keys(&self) -> Result<Vec<StorefrontKey>> {
        let rows = self
            .db
            .fetch(
                &format!("SELECT {KEY_COLUMNS} FROM storefront_keys ORDER BY created_at_us, id"),
                &[],
                &KEY_COLS,
            )
            .await?;
        rows.iter()
            .map(|r| key_from_row(r).map(|(k, _)| k))
            .collect()
    }

    async fn verify_storefront_key(&self, presented: &str, now: Timestamp) -> Result<KeyCheck> {
        self.key_verify(presented, now).await
    }

    async fn revoke_storefront_key(
        &self,
        id: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                "UPDATE storefront_keys SET revoked_at_us = $2 WHERE id = $1 AND revoked_at_us IS NULL",
                &[text(id), int(micros(at))],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_targets_round_trip() {
        for k in FlagKey::ALL {
            assert_eq!(FlagKey::known(k.as_str()), Some(k.clone()));
        }
        assert_eq!(FlagKey::known("freeze-everything"), None);
        for t in [
            DeliveryTarget::Webhook("cdn".into()),
            DeliveryTarget::ShopifyMetafield(BrandId::parse("mavena").unwrap()),
        ] {
            assert_eq!(DeliveryTarget::parse(&t.as_column()), Ok(t));
        }
        assert!(DeliveryTarget::parse("email:x").is_err());
    }
}
