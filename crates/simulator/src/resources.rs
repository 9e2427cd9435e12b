//! What each endpoint answers, independent of HTTP: a status, a JSON body and
//! the positions for the `Link` header. Parameters follow Shopify's REST API.

use jiff::civil::{Date, DateTime};
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use crate::ids;
use crate::orders::{CANCELLED, CLOSED};
use crate::pagination::{rank, select, Direction, Filters, PageInfo, DEFAULT_LIMIT, MAX_LIMIT};
use crate::wire;
use crate::world::Shop;

/// A `page_info` for the `Link` header, with `rel` "next" or "previous".
pub(crate) struct Link {
    pub rel: &'static str,
    pub page_info: String,
}

pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
    pub links: Vec<Link>,
    /// `limit` and `fields` as requested, repeated in the `Link` URLs.
    pub carry: Vec<(String, String)>,
}

impl Reply {
    fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body,
            links: Vec::new(),
            carry: Vec::new(),
        }
    }

    fn error(status: u16, errors: Value) -> Reply {
        Reply {
            status,
            body: json!({ "errors": errors }),
            links: Vec::new(),
            carry: Vec::new(),
        }
    }

    fn not_found() -> Reply {
        Reply::error(404, json!("Not Found"))
    }
}

/// Routes `rest` (the path after `/admin/api/{version}/`) for one shop at `now`.
pub(crate) fn answer(shop: &Shop, now: i64, rest: &str, query: &[(String, String)]) -> Reply {
    let Some(path) = rest.strip_suffix(".json") else {
        return Reply::not_found();
    };
    let mut parts = path.split('/');
    let (resource, second) = (parts.next().unwrap_or(""), parts.next());
    if parts.next().is_some() {
        return Reply::not_found();
    }
    match (resource, second) {
        ("shop", None) => Reply::ok(json!({ "shop": shop_json(shop) })),
        (_, Some("count")) => match list(shop, now, resource, query, true) {
            Ok(reply) => reply,
            Err(reply) => reply,
        },
        (_, None) => list(shop, now, resource, query, false).unwrap_or_else(|reply| reply),
        (_, Some(id)) => {
            let Ok(id) = id.parse::<u64>() else {
                return Reply::not_found();
            };
            single(shop, now, resource, id, query)
        }
    }
}

fn shop_json(shop: &Shop) -> Value {
    json!({
        "id": 50_000_000_000u64 + shop.profile.id_salt,
        "name": shop.info.name,
        "domain": shop.info.shop_domain,
        "myshopify_domain": shop.info.shop_domain,
        "currency": shop.info.currency,
        "iana_timezone": shop.info.time_zone,
        "plan_name": "basic",
        "password_enabled": !shop.info.launched,
    })
}

/// The oldest `created_at` of an order the shop's token may see: without
/// `read_all_orders`, Shopify serves only the last 60 days.
pub(crate) fn oldest_visible_order(shop: &Shop, now: i64) -> Option<i64> {
    let all = shop.scopes.iter().any(|s| s == "read_all_orders");
    (!all).then(|| now - crate::RECENT_ORDERS_SECONDS)
}

fn single(shop: &Shop, now: i64, resource: &str, id: u64, query: &[(String, String)]) -> Reply {
    let salt = shop.profile.id_salt;
    let oldest = oldest_visible_order(shop, now);
    let (key, value) = match resource {
        "orders" => {
            match ids::order_index(salt, id)
                .filter(|&i| (i as usize) < shop.book.orders.len())
                .filter(|&i| oldest.is_none_or(|o| shop.book.orders[i as usize].created_at >= o))
            {
                Some(index) => ("order", wire::order_json(shop, index, now)),
                None => return Reply::not_found(),
            }
        }
        "products" => match shop.catalog.products.iter().position(|p| p.id == id) {
            Some(index) => ("product", wire::product_json(shop, index)),
            None => return Reply::not_found(),
        },
        "customers" => match ids::customer_index(salt, id)
            .filter(|&i| (i as usize) < shop.book.customers.len())
        {
            Some(index) => ("customer", wire::customer_json(shop, index)),
            None => return Reply::not_found(),
        },
        "locations" => match shop.catalog.locations.iter().position(|l| l.id == id) {
            Some(index) => ("location", wire::location_json(shop, index)),
            None => return Reply::not_found(),
        },
        _ => return Reply::not_found(),
    };
    let fields = param(query, "fields").map(str::to_string);
    Reply::ok(json!({ key: only_fields(value, fields.as_deref()) }))
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// ISO 8601 with an offset; a naive date or date-time is read in the shop's time zone.
fn parse_time(shop: &Shop, text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_second());
    }
    if let Ok(dt) = text.parse::<DateTime>() {
        return dt
            .to_zoned(shop.tz.clone())
            .ok()
            .map(|z| z.timestamp().as_second());
    }
    let date = text.parse::<Date>().ok()?;
    date.to_zoned(shop.tz.clone())
        .ok()
        .map(|z| z.timestamp().as_second())
}

fn parse_ids(text: &str) -> Option<Vec<u64>> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().ok())
        .collect()
}

fn invalid(name: &str) -> Reply {
    Reply::error(400, json!({ name: "Invalid value." }))
}

/// Filters from the first request of a listing.
fn parse_filters(shop: &Shop, query: &[(String, String)]) -> Result<Filters, Reply> {
    let mut filters = Filters::default();
    for (name, value) in query {
        let time = || parse_time(shop, value).ok_or_else(|| invalid(name));
        let list = || parse_ids(value).ok_or_else(|| invalid(name));
        match name.as_str() {
            "status" => filters.status = Some(value.clone()),
            "updated_at_min" => filters.updated_at_min = Some(time()?),
            "updated_at_max" => filters.updated_at_max = Some(time()?),
            "created_at_min" => filters.created_at_min = Some(time()?),
            "created_at_max" => filters.created_at_max = Some(time()?),
            "ids" => filters.ids = Some(list()?),
            "inventory_item_ids" => filters.inventory_item_ids = Some(list()?),
            "location_ids" => filters.location_ids = Some(list()?),
            "since_id" => filters.since_id = Some(value.parse().map_err(|_| invalid(name))?),
            "order" => filters.order = Some(value.trim().to_string()),
            _ => {}
        }
    }
    Ok(filters)
}

fn within(at: i64, min: Option<i64>, max: Option<i64>) -> bool {
    min.is_none_or(|m| at >= m) && max.is_none_or(|m| at <= m)
}

fn only_fields(value: Value, fields: Option<&str>) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, &value) else {
        return value;
    };
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let kept: Map<String, Value> = map
        .iter()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(kept)
}

/// Sort key and direction from `order=` ("`created_at` desc" by default for orders).
fn sort_of(filters: &Filters, default: &str) -> (String, bool) {
    let text = filters.order.as_deref().unwrap_or(default);
    let mut words = text.split_whitespace();
    let field = words.next().unwrap_or("id").to_string();
    let descending = words.next().is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    (field, descending)
}

fn list(
    shop: &Shop,
    now: i64,
    resource: &str,
    query: &[(String, String)],
    count_only: bool,
) -> Result<Reply, Reply> {
    let limit = match param(query, "limit") {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(Reply::error(
                    400,
                    json!({ "limit": format!("Limit must be between 1 and {MAX_LIMIT}") }),
                ))
            }
        },
    };
    let fields = param(query, "fields").map(str::to_string);
    let (filters, cursor) = match param(query, "page_info") {
        Some(token) => {
            if let Some((name, _)) = query
                .iter()
                .find(|(k, _)| !matches!(k.as_str(), "page_info" | "limit" | "fields"))
            {
                let message = format!("{name} cannot be passed when page_info is present. See https://shopify.dev/api/usage/pagination-rest for more information.");
                return Err(Reply::error(400, json!({ name: message })));
            }
            let info = PageInfo::decode(token)
                .filter(|i| i.resource == resource)
                .ok_or_else(|| invalid("page_info"))?;
            let position = info.position().ok_or_else(|| invalid("page_info"))?;
            (info.filters, Some((position, info.direction)))
        }
        None => (parse_filters(shop, query)?, None),
    };
    let (key, records): (&str, Box<dyn Fn(usize) -> Value + '_>) = match resource {
        "orders" => (
            "orders",
            Box::new(|i| wire::order_json(shop, i as u32, now)),
        ),
        "products" => ("products", Box::new(|i| wire::product_json(shop, i))),
        "customers" => (
            "customers",
            Box::new(|i| wire::customer_json(shop, i as u32)),
        ),
        "locations" => ("locations", Box::new(|i| wire::location_json(shop, i))),
        "inventory_levels" => {
            if filters.inventory_item_ids.is_none() && filters.location_ids.is_none() {
                return Err(Reply::error(
                    422,
                    json!("inventory_item_ids or location_ids must be specified"),
                ));
            }
            if filters
                .inventory_item_ids
                .as_ref()
                .is_some_and(|ids| ids.len() > 50)
            {
                return Err(Reply::error(
                    422,
                    json!({ "inventory_item_ids": "must have at most 50 ids" }),
                ));
            }
            let levels = inventory_levels(shop);
            (
                "inventory_levels",
                Box::new(move |i| {
                    let (p, v, l) = levels[i];
                    wire::inventory_level_json(shop, p, v, l)
                }),
            )
        }
        _ => return Err(Reply::not_found()),
    };
    // `orders/count` still counts what the 60-day window hides.
    let oldest = oldest_visible_order(shop, now).filter(|_| !count_only);
    let candidates = candidates(shop, resource, &filters, oldest);
    if count_only {
        return Ok(Reply::ok(json!({ "count": candidates.count() })));
    }
    let page = select(candidates, limit, cursor);
    let rendered: Vec<Value> = page
        .records
        .iter()
        .map(|&i| only_fields(records(i), fields.as_deref()))
        .collect();
    let token = |position: u128, direction| {
        PageInfo {
            filters: filters.clone(),
            resource: resource.to_string(),
            last_value: position.to_string(),
            direction,
        }
        .encode()
    };
    let mut links = Vec::new();
    if let Some(at) = page.previous {
        links.push(Link {
            rel: "previous",
            page_info: token(at, Direction::Prev),
        });
    }
    if let Some(at) = page.next {
        links.push(Link {
            rel: "next",
            page_info: token(at, Direction::Next),
        });
    }
    let mut carry = vec![("limit".to_string(), limit.to_string())];
    if let Some(fields) = fields {
        carry.push(("fields".to_string(), fields));
    }
    Ok(Reply {
        status: 200,
        body: json!({ key: rendered }),
        links,
        carry,
    })
}

/// (product, variant, location) of every inventory level, in a stable order.
fn inventory_levels(shop: &Shop) -> Vec<(usize, usize, usize)> {
    let mut levels = Vec::new();
    for (p, product) in shop.catalog.products.iter().enumerate() {
        for v in 0..product.variants.len() {
            for l in 0..shop.catalog.locations.len() {
                levels.push((p, v, l));
            }
        }
    }
    levels
}

/// Every record matching `filters`, with its rank in the requested order.
/// Orders created before `oldest_order` are left out.
fn candidates<'a>(
    shop: &'a Shop,
    resource: &str,
    f: &'a Filters,
    oldest_order: Option<i64>,
) -> Box<dyn Iterator<Item = (u128, usize)> + 'a> {
    let salt = shop.profile.id_salt;
    let wanted = move |id: u64| {
        f.ids.as_ref().is_none_or(|ids| ids.contains(&id)) && f.since_id.is_none_or(|s| id > s)
    };
    match resource {
        "orders" => {
            let (field, descending) = sort_of(f, "created_at desc");
            let status = f.status.as_deref().unwrap_or("open");
            Box::new(
                shop.book
                    .orders
                    .iter()
                    .enumerate()
                    .filter_map(move |(i, o)| {
                        let visible = match status {
                            "any" => true,
                            "closed" => o.status_flags & CLOSED != 0,
                            "cancelled" => o.status_flags & CANCELLED != 0,
                            _ => o.status_flags == 0,
                        };
                        if !visible
                            || oldest_order.is_some_and(|oldest| o.created_at < oldest)
                            || !within(o.created_at, f.created_at_min, f.created_at_max)
                            || !within(o.updated_at, f.updated_at_min, f.updated_at_max)
                        {
                            return None;
                        }
                        let id = ids::order(salt, i as u32);
                        if !wanted(id) {
                            return None;
                        }
                        let key = match field.as_str() {
                            "updated_at" => o.updated_at,
                            "id" => 0,
                            _ => o.created_at,
                        };
                        Some((rank(key, id, descending), i))
                    }),
            )
        }
        "products" => {
            let (field, descending) = sort_of(f, "id asc");
            let statuses: Option<Vec<&str>> = f
                .status
                .as_deref()
                .map(|s| s.split(',').map(str::trim).collect());
            Box::new(
                shop.catalog
                    .products
                    .iter()
                    .enumerate()
                    .filter(move |(_, p)| {
                        statuses
                            .as_ref()
                            .is_none_or(|s| s.contains(&p.status.as_str()))
                    })
                    .filter(move |(_, p)| {
                        within(p.created_at, f.created_at_min, f.created_at_max)
                            && within(p.updated_at, f.updated_at_min, f.updated_at_max)
                    })
                    .filter(move |(_, p)| wanted(p.id))
                    .map(move |(i, p)| {
                        let key = match field.as_str() {
                            "updated_at" => p.updated_at,
                            "created_at" => p.created_at,
                            _ => 0,
                        };
                        (rank(key, p.id, descending), i)
                    }),
            )
        }
        "customers" => Box::new(
            shop.book
                .customers
                .iter()
                .enumerate()
                .filter(move |(_, c)| {
                    within(c.created_at, f.created_at_min, f.created_at_max)
                        && within(c.updated_at, f.updated_at_min, f.updated_at_max)
                })
                .filter_map(move |(i, _)| {
                    let id = ids::customer(salt, i as u32);
                    wanted(id).then(|| (rank(0, id, false), i))
                }),
        ),
        "locations" => Box::new(
            shop.catalog
                .locations
                .iter()
                .enumerate()
                .map(|(i, l)| (rank(0, l.id, false), i)),
        ),
        "inventory_levels" => Box::new(inventory_levels(shop).into_iter().enumerate().filter_map(
            move |(i, (p, v, l))| {
                let variant = &shop.catalog.products[p].variants[v];
                let location = shop.catalog.locations[l].id;
                let item_ok = f
                    .inventory_item_ids
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&variant.inventory_item_id));
                let location_ok = f
                    .location_ids
                    .as_ref()
                    .is_none_or(|ids| ids.contains(&location));
                let time_ok = within(variant.stock_updated_at, f.updated_at_min, f.updated_at_max);
                (item_ok && location_ok && time_ok)
                    .then(|| (rank(variant.inventory_item_id as i64, location, false), i))
            },
        )),
        _ => Box::new(std::iter::empty()),
    }
}
