//! The order volume cards from the projection's sales rollups equal the
//! cards from the store's order facts (the definition) on generated data:
//! cancelled and test orders, three time zones with their DST changes,
//! "now" at and between local midnights and month starts.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, world};
use jiff::civil::Weekday;
use opsdeck_domain::{Brand, BrandKind, Currency, Money, Order, Timestamp};
use opsdeck_metrics::order_volume::order_volume_from_sales;
use opsdeck_metrics::{order_volume, BrandVolume, Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, OrderFact};

fn brands() -> Vec<Brand> {
    vec![
        brand("plentum", "America/New_York", BrandKind::Subscription, true),
        brand("mavena", "America/Los_Angeles", BrandKind::Dropship, true),
        brand("pawly", "Europe/London", BrandKind::Standard, true),
        brand("retromedy", "UTC", BrandKind::Standard, false),
    ]
}

fn orders(records: &[AnyRecord]) -> impl Iterator<Item = &Order> {
    records.iter().filter_map(|r| match r {
        AnyRecord::Order(o) => Some(o),
        _ => None,
    })
}

/// What the store's `order_facts` returns for `brand`: its non-test orders.
fn facts(records: &[AnyRecord], brand: &Brand) -> Vec<OrderFact> {
    orders(records)
        .filter(|o| o.brand == brand.id && !o.test)
        .map(|o| OrderFact {
            created_at: o.created_at,
            total_price: o.total_price,
            cancelled: o.is_cancelled(),
        })
        .collect()
}

fn projection(records: &[AnyRecord]) -> Projection {
    let mut p = Projection::new(brands(), SubscriptionRules::default());
    for r in records {
        p.apply_record(r);
    }
    p
}

fn from_sales(p: &Projection, brand: &Brand, now: Timestamp, week: Weekday) -> Option<BrandVolume> {
    let ix = p.ctx.brand_ix(&brand.id).unwrap();
    order_volume_from_sales(brand, &p.orders.sales[usize::from(ix)], now, week)
}

#[test]
fn projected_cards_equal_the_cards_from_order_facts() {
    // 100 days before 2026-04-02 12:00Z: New York changes to summer time on
    // 03-08 and London on 03-29, so weeks and months straddle both.
    let end: Timestamp = "2026-04-02T12:00:00Z".parse().unwrap();
    let records = world(7, &brands(), 30_000, 0, 100, end.as_second());
    let p = projection(&records);
    let nows = [
        "2026-04-02T12:00:00Z",    // the newest data
        "2026-04-01T04:00:00Z",    // New York's midnight, April 1st
        "2026-04-01T07:00:00Z",    // Los Angeles' midnight, April 1st
        "2026-03-31T23:00:00Z",    // London's midnight, April 1st (BST)
        "2026-03-09T03:59:59Z",    // the day after New York's DST change
        "2026-03-29T00:30:00Z",    // London's DST change day
        "2026-03-16T16:17:18Z",    // a Monday afternoon
        "2026-02-28T23:59:59Z",    // the end of a short month, UTC
        "2026-03-01T08:00:01.25Z", // fractional now, but no order at that second
    ];
    let mut compared = 0;
    for now in nows {
        let now: Timestamp = now.parse().unwrap();
        for week in [Weekday::Monday, Weekday::Sunday] {
            for brand in brands() {
                let expected = order_volume(&brand, &facts(&records, &brand), now, week);
                let actual = from_sales(&p, &brand, now, week);
                assert_eq!(
                    actual.as_ref(),
                    Some(&expected),
                    "{} at {now}, weeks from {week:?}",
                    brand.id
                );
                compared += expected.periods().iter().filter(|c| c.orders > 0).count();
            }
        }
    }
    assert!(
        compared > 100,
        "the cards compared were mostly empty ({compared} with orders)"
    );
}

#[test]
fn an_order_in_another_currency_leaves_the_cards_to_the_facts() {
    let end: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let mut records = world(3, &brands(), 2_000, 0, 40, end.as_second());
    let mut p = projection(&records);
    let plentum = &brands()[0];
    assert!(from_sales(&p, plentum, end, Weekday::Monday).is_some());

    let AnyRecord::Order(mut euro) = records[0].clone() else {
        panic!("world starts with orders")
    };
    euro.brand = plentum.id.clone();
    euro.external_id = "euro".into();
    euro.test = false;
    euro.created_at = "2026-06-10T15:00:00Z".parse().unwrap();
    euro.total_price = Money::new(10_00, Currency::EUR);
    euro.cancelled_at = Some(euro.created_at);
    p.apply_record(&AnyRecord::Order(euro.clone()));
    assert!(
        from_sales(&p, plentum, end, Weekday::Monday).is_some(),
        "a cancelled order in another currency is counted, not summed"
    );

    euro.cancelled_at = None;
    p.apply_record(&AnyRecord::Order(euro.clone()));
    records.push(AnyRecord::Order(euro));
    assert_eq!(from_sales(&p, plentum, end, Weekday::Monday), None);
    // The facts name it instead (see order_volume.rs).
    let from_facts = order_volume(plentum, &facts(&records, plentum), end, Weekday::Monday);
    assert_eq!(from_facts.periods()[0].left_out[0].currency, Currency::EUR);
}
