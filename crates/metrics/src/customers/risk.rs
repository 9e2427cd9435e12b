//! Customer risk flags: the one home of the rule (METRICS.md "Customers").
//! Queue items, urgent tickets, approval requests and the order timeline
//! all call [`customer_risk`] and show what it says; none computes a flag
//! itself.
//!
//! # The rule
//! - **Lifetime spend**, in the reporting currency, summed per brand: at a
//!   brand where the platform reports the customer's lifetime figures
//!   ([`opsdeck_domain::CustomerSummary`], Shopify's `amountSpent`), its
//!   value; at any other brand, the customer's non-cancelled, non-test
//!   orders there, each net of its refunds. Each amount is converted by
//!   the dashboard's one rule ([`PanelConfig::to_reporting`]); an amount in
//!   a currency without a rate is left out and named
//!   ([`CustomerRisk::without_rate`]), never guessed and never an error.
//! - **High value**: lifetime spend > [`RiskRules::high_value_spend`]
//!   (major units of the reporting currency; the playbook's 5,000).
//! - **Frequent returns**: orders with a return or refund ÷ orders > 30 %,
//!   with at least 3 orders. An order counts as returned or refunded when
//!   it has a refund, or a return or refund request names it that was not
//!   rejected or cancelled. Cancelled orders count in neither part (a
//!   cancellation is refunded as a matter of course; it is not a return).
//!   Orders, per brand: the platform's lifetime count where it reports
//!   one (or the orders opsdeck stores, when it holds more), else the
//!   stored ones.
//! - **Dispute history**: any dispute or chargeback on any of the
//!   customer's orders (cancelled ones included), whatever its outcome.
//!
//! # Who a customer is
//! One person across brands and records, by e-mail (compared without
//! case): the key that orders (`email`, else the embedded customer's),
//! the platform's customer records and helpdesk tickets all carry. An
//! order without an e-mail is judged on its own.
//!
//! # Cost
//! A lookup walks the customer's own orders through the projection's
//! customer index, and reads their refunds, requests and disputes from
//! maps keyed by order: O(the customer's orders), whatever the number of
//! orders in the store.
//!
//! # Money
//! The evidence of "high value" holds the lifetime spend and the
//! threshold as [`Money`]. A flag serializes its evidence with them only
//! where amounts are shown ([`crate::money_json::shown`], set from the
//! viewer's revenue permission); elsewhere the flag stays and the amounts
//! are not in it ("lifetime spend above the high-value threshold").

use crate::money_json;
use crate::panels::{major_to_minor, PanelConfig};
use crate::projection::keys::{email_key, record_key};
use crate::projection::{BrandIx, OrderRow, Projection};
use crate::sums::Summed;
use opsdeck_domain::{Currency, Money, Timestamp};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// The playbook's high-value threshold, in major units of the reporting
/// currency.
pub const DEFAULT_HIGH_VALUE_SPEND: i64 = 5_000;
/// Returned or refunded orders must be more than this share (percent) of
/// orders for "frequent returns".
pub const FREQUENT_RETURNS_PERCENT: u64 = 30;
/// …and the customer must have at least this many orders.
pub const FREQUENT_RETURNS_MIN_ORDERS: u64 = 3;
/// Disputes named one by one in the evidence; the rest are counted.
const DISPUTES_LISTED: usize = 5;

/// The configurable part of the rule (`[customers]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRules {
    /// Lifetime spend above this (major units of the reporting currency)
    /// makes a customer high value.
    pub high_value_spend: i64,
}

impl Default for RiskRules {
    fn default() -> Self {
        RiskRules {
            high_value_spend: DEFAULT_HIGH_VALUE_SPEND,
        }
    }
}

/// Which flag. Named apart from the urgent queue's `vip` and
/// `chargeback_risk` (a ticket's words and one order), which are another rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    HighValue,
    FrequentReturns,
    DisputeHistory,
}

impl RiskKind {
    pub const ALL: [RiskKind; 3] = [
        RiskKind::HighValue,
        RiskKind::FrequentReturns,
        RiskKind::DisputeHistory,
    ];

    /// The id the API serializes (`high_value`).
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskKind::HighValue => "high_value",
            RiskKind::FrequentReturns => "frequent_returns",
            RiskKind::DisputeHistory => "dispute_history",
        }
    }

    /// The flag in words, for pages (`high value`).
    pub const fn label(self) -> &'static str {
        match self {
            RiskKind::HighValue => "high value",
            RiskKind::FrequentReturns => "frequent returns",
            RiskKind::DisputeHistory => "dispute history",
        }
    }
}

/// Money a lifetime spend could not include: `records` amounts (orders,
/// or a platform's lifetime figure) in `currency`, which has no rate to the
/// reporting currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WithoutRate {
    pub currency: Currency,
    pub records: u64,
}

impl std::fmt::Display for WithoutRate {
    /// "1 amount in CHF left out (no rate)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let noun = if self.records == 1 {
            "amount"
        } else {
            "amounts"
        };
        write!(
            f,
            "{} {noun} in {} left out (no rate)",
            self.records, self.currency
        )
    }
}

/// One dispute behind "dispute history".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisputeEvidence {
    /// The order as customers quote it ("#1042"; "" without a number).
    pub order: String,
    /// The day it was opened, in the order's brand's time zone.
    pub on: jiff::civil::Date,
    /// A chargeback, rather than an inquiry.
    pub chargeback: bool,
}

/// The numbers behind a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    HighValue {
        spend: Money,
        threshold: Money,
        without_rate: Vec<WithoutRate>,
    },
    FrequentReturns {
        returned: u64,
        orders: u64,
    },
    DisputeHistory {
        /// Oldest first.
        disputes: Vec<DisputeEvidence>,
    },
}

/// A raised flag and the numbers behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskFlag {
    pub kind: RiskKind,
    pub evidence: Evidence,
}

impl RiskFlag {
    /// The evidence in words; the amounts only when `show_money`
    /// ("lifetime spend €6,240.00 > €5,000.00", "2 of 5 orders returned
    /// or refunded = 40 % > 30 %", "1 chargeback (order #1042, 2026-11-02)").
    pub fn evidence_text(&self, show_money: bool) -> String {
        match &self.evidence {
            Evidence::HighValue {
                spend,
                threshold,
                without_rate,
            } => {
                let mut s = if show_money {
                    format!(
                        "lifetime spend {} > {}",
                        spend.display(),
                        threshold.display()
                    )
                } else {
                    "lifetime spend above the high-value threshold".to_string()
                };
                for w in without_rate {
                    s.push_str(&format!("; {w}"));
                }
                s
            }
            Evidence::FrequentReturns { returned, orders } => format!(
                "{returned} of {orders} orders returned or refunded = {} > {FREQUENT_RETURNS_PERCENT} %",
                percent(*returned, *orders)
            ),
            Evidence::DisputeHistory { disputes } => dispute_words(disputes),
        }
    }

    /// The evidence as the current viewer may read it (amounts where
    /// [`money_json::shown`]).
    pub fn evidence_shown(&self) -> String {
        self.evidence_text(money_json::shown())
    }
}

/// `{"kind": "high_value", "label": "high value", "evidence": "…"}`, the
/// evidence with amounts only where they are shown.
impl Serialize for RiskFlag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("RiskFlag", 3)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("label", self.kind.label())?;
        st.serialize_field("evidence", &self.evidence_shown())?;
        st.end()
    }
}

/// "40 %", "33.3 %": one decimal only when the share is not whole.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0 %".into();
    }
    let tenths = (u128::from(part) * 2000 + u128::from(whole)) / (2 * u128::from(whole));
    if tenths % 10 == 0 {
        format!("{} %", tenths / 10)
    } else {
        format!("{}.{} %", tenths / 10, tenths % 10)
    }
}

fn dispute_words(disputes: &[DisputeEvidence]) -> String {
    let n = disputes.len();
    let all_chargebacks = disputes.iter().all(|d| d.chargeback);
    let noun = match (all_chargebacks, n == 1) {
        (true, true) => "chargeback",
        (true, false) => "chargebacks",
        (false, true) => "dispute",
        (false, false) => "disputes",
    };
    let mut items: Vec<String> = disputes
        .iter()
        .take(DISPUTES_LISTED)
        .map(|d| {
            let kind = match (all_chargebacks, d.chargeback) {
                (true, _) => "",
                (false, true) => "chargeback: ",
                (false, false) => "inquiry: ",
            };
            let order = if d.order.is_empty() {
                "an order without a number".to_string()
            } else {
                format!("order {}", d.order)
            };
            format!("{kind}{order}, {}", d.on)
        })
        .collect();
    if n > DISPUTES_LISTED {
        items.push(format!("and {} more", n - DISPUTES_LISTED));
    }
    format!("{n} {noun} ({})", items.join("; "))
}

/// Whom to look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerOf<'a> {
    /// A customer by e-mail (a ticket's customer).
    Email(&'a str),
    /// Whoever placed this order: its source and the platform's order id
    /// (a return request's or a dispute's `order_id`, an approval's order).
    Order {
        source: &'a str,
        external_id: &'a str,
    },
    /// Whoever placed the order with this projection key (what panels hold).
    OrderKey(u64),
    /// A customer by the projection's e-mail key (what ticket rows hold).
    EmailKey(u64),
}

/// Everything the flags were computed from, and the flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerRisk {
    /// Raised flags, in [`RiskKind::ALL`] order; empty when none is.
    pub flags: Vec<RiskFlag>,
    /// In the reporting currency (only what could be converted).
    #[serde(serialize_with = "money_json::serialize")]
    pub lifetime_spend: Money,
    /// Orders, and those returned or refunded (the frequent-returns share).
    pub orders: u64,
    pub returned_orders: u64,
    /// Disputes and chargebacks on the customer's orders.
    pub disputes: u64,
    /// What the lifetime spend leaves out for want of a rate.
    pub without_rate: Vec<WithoutRate>,
}

impl CustomerRisk {
    pub fn has(&self, kind: RiskKind) -> bool {
        self.flags.iter().any(|f| f.kind == kind)
    }
}

/// Per brand: orders and returned ones opsdeck stores, and their spend.
#[derive(Default, Clone, Copy)]
struct BrandTally {
    orders: u64,
    returned: u64,
    /// Net spend of the stored orders, reporting currency minor units.
    spend: i128,
}

/// The risk flags of a customer, or `None` when opsdeck knows nothing
/// about them (no such order, a test order, an e-mail with no order and no
/// platform figures).
pub fn customer_risk(
    p: &Projection,
    cfg: &PanelConfig,
    who: CustomerOf<'_>,
) -> Option<CustomerRisk> {
    let (email, alone) = match who {
        CustomerOf::Email(e) => (email_key(Some(e)), None),
        CustomerOf::Order {
            source,
            external_id,
        } => of_order(p, record_key(source, external_id))?,
        CustomerOf::OrderKey(key) => of_order(p, key)?,
        CustomerOf::EmailKey(key) => (key, None),
    };
    let orders: Vec<&OrderRow> = match alone {
        Some(row) => vec![row],
        None if email == 0 => return None,
        None => p.orders.rows.of_customer(email).collect(),
    };
    let summary_brands: Vec<BrandIx> = if email == 0 {
        vec![]
    } else {
        p.customers.summary_brands(email).collect()
    };
    if orders.is_empty() && summary_brands.is_empty() {
        return None;
    }
    Some(judge(p, cfg, email, &orders, &summary_brands))
}

/// The e-mail key of an order's customer, or the order alone when it has
/// no e-mail.
fn of_order(p: &Projection, key: u64) -> Option<(u64, Option<&OrderRow>)> {
    let row = p.orders.rows.get(&key).filter(|r| !r.is_test())?;
    Some(if row.email == 0 {
        (0, Some(row))
    } else {
        (row.email, None)
    })
}

fn judge(
    p: &Projection,
    cfg: &PanelConfig,
    email: u64,
    orders: &[&OrderRow],
    summary_brands: &[BrandIx],
) -> CustomerRisk {
    let rc = cfg.reporting_currency;
    let mut tallies = vec![BrandTally::default(); p.ctx.brands.len()];
    let mut without_rate: Vec<WithoutRate> = vec![];
    let mut left_out =
        |currency: Currency| match without_rate.iter_mut().find(|w| w.currency == currency) {
            Some(w) => w.records += 1,
            None => without_rate.push(WithoutRate {
                currency,
                records: 1,
            }),
        };
    let mut disputes = vec![];
    for row in orders {
        let b = usize::from(row.brand);
        let Some(brand) = p.ctx.brands.get(b) else {
            continue;
        };
        for d in p.customers.disputes_of(row.key) {
            let on = Timestamp::from_second(d.at)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_zoned(brand.time_zone.clone())
                .date();
            disputes.push((
                d.at,
                row.key,
                DisputeEvidence {
                    order: if row.number == 0 {
                        String::new()
                    } else {
                        format!("#{}", row.number)
                    },
                    on,
                    chargeback: d.chargeback,
                },
            ));
        }
        if row.is(crate::projection::orders::CANCELLED) {
            continue;
        }
        let refunds = p.ops.order_extra(row.key, row.created).refunds;
        let tally = &mut tallies[b];
        tally.orders += 1;
        if !refunds.is_empty() || p.customers.has_request(row.key) {
            tally.returned += 1;
        }
        if summary_brands.contains(&row.brand) {
            continue;
        }
        let currency = p
            .customers
            .foreign_currency(row.key)
            .unwrap_or(brand.currency);
        let refunded: i64 = refunds
            .iter()
            .fold(0i64, |sum, (_, amount)| sum.saturating_add(*amount));
        match cfg.to_reporting(Money::new(row.total.saturating_sub(refunded), currency)) {
            Some(m) => tally.spend += i128::from(m.minor),
            None => left_out(currency),
        }
    }
    let mut spend: i128 = tallies.iter().map(|t| t.spend).sum();
    let (mut n_orders, mut returned) = (0u64, 0u64);
    for (b, tally) in tallies.iter().enumerate() {
        let platform = BrandIx::try_from(b)
            .ok()
            .filter(|b| summary_brands.contains(b))
            .and_then(|b| p.customers.summary(email, b));
        match platform {
            Some(s) => {
                n_orders += s.order_count.max(tally.orders);
                match cfg.to_reporting(s.lifetime_spend) {
                    Some(m) => spend += i128::from(m.minor),
                    None => left_out(s.lifetime_spend.currency),
                }
            }
            None => n_orders += tally.orders,
        }
        returned += tally.returned;
    }
    without_rate.sort_by_key(|w| w.currency.code().to_string());
    disputes.sort_by_key(|(at, key, _)| (*at, *key));
    let lifetime_spend = Summed::new(spend, rc).money;
    let threshold = Money::new(major_to_minor(cfg.customer_risk.high_value_spend, rc), rc);
    let mut flags = vec![];
    if spend > i128::from(threshold.minor) {
        flags.push(RiskFlag {
            kind: RiskKind::HighValue,
            evidence: Evidence::HighValue {
                spend: lifetime_spend,
                threshold,
                without_rate: without_rate.clone(),
            },
        });
    }
    if n_orders >= FREQUENT_RETURNS_MIN_ORDERS
        && u128::from(returned) * 100 > u128::from(FREQUENT_RETURNS_PERCENT) * u128::from(n_orders)
    {
        flags.push(RiskFlag {
            kind: RiskKind::FrequentReturns,
            evidence: Evidence::FrequentReturns {
                returned,
                orders: n_orders,
            },
        });
    }
    let n_disputes = disputes.len() as u64;
    if !disputes.is_empty() {
        flags.push(RiskFlag {
            kind: RiskKind::DisputeHistory,
            evidence: Evidence::DisputeHistory {
                disputes: disputes.into_iter().map(|(_, _, d)| d).collect(),
            },
        });
    }
    CustomerRisk {
        flags,
        lifetime_spend,
        orders: n_orders,
        returned_orders: returned,
        disputes: n_disputes,
        without_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_read_whole_or_with_one_decimal() {
        assert_eq!(percent(2, 5), "40 %");
        assert_eq!(percent(1, 3), "33.3 %");
        assert_eq!(percent(3, 10), "30 %");
        assert_eq!(percent(0, 0), "0 %");
    }

    #[test]
    fn kinds_serialize_as_their_id_and_read_as_their_words() {
        for k in RiskKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
            assert_eq!(k.label(), k.as_str().replace('_', " "));
        }
    }
}
