//! Deciding a return request from opsdeck's refunds queue:
//! `returnApproveRequest` and `returnDeclineRequest` (scope
//! `write_returns`). Their inputs as Shopify documents them:
//! `ReturnApproveRequestInput {id, notifyCustomer}` and
//! `ReturnDeclineRequestInput {id, declineReason, declineNote,
//! notifyCustomer}` (`notifyCustomer` defaults to false; the customer is
//! told only when the order has an e-mail; a note is at most 500
//! characters). A return that is not REQUESTED any more answers
//! `userErrors`, returned as [`GraphqlError::UserErrors`] with Shopify's
//! codes; the return as it now stands comes back otherwise.

use super::client::{GraphqlClient, GraphqlStats};
use super::error::{GraphqlError, UserError};
use super::query::GraphqlQuery;
use serde_json::{json, Value};

/// The scope deciding a return needs.
pub const WRITE_RETURNS: &str = "write_returns";
/// What /sources and the queue's disabled buttons say of a shop whose
/// token lacks [`WRITE_RETURNS`].
pub const MISSING_WRITE_RETURNS: &str = "missing access scope write_returns: returns cannot be \
     approved or declined from the refunds queue; grant it to the app in Shopify admin";

/// The longest decline note Shopify takes.
pub const MAX_DECLINE_NOTE: usize = 500;

/// Shopify's `ReturnDeclineReason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineReason {
    ReturnPeriodEnded,
    FinalSale,
    Other,
}

impl DeclineReason {
    pub const ALL: [DeclineReason; 3] = [
        DeclineReason::ReturnPeriodEnded,
        DeclineReason::FinalSale,
        DeclineReason::Other,
    ];

    /// The enum value Shopify takes.
    pub fn as_graphql(self) -> &'static str {
        match self {
            DeclineReason::ReturnPeriodEnded => "RETURN_PERIOD_ENDED",
            DeclineReason::FinalSale => "FINAL_SALE",
            DeclineReason::Other => "OTHER",
        }
    }

    /// The form's spelling (`return_period_ended`).
    pub fn parse(s: &str) -> Option<DeclineReason> {
        DeclineReason::ALL
            .into_iter()
            .find(|r| r.as_graphql().eq_ignore_ascii_case(s))
    }
}

/// What a decided return looks like afterwards: its id and Shopify's
/// `ReturnStatus` (OPEN once approved, DECLINED once declined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedReturn {
    pub id: String,
    pub status: String,
}

const RETURN_FIELDS: &str = "return { id status } userErrors { field message code }";

impl GraphqlClient {
    /// Approves return `return_gid` (`gid://shopify/Return/…`).
    pub async fn approve_return(
        &self,
        return_gid: &str,
        notify_customer: bool,
        stats: &mut GraphqlStats,
    ) -> Result<DecidedReturn, GraphqlError> {
        let document = format!(
            "mutation ReturnApproveRequest($input: ReturnApproveRequestInput!) {{ \
             returnApproveRequest(input: $input) {{ {RETURN_FIELDS} }} }}"
        );
        let input = json!({ "id": return_gid, "notifyCustomer": notify_customer });
        self.decide_return(
            "ReturnApproveRequest",
            "returnApproveRequest",
            &document,
            input,
            stats,
        )
        .await
    }

    /// Declines return `return_gid` for `reason`, with `note` for the
    /// customer (cut to [`MAX_DECLINE_NOTE`] characters).
    pub async fn decline_return(
        &self,
        return_gid: &str,
        reason: DeclineReason,
        note: Option<&str>,
        notify_customer: bool,
        stats: &mut GraphqlStats,
    ) -> Result<DecidedReturn, GraphqlError> {
        let document = format!(
            "mutation ReturnDeclineRequest($input: ReturnDeclineRequestInput!) {{ \
             returnDeclineRequest(input: $input) {{ {RETURN_FIELDS} }} }}"
        );
        let mut input = json!({
            "id": return_gid,
            "declineReason": reason.as_graphql(),
            "notifyCustomer": notify_customer,
        });
        if let Some(note) = note.map(str::trim).filter(|n| !n.is_empty()) {
            input["declineNote"] =
                Value::from(note.chars().take(MAX_DECLINE_NOTE).collect::<String>());
        }
        self.decide_return(
            "ReturnDeclineRequest",
            "returnDeclineRequest",
            &document,
            input,
            stats,
        )
        .await
    }

    async fn decide_return(
        &self,
        operation: &str,
        field: &str,
        document: &str,
        input: Value,
        stats: &mut GraphqlStats,
    ) -> Result<DecidedReturn, GraphqlError> {
        // A mutation costs 10 points.
        let request = GraphqlQuery::new(operation, document, 10).variable("input", input);
        let answer = self.execute(&request, stats).await?;
        let missing = |what: &str| GraphqlError::Missing {
            operation: operation.into(),
            what: what.into(),
        };
        let payload = answer
            .data
            .get(field)
            .filter(|p| !p.is_null())
            .ok_or_else(|| missing(&format!("`{field}`")))?;
        let errors: Vec<UserError> = match payload.get("userErrors") {
            Some(list) => serde_json::from_value(list.clone())
                .map_err(|e| missing(&format!("readable `userErrors` ({e})")))?,
            None => Vec::new(),
        };
        if !errors.is_empty() {
            return Err(GraphqlError::UserErrors {
                operation: operation.into(),
                errors,
            });
        }
        let text = |key: &str| {
            payload
                .pointer(&format!("/return/{key}"))
                .and_then(Value::as_str)
                .map(String::from)
                .ok_or_else(|| missing(&format!("`return.{key}`")))
        };
        Ok(DecidedReturn {
            id: text("id")?,
            status: text("status")?,
        })
    }
}
