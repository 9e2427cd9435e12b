//! A simulated helpdesk (and shops) on port 0 with a fresh store on a
//! chosen backend, and the check that the store holds exactly what the
//! simulator serves.
//!
//! The helpdesk keeps Gorgias's call limit, 40 calls, on a faster clock:
//! they drain over [`WINDOW`] instead of 20 s, and the connector is told
//! so. Every call still counts; a test pays 1 % of Gorgias's wall time.

use jiff::Timestamp;
use opsdeck_domain::{BrandId, Currency};
use opsdeck_domain::{SatisfactionSurvey, Secret, SourceId, Ticket, TicketMessage};
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::{
    AttributionRule, GorgiasClient, GorgiasSettings, ShopifyClient, ShopifySettings,
};
use opsdeck_store::testing::{sqlite_store, TestStore};
use opsdeck_store::{AnyRecord, Store, SyncState};
use opsdeck_sync::{
    sync_gorgias, sync_once, GorgiasConnector, GorgiasResource, GorgiasRun, ShopifyResource,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The call limit's window in tests (Gorgias: 20 s).
pub const WINDOW: Duration = Duration::from_millis(200);

pub fn start_time() -> Timestamp {
    "2026-05-04T14:00:00Z".parse().unwrap()
}

pub fn source() -> SourceId {
    SourceId::parse("gorgias").unwrap()
}

pub struct Desk {
    pub sim: Simulator,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    pub label: &'static str,
    _backend: TestStore,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Desk {
    pub async fn start(seed: u64, scale: f64) -> Desk {
        Desk::on(seed, scale, sqlite_store().await).await
    }

    /// A simulator and a fresh store on `backend`.
    pub async fn on(seed: u64, scale: f64, backend: TestStore) -> Desk {
        let sim = Simulator::new(SimConfig {
            seed,
            now: start_time(),
            scale,
        });
        // The shops' limit is not under test here; the helpdesk's is.
        sim.set_rate_limit(false);
        sim.set_gorgias_window(WINDOW);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
        let serving = sim.clone();
        tokio::spawn(async move {
            serving
                .serve(listener, async move {
                    let _ = stop_rx.wait_for(|s| *s).await;
                })
                .await
        });
        Desk {
            sim,
            addr,
            store: backend.store.clone(),
            label: backend.label,
            _backend: backend,
            _stop: stop,
        }
    }

    pub fn settings(&self) -> GorgiasSettings {
        let (user, key) = self.sim.gorgias_credentials();
        let mut s = GorgiasSettings::new(source(), "acme", user, Secret::new(key)).unwrap();
        s.base_url = Url::parse(&Simulator::gorgias_base_url(self.addr)).unwrap();
        s.backoff_base = Duration::from_millis(5);
        s.max_retries = 8;
        s.request_timeout = Duration::from_secs(5);
        s.rate_window = WINDOW;
        s
    }

    pub fn connector(&self, rules: Vec<AttributionRule>) -> GorgiasConnector {
        GorgiasConnector::new(
            Arc::new(GorgiasClient::new(self.settings()).unwrap()),
            rules,
            vec![],
        )
    }

    /// A connector reading pages of `page_size` records.
    pub fn connector_paged(&self, page_size: u32) -> GorgiasConnector {
        let mut settings = self.settings();
        settings.page_size = page_size;
        GorgiasConnector::new(
            Arc::new(GorgiasClient::new(settings).unwrap()),
            vec![],
            vec![],
        )
    }

    /// One run of `resource`, which must succeed.
    pub async fn sync(
        &self,
        c: &GorgiasConnector,
        resource: GorgiasResource,
        now: Timestamp,
    ) -> GorgiasRun {
        sync_gorgias(c, self.store.as_ref(), resource, now)
            .await
            .unwrap()
    }

    /// The stored sync state of `resource`, which must exist.
    pub async fn sync_state(&self, resource: &str) -> SyncState {
        self.store
            .sync_state(&source(), resource)
            .await
            .unwrap()
            .unwrap()
    }

    /// One round: every resource in order; the runs, in that order.
    pub async fn sync_all(&self, c: &GorgiasConnector, now: Timestamp) -> Vec<GorgiasRun> {
        let mut runs = Vec::new();
        for resource in GorgiasResource::ALL {
            let run = sync_gorgias(c, self.store.as_ref(), resource, now)
                .await
                .unwrap();
            assert!(run.rejected.is_empty(), "{:?}", run.rejected);
            runs.push(run);
        }
        runs
    }

    pub async fn stored(&self) -> (Vec<Ticket>, Vec<TicketMessage>, Vec<SatisfactionSurvey>) {
        let (mut t, mut m, mut s) = (Vec::new(), Vec::new(), Vec::new());
        let mut after = 0;
        loop {
            let changes = self.store.changes_since(after, 1000).await.unwrap();
            let Some(last) = changes.last() else { break };
            after = last.seq;
            for change in changes {
                match change.record {
                    AnyRecord::Ticket(x) => t.push(x),
                    AnyRecord::TicketMessage(x) => m.push(x),
                    AnyRecord::SatisfactionSurvey(x) => s.push(x),
                    _ => {}
                }
            }
        }
        (t, m, s)
    }

    /// Every ticket, message and survey of the simulator is stored, with the
    /// same times, status and score, and nothing else is.
    pub async fn assert_exact_helpdesk(&self) {
        let (tickets, messages, surveys) = self.stored().await;
        let time = |v: &Value| {
            opsdeck_sources::gorgias::normalize::parse_time(v.as_str().unwrap()).unwrap()
        };
        let want: BTreeMap<String, (Timestamp, String, bool)> = self
            .sim
            .tickets_json()
            .iter()
            .map(|t| {
                (
                    t["id"].to_string(),
                    (
                        time(&t["updated_datetime"]),
                        t["status"].as_str().unwrap().to_string(),
                        !t["snooze_datetime"].is_null(),
                    ),
                )
            })
            .collect();
        let got: BTreeMap<String, (Timestamp, String, bool)> = tickets
            .iter()
            .map(|t| {
                (
                    t.external_id.clone(),
                    (
                        t.updated_at,
                        t.status.as_str().to_string(),
                        t.snooze_until.is_some(),
                    ),
                )
            })
            .collect();
        assert_eq!(got.len(), want.len(), "ticket count");
        assert_eq!(got, want, "tickets differ");
        let want: BTreeMap<String, String> = self
            .sim
            .messages_json()
            .iter()
            .map(|m| (m["id"].to_string(), m["ticket_id"].to_string()))
            .collect();
        let got: BTreeMap<String, String> = messages
            .iter()
            .map(|m| (m.external_id.clone(), m.ticket_id.clone()))
            .collect();
        assert_eq!(got, want, "messages differ");
        let want: BTreeMap<String, Option<u8>> = self
            .sim
            .surveys_json()
            .iter()
            .map(|s| (s["id"].to_string(), s["score"].as_u64().map(|n| n as u8)))
            .collect();
        let got: BTreeMap<String, Option<u8>> = surveys
            .iter()
            .map(|s| (s.external_id.clone(), s.score))
            .collect();
        assert_eq!(got, want, "surveys differ");
    }
}

impl Desk {
    /// Backfills every simulated shop's orders into the store (for the
    /// linked-order rule) and returns their sources.
    pub async fn sync_shop_orders(&self) -> Vec<SourceId> {
        let mut sources = Vec::new();
        for shop in self.sim.shops() {
            let source = SourceId::parse(&format!("shopify-{}", shop.slug)).unwrap();
            let mut settings = ShopifySettings::new(
                source.clone(),
                BrandId::parse(&shop.brand_id).unwrap(),
                Currency::parse(&shop.currency).unwrap(),
                "unused.myshopify.com",
                Secret::new(shop.access_token.clone()),
            )
            .unwrap();
            settings.base_url =
                Url::parse(&Simulator::shop_base_url(self.addr, &shop.slug).to_string()).unwrap();
            settings.page_size = 250;
            settings.backoff_base = Duration::from_millis(5);
            let client = ShopifyClient::new(settings).unwrap();
            sync_once(
                &client,
                self.store.as_ref(),
                ShopifyResource::Orders,
                start_time(),
            )
            .await
            .unwrap();
            sources.push(source);
        }
        sources
    }
}
