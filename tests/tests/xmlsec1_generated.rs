//! Fixtures signed by the xmlsec1 CLI (`tests/data/xmlsec1-generated/`, made by its
//! `generate.sh`): every signed case verifies with its pinned certificate under each crypto
//! provider, every tampered case is refused for the recorded reason, and our canonical bytes
//! for each reference and SignedInfo equal the bytes xmlsec1 digested and signed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use fedkit_xmldsig::c14n::{self, Method, SubtreeOptions};
use fedkit_xmldsig::crypto::all_providers;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::{
    find_signatures, AlgorithmPolicy, C14nError, Document, TrustedKeys, Verifier, VerifyError, DSIG_NS,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/xmlsec1-generated")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap_or_else(|e| panic!("fixture {rel} missing: {e}"))
}

fn manifest() -> Value {
    serde_json::from_slice(&read("manifest.json")).unwrap()
}

#[test]
fn fixture_files_match_the_manifest() {
    let m = manifest();
    let files = m["files"].as_object().unwrap();
    assert!(files.len() > 40, "the fixture set is incomplete");
    for (name, sha) in files {
        let actual = hex(&Sha256::digest(read(name)));
        assert_eq!(&actual, sha.as_str().unwrap(), "{name} differs from the manifest");
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The element a SAML SP consumes: the root Response, or the Assertion that is its direct
/// child (never one inside Extensions or elsewhere).
fn consumed<'a, 'i>(doc: &'a Document<'i>, local: &str) -> Node<'a, 'i> {
    let root = doc.root_element();
    assert!(root.has_tag_name((SAMLP, "Response")));
    match local {
        "Response" => root,
        "Assertion" => root
            .children()
            .find(|n| n.has_tag_name((SAML, "Assertion")))
            .unwrap(),
        other => panic!("unexpected signed element {other}"),
    }
}

fn name_id(v: &fedkit_xmldsig::Verified<'_, '_>) -> Option<String> {
    let el = v.element();
    let assertion = if el.local_name() == "Assertion" {
        Some(el)
    } else {
        el.child(SAML, "Assertion")
    };
    Some(assertion?.child(SAML, "Subject")?.child(SAML, "NameID")?.text())
}

fn reference_method(sig: Node<'_, '_>) -> Method {
    let transform = sig
        .descendants()
        .rfind(|n| n.has_tag_name((DSIG_NS, "Transform")))
        .unwrap();
    let alg = c14n::Algorithm::from_uri(transform.attribute("Algorithm").unwrap()).unwrap();
    let prefixes = transform
        .first_element_child()
        .and_then(|i| i.attribute("PrefixList"))
        .unwrap_or("");
    Method::with_prefix_list(alg, prefixes)
}

fn signed_info_method<'a, 'i>(sig: Node<'a, 'i>) -> (Node<'a, 'i>, Method) {
    let si = sig.first_element_child().unwrap();
    let cm = si.first_element_child().unwrap();
    let alg = c14n::Algorithm::from_uri(cm.attribute("Algorithm").unwrap()).unwrap();
    let prefixes = cm
        .first_element_child()
        .and_then(|i| i.attribute("PrefixList"))
        .unwrap_or("");
    (si, Method::with_prefix_list(alg, prefixes))
}

fn check_case(case: &Value) -> Result<(), String> {
    let name = case["name"].as_str().unwrap();
    let xml = String::from_utf8(read(case["file"].as_str().unwrap())).unwrap();
    let pinned = case["wrong_cert"].as_str().or(case["cert"].as_str()).unwrap();
    let pem = String::from_utf8(read(pinned)).unwrap();
    let local = case["signed_element"]["local_name"].as_str().unwrap();
    let expect = case["expect"].as_str().unwrap();
    let category = case["category"].as_str();
    let doc = Document::parse(&xml).map_err(|e| format!("{name}: parse: {e}"))?;
    let target = consumed(&doc, local);

    for provider in all_providers() {
        let verify = |policy: AlgorithmPolicy| {
            Verifier::new(TrustedKeys::from_pem(&pem).unwrap(), policy)
                .with_provider(provider)
                .verify_enveloped(&doc, target)
        };
        let tag = format!("{name} [{}]", provider.name());
        let result = verify(AlgorithmPolicy::default());
        match (expect, category) {
            ("accept", _) => {
                let v = result.map_err(|e| format!("{tag}: expected accept, got {e:?}"))?;
                if let Some(expected) = case["expected_nameid"].as_str() {
                    let got = name_id(&v);
                    if got.as_deref() != Some(expected) {
                        return Err(format!("{tag}: NameID {got:?}, expected {expected:?}"));
                    }
                }
            }
            ("reject", Some(cat)) => {
                let err = match result {
                    Ok(_) => return Err(format!("{tag}: expected reject ({cat}), got accept")),
                    Err(e) => e,
                };
                let ok = match cat {
                    "weak_algorithm" => {
                        matches!(err, VerifyError::AlgorithmRefused { .. })
                            && verify(AlgorithmPolicy::default().dangerous_allow_sha1()).is_ok()
                    }
                    "weak_key" => {
                        matches!(err, VerifyError::WeakKey { bits: 1024, .. })
                            && verify(AlgorithmPolicy::default().dangerous_min_rsa_bits(1024)).is_ok()
                    }
                    // A flipped DigestValue also changes the signed SignedInfo, which is checked first.
                    "digest_mismatch" if name.contains("digestvalue") => {
                        matches!(err, VerifyError::SignatureInvalid { .. })
                    }
                    "digest_mismatch" => matches!(err, VerifyError::DigestMismatch { .. }),
                    "signature_invalid" => matches!(err, VerifyError::SignatureInvalid { .. }),
                    "untrusted_key" => matches!(
                        err,
                        VerifyError::SignatureInvalid {
                            keyinfo_trusted: false,
                            ..
                        }
                    ),
                    "duplicate_id" => matches!(err, VerifyError::DuplicateId { .. }),
                    "wrapping" => matches!(
                        err,
                        VerifyError::MissingSignature { .. }
                            | VerifyError::WrongReference { .. }
                            | VerifyError::DuplicateId { .. }
                            | VerifyError::DigestMismatch { .. }
                            | VerifyError::ReferenceNotFound { .. }
                            | VerifyError::C14n(C14nError::EmptyOutput)
                    ),
                    other => return Err(format!("{tag}: unknown category {other}")),
                };
                if !ok {
                    return Err(format!("{tag}: rejected, but not for {cat}: {err:?}"));
                }
            }
            _ => return Err(format!("{tag}: bad manifest entry")),
        }
    }

    // Canonical bytes: ours equal what xmlsec1 digested and signed.
    if let (Some(ref_file), Some(si_file)) = (case["ref_c14n"].as_str(), case["signedinfo_c14n"].as_str()) {
        let sig = target
            .children()
            .find(|n| n.has_tag_name((DSIG_NS, "Signature")))
            .ok_or_else(|| format!("{name}: no signature child"))?;
        let opts = SubtreeOptions::default()
            .excluding(Some(sig.id()))
            .without_comments();
        let ours = c14n::canonicalize_subtree_to_vec(target, &reference_method(sig), opts).unwrap();
        if ours != read(ref_file) {
            return Err(format!(
                "{name}: reference c14n differs\n ours:   {}\n xmlsec: {}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&read(ref_file))
            ));
        }
        let (si, method) = signed_info_method(sig);
        let ours = c14n::canonicalize_subtree_to_vec(si, &method, SubtreeOptions::default()).unwrap();
        if ours != read(si_file) {
            return Err(format!(
                "{name}: SignedInfo c14n differs\n ours:   {}\n xmlsec: {}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&read(si_file))
            ));
        }
    }
    Ok(())
}

#[test]
fn every_case_matches_its_expectation() {
    let m = manifest();
    let cases = m["cases"].as_array().unwrap();
    assert!(cases.len() >= 38, "expected the full fixture set");
    let failures: Vec<String> = cases.iter().filter_map(|c| check_case(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn doubly_signed_response_verifies_both_signatures() {
    let m = manifest();
    let case = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "both-rsa2048-sha256.response")
        .unwrap();
    let xml = String::from_utf8(read(case["file"].as_str().unwrap())).unwrap();
    let pem = String::from_utf8(read(case["cert"].as_str().unwrap())).unwrap();
    let doc = Document::parse(&xml).unwrap();
    let v = Verifier::new(TrustedKeys::from_pem(&pem).unwrap(), AlgorithmPolicy::default());
    let covered: Vec<String> = find_signatures(&doc)
        .map(|s| {
            v.verify_signature(&doc, s)
                .unwrap()
                .element()
                .local_name()
                .to_owned()
        })
        .collect();
    assert_eq!(covered, ["Response", "Assertion"]);
}
