//! The example app (`examples/app.rs`) over real sockets on 127.0.0.1, driven by a real HTTP
//! client, against fedkit's test IdP in process (`fedkit_cli::idp::TestIdp`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../examples/app.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;

use std::sync::Arc;

use base64::Engine as _;
use chrono::Utc;
use fedkit_axum::{Connection, Directory, Scim};
use fedkit_cli::idp::{Fault, TestIdp};
use fedkit_saml::bindings::{inflate, percent_decode};
use fedkit_saml::fedkit_xmldsig::crypto::default_provider;
use fedkit_saml::fedkit_xmldsig::sign::sign_enveloped;
use fedkit_saml::flow::{LoginFlow, RequestBinding};
use fedkit_saml::logout::LogoutResponseBuilder;
use fedkit_saml::setup::SsoSetup;
use fedkit_saml::{Settings, SigningKey};
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::MemoryStore;
use fedkit_scim_service::{ScimService, ScimSettings};

const IDP_KEY: &str = include_str!("../../saml/tests/data/keys/idp.key.pem");
const IDP_CERT: &str = include_str!("../../saml/tests/data/keys/idp.crt.pem");
const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const TOKEN: &str = "scim_token_0123456789abcdef";
const IDP_BASE: &str = "http://127.0.0.1:8081";
const JANE: &str = "jane.doe@example.com";
const JOHN: &str = "john.smith@example.com";
/// The SCIM body cap of the test app.
const MAX_BODY: usize = 4096;

struct Running {
    base: String,
    idp: TestIdp,
}

impl Running {
    fn idp_slo(&self) -> String {
        format!("{}/slo", self.idp.sso_url())
    }
}

/// The example app on a fresh port, with Jane and John provisioned (John deactivated).
fn start() -> Running {
    start_with(|flow| flow)
}

/// [`start`] with the login flow adjusted.
fn start_with(adjust: impl FnOnce(LoginFlow) -> LoginFlow) -> Running {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let idp = TestIdp::new(
        IDP_BASE,
        &format!("{base}/saml/metadata"),
        &[&format!("{base}/saml/acs")],
        IDP_KEY,
        IDP_CERT,
    )
    .unwrap();
    let setup = SsoSetup::from_pasted(
        idp.entity_id(),
        &idp.sso_url(),
        &[IDP_CERT],
        &format!("{base}/saml/metadata"),
        &format!("{base}/saml/acs"),
    )
    .unwrap()
    .with_settings(Settings::default().with_idp_initiated(true));
    let running = Running { base, idp };
    let connection = Connection::new(adjust(setup.flow().clone()), setup.sp_metadata_xml())
        .with_single_logout(&format!("{}/saml/slo", running.base), Some(&running.idp_slo()));
    let settings = ScimSettings::default()
        .with_max_body_bytes(MAX_BODY)
        .unwrap()
        .with_bulk(false);
    let service = Arc::new(
        ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new())).with_config(settings),
    );
    let tenant = TenantId::new("default").unwrap();
    let tokens = TokenRegistry::new();
    tokens.add(&tenant, TOKEN).unwrap();
    let scim_routes = Scim::new(
        service.clone(),
        Arc::new(tokens),
        &format!("{}/scim/v2", running.base),
    );
    let router = example::app(connection, scim_routes, Directory::new(service, tenant));
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    for (user, active) in [(JANE, true), (JOHN, false)] {
        let body = format!(
            r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{user}","active":{active}}}"#
        );
        let (status, _) = scim(&running, "POST", "/Users", Some(TOKEN), &body);
        assert_eq!(status, 201);
    }
    running
}

#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    error: Option<String>,
    www_authenticate: Option<String>,
    body: String,
}

impl Answer {
    /// The value of the cookie `name` this answer sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_owned())
        })
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

fn answer(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let all = |name: &str| -> Vec<String> {
        response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let location = all("location").into_iter().next();
    let error = all("x-fedkit-error").into_iter().next();
    let www_authenticate = all("www-authenticate").into_iter().next();
    let set_cookies = all("set-cookie");
    Answer {
        status: response.status().as_u16(),
        location,
        set_cookies,
        error,
        www_authenticate,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn get(url: &str, cookie: Option<&str>) -> Answer {
    let mut request = agent().get(url);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    answer(request.call().unwrap())
}

fn post_form(url: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    let mut request = agent().post(url);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    answer(request.send_form(fields.iter().copied()).unwrap())
}

fn scim(app: &Running, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Answer) {
    let url = format!("{}/scim/v2{path}", app.base);
    let mut builder = ureq::http::Request::builder().method(method).uri(&url);
    if let Some(t) = token {
        builder = builder.header("Authorization", format!("Bearer {t}"));
    }
    let response = if body.is_empty() {
        agent().run(builder.body(()).unwrap())
    } else {
        let request = builder
            .header("Content-Type", "application/scim+json")
            .body(body.to_owned())
            .unwrap();
        agent().run(request)
    };
    let answer = answer(response.unwrap());
    (answer.status, answer)
}

/// `GET /saml/login?next=…`: the AuthnRequest URL and the login cookie (`name=value`).
fn start_login(app: &Running, next: &str) -> (String, String) {
    let started = get(&format!("{}/saml/login?next={next}", app.base), None);
    assert_eq!(started.status, 303, "{started:?}");
    let location = started.location.clone().unwrap();
    assert!(
        location.starts_with(&format!("{}?SAMLRequest=", app.idp.sso_url())),
        "{location}"
    );
    let cookie = started
        .set_cookies
        .iter()
        .find(|c| c.starts_with("fedkit_saml_login="))
        .unwrap();
    assert!(
        cookie.ends_with("; Path=/saml/acs; HttpOnly; Secure; SameSite=None"),
        "{cookie}"
    );
    (location, cookie.split(';').next().unwrap().to_owned())
}

/// The IdP's answer to `authn_request` (`None`: IdP-initiated) for `user`, as form fields.
fn respond(
    app: &Running,
    authn_request: Option<&str>,
    relay_state: Option<&str>,
    user: &str,
) -> Vec<(String, String)> {
    let posted = app
        .idp
        .respond(authn_request, relay_state, user, Fault::None, Utc::now())
        .unwrap();
    assert_eq!(posted.acs_url, format!("{}/saml/acs", app.base));
    let mut fields = vec![("SAMLResponse".to_owned(), posted.saml_response)];
    if let Some(r) = posted.relay_state {
        fields.push(("RelayState".to_owned(), r));
    }
    fields
}

fn acs(app: &Running, cookie: Option<&str>, fields: &[(String, String)]) -> Answer {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    post_form(&format!("{}/saml/acs", app.base), cookie, &pairs)
}

fn whoami(app: &Running, sid: &str) -> String {
    get(&format!("{}/", app.base), Some(&format!("sid={sid}"))).body
}

/// The query parameter `name` of `url`, decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .map(percent_decode)
}

fn redirect_xml(url: &str, parameter: &str) -> String {
    String::from_utf8(inflate(&query_param(url, parameter).unwrap(), 1 << 16).unwrap()).unwrap()
}

fn sign(xml: &str, id: &str) -> String {
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let signed = sign_enveloped(xml, id, Some((SAML_NS, "Issuer")), &key, None, default_provider()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(signed)
}

#[test]
fn sp_initiated_login_returns_to_the_local_path_asked_for() {
    let app = start();
    let (location, cookie) = start_login(&app, "/reports%3Fyear%3D2026");
    let fields = respond(&app, Some(&location), None, JANE);
    let done = acs(&app, Some(&cookie), &fields);
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(done.location.as_deref(), Some("/reports?year=2026"));
    assert!(done.error.is_none());
    // The login cookie is cleared, exactly as the flow formats it.
    assert!(done
        .set_cookies
        .iter()
        .any(|c| c == "fedkit_saml_login=; Max-Age=0; Path=/saml/acs; HttpOnly; Secure; SameSite=None"));
    let sid = done.cookie("sid").unwrap();
    assert_eq!(whoami(&app, &sid), format!("user: Some({JANE:?})"));

    // A return path to another site is dropped: the user lands on the home page.
    let (location, cookie) = start_login(&app, "https://evil.example/phish");
    let fields = respond(&app, Some(&location), None, JANE);
    let done = acs(&app, Some(&cookie), &fields);
    assert_eq!(done.location.as_deref(), Some("/"), "{done:?}");
}

#[test]
fn idp_initiated_login_needs_no_cookie_and_a_foreign_relay_state_is_not_followed() {
    let app = start();
    let done = acs(&app, None, &respond(&app, None, Some("/inbox"), JANE));
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(done.location.as_deref(), Some("/inbox"));
    assert!(whoami(&app, &done.cookie("sid").unwrap()).contains(JANE));
    let done = acs(&app, None, &respond(&app, None, Some("//evil.example/"), JANE));
    assert_eq!(done.location.as_deref(), Some("/"), "{done:?}");
}

#[test]
fn a_response_posted_from_another_browser_is_refused_and_the_genuine_one_still_logs_in() {
    let app = start();
    let (location, cookie) = start_login(&app, "/");
    let fields = respond(&app, Some(&location), None, JANE);
    // No cookie: another browser (login CSRF), or the cookie was lost.
    let refused = acs(&app, None, &fields);
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.error.as_deref(), Some("login_not_started_here"));
    assert!(refused.body.contains("data-code=\"login_not_started_here\""));
    assert!(refused.cookie("sid").is_none());
    // Another login's cookie.
    let (_, other_cookie) = start_login(&app, "/");
    let refused = acs(&app, Some(&other_cookie), &fields);
    assert_eq!(
        refused.error.as_deref(),
        Some("login_not_started_here"),
        "{refused:?}"
    );
    // The browser that started the login still can.
    let done = acs(&app, Some(&cookie), &fields);
    assert_eq!(done.status, 303, "{done:?}");
    assert!(done.cookie("sid").is_some());
}

#[test]
fn a_replayed_response_is_refused_as_a_replay() {
    let app = start();
    let (location, cookie) = start_login(&app, "/");
    let fields = respond(&app, Some(&location), None, JANE);
    assert_eq!(acs(&app, Some(&cookie), &fields).status, 303);
    let again = acs(&app, Some(&cookie), &fields);
    assert_eq!(again.status, 403, "{again:?}");
    assert_eq!(again.error.as_deref(), Some("replay"));
    // IdP-initiated too.
    let fields = respond(&app, None, None, JANE);
    assert_eq!(acs(&app, None, &fields).status, 303);
    assert_eq!(acs(&app, None, &fields).error.as_deref(), Some("replay"));
}

#[test]
fn a_user_scim_deactivated_or_deleted_is_refused_at_login() {
    let app = start();
    let refused = acs(&app, None, &respond(&app, None, None, JOHN));
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.error.as_deref(), Some("user_deactivated"));
    assert!(refused.cookie("sid").is_none());
    // Reactivated over SCIM: John logs in.
    let (_, list) = scim(
        &app,
        "GET",
        &format!("/Users?filter=userName%20eq%20%22{JOHN}%22"),
        Some(TOKEN),
        "",
    );
    let list: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    let id = list["Resources"][0]["id"].as_str().unwrap().to_owned();
    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}"#;
    assert_eq!(
        scim(&app, "PATCH", &format!("/Users/{id}"), Some(TOKEN), patch).0,
        200
    );
    assert_eq!(acs(&app, None, &respond(&app, None, None, JOHN)).status, 303);
    // Deleted (deprovisioned) over SCIM: refused again, as never provisioned.
    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{id}"), Some(TOKEN), "").0,
        204
    );
    let refused = acs(&app, None, &respond(&app, None, None, JOHN));
    assert_eq!(
        refused.error.as_deref(),
        Some("user_not_provisioned"),
        "{refused:?}"
    );
}

#[test]
fn single_logout_from_the_idp_ends_the_users_sessions_and_is_answered() {
    let app = start();
    let jane = acs(&app, None, &respond(&app, None, None, JANE))
        .cookie("sid")
        .unwrap();
    let xml = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"{SAML_NS}\" \
         ID=\"_idp-logout-1\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}/saml/slo\">\
         <saml:Issuer>{}</saml:Issuer>\
         <saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{JANE}</saml:NameID>\
         </samlp:LogoutRequest>",
        Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        app.base,
        app.idp.entity_id(),
    );
    // Unsigned: refused, Jane still signed in.
    let unsigned = base64::engine::general_purpose::STANDARD.encode(&xml);
    let refused = post_form(
        &format!("{}/saml/slo", app.base),
        None,
        &[("SAMLRequest", &unsigned)],
    );
    assert_eq!(refused.status, 403, "{refused:?}");
    assert_eq!(refused.error.as_deref(), Some("unsigned"));
    assert!(whoami(&app, &jane).contains(JANE));

    let answer = post_form(
        &format!("{}/saml/slo", app.base),
        None,
        &[
            ("SAMLRequest", &sign(&xml, "_idp-logout-1")),
            ("RelayState", "idp state/1"),
        ],
    );
    assert_eq!(answer.status, 303, "{answer:?}");
    let to_idp = answer.location.unwrap();
    assert!(
        to_idp.starts_with(&format!("{}?SAMLResponse=", app.idp_slo())),
        "{to_idp}"
    );
    // The IdP's RelayState comes back exactly (Bindings §3.4.3), encoded once.
    assert!(to_idp.contains("&RelayState=idp%20state%2F1"), "{to_idp}");
    let response = redirect_xml(&to_idp, "SAMLResponse");
    assert!(response.contains("InResponseTo=\"_idp-logout-1\""), "{response}");
    assert!(response.contains("status:Success"), "{response}");
    assert_eq!(whoami(&app, &jane), "user: None");
}

#[test]
fn sp_initiated_logout_sends_a_logout_request_and_takes_the_idps_answer() {
    let app = start();
    let jane = acs(&app, None, &respond(&app, None, None, JANE))
        .cookie("sid")
        .unwrap();
    let sent = post_form(
        &format!("{}/saml/logout", app.base),
        Some(&format!("sid={jane}")),
        &[],
    );
    assert_eq!(sent.status, 303, "{sent:?}");
    assert_eq!(whoami(&app, &jane), "user: None");
    let to_idp = sent.location.unwrap();
    assert!(
        to_idp.starts_with(&format!("{}?SAMLRequest=", app.idp_slo())),
        "{to_idp}"
    );
    let request = redirect_xml(&to_idp, "SAMLRequest");
    assert!(request.contains(JANE), "{request}");
    // The session is named, as Profiles §4.4.4.1 asks of a session participant.
    assert!(request.contains("<samlp:SessionIndex>_"), "{request}");
    let request_id = query_param(&to_idp, "RelayState").unwrap();
    assert!(request.contains(&format!("ID=\"{request_id}\"")), "{request}");

    let answer = LogoutResponseBuilder::new(
        app.idp.entity_id(),
        &format!("{}/saml/slo", app.base),
        &request_id,
    )
    .build([9; 20], Utc::now());
    let signed = sign(answer.xml(), answer.id());
    let slo = format!("{}/saml/slo", app.base);
    let confirmed = post_form(
        &slo,
        None,
        &[("SAMLResponse", &signed), ("RelayState", &request_id)],
    );
    assert_eq!(confirmed.status, 200, "{confirmed:?}");
    assert!(
        confirmed.body.contains("id=\"idp-confirmed\""),
        "{}",
        confirmed.body
    );
    // The request is answered once.
    let again = post_form(
        &slo,
        None,
        &[("SAMLResponse", &signed), ("RelayState", &request_id)],
    );
    assert_eq!(again.status, 403, "{again:?}");
    assert!(again.error.is_some());
}

#[test]
fn logout_of_a_session_without_a_session_index_ends_only_the_local_session() {
    // Profiles §4.4.4.1: the SP's LogoutRequest must name the session; an assertion that
    // carried no SessionIndex leaves nothing to name, so no LogoutRequest goes to the IdP.
    let app = start();
    let posted = app
        .idp
        .respond(None, None, JANE, Fault::NoSessionIndex, Utc::now())
        .unwrap();
    let jane = acs(&app, None, &[("SAMLResponse".to_owned(), posted.saml_response)])
        .cookie("sid")
        .unwrap();
    assert!(whoami(&app, &jane).contains(JANE));
    let out = post_form(
        &format!("{}/saml/logout", app.base),
        Some(&format!("sid={jane}")),
        &[],
    );
    assert_eq!(out.status, 200, "{out:?}");
    assert_eq!(out.location, None, "no redirect to the IdP: {out:?}");
    assert!(out.body.contains("id=\"signed-out\""), "{}", out.body);
    assert!(!out.body.contains("idp-confirmed"), "{}", out.body);
    assert_eq!(whoami(&app, &jane), "user: None");
}

#[test]
fn scim_create_get_patch_delete_with_the_token_and_401_with_a_challenge_without() {
    let app = start();
    let body =
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"bjensen@example.com"}"#;
    let (status, created) = scim(&app, "POST", "/Users", Some(TOKEN), body);
    assert_eq!(status, 201, "{created:?}");
    let user: serde_json::Value = serde_json::from_str(&created.body).unwrap();
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        user["meta"]["location"],
        format!("{}/scim/v2/Users/{id}", app.base)
    );
    let (status, got) = scim(&app, "GET", &format!("/Users/{id}"), Some(TOKEN), "");
    assert_eq!(status, 200);
    assert!(got.body.contains("bjensen@example.com"));
    let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#;
    let (status, patched) = scim(&app, "PATCH", &format!("/Users/{id}"), Some(TOKEN), patch);
    assert_eq!(status, 200, "{patched:?}");
    assert!(patched.body.contains("\"active\":false"), "{}", patched.body);
    assert_eq!(
        scim(&app, "DELETE", &format!("/Users/{id}"), Some(TOKEN), "").0,
        204
    );
    assert_eq!(scim(&app, "GET", &format!("/Users/{id}"), Some(TOKEN), "").0, 404);

    let (status, refused) = scim(&app, "GET", "/Users", None, "");
    assert_eq!(status, 401);
    assert_eq!(
        refused.www_authenticate.as_deref(),
        Some(r#"Bearer realm="SCIM""#)
    );
    assert!(refused
        .body
        .contains("urn:ietf:params:scim:api:messages:2.0:Error"));
    let (status, refused) = scim(&app, "GET", "/Users", Some("scim_wrong_token_000000"), "");
    assert_eq!(status, 401);
    assert!(refused.www_authenticate.unwrap().contains("invalid_token"));
    // The service discovery answers at the base path's endpoints.
    assert_eq!(
        scim(&app, "GET", "/ServiceProviderConfig", Some(TOKEN), "").0,
        200
    );
}

#[test]
fn a_scim_body_over_the_cap_is_refused_before_the_handler() {
    let app = start();
    let padding = "x".repeat(MAX_BODY);
    let body = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"big@example.com","displayName":"{padding}"}}"#
    );
    let (status, refused) = scim(&app, "POST", "/Users", Some(TOKEN), &body);
    assert_eq!(status, 413, "{refused:?}");
    assert!(refused.body.contains("4096 bytes"), "{}", refused.body);
    let (_, list) = scim(
        &app,
        "GET",
        "/Users?filter=userName%20eq%20%22big@example.com%22",
        Some(TOKEN),
        "",
    );
    assert!(list.body.contains("\"totalResults\":0"), "{}", list.body);
    // Without a token, the body is not even considered: 401 first.
    assert_eq!(scim(&app, "POST", "/Users", None, &body).0, 401);
    // Sent chunked (no Content-Length): reading stops at the cap.
    let mut reader = body.as_bytes();
    let chunked = agent()
        .post(format!("{}/scim/v2/Users", app.base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    let refused = answer(chunked);
    assert_eq!(refused.status, 413, "{refused:?}");
    assert!(refused
        .body
        .contains("urn:ietf:params:scim:api:messages:2.0:Error"));
    // A body within the cap, chunked too, is served.
    let small =
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"small@example.com"}"#;
    let mut reader = small.as_bytes();
    let created = agent()
        .post(format!("{}/scim/v2/Users", app.base))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .send(ureq::SendBody::from_reader(&mut reader))
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
}

#[test]
fn the_sp_metadata_names_the_acs_and_slo_urls() {
    let app = start();
    let url = format!("{}/saml/metadata", app.base);
    let response = agent().get(&url).call().unwrap();
    assert_eq!(response.headers()["content-type"], "application/samlmetadata+xml");
    let xml = answer(response).body;
    assert!(
        xml.contains(&format!("Location=\"{}/saml/acs\"", app.base)),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("Location=\"{}/saml/slo\"", app.base)),
        "{xml}"
    );
}

#[test]
fn an_idp_that_wants_post_gets_a_form_and_the_login_completes() {
    let app = start_with(|flow| flow.with_request_binding(RequestBinding::Post));
    let started = get(&format!("{}/saml/login?next=/inbox", app.base), None);
    assert_eq!(started.status, 200, "{started:?}");
    assert!(
        started
            .body
            .contains(&format!("action=\"{}\"", app.idp.sso_url())),
        "{}",
        started.body
    );
    let marker = "name=\"SAMLRequest\" value=\"";
    let at = started.body.find(marker).unwrap() + marker.len();
    let saml_request = &started.body[at..at + started.body[at..].find('"').unwrap()];
    let cookie = started.cookie("fedkit_saml_login").unwrap();
    let fields = respond(&app, Some(saml_request), None, JANE);
    let done = acs(&app, Some(&format!("fedkit_saml_login={cookie}")), &fields);
    assert_eq!(done.status, 303, "{done:?}");
    assert_eq!(done.location.as_deref(), Some("/inbox"));
}
