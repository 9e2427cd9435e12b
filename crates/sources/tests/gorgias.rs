//! The Gorgias connector: documented payloads parse (both timestamp forms),
//! and syncs over real HTTP against the simulated helpdesk leave the store
//! holding exactly its tickets, messages and surveys — after a backfill, an
//! incremental run, injected faults, and a crash mid-run — with brands
//! attributed by the configured rules.

use jiff::{Timestamp, ToSpan};
use opsdeck_domain::{BrandId, Currency};
use opsdeck_domain::{SatisfactionSurvey, Secret, SourceId, Ticket, TicketMessage};
use opsdeck_simulator::{Faults, SimConfig, Simulator};
use opsdeck_sources::gorgias::normalize::{message_from_json, survey_from_json, ticket_from_json};
use opsdeck_sources::{
    sync_gorgias, AttributionRule, GorgiasClient, GorgiasConnector, GorgiasError, GorgiasResource,
    GorgiasSettings, GorgiasSyncError,
};
use opsdeck_sources::{sync_once, ShopifyClient, ShopifyResource, ShopifySettings};
use opsdeck_store::testing::{each_backend, sqlite_store, TestStore};
use opsdeck_store::{AnyRecord, Store};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

fn start_time() -> Timestamp {
    "2026-05-04T14:00:00Z".parse().unwrap()
}

fn source() -> SourceId {
    SourceId::parse("gorgias").unwrap()
}

struct Desk {
    sim: Simulator,
    addr: SocketAddr,
    store: Arc<dyn Store>,
    label: &'static str,
    _backend: TestStore,
    _stop: tokio::sync::watch::Sender<bool>,
}

impl Desk {
    async fn start(seed: u64, scale: f64) -> Desk {
        Desk::on(seed, scale, sqlite_store().await).await
    }

    /// A simulator and a fresh store on `backend`.
    async fn on(seed: u64, scale: f64, backend: TestStore) -> Desk {
        let sim = Simulator::new(SimConfig {
            seed,
            now: start_time(),
            scale,
        });
        sim.set_rate_limit(false);
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

    fn settings(&self) -> GorgiasSettings {
        let (user, key) = self.sim.gorgias_credentials();
        let mut s = GorgiasSettings::new(source(), "acme", user, Secret::new(key)).unwrap();
        s.base_url = Url::parse(&Simulator::gorgias_base_url(self.addr)).unwrap();
        s.backoff_base = Duration::from_millis(5);
        s.max_retries = 8;
        s.request_timeout = Duration::from_secs(5);
        s
    }

    fn connector(&self, rules: Vec<AttributionRule>) -> GorgiasConnector {
        GorgiasConnector::new(
            Arc::new(GorgiasClient::new(self.settings()).unwrap()),
            rules,
            vec![],
        )
    }

    async fn sync_all(&self, c: &GorgiasConnector, now: Timestamp) {
        for resource in GorgiasResource::ALL {
            let run = sync_gorgias(c, self.store.as_ref(), resource, now)
                .await
                .unwrap();
            assert!(run.rejected.is_empty(), "{:?}", run.rejected);
        }
    }

    async fn stored(&self) -> (Vec<Ticket>, Vec<TicketMessage>, Vec<SatisfactionSurvey>) {
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
    async fn assert_exact_helpdesk(&self) {
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

#[test]
fn documented_payloads_parse_in_both_timestamp_forms() {
    let ticket = json!({
        "id": 4821, "status": "open", "channel": "instagram-direct-message", "via": "instagram",
        "subject": "Where is my order #1042?", "excerpt": "Hello…", "priority": "normal",
        "spam": false, "tags": [{"id": 7, "name": "wismo"}, {"id": 8, "name": "size-5.5"}],
        "customer": {"id": 91, "email": "ava@example.com", "name": "Ava Smith"},
        "assignee_user": {"id": 3, "email": "maya@acme.example", "name": "Maya"},
        "created_datetime": "2019-11-16T15:59:41.966927",
        "opened_datetime": null,
        "updated_datetime": "2024-02-14T21:30:50.201204+00:00",
        "last_received_message_datetime": "2024-02-14T21:30:50.201204+00:00",
        "closed_datetime": null,
        "snooze_datetime": "2024-02-20T09:00:00+00:00",
        "trashed_datetime": null,
        "some_new_field": {"x": 1}
    });
    let t = ticket_from_json(&source(), &ticket).unwrap();
    assert_eq!(t.external_id, "4821");
    assert_eq!(
        t.created_at,
        "2019-11-16T15:59:41.966927Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        t.updated_at,
        "2024-02-14T21:30:50.201204Z".parse::<Timestamp>().unwrap()
    );
    assert_eq!(t.tags, vec!["wismo", "size-5.5"]);
    assert!(t.channel.is_social());
    assert_eq!(
        t.customer.unwrap().email.as_deref(),
        Some("ava@example.com")
    );
    assert_eq!(t.assignee.unwrap().name.as_deref(), Some("Maya"));
    assert!(t.snooze_until.is_some() && t.brand.is_none());

    let mut odd = ticket.clone();
    odd["status"] = json!("pending-review");
    odd["channel"] = json!("carrier-pigeon");
    let t = ticket_from_json(&source(), &odd).unwrap();
    assert_eq!(
        (t.status.as_str(), t.channel.as_str()),
        ("pending-review", "carrier-pigeon")
    );

    let message = json!({
        "id": 99, "ticket_id": 4821, "from_agent": true, "public": false, "channel": "internal-note",
        "rule_id": null, "integration_id": 9101,
        "source": {"type": "email", "to": [{"address": "Support@Mavena.example"}]},
        "created_datetime": "2024-02-14T21:31:00.000001", "sent_datetime": null,
        "failed_datetime": null, "subject": null, "body_text": "> quoted\nChecked", "stripped_text": "Checked",
        "intents": [{"name": "order/status"}]
    });
    let (m, routing) = message_from_json(&source(), &message).unwrap();
    assert!(m.from_agent && !m.public && m.rule_id.is_none());
    assert_eq!(m.body_text.as_deref(), Some("Checked"));
    assert_eq!(m.intents, vec!["order/status"]);
    assert_eq!(routing.to, vec!["support@mavena.example"]);
    assert_eq!(routing.integration_id.as_deref(), Some("9101"));

    let survey = json!({
        "id": 5, "ticket_id": 4821, "customer_id": 91, "score": null, "body_text": null,
        "created_datetime": "2024-02-15T10:00:00.5+00:00", "sent_datetime": "2024-02-15T10:00:01",
        "scored_datetime": null
    });
    let s = survey_from_json(&source(), &survey).unwrap();
    assert_eq!(s.score, None);
    assert_eq!(
        s.updated_at,
        "2024-02-15T10:00:01Z".parse::<Timestamp>().unwrap()
    );
}

#[test]
fn a_bad_record_is_rejected_naming_its_id_and_field() {
    let e = ticket_from_json(
        &source(),
        &json!({"id": 7, "created_datetime": "yesterday"}),
    )
    .unwrap_err();
    assert_eq!((e.id.as_str(), e.field.as_str()), ("7", "created_datetime"));
    let e = ticket_from_json(
        &source(),
        &json!({"id": 8, "created_datetime": "2024-01-01T00:00:00", "spam": "no"}),
    )
    .unwrap_err();
    assert_eq!((e.id.as_str(), e.field.as_str()), ("8", "spam"));
    let e = survey_from_json(
        &source(),
        &json!({"id": 9, "ticket_id": 1, "score": 9, "sent_datetime": "2024-01-01T00:00:00"}),
    )
    .unwrap_err();
    assert_eq!((e.id.as_str(), e.field.as_str()), ("9", "score"));
    assert!(e.to_string().contains("satisfaction_survey 9"));
    let e = message_from_json(
        &source(),
        &json!({"id": 10, "created_datetime": "2024-01-01T00:00:00"}),
    )
    .unwrap_err();
    assert_eq!(e.field, "ticket_id");
}

#[tokio::test]
async fn backfill_then_incremental_gives_exactly_the_helpdesk() {
    // SQLite always; PostgreSQL too when a test server is configured.
    for backend in each_backend().await {
        backfill_then_incremental_gives_exactly_the_helpdesk_on(backend).await;
    }
}

async fn backfill_then_incremental_gives_exactly_the_helpdesk_on(backend: TestStore) {
    let d = Desk::on(42, 0.02, backend).await;
    eprintln!("backfill on {}", d.label);
    let c = d.connector(vec![]);
    let before = d.sim.gorgias_request_count();
    let run = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, start_time())
        .await
        .unwrap();
    let tickets = d.sim.tickets_json().len() as u64;
    let pages = tickets.div_ceil(100);
    eprintln!(
        "backfill: {tickets} tickets, {} requests (minimum {pages} list pages + {tickets} message lists = {})",
        d.sim.gorgias_request_count() - before,
        pages + tickets
    );
    assert_eq!(run.since, None);
    assert_eq!(run.tickets, tickets);
    assert_eq!(
        run.calls.requests,
        pages + tickets,
        "no wasted request without faults"
    );
    assert_eq!(
        run.unattributed, tickets,
        "no rules: every ticket unattributed"
    );
    sync_gorgias(
        &c,
        d.store.as_ref(),
        GorgiasResource::SatisfactionSurveys,
        start_time(),
    )
    .await
    .unwrap();
    d.assert_exact_helpdesk().await;
    let state = d
        .store
        .sync_state(&source(), "tickets")
        .await
        .unwrap()
        .unwrap();
    assert!(state.watermark.is_some() && state.cursor.is_none());
    assert!(d
        .store
        .sync_state(&source(), "satisfaction_surveys")
        .await
        .unwrap()
        .is_some());

    let later = start_time().checked_add(72.hours()).unwrap();
    d.sim.advance_to(later);
    let run = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, later)
        .await
        .unwrap();
    assert!(run.since.is_some());
    assert!(
        run.tickets > 0 && run.tickets < d.sim.tickets_json().len() as u64,
        "incremental reads only changed tickets: {}",
        run.tickets
    );
    eprintln!(
        "incremental after 3 days: {} tickets, {} requests",
        run.tickets, run.calls.requests
    );
    sync_gorgias(
        &c,
        d.store.as_ref(),
        GorgiasResource::SatisfactionSurveys,
        later,
    )
    .await
    .unwrap();
    d.assert_exact_helpdesk().await;
}

#[tokio::test]
async fn faults_still_converge_to_the_helpdesk_for_several_seeds() {
    for seed in [7, 2024, 31337] {
        // SQLite always; PostgreSQL too when a test server is configured.
        for backend in each_backend().await {
            faults_converge_on(seed, backend).await;
        }
    }
}

async fn faults_converge_on(seed: u64, backend: TestStore) {
    {
        let d = Desk::on(seed, 0.01, backend).await;
        eprintln!("faults, seed {seed}, on {}", d.label);
        d.sim.set_faults(Faults {
            http_429_rate: 0.02,
            http_5xx_rate: 0.08,
            reset_rate: 0.03,
            truncated_rate: 0.05,
            seed,
            ..Faults::default()
        });
        let c = d.connector(vec![]);
        d.sync_all(&c, start_time()).await;
        let later = start_time().checked_add(48.hours()).unwrap();
        d.sim.advance_to(later);
        d.sync_all(&c, later).await;
        d.sim.set_faults(Faults::default());
        d.assert_exact_helpdesk().await;
        let state = d
            .store
            .sync_state(&source(), "tickets")
            .await
            .unwrap()
            .unwrap();
        assert!(state.errors > 0, "faults were injected and counted");
    }
}

#[tokio::test]
async fn a_crash_mid_walk_resumes_without_loss() {
    // SQLite always; PostgreSQL too when a test server is configured.
    for backend in each_backend().await {
        a_crash_mid_walk_resumes_without_loss_on(backend).await;
    }
}

async fn a_crash_mid_walk_resumes_without_loss_on(backend: TestStore) {
    let d = Desk::on(11, 0.03, backend).await;
    eprintln!("crash mid-walk on {}", d.label);
    let mut settings = d.settings();
    settings.page_size = 5;
    let c = GorgiasConnector::new(
        Arc::new(GorgiasClient::new(settings).unwrap()),
        vec![],
        vec![],
    );
    d.sync_all(&c, start_time()).await;
    let watermark = d
        .store
        .sync_state(&source(), "tickets")
        .await
        .unwrap()
        .unwrap()
        .watermark;

    // A month later many tickets changed; the process dies mid-walk.
    let later = start_time().checked_add(720.hours()).unwrap();
    d.sim.advance_to(later);
    let target = d.sim.gorgias_request_count() + 15;
    let sim = d.sim.clone();
    tokio::select! {
        _ = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, later) => panic!("the run should have been killed"),
        _ = async move { while sim.gorgias_request_count() < target { tokio::time::sleep(Duration::from_millis(2)).await } } => {}
    }
    let state = d
        .store
        .sync_state(&source(), "tickets")
        .await
        .unwrap()
        .unwrap();
    assert!(state.cursor.is_some(), "a walk checkpoint was committed");
    assert_eq!(
        state.watermark, watermark,
        "the watermark waits for the walk to reach it"
    );

    // More changes while it was down, then a fresh connector (a restart).
    let restart = later.checked_add(1.hour()).unwrap();
    d.sim.advance_to(restart);
    let c = d.connector(vec![]);
    let resumed = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, restart)
        .await
        .unwrap();
    assert!(resumed.resumed);
    let again = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, restart)
        .await
        .unwrap();
    assert!(!again.resumed);
    sync_gorgias(
        &c,
        d.store.as_ref(),
        GorgiasResource::SatisfactionSurveys,
        restart,
    )
    .await
    .unwrap();
    d.assert_exact_helpdesk().await;
}

#[tokio::test]
async fn a_wrong_key_is_a_typed_error_without_the_key() {
    let d = Desk::start(1, 0.005).await;
    let mut settings = d.settings();
    settings.api_key = Secret::new("wrong-key-s3cr3t");
    let c = GorgiasConnector::new(
        Arc::new(GorgiasClient::new(settings).unwrap()),
        vec![],
        vec![],
    );
    let err = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, start_time())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GorgiasSyncError::Gorgias(GorgiasError::Unauthorized { .. })
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    let state = d
        .store
        .sync_state(&source(), "tickets")
        .await
        .unwrap()
        .unwrap();
    let stored = state.last_error.unwrap();
    assert!(
        stored.contains("401") && !stored.contains("s3cr3t"),
        "{stored}"
    );
    assert_eq!(state.consecutive_failures, 1);
}

/// Prints the helpdesk's shape at scale 1.0 (run with `--ignored`):
/// open tickets, CSAT, top issues, and tickets nothing but an order can
/// attribute.
#[tokio::test]
#[ignore]
async fn helpdesk_shape_at_merchant_scale() {
    let sim = Simulator::new(SimConfig {
        seed: 42,
        now: start_time(),
        scale: 1.0,
    });
    let tickets = sim.tickets_json();
    let open = tickets
        .iter()
        .filter(|t| {
            t["status"] == "open"
                && !t["spam"].as_bool().unwrap()
                && t["trashed_datetime"].is_null()
        })
        .count();
    let scores: Vec<f64> = sim
        .surveys_json()
        .iter()
        .filter_map(|s| s["score"].as_f64())
        .collect();
    let csat = scores.iter().sum::<f64>() / scores.len() as f64;
    let tagged = |tag: &str| {
        tickets
            .iter()
            .filter(|t| {
                t["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["name"] == tag)
            })
            .count()
    };
    let messages = sim.messages_json();
    let group_inbox: std::collections::BTreeSet<String> = messages
        .iter()
        .filter(|m| {
            !m["from_agent"].as_bool().unwrap()
                && m["source"]["to"][0]["address"] == "help@acme-brands.example"
        })
        .map(|m| m["ticket_id"].to_string())
        .collect();
    let strangers = tickets
        .iter()
        .filter(|t| {
            group_inbox.contains(&t["id"].to_string())
                && t["customer"]["email"]
                    .as_str()
                    .unwrap()
                    .ends_with("@mail.example")
        })
        .count();
    eprintln!(
        "tickets {} open {open} surveys scored {} csat {csat:.2} size-5.5 {} subscription {} group inbox {} strangers {strangers} ({:.1} %) messages {}",
        tickets.len(), scores.len(), tagged("size-5.5"), tagged("subscription-management"),
        group_inbox.len(), 100.0 * strangers as f64 / tickets.len() as f64, messages.len()
    );
}

impl Desk {
    /// Backfills every simulated shop's orders into the store (for the
    /// linked-order rule) and returns their sources.
    async fn sync_shop_orders(&self) -> Vec<SourceId> {
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

/// The merchant's rules, one of each kind: top-issue tags, Mavena's
/// integrations (its inbox, chat and social pages), the other brands'
/// receiving addresses, and last the linked order for the group inbox.
fn merchant_rules(sim: &Simulator) -> Vec<AttributionRule> {
    let brand = |id: &str| Some(BrandId::parse(id).unwrap());
    let desks = sim.gorgias_brand_desks();
    let mut rules: Vec<AttributionRule> = desks
        .iter()
        .filter_map(|(id, _, tag)| {
            tag.as_ref().map(|tag| AttributionRule {
                brand: brand(id),
                tags: vec![tag.clone()],
                ..AttributionRule::default()
            })
        })
        .collect();
    // What the Gorgias integrations page lists for Mavena: the integration
    // ids its customers write through.
    let mavena_address = &desks.iter().find(|d| d.0 == "mavena").unwrap().1;
    let mut mavena_integrations: Vec<String> = sim
        .messages_json()
        .iter()
        .filter(|m| m["source"]["to"][0]["address"].as_str() == Some(mavena_address.as_str()))
        .filter_map(|m| m["integration_id"].as_u64().map(|i| i.to_string()))
        .collect();
    mavena_integrations.sort();
    mavena_integrations.dedup();
    assert!(!mavena_integrations.is_empty());
    rules.push(AttributionRule {
        brand: brand("mavena"),
        integration_ids: mavena_integrations,
        ..AttributionRule::default()
    });
    for (id, address, _) in desks.iter().filter(|d| d.0 != "mavena") {
        rules.push(AttributionRule {
            brand: brand(id),
            receiving_addresses: vec![address.to_uppercase()],
            ..AttributionRule::default()
        });
    }
    rules.push(AttributionRule {
        linked_order: true,
        ..AttributionRule::default()
    });
    rules
}

#[tokio::test]
async fn attribution_over_http_matches_the_helpdesk_truth() {
    // SQLite always; PostgreSQL too when a test server is configured.
    for backend in each_backend().await {
        attribution_on(backend).await;
    }
}

async fn attribution_on(backend: TestStore) {
    let d = Desk::on(5, 0.06, backend).await;
    let order_sources = d.sync_shop_orders().await;
    let c = GorgiasConnector::new(
        Arc::new(GorgiasClient::new(d.settings()).unwrap()),
        merchant_rules(&d.sim),
        order_sources,
    );
    let run = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, start_time())
        .await
        .unwrap();
    sync_gorgias(
        &c,
        d.store.as_ref(),
        GorgiasResource::SatisfactionSurveys,
        start_time(),
    )
    .await
    .unwrap();
    let truth = d.sim.gorgias_ticket_brands();
    let (tickets, messages, surveys) = d.stored().await;
    let got: BTreeMap<String, Option<String>> = tickets
        .iter()
        .map(|t| {
            let brand = t.brand.as_ref().map(|b| b.as_str().to_string());
            (t.external_id.clone(), brand)
        })
        .collect();
    let wrong: Vec<_> = truth
        .iter()
        .filter(|(id, brand)| got.get(*id) != Some(brand))
        .map(|(id, brand)| (id, brand, got.get(id)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} on {}: {} of {} tickets attributed wrongly (id, truth, stored): {:?}",
        d.label,
        d.label,
        wrong.len(),
        truth.len(),
        &wrong[..wrong.len().min(10)]
    );
    assert_eq!(got.len(), truth.len(), "every ticket stored, none dropped");
    // The unattributed bucket: counted by the run and present in the store.
    let unattributed = truth.values().filter(|b| b.is_none()).count() as u64;
    assert!(unattributed > 0, "the helpdesk has group-inbox strangers");
    assert!(unattributed < truth.len() as u64 / 5);
    assert_eq!(run.unattributed, unattributed);
    for brand in ["plentum", "mavena", "pawfully"] {
        let n = truth
            .values()
            .filter(|b| b.as_deref() == Some(brand))
            .count();
        assert!(n > 0, "{brand} has tickets");
    }
    // Messages and surveys carry their ticket's brand.
    let by_ticket: BTreeMap<&str, Option<&BrandId>> = tickets
        .iter()
        .map(|t| (t.external_id.as_str(), t.brand.as_ref()))
        .collect();
    assert!(!messages.is_empty() && !surveys.is_empty());
    for m in &messages {
        assert_eq!(
            m.brand.as_ref(),
            by_ticket[m.ticket_id.as_str()],
            "message {}",
            m.external_id
        );
    }
    for s in &surveys {
        assert_eq!(
            s.brand.as_ref(),
            by_ticket[s.ticket_id.as_str()],
            "survey {}",
            s.external_id
        );
    }
    eprintln!(
        "attribution on {}: {} tickets, {unattributed} unattributed, {} messages, {} surveys",
        d.label,
        tickets.len(),
        messages.len(),
        surveys.len()
    );
}
