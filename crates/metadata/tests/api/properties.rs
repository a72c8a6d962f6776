//! Properties: duration round trips, what an accepted URL or paste looks like, and mutations
//! of a signed document.

use fedkit_metadata::{CacheDuration, IdpMetadata, ImportSettings, SignaturePolicy};
use fedkit_xmldsig::Fingerprint;
use proptest::prelude::*;

use crate::{cert_pem, data, keys, now};

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn durations_round_trip(
        years in 0u32..100, months in 0u32..100, days in 0u32..1000, hours in 0u32..100,
        minutes in 0u32..100, seconds in 0u32..100_000, nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000],
    ) {
        let d = CacheDuration { years, months, days, hours, minutes, seconds, nanos };
        let text = d.to_string();
        prop_assert_eq!(text.parse::<CacheDuration>(), Ok(d), "{}", text);
        // Adding a duration never goes back in time.
        if let Some(t) = d.after(now()) {
            prop_assert!(t >= now());
        }
    }

    #[test]
    fn an_accepted_sso_url_is_https_with_a_host(url in "\\PC{0,40}|(https?|javascript|data|HTTPS)://[a-z.:@\\[\\]/ %-]{0,20}") {
        let pem = cert_pem("idp-rsa");
        if let Ok(idp) = IdpMetadata::from_explicit("https://idp.example.org", &url, &[&pem], now()) {
            let lower = url.to_ascii_lowercase();
            let rest = lower.strip_prefix("https://");
            prop_assert!(rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')), "{}", url);
            prop_assert!(!url.chars().any(|c| c.is_whitespace() || c.is_control()), "{}", url);
            prop_assert!(!url.split("//").nth(1).unwrap_or_default().split('/').next().unwrap_or_default().contains('@'));
            prop_assert_eq!(&idp.sso()[0].location, &url);
        }
    }

    #[test]
    fn a_pasted_certificate_survives_any_whitespace(
        cuts in proptest::collection::vec((0usize..2000, prop_oneof![Just(" "), Just("\r\n"), Just("\t"), Just("\n\n")]), 0..20)
    ) {
        let b64: String = cert_pem("okta").lines().filter(|l| !l.starts_with("-----")).collect();
        let mut paste = b64.clone();
        for (at, ws) in cuts {
            let at = at % (paste.len() + 1);
            if paste.is_char_boundary(at) {
                paste.insert_str(at, ws);
            }
        }
        let idp = IdpMetadata::from_explicit("e", "https://idp.example.org/sso", &[&paste], now()).unwrap();
        prop_assert_eq!(idp.signing_keys().fingerprints(), vec![crate::fp("okta")]);
    }

    #[test]
    fn pastes_never_panic_and_fingerprints_are_sha256(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(idp) = IdpMetadata::from_explicit("e", "https://idp.example.org/sso", &[text.as_ref()], now()) {
            for c in idp.certificates() {
                prop_assert_eq!(c.sha256, Fingerprint::of(c.der()));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A byte of the xmlsec1-signed MDQ response changed: either the import fails, or it
    /// yields exactly the original IdP (the byte was outside what the signature covers, such
    /// as KeyInfo, or canonicalization does not see it).
    #[test]
    fn a_mutated_signed_document_never_yields_other_content(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let original = data("mdq-response.xml");
        let options = ImportSettings::new(SignaturePolicy::Required(keys("federation")));
        let expected = IdpMetadata::from_xml(&original, &options, now()).unwrap();
        let mut mutated = original.clone();
        let at = pos.index(mutated.len());
        mutated[at] = byte;
        if let Ok(idp) = IdpMetadata::from_xml(&mutated, &options, now()) {
            prop_assert_eq!(idp, expected);
        }
    }
}
