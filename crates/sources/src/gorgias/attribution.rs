//! Which brand a ticket belongs to.
//!
//! The merchant runs one Gorgias helpdesk for all brands, so a ticket does
//! not say its brand: configured rules decide, first match wins. A rule
//! claims a ticket for its brand when any of its tags is on the ticket, or a
//! customer wrote to one of its receiving addresses or through one of its
//! integrations. A "linked order" rule gives the brand of the order the
//! ticket is about: an order name the ticket quotes ("Where is my order
//! #1042?") that exists for exactly one brand, or else the most recent order
//! of the customer's email. A ticket no rule claims keeps `brand: None`, the
//! visible "unattributed" bucket; it is stored and counted, never dropped.
//! Messages and surveys inherit their ticket's brand.

use super::normalize::MessageRouting;
use opsdeck_domain::{BrandId, Order, Ticket, TicketMessage, Timestamp};
use std::collections::{BTreeSet, HashMap};

/// One `[[gorgias.attribution]]` rule. Every list is "any of"; an empty
/// list matches nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttributionRule {
    /// The brand claimed; `None` only for a linked-order rule (the order's
    /// brand is taken).
    pub brand: Option<BrandId>,
    /// Tag names, compared without case.
    pub tags: Vec<String>,
    /// Helpdesk addresses customers write to, compared without case.
    pub receiving_addresses: Vec<String>,
    /// Gorgias integration ids (an email inbox, a chat, a social page).
    pub integration_ids: Vec<String>,
    /// Take the brand of the order the ticket is about.
    pub linked_order: bool,
}

/// What is known of the shops' orders, to link tickets to them.
#[derive(Debug, Clone, Default)]
pub struct OrderIndex {
    /// Order name ("#1042") to the brands that have an order of that name.
    by_name: HashMap<String, BTreeSet<BrandId>>,
    /// Lowercased email to the brand of that customer's most recent order.
    latest_by_email: HashMap<String, (Timestamp, BrandId)>,
}

impl OrderIndex {
    pub fn from_orders<'a>(orders: impl IntoIterator<Item = &'a Order>) -> Self {
        let mut index = OrderIndex::default();
        for order in orders {
            index
                .by_name
                .entry(order.name.trim().to_string())
                .or_default()
                .insert(order.brand.clone());
            let email = order
                .email
                .as_deref()
                .or(order.customer.as_ref().and_then(|c| c.email.as_deref()));
            if let Some(email) = email.filter(|e| !e.is_empty()) {
                let entry = index
                    .latest_by_email
                    .entry(email.trim().to_ascii_lowercase())
                    .or_insert((order.created_at, order.brand.clone()));
                if order.created_at > entry.0 {
                    *entry = (order.created_at, order.brand.clone());
                }
            }
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// The one brand with an order of this name, if exactly one has it.
    fn brand_of_name(&self, name: &str) -> Option<&BrandId> {
        let brands = self.by_name.get(name)?;
        (brands.len() == 1).then(|| brands.iter().next()).flatten()
    }
}

/// Order names quoted in a text: `#` followed by at least three digits.
pub fn quoted_order_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits >= 3 {
                names.push(format!("#{}", &text[i + 1..i + 1 + digits]));
            }
            i += 1 + digits;
        } else {
            i += 1;
        }
    }
    names
}

/// The configured rules and the order index they may consult.
#[derive(Debug, Clone, Default)]
pub struct Attributor {
    rules: Vec<AttributionRule>,
    orders: OrderIndex,
}

impl Attributor {
    pub fn new(rules: Vec<AttributionRule>, orders: OrderIndex) -> Self {
        Attributor { rules, orders }
    }

    pub fn rules(&self) -> &[AttributionRule] {
        &self.rules
    }

    /// Whether any rule needs the order index (so the sync loads it).
    pub fn needs_orders(&self) -> bool {
        self.rules.iter().any(|r| r.linked_order)
    }

    pub fn set_orders(&mut self, orders: OrderIndex) {
        self.orders = orders;
    }

    /// The brand of `ticket`, given its messages and where they were sent.
    pub fn brand_of(
        &self,
        ticket: &Ticket,
        messages: &[(TicketMessage, MessageRouting)],
    ) -> Option<BrandId> {
        self.rules
            .iter()
            .find_map(|rule| self.apply(rule, ticket, messages))
    }

    fn apply(
        &self,
        rule: &AttributionRule,
        ticket: &Ticket,
        messages: &[(TicketMessage, MessageRouting)],
    ) -> Option<BrandId> {
        let tagged = ticket
            .tags
            .iter()
            .any(|t| rule.tags.iter().any(|r| r.eq_ignore_ascii_case(t.trim())));
        let customer_routes = messages.iter().filter(|(m, _)| !m.from_agent);
        let mut addressed = false;
        let mut integrated = false;
        for (_, routing) in customer_routes {
            addressed |= routing.to.iter().any(|to| {
                rule.receiving_addresses
                    .iter()
                    .any(|a| a.trim().eq_ignore_ascii_case(to))
            });
            integrated |= routing
                .integration_id
                .as_ref()
                .is_some_and(|id| rule.integration_ids.iter().any(|r| r == id));
        }
        if tagged || addressed || integrated {
            return rule.brand.clone();
        }
        if rule.linked_order {
            let brand = self.linked_order_brand(ticket, messages)?;
            return match &rule.brand {
                Some(only) if *only != brand => None,
                _ => Some(brand),
            };
        }
        None
    }

    fn linked_order_brand(
        &self,
        ticket: &Ticket,
        messages: &[(TicketMessage, MessageRouting)],
    ) -> Option<BrandId> {
        let texts = [ticket.subject.as_deref(), ticket.excerpt.as_deref()]
            .into_iter()
            .flatten()
            .chain(
                messages
                    .iter()
                    .filter(|(m, _)| !m.from_agent)
                    .flat_map(|(m, _)| [m.subject.as_deref(), m.body_text.as_deref()])
                    .flatten(),
            );
        for text in texts {
            for name in quoted_order_names(text) {
                if let Some(brand) = self.orders.brand_of_name(&name) {
                    return Some(brand.clone());
                }
            }
        }
        let email = ticket.customer.as_ref()?.email.as_deref()?;
        self.orders
            .latest_by_email
            .get(&email.trim().to_ascii_lowercase())
            .map(|(_, brand)| brand.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_quoted_order_names() {
        assert_eq!(
            quoted_order_names("Where is my order #1042? Also #12 and #55501."),
            vec!["#1042".to_string(), "#55501".to_string()]
        );
        assert!(quoted_order_names("size #5.5 ##").is_empty());
    }
}
