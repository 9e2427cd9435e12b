//! Turns validated records into the one batch the store commits, applying
//! order status changes and fulfillments to the order they update, and
//! review events to the review item they are about.
//!
//! A partial update needs the current order: the newest of the stored copy
//! (same source) and any copy earlier in the same batch. The result is
//! written back as the whole order, in input order, so two changes of one
//! order in one batch apply one after the other. Reading the order and
//! writing it back happen under a process-wide lock held until the batch is
//! committed, so two requests of this process cannot interleave and lose a
//! change.
//!
//! Review events work the same way on review items: the newest copy (the
//! stored one, then each event of the batch in turn) takes the event
//! ([`opsdeck_domain::ReviewEvent::apply_to`]); an event for an item not
//! stored yet starts it, so a platform need not send the item first. (Instances sharing one PostgreSQL serialize on nothing here; the
//! store's newer-wins rule still keeps the newest change.)

use opsdeck_domain::{Applied, Order, ReviewItem, SourceId};
use opsdeck_sources::ingest::{Parsed, RecordError};
use opsdeck_store::{AnyRecord, Store, StoreError};
use std::collections::HashMap;
use tokio::sync::{Mutex, MutexGuard};

static PARTIAL_UPDATES: Mutex<()> = Mutex::const_new(());

/// One input record's place in the answer.
#[derive(Debug)]
pub struct Slot {
    pub external_id: String,
    /// A partial update older than the order: not sent to the store.
    pub stale: bool,
}

/// A batch ready to commit.
#[derive(Debug)]
pub struct Planned {
    /// What to upsert, one per non-stale slot, in input order.
    pub records: Vec<AnyRecord>,
    pub slots: Vec<Slot>,
    /// Held until the batch is committed when it has partial updates: drop
    /// it after the commit.
    pub guard: Option<MutexGuard<'static, ()>>,
}

/// Why a batch could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Reading an order for a partial update failed.
    #[error("reading an order for a partial update failed: {0}")]
    Store(#[from] StoreError),
    /// Funnel events are counted into session-days
    /// ([`crate::ingest::funnel`]), never stored as records: a caller's
    /// mistake, refused whole.
    #[error("records[{index}] is a funnel event, which is not stored as a record")]
    NotRecords { index: usize },
    /// Partial updates of orders not stored under the source: every one
    /// named; nothing is stored.
    #[error("{message}")]
    MissingOrders {
        message: String,
        errors: Vec<RecordError>,
    },
}

fn order_id_of(p: &Parsed) -> Option<&str> {
    match p {
        Parsed::StatusChange(c) => Some(&c.order_id),
        Parsed::Fulfillment(f) => Some(&f.order_id),
        Parsed::Record(_) | Parsed::ReviewEvent(_) | Parsed::FunnelEvent(_) => None,
    }
}

fn review_id_of(p: &Parsed) -> Option<&str> {
    match p {
        Parsed::ReviewEvent(e) => Some(&e.external_id),
        _ => None,
    }
}

/// Plans `parsed` (validated records of `source`) into the records to
/// commit, applying each partial update to the newest copy of its order.
pub async fn plan(
    store: &dyn Store,
    source: &SourceId,
    parsed: Vec<Parsed>,
) -> Result<Planned, PlanError> {
    let ids = |of: fn(&Parsed) -> Option<&str>| {
        let mut ids: Vec<String> = parsed.iter().filter_map(of).map(String::from).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    if let Some(index) = parsed
        .iter()
        .position(|p| matches!(p, Parsed::FunnelEvent(_)))
    {
        return Err(PlanError::NotRecords { index });
    }
    let wanted = ids(order_id_of);
    let reviews = ids(review_id_of);
    if wanted.is_empty() && reviews.is_empty() {
        let slots = parsed
            .iter()
            .map(|p| Slot {
                external_id: match p {
                    Parsed::Record(r) => r.external_id().to_string(),
                    _ => unreachable!("no partial updates in this batch"),
                },
                stale: false,
            })
            .collect();
        let records = parsed
            .into_iter()
            .filter_map(|p| match p {
                Parsed::Record(r) => Some(r),
                _ => None,
            })
            .collect();
        return Ok(Planned {
            records,
            slots,
            guard: None,
        });
    }
    let guard = PARTIAL_UPDATES.lock().await;
    let mut current: HashMap<String, Order> = HashMap::new();
    for id in &wanted {
        let stored = store.get_order(source, id).await?;
        if let Some(order) = stored {
            current.insert(id.clone(), order);
        }
    }
    let mut items: HashMap<String, ReviewItem> = HashMap::new();
    for id in &reviews {
        if let Some(item) = store.get_review_item(source, id).await? {
            items.insert(id.clone(), item);
        }
    }
    let mut records = Vec::with_capacity(parsed.len());
    let mut slots = Vec::with_capacity(parsed.len());
    let mut missing = Vec::new();
    for (index, p) in parsed.into_iter().enumerate() {
        let (order_id, applied) = match &p {
            Parsed::Record(AnyRecord::Order(o)) => {
                let newer = current
                    .get(&o.external_id)
                    .is_none_or(|c| c.updated_at <= o.updated_at);
                if newer {
                    current.insert(o.external_id.clone(), o.clone());
                }
                slots.push(Slot {
                    external_id: o.external_id.clone(),
                    stale: false,
                });
                records.push(AnyRecord::Order(o.clone()));
                continue;
            }
            Parsed::ReviewEvent(e) => {
                let item = e.apply_to(items.get(&e.external_id));
                items.insert(e.external_id.clone(), item.clone());
                slots.push(Slot {
                    external_id: e.external_id.clone(),
                    stale: false,
                });
                records.push(AnyRecord::ReviewItem(item));
                continue;
            }
            Parsed::Record(r) => {
                slots.push(Slot {
                    external_id: r.external_id().to_string(),
                    stale: false,
                });
                records.push(r.clone());
                continue;
            }
            Parsed::StatusChange(c) => (
                c.order_id.clone(),
                current.get_mut(&c.order_id).map(|o| c.apply_to(o)),
            ),
            Parsed::Fulfillment(f) => (
                f.order_id.clone(),
                current.get_mut(&f.order_id).map(|o| f.apply_to(o)),
            ),
            Parsed::FunnelEvent(_) => return Err(PlanError::NotRecords { index }),
        };
        match applied {
            None => missing.push(RecordError {
                index,
                field: format!("records[{index}].order_id"),
                reason: format!(
                    "no order {order_id:?} from source {source}; send the order to \
                     /api/v1/ingest/orders first"
                ),
            }),
            Some(Applied::Stale) => slots.push(Slot {
                external_id: order_id,
                stale: true,
            }),
            Some(Applied::Applied) => {
                records.push(AnyRecord::Order(current[&order_id].clone()));
                slots.push(Slot {
                    external_id: order_id,
                    stale: false,
                });
            }
        }
    }
    if !missing.is_empty() {
        return Err(PlanError::MissingOrders {
            message: format!(
                "{} records update orders that do not exist; nothing was stored",
                missing.len()
            ),
            errors: missing,
        });
    }
    Ok(Planned {
        records,
        slots,
        guard: Some(guard),
    })
}
