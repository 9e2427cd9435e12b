//! The dashboard's tiles. Each tile is one HTML fragment, the same markup
//! whether it is part of `GET /` or fetched alone from
//! `GET /fragments/{tile}` when the projection changes, so a live update
//! can never drift from a reload.
//!
//! Every tile carries its freshness ("synced 3 min ago"); past twice its
//! source's sync cadence it is marked stale (a class the stylesheet
//! colours, and the word "stale" for those who cannot see the colour).
//!
//! A tile is a [`Tile`] variant declared with its facts in the `tiles!`
//! list below (id, heading, drill-down link, whether it shows money or
//! helpdesk data, how its body is made). Adding one is that entry, its body
//! function here and its template `templates/tiles/{id}.html`
//! (docs/recipes/tile.md).

use super::format;
use super::{panel_config, read};
use crate::charts::{bar, gauge, sparkline, Datum};
use crate::view::{self, age, count, DashboardPage};
use crate::{cards, templates, AppState, Error};
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_metrics::money_json::Guarded;
use opsdeck_metrics::panels;
use opsdeck_metrics::projection::BrandIx;
use opsdeck_metrics::projection::Stage;
use opsdeck_metrics::Projection;
use opsdeck_store::SyncState;
use serde::Serialize;
use serde_json::json;

/// Stale orders listed by name in the pipeline tile (the rest are counted).
const STALE_SHOWN: usize = 3;

/// What the dashboard knows about one tile, in one place.
struct TileFacts {
    /// The tile's name in `/fragments/{tile}`, the markup and its template
    /// (`tiles/{id}.html`).
    id: &'static str,
    /// Its heading.
    title: &'static str,
    /// The drill-down page behind it and the words of its link.
    drill: Option<(&'static str, &'static str)>,
    /// It shows revenue: a viewer without the revenue permission sees
    /// counts only and no link to the (refusing) drill-down page.
    money: bool,
    /// It reads helpdesk data, so its freshness counts the shared
    /// helpdesks too, not only the brands' own sources.
    support: bool,
    /// How its body is made.
    body: Body,
}

/// How a tile's body is made.
#[derive(Clone, Copy)]
enum Body {
    /// The order-volume cards (from the store, not the projection).
    Volume,
    /// Urgent tickets and open alert groups.
    Feed,
    /// One part per launched brand, from the projection.
    Brand(BrandBody),
    /// One part per support view: the brands, then (when every brand is
    /// shown) the unattributed tickets and all brands together, so the
    /// rows add up to the helpdesk's totals. `label` names the view, `tz`
    /// is its zone.
    SupportView(SupportBody),
}

/// The body of a projection-backed tile, per brand or per support view.
#[derive(Clone, Copy)]
enum Projected {
    Brand(BrandBody),
    SupportView(SupportBody),
}

type BrandBody = fn(&Projection, &panels::PanelConfig, BrandIx, Timestamp) -> serde_json::Value;

type SupportBody = fn(
    &Projection,
    &panels::PanelConfig,
    BrandIx,
    &str,
    &jiff::tz::TimeZone,
    Timestamp,
) -> serde_json::Value;

/// Declares the [`Tile`] enum, its layout order ([`Tile::ALL`]) and each
/// tile's [`TileFacts`] from one list, so a tile cannot exist without its
/// facts nor be left out of the dashboard.
macro_rules! tiles {
    ($($(#[$doc:meta])* $tile:ident => $facts:expr,)+) => {
        /// A dashboard tile.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Tile {
            $($(#[$doc])* $tile,)+
        }

        impl Tile {
            /// Every tile, in the order the dashboard lays them out.
            pub(crate) const ALL: &'static [Tile] = &[$(Tile::$tile),+];

            fn facts(self) -> TileFacts {
                match self {
                    $(Tile::$tile => $facts,)+
                }
            }
        }
    };
}

tiles! {
    Volume => TileFacts {
        id: "volume", title: "Order volume",
        drill: Some(("/pulse", "Sales pulse")),
        money: true, support: false, body: Body::Volume,
    },
    Pipeline => TileFacts {
        id: "pipeline", title: "Fulfillment pipeline",
        drill: Some(("/pulse", "Open fulfillment blockers")),
        money: false, support: false, body: Body::Brand(pipeline),
    },
    Inventory => TileFacts {
        id: "inventory", title: "Inventory alerts",
        drill: Some(("/inventory", "All inventory alerts")),
        money: false, support: false, body: Body::Brand(inventory),
    },
    Catalog => TileFacts {
        id: "catalog", title: "Catalog health",
        drill: Some(("/catalog", "Catalog issues")),
        money: false, support: false, body: Body::Brand(catalog),
    },
    Queue => TileFacts {
        id: "queue", title: "Ticket queue",
        drill: Some(("/tickets", "Ticket queue")),
        money: false, support: true, body: Body::SupportView(queue),
    },
    Csat => TileFacts {
        id: "csat", title: "Customer satisfaction",
        drill: Some(("/tickets", "Ticket queue")),
        money: false, support: true, body: Body::SupportView(csat),
    },
    Times => TileFacts {
        id: "times", title: "Response and resolution",
        drill: Some(("/tickets", "Ticket queue")),
        money: false, support: true, body: Body::SupportView(times),
    },
    Issues => TileFacts {
        id: "issues", title: "Top issues",
        drill: Some(("/wismo", "Where-is-my-order analytics")),
        money: false, support: true, body: Body::SupportView(issues),
    },
    Feed => TileFacts {
        id: "feed", title: "Urgent tickets and alerts",
        drill: Some(("/alerts", "All alerts")),
        money: false, support: true, body: Body::Feed,
    },
}

impl Tile {
    /// The tile named `id` (as in `/fragments/{tile}`), if there is one.
    pub(crate) fn parse(id: &str) -> Option<Tile> {
        Tile::ALL.iter().copied().find(|t| t.id() == id)
    }

    pub(crate) fn id(self) -> &'static str {
        self.facts().id
    }

    /// Its body's template: `templates/tiles/{id}.html`.
    fn template_name(self) -> String {
        format!("tiles/{}.html", self.id())
    }
}

/// Which brands a page shows (all configured, or those the brand and
/// region filters choose: `params::chosen_brands`) and the query string
/// that chooses them again (for a tile's fragment and drill-down links).
pub(crate) struct Shown<'a> {
    pub brands: Vec<&'a Brand>,
    /// `brand=…&region=…` as asked, empty for every brand.
    pub query: String,
    /// Whether every brand is shown (no filter).
    pub all: bool,
}

impl<'a> Shown<'a> {
    pub(crate) fn of(
        state: &'a AppState,
        brand: Option<&str>,
        region: Option<&str>,
    ) -> Result<Shown<'a>, Error> {
        let chosen = crate::params::chosen_brands(state, brand, region)?;
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (key, value) in [("brand", brand), ("region", region)] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                query.append_pair(key, v);
            }
        }
        Ok(Shown {
            all: chosen.is_none(),
            brands: chosen.unwrap_or_else(|| state.brands.iter().collect()),
            query: query.finish(),
        })
    }

    /// `path` with the filter's query string.
    fn link(&self, path: &str) -> String {
        if self.query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", self.query)
        }
    }
}

#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
    title: &'a str,
    /// The fragment URL the live script re-fetches.
    src: String,
    freshness: String,
    stale: bool,
    body: String,
    /// The drill-down page behind the tile and its link text.
    more: Option<(String, &'static str)>,
}

/// The whole `tile` (frame and body) for `brands` at `now`; `money` is
/// whether the viewer may see revenue (without it a money tile shows
/// counts only). `states` is every source's sync state, read once per
/// request however many tiles it renders.
pub(crate) async fn render(
    state: &AppState,
    tile: Tile,
    shown: &Shown<'_>,
    money: bool,
    states: &[SyncState],
    now: Timestamp,
) -> Result<String, Error> {
    let facts = tile.facts();
    let name = facts.id;
    let brands = &shown.brands;
    let (freshness, stale) = tile_freshness(state, facts.support, brands, states, now);
    let body = match facts.body {
        Body::Volume => volume(state, brands, money, states, now).await?,
        Body::Feed => feed(state, brands, shown.all, now).await?,
        Body::Brand(body) => projected(state, tile, Projected::Brand(body), brands, now)?,
        Body::SupportView(body) => {
            projected(state, tile, Projected::SupportView(body), brands, now)?
        }
    };
    let src = shown.link(&format!("/fragments/{name}"));
    // A money tile's drill-down is revenue: no link to a page that would
    // refuse.
    let more = facts
        .drill
        .filter(|_| money || !facts.money)
        .map(|(path, text)| (shown.link(path), text));
    let frame = Frame {
        name,
        title: facts.title,
        src,
        freshness,
        stale,
        body,
        more,
    };
    Ok(templates::render("tiles/frame.html", frame)?)
}

/// "synced 3 min ago" from the oldest newest-sync of the tile's sources
/// (store tiles: the brands' own sources; support tiles: shared helpdesks
/// too), and whether any of them is stale by the one staleness rule
/// ([`opsdeck_metrics::source_staleness`], each resource against its
/// configured cadence), the same the "source stale" alert applies.
fn tile_freshness(
    state: &AppState,
    support: bool,
    brands: &[&Brand],
    states: &[SyncState],
    now: Timestamp,
) -> (String, bool) {
    let mut oldest: Option<Timestamp> = None;
    let mut any = false;
    let mut stale = false;
    for s in state.sources.iter() {
        let relevant = match &s.brand {
            Some(b) => brands.iter().any(|x| &x.id == b && x.launched),
            None => support,
        };
        if !relevant {
            continue;
        }
        any = true;
        let newest = states
            .iter()
            .filter(|st| st.source == s.id)
            .filter_map(|st| st.last_success_at)
            .max();
        match newest {
            None => return ("never synced".to_string(), true),
            Some(at) => oldest = Some(oldest.map_or(at, |o| o.min(at))),
        }
        stale |= opsdeck_metrics::source_staleness(
            &s.id,
            states,
            &state.panel_config.cadences,
            opsdeck_metrics::STALE_AFTER_CADENCES,
            now,
        )
        .is_some_and(opsdeck_metrics::Staleness::is_stale);
    }
    match oldest {
        Some(at) => {
            let word = if stale { "stale: synced" } else { "synced" };
            (format!("{word} {}", age(at, now)), stale)
        }
        None if any => ("never synced".to_string(), true),
        None => ("no sources".to_string(), false),
    }
}

async fn volume(
    state: &AppState,
    brands: &[&Brand],
    money: bool,
    states: &[SyncState],
    now: Timestamp,
) -> Result<String, Error> {
    let panels = cards::load(state, brands, states, now).await?;
    let page = DashboardPage::new(&panels, now);
    // The all-brand total in the reporting currency, from the projection.
    let cfg = panel_config(state);
    let total = {
        let p = read(state);
        // The brands shown, in the reporting currency by its one rule
        // (`PanelConfig::to_reporting`, inside `sales`).
        let only: Vec<_> = brands
            .iter()
            .filter_map(|b| p.ctx.brand_ix(&b.id))
            .collect();
        panels::sales::sales(&p, &cfg, Some(&only), panels::Range::Today, now).total
    };
    let without_rate = total.brands_without_rate.join(", ");
    let ctx = minijinja::context! {
        brands => page.brands,
        total_orders => count(total.orders.max(0) as u64),
        // Rendered only for roles that may see revenue.
        total_revenue => Guarded(if total.revenue_beyond_range {
            format!("≥ {}", total.gross_revenue.display())
        } else {
            total.gross_revenue.display()
        }),
        total_delta => Guarded(view::delta(total.revenue_delta, "yesterday", &total.prior_gross_revenue.display())),
        reporting_currency => cfg.reporting_currency.code(),
        without_rate => without_rate,
        money => money,
    };
    Ok(templates::render(&Tile::Volume.template_name(), ctx)?)
}

/// One brand's part of a projected tile.
#[derive(Serialize)]
struct BrandPart {
    id: String,
    name: String,
    launched: bool,
    #[serde(flatten)]
    body: serde_json::Value,
}

fn projected(
    state: &AppState,
    tile: Tile,
    body: Projected,
    brands: &[&Brand],
    now: Timestamp,
) -> Result<String, Error> {
    let cfg = panel_config(state);
    let p = read(state);
    let mut parts = Vec::new();
    for brand in brands {
        let Some(b) = p.ctx.brand_ix(&brand.id) else {
            continue;
        };
        let part = match body {
            _ if !brand.launched => json!({}),
            Projected::Brand(body) => body(&p, &cfg, b, now),
            Projected::SupportView(body) => body(&p, &cfg, b, &brand.name, &brand.time_zone, now),
        };
        parts.push(BrandPart {
            id: brand.id.to_string(),
            name: brand.name.clone(),
            launched: brand.launched,
            body: part,
        });
    }
    // Support tiles list the unattributed tickets and all brands together
    // after the brands, so their rows add up to the helpdesk's totals.
    if let Projected::SupportView(body) = body {
        // Only for a person who sees every brand: they hold every
        // brand's tickets.
        if brands.len() == state.brands.len() && crate::scope::current().is_every() {
            for (b, id, label) in panels::support::account_views() {
                parts.push(BrandPart {
                    id: id.to_string(),
                    name: label.to_string(),
                    launched: true,
                    body: body(&p, &cfg, b, label, p.ctx.zone(b), now),
                });
            }
        }
    }
    drop(p);
    Ok(templates::render(
        &tile.template_name(),
        minijinja::context! { brands => parts },
    )?)
}

fn stage_name(s: Stage) -> &'static str {
    match s {
        Stage::Unfulfilled => "Unfulfilled",
        Stage::Partial => "Partially fulfilled",
        Stage::InTransit => "In transit",
        Stage::Delivered => "Delivered",
        Stage::Exception => "Delivery exception",
        Stage::ShippedUntracked => "Shipped, no tracking",
    }
}

fn day_label(t: Timestamp, tz: &jiff::tz::TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%b %-d").to_string()
}

// The bodies of the projection-backed tiles: a store tile's for one
// launched brand, a support tile's for one view (a brand, the
// unattributed tickets or all brands; `label` names it, `tz` is its zone).

fn pipeline(
    p: &Projection,
    _cfg: &panels::PanelConfig,
    b: BrandIx,
    now: Timestamp,
) -> serde_json::Value {
    let brand = p.brand(b);
    let f = panels::fulfillment::fulfillment(p, b, now);
    let stages: Vec<Datum> = f
        .stages
        .iter()
        .map(|s| {
            Datum::new(
                stage_name(s.stage),
                s.orders as f64,
                count(s.orders.max(0) as u64),
            )
        })
        .collect();
    let flagged: Vec<bool> = f
        .stages
        .iter()
        .map(|s| s.stage == Stage::Unfulfilled && f.stale_count > 0)
        .collect();
    let chart = bar::funnel(
        &format!(
            "{}: orders of the last 30 days by fulfillment stage",
            brand.name
        ),
        &stages,
        &flagged,
    );
    json!({
        "chart": chart.0,
        "buckets": f.age_buckets.iter().map(|a| json!({"label": a.label, "orders": count(a.orders.max(0) as u64)})).collect::<Vec<_>>(),
        "stale_count": f.stale_count,
        // The oldest few, each linked to its timeline.
        "stale": f.stale.iter().take(STALE_SHOWN).map(|o| json!({
            "order": o.order,
            "href": super::drill::order_path(brand.id.as_str(), &o.order),
            "age": format::hours(Some(o.age_hours as f64)),
        })).collect::<Vec<_>>(),
        "stale_after_days": f.stale_after_days,
        "time_to_ship": format::hours(f.mean_time_to_ship_hours),
    })
}

fn inventory(
    p: &Projection,
    cfg: &panels::PanelConfig,
    b: BrandIx,
    now: Timestamp,
) -> serde_json::Value {
    let inv = panels::inventory::inventory(p, cfg, b, now);
    json!({
        "out_of_stock": inv.out_of_stock,
        "low": inv.low,
        "tracked": inv.tracked_variants,
        "lines": inv.alerts.iter().take(5).map(|l| json!({
            "product": l.product, "variant": l.variant, "sku": l.sku,
            "quantity": l.quantity,
            "severity": l.stock_state.label(),
            "days_left": format::days(l.days_until_stockout),
        })).collect::<Vec<_>>(),
    })
}

fn catalog(
    p: &Projection,
    _cfg: &panels::PanelConfig,
    b: BrandIx,
    _now: Timestamp,
) -> serde_json::Value {
    let c = panels::catalog::catalog(p, b);
    json!({
        "score": c.health_score.map_or_else(|| view::NO_VALUE.to_string(), |s| format!("{:.0}", s * 100.0)),
        "active": c.active, "unlisted": c.unlisted, "draft": c.draft, "archived": c.archived,
        "missing_images": c.missing_images, "missing_description": c.missing_description,
        "zero_price": c.zero_price,
    })
}

fn queue(
    p: &Projection,
    cfg: &panels::PanelConfig,
    b: BrandIx,
    label: &str,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> serde_json::Value {
    let q = panels::support::queue(p, b, cfg.week_start, now);
    let pts: Vec<Datum> = q
        .created_series
        .iter()
        .map(|pt| {
            Datum::new(
                day_label(pt.t, tz),
                pt.value,
                format!("{:.0} created", pt.value),
            )
        })
        .collect();
    json!({
        "open": q.open, "pending": q.pending, "resolved_this_week": q.resolved_this_week,
        "created_today": q.created_today, "resolved_today": q.resolved_today,
        "spark": sparkline::sparkline(&format!("{}: tickets created, last 7 days", label), &pts, 0).0,
    })
}

fn csat(
    p: &Projection,
    _cfg: &panels::PanelConfig,
    b: BrandIx,
    label: &str,
    tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> serde_json::Value {
    let c = panels::support::csat(p, b, panels::Range::Days { days: 30 }, now);
    let zone = c.zone.map(|z| match z {
        panels::support::Zone::Green => "good",
        panels::support::Zone::Yellow => "warning",
        panels::support::Zone::Red => "poor",
    });
    let text = match (c.mean, zone) {
        (Some(m), Some(z)) => format!("{m:.1} · {z}"),
        _ => String::new(),
    };
    let trend: Vec<Datum> = c
        .trend
        .iter()
        .map(|pt| Datum::new(day_label(pt.t, tz), pt.value, format!("{:.2}", pt.value)))
        .collect();
    json!({
        "gauge": gauge::gauge(&format!("{}: CSAT, last 30 days", label), c.mean, 1.0, 5.0, &gauge::csat_zones(), &text).0,
        "trend": sparkline::sparkline(&format!("{}: CSAT 7-day mean, 30 days", label), &trend, 2).0,
        "surveys": c.surveys,
    })
}

fn times(
    p: &Projection,
    _cfg: &panels::PanelConfig,
    b: BrandIx,
    _label: &str,
    _tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> serde_json::Value {
    let t = panels::support::times(p, b, panels::Range::Days { days: 7 }, now);
    json!({
        "frt_median": format::hours(t.first_response_median_hours),
        "frt_mean": format::hours(t.first_response_mean_hours),
        "res_median": format::hours(t.resolution_median_hours),
        "res_mean": format::hours(t.resolution_mean_hours),
        "first_response_tickets": t.first_response_tickets,
        "resolved_tickets": t.resolved_tickets,
    })
}

fn issues(
    p: &Projection,
    _cfg: &panels::PanelConfig,
    b: BrandIx,
    label: &str,
    _tz: &jiff::tz::TimeZone,
    now: Timestamp,
) -> serde_json::Value {
    let i = panels::support::top_issues(p, b, panels::Range::Days { days: 7 }, now);
    let data: Vec<Datum> = i
        .by_tag
        .iter()
        .chain(i.untagged_clusters.iter())
        .take(6)
        .map(|x| {
            Datum::new(
                x.name.clone(),
                x.tickets as f64,
                format!("{} ({:.0} %)", x.tickets, x.share * 100.0),
            )
        })
        .collect();
    json!({
        "chart": bar::bars(&format!("{}: top issues, last 7 days", label), &data, 0).0,
        "tickets": i.tickets,
    })
}

/// The open alerts the feed reads (then groups) and the groups it lists.
const FEED_ALERTS_READ: u32 = 5_000;
const FEED_GROUPS: usize = 10;

/// Urgent tickets and review items past their SLA from the projection,
/// and open alert episodes from the store, grouped by rule and brand.
async fn feed(
    state: &AppState,
    brands: &[&Brand],
    all: bool,
    now: Timestamp,
) -> Result<String, Error> {
    let cfg = panel_config(state);
    // The top of the ranked urgent queue: every brand and the unattributed
    // tickets together when all brands are shown, else the one brand's.
    let mut urgent = Vec::new();
    let reviews;
    {
        let p = read(state);
        // Review items past their SLA are urgent too (issue 15, point 3).
        reviews = crate::review_queue::urgent_reviews(&p, &cfg, brands, now);
        // Every brand: the helpdesk-wide queue (unattributed included);
        // else the shown brands' queues, merged by score.
        let views: Vec<_> = if all {
            vec![panels::support::ALL_BRANDS]
        } else {
            brands
                .iter()
                .filter(|b| b.launched)
                .filter_map(|b| p.ctx.brand_ix(&b.id))
                .collect()
        };
        let mut tickets: Vec<_> = views
            .into_iter()
            .flat_map(|b| panels::urgent::urgent(&p, &cfg, b, now).tickets)
            .collect();
        tickets.sort_by_key(|t| std::cmp::Reverse(t.score));
        for t in tickets.iter().take(8) {
            let brand = state.brands.iter().find(|x| x.id.as_str() == t.brand);
            urgent.push(json!({
                    "brand": brand.map_or("Unattributed", |x| x.name.as_str()),
                    "subject": t.subject,
                    "helpdesk_url": t.helpdesk_url,
                    "score": t.score,
                    "age": format::hours(Some(t.age_hours as f64)),
                    "order": t.linked_order,
                    "order_href": t.linked_order.as_deref().and_then(|o| super::drill::order_path(&t.brand, o)),
                    "reasons": t.flags.iter().map(|f| f.reason.clone()).collect::<Vec<_>>(),
                    // The customer's risk flags (amounts only where shown).
                    "risk": t.customer_risk,
                }));
        }
    }
    let chosen = (!all).then_some(brands);
    let episodes = super::alerts::episodes_of(state, chosen, true, FEED_ALERTS_READ).await?;
    let names = super::alerts::RuleNames::new(&state.alert_rules, &episodes);
    // Grouped by rule and brand as /alerts groups them: 14 stale orders
    // are one line here too.
    let alerts: Vec<_> = opsdeck_alerts::actions::group_episodes(episodes.iter().cloned())
        .iter()
        .take(FEED_GROUPS)
        .map(|g| {
            let first = &g.members[0];
            let href = if g.members.len() == 1 {
                format!("/alerts/{}", first.id)
            } else {
                format!("/alerts#group-{}-{}", g.rule, g.brand)
            };
            json!({
                "href": href, "rule": g.rule, "rule_name": names.of(&g.rule), "brand": g.brand,
                "brand_name": super::alerts::brand_name(&state.brands, &g.brand),
                "severity": g.severity, "count": g.members.len(),
                "members_text": super::alerts::members_noun(g),
                "state": if g.firing() > 0 { "firing" } else { "acknowledged" },
                "opened": age(g.first_opened_at(), now),
            })
        })
        .collect();
    Ok(templates::render(
        &Tile::Feed.template_name(),
        minijinja::context! {
            urgent => urgent, alerts => alerts, reviews => reviews,
            delivery_warning => state.alert_rules.delivery_warning(),
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::Tile;

    #[test]
    fn every_tile_parses_from_its_id_and_has_its_template() {
        for &tile in Tile::ALL {
            assert_eq!(Tile::parse(tile.id()), Some(tile));
            assert!(
                crate::templates::exists(&tile.template_name()),
                "{} has no template",
                tile.id()
            );
        }
        assert_eq!(Tile::parse("nonsense"), None);
    }
}
