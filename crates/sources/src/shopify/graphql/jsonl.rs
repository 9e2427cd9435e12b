//! Reading a bulk operation's JSONL result file as it downloads.
//!
//! The file can hold millions of lines; it is never held whole. Bytes come
//! in chunks ([`ChunkSource`]: the HTTP body, or anything else), are split
//! into lines, and each line is parsed on its own ([`JsonlReader`]): memory
//! is one chunk plus the longest line, whatever the file's size. A line
//! longer than the cap is an error, not a reason to grow without end.
//!
//! Nested connections come out flat: each child is its own line carrying
//! `__parentId`, after its parent. [`BulkGroups`] puts them back together
//! one root object at a time — a root and the descendants that follow it —
//! and hands over a child that arrives after other roots (Shopify's older
//! files did that) on its own, naming its parent, rather than buffering
//! every root in case a child turns up late.
//!
//! A last line cut short (a download broken off, a file truncated) is an
//! error naming its line, so a backfill knows it did not see everything.

use super::client::GraphqlClient;
use super::error::GraphqlError;
use crate::http::{header_str, PlatformError};
use crate::shopify::ShopifyError;
use serde_json::Value;
use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;
use url::Url;

/// The longest line accepted: one object of a bulk file is a few KB; a
/// line past this is a broken file.
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// Where the bytes of a file come from, a chunk at a time.
pub trait ChunkSource {
    /// The next chunk; `None` at the end of the file.
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Vec<u8>>, GraphqlError>> + Send;
}

/// One line of a bulk file.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkLine {
    /// 1-based line number in the file.
    pub line: u64,
    /// The object's `id`, when it has one.
    pub id: Option<String>,
    /// `__parentId`: the object this one was nested under.
    pub parent_id: Option<String>,
    /// The object, `__parentId` removed.
    pub object: Value,
}

/// Splits a [`ChunkSource`] into parsed lines.
#[derive(Debug)]
pub struct JsonlReader<S> {
    source: S,
    buffer: Vec<u8>,
    /// Where the unread part of `buffer` starts.
    start: usize,
    lines: u64,
    max_line: usize,
    ended: bool,
    /// The most bytes ever held at once: what reading this file cost.
    peak_buffered: usize,
}

impl<S: ChunkSource> JsonlReader<S> {
    pub fn new(source: S) -> Self {
        JsonlReader::with_max_line(source, MAX_LINE_BYTES)
    }

    pub fn with_max_line(source: S, max_line: usize) -> Self {
        JsonlReader {
            source,
            buffer: Vec::new(),
            start: 0,
            lines: 0,
            max_line,
            ended: false,
            peak_buffered: 0,
        }
    }

    /// Lines read so far (blank lines not counted).
    pub fn lines_read(&self) -> u64 {
        self.lines
    }

    /// The most bytes this reader held at any moment.
    pub fn peak_buffered(&self) -> usize {
        self.peak_buffered
    }

    /// The next object of the file; `None` after the last.
    pub async fn next_line(&mut self) -> Result<Option<BulkLine>, GraphqlError> {
        loop {
            if let Some(end) = self.buffer[self.start..].iter().position(|b| *b == b'\n') {
                let line = self.start..self.start + end;
                self.start += end + 1;
                if self.buffer[line.clone()]
                    .iter()
                    .all(u8::is_ascii_whitespace)
                {
                    continue;
                }
                self.lines += 1;
                return parse(&self.buffer[line], self.lines, true).map(Some);
            }
            if self.buffer.len() - self.start > self.max_line {
                return Err(GraphqlError::Jsonl {
                    line: self.lines + 1,
                    reason: format!("a line longer than {} bytes", self.max_line),
                });
            }
            if self.ended {
                let rest = self.buffer[self.start..].to_vec();
                self.start = self.buffer.len();
                if rest.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                // A last line without its newline is whole only if it parses.
                self.lines += 1;
                return parse(&rest, self.lines, false).map(Some);
            }
            // Keep only the unread part before reading more.
            self.buffer.drain(..self.start);
            self.start = 0;
            match self.source.next_chunk().await? {
                Some(chunk) => self.buffer.extend_from_slice(&chunk),
                None => self.ended = true,
            }
            self.peak_buffered = self.peak_buffered.max(self.buffer.len());
        }
    }
}

/// Line `number` of a file, parsed; `terminated`: it ended with a newline
/// (else it was the last, and an error says it may be cut short).
fn parse(line: &[u8], number: u64, terminated: bool) -> Result<BulkLine, GraphqlError> {
    let mut object: Value = serde_json::from_slice(line).map_err(|e| GraphqlError::Jsonl {
        line: number,
        reason: if terminated {
            format!("not JSON ({e})")
        } else {
            format!("the last line is cut short ({e})")
        },
    })?;
    let Some(fields) = object.as_object_mut() else {
        return Err(GraphqlError::Jsonl {
            line: number,
            reason: "not a JSON object".into(),
        });
    };
    let parent_id = match fields.remove("__parentId") {
        Some(Value::String(id)) => Some(id),
        _ => None,
    };
    let id = fields.get("id").and_then(Value::as_str).map(str::to_string);
    Ok(BulkLine {
        line: number,
        id,
        parent_id,
        object,
    })
}

/// One piece of a bulk file put back together.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkItem {
    /// A root object and the descendants that followed it, in file order
    /// (each child line as read, its `__parentId` in `parent_id`).
    Root {
        root: BulkLine,
        children: Vec<BulkLine>,
    },
    /// A child whose parent's group had already been handed over.
    LateChild(BulkLine),
}

impl BulkItem {
    /// The root object with its descendants put back where the query had
    /// them: each child is appended to the list `field_for(its type)` of its
    /// parent (the type is the id's, `LineItem` for
    /// `gid://shopify/LineItem/1`), so the result reads like a paged
    /// answer's node and the same normalization applies. `None` for a late
    /// child, which has no root here, and an error for a child whose type
    /// `field_for` does not place.
    pub fn nested(
        &self,
        field_for: impl Fn(&str) -> Option<&'static str>,
    ) -> Option<Result<Value, String>> {
        self.clone().into_nested(field_for)
    }

    /// [`BulkItem::nested`], moving the objects instead of copying them:
    /// what a backfill calls once per root, millions of times.
    pub fn into_nested(
        self,
        field_for: impl Fn(&str) -> Option<&'static str>,
    ) -> Option<Result<Value, String>> {
        let BulkItem::Root { root, children } = self else {
            return None;
        };
        let mut nested = root.object;
        // Where each object of the group sits: its id and the path of list
        // positions from the root (a root's children are one level down,
        // theirs two: a bulk query nests at most two connections).
        let mut places: Vec<(String, Vec<(&'static str, usize)>)> = Vec::new();
        if let Some(id) = root.id {
            places.push((id, Vec::new()));
        }
        for child in children {
            let parent = child.parent_id.as_deref().unwrap_or_default();
            let Some(at) = places.iter().position(|(id, _)| id == parent) else {
                return Some(Err(format!(
                    "line {}: parent {parent} not in this group",
                    child.line
                )));
            };
            let kind = child
                .id
                .as_deref()
                .and_then(|id| id.strip_prefix("gid://shopify/"))
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default();
            let Some(field) = field_for(kind) else {
                return Some(Err(format!(
                    "line {}: no field for a child of type {kind:?}",
                    child.line
                )));
            };
            let mut parent_object = Some(&mut nested);
            for (list, i) in &places[at].1 {
                parent_object = parent_object
                    .and_then(|o| o.get_mut(*list))
                    .and_then(|l| l.get_mut(*i));
            }
            let Some(Value::Object(parent_object)) = parent_object else {
                return Some(Err(format!("line {}: parent is not an object", child.line)));
            };
            let list = parent_object
                .entry(field)
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = list else {
                return Some(Err(format!("line {}: `{field}` is not a list", child.line)));
            };
            list.push(child.object);
            if let Some(id) = child.id {
                let mut path = places[at].1.clone();
                path.push((field, list.len() - 1));
                places.push((id, path));
            }
        }
        Some(Ok(nested))
    }

    /// Objects this item holds (the file's lines it covers).
    pub fn object_count(&self) -> u64 {
        match self {
            BulkItem::Root { children, .. } => 1 + children.len() as u64,
            BulkItem::LateChild(_) => 1,
        }
    }
}

/// Groups a bulk file's lines by root object, one root at a time.
#[derive(Debug)]
pub struct BulkGroups<S> {
    reader: JsonlReader<S>,
    current: Option<(BulkLine, Vec<BulkLine>, HashSet<String>)>,
    done: bool,
}

impl<S: ChunkSource> BulkGroups<S> {
    pub fn new(reader: JsonlReader<S>) -> Self {
        BulkGroups {
            reader,
            current: None,
            done: false,
        }
    }

    pub fn reader(&self) -> &JsonlReader<S> {
        &self.reader
    }

    /// The next root with its descendants, or a late child; `None` at the
    /// end of the file.
    pub async fn next_item(&mut self) -> Result<Option<BulkItem>, GraphqlError> {
        loop {
            if self.done {
                return Ok(self
                    .current
                    .take()
                    .map(|(root, children, _)| BulkItem::Root { root, children }));
            }
            let Some(line) = self.reader.next_line().await? else {
                self.done = true;
                continue;
            };
            match &line.parent_id {
                None => {
                    let mut ids = HashSet::new();
                    ids.extend(line.id.clone());
                    let previous = self.current.replace((line, Vec::new(), ids));
                    if let Some((root, children, _)) = previous {
                        return Ok(Some(BulkItem::Root { root, children }));
                    }
                }
                Some(parent) => match &mut self.current {
                    Some((_, children, ids)) if ids.contains(parent) => {
                        ids.extend(line.id.clone());
                        children.push(line);
                    }
                    _ => return Ok(Some(BulkItem::LateChild(line))),
                },
            }
        }
    }
}

/// A bulk file's HTTP body, chunk by chunk, each chunk within an idle
/// deadline (the whole download may take far longer than one request).
#[derive(Debug)]
pub struct HttpChunks {
    response: reqwest::Response,
    idle: Duration,
    path: String,
}

impl ChunkSource for HttpChunks {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GraphqlError> {
        let fail = |failure| GraphqlError::from_failure(failure, self.path.clone());
        match tokio::time::timeout(self.idle, self.response.chunk()).await {
            Err(_) => Err(fail(crate::http::Failure::Timeout)),
            Ok(Err(e)) => Err(fail(crate::http::Failure::Connection(format!(
                "download broken off: {}",
                e.without_url()
            )))),
            Ok(Ok(chunk)) => Ok(chunk.map(|c| c.to_vec())),
        }
    }
}

impl GraphqlClient {
    /// Opens the result file at `url` (a bulk operation's `url` or
    /// `partialDataUrl`) for reading line by line. The link is signed and
    /// points at Shopify's storage, not the shop, so the access token is
    /// not sent with it. The request timeout bounds connecting, the
    /// headers, and each wait for the next chunk, not the whole download. A 403 or 404 usually means the link expired
    /// (7 days): start the bulk query again.
    pub async fn open_bulk_file(&self, url: &Url) -> Result<BulkGroups<HttpChunks>, GraphqlError> {
        let path = url.path().to_string();
        let fail = |failure| GraphqlError::from_failure(failure, path.clone());
        let response = tokio::time::timeout(
            self.shop().request_timeout,
            self.download_client().get(url.clone()).send(),
        )
        .await
        .map_err(|_| fail(crate::http::Failure::Timeout))?
        .map_err(|e| {
            fail(crate::http::Failure::Connection(
                e.without_url().to_string(),
            ))
        })?;
        let status = response.status();
        if !status.is_success() {
            let kind = header_str(response.headers(), "content-type").unwrap_or("");
            tracing::warn!(
                status = status.as_u16(),
                kind,
                path,
                "bulk result file refused"
            );
            return Err(GraphqlError::Http(match status.as_u16() {
                403 => ShopifyError::Forbidden { path },
                404 => ShopifyError::NotFound { path },
                s => ShopifyError::Rejected { status: s, path },
            }));
        }
        Ok(BulkGroups::new(JsonlReader::new(HttpChunks {
            response,
            idle: self.shop().request_timeout,
            path,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chunks of a fixed text, split at awkward places.
    struct Slices(Vec<Vec<u8>>);

    impl ChunkSource for Slices {
        async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GraphqlError> {
            Ok(if self.0.is_empty() {
                None
            } else {
                Some(self.0.remove(0))
            })
        }
    }

    fn slices(text: &str, size: usize) -> Slices {
        Slices(text.as_bytes().chunks(size).map(<[u8]>::to_vec).collect())
    }

    #[tokio::test]
    async fn lines_split_across_chunks_are_read_whole() {
        let text = "{\"id\":\"a\"}\n\n{\"id\":\"b\",\"__parentId\":\"a\"}\n";
        for size in [1, 3, 7, 100] {
            let mut reader = JsonlReader::new(slices(text, size));
            let a = reader.next_line().await.unwrap().unwrap();
            assert_eq!((a.line, a.id.as_deref(), a.parent_id), (1, Some("a"), None));
            let b = reader.next_line().await.unwrap().unwrap();
            assert_eq!(b.parent_id.as_deref(), Some("a"));
            assert_eq!(b.object, serde_json::json!({"id": "b"}));
            assert!(reader.next_line().await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn a_line_over_the_cap_is_refused() {
        let text = format!("{{\"id\":\"{}\"}}\n", "x".repeat(100));
        let mut reader = JsonlReader::with_max_line(slices(&text, 10), 50);
        assert!(matches!(
            reader.next_line().await,
            Err(GraphqlError::Jsonl { line: 1, .. })
        ));
    }
}
