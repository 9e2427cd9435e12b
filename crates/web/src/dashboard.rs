//! `GET /`: the dashboard page, rendered on the server from
//! `templates/dashboard.html`. No script: it works in any browser and under
//! a strict content security policy; a reload shows fresh numbers.

use crate::error::PageError;
use crate::params::{NoParams, Params};
use crate::view::DashboardPage;
use crate::{cards, templates, AppState, Error};
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use opsdeck_domain::Brand;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

async fn dashboard(
    State(state): State<AppState>,
    params: Result<Params<NoParams>, Error>,
) -> Result<Html<String>, PageError> {
    params?;
    let now = state.now();
    let brands: Vec<&Brand> = state.brands.iter().collect();
    let panels = cards::load(&state, &brands, now).await?;
    let html = templates::render("dashboard.html", DashboardPage::new(&panels, now))
        .map_err(Error::from)?;
    Ok(Html(html))
}
