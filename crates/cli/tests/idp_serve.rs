//! `fedkit idp serve` end to end: the real binary on a free loopback port, driven over HTTP
//! like a browser would (login page, auto-submitting forms), checked by fedkit-metadata and
//! fedkit-saml as an SP would, and by the `xmlsec1 --verify` CLI as an independent verifier
//! (skipped when the CLI is not installed, unless `FEDKIT_REQUIRE_INTEROP=1`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use chrono::Utc;
use fedkit_saml::logout::{LogoutMessage, LogoutValidator, OutgoingLogout};
use fedkit_saml::request::AuthnRequest;
use fedkit_saml::sp_metadata::SpMetadata;
use fedkit_saml::{IdentityProvider, InMemoryReplayCache, NameId, RelayState, ServiceProvider, Settings};
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::SigningKey;
use serde_json::Value;

#[path = "common/idp_server.rs"]
mod idp_server;
use idp_server::{get, import, post, sp, temp_dir, validator, Server, ACS, SP_CERT, SP_ID, SP_KEY};

const SP_SLO: &str = "http://localhost:3000/saml/slo";
const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A form of a page: its action and its hidden fields (unescaped).
#[derive(Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every `<form>` of a page.
fn forms(html: &str) -> Vec<Form> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = start + tag[start..].find('"')?;
        Some(html_unescape(&tag[start..end]))
    };
    html.split("<form ")
        .skip(1)
        .map(|chunk| {
            let body = &chunk[..chunk.find("</form>").unwrap()];
            let fields = body
                .split("<input ")
                .skip(1)
                .map(|input| {
                    let tag = &input[..input.find('>').unwrap()];
                    (attribute(tag, "name").unwrap(), attribute(tag, "value").unwrap())
                })
                .collect();
            Form {
                action: attribute(&body[..body.find('>').unwrap()], "action").unwrap(),
                fields,
            }
        })
        .collect()
}

/// The login page's form for `email`.
fn user_form(html: &str, email: &str) -> Form {
    forms(html)
        .into_iter()
        .find(|f| f.field("user") == Some(email))
        .unwrap_or_else(|| panic!("no login button for {email} in {html}"))
}

/// Clicks `email` on a login page and returns the auto-submitting form the IdP answers with.
fn log_in_as(server: &Server, login_page: &str, email: &str) -> Form {
    let form = user_form(login_page, email);
    let (status, page) = post(&format!("{}{}", server.base(), form.action), &form.fields);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Never use it in production."));
    let mut answer = forms(&page);
    assert_eq!(answer.len(), 1, "{page}");
    let answer = answer.remove(0);
    assert_eq!(answer.action, ACS);
    answer
}

/// Whether the `xmlsec1` CLI can run here. Without it the xmlsec1 second opinion is skipped
/// (saying so on stderr) so that `cargo test --workspace` needs no system packages, unless
/// `FEDKIT_REQUIRE_INTEROP=1` (set by `.ci/test`), when its absence fails the test.
fn xmlsec1_installed() -> bool {
    if Command::new("xmlsec1").arg("--version").output().is_ok() {
        return true;
    }
    assert!(
        std::env::var_os("FEDKIT_REQUIRE_INTEROP").is_none_or(|v| v != "1"),
        "FEDKIT_REQUIRE_INTEROP=1 but the xmlsec1 CLI cannot run (bash .ci/install-deps installs it)"
    );
    eprintln!("SKIPPED the xmlsec1 second opinion: the xmlsec1 CLI is not installed (set FEDKIT_REQUIRE_INTEROP=1 to fail instead)");
    false
}

/// `xmlsec1 --verify` of the signature inside the element with `id`, with the IdP certificate.
fn xmlsec1_verifies(dir: &Path, xml: &[u8], cert_pem: &str, id: &str) -> bool {
    let file = dir.join(format!("response-{id}.xml"));
    let cert = dir.join("idp-cert.pem");
    std::fs::write(&file, xml).unwrap();
    std::fs::write(&cert, cert_pem).unwrap();
    let output = Command::new("xmlsec1")
        .arg("--verify")
        .args(["--enabled-key-data", "key-name", "--pubkey-cert-pem"])
        .arg(&cert)
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:Response",
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            "--node-id",
            id,
        ])
        .arg(&file)
        .output()
        .expect("run xmlsec1 (bash .ci/install-deps installs it)");
    output.status.success()
}

/// The `ID` of the first `element` start tag (`saml2p:Response`, `saml2:Assertion`).
fn id_of(xml: &str, element: &str) -> String {
    let start = xml.find(&format!("<{element} ")).unwrap();
    let tag = &xml[start..start + xml[start..].find('>').unwrap()];
    let at = tag.find(" ID=\"").unwrap() + 5;
    tag[at..at + tag[at..].find('"').unwrap()].to_owned()
}

#[test]
fn sp_initiated_login_verifies_with_fedkit_saml_and_xmlsec1_in_every_sign_mode() {
    for mode in ["assertion", "response", "both"] {
        let dir = temp_dir(&format!("sp-initiated-{mode}"));
        let server = Server::start(&[
            "--sp-entity-id",
            SP_ID,
            "--acs-url",
            ACS,
            "--sign",
            mode,
            "--state-dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(server.started["sign"], mode);
        assert_eq!(server.started["key"], "generated");
        let metadata = import(&server);
        assert_eq!(metadata.entity_id(), server.url("entity_id"));
        assert_eq!(metadata.name_id_formats(), &[EMAIL_FORMAT.to_owned()]);
        let sso = metadata
            .sso_endpoint(&fedkit_metadata::Binding::HttpRedirect)
            .unwrap()
            .location
            .clone();
        assert_eq!(sso, server.url("sso_url"));
        assert!(sso.ends_with("/saml2/fedkit-test"));

        // The SP sends the browser to the IdP (HTTP-Redirect), with a RelayState.
        let random: [u8; 20] = std::array::from_fn(|i| i as u8 + 1);
        let request = AuthnRequest::new(&sp(), &sso, random, Utc::now());
        let (status, _, login_page) =
            get(&request.redirect_url(Some(RelayState::new("/reports?year=2026&q=a b").unwrap())));
        assert_eq!(status, 200, "{login_page}");
        assert!(login_page.contains("Never use it in production."));
        for email in [
            "jane.doe@example.com",
            "john.smith@example.com",
            "eve.outsider@example.net",
        ] {
            user_form(&login_page, email);
        }

        let answer = log_in_as(&server, &login_page, "jane.doe@example.com");
        assert_eq!(answer.field("RelayState"), Some("/reports?year=2026&q=a b"));
        let saml_response = answer.field("SAMLResponse").unwrap();

        // The SP's check, with the IdP from its metadata.
        let replay = InMemoryReplayCache::new(100);
        let assertion = validator(&metadata, false)
            .process_post(saml_response, Some(request.id()), Utc::now(), &replay)
            .unwrap_or_else(|e| panic!("{mode}: [{}] {e}", e.code()));
        assert_eq!(assertion.name_id().value, "jane.doe@example.com");
        assert_eq!(assertion.name_id().format.as_deref(), Some(EMAIL_FORMAT));
        assert_eq!(assertion.first_value("email"), Some("jane.doe@example.com"));
        assert_eq!(assertion.first_value("firstName"), Some("Jane"));
        assert_eq!(assertion.first_value("lastName"), Some("Doe"));
        assert_eq!(
            assertion.attribute("memberOf"),
            Some(&["Engineering".to_owned(), "SSO Admins".to_owned()][..])
        );
        assert_eq!(assertion.in_response_to(), Some(request.id()));
        assert!(assertion.session_index().is_some_and(|s| s.starts_with('_')));
        assert_eq!(assertion.issuer(), server.url("entity_id"));
        // The same Response again is a replay.
        let again =
            validator(&metadata, false).process_post(saml_response, Some(request.id()), Utc::now(), &replay);
        assert_eq!(again.err().map(|e| e.code()), Some("replay"));

        // The second opinion: xmlsec1 verifies every signature the mode promises.
        if !xmlsec1_installed() {
            let _ = std::fs::remove_dir_all(&dir);
            continue;
        }
        let xml = base64::engine::general_purpose::STANDARD
            .decode(saml_response)
            .unwrap();
        let text = String::from_utf8(xml.clone()).unwrap();
        let cert = metadata.signing_certificates().next().unwrap().to_pem();
        let response_id = id_of(&text, "saml2p:Response");
        let assertion_id = id_of(&text, "saml2:Assertion");
        let signed: &[&str] = match mode {
            "assertion" => &[&assertion_id],
            "response" => &[&response_id],
            _ => &[&response_id, &assertion_id],
        };
        assert_eq!(
            text.matches("<ds:Signature ").count(),
            signed.len(),
            "{mode}: {text}"
        );
        for id in signed {
            assert!(
                xmlsec1_verifies(&dir, &xml, &cert, id),
                "{mode}: xmlsec1 refuses {id}"
            );
        }
        // And refuses the same document with the user changed: the check can fail.
        let tampered = text.replacen(
            ">jane.doe@example.com</saml2:NameID>",
            ">eve@example.com</saml2:NameID>",
            1,
        );
        assert_ne!(tampered, text);
        assert!(
            !xmlsec1_verifies(&dir, tampered.as_bytes(), &cert, signed[0]),
            "{mode}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn an_authn_request_over_http_post_and_idp_initiated_login() {
    let dir = temp_dir("post-and-idp-initiated");
    let users = dir.join("users.json");
    std::fs::write(
        &users,
        r#"[{"email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace", "groups": ["R&D"]},
            {"email": "grace@example.com", "firstName": "Grace", "lastName": "<Hopper>"}]"#,
    )
    .unwrap();
    let server = Server::start(&[
        "--sp-entity-id",
        SP_ID,
        "--acs-url",
        ACS,
        "--users",
        users.to_str().unwrap(),
        "--state-dir",
        dir.to_str().unwrap(),
        "--app",
        "acme",
    ]);
    assert_eq!(server.started["users"], 2);
    let metadata = import(&server);
    let sso = server.url("sso_url");
    assert!(sso.ends_with("/saml2/acme"));

    // HTTP-POST binding: SAMLRequest is base64 without compression.
    let request = AuthnRequest::new(&sp(), &sso, [7; 20], Utc::now());
    let fields = vec![
        (
            "SAMLRequest".to_owned(),
            base64::engine::general_purpose::STANDARD.encode(request.to_xml()),
        ),
        ("RelayState".to_owned(), "r-1".to_owned()),
    ];
    let (status, login_page) = post(&sso, &fields);
    assert_eq!(status, 200, "{login_page}");
    assert!(
        login_page.contains("&lt;Hopper&gt;"),
        "users.json values are escaped"
    );
    assert!(!login_page.contains("<Hopper>"));
    let answer = log_in_as(&server, &login_page, "ada@example.com");
    assert_eq!(answer.field("RelayState"), Some("r-1"));
    let replay = InMemoryReplayCache::new(100);
    let assertion = validator(&metadata, false)
        .process_post(
            answer.field("SAMLResponse").unwrap(),
            Some(request.id()),
            Utc::now(),
            &replay,
        )
        .unwrap();
    assert_eq!(assertion.name_id().value, "ada@example.com");
    assert_eq!(assertion.first_value("memberOf"), Some("R&D"));

    // IdP-initiated: the SSO URL without SAMLRequest is the login page; no InResponseTo.
    let (status, _, page) = get(&format!("{sso}?RelayState=%2Fhome"));
    assert_eq!(status, 200);
    assert!(page.contains("IdP-initiated"));
    let answer = log_in_as(&server, &page, "grace@example.com");
    assert_eq!(answer.field("RelayState"), Some("/home"));
    let value = answer.field("SAMLResponse").unwrap();
    let refused = validator(&metadata, false).process_post(value, None, Utc::now(), &replay);
    assert_eq!(refused.err().map(|e| e.code()), Some("unsolicited"));
    let assertion = validator(&metadata, true)
        .process_post(value, None, Utc::now(), &replay)
        .unwrap();
    assert_eq!(assertion.name_id().value, "grace@example.com");
    assert_eq!(assertion.first_value("lastName"), Some("<Hopper>"));
    assert_eq!(assertion.in_response_to(), None);
    assert_eq!(assertion.attribute("memberOf"), None);

    // The index page offers the same IdP-initiated buttons, and the metadata URL.
    let (status, _, index) = get(&format!("{}/", server.base()));
    assert_eq!(status, 200);
    assert!(index.contains(&server.url("metadata_url")));
    user_form(&index, "ada@example.com");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn requests_the_idp_must_refuse_get_an_escaped_error_page() {
    let dir = temp_dir("refusals");
    let server = Server::start(&[
        "--sp-entity-id",
        SP_ID,
        "--acs-url",
        ACS,
        "--state-dir",
        dir.to_str().unwrap(),
    ]);
    let sso = server.url("sso_url");
    // An AuthnRequest from another SP.
    let other = ServiceProvider::new("http://evil.test/<sp>", ["http://evil.test/acs"]).unwrap();
    let url = AuthnRequest::new(&other, &sso, [1; 20], Utc::now()).redirect_url(None);
    let (status, _, page) = get(&url);
    assert_eq!(status, 400);
    assert!(page.contains("[unknown_sp]"), "{page}");
    assert!(
        page.contains("http://evil.test/&lt;sp&gt;") && !page.contains("<sp>"),
        "{page}"
    );
    // A login post for a user that is not listed, or to an ACS URL that is not the SP's.
    let fields = |user: &str, acs: &str| {
        vec![
            ("user".to_owned(), user.to_owned()),
            ("acs".to_owned(), acs.to_owned()),
        ]
    };
    let login = format!("{sso}/login");
    let (status, page) = post(&login, &fields("mallory@example.com", ACS));
    assert_eq!(status, 400);
    assert!(page.contains("[unknown_user]"));
    let (status, page) = post(&login, &fields("jane.doe@example.com", "http://evil.test/acs"));
    assert_eq!(status, 400);
    assert!(page.contains("[acs_url_not_registered]"));
    // A hostile RelayState is escaped on the login page.
    let (status, _, page) = get(&format!(
        "{sso}?RelayState=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    ));
    assert_eq!(status, 200);
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Unknown paths say where the IdP's endpoints are.
    let (status, _, page) = get(&format!("{}/saml2/other-app", server.base()));
    assert_eq!(status, 404);
    assert!(page.contains(&sso));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn signed_requests_and_single_logout_with_sp_metadata() {
    let dir = temp_dir("slo");
    let sp_metadata = SpMetadata::new(&sp())
        .name_id_format(EMAIL_FORMAT)
        .single_logout(SP_SLO)
        .signing_certificates(SP_CERT)
        .unwrap()
        .to_xml();
    let sp_file = dir.join("sp-metadata.xml");
    std::fs::write(&sp_file, sp_metadata).unwrap();
    let server = Server::start(&[
        "--sp-metadata",
        sp_file.to_str().unwrap(),
        "--state-dir",
        dir.to_str().unwrap(),
    ]);
    let metadata = import(&server);
    let sso = server.url("sso_url");
    let slo = metadata.slo().first().unwrap().location.clone();
    assert_eq!(slo, server.url("slo_url"));
    let sp_key = SigningKey::from_pem(SP_KEY).unwrap();

    // AuthnRequestsSigned="true": an unsigned request is refused, a signed one accepted.
    let request = AuthnRequest::new(&sp(), &sso, [3; 20], Utc::now());
    let (status, _, page) = get(&request.redirect_url(None));
    assert_eq!(status, 400);
    assert!(page.contains("[unsigned_request]"), "{page}");
    let signed = request
        .signed_redirect_url(Some(RelayState::new("/x").unwrap()), &sp_key, &AwsLcRs)
        .unwrap();
    let (status, _, login_page) = get(&signed);
    assert_eq!(status, 200, "{login_page}");
    let answer = log_in_as(&server, &login_page, "john.smith@example.com");
    let replay = InMemoryReplayCache::new(100);
    let assertion = validator(&metadata, false)
        .process_post(
            answer.field("SAMLResponse").unwrap(),
            Some(request.id()),
            Utc::now(),
            &replay,
        )
        .unwrap();

    // SP-initiated logout over HTTP-Redirect, signed; the LogoutResponse is posted to the SP's
    // SLO URL (its metadata lists HTTP-Redirect and HTTP-POST; the IdP prefers POST).
    let logout = OutgoingLogout::request(
        &sp(),
        &slo,
        assertion.name_id(),
        assertion.session_index().unwrap(),
        [4; 20],
        Utc::now(),
    );
    let (status, _, page) = get(&logout.redirect_url(Some(RelayState::new("/bye").unwrap())));
    assert_eq!(status, 400, "unsigned LogoutRequests are refused too");
    assert!(page.contains("[unsigned_request]"));
    let (status, _, page) = get(&logout
        .signed_redirect_url(Some(RelayState::new("/bye").unwrap()), &sp_key, &AwsLcRs)
        .unwrap());
    assert_eq!(status, 200, "{page}");
    let answer = forms(&page).remove(0);
    assert_eq!(answer.action, SP_SLO);
    assert_eq!(answer.field("RelayState"), Some("/bye"));
    let logout_validator = LogoutValidator::new(
        sp(),
        IdentityProvider::from_metadata(&metadata),
        SP_SLO,
        Settings::default(),
    )
    .with_provider(&AwsLcRs);
    let message = logout_validator
        .process_post(
            answer.field("SAMLResponse").unwrap(),
            Some(logout.id()),
            Utc::now(),
        )
        .unwrap();
    assert!(
        matches!(&message, LogoutMessage::Response(r) if r.success() && r.in_response_to() == logout.id()),
        "{message:?}"
    );

    // Over HTTP-POST, XML-signed.
    let name_id = NameId {
        value: "john.smith@example.com".to_owned(),
        format: Some(EMAIL_FORMAT.to_owned()),
        name_qualifier: None,
        sp_name_qualifier: None,
    };
    let logout =
        OutgoingLogout::dangerous_request_without_session_index(&sp(), &slo, &name_id, [5; 20], Utc::now());
    let fields = vec![(
        "SAMLRequest".to_owned(),
        base64::engine::general_purpose::STANDARD.encode(logout.signed_xml(&sp_key, None, &AwsLcRs).unwrap()),
    )];
    let (status, page) = post(&slo, &fields);
    assert_eq!(status, 200, "{page}");
    let answer = forms(&page).remove(0);
    assert_eq!(answer.field("RelayState"), None);
    let message = logout_validator
        .process_post(
            answer.field("SAMLResponse").unwrap(),
            Some(logout.id()),
            Utc::now(),
        )
        .unwrap();
    assert!(matches!(message, LogoutMessage::Response(r) if r.success()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_generated_key_survives_a_restart() {
    let dir = temp_dir("restart");
    let args = [
        "--sp-entity-id",
        SP_ID,
        "--acs-url",
        ACS,
        "--state-dir",
        dir.to_str().unwrap(),
    ];
    let first = Server::start(&args);
    assert_eq!(first.started["key"], "generated");
    let before = import(&first)
        .signing_certificates()
        .next()
        .unwrap()
        .der()
        .to_vec();
    drop(first);
    let second = Server::start(&args);
    assert_eq!(second.started["key"], "loaded");
    let after = import(&second)
        .signing_certificates()
        .next()
        .unwrap()
        .der()
        .to_vec();
    assert_eq!(before, after);
    // The files are where the help says, and --key/--cert takes them back.
    let key = dir.join("fedkit-idp-key.pem");
    let cert = dir.join("fedkit-idp-cert.pem");
    drop(second);
    let third = Server::start(&[
        "--sp-entity-id",
        SP_ID,
        "--acs-url",
        ACS,
        "--key",
        key.to_str().unwrap(),
        "--cert",
        cert.to_str().unwrap(),
    ]);
    assert_eq!(third.started["key"], "given");
    assert_eq!(
        import(&third).signing_certificates().next().unwrap().der(),
        &after[..]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn configuration_errors_are_reported_before_listening() {
    let dir = temp_dir("config-errors");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_fedkit"))
            .args(["--json", "idp", "serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.code().unwrap(),
            doc["error"]["code"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let users = dir.join("users.json");
    std::fs::write(&users, "[]").unwrap();
    let state = dir.to_str().unwrap();
    assert_eq!(
        run(&[
            "--sp-entity-id",
            SP_ID,
            "--acs-url",
            ACS,
            "--users",
            users.to_str().unwrap(),
            "--state-dir",
            state
        ]),
        (1, "bad_users_file".to_owned())
    );
    assert_eq!(
        run(&["--sp-entity-id", SP_ID, "--acs-url", "/acs", "--state-dir", state]),
        (1, "bad_sp_settings".to_owned())
    );
    let idp_metadata = dir.join("idp.xml");
    std::fs::write(
        &idp_metadata,
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor/></md:EntityDescriptor>"#,
    )
    .unwrap();
    assert_eq!(
        run(&[
            "--sp-metadata",
            idp_metadata.to_str().unwrap(),
            "--state-dir",
            state
        ]),
        (1, "bad_sp_metadata".to_owned())
    );
    assert_eq!(run(&["--state-dir", state]).0, 2, "no SP given");
    assert_eq!(
        run(&[
            "--sp-entity-id",
            SP_ID,
            "--acs-url",
            ACS,
            "--app",
            "a/b",
            "--state-dir",
            state
        ]),
        (2, "usage_error".to_owned())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
