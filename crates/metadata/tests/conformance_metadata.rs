//! Conformance tests for SAML Metadata §2.2–§2.4 as an SP consumes IdP metadata, each named
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
use fedkit_metadata::{
    Binding, Error, IdpMetadata, ImportSettings, ImportWarning, SignaturePolicy, UrlProblem,
};

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
    IdpMetadata::from_xml(
        xml.as_bytes(),
        &ImportSettings::new(SignaturePolicy::NotRequired),
        now(),
    )
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

// ---- §2.2.2 EndpointType, §2.3.2 entityID: xs:anyURI values are whitespace-collapsed ----
// XML Schema Part 2 §3.2.17 (anyURI) fixes whiteSpace="collapse" (§4.3.6): line breaks and
// tabs become spaces, runs of spaces one, leading and trailing spaces go. What remains is judged.

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

fn endpoint(element: &str, binding: &str, location: &str) -> String {
    format!(r#"<md:{element} Binding="{binding}" Location="{location}"/>"#)
}

fn with_http() -> ImportSettings {
    ImportSettings::new(SignaturePolicy::NotRequired).dangerous_allow_http_endpoints()
}

fn codes(metadata: &IdpMetadata) -> Vec<&'static str> {
    metadata.warnings().iter().map(ImportWarning::code).collect()
}

#[test]
fn metadata_2_2_2_endpoint_location_whitespace_collapsed_accepted() {
    // A literal line break, a character-referenced one and tabs around the URL, as exports that
    // wrap long attributes produce, and the same around the Binding URI.
    let sso = format!(
        "<md:SingleSignOnService Binding=\"&#10; {REDIRECT}\t\" Location=\"\n   https://idp.example.org/sso&#13;&#10;\t \"/>"
    );
    let children = format!("{}{sso}", key_descriptor(Some("signing"), "idp-rsa"));
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert_eq!(metadata.sso()[0].location, "https://idp.example.org/sso");
    assert_eq!(metadata.sso()[0].binding, Binding::HttpRedirect);
    assert!(metadata.warnings().is_empty(), "{:?}", metadata.warnings());
}

#[test]
fn metadata_2_2_2_endpoint_location_inner_whitespace_refused() {
    // Collapsing keeps one space inside: still not a URL.
    let sso = endpoint(
        "SingleSignOnService",
        REDIRECT,
        "https://idp.example.org/&#10;&#10;sso",
    );
    let children = format!("{}{sso}", key_descriptor(Some("signing"), "idp-rsa"));
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    assert!(
        matches!(&err, Error::UnsafeUrl { url, problem: UrlProblem::BadCharacter, .. } if url == "https://idp.example.org/ sso"),
        "{err:?}"
    );
}

#[test]
fn metadata_2_3_2_entity_id_whitespace_collapsed_accepted() {
    let metadata = parse(&idp(
        "&#10;  https://idp.example.org/saml\t&#10;",
        &saml2_attrs(),
        &signing_and_sso(),
    ))
    .unwrap();
    assert_eq!(metadata.entity_id(), ENTITY);
}

#[test]
fn metadata_2_3_2_entity_id_of_only_whitespace_refused() {
    let err = parse(&idp(" &#10;\t", &saml2_attrs(), &signing_and_sso())).unwrap_err();
    assert_eq!(err.code(), "invalid_value", "{err}");
}

// ---- §2.4.2 SSODescriptorType: endpoints sign-on does not use never refuse the IdP -------

#[test]
fn metadata_2_4_2_plain_http_single_logout_imports_with_a_warning_accepted() {
    let children = format!(
        "{}{}{}{SSO}",
        key_descriptor(Some("signing"), "idp-rsa"),
        endpoint("SingleLogoutService", REDIRECT, "http://idp.example.org/slo"),
        endpoint("SingleLogoutService", POST, "https://idp.example.org/slo/post"),
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert_eq!(codes(&metadata), ["slo_plain_http"]);
    assert!(matches!(
        &metadata.warnings()[0],
        ImportWarning::SloPlainHttp { element, url } if element == "SingleLogoutService #1" && url == "http://idp.example.org/slo"
    ));
    // Only the https endpoint is offered.
    assert_eq!(metadata.slo().len(), 1);
    assert_eq!(metadata.slo()[0].location, "https://idp.example.org/slo/post");
    assert_eq!(
        metadata
            .slo_endpoint(&Binding::HttpPost)
            .unwrap()
            .map(|e| e.location.as_str()),
        Some("https://idp.example.org/slo/post")
    );
    // Allowed http: offered like any other.
    let allowed = IdpMetadata::from_xml(
        idp(ENTITY, &saml2_attrs(), &children).as_bytes(),
        &with_http(),
        now(),
    )
    .unwrap();
    assert!(allowed.warnings().is_empty(), "{:?}", allowed.warnings());
    assert_eq!(
        allowed
            .slo_endpoint(&Binding::HttpRedirect)
            .unwrap()
            .map(|e| e.location.as_str()),
        Some("http://idp.example.org/slo")
    );
}

#[test]
fn metadata_2_4_2_plain_http_single_logout_refused_when_asked_for() {
    let children = format!(
        "{}{}{SSO}",
        key_descriptor(Some("signing"), "idp-rsa"),
        endpoint("SingleLogoutService", REDIRECT, "http://idp.example.org/slo"),
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    let err = metadata.slo_endpoint(&Binding::HttpRedirect).unwrap_err();
    assert_eq!(
        err,
        Error::SloPlainHttp {
            entity_id: ENTITY.to_owned(),
            binding: Binding::HttpRedirect,
            element: "SingleLogoutService #1".to_owned(),
            url: "http://idp.example.org/slo".to_owned(),
        }
    );
    assert_eq!(err.code(), "slo_plain_http");
    let message = err.to_string();
    for part in [
        "SingleLogoutService #1",
        "\"http://idp.example.org/slo\"",
        "plain http://",
        "https:// SingleLogoutService",
        "dangerous_allow_http_endpoints",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
    // A binding the IdP does not offer is simply absent.
    assert_eq!(metadata.slo_endpoint(&Binding::HttpPost), Ok(None));
    // An http ResponseLocation beside an https Location is refused the same way.
    let children = format!(
        r#"{}<md:SingleLogoutService Binding="{REDIRECT}" Location="https://idp.example.org/slo" ResponseLocation="http://idp.example.org/slo/back"/>{SSO}"#,
        key_descriptor(Some("signing"), "idp-rsa"),
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert!(matches!(
        metadata.slo_endpoint(&Binding::HttpRedirect),
        Err(Error::SloPlainHttp { url, .. }) if url == "http://idp.example.org/slo/back"
    ));
}

#[test]
fn metadata_2_4_2_unusable_unused_endpoints_ignored_accepted() {
    // A Shibboleth federation member: SAML 2 sign-on over https, the rest broken in every way.
    let children = format!(
        concat!(
            "{}{}{}{}{}{}",
            r#"<md:ManageNameIDService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="javascript:alert(1)"/>"#,
            r#"<md:NameIDMappingService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="http://idp.example.org/map"/>"#,
            r#"<md:AssertionIDRequestService Binding="urn:oasis:names:tc:SAML:2.0:bindings:URI" Location="/relative"/>"#,
            "{}"
        ),
        key_descriptor(Some("signing"), "idp-rsa"),
        endpoint(
            "ArtifactResolutionService",
            "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
            "http://idp.example.org:8080/idp/profile/SAML2/SOAP/ArtifactResolution"
        ),
        endpoint(
            "ArtifactResolutionService",
            "urn:oasis:names:tc:SAML:1.0:bindings:SOAP-binding",
            "https://user:pw@idp.example.org:8443/idp/profile/SAML1/SOAP/ArtifactResolution"
        ),
        r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP"/>"#,
        endpoint("SingleLogoutService", POST, "javascript:alert(1)"),
        endpoint(
            "SingleSignOnService",
            "urn:mace:shibboleth:1.0:profiles:AuthnRequest",
            "http://idp.example.org/idp/profile/Shibboleth/SSO"
        ),
        SSO,
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert_eq!(codes(&metadata), ["endpoint_ignored"; 5]);
    let elements: Vec<&str> = metadata
        .warnings()
        .iter()
        .map(|w| match w {
            ImportWarning::EndpointIgnored { element, .. } => element.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(
        elements,
        [
            "ArtifactResolutionService #1",
            "ArtifactResolutionService #2",
            "SingleLogoutService #1",
            "SingleLogoutService #2",
            "SingleSignOnService #1"
        ]
    );
    // None of them is offered; the SAML 2.0 sign-on endpoint is.
    assert!(metadata.artifact_resolution().is_empty());
    assert!(metadata.slo().is_empty());
    assert_eq!(metadata.slo_endpoint(&Binding::HttpPost), Ok(None));
    assert_eq!(metadata.sso().len(), 1);
    assert_eq!(metadata.sso()[0].binding, Binding::HttpRedirect);
    // The warnings say what was wrong in the terms of the error it would have been.
    let shib = metadata.warnings()[4].to_string();
    assert!(shib.contains("SingleSignOnService #1 was ignored"), "{shib}");
    assert!(shib.contains("plain http://"), "{shib}");
}

#[test]
fn metadata_2_4_2_unusable_unused_endpoints_never_offered_refused() {
    // Usable ones are offered; unusable ones never are, even where nothing else is listed.
    let children = format!(
        "{}{}{}{SSO}",
        key_descriptor(Some("signing"), "idp-rsa"),
        endpoint(
            "ArtifactResolutionService",
            "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
            "https://idp.example.org:8443/ars"
        ),
        endpoint(
            "ArtifactResolutionService",
            "urn:oasis:names:tc:SAML:2.0:bindings:SOAP",
            "data:text/html,x"
        ),
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    let offered: Vec<&str> = metadata
        .artifact_resolution()
        .iter()
        .map(|e| e.location.as_str())
        .collect();
    assert_eq!(offered, ["https://idp.example.org:8443/ars"]);
    assert!(matches!(
        metadata.warnings(),
        [ImportWarning::EndpointIgnored { element, reason }]
            if element == "ArtifactResolutionService #2"
                && matches!(**reason, Error::UnsafeUrl { problem: UrlProblem::SchemeNotAllowed, .. })
    ));
}

// ---- §2.4.3 IDPSSODescriptor: the SAML 2.0 SingleSignOnService stays strict --------------

#[test]
fn metadata_2_4_3_saml1_single_sign_on_service_unusable_ignored_accepted() {
    // A Shibboleth 1.x / SAML 1 SSO endpoint that cannot be used beside a SAML 2.0 one.
    let children = format!(
        "{}{}{}{SSO}",
        key_descriptor(Some("signing"), "idp-rsa"),
        endpoint(
            "SingleSignOnService",
            "urn:mace:shibboleth:1.0:profiles:AuthnRequest",
            "http://idp.example.org/Shibboleth/SSO"
        ),
        endpoint(
            "SingleSignOnService",
            "urn:oasis:names:tc:SAML:1.0:profiles:browser-post",
            "https://idp.example.org/SAML1/SSO"
        ),
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert_eq!(codes(&metadata), ["endpoint_ignored"]);
    // The usable SAML 1 endpoint is listed as it is; sign-on picks a SAML 2.0 binding.
    let bindings: Vec<&str> = metadata.sso().iter().map(|e| e.binding.short_name()).collect();
    assert_eq!(
        bindings,
        [
            "urn:oasis:names:tc:SAML:1.0:profiles:browser-post",
            "HTTP-Redirect"
        ]
    );
}

#[test]
fn metadata_2_4_3_saml2_single_sign_on_service_plain_http_refused() {
    // Unchanged: a SAML 2.0 SSO endpoint over plain http refuses the IdP by default, with or
    // without an https alternative (logins carry the user to it), unless http is allowed.
    for extra in ["", SSO] {
        let children = format!(
            "{}{}{extra}",
            key_descriptor(Some("signing"), "idp-rsa"),
            endpoint("SingleSignOnService", POST, "http://idp.example.org/sso/post"),
        );
        let xml = idp(ENTITY, &saml2_attrs(), &children);
        let err = parse(&xml).unwrap_err();
        assert!(
            matches!(&err, Error::UnsafeUrl { problem: UrlProblem::PlainHttp, location, .. } if location.element == "SingleSignOnService #1"),
            "{err:?}"
        );
        assert!(IdpMetadata::from_xml(xml.as_bytes(), &with_http(), now()).is_ok());
    }
    // So does a SAML 2.0 SSO endpoint whose Location is missing.
    let children = format!(
        r#"{}<md:SingleSignOnService Binding="{POST}"/>{SSO}"#,
        key_descriptor(Some("signing"), "idp-rsa")
    );
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    assert_eq!(err.code(), "missing", "{err}");
}

// ---- §2.4.1.1 KeyDescriptor: one broken certificate among usable ones ---------------------

/// A KeyDescriptor whose X509Certificate holds `text` as it is.
fn raw_key_descriptor(use_attr: &str, text: &str) -> String {
    format!(
        concat!(
            r#"<md:KeyDescriptor use="{}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">"#,
            r#"<ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
        ),
        use_attr, text
    )
}

#[test]
fn metadata_2_4_1_1_unusable_certificate_among_usable_ones_skipped_accepted() {
    let children = format!(
        "{}{}{}{SSO}",
        raw_key_descriptor("signing", "MIIC!!not-base64"),
        key_descriptor(Some("signing"), "idp-rsa"),
        // Valid base64, not a certificate.
        raw_key_descriptor("signing", "AAECAwQFBgcICQ=="),
    );
    let metadata = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap();
    assert_eq!(metadata.signing_keys().keys().len(), 1);
    let skipped: Vec<usize> = metadata
        .warnings()
        .iter()
        .filter_map(|w| match w {
            ImportWarning::CertificateSkipped { key_descriptor, .. } => Some(*key_descriptor),
            _ => None,
        })
        .collect();
    assert_eq!(skipped, [1, 3]);
    assert_eq!(metadata.certificates()[0].key_descriptor, 2);
}

#[test]
fn metadata_2_4_1_1_no_usable_signing_certificate_refused() {
    // A usable encryption key does not help; the error names each signing certificate.
    let children = format!(
        "{}{}{}{SSO}",
        raw_key_descriptor("signing", "MIIC!!not-base64"),
        raw_key_descriptor("signing", "AAECAwQFBgcICQ=="),
        key_descriptor(Some("encryption"), "idp-rsa"),
    );
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    let Error::NoSigningCertificate { skipped, .. } = &err else {
        panic!("{err:?}")
    };
    let positions: Vec<usize> = skipped.iter().map(|s| s.key_descriptor).collect();
    assert_eq!(positions, [1, 2]);
    let message = err.to_string();
    assert!(
        message.contains("KeyDescriptor #1 (use=\"signing\") was skipped: the certificate cannot be parsed: its base64 text is damaged"),
        "{message}"
    );
    assert!(
        message.contains("KeyDescriptor #2 (use=\"signing\") was skipped"),
        "{message}"
    );
    // A PEM file base64-encoded again is recognised for what it is.
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        cert("idp-rsa")
    );
    use base64::Engine as _;
    let twice = base64::engine::general_purpose::STANDARD.encode(pem);
    let children = format!("{}{SSO}", raw_key_descriptor("signing", &twice));
    let err = parse(&idp(ENTITY, &saml2_attrs(), &children)).unwrap_err();
    assert!(err.to_string().contains("base64-encoded twice"), "{err}");
}
