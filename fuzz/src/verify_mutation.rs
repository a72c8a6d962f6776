//! Mutations of a genuinely signed SAML Response. Oracle: a mutated document verifies only
//! if the signed content it exposes is byte-for-byte the original's canonical form.

use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::{find_signatures, AlgorithmPolicy, Document, TrustedKeys, Verifier};

const PEM: &str = include_str!("../../examples/data/idp-cert.pem");
const SIGNED: &str = include_str!("../../examples/data/signed-response.xml");

fn canonical(doc: &Document<'_>) -> Option<Vec<u8>> {
    let sig = find_signatures(doc).next()?;
    let opts = SubtreeOptions::default()
        .excluding(Some(sig.id()))
        .without_comments();
    c14n::canonicalize_subtree_to_vec(doc.root_element(), &Method::new(Algorithm::Exclusive), opts).ok()
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    // Input: a list of (offset: u16, byte) edits, or an insertion when the high bit is set.
    let mut bytes = SIGNED.as_bytes().to_vec();
    for edit in data.chunks_exact(3) {
        let pos = usize::from(u16::from_le_bytes([edit[0], edit[1] & 0x7f])) % bytes.len();
        if edit[1] & 0x80 != 0 {
            bytes.insert(pos, edit[2]);
        } else {
            bytes[pos] = edit[2];
        }
    }
    let Ok(doc) = Document::parse_bytes(&bytes) else {
        return;
    };
    let keys = TrustedKeys::from_pem(PEM).expect("example cert");
    let verifier = Verifier::new(keys, AlgorithmPolicy::default());
    if verifier.verify_enveloped(&doc, doc.root_element()).is_ok() {
        let original = Document::parse(SIGNED).expect("fixture parses");
        assert_eq!(
            canonical(&doc),
            canonical(&original),
            "a mutation changed signed content yet verified"
        );
    }
}
