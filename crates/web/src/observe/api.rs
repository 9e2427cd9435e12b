//! `GET /api/v1/system/latency`: opsdeck's own request latency, p50 and
//! p99 by route group over the last five minutes (`LatencyBook`). It
//! needs `ViewDashboard`, as `/sources` does: it says how the service
//! performs, nothing of the merchant's business or money.
//!
//! A page shows the same snapshot through the template include
//! `system_latency.html` (a `latency` variable holding a
//! [`super::LatencySnapshot`]).

use crate::api::ApiRoute;
use crate::params::{NoParams, Params};
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;

pub(crate) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/system/latency",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(latency),
    }
}

async fn latency(
    State(state): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<super::LatencySnapshot>, Error> {
    Ok(Json(state.latency.snapshot()))
}

#[cfg(test)]
mod tests {
    use super::super::{LatencyBook, RouteGroup};
    use std::time::{Duration, Instant};

    #[test]
    fn the_include_shows_each_group_with_its_percentiles() {
        let book = LatencyBook::default();
        let now = Instant::now();
        book.record(RouteGroup::Api, now, Duration::from_micros(12_340));
        let html = crate::templates::render(
            "system_latency.html",
            serde_json::json!({ "latency": book.snapshot_at(now) }),
        )
        .unwrap();
        assert!(html.contains("JSON API"), "{html}");
        assert!(html.contains("12.3 ms"), "{html}");
        assert!(html.contains("Dashboard pages"), "{html}");
        // A group without requests says so rather than showing zero.
        assert!(html.contains("no requests"), "{html}");
        assert!(html.contains("5 minutes"), "{html}");
    }
}
