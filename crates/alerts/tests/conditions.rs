//! The conditions that read what the store and metrics offer today, with a
//! fixed clock: revenue anomaly, zero orders (business hours across a DST
//! change), source stale, custom rules — and one scenario through the
//! store, the runner and the fake receivers, firing and resolving.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "../../store/tests/fixtures/mod.rs"]
mod fixtures;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::conditions::{observe, BrandInputs, MetricsSnapshot};
use opsdeck_alerts::hours::BusinessHours;
use opsdeck_alerts::panel_conditions::Panels;
use opsdeck_alerts::rules::{Condition, CustomCondition, CustomTest, Direction, SeriesUnit};
use opsdeck_alerts::*;
use opsdeck_domain::{Brand, BrandKind, Currency, Money, SourceId, Thresholds};
use opsdeck_metrics::order_volume::sales_series;
use opsdeck_store::{OrderFact, SyncState};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn ny() -> TimeZone {
    TimeZone::get("America/New_York").unwrap()
}

fn brand() -> Brand {
    Brand {
        id: fixtures::brand("mavena"),
        name: "Mavena".into(),
        kind: BrandKind::Subscription,
        time_zone: ny(),
        currency: Currency::parse("USD").unwrap(),
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Subscription),
    }
}

fn fact(at: &str, cents: i64) -> OrderFact {
    OrderFact {
        created_at: t(at),
        total_price: Money::new(cents, Currency::parse("USD").unwrap()),
        cancelled: false,
    }
}

/// The brand's inputs with `facts` in its sales rollup, as the projection
/// would hold them.
fn inputs(facts: Vec<OrderFact>, hours: BusinessHours) -> BrandInputs {
    BrandInputs {
        brand: brand(),
        hours,
        sources: vec![SourceId::parse("shopify-mavena").unwrap()],
        cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(300)),
        sales: Some(sales_series(&facts, Currency::USD)),
        orders_from: t("2026-02-20T05:00:00Z"),
        panels: None,
    }
}

/// A snapshot in which the brand's order source has synced once.
fn synced() -> MetricsSnapshot {
    let mut s = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "orders");
    s.last_success_at = Some(t("2026-01-01T00:00:00Z"));
    MetricsSnapshot {
        brands: vec![],
        sync_states: vec![s],
    }
}

fn rule(id: &str) -> Rule {
    RuleSet::defaults().get(id).unwrap().clone()
}

/// `n` orders of `cents` at 10:00 local (15:00Z in EST) on each of the
/// 7 days before 2026-03-05, and `today` orders on 2026-03-05.
fn week_of_orders(n: usize, cents: i64, today: usize) -> Vec<OrderFact> {
    let mut facts = Vec::new();
    for day in 26..=28 {
        for _ in 0..n {
            facts.push(fact(&format!("2026-02-{day}T15:00:00Z"), cents));
        }
    }
    for day in 1..=4 {
        for _ in 0..n {
            facts.push(fact(&format!("2026-03-0{day}T15:00:00Z"), cents));
        }
    }
    for _ in 0..today {
        facts.push(fact("2026-03-05T15:00:00Z", cents));
    }
    facts
}

#[test]
fn revenue_anomaly_compares_the_same_hours_with_a_volume_floor() {
    let now = t("2026-03-05T17:00:00Z"); // 12:00 in New York
    let always = BusinessHours::always(ny());
    let snap = synced();
    let r = rule("revenue_anomaly");
    // Baseline 12 orders × $50 by noon; today 4 orders: 33 % < 50 %, and
    // P(X ≤ 4) = 0.008 for 12 expected: not chance.
    let low = inputs(week_of_orders(12, 5_000, 4), always.clone());
    let o = &observe(&r, &low, &snap, now)[0];
    assert!(o.active, "{}", o.why);
    assert_eq!(o.value.as_ref().unwrap().text, "$200.00");
    assert_eq!(o.baseline.as_ref().unwrap().text, "$600.00");
    assert_eq!(o.threshold.as_ref().unwrap().text, "$300.00");
    assert_eq!(
        o.why,
        "Revenue today until 12:00 is $200.00 from 4 orders, 33 % of the usual $600.00 (7-day average for the same hours); alert below 50 %."
    );
    // Roles without revenue read it without the amounts, and its figures
    // are marked as money so pages leave them out.
    assert_eq!(
        o.why_without_money.as_deref(),
        Some("Revenue today until 12:00 is 33 % of the usual (7-day average for the same hours) from 4 orders; alert below 50 %.")
    );
    for f in [&o.value, &o.baseline, &o.threshold] {
        assert!(f.as_ref().unwrap().money, "{f:?}");
    }
    // 5 of 12 (42 %) is below 50 % too, but 12 expected orders give 5 or
    // fewer one day in 50 (P = 0.020): the pulse's evidence rule says too
    // early to tell, and so does the alert (issue 10.B6).
    let o = &observe(
        &r,
        &inputs(week_of_orders(12, 5_000, 5), always.clone()),
        &snap,
        now,
    )[0];
    assert!(!o.active, "{}", o.why);
    assert!(o.why.starts_with("Too early to tell: revenue today until 12:00 is $250.00 from 5 orders, 42 % of the usual $600.00"), "{}", o.why);
    assert!(
        o.why.contains("(probability 0.020; alert under 0.01)"),
        "{}",
        o.why
    );
    assert_eq!(
        o.why_without_money.as_deref(),
        Some("Too early to tell: revenue today until 12:00 is 42 % of the usual from 5 orders, which a baseline of 12.0 orders gives by chance (probability 0.020; alert under 0.01).")
    );
    // 6 of 12 is exactly 50 %: not below.
    let ok = inputs(week_of_orders(12, 5_000, 6), always.clone());
    assert!(!observe(&r, &ok, &snap, now)[0].active);
    // Under the pulse's floor of 3 orders nothing fires, whatever the ratio.
    let thin = inputs(week_of_orders(2, 5_000, 0), always);
    let o = &observe(&r, &thin, &snap, now)[0];
    assert!(!o.active);
    assert!(o.why.starts_with("Too few orders to judge"), "{}", o.why);
}

#[test]
fn zero_orders_counts_business_hours_only() {
    let r = rule("zero_orders");
    let snap = synced();
    let weekdays =
        BusinessHours::parse(ny(), "09:00", "17:00", &["mon", "tue", "wed", "thu", "fri"]).unwrap();
    // Last order Friday 16:00 EST; Monday 13:59 is 1 h + 4 h 59 of hours.
    let i = inputs(vec![fact("2026-01-09T21:00:00Z", 100)], weekdays);
    let before = &observe(&r, &i, &snap, t("2026-01-12T18:59:00Z"))[0];
    assert!(!before.active, "{}", before.why);
    let after = &observe(&r, &i, &snap, t("2026-01-12T19:00:00Z"))[0];
    assert!(after.active);
    assert_eq!(
        after.why,
        "No order since Fri 16:00 EST (6.0 business hours); alert after 6 h of business hours without one."
    );
}

#[test]
fn zero_orders_across_the_spring_forward_change() {
    let r = rule("zero_orders");
    let snap = synced();
    // Last order Sat 2026-03-07 23:00 EST. Clocks jump 02:00 → 03:00 on
    // Sunday: at 05:00 EDT the wall clock shows 6 h, only 5 h have passed.
    let i = inputs(
        vec![fact("2026-03-08T04:00:00Z", 100)],
        BusinessHours::always(ny()),
    );
    let at_5 = &observe(&r, &i, &snap, t("2026-03-08T09:00:00Z"))[0];
    assert!(!at_5.active, "{}", at_5.why);
    assert_eq!(at_5.value.as_ref().unwrap().text, "5.0 h");
    let at_6 = &observe(&r, &i, &snap, t("2026-03-08T10:00:00Z"))[0];
    assert!(at_6.active);
}

#[test]
fn source_stale_on_age_or_repeated_failures() {
    let r = rule("source_stale");
    let now = t("2026-03-05T17:00:00Z");
    let i = inputs(vec![], BusinessHours::always(ny()));
    let state = |success_ago_min: i64, failures: u32| {
        let mut s = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "orders");
        s.last_success_at = Some(now - SignedDuration::from_mins(success_ago_min));
        s.consecutive_failures = failures;
        if failures > 0 {
            s.last_error = Some("HTTP 503 from Shopify".into());
        }
        s
    };
    let snap = |s: SyncState| MetricsSnapshot {
        brands: vec![],
        sync_states: vec![s],
    };
    let fresh = &observe(&r, &i, &snap(state(9, 0)), now)[0];
    assert!(!fresh.active, "{}", fresh.why);
    assert_eq!(fresh.subject, "source:shopify-mavena");
    let old = &observe(&r, &i, &snap(state(11, 0)), now)[0];
    assert!(old.active);
    assert_eq!(
        old.why,
        "shopify-mavena last synced 11 min ago; expected every 5 min, alert after 10 min."
    );
    // Each resource against its own cadence (issue 10.B7): products
    // synced hourly are not stale at 50 min, orders every 15 min are at 31.
    let mut hourly = i.clone();
    let shop = SourceId::parse("shopify-mavena").unwrap();
    hourly.cadences = opsdeck_metrics::Cadences::default();
    hourly
        .cadences
        .set(&shop, "orders", std::time::Duration::from_secs(15 * 60));
    hourly
        .cadences
        .set(&shop, "products", std::time::Duration::from_secs(3600));
    let mut products = state(50, 0);
    products.resource = "products".into();
    let two = |orders_ago: i64| MetricsSnapshot {
        brands: vec![],
        sync_states: vec![products.clone(), state(orders_ago, 0)],
    };
    assert!(!observe(&r, &hourly, &two(29), now)[0].active);
    let late = &observe(&r, &hourly, &two(31), now)[0];
    assert!(late.active);
    assert_eq!(
        late.why,
        "shopify-mavena last synced 31 min ago; expected every 15 min, alert after 30 min."
    );
    let failing = &observe(&r, &i, &snap(state(1, 3)), now)[0];
    assert!(failing.active);
    assert_eq!(
        failing.why,
        "shopify-mavena failed 3 times in a row (alert at 3); last error: HTTP 503 from Shopify."
    );
}

fn custom_rule(
    metric: &str,
    direction: Direction,
    test: CustomTest,
    consecutive: u32,
    per: SeriesUnit,
) -> Rule {
    Rule {
        id: "custom".into(),
        name: "Custom".into(),
        severity: Severity::Warning,
        tier: Tier::Slack,
        condition: Condition::Custom(CustomCondition {
            metric: metric.into(),
            direction,
            test,
            consecutive,
            per,
        }),
        timing: Timing::default(),
        enabled: true,
    }
}

#[test]
fn custom_rules_threshold_for_consecutive_days_and_change_with_floor() {
    let now = t("2026-03-05T17:00:00Z");
    let snap = synced();
    let always = BusinessHours::always(ny());
    let r = custom_rule(
        "orders_per_day",
        Direction::Below,
        CustomTest::Threshold { value: 5.0 },
        3,
        SeriesUnit::Days,
    );
    let mut facts = week_of_orders(4, 1000, 0);
    assert!(observe(&r, &inputs(facts.clone(), always.clone()), &snap, now)[0].active);
    // One good day among the last three breaks the run.
    facts.extend((0..3).map(|_| fact("2026-03-03T15:00:00Z", 1000)));
    assert!(!observe(&r, &inputs(facts, always.clone()), &snap, now)[0].active);

    let drop = custom_rule(
        "orders_today",
        Direction::Below,
        CustomTest::ChangeVsBaseline {
            percent: 30.0,
            min_volume: 10.0,
        },
        1,
        SeriesUnit::Hours,
    );
    let o = &observe(
        &drop,
        &inputs(week_of_orders(12, 1000, 6), always.clone()),
        &snap,
        now,
    )[0];
    assert!(o.active, "{}", o.why);
    assert_eq!(o.why, "orders_today is 6 vs 12 at the same time yesterday (-50 %); alert when below by more than 30 %.");
    let o = &observe(
        &drop,
        &inputs(week_of_orders(8, 1000, 0), always.clone()),
        &snap,
        now,
    )[0];
    assert!(!o.active, "under the floor: {}", o.why);
    let unknown = custom_rule(
        "csat_today",
        Direction::Below,
        CustomTest::Threshold { value: 3.0 },
        1,
        SeriesUnit::Days,
    );
    let o = &observe(&unknown, &inputs(vec![], always), &snap, now)[0];
    assert!(!o.active);
    assert_eq!(o.why, "metric \"csat_today\" is not available");
}

/// A false "zero orders" at start-up: until the brand's order source has
/// completed an orders sync, order-based rules observe nothing active,
/// whatever the (empty) order history says; after it they judge as usual.
#[test]
fn order_rules_stay_quiet_until_the_first_orders_sync() {
    let now = t("2026-03-05T17:00:00Z");
    let empty = inputs(vec![], BusinessHours::always(ny()));
    let drop = custom_rule(
        "orders_per_hour",
        Direction::Below,
        CustomTest::Threshold { value: 1.0 },
        1,
        SeriesUnit::Hours,
    );
    let mut attempted = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "orders");
    attempted.last_attempt_at = Some(now);
    attempted.consecutive_failures = 1;
    let mut products_only = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "products");
    products_only.last_success_at = Some(now);
    for never in [
        MetricsSnapshot::default(),
        MetricsSnapshot {
            brands: vec![],
            sync_states: vec![attempted, products_only],
        },
    ] {
        for r in [rule("zero_orders"), rule("revenue_anomaly"), drop.clone()] {
            let o = &observe(&r, &empty, &never, now)[0];
            assert!(!o.active, "{}: {}", r.id, o.why);
            assert_eq!(
                o.why,
                "Waiting for the first successful orders sync of shopify-mavena."
            );
        }
    }
    // Once synced, the same empty history fires both.
    assert!(observe(&rule("zero_orders"), &empty, &synced(), now)[0].active);
    assert!(observe(&drop, &empty, &synced(), now)[0].active);
    // A brand without a synced source (ingest, import) has nothing to wait for.
    let mut ingest_only = empty.clone();
    ingest_only.sources.clear();
    let o = &observe(
        &rule("zero_orders"),
        &ingest_only,
        &MetricsSnapshot::default(),
        now,
    )[0];
    assert!(o.active, "{}", o.why);
}

#[test]
fn panel_rules_without_panels_observe_nothing() {
    let snap = MetricsSnapshot::default();
    let i = inputs(vec![], BusinessHours::always(ny()));
    for id in opsdeck_alerts::conditions::PANEL_RULES {
        assert!(
            observe(&rule(id), &i, &snap, t("2026-03-05T17:00:00Z")).is_empty(),
            "{id}"
        );
    }
}

#[tokio::test]
async fn zero_orders_fires_and_resolves_through_the_store_and_runner() {
    use opsdeck_alerts::leader::Leader;
    use opsdeck_alerts::notify::telegram::{TelegramConfig, TelegramNotifier};
    use opsdeck_alerts::notify::{http_client, Channel, Notifiers};
    use opsdeck_alerts::outbox::Sender;
    use opsdeck_alerts::render::RenderConfig;
    use opsdeck_alerts::runner::{BrandWatch, Runner, StoreObservations};
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SharedProjection, SubscriptionRules};
    use opsdeck_store::AnyRecord;
    use std::sync::{Arc, RwLock};

    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    store
        .upsert(
            &[AnyRecord::Order(fixtures::order(
                "1001",
                "2026-03-05T14:00:00Z",
            ))],
            None,
        )
        .await
        .unwrap();
    let mut synced = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "orders");
    synced.last_success_at = Some(t("2026-03-05T14:00:00Z"));
    store.save_sync_state(&synced).await.unwrap();
    let fake = opsdeck_alerts::testing::FakeReceivers::start()
        .await
        .unwrap();
    let mut rules = RuleSet::defaults();
    let mut zero = rules.get("zero_orders").unwrap().clone();
    zero.timing.pending_for = SignedDuration::from_mins(2);
    zero.timing.keep_firing_for = SignedDuration::from_mins(5);
    rules.upsert(zero);
    let watch = BrandWatch {
        brand: brand(),
        hours: BusinessHours::always(ny()),
        sources: vec![SourceId::parse("shopify-mavena").unwrap()],
        cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(300)),
    };
    // The conditions read the projection the dashboard reads, built from
    // the store (and rebuilt below when an order arrives, as the follower
    // would keep it current).
    let projection: SharedProjection = Arc::new(RwLock::new(
        Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
            .await
            .unwrap(),
    ));
    let source = StoreObservations {
        store: store.clone(),
        brands: vec![watch],
        rules: rules.clone(),
        projection: Some((projection.clone(), PanelConfig::default())),
    };
    let service = AlertService::new(
        store.clone(),
        Evaluator::new(rules),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "s",
    );
    let tg = TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: opsdeck_domain::Secret::new("1:t"),
        chat_id: "1".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    };
    let client = http_client(std::time::Duration::from_secs(5));
    let notifiers = Notifiers::new().with(
        Channel::Telegram,
        Arc::new(TelegramNotifier::new(client, tg)),
    );
    let runner = Runner::new(
        Arc::new(service),
        Arc::new(source),
        Sender::new(store.clone(), notifiers, "p"),
        Leader::new(store.clone(), "p", SignedDuration::from_secs(30)),
        std::time::Duration::from_secs(5),
    );
    // 6 h after the last order: pending, then firing 2 minutes later.
    runner.cycle(t("2026-03-05T20:00:00Z")).await.unwrap();
    assert!(fake.received("telegram").is_empty());
    runner.cycle(t("2026-03-05T20:02:00Z")).await.unwrap();
    let got = fake.received("telegram");
    assert_eq!(got.len(), 1);
    assert!(got[0].body["text"]
        .as_str()
        .unwrap()
        .contains("No order since Thu 09:00 EST"));
    // An order arrives; the alert resolves after the keep-firing period.
    store
        .upsert(
            &[AnyRecord::Order(fixtures::order(
                "1002",
                "2026-03-05T20:03:00Z",
            ))],
            None,
        )
        .await
        .unwrap();
    *projection.write().unwrap() =
        Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
            .await
            .unwrap();
    runner.cycle(t("2026-03-05T20:04:00Z")).await.unwrap();
    runner.cycle(t("2026-03-05T20:08:59Z")).await.unwrap();
    assert_eq!(fake.received("telegram").len(), 1);
    runner.cycle(t("2026-03-05T20:09:00Z")).await.unwrap();
    let got = fake.received("telegram");
    assert_eq!(got.len(), 2);
    assert!(got[1].body["text"]
        .as_str()
        .unwrap()
        .starts_with("<b>RESOLVED · mavena: Zero orders resolved</b>"));
}

#[test]
fn panel_rules_read_the_dashboard_panels() {
    use opsdeck_domain::OrderFulfillmentStatus;
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SubscriptionRules};
    use opsdeck_store::AnyRecord;

    let now = t("2026-03-05T17:00:00Z");
    let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
    let mut order = fixtures::order("1001", "2026-03-01T15:00:00Z");
    order.fulfillment_status = OrderFulfillmentStatus::Unfulfilled;
    order.fulfillments.clear();
    order.refunds.clear();
    order.cancelled_at = None;
    for li in &mut order.line_items {
        li.fulfilled_quantity = Some(0);
    }
    let mut product = fixtures::product("p-1", "2026-03-01T00:00:00Z");
    product.deleted_at = None;
    let mut level = fixtures::inventory_level("ii-1", "loc-1", "2026-03-05T12:00:00Z");
    level.available = Some(2);
    for r in [
        AnyRecord::Order(order),
        AnyRecord::Product(product),
        AnyRecord::InventoryLevel(level),
    ] {
        p.apply_record(&r);
    }
    let ix = p.ctx.brand_ix(&fixtures::brand("mavena")).unwrap();
    let d = Panels::read(&p, &PanelConfig::default(), ix, now);
    let mut i = inputs(vec![], BusinessHours::always(ny()));
    i.panels = Some(d);
    let snap = MetricsSnapshot::default();

    let stale = observe(&rule("unfulfilled_stale"), &i, &snap, now);
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(stale[0].subject, "order:#1001");
    assert!(stale[0].active);
    assert_eq!(
        stale[0].why,
        "Order #1001 has waited 4.1 days unfulfilled; the limit for this brand is 3 days."
    );
    let critical = observe(&rule("inventory_critical"), &i, &snap, now);
    assert_eq!(critical.len(), 1, "{critical:?}");
    assert_eq!(critical[0].subject, "sku:SKU-1");
    assert_eq!(critical[0].value.as_ref().unwrap().text, "2 units");
    assert!(
        critical[0]
            .why
            .starts_with("Magnesium (60 caps) has 2 units left"),
        "{}",
        critical[0].why
    );
    assert!(
        observe(&rule("inventory_low"), &i, &snap, now).is_empty(),
        "critical is not also low"
    );
    let blockers = observe(&rule("fulfillment_blocker"), &i, &snap, now);
    assert!(
        blockers
            .iter()
            .all(|o| o.active && o.subject == "order:#1001"),
        "{blockers:?}"
    );
    // The order's value is in the reason, and only there.
    for o in &blockers {
        let plain = o.why_without_money.as_deref().unwrap_or_default();
        assert!(o.why.contains('$'), "{}", o.why);
        assert!(plain.starts_with("Order #1001 unfulfilled for"), "{plain}");
        assert!(!plain.contains('$'), "{plain}");
    }
}

/// Issue 10.D1: the fulfillment panel lists 50 stale orders; the
/// unfulfilled-stale alert fires for every one of a brand's 119, read
/// through the runner from the projection the panel reads.
#[tokio::test]
async fn unfulfilled_stale_alerts_every_stale_order_not_only_the_fifty_listed() {
    use opsdeck_alerts::runner::{BrandWatch, StoreObservations};
    use opsdeck_domain::OrderFulfillmentStatus;
    use opsdeck_metrics::panels::fulfillment::STALE_SHOWN;
    use opsdeck_metrics::panels::{brand_dashboard, PanelConfig, Range};
    use opsdeck_metrics::{Projection, SubscriptionRules};
    use opsdeck_store::AnyRecord;
    use std::sync::{Arc, RwLock};

    let now = t("2026-03-05T17:00:00Z");
    let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
    for i in 0..119_i64 {
        let mut order = fixtures::order(&format!("{}", 2000 + i), "2026-02-25T15:00:00Z");
        order.number = Some(2000 + i);
        order.created_at = t("2026-02-25T15:00:00Z") + SignedDuration::from_mins(i);
        order.fulfillment_status = OrderFulfillmentStatus::Unfulfilled;
        order.fulfillments.clear();
        order.refunds.clear();
        order.cancelled_at = None;
        for li in &mut order.line_items {
            li.fulfilled_quantity = Some(0);
        }
        p.apply_record(&AnyRecord::Order(order));
    }
    let ix = p.ctx.brand_ix(&fixtures::brand("mavena")).unwrap();
    let d = brand_dashboard(
        &p,
        &PanelConfig::default(),
        ix,
        Range::Days { days: 7 },
        now,
    );
    assert_eq!(d.fulfillment.stale_count, 119);
    assert_eq!(d.fulfillment.stale.len(), STALE_SHOWN);

    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let source = StoreObservations {
        store,
        brands: vec![BrandWatch {
            brand: brand(),
            hours: BusinessHours::always(ny()),
            sources: vec![],
            cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(300)),
        }],
        rules: RuleSet::new(vec![rule("unfulfilled_stale")]),
        projection: Some((Arc::new(RwLock::new(p)), PanelConfig::default())),
    };
    let snap = source.snapshot(now).await.unwrap();
    let stale = observe(&rule("unfulfilled_stale"), &snap.brands[0], &snap, now);
    assert_eq!(stale.len(), 119, "{} observations", stale.len());
    assert!(stale.iter().all(|o| o.active));
    let mut subjects: Vec<&str> = stale.iter().map(|o| o.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    assert_eq!(subjects.len(), 119);
    assert!(subjects.contains(&"order:#2118"), "the newest stale order");
}

/// 03:00 in New York, a baseline of 2/7 of an order by then (two $40
/// orders at night over the 7 days) and nothing yet today: −100 %, but no
/// evidence — the revenue-anomaly alert stays quiet with the pulse's
/// reason, even with its floor lowered to nothing (issue 10.B6).
#[test]
fn revenue_anomaly_at_three_am_on_a_third_of_an_order_is_too_early() {
    let now = t("2026-03-05T08:00:00Z"); // 03:00 EST
    let mut r = rule("revenue_anomaly");
    r.condition = Condition::RevenueAnomaly {
        ratio: 0.5,
        min_orders: 0,
    };
    let facts = vec![
        fact("2026-03-02T06:30:00Z", 4_000), // 01:30 EST
        fact("2026-02-27T07:10:00Z", 4_000), // 02:10 EST
    ];
    let o = &observe(
        &r,
        &inputs(facts, BusinessHours::always(ny())),
        &synced(),
        now,
    )[0];
    assert!(!o.active, "{}", o.why);
    assert!(o.why.starts_with("Too early to tell: revenue today until 03:00 is $0.00 from 0 orders, 0 % of the usual $11.43"), "{}", o.why);
}

/// Order tallies have one path (issue 10.B8): the runner's conditions read
/// the projection the dashboard reads, not a second query of the store. An
/// order the projection holds (and the store does not) is seen; with no
/// projection, the order rules observe nothing rather than a false alarm.
#[tokio::test]
async fn order_rules_read_the_projection_not_a_second_store_query() {
    use opsdeck_alerts::runner::{BrandWatch, ObservationSource, StoreObservations};
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SharedProjection, SubscriptionRules};
    use opsdeck_store::{AnyRecord, Change};
    use std::sync::{Arc, RwLock};

    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let mut synced = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "orders");
    synced.last_success_at = Some(t("2026-03-05T14:00:00Z"));
    store.save_sync_state(&synced).await.unwrap();
    let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
    p.apply(&Change {
        seq: 1,
        record: AnyRecord::Order(fixtures::order("1001", "2026-03-05T19:00:00Z")),
    });
    let projection: SharedProjection = Arc::new(RwLock::new(p));
    let watch = BrandWatch {
        brand: brand(),
        hours: BusinessHours::always(ny()),
        sources: vec![SourceId::parse("shopify-mavena").unwrap()],
        cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(300)),
    };
    let rules = RuleSet::new(vec![rule("zero_orders")]);
    let now = t("2026-03-05T20:00:00Z");
    let from_projection = StoreObservations {
        store: store.clone(),
        brands: vec![watch.clone()],
        rules: rules.clone(),
        projection: Some((projection, PanelConfig::default())),
    };
    let o = from_projection.observe(now).await.unwrap();
    assert_eq!(o.len(), 1);
    assert!(
        !o[0].active,
        "the projection's order of 14:00 EST: {}",
        o[0].why
    );
    assert!(
        o[0].why.starts_with("No order since Thu 14:00 EST"),
        "{}",
        o[0].why
    );
    let without = StoreObservations {
        store,
        brands: vec![watch],
        rules,
        projection: None,
    };
    assert!(without.observe(now).await.unwrap().is_empty());
}

/// Issue 10.B1: a dropship brand's empty variant is out of stock on the
/// panel and fires one tier lower ("Inventory low": warning, Slack), not
/// "Inventory critical" on Telegram; with dropship alerts off, nothing.
#[test]
fn a_dropship_brand_alerts_one_tier_lower_and_never_changes_the_stock_state() {
    use opsdeck_metrics::panels::inventory::StockState;
    use opsdeck_metrics::panels::{DropshipAlerts, PanelConfig};
    use opsdeck_metrics::{Projection, SubscriptionRules};
    use opsdeck_store::AnyRecord;

    let now = t("2026-03-05T17:00:00Z");
    let mut dropship = brand();
    dropship.kind = BrandKind::Dropship;
    dropship.thresholds = Thresholds::defaults_for(&BrandKind::Dropship);
    let mut p = Projection::new(vec![dropship.clone()], SubscriptionRules::default());
    let mut product = fixtures::product("p-1", "2026-03-01T00:00:00Z");
    product.deleted_at = None;
    let mut level = fixtures::inventory_level("ii-1", "loc-1", "2026-03-05T12:00:00Z");
    level.available = Some(0);
    p.apply_record(&AnyRecord::Product(product));
    p.apply_record(&AnyRecord::InventoryLevel(level));
    let snap = MetricsSnapshot::default();
    let observed = |cfg: &PanelConfig, id: &str| {
        let d = Panels::read(&p, cfg, 0, now);
        assert_eq!(
            d.dashboard.inventory.alerts[0].stock_state,
            StockState::OutOfStock
        );
        let mut i = inputs(vec![], BusinessHours::always(ny()));
        i.brand = dropship.clone();
        i.panels = Some(d);
        observe(&rule(id), &i, &snap, now)
    };
    let lower = PanelConfig::default();
    assert!(observed(&lower, "inventory_critical").is_empty());
    let low = observed(&lower, "inventory_low");
    assert_eq!(low.len(), 1, "{low:?}");
    assert!(low[0].active);
    assert!(
        low[0].why.contains("0 units left, out of stock"),
        "{}",
        low[0].why
    );
    assert!(low[0].why.contains("one tier lower"), "{}", low[0].why);
    assert_eq!(rule("inventory_low").severity, Severity::Warning);
    assert_eq!(rule("inventory_low").tier, Tier::Slack);

    let off = PanelConfig {
        dropship_stock_alerts: DropshipAlerts::Off,
        ..PanelConfig::default()
    };
    assert!(observed(&off, "inventory_critical").is_empty());
    assert!(observed(&off, "inventory_low").is_empty());
}

/// An unfulfilled order of the fixture, created at `created`, numbered `number`.
fn open_order(number: i64, created: Timestamp, cents: i64) -> opsdeck_store::AnyRecord {
    use opsdeck_domain::OrderFulfillmentStatus;
    let mut order = fixtures::order(&number.to_string(), "2026-03-01T15:00:00Z");
    order.number = Some(number);
    order.created_at = created;
    order.updated_at = created;
    order.processed_at = Some(created);
    order.closed_at = None;
    order.total_price = Money::new(cents, Currency::USD);
    order.fulfillment_status = OrderFulfillmentStatus::Unfulfilled;
    order.fulfillments.clear();
    order.refunds.clear();
    for li in &mut order.line_items {
        li.fulfilled_quantity = Some(0);
    }
    opsdeck_store::AnyRecord::Order(order)
}

/// Issue 10.B11 in the alert: 60 blockers, the pulse lists the oldest 50,
/// and the fulfillment-blocker alert covers all 60 — the newest, worth
/// $600, is routed to the ops manager too, though it is not listed.
#[test]
fn fulfillment_blocker_alerts_every_blocker_not_only_the_fifty_listed() {
    use opsdeck_metrics::panels::pulse::BLOCKERS_SHOWN;
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SubscriptionRules};

    let now = t("2026-03-05T17:00:00Z");
    let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
    for i in 0..60i64 {
        let created = now - SignedDuration::from_hours(90 - i);
        let cents = if i == 59 { 60_000 } else { 4_999 };
        p.apply_record(&open_order(2000 + i, created, cents));
    }
    let panels = Panels::read(&p, &PanelConfig::default(), 0, now);
    assert_eq!(panels.dashboard.pulse.blockers.len(), BLOCKERS_SHOWN);
    assert_eq!(panels.dashboard.pulse.blocker_count, 60);
    let mut i = inputs(vec![], BusinessHours::always(ny()));
    i.panels = Some(panels);
    let obs = observe(
        &rule("fulfillment_blocker"),
        &i,
        &MetricsSnapshot::default(),
        now,
    );
    assert_eq!(obs.len(), 60, "every blocker, not the 50 listed");
    assert!(obs.iter().all(|o| o.active));
    let newest = obs.iter().find(|o| o.subject == "order:#2059").unwrap();
    assert!(
        newest.why.contains("tell the ops manager too"),
        "{}",
        newest.why
    );
}

/// Issue 10.D1 in the alert: 60 chargeback tickets open for over 24 h; the
/// queue's first page holds 50 of them, and the chargeback-risk alert
/// fires for all 60.
#[test]
fn chargeback_risk_alerts_every_flagged_ticket_not_only_the_first_page() {
    use opsdeck_domain::TicketStatus;
    use opsdeck_metrics::panels::urgent::PER_PAGE;
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SubscriptionRules};

    let now = t("2026-03-05T17:00:00Z");
    let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
    for i in 0..60i64 {
        let created = now - SignedDuration::from_hours(30 + i);
        let mut ticket = fixtures::ticket(&format!("t-{i}"), "2026-03-01T00:00:00Z");
        ticket.status = TicketStatus::Open;
        ticket.subject = Some("I will dispute this charge".into());
        ticket.excerpt = None;
        ticket.created_at = created;
        ticket.opened_at = Some(created);
        ticket.updated_at = created;
        ticket.last_received_message_at = None;
        ticket.closed_at = None;
        ticket.snooze_until = None;
        ticket.trashed_at = None;
        p.apply_record(&opsdeck_store::AnyRecord::Ticket(ticket));
    }
    let panels = Panels::read(&p, &PanelConfig::default(), 0, now);
    assert_eq!(panels.dashboard.urgent.flagged, 60);
    assert_eq!(panels.dashboard.urgent.tickets.len(), PER_PAGE);
    let mut i = inputs(vec![], BusinessHours::always(ny()));
    i.panels = Some(panels);
    let obs = observe(
        &rule("chargeback_risk"),
        &i,
        &MetricsSnapshot::default(),
        now,
    );
    assert_eq!(obs.len(), 60, "every flagged ticket, not page 1");
    assert!(obs.iter().all(|o| o.active));
}

/// The chargeback-risk alert (as the urgent queue) looks at every open
/// ticket, so a chargeback ticket left open behind 2,000 newer ones still
/// fires.
#[test]
fn chargeback_risk_alerts_a_ticket_older_than_the_queues_scan() {
    use opsdeck_domain::TicketStatus;
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SubscriptionRules};

    let now = t("2026-03-05T17:00:00Z");
    let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
    let open = |id: String, subject: &str, created: Timestamp| {
        let mut ticket = fixtures::ticket(&id, "2026-03-01T00:00:00Z");
        ticket.status = TicketStatus::Open;
        ticket.channel = opsdeck_domain::Channel::Email;
        ticket.subject = Some(subject.into());
        ticket.excerpt = None;
        ticket.created_at = created;
        ticket.opened_at = Some(created);
        ticket.updated_at = created;
        ticket.last_received_message_at = None;
        ticket.closed_at = None;
        ticket.snooze_until = None;
        ticket.trashed_at = None;
        opsdeck_store::AnyRecord::Ticket(ticket)
    };
    p.apply_record(&open(
        "old".into(),
        "I will dispute this charge",
        now - SignedDuration::from_hours(100),
    ));
    for i in 0..2_000 {
        p.apply_record(&open(
            format!("n-{i}"),
            "Hello",
            now - SignedDuration::from_mins(30 + i),
        ));
    }
    let panels = Panels::read(&p, &PanelConfig::default(), 0, now);
    assert_eq!(panels.dashboard.urgent.scanned, 2_001);
    let mut i = inputs(vec![], BusinessHours::always(ny()));
    i.panels = Some(panels);
    let obs = observe(
        &rule("chargeback_risk"),
        &i,
        &MetricsSnapshot::default(),
        now,
    );
    assert_eq!(obs.len(), 1, "{obs:?}");
    assert!(
        obs[0].active && obs[0].why.contains("open 100 h"),
        "{}",
        obs[0].why
    );
}

/// Issue 10.B6 / METRICS.md: the pulse badge and the revenue-anomaly alert
/// apply one volume floor. At noon a baseline of 6 orders and none today
/// (P = e^−6 ≈ 0.0025) is critical on the pulse and fires the alert; a
/// baseline of 2 orders is too early to tell for both.
#[test]
fn pulse_badge_and_revenue_anomaly_alert_agree_on_the_same_data() {
    use opsdeck_metrics::panels::pulse::PulseState;
    use opsdeck_metrics::panels::PanelConfig;
    use opsdeck_metrics::{Projection, SubscriptionRules};

    let now = t("2026-03-05T17:00:00Z"); // 12:00 in New York
    let judged = |per_day: i64| {
        let mut p = Projection::new(vec![brand()], SubscriptionRules::default());
        let mut number = 3000;
        for days_back in 1..=7 {
            for _ in 0..per_day {
                // 10:00 in New York, each of the 7 previous days.
                let at = now - SignedDuration::from_hours(24 * days_back + 2);
                p.apply_record(&open_order(number, at, 5_000));
                number += 1;
            }
        }
        let panels = Panels::read(&p, &PanelConfig::default(), 0, now);
        let mut i = inputs(vec![], BusinessHours::always(ny()));
        i.sales = Some(p.orders.sales[0].window(i.orders_from.as_second(), now.as_second() + 1));
        let o = observe(&rule("revenue_anomaly"), &i, &synced(), now).remove(0);
        (panels.dashboard.pulse.state, o)
    };
    let (state, alert) = judged(6);
    assert_eq!(state, PulseState::Critical);
    assert!(alert.active, "{}", alert.why);
    let (state, alert) = judged(2);
    assert_eq!(state, PulseState::TooEarly);
    assert!(!alert.active, "{}", alert.why);
}

/// Issue 10.A2: a missing scope (or a shop in another currency) is not a
/// transient failure. The sync state that records it (`needs_attention`,
/// saved and read back by the store) raises "source stale" on the first
/// failed run; a transient failure still waits for 3 in a row.
#[tokio::test]
async fn a_missing_scope_raises_source_stale_on_the_first_failed_run() {
    use opsdeck_alerts::runner::{BrandWatch, ObservationSource, StoreObservations};

    let now = t("2026-03-05T17:00:00Z");
    let source = SourceId::parse("shopify-mavena").unwrap();
    let watch = BrandWatch {
        brand: brand(),
        hours: BusinessHours::always(ny()),
        sources: vec![source.clone()],
        cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(900)),
    };
    let observed = |needs_attention: bool, error: &'static str| {
        let (source, watch) = (source.clone(), watch.clone());
        async move {
            let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
            let mut s = SyncState::new(source, "orders");
            s.last_attempt_at = Some(now - SignedDuration::from_mins(1));
            s.last_success_at = Some(now - SignedDuration::from_mins(10));
            s.last_error = Some(error.into());
            s.last_error_at = s.last_attempt_at;
            s.consecutive_failures = 1;
            s.needs_attention = needs_attention;
            store.save_sync_state(&s).await.unwrap();
            let o = StoreObservations {
                store,
                brands: vec![watch],
                rules: RuleSet::new(vec![rule("source_stale")]),
                projection: None,
            };
            o.observe(now).await.unwrap().remove(0)
        }
    };
    let scope = "incomplete: missing access scope read_all_orders (orders older than 60 days are hidden by Shopify)";
    let o = observed(true, scope).await;
    assert!(o.active, "{}", o.why);
    assert!(o.why.contains("read_all_orders"), "{}", o.why);
    let o = observed(false, "503 Service Unavailable").await;
    assert!(
        !o.active,
        "one transient failure is not yet an alert: {}",
        o.why
    );
}
