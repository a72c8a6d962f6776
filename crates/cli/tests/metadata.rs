//! `fedkit metadata inspect` on fedkit-metadata's fixtures (xmlsec1-signed, with
//! openssl-computed fingerprints in `keys/*.sha256`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;

use common::{fedkit, Run, TempDir};
use serde_json::json;

const NOW: &str = "2026-11-22T10:00:00Z";
const UNI_A: &str = "https://idp.uni-a.fedkit.test/idp/shibboleth";

fn data(rel: &str) -> String {
    common::data_file("../metadata/tests/data", rel)
}

fn fingerprint(name: &str) -> String {
    std::fs::read_to_string(data(&format!("keys/{name}.sha256")))
        .unwrap()
        .trim()
        .to_owned()
}

fn inspect(extra: &[&str], file: &str) -> Run {
    let mut args = vec!["--json", "metadata", "inspect", "--now", NOW];
    args.extend_from_slice(extra);
    args.push(file);
    fedkit(&args, None)
}

#[test]
fn jumpcloud_metadata_as_json() {
    let run = inspect(&[], &data("jumpcloud.xml"));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let sso = "https://sso.jumpcloud.com/saml2/fedkit-test";
    let cert = |name: &str, subject: &str, not_after: &str| json!({"sha256": fingerprint(name), "subject": subject, "not_after": not_after});
    assert_eq!(
        run.json(),
        json!({
            "entities_total": 1,
            "signature": "absent",
            "valid_until": null,
            "entity": {
                "entity_id": sso,
                "sso": [
                    {"binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", "location": sso},
                    {"binding": "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", "location": sso},
                ],
                "slo": [],
                "signing_certs": [
                    cert("jumpcloud-a", "CN=JumpCloud current signing (test), O=fedkit-metadata tests", "2030-01-01T00:00:00Z"),
                    cert("jumpcloud-b", "CN=JumpCloud next signing (test), O=fedkit-metadata tests", "2031-10-01T00:00:00Z"),
                ],
                "encryption_certs": [],
                "name_id_formats": ["urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"],
                "want_authn_requests_signed": false,
                "warnings": [],
            }
        })
    );
}

#[test]
fn the_example_file_is_read_from_stdin() {
    let xml = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/metadata-jumpcloud.xml"),
    )
    .unwrap();
    let run = fedkit(&["--json", "metadata", "inspect", "--now", NOW, "-"], Some(&xml));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.json()["entity"]["entity_id"],
        "https://sso.jumpcloud.com/saml2/fedkit-example"
    );
}

#[test]
fn an_entity_of_a_signed_aggregate() {
    let run = inspect(
        &[
            "--verify-cert",
            &data("keys/federation.crt.pem"),
            "--entity-id",
            UNI_A,
        ],
        &data("aggregate.xml"),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["entities_total"], 10);
    assert_eq!(json["signature"], "verified");
    assert_eq!(json["valid_until"], "2099-01-01T00:00:00Z");
    assert_eq!(json["entity"]["entity_id"], UNI_A);
    assert_eq!(
        json["entity"]["signing_certs"][0]["sha256"],
        fingerprint("idp-rsa")
    );
    let mut keys: Vec<&str> = json["entity"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "encryption_certs",
            "entity_id",
            "name_id_formats",
            "signing_certs",
            "slo",
            "sso",
            "want_authn_requests_signed",
            "warnings"
        ]
    );
}

#[test]
fn failures_exit_1_with_a_code() {
    let fed = data("keys/federation.crt.pem");
    let cases: Vec<(Vec<&str>, String, &str)> = vec![
        // --verify-cert and no signature.
        (
            vec!["--verify-cert", &fed, "--entity-id", UNI_A],
            data("aggregate-unsigned.xml"),
            "signature_absent",
        ),
        // --verify-cert and an invalid signature.
        (
            vec!["--verify-cert", &fed, "--entity-id", UNI_A],
            data("tampered/location.xml"),
            "signature_invalid",
        ),
        (
            vec!["--verify-cert", &fed, "--entity-id", UNI_A],
            data("aggregate-other-key.xml"),
            "signature_invalid",
        ),
        // validUntil has passed (the nested EntitiesDescriptor of this entity).
        (
            vec!["--entity-id", "https://idp.interim.fedkit.test/idp/shibboleth"],
            data("aggregate.xml"),
            "expired",
        ),
        // Entity not found, or not an IdP, or several IdPs and none chosen.
        (
            vec!["--entity-id", "https://nowhere.example/idp"],
            data("aggregate.xml"),
            "entity_not_found",
        ),
        (vec![], data("sp.xml"), "not_an_idp"),
        (vec![], data("aggregate.xml"), "not_one_idp"),
        // Malformed input.
        (vec![], data("keys/federation.crt.pem"), "malformed_xml"),
        (vec![], data("templates/../generate.sh"), "malformed_xml"),
        // A member with a javascript: SSO URL.
        (
            vec!["--entity-id", "https://idp.evil.fedkit.test/idp/shibboleth"],
            data("aggregate.xml"),
            "unsafe_url",
        ),
        // Unreadable files.
        (vec![], "/nonexistent/metadata.xml".to_owned(), "io_error"),
        (
            vec!["--verify-cert", "/nonexistent/cert.pem"],
            data("jumpcloud.xml"),
            "io_error",
        ),
    ];
    for (extra, file, code) in cases {
        let run = inspect(&extra, &file);
        assert_eq!(run.code, 1, "{extra:?} {file}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.sole_error_code(), code, "{extra:?} {file}: {}", run.stdout);
        assert!(
            run.json()["error"]["message"].as_str().unwrap().len() > 20,
            "{}",
            run.stdout
        );
    }
    // validUntil of the whole document, with --now after it.
    let run = fedkit(
        &[
            "--json",
            "metadata",
            "inspect",
            "--now",
            "2100-01-01T00:00:00Z",
            &data("shibboleth.xml"),
        ],
        None,
    );
    assert_eq!((run.code, run.sole_error_code()), (1, "expired".to_owned()));
}

#[test]
fn usage_errors_exit_2() {
    let run = inspect(&["--now", "yesterday"], &data("jumpcloud.xml"));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.sole_error_code(), "usage_error");
    let run = fedkit(&["--json", "metadata", "inspect"], None);
    assert_eq!(run.code, 2);
    assert_eq!(run.sole_error_code(), "usage_error");
}

#[test]
fn human_summary_matches_the_idp_console() {
    let run = fedkit(
        &["metadata", "inspect", "--now", NOW, &data("shibboleth.xml")],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    for expected in [
        "1 entity (1 IdP), signature absent",
        "IdP entity ID:        https://idp.example.org/idp/shibboleth",
        "Name:                 Example University",
        "SSO URL (IdP URL):    urn:mace:shibboleth:1.0:profiles:AuthnRequest https://idp.example.org/idp/profile/Shibboleth/SSO",
        "                      HTTP-Redirect    https://idp.example.org/idp/profile/SAML2/Redirect/SSO",
        "Signing certificates (the keys to pin):",
        &format!("  SHA-256 {}", fingerprint("shib-backchannel")),
        "Encryption certificates:",
        "Valid until:          2099-01-01T00:00:00Z",
        "mdui:Logo \"javascript:alert(document.domain)\" was ignored",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // Expired certificates are flagged, and the signature state is explicit.
    let run = fedkit(&["metadata", "inspect", "--now", NOW, &data("adfs.xml")], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("2025-01-01 to 2026-01-01  EXPIRED"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("signature present, NOT checked"),
        "{}",
        run.stdout
    );
    // A failure goes to stderr with its code.
    let run = fedkit(&["metadata", "inspect", "--now", NOW, &data("sp.xml")], None);
    assert_eq!(run.code, 1);
    assert!(run.stderr.starts_with("error: [not_an_idp] "), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn http_endpoints_need_the_flag() {
    let dir = TempDir::new("cli-metadata");
    let xml = std::fs::read_to_string(data("jumpcloud.xml"))
        .unwrap()
        .replace("https://sso.jumpcloud.com", "http://localhost:8080");
    let file = dir.write("http.xml", xml);
    let run = inspect(&[], &file);
    assert_eq!((run.code, run.sole_error_code()), (1, "unsafe_url".to_owned()));
    assert!(
        run.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("plain http://"),
        "{}",
        run.stdout
    );
    let run = inspect(&["--allow-http"], &file);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn an_http_logout_endpoint_is_a_warning_not_a_refusal() {
    // SimpleSAMLphp-style: sign-on over https, single logout over plain http.
    let dir = TempDir::new("cli-metadata");
    let slo = "http://idp.example.org/simplesaml/saml2/idp/SingleLogoutService.php";
    let xml = std::fs::read_to_string(data("jumpcloud.xml")).unwrap().replacen(
        "<md:NameIDFormat>",
        &format!(
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{slo}"/><md:NameIDFormat>"#
        ),
        1,
    );
    let file = dir.write("http-slo.xml", xml);
    let run = inspect(&[], &file);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let out = run.json();
    assert_eq!(out["entity"]["slo"], json!([]));
    let warnings = out["entity"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| {
            let w = w.as_str().unwrap();
            w.contains("SingleLogoutService #1") && w.contains(slo) && w.contains("plain http://")
        }),
        "{warnings:?}"
    );
    // Allowed, it is offered like any other endpoint.
    let run = inspect(&["--allow-http"], &file);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["entity"]["slo"][0]["location"], json!(slo));
}
