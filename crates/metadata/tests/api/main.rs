//! fedkit-metadata against the fixtures of `tests/data/generate.sh` (xmlsec1-signed, with
//! openssl-computed fingerprints) and hostile inputs built here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod explicit;
mod hostile;
mod properties;
mod shapes;
mod signed;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use fedkit_metadata::{IdpMetadata, ImportSettings, Metadata, SignaturePolicy};
use fedkit_xmldsig::{Fingerprint, TrustedKeys};

/// The instant every test runs at unless it says otherwise.
pub(crate) const NOW: &str = "2026-11-22T10:00:00Z";

pub(crate) fn at(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t).unwrap().to_utc()
}

pub(crate) fn now() -> DateTime<Utc> {
    at(NOW)
}

pub(crate) fn path(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    assert!(
        p.exists(),
        "missing fixture {} (run tests/data/generate.sh)",
        p.display()
    );
    p
}

pub(crate) fn data(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap()
}

pub(crate) fn text(rel: &str) -> String {
    String::from_utf8(data(rel)).unwrap()
}

/// The certificate of a test key pair, PEM.
pub(crate) fn cert_pem(name: &str) -> String {
    text(&format!("keys/{name}.crt.pem"))
}

pub(crate) fn keys(name: &str) -> TrustedKeys {
    TrustedKeys::from_pem(&cert_pem(name)).unwrap()
}

/// openssl's SHA-256 fingerprint of a test certificate (`AB:CD:...`).
pub(crate) fn openssl_fingerprint(name: &str) -> String {
    text(&format!("keys/{name}.sha256")).trim().to_owned()
}

pub(crate) fn fp(name: &str) -> Fingerprint {
    let hex: String = openssl_fingerprint(name).split(':').collect();
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    Fingerprint(out)
}

pub(crate) fn unsigned_ok() -> ImportSettings {
    ImportSettings::new(SignaturePolicy::NotRequired)
}

pub(crate) fn load(rel: &str, options: &ImportSettings) -> Result<Metadata, fedkit_metadata::Error> {
    Metadata::parse(&data(rel), options, now())
}

pub(crate) fn only_idp(rel: &str) -> IdpMetadata {
    IdpMetadata::from_xml(&data(rel), &unsigned_ok(), now()).unwrap()
}
