//! `fedkit domain challenge|check` and `fedkit setup-guide`. DNS goes to a tiny UDP responder
//! on loopback started by each test (hickory-proto's message types), never to the network.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::UdpSocket;
use std::str::FromStr as _;
use std::thread;

use common::fedkit;
use hickory_resolver::proto::op::{Message, OpCode, ResponseCode};
use hickory_resolver::proto::rr::rdata::TXT;
use hickory_resolver::proto::rr::{Name, RData, Record};

/// Answers TXT queries for `name` with `records` (each a list of character-strings),
/// NXDOMAIN for every other name. Returns the `ADDR:PORT` to pass to `--dns-server`.
fn dns_server(name: &str, records: Vec<Vec<String>>) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();
    let served = Name::from_str(name).unwrap();
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((len, peer)) = socket.recv_from(&mut buf) {
            let Ok(query) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            let mut reply = Message::response(query.metadata.id, OpCode::Query);
            reply.metadata.recursion_desired = query.metadata.recursion_desired;
            reply.metadata.recursion_available = true;
            reply.metadata.authoritative = true;
            let mut answered = false;
            for q in &query.queries {
                reply.add_query(q.clone());
                if q.name().to_lowercase() == served.to_lowercase() {
                    answered = true;
                    for r in &records {
                        reply.add_answer(Record::from_rdata(
                            served.clone(),
                            60,
                            RData::TXT(TXT::new(r.clone())),
                        ));
                    }
                }
            }
            if !answered {
                reply.metadata.response_code = ResponseCode::NXDomain;
            }
            let _ = socket.send_to(&reply.to_vec().unwrap(), peer);
        }
    });
    addr
}

#[test]
fn challenge_json_has_record_name_value_and_token() {
    let run = fedkit(
        &[
            "--json",
            "domain",
            "challenge",
            "--domain",
            "Bücher.Example.",
            "--app",
            "CraEvidence",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let token = json["token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(json["domain"], "xn--bcher-kva.example");
    assert_eq!(
        json["record_name"],
        "_craevidence-verification.xn--bcher-kva.example"
    );
    assert_eq!(json["record_type"], "TXT");
    assert_eq!(json["record_value"], format!("craevidence-verification={token}"));
    // Two challenges never share a token.
    let again = fedkit(
        &[
            "--json",
            "domain",
            "challenge",
            "--domain",
            "acme.com",
            "--app",
            "x",
        ],
        None,
    )
    .json();
    assert_ne!(again["token"], json["token"]);
}

#[test]
fn challenge_refuses_what_cannot_be_owned() {
    for (domain, code) in [
        ("192.0.2.1", "domain_ip_literal"),
        ("localhost", "domain_single_label"),
        ("co.uk", "domain_public_suffix"),
        ("jane@acme.com", "domain_not_bare"),
    ] {
        let run = fedkit(
            &["--json", "domain", "challenge", "--domain", domain, "--app", "x"],
            None,
        );
        assert_eq!(run.code, 1, "{domain}");
        assert_eq!(run.sole_error_code(), code, "{domain}");
    }
    let run = fedkit(
        &[
            "--json",
            "domain",
            "challenge",
            "--domain",
            "acme.com",
            "--app",
            "bad_name",
        ],
        None,
    );
    assert_eq!(run.sole_error_code(), "name_invalid");
}

#[test]
fn check_verifies_the_published_record() {
    let server = dns_server(
        "_myapp-verification.acme.com.",
        vec![
            vec!["v=spf1 -all".into()],
            // A long value split into two character-strings is one record.
            vec!["myapp-verification=".into(), "0123456789abcdef".into()],
        ],
    );
    let run = fedkit(
        &[
            "--json",
            "domain",
            "check",
            "--domain",
            "ACME.com",
            "--app",
            "myapp",
            "--token",
            "0123456789abcdef",
            "--dns-server",
            &server,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["verified"], true);
    assert_eq!(json["outcome"], "verified");
    assert_eq!(json["record_name"], "_myapp-verification.acme.com");
    assert_eq!(json["found"].as_array().unwrap().len(), 2);

    let human = fedkit(
        &[
            "domain",
            "check",
            "--domain",
            "acme.com",
            "--app",
            "myapp",
            "--token",
            "0123456789abcdef",
            "--dns-server",
            &server,
        ],
        None,
    );
    assert_eq!(human.code, 0);
    assert!(human.stdout.contains("Verified:"), "{}", human.stdout);
    assert!(human.stdout.contains("\"v=spf1 -all\""), "{}", human.stdout);
}

#[test]
fn check_says_why_a_record_does_not_match() {
    let server = dns_server(
        "_myapp-verification.acme.com.",
        vec![vec!["myapp-verification=OLD-token".into()]],
    );
    let run = fedkit(
        &[
            "--json",
            "domain",
            "check",
            "--domain",
            "acme.com",
            "--app",
            "myapp",
            "--token",
            "new-token",
            "--dns-server",
            &server,
        ],
        None,
    );
    assert_eq!(run.code, 1);
    let json = run.json();
    assert_eq!(json["verified"], false);
    assert_eq!(json["outcome"], "mismatch");
    assert_eq!(json["findings"][0]["mismatch"], "other_token");
    assert!(json["explanation"].as_str().unwrap().contains("different token"));

    let human = fedkit(
        &[
            "domain",
            "check",
            "--domain",
            "acme.com",
            "--app",
            "myapp",
            "--token",
            "new-token",
            "--dns-server",
            &server,
        ],
        None,
    );
    assert_eq!(human.code, 1);
    assert!(human.stderr.contains("[txt_record_mismatch]"), "{}", human.stderr);
    assert!(human.stdout.contains("Not verified"), "{}", human.stdout);
}

#[test]
fn check_reports_a_missing_record() {
    let server = dns_server("_other.acme.com.", vec![]);
    let run = fedkit(
        &[
            "--json",
            "domain",
            "check",
            "--domain",
            "acme.com",
            "--app",
            "myapp",
            "--token",
            "t",
            "--dns-server",
            &server,
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["outcome"], "no_record");
    assert_eq!(json["found"].as_array().unwrap().len(), 0);
    assert!(json["explanation"].as_str().unwrap().contains("no TXT record"));
}

#[test]
fn setup_guide_prints_the_connection_values() {
    let run = fedkit(
        &[
            "setup-guide",
            "--idp",
            "jumpcloud",
            "--base-url",
            "https://app.example.com/",
            "--connection",
            "acme",
            "--scim-base-url",
            "https://app.example.com/scim/v2",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = run.stdout();
    assert!(md.starts_with("# Set up JumpCloud single sign-on"), "{md}");
    assert!(
        md.contains("| SP Entity ID | `https://app.example.com/saml/acme/metadata` |"),
        "{md}"
    );
    assert!(
        md.contains("| ACS URL | `https://app.example.com/saml/acme/acs` |"),
        "{md}"
    );
    assert!(md.contains("## Identity Management tab (SCIM)"), "{md}");
    assert!(
        md.contains("| Base URL | `https://app.example.com/scim/v2` |"),
        "{md}"
    );

    for idp in ["okta", "entra", "google"] {
        let run = fedkit(
            &[
                "--json",
                "setup-guide",
                "--idp",
                idp,
                "--sp-entity-id",
                "https://sp.example/md",
                "--acs-url",
                "https://sp.example/acs",
            ],
            None,
        );
        assert_eq!(run.code, 0, "{idp}: {}", run.stderr);
        let json = run.json();
        assert!(json["sections"].as_array().unwrap().len() >= 4, "{idp}");
        assert!(run.stdout.contains("https://sp.example/acs"), "{idp}");
    }
    assert_eq!(
        fedkit(
            &["setup-guide", "--idp", "pingone", "--base-url", "https://x"],
            None
        )
        .code,
        2
    );
}
