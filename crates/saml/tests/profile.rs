//! The SAML 2.0 Web Browser SSO profile's rules for the SP, clause by clause (Profiles
//! §4.1.4.2–4.1.4.3, Core §2.5.1, §2.3.3, §3.2, and the message-age hardening). Each rule has
//! a test that accepts and one that refuses, named after its clause: docs/conformance.md
//! cites them, and `conformance_matrix.rs` checks that every cited test exists.
//!
//! The Responses are built here and signed for real with fedkit-xmldsig's signer and the test
//! IdP key (`data/keys/idp.key.pem`, whose certificate the validator pins); fedkit's signer
//! is itself checked against the xmlsec1 CLI in fedkit-xmldsig's oracle tests. Negative
//! inputs that need a change after signing (an unsigned part removed) say so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, TimeZone, Utc};
use fedkit_saml::{
    Error, IdentityProvider, InMemoryReplayCache, InMemoryRequestStore, RequestStore, ResponseValidator,
    ServiceProvider, Settings, SignedPart, VerifiedAssertion,
};
use fedkit_xmldsig::crypto::all_providers;
use fedkit_xmldsig::{SigningKey, TrustedKeys};

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const REQUEST: &str = "_req-7f3a";
const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const IDP_KEY: &str = include_str!("data/keys/idp.key.pem");
const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
}

/// 10:01:00, a minute after the Responses below are issued.
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

fn unsolicited_allowed() -> ResponseValidator {
    validator_with(Settings::default().with_idp_initiated(true))
}

/// Runs `xml` through a fresh replay cache with every crypto provider; all must agree.
fn run(
    v: &ResponseValidator,
    xml: &str,
    request: Option<&str>,
    now: DateTime<Utc>,
) -> Result<VerifiedAssertion, Error> {
    let mut results = all_providers().into_iter().map(|p| {
        let v = v.clone().with_provider(p);
        v.process_xml(xml.as_bytes(), request, now, &InMemoryReplayCache::new(10))
    });
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(other, first, "providers disagree");
    }
    first
}

fn accepted(xml: &str) -> VerifiedAssertion {
    run(&validator(), xml, Some(REQUEST), now()).unwrap_or_else(|e| panic!("refused: {e}\n{xml}"))
}

fn refused(xml: &str) -> Error {
    match run(&validator(), xml, Some(REQUEST), now()) {
        Ok(_) => panic!("accepted:\n{xml}"),
        Err(e) => e,
    }
}

/// Which elements the IdP signs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    Assertion,
    Response,
    Both,
}

/// A JumpCloud-shaped Response with every part adjustable. The defaults make a valid
/// SP-initiated Response to `REQUEST`, issued at 10:00:00, valid 09:59:00–10:05:00, with the
/// assertion signed.
#[derive(Clone)]
struct Builder {
    sign: Sign,
    response_version: &'static str,
    assertion_version: &'static str,
    response_issue_instant: String,
    assertion_issue_instant: String,
    /// The Response's Issuer element (None: absent).
    response_issuer: Option<String>,
    /// The assertion's Issuer element.
    assertion_issuer: String,
    destination: Option<String>,
    response_in_response_to: Option<String>,
    confirmation_in_response_to: Option<String>,
    /// The attributes of SubjectConfirmationData other than InResponseTo.
    confirmation_attributes: String,
    /// The whole Conditions element (None: absent).
    conditions: Option<String>,
    /// The AuthnStatement elements.
    authn_statements: String,
}

fn conditions(inner: &str) -> Option<String> {
    Some(format!(
        r#"<saml2:Conditions NotBefore="2026-11-22T09:59:00Z" NotOnOrAfter="2026-11-22T10:05:00Z">{inner}</saml2:Conditions>"#
    ))
}

/// Conditions valid from `not_before` to `not_on_or_after` (times of 2026-11-22), naming
/// this SP.
fn window(not_before: &str, not_on_or_after: &str) -> Option<String> {
    Some(format!(
        r#"<saml2:Conditions NotBefore="2026-11-22T{not_before}Z" NotOnOrAfter="2026-11-22T{not_on_or_after}Z">{}</saml2:Conditions>"#,
        audience(SP)
    ))
}

/// A bearer confirmation for the ACS URL, valid until `not_on_or_after` (2026-11-22).
fn confirmed_until(not_on_or_after: &str) -> String {
    format!(r#"NotOnOrAfter="2026-11-22T{not_on_or_after}Z" Recipient="{ACS}""#)
}

/// The default Response, signed, with `extra` conditions after the AudienceRestriction.
fn with_conditions(extra: &str) -> String {
    Builder {
        conditions: conditions(&(audience(SP) + extra)),
        ..Builder::default()
    }
    .build()
}

/// `xml` is refused as malformed, for the reason `why`.
fn assert_malformed(xml: &str, why: &str) {
    let err = refused(xml);
    assert_eq!(err.code(), "malformed", "{err}");
    assert!(err.to_string().contains(why), "{err}");
}

fn audience(value: &str) -> String {
    format!("<saml2:AudienceRestriction><saml2:Audience>{value}</saml2:Audience></saml2:AudienceRestriction>")
}

fn authn_statement(session_not_on_or_after: &str) -> String {
    format!(
        r#"<saml2:AuthnStatement AuthnInstant="2026-11-22T09:59:58Z" SessionIndex="_session-31d8" SessionNotOnOrAfter="{session_not_on_or_after}"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>"#
    )
}

fn issuer(value: &str) -> String {
    format!("<saml2:Issuer>{value}</saml2:Issuer>")
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            sign: Sign::Assertion,
            response_version: "2.0",
            assertion_version: "2.0",
            response_issue_instant: "2026-11-22T10:00:00Z".into(),
            assertion_issue_instant: "2026-11-22T10:00:00Z".into(),
            response_issuer: Some(issuer(IDP)),
            assertion_issuer: issuer(IDP),
            destination: Some(ACS.into()),
            response_in_response_to: Some(REQUEST.into()),
            confirmation_in_response_to: Some(REQUEST.into()),
            confirmation_attributes: confirmed_until("10:05:00"),
            conditions: conditions(&audience(SP)),
            authn_statements: authn_statement("2026-11-22T18:00:00Z"),
        }
    }
}

impl Builder {
    /// The unsigned document.
    fn template(&self) -> String {
        let attr = |name: &str, value: &Option<String>| {
            value
                .as_ref()
                .map(|v| format!(r#" {name}="{v}""#))
                .unwrap_or_default()
        };
        format!(
            r#"<saml2p:Response xmlns:saml2p="{SAMLP}" xmlns:saml2="{SAML}" ID="_resp-5c2e" Version="{}" IssueInstant="{}"{}{}>{}<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status><saml2:Assertion ID="_assert-9b41" Version="{}" IssueInstant="{}">{}<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane.doe@example.com</saml2:NameID><saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData{} {}/></saml2:SubjectConfirmation></saml2:Subject>{}{}<saml2:AttributeStatement><saml2:Attribute Name="email"><saml2:AttributeValue>jane.doe@example.com</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement></saml2:Assertion></saml2p:Response>"#,
            self.response_version,
            self.response_issue_instant,
            attr("Destination", &self.destination),
            attr("InResponseTo", &self.response_in_response_to),
            self.response_issuer.as_deref().unwrap_or_default(),
            self.assertion_version,
            self.assertion_issue_instant,
            self.assertion_issuer,
            attr("InResponseTo", &self.confirmation_in_response_to),
            self.confirmation_attributes,
            self.conditions.as_deref().unwrap_or_default(),
            self.authn_statements,
        )
    }

    /// The document signed by the IdP key as `sign` says (assertion first, then the
    /// Response around it).
    fn build(&self) -> String {
        let key = SigningKey::from_pem(IDP_KEY).unwrap();
        let provider = fedkit_xmldsig::crypto::default_provider();
        let mut xml = self.template();
        if matches!(self.sign, Sign::Assertion | Sign::Both) {
            xml = fedkit_xmldsig::sign::sign_enveloped(
                &xml,
                "_assert-9b41",
                Some((SAML, "Issuer")),
                &key,
                None,
                provider,
            )
            .unwrap();
        }
        if matches!(self.sign, Sign::Response | Sign::Both) {
            let after = self.response_issuer.as_ref().map(|_| (SAML, "Issuer"));
            xml = fedkit_xmldsig::sign::sign_enveloped(&xml, "_resp-5c2e", after, &key, None, provider)
                .unwrap();
        }
        xml
    }
}

// ---------------------------------------------------------------------------------------
// Profiles §4.1.4.2 / §4.1.4.3: InResponseTo binds a login to a request only when signed.

#[test]
fn profiles_4_1_4_3_in_response_to_from_signed_confirmation_accepted() {
    // Only the assertion is signed; its bearer SubjectConfirmationData names the request.
    let xml = Builder::default().build();
    assert_eq!(accepted(&xml).in_response_to(), Some(REQUEST));
    // Without the (unsigned) Response attribute it is still bound.
    let xml = Builder {
        response_in_response_to: None,
        ..Builder::default()
    }
    .build();
    assert_eq!(accepted(&xml).in_response_to(), Some(REQUEST));
}

#[test]
fn profiles_4_1_4_3_in_response_to_from_signed_response_accepted() {
    let xml = Builder {
        sign: Sign::Response,
        confirmation_in_response_to: None,
        ..Builder::default()
    }
    .build();
    let a = accepted(&xml);
    assert_eq!(a.in_response_to(), Some(REQUEST));
    assert_eq!(a.signed(), [SignedPart::Response]);
}

#[test]
fn profiles_4_1_4_3_in_response_to_only_on_unsigned_response_refused() {
    // The shape of the attack: an unsolicited assertion (signed, no InResponseTo) inside an
    // unsigned Response that claims to answer the SP's request.
    let xml = Builder {
        confirmation_in_response_to: None,
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::InResponseToNotSigned {
            found: REQUEST.into()
        }
    );
    assert_eq!(err.code(), "in_response_to_unsigned");
    assert!(err.to_string().contains("no signature covers"), "{err}");
    // Where IdP-initiated logins are allowed, it is one: the unsigned claim binds nothing.
    let a = run(&unsolicited_allowed(), &xml, Some(REQUEST), now()).unwrap();
    assert_eq!(a.in_response_to(), None);
    // And an unsigned claim naming another request still refuses (it can refuse, never accept).
    let other = Builder {
        confirmation_in_response_to: None,
        response_in_response_to: Some("_req-other".into()),
        ..Builder::default()
    }
    .build();
    assert_eq!(
        run(&unsolicited_allowed(), &other, Some(REQUEST), now())
            .unwrap_err()
            .code(),
        "in_response_to_mismatch"
    );
}

#[test]
fn profiles_4_1_4_2_in_response_to_signed_values_agree_accepted() {
    let xml = Builder {
        sign: Sign::Both,
        ..Builder::default()
    }
    .build();
    assert_eq!(accepted(&xml).in_response_to(), Some(REQUEST));
}

#[test]
fn profiles_4_1_4_2_in_response_to_signed_values_disagree_refused() {
    let xml = Builder {
        sign: Sign::Response,
        confirmation_in_response_to: Some("_req-other".into()),
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::InResponseToDisagree {
            response: REQUEST.into(),
            confirmation: "_req-other".into()
        }
    );
    assert_eq!(err.code(), "in_response_to_disagree");
}

#[test]
fn profiles_4_1_4_3_in_response_to_must_equal_the_request_refused() {
    let xml = Builder {
        response_in_response_to: Some("_req-other".into()),
        confirmation_in_response_to: Some("_req-other".into()),
        ..Builder::default()
    }
    .build();
    assert_eq!(
        refused(&xml),
        Error::InResponseTo {
            expected: Some(REQUEST.into()),
            found: Some("_req-other".into())
        }
    );
}

#[test]
fn profiles_4_1_4_3_unsolicited_without_in_response_to_accepted() {
    let xml = Builder {
        response_in_response_to: None,
        confirmation_in_response_to: None,
        ..Builder::default()
    }
    .build();
    let a = run(&unsolicited_allowed(), &xml, None, now()).unwrap();
    assert_eq!(a.in_response_to(), None);
    // Not allowed by default.
    assert_eq!(
        run(&validator(), &xml, None, now()).unwrap_err(),
        Error::Unsolicited
    );
}

#[test]
fn profiles_4_1_4_3_unsolicited_with_in_response_to_refused() {
    // An unsolicited Response's SubjectConfirmationData must not carry InResponseTo.
    let xml = Builder::default().build();
    assert_eq!(
        run(&unsolicited_allowed(), &xml, None, now()).unwrap_err(),
        Error::InResponseTo {
            expected: None,
            found: Some(REQUEST.into())
        }
    );
}

#[test]
fn profiles_4_1_4_3_request_store_consumed_only_by_signed_binding() {
    let store = InMemoryRequestStore::new(4);
    store.remember(REQUEST, at(10, 10, 0), at(10, 0, 0)).unwrap();
    let replay = InMemoryReplayCache::new(10);
    let unsigned_claim = Builder {
        confirmation_in_response_to: None,
        ..Builder::default()
    }
    .build();
    // Refused, and the request stays outstanding for the real Response.
    let err = validator()
        .process_xml_with_store(unsigned_claim.as_bytes(), &store, now(), &replay)
        .unwrap_err();
    assert_eq!(err.code(), "in_response_to_unsigned");
    assert_eq!(store.is_outstanding(REQUEST, now()), Ok(true));
    // Allowed as an IdP-initiated login, it still spends nobody's request.
    let a = unsolicited_allowed()
        .process_xml_with_store(unsigned_claim.as_bytes(), &store, now(), &replay)
        .unwrap();
    assert_eq!(a.in_response_to(), None);
    assert_eq!(store.is_outstanding(REQUEST, now()), Ok(true));
    // The signed binding consumes it.
    let signed = Builder::default().build();
    let replay = InMemoryReplayCache::new(10);
    let a = validator()
        .process_xml_with_store(signed.as_bytes(), &store, now(), &replay)
        .unwrap();
    assert_eq!(a.in_response_to(), Some(REQUEST));
    assert_eq!(store.is_outstanding(REQUEST, now()), Ok(false));
}

// ---------------------------------------------------------------------------------------
// Profiles §4.1.4.2: what every Web SSO assertion must contain.

#[test]
fn profiles_4_1_4_2_authn_statement_required_accepted() {
    let a = accepted(&Builder::default().build());
    assert_eq!(a.authn().session_index.as_deref(), Some("_session-31d8"));
    assert_eq!(a.authn().instant, at(9, 59, 58));
}

#[test]
fn profiles_4_1_4_2_authn_statement_required_refused() {
    let xml = Builder {
        authn_statements: String::new(),
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(err, Error::NoAuthnStatement);
    assert_eq!(err.code(), "authn_statement_missing");
    assert!(err.to_string().contains("no AuthnStatement"), "{err}");
}

#[test]
fn profiles_4_1_4_3_earliest_session_not_on_or_after_honoured() {
    // Two AuthnStatements: the session ends at the earlier of their SessionNotOnOrAfter.
    let xml = Builder {
        authn_statements: authn_statement("2026-11-22T18:00:00Z") + &authn_statement("2026-11-22T12:00:00Z"),
        ..Builder::default()
    }
    .build();
    assert_eq!(accepted(&xml).authn().session_not_on_or_after, Some(at(12, 0, 0)));
    // One that has passed refuses the login.
    let xml = Builder {
        authn_statements: authn_statement("2026-11-22T18:00:00Z") + &authn_statement("2026-11-22T10:00:30Z"),
        ..Builder::default()
    }
    .build();
    let err = run(&validator(), &xml, Some(REQUEST), at(10, 2, 30)).unwrap_err();
    assert!(
        matches!(err, Error::Expired { what, .. } if what.contains("SessionNotOnOrAfter")),
        "{err:?}"
    );
}

#[test]
fn profiles_4_1_4_2_bearer_recipient_required_accepted() {
    assert!(accepted(&Builder::default().build())
        .signed()
        .contains(&SignedPart::Assertion));
}

#[test]
fn profiles_4_1_4_2_bearer_recipient_required_refused() {
    for (attributes, why) in [
        (
            r#"NotOnOrAfter="2026-11-22T10:05:00Z""#.to_owned(),
            "Recipient is absent",
        ),
        (
            r#"NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="https://evil.example/acs""#.to_owned(),
            "Recipient is \"https://evil.example/acs\"",
        ),
    ] {
        let xml = Builder {
            confirmation_attributes: attributes,
            ..Builder::default()
        }
        .build();
        let err = refused(&xml);
        assert_eq!(err.code(), "subject_confirmation");
        assert!(err.to_string().contains(why), "{err}");
    }
}

#[test]
fn profiles_4_1_4_2_bearer_not_on_or_after_required_accepted() {
    // In the window (10:05:00, 120 s skew): accepted at 10:06:59 with a long message lifetime.
    let v = validator_with(
        Settings::default()
            .with_message_lifetime(std::time::Duration::from_secs(3600))
            .unwrap(),
    );
    let xml = Builder {
        conditions: window("09:59:00", "11:00:00"),
        ..Builder::default()
    }
    .build();
    assert!(run(&v, &xml, Some(REQUEST), at(10, 6, 59)).is_ok());
    let err = run(&v, &xml, Some(REQUEST), at(10, 7, 0)).unwrap_err();
    assert!(
        err.to_string().contains("SubjectConfirmationData expired"),
        "{err}"
    );
}

#[test]
fn profiles_4_1_4_2_bearer_not_on_or_after_required_refused() {
    let xml = Builder {
        confirmation_attributes: format!(r#"Recipient="{ACS}""#),
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(err.code(), "subject_confirmation");
    assert!(err.to_string().contains("has no NotOnOrAfter"), "{err}");
}

#[test]
fn profiles_4_1_4_2_bearer_not_before_honoured_accepted() {
    // The profile forbids IdPs to send NotBefore here; fedkit honours one rather than refusing
    // the Response (docs/conformance.md).
    let xml = Builder {
        confirmation_attributes: format!(
            r#"NotBefore="2026-11-22T09:59:00Z" NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="{ACS}""#
        ),
        ..Builder::default()
    }
    .build();
    accepted(&xml);
}

#[test]
fn profiles_4_1_4_2_bearer_not_before_honoured_refused() {
    let xml = Builder {
        confirmation_attributes: format!(
            r#"NotBefore="2026-11-22T10:04:00Z" NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="{ACS}""#
        ),
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(err.code(), "subject_confirmation");
    assert!(err.to_string().contains("not valid before"), "{err}");
}

#[test]
fn profiles_4_1_4_2_bearer_confirmation_required_refused() {
    // Only a holder-of-key confirmation: not a bearer assertion.
    let xml = Builder::default().template().replace(
        "urn:oasis:names:tc:SAML:2.0:cm:bearer",
        "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key",
    );
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let xml = fedkit_xmldsig::sign::sign_enveloped(
        &xml,
        "_assert-9b41",
        Some((SAML, "Issuer")),
        &key,
        None,
        fedkit_xmldsig::crypto::default_provider(),
    )
    .unwrap();
    let err = refused(&xml);
    assert_eq!(err.code(), "subject_confirmation");
    assert!(err.to_string().contains("is not bearer"), "{err}");
}

#[test]
fn profiles_4_1_4_2_audience_restriction_required_accepted() {
    // Two restrictions must both name the SP; within one, any Audience may.
    let xml = Builder {
        conditions: conditions(&format!(
            "{}<saml2:AudienceRestriction><saml2:Audience>https://other.example</saml2:Audience><saml2:Audience>{SP}</saml2:Audience></saml2:AudienceRestriction>",
            audience(SP)
        )),
        ..Builder::default()
    }
    .build();
    accepted(&xml);
}

#[test]
fn profiles_4_1_4_2_audience_restriction_required_refused() {
    // Conditions without an AudienceRestriction.
    let xml = Builder {
        conditions: conditions(""),
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::NoAudienceRestriction {
            expected: SP.into(),
            conditions_present: true
        }
    );
    assert_eq!(err.code(), "audience_restriction_missing");
    // No Conditions at all.
    let xml = Builder {
        conditions: None,
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::NoAudienceRestriction {
            expected: SP.into(),
            conditions_present: false
        }
    );
    assert!(err.to_string().contains("no Conditions at all"), "{err}");
    // A second restriction that does not name this SP.
    let xml = with_conditions(&audience("https://other.example"));
    assert_eq!(refused(&xml).code(), "audience_mismatch");
}

#[test]
fn profiles_4_1_4_2_response_issuer_when_signed_accepted() {
    // A signed Response with its Issuer; an unsigned one may omit it.
    let signed = Builder {
        sign: Sign::Response,
        ..Builder::default()
    }
    .build();
    accepted(&signed);
    let unsigned_without = Builder {
        response_issuer: None,
        ..Builder::default()
    }
    .build();
    accepted(&unsigned_without);
}

#[test]
fn profiles_4_1_4_2_response_issuer_when_signed_refused() {
    let xml = Builder {
        sign: Sign::Response,
        response_issuer: None,
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::ResponseIssuerMissing {
            expected: IDP.into(),
            encrypted: false
        }
    );
    assert_eq!(err.code(), "issuer_missing");
    // Present but another IdP's.
    let xml = Builder {
        sign: Sign::Both,
        response_issuer: Some(issuer("https://other-idp.example")),
        ..Builder::default()
    }
    .build();
    assert_eq!(refused(&xml).code(), "issuer_mismatch");
}

#[test]
fn profiles_4_1_4_2_response_issuer_when_encrypted_refused() {
    // xmlsec1 encrypted a signed assertion (tests/data/generate.sh); the Response around it
    // is unsigned, so removing its Issuer touches no signature.
    let path = format!(
        "{}/tests/data/signed/encrypted-gcm.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let xml = std::fs::read_to_string(path).unwrap();
    let key = || fedkit_xmldsig::DecryptionKey::from_pem(include_str!("data/keys/sp.key.pem")).unwrap();
    let v = validator().with_decryption_key(key());
    let replay = || InMemoryReplayCache::new(10);
    v.process_xml(xml.as_bytes(), Some(REQUEST), now(), &replay())
        .unwrap();
    let start = xml.find("<saml2:Issuer").unwrap();
    let end = xml.find("</saml2:Issuer>").unwrap() + "</saml2:Issuer>".len();
    let without = format!("{}{}", &xml[..start], &xml[end..]);
    let err = v
        .process_xml(without.as_bytes(), Some(REQUEST), now(), &replay())
        .unwrap_err();
    assert_eq!(
        err,
        Error::ResponseIssuerMissing {
            expected: IDP.into(),
            encrypted: true
        }
    );
    assert!(err.to_string().contains("EncryptedAssertion"), "{err}");
}

#[test]
fn profiles_4_1_4_2_issuer_format_entity_accepted() {
    let with_format = format!(r#"<saml2:Issuer Format="{ENTITY}">{IDP}</saml2:Issuer>"#);
    let xml = Builder {
        sign: Sign::Both,
        response_issuer: Some(with_format.clone()),
        assertion_issuer: with_format,
        ..Builder::default()
    }
    .build();
    accepted(&xml);
}

#[test]
fn profiles_4_1_4_2_issuer_format_entity_refused() {
    let email = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
    let with_format = format!(r#"<saml2:Issuer Format="{email}">{IDP}</saml2:Issuer>"#);
    let assertion = Builder {
        assertion_issuer: with_format.clone(),
        ..Builder::default()
    }
    .build();
    let err = refused(&assertion);
    assert_eq!(
        err,
        Error::IssuerFormat {
            part: SignedPart::Assertion,
            format: email.into()
        }
    );
    assert_eq!(err.code(), "issuer_format");
    let response = Builder {
        sign: Sign::Both,
        response_issuer: Some(with_format),
        ..Builder::default()
    }
    .build();
    assert_eq!(
        refused(&response),
        Error::IssuerFormat {
            part: SignedPart::Response,
            format: email.into()
        }
    );
}

#[test]
fn core_3_2_2_response_version_accepted() {
    let xml = Builder {
        sign: Sign::Both,
        ..Builder::default()
    }
    .build();
    accepted(&xml);
}

#[test]
fn core_3_2_2_response_version_refused() {
    let xml = Builder {
        sign: Sign::Both,
        response_version: "2.1",
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::Version {
            element: "Response",
            found: Some("2.1".into())
        }
    );
    assert_eq!(err.code(), "version_unsupported");
}

#[test]
fn core_2_3_3_assertion_version_refused() {
    let xml = Builder {
        assertion_version: "1.1",
        ..Builder::default()
    }
    .build();
    assert_eq!(
        refused(&xml),
        Error::Version {
            element: "Assertion",
            found: Some("1.1".into())
        }
    );
}

// ---------------------------------------------------------------------------------------
// Core §2.5.1: Conditions.

#[test]
fn core_2_5_1_unknown_condition_refused() {
    // A generic Condition with an xsi:type, and an element of another namespace.
    for (condition, named) in [
        (
            r#"<saml2:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ext="urn:example:conditions" xsi:type="ext:DeviceTrust"/>"#,
            "of type {urn:example:conditions}DeviceTrust",
        ),
        (
            r#"<ext:Geo xmlns:ext="urn:example:conditions"/>"#,
            "{urn:example:conditions}Geo",
        ),
    ] {
        let xml = with_conditions(condition);
        let err = refused(&xml);
        assert_eq!(err.code(), "condition_not_understood");
        assert!(err.to_string().contains(named), "{err}");
    }
}

#[test]
fn core_2_5_1_second_conditions_refused() {
    let one = conditions(&audience(SP)).unwrap();
    let xml = Builder {
        conditions: Some(format!("{one}{one}")),
        ..Builder::default()
    }
    .build();
    assert_malformed(&xml, "more than one Conditions");
}

#[test]
fn core_2_5_1_known_conditions_accepted() {
    let xml = with_conditions("<saml2:OneTimeUse/><saml2:ProxyRestriction Count=\"0\"/>");
    assert!(accepted(&xml).one_time_use());
}

#[test]
fn core_2_5_1_2_not_before_accepted() {
    // NotBefore after the IssueInstant (10:03), so that the window, not the IssueInstant,
    // decides: with 120 s of skew, valid from 10:01:00.
    let xml = Builder {
        conditions: window("10:03:00", "10:08:00"),
        ..Builder::default()
    }
    .build();
    assert!(run(&validator(), &xml, Some(REQUEST), at(10, 1, 0)).is_ok());
}

#[test]
fn core_2_5_1_2_not_before_refused() {
    let xml = Builder {
        conditions: window("10:03:00", "10:08:00"),
        ..Builder::default()
    }
    .build();
    assert_eq!(
        run(&validator(), &xml, Some(REQUEST), at(10, 0, 59)).unwrap_err(),
        Error::NotYetValid {
            not_before: at(10, 3, 0),
            now: at(10, 0, 59),
            skew_seconds: 120
        }
    );
}

#[test]
fn core_2_5_1_2_not_before_earlier_than_not_on_or_after_refused() {
    let xml = Builder {
        conditions: window("10:05:00", "10:05:00"),
        ..Builder::default()
    }
    .build();
    assert_malformed(&xml, "never valid");
}

#[test]
fn core_2_5_1_2_not_on_or_after_refused() {
    // Conditions until 10:05:00 (confirmation later), 120 s of skew; a long message lifetime
    // so that only the Conditions decide.
    let xml = Builder {
        confirmation_attributes: confirmed_until("11:00:00"),
        ..Builder::default()
    }
    .build();
    let v = validator_with(
        Settings::default()
            .with_message_lifetime(std::time::Duration::from_secs(3600))
            .unwrap(),
    );
    assert!(run(&v, &xml, Some(REQUEST), at(10, 6, 59)).is_ok());
    let err = run(&v, &xml, Some(REQUEST), at(10, 7, 0)).unwrap_err();
    assert_eq!(
        err,
        Error::Expired {
            what: "assertion (Conditions NotOnOrAfter)",
            not_on_or_after: at(10, 5, 0),
            now: at(10, 7, 0),
            skew_seconds: 120
        }
    );
}

#[test]
fn core_2_5_1_5_one_time_use_honoured_accepted() {
    // OneTimeUse asks the SP not to reuse the assertion: the replay cache allows every
    // assertion one use anyway.
    let xml = with_conditions("<saml2:OneTimeUse/>");
    let v = validator();
    let cache = InMemoryReplayCache::new(10);
    let a = v
        .process_xml(xml.as_bytes(), Some(REQUEST), now(), &cache)
        .unwrap();
    assert!(a.one_time_use());
    assert_eq!(
        v.process_xml(xml.as_bytes(), Some(REQUEST), now(), &cache)
            .unwrap_err()
            .code(),
        "replay"
    );
}

#[test]
fn core_2_5_1_5_one_time_use_at_most_once_refused() {
    let xml = with_conditions("<saml2:OneTimeUse/><saml2:OneTimeUse/>");
    assert_malformed(&xml, "more than one OneTimeUse");
}

#[test]
fn core_2_5_1_6_proxy_restriction_accepted() {
    let xml = with_conditions("<saml2:ProxyRestriction Count=\"0\"/>");
    accepted(&xml);
}

#[test]
fn core_2_5_1_6_proxy_restriction_at_most_once_refused() {
    let xml = with_conditions("<saml2:ProxyRestriction/><saml2:ProxyRestriction/>");
    assert!(refused(&xml)
        .to_string()
        .contains("more than one ProxyRestriction"));
}

// ---------------------------------------------------------------------------------------
// Message age (hardening beyond the text, as OpenSAML's message lifetime).

#[test]
fn hardening_message_age_within_lifetime_accepted() {
    let xml = Builder::default().build();
    // Issued 10:00:00; lifetime 180 s plus 120 s of skew: accepted until 10:05:00.
    let v = validator_with(
        Settings::default()
            .with_clock_skew(std::time::Duration::from_secs(120))
            .unwrap(),
    );
    let conditions_until_later = Builder {
        conditions: window("09:59:00", "11:00:00"),
        confirmation_attributes: confirmed_until("11:00:00"),
        ..Builder::default()
    }
    .build();
    assert!(run(&v, &xml, Some(REQUEST), at(9, 58, 0)).is_ok());
    assert!(run(&v, &conditions_until_later, Some(REQUEST), at(10, 5, 0)).is_ok());
}

#[test]
fn hardening_message_age_too_old_refused() {
    // Conditions and confirmation valid for an hour: only the IssueInstant refuses.
    let xml = Builder {
        conditions: window("09:59:00", "11:00:00"),
        confirmation_attributes: confirmed_until("11:00:00"),
        ..Builder::default()
    }
    .build();
    let err = run(&validator(), &xml, Some(REQUEST), at(10, 5, 1)).unwrap_err();
    assert_eq!(
        err,
        Error::MessageTooOld {
            part: SignedPart::Response,
            issue_instant: at(10, 0, 0),
            now: at(10, 5, 1),
            lifetime_seconds: 180,
            skew_seconds: 120
        }
    );
    assert_eq!(err.code(), "message_too_old");
    // The lifetime is a setting.
    let longer = validator_with(
        Settings::default()
            .with_message_lifetime(std::time::Duration::from_secs(600))
            .unwrap(),
    );
    assert!(run(&longer, &xml, Some(REQUEST), at(10, 5, 1)).is_ok());
    // The assertion's IssueInstant counts too (a fresh Response around an old assertion).
    let old_assertion = Builder {
        assertion_issue_instant: "2026-11-22T09:50:00Z".into(),
        conditions: window("09:49:00", "11:00:00"),
        ..Builder::default()
    }
    .build();
    let err = refused(&old_assertion);
    assert!(
        matches!(
            err,
            Error::MessageTooOld {
                part: SignedPart::Assertion,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn hardening_message_age_issued_in_the_future_refused() {
    // The IdP's clock 5 minutes ahead: beyond the 120 s skew.
    let xml = Builder {
        assertion_issue_instant: "2026-11-22T10:06:00Z".into(),
        ..Builder::default()
    }
    .build();
    let err = refused(&xml);
    assert_eq!(
        err,
        Error::IssuedInTheFuture {
            part: SignedPart::Assertion,
            issue_instant: at(10, 6, 0),
            now: now(),
            skew_seconds: 120
        }
    );
    assert_eq!(err.code(), "issued_in_the_future");
    assert!(err.to_string().contains("clock is ahead"), "{err}");
}

#[test]
fn core_3_2_2_issue_instant_required_refused() {
    let xml = Builder {
        sign: Sign::Both,
        ..Builder::default()
    }
    .template()
    .replace(
        r#" IssueInstant="2026-11-22T10:00:00Z" Destination"#,
        " Destination",
    );
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let provider = fedkit_xmldsig::crypto::default_provider();
    let xml = fedkit_xmldsig::sign::sign_enveloped(
        &xml,
        "_resp-5c2e",
        Some((SAML, "Issuer")),
        &key,
        None,
        provider,
    )
    .unwrap();
    let err = refused(&xml);
    assert!(
        err.to_string().contains("IssueInstant attribute is missing"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Profiles §4.1.3.5 (and §4.1.4.5, E26): an assertion delivered over HTTP-POST is protected
// by its own signature or by the Response's. An EncryptedAssertion inside a signed Response
// (the Shibboleth IdP's default, a common Okta setting) is protected by the Response
// signature when that signature covers the EncryptedAssertion and every EncryptedKey that
// decrypts it.
//
// The assertions are encrypted here, at test time, for the test SP certificate
// (`data/keys/sp.key.pem`): AES-256-GCM or AES-128-CBC content with RSA-OAEP (MGF1-SHA1)
// key transport, through the RustCrypto crates; the Response is then signed by fedkit's
// signer. The xmlsec1-encrypted and xmlsec1-signed `encrypted-unsigned-assertion.xml`
// fixture is the independent evidence (`api.rs`).

const SP_KEY: &str = include_str!("data/keys/sp.key.pem");
const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";

/// The content-encryption algorithm.
#[derive(Clone, Copy, Debug)]
enum Content {
    Gcm,
    Cbc,
}

/// Where the EncryptedKey goes.
#[derive(Clone, Copy, Debug)]
enum KeyPlace {
    /// Inside the EncryptedData's KeyInfo (Shibboleth's inline placement).
    InKeyInfo,
    /// Beside the EncryptedData in the EncryptedAssertion, named by a RetrievalMethod
    /// (OpenSAML's "peer" placement).
    Retrieved,
    /// Beside the EncryptedData, with no KeyInfo at all.
    Beside,
}

/// `assertion` encrypted for the SP: the base64 ciphertext, the base64 wrapped session key,
/// and the content algorithm's URI.
fn encrypt(assertion: &str, content: Content) -> (String, String, &'static str) {
    use aes_gcm::aead::{Aead as _, KeyInit as _};
    use base64::Engine as _;
    use cbc::cipher::{block_padding::Pkcs7, BlockEncryptMut as _, KeyIvInit as _};
    use rand_core::RngCore as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let pem: String = SP_KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(pem).unwrap();
    let public = rsa::RsaPublicKey::from(rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap());
    let mut rng = rand_core::OsRng;
    let (session, data, uri) = match content {
        Content::Gcm => {
            let mut session = [0u8; 32];
            let mut nonce = [0u8; 12];
            rng.fill_bytes(&mut session);
            rng.fill_bytes(&mut nonce);
            let cipher = aes_gcm::Aes256Gcm::new_from_slice(&session).unwrap();
            let mut data = nonce.to_vec();
            data.extend(
                cipher
                    .encrypt(&aes_gcm::Nonce::from(nonce), assertion.as_bytes())
                    .unwrap(),
            );
            (
                session.to_vec(),
                data,
                "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            )
        }
        Content::Cbc => {
            let mut session = [0u8; 16];
            let mut iv = [0u8; 16];
            rng.fill_bytes(&mut session);
            rng.fill_bytes(&mut iv);
            let cipher = cbc::Encryptor::<aes::Aes128>::new(&session.into(), &iv.into());
            let mut data = iv.to_vec();
            data.extend(cipher.encrypt_padded_vec_mut::<Pkcs7>(assertion.as_bytes()));
            (
                session.to_vec(),
                data,
                "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            )
        }
    };
    let wrapped = public
        .encrypt(&mut rng, rsa::Oaep::new::<sha1::Sha1>(), &session)
        .unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    (b64(&data), b64(&wrapped), uri)
}

/// An `xenc:EncryptedKey` carrying `wrapped`, with the `Id` `id` if given.
fn encrypted_key(wrapped: &str, id: Option<&str>) -> String {
    let id = id.map_or_else(String::new, |id| format!(" Id=\"{id}\""));
    format!(
        r#"<xenc:EncryptedKey xmlns:xenc="{XENC}"{id}><xenc:EncryptionMethod Algorithm="{XENC}rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue>{wrapped}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>"#
    )
}

/// A KeyInfo whose RetrievalMethod names the EncryptedKey with the `Id` `id`.
fn retrieval(id: &str) -> String {
    format!(
        r##"<ds:KeyInfo xmlns:ds="{DSIG}"><ds:RetrievalMethod Type="{XENC}EncryptedKey" URI="#{id}"/></ds:KeyInfo>"##
    )
}

/// An `EncryptedAssertion` of `assertion`, its key placed as `place`.
fn encrypted_assertion(assertion: &str, content: Content, place: KeyPlace) -> String {
    let (data, wrapped, uri) = encrypt(assertion, content);
    let (key_info, beside) = match place {
        KeyPlace::InKeyInfo => (
            format!(
                r#"<ds:KeyInfo xmlns:ds="{DSIG}">{}</ds:KeyInfo>"#,
                encrypted_key(&wrapped, None)
            ),
            String::new(),
        ),
        KeyPlace::Retrieved => (retrieval("_key-1"), encrypted_key(&wrapped, Some("_key-1"))),
        KeyPlace::Beside => (String::new(), encrypted_key(&wrapped, None)),
    };
    format!(
        r#"<saml2:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element"><xenc:EncryptionMethod Algorithm="{uri}"/>{key_info}<xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>{beside}</saml2:EncryptedAssertion>"#
    )
}

/// The `saml2:Assertion` element of `xml`, and the text before and after it.
fn split_assertion(xml: &str) -> (&str, &str, &str) {
    let start = xml.find("<saml2:Assertion ").unwrap();
    let end = xml.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len();
    (&xml[..start], &xml[start..end], &xml[end..])
}

/// Signs the Response of `xml` (its ID `_resp-5c2e`) after its Issuer.
fn sign_response(xml: &str) -> String {
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    fedkit_xmldsig::sign::sign_enveloped(
        xml,
        "_resp-5c2e",
        Some((SAML, "Issuer")),
        &key,
        None,
        fedkit_xmldsig::crypto::default_provider(),
    )
    .unwrap()
}

/// The default Response with its assertion (signed first if `sign_assertion`) encrypted for
/// the SP, `around` applied to the EncryptedAssertion's text, then the Response signed if
/// `sign`.
fn encrypted_response_with(
    builder: &Builder,
    sign_assertion: bool,
    content: Content,
    place: KeyPlace,
    sign: bool,
) -> String {
    let xml = if sign_assertion {
        Builder {
            sign: Sign::Assertion,
            ..builder.clone()
        }
        .build()
    } else {
        builder.template()
    };
    let (before, assertion, after) = split_assertion(&xml);
    let xml = format!(
        "{before}{}{after}",
        encrypted_assertion(assertion, content, place)
    );
    if sign {
        sign_response(&xml)
    } else {
        xml
    }
}

fn encrypted_response(content: Content, place: KeyPlace, sign: bool) -> String {
    encrypted_response_with(&Builder::default(), false, content, place, sign)
}

fn decrypting_with(settings: Settings) -> ResponseValidator {
    validator_with(settings).with_decryption_key(fedkit_xmldsig::DecryptionKey::from_pem(SP_KEY).unwrap())
}

fn decrypting() -> ResponseValidator {
    decrypting_with(Settings::default())
}

fn decrypted(xml: &str) -> Result<VerifiedAssertion, Error> {
    run(&decrypting(), xml, Some(REQUEST), now())
}

#[test]
fn profiles_4_1_3_5_encrypted_assertion_in_signed_response_accepted() {
    for content in [Content::Gcm, Content::Cbc] {
        for place in [KeyPlace::InKeyInfo, KeyPlace::Retrieved, KeyPlace::Beside] {
            let xml = encrypted_response(content, place, true);
            assert!(!xml.contains("<saml2:Assertion"), "{xml}");
            let a = decrypted(&xml).unwrap_or_else(|e| panic!("{content:?} {place:?}: {e}\n{xml}"));
            // Covered by the Response signature, as a plain assertion in a signed Response is.
            assert_eq!(
                a.signed(),
                [SignedPart::Response].as_slice(),
                "{content:?} {place:?}"
            );
            assert_eq!(a.name_id().value, "jane.doe@example.com");
            assert_eq!(a.in_response_to(), Some(REQUEST));
            // The ciphertext is signed content: a flipped byte (what CBC malleability and the
            // decryption-oracle attacks need) breaks the Response digest before anything is
            // decrypted.
            let data = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len() + 40;
            let flipped = if xml.as_bytes()[data] == b'A' { "B" } else { "A" };
            let tampered = format!("{}{flipped}{}", &xml[..data], &xml[data + 1..]);
            assert_eq!(decrypted(&tampered).unwrap_err().code(), "digest_mismatch");
        }
    }
    // An assertion that is signed itself as well: both signatures verify and count.
    let both = encrypted_response_with(&Builder::default(), true, Content::Gcm, KeyPlace::InKeyInfo, true);
    assert_eq!(
        decrypted(&both).unwrap().signed(),
        [SignedPart::Response, SignedPart::Assertion].as_slice()
    );
}

#[test]
fn profiles_4_1_3_5_encrypted_assertion_in_unsigned_response_refused() {
    // Anyone can encrypt an assertion for the SP's public certificate: without a signature
    // over it (the Response's or its own), it proves nothing.
    let xml = encrypted_response(Content::Gcm, KeyPlace::InKeyInfo, false);
    let err = decrypted(&xml).unwrap_err();
    assert_eq!(
        err,
        Error::Unsigned {
            required: fedkit_saml::SigningRequirement::Either,
            response_signed: false,
            assertion_signed: false
        }
    );
    let message = err.to_string();
    assert!(message.contains("is not signed at all"), "{message}");
    assert!(!message.contains("signs only"), "{message}");
    // The SP asks for the assertion's own signature: the Response signature is not enough,
    // and the message says so without contradicting the requirement.
    let signed = encrypted_response(Content::Gcm, KeyPlace::InKeyInfo, true);
    let v = decrypting_with(Settings::default().with_signing(fedkit_saml::SigningRequirement::Assertion));
    let err = run(&v, &signed, Some(REQUEST), now()).unwrap_err();
    assert_eq!(
        err,
        Error::Unsigned {
            required: fedkit_saml::SigningRequirement::Assertion,
            response_signed: true,
            assertion_signed: false
        }
    );
    let message = err.to_string();
    assert!(
        message.contains(
            "requires a signed Assertion, but the Response signs only the Response, not the Assertion"
        ),
        "{message}"
    );
}

/// The default Response with an EncryptedAssertion whose KeyInfo names `_key-1` by a
/// RetrievalMethod, and no EncryptedKey inside the EncryptedAssertion; `extensions` goes into
/// a `samlp:Extensions` before signing. Returns the signed Response and the EncryptedKey
/// that decrypts it.
fn retrieval_elsewhere(extensions: Option<&str>) -> (String, String) {
    let template = Builder::default().template();
    let (before, assertion, after) = split_assertion(&template);
    let (data, wrapped, uri) = encrypt(assertion, Content::Gcm);
    let encrypted = format!(
        r#"<saml2:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="{XENC}" Type="{XENC}Element"><xenc:EncryptionMethod Algorithm="{uri}"/>{}<xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml2:EncryptedAssertion>"#,
        retrieval("_key-1")
    );
    let mut xml = format!("{before}{encrypted}{after}");
    let key = encrypted_key(&wrapped, Some("_key-1"));
    if let Some(inner) = extensions {
        let inner = inner.replace("{key}", &key);
        xml = xml.replacen(
            "<saml2p:Status>",
            &format!("<saml2p:Extensions>{inner}</saml2p:Extensions><saml2p:Status>"),
            1,
        );
    }
    (sign_response(&xml), key)
}

#[test]
fn profiles_4_1_3_5_encrypted_key_outside_signed_subtree_refused() {
    // The signed EncryptedData names its key by RetrievalMethod; the EncryptedKey is added
    // after signing inside the Response's own ds:Signature (a ds:Object), the one place of a
    // signed Response its signature does not cover.
    let (signed, key) = retrieval_elsewhere(None);
    let xml = signed.replacen(
        "</ds:Signature>",
        &format!("<ds:Object>{key}</ds:Object></ds:Signature>"),
        1,
    );
    let err = decrypted(&xml).unwrap_err();
    assert_eq!(err.code(), "encrypted_key_reference", "{err}");
    let Error::EncryptedKeyReference {
        uri,
        problem,
        response_signed,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((uri.as_str(), *response_signed), ("#_key-1", true));
    assert!(
        problem.contains("/Response/Signature/Object/EncryptedKey"),
        "{problem}"
    );
    let message = err.to_string();
    assert!(
        message.contains("which the Response signature does not cover")
            && message.contains("inside the EncryptedAssertion"),
        "{message}"
    );
    // Without the key anywhere, the RetrievalMethod names nothing.
    assert!(decrypted(&signed)
        .unwrap_err()
        .to_string()
        .contains("no element carries the ID \"_key-1\""),);
    // Signed, but outside the EncryptedAssertion (SAML Core §6.2 places the key inside it).
    let (extensions, _) = retrieval_elsewhere(Some("{key}"));
    let err = decrypted(&extensions).unwrap_err();
    assert_eq!(err.code(), "encrypted_key_reference");
    assert!(
        err.to_string()
            .contains("/Response/Extensions/EncryptedKey, outside the EncryptedAssertion"),
        "{err}"
    );
    // Two elements carrying the key's ID: ambiguous, whichever is meant.
    let (twice, _) = retrieval_elsewhere(Some(r#"<x:Other xmlns:x="urn:x" Id="_key-1"/>"#));
    let twice = twice.replacen(
        "</ds:Signature>",
        &format!("<ds:Object>{key}</ds:Object></ds:Signature>"),
        1,
    );
    let err = decrypted(&twice).unwrap_err();
    assert!(
        err.to_string().contains("two elements carry the ID \"_key-1\""),
        "{err}"
    );
}

#[test]
fn profiles_4_1_3_5_encrypted_assertion_wrapping_refused() {
    // The IdP signed a Response with Jane's encrypted assertion; the attacker encrypted an
    // unsigned assertion for Mallory to the SP's public certificate (anyone can) and tries to
    // have it read under Jane's signature.
    let signed = encrypted_response(Content::Cbc, KeyPlace::InKeyInfo, true);
    let mallory = Builder::default()
        .template()
        .replace("jane.doe@example.com", "mallory@example.com");
    let forged = encrypted_assertion(split_assertion(&mallory).1, Content::Cbc, KeyPlace::InKeyInfo);
    let start = signed.find("<saml2:EncryptedAssertion>").unwrap();
    let end = signed.find("</saml2:EncryptedAssertion>").unwrap() + "</saml2:EncryptedAssertion>".len();
    let (before, original, after) = (&signed[..start], &signed[start..end], &signed[end..]);
    let cases = [
        // Substituted in place.
        (
            "substituted",
            format!("{before}{forged}{after}"),
            "digest_mismatch",
        ),
        // Beside the signed one.
        (
            "duplicated",
            format!("{before}{original}{forged}{after}"),
            "assertion_count",
        ),
        // The signed one moved into the Response signature's Object, the forged one in its
        // place.
        (
            "moved into ds:Object",
            format!("{before}{forged}{after}").replacen(
                "</ds:Signature>",
                &format!("<ds:Object>{original}</ds:Object></ds:Signature>"),
                1,
            ),
            "assertion_count",
        ),
        // The signed one moved into Extensions.
        (
            "moved into Extensions",
            format!("{before}{forged}{after}").replacen(
                "<saml2p:Status>",
                &format!("<saml2p:Extensions>{original}</saml2p:Extensions><saml2p:Status>"),
                1,
            ),
            "assertion_count",
        ),
        // The whole signed Response wrapped in an unsigned one carrying the forged assertion.
        (
            "wrapped",
            format!(
                "{}{forged}{}",
                &mallory[..mallory.find("<saml2:Assertion ").unwrap()].replacen(
                    "<saml2p:Status>",
                    &format!(
                        "<saml2p:Extensions>{}</saml2p:Extensions><saml2p:Status>",
                        signed.replace("ID=\"_resp-5c2e\"", "ID=\"_resp-original\"")
                    ),
                    1
                ),
                &mallory[mallory.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len()..]
            ),
            "assertion_count",
        ),
    ];
    for (name, xml, code) in cases {
        let err = decrypted(&xml)
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert_eq!(err.code(), code, "{name}: {err}");
    }
    // The forged assertion alone, in an unsigned Response: unsigned.
    let alone = format!(
        "{}{forged}{}",
        &mallory[..mallory.find("<saml2:Assertion ").unwrap()],
        &mallory[mallory.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len()..]
    );
    assert_eq!(decrypted(&alone).unwrap_err().code(), "unsigned");
    // Control: the untouched Response is accepted.
    assert_eq!(
        decrypted(&signed).unwrap().name_id().value,
        "jane.doe@example.com"
    );
}

// ---------------------------------------------------------------------------------------
// Core §1.3.4 (IDs) with XML-DSig: a Reference names its element by the exact ID value.
// Real IdPs issue UUIDs that start with a digit (not an XML NCName); fedkit resolves them by
// value and still refuses any ID carried twice.

/// The default Response signed as `sign`, with the Response and assertion IDs replaced.
fn with_ids(sign: Sign, response_id: &str, assertion_id: &str) -> String {
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let provider = fedkit_xmldsig::crypto::default_provider();
    let mut xml = Builder::default()
        .template()
        .replace("ID=\"_resp-5c2e\"", &format!("ID=\"{response_id}\""))
        .replace("ID=\"_assert-9b41\"", &format!("ID=\"{assertion_id}\""));
    if matches!(sign, Sign::Assertion | Sign::Both) {
        xml = fedkit_xmldsig::sign::sign_enveloped(
            &xml,
            assertion_id,
            Some((SAML, "Issuer")),
            &key,
            None,
            provider,
        )
        .unwrap();
    }
    if matches!(sign, Sign::Response | Sign::Both) {
        xml = fedkit_xmldsig::sign::sign_enveloped(
            &xml,
            response_id,
            Some((SAML, "Issuer")),
            &key,
            None,
            provider,
        )
        .unwrap();
    }
    xml
}

#[test]
fn core_1_3_4_ids_starting_with_a_digit_accepted() {
    for sign in [Sign::Assertion, Sign::Response, Sign::Both] {
        let xml = with_ids(
            sign,
            "7c0f8a52-3b1e-4d59-a0c4-1f2e3d4c5b6a",
            "0e9d8c7b-6a59-4837-b2a1-c0d9e8f7a6b5",
        );
        assert!(xml.contains("URI=\"#7c0f8a52") || xml.contains("URI=\"#0e9d8c7b"));
        let a = accepted(&xml);
        assert_eq!(a.name_id().value, "jane.doe@example.com");
    }
}

#[test]
fn core_1_3_4_duplicate_ids_starting_with_a_digit_refused() {
    // The Response and the assertion carry the same (non-NCName) ID: refused as a duplicate,
    // not as a malformed Reference URI.
    let id = "1b2c3d4e-0000-4000-8000-000000000000";
    for sign in [Sign::Assertion, Sign::Response] {
        let xml = with_ids(sign, "_resp-5c2e", "_assert-9b41")
            .replace("ID=\"_resp-5c2e\"", &format!("ID=\"{id}\""))
            .replace("ID=\"_assert-9b41\"", &format!("ID=\"{id}\""))
            .replace("URI=\"#_resp-5c2e\"", &format!("URI=\"#{id}\""))
            .replace("URI=\"#_assert-9b41\"", &format!("URI=\"#{id}\""));
        let err = refused(&xml);
        assert_eq!(err.code(), "duplicate_id", "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("two elements carry the ID \"{id}\"")),
            "{message}"
        );
    }
}

#[test]
fn profiles_4_1_3_5_plaintext_namespace_bindings_not_covered_refused() {
    // The plaintext is parsed with the namespace bindings the Response signature covered at
    // the EncryptedAssertion: those it uses itself (`saml2`). `saml2p` is declared on the
    // Response but used by no element around the EncryptedAssertion; Exclusive C14N leaves
    // such a declaration unsigned, so a plaintext relying on it is not read.
    let template = Builder::default().template();
    let (before, assertion, after) = split_assertion(&template);
    let with_prefix = |declare: &str| {
        let changed = assertion.replacen(
            "<saml2:Assertion ",
            &format!("<saml2:Assertion {declare}saml2p:note=\"x\" "),
            1,
        );
        sign_response(&format!(
            "{before}{}{after}",
            encrypted_assertion(&changed, Content::Gcm, KeyPlace::InKeyInfo)
        ))
    };
    assert_eq!(
        decrypted(&with_prefix("")).unwrap_err(),
        Error::Decryption(fedkit_xmldsig::xmlenc::XmlEncError::DecryptionFailed)
    );
    // Declared inside the plaintext, it is read.
    let declared = with_prefix(&format!("xmlns:saml2p=\"{SAMLP}\" "));
    assert_eq!(
        decrypted(&declared).unwrap().signed(),
        [SignedPart::Response].as_slice()
    );
}
