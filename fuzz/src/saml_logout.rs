//! Single Logout messages (`LogoutValidator`): arbitrary bytes as an HTTP-POST value and as an
//! HTTP-Redirect query, and mutations of a LogoutRequest signed by the xmlsec1 CLI. Oracles:
//! processing never panics, and a mutated request that is accepted names exactly the
//! original user and sessions.

use base64::Engine as _;
use chrono::{TimeZone, Utc};
use fedkit_saml::logout::{LogoutMessage, LogoutValidator};
use fedkit_saml::{IdentityProvider, ServiceProvider, Settings};
use fedkit_xmldsig::TrustedKeys;

const PEM: &str = include_str!("../../crates/saml/tests/data/keys/idp.crt.pem");
const SIGNED: &str = include_str!("../../crates/saml/tests/data/signed/logout-request-post.xml");

fn validator() -> LogoutValidator {
    let sp = ServiceProvider::new(
        "https://app.example.com/saml/metadata",
        ["https://app.example.com/saml/acs"],
    )
    .expect("SP settings");
    let keys = TrustedKeys::from_pem(PEM).expect("fixture certificate");
    let idp =
        IdentityProvider::new("https://sso.jumpcloud.com/saml2/fedkit-test", keys).expect("IdP settings");
    LogoutValidator::new(sp, idp, "https://app.example.com/saml/slo", Settings::default())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 11, 1, 0).unwrap();
    let v = validator();
    // The raw input as a posted message and as a Redirect query: must not panic.
    let _ = v.process_post(&b64(data), Some("_sp-logout-1"), now);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = v.process_redirect(text, None, now);
    }
    // Edits of the signed LogoutRequest: (offset: u16, byte), an insertion when the high bit
    // is set.
    let mut bytes = SIGNED.as_bytes().to_vec();
    for edit in data.chunks_exact(3) {
        let pos = usize::from(u16::from_le_bytes([edit[0], edit[1] & 0x7f])) % bytes.len();
        if edit[1] & 0x80 != 0 {
            bytes.insert(pos, edit[2]);
        } else {
            bytes[pos] = edit[2];
        }
    }
    if let Ok(LogoutMessage::Request(mutated)) = v.process_post(&b64(&bytes), None, now) {
        let Ok(LogoutMessage::Request(original)) = v.process_post(&b64(SIGNED.as_bytes()), None, now) else {
            panic!("the fixture is accepted");
        };
        assert_eq!(
            mutated.name_id(),
            original.name_id(),
            "a mutation changed the NameID yet was accepted"
        );
        assert_eq!(
            mutated.session_indexes(),
            original.session_indexes(),
            "a mutation changed the sessions yet was accepted"
        );
    }
}
