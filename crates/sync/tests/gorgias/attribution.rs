//! Brand attribution over HTTP: the merchant's rules against the simulated
//! helpdesk's truth, and the helpdesk's shape at merchant scale.

use super::desk::{start_time, Desk};
use opsdeck_domain::BrandId;
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::{AttributionRule, GorgiasClient};
use opsdeck_store::testing::{each_backend, TestStore};
use opsdeck_sync::GorgiasConnector;
use std::collections::BTreeMap;
use std::sync::Arc;

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
    let runs = d.sync_all(&c, start_time()).await;
    let (ticket_run, message_run) = (&runs[0], &runs[1]);
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
    // Tickets only a message can claim are stored unclaimed by the tickets
    // run, then claimed by the messages run as their messages arrive.
    assert_eq!(
        ticket_run.unattributed - message_run.reattributed,
        unattributed
    );
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

/// Each ticket's brand by the address its customer wrote to, `None` for the
/// group inbox: what receiving-address rules must find.
fn brands_by_address(sim: &Simulator) -> BTreeMap<String, Option<String>> {
    let by_address: BTreeMap<String, String> = sim
        .gorgias_brand_desks()
        .into_iter()
        .map(|(id, address, _)| (address, id))
        .collect();
    let mut truth: BTreeMap<String, Option<String>> = sim
        .tickets_json()
        .iter()
        .map(|t| (t["id"].to_string(), None))
        .collect();
    for m in sim.messages_json() {
        if m["from_agent"].as_bool() == Some(false) {
            let to = m["source"]["to"][0]["address"].as_str().unwrap_or_default();
            if let Some(brand) = by_address.get(to) {
                truth.insert(m["ticket_id"].to_string(), Some(brand.clone()));
            }
        }
    }
    truth
}

async fn stored_brands(d: &Desk) -> BTreeMap<String, Option<String>> {
    let (tickets, messages, _) = d.stored().await;
    let brands: BTreeMap<String, Option<String>> = tickets
        .iter()
        .map(|t| {
            let brand = t.brand.as_ref().map(|b| b.as_str().to_string());
            (t.external_id.clone(), brand)
        })
        .collect();
    for m in &messages {
        assert_eq!(
            m.brand.as_ref().map(|b| b.as_str().to_string()),
            brands[&m.ticket_id],
            "message {} carries its ticket's brand",
            m.external_id
        );
    }
    brands
}

/// Rules only a ticket's messages can satisfy (receiving addresses): the
/// tickets run stores every ticket unclaimed, the messages run claims each
/// as its customer's message arrives (messages read before it included);
/// after a restart, which forgets the clues, re-read tickets keep their
/// brand and new ones are claimed by their messages.
#[tokio::test]
async fn address_rules_claim_tickets_as_their_messages_arrive() {
    let d = Desk::start(8, 0.03).await;
    let rules = || -> Vec<AttributionRule> {
        d.sim
            .gorgias_brand_desks()
            .into_iter()
            .map(|(id, address, _)| AttributionRule {
                brand: Some(BrandId::parse(&id).unwrap()),
                receiving_addresses: vec![address],
                ..AttributionRule::default()
            })
            .collect()
    };
    let c = d.connector(rules());
    let truth = brands_by_address(&d.sim);
    let claimed = truth.values().filter(|b| b.is_some()).count() as u64;
    assert!(claimed > 0 && claimed < truth.len() as u64);
    let runs = d.sync_all(&c, start_time()).await;
    assert_eq!(
        runs[0].unattributed,
        truth.len() as u64,
        "before its messages no ticket can be claimed"
    );
    assert_eq!(runs[1].reattributed, claimed);
    assert_eq!(stored_brands(&d).await, truth);

    let later = start_time()
        .checked_add(jiff::SignedDuration::from_hours(96))
        .unwrap();
    d.sim.advance_to(later);
    let restarted = d.connector(rules());
    let runs = d.sync_all(&restarted, later).await;
    assert!(runs[0].tickets > 0 && runs[1].reattributed > 0, "{runs:?}");
    assert_eq!(stored_brands(&d).await, brands_by_address(&d.sim));
}
