//! Catalog health: products by status, the issues of each (no images, empty
//! description, a variant priced 0) and the share of live products (on sale:
//! active or unlisted) with none.
//!
//! Issue counts cover live products only, the same products as the score;
//! drafts and archived products with issues are listed apart.

use crate::projection::catalog::{NO_DESCRIPTION, NO_IMAGES, ZERO_PRICE};
use crate::projection::{BrandIx, Projection};
use opsdeck_domain::ProductStatus;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductIssues {
    pub product: String,
    pub status: String,
    pub issues: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Catalog {
    pub active: usize,
    /// On sale by link only (hidden from search and collections); live.
    pub unlisted: usize,
    pub draft: usize,
    pub archived: usize,
    pub other: usize,
    /// Live products with no images, with an empty description, with a
    /// variant priced 0.
    pub missing_images: usize,
    pub missing_description: usize,
    pub zero_price: usize,
    /// Live (active or unlisted) products with no issue ÷ live products;
    /// `None` with none live.
    pub health_score: Option<f64>,
    /// Live products with an issue, by title.
    pub issues: Vec<ProductIssues>,
    /// Products not on sale (draft, archived, …) with an issue, by title:
    /// listed apart, counted nowhere.
    pub off_sale_issues: Vec<ProductIssues>,
}

pub fn catalog(p: &Projection, b: BrandIx) -> Catalog {
    let mut c = Catalog {
        active: 0,
        unlisted: 0,
        draft: 0,
        archived: 0,
        other: 0,
        missing_images: 0,
        missing_description: 0,
        zero_price: 0,
        health_score: None,
        issues: vec![],
        off_sale_issues: vec![],
    };
    let mut healthy_live = 0;
    let mut live = 0;
    for prod in p.catalog.products_of(b) {
        let on_sale = prod.status.is_on_sale();
        live += usize::from(on_sale);
        match prod.status {
            ProductStatus::Active => c.active += 1,
            ProductStatus::Unlisted => c.unlisted += 1,
            ProductStatus::Draft => c.draft += 1,
            ProductStatus::Archived => c.archived += 1,
            _ => c.other += 1,
        }
        let mut names = vec![];
        for (flag, name, count) in [
            (NO_IMAGES, "no images", &mut c.missing_images),
            (
                NO_DESCRIPTION,
                "empty description",
                &mut c.missing_description,
            ),
            (ZERO_PRICE, "variant priced 0", &mut c.zero_price),
        ] {
            if prod.issues & flag != 0 {
                *count += usize::from(on_sale);
                names.push(name);
            }
        }
        if names.is_empty() {
            healthy_live += usize::from(on_sale);
        } else {
            let listed = ProductIssues {
                product: prod.title.to_string(),
                status: prod.status.to_string(),
                issues: names,
            };
            if on_sale {
                c.issues.push(listed);
            } else {
                c.off_sale_issues.push(listed);
            }
        }
    }
    c.issues.sort_by(|a, b| a.product.cmp(&b.product));
    c.off_sale_issues.sort_by(|a, b| a.product.cmp(&b.product));
    c.health_score = (live > 0).then(|| healthy_live as f64 / live as f64);
    c
}
