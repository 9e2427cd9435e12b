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
//!
//! The sync reads messages account-wide, apart from their tickets, so what
//! the rules need from a ticket's messages is gathered as [`TicketClues`]
//! (where the customer wrote to, through which integration, which order
//! names they quoted) as the messages arrive.

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

/// What a ticket's customer messages tell about its brand: the addresses
/// they were sent to, their integrations, and the order names they quote.
/// Agents' messages tell nothing (they answer from whatever inbox).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TicketClues {
    /// Lowercased receiving addresses.
    pub addresses: BTreeSet<String>,
    pub integrations: BTreeSet<String>,
    /// Quoted order names, in the order the messages were read.
    pub order_names: Vec<String>,
}

impl TicketClues {
    /// Adds what one message of the ticket tells; returns whether it told
    /// anything new.
    pub fn add(&mut self, message: &TicketMessage, routing: &MessageRouting) -> bool {
        if message.from_agent {
            return false;
        }
        let mut new = false;
        for to in &routing.to {
            new |= self.addresses.insert(to.clone());
        }
        if let Some(id) = &routing.integration_id {
            new |= self.integrations.insert(id.clone());
        }
        let texts = [message.subject.as_deref(), message.body_text.as_deref()];
        for name in texts.into_iter().flatten().flat_map(quoted_order_names) {
            if !self.order_names.contains(&name) {
                self.order_names.push(name);
                new = true;
            }
        }
        new
    }

    /// The clues of a set of messages at once.
    pub fn of<'a>(messages: impl IntoIterator<Item = &'a (TicketMessage, MessageRouting)>) -> Self {
        let mut clues = TicketClues::default();
        for (m, r) in messages {
            clues.add(m, r);
        }
        clues
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

    /// Whether any rule reads a ticket's messages (addresses, integrations,
    /// quoted order names): only then may a message read after its ticket
    /// change the ticket's brand.
    pub fn needs_messages(&self) -> bool {
        self.rules.iter().any(|r| {
            r.linked_order || !r.receiving_addresses.is_empty() || !r.integration_ids.is_empty()
        })
    }

    /// No order known yet (the index was never loaded, or no shop has one).
    pub fn has_no_orders(&self) -> bool {
        self.orders.is_empty()
    }

    pub fn set_orders(&mut self, orders: OrderIndex) {
        self.orders = orders;
    }

    /// The brand of `ticket`, given what its customer messages told.
    pub fn brand_of(&self, ticket: &Ticket, clues: &TicketClues) -> Option<BrandId> {
        self.rules
            .iter()
            .find_map(|rule| self.apply(rule, ticket, clues))
    }

    fn apply(
        &self,
        rule: &AttributionRule,
        ticket: &Ticket,
        clues: &TicketClues,
    ) -> Option<BrandId> {
        let tagged = ticket
            .tags
            .iter()
            .any(|t| rule.tags.iter().any(|r| r.eq_ignore_ascii_case(t.trim())));
        let addressed = rule
            .receiving_addresses
            .iter()
            .any(|a| clues.addresses.contains(&a.trim().to_ascii_lowercase()));
        let integrated = rule
            .integration_ids
            .iter()
            .any(|id| clues.integrations.contains(id));
        if tagged || addressed || integrated {
            return rule.brand.clone();
        }
        if rule.linked_order {
            let brand = self.linked_order_brand(ticket, clues)?;
            return match &rule.brand {
                Some(only) if *only != brand => None,
                _ => Some(brand),
            };
        }
        None
    }

    fn linked_order_brand(&self, ticket: &Ticket, clues: &TicketClues) -> Option<BrandId> {
        let quoted = [ticket.subject.as_deref(), ticket.excerpt.as_deref()]
            .into_iter()
            .flatten()
            .flat_map(quoted_order_names)
            .chain(clues.order_names.iter().cloned());
        for name in quoted {
            if let Some(brand) = self.orders.brand_of_name(&name) {
                return Some(brand.clone());
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
