//! What the operator on duty does beyond reading: narrow the dashboard to
//! one brand, force a sync from the source health page, silence an alert,
//! and fill the login and decision forms from the keyboard alone.

use super::scenarios::Scenarios;
use super::webdriver::TAB;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

impl Scenarios<'_> {
    /// Picking a brand in the filter shows that brand alone in every tile;
    /// "All brands" brings the others back.
    pub async fn brand_filter(&self) {
        let b = self.browser;
        b.goto(&self.url("/")).await;
        let brands = self.app.json("/api/v1/brands").await;
        let launched: Vec<(String, String)> = brands["brands"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["launched"] == true)
            .map(|x| {
                (
                    x["id"].as_str().unwrap().to_string(),
                    x["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let (id, name) = &launched[1];
        let cards = "return Array.from(document.querySelectorAll('#tile-volume .brand'))
                       .map(e => e.id);";
        assert_eq!(
            b.eval(cards, vec![]).await.as_array().unwrap().len(),
            4,
            "every brand's card before filtering"
        );

        b.click(&b.find(&format!("#brand-filter option[value='{id}']")).await)
            .await;
        self.submit(
            "form[action='/'] button[type=submit]",
            &format!("?brand={id}"),
            "",
        )
        .await;
        assert!(
            b.current_url().await.ends_with(&format!("/?brand={id}")),
            "the filter is in the address: {}",
            b.current_url().await
        );
        assert_eq!(
            b.eval(cards, vec![]).await,
            json!([format!("brand-{id}")]),
            "only {name}'s order volume card"
        );
        // Every per-brand tile names only the chosen brand.
        let headings = b
            .eval(
                "return Array.from(document.querySelectorAll('.tile .part h3'))
                   .map(e => e.textContent.trim());",
                vec![],
            )
            .await;
        let headings = headings.as_array().unwrap();
        assert!(!headings.is_empty(), "the per-brand tiles have parts");
        for (other_id, other) in launched.iter().filter(|(o, _)| o != id) {
            assert!(
                !headings.iter().any(|h| h == other),
                "{other} ({other_id}) still shown with the filter on {name}: {headings:?}"
            );
        }
        assert_eq!(
            b.eval(
                "return document.querySelector('#brand-filter').value;",
                vec![]
            )
            .await,
            json!(id),
            "the filter shows what it filters on"
        );
        self.shot("dashboard-one-brand").await;

        b.click(&b.find("#brand-filter option[value='']").await)
            .await;
        self.submit("form[action='/'] button[type=submit]", "?brand=", "")
            .await;
        assert_eq!(
            b.eval(cards, vec![]).await.as_array().unwrap().len(),
            4,
            "every brand again at {}",
            b.current_url().await
        );
    }

    /// "Refresh now" on /sources makes every source sync at once: the
    /// simulated shops receive new requests and each orders sync state's
    /// last attempt moves. (The sync cadence is ten minutes in these tests,
    /// so no scheduled sync runs meanwhile.)
    pub async fn refresh_syncs_now(&self) {
        let b = self.browser;
        let shops = self.app.simulator.shops();
        let requests = || {
            shops
                .iter()
                .map(|s| self.app.simulator.request_count(&s.slug))
                .sum::<u64>()
        };
        let attempts = || async {
            let sources = self.app.json("/api/v1/sources").await;
            let mut at = Vec::new();
            for s in sources["sources"].as_array().unwrap() {
                for r in s["resources"].as_array().unwrap() {
                    if r["resource"] == "orders" && s["platform"] == "shopify" {
                        at.push((s["id"].clone(), r["last_attempt_at"].clone()));
                    }
                }
            }
            at
        };
        b.goto(&self.url("/sources")).await;
        let before = (requests(), attempts().await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The orders runs do not start on their own; the shops' request
        // counts may still move, as the first runs of the GraphQL-only
        // resources (checkouts) can still be paging (see `wait_for_sync`).
        assert_eq!(
            attempts().await,
            before.1,
            "no orders sync starts on its own during the test"
        );

        self.submit("form[action='/refresh'] button[type=submit]", "", "")
            .await;
        assert!(
            b.current_url().await.ends_with("/sources"),
            "back on the page: {}",
            b.current_url().await
        );
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now = (requests(), attempts().await);
            let moved = now.1.iter().zip(&before.1).all(|(n, o)| n.1 != o.1);
            if now.0 > before.0 && moved {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no sync after Refresh: requests {} → {}, last attempts {:?} → {:?}",
                before.0,
                now.0,
                before.1,
                now.1
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        b.goto(&self.url("/sources")).await;
        self.shot("sources-refreshed").await;
    }

    /// The silence form on /alerts: silencing an open alert's rule for its
    /// brand lists the silence and marks the alert silenced.
    pub async fn silence_an_alert(&self) {
        let b = self.browser;
        let open = self.app.json("/api/v1/alerts?state=open").await;
        let alert: Value = open["alerts"]
            .as_array()
            .unwrap()
            .first()
            .cloned()
            .expect("an open alert (the acknowledge scenario found one)");
        let (id, rule, brand) = (
            alert["id"].as_str().unwrap(),
            alert["rule"].as_str().unwrap(),
            alert["brand"].as_str().unwrap(),
        );
        let rule_name = alert["rule_name"].as_str().unwrap();
        b.goto(&self.url("/alerts")).await;
        let marker = format!("li[id='alert-{id}'] .silenced");
        assert!(b.try_find(&marker).await.is_none(), "not silenced yet");
        b.click(
            &b.find(&format!("#silence-rule option[value='{rule}']"))
                .await,
        )
        .await;
        b.click(
            &b.find(&format!("#silence-brand option[value='{brand}']"))
                .await,
        )
        .await;
        b.click(&b.find("#silence-hours option[value='2']").await)
            .await;
        let reason = "Browser test: supplier restock on Friday";
        b.type_into(&b.find("#silence-reason").await, reason).await;
        self.submit(
            "form[action='/alerts/silences'] button[type=submit]",
            "",
            "#silences",
        )
        .await;
        assert!(
            b.current_url().await.ends_with("/alerts#silences"),
            "{}",
            b.current_url().await
        );
        let listed = b.text_of("#silences").await;
        assert!(
            listed.contains(reason)
                && listed.contains(rule_name)
                && listed.contains(super::app::USERNAME),
            "the silence is listed with its rule, author and reason: {listed}"
        );
        let title = b
            .eval(
                "var e = document.querySelector(arguments[0]); return e && e.title;",
                vec![json!(marker)],
            )
            .await;
        assert!(
            title.as_str().is_some_and(|t| t.contains(reason)),
            "alert {id} ({rule_name}, {brand}) is marked silenced: {title}"
        );
        b.eval(
            "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
            vec![json!(marker)],
        )
        .await;
        self.shot("alerts-silenced").await;
    }

    /// Clicks the submit `button` and waits until the page the form leads
    /// to has loaded, its query string holding `search` and its fragment
    /// being `hash`: a click returns before the navigation ends, so the old
    /// page (marked) could otherwise be read as the new one.
    pub(crate) async fn submit(&self, button: &str, search: &str, hash: &str) {
        let b = self.browser;
        b.eval("window.__leaving = true;", vec![]).await;
        b.click(&b.find(button).await).await;
        b.wait_until(
            &format!("the page with {search:?}{hash:?} has loaded"),
            Duration::from_secs(10),
            "return document.readyState === 'complete' && !window.__leaving
                   && location.search.includes(arguments[0]) && location.hash === arguments[1];",
            vec![json!(search), json!(hash)],
        )
        .await;
    }

    /// Tab alone, from the top of the page, reaches every field of the
    /// form `form` and then its submit button, in reading order; each
    /// field has a label.
    pub async fn form_by_keyboard(&self, path: &str, form: &str) {
        let b = self.browser;
        let fields = b
            .eval(
                "var f = Array.from(document.querySelectorAll(arguments[0] +
                   ' input:not([type=hidden]), ' + arguments[0] + ' select, ' + arguments[0] +
                   ' textarea, ' + arguments[0] + ' button'));
                 f.forEach((e, i) => e.setAttribute('data-kb', String(i)));
                 // Start from the top of the page as a fresh visitor does
                 // (not from a field the page focused itself).
                 var start = document.createElement('span');
                 start.tabIndex = -1;
                 document.body.prepend(start);
                 start.focus();
                 return f.map(e => [e.tagName === 'BUTTON' || !!(e.labels && e.labels.length),
                                    e.outerHTML.slice(0, 100)]);",
                vec![json!(form)],
            )
            .await;
        let fields = fields.as_array().unwrap().clone();
        assert!(!fields.is_empty(), "{path}: no form {form}");
        for f in &fields {
            assert_eq!(
                f[0],
                json!(true),
                "{path}: a field without a label: {}",
                f[1]
            );
        }
        let mut order: Vec<u64> = Vec::new();
        let limit = 60;
        let mut presses = 0;
        while order.len() < fields.len() && presses < limit {
            b.press(TAB).await;
            presses += 1;
            let at = b
                .eval(
                    "var e = document.activeElement; return e && e.getAttribute('data-kb');",
                    vec![],
                )
                .await;
            if let Some(i) = at.as_str().and_then(|i| i.parse().ok()) {
                if !order.contains(&i) {
                    order.push(i);
                }
            }
        }
        let expected: Vec<u64> = (0..fields.len() as u64).collect();
        assert_eq!(
            order, expected,
            "{path}: Tab visits the fields of {form} in this order (by position in the form)"
        );
    }
}
