//! [`GraphqlClient`]: one POST to `/admin/api/{version}/graphql.json`, done
//! properly.
//!
//! The HTTP side is the REST client's, through the same shared layer
//! (`crate::http`): the same token header, the deadline and body cap of
//! each attempt, retries of 5xx, timeouts and bodies cut short, 429s waited
//! out, no retry of 401/403/404. What GraphQL adds:
//! - cost-based throttling through the shop's shared [`CostBucket`]: a
//!   query waits until the bucket holds its cost, every answer's
//!   `throttleStatus` resets the bucket, a query over the 1,000-point cap is
//!   refused before sending, and a `THROTTLED` answer (HTTP 200) waits
//!   `(cost − available) ÷ restoreRate` and is sent again;
//! - errors inside a 200 answer become a typed [`GraphqlError`];
//! - the answering `X-Shopify-API-Version` and any
//!   `X-Shopify-API-Deprecated-Reason` are kept (for /sources) and logged
//!   once per client.

use super::cost::{throttle_wait, CostBucket, QueryCost, ThrottleStatus, SINGLE_QUERY_MAX_COST};
use super::error::GraphqlError;
use super::query::{ConnectionPage, GraphqlQuery, PagedQuery};
use crate::http::{
    build_http_client, check_base_url, url_under, CallStats, Failure, PlatformError, RetryPacer,
    Setback,
};
use crate::shopify::client::TOKEN_HEADER;
use crate::shopify::headers::{VersionNotes, VersionReport};
use crate::shopify::{ShopifyError, ShopifySettings};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// The GraphQL Admin API version opsdeck is written against. Shopify
/// releases one a quarter and supports each for at least 12 months; an
/// expired one silently falls forward, which the answering-version check
/// reports. Review each quarter: read the release notes, move this, run the
/// fixture tests.
pub const GRAPHQL_API_VERSION: &str = "2026-01";

/// What one run's GraphQL calls cost, on top of the HTTP counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GraphqlStats {
    pub http: CallStats,
    /// `THROTTLED` answers received (each waited out, then sent again).
    pub throttled: u64,
    /// The wait computed from the last throttled answer.
    pub last_throttle_wait: Option<Duration>,
    /// Times a query waited for the shared bucket before it was sent.
    pub bucket_waits: u64,
    /// Points Shopify reported as actually spent.
    pub points_spent: f64,
}

/// A successful answer: `data`, and the cost Shopify reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub data: Value,
    pub cost: Option<QueryCost>,
}

/// How one answer is to be handled.
enum Outcome {
    Data(Answer),
    /// Wait this long, then send again; the bucket as the answer saw it.
    Throttled(Duration, Option<ThrottleStatus>),
}

/// A GraphQL Admin client for one shop. Share it behind an `Arc` among the
/// jobs of one shop, or give several clients of one shop the same bucket
/// ([`super::CostBuckets::for_shop`]): either way they draw on one budget.
#[derive(Debug)]
pub struct GraphqlClient {
    shop: ShopifySettings,
    endpoint: Url,
    http: reqwest::Client,
    /// For bulk result files: no whole-request deadline (a file of
    /// millions of lines takes longer than any one request may), only a
    /// deadline to connect and one between chunks ([`super::jsonl`]).
    download: reqwest::Client,
    token: HeaderValue,
    pacer: RetryPacer,
    bucket: Arc<CostBucket>,
    /// Shopify's `requestedQueryCost` of each operation, last time it ran.
    known_costs: Mutex<HashMap<String, u32>>,
    /// The version asked for, the answering version and the last
    /// deprecation notice, as the REST client keeps them.
    versions: VersionNotes,
}

impl GraphqlClient {
    /// A client for the shop of `shop` (base URL, token, deadlines, retries
    /// and body cap are the REST settings), asking for `api_version`
    /// ([`GRAPHQL_API_VERSION`] unless configured), metered by `bucket`.
    pub fn new(
        shop: ShopifySettings,
        api_version: &str,
        bucket: Arc<CostBucket>,
    ) -> Result<Self, GraphqlError> {
        let settings = |reason: String| GraphqlError::Http(ShopifyError::Settings(reason));
        check_base_url(&shop.base_url).map_err(settings)?;
        if !is_api_version(api_version) {
            return Err(settings(format!(
                "graphql api version {api_version:?} is not YYYY-MM or unstable"
            )));
        }
        let mut token = HeaderValue::from_str(shop.access_token.expose())
            .map_err(|_| settings("access token has characters not allowed in a header".into()))?;
        token.set_sensitive(true);
        let http = build_http_client(shop.request_timeout)
            .map_err(|e| settings(format!("http client: {e}")))?;
        let download = reqwest::Client::builder()
            .connect_timeout(shop.request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| settings(format!("download client: {e}")))?;
        let endpoint = url_under(
            &shop.base_url,
            &format!("/admin/api/{api_version}/graphql.json"),
            &[],
        );
        Ok(GraphqlClient {
            pacer: RetryPacer::with_limits(shop.retry_policy(), shop.transfer_limits()),
            endpoint,
            http,
            download,
            token,
            bucket,
            known_costs: Mutex::new(HashMap::new()),
            versions: VersionNotes::new(api_version),
            shop,
        })
    }

    pub fn shop(&self) -> &ShopifySettings {
        &self.shop
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The client for bulk result files (no token, no whole-request
    /// deadline).
    pub(super) fn download_client(&self) -> &reqwest::Client {
        &self.download
    }

    pub fn bucket(&self) -> &Arc<CostBucket> {
        &self.bucket
    }

    /// The version Shopify answered with, once an answer said.
    pub fn answered_api_version(&self) -> Option<String> {
        self.versions.answered()
    }

    /// The version asked for, the one that answered and the latest
    /// deprecation notice, for the sync run to record for /sources.
    pub fn version_report(&self) -> VersionReport {
        self.versions.report()
    }

    /// The last `X-Shopify-API-Deprecated-Reason` seen, for /sources.
    pub fn deprecation_notice(&self) -> Option<String> {
        self.versions.deprecation()
    }

    /// The cost the bucket and the cap check use for `query`: the larger of
    /// its estimate and what Shopify computed for it last time.
    pub fn expected_cost(&self, query: &GraphqlQuery) -> u32 {
        let known = self
            .known_costs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&query.operation)
            .copied()
            .unwrap_or(0);
        query.estimated_cost.max(known)
    }

    /// Sends `query` and answers its `data`, waiting for the bucket, out
    /// throttles and 429s, and retrying transient failures.
    pub async fn execute(
        &self,
        query: &GraphqlQuery,
        stats: &mut GraphqlStats,
    ) -> Result<Answer, GraphqlError> {
        let cost = self.expected_cost(query);
        if cost > SINGLE_QUERY_MAX_COST {
            return Err(GraphqlError::OverCostCap {
                operation: query.operation.clone(),
                cost,
                cap: SINGLE_QUERY_MAX_COST,
            });
        }
        let body = query.body();
        let path = self.endpoint.path();
        let side = Mutex::new(GraphqlStats::default());
        let (side_ref, body) = (&side, &body);
        let answer = self
            .pacer
            .send(path, &mut stats.http, move || async move {
                let reservation = self.bucket.acquire(f64::from(cost)).await;
                if !reservation.waited.is_zero() {
                    side_ref
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .bucket_waits += 1;
                }
                let request = self
                    .http
                    .post(self.endpoint.clone())
                    .header(TOKEN_HEADER, self.token.clone())
                    .header(ACCEPT, "application/json")
                    .header(CONTENT_TYPE, "application/json")
                    .json(body);
                let on_headers =
                    |headers: &HeaderMap| self.versions.note(headers, &self.shop.source, "graphql");
                let outcome = self
                    .pacer
                    .exchange(request, path, on_headers, |_, body| {
                        read_answer(body, &query.operation, path)
                    })
                    .await;
                let reported = match &outcome {
                    Ok(Outcome::Data(answer)) => answer.cost.and_then(|c| c.throttle_status),
                    Ok(Outcome::Throttled(_, status)) => *status,
                    Err(_) => None,
                };
                reservation.settle(reported.as_ref());
                match outcome {
                    Ok(Outcome::Data(answer)) => Ok(answer),
                    Ok(Outcome::Throttled(wait, _)) => {
                        let mut side = side_ref.lock().unwrap_or_else(|p| p.into_inner());
                        side.throttled += 1;
                        side.last_throttle_wait = Some(wait);
                        Err(Setback::RateLimited(Some(wait)))
                    }
                    Err(setback) => Err(setback),
                }
            })
            .await;
        let side = side.into_inner().unwrap_or_else(|p| p.into_inner());
        stats.throttled += side.throttled;
        stats.bucket_waits += side.bucket_waits;
        if side.last_throttle_wait.is_some() {
            stats.last_throttle_wait = side.last_throttle_wait;
        }
        let answer = answer?;
        if let Some(cost) = answer.cost {
            stats.points_spent += cost.actual_query_cost.unwrap_or(0.0);
            self.known_costs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(
                    query.operation.clone(),
                    cost.requested_query_cost.ceil() as u32,
                );
        }
        Ok(answer)
    }

    /// The access scopes the app holds on this shop
    /// (`currentAppInstallation.accessScopes`), for the checks a run makes
    /// before it reads: what is missing is hidden silently by Shopify.
    pub async fn granted_scopes(
        &self,
        stats: &mut GraphqlStats,
    ) -> Result<Vec<String>, GraphqlError> {
        let query = GraphqlQuery::new(
            "AccessScopes",
            "query AccessScopes { currentAppInstallation { accessScopes { handle } } }",
            2,
        );
        let answer = self.execute(&query, stats).await?;
        let missing = || GraphqlError::Missing {
            operation: "AccessScopes".into(),
            what: "`currentAppInstallation.accessScopes`".into(),
        };
        answer
            .data
            .pointer("/currentAppInstallation/accessScopes")
            .and_then(Value::as_array)
            .ok_or_else(missing)?
            .iter()
            .map(|s| {
                s.get("handle")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(missing)
            })
            .collect()
    }

    /// One page of a listing: `paged` after the cursor `after`.
    pub async fn page(
        &self,
        paged: &PagedQuery,
        after: Option<&str>,
        stats: &mut GraphqlStats,
    ) -> Result<ConnectionPage, GraphqlError> {
        let query = paged.page(after);
        let answer = self.execute(&query, stats).await?;
        ConnectionPage::at(&answer.data, &paged.path()).map_err(|what| GraphqlError::Missing {
            operation: query.operation.clone(),
            what,
        })
    }

    /// Every page of a listing, handed to `each` in order; stops at the
    /// last page or the first error (of a call or of `each`).
    pub async fn each_page<F>(
        &self,
        paged: &PagedQuery,
        stats: &mut GraphqlStats,
        mut each: F,
    ) -> Result<u64, GraphqlError>
    where
        F: FnMut(ConnectionPage) -> Result<(), GraphqlError>,
    {
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = self.page(paged, after.as_deref(), stats).await?;
            pages += 1;
            let next = page.next_cursor().map(str::to_string);
            each(page)?;
            match next {
                Some(cursor) => after = Some(cursor),
                None => return Ok(pages),
            }
        }
    }
}

/// `YYYY-MM` or `unstable`: the only shapes Shopify names versions with.
fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    v == "unstable"
        || (b.len() == 7
            && b[4] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || c.is_ascii_digit()))
}

/// The envelope of every answer.
#[derive(serde::Deserialize)]
struct Envelope {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<ErrorEntry>,
    extensions: Option<Extensions>,
}

#[derive(serde::Deserialize)]
struct Extensions {
    cost: Option<QueryCost>,
}

#[derive(serde::Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    message: String,
    extensions: Option<ErrorExtensions>,
}

#[derive(serde::Deserialize)]
struct ErrorExtensions {
    code: Option<String>,
}

/// Sorts one 200 answer: data, a throttle to wait out, a transient server
/// error to retry, or a refusal.
fn read_answer(body: &[u8], operation: &str, path: &str) -> Result<Outcome, Setback<GraphqlError>> {
    let envelope: Envelope = serde_json::from_slice(body).map_err(|e| {
        Setback::Transient(GraphqlError::from_failure(
            Failure::MalformedBody(e.to_string()),
            path.to_string(),
        ))
    })?;
    let cost = envelope.extensions.and_then(|e| e.cost);
    if let Some(first) = envelope.errors.first() {
        let code = first
            .extensions
            .as_ref()
            .and_then(|e| e.code.clone())
            .unwrap_or_else(|| "GRAPHQL".to_string());
        if envelope.errors.iter().any(|e| {
            e.extensions
                .as_ref()
                .is_some_and(|x| x.code.as_deref() == Some("THROTTLED"))
        }) {
            // Without a cost block there is nothing to compute from: one
            // second restores at least one point on any plan.
            let status = cost.and_then(|c| c.throttle_status);
            let wait = cost
                .zip(status)
                .map(|(c, s)| throttle_wait(c.requested_query_cost, &s))
                .unwrap_or(Duration::from_secs(1));
            return Ok(Outcome::Throttled(wait, status));
        }
        let error = GraphqlError::Query {
            operation: operation.to_string(),
            code: code.clone(),
            message: first.message.clone(),
        };
        return Err(if code == "INTERNAL_SERVER_ERROR" {
            Setback::Transient(error)
        } else {
            Setback::Fatal(error)
        });
    }
    match envelope.data {
        Some(data) if !data.is_null() => Ok(Outcome::Data(Answer { data, cost })),
        _ => Err(Setback::Transient(GraphqlError::from_failure(
            Failure::MalformedBody("no `data` and no `errors`".into()),
            path.to_string(),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_quarters_or_unstable() {
        assert!(is_api_version("2026-01"));
        assert!(is_api_version("unstable"));
        assert!(!is_api_version("2026-1"));
        assert!(!is_api_version("latest"));
        assert!(!is_api_version("2026/01"));
    }

    #[test]
    fn a_throttled_answer_waits_what_its_cost_block_says() {
        let body =
            include_bytes!("../../../../../fixtures/shopify/graphql/throttled_recorded.json");
        match read_answer(body, "X", "/p") {
            Ok(Outcome::Throttled(wait, _)) => assert_eq!(wait, Duration::from_millis(1450)),
            _ => panic!("not read as a throttle"),
        }
    }

    #[test]
    fn other_errors_are_refusals_and_internal_errors_are_retried() {
        let denied =
            br#"{"errors":[{"message":"Access denied","extensions":{"code":"ACCESS_DENIED"}}]}"#;
        assert!(matches!(
            read_answer(denied, "X", "/p"),
            Err(Setback::Fatal(GraphqlError::Query { code, .. })) if code == "ACCESS_DENIED"
        ));
        let internal =
            br#"{"errors":[{"message":"oops","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#;
        assert!(matches!(
            read_answer(internal, "X", "/p"),
            Err(Setback::Transient(_))
        ));
        assert!(matches!(
            read_answer(b"{\"data\":null}", "X", "/p"),
            Err(Setback::Transient(_))
        ));
    }
}
