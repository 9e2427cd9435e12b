//! `GET /`: every tile for all brands, the one in `?brand=` or the
//! region's in `?region=`, and
//! `GET /fragments/{tile}`: one tile alone, for the live script.

use super::tiles::{self, Shown, Tile};
use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::params::Params;
use crate::{templates, AppState, Error};
use axum::extract::{Path, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrandFilter {
    /// A brand id; empty or absent means every brand.
    brand: Option<String>,
    /// A region id: its brands; empty or absent means no region filter.
    region: Option<String>,
}

impl BrandFilter {
    fn only(&self) -> Option<&str> {
        self.brand.as_deref().filter(|b| !b.is_empty())
    }

    fn region(&self) -> Option<&str> {
        self.region.as_deref().filter(|r| !r.is_empty())
    }

    fn shown<'a>(&self, state: &'a AppState) -> Result<Shown<'a>, Error> {
        Shown::of(state, self.only(), self.region())
    }
}

#[derive(Serialize)]
struct Choice {
    id: String,
    name: String,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Params<BrandFilter>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(filter) = params?;
    let now = state.now();
    let money = user.can(Permission::ViewRevenue);
    let states = state.store.all_sync_states().await.map_err(Error::from)?;
    let shown = filter.shown(&state)?;
    let mut rendered = Vec::with_capacity(Tile::ALL.len());
    for &tile in Tile::ALL {
        rendered.push(tiles::render(&state, tile, &shown, money, &states, now).await?);
    }
    // The pickers offer what the person sees (`crate::scope`).
    let all_regions: Vec<Choice> = state
        .visible_regions()
        .into_iter()
        .map(|r| Choice {
            id: r.id.to_string(),
            name: r.name.clone(),
        })
        .collect();
    let all_brands: Vec<Choice> = state
        .visible_brands()
        .into_iter()
        .map(|b| Choice {
            id: b.id.to_string(),
            name: b.name.clone(),
        })
        .collect();
    let pins = crate::incidents::dashboard_pins(&state).await?;
    let html = templates::render(
        "dashboard.html",
        minijinja::context! {
            pins => pins,
            tiles => rendered,
            all_brands => all_brands,
            all_regions => all_regions,
            selected => filter.only().unwrap_or(""),
            selected_region => filter.region().unwrap_or(""),
            can_refresh => user.can(Permission::RefreshSync),
            back => if shown.query.is_empty() { "/".to_string() } else { format!("/?{}", shown.query) },
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

pub(crate) async fn fragment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(tile): Path<String>,
    params: Result<Params<BrandFilter>, Error>,
) -> Result<Html<String>, Error> {
    let Params(filter) = params?;
    let tile = Tile::parse(&tile).ok_or(Error::NotFound)?;
    let now = state.now();
    let money = user.can(Permission::ViewRevenue);
    let states = state.store.all_sync_states().await?;
    let shown = filter.shown(&state)?;
    Ok(Html(
        tiles::render(&state, tile, &shown, money, &states, now).await?,
    ))
}
