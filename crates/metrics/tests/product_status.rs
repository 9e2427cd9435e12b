//! Unlisted products (Shopify 2025-10: sold by link, hidden from search and
//! collections) are on sale: counted on their own in the catalog panel, live
//! in its health score, and their stock alerts like an active product's.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts};
use opsdeck_domain::*;
use opsdeck_metrics::panels::{self, PanelConfig};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

const NOW: i64 = 1_773_252_300;

fn product(id: &str, status: ProductStatus, images: u32, stock: i64) -> AnyRecord {
    AnyRecord::Product(Product {
        source: SourceId::parse("shop").unwrap(),
        external_id: id.into(),
        brand: BrandId::parse("mavena").unwrap(),
        title: format!("Product {id}"),
        handle: None,
        status,
        body_html: Some("<p>Soft cotton</p>".into()),
        image_count: images,
        vendor: None,
        product_type: None,
        tags: vec![],
        created_at: ts(NOW - 86_400),
        updated_at: ts(NOW - 86_400),
        deleted_at: None,
        variants: vec![Variant {
            external_id: format!("{id}-v"),
            title: "Default".into(),
            sku: Some(format!("SKU-{id}")),
            price: Money::new(1500, Currency::USD),
            inventory_item_id: None,
            inventory_quantity: Some(stock),
            inventory_tracked: true,
        }],
    })
}

fn projection(records: &[AnyRecord]) -> Projection {
    let brands = vec![brand(
        "mavena",
        "America/New_York",
        BrandKind::Standard,
        true,
    )];
    let mut p = Projection::new(brands, SubscriptionRules::default());
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    p
}

#[test]
fn unlisted_products_count_as_live() {
    let p = projection(&[
        product("a", ProductStatus::Active, 1, 50),
        // Unlisted, out of stock and without images.
        product("u", ProductStatus::Unlisted, 0, 0),
        product("d", ProductStatus::Draft, 0, 0),
    ]);

    let catalog = panels::catalog::catalog(&p, 0);
    assert_eq!(
        (
            catalog.active,
            catalog.unlisted,
            catalog.draft,
            catalog.other
        ),
        (1, 1, 1, 0)
    );
    // Live = active + unlisted; the unlisted one has an issue.
    assert_eq!(catalog.health_score, Some(0.5));
    let listed = |issues: &[panels::catalog::ProductIssues]| -> Vec<(String, String)> {
        issues
            .iter()
            .map(|i| (i.product.clone(), i.status.clone()))
            .collect()
    };
    assert_eq!(
        listed(&catalog.issues),
        vec![("Product u".into(), "unlisted".into())]
    );
    // The draft's issue is listed apart and counted nowhere (10.B3): the
    // counts cover the products the score covers.
    assert_eq!(
        listed(&catalog.off_sale_issues),
        vec![("Product d".into(), "draft".into())]
    );
    assert_eq!(catalog.missing_images, 1);

    let inv = panels::inventory::inventory(&p, &PanelConfig::default(), 0, ts(NOW));
    let out: Vec<&str> = inv
        .alerts
        .iter()
        .filter(|a| a.stock_state == panels::inventory::StockState::OutOfStock)
        .map(|a| a.product.as_str())
        .collect();
    assert!(out.contains(&"Product u"), "{out:?}");
}
