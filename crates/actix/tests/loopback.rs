//! fedkit-actix over real sockets: an actix-web server on 127.0.0.1, the in-process test IdP
//! (`fedkit_cli::idp::TestIdp`) signing the Responses, and ureq as the browser and the SCIM
//! client (cookies handled by hand, redirects not followed, so every step is visible).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpResponseBuilder, HttpServer};
use chrono::Utc;
use fedkit_actix::{default_error_page, HostRefusal, LoggedOut, Scim, Sso, SsoError, SsoHost, NO_ACCESS};
use fedkit_cli::idp::{Fault, SignMode, TestIdp};
use fedkit_saml::crypto::default_provider;
use fedkit_saml::logout::{LogoutRequest, LogoutResponseBuilder, OutgoingLogout};
use fedkit_saml::setup::SsoSetup;
use fedkit_saml::{Login, RelayState, ServiceProvider, Settings, SigningKey};
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::MemoryStore;
use fedkit_scim_service::{ScimService, ScimSettings};
use serde_json::{json, Value};

const IDP_KEY: &str = include_str!("../../saml/tests/data/keys/idp.key.pem");
const IDP_CERT: &str = include_str!("../../saml/tests/data/keys/idp.crt.pem");
const SP_KEY: &str = include_str!("../../saml/tests/data/keys/sp.key.pem");
const SP_CERT: &str = include_str!("../../saml/tests/data/keys/sp.crt.pem");
const IDP_BASE: &str = "http://127.0.0.1:9";
const IDP_SLO: &str = "http://127.0.0.1:9/saml2/fedkit-test/slo";
const TOKEN: &str = "scim_7c1f0e9a2b4d6e8f0a1c";
const JANE: &str = "jane.doe@example.com";

/// The host: sessions in memory, a policy of its own (no one from example.net), and a record
/// of which worker threads drew an error page.
#[derive(Default)]
struct Host {
    sessions: Mutex<HashMap<String, LoggedOut>>,
    next: AtomicU64,
    refusing_threads: Mutex<HashSet<ThreadId>>,
}

impl SsoHost for Host {
    fn check(&self, login: &Login) -> Result<(), HostRefusal> {
        let user = &login.assertion().name_id().value;
        if user.ends_with("@example.net") {
            return Err(HostRefusal::new(
                "outside_domain",
                NO_ACCESS,
                format!("{user} is not of example.com"),
            ));
        }
        Ok(())
    }

    fn logged_in(&self, _request: &HttpRequest, login: Login, response: &mut HttpResponseBuilder) {
        let id = format!("s{}", self.next.fetch_add(1, Ordering::SeqCst));
        response
            .append_header(("Set-Cookie", format!("session={id}; Path=/; HttpOnly")))
            .append_header(("X-User", login.assertion().name_id().value.clone()));
        self.sessions.lock().unwrap().insert(id, LoggedOut::of(&login));
    }

    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut> {
        response.insert_header(("Set-Cookie", "session=; Path=/; Max-Age=0"));
        let id = request.cookie_value("session")?;
        self.sessions.lock().unwrap().remove(&id)
    }

    fn idp_logout(&self, request: &LogoutRequest) {
        self.sessions
            .lock()
            .unwrap()
            .retain(|_, s| s.name_id.value != request.name_id().value);
    }

    fn error_page(&self, _request: &HttpRequest, error: &SsoError) -> HttpResponse {
        self.refusing_threads
            .lock()
            .unwrap()
            .insert(std::thread::current().id());
        default_error_page(error)
    }
}

trait CookieValue {
    fn cookie_value(&self, name: &str) -> Option<String>;
}

impl CookieValue for HttpRequest {
    fn cookie_value(&self, name: &str) -> Option<String> {
        let header = self.headers().get("cookie")?.to_str().ok()?;
        header
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// A running app: its base URL, the test IdP, the host.
struct Running {
    base: String,
    idp: TestIdp,
    host: Arc<Host>,
    sso: Sso,
}

struct Options {
    workers: usize,
    directory: bool,
    max_scim_body: Option<usize>,
    users_json: Option<String>,
    sign: SignMode,
    sign_requests: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            workers: 1,
            directory: false,
            max_scim_body: None,
            users_json: None,
            sign: SignMode::Response,
            sign_requests: false,
        }
    }
}

fn start(options: Options) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let acs = format!("{base}/saml/acs");
    let sp_entity = format!("{base}/saml/metadata");
    let mut idp = TestIdp::new(IDP_BASE, &sp_entity, &[&acs], IDP_KEY, IDP_CERT)
        .unwrap()
        .with_sign(options.sign);
    if let Some(users) = &options.users_json {
        idp = idp.with_users_json(users.as_bytes()).unwrap();
    }

    let mut settings = ScimSettings::default();
    if let Some(max) = options.max_scim_body {
        settings = settings.with_max_body_bytes(max).unwrap().with_bulk(false);
    }
    let service =
        ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new())).with_config(settings);
    let tokens = TokenRegistry::new();
    let tenant = TenantId::new("acme").unwrap();
    tokens.add(&tenant, TOKEN).unwrap();
    let scim = Scim::new(Arc::new(service), Arc::new(tokens), &format!("{base}/scim/v2")).unwrap();

    let host = Arc::new(Host::default());
    let setup = SsoSetup::from_pasted(idp.entity_id(), &idp.sso_url(), &[IDP_CERT], &sp_entity, &acs)
        .unwrap()
        .with_settings(Settings::default().with_idp_initiated(true));
    let mut builder =
        Sso::builder(setup.into_flow()).with_single_logout(&format!("{base}/saml/slo"), IDP_SLO);
    if options.directory {
        builder = builder.with_directory(&scim, tenant);
    }
    if options.sign_requests {
        builder = builder.with_signing_key(SigningKey::from_pem(SP_KEY).unwrap(), SP_CERT);
    }
    let sso = builder.build(Arc::clone(&host)).unwrap();
    if options.sign_requests {
        // An IdP that requires signed requests, as the SP metadata says.
        idp = TestIdp::from_sp_metadata(IDP_BASE, sso.metadata_xml().as_bytes(), IDP_KEY, IDP_CERT).unwrap();
    }

    let (sso_for_server, scim_for_server) = (sso.clone(), scim.clone());
    let server = HttpServer::new(move || {
        App::new()
            .configure(sso_for_server.routes())
            .configure(scim_for_server.routes())
    })
    .workers(options.workers)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    Running { base, idp, host, sso }
}

/// A fresh client (a new connection for each request: no pooling), not following redirects.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn error_code(&self) -> Option<&str> {
        self.header("X-Fedkit-Error")
    }

    /// The `name=value` part of the `Set-Cookie` named `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.all("Set-Cookie")
            .into_iter()
            .filter_map(|c| c.split(';').next())
            .find(|pair| pair.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

fn get(url: &str, cookie: Option<&str>) -> Answer {
    let mut request = agent().get(url);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    answer(request.call().unwrap())
}

fn post_form(url: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Answer {
    let mut request = agent().post(url);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    answer(request.send_form(fields.iter().copied()).unwrap())
}

impl Running {
    /// `GET /saml/login?next=…`: the IdP redirect URL and the login cookie (`name=value`).
    fn start_login(&self, next: &str) -> (String, String) {
        let started = get(&format!("{}/saml/login?next={next}", self.base), None);
        assert_eq!(started.status, 303, "{}", started.body);
        let location = started.header("Location").unwrap().to_owned();
        assert!(location.starts_with(&self.idp.sso_url()), "{location}");
        assert!(location.contains("SAMLRequest="), "{location}");
        let cookie = started.cookie("fedkit_saml_login").unwrap();
        (location, cookie)
    }

    /// The IdP's signed Response (base64) for `user`, to the AuthnRequest URL or unsolicited.
    fn respond(&self, authn_request: Option<&str>, user: &str) -> String {
        self.idp
            .respond(authn_request, None, user, Fault::None, Utc::now())
            .unwrap()
            .saml_response
    }

    fn post_acs(&self, saml_response: &str, cookie: Option<&str>) -> Answer {
        post_form(
            &format!("{}/saml/acs", self.base),
            &[("SAMLResponse", saml_response)],
            cookie,
        )
    }

    fn scim(&self, method: &str, path: &str, body: Option<Value>, token: Option<&str>) -> Answer {
        let url = format!("{}/scim/v2{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = token {
            request = request.header("Authorization", format!("Bearer {t}"));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        if !body.is_empty() {
            request = request.header("Content-Type", "application/scim+json");
        }
        answer(agent().run(request.body(body).unwrap()).unwrap())
    }

    fn create_user(&self, user_name: &str, active: bool) -> String {
        let created = self.scim(
            "POST",
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name,
                "active": active,
            })),
            Some(TOKEN),
        );
        assert_eq!(created.status, 201, "{}", created.body);
        let body: Value = serde_json::from_str(&created.body).unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    fn sessions(&self) -> usize {
        self.host.sessions.lock().unwrap().len()
    }
}

#[test]
fn sp_initiated_login_comes_back_to_the_return_path_and_clears_the_login_cookie() {
    let app = start(Options::default());
    let (authn_request, cookie) = app.start_login("/dashboard?tab=2");
    let response = app.respond(Some(&authn_request), JANE);
    let done = app.post_acs(&response, Some(&cookie));
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("Location"), Some("/dashboard?tab=2"));
    assert_eq!(done.header("X-User"), Some(JANE));
    assert!(done.cookie("session").is_some());
    assert!(
        done.all("Set-Cookie")
            .iter()
            .any(|c| c.starts_with("fedkit_saml_login=;") && c.contains("Max-Age=0")),
        "{:?}",
        done.headers
    );
    assert_eq!(app.sessions(), 1);
}

#[test]
fn the_login_cookie_is_set_as_the_flow_formats_it() {
    let app = start(Options::default());
    let started = get(&format!("{}/saml/login", app.base), None);
    let set_cookie = started.all("Set-Cookie");
    assert_eq!(set_cookie.len(), 1, "{set_cookie:?}");
    let attributes: Vec<&str> = set_cookie[0].split("; ").skip(1).collect();
    assert_eq!(
        attributes,
        [
            "Max-Age=600",
            "Path=/saml/acs",
            "HttpOnly",
            "Secure",
            "SameSite=None"
        ]
    );
}

#[test]
fn a_return_path_off_this_site_is_refused_before_the_login_starts() {
    let app = start(Options::default());
    let long = format!("/{}", "a".repeat(2048));
    for next in [
        "https://evil.example/",
        "//evil.example/x",
        "javascript:alert(1)",
        &long,
    ] {
        let refused = get(
            &format!("{}/saml/login?next={}", app.base, next.replace('/', "%2F")),
            None,
        );
        assert_eq!(refused.status, 400, "{next}");
        assert_eq!(refused.error_code(), Some("return_path_not_local"), "{next}");
        assert!(refused.cookie("fedkit_saml_login").is_none());
    }
}

#[test]
fn idp_initiated_login_needs_no_cookie() {
    let app = start(Options::default());
    let done = app.post_acs(&app.respond(None, JANE), None);
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.header("Location"), Some("/"));
    assert_eq!(done.header("X-User"), Some(JANE));
}

#[test]
fn a_response_posted_from_another_browser_is_refused() {
    let app = start(Options::default());
    let (authn_request, _cookie) = app.start_login("/");
    let response = app.respond(Some(&authn_request), JANE);
    // No login cookie: the attacker's browser, or a lost cookie.
    let refused = app.post_acs(&response, None);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), Some("login_not_started_here"));
    assert!(
        refused.body.contains("login_not_started_here"),
        "{}",
        refused.body
    );
    // Another login's cookie: the attacker started a login of their own.
    let (_, other_cookie) = app.start_login("/");
    let refused = app.post_acs(&response, Some(&other_cookie));
    assert_eq!(refused.error_code(), Some("login_not_started_here"));
    assert_eq!(app.sessions(), 0);
}

#[test]
fn a_replayed_response_is_refused_as_a_replay() {
    let app = start(Options::default());
    let (authn_request, cookie) = app.start_login("/");
    let response = app.respond(Some(&authn_request), JANE);
    assert_eq!(app.post_acs(&response, Some(&cookie)).status, 303);
    let replayed = app.post_acs(&response, Some(&cookie));
    assert_eq!(replayed.status, 403);
    assert_eq!(replayed.error_code(), Some("replay"));
    assert_eq!(app.sessions(), 1);
}

/// With several workers, the state built once is shared: a login started on one worker
/// finishes on any, and a replay is refused whichever worker receives it.
#[test]
fn with_several_workers_logins_finish_anywhere_and_replays_are_refused_everywhere() {
    let app = start(Options {
        workers: 4,
        ..Options::default()
    });
    // Each request on a new connection, so the workers take turns.
    for _ in 0..8 {
        let (authn_request, cookie) = app.start_login("/");
        let done = app.post_acs(&app.respond(Some(&authn_request), JANE), Some(&cookie));
        assert_eq!(done.status, 303, "{}", done.body);
    }
    let unsolicited = app.respond(None, JANE);
    assert_eq!(app.post_acs(&unsolicited, None).status, 303);
    for attempt in 0..16 {
        let replayed = app.post_acs(&unsolicited, None);
        assert_eq!(replayed.error_code(), Some("replay"), "attempt {attempt}");
    }
    let threads = app.host.refusing_threads.lock().unwrap().len();
    assert!(threads >= 2, "the replays reached {threads} worker thread(s)");
    assert_eq!(app.sessions(), 9);
}

/// The wrong way: the state built inside `HttpServer::new`'s closure, once per worker. The
/// split stores are detected and every SAML route refuses, rather than let replays through.
#[test]
fn a_state_built_per_worker_is_refused_loudly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let (entity, acs) = (format!("{base}/saml/metadata"), format!("{base}/saml/acs"));
    let idp = TestIdp::new(IDP_BASE, &entity, &[&acs], IDP_KEY, IDP_CERT).unwrap();
    let setup = SsoSetup::from_pasted(idp.entity_id(), &idp.sso_url(), &[IDP_CERT], &entity, &acs)
        .unwrap()
        .with_settings(Settings::default().with_idp_initiated(true));
    let server = HttpServer::new(move || {
        let per_worker = Sso::builder(setup.flow().clone()).build(Host::default()).unwrap();
        App::new().configure(per_worker.routes())
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));

    for _ in 0..4 {
        let refused = get(&format!("{base}/saml/login"), None);
        assert_eq!(refused.status, 500);
        assert_eq!(refused.error_code(), Some("state_per_worker"));
        assert!(refused.cookie("fedkit_saml_login").is_none());
        let response = idp.respond(None, None, JANE, Fault::None, Utc::now()).unwrap();
        let posted = post_form(&acs, &[("SAMLResponse", &response.saml_response)], None);
        assert_eq!(posted.error_code(), Some("state_per_worker"));
    }
}

/// actix-web's default limits (16 KiB urlencoded form) would refuse this Response before
/// fedkit sees it; the ACS route's own limit lets it through.
#[test]
fn a_40_kib_doubly_signed_response_with_groups_reaches_fedkit() {
    // 100 groups (the test IdP's most) with long, directory-style names.
    let groups: Vec<String> = (0..100)
        .map(|i| {
            format!(
                "CN=Engineering Team {i:03},OU=Groups,OU=Engineering,DC=corp,DC=example,DC=com;{}",
                "x".repeat(170)
            )
        })
        .collect();
    let users = json!([{
        "email": JANE, "firstName": "Jane", "lastName": "Doe", "groups": groups,
    }]);
    let app = start(Options {
        users_json: Some(users.to_string()),
        sign: SignMode::Both,
        ..Options::default()
    });
    let (authn_request, cookie) = app.start_login("/big");
    let response = app.respond(Some(&authn_request), JANE);
    assert!(response.len() >= 40 * 1024, "{} bytes", response.len());
    assert!(app.sso.form_limit() > response.len() * 2);
    let done = app.post_acs(&response, Some(&cookie));
    assert_eq!(done.status, 303, "{:?} {}", done.error_code(), done.body);
    assert_eq!(done.header("Location"), Some("/big"));

    // The same form on a route with actix-web's default form limit never reaches the handler.
    let refused_by_default = actix_web::rt::System::new().block_on(async {
        use actix_web::{test, web};
        let app = test::init_service(App::new().route(
            "/acs",
            web::post().to(|_: web::Form<HashMap<String, String>>| async { HttpResponse::Ok().finish() }),
        ))
        .await;
        let request = test::TestRequest::post()
            .uri("/acs")
            .set_form([("SAMLResponse", response.as_str())])
            .to_request();
        test::call_service(&app, request).await.status().as_u16()
    });
    assert_eq!(refused_by_default, 413);
}

#[test]
fn a_form_over_the_limit_is_refused_with_its_code() {
    let app = start(Options::default());
    let huge = "A".repeat(app.sso.form_limit() + 1);
    let refused = app.post_acs(&huge, None);
    assert_eq!(refused.status, 413);
    assert_eq!(refused.error_code(), Some("form_too_large"));
    let missing = post_form(&format!("{}/saml/acs", app.base), &[("RelayState", "x")], None);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error_code(), Some("missing_field"));
}

#[test]
fn the_metadata_route_serves_the_sp_metadata() {
    let app = start(Options::default());
    let metadata = get(&format!("{}/saml/metadata", app.base), None);
    assert_eq!(metadata.status, 200);
    assert_eq!(
        metadata.header("Content-Type"),
        Some("application/samlmetadata+xml")
    );
    assert!(metadata
        .body
        .contains(&format!("entityID=\"{}/saml/metadata\"", app.base)));
    assert!(metadata
        .body
        .contains(&format!("Location=\"{}/saml/slo\"", app.base)));
}

/// The IdP's signing key, to sign the logout messages an IdP sends.
fn idp_key() -> SigningKey {
    SigningKey::from_pem(IDP_KEY).unwrap()
}

#[test]
fn idp_initiated_logout_ends_the_session_and_answers_the_idp() {
    let app = start(Options::default());
    let done = app.post_acs(&app.respond(None, JANE), None);
    assert_eq!(done.status, 303);
    assert_eq!(app.sessions(), 1);
    let who = app.host.sessions.lock().unwrap().values().next().unwrap().clone();

    // The IdP's LogoutRequest: issued by the IdP, to the SP's SLO URL, signed (Redirect).
    let idp_as_sender = ServiceProvider::new(app.idp.entity_id(), [IDP_SLO]).unwrap();
    let request = OutgoingLogout::request(
        &idp_as_sender,
        &format!("{}/saml/slo", app.base),
        &who.name_id,
        who.session_index.as_deref().unwrap(),
        [9; 20],
        Utc::now(),
    );
    let url = request
        .signed_redirect_url(
            Some(RelayState::new("idp state/1").unwrap()),
            &idp_key(),
            default_provider(),
        )
        .unwrap();
    let answered = get(&url, None);
    assert_eq!(
        answered.status,
        303,
        "{:?} {}",
        answered.error_code(),
        answered.body
    );
    let location = answered.header("Location").unwrap();
    assert!(
        location.starts_with(&format!("{IDP_SLO}?SAMLResponse=")),
        "{location}"
    );
    // The IdP's RelayState comes back as it sent it (encoded once).
    assert!(location.contains("RelayState=idp%20state%2F1"), "{location}");
    assert_eq!(app.sessions(), 0);

    // Over HTTP-POST (XML signature) too.
    app.post_acs(&app.respond(None, JANE), None);
    assert_eq!(app.sessions(), 1);
    // From the IdP, the session authority, a request may name no session: all of them end.
    let request = OutgoingLogout::dangerous_request_without_session_index(
        &idp_as_sender,
        &format!("{}/saml/slo", app.base),
        &who.name_id,
        [10; 20],
        Utc::now(),
    );
    let signed = request.signed_xml(&idp_key(), None, default_provider()).unwrap();
    let posted = post_form(
        &format!("{}/saml/slo", app.base),
        &[("SAMLRequest", &base64_encode(signed.as_bytes()))],
        None,
    );
    assert_eq!(posted.status, 303, "{:?} {}", posted.error_code(), posted.body);
    assert!(posted
        .header("Location")
        .unwrap()
        .starts_with(&format!("{IDP_SLO}?SAMLResponse=")));
    assert_eq!(app.sessions(), 0);

    // The same message unsigned is refused (anyone could log users out).
    let unsigned = get(&request.redirect_url(None), None);
    assert_eq!(unsigned.status, 403);
    assert_eq!(unsigned.error_code(), Some("unsigned"));
}

#[test]
fn logout_of_a_session_without_a_session_index_ends_only_the_local_session() {
    // Profiles §4.4.4.1: the SP's LogoutRequest must name the session; an assertion that
    // carried no SessionIndex leaves nothing to name, so no LogoutRequest goes to the IdP.
    let app = start(Options::default());
    let posted = app
        .idp
        .respond(None, None, JANE, Fault::NoSessionIndex, Utc::now())
        .unwrap();
    let done = app.post_acs(&posted.saml_response, None);
    assert_eq!(done.status, 303, "{:?} {}", done.error_code(), done.body);
    assert_eq!(app.sessions(), 1);
    let session = done.cookie("session").unwrap();
    let out = post_form(&format!("{}/saml/logout", app.base), &[], Some(&session));
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(app.sessions(), 0);
    let location = out.header("Location").unwrap();
    assert!(
        !location.contains("SAMLRequest"),
        "no LogoutRequest to the IdP: {location}"
    );
    assert!(!location.starts_with(IDP_SLO), "{location}");
}

#[test]
fn sp_initiated_logout_asks_the_idp_and_accepts_its_answer_once() {
    let app = start(Options::default());
    let done = app.post_acs(&app.respond(None, JANE), None);
    let session = done.cookie("session").unwrap();
    let out = post_form(&format!("{}/saml/logout", app.base), &[], Some(&session));
    assert_eq!(out.status, 303, "{}", out.body);
    assert_eq!(app.sessions(), 0);
    assert_eq!(out.cookie("session").as_deref(), Some("session="));
    let location = out.header("Location").unwrap();
    assert!(
        location.starts_with(&format!("{IDP_SLO}?SAMLRequest=")),
        "{location}"
    );
    let id = location
        .split("RelayState=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();

    let answer = LogoutResponseBuilder::new(app.idp.entity_id(), &format!("{}/saml/slo", app.base), id)
        .build([5; 20], Utc::now());
    let url = answer
        .signed_redirect_url(Some(RelayState::echo(id)), &idp_key(), default_provider())
        .unwrap();
    let back = get(&url, None);
    assert_eq!(back.status, 303, "{:?} {}", back.error_code(), back.body);
    assert_eq!(back.header("Location"), Some("/"));
    // The request is answered: the same answer again names no outstanding request.
    let again = get(&url, None);
    assert_eq!(again.status, 403);
    assert!(again.error_code().is_some());

    // Without a session, logging out only goes to the after-logout page.
    let nobody = post_form(&format!("{}/saml/logout", app.base), &[], None);
    assert_eq!(nobody.header("Location"), Some("/"));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn with_a_signing_key_requests_are_signed_and_an_idp_requiring_it_answers() {
    let app = start(Options {
        sign_requests: true,
        ..Options::default()
    });
    let metadata = get(&format!("{}/saml/metadata", app.base), None);
    assert!(
        metadata.body.contains("AuthnRequestsSigned=\"true\""),
        "{}",
        metadata.body
    );
    let (authn_request, cookie) = app.start_login("/signed");
    assert!(authn_request.contains("&Signature="), "{authn_request}");
    // The IdP checks the query signature against the SP metadata's certificate.
    let unsigned = authn_request.split("&SigAlg=").next().unwrap();
    let refused = app
        .idp
        .respond(Some(unsigned), None, JANE, Fault::None, Utc::now());
    assert_eq!(refused.unwrap_err().code(), "unsigned_request");
    let done = app.post_acs(&app.respond(Some(&authn_request), JANE), Some(&cookie));
    assert_eq!(done.status, 303, "{:?}", done.error_code());
    assert_eq!(done.header("Location"), Some("/signed"));
    let session = done.cookie("session").unwrap();
    let out = post_form(&format!("{}/saml/logout", app.base), &[], Some(&session));
    let location = out.header("Location").unwrap();
    assert!(
        location.starts_with(&format!("{IDP_SLO}?SAMLRequest=")),
        "{location}"
    );
    assert!(location.contains("&Signature="), "{location}");
}

#[test]
fn scim_create_get_patch_delete_with_a_token() {
    let app = start(Options::default());
    let id = app.create_user("bjensen@example.com", true);
    let got = app.scim("GET", &format!("/Users/{id}"), None, Some(TOKEN));
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.header("Content-Type"), Some("application/scim+json"));
    let user: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(user["userName"], "bjensen@example.com");
    assert_eq!(
        user["meta"]["location"],
        format!("{}/scim/v2/Users/{id}", app.base)
    );

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    });
    let patched = app.scim("PATCH", &format!("/Users/{id}"), Some(patch), Some(TOKEN));
    assert_eq!(patched.status, 200, "{}", patched.body);
    let user: Value = serde_json::from_str(&patched.body).unwrap();
    assert_eq!(user["active"], false);

    let filtered = app.scim(
        "GET",
        "/Users?filter=userName%20eq%20%22BJENSEN@example.com%22",
        None,
        Some(TOKEN),
    );
    let list: Value = serde_json::from_str(&filtered.body).unwrap();
    assert_eq!(list["totalResults"], 1);

    let deleted = app.scim("DELETE", &format!("/Users/{id}"), None, Some(TOKEN));
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let gone = app.scim("GET", &format!("/Users/{id}"), None, Some(TOKEN));
    assert_eq!(gone.status, 404);
    assert_eq!(gone.header("Content-Type"), Some("application/scim+json"));
}

#[test]
fn scim_without_a_token_is_401_with_a_bearer_challenge() {
    let app = start(Options::default());
    let refused = app.scim("GET", "/Users", None, None);
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("WWW-Authenticate"), Some(r#"Bearer realm="SCIM""#));
    let body: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
    let wrong = app.scim("GET", "/Users", None, Some("not-the-token"));
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.header("WWW-Authenticate"),
        Some(r#"Bearer realm="SCIM", error="invalid_token""#)
    );
}

#[test]
fn a_scim_body_over_the_cap_is_refused_before_the_handler() {
    let app = start(Options {
        max_scim_body: Some(2_000),
        ..Options::default()
    });
    let big = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "big@example.com",
        "displayName": "x".repeat(5_000),
    });
    let refused = app.scim("POST", "/Users", Some(big.clone()), Some(TOKEN));
    assert_eq!(refused.status, 413);
    assert_eq!(refused.header("Content-Type"), Some("application/scim+json"));
    assert!(
        refused.body.contains("ScimSettings::max_request_bytes"),
        "{}",
        refused.body
    );
    // Nothing was created.
    let list = app.scim("GET", "/Users", None, Some(TOKEN));
    assert_eq!(
        serde_json::from_str::<Value>(&list.body).unwrap()["totalResults"],
        0
    );

    // Chunked, without a Content-Length: refused while it is read.
    let body = big.to_string();
    let address = app.base.strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    for chunk in body.as_bytes().chunks(1_000) {
        let _ = stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes());
        let _ = stream.write_all(chunk);
        let _ = stream.write_all(b"\r\n");
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");

    // Under the cap: created.
    app.create_user("small@example.com", true);
}

#[test]
fn the_directory_check_refuses_users_scim_deactivated_or_never_provisioned() {
    let app = start(Options {
        directory: true,
        ..Options::default()
    });
    // Not provisioned.
    let refused = app.post_acs(&app.respond(None, JANE), None);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), Some("user_not_provisioned"));

    // Provisioned and active: in.
    let id = app.create_user(JANE, true);
    let done = app.post_acs(&app.respond(None, JANE), None);
    assert_eq!(done.status, 303, "{:?}", done.error_code());

    // Deactivated by the IdP through SCIM: refused at the next login.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}],
    });
    assert_eq!(
        app.scim("PATCH", &format!("/Users/{id}"), Some(patch), Some(TOKEN))
            .status,
        200
    );
    let (authn_request, cookie) = app.start_login("/");
    let refused = app.post_acs(&app.respond(Some(&authn_request), JANE), Some(&cookie));
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), Some("user_deactivated"));
    assert!(refused.body.contains("does not have access"), "{}", refused.body);
    assert_eq!(app.sessions(), 1);
}

#[test]
fn the_host_check_refuses_with_its_own_code() {
    let app = start(Options::default());
    let refused = app.post_acs(&app.respond(None, "eve.outsider@example.net"), None);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), Some("outside_domain"));
    assert!(!refused.body.contains("eve.outsider"), "{}", refused.body);
    assert_eq!(app.sessions(), 0);
}
