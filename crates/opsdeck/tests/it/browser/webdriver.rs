//! A small client for the W3C WebDriver HTTP protocol, enough to drive
//! Debian's Chromium through chromedriver: start both, open pages, find and
//! click elements, type, press keys, run a script, take screenshots.
//!
//! Written here over reqwest + `serde_json` (both already dependencies) rather
//! than pulling in a WebDriver crate: the tests need a dozen endpoints, and
//! every failure names the endpoint and chromedriver's own error message.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key W3C WebDriver uses for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The Tab key in WebDriver's key codes.
pub const TAB: &str = "\u{E004}";

/// Why the browser cannot be used on this machine, or `None` when both
/// Chromium and chromedriver are installed.
pub fn missing_browser() -> Option<String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        None
    } else {
        Some(format!(
            "{} not installed (apt-get install chromium chromium-driver)",
            missing.join(" and ")
        ))
    }
}

/// chromedriver on a free loopback port and one headless Chromium session.
/// Dropping it ends the session and kills chromedriver (and so Chromium).
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    driver: Child,
    profile: PathBuf,
}

/// An element reference in the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub async fn start() -> Browser {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().unwrap().port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let ready = http.get(format!("{base}/status")).send().await;
            if let Ok(r) = ready {
                let v: Value = r.json().await.unwrap_or_default();
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on {base}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!(
            "opsdeck-browser-profile-{}-{port}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("--user-data-dir={}", profile.display())])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let created = call(&http, "POST", &format!("{base}/session"), Some(caps)).await;
        let id = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {created}"))
            .to_string();
        Browser {
            http,
            session: format!("{base}/session/{id}"),
            driver,
            profile,
        }
    }

    async fn get(&self, path: &str) -> Value {
        call(&self.http, "GET", &format!("{}{path}", self.session), None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        call(
            &self.http,
            "POST",
            &format!("{}{path}", self.session),
            Some(body),
        )
        .await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn current_url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The value of cookie `name` as the browser holds it (HttpOnly too).
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let all = self.get("/cookie").await;
        all.as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str())
            .map(str::to_string)
    }

    /// Sets cookie `name` for the current page's site.
    pub async fn set_cookie(&self, name: &str, value: &str) {
        self.post(
            "/cookie",
            json!({"cookie": {"name": name, "value": value, "path": "/", "httpOnly": true}}),
        )
        .await;
    }

    /// Sets the window's outer size.
    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and
    /// returns what it returns.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// The first element matching `css`, or a panic naming the selector
    /// and the page.
    pub async fn find(&self, css: &str) -> Element {
        match self.try_find(css).await {
            Some(e) => e,
            None => panic!("no element {css:?} on {}", self.current_url().await),
        }
    }

    pub async fn try_find(&self, css: &str) -> Option<Element> {
        let response = self
            .http
            .post(format!("{}/element", self.session))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .expect("chromedriver answers");
        let v: Value = response.json().await.expect("JSON from chromedriver");
        match v["value"][ELEMENT].as_str() {
            Some(id) => Some(Element(id.to_string())),
            None if v["value"]["error"] == "no such element" => None,
            None => panic!("find {css:?}: {v}"),
        }
    }

    pub async fn click(&self, e: &Element) {
        self.post(&format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    /// Clicks `e`, which submits a form or follows a link, and waits until
    /// the next page has loaded. Waiting for something on the next page is
    /// not enough when the current page already shows it (text typed into a
    /// field the next page pre-fills): the wait would pass before the
    /// browser left, and the next step would look for an element on a page
    /// being torn down. The old page is marked, so only a new one ends the
    /// wait.
    pub async fn click_to_next_page(&self, e: &Element) {
        self.eval("window.__opsdeckLeaving = true; return true;", vec![])
            .await;
        self.click(e).await;
        self.wait_until(
            "the next page loads",
            Duration::from_secs(10),
            "return window.__opsdeckLeaving === undefined && document.readyState === 'complete';",
            vec![],
        )
        .await;
    }

    pub async fn type_into(&self, e: &Element, text: &str) {
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text }))
            .await;
    }

    pub async fn text(&self, e: &Element) -> String {
        let v = self.get(&format!("/element/{}/text", e.0)).await;
        v.as_str().unwrap_or_default().to_string()
    }

    /// The text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.text(&e).await
    }

    /// Presses and releases `key` (e.g. [`TAB`]) in the focused element.
    pub async fn press(&self, key: &str) {
        self.post(
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": key},
                {"type": "keyUp", "value": key},
            ]}]}),
        )
        .await;
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let v = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 screenshot"))
            .expect("valid base64");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Waits up to `timeout` for `script` to return `true`; panics with
    /// `what` otherwise.
    pub async fn wait_until(&self, what: &str, timeout: Duration, script: &str, args: Vec<Value>) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.eval(script, args.clone()).await == Value::Bool(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Chromium is chromedriver's child: ending the session closes it.
        // Drop cannot await, so the DELETE runs on its own small runtime in
        // another thread (this one may be inside the test's runtime).
        let session = self.session.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    let _ = tokio::time::timeout(
                        Duration::from_secs(5),
                        reqwest::Client::new().delete(session).send(),
                    )
                    .await;
                });
            }
        })
        .join();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One WebDriver command; panics with chromedriver's error when it fails.
async fn call(http: &reqwest::Client, method: &str, url: &str, body: Option<Value>) -> Value {
    let request = match method {
        "GET" => http.get(url),
        "POST" => http.post(url).json(&body.unwrap_or(json!({}))),
        other => unreachable!("method {other}"),
    };
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status();
    let v: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: not JSON: {e}"));
    if !status.is_success() {
        panic!(
            "{method} {url} failed ({status}): {} — {}",
            v["value"]["error"], v["value"]["message"]
        );
    }
    v["value"].clone()
}
