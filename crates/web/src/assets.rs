//! The stylesheet, embedded so the binary is self-contained. It is small and
//! not fingerprinted, so it is cached only briefly.

use crate::auth::rules::{Access, Routes};
use axum::http::header;
use axum::response::IntoResponse;

const APP_CSS: &str = include_str!("../static/app.css");
const LIVE_JS: &str = include_str!("../static/live.js");

/// Public: the login page needs them. `/favicon.ico` is declared so a
/// browser asking for it unasked gets a 404, not a redirect to `/login`
/// that would reset the login form's CSRF cookie under the person typing.
pub(crate) fn router() -> Routes {
    Routes::new()
        .get("/static/app.css", Access::Public, app_css)
        .get("/static/live.js", Access::Public, live_js)
        .get("/favicon.ico", Access::Public, crate::error::not_found)
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
