//! Loading a ~50 MiB signed federation aggregate (~12 000 entities): fedkit's parse +
//! signature verification + indexing, next to `xmlsec1 --verify` on the same file, in the
//! same run.
//!
//! ```text
//! cargo bench -p fedkit-metadata --all-features --bench aggregate
//! ```
//!
//! The aggregate is generated deterministically (`benches/common`), signed once at setup by
//! the xmlsec1 CLI into a temporary directory, and checked to verify with both contestants
//! before anything is timed. Groups:
//!
//! - `load_50mib`: `Metadata::parse` with `SignaturePolicy::Required` (the federation's
//!   pinned certificate) and `Limits::aggregate()`, per crypto provider: parse, verify the
//!   root signature, read every entity and index it by entity ID, drop the tree. The input
//!   is already in memory (the file read is not timed). `xmlsec1 --verify` runs as a
//!   subprocess with the pinned certificate and the `ID` attribute registered: process
//!   start, file read, libxml2 parse, verification, exit.
//! - `breakdown_50mib` (RustCrypto): fedkit-xmldsig's hardened parse alone, parse +
//!   `verify_enveloped` of the root, and the whole load again: what reading and indexing the
//!   entities adds.
//! - `lookup`: `Metadata::idp` of one IdP after the load (hash lookup, the IdP's two
//!   certificates parsed, warnings computed).
//!
//! Run without `--bench` (as `cargo test --all-targets` does), every routine runs once on a
//! 256 KiB aggregate instead.
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

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use fedkit_metadata::{ImportSettings, Limits, Metadata, SignaturePolicy, SignatureStatus};
use fedkit_xmldsig::crypto::{CryptoProvider, RustCrypto};
use fedkit_xmldsig::{AlgorithmPolicy, Document, TrustedKeys, Verifier};

const BENCH_BYTES: usize = 50 * 1024 * 1024;
const TEST_BYTES: usize = 256 * 1024;

fn providers() -> Vec<(&'static str, &'static dyn CryptoProvider)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, &'static dyn CryptoProvider)> = vec![("rustcrypto", &RustCrypto)];
    #[cfg(feature = "aws-lc-rs")]
    v.push(("aws-lc-rs", &fedkit_xmldsig::crypto::AwsLcRs));
    v
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn options(provider: &'static dyn CryptoProvider) -> ImportSettings {
    let keys = TrustedKeys::from_pem(common::FEDERATION_CERT).unwrap();
    ImportSettings::new(SignaturePolicy::Required(keys))
        .with_limits(Limits::aggregate())
        .with_provider(provider)
}

fn bench_aggregate(c: &mut Criterion) {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let size = if benchmarking { BENCH_BYTES } else { TEST_BYTES };
    let dir = common::work_dir("bench");
    let (file, entities) = common::signed_aggregate(&dir, size);
    let xml = std::fs::read(&file).unwrap();
    println!(
        "signed aggregate: {} bytes, {entities} entities, {} IdPs",
        xml.len(),
        (0..entities).filter(|&i| common::is_idp(i)).count()
    );

    // Both contestants accept the document before anything is timed.
    assert!(
        common::xmlsec1_verify(&dir, &file),
        "xmlsec1 verifies the aggregate"
    );
    for (name, provider) in providers() {
        let m = Metadata::parse(&xml, &options(provider), now()).unwrap();
        assert!(
            matches!(m.signature(), SignatureStatus::Verified { .. }),
            "{name}"
        );
        assert_eq!(m.entities_total(), entities, "{name}");
        m.idp(&common::entity_id(entities / 2 / 5 * 5), now()).unwrap();
    }

    let mut group = c.benchmark_group("load_50mib");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if benchmarking { 20 } else { 1 }));
    group.throughput(Throughput::Bytes(xml.len() as u64));
    for (name, provider) in providers() {
        let opts = options(provider);
        group.bench_function(format!("fedkit_{name}"), |b| {
            b.iter(|| {
                let m = Metadata::parse(black_box(&xml), &opts, now()).unwrap();
                black_box(m.entities_total())
            })
        });
    }
    group.bench_function("xmlsec1_verify_subprocess", |b| {
        b.iter(|| assert!(common::xmlsec1_verify(&dir, black_box(&file))))
    });
    group.finish();

    let mut group = c.benchmark_group("breakdown_50mib");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(if benchmarking { 15 } else { 1 }));
    group.throughput(Throughput::Bytes(xml.len() as u64));
    let limits = Limits::aggregate().xml().clone();
    group.bench_function("xmldsig_parse", |b| {
        b.iter(|| {
            let doc = Document::parse_bytes_with_limits(black_box(&xml), &limits).unwrap();
            black_box(doc.root_element().id())
        })
    });
    let verifier = Verifier::new(
        TrustedKeys::from_pem(common::FEDERATION_CERT).unwrap(),
        AlgorithmPolicy::default(),
    );
    group.bench_function("xmldsig_parse_verify", |b| {
        b.iter(|| {
            let doc = Document::parse_bytes_with_limits(black_box(&xml), &limits).unwrap();
            let verified = verifier.verify_enveloped(&doc, doc.root_element()).unwrap();
            black_box(verified.info().key_index)
        })
    });
    let opts = options(&RustCrypto);
    group.bench_function("metadata_load", |b| {
        b.iter(|| {
            black_box(
                Metadata::parse(black_box(&xml), &opts, now())
                    .unwrap()
                    .entities_total(),
            )
        })
    });
    group.finish();

    let metadata = Metadata::parse(&xml, &options(&RustCrypto), now()).unwrap();
    let target = common::entity_id(entities / 2 / 5 * 5);
    let mut group = c.benchmark_group("lookup");
    group.bench_function("idp_by_entity_id", |b| {
        b.iter(|| black_box(metadata.idp(black_box(&target), now()).unwrap()))
    });
    group.bench_function("entity_not_found", |b| {
        b.iter(|| {
            black_box(
                metadata
                    .idp(black_box("https://unknown.example/idp"), now())
                    .is_err(),
            )
        })
    });
    group.finish();

    std::fs::remove_dir_all(&dir).unwrap();
}

criterion_group!(benches, bench_aggregate);
criterion_main!(benches);
