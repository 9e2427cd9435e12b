//! Shopify API version notes: one per source and API, replaced whole,
//! read back with every field (the nullable ones as NULL).

use crate::fixtures::*;
use opsdeck_domain::{ShopifyApi, SourceId};
use opsdeck_store::testing::TestStore;
use opsdeck_store::ApiVersionNote;

pub(crate) async fn api_version_notes_round_trip_and_replace(db: &TestStore) {
    let s = &db.store;
    let source = SourceId::parse("shopify-mavena").unwrap();
    let graphql = ApiVersionNote {
        source: source.clone(),
        api: ShopifyApi::Graphql,
        requested: "2025-01".into(),
        answered: Some("2025-10".into()),
        deprecation: Some("https://shopify.dev/api/usage/versioning".into()),
        deprecation_since: Some(ts("2026-06-10T10:00:00Z")),
        noted_at: ts("2026-06-10T10:00:00Z"),
    };
    let rest = ApiVersionNote {
        api: ShopifyApi::Rest,
        requested: "2025-07".into(),
        answered: None,
        deprecation: None,
        deprecation_since: None,
        ..graphql.clone()
    };
    assert!(s.api_versions().await.unwrap().is_empty());
    s.save_api_version(&graphql).await.unwrap();
    s.save_api_version(&rest).await.unwrap();
    // By source, then API as spelled (graphql before rest).
    assert_eq!(
        s.api_versions().await.unwrap(),
        [graphql.clone(), rest.clone()]
    );
    assert!(graphql.fell_forward() && !rest.fell_forward());

    let answered = ApiVersionNote {
        answered: Some("2025-07".into()),
        noted_at: ts("2026-06-10T11:00:00Z"),
        ..rest.clone()
    };
    s.save_api_version(&answered).await.unwrap();
    assert_eq!(s.api_versions().await.unwrap(), [graphql, answered]);
}
