//! A listing the server did not sort as asked is read to its end, so no
//! changed ticket below the floor hides one above it.

use super::script::{client, fake_gorgias, Answer};
use opsdeck_sync::{sync_gorgias, GorgiasConnector, GorgiasResource};
use std::sync::Arc;

fn ticket(id: u64, updated: &str) -> String {
    format!(
        r#"{{"id":{id},"status":"open","channel":"email","via":"email","created_datetime":"2026-05-04T09:00:00.000000","updated_datetime":"{updated}","tags":[]}}"#
    )
}

fn page(records: &[String], next: Option<&str>) -> Answer {
    let next = next.map_or("null".to_string(), |n| format!("{n:?}"));
    let body = format!(
        r#"{{"object":"list","data":[{}],"meta":{{"prev_cursor":null,"next_cursor":{next}}}}}"#,
        records.join(",")
    );
    (200, vec![], body)
}

#[tokio::test]
async fn a_listing_not_newest_first_is_read_to_the_end() {
    use opsdeck_store::AnyRecord;

    // Tickets only: messages are a list of their own, read by their run.
    let (base, script) = fake_gorgias(vec![
        // Backfill: one ticket changed at 10:00 becomes the watermark.
        page(&[ticket(1, "2026-05-04T10:00:00.000000")], None),
        // Next run (floor 09:55): the server ignored order_by. Page one
        // holds a ticket below the floor between two newer ones...
        page(
            &[
                ticket(2, "2026-05-04T12:00:00.000000+00:00"),
                ticket(9, "2026-05-04T08:00:00.000000"),
                ticket(3, "2026-05-04T11:00:00.000000"),
            ],
            Some("c2"),
        ),
        // ... and page two one more changed ticket, which must not be lost.
        page(&[ticket(4, "2026-05-04T11:30:00.000000")], None),
    ])
    .await;
    let backend = opsdeck_store::testing::sqlite_store().await;
    let store = backend.store.clone();
    let connector = GorgiasConnector::new(Arc::new(client(&base)), vec![], vec![]);
    let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
    sync_gorgias(
        &connector,
        store.as_ref(),
        GorgiasResource::Tickets,
        at("2026-05-04T10:30:00Z"),
    )
    .await
    .unwrap();
    let run = sync_gorgias(
        &connector,
        store.as_ref(),
        GorgiasResource::Tickets,
        at("2026-05-04T13:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(run.pages, 2, "{run:?}");
    assert_eq!(run.watermark, Some(at("2026-05-04T12:00:00Z")));
    let mut ids: Vec<String> = store
        .changes_since(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| match c.record {
            AnyRecord::Ticket(t) => Some(t.external_id),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[2].0.contains("cursor=c2"), "{seen:?}");
}
