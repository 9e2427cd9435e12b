//! Query strings parsed into types at the edge, refusing what they do not
//! expect.
//!
//! A misspelt parameter (`?brnad=mavena`) silently ignored would show every
//! brand and look like an answer; refusing it with the reason is kinder.
//!
//! [`chosen_brands`] is the one reading of the brand filter (`brand`) and
//! the region filter (`region`, standing for its brands), for the pages
//! and the API alike.
//!
//! [`parse_range`] is the one reading of `range`, `from` and `to`, for the
//! panel API and the pages alike. They differ in one thing only, and say
//! so: dates sent with a preset range are a 400 from the API, while a page
//! (whose form always sends its date fields) shows the preset and a notice
//! naming the dates it did not use.

use crate::{AppState, Error};
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use opsdeck_domain::Brand;
use opsdeck_metrics::panels::Range;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The query string as `T`; unknown parameters and bad values are a 400
/// naming the problem. `T` should use `#[serde(deny_unknown_fields)]`.
pub(crate) struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| Params(value))
            .map_err(|rejection| Error::BadRequest(rejection.body_text()))
    }
}

/// For routes that take no parameters at all.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

/// The brands `?brand=` and `?region=` choose, within the brands the
/// person sees (`crate::scope`); `None` when neither is given and the
/// person sees every brand (every brand). Empty values count as absent (a
/// form sends its empty fields). A region stands for its brands; a brand
/// outside the region asked for is excluded, so both together choose the
/// brand if it is in the region and no brand otherwise. An unknown brand
/// or region is a 400 naming it (and the regions there are); a brand, or
/// a region with no brand, outside the person's scope is a 403 naming it.
/// A scoped person asking for neither gets their brands.
pub(crate) fn chosen_brands<'a>(
    state: &'a AppState,
    brand: Option<&str>,
    region: Option<&str>,
) -> Result<Option<Vec<&'a Brand>>, Error> {
    let brand = present(brand).map(|b| state.brand(b)).transpose()?;
    let Some(region) = present(region) else {
        return Ok(match brand {
            Some(b) => Some(vec![b]),
            None if crate::scope::current().is_every() => None,
            None => Some(state.visible_brands()),
        });
    };
    let regions = &state.panel_config.regions;
    let Some(region) = regions.iter().find(|r| r.id.as_str() == region) else {
        let known: Vec<&str> = state
            .visible_regions()
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        return Err(Error::BadRequest(if known.is_empty() {
            format!("unknown region {region:?}: no regions are configured")
        } else {
            format!(
                "unknown region {region:?}: the regions are {}",
                known.join(", ")
            )
        }));
    };
    let seen = state.visible_brands();
    if !region.brands.is_empty() && !seen.iter().any(|b| region.has_brand(&b.id)) {
        return Err(state.out_of_scope(&format!("region {:?}", region.id.as_str())));
    }
    Ok(Some(
        seen.into_iter()
            .filter(|b| region.has_brand(&b.id))
            .filter(|b| brand.is_none_or(|only| only.id == b.id))
            .collect(),
    ))
}

/// The one brand a single-brand page shows: the one `?brand=` names (a
/// 400 when unknown, a 403 outside the person's scope), or else the first
/// launched brand of those `?region=` (or the person's scope) chooses. A
/// page's filter form sends both, so a region picked with a brand outside
/// it shows the region's first brand (the page's heading names the brand
/// shown). No launched brand to show is a 404.
pub(crate) fn one_brand<'a>(
    state: &'a AppState,
    brand: Option<&str>,
    region: Option<&str>,
) -> Result<&'a Brand, Error> {
    let asked = present(brand).map(|b| state.brand(b)).transpose()?;
    let chosen = chosen_brands(state, None, region)?;
    match (asked, chosen) {
        (Some(b), None) => Ok(b),
        (Some(b), Some(c)) if c.iter().any(|x| x.id == b.id) => Ok(b),
        (_, chosen) => chosen
            .unwrap_or_else(|| state.brands.iter().collect())
            .into_iter()
            .find(|b| b.launched)
            .ok_or(Error::NotFound),
    }
}

/// What to do with `from`/`to` sent with a preset range (`7d`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PresetDates {
    /// 400, naming the parameters (the API: a caller's mistake).
    Refuse,
    /// Show the preset and say the dates were not used (a page).
    IgnoreAndSay,
}

/// A range parsed from the query, and what was done with its parameters
/// when that differs from what was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RangeChoice {
    pub range: Range,
    pub range_name: String,
    pub notice: Option<String>,
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// `range` (default `default`), `from` and `to` as a [`Range`]. Empty
/// values count as absent (a form sends its empty fields).
pub(crate) fn parse_range(
    range: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    default: &str,
    preset_dates: PresetDates,
) -> Result<RangeChoice, Error> {
    let name = present(range).unwrap_or(default).to_string();
    let (from, to) = (present(from), present(to));
    let bad = |e: opsdeck_metrics::panels::RangeError| Error::BadRequest(e.to_string());
    let dated = from.is_some() || to.is_some();
    if name == "custom" || !dated || preset_dates == PresetDates::Refuse {
        let range = Range::parse(Some(&name), from, to).map_err(bad)?;
        return Ok(RangeChoice {
            range,
            range_name: name,
            notice: None,
        });
    }
    let range = Range::parse(Some(&name), None, None).map_err(bad)?;
    let sent: Vec<String> = [("from", from), ("to", to)]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k} {}", crate::audit::bounded(v, 40))))
        .collect();
    let notice = format!(
        "Showing range {name}: the dates sent ({}) apply only to a custom range, so they were not used. \
         Choose Custom to see those dates.",
        sent.join(", ")
    );
    Ok(RangeChoice {
        range,
        range_name: name,
        notice: Some(notice),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_refuses_dates_with_a_preset_and_a_page_says_it_ignored_them() {
        let api = parse_range(
            Some("7d"),
            Some("2026-06-01"),
            None,
            "today",
            PresetDates::Refuse,
        );
        let message = api.unwrap_err().to_string();
        assert!(message.contains("custom"), "{message}");
        let page = parse_range(
            Some("7d"),
            Some("2026-06-01"),
            Some("2026-06-05"),
            "30d",
            PresetDates::IgnoreAndSay,
        )
        .unwrap();
        assert_eq!(page.range, Range::Days { days: 7 });
        let notice = page.notice.unwrap();
        assert!(
            notice.contains("from 2026-06-01, to 2026-06-05") && notice.contains("7d"),
            "{notice}"
        );
    }

    #[test]
    fn empty_fields_are_absent_and_custom_dates_are_used_alike() {
        for mode in [PresetDates::Refuse, PresetDates::IgnoreAndSay] {
            let empty = parse_range(Some("7d"), Some(""), Some(" "), "30d", mode).unwrap();
            assert_eq!((empty.range, empty.notice), (Range::Days { days: 7 }, None));
            let default = parse_range(None, None, None, "30d", mode).unwrap();
            assert_eq!(default.range_name, "30d");
            let custom = parse_range(
                Some("custom"),
                Some("2026-06-01"),
                Some("2026-06-05"),
                "30d",
                mode,
            )
            .unwrap();
            assert!(matches!(custom.range, Range::Custom { .. }) && custom.notice.is_none());
            assert!(parse_range(Some("custom"), Some("2026-06-01"), None, "30d", mode).is_err());
            assert!(parse_range(Some("1y"), None, None, "30d", mode).is_err());
        }
    }

    proptest::proptest! {
        /// Any query values: a range or a 400 naming the problem, never a
        /// panic; a page's notice only when dates came with a preset.
        #[test]
        fn any_range_parameters_parse_or_are_refused(
            range in proptest::option::of("(today|7d|30d|90d|custom|[a-z0-9]{0,4})"),
            from in proptest::option::of("(2026-0[1-9]-[0-2][0-9]|[ -~]{0,12})"),
            to in proptest::option::of("(2026-0[1-9]-[0-2][0-9]|[ -~]{0,12})"),
        ) {
            for mode in [PresetDates::Refuse, PresetDates::IgnoreAndSay] {
                match parse_range(range.as_deref(), from.as_deref(), to.as_deref(), "30d", mode) {
                    Ok(choice) => {
                        let custom = matches!(choice.range, Range::Custom { .. });
                        proptest::prop_assert!(choice.notice.is_none() || (!custom && mode == PresetDates::IgnoreAndSay));
                    }
                    Err(e) => proptest::prop_assert!(!e.to_string().is_empty()),
                }
            }
        }
    }
}
