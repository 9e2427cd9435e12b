//! Starting the refunds, returns and disputes queue in a running opsdeck:
//! each Shopify shop's GraphQL client for the returns mutations (its own
//! cost bucket, as the approvals' and the flags' clients: a decision is a
//! few points now and then, beside a sync's budget) with the brand's
//! `notify_customer_on_returns`, the approvals a large refund goes
//! through.

use crate::app::Clock;
use crate::config::Config;
use opsdeck_metrics::panels::refunds_queue::SlaQueueConfig;
use opsdeck_operations::approvals::Approvals;
use opsdeck_operations::queues::{RefundQueue, ShopReturns};
use opsdeck_sources::shopify::graphql::{CostBuckets, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The queue's windows and each shop's admin address.
pub fn sla_queue(config: &Config) -> SlaQueueConfig {
    SlaQueueConfig {
        return_window: config.queues.return_window,
        refund_window: config.queues.refund_window,
        dispute_window: config.queues.dispute_window,
        shop_admin: config
            .shopify
            .iter()
            .map(|s| {
                (
                    s.source.to_string(),
                    format!("https://{}/admin", s.shop_domain),
                )
            })
            .collect(),
    }
}

/// The queue service the pages and the API use.
pub fn build(
    config: &Config,
    store: Arc<dyn Store>,
    approvals: Option<Arc<Approvals>>,
    clock: Clock,
    stored: Arc<tokio::sync::Notify>,
) -> Arc<RefundQueue> {
    let buckets = CostBuckets::new();
    let mut shops = BTreeMap::new();
    for shop in &config.shopify {
        let source = shop.source.to_string();
        let client = crate::app::shopify_settings(shop, config)
            .map_err(|e| e.to_string())
            .and_then(|settings| {
                let bucket = buckets.for_shop(&settings.base_url);
                GraphqlClient::new(settings, GRAPHQL_API_VERSION, bucket).map_err(|e| e.to_string())
            });
        match client {
            Ok(client) => {
                shops.insert(
                    source,
                    ShopReturns {
                        graphql: Arc::new(client),
                        notify_customer: shop.notify_customer_on_returns,
                    },
                );
            }
            Err(error) => {
                tracing::warn!(%source, %error, "returns cannot be decided from the queue for this shop")
            }
        }
    }
    Arc::new(RefundQueue::new(store, shops, approvals, clock).waking(stored))
}
