//! fedkit-saml against Responses signed by the xmlsec1 CLI (`tests/data/generate.sh`), and
//! attacks derived from them at run time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use fedkit_saml::{
    Error, IdentityProvider, InMemoryReplayCache, LoginWarning, RelayState, ResponseValidator,
    ServiceProvider, Settings, SignedPart, SigningRequirement,
};
use fedkit_xmldsig::crypto::all_providers;
#[cfg(feature = "rust-crypto")]
use fedkit_xmldsig::xmlenc::ContentAlgorithm;
use fedkit_xmldsig::{AlgorithmPolicy, ParseError, TrustedKeys, VerifyError};

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const REQUEST: &str = "_req-7f3a";
const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const OTHER_CERT: &str = include_str!("data/keys/other.crt.pem");

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/data/signed/{name}.xml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e} (run tests/data/generate.sh)"))
}

fn fixture_raw(name: &str) -> String {
    let path = format!("{}/tests/data/signed/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
}

/// 10:01:00, a minute after the fixtures were issued.
fn now() -> DateTime<Utc> {
    at(10, 1, 0)
}

fn validator_with(settings: Settings) -> ResponseValidator {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    ResponseValidator::with_settings(sp, idp, settings)
}

fn validator() -> ResponseValidator {
    validator_with(Settings::default())
}

/// Runs `xml` through a fresh replay cache, with every crypto provider; all must agree.
fn process_with(
    v: &ResponseValidator,
    xml: &str,
    request: Option<&str>,
    now: DateTime<Utc>,
) -> Result<fedkit_saml::VerifiedAssertion, Error> {
    let mut results = all_providers().into_iter().map(|p| {
        let v = v.clone().with_provider(p);
        v.process_xml(xml.as_bytes(), request, now, &InMemoryReplayCache::new(10))
    });
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(
            other.as_ref().map(same_login),
            first.as_ref().map(same_login),
            "providers disagree"
        );
    }
    first
}

/// What every provider must agree on: the whole login, except which operations a provider
/// delegated (`crypto_delegated` warnings are each provider's own).
fn same_login(a: &fedkit_saml::VerifiedAssertion) -> String {
    let warnings: Vec<&LoginWarning> = a
        .warnings()
        .iter()
        .filter(|w| w.code() != "crypto_delegated")
        .collect();
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?} {} {:?}",
        a.id(),
        a.issuer(),
        a.name_id(),
        a.attributes(),
        a.authn(),
        a.not_before(),
        a.not_on_or_after(),
        a.audiences(),
        a.in_response_to(),
        a.one_time_use(),
        a.signed(),
        a.signing_key(),
        warnings
    )
}

fn process(xml: &str) -> Result<fedkit_saml::VerifiedAssertion, Error> {
    process_with(&validator(), xml, Some(REQUEST), now())
}

fn refused(xml: &str) -> Error {
    process(xml).expect_err("must be refused")
}

// ---------------------------------------------------------------------------------------
// Accepted responses.

#[test]
fn jumpcloud_shaped_responses_are_accepted_whichever_element_is_signed() {
    for (name, signed) in [
        ("assertion-signed", vec![SignedPart::Assertion]),
        ("response-signed", vec![SignedPart::Response]),
        ("both-signed", vec![SignedPart::Response, SignedPart::Assertion]),
    ] {
        let a = process(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.signed(), signed.as_slice(), "{name}");
        assert_eq!(a.id(), "_assert-9b41");
        assert_eq!(a.issuer(), IDP);
        assert_eq!(a.name_id().value, "jane.doe@example.com");
        assert_eq!(
            a.name_id().format.as_deref(),
            Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        );
        assert_eq!(a.first_value("email"), Some("jane.doe@example.com"));
        assert_eq!(a.first_value("firstName"), Some("Jane"));
        assert_eq!(a.first_value("lastName"), Some("Doe"));
        assert_eq!(
            a.attribute("groups").unwrap(),
            ["Engineering", "SSO Admins & Auditors"],
            "by FriendlyName"
        );
        assert_eq!(a.attribute("memberOf"), a.attribute("groups"));
        assert_eq!(a.session_index(), Some("_session-31d8"));
        let authn = a.authn();
        assert_eq!(authn.instant, at(9, 59, 58));
        assert_eq!(
            authn.context_class.as_deref(),
            Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
        );
        assert_eq!(a.not_before(), Some(at(9, 59, 0)));
        assert_eq!(a.not_on_or_after(), Some(at(10, 5, 0)));
        assert_eq!(a.in_response_to(), Some(REQUEST));
        assert!(!a.one_time_use());
        let pinned = TrustedKeys::from_pem(IDP_CERT).unwrap().fingerprints()[0];
        assert_eq!(a.signing_key(), pinned);
    }
}

#[test]
fn post_binding_value_is_decoded_with_line_breaks() {
    let encoded = base64::engine::general_purpose::STANDARD.encode(fixture("assertion-signed"));
    let wrapped: String = encoded
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let cache = InMemoryReplayCache::new(10);
    let a = validator()
        .process_post(&wrapped, Some(REQUEST), now(), &cache)
        .unwrap();
    assert_eq!(a.name_id().value, "jane.doe@example.com");

    let err = validator()
        .process_post("PHNhbWxwOlJlc3BvbnNl$$$", Some(REQUEST), now(), &cache)
        .unwrap_err();
    assert_eq!(err.code(), "bad_base64");

    let small = validator_with(Settings::default().with_max_message_bytes(1024));
    let err = small
        .process_post(&encoded, Some(REQUEST), now(), &cache)
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { max: 1024, .. }), "{err:?}");
}

#[test]
fn one_time_use_is_reported() {
    assert!(process(&fixture("one-time-use")).unwrap().one_time_use());
}

// ---------------------------------------------------------------------------------------
// Signing requirements.

#[test]
fn unsigned_responses_are_refused() {
    assert_eq!(
        refused(&fixture("unsigned")),
        Error::Unsigned {
            required: SigningRequirement::Either,
            response_signed: false,
            assertion_signed: false
        }
    );
}

#[test]
fn signing_requirements_are_enforced() {
    let cases = [
        (
            SigningRequirement::Assertion,
            "response-signed",
            Some((true, false)),
        ),
        (SigningRequirement::Assertion, "assertion-signed", None),
        (
            SigningRequirement::Response,
            "assertion-signed",
            Some((false, true)),
        ),
        (SigningRequirement::Response, "response-signed", None),
        (SigningRequirement::Both, "assertion-signed", Some((false, true))),
        (SigningRequirement::Both, "response-signed", Some((true, false))),
        (SigningRequirement::Both, "both-signed", None),
    ];
    for (required, name, refusal) in cases {
        let v = validator_with(Settings::default().with_signing(required));
        let result = process_with(&v, &fixture(name), Some(REQUEST), now());
        match refusal {
            None => assert!(result.is_ok(), "{required:?} {name}: {result:?}"),
            Some((response_signed, assertion_signed)) => {
                let err = result.unwrap_err();
                assert_eq!(
                    err,
                    Error::Unsigned {
                        required,
                        response_signed,
                        assertion_signed
                    },
                    "{required:?} {name}"
                );
                assert!(err.to_string().contains("Sign Assertion"), "{err}");
            }
        }
    }
}

#[test]
fn sha1_needs_the_opt_in() {
    let err = refused(&fixture("sha1"));
    assert!(
        matches!(
            &err,
            Error::Signature {
                part: SignedPart::Assertion,
                source: VerifyError::AlgorithmRefused { .. }
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "algorithm_refused");
    let v = validator_with(
        Settings::default().with_algorithms(AlgorithmPolicy::default().dangerous_allow_sha1()),
    );
    assert!(process_with(&v, &fixture("sha1"), Some(REQUEST), now()).is_ok());
}

#[test]
fn signature_by_an_unpinned_key_names_both_fingerprints() {
    let err = refused(&fixture("other-key"));
    assert_eq!(err.code(), "signature_invalid");
    let (keyinfo, pinned) = err.fingerprints().unwrap();
    let other = TrustedKeys::from_pem(OTHER_CERT).unwrap().fingerprints()[0];
    let ours = TrustedKeys::from_pem(IDP_CERT).unwrap().fingerprints()[0];
    assert_eq!(keyinfo, Some(other));
    assert_eq!(pinned, ours.to_string());
    let message = err.to_string();
    assert!(
        message.contains(&other.to_string()) && message.contains(&ours.to_string()),
        "{message}"
    );
    // Pinning the other certificate too (a rotation) accepts it.
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let both = TrustedKeys::from_pem(&format!("{IDP_CERT}{OTHER_CERT}")).unwrap();
    let v = ResponseValidator::new(sp, IdentityProvider::new(IDP, both).unwrap());
    assert!(process_with(&v, &fixture("other-key"), Some(REQUEST), now()).is_ok());
}

// ---------------------------------------------------------------------------------------
// Protocol checks, each on a fixture signed with the wrong value.

#[test]
fn audience_must_name_this_sp() {
    let err = refused(&fixture("wrong-audience"));
    assert_eq!(
        err,
        Error::Audience {
            expected: SP.into(),
            found: vec!["https://other-app.example.com/saml/metadata".into()]
        }
    );
    assert!(err.to_string().contains("SP Entity ID"));
}

#[test]
fn recipient_must_be_the_acs_url() {
    let err = refused(&fixture("wrong-recipient"));
    let Error::SubjectConfirmation { reasons } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reasons[0].contains("https://other-app.example.com/saml/acs"),
        "{reasons:?}"
    );
    assert!(reasons[0].contains(ACS));
}

#[test]
fn destination_must_be_the_acs_url_and_present_on_signed_responses() {
    assert_eq!(
        refused(&fixture("wrong-destination")),
        Error::Destination {
            expected: vec![ACS.into()],
            found: Some("https://other-app.example.com/saml/acs".into())
        }
    );
    assert_eq!(
        refused(&fixture("signed-response-without-destination")),
        Error::Destination {
            expected: vec![ACS.into()],
            found: None
        }
    );
}

#[test]
fn issuer_must_be_the_idp() {
    assert_eq!(
        refused(&fixture("wrong-issuer")),
        Error::Issuer {
            part: SignedPart::Response,
            expected: IDP.into(),
            found: Some("https://evil.example.com/idp".into())
        }
    );
    // Without the Response Issuer (it is optional), the Assertion's is checked.
    let xml = fixture("wrong-issuer").replacen(
        "<saml2:Issuer xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\">https://evil.example.com/idp</saml2:Issuer>",
        "",
        1,
    );
    assert_eq!(
        refused(&xml),
        Error::Issuer {
            part: SignedPart::Assertion,
            expected: IDP.into(),
            found: Some("https://evil.example.com/idp".into())
        }
    );
}

#[test]
fn in_response_to_must_match_the_request() {
    let xml = fixture("wrong-in-response-to");
    assert_eq!(
        refused(&xml),
        Error::InResponseTo {
            expected: Some(REQUEST.into()),
            found: Some("_req-other".into())
        }
    );
    // A solicited response arriving where no request is pending.
    assert_eq!(
        process_with(&validator(), &fixture("assertion-signed"), None, now()).unwrap_err(),
        Error::InResponseTo {
            expected: None,
            found: Some(REQUEST.into())
        }
    );
}

#[test]
fn idp_initiated_logins_need_the_opt_in() {
    let xml = fixture("idp-initiated");
    assert_eq!(
        process_with(&validator(), &xml, None, now()).unwrap_err(),
        Error::Unsolicited
    );
    assert_eq!(refused(&xml), Error::Unsolicited);
    let v = validator_with(Settings::default().with_idp_initiated(true));
    let a = process_with(&v, &xml, None, now()).unwrap();
    assert_eq!(a.in_response_to(), None);
}

#[test]
fn failed_status_is_reported_with_the_idp_message() {
    let err = refused(&fixture("status-authn-failed"));
    assert_eq!(
        err,
        Error::Status {
            status: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
            second_level: Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed".into()),
            message: Some("User is not assigned to this application".into())
        }
    );
    assert!(err.to_string().contains("User is not assigned"));
}

#[test]
fn time_windows_apply_the_clock_skew() {
    let xml = fixture("assertion-signed");
    // A message lifetime long enough that only the Conditions decide here (the message age
    // has tests of its own in tests/profile.rs).
    let v = validator_with(
        Settings::default()
            .with_message_lifetime(std::time::Duration::from_secs(3600))
            .unwrap(),
    );
    // IssueInstant 10:00:00, NotBefore 09:59:00 and NotOnOrAfter 10:05:00, with 120 s of
    // skew. Before 09:58:00 the IdP's clock is ahead by more than the skew: the IssueInstant
    // refuses the Response before the NotBefore would (NotBefore alone: tests/profile.rs).
    assert!(process_with(&v, &xml, Some(REQUEST), at(9, 58, 0)).is_ok());
    let err = process_with(&v, &xml, Some(REQUEST), at(9, 57, 59)).unwrap_err();
    assert_eq!(
        err,
        Error::IssuedInTheFuture {
            part: SignedPart::Response,
            issue_instant: at(10, 0, 0),
            now: at(9, 57, 59),
            skew_seconds: 120
        }
    );
    assert!(err.to_string().contains("2026-11-22T10:00:00Z"), "{err}");
    assert!(process_with(&v, &xml, Some(REQUEST), at(10, 6, 59)).is_ok());
    let err = process_with(&v, &xml, Some(REQUEST), at(10, 7, 0)).unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err:?}");
    // No skew: the exact bounds.
    let strict = validator_with(
        Settings::default()
            .with_clock_skew(std::time::Duration::from_secs(0))
            .unwrap()
            .with_message_lifetime(std::time::Duration::from_secs(3600))
            .unwrap(),
    );
    assert_eq!(
        process_with(&strict, &xml, Some(REQUEST), at(9, 59, 59))
            .unwrap_err()
            .code(),
        "issued_in_the_future"
    );
    assert!(process_with(&strict, &xml, Some(REQUEST), at(10, 0, 0)).is_ok());
    assert_eq!(
        process_with(&strict, &xml, Some(REQUEST), at(10, 5, 0))
            .unwrap_err()
            .code(),
        "expired"
    );
}

#[test]
fn subject_confirmation_expiry_is_checked() {
    // SubjectConfirmationData NotOnOrAfter 10:00:30, Conditions until 10:05.
    let xml = fixture("expired-confirmation");
    assert!(process_with(&validator(), &xml, Some(REQUEST), at(10, 2, 29)).is_ok());
    let err = process_with(&validator(), &xml, Some(REQUEST), at(10, 2, 30)).unwrap_err();
    let Error::SubjectConfirmation { reasons } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reasons[0].contains("expired at 2026-11-22T10:00:30Z"),
        "{reasons:?}"
    );
}

#[test]
fn replayed_assertions_are_refused() {
    let v = validator();
    let cache = InMemoryReplayCache::new(10);
    let xml = fixture("both-signed");
    v.process_xml(xml.as_bytes(), Some(REQUEST), now(), &cache)
        .unwrap();
    assert_eq!(
        v.process_xml(xml.as_bytes(), Some(REQUEST), at(10, 4, 0), &cache),
        Err(Error::Replay {
            id: "_assert-9b41".into()
        })
    );
    // A refused login does not consume the ID.
    let cache = InMemoryReplayCache::new(10);
    assert!(v.process_xml(xml.as_bytes(), None, now(), &cache).is_err());
    assert!(cache.is_empty());
}

#[test]
fn certificate_validity_is_a_warning_unless_enforced() {
    use fedkit_saml::LoginWarning;
    // idp.crt.pem starts after the fixtures' clock; idp-2020.crt.pem is the same key in a
    // certificate valid 2020..2099.
    let xml = fixture("both-signed");
    let a = process(&xml).unwrap();
    let pinned = TrustedKeys::from_pem(IDP_CERT).unwrap();
    let cert = pinned.keys()[0].certificate().unwrap();
    let not_before = DateTime::from_timestamp(cert.not_before, 0).unwrap();
    assert!(
        not_before > now(),
        "fixture key must start after the fixtures' clock"
    );
    assert_eq!(
        a.warnings(),
        &[LoginWarning::CertificateOutsideValidity {
            fingerprint: a.signing_key(),
            not_before,
            not_after: DateTime::from_timestamp(cert.not_after, 0).unwrap(),
        }]
    );
    assert!(a.warnings()[0]
        .to_string()
        .contains("pin the IdP's new certificate"));

    let enforcing = validator_with(Settings::default().with_certificate_validity_enforced(true));
    let err = process_with(&enforcing, &xml, Some(REQUEST), now()).unwrap_err();
    assert_eq!(err.code(), "certificate_outside_validity");
    assert!(err.to_string().contains("2026-11-22T10:01:00Z"), "{err}");

    // The same key in a certificate valid now: no warning, and enforcement accepts it.
    let dated = include_str!("data/keys/idp-2020.crt.pem");
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(dated).unwrap()).unwrap();
    let settings = Settings::default().with_certificate_validity_enforced(true);
    let v = ResponseValidator::with_settings(sp, idp, settings);
    let a = process_with(&v, &xml, Some(REQUEST), now()).unwrap();
    assert!(a.warnings().is_empty(), "{:?}", a.warnings());
}

#[test]
fn pasted_certificates_configure_an_idp() {
    use fedkit_saml::ConfigError;
    // Without BEGIN/END lines, CRLF, indentation: as pasted from a console.
    let body: String = IDP_CERT
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| format!("   {l}\r\n"))
        .collect();
    let idp = IdentityProvider::from_pasted(IDP, &[&body, OTHER_CERT]).unwrap();
    assert_eq!(idp.signing_keys().keys().len(), 2);
    let v = ResponseValidator::new(ServiceProvider::new(SP, [ACS]).unwrap(), idp);
    assert!(process_with(&v, &fixture("both-signed"), Some(REQUEST), now()).is_ok());

    // A truncated paste names which certificate is wrong.
    let truncated = &body[..body.len() / 2];
    let err = IdentityProvider::from_pasted(IDP, &[OTHER_CERT, truncated]).unwrap_err();
    assert!(
        matches!(err, ConfigError::Certificate { index: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("certificate 2: "), "{err}");
    // Nothing pasted is no IdP at all: never fail open.
    assert!(IdentityProvider::from_pasted(IDP, &[]).is_err());
    assert!(IdentityProvider::from_pasted(IDP, &["  \r\n"]).is_err());
}

#[test]
fn a_request_store_answers_each_request_once() {
    use fedkit_saml::{InMemoryRequestStore, RequestStore};
    let v = validator();
    let store = InMemoryRequestStore::new(4);
    let expires = at(10, 10, 0);
    store.remember(REQUEST, expires, at(10, 0, 0)).unwrap();
    let post = base64::engine::general_purpose::STANDARD.encode(fixture("both-signed"));
    let a = v
        .process_post_with_store(&post, &store, now(), &InMemoryReplayCache::new(10))
        .unwrap();
    assert_eq!(a.in_response_to(), Some(REQUEST));
    assert_eq!(
        store.is_outstanding(REQUEST, now()),
        Ok(false),
        "consumed by the accepted login"
    );

    // A second Response to the same request (here: a fresh replay cache, as on another node
    // with its own cache) finds no outstanding request.
    let err = v
        .process_post_with_store(&post, &store, now(), &InMemoryReplayCache::new(10))
        .unwrap_err();
    assert_eq!(
        err,
        Error::RequestNotOutstanding {
            found: REQUEST.into()
        }
    );

    // A refused Response does not consume the request.
    store.remember(REQUEST, expires, now()).unwrap();
    let bad = fixture("both-signed").replace(ACS, "https://evil.example/acs");
    assert!(v
        .process_xml_with_store(bad.as_bytes(), &store, now(), &InMemoryReplayCache::new(10))
        .is_err());
    assert_eq!(store.is_outstanding(REQUEST, now()), Ok(true));
    // Expired requests are not outstanding, and consuming one reports it.
    assert_eq!(store.is_outstanding(REQUEST, expires), Ok(false));
    assert_eq!(store.consume(REQUEST, expires), Ok(false));

    // A full store refuses new requests instead of forgetting outstanding ones, and makes
    // room from expired ones.
    let store = InMemoryRequestStore::new(2);
    store.remember("a", at(10, 5, 0), now()).unwrap();
    store.remember("b", at(10, 9, 0), now()).unwrap();
    assert_eq!(
        store.remember("c", at(10, 9, 0), now()).unwrap_err(),
        fedkit_saml::replay::StoreError::Full { capacity: 2 }
    );
    store.remember("c", at(10, 20, 0), at(10, 6, 0)).unwrap();
    assert_eq!(store.is_outstanding("a", at(10, 6, 0)), Ok(false));
    assert_eq!(store.is_outstanding("b", at(10, 6, 0)), Ok(true));
    assert_eq!(store.is_outstanding("c", at(10, 6, 0)), Ok(true));
}

// ---------------------------------------------------------------------------------------
// Attacks, derived from valid fixtures at run time.

const EVIL_ASSERTION_ID: &str = "_evil-assertion";

/// The signed fixture's assertion, re-labelled and re-addressed to the attacker, with its own
/// signature removed.
fn evil_assertion(xml: &str) -> String {
    let start = xml.find("<saml2:Assertion ").unwrap();
    let end = xml.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len();
    let mut evil = xml[start..end]
        .replace("_assert-9b41", EVIL_ASSERTION_ID)
        .replace("jane.doe@example.com", "admin@example.com");
    if let (Some(s), Some(e)) = (evil.find("<ds:Signature"), evil.find("</ds:Signature>")) {
        evil.replace_range(s..e + "</ds:Signature>".len(), "");
    }
    evil
}

fn signed_assertion(xml: &str) -> (usize, usize) {
    let start = xml.find("<saml2:Assertion ").unwrap();
    let end = xml.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len();
    (start, end)
}

#[test]
fn signature_wrapping_shapes_are_refused() {
    for base in ["assertion-signed", "response-signed", "both-signed"] {
        let xml = fixture(base);
        let evil = evil_assertion(&xml);
        let (start, end) = signed_assertion(&xml);
        let original = &xml[start..end];
        let mut shapes: Vec<(&str, String)> = Vec::new();
        // XSW: an evil assertion before or after the signed one.
        shapes.push((
            "evil before signed",
            format!("{}{evil}{}", &xml[..start], &xml[start..]),
        ));
        shapes.push((
            "evil after signed",
            format!("{}{evil}{}", &xml[..end], &xml[end..]),
        ));
        // The signed assertion moved into Extensions, the evil one in its place.
        shapes.push((
            "signed in Extensions",
            format!(
                "{}{evil}{}",
                xml[..start].replacen(
                    "<saml2p:Status>",
                    &format!("<saml2p:Extensions>{original}</saml2p:Extensions><saml2p:Status>"),
                    1
                ),
                &xml[end..]
            ),
        ));
        // The signed assertion moved into the evil assertion's Advice: the only counted
        // assertion is the evil, unsigned one.
        let evil_with_advice = evil.replacen(
            "<saml2:AttributeStatement>",
            &format!("<saml2:Advice>{original}</saml2:Advice><saml2:AttributeStatement>"),
            1,
        );
        shapes.push((
            "signed in evil's Advice",
            format!("{}{evil_with_advice}{}", &xml[..start], &xml[end..]),
        ));
        // The signed assertion inside the evil one's Subject (not Advice): two assertions.
        let evil_with_nested = evil.replacen("<saml2:Subject>", &format!("<saml2:Subject>{original}"), 1);
        shapes.push((
            "signed nested in evil",
            format!("{}{evil_with_nested}{}", &xml[..start], &xml[end..]),
        ));
        // An evil assertion carrying the signed one's ID, the original kept elsewhere.
        let evil_same_id = evil.replace(EVIL_ASSERTION_ID, "_assert-9b41");
        shapes.push((
            "evil with the signed ID",
            format!("{}{evil_same_id}{}", &xml[..end], &xml[end..]),
        ));
        // XSW7/XSW8 (Somorovsky et al., "On Breaking SAML"): the evil assertion carries a
        // ds:Signature — the original one when the assertion was signed — whose ds:Object
        // holds the original assertion (with and without its own signature).
        let original_sig = original
            .find("<ds:Signature")
            .map(|s| &original[s..original.find("</ds:Signature>").unwrap() + "</ds:Signature>".len()]);
        let original_unsigned = match original_sig {
            Some(sig) => original.replacen(sig, "", 1),
            None => original.to_owned(),
        };
        for (label, inside) in [
            ("signed", original.to_owned()),
            ("signature-less", original_unsigned),
        ] {
            let signature = match original_sig {
                Some(sig) => sig.replacen("</ds:Signature>", &format!("<ds:Object>{inside}</ds:Object></ds:Signature>"), 1),
                None => format!(
                    "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:Object>{inside}</ds:Object></ds:Signature>"
                ),
            };
            let evil_with_object =
                evil.replacen("</saml2:Issuer>", &format!("</saml2:Issuer>{signature}"), 1);
            shapes.push((
                if label == "signed" {
                    "signed in evil's Signature Object"
                } else {
                    "original (unsigned) in evil's Signature Object"
                },
                format!("{}{evil_with_object}{}", &xml[..start], &xml[end..]),
            ));
        }
        // The evil assertion placed inside the signed one (in its Advice), as if nested
        // content could be read instead of the signed assertion's own Subject.
        let signed_with_evil_advice = original.replacen(
            "<saml2:AttributeStatement>",
            &format!("<saml2:Advice>{evil}</saml2:Advice><saml2:AttributeStatement>"),
            1,
        );
        shapes.push((
            "evil in the signed assertion's Advice",
            format!("{}{signed_with_evil_advice}{}", &xml[..start], &xml[end..]),
        ));
        // The signed assertion replaced by the evil one.
        shapes.push((
            "evil replaces signed",
            format!("{}{evil}{}", &xml[..start], &xml[end..]),
        ));
        for (what, attack) in shapes {
            let result = process(&attack);
            let err = result.expect_err(&format!("{base}: {what} accepted"));
            assert!(
                matches!(
                    err,
                    Error::AssertionCount { .. }
                        | Error::Unsigned { .. }
                        | Error::Signature { .. }
                        | Error::Malformed { .. }
                        | Error::Xml(_)
                ),
                "{base}: {what}: {err:?}"
            );
            // Whatever the error, the attacker's identity never comes out.
            assert!(
                !format!("{err:?}").contains("admin@example.com"),
                "{base}: {what}"
            );
        }
    }
}

#[test]
fn wrapping_the_signed_response_inside_an_evil_one_is_refused() {
    // XSW on the Response signature: a new, unsigned root Response carries the evil assertion
    // and hides the original signed Response in its Extensions.
    let xml = fixture("response-signed");
    let body_start = xml.find("<saml2p:Response ").unwrap();
    let original = &xml[body_start..];
    let evil = evil_assertion(&xml);
    let (start, _) = signed_assertion(&xml);
    let head = xml[body_start..start].replace("_resp-5c2e", "_evil-response");
    let sig_start = head.find("<ds:Signature").unwrap();
    let sig_end = head.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let head = format!("{}{}", &head[..sig_start], &head[sig_end..]).replacen(
        "<saml2p:Status>",
        &format!("<saml2p:Extensions>{original}</saml2p:Extensions><saml2p:Status>"),
        1,
    );
    let attack = format!("{head}{evil}</saml2p:Response>");
    let err = refused(&attack);
    assert!(matches!(err, Error::AssertionCount { found: 2 }), "{err:?}");
}

#[test]
fn duplicate_ids_are_refused() {
    let xml = fixture("assertion-signed").replacen(
        "<saml2p:Status>",
        "<saml2p:Extensions><x xmlns=\"urn:x\" ID=\"_assert-9b41\"/></saml2p:Extensions><saml2p:Status>",
        1,
    );
    let err = refused(&xml);
    assert_eq!(err.code(), "duplicate_id", "{err:?}");
}

#[test]
fn tampered_content_fails_the_digest() {
    for base in ["assertion-signed", "response-signed", "both-signed"] {
        let xml = fixture(base).replacen(
            ">jane.doe@example.com</saml2:NameID>",
            ">admin@example.com</saml2:NameID>",
            1,
        );
        let err = refused(&xml);
        assert_eq!(err.code(), "digest_mismatch", "{base}: {err:?}");
    }
}

#[test]
fn comments_and_processing_instructions_cannot_truncate_the_name_id() {
    // Signed with the comment inside: the NameID is the whole text.
    let a = process(&fixture("nameid-with-comment")).unwrap();
    assert_eq!(a.name_id().value, "jane.doe@example.com.evil.com");
    // Inserted after signing (exclusive c14n without comments ignores it): still verifies,
    // and the value is read whole.
    for insert in ["<!---->", "<?x?>"] {
        let xml = fixture("assertion-signed").replacen(
            "jane.doe@example.com</saml2:NameID>",
            &format!("jane.doe@{insert}example.com</saml2:NameID>"),
            1,
        );
        if insert.starts_with("<?") {
            // A processing instruction is part of the canonical form: the digest breaks.
            assert_eq!(refused(&xml).code(), "digest_mismatch");
        } else {
            assert_eq!(process(&xml).unwrap().name_id().value, "jane.doe@example.com");
        }
    }
}

#[test]
fn dtds_and_entities_are_refused_before_anything_else() {
    let xml = fixture("assertion-signed");
    for prolog in [
        "<!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
        "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>",
    ] {
        let attack = xml.replacen("?>\n", &format!("?>\n{prolog}\n"), 1);
        let err = refused(&attack);
        assert!(
            matches!(err, Error::Xml(ParseError::DtdNotAllowed { .. })),
            "{err:?}"
        );
    }
}

#[test]
fn not_a_response_is_named() {
    let xml = fixture("assertion-signed");
    let (start, end) = signed_assertion(&xml);
    let err = refused(&xml[start..end]);
    assert_eq!(
        err,
        Error::NotAResponse {
            found: "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion".into()
        }
    );
}

#[test]
fn encrypted_assertions_are_refused_clearly() {
    let xml = fixture("unsigned");
    let (start, end) = signed_assertion(&xml);
    let attack = format!(
        "{}<saml2:EncryptedAssertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\"/>{}",
        &xml[..start],
        &xml[end..]
    );
    assert_eq!(refused(&attack), Error::EncryptedAssertion);
}

#[test]
fn configuration_refuses_what_cannot_work() {
    assert!(ServiceProvider::new(SP, Vec::<String>::new()).is_err());
    assert!(ServiceProvider::new(SP, ["javascript:alert(1)"]).is_err());
    assert!(ServiceProvider::new(SP, ["https:///acs"]).is_err());
    assert!(ServiceProvider::new(SP, ["http://localhost:8080/acs"]).is_ok());
    assert!(IdentityProvider::new(" ", TrustedKeys::from_pem(IDP_CERT).unwrap()).is_err());
}

// ---------------------------------------------------------------------------------------
// Attribute mapping.

#[test]
fn profiles_come_from_jumpcloud_and_entra_default_names() {
    use fedkit_saml::{AttributeMapping, UniqueId, UserProfile};
    let mapping = AttributeMapping::default();
    let jumpcloud = process(&fixture("assertion-signed")).unwrap();
    assert_eq!(
        mapping.profile_with_email(&jumpcloud).unwrap(),
        UserProfile {
            unique_id: "jane.doe@example.com".into(),
            email: Some("jane.doe@example.com".into()),
            first_name: Some("Jane".into()),
            last_name: Some("Doe".into()),
            display_name: Some("Jane Doe".into()),
            groups: vec!["Engineering".into(), "SSO Admins & Auditors".into()],
        }
    );
    let entra = process(&fixture("entra-claims")).unwrap();
    let profile = mapping.profile_with_email(&entra).unwrap();
    assert_eq!(profile.unique_id, "jdoe-7Qz4v1Xr", "the persistent NameID");
    assert_eq!(profile.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(profile.display_name.as_deref(), Some("Jane Doe (Platform)"));
    assert_eq!(profile.groups.len(), 2);
    let by_object_id = AttributeMapping {
        unique_id: UniqueId::Attribute(
            "http://schemas.microsoft.com/identity/claims/objectidentifier".into(),
        ),
        ..AttributeMapping::default()
    };
    assert_eq!(
        by_object_id.profile(&entra).unwrap().unique_id,
        "3f2a1c9e-8d4b-4e6f-9a7c-2b5d8e1f0a3c"
    );
}

#[test]
fn a_missing_email_names_what_did_arrive() {
    use fedkit_saml::{AttributeMapping, MappingError, UniqueId};
    let a = process(&fixture("no-email")).unwrap();
    let mapping = AttributeMapping::default();
    assert_eq!(
        mapping.profile(&a).unwrap().email,
        None,
        "the NameID is not an email"
    );
    let err = mapping.profile_with_email(&a).unwrap_err();
    let MappingError::MissingEmail { arrived, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(arrived, &["uid", "department"]);
    assert!(err.to_string().contains("\"uid\", \"department\""), "{err}");
    let by_mail = AttributeMapping {
        unique_id: UniqueId::Attribute("mail".into()),
        ..AttributeMapping::default()
    };
    assert!(matches!(
        by_mail.profile(&a),
        Err(MappingError::MissingUniqueId { .. })
    ));
}

#[test]
fn email_domains_are_matched_exactly() {
    use fedkit_saml::{EmailDomainAllowlist, MappingError};
    let allow = EmailDomainAllowlist::new(["example.com", "@Corp.Example"]);
    assert!(allow.check("jane.doe@example.com").is_ok());
    assert!(allow.check("JANE@CORP.EXAMPLE").is_ok());
    for bad in [
        "jane@sub.example.com",
        "jane@example.com.evil",
        "jane@notexample.com",
        "@example.com",
        "a@b@example.com",
        "example.com",
    ] {
        assert!(
            matches!(allow.check(bad), Err(MappingError::DomainNotAllowed { .. })),
            "{bad}"
        );
    }
    assert!(EmailDomainAllowlist::new(Vec::<String>::new())
        .check("jane@example.com")
        .is_err());
}

// ---------------------------------------------------------------------------------------
// SP-initiated login and SP metadata.

/// Decoded by the `percent-encoding` crate, independently of fedkit's own decoder.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[test]
fn authn_request_round_trips_through_the_redirect_binding() {
    use fedkit_saml::request::{inflate_redirect_message, AuthnRequest, InflateError};
    use fedkit_xmldsig::Document;
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let request = AuthnRequest::new(&sp, "https://sso.jumpcloud.com/saml2/acme?x=1", [0xab; 20], now())
        .with_name_id_format("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        .with_force_authn();
    let xml = request.to_xml();
    let doc = Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "AuthnRequest");
    assert_eq!(root.attribute("ID"), Some(request.id()));
    assert_eq!(root.attribute("AssertionConsumerServiceURL"), Some(ACS));
    assert_eq!(
        root.attribute("Destination"),
        Some("https://sso.jumpcloud.com/saml2/acme?x=1")
    );
    assert_eq!(root.attribute("IssueInstant"), Some("2026-11-22T10:01:00Z"));
    assert_eq!(root.attribute("ForceAuthn"), Some("true"));
    let url = request.redirect_url(Some(RelayState::new("/reports?year=2026&q=a b").unwrap()));
    let query = url
        .strip_prefix("https://sso.jumpcloud.com/saml2/acme?x=1&")
        .unwrap();
    let mut params = query.split('&').map(|kv| kv.split_once('=').unwrap());
    let (k, v) = params.next().unwrap();
    assert_eq!(k, "SAMLRequest");
    let inflated = inflate_redirect_message(&percent_decode(v), 1 << 16).unwrap();
    assert_eq!(String::from_utf8(inflated).unwrap(), xml);
    assert_eq!(
        params.next().map(|(k, v)| (k, percent_decode(v))),
        Some(("RelayState", "/reports?year=2026&q=a b".to_owned()))
    );
    // Compression bombs and garbage are refused with a reason.
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b'<'; 5_000_000], 9);
    let bomb = base64::engine::general_purpose::STANDARD.encode(bomb);
    assert_eq!(
        inflate_redirect_message(&bomb, 1 << 20),
        Err(InflateError::TooLarge { max: 1 << 20 })
    );
    assert!(matches!(
        inflate_redirect_message("***", 100),
        Err(InflateError::Base64(_))
    ));
    assert_eq!(inflate_redirect_message("AAAA", 100), Err(InflateError::Deflate));
    // The POST form carries the same XML, escaped.
    let form = request.post_form(Some(RelayState::new("\"><script>").unwrap()));
    assert!(form.contains("&quot;&gt;&lt;script&gt;"), "{form}");
    assert!(!form.contains("\"><script>"));
}

#[test]
fn relay_state_never_becomes_an_open_redirect() {
    use fedkit_saml::request::safe_redirect;
    let origins = ["https://app.example.com", "https://admin.example.com:8443/"];
    for ok in [
        "/",
        "/dashboard?tab=2#x",
        "https://app.example.com",
        "https://APP.example.com/x?y",
        "https://admin.example.com:8443/z",
    ] {
        assert_eq!(safe_redirect(ok, &origins), Some(ok), "{ok}");
    }
    for bad in [
        "",
        "//evil.com",
        "/\\evil.com",
        "https://evil.com/",
        "http://app.example.com/",
        "https://app.example.com.evil.com/",
        "https://app.example.com@evil.com/",
        "https://admin.example.com/",
        "javascript:alert(1)",
        "data:text/html,x",
        "/ok\r\nSet-Cookie: x",
        "evil.com",
    ] {
        assert_eq!(safe_redirect(bad, &origins), None, "{bad:?}");
    }
}

#[test]
fn sp_metadata_carries_what_the_idp_needs() {
    use fedkit_saml::sp_metadata::{SpMetadata, NAME_ID_EMAIL};
    use fedkit_xmldsig::Document;
    const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    let sp = ServiceProvider::new(
        "https://app.example.com/saml?tenant=a&b",
        [ACS, "https://app.example.com/saml/acs2"],
    )
    .unwrap();
    let xml = SpMetadata::new(&sp)
        .name_id_format(NAME_ID_EMAIL)
        .single_logout("https://app.example.com/saml/slo")
        .signing_certificates(OTHER_CERT)
        .unwrap()
        .encryption_certificates(OTHER_CERT)
        .unwrap()
        .to_xml();
    let doc = Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(
        root.attribute("entityID"),
        Some("https://app.example.com/saml?tenant=a&b")
    );
    let sp_sso = root
        .children()
        .find(|n| n.has_tag_name((MD, "SPSSODescriptor")))
        .unwrap();
    assert_eq!(sp_sso.attribute("AuthnRequestsSigned"), Some("true"));
    assert_eq!(sp_sso.attribute("WantAssertionsSigned"), Some("true"));
    let acs: Vec<_> = sp_sso
        .children()
        .filter(|n| n.has_tag_name((MD, "AssertionConsumerService")))
        .map(|n| (n.attribute("Location").unwrap(), n.attribute("index").unwrap()))
        .collect();
    assert_eq!(acs, [(ACS, "0"), ("https://app.example.com/saml/acs2", "1")]);
    let certs: Vec<_> = sp_sso
        .descendants()
        .filter(|n| n.has_tag_name(("http://www.w3.org/2000/09/xmldsig#", "X509Certificate")))
        .map(|n| n.text().unwrap().to_owned())
        .collect();
    let der = TrustedKeys::from_pem(OTHER_CERT).unwrap().keys()[0]
        .certificate_der()
        .unwrap()
        .to_vec();
    assert_eq!(
        certs,
        vec![base64::engine::general_purpose::STANDARD.encode(&der); 2]
    );
    assert_eq!(
        sp_sso
            .descendants()
            .filter(|n| n.has_tag_name((MD, "SingleLogoutService")))
            .count(),
        2
    );
    // A bare public key cannot go into metadata.
    let key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjlr/fmCS4xaXbavGWw0zCpcEt2ZA\n1hcbzF5dbRT53Hb3O8cthCsuOmKbFhUtQyGIEVHeyUe+M+P0/A+eHZZnfw==\n-----END PUBLIC KEY-----\n";
    assert!(SpMetadata::new(&sp).signing_certificates(key).is_err());
}

// ---------------------------------------------------------------------------------------
// Connections.

fn acme(certificates: Vec<String>) -> fedkit_saml::connection::Connection {
    use fedkit_saml::connection::{Behavior, Connection, IdpSource};
    Connection {
        id: "acme".into(),
        enabled: true,
        idp: IdpSource::Explicit {
            entity_id: IDP.into(),
            sso_url: "https://sso.jumpcloud.com/saml2/acme".into(),
            certificates,
        },
        behavior: Behavior {
            jit_provisioning: true,
            email_domain_allowlist: vec!["example.com".into()],
            ..Behavior::default()
        },
    }
}

#[test]
fn a_connection_with_a_pasted_certificate_accepts_its_logins() {
    // The certificate as some consoles show it: the base64 body only, CRLF, stray spaces.
    let body: String = IDP_CERT
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(|l| format!("  {l}  \r\n"))
        .collect();
    let connection = acme(vec![body]);
    connection.validate().unwrap();
    let urls = connection.sp_urls("https://app.example.com/");
    assert_eq!(urls.entity_id, "https://app.example.com/saml/acme/metadata");
    assert_eq!(urls.acs_url, "https://app.example.com/saml/acme/acs");
    let v = connection.validator("https://app.example.com").unwrap();
    let a = process_with(&v, &fixture("connection-acme"), Some(REQUEST), now()).unwrap();
    let key = connection.user_key(&a.name_id().value);
    assert_eq!(
        (key.connection.as_str(), key.name_id.as_str()),
        ("acme", "jane.doe@example.com")
    );
    connection.allowlist().unwrap().check(&a.name_id().value).unwrap();
    // Another tenant's validator refuses the same Response (audience and recipient differ).
    let mut other = acme(vec![IDP_CERT.into()]);
    other.id = "globex".into();
    let v = other.validator("https://app.example.com").unwrap();
    assert_eq!(
        process_with(&v, &fixture("connection-acme"), Some(REQUEST), now())
            .unwrap_err()
            .code(),
        "destination_mismatch"
    );
}

#[test]
fn a_pasted_private_key_is_named_as_such() {
    // The classic mistake: the SP's private key pasted where the IdP certificate goes.
    let err = acme(vec![IDP_CERT.into(), SP_KEY.into()]).validate().unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("idp.certificates[1]"), "{message}");
    assert!(message.to_lowercase().contains("private key"), "{message}");
}

#[test]
fn connections_round_trip_as_json_and_name_the_wrong_field() {
    use fedkit_saml::connection::{Connection, ConnectionError, IdpSource};
    let connection = acme(vec![IDP_CERT.into(), OTHER_CERT.into()]);
    let json = serde_json::to_string(&connection).unwrap();
    assert!(json.contains("\"type\":\"explicit\""), "{json}");
    assert_eq!(serde_json::from_str::<Connection>(&json).unwrap(), connection);
    // Unknown fields and a second IdP source are refused by the schema.
    assert!(serde_json::from_str::<Connection>(&json.replace("\"enabled\"", "\"enabeld\"")).is_err());

    let field = |c: &Connection| match c.validate() {
        Err(ConnectionError::Invalid { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    let mut bad = acme(vec![IDP_CERT.into(), "MIIBroken".into()]);
    assert_eq!(field(&bad), "idp.certificates[1]");
    bad = acme(vec![IDP_CERT.into()]);
    bad.id = "Acme Corp".into();
    assert_eq!(field(&bad), "id");
    bad = acme(vec![IDP_CERT.into()]);
    bad.behavior.email_domain_allowlist.push("@acme".into());
    assert_eq!(field(&bad), "behavior.email_domain_allowlist[1]");
    bad = acme(vec![IDP_CERT.into()]);
    bad.behavior.default_redirect = Some("https://evil.com".into());
    assert_eq!(field(&bad), "behavior.default_redirect");
    bad = acme(vec![IDP_CERT.into()]);
    bad.idp = IdpSource::MetadataUrl {
        url: "http://idp.acme.com/metadata".into(),
    };
    assert_eq!(field(&bad), "idp.url");
    let metadata = Connection {
        idp: IdpSource::MetadataUrl {
            url: "https://idp.acme.com/metadata".into(),
        },
        ..acme(vec![])
    };
    assert!(matches!(
        metadata.validator("https://app.example.com"),
        Err(ConnectionError::NeedsMetadata { .. })
    ));
}

#[test]
fn a_connection_from_idp_metadata_accepts_its_logins() {
    use fedkit_saml::connection::{ConnectionError, IdpSource};
    let metadata = std::fs::read_to_string(format!(
        "{}/tests/data/idp-metadata.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut connection = acme(vec![IDP_CERT.into()]);
    // Switching the source to the IdP's metadata keeps the same issuer: allowed.
    connection
        .update_idp(IdpSource::MetadataXml {
            xml: metadata.clone(),
        })
        .unwrap();
    let idp = connection.identity_provider(now()).unwrap();
    assert_eq!(idp.entity_id(), IDP);
    // Both signing KeyDescriptors are pinned (a rotation in progress).
    assert_eq!(idp.signing_keys().keys().len(), 2);
    let v = connection.validator_at("https://app.example.com", now()).unwrap();
    // The connection's own SP URLs differ from the fixtures': the login is refused for the
    // audience, i.e. only after the signature verified against the metadata's keys.
    let err = process_with(&v, &fixture("both-signed"), Some(REQUEST), now()).unwrap_err();
    assert_eq!(err.code(), "destination_mismatch", "{err}");
    let v = ResponseValidator::new(
        ServiceProvider::new(SP, [ACS]).unwrap(),
        connection.identity_provider(now()).unwrap(),
    );
    assert!(process_with(&v, &fixture("both-signed"), Some(REQUEST), now()).is_ok());

    // Metadata naming another issuer is a change of IdP: refused.
    let evil = metadata.replace(IDP, "https://evil.example.com/idp");
    assert!(matches!(
        connection.update_idp(IdpSource::MetadataXml { xml: evil }),
        Err(ConnectionError::EntityIdChanged { .. })
    ));
    // Unusable metadata names the field.
    let mut broken = connection.clone();
    broken.idp = IdpSource::MetadataXml {
        xml: "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>".into(),
    };
    let err = broken.identity_provider(now()).unwrap_err();
    assert!(err.to_string().starts_with("idp.xml"), "{err}");
    // A metadata URL must be fetched by the host first.
    broken.idp = IdpSource::MetadataUrl {
        url: "https://idp.example.com/metadata".into(),
    };
    assert!(matches!(
        broken.identity_provider(now()),
        Err(ConnectionError::NeedsMetadata { .. })
    ));
}

#[test]
fn rotation_keeps_the_entity_id_and_routing_is_by_domain() {
    use fedkit_saml::connection::{ConnectionError, ConnectionRegistry, IdpSource};
    let mut connection = acme(vec![IDP_CERT.into()]);
    // Rotation: the new certificate joins, the entity ID stays.
    connection
        .update_idp(IdpSource::Explicit {
            entity_id: IDP.into(),
            sso_url: "https://sso.jumpcloud.com/saml2/acme".into(),
            certificates: vec![IDP_CERT.into(), OTHER_CERT.into()],
        })
        .unwrap();
    let err = connection
        .update_idp(IdpSource::Explicit {
            entity_id: "https://evil.example.com".into(),
            sso_url: "https://evil.example.com/sso".into(),
            certificates: vec![OTHER_CERT.into()],
        })
        .unwrap_err();
    assert!(matches!(err, ConnectionError::EntityIdChanged { .. }));
    // A refused change leaves the connection as it was.
    let fedkit_saml::connection::IdpSource::Explicit { certificates, .. } = &connection.idp else {
        panic!()
    };
    assert_eq!(certificates.len(), 2);

    let mut registry = ConnectionRegistry::default();
    registry.insert(connection.clone()).unwrap();
    let mut globex = acme(vec![IDP_CERT.into()]);
    globex.id = "globex".into();
    assert_eq!(
        registry.insert(globex.clone()),
        Err(ConnectionError::DomainTaken {
            domain: "example.com".into(),
            other: "acme".into()
        })
    );
    globex.behavior.email_domain_allowlist = vec!["globex.com".into()];
    registry.insert(globex).unwrap();
    assert_eq!(registry.route_email("jane@EXAMPLE.com").unwrap().id, "acme");
    assert_eq!(registry.route_email("hank@globex.com").unwrap().id, "globex");
    assert!(registry.route_email("x@initech.com").is_none());
    // Disabled connections route nothing; replacing by ID frees the old domains.
    connection.enabled = false;
    registry.insert(connection.clone()).unwrap();
    assert!(registry.route_email("jane@example.com").is_none());
    connection.enabled = true;
    connection.behavior.email_domain_allowlist = vec!["example.org".into()];
    registry.insert(connection).unwrap();
    assert!(registry.route_email("jane@example.com").is_none());
    assert_eq!(registry.route_email("jane@example.org").unwrap().id, "acme");
    assert_eq!(registry.get("globex").unwrap().id, "globex");
}

// ---------------------------------------------------------------------------------------
// Single Logout.

const SLO: &str = "https://app.example.com/saml/slo";

fn logout_validator() -> fedkit_saml::logout::LogoutValidator {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    fedkit_saml::logout::LogoutValidator::new(sp, idp, SLO, Settings::default())
}

fn post_value(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(fixture(name))
}

#[test]
fn signed_logout_messages_over_post_are_verified() {
    use fedkit_saml::logout::LogoutMessage;
    let v = logout_validator();
    let t = at(11, 1, 0);
    let LogoutMessage::Request(request) = v
        .process_post(&post_value("logout-request-post"), None, t)
        .unwrap()
    else {
        panic!("a LogoutRequest")
    };
    assert_eq!(request.id(), "_logout-req-4d1");
    assert_eq!(request.name_id().value, "jane.doe@example.com");
    assert_eq!(request.session_indexes(), ["_session-31d8"]);
    let LogoutMessage::Response(response) = v
        .process_post(&post_value("logout-response-post"), Some("_sp-logout-1"), t)
        .unwrap()
    else {
        panic!("a LogoutResponse")
    };
    assert!(response.success());
    assert_eq!(response.in_response_to(), "_sp-logout-1");
    // The response must answer our request.
    assert_eq!(
        v.process_post(&post_value("logout-response-post"), Some("_sp-logout-2"), t)
            .unwrap_err()
            .code(),
        "in_response_to_mismatch"
    );
    // Expired (NotOnOrAfter 11:05 + 120 s).
    assert_eq!(
        v.process_post(&post_value("logout-request-post"), None, at(11, 7, 0))
            .unwrap_err()
            .code(),
        "expired"
    );
    // Tampered: another user logged out.
    let tampered = fixture("logout-request-post").replace(">jane.doe@example.com<", ">ceo@example.com<");
    let err = v
        .process_post(
            &base64::engine::general_purpose::STANDARD.encode(tampered),
            None,
            t,
        )
        .unwrap_err();
    assert_eq!(err.code(), "digest_mismatch");
    // Unsigned: refused (anyone could log users out).
    let unsigned = fixture("logout-request-post");
    let start = unsigned.find("<ds:Signature").unwrap();
    let end = unsigned.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let unsigned = format!("{}{}", &unsigned[..start], &unsigned[end..]);
    let err = v
        .process_post(
            &base64::engine::general_purpose::STANDARD.encode(unsigned),
            None,
            t,
        )
        .unwrap_err();
    assert_eq!(err.code(), "unsigned", "{err:?}");
}

#[test]
fn logout_requests_with_an_encrypted_name_id_are_decrypted() {
    use fedkit_saml::logout::LogoutMessage;
    let t = at(11, 1, 0);
    let post = post_value("logout-request-post-encrypted-id");
    let query = fixture_raw("logout-request-redirect-encrypted-id.query");
    let query = query.trim();
    // Without the SP key: the admin is told what to configure, on both bindings.
    let v = logout_validator();
    assert_eq!(
        v.process_post(&post, None, t).unwrap_err(),
        Error::EncryptedNameId
    );
    assert_eq!(
        v.process_redirect(query, None, t).unwrap_err(),
        Error::EncryptedNameId
    );
    let key = || fedkit_xmldsig::DecryptionKey::from_pem(SP_KEY).unwrap();
    for provider in all_providers() {
        let v = logout_validator()
            .with_decryption_key(key())
            .with_provider(provider);
        for message in [v.process_post(&post, None, t), v.process_redirect(query, None, t)] {
            let LogoutMessage::Request(request) = message.unwrap() else {
                panic!("a LogoutRequest")
            };
            assert_eq!(request.name_id().value, "jane.doe@example.com");
            assert_eq!(
                request.name_id().format.as_deref(),
                Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
            );
            assert_eq!(request.session_indexes(), ["_session-31d8"]);
        }
    }
    // The wrong key: the uniform decryption failure.
    let wrong = logout_validator().with_decryption_key(
        fedkit_xmldsig::DecryptionKey::from_pem(include_str!("data/keys/other.key.pem")).unwrap(),
    );
    assert_eq!(
        wrong.process_post(&post, None, t).unwrap_err().code(),
        "decryption_failed"
    );
}

#[test]
fn redirect_logout_requests_need_a_valid_query_signature() {
    use fedkit_saml::logout::LogoutMessage;
    let v = logout_validator();
    let t = at(11, 1, 0);
    let query = fixture_raw("logout-request-redirect.query");
    let query = query.trim();
    let LogoutMessage::Request(request) = v.process_redirect(query, None, t).unwrap() else {
        panic!("a LogoutRequest")
    };
    assert_eq!(request.name_id().value, "jane.doe@example.com");
    // Any change to a signed parameter breaks the signature: the RelayState...
    let changed = query.replace("RelayState=%2Fgoodbye", "RelayState=%2Fhello");
    assert_eq!(
        v.process_redirect(&changed, None, t).unwrap_err().code(),
        "signature_invalid"
    );
    // ...the algorithm (downgrade to SHA-1 is refused by policy before any crypto)...
    let sha1 = query.replace(
        "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256",
        "SigAlg=http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha1",
    );
    assert_ne!(sha1, query);
    assert_eq!(
        v.process_redirect(&sha1, None, t).unwrap_err().code(),
        "algorithm_refused"
    );
    // ...or dropping the signature.
    let unsigned = &query[..query.find("&SigAlg=").unwrap()];
    assert_eq!(
        v.process_redirect(unsigned, None, t).unwrap_err().code(),
        "unsigned"
    );
    let doubled = format!("{query}&SAMLRequest=x");
    assert_eq!(
        v.process_redirect(&doubled, None, t).unwrap_err().code(),
        "malformed"
    );
}

#[test]
fn outgoing_logout_messages_round_trip() {
    use fedkit_saml::logout::OutgoingLogout;
    use fedkit_saml::request::inflate_redirect_message;
    use fedkit_xmldsig::Document;
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let a = process(&fixture("assertion-signed")).unwrap();
    let out = OutgoingLogout::request(
        &sp,
        "https://sso.jumpcloud.com/saml2/slo",
        a.name_id(),
        a.session_index().unwrap(),
        [9; 20],
        now(),
    );
    let doc = Document::parse(out.xml()).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "LogoutRequest");
    assert_eq!(doc.root_element().attribute("ID"), Some(out.id()));
    assert!(out.xml().contains(">jane.doe@example.com</saml:NameID>"));
    assert!(out
        .xml()
        .contains("<samlp:SessionIndex>_session-31d8</samlp:SessionIndex>"));
    let url = out.redirect_url(None);
    let value = url.split_once("SAMLRequest=").unwrap().1;
    let inflated = inflate_redirect_message(&percent_decode(value), 1 << 16).unwrap();
    assert_eq!(String::from_utf8(inflated).unwrap(), out.xml());
    // The answer to an IdP-initiated logout.
    let v = logout_validator();
    let fedkit_saml::logout::LogoutMessage::Request(request) = v
        .process_post(&post_value("logout-request-post"), None, at(11, 1, 0))
        .unwrap()
    else {
        panic!()
    };
    let answer = OutgoingLogout::response(
        &sp,
        "https://sso.jumpcloud.com/saml2/slo",
        &request,
        [3; 20],
        now(),
    );
    assert!(answer.xml().contains("InResponseTo=\"_logout-req-4d1\""));
    assert!(answer
        .redirect_url(Some(RelayState::new("x").unwrap()))
        .contains("?SAMLResponse="));
}

// ---------------------------------------------------------------------------------------
// Encrypted assertions (encrypted by the xmlsec1 CLI to keys/sp.crt.pem).

const SP_KEY: &str = include_str!("data/keys/sp.key.pem");

fn decrypting(settings: Settings) -> ResponseValidator {
    validator_with(settings).with_decryption_key(fedkit_xmldsig::DecryptionKey::from_pem(SP_KEY).unwrap())
}

#[test]
fn encrypted_assertions_are_decrypted_and_protected_by_a_signature() {
    for (name, signed) in [
        ("encrypted-gcm", vec![SignedPart::Assertion]),
        ("encrypted-cbc", vec![SignedPart::Assertion]),
        (
            "encrypted-and-response-signed",
            vec![SignedPart::Response, SignedPart::Assertion],
        ),
        // xmlsec1 encrypted an unsigned assertion, then signed the Response over the
        // EncryptedAssertion (Profiles §4.1.3.5: the Shibboleth IdP's default).
        ("encrypted-unsigned-assertion", vec![SignedPart::Response]),
    ] {
        let a = process_with(
            &decrypting(Settings::default()),
            &fixture(name),
            Some(REQUEST),
            now(),
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.signed(), signed.as_slice(), "{name}");
        assert_eq!(a.name_id().value, "jane.doe@example.com", "{name}");
        assert_eq!(a.attribute("memberOf").unwrap().len(), 2, "{name}");
    }
    // Without the SP key, the admin is told what to configure.
    assert_eq!(refused(&fixture("encrypted-gcm")), Error::EncryptedAssertion);
    // The same EncryptedAssertion with the Response signature taken away protects nothing.
    let xml = fixture("encrypted-unsigned-assertion");
    let start = xml.find("<ds:Signature").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    assert_eq!(
        process_with(
            &decrypting(Settings::default()),
            &format!("{}{}", &xml[..start], &xml[end..]),
            Some(REQUEST),
            now()
        ),
        Err(Error::Unsigned {
            required: SigningRequirement::Either,
            response_signed: false,
            assertion_signed: false
        })
    );
    // An SP that requires the assertion's own signature refuses the Response-covered one.
    assert_eq!(
        process_with(
            &decrypting(Settings::default().with_signing(SigningRequirement::Assertion)),
            &xml,
            Some(REQUEST),
            now()
        ),
        Err(Error::Unsigned {
            required: SigningRequirement::Assertion,
            response_signed: true,
            assertion_signed: false
        })
    );
}

#[test]
fn encrypted_name_ids_are_decrypted_from_the_signed_assertion() {
    // xmlsec1 encrypted the NameID to the SP certificate, then signed the assertion over the
    // EncryptedID (generate.sh).
    let xml = fixture("encrypted-name-id");
    assert!(!xml.contains("<saml2:NameID"));
    let a = process_with(&decrypting(Settings::default()), &xml, Some(REQUEST), now()).unwrap();
    assert_eq!(a.name_id().value, "jane.doe@example.com");
    assert_eq!(
        a.name_id().format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(a.signed(), [SignedPart::Assertion].as_slice());
    // Without the SP key, the admin is told what to configure.
    let err = refused(&xml);
    assert_eq!(err, Error::EncryptedNameId);
    assert_eq!(err.code(), "no_decryption_key");
    // The ciphertext is signed content: altering it breaks the assertion's digest before
    // anything is decrypted.
    let data = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
    let mut bytes = xml.clone().into_bytes();
    bytes[data + 5] = if bytes[data + 5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        process_with(&decrypting(Settings::default()), &tampered, Some(REQUEST), now())
            .unwrap_err()
            .code(),
        "digest_mismatch"
    );
    // Encrypted to the SP, decrypted with another key: a uniform decryption failure.
    let wrong = validator().with_decryption_key(
        fedkit_xmldsig::DecryptionKey::from_pem(include_str!("data/keys/other.key.pem")).unwrap(),
    );
    assert_eq!(
        process_with(&wrong, &xml, Some(REQUEST), now())
            .unwrap_err()
            .code(),
        "decryption_failed"
    );
}

#[test]
fn decryption_failures_are_uniform_and_weak_transport_is_refused() {
    let v = decrypting(Settings::default());
    let code = |xml: &str| process_with(&v, xml, Some(REQUEST), now()).unwrap_err().code();
    // Encrypted to another SP's certificate.
    assert_eq!(code(&fixture("encrypted-to-other-sp")), "decryption_failed");
    // RSA PKCS#1 v1.5 key transport: refused by default, accepted with the opt-in.
    assert_eq!(code(&fixture("encrypted-rsa-1_5")), "algorithm_refused");
    let opted = validator().with_decryption_key_and_policy(
        fedkit_xmldsig::DecryptionKey::from_pem(SP_KEY).unwrap(),
        fedkit_xmldsig::xmlenc::DecryptionPolicy::default().dangerous_allow_rsa_pkcs1v15(),
    );
    assert!(process_with(&opted, &fixture("encrypted-rsa-1_5"), Some(REQUEST), now()).is_ok());
    // Altered ciphertext: GCM's tag fails; for CBC the garbled plaintext fails to parse or
    // to verify, and a parse failure is reported exactly like a padding failure.
    for name in ["encrypted-gcm", "encrypted-cbc"] {
        let xml = fixture(name);
        let data = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
        for offset in [0, 30, 90] {
            let mut bytes = xml.clone().into_bytes();
            let at = data + offset;
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            let c = code(&tampered);
            assert!(
                matches!(c, "decryption_failed" | "digest_mismatch"),
                "{name} +{offset}: {c}"
            );
        }
    }
}

/// The `LegacyEncryption` warnings of an accepted login.
#[cfg(feature = "rust-crypto")]
fn legacy_encryption(a: &fedkit_saml::VerifiedAssertion) -> Vec<(&'static str, ContentAlgorithm)> {
    a.warnings()
        .iter()
        .filter_map(|w| match w {
            LoginWarning::LegacyEncryption { element, algorithm } => Some((*element, *algorithm)),
            _ => None,
        })
        .collect()
}

// XML Encryption 1.0 §5.2.1: tripledes-cbc is REQUIRED; decrypted (under every provider),
// with a warning naming the algorithm and what to set instead. Needs RustCrypto's `des`
// (an aws-lc-only build refuses it: see the test after the next).
#[cfg(feature = "rust-crypto")]
#[test]
fn xmlenc_5_2_1_triple_des_content_encryption_is_accepted_with_a_warning() {
    let v = decrypting(Settings::default());
    let a = process_with(&v, &fixture("encrypted-3des"), Some(REQUEST), now()).unwrap();
    assert_eq!(a.name_id().value, "jane.doe@example.com");
    assert_eq!(a.signed(), [SignedPart::Assertion].as_slice());
    assert_eq!(
        legacy_encryption(&a),
        [("EncryptedAssertion", ContentAlgorithm::TripleDesCbc)]
    );
    let shown = a
        .warnings()
        .iter()
        .map(ToString::to_string)
        .find(|w| w.contains("3DES"))
        .unwrap();
    for needle in [
        "EncryptedAssertion",
        "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
        "AES-256-GCM",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    // An EncryptedID encrypted with Triple-DES inside a signed assertion.
    let a = process_with(&v, &fixture("encrypted-name-id-3des"), Some(REQUEST), now()).unwrap();
    assert_eq!(a.name_id().value, "jane.doe@example.com");
    assert_eq!(
        legacy_encryption(&a),
        [("EncryptedID", ContentAlgorithm::TripleDesCbc)]
    );
    // AES content encryption carries no such warning.
    for name in ["encrypted-gcm", "encrypted-cbc", "encrypted-name-id"] {
        let a = process_with(&v, &fixture(name), Some(REQUEST), now()).unwrap();
        assert_eq!(legacy_encryption(&a), [], "{name}");
    }
}

#[cfg(feature = "rust-crypto")]
#[test]
fn xmlenc_5_2_1_altered_triple_des_ciphertext_is_a_uniform_decryption_failure() {
    let v = decrypting(Settings::default());
    let code = |xml: &str| process_with(&v, xml, Some(REQUEST), now()).unwrap_err().code();
    let xml = fixture("encrypted-3des");
    let start = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
    let end = xml.rfind("</xenc:CipherValue>").unwrap();
    let value: String = xml[start..end].split_whitespace().collect();
    let data = base64::engine::general_purpose::STANDARD.decode(&value).unwrap();
    let with_data = |bytes: &[u8]| {
        format!(
            "{}{}{}",
            &xml[..start],
            base64::engine::general_purpose::STANDARD.encode(bytes),
            &xml[end..]
        )
    };
    // Flipped bits in the IV, the first block, and the block before the last (which garbles
    // the padding octet of the last block).
    for at in [0, 8, data.len() - 9, data.len() - 1] {
        for flip in [0x01u8, 0x80] {
            let mut altered = data.clone();
            altered[at] ^= flip;
            let c = code(&with_data(&altered));
            assert!(
                matches!(c, "decryption_failed" | "digest_mismatch"),
                "byte {at} ^ {flip:#x}: {c}"
            );
        }
    }
    // Truncated to a partial block, to the IV alone, or to nothing.
    for cut in [data.len() - 3, 8, 3, 0] {
        assert_eq!(
            code(&with_data(&data[..cut])),
            "decryption_failed",
            "cut to {cut}"
        );
    }
}

/// An aws-lc-only build (`default-features = false, features = ["aws-lc-rs"]`): AWS-LC has
/// no Triple-DES and RustCrypto is not compiled, so a Triple-DES assertion is refused, by
/// name and before any decryption, with `crypto_unsupported` naming the `rust-crypto`
/// feature. AES content encryption decrypts as in every build.
#[cfg(not(feature = "rust-crypto"))]
#[test]
fn without_rust_crypto_a_triple_des_assertion_is_refused_naming_the_feature() {
    assert_eq!(fedkit_xmldsig::crypto::default_provider().name(), "aws-lc-rs");
    let v = decrypting(Settings::default());
    for name in ["encrypted-3des", "encrypted-name-id-3des"] {
        let err = process_with(&v, &fixture(name), Some(REQUEST), now()).unwrap_err();
        assert_eq!(err.code(), "crypto_unsupported", "{name}: {err}");
        let message = err.to_string();
        for needle in ["aws-lc-rs", "Triple-DES", "`rust-crypto` feature is off"] {
            assert!(message.contains(needle), "{name}: {needle}: {message}");
        }
    }
    for name in ["encrypted-gcm", "encrypted-cbc", "encrypted-name-id"] {
        let a = process_with(&v, &fixture(name), Some(REQUEST), now()).unwrap();
        assert_eq!(a.name_id().value, "jane.doe@example.com", "{name}");
    }
}

#[test]
fn sp_decryption_keys_under_2048_bits_are_refused_when_loaded() {
    let pem = include_str!("data/keys/sp-1024.key.pem");
    let err = fedkit_xmldsig::DecryptionKey::from_pem(pem).unwrap_err();
    assert_eq!(
        err,
        fedkit_xmldsig::KeyError::WeakDecryptionKey {
            bits: 1024,
            min: 2048
        }
    );
    let message = err.to_string();
    assert!(message.contains("1024-bit"), "{message}");
    assert!(message.contains("--dangerous-min-sp-key-bits 1024"), "{message}");
    // Opted in, the key decrypts what xmlsec1 encrypted to its certificate, under every
    // provider (aws-lc-rs hands such keys to RustCrypto)...
    #[cfg(not(feature = "rust-crypto"))]
    {
        // ...but AWS-LC alone cannot hold it: refused by name.
        let err = fedkit_xmldsig::DecryptionKey::from_pem_dangerous_min_rsa_bits(pem, 1024).unwrap_err();
        assert_eq!(err.code(), "crypto_unsupported");
        assert!(err.to_string().contains("`rust-crypto` feature is off"), "{err}");
        return;
    }
    #[allow(unreachable_code)]
    let key = fedkit_xmldsig::DecryptionKey::from_pem_dangerous_min_rsa_bits(pem, 1024).unwrap();
    let v = validator().with_decryption_key(key);
    let a = process_with(&v, &fixture("encrypted-to-1024-bit-sp"), Some(REQUEST), now()).unwrap();
    assert_eq!(a.name_id().value, "jane.doe@example.com");
    // The 2048-bit SP key is not the key it was encrypted to.
    assert_eq!(
        process_with(
            &decrypting(Settings::default()),
            &fixture("encrypted-to-1024-bit-sp"),
            Some(REQUEST),
            now()
        )
        .unwrap_err()
        .code(),
        "decryption_failed"
    );
}

#[test]
fn redirect_signatures_match_openssl_and_verify() {
    use fedkit_saml::logout::OutgoingLogout;
    use fedkit_xmldsig::SigningKey;
    let idp_key = SigningKey::from_pem(include_str!("data/keys/idp.key.pem")).unwrap();
    // The fixture's query was signed by `openssl dgst -sha256 -sign`: PKCS#1 v1.5 is
    // deterministic, so both providers must produce exactly openssl's signature.
    let query = fixture_raw("logout-request-redirect.query");
    let (signed, signature) = query.trim().split_once("&Signature=").unwrap();
    let openssl = base64::engine::general_purpose::STANDARD
        .decode(percent_decode(signature))
        .unwrap();
    for provider in all_providers() {
        let ours = provider
            .rsa_sign(
                fedkit_xmldsig::SignatureAlgorithm::RSA_SHA256,
                &idp_key,
                signed.as_bytes(),
            )
            .unwrap();
        assert_eq!(ours, openssl, "{}", provider.name());
    }
    // A signed outgoing message verifies with the signer's certificate, as the IdP will.
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let request =
        fedkit_saml::request::AuthnRequest::new(&sp, "https://sso.jumpcloud.com/saml2/acme", [1; 20], now());
    let url = request
        .signed_redirect_url(Some(RelayState::new("/x").unwrap()), &idp_key, all_providers()[0])
        .unwrap();
    let query = url.split_once('?').unwrap().1;
    let (signed, signature) = query.split_once("&Signature=").unwrap();
    assert!(signed.ends_with("&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"));
    let signature = base64::engine::general_purpose::STANDARD
        .decode(percent_decode(signature))
        .unwrap();
    let verifier = fedkit_xmldsig::Verifier::new(
        TrustedKeys::from_pem(IDP_CERT).unwrap(),
        AlgorithmPolicy::default(),
    );
    verifier
        .verify_detached(
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            signed.as_bytes(),
            &signature,
        )
        .unwrap();
    // And a signed LogoutRequest from "the IdP" passes the SP's own Redirect check.
    let a = process(&fixture("assertion-signed")).unwrap();
    let out = OutgoingLogout::request(
        &sp,
        SLO,
        a.name_id(),
        a.session_index().unwrap(),
        [2; 20],
        at(11, 0, 0),
    );
    let url = out
        .signed_redirect_url(None, &idp_key, all_providers()[0])
        .unwrap();
    // (An SP-built request is not an IdP message: its Issuer is the SP, so it is refused
    // for that reason, after the signature verified.)
    let err = logout_validator()
        .process_redirect(url.split_once('?').unwrap().1, None, at(11, 1, 0))
        .unwrap_err();
    assert_eq!(err.code(), "issuer_mismatch", "{err:?}");
}

#[test]
fn post_binding_requests_carry_an_xml_signature() {
    use fedkit_xmldsig::{Document, SigningKey, Verifier};
    let key = SigningKey::from_pem(include_str!("data/keys/other.key.pem")).unwrap();
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let request = fedkit_saml::request::AuthnRequest::new(&sp, "https://idp.example/sso", [5; 20], now());
    for provider in all_providers() {
        let xml = request.signed_xml(&key, None, provider).unwrap();
        let doc = Document::parse(&xml).unwrap();
        let keys = TrustedKeys::from_pem(OTHER_CERT).unwrap();
        let verified = Verifier::new(keys, AlgorithmPolicy::default())
            .verify_enveloped(&doc, doc.root_element())
            .unwrap();
        // The signature follows the Issuer, as the SAML schema requires.
        let names: Vec<_> = verified.element().children().map(|c| c.local_name()).collect();
        assert_eq!(names, ["Issuer"], "the verified view skips the signature");
        let order: Vec<_> = doc
            .root_element()
            .children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name())
            .collect();
        assert_eq!(order, ["Issuer", "Signature"]);
        let form = request
            .signed_post_form(Some(RelayState::new("/x").unwrap()), &key, None, provider)
            .unwrap();
        assert!(form.contains("name=\"SAMLRequest\""));
        assert!(form.contains("name=\"RelayState\" value=\"/x\""));
    }
}

#[test]
fn xml_signed_logout_messages_pass_the_post_check() {
    use fedkit_saml::logout::{LogoutMessage, OutgoingLogout};
    use fedkit_xmldsig::SigningKey;
    // Play the IdP: a LogoutResponse from the IdP's key, signed by fedkit, posted to the SP.
    let idp_key = SigningKey::from_pem(include_str!("data/keys/idp.key.pem")).unwrap();
    let idp_as_sp = ServiceProvider::new(IDP, [ACS]).unwrap();
    let a = process(&fixture("assertion-signed")).unwrap();
    let request = OutgoingLogout::request(
        &idp_as_sp,
        SLO,
        a.name_id(),
        a.session_index().unwrap(),
        [4; 20],
        at(11, 0, 0),
    );
    let signed = request.signed_xml(&idp_key, None, all_providers()[0]).unwrap();
    let value = base64::engine::general_purpose::STANDARD.encode(signed);
    let LogoutMessage::Request(r) = logout_validator()
        .process_post(&value, None, at(11, 1, 0))
        .unwrap()
    else {
        panic!("a LogoutRequest")
    };
    assert_eq!(r.name_id().value, "jane.doe@example.com");
    assert_eq!(r.session_indexes(), ["_session-31d8"]);
}

/// Every error enum of fedkit-saml besides `Error` (whose codes the conformance matrix and the
/// message tests check) has one distinct `snake_case` code per variant.
#[test]
fn configuration_and_mapping_errors_have_distinct_stable_codes() {
    use fedkit_saml::connection::ConnectionError;
    use fedkit_saml::request::{InflateError, SignError};
    use fedkit_saml::{ConfigError, MappingError};
    let codes = [
        ConfigError::Empty { field: "entity_id" }.code(),
        ConfigError::Certificate {
            index: 1,
            reason: String::new(),
        }
        .code(),
        ConfigError::Url {
            field: "acs_url",
            value: String::new(),
        }
        .code(),
        ConnectionError::Invalid {
            field: "idp".into(),
            reason: String::new(),
        }
        .code(),
        ConnectionError::EntityIdChanged {
            old: String::new(),
            new: String::new(),
        }
        .code(),
        ConnectionError::DomainTaken {
            domain: String::new(),
            other: String::new(),
        }
        .code(),
        ConnectionError::NeedsMetadata { id: String::new() }.code(),
        SignError::Failed.code(),
        InflateError::Base64(String::new()).code(),
        InflateError::Deflate.code(),
        InflateError::TooLarge { max: 1 }.code(),
        MappingError::MissingUniqueId {
            expected: String::new(),
            arrived: Vec::new(),
        }
        .code(),
        MappingError::MissingEmail {
            tried: Vec::new(),
            arrived: Vec::new(),
        }
        .code(),
        MappingError::DomainNotAllowed {
            domain: String::new(),
            allowed: Vec::new(),
        }
        .code(),
    ];
    let mut seen = std::collections::HashSet::new();
    for code in codes {
        assert!(
            code.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{code}"
        );
        assert!(seen.insert(code), "{code} names two conditions");
    }
    assert_eq!(
        MappingError::MissingEmail {
            tried: Vec::new(),
            arrived: Vec::new()
        }
        .code(),
        "email_missing"
    );
}

/// Settings are checked when set, and time checks saturate: no setting and no clock (the
/// latest and earliest instants chrono has) makes a check panic.
#[test]
fn settings_are_bounded_and_time_checks_never_overflow() {
    use std::time::Duration;
    let refused = Settings::default()
        .with_clock_skew(Settings::MAX_CLOCK_SKEW + Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(refused.code(), "setting_out_of_range");
    assert!(refused.to_string().contains("clock skew"), "{refused}");
    assert!(Settings::default()
        .with_message_lifetime(Settings::MAX_MESSAGE_LIFETIME + Duration::from_secs(1))
        .is_err());
    let widest = Settings::default()
        .with_clock_skew(Settings::MAX_CLOCK_SKEW)
        .unwrap()
        .with_message_lifetime(Settings::MAX_MESSAGE_LIFETIME)
        .unwrap();
    assert_eq!(widest.clock_skew(), Duration::from_secs(3600));
    let v = validator_with(widest);
    // Still accepted at the fixture's time with the widest settings.
    assert!(process_with(&v, &fixture("response-signed"), Some(REQUEST), now()).is_ok());
    for clock in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
        let err = process_with(&v, &fixture("response-signed"), Some(REQUEST), clock).unwrap_err();
        assert!(
            matches!(
                err.code(),
                "expired"
                    | "not_yet_valid"
                    | "issued_in_the_future"
                    | "message_too_old"
                    | "subject_confirmation"
            ),
            "{clock}: {err}"
        );
    }
}

/// A provider that hands an operation to another says so on the accepted login: AwsLcRs does
/// Triple-DES through RustCrypto, and the login carries `crypto_delegated` naming both.
#[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
#[test]
fn a_decryption_the_provider_delegated_is_reported_on_the_login() {
    use fedkit_xmldsig::crypto::{AwsLcRs, Operation, RustCrypto};
    let v = decrypting(Settings::default()).with_provider(&AwsLcRs);
    let delegated = |a: &fedkit_saml::VerifiedAssertion| -> Vec<(&'static str, Operation, &'static str)> {
        a.warnings()
            .iter()
            .filter_map(|w| match w {
                LoginWarning::CryptoDelegated { element, delegation } => {
                    Some((*element, delegation.operation, delegation.to))
                }
                _ => None,
            })
            .collect()
    };
    // `process_with` compares every provider and returns the default's login: ask AwsLcRs alone.
    let accept = |v: &ResponseValidator, name: &str| {
        v.process_xml(
            fixture(name).as_bytes(),
            Some(REQUEST),
            now(),
            &InMemoryReplayCache::new(10),
        )
        .unwrap()
    };
    let a = accept(&v, "encrypted-3des");
    assert_eq!(
        delegated(&a),
        [("EncryptedAssertion", Operation::TripleDesCbcDecrypt, "rustcrypto")]
    );
    let shown = a
        .warnings()
        .iter()
        .find(|w| w.code() == "crypto_delegated")
        .unwrap()
        .to_string();
    assert!(
        shown.contains("aws-lc-rs") && shown.contains("Triple-DES") && shown.contains("Strict"),
        "{shown}"
    );
    // AES-GCM with RSA-OAEP is AWS-LC's own: nothing delegated.
    let a = accept(&v, "encrypted-gcm");
    assert_eq!(delegated(&a), []);
    // The default provider is AwsLcRs (the feature is on): it delegates the same way.
    let a = accept(&decrypting(Settings::default()), "encrypted-3des");
    assert_eq!(
        delegated(&a),
        [("EncryptedAssertion", Operation::TripleDesCbcDecrypt, "rustcrypto")]
    );
    // RustCrypto does everything itself.
    let a = accept(
        &decrypting(Settings::default()).with_provider(&RustCrypto),
        "encrypted-3des",
    );
    assert_eq!(delegated(&a), []);
}

/// A host signs users in with fedkit-saml alone: keys and providers are re-exported, and are
/// the very types of fedkit-xmldsig (no second copy to convert between).
#[test]
fn keys_and_providers_are_reachable_from_fedkit_saml_alone() {
    let keys: fedkit_xmldsig::TrustedKeys = fedkit_saml::TrustedKeys::from_pem(IDP_CERT).unwrap();
    let idp = IdentityProvider::new("https://idp.example.org", keys).unwrap();
    let provider: &'static dyn fedkit_saml::crypto::CryptoProvider = fedkit_saml::crypto::default_provider();
    let v = ResponseValidator::new(
        ServiceProvider::new(
            "https://app.example.com/saml/metadata",
            ["https://app.example.com/saml/acs"],
        )
        .unwrap(),
        idp,
    )
    .with_decryption_key(fedkit_saml::DecryptionKey::from_pem(SP_KEY).unwrap())
    .with_provider(provider);
    // The very provider fedkit-xmldsig's default is: one type, no copy to convert between.
    assert_eq!(
        provider.name(),
        fedkit_saml::fedkit_xmldsig::crypto::default_provider().name()
    );
    let expected = if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "rustcrypto"
    };
    assert_eq!(provider.name(), expected);
    drop(v);
}
