//! The journal's on-disk format: one frame per webhook event, appended.
//!
//! ```text
//! frame   = "OPWH" | len: u32 LE | crc32(payload): u32 LE | payload
//! payload = id: i64 | triggered_at_us: i64 (i64::MIN = none) | received_at_us: i64
//!           | source | shop_domain | webhook_id | event_id? | topic | api_version? | body
//! string  = len: u32 LE (u32::MAX = none) | UTF-8 bytes
//! ```
//!
//! A crash can leave the last frame of a segment cut short; reading stops at
//! the first frame that is incomplete, has the wrong magic, or fails its
//! checksum, and reports how many bytes were valid.

use crate::inbox::InboxEvent;
use crate::schema;
use opsdeck_domain::SourceId;

const MAGIC: &[u8; 4] = b"OPWH";
const HEADER: usize = 12;
const NONE: u32 = u32::MAX;
/// Larger than any body the receiver accepts (5 MiB) plus its headers.
const MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// One journaled event and the inbox id it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub id: i64,
    pub event: InboxEvent,
}

fn put_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        None => out.extend_from_slice(&NONE.to_le_bytes()),
    }
}

/// Appends the frame of `event` (as inbox id `id`) to `out`.
pub(crate) fn encode(out: &mut Vec<u8>, id: i64, event: &InboxEvent) {
    let start = out.len();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&id.to_le_bytes());
    let triggered = event.triggered_at.map_or(i64::MIN, schema::micros);
    out.extend_from_slice(&triggered.to_le_bytes());
    out.extend_from_slice(&schema::micros(event.received_at).to_le_bytes());
    put_str(out, Some(event.source.as_str()));
    put_str(out, Some(&event.shop_domain));
    put_str(out, Some(&event.webhook_id));
    put_str(out, event.event_id.as_deref());
    put_str(out, Some(&event.topic));
    put_str(out, event.api_version.as_deref());
    put_str(out, Some(&event.body));
    let payload = &out[start + HEADER..];
    let len = (payload.len() as u32).to_le_bytes();
    let crc = crc32fast::hash(payload).to_le_bytes();
    out[start + 4..start + 8].copy_from_slice(&len);
    out[start + 8..start + 12].copy_from_slice(&crc);
}

/// A cursor over one payload.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn opt_str(&mut self) -> Option<Option<String>> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().ok()?);
        if len == NONE {
            return Some(None);
        }
        let bytes = self.take(len as usize)?;
        Some(Some(std::str::from_utf8(bytes).ok()?.to_string()))
    }

    fn str(&mut self) -> Option<String> {
        self.opt_str()?
    }
}

fn decode_payload(payload: &[u8]) -> Option<Entry> {
    let mut f = Fields(payload);
    let id = f.i64()?;
    let triggered = f.i64()?;
    let received = f.i64()?;
    let time = |us: i64| schema::from_micros(us, "webhook", "journal").ok();
    let event = InboxEvent {
        source: SourceId::parse(&f.str()?).ok()?,
        shop_domain: f.str()?,
        webhook_id: f.str()?,
        event_id: f.opt_str()?,
        topic: f.str()?,
        api_version: f.opt_str()?,
        triggered_at: if triggered == i64::MIN {
            None
        } else {
            Some(time(triggered)?)
        },
        received_at: time(received)?,
        body: f.str()?,
    };
    f.0.is_empty().then_some(Entry { id, event })
}

/// What reading one segment found.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub entries: Vec<Entry>,
    /// Bytes of whole, valid frames from the start.
    pub valid: usize,
    /// Why reading stopped before the end, if it did.
    pub stopped: Option<String>,
}

/// Reads the frames of one segment's bytes, up to the first bad one.
pub(crate) fn read(bytes: &[u8]) -> Read {
    let mut out = Read::default();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < HEADER {
            out.stopped = Some(format!("{} bytes of a cut frame header", rest.len()));
            break;
        }
        if &rest[..4] != MAGIC {
            out.stopped = Some(format!("no frame marker at byte {at}"));
            break;
        }
        let len = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
        if len > MAX_PAYLOAD || rest.len() < HEADER + len {
            out.stopped = Some(format!("frame at byte {at} is cut short"));
            break;
        }
        let payload = &rest[HEADER..HEADER + len];
        if crc32fast::hash(payload) != crc {
            out.stopped = Some(format!("checksum mismatch in the frame at byte {at}"));
            break;
        }
        let Some(entry) = decode_payload(payload) else {
            out.stopped = Some(format!("frame at byte {at} does not decode"));
            break;
        };
        out.entries.push(entry);
        at += HEADER + len;
        out.valid = at;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: u32, optional: bool) -> InboxEvent {
        InboxEvent {
            source: SourceId::parse("shopify-a").unwrap(),
            shop_domain: "a.myshopify.com".into(),
            webhook_id: format!("w{n}"),
            event_id: optional.then(|| format!("e{n}")),
            topic: "orders/updated".into(),
            api_version: optional.then(|| "2025-07".into()),
            triggered_at: optional.then(|| "2024-05-01T10:00:00.123456Z".parse().unwrap()),
            received_at: "2024-05-01T10:00:01Z".parse().unwrap(),
            body: format!("{{\"id\": {n},  \"note\": \"é\"}}"),
        }
    }

    fn journal(n: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            encode(&mut out, 100 + i64::from(i), &event(i, i % 2 == 0));
        }
        out
    }

    #[test]
    fn frames_round_trip_every_field() {
        let bytes = journal(3);
        let read = read(&bytes);
        assert_eq!(read.stopped, None);
        assert_eq!(read.valid, bytes.len());
        let expected: Vec<Entry> = (0..3)
            .map(|i| Entry {
                id: 100 + i64::from(i),
                event: event(i, i % 2 == 0),
            })
            .collect();
        assert_eq!(read.entries, expected);
    }

    #[test]
    fn a_cut_last_frame_is_dropped_and_the_rest_kept() {
        let bytes = journal(3);
        let two = read(&journal(2)).valid;
        for cut in [two + 1, two + 11, bytes.len() - 1] {
            let read = read(&bytes[..cut]);
            assert_eq!(read.entries.len(), 2, "cut at {cut}");
            assert_eq!(read.valid, two);
            assert!(read.stopped.is_some());
        }
    }

    #[test]
    fn a_flipped_byte_stops_reading_at_its_frame() {
        let mut bytes = journal(3);
        let one = read(&journal(1)).valid;
        bytes[one + 40] ^= 0x20;
        let read = read(&bytes);
        assert_eq!(read.entries.len(), 1);
        assert_eq!(read.valid, one);
        assert!(read.stopped.unwrap().contains("checksum"), "flipped byte");
        let zeros = vec![0u8; 64];
        assert_eq!(super::read(&zeros).entries.len(), 0);
    }
}
