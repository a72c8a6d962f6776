//! The whole integration in a real browser: Debian's chromium, headless, driven through
//! chromedriver (WebDriver), against the real `fedkit idp serve` and the real `saas-app`
//! binary, started with the commands of the app's README (the quick start) on loopback.
//!
//! Flows: SP-initiated login back to the page asked for, single logout through the IdP,
//! IdP-initiated login, a user deactivated over SCIM refused, and Responses the test IdP breaks
//! on purpose (expired, tampered, wrong audience, unsigned) refused with fedkit's error code on
//! the app's error page. When a step fails, a screenshot and the page source are saved under
//! `target/<profile>/browser-evidence/<test>/` (the path is printed), beside both servers' logs.
//!
//! A second test, `simplesamlphp_idp_in_a_real_browser`, runs the same app against IdP
//! software nobody here wrote: SimpleSAMLphp (Debian's `simplesamlphp`, served by `php -S` on
//! loopback) — SP-initiated login through its login form, Single Logout, IdP-initiated login
//! (docs/interop.md). Without SimpleSAMLphp and PHP it says so and passes, unless
//! `FEDKIT_REQUIRE_INTEROP=1` (set by `.ci/test`), when it fails. The two tests take turns.
//!
//! A third, `tenancy_in_a_real_browser`, goes through fedkit-tenancy's pages: local accounts,
//! "Require SSO" with the admin bypass, claiming and checking a domain (the app restarted with
//! the TXT record in its `--txt-record` map), SSO by email through verified domains only,
//! linking to a local account only once the domain is verified, a SCIM-deactivated user
//! refused, and the setup guide.
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

/// Screenshots, page sources and server logs of this run of the test `test`
/// (`target/<profile>/browser-evidence/<test>/`).
fn evidence_dir(test: &str) -> PathBuf {
    let profile_dir = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    profile_dir.join("browser-evidence").join(test)
}

/// The evidence directory of [`sso_and_scim_in_a_real_browser`].
const FEDKIT_IDP_TEST: &str = "fedkit-idp";
/// The evidence directory of [`simplesamlphp_idp_in_a_real_browser`].
const SIMPLESAMLPHP_TEST: &str = "simplesamlphp";

/// The two tests share the machine's two cores badly: one browser at a time.
static ONE_BROWSER_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

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

fn log_file(test: &str, name: &str) -> std::fs::File {
    let dir = evidence_dir(test);
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
        .stderr(log_file(FEDKIT_IDP_TEST, "idp.log"))
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

/// Terminal 2 of the README: the app, its IdP from the IdP's metadata (logs in the evidence
/// directory of `test`).
fn start_app(test: &str, app_port: u16, metadata: &Path, data_dir: &Path) -> Server {
    start_app_with(test, app_port, metadata, data_dir, &[])
}

/// [`start_app`] with more flags.
fn start_app_with(test: &str, app_port: u16, metadata: &Path, data_dir: &Path, extra: &[String]) -> Server {
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
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log_file(test, "saas-app.stdout.log"))
        .stderr(log_file(test, "saas-app.log"))
        .spawn()
        .unwrap();
    let server = Server(child);
    let started = Instant::now();
    while http_get(&format!("http://127.0.0.1:{app_port}/")).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the app did not start; see {}",
            evidence_dir(test).join("saas-app.log").display()
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
    test: &'static str,
    name: &'static str,
}

fn step<'a>(browser: &'a Browser, name: &'static str) -> Step<'a> {
    test_step(browser, FEDKIT_IDP_TEST, name)
}

fn test_step<'a>(browser: &'a Browser, test: &'static str, name: &'static str) -> Step<'a> {
    eprintln!("browser step: {test}: {name}");
    Step { browser, test, name }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            match self.browser.save_evidence(&evidence_dir(self.test), self.name) {
                Ok(path) => eprintln!(
                    "step {:?} failed; screenshot: {} (page source beside it; server logs in {})",
                    self.name,
                    path.display(),
                    evidence_dir(self.test).display()
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
    let _serial = ONE_BROWSER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::fs::remove_dir_all(evidence_dir(FEDKIT_IDP_TEST));

    let (idp_port, app_port) = (free_port(), free_port());
    let app_base = format!("http://localhost:{app_port}");
    let idp_base = format!("http://localhost:{idp_port}");
    let (_idp, started) = start_idp(idp_port, &app_base, &scratch.join("idp"));
    assert_eq!(started["metadata_url"], format!("{idp_base}/metadata"));
    let metadata = http_get(&format!("http://127.0.0.1:{idp_port}/metadata")).unwrap();
    let metadata_file = scratch.join("idp.xml");
    std::fs::write(&metadata_file, metadata).unwrap();
    let _app = start_app(FEDKIT_IDP_TEST, app_port, &metadata_file, &scratch.join("app"));

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
        assert_eq!(code, "deactivated_by_scim", "{message}");
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

// ---------------------------------------------------------------------------------------------
// fedkit-tenancy in the app: verified domains, discovery, enforcement with the admin bypass,
// account linking.

/// The evidence directory of [`tenancy_in_a_real_browser`].
const TENANCY_TEST: &str = "tenancy";
const PASSWORD: &str = "correct horse battery staple";

/// Fills the form whose action is `action` (`(input name, text)`; `"on"` clicks a checkbox)
/// and submits it.
fn submit(browser: &Browser, action: &str, fields: &[(&str, &str)]) {
    let form = format!("form[action=\"{action}\"]");
    for (name, text) in fields {
        let input = browser.find(&format!("{form} input[name=\"{name}\"]"));
        if *text == "on" {
            browser.click(&input);
        } else {
            browser.type_text(&input, text);
        }
    }
    let button = browser.find(&format!("{form} button"));
    browser.click(&button);
}

fn password_login(browser: &Browser, app_base: &str, email: &str) {
    browser.goto(&format!("{app_base}/login"));
    submit(browser, "/login", &[("email", email), ("password", PASSWORD)]);
}

#[test]
fn tenancy_in_a_real_browser() {
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
    let scratch = std::env::temp_dir().join(format!("fedkit-browser-tenancy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let _serial = ONE_BROWSER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _ = std::fs::remove_dir_all(evidence_dir(TENANCY_TEST));

    let (idp_port, app_port) = (free_port(), free_port());
    let app_base = format!("http://localhost:{app_port}");
    let idp_base = format!("http://localhost:{idp_port}");
    let (_idp, _) = start_idp(idp_port, &app_base, &scratch.join("idp"));
    let metadata = http_get(&format!("http://127.0.0.1:{idp_port}/metadata")).unwrap();
    let metadata_file = scratch.join("idp.xml");
    std::fs::write(&metadata_file, metadata).unwrap();
    let data_dir = scratch.join("app");
    let linking = vec!["--allow-linking".to_owned()];
    let app = start_app_with(TENANCY_TEST, app_port, &metadata_file, &data_dir, &linking);
    let browser = Browser::launch(&driver, &chromium);
    let error_code = |browser: &Browser| browser.text_of("#code");

    let record = {
        let _s = test_step(
            &browser,
            TENANCY_TEST,
            "unverified-domain-neither-routes-nor-enforces",
        );
        for (email, admin) in [("ada@example.com", true), ("john.smith@example.com", false)] {
            browser.goto(&format!("{app_base}/admin/sso"));
            let mut fields = vec![("token", ADMIN_TOKEN), ("email", email), ("password", PASSWORD)];
            if admin {
                fields.push(("admin", "on"));
            }
            submit(&browser, "/admin/accounts", &fields);
            assert!(browser.text_of("#account-added").contains(email));
        }
        browser.goto(&format!("{app_base}/admin/sso"));
        submit(
            &browser,
            "/admin/enforcement",
            &[("token", ADMIN_TOKEN), ("enabled", "on"), ("bypass", "on")],
        );
        assert_eq!(
            browser.text_of("#enforcement-saved"),
            "Require SSO: on; admin bypass: on."
        );
        browser.goto(&format!("{app_base}/admin/sso"));
        submit(
            &browser,
            "/admin/domains/claim",
            &[("token", ADMIN_TOKEN), ("domain", "example.com")],
        );
        let name = browser.text_of("#record-name");
        let value = browser.text_of("#record-value");
        assert_eq!(name, "_saas-app-verification.example.com");
        browser.goto(&format!("{app_base}/admin/sso"));
        submit(
            &browser,
            "/admin/domains/check",
            &[("token", ADMIN_TOKEN), ("domain", "example.com")],
        );
        assert_eq!(error_code(&browser), "txt_record_missing");
        // Claimed, not verified: SSO by email does not route, the password still works.
        browser.goto(&format!("{app_base}/login"));
        submit(&browser, "/sso", &[("email", "john.smith@example.com")]);
        assert_eq!(error_code(&browser), "domain_not_verified");
        password_login(&browser, &app_base, "john.smith@example.com");
        browser.wait_for_url(&format!("{app_base}/profile"));
        assert_eq!(browser.text_of("#login-kind"), "password");
        (name, value)
    };
    {
        let _s = test_step(&browser, TENANCY_TEST, "no-linking-on-an-unverified-domain");
        browser.goto(&format!("{idp_base}/"));
        log_in_at_idp(&browser, "john.smith@example.com", None);
        let (code, message) = error_page(&browser, &app_base);
        assert_eq!(code, "domain_not_verified", "{message}");
    }
    // The record is published: the app restarts with it in its DNS (its state persists).
    drop(app);
    let mut flags = linking.clone();
    flags.extend(["--txt-record".to_owned(), format!("{}={}", record.0, record.1)]);
    let _app = start_app_with(TENANCY_TEST, app_port, &metadata_file, &data_dir, &flags);
    {
        let _s = test_step(&browser, TENANCY_TEST, "verified-domain-routes-and-links");
        browser.goto(&format!("{app_base}/admin/sso"));
        submit(
            &browser,
            "/admin/domains/check",
            &[("token", ADMIN_TOKEN), ("domain", "example.com")],
        );
        assert!(browser.text_of("#verified").contains("example.com is verified"));
        assert!(browser.text_of("#check-answer").contains(&record.1));
        browser.goto(&format!("{app_base}/login"));
        submit(&browser, "/sso", &[("email", "John.Smith@EXAMPLE.com")]);
        browser.wait_for_url(&format!("{idp_base}/saml2/"));
        log_in_at_idp(&browser, "john.smith@example.com", None);
        browser.wait_for_url(&format!("{app_base}/profile"));
        assert_eq!(browser.text_of("#email"), "john.smith@example.com");
        let account = browser.text_of("body");
        assert!(
            account.contains("local-"),
            "linked to the local account: {account}"
        );
        let logout = browser.find("form[action=\"/logout\"] button");
        browser.click(&logout);
        browser.wait_for_url(&format!("{app_base}/saml/slo"));
    }
    {
        let _s = test_step(&browser, TENANCY_TEST, "enforced-password-refused-admin-bypass");
        password_login(&browser, &app_base, "john.smith@example.com");
        assert_eq!(error_code(&browser), "sso_required");
        password_login(&browser, &app_base, "ada@example.com");
        browser.wait_for_url(&format!("{app_base}/profile"));
        assert_eq!(
            browser.text_of("#login-kind"),
            "password (admin bypass of SSO enforcement)"
        );
    }
    {
        let _s = test_step(&browser, TENANCY_TEST, "scim-deactivated-user-refused");
        // Jane is created at her first login (JIT, on the verified domain), then deactivated.
        browser.goto(&format!("{idp_base}/"));
        log_in_at_idp(&browser, "jane.doe@example.com", None);
        browser.wait_for(&format!("the app at {app_base}"), || {
            browser.url().starts_with(&app_base) && !browser.url().contains("/saml/acs")
        });
        assert_eq!(browser.text_of("#email"), "jane.doe@example.com");
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
        assert_eq!(code, "deactivated_by_scim", "{message}");
    }
    {
        let _s = test_step(&browser, TENANCY_TEST, "setup-guide");
        browser.goto(&format!("{app_base}/admin/guide?idp=jumpcloud"));
        let guide = browser.text_of("#guide");
        assert!(guide.contains(&format!("{app_base}/saml/acs")), "{guide}");
    }

    drop(browser);
    let _ = std::fs::remove_dir_all(&scratch);
}

// ---------------------------------------------------------------------------------------------
// SimpleSAMLphp as the IdP (docs/interop.md): IdP software nobody here wrote, Debian's
// `simplesamlphp` package served by PHP's built-in server on loopback.

/// Where Debian's `simplesamlphp` package puts the application.
const SIMPLESAMLPHP_WWW: &str = "/usr/share/simplesamlphp/www";
/// The packaged configuration the test's configuration starts from.
const SIMPLESAMLPHP_CONFIG: &str = "/etc/simplesamlphp/config.php";

/// Why SimpleSAMLphp cannot run here, if it cannot.
fn simplesamlphp_missing() -> Option<String> {
    for file in [
        format!("{SIMPLESAMLPHP_WWW}/index.php"),
        SIMPLESAMLPHP_CONFIG.to_owned(),
    ] {
        if !Path::new(&file).exists() {
            return Some(format!("{file} is missing (apt-get install simplesamlphp)"));
        }
    }
    let php = Command::new("php")
        .args([
            "-r",
            "exit(class_exists('DOMDocument') && function_exists('mb_strlen') ? 0 : 1);",
        ])
        .output();
    match php {
        Err(e) => Some(format!(
            "php cannot run ({e}): apt-get install php-cli php-xml php-mbstring"
        )),
        Ok(o) if !o.status.success() => {
            Some("php lacks DOM or mbstring: apt-get install php-xml php-mbstring".to_owned())
        }
        Ok(_) if Command::new("openssl").arg("version").output().is_err() => {
            Some("the openssl CLI is missing".to_owned())
        }
        Ok(_) => None,
    }
}

/// A PHP string literal.
fn php_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Writes a SimpleSAMLphp configuration for an IdP at `idp_base` serving the app at
/// `app_base` into `dir`, and starts it with `php -S` on `127.0.0.1:idp_port`.
///
/// - `config.php`: the packaged one, then this test's values (absolute `baseurlpath`,
///   directories in `dir`, the SAML 2.0 IdP and `exampleauth` on, cookies without `Secure`
///   for plain http, logs to a file in the evidence directory);
/// - `authsources.php`: an `exampleauth:UserPass` source with Jane and John;
/// - `saml20-idp-hosted.php`: a fresh RSA-2048 key pair (openssl), RSA-SHA256;
/// - `saml20-sp-remote.php`: the app (ACS, SLO over HTTP-Redirect, emailAddress NameID from
///   the `email` attribute), with the Response, the assertion and logout messages signed.
fn start_simplesamlphp(idp_port: u16, idp_base: &str, app_base: &str, dir: &Path) -> Server {
    let logs = evidence_dir(SIMPLESAMLPHP_TEST);
    for sub in ["config", "metadata", "cert", "data", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::create_dir_all(&logs).unwrap();
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "7",
        ])
        .args(["-subj", "/CN=simplesamlphp.interop.fedkit.test"])
        .arg("-keyout")
        .arg(dir.join("cert/idp.key"))
        .arg("-out")
        .arg(dir.join("cert/idp.crt"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make the IdP key pair");
    let path = |sub: &str| php_string(&format!("{}/", dir.join(sub).display()));
    let config = format!(
        "<?php\nrequire {packaged};\n$config = array_merge($config, [\n\
         'baseurlpath' => {base},\n\
         'certdir' => {cert},\n\
         'loggingdir' => {logs},\n\
         'datadir' => {data},\n\
         'tempdir' => {tmp},\n\
         'metadatadir' => {metadata},\n\
         'secretsalt' => 'fedkit-interop-test-salt-4d1c2a9b',\n\
         'auth.adminpassword' => 'fedkit-interop-unused-7e3f',\n\
         'logging.handler' => 'file',\n\
         'logging.logfile' => 'simplesamlphp.log',\n\
         'logging.level' => SimpleSAML\\Logger::DEBUG,\n\
         'enable.saml20-idp' => true,\n\
         'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true],\n\
         'session.cookie.secure' => false,\n\
         'session.cookie.samesite' => null,\n\
         'admin.checkforupdates' => false,\n\
         ]);\n",
        packaged = php_string(SIMPLESAMLPHP_CONFIG),
        base = php_string(&format!("{idp_base}/")),
        cert = path("cert"),
        logs = php_string(&format!("{}/", logs.display())),
        data = path("data"),
        tmp = path("tmp"),
        metadata = path("metadata"),
    );
    std::fs::write(dir.join("config/config.php"), config).unwrap();
    std::fs::write(
        dir.join("config/authsources.php"),
        "<?php\n$config = [\n\
         'admin' => ['core:AdminPassword'],\n\
         'example-userpass' => [\n\
         'exampleauth:UserPass',\n\
         'jane:jane-password' => ['email' => 'jane.doe@example.com', 'givenName' => 'Jane', \
         'memberOf' => ['Engineering', 'SSO Admins']],\n\
         'john:john-password' => ['email' => 'john.smith@example.com', 'givenName' => 'John', \
         'memberOf' => ['Sales']],\n\
         ],\n];\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("metadata/saml20-idp-hosted.php"),
        "<?php\n$metadata['__DYNAMIC:1__'] = [\n\
         'host' => '__DEFAULT__',\n\
         'privatekey' => 'idp.key',\n\
         'certificate' => 'idp.crt',\n\
         'auth' => 'example-userpass',\n\
         'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',\n\
         ];\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("metadata/saml20-sp-remote.php"),
        format!(
            "<?php\n$metadata[{entity}] = [\n\
             'AssertionConsumerService' => {acs},\n\
             'SingleLogoutService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', \
             'Location' => {slo}]],\n\
             'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',\n\
             'simplesaml.nameidattribute' => 'email',\n\
             'sign.response' => true,\n\
             'sign.logout' => true,\n\
             ];\n",
            entity = php_string(&format!("{app_base}/saml/metadata")),
            acs = php_string(&format!("{app_base}/saml/acs")),
            slo = php_string(&format!("{app_base}/saml/slo")),
        ),
    )
    .unwrap();
    let child = Command::new("php")
        .args(["-S", &format!("127.0.0.1:{idp_port}"), "-t", SIMPLESAMLPHP_WWW])
        .env("SIMPLESAMLPHP_CONFIG_DIR", dir.join("config"))
        .stdin(Stdio::null())
        .stdout(log_file(SIMPLESAMLPHP_TEST, "php-server.stdout.log"))
        .stderr(log_file(SIMPLESAMLPHP_TEST, "php-server.log"))
        .spawn()
        .unwrap();
    Server(child)
}

/// SimpleSAMLphp's IdP metadata, once its server answers.
fn simplesamlphp_metadata(idp_port: u16) -> String {
    let url = format!("http://127.0.0.1:{idp_port}/saml2/idp/metadata.php");
    let started = Instant::now();
    loop {
        match agent().get(&url).call() {
            Ok(mut r) if r.status() == 200 => return r.body_mut().read_to_string().unwrap(),
            other => assert!(
                started.elapsed() < Duration::from_secs(30),
                "SimpleSAMLphp did not serve its metadata ({:?}); see {}",
                other.map(|r| r.status()),
                evidence_dir(SIMPLESAMLPHP_TEST).display()
            ),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// On SimpleSAMLphp's login form (`exampleauth:UserPass`), logs in.
fn log_in_at_simplesamlphp(browser: &Browser, idp_base: &str, user: &str, password: &str) {
    browser.wait_for_url(&format!("{idp_base}/module.php/core/loginuserpass.php"));
    let username = browser.find("input#username");
    browser.type_text(&username, user);
    let field = browser.find("input#password");
    browser.type_text(&field, password);
    let submit = browser.find("#submit_button");
    browser.click(&submit);
}

#[test]
fn simplesamlphp_idp_in_a_real_browser() {
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
    if let Some(why) = simplesamlphp_missing() {
        assert!(
            std::env::var_os("FEDKIT_REQUIRE_INTEROP").is_none_or(|v| v != "1"),
            "FEDKIT_REQUIRE_INTEROP=1 but SimpleSAMLphp cannot run: {why} (bash .ci/install-deps installs it)"
        );
        eprintln!("SKIPPED: SimpleSAMLphp cannot run: {why} (set FEDKIT_REQUIRE_INTEROP=1 to fail instead)");
        return;
    }
    let _serial = ONE_BROWSER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let scratch = std::env::temp_dir().join(format!("fedkit-browser-ssp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let _ = std::fs::remove_dir_all(evidence_dir(SIMPLESAMLPHP_TEST));

    let (idp_port, app_port) = (free_port(), free_port());
    let app_base = format!("http://localhost:{app_port}");
    let idp_base = format!("http://localhost:{idp_port}");
    let _idp = start_simplesamlphp(idp_port, &idp_base, &app_base, &scratch.join("simplesamlphp"));
    let metadata = simplesamlphp_metadata(idp_port);
    let idp_entity_id = format!("{idp_base}/saml2/idp/metadata.php");
    assert!(
        metadata.contains(&format!("entityID=\"{idp_entity_id}\"")),
        "{metadata}"
    );
    let metadata_file = scratch.join("simplesamlphp-idp.xml");
    std::fs::write(&metadata_file, metadata).unwrap();
    // SimpleSAMLphp over plain http lists http:// endpoints: the app's dangerous flag, as for
    // the local test IdP.
    let _app = start_app(SIMPLESAMLPHP_TEST, app_port, &metadata_file, &scratch.join("app"));

    let browser = Browser::launch(&driver, &chromium);
    {
        let _s = test_step(&browser, SIMPLESAMLPHP_TEST, "sp-initiated-login");
        let asked = "/app/reports?year=2026";
        browser.goto(&format!("{app_base}{asked}"));
        log_in_at_simplesamlphp(&browser, &idp_base, "jane", "jane-password");
        browser.wait_for_url(&format!("{app_base}{asked}"));
        assert_eq!(browser.text_of("#email"), "jane.doe@example.com");
        assert_eq!(browser.text_of("#name-id"), "jane.doe@example.com");
        assert_eq!(browser.text_of("#page"), asked);
        assert!(browser.text_of("#login-kind").contains("SP-initiated"));
        let attributes = browser.text_of("#attributes");
        assert!(attributes.contains("Engineering, SSO Admins"), "{attributes}");
        assert!(attributes.contains("Jane"), "{attributes}");
        browser.goto(&format!("{app_base}/profile"));
        let profile = browser.text_of("body");
        assert!(profile.contains(&idp_entity_id), "{profile}");
    }
    {
        let _s = test_step(&browser, SIMPLESAMLPHP_TEST, "single-logout");
        let logout = browser.find("form[action=\"/logout\"] button");
        browser.click(&logout);
        browser.wait_for_url(&format!("{app_base}/saml/slo"));
        let body = browser.text_of("body");
        assert!(body.contains("You are signed out"), "{body}");
        assert!(body.contains("The IdP confirmed the logout."), "{body}");
        // Signed out at the app, and at SimpleSAMLphp: its login form asks again.
        browser.goto(&format!("{app_base}/profile"));
        browser.wait_for_url(&format!("{idp_base}/module.php/core/loginuserpass.php"));
    }
    {
        let _s = test_step(&browser, SIMPLESAMLPHP_TEST, "idp-initiated-login");
        let sp_entity_id = format!("{app_base}/saml/metadata");
        browser.goto(&format!(
            "{idp_base}/saml2/idp/SSOService.php?spentityid={}",
            sp_entity_id.replace(':', "%3A").replace('/', "%2F")
        ));
        log_in_at_simplesamlphp(&browser, &idp_base, "john", "john-password");
        browser.wait_for(&format!("the app at {app_base}"), || {
            browser.url().starts_with(&app_base) && !browser.url().contains("/saml/acs")
        });
        assert_eq!(browser.text_of("#email"), "john.smith@example.com");
        assert!(browser.text_of("#login-kind").contains("IdP-initiated"));
        let logout = browser.find("form[action=\"/logout\"] button");
        browser.click(&logout);
        browser.wait_for_url(&format!("{app_base}/saml/slo"));
        let body = browser.text_of("body");
        assert!(body.contains("The IdP confirmed the logout."), "{body}");
    }

    drop(browser);
    let _ = std::fs::remove_dir_all(&scratch);
}
