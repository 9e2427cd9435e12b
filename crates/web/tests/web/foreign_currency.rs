//! Issue 11.1: one order in a foreign currency (stored before the doors
//! refused or converted such orders) made `/`, `/fragments/volume` and
//! `/api/v1/order-volume` answer 500 for every brand and role. The panel
//! now shows what it can and names what it left out.

use crate::common::*;
use axum::body::Body;
use axum::http::Request;
use opsdeck_domain::{Currency, Money};
use opsdeck_store::AnyRecord;
use opsdeck_web::auth::Role;
use opsdeck_web::testing::user_session;

/// The fixture plus a non-cancelled EUR order for Mavena (a USD brand)
/// created today, with the projection built as the app builds it at start.
async fn with_a_euro_order() -> Fixture {
    let fx = Fixture::new().await;
    let euro = order(
        "shopify-mavena",
        "mavena",
        "eur-1",
        "2026-06-10T15:00:00Z",
        Money::new(49_90, Currency::EUR),
    );
    fx.state
        .store
        .upsert(&[AnyRecord::Order(euro)], None)
        .await
        .unwrap();
    fx.build_projection().await;
    fx
}

#[tokio::test]
async fn a_foreign_currency_order_is_left_out_and_named_for_every_role() {
    {
        let fx = with_a_euro_order().await;
        let (status, json) = fx.get_json("/api/v1/order-volume").await;
        assert_eq!(status, 200, "{json}");
        let mavena = json["brands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["brand"]["id"] == "mavena")
            .unwrap();
        let today = &mavena["periods"][0];
        // Counted as an order (3 with the cancelled one), not in revenue.
        assert_eq!(today["orders"], 3, "{today}");
        assert_eq!(today["gross_revenue"]["minor"], 100_00, "{today}");
        assert_eq!(
            today["left_out"],
            serde_json::json!([{"orders": 1, "currency": "EUR", "brand_currency": "USD"}])
        );
        let kumo = json["brands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["brand"]["id"] == "kumo")
            .unwrap();
        assert_eq!(kumo["periods"][0]["left_out"], serde_json::json!([]));

        for role in [Role::Admin, Role::Viewer, Role::Support] {
            let session = user_session(
                fx.state.store.as_ref(),
                &format!("{role:?}-user").to_lowercase(),
                role,
                ts(NOW),
            )
            .await;
            for uri in ["/", "/fragments/volume", "/api/v1/order-volume"] {
                let response = send_as(
                    fx.router(),
                    &session,
                    Request::get(uri).body(Body::empty()).unwrap(),
                )
                .await;
                let status = response.status().as_u16();
                let text = body_text(response).await;
                // The API is the admin's (403 for other roles, by their
                // permissions); never a 500.
                let expected = match (uri, role) {
                    ("/api/v1/order-volume", Role::Viewer | Role::Support) => 403,
                    _ => 200,
                };
                assert_eq!(status, expected, "{role:?} {uri}: {text}");
                if uri != "/api/v1/order-volume" {
                    assert!(
                        text.contains("1 order left out: currency EUR, brand currency USD"),
                        "{role:?} {uri} names what it left out"
                    );
                }
            }
        }
    }
}
