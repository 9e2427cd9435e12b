//! Where a redirect may go when its target comes from the request (`next`
//! on the login form, `back` on the refresh button): only a path on this
//! site, judged the way a browser will read it.
//!
//! Browsers drop TAB, CR and LF anywhere in a URL and trim leading and
//! trailing spaces and control characters, and they read `\` as `/`; so
//! `/\t/evil.example/` arrives at the browser as `//evil.example/`, another
//! origin. [`same_site_path`] applies the same normalisation first and then
//! accepts only an absolute path that is not scheme-relative; anything else
//! (including characters no `Location` header may carry, which once made
//! `Redirect::to` answer 500) is `None`, and [`target_or_root`] sends it to
//! `/`.

/// `input` as a same-site path a `Location` header can carry, or `None`.
///
/// The path is returned normalised (TAB/CR/LF removed, outer spaces and
/// controls trimmed), so what is checked is what the browser will follow.
pub(crate) fn same_site_path(input: &str) -> Option<String> {
    // The URL standard's "C0 control or space": U+0000 to U+0020.
    let trimmed = input.trim_matches(|c: char| c <= ' ');
    let path: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut chars = path.chars();
    if chars.next() != Some('/') {
        return None;
    }
    if matches!(chars.next(), Some('/' | '\\')) {
        return None;
    }
    // Anything a header cannot carry as visible ASCII (other controls,
    // DEL, non-ASCII) is refused rather than guessed at: our own links are
    // percent-encoded already.
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    Some(path)
}

/// The redirect target for `input`: its same-site path, or `/`.
pub(crate) fn target_or_root(input: Option<&str>) -> String {
    input
        .and_then(same_site_path)
        .unwrap_or_else(|| "/".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_site_paths_pass_normalised() {
        assert_eq!(same_site_path("/").as_deref(), Some("/"));
        assert_eq!(
            same_site_path("/inventory?sort=severity#top").as_deref(),
            Some("/inventory?sort=severity#top")
        );
        assert_eq!(
            same_site_path("/wismo?range=custom&from=2026-06-01").as_deref(),
            Some("/wismo?range=custom&from=2026-06-01")
        );
        assert_eq!(same_site_path(" /alerts ").as_deref(), Some("/alerts"));
        assert_eq!(same_site_path("/ale\trts").as_deref(), Some("/alerts"));
    }

    #[test]
    fn anything_a_browser_reads_as_another_origin_is_refused() {
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r\n/evil.example/",
            "\t//evil.example",
            " //evil.example",
            "\u{0}//evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/\t\\evil.example",
        ] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
            assert_eq!(target_or_root(Some(bad)), "/", "{bad:?}");
        }
    }

    #[test]
    fn characters_no_header_may_carry_are_refused_not_a_500() {
        for bad in ["/a\u{0}b", "/a\u{7f}", "/caf\u{e9}", "/a b", "/a\u{b}b"] {
            assert_eq!(same_site_path(bad), None, "{bad:?}");
        }
        assert_eq!(target_or_root(None), "/");
    }

    proptest::proptest! {
        /// Whatever a request sends, the target is a same-site path that a
        /// `Location` header can carry: never another origin, never a 500.
        #[test]
        fn any_input_gives_a_same_site_header_safe_target(
            input in "[/\\\\\t\r\n ]{0,4}[a-z.:/?=&%\u{0}\u{7f}é]{0,8}",
            tail in "[ -~]{0,8}",
        ) {
            let input = format!("{input}{tail}");
            let target = target_or_root(Some(&input));
            proptest::prop_assert!(target.starts_with('/'));
            // What a browser follows: TAB, CR and LF dropped, `\` read as `/`.
            let followed: String = target
                .chars()
                .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
                .map(|c| if c == '\\' { '/' } else { c })
                .collect();
            proptest::prop_assert!(!followed.starts_with("//"), "{:?} -> {:?}", input, target);
            proptest::prop_assert!(axum::http::HeaderValue::from_str(&target).is_ok());
            let _ = axum::response::Redirect::to(&target);
        }
    }
}
