//! What would break or leak a secret once `serve` runs, refused while the
//! configuration is read (so `check-config` and `serve` refuse the same
//! set, with line and key):
//! - a secret that is not one line of printable characters: a file with
//!   two lines, or a stray space, ends up in an HTTP header, where the
//!   client refuses it ("characters not allowed in a header") long after
//!   `check-config` said OK; a multi-line file is also the sign of the
//!   wrong file named (e.g. `/etc/passwd`);
//! - a secret file that every user of the machine can read (see
//!   [`super::ProcessEnv`]);
//! - a URL that would carry a token in clear: plain `http` to anything but
//!   this machine.

use super::walk::Section;
use opsdeck_alerts::notify::email::is_loopback;
use opsdeck_domain::Secret;
use url::Url;

/// Where a secret came from, as a problem names it (never its value).
pub(super) enum SecretOrigin<'a> {
    Env(&'a str),
    File(&'a str),
}

impl std::fmt::Display for SecretOrigin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretOrigin::Env(name) => write!(f, "environment variable {name}"),
            SecretOrigin::File(path) => write!(f, "file {path}"),
        }
    }
}

/// Why `value` cannot be a secret, or `None` when it can. Surrounding
/// whitespace (a file's final newline) is not part of the secret.
pub(super) fn secret_problem(value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() {
        Some("is empty")
    } else if value.contains(['\n', '\r']) {
        Some("holds more than one line; a secret is one line (is this the right file?)")
    } else if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains spaces or control characters, which no token has and no HTTP header accepts")
    } else {
        None
    }
}

/// The secret read from `origin` for `key`, or `None` after reporting why
/// it cannot be one.
pub(super) fn checked_secret(
    s: &Section<'_, '_>,
    key: &str,
    origin: SecretOrigin<'_>,
    value: &str,
) -> Option<Secret> {
    match secret_problem(value) {
        None => Some(Secret::new(value.trim())),
        Some(why) => {
            s.problem(key, format!("{origin} {why}"));
            None
        }
    }
}

/// Reports `url` at `key` when it would carry a token in clear: plain
/// `http` to a host that is not this machine. Only the host is named (a
/// Slack webhook URL is itself a secret).
pub(super) fn refuse_clear_text(s: &Section<'_, '_>, key: &str, url: &Url) -> bool {
    let host = url.host_str().unwrap_or("");
    if url.scheme() == "http" && !is_loopback(host) {
        s.problem(
            key,
            format!(
                "plain http to {host:?} would send the token in clear: use https \
                 (plain http is accepted to this machine only, e.g. a local proxy)"
            ),
        );
        return true;
    }
    false
}

/// Parses an http(s) URL given at `key` and refuses one that would carry a
/// token in clear. `secret` URLs (a Slack webhook) are never echoed.
pub(super) fn token_url(s: &Section<'_, '_>, key: &str, value: &str, secret: bool) -> Option<Url> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            (!refuse_clear_text(s, key, &url)).then_some(url)
        }
        _ if secret => {
            s.problem(key, "is not an http(s) URL");
            None
        }
        _ => {
            s.problem(key, format!("{value:?} is not an http(s) URL"));
            None
        }
    }
}

/// Whether the file at `path` can be read by every user of this machine
/// (the "other" read bit): a token there is no secret.
#[cfg(unix)]
pub(super) fn world_readable(path: &std::path::Path) -> std::io::Result<Option<u32>> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    Ok((mode & 0o004 != 0).then_some(mode & 0o777))
}

#[cfg(not(unix))]
pub(super) fn world_readable(_: &std::path::Path) -> std::io::Result<Option<u32>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::secret_problem;

    #[test]
    fn a_secret_is_one_line_of_printable_characters() {
        assert_eq!(secret_problem("shpat_abc123\n"), None);
        assert_eq!(secret_problem("  shpat_abc123  "), None);
        assert_eq!(secret_problem(" \n"), Some("is empty"));
        assert!(secret_problem("root:x:0:0\nbin:x:1:1\n")
            .unwrap()
            .contains("more than one line"));
        assert!(secret_problem("abc\r\ndef")
            .unwrap()
            .contains("more than one line"));
        assert!(secret_problem("abc def").unwrap().contains("spaces"));
        assert!(secret_problem("abc\u{7}def").unwrap().contains("control"));
        assert!(secret_problem("abc\tdef").unwrap().contains("spaces"));
    }
}
