//! fedkit-metadata import. An input starting with `<` is raw metadata (so XML files seed the
//! corpus as they are); otherwise the first byte picks the mode:
//!
//! - raw metadata (`Metadata::parse`, then every entity looked up): never a panic, and
//!   whatever is accepted satisfies the invariants below;
//! - edits of the xmlsec1-signed MDQ response, imported with its signature required: a
//!   mutation that still verifies must describe exactly the original IdP;
//! - a pasted certificate (`IdpMetadata::from_explicit`).
//!
//! Invariants of every accepted IdP: a non-empty entity ID of at most 1024 characters, at
//! least one SSO endpoint, every endpoint URL `https://` with a host (http is not allowed
//! here), every certificate's fingerprint the SHA-256 of its DER, at least one signing key and
//! each signing key one of its signing certificates, `validUntil` after `now`.

use chrono::{DateTime, Utc};
use fedkit_metadata::{IdpMetadata, ImportSettings, Metadata, SignaturePolicy};
use fedkit_xmldsig::{Fingerprint, TrustedKeys};

const SIGNED: &[u8] = include_bytes!("../../crates/metadata/tests/data/mdq-response.xml");
const SIGNER: &str = include_str!("../../crates/metadata/tests/data/keys/federation.crt.pem");
const ENTITY: &str = "https://idp.uni-a.fedkit.test/idp/shibboleth";

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_341_600, 0).expect("2026-11-22T10:00:00Z")
}

fn check(idp: &IdpMetadata, now: DateTime<Utc>) {
    assert!(!idp.entity_id().trim().is_empty());
    assert!(idp.entity_id().chars().count() <= 1024);
    assert!(!idp.sso().is_empty());
    for e in idp.sso().iter().chain(idp.slo()).chain(idp.artifact_resolution()) {
        for url in std::iter::once(&e.location).chain(e.response_location.as_ref()) {
            let lower = url.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .unwrap_or_else(|| panic!("non-https endpoint {url:?}"));
            assert!(!rest.is_empty() && !rest.starts_with('/'), "no host in {url:?}");
            assert!(
                !url.chars().any(|c| c.is_whitespace() || c.is_control()),
                "{url:?}"
            );
        }
    }
    for c in idp.certificates() {
        assert_eq!(c.sha256, Fingerprint::of(c.der()));
        assert_eq!(c.sha256.as_bytes().len(), 32);
    }
    let signing: Vec<Fingerprint> = idp.signing_certificates().map(|c| c.sha256).collect();
    assert!(!idp.signing_keys().keys().is_empty());
    for k in idp.signing_keys().keys() {
        assert!(signing.contains(&k.fingerprint()));
    }
    if let Some(t) = idp.valid_until() {
        assert!(t > now);
    }
    for w in idp.warnings() {
        assert!(!w.to_string().is_empty());
    }
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let Some((&first, tail)) = data.split_first() else {
        return;
    };
    let (mode, rest) = if first == b'<' { (0, data) } else { (first, tail) };
    let now = now();
    match mode % 3 {
        0 => {
            let options = ImportSettings::new(SignaturePolicy::NotRequired);
            if let Ok(metadata) = Metadata::parse(rest, &options, now) {
                assert!(metadata.idps_total() <= metadata.entities_total());
                let ids: Vec<String> = metadata.entity_ids().map(str::to_owned).collect();
                for id in ids {
                    if let Ok(idp) = metadata.idp(&id, now) {
                        assert_eq!(idp.entity_id(), id);
                        check(&idp, now);
                    }
                }
            }
        }
        1 => {
            // (offset: u16, byte) edits, an insertion when the high bit of the offset is set.
            let mut bytes = SIGNED.to_vec();
            for edit in rest.chunks_exact(3) {
                let pos = usize::from(u16::from_le_bytes([edit[0], edit[1] & 0x7f])) % bytes.len();
                if edit[1] & 0x80 != 0 {
                    bytes.insert(pos, edit[2]);
                } else {
                    bytes[pos] = edit[2];
                }
            }
            let keys = TrustedKeys::from_pem(SIGNER).expect("signer certificate");
            let options = ImportSettings::new(SignaturePolicy::Required(keys));
            if let Ok(idp) = IdpMetadata::from_xml(&bytes, &options, now) {
                let original = IdpMetadata::from_xml(SIGNED, &options, now).expect("the fixture verifies");
                assert_eq!(idp, original, "a mutation changed the signed IdP yet verified");
                assert_eq!(idp.entity_id(), ENTITY);
            }
        }
        _ => {
            let pasted = String::from_utf8_lossy(rest);
            if let Ok(idp) = IdpMetadata::from_explicit(
                "https://idp.example.org",
                "https://idp.example.org/sso",
                &[pasted.as_ref()],
                now,
            ) {
                check(&idp, now);
            }
        }
    }
}
