//! A customer's risk flags as the pages show them (the urgent queue, the
//! order timeline, an approval request): the flags with their evidence
//! and what the rule read. The rule is `opsdeck_metrics::customers::risk`;
//! this only shapes its answer for the `customer_risk.html` partial.
//! Amounts (the lifetime spend, and inside the high-value evidence) are
//! serialized only where the viewer may see revenue (`money_json`).

use opsdeck_metrics::customers::CustomerRisk;
use serde_json::{json, Value};

/// The view of `risk` (`null` when opsdeck knows nothing of the customer).
pub(crate) fn view(risk: Option<&CustomerRisk>) -> Value {
    match risk {
        None => Value::Null,
        Some(r) => json!({
            "flags": r.flags,
            "orders": r.orders,
            "returned_orders": r.returned_orders,
            "disputes": r.disputes,
            "lifetime_spend": opsdeck_metrics::money_json::Guarded(r.lifetime_spend.display()),
            "without_rate": r.without_rate.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }),
    }
}
