//! The bindings module (SAML Bindings §3.4 HTTP-Redirect, §3.5 HTTP-POST): a query signed by
//! the `openssl` CLI (independent of fedkit's signer), round trips through fedkit's own
//! signer at runtime, and the negative cases of §3.4.4.1 — the signature is checked over the
//! octets as received, in the order the clause fixes, so a different parameter order, a
//! duplicated parameter or another percent-encoding of the same value does not verify.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use fedkit_saml::bindings::{
    self, decode_post, escape, percent_decode, percent_encode, post_form, redirect_url, signed_redirect_url,
    BindingError, RedirectMessage, RelayState, DEFLATE_ENCODING,
};
use fedkit_saml::request::InflateError;
use fedkit_xmldsig::crypto::default_provider;
use fedkit_xmldsig::{AlgorithmPolicy, SignatureAlgorithm, SigningKey, TrustedKeys, Verifier};

const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const SP_KEY: &str = include_str!("data/keys/sp.key.pem");
const SP_CERT: &str = include_str!("data/keys/sp.crt.pem");
const OTHER_CERT: &str = include_str!("data/keys/other.crt.pem");
const SLO: &str = "https://idp.example.com/saml2/slo";
const XML: &str = "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_1\"/>";
const RSA_SHA256_ENCODED: &str = "http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256";

fn verifier(cert: &str) -> Verifier {
    Verifier::new(TrustedKeys::from_pem(cert).unwrap(), AlgorithmPolicy::default())
}

fn sp_key() -> SigningKey {
    SigningKey::from_pem(SP_KEY).unwrap()
}

/// The fixture under `data/signed/` (read, never edited): a LogoutRequest query signed by
/// `openssl dgst -sha256 -sign` with the IdP key.
fn openssl_query() -> String {
    let path = format!(
        "{}/tests/data/signed/logout-request-redirect.query",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap().trim().to_owned()
}

/// Signs `octets` with the SP key (RSA-SHA256) and returns the URL-encoded signature.
fn sign(octets: &str) -> String {
    let signature = default_provider()
        .rsa_sign(SignatureAlgorithm::RSA_SHA256, &sp_key(), octets.as_bytes())
        .unwrap();
    percent_encode(&base64::engine::general_purpose::STANDARD.encode(signature))
}

fn query_of(url: &str) -> &str {
    url.split_once('?').unwrap().1
}

#[test]
fn s3_4_4_1_a_query_signed_by_openssl_verifies_over_the_received_octets() {
    let query = openssl_query();
    let message = RedirectMessage::parse(&query).unwrap();
    assert_eq!(message.parameter(), "SAMLRequest");
    assert_eq!(message.relay_state().as_deref(), Some("/goodbye?a=1"));
    // The signed octets are the query up to `&Signature=`, exactly (the parameters arrived
    // in the order of §3.4.4.1).
    let (signed, _) = query.split_once("&Signature=").unwrap();
    assert_eq!(message.signed_octets().as_deref(), Some(signed));
    let key = message.verify(&verifier(IDP_CERT)).unwrap();
    assert_eq!(key, TrustedKeys::from_pem(IDP_CERT).unwrap().fingerprints()[0]);
    let xml = String::from_utf8(message.inflate(1 << 16).unwrap()).unwrap();
    assert!(xml.contains("LogoutRequest"), "{xml}");
    // Another pinned key does not verify it.
    assert!(matches!(
        message.verify(&verifier(OTHER_CERT)),
        Err(BindingError::Signature(_))
    ));
}

#[test]
fn s3_4_4_1_parameters_arriving_in_another_order_are_signed_in_the_clause_order() {
    let query = openssl_query();
    let parts: Vec<&str> = query.split('&').collect();
    // Signature, SigAlg, RelayState, SAMLRequest: the same values, arriving reversed.
    let reversed: Vec<&str> = parts.iter().rev().copied().collect();
    let reversed = reversed.join("&");
    let message = RedirectMessage::parse(&reversed).unwrap();
    let (signed, _) = query.split_once("&Signature=").unwrap();
    assert_eq!(message.signed_octets().as_deref(), Some(signed));
    assert!(message.verify(&verifier(IDP_CERT)).is_ok());
}

#[test]
fn s3_4_4_1_a_signature_over_another_parameter_order_does_not_verify() {
    let url = redirect_url(SLO, "SAMLRequest", XML, Some(RelayState::new("/x").unwrap()));
    let query = query_of(&url);
    let (saml_request, relay) = query.split_once('&').unwrap();
    // Signed as RelayState=…&SAMLRequest=…&SigAlg=…, not the clause's order.
    let wrong_order = format!("{relay}&{saml_request}&SigAlg={RSA_SHA256_ENCODED}");
    let forged = format!("{wrong_order}&Signature={}", sign(&wrong_order));
    let message = RedirectMessage::parse(&forged).unwrap();
    assert!(matches!(
        message.verify(&verifier(SP_CERT)),
        Err(BindingError::Signature(_))
    ));
    // The same parameters signed in the clause's order verify.
    let right_order = format!("{saml_request}&{relay}&SigAlg={RSA_SHA256_ENCODED}");
    let good = format!("{wrong_order}&Signature={}", sign(&right_order));
    assert!(RedirectMessage::parse(&good)
        .unwrap()
        .verify(&verifier(SP_CERT))
        .is_ok());
}

#[test]
fn s3_4_4_1_a_duplicated_parameter_is_refused() {
    let url = signed_redirect_url(
        SLO,
        "SAMLRequest",
        XML,
        Some(RelayState::new("/x").unwrap()),
        &sp_key(),
        default_provider(),
    )
    .unwrap();
    let query = query_of(&url);
    for (extra, name) in [
        ("RelayState=%2Fevil", "RelayState"),
        ("SigAlg=x", "SigAlg"),
        ("Signature=AAAA", "Signature"),
        ("SAMLRequest=AAAA", "SAMLRequest"),
    ] {
        // Before and after the original: whichever a reader took, it is refused.
        for duplicated in [format!("{query}&{extra}"), format!("{extra}&{query}")] {
            assert_eq!(
                RedirectMessage::parse(&duplicated),
                Err(BindingError::DuplicateParameter { name }),
                "{duplicated}"
            );
        }
    }
    let both = format!("{query}&SAMLResponse=AAAA");
    assert_eq!(RedirectMessage::parse(&both), Err(BindingError::BothMessages));
    assert_eq!(
        RedirectMessage::parse(&format!("SAMLEncoding=x&SAMLEncoding=y&{query}")),
        Err(BindingError::DuplicateParameter { name: "SAMLEncoding" })
    );
    // Parameters outside the binding are ignored, even twice.
    let other = format!("{query}&foo=1&foo=2");
    assert!(RedirectMessage::parse(&other)
        .unwrap()
        .verify(&verifier(SP_CERT))
        .is_ok());
}

#[test]
fn s3_4_4_1_the_signature_covers_the_encoding_as_received() {
    let url = redirect_url(SLO, "SAMLRequest", XML, Some(RelayState::new("/a b").unwrap()));
    let query = query_of(&url);
    // Lower-case hex escapes and `+` for a space: legal encodings of the same values.
    let lower = query.replace("%2F", "%2f").replace("%20", "+");
    assert_ne!(lower, query);
    let signed = format!("{lower}&SigAlg={RSA_SHA256_ENCODED}");
    let received = format!("{signed}&Signature={}", sign(&signed));
    let message = RedirectMessage::parse(&received).unwrap();
    assert_eq!(message.relay_state().as_deref(), Some("/a b"));
    assert!(
        message.verify(&verifier(SP_CERT)).is_ok(),
        "verified over the octets as received"
    );
    // Re-encoded by a proxy (upper-case hex, %20): the same decoded values, other octets.
    let reencoded = received.replace("%2f", "%2F").replace('+', "%20");
    let message = RedirectMessage::parse(&reencoded).unwrap();
    assert_eq!(message.relay_state().as_deref(), Some("/a b"));
    assert!(matches!(
        message.verify(&verifier(SP_CERT)),
        Err(BindingError::Signature(_))
    ));
}

#[test]
fn s3_4_4_1_a_changed_relay_state_or_message_does_not_verify() {
    let url = signed_redirect_url(
        SLO,
        "SAMLRequest",
        XML,
        Some(RelayState::new("/x").unwrap()),
        &sp_key(),
        default_provider(),
    )
    .unwrap();
    let query = query_of(&url);
    let message = RedirectMessage::parse(query).unwrap();
    assert!(message.verify(&verifier(SP_CERT)).is_ok());
    for tampered in [
        query.replace("RelayState=%2Fx", "RelayState=%2Fy"),
        query.replace("&RelayState=%2Fx", ""),
        query.replacen("SAMLRequest=", "SAMLRequest=A", 1),
    ] {
        assert!(
            matches!(
                RedirectMessage::parse(&tampered)
                    .unwrap()
                    .verify(&verifier(SP_CERT)),
                Err(BindingError::Signature(_))
            ),
            "{tampered}"
        );
    }
}

#[test]
fn s3_4_4_1_unsigned_and_half_signed_queries_are_told_apart() {
    let url = redirect_url(SLO, "SAMLResponse", XML, None);
    let query = query_of(&url);
    let message = RedirectMessage::parse(query).unwrap();
    assert_eq!(message.signature_parameters(), (false, false));
    assert_eq!(message.signed_octets(), None);
    let err = message.verify(&verifier(SP_CERT)).unwrap_err();
    assert_eq!(
        err,
        BindingError::Unsigned {
            parameter: "SAMLResponse"
        }
    );
    assert_eq!(err.code(), "unsigned");
    let half = format!("{query}&SigAlg={RSA_SHA256_ENCODED}");
    let err = RedirectMessage::parse(&half)
        .unwrap()
        .verify(&verifier(SP_CERT))
        .unwrap_err();
    assert_eq!(
        err,
        BindingError::HalfSigned {
            present: "SigAlg",
            missing: "Signature"
        }
    );
    let not_base64 = format!("{half}&Signature=%%%");
    let err = RedirectMessage::parse(&not_base64)
        .unwrap()
        .verify(&verifier(SP_CERT))
        .unwrap_err();
    assert!(matches!(err, BindingError::SignatureBase64 { .. }), "{err}");
    assert_eq!(
        RedirectMessage::parse("RelayState=x"),
        Err(BindingError::MissingMessage)
    );
}

#[test]
fn s3_4_4_1_only_the_deflate_encoding_is_accepted() {
    let url = redirect_url(SLO, "SAMLRequest", XML, None);
    let query = query_of(&url);
    let explicit = format!("{query}&SAMLEncoding={}", percent_encode(DEFLATE_ENCODING));
    assert_eq!(
        RedirectMessage::parse(&explicit)
            .unwrap()
            .inflate(1 << 16)
            .unwrap(),
        XML.as_bytes()
    );
    let other = format!("{query}&SAMLEncoding=urn%3Aexample%3Agzip");
    let err = RedirectMessage::parse(&other)
        .unwrap()
        .inflate(1 << 16)
        .unwrap_err();
    assert_eq!(
        err,
        BindingError::Encoding {
            found: "urn:example:gzip".to_owned()
        }
    );
    assert_eq!(err.code(), "unsupported_encoding");
}

#[test]
fn s3_4_4_1_a_compression_bomb_stops_at_the_limit() {
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b'a'; 4 << 20], 9);
    let query = format!(
        "SAMLRequest={}",
        percent_encode(&base64::engine::general_purpose::STANDARD.encode(bomb))
    );
    let err = RedirectMessage::parse(&query)
        .unwrap()
        .inflate(1 << 16)
        .unwrap_err();
    assert_eq!(
        err,
        BindingError::Inflate {
            parameter: "SAMLRequest",
            source: InflateError::TooLarge { max: 1 << 16 }
        }
    );
    assert_eq!(err.code(), "too_large");
    assert!(matches!(
        bindings::inflate("not base64!", 10),
        Err(InflateError::Base64(_))
    ));
    assert_eq!(bindings::inflate("AAAA", 10), Err(InflateError::Deflate));
}

#[test]
fn redirect_urls_keep_the_destination_query() {
    let url = redirect_url("https://idp.example.com/sso?app=1", "SAMLRequest", XML, None);
    assert!(
        url.starts_with("https://idp.example.com/sso?app=1&SAMLRequest="),
        "{url}"
    );
    let signed = signed_redirect_url(
        "https://idp.example.com/sso?app=1",
        "SAMLRequest",
        XML,
        None,
        &sp_key(),
        default_provider(),
    )
    .unwrap();
    let query = query_of(&signed);
    // The destination's own parameter is outside the binding, so outside the signature.
    assert!(RedirectMessage::parse(query)
        .unwrap()
        .verify(&verifier(SP_CERT))
        .is_ok());
}

#[test]
fn s3_5_4_post_values_are_base64_with_white_space_ignored_and_bounded() {
    let value = base64::engine::general_purpose::STANDARD.encode(XML);
    let wrapped: String = value
        .as_bytes()
        .chunks(10)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(
        decode_post("SAMLRequest", &wrapped, 1 << 16).unwrap(),
        XML.as_bytes()
    );
    let err = decode_post("SAMLRequest", &value, 10).unwrap_err();
    assert!(matches!(err, BindingError::TooLarge { max: 10, .. }), "{err}");
    assert_eq!(err.code(), "too_large");
    let err = decode_post("SAMLResponse", "%%%", 1 << 16).unwrap_err();
    assert!(
        matches!(
            err,
            BindingError::Base64 {
                parameter: "SAMLResponse",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn s3_5_4_the_post_form_carries_the_message_and_an_escaped_relay_state() {
    let html = post_form(
        "https://idp.example.com/sso?a=1&b=2",
        "SAMLRequest",
        XML,
        Some(RelayState::new("\"><script>x()</script>").unwrap()),
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(XML);
    assert!(
        html.contains(&format!("name=\"SAMLRequest\" value=\"{encoded}\"")),
        "{html}"
    );
    assert!(
        html.contains("action=\"https://idp.example.com/sso?a=1&amp;b=2\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"&quot;&gt;&lt;script&gt;x()&lt;/script&gt;\""),
        "{html}"
    );
    assert!(!html.contains("<script>"));
    assert!(html.contains("method=\"post\""));
}

#[test]
fn percent_encoding_keeps_only_unreserved_characters() {
    // RFC 3986 §2.3: ALPHA / DIGIT / "-" / "." / "_" / "~" are unreserved.
    assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
    assert_eq!(percent_encode("a b/+=&?#%ü"), "a%20b%2F%2B%3D%26%3F%23%25%C3%BC");
    assert_eq!(percent_decode("a%20b+c%2Fd%2B%zz%"), "a b c/d+%zz%");
    assert_eq!(percent_decode("%C3%BC%c3%bc"), "üü");
    assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    assert_eq!(
        escape("a<b>&\"'\t\n\r"),
        "a&lt;b&gt;&amp;&quot;&#39;&#9;&#10;&#13;"
    );
}

proptest::proptest! {
    /// Percent-encoding round-trips through the decoder, produces only unreserved characters
    /// and escapes (never a `+`), and the `percent-encoding` crate reads it the same.
    #[test]
    fn percent_encoding_round_trips(s in "\\PC*") {
        let encoded = percent_encode(&s);
        proptest::prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
        proptest::prop_assert_eq!(percent_decode(&encoded), s.clone());
        proptest::prop_assert_eq!(percent_encoding::percent_decode_str(&encoded).decode_utf8().unwrap(), s);
    }

    /// Any message and RelayState (an echoed one: of any length) survive the Redirect
    /// binding (encode, parse, inflate).
    #[test]
    fn redirect_encode_decode_round_trips(xml in "\\PC{0,400}", relay in proptest::option::of("\\PC{0,120}")) {
        let url = redirect_url(SLO, "SAMLResponse", &xml, relay.as_deref().map(RelayState::echo));
        let message = RedirectMessage::parse(query_of(&url)).unwrap();
        proptest::prop_assert_eq!(message.parameter(), "SAMLResponse");
        proptest::prop_assert_eq!(message.relay_state(), relay);
        proptest::prop_assert_eq!(message.inflate(1 << 16).unwrap(), xml.as_bytes());
    }

    /// Escaped text holds no markup character, and unescapes to itself.
    #[test]
    fn escaped_text_has_no_markup(s in "\\PC*") {
        let escaped = escape(&s);
        proptest::prop_assert!(!escaped.contains(['<', '>', '"', '\'']));
        let back = escaped
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        proptest::prop_assert_eq!(back, s);
    }
}

#[test]
fn a_signed_round_trip_verifies_with_the_signer_certificate() {
    for relay in [None, Some(""), Some("/dashboard?tab=2&x=ü")] {
        let state = relay.map(|r| RelayState::new(r).unwrap());
        let url = signed_redirect_url(SLO, "SAMLRequest", XML, state, &sp_key(), default_provider()).unwrap();
        let message = RedirectMessage::parse(query_of(&url)).unwrap();
        assert_eq!(message.relay_state().as_deref(), relay);
        assert_eq!(
            message.sig_alg().as_deref(),
            Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        );
        assert!(message.verify(&verifier(SP_CERT)).is_ok(), "{url}");
        assert_eq!(message.inflate(1 << 16).unwrap(), XML.as_bytes());
    }
}
