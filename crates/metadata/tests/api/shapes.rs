//! Real-world shapes: JumpCloud, Okta, Entra ID, AD FS, Shibboleth IdP, use-less keys.

use fedkit_metadata::{
    Binding, Error, IdpMetadata, ImportSettings, ImportWarning, KeyUse, SignaturePolicy, SignatureStatus,
    UrlProblem,
};
use fedkit_xmldsig::{Fingerprint, KeyError};

use crate::{at, data, fp, keys, load, now, only_idp, openssl_fingerprint, unsigned_ok};

const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

fn fingerprints<'a>(certs: impl Iterator<Item = &'a fedkit_metadata::Certificate>) -> Vec<Fingerprint> {
    certs.map(|c| c.sha256).collect()
}

#[test]
fn jumpcloud_with_two_signing_keys() {
    let idp = only_idp("jumpcloud.xml");
    assert_eq!(idp.entity_id(), "https://sso.jumpcloud.com/saml2/fedkit-test");
    let sso: Vec<(&Binding, &str)> = idp
        .sso()
        .iter()
        .map(|e| (&e.binding, e.location.as_str()))
        .collect();
    assert_eq!(
        sso,
        [
            (
                &Binding::HttpRedirect,
                "https://sso.jumpcloud.com/saml2/fedkit-test"
            ),
            (&Binding::HttpPost, "https://sso.jumpcloud.com/saml2/fedkit-test"),
        ]
    );
    assert_eq!(idp.sso()[1].binding.uri(), POST);
    assert!(idp.slo().is_empty());
    assert_eq!(idp.name_id_formats(), [EMAIL]);
    assert!(!idp.want_authn_requests_signed());
    // Both keys of the rotation, in document order, as openssl fingerprints them.
    assert_eq!(
        fingerprints(idp.signing_certificates()),
        [fp("jumpcloud-a"), fp("jumpcloud-b")]
    );
    assert_eq!(
        idp.certificates()[0].sha256.to_string(),
        openssl_fingerprint("jumpcloud-a")
    );
    assert_eq!(
        idp.signing_keys().fingerprints(),
        [fp("jumpcloud-a"), fp("jumpcloud-b")]
    );
    assert_eq!(idp.encryption_certificates().count(), 0);
    let a = &idp.certificates()[0];
    assert_eq!(a.usage, KeyUse::Signing);
    assert!(
        a.subject.contains("CN=JumpCloud current signing (test)"),
        "{}",
        a.subject
    );
    assert_eq!(a.not_before, at("2025-01-01T00:00:00Z"));
    assert_eq!(a.not_after, at("2030-01-01T00:00:00Z"));
    assert_eq!(a.key_descriptor, 1);
    assert_eq!(idp.certificates()[1].key_descriptor, 2);
    assert_eq!(idp.signature(), &SignatureStatus::Absent);
    assert_eq!(idp.valid_until(), None);
    assert_eq!(idp.refresh_at(now()), None);
    assert!(idp.warnings().is_empty(), "{:?}", idp.warnings());
    // PEM round trip: the certificate re-pinned from its PEM has the same fingerprint.
    let again = fedkit_xmldsig::TrustedKeys::from_pem(&a.to_pem()).unwrap();
    assert_eq!(again.fingerprints(), [fp("jumpcloud-a")]);
}

#[test]
fn certificate_expiry_is_a_warning_never_a_refusal() {
    let xml = data("jumpcloud.xml");
    // The next key is announced before its validity starts.
    let early = IdpMetadata::from_xml(&xml, &unsigned_ok(), at("2026-09-01T00:00:00Z")).unwrap();
    assert_eq!(
        early.warnings(),
        [ImportWarning::CertificateNotYetValid {
            sha256: fp("jumpcloud-b"),
            subject: early.certificates()[1].subject.clone(),
            not_before: at("2026-10-01T00:00:00Z"),
        }]
    );
    // The current key close to its end, then past it: still pinned.
    let soon = IdpMetadata::from_xml(&xml, &unsigned_ok(), at("2029-12-20T00:00:00Z")).unwrap();
    assert!(matches!(
        soon.warnings(),
        [ImportWarning::CertificateExpiresSoon { sha256, days: 12, .. }] if *sha256 == fp("jumpcloud-a")
    ));
    let late = IdpMetadata::from_xml(&xml, &unsigned_ok(), at("2030-06-01T00:00:00Z")).unwrap();
    assert_eq!(late.signing_keys().keys().len(), 2);
    match late.warnings() {
        [w @ ImportWarning::CertificateExpired {
            sha256, not_after, ..
        }] => {
            assert_eq!(*sha256, fp("jumpcloud-a"));
            assert_eq!(*not_after, at("2030-01-01T00:00:00Z"));
            assert!(w.to_string().contains("still accepted"), "{w}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn okta_app_metadata() {
    let idp = only_idp("okta.xml");
    // An entity ID is an identifier, not an endpoint: http:// is fine there.
    assert_eq!(idp.entity_id(), "http://www.okta.com/exk1fcia6d6EMsf331d8");
    assert_eq!(idp.sso()[0].binding, Binding::HttpPost);
    assert_eq!(
        idp.sso_endpoint(&Binding::HttpRedirect)
            .map(|e| e.location.as_str()),
        Some("https://dev-123456.okta.com/app/dev-123456_fedkit_1/exk1fcia6d6EMsf331d8/sso/saml")
    );
    assert_eq!(
        idp.name_id_formats(),
        ["urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified", EMAIL]
    );
    assert_eq!(idp.signing_keys().fingerprints(), [fp("okta")]);
}

#[test]
fn entra_federation_metadata() {
    // Without a pinned key the signature is reported, not checked.
    let idp = only_idp("entra.xml");
    assert_eq!(idp.signature(), &SignatureStatus::NotChecked);
    assert_eq!(
        idp.entity_id(),
        "https://sts.windows.net/3f2a1c9e-8d4b-4e6f-9a7c-2b5d8e1f0a3c/"
    );
    let url = "https://login.microsoftonline.com/3f2a1c9e-8d4b-4e6f-9a7c-2b5d8e1f0a3c/saml2";
    assert_eq!(idp.sso().len(), 2);
    assert!(idp.sso().iter().all(|e| e.location == url));
    assert_eq!(idp.slo().len(), 1);
    assert_eq!(idp.slo()[0].binding, Binding::HttpRedirect);
    // The WS-Federation RoleDescriptors (with their own KeyDescriptors) are not read.
    assert_eq!(idp.certificates().len(), 2);
    assert_eq!(idp.signing_keys().fingerprints(), [fp("entra-a"), fp("entra-b")]);
    assert_eq!(
        idp.warnings(),
        [
            ImportWarning::SignatureNotChecked,
            ImportWarning::CertificateNotYetValid {
                sha256: fp("entra-b"),
                subject: idp.certificates()[1].subject.clone(),
                not_before: at("2026-12-01T00:00:00Z"),
            }
        ]
    );
    // Pinning Entra's current signing certificate verifies the document.
    let pinned = ImportSettings::new(SignaturePolicy::IfSigned(keys("entra-a")));
    let verified = IdpMetadata::from_xml(&data("entra.xml"), &pinned, now()).unwrap();
    assert!(matches!(
        verified.signature(),
        SignatureStatus::Verified { key, .. } if *key == fp("entra-a")
    ));
    assert!(!verified.warnings().contains(&ImportWarning::SignatureNotChecked));
}

#[test]
fn adfs_federation_metadata() {
    let pinned = ImportSettings::new(SignaturePolicy::Required(keys("adfs-signing")));
    let metadata = load("adfs.xml", &pinned).unwrap();
    // An entity with an SPSSODescriptor beside its IDPSSODescriptor is an IdP.
    assert_eq!(metadata.idps_total(), 1);
    let idp = metadata.only_idp(now()).unwrap();
    assert!(matches!(idp.signature(), SignatureStatus::Verified { key, .. } if *key == fp("adfs-signing")));
    assert_eq!(idp.entity_id(), "http://adfs.contoso.test/adfs/services/trust");
    assert_eq!(fingerprints(idp.signing_certificates()), [fp("adfs-signing")]);
    assert_eq!(
        fingerprints(idp.encryption_certificates()),
        [fp("adfs-encryption")]
    );
    assert_eq!(idp.name_id_formats().len(), 3);
    assert_eq!(idp.slo().len(), 2);
    // Both certificates expired on 2026-01-01: two warnings, and the signature still verified
    // with the expired signing certificate (a pinned key).
    let expired: Vec<Fingerprint> = idp
        .warnings()
        .iter()
        .filter_map(|w| match w {
            ImportWarning::CertificateExpired { sha256, .. } => Some(*sha256),
            _ => None,
        })
        .collect();
    assert_eq!(expired, [fp("adfs-encryption"), fp("adfs-signing")]);
}

#[test]
fn shibboleth_idp_metadata() {
    let idp = only_idp("shibboleth.xml");
    assert_eq!(idp.entity_id(), "https://idp.example.org/idp/shibboleth");
    let bindings: Vec<&str> = idp.sso().iter().map(|e| e.binding.short_name()).collect();
    assert_eq!(
        bindings,
        [
            "urn:mace:shibboleth:1.0:profiles:AuthnRequest",
            "HTTP-POST",
            "HTTP-POST-SimpleSign",
            "HTTP-Redirect"
        ]
    );
    assert_eq!(
        idp.sso()[0].binding,
        Binding::Other("urn:mace:shibboleth:1.0:profiles:AuthnRequest".into())
    );
    assert_eq!(idp.slo().len(), 4);
    assert_eq!(idp.slo()[3].binding, Binding::Soap);
    let ars: Vec<(Option<u16>, &str)> = idp
        .artifact_resolution()
        .iter()
        .map(|e| (e.index, e.location.as_str()))
        .collect();
    assert_eq!(
        ars,
        [
            (
                Some(1),
                "https://idp.example.org:8443/idp/profile/SAML1/SOAP/ArtifactResolution"
            ),
            (
                Some(2),
                "https://idp.example.org:8443/idp/profile/SAML2/SOAP/ArtifactResolution"
            ),
        ]
    );
    assert_eq!(idp.scopes().len(), 1);
    assert_eq!(idp.scopes()[0].value, "example.org");
    assert!(!idp.scopes()[0].regexp);
    let ui = idp.ui_info().unwrap();
    let names: Vec<(Option<&str>, &str)> = ui
        .display_names
        .iter()
        .map(|l| (l.lang.as_deref(), l.value.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (Some("en"), "Example University"),
            (Some("de"), "Beispiel-Universität")
        ]
    );
    assert_eq!(idp.display_name(), Some("Example University"));
    // The javascript: logo is dropped with a warning; the https one is kept.
    assert_eq!(ui.logos.len(), 1);
    assert_eq!(ui.logos[0].url, "https://idp.example.org/logo.png");
    assert_eq!((ui.logos[0].width, ui.logos[0].height), (Some(80), Some(80)));
    assert!(idp.warnings().contains(&ImportWarning::DisplayUrlIgnored {
        element: "mdui:Logo",
        url: "javascript:alert(document.domain)".into(),
        problem: UrlProblem::SchemeNotAllowed,
    }));
    // Multi-line certificates; back- and front-channel signing keys and one encryption key.
    assert_eq!(
        fingerprints(idp.signing_certificates()),
        [fp("shib-backchannel"), fp("shib-frontchannel")]
    );
    assert_eq!(
        fingerprints(idp.encryption_certificates()),
        [fp("shib-encryption")]
    );
    assert_eq!(idp.valid_until(), Some(at("2099-01-01T00:00:00Z")));
}

#[test]
fn key_descriptors_without_use_both_sign_and_encrypt() {
    let idp = only_idp("use-less.xml");
    assert!(idp.certificates().iter().all(|c| c.usage == KeyUse::Both));
    assert_eq!(
        fingerprints(idp.signing_certificates()),
        [fp("idp-rsa"), fp("shib-encryption")]
    );
    assert_eq!(
        fingerprints(idp.encryption_certificates()),
        [fp("idp-rsa"), fp("shib-encryption")]
    );
    assert_eq!(idp.signing_keys().keys().len(), 2);
    // The third KeyDescriptor has only a KeyName.
    assert_eq!(
        idp.warnings(),
        [ImportWarning::KeyDescriptorWithoutCertificate { key_descriptor: 3 }]
    );
    assert_eq!(idp.sso()[0].binding, Binding::HttpRedirect);
}

#[test]
fn sp_metadata_uploaded_by_mistake() {
    let metadata = load("sp.xml", &unsigned_ok()).unwrap();
    assert_eq!((metadata.entities_total(), metadata.idps_total()), (1, 0));
    let err = metadata.only_idp(now()).unwrap_err();
    assert_eq!(
        err,
        Error::NotAnIdp {
            entity_id: "https://app.example.com/saml/metadata".into(),
            roles: vec!["SPSSODescriptor".into()],
        }
    );
    assert!(err.to_string().contains("Export Metadata"), "{err}");
    assert_eq!(err.code(), "not_an_idp");
}

#[test]
fn an_unsupported_key_is_skipped_when_others_remain() {
    let signed = ImportSettings::new(SignaturePolicy::Required(keys("federation")));
    let metadata = load("aggregate.xml", &signed).unwrap();
    let idp = metadata
        .idp("https://idp.uni-b.fedkit.test/idp/shibboleth", now())
        .unwrap();
    // EC P-256 is used; Ed25519 is skipped with the reason; the third expires in 8 days.
    assert_eq!(idp.signing_keys().fingerprints(), [fp("idp-ec"), fp("idp-soon")]);
    assert!(idp.warnings().iter().any(|w| matches!(
        w,
        ImportWarning::CertificateSkipped { key_descriptor: 3, reason: KeyError::UnsupportedKeyType { oid } } if oid == "1.3.101.112"
    )));
    assert!(idp.warnings().iter().any(|w| matches!(
        w,
        ImportWarning::CertificateExpiresSoon { sha256, days: 8, .. } if *sha256 == fp("idp-soon")
    )));
}

#[test]
fn idps_are_listed_in_document_order() {
    let signed = ImportSettings::new(SignaturePolicy::Required(keys("federation")));
    let metadata = load("aggregate.xml", &signed).unwrap();
    let listed: Vec<(&str, Option<&str>, bool)> = metadata
        .idps()
        .map(|s| (s.entity_id, s.display_name, s.usable))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "https://idp.uni-a.fedkit.test/idp/shibboleth",
                Some("idp.uni-a.fedkit.test & friends"),
                true
            ),
            (
                "https://idp.uni-b.fedkit.test/idp/shibboleth",
                Some("idp.uni-b.fedkit.test & friends"),
                true
            ),
            ("https://idp.evil.fedkit.test/idp/shibboleth", None, false),
            (
                "https://idp.interim.fedkit.test/idp/shibboleth",
                Some("idp.interim.fedkit.test & friends"),
                true
            ),
            ("https://idp.saml1.fedkit.test/idp/shibboleth", None, false),
            ("https://idp.nokey.fedkit.test/idp/shibboleth", None, false),
        ]
    );
    assert_eq!(metadata.entity_ids().count(), 10);
    assert_eq!(metadata.entity_ids().filter(|id| id.contains("twin")).count(), 2);
}
