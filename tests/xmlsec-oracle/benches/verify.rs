//! Verifying a 7–8 KB signed SAML Response (JumpCloud-like: 15 attributes, Response signed
//! with RSA-2048/SHA-256 and exclusive c14n, certificate in KeyInfo): fedkit with each crypto
//! provider next to libxmlsec1, in the same run. Each iteration parses the bytes and
//! verifies against the pinned key, as an SP's ACS endpoint does per login.
//!
//! ```text
//! cargo bench -p fedkit-xmlsec-oracle --all-features --bench verify
//! ```
//!
//! The Response is signed at setup by libxmlsec1 with examples/data/idp-key.pem; all
//! verifiers are checked to accept it before anything is timed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::hint::black_box;

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::crypto::{CryptoProvider, RustCrypto};
use fedkit_xmldsig::{
    is_signature, AlgorithmPolicy, DigestAlgorithm, Document, SignatureAlgorithm, TrustedKeys, Verifier,
};

fn fedkit_verifier(provider: &'static dyn CryptoProvider) -> Verifier {
    let keys = TrustedKeys::from_pem(common::IDP_CERT_PEM).expect("pinned certificate");
    Verifier::new(keys, AlgorithmPolicy::default()).with_provider(provider)
}

fn fedkit_parse_and_verify(verifier: &Verifier, xml: &str) -> usize {
    let doc = Document::parse(xml).expect("fedkit parses the Response");
    let verified = verifier
        .verify_enveloped(&doc, doc.root_element())
        .expect("fedkit verifies the Response");
    verified.info().key_index
}

fn providers() -> Vec<(&'static str, &'static dyn CryptoProvider)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, &'static dyn CryptoProvider)> = vec![("rustcrypto", &RustCrypto)];
    #[cfg(feature = "aws-lc-rs")]
    v.push(("aws-lc-rs", &fedkit_xmldsig::crypto::AwsLcRs));
    v
}

fn bench_verify(c: &mut Criterion) {
    let xml = common::sign_with_libxmlsec1(&common::saml_response_template(), common::RESPONSE_ROOT);
    assert!(
        (7000..=8192).contains(&xml.len()),
        "the Response should be 7–8 KB, is {} bytes",
        xml.len()
    );
    println!("signed SAML Response: {} bytes", xml.len());

    // Every contestant must accept the document before it is timed.
    let libxmlsec1 = common::LibXmlSec1::new(common::RESPONSE_ROOT);
    assert!(
        libxmlsec1.parse_and_verify(xml.as_bytes()),
        "libxmlsec1 rejects the Response"
    );
    let verifiers: Vec<(&str, Verifier)> = providers()
        .into_iter()
        .map(|(name, p)| (name, fedkit_verifier(p)))
        .collect();
    for (name, verifier) in &verifiers {
        assert_eq!(fedkit_parse_and_verify(verifier, &xml), 0, "fedkit/{name}");
        // A modified copy must fail, so the bench cannot be timing a verifier that accepts anything.
        let tampered = xml.replace(">Platform Engineering<", ">Finance<");
        let doc = Document::parse(&tampered).unwrap();
        assert!(verifier.verify_enveloped(&doc, doc.root_element()).is_err());
    }
    let tampered = xml.replace(">Platform Engineering<", ">Finance<");
    assert!(!libxmlsec1.parse_and_verify(tampered.as_bytes()));

    let mut group = c.benchmark_group("saml_response_verify");
    group.throughput(Throughput::Bytes(xml.len() as u64));
    for (name, verifier) in &verifiers {
        group.bench_function(format!("fedkit/{name}"), |b| {
            b.iter(|| fedkit_parse_and_verify(verifier, black_box(&xml)))
        });
    }
    group.bench_function("libxmlsec1", |b| {
        b.iter(|| libxmlsec1.parse_and_verify(black_box(xml.as_bytes())))
    });
    group.finish();

    // Where fedkit's time goes, for the breakdown in docs/performance.md: parsing, the
    // reference's c14n alone, SHA-256 of the canonical bytes, and the RSA check alone.
    let mut group = c.benchmark_group("saml_response_parse");
    group.throughput(Throughput::Bytes(xml.len() as u64));
    group.bench_function("fedkit", |b| {
        b.iter(|| Document::parse(black_box(&xml)).unwrap().root_element().id())
    });
    group.bench_function("libxml2", |b| {
        b.iter(|| common::parse_libxml(black_box(xml.as_bytes())))
    });
    group.finish();

    let doc = Document::parse(&xml).unwrap();
    let root = doc.root_element();
    let signature = root.children().find(|n| is_signature(*n)).unwrap();
    let options = SubtreeOptions::default()
        .excluding(Some(signature.id()))
        .without_comments();
    let method = Method::new(Algorithm::Exclusive);
    let canonical = c14n::canonicalize_subtree_to_vec(root, &method, options).unwrap();
    let signed_info = signature
        .children()
        .find(|n| n.has_tag_name((common::DSIG_NS, "SignedInfo")))
        .unwrap();
    let signed_info_c14n =
        c14n::canonicalize_subtree_to_vec(signed_info, &method, SubtreeOptions::default()).unwrap();
    let signature_value: String = signature
        .children()
        .find(|n| n.has_tag_name((common::DSIG_NS, "SignatureValue")))
        .and_then(|n| n.text())
        .unwrap()
        .split_whitespace()
        .collect();
    let signature_value = base64::engine::general_purpose::STANDARD
        .decode(signature_value)
        .unwrap();
    let key = TrustedKeys::from_pem(common::IDP_CERT_PEM).unwrap();
    let key = key.keys()[0].public_key().clone();
    let mut group = c.benchmark_group("saml_response_breakdown");
    group.bench_function("exc-c14n-only/fedkit", |b| {
        b.iter(|| c14n::canonicalize_subtree_to_vec(black_box(root), &method, options).unwrap())
    });
    for (name, provider) in providers() {
        assert!(provider
            .verify(
                SignatureAlgorithm::RSA_SHA256,
                &key,
                &signed_info_c14n,
                &signature_value
            )
            .is_ok());
        group.bench_function(format!("sha256-{}-bytes/{name}", canonical.len()), |b| {
            b.iter(|| provider.digest(DigestAlgorithm::Sha256, black_box(&canonical)))
        });
        group.bench_function(format!("rsa2048-verify-only/{name}"), |b| {
            b.iter(|| {
                provider.verify(
                    SignatureAlgorithm::RSA_SHA256,
                    &key,
                    black_box(&signed_info_c14n),
                    &signature_value,
                )
            })
        });
    }
    group.finish();
}

/// The issue's hostile inputs: one element with 50 000 attributes, and one with 50 000
/// namespace declarations (about 1 MiB each). roxmltree alone needs seconds (its duplicate
/// check is quadratic); the pre-scan must refuse them in well under 10 ms.
fn bench_hostile(c: &mut Criterion) {
    let mut attributes = String::from("<a");
    let mut declarations = String::from("<a");
    for i in 0..50_000 {
        attributes.push_str(&format!(" attribute{i}='value'"));
        declarations.push_str(&format!(" xmlns:p{i}='urn:x:{i}'"));
    }
    attributes.push_str("/>");
    declarations.push_str("/>");
    let mut group = c.benchmark_group("hostile_refusal");
    for (name, doc) in [("50k-attributes", &attributes), ("50k-xmlns", &declarations)] {
        assert!(Document::parse(doc).is_err());
        group.throughput(Throughput::Bytes(doc.len() as u64));
        group.bench_function(format!("{name}-{}-bytes", doc.len()), |b| {
            b.iter(|| Document::parse(black_box(doc)).is_err())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_verify, bench_hostile);
criterion_main!(benches);
