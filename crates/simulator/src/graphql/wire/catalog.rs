//! `Product` with its `variants`, `InventoryItem` with its
//! `inventoryLevels`, and `Location`.

use serde::Serialize;
use serde_json::Value;

use super::{datetime, gid, reference, typed, with, Nodes, Wants};
use crate::catalog::Body;
use crate::world::Shop;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductWire {
    id: String,
    legacy_resource_id: String,
    title: String,
    handle: String,
    status: &'static str,
    vendor: String,
    product_type: &'static str,
    tags: Vec<String>,
    description_html: String,
    created_at: String,
    updated_at: String,
    published_at: Option<String>,
    total_inventory: i64,
    tracks_inventory: bool,
    has_only_default_variant: bool,
    media_count: Value,
    featured_media: Option<Value>,
    /// Deprecated by Shopify for `featuredMedia`, still served.
    featured_image: Option<Value>,
    variants: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CountWire {
    count: u64,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VariantWire {
    id: String,
    legacy_resource_id: String,
    title: String,
    display_name: String,
    sku: String,
    barcode: Option<String>,
    position: usize,
    available_for_sale: bool,
    selected_options: Vec<Value>,
    price: String,
    compare_at_price: Option<String>,
    inventory_quantity: i64,
    inventory_policy: &'static str,
    created_at: String,
    updated_at: String,
    product: Value,
    inventory_item: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InventoryItemWire {
    id: String,
    legacy_resource_id: String,
    sku: String,
    tracked: bool,
    requires_shipping: bool,
    created_at: String,
    updated_at: String,
    variant: Value,
    inventory_levels: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InventoryLevelWire {
    id: String,
    updated_at: String,
    location: Value,
    quantities: Vec<Value>,
    item: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuantityWire {
    name: &'static str,
    quantity: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationWire {
    id: String,
    legacy_resource_id: String,
    name: &'static str,
    is_active: bool,
    fulfills_online_orders: bool,
    address: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LocationAddressWire {
    city: &'static str,
    province_code: &'static str,
    zip: &'static str,
    country_code: &'static str,
}

/// Product `p` with every variant (when `wants` names them).
pub(crate) fn product(shop: &Shop, p: usize, wants: &Wants) -> Value {
    let product = &shop.catalog.products[p];
    let variants = (0..product.variants.len())
        .filter(|_| wants.has("variants"))
        .map(|v| variant(shop, p, v))
        .collect();
    let tracked: Vec<_> = product.variants.iter().filter(|v| v.tracked).collect();
    typed(
        "Product",
        ProductWire {
            id: gid("Product", product.id),
            legacy_resource_id: product.id.to_string(),
            title: product.title.clone(),
            handle: product.handle.clone(),
            status: match product.status.as_str() {
                "active" => "ACTIVE",
                "draft" => "DRAFT",
                _ => "ARCHIVED",
            },
            vendor: product.vendor.clone(),
            product_type: product.product_type,
            tags: product
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            description_html: match &product.body {
                Body::Html(html) => html.clone(),
                Body::Empty | Body::Null => String::new(),
            },
            created_at: datetime(product.created_at),
            updated_at: datetime(product.updated_at),
            published_at: (product.status.as_str() == "active")
                .then(|| datetime(product.created_at)),
            total_inventory: tracked.iter().map(|v| v.stock.iter().sum::<i64>()).sum(),
            tracks_inventory: !tracked.is_empty(),
            has_only_default_variant: product.variants.len() == 1
                && product.variants[0].title == "Default Title",
            media_count: typed(
                "Count",
                CountWire {
                    count: product.image_count as u64,
                    precision: "EXACT",
                },
            ),
            featured_media: (product.image_count > 0).then(|| {
                reference(
                    "MediaImage",
                    crate::ids::image(shop.profile.id_salt, product.first_image),
                )
            }),
            featured_image: (product.image_count > 0).then(|| {
                let image = crate::ids::image(shop.profile.id_salt, product.first_image);
                with(
                    reference("Image", image),
                    [
                        (
                            "url",
                            Value::String(format!(
                                "https://cdn.shopify.com/s/files/1/0{}/files/{}.jpg",
                                shop.profile.id_salt, product.handle
                            )),
                        ),
                        // Merchants write alt text for some images only.
                        (
                            "altText",
                            if p.is_multiple_of(2) {
                                Value::String(product.title.clone())
                            } else {
                                Value::Null
                            },
                        ),
                    ],
                )
            }),
            variants: Nodes { nodes: variants },
        },
    )
}

/// Variant `v` of product `p`.
pub(crate) fn variant(shop: &Shop, p: usize, v: usize) -> Value {
    let product = &shop.catalog.products[p];
    let variant = &product.variants[v];
    let title = variant.title.clone();
    typed(
        "ProductVariant",
        VariantWire {
            id: gid("ProductVariant", variant.id),
            legacy_resource_id: variant.id.to_string(),
            display_name: format!("{} - {}", product.title, title),
            title,
            sku: variant.sku.clone(),
            // A UPC on tracked stock; dropshipped variants carry none.
            barcode: variant
                .tracked
                .then(|| format!("0{:011}", variant.id % 100_000_000_000)),
            position: v + 1,
            available_for_sale: product.status.as_str() == "active"
                && (!variant.tracked
                    || variant.policy_continue
                    || variant.stock.iter().sum::<i64>() > 0),
            selected_options: vec![serde_json::json!({
                "__typename": "SelectedOption",
                "name": if variant.title == "Default Title" { "Title" } else { product.option_name },
                "value": variant.title,
            })],
            price: crate::wire::money(variant.price_cents as i64),
            compare_at_price: variant
                .compare_at_cents
                .map(|c| crate::wire::money(c as i64)),
            inventory_quantity: variant.stock.iter().sum(),
            inventory_policy: if variant.policy_continue {
                "CONTINUE"
            } else {
                "DENY"
            },
            created_at: datetime(variant.created_at),
            updated_at: datetime(variant.updated_at),
            product: reference("Product", product.id),
            inventory_item: inventory_item(shop, p, v),
        },
    )
}

/// The inventory item of variant `v` of product `p`, with its level at
/// every location.
pub(crate) fn inventory_item(shop: &Shop, p: usize, v: usize) -> Value {
    let variant = &shop.catalog.products[p].variants[v];
    let item_id = variant.inventory_item_id;
    let levels = shop
        .catalog
        .locations
        .iter()
        .enumerate()
        .map(|(l, location_row)| {
            let available = variant.stock[l];
            typed(
                "InventoryLevel",
                InventoryLevelWire {
                    id: format!(
                        "gid://shopify/InventoryLevel/{}?inventory_item_id={item_id}",
                        location_row.id
                    ),
                    updated_at: datetime(variant.stock_updated_at),
                    location: location(shop, l),
                    quantities: ["available", "on_hand", "committed"]
                        .into_iter()
                        .map(|name| {
                            typed(
                                "InventoryQuantity",
                                QuantityWire {
                                    name,
                                    quantity: match name {
                                        "committed" => 0,
                                        _ => available,
                                    },
                                },
                            )
                        })
                        .collect(),
                    item: with(
                        reference("InventoryItem", item_id),
                        [("sku", Value::String(variant.sku.clone()))],
                    ),
                },
            )
        })
        .collect();
    typed(
        "InventoryItem",
        InventoryItemWire {
            id: gid("InventoryItem", item_id),
            legacy_resource_id: item_id.to_string(),
            sku: variant.sku.clone(),
            tracked: variant.tracked,
            requires_shipping: true,
            created_at: datetime(variant.created_at),
            updated_at: datetime(variant.stock_updated_at.max(variant.updated_at)),
            variant: reference("ProductVariant", variant.id),
            inventory_levels: Nodes { nodes: levels },
        },
    )
}

/// Location `l` of the shop.
pub(crate) fn location(shop: &Shop, l: usize) -> Value {
    let location = &shop.catalog.locations[l];
    typed(
        "Location",
        LocationWire {
            id: gid("Location", location.id),
            legacy_resource_id: location.id.to_string(),
            name: location.name,
            is_active: true,
            fulfills_online_orders: l == 0,
            address: typed(
                "LocationAddress",
                LocationAddressWire {
                    city: location.city,
                    province_code: location.province_code,
                    zip: location.zip,
                    country_code: "US",
                },
            ),
        },
    )
}
