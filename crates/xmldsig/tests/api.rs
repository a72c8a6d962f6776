//! Behaviour of the public API against attacks on XML signatures: every known class of
//! wrapping, comment truncation, trust and algorithm confusion, with a positive and a
//! negative case for each check, run with every compiled-in crypto provider.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use fedkit_xmldsig::c14n::{self, SubtreeOptions};
use fedkit_xmldsig::crypto::all_providers;
use fedkit_xmldsig::{
    find_signatures, AlgorithmPolicy, AlgorithmRole, Document, ParseError, TrustedKeys, Verifier, VerifyError,
};

const PEM: &str = include_str!("../../../examples/data/idp-cert.pem");
const SIGNED: &str = include_str!("../../../examples/data/signed-response.xml");
const TAMPERED: &str = include_str!("../../../examples/data/tampered-response.xml");
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn verifiers() -> Vec<Verifier> {
    all_providers()
        .into_iter()
        .map(|p| {
            Verifier::new(TrustedKeys::from_pem(PEM).unwrap(), AlgorithmPolicy::default()).with_provider(p)
        })
        .collect()
}

/// Verifies the root element's enveloped signature with every provider; all must agree.
fn verify_root(xml: &str) -> Result<String, VerifyError> {
    let mut verdicts = Vec::new();
    for v in verifiers() {
        let doc = Document::parse(xml).expect("parses");
        let verdict = v.verify_enveloped(&doc, doc.root_element()).map(|verified| {
            let assertion = verified.element().child(SAML, "Assertion").unwrap();
            let subject = assertion.child(SAML, "Subject").unwrap();
            subject.child(SAML, "NameID").unwrap().text()
        });
        verdicts.push(verdict);
    }
    let first = verdicts[0].clone();
    assert!(
        verdicts.iter().all(|v| *v == first),
        "providers disagree: {verdicts:?}"
    );
    first
}

#[test]
fn genuine_response_verifies_and_exposes_signed_content() {
    assert_eq!(verify_root(SIGNED).unwrap(), "jane.doe@example.com");
    for v in verifiers() {
        let doc = Document::parse(SIGNED).unwrap();
        let verified = v.verify_enveloped(&doc, doc.root_element()).unwrap();
        let info = verified.info();
        assert_eq!(info.reference_id, "_resp-7a1c2f");
        assert!(info.enveloped);
        assert_eq!(info.key_fingerprint, v.keys().keys()[0].fingerprint());
        assert_eq!(info.keyinfo_certificate, Some(info.key_fingerprint));
        // The enveloped signature is not part of the verified view.
        assert!(verified
            .element()
            .children()
            .all(|c| c.local_name() != "Signature"));
    }
}

#[test]
fn modified_content_is_a_digest_mismatch() {
    let err = verify_root(TAMPERED).unwrap_err();
    assert_eq!(
        err,
        VerifyError::DigestMismatch {
            id: "_resp-7a1c2f".into(),
            algorithm: "SHA-256"
        }
    );
    assert!(err.to_string().contains("modified after it was signed"));
}

#[test]
fn comment_inside_signed_text_cannot_truncate_it() {
    // CVE-2017-11427 class: a comment splits the NameID text node. The canonical form (and
    // so the digest) ignores comments; the value read back must be the whole signed value.
    let xml = SIGNED.replace(
        "jane.doe@example.com</saml:NameID>",
        "jane.doe@example.com<!---->.evil.test</saml:NameID>",
    );
    assert!(
        verify_root(&xml).is_err(),
        "changing the text must break the digest"
    );
    let xml = SIGNED.replace(
        "jane.doe@example.com</saml:NameID>",
        "jane.doe<!--x-->@example.com</saml:NameID>",
    );
    assert_eq!(verify_root(&xml).unwrap(), "jane.doe@example.com");
}

#[test]
fn wrapped_response_with_the_signature_moved_is_refused() {
    // XSW: an attacker's Response wraps the genuine signed one. The outer element has no
    // signature of its own.
    let inner = SIGNED
        .trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .trim();
    let evil = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_evil"><samlp:Extensions>{inner}</samlp:Extensions></samlp:Response>"#
    );
    assert!(matches!(
        verify_root(&evil),
        Err(VerifyError::MissingSignature { .. })
    ));

    // The genuine signature moved onto the evil outer element: it still points at the inner
    // (genuine) Response, not the element being consumed.
    let sig_start = inner.find("<ds:Signature").unwrap();
    let sig_end = inner.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = &inner[sig_start..sig_end];
    let without_sig = format!("{}{}", &inner[..sig_start], &inner[sig_end..]);
    let evil = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_evil">{signature}<samlp:Extensions>{without_sig}</samlp:Extensions></samlp:Response>"#
    );
    assert!(matches!(
        verify_root(&evil),
        Err(VerifyError::WrongReference { .. } | VerifyError::DigestMismatch { .. })
    ));
}

#[test]
fn duplicate_ids_anywhere_are_refused() {
    // XSW with an ID collision: an evil element carries the signed element's ID.
    let xml = SIGNED.replace(
        "<samlp:Status>",
        r#"<samlp:Extensions><x ID="_resp-7a1c2f"/></samlp:Extensions><samlp:Status>"#,
    );
    assert_eq!(
        verify_root(&xml).unwrap_err(),
        VerifyError::DuplicateId {
            id: "_resp-7a1c2f".into(),
            count: 2
        }
    );
    // Also a duplicate of an unrelated ID, via another ID-typed attribute spelling.
    let xml = SIGNED.replace("<samlp:Status>", r#"<samlp:Status Id="_assert-9b3e">"#);
    assert!(matches!(verify_root(&xml), Err(VerifyError::DuplicateId { .. })));
}

#[test]
fn keyinfo_never_adds_trust() {
    // An attacker replaces KeyInfo with another certificate: the pinned key still decides,
    // and the error names both fingerprints.
    let other = include_str!("data/other-cert.pem");
    let other_b64: String = other.lines().filter(|l| !l.starts_with("-----")).collect();
    let start = SIGNED.find("<ds:X509Certificate>").unwrap() + "<ds:X509Certificate>".len();
    let end = SIGNED.find("</ds:X509Certificate>").unwrap();
    let xml = format!("{}{}{}", &SIGNED[..start], other_b64, &SIGNED[end..]);
    // The signature itself is genuine, so it still verifies with the pinned key.
    assert_eq!(verify_root(&xml).unwrap(), "jane.doe@example.com");

    // Pinning the other certificate: no trusted key verifies; the message says which key
    // KeyInfo names and which are pinned.
    for p in all_providers() {
        let v =
            Verifier::new(TrustedKeys::from_pem(other).unwrap(), AlgorithmPolicy::default()).with_provider(p);
        let doc = Document::parse(SIGNED).unwrap();
        let err = v.verify_enveloped(&doc, doc.root_element()).unwrap_err();
        match &err {
            VerifyError::SignatureInvalid {
                keyinfo_certificate: Some(_),
                keyinfo_trusted: false,
                pinned,
            } => assert_eq!(pinned.len(), 1),
            other => panic!("unexpected {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("not trusted") && msg.contains("pinned:"), "{msg}");
    }
}

#[test]
fn altered_signed_info_fails_the_signature() {
    let xml = SIGNED.replace(
        "<ds:Reference URI=\"#_resp-7a1c2f\">",
        "<ds:Reference URI=\"#_resp-7a1c2f\" Type=\"urn:x\">",
    );
    assert!(matches!(
        verify_root(&xml),
        Err(VerifyError::SignatureInvalid {
            keyinfo_trusted: true,
            ..
        })
    ));
    let xml = SIGNED.replace("<ds:SignatureValue>uT6L", "<ds:SignatureValue>uT6M");
    assert!(matches!(
        verify_root(&xml),
        Err(VerifyError::SignatureInvalid { .. })
    ));
}

fn replace_in_signed_info(from: &str, to: &str) -> String {
    assert!(SIGNED.contains(from), "fixture lacks {from}");
    SIGNED.replacen(from, to, 1)
}

#[test]
fn refused_constructs_in_the_signature() {
    type Check = fn(&VerifyError) -> bool;
    let cases: Vec<(String, Check)> = vec![
        (
            replace_in_signed_info("URI=\"#_resp-7a1c2f\"", r#"URI="""#),
            |e| matches!(e, VerifyError::ReferenceUri { .. }),
        ),
        (
            replace_in_signed_info("URI=\"#_resp-7a1c2f\"", "URI=\"#xpointer(id('_resp-7a1c2f'))\""),
            |e| matches!(e, VerifyError::ReferenceUri { .. }),
        ),
        (
            replace_in_signed_info("URI=\"#_resp-7a1c2f\"", r#"URI="https://evil.test/doc.xml""#),
            |e| matches!(e, VerifyError::ReferenceUri { .. }),
        ),
        (replace_in_signed_info(" URI=\"#_resp-7a1c2f\"", ""), |e| {
            matches!(e, VerifyError::ReferenceUri { uri: None })
        }),
        (
            replace_in_signed_info("URI=\"#_resp-7a1c2f\"", "URI=\"#nope\""),
            |e| matches!(e, VerifyError::ReferenceNotFound { .. }),
        ),
        (
            replace_in_signed_info(
                r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>"#,
            ),
            |e| {
                matches!(
                    e,
                    VerifyError::UnsupportedAlgorithm {
                        role: AlgorithmRole::Transform,
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info(
                r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"/>"#,
            ),
            |e| {
                matches!(
                    e,
                    VerifyError::UnsupportedAlgorithm {
                        role: AlgorithmRole::Transform,
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info(
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "http://www.w3.org/2000/09/xmldsig#hmac-sha1",
            ),
            |e| {
                matches!(
                    e,
                    VerifyError::UnsupportedAlgorithm {
                        role: AlgorithmRole::Signature,
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info(
                "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            ),
            |e| {
                matches!(
                    e,
                    VerifyError::AlgorithmRefused {
                        role: AlgorithmRole::Signature,
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info(
                "http://www.w3.org/2001/04/xmlenc#sha256",
                "http://www.w3.org/2000/09/xmldsig#sha1",
            ),
            |e| {
                matches!(
                    e,
                    VerifyError::AlgorithmRefused {
                        role: AlgorithmRole::Digest,
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info(
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2006/12/xml-c14n11"/>"#,
            ),
            |e| {
                matches!(
                    e,
                    VerifyError::UnsupportedAlgorithm {
                        role: AlgorithmRole::Canonicalization,
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info("<ds:DigestValue>isehg", "<ds:DigestValue><!--x-->isehg"),
            |e| {
                matches!(
                    e,
                    VerifyError::BadBase64 {
                        element: "DigestValue",
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info("<ds:DigestValue>isehg", "<ds:DigestValue>!!sehg"),
            |e| {
                matches!(
                    e,
                    VerifyError::BadBase64 {
                        element: "DigestValue",
                        ..
                    }
                )
            },
        ),
        (
            replace_in_signed_info(
                "</ds:Reference>",
                r##"</ds:Reference><ds:Reference URI="#_assert-9b3e"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>"##,
            ),
            |e| matches!(e, VerifyError::Malformed { .. }),
        ),
        (
            replace_in_signed_info("</ds:SignedInfo>", "</ds:SignedInfo><ds:SignedInfo/>"),
            |e| matches!(e, VerifyError::Malformed { .. }),
        ),
        (
            replace_in_signed_info("</ds:KeyInfo>", "</ds:KeyInfo><ds:KeyInfo/>"),
            |e| matches!(e, VerifyError::Malformed { .. }),
        ),
        (
            replace_in_signed_info(
                r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
                r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>"#,
            ),
            |e| matches!(e, VerifyError::Malformed { .. }),
        ),
    ];
    for (i, (xml, expected)) in cases.iter().enumerate() {
        let err = verify_root(xml).unwrap_err();
        assert!(expected(&err), "case {i}: unexpected {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn sha1_is_accepted_only_with_the_opt_in() {
    // Structural refusal happens before crypto, so the policy decides with any key.
    let xml = replace_in_signed_info(
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2000/09/xmldsig#sha1",
    );
    let doc = Document::parse(&xml).unwrap();
    let strict = Verifier::new(TrustedKeys::from_pem(PEM).unwrap(), AlgorithmPolicy::default());
    let err = strict.verify_enveloped(&doc, doc.root_element()).unwrap_err();
    assert!(err.to_string().contains("dangerous_allow_sha1"), "{err}");
    let legacy = Verifier::new(
        TrustedKeys::from_pem(PEM).unwrap(),
        AlgorithmPolicy::default().dangerous_allow_sha1(),
    );
    // Past the policy, the altered SignedInfo no longer verifies.
    assert!(matches!(
        legacy.verify_enveloped(&doc, doc.root_element()),
        Err(VerifyError::SignatureInvalid { .. })
    ));
}

#[test]
fn enveloped_signature_must_cover_its_parent() {
    // A signature inside the Assertion that references the Response.
    let doc = Document::parse(SIGNED).unwrap();
    let v = &verifiers()[0];
    let assertion = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name((SAML, "Assertion")))
        .unwrap();
    assert!(matches!(
        v.verify_enveloped(&doc, assertion),
        Err(VerifyError::MissingSignature { .. })
    ));

    let sig_start = SIGNED.find("<ds:Signature").unwrap();
    let sig_end = SIGNED.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let signature = &SIGNED[sig_start..sig_end];
    let moved = format!("{}{}", &SIGNED[..sig_start], &SIGNED[sig_end..]).replacen(
        "<saml:Subject>",
        &format!("{signature}<saml:Subject>"),
        1,
    );
    let doc = Document::parse(&moved).unwrap();
    let assertion = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name((SAML, "Assertion")))
        .unwrap();
    assert!(matches!(
        v.verify_enveloped(&doc, assertion),
        Err(VerifyError::WrongReference { .. })
    ));
}

#[test]
fn dtd_and_entities_are_refused_before_anything_else() {
    let xml = SIGNED.replacen(
        "<samlp:Response",
        "<!DOCTYPE samlp:Response [<!ENTITY e \"jane\">]>\n<samlp:Response",
        1,
    );
    assert!(matches!(
        Document::parse(&xml),
        Err(ParseError::DtdNotAllowed { line: 2, column: 1 })
    ));
}

#[test]
fn find_signatures_lists_every_signature() {
    let doc = Document::parse(SIGNED).unwrap();
    assert_eq!(find_signatures(&doc).count(), 1);
    let v = &verifiers()[0];
    let sig = find_signatures(&doc).next().unwrap();
    let verified = v.verify_signature(&doc, sig).unwrap();
    assert_eq!(verified.element().local_name(), "Response");
}

mod mutation {
    use super::*;
    use proptest::prelude::*;

    fn canonical_of_root(xml: &str) -> Vec<u8> {
        let doc = Document::parse(xml).unwrap();
        let sig = find_signatures(&doc).next().unwrap();
        let opts = SubtreeOptions::default()
            .excluding(Some(sig.id()))
            .without_comments();
        c14n::canonicalize_subtree_to_vec(
            doc.root_element(),
            &c14n::Method::new(c14n::Algorithm::Exclusive),
            opts,
        )
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// A mutated signed document verifies only if what it signs is unchanged (for example
        /// the mutation hit KeyInfo, which is not signed, or swapped equivalent quotes).
        #[test]
        fn mutations_never_verify_with_different_content(pos in 0usize..4000, byte in any::<u8>()) {
            let mut bytes = SIGNED.as_bytes().to_vec();
            let pos = pos % bytes.len();
            bytes[pos] = byte;
            let Ok(text) = std::str::from_utf8(&bytes) else { return Ok(()) };
            let Ok(doc) = Document::parse(text) else { return Ok(()) };
            let v = Verifier::new(TrustedKeys::from_pem(PEM).unwrap(), AlgorithmPolicy::default());
            if v.verify_enveloped(&doc, doc.root_element()).is_ok() {
                prop_assert_eq!(canonical_of_root(text), canonical_of_root(SIGNED));
            }
        }
    }
}
