//! The stylesheet, embedded so the binary is self-contained. It is small and
//! not fingerprinted, so it is cached only briefly.

use crate::AppState;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const APP_CSS: &str = include_str!("../static/app.css");
const LIVE_JS: &str = include_str!("../static/live.js");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(app_css))
        .route("/static/live.js", get(live_js))
}

async fn app_css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        APP_CSS,
    )
}

async fn live_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        LIVE_JS,
    )
}
