//! `product` (with variants, options and images) and `inventory_level` payloads.

use serde::Serialize;
use serde_json::Value;

use super::{gid, money, timestamp};
use crate::catalog::{Body, Product, Variant};
use crate::ids;
use crate::world::Shop;

#[derive(Serialize)]
struct VariantWire {
    id: u64,
    admin_graphql_api_id: String,
    product_id: u64,
    title: String,
    price: String,
    sku: String,
    position: usize,
    inventory_policy: &'static str,
    compare_at_price: Option<String>,
    fulfillment_service: &'static str,
    inventory_management: Option<&'static str>,
    option1: Option<String>,
    option2: Option<String>,
    option3: Option<String>,
    created_at: String,
    updated_at: String,
    taxable: bool,
    barcode: Option<String>,
    grams: u32,
    image_id: Option<u64>,
    weight: f64,
    weight_unit: &'static str,
    inventory_item_id: u64,
    inventory_quantity: i64,
    old_inventory_quantity: i64,
    requires_shipping: bool,
}

#[derive(Serialize)]
struct OptionWire {
    id: u64,
    product_id: u64,
    name: &'static str,
    position: u32,
    values: Vec<String>,
}

#[derive(Serialize)]
struct ImageWire {
    id: u64,
    admin_graphql_api_id: String,
    product_id: u64,
    position: usize,
    created_at: String,
    updated_at: String,
    alt: Option<String>,
    width: u32,
    height: u32,
    src: String,
    variant_ids: Vec<u64>,
}

#[derive(Serialize)]
struct ProductWire {
    id: u64,
    admin_graphql_api_id: String,
    title: String,
    body_html: Option<String>,
    vendor: String,
    product_type: &'static str,
    created_at: String,
    handle: String,
    updated_at: String,
    published_at: Option<String>,
    template_suffix: Option<String>,
    published_scope: &'static str,
    status: &'static str,
    tags: String,
    variants: Vec<VariantWire>,
    options: Vec<OptionWire>,
    images: Vec<ImageWire>,
    image: Option<ImageWire>,
}

fn image(shop: &Shop, product: &Product, position: usize) -> ImageWire {
    let id = ids::image(shop.profile.id_salt, product.first_image + position);
    ImageWire {
        id,
        admin_graphql_api_id: gid("ProductImage", id),
        product_id: product.id,
        position: position + 1,
        created_at: timestamp(product.created_at, &shop.tz),
        updated_at: timestamp(product.created_at, &shop.tz),
        alt: None,
        width: 2048,
        height: 2048,
        src: format!(
            "https://cdn.shopify.com/s/files/1/0{}/products/{}-{}.jpg?v={}",
            shop.profile.id_salt,
            product.handle,
            position + 1,
            product.created_at
        ),
        variant_ids: Vec::new(),
    }
}

fn available(variant: &Variant) -> i64 {
    variant.stock.iter().sum()
}

pub(crate) fn product_json(shop: &Shop, index: usize) -> Value {
    let product = &shop.catalog.products[index];
    let ts = |at| timestamp(at, &shop.tz);
    let variants = product
        .variants
        .iter()
        .enumerate()
        .map(|(position, v)| VariantWire {
            id: v.id,
            admin_graphql_api_id: gid("ProductVariant", v.id),
            product_id: product.id,
            title: v.title.clone(),
            price: money(v.price_cents as i64),
            sku: v.sku.clone(),
            position: position + 1,
            inventory_policy: if v.policy_continue {
                "continue"
            } else {
                "deny"
            },
            compare_at_price: v.compare_at_cents.map(|c| money(c as i64)),
            fulfillment_service: "manual",
            inventory_management: v.tracked.then_some("shopify"),
            option1: Some(v.title.clone()),
            option2: None,
            option3: None,
            created_at: ts(v.created_at),
            updated_at: ts(v.updated_at),
            taxable: true,
            barcode: (position % 2 == 0).then(|| format!("08{:011}", v.id % 100_000_000_000)),
            grams: v.grams,
            image_id: None,
            weight: v.grams as f64 / 1000.0,
            weight_unit: "kg",
            inventory_item_id: v.inventory_item_id,
            inventory_quantity: available(v),
            old_inventory_quantity: available(v),
            requires_shipping: true,
        })
        .collect();
    let images: Vec<ImageWire> = (0..product.image_count as usize)
        .map(|p| image(shop, product, p))
        .collect();
    let wire = ProductWire {
        id: product.id,
        admin_graphql_api_id: gid("Product", product.id),
        title: product.title.clone(),
        body_html: match &product.body {
            Body::Html(html) => Some(html.clone()),
            Body::Empty => Some(String::new()),
            Body::Null => None,
        },
        vendor: product.vendor.clone(),
        product_type: product.product_type,
        created_at: ts(product.created_at),
        handle: product.handle.clone(),
        updated_at: ts(product.updated_at),
        published_at: (product.status == crate::catalog::ProductStatus::Active)
            .then(|| ts(product.created_at)),
        template_suffix: None,
        published_scope: "web",
        status: product.status.as_str(),
        tags: product.tags.clone(),
        variants,
        options: vec![OptionWire {
            id: product.id + 7,
            product_id: product.id,
            name: product.option_name,
            position: 1,
            values: product.variants.iter().map(|v| v.title.clone()).collect(),
        }],
        image: (product.image_count > 0).then(|| image(shop, product, 0)),
        images,
    };
    serde_json::to_value(wire).unwrap_or(Value::Null)
}

#[derive(Serialize)]
struct InventoryLevelWire {
    inventory_item_id: u64,
    location_id: u64,
    available: Option<i64>,
    updated_at: String,
    admin_graphql_api_id: String,
}

/// One inventory level: untracked variants report `available: null`, like Shopify.
pub(crate) fn inventory_level_json(
    shop: &Shop,
    product: usize,
    variant: usize,
    location: usize,
) -> Value {
    let v = &shop.catalog.products[product].variants[variant];
    let location_id = shop.catalog.locations[location].id;
    let wire = InventoryLevelWire {
        inventory_item_id: v.inventory_item_id,
        location_id,
        available: v.tracked.then(|| v.stock[location]),
        updated_at: timestamp(v.stock_updated_at, &shop.tz),
        admin_graphql_api_id: format!(
            "gid://shopify/InventoryLevel/{location_id}?inventory_item_id={}",
            v.inventory_item_id
        ),
    };
    serde_json::to_value(wire).unwrap_or(Value::Null)
}
