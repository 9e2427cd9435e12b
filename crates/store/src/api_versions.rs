//! What Shopify's answers said about the API version, per source and API
//! ([`ApiVersionNote`]): the version asked for, the one that answered and
//! the latest deprecation notice with when it was first seen. A sync run
//! writes a note only when it changed; /sources shows them.

use crate::db::{Col, Db, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros, opt_micros};
use crate::Result;
use async_trait::async_trait;
use opsdeck_domain::{ShopifyApi, SourceId, Timestamp};
use tracing::instrument;

/// One source's answers on one API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionNote {
    pub source: SourceId,
    pub api: ShopifyApi,
    /// The version opsdeck asks for (configured or pinned).
    pub requested: String,
    /// `X-Shopify-API-Version` of the answers; differs from `requested`
    /// when Shopify no longer serves that version and falls forward.
    pub answered: Option<String>,
    /// The latest `X-Shopify-API-Deprecated-Reason` text.
    pub deprecation: Option<String>,
    /// When that text was first seen (kept while the text stays the same).
    pub deprecation_since: Option<Timestamp>,
    /// When this note was last written.
    pub noted_at: Timestamp,
}

impl ApiVersionNote {
    /// Shopify answered with another version than the one asked for.
    pub fn fell_forward(&self) -> bool {
        self.answered
            .as_deref()
            .is_some_and(|answered| answered != self.requested)
    }
}

const COLUMNS: &str =
    "source, api, requested, answered, deprecation, deprecation_since_us, noted_at_us";

impl<D: Db> SqlStore<D> {
    async fn api_version_save(&self, note: &ApiVersionNote) -> Result<()> {
        let text = |s: &str| Value::Text(Some(s.to_string()));
        self.db
            .execute(
                &format!(
                    "INSERT INTO shopify_api_versions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (source, api) DO UPDATE SET requested = excluded.requested, \
                     answered = excluded.answered, deprecation = excluded.deprecation, \
                     deprecation_since_us = excluded.deprecation_since_us, \
                     noted_at_us = excluded.noted_at_us"
                ),
                &[
                    text(note.source.as_str()),
                    text(note.api.as_str()),
                    text(&note.requested),
                    Value::Text(note.answered.clone()),
                    Value::Text(note.deprecation.clone()),
                    opt_micros(note.deprecation_since),
                    Value::Int(Some(micros(note.noted_at))),
                ],
            )
            .await?;
        Ok(())
    }

    async fn api_version_list(&self) -> Result<Vec<ApiVersionNote>> {
        let cols = [
            Col::Text,
            Col::Text,
            Col::Text,
            Col::Text,
            Col::Text,
            Col::Int,
            Col::Int,
        ];
        let rows = self
            .db
            .fetch(
                &format!("SELECT {COLUMNS} FROM shopify_api_versions ORDER BY source, api"),
                &[],
                &cols,
            )
            .await?;
        const KIND: &str = "shopify_api_versions";
        rows.iter()
            .map(|row| {
                let source = row.text("source")?;
                let api = row.text("api")?;
                let key = format!("{source}/{api}");
                Ok(ApiVersionNote {
                    source: SourceId::parse(&source).map_err(|e| corrupt(KIND, &key, e))?,
                    api: ShopifyApi::parse(&api)
                        .ok_or_else(|| corrupt(KIND, &key, "api is not rest or graphql"))?,
                    requested: row.text("requested")?,
                    answered: row.opt_text("answered"),
                    deprecation: row.opt_text("deprecation"),
                    deprecation_since: row
                        .opt_int("deprecation_since_us")
                        .map(|us| from_micros(us, KIND, &key))
                        .transpose()?,
                    noted_at: from_micros(row.int("noted_at_us")?, KIND, &key)?,
                })
            })
            .collect()
    }
}

/// The part of a [`crate::Store`] that keeps [`ApiVersionNote`]s. A
/// supertrait of `Store`, so every store has it.
#[async_trait]
pub trait ApiVersionStore: Send + Sync {
    /// Saves `note`, replacing the one of its source and API.
    async fn save_api_version(&self, note: &ApiVersionNote) -> Result<()>;

    /// Every note, by source then API.
    async fn api_versions(&self) -> Result<Vec<ApiVersionNote>>;
}

#[async_trait]
impl<D: Db> ApiVersionStore for SqlStore<D> {
    #[instrument(skip_all, fields(backend = ?self.db.backend(), source = %note.source, api = note.api.as_str()))]
    async fn save_api_version(&self, note: &ApiVersionNote) -> Result<()> {
        self.api_version_save(note).await
    }

    async fn api_versions(&self) -> Result<Vec<ApiVersionNote>> {
        self.api_version_list().await
    }
}
