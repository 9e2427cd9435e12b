//! What a Shopify run checks before it reads pages, so that what Shopify
//! hides silently is said aloud: the token's scopes, and the shop's own
//! currency and time zone against the brand's configuration.
//!
//! - Scopes: `GET /admin/oauth/access_scopes.json` lists what the token was
//!   granted; a run by GraphQL asks `currentAppInstallation.accessScopes`
//!   instead, and falls back to the REST list when GraphQL does not answer
//!   it. Each resource needs some ([`needed_scopes`]); a missing one
//!   makes the run incomplete (it still stores what it can see, and its
//!   sync state fails with the scope named, which /sources shows and the
//!   "source stale" alert counts). Without `read_all_orders` Shopify lists
//!   only the last 60 days of orders and says nothing. Where the endpoint is
//!   not answered (404, 403, another 4xx), an orders run detects that scope
//!   instead: `orders/count` of orders created over 60 days ago is above
//!   zero while listing them gives none.
//! - Shop: `GET shop.json` gives `currency` and `iana_timezone`. A currency
//!   other than the brand's makes the run incomplete (its orders cannot be
//!   summed with the brand's, and are refused record by record by the
//!   normalizer); a different time zone is a notice (the brand's "today" is
//!   not the shop admin's), shown on /sources and logged.
//!
//! A transport failure (timeout, 5xx, dropped connection) of a check is the
//! run's failure: the pages would meet the same host.

use super::{Progress, ShopifyResource, SyncError};
use opsdeck_domain::Timestamp;
use opsdeck_sources::shopify::graphql::returns::{MISSING_WRITE_RETURNS, WRITE_RETURNS};
use opsdeck_sources::shopify::graphql::GraphqlError;
use opsdeck_sources::shopify::ShopifyError;
use serde_json::Value;

/// Any of these lets an app read fulfillment orders, which a bulk backfill
/// reads beside the orders for the units shipped per line.
const FULFILLMENT_ORDER_SCOPES: [&str; 3] = [
    "read_merchant_managed_fulfillment_orders",
    "read_assigned_fulfillment_orders",
    "read_third_party_fulfillment_orders",
];

/// What /sources says of a shop whose token reads no fulfillment orders:
/// nothing is missing from the data, but the backfill pays for it.
pub(crate) const MISSING_FULFILLMENT_ORDERS: &str = "missing access scope \
     read_merchant_managed_fulfillment_orders (or the assigned or third-party one): \
     a backfill reads the units shipped of orders refunded after shipping by one query \
     each instead of one bulk file, which spends API budget; grant it to the app in Shopify admin";

/// How far back Shopify lists orders without `read_all_orders`.
pub(crate) const RECENT_ORDERS_DAYS: i64 = 60;

/// The scopes `resource` needs, each with what goes missing without it.
pub(crate) fn needed_scopes(resource: ShopifyResource) -> &'static [(&'static str, &'static str)] {
    match resource {
        ShopifyResource::Orders => &[
            ("read_orders", "no orders can be read"),
            (
                "read_all_orders",
                "orders older than 60 days are hidden by Shopify",
            ),
            (
                "read_customers",
                "customers on orders are hidden (repeat-buyer and VIP flags)",
            ),
        ],
        ShopifyResource::Products => &[("read_products", "no products can be read")],
        ShopifyResource::InventoryLevels => &[
            ("read_inventory", "no stock levels can be read"),
            ("read_products", "no tracked variants to read stock for"),
        ],
        // Returns are listed through their orders.
        ShopifyResource::Returns => &[
            ("read_returns", "no returns can be read"),
            ("read_orders", "no orders to list returns through"),
        ],
        ShopifyResource::Disputes => &[(
            "read_shopify_payments_disputes",
            "no Shopify Payments disputes can be read",
        )],
        ShopifyResource::Customers => &[(
            "read_customers",
            "no customers' lifetime spend or order count can be read",
        )],
        // Shopify's `AbandonedCheckout` requires read_orders (there is no
        // checkout scope for it in the Admin API).
        ShopifyResource::AbandonedCheckouts => {
            &[("read_orders", "no abandoned checkouts can be read")]
        }
    }
}

/// Whether the run of a GraphQL-only `resource` lacks a scope without
/// which nothing of it can be read (every scope such a resource needs is
/// one), so its listing is not even asked.
pub(crate) fn unreadable(run: &super::SyncRun, resource: ShopifyResource) -> bool {
    needed_scopes(resource)
        .iter()
        .any(|(scope, _)| run.missing_scopes.iter().any(|m| m == scope))
}

/// The needed scopes of `resource` that `granted` lacks, in the order of
/// [`needed_scopes`]. A `write_x` scope includes `read_x`, as at Shopify.
pub(crate) fn missing_scopes(
    resource: ShopifyResource,
    granted: &[String],
) -> Vec<(&'static str, &'static str)> {
    needed_scopes(resource)
        .iter()
        .copied()
        .filter(|(scope, _)| !grants(granted, scope))
        .collect()
}

/// Whether `granted` includes `scope`. A `write_x` scope includes `read_x`,
/// as at Shopify.
fn grants(granted: &[String], scope: &str) -> bool {
    granted.iter().any(|g| {
        g == scope
            || scope
                .strip_prefix("read_")
                .is_some_and(|rest| g.strip_prefix("write_") == Some(rest))
    })
}

/// Whether `granted` lets the app read fulfillment orders (any of the
/// three scopes, or their write forms).
pub(crate) fn reads_fulfillment_orders(granted: &[String]) -> bool {
    FULFILLMENT_ORDER_SCOPES
        .iter()
        .any(|scope| grants(granted, scope))
}

/// The scope handles of an `access_scopes.json` body, or `None` when it is
/// not that shape.
fn scope_handles(body: &Value) -> Option<Vec<String>> {
    body.get("access_scopes")?
        .as_array()?
        .iter()
        .map(|s| s.get("handle").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Errors that mean "this endpoint is not answered to this token" rather
/// than "the shop cannot be reached".
fn not_answered(e: &ShopifyError) -> bool {
    matches!(
        e,
        ShopifyError::Forbidden { .. }
            | ShopifyError::NotFound { .. }
            | ShopifyError::Rejected { .. }
            | ShopifyError::MalformedBody { .. }
    )
}

/// Runs the checks for `resource`. Returns the problems that make the run
/// incomplete; notices go to the run's checkpoints; both are logged.
pub(crate) async fn check(
    p: &mut Progress<'_>,
    resource: ShopifyResource,
    now: Timestamp,
) -> Result<Vec<String>, SyncError> {
    let mut problems = check_scopes(p, resource, now).await?;
    if resource == ShopifyResource::Orders {
        problems.extend(check_shop(p).await?);
    }
    for problem in &problems {
        tracing::warn!(source = %p.client.source(), problem = problem.as_str(), "sync incomplete");
    }
    Ok(problems)
}

/// The scopes the token was granted, by GraphQL when the run reads by it
/// (falling back to REST when GraphQL does not answer them), else by
/// REST; `None` when neither answers.
async fn granted_scopes(p: &mut Progress<'_>) -> Result<Option<Vec<String>>, SyncError> {
    if let Some(graphql) = p.graphql {
        match graphql.granted_scopes(&mut p.run.graphql).await {
            Ok(granted) => return Ok(Some(granted)),
            Err(GraphqlError::Http(e)) if !not_answered(&e) => return Err(e.into()),
            Err(e) => tracing::info!(error = %e, "graphql access scopes not answered; asking REST"),
        }
    }
    let url = p.client.access_scopes_url();
    match p.client.get_json(&url, &mut p.run.calls).await {
        Ok(body) => Ok(scope_handles(&body)),
        Err(e) if not_answered(&e) => {
            tracing::info!(error = %e, "access scopes not answered; detecting instead");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

async fn check_scopes(
    p: &mut Progress<'_>,
    resource: ShopifyResource,
    now: Timestamp,
) -> Result<Vec<String>, SyncError> {
    let granted = granted_scopes(p).await?;
    // Deciding returns from the refunds queue needs `write_returns`:
    // without it the returns are still read, so it is a notice on
    // /sources (and the queue's buttons say why they are disabled), not a
    // failed run.
    if resource == ShopifyResource::Returns {
        if let Some(granted) = &granted {
            if !granted.iter().any(|g| g == WRITE_RETURNS) {
                p.book.notices.push(MISSING_WRITE_RETURNS.to_string());
            }
        }
    }
    // Without a fulfillment order scope the orders are still whole (the
    // bulk backfill follows up what its file lacks), so this too is a
    // notice; a shop read by REST runs no bulk backfill.
    if resource == ShopifyResource::Orders && p.graphql.is_some() {
        if let Some(granted) = &granted {
            if !reads_fulfillment_orders(granted) {
                p.book.notices.push(MISSING_FULFILLMENT_ORDERS.to_string());
            }
        }
    }
    let missing: Vec<(&str, &str)> = match granted {
        Some(granted) => missing_scopes(resource, &granted),
        None if resource == ShopifyResource::Orders => {
            if old_orders_hidden(p, now).await? {
                vec![needed_scopes(resource)[1]]
            } else {
                Vec::new()
            }
        }
        None => Vec::new(),
    };
    p.run.missing_scopes = missing.iter().map(|(s, _)| s.to_string()).collect();
    Ok(missing
        .iter()
        .map(|(scope, effect)| {
            format!("missing access scope {scope}: {effect}; grant it to the app in Shopify admin")
        })
        .collect())
}

/// True when `orders/count` says orders created over 60 days ago exist
/// but the listing shows none of them: Shopify's silent 60-day window.
async fn old_orders_hidden(p: &mut Progress<'_>, now: Timestamp) -> Result<bool, SyncError> {
    let cutoff = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * RECENT_ORDERS_DAYS))
        .unwrap_or(Timestamp::MIN)
        .to_string();
    let filters = [("status", "any".to_string()), ("created_at_max", cutoff)];
    let count_url = p.client.resource_url("orders/count", &filters);
    let counted = match p.client.get_json(&count_url, &mut p.run.calls).await {
        Ok(body) => body.get("count").and_then(Value::as_u64).unwrap_or(0),
        Err(e) if not_answered(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    };
    if counted == 0 {
        return Ok(false);
    }
    let mut query = filters.to_vec();
    query.push(("limit", "1".into()));
    query.push(("fields", "id".into()));
    let list_url = p.client.resource_url("orders", &query);
    let page = p
        .client
        .get_page(&list_url, "orders", &mut p.run.calls)
        .await?;
    Ok(page.records.is_empty())
}

/// The shop's own currency and time zone against the brand's.
async fn check_shop(p: &mut Progress<'_>) -> Result<Vec<String>, SyncError> {
    let url = p.client.resource_url("shop", &[]);
    let shop = match p.client.get_json(&url, &mut p.run.calls).await {
        Ok(body) => body.get("shop").cloned().unwrap_or(Value::Null),
        Err(e) if not_answered(&e) => {
            p.book
                .notices
                .push(format!("shop settings not checked: {e}"));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    let settings = p.client.settings();
    let mut problems = Vec::new();
    let currency = shop.get("currency").and_then(Value::as_str).map(str::trim);
    if let Some(currency) = currency.filter(|c| !c.eq_ignore_ascii_case(settings.currency.code())) {
        p.run.shop_currency = Some(currency.to_string());
        problems.push(format!(
            "the shop's currency is {currency} but the brand is configured in {}: its orders \
             are refused unless they carry amounts in {}",
            settings.currency.code(),
            settings.currency.code()
        ));
    }
    let zone = shop.get("iana_timezone").and_then(Value::as_str);
    if let (Some(zone), Some(configured)) = (zone, settings.time_zone.as_deref()) {
        if zone != configured {
            tracing::warn!(
                source = %settings.source,
                shop = zone,
                configured,
                "shop time zone differs from the brand's"
            );
            p.run.shop_time_zone = Some(zone.to_string());
            p.book.notices.push(format!(
                "the shop's time zone is {zone} but the brand is configured in {configured}: \
                 \"today\" here is not the shop admin's"
            ));
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn any_fulfillment_order_scope_or_its_write_form_reads_them() {
        assert!(reads_fulfillment_orders(&granted(&[
            "read_assigned_fulfillment_orders"
        ])));
        assert!(reads_fulfillment_orders(&granted(&[
            "write_merchant_managed_fulfillment_orders"
        ])));
        assert!(!reads_fulfillment_orders(&granted(&[
            "read_orders",
            "read_fulfillments"
        ])));
    }

    #[test]
    fn missing_scopes_per_resource_with_write_implying_read() {
        let all = granted(&["read_orders", "read_all_orders", "write_customers"]);
        assert!(missing_scopes(ShopifyResource::Orders, &all).is_empty());
        let without_all = granted(&["write_orders", "read_customers"]);
        let missing: Vec<&str> = missing_scopes(ShopifyResource::Orders, &without_all)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(missing, ["read_all_orders"]);
        let missing: Vec<&str> = missing_scopes(ShopifyResource::InventoryLevels, &granted(&[]))
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(missing, ["read_inventory", "read_products"]);
        assert!(missing_scopes(ShopifyResource::Products, &granted(&["read_products"])).is_empty());
        let only_orders = granted(&["write_orders"]);
        let missing = |r| -> Vec<&str> {
            missing_scopes(r, &only_orders)
                .into_iter()
                .map(|(s, _)| s)
                .collect()
        };
        assert_eq!(missing(ShopifyResource::Returns), ["read_returns"]);
        assert_eq!(
            missing(ShopifyResource::Disputes),
            ["read_shopify_payments_disputes"]
        );
        assert_eq!(missing(ShopifyResource::Customers), ["read_customers"]);
        assert!(missing(ShopifyResource::AbandonedCheckouts).is_empty());
    }

    #[test]
    fn scope_handles_reads_shopifys_shape_only() {
        let body = serde_json::json!({"access_scopes": [{"handle": "read_orders"}, {"handle": "read_products"}]});
        assert_eq!(
            scope_handles(&body),
            Some(granted(&["read_orders", "read_products"]))
        );
        assert_eq!(scope_handles(&serde_json::json!({"errors": "x"})), None);
    }
}
