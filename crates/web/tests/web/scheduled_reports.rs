//! `/reports`: each subscription with its schedule and zone, the next run
//! in the subscription's zone and the last run's outcome; without
//! subscriptions, how to add one.

use crate::common::{ts, NOW};
use crate::pulse::{fixture, get_as};
use opsdeck_reports::digest::DigestSources;
use opsdeck_reports::runner::{Delivery, ReportRunner};
use opsdeck_reports::schedule::Schedule;
use opsdeck_reports::subscription::{ReportKind, Subscription};
use opsdeck_store::alerts::Channel;
use std::sync::Arc;

#[tokio::test]
async fn the_page_shows_the_next_run_in_the_subscription_zone() {
    let mut fx = fixture().await;
    let (status, html) = get_as(&fx, &fx.session, "/reports").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("No scheduled reports are configured"),
        "{html}"
    );

    let state = &fx.state;
    let runner = ReportRunner::new(
        state.store.clone(),
        vec![Subscription {
            name: "morning".into(),
            report: ReportKind::DailyDigest,
            schedule: Schedule::parse("daily 07:00", "Asia/Tokyo").unwrap(),
            channels: vec![Channel::Slack],
            recipients: vec![],
            brands: None,
            sections: None,
            skip_when_empty: true,
            audience: Some("ops".into()),
            sees_revenue: true,
            owner: None,
        }],
        DigestSources {
            projection: state.projection.clone(),
            panel: (*state.panel_config).clone(),
            review_slas: state.panel_config.review_slas.clone(),
            store: state.store.clone(),
            incidents: state.incidents.clone(),
            regions: vec![],
        },
        Delivery::default(),
        "http://opsdeck.test",
    );
    // NOW is 18:05 UTC, 03:05 the next day in Tokyo: the next run is 07:00 there.
    runner.run_due_once(ts(NOW)).await.unwrap();
    fx.state.reports = Some(Arc::new(runner));
    let (status, html) = get_as(&fx, &fx.session, "/reports").await;
    assert_eq!(status, 200);
    // Templates escape '/' as "&#x2f;".
    let html = html.replace("&#x2f;", "/");
    assert!(html.contains("daily 07:00 · Asia/Tokyo"), "{html}");
    assert!(html.contains("2026-06-11 07:00 JST"), "{html}");
    assert!(html.contains("not run yet"), "{html}");
}
