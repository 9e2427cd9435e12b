//! Cursor pagination the way Shopify's REST API does it: `limit` (default 50,
//! at most 250), an opaque `page_info` token carrying the filters, the sort and
//! the position, and `Link` headers with `rel="previous"` / `rel="next"`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BinaryHeap;

pub(crate) const DEFAULT_LIMIT: usize = 50;
pub(crate) const MAX_LIMIT: usize = 250;

/// Everything that defines a result set: stored in `page_info` so later pages
/// need (and accept) nothing but `limit` and `fields`.
#[derive(Serialize, Deserialize, Clone, Default, Debug, PartialEq)]
pub(crate) struct Filters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at_min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at_max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at_max: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_item_ids: Option<Vec<u64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_ids: Option<Vec<u64>>,
    /// "`updated_at` asc" etc.; None = the resource's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Direction {
    Next,
    Prev,
}

/// The decoded `page_info`.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub(crate) struct PageInfo {
    pub filters: Filters,
    /// The resource the token was issued for; a token from another listing is invalid.
    pub resource: String,
    /// Position in the traversal order (see [`rank`]), exclusive.
    pub last_value: String,
    pub direction: Direction,
}

impl PageInfo {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(token: &str) -> Option<PageInfo> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim_end_matches('=')).ok()?;
        let info: PageInfo = serde_json::from_slice(&bytes).ok()?;
        info.position()?;
        Some(info)
    }

    pub fn position(&self) -> Option<u128> {
        self.last_value.parse().ok()
    }
}

/// Orders a record in the traversal: ascending by (key, id), or descending.
pub(crate) fn rank(key: i64, id: u64, descending: bool) -> u128 {
    let ascending = (((key as u64) ^ (1 << 63)) as u128) << 64 | id as u128;
    if descending {
        !ascending
    } else {
        ascending
    }
}

/// One page of record handles plus the positions for the next and previous links.
pub(crate) struct Page {
    pub records: Vec<usize>,
    pub next: Option<u128>,
    pub previous: Option<u128>,
}

/// Selects the page from all matching `(rank, record)` pairs without sorting them all.
pub(crate) fn select(
    candidates: impl Iterator<Item = (u128, usize)>,
    limit: usize,
    cursor: Option<(u128, Direction)>,
) -> Page {
    let want = limit + 1;
    let (forward, bound) = match cursor {
        None => (true, None),
        Some((at, Direction::Next)) => (true, Some(at)),
        Some((at, Direction::Prev)) => (false, Some(at)),
    };
    // Keep the `want` candidates nearest to the cursor on the chosen side.
    let mut heap: BinaryHeap<(u128, usize)> = BinaryHeap::with_capacity(want + 1);
    for (r, record) in candidates {
        let key = if forward {
            if bound.is_some_and(|b| r <= b) {
                continue;
            }
            r
        } else {
            if bound.is_some_and(|b| r >= b) {
                continue;
            }
            !r
        };
        if heap.len() < want {
            heap.push((key, record));
        } else if heap.peek().is_some_and(|top| key < top.0) {
            heap.pop();
            heap.push((key, record));
        }
    }
    let mut nearest = heap.into_sorted_vec();
    let more = nearest.len() > limit;
    nearest.truncate(limit);
    if forward {
        let records: Vec<usize> = nearest.iter().map(|e| e.1).collect();
        Page {
            next: if more {
                nearest.last().map(|e| e.0)
            } else {
                None
            },
            previous: if bound.is_some() {
                nearest.first().map(|e| e.0)
            } else {
                None
            },
            records,
        }
    } else {
        nearest.reverse();
        let records: Vec<usize> = nearest.iter().map(|e| e.1).collect();
        Page {
            previous: if more {
                nearest.first().map(|e| !e.0)
            } else {
                None
            },
            next: nearest.last().map(|e| !e.0),
            records,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(ranks: &[u128], limit: usize) -> (Vec<usize>, Vec<Vec<usize>>) {
        let all = || ranks.iter().enumerate().map(|(i, r)| (*r, i));
        let mut seen = Vec::new();
        let mut pages = Vec::new();
        let mut page = select(all(), limit, None);
        loop {
            seen.extend(page.records.iter().copied());
            pages.push(page.records.clone());
            match page.next {
                Some(at) => page = select(all(), limit, Some((at, Direction::Next))),
                None => break,
            }
        }
        (seen, pages)
    }

    #[test]
    fn forward_walk_visits_everything_once_and_back_links_return_the_previous_page() {
        let ranks: Vec<u128> = (0..103)
            .map(|i| rank((i * 37 % 101) as i64, i as u64, true))
            .collect();
        let (seen, pages) = walk(&ranks, 10);
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 103);
        assert_eq!(seen.len(), 103);
        let all = || ranks.iter().enumerate().map(|(i, r)| (*r, i));
        let second = select(all(), 10, Some((ranks[pages[0][9]], Direction::Next)));
        let back = select(all(), 10, Some((second.previous.unwrap(), Direction::Prev)));
        assert_eq!(back.records, pages[0]);
        assert!(back.previous.is_none());
        let token = PageInfo {
            filters: Filters::default(),
            resource: "orders".into(),
            last_value: "5".into(),
            direction: Direction::Next,
        };
        assert_eq!(
            PageInfo::decode(&token.encode()).unwrap().position(),
            Some(5)
        );
        assert!(PageInfo::decode("garbage").is_none());
    }
}
