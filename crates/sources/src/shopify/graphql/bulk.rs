//! Bulk operations: start a bulk query, follow it, cancel it.
//!
//! A bulk query runs on Shopify's side and leaves a JSONL file at `url`
//! (or, when it failed part way, at `partialDataUrl`); both links expire
//! after 7 days. Since 2026-01 a shop runs up to five bulk queries at once
//! (one before), counting those started by other processes of the same app,
//! and `currentBulkOperation` is deprecated in favour of looking one up by
//! id: [`GraphqlClient::bulk_operation`] uses `node(id:)`, which every
//! version answers. Reading the file is [`super::jsonl`]'s job.

use super::client::{GraphqlClient, GraphqlStats};
use super::error::{GraphqlError, UserError};
use super::query::GraphqlQuery;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// The fields asked of every bulk operation.
const FIELDS: &str =
    "id status errorCode createdAt completedAt objectCount fileSize url partialDataUrl";

/// Where a bulk operation stands (`BulkOperationStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkStatus {
    Created,
    Running,
    Completed,
    Canceling,
    Canceled,
    Failed,
    /// Its result links have expired (7 days after it finished).
    Expired,
    /// A status this version of opsdeck does not know, kept verbatim.
    Other(String),
}

impl BulkStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "CREATED" => BulkStatus::Created,
            "RUNNING" => BulkStatus::Running,
            "COMPLETED" => BulkStatus::Completed,
            "CANCELING" => BulkStatus::Canceling,
            "CANCELED" => BulkStatus::Canceled,
            "FAILED" => BulkStatus::Failed,
            "EXPIRED" => BulkStatus::Expired,
            other => BulkStatus::Other(other.to_string()),
        }
    }

    /// Whether the operation will not change any more. An unknown status
    /// counts as still going, so polling goes on rather than reading a
    /// file that may not be there.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            BulkStatus::Completed | BulkStatus::Canceled | BulkStatus::Failed | BulkStatus::Expired
        )
    }
}

/// One bulk operation as Shopify reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    /// `gid://shopify/BulkOperation/…`
    pub id: String,
    pub status: BulkStatus,
    /// Why it failed (`ACCESS_DENIED`, `INTERNAL_SERVER_ERROR`, `TIMEOUT`).
    pub error_code: Option<String>,
    pub created_at: Option<jiff::Timestamp>,
    pub completed_at: Option<jiff::Timestamp>,
    /// Objects written so far (every line of the file, children included):
    /// what a backfill must have stored before it moves its watermark.
    pub object_count: u64,
    pub file_size: Option<u64>,
    /// The result file once it completed; `None` when it produced nothing.
    pub url: Option<Url>,
    /// What it wrote before it failed.
    pub partial_data_url: Option<Url>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOperation {
    id: String,
    status: String,
    error_code: Option<String>,
    created_at: Option<jiff::Timestamp>,
    completed_at: Option<jiff::Timestamp>,
    /// `UnsignedInt64`: a JSON string (a number is accepted too).
    object_count: Option<Value>,
    file_size: Option<Value>,
    url: Option<String>,
    partial_data_url: Option<String>,
}

impl BulkOperation {
    /// Reads one `BulkOperation` object of an answer.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let wire: WireOperation =
            serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        let url = |s: Option<String>| -> Result<Option<Url>, String> {
            s.map(|s| Url::parse(&s).map_err(|e| format!("url {e}")))
                .transpose()
        };
        Ok(BulkOperation {
            id: wire.id,
            status: BulkStatus::parse(&wire.status),
            error_code: wire.error_code,
            created_at: wire.created_at,
            completed_at: wire.completed_at,
            object_count: unsigned(wire.object_count.as_ref())?.unwrap_or(0),
            file_size: unsigned(wire.file_size.as_ref())?,
            url: url(wire.url)?,
            partial_data_url: url(wire.partial_data_url)?,
        })
    }
}

/// A `bulk_operations/finish` webhook: which operation finished and how.
/// The payload is flat (`admin_graphql_api_id`, `status` in lower case,
/// `error_code`, `type`, the two times); only what tells a waiting
/// backfill to look is read: the backfill then asks the operation itself,
/// so nothing here is trusted beyond "look now".
#[derive(Debug, Clone, PartialEq)]
pub struct BulkFinished {
    /// `gid://shopify/BulkOperation/…`
    pub operation: String,
    pub status: BulkStatus,
    pub error_code: Option<String>,
}

impl BulkFinished {
    /// Reads the webhook's body; the error names the missing field.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let operation = value
            .get("admin_graphql_api_id")
            .and_then(Value::as_str)
            .filter(|id| id.starts_with("gid://shopify/BulkOperation/"))
            .ok_or("field `admin_graphql_api_id`: missing or not a BulkOperation id")?;
        let status = value
            .get("status")
            .and_then(Value::as_str)
            .ok_or("field `status`: missing")?;
        Ok(BulkFinished {
            operation: operation.to_string(),
            // The webhook spells the API's statuses in lower case.
            status: BulkStatus::parse(&status.to_ascii_uppercase()),
            error_code: value
                .get("error_code")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

/// An `UnsignedInt64` field: Shopify sends it as a string.
pub(crate) fn unsigned(value: Option<&Value>) -> Result<Option<u64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| format!("{s:?} is not a count")),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{n} is not a count")),
        Some(other) => Err(format!("{other} is not a count")),
    }
}

/// A mutation's payload: the operation and the `userErrors`.
fn payload(
    data: &Value,
    field: &str,
    operation: &str,
) -> Result<Option<BulkOperation>, GraphqlError> {
    let payload = data.get(field).ok_or_else(|| GraphqlError::Missing {
        operation: operation.to_string(),
        what: format!("`{field}`"),
    })?;
    let errors: Vec<UserError> = match payload.get("userErrors") {
        Some(list) => serde_json::from_value(list.clone()).map_err(|e| GraphqlError::Missing {
            operation: operation.to_string(),
            what: format!("readable `userErrors` ({e})"),
        })?,
        None => Vec::new(),
    };
    if !errors.is_empty() {
        return Err(GraphqlError::UserErrors {
            operation: operation.to_string(),
            errors,
        });
    }
    operation_at(payload.get("bulkOperation"), operation)
}

fn operation_at(
    value: Option<&Value>,
    operation: &str,
) -> Result<Option<BulkOperation>, GraphqlError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => BulkOperation::from_json(v)
            .map(Some)
            .map_err(|reason| GraphqlError::Missing {
                operation: operation.to_string(),
                what: format!("readable bulk operation ({reason})"),
            }),
    }
}

impl GraphqlClient {
    /// Starts a bulk query of `query` (a query document with one or more
    /// connections, at most five, nested at most two deep). A refusal — the
    /// shop already runs its maximum, or the query is not fit for bulk —
    /// is a [`GraphqlError::UserErrors`] naming Shopify's code.
    pub async fn run_bulk_query(
        &self,
        query: &str,
        stats: &mut GraphqlStats,
    ) -> Result<BulkOperation, GraphqlError> {
        let document = format!(
            "mutation BulkRunQuery($query: String!) {{ bulkOperationRunQuery(query: $query) {{ \
             bulkOperation {{ {FIELDS} }} userErrors {{ field message code }} }} }}"
        );
        // A mutation costs 10 points.
        let request = GraphqlQuery::new("BulkRunQuery", &document, 10).variable("query", query);
        let answer = self.execute(&request, stats).await?;
        payload(&answer.data, "bulkOperationRunQuery", "BulkRunQuery")?.ok_or_else(|| {
            GraphqlError::Missing {
                operation: "BulkRunQuery".into(),
                what: "`bulkOperation`".into(),
            }
        })
    }

    /// The bulk operation `id` as it stands now (`node(id:)`); `None` when
    /// Shopify knows no such operation.
    pub async fn bulk_operation(
        &self,
        id: &str,
        stats: &mut GraphqlStats,
    ) -> Result<Option<BulkOperation>, GraphqlError> {
        let document = format!(
            "query BulkOperationNode($id: ID!) {{ node(id: $id) {{ ... on BulkOperation {{ {FIELDS} }} }} }}"
        );
        let request = GraphqlQuery::new("BulkOperationNode", &document, 1).variable("id", id);
        let answer = self.execute(&request, stats).await?;
        operation_at(answer.data.get("node"), "BulkOperationNode")
    }

    /// The app's most recent bulk query on this shop
    /// (`currentBulkOperation`, deprecated since 2026-01 but still served):
    /// how a restarted backfill finds the operation it started before.
    pub async fn current_bulk_operation(
        &self,
        stats: &mut GraphqlStats,
    ) -> Result<Option<BulkOperation>, GraphqlError> {
        let document = format!(
            "query CurrentBulkOperation {{ currentBulkOperation(type: QUERY) {{ {FIELDS} }} }}"
        );
        let request = GraphqlQuery::new("CurrentBulkOperation", &document, 1);
        let answer = self.execute(&request, stats).await?;
        operation_at(
            answer.data.get("currentBulkOperation"),
            "CurrentBulkOperation",
        )
    }

    /// Asks Shopify to cancel the bulk operation `id`; it answers the
    /// operation (usually `CANCELING` at first).
    pub async fn cancel_bulk_operation(
        &self,
        id: &str,
        stats: &mut GraphqlStats,
    ) -> Result<Option<BulkOperation>, GraphqlError> {
        let document = format!(
            "mutation BulkCancel($id: ID!) {{ bulkOperationCancel(id: $id) {{ \
             bulkOperation {{ {FIELDS} }} userErrors {{ field message }} }} }}"
        );
        let request = GraphqlQuery::new("BulkCancel", &document, 10).variable("id", id);
        let answer = self.execute(&request, stats).await?;
        payload(&answer.data, "bulkOperationCancel", "BulkCancel")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_are_kept_and_not_finished() {
        assert_eq!(BulkStatus::parse("COMPLETED"), BulkStatus::Completed);
        let odd = BulkStatus::parse("PAUSED");
        assert_eq!(odd, BulkStatus::Other("PAUSED".into()));
        assert!(!odd.is_finished());
        assert!(BulkStatus::Expired.is_finished());
    }

    #[test]
    fn counts_come_as_strings_or_numbers() {
        assert_eq!(unsigned(Some(&Value::from("57"))), Ok(Some(57)));
        assert_eq!(unsigned(Some(&Value::from(57))), Ok(Some(57)));
        assert_eq!(unsigned(Some(&Value::Null)), Ok(None));
        assert!(unsigned(Some(&Value::from("-1"))).is_err());
    }
}
