//! The message keeps to what SMTP servers accept: encoded words of at most
//! 75 characters (RFC 2047), lines of at most 998 octets (RFC 5321, which
//! strict relays enforce by refusing the message), and the text and any
//! attachment come back intact once decoded.

use super::*;
use base64::Engine;

fn mail(subject: &str, text: &str) -> Mail {
    Mail {
        to: vec!["ops@example.com".into()],
        subject: subject.into(),
        text: text.into(),
        attachments: vec![],
    }
}

fn formatted(mail: &Mail) -> String {
    let message = message("opsdeck@example.com", mail, "1").unwrap();
    String::from_utf8(message.formatted()).unwrap()
}

/// The value of a (possibly folded) header.
fn header(data: &str, name: &str) -> String {
    let head = data.split_once("\r\n\r\n").unwrap().0;
    let mut value = None::<String>;
    for line in head.split("\r\n") {
        match (&mut value, line.strip_prefix(&format!("{name}: "))) {
            (None, Some(v)) => value = Some(v.to_string()),
            (Some(v), None) if line.starts_with([' ', '\t']) => {
                v.push_str("\r\n");
                v.push_str(line);
            }
            (Some(_), _) => break,
            _ => {}
        }
    }
    value.unwrap_or_else(|| panic!("no {name} header in {head}"))
}

/// Decodes a (possibly folded) header of plain and `=?utf-8?b?…?=` words,
/// checking that no encoded word exceeds 75 characters.
fn decode_words(value: &str) -> String {
    let mut bytes = Vec::new();
    let mut last_encoded = None;
    for word in value.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?");
        if encoded {
            assert!(word.len() <= 75, "{} characters: {word}", word.len());
        }
        if last_encoded.is_some() && !(encoded && last_encoded == Some(true)) {
            bytes.push(b' ');
        }
        if encoded {
            let b64 = &word["=?utf-8?b?".len()..word.len() - 2];
            bytes.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap(),
            );
        } else {
            bytes.extend(word.as_bytes());
        }
        last_encoded = Some(encoded);
    }
    String::from_utf8(bytes).unwrap()
}

/// A part's body decoded by its `Content-Transfer-Encoding`.
fn decode_body(part: &str) -> Vec<u8> {
    let (head, body) = part.split_once("\r\n\r\n").unwrap();
    let encoding = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
        .unwrap_or("7bit")
        .to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(body.replace("\r\n", ""))
            .unwrap(),
        "quoted-printable" => {
            quoted_printable::decode(body, quoted_printable::ParseMode::Strict).unwrap()
        }
        _ => body.as_bytes().to_vec(),
    }
}

#[test]
fn a_long_non_ascii_subject_is_split_into_short_encoded_words() {
    let subject = "CRITICAL · mavena: Lagerbestand kritisch für „Größe 5½“ — 😀 ".repeat(4);
    let data = formatted(&mail(&subject, "x"));
    // Folding drops the trailing space; every character before it is kept.
    assert_eq!(decode_words(&header(&data, "Subject")), subject.trim_end());
    let plain = formatted(&mail("plain ascii", "x"));
    assert_eq!(header(&plain, "Subject"), "plain ascii");
}

#[test]
fn long_body_lines_are_kept_within_smtp_limits_and_decode_to_the_text() {
    let long = format!(".{}", "é word ".repeat(400));
    let text = format!("first\n{long}\n.end");
    let data = formatted(&mail("s", &text));
    for line in data.split("\r\n") {
        assert!(line.len() <= 998, "{} octets", line.len());
    }
    let decoded = String::from_utf8(decode_body(&data)).unwrap();
    // The encoder ends the body with a line break of its own.
    assert_eq!(decoded.replace("\r\n", "\n").trim_end_matches('\n'), text);
}

#[test]
fn an_attachment_travels_as_its_own_part_with_its_name_and_type() {
    let mut m = mail("Daily report", "Orders: 12");
    m.attachments.push(Attachment {
        filename: "daily-2026-12-07.csv".into(),
        content_type: "text/csv; charset=utf-8".into(),
        bytes: b"brand,orders\r\nplentum,12\r\n".to_vec(),
    });
    let data = formatted(&m);
    assert!(header(&data, "Content-Type").starts_with("multipart/mixed"));
    let file_part = data
        .split("\r\n--")
        .find(|p| p.contains("filename=\"daily-2026-12-07.csv\""))
        .unwrap_or_else(|| panic!("no attachment part in {data}"));
    assert!(
        file_part.contains("Content-Type: text/csv; charset=utf-8"),
        "{file_part}"
    );
    assert_eq!(decode_body(file_part), b"brand,orders\r\nplentum,12\r\n");
}

#[test]
fn a_bad_address_or_no_recipient_is_a_clear_error() {
    let mut m = mail("s", "t");
    m.to = vec!["not an address".into()];
    let error = message("opsdeck@example.com", &m, "1").unwrap_err();
    assert!(
        error.contains("\"not an address\" is not an email address"),
        "{error}"
    );
    m.to.clear();
    assert_eq!(
        message("opsdeck@example.com", &m, "1").unwrap_err(),
        "SMTP: no recipient"
    );
}
