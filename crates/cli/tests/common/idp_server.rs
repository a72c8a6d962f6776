//! The running `fedkit idp serve` for the integration tests that drive it over HTTP
//! (`#[path = "common/idp_server.rs"] mod idp_server;` in each): start it on a free loopback
//! port, plain HTTP calls, the SP's import of its metadata.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use chrono::Utc;
use fedkit_metadata::{IdpMetadata, ImportSettings, SignaturePolicy};
use fedkit_saml::{IdentityProvider, ResponseValidator, ServiceProvider, Settings};
use fedkit_xmldsig::crypto::AwsLcRs;
use serde_json::Value;

/// The SP the tests configure the IdP for.
pub(crate) const SP_ID: &str = "http://localhost:3000/saml/metadata";
pub(crate) const ACS: &str = "http://localhost:3000/saml/acs";
pub(crate) const SP_KEY: &str = include_str!("../../../saml/tests/data/keys/sp.key.pem");
pub(crate) const SP_CERT: &str = include_str!("../../../saml/tests/data/keys/sp.crt.pem");

pub(crate) fn sp() -> ServiceProvider {
    ServiceProvider::new(SP_ID, [ACS]).unwrap()
}

/// The SP's validator for the IdP `metadata` describes (IdP-initiated logins allowed or not).
pub(crate) fn validator(metadata: &IdpMetadata, idp_initiated: bool) -> ResponseValidator {
    let settings = Settings::default().with_idp_initiated(idp_initiated);
    ResponseValidator::with_settings(sp(), IdentityProvider::from_metadata(metadata), settings)
        .with_provider(&AwsLcRs)
}

/// A fresh temporary directory for one test.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fedkit-idp-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The running IdP; killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) started: Value,
    pub(crate) log_dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.log_dir);
    }
}

impl Server {
    /// Starts `fedkit --json idp serve --listen 127.0.0.1:0 ARGS` and waits for its start-up line.
    /// The server's stderr (banner, one line per login) goes to `stderr.log` in a fresh
    /// directory, shown when it fails to start.
    pub(crate) fn start(args: &[&str]) -> Self {
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log_dir = temp_dir(&format!("log-{n}"));
        let log = log_dir.join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_fedkit"))
            .args(["--json", "idp", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let started: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("no start-up line ({e}): {line:?}; stderr: {stderr}")
        });
        assert!(
            std::fs::read_to_string(&log)
                .unwrap()
                .contains("NEVER USE IT IN PRODUCTION"),
            "the banner warns"
        );
        Self {
            child,
            started,
            log_dir,
        }
    }

    pub(crate) fn url(&self, field: &str) -> String {
        self.started[field].as_str().unwrap().to_owned()
    }

    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.started["listen"].as_str().unwrap())
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

/// Status, `Location` header, body.
pub(crate) fn get(url: &str) -> (u16, Option<String>, String) {
    let mut response = agent().get(url).call().unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        location,
        response.body_mut().read_to_string().unwrap(),
    )
}

pub(crate) fn post(url: &str, fields: &[(String, String)]) -> (u16, String) {
    let mut response = agent()
        .post(url)
        .send_form(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap();
    (
        response.status().as_u16(),
        response.body_mut().read_to_string().unwrap(),
    )
}

/// The IdP as the SP imports it from `/metadata`.
pub(crate) fn import(server: &Server) -> IdpMetadata {
    let (status, _, xml) = get(&server.url("metadata_url"));
    assert_eq!(status, 200);
    let options = ImportSettings::new(SignaturePolicy::NotRequired).dangerous_allow_http_endpoints();
    IdpMetadata::from_xml(xml.as_bytes(), &options, Utc::now()).unwrap()
}
