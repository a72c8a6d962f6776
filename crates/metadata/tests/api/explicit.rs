//! The explicit source: entity ID, SSO URL and pasted certificates.

use fedkit_metadata::{
    Binding, Error, IdpMetadata, ImportWarning, Location, PasteProblem, SignatureStatus, UrlProblem,
};
use fedkit_xmldsig::KeyError;

use crate::{at, cert_pem, fp, now, text};

const ENTITY: &str = "https://sso.jumpcloud.com/saml2/acme";
const SSO: &str = "https://sso.jumpcloud.com/saml2/acme";

fn explicit(pastes: &[&str]) -> Result<IdpMetadata, Error> {
    IdpMetadata::from_explicit(ENTITY, SSO, pastes, now())
}

fn problem(pastes: &[&str]) -> (usize, usize, PasteProblem) {
    match explicit(pastes).unwrap_err() {
        Error::Pasted {
            index,
            block,
            problem,
        } => (index, block, problem),
        other => panic!("{other:?}"),
    }
}

/// The base64 body of a PEM file, on one line.
fn body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn a_pasted_pem_certificate() {
    let idp = explicit(&[&cert_pem("jumpcloud-a")]).unwrap();
    assert_eq!(idp.entity_id(), ENTITY);
    let bindings: Vec<&Binding> = idp.sso().iter().map(|e| &e.binding).collect();
    assert_eq!(bindings, [&Binding::HttpRedirect, &Binding::HttpPost]);
    assert!(idp.sso().iter().all(|e| e.location == SSO));
    assert_eq!(idp.signing_keys().fingerprints(), [fp("jumpcloud-a")]);
    assert_eq!(idp.signature(), &SignatureStatus::Explicit);
    assert!(idp.warnings().is_empty());
}

#[test]
fn pastes_in_every_shape_give_the_same_key() {
    let pem = cert_pem("jumpcloud-a");
    let b64 = body(&pem);
    let crlf = pem.replace('\n', "\r\n");
    let indented: String = pem.lines().map(|l| format!("   {l}  \n")).collect();
    let bare_wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    let spaced = b64
        .as_bytes()
        .chunks(8)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    let with_bom = format!("\u{FEFF}{pem}");
    let openssl_text = format!("subject=CN = JumpCloud\nissuer=CN = JumpCloud\n{pem}");
    for paste in [
        &pem,
        &b64,
        &crlf,
        &indented,
        &bare_wrapped,
        &spaced,
        &with_bom,
        &openssl_text,
    ] {
        let idp = explicit(&[paste]).unwrap_or_else(|e| panic!("{e}: {paste:?}"));
        assert_eq!(
            idp.signing_keys().fingerprints(),
            [fp("jumpcloud-a")],
            "{paste:?}"
        );
    }
}

#[test]
fn flattened_and_json_escaped_pastes() {
    let a = cert_pem("jumpcloud-a");
    let b = cert_pem("jumpcloud-b");
    // A single-line form field strips the line breaks.
    let one_line = a.replace('\n', "");
    assert!(one_line.starts_with("-----BEGIN CERTIFICATE-----MII"));
    // Line breaks turned into spaces.
    let spaced = a.replace('\n', " ");
    // Copied out of a JSON document (Prelude's `"certificates": ["-----BEGIN ...\n..."]`).
    let json_escaped = a.replace('\n', "\\n");
    for paste in [&one_line, &spaced, &json_escaped] {
        let idp = explicit(&[paste]).unwrap_or_else(|e| panic!("{e}: {paste:?}"));
        assert_eq!(
            idp.signing_keys().fingerprints(),
            [fp("jumpcloud-a")],
            "{paste:?}"
        );
    }
    // Two flattened certificates back to back.
    let both = format!("{}{}", a.replace('\n', ""), b.replace('\n', ""));
    let idp = explicit(&[&both]).unwrap();
    assert_eq!(
        idp.signing_keys().fingerprints(),
        [fp("jumpcloud-a"), fp("jumpcloud-b")]
    );
    // A flattened paste that lost its END marker is still reported as cut off.
    let cut = one_line.replace("-----END CERTIFICATE-----", "");
    assert_eq!(
        problem(&[&cut]).2,
        PasteProblem::MissingEndLine {
            label: "CERTIFICATE".into()
        }
    );
}

#[test]
fn several_certificates_in_one_paste_and_across_pastes() {
    let both = format!("{}\n{}", cert_pem("jumpcloud-a"), cert_pem("jumpcloud-b"));
    let idp = explicit(&[&both]).unwrap();
    assert_eq!(
        idp.signing_keys().fingerprints(),
        [fp("jumpcloud-a"), fp("jumpcloud-b")]
    );
    // The same certificate twice is pinned once.
    let idp = explicit(&[
        &cert_pem("jumpcloud-a"),
        &body(&cert_pem("jumpcloud-a")),
        &cert_pem("okta"),
    ])
    .unwrap();
    assert_eq!(idp.signing_keys().fingerprints(), [fp("jumpcloud-a"), fp("okta")]);
    assert_eq!(idp.certificates()[1].key_descriptor, 3);
}

#[test]
fn expired_pasted_certificate_is_a_warning() {
    let idp = explicit(&[&cert_pem("adfs-signing")]).unwrap();
    assert!(matches!(
        idp.warnings(),
        [ImportWarning::CertificateExpired { sha256, not_after, .. }]
            if *sha256 == fp("adfs-signing") && *not_after == at("2026-01-01T00:00:00Z")
    ));
}

#[test]
fn a_private_key_is_refused_and_named() {
    let key = text("keys/jumpcloud-a.key.pem");
    let (index, block, p) = problem(&[&key]);
    assert_eq!((index, block), (1, 1));
    assert_eq!(
        p,
        PasteProblem::PrivateKey {
            label: "PRIVATE KEY".into()
        }
    );
    assert!(p.to_string().contains("never paste a private key"), "{p}");
    // Without its BEGIN/END lines it is still recognised from its DER structure.
    assert_eq!(
        problem(&[&body(&key)]).2,
        PasteProblem::PrivateKey {
            label: "base64 without BEGIN/END lines".into()
        }
    );
    // A PKCS#12-style export with the key first, then the certificate.
    let both = format!("{key}{}", cert_pem("jumpcloud-a"));
    assert!(matches!(problem(&[&both]).2, PasteProblem::PrivateKey { .. }));
    // An RSA (PKCS#1) key.
    assert_eq!(
        problem(&["-----BEGIN RSA PRIVATE KEY-----\nMIIEow==\n-----END RSA PRIVATE KEY-----"]).2,
        PasteProblem::PrivateKey {
            label: "RSA PRIVATE KEY".into()
        }
    );
}

#[test]
fn a_certificate_request_is_refused() {
    let csr = text("keys/jumpcloud-a.csr.pem");
    assert_eq!(problem(&[&csr]).2, PasteProblem::CertificateRequest);
    assert_eq!(problem(&[&body(&csr)]).2, PasteProblem::CertificateRequest);
}

#[test]
fn a_public_key_is_refused() {
    let key = fedkit_xmldsig::TrustedKey::from_pem(&cert_pem("okta")).unwrap();
    use base64::Engine as _;
    let spki = base64::engine::general_purpose::STANDARD.encode(key[0].public_key().spki_der());
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{spki}\n-----END PUBLIC KEY-----\n");
    assert_eq!(problem(&[&pem]).2, PasteProblem::PublicKey);
    assert_eq!(problem(&[&spki]).2, PasteProblem::PublicKey);
}

#[test]
fn truncated_pastes_say_so() {
    let pem = cert_pem("jumpcloud-a");
    let b64 = body(&pem);
    // Cut at a multiple of 4 characters: decodes, but the DER announces more bytes.
    let cut = &b64[..800];
    match problem(&[cut]).2 {
        PasteProblem::Truncated { detail } => {
            assert!(detail.starts_with("it announces "), "{detail}");
            assert!(detail.ends_with("but only 600 are present"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
    // Cut anywhere else: the base64 itself is incomplete.
    assert_eq!(
        problem(&[&b64[..801]]).2,
        PasteProblem::Truncated {
            detail: "its base64 text has 801 characters, which is not a multiple of 4".into()
        }
    );
    // The END line is missing: the paste stopped early.
    let no_end: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----END"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        problem(&[&no_end]).2,
        PasteProblem::MissingEndLine {
            label: "CERTIFICATE".into()
        }
    );
    let e = explicit(&[&no_end]).unwrap_err();
    assert_eq!(e.code(), "bad_pasted_certificate");
    assert!(
        e.to_string()
            .starts_with("certificate #1 as pasted: the certificate is cut off"),
        "{e}"
    );
}

#[test]
fn other_things_that_get_pasted() {
    assert_eq!(problem(&[""]).2, PasteProblem::Empty);
    assert_eq!(problem(&["  \r\n "]).2, PasteProblem::Empty);
    assert_eq!(problem(&[&text("jumpcloud.xml")]).2, PasteProblem::Xml);
    assert_eq!(
        problem(&["SHA256 Fingerprint=E8:F0:85"]).2,
        PasteProblem::NotBase64 { found: ':' }
    );
    assert_eq!(
        problem(&["-----BEGIN PKCS7-----\nMIIB\n-----END PKCS7-----"]).2,
        PasteProblem::UnexpectedLabel {
            label: "PKCS7".into()
        }
    );
    // Valid base64, not DER at all.
    assert!(matches!(
        problem(&["aGVsbG8gd29ybGQh"]).2,
        PasteProblem::NotACertificate { .. }
    ));
    // A certificate with a key type fedkit cannot verify with.
    assert!(matches!(
        problem(&[&cert_pem("idp-ed25519")]).2,
        PasteProblem::Unusable(KeyError::UnsupportedKeyType { .. })
    ));
    // The second paste, second block, is the bad one.
    let second = format!("{}{}", cert_pem("okta"), text("keys/jumpcloud-a.key.pem"));
    let (index, block, _) = problem(&[&cert_pem("jumpcloud-a"), &second]);
    assert_eq!((index, block), (2, 2));
    let e = explicit(&[&cert_pem("jumpcloud-a"), &second]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("certificate #2 as pasted (its PEM block #2): this looks like a private key"),
        "{e}"
    );
}

#[test]
fn the_typed_in_fields_are_checked() {
    let pem = cert_pem("jumpcloud-a");
    assert_eq!(
        IdpMetadata::from_explicit(" ", SSO, &[&pem], now()).unwrap_err(),
        Error::EmptyField {
            field: "IdP entity ID"
        }
    );
    assert_eq!(
        IdpMetadata::from_explicit(ENTITY, "", &[&pem], now()).unwrap_err(),
        Error::EmptyField { field: "SSO URL" }
    );
    assert_eq!(
        IdpMetadata::from_explicit::<&str>(ENTITY, SSO, &[], now()).unwrap_err(),
        Error::EmptyField {
            field: "certificates"
        }
    );
    for (url, p) in [
        ("javascript:alert(1)", UrlProblem::SchemeNotAllowed),
        ("http://sso.jumpcloud.com/saml2/acme", UrlProblem::PlainHttp),
        ("sso.jumpcloud.com/saml2/acme", UrlProblem::NotAbsolute),
    ] {
        assert_eq!(
            IdpMetadata::from_explicit(ENTITY, url, &[&pem], now()).unwrap_err(),
            Error::UnsafeUrl {
                location: Location {
                    entity_id: None,
                    element: "SSO URL".into(),
                    attribute: None
                },
                url: url.into(),
                problem: p,
            }
        );
    }
    // Any string is an entity ID (JumpCloud lets the admin choose it), up to 1024 characters.
    assert!(IdpMetadata::from_explicit("jumpcloud-truefoundry", SSO, &[&pem], now()).is_ok());
    assert!(matches!(
        IdpMetadata::from_explicit(&"x".repeat(1025), SSO, &[&pem], now()).unwrap_err(),
        Error::InvalidValue { .. }
    ));
}

#[test]
fn explicit_and_metadata_sources_give_the_same_keys() {
    let from_xml = crate::only_idp("jumpcloud.xml");
    let both = format!("{}{}", cert_pem("jumpcloud-a"), cert_pem("jumpcloud-b"));
    let typed =
        IdpMetadata::from_explicit(from_xml.entity_id(), &from_xml.sso()[0].location, &[&both], now())
            .unwrap();
    assert_eq!(typed.signing_keys(), from_xml.signing_keys());
    assert_eq!(typed.sso(), from_xml.sso());
}
