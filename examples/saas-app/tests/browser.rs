//! The whole integration in a real browser: Debian's chromium, headless, driven through
//! chromedriver (WebDriver), against the real `fedkit idp serve` and the real `saas-app`
//! binary, started with the commands of the app's README (the quick start) on loopback.
//!
//! Flows: SP-initiated login back to the page asked for, single logout through the IdP,
//! IdP-initiated login, a user deactivated over SCIM refused, and Responses the test IdP breaks
//! on purpose (expired, tampered, wrong audience, unsigned) refused with fedkit's error code on
//! the app's error page. When a step fails, a screenshot and the page source are saved under
//! `target/<profile>/browser-evidence/` (the path is printed), beside both servers' logs.
//!
//! Needs `chromium` and `chromium-driver` (Debian packages; `.ci/install-deps` installs them).
//! Without them the test says so and passes, unless `FEDKIT_REQUIRE_BROWSER=1` (set by
//! `.ci/test`), when it fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::webdriver::{self, Browser};

const SCIM_TOKEN: &str = "scim_4f9d2c7e1b8a6d3f0e5c";
const ADMIN_TOKEN: &str = "admin_9c1e7a53b2d84f60";

/// Screenshots, page sources and server logs of this run.
fn evidence_dir() -> PathBuf {
    let profile_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    profile_dir.join("browser-evidence")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn log_file(name: &str) -> std::fs::File {
    let dir = evidence_dir();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::File::create(dir.join(name)).unwrap()
}

/// Terminal 1 of the README: `fedkit idp serve` for the app at `app_base`.
fn start_idp(idp_port: u16, app_base: &str, state_dir: &Path) -> (Server, serde_json::Value) {
    let mut child = Command::new(common::fedkit_binary())
        .args(["--json", "idp", "serve"])
        .args(["--listen", &format!("127.0.0.1:{idp_port}")])
        .args(["--base-url", &format!("http://localhost:{idp_port}")])
        .args(["--sp-entity-id", &format!("{app_base}/saml/metadata")])
        .args(["--acs-url", &format!("{app_base}/saml/acs")])
        .args(["--sp-slo-url", &format!("{app_base}/saml/slo")])
        .arg("--state-dir")
        .arg(state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file("idp.log"))
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let started: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("no start-up line ({e}): {line:?}"));
    (Server(child), started)
}

/// Terminal 2 of the README: the app, its IdP from the test IdP's metadata.
fn start_app(app_port: u16, metadata: &Path, data_dir: &Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_saas-app"))
        .args(["--listen", &format!("127.0.0.1:{app_port}")])
        .args(["--base-url", &format!("http://localhost:{app_port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--idp-metadata")
        .arg(metadata)
        .arg("--dangerous-allow-http-idp")
        .args(["--provisioning", "jit"])
        .args(["--scim-token", SCIM_TOKEN, "--admin-token", ADMIN_TOKEN])
        .stdin(Stdio::null())
        .stdout(log_file("saas-app.stdout.log"))
        .stderr(log_file("saas-app.log"))
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while http_get(&format!("http://127.0.0.1:{app_port}/")).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the app did not start; see {}",
            evidence_dir().join("saas-app.log").display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn http_get(url: &str) -> Result<String, ureq::Error> {
    agent().get(url).call()?.body_mut().read_to_string()
}

/// A SCIM call to the app, as JumpCloud makes it.
fn scim(app_port: u16, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{app_port}/scim/v2{path}"))
        .header("Authorization", format!("Bearer {SCIM_TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .body(body.to_owned())
        .unwrap();
    let mut response = agent().run(request).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_default())
}

/// Names the step in progress; if it fails, saves the browser's screenshot and page.
struct Step<'a> {
    browser: &'a Browser,
    name: &'static str,
}

fn step<'a>(browser: &'a Browser, name: &'static str) -> Step<'a> {
    eprintln!("browser step: {name}");
    Step { browser, name }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            match self.browser.save_evidence(&evidence_dir(), self.name) {
                Ok(path) => eprintln!(
                    "step {:?} failed; screenshot: {} (page source beside it; server logs in {})",
                    self.name,
                    path.display(),
                    evidence_dir().display()
                ),
                Err(e) => eprintln!("step {:?} failed; no screenshot: {e}", self.name),
            }
        }
    }
}

/// The CSS selector of `user`'s form on an IdP page.
fn user_form(email: &str) -> String {
    format!("form:has(input[name=\"user\"][value=\"{email}\"])")
}

/// On the IdP's page, asks for `fault` (unless `None`) and clicks `email`'s button.
fn log_in_at_idp(browser: &Browser, email: &str, fault: Option<&str>) {
    let form = user_form(email);
    if let Some(fault) = fault {
        let option = browser.find(&format!(
            "{form} select[name=\"fault\"] option[value=\"{fault}\"]"
        ));
        browser.click(&option);
    }
    let button = browser.find(&format!("{form} button"));
    browser.click(&button);
}

/// Waits for the app's error page and returns (code, message).
fn error_page(browser: &Browser, app_base: &str) -> (String, String) {
    browser.wait_for_url(&format!("{app_base}/saml/acs"));
    (browser.text_of("#code"), browser.text_of("#message"))
}

/// Opens a page that needs a login and checks that the app sends the browser to the IdP.
fn assert_signed_out(browser: &Browser, app_base: &str, idp_base: &str) {
    browser.goto(&format!("{app_base}/profile"));
    browser.wait_for_url(&format!("{idp_base}/saml2/"));
}

#[test]
fn sso_and_scim_in_a_real_browser() {
    let Some((driver, chromium)) = webdriver::installed() else {
        assert!(
            std::env::var_os("FEDKIT_REQUIRE_BROWSER").is_none(),
            "FEDKIT_REQUIRE_BROWSER is set but chromium/chromedriver are not installed \
             (apt-get install chromium chromium-driver)"
        );
        eprintln!(
            "SKIPPED: chromium and chromedriver are not installed (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let scratch = std::env::temp_dir().join(format!("fedkit-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let _ = std::fs::remove_dir_all(evidence_dir());

    let (idp_port, app_port) = (free_port(), free_port());
    let app_base = format!("http://localhost:{app_port}");
    let idp_base = format!("http://localhost:{idp_port}");
    let (_idp, started) = start_idp(idp_port, &app_base, &scratch.join("idp"));
    assert_eq!(started["metadata_url"], format!("{idp_base}/metadata"));
    let metadata = http_get(&format!("http://127.0.0.1:{idp_port}/metadata")).unwrap();
    let metadata_file = scratch.join("idp.xml");
    std::fs::write(&metadata_file, metadata).unwrap();
    let _app = start_app(app_port, &metadata_file, &scratch.join("app"));

    let browser = Browser::launch(&driver, &chromium);

    {
        let _s = step(&browser, "sp-initiated-login");
        let asked = "/app/reports?year=2026";
        browser.goto(&format!("{app_base}{asked}"));
        browser.wait_for_url(&format!("{idp_base}/saml2/"));
        log_in_at_idp(&browser, "jane.doe@example.com", None);
        browser.wait_for_url(&format!("{app_base}{asked}"));
        assert_eq!(browser.text_of("#email"), "jane.doe@example.com");
        assert_eq!(browser.text_of("#page"), asked);
        assert!(browser.text_of("#login-kind").contains("SP-initiated"));
        let attributes = browser.text_of("#attributes");
        assert!(attributes.contains("Engineering, SSO Admins"), "{attributes}");
    }
    {
        let _s = step(&browser, "single-logout");
        let logout = browser.find("form[action=\"/logout\"] button");
        browser.click(&logout);
        browser.wait_for_url(&format!("{app_base}/saml/slo"));
        let body = browser.text_of("body");
        assert!(body.contains("You are signed out"), "{body}");
        assert!(body.contains("The IdP confirmed the logout."), "{body}");
        assert_signed_out(&browser, &app_base, &idp_base);
    }
    {
        let _s = step(&browser, "idp-initiated-login");
        browser.goto(&format!("{idp_base}/"));
        log_in_at_idp(&browser, "john.smith@example.com", None);
        browser.wait_for(&format!("the app at {app_base}"), || {
            browser.url().starts_with(&app_base) && !browser.url().contains("/saml/acs")
        });
        assert_eq!(browser.text_of("#email"), "john.smith@example.com");
        assert!(browser.text_of("#login-kind").contains("IdP-initiated"));
        let logout = browser.find("form[action=\"/logout\"] button");
        browser.click(&logout);
        browser.wait_for_url(&format!("{app_base}/saml/slo"));
        assert_signed_out(&browser, &app_base, &idp_base);
    }
    {
        let _s = step(&browser, "deactivated-user-refused");
        // Jane was created at her first login (JIT); the IdP deactivates her over SCIM.
        let (status, found) = scim(
            app_port,
            "GET",
            "/Users?filter=userName%20eq%20%22jane.doe@example.com%22",
            "",
        );
        assert_eq!(status, 200, "{found}");
        let id = found["Resources"][0]["id"].as_str().unwrap().to_owned();
        let (status, body) = scim(
            app_port,
            "PATCH",
            &format!("/Users/{id}"),
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#,
        );
        assert_eq!(status, 200, "{body}");
        browser.goto(&format!("{idp_base}/"));
        log_in_at_idp(&browser, "jane.doe@example.com", None);
        let (code, message) = error_page(&browser, &app_base);
        assert_eq!(code, "user_deactivated", "{message}");
        assert_signed_out(&browser, &app_base, &idp_base);
    }
    for (fault, expected_code, in_message) in [
        ("expired", "expired", "expired"),
        ("tampered", "digest_mismatch", "modified after it was signed"),
        ("wrong-audience", "audience_mismatch", "another-sp.invalid"),
        ("unsigned", "unsigned", "not signed"),
    ] {
        let _s = step(
            &browser,
            match fault {
                "expired" => "expired-response-refused",
                "tampered" => "tampered-response-refused",
                "wrong-audience" => "wrong-audience-refused",
                _ => "unsigned-response-refused",
            },
        );
        // SP-initiated, so the refusal is about the fault, not an unsolicited Response.
        browser.goto(&format!("{app_base}/profile"));
        browser.wait_for_url(&format!("{idp_base}/saml2/"));
        log_in_at_idp(&browser, "john.smith@example.com", Some(fault));
        let (code, message) = error_page(&browser, &app_base);
        assert_eq!(code, expected_code, "{fault}: {message}");
        assert!(message.contains(in_message), "{fault}: {message}");
        assert_signed_out(&browser, &app_base, &idp_base);
    }

    drop(browser);
    let _ = std::fs::remove_dir_all(&scratch);
}
