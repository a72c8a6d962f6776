//! Runs the built `fedkit` binary on the example data and on small inline documents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;

use common::{fedkit, Run};
use serde_json::Value;

/// A path under the workspace's `examples/data/`.
fn example(name: &str) -> String {
    common::data_file("../../examples/data", name)
}

/// A path under this crate's `tests/data/`.
fn fixture(name: &str) -> String {
    common::data_file("tests/data", name)
}

const IDP_FINGERPRINT: &str =
    "73:75:CD:91:0A:AD:94:E5:1D:2F:09:AA:C0:01:1A:68:47:10:D2:37:6E:0F:2F:28:07:66:82:77:12:06:5B:29";

// ---- dsig verify -------------------------------------------------------------------------

#[test]
fn verify_signed_response_human() {
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--cert",
            &example("idp-cert.pem"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.stdout();
    assert!(out.contains("Signature 1 of 1: valid"), "{out}");
    assert!(
        out.contains("Response with ID \"_resp-7a1c2f\" at /Response"),
        "{out}"
    );
    assert!(out.contains("RSA-SHA256, digest SHA-256, c14n exc"), "{out}");
    assert!(out.contains(IDP_FINGERPRINT), "{out}");
    assert!(out.contains("CN=idp.example.com, O=fedkit example IdP"), "{out}");
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn verify_signed_response_json_has_the_documented_fields() {
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &example("idp-cert.pem"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["valid"], true);
    assert_eq!(json["error"], Value::Null);
    let sigs = json["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 1);
    let s = &sigs[0];
    assert_eq!(s["index"], 1);
    assert_eq!(s["covers"]["element"], "Response");
    assert_eq!(s["covers"]["id"], "_resp-7a1c2f");
    assert_eq!(s["covers"]["path"], "/Response");
    assert_eq!(s["valid"], true);
    assert_eq!(s["signature_algorithm"], "RSA-SHA256");
    assert_eq!(s["digest_algorithm"], "SHA-256");
    assert_eq!(s["c14n"], "exc");
    assert_eq!(s["key_fingerprint"], IDP_FINGERPRINT);
    assert_eq!(s["key_subject"], "CN=idp.example.com, O=fedkit example IdP");
    assert_eq!(s["error"], Value::Null);
}

#[test]
fn json_flag_is_accepted_before_the_subcommand() {
    let run = fedkit(
        &[
            "--json",
            "dsig",
            "verify",
            "--cert",
            &example("idp-cert.pem"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["valid"], true);
}

#[test]
fn tampered_response_is_digest_mismatch() {
    let args = [
        "dsig",
        "verify",
        "--cert",
        &example("idp-cert.pem"),
        &example("tampered-response.xml"),
    ];
    let run = fedkit(&args, None);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout().contains("Signature 1 of 1: INVALID"),
        "{}",
        run.stdout()
    );
    assert!(run.stderr.contains("[digest_mismatch]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("modified after it was signed"),
        "{}",
        run.stderr
    );

    let run = fedkit(&[&args[..], &["--json"]].concat(), None);
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["code"], "digest_mismatch");
    let s = &json["signatures"][0];
    assert_eq!(s["valid"], false);
    assert_eq!(s["error"]["code"], "digest_mismatch");
    assert_eq!(s["key_fingerprint"], Value::Null);
    // The declared algorithms and reference are still reported.
    assert_eq!(s["covers"]["id"], "_resp-7a1c2f");
    assert_eq!(s["signature_algorithm"], "RSA-SHA256");
}

#[test]
fn verify_with_another_certificate_is_signature_invalid() {
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &fixture("other-cert.pem"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["error"]["code"], "signature_invalid");
    let message = json["signatures"][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("not trusted"), "{message}");
    assert!(message.contains(IDP_FINGERPRINT), "{message}");
}

#[test]
fn several_cert_files_are_merged() {
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &fixture("other-cert.pem"),
            "--cert",
            &example("idp-cert.pem"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stdout());
    assert_eq!(run.json()["signatures"][0]["key_fingerprint"], IDP_FINGERPRINT);
}

#[test]
fn document_without_signature_is_unsigned() {
    let args = ["dsig", "verify", "--cert", &example("idp-cert.pem"), "-"];
    let run = fedkit(&args, Some(b"<a ID='x'><b/></a>"));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("[unsigned]"), "{}", run.stderr);

    let run = fedkit(&[&args[..], &["--json"]].concat(), Some(b"<a ID='x'><b/></a>"));
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["valid"], false);
    assert_eq!(json["signatures"].as_array().unwrap().len(), 0);
    assert_eq!(run.error_code(), "unsigned");
}

#[test]
fn unreadable_files_are_io_error() {
    let missing = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("does-not-exist.pem");
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            missing.to_str().unwrap(),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "io_error");

    let run = fedkit(&["dsig", "c14n", missing.to_str().unwrap()], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("[io_error]"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn a_private_key_cannot_be_pinned() {
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &example("idp-key.pem"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "unexpected_pem_label");
}

#[test]
fn a_pem_file_without_blocks_is_refused() {
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &example("signed-response.xml"),
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "no_pem_block");
}

#[test]
fn verify_requires_a_cert() {
    let run = fedkit(&["dsig", "verify", &example("signed-response.xml")], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--cert"), "{}", run.stderr);
}

#[test]
fn sha1_is_refused_by_default() {
    // The signed example rewritten to declare SHA-1: refused by policy before any crypto.
    let xml = std::fs::read_to_string(example("signed-response.xml"))
        .unwrap()
        .replace(
            "http://www.w3.org/2001/04/xmlenc#sha256",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        );
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &example("idp-cert.pem"),
            "-",
        ],
        Some(xml.as_bytes()),
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["error"]["code"], "algorithm_refused");
    assert_eq!(run.json()["signatures"][0]["digest_algorithm"], "SHA-1");

    // Allowed, it gets as far as the digest (which no longer matches the SHA-256 value).
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--allow-sha1",
            "--cert",
            &example("idp-cert.pem"),
            "-",
        ],
        Some(xml.as_bytes()),
    );
    assert_eq!(run.code, 1);
    assert_ne!(run.json()["error"]["code"], "algorithm_refused");
}

// ---- dsig c14n ---------------------------------------------------------------------------

const DOC: &str = r#"<?xml version="1.0"?>
<a xmlns:u="urn:u" xmlns="urn:d" b='1' a="2"><!--c--><c ID="s"><u:x>t&amp;</u:x><d/></c></a>"#;

fn c14n(args: &[&str], input: &str) -> Run {
    fedkit(
        &[&["dsig", "c14n"], args, &["-"]].concat(),
        Some(input.as_bytes()),
    )
}

#[test]
fn c14n_default_is_exclusive() {
    let run = c14n(&[], DOC);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout(),
        r#"<a xmlns="urn:d" a="2" b="1"><c ID="s"><u:x xmlns:u="urn:u">t&amp;</u:x><d></d></c></a>"#
    );
}

#[test]
fn c14n_inclusive_with_comments() {
    let run = c14n(&["--algorithm", "c14n-with-comments"], DOC);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout(),
        r#"<a xmlns="urn:d" xmlns:u="urn:u" a="2" b="1"><!--c--><c ID="s"><u:x>t&amp;</u:x><d></d></c></a>"#
    );
}

#[test]
fn c14n_subtree() {
    let run = c14n(&["--subtree-id", "s"], DOC);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout(),
        r#"<c xmlns="urn:d" ID="s"><u:x xmlns:u="urn:u">t&amp;</u:x><d></d></c>"#
    );

    // Inclusive: the apex inherits every namespace in scope.
    let run = c14n(&["--subtree-id", "s", "--algorithm", "c14n"], DOC);
    assert_eq!(
        run.stdout(),
        r#"<c xmlns="urn:d" xmlns:u="urn:u" ID="s"><u:x>t&amp;</u:x><d></d></c>"#
    );
}

#[test]
fn c14n_prefix_list() {
    let run = c14n(&["--subtree-id", "s", "--prefixes", "u"], DOC);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout(),
        r#"<c xmlns="urn:d" xmlns:u="urn:u" ID="s"><u:x>t&amp;</u:x><d></d></c>"#
    );
}

#[test]
fn c14n_of_a_file_subtree() {
    let run = fedkit(
        &[
            "dsig",
            "c14n",
            "--subtree-id",
            "_assert-9b3e",
            &example("signed-response.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = run.stdout();
    assert!(
        out.starts_with(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_assert-9b3e""#
        ),
        "{out}"
    );
    assert!(out.ends_with("</saml:Assertion>"), "{out}");
}

#[test]
fn c14n_subtree_errors() {
    let run = c14n(&["--json", "--subtree-id", "nope"], DOC);
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "id_not_found");

    let run = c14n(&["--json", "--subtree-id", "s"], "<a><b ID='s'/><c Id='s'/></a>");
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "duplicate_id");
}

#[test]
fn prefixes_with_an_inclusive_algorithm_is_a_usage_error() {
    let run = c14n(&["--algorithm", "c14n", "--prefixes", "u"], DOC);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("--prefixes"), "{}", run.stderr);
    assert!(run.stderr.contains("Usage: fedkit dsig c14n"), "{}", run.stderr);

    let run = c14n(
        &["--json", "--algorithm", "c14n-with-comments", "--prefixes", "u"],
        DOC,
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.error_code(), "usage_error");
}

#[test]
fn dtd_is_refused() {
    let input = "<!DOCTYPE a [<!ENTITY e 'boom'>]><a>&e;</a>";
    let run = c14n(&[], input);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("[dtd_not_allowed]"), "{}", run.stderr);

    let run = c14n(&["--json"], input);
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "dtd_not_allowed");
}

#[test]
fn malformed_xml_is_bad_xml() {
    let run = c14n(&["--json"], "<a><b></a>");
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "bad_xml");
}

#[test]
fn relative_namespace_uri_is_refused() {
    // The hardened parser refuses non-absolute namespace names anywhere in the document,
    // as libxmlsec1 does, before canonicalization starts.
    let run = c14n(&["--json"], "<a xmlns='relative'/>");
    assert_eq!(run.code, 1);
    assert_eq!(run.error_code(), "bad_xml");
    assert!(run.stdout().contains("not an absolute URI"), "{}", run.stdout());
}

#[test]
fn c14n_json_has_the_documented_fields() {
    let run = c14n(&["--json", "--subtree-id", "s", "--prefixes", "u #default"], DOC);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let canonical = r#"<c xmlns="urn:d" xmlns:u="urn:u" ID="s"><u:x>t&amp;</u:x><d></d></c>"#;
    assert_eq!(json["canonical"], canonical);
    assert_eq!(json["algorithm"], "exc");
    assert_eq!(json["bytes"], canonical.len());
    assert_eq!(json["prefixes"], serde_json::json!(["u", "#default"]));
    assert_eq!(json["subtree_id"], "s");
}

// ---- conventions -------------------------------------------------------------------------

#[test]
fn version_and_help() {
    let run = fedkit(&["--version"], None);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout().trim(),
        format!("fedkit {}", env!("CARGO_PKG_VERSION"))
    );

    for args in [
        &["--help"][..],
        &["dsig", "verify", "--help"],
        &["dsig", "c14n", "--help"],
    ] {
        let run = fedkit(args, None);
        assert_eq!(run.code, 0, "{args:?}");
        assert!(run.stdout().contains("Examples:"), "{args:?}: {}", run.stdout());
        assert!(run.stdout().contains("Exit status"), "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let run = fedkit(&["dsig", "c14n", "--bogus", "-"], None);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());

    let run = fedkit(&["dsig", "c14n", "--algorithm", "sha1", "-"], None);
    assert_eq!(run.code, 2);

    let run = fedkit(&[], None);
    assert_eq!(run.code, 2);

    // Under --json a usage error is still one JSON document on stdout.
    let run = fedkit(&["--json", "dsig", "verify", "--bogus"], None);
    assert_eq!(run.code, 2);
    assert_eq!(run.error_code(), "usage_error");
}

// ---- signature wrapping ------------------------------------------------------------------

#[test]
fn reference_inside_its_own_signature_is_refused() {
    // The Reference points into the ds:Object of its own ds:Signature, which the declared
    // enveloped-signature transform removes: nothing is signed (xmlsec1 agrees).
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--json",
            "--cert",
            &fixture("xmlsec1-rsa-2048.crt.pem"),
            &fixture("tamper-xsw-object.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout());
    let json = run.json();
    assert_eq!(json["valid"], false);
    let s = &json["signatures"][0];
    assert_eq!(s["error"]["code"], "empty_canonical_output");
    assert_eq!(
        s["covers"]["path"],
        "/Response/Assertion/Signature/Object/Assertion"
    );
    assert_eq!(s["key_fingerprint"], Value::Null);
}

#[test]
fn covered_element_path_reveals_wrapping() {
    // A real signature over an assertion moved into Extensions verifies; the report says
    // where the covered element is, which is what shows the wrapping.
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--cert",
            &fixture("xmlsec1-rsa-2048.crt.pem"),
            &fixture("tamper-xsw-extensions-new-id.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout().contains("at /Response/Extensions/Assertion"),
        "{}",
        run.stdout()
    );
}
