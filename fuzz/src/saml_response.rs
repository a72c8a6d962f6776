//! SAML Response processing on mutations of a genuinely signed, doubly-signed Response (and,
//! when the input is long, on the raw input itself). Oracles: processing never panics, and a
//! mutated Response that is accepted yields exactly the original identity and attributes.

use chrono::{TimeZone, Utc};
use fedkit_saml::{IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider};
use fedkit_xmldsig::TrustedKeys;

const PEM: &str = include_str!("../../crates/saml/tests/data/keys/idp.crt.pem");
const SIGNED: &str = include_str!("../../crates/saml/tests/data/signed/both-signed.xml");

fn validator() -> ResponseValidator {
    let sp = ServiceProvider::new(
        "https://app.example.com/saml/metadata",
        ["https://app.example.com/saml/acs"],
    )
    .expect("SP settings");
    let keys = TrustedKeys::from_pem(PEM).expect("fixture certificate");
    let idp =
        IdentityProvider::new("https://sso.jumpcloud.com/saml2/fedkit-test", keys).expect("IdP settings");
    ResponseValidator::new(sp, idp)
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
    let v = validator();
    // The raw input as a Response and as a POST value: must not panic.
    let _ = v.process_xml(data, Some("_req-7f3a"), now, &InMemoryReplayCache::new(4));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = v.process_post(text, Some("_req-7f3a"), now, &InMemoryReplayCache::new(4));
    }
    // Edits of the signed Response: (offset: u16, byte), an insertion when the high bit is set.
    let mut bytes = SIGNED.as_bytes().to_vec();
    for edit in data.chunks_exact(3) {
        let pos = usize::from(u16::from_le_bytes([edit[0], edit[1] & 0x7f])) % bytes.len();
        if edit[1] & 0x80 != 0 {
            bytes.insert(pos, edit[2]);
        } else {
            bytes[pos] = edit[2];
        }
    }
    if let Ok(mutated) = v.process_xml(&bytes, Some("_req-7f3a"), now, &InMemoryReplayCache::new(4)) {
        let original = v
            .process_xml(
                SIGNED.as_bytes(),
                Some("_req-7f3a"),
                now,
                &InMemoryReplayCache::new(4),
            )
            .expect("the fixture is accepted");
        assert_eq!(
            mutated.name_id(),
            original.name_id(),
            "a mutation changed the NameID yet was accepted"
        );
        assert_eq!(
            mutated.attributes(),
            original.attributes(),
            "a mutation changed attributes yet was accepted"
        );
        assert_eq!(mutated.id(), original.id());
    }
}
