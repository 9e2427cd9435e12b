//! The shape of the generated data set: sizes per brand, and the operational
//! situations the dashboard must show (old unfulfilled orders, stock-outs,
//! catalog gaps, cancellations, refunds, test orders).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use std::time::Instant;

use opsdeck_simulator::{SimConfig, Simulator};
use serde_json::Value;

fn now() -> jiff::Timestamp {
    "2026-05-03T18:05:09Z".parse().unwrap()
}

fn simulator(seed: u64, scale: f64) -> Simulator {
    Simulator::new(SimConfig {
        seed,
        now: now(),
        scale,
    })
}

fn ts(value: &Value) -> jiff::Timestamp {
    value.as_str().unwrap().parse().unwrap()
}

#[test]
fn order_counts_match_the_merchant_within_three_percent() {
    let started = Instant::now();
    let sim = simulator(42, 1.0);
    eprintln!("generation at scale 1.0: {:?}", started.elapsed());
    for (slug, target) in [("plentum", 1061.0), ("mavena", 4452.0), ("pawfully", 913.0)] {
        let count = sim.orders_json(slug).len() as f64;
        assert!(
            (count - target).abs() / target <= 0.03,
            "{slug}: {count} orders, target {target}"
        );
    }
    assert!(sim.orders_json("retromedy").is_empty());
    let products: Vec<usize> = ["plentum", "mavena", "pawfully"]
        .iter()
        .map(|s| sim.products_json(s).len())
        .collect();
    assert_eq!(products, vec![3, 146, 80]);
    let retro = sim.products_json("retromedy");
    assert!(!retro.is_empty() && retro.iter().all(|p| p["status"] == "draft"));
    let shops = sim.shops();
    assert_eq!(shops.len(), 4);
    assert!(shops.iter().all(|s| s.launched == (s.slug != "retromedy")));
    assert_eq!(shops[0].shop_domain, "plentum.myshopify.com");
}

#[test]
fn the_data_set_contains_every_situation_the_dashboard_shows() {
    let sim = simulator(42, 1.0);
    let now = now();
    let mut all = Vec::new();
    for slug in ["plentum", "mavena", "pawfully"] {
        all.extend(sim.orders_json(slug));
    }
    let unfulfilled_age_days = |o: &Value| {
        (o["fulfillment_status"].is_null() && o["cancelled_at"].is_null())
            .then(|| (now.as_second() - ts(&o["created_at"]).as_second()) as f64 / 86_400.0)
    };
    let ages: Vec<f64> = all.iter().filter_map(unfulfilled_age_days).collect();
    assert!(ages.iter().any(|&a| a < 1.0), "fresh unfulfilled orders");
    assert!(
        ages.iter().any(|&a| (3.0..5.0).contains(&a)),
        "unfulfilled 3-5 days"
    );
    assert!(
        ages.iter().filter(|&&a| a > 5.0).count() >= 3,
        "unfulfilled older than 5 days"
    );
    assert!(
        ages.iter().any(|&a| a > 10.0),
        "unfulfilled older than 10 days"
    );
    let count = |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|o| pred(o)).count();
    assert!(
        count(&|o| o["fulfillment_status"] == "partial") > 0,
        "partial fulfillments"
    );
    let shipment = |status: &'static str| {
        move |o: &Value| {
            o["fulfillments"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["shipment_status"] == status)
        }
    };
    for status in [
        "in_transit",
        "delivered",
        "failure",
        "attempted_delivery",
        "delayed",
    ] {
        assert!(count(&shipment(status)) > 0, "shipment status {status}");
    }
    assert!(
        count(&|o| !o["cancelled_at"].is_null()) > 5,
        "cancellations"
    );
    assert!(count(&|o| o["test"] == true) > 3, "test orders");
    let refunds = count(&|o| {
        o["refunds"].as_array().unwrap().iter().any(|r| {
            !r["refund_line_items"].as_array().unwrap().is_empty()
                && r["transactions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|t| t["kind"] == "refund" && t["status"] == "success")
        })
    });
    assert!(
        refunds > 5,
        "refunds with refund_line_items and transactions"
    );
    assert!(count(&|o| o["financial_status"] == "partially_refunded") > 0);
    assert!(
        count(&|o| o["line_items"].as_array().unwrap().len() > 1) > 100,
        "multiple line items"
    );
    let custom =
        |o: &Value| {
            o["line_items"].as_array().unwrap().iter().any(|l| {
                l["variant_id"].is_null() && l["product_id"].is_null() && l["sku"].is_null()
            })
        };
    assert!(count(&custom) > 0, "custom line items");
    assert!(
        count(&|o| o["tags"].as_str().unwrap().contains("Recurring Order")
            && o["source_name"] == "subscription_contract")
            > 200
    );
    assert!(count(&|o| o["tags"] == "Subscription First Order") > 50);
    assert!(
        count(&|o| o["id"].as_u64().unwrap() > 1 << 53) > 0,
        "ids above 2^53"
    );
    assert!(all
        .iter()
        .all(|o| o["customer"].get("orders_count").is_none()
            && o["customer"].get("total_spent").is_none()));

    let mut variants = Vec::new();
    let mut products = Vec::new();
    for slug in ["plentum", "mavena", "pawfully"] {
        for p in sim.products_json(slug) {
            variants.extend(p["variants"].as_array().unwrap().clone());
            products.push(p);
        }
    }
    let tracked = |v: &&Value| v["inventory_management"] == "shopify";
    assert!(
        variants
            .iter()
            .filter(tracked)
            .any(|v| v["inventory_quantity"] == 0),
        "stock-outs"
    );
    assert!(
        variants
            .iter()
            .filter(tracked)
            .any(|v| (1..=5).contains(&v["inventory_quantity"].as_i64().unwrap())),
        "low stock"
    );
    assert!(
        variants.iter().any(|v| v["inventory_management"].is_null()),
        "untracked variants"
    );
    assert!(variants.iter().any(|v| v["price"] == "0.00"), "zero price");
    assert!(
        products
            .iter()
            .any(|p| p["images"].as_array().unwrap().is_empty() && p["image"].is_null()),
        "no images"
    );
    assert!(
        products.iter().any(|p| p["body_html"].is_null()),
        "null description"
    );
    assert!(
        products.iter().any(|p| p["body_html"] == ""),
        "empty description"
    );
    assert!(products.iter().any(|p| p["status"] == "draft"));
    assert!(products.iter().any(|p| p["status"] == "archived"));
}

#[test]
fn daily_rhythm_has_quiet_nights_and_busy_evenings() {
    let sim = simulator(7, 1.0);
    let mut per_hour = [0usize; 24];
    for o in sim.orders_json("mavena") {
        let local: jiff::Zoned = o["created_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("America/Los_Angeles").unwrap());
        per_hour[local.hour() as usize] += 1;
    }
    assert!(per_hour[20] > 3 * per_hour[4], "{per_hour:?}");
}

#[test]
fn same_seed_same_world_other_seed_other_world() {
    let a = simulator(1, 0.1);
    let b = simulator(1, 0.1);
    let c = simulator(2, 0.1);
    for slug in ["plentum", "mavena", "pawfully", "retromedy"] {
        assert_eq!(a.orders_json(slug), b.orders_json(slug));
        assert_eq!(a.products_json(slug), b.products_json(slug));
        assert_eq!(a.inventory_levels_json(slug), b.inventory_levels_json(slug));
    }
    assert_eq!(a.shops(), b.shops());
    assert_ne!(a.orders_json("mavena"), c.orders_json("mavena"));
    assert_ne!(a.shops()[0].access_token, c.shops()[0].access_token);
}

#[test]
fn customers_carry_order_statistics() {
    let sim = simulator(3, 0.2);
    let customers = sim.customers_json("pawfully");
    let total: u64 = customers
        .iter()
        .map(|c| c["orders_count"].as_u64().unwrap())
        .sum();
    let with_customer = sim
        .orders_json("pawfully")
        .iter()
        .filter(|o| !o["customer"].is_null())
        .count() as u64;
    assert_eq!(total, with_customer);
    assert!(customers
        .iter()
        .any(|c| c["orders_count"].as_u64().unwrap() > 1));
    assert!(customers.iter().all(|c| c["total_spent"].is_string()));
}

/// Run with `--ignored --nocapture` to measure large worlds.
#[test]
#[ignore]
fn generation_scales_to_a_million_orders() {
    for scale in [1.0, 100.0, 160.0] {
        let started = Instant::now();
        let sim = simulator(42, scale);
        let elapsed = started.elapsed();
        let orders: usize = ["plentum", "mavena", "pawfully"]
            .iter()
            .map(|s| sim.order_count(s))
            .sum();
        let started = Instant::now();
        sim.advance_to(now() + jiff::SignedDuration::from_hours(1));
        eprintln!(
            "scale {scale} ({orders} orders): generation {elapsed:?}, advance 1h {:?}",
            started.elapsed()
        );
    }
}
