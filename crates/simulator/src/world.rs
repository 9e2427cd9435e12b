//! The world: every shop with its catalog, customers and orders, the clock,
//! and the knobs tests turn (faults, rate limit). Lives behind one mutex.

use jiff::tz::TimeZone;
use jiff::ToSpan;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::brands::{Profile, PROFILES};
use crate::catalog::{self, Catalog};
use crate::customers::NO_CUSTOMER;
use crate::faults::Faults;
use crate::gorgias::Helpdesk;
use crate::lifecycle::order_state;
use crate::orders::{ItemRef, OrderBook, CANCELLED, CLOSED};
use crate::rate_limit::LeakyBucket;
use crate::rhythm::{mix, poisson, Rhythm};
use crate::{ShopInfo, SimConfig};

pub(crate) struct Shop {
    pub info: ShopInfo,
    pub profile: &'static Profile,
    pub tz: TimeZone,
    pub rhythm: Rhythm,
    pub catalog: Catalog,
    pub book: OrderBook,
    /// Expected orders per unit of rhythm weight, calibrated on the history.
    pub orders_per_weight: f64,
    /// Drives everything generated after the start, so `advance_to` is deterministic too.
    pub rng: ChaCha8Rng,
    pub bucket: LeakyBucket,
    /// The GraphQL cost bucket (Standard plan), apart from REST's.
    pub cost_bucket: crate::graphql::throttle::CostBucket,
    pub requests: u64,
    /// The access scopes the app's token was granted (all of
    /// [`crate::ALL_SCOPES`] unless a test takes some away). Without
    /// `read_all_orders` only the last 60 days of orders are served, silently,
    /// as Shopify does.
    pub scopes: Vec<String>,
    /// Whether `/admin/oauth/access_scopes.json` is answered (404 if not).
    pub scopes_endpoint: bool,
    /// Metafields set on the shop (`metafieldsSet`), in the order set.
    pub metafields: Vec<StoredMetafield>,
    /// The world's seed: returns and disputes are drawn from it, and a
    /// return moves its order's `updated_at` on every face.
    pub seed: u64,
}

/// One metafield on the shop, as `metafieldsSet` stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredMetafield {
    pub namespace: String,
    pub key: String,
    /// The metafield type (`boolean`, `json`, …).
    pub kind: String,
    pub value: String,
}

pub(crate) struct World {
    pub now: i64,
    pub shops: Vec<Shop>,
    /// The shared Gorgias helpdesk (its plans reach past the start clock).
    pub helpdesk: Helpdesk,
    pub faults: Faults,
    pub rate_limit: bool,
    /// Requests seen by the fault injector, across shops.
    pub fault_counter: u64,
    /// Webhook subscriptions and the deliveries waiting to be sent.
    pub webhooks: crate::webhooks::WebhookState,
    /// The seed the world was generated from; returns, disputes and
    /// abandoned checkouts are drawn from it on demand.
    pub seed: u64,
    /// Time for the GraphQL cost buckets and bulk operations.
    pub api_clock: crate::graphql::throttle::ApiClock,
    pub bulk: crate::graphql::bulk::BulkState,
}

impl World {
    pub fn new(config: &SimConfig) -> World {
        let now = config.now.as_second();
        let shops: Vec<Shop> = PROFILES
            .iter()
            .map(|profile| Shop::generate(profile, config))
            .collect();
        let helpdesk = Helpdesk::generate(config.seed, now, config.scale, &shops);
        let mut world = World {
            now,
            shops,
            helpdesk,
            faults: Faults::default(),
            rate_limit: true,
            fault_counter: 0,
            webhooks: Default::default(),
            seed: config.seed,
            api_clock: Default::default(),
            bulk: Default::default(),
        };
        world.refresh();
        world
    }

    pub fn shop(&self, slug: &str) -> Option<&Shop> {
        self.shops.iter().find(|s| s.info.slug == slug)
    }

    pub fn shop_mut(&mut self, slug: &str) -> Option<&mut Shop> {
        self.shops.iter_mut().find(|s| s.info.slug == slug)
    }

    /// Moves the clock: new orders arrive per the rhythm, planned events happen.
    pub fn advance_to(&mut self, now: i64) {
        if now <= self.now {
            return;
        }
        let from = self.now;
        self.api_clock
            .advance(std::time::Duration::from_secs((now - from) as u64));
        for shop in &mut self.shops {
            shop.arrive(from, now);
        }
        self.now = now;
        self.refresh();
    }

    /// Re-derives what depends on `now`: each order's `updated_at` (its
    /// return's changes included: `aftersale::order_updated_at`) and the
    /// customers' statistics.
    fn refresh(&mut self) {
        let now = self.now;
        for shop in &mut self.shops {
            let book = &mut shop.book;
            for customer in &mut book.customers {
                customer.orders_count = 0;
                customer.total_spent_cents = 0;
                customer.updated_at = customer.created_at;
            }
            for index in 0..book.orders.len() {
                let state = order_state(book, &book.orders[index], now);
                let updated_at = crate::aftersale::order_updated_at(
                    book,
                    shop.seed,
                    shop.profile.id_salt,
                    index as u32,
                    state.updated_at,
                    now,
                );
                let order = &mut book.orders[index];
                order.updated_at = updated_at;
                order.status_flags = if state.cancelled_at.is_some() {
                    CANCELLED
                } else {
                    0
                } | if state.closed_at.is_some() { CLOSED } else { 0 };
                if order.customer == NO_CUSTOMER {
                    continue;
                }
                let customer = &mut book.customers[order.customer as usize];
                customer.orders_count += 1;
                customer.last_order = index as u32;
                customer.updated_at = customer.updated_at.max(state.updated_at);
                if state.cancelled_at.is_none() {
                    customer.total_spent_cents += state.total_cents - state.refunded_cents;
                }
            }
        }
    }
}

impl Shop {
    fn generate(profile: &'static Profile, config: &SimConfig) -> Shop {
        let tz = TimeZone::get(profile.time_zone).unwrap_or(TimeZone::UTC);
        let now = config.now.as_second();
        let start = config
            .now
            .to_zoned(tz.clone())
            .checked_sub(profile.history_months.months())
            .map(|z| z.timestamp().as_second())
            .unwrap_or(now);
        let mut rng = ChaCha8Rng::seed_from_u64(mix(config
            .seed
            .wrapping_add(profile.id_salt.wrapping_mul(0x5151))));
        let rhythm = Rhythm::new(profile, tz.clone(), config.seed, start, now);
        let catalog = catalog::generate(profile, &mut rng, start, now);
        let count = (profile.target_orders as f64 * config.scale.max(0.0)).round() as usize;
        let mut book = OrderBook::default();
        let times = rhythm.sample_times(&mut rng, start, now, count);
        book.orders.reserve(count);
        for at in times {
            book.place(profile, &catalog, &mut rng, at);
        }
        crate::aftersale::plan_backlog(&mut book, config.seed, profile.id_salt, now);
        let total_weight = rhythm.total_weight(start, now);
        let orders_per_weight = if total_weight > 0.0 {
            count as f64 / total_weight
        } else {
            0.0
        };
        let token_bits: u128 = rng.gen();
        let info = ShopInfo {
            brand_id: profile.brand_id.to_string(),
            name: profile.name.to_string(),
            slug: profile.brand_id.to_string(),
            shop_domain: format!("{}.myshopify.com", profile.brand_id),
            access_token: format!("shpat_{token_bits:032x}"),
            currency: profile.currency.to_string(),
            time_zone: profile.time_zone.to_string(),
            kind: profile.kind.to_string(),
            launched: profile.launched,
        };
        Shop {
            info,
            profile,
            tz,
            rhythm,
            catalog,
            book,
            orders_per_weight,
            rng,
            bucket: LeakyBucket::default(),
            cost_bucket: Default::default(),
            requests: 0,
            scopes: crate::ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
            scopes_endpoint: true,
            metafields: Vec::new(),
            seed: config.seed,
        }
    }

    /// Orders placed in (from, to], hour by hour, with stock taken from the first location.
    fn arrive(&mut self, from: i64, to: i64) {
        if !self.profile.launched || self.orders_per_weight <= 0.0 {
            return;
        }
        for (start, stop, weight) in self.rhythm.bins(from + 1, to + 1) {
            let count = poisson(&mut self.rng, weight * self.orders_per_weight);
            let mut times: Vec<i64> = (0..count)
                .map(|_| self.rng.gen_range(start..stop))
                .collect();
            times.sort_unstable();
            for at in times {
                let index = self
                    .book
                    .place(self.profile, &self.catalog, &mut self.rng, at);
                let order = &self.book.orders[index as usize];
                for item in self.book.items(order) {
                    if let ItemRef::Variant { product, variant } = item.item {
                        let product = &mut self.catalog.products[product as usize];
                        let variant = &mut product.variants[variant as usize];
                        if !variant.tracked {
                            continue;
                        }
                        let left = variant.stock[0] - item.quantity as i64;
                        variant.stock[0] = if variant.policy_continue {
                            left
                        } else {
                            left.max(0)
                        };
                        variant.stock_updated_at = at;
                        variant.updated_at = at;
                        product.updated_at = product.updated_at.max(at);
                    }
                }
            }
        }
    }
}
