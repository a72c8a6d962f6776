//! Signed metadata: the xmlsec1-signed aggregate, its tampered copies, policies, MDQ.

use fedkit_metadata::{
    mdq, CacheDuration, Error, IdpMetadata, ImportSettings, Location, Metadata, SignaturePolicy,
    SignatureStatus, UrlProblem,
};
use fedkit_xmldsig::{AlgorithmPolicy, AlgorithmRole, SignatureAlgorithm, VerifyError};

use crate::{at, data, fp, keys, load, now, unsigned_ok};

const AGGREGATE_ID: &str = "_fedkit-aggregate-20261122";
const UNI_A: &str = "https://idp.uni-a.fedkit.test/idp/shibboleth";

fn federation() -> ImportSettings {
    ImportSettings::new(SignaturePolicy::Required(keys("federation")))
}

#[test]
fn signed_aggregate_loads_verifies_and_indexes() {
    let metadata = load("aggregate.xml", &federation()).unwrap();
    assert_eq!(
        metadata.signature(),
        &SignatureStatus::Verified {
            key: fp("federation"),
            algorithm: SignatureAlgorithm::RSA_SHA256,
        }
    );
    assert_eq!(metadata.entities_total(), 10);
    assert_eq!(metadata.idps_total(), 8);
    assert_eq!(metadata.name(), Some("https://federation.fedkit.test"));
    assert_eq!(metadata.valid_until(), Some(at("2099-01-01T00:00:00Z")));
    assert_eq!(
        metadata.cache_duration(),
        Some("PT6H".parse::<CacheDuration>().unwrap())
    );
    assert_eq!(metadata.refresh_at(now()), Some(at("2026-11-22T16:00:00Z")));
    assert!(metadata.warnings().is_empty());

    let idp = metadata.idp(UNI_A, now()).unwrap();
    assert!(matches!(idp.signature(), SignatureStatus::Verified { .. }));
    assert_eq!(idp.signing_keys().fingerprints(), [fp("idp-rsa")]);
    assert_eq!(idp.valid_until(), Some(at("2099-01-01T00:00:00Z")));
    assert_eq!(idp.cache_duration().map(|d| d.to_string()), Some("PT6H".into()));
    let registration = idp.registration().unwrap();
    assert_eq!(registration.authority, "https://federation.fedkit.test");
    assert_eq!(registration.instant, Some(at("2021-03-04T05:06:07Z")));
    assert_eq!(
        registration.policies[0].value,
        "https://federation.fedkit.test/policy"
    );
    let category = &idp.entity_attributes()[0];
    assert_eq!(category.name, "http://macedir.org/entity-category-support");
    assert_eq!(
        category.values,
        ["http://refeds.org/category/research-and-scholarship"]
    );
    assert_eq!(idp.scopes()[0].value, "uni-a.fedkit.test");
    assert_eq!(idp.display_name(), Some("idp.uni-a.fedkit.test & friends"));
    let org = idp.organization().unwrap();
    assert_eq!(org.urls[0].value, "https://www.idp.uni-a.fedkit.test/");
    assert_eq!(idp.contacts()[0].emails, ["mailto:idm@idp.uni-a.fedkit.test"]);
    assert_eq!(
        idp.contacts()[0].contact_type,
        fedkit_metadata::ContactType::Technical
    );
}

#[test]
fn broken_members_fail_alone_with_their_own_error() {
    let metadata = load("aggregate.xml", &federation()).unwrap();
    let evil = "https://idp.evil.fedkit.test/idp/shibboleth";
    assert_eq!(
        metadata.idp(evil, now()).unwrap_err(),
        Error::UnsafeUrl {
            location: Location {
                entity_id: Some(evil.into()),
                element: "SingleSignOnService #1".into(),
                attribute: Some("Location"),
            },
            url: "javascript:alert(document.cookie)".into(),
            problem: UrlProblem::SchemeNotAllowed,
        }
    );
    let twin = "https://idp.twin.fedkit.test/idp/shibboleth";
    assert_eq!(
        metadata.idp(twin, now()).unwrap_err(),
        Error::DuplicateEntityId {
            entity_id: twin.into(),
            count: 2
        }
    );
    assert_eq!(
        metadata
            .idp("https://idp.saml1.fedkit.test/idp/shibboleth", now())
            .unwrap_err(),
        Error::NoSaml2 {
            entity_id: "https://idp.saml1.fedkit.test/idp/shibboleth".into(),
            protocols: "urn:oasis:names:tc:SAML:1.1:protocol".into(),
        }
    );
    assert_eq!(
        metadata
            .idp("https://idp.nokey.fedkit.test/idp/shibboleth", now())
            .unwrap_err(),
        Error::NoSigningCertificate {
            entity_id: "https://idp.nokey.fedkit.test/idp/shibboleth".into(),
            skipped: Vec::new(),
        }
    );
    assert_eq!(
        metadata
            .idp("https://sp.research.fedkit.test/shibboleth", now())
            .unwrap_err(),
        Error::NotAnIdp {
            entity_id: "https://sp.research.fedkit.test/shibboleth".into(),
            roles: vec!["SPSSODescriptor".into()],
        }
    );
    let missing = metadata
        .idp("https://idp.uni-a.fedkit.test/idp/shibboleth/", now())
        .unwrap_err();
    assert_eq!(
        missing,
        Error::EntityNotFound {
            entity_id: "https://idp.uni-a.fedkit.test/idp/shibboleth/".into(),
            entities_total: 10,
            idps_total: 8,
        }
    );
    assert!(missing.to_string().contains("trailing slashes"), "{missing}");
    assert_eq!(
        metadata.only_idp(now()).unwrap_err(),
        Error::NotOneIdp {
            idps: 8,
            entities: 10
        }
    );
}

#[test]
fn valid_until_is_the_earliest_up_the_tree() {
    let metadata = load("aggregate.xml", &federation()).unwrap();
    let interim = "https://idp.interim.fedkit.test/idp/shibboleth";
    // Its EntitiesDescriptor expired on 2026-06-01 although the aggregate is valid to 2099.
    assert_eq!(
        metadata.idp(interim, now()).unwrap_err(),
        Error::Expired {
            entity_id: Some(interim.into()),
            valid_until: at("2026-06-01T00:00:00Z"),
            now: now(),
        }
    );
    let before = at("2026-05-01T00:00:00Z");
    let earlier = Metadata::parse(&data("aggregate.xml"), &federation(), before).unwrap();
    let idp = earlier.idp(interim, before).unwrap();
    assert_eq!(idp.valid_until(), Some(at("2026-06-01T00:00:00Z")));
    // And the shortest cacheDuration: PT1H inside PT6H.
    assert_eq!(idp.cache_duration().map(|d| d.to_string()), Some("PT1H".into()));
    assert_eq!(idp.refresh_at(before), Some(at("2026-05-01T01:00:00Z")));
    assert_eq!(
        idp.refresh_at(at("2026-05-31T23:30:00Z")),
        Some(at("2026-06-01T00:00:00Z"))
    );
}

#[test]
fn an_expired_document_is_refused() {
    let after = at("2099-01-01T00:00:01Z");
    let err = Metadata::parse(&data("aggregate.xml"), &federation(), after).unwrap_err();
    assert_eq!(
        err,
        Error::Expired {
            entity_id: None,
            valid_until: at("2099-01-01T00:00:00Z"),
            now: after,
        }
    );
    assert_eq!(err.code(), "expired");
    assert!(err.to_string().contains("fetch it again"), "{err}");
    // validUntil is exclusive: at that very instant the document is no longer valid.
    assert!(Metadata::parse(&data("aggregate.xml"), &federation(), at("2099-01-01T00:00:00Z")).is_err());
    // Also for a single entity (Shibboleth's validUntil is 2099 as well).
    assert!(matches!(
        IdpMetadata::from_xml(&data("shibboleth.xml"), &unsigned_ok(), after),
        Err(Error::Expired { entity_id: None, .. })
    ));
}

#[test]
fn signature_policies() {
    // Required: an unsigned document is refused before anything is read.
    let err = load("aggregate-unsigned.xml", &federation()).unwrap_err();
    assert_eq!(err, Error::Unsigned);
    assert_eq!(err.code(), "signature_absent");
    // IfSigned accepts it unsigned, and NotRequired too.
    let if_signed = ImportSettings::new(SignaturePolicy::IfSigned(keys("federation")));
    assert_eq!(
        load("aggregate-unsigned.xml", &if_signed).unwrap().signature(),
        &SignatureStatus::Absent
    );
    assert_eq!(
        load("aggregate-unsigned.xml", &unsigned_ok())
            .unwrap()
            .signature(),
        &SignatureStatus::Absent
    );
    // IfSigned verifies a signature that is present: the wrong key is an error.
    let wrong = ImportSettings::new(SignaturePolicy::IfSigned(keys("other")));
    assert!(matches!(
        load("aggregate.xml", &wrong).unwrap_err(),
        Error::Signature(VerifyError::SignatureInvalid {
            keyinfo_trusted: false,
            ..
        })
    ));
    // NotRequired does not verify and says so.
    let unchecked = load("aggregate.xml", &unsigned_ok()).unwrap();
    assert_eq!(unchecked.signature(), &SignatureStatus::NotChecked);
    assert_eq!(
        unchecked.warnings(),
        [fedkit_metadata::ImportWarning::SignatureNotChecked]
    );
}

#[test]
fn signed_by_another_key() {
    let err = load("aggregate-other-key.xml", &federation()).unwrap_err();
    assert_eq!(
        err,
        Error::Signature(VerifyError::SignatureInvalid {
            keyinfo_certificate: Some(fp("other")),
            keyinfo_trusted: false,
            pinned: vec![fp("federation")],
        })
    );
    assert_eq!(err.code(), "signature_invalid");
    assert!(err.to_string().contains("not trusted"), "{err}");
}

#[test]
fn sha1_signatures_are_refused_unless_allowed() {
    let err = load("aggregate-sha1.xml", &federation()).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Signature(VerifyError::AlgorithmRefused { role: AlgorithmRole::Signature, uri, .. })
                if uri == "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
        ),
        "{err:?}"
    );
    let allow = federation().with_algorithms(AlgorithmPolicy::default().dangerous_allow_sha1());
    let metadata = load("aggregate-sha1.xml", &allow).unwrap();
    assert!(matches!(
        metadata.signature(),
        SignatureStatus::Verified { algorithm, .. } if *algorithm == SignatureAlgorithm::RSA_SHA1
    ));
}

fn digest_mismatch() -> Error {
    Error::Signature(VerifyError::DigestMismatch {
        id: AGGREGATE_ID.into(),
        algorithm: "SHA-256",
    })
}

#[test]
fn tampered_endpoint() {
    assert_eq!(
        load("tampered/location.xml", &federation()).unwrap_err(),
        digest_mismatch()
    );
}

#[test]
fn tampered_member_certificate() {
    assert_eq!(
        load("tampered/certificate.xml", &federation()).unwrap_err(),
        digest_mismatch()
    );
}

#[test]
fn tampered_added_entity() {
    assert_eq!(
        load("tampered/added-entity.xml", &federation()).unwrap_err(),
        digest_mismatch()
    );
}

#[test]
fn tampered_valid_until() {
    assert_eq!(
        load("tampered/valid-until.xml", &federation()).unwrap_err(),
        digest_mismatch()
    );
}

#[test]
fn tampered_signature_value() {
    assert_eq!(
        load("tampered/signature-value.xml", &federation()).unwrap_err(),
        Error::Signature(VerifyError::SignatureInvalid {
            keyinfo_certificate: Some(fp("federation")),
            keyinfo_trusted: true,
            pinned: vec![fp("federation")],
        })
    );
}

#[test]
fn wrapped_signature() {
    // The original signature on a new root, around the signed aggregate and a rogue entity:
    // the signature covers the inner element, which still contains its own copy of the
    // signature, so the digest no longer matches.
    assert_eq!(
        load("tampered/wrapped.xml", &federation()).unwrap_err(),
        digest_mismatch()
    );
    // Unverified, the rogue entity would be visible: that is exactly what must not happen.
    let unchecked = load("tampered/wrapped.xml", &unsigned_ok()).unwrap();
    assert!(unchecked.entity_ids().any(|id| id == "https://rogue.example/idp"));
}

#[test]
fn tampered_copies_load_only_without_verification() {
    for name in [
        "location",
        "certificate",
        "added-entity",
        "valid-until",
        "signature-value",
    ] {
        let rel = format!("tampered/{name}.xml");
        assert!(load(&rel, &federation()).is_err(), "{name}");
        assert_eq!(
            load(&rel, &unsigned_ok()).unwrap().signature(),
            &SignatureStatus::NotChecked,
            "{name}"
        );
    }
}

#[test]
fn mdq_response_is_a_signed_single_entity() {
    let xml = data("mdq-response.xml");
    let idp = mdq::parse_response(&xml, UNI_A, keys("federation"), now()).unwrap();
    assert_eq!(idp.entity_id(), UNI_A);
    assert!(matches!(idp.signature(), SignatureStatus::Verified { key, .. } if *key == fp("federation")));
    assert_eq!(idp.cache_duration().map(|d| d.to_string()), Some("PT1H".into()));
    // Asked for by its {sha1} form.
    let by_hash = mdq::parse_response(&xml, &mdq::sha1_identifier(UNI_A), keys("federation"), now()).unwrap();
    assert_eq!(by_hash.entity_id(), UNI_A);
    // Another entity than the one requested.
    assert_eq!(
        mdq::parse_response(
            &xml,
            "https://idp.uni-b.fedkit.test/idp/shibboleth",
            keys("federation"),
            now()
        )
        .unwrap_err(),
        Error::MdqWrongEntity {
            requested: "https://idp.uni-b.fedkit.test/idp/shibboleth".into(),
            received: vec![UNI_A.into()],
        }
    );
    // Unsigned, or signed by someone else: refused.
    assert_eq!(
        mdq::parse_response(
            &data("jumpcloud.xml"),
            "https://sso.jumpcloud.com/saml2/fedkit-test",
            keys("federation"),
            now()
        )
        .unwrap_err(),
        Error::Unsigned
    );
    assert!(matches!(
        mdq::parse_response(&xml, UNI_A, keys("other"), now()).unwrap_err(),
        Error::Signature(VerifyError::SignatureInvalid { .. })
    ));
    assert_eq!(
        mdq::parse_response_with(&xml, UNI_A, &unsigned_ok(), now()).unwrap_err(),
        Error::Unsigned
    );
    assert_eq!(
        mdq::request_path(UNI_A),
        "entities/https%3A%2F%2Fidp.uni-a.fedkit.test%2Fidp%2Fshibboleth"
    );
}
