//! What the connector tests share: a scripted fake Shopify ([`fake`]).
//! The simulator harness with a store is in `opsdeck-sync`'s tests, which
//! include this `fake` too.

pub mod fake;
