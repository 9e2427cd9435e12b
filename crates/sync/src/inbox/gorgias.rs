//! Helpdesk events in the inbox: a stored `gorgias/*` event back to its
//! records, parsed again by the connector's pure check
//! ([`opsdeck_sources::gorgias::events::parse_event`]) and attributed by the
//! same [`GorgiasConnector`] the sync uses.

use crate::gorgias::GorgiasConnector;
use opsdeck_sources::gorgias::events::{parse_event, TOPIC_PREFIX};
use opsdeck_store::{AnyRecord, InboxEvent, Store, StoreError};

/// The records of one stored event, each with a label for the inbox's
/// note (`ticket 7`, `message 9`); the inner error says why the event
/// cannot be applied (it will not get better by retrying).
pub async fn apply(
    connector: &GorgiasConnector,
    store: &dyn Store,
    event: &InboxEvent,
) -> Result<Result<Vec<(AnyRecord, String)>, String>, StoreError> {
    let hint = event.topic.strip_prefix(TOPIC_PREFIX);
    let parsed = match parse_event(connector.source(), &event.body, hint) {
        Ok(parsed) => parsed,
        Err(reason) => return Ok(Err(reason)),
    };
    Ok(connector
        .event_records(store, &parsed)
        .await?
        .map(|records| {
            records
                .into_iter()
                .map(|r| {
                    let label = match &r {
                        AnyRecord::Ticket(t) => format!("ticket {}", t.external_id),
                        AnyRecord::TicketMessage(m) => format!("message {}", m.external_id),
                        other => format!("{:?}", other.kind()),
                    };
                    (r, label)
                })
                .collect()
        })
        .map_err(|e| e.to_string()))
}
