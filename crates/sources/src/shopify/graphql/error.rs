//! [`GraphqlError`]: why a GraphQL Admin call failed. Transport and HTTP
//! status failures are the REST client's [`ShopifyError`] (built by the
//! same shared retry layer); what only GraphQL has — errors inside a 200
//! answer, the cost cap, bulk-operation refusals, JSONL files — is named
//! here. Like every connector error, none carries the token or a query
//! string of a URL.

use crate::http::{Failure, PlatformError};
use crate::shopify::ShopifyError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphqlError {
    /// The request failed at the HTTP level (status, timeout, transport,
    /// unreadable body), as for REST.
    #[error(transparent)]
    Http(#[from] ShopifyError),
    /// Refused before sending: Shopify rejects any query over the cap.
    #[error("query {operation} would cost {cost} points, over the single-query cap of {cap}")]
    OverCostCap {
        operation: String,
        cost: u32,
        cap: u32,
    },
    /// Shopify answered with `errors` (other than a throttle, which is
    /// waited out): a bad query, a missing scope (`ACCESS_DENIED`), …
    #[error("shopify refused {operation}: {code}: {message}")]
    Query {
        operation: String,
        /// `extensions.code` of the first error (`ACCESS_DENIED`,
        /// `MAX_COST_EXCEEDED`, …), or `GRAPHQL` when it named none.
        code: String,
        message: String,
    },
    /// A mutation answered `userErrors` (e.g. a bulk query refused because
    /// the shop already runs its maximum of bulk operations).
    #[error("shopify refused {operation}: {}", describe(.errors))]
    UserErrors {
        operation: String,
        errors: Vec<UserError>,
    },
    /// The answer lacked what the query asked for.
    #[error("shopify's answer to {operation} has no {what}")]
    Missing { operation: String, what: String },
    /// A bulk operation's result file could not be read.
    #[error("bulk result line {line}: {reason}")]
    Jsonl { line: u64, reason: String },
}

/// One entry of a mutation's `userErrors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct UserError {
    #[serde(default)]
    pub field: Option<Vec<String>>,
    pub message: String,
    /// e.g. `OPERATION_IN_PROGRESS` on `bulkOperationRunQuery`.
    #[serde(default)]
    pub code: Option<String>,
}

fn describe(errors: &[UserError]) -> String {
    errors
        .iter()
        .map(|e| match &e.code {
            Some(code) => format!("{code}: {}", e.message),
            None => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl GraphqlError {
    /// A bulk query refused because the shop already runs as many bulk
    /// operations as it may (five from 2026-01, one before), counting those
    /// other processes of the app started: wait for one to finish. Shopify
    /// says `OPERATION_IN_PROGRESS` where one may run, `LIMIT_REACHED`
    /// where five may.
    pub fn is_bulk_limit(&self) -> bool {
        matches!(self, GraphqlError::UserErrors { errors, .. }
            if errors.iter().any(|e| matches!(e.code.as_deref(), Some("OPERATION_IN_PROGRESS" | "LIMIT_REACHED"))))
    }

    /// Failures that need a person (token, scope, configuration, a query
    /// to rewrite) rather than another try.
    pub fn needs_attention(&self) -> bool {
        match self {
            GraphqlError::Http(e) => e.needs_attention(),
            GraphqlError::OverCostCap { .. } => true,
            GraphqlError::Query { code, .. } => code != "INTERNAL_SERVER_ERROR",
            _ => false,
        }
    }
}

impl PlatformError for GraphqlError {
    fn from_failure(failure: Failure, path: String) -> Self {
        GraphqlError::Http(ShopifyError::from_failure(failure, path))
    }

    fn with_attempts(self, attempts: u32) -> Self {
        match self {
            GraphqlError::Http(e) => GraphqlError::Http(e.with_attempts(attempts)),
            other => other,
        }
    }
}
