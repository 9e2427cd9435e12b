//! An independent check of the engine's core numbers: orders, revenue and
//! AOV per brand per local day, unfulfilled age buckets and CSAT per day are
//! computed by plain SQL over the store's own columns (never the projection,
//! never the JSON bodies) and must equal what the panels say for the same
//! `now`, on every backend (SQLite always, PostgreSQL when configured).
//!
//! Local days: on both backends each brand's local day is turned into a
//! `[start, end)` range of UTC microseconds in Rust with jiff (the civil
//! date at the zone's start of day), and SQL aggregates inside it. On
//! PostgreSQL the daily orders and revenue are checked a second time with
//! the database's own time-zone rules (`to_timestamp(..) AT TIME ZONE`),
//! so the bucketing itself is not only Rust's.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, world};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use opsdeck_domain::{Brand, BrandKind, Currency, Money, Timestamp};
use opsdeck_metrics::panels::{self, Range};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;
use sqlx::Row;
use std::collections::BTreeMap;

/// Thursday 2026-03-12 06:30 UTC: Los Angeles is still on the 11th, Tokyo
/// on the 12th afternoon; New York changed to summer time four days ago.
const NOW: i64 = 1_773_297_000;
const DAYS: i32 = 30;

fn brands() -> Vec<Brand> {
    let mut eur = brand("retromedy", "Europe/Berlin", BrandKind::Standard, true);
    eur.currency = Currency::EUR;
    vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        eur,
        brand("kumo", "Asia/Tokyo", BrandKind::Dropship, true),
        brand("pacific", "America/Los_Angeles", BrandKind::Standard, true),
    ]
}

/// Generated orders and tickets; the Berlin brand's orders are in euros
/// except one in ten (left in dollars: foreign, counted but not summed).
fn data() -> Vec<AnyRecord> {
    let bs = brands();
    let mut recs = world(11, &bs, 600, 250, 40, NOW);
    for r in &mut recs {
        if let AnyRecord::Order(o) = r {
            if o.brand.as_str() == "retromedy" && !o.external_id.ends_with('7') {
                o.currency = Currency::EUR;
                o.total_price = Money::new(o.total_price.minor, Currency::EUR);
                o.subtotal_price = Money::new(o.subtotal_price.minor, Currency::EUR);
                o.total_discounts = Money::zero(Currency::EUR);
                o.total_tax = Money::zero(Currency::EUR);
                for l in &mut o.line_items {
                    l.price = Money::new(l.price.minor, Currency::EUR);
                }
                for f in &mut o.refunds {
                    f.amount = Money::new(f.amount.minor, Currency::EUR);
                }
            }
        }
    }
    recs
}

enum Db {
    Lite(sqlx::SqlitePool),
    Pg(sqlx::PgPool),
}

enum Arg {
    I(i64),
    S(String),
}

macro_rules! run {
    ($pool:expr, $sql:expr, $args:expr) => {{
        let mut q = sqlx::query($sql);
        for a in $args {
            q = match a {
                Arg::I(v) => q.bind(*v),
                Arg::S(v) => q.bind(v.clone()),
            };
        }
        q.fetch_all($pool)
            .await
            .unwrap()
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.try_get::<i64, _>(i).unwrap())
                    .collect()
            })
            .collect()
    }};
}

impl Db {
    /// Every row of a query whose columns are all BIGINT.
    async fn rows(&self, sql: &str, args: &[Arg]) -> Vec<Vec<i64>> {
        match self {
            Db::Lite(p) => run!(p, sql, args),
            Db::Pg(p) => run!(p, sql, args),
        }
    }
}

/// `[start, end)` of a local day in UTC microseconds, by jiff alone.
fn day_bounds_us(d: Date, tz: &TimeZone) -> (i64, i64) {
    let start = |d: Date| {
        d.to_zoned(tz.clone())
            .unwrap()
            .start_of_day()
            .unwrap()
            .timestamp()
            .as_microsecond()
    };
    (start(d), start(d.tomorrow().unwrap()))
}

fn today(tz: &TimeZone) -> Date {
    Timestamp::from_second(NOW)
        .unwrap()
        .to_zoned(tz.clone())
        .date()
}

const DAY_SALES: &str = "SELECT COUNT(*), \
     CAST(COALESCE(SUM(CASE WHEN cancelled_at_us IS NULL AND currency = $4 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN cancelled_at_us IS NULL AND currency = $4 THEN total_minor ELSE 0 END), 0) AS BIGINT) \
     FROM orders WHERE brand_id = $1 AND NOT test AND created_at_us >= $2 AND created_at_us < $3";

const AGE_BUCKETS: &str = "SELECT \
     CAST(COALESCE(SUM(CASE WHEN $2 - created_at_us < 48 * 3600000000 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN $2 - created_at_us >= 48 * 3600000000 AND $2 - created_at_us < 96 * 3600000000 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN $2 - created_at_us >= 96 * 3600000000 AND $2 - created_at_us < 192 * 3600000000 THEN 1 ELSE 0 END), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN $2 - created_at_us >= 192 * 3600000000 THEN 1 ELSE 0 END), 0) AS BIGINT) \
     FROM orders WHERE brand_id = $1 AND NOT test AND cancelled_at_us IS NULL \
     AND fulfillment_status IN ('unfulfilled', 'partial')";

const DAY_CSAT: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(score), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END), 0) AS BIGINT) \
     FROM satisfaction_surveys WHERE brand_id = $1 AND score BETWEEN 1 AND 5 \
     AND scored_at_us >= $2 AND scored_at_us < $3";

/// PostgreSQL's own bucketing: local day number (days since 1970-01-01).
const PG_BY_ZONE: &str = "SELECT \
     CAST((to_timestamp(created_at_us / 1000000.0) AT TIME ZONE $2)::date - DATE '1970-01-01' AS BIGINT), \
     COUNT(*), \
     CAST(COALESCE(SUM(CASE WHEN cancelled_at_us IS NULL AND currency = $4 THEN total_minor ELSE 0 END), 0) AS BIGINT) \
     FROM orders WHERE brand_id = $1 AND NOT test AND created_at_us < $3 GROUP BY 1";

fn aov(revenue: i64, paid: i64) -> Option<i64> {
    // Half away from zero, as the engine documents (revenue is never negative here).
    (paid > 0).then(|| (2 * revenue + paid) / (2 * paid))
}

#[tokio::test]
async fn core_numbers_equal_plain_sql_on_every_backend() {
    let recs = data();
    let now = Timestamp::from_second(NOW).unwrap();
    let now_us = NOW * 1_000_000;
    for test in opsdeck_store::testing::each_backend().await {
        let store = test.store.clone();
        for c in recs.chunks(200) {
            store.upsert(c, None).await.unwrap();
        }
        let p = Projection::build(store.as_ref(), brands(), SubscriptionRules::default())
            .await
            .unwrap();
        let db = match test.label {
            "sqlite" => Db::Lite(sqlx::SqlitePool::connect(&test.url).await.unwrap()),
            _ => Db::Pg(sqlx::PgPool::connect(&test.url).await.unwrap()),
        };
        let label = test.label;
        let (mut cancelled, mut foreign, mut partial, mut unanswered) = (0, 0, 0, 0);
        for row in db
            .rows(
                "SELECT CAST(SUM(CASE WHEN cancelled_at_us IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN currency <> 'EUR' AND brand_id = 'retromedy' THEN 1 ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN fulfillment_status = 'partial' THEN 1 ELSE 0 END) AS BIGINT), \
                 (SELECT COUNT(*) FROM satisfaction_surveys WHERE score IS NULL) FROM orders",
                &[],
            )
            .await
        {
            (cancelled, foreign, partial, unanswered) = (row[0], row[1], row[2], row[3]);
        }
        assert!(
            cancelled > 10 && foreign > 3 && partial > 5 && unanswered > 0,
            "the data set has every edge case: {cancelled} {foreign} {partial} {unanswered}"
        );
        let (mut days_with_orders, mut days_with_scores) = (0, 0);
        for (b, brand) in brands().iter().enumerate() {
            let b = b as u8;
            let tz = &brand.time_zone;
            let id = brand.id.as_str().to_string();
            let cur = brand.currency.code().to_string();
            let today = today(tz);
            let mut pg_days = BTreeMap::new();
            let mut day = today.checked_sub(jiff::Span::new().days(DAYS - 1)).unwrap();
            while day <= today {
                let (from, to) = day_bounds_us(day, tz);
                let to_now = to.min(now_us);
                let args = [
                    Arg::S(id.clone()),
                    Arg::I(from),
                    Arg::I(to_now),
                    Arg::S(cur.clone()),
                ];
                let r = &db.rows(DAY_SALES, &args).await[0];
                let (orders, paid, revenue) = (r[0], r[1], r[2]);
                let range = Range::Custom { from: day, to: day };
                let s = panels::sales::brand_sales(&p, b, range, now);
                assert_eq!(s.orders, orders, "{label} {id} {day} orders");
                assert_eq!(s.gross_revenue.minor, revenue, "{label} {id} {day} revenue");
                assert_eq!(
                    s.aov.map(|m| m.minor),
                    aov(revenue, paid),
                    "{label} {id} {day} AOV"
                );
                days_with_orders += i32::from(orders > 0);
                pg_days.insert(
                    (day - Date::constant(1970, 1, 1)).get_days(),
                    (orders, revenue),
                );
                // CSAT: the engine buckets a survey by the local day of its
                // score, the whole day (a score is never later than now).
                let args = [Arg::S(id.clone()), Arg::I(from), Arg::I(to)];
                let r = &db.rows(DAY_CSAT, &args).await[0];
                let (n, sum, good) = (r[0], r[1], r[2]);
                let c = panels::support::csat(&p, b, range, now);
                assert_eq!(c.surveys, n, "{label} {id} {day} surveys");
                let mean = (n > 0).then(|| sum as f64 / n as f64);
                assert_eq!(c.mean, mean, "{label} {id} {day} CSAT mean");
                let share = (n > 0).then(|| good as f64 / n as f64);
                assert_eq!(c.share_4_5, share, "{label} {id} {day} share 4-5");
                days_with_scores += i32::from(n > 0);
                day = day.tomorrow().unwrap();
            }
            // The 30-day series is the same numbers, day by day.
            let s = panels::sales::brand_sales(&p, b, Range::Days { days: 30 }, now);
            let series: Vec<(i64, i64)> = s
                .orders_series
                .iter()
                .zip(&s.revenue_series)
                .map(|(o, r)| (o.value as i64, r.value as i64))
                .collect();
            assert_eq!(
                series,
                pg_days.values().copied().collect::<Vec<_>>(),
                "{label} {id} 30-day series"
            );
            if let Db::Pg(_) = db {
                let args = [
                    Arg::S(id.clone()),
                    Arg::S(tz.iana_name().unwrap().to_string()),
                    Arg::I(now_us),
                    Arg::S(cur.clone()),
                ];
                let by_zone: BTreeMap<i32, (i64, i64)> = db
                    .rows(PG_BY_ZONE, &args)
                    .await
                    .into_iter()
                    .map(|r| (r[0] as i32, (r[1], r[2])))
                    .filter(|(d, _)| pg_days.contains_key(d))
                    .collect();
                let nonzero: BTreeMap<i32, (i64, i64)> = pg_days
                    .iter()
                    .filter(|(_, v)| v.0 > 0)
                    .map(|(k, v)| (*k, *v))
                    .collect();
                assert_eq!(by_zone, nonzero, "{label} {id} AT TIME ZONE buckets");
            }
            let r = &db
                .rows(AGE_BUCKETS, &[Arg::S(id.clone()), Arg::I(now_us)])
                .await[0];
            let f = panels::fulfillment::fulfillment(&p, b, now);
            let engine: Vec<i64> = f.age_buckets.iter().map(|a| a.orders).collect();
            assert_eq!(&engine, r, "{label} {id} unfulfilled age buckets");
            assert!(r.iter().sum::<i64>() > 0, "{label} {id} has open orders");
        }
        assert!(
            days_with_orders > 60 && days_with_scores > 20,
            "{label}: a dense data set"
        );
    }
}
