//! Conformance tests for SAML Metadata §2.3–§2.4 as an SP consumes IdP metadata, each named
//! after the clause it proves. `docs/conformance.md` cites them; fedkit-saml's
//! `tests/conformance_matrix.rs` checks that every cited test exists.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use chrono::{DateTime, Utc};
use fedkit_metadata::{Error, IdpMetadata, Options, SignaturePolicy};

const ENTITY: &str = "https://idp.example.org/saml";
const SAML2: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc()
}

/// The base64 body of a test certificate (`tests/data/keys/NAME.crt.pem`).
fn cert(name: &str) -> String {
    let path = format!("{}/tests/data/keys/{name}.crt.pem", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

fn key_descriptor(use_attr: Option<&str>, name: &str) -> String {
    format!(
        concat!(
            r#"<md:KeyDescriptor{}><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
            r#"<ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        ),
        use_attr.map(|u| format!(r#" use="{u}""#)).unwrap_or_default(),
        cert(name)
    )
}

const SSO: &str = r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/>"#;

/// An IdP entity: `entity_id`, the IDPSSODescriptor's extra attributes and its children.
fn idp(entity_id: &str, descriptor_attrs: &str, children: &str) -> String {
    format!(
        concat!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{}">"#,
            r#"<md:IDPSSODescriptor {}>{}</md:IDPSSODescriptor></md:EntityDescriptor>"#
        ),
        entity_id, descriptor_attrs, children
    )
}

fn saml2_attrs() -> String {
    format!(r#"protocolSupportEnumeration="{SAML2}""#)
}

fn signing_and_sso() -> String {
    format!("{}{SSO}", key_descriptor(Some("signing"), "idp-rsa"))
}

fn parse(xml: &str) -> Result<IdpMetadata, Error> {
    IdpMetadata::from_xml(xml.as_bytes(), &Options::new(SignaturePolicy::NotRequired), now())
}

// ---- §2.3.2 EntityDescriptor ------------------------------------------------------------

#[test]
fn metadata_2_3_2_entity_id_of_1024_characters_accepted() {
    let id = format!("https://idp.example.org/{}", "x".repeat(1024 - 24));
    assert_eq!(id.chars().count(), 1024);
    let metadata = parse(&idp(&id, &saml2_attrs(), &signing_and_sso())).unwrap();
    assert_eq!(metadata.entity_id(), id);
}

#[test]
fn metadata_2_3_2_entity_id_over_1024_characters_refused() {
    let id = format!("https://idp.example.org/{}", "x".repeat(1025 - 24));
    let err = parse(&idp(&id, &saml2_attrs(), &signing_and_sso())).unwrap_err();
    assert_eq!(err.code(), "invalid_value", "{err}");
}

// ---- §2.4.1 RoleDescriptor --------------------------------------------------------------

#[test]
fn metadata_2_4_1_saml2_protocol_support_accepted() {
    // SAML 2.0 among other protocols is enough.
    let attrs = format!(r#"protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol {SAML2}""#);
    parse(&idp(ENTITY, &attrs, &signing_and_sso())).unwrap();
}

#[test]
fn metadata_2_4_1_without_saml2_protocol_support_refused() {
    let attrs = r#"protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol""#;
    let err = parse(&idp(ENTITY, attrs, &signing_and_sso())).unwrap_err();
    assert_eq!(err.code(), "no_saml2", "{err}");
}

#[test]
fn metadata_2_4_1_role_valid_until_in_the_future_accepted() {
    let attrs = format!(r#"{} validUntil="2026-11-22T10:00:01Z""#, saml2_attrs());
    let metadata = parse(&idp(ENTITY, &attrs, &signing_and_sso())).unwrap();
    assert_eq!(
        metadata.valid_until(),
        Some(
            DateTime::parse_from_rfc3339("2026-11-22T10:00:01Z")
                .unwrap()
                .to_utc()
        )
    );
}

#[test]
fn metadata_2_4_1_role_valid_until_passed_refused() {
    let attrs = format!(r#"{} validUntil="2026-11-22T10:00:00Z""#, saml2_attrs());
    let err = parse(&idp(ENTITY, &attrs, &signing_and_sso())).unwrap_err();
    assert_eq!(err.code(), "expired", "{err}");
}

// ---- §2.4.1.1 KeyDescriptor -------------------------------------------------------------

#[test]
fn metadata_2_4_1_1_key_without_use_verifies_signatures_accepted() {
    let children = format!("{}{SSO}", key_descriptor(None, "idp-rsa"));
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert_eq!(metadata.signing_keys().keys().len(), 1);
}

#[test]
fn metadata_2_4_1_1_encryption_key_never_verifies_signatures_refused() {
    // Alone, an encryption key leaves the IdP without a signing key...
    let children = format!("{}{SSO}", key_descriptor(Some("encryption"), "idp-rsa"));
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    assert_eq!(err.code(), "no_signing_certificate", "{err}");
    // ...and beside a signing key, it is not among the keys that verify.
    let children = format!(
        "{}{}{SSO}",
        key_descriptor(Some("encryption"), "other"),
        key_descriptor(Some("signing"), "idp-rsa")
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    let pinned = metadata.signing_keys().keys();
    assert_eq!(pinned.len(), 1);
    let only_signing = parse(&idp(ENTITY, &saml2_attrs(), &signing_and_sso())).unwrap();
    assert_eq!(
        pinned[0].fingerprint(),
        only_signing.signing_keys().keys()[0].fingerprint()
    );
}

#[test]
fn metadata_2_4_1_1_unknown_use_refused() {
    let children = format!("{}{SSO}", key_descriptor(Some("verification"), "idp-rsa"));
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    assert_eq!(err.code(), "invalid_value", "{err}");
}

// ---- §2.4.3 IDPSSODescriptor ------------------------------------------------------------

#[test]
fn metadata_2_4_3_single_sign_on_service_present_accepted() {
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &signing_and_sso())).unwrap();
    assert_eq!(metadata.sso().len(), 1);
    assert_eq!(metadata.sso()[0].location, "https://idp.example.org/sso");
}

#[test]
fn metadata_2_4_3_single_sign_on_service_required_refused() {
    let children = key_descriptor(Some("signing"), "idp-rsa");
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    assert_eq!(err.code(), "no_sso_endpoint", "{err}");
}

#[test]
fn metadata_2_4_3_want_authn_requests_signed_is_read() {
    let default = parse(&idp(ENTITY, &saml2_attrs(), &signing_and_sso())).unwrap();
    assert!(!default.want_authn_requests_signed());
    for value in ["true", "1"] {
        let attrs = format!(r#"{} WantAuthnRequestsSigned="{value}""#, saml2_attrs());
        let wants = parse(&idp(ENTITY, &attrs, &signing_and_sso())).unwrap();
        assert!(wants.want_authn_requests_signed(), "{value}");
    }
    let attrs = format!(r#"{} WantAuthnRequestsSigned="yes""#, saml2_attrs());
    let err = parse(&idp(ENTITY, &attrs, &signing_and_sso())).unwrap_err();
    assert_eq!(err.code(), "invalid_value", "{err}");
}
