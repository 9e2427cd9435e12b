//! Privacy requests (issue 15 point 4): a person's data exported or
//! erased, or a shop's erased, within 30 days of receipt.
//!
//! Requests arrive three ways — Shopify's compliance webhooks (filed by the
//! inbox worker of `opsdeck-sync`), an admin on `/privacy`, a custom
//! platform through the ingest API ([`Privacy::file`]) — and are stored at
//! once with their due date (the one deadline rule,
//! [`opsdeck_domain::privacy::privacy_clock`]). The work happens in the
//! background ([`Privacy::work_once`], looped by [`run`]): a request is
//! taken from the store each time, so a restart resumes where it stopped,
//! and a failed attempt is retried with backoff, then marked failed (shown
//! on `/privacy` and alerted by the `privacy_request_due` rule).
//!
//! # Layout
//! - [`find`]: which records are the person's (or the shop's): the one
//!   rule both an export and an erasure follow.
//! - [`erase`]: which fields an erasure replaces with tombstones, and what
//!   it keeps and why.
//! - [`export`]: the archive (zip of JSON and CSV per kind, the timeline,
//!   the audit entries naming them), built when downloaded.
//!
//! An export completes when its data has been gathered; an admin then
//! creates a download link (a random token, only its hash stored, with a
//! configured lifetime), and each download is written to the audit log
//! (who, when). An erasure rewrites the person's records with tombstones,
//! wipes the other copies (audit entries, raw webhook payloads, alert
//! messages, the request's own subject) in one transaction, then removes
//! what the database keeps outside its rows (journal segments, free pages).
//! It also remembers whom it erased (keyed hashes only), so a later sync,
//! webhook, ingest push or import that carries the person (or, after
//! `shop/redact`, any record of the shop) is stored erased by the store's
//! upsert: erased data does not come back, and the records still count.
//! Nothing here logs a person's identifiers: spans carry request ids.

pub mod erase;
pub mod export;
pub mod find;

use crate::incidents::Actor;
use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::privacy::{
    privacy_alert_from, privacy_clock, DataSubject, PrivacyRequestKind, PrivacyStatus, PrivacyVia,
    TOMBSTONE,
};
use opsdeck_domain::sla::{human_duration, SlaState};
use opsdeck_domain::{AnyRecord, BrandId};
use opsdeck_store::privacy::{Erasure, PrivacyLink, PrivacyRequest};
use opsdeck_store::{AuditAction, AuditEntry, Store, StoreError};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The token kind a custom platform's ingest token needs to file privacy
/// requests (`POST /api/v1/privacy/requests`), or `all`.
pub const INGEST_KIND: &str = "privacy_requests";

/// How the privacy work is paced and how long links live.
#[derive(Debug, Clone)]
pub struct PrivacySettings {
    /// How long a download link of an export works (`[privacy]
    /// link_lifetime`); 72 hours by default.
    pub link_lifetime: SignedDuration,
    /// Requests taken per step.
    pub batch: u32,
    /// The first retry waits this long, each further one twice as long.
    pub retry_after: SignedDuration,
    /// Failed attempts after which a request is marked failed.
    pub max_attempts: u32,
    /// How often the loop looks for due requests without being woken.
    pub poll_every: Duration,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            link_lifetime: SignedDuration::from_hours(72),
            batch: 10,
            retry_after: SignedDuration::from_mins(1),
            max_attempts: 6,
            poll_every: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no privacy request {0}")]
    NotFound(i64),
    /// A request that cannot be filed, naming what was wrong.
    #[error("{0}")]
    Invalid(String),
    #[error("privacy request {0} is not an export: only exports have an archive")]
    NotExport(i64),
    #[error("privacy request {id} is {status}: its archive is ready once it is completed")]
    NotReady { id: i64, status: &'static str },
    #[error("this download link is unknown")]
    UnknownLink,
    #[error("this download link expired at {0}; create a new one on /privacy")]
    LinkExpired(Timestamp),
    #[error("the archive could not be built: {0}")]
    Archive(String),
}

/// A request to file from the dashboard or the ingest API.
#[derive(Debug, Clone)]
pub struct NewPrivacyRequest {
    pub kind: PrivacyRequestKind,
    pub via: PrivacyVia,
    /// The brand whose data it concerns.
    pub brand: BrandId,
    pub subject: DataSubject,
    /// `dashboard`, or the ingest token's source.
    pub source: String,
    /// The platform's own id of the request (ingest), so pushing it twice
    /// files it once; the dashboard's are generated.
    pub request_key: Option<String>,
}

/// What filing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Filed {
    pub id: Option<i64>,
    /// Already filed under the same key: nothing written.
    pub duplicate: bool,
}

/// What one step of the worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkStep {
    pub completed: usize,
    /// Failed this time; retried later.
    pub retrying: usize,
    /// Given up on (marked failed).
    pub failed: usize,
}

/// A request as `/privacy` and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub id: i64,
    pub kind: PrivacyRequestKind,
    pub kind_label: &'static str,
    pub status: PrivacyStatus,
    pub via: PrivacyVia,
    pub brand: Option<String>,
    /// The person as asked (tombstones once erased).
    pub email: Option<String>,
    pub customer_id: Option<String>,
    pub orders: usize,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    /// From when it is alerted: 7 days before it is due.
    pub alert_from: Timestamp,
    /// "12 d 4 h", or how long ago it fell due.
    pub time_left: String,
    pub sla: SlaState,
    pub overdue: bool,
    pub completed_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub outcome: Option<serde_json::Value>,
    pub requested_by: String,
}

impl RequestView {
    pub fn of(r: &PrivacyRequest, now: Timestamp) -> RequestView {
        let clock = privacy_clock(r.received_at);
        let open = r.status.is_open();
        let left = clock.time_left_at(now);
        RequestView {
            id: r.id,
            kind: r.kind,
            kind_label: r.kind.label(),
            status: r.status,
            via: r.via,
            brand: r.brand.as_ref().map(|b| b.as_str().to_string()),
            email: r.subject.email.clone(),
            customer_id: r.subject.customer_id.clone(),
            orders: r.subject.order_ids.len(),
            received_at: r.received_at,
            due_at: r.due_at,
            alert_from: privacy_alert_from(r.received_at),
            time_left: if !open {
                "done".into()
            } else if left.is_negative() {
                format!("overdue by {}", human_duration(left))
            } else {
                human_duration(left)
            },
            sla: clock.state_at(now),
            overdue: open && left.is_negative(),
            completed_at: r.completed_at,
            last_error: r.last_error.clone(),
            outcome: r.outcome.clone(),
            requested_by: r.requested_by.clone(),
        }
    }
}

/// A built export archive.
#[derive(Debug, Clone)]
pub struct Archive {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// The privacy requests' rules over the store.
pub struct Privacy {
    store: Arc<dyn Store>,
    settings: PrivacySettings,
    /// Wakes the worker ([`run`]) when a request is filed here.
    wake: Arc<Notify>,
}

fn sha256_hex(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn audit(
    actor: &Actor,
    action: AuditAction,
    id: i64,
    at: Timestamp,
    payload: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: actor.name.clone(),
        action,
        subject: format!("privacy:{id}"),
        payload,
        ip: actor.ip.clone(),
    }
}

/// Counts of records per kind, for an outcome.
fn counts(records: &[AnyRecord]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for r in records {
        *out.entry(r.kind().as_str()).or_insert(0) += 1;
    }
    out
}

impl Privacy {
    pub fn new(store: Arc<dyn Store>, settings: PrivacySettings) -> Privacy {
        Privacy {
            store,
            settings,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Notified when a request is filed (the inbox worker's filings wake
    /// it too, through the application).
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    pub fn settings(&self) -> &PrivacySettings {
        &self.settings
    }

    /// Files a request from the dashboard or the ingest API, with its
    /// audit entry. A request naming no one is refused.
    #[tracing::instrument(skip_all, fields(kind = new.kind.as_str(), via = new.via.as_str()))]
    pub async fn file(
        &self,
        new: NewPrivacyRequest,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Filed, PrivacyError> {
        let mut subject = new.subject;
        for v in [
            &mut subject.customer_id,
            &mut subject.email,
            &mut subject.phone,
            &mut subject.name,
        ] {
            if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *v = None;
            }
        }
        subject.order_ids.retain(|o| !o.trim().is_empty());
        if new.kind != PrivacyRequestKind::ShopErasure && subject.is_empty() {
            return Err(PrivacyError::Invalid(
                "a privacy request must name the person: an email, a phone, a customer id or \
                 orders"
                    .into(),
            ));
        }
        if let Some(email) = &subject.email {
            if !email.contains('@') || email.len() > 254 {
                return Err(PrivacyError::Invalid(format!(
                    "email {email:?} is not an email address (at most 254 characters, with an @)"
                )));
            }
        }
        let key = new
            .request_key
            .unwrap_or_else(|| format!("{}:{}", now.as_microsecond(), random_token()));
        let request = PrivacyRequest::received(
            &new.source,
            &key,
            new.kind,
            new.via,
            Some(new.brand),
            subject,
            now,
            &actor.name,
        );
        let entry = AuditEntry {
            subject: String::new(),
            ..audit(
                actor,
                AuditAction::PrivacyRequest,
                0,
                now,
                serde_json::json!({"kind": new.kind.as_str(), "via": new.via.as_str()}),
            )
        };
        let id = self.store.privacy_request_insert(&request, &entry).await?;
        self.wake.notify_one();
        Ok(Filed {
            id,
            duplicate: id.is_none(),
        })
    }

    pub async fn list(&self, limit: u32) -> Result<Vec<PrivacyRequest>, PrivacyError> {
        Ok(self.store.privacy_requests(limit).await?)
    }

    pub async fn get(&self, id: i64) -> Result<PrivacyRequest, PrivacyError> {
        self.store
            .privacy_request(id)
            .await?
            .ok_or(PrivacyError::NotFound(id))
    }

    /// Works every due request once (oldest first): what the loop runs and
    /// tests call.
    pub async fn work_once(&self, now: Timestamp) -> Result<WorkStep, PrivacyError> {
        let mut step = WorkStep::default();
        for request in self
            .store
            .privacy_requests_due(now, self.settings.batch)
            .await?
        {
            match self.work(request, now).await? {
                Worked::Completed => step.completed += 1,
                Worked::Retrying => step.retrying += 1,
                Worked::Failed => step.failed += 1,
            }
        }
        Ok(step)
    }

    #[tracing::instrument(skip_all, fields(id = request.id, kind = request.kind.as_str()))]
    async fn work(
        &self,
        mut request: PrivacyRequest,
        now: Timestamp,
    ) -> Result<Worked, PrivacyError> {
        if request.status == PrivacyStatus::Received {
            request.status = PrivacyStatus::InProgress;
            request.started_at = Some(now);
            self.store.privacy_request_update(&request, &[]).await?;
        }
        let result = match request.kind {
            PrivacyRequestKind::Export => self.gather_export(&request, now).await,
            PrivacyRequestKind::Erasure | PrivacyRequestKind::ShopErasure => {
                self.erase(&request, now).await
            }
        };
        match result {
            Ok(Some(())) => Ok(Worked::Completed),
            Ok(None) => Ok(Worked::Retrying),
            Err(e) => {
                let error = e.to_string();
                tracing::warn!(id = request.id, error = %error, "privacy request attempt failed");
                request.attempts += 1;
                request.last_error = Some(error.clone());
                let system = Actor::new("opsdeck");
                if request.attempts >= self.settings.max_attempts {
                    request.status = PrivacyStatus::Failed;
                    let entry = audit(
                        &system,
                        AuditAction::PrivacyFail,
                        request.id,
                        now,
                        serde_json::json!({"error": error, "attempts": request.attempts}),
                    );
                    self.store
                        .privacy_request_update(&request, &[entry])
                        .await?;
                    Ok(Worked::Failed)
                } else {
                    let factor = 1i32 << request.attempts.min(10);
                    request.next_attempt_at = now
                        .checked_add(self.settings.retry_after * factor)
                        .unwrap_or(now);
                    self.store.privacy_request_update(&request, &[]).await?;
                    Ok(Worked::Retrying)
                }
            }
        }
    }

    /// An export's work: its records are gathered and the archive built
    /// once, to prove it can be; the archive itself is built again when
    /// downloaded (never stored).
    async fn gather_export(
        &self,
        request: &PrivacyRequest,
        now: Timestamp,
    ) -> Result<Option<()>, PrivacyError> {
        let found = find::find(self.store.as_ref(), request).await?;
        let audit_entries = self.store.privacy_audit_naming(&found.needles).await?;
        let files = export::archive_files(request.id, now, &found.records, &audit_entries);
        export::zip(&files).map_err(|e| PrivacyError::Archive(e.to_string()))?;
        let mut done = request.clone();
        done.status = PrivacyStatus::Completed;
        done.completed_at = Some(now);
        done.last_error = None;
        done.outcome = Some(serde_json::json!({
            "records": counts(&found.records),
            "audit_entries": audit_entries.len(),
            "files": files.keys().collect::<Vec<_>>(),
        }));
        let entry = audit(
            &Actor::new("opsdeck"),
            AuditAction::PrivacyComplete,
            request.id,
            now,
            serde_json::json!({"kind": "export", "records": found.records.len()}),
        );
        self.store.privacy_request_update(&done, &[entry]).await?;
        Ok(Some(()))
    }

    /// An erasure's work. `None` when events naming the person still wait
    /// in the webhook journal: it is tried again once they are applied.
    async fn erase(
        &self,
        request: &PrivacyRequest,
        now: Timestamp,
    ) -> Result<Option<()>, PrivacyError> {
        let found = find::find(self.store.as_ref(), request).await?;
        let purge = self
            .store
            .privacy_purge_copies(&found.needles, false)
            .await?;
        if purge.journal_pending_naming > 0 {
            let mut waiting = request.clone();
            waiting.next_attempt_at = now.checked_add(self.settings.retry_after).unwrap_or(now);
            waiting.last_error = Some(format!(
                "{} webhook events naming the person wait to be applied; erased after them",
                purge.journal_pending_naming
            ));
            self.store.privacy_request_update(&waiting, &[]).await?;
            return Ok(None);
        }
        let erased: Vec<AnyRecord> = found
            .records
            .iter()
            .filter_map(|r| erase::erase_record(r, &found.needles))
            .collect();
        let mut done = request.clone();
        for v in [
            &mut done.subject.email,
            &mut done.subject.phone,
            &mut done.subject.name,
        ] {
            if v.is_some() {
                *v = Some(TOMBSTONE.to_string());
            }
        }
        done.status = PrivacyStatus::Completed;
        done.completed_at = Some(now);
        done.last_error = None;
        let kept: Vec<serde_json::Value> = erase::KEPT
            .iter()
            .map(|(what, why)| serde_json::json!({"what": what, "why": why}))
            .collect();
        done.outcome = Some(serde_json::json!({
            "records_found": counts(&found.records),
            "records_erased": counts(&erased),
            "kept": kept,
        }));
        let shop_source = match request.kind {
            PrivacyRequestKind::ShopErasure => {
                opsdeck_domain::SourceId::parse(&request.source).ok()
            }
            _ => None,
        };
        let erasure = Erasure {
            records: erased,
            needles: found.needles.clone(),
            erased_keys: erased_keys(request, &found.records),
            purge_source_bodies: shop_source,
            request: done.clone(),
            audit: audit(
                &Actor::new("opsdeck"),
                AuditAction::PrivacyComplete,
                request.id,
                now,
                serde_json::json!({"kind": request.kind.as_str(), "records": found.records.len()}),
            ),
        };
        let wiped = self.store.privacy_erase(&erasure).await?;
        let purged = self
            .store
            .privacy_purge_copies(&found.needles, true)
            .await?;
        // The wipe's figures join the outcome (they name tables, not people).
        if let Some(serde_json::Value::Object(map)) = done.outcome.as_mut() {
            map.insert("copies_wiped".into(), serde_json::json!(wiped));
            map.insert("disk".into(), serde_json::json!(purged));
        }
        self.store.privacy_request_update(&done, &[]).await?;
        Ok(Some(()))
    }

    /// A download link for completed export `id`, valid for the configured
    /// lifetime: the token (shown once; only its hash is kept) and its
    /// expiry.
    pub async fn create_link(
        &self,
        id: i64,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<(String, Timestamp), PrivacyError> {
        let request = self.get(id).await?;
        self.ready_export(&request)?;
        let token = random_token();
        let expires_at = now.checked_add(self.settings.link_lifetime).unwrap_or(now);
        let link = PrivacyLink {
            token_sha256: sha256_hex(&token),
            request_id: id,
            expires_at,
            created_by: actor.name.clone(),
            created_at: now,
        };
        let entry = audit(
            actor,
            AuditAction::PrivacyLink,
            id,
            now,
            serde_json::json!({"expires_at": expires_at}),
        );
        self.store.privacy_link_insert(&link, &entry).await?;
        Ok((token, expires_at))
    }

    fn ready_export(&self, request: &PrivacyRequest) -> Result<(), PrivacyError> {
        if request.kind != PrivacyRequestKind::Export {
            return Err(PrivacyError::NotExport(request.id));
        }
        if request.status != PrivacyStatus::Completed {
            return Err(PrivacyError::NotReady {
                id: request.id,
                status: request.status.as_str(),
            });
        }
        Ok(())
    }

    /// The files of export `request`'s archive as of `now`.
    pub async fn archive_files(
        &self,
        request: &PrivacyRequest,
        now: Timestamp,
    ) -> Result<export::ArchiveFiles, PrivacyError> {
        let found = find::find(self.store.as_ref(), request).await?;
        let audit_entries = self.store.privacy_audit_naming(&found.needles).await?;
        Ok(export::archive_files(
            request.id,
            now,
            &found.records,
            &audit_entries,
        ))
    }

    /// The archive a link gives, built now, and its delivery written to
    /// the audit log (who downloaded it, when).
    #[tracing::instrument(skip_all)]
    pub async fn download(
        &self,
        token: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Archive, PrivacyError> {
        let link = self
            .store
            .privacy_link(&sha256_hex(token.trim()))
            .await?
            .ok_or(PrivacyError::UnknownLink)?;
        if now >= link.expires_at {
            return Err(PrivacyError::LinkExpired(link.expires_at));
        }
        let request = self.get(link.request_id).await?;
        self.ready_export(&request)?;
        let files = self.archive_files(&request, now).await?;
        let bytes = export::zip(&files).map_err(|e| PrivacyError::Archive(e.to_string()))?;
        let entry = audit(
            actor,
            AuditAction::PrivacyDownload,
            request.id,
            now,
            serde_json::json!({"bytes": bytes.len(), "link_created_by": link.created_by}),
        );
        self.store.privacy_audit(&entry).await?;
        Ok(Archive {
            file_name: format!("opsdeck-privacy-export-{}.zip", request.id),
            bytes,
        })
    }
}

/// Whom an erasure remembers, so their data does not come back: a shop
/// after `shop/redact`; otherwise the person as asked (their email within
/// the request's brand, their customer id and named orders within the
/// request's source) and every email and platform id of the records found
/// (the identity rule of [`find`], as `opsdeck_domain::erasure` keys).
fn erased_keys(request: &PrivacyRequest, found: &[AnyRecord]) -> Vec<String> {
    use opsdeck_domain::erasure::{email_key, erased_keys, id_key, shop_key};
    if request.kind == PrivacyRequestKind::ShopErasure {
        return opsdeck_domain::SourceId::parse(&request.source)
            .map(|s| vec![shop_key(&s)])
            .unwrap_or_default();
    }
    let brand = request.brand.as_ref();
    let subject = &request.subject;
    let mut keys: Vec<String> = subject
        .email
        .iter()
        .flat_map(|e| email_key(e, brand))
        .collect();
    if let Some(source) = find::id_source(request) {
        keys.extend(
            subject
                .customer_id
                .iter()
                .filter_map(|c| id_key("customer", &source, c)),
        );
        keys.extend(
            subject
                .order_ids
                .iter()
                .filter_map(|o| id_key("order", &source, o)),
        );
    }
    for record in found {
        keys.extend(erased_keys(record, brand));
    }
    keys.sort();
    keys.dedup();
    keys
}

enum Worked {
    Completed,
    Retrying,
    Failed,
}

/// Runs [`Privacy::work_once`] whenever [`Privacy::wake`] is notified (a
/// request was filed) and every `poll_every`, until `stop` turns true. A failed step
/// is logged and tried again at the next turn; the requests stay in the
/// store, so nothing is lost.
pub async fn run(
    privacy: Arc<Privacy>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    mut stop: watch::Receiver<bool>,
) {
    let every = privacy.settings.poll_every;
    let wake = privacy.wake();
    loop {
        if *stop.borrow() {
            return;
        }
        if let Err(e) = privacy.work_once(clock()).await {
            tracing::error!(error = %e, "privacy work step failed; retried at the next turn");
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => {}
        }
    }
}
