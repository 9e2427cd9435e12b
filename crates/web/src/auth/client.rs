//! Where a request comes from, and whether it reached us over TLS.
//!
//! The socket's peer address is the truth unless that peer is a configured
//! trusted proxy: then the right-most `X-Forwarded-For` entry that is not
//! itself a trusted proxy is the client, and `X-Forwarded-Proto: https`
//! says the browser used TLS. Headers from anyone else are ignored, so a
//! client cannot choose the address the lockout and the audit log see.

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};

/// The client of one request, as the guard determined it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// `None` when the server runs without connection info (router tests).
    pub ip: Option<IpAddr>,
    /// The browser reached us over TLS (per a trusted proxy).
    pub https: bool,
}

impl ClientInfo {
    pub(crate) fn of(parts: &Parts, trusted: &[IpAddr]) -> ClientInfo {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        from_peer(peer, &parts.headers, trusted)
    }

    /// The address as the audit log stores it.
    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }

    /// The address as rate limits and login throttling count it
    /// ([`opsdeck_accounts::limiter::address_key`]: an IPv6 host by its
    /// /64). `None` without an address.
    pub(crate) fn rate_key(&self) -> Option<String> {
        self.ip.map(opsdeck_accounts::limiter::address_key)
    }
}

fn from_peer(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> ClientInfo {
    let Some(peer) = peer else {
        return ClientInfo {
            ip: None,
            https: false,
        };
    };
    if !trusted.contains(&peer) {
        return ClientInfo {
            ip: Some(peer),
            https: false,
        };
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let ip = forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .copied()
        .unwrap_or(peer);
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    ClientInfo {
        ip: Some(ip),
        https,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn rate_keys_group_an_ipv6_host_by_its_network() {
        let key = |ip: &str| {
            ClientInfo {
                ip: Some(ip.parse().unwrap()),
                https: false,
            }
            .rate_key()
            .unwrap()
        };
        assert_eq!(key("192.0.2.7"), "192.0.2.7");
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
        assert_eq!(key("::ffff:192.0.2.7"), "192.0.2.7");
        let none = ClientInfo {
            ip: None,
            https: false,
        };
        assert_eq!(none.rate_key(), None);
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9, 198.51.100.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let direct = from_peer(Some("192.0.2.1".parse().unwrap()), &h, &[proxy]);
        assert_eq!(direct.ip, Some("192.0.2.1".parse().unwrap()));
        assert!(!direct.https, "an untrusted peer cannot claim TLS");
        let via = from_peer(Some(proxy), &h, &[proxy]);
        assert_eq!(
            via.ip,
            Some("198.51.100.4".parse().unwrap()),
            "the right-most entry the proxy added, not the client-supplied left one"
        );
        assert!(via.https);
        let none = from_peer(Some(proxy), &HeaderMap::new(), &[proxy]);
        assert_eq!(none.ip, Some(proxy));
        assert_eq!(from_peer(None, &h, &[proxy]).ip, None);
    }
}
