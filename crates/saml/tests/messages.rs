//! Refusals that name the real cause (issue 16, part 6). Every Response is built at run time
//! and, where a valid signature is needed, signed with fedkit's own signer and the test IdP
//! key (`tests/data/keys/idp.key.pem`, pinned as `idp.crt.pem`). Each test checks the error
//! (variant and stable code) and that the message names the cause and what to change.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use fedkit_saml::{
    Error, IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider, Settings, SignedPart,
    SigningRequirement, VerifiedAssertion,
};
use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::crypto::default_provider;
use fedkit_xmldsig::sign::sign_enveloped;
use fedkit_xmldsig::{
    Document, ParseError, SignatureAlgorithm, SigningKey, TrustedKeys, VerifyError, DSIG_NS,
};

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const REQUEST: &str = "_req-7f3a";
const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const ASSERTION_ID: &str = "_assert-9b41";
const RESPONSE_ID: &str = "_resp-5c2e";
const IDP_KEY: &str = include_str!("data/keys/idp.key.pem");
const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const EC_KEY: &str = include_str!("../../xmldsig/tests/data/oracle/key-ec256.pem");
const ENVELOPED: &str = "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap()
}

/// A JumpCloud-shaped assertion, unsigned.
fn assertion() -> String {
    format!(
        r#"<saml2:Assertion xmlns:saml2="{SAML_NS}" ID="{ASSERTION_ID}" IssueInstant="2026-11-22T10:00:00Z" Version="2.0"><saml2:Issuer>{IDP}</saml2:Issuer><saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane.doe@example.com</saml2:NameID><saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData InResponseTo="{REQUEST}" NotOnOrAfter="2026-11-22T10:05:00Z" Recipient="{ACS}"/></saml2:SubjectConfirmation></saml2:Subject><saml2:Conditions NotBefore="2026-11-22T09:59:00Z" NotOnOrAfter="2026-11-22T10:05:00Z"><saml2:AudienceRestriction><saml2:Audience>{SP}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions><saml2:AuthnStatement AuthnInstant="2026-11-22T09:59:58Z" SessionIndex="_session-31d8"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement><saml2:AttributeStatement><saml2:Attribute Name="email"><saml2:AttributeValue>jane.doe@example.com</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement></saml2:Assertion>"#
    )
}

/// A Response around `assertion` (which may already be signed), unsigned.
fn response(assertion: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<saml2p:Response xmlns:saml2p="{SAMLP_NS}" Destination="{ACS}" ID="{RESPONSE_ID}" InResponseTo="{REQUEST}" IssueInstant="2026-11-22T10:00:00Z" Version="2.0"><saml2:Issuer xmlns:saml2="{SAML_NS}">{IDP}</saml2:Issuer><saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>{assertion}</saml2p:Response>"#
    )
}

fn certificate_der() -> Vec<u8> {
    TrustedKeys::from_pem(IDP_CERT).unwrap().keys()[0]
        .certificate_der()
        .unwrap()
        .to_vec()
}

/// Signs the element `id` of `xml` with `key_pem`, the signature after its Issuer.
fn sign(xml: &str, id: &str, key_pem: &str) -> String {
    let key = SigningKey::from_pem(key_pem).unwrap();
    sign_enveloped(
        xml,
        id,
        Some((SAML_NS, "Issuer")),
        &key,
        Some(&certificate_der()),
        default_provider(),
    )
    .unwrap()
}

/// A valid Response whose Assertion is signed by the pinned IdP key.
fn assertion_signed() -> String {
    sign(&response(&assertion()), ASSERTION_ID, IDP_KEY)
}

fn validator_with(settings: Settings) -> ResponseValidator {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    ResponseValidator::with_settings(sp, idp, settings)
}

fn process_xml(xml: &[u8]) -> Result<VerifiedAssertion, Error> {
    validator_with(Settings::default()).process_xml(xml, Some(REQUEST), now(), &InMemoryReplayCache::new(10))
}

fn process_post(value: &str) -> Result<VerifiedAssertion, Error> {
    validator_with(Settings::default()).process_post(
        value,
        Some(REQUEST),
        now(),
        &InMemoryReplayCache::new(10),
    )
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    bom.then_some(0xFEFF_u16)
        .into_iter()
        .chain(text.encode_utf16())
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// Signs the SignedInfo of the (edited) document again with the IdP key, so that the edit is
/// the only thing wrong: what a misconfigured IdP produces.
fn resign_signed_info(xml: &str) -> String {
    let doc = Document::parse(xml).unwrap();
    let signed_info = doc
        .tree()
        .descendants()
        .find(|n| n.tag_name().namespace() == Some(DSIG_NS) && n.tag_name().name() == "SignedInfo")
        .unwrap();
    let canonical = c14n::canonicalize_subtree_to_vec(
        signed_info,
        &Method::new(Algorithm::Exclusive),
        SubtreeOptions::default(),
    )
    .unwrap();
    let key = SigningKey::from_pem(IDP_KEY).unwrap();
    let value = default_provider()
        .rsa_sign(SignatureAlgorithm::RSA_SHA256, &key, &canonical)
        .unwrap();
    let start = xml.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let end = xml.find("</ds:SignatureValue>").unwrap();
    format!("{}{}{}", &xml[..start], base64(&value), &xml[end..])
}

/// The `ds:Signature` element of a document with one signature, and the document without it.
fn cut_signature(xml: &str) -> (String, String) {
    let start = xml.find("<ds:Signature").unwrap();
    let end = xml.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    (
        xml[start..end].to_owned(),
        format!("{}{}", &xml[..start], &xml[end..]),
    )
}

#[test]
fn the_valid_response_these_tests_start_from_is_accepted() {
    let a = process_xml(assertion_signed().as_bytes()).unwrap();
    assert_eq!(a.signed(), [SignedPart::Assertion]);
    assert_eq!(a.name_id().value, "jane.doe@example.com");
    assert_eq!(a.audiences(), [SP]);
    let both = sign(&assertion_signed(), RESPONSE_ID, IDP_KEY);
    let a = process_post(&base64(both.as_bytes())).unwrap();
    assert_eq!(a.signed(), [SignedPart::Response, SignedPart::Assertion]);
}

#[test]
fn a_utf16_response_is_named_utf16() {
    let xml = assertion_signed().replacen("encoding=\"UTF-8\"", "encoding=\"UTF-16\"", 1);
    for bom in [true, false] {
        let bytes = utf16le(&xml, bom);
        // The base64 of UTF-16 bytes, posted; and the same bytes given as XML.
        for err in [
            process_post(&base64(&bytes)).unwrap_err(),
            process_xml(&bytes).unwrap_err(),
        ] {
            assert_eq!(err, Error::Utf16Encoded { form_value: false }, "bom {bom}");
            assert_eq!(err.code(), "utf16_encoded");
            let message = err.to_string();
            assert!(
                message.contains("UTF-16") && message.contains("must be UTF-8"),
                "{message}"
            );
            assert!(!message.contains("base64"), "{message}");
        }
    }
    // The form value itself as UTF-16 text (a NUL byte after every base64 character).
    let value = String::from_utf8(utf16le(&base64(assertion_signed().as_bytes()), false)).unwrap();
    let err = process_post(&value).unwrap_err();
    assert_eq!(err, Error::Utf16Encoded { form_value: true });
    assert_eq!(err.code(), "utf16_encoded");
    assert!(
        err.to_string().contains("form value") && err.to_string().contains("UTF-16"),
        "{err}"
    );
    // Plain bad base64 is still called that.
    assert_eq!(process_post("PHNhbWxw$$$").unwrap_err().code(), "bad_base64");
}

#[test]
fn a_deflated_response_posted_to_the_post_acs_is_named_the_redirect_encoding() {
    let deflated = miniz_oxide::deflate::compress_to_vec(assertion_signed().as_bytes(), 8);
    for err in [
        process_post(&base64(&deflated)).unwrap_err(),
        process_xml(&deflated).unwrap_err(),
    ] {
        assert_eq!(err, Error::RedirectBindingEncoding);
        assert_eq!(err.code(), "wrong_binding");
        let message = err.to_string();
        assert!(
            message.contains("DEFLATE")
                && message.contains("HTTP-Redirect")
                && message.contains("must use HTTP-POST"),
            "{message}"
        );
        assert!(!message.contains("UTF-8"), "{message}");
    }
    // Bytes that are neither XML nor DEFLATE data stay an XML error.
    let err = process_post(&base64(b"\x8a\x01\xff garbage")).unwrap_err();
    assert_eq!(err.code(), "bad_xml", "{err}");
}

#[test]
fn a_missing_enveloped_transform_is_named() {
    let xml = resign_signed_info(&assertion_signed().replacen(ENVELOPED, "", 1));
    let err = process_xml(xml.as_bytes()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Signature {
                part: SignedPart::Assertion,
                source: VerifyError::Malformed { .. }
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.code(), "signature_malformed");
    let message = err.to_string();
    assert!(
        message.contains("no enveloped-signature transform") && message.contains("Assertion"),
        "{message}"
    );
    assert!(!message.contains("modified"), "{message}");
}

#[test]
fn a_doubled_enveloped_transform_is_named() {
    let doubled = assertion_signed().replacen(ENVELOPED, &ENVELOPED.repeat(2), 1);
    let err = process_xml(resign_signed_info(&doubled).as_bytes()).unwrap_err();
    assert_eq!(err.code(), "signature_malformed");
    let message = err.to_string();
    assert!(
        message.contains("appears twice") && !message.contains("must be the first"),
        "{message}"
    );
}

#[test]
fn an_ecdsa_signature_against_a_pinned_rsa_certificate_is_named() {
    let xml = sign(&response(&assertion()), ASSERTION_ID, EC_KEY);
    let err = process_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::Signature {
            part: SignedPart::Assertion,
            source: VerifyError::NoUsableKey {
                algorithm: "ECDSA-SHA256",
                pinned: 1
            }
        }
    );
    // fedkit-xmldsig's code for the condition (it was the catch-all `signature_malformed`
    // before the signature layer owned its codes).
    assert_eq!(err.code(), "no_usable_key");
    let message = err.to_string();
    assert!(
        message.contains("signs with ECDSA-SHA256")
            && message.contains("holds an RSA key")
            && message.contains("disagree")
            && message.contains("signing algorithm"),
        "{message}"
    );
}

#[test]
fn a_signature_where_no_signature_may_be_is_named() {
    let (signature, unsigned) = cut_signature(&assertion_signed());
    let cases = [
        (
            unsigned.replacen("</saml2:NameID>", &format!("</saml2:NameID>{signature}"), 1),
            "inside Subject",
            "/Response/Assertion/Subject",
        ),
        (
            unsigned.replacen(
                "<saml2:AttributeValue>",
                &format!("{signature}<saml2:AttributeValue>"),
                1,
            ),
            "inside Attribute",
            "/Response/Assertion/AttributeStatement/Attribute",
        ),
        (
            unsigned.replacen(
                "<saml2p:Status>",
                &format!("<saml2p:Extensions>{signature}</saml2p:Extensions><saml2p:Status>"),
                1,
            ),
            "inside Extensions",
            "/Response/Extensions",
        ),
    ];
    for (xml, inside, path) in cases {
        let err = process_xml(xml.as_bytes()).unwrap_err();
        assert_eq!(
            err,
            Error::MisplacedSignature {
                path: path.to_owned(),
                required: SigningRequirement::Either
            }
        );
        assert_eq!(err.code(), "signature_misplaced");
        let message = err.to_string();
        assert!(
            message.contains(inside)
                && message.contains(path)
                && message.contains("only as a direct child of the Response or of the Assertion"),
            "{message}"
        );
        assert!(!message.contains("not signed at all"), "{message}");
    }
    // With no signature anywhere, the message is still the plain one.
    let err = process_xml(unsigned.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("not signed at all"), "{err}");
    assert_eq!(err.code(), "unsigned");
    // Both signatures required, the Response signed and the Assertion's in its Subject.
    let misplaced = unsigned.replacen("</saml2:NameID>", &format!("</saml2:NameID>{signature}"), 1);
    let xml = sign(&misplaced, RESPONSE_ID, IDP_KEY);
    let err = validator_with(Settings::default().with_signing(SigningRequirement::Both))
        .process_xml(
            xml.as_bytes(),
            Some(REQUEST),
            now(),
            &InMemoryReplayCache::new(10),
        )
        .unwrap_err();
    assert_eq!(
        err,
        Error::MisplacedSignature {
            path: "/Response/Assertion/Subject".into(),
            required: SigningRequirement::Both
        }
    );
}

#[test]
fn an_encrypted_assertion_beside_an_assertion_names_both_kinds() {
    let encrypted = format!(
        "<saml2:EncryptedAssertion xmlns:saml2=\"{SAML_NS}\"><xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\"/></saml2:EncryptedAssertion>"
    );
    let xml = assertion_signed().replacen("</saml2p:Response>", &format!("{encrypted}</saml2p:Response>"), 1);
    let err = process_xml(xml.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::AssertionKinds {
            assertions: 1,
            encrypted: 1
        }
    );
    assert_eq!(err.code(), "assertion_count");
    let message = err.to_string();
    assert!(
        message.contains("one Assertion and one EncryptedAssertion"),
        "{message}"
    );
    assert!(!message.contains("contains 2"), "{message}");
    // Two encrypted ones.
    let (start, end) = (
        xml.find("<saml2:Assertion ").unwrap(),
        xml.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len(),
    );
    let two = format!("{}{encrypted}{}", &xml[..start], &xml[end..]);
    let err = process_xml(two.as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("two EncryptedAssertion elements"),
        "{err}"
    );
    // Two plain ones keep their message and variant.
    let plain = assertion_signed().replacen(
        "</saml2p:Response>",
        &format!("{}</saml2p:Response>", assertion()),
        1,
    );
    assert_eq!(
        process_xml(plain.as_bytes()).unwrap_err(),
        Error::AssertionCount { found: 2 }
    );
}

#[test]
fn two_root_elements_are_named() {
    let one = assertion_signed();
    let body = &one[one.find("<saml2p:Response").unwrap()..];
    let twice = format!("{one}\n{body}");
    let err = process_xml(twice.as_bytes()).unwrap_err();
    assert!(
        matches!(&err, Error::Xml(ParseError::Syntax { message, .. }) if message.contains("more than one root element")),
        "{err:?}"
    );
    assert_eq!(err.code(), "bad_xml");
    assert!(!err.to_string().contains("unknown token"), "{err}");
}
