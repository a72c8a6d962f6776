//! Single Logout conformance: the rules of SAML 2.0 Core §3.2.1/§3.2.2/§3.7, Profiles §4.4.3/
//! §4.4.4 and Bindings §3.4/§3.5 an SP receiving the IdP's LogoutRequest or LogoutResponse is
//! responsible for. Each test is named after its clause, with `_accepted` (the rule holds and
//! the message passes) or `_refused` (it is broken and the message is refused, with the
//! error code and a message naming the cause).
//!
//! Every message is built here at run time and signed for real with the test IdP key
//! (`data/keys/idp.key.pem`; the validator pins `idp.crt.pem`): an enveloped XML signature by
//! `fedkit_xmldsig::sign` for HTTP-POST, the RSA-SHA256 query signature for HTTP-Redirect.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use fedkit_saml::bindings::percent_encode;
use fedkit_saml::logout::{LogoutMessage, LogoutRequest, LogoutResponse, LogoutValidator};
use fedkit_saml::{Error, IdentityProvider, ServiceProvider, Settings};
use fedkit_xmldsig::crypto::{all_providers, CryptoProvider};
use fedkit_xmldsig::{Document, SignatureAlgorithm, SigningKey, TrustedKeys};

const IDP: &str = "https://sso.jumpcloud.com/saml2/fedkit-test";
const SP: &str = "https://app.example.com/saml/metadata";
const ACS: &str = "https://app.example.com/saml/acs";
const SLO: &str = "https://app.example.com/saml/slo";
const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const IDP_CERT: &str = include_str!("data/keys/idp.crt.pem");
const IDP_KEY: &str = include_str!("data/keys/idp.key.pem");
const OTHER_KEY: &str = include_str!("data/keys/other.key.pem");
const EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
const ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// The ID of the SP's own outstanding LogoutRequest, which the IdP's LogoutResponse answers.
const SP_REQUEST: &str = "_sp-logout-1";

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
}

/// A minute after the messages were issued (11:00:00).
fn now() -> DateTime<Utc> {
    at(11, 1, 0)
}

fn validator() -> LogoutValidator {
    let sp = ServiceProvider::new(SP, [ACS]).unwrap();
    let idp = IdentityProvider::new(IDP, TrustedKeys::from_pem(IDP_CERT).unwrap()).unwrap();
    LogoutValidator::new(sp, idp, SLO, Settings::default())
}

/// An IdP-initiated LogoutRequest as JumpCloud or Okta sends it.
fn request() -> String {
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"{SAMLP}\" xmlns:saml=\"{SAML}\" ID=\"_idp-logout-1\" Version=\"2.0\" \
         IssueInstant=\"2026-11-22T11:00:00Z\" Destination=\"{SLO}\" NotOnOrAfter=\"2026-11-22T11:05:00Z\">\
         <saml:Issuer>{IDP}</saml:Issuer>\
         <saml:NameID Format=\"{EMAIL}\">jane.doe@example.com</saml:NameID>\
         <samlp:SessionIndex>_session-31d8</samlp:SessionIndex></samlp:LogoutRequest>"
    )
}

/// The IdP's LogoutResponse to the SP's LogoutRequest `SP_REQUEST`.
fn response() -> String {
    format!(
        "<samlp:LogoutResponse xmlns:samlp=\"{SAMLP}\" xmlns:saml=\"{SAML}\" ID=\"_idp-logout-resp-1\" Version=\"2.0\" \
         IssueInstant=\"2026-11-22T11:00:00Z\" Destination=\"{SLO}\" InResponseTo=\"{SP_REQUEST}\">\
         <saml:Issuer>{IDP}</saml:Issuer>\
         <samlp:Status><samlp:StatusCode Value=\"{SUCCESS}\"/></samlp:Status></samlp:LogoutResponse>"
    )
}

/// `xml` with `from` replaced by `to`; the test is wrong if `from` is not there.
fn edit(xml: &str, from: &str, to: &str) -> String {
    assert!(xml.contains(from), "{from:?} not in the message");
    xml.replacen(from, to, 1)
}

fn provider() -> &'static dyn CryptoProvider {
    all_providers()[0]
}

fn idp_key() -> SigningKey {
    SigningKey::from_pem(IDP_KEY).unwrap()
}

/// The message with an enveloped XML signature by `key` after its Issuer (or first, when
/// it has none), as the HTTP-POST binding carries it.
fn xml_signed_by(xml: &str, key: &SigningKey) -> String {
    let doc = Document::parse(xml).unwrap();
    let id = doc
        .root_element()
        .attribute("ID")
        .expect("an ID to sign")
        .to_owned();
    fedkit_xmldsig::sign::sign_enveloped(xml, &id, Some((SAML, "Issuer")), key, None, provider()).unwrap()
}

fn xml_signed(xml: &str) -> String {
    xml_signed_by(xml, &idp_key())
}

fn b64(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// The HTTP-POST form value of the signed message.
fn post(xml: &str) -> String {
    b64(&xml_signed(xml))
}

/// The parameter name of the message: `SAMLRequest` or `SAMLResponse`.
fn parameter(xml: &str) -> &'static str {
    if xml.contains("<samlp:LogoutResponse") {
        "SAMLResponse"
    } else {
        "SAMLRequest"
    }
}

/// The HTTP-Redirect binding query (Bindings §3.4.4.1): raw DEFLATE, base64, URL-encoded,
/// `RelayState`, `SigAlg`, signed over exactly those octets with the IdP key.
fn redirect_with(parameter: &str, xml: &str, relay_state: Option<&str>, extra: &str) -> String {
    let deflated = miniz_oxide::deflate::compress_to_vec(xml.as_bytes(), 8);
    let mut signed = format!("{parameter}={}", percent_encode(&b64_bytes(&deflated)));
    if let Some(r) = relay_state {
        signed.push_str(&format!("&RelayState={}", percent_encode(r)));
    }
    signed.push_str(&format!(
        "&SigAlg={}",
        percent_encode(SignatureAlgorithm::RSA_SHA256.uri())
    ));
    let signature = provider()
        .rsa_sign(SignatureAlgorithm::RSA_SHA256, &idp_key(), signed.as_bytes())
        .unwrap();
    format!(
        "{signed}{extra}&Signature={}",
        percent_encode(&b64_bytes(&signature))
    )
}

fn b64_bytes(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn redirect(xml: &str) -> String {
    redirect_with(parameter(xml), xml, Some("/goodbye"), "")
}

/// The same message over both bindings.
fn both(
    xml: &str,
    request_id: Option<&str>,
    now: DateTime<Utc>,
) -> Vec<(&'static str, Result<LogoutMessage, Error>)> {
    let v = validator();
    vec![
        ("HTTP-POST", v.process_post(&post(xml), request_id, now)),
        (
            "HTTP-Redirect",
            v.process_redirect(&redirect(xml), request_id, now),
        ),
    ]
}

/// Asserts a refusal with `code` whose message names the cause (`needle`).
fn assert_refused(result: Result<LogoutMessage, Error>, code: &str, needle: &str, context: &str) {
    let err = match result {
        Ok(m) => panic!("{context}: accepted, expected {code}: {m:?}"),
        Err(e) => e,
    };
    assert_eq!(err.code(), code, "{context}: {err}");
    assert!(
        err.to_string().contains(needle),
        "{context}: {err:?} does not mention {needle:?}: {err}"
    );
}

fn assert_all_refused(results: Vec<(&str, Result<LogoutMessage, Error>)>, code: &str, needle: &str) {
    for (binding, result) in results {
        assert_refused(result, code, needle, binding);
    }
}

fn accepted_request(result: Result<LogoutMessage, Error>, context: &str) -> LogoutRequest {
    match result {
        Ok(LogoutMessage::Request(r)) => r,
        other => panic!("{context}: expected a LogoutRequest, got {other:?}"),
    }
}

fn accepted_response(result: Result<LogoutMessage, Error>, context: &str) -> LogoutResponse {
    match result {
        Ok(LogoutMessage::Response(r)) => r,
        other => panic!("{context}: expected a LogoutResponse, got {other:?}"),
    }
}

fn all_requests(results: Vec<(&str, Result<LogoutMessage, Error>)>) -> Vec<LogoutRequest> {
    results
        .into_iter()
        .map(|(binding, r)| accepted_request(r, binding))
        .collect()
}

fn all_responses(results: Vec<(&str, Result<LogoutMessage, Error>)>) -> Vec<LogoutResponse> {
    results
        .into_iter()
        .map(|(binding, r)| accepted_response(r, binding))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Signatures (Profiles §4.4.4.1, §4.4.4.2; Bindings §3.4.4.1, §3.5.4).

#[test]
fn profiles_4_4_4_1_logout_request_signature_required_accepted() {
    for r in all_requests(both(&request(), None, now())) {
        assert_eq!(r.id(), "_idp-logout-1");
        assert_eq!(r.name_id().value, "jane.doe@example.com");
        assert_eq!(
            r.signing_key(),
            TrustedKeys::from_pem(IDP_CERT).unwrap().fingerprints()[0]
        );
    }
}

#[test]
fn profiles_4_4_4_1_logout_request_signature_required_refused() {
    let v = validator();
    // HTTP-POST without an XML signature.
    assert_refused(
        v.process_post(&b64(&request()), None, now()),
        "unsigned",
        "LogoutRequest arrived over HTTP-POST without a signature",
        "POST",
    );
    // HTTP-Redirect without the query signature.
    let query = redirect(&request());
    let unsigned = &query[..query.find("&SigAlg=").unwrap()];
    assert_refused(
        v.process_redirect(unsigned, None, now()),
        "unsigned",
        "LogoutRequest arrived over HTTP-Redirect without a signature",
        "Redirect",
    );
    // Signed, but by a key this connection does not pin.
    let other = SigningKey::from_pem(OTHER_KEY).unwrap();
    assert_refused(
        v.process_post(&b64(&xml_signed_by(&request(), &other)), None, now()),
        "signature_invalid",
        "LogoutRequest signature is not valid",
        "POST, other key",
    );
}

#[test]
fn profiles_4_4_4_2_logout_response_signature_required_accepted() {
    for r in all_responses(both(&response(), Some(SP_REQUEST), now())) {
        assert_eq!(r.id(), "_idp-logout-resp-1");
        assert!(r.success());
    }
}

#[test]
fn profiles_4_4_4_2_logout_response_signature_required_refused() {
    let v = validator();
    assert_refused(
        v.process_post(&b64(&response()), Some(SP_REQUEST), now()),
        "unsigned",
        "LogoutResponse arrived over HTTP-POST without a signature",
        "POST",
    );
    let query = redirect(&response());
    let unsigned = &query[..query.find("&SigAlg=").unwrap()];
    assert_refused(
        v.process_redirect(unsigned, Some(SP_REQUEST), now()),
        "unsigned",
        "LogoutResponse arrived over HTTP-Redirect without a signature",
        "Redirect",
    );
}

#[test]
fn bindings_3_4_4_1_redirect_query_signature_only_accepted() {
    let query = redirect(&request());
    accepted_request(validator().process_redirect(&query, None, now()), "Redirect");
}

#[test]
fn bindings_3_4_4_1_redirect_xml_signature_inside_message_refused() {
    // A message signed for HTTP-POST, then sent over HTTP-Redirect with a valid query
    // signature as well: the binding requires the XML signature removed before encoding.
    for xml in [request(), response()] {
        let query = redirect(&xml_signed(&xml));
        assert_refused(
            validator().process_redirect(&query, Some(SP_REQUEST), now()),
            "redirect_xml_signature",
            "with an XML signature inside the message",
            parameter(&xml),
        );
    }
}

#[test]
fn bindings_3_4_4_1_redirect_deflate_encoding_accepted() {
    let deflate = "&SAMLEncoding=urn%3Aoasis%3Anames%3Atc%3ASAML%3A2.0%3Abindings%3AURL-Encoding%3ADEFLATE";
    let query = redirect_with("SAMLRequest", &request(), None, deflate);
    accepted_request(validator().process_redirect(&query, None, now()), "DEFLATE");
}

#[test]
fn bindings_3_4_4_1_redirect_deflate_encoding_refused() {
    let query = redirect_with(
        "SAMLRequest",
        &request(),
        None,
        "&SAMLEncoding=urn%3Aexample%3Agzip",
    );
    assert_refused(
        validator().process_redirect(&query, None, now()),
        "malformed",
        "SAMLEncoding \"urn:example:gzip\" is not supported",
        "Redirect",
    );
}

#[test]
fn bindings_3_4_4_redirect_parameter_names_the_message_accepted() {
    let query = redirect_with("SAMLResponse", &response(), None, "");
    accepted_response(
        validator().process_redirect(&query, Some(SP_REQUEST), now()),
        "SAMLResponse",
    );
}

#[test]
fn bindings_3_4_4_redirect_parameter_names_the_message_refused() {
    let query = redirect_with("SAMLRequest", &response(), None, "");
    assert_refused(
        validator().process_redirect(&query, Some(SP_REQUEST), now()),
        "malformed",
        "the SAMLRequest parameter carries a LogoutResponse",
        "Redirect",
    );
}

// ---------------------------------------------------------------------------------------
// Destination (Bindings §3.4.5.2, §3.5.5.2; Core §3.2.1, §3.2.2).

fn without_destination(xml: &str) -> String {
    edit(xml, &format!(" Destination=\"{SLO}\""), "")
}

#[test]
fn bindings_3_5_5_2_signed_logout_destination_required_accepted() {
    let v = validator();
    accepted_request(v.process_post(&post(&request()), None, now()), "request");
    accepted_response(
        v.process_post(&post(&response()), Some(SP_REQUEST), now()),
        "response",
    );
}

#[test]
fn bindings_3_5_5_2_signed_logout_destination_required_refused() {
    let v = validator();
    for (xml, name) in [(request(), "LogoutRequest"), (response(), "LogoutResponse")] {
        assert_refused(
            v.process_post(&post(&without_destination(&xml)), Some(SP_REQUEST), now()),
            "destination_missing",
            &format!("the signed {name} has no Destination attribute"),
            name,
        );
    }
}

#[test]
fn bindings_3_4_5_2_signed_logout_destination_required_accepted() {
    let v = validator();
    accepted_request(v.process_redirect(&redirect(&request()), None, now()), "request");
    accepted_response(
        v.process_redirect(&redirect(&response()), Some(SP_REQUEST), now()),
        "response",
    );
}

#[test]
fn bindings_3_4_5_2_signed_logout_destination_required_refused() {
    let v = validator();
    for (xml, name) in [(request(), "LogoutRequest"), (response(), "LogoutResponse")] {
        assert_refused(
            v.process_redirect(&redirect(&without_destination(&xml)), Some(SP_REQUEST), now()),
            "destination_missing",
            &format!("the signed {name} has no Destination attribute"),
            name,
        );
    }
}

#[test]
fn core_3_2_1_logout_request_destination_is_this_endpoint_accepted() {
    all_requests(both(&request(), None, now()));
}

#[test]
fn core_3_2_1_logout_request_destination_is_this_endpoint_refused() {
    let elsewhere = edit(
        &request(),
        &format!("Destination=\"{SLO}\""),
        "Destination=\"https://other-app.example.com/saml/slo\"",
    );
    assert_all_refused(
        both(&elsewhere, None, now()),
        "destination_mismatch",
        "was sent to \"https://other-app.example.com/saml/slo\", but this SP's Single Logout URL is \"https://app.example.com/saml/slo\"",
    );
}

#[test]
fn core_3_2_2_logout_response_destination_is_this_endpoint_accepted() {
    all_responses(both(&response(), Some(SP_REQUEST), now()));
}

#[test]
fn core_3_2_2_logout_response_destination_is_this_endpoint_refused() {
    let elsewhere = edit(
        &response(),
        &format!("Destination=\"{SLO}\""),
        "Destination=\"https://app.example.com/saml/acs\"",
    );
    assert_all_refused(
        both(&elsewhere, Some(SP_REQUEST), now()),
        "destination_mismatch",
        "LogoutResponse was sent to \"https://app.example.com/saml/acs\"",
    );
}

// ---------------------------------------------------------------------------------------
// Issuer (Profiles §4.4.4.1, §4.4.4.2).

fn issuer_element() -> String {
    format!("<saml:Issuer>{IDP}</saml:Issuer>")
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_required_accepted() {
    all_requests(both(&request(), None, now()));
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_required_refused() {
    let no_issuer = edit(&request(), &issuer_element(), "");
    assert_all_refused(
        both(&no_issuer, None, now()),
        "issuer_mismatch",
        "the LogoutRequest Issuer is (absent), but this connection expects the IdP entity ID",
    );
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_is_the_idp_accepted() {
    // Whitespace around the entity ID is not part of it.
    let spaced = edit(
        &request(),
        &issuer_element(),
        &format!("<saml:Issuer>\n  {IDP}\n</saml:Issuer>"),
    );
    all_requests(both(&spaced, None, now()));
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_is_the_idp_refused() {
    let other = edit(
        &request(),
        &issuer_element(),
        "<saml:Issuer>https://idp.other.example/saml</saml:Issuer>",
    );
    assert_all_refused(
        both(&other, None, now()),
        "issuer_mismatch",
        "Issuer is \"https://idp.other.example/saml\"",
    );
    // Two Issuers: which one counts would be a guess.
    let twice = edit(
        &request(),
        &issuer_element(),
        &format!("{0}{0}", issuer_element()),
    );
    assert_all_refused(both(&twice, None, now()), "malformed", "more than one Issuer");
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_is_signed_content_refused() {
    // Signed by the IdP without an Issuer, then an Issuer added: the digest breaks.
    let no_issuer = edit(&request(), &issuer_element(), "");
    let signed = xml_signed(&no_issuer);
    let forged = edit(
        &signed,
        "<saml:NameID",
        &format!("{}<saml:NameID", issuer_element()),
    );
    assert_refused(
        validator().process_post(&b64(&forged), None, now()),
        "digest_mismatch",
        "LogoutRequest signature is not valid",
        "POST",
    );
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_format_entity_accepted() {
    let entity = edit(
        &request(),
        &issuer_element(),
        &format!("<saml:Issuer Format=\"{ENTITY}\">{IDP}</saml:Issuer>"),
    );
    all_requests(both(&entity, None, now()));
}

#[test]
fn profiles_4_4_4_1_logout_request_issuer_format_entity_refused() {
    let email = edit(
        &request(),
        &issuer_element(),
        &format!("<saml:Issuer Format=\"{EMAIL}\">{IDP}</saml:Issuer>"),
    );
    assert_all_refused(
        both(&email, None, now()),
        "issuer_format",
        &format!("the LogoutRequest Issuer has Format {EMAIL:?}"),
    );
}

#[test]
fn profiles_4_4_4_2_logout_response_issuer_required_accepted() {
    let entity = edit(
        &response(),
        &issuer_element(),
        &format!("<saml:Issuer Format=\"{ENTITY}\">{IDP}</saml:Issuer>"),
    );
    all_responses(both(&entity, Some(SP_REQUEST), now()));
}

#[test]
fn profiles_4_4_4_2_logout_response_issuer_required_refused() {
    let no_issuer = edit(&response(), &issuer_element(), "");
    assert_all_refused(
        both(&no_issuer, Some(SP_REQUEST), now()),
        "issuer_mismatch",
        "the LogoutResponse Issuer is (absent)",
    );
    let other = edit(
        &response(),
        &issuer_element(),
        &format!("<saml:Issuer>{SP}</saml:Issuer>"),
    );
    assert_all_refused(
        both(&other, Some(SP_REQUEST), now()),
        "issuer_mismatch",
        &format!("the LogoutResponse Issuer is {SP:?}"),
    );
    let persistent = edit(
        &response(),
        &issuer_element(),
        &format!("<saml:Issuer Format=\"{PERSISTENT}\">{IDP}</saml:Issuer>"),
    );
    assert_all_refused(
        both(&persistent, Some(SP_REQUEST), now()),
        "issuer_format",
        "the LogoutResponse Issuer has Format",
    );
}

// ---------------------------------------------------------------------------------------
// Version and ID (Core §3.2.1, §3.2.2).

#[test]
fn core_3_2_1_logout_request_version_2_0_accepted() {
    all_requests(both(&request(), None, now()));
}

#[test]
fn core_3_2_1_logout_request_version_2_0_refused() {
    let v21 = edit(&request(), "Version=\"2.0\"", "Version=\"2.1\"");
    assert_all_refused(
        both(&v21, None, now()),
        "version_unsupported",
        "the LogoutRequest has Version \"2.1\", but only SAML 2.0",
    );
    let none = edit(&request(), " Version=\"2.0\"", "");
    assert_all_refused(
        both(&none, None, now()),
        "version_unsupported",
        "has Version (absent)",
    );
}

#[test]
fn core_3_2_2_logout_response_version_2_0_accepted() {
    all_responses(both(&response(), Some(SP_REQUEST), now()));
}

#[test]
fn core_3_2_2_logout_response_version_2_0_refused() {
    let v1 = edit(&response(), "Version=\"2.0\"", "Version=\"1.1\"");
    assert_all_refused(
        both(&v1, Some(SP_REQUEST), now()),
        "version_unsupported",
        "the LogoutResponse has Version \"1.1\"",
    );
}

#[test]
fn core_3_2_1_logout_request_id_required_accepted() {
    let r = accepted_request(
        validator().process_redirect(&redirect(&request()), None, now()),
        "Redirect",
    );
    assert_eq!(r.id(), "_idp-logout-1");
}

#[test]
fn core_3_2_1_logout_request_id_required_refused() {
    // Only the Redirect binding can carry a signed message without an ID (an enveloped XML
    // signature references the ID).
    let v = validator();
    for xml in [
        edit(&request(), " ID=\"_idp-logout-1\"", ""),
        edit(&request(), " ID=\"_idp-logout-1\"", " ID=\"\""),
    ] {
        assert_refused(
            v.process_redirect(&redirect(&xml), None, now()),
            "malformed",
            "the ID attribute is missing",
            "Redirect",
        );
    }
    let response = edit(&response(), " ID=\"_idp-logout-resp-1\"", "");
    assert_refused(
        v.process_redirect(&redirect(&response), Some(SP_REQUEST), now()),
        "malformed",
        "malformed SAML LogoutResponse: the ID attribute is missing",
        "Redirect response",
    );
}

// ---------------------------------------------------------------------------------------
// IssueInstant (Core §3.2.1, §3.2.2) and the message lifetime.

const ISSUED: &str = "IssueInstant=\"2026-11-22T11:00:00Z\"";

#[test]
fn core_3_2_1_logout_request_issue_instant_required_accepted() {
    let r = all_requests(both(&request(), None, now()));
    assert!(r.iter().all(|r| r.issue_instant() == at(11, 0, 0)));
    // An explicit offset is the same instant.
    let offset = edit(&request(), ISSUED, "IssueInstant=\"2026-11-22T12:00:00+01:00\"");
    let r = all_requests(both(&offset, None, now()));
    assert!(r.iter().all(|r| r.issue_instant() == at(11, 0, 0)));
}

#[test]
fn core_3_2_1_logout_request_issue_instant_required_refused() {
    let missing = edit(&request(), &format!(" {ISSUED}"), "");
    assert_all_refused(
        both(&missing, None, now()),
        "malformed",
        "the IssueInstant attribute is missing",
    );
    let garbage = edit(&request(), ISSUED, "IssueInstant=\"yesterday\"");
    assert_all_refused(
        both(&garbage, None, now()),
        "malformed",
        "IssueInstant \"yesterday\" is not a time",
    );
    let local = edit(&request(), ISSUED, "IssueInstant=\"2026-11-22T11:00:00\"");
    assert_all_refused(
        both(&local, None, now()),
        "malformed",
        "is not a time with a time zone",
    );
}

#[test]
fn core_3_2_1_logout_request_issue_instant_not_in_future_accepted() {
    // Issued 11:00:00, received 10:58:00: within the 120 s clock skew.
    all_requests(both(&request(), None, at(10, 58, 0)));
}

#[test]
fn core_3_2_1_logout_request_issue_instant_not_in_future_refused() {
    assert_all_refused(
        both(&request(), None, at(10, 57, 59)),
        "issued_in_the_future",
        "the LogoutRequest was issued at 2026-11-22T11:00:00Z but it is now 2026-11-22T10:57:59Z",
    );
}

#[test]
fn core_3_2_1_logout_request_issue_instant_within_lifetime_accepted() {
    // No NotOnOrAfter: the lifetime (Settings::message_lifetime_seconds, 180 s, + 120 s
    // skew) alone bounds the request.
    let open = edit(&request(), " NotOnOrAfter=\"2026-11-22T11:05:00Z\"", "");
    all_requests(both(&open, None, at(11, 5, 0)));
}

#[test]
fn core_3_2_1_logout_request_issue_instant_within_lifetime_refused() {
    let open = edit(&request(), " NotOnOrAfter=\"2026-11-22T11:05:00Z\"", "");
    assert_all_refused(
        both(&open, None, at(11, 5, 1)),
        "message_too_old",
        "the LogoutRequest was issued at 2026-11-22T11:00:00Z and it is now 2026-11-22T11:05:01Z: older than the message lifetime of 180 s",
    );
    // A NotOnOrAfter later than the lifetime does not extend it.
    let long = edit(
        &request(),
        "NotOnOrAfter=\"2026-11-22T11:05:00Z\"",
        "NotOnOrAfter=\"2026-11-22T12:00:00Z\"",
    );
    assert_all_refused(
        both(&long, None, at(11, 5, 1)),
        "message_too_old",
        "older than the message lifetime of 180 s",
    );
}

#[test]
fn core_3_2_2_logout_response_issue_instant_window_accepted() {
    let r = all_responses(both(&response(), Some(SP_REQUEST), at(10, 58, 0)));
    assert!(r.iter().all(|r| r.issue_instant() == at(11, 0, 0)));
    all_responses(both(&response(), Some(SP_REQUEST), at(11, 5, 0)));
}

#[test]
fn core_3_2_2_logout_response_issue_instant_window_refused() {
    let missing = edit(&response(), &format!(" {ISSUED}"), "");
    assert_all_refused(
        both(&missing, Some(SP_REQUEST), now()),
        "malformed",
        "LogoutResponse: the IssueInstant attribute is missing",
    );
    assert_all_refused(
        both(&response(), Some(SP_REQUEST), at(10, 57, 59)),
        "issued_in_the_future",
        "the LogoutResponse was issued at",
    );
    assert_all_refused(
        both(&response(), Some(SP_REQUEST), at(11, 5, 1)),
        "message_too_old",
        "the LogoutResponse was issued at",
    );
}

// ---------------------------------------------------------------------------------------
// LogoutRequest (Core §3.7.1).

#[test]
fn core_3_7_1_logout_request_not_on_or_after_accepted() {
    // NotOnOrAfter 11:05:00 + 120 s skew (issued at 11:04:00, so that the message lifetime
    // does not decide first).
    let later = edit(&request(), ISSUED, "IssueInstant=\"2026-11-22T11:04:00Z\"");
    let r = all_requests(both(&later, None, at(11, 6, 59)));
    assert!(r.iter().all(|r| r.not_on_or_after() == Some(at(11, 5, 0))));
}

#[test]
fn core_3_7_1_logout_request_not_on_or_after_refused() {
    assert_all_refused(
        both(&request(), None, at(11, 7, 0)),
        "expired",
        "the LogoutRequest (NotOnOrAfter) expired at 2026-11-22T11:05:00Z",
    );
    let garbage = edit(
        &request(),
        "NotOnOrAfter=\"2026-11-22T11:05:00Z\"",
        "NotOnOrAfter=\"soon\"",
    );
    assert_all_refused(
        both(&garbage, None, now()),
        "malformed",
        "NotOnOrAfter \"soon\" is not a time",
    );
}

fn name_id_element() -> String {
    format!("<saml:NameID Format=\"{EMAIL}\">jane.doe@example.com</saml:NameID>")
}

#[test]
fn core_3_7_1_logout_request_one_identifier_accepted() {
    for r in all_requests(both(&request(), None, now())) {
        assert_eq!(r.name_id().value, "jane.doe@example.com");
        assert_eq!(r.name_id().format.as_deref(), Some(EMAIL));
    }
}

#[test]
fn core_3_7_1_logout_request_one_identifier_refused() {
    let none = edit(&request(), &name_id_element(), "");
    assert_all_refused(
        both(&none, None, now()),
        "logout_identifier",
        "does not say which user to log out",
    );
    let two = edit(
        &request(),
        &name_id_element(),
        &format!("{}<saml:NameID>ceo@example.com</saml:NameID>", name_id_element()),
    );
    assert_all_refused(
        both(&two, None, now()),
        "logout_identifier",
        "exactly one of BaseID, NameID or EncryptedID, and it carries NameID, NameID",
    );
    let base = edit(
        &request(),
        &name_id_element(),
        "<saml:BaseID xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"x:Id\" xmlns:x=\"urn:x\"/>",
    );
    assert_all_refused(
        both(&base, None, now()),
        "logout_identifier",
        "names the user with a BaseID",
    );
    let empty = edit(&request(), &name_id_element(), "<saml:NameID> </saml:NameID>");
    assert_all_refused(
        both(&empty, None, now()),
        "malformed",
        "malformed SAML NameID: it is empty",
    );
}

#[test]
fn core_3_7_1_logout_request_session_indexes_accepted() {
    let two = edit(
        &request(),
        "<samlp:SessionIndex>_session-31d8</samlp:SessionIndex>",
        "<samlp:SessionIndex>_session-31d8</samlp:SessionIndex><samlp:SessionIndex> _session-77 </samlp:SessionIndex>",
    );
    for r in all_requests(both(&two, None, now())) {
        assert_eq!(r.session_indexes(), ["_session-31d8", "_session-77"]);
    }
    // None: all of the user's sessions (the IdP is the session authority).
    let none = edit(
        &request(),
        "<samlp:SessionIndex>_session-31d8</samlp:SessionIndex>",
        "",
    );
    for r in all_requests(both(&none, None, now())) {
        assert!(r.session_indexes().is_empty());
    }
}

#[test]
fn core_3_7_1_logout_request_session_indexes_refused() {
    // A SessionIndex added after signing is not signed content: the digest breaks, so the
    // sessions to end are only ever the ones the IdP signed.
    let signed = xml_signed(&request());
    let widened = edit(
        &signed,
        "</samlp:LogoutRequest>",
        "<samlp:SessionIndex>_someone-else</samlp:SessionIndex></samlp:LogoutRequest>",
    );
    assert_refused(
        validator().process_post(&b64(&widened), None, now()),
        "digest_mismatch",
        "LogoutRequest signature is not valid",
        "POST",
    );
    // Removing one (ending every session instead of one) breaks it as well.
    let all = edit(
        &signed,
        "<samlp:SessionIndex>_session-31d8</samlp:SessionIndex>",
        "",
    );
    assert_refused(
        validator().process_post(&b64(&all), None, now()),
        "digest_mismatch",
        "LogoutRequest signature is not valid",
        "POST",
    );
}

#[test]
fn core_3_7_1_logout_request_reason_passed_through_accepted() {
    let with_reason = edit(
        &request(),
        " Destination=",
        " Reason=\"urn:oasis:names:tc:SAML:2.0:logout:admin\" Destination=",
    );
    for r in all_requests(both(&with_reason, None, now())) {
        assert_eq!(r.reason(), Some("urn:oasis:names:tc:SAML:2.0:logout:admin"));
    }
}

#[test]
fn core_3_7_1_logout_request_reason_absent_accepted() {
    // Absent: nothing is invented. (Reason is informational; it never refuses a request.)
    for r in all_requests(both(&request(), None, now())) {
        assert_eq!(r.reason(), None);
    }
}

// ---------------------------------------------------------------------------------------
// NameID qualifiers (Core §8.3.7: a persistent identifier's qualifiers name its IdP and SP).

fn persistent(qualifiers: &str) -> String {
    edit(
        &request(),
        &name_id_element(),
        &format!("<saml:NameID Format=\"{PERSISTENT}\"{qualifiers}>a1b2c3</saml:NameID>"),
    )
}

#[test]
fn core_8_3_7_persistent_name_id_qualifiers_accepted() {
    for qualifiers in [
        String::new(),
        format!(" NameQualifier=\"{IDP}\""),
        format!(" NameQualifier=\"{IDP}\" SPNameQualifier=\"{SP}\""),
    ] {
        for r in all_requests(both(&persistent(&qualifiers), None, now())) {
            assert_eq!(r.name_id().value, "a1b2c3");
            assert_eq!(r.name_id().format.as_deref(), Some(PERSISTENT));
        }
    }
    // Other formats' qualifiers are passed through for the host's own matching.
    let email = edit(
        &request(),
        &name_id_element(),
        &format!("<saml:NameID Format=\"{EMAIL}\" NameQualifier=\"example.com\">jane.doe@example.com</saml:NameID>"),
    );
    for r in all_requests(both(&email, None, now())) {
        assert_eq!(r.name_id().name_qualifier.as_deref(), Some("example.com"));
    }
}

#[test]
fn core_8_3_7_persistent_name_id_qualifiers_refused() {
    assert_all_refused(
        both(
            &persistent(" NameQualifier=\"https://idp.other.example\""),
            None,
            now(),
        ),
        "name_qualifier_mismatch",
        &format!(
            "NameQualifier \"https://idp.other.example\", but this connection's IdP entity ID is {IDP:?}"
        ),
    );
    assert_all_refused(
        both(
            &persistent(&format!(
                " NameQualifier=\"{IDP}\" SPNameQualifier=\"https://other-sp.example\""
            )),
            None,
            now(),
        ),
        "name_qualifier_mismatch",
        &format!(
            "SPNameQualifier \"https://other-sp.example\", but this connection's SP entity ID is {SP:?}"
        ),
    );
}

// ---------------------------------------------------------------------------------------
// LogoutResponse (Core §3.2.2, §3.2.2.2; Profiles §4.4.3).

#[test]
fn core_3_2_2_logout_response_in_response_to_accepted() {
    for r in all_responses(both(&response(), Some(SP_REQUEST), now())) {
        assert_eq!(r.in_response_to(), SP_REQUEST);
    }
}

#[test]
fn core_3_2_2_logout_response_in_response_to_refused() {
    assert_all_refused(
        both(&response(), Some("_sp-logout-2"), now()),
        "in_response_to_mismatch",
        "the LogoutResponse answers request \"_sp-logout-1\", but this SP's logout is waiting for the answer to request \"_sp-logout-2\"",
    );
    let none = edit(&response(), &format!(" InResponseTo=\"{SP_REQUEST}\""), "");
    assert_all_refused(
        both(&none, Some(SP_REQUEST), now()),
        "in_response_to_mismatch",
        "answers request (absent)",
    );
}

#[test]
fn profiles_4_4_3_logout_response_to_outstanding_request_accepted() {
    all_responses(both(&response(), Some(SP_REQUEST), now()));
}

#[test]
fn profiles_4_4_3_logout_response_to_outstanding_request_refused() {
    assert_all_refused(
        both(&response(), None, now()),
        "logout_response_unexpected",
        "no logout started by this SP is waiting for an answer",
    );
}

#[test]
fn core_3_2_2_logout_response_status_required_accepted() {
    for r in all_responses(both(&response(), Some(SP_REQUEST), now())) {
        assert_eq!(r.status(), SUCCESS);
        assert_eq!(r.second_level_status(), None);
    }
}

#[test]
fn core_3_2_2_logout_response_status_required_refused() {
    let status = format!("<samlp:Status><samlp:StatusCode Value=\"{SUCCESS}\"/></samlp:Status>");
    for (replacement, needle) in [
        ("", "the Status element is missing"),
        (
            "<samlp:Status></samlp:Status>",
            "the StatusCode element is missing",
        ),
        (
            "<samlp:Status><samlp:StatusCode/></samlp:Status>",
            "the Value attribute is missing",
        ),
    ] {
        let xml = edit(&response(), &status, replacement);
        assert_all_refused(both(&xml, Some(SP_REQUEST), now()), "malformed", needle);
    }
    // The status is signed content: a failure turned into Success after signing is refused.
    let failed = edit(
        &response(),
        &format!("Value=\"{SUCCESS}\""),
        "Value=\"urn:oasis:names:tc:SAML:2.0:status:Responder\"",
    );
    let forged = edit(
        &xml_signed(&failed),
        "urn:oasis:names:tc:SAML:2.0:status:Responder",
        SUCCESS,
    );
    assert_refused(
        validator().process_post(&b64(&forged), Some(SP_REQUEST), now()),
        "digest_mismatch",
        "LogoutResponse signature is not valid",
        "POST",
    );
}

#[test]
fn core_3_2_2_2_logout_response_complete_logout_is_success() {
    // A complete logout: success.
    for r in all_responses(both(&response(), Some(SP_REQUEST), now())) {
        assert!(r.success());
        assert!(!r.partial_logout());
    }
}

#[test]
fn core_3_2_2_2_logout_response_partial_logout_is_not_success() {
    // A partial logout is surfaced (not an error: the IdP answered), and is not success.
    let partial = edit(
        &response(),
        &format!("<samlp:StatusCode Value=\"{SUCCESS}\"/>"),
        &format!(
            "<samlp:StatusCode Value=\"{SUCCESS}\"><samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:PartialLogout\"/></samlp:StatusCode>\
             <samlp:StatusMessage>Could not reach https://wiki.example.com</samlp:StatusMessage>"
        ),
    );
    for r in all_responses(both(&partial, Some(SP_REQUEST), now())) {
        assert!(!r.success());
        assert!(r.partial_logout());
        assert_eq!(r.status(), SUCCESS);
        assert_eq!(
            r.second_level_status(),
            Some("urn:oasis:names:tc:SAML:2.0:status:PartialLogout")
        );
        assert_eq!(
            r.status_message(),
            Some("Could not reach https://wiki.example.com")
        );
    }
    // A failure is reported the same way.
    let failed = edit(
        &response(),
        &format!("Value=\"{SUCCESS}\""),
        "Value=\"urn:oasis:names:tc:SAML:2.0:status:Responder\"",
    );
    for r in all_responses(both(&failed, Some(SP_REQUEST), now())) {
        assert!(!r.success());
        assert!(!r.partial_logout());
        assert_eq!(r.status(), "urn:oasis:names:tc:SAML:2.0:status:Responder");
    }
}

fn jane() -> fedkit_saml::NameId {
    fedkit_saml::NameId {
        value: "jane.doe@example.com".into(),
        format: None,
        name_qualifier: None,
        sp_name_qualifier: None,
    }
}

fn logout_sp() -> ServiceProvider {
    ServiceProvider::new(
        "https://app.example.com/saml/metadata",
        ["https://app.example.com/saml/acs"],
    )
    .unwrap()
}

#[test]
fn profiles_4_4_4_1_sp_logout_request_names_a_session_index_accepted() {
    // The session the assertion started is named: the SessionIndex is required by the type.
    let request = fedkit_saml::logout::OutgoingLogout::request(
        &logout_sp(),
        "https://sso.jumpcloud.com/saml2/slo",
        &jane(),
        "_session-31d8",
        [7; 20],
        Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap(),
    );
    let doc = fedkit_xmldsig::Document::parse(request.xml()).unwrap();
    let indexes: Vec<_> = doc
        .root_element()
        .children()
        .filter(|c| c.tag_name().name() == "SessionIndex")
        .map(|c| c.text().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(indexes, ["_session-31d8"]);
}

#[test]
fn profiles_4_4_4_1_sp_logout_request_names_a_session_index_refused() {
    // A session participant's LogoutRequest must name at least one SessionIndex. The
    // ordinary constructor cannot leave it out (it takes `&str`, not an Option); the one way
    // to send a request naming no session is the dangerous_ constructor, for IdPs whose
    // assertions carry none.
    let without = fedkit_saml::logout::OutgoingLogout::dangerous_request_without_session_index(
        &logout_sp(),
        "https://sso.jumpcloud.com/saml2/slo",
        &jane(),
        [7; 20],
        Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap(),
    );
    assert!(!without.xml().contains("SessionIndex"), "{}", without.xml());
    let with = fedkit_saml::logout::OutgoingLogout::request(
        &logout_sp(),
        "https://sso.jumpcloud.com/saml2/slo",
        &jane(),
        "_s",
        [7; 20],
        Utc.with_ymd_and_hms(2026, 11, 22, 11, 0, 0).unwrap(),
    );
    assert!(with.xml().contains("<samlp:SessionIndex>_s</samlp:SessionIndex>"));
}

// Refusals at the Single Logout URL are worded for logout, not for a login Response.

#[test]
fn logout_refusals_are_worded_for_logout_not_for_a_login_response() {
    let v = validator();
    // A login Response posted to the SLO URL: not a logout message, and the message says where
    // Responses go.
    let login = format!("<samlp:Response xmlns:samlp=\"{SAMLP}\" ID=\"_r\" Version=\"2.0\" IssueInstant=\"2026-11-22T11:00:00Z\"/>");
    let err = v.process_post(&b64(&login), None, now()).unwrap_err();
    assert_eq!(err.code(), "not_a_logout_message", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("LogoutRequest or LogoutResponse") && text.contains("ACS URL"),
        "{text}"
    );
    assert!(!text.contains("expected a SAML 2.0 samlp:Response"), "{text}");

    // Not base64: the same code as at the ACS, but no advice about posting a SAMLResponse.
    let err = v.process_post("PHNhbWxw$$$", None, now()).unwrap_err();
    assert_eq!(err.code(), "bad_base64", "{err}");
    assert!(err.to_string().contains("logout message"), "{err}");
    assert!(!err.to_string().contains("SAMLResponse form value"), "{err}");

    // A Signature query parameter that is not base64 names that parameter.
    let query = redirect(&request());
    let (signed, _) = query.split_once("&Signature=").unwrap();
    let err = v
        .process_redirect(&format!("{signed}&Signature=%24%24%24"), None, now())
        .unwrap_err();
    assert_eq!(err.code(), "bad_base64", "{err}");
    assert!(err.to_string().contains("Signature value"), "{err}");

    // Not XML: the logout message, not "the SAML Response".
    let err = v
        .process_post(&b64("<samlp:LogoutRequest"), None, now())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the logout message is not acceptable XML"),
        "{err}"
    );
    assert!(!err.to_string().contains("SAML Response"), "{err}");

    // An expired LogoutRequest does not speak of a login.
    let err = v
        .process_post(&post(&request()), None, at(11, 30, 0))
        .unwrap_err();
    assert_eq!(err.code(), "expired", "{err}");
    assert!(err.to_string().contains("LogoutRequest"), "{err}");
    assert!(!err.to_string().contains("login"), "{err}");
}
