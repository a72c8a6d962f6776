//! Full processing of a doubly-signed 8 KB SAML Response (Response and Assertion each
//! signed, RSA-2048/SHA-256, exclusive c14n — the fixture `both-signed.xml`, signed by the
//! xmlsec1 CLI) by fedkit-saml, next to libxmlsec1 in the same run doing less: parse plus
//! ONE signature (the Response's), with no SAML checks at all.
//!
//! ```text
//! cargo bench -p fedkit-xmlsec-oracle --all-features --bench response
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fedkit_saml::{IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider};
use fedkit_xmldsig::crypto::{CryptoProvider, RustCrypto};
use fedkit_xmldsig::TrustedKeys;
use libxml::parser::{Parser, ParserOptions};
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

const CERT: &str = include_str!("../../../crates/saml/tests/data/keys/idp.crt.pem");
const RESPONSE: &str = include_str!("../../../crates/saml/tests/data/signed/both-signed.xml");

fn providers() -> Vec<(&'static str, &'static dyn CryptoProvider)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, &'static dyn CryptoProvider)> = vec![("rustcrypto", &RustCrypto)];
    #[cfg(feature = "aws-lc-rs")]
    v.push(("aws-lc-rs", &fedkit_xmldsig::crypto::AwsLcRs));
    v
}

/// libxml2 parse (strict, no network), Response ID registration, and libxmlsec1 verification
/// of the first signature with the pinned certificate (no keys manager: KeyInfo not trusted).
fn libxmlsec1_parse_and_verify(key: &XmlSecKey, xml: &[u8]) -> bool {
    let options = ParserOptions {
        recover: false,
        no_net: true,
        ..ParserOptions::default()
    };
    let doc = Parser::default().parse_string_with_options(xml, options).unwrap();
    doc.specify_idattr(
        "/r:Response",
        "ID",
        Some(&[("r", "urn:oasis:names:tc:SAML:2.0:protocol")]),
    )
    .unwrap();
    let mut ctx = XmlSecSignatureContext::new();
    ctx.insert_key(key.clone());
    ctx.verify_document(&doc).unwrap()
}

fn bench(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
    let sp = ServiceProvider::new(
        "https://app.example.com/saml/metadata",
        ["https://app.example.com/saml/acs"],
    )
    .unwrap();
    let idp = IdentityProvider::new(
        "https://sso.jumpcloud.com/saml2/fedkit-test",
        TrustedKeys::from_pem(CERT).unwrap(),
    )
    .unwrap();
    let key = XmlSecKey::from_memory(CERT.as_bytes(), XmlSecKeyFormat::CertPem, None).unwrap();
    assert!(libxmlsec1_parse_and_verify(&key, RESPONSE.as_bytes()));
    let tampered = RESPONSE.replace(">Jane<", ">Mallory<");
    assert!(!libxmlsec1_parse_and_verify(&key, tampered.as_bytes()));

    let mut group = c.benchmark_group("saml_response_doubly_signed");
    group.throughput(Throughput::Bytes(RESPONSE.len() as u64));
    for (name, provider) in providers() {
        let v = ResponseValidator::new(sp.clone(), idp.clone()).with_provider(provider);
        // Every contestant must accept the fixture and refuse the tampered copy.
        let fresh = || InMemoryReplayCache::new(4);
        assert_eq!(
            v.process_xml(RESPONSE.as_bytes(), Some("_req-7f3a"), now, &fresh())
                .unwrap()
                .signed()
                .len(),
            2
        );
        assert!(v
            .process_xml(tampered.as_bytes(), Some("_req-7f3a"), now, &fresh())
            .is_err());
        group.bench_function(
            format!("fedkit-saml/{name} (full processing, both signatures)"),
            |b| {
                b.iter(|| {
                    // A fresh cache per iteration: the replay check is part of the work.
                    v.process_xml(black_box(RESPONSE.as_bytes()), Some("_req-7f3a"), now, &fresh())
                        .is_ok()
                })
            },
        );
    }
    group.bench_function("libxmlsec1 (parse + one signature)", |b| {
        b.iter(|| libxmlsec1_parse_and_verify(&key, black_box(RESPONSE.as_bytes())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
