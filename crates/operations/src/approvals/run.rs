//! What an approved request does, run once: a custom platform is called
//! back (signed, with the request's idempotency key, retried on 5xx and
//! timeouts), a Shopify change is made by its GraphQL mutation with
//! Shopify's own idempotency key — after checking that its target is the
//! version the request saw.
//!
//! # The callback a custom platform receives
//! `POST` to the URL it gave (under its configured `callback_url_prefix`)
//! with the JSON body [`CallbackBody`] and the headers
//! - `X-Opsdeck-Signature: sha256=<hex>`: HMAC-SHA256 of the raw body
//!   with the platform's configured secret (compare in constant time);
//! - `Idempotency-Key`: the same on every retry of one request: act once
//!   per key;
//! - `X-Opsdeck-Approval-Id`.
//!
//! Any 2xx is done; 408, 429, 5xx and transport failures (timeouts) are
//! retried with doubling waits; any other answer fails the run.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use opsdeck_domain::{Money, Secret, Timestamp};
use opsdeck_sources::shopify::graphql::{GraphqlClient, GraphqlQuery, GraphqlStats};
use opsdeck_store::{Approval, ApprovalState, RunOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The header carrying the callback's signature.
pub const SIGNATURE_HEADER: &str = "X-Opsdeck-Signature";
/// The header carrying the request's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// What runs on approval, stored with the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// A custom platform acts itself once told: opsdeck calls it back.
    Callback {
        /// The platform's source id (its ingest token's source), which
        /// names its secret and allowed URL prefix.
        platform: String,
        url: String,
        /// What the platform sent with its request, returned as it was.
        payload: Value,
    },
    /// A variant's new price (`productVariantsBulkUpdate`).
    ShopifyVariantPrice {
        /// The Shopify source id, e.g. `shopify-lux`.
        shop: String,
        product_id: String,
        variant_id: String,
        price: Money,
    },
    /// A refund (`refundCreate`), as the refunds queue builds its input.
    ShopifyRefund {
        shop: String,
        order_id: String,
        /// `RefundInput` (its `orderId` is set from `order_id`).
        input: Value,
    },
    /// Nothing for opsdeck to run: a request made on the dashboard's form
    /// for a change the requester makes themselves once it is approved
    /// (the approval is the go-ahead and the record).
    Manual,
    /// Switching on a freeze flag that needs a second person
    /// ([`crate::flags::approval`]): the change as requested.
    SwitchFlagOn {
        key: String,
        #[serde(default)]
        targets: Vec<String>,
        text: Option<String>,
        reason: String,
        /// How long the flag runs once applied; `None` until switched off.
        runs_for_minutes: Option<i64>,
    },
}

impl Action {
    /// The order a request is about, as (source, the order's id as
    /// opsdeck stores it), so the approval page can show its customer's
    /// risk flags: a Shopify refund's order (its GID's numeric tail), or
    /// the `order_id` string a custom platform put in its payload.
    pub fn order(&self) -> Option<(&str, &str)> {
        match self {
            Action::ShopifyRefund { shop, order_id, .. } => {
                let id = order_id
                    .strip_prefix("gid://shopify/Order/")
                    .unwrap_or(order_id);
                Some((shop, id.split('?').next().unwrap_or(id)))
            }
            Action::Callback {
                platform, payload, ..
            } => payload
                .get("order_id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(|id| (platform.as_str(), id)),
            Action::ShopifyVariantPrice { .. } | Action::Manual | Action::SwitchFlagOn { .. } => {
                None
            }
        }
    }

    /// The Shopify object whose version is checked before the mutation.
    fn shopify_target(&self) -> Option<(&str, &str)> {
        match self {
            Action::Callback { .. } | Action::SwitchFlagOn { .. } | Action::Manual => None,
            Action::ShopifyVariantPrice {
                shop, variant_id, ..
            } => Some((shop, variant_id)),
            Action::ShopifyRefund { shop, order_id, .. } => Some((shop, order_id)),
        }
    }
}

/// The JSON a custom platform is called back with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackBody {
    pub approval_id: String,
    pub kind: String,
    pub brand: String,
    /// `approved` (the platform acts), or `rejected` or `expired` (it
    /// does not): a platform hears how its request ended, each way once
    /// per idempotency key.
    pub decision: String,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub idempotency_key: String,
    pub payload: Value,
}

/// Runs an approved request's action; tests may stand in for it.
#[async_trait]
pub trait ActionRunner: Send + Sync {
    /// Why `action` could never run (an unknown platform or shop, a
    /// callback URL outside the platform's prefix), checked when the
    /// request is made, so nothing of a request that cannot run is stored.
    fn check(&self, action: &Action, target_version: Option<&str>) -> Result<(), String>;

    /// Runs it, retrying what is worth retrying; how it ended.
    async fn run(&self, approval: &Approval, action: &Action) -> RunOutcome;

    /// Tells whoever is waiting that `approval` closed without running
    /// (rejected or expired): a custom platform is called back, signed
    /// and with the request's idempotency key as on approval. `None` when
    /// nobody is to be told (opsdeck's own actions and Shopify changes,
    /// which simply do not happen).
    async fn closed(&self, _approval: &Approval, _action: &Action) -> Option<RunOutcome> {
        None
    }
}

/// A custom platform's callback settings.
#[derive(Clone)]
pub struct CallbackPlatform {
    /// Signs the callback body; never logged.
    pub secret: Secret,
    /// Callback URLs must start with this (so a request cannot make
    /// opsdeck call anywhere).
    pub url_prefix: String,
}

/// How often and how patiently a callback is retried.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    /// The first wait; each further one doubles.
    pub first_wait: Duration,
}

/// The production runner: callbacks over HTTP, Shopify through the
/// GraphQL client of each configured shop.
pub struct Executor {
    http: reqwest::Client,
    platforms: HashMap<String, CallbackPlatform>,
    shops: HashMap<String, Arc<GraphqlClient>>,
    flags: Option<crate::flags::approval::FlagApprovals>,
    retry: Retry,
}

impl Executor {
    /// `http` should carry a per-request timeout (a hung receiver is a
    /// retried attempt).
    pub fn new(http: reqwest::Client, retry: Retry) -> Self {
        Executor {
            http,
            platforms: HashMap::new(),
            shops: HashMap::new(),
            flags: None,
            retry,
        }
    }

    pub fn with_platform(mut self, source: &str, platform: CallbackPlatform) -> Self {
        self.platforms.insert(source.to_string(), platform);
        self
    }

    pub fn with_shop(mut self, source: &str, client: Arc<GraphqlClient>) -> Self {
        self.shops.insert(source.to_string(), client);
        self
    }

    /// Applies approved freeze switch-ons through the flag service.
    pub fn with_flags(mut self, flags: crate::flags::approval::FlagApprovals) -> Self {
        self.flags = Some(flags);
        self
    }

    async fn callback(
        &self,
        approval: &Approval,
        platform: &str,
        url: &str,
        payload: &Value,
    ) -> RunOutcome {
        let Some(settings) = self.platforms.get(platform) else {
            return RunOutcome::Failed {
                reason: format!("no callback settings for platform {platform:?}"),
            };
        };
        let body = CallbackBody {
            approval_id: approval.id.clone(),
            kind: approval.kind.as_str().to_string(),
            brand: approval.brand.clone(),
            decision: match approval.state {
                ApprovalState::Rejected => "rejected",
                ApprovalState::Expired => "expired",
                _ => "approved",
            }
            .into(),
            decided_by: approval.decided_by.clone(),
            comment: approval.decision_comment.clone(),
            decided_at: approval.decided_at,
            idempotency_key: approval.idempotency_key.clone(),
            payload: payload.clone(),
        };
        let bytes = serde_json::to_vec(&body).expect("a callback body serializes");
        let signature = sign(&settings.secret, &bytes);
        let mut wait = self.retry.first_wait;
        let mut last = String::new();
        for attempt in 1..=self.retry.attempts.max(1) {
            let sent = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .header(IDEMPOTENCY_HEADER, &approval.idempotency_key)
                .header("X-Opsdeck-Approval-Id", &approval.id)
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {
                    return RunOutcome::Executed {
                        note: format!(
                            "callback answered HTTP {} (attempt {attempt})",
                            r.status().as_u16()
                        ),
                    }
                }
                Ok(r) => {
                    let status = r.status();
                    last = format!("callback answered HTTP {}", status.as_u16());
                    let retryable =
                        status.is_server_error() || matches!(status.as_u16(), 408 | 429);
                    if !retryable {
                        return RunOutcome::Failed { reason: last };
                    }
                }
                Err(e) => last = format!("callback failed: {}", e.without_url()),
            }
            tracing::warn!(approval = %approval.id, attempt, error = %last, "approval callback attempt failed");
            if attempt < self.retry.attempts {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
        RunOutcome::Failed {
            reason: format!(
                "gave up after {} attempts: {last}",
                self.retry.attempts.max(1)
            ),
        }
    }

    async fn shopify(&self, approval: &Approval, action: &Action) -> RunOutcome {
        let Some((shop, target)) = action.shopify_target() else {
            return RunOutcome::Failed {
                reason: "not a Shopify action".into(),
            };
        };
        let Some(client) = self.shops.get(shop) else {
            return RunOutcome::Failed {
                reason: format!("no Shopify connection {shop:?}"),
            };
        };
        let mut stats = GraphqlStats::default();
        if let Err(reason) = target_unchanged(
            client,
            target,
            approval.target_version.as_deref(),
            &mut stats,
        )
        .await
        {
            return RunOutcome::Failed { reason };
        }
        let (query, field) = match action {
            Action::ShopifyVariantPrice { product_id, variant_id, price, .. } => (
                GraphqlQuery::new(
                    "ApprovedVariantPrice",
                    "mutation ApprovedVariantPrice($productId: ID!, $variants: [ProductVariantsBulkInput!]!, $key: String!) { \
                     productVariantsBulkUpdate(productId: $productId, variants: $variants) @idempotent(key: $key) { \
                     productVariants { id price } userErrors { field message } } }",
                    10,
                )
                .variable("productId", product_id.as_str())
                .variable("variants", json!([{ "id": variant_id, "price": price.to_decimal_string() }])),
                "productVariantsBulkUpdate",
            ),
            Action::ShopifyRefund { order_id, input, .. } => {
                let mut input = input.clone();
                input["orderId"] = json!(order_id);
                (
                    GraphqlQuery::new(
                        "ApprovedRefund",
                        "mutation ApprovedRefund($input: RefundInput!, $key: String!) { \
                         refundCreate(input: $input) @idempotent(key: $key) { \
                         refund { id } userErrors { field message } } }",
                        10,
                    )
                    .variable("input", input),
                    "refundCreate",
                )
            }
            Action::Callback { .. } | Action::SwitchFlagOn { .. } | Action::Manual => return RunOutcome::Failed { reason: "not a Shopify action".into() },
        };
        let query = query.variable("key", approval.idempotency_key.as_str());
        match client.execute(&query, &mut stats).await {
            Err(e) => RunOutcome::Failed {
                reason: e.to_string(),
            },
            Ok(answer) => {
                let errors = answer.data[field]["userErrors"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if errors.is_empty() {
                    RunOutcome::Executed {
                        note: format!("Shopify {field} done"),
                    }
                } else {
                    let messages: Vec<String> = errors
                        .iter()
                        .map(|e| e["message"].as_str().unwrap_or("unnamed error").to_string())
                        .collect();
                    RunOutcome::Failed {
                        reason: format!("Shopify {field} refused: {}", messages.join("; ")),
                    }
                }
            }
        }
    }
}

/// `Err` with the reason when `target` is not at the version the request
/// saw (or cannot be read): a change approved against one version must
/// not land on another.
async fn target_unchanged(
    client: &GraphqlClient,
    target: &str,
    seen: Option<&str>,
    stats: &mut GraphqlStats,
) -> Result<(), String> {
    let Some(seen) = seen else {
        return Err("the request recorded no version of its target".into());
    };
    let query = GraphqlQuery::new(
        "ApprovalTarget",
        "query ApprovalTarget($id: ID!) { node(id: $id) { id \
         ... on ProductVariant { updatedAt } ... on Product { updatedAt } ... on Order { updatedAt } } }",
        1,
    )
    .variable("id", target);
    let answer = client
        .execute(&query, stats)
        .await
        .map_err(|e| format!("could not read the target {target}: {e}"))?;
    let now = answer.data["node"]["updatedAt"]
        .as_str()
        .ok_or_else(|| format!("the target {target} no longer exists"))?;
    let same = match (now.parse::<Timestamp>(), seen.parse::<Timestamp>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => now == seen,
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "the target {target} changed since the request (updated at {now}; the request saw {seen}): \
             request again against its current state"
        ))
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[async_trait]
impl ActionRunner for Executor {
    fn check(&self, action: &Action, target_version: Option<&str>) -> Result<(), String> {
        match action {
            Action::Callback { platform, url, .. } => {
                let settings = self.platforms.get(platform).ok_or_else(|| {
                    format!("platform {platform:?} has no callback settings in [approvals]")
                })?;
                if !url.starts_with(&settings.url_prefix) {
                    return Err(format!(
                        "callback_url must start with {:?}, the prefix configured for {platform}",
                        settings.url_prefix
                    ));
                }
                Ok(())
            }
            Action::ShopifyVariantPrice { shop, .. } | Action::ShopifyRefund { shop, .. } => {
                if !self.shops.contains_key(shop) {
                    return Err(format!("no Shopify connection {shop:?}"));
                }
                if target_version.is_none() {
                    return Err(
                        "a Shopify change needs the target's version (its updatedAt)".into(),
                    );
                }
                Ok(())
            }
            Action::Manual => Ok(()),
            Action::SwitchFlagOn { .. } => {
                let Some(flags) = &self.flags else {
                    return Err("the flag service is not configured for approvals".into());
                };
                if target_version.is_none() {
                    return Err("a flag switch-on needs the flag's version at the request".into());
                }
                crate::flags::approval::check_action(action, (flags.clock)())
            }
        }
    }

    async fn closed(&self, approval: &Approval, action: &Action) -> Option<RunOutcome> {
        match action {
            Action::Callback {
                platform,
                url,
                payload,
            } => Some(self.callback(approval, platform, url, payload).await),
            _ => None,
        }
    }

    async fn run(&self, approval: &Approval, action: &Action) -> RunOutcome {
        match action {
            Action::Callback {
                platform,
                url,
                payload,
            } => self.callback(approval, platform, url, payload).await,
            Action::Manual => RunOutcome::Executed {
                note: format!("approved: {} makes the change", approval.requested_by),
            },
            Action::SwitchFlagOn { .. } => match &self.flags {
                Some(flags) => flags.apply(approval, action).await,
                None => RunOutcome::Failed {
                    reason: "the flag service is not configured for approvals".into(),
                },
            },
            _ => self.shopify(approval, action).await,
        }
    }
}
