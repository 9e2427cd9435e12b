//! Headers set on every response, errors, redirects and static files
//! included.
//!
//! Pages load script only from our own origin (`static/*.js`), never
//! inline, so the content security policy allows only `'self'`;
//! `frame-ancestors 'none'` stops the dashboard being framed by another
//! site (clickjacking), `form-action 'self'` keeps forms posting here, and
//! `base-uri 'none'` stops an injected `<base>` redirecting relative URLs.
//!
//! Request bodies: [`body_limit`] is the one table of how large a body each
//! route takes, and [`limit_body`] refuses anything larger with 413 before
//! any handler (or the CSRF check) reads it. A login form is a few hundred
//! bytes, so a 1 MB username never reaches the login handler, the log or
//! the audit log.

use crate::error::{Error, PageError};
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; \
    base-uri 'none'";
pub const REFERRER_POLICY: &str = "same-origin";
/// Browser features the dashboard never uses, switched off.
pub const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/// Wraps every route of `router` (and its fallback) with the security headers.
pub(crate) fn with_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static(REFERRER_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
}

/// How large a request body a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyLimit {
    /// At most this many bytes, enforced here.
    Max(usize),
    /// The route reads its body itself, to its own documented limit: the
    /// ingest API ([`crate::ingest::MAX_BODY_BYTES`], and at most
    /// [`crate::ingest::MAX_RECORDS`] records) and the Shopify webhooks
    /// ([`crate::webhooks::MAX_BODY`]).
    Own,
}

/// The login form: username, password, CSRF token and `next`.
pub const LOGIN_BODY_BYTES: usize = 16 * 1024;
/// Every other form and JSON write (acknowledge, silence, decision notes).
pub const FORM_BODY_BYTES: usize = 64 * 1024;

/// The body limit of `path`: one table for every route.
pub(crate) fn body_limit(path: &str) -> BodyLimit {
    if path.starts_with("/api/v1/ingest/") || path.starts_with("/webhooks/") {
        BodyLimit::Own
    } else if path == "/login" {
        BodyLimit::Max(LOGIN_BODY_BYTES)
    } else {
        BodyLimit::Max(FORM_BODY_BYTES)
    }
}

fn too_large(path: &str, limit: usize) -> Response {
    let error = Error::PayloadTooLarge(format!(
        "the request body is larger than {limit} bytes, the most this route takes"
    ));
    if path.starts_with("/api/") {
        error.into_response()
    } else {
        PageError(error).into_response()
    }
}

/// Refuses a body over its route's [`body_limit`] with 413: at once when
/// `Content-Length` says so, else while reading it (never more than the
/// limit is held).
pub(crate) async fn limit_body(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let BodyLimit::Max(limit) = body_limit(&path) else {
        return next.run(request).await;
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(&path, limit);
    }
    let (parts, body) = request.into_parts();
    match to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(&path, limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_body_limit() {
        assert_eq!(body_limit("/login"), BodyLimit::Max(LOGIN_BODY_BYTES));
        assert_eq!(
            body_limit("/alerts/E1/ack"),
            BodyLimit::Max(FORM_BODY_BYTES)
        );
        assert_eq!(
            body_limit("/api/v1/alerts/silences"),
            BodyLimit::Max(FORM_BODY_BYTES)
        );
        assert_eq!(body_limit("/api/v1/ingest/orders"), BodyLimit::Own);
        assert_eq!(body_limit("/webhooks/shopify"), BodyLimit::Own);
    }
}
