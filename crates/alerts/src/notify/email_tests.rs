//! The DATA section keeps to what SMTP servers accept: encoded words of at
//! most 75 characters (RFC 2047) and lines of at most 998 octets (RFC 5321),
//! which strict relays enforce by refusing the message.

use super::*;
use base64::Engine;

fn config() -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port: 25,
        from: "opsdeck@example.com".into(),
        to: vec!["ops@example.com".into()],
        auth: None,
        timeout: Duration::from_secs(5),
        security: SmtpSecurity::None,
        extra_roots: vec![],
    }
}

/// Decodes a (possibly folded) run of `=?UTF-8?B?…?=` words.
fn decode_words(value: &str) -> String {
    let mut bytes = Vec::new();
    for word in value.split("\r\n ") {
        let b64 = word
            .strip_prefix("=?UTF-8?B?")
            .and_then(|w| w.strip_suffix("?="))
            .unwrap_or_else(|| panic!("not an encoded word: {word:?}"));
        bytes.extend(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        );
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn a_long_non_ascii_subject_is_split_into_short_encoded_words() {
    let subject = "CRITICAL · mavena: Lagerbestand kritisch für „Größe 5½“ — 😀 ".repeat(4);
    let encoded = header_value(&subject);
    for word in encoded.split("\r\n ") {
        assert!(word.len() <= 75, "{} characters: {word}", word.len());
    }
    assert_eq!(decode_words(&encoded), subject);
    assert_eq!(header_value("plain ascii"), "plain ascii");
}

#[test]
fn long_body_lines_are_wrapped_and_dot_stuffed() {
    let long = format!(".{}", "é word ".repeat(400));
    let text = format!("first\n{long}\n.end");
    let data = message(&config(), "s", &text, "1");
    for line in data.split("\r\n") {
        assert!(line.len() <= 998, "{} octets", line.len());
    }
    let body = data.split_once("\r\n\r\n").unwrap().1;
    assert!(body.starts_with("first\r\n..é word"), "{body:.40}");
    assert!(body.ends_with("\r\n..end\r\n.\r\n"));
    // Unwrapped and un-stuffed, the body is the text again.
    let lines: Vec<&str> = body.trim_end_matches(".\r\n").split("\r\n").collect();
    let joined: String = lines[1..lines.len() - 2]
        .iter()
        .map(|l| {
            l.strip_prefix('.')
                .filter(|_| l.starts_with(".."))
                .unwrap_or(l)
        })
        .collect();
    assert_eq!(joined, long);
}
