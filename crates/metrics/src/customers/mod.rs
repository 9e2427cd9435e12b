//! Customers as a whole, across their orders, returns and disputes
//! (issue 15; METRICS.md "Customers").
//!
//! # Layout
//! - [`risk`]: the customer risk flags (high value, frequent returns,
//!   dispute history) with their evidence, and the one lookup every page
//!   and queue calls per customer.

pub mod risk;

pub use risk::{
    customer_risk, CustomerOf, CustomerRisk, DisputeEvidence, Evidence, RiskFlag, RiskKind,
    RiskRules, WithoutRate,
};
