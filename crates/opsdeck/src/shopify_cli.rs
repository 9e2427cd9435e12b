//! `opsdeck shopify webhooks register|list`: the webhook subscriptions of
//! every configured shop, managed through the Admin API.
//!
//! Registering is idempotent: it lists the shop's subscriptions first and
//! creates only the handled topics missing for the address, so running it
//! again (or at every demo start) changes nothing. A shop that fails (bad
//! token, missing scope) is reported and the others still proceed.

use crate::app::shopify_client;
use crate::config::Config;
use opsdeck_domain::SourceId;
use opsdeck_sources::shopify::{CallStats, ShopifyClient, WebhookTopic};
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

/// One subscription as Shopify reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: String,
    pub topic: String,
    pub address: String,
}

/// What `register` did for one shop.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub source: Option<SourceId>,
    pub created: Vec<String>,
    pub already: Vec<String>,
    /// Why the shop (or one topic) failed; free of secrets.
    pub errors: Vec<String>,
    /// What works but deserves a look (a missing scope).
    pub warnings: Vec<String>,
}

/// The receiving URL: `--address`, else `{public_url}/webhooks/shopify`.
pub fn webhook_address(config: &Config, address: Option<&str>) -> anyhow::Result<Url> {
    let url = match (address, &config.public_url) {
        (Some(a), _) => Url::parse(a).map_err(|e| anyhow::anyhow!("--address {a:?}: {e}"))?,
        (None, Some(public)) => public
            .join("webhooks/shopify")
            .map_err(|e| anyhow::anyhow!("public_url: {e}"))?,
        (None, None) => anyhow::bail!(
            "no webhook address: give --address URL or set public_url in the configuration"
        ),
    };
    if !matches!(url.scheme(), "https" | "http") {
        anyhow::bail!("webhook address {url} must be http(s) (Shopify requires https)");
    }
    Ok(url)
}

fn subscription(w: &Value) -> Subscription {
    Subscription {
        id: match &w["id"] {
            Value::Number(n) => n.to_string(),
            other => other.as_str().unwrap_or_default().to_string(),
        },
        topic: w["topic"].as_str().unwrap_or_default().to_string(),
        address: w["address"].as_str().unwrap_or_default().to_string(),
    }
}

/// The shop's subscriptions, every page: Shopify lists 50 by default
/// (at most 250 per page) and gives the next page in the `Link` header.
pub async fn list_shop(client: &ShopifyClient) -> anyhow::Result<Vec<Subscription>> {
    let mut stats = CallStats::default();
    let mut url = client.resource_url("webhooks", &[("limit", "250".to_string())]);
    let mut subs = Vec::new();
    loop {
        let page = client.get_page(&url, "webhooks", &mut stats).await?;
        subs.extend(page.records.iter().map(subscription));
        match page.next {
            Some(next) => url = next,
            None => return Ok(subs),
        }
    }
}

/// Subscribes `address` to every handled topic the shop lacks.
pub async fn register_shop(client: &ShopifyClient, address: &Url) -> Registration {
    let mut report = Registration {
        source: Some(client.source().clone()),
        ..Registration::default()
    };
    let existing = match list_shop(client).await {
        Ok(subs) => subs,
        Err(e) => {
            report
                .errors
                .push(format!("cannot list subscriptions: {e}"));
            return report;
        }
    };
    for topic in WebhookTopic::subscribable().map(WebhookTopic::as_str) {
        if existing
            .iter()
            .any(|s| s.topic == topic && s.address == address.as_str())
        {
            report.already.push(topic.to_string());
            continue;
        }
        let body =
            json!({ "webhook": { "topic": topic, "address": address.as_str(), "format": "json" } });
        let mut stats = CallStats::default();
        match client
            .call_json(Method::POST, "webhooks", Some(&body), &mut stats)
            .await
        {
            Ok(_) => report.created.push(topic.to_string()),
            Err(e) => report.errors.push(format!("{topic}: {e}")),
        }
    }
    report
}

/// Registers every configured shop.
pub async fn register_all(config: &Config, address: &Url) -> anyhow::Result<Vec<Registration>> {
    let mut reports = Vec::new();
    for source in &config.shopify {
        let client = shopify_client(source, config)?;
        let mut report = register_shop(&client, address).await;
        report.warnings.extend(order_history_warning(&client).await);
        reports.push(report);
    }
    Ok(reports)
}

/// A warning when the app lacks the `read_all_orders` scope: Shopify then
/// lists only the last 60 days of orders, without saying so. Read from
/// `GET /admin/oauth/access_scopes.json`; when that cannot be read (an
/// older or simulated shop), nothing is said.
pub async fn order_history_warning(client: &ShopifyClient) -> Option<String> {
    let base = &client.settings().base_url;
    let mut url = base.clone();
    url.set_path(&format!(
        "{}/admin/oauth/access_scopes.json",
        base.path().trim_end_matches('/')
    ));
    url.set_query(None);
    let mut stats = CallStats::default();
    let page = client
        .get_page(&url, "access_scopes", &mut stats)
        .await
        .ok()?;
    let granted = page
        .records
        .iter()
        .any(|s| s["handle"].as_str() == Some("read_all_orders"));
    (!granted).then(|| {
        "the app lacks the read_all_orders scope: Shopify shows only the last 60 days of \
         orders, so older history will be missing"
            .to_string()
    })
}

/// Prints what `register_all` did; true when every shop succeeded.
pub fn print_registrations(reports: &[Registration], address: &Url) -> bool {
    let mut ok = true;
    for r in reports {
        let source = r.source.as_ref().map(|s| s.as_str()).unwrap_or("?");
        println!(
            "{source}: {} created, {} already registered for {address}",
            r.created.len(),
            r.already.len()
        );
        for topic in &r.created {
            println!("  + {topic}");
        }
        for error in &r.errors {
            ok = false;
            println!("  ! {error}");
        }
        for warning in &r.warnings {
            println!("  ~ {warning}");
        }
    }
    ok
}

/// `opsdeck shopify webhooks list`: prints every shop's subscriptions.
pub async fn print_lists(config: &Config) -> anyhow::Result<bool> {
    let mut ok = true;
    for source in &config.shopify {
        let client = shopify_client(source, config)?;
        match list_shop(&client).await {
            Ok(subs) => {
                println!("{}: {} subscription(s)", source.source, subs.len());
                for s in subs {
                    println!("  {:<28} {}  (id {})", s.topic, s.address, s.id);
                }
            }
            Err(e) => {
                ok = false;
                println!("{}: ! {e}", source.source);
            }
        }
    }
    Ok(ok)
}
