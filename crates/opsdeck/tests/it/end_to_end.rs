//! The whole product over real HTTP: the simulator serves four fake Shopify
//! stores, opsdeck (started as `main` starts it, on port 0, with a fixed
//! clock) syncs them through the real connector into a fresh SQLite file,
//! and the JSON API and the dashboard page show numbers that this test
//! recomputes on its own from the simulator's data set.

use crate::helpers;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use opsdeck::demo::demo_config;
use opsdeck_simulator::{SimConfig, Simulator};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Parses a Shopify decimal string in a 2-decimal currency into cents,
/// independently of the product's own money parser.
fn cents(amount: &str) -> i64 {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let frac = format!("{frac:0<2}");
    int.parse::<i64>().unwrap() * 100 + frac[..2].parse::<i64>().unwrap()
}

struct Expected {
    orders: u64,
    revenue_minor: i64,
}

/// Orders (cancelled included) and non-cancelled revenue of non-test orders
/// created in `[from, to)`.
fn expected(orders: &[Value], from: Timestamp, to: Timestamp) -> Expected {
    let mut e = Expected {
        orders: 0,
        revenue_minor: 0,
    };
    for order in orders {
        if order["test"].as_bool() == Some(true) {
            continue;
        }
        let created: Timestamp = order["created_at"].as_str().unwrap().parse().unwrap();
        if created < from || created >= to {
            continue;
        }
        e.orders += 1;
        if order["cancelled_at"].is_null() {
            e.revenue_minor += cents(order["total_price"].as_str().unwrap());
        }
    }
    e
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_stores_show_the_right_numbers_on_api_and_page() {
    // SQLite always; PostgreSQL too when a test server is configured.
    for backend in opsdeck_store::testing::each_backend().await {
        eprintln!("end-to-end on {}", backend.label);
        synced_stores_on(backend.url.clone()).await;
    }
}

async fn synced_stores_on(database_url: String) {
    // Wednesday 2026-06-10, 14:05 in New York.
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed: 11,
        now,
        scale: 0.2,
    });
    let sim_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_addr = sim_listener.local_addr().unwrap();
    let (sim_stop, mut sim_stop_rx) = tokio::sync::watch::channel(false);
    let sim_task = tokio::spawn({
        let simulator = simulator.clone();
        async move {
            simulator
                .serve(sim_listener, async move {
                    let _ = sim_stop_rx.wait_for(|s| *s).await;
                })
                .await
        }
    });

    let shops = simulator.shops();
    let config = demo_config(
        &shops,
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        database_url,
        Duration::from_secs(1),
    )
    .unwrap();
    let running = helpers::start(&config, Arc::new(move || now)).await;
    let base = helpers::base(&running);
    let client = helpers::logged_in_client(&running, "fin", opsdeck_store::Role::Finance).await;

    // Wait until every store's orders have synced once.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let sources = get_json(&client, &format!("{base}/api/v1/sources")).await;
        let all_synced = sources["sources"].as_array().unwrap().iter().all(|s| {
            s["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["resource"] == "orders" && !r["last_success_at"].is_null())
        });
        if all_synced {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sync did not finish: {sources:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The cards come from the projection, which follows the store's change
    // feed (polled every second): wait until it holds this month's orders.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let volume = loop {
        let volume = get_json(&client, &format!("{base}/api/v1/order-volume")).await;
        let caught_up = shops.iter().filter(|s| s.launched).all(|shop| {
            let local_now = now.to_zoned(TimeZone::get(&shop.time_zone).unwrap());
            let month_start = local_now.first_of_month().unwrap().start_of_day().unwrap();
            let e = expected(
                &simulator.orders_json(&shop.slug),
                month_start.timestamp(),
                now,
            );
            volume["brands"].as_array().unwrap().iter().any(|b| {
                b["brand"]["id"] == shop.brand_id.as_str() && b["periods"][2]["orders"] == e.orders
            })
        });
        if caught_up || std::time::Instant::now() > deadline {
            break volume;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let brands = volume["brands"].as_array().unwrap();
    assert_eq!(brands.len(), 4);
    let mut checked_brands = 0;
    for shop in &shops {
        let card = brands
            .iter()
            .find(|b| b["brand"]["id"] == shop.brand_id.as_str())
            .unwrap_or_else(|| panic!("brand {} missing", shop.brand_id));
        if !shop.launched {
            assert_eq!(card["brand"]["launched"], false);
            assert!(card["periods"].as_array().unwrap().is_empty());
            continue;
        }
        let tz = TimeZone::get(&shop.time_zone).unwrap();
        let local_now = now.to_zoned(tz.clone());
        let today_start = local_now.start_of_day().unwrap();
        let yesterday_start = today_start
            .checked_sub(1.day())
            .unwrap()
            .start_of_day()
            .unwrap();
        let yesterday_same_time = local_now.checked_sub(1.day()).unwrap();
        let month_start = local_now.first_of_month().unwrap().start_of_day().unwrap();
        let orders = simulator.orders_json(&shop.slug);

        let periods = card["periods"].as_array().unwrap();
        let today = periods.iter().find(|p| p["period"] == "today").unwrap();
        let month = periods
            .iter()
            .find(|p| p["period"] == "this_month")
            .unwrap();

        let e = expected(&orders, today_start.timestamp(), now);
        assert_eq!(today["orders"], e.orders, "{} today orders", shop.brand_id);
        assert_eq!(
            today["gross_revenue"]["minor"], e.revenue_minor,
            "{} today revenue",
            shop.brand_id
        );
        let e = expected(
            &orders,
            yesterday_start.timestamp(),
            yesterday_same_time.timestamp(),
        );
        assert_eq!(
            today["prior_orders"], e.orders,
            "{} yesterday orders",
            shop.brand_id
        );
        assert_eq!(
            today["prior_gross_revenue"]["minor"], e.revenue_minor,
            "{} yesterday revenue",
            shop.brand_id
        );
        let e = expected(&orders, month_start.timestamp(), now);
        assert_eq!(month["orders"], e.orders, "{} month orders", shop.brand_id);
        assert_eq!(
            month["gross_revenue"]["minor"], e.revenue_minor,
            "{} month revenue",
            shop.brand_id
        );
        assert!(
            e.orders > 0,
            "{}: the fixture should have orders this month",
            shop.brand_id
        );
        checked_brands += 1;
    }
    assert_eq!(checked_brands, 3);

    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for name in ["Plentum", "Mavena", "PawFully", "RetroMedy"] {
        assert!(html.contains(name), "dashboard lacks {name}");
    }
    assert!(html.contains("Not launched"));
    assert!(html.contains("synced"), "dashboard lacks a freshness line");

    running.stop().await.unwrap();
    let _ = sim_stop.send(true);
    sim_task.await.unwrap().unwrap();
}
