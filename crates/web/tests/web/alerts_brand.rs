//! `/alerts?brand=` shows one brand's open alerts and history (it was a
//! 400 "unknown field"); an unknown brand is a 400 naming it; the page has
//! a brand select that works without script.

use crate::common::{Fixture, NOW};
use crate::pulse::{fixture, get_as, post_form};
use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::{rules, AlertService, Evaluator, Figure, Observation, RuleSet};
use opsdeck_store::alerts::EpisodeFilter;
use std::collections::HashMap;

fn obs(brand: &str, subject: &str) -> Observation {
    Observation {
        rule: "inventory_low".into(),
        brand: brand.into(),
        subject: subject.into(),
        value: Some(Figure::new(2.0, "2 units")),
        baseline: None,
        threshold: Some(Figure::new(3.0, "≤ 3 units")),
        active: true,
        why: format!("{subject} is low"),
        why_without_money: None,
        dashboard_path: "/".into(),
    }
}

/// Fires two alerts per brand and resolves one of each; returns episode
/// ids by subject.
async fn fire_and_resolve(fx: &Fixture) -> HashMap<String, String> {
    let mut set = RuleSet::defaults();
    for mut r in rules::default_rules() {
        r.timing.pending_for = SignedDuration::ZERO;
        set.upsert(r);
    }
    let service = AlertService::new(
        fx.state.store.clone(),
        Evaluator::new(set),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "w",
    );
    let now: Timestamp = NOW.parse().unwrap();
    let all = [
        obs("mavena", "sku:M-open"),
        obs("mavena", "sku:M-done"),
        obs("kumo", "sku:K-open"),
        obs("kumo", "sku:K-done"),
    ];
    service
        .step(&all, now - SignedDuration::from_mins(2))
        .await
        .unwrap();
    let episodes = fx
        .state
        .store
        .alert_episodes(&EpisodeFilter {
            open_only: false,
            brand: None,
            limit: 50,
        })
        .await
        .unwrap();
    let ids: HashMap<String, String> = episodes
        .iter()
        .map(|e| {
            (
                e.body["subject"].as_str().unwrap().to_string(),
                e.id.clone(),
            )
        })
        .collect();
    assert_eq!(ids.len(), 4, "{episodes:?}");
    let t = &fx.session.csrf_token;
    for done in ["sku:M-done", "sku:K-done"] {
        let uri = format!("/alerts/{}/resolve", ids[done]);
        let body = format!("csrf_token={t}");
        let (status, _, html) = post_form(fx.router(), &fx.session, &uri, &body).await;
        assert_eq!(status, 303, "{html}");
    }
    ids
}

fn links_to(html: &str, id: &str) -> bool {
    html.replace("&#x2f;", "/")
        .contains(&format!("href=\"/alerts/{id}\""))
}

#[tokio::test]
async fn alerts_page_filters_by_brand() {
    let fx = fixture().await;
    let ids = fire_and_resolve(&fx).await;

    let (status, html) = get_as(&fx, &fx.session, "/alerts").await;
    assert_eq!(status, 200, "{html}");
    for id in ids.values() {
        assert!(links_to(&html, id), "every brand without a filter: {html}");
    }
    assert!(
        html.contains("<option value=\"\">All brands</option>"),
        "{html}"
    );

    let (status, html) = get_as(&fx, &fx.session, "/alerts?brand=mavena").await;
    assert_eq!(status, 200, "{html}");
    assert!(links_to(&html, &ids["sku:M-open"]), "open: {html}");
    assert!(links_to(&html, &ids["sku:M-done"]), "history: {html}");
    assert!(!links_to(&html, &ids["sku:K-open"]), "{html}");
    assert!(!links_to(&html, &ids["sku:K-done"]), "{html}");
    assert!(html.contains("sku:M-open is low"), "{html}");
    assert!(!html.contains("sku:K-open is low"), "{html}");
    assert!(
        html.contains("<option value=\"mavena\" selected>Mavena</option>"),
        "the select shows the brand: {html}"
    );
    assert!(
        html.replace("&#x2f;", "/")
            .contains("<form class=\"filters\" method=\"get\" action=\"/alerts\">"),
        "{html}"
    );

    let (status, html) = get_as(&fx, &fx.session, "/alerts?brand=").await;
    assert_eq!(status, 200, "the select's \"All brands\": {html}");
    assert!(links_to(&html, &ids["sku:K-open"]), "{html}");

    let (status, html) = get_as(&fx, &fx.session, "/alerts?brand=nosuch").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("nosuch"), "the error names the brand: {html}");
    let (status, _) = get_as(&fx, &fx.session, "/alerts?brnad=mavena").await;
    assert_eq!(status, 400, "still refuses unknown parameters");
}
