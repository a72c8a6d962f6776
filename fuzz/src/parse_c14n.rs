//! Parse arbitrary bytes with tight limits and canonicalize with every algorithm.
//! Oracle: canonicalization is idempotent (c14n of the re-parsed canonical form is itself).

use fedkit_xmldsig::c14n::{self, Algorithm, Method};
use fedkit_xmldsig::{Document, Limits};

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let limits = Limits::default()
        .with_max_bytes(64 * 1024)
        .with_max_nodes(10_000)
        .with_max_depth(64);
    let Ok(doc) = Document::parse_bytes_with_limits(data, &limits) else {
        return;
    };
    for alg in Algorithm::ALL {
        let method = Method::with_prefix_list(alg, "#default a");
        let Ok(once) = c14n::canonicalize_document_to_vec(&doc, &method) else {
            continue;
        };
        let text = std::str::from_utf8(&once).expect("canonical XML is UTF-8");
        let again = Document::parse_bytes_with_limits(text.as_bytes(), &Limits::large_documents())
            .expect("canonical XML re-parses");
        let twice = c14n::canonicalize_document_to_vec(&again, &method).expect("canonicalizes again");
        assert_eq!(once, twice, "c14n is not idempotent for {alg:?}");
    }
}
