//! Which stored records are about a request's person (or shop): the one
//! rule both an export and an erasure follow, so what is handed over and
//! what is erased cannot differ.
//!
//! - Directly: an order whose email, customer email or customer id is the
//!   person's, or that the platform named (`orders_to_redact`,
//!   `orders_requested`); the customer's lifetime summary; an abandoned
//!   checkout with their email or customer id; a helpdesk ticket whose
//!   customer has their email.
//! - Through those: the messages and satisfaction surveys of their
//!   tickets; the return requests, payment events, review items and
//!   tracking events of their orders.
//! - Customer ids and order ids are a platform's: they count only within
//!   the request's own source (a Shopify request's ids are that shop's);
//!   a request filed on the dashboard names ids of any source of its brand.
//! - Only the request's brand (and helpdesk records not yet attributed to
//!   a brand): `customers/redact` of one shop never reaches another
//!   brand's customers. A `shop/redact` takes every record of its source.
//!
//! The store's search ([`PrivacyStore::privacy_records`]) narrows by the
//! stored text first; this module decides exactly.

use opsdeck_domain::erasure::identifiers;
use opsdeck_domain::privacy::{DataSubject, PrivacyRequestKind, PrivacyVia};
use opsdeck_domain::{AnyRecord, SourceId};
use opsdeck_store::privacy::{PrivacyRequest, RecordScope};
use opsdeck_store::{PrivacyStore, StoreError};
use std::collections::HashSet;

/// The records of one request, in the store's order.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub records: Vec<AnyRecord>,
    /// Text that identifies the person wherever it appears: their email and
    /// phone as asked, and every name and email their records carry. An
    /// erasure wipes these from every other copy.
    pub needles: Vec<String>,
}

/// The source ids of the request count in: `None` for any source.
pub(crate) fn id_source(request: &PrivacyRequest) -> Option<SourceId> {
    match request.via {
        PrivacyVia::Dashboard => None,
        PrivacyVia::ShopifyWebhook | PrivacyVia::Ingest => SourceId::parse(&request.source).ok(),
    }
}

struct Matcher<'a> {
    subject: &'a DataSubject,
    id_source: Option<SourceId>,
}

impl Matcher<'_> {
    fn same_source(&self, record: &AnyRecord) -> bool {
        self.id_source.as_ref().is_none_or(|s| s == record.source())
    }

    fn is_customer(&self, record: &AnyRecord, id: Option<&str>) -> bool {
        self.same_source(record)
            && matches!((&self.subject.customer_id, id), (Some(a), Some(b)) if a == b)
    }

    fn is_named_order(&self, record: &AnyRecord, id: &str) -> bool {
        self.same_source(record) && self.subject.order_ids.iter().any(|o| o == id)
    }

    /// Whether `record` is the person's directly (not through a ticket or
    /// an order).
    fn owns(&self, record: &AnyRecord) -> bool {
        let s = self.subject;
        match record {
            AnyRecord::Order(o) => {
                s.has_email(o.email.as_deref())
                    || o.customer.as_ref().is_some_and(|c| {
                        s.has_email(c.email.as_deref())
                            || self.is_customer(record, Some(&c.external_id))
                    })
                    || self.is_named_order(record, &o.external_id)
            }
            AnyRecord::CustomerSummary(c) => {
                s.has_email(c.email.as_deref()) || self.is_customer(record, Some(&c.external_id))
            }
            AnyRecord::AbandonedCheckout(c) => {
                s.has_email(c.email.as_deref())
                    || self.is_customer(record, c.customer_id.as_deref())
            }
            AnyRecord::Ticket(t) => t
                .customer
                .as_ref()
                .is_some_and(|c| s.has_email(c.email.as_deref())),
            _ => false,
        }
    }
}

/// Identifiers of one kind of parent (tickets, orders) by source.
type Parents = HashSet<(SourceId, String)>;

fn linked(record: &AnyRecord, tickets: &Parents, orders: &Parents) -> bool {
    let key = |id: &str| (record.source().clone(), id.to_string());
    match record {
        AnyRecord::TicketMessage(m) => tickets.contains(&key(&m.ticket_id)),
        AnyRecord::SatisfactionSurvey(v) => tickets.contains(&key(&v.ticket_id)),
        AnyRecord::ReturnRequest(r) => r
            .order_id
            .as_deref()
            .is_some_and(|o| orders.contains(&key(o))),
        AnyRecord::PaymentEvent(p) => p
            .order_id
            .as_deref()
            .is_some_and(|o| orders.contains(&key(o))),
        AnyRecord::ReviewItem(r) => r
            .order_id
            .as_deref()
            .is_some_and(|o| orders.contains(&key(o))),
        AnyRecord::TrackingEvent(t) => t
            .order_id
            .as_deref()
            .is_some_and(|o| orders.contains(&key(o))),
        _ => false,
    }
}

/// Every record of `request`'s person (or shop), and the text that
/// identifies them.
pub async fn find(store: &dyn PrivacyStore, request: &PrivacyRequest) -> Result<Found, StoreError> {
    if request.kind == PrivacyRequestKind::ShopErasure {
        let source = SourceId::parse(&request.source).ok();
        let records = match source {
            // Every record the shop's source brought, of its brand.
            Some(source) => {
                store
                    .privacy_records(&RecordScope {
                        source: Some(source),
                        brand: request.brand.clone(),
                        needles: Vec::new(),
                    })
                    .await?
            }
            None => Vec::new(),
        };
        let mut needles = Vec::new();
        for r in &records {
            identifiers(r, &mut needles);
        }
        return Ok(Found {
            records,
            needles: tidy(needles),
        });
    }
    let subject = &request.subject;
    let matcher = Matcher {
        subject,
        id_source: id_source(request),
    };
    let mut needles: Vec<String> = [
        &subject.email,
        &subject.phone,
        &subject.name,
        &subject.customer_id,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    needles.extend(subject.order_ids.iter().cloned());
    let scope = |needles: Vec<String>| RecordScope {
        source: None,
        brand: request.brand.clone(),
        needles,
    };
    let direct: Vec<AnyRecord> = store
        .privacy_records(&scope(needles))
        .await?
        .into_iter()
        .filter(|r| matcher.owns(r))
        .collect();
    let mut tickets = Parents::new();
    let mut orders = Parents::new();
    for r in &direct {
        match r {
            AnyRecord::Ticket(t) => {
                tickets.insert((t.source.clone(), t.external_id.clone()));
            }
            AnyRecord::Order(o) => {
                orders.insert((o.source.clone(), o.external_id.clone()));
            }
            _ => {}
        }
    }
    let parent_ids: Vec<String> = tickets
        .iter()
        .chain(&orders)
        .map(|(_, id)| id.clone())
        .collect();
    let mut records = direct;
    if !parent_ids.is_empty() {
        let mut seen: HashSet<_> = records.iter().map(AnyRecord::key).collect();
        for r in store.privacy_records(&scope(parent_ids)).await? {
            if linked(&r, &tickets, &orders) && seen.insert(r.key()) {
                records.push(r);
            }
        }
    }
    let mut ids: Vec<String> = [&subject.email, &subject.phone, &subject.name]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    for r in &records {
        identifiers(r, &mut ids);
    }
    Ok(Found {
        records,
        needles: tidy(ids),
    })
}

/// Needles without duplicates, tombstones or text too short to be safe.
fn tidy(mut needles: Vec<String>) -> Vec<String> {
    needles.retain(|n| n.trim().len() >= 3 && n != opsdeck_domain::privacy::TOMBSTONE);
    needles.sort();
    needles.dedup();
    needles
}
