//! `fedkit scim serve` end to end: the real binary on loopback, driven over HTTP/1.1 with the
//! traffic JumpCloud, Okta and Entra ID send (shared/seeds/001 and 003: Test Connection probes,
//! lookup by userName filter, create, PUT on edit, PATCH active=false, group create, membership
//! add/remove, rename, delete), hostile input, rate limiting, concurrent writers, restarts.
//!
//! The HTTP client is a minimal keep-alive HTTP/1.1 client over `std::net` (below), so the
//! tests see exactly the bytes on the wire: status, headers and body.
//!
//! Each behaviour test runs twice (see `per_backend!` at the end): `sqlite::<name>` on the
//! default SQLite file, `postgres::<name>` with `--database` on a throwaway PostgreSQL server
//! (`fedkit_postgres::testing::TestServer`, one database per test).
//!
//! The load test (`load_50_clients`) is ignored by default; run it in release mode:
//! `FEDKIT_LOAD_SECS=60 cargo test -p fedkit-cli --release --test scim_serve -- --ignored --nocapture load_50_clients`
//! (`FEDKIT_LOAD_DURABILITY=process` runs the server with `--durability process`,
//! `FEDKIT_LOAD_BACKEND=postgres` on PostgreSQL).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex, Weak};
use std::time::{Duration, Instant};

use fedkit_postgres::testing::TestServer;
use serde_json::{json, Value};

const TOKEN: &str = "scim_4f9d2c7e1b8a6d3f0e5c7a9b";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const BASE: &str = "/scim/v2";

// ---------------------------------------------------------------------------------------------
// The server under test.

struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `fedkit scim serve` on 127.0.0.1 (a free port) with `db`, the token in
    /// FEDKIT_SCIM_TOKEN, and `extra` arguments; returns once it answers HTTP.
    fn start(db: &Storage, extra: &[&str]) -> Server {
        Self::start_on("127.0.0.1:0", db, extra)
    }

    /// [`Server::start`] on `listen`.
    fn start_on(listen: &str, db: &Storage, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fedkit"))
            .args(["scim", "serve", "--listen", listen])
            .args(&db.args)
            .args(extra)
            .env("FEDKIT_SCIM_TOKEN", TOKEN)
            .env_remove("FEDKIT_SCIM_DATABASE_URL")
            .envs(db.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(addr);
                }
                lines.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {:?}", log.lock().unwrap());
            }
        };
        let server = Server { child, addr, log };
        // Ready means answering HTTP, not only bound.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(mut c) = Conn::open(server.addr) {
                if c.send("GET", "/scim/v2/ServiceProviderConfig", &[], b"").is_ok() {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "the server does not answer");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn client(&self) -> Client {
        Client::new(self.addr, Some(&format!("Bearer {TOKEN}")))
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Ctrl-C (SIGINT), then waits for the exit status.
    fn stop(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which store the server under test keeps its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    /// `--db FILE` (the default store).
    Sqlite,
    /// `--database postgres://...`.
    Postgres,
}

/// Where one test's server keeps its data: a SQLite file in a temporary directory, or a
/// fresh database on the PostgreSQL server of this test binary. Kept alive as long as the
/// value.
struct Storage {
    /// `--db FILE` or `--database URL`.
    args: Vec<OsString>,
    /// Environment variables for the server.
    env: Vec<(&'static str, String)>,
    /// The SQLite file.
    file: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    _server: Option<Arc<TestServer>>,
}

/// One PostgreSQL server for the tests that run at the same time (it stops when the last of
/// them ends).
fn postgres_server() -> Arc<TestServer> {
    static SERVER: Mutex<Weak<TestServer>> = Mutex::new(Weak::new());
    let mut slot = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let s =
        Arc::new(TestServer::start().expect("PostgreSQL test server (see fedkit-postgres's testing module)"));
    *slot = Arc::downgrade(&s);
    s
}

fn temp_db(backend: Backend) -> Storage {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("scim.sqlite3");
            Storage {
                args: vec!["--db".into(), db.clone().into()],
                env: vec![],
                file: Some(db),
                _dir: Some(dir),
                _server: None,
            }
        }
        Backend::Postgres => {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let server = postgres_server();
            let name = format!("scim_serve_{}", NEXT.fetch_add(1, Ordering::Relaxed));
            let url = server.create_database(&name).unwrap();
            Storage {
                args: vec!["--database".into(), url.into()],
                env: vec![],
                file: None,
                _dir: None,
                _server: Some(server),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client: one keep-alive connection, Content-Length or chunked responses.

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts a SCIM Error document with this status (and scimType, when given).
    fn assert_error(&self, status: u16, scim_type: Option<&str>) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("Content-Type"), Some("application/scim+json"));
        let doc = self.json();
        assert_eq!(doc["schemas"], json!([ERROR]), "{doc}");
        assert_eq!(doc["status"], status.to_string(), "{doc}");
        assert_eq!(doc["scimType"].as_str(), scim_type, "{doc}");
        assert!(doc["detail"].as_str().is_some_and(|d| !d.is_empty()), "{doc}");
        doc
    }

    fn text(&self) -> String {
        format!("{} {}", self.status, String::from_utf8_lossy(&self.body))
    }
}

struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            stream: BufReader::new(stream),
        })
    }

    fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Reply> {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        // Written from another thread: a server refusing a large body answers before it has
        // read it, and the answer must still be read.
        let mut writer = self.stream.get_ref().try_clone()?;
        let handle = std::thread::spawn(move || writer.write_all(&message));
        let reply = self.read_reply(method);
        let _ = handle.join();
        reply
    }

    fn read_reply(&mut self, method: &str) -> std::io::Result<Reply> {
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line)?;
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(':').unwrap_or((line, ""));
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _): &&(String, String)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if method == "HEAD" || status == 204 || status == 304 {
        } else if get("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                self.stream.read_line(&mut size)?;
                let size = usize::from_str_radix(size.trim(), 16).map_err(std::io::Error::other)?;
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk)?;
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else if let Some(len) = get("Content-Length") {
            let len: usize = len.parse().map_err(std::io::Error::other)?;
            body.resize(len, 0);
            self.stream.read_exact(&mut body)?;
        } else {
            self.stream.read_to_end(&mut body)?;
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// A SCIM client: the base path, the Authorization header, one connection reused.
struct Client {
    addr: SocketAddr,
    authorization: Option<String>,
    conn: Option<Conn>,
}

impl Client {
    fn new(addr: SocketAddr, authorization: Option<&str>) -> Client {
        Client {
            addr,
            authorization: authorization.map(str::to_owned),
            conn: None,
        }
    }

    fn call(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        // Defaults a test's own `Accept` / `Content-Type` replaces.
        let given = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
        let mut all: Vec<(&str, &str)> = Vec::new();
        if !given("Accept") {
            all.push(("Accept", "application/scim+json"));
        }
        if let Some(a) = &self.authorization {
            all.push(("Authorization", a));
        }
        if !body.is_empty() && !given("Content-Type") {
            all.push(("Content-Type", "application/scim+json; charset=utf-8"));
        }
        all.extend_from_slice(headers);
        let target = format!("{BASE}{path}");
        // A kept-alive connection the server closed meanwhile is retried once on a new one.
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Some(Conn::open(self.addr).unwrap());
            }
            let conn = self.conn.as_mut().unwrap();
            match conn.send(method, &target, &all, body) {
                Ok(r) => {
                    if r.header("Connection")
                        .is_some_and(|c| c.eq_ignore_ascii_case("close"))
                    {
                        self.conn = None;
                    }
                    return r;
                }
                Err(e) if attempt == 0 => {
                    let _ = e;
                    self.conn = None;
                }
                Err(e) => panic!("{method} {target}: {e}"),
            }
        }
        unreachable!()
    }

    fn get(&mut self, path: &str) -> Reply {
        self.call("GET", path, &[], b"")
    }

    fn post(&mut self, path: &str, body: &Value) -> Reply {
        self.call("POST", path, &[], body.to_string().as_bytes())
    }

    fn put(&mut self, path: &str, body: &Value) -> Reply {
        self.call("PUT", path, &[], body.to_string().as_bytes())
    }

    fn patch(&mut self, path: &str, operations: Value) -> Reply {
        let body = json!({"schemas": [PATCH_OP], "Operations": operations});
        self.call("PATCH", path, &[], body.to_string().as_bytes())
    }

    fn delete(&mut self, path: &str) -> Reply {
        self.call("DELETE", path, &[], b"")
    }

    /// Creates a user the way JumpCloud does (attribute mapping of shared/seeds/003) and
    /// returns its id.
    fn create_user(&mut self, email: &str, given: &str, family: &str) -> String {
        let r = self.post("/Users", &jumpcloud_user(email, given, family));
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    }

    fn create_group(&mut self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self.post(
            "/Groups",
            &json!({"schemas": [GROUP], "displayName": name, "members": members}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["id"].as_str().unwrap().to_owned()
    }
}

/// `?filter=…` percent-encoded the way JumpCloud and Okta send it.
fn filter_query(filter: &str) -> String {
    format!("filter={}", fedkit_saml::bindings::percent_encode(filter))
}

/// The user JumpCloud POSTs with the attribute mapping of the CRA Evidence guide:
/// email → userName and emails[type eq "work"].value, firstname → name.givenName,
/// lastname → name.familyName, displayname → displayName.
fn jumpcloud_user(email: &str, given: &str, family: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "externalId": format!("jc-{}", email.len()),
        "name": {"givenName": given, "familyName": family},
        "displayName": format!("{given} {family}"),
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true
    })
}

fn without_meta_version(mut v: Value) -> Value {
    if let Some(meta) = v.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("version");
        meta.remove("lastModified");
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Authentication, base path, logging.

fn auth_is_required_and_jumpcloud_token_key_forms_are_accepted(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);

    // No Authorization header.
    let r = Client::new(server.addr, None).get("/ServiceProviderConfig");
    let doc = r.assert_error(401, None);
    assert!(r.header("WWW-Authenticate").unwrap().starts_with("Bearer"));
    assert!(doc["detail"].as_str().unwrap().contains("Token Key"), "{doc}");
    // A wrong token, a prefix of the right one, another scheme.
    for auth in [
        "Bearer scim_0000000000000000000000".to_owned(),
        format!("Bearer {}", &TOKEN[..TOKEN.len() - 1]),
        "Basic c2NpbTpzZWNyZXQ=".to_owned(),
        "Bearer".to_owned(),
    ] {
        let r = Client::new(server.addr, Some(&auth)).get("/Users");
        r.assert_error(401, None);
        assert!(
            r.header("WWW-Authenticate").unwrap().starts_with("Bearer"),
            "{auth}"
        );
        assert!(!r.text().contains(TOKEN), "the answer must not echo the token");
    }
    let r = Client::new(server.addr, Some("Bearer scim_0000000000000000000000")).get("/Users");
    assert!(r.header("WWW-Authenticate").unwrap().contains("invalid_token"));

    // What JumpCloud sends when the Token Key field holds "Bearer <token>" (CRA Evidence
    // guide), the plain form, and other spellings of the scheme.
    for auth in [
        format!("Bearer Bearer {TOKEN}"),
        format!("Bearer {TOKEN}"),
        format!("bearer {TOKEN}"),
        TOKEN.to_owned(),
    ] {
        let r = Client::new(server.addr, Some(&auth)).get("/ServiceProviderConfig");
        assert_eq!(r.status, 200, "{auth}: {}", r.text());
    }

    // Outside the base path: a SCIM 404 naming the Base URL, before authentication.
    let mut anon = Client::new(server.addr, None);
    let mut conn = Conn::open(server.addr).unwrap();
    let r = conn.send("GET", "/scim/v1/Users", &[], b"").unwrap();
    let doc = r.assert_error(404, None);
    assert!(doc["detail"].as_str().unwrap().contains("/scim/v2"), "{doc}");
    let r = conn
        .send(
            "GET",
            "/scim/v2x/Users",
            &[("Authorization", &format!("Bearer {TOKEN}"))],
            b"",
        )
        .unwrap();
    r.assert_error(404, None);
    // The base path itself is inside: authentication applies.
    anon.get("").assert_error(401, None);

    // One log line per request: method, path, status, duration, tenant; never the token.
    let body_marker = "log-probe-body@example.com";
    let mut c = server.client();
    c.post("/Users", &jumpcloud_user(body_marker, "Log", "Probe"));
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log();
    let requests: Vec<&String> = log.iter().filter(|l| l.contains(" /scim/")).collect();
    assert!(requests.len() >= 14, "{log:#?}");
    assert!(
        requests
            .iter()
            .any(|l| l.contains("GET /scim/v2/ServiceProviderConfig 401 ") && l.ends_with("tenant=-")),
        "{log:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l.contains("POST /scim/v2/Users 201 ") && l.contains("ms tenant=default")),
        "{log:#?}"
    );
    for line in &log {
        assert!(!line.contains(TOKEN), "token in the log: {line}");
        assert!(!line.contains(&TOKEN[5..]), "token in the log: {line}");
        assert!(!line.contains(body_marker), "body in the log: {line}");
    }
    // The banner tells the admin what to paste into JumpCloud.
    let banner = log.join("\n");
    assert!(
        banner.contains(&format!("Base URL:  http://{}/scim/v2", server.addr)),
        "{banner}"
    );
    assert!(banner.contains("Token Key"), "{banner}");
}

#[test]
fn refuses_to_start_with_a_weak_token_or_a_bad_base_path() {
    let db = temp_db(Backend::Sqlite);
    let run = |env_token: &str, extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fedkit"))
            .args(["scim", "serve", "--listen", "127.0.0.1:0"])
            .args(&db.args)
            .args(extra)
            .env("FEDKIT_SCIM_TOKEN", env_token)
            .output()
            .unwrap()
    };
    let out = run("short", &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid_token") && stderr.contains("at least 16"),
        "{stderr}"
    );
    assert!(!stderr.contains("listening"), "{stderr}");

    let out = run(TOKEN, &["--base-path", "scim/v2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid_base_path"));

    let out = run(TOKEN, &["--rate-limit", "0/s"]);
    assert_eq!(out.status.code(), Some(2), "usage error");

    // The address is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_fedkit"))
        .args(["scim", "serve", "--listen", &addr])
        .args(&db.args)
        .env("FEDKIT_SCIM_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bind_failed"));
}

fn stops_gracefully_on_ctrl_c(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    // A kept-alive connection between two requests does not hold the shutdown up.
    let mut idle = server.client();
    assert_eq!(idle.get("/ServiceProviderConfig").status, 200);
    let log = Arc::clone(&server.log);
    let started = Instant::now();
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    std::thread::sleep(Duration::from_millis(100));
    let log = log.lock().unwrap().join("\n");
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    drop(idle);
}

// ---------------------------------------------------------------------------------------------
// JumpCloud (shared/seeds/001 TrueFoundry, 003 CRA Evidence).

fn jumpcloud_test_connection_and_group_sync(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    let mut c = Client::new(server.addr, Some(&format!("Bearer Bearer {TOKEN}")));
    let base_url = format!("http://{}/scim/v2", server.addr);

    // Test Connection: the discovery probes...
    let spc = c.get("/ServiceProviderConfig");
    assert_eq!(spc.status, 200, "{}", spc.text());
    assert_eq!(spc.header("Content-Type"), Some("application/scim+json"));
    let spc = spc.json();
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["etag"]["supported"], true);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    let rt = c.get("/ResourceTypes");
    assert_eq!(rt.status, 200);
    assert_eq!(rt.json()["totalResults"], 2);
    let schemas = c.get("/Schemas");
    assert_eq!(schemas.status, 200);
    let schemas = schemas.json();
    let ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&USER) && ids.contains(&GROUP) && ids.contains(&ENTERPRISE),
        "{ids:?}"
    );
    // ...and the lookup of the Test User Email, which does not exist here yet.
    let probe = c.get(&format!(
        "/Users?{}&startIndex=1&count=1",
        filter_query(r#"userName eq "test.user@example.com""#)
    ));
    assert_eq!(probe.status, 200, "{}", probe.text());
    let probe = probe.json();
    assert_eq!(probe["totalResults"], 0);
    assert_eq!(
        probe["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );

    // A user of a bound group is created.
    let created = c.post("/Users", &jumpcloud_user("jane.doe@example.com", "Jane", "Doe"));
    assert_eq!(created.status, 201, "{}", created.text());
    let user = created.json();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.header("Location"),
        Some(format!("{base_url}/Users/{id}").as_str())
    );
    assert!(created.header("ETag").unwrap().starts_with("W/\""));
    assert_eq!(user["meta"]["location"], format!("{base_url}/Users/{id}"));
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(user["emails"][0]["value"], "jane.doe@example.com");
    // JumpCloud looks users up by userName before creating them (case-insensitive).
    let found = c.get(&format!(
        "/Users?{}&startIndex=1&count=1",
        filter_query(r#"userName eq "Jane.Doe@Example.com""#)
    ));
    assert_eq!(found.json()["totalResults"], 1);
    assert_eq!(found.json()["Resources"][0]["id"], id.as_str());
    // A second create of the same user: 409 uniqueness (CRA Evidence "User Already Exists").
    c.post("/Users", &jumpcloud_user("JANE.DOE@example.com", "Jane", "Doe"))
        .assert_error(409, Some("uniqueness"));

    // Editing first name / last name / email in JumpCloud: a PUT of the whole user.
    let mut edited = jumpcloud_user("jane.doe@example.com", "Janet", "Doe-Smith");
    edited["id"] = json!(id);
    let put = c.put(&format!("/Users/{id}"), &edited);
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(put.json()["name"]["familyName"], "Doe-Smith");
    assert_eq!(put.json()["displayName"], "Janet Doe-Smith");

    // The group bound to the application, with the user; User.groups follows.
    let gid = c.create_group("truefoundry-users", &[&id]);
    let group = c.get(&format!("/Groups/{gid}")).json();
    assert_eq!(group["members"][0]["value"], id.as_str());
    let u = c.get(&format!("/Users/{id}")).json();
    assert_eq!(u["groups"][0]["value"], gid.as_str());
    assert_eq!(u["groups"][0]["display"], "truefoundry-users");

    // Membership: remove, then add back (PATCH on the group).
    let rm = c.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]),
    );
    assert_eq!(rm.status, 200, "{}", rm.text());
    assert!(c.get(&format!("/Users/{id}")).json().get("groups").is_none());
    let add = c.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": id}]}]),
    );
    assert_eq!(add.status, 200, "{}", add.text());
    assert_eq!(
        c.get(&format!("/Users/{id}")).json()["groups"][0]["value"],
        gid.as_str()
    );

    // Group rename: the team is renamed, the user's groups show the new name.
    let rename = c.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "replace", "path": "displayName", "value": "truefoundry-engineers"}]),
    );
    assert_eq!(rename.status, 200, "{}", rename.text());
    assert_eq!(rename.json()["displayName"], "truefoundry-engineers");
    assert_eq!(
        c.get(&format!("/Users/{id}")).json()["groups"][0]["display"],
        "truefoundry-engineers"
    );

    // Removed from every bound group: PATCH active=false deactivates, the user stays.
    let off = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    );
    assert_eq!(off.status, 200, "{}", off.text());
    assert_eq!(off.json()["active"], false);
    let still = c.get(&format!("/Users/{id}"));
    assert_eq!(still.status, 200);
    assert_eq!(still.json()["active"], false);
    assert_eq!(still.json()["name"]["givenName"], "Janet");

    // Delete: the user is gone, and gone from the group.
    assert_eq!(c.delete(&format!("/Users/{id}")).status, 204);
    c.get(&format!("/Users/{id}")).assert_error(404, None);
    let group = c.get(&format!("/Groups/{gid}")).json();
    assert!(group.get("members").is_none_or(|m| m == &json!([])), "{group}");
    assert_eq!(c.delete(&format!("/Groups/{gid}")).status, 204);
    c.get(&format!("/Groups/{gid}")).assert_error(404, None);
}

// ---------------------------------------------------------------------------------------------
// Okta and Entra ID.

fn okta_paged_lookup_put_with_read_only_attributes_and_pathless_replace(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    let mut c = server.client();
    for i in 0..5 {
        c.create_user(&format!("okta{i}@example.com"), "Okta", &format!("User{i}"));
    }
    // Okta imports page by page and looks users up with startIndex/count.
    let page = c.get("/Users?startIndex=2&count=2");
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.json();
    assert_eq!(page["totalResults"], 5);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(page["itemsPerPage"], 2);
    assert_eq!(page["Resources"].as_array().unwrap().len(), 2);
    let lookup = c.get(&format!(
        "/Users?{}&startIndex=1&count=100",
        filter_query(r#"userName eq "okta3@example.com""#)
    ));
    assert_eq!(lookup.json()["totalResults"], 1);
    let id = lookup.json()["Resources"][0]["id"].as_str().unwrap().to_owned();
    let gid = c.create_group("Okta Everyone", &[&id]);

    // Okta PUTs back what it read: id, meta and groups included (readOnly, ignored).
    let mut back = c.get(&format!("/Users/{id}")).json();
    back["name"]["givenName"] = json!("Renamed");
    back["groups"] = json!([{"value": "forged-group-id"}]);
    back["meta"]["created"] = json!("2001-01-01T00:00:00Z");
    let put = c.put(&format!("/Users/{id}"), &back);
    assert_eq!(put.status, 200, "{}", put.text());
    let put = put.json();
    assert_eq!(put["name"]["givenName"], "Renamed");
    assert_eq!(
        put["groups"],
        json!([{"value": gid, "$ref": format!("http://{}/scim/v2/Groups/{gid}", server.addr), "type": "direct", "display": "Okta Everyone"}])
    );
    assert_ne!(put["meta"]["created"], "2001-01-01T00:00:00Z");

    // Path-less replace (Okta deactivation and profile push).
    let r = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": false, "displayName": "Okta Three"}}]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    assert_eq!(r.json()["displayName"], "Okta Three");
    assert_eq!(c.get(&format!("/Users/{id}")).json()["active"], false);

    // Okta replaces a group's name and members with PUT.
    let other = c.create_user("okta-new@example.com", "New", "Member");
    let put = c.put(
        &format!("/Groups/{gid}"),
        &json!({"schemas": [GROUP], "id": gid, "displayName": "Okta Staff", "members": [{"value": other}]}),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    assert!(c.get(&format!("/Users/{id}")).json().get("groups").is_none());
    assert_eq!(
        c.get(&format!("/Users/{other}")).json()["groups"][0]["display"],
        "Okta Staff"
    );
}

fn entra_id_capitalised_ops_string_booleans_value_paths_and_enterprise_urns(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    let mut c = server.client();
    let id = c.create_user("adele.vance@contoso.com", "Adele", "Vance");
    let r = c.patch(
        &format!("/Users/{id}"),
        json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "adele.v@contoso.com"},
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Retail"},
            {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "mgr-42"},
            {"op": "Replace", "path": "name.givenName", "value": "Adèle"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let u = c.get(&format!("/Users/{id}")).json();
    assert_eq!(u["active"], false);
    assert_eq!(u["emails"][0]["value"], "adele.v@contoso.com");
    assert_eq!(u["emails"][0]["type"], "work");
    assert_eq!(u[ENTERPRISE]["department"], "Retail");
    assert_eq!(u[ENTERPRISE]["manager"]["value"], "mgr-42");
    assert_eq!(u["name"]["givenName"], "Adèle");
    assert!(
        u["schemas"].as_array().unwrap().contains(&json!(ENTERPRISE)),
        "{u}"
    );
    // String "True" reactivates.
    let r = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    );
    assert_eq!(r.json()["active"], true);

    // Entra checks groups by displayName without members, then removes with a value array.
    let gid = c.create_group("Sales", &[&id]);
    let list = c.get(&format!(
        "/Groups?{}&excludedAttributes=members",
        filter_query(r#"displayName eq "Sales""#)
    ));
    assert_eq!(list.status, 200, "{}", list.text());
    let list = list.json();
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["id"], gid.as_str());
    assert!(list["Resources"][0].get("members").is_none(), "{list}");
    let one = c.get(&format!("/Groups/{gid}?excludedAttributes=members")).json();
    assert!(
        one.get("members").is_none() && one["displayName"] == "Sales",
        "{one}"
    );
    let rm = c.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]),
    );
    assert_eq!(rm.status, 200, "{}", rm.text());
    assert!(c.get(&format!("/Users/{id}")).json().get("groups").is_none());
    // Entra's Add with the member list, on a user that exists.
    let add = c.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
    );
    assert_eq!(add.status, 200, "{}", add.text());
    assert_eq!(
        c.get(&format!("/Users/{id}")).json()["groups"][0]["display"],
        "Sales"
    );
}

// ---------------------------------------------------------------------------------------------
// Profiles: IdP-compatible by default, --strict, and the flags that override one choice.

const ADSCIM_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// Entra ID's documented Create Group body and its value-filter PATCHes, under each profile.
fn serve_profiles_idp_compatible_by_default_strict_on_request(backend: Backend) {
    let entra_group = json!({
        "schemas": [GROUP, ADSCIM_GROUP],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    });
    let work_address = json!([{"op": "replace", "path": "addresses[type eq \"work\"].formatted", "value": "1 Microsoft Way"}]);
    let mobile =
        json!([{"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 425 555 0100"}]);
    // (flags, Create Group status, unmatched replace status)
    for (flags, group, replace) in [
        (&[][..], 201, 200),
        (&["--strict"][..], 400, 400),
        (
            &[
                "--strict",
                "--undefined-schemas",
                "ignore",
                "--unmatched-filter",
                "create",
            ][..],
            201,
            200,
        ),
        (
            &["--undefined-schemas", "reject", "--unmatched-filter", "no-target"][..],
            400,
            400,
        ),
    ] {
        let db = temp_db(backend);
        let server = Server::start(&db, flags);
        let mut c = server.client();
        let r = c.post("/Groups", &entra_group);
        assert_eq!(r.status, group, "{flags:?}: {}", r.text());
        if group == 201 {
            assert_eq!(r.json()["schemas"], json!([GROUP]));
            // The log line is written by the server and read by a thread: wait for it.
            let logged = || {
                server
                    .log()
                    .iter()
                    .any(|l| l.contains("ignored schemas entries") && l.contains(ADSCIM_GROUP))
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while !logged() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(logged(), "{flags:?}: {:?}", server.log());
        } else {
            assert_eq!(r.json()["scimType"], "invalidValue");
            assert!(r.text().contains(ADSCIM_GROUP));
        }
        let id = c.create_user("adele.vance@contoso.com", "Adele", "Vance");
        let r = c.patch(&format!("/Users/{id}"), work_address.clone());
        assert_eq!(r.status, replace, "{flags:?}: {}", r.text());
        if replace == 400 {
            assert_eq!(r.json()["scimType"], "noTarget");
        } else {
            assert_eq!(
                r.json()["addresses"],
                json!([{"type": "work", "formatted": "1 Microsoft Way"}])
            );
        }
        // An add always creates (RFC 7644 §3.5.2.1), in every profile. --strict wants
        // lowercase op names.
        let mut add = mobile.clone();
        add[0]["op"] = json!("add");
        let r = c.patch(&format!("/Users/{id}"), add);
        assert_eq!(r.status, 200, "{flags:?}: {}", r.text());
        assert_eq!(
            r.json()["phoneNumbers"],
            json!([{"type": "mobile", "value": "+1 425 555 0100"}])
        );
    }
}

/// --max-inline-members: a group over the cap comes without members, asking for them is
/// tooMany, and its members page through /Users.
fn serve_caps_members_returned_inline(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &["--max-inline-members", "2"]);
    let mut c = server.client();
    let ids: Vec<String> = (0..3)
        .map(|i| c.create_user(&format!("m{i}@example.com"), "M", &format!("{i}")))
        .collect();
    let small = c.create_group("Small", &[&ids[0], &ids[1]]);
    let big = c.create_group("Big", &[&ids[0], &ids[1], &ids[2]]);
    let r = c.get(&format!("/Groups/{small}"));
    assert_eq!(
        r.json()["members"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text()
    );
    let r = c.get(&format!("/Groups/{big}"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json().get("members").is_none(), "{}", r.text());
    let r = c.get(&format!("/Groups/{big}?attributes=members"));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["scimType"], "tooMany");
    let r = c.get(&format!(
        "/Users?filter=groups.value%20eq%20%22{big}%22&startIndex=1&count=2"
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["totalResults"], 3, "{}", r.text());
    assert_eq!(r.json()["Resources"].as_array().map(Vec::len), Some(2));
}

/// Hygiene statuses over the wire: 415, 406, duplicate members, control characters.
fn serve_refuses_wrong_media_types_duplicates_and_control_characters(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    let mut c = server.client();
    let body = json!({"schemas": [USER], "userName": "ct@example.com"}).to_string();
    let r = c.call(
        "POST",
        "/Users",
        &[("Content-Type", "text/plain")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 415, "{}", r.text());
    assert_eq!(r.json()["schemas"][0], ERROR);
    let r = c.call("GET", "/Users", &[("Accept", "text/html")], b"");
    assert_eq!(r.status, 406, "{}", r.text());
    assert_eq!(r.json()["schemas"][0], ERROR);
    let r = c.call(
        "POST",
        "/Users",
        &[],
        format!(r#"{{"schemas": ["{USER}"], "userName": "a@example.com", "userName": "b@example.com"}}"#)
            .as_bytes(),
    );
    assert_eq!(
        (r.status, r.json()["scimType"].clone()),
        (400, json!("invalidSyntax")),
        "{}",
        r.text()
    );
    let r = c.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "nul\u{0}@example.com"}),
    );
    assert_eq!(
        (r.status, r.json()["scimType"].clone()),
        (400, json!("invalidValue")),
        "{}",
        r.text()
    );
    assert_eq!(c.get("/Users").json()["totalResults"], 0);

    // The Unicode rule, on this backend: NFC when read, then lowercase mapping.
    let r = c.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "Jose\u{301}@example.com"}),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["userName"], "Jos\u{e9}@example.com");
    let r = c.post(
        "/Users",
        &json!({"schemas": [USER], "userName": "JOS\u{c9}@EXAMPLE.COM"}),
    );
    assert_eq!(
        (r.status, r.json()["scimType"].clone()),
        (409, json!("uniqueness")),
        "{}",
        r.text()
    );
    let found = c.get(&format!(
        "/Users?{}",
        filter_query("userName eq \"jose\u{301}@example.com\"")
    ));
    assert_eq!(found.json()["totalResults"], 1, "{}", found.text());
}

// ---------------------------------------------------------------------------------------------
// Hostile input: precise errors, nothing half-applied.

fn hostile_input_gets_precise_errors_and_changes_nothing(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    let mut c = server.client();
    let id = c.create_user("keep.me@example.com", "Keep", "Me");
    let gid = c.create_group("Keepers", &[&id]);
    let user_before = c.get(&format!("/Users/{id}")).json();
    let group_before = c.get(&format!("/Groups/{gid}")).json();
    let etag = c.get(&format!("/Users/{id}")).header("ETag").unwrap().to_owned();
    let count_users = |c: &mut Client| c.get("/Users?count=0").json()["totalResults"].clone();
    assert_eq!(count_users(&mut c), 1);

    // Malformed JSON.
    let r = c.call("PATCH", &format!("/Users/{id}"), &[], b"{\"Operations\": [");
    r.assert_error(400, Some("invalidSyntax"));
    let r = c.call("POST", "/Users", &[], b"{\"userName\": \"x\",,}");
    r.assert_error(400, Some("invalidSyntax"));
    let r = c.call("PUT", &format!("/Users/{id}"), &[], b"\xff\xfe not utf-8");
    r.assert_error(400, Some("invalidSyntax"));

    // A PATCH whose second operation fails: the first is not applied.
    let r = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "displayName", "value": "Half Applied"},
               {"op": "replace", "path": "active", "value": "not-a-boolean"}]),
    );
    r.assert_error(400, Some("invalidValue"));
    // A member that does not exist, next to one that does.
    let r = c.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "replace", "path": "displayName", "value": "Renamed Anyway"},
               {"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]),
    );
    let doc = r.assert_error(400, Some("invalidValue"));
    assert!(doc["detail"].as_str().unwrap().contains("no-such-user"), "{doc}");

    // Bodies over the 1 MiB cap: announced with Content-Length, and streamed chunked.
    let mut huge = jumpcloud_user("huge@example.com", "Huge", "Body");
    huge["title"] = json!("x".repeat(2 * 1024 * 1024));
    let r = c.call("POST", "/Users", &[], huge.to_string().as_bytes());
    let doc = r.assert_error(413, None);
    assert!(doc["detail"].as_str().unwrap().contains("1048576"), "{doc}");
    let r = send_chunked(
        server.addr,
        &format!("{BASE}/Users"),
        &huge.to_string().into_bytes(),
    );
    r.assert_error(413, None);
    let mut c = server.client(); // the server may close a connection whose body it refused

    // Invalid filters.
    for filter in [
        r#"userName eq "unterminated"#,
        r#"userName xx "a""#,
        r#"(userName eq "a""#,
        r#"emails[type eq "work""#,
    ] {
        let r = c.get(&format!("/Users?{}", filter_query(filter)));
        r.assert_error(400, Some("invalidFilter"));
    }

    // Unknown ids.
    c.get("/Users/00000000-0000-0000-0000-000000000000")
        .assert_error(404, None);
    c.put(
        "/Users/no-such-id",
        &jumpcloud_user("ghost@example.com", "G", "H"),
    )
    .assert_error(404, None);
    c.patch(
        "/Groups/no-such-id",
        json!([{"op": "replace", "path": "displayName", "value": "x"}]),
    )
    .assert_error(404, None);
    c.delete("/Users/no-such-id").assert_error(404, None);

    // A stale If-Match: 412, nothing changes.
    let ok = c.call(
        "PATCH",
        &format!("/Users/{id}"),
        &[("If-Match", &etag)],
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "First"}]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let stale = c.call(
        "PATCH",
        &format!("/Users/{id}"),
        &[("If-Match", &etag)],
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "Second"}]})
            .to_string()
            .as_bytes(),
    );
    stale.assert_error(412, None);
    let r = c.call("DELETE", &format!("/Users/{id}"), &[("If-Match", &etag)], b"");
    r.assert_error(412, None);

    // Afterwards: the user has only the successful change, the group none, no extra user.
    let mut expected = user_before.clone();
    expected["title"] = json!("First");
    assert_eq!(
        without_meta_version(c.get(&format!("/Users/{id}")).json()),
        without_meta_version(expected)
    );
    assert_eq!(c.get(&format!("/Groups/{gid}")).json(), group_before);
    assert_eq!(count_users(&mut c), 1);
    // Bad client input never got a 5xx.
    assert!(
        !server.log().iter().any(|l| l.contains(" 50")),
        "{:#?}",
        server.log()
    );
}

/// POSTs `body` with Transfer-Encoding: chunked (no Content-Length to refuse early).
fn send_chunked(addr: SocketAddr, target: &str, body: &[u8]) -> Reply {
    let mut conn = Conn::open(addr).unwrap();
    let mut message = format!(
        "POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(64 * 1024) {
        message.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        message.extend_from_slice(chunk);
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(b"0\r\n\r\n");
    let mut writer = conn.stream.get_ref().try_clone().unwrap();
    let handle = std::thread::spawn(move || writer.write_all(&message));
    let reply = conn.read_reply("POST").unwrap();
    let _ = handle.join();
    reply
}

// ---------------------------------------------------------------------------------------------
// Restart persistence, rate limiting, concurrency.

fn data_survives_a_restart(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &[]);
    let mut c = server.client();
    let id = c.create_user("persist@example.com", "Per", "Sist");
    let gid = c.create_group("Persisted", &[&id]);
    let off = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    );
    assert_eq!(off.status, 200);
    let user = c.get(&format!("/Users/{id}"));
    let group = c.get(&format!("/Groups/{gid}"));
    drop(c);
    // Same address, so that Location, meta.location and $ref (and the ETags over them) match.
    let listen = server.addr.to_string();
    assert!(server.stop().success());

    let server = Server::start_on(&listen, &db, &[]);
    let mut c = server.client();
    let again = c.get(&format!("/Users/{id}"));
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), user.json());
    assert_eq!(again.header("ETag"), user.header("ETag"));
    let group_again = c.get(&format!("/Groups/{gid}"));
    assert_eq!(group_again.json(), group.json());
    assert_eq!(group_again.header("ETag"), group.header("ETag"));
    // A write conditioned on the ETag read before the restart still applies.
    let r = c.call(
        "PATCH",
        &format!("/Users/{id}"),
        &[("If-Match", user.header("ETag").unwrap())],
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": true}]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let found = c.get(&format!(
        "/Users?{}",
        filter_query(r#"userName eq "PERSIST@example.com""#)
    ));
    assert_eq!(found.json()["totalResults"], 1);
    // Uniqueness still holds after the restart.
    c.post("/Users", &jumpcloud_user("persist@example.com", "P", "S"))
        .assert_error(409, Some("uniqueness"));
    if let Some(file) = &db.file {
        assert!(file.exists());
    }
}

fn rate_limit_answers_429_with_retry_after(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &["--rate-limit", "5/s"]);
    let mut c = server.client();
    let started = Instant::now();
    let statuses: Vec<Reply> = (0..30).map(|_| c.get("/ServiceProviderConfig")).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let ok = statuses.iter().filter(|r| r.status == 200).count();
    let limited: Vec<&Reply> = statuses.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok + limited.len(), 30);
    // The burst of 5 passes; beyond it at most 5 per second of elapsed time.
    assert!(statuses[..5].iter().all(|r| r.status == 200));
    assert!(ok as f64 <= 5.0 + 5.0 * elapsed + 1.0, "{ok} in {elapsed} s");
    assert!(!limited.is_empty());
    for r in &limited {
        let doc = r.assert_error(429, None);
        assert!(doc["detail"].as_str().unwrap().contains("5/s"), "{doc}");
        let retry: u64 = r.header("Retry-After").unwrap().parse().unwrap();
        assert!((1..=2).contains(&retry), "{retry}");
    }
    // After waiting as told, requests pass again.
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(c.get("/ServiceProviderConfig").status, 200);
    // Refused authentication does not spend the token's budget, and is still a 401.
    let r = Client::new(server.addr, Some("Bearer scim_wrongwrongwrongwrong")).get("/Users");
    r.assert_error(401, None);
}

fn concurrent_writers_with_if_match_lose_no_update(backend: Backend) {
    let db = temp_db(backend);
    let server = Server::start(&db, &["--rate-limit", "off"]);
    let mut c = server.client();
    let id = c.create_user("contended@example.com", "Con", "Tended");
    let addr = server.addr;

    // Two writers each increment a counter kept in `title` 15 times: read the user and its
    // ETag, PATCH title = n + 1 with If-Match, and on 412 read again and retry. An update lost
    // between a read and a write would leave the counter below 30.
    let set = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "title", "value": "0"}]),
    );
    assert_eq!(set.status, 200, "{}", set.text());
    const INCREMENTS: usize = 15;
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let id = id.clone();
            std::thread::spawn(move || {
                let mut c = Client::new(addr, Some(&format!("Bearer {TOKEN}")));
                barrier.wait();
                let mut conflicts = 0;
                for _ in 0..INCREMENTS {
                    loop {
                        let read = c.get(&format!("/Users/{id}"));
                        let etag = read.header("ETag").unwrap().to_owned();
                        let n: u64 = read.json()["title"].as_str().unwrap().parse().unwrap();
                        let body = json!({"schemas": [PATCH_OP], "Operations":
                            [{"op": "replace", "path": "title", "value": (n + 1).to_string()}]})
                        .to_string();
                        let r = c.call(
                            "PATCH",
                            &format!("/Users/{id}"),
                            &[("If-Match", &etag)],
                            body.as_bytes(),
                        );
                        match r.status {
                            200 => break,
                            412 => {
                                r.assert_error(412, None);
                                conflicts += 1;
                            }
                            _ => panic!("{}", r.text()),
                        }
                        assert!(conflicts < 1000, "no progress");
                    }
                }
                conflicts
            })
        })
        .collect();
    let conflicts: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let user = c.get(&format!("/Users/{id}")).json();
    assert_eq!(
        user["title"],
        (2 * INCREMENTS).to_string(),
        "{conflicts} conflicts"
    );
    eprintln!("two writers: {conflicts} conflicts answered 412");

    // Without If-Match, concurrent membership additions to one group all survive.
    let gid = c.create_group("Contended", &[]);
    let members: Vec<String> = (0..8)
        .map(|i| c.create_user(&format!("member{i}@example.com"), "M", &i.to_string()))
        .collect();
    let barrier = Arc::new(Barrier::new(members.len()));
    let adders: Vec<_> = members
        .iter()
        .cloned()
        .map(|m| {
            let barrier = Arc::clone(&barrier);
            let gid = gid.clone();
            std::thread::spawn(move || {
                let mut c = Client::new(addr, Some(&format!("Bearer {TOKEN}")));
                barrier.wait();
                let r = c.patch(
                    &format!("/Groups/{gid}"),
                    json!([{"op": "add", "path": "members", "value": [{"value": m}]}]),
                );
                assert_eq!(r.status, 200, "{}", r.text());
            })
        })
        .collect();
    for a in adders {
        a.join().unwrap();
    }
    let group = c.get(&format!("/Groups/{gid}")).json();
    let mut got: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    got.sort_unstable();
    let mut want: Vec<&str> = members.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------------------------
// Load: 50 loopback clients, mixed GET-by-id / PATCH (ignored by default; see the top).
// Why ignored: it runs for 60 s, loads both cores, and its latency figures only mean
// something in a release build on a quiet machine, none of which CI's debug test run is.
// The behaviour it checks beyond speed (no errors, no lost update under concurrency) is
// covered on every run by `concurrent_writers_with_if_match_lose_no_update`. Its figures are
// in docs/performance.md ("`fedkit scim serve` under load").

#[test]
#[ignore = "load test: run explicitly in release mode (see the module docs)"]
fn load_50_clients() {
    const CLIENTS: usize = 50;
    const USERS: usize = 1000;
    let secs: u64 = std::env::var("FEDKIT_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let durability = std::env::var("FEDKIT_LOAD_DURABILITY").unwrap_or_else(|_| "full".into());
    let backend = match std::env::var("FEDKIT_LOAD_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let db = temp_db(backend);
    let mut args = vec!["--rate-limit", "off"];
    if backend == Backend::Sqlite {
        args.extend(["--durability", &durability]);
    }
    let server = Server::start(&db, &args);
    let mut c = server.client();
    let ids: Arc<Vec<String>> = Arc::new(
        (0..USERS)
            .map(|i| c.create_user(&format!("load{i}@example.com"), "Load", &i.to_string()))
            .collect(),
    );
    let addr = server.addr;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|w| {
            let ids = Arc::clone(&ids);
            std::thread::spawn(move || {
                let mut c = Client::new(addr, Some(&format!("Bearer {TOKEN}")));
                let mut get_latencies = Vec::new();
                let (mut patches, mut errors) = (0usize, Vec::new());
                let mut x = (w as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    // xorshift: which user, and 1 request in 5 is a PATCH.
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let id = &ids[(x % ids.len() as u64) as usize];
                    n += 1;
                    if n.is_multiple_of(5) {
                        let r = c.patch(
                            &format!("/Users/{id}"),
                            json!([{"op": "replace", "path": "title", "value": format!("w{w}-{n}")}]),
                        );
                        patches += 1;
                        if r.status != 200 {
                            errors.push(r.text());
                        }
                    } else {
                        let t = Instant::now();
                        let r = c.get(&format!("/Users/{id}"));
                        get_latencies.push(t.elapsed());
                        if r.status != 200 {
                            errors.push(r.text());
                        }
                    }
                }
                (get_latencies, patches, errors)
            })
        })
        .collect();
    let mut gets = Vec::new();
    let (mut patches, mut errors) = (0, Vec::new());
    for w in workers {
        let (g, p, e) = w.join().unwrap();
        gets.extend(g);
        patches += p;
        errors.extend(e);
    }
    let elapsed = started.elapsed().as_secs_f64();
    gets.sort_unstable();
    let pct = |p: f64| {
        let i = ((gets.len() as f64 * p).ceil() as usize).saturating_sub(1);
        gets.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let total = gets.len() + patches;
    println!(
        "load: {CLIENTS} clients, {backend:?}, durability {durability}, {elapsed:.1} s, {total} requests ({:.0}/s): {} GET-by-id (p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms), {patches} PATCH, {} errors",
        total as f64 / elapsed,
        gets.len(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
        errors.len(),
    );
    for e in errors.iter().take(10) {
        println!("  error: {e}");
    }
    assert!(errors.is_empty(), "{} errors", errors.len());
}

// ---------------------------------------------------------------------------------------------
// `--database`: what only the PostgreSQL backend has.

#[test]
fn database_option_conflicts_errors_and_environment() {
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fedkit"));
        cmd.args(["scim", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("FEDKIT_SCIM_TOKEN", TOKEN)
            .env_remove("FEDKIT_SCIM_DATABASE_URL");
        if let Some(url) = env {
            cmd.env("FEDKIT_SCIM_DATABASE_URL", url);
        }
        cmd.output().unwrap()
    };
    let url = "postgres://fedkit:s3cret-pw@127.0.0.1:1/fedkit";
    // One store or the other.
    for extra in [["--db", "x.sqlite3"], ["--durability", "process"]] {
        let mut args = vec!["--database", url];
        args.extend(extra);
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: usage error");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cret"));
    }
    // Nothing listens on port 1: refused at start, naming the server, never the password.
    for (args, env) in [(vec!["--database", url], None), (vec![], Some(url))] {
        let out = run(&args, env);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("invalid_database"), "{stderr}");
        assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "password printed: {stderr}");
        assert!(!stderr.contains("listening"), "{stderr}");
    }
    // A database off this machine without sslmode: refused before connecting, saying how to
    // protect the connection.
    let out = run(
        &["--database", "postgres://fedkit:s3cret-pw@db.example.com/fedkit"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid_database")
            && stderr.contains("has no sslmode")
            && stderr.contains("sslmode=verify-full&sslrootcert=")
            && !stderr.contains("s3cret"),
        "{stderr}"
    );
    let out = run(
        &["--database", "postgres://fedkit:s3cret-pw@127.0.0.1:99999999/x"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid_database") && !stderr.contains("s3cret"),
        "{stderr}"
    );
    // The help mentions the variable but never shows its value.
    let help = Command::new(env!("CARGO_BIN_EXE_fedkit"))
        .args(["scim", "serve", "--help"])
        .env("FEDKIT_SCIM_DATABASE_URL", url)
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("FEDKIT_SCIM_DATABASE_URL"), "{help}");
    assert!(!help.contains("s3cret"), "{help}");

    // The URL from the environment, with a password (the test server trusts loopback and
    // ignores it): the banner names the server, not the URL.
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = postgres_server();
    let plain = server.create_database("scim_serve_env").unwrap();
    let with_password = plain.replacen("postgres@", "postgres:s3cret-pw@", 1);
    assert_ne!(plain, with_password);
    let storage = Storage {
        args: vec![],
        env: vec![("FEDKIT_SCIM_DATABASE_URL", with_password)],
        file: None,
        _dir: None,
        _server: Some(Arc::clone(&server)),
    };
    let server = Server::start(&storage, &[]);
    let mut c = server.client();
    let id = c.create_user("env@example.com", "Env", "Var");
    assert_eq!(c.get(&format!("/Users/{id}")).status, 200);
    let log = server.log().join("\n");
    assert!(
        log.contains(&format!(
            "PostgreSQL at 127.0.0.1:{}",
            storage._server.as_ref().unwrap().port()
        )),
        "{log}"
    );
    assert!(!log.contains("s3cret"), "password printed: {log}");
    assert!(server.stop().success());
}

#[test]
fn database_restart_mid_run_gives_clear_errors_then_recovers() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    // Its own PostgreSQL server: this test stops it.
    let mut pg = TestServer::start().expect("PostgreSQL test server");
    let url = pg.create_database("restart").unwrap();
    // stop() is a crash and the test server does not wait for commits to reach the log
    // (synchronous_commit=off); this database's sessions wait, as on a production server.
    fedkit_postgres::Pool::connect(&url, fedkit_postgres::PoolSettings::default())
        .unwrap()
        .get()
        .unwrap()
        .batch_execute("ALTER DATABASE restart SET synchronous_commit = on")
        .unwrap();
    let storage = Storage {
        args: vec!["--database".into(), url.into()],
        env: vec![],
        file: None,
        _dir: None,
        _server: None,
    };
    let server = Server::start(&storage, &["--rate-limit", "off"]);
    let mut c = server.client();
    let id = c.create_user("before@example.com", "Be", "Fore");
    let before = c.get(&format!("/Users/{id}"));
    assert_eq!(before.status, 200);

    pg.stop().unwrap();
    let target = format!("127.0.0.1:{}", pg.port());
    let r = c.get(&format!("/Users/{id}"));
    // A server error naming the database (the IdP retries on its next sync).
    let doc = r.assert_error(500, None);
    assert!(doc["detail"].as_str().unwrap().contains(&target), "{doc}");
    let r = c.post("/Users", &jumpcloud_user("during@example.com", "Dur", "Ing"));
    r.assert_error(500, None);

    pg.start_again().unwrap();
    // The first request after the restart succeeds (dead pooled connections are replaced),
    // the data from before is intact, and the write refused during the outage left nothing.
    let again = c.get(&format!("/Users/{id}"));
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), before.json());
    let found = c.get(&format!(
        "/Users?{}",
        filter_query(r#"userName eq "during@example.com""#)
    ));
    assert_eq!(found.json()["totalResults"], 0, "{}", found.text());
    c.create_user("during@example.com", "Dur", "Ing");
    assert!(server.stop().success());
}

#[test]
fn two_servers_on_one_database_share_users_and_lose_no_update() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let db = temp_db(Backend::Postgres);
    // Behind a load balancer both answer under the same public URL (which meta.location and
    // the ETags are made from).
    let public = ["--rate-limit", "off", "--public-url", "http://scim.test/scim/v2"];
    let (a, b) = (Server::start(&db, &public), Server::start(&db, &public));
    let (mut ca, mut cb) = (a.client(), b.client());

    // Created through one node, seen, changed and found through the other.
    let id = ca.create_user("shared@example.com", "Sha", "Red");
    let on_b = cb.get(&format!("/Users/{id}"));
    assert_eq!(on_b.status, 200, "{}", on_b.text());
    assert_eq!(on_b.json(), ca.get(&format!("/Users/{id}")).json());
    let off = cb.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    );
    assert_eq!(off.status, 200, "{}", off.text());
    let on_a = ca.get(&format!("/Users/{id}"));
    assert_eq!(on_a.json()["active"], false);
    assert_eq!(on_a.header("ETag"), off.header("ETag"));
    cb.post("/Users", &jumpcloud_user("SHARED@example.com", "S", "R"))
        .assert_error(409, Some("uniqueness"));

    // The same If-Match PATCH sent to both nodes at once: exactly one applies, the other
    // gets 412.
    for round in 0..10 {
        let etag = ca.get(&format!("/Users/{id}")).header("ETag").unwrap().to_owned();
        let barrier = Arc::new(Barrier::new(2));
        let racers: Vec<_> = [a.addr, b.addr]
            .into_iter()
            .enumerate()
            .map(|(node, addr)| {
                let (barrier, etag, id) = (Arc::clone(&barrier), etag.clone(), id.clone());
                std::thread::spawn(move || {
                    let mut c = Client::new(addr, Some(&format!("Bearer {TOKEN}")));
                    let body = json!({"schemas": [PATCH_OP], "Operations":
                        [{"op": "replace", "path": "title", "value": format!("round {round} node {node}")}]})
                    .to_string();
                    barrier.wait();
                    c.call(
                        "PATCH",
                        &format!("/Users/{id}"),
                        &[("If-Match", &etag)],
                        body.as_bytes(),
                    )
                })
            })
            .collect();
        let replies: Vec<Reply> = racers.into_iter().map(|r| r.join().unwrap()).collect();
        let mut statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: {replies:?}");
        let winner = replies.iter().find(|r| r.status == 200).unwrap();
        assert_eq!(
            ca.get(&format!("/Users/{id}")).json()["title"],
            winner.json()["title"]
        );
    }
}

/// Every behaviour test, once per backend.
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::Backend::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $name() {
                if fedkit_postgres::testing::skip_without_postgres() {
                    return;
                }
                super::$name(super::Backend::Postgres)
            })*
        }
    };
}

per_backend!(
    auth_is_required_and_jumpcloud_token_key_forms_are_accepted,
    stops_gracefully_on_ctrl_c,
    jumpcloud_test_connection_and_group_sync,
    okta_paged_lookup_put_with_read_only_attributes_and_pathless_replace,
    entra_id_capitalised_ops_string_booleans_value_paths_and_enterprise_urns,
    hostile_input_gets_precise_errors_and_changes_nothing,
    data_survives_a_restart,
    rate_limit_answers_429_with_retry_after,
    concurrent_writers_with_if_match_lose_no_update,
    serve_profiles_idp_compatible_by_default_strict_on_request,
    serve_refuses_wrong_media_types_duplicates_and_control_characters,
    serve_caps_members_returned_inline,
);

#[test]
fn postgres_over_verified_tls() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let pg = TestServer::start_with_tls().expect("PostgreSQL test server with TLS");
    let url = pg.create_database("scim_tls").unwrap();
    assert!(url.contains("sslmode=verify-full&sslrootcert="), "{url}");
    let storage = Storage {
        args: vec!["--database".into(), url.into()],
        env: vec![],
        file: None,
        _dir: None,
        _server: None,
    };
    let server = Server::start(&storage, &[]);
    let mut c = server.client();
    let id = c.create_user("tls@example.com", "Tee", "Ls");
    assert_eq!(c.get(&format!("/Users/{id}")).status, 200);
    let log = server.log().join("\n");
    assert!(
        log.contains(&format!(
            "PostgreSQL at localhost:{} over TLS (sslmode=verify-full)",
            pg.port()
        )),
        "{log}"
    );
    assert!(server.stop().success());
}
