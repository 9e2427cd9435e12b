//! Products, their variants and stock in the projection. Catalogs are small
//! (hundreds of products per brand), so rows are kept whole enough for the
//! inventory and catalog panels to read them directly.

use super::keys::{record_key, Symbols};
use super::BrandIx;
use opsdeck_domain::{InventoryLevel, Product, ProductStatus};
use std::collections::{BTreeMap, HashMap};

pub const NO_IMAGES: u8 = 1;
pub const NO_DESCRIPTION: u8 = 2;
pub const ZERO_PRICE: u8 = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantRow {
    /// The platform's variant id (symbol): order lines name it, so sales
    /// are counted per variant.
    pub id: u32,
    pub title: Box<str>,
    pub sku: u32,
    pub inventory_item: u32,
    pub tracked: bool,
    /// Quantity as the product payload reports it (used when no stock level is known).
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub title: Box<str>,
    pub status: ProductStatus,
    pub deleted: bool,
    pub issues: u8,
    pub variants: Vec<VariantRow>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogState {
    pub products: BTreeMap<(BrandIx, u64), ProductRow>,
    /// Stock level key → (brand, inventory item symbol, available).
    levels: HashMap<u64, (BrandIx, u32, i64)>,
    /// (brand, inventory item) → (sum of available, levels known).
    pub stock: HashMap<(BrandIx, u32), (i64, i64)>,
}

impl CatalogState {
    pub fn apply_product(&mut self, p: &Product, brand: BrandIx, syms: &mut Symbols) {
        let key = record_key(p.source.as_str(), &p.external_id);
        let mut issues = 0;
        if p.image_count == 0 {
            issues |= NO_IMAGES;
        }
        if p.description_is_empty() {
            issues |= NO_DESCRIPTION;
        }
        if p.variants.iter().any(|v| v.price.minor == 0) {
            issues |= ZERO_PRICE;
        }
        let variants = p
            .variants
            .iter()
            .map(|v| VariantRow {
                id: if v.external_id.is_empty() {
                    0
                } else {
                    syms.intern(&v.external_id)
                },
                title: v.title.as_str().into(),
                sku: v
                    .sku
                    .as_deref()
                    .filter(|s| !s.is_empty())
                    .map_or(0, |s| syms.intern(s)),
                inventory_item: v.inventory_item_id.as_deref().map_or(0, |s| syms.intern(s)),
                tracked: v.inventory_tracked,
                quantity: v.inventory_quantity,
            })
            .collect();
        self.products.insert(
            (brand, key),
            ProductRow {
                title: p.title.as_str().into(),
                status: p.status.clone(),
                deleted: p.deleted_at.is_some(),
                issues,
                variants,
            },
        );
    }

    pub fn apply_level(&mut self, l: &InventoryLevel, brand: BrandIx, syms: &mut Symbols) {
        let key = record_key(l.source.as_str(), &l.external_id);
        if let Some((b, item, qty)) = self.levels.remove(&key) {
            self.adjust((b, item), -qty, -1);
        }
        if let Some(qty) = l.available {
            let item = syms.intern(&l.inventory_item_id);
            self.levels.insert(key, (brand, item, qty));
            self.adjust((brand, item), qty, 1);
        }
    }

    fn adjust(&mut self, k: (BrandIx, u32), qty: i64, n: i64) {
        let e = self.stock.entry(k).or_default();
        e.0 = e.0.saturating_add(qty);
        e.1 += n;
        if e.1 == 0 {
            self.stock.remove(&k);
        }
    }

    /// Units available of a variant: the sum of its stock levels where any
    /// is known, else the product payload's quantity.
    pub fn quantity(&self, brand: BrandIx, v: &VariantRow) -> Option<i64> {
        if v.inventory_item != 0 {
            if let Some((sum, _)) = self.stock.get(&(brand, v.inventory_item)) {
                return Some(*sum);
            }
        }
        v.quantity
    }

    pub fn products_of(&self, brand: BrandIx) -> impl Iterator<Item = &ProductRow> {
        self.products
            .range((brand, 0)..=(brand, u64::MAX))
            .map(|(_, p)| p)
            .filter(|p| !p.deleted)
    }
}
