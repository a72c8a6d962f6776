//! The example app end to end over HTTP on loopback, without a browser: the test plays the
//! browser (cookies, redirects, auto-posted forms) and a JumpCloud-shaped IdP in-process
//! (Responses built here and signed with fedkit-xmldsig's `sign_enveloped` and the test IdP
//! key of fedkit-saml's test data). What the app answers is checked against fedkit-saml's
//! own verdict on the same Response, so an error page must show fedkit's message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::FedkitIdp;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use fedkit_example_saas_app::{Config, IdpConnection, InMemoryTxt, Provisioning, SESSION_COOKIE};
use fedkit_saml::bindings::{escape, percent_decode};
use fedkit_saml::request::inflate_redirect_message;
use fedkit_saml::{IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider, Settings};
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::{SigningKey, TrustedKeys};

const IDP_KEY: &str = include_str!("../../../crates/saml/tests/data/keys/idp.key.pem");
const IDP_CERT: &str = include_str!("../../../crates/saml/tests/data/keys/idp.crt.pem");
const OTHER_KEY: &str = include_str!("../../../crates/saml/tests/data/keys/other.key.pem");
const IDP_ENTITY_ID: &str = "http://localhost:8081/saml2/fedkit-test";
const IDP_SSO: &str = "http://localhost:8081/saml2/fedkit-test";
const IDP_SLO: &str = "http://localhost:8081/saml2/fedkit-test/slo";
const SCIM_TOKEN: &str = "scim_4f9d2c7e1b8a6d3f0e5c";
const ADMIN_TOKEN: &str = "admin_9c1e7a53b2d84f60";
/// The login cookie fedkit-saml's login flow sets (its default name), up to its value.
const LOGIN_COOKIE: &str = "fedkit_saml_login=";
const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// The app, served on a free loopback port by a runtime on its own thread (for the whole
/// test process); its data directory is removed on drop.
struct RunningApp {
    base: String,
    config: Config,
    data_dir: PathBuf,
    /// The DNS the app's domain check sees.
    txt: Arc<InMemoryTxt>,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

fn start(adjust: impl FnOnce(&mut Config)) -> RunningApp {
    start_on(0, adjust)
}

fn start_on(port: u16, adjust: impl FnOnce(&mut Config)) -> RunningApp {
    static N: AtomicUsize = AtomicUsize::new(0);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let data_dir = std::env::temp_dir().join(format!(
        "fedkit-saas-app-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&data_dir);
    let txt = Arc::new(InMemoryTxt::new());
    let mut config = Config {
        base_url: base.clone(),
        data_dir: data_dir.clone(),
        idp: Some(IdpConnection {
            entity_id: IDP_ENTITY_ID.to_owned(),
            sso_url: IDP_SSO.to_owned(),
            slo_url: Some(IDP_SLO.to_owned()),
            certificates_pem: IDP_CERT.to_owned(),
        }),
        dangerous_allow_http_idp: false,
        admin_token: Some(ADMIN_TOKEN.to_owned()),
        provisioning: Provisioning::Jit,
        allow_idp_initiated: true,
        allowed_email_domains: Vec::new(),
        scim_token: Some(SCIM_TOKEN.to_owned()),
        allow_linking: false,
        jit_requires_verified_domain: false,
        txt_lookup: txt.clone(),
    };
    adjust(&mut config);
    let router = fedkit_example_saas_app::router(config.clone()).unwrap();
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
    RunningApp {
        base,
        config,
        data_dir,
        txt,
    }
}

/// What came back: status, `Location`, `Set-Cookie` values, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Answer {
    /// The session cookie this answer sets (its value).
    fn session(&self) -> Option<String> {
        self.set_cookies.iter().find_map(|c| {
            c.strip_prefix(&format!("{SESSION_COOKIE}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        })
    }

    /// The error code an error page shows.
    fn error_code(&self) -> Option<&str> {
        let start = self.body.find("<code id=\"code\">")? + "<code id=\"code\">".len();
        Some(&self.body[start..start + self.body[start..].find('<')?])
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
    let header = |name: &str| -> Vec<String> {
        response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    let location = header("location").into_iter().next();
    let set_cookies = header("set-cookie");
    Answer {
        status: response.status().as_u16(),
        location,
        set_cookies,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

fn get(url: &str, session: Option<&str>) -> Answer {
    let mut request = agent().get(url);
    if let Some(s) = session {
        request = request.header("Cookie", &format!("{SESSION_COOKIE}={s}"));
    }
    answer(request.call().unwrap())
}

/// The `name=value` of the login cookie a `/saml/login` answer sets.
fn login_cookie(answer: &Answer) -> String {
    answer
        .set_cookies
        .iter()
        .find(|c| c.starts_with(LOGIN_COOKIE))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no login cookie in {:?}", answer.set_cookies))
}

fn post_form_with_cookie(url: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    answer(
        agent()
            .post(url)
            .header("Cookie", cookie)
            .send_form(fields.iter().copied())
            .unwrap(),
    )
}

fn post_form(url: &str, session: Option<&str>, fields: &[(&str, &str)]) -> Answer {
    let mut request = agent().post(url);
    if let Some(s) = session {
        request = request.header("Cookie", &format!("{SESSION_COOKIE}={s}"));
    }
    answer(request.send_form(fields.iter().copied()).unwrap())
}

/// The query parameter `name` of `url`, decoded.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| percent_decode(v))
}

/// The value of attribute `name` in the first start tag containing `marker`.
fn xml_attribute(xml: &str, marker: &str, name: &str) -> String {
    let start = xml.find(marker).unwrap();
    let tag = &xml[start..start + xml[start..].find('>').unwrap()];
    let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    tag[at..at + tag[at..].find('"').unwrap()].to_owned()
}

fn instant(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A user as the IdP sends it.
struct User<'a> {
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
}

const JANE: User<'static> = User {
    email: "jane.doe@example.com",
    first_name: "Jane",
    last_name: "Doe",
};

/// The test IdP's Response (JumpCloud shape: email NameID, email/firstName/lastName, the
/// Response signed), issued at `issued`, answering `in_response_to` (None: IdP-initiated).
fn idp_response(
    app: &RunningApp,
    user: &User<'_>,
    in_response_to: Option<&str>,
    issued: DateTime<Utc>,
    key_pem: &str,
) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let acs = app.config.acs_url();
    let audience = app.config.sp_entity_id();
    let irt = in_response_to
        .map(|id| format!(" InResponseTo=\"{id}\""))
        .unwrap_or_default();
    let (now, before, after) = (
        instant(issued),
        instant(issued - Duration::minutes(1)),
        instant(issued + Duration::minutes(5)),
    );
    let attribute = |name: &str, value: &str| {
        format!("<saml:Attribute Name=\"{name}\"><saml:AttributeValue>{value}</saml:AttributeValue></saml:Attribute>")
    };
    let xml = format!(
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"{SAML_NS}\" \
         ID=\"_resp{n}\" Version=\"2.0\" IssueInstant=\"{now}\" Destination=\"{acs}\"{irt}>\
         <saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer>\
         <samlp:Status><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>\
         <saml:Assertion ID=\"_assertion{n}\" Version=\"2.0\" IssueInstant=\"{now}\">\
         <saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer>\
         <saml:Subject><saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{email}</saml:NameID>\
         <saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
         <saml:SubjectConfirmationData NotOnOrAfter=\"{after}\" Recipient=\"{acs}\"{irt}/></saml:SubjectConfirmation></saml:Subject>\
         <saml:Conditions NotBefore=\"{before}\" NotOnOrAfter=\"{after}\"><saml:AudienceRestriction>\
         <saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>\
         <saml:AuthnStatement AuthnInstant=\"{now}\" SessionIndex=\"_session{n}\"><saml:AuthnContext>\
         <saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>\
         </saml:AuthnContext></saml:AuthnStatement>\
         <saml:AttributeStatement>{}{}{}</saml:AttributeStatement></saml:Assertion></samlp:Response>",
        attribute("email", user.email),
        attribute("firstName", user.first_name),
        attribute("lastName", user.last_name),
        email = user.email,
    );
    let key = SigningKey::from_pem(key_pem).unwrap();
    fedkit_xmldsig::sign::sign_enveloped(
        &xml,
        &format!("_resp{n}"),
        Some((SAML_NS, "Issuer")),
        &key,
        None,
        &AwsLcRs,
    )
    .unwrap()
}

fn b64(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// fedkit-saml's own verdict on a Response (fresh replay cache): the
/// error code and the admin-facing message an error page must show.
fn fedkit_verdict(app: &RunningApp, xml: &str, allow_unsolicited: bool) -> (String, String) {
    let sp = ServiceProvider::new(&app.config.sp_entity_id(), [app.config.acs_url()]).unwrap();
    let idp = IdentityProvider::new(IDP_ENTITY_ID, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    let settings = Settings::default().with_idp_initiated(allow_unsolicited);
    let error = ResponseValidator::with_settings(sp, idp, settings)
        .with_provider(&AwsLcRs)
        .process_post(&b64(xml), None, Utc::now(), &InMemoryReplayCache::new(10))
        .unwrap_err();
    (error.code().to_owned(), error.to_string())
}

/// An IdP-initiated login as `user`; returns the ACS answer.
fn idp_initiated(app: &RunningApp, user: &User<'_>, relay_state: Option<&str>) -> Answer {
    let xml = idp_response(app, user, None, Utc::now(), IDP_KEY);
    let response = b64(&xml);
    let mut fields = vec![("SAMLResponse", response.as_str())];
    if let Some(r) = relay_state {
        fields.push(("RelayState", r));
    }
    post_form(&format!("{}/saml/acs", app.base), None, &fields)
}

fn scim(app: &RunningApp, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let url = format!("{}/scim/v2{path}", app.base);
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("Authorization", format!("Bearer {SCIM_TOKEN}"))
        .header("Content-Type", "application/scim+json")
        .body(body.to_owned())
        .unwrap();
    let mut response = agent().run(request).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn sp_initiated_login_returns_to_the_page_asked_for_and_logout_ends_the_session() {
    let app = start(|_| {});

    // The browser asks for a page that needs a login.
    let asked = "/app/reports?year=2026&q=a%20b";
    let first = get(&format!("{}{asked}", app.base), None);
    assert_eq!(first.status, 303);
    let login = first.location.unwrap();
    assert!(login.starts_with("/saml/login?next="), "{login}");

    // The app sends it to the IdP with an AuthnRequest (HTTP-Redirect) and the page as RelayState.
    let to_idp = get(&format!("{}{login}", app.base), None);
    assert_eq!(to_idp.status, 303);
    let idp_url = to_idp.location.unwrap();
    assert!(
        idp_url.starts_with(&format!("{IDP_SSO}?SAMLRequest=")),
        "{idp_url}"
    );
    // The page asked for stays in the app's request store: nothing goes to the IdP.
    assert_eq!(query_param(&idp_url, "RelayState"), None);
    let request_xml = String::from_utf8(
        inflate_redirect_message(&query_param(&idp_url, "SAMLRequest").unwrap(), 1 << 16).unwrap(),
    )
    .unwrap();
    let request_id = xml_attribute(&request_xml, "AuthnRequest ", "ID");
    assert_eq!(
        xml_attribute(&request_xml, "AuthnRequest ", "AssertionConsumerServiceURL"),
        app.config.acs_url()
    );
    assert_eq!(
        xml_attribute(&request_xml, "AuthnRequest ", "Destination"),
        IDP_SSO
    );

    // The IdP answers; the browser posts the Response and the RelayState to the ACS.
    let response = b64(&idp_response(&app, &JANE, Some(&request_id), Utc::now(), IDP_KEY));
    let fields = [("SAMLResponse", response.as_str()), ("RelayState", asked)];
    // From another browser (no login cookie: login CSRF), the Response is refused.
    let elsewhere = post_form(&format!("{}/saml/acs", app.base), None, &fields);
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.body);
    assert_eq!(
        elsewhere.error_code(),
        Some("login_not_started_here"),
        "{}",
        elsewhere.body
    );
    assert!(elsewhere.session().is_none());
    // The same login again, from the browser that starts it.
    let to_idp = get(&format!("{}{login}", app.base), None);
    let cookie = login_cookie(&to_idp);
    assert!(to_idp.set_cookies.iter().any(|c| c.starts_with(LOGIN_COOKIE)
        && c.ends_with("; Max-Age=600; Path=/saml/acs; HttpOnly; Secure; SameSite=None")));
    let idp_url = to_idp.location.unwrap();
    let request_xml = String::from_utf8(
        inflate_redirect_message(&query_param(&idp_url, "SAMLRequest").unwrap(), 1 << 16).unwrap(),
    )
    .unwrap();
    let request_id = xml_attribute(&request_xml, "AuthnRequest ", "ID");
    assert_eq!(
        cookie.len(),
        LOGIN_COOKIE.len() + 43,
        "{cookie}: 32 random bytes, base64url"
    );
    let response = b64(&idp_response(&app, &JANE, Some(&request_id), Utc::now(), IDP_KEY));
    let fields = [("SAMLResponse", response.as_str()), ("RelayState", asked)];
    let acs = post_form_with_cookie(&format!("{}/saml/acs", app.base), &cookie, &fields);
    assert_eq!(acs.status, 303, "{}", acs.body);
    assert_eq!(acs.location.as_deref(), Some(asked));
    assert!(
        acs.set_cookies
            .iter()
            .any(|c| c.starts_with(&format!("{LOGIN_COOKIE};")) && c.contains("Max-Age=0")),
        "the login cookie is cleared: {:?}",
        acs.set_cookies
    );
    let cookie = acs
        .set_cookies
        .iter()
        .find(|c| c.starts_with(SESSION_COOKIE))
        .unwrap();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    let session = acs.session().unwrap();
    assert_eq!(session.len(), 64, "32 random bytes, hex");

    let page = get(&format!("{}{asked}", app.base), Some(&session));
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<strong id=\"email\">jane.doe@example.com</strong>"),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("<code id=\"page\">/app/reports?year=2026&amp;q=a%20b</code>"));
    assert!(page.body.contains("<td id=\"login-kind\">SP-initiated</td>"));
    assert!(page.body.contains("<tr><th>firstName</th><td>Jane</td></tr>"));
    assert!(
        page.body.contains("created just in time"),
        "JIT mode creates the user"
    );
    // Without the cookie, the same page asks for a login again.
    assert_eq!(get(&format!("{}{asked}", app.base), None).status, 303);

    // The same Response again is refused as the replay it is (its request was answered by
    // it, and its assertion is in the replay cache).
    let again = post_form(&format!("{}/saml/acs", app.base), None, &fields);
    assert_eq!(again.status, 403, "{}", again.body);
    assert!(again.session().is_none());
    assert_eq!(again.error_code(), Some("replay"), "{}", again.body);

    // Logout: the session ends here and the browser goes to the IdP's SLO endpoint.
    let out = post_form(&format!("{}/logout", app.base), Some(&session), &[]);
    assert_eq!(out.status, 303);
    let slo = out.location.unwrap();
    assert!(slo.starts_with(&format!("{IDP_SLO}?SAMLRequest=")), "{slo}");
    let logout_xml = String::from_utf8(
        inflate_redirect_message(&query_param(&slo, "SAMLRequest").unwrap(), 1 << 16).unwrap(),
    )
    .unwrap();
    assert!(
        logout_xml.contains(">jane.doe@example.com</saml:NameID>"),
        "{logout_xml}"
    );
    assert!(
        logout_xml.contains("<samlp:SessionIndex>_session"),
        "{logout_xml}"
    );
    assert!(out.set_cookies.iter().any(|c| c.contains("Max-Age=0")));
    let after = get(&format!("{}/profile", app.base), Some(&session));
    assert_eq!(after.status, 303, "the old cookie no longer works");
    assert_eq!(get(&format!("{}/saml/slo", app.base), None).status, 200);
}

#[test]
fn idp_initiated_login_when_allowed_and_refused_when_not() {
    let app = start(|_| {});
    let acs = idp_initiated(&app, &JANE, None);
    assert_eq!(acs.status, 303, "{}", acs.body);
    assert_eq!(acs.location.as_deref(), Some("/profile"));
    let page = get(&format!("{}/profile", app.base), acs.session().as_deref());
    assert!(
        page.body.contains("<td id=\"login-kind\">IdP-initiated</td>"),
        "{}",
        page.body
    );

    // A RelayState that would leave the site is ignored.
    let acs = idp_initiated(&app, &JANE, Some("//evil.example/phish"));
    assert_eq!(acs.status, 303, "{}", acs.body);
    assert_eq!(acs.location.as_deref(), Some("/profile"));

    // The same IdP-initiated Response twice: the replay cache refuses the second.
    let xml = idp_response(&app, &JANE, None, Utc::now(), IDP_KEY);
    let response = b64(&xml);
    let url = format!("{}/saml/acs", app.base);
    assert_eq!(post_form(&url, None, &[("SAMLResponse", &response)]).status, 303);
    let replayed = post_form(&url, None, &[("SAMLResponse", &response)]);
    assert_eq!(replayed.status, 403);
    assert_eq!(replayed.error_code(), Some("replay"), "{}", replayed.body);

    let strict = start(|c| c.allow_idp_initiated = false);
    let xml = idp_response(&strict, &JANE, None, Utc::now(), IDP_KEY);
    let (code, message) = fedkit_verdict(&strict, &xml, false);
    let refused = post_form(
        &format!("{}/saml/acs", strict.base),
        None,
        &[("SAMLResponse", &b64(&xml))],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.session().is_none());
    assert_eq!(refused.error_code(), Some(code.as_str()));
    assert!(refused.body.contains(&escape(&message)), "{}", refused.body);
}

#[test]
fn tampered_expired_and_foreign_responses_show_fedkits_message() {
    let app = start(|_| {});
    let url = format!("{}/saml/acs", app.base);
    let signed = idp_response(&app, &JANE, None, Utc::now(), IDP_KEY);
    let cases = [
        (
            "tampered NameID",
            signed.replacen(
                ">jane.doe@example.com</saml:NameID>",
                ">eve@example.com</saml:NameID>",
                1,
            ),
        ),
        (
            "expired",
            idp_response(&app, &JANE, None, Utc::now() - Duration::hours(2), IDP_KEY),
        ),
        (
            "signed by another key",
            idp_response(&app, &JANE, None, Utc::now(), OTHER_KEY),
        ),
    ];
    let expected_codes = ["digest_mismatch", "expired", "signature_invalid"];
    for ((name, xml), expected) in cases.into_iter().zip(expected_codes) {
        let (code, message) = fedkit_verdict(&app, &xml, true);
        assert_eq!(code, expected, "{name}: {message}");
        let answer = post_form(&url, None, &[("SAMLResponse", &b64(&xml))]);
        assert_eq!(answer.status, 403, "{name}: {}", answer.body);
        assert!(answer.session().is_none(), "{name}");
        assert_eq!(
            answer.error_code(),
            Some(code.as_str()),
            "{name}: {}",
            answer.body
        );
        assert!(
            answer.body.contains(&escape(&message)),
            "{name}: the page shows fedkit's message {message:?}: {}",
            answer.body
        );
        assert!(answer.body.contains("<strong>HTTP 403</strong>"), "{name}");
    }
    // Not even base64.
    let garbage = post_form(&url, None, &[("SAMLResponse", "%%%")]);
    assert_eq!(garbage.status, 403);
    assert!(garbage.error_code().is_some());
}

#[test]
fn scim_provisioned_users_log_in_and_deactivated_or_unknown_ones_do_not() {
    let app = start(|c| c.provisioning = Provisioning::Scim);

    // SCIM needs the token.
    let no_token = get(&format!("{}/scim/v2/Users", app.base), None);
    assert_eq!(no_token.status, 401);

    // Not provisioned yet: refused, with the reason.
    let refused = idp_initiated(&app, &JANE, None);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), Some("not_provisioned"), "{}", refused.body);
    assert!(refused.body.contains("was not provisioned by SCIM"));

    // JumpCloud provisions the user over SCIM: the login works.
    let (status, user) = scim(
        &app,
        "POST",
        "/Users",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane.doe@example.com",
            "name":{"givenName":"Jane","familyName":"Doe"},"emails":[{"value":"jane.doe@example.com","primary":true}],"active":true}"#,
    );
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap();
    let accepted = idp_initiated(&app, &JANE, None);
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let page = get(&format!("{}/profile", app.base), accepted.session().as_deref());
    assert!(page.body.contains(id), "the session is the SCIM user's");
    assert!(!page.body.contains("created just in time"));

    // Deactivated in JumpCloud (PATCH active=false): the IdP still signs, the app refuses.
    let (status, body) = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let deactivated = idp_initiated(&app, &JANE, None);
    assert_eq!(deactivated.status, 403);
    assert!(deactivated.session().is_none());
    assert_eq!(
        deactivated.error_code(),
        Some("deactivated_by_scim"),
        "{}",
        deactivated.body
    );
    assert!(deactivated
        .body
        .contains("jane.doe@example.com was deactivated by the IdP"));
}

#[test]
fn invite_only_refuses_unknown_users_and_the_email_domain_allowlist_holds() {
    let app = start(|c| {
        c.provisioning = Provisioning::InviteOnly;
        c.allowed_email_domains = vec!["example.com".to_owned()];
    });
    let eve = User {
        email: "eve.outsider@example.net",
        first_name: "Eve",
        last_name: "Outsider",
    };
    let outsider = idp_initiated(&app, &eve, None);
    assert_eq!(outsider.status, 403);
    assert_eq!(
        outsider.error_code(),
        Some("email_outside_allowlist"),
        "{}",
        outsider.body
    );
    assert!(outsider.body.contains("example.net"), "{}", outsider.body);
    let unknown = idp_initiated(&app, &JANE, None);
    assert_eq!(unknown.error_code(), Some("not_invited"), "{}", unknown.body);
}

#[test]
fn sp_metadata_names_the_acs_and_slo_urls() {
    let app = start(|_| {});
    let metadata = get(&format!("{}/saml/metadata", app.base), None);
    assert_eq!(metadata.status, 200);
    assert!(metadata
        .body
        .contains(&format!("entityID=\"{}\"", app.config.sp_entity_id())));
    assert!(metadata
        .body
        .contains(&format!("Location=\"{}\"", app.config.acs_url())));
    assert!(metadata
        .body
        .contains(&format!("Location=\"{}\"", app.config.slo_url())));
}

/// The IdP certificate as a console shows it: the base64 body only.
fn bare_certificate() -> String {
    IDP_CERT.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn idp_metadata(entity_id: &str, sso: &str) -> String {
    format!(
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"{entity_id}\">\
         <md:IDPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\
         <md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:X509Data>\
         <ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\
         <md:SingleSignOnService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{sso}\"/>\
         </md:IDPSSODescriptor></md:EntityDescriptor>",
        bare_certificate()
    )
}

#[test]
fn the_admin_page_imports_the_idp_and_the_connection_survives_a_restart() {
    let app = start(|c| c.idp = None);
    let url = format!("{}/admin", app.base);
    let login = get(&format!("{}/saml/login", app.base), None);
    assert_eq!(login.status, 503);
    assert_eq!(login.error_code(), Some("no_idp"), "{}", login.body);
    assert_eq!(idp_initiated(&app, &JANE, None).error_code(), Some("no_idp"));
    let form = get(&url, None);
    assert_eq!(form.status, 200);
    assert!(form.body.contains("No IdP is configured yet."));

    // The wrong token changes nothing.
    let cert = bare_certificate();
    let explicit = [
        ("entity_id", IDP_ENTITY_ID),
        ("sso_url", "https://sso.example.com/saml2/acme"),
        ("slo_url", ""),
        ("certificate", cert.as_str()),
    ];
    let mut fields = vec![("token", "admin_wrong_wrong_wrong")];
    fields.extend(explicit);
    let wrong = post_form(&url, None, &fields);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error_code(), Some("admin_token_invalid"));
    assert!(!app.data_dir.join("idp-connection.json").exists());

    // An http:// SSO URL is refused (no --dangerous-allow-http-idp).
    let mut fields = vec![("token", ADMIN_TOKEN)];
    fields.extend(explicit);
    fields[2].1 = "http://sso.example.com/saml2/acme";
    let http = post_form(&url, None, &fields);
    assert_eq!(http.status, 400);
    assert_eq!(http.error_code(), Some("endpoint_not_https"), "{}", http.body);

    // Entity ID + SSO URL + the bare certificate body, as pasted from JumpCloud.
    let mut fields = vec![("token", ADMIN_TOKEN)];
    fields.extend(explicit);
    let saved = post_form(&url, None, &fields);
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(app.data_dir.join("idp-connection.json").exists());
    let to_idp = get(&format!("{}/saml/login", app.base), None);
    assert!(to_idp
        .location
        .unwrap()
        .starts_with("https://sso.example.com/saml2/acme?SAMLRequest="));
    assert_eq!(idp_initiated(&app, &JANE, None).status, 303);

    // A certificate that is not one.
    let mut fields = vec![("token", ADMIN_TOKEN)];
    fields.extend(explicit);
    fields[4].1 = "MIIBogus";
    let bogus = post_form(&url, None, &fields);
    assert_eq!(bogus.status, 400);
    assert_eq!(bogus.error_code(), Some("certificate_refused"), "{}", bogus.body);

    // Metadata XML (fedkit-metadata): another SSO URL, the same key.
    let xml = idp_metadata(IDP_ENTITY_ID, "https://sso.example.com/saml2/other");
    let imported = post_form(&url, None, &[("token", ADMIN_TOKEN), ("metadata_xml", &xml)]);
    assert_eq!(imported.status, 200, "{}", imported.body);
    let to_idp = get(&format!("{}/saml/login", app.base), None);
    assert!(to_idp
        .location
        .unwrap()
        .starts_with("https://sso.example.com/saml2/other?"));
    // Metadata with an http:// endpoint: fedkit-metadata's refusal, shown.
    let xml = idp_metadata(IDP_ENTITY_ID, "http://sso.example.com/saml2/other");
    let refused = post_form(&url, None, &[("token", ADMIN_TOKEN), ("metadata_xml", &xml)]);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error_code(), Some("metadata_refused"));
    assert!(
        refused.body.contains("http://sso.example.com/saml2/other"),
        "{}",
        refused.body
    );

    // Restarted on the same data directory without IdP flags: the saved connection is used.
    let data_dir = app.data_dir.clone();
    let restarted = start(|c| {
        c.idp = None;
        c.data_dir = data_dir;
    });
    let to_idp = get(&format!("{}/saml/login", restarted.base), None);
    assert!(to_idp
        .location
        .unwrap()
        .starts_with("https://sso.example.com/saml2/other?"));
    let admin_off = start(|c| c.admin_token = None);
    assert_eq!(get(&format!("{}/admin", admin_off.base), None).status, 404);
}

/// A form of an HTML page: action and fields (unescaped).
#[derive(Debug)]
struct HtmlForm {
    action: String,
    fields: Vec<(String, String)>,
}

impl HtmlForm {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn html_forms(html: &str) -> Vec<HtmlForm> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = start + tag[start..].find('"')?;
        Some(html_unescape(&tag[start..end]))
    };
    html.split("<form ")
        .skip(1)
        .map(|chunk| {
            let body = &chunk[..chunk.find("</form>").unwrap()];
            let fields = body
                .split("<input ")
                .skip(1)
                .filter_map(|input| {
                    let tag = &input[..input.find('>').unwrap()];
                    Some((
                        attribute(tag, "name")?,
                        attribute(tag, "value").unwrap_or_default(),
                    ))
                })
                .collect();
            HtmlForm {
                action: attribute(&body[..body.find('>').unwrap()], "action").unwrap(),
                fields,
            }
        })
        .collect()
}

/// On an IdP login page, clicks "Log in as `email`"; returns the auto-submitting form the
/// IdP answers with (to the ACS).
fn click_user(idp: &FedkitIdp, login_page: &str, email: &str) -> HtmlForm {
    let form = html_forms(login_page)
        .into_iter()
        .find(|f| f.field("user") == Some(email))
        .unwrap_or_else(|| panic!("no button for {email}: {login_page}"));
    let answer = post_form(&format!("{}{}", idp.base(), form.action), None, &form.pairs());
    assert_eq!(answer.status, 200, "{}", answer.body);
    html_forms(&answer.body).remove(0)
}

#[test]
fn against_fedkit_idp_serve_sp_and_idp_initiated_login_and_single_logout() {
    // The app's address first: the IdP needs the SP's URLs.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let sp_base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let idp = FedkitIdp::start(&sp_base);
    // The app imports the IdP's metadata, as `--idp-metadata` does.
    let metadata = get(&idp.field("metadata_url"), None);
    assert_eq!(metadata.status, 200);
    let connection = IdpConnection::from_metadata(metadata.body.as_bytes(), true).unwrap();
    assert_eq!(connection.entity_id, idp.field("entity_id"));
    assert_eq!(connection.sso_url, idp.field("sso_url"));
    assert!(
        IdpConnection::from_metadata(metadata.body.as_bytes(), false).is_err(),
        "http:// endpoints need the dangerous flag"
    );
    let port: u16 = sp_base.rsplit(':').next().unwrap().parse().unwrap();
    let app = start_on(port, |c| {
        c.idp = Some(connection);
        c.provisioning = Provisioning::Jit;
    });
    assert_eq!(app.base, sp_base);

    // SP-initiated: page -> /saml/login -> IdP login page -> user button -> form to the ACS.
    let asked = "/app/reports?year=2026";
    let login = get(&format!("{}{asked}", app.base), None).location.unwrap();
    let started = get(&format!("{}{login}", app.base), None);
    let login_cookie = login_cookie(&started);
    let to_idp = started.location.unwrap();
    let login_page = get(&to_idp, None);
    assert_eq!(login_page.status, 200, "{}", login_page.body);
    let to_acs = click_user(&idp, &login_page.body, "jane.doe@example.com");
    assert_eq!(to_acs.action, app.config.acs_url());
    // The page asked for stays in the app's request store; the IdP sends no RelayState back.
    assert_eq!(to_acs.field("RelayState"), None);
    let acs = post_form_with_cookie(&to_acs.action, &login_cookie, &to_acs.pairs());
    assert_eq!(acs.status, 303, "{}", acs.body);
    assert_eq!(acs.location.as_deref(), Some(asked));
    let session = acs.session().unwrap();
    let page = get(&format!("{}{asked}", app.base), Some(&session));
    assert!(
        page.body
            .contains("<strong id=\"email\">jane.doe@example.com</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<tr><th>memberOf</th><td>Engineering, SSO Admins</td></tr>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("SP-initiated"));

    // Logout: the app ends the session and sends the browser to the IdP's SLO endpoint; the
    // IdP answers to the app's SLO URL.
    let out = post_form(&format!("{}/logout", app.base), Some(&session), &[]);
    let slo = out.location.unwrap();
    assert!(
        slo.starts_with(&format!("{}?SAMLRequest=", idp.field("slo_url"))),
        "{slo}"
    );
    let idp_answer = get(&slo, None);
    assert_eq!(idp_answer.status, 200, "{}", idp_answer.body);
    let back = html_forms(&idp_answer.body).remove(0);
    assert_eq!(back.action, app.config.slo_url());
    let signed_out = post_form(&back.action, None, &back.pairs());
    assert!(
        signed_out.body.contains("You are signed out"),
        "{}",
        signed_out.body
    );
    assert!(
        signed_out.body.contains("The IdP confirmed the logout."),
        "the LogoutResponse verified: {}",
        signed_out.body
    );
    // The same LogoutResponse again: its request is no longer pending.
    let again = post_form(&back.action, None, &back.pairs());
    assert_eq!(again.status, 403, "{}", again.body);
    assert!(again.error_code().is_some());
    assert_eq!(get(&format!("{}/profile", app.base), Some(&session)).status, 303);

    // IdP-initiated: the IdP's start page tile.
    let index = get(&format!("{}/", idp.base()), None);
    let to_acs = click_user(&idp, &index.body, "john.smith@example.com");
    let acs = post_form(&to_acs.action, None, &to_acs.pairs());
    assert_eq!(acs.status, 303, "{}", acs.body);
    let page = get(&format!("{}/profile", app.base), acs.session().as_deref());
    assert!(page.body.contains("john.smith@example.com"));
    assert!(page.body.contains("IdP-initiated"), "{}", page.body);

    // Jane (created just in time above) is deactivated over SCIM: the IdP still logs her in,
    // the app refuses.
    let (status, found) = scim(
        &app,
        "GET",
        "/Users?filter=userName%20eq%20%22jane.doe@example.com%22",
        "",
    );
    assert_eq!(status, 200, "{found}");
    let id = found["Resources"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = scim(
        &app,
        "PATCH",
        &format!("/Users/{id}"),
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}"#,
    );
    assert_eq!(status, 200, "{body}");
    let to_acs = click_user(&idp, &index.body, "jane.doe@example.com");
    let refused = post_form(&to_acs.action, None, &to_acs.pairs());
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.error_code(),
        Some("deactivated_by_scim"),
        "{}",
        refused.body
    );
    assert!(refused.session().is_none());
}

/// An IdP-initiated LogoutRequest for `email`, signed with `key_pem`, base64 (HTTP-POST).
fn idp_logout_request(app: &RunningApp, email: &str, key_pem: &str) -> String {
    let xml = format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"{SAML_NS}\" \
         ID=\"_idp-logout-1\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\">\
         <saml:Issuer>{IDP_ENTITY_ID}</saml:Issuer>\
         <saml:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{email}</saml:NameID>\
         </samlp:LogoutRequest>",
        instant(Utc::now()),
        app.config.slo_url(),
    );
    let key = SigningKey::from_pem(key_pem).unwrap();
    b64(&fedkit_xmldsig::sign::sign_enveloped(
        &xml,
        "_idp-logout-1",
        Some((SAML_NS, "Issuer")),
        &key,
        None,
        &AwsLcRs,
    )
    .unwrap())
}

#[test]
fn idp_initiated_single_logout_ends_the_users_sessions_and_is_answered() {
    let app = start(|_| {});
    let jane = idp_initiated(&app, &JANE, None).session().unwrap();
    let john = idp_initiated(
        &app,
        &User {
            email: "john.smith@example.com",
            first_name: "John",
            last_name: "Smith",
        },
        None,
    )
    .session()
    .unwrap();
    let slo = format!("{}/saml/slo", app.base);

    // Signed by another key: refused, nobody signed out.
    let forged = post_form(
        &slo,
        None,
        &[("SAMLRequest", &idp_logout_request(&app, JANE.email, OTHER_KEY))],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(forged.error_code(), Some("signature_invalid"), "{}", forged.body);
    assert_eq!(get(&format!("{}/profile", app.base), Some(&jane)).status, 200);

    // From the IdP: Jane's session ends, John's does not, the IdP gets a LogoutResponse.
    let answer = post_form(
        &slo,
        None,
        &[("SAMLRequest", &idp_logout_request(&app, JANE.email, IDP_KEY))],
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    let to_idp = answer.location.unwrap();
    assert!(
        to_idp.starts_with(&format!("{IDP_SLO}?SAMLResponse=")),
        "{to_idp}"
    );
    let response_xml = String::from_utf8(
        inflate_redirect_message(&query_param(&to_idp, "SAMLResponse").unwrap(), 1 << 16).unwrap(),
    )
    .unwrap();
    assert!(
        response_xml.contains("InResponseTo=\"_idp-logout-1\""),
        "{response_xml}"
    );
    assert!(response_xml.contains("status:Success"), "{response_xml}");
    assert_eq!(get(&format!("{}/profile", app.base), Some(&jane)).status, 303);
    assert_eq!(get(&format!("{}/profile", app.base), Some(&john)).status, 200);

    // A LogoutResponse nobody asked for (no pending request): refused with fedkit's reason.
    let unsolicited = post_form(
        &slo,
        None,
        &[("SAMLResponse", "PHg+PC94Pg=="), ("RelayState", "_nope")],
    );
    assert_eq!(unsolicited.status, 403, "{}", unsolicited.body);
    assert!(unsolicited.error_code().is_some());
}

#[test]
fn pages_forbid_scripts_and_framing() {
    let app = start(|_| {});
    let response = agent().get(&format!("{}/", app.base)).call().unwrap();
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(response.headers().get("x-frame-options").unwrap(), "DENY");
}

#[test]
fn the_binary_explains_a_missing_idp() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_saas-app"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("SAAS_ADMIN_TOKEN")
        .env_remove("SAAS_IDP_METADATA")
        .env_remove("SAAS_IDP_ENTITY_ID")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("give the IdP: --idp-metadata FILE"), "{stderr}");
}

// fedkit-tenancy in the app: verified domains, discovery, enforcement, linking, the guide.

/// A form posted to an admin endpoint with the admin token.
fn admin_post(app: &RunningApp, path: &str, fields: &[(&str, &str)]) -> Answer {
    let mut all = vec![("token", ADMIN_TOKEN)];
    all.extend_from_slice(fields);
    post_form(&format!("{}{path}", app.base), None, &all)
}

/// The text of the element with `id` (up to its first child tag), HTML-unescaped.
fn text_of(body: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no #{id} in {body}")) + marker.len();
    html_unescape(&body[start..start + body[start..].find('<').unwrap()])
}

fn add_account(app: &RunningApp, email: &str, admin: bool) {
    let mut fields = vec![("email", email), ("password", PASSWORD)];
    if admin {
        fields.push(("admin", "on"));
    }
    let added = admin_post(app, "/admin/accounts", &fields);
    assert_eq!(added.status, 200, "{}", added.body);
}

const PASSWORD: &str = "correct horse battery staple";

fn password_login(app: &RunningApp, email: &str) -> Answer {
    post_form(
        &format!("{}/login", app.base),
        None,
        &[("email", email), ("password", PASSWORD)],
    )
}

/// Claims `domain` on the admin page; returns the TXT record's (name, value).
fn claim(app: &RunningApp, domain: &str) -> (String, String) {
    let claimed = admin_post(app, "/admin/domains/claim", &[("domain", domain)]);
    assert_eq!(claimed.status, 200, "{}", claimed.body);
    (
        text_of(&claimed.body, "record-name"),
        text_of(&claimed.body, "record-value"),
    )
}

fn check(app: &RunningApp, domain: &str) -> Answer {
    admin_post(app, "/admin/domains/check", &[("domain", domain)])
}

/// Claims `domain`, publishes the record in the app's DNS and checks it.
fn verify(app: &RunningApp, domain: &str) {
    let (name, value) = claim(app, domain);
    app.txt.publish(&name, &value);
    let checked = check(app, domain);
    assert_eq!(checked.status, 200, "{}", checked.body);
}

#[test]
fn an_unverified_domain_neither_routes_nor_enforces_until_its_txt_record_checks() {
    let app = start(|_| {});
    add_account(&app, "ada@acme.test", true);
    add_account(&app, "jane@acme.test", false);
    let enforced = admin_post(&app, "/admin/enforcement", &[("enabled", "on"), ("bypass", "on")]);
    assert_eq!(enforced.status, 200, "{}", enforced.body);
    assert_eq!(
        text_of(&enforced.body, "enforcement-saved"),
        "Require SSO: on; admin bypass: on."
    );

    // Nobody claimed the domain: no route, and the password works.
    let sso = |email: &str| get(&format!("{}/sso?email={email}", app.base), None);
    assert_eq!(sso("jane@acme.test").error_code(), Some("domain_not_configured"));
    assert_eq!(password_login(&app, "jane@acme.test").status, 303);

    // Claimed, the record shown, not published yet.
    let (name, value) = claim(&app, "ACME.test.");
    assert_eq!(name, "_saas-app-verification.acme.test");
    assert!(value.starts_with("saas-app-verification="), "{value}");
    assert_eq!(value.len(), "saas-app-verification=".len() + 32);
    let missing = check(&app, "acme.test");
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error_code(), Some("txt_record_missing"));
    assert!(missing
        .body
        .contains("no TXT record was found at _saas-app-verification.acme.test"));
    // Claimed but unverified: still neither routes nor enforces.
    let unverified = sso("jane@acme.test");
    assert_eq!(unverified.status, 404);
    assert_eq!(unverified.error_code(), Some("domain_not_verified"));
    let allowed = password_login(&app, "jane@acme.test");
    assert_eq!(allowed.status, 303, "{}", allowed.body);
    let profile = get(&format!("{}/profile", app.base), allowed.session().as_deref());
    assert_eq!(text_of(&profile.body, "login-kind"), "password");

    // Another token at the name: the answer says so.
    app.txt
        .publish(&name, "saas-app-verification=0123456789abcdef0123456789abcdef");
    let mismatch = check(&app, "acme.test");
    assert_eq!(mismatch.error_code(), Some("txt_record_mismatch"));
    assert!(
        mismatch.body.contains("none with the expected value"),
        "{}",
        mismatch.body
    );

    // Published: verified, and now it routes and enforces.
    app.txt.publish(&name, &value);
    let verified = check(&app, "acme.test");
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert!(text_of(&verified.body, "check-answer").contains(&value));
    let routed = sso("Jane@ACME.test");
    assert_eq!(routed.status, 303, "{}", routed.body);
    assert_eq!(routed.location.as_deref(), Some("/saml/login?next=%2Fprofile"));
    assert_eq!(
        password_login(&app, "jane@acme.test").error_code(),
        Some("sso_required")
    );
    // Another domain is unaffected.
    assert_eq!(sso("jane@other.test").error_code(), Some("domain_not_configured"));
    let admin_page = get(&format!("{}/admin/sso", app.base), None);
    assert!(admin_page.body.contains("verified since"), "{}", admin_page.body);
}

#[test]
fn an_enforced_domain_refuses_password_logins_but_lets_an_admin_bypass() {
    let app = start(|_| {});
    // Enforcement that would lock every admin out is refused.
    let no_admin = admin_post(&app, "/admin/enforcement", &[("enabled", "on"), ("bypass", "on")]);
    assert_eq!(no_admin.status, 409);
    assert_eq!(no_admin.error_code(), Some("enforcement_would_lock_out_admins"));
    add_account(&app, "ada@acme.test", true);
    add_account(&app, "jane@acme.test", false);
    // An admin with only a password, no bypass: locked out, refused.
    let no_bypass = admin_post(&app, "/admin/enforcement", &[("enabled", "on")]);
    assert_eq!(no_bypass.error_code(), Some("enforcement_would_lock_out_admins"));
    verify(&app, "acme.test");
    let on = admin_post(&app, "/admin/enforcement", &[("enabled", "on"), ("bypass", "on")]);
    assert_eq!(on.status, 200, "{}", on.body);

    let refused = password_login(&app, "jane@acme.test");
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error_code(), Some("sso_required"), "{}", refused.body);
    assert!(refused.session().is_none());
    assert!(refused.body.contains("requires single sign-on"));

    let bypass = password_login(&app, "ada@acme.test");
    assert_eq!(bypass.status, 303, "{}", bypass.body);
    let profile = get(&format!("{}/profile", app.base), bypass.session().as_deref());
    assert_eq!(
        text_of(&profile.body, "login-kind"),
        "password (admin bypass of SSO enforcement)"
    );
    // A wrong password is wrong, enforced or not.
    let wrong = post_form(
        &format!("{}/login", app.base),
        None,
        &[("email", "ada@acme.test"), ("password", "not the password")],
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error_code(), Some("invalid_credentials"));

    // Enforcement off: Jane's password works again.
    let off = admin_post(&app, "/admin/enforcement", &[("bypass", "on")]);
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(password_login(&app, "jane@acme.test").status, 303);
}

#[test]
fn an_idp_login_links_to_a_local_account_only_on_a_verified_domain() {
    let app = start(|c| c.allow_linking = true);
    add_account(&app, JANE.email, false);
    // The IdP asserts Jane's email, but example.com is not verified: no link, no duplicate.
    let unverified = idp_initiated(&app, &JANE, None);
    assert_eq!(unverified.status, 403);
    assert_eq!(
        unverified.error_code(),
        Some("domain_not_verified"),
        "{}",
        unverified.body
    );
    assert!(unverified.session().is_none());
    let (status, found) = scim(&app, "GET", "/Users", "");
    assert_eq!((status, found["totalResults"].as_u64()), (200, Some(0)));

    // Verified: linked to the local account.
    verify(&app, "example.com");
    let linked = idp_initiated(&app, &JANE, None);
    assert_eq!(linked.status, 303, "{}", linked.body);
    let page = get(&format!("{}/profile", app.base), linked.session().as_deref());
    assert!(page.body.contains("<td>local-"), "{}", page.body);
    assert!(!page.body.contains("created just in time"));
    // The link stands: the next login signs in to the same account.
    let again = idp_initiated(&app, &JANE, None);
    assert_eq!(again.status, 303, "{}", again.body);

    // The IdP deactivates Jane over SCIM: the linked account is refused too.
    let (status, body) = scim(
        &app,
        "POST",
        "/Users",
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane.doe@example.com","active":false}"#,
    );
    assert_eq!(status, 201, "{body}");
    let deactivated = idp_initiated(&app, &JANE, None);
    assert_eq!(
        deactivated.error_code(),
        Some("deactivated_by_scim"),
        "{}",
        deactivated.body
    );

    // Without linking allowed, a verified domain is not enough.
    let strict = start(|_| {});
    add_account(&strict, JANE.email, false);
    verify(&strict, "example.com");
    let refused = idp_initiated(&strict, &JANE, None);
    assert_eq!(
        refused.error_code(),
        Some("linking_not_allowed"),
        "{}",
        refused.body
    );
}

#[test]
fn the_setup_guide_shows_this_apps_values() {
    let app = start(|_| {});
    let guide = get(&format!("{}/admin/guide?idp=jumpcloud", app.base), None);
    assert_eq!(guide.status, 200);
    let text = text_of(&guide.body, "guide");
    assert!(text.contains(&app.config.acs_url()), "{text}");
    assert!(text.contains(&app.config.sp_entity_id()), "{text}");
    assert!(text.contains(&format!("{}/scim/v2", app.base)), "{text}");
    assert!(text.starts_with("# Set up JumpCloud single sign-on"), "{text}");
    let unknown = get(&format!("{}/admin/guide?idp=keycloak", app.base), None);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), Some("unknown_idp"));
}
