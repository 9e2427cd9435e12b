//! The simulator over real HTTP, the way the connector talks to Shopify.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use opsdeck_simulator::{Faults, SimConfig, Simulator};
use serde_json::Value;

struct Running {
    sim: Simulator,
    addr: SocketAddr,
    token: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn spawn(scale: f64) -> Running {
    let sim = Simulator::new(SimConfig {
        seed: 21,
        now: "2026-05-03T18:05:09Z".parse().unwrap(),
        scale,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = sim.clone();
    tokio::spawn(async move {
        server
            .serve(listener, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    let token = sim.shops()[0].access_token.clone();
    Running {
        sim,
        addr,
        token,
        _stop: stop,
    }
}

impl Running {
    fn url(&self, slug: &str, rest: &str) -> String {
        format!(
            "{}/admin/api/2025-01/{rest}",
            Simulator::shop_base_url(self.addr, slug)
        )
    }

    /// GET with the token of the shop the URL names.
    async fn get(&self, url: &str) -> reqwest::Response {
        let slug = url
            .split("/shops/")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("");
        let token = self
            .sim
            .shops()
            .into_iter()
            .find(|s| s.slug == slug)
            .map_or(self.token.clone(), |s| s.access_token);
        reqwest::Client::new()
            .get(url)
            .header("X-Shopify-Access-Token", token)
            .send()
            .await
            .unwrap()
    }

    /// Follows `rel="next"` from `first`; returns every record and the number of pages.
    async fn walk(&self, first: &str, key: &str) -> (Vec<Value>, usize) {
        let mut url = Some(first.to_string());
        let mut records = Vec::new();
        let mut pages = 0;
        while let Some(current) = url.take() {
            let response = self.get(&current).await;
            assert_eq!(response.status(), 200, "{current}");
            url = next_link(&response);
            let body: Value = response.json().await.unwrap();
            records.extend(body[key].as_array().unwrap().clone());
            pages += 1;
        }
        (records, pages)
    }
}

fn link(response: &reqwest::Response, rel: &str) -> Option<String> {
    let header = response.headers().get("link")?.to_str().ok()?;
    header
        .split(", ")
        .find(|part| part.ends_with(&format!("rel=\"{rel}\"")))
        .map(|part| {
            let start = part.find('<').unwrap() + 1;
            let end = part.find('>').unwrap();
            part[start..end].to_string()
        })
}

fn next_link(response: &reqwest::Response) -> Option<String> {
    link(response, "next")
}

fn ids(records: &[Value]) -> Vec<u64> {
    records.iter().map(|r| r["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn following_link_headers_returns_every_order_exactly_once() {
    let app = spawn(0.3).await;
    app.sim.set_rate_limit(false);
    let first = app.url(
        "plentum",
        "orders.json?status=any&limit=50&order=updated_at+asc",
    );
    let (orders, pages) = app.walk(&first, "orders").await;
    let expected: HashSet<u64> = ids(&app.sim.orders_json("plentum")).into_iter().collect();
    let seen = ids(&orders);
    assert!(pages > 3, "{pages} pages");
    assert_eq!(seen.len(), expected.len(), "duplicates or gaps");
    assert_eq!(seen.iter().copied().collect::<HashSet<_>>(), expected);
    let times: Vec<jiff::Timestamp> = orders
        .iter()
        .map(|o| o["updated_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "sorted by updated_at asc"
    );

    // Default sort is created_at desc; the previous link leads back to the first page.
    let first_page = app
        .get(&app.url("plentum", "orders.json?status=any&limit=20"))
        .await;
    assert!(link(&first_page, "previous").is_none());
    let next = next_link(&first_page).unwrap();
    assert!(
        next.contains("page_info=") && next.contains("limit=20"),
        "{next}"
    );
    let first_ids = ids(first_page.json::<Value>().await.unwrap()["orders"]
        .as_array()
        .unwrap());
    let created: Vec<u64> = first_ids.clone();
    assert!(created.windows(2).all(|w| w[0] > w[1]), "newest first");
    let second = app.get(&next).await;
    let previous = link(&second, "previous").expect("second page links back");
    let back = app.get(&previous).await;
    assert_eq!(
        ids(back.json::<Value>().await.unwrap()["orders"]
            .as_array()
            .unwrap()),
        first_ids
    );
}

#[tokio::test]
async fn page_info_carries_the_filters_and_refuses_new_ones() {
    let app = spawn(0.3).await;
    let response = app
        .get(&app.url("mavena", "orders.json?status=any&limit=10"))
        .await;
    let next = next_link(&response).unwrap();
    let rejected = app.get(&format!("{next}&status=any")).await;
    assert_eq!(rejected.status(), 400);
    let body: Value = rejected.json().await.unwrap();
    let message = body["errors"]["status"].as_str().unwrap();
    assert!(
        message.contains("cannot be passed when page_info is present"),
        "{message}"
    );
    let fields = app.get(&format!("{next}&fields=id,name")).await;
    assert_eq!(fields.status(), 200);
    let body: Value = fields.json().await.unwrap();
    assert!(body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o.as_object().unwrap().len() == 2));
    let garbage = app
        .get(&app.url("mavena", "orders.json?page_info=not-a-token"))
        .await;
    assert_eq!(garbage.status(), 400);
    assert_eq!(
        garbage.json::<Value>().await.unwrap()["errors"]["page_info"],
        "Invalid value."
    );
}

#[tokio::test]
async fn limit_above_250_is_refused() {
    let app = spawn(0.1).await;
    assert_eq!(
        app.get(&app.url("mavena", "orders.json?limit=251"))
            .await
            .status(),
        400
    );
    assert_eq!(
        app.get(&app.url("mavena", "orders.json?limit=250"))
            .await
            .status(),
        200
    );
    let default = app.get(&app.url("mavena", "orders.json?status=any")).await;
    assert_eq!(
        default.json::<Value>().await.unwrap()["orders"]
            .as_array()
            .unwrap()
            .len(),
        50
    );
}

#[tokio::test]
async fn the_default_status_open_hides_closed_and_cancelled_orders() {
    let app = spawn(0.3).await;
    app.sim.set_rate_limit(false);
    for slug in ["plentum", "mavena"] {
        let (open, _) = app
            .walk(&app.url(slug, "orders.json?limit=250"), "orders")
            .await;
        assert!(!open.is_empty());
        assert!(
            open.iter()
                .all(|o| o["closed_at"].is_null() && o["cancelled_at"].is_null()),
            "{slug}"
        );
        let all = app.sim.orders_json(slug);
        let expected = all
            .iter()
            .filter(|o| o["closed_at"].is_null() && o["cancelled_at"].is_null())
            .count();
        assert_eq!(open.len(), expected);
        let app = &app;
        let count = |query: &'static str| {
            let url = app.url(slug, &format!("orders/count.json{query}"));
            async move {
                app.get(&url).await.json::<Value>().await.unwrap()["count"]
                    .as_u64()
                    .unwrap() as usize
            }
        };
        assert_eq!(count("").await, expected);
        assert_eq!(count("?status=any").await, all.len());
        assert_eq!(
            count("?status=cancelled").await,
            all.iter().filter(|o| !o["cancelled_at"].is_null()).count()
        );
        assert_eq!(
            count("?status=closed").await,
            all.iter().filter(|o| !o["closed_at"].is_null()).count()
        );
    }
}

#[tokio::test]
async fn updated_at_min_returns_only_recent_changes() {
    let app = spawn(0.3).await;
    app.sim.set_rate_limit(false);
    let cutoff = "2026-04-30T10:00:00-04:00";
    let cutoff_ts: jiff::Timestamp = cutoff.parse().unwrap();
    let query = format!(
        "orders.json?status=any&limit=100&updated_at_min={}",
        cutoff.replace('+', "%2B")
    );
    let (recent, _) = app.walk(&app.url("mavena", &query), "orders").await;
    let expected = app
        .sim
        .orders_json("mavena")
        .into_iter()
        .filter(|o| {
            o["updated_at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
                >= cutoff_ts
        })
        .count();
    assert!(expected > 0);
    assert_eq!(recent.len(), expected);
    assert!(recent.iter().all(|o| o["updated_at"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        >= cutoff_ts));
    assert!(
        recent.iter().any(|o| o["created_at"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            < cutoff_ts),
        "older orders that changed"
    );
}

#[tokio::test]
async fn a_burst_of_41_requests_hits_the_leaky_bucket() {
    let app = spawn(0.1).await;
    let url = app.url("plentum", "locations.json");
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..41 {
        let request = client
            .get(&url)
            .header("X-Shopify-Access-Token", &app.token);
        tasks.push(tokio::spawn(async move { request.send().await.unwrap() }));
    }
    let mut limited = 0;
    for task in tasks {
        let response = task.await.unwrap();
        let call_limit = response.headers()["x-shopify-shop-api-call-limit"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(call_limit.ends_with("/40"), "{call_limit}");
        if response.status() == 429 {
            limited += 1;
            assert_eq!(response.headers()["retry-after"], "1.0");
            assert_eq!(call_limit, "40/40");
            let body: Value = response.json().await.unwrap();
            assert!(body["errors"]
                .as_str()
                .unwrap()
                .starts_with("Exceeded 2 calls per second"));
        }
    }
    assert!(limited >= 1);
    assert_eq!(app.sim.request_count("plentum"), 41);
}

#[tokio::test]
async fn authentication_unknown_shops_and_versions() {
    let app = spawn(0.1).await;
    let wrong = reqwest::Client::new()
        .get(app.url("plentum", "orders.json"))
        .header("X-Shopify-Access-Token", "shpat_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(
        body["errors"],
        "[API] Invalid API key or access token (unrecognized login or wrong password)"
    );
    let missing = reqwest::Client::new()
        .get(app.url("plentum", "orders.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 401);
    // Each shop has its own token.
    let other = reqwest::Client::new()
        .get(app.url("mavena", "orders.json"))
        .header("X-Shopify-Access-Token", &app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 401);
    assert_eq!(
        app.get(&app.url("nosuchshop", "orders.json"))
            .await
            .status(),
        404
    );
    let ok = app.get(&app.url("plentum", "orders.json")).await;
    assert_eq!(ok.headers()["x-shopify-api-version"], "2025-01");
    assert_eq!(app.sim.request_count("plentum"), 3);
}

#[tokio::test]
async fn single_records_products_customers_and_inventory() {
    let app = spawn(0.2).await;
    app.sim.set_rate_limit(false);
    let order = app.sim.orders_json("plentum").pop().unwrap();
    let id = order["id"].as_u64().unwrap();
    let served: Value = app
        .get(&app.url("plentum", &format!("orders/{id}.json")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(served["order"], order);
    assert_eq!(
        app.get(&app.url("plentum", "orders/123.json"))
            .await
            .status(),
        404
    );

    let customer_id = order["customer"]["id"].as_u64().unwrap();
    let customer: Value = app
        .get(&app.url("plentum", &format!("customers/{customer_id}.json")))
        .await
        .json()
        .await
        .unwrap();
    assert!(customer["customer"]["orders_count"].as_u64().unwrap() >= 1);
    assert!(customer["customer"]["total_spent"].is_string());
    let (customers, _) = app
        .walk(&app.url("plentum", "customers.json?limit=250"), "customers")
        .await;
    assert_eq!(customers.len(), app.sim.customers_json("plentum").len());

    let (products, _) = app
        .walk(&app.url("mavena", "products.json?limit=40"), "products")
        .await;
    assert_eq!(products, app.sim.products_json("mavena"));
    let (drafts, _) = app
        .walk(&app.url("mavena", "products.json?status=draft"), "products")
        .await;
    assert!(!drafts.is_empty() && drafts.iter().all(|p| p["status"] == "draft"));

    let items: Vec<String> = products
        .iter()
        .flat_map(|p| p["variants"].as_array().unwrap().clone())
        .map(|v| v["inventory_item_id"].to_string())
        .collect();
    let query = format!(
        "inventory_levels.json?inventory_item_ids={}",
        items[..50].join(",")
    );
    let levels: Value = app
        .get(&app.url("mavena", &query))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(levels["inventory_levels"].as_array().unwrap().len(), 50);
    let too_many = format!(
        "inventory_levels.json?inventory_item_ids={}",
        items[..51].join(",")
    );
    assert_eq!(app.get(&app.url("mavena", &too_many)).await.status(), 422);
    let locations: Value = app
        .get(&app.url("pawfully", "locations.json"))
        .await
        .json()
        .await
        .unwrap();
    let location = locations["locations"][0]["id"].as_u64().unwrap();
    let (at_location, _) = app
        .walk(
            &app.url(
                "pawfully",
                &format!("inventory_levels.json?location_ids={location}&limit=250"),
            ),
            "inventory_levels",
        )
        .await;
    assert!(!at_location.is_empty() && at_location.iter().all(|l| l["location_id"] == location));
}

#[tokio::test]
async fn faults_produce_the_configured_failures() {
    let app = spawn(0.1).await;
    app.sim.set_rate_limit(false);
    let url = app.url("plentum", "orders.json?status=any");

    app.sim.set_faults(Faults {
        http_5xx_rate: 1.0,
        seed: 1,
        ..Faults::default()
    });
    let status = app.get(&url).await.status().as_u16();
    assert!([500, 502, 503].contains(&status), "{status}");

    app.sim.set_faults(Faults {
        http_429_rate: 1.0,
        seed: 1,
        ..Faults::default()
    });
    let storm = app.get(&url).await;
    assert_eq!(storm.status(), 429);
    assert_eq!(storm.headers()["retry-after"], "1.0");

    app.sim.set_faults(Faults {
        truncated_rate: 1.0,
        seed: 1,
        ..Faults::default()
    });
    let truncated = app.get(&url).await;
    assert_eq!(truncated.status(), 200);
    let bytes = truncated.bytes().await.unwrap();
    assert!(!bytes.is_empty() && serde_json::from_slice::<Value>(&bytes).is_err());

    app.sim.set_faults(Faults {
        reset_rate: 1.0,
        seed: 1,
        ..Faults::default()
    });
    let reset = reqwest::Client::new()
        .get(&url)
        .header("X-Shopify-Access-Token", &app.token)
        .send()
        .await;
    // hyper closes the connection before the status line: the client sees no response at all.
    let error = reset.expect_err("a reset must fail the request");
    assert!(error.is_request(), "{error:?}");

    app.sim.set_faults(Faults {
        slow_rate: 1.0,
        slow_ms: 300,
        seed: 1,
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(app.get(&url).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Mixed rates: the same seed gives the same sequence.
    let mixed = Faults {
        http_5xx_rate: 0.3,
        http_429_rate: 0.2,
        seed: 99,
        ..Faults::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        app.sim.set_faults(mixed.clone());
        let mut statuses = Vec::new();
        for _ in 0..20 {
            statuses.push(app.get(&url).await.status().as_u16());
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&200) && runs[0].iter().any(|&s| s != 200),
        "{:?}",
        runs[0]
    );

    app.sim.set_faults(Faults::default());
    assert_eq!(app.get(&url).await.status(), 200);
}
