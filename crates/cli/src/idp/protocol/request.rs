//! Requests arriving at the IdP: taking a message out of its binding (HTTP-Redirect with
//! its query signature, HTTP-POST), the checks every request gets (XML, signature, Issuer,
//! Destination, ID) and reading an AuthnRequest into the login page's context.

use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::{AlgorithmPolicy, Document, Limits, Verifier};

use fedkit_saml::bindings::{self, BindingError, RedirectMessage};

use super::super::html::LoginContext;
use super::super::sp::{SpConfig, BINDING_POST};
use super::{
    field, refused, split_pairs, Idp, Refused, MAX_ID_BYTES, MAX_MESSAGE_BYTES, MAX_RELAY_STATE_BYTES,
};
use super::{NAME_ID_EMAIL, NAME_ID_UNSPECIFIED, SAMLP_NS, SAML_NS};

/// How a request message arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binding {
    /// In the query string: the query signature, if any, was checked while decoding.
    Redirect { signature_verified: bool },
    /// In a form: an XML signature, if any, is checked on the parsed document.
    Post,
}

/// A request message taken out of its binding.
#[derive(Debug)]
pub(crate) struct Incoming {
    xml: Vec<u8>,
    pub(super) relay_state: Option<String>,
    binding: Binding,
}

pub(super) fn check_relay_state(relay_state: Option<String>) -> Result<Option<String>, Refused> {
    match relay_state {
        Some(r) if r.len() > MAX_RELAY_STATE_BYTES => Err(refused(
            "relay_state_too_long",
            format!(
                "the RelayState is {} bytes; this IdP accepts at most {MAX_RELAY_STATE_BYTES} \
                 (SAML Bindings asks for at most 80): keep a short key and look the value up on return",
                r.len()
            ),
        )),
        Some(r) if r.is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn verifier(sp: &SpConfig) -> Option<Verifier> {
    sp.signing_keys
        .as_ref()
        .map(|keys| Verifier::new(keys.clone(), AlgorithmPolicy::default()).with_provider(&AwsLcRs))
}

/// Takes `parameter` (`SAMLRequest`) out of an HTTP-Redirect query string (raw, still
/// URL-encoded): checks the query signature over the parameters exactly as received when
/// the SP's certificate is known, inflates the message with a size cap.
pub(crate) fn from_redirect(sp: &SpConfig, raw_query: &str, parameter: &str) -> Result<Incoming, Refused> {
    // Stricter than the binding: any parameter given twice is refused, not only SAML's.
    split_pairs(raw_query)?;
    let missing = || {
        refused(
            "missing_parameter",
            format!("the query string has no {parameter} parameter"),
        )
    };
    let message = RedirectMessage::parse(raw_query).map_err(|e| match e {
        BindingError::MissingMessage => missing(),
        other => refused("bad_message", other.to_string()),
    })?;
    if message.parameter() != parameter {
        return Err(missing());
    }
    let signature_verified = match (message.signature_parameters(), verifier(sp)) {
        ((false, false), _) | ((true, true), None) => false,
        ((true, true), Some(verifier)) => {
            message.verify(&verifier).map_err(|e| match e {
                BindingError::SignatureBase64 { reason } => refused(
                    "bad_signature",
                    format!("the Signature parameter is not base64: {reason}"),
                ),
                BindingError::Signature(e) => refused(
                    "bad_signature",
                    format!(
                        "the query signature does not verify with the SP certificate: {e}. \
                         Check that the SP signs with the key of the certificate in its metadata (or --sp-cert)"
                    ),
                ),
                other => refused("bad_signature", other.to_string()),
            })?;
            true
        }
        _ => {
            return Err(refused(
                "bad_signature",
                "the query has only one of SigAlg and Signature: a signed Redirect message needs both",
            ))
        }
    };
    if sp.requests_must_be_signed && !signature_verified {
        return Err(unsigned());
    }
    let xml = message.inflate(MAX_MESSAGE_BYTES).map_err(|e| match e {
        BindingError::Inflate { source, .. } => refused("bad_message", format!("{parameter}: {source}")),
        other => refused("bad_message", other.to_string()),
    })?;
    Ok(Incoming {
        xml,
        relay_state: check_relay_state(message.relay_state())?,
        binding: Binding::Redirect { signature_verified },
    })
}

/// Takes `parameter` out of the fields of an HTTP-POST form (base64, not compressed).
pub(crate) fn from_post(pairs: &[(&str, &str)], parameter: &'static str) -> Result<Incoming, Refused> {
    let value = field(pairs, parameter)
        .ok_or_else(|| refused("missing_parameter", format!("the form has no {parameter} field")))?;
    let xml = bindings::decode_post(parameter, &value, MAX_MESSAGE_BYTES).map_err(|e| match e {
        BindingError::TooLarge { .. } => refused(
            "message_too_large",
            format!("{parameter} is larger than {MAX_MESSAGE_BYTES} bytes"),
        ),
        BindingError::Base64 { reason, .. } => {
            refused("bad_message", format!("{parameter} is not base64: {reason}"))
        }
        other => refused("bad_message", other.to_string()),
    })?;
    Ok(Incoming {
        xml,
        relay_state: check_relay_state(field(pairs, "RelayState"))?,
        binding: Binding::Post,
    })
}

fn unsigned() -> Refused {
    refused(
        "unsigned_request",
        "the request is not signed, but the SP's metadata says AuthnRequestsSigned=\"true\" (or --sp-cert was \
         given): sign AuthnRequests and LogoutRequests with the SP key, or drop the flag",
    )
}

/// Parses the message, checks that it is a SAML 2.0 `expected` element from this SP for
/// `destination`, and that its signature (when present or required) verifies; then hands
/// the root element to `read`.
pub(super) fn read_checked<T>(
    idp: &Idp,
    incoming: &Incoming,
    expected: &'static str,
    destination: &str,
    read: impl FnOnce(Node<'_, '_>, &str) -> Result<T, Refused>,
) -> Result<T, Refused> {
    let limits = Limits::default().with_max_bytes(MAX_MESSAGE_BYTES);
    let doc = Document::parse_bytes_with_limits(&incoming.xml, &limits).map_err(|e| {
        refused(
            "bad_message",
            format!("the {expected} is not acceptable XML: {e}"),
        )
    })?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(SAMLP_NS) || root.tag_name().name() != expected {
        return Err(refused(
            "unexpected_message",
            format!(
                "expected a samlp:{expected}, got {{{}}}{}",
                root.tag_name().namespace().unwrap_or_default(),
                root.tag_name().name()
            ),
        ));
    }
    if incoming.binding == Binding::Post {
        let has_signature = root.children().any(fedkit_xmldsig::is_signature);
        match verifier(&idp.sp) {
            Some(verifier) if has_signature => {
                verifier.verify_enveloped(&doc, root).map_err(|e| {
                    refused(
                        "bad_signature",
                        format!(
                            "the {expected}'s XML signature does not verify with the SP certificate: {e}"
                        ),
                    )
                })?;
            }
            _ if idp.sp.requests_must_be_signed => return Err(unsigned()),
            _ => {}
        }
    }
    if root.attribute("Version") != Some("2.0") {
        return Err(refused(
            "bad_message",
            format!("the {expected} is not SAML 2.0 (Version=\"2.0\")"),
        ));
    }
    let id = root
        .attribute("ID")
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_ID_BYTES
                && !id.chars().any(|c| c.is_whitespace() || c.is_control())
        })
        .ok_or_else(|| {
            refused(
                "bad_message",
                format!("the {expected} has no usable ID attribute"),
            )
        })?;
    let issuer = saml_child_text(root, "Issuer");
    if issuer.as_deref() != Some(idp.sp.entity_id.as_str()) {
        return Err(refused(
            "unknown_sp",
            format!(
                "the {expected}'s Issuer is {} but this IdP serves the SP entity ID {:?}: make the SP's entity ID \
                 and the IdP's \"SP Entity ID\" (--sp-entity-id or the SP metadata) the same",
                issuer.map_or_else(|| "missing".to_owned(), |i| format!("{i:?}")),
                idp.sp.entity_id
            ),
        ));
    }
    if let Some(found) = root.attribute("Destination") {
        if found != destination {
            return Err(refused(
                "destination_mismatch",
                format!(
                    "the {expected}'s Destination is {found:?} but this endpoint is {destination:?}: \
                     configure the SP with the URL from this IdP's metadata"
                ),
            ));
        }
    }
    read(root, id)
}

/// The trimmed text of the first `saml:<name>` child of `element`, if there is one.
pub(super) fn saml_child_text(element: Node<'_, '_>, name: &str) -> Option<String> {
    element
        .children()
        .find(|c| c.tag_name().namespace() == Some(SAML_NS) && c.tag_name().name() == name)
        .map(|c| {
            c.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<String>()
                .trim()
                .to_owned()
        })
}

/// Reads an AuthnRequest into what the login page needs.
pub(crate) fn authn_request(idp: &Idp, incoming: &Incoming) -> Result<LoginContext, Refused> {
    read_checked(idp, incoming, "AuthnRequest", &idp.sso_url(), |root, id| {
        if let Some(binding) = root.attribute("ProtocolBinding") {
            if binding != BINDING_POST {
                return Err(refused(
                    "unsupported_binding",
                    format!(
                        "the AuthnRequest asks for the Response over {binding:?}; this IdP (like JumpCloud) \
                         answers over HTTP-POST only"
                    ),
                ));
            }
        }
        let acs_url = match (
            root.attribute("AssertionConsumerServiceURL"),
            root.attribute("AssertionConsumerServiceIndex"),
        ) {
            (Some(url), _) => {
                if !idp.sp.has_acs(url) {
                    return Err(refused(
                        "acs_url_not_registered",
                        format!(
                            "the AuthnRequest asks for the Response at {url:?}, which is not an ACS URL of the SP \
                             (registered: {:?}): add it to the SP metadata or --acs-url, or fix the SP's ACS URL",
                            idp.sp.acs.iter().map(|a| a.url.as_str()).collect::<Vec<_>>()
                        ),
                    ));
                }
                url.to_owned()
            }
            (None, Some(index)) => index
                .parse::<u32>()
                .ok()
                .and_then(|i| idp.sp.acs_by_index(i))
                .ok_or_else(|| {
                    refused(
                        "acs_url_not_registered",
                        format!(
                            "the AuthnRequest names ACS index {index:?}, which the SP metadata does not have"
                        ),
                    )
                })?
                .to_owned(),
            (None, None) => idp.sp.default_acs().to_owned(),
        };
        let policy_format = root
            .children()
            .find(|c| c.tag_name().namespace() == Some(SAMLP_NS) && c.tag_name().name() == "NameIDPolicy")
            .and_then(|p| p.attribute("Format"));
        if let Some(format) = policy_format {
            if format != NAME_ID_EMAIL && format != NAME_ID_UNSPECIFIED {
                return Err(refused(
                    "invalid_name_id_policy",
                    format!(
                        "the AuthnRequest asks for NameID format {format:?}; this IdP issues {NAME_ID_EMAIL:?} \
                         (JumpCloud's SAMLSubject NameID \"email\")"
                    ),
                ));
            }
        }
        Ok(LoginContext {
            request_id: Some(id.to_owned()),
            acs_url,
            relay_state: incoming.relay_state.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn authn_requests_are_checked_against_the_sp() {
        let idp = idp(SignMode::Response, None, None);
        let check = |sp_id: &str, acs: &str, sso: &str| {
            let sp = ServiceProvider::new(sp_id, [acs]).unwrap_or_else(|_| unreachable!());
            let url = AuthnRequest::new(&sp, sso, [1; 20], now()).redirect_url(None);
            from_redirect(&idp.sp, redirect_query(&url), "SAMLRequest")
                .and_then(|i| authn_request(&idp, &i))
                .err()
                .map(|r| (r.code, r.message))
        };
        let sso = idp.sso_url();
        let (code, message) = check("https://other.test", ACS, &sso).unwrap_or_default();
        assert_eq!(code, "unknown_sp");
        assert!(
            message.contains("\"https://other.test\"") && message.contains(SP_ID),
            "{message}"
        );
        let (code, _) = check(SP_ID, "https://sp.test/other-acs", &sso).unwrap_or_default();
        assert_eq!(code, "acs_url_not_registered");
        let (code, _) = check(SP_ID, ACS, "http://127.0.0.1:7000/saml2/other").unwrap_or_default();
        assert_eq!(code, "destination_mismatch");
        // A format other than email is refused, like a misconfigured NameID in JumpCloud.
        let request = AuthnRequest::new(&service_provider(), &sso, [1; 20], now())
            .with_name_id_format("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent");
        let err = from_redirect(
            &idp.sp,
            redirect_query(&request.redirect_url(None)),
            "SAMLRequest",
        )
        .and_then(|i| authn_request(&idp, &i));
        assert_eq!(err.err().map(|r| r.code), Some("invalid_name_id_policy"));
        // Duplicated parameters and missing ones.
        let err = from_redirect(&idp.sp, "SAMLRequest=a&SAMLRequest=b", "SAMLRequest").err();
        assert_eq!(err.map(|r| r.code), Some("duplicate_parameter"));
        let err = from_redirect(&idp.sp, "RelayState=x", "SAMLRequest").err();
        assert_eq!(err.map(|r| r.code), Some("missing_parameter"));
    }

    #[test]
    fn a_compression_bomb_is_refused_cheaply() {
        let idp = idp(SignMode::Response, None, None);
        let bomb = miniz_oxide::deflate::compress_to_vec(&vec![b'a'; 20 * MAX_MESSAGE_BYTES], 9);
        let query = format!(
            "SAMLRequest={}",
            percent_encode(&base64::engine::general_purpose::STANDARD.encode(bomb))
        );
        let err = from_redirect(&idp.sp, &query, "SAMLRequest")
            .err()
            .map(|r| r.code);
        assert_eq!(err, Some("bad_message"));
    }

    #[test]
    fn signed_requests_are_verified_and_required_when_the_sp_has_a_certificate() {
        let idp = idp(SignMode::Response, Some(SP_CERT), None);
        let sp_key = SigningKey::from_pem(SP_KEY).unwrap_or_else(|_| unreachable!());
        let other_key = SigningKey::from_pem(IDP_KEY).unwrap_or_else(|_| unreachable!());
        let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [4; 20], now());
        let read = |query: &str| {
            from_redirect(&idp.sp, query, "SAMLRequest")
                .and_then(|i| authn_request(&idp, &i))
                .map(|c| c.request_id)
                .map_err(|r| r.code)
        };
        // Redirect: signed by the SP key, by another key, unsigned.
        let signed = request
            .signed_redirect_url(Some(RelayState::new("r").unwrap()), &sp_key, &AwsLcRs)
            .unwrap_or_default();
        assert_eq!(read(redirect_query(&signed)), Ok(Some(request.id().to_owned())));
        let wrong = request
            .signed_redirect_url(Some(RelayState::new("r").unwrap()), &other_key, &AwsLcRs)
            .unwrap_or_default();
        assert_eq!(read(redirect_query(&wrong)), Err("bad_signature"));
        let tampered = redirect_query(&signed).replacen("RelayState=r", "RelayState=s", 1);
        assert_eq!(read(&tampered), Err("bad_signature"));
        assert_eq!(
            read(redirect_query(&request.redirect_url(None))),
            Err("unsigned_request")
        );
        // POST: XML-signed, unsigned.
        let post = |xml: &str| {
            let value = percent_encode(&base64::engine::general_purpose::STANDARD.encode(xml));
            let form = format!("SAMLRequest={value}&RelayState=r");
            let pairs = split_pairs(&form)?;
            from_post(&pairs, "SAMLRequest")
                .and_then(|i| authn_request(&idp, &i))
                .map(|c| (c.request_id, c.relay_state))
        };
        let signed_xml = request.signed_xml(&sp_key, None, &AwsLcRs).unwrap_or_default();
        assert_eq!(
            post(&signed_xml),
            Ok((Some(request.id().to_owned()), Some("r".to_owned())))
        );
        assert_eq!(
            post(&request.to_xml()).map_err(|r| r.code),
            Err("unsigned_request")
        );
        let tampered = signed_xml
            .replacen("ForceAuthn", "X", 1)
            .replacen(ACS, "https://sp.test/acs?x", 1);
        assert_eq!(post(&tampered).map_err(|r| r.code), Err("bad_signature"));
    }

    #[test]
    fn an_overlong_relay_state_is_refused() {
        let idp = idp(SignMode::Response, None, None);
        let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [1; 20], now());
        let long = "x".repeat(MAX_RELAY_STATE_BYTES + 1);
        // An SP that sends more than Bindings §3.4.3 allows: fedkit's encoder takes an
        // over-long RelayState only as an echo, so that is how this misbehaving SP is played.
        let url = request.redirect_url(Some(RelayState::echo(&long)));
        let err = from_redirect(&idp.sp, redirect_query(&url), "SAMLRequest")
            .err()
            .map(|r| r.code);
        assert_eq!(err, Some("relay_state_too_long"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever a browser sends to the SSO and SLO URLs, the IdP answers with an error
        /// (never a panic, never a login page for garbage).
        #[test]
        fn arbitrary_queries_and_forms_are_refused(query in "[A-Za-z%=&+/0-9]{0,200}", value in "\\PC{0,300}") {
            let strict = idp(SignMode::Response, Some(SP_CERT), Some("https://sp.test/slo"));
            let open = idp(SignMode::Response, None, None);
            for sp_idp in [&strict, &open] {
                let redirect = from_redirect(&sp_idp.sp, &query, "SAMLRequest");
                proptest::prop_assert!(redirect.and_then(|i| authn_request(sp_idp, &i)).is_err());
                let form = format!("SAMLRequest={}&RelayState=x", percent_encode(&value));
                let pairs = split_pairs(&form);
                proptest::prop_assert!(pairs.is_ok());
                let pairs = pairs.unwrap_or_default();
                proptest::prop_assert!(from_post(&pairs, "SAMLRequest").and_then(|i| logout_request(sp_idp, &i)).is_err());
                let encoded = base64::engine::general_purpose::STANDARD.encode(&value);
                let pairs = [("SAMLRequest", encoded.as_str())];
                proptest::prop_assert!(from_post(&pairs, "SAMLRequest").and_then(|i| authn_request(sp_idp, &i)).is_err());
            }
        }
    }
}
