//! Query strings parsed into types at the edge, refusing what they do not
//! expect.
//!
//! A misspelt parameter (`?brnad=mavena`) silently ignored would show every
//! brand and look like an answer; refusing it with the reason is kinder.

use crate::Error;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
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
