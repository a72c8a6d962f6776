//! Conformance tests for SAML Core §1.3 and §2–3, Profiles §4.1 and the SP metadata fedkit
//! writes (Metadata §2.4.4), each named after the clause it proves. `docs/conformance.md`
//! cites them; `tests/conformance_matrix.rs` checks that every cited test exists.
//!
//! Every Response here is built from the template below and signed at run time with the
//! test IdP key (`data/keys/idp.key.pem`) by fedkit's own signer, so a test changes exactly
//! one thing inside the signature and only the check under test can refuse it. None is ignored:
//! a rule fedkit did not enforce would be stated by a test marked
//! `#[ignore = "NOT ENFORCED: ..."]` and listed as a gap in the matrix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{DateTime, TimeZone, Utc};
use fedkit_saml::request::AuthnRequest;
use fedkit_saml::response::SAML_NS;
use fedkit_saml::sp_metadata::SpMetadata;
use fedkit_saml::{
    Error, IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider, VerifiedAssertion,
};
use fedkit_xmldsig::crypto::default_provider;
use fedkit_xmldsig::sign::sign_enveloped;
use fedkit_xmldsig::{Document, SigningKey, TrustedKeys};

const IDP: &str = "https://idp.example.com/saml";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const REQUEST: &str = "_req-c0ffee";
const IDP_KEY: &str = include_str!("data/keys/idp.key.pem");
const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const SP_CERT: &str = include_str!("data/keys/sp.crt.pem");
const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// The Response every test starts from: SP-initiated, issued at 10:00:00, valid until
/// 10:05:00; the Response (`_r1`) and the assertion (`_a1`) are unsigned until signed below.
const TEMPLATE: &str = concat!(
    r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" "#,
    r#"ID="_r1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z" Destination="https://app.example.com/saml/acs" InResponseTo="_req-c0ffee">"#,
    r#"<saml:Issuer>https://idp.example.com/saml</saml:Issuer>"#,
    r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
    r#"<saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z">"#,
    r#"<saml:Issuer>https://idp.example.com/saml</saml:Issuer>"#,
    r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane@example.com</saml:NameID>"#,
    r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">"#,
    r#"<saml:SubjectConfirmationData InResponseTo="_req-c0ffee" NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="https://app.example.com/saml/acs"/>"#,
    r#"</saml:SubjectConfirmation></saml:Subject>"#,
    r#"<saml:Conditions NotBefore="2026-11-22T09:59:00Z" NotOnOrAfter="2026-11-22T10:05:00Z">"#,
    r#"<saml:AudienceRestriction><saml:Audience>https://app.example.com/saml/metadata</saml:Audience></saml:AudienceRestriction>"#,
    r#"</saml:Conditions>"#,
    r#"<saml:AuthnStatement AuthnInstant="2026-11-22T09:59:58Z" SessionIndex="_s1"><saml:AuthnContext>"#,
    r#"<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>"#,
    r#"</saml:AuthnContext></saml:AuthnStatement>"#,
    r#"<saml:AttributeStatement><saml:Attribute Name="memberOf">"#,
    r#"<saml:AttributeValue>Engineering</saml:AttributeValue><saml:AttributeValue>Admins</saml:AttributeValue>"#,
    r#"</saml:Attribute></saml:AttributeStatement>"#,
    r#"</saml:Assertion></samlp:Response>"#
);

const BEARER_DATA: &str = r#"<saml:SubjectConfirmationData InResponseTo="_req-c0ffee" NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="https://app.example.com/saml/acs"/>"#;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap()
}

/// Replaces the first `from` with `to`; panics when `from` is absent, so a test can never
/// pass because its edit silently did nothing.
fn edit(xml: &str, from: &str, to: &str) -> String {
    assert!(xml.contains(from), "the template has no {from:?}");
    xml.replacen(from, to, 1)
}

fn key() -> SigningKey {
    SigningKey::from_pem(IDP_KEY).unwrap()
}

/// Signs the element with ID `id`, placing the signature after its Issuer when it has one.
fn sign(xml: &str, id: &str, after_issuer: bool) -> String {
    let after = after_issuer.then_some((SAML_NS, "Issuer"));
    sign_enveloped(xml, id, after, &key(), None, default_provider()).unwrap()
}

fn sign_assertion(xml: &str) -> String {
    sign(xml, "_a1", true)
}

fn sign_response(xml: &str) -> String {
    sign(xml, "_r1", true)
}

fn validator() -> ResponseValidator {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    ResponseValidator::new(sp, idp)
}

fn validate(xml: &str) -> Result<VerifiedAssertion, Error> {
    validator().process_xml(
        xml.as_bytes(),
        Some(REQUEST),
        now(),
        &InMemoryReplayCache::new(16),
    )
}

fn refused(xml: &str) -> Error {
    validate(xml).expect_err("must be refused")
}

fn malformed_element(e: &Error) -> &'static str {
    match e {
        Error::Malformed { element, .. } => element,
        other => panic!("expected a Malformed error, got {other:?}"),
    }
}

// ---- Core §1.3: common data types -------------------------------------------------------

#[test]
fn core_1_3_1_non_empty_name_id_accepted() {
    let a = validate(&sign_assertion(TEMPLATE)).unwrap();
    assert_eq!(a.name_id().value, "jane@example.com");
}

#[test]
fn core_1_3_1_empty_name_id_refused() {
    let xml = edit(
        TEMPLATE,
        ">jane@example.com</saml:NameID>",
        ">  \n </saml:NameID>",
    );
    let e = refused(&sign_assertion(&xml));
    assert_eq!(malformed_element(&e), "NameID", "{e}");
}

#[test]
fn core_1_3_3_time_in_utc_accepted() {
    let a = validate(&sign_assertion(TEMPLATE)).unwrap();
    assert_eq!(
        a.authn().instant,
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 59, 58).unwrap()
    );
}

#[test]
fn core_1_3_3_time_without_zone_refused() {
    let xml = edit(
        TEMPLATE,
        r#"AuthnInstant="2026-11-22T09:59:58Z""#,
        r#"AuthnInstant="2026-11-22T09:59:58""#,
    );
    let e = refused(&sign_assertion(&xml));
    assert_eq!(malformed_element(&e), "AuthnStatement", "{e}");
}

/// Times are `xs:dateTime` (Core §1.3.3): forms RFC 3339 allows but XML Schema does not (a
/// lower-case `t`, a space for `T`, a leap second) are refused, like a missing zone.
#[test]
fn core_1_3_3_time_outside_the_xs_datetime_grammar_refused() {
    for bad in [
        "2026-11-22t09:59:58Z",
        "2026-11-22 09:59:58Z",
        "2026-11-22T09:59:60Z",
        "2026-11-22T09:59:58+15:00",
    ] {
        let xml = edit(
            TEMPLATE,
            r#"AuthnInstant="2026-11-22T09:59:58Z""#,
            &format!("AuthnInstant=\"{bad}\""),
        );
        let e = refused(&sign_assertion(&xml));
        assert_eq!(malformed_element(&e), "AuthnStatement", "{bad}: {e}");
    }
}

/// A deviation the matrix lists: an explicit offset is converted to UTC, not refused.
#[test]
fn core_1_3_3_time_with_offset_is_converted_to_utc() {
    let xml = edit(
        TEMPLATE,
        r#"AuthnInstant="2026-11-22T09:59:58Z""#,
        r#"AuthnInstant="2026-11-22T10:59:58+01:00""#,
    );
    let a = validate(&sign_assertion(&xml)).unwrap();
    assert_eq!(
        a.authn().instant,
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 59, 58).unwrap()
    );
}

#[test]
fn core_1_3_3_sent_times_are_utc() {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let at = chrono::FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 22, 11, 0, 0)
        .unwrap()
        .to_utc();
    let xml = AuthnRequest::new(&sp, "https://idp.example.com/sso", [1; 20], at).to_xml();
    let doc = Document::parse(&xml).unwrap();
    assert_eq!(
        doc.root_element().attribute("IssueInstant"),
        Some("2026-11-22T10:00:00Z")
    );
}

#[test]
fn core_1_3_4_duplicate_ids_refused() {
    // The assertion is signed; then the (unsigned) Response takes the assertion's ID.
    let signed = sign_assertion(TEMPLATE);
    let xml = edit(&signed, r#"ID="_r1""#, r#"ID="_a1""#);
    assert_eq!(refused(&xml).code(), "duplicate_id");
}

#[test]
fn core_1_3_4_request_ids_are_random_ncnames() {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let a = AuthnRequest::new(&sp, "https://idp.example.com/sso", [0x11; 20], now());
    let b = AuthnRequest::new(&sp, "https://idp.example.com/sso", [0x12; 20], now());
    assert_ne!(a.id(), b.id());
    for id in [a.id(), b.id()] {
        // An xs:ID is an NCName: it may not start with a digit. 160 bits, hex-encoded.
        assert!(id.starts_with('_'), "{id}");
        assert_eq!(id.len(), 1 + 40, "{id}");
        assert!(id[1..].bytes().all(|c| c.is_ascii_hexdigit()), "{id}");
    }
}

/// Core §1.3.4: an identifier that must not collide by chance SHOULD do so with a
/// probability of at most 2^-160: the ID carries all 160 bits of the 20 random bytes.
#[test]
fn core_1_3_4_request_ids_carry_160_random_bits() {
    use fedkit_saml::request::ID_RANDOM_BYTES;
    assert_eq!(ID_RANDOM_BYTES * 8, 160);
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let mut random = [0x11; ID_RANDOM_BYTES];
    let first = AuthnRequest::new(&sp, "https://idp.example.com/sso", random, now());
    let hex = first.id().strip_prefix('_').unwrap();
    assert_eq!(hex.len(), 40, "{}", first.id());
    // Every one of the 160 bits shows in the ID: flipping any bit changes it.
    for bit in 0..160 {
        random[bit / 8] ^= 1 << (bit % 8);
        let other = AuthnRequest::new(&sp, "https://idp.example.com/sso", random, now());
        assert_ne!(other.id(), first.id(), "bit {bit} is lost");
        random[bit / 8] ^= 1 << (bit % 8);
    }
}

// ---- Core §2: assertions ----------------------------------------------------------------

#[test]
fn core_2_3_3_complete_assertion_accepted() {
    let a = validate(&sign_assertion(TEMPLATE)).unwrap();
    assert_eq!(a.id(), "_a1");
    assert_eq!(a.issuer(), IDP);
}

#[test]
fn core_2_3_3_assertion_id_required_refused() {
    // Signed through the Response, which needs no ID on the assertion to cover it.
    let xml = edit(TEMPLATE, r#"<saml:Assertion ID="_a1""#, "<saml:Assertion");
    let e = refused(&sign_response(&xml));
    assert_eq!(malformed_element(&e), "Assertion", "{e}");
}

#[test]
fn core_2_3_3_assertion_issuer_required_refused() {
    let xml = edit(
        TEMPLATE,
        r#"IssueInstant="2026-11-22T10:00:00Z"><saml:Issuer>https://idp.example.com/saml</saml:Issuer><saml:Subject>"#,
        r#"IssueInstant="2026-11-22T10:00:00Z"><saml:Subject>"#,
    );
    let e = refused(&sign(&xml, "_a1", false));
    assert!(matches!(&e, Error::Issuer { found: None, .. }), "{e:?}");
}

#[test]
fn core_2_3_3_assertion_issue_instant_required_refused() {
    let xml = edit(
        TEMPLATE,
        r#"<saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-11-22T10:00:00Z">"#,
        r#"<saml:Assertion ID="_a1" Version="2.0">"#,
    );
    assert_eq!(refused(&sign_assertion(&xml)).code(), "malformed");
}

#[test]
fn core_2_4_1_subject_required_refused() {
    let start = TEMPLATE.find("<saml:Subject>").unwrap();
    let end = TEMPLATE.find("</saml:Subject>").unwrap() + "</saml:Subject>".len();
    let xml = format!("{}{}", &TEMPLATE[..start], &TEMPLATE[end..]);
    let e = refused(&sign_assertion(&xml));
    assert_eq!(malformed_element(&e), "Assertion", "{e}");
}

fn with_confirmations(confirmations: &[(&str, &str)]) -> String {
    let all: String = confirmations
        .iter()
        .map(|(method, recipient)| {
            format!(
                r#"<saml:SubjectConfirmation Method="{method}">{}</saml:SubjectConfirmation>"#,
                BEARER_DATA.replace(ACS, recipient)
            )
        })
        .collect();
    let one = format!(
        r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">{BEARER_DATA}</saml:SubjectConfirmation>"#
    );
    edit(TEMPLATE, &one, &all)
}

const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const HOLDER_OF_KEY: &str = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key";

#[test]
fn core_2_4_1_1_any_satisfied_confirmation_accepted() {
    let xml = with_confirmations(&[(BEARER, "https://elsewhere.example/acs"), (BEARER, ACS)]);
    let a = validate(&sign_assertion(&xml)).unwrap();
    assert_eq!(a.name_id().value, "jane@example.com");
}

#[test]
fn core_2_4_1_1_no_satisfied_confirmation_refused() {
    let xml = with_confirmations(&[
        (BEARER, "https://elsewhere.example/acs"),
        (BEARER, "https://other.example/acs"),
    ]);
    match refused(&sign_assertion(&xml)) {
        Error::SubjectConfirmation { reasons } => assert_eq!(reasons.len(), 2, "{reasons:?}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn core_2_4_1_1_holder_of_key_only_refused() {
    let xml = with_confirmations(&[(HOLDER_OF_KEY, ACS)]);
    match refused(&sign_assertion(&xml)) {
        Error::SubjectConfirmation { reasons } => {
            assert!(reasons[0].contains("not bearer"), "{reasons:?}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn core_2_7_2_authn_instant_required_refused() {
    let xml = edit(TEMPLATE, r#" AuthnInstant="2026-11-22T09:59:58Z""#, "");
    let e = refused(&sign_assertion(&xml));
    assert_eq!(malformed_element(&e), "AuthnStatement", "{e}");
}

#[test]
fn core_2_7_3_1_attribute_values_read_in_order_accepted() {
    let a = validate(&sign_assertion(TEMPLATE)).unwrap();
    assert_eq!(
        a.attribute("memberOf"),
        Some(&["Engineering".to_owned(), "Admins".to_owned()][..])
    );
}

#[test]
fn core_2_7_3_1_attribute_name_required_refused() {
    let xml = edit(
        TEMPLATE,
        r#"<saml:Attribute Name="memberOf">"#,
        "<saml:Attribute>",
    );
    let e = refused(&sign_assertion(&xml));
    assert_eq!(malformed_element(&e), "Attribute", "{e}");
}

// ---- Core §3: protocols -----------------------------------------------------------------

#[test]
fn core_3_2_1_authn_request_carries_id_version_and_issue_instant() {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let request = AuthnRequest::new(&sp, "https://idp.example.com/sso", [7; 20], now());
    let xml = request.to_xml();
    let doc = Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().namespace(), Some(SAMLP_NS));
    assert_eq!(root.tag_name().name(), "AuthnRequest");
    assert_eq!(root.attribute("ID"), Some(request.id()));
    assert_eq!(root.attribute("Version"), Some("2.0"));
    assert_eq!(root.attribute("IssueInstant"), Some("2026-11-22T10:01:00Z"));
}

#[test]
fn core_3_2_2_destination_absent_on_unsigned_response_accepted() {
    let xml = edit(TEMPLATE, r#" Destination="https://app.example.com/saml/acs""#, "");
    validate(&sign_assertion(&xml)).unwrap();
}

#[test]
fn core_3_2_2_destination_when_present_must_match_refused() {
    // Only the assertion is signed: the Response's Destination is unsigned, and still checked.
    let xml = edit(
        TEMPLATE,
        r#"Destination="https://app.example.com/saml/acs""#,
        r#"Destination="https://other.example.com/saml/acs""#,
    );
    assert_eq!(refused(&sign_assertion(&xml)).code(), "destination_mismatch");
}

#[test]
fn core_3_2_2_response_id_required_refused() {
    let signed = sign_assertion(TEMPLATE);
    let xml = edit(&signed, r#" ID="_r1""#, "");
    assert_eq!(refused(&xml).code(), "malformed");
}

#[test]
fn core_3_2_2_1_status_required_refused() {
    let xml = edit(
        TEMPLATE,
        r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>"#,
        "",
    );
    let e = refused(&sign_assertion(&xml));
    assert_eq!(malformed_element(&e), "Response", "{e}");
}

#[test]
fn core_3_2_2_2_top_level_status_must_be_success_refused() {
    let xml = edit(
        TEMPLATE,
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#,
        r#"<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:StatusCode>"#,
    );
    // A second-level Success does not make a failed Response a success.
    match refused(&sign_assertion(&xml)) {
        Error::Status {
            status, second_level, ..
        } => {
            assert_eq!(status, "urn:oasis:names:tc:SAML:2.0:status:Responder");
            assert_eq!(
                second_level.as_deref(),
                Some("urn:oasis:names:tc:SAML:2.0:status:Success")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn core_3_4_1_authn_request_names_acs_url_and_binding_not_index() {
    let sp = ServiceProvider::new(SP, [ACS, "https://app.example.com/saml/acs2"]).unwrap();
    let xml = AuthnRequest::new(&sp, "https://idp.example.com/sso", [7; 20], now()).to_xml();
    let doc = Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("AssertionConsumerServiceURL"), Some(ACS));
    assert_eq!(
        root.attribute("ProtocolBinding"),
        Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
    );
    assert_eq!(root.attribute("AssertionConsumerServiceIndex"), None);
}

// ---- Profiles §4.1 ----------------------------------------------------------------------

#[test]
fn profiles_4_1_4_1_authn_request_issuer_is_the_sp_entity_id() {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let xml = AuthnRequest::new(&sp, "https://idp.example.com/sso", [7; 20], now())
        .with_name_id_format("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        .to_xml();
    let doc = Document::parse(&xml).unwrap();
    let root = doc.root_element();
    let issuer = root
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "Issuer")
        .unwrap();
    assert_eq!(issuer.tag_name().namespace(), Some(SAML_NS));
    assert_eq!(issuer.text(), Some(SP));
    // Format omitted (it defaults to ...:nameid-format:entity), and no Subject at all, so no
    // SubjectConfirmation either.
    assert_eq!(issuer.attribute("Format"), None);
    assert!(!root.children().any(|c| c.tag_name().name() == "Subject"));
}

#[test]
fn profiles_4_1_4_5_assertion_signed_through_the_response_accepted() {
    let a = validate(&sign_response(TEMPLATE)).unwrap();
    assert_eq!(a.signed(), &[fedkit_saml::SignedPart::Response]);
}

#[test]
fn profiles_4_1_4_5_unsigned_assertion_refused() {
    assert_eq!(refused(TEMPLATE).code(), "unsigned");
}

#[test]
fn profiles_4_1_4_5_replayed_assertion_refused() {
    let xml = sign_assertion(TEMPLATE);
    let cache = InMemoryReplayCache::new(16);
    let v = validator();
    v.process_xml(xml.as_bytes(), Some(REQUEST), now(), &cache)
        .unwrap();
    // Still within the confirmation window (10:05:00): the same assertion cannot log in again.
    let later = Utc.with_ymd_and_hms(2026, 11, 22, 10, 4, 0).unwrap();
    let again = v
        .process_xml(xml.as_bytes(), Some(REQUEST), later, &cache)
        .unwrap_err();
    assert_eq!(again.code(), "replay");
}

// ---- Metadata §2.4.4: the SP metadata fedkit writes -------------------------------------

/// An `AssertionConsumerService`: Binding, Location, index, isDefault.
type Acs = (String, String, String, Option<String>);

/// The SPSSODescriptor's `protocolSupportEnumeration` and its ACS endpoints.
fn sp_metadata_root(xml: &str) -> (String, Vec<Acs>) {
    let doc = Document::parse(xml).unwrap();
    let sp = doc
        .root_element()
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == "SPSSODescriptor")
        .expect("an SPSSODescriptor");
    let protocols = sp
        .attribute("protocolSupportEnumeration")
        .unwrap_or_default()
        .to_owned();
    let acs = sp
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "AssertionConsumerService")
        .map(|c| {
            (
                c.attribute("Binding").unwrap_or_default().to_owned(),
                c.attribute("Location").unwrap_or_default().to_owned(),
                c.attribute("index").unwrap_or_default().to_owned(),
                c.attribute("isDefault").map(str::to_owned),
            )
        })
        .collect();
    (protocols, acs)
}

#[test]
fn metadata_2_4_4_sp_metadata_lists_each_acs_with_binding_and_unique_index() {
    let second = "https://app.example.com/saml/acs2";
    let sp = ServiceProvider::new(SP, [ACS, second]).unwrap();
    let (protocols, acs) = sp_metadata_root(&SpMetadata::new(&sp).to_xml());
    assert!(protocols.split_ascii_whitespace().any(|p| p == SAMLP_NS));
    let post = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    assert_eq!(
        acs,
        vec![
            (
                post.to_owned(),
                ACS.to_owned(),
                "0".to_owned(),
                Some("true".to_owned())
            ),
            (post.to_owned(), second.to_owned(), "1".to_owned(), None),
        ]
    );
}

#[test]
fn metadata_2_4_4_authn_requests_signed_follows_the_signing_certificate() {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let unsigned = SpMetadata::new(&sp).to_xml();
    assert!(unsigned.contains(r#"AuthnRequestsSigned="false""#), "{unsigned}");
    assert!(unsigned.contains(r#"WantAssertionsSigned="true""#), "{unsigned}");
    let signed = SpMetadata::new(&sp)
        .signing_certificates(SP_CERT)
        .unwrap()
        .to_xml();
    assert!(signed.contains(r#"AuthnRequestsSigned="true""#), "{signed}");
    assert!(signed.contains(r#"<md:KeyDescriptor use="signing">"#), "{signed}");
}

#[test]
fn metadata_2_4_1_1_sp_key_descriptors_name_their_use() {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let xml = SpMetadata::new(&sp)
        .signing_certificates(SP_CERT)
        .unwrap()
        .encryption_certificates(SP_CERT)
        .unwrap()
        .to_xml();
    let doc = Document::parse(&xml).unwrap();
    let uses: Vec<Option<&str>> = doc
        .root_element()
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "KeyDescriptor")
        .map(|n| n.attribute("use"))
        .collect();
    assert_eq!(uses, vec![Some("signing"), Some("encryption")]);
}
