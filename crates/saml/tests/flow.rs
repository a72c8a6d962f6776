//! The browser-bound login flow (`fedkit_saml::flow`): SP-initiated logins finish only in
//! the browser that started them, once; IdP-initiated ones only when allowed; and refusals
//! render safely.
//!
//! The Responses are built here for the request each test starts and signed for real with
//! fedkit-xmldsig's signer and the test IdP key (`data/keys/idp.key.pem`, whose certificate
//! the validator pins), as in `profile.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use fedkit_saml::flow::{LoginCookie, LoginFlow, Outgoing, RequestBinding, StartError};
use fedkit_saml::render::{error_html, Detail};
use fedkit_saml::replay::StoreError;
use fedkit_saml::{
    CookieProblem, Error, IdentityProvider, InMemoryReplayCache, InMemoryRequestStore, RequestStore,
    ResponseValidator, ServiceProvider, Settings,
};
use fedkit_xmldsig::{SigningKey, TrustedKeys};

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const SSO: &str = "https://sso.jumpcloud.com/saml2/fedkit-test/sso";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const IDP_KEY: &str = include_str!("data/keys/idp.key.pem");
const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
}

/// 10:01:00, a minute after the Responses below are issued.
fn now() -> DateTime<Utc> {
    at(10, 1, 0)
}

fn validator(settings: Settings) -> ResponseValidator {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    ResponseValidator::with_settings(sp, idp, settings)
}

fn flow() -> LoginFlow {
    LoginFlow::new(validator(Settings::default()), SSO).unwrap()
}

fn idp_initiated_flow() -> LoginFlow {
    LoginFlow::new(validator(Settings::default().with_idp_initiated(true)), SSO).unwrap()
}

/// A Response from the IdP, issued at 10:00:00 and valid until 10:05:00, with a signed
/// assertion (`assertion_id`) answering `request` (`None`: IdP-initiated), as the posted
/// base64 form value. `issuer` is the Issuer of both the Response and the assertion.
fn response_from(issuer: &str, request: Option<&str>, assertion_id: &str) -> String {
    let in_response_to = request
        .map(|r| format!(r#" InResponseTo="{r}""#))
        .unwrap_or_default();
    let xml = format!(
        r#"<saml2p:Response xmlns:saml2p="{SAMLP}" xmlns:saml2="{SAML}" ID="_resp-{assertion_id}" Version="2.0" IssueInstant="2026-11-22T10:00:00Z" Destination="{ACS}"{in_response_to}><saml2:Issuer>{issuer}</saml2:Issuer><saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status><saml2:Assertion ID="{assertion_id}" Version="2.0" IssueInstant="2026-11-22T10:00:00Z"><saml2:Issuer>{issuer}</saml2:Issuer><saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane.doe@example.com</saml2:NameID><saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData{in_response_to} NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="{ACS}"/></saml2:SubjectConfirmation></saml2:Subject><saml2:Conditions NotBefore="2026-11-22T09:59:00Z" NotOnOrAfter="2026-11-22T10:05:00Z"><saml2:AudienceRestriction><saml2:Audience>{SP}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions><saml2:AuthnStatement AuthnInstant="2026-11-22T09:59:58Z" SessionIndex="_session-31d8"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement></saml2:Assertion></saml2p:Response>"#
    );
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let signed = fedkit_xmldsig::sign::sign_enveloped(
        &xml,
        assertion_id,
        Some((SAML, "Issuer")),
        &key,
        None,
        fedkit_xmldsig::crypto::default_provider(),
    )
    .unwrap();
    base64::engine::general_purpose::STANDARD.encode(signed)
}

fn response_to(request: Option<&str>, assertion_id: &str) -> String {
    response_from(IDP, request, assertion_id)
}

/// One browser's started login: the request ID and its cookie.
struct Browser {
    request: String,
    cookie: LoginCookie,
}

fn start(flow: &LoginFlow, store: &InMemoryRequestStore, seed: u8, relay_state: Option<&str>) -> Browser {
    let started = flow
        .start(
            relay_state,
            [seed; 20],
            [seed.wrapping_add(100); 32],
            at(10, 0, 0),
            store,
        )
        .unwrap();
    Browser {
        request: started.request_id().to_owned(),
        cookie: started.cookie().clone(),
    }
}

#[test]
fn sp_initiated_login_in_the_starting_browser_is_accepted() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let started = flow
        .start(Some("/dashboard?tab=2"), [1; 20], [2; 32], at(10, 0, 0), &store)
        .unwrap();
    let Outgoing::Redirect(location) = started.outgoing() else {
        panic!("{:?}", started.outgoing())
    };
    assert!(location.starts_with(&format!("{SSO}?SAMLRequest=")), "{location}");
    assert!(
        !location.contains("RelayState"),
        "the host's RelayState stays here: {location}"
    );
    assert_eq!(started.request_id(), format!("_{}", "01".repeat(20)));
    assert_eq!(store.is_outstanding(started.request_id(), now()), Ok(true));

    let cookie = started.cookie();
    assert_eq!(cookie.name(), "fedkit_saml_login");
    assert_eq!(
        cookie.value(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([2; 32])
    );
    assert_eq!(
        cookie.set_cookie_header(),
        format!(
            "fedkit_saml_login={}; Max-Age=600; Path=/saml/acs; HttpOnly; Secure; SameSite=None",
            cookie.value()
        )
    );
    assert_eq!(
        cookie.clear_header(),
        "fedkit_saml_login=; Max-Age=0; Path=/saml/acs; HttpOnly; Secure; SameSite=None"
    );
    assert_eq!(flow.clear_cookie_header(), cookie.clear_header());
    assert!(
        !format!("{cookie:?}").contains(cookie.value()),
        "Debug hides the value"
    );

    let post = response_to(Some(started.request_id()), "_a1");
    // The posted RelayState is not the host's: it is ignored for an SP-initiated login.
    let login = flow
        .finish(
            &post,
            Some("https://evil.example/"),
            Some(cookie.value()),
            now(),
            &store,
            &replay,
        )
        .unwrap();
    assert_eq!(login.assertion().name_id().value, "jane.doe@example.com");
    assert_eq!(login.assertion().in_response_to(), Some(started.request_id()));
    assert!(!login.is_idp_initiated());
    assert_eq!(login.relay_state(), Some("/dashboard?tab=2"));
    assert_eq!(login.unsolicited_relay_state(), None);
    assert_eq!(login.redirect_target(&[]), Some("/dashboard?tab=2"));
    assert_eq!(
        store.is_outstanding(started.request_id(), now()),
        Ok(false),
        "consumed"
    );
}

#[test]
fn response_with_another_logins_cookie_is_login_not_started_here() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    // The attacker starts a login in their browser and gets a Response for their account...
    let attacker = start(&flow, &store, 1, None);
    // ...the victim has a login of their own in progress...
    let victim = start(&flow, &store, 2, None);
    // ...and the attacker's Response is posted from the victim's browser.
    let post = response_to(Some(&attacker.request), "_a1");
    let err = flow
        .finish(&post, None, Some(victim.cookie.value()), now(), &store, &replay)
        .unwrap_err();
    assert_eq!(
        err,
        Error::LoginNotStartedHere {
            request: attacker.request.clone(),
            cookie: CookieProblem::OtherLogin
        }
    );
    assert_eq!(err.code(), "login_not_started_here");
    let text = err.to_string();
    assert!(text.contains("belongs to another login request"), "{text}");
    assert!(text.contains("login CSRF"), "{text}");
    assert!(text.contains("SameSite=None"), "{text}");
    // Nothing was spent: the request is outstanding and the assertion unused, so the
    // browser that started the login can still finish it.
    assert_eq!(store.is_outstanding(&attacker.request, now()), Ok(true));
    let login = flow
        .finish(&post, None, Some(attacker.cookie.value()), now(), &store, &replay)
        .unwrap();
    assert_eq!(
        login.assertion().in_response_to(),
        Some(attacker.request.as_str())
    );
}

#[test]
fn response_without_cookie_is_login_not_started_here() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(&flow, &store, 1, None);
    let post = response_to(Some(&browser.request), "_a1");
    for cookie in [None, Some(""), Some("   ")] {
        let err = flow
            .finish(&post, None, cookie, now(), &store, &replay)
            .unwrap_err();
        assert_eq!(
            err,
            Error::LoginNotStartedHere {
                request: browser.request.clone(),
                cookie: CookieProblem::Missing
            },
            "{cookie:?}"
        );
        assert!(err.to_string().contains("sent no login cookie"), "{err}");
    }
    assert!(replay.is_empty(), "a refused Response records no assertion ID");
}

#[test]
fn malformed_cookie_values_are_login_not_started_here_without_panic() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(&flow, &store, 1, None);
    let post = response_to(Some(&browser.request), "_a1");
    let real = browser.cookie.value();
    let long = "A".repeat(100_000);
    let standard_alphabet = base64::engine::general_purpose::STANDARD.encode([0xfb; 32]);
    let garbage = [
        &real[..real.len() - 1],  // one character short
        &format!("{real}A"),      // one character long
        &real[..16],              // far too short
        &format!("{real}{real}"), // two values
        &format!("{real}="),      // padded
        &standard_alphabet,       // '+' and '/' instead of '-' and '_'
        "%00%ff",                 // not base64
        "é漢字🙂",                // not ASCII
        "\u{0}",
        &long,
    ];
    for value in garbage {
        let err = flow
            .finish(&post, None, Some(value), now(), &store, &replay)
            .unwrap_err();
        assert_eq!(
            err,
            Error::LoginNotStartedHere {
                request: browser.request.clone(),
                cookie: CookieProblem::Malformed
            },
            "{value:?}"
        );
    }
    // A well-formed value that was never issued is another login's, as far as anyone knows.
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0; 32]);
    let err = flow
        .finish(&post, None, Some(&forged), now(), &store, &replay)
        .unwrap_err();
    assert_eq!(
        err,
        Error::LoginNotStartedHere {
            request: browser.request.clone(),
            cookie: CookieProblem::OtherLogin
        }
    );
    // Surrounding white space (a hand-written Cookie parser) is tolerated.
    flow.finish(&post, None, Some(&format!(" {real} ")), now(), &store, &replay)
        .unwrap();
}

#[test]
fn replay_after_success_is_replay() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(&flow, &store, 1, None);
    let post = response_to(Some(&browser.request), "_a1");
    flow.finish(&post, None, Some(browser.cookie.value()), now(), &store, &replay)
        .unwrap();
    // The same Response again: with the cookie, without it (the host cleared it), or from
    // another browser with a login of its own in progress.
    let other = start(&flow, &store, 2, None);
    for cookie in [Some(browser.cookie.value()), None, Some(other.cookie.value())] {
        let err = flow
            .finish(&post, None, cookie, at(10, 2, 0), &store, &replay)
            .unwrap_err();
        assert_eq!(err, Error::Replay { id: "_a1".into() }, "{cookie:?}");
        assert_eq!(err.code(), "replay");
    }
}

#[test]
fn replay_through_process_post_with_store_is_replay() {
    // The older call, for hosts that keep their own binding: a replayed Response was
    // reported as a Response to an unknown request.
    let v = validator(Settings::default());
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    store.remember("_req-1", at(10, 10, 0), at(10, 0, 0)).unwrap();
    let post = response_to(Some("_req-1"), "_a1");
    v.process_post_with_store(&post, &store, now(), &replay).unwrap();
    let err = v
        .process_post_with_store(&post, &store, now(), &replay)
        .unwrap_err();
    assert_eq!(err, Error::Replay { id: "_a1".into() });
    // With a replay cache that has not seen it (another node's, not shared), the request
    // store still refuses it.
    let err = v
        .process_post_with_store(&post, &store, now(), &InMemoryReplayCache::new(10))
        .unwrap_err();
    assert_eq!(err.code(), "request_not_outstanding");
}

#[test]
fn unknown_or_expired_request_is_request_not_outstanding() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(&flow, &store, 1, None);
    // A Response to a request this SP never started.
    let post = response_to(Some("_never-started"), "_a1");
    let err = flow
        .finish(&post, None, Some(browser.cookie.value()), now(), &store, &replay)
        .unwrap_err();
    assert_eq!(
        err,
        Error::RequestNotOutstanding {
            found: "_never-started".into()
        }
    );

    // A login that took longer than its lifetime.
    let quick = flow
        .clone()
        .with_login_lifetime(std::time::Duration::from_secs(60))
        .unwrap();
    let started = quick.start(None, [3; 20], [4; 32], at(9, 59, 0), &store).unwrap();
    assert_eq!(started.cookie().max_age(), 60);
    let post = response_to(Some(started.request_id()), "_a2");
    let err = quick
        .finish(
            &post,
            None,
            Some(started.cookie().value()),
            now(),
            &store,
            &replay,
        )
        .unwrap_err();
    assert_eq!(err.code(), "request_not_outstanding", "{err}");
}

#[test]
fn request_remembered_without_binding_is_login_not_started_here() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    store.remember("_req-1", at(10, 10, 0), at(10, 0, 0)).unwrap();
    let browser = start(&flow, &store, 1, None);
    let post = response_to(Some("_req-1"), "_a1");
    let err = flow
        .finish(&post, None, Some(browser.cookie.value()), now(), &store, &replay)
        .unwrap_err();
    assert_eq!(
        err,
        Error::LoginNotStartedHere {
            request: "_req-1".into(),
            cookie: CookieProblem::RequestNotBound
        }
    );
}

#[test]
fn idp_initiated_login_is_accepted_when_allowed_without_cookie() {
    let flow = idp_initiated_flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let origins = ["https://app.example.com"];

    let post = response_to(None, "_a1");
    let login = flow
        .finish(
            &post,
            Some("https://evil.example/phish"),
            None,
            now(),
            &store,
            &replay,
        )
        .unwrap();
    assert!(login.is_idp_initiated());
    assert_eq!(login.assertion().in_response_to(), None);
    assert_eq!(
        login.relay_state(),
        None,
        "only a host-chosen value is a RelayState"
    );
    assert_eq!(
        login.unsolicited_relay_state(),
        Some("https://evil.example/phish")
    );
    assert_eq!(login.redirect_target(&origins), None, "no open redirect");

    let post = response_to(None, "_a2");
    let login = flow
        .finish(&post, Some("/welcome"), None, now(), &store, &replay)
        .unwrap();
    assert_eq!(login.redirect_target(&origins), Some("/welcome"));

    // Replayed, it is refused like any other.
    let err = flow
        .finish(&post, Some("/welcome"), None, now(), &store, &replay)
        .unwrap_err();
    assert_eq!(err.code(), "replay");
}

#[test]
fn idp_initiated_login_is_refused_unless_allowed() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(&flow, &store, 1, None);
    let post = response_to(None, "_a1");
    // A cookie does not make an unsolicited Response solicited.
    let err = flow
        .finish(
            &post,
            Some("/welcome"),
            Some(browser.cookie.value()),
            now(),
            &store,
            &replay,
        )
        .unwrap_err();
    assert_eq!(err, Error::Unsolicited);
    assert!(replay.is_empty());
}

#[test]
fn post_binding_and_cookie_settings() {
    let store = InMemoryRequestStore::new(10);
    let flow = flow()
        .with_request_binding(RequestBinding::Post)
        .with_cookie_name("__Host-sso")
        .unwrap();
    let started = flow.start(None, [1; 20], [2; 32], at(10, 0, 0), &store).unwrap();
    let Outgoing::PostForm(html) = started.outgoing() else {
        panic!("{:?}", started.outgoing())
    };
    assert!(html.contains(&format!("action=\"{SSO}\"")), "{html}");
    assert!(html.contains("name=\"SAMLRequest\""), "{html}");
    // `__Host-` cookies must have Path=/.
    assert!(started.cookie().set_cookie_header().starts_with("__Host-sso="));
    assert_eq!(started.cookie().path(), "/");

    for bad in ["", "a b", "a;b", "a=b", "é"] {
        let err = LoginFlow::new(validator(Settings::default()), SSO)
            .unwrap()
            .with_cookie_name(bad)
            .unwrap_err();
        assert_eq!(err.code(), "setting_invalid", "{bad:?}");
    }
    for lifetime in [0, 3601] {
        let err = flow
            .clone()
            .with_login_lifetime(std::time::Duration::from_secs(lifetime))
            .unwrap_err();
        assert_eq!(err.code(), "setting_out_of_range");
    }
    for url in [
        "",
        "/sso",
        "https://",
        "ftp://idp.example/sso",
        "https://idp.example/a b",
    ] {
        let err = LoginFlow::new(validator(Settings::default()), url).unwrap_err();
        assert_eq!(err.code(), "bad_url", "{url:?}");
    }
}

/// A store written before the flow existed: only the required methods.
struct OldStore;

impl RequestStore for OldStore {
    fn remember(&self, _: &str, _: DateTime<Utc>, _: DateTime<Utc>) -> Result<(), StoreError> {
        Ok(())
    }
    fn is_outstanding(&self, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(true)
    }
    fn consume(&self, _: &str, _: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(true)
    }
}

#[test]
fn a_store_without_login_support_refuses_to_start() {
    let err = flow()
        .start(None, [1; 20], [2; 32], at(10, 0, 0), &OldStore)
        .unwrap_err();
    assert!(
        matches!(err, StartError::RequestStoreUnavailable { .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "request_store_unavailable");
    assert!(err.to_string().contains("remember_login"), "{err}");
    // And it never accepts a Response as bound.
    let post = response_to(Some("_req-1"), "_a1");
    let err = flow()
        .finish(&post, None, None, now(), &OldStore, &InMemoryReplayCache::new(10))
        .unwrap_err();
    assert_eq!(err.code(), "request_store_unavailable");
}

#[test]
fn a_full_store_refuses_to_start() {
    let store = InMemoryRequestStore::new(1);
    let flow = flow();
    start(&flow, &store, 1, None);
    let err = flow
        .start(None, [2; 20], [3; 32], at(10, 0, 0), &store)
        .unwrap_err();
    assert_eq!(err, StartError::RequestStoreFull { capacity: 1 });
    assert_eq!(err.user_message(), fedkit_saml::render::TRY_AGAIN_LATER);
}

#[test]
fn script_in_an_issuer_is_escaped_when_rendered() {
    let flow = flow();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(&flow, &store, 1, None);
    // The Issuer as the Response carries it, XML-escaped: `<script>alert("x")</script>`.
    let issuer = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
    let post = response_from(issuer, Some(&browser.request), "_a1");
    let err = flow
        .finish(&post, None, Some(browser.cookie.value()), now(), &store, &replay)
        .unwrap_err();
    assert_eq!(err.code(), "issuer_mismatch");
    assert!(
        err.to_string().contains("<script>"),
        "the admin message quotes it: {err}"
    );
    assert_eq!(err.user_message(), fedkit_saml::render::ASK_ADMIN);

    let admin = error_html(&err, Detail::Admin);
    assert!(!admin.contains("<script>"), "{admin}");
    assert!(admin.contains("&lt;script&gt;alert("), "{admin}");
    assert!(admin.contains("data-code=\"issuer_mismatch\""), "{admin}");
    let user = error_html(&err, Detail::EndUser);
    assert!(!user.contains("script"), "{user}");
    assert!(user.contains(fedkit_saml::render::ASK_ADMIN), "{user}");
}

#[test]
fn every_flow_refusal_has_a_user_message_quoting_nothing() {
    use fedkit_saml::render::{NOT_STARTED_HERE, START_AGAIN};
    let not_here = Error::LoginNotStartedHere {
        request: "<i>".into(),
        cookie: CookieProblem::Missing,
    };
    assert_eq!(not_here.user_message(), NOT_STARTED_HERE);
    assert_eq!(Error::Replay { id: "<i>".into() }.user_message(), START_AGAIN);
    assert_eq!(
        Error::RequestNotOutstanding { found: "<i>".into() }.user_message(),
        START_AGAIN
    );
    for message in [NOT_STARTED_HERE, START_AGAIN, fedkit_saml::render::ASK_ADMIN] {
        assert!(!message.contains('<') && !message.contains('&'), "{message}");
    }
}

#[test]
fn one_call_setup_gives_a_working_flow() {
    use fedkit_saml::setup::SsoSetup;
    let sso = SsoSetup::from_pasted(IDP, SSO, &[IDP_CERT], SP, ACS).unwrap();
    let store = InMemoryRequestStore::new(10);
    let replay = InMemoryReplayCache::new(10);
    let browser = start(sso.flow(), &store, 1, Some("/home"));
    let post = response_to(Some(&browser.request), "_a1");
    let login = sso
        .flow()
        .finish(&post, None, Some(browser.cookie.value()), now(), &store, &replay)
        .unwrap();
    assert_eq!(login.relay_state(), Some("/home"));
    assert!(sso.sp_metadata_xml().contains(ACS));

    // Settings reach the flow's validator: IdP-initiated logins allowed.
    let unsolicited = response_to(None, "_a2");
    let refused = sso
        .flow()
        .finish(&unsolicited, None, None, now(), &store, &replay)
        .unwrap_err();
    assert_eq!(refused.code(), "unsolicited");
    let sso = sso.with_settings(Settings::default().with_idp_initiated(true));
    assert!(sso.flow().validator().settings().allows_idp_initiated());
    sso.flow()
        .finish(&unsolicited, None, None, now(), &store, &replay)
        .unwrap();

    // What cannot be set up says which value is wrong.
    let err = SsoSetup::from_pasted(IDP, "/sso", &[IDP_CERT], SP, ACS).unwrap_err();
    assert_eq!(err.code(), "bad_url");
    let err = SsoSetup::from_pasted(IDP, SSO, &["not a certificate"], SP, ACS).unwrap_err();
    assert_eq!(err.code(), "bad_certificate");
    let err = SsoSetup::from_pasted(IDP, SSO, &[IDP_CERT], SP, "/acs").unwrap_err();
    assert_eq!(err.code(), "bad_url");
    let options = fedkit_saml::fedkit_metadata::ImportSettings::new(
        fedkit_saml::fedkit_metadata::SignaturePolicy::NotRequired,
    );
    let err = SsoSetup::from_idp_metadata(b"<not-metadata/>", &options, SP, ACS, now()).unwrap_err();
    assert!(
        matches!(err, fedkit_saml::setup::SetupError::Metadata(_)),
        "{err:?}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Whatever the browser sends as the login cookie, a Response to another login is a
    /// typed refusal (never a panic, never an acceptance).
    #[test]
    fn any_cookie_value_but_the_issued_one_is_refused(value in "\\PC{0,80}", raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
        let flow = flow();
        let store = InMemoryRequestStore::new(10);
        let replay = InMemoryReplayCache::new(10);
        let browser = start(&flow, &store, 1, None);
        let post = response_to(Some(&browser.request), "_a1");
        let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
        for cookie in [value.as_str(), encoded.as_str()] {
            proptest::prop_assume!(cookie.trim() != browser.cookie.value());
            let err = flow.finish(&post, None, Some(cookie), now(), &store, &replay).unwrap_err();
            proptest::prop_assert_eq!(err.code(), "login_not_started_here");
        }
        proptest::prop_assert_eq!(store.is_outstanding(&browser.request, now()), Ok(true));
    }
}
