//! The bulk result reader: Shopify's own sample files regrouped, a child
//! arriving after other parents, a last line cut short, a download over
//! HTTP (without the token), and a file of a million lines read without
//! ever holding more than a few lines of it.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Response};
use axum::Router;
use futures::stream;
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_sources::shopify::graphql::{
    BulkGroups, BulkItem, ChunkSource, CostBucket, GraphqlClient, GraphqlError, JsonlReader,
    GRAPHQL_API_VERSION,
};
use opsdeck_sources::ShopifySettings;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/shopify/graphql"
);

/// A fixed text served in chunks of `size` bytes.
struct Text(Vec<Vec<u8>>);

impl Text {
    fn new(text: &str, size: usize) -> Self {
        Text(text.as_bytes().chunks(size).map(<[u8]>::to_vec).collect())
    }
}

impl ChunkSource for Text {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GraphqlError> {
        Ok((!self.0.is_empty()).then(|| self.0.remove(0)))
    }
}

async fn items<S: ChunkSource>(groups: &mut BulkGroups<S>) -> Result<Vec<BulkItem>, GraphqlError> {
    let mut items = Vec::new();
    while let Some(item) = groups.next_item().await? {
        items.push(item);
    }
    Ok(items)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn root_and_children(item: &BulkItem) -> (&str, Vec<&str>) {
    match item {
        BulkItem::Root { root, children } => (
            root.id.as_deref().unwrap(),
            children.iter().map(|c| c.id.as_deref().unwrap()).collect(),
        ),
        BulkItem::LateChild(line) => panic!("unexpected late child {line:?}"),
    }
}

#[tokio::test]
async fn shopifys_sample_file_regroups_each_product_with_its_variants() {
    let text = fixture("bulk_products_variants.jsonl");
    let mut groups = BulkGroups::new(JsonlReader::new(Text::new(&text, 64)));
    let items = items(&mut groups).await.unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(
        root_and_children(&items[0]),
        (
            "gid://shopify/Product/1921569226808",
            vec![
                "gid://shopify/ProductVariant/19435458986123",
                "gid://shopify/ProductVariant/19435458986040"
            ]
        )
    );
    assert_eq!(
        root_and_children(&items[4]),
        (
            "gid://shopify/Product/1921569357880",
            vec!["gid://shopify/ProductVariant/19435459117112"]
        )
    );
    let BulkItem::Root { children, .. } = &items[0] else {
        unreachable!()
    };
    assert_eq!(
        children[0].parent_id.as_deref(),
        Some("gid://shopify/Product/1921569226808")
    );
    assert_eq!(children[0].object["title"], "52");
    assert!(
        children[0].object.get("__parentId").is_none(),
        "the marker is lifted out of the object"
    );
    // Every line is one of the operation's objects.
    let objects: u64 = items.iter().map(BulkItem::object_count).sum();
    assert_eq!(objects, 11);
    assert_eq!(groups.reader().lines_read(), 11);
}

#[tokio::test]
async fn a_child_after_other_parents_comes_out_naming_its_parent() {
    // The 2019 sample: the first product's second variant is the last line.
    let text = fixture("bulk_products_variants_2019.jsonl");
    let mut groups = BulkGroups::new(JsonlReader::new(Text::new(&text, 4096)));
    let items = items(&mut groups).await.unwrap();
    assert_eq!(items.len(), 6);
    assert_eq!(
        root_and_children(&items[0]).1,
        vec!["gid://shopify/ProductVariant/19435458986040"]
    );
    // It is handed over as soon as it is read, before the last product's
    // group (which it does not belong to) is complete.
    assert_eq!(
        root_and_children(&items[5]).0,
        "gid://shopify/Product/1921569357880"
    );
    match &items[4] {
        BulkItem::LateChild(line) => {
            assert_eq!(
                line.parent_id.as_deref(),
                Some("gid://shopify/Product/1921569226808")
            );
            assert_eq!(line.line, 11);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn grandchildren_stay_with_their_root() {
    let text = concat!(
        "{\"id\":\"gid://shopify/Product/1\"}\n",
        "{\"id\":\"gid://shopify/ProductVariant/2\",\"__parentId\":\"gid://shopify/Product/1\"}\n",
        "{\"id\":\"gid://shopify/InventoryLevel/3?inventory_item_id=4\",\"__parentId\":\"gid://shopify/ProductVariant/2\"}\n",
        "{\"id\":\"gid://shopify/Product/5\"}\n",
    );
    let mut groups = BulkGroups::new(JsonlReader::new(Text::new(text, 10)));
    let items = items(&mut groups).await.unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(root_and_children(&items[0]).1.len(), 2);
}

#[tokio::test]
async fn a_last_line_cut_short_is_an_error_naming_it() {
    let whole = fixture("bulk_products_variants.jsonl");
    // Cut in the middle of the last line, as a broken download would.
    let cut = &whole[..whole.len() - 20];
    let mut groups = BulkGroups::new(JsonlReader::new(Text::new(cut, 100)));
    let err = items(&mut groups).await.unwrap_err();
    assert!(
        matches!(&err, GraphqlError::Jsonl { line: 11, reason } if reason.contains("cut short")),
        "{err:?}"
    );
    // A last line that is whole but lacks its newline is fine.
    let no_newline = whole.trim_end();
    let mut groups = BulkGroups::new(JsonlReader::new(Text::new(no_newline, 100)));
    assert_eq!(items(&mut groups).await.unwrap().len(), 5);
}

/// Orders made up on the fly, each with two line items: a file of
/// `orders × 3` lines that exists nowhere whole.
struct Generated {
    orders: u64,
    next: u64,
}

impl ChunkSource for Generated {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, GraphqlError> {
        if self.next == self.orders {
            return Ok(None);
        }
        let mut chunk = Vec::new();
        // About 16 KiB per chunk, like a network read.
        while chunk.len() < 16 * 1024 && self.next < self.orders {
            let id = self.next;
            chunk.extend_from_slice(
                format!(
                    "{{\"id\":\"gid://shopify/Order/{id}\",\"name\":\"#{id}\",\"totalPriceSet\":{{\"shopMoney\":{{\"amount\":\"19.90\",\"currencyCode\":\"EUR\"}}}}}}\n\
                     {{\"id\":\"gid://shopify/LineItem/{id}1\",\"quantity\":1,\"__parentId\":\"gid://shopify/Order/{id}\"}}\n\
                     {{\"id\":\"gid://shopify/LineItem/{id}2\",\"quantity\":2,\"__parentId\":\"gid://shopify/Order/{id}\"}}\n"
                )
                .as_bytes(),
            );
            self.next += 1;
        }
        Ok(Some(chunk))
    }
}

#[tokio::test]
async fn a_large_file_is_read_without_holding_it() {
    let orders = 100_000;
    let mut groups = BulkGroups::new(JsonlReader::new(Generated { orders, next: 0 }));
    let (mut roots, mut objects) = (0u64, 0u64);
    while let Some(item) = groups.next_item().await.unwrap() {
        match &item {
            BulkItem::Root { children, .. } => {
                assert_eq!(children.len(), 2);
                roots += 1;
            }
            BulkItem::LateChild(line) => panic!("{line:?}"),
        }
        objects += item.object_count();
    }
    assert_eq!((roots, objects), (orders, orders * 3));
    // The file is about 20 MB; the reader never held more than a chunk
    // and a line of it.
    let peak = groups.reader().peak_buffered();
    assert!(peak < 64 * 1024, "held {peak} bytes at once");
}

#[derive(Default)]
struct Seen {
    tokens: Vec<Option<String>>,
}

async fn storage(State(seen): State<Arc<Mutex<Seen>>>, headers: HeaderMap) -> Response<Body> {
    seen.lock().unwrap().tokens.push(
        headers
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    );
    let text = fixture("bulk_products_variants.jsonl");
    // Served in small pieces, as a long download arrives.
    let pieces: Vec<Result<Bytes, std::io::Error>> = text
        .as_bytes()
        .chunks(37)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Response::builder()
        .status(200)
        .body(Body::from_stream(stream::iter(pieces)))
        .unwrap()
}

#[tokio::test]
async fn a_result_file_downloads_in_pieces_without_the_token() {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = Router::new().fallback(storage).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut settings = ShopifySettings::new(
        SourceId::parse("shopify-fake").unwrap(),
        BrandId::parse("fake").unwrap(),
        Currency::USD,
        "fake.myshopify.com",
        Secret::new("shpat_never_sent_to_storage"),
    )
    .unwrap();
    settings.base_url = Url::parse(&format!("http://{addr}/shops/fake")).unwrap();
    settings.request_timeout = Duration::from_secs(5);
    let client =
        GraphqlClient::new(settings, GRAPHQL_API_VERSION, Arc::new(CostBucket::new())).unwrap();
    let url = Url::parse(&format!("http://{addr}/bulk/result.jsonl?signature=abc")).unwrap();
    let mut groups = client.open_bulk_file(&url).await.unwrap();
    assert_eq!(items(&mut groups).await.unwrap().len(), 5);
    assert_eq!(seen.lock().unwrap().tokens, vec![None]);
}

async fn slow_storage() -> Response<Body> {
    let text = fixture("bulk_products_variants.jsonl");
    let lines: Vec<String> = text.lines().map(|l| format!("{l}\n")).collect();
    // One line every 60 ms: the whole file takes longer than the request
    // timeout, no single wait does.
    let pieces = stream::unfold(lines.into_iter(), |mut lines| async move {
        let line = lines.next()?;
        tokio::time::sleep(Duration::from_millis(60)).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(line)), lines))
    });
    Response::builder()
        .status(200)
        .body(Body::from_stream(pieces))
        .unwrap()
}

#[tokio::test]
async fn a_download_longer_than_the_request_timeout_is_not_cut() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(slow_storage))
            .await
            .unwrap()
    });
    let mut settings = ShopifySettings::new(
        SourceId::parse("shopify-fake").unwrap(),
        BrandId::parse("fake").unwrap(),
        Currency::USD,
        "fake.myshopify.com",
        Secret::new("shpat_x"),
    )
    .unwrap();
    settings.base_url = Url::parse(&format!("http://{addr}/shops/fake")).unwrap();
    settings.request_timeout = Duration::from_millis(300);
    let client =
        GraphqlClient::new(settings, GRAPHQL_API_VERSION, Arc::new(CostBucket::new())).unwrap();
    let url = Url::parse(&format!("http://{addr}/bulk/slow.jsonl")).unwrap();
    let started = std::time::Instant::now();
    let mut groups = client.open_bulk_file(&url).await.unwrap();
    assert_eq!(items(&mut groups).await.unwrap().len(), 5);
    assert!(
        started.elapsed() > Duration::from_millis(300),
        "it did outlast one request"
    );
}

#[tokio::test]
async fn a_group_nests_back_into_the_shape_of_a_paged_answer() {
    let text = fixture("bulk_products_variants.jsonl");
    let mut groups = BulkGroups::new(JsonlReader::new(Text::new(&text, 4096)));
    let first = groups.next_item().await.unwrap().unwrap();
    let nested = first
        .nested(|kind| (kind == "ProductVariant").then_some("variants"))
        .unwrap()
        .unwrap();
    assert_eq!(nested["id"], "gid://shopify/Product/1921569226808");
    assert_eq!(nested["variants"][0]["title"], "52");
    assert_eq!(nested["variants"][1]["title"], "70");
    // The wire types read it as they read a page's node.
    let product: opsdeck_sources::shopify::graphql::wire::GqlProduct =
        serde_json::from_value(nested).unwrap();
    assert_eq!(product.variants.0.len(), 2);
    // A child of a type the caller does not place is an error, not dropped.
    assert!(first.nested(|_| None).unwrap().is_err());
}
