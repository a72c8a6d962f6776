//! `fedkit saml ...` and `fedkit bench saml-verify` on fedkit-saml's xmlsec1-signed fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{fedkit, Run, TempDir};

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const NOW: &str = "2026-11-22T10:01:00Z";

fn data(rel: &str) -> String {
    common::data_file("../saml/tests/data", rel)
}

fn verify(extra: &[&str], response: &str, stdin: Option<&[u8]>) -> Run {
    let cert = data("keys/idp.crt.pem");
    let mut args = vec![
        "--json",
        "saml",
        "verify",
        "--idp-cert",
        &cert,
        "--idp-entity-id",
        IDP,
        "--sp-entity-id",
        SP,
        "--acs-url",
        ACS,
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    args.push(response);
    fedkit(&args, stdin)
}

#[test]
fn an_accepted_response_prints_the_documented_fields() {
    let run = verify(
        &["--request-id", "_req-7f3a"],
        &data("signed/both-signed.xml"),
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["name_id"], "jane.doe@example.com");
    assert_eq!(
        json["name_id_format"],
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
    );
    assert_eq!(json["session_index"], "_session-31d8");
    assert_eq!(json["issuer"], IDP);
    assert_eq!(
        json["attributes"]["memberOf"],
        serde_json::json!(["Engineering", "SSO Admins & Auditors"])
    );
    assert_eq!(json["not_on_or_after"], "2026-11-22T10:05:00+00:00");
    assert_eq!(json["signed"], serde_json::json!(["response", "assertion"]));
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attributes",
            "audiences",
            "checks",
            "in_response_to",
            "issuer",
            "name_id",
            "name_id_format",
            "not_on_or_after",
            "session_index",
            "signed",
            "warnings"
        ]
    );
    // The fixture key's certificate starts after the fixtures' clock: reported, not refused.
    let warnings = json["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("outside that period"));
}

#[test]
fn certificate_validity_is_enforced_on_request() {
    let response = data("signed/both-signed.xml");
    let run = verify(
        &["--request-id", "_req-7f3a", "--enforce-cert-validity"],
        &response,
        None,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["error"]["code"], "certificate_outside_validity");
    // The same key in a certificate valid at the fixtures' time.
    let dated = data("keys/idp-2020.crt.pem");
    let run = fedkit(
        &[
            "--json",
            "saml",
            "verify",
            "--idp-cert",
            &dated,
            "--idp-entity-id",
            IDP,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--now",
            NOW,
            "--request-id",
            "_req-7f3a",
            "--enforce-cert-validity",
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["warnings"], serde_json::json!([]));
}

#[test]
fn the_post_value_is_read_from_stdin_and_detected_as_base64() {
    use base64::Engine as _;
    let xml = std::fs::read(data("signed/assertion-signed.xml")).unwrap();
    let mut value = base64::engine::general_purpose::STANDARD.encode(xml).into_bytes();
    value.push(b'\n');
    let run = verify(&["--request-id", "_req-7f3a"], "-", Some(&value));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["signed"], serde_json::json!(["assertion"]));
}

#[test]
fn rejections_exit_1_with_the_check_that_failed() {
    for (fixture, extra, code) in [
        (
            "wrong-audience",
            vec!["--request-id", "_req-7f3a"],
            "audience_mismatch",
        ),
        (
            "other-key",
            vec!["--request-id", "_req-7f3a"],
            "signature_invalid",
        ),
        ("unsigned", vec!["--request-id", "_req-7f3a"], "unsigned"),
        ("sha1", vec!["--request-id", "_req-7f3a"], "algorithm_refused"),
        ("idp-initiated", vec![], "unsolicited"),
        (
            "assertion-signed",
            vec!["--request-id", "_req-7f3a", "--require", "both"],
            "unsigned",
        ),
        (
            "status-authn-failed",
            vec!["--request-id", "_req-7f3a"],
            "status_not_success",
        ),
    ] {
        let run = verify(&extra, &data(&format!("signed/{fixture}.xml")), None);
        assert_eq!(run.code, 1, "{fixture}: {}", run.stdout);
        assert_eq!(run.json()["error"]["code"], code, "{fixture}");
    }
    // The opt-ins turn two of them into acceptances.
    let sha1 = verify(
        &["--request-id", "_req-7f3a", "--allow-sha1"],
        &data("signed/sha1.xml"),
        None,
    );
    assert_eq!(sha1.code, 0, "{}", sha1.stdout);
    let unsolicited = verify(&["--allow-unsolicited"], &data("signed/idp-initiated.xml"), None);
    assert_eq!(unsolicited.code, 0, "{}", unsolicited.stdout);
    // Time: at 10:08 the assertion has expired even with the default 120 s skew.
    let cert = data("keys/idp.crt.pem");
    let late = fedkit(
        &[
            "--json",
            "saml",
            "verify",
            "--idp-cert",
            &cert,
            "--idp-entity-id",
            IDP,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--request-id",
            "_req-7f3a",
            "--now",
            "2026-11-22T10:08:00Z",
            &data("signed/assertion-signed.xml"),
        ],
        None,
    );
    assert_eq!(late.json()["error"]["code"], "expired");
}

#[test]
fn human_output_reports_each_check() {
    let cert = data("keys/idp.crt.pem");
    let run = fedkit(
        &[
            "saml",
            "verify",
            "--idp-cert",
            &cert,
            "--idp-entity-id",
            IDP,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--request-id",
            "_req-7f3a",
            "--now",
            NOW,
            &data("signed/response-signed.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("ACCEPTED"), "{}", run.stdout);
    assert!(run.stdout.contains("NameID: jane.doe@example.com"));
    let run = fedkit(
        &[
            "saml",
            "verify",
            "--idp-cert",
            &cert,
            "--idp-entity-id",
            IDP,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--request-id",
            "_req-7f3a",
            "--now",
            NOW,
            &data("signed/wrong-recipient.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("[subject_confirmation]") && run.stderr.contains("Recipient"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    let both = verify(
        &["--request-id", "x", "--allow-unsolicited"],
        &data("signed/both-signed.xml"),
        None,
    );
    assert_eq!(both.code, 2, "{}", both.stdout);
    let bad_now = verify(&["--now", "yesterday"], &data("signed/both-signed.xml"), None);
    assert_eq!(bad_now.code, 2, "{}", bad_now.stdout);
    assert_eq!(bad_now.json()["error"]["code"], "usage_error");
}

#[test]
fn bench_reports_the_time_per_verification() {
    let cert = data("keys/idp.crt.pem");
    let run = fedkit(
        &[
            "--json",
            "bench",
            "saml-verify",
            "--iterations",
            "5",
            "--idp-cert",
            &cert,
            "--idp-entity-id",
            IDP,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--request-id",
            "_req-7f3a",
            "--now",
            NOW,
            &data("signed/both-signed.xml"),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["iterations"], 5);
    assert!(json["ns_per_op_median"].as_u64().unwrap() > 0);
    assert!(json["ns_per_op_mean"].as_u64().unwrap() > 0);
}

#[test]
fn authn_request_relay_state_over_80_bytes_is_refused() {
    // SAML Bindings §3.4.3: a RelayState is at most 80 bytes.
    let run = |relay_state: &str| {
        fedkit(
            &[
                "--json",
                "saml",
                "authn-request",
                "--sp-entity-id",
                SP,
                "--acs-url",
                ACS,
                "--sso-url",
                "https://sso.jumpcloud.com/saml2/acme",
                "--relay-state",
                relay_state,
            ],
            None,
        )
    };
    let fits = run(&format!("/{}", "x".repeat(79)));
    assert_eq!(fits.code, 0, "{}", fits.stderr);
    let long = run(&format!("/{}", "x".repeat(80)));
    assert_eq!(long.code, 1, "{}", long.stdout);
    let err = &long.json()["error"];
    assert_eq!(err["code"], "relay_state_too_long");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.contains("--relay-state") && message.contains("81 bytes") && message.contains("at most 80"),
        "{message}"
    );
}

#[test]
fn authn_request_and_sp_metadata() {
    let run = fedkit(
        &[
            "--json",
            "saml",
            "authn-request",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--sso-url",
            "https://sso.jumpcloud.com/saml2/acme",
            "--relay-state",
            "/home",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let id = json["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 41, "{id}: `_` and 160 random bits in hex");
    let url = json["redirect_url"].as_str().unwrap();
    assert!(
        url.starts_with("https://sso.jumpcloud.com/saml2/acme?SAMLRequest="),
        "{url}"
    );
    assert!(url.ends_with("&RelayState=%2Fhome"));
    // Two requests never share an ID.
    let again = fedkit(
        &[
            "--json",
            "saml",
            "authn-request",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--sso-url",
            "https://idp.example/sso",
        ],
        None,
    );
    assert_ne!(again.json()["request_id"].as_str().unwrap(), id);

    let cert = data("keys/other.crt.pem");
    let md = fedkit(
        &[
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--slo-url",
            "https://app.example.com/saml/slo",
            "--cert",
            &cert,
        ],
        None,
    );
    assert_eq!(md.code, 0, "{}", md.stderr);
    let doc = fedkit_xmldsig::Document::parse(&md.stdout).unwrap();
    assert_eq!(doc.root_element().attribute("entityID"), Some(SP));
    assert!(md.stdout.contains("AuthnRequestsSigned=\"true\""));
    assert!(md.stdout.contains(ACS));
}

#[test]
fn encrypted_assertions_need_the_sp_key() {
    let response = data("signed/encrypted-gcm.xml");
    let without = verify(&["--request-id", "_req-7f3a"], &response, None);
    assert_eq!(without.json()["error"]["code"], "no_decryption_key");
    let key = data("keys/sp.key.pem");
    let with = verify(&["--request-id", "_req-7f3a", "--sp-key", &key], &response, None);
    assert_eq!(with.code, 0, "{}", with.stdout);
    assert_eq!(with.json()["name_id"], "jane.doe@example.com");
}

#[test]
fn authn_requests_can_be_signed() {
    let key = data("keys/other.key.pem");
    let run = fedkit(
        &[
            "--json",
            "saml",
            "authn-request",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--sso-url",
            "https://sso.jumpcloud.com/saml2/acme",
            "--sign-key",
            &key,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = run.json()["redirect_url"].as_str().unwrap().to_owned();
    assert!(
        url.contains("&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256&Signature="),
        "{url}"
    );
}

#[test]
fn the_signing_certificate_must_belong_to_the_signing_key() {
    let key = data("keys/other.key.pem");
    let run_with = |cert: &str| {
        fedkit(
            &[
                "--json",
                "saml",
                "authn-request",
                "--sp-entity-id",
                SP,
                "--acs-url",
                ACS,
                "--sso-url",
                "https://sso.jumpcloud.com/saml2/acme",
                "--sign-key",
                &key,
                "--sign-cert",
                cert,
            ],
            None,
        )
    };
    let ok = run_with(&data("keys/other.crt.pem"));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.json()["redirect_url"]
        .as_str()
        .unwrap()
        .contains("&Signature="));
    let wrong = run_with(&data("keys/sp.crt.pem"));
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    let err = &wrong.json()["error"];
    assert_eq!(err["code"], "sign_key_mismatch");
    assert!(err["message"].as_str().unwrap().contains("SHA-256 "), "{err}");
    // --sign-cert alone is a usage error.
    let run = fedkit(
        &[
            "saml",
            "authn-request",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--sso-url",
            "https://sso.jumpcloud.com/saml2/acme",
            "--sign-cert",
            &data("keys/sp.crt.pem"),
        ],
        None,
    );
    assert_eq!(run.code, 2);
}

#[test]
fn the_idp_can_come_from_its_metadata() {
    let metadata = data("idp-metadata.xml");
    let response = data("signed/both-signed.xml");
    let run = fedkit(
        &[
            "--json",
            "saml",
            "verify",
            "--idp-metadata",
            &metadata,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--now",
            NOW,
            "--request-id",
            "_req-7f3a",
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["issuer"], IDP);
    // The metadata's issuer is enforced like an explicit one.
    let dir = TempDir::new("cli-md");
    let other = dir.write(
        "other-idp.xml",
        std::fs::read_to_string(&metadata)
            .unwrap()
            .replace(IDP, "https://idp.other.example/saml"),
    );
    let run = fedkit(
        &[
            "--json",
            "saml",
            "verify",
            "--idp-metadata",
            &other,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--now",
            NOW,
            "--request-id",
            "_req-7f3a",
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.json()["error"]["code"], "issuer_mismatch");
    // Not metadata at all: the metadata crate's error, naming the file.
    let run = fedkit(
        &[
            "--json",
            "saml",
            "verify",
            "--idp-metadata",
            &response,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--now",
            NOW,
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(run.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("both-signed.xml"));
    // --idp-cert and --idp-metadata are alternatives; one is needed.
    let run = fedkit(
        &[
            "saml",
            "verify",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 2);

    // authn-request sends the browser to the metadata's HTTP-Redirect endpoint.
    let run = fedkit(
        &[
            "--json",
            "saml",
            "authn-request",
            "--idp-metadata",
            &metadata,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = run.json()["redirect_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{IDP}?SAMLRequest=")), "{url}");
    // An IdP that wants signed requests gets a clear refusal without --sign-key.
    let signed = dir.write(
        "wants-signed.xml",
        std::fs::read_to_string(&metadata).unwrap().replace(
            "WantAuthnRequestsSigned=\"false\"",
            "WantAuthnRequestsSigned=\"true\"",
        ),
    );
    let run = fedkit(
        &[
            "--json",
            "saml",
            "authn-request",
            "--idp-metadata",
            &signed,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
        ],
        None,
    );
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["error"]["code"], "signature_required");
}

/// One spelling per condition: `fedkit saml verify` (fedkit-saml's `Error::code`) and `fedkit
/// dsig verify` (fedkit-xmldsig's codes) name the same signature failure alike.
#[test]
fn saml_verify_and_dsig_verify_spell_each_condition_alike() {
    let dir = TempDir::new("codes");
    let signed = std::fs::read_to_string(data("signed/response-signed.xml")).unwrap();
    // Changed after signing (a negative case, never presented as valid): the digest fails.
    let tampered = dir.write("tampered.xml", signed.replacen(">Engineering<", ">Finance<", 1));
    let broken = dir.write(
        "broken.xml",
        "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"><a></samlp:Response>",
    );
    let cert = data("keys/idp.crt.pem");
    for (file, code) in [
        (tampered, "digest_mismatch"),
        (data("signed/other-key.xml"), "signature_invalid"),
        (data("signed/sha1.xml"), "algorithm_refused"),
        (data("signed/unsigned.xml"), "unsigned"),
        (broken, "bad_xml"),
    ] {
        let saml = verify(&["--request-id", "_req-7f3a"], &file, None);
        assert_eq!(saml.code, 1, "{file}: {}", saml.stdout);
        assert_eq!(saml.json()["error"]["code"], code, "saml verify {file}");
        let dsig = fedkit(&["--json", "dsig", "verify", "--cert", &cert, &file], None);
        assert_eq!(dsig.code, 1, "{file}: {}", dsig.stdout);
        assert_eq!(dsig.error_code(), code, "dsig verify {file}");
    }
}
