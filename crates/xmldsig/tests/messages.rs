//! Refusals that name the real cause (issue 16, part 6): each test builds its document at run
//! time (signed with fedkit's own signer and the oracle test keys where a valid signature is
//! needed), then checks the error variant and that the message names the cause.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use fedkit_xmldsig::c14n::{self, Algorithm, Method, SubtreeOptions};
use fedkit_xmldsig::crypto::default_provider;
use fedkit_xmldsig::sign::sign_enveloped;
use fedkit_xmldsig::{
    AlgorithmPolicy, Document, ParseError, SignatureAlgorithm, SigningKey, TrustedKeys, Verifier,
    VerifyError, DSIG_NS, ENVELOPED_SIGNATURE,
};

const KEY_RSA: &str = include_str!("data/oracle/key-a.pem");
const CERT_RSA: &str = include_str!("data/oracle/cert-a.pem");
const KEY_EC: &str = include_str!("data/oracle/key-ec256.pem");
const CERT_EC: &str = include_str!("data/oracle/cert-ec256.pem");

const DOC: &str = r#"<r:Response xmlns:r="urn:example:r" ID="_r1"><r:Issuer>https://idp.example</r:Issuer><r:Body>hello</r:Body></r:Response>"#;

fn signed_with(key_pem: &str) -> String {
    let key = SigningKey::from_pem(key_pem).unwrap();
    sign_enveloped(
        DOC,
        "_r1",
        Some(("urn:example:r", "Issuer")),
        &key,
        None,
        default_provider(),
    )
    .unwrap()
}

fn verify_root(xml: &str, pinned_pem: &str) -> Result<(), VerifyError> {
    let doc = Document::parse(xml).unwrap();
    let verifier = Verifier::new(
        TrustedKeys::from_pem(pinned_pem).unwrap(),
        AlgorithmPolicy::default(),
    );
    verifier.verify_enveloped(&doc, doc.root_element()).map(|_| ())
}

/// Signs the (edited) SignedInfo again with the RSA test key, so that only the edit is wrong
/// and the SignedInfo signature itself verifies: what a misconfigured signer produces.
fn resign_signed_info(xml: &str) -> String {
    let doc = Document::parse(xml).unwrap();
    let signed_info = doc
        .tree()
        .descendants()
        .find(|n| n.tag_name().namespace() == Some(DSIG_NS) && n.tag_name().name() == "SignedInfo")
        .unwrap();
    let canonical = c14n::canonicalize_subtree_to_vec(
        signed_info,
        &Method::new(Algorithm::Exclusive),
        SubtreeOptions::default(),
    )
    .unwrap();
    let key = SigningKey::from_pem(KEY_RSA).unwrap();
    let value = default_provider()
        .rsa_sign(SignatureAlgorithm::RSA_SHA256, &key, &canonical)
        .unwrap();
    let start = xml.find("<ds:SignatureValue>").unwrap() + "<ds:SignatureValue>".len();
    let end = xml.find("</ds:SignatureValue>").unwrap();
    format!(
        "{}{}{}",
        &xml[..start],
        base64::engine::general_purpose::STANDARD.encode(value),
        &xml[end..]
    )
}

fn enveloped_transform() -> String {
    format!("<ds:Transform Algorithm=\"{ENVELOPED_SIGNATURE}\"/>")
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = bom.then_some(0xFEFF_u16).into_iter().chain(text.encode_utf16());
    for unit in units {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_documents_are_named_utf16() {
    for big_endian in [false, true] {
        for bom in [true, false] {
            let bytes = utf16(DOC, big_endian, bom);
            let err = Document::parse_bytes(&bytes).unwrap_err();
            assert_eq!(err, ParseError::Utf16 { big_endian }, "bom {bom}");
            let message = err.to_string();
            assert!(
                message.contains("UTF-16") && message.contains("only UTF-8"),
                "{message}"
            );
        }
    }
    // A UTF-16 document that reached a &str (NUL bytes between the characters).
    let text = String::from_utf8(utf16(DOC, false, false)).unwrap();
    assert_eq!(
        Document::parse(&text).unwrap_err(),
        ParseError::Utf16 { big_endian: false }
    );
    // UTF-8 with a byte-order mark is still fine.
    Document::parse_bytes(format!("\u{FEFF}{DOC}").as_bytes()).unwrap();
}

#[test]
fn a_missing_enveloped_transform_is_named() {
    let signed = signed_with(KEY_RSA);
    verify_root(&signed, CERT_RSA).unwrap();
    let without = resign_signed_info(&signed.replacen(&enveloped_transform(), "", 1));
    let err = verify_root(&without, CERT_RSA).unwrap_err();
    let VerifyError::Malformed { reason } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("no enveloped-signature transform") && reason.contains(ENVELOPED_SIGNATURE),
        "{reason}"
    );
    assert!(!err.to_string().contains("modified"), "{err}");
    // Without the re-signing (SignedInfo altered too), the structure is still what is named.
    let err = verify_root(&signed.replacen(&enveloped_transform(), "", 1), CERT_RSA).unwrap_err();
    assert!(
        err.to_string().contains("no enveloped-signature transform"),
        "{err}"
    );
}

#[test]
fn a_doubled_enveloped_transform_is_named() {
    let signed = signed_with(KEY_RSA);
    let twice = enveloped_transform().repeat(2);
    let doubled = resign_signed_info(&signed.replacen(&enveloped_transform(), &twice, 1));
    let err = verify_root(&doubled, CERT_RSA).unwrap_err();
    let VerifyError::Malformed { reason } = &err else {
        panic!("{err:?}")
    };
    assert!(
        reason.contains("appears twice") && !reason.contains("must be the first"),
        "{reason}"
    );
    // Doubled with the canonicalization transform between them: still named as doubled.
    let c14n = "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>";
    let around = signed.replacen(c14n, &format!("{c14n}{}", enveloped_transform()), 1);
    let err = verify_root(&around, CERT_RSA).unwrap_err();
    assert!(err.to_string().contains("appears twice"), "{err}");
}

#[test]
fn an_algorithm_that_does_not_fit_the_pinned_key_type_is_named() {
    // The IdP signs with ECDSA; the pinned certificate holds an RSA key.
    let err = verify_root(&signed_with(KEY_EC), CERT_RSA).unwrap_err();
    assert_eq!(
        err,
        VerifyError::NoUsableKey {
            algorithm: "ECDSA-SHA256",
            pinned: 1
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("signs with ECDSA-SHA256")
            && message.contains("an EC key")
            && message.contains("holds an RSA key")
            && message.contains("disagree"),
        "{message}"
    );
    assert!(!message.contains("pin the IdP's current"), "{message}");
    // And the other way round.
    let err = verify_root(&signed_with(KEY_RSA), CERT_EC).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(
            err,
            VerifyError::NoUsableKey {
                algorithm: "RSA-SHA256",
                ..
            }
        ) && message.contains("an RSA key")
            && message.contains("holds an EC key"),
        "{message}"
    );
}

#[test]
fn a_second_root_element_is_named() {
    for (xml, what) in [
        ("<a/><b/>", "more than one root element"),
        ("<a><x/></a>\n<b>2</b>", "more than one root element"),
        ("<a/>trailing", "content after the root element"),
        ("<a/><![CDATA[x]]>", "content after the root element"),
    ] {
        let err = Document::parse(xml).unwrap_err();
        let ParseError::Syntax { message, .. } = &err else {
            panic!("{xml}: {err:?}")
        };
        assert!(message.contains(what), "{xml}: {message}");
        assert!(!message.contains("unknown token"), "{xml}: {message}");
    }
    // Two signed documents pasted one after the other.
    let signed = signed_with(KEY_RSA);
    let err = Document::parse(&format!("{signed}\n{signed}")).unwrap_err();
    assert!(
        matches!(&err, ParseError::Syntax { message, line: 2, .. } if message.contains("more than one root element")),
        "{err:?}"
    );
    // Comments, processing instructions and whitespace after the root are fine.
    Document::parse("<a/>\n<!-- c --><?p x?>\n").unwrap();
}

// ---------------------------------------------------------------------------------------
// Reference URIs and IDs (issue 17, item 5): an ID is looked up by its exact value, NCName
// or not, and each refusal names its cause.

/// `DOC` with the Response ID `id` and the Body ID `body_id` (if any), signed over the
/// Response with the RSA test key.
fn signed_with_ids(id: &str, body_id: Option<&str>) -> String {
    let body = body_id.map_or_else(String::new, |b| format!(" ID=\"{b}\""));
    let doc = DOC
        .replace("ID=\"_r1\"", &format!("ID=\"{id}\""))
        .replace("<r:Body>", &format!("<r:Body{body}>"));
    let key = SigningKey::from_pem(KEY_RSA).unwrap();
    sign_enveloped(
        &doc,
        id,
        Some(("urn:example:r", "Issuer")),
        &key,
        None,
        default_provider(),
    )
    .unwrap()
}

#[test]
fn an_id_starting_with_a_digit_is_looked_up_by_its_value() {
    // IdPs issue UUIDs as IDs (SecureWorks' starts with a digit): not an XML NCName, but the
    // value the Reference names, and unique in the document.
    for id in ["3f2a1c9e-8d4b-4e6f-9a7c-2b5d8e1f0a3c", "1", "-x", ".5"] {
        let xml = signed_with_ids(id, None);
        assert!(xml.contains(&format!("URI=\"#{id}\"")), "{xml}");
        verify_root(&xml, CERT_RSA).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    // An ID with characters that need escaping in an attribute: the signer writes the
    // Reference URI escaped, and it names the very value.
    let doc = DOC.replace("ID=\"_r1\"", "ID=\"a&amp;b&quot;\"");
    let key = SigningKey::from_pem(KEY_RSA).unwrap();
    let xml = sign_enveloped(&doc, "a&b\"", None, &key, None, default_provider()).unwrap();
    assert!(xml.contains("URI=\"#a&amp;b&quot;\""), "{xml}");
    verify_root(&xml, CERT_RSA).unwrap();
}

#[test]
fn a_duplicate_id_is_named_even_when_it_is_not_an_ncname() {
    let xml = signed_with_ids("1dup", Some("1dup-other"));
    verify_root(&xml, CERT_RSA).unwrap();
    // The Body now carries the Response's ID too (after signing: the duplicate is what is
    // refused, before any digest).
    let duplicated = xml.replace("<r:Body ID=\"1dup-other\">", "<r:Body ID=\"1dup\">");
    let err = verify_root(&duplicated, CERT_RSA).unwrap_err();
    assert_eq!(
        err,
        VerifyError::DuplicateId {
            id: "1dup".into(),
            count: 2
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("two elements carry the ID \"1dup\"") && message.contains("unique"),
        "{message}"
    );
    // A duplicate of another ID (not the referenced one) is refused as well.
    let other = xml.replace("<r:Issuer>", "<r:Issuer ID=\"1dup-other\">");
    assert!(matches!(
        verify_root(&other, CERT_RSA).unwrap_err(),
        VerifyError::DuplicateId { id, count: 2 } if id == "1dup-other"
    ));
}

#[test]
fn each_refused_reference_uri_names_its_form() {
    let xml = signed_with_ids("9abc", None);
    let with_uri = |uri: Option<&str>| {
        let replacement = uri.map_or_else(String::new, |u| format!(" URI=\"{u}\""));
        resign_signed_info(&xml.replace(" URI=\"#9abc\"", &replacement))
    };
    for (uri, cause) in [
        (None, "has no URI attribute"),
        (Some(""), "selects the whole document"),
        (Some("#"), "names no ID"),
        (Some("#xpointer(id('9abc'))"), "XPointer"),
        (
            Some("https://evil.test/doc.xml#9abc"),
            "is not a same-document reference",
        ),
        (Some("9abc"), "is not a same-document reference"),
    ] {
        let err = verify_root(&with_uri(uri), CERT_RSA).unwrap_err();
        assert_eq!(
            err,
            VerifyError::ReferenceUri {
                uri: uri.map(str::to_owned)
            }
        );
        let message = err.to_string();
        assert!(message.contains(cause), "{uri:?}: {message}");
        assert!(message.contains("\"#ID\""), "{uri:?}: {message}");
    }
    // A same-document reference to an ID nothing carries.
    let err = verify_root(&with_uri(Some("#9abd")), CERT_RSA).unwrap_err();
    assert_eq!(err, VerifyError::ReferenceNotFound { id: "9abd".into() });
    assert!(
        err.to_string().contains("no element carries the ID \"9abd\""),
        "{err}"
    );
}
