//! Documented payloads parse in both timestamp forms; a bad record is
//! rejected naming its id and field. No server needed.

use jiff::Timestamp;
use opsdeck_domain::SourceId;
use opsdeck_sources::gorgias::normalize::{message_from_json, survey_from_json, ticket_from_json};
use serde_json::json;

fn source() -> SourceId {
    SourceId::parse("gorgias").unwrap()
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
