//! Session cookies: the session's random id in `opsdeck_session`
//! (HttpOnly, SameSite=Lax, Path=/, Secure when the browser reached us over
//! TLS). The id, its stored hash and the session's lifetime are account
//! policy (`opsdeck_accounts::session`).

use axum::http::{header, HeaderMap, HeaderValue};

pub const SESSION_COOKIE: &str = "opsdeck_session";
/// The login form's own CSRF cookie (double submit), set before any
/// session exists.
pub(crate) const LOGIN_CSRF_COOKIE: &str = "opsdeck_login_csrf";

/// The value of cookie `name` in the request, if any.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the flags every opsdeck cookie has.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<u64>,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are base64url")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_parse_and_carry_the_flags() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; opsdeck_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        let c = set_cookie(SESSION_COOKIE, "v", None, true);
        assert_eq!(
            c,
            "opsdeck_session=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let c = set_cookie(SESSION_COOKIE, "", Some(0), false);
        assert_eq!(
            c,
            "opsdeck_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }
}
