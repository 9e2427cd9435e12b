//! The catalog of each brand: products, variants, stock per location, and the
//! gaps a real catalog has (no images, no description, a zero price, drafts,
//! archived products, stock-outs and low stock).

use rand::seq::SliceRandom;
use rand::Rng;

use crate::brands::Profile;
use crate::ids;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProductStatus {
    Active,
    Draft,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "active",
            ProductStatus::Draft => "draft",
            ProductStatus::Archived => "archived",
        }
    }
}

/// `body_html` as merchants leave it: written, emptied, or never set.
pub(crate) enum Body {
    Html(String),
    Empty,
    Null,
}

pub(crate) struct Product {
    pub id: u64,
    pub title: String,
    pub handle: String,
    pub body: Body,
    pub vendor: String,
    pub product_type: &'static str,
    pub status: ProductStatus,
    pub tags: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub image_count: u8,
    /// Index of the first image id of this product.
    pub first_image: usize,
    pub option_name: &'static str,
    pub variants: Vec<Variant>,
}

pub(crate) struct Variant {
    pub id: u64,
    pub inventory_item_id: u64,
    pub title: String,
    pub sku: String,
    pub price_cents: u32,
    pub compare_at_cents: Option<u32>,
    pub grams: u32,
    /// `inventory_management: "shopify"`; untracked variants (dropship) report null.
    pub tracked: bool,
    /// `inventory_policy: "continue"` lets stock go negative.
    pub policy_continue: bool,
    /// Available units per location (same order as `Catalog::locations`).
    pub stock: Vec<i64>,
    pub stock_updated_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub(crate) struct Location {
    pub id: u64,
    pub name: &'static str,
    pub city: &'static str,
    pub province_code: &'static str,
    pub zip: &'static str,
}

pub(crate) struct Catalog {
    pub products: Vec<Product>,
    pub locations: Vec<Location>,
    /// (product, variant) pairs that can appear in orders, with a cumulative popularity.
    pub sellable: Vec<(u32, u16)>,
    pub popularity: Vec<f64>,
}

/// Line items whose product was deleted since: they keep a title and sku but lose ids.
pub(crate) const DELETED_ITEMS: [(&str, &str, u32); 3] = [
    ("Holiday Sampler Bundle", "BNDL-HOLIDAY-24", 3900),
    ("Launch Edition Tote", "TOTE-LAUNCH", 2500),
    ("Trial Size Pack", "TRIAL-01", 900),
];

/// Custom line items added by staff: no product, no variant, no sku.
pub(crate) const CUSTOM_ITEMS: [(&str, u32); 3] = [
    ("Gift wrapping", 500),
    ("Handwritten note", 300),
    ("Shipping protection", 295),
];

struct Line {
    titles: &'static [&'static str],
    nouns: &'static [&'static str],
    product_type: &'static str,
    option: &'static str,
    values: &'static [&'static str],
    price_range: (u32, u32),
}

const MAVENA_LINES: [Line; 3] = [
    Line {
        titles: &[
            "Ella", "Noor", "Sienna", "Vera", "Luca", "Marlo", "Iris", "Tova", "Amara", "Juno",
        ],
        nouns: &[
            "Leather Ankle Boot",
            "Suede Loafer",
            "Platform Sneaker",
            "Strappy Sandal",
            "Square-Toe Mule",
        ],
        product_type: "Shoes",
        option: "Size",
        values: &["6", "7", "8", "9", "10"],
        price_range: (59, 189),
    },
    Line {
        titles: &[
            "Rosa", "Cleo", "Maya", "Lina", "Zora", "Nia", "Elle", "Rhea",
        ],
        nouns: &[
            "Wrap Dress",
            "Linen Shirt",
            "Knit Cardigan",
            "Slip Skirt",
            "Tailored Blazer",
            "Wide-Leg Trouser",
        ],
        product_type: "Apparel",
        option: "Size",
        values: &["XS", "S", "M", "L", "XL"],
        price_range: (29, 139),
    },
    Line {
        titles: &["Mira", "Sol", "Ava", "Kaia"],
        nouns: &["Woven Tote", "Crossbody Bag", "Leather Belt"],
        product_type: "Accessories",
        option: "Title",
        values: &["Default Title"],
        price_range: (25, 99),
    },
];

const PAWFULLY_LINES: [Line; 3] = [
    Line {
        titles: &[
            "Salmon",
            "Chicken",
            "Duck",
            "Peanut Butter",
            "Pumpkin",
            "Beef Liver",
        ],
        nouns: &["Training Bites", "Dental Chews", "Jerky Treats"],
        product_type: "Treats",
        option: "Size",
        values: &["4 oz", "12 oz"],
        price_range: (9, 29),
    },
    Line {
        titles: &["Cozy", "Orthopedic", "Calming", "Cooling"],
        nouns: &["Donut Bed", "Crate Mat", "Bolster Bed"],
        product_type: "Beds",
        option: "Size",
        values: &["S", "M", "L"],
        price_range: (39, 119),
    },
    Line {
        titles: &[
            "Rope",
            "Squeaky",
            "Puzzle",
            "Fetch",
            "Reflective",
            "Waterproof",
        ],
        nouns: &["Tug Toy", "Ball", "Collar", "Leash", "Harness"],
        product_type: "Toys & Gear",
        option: "Color",
        values: &["Coral", "Sage", "Navy"],
        price_range: (12, 49),
    },
];

pub(crate) fn locations(profile: &Profile) -> Vec<Location> {
    let salt = profile.id_salt;
    let mut list = vec![Location {
        id: ids::location(salt, 0),
        name: "Main Warehouse",
        city: "Columbus",
        province_code: "OH",
        zip: "43215",
    }];
    if profile.brand_id == "pawfully" {
        list.push(Location {
            id: ids::location(salt, 1),
            name: "West Coast 3PL",
            city: "Reno",
            province_code: "NV",
            zip: "89502",
        });
    }
    list
}

/// Builds the catalog; `created` is the earliest time a product can have been created.
pub(crate) fn generate(profile: &Profile, rng: &mut impl Rng, created: i64, now: i64) -> Catalog {
    let locations = locations(profile);
    let mut products = Vec::with_capacity(profile.products);
    let salt = profile.id_salt;
    let mut variant_counter = 0usize;
    let mut image_counter = 0usize;
    for index in 0..profile.products {
        let spec = product_spec(profile, index, rng);
        let created_at = created - rng.gen_range(0..90 * 86_400);
        let updated_at = rng.gen_range(created_at..now);
        // Catalog gaps at fixed positions (so they always exist) plus a little chance.
        let large = profile.products > 10;
        let status = if !profile.launched || (large && (index % 23 == 7 || rng.gen_bool(0.02))) {
            ProductStatus::Draft
        } else if large && (index % 29 == 11 || rng.gen_bool(0.015)) {
            ProductStatus::Archived
        } else {
            ProductStatus::Active
        };
        let image_count = if (large && index % 17 == 5) || (!profile.launched && index % 2 == 0) {
            0
        } else {
            rng.gen_range(1..=4)
        };
        let body = if (large && index % 19 == 3) || (!profile.launched && index == 1) {
            Body::Null
        } else if large && index % 31 == 9 {
            Body::Empty
        } else {
            Body::Html(format!(
                "<p>{} by {}. Made to last, easy to love.</p><ul><li>Free returns within 30 days</li></ul>",
                spec.title, profile.name
            ))
        };
        let mut variants = Vec::with_capacity(spec.values.len());
        let base_price = rng.gen_range(spec.price_range.0..=spec.price_range.1) * 100 - 1;
        for (position, value) in spec.values.iter().enumerate() {
            let tracked = match profile.kind {
                "dropship" => index % 3 == 0,
                _ => true,
            };
            let mut price_cents = base_price + position as u32 * spec.price_step;
            if large && index % 37 == 13 && position == 0 {
                price_cents = 0; // a free sample someone forgot to price
            }
            let stock = stock_for(rng, tracked, index, position, locations.len());
            let sku_stem: String = spec
                .title
                .split_whitespace()
                .map(|w| w.chars().next().unwrap_or('X'))
                .collect();
            variants.push(Variant {
                id: ids::variant(salt, variant_counter),
                inventory_item_id: ids::inventory_item(salt, variant_counter),
                title: value.to_string(),
                sku: format!(
                    "{}-{}-{:03}-{}",
                    &profile.brand_id[..3].to_uppercase(),
                    sku_stem.to_uppercase(),
                    index,
                    value.replace(' ', "").to_uppercase()
                ),
                price_cents,
                compare_at_cents: rng.gen_bool(0.2).then_some(price_cents + 1000),
                grams: rng.gen_range(80..1500),
                tracked,
                policy_continue: !tracked || rng.gen_bool(0.1),
                stock,
                stock_updated_at: updated_at,
                created_at,
                updated_at,
            });
            variant_counter += 1;
        }
        let title = spec.title.clone();
        products.push(Product {
            id: ids::product(salt, index),
            handle: title.to_lowercase().replace([' ', '\''], "-"),
            title,
            body,
            vendor: spec.vendor,
            product_type: spec.product_type,
            status,
            tags: spec.tags,
            created_at,
            updated_at,
            image_count,
            first_image: image_counter,
            option_name: spec.option,
            variants,
        });
        image_counter += image_count as usize;
    }
    let mut catalog = Catalog {
        products,
        locations,
        sellable: Vec::new(),
        popularity: Vec::new(),
    };
    catalog.index_sellable(rng);
    catalog
}

/// Stock-outs at fixed positions, low stock at others, healthy stock elsewhere.
fn stock_for(
    rng: &mut impl Rng,
    tracked: bool,
    index: usize,
    position: usize,
    locations: usize,
) -> Vec<i64> {
    if !tracked {
        return vec![0; locations];
    }
    let total: i64 = match (index * 7 + position * 3) % 13 {
        0 => 0,
        1 => rng.gen_range(1..=5),
        _ => rng.gen_range(12..=420),
    };
    let mut stock = vec![0; locations];
    stock[0] = total;
    if locations > 1 && total > 10 {
        let moved = total / 3;
        stock[0] -= moved;
        stock[1] = moved;
    }
    stock
}

struct Spec {
    title: String,
    vendor: String,
    product_type: &'static str,
    option: &'static str,
    values: Vec<&'static str>,
    price_range: (u32, u32),
    price_step: u32,
    tags: String,
}

fn product_spec(profile: &Profile, index: usize, rng: &mut impl Rng) -> Spec {
    match profile.brand_id {
        "plentum" => {
            let (title, values, price): (&str, Vec<&'static str>, u32) = match index {
                0 => (
                    "Daily Greens Superfood Powder",
                    vec!["30 Servings", "60 Servings"],
                    49,
                ),
                1 => ("Deep Sleep Magnesium Complex", vec!["Default Title"], 39),
                _ => ("Gut Restore Probiotic", vec!["Default Title"], 44),
            };
            Spec {
                title: title.to_string(),
                vendor: "Plentum".into(),
                product_type: "Supplements",
                option: if values.len() > 1 { "Size" } else { "Title" },
                values,
                price_range: (price, price),
                price_step: 3000,
                tags: "subscription, wellness".into(),
            }
        }
        "retromedy" => Spec {
            title: [
                "Retro Relief Balm",
                "Vintage Herbal Tonic",
                "Classic Cold Rub",
                "Old-Time Throat Drops",
                "Heritage Bath Salts",
            ][index % 5]
                .into(),
            vendor: "RetroMedy".into(),
            product_type: "Remedies",
            option: "Title",
            values: vec!["Default Title"],
            price_range: (14, 34),
            price_step: 0,
            tags: String::new(),
        },
        brand => {
            let lines: &[Line] = if brand == "mavena" {
                &MAVENA_LINES
            } else {
                &PAWFULLY_LINES
            };
            let line = &lines[index % lines.len()];
            let round = index / lines.len();
            let first = line.titles[round % line.titles.len()];
            let noun = line.nouns[(round / line.titles.len() + index) % line.nouns.len()];
            let mut values: Vec<&'static str> = line.values.to_vec();
            if values.len() > 2 && rng.gen_bool(0.3) {
                values.truncate(values.len() - 1);
            }
            Spec {
                title: format!(
                    "{first} {noun}{}",
                    if round >= line.titles.len() * line.nouns.len() {
                        format!(" {round}")
                    } else {
                        String::new()
                    }
                ),
                vendor: if brand == "mavena" {
                    ["Atelier Sud", "Lumen Footwear", "Casa Norte"][index % 3].into()
                } else {
                    "PawFully".into()
                },
                product_type: line.product_type,
                option: line.option,
                values,
                price_range: line.price_range,
                price_step: if line.product_type == "Beds" { 2000 } else { 0 },
                tags: if index.is_multiple_of(5) {
                    "bestseller, new-arrival".into()
                } else {
                    line.product_type.to_lowercase()
                },
            }
        }
    }
}

impl Catalog {
    /// Active and archived variants can appear in orders (archived ones sold before),
    /// with a long-tailed popularity so a few SKUs dominate.
    fn index_sellable(&mut self, rng: &mut impl Rng) {
        let mut pairs = Vec::new();
        for (p, product) in self.products.iter().enumerate() {
            if product.status == ProductStatus::Draft {
                continue;
            }
            for v in 0..product.variants.len() {
                pairs.push((p as u32, v as u16));
            }
        }
        let mut ranks: Vec<usize> = (0..pairs.len()).collect();
        ranks.shuffle(rng);
        let mut total = 0.0;
        self.popularity = ranks
            .iter()
            .map(|&rank| {
                total += 1.0 / (rank as f64 + 1.0).powf(0.9);
                total
            })
            .collect();
        self.sellable = pairs;
    }

    /// Picks a variant by popularity.
    pub fn pick(&self, rng: &mut impl Rng) -> Option<(u32, u16)> {
        let total = *self.popularity.last()?;
        let u = rng.gen::<f64>() * total;
        let i = self
            .popularity
            .partition_point(|&c| c <= u)
            .min(self.sellable.len() - 1);
        Some(self.sellable[i])
    }

    pub fn variant(&self, product: u32, variant: u16) -> &Variant {
        &self.products[product as usize].variants[variant as usize]
    }
}
