//! The JSON the API serves, as private `Serialize` structs rendered on request
//! from the compact world: field names and JSON types follow Shopify's REST
//! payloads (money as decimal strings, ids as numbers, timestamps with the
//! shop's UTC offset, `tags` as one comma-separated string).

mod customer;
mod order;
mod order_parts;
mod product;

pub(crate) use customer::{customer_json, location_json};
pub(crate) use order::order_json;
pub(crate) use product::{inventory_level_json, product_json};

use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::Serialize;

/// "12.50" from 1250 minor units (USD, exponent 2).
pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// "2026-05-03T14:05:09-04:00": the shop's local time with its offset, like Shopify.
pub(crate) fn timestamp(seconds: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(seconds)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[derive(Serialize)]
struct Money {
    amount: String,
    currency_code: String,
}

/// Shopify's `*_set` objects: the amount in shop and presentment currency (the same here).
#[derive(Serialize)]
struct MoneySet {
    shop_money: Money,
    presentment_money: Money,
}

fn money_set(cents: i64, currency: &str) -> MoneySet {
    MoneySet {
        shop_money: Money {
            amount: money(cents),
            currency_code: currency.to_string(),
        },
        presentment_money: Money {
            amount: money(cents),
            currency_code: currency.to_string(),
        },
    }
}

fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn money_and_timestamps_look_like_shopify() {
        assert_eq!(super::money(1250), "12.50");
        assert_eq!(super::money(5), "0.05");
        assert_eq!(super::money(-199), "-1.99");
        let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
        // 2026-05-03T18:05:09Z
        assert_eq!(
            super::timestamp(1_777_831_509, &tz),
            "2026-05-03T14:05:09-04:00"
        );
    }
}
