//! The catalog: products, their variants, and stock per location.

use crate::record::{impl_record, RecordKind};
use crate::{BrandId, Money, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

open_enum! {
    /// Whether a product is on sale (Shopify product `status`).
    pub enum ProductStatus {
        Active = "active",
        /// On sale and reachable by link, hidden from search and collections
        /// (Shopify Admin API 2025-10 and later).
        Unlisted = "unlisted",
        Draft = "draft",
        Archived = "archived",
    }
}

impl ProductStatus {
    /// Customers can buy it: active or unlisted. Such products are the live
    /// catalog (its health score) and their stock is what can run out.
    pub fn is_on_sale(&self) -> bool {
        matches!(self, ProductStatus::Active | ProductStatus::Unlisted)
    }
}

/// One purchasable option of a product (a size, a flavour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub external_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub price: Money,
    /// The platform's inventory item behind the variant; stock levels are
    /// keyed by it.
    pub inventory_item_id: Option<String>,
    /// Total available across locations, as the product payload reports it.
    pub inventory_quantity: Option<i64>,
    /// Only tracked variants get stock alerts (Shopify
    /// `inventory_management == "shopify"`).
    pub inventory_tracked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    pub title: String,
    pub handle: Option<String>,
    pub status: ProductStatus,
    /// Description as HTML; `None` or blank is a catalog gap.
    pub body_html: Option<String>,
    pub image_count: u32,
    pub vendor: Option<String>,
    pub product_type: Option<String>,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the platform reported the product deleted; kept so history
    /// (orders, tickets) still resolves, hidden from catalog counts.
    pub deleted_at: Option<Timestamp>,
    pub variants: Vec<Variant>,
}

impl_record!(Product, RecordKind::Product, brand: required);

impl Product {
    /// True when the description is empty once HTML tags and whitespace are removed.
    pub fn description_is_empty(&self) -> bool {
        let Some(html) = &self.body_html else {
            return true;
        };
        let mut in_tag = false;
        for ch in html.chars() {
            match ch {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag && !c.is_whitespace() => return false,
                _ => {}
            }
        }
        true
    }
}

/// Stock of one inventory item at one location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryLevel {
    pub source: SourceId,
    /// `"{inventory_item_id}:{location_id}"`, unique within the source.
    pub external_id: String,
    pub brand: BrandId,
    pub inventory_item_id: String,
    pub location_id: String,
    /// Units available; `None` when the platform does not track this item here.
    pub available: Option<i64>,
    pub updated_at: Timestamp,
}

impl_record!(InventoryLevel, RecordKind::InventoryLevel, brand: required);

impl InventoryLevel {
    pub fn external_id_for(inventory_item_id: &str, location_id: &str) -> String {
        format!("{inventory_item_id}:{location_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(body: Option<&str>) -> Product {
        Product {
            source: SourceId::parse("s").unwrap(),
            external_id: "1".into(),
            brand: BrandId::parse("b").unwrap(),
            title: "T".into(),
            handle: None,
            status: ProductStatus::Active,
            body_html: body.map(str::to_string),
            image_count: 0,
            vendor: None,
            product_type: None,
            tags: vec![],
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
            deleted_at: None,
            variants: vec![],
        }
    }

    #[test]
    fn empty_description_ignores_markup_and_whitespace() {
        assert!(product(None).description_is_empty());
        assert!(product(Some("")).description_is_empty());
        assert!(product(Some("<p> \n</p><br/>")).description_is_empty());
        assert!(!product(Some("<p>Soft cotton</p>")).description_is_empty());
    }

    #[test]
    fn unlisted_products_are_on_sale() {
        assert_eq!(ProductStatus::parse("unlisted"), ProductStatus::Unlisted);
        assert_eq!(ProductStatus::Unlisted.to_string(), "unlisted");
        assert!(ProductStatus::Active.is_on_sale());
        assert!(ProductStatus::Unlisted.is_on_sale());
        assert!(!ProductStatus::Draft.is_on_sale());
        assert!(!ProductStatus::Archived.is_on_sale());
        assert!(!ProductStatus::Other("scheduled".into()).is_on_sale());
    }
}
