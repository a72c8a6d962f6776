//! Arbitrary documents through signature verification: never a panic, and a verified result
//! always names an element that carries the referenced ID.

use fedkit_xmldsig::{find_signatures, AlgorithmPolicy, Document, Limits, TrustedKeys, Verifier};

const PEM: &str = include_str!("../../examples/data/idp-cert.pem");

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let limits = Limits::default().with_max_bytes(64 * 1024).with_max_nodes(10_000);
    let Ok(doc) = Document::parse_bytes_with_limits(data, &limits) else {
        return;
    };
    let keys = TrustedKeys::from_pem(PEM).expect("example cert");
    let verifier = Verifier::new(keys, AlgorithmPolicy::default().dangerous_allow_sha1());
    for sig in find_signatures(&doc) {
        if let Ok(v) = verifier.verify_signature(&doc, sig) {
            let id = &v.info().reference_id;
            assert!(v.element().attributes().any(|(_, _, value)| value == id));
        }
    }
}
