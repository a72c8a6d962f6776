//! Canonicalizing and digesting a 50 MiB signed metadata aggregate: fedkit next to
//! libxmlsec1, in the same run.
//!
//! ```text
//! cargo bench -p fedkit-xmlsec-oracle --all-features --bench c14n
//! ```
//!
//! The document (an `md:EntitiesDescriptor` with ~12 000 `EntityDescriptor`s, root `ID`,
//! generated deterministically) is signed once at setup by libxmlsec1 with an enveloped
//! exclusive-c14n SHA-256 reference to the root. Groups:
//!
//! - `c14n_sha256_50mib`: fedkit parse + exclusive c14n of the root subtree (minus the
//!   signature) streamed into SHA-256, per provider; checked to equal the signed DigestValue.
//! - `verify_50mib`: parse + full verification of the signed document, fedkit (per provider)
//!   and libxmlsec1 (libxml2 parse, ID registration, xmlSecDSigCtxVerify with the pinned
//!   key). Both sides do identical work; the one RSA verification is negligible here.
//! - `breakdown_50mib`: parse alone (fedkit, libxml2), fedkit c14n alone into a discarding
//!   sink, SHA-256 alone over the canonical bytes: where the time goes.
//!
//! Run without `--bench` (as `cargo test --all-targets` does), criterion runs every routine
//! once on a 256 KiB document instead, so the test suite stays fast.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use fedkit_xmldsig::c14n::{self, Algorithm, Method, Sink, SubtreeOptions};
use fedkit_xmldsig::crypto::{CryptoProvider, RustCrypto};
use fedkit_xmldsig::{is_signature, AlgorithmPolicy, Document, Limits, TrustedKeys, Verifier};

const BENCH_BYTES: usize = 50 * 1024 * 1024;
const TEST_BYTES: usize = 256 * 1024;

fn providers() -> Vec<(&'static str, &'static dyn CryptoProvider)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, &'static dyn CryptoProvider)> = vec![("rustcrypto", &RustCrypto)];
    #[cfg(feature = "aws-lc-rs")]
    v.push(("aws-lc-rs", &fedkit_xmldsig::crypto::AwsLcRs));
    v
}

fn fedkit_parse_and_verify(verifier: &Verifier, xml: &str) -> usize {
    let doc = Document::parse_with_limits(xml, &Limits::large_documents()).expect("fedkit parses");
    let verified = verifier
        .verify_enveloped(&doc, doc.root_element())
        .expect("fedkit verifies the aggregate");
    verified.info().key_index
}

/// Counts canonical bytes and drops them: c14n cost without hashing.
struct CountingSink(usize);

impl Sink for CountingSink {
    fn write(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

fn bench_c14n(c: &mut Criterion) {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let size = if benchmarking { BENCH_BYTES } else { TEST_BYTES };
    let template = common::metadata_template(size);
    let xml = common::sign_with_libxmlsec1(&template, common::METADATA_ROOT);
    drop(template);
    let bytes = xml.len() as u64;
    println!("signed metadata aggregate: {bytes} bytes");

    // Every contestant must agree on the document before anything is timed.
    let expected = common::digest_value(&xml);
    for (name, provider) in providers() {
        assert_eq!(
            common::fedkit_c14n_sha256(&xml, provider),
            expected,
            "fedkit/{name} digest differs from libxmlsec1's DigestValue"
        );
    }
    let libxmlsec1 = common::LibXmlSec1::new(common::METADATA_ROOT);
    assert!(
        libxmlsec1.parse_and_verify(xml.as_bytes()),
        "libxmlsec1 rejects the aggregate"
    );
    let keys = TrustedKeys::from_pem(common::IDP_CERT_PEM).expect("pinned certificate");
    let verifiers: Vec<(&str, Verifier)> = providers()
        .into_iter()
        .map(|(name, p)| {
            (
                name,
                Verifier::new(keys.clone(), AlgorithmPolicy::default()).with_provider(p),
            )
        })
        .collect();
    for (name, verifier) in &verifiers {
        assert_eq!(fedkit_parse_and_verify(verifier, &xml), 0, "fedkit/{name}");
    }

    let configure = |group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>| {
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_secs(2));
        group.measurement_time(Duration::from_secs(12));
        group.throughput(Throughput::Bytes(bytes));
    };

    let mut group = c.benchmark_group("c14n_sha256_50mib");
    configure(&mut group);
    for (name, provider) in providers() {
        group.bench_function(format!("fedkit/{name}"), |b| {
            b.iter(|| common::fedkit_c14n_sha256(black_box(&xml), provider))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("verify_50mib");
    configure(&mut group);
    for (name, verifier) in &verifiers {
        group.bench_function(format!("fedkit/{name}"), |b| {
            b.iter(|| fedkit_parse_and_verify(verifier, black_box(&xml)))
        });
    }
    group.bench_function("libxmlsec1", |b| {
        b.iter(|| libxmlsec1.parse_and_verify(black_box(xml.as_bytes())))
    });
    group.finish();

    // Breakdown: each stage alone.
    let limits = Limits::large_documents();
    let doc = Document::parse_with_limits(&xml, &limits).unwrap();
    let root = doc.root_element();
    let options = SubtreeOptions::default()
        .excluding(root.children().find(|n| is_signature(*n)).map(|n| n.id()))
        .without_comments();
    let method = Method::new(Algorithm::Exclusive);
    let canonical = c14n::canonicalize_subtree_to_vec(root, &method, options).unwrap();
    let mut group = c.benchmark_group("breakdown_50mib");
    configure(&mut group);
    group.bench_function("parse/fedkit", |b| {
        b.iter(|| {
            Document::parse_with_limits(black_box(&xml), &limits)
                .unwrap()
                .root_element()
                .id()
        })
    });
    group.bench_function("parse/libxml2", |b| {
        b.iter(|| common::parse_libxml(black_box(xml.as_bytes())))
    });
    group.bench_function("exc-c14n-only/fedkit", |b| {
        b.iter(|| {
            let mut sink = CountingSink(0);
            c14n::canonicalize_subtree(black_box(root), &method, options, &mut sink).unwrap();
            sink.0
        })
    });
    group.throughput(Throughput::Bytes(canonical.len() as u64));
    for (name, provider) in providers() {
        group.bench_function(format!("sha256-only/{name}"), |b| {
            b.iter(|| provider.digest(fedkit_xmldsig::DigestAlgorithm::Sha256, black_box(&canonical)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_c14n);
criterion_main!(benches);
