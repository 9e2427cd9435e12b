//! `GET /alerts`: open alerts with acknowledge and resolve forms, the
//! silence form, active silences and the recent history (`?brand=` for one
//! brand's alerts and history); `GET /alerts/{id}`:
//! one episode with its state history and notification deliveries.
//!
//! The forms post to `/alerts/{id}/ack|resolve`, `/alerts/silences` and
//! `/alerts/silences/{id}/end` and
//! redirect back (post/redirect/get), so they work without script. Each
//! carries the session's CSRF token (checked by the guard) and acts as the
//! logged-in user with their address; the change goes through
//! `opsdeck_alerts::actions`, the same path as the API and Telegram, which
//! writes the audit log in the same transaction.

use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::params::{NoParams, Params};
use crate::view::{self, age};
use crate::{templates, AppState, Error};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::Form;
use jiff::SignedDuration;
use opsdeck_alerts::actions::{self, Actor, EpisodeGroup};
use opsdeck_alerts::episode::{self, Episode, EventBody};
use opsdeck_alerts::silence::{AlertLabels, Matchers, Silence};
use opsdeck_alerts::{AlertRules, EpisodeState};
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_store::alerts::EpisodeFilter;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes silence ids unique within a process (with the clock, across them).
static SILENCES: AtomicU64 = AtomicU64::new(1);
/// Silence durations offered by the form, in hours.
const DURATIONS_H: [i64; 6] = [1, 2, 4, 8, 24, 72];
/// The longest reason accepted.
const REASON_MAX: usize = 500;
/// The most open alerts /alerts reads; grouped, they make a short page.
const OPEN_MAX: u32 = 5_000;

/// What the pages call each rule: the merchant's words ("Inventory low"),
/// not the config id. Every alert carries its rule's name as it was when it
/// fired (so a renamed rule keeps its name); the configured rules name
/// those that have not fired.
pub(crate) struct RuleNames(HashMap<String, String>);

impl RuleNames {
    pub(crate) fn new<'a>(
        rules: &AlertRules,
        episodes: impl IntoIterator<Item = &'a Episode>,
    ) -> RuleNames {
        let mut names: HashMap<String, String> = rules.all().iter().cloned().collect();
        for e in episodes {
            names.insert(e.rule.clone(), e.alert.rule_name.clone());
        }
        RuleNames(names)
    }

    /// The rule's name, or its id when no name is known.
    pub(crate) fn of<'a>(&'a self, rule: &'a str) -> &'a str {
        self.0.get(rule).map_or(rule, String::as_str)
    }
}

/// The active silence (its author and reason) that keeps an episode quiet.
fn silenced_by(e: &Episode, silences: &[Silence], now: Timestamp) -> Option<String> {
    let labels = AlertLabels {
        rule: &e.rule,
        brand: &e.brand,
        subject: &e.alert.subject,
        severity: e.severity.as_str(),
    };
    silences
        .iter()
        .find(|s| s.covers(&labels, now))
        .map(|s| format!("{}: {}", s.author, s.reason))
}

/// A brand's name for its id (the id itself for a brand no longer configured).
pub(crate) fn brand_name(brands: &[Brand], id: &str) -> String {
    brands
        .iter()
        .find(|b| b.id.as_str() == id)
        .map_or_else(|| id.to_string(), |b| b.name.clone())
}

/// The alert episodes of `brands` (`None`: every brand), most recently
/// changed first, at most `limit`: the one read of alerts by the brand and
/// region filters (`params::chosen_brands`), for the pages, the API and
/// the dashboard's feed. Several brands (a region, or the brands a scoped
/// person sees) are read one query per brand and merged in the store's
/// order, so the limit counts the chosen brands' episodes only.
pub(crate) async fn episodes_of(
    state: &AppState,
    brands: Option<&[&Brand]>,
    open_only: bool,
    limit: u32,
) -> Result<Vec<Episode>, Error> {
    let filter = |brand: Option<String>| EpisodeFilter {
        open_only,
        brand,
        limit,
    };
    let Some(brands) = brands else {
        return Ok(episode::episodes(state.store.as_ref(), &filter(None)).await?);
    };
    let mut all = Vec::new();
    for b in brands {
        all.extend(episode::episodes(state.store.as_ref(), &filter(Some(b.id.to_string()))).await?);
    }
    all.sort_by(|a, b| (b.updated_at, b.id.as_str()).cmp(&(a.updated_at, a.id.as_str())));
    all.truncate(limit as usize);
    Ok(all)
}

/// The episode `id` if the person sees its brand; another brand's
/// episode is not there for them (404, as an unknown id), so its id
/// tells them nothing. Every read or action on one episode asks this.
pub(crate) async fn episode_in_scope(state: &AppState, id: &str) -> Result<Episode, Error> {
    episode::episode(state.store.as_ref(), id)
        .await?
        .filter(|e| crate::scope::sees(&e.brand))
        .ok_or(Error::NotFound)
}

/// The silences the person may see: those over every brand, and those
/// naming a brand they see, with only the brands they see named.
pub(crate) fn silences_in_scope(silences: Vec<Silence>) -> Vec<Silence> {
    let scope = crate::scope::current();
    silences
        .into_iter()
        .filter_map(|mut s| {
            if s.matchers.brands.is_empty() {
                return Some(s);
            }
            s.matchers.brands.retain(|b| scope.sees(b));
            (!s.matchers.brands.is_empty()).then_some(s)
        })
        .collect()
}

/// Whether the person may end silence `id`: one who sees every brand
/// may end any; one who does not, only a silence over their brands alone
/// (ending another's would wake another region's alerts). An unknown id
/// is left to the action, which names it.
pub(crate) async fn may_end_silence(state: &AppState, id: &str) -> Result<(), Error> {
    if crate::scope::current().is_every() {
        return Ok(());
    }
    let silences = state.store.alert_silences(None).await?;
    let Some(row) = silences.into_iter().find(|r| r.id == id) else {
        return Ok(());
    };
    let brands = serde_json::from_value::<Silence>(row.body)
        .map(|s| s.matchers.brands)
        .unwrap_or_default();
    if brands.is_empty() || !brands.iter().all(|b| crate::scope::sees(b)) {
        return Err(state.out_of_scope(&format!("silence {id:?}")));
    }
    Ok(())
}

/// The brands a new silence covers: those it names (each checked, a 403
/// outside the person's scope), or, when it names none, every brand for
/// a person who sees every brand and their own brands for one who does
/// not, so a scoped person cannot silence another region's alerts.
pub(crate) fn silence_brands(state: &AppState, named: Vec<String>) -> Result<Vec<String>, Error> {
    for b in &named {
        state.brand(b)?;
    }
    if !named.is_empty() || crate::scope::current().is_every() {
        return Ok(named);
    }
    let seen: Vec<String> = state
        .visible_brands()
        .iter()
        .map(|b| b.id.to_string())
        .collect();
    if seen.is_empty() {
        return Err(state.out_of_scope("silencing alerts"));
    }
    Ok(seen)
}

fn row(
    e: &Episode,
    names: &RuleNames,
    brands: &[Brand],
    silences: &[Silence],
    now: Timestamp,
) -> Value {
    json!({
        "id": e.id, "rule": e.rule, "rule_name": names.of(&e.rule), "brand": e.brand,
        "brand_name": brand_name(brands, &e.brand),
        "severity": e.severity, "state": e.state, "opened": age(e.opened_at, now),
        "updated": age(e.updated_at, now),
        // What the alert is about ("Order #3244 has waited 99.3 days…"):
        // without it a list of one rule's alerts reads as identical lines.
        // Worded without amounts for roles that may not see money.
        "summary": view::alert_why(&e.alert),
        "silenced_by": if e.state == EpisodeState::Resolved { None } else { silenced_by(e, silences, now) },
    })
}

/// What a group's members are: "14 orders", "3 SKUs" (the words a
/// one-rule notification's headline uses too).
pub(crate) fn members_noun(group: &EpisodeGroup) -> String {
    actions::members_in_words(&group.members[0].alert.subject, group.members.len())
}

/// The spread of the members' figures ("4.1 days to 243.0 days"), or
/// empty when they have none or all agree.
fn figure_range(group: &EpisodeGroup) -> String {
    // As the viewer may read them: an amount only for roles that see money.
    let figures: Vec<(f64, String)> = group
        .members
        .iter()
        .filter_map(|m| {
            let v = view::figure_as_shown(m.alert.value.as_ref())?;
            Some((v.value, v.text))
        })
        .collect();
    let low = figures.iter().min_by(|a, b| a.0.total_cmp(&b.0));
    let high = figures.iter().max_by(|a, b| a.0.total_cmp(&b.0));
    match (low, high) {
        (Some(l), Some(h)) if l.1 != h.1 => format!("{} to {}", l.1, h.1),
        (Some(l), Some(_)) => l.1.clone(),
        _ => String::new(),
    }
}

/// One group of open alerts (a rule on a brand) as /alerts shows it: the
/// summary line, the group's actions, and its members behind `<details>`.
fn group_view(
    g: &EpisodeGroup,
    names: &RuleNames,
    brands: &[Brand],
    silences: &[Silence],
    now: Timestamp,
) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|e| row(e, names, brands, silences, now))
        .collect();
    let silenced = members
        .iter()
        .filter(|m| !m["silenced_by"].is_null())
        .count();
    json!({
        "rule": g.rule, "brand": g.brand, "rule_name": names.of(&g.rule),
        "brand_name": brand_name(brands, &g.brand), "severity": g.severity,
        "count": g.members.len(), "members_text": members_noun(g), "firing": g.firing(),
        "acknowledged": g.members.len() - g.firing(), "silenced": silenced,
        "range": figure_range(g), "first_opened": age(g.first_opened_at(), now),
        "anchor": format!("group-{}-{}", g.rule, g.brand),
        "members": members,
    })
}

/// The silences active at `now`, as the evaluator reads them (a row that
/// does not decode is skipped there too).
async fn active_silences(state: &AppState, now: Timestamp) -> Result<Vec<Silence>, Error> {
    Ok(state
        .store
        .alert_silences(Some(now))
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_value::<Silence>(r.body).ok())
        .collect())
}

/// `GET /alerts?brand=`: one brand's alerts (empty or absent: every brand).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    brand: Option<String>,
    /// A region id: its brands' alerts (see `params::chosen_brands`).
    region: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Params<ListQuery>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    let brand = q.brand.as_deref().map(str::trim);
    let region = q.region.as_deref().map(str::trim);
    let chosen = crate::params::chosen_brands(&state, brand, region)?;
    let now = state.now();
    let open = episodes_of(&state, chosen.as_deref(), true, OPEN_MAX).await?;
    let all = episodes_of(&state, chosen.as_deref(), false, 50).await?;
    // Every brand seen, as the dashboard's picker: the silence form
    // offers them too.
    let (brands, regions) = super::pickers(&state, None, false)?;
    let names = RuleNames::new(&state.alert_rules, open.iter().chain(&all));
    let silences = silences_in_scope(active_silences(&state, now).await?);
    let history: Vec<_> = all
        .iter()
        .filter(|e| e.state == EpisodeState::Resolved)
        .map(|e| row(e, &names, &state.brands, &silences, now))
        .collect();
    let words = |values: &[String], name: &dyn Fn(&str) -> String| {
        values
            .iter()
            .map(|v| name(v))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let brand_name = |id: &str| brand_name(&state.brands, id);
    let silence_rows: Vec<Value> = silences
        .iter()
        .map(|s| {
            json!({
                "rules": words(&s.matchers.rules, &|r| names.of(r).to_string()),
                "brands": words(&s.matchers.brands, &brand_name),
                "labels": s.matchers.labels.join(", "),
                "reason": s.reason, "author": s.author, "ends": s.ends_at.to_string(),
                "ends_text": s.ends_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
                "id": s.id,
            })
        })
        .collect();
    let html = templates::render(
        "alerts.html",
        minijinja::context! {
            open_count => open.len(),
            groups => actions::group_episodes(open.iter().cloned())
                .iter()
                .map(|g| group_view(g, &names, &state.brands, &silences, now))
                .collect::<Vec<_>>(),
            history => history,
            silences => silence_rows,
            can_act => user.can(Permission::ActOnAlerts),
            can_declare => user.can(Permission::ManageIncidents),
            csrf_token => user.csrf_token,
            brands => brands, regions => regions, region => region.unwrap_or_default(),
            selected_brand => brand.unwrap_or_default(),
            rules => state.alert_rules.all(),
            durations => DURATIONS_H,
            delivery_warning => state.alert_rules.delivery_warning(),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// `GET /alerts/{id}`: the episode, every state change, every delivery.
pub(crate) async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    params: Result<Params<NoParams>, Error>,
) -> Result<Html<String>, PageError> {
    params?;
    let now = state.now();
    let episode = episode_in_scope(&state, &id).await?;
    let events: Vec<Value> = state
        .store
        .alert_events(&id)
        .await
        .map_err(Error::from)?
        .iter()
        .map(|e| {
            let by = EventBody::of(&e.body).by.unwrap_or_default();
            json!({ "kind": e.kind, "at": e.at.to_string(), "when": age(e.at, now), "by": by })
        })
        .collect();
    let sent: Vec<Value> = state
        .store
        .outbox_list(Some(&id), 100)
        .await
        .map_err(Error::from)?
        .iter()
        .map(|n| {
            json!({
                "channel": n.channel, "status": serde_json::to_value(n.status).unwrap_or(Value::Null),
                "attempts": n.attempts, "created": age(n.created_at, now),
                "last_error": n.last_error,
            })
        })
        .collect();
    let why = view::alert_why(&episode.alert);
    let names = RuleNames::new(&state.alert_rules, [&episode]);
    let silences = active_silences(&state, now).await?;
    let incidents = crate::incidents::of_alert(&state, &id).await?;
    let html = templates::render(
        "alert.html",
        minijinja::context! {
            alert => row(&episode, &names, &state.brands, &silences, now), why => why, events => events, sent => sent,
            incidents => incidents,
            can_declare => user.can(Permission::ManageIncidents),
            can_act => user.can(Permission::ActOnAlerts),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// The ack/resolve form's fields. Unknown fields are allowed: the form
/// also carries the anti-forgery token, which the guard checks.
#[derive(Debug, Deserialize)]
pub(crate) struct ActionForm {
    /// Where to go back to: the list or the episode's page.
    #[serde(default)]
    back: Option<String>,
}

/// The logged-in user acting from a page.
fn actor(user: &CurrentUser) -> Actor {
    user.actor()
}

/// Back to the episode's page when the form came from there, else the list.
fn back(form: &ActionForm, id: &str) -> Redirect {
    match form.back.as_deref() {
        Some("episode") => {
            let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
            Redirect::to(&format!("/alerts/{id}"))
        }
        _ => Redirect::to("/alerts"),
    }
}

pub(crate) async fn ack(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    episode_in_scope(&state, &id).await?;
    actions::acknowledge(state.store.as_ref(), &id, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    Ok(back(&form, &id))
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    episode_in_scope(&state, &id).await?;
    actions::resolve(state.store.as_ref(), &id, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    Ok(back(&form, &id))
}

/// The silence form: what to match (any of rule, brand, label), for how
/// many hours, and why.
#[derive(Debug, Deserialize)]
pub(crate) struct SilenceForm {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    brand: String,
    #[serde(default)]
    label: String,
    hours: String,
    #[serde(default)]
    reason: String,
}

fn one(s: &str) -> Vec<String> {
    let s = s.trim();
    if s.is_empty() {
        Vec::new()
    } else {
        vec![s.to_string()]
    }
}

pub(crate) async fn silence(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<SilenceForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(f) =
        form.map_err(|e| Error::BadRequest(format!("silence form: {}", e.body_text())))?;
    let silence = checked_silence(&state, &user, &f)?;
    actions::silence(state.store.as_ref(), &silence, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to("/alerts#silences"))
}

/// The silence a form asks for, after checking every field: a duration
/// the form offers, a reason within [`REASON_MAX`], a configured rule and
/// brand.
fn checked_silence(
    state: &AppState,
    user: &CurrentUser,
    f: &SilenceForm,
) -> Result<Silence, Error> {
    let hours: i64 = f
        .hours
        .trim()
        .parse()
        .ok()
        .filter(|h| DURATIONS_H.contains(h))
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "duration must be one of {DURATIONS_H:?} hours, not {:?}",
                f.hours
            ))
        })?;
    let reason = f.reason.trim().to_string();
    if reason.is_empty() {
        return Err(Error::BadRequest("a silence needs a reason".into()));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(Error::BadRequest(format!(
            "the reason is longer than {REASON_MAX} characters"
        )));
    }
    let rules = one(&f.rule);
    state.alert_rules.check(&rules)?;
    let brands = silence_brands(state, one(&f.brand))?;
    let now = state.now();
    Ok(Silence {
        id: format!(
            "S{}-w{}",
            now.as_microsecond(),
            SILENCES.fetch_add(1, Ordering::Relaxed)
        ),
        matchers: Matchers {
            rules,
            brands,
            labels: one(&f.label),
        },
        starts_at: now,
        ends_at: now + SignedDuration::from_hours(hours),
        reason,
        author: user.username.clone(),
        incident: None,
    })
}

/// A group's forms name it by rule and brand.
#[derive(Debug, Deserialize)]
pub(crate) struct GroupForm {
    rule: String,
    brand: String,
}

/// Back to the group on the list.
fn to_group(rule: &str, brand: &str) -> Redirect {
    let anchor: String =
        form_urlencoded::byte_serialize(format!("group-{rule}-{brand}").as_bytes()).collect();
    Redirect::to(&format!("/alerts#{anchor}"))
}

/// `POST /alerts/groups/ack`: acknowledges every firing member of a group
/// (one audit entry with the member count).
pub(crate) async fn ack_group(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<GroupForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(f) = form.map_err(|e| Error::BadRequest(format!("group form: {}", e.body_text())))?;
    state.brand(f.brand.trim())?;
    actions::acknowledge_group(
        state.store.as_ref(),
        &f.rule,
        &f.brand,
        &actor(&user),
        state.now(),
    )
    .await
    .map_err(Error::from)?;
    Ok(to_group(&f.rule, &f.brand))
}

/// `POST /alerts/groups/silence`: silences a group (its rule on its brand)
/// for the chosen hours; the audit entry says how many alerts it covered.
pub(crate) async fn silence_group(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<SilenceForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(f) =
        form.map_err(|e| Error::BadRequest(format!("silence form: {}", e.body_text())))?;
    if f.rule.trim().is_empty() || f.brand.trim().is_empty() {
        return Err(Error::BadRequest("a group silence names its rule and brand".into()).into());
    }
    let silence = checked_silence(&state, &user, &f)?;
    let members = actions::open_group(state.store.as_ref(), f.rule.trim(), f.brand.trim())
        .await
        .map_err(Error::from)?
        .map_or(0, |g| g.members.len());
    let who = actor(&user).with_context(json!({"group_members": members}));
    actions::silence(state.store.as_ref(), &silence, &who, state.now())
        .await
        .map_err(Error::from)?;
    Ok(to_group(f.rule.trim(), f.brand.trim()))
}

/// Ends a silence now (the "End now" button of each active silence).
pub(crate) async fn end_silence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    may_end_silence(&state, &id).await?;
    actions::end_silence(state.store.as_ref(), &id, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to("/alerts#silences"))
}
