//! The world keeps moving: `advance_to` brings new orders per the rhythm and
//! lets planned shipments, deliveries, cancellations and refunds happen.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use opsdeck_simulator::{SimConfig, Simulator};
use serde_json::Value;

const SHOPS: [&str; 3] = ["plentum", "mavena", "pawfully"];

fn ts(value: &Value) -> i64 {
    value
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second()
}

/// Every timestamp in the order, nested ones included.
fn all_times(value: &Value, out: &mut Vec<i64>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key.ends_with("_at") && v.is_string() {
                    out.push(ts(v));
                } else {
                    all_times(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| all_times(v, out)),
        _ => {}
    }
}

#[test]
fn advancing_an_hour_brings_new_orders_and_progress_and_nothing_from_the_future() {
    // 19:30 in New York: the evening peak.
    let start: jiff::Timestamp = "2026-05-03T23:30:00Z".parse().unwrap();
    let sim = Simulator::new(SimConfig {
        seed: 5,
        now: start,
        scale: 1.0,
    });
    let before: Vec<Vec<Value>> = SHOPS.iter().map(|s| sim.orders_json(s)).collect();
    let later = start + jiff::SignedDuration::from_hours(1);
    sim.advance_to(later);
    assert_eq!(sim.now(), later);
    let (start, later) = (start.as_second(), later.as_second());

    let mut new_orders = 0;
    let mut progressed = 0;
    for (slug, before) in SHOPS.iter().zip(&before) {
        let after = sim.orders_json(slug);
        assert!(after.len() >= before.len());
        for order in &after[before.len()..] {
            let created = ts(&order["created_at"]);
            assert!(
                created > start && created <= later,
                "{slug}: new order created at {created}"
            );
            new_orders += 1;
        }
        for (old, new) in before.iter().zip(&after) {
            assert_eq!(old["id"], new["id"]);
            if ts(&new["updated_at"]) > start {
                progressed += 1;
                assert!(ts(&new["updated_at"]) > ts(&old["updated_at"]));
            }
        }
        let mut times = Vec::new();
        after.iter().for_each(|o| all_times(o, &mut times));
        assert!(
            times.iter().all(|&t| t <= later),
            "{slug}: a timestamp lies in the future"
        );
    }
    assert!(new_orders > 0, "no new orders in an evening hour");
    assert!(progressed > 0, "no older order changed in an hour");
}

#[test]
fn days_later_open_orders_have_shipped_and_shipments_delivered() {
    let start: jiff::Timestamp = "2026-05-03T18:00:00Z".parse().unwrap();
    let sim = Simulator::new(SimConfig {
        seed: 9,
        now: start,
        scale: 0.3,
    });
    let unshipped = |orders: &[Value]| -> Vec<u64> {
        orders
            .iter()
            .filter(|o| o["fulfillment_status"].is_null() && o["cancelled_at"].is_null())
            .map(|o| o["id"].as_u64().unwrap())
            .collect()
    };
    let before = unshipped(&sim.orders_json("pawfully"));
    sim.advance_to(start + jiff::SignedDuration::from_hours(24 * 10));
    let after = sim.orders_json("pawfully");
    let still = unshipped(&after);
    let shipped = before.iter().filter(|id| !still.contains(id)).count();
    assert!(
        shipped * 2 > before.len(),
        "{shipped} of {} shipped in ten days",
        before.len()
    );
    // Stock went down for what sold.
    let same = Simulator::new(SimConfig {
        seed: 9,
        now: start,
        scale: 0.3,
    });
    let stock = |sim: &Simulator| -> i64 {
        sim.inventory_levels_json("pawfully")
            .iter()
            .filter_map(|l| l["available"].as_i64())
            .sum()
    };
    assert!(stock(&sim) < stock(&same));
}

#[test]
fn advancing_is_deterministic() {
    let start: jiff::Timestamp = "2026-05-03T18:00:00Z".parse().unwrap();
    let a = Simulator::new(SimConfig {
        seed: 3,
        now: start,
        scale: 0.2,
    });
    let b = Simulator::new(SimConfig {
        seed: 3,
        now: start,
        scale: 0.2,
    });
    for sim in [&a, &b] {
        sim.advance_to(start + jiff::SignedDuration::from_hours(30));
    }
    assert_eq!(a.orders_json("mavena"), b.orders_json("mavena"));
}
