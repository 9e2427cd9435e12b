//! Freeze controls and the storefront-readable flags (issue 14, point 2):
//! freeze checkout, refunds, prices and content, a sales pause per country
//! or region, and a maintenance banner with its text.
//!
//! The rules live here, once:
//! - [`FlagChange::validate`]: what a change must say (a reason; targets
//!   for a sales pause; text for a banner; an end in the future, at most
//!   [`MAX_DURATION_DAYS`] away) and what it may not;
//! - [`change_flag`]: the one way a flag changes — called directly by a
//!   person ([`Authority::Direct`]) or as the action an approval runs
//!   ([`Authority::Approved`]). A flag whose settings say it needs a
//!   second person refuses the direct switch-on with
//!   [`FlagError::NeedsApproval`] (and audits the refusal): callers file
//!   it for approval instead ([`approval::request_switch_on`]), and the
//!   approval applies it ([`approval::FlagApprovals`]). Each change
//!   writes the flag, its audit entry and the deliveries it owes (one per
//!   webhook receiver, one per mirrored Shopify shop) in one transaction;
//! - [`end_expired_flags`]: the background step that records automatic
//!   ends. Reading never waits for it: [`is_live`] already treats a flag
//!   past its end as off, so a storefront sees the end on time;
//! - [`evaluate`]: what a flag answers a storefront, given the context it
//!   sends (OFREP's reasons and variants; the web crate writes the wire
//!   shape);
//! - [`live_flags`]: what is switched on now, for the handover and the
//!   morning checklist.

use opsdeck_domain::{BrandId, Timestamp};
use opsdeck_store::flags::{DeliveryTarget, NewFlagDelivery};
use opsdeck_store::{AuditAction, AuditEntry, Store, StoreError};
use serde_json::{json, Map, Value};

pub use opsdeck_store::flags::{FlagKey, FlagRecord};

/// The longest a flag may be set to run by itself before it ends.
pub const MAX_DURATION_DAYS: i64 = 90;
/// Characters a reason, a banner text or a target list may take.
pub const MAX_REASON_CHARS: usize = 500;
pub const MAX_BANNER_CHARS: usize = 500;
pub const MAX_TARGETS: usize = 300;
/// The actor of changes opsdeck makes itself (automatic ends).
pub const SYSTEM_ACTOR: &str = "opsdeck";
/// The shop metafield namespace flags are mirrored under.
pub const METAFIELD_NAMESPACE: &str = "opsdeck";

/// How the flag service is configured (`[flags]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagSettings {
    /// Flags whose switch-on needs a second person's approval.
    pub requires_approval: Vec<FlagKey>,
    /// Names of the webhook receivers every change is sent to.
    pub webhooks: Vec<String>,
    /// Shopify brands whose shop gets the mirrored flags as metafields.
    pub mirror_brands: Vec<BrandId>,
    /// The flags mirrored to those shops.
    pub mirrored_flags: Vec<FlagKey>,
    /// How often a storefront should poll (OFREP configuration).
    pub polling_interval_seconds: u32,
}

impl FlagSettings {
    pub fn requires_approval(&self, key: &FlagKey) -> bool {
        self.requires_approval.contains(key)
    }
}

/// A requested change of one flag.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagChange {
    pub key: FlagKey,
    pub on: bool,
    /// Countries (ISO 3166-1 alpha-2) or regions; a sales pause only.
    pub targets: Vec<String>,
    /// The maintenance banner's text; the banner only.
    pub text: Option<String>,
    pub reason: String,
    /// The automatic end; `None` runs until someone switches it off.
    pub ends_at: Option<Timestamp>,
}

/// A person (or opsdeck) making a change, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub ip: Option<String>,
}

/// On whose say-so a change is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// The actor alone.
    Direct,
    /// An approval granted by a second person (`opsdeck-operations::approvals`
    /// runs the change as its action).
    Approved { approval: String, approver: String },
}

#[derive(Debug, thiserror::Error)]
pub enum FlagError {
    /// The change is malformed; the message names the field and its bound.
    #[error("{0}")]
    Invalid(String),
    /// The flag is not one opsdeck serves.
    #[error("unknown flag {0:?}: use one of {list}", list = known_list())]
    UnknownFlag(String),
    /// Switching this flag on needs a second person's approval.
    #[error("switching {0} on needs approval by a second person; request an approval instead")]
    NeedsApproval(FlagKey),
    /// Someone else changed the flag in between; reload and try again.
    #[error("{0} was changed by someone else in the meantime; reload and try again")]
    Conflict(FlagKey),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn known_list() -> String {
    FlagKey::ALL
        .iter()
        .map(FlagKey::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A flag key from a request: a known one, or the error naming them.
pub fn parse_key(name: &str) -> Result<FlagKey, FlagError> {
    FlagKey::known(name).ok_or_else(|| FlagError::UnknownFlag(name.to_string()))
}

/// A country code or region name, as stored: upper case. A target is 2 to
/// 32 letters, digits, `-` or `_` (`DE`, `EU`, `UAE`, `us-west`).
fn parse_target(raw: &str) -> Result<String, FlagError> {
    let t = raw.trim();
    let ok = (2..=32).contains(&t.len())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(t.to_ascii_uppercase())
    } else {
        Err(FlagError::Invalid(format!(
            "targets: {raw:?} is not a country code (ISO 3166-1 alpha-2, e.g. DE) or a region \
             name (2 to 32 letters, digits, - or _)"
        )))
    }
}

impl FlagChange {
    /// The change as it will be stored (targets upper-cased and
    /// de-duplicated, texts trimmed), or what is wrong with it.
    pub fn validate(&self, now: Timestamp) -> Result<FlagChange, FlagError> {
        let invalid = |m: String| Err(FlagError::Invalid(m));
        if FlagKey::known(self.key.as_str()).is_none() {
            return Err(FlagError::UnknownFlag(self.key.as_str().to_string()));
        }
        let reason = self.reason.trim().to_string();
        if reason.is_empty() {
            return invalid(
                "reason: say why (it is shown with the flag and in the audit log)".into(),
            );
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return invalid(format!("reason: at most {MAX_REASON_CHARS} characters"));
        }
        let mut targets = Vec::new();
        for raw in &self.targets {
            let t = parse_target(raw)?;
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        if targets.len() > MAX_TARGETS {
            return invalid(format!("targets: at most {MAX_TARGETS}"));
        }
        let text = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from);
        match self.key {
            FlagKey::SalesPause if self.on && targets.is_empty() => {
                return invalid(
                    "targets: a sales pause names the countries or regions it covers".into(),
                );
            }
            FlagKey::SalesPause => {}
            _ if !targets.is_empty() => {
                return invalid(format!(
                    "targets: only {} takes countries or regions",
                    FlagKey::SalesPause
                ))
            }
            _ => {}
        }
        match self.key {
            FlagKey::MaintenanceBanner => match &text {
                None if self.on => {
                    return invalid("text: a maintenance banner needs the text to show".into())
                }
                Some(t) if t.chars().count() > MAX_BANNER_CHARS => {
                    return invalid(format!("text: at most {MAX_BANNER_CHARS} characters"))
                }
                _ => {}
            },
            _ if text.is_some() => {
                return invalid(format!(
                    "text: only {} takes a text",
                    FlagKey::MaintenanceBanner
                ))
            }
            _ => {}
        }
        if let Some(end) = self.ends_at {
            if !self.on {
                return invalid(
                    "ends_at: only a flag switched on can have an automatic end".into(),
                );
            }
            if end <= now {
                return invalid(format!("ends_at: {end} is not in the future"));
            }
            let max_us = MAX_DURATION_DAYS * 86_400 * 1_000_000;
            if end.as_microsecond() - now.as_microsecond() > max_us {
                return invalid(format!(
                    "ends_at: at most {MAX_DURATION_DAYS} days from now"
                ));
            }
        }
        Ok(FlagChange {
            key: self.key.clone(),
            on: self.on,
            targets,
            text,
            reason,
            ends_at: self.ends_at,
        })
    }
}

/// Whether `flag` is on at `now`: switched on and not past its end.
pub fn is_live(flag: &FlagRecord, now: Timestamp) -> bool {
    flag.on && flag.ends_at.is_none_or(|end| now < end)
}

/// The flags switched on now, in [`FlagKey::ALL`] order: what a handover
/// lists as active freezes.
pub fn live_flags(flags: &[FlagRecord], now: Timestamp) -> Vec<FlagRecord> {
    FlagKey::ALL
        .iter()
        .filter_map(|k| flags.iter().find(|f| &f.key == k))
        .filter(|f| is_live(f, now))
        .cloned()
        .collect()
}

/// The metafield key a flag is mirrored under (`freeze_checkout`, …).
pub fn metafield_key(key: &FlagKey) -> String {
    key.as_str().replace('-', "_")
}

/// What a shop metafield holds for `flag` at `now` (`metafieldsSet`
/// input without the owner): a freeze is a `boolean`; the sales pause and
/// the banner are `json` (`{"on", "targets"}`, `{"on", "text"}`), so a
/// theme block reads `shop.metafields.opsdeck.freeze_checkout.value`.
pub fn metafield_value(flag: &FlagRecord, now: Timestamp) -> Value {
    let live = is_live(flag, now);
    let (kind, value) = match flag.key {
        FlagKey::SalesPause => (
            "json",
            json!({ "on": live, "targets": if live { flag.targets.clone() } else { Vec::new() } })
                .to_string(),
        ),
        FlagKey::MaintenanceBanner => (
            "json",
            json!({ "on": live, "text": if live { flag.text.clone() } else { None } }).to_string(),
        ),
        _ => ("boolean", live.to_string()),
    };
    json!({
        "namespace": METAFIELD_NAMESPACE,
        "key": metafield_key(&flag.key),
        "type": kind,
        "value": value,
    })
}

/// The body of the signed webhook sent on every change.
pub fn change_event(flag: &FlagRecord, action: &AuditAction) -> Value {
    json!({
        "type": "flag.changed",
        "action": action.as_str(),
        "flag": {
            "key": flag.key.as_str(),
            "on": flag.on,
            "targets": flag.targets,
            "text": flag.text,
            "reason": flag.reason,
            "set_by": flag.set_by,
            "set_at": flag.set_at.to_string(),
            "ends_at": flag.ends_at.map(|t| t.to_string()),
            "version": flag.version,
        },
    })
}

/// The deliveries one change owes under `settings`.
fn deliveries(
    settings: &FlagSettings,
    flag: &FlagRecord,
    action: &AuditAction,
) -> Vec<NewFlagDelivery> {
    let event = change_event(flag, action);
    let mut out: Vec<NewFlagDelivery> = settings
        .webhooks
        .iter()
        .map(|name| NewFlagDelivery {
            target: DeliveryTarget::Webhook(name.clone()),
            payload: event.clone(),
        })
        .collect();
    if settings.mirrored_flags.contains(&flag.key) {
        let metafield = metafield_value(flag, flag.set_at);
        out.extend(settings.mirror_brands.iter().map(|brand| NewFlagDelivery {
            target: DeliveryTarget::ShopifyMetafield(brand.clone()),
            payload: metafield.clone(),
        }));
    }
    out
}

/// Writes the next version of a flag with its audit entry and deliveries.
async fn write(
    store: &dyn Store,
    settings: &FlagSettings,
    flag: FlagRecord,
    action: AuditAction,
    ip: Option<String>,
    extra: Map<String, Value>,
) -> Result<FlagRecord, FlagError> {
    let mut payload = Map::new();
    payload.insert("on".into(), json!(flag.on));
    payload.insert("reason".into(), json!(flag.reason));
    payload.insert("version".into(), json!(flag.version));
    if !flag.targets.is_empty() {
        payload.insert("targets".into(), json!(flag.targets));
    }
    if let Some(text) = &flag.text {
        payload.insert("text".into(), json!(text));
    }
    if let Some(end) = flag.ends_at {
        payload.insert("ends_at".into(), json!(end.to_string()));
    }
    payload.extend(extra);
    let audit = AuditEntry {
        at: flag.set_at,
        actor: flag.set_by.clone(),
        action: action.clone(),
        subject: format!("flag:{}", flag.key),
        payload: Value::Object(payload),
        ip,
    };
    let owed = deliveries(settings, &flag, &action);
    if store.write_flag(&flag, &owed, &audit).await? {
        Ok(flag)
    } else {
        Err(FlagError::Conflict(flag.key))
    }
}

/// Makes `change` on behalf of `by` — the one way a flag changes. See the
/// module documentation for what it checks and writes.
pub async fn change_flag(
    store: &dyn Store,
    settings: &FlagSettings,
    change: &FlagChange,
    by: &Actor,
    authority: &Authority,
    now: Timestamp,
) -> Result<FlagRecord, FlagError> {
    let change = change.validate(now)?;
    if change.on && *authority == Authority::Direct && settings.requires_approval(&change.key) {
        store
            .record_audit(&AuditEntry {
                at: now,
                actor: by.name.clone(),
                action: AuditAction::FlagRefused,
                subject: format!("flag:{}", change.key),
                payload: json!({ "on": true, "reason": change.reason, "refused": "needs approval" }),
                ip: by.ip.clone(),
            })
            .await?;
        return Err(FlagError::NeedsApproval(change.key));
    }
    let current = store.flags().await?;
    let version = current
        .iter()
        .find(|f| f.key == change.key)
        .map_or(1, |f| f.version + 1);
    let flag = FlagRecord {
        key: change.key,
        on: change.on,
        targets: if change.on {
            change.targets
        } else {
            Vec::new()
        },
        text: if change.on { change.text } else { None },
        reason: change.reason,
        set_by: by.name.clone(),
        set_at: now,
        ends_at: change.ends_at,
        version,
    };
    let mut extra = Map::new();
    if let Authority::Approved { approval, approver } = authority {
        extra.insert("approval".into(), json!(approval));
        extra.insert("approved_by".into(), json!(approver));
    }
    let action = if flag.on {
        AuditAction::FlagSet
    } else {
        AuditAction::FlagClear
    };
    write(store, settings, flag, action, by.ip.clone(), extra).await
}

/// Records the automatic end of every flag past it at `now` (switched off
/// by [`SYSTEM_ACTOR`], audited, delivered like any change). Returns the
/// flags it ended. A flag changed by a person in between is left to that
/// change (the conflict is not an error here).
pub async fn end_expired_flags(
    store: &dyn Store,
    settings: &FlagSettings,
    now: Timestamp,
) -> Result<Vec<FlagKey>, FlagError> {
    let mut ended = Vec::new();
    for flag in store.flags().await? {
        let Some(end) = flag.ends_at else { continue };
        if !flag.on || now < end {
            continue;
        }
        let next = FlagRecord {
            key: flag.key.clone(),
            on: false,
            targets: Vec::new(),
            text: None,
            reason: format!(
                "automatic end at {end} (set by {}: {})",
                flag.set_by, flag.reason
            ),
            set_by: SYSTEM_ACTOR.to_string(),
            set_at: now,
            ends_at: None,
            version: flag.version + 1,
        };
        let mut extra = Map::new();
        extra.insert("ended_at".into(), json!(end.to_string()));
        match write(store, settings, next, AuditAction::FlagExpire, None, extra).await {
            Ok(_) => ended.push(flag.key),
            Err(FlagError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(ended)
}

/// Why a flag answered what it did (`OpenFeature`'s resolution reasons, as
/// OFREP lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The flag is on for everyone, or off only for the context's place.
    Static,
    /// A sales pause covers the context's country or region.
    TargetingMatch,
    /// The flag is off (never set, switched off or past its end).
    Disabled,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Static => "STATIC",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Disabled => "DISABLED",
        }
    }
}

/// What a storefront sent about itself (OFREP's evaluation context).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EvalContext {
    pub targeting_key: Option<String>,
    /// ISO 3166-1 alpha-2, any case.
    pub country: Option<String>,
    /// A region name as configured (`EU`, `UAE`).
    pub region: Option<String>,
}

/// One flag's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Evaluation {
    Value {
        key: FlagKey,
        value: Value,
        reason: Reason,
        variant: &'static str,
        /// Flag metadata (OFREP allows strings, numbers and booleans).
        metadata: Map<String, Value>,
    },
    /// The flag exists but the context does not let it be evaluated.
    InvalidContext { key: FlagKey, details: String },
}

/// What `key` answers the storefront with `ctx` at `now` (`flag` is its
/// stored state, `None` if never set).
pub fn evaluate(
    key: &FlagKey,
    flag: Option<&FlagRecord>,
    ctx: &EvalContext,
    now: Timestamp,
) -> Evaluation {
    let live = flag.filter(|f| is_live(f, now));
    let mut metadata = Map::new();
    metadata.insert("label".into(), json!(key.label()));
    if let Some(f) = live {
        metadata.insert("since".into(), json!(f.set_at.to_string()));
        if let Some(end) = f.ends_at {
            metadata.insert("endsAt".into(), json!(end.to_string()));
        }
    }
    let off = |metadata: Map<String, Value>, value: Value| Evaluation::Value {
        key: key.clone(),
        value,
        reason: Reason::Disabled,
        variant: "off",
        metadata,
    };
    match key {
        FlagKey::MaintenanceBanner => match live {
            Some(f) => Evaluation::Value {
                key: key.clone(),
                value: json!(f.text.clone().unwrap_or_default()),
                reason: Reason::Static,
                variant: "on",
                metadata,
            },
            None => off(metadata, json!("")),
        },
        FlagKey::SalesPause => {
            let Some(f) = live else {
                return off(metadata, json!(false));
            };
            let country = ctx
                .country
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty());
            let region = ctx
                .region
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            if country.is_none() && region.is_none() {
                return Evaluation::InvalidContext {
                    key: key.clone(),
                    details: "sales-pause is on for some places: the context must carry \
                              `country` (ISO 3166-1 alpha-2) or `region`"
                        .into(),
                };
            }
            let covered = |v: Option<&str>| {
                v.is_some_and(|v| f.targets.iter().any(|t| t.eq_ignore_ascii_case(v)))
            };
            metadata.insert("pausedIn".into(), json!(f.targets.join(",")));
            if covered(country) || covered(region) {
                Evaluation::Value {
                    key: key.clone(),
                    value: json!(true),
                    reason: Reason::TargetingMatch,
                    variant: "paused",
                    metadata,
                }
            } else {
                Evaluation::Value {
                    key: key.clone(),
                    value: json!(false),
                    reason: Reason::Static,
                    variant: "selling",
                    metadata,
                }
            }
        }
        _ => match live {
            Some(_) => Evaluation::Value {
                key: key.clone(),
                value: json!(true),
                reason: Reason::Static,
                variant: "on",
                metadata,
            },
            None => off(metadata, json!(false)),
        },
    }
}

/// Every flag's answer, in [`FlagKey::ALL`] order.
pub fn evaluate_all(flags: &[FlagRecord], ctx: &EvalContext, now: Timestamp) -> Vec<Evaluation> {
    FlagKey::ALL
        .iter()
        .map(|k| evaluate(k, flags.iter().find(|f| &f.key == k), ctx, now))
        .collect()
}

pub mod approval;

#[cfg(test)]
mod tests;
