//! Hostile input: each a precise error, never a panic.

use fedkit_metadata::{
    Error, IdpMetadata, ImportSettings, Limits, Location, Metadata, MetadataLimit, UrlProblem,
};
use fedkit_xmldsig::ParseError;

use crate::{cert_pem, now, unsigned_ok};

/// A minimal valid IdP with `sso` as its SingleSignOnService attributes.
fn idp_with(entity_attrs: &str, sso: &str) -> String {
    let cert: String = cert_pem("idp-rsa")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    format!(
        concat!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" {}>"#,
            r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#,
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>"#,
            r#"<ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
            r#"<md:SingleSignOnService {}/>"#,
            r#"</md:IDPSSODescriptor></md:EntityDescriptor>"#
        ),
        entity_attrs, cert, sso
    )
}

const ENTITY: &str = r#"entityID="https://idp.example.org""#;

fn sso_at(location: &str) -> String {
    format!(r#"Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{location}""#)
}

fn parse(xml: &str) -> Result<IdpMetadata, Error> {
    IdpMetadata::from_xml(xml.as_bytes(), &unsigned_ok(), now())
}

#[test]
fn the_minimal_idp_is_accepted() {
    let idp = parse(&idp_with(ENTITY, &sso_at("https://idp.example.org/sso"))).unwrap();
    assert_eq!(idp.entity_id(), "https://idp.example.org");
}

#[test]
fn dtds_and_entity_tricks() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol2;"/>"#;
    let err = parse(laughs).unwrap_err();
    assert_eq!(err, Error::Xml(ParseError::DtdNotAllowed { line: 1, column: 22 }));
    assert_eq!(err.code(), "dtd_not_allowed");
    let xxe = r#"<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><m/>"#;
    assert_eq!(
        parse(xxe).unwrap_err(),
        Error::Xml(ParseError::DtdNotAllowed { line: 1, column: 1 })
    );
    // An entity reference without a DTD is not well-formed.
    let undeclared = idp_with(r#"entityID="&x;""#, &sso_at("https://idp.example.org/sso"));
    assert!(matches!(
        parse(&undeclared).unwrap_err(),
        Error::Xml(ParseError::Syntax { .. })
    ));
    // Character references are decoded, and then checked like any other value.
    let encoded = idp_with(ENTITY, &sso_at("&#x6A;avascript&#x3A;alert(1)"));
    assert!(matches!(
        parse(&encoded).unwrap_err(),
        Error::UnsafeUrl { url, problem: UrlProblem::SchemeNotAllowed, .. } if url == "javascript:alert(1)"
    ));
    let newline = idp_with(ENTITY, &sso_at("https://idp.example.org/&#x0A;sso"));
    assert!(matches!(
        parse(&newline).unwrap_err(),
        Error::UnsafeUrl {
            problem: UrlProblem::BadCharacter,
            ..
        }
    ));
}

#[test]
fn non_https_endpoints_are_refused_by_name() {
    let cases = [
        ("javascript:alert(document.cookie)", UrlProblem::SchemeNotAllowed),
        ("data:text/html;base64,PHNjcmlwdD4=", UrlProblem::SchemeNotAllowed),
        ("file:///etc/passwd", UrlProblem::SchemeNotAllowed),
        ("vbscript:msgbox(1)", UrlProblem::SchemeNotAllowed),
        ("http://idp.example.org/sso", UrlProblem::PlainHttp),
        ("/idp/sso", UrlProblem::NotAbsolute),
        // xs:anyURI is whitespace-collapsed first: a space left inside is still refused.
        ("https://idp.example.org/s so", UrlProblem::BadCharacter),
        ("https://admin:pw@idp.example.org/sso", UrlProblem::Credentials),
    ];
    for (url, problem) in cases {
        let err = parse(&idp_with(ENTITY, &sso_at(url))).unwrap_err();
        assert_eq!(
            err,
            Error::UnsafeUrl {
                location: Location {
                    entity_id: Some("https://idp.example.org".into()),
                    element: "SingleSignOnService #1".into(),
                    attribute: Some("Location"),
                },
                url: url.into(),
                problem,
            },
            "{url}"
        );
        assert_eq!(err.code(), "unsafe_url");
    }
    let err = parse(&idp_with(ENTITY, &sso_at("javascript:alert(1)"))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the Location attribute of SingleSignOnService #1 in entity \"https://idp.example.org\" is \"javascript:alert(1)\", \
         which is refused: its scheme is not https; only https:// URLs (and http:// when explicitly allowed) are accepted"
    );
    // ResponseLocation is checked too.
    let response = format!(
        "{} ResponseLocation=\"javascript:alert(1)\"",
        sso_at("https://idp.example.org/sso")
    );
    assert!(matches!(
        parse(&idp_with(ENTITY, &response)).unwrap_err(),
        Error::UnsafeUrl {
            location: Location {
                attribute: Some("ResponseLocation"),
                ..
            },
            ..
        }
    ));
    // http only by the dangerous opt-in; javascript: never.
    let http = idp_with(ENTITY, &sso_at("http://localhost:8080/sso"));
    let allow = unsigned_ok().dangerous_allow_http_endpoints();
    assert!(IdpMetadata::from_xml(http.as_bytes(), &allow, now()).is_ok());
    let js = idp_with(ENTITY, &sso_at("javascript:alert(1)"));
    assert!(IdpMetadata::from_xml(js.as_bytes(), &allow, now()).is_err());
}

#[test]
fn huge_values() {
    // A 20 KiB Location: over the per-value limit.
    let long = format!("https://idp.example.org/{}", "a".repeat(20 * 1024));
    assert_eq!(
        parse(&idp_with(ENTITY, &sso_at(&long))).unwrap_err(),
        Error::LimitExceeded {
            limit: MetadataLimit::ValueBytes,
            max: 16 * 1024,
            location: Some(Location {
                entity_id: Some("https://idp.example.org".into()),
                element: "SingleSignOnService #1".into(),
                attribute: Some("Location"),
            }),
        }
    );
    // An entityID over SAML's 1024 characters.
    let id = format!("https://idp.example.org/{}", "x".repeat(1024));
    assert!(matches!(
        parse(&idp_with(&format!(r#"entityID="{id}""#), &sso_at("https://idp.example.org/sso"))).unwrap_err(),
        Error::InvalidValue { location: Location { attribute: Some("entityID"), .. }, expected, .. }
            if expected.contains("1024")
    ));
    // A document over the 1 MiB default.
    let big = idp_with(ENTITY, &sso_at("https://idp.example.org/sso")).replace(
        "<md:IDPSSODescriptor",
        &format!("<!--{}--><md:IDPSSODescriptor", "x".repeat(1024 * 1024)),
    );
    assert!(matches!(
        parse(&big).unwrap_err(),
        Error::Xml(ParseError::LimitExceeded {
            limit: fedkit_xmldsig::XmlLimit::Bytes,
            max: 1_048_576,
            ..
        })
    ));
    // 50 000 attributes on one element: refused by the pre-scan at the 129th.
    let flood: String = (0..50_000).map(|i| format!(" a{i}=\"x\"")).collect();
    let err = parse(&idp_with(
        &format!("{ENTITY}{flood}"),
        &sso_at("https://idp.example.org/sso"),
    ))
    .unwrap_err();
    assert!(matches!(
        err,
        Error::Xml(ParseError::LimitExceeded {
            limit: fedkit_xmldsig::XmlLimit::AttributesPerElement,
            ..
        })
    ));
    // A certificate over the certificate limit.
    let limits = Limits::default().with_max_certificate_bytes(100);
    let xml = idp_with(ENTITY, &sso_at("https://idp.example.org/sso"));
    assert!(matches!(
        IdpMetadata::from_xml(xml.as_bytes(), &unsigned_ok().with_limits(limits), now()).unwrap_err(),
        Error::LimitExceeded {
            limit: MetadataLimit::CertificateBytes,
            max: 100,
            ..
        }
    ));
}

fn nested(depth: usize) -> String {
    let open = r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">"#;
    format!(
        "{}{}{}",
        open.repeat(depth),
        idp_with(ENTITY, &sso_at("https://idp.example.org/sso")),
        "</md:EntitiesDescriptor>".repeat(depth)
    )
}

#[test]
fn deeply_nested_aggregates() {
    // Up to the nesting limit (8) the entity is found.
    let ok = Metadata::parse(nested(8).as_bytes(), &unsigned_ok(), now()).unwrap();
    assert!(ok.idp("https://idp.example.org", now()).is_ok());
    assert_eq!(
        Metadata::parse(nested(9).as_bytes(), &unsigned_ok(), now()).unwrap_err(),
        Error::LimitExceeded {
            limit: MetadataLimit::Nesting,
            max: 8,
            location: None
        }
    );
    // Far deeper: the parser's depth limit stops it before any tree is built.
    assert!(matches!(
        Metadata::parse(nested(5_000).as_bytes(), &unsigned_ok(), now()).unwrap_err(),
        Error::Xml(ParseError::LimitExceeded {
            limit: fedkit_xmldsig::XmlLimit::Depth,
            max: 128,
            ..
        })
    ));
}

#[test]
fn too_many_entities() {
    let one = idp_with(
        r#"entityID="https://idp-N.example.org""#,
        &sso_at("https://idp.example.org/sso"),
    )
    .replace(r#" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata""#, "");
    let many: String = (0..5)
        .map(|i| one.replace("idp-N", &format!("idp-{i}")))
        .collect();
    let xml = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{many}</md:EntitiesDescriptor>"#
    );
    let options = unsigned_ok().with_limits(Limits::default().with_max_entities(4));
    assert_eq!(
        Metadata::parse(xml.as_bytes(), &options, now()).unwrap_err(),
        Error::LimitExceeded {
            limit: MetadataLimit::Entities,
            max: 4,
            location: None
        }
    );
    let metadata = Metadata::parse(xml.as_bytes(), &unsigned_ok(), now()).unwrap();
    assert_eq!(metadata.entities_total(), 5);
    assert!(metadata.idp("https://idp-3.example.org", now()).is_ok());
}

#[test]
fn not_metadata_at_all() {
    let cases = [
        (
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>"#,
            "{urn:oasis:names:tc:SAML:2.0:protocol}Response",
            "SAML protocol message",
        ),
        ("<html><body>Sign in</body></html>", "html", "HTML page"),
        (
            r#"<EntityDescriptor entityID="x"/>"#,
            "EntityDescriptor",
            "namespace is not",
        ),
        (
            r#"<md:IDPSSODescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>"#,
            "{urn:oasis:names:tc:SAML:2.0:metadata}IDPSSODescriptor",
            "fragment",
        ),
    ];
    for (xml, found, hint) in cases {
        let err = parse(xml).unwrap_err();
        match &err {
            Error::NotMetadata { found: f, hint: h } => {
                assert_eq!(f, found);
                assert!(h.contains(hint), "{h}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(err.code(), "not_metadata");
    }
    assert!(matches!(
        parse("not xml").unwrap_err(),
        Error::Xml(ParseError::Syntax { .. })
    ));
    assert!(matches!(
        IdpMetadata::from_xml(b"<x>\xff\xfe</x>", &unsigned_ok(), now()).unwrap_err(),
        Error::Xml(ParseError::Syntax { .. })
    ));
    // A UTF-16 byte-order mark: named as UTF-16.
    let err = IdpMetadata::from_xml(b"\xff\xfe<x/>", &unsigned_ok(), now()).unwrap_err();
    assert_eq!(err, Error::Xml(ParseError::Utf16 { big_endian: false }));
    assert_eq!(err.code(), "malformed_xml");
}

#[test]
fn schema_violations_name_the_place() {
    let missing = idp_with(
        ENTITY,
        r#"Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST""#,
    );
    let err = parse(&missing).unwrap_err();
    assert_eq!(
        err,
        Error::Missing {
            location: Location {
                entity_id: Some("https://idp.example.org".into()),
                element: "SingleSignOnService #1".into(),
                attribute: Some("Location"),
            }
        }
    );
    assert_eq!(
        err.to_string(),
        "the Location attribute of SingleSignOnService #1 in entity \"https://idp.example.org\" is missing"
    );
    let bad_bool = idp_with(ENTITY, &sso_at("https://idp.example.org/sso")).replace(
        "<md:IDPSSODescriptor ",
        r#"<md:IDPSSODescriptor WantAuthnRequestsSigned="yes" "#,
    );
    assert!(matches!(
        parse(&bad_bool).unwrap_err(),
        Error::InvalidValue {
            location: Location {
                attribute: Some("WantAuthnRequestsSigned"),
                ..
            },
            ..
        }
    ));
    let bad_date = idp_with(
        &format!(r#"{ENTITY} validUntil="tomorrow""#),
        &sso_at("https://idp.example.org/sso"),
    );
    assert!(matches!(
        parse(&bad_date).unwrap_err(),
        Error::InvalidValue { location: Location { attribute: Some("validUntil"), .. }, value, .. } if value == "tomorrow"
    ));
    let bad_use =
        idp_with(ENTITY, &sso_at("https://idp.example.org/sso")).replace(r#"use="signing""#, r#"use="sign""#);
    assert!(matches!(
        parse(&bad_use).unwrap_err(),
        Error::InvalidValue {
            location: Location {
                attribute: Some("use"),
                ..
            },
            ..
        }
    ));
    let no_sso = idp_with(ENTITY, &sso_at("https://idp.example.org/sso"))
        .replace("SingleSignOnService", "ManageNameIDService");
    assert_eq!(
        parse(&no_sso).unwrap_err(),
        Error::NoSsoEndpoint {
            entity_id: "https://idp.example.org".into()
        }
    );
    let no_id = idp_with("", &sso_at("https://idp.example.org/sso"));
    assert!(matches!(parse(&no_id).unwrap_err(), Error::Missing { .. }));
    let empty_id = idp_with(r#"entityID="  ""#, &sso_at("https://idp.example.org/sso"));
    assert!(matches!(
        parse(&empty_id).unwrap_err(),
        Error::InvalidValue { .. }
    ));
    let bad_cert = idp_with(ENTITY, &sso_at("https://idp.example.org/sso"))
        .replace("<ds:X509Certificate>MII", "<ds:X509Certificate>!II");
    // The only signing certificate cannot be read: no usable signing key is left, and the
    // error says which certificate failed and why.
    let err = parse(&bad_cert).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::NoSigningCertificate { skipped, .. }
                if skipped.len() == 1 && skipped[0].key_descriptor == 1
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("the certificate of KeyDescriptor #1 (use=\"signing\") was skipped: the certificate cannot be parsed: its base64 text is damaged"),
        "{err}"
    );
    // A broken cacheDuration is a hint lost, not an error.
    let bad_cache = idp_with(
        &format!(r#"{ENTITY} cacheDuration="6 hours""#),
        &sso_at("https://idp.example.org/sso"),
    );
    let idp = parse(&bad_cache).unwrap();
    assert!(idp.warnings().iter().any(|w| matches!(
        w,
        fedkit_metadata::ImportWarning::CacheDurationIgnored { value, .. } if value == "6 hours"
    )));
    assert_eq!(idp.cache_duration(), None);
}

#[test]
fn unknown_extensions_never_fail_the_import() {
    let xml = idp_with(ENTITY, &sso_at("https://idp.example.org/sso")).replace(
        "<md:IDPSSODescriptor ",
        concat!(
            r#"<md:Extensions><x:Anything xmlns:x="urn:example:unknown" weird="1"><x:Nested>data</x:Nested></x:Anything>"#,
            r#"<mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui"><mdui:Keywords>a b</mdui:Keywords></mdui:UIInfo>"#,
            r#"</md:Extensions><md:IDPSSODescriptor "#
        ),
    );
    assert!(parse(&xml).is_ok());
    // Known extensions that break their schema are dropped with a warning, not fatal.
    let broken = idp_with(ENTITY, &sso_at("https://idp.example.org/sso")).replace(
        "<md:IDPSSODescriptor ",
        concat!(
            r#"<md:Extensions><mdrpi:RegistrationInfo xmlns:mdrpi="urn:oasis:names:tc:SAML:metadata:rpi"/>"#,
            r#"<shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" regexp="maybe">example.org</shibmd:Scope>"#,
            r#"</md:Extensions><md:IDPSSODescriptor "#
        ),
    );
    let idp = parse(&broken).unwrap();
    assert!(idp.registration().is_none());
    assert!(idp.scopes().is_empty());
    let reasons: Vec<String> = idp
        .warnings()
        .iter()
        .filter_map(|w| match w {
            fedkit_metadata::ImportWarning::ExtensionIgnored { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "the registrationAuthority attribute of mdrpi:RegistrationInfo in entity \"https://idp.example.org\" is missing",
            "the regexp attribute of shibmd:Scope in entity \"https://idp.example.org\" is \"maybe\", expected true or false",
        ]
    );
}

#[test]
fn comments_cannot_split_a_value() {
    // A comment inside NameIDFormat is skipped, exactly as canonicalization skips it.
    let xml = idp_with(ENTITY, &sso_at("https://idp.example.org/sso")).replace(
        "<md:SingleSignOnService",
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:<!-- x -->emailAddress</md:NameIDFormat><md:SingleSignOnService",
    );
    assert_eq!(
        parse(&xml).unwrap().name_id_formats(),
        ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"]
    );
}

#[test]
fn aggregate_limits_are_an_explicit_opt_in() {
    let defaults = ImportSettings::new(fedkit_metadata::SignaturePolicy::NotRequired);
    assert_eq!(defaults.limits(), &Limits::default());
    assert!(Limits::aggregate().xml().max_bytes() >= 512 * 1024 * 1024);
}
