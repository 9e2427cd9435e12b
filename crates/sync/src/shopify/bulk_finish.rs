//! Waking a waiting bulk backfill when Shopify says its operation
//! finished (the `bulk_operations/finish` webhook), instead of polling it
//! every few seconds.
//!
//! [`BulkFinishes`] is one map per process, held by the sync worker and
//! handed to the webhook inbox: a backfill waiting for an operation puts a
//! [`Notify`] under (source, operation id) for as long as it waits; the
//! inbox worker, applying a `bulk_operations/finish` delivery, wakes it.
//! The backfill then asks Shopify for the operation as always (the webhook
//! only says "look now"), and keeps a long safety poll in case a delivery
//! is lost. A delivery that arrives just before its backfill starts
//! waiting (between the backfill's last look and its registration) is
//! remembered for a while, so it is not lost to that race; one for an
//! operation no backfill here waits for is otherwise ignored.

use opsdeck_domain::SourceId;
use opsdeck_sources::shopify::{CallStats, ShopifyClient, ShopifyError, WebhookTopic};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Finishes remembered for an operation nobody waited for yet.
const REMEMBERED: usize = 64;

type Key = (SourceId, String);

/// The backfills waiting for their bulk operation, by source and
/// operation id.
#[derive(Debug, Default)]
pub struct BulkFinishes {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    waiting: HashMap<Key, Arc<Notify>>,
    /// Finished operations no backfill was waiting for, newest last.
    unclaimed: VecDeque<Key>,
}

impl BulkFinishes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Shopify says `operation` of `source` finished: wakes the backfill
    /// waiting for it. True when one was waiting.
    pub fn finished(&self, source: &SourceId, operation: &str) -> bool {
        let key = (source.clone(), operation.to_string());
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(notify) = inner.waiting.get(&key) {
            notify.notify_one();
            return true;
        }
        if !inner.unclaimed.contains(&key) {
            if inner.unclaimed.len() == REMEMBERED {
                inner.unclaimed.pop_front();
            }
            inner.unclaimed.push_back(key);
        }
        false
    }

    /// Registers a wait for `operation` of `source` until the returned
    /// guard drops; already woken if its finish came just before.
    pub(crate) fn wait_for(self: &Arc<Self>, source: &SourceId, operation: &str) -> Waiting {
        let key = (source.clone(), operation.to_string());
        let notify = Arc::new(Notify::new());
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(at) = inner.unclaimed.iter().position(|k| *k == key) {
            inner.unclaimed.remove(at);
            notify.notify_one();
        }
        inner.waiting.insert(key.clone(), notify.clone());
        Waiting {
            finishes: self.clone(),
            key,
            notify,
        }
    }

    /// Backfills waiting now (for tests and logs).
    pub fn waiting(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .waiting
            .len()
    }
}

/// How a backfill learns that its operation finished, when the shop's
/// `bulk_operations/finish` deliveries reach this process.
#[derive(Debug, Clone)]
pub struct FinishWebhook {
    pub finishes: Arc<BulkFinishes>,
    /// Between two looks while waiting for the webhook: long, only in case
    /// a delivery is lost.
    pub safety_poll: Duration,
}

impl FinishWebhook {
    /// The safety poll a backfill keeps beside the webhook.
    pub const SAFETY_POLL: Duration = Duration::from_secs(60);

    pub fn new(finishes: Arc<BulkFinishes>) -> Self {
        FinishWebhook {
            finishes,
            safety_poll: Self::SAFETY_POLL,
        }
    }
}

/// Whether the shop has a `bulk_operations/finish` subscription
/// (`GET webhooks.json?topic=…`, the list `opsdeck shopify webhooks
/// register` fills). Any address counts: the subscriptions are the app's,
/// and its deliveries reach the instance that runs the sync.
pub async fn finish_subscribed(client: &ShopifyClient) -> Result<bool, ShopifyError> {
    let topic = WebhookTopic::BulkOperationsFinish.as_str().to_string();
    let url = client.resource_url("webhooks", &[("topic", topic), ("limit", "1".into())]);
    let page = client
        .get_page(&url, "webhooks", &mut CallStats::default())
        .await?;
    Ok(!page.records.is_empty())
}

/// One backfill's registration; removed when dropped.
pub(crate) struct Waiting {
    finishes: Arc<BulkFinishes>,
    key: Key,
    notify: Arc<Notify>,
}

impl Waiting {
    /// Resolves when the finish webhook for the operation arrives (at once
    /// if it came since the registration).
    pub(crate) async fn finished(&self) {
        self.notify.notified().await;
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut inner = self
            .finishes
            .inner
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if inner
            .waiting
            .get(&self.key)
            .is_some_and(|n| Arc::ptr_eq(n, &self.notify))
        {
            inner.waiting.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_finish_wakes_its_waiter_and_one_just_before_is_not_lost() {
        let finishes = Arc::new(BulkFinishes::new());
        let shop = SourceId::parse("shopify-mavena").unwrap();
        let waiting = finishes.wait_for(&shop, "gid://shopify/BulkOperation/1");
        assert!(!finishes.finished(&shop, "gid://shopify/BulkOperation/2"));
        assert!(finishes.finished(&shop, "gid://shopify/BulkOperation/1"));
        waiting.finished().await;
        drop(waiting);
        assert_eq!(finishes.waiting(), 0);
        // Operation 2 finished before anyone waited: its wait ends at once.
        let late = finishes.wait_for(&shop, "gid://shopify/BulkOperation/2");
        late.finished().await;
    }
}
