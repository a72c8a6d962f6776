//! `fedkit saml verify`, `dsig verify`, `bench saml-verify` and `metadata inspect` with keys
//! under the 2048-bit minimum (refused, and accepted with the `--dangerous-min-*` flags),
//! Triple-DES encrypted assertions (accepted with a warning), and `saml sp-metadata
//! --encryption-cert`. Fixtures: fedkit-saml's, signed and encrypted by the xmlsec1 CLI.
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

fn verify_with(command: &[&str], idp_cert: &str, extra: &[&str], response: &str) -> Run {
    let cert = data(idp_cert);
    let mut args = vec!["--json"];
    args.extend_from_slice(command);
    args.extend_from_slice(&[
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
        "--request-id",
        "_req-7f3a",
    ]);
    args.extend_from_slice(extra);
    args.push(response);
    fedkit(&args, None)
}

fn verify(idp_cert: &str, extra: &[&str], response: &str) -> Run {
    verify_with(&["saml", "verify"], idp_cert, extra, response)
}

#[test]
fn a_1024_bit_sp_key_is_refused_when_loaded_unless_allowed() {
    let response = data("signed/encrypted-to-1024-bit-sp.xml");
    let key = data("keys/sp-1024.key.pem");
    let run = verify("keys/idp.crt.pem", &["--sp-key", &key], &response);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.sole_error_code(), "weak_decryption_key");
    let message = run.json()["error"]["message"].as_str().unwrap().to_owned();
    for needle in [
        "sp-1024.key.pem",
        "1024-bit",
        "at least 2048",
        "rsa:2048",
        "--dangerous-min-sp-key-bits 1024",
    ] {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    // Opted in: decrypted (the CLI uses the aws-lc-rs provider, which hands such keys to
    // RustCrypto).
    let run = verify(
        "keys/idp.crt.pem",
        &["--sp-key", &key, "--dangerous-min-sp-key-bits", "1024"],
        &response,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.json()["name_id"], "jane.doe@example.com");
    // The flag lowers the minimum, never below 1024, and needs --sp-key.
    let run = verify(
        "keys/idp.crt.pem",
        &["--sp-key", &key, "--dangerous-min-sp-key-bits", "512"],
        &response,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = verify(
        "keys/idp.crt.pem",
        &["--dangerous-min-sp-key-bits", "1024"],
        &data("signed/assertion-signed.xml"),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--sp-key"), "{}", run.stderr);
}

#[test]
fn a_1024_bit_idp_signing_key_is_refused_unless_allowed() {
    let response = data("signed/idp-1024-bit-key.xml");
    let cert = "keys/idp-1024.crt.pem";
    for command in [
        &["saml", "verify"][..],
        &["bench", "saml-verify", "--iterations", "2"],
    ] {
        let run = verify_with(command, cert, &[], &response);
        assert_eq!(run.code, 1, "{command:?}: {}", run.stdout);
        let json = run.json();
        assert_eq!(json["error"]["code"], "weak_key", "{command:?}");
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains("1024 bits"), "{message}");
        assert!(message.contains("--dangerous-min-rsa-bits 1024"), "{message}");
        let run = verify_with(command, cert, &["--dangerous-min-rsa-bits", "1024"], &response);
        assert_eq!(run.code, 0, "{command:?}: {}{}", run.stdout, run.stderr);
    }
    let run = verify(
        "keys/idp-1024.crt.pem",
        &["--dangerous-min-rsa-bits", "1024"],
        &response,
    );
    assert_eq!(run.json()["name_id"], "jane.doe@example.com");
    // The same signature under `dsig verify`.
    let cert = data(cert);
    let run = fedkit(&["--json", "dsig", "verify", "--cert", &cert, &response], None);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        run.json()["signatures"][0]["error"]["code"],
        "weak_key",
        "{}",
        run.stdout
    );
    let run = fedkit(
        &[
            "--json",
            "dsig",
            "verify",
            "--cert",
            &cert,
            "--dangerous-min-rsa-bits",
            "1024",
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.json()["valid"], true);
    let run = fedkit(
        &[
            "dsig",
            "verify",
            "--cert",
            &cert,
            "--dangerous-min-rsa-bits",
            "1000",
            &response,
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn metadata_signed_with_a_1024_bit_key_needs_the_opt_in() {
    use fedkit_xmldsig::sign::sign_enveloped;
    use fedkit_xmldsig::{crypto::RustCrypto, SigningKey};
    // IdP metadata signed at run time by fedkit's signer with the 1024-bit key (RustCrypto:
    // AWS-LC, the default provider here, does not sign with keys under 2048 bits).
    let pem = std::fs::read_to_string(data("keys/idp-1024.key.pem")).unwrap();
    let key = SigningKey::from_pem_with(&pem, &RustCrypto).unwrap();
    let metadata = std::fs::read_to_string(data("idp-metadata.xml"))
        .unwrap()
        .replacen("<md:EntityDescriptor ", "<md:EntityDescriptor ID=\"_md-1\" ", 1);
    let signed = sign_enveloped(&metadata, "_md-1", None, &key, None, &RustCrypto).unwrap();
    let dir = TempDir::new("cli-md-1024");
    let file = dir.write("metadata.xml", signed);
    let cert = data("keys/idp-1024.crt.pem");
    let inspect = |extra: &[&str]| {
        let mut args = vec!["--json", "metadata", "inspect", "--verify-cert", &cert];
        args.extend_from_slice(extra);
        args.push(&file);
        fedkit(&args, None)
    };
    let refused = inspect(&[]);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stdout.contains("1024 bits"),
        "the refusal names the key size: {}",
        refused.stdout
    );
    let accepted = inspect(&["--dangerous-min-rsa-bits", "1024"]);
    assert_eq!(accepted.code, 0, "{}{}", accepted.stdout, accepted.stderr);
    assert_eq!(accepted.json()["signature"], "verified");
    // Without --verify-cert there is no signature to check: the flag is a usage error.
    let run = fedkit(
        &["metadata", "inspect", "--dangerous-min-rsa-bits", "1024", &file],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn a_triple_des_assertion_is_accepted_with_a_warning() {
    let key = data("keys/sp.key.pem");
    let run = verify(
        "keys/idp.crt.pem",
        &["--sp-key", &key],
        &data("signed/encrypted-3des.xml"),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["name_id"], "jane.doe@example.com");
    let warnings: Vec<&str> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings.iter().any(
            |w| w.contains("http://www.w3.org/2001/04/xmlenc#tripledes-cbc") && w.contains("AES-256-GCM")
        ),
        "{warnings:?}"
    );
    // The human report prints it too.
    let cert = data("keys/idp.crt.pem");
    let response = data("signed/encrypted-3des.xml");
    let human = fedkit(
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
            "--now",
            NOW,
            "--request-id",
            "_req-7f3a",
            "--sp-key",
            &key,
            &response,
        ],
        None,
    );
    assert_eq!(human.code, 0, "{}", human.stdout);
    assert!(
        human
            .stdout
            .lines()
            .any(|l| l.starts_with("  WARNING ") && l.contains("3DES-CBC")),
        "{}",
        human.stdout
    );
    // An AES-GCM assertion carries no such warning.
    let run = verify(
        "keys/idp.crt.pem",
        &["--sp-key", &key],
        &data("signed/encrypted-gcm.xml"),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(!run.stdout.contains("tripledes"), "{}", run.stdout);
}

#[test]
fn sp_metadata_publishes_the_encryption_certificate() {
    let signing = data("keys/other.crt.pem");
    let encryption = data("keys/sp.crt.pem");
    let run = fedkit(
        &[
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--cert",
            &signing,
            "--encryption-cert",
            &encryption,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The document parses, and its KeyDescriptors carry the two certificates by use.
    let doc = fedkit_xmldsig::Document::parse(&run.stdout).unwrap();
    assert_eq!(doc.root_element().attribute("entityID"), Some(SP));
    const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
    let descriptors: Vec<(String, String)> = doc
        .root_element()
        .descendants()
        .filter(|n| n.has_tag_name((MD, "KeyDescriptor")))
        .map(|kd| {
            let cert = kd
                .descendants()
                .find(|n| n.has_tag_name((DS, "X509Certificate")))
                .and_then(|n| n.text())
                .unwrap()
                .to_owned();
            (kd.attribute("use").unwrap().to_owned(), cert)
        })
        .collect();
    let body = |path: &str| -> String {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect()
    };
    assert_eq!(
        descriptors,
        [
            ("signing".to_owned(), body(&signing)),
            ("encryption".to_owned(), body(&encryption)),
        ]
    );
    assert!(run.stdout.contains("<md:KeyDescriptor use=\"encryption\">"));
    // Encryption alone does not claim signed AuthnRequests.
    let run = fedkit(
        &[
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--encryption-cert",
            &encryption,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("AuthnRequestsSigned=\"false\""));
    assert!(!run.stdout.contains("use=\"signing\""));
    assert_eq!(run.stdout.matches("use=\"encryption\"").count(), 1);
    // A private key is not a certificate: the error names the file.
    let key = data("keys/sp.key.pem");
    let run = fedkit(
        &[
            "--json",
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--encryption-cert",
            &key,
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.sole_error_code(), "unexpected_pem_label");
    assert!(run.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("sp.key.pem"));
}
