//! The query root: which records each root field lists (filtered by the
//! `query:` search, sorted by `sortKey`, paged by `first`/`after` with
//! keyset cursors), single records by id, and how one record renders.
//! Records are rendered only for the page asked for, so a page of a
//! million-order shop costs what the page costs. Bulk operations list
//! through the same functions.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::project::Projection;
use super::query::Field;
use super::search::{self, Search};
use super::wire::{self, Wants};
use crate::aftersale::{dispute_plan, DisputePlan};
use crate::checkouts;
use crate::ids;
use crate::pagination::{rank, select, Direction};
use crate::world::Shop;

/// The most a connection may ask for in one page.
pub(crate) const MAX_PAGE: u64 = 250;

/// One record of a root list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Record {
    Order(u32),
    Product(usize),
    InventoryItem(usize, usize),
    Location(usize),
    Customer(u32),
    /// The order index; its plan is drawn again when needed.
    Dispute(u32),
    /// The checkout's position.
    Checkout(u32),
    /// The one fulfillment order of the order at this index.
    FulfillmentOrder(u32),
}

/// What a record is sorted and filtered by.
struct Keys {
    id: u64,
    created_at: i64,
    updated_at: i64,
}

/// The root connections this simulator serves, by field name.
pub(crate) const CONNECTIONS: [&str; 8] = [
    "orders",
    "products",
    "inventoryItems",
    "locations",
    "customers",
    "disputes",
    "abandonedCheckouts",
    "fulfillmentOrders",
];

/// The world a request reads.
pub(crate) struct Reading<'a> {
    pub shop: &'a Shop,
    pub seed: u64,
    pub now: i64,
}

/// The access scope a root connection (or `Order.returns`) needs.
pub(crate) fn required_scope(field: &str) -> Option<&'static str> {
    Some(match field {
        "orders" | "order" | "fulfillment" | "refund" => "read_orders",
        "products" | "product" => "read_products",
        "inventoryItems" => "read_inventory",
        "customers" | "customer" => "read_customers",
        "disputes" | "shopifyPaymentsAccount" => "read_shopify_payments_disputes",
        "returns" => "read_returns",
        // Shopify accepts any of the three fulfillment order scopes
        // (merchant-managed, assigned, third-party); the simulated shops
        // fulfill themselves.
        "fulfillmentOrders" => "read_merchant_managed_fulfillment_orders",
        _ => return None,
    })
}

impl Reading<'_> {
    /// Whether the shop's token was granted `scope`.
    pub fn granted(&self, scope: &str) -> bool {
        self.shop.scopes.iter().any(|s| s == scope)
    }

    /// Refuses `field` (pushing Shopify's `ACCESS_DENIED` error) when the
    /// token lacks the scope it needs.
    pub fn denied(&self, field: &Field, projection: &mut Projection) -> bool {
        let Some(scope) = required_scope(&field.name) else {
            return false;
        };
        if self.granted(scope) {
            return false;
        }
        projection.errors.push(json!({
            "message": format!("Access denied for {} field. Required access: `{scope}` access scope.", field.name),
            "path": [field.key],
            "extensions": {
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
                "requiredAccess": format!("`{scope}` access scope."),
            },
        }));
        true
    }

    /// Every record of root connection `name` that exists at the clock.
    pub fn records(&self, name: &str) -> Vec<Record> {
        let shop = self.shop;
        let book = &shop.book;
        let salt = shop.profile.id_salt;
        match name {
            "orders" | "fulfillmentOrders" => {
                let oldest = crate::resources::oldest_visible_order(shop, self.now);
                let orders = (0..book.orders.len() as u32)
                    .filter(|&i| oldest.is_none_or(|o| book.orders[i as usize].created_at >= o));
                match name {
                    "orders" => orders.map(Record::Order).collect(),
                    _ => orders.map(Record::FulfillmentOrder).collect(),
                }
            }
            "products" => (0..shop.catalog.products.len())
                .map(Record::Product)
                .collect(),
            "inventoryItems" => shop
                .catalog
                .products
                .iter()
                .enumerate()
                .flat_map(|(p, product)| {
                    (0..product.variants.len()).map(move |v| Record::InventoryItem(p, v))
                })
                .collect(),
            "locations" => (0..shop.catalog.locations.len())
                .map(Record::Location)
                .collect(),
            "customers" => (0..book.customers.len() as u32)
                .map(Record::Customer)
                .collect(),
            "disputes" => book
                .orders
                .iter()
                .enumerate()
                .filter_map(|(i, _)| {
                    let plan = dispute_plan(book, self.seed, salt, i as u32)?;
                    (plan.initiated_at <= self.now).then_some(Record::Dispute(i as u32))
                })
                .collect(),
            "abandonedCheckouts" => (0..checkouts::count(book))
                .filter_map(|k| checkouts::checkout(book, self.seed, salt, k))
                .filter(|c| c.updated_at <= self.now)
                .map(|c| Record::Checkout(c.position))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The plan of the dispute listed for order `index` (listed only when planned).
    fn dispute(&self, index: u32) -> DisputePlan {
        dispute_plan(&self.shop.book, self.seed, self.shop.profile.id_salt, index)
            .expect("disputes are listed only for orders that have one")
    }

    fn checkout(&self, position: u32) -> checkouts::Checkout {
        checkouts::checkout(
            &self.shop.book,
            self.seed,
            self.shop.profile.id_salt,
            position,
        )
        .expect("checkouts are listed only for orders that exist")
    }

    /// Whether order `index` has a return requested by now.
    fn has_return(&self, index: u32) -> bool {
        let shop = self.shop;
        crate::aftersale::return_plan(&shop.book, self.seed, shop.profile.id_salt, index)
            .and_then(|plan| crate::aftersale::return_status(&plan, self.now))
            .is_some()
    }

    fn keys(&self, record: &Record) -> Keys {
        let shop = self.shop;
        let salt = shop.profile.id_salt;
        match *record {
            Record::Order(i) => {
                let o = &shop.book.orders[i as usize];
                Keys {
                    id: ids::order(salt, i),
                    created_at: o.created_at,
                    // Returns included (`World::refresh`), as every face serves it.
                    updated_at: o.updated_at,
                }
            }
            Record::FulfillmentOrder(i) => {
                let o = &shop.book.orders[i as usize];
                Keys {
                    id: ids::fulfillment_order(salt, i),
                    created_at: o.created_at,
                    updated_at: o.updated_at,
                }
            }
            Record::Product(p) => {
                let product = &shop.catalog.products[p];
                Keys {
                    id: product.id,
                    created_at: product.created_at,
                    updated_at: product.updated_at,
                }
            }
            Record::InventoryItem(p, v) => {
                let variant = &shop.catalog.products[p].variants[v];
                Keys {
                    id: variant.inventory_item_id,
                    created_at: variant.created_at,
                    updated_at: variant.stock_updated_at.max(variant.updated_at),
                }
            }
            Record::Location(l) => Keys {
                id: shop.catalog.locations[l].id,
                created_at: 0,
                updated_at: 0,
            },
            Record::Customer(c) => {
                let customer = &shop.book.customers[c as usize];
                Keys {
                    id: ids::customer(salt, c),
                    created_at: customer.created_at,
                    updated_at: customer.updated_at,
                }
            }
            Record::Dispute(i) => {
                let plan = self.dispute(i);
                Keys {
                    id: ids::dispute(salt, i),
                    created_at: plan.initiated_at,
                    updated_at: [plan.initiated_at, plan.responded_at, plan.finalized_at]
                        .into_iter()
                        .filter(|t| *t <= self.now)
                        .max()
                        .unwrap_or(plan.initiated_at),
                }
            }
            Record::Checkout(k) => {
                let c = self.checkout(k);
                Keys {
                    id: ids::checkout(salt, k),
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                }
            }
        }
    }

    /// The record rendered whole (the projection cuts it).
    pub fn render(&self, record: &Record) -> Value {
        self.render_for(record, &Wants::All)
    }

    /// The record rendered with at least the fields `wants` names.
    pub fn render_for(&self, record: &Record, wants: &Wants) -> Value {
        let shop = self.shop;
        match *record {
            Record::Order(i) => {
                let mut order = wire::order(shop, self.seed, i, self.now, wants);
                if !self.granted("read_returns") {
                    order["returns"] = Value::Null;
                }
                order
            }
            Record::Product(p) => wire::product(shop, p, wants),
            Record::InventoryItem(p, v) => wire::inventory_item(shop, p, v),
            Record::Location(l) => wire::location(shop, l),
            Record::Customer(c) => wire::customer(shop, c, self.now),
            Record::Dispute(i) => {
                wire::dispute(shop, i, &self.dispute(i), self.now).unwrap_or(Value::Null)
            }
            Record::Checkout(k) => wire::abandoned_checkout(shop, &self.checkout(k)),
            Record::FulfillmentOrder(i) => {
                let wants = Wants::Fields(vec!["fulfillmentOrders".into()]);
                let mut order = wire::order(shop, self.seed, i, self.now, &wants);
                order
                    .pointer_mut("/fulfillmentOrders/__nodes/0")
                    .map(Value::take)
                    .unwrap_or(Value::Null)
            }
        }
    }

    /// The records of `name` that match the field's `query:`, in `sortKey` order.
    pub fn matching(&self, name: &str, field: &Field) -> Vec<(u128, Record)> {
        let search: Search = search::parse(field.arg_str("query"));
        let reverse = field.arg_bool("reverse").unwrap_or(false);
        let sort = field.arg_str("sortKey").unwrap_or("ID");
        // Shopify lists closed and cancelled fulfillment orders only when
        // asked to (`includeClosed`).
        let open_only =
            name == "fulfillmentOrders" && field.arg_bool("includeClosed") != Some(true);
        self.records(name)
            .into_iter()
            .filter(|record| {
                !open_only
                    || !matches!(
                        self.render(record)["status"].as_str(),
                        Some("CLOSED" | "CANCELLED")
                    )
            })
            .filter_map(|record| {
                let keys = self.keys(&record);
                if !search.matches(keys.created_at, keys.updated_at) {
                    return None;
                }
                if let (Some(wanted), Record::Order(i)) = (search.has_return, &record) {
                    if self.has_return(*i) != wanted {
                        return None;
                    }
                }
                let key = match sort {
                    "UPDATED_AT" => keys.updated_at,
                    "CREATED_AT" | "PROCESSED_AT" | "INITIATED_AT" => keys.created_at,
                    _ => 0,
                };
                Some((rank(key, keys.id, reverse), record))
            })
            .collect()
    }

    /// Root connection `field` answered for `projection`.
    pub fn connection(&self, field: &Field, projection: &mut Projection) -> Value {
        let Some(first) = field.arg_u64("first") else {
            projection.error(
                format!("you must provide one of first or last (field '{}'); last is not supported here", field.name),
                Some("argumentLiteralsIncompatible"),
            );
            return Value::Null;
        };
        if first > MAX_PAGE {
            projection.error(
                format!(
                    "The value of `first` may not exceed {MAX_PAGE} (field '{}')",
                    field.name
                ),
                Some("BAD_REQUEST"),
            );
            return Value::Null;
        }
        let after = match field.arg_str("after") {
            None => None,
            Some(cursor) => match decode_cursor(cursor) {
                Some(at) => Some((at, Direction::Next)),
                None => {
                    projection.error(
                        "Invalid cursor for current pagination sort.".to_string(),
                        Some("BAD_REQUEST"),
                    );
                    return Value::Null;
                }
            },
        };
        let matching = self.matching(&field.name, field);
        let wants = Wants::of(&node_selection(field));
        let page = select(
            matching.iter().enumerate().map(|(i, (r, _))| (*r, i)),
            first as usize,
            after,
        );
        let rendered: Vec<(String, Value)> = page
            .records
            .iter()
            .map(|&i| {
                let (r, record) = &matching[i];
                (
                    encode_cursor(*r, self.keys(record).id),
                    self.render_for(record, &wants),
                )
            })
            .collect();
        let refs: Vec<(String, &Value)> = rendered.iter().map(|(c, v)| (c.clone(), v)).collect();
        projection.connection(field, &refs, page.next.is_some(), after.is_some())
    }

    /// `order(id:)`, `product(id:)`, `customer(id:)`, `fulfillment(id:)`,
    /// `refund(id:)`, `node(id:)`: the record a global id names.
    pub fn by_gid(&self, gid: &str) -> Option<Value> {
        let salt = self.shop.profile.id_salt;
        if let Some(id) = wire::parse_gid("Order", gid) {
            let index = ids::order_index(salt, id)?;
            let order = self.shop.book.orders.get(index as usize)?;
            let oldest = crate::resources::oldest_visible_order(self.shop, self.now);
            return oldest
                .is_none_or(|o| order.created_at >= o)
                .then(|| self.render(&Record::Order(index)));
        }
        // A fulfillment or refund: its order's, picked by id.
        let within = |index: u32, list: &str| -> Option<Value> {
            let order = self.by_gid(&wire::gid("Order", ids::order(salt, index)))?;
            order
                .get(list)?
                .as_array()?
                .iter()
                .find(|member| member.get("id").and_then(Value::as_str) == Some(gid))
                .cloned()
        };
        if let Some(id) = wire::parse_gid("Fulfillment", gid) {
            let (index, _) = ids::fulfillment_position(salt, id)?;
            return within(index, "fulfillments");
        }
        if let Some(id) = wire::parse_gid("Refund", gid) {
            return within(ids::refund_order(salt, id)?, "refunds");
        }
        if let Some(id) = wire::parse_gid("Customer", gid) {
            let index = ids::customer_index(salt, id)?;
            return ((index as usize) < self.shop.book.customers.len())
                .then(|| self.render(&Record::Customer(index)));
        }
        if let Some(id) = wire::parse_gid("Product", gid) {
            let p = self.shop.catalog.products.iter().position(|p| p.id == id)?;
            return Some(self.render(&Record::Product(p)));
        }
        None
    }
}

/// The selection on each node of connection `field` (`edges { node }`
/// and `nodes` together).
pub(crate) fn node_selection(field: &Field) -> Vec<Field> {
    let mut selection = Vec::new();
    for part in &field.selection {
        match part.name.as_str() {
            "nodes" => selection.extend(part.selection.iter().cloned()),
            "edges" => {
                if let Some(node) = part.child("node") {
                    selection.extend(node.selection.iter().cloned());
                }
            }
            _ => {}
        }
    }
    selection
}

/// Shopify's cursors are opaque base64 JSON; this one carries the sort position.
fn encode_cursor(rank: u128, id: u64) -> String {
    STANDARD.encode(json!({ "last_id": id, "last_value": rank.to_string() }).to_string())
}

fn decode_cursor(cursor: &str) -> Option<u128> {
    let bytes = STANDARD.decode(cursor).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("last_value")?.as_str()?.parse().ok()
}
