//! Just enough of the W3C WebDriver protocol (JSON over HTTP) to drive Debian's chromium
//! through chromedriver: navigate, find by CSS selector, click, read text and the URL, take a
//! screenshot. Each call is one HTTP request to chromedriver on loopback.
//!
//! [`Browser::launch`] starts `chromedriver` on a free port and a headless chromium session
//! with a fresh profile; dropping the browser ends both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long [`Browser::wait_for`] waits by default.
pub const WAIT: Duration = Duration::from_secs(20);

/// Where chromedriver and chromium are, or `None` when they are not installed.
pub fn installed() -> Option<(PathBuf, PathBuf)> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var) {
            return Some(PathBuf::from(p));
        }
        names.iter().map(PathBuf::from).find(|p| p.is_file())
    };
    let driver = find(
        "FEDKIT_CHROMEDRIVER",
        &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
    )?;
    let chromium = find(
        "FEDKIT_CHROMIUM",
        &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
    )?;
    Some((driver, chromium))
}

/// A headless chromium session.
pub struct Browser {
    driver: Child,
    endpoint: String,
    session: String,
    profile: PathBuf,
    agent: ureq::Agent,
}

/// A found element.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless chromium session.
    pub fn launch(driver: &Path, chromium: &Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let endpoint = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let profile = std::env::temp_dir().join(format!("fedkit-chromium-{}-{port}", std::process::id()));
        let mut browser = Browser {
            driver: child,
            endpoint,
            session: String::new(),
            profile,
            agent,
        };
        let started = Instant::now();
        loop {
            let ready = browser
                .agent
                .get(&format!("{}/status", browser.endpoint))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                .is_some_and(|v| v["value"]["ready"] == Value::Bool(true));
            if ready {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not become ready"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // The flags a closed network needs: no background requests to Google's services.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--window-size=1200,1000",
            &format!("--user-data-dir={}", browser.profile.display()),
        ];
        let created = browser.command(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args}
            }}}),
        );
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser.session_command("POST", "/timeouts", json!({"pageLoad": 30_000, "implicit": 0}));
        browser
    }

    fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.endpoint);
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Content-Type", "application/json")
            .body(if method == "GET" || method == "DELETE" {
                String::new()
            } else {
                body.to_string()
            })
            .map_err(|e| e.to_string())?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method} {path}: {e}: {text}"))?;
        if status >= 300 {
            return Err(format!("WebDriver {method} {path} -> {status}: {value}"));
        }
        Ok(value["value"].clone())
    }

    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn session_command(&self, method: &str, path: &str, body: Value) -> Value {
        self.command(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.session_command("POST", "/url", json!({ "url": url }));
    }

    /// The current URL.
    pub fn url(&self) -> String {
        self.session_command("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML as the browser sees it now.
    pub fn source(&self) -> String {
        self.session_command("GET", "/source", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The elements matching a CSS selector (none is not an error).
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.session_command(
            "POST",
            "/elements",
            json!({"using": "css selector", "value": css}),
        )
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
                .collect()
        })
        .unwrap_or_default()
    }

    /// The one element matching `css`, waiting for it to appear.
    pub fn find(&self, css: &str) -> Element {
        let mut found = None;
        self.wait_for(&format!("an element matching {css:?}"), || {
            found = self.find_all(css).into_iter().next();
            found.is_some()
        });
        found.unwrap()
    }

    /// Clicks an element.
    pub fn click(&self, element: &Element) {
        self.session_command("POST", &format!("/element/{}/click", element.0), json!({}));
    }

    /// Types `text` into an element (an input field).
    pub fn type_text(&self, element: &Element, text: &str) {
        self.session_command(
            "POST",
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        );
    }

    /// The rendered text of an element.
    pub fn text(&self, element: &Element) -> String {
        self.session_command("GET", &format!("/element/{}/text", element.0), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The text of the element matching `css`, once it exists.
    pub fn text_of(&self, css: &str) -> String {
        let element = self.find(css);
        self.text(&element)
    }

    /// Polls `condition` until it holds; panics (naming `what`, the URL and the page) after
    /// [`WAIT`].
    pub fn wait_for(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let started = Instant::now();
        while !condition() {
            if started.elapsed() > WAIT {
                panic!(
                    "waited {WAIT:?} for {what}; the browser is at {} showing:\n{}",
                    self.url(),
                    self.text_of_body()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the URL starts with `prefix`.
    pub fn wait_for_url(&self, prefix: &str) {
        self.wait_for(&format!("a URL starting with {prefix:?}"), || {
            self.url().starts_with(prefix)
        });
    }

    fn text_of_body(&self) -> String {
        self.find_all("body")
            .first()
            .map(|b| self.text(b))
            .unwrap_or_default()
    }

    /// Saves a PNG screenshot and the page source beside it (`name.png`, `name.html`).
    /// Never panics (it runs while a failed test unwinds).
    pub fn save_evidence(&self, dir: &Path, name: &str) -> Result<PathBuf, String> {
        let session =
            |path: &str| self.try_command("GET", &format!("/session/{}{path}", self.session), Value::Null);
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let png = session("/screenshot")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
        let source = session("/source")?;
        std::fs::write(
            dir.join(format!("{name}.html")),
            source.as_str().unwrap_or_default(),
        )
        .map_err(|e| e.to_string())?;
        Ok(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.endpoint, self.session);
            let _ = self.agent.delete(&url).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
