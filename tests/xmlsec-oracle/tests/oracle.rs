//! Differential tests against libxmlsec1 (through the `xmlsec` crate) and libxml2's
//! canonicalizer (through the `libxml` crate), run with every compiled-in crypto provider.
//!
//! - the bundled example Response and its tampered copy;
//! - documents signed here by libxmlsec1 with the test keys in
//!   `crates/xmldsig/tests/data/oracle/`, over a
//!   matrix of signature, digest and canonicalization algorithms and signature placements,
//!   with content that exercises canonicalization;
//! - a document re-signed with another key, and KeyInfo that names an untrusted key;
//! - canonical bytes compared with libxml2's `xmlC14NExecute`;
//! - random mutations of signed documents, where fedkit-xmldsig must agree with libxmlsec1
//!   except for its documented strictness (`oracle/verdict.rs`), and never accept what
//!   libxmlsec1 refuses; and random mutations compared byte for byte after canonicalization.
//!
//! libxmlsec1 prints its errors to stderr (the `xmlsec` crate exposes no safe way to silence
//! them); that output is expected for every refused document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod oracle {
    pub(crate) mod fixtures;
    pub(crate) mod libxmlsec;
    pub(crate) mod mutation;
    pub(crate) mod verdict;
}

use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::crypto::all_providers;
use fedkit_xmldsig::{
    AlgorithmPolicy, DigestAlgorithm, Document, SignatureAlgorithm, TrustedKeys, Verifier, VerifyError,
};
use oracle::fixtures::{
    self, Placement, Variant, ASSERTION_ID, CERT_A, CERT_B, CERT_EC256, CERT_EC384, DIGESTS, KEY_A, KEY_B,
    KEY_EC256, KEY_EC384, PUBKEY_A, RESPONSE_ID,
};
use oracle::libxmlsec::{self, ElementPath, OracleError, SAMLP_NS, SAML_IDS, SAML_NS};
use oracle::verdict::{ours, Ours};

const IDP_CERT: &str = include_str!("../../../examples/data/idp-cert.pem");
const SIGNED: &str = include_str!("../../../examples/data/signed-response.xml");
const TAMPERED: &str = include_str!("../../../examples/data/tampered-response.xml");

const ATTRIBUTE: ElementPath = ElementPath(&[
    (SAMLP_NS, "Response"),
    (SAML_NS, "Assertion"),
    (SAML_NS, "AttributeStatement"),
    (SAML_NS, "Attribute"),
]);

fn oracle(xml: &str, pem: &str, element: ElementPath) -> libxmlsec::Verdict {
    libxmlsec::verify(xml.as_bytes(), pem, element, SAML_IDS)
}

fn our(xml: &str, pem: &str, element: ElementPath) -> Ours {
    ours(xml.as_bytes(), pem, element)
}

// ---------------------------------------------------------------------------------------
// The oracle itself, on the bundled example.

#[test]
fn bundled_response_is_accepted_by_both() {
    assert_eq!(oracle(SIGNED, IDP_CERT, ElementPath::RESPONSE), Ok(true));
    assert_eq!(our(SIGNED, IDP_CERT, ElementPath::RESPONSE), Ours::Accepted);
}

#[test]
fn bundled_tampered_response_is_refused_by_both() {
    // libxmlsec1 reports a digest mismatch as a verdict ("invalid"), not as an error.
    assert_eq!(oracle(TAMPERED, IDP_CERT, ElementPath::RESPONSE), Ok(false));
    assert_eq!(
        our(TAMPERED, IDP_CERT, ElementPath::RESPONSE),
        Ours::Rejected(VerifyError::DigestMismatch {
            id: "_resp-7a1c2f".into(),
            algorithm: "SHA-256"
        })
    );
}

#[test]
fn bundled_response_with_another_pinned_key_is_refused_by_both() {
    // A wrong key is also a verdict for libxmlsec1; KeyInfo carries the real signer's
    // certificate, which must not make the document acceptable.
    assert_eq!(oracle(SIGNED, CERT_A, ElementPath::RESPONSE), Ok(false));
    assert!(matches!(
        our(SIGNED, CERT_A, ElementPath::RESPONSE),
        Ours::Rejected(VerifyError::SignatureInvalid {
            keyinfo_trusted: false,
            ..
        })
    ));
}

#[test]
fn oracle_errors_are_distinguished_from_invalid_signatures() {
    // The bundled Assertion is not signed.
    assert_eq!(
        oracle(SIGNED, IDP_CERT, ElementPath::ASSERTION),
        Err(OracleError::NoSignature)
    );
    assert!(matches!(
        our(SIGNED, IDP_CERT, ElementPath::ASSERTION),
        Ours::Rejected(VerifyError::MissingSignature { .. })
    ));
    // Without the ID registered, libxmlsec1 cannot resolve the reference: an error.
    assert_eq!(
        libxmlsec::verify(SIGNED.as_bytes(), IDP_CERT, ElementPath::RESPONSE, &[]),
        Err(OracleError::Verify)
    );
    // Not well-formed.
    let broken = SIGNED.replace("</samlp:Status>", "</samlp:Statu>");
    assert_eq!(
        oracle(&broken, IDP_CERT, ElementPath::RESPONSE),
        Err(OracleError::Parse)
    );
    assert!(matches!(
        our(&broken, IDP_CERT, ElementPath::RESPONSE),
        Ours::Unparsable(_)
    ));
    // A duplicated ID is refused by both: at registration by the oracle, by the verifier
    // before any cryptography.
    let duplicated = SIGNED.replace("ID=\"_assert-9b3e\"", "ID=\"_resp-7a1c2f\"");
    assert!(matches!(
        oracle(&duplicated, IDP_CERT, ElementPath::RESPONSE),
        Err(OracleError::DuplicateId(_))
    ));
    assert!(matches!(
        our(&duplicated, IDP_CERT, ElementPath::RESPONSE),
        Ours::Rejected(VerifyError::DuplicateId { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Documents signed by libxmlsec1.

const SIGNATURES: [SignatureAlgorithm; 3] = [
    SignatureAlgorithm::RSA_SHA256,
    SignatureAlgorithm::RSA_SHA384,
    SignatureAlgorithm::RSA_SHA512,
];

fn paths(placement: Placement) -> Vec<ElementPath> {
    let mut out = Vec::new();
    if placement.response() {
        out.push(ElementPath::RESPONSE);
    }
    if placement.assertion() {
        out.push(ElementPath::ASSERTION);
    }
    out
}

/// Checks what every provider reports about an accepted signature.
fn check_info(xml: &str, v: &Variant, element: ElementPath, id: &str) {
    for provider in all_providers() {
        let verifier = Verifier::new(TrustedKeys::from_pem(CERT_A).unwrap(), AlgorithmPolicy::default())
            .with_provider(provider);
        let doc = Document::parse(xml).unwrap();
        let node = element.find(&doc).unwrap();
        let verified = verifier.verify_enveloped(&doc, node).unwrap();
        let info = verified.info();
        assert_eq!(info.signature_algorithm, v.signature);
        assert_eq!(info.digest_algorithm, v.digest);
        assert_eq!(info.signed_info_c14n, v.signed_info_c14n);
        assert_eq!(
            info.reference_c14n,
            v.reference_c14n.unwrap_or(Algorithm::Inclusive)
        );
        assert_eq!(info.reference_id, id);
        assert!(info.enveloped);
        // What the verified view reads is the signed value, the comment skipped.
        let name_id = verified
            .element()
            .descendants_text_of(SAML_NS, "NameID")
            .expect("NameID is covered");
        assert_eq!(name_id, "jane.doe@example.com");
    }
}

/// Finds `local` under the verified element and reads it through the verified view.
trait VerifiedText {
    fn descendants_text_of(&self, ns: &str, local: &str) -> Option<String>;
}

impl VerifiedText for fedkit_xmldsig::VerifiedElement<'_, '_> {
    fn descendants_text_of(&self, ns: &str, local: &str) -> Option<String> {
        if self.is(ns, local) {
            return Some(self.text());
        }
        self.children().find_map(|c| c.descendants_text_of(ns, local))
    }
}

/// Signs `v` with key a and checks both verifiers on it and on variations of it.
fn check_variant(v: &Variant) {
    let xml = fixtures::signed(v, KEY_A, CERT_A);
    let ctx = |what: &str| format!("{what} for {v:?}\n{xml}");
    for element in paths(v.placement) {
        let id = if element == ElementPath::RESPONSE {
            RESPONSE_ID
        } else {
            ASSERTION_ID
        };
        assert_eq!(oracle(&xml, CERT_A, element), Ok(true), "{}", ctx("libxmlsec1"));
        assert_eq!(our(&xml, CERT_A, element), Ours::Accepted, "{}", ctx("fedkit"));
        // The same key pinned as a bare public key.
        assert_eq!(
            oracle(&xml, PUBKEY_A, element),
            Ok(true),
            "{}",
            ctx("libxmlsec1, public key")
        );
        assert_eq!(
            our(&xml, PUBKEY_A, element),
            Ours::Accepted,
            "{}",
            ctx("fedkit, public key")
        );
        check_info(&xml, v, element, id);

        // The other key pinned: both refuse.
        assert_eq!(
            oracle(&xml, CERT_B, element),
            Ok(false),
            "{}",
            ctx("libxmlsec1, key b")
        );
        assert!(
            matches!(
                our(&xml, CERT_B, element),
                Ours::Rejected(VerifyError::SignatureInvalid { .. })
            ),
            "{}",
            ctx("fedkit, key b")
        );
    }

    // Signed text changed: every signature covers the NameID, both refuse.
    let tampered = xml.replacen("jane.doe<!--", "jane.dox<!--", 1);
    assert_ne!(tampered, xml);
    for element in paths(v.placement) {
        assert_eq!(
            oracle(&tampered, CERT_A, element),
            Ok(false),
            "{}",
            ctx("tampered")
        );
        assert!(
            matches!(
                our(&tampered, CERT_A, element),
                Ours::Rejected(VerifyError::DigestMismatch { .. })
            ),
            "{}",
            ctx("tampered")
        );
    }

    // A comment inserted into signed text is not part of a `#ID` reference: both accept,
    // and the verified view still reads the whole value.
    let commented = xml.replacen(
        "@example.com</saml:NameID>",
        "@exa<!---->mple.com</saml:NameID>",
        1,
    );
    assert_ne!(commented, xml);
    for element in paths(v.placement) {
        let id = if element == ElementPath::RESPONSE {
            RESPONSE_ID
        } else {
            ASSERTION_ID
        };
        assert_eq!(
            oracle(&commented, CERT_A, element),
            Ok(true),
            "{}",
            ctx("comment")
        );
        assert_eq!(
            our(&commented, CERT_A, element),
            Ours::Accepted,
            "{}",
            ctx("comment")
        );
        check_info(&commented, v, element, id);
    }

    // The unsigned element of a single placement: both report it unsigned.
    let unsigned = match v.placement {
        Placement::Response => Some(ElementPath::ASSERTION),
        Placement::Assertion => Some(ElementPath::RESPONSE),
        Placement::Both => None,
    };
    if let Some(element) = unsigned {
        assert_eq!(oracle(&xml, CERT_A, element), Err(OracleError::NoSignature));
        assert!(matches!(
            our(&xml, CERT_A, element),
            Ours::Rejected(VerifyError::MissingSignature { .. })
        ));
    }
}

/// One signature algorithm and reference c14n, in every placement; the digest and the
/// SignedInfo c14n rotate with the placement so the matrix covers every pairing.
fn check_matrix(signature: SignatureAlgorithm, c14n: Algorithm) {
    let s = SIGNATURES.iter().position(|a| *a == signature).unwrap();
    let c = Algorithm::ALL.iter().position(|a| *a == c14n).unwrap();
    for (p, placement) in Placement::ALL.into_iter().enumerate() {
        check_variant(&Variant {
            signature,
            digest: DIGESTS[(s + p) % DIGESTS.len()],
            signed_info_c14n: Algorithm::ALL[(c + p) % Algorithm::ALL.len()],
            reference_c14n: Some(c14n),
            prefix_list: None,
            placement,
        });
    }
}

macro_rules! matrix {
    ($($name:ident: $signature:ident, $c14n:ident;)*) => {$(
        #[test]
        fn $name() {
            check_matrix(SignatureAlgorithm::$signature, Algorithm::$c14n);
        }
    )*};
}

matrix! {
    rsa_sha256_exclusive: RSA_SHA256, Exclusive;
    rsa_sha256_exclusive_with_comments: RSA_SHA256, ExclusiveWithComments;
    rsa_sha256_inclusive: RSA_SHA256, Inclusive;
    rsa_sha256_inclusive_with_comments: RSA_SHA256, InclusiveWithComments;
    rsa_sha384_exclusive: RSA_SHA384, Exclusive;
    rsa_sha384_exclusive_with_comments: RSA_SHA384, ExclusiveWithComments;
    rsa_sha384_inclusive: RSA_SHA384, Inclusive;
    rsa_sha384_inclusive_with_comments: RSA_SHA384, InclusiveWithComments;
    rsa_sha512_exclusive: RSA_SHA512, Exclusive;
    rsa_sha512_exclusive_with_comments: RSA_SHA512, ExclusiveWithComments;
    rsa_sha512_inclusive: RSA_SHA512, Inclusive;
    rsa_sha512_inclusive_with_comments: RSA_SHA512, InclusiveWithComments;
}

#[test]
fn exclusive_with_inclusive_namespaces_prefix_list() {
    // `xs` only appears in attribute content (xsi:type="xs:string"): exclusive c14n renders
    // it only because it is listed; `#default` pulls in the outer default namespace.
    for (list, placement) in [
        ("xs unused", Placement::Assertion),
        ("#default xs", Placement::Both),
        ("xs", Placement::Response),
    ] {
        for c14n in [Algorithm::Exclusive, Algorithm::ExclusiveWithComments] {
            check_variant(&Variant {
                signature: SignatureAlgorithm::RSA_SHA256,
                digest: DigestAlgorithm::Sha256,
                signed_info_c14n: Algorithm::Exclusive,
                reference_c14n: Some(c14n),
                prefix_list: Some(list),
                placement,
            });
        }
    }
}

#[test]
fn reference_without_c14n_transform_defaults_to_inclusive() {
    for placement in Placement::ALL {
        check_variant(&Variant {
            signature: SignatureAlgorithm::RSA_SHA256,
            digest: DigestAlgorithm::Sha256,
            signed_info_c14n: Algorithm::Exclusive,
            reference_c14n: None,
            prefix_list: None,
            placement,
        });
    }
}

fn both_placements_exclusive() -> Variant {
    Variant {
        signature: SignatureAlgorithm::RSA_SHA256,
        digest: DigestAlgorithm::Sha256,
        signed_info_c14n: Algorithm::Exclusive,
        reference_c14n: Some(Algorithm::Exclusive),
        prefix_list: None,
        placement: Placement::Both,
    }
}

#[test]
fn resigned_with_another_key_is_refused_by_both() {
    // The same document signed with key b (KeyInfo names b); key a is pinned.
    let v = both_placements_exclusive();
    let by_a = fixtures::signed(&v, KEY_A, CERT_A);
    let by_b = fixtures::signed(&v, KEY_B, CERT_B);
    assert_ne!(by_a, by_b);
    for element in paths(v.placement) {
        assert_eq!(oracle(&by_b, CERT_A, element), Ok(false));
        assert_eq!(oracle(&by_b, PUBKEY_A, element), Ok(false));
        let expected_keyinfo = element == ElementPath::RESPONSE;
        match our(&by_b, CERT_A, element) {
            Ours::Rejected(VerifyError::SignatureInvalid {
                keyinfo_certificate,
                keyinfo_trusted,
                ..
            }) => {
                assert_eq!(keyinfo_certificate.is_some(), expected_keyinfo);
                assert!(!keyinfo_trusted);
            }
            other => panic!("expected SignatureInvalid, got {other:?}"),
        }
        assert!(matches!(
            our(&by_b, PUBKEY_A, element),
            Ours::Rejected(VerifyError::SignatureInvalid { .. })
        ));
        // With b pinned, both accept.
        assert_eq!(oracle(&by_b, CERT_B, element), Ok(true));
        assert_eq!(our(&by_b, CERT_B, element), Ours::Accepted);
    }
}

#[test]
fn keyinfo_naming_the_pinned_certificate_does_not_make_another_key_trusted() {
    // Signed with key b, but KeyInfo carries the pinned certificate a.
    let v = both_placements_exclusive();
    let xml = libxmlsec::sign(&fixtures::template(&v, Some(CERT_A)), KEY_B, SAML_IDS);
    assert_eq!(oracle(&xml, CERT_A, ElementPath::RESPONSE), Ok(false));
    match our(&xml, CERT_A, ElementPath::RESPONSE) {
        Ours::Rejected(VerifyError::SignatureInvalid {
            keyinfo_certificate: Some(_),
            keyinfo_trusted: true,
            ..
        }) => {}
        other => panic!("expected SignatureInvalid naming the pinned key, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Canonical bytes against libxml2's canonicalizer (the one libxmlsec1 digests with).

/// Our canonical form of the document or of the subtree at `element` (nothing excluded,
/// comments per the algorithm), as libxml2 computes it.
fn our_c14n(xml: &str, element: Option<ElementPath>, method: &Method) -> Result<String, String> {
    let doc = Document::parse(xml).map_err(|e| e.to_string())?;
    let bytes = match element {
        None => c14n::canonicalize_document_to_vec(&doc, method),
        Some(path) => {
            let node = path.find(&doc).ok_or("no element")?;
            c14n::canonicalize_subtree_to_vec(node, method, SubtreeOptions::default())
        }
    }
    .map_err(|e| e.to_string())?;
    Ok(String::from_utf8(bytes).expect("canonical XML is UTF-8"))
}

fn check_c14n_against_libxml2(algorithm: Algorithm) {
    let v = both_placements_exclusive();
    let documents = [
        fixtures::signed(&v, KEY_A, CERT_A),
        fixtures::template(&v, None),
        SIGNED.to_owned(),
    ];
    let lists: &[&[&str]] = if algorithm.is_exclusive() {
        &[&[], &["xs", "unused"], &["#default", "ext"]]
    } else {
        &[&[]]
    };
    let elements = [
        None,
        Some(ElementPath::RESPONSE),
        Some(ElementPath::ASSERTION),
        Some(ATTRIBUTE),
    ];
    let mut compared = 0;
    for xml in &documents {
        for element in elements {
            for list in lists {
                let method = Method::with_prefix_list(algorithm, &list.join(" "));
                let Ok(ours) = our_c14n(xml, element, &method) else {
                    // Only the bundled Response lacks the deep elements.
                    assert_eq!(xml, SIGNED);
                    continue;
                };
                let theirs = libxmlsec::canonicalize(xml.as_bytes(), element, algorithm, list)
                    .unwrap_or_else(|e| panic!("libxml2 c14n failed: {e:?}"));
                assert_eq!(
                    ours, theirs,
                    "{algorithm:?} {list:?} of {element:?} differs from libxml2 for\n{xml}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 9, "compared only {compared} canonical forms");
}

#[test]
fn c14n_exclusive_matches_libxml2() {
    check_c14n_against_libxml2(Algorithm::Exclusive);
}

#[test]
fn c14n_exclusive_with_comments_matches_libxml2() {
    check_c14n_against_libxml2(Algorithm::ExclusiveWithComments);
}

#[test]
fn c14n_inclusive_matches_libxml2() {
    check_c14n_against_libxml2(Algorithm::Inclusive);
}

#[test]
fn c14n_inclusive_with_comments_matches_libxml2() {
    check_c14n_against_libxml2(Algorithm::InclusiveWithComments);
}

// ---------------------------------------------------------------------------------------
// Random mutations.

#[test]
fn mutated_signed_documents_never_verify_where_libxmlsec1_refuses() {
    oracle::mutation::verification_differential();
}

#[test]
fn mutated_documents_canonicalize_like_libxml2() {
    oracle::mutation::c14n_differential();
}

// ---------------------------------------------------------------------------------------
// The documented divergences: libxmlsec1 accepts, fedkit-xmldsig refuses on purpose.

#[test]
fn documented_divergences_are_refusals_libxmlsec1_does_not_make() {
    use oracle::verdict::{compare, Outcome};

    let response = |v: &Variant| {
        let mut v = *v;
        v.placement = Placement::Response;
        v
    };
    let base = response(&both_placements_exclusive());
    let signed_response = fixtures::signed(&base, KEY_A, CERT_A);
    let signed_assertion = assertion_signed_exclusive();
    let sha1 = Variant {
        signature: SignatureAlgorithm::RSA_SHA1,
        digest: DigestAlgorithm::Sha1,
        ..base
    };
    let sign = |template: String| libxmlsec::sign(&template, KEY_A, SAML_IDS);
    let second_reference = "<ds:Reference URI=\"#_assert-oracle\"><ds:Transforms><ds:Transform \
        Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod \
        Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue></ds:DigestValue></ds:Reference>";
    let cases: Vec<(&str, String, ElementPath, &str)> = vec![
        (
            "SHA-1 (refused unless the policy opts in)",
            fixtures::signed(&sha1, KEY_A, CERT_A),
            ElementPath::RESPONSE,
            "algorithm allow-list",
        ),
        (
            "an XPath transform",
            sign(xpath_template(&base, false)),
            ElementPath::RESPONSE,
            "algorithm allow-list",
        ),
        (
            "two References",
            sign(fixtures::template(&base, Some(CERT_A)).replacen(
                "</ds:Reference>",
                &format!("</ds:Reference>{second_reference}"),
                1,
            )),
            ElementPath::RESPONSE,
            "strict signature structure",
        ),
        (
            "text between SignedInfo and SignatureValue",
            signed_response.replacen("<!-- not signed -->", "not signed", 1),
            ElementPath::RESPONSE,
            "strict signature structure",
        ),
        (
            "a comment inside DigestValue",
            signed_response.replacen("<ds:DigestValue>", "<ds:DigestValue><!-- x -->", 1),
            ElementPath::RESPONSE,
            "strict base64 in DigestValue/SignatureValue",
        ),
        (
            "a comment inside SignatureValue",
            signed_response.replacen("<ds:SignatureValue>", "<ds:SignatureValue><!-- x -->", 1),
            ElementPath::RESPONSE,
            "strict base64 in DigestValue/SignatureValue",
        ),
        (
            "the Response's signature covers the Assertion (signature wrapping)",
            sign(fixtures::template(&base, Some(CERT_A)).replacen(
                "URI=\"#_resp-oracle\"",
                "URI=\"#_assert-oracle\"",
                1,
            )),
            ElementPath::RESPONSE,
            "signature must cover its parent element",
        ),
        (
            "the signed ID also carried by an element libxmlsec1 does not register",
            signed_assertion.replacen("<samlp:Status>", "<samlp:Status><x ID=\"_assert-oracle\"/>", 1),
            ElementPath::ASSERTION,
            "duplicate ID",
        ),
        (
            "a DTD",
            signed_assertion.replacen("?>\n", "?>\n<!DOCTYPE samlp:Response>\n", 1),
            ElementPath::ASSERTION,
            "parser: DTD refused",
        ),
        (
            "an unbound prefix outside the signed Assertion",
            signed_assertion.replacen("<samlp:Status>", "<samlp:Status><unbound:x/>", 1),
            ElementPath::ASSERTION,
            "parser: namespace well-formedness",
        ),
    ];
    for (what, xml, element, reason) in cases {
        let theirs = oracle(&xml, CERT_A, element);
        let ours = our(&xml, CERT_A, element);
        assert_eq!(theirs, Ok(true), "libxmlsec1 on {what}:\n{xml}");
        assert_eq!(
            compare(&ours, &theirs),
            Outcome::Stricter(reason),
            "{what}: fedkit-xmldsig says {ours:?}"
        );
    }
}

/// `v` with an XPath filter transform instead of enveloped-signature (and, unless
/// `keep_c14n`, without the c14n transform).
fn xpath_template(v: &Variant, keep_c14n: bool) -> String {
    const ENVELOPED: &str =
        "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>";
    const XPATH: &str = "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">\
        <ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>";
    let c14n = format!(
        "\n          <ds:Transform Algorithm=\"{}\"/>",
        v.reference_c14n.unwrap().uri()
    );
    let template = fixtures::template(v, Some(CERT_A)).replacen(ENVELOPED, XPATH, 1);
    if keep_c14n {
        template
    } else {
        template.replacen(&c14n, "", 1)
    }
}

// ---------------------------------------------------------------------------------------
// Library bugs found by the differential, one named test each. They assert the correct
// behaviour, so they fail until the library is fixed.

/// The Assertion signed by libxmlsec1 with exclusive c14n; the Response is not signed.
fn assertion_signed_exclusive() -> String {
    let mut v = both_placements_exclusive();
    v.placement = Placement::Assertion;
    fixtures::signed(&v, KEY_A, CERT_A)
}

#[test]
fn namespace_names_that_are_not_absolute_uris_are_refused_anywhere_in_the_document() {
    // Canonical XML 1.0 §2.1: "implementations of XML canonicalization MUST report an
    // operation failure on documents containing relative namespace URIs". libxml2 checks
    // every namespace declaration of the document, including those exclusive c14n does not
    // render and those outside the signed subtree, and also refuses names `xmlParseURI`
    // rejects; fedkit-xmldsig's parser refuses them too (it once checked only the declarations it
    // rendered).
    let xml = assertion_signed_exclusive();
    for (what, from, to) in [
        (
            "relative, unused, on the unsigned Response",
            "xmlns:unused=\"urn:example:unused\"",
            "xmlns:unused=\"relative\"",
        ),
        (
            "relative, unused, inside the signed Assertion",
            "xmlns:unused2=\"urn:example:unused2\"",
            "xmlns:unused2=\"relative\"",
        ),
        (
            "relative, on an unsigned sibling",
            "<samlp:Status>",
            "<samlp:Status xmlns:r=\"relative\">",
        ),
        (
            "relative, inside the enveloped signature",
            "<ds:SignatureValue>",
            "<ds:SignatureValue xmlns:r=\"../relative\">",
        ),
        (
            "not a URI ('>')",
            "xmlns:unused=\"urn:example:unused\"",
            "xmlns:unused=\"urn:ex>ample\"",
        ),
        (
            "not a URI (space)",
            "xmlns:unused=\"urn:example:unused\"",
            "xmlns:unused=\"urn:ex ample\"",
        ),
    ] {
        let doc = xml.replacen(from, to, 1);
        assert_ne!(doc, xml);
        assert_eq!(
            oracle(&doc, CERT_A, ElementPath::ASSERTION),
            Err(OracleError::Verify),
            "{what}"
        );
        let ours = our(&doc, CERT_A, ElementPath::ASSERTION);
        assert!(
            !ours.accepted(),
            "{what}: fedkit-xmldsig accepts a document libxmlsec1 refuses"
        );
    }
}

#[test]
fn xml_declaration_is_honoured_or_refused() {
    // fedkit-xmldsig reads every input as UTF-8 and refuses a declaration that says otherwise; libxml2
    // decodes the document as declared (ISO-8859-1: the UTF-8 bytes of "Grüße" become other
    // characters, so the digest no longer matches) or refuses it.
    let xml = assertion_signed_exclusive();
    let plain = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
    for decl in [
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>",
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?>",
        "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>",
        "<?xml version=\"1.0\" encoding=\"UTF-9\"?>",
        "<?xml version=\"2.0\" encoding=\"UTF-8\"?>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"maybe\"?>",
        "<?xml versionA=\"1.0\" encoding=\"UTF-8\"?>",
    ] {
        let doc = xml.replacen(plain, decl, 1);
        assert_ne!(oracle(&doc, CERT_A, ElementPath::ASSERTION), Ok(true), "{decl}");
        let ours = our(&doc, CERT_A, ElementPath::ASSERTION);
        assert!(
            !ours.accepted(),
            "{decl}: fedkit-xmldsig accepts a document libxmlsec1 refuses"
        );
    }
    // Declarations both read the same way.
    for decl in [
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>",
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.1\" encoding=\"UTF-8\"?>",
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>",
        "",
    ] {
        let doc = xml.replacen(plain, decl, 1);
        assert_eq!(oracle(&doc, CERT_A, ElementPath::ASSERTION), Ok(true), "{decl}");
        assert_eq!(
            our(&doc, CERT_A, ElementPath::ASSERTION),
            Ours::Accepted,
            "{decl}"
        );
    }
}

#[test]
fn duplicate_default_namespace_declaration_is_refused() {
    // Well-formedness constraint Unique Att Spec: `xmlns` twice in a start tag. libxml2
    // refuses the document; so does fedkit-xmldsig (roxmltree alone keeps the first value).
    let xml = assertion_signed_exclusive();
    let doc = xml.replacen(
        "xmlns=\"urn:example:default-outer\"",
        "xmlns=\"urn:example:default-outer\" xmlns=\"urn:example:second\"",
        1,
    );
    assert_eq!(
        oracle(&doc, CERT_A, ElementPath::ASSERTION),
        Err(OracleError::Parse)
    );
    assert!(matches!(
        our(&doc, CERT_A, ElementPath::ASSERTION),
        Ours::Unparsable(_)
    ));
}

#[test]
fn names_that_are_not_qnames_are_refused() {
    // Not namespace-well-formed: an empty prefix, a declaration of the `xmlns` prefix.
    // libxml2 reports a (recoverable) namespace error and reads them its own way (how
    // exactly depends on its version). The hardened parser promises namespace-well-formed
    // XML, so it must refuse.
    for xml in [
        "<a xmlns='urn:d'><:b/></a>",
        "<a xmlns:x='urn:x' :y='1'/>",
        "<a xmlns:xmlns='urn:x'/>",
    ] {
        assert!(Document::parse(xml).is_err(), "{xml} parses");
    }
    let xml = "<r xmlns='urn:d'><p:x xmlns:p='urn:p'><:b/></p:x></r>";
    // libxml2 recovers and canonicalizes it: a reading of bytes that are not XML.
    assert!(libxmlsec::canonicalize(xml.as_bytes(), None, Algorithm::Exclusive, &[]).is_ok());
    assert!(Document::parse(xml).is_err());
}

#[test]
fn character_reference_to_a_surrogate_is_refused() {
    // Well-formedness constraint Legal Character: `&#xD800;` is not a Char. libxml2 refuses
    // it; so does fedkit-xmldsig (roxmltree alone reads it as U+FFFD).
    for xml in ["<a>&#xD800;</a>", "<a b='&#57343;'/>"] {
        assert_eq!(
            libxmlsec::canonicalize(xml.as_bytes(), None, Algorithm::Inclusive, &[]),
            Err(libxmlsec::C14nOracleError::Parse)
        );
        assert!(Document::parse(xml).is_err(), "{xml} parses");
    }
}

#[test]
fn malformed_processing_instructions_are_refused() {
    // PITarget excludes every case variant of "xml", and whitespace must separate the target
    // from the data; libxml2 refuses both.
    for xml in [
        "<?XmL x?><a/>",
        "<a><?XML x?></a>",
        "<?version=\"1.0\"?><a/>",
        "<a><?p=x?></a>",
    ] {
        assert_eq!(
            libxmlsec::canonicalize(xml.as_bytes(), None, Algorithm::Inclusive, &[]),
            Err(libxmlsec::C14nOracleError::Parse)
        );
        assert!(Document::parse(xml).is_err(), "{xml} parses");
    }
}

#[test]
fn line_breaks_in_comments_and_processing_instructions_are_normalized() {
    // XML 1.0 §2.11: CRLF and a lone CR become LF before parsing, inside comments and
    // processing instructions too (roxmltree leaves them raw there; the canonicalizer normalizes).
    for xml in [
        "<a><!--x\r\ny--><?p x\r\ny?><!--\r--></a>",
        "<!--\r\n--><a/><?p \r?>",
    ] {
        for algorithm in Algorithm::ALL {
            let theirs = libxmlsec::canonicalize(xml.as_bytes(), None, algorithm, &[]).unwrap();
            assert_eq!(
                our_c14n(xml, None, &Method::new(algorithm)),
                Ok(theirs),
                "{algorithm:?} of {xml:?}"
            );
        }
    }
    // So genuine libxmlsec1 signatures over such content are refused: a processing
    // instruction (kept by every algorithm) in the signed Assertion…
    let v = both_placements_exclusive();
    let template =
        fixtures::template(&v, Some(CERT_A)).replace("keep=\"me\"?>", "keep=\"me\"\r\nline=\"2\"?>");
    let xml = libxmlsec::sign(&template, KEY_A, SAML_IDS);
    for element in [ElementPath::RESPONSE, ElementPath::ASSERTION] {
        assert_eq!(oracle(&xml, CERT_A, element), Ok(true));
        assert_eq!(our(&xml, CERT_A, element), Ours::Accepted, "PI, {element:?}");
    }
    // …and a comment in SignedInfo signed under a WithComments algorithm.
    let mut v = both_placements_exclusive();
    v.signed_info_c14n = Algorithm::ExclusiveWithComments;
    let template =
        fixtures::template(&v, Some(CERT_A)).replace("signed only under a", "signed only under\r\na");
    let xml = libxmlsec::sign(&template, KEY_A, SAML_IDS);
    for element in [ElementPath::RESPONSE, ElementPath::ASSERTION] {
        assert_eq!(oracle(&xml, CERT_A, element), Ok(true));
        assert_eq!(
            our(&xml, CERT_A, element),
            Ours::Accepted,
            "SignedInfo comment, {element:?}"
        );
    }
}

#[test]
fn xpath_transform_before_c14n_is_reported_as_unsupported() {
    // The README promises UnsupportedAlgorithm for XPath transforms, also when a c14n
    // transform follows; "the canonicalization transform must be the last transform" would
    // send the administrator in the wrong direction.
    let mut v = both_placements_exclusive();
    v.placement = Placement::Response;
    let xml = libxmlsec::sign(&xpath_template(&v, true), KEY_A, SAML_IDS);
    assert_eq!(oracle(&xml, CERT_A, ElementPath::RESPONSE), Ok(true));
    match our(&xml, CERT_A, ElementPath::RESPONSE) {
        Ours::Rejected(VerifyError::UnsupportedAlgorithm { uri, .. }) => {
            assert_eq!(uri, "http://www.w3.org/TR/1999/REC-xpath-19991116");
        }
        other => panic!("expected UnsupportedAlgorithm for the XPath transform, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Signatures fedkit makes, checked by libxmlsec1.

#[test]
fn signatures_made_by_fedkit_verify_in_libxmlsec1() {
    use fedkit_xmldsig::{sign, SigningKey};
    // The bundled Response without its signature, signed again by fedkit with key "a", on the
    // Response (after its Issuer) and on the Assertion.
    let start = SIGNED.find("<ds:Signature").unwrap();
    let end = SIGNED.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let unsigned = format!("{}{}", &SIGNED[..start], &SIGNED[end..]);
    let key = SigningKey::from_pem(KEY_A).unwrap();
    let cert = TrustedKeys::from_pem(CERT_A).unwrap().keys()[0]
        .certificate_der()
        .unwrap()
        .to_vec();
    let issuer = Some((SAML_NS, "Issuer"));
    let assertion_id = first_id(&unsigned, "Assertion");
    for provider in all_providers() {
        let once =
            sign::sign_enveloped(&unsigned, "_resp-7a1c2f", issuer, &key, Some(&cert), provider).unwrap();
        assert_eq!(
            oracle(&once, CERT_A, ElementPath::RESPONSE),
            Ok(true),
            "{}",
            provider.name()
        );
        assert_eq!(our(&once, CERT_A, ElementPath::RESPONSE), Ours::Accepted);
        // Assertion first, then the Response over it (the "both" shape).
        let inner =
            sign::sign_enveloped(&unsigned, &assertion_id, issuer, &key, Some(&cert), provider).unwrap();
        let both = sign::sign_enveloped(&inner, "_resp-7a1c2f", issuer, &key, None, provider).unwrap();
        for element in [ElementPath::RESPONSE, ElementPath::ASSERTION] {
            assert_eq!(oracle(&both, CERT_A, element), Ok(true), "{element:?}");
            assert_eq!(our(&both, CERT_A, element), Ours::Accepted, "{element:?}");
        }
        // A signed element cannot be signed twice.
        assert!(sign::sign_enveloped(&once, "_resp-7a1c2f", issuer, &key, None, provider).is_err());
    }
}

#[test]
fn every_signing_algorithm_fedkit_offers_verifies_in_libxmlsec1() {
    use fedkit_xmldsig::{sign, SigningKey};
    let start = SIGNED.find("<ds:Signature").unwrap();
    let end = SIGNED.find("</ds:Signature>").unwrap() + "</ds:Signature>".len();
    let unsigned = format!("{}{}", &SIGNED[..start], &SIGNED[end..]);
    let issuer = Some((SAML_NS, "Issuer"));
    let cases = [
        (KEY_A, CERT_A, SignatureAlgorithm::RSA_SHA256),
        (KEY_A, CERT_A, SignatureAlgorithm::RSA_SHA384),
        (KEY_A, CERT_A, SignatureAlgorithm::RSA_SHA512),
        (KEY_EC256, CERT_EC256, SignatureAlgorithm::ECDSA_SHA256),
        (KEY_EC256, CERT_EC256, SignatureAlgorithm::ECDSA_SHA384),
        (KEY_EC256, CERT_EC256, SignatureAlgorithm::ECDSA_SHA512),
        (KEY_EC384, CERT_EC384, SignatureAlgorithm::ECDSA_SHA384),
        (KEY_EC384, CERT_EC384, SignatureAlgorithm::ECDSA_SHA256),
    ];
    for provider in all_providers() {
        for (key_pem, cert_pem, algorithm) in cases {
            let key = SigningKey::from_pem(key_pem).unwrap();
            let what = format!(
                "{} with {:?} via {}",
                algorithm.name(),
                key.key_type(),
                provider.name()
            );
            let signed =
                sign::sign_enveloped_with(&unsigned, "_resp-7a1c2f", issuer, &key, None, algorithm, provider)
                    .unwrap();
            assert!(signed.contains(algorithm.uri()), "{what}");
            assert!(signed.contains(algorithm.hash().uri()), "{what}");
            assert_eq!(
                oracle(&signed, cert_pem, ElementPath::RESPONSE),
                Ok(true),
                "{what}"
            );
            assert_eq!(
                our(&signed, cert_pem, ElementPath::RESPONSE),
                Ours::Accepted,
                "{what}"
            );
            // The other key type's certificate does not verify it.
            let other = if cert_pem == CERT_A { CERT_EC256 } else { CERT_A };
            assert_ne!(oracle(&signed, other, ElementPath::RESPONSE), Ok(true), "{what}");
            assert!(
                matches!(our(&signed, other, ElementPath::RESPONSE), Ours::Rejected(_)),
                "{what}"
            );
        }
        // The key's default: ECDSA-SHA256 on P-256, ECDSA-SHA384 on P-384.
        for (key_pem, cert_pem, uri) in [
            (KEY_EC256, CERT_EC256, SignatureAlgorithm::ECDSA_SHA256.uri()),
            (KEY_EC384, CERT_EC384, SignatureAlgorithm::ECDSA_SHA384.uri()),
        ] {
            let key = SigningKey::from_pem(key_pem).unwrap();
            let signed =
                sign::sign_enveloped(&unsigned, "_resp-7a1c2f", issuer, &key, None, provider).unwrap();
            assert!(signed.contains(uri));
            assert_eq!(oracle(&signed, cert_pem, ElementPath::RESPONSE), Ok(true));
        }
    }
    // Refused: SHA-1, RSA-PSS (not offered), ECDSA with an RSA key, RSA with an EC key.
    let rsa = SigningKey::from_pem(KEY_A).unwrap();
    let ec = SigningKey::from_pem(KEY_EC256).unwrap();
    let provider = fedkit_xmldsig::crypto::default_provider();
    for (key, algorithm) in [
        (&rsa, SignatureAlgorithm::RSA_SHA1),
        (&rsa, SignatureAlgorithm::RSA_PSS_SHA256),
        (&rsa, SignatureAlgorithm::ECDSA_SHA256),
        (&ec, SignatureAlgorithm::RSA_SHA256),
        (&ec, SignatureAlgorithm::ECDSA_SHA1),
    ] {
        match sign::sign_enveloped_with(&unsigned, "_resp-7a1c2f", issuer, key, None, algorithm, provider) {
            Err(sign::SignError::Key { algorithm: named, .. }) => assert_eq!(named, algorithm.name()),
            other => panic!("{} with {:?}: {other:?}", algorithm.name(), key.key_type()),
        }
    }
}

#[test]
fn ec_signing_keys_load_from_pkcs8_and_sec1_and_match_their_certificates() {
    use fedkit_xmldsig::key::KeyType;
    use fedkit_xmldsig::SigningKey;
    let p256 = SigningKey::from_pem(KEY_EC256).unwrap();
    let p384 = SigningKey::from_pem(KEY_EC384).unwrap();
    assert_eq!(p256.key_type(), KeyType::EcP256);
    assert_eq!(p384.key_type(), KeyType::EcP384);
    assert_eq!(
        SigningKey::from_pem(KEY_A).unwrap().key_type(),
        KeyType::Rsa { bits: 2048 }
    );
    let public = |pem: &str| TrustedKeys::from_pem(pem).unwrap().keys()[0].public_key().clone();
    assert!(p256.matches(&public(CERT_EC256)));
    assert!(!p256.matches(&public(CERT_EC384)));
    assert!(!p256.matches(&public(CERT_A)));
    assert!(p384.matches(&public(CERT_EC384)));
    // The same P-256 key as SEC 1 (`BEGIN EC PRIVATE KEY`), converted by the openssl CLI.
    let sec1 = std::process::Command::new("openssl")
        .args(["ec", "-outform", "PEM"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(KEY_EC256.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let sec1 = String::from_utf8(sec1.stdout).unwrap();
    assert!(sec1.contains("BEGIN EC PRIVATE KEY"), "{sec1}");
    let again = SigningKey::from_pem(&sec1).unwrap();
    assert!(again.matches(&public(CERT_EC256)));
    // Malformed or foreign key material is a typed error, never a panic.
    for pem in [
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        CERT_EC256,
        "not PEM at all",
    ] {
        assert!(SigningKey::from_pem(pem).is_err(), "{pem}");
    }
}

fn first_id(xml: &str, local: &str) -> String {
    let doc = Document::parse(xml).unwrap();
    let id = doc
        .tree()
        .descendants()
        .find(|n| n.tag_name().name() == local)
        .and_then(|n| n.attribute("ID"))
        .unwrap()
        .to_owned();
    id
}
