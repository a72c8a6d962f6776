//! `fedkit idp serve`'s headless login (`POST /headless/sso`) end to end: the real binary on
//! a free loopback port, driven with JSON only (no HTML), its answers checked by fedkit-saml
//! as the SP would check what the auto-submitting form posts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use chrono::Utc;
use fedkit_saml::request::AuthnRequest;
use fedkit_saml::{InMemoryReplayCache, RelayState};
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::SigningKey;
use serde_json::{json, Value};

#[path = "common/idp_server.rs"]
mod idp_server;
use idp_server::{agent, import, sp, temp_dir, validator, Server, ACS, SP_CERT, SP_ID, SP_KEY};

/// POSTs `body` to the headless endpoint with `content_type`: status and the JSON answer.
fn headless_as(server: &Server, content_type: &str, body: &str) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{}/headless/sso", server.base()))
        .header("content-type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

fn headless(server: &Server, body: &Value) -> (u16, Value) {
    headless_as(server, "application/json", &body.to_string())
}

/// A server for the SP of these tests, with its own state directory.
fn start(name: &str, extra: &[&str]) -> (Server, std::path::PathBuf) {
    let dir = temp_dir(name);
    let mut args = vec!["--sp-entity-id", SP_ID, "--acs-url", ACS, "--state-dir"];
    args.push(dir.to_str().unwrap());
    args.extend_from_slice(extra);
    (Server::start(&args), dir)
}

#[test]
fn sp_initiated_headless_login_with_the_authn_request_in_each_form() {
    let (server, dir) = start("headless-sp-initiated", &[]);
    let metadata = import(&server);
    let request = AuthnRequest::new(&sp(), &server.url("sso_url"), [3; 20], Utc::now());
    let url = request.redirect_url(Some(RelayState::new("/dashboard").unwrap()));
    let post_value = base64::engine::general_purpose::STANDARD.encode(request.to_xml());
    let replay = InMemoryReplayCache::new(100);
    for (saml_request, relay_state) in [(url.as_str(), None), (post_value.as_str(), Some("/dashboard"))] {
        let (status, answer) = headless(
            &server,
            &json!({"user": "jane.doe@example.com", "saml_request": saml_request, "relay_state": relay_state}),
        );
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["acs_url"], ACS);
        assert_eq!(answer["relay_state"], "/dashboard");
        // Each answer is a fresh Response (new IDs), accepted once by the SP.
        let assertion = validator(&metadata, false)
            .process_post(
                answer["saml_response"].as_str().unwrap(),
                Some(request.id()),
                Utc::now(),
                &replay,
            )
            .unwrap();
        assert_eq!(assertion.name_id().value, "jane.doe@example.com");
        assert_eq!(assertion.in_response_to(), Some(request.id()));
        assert_eq!(assertion.first_value("lastName"), Some("Doe"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn idp_initiated_headless_login() {
    let (server, dir) = start("headless-idp-initiated", &[]);
    let metadata = import(&server);
    let (status, answer) = headless(
        &server,
        &json!({"user": "john.smith@example.com", "sp": SP_ID, "relay_state": "/home"}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["acs_url"], ACS);
    assert_eq!(answer["relay_state"], "/home");
    let value = answer["saml_response"].as_str().unwrap();
    let replay = InMemoryReplayCache::new(100);
    let refused = validator(&metadata, false).process_post(value, None, Utc::now(), &replay);
    assert_eq!(refused.err().map(|e| e.code()), Some("unsolicited"));
    let assertion = validator(&metadata, true)
        .process_post(value, None, Utc::now(), &replay)
        .unwrap();
    assert_eq!(assertion.name_id().value, "john.smith@example.com");
    assert_eq!(assertion.in_response_to(), None);
    // Without relay_state there is none in the answer.
    let (_, answer) = headless(&server, &json!({"user": "john.smith@example.com"}));
    assert_eq!(answer["relay_state"], Value::Null);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_fault_gives_a_response_the_sp_refuses_for_its_reason() {
    let (server, dir) = start("headless-faults", &["--sign", "both"]);
    let metadata = import(&server);
    for (fault, code) in [
        ("expired", "expired"),
        ("tampered", "digest_mismatch"),
        ("wrong-audience", "audience_mismatch"),
        ("unsigned", "unsigned"),
    ] {
        let (status, answer) = headless(&server, &json!({"user": "jane.doe@example.com", "fault": fault}));
        assert_eq!(status, 200, "{fault}: {answer}");
        let replay = InMemoryReplayCache::new(100);
        let verdict = validator(&metadata, true).process_post(
            answer["saml_response"].as_str().unwrap(),
            None,
            Utc::now(),
            &replay,
        );
        assert_eq!(verdict.err().map(|e| e.code()), Some(code), "{fault}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn signed_requests_are_checked_and_refusals_are_json_with_a_code() {
    let dir = temp_dir("headless-refusals-cert");
    let cert = dir.join("sp.pem");
    std::fs::write(&cert, SP_CERT).unwrap();
    let (server, state) = start("headless-refusals", &["--sp-cert", cert.to_str().unwrap()]);
    let request = AuthnRequest::new(&sp(), &server.url("sso_url"), [4; 20], Utc::now());
    let key = SigningKey::from_pem(SP_KEY).unwrap();
    let signed = request
        .signed_redirect_url(Some(RelayState::new("r").unwrap()), &key, &AwsLcRs)
        .unwrap();
    let (status, answer) = headless(
        &server,
        &json!({"user": "jane.doe@example.com", "saml_request": signed}),
    );
    assert_eq!((status, &answer["relay_state"]), (200, &json!("r")), "{answer}");

    let refused = |body: Value| {
        let (status, answer) = headless(&server, &body);
        assert_eq!(status, 400, "{answer}");
        assert!(!answer["error"]["message"].as_str().unwrap().is_empty());
        answer["error"]["code"].as_str().unwrap().to_owned()
    };
    let unsigned = request.redirect_url(None);
    assert_eq!(
        refused(json!({"user": "jane.doe@example.com", "saml_request": unsigned})),
        "unsigned_request"
    );
    assert_eq!(refused(json!({"user": "mallory@example.com"})), "unknown_user");
    assert_eq!(
        refused(json!({"user": "jane.doe@example.com", "fault": "evil"})),
        "bad_fault"
    );
    assert_eq!(
        refused(json!({"user": "jane.doe@example.com", "sp": "https://other.test"})),
        "unknown_sp"
    );
    assert_eq!(refused(json!({"email": "jane.doe@example.com"})), "bad_json");
    // Only JSON: a form (which any web page could post cross-site) is refused.
    let (status, answer) = headless_as(
        &server,
        "application/x-www-form-urlencoded",
        "user=jane.doe%40example.com",
    );
    assert_eq!(status, 415);
    assert_eq!(answer["error"]["code"], "unsupported_media_type");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&state);
}
