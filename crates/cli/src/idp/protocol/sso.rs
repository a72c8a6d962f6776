//! One login without a browser: what the login page and its button do together, for the
//! headless JSON endpoint and the library form ([`crate::idp::TestIdp`]). The AuthnRequest
//! goes through the same reading and checks as over HTTP, the Response through the same
//! builder, signer and faults.

use chrono::{DateTime, Utc};

use fedkit_saml::bindings::{self, percent_encode};

use super::super::html::LoginContext;
use super::request::{authn_request, check_relay_state, from_post, from_redirect, Incoming};
use super::response::{login_with_fault, Fault, ResponseIds};
use super::{refused, Idp, Refused, MAX_MESSAGE_BYTES};

/// What the auto-submitting form would post to the SP: the ACS URL, the `SAMLResponse`
/// value (base64 of the signed Response) and the `RelayState` to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Posted {
    pub(crate) acs_url: String,
    pub(crate) saml_response: String,
    pub(crate) relay_state: Option<String>,
}

/// The AuthnRequest as the SP sent it, in any of the forms a test has at hand:
/// - the HTTP-Redirect URL or its query string (`...SAMLRequest=...&RelayState=...&SigAlg=...
///   &Signature=...`): read exactly as over HTTP, query signature included;
/// - the `SAMLRequest` value of an HTTP-POST form (base64 of the XML, signed or not);
/// - the `SAMLRequest` value of an HTTP-Redirect URL alone (base64 of the deflated XML): it
///   has no query signature, so an SP that must sign its requests is refused.
fn incoming(idp: &Idp, saml_request: &str, relay_state: Option<&str>) -> Result<Incoming, Refused> {
    let saml_request = saml_request.trim();
    if saml_request.contains("SAMLRequest=") {
        let query = saml_request.split_once('?').map_or(saml_request, |(_, q)| q);
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        let mut incoming = from_redirect(&idp.sp, query, "SAMLRequest")?;
        match (&incoming.relay_state, relay_state.filter(|r| !r.is_empty())) {
            (Some(in_query), Some(given)) if in_query != given => {
                return Err(refused(
                    "relay_state_conflict",
                    "the Redirect query carries a RelayState and relay_state gives another: give one of them",
                ))
            }
            (None, Some(given)) => incoming.relay_state = check_relay_state(Some(given.to_owned()))?,
            _ => {}
        }
        return Ok(incoming);
    }
    let relay = relay_state
        .map(|r| format!("&RelayState={}", percent_encode(r)))
        .unwrap_or_default();
    let form = format!("SAMLRequest={}{relay}", percent_encode(saml_request));
    let pairs = super::split_pairs(&form)?;
    // A POST value is base64 of the XML itself; a Redirect value is base64 of raw DEFLATE.
    let is_xml = bindings::decode_post("SAMLRequest", saml_request, MAX_MESSAGE_BYTES).is_ok_and(|xml| {
        xml.iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<')
            || xml.starts_with(b"\xEF\xBB\xBF<")
    });
    if is_xml {
        from_post(&pairs, "SAMLRequest")
    } else {
        from_redirect(&idp.sp, &form, "SAMLRequest")
    }
}

/// Logs `user` in without a browser: answers `saml_request` (SP-initiated; see [`incoming`]
/// for the forms it may take) or, without one, starts an IdP-initiated login to `sp` (the
/// SP entity ID, which must be the one this IdP serves, when given) at its default ACS
/// URL. The Response is built, signed and faulted exactly as by the login page.
#[allow(clippy::too_many_arguments)]
pub(crate) fn respond(
    idp: &Idp,
    saml_request: Option<&str>,
    relay_state: Option<&str>,
    sp: Option<&str>,
    user: &str,
    fault: Fault,
    now: DateTime<Utc>,
    ids: ResponseIds,
) -> Result<Posted, Refused> {
    if let Some(sp) = sp.filter(|sp| *sp != idp.sp.entity_id) {
        return Err(refused(
            "unknown_sp",
            format!(
                "sp is {sp:?} but this IdP serves the SP entity ID {:?} (--sp-entity-id or the SP metadata)",
                idp.sp.entity_id
            ),
        ));
    }
    let context = match saml_request {
        Some(request) => authn_request(idp, &incoming(idp, request, relay_state)?)?,
        None => LoginContext {
            request_id: None,
            acs_url: idp.sp.default_acs().to_owned(),
            relay_state: check_relay_state(relay_state.map(str::to_owned))?,
        },
    };
    let saml_response = login_with_fault(idp, user, &context, now, ids, fault)?;
    Ok(Posted {
        acs_url: context.acs_url,
        saml_response,
        relay_state: context.relay_state,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    const USER: &str = "jane.doe@example.com";

    fn respond_to(
        idp: &Idp,
        request: Option<&str>,
        relay: Option<&str>,
        fault: Fault,
    ) -> Result<Posted, Refused> {
        respond(idp, request, relay, None, USER, fault, now(), ids(1))
    }

    #[test]
    fn every_form_of_the_authn_request_is_answered_like_the_login_page_would() {
        let idp = idp(SignMode::Response, None, None);
        let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [6; 20], now());
        let url = request.redirect_url(Some(RelayState::new("/after").unwrap()));
        let value = field(
            &split_pairs(redirect_query(&url)).unwrap_or_default(),
            "SAMLRequest",
        )
        .unwrap_or_default();
        let post_value = base64::engine::general_purpose::STANDARD.encode(request.to_xml());
        for (form, relay) in [
            (url.as_str(), None),
            (redirect_query(&url), Some("/after")),
            (value.as_str(), Some("/after")),
            (post_value.as_str(), Some("/after")),
        ] {
            let posted = respond_to(&idp, Some(form), relay, Fault::None);
            let Ok(posted) = posted else {
                unreachable!("{form}: {posted:?}")
            };
            assert_eq!(posted.acs_url, ACS);
            assert_eq!(posted.relay_state.as_deref(), Some("/after"), "{form}");
            let replay = InMemoryReplayCache::new(10);
            let verified = validator(&idp, false).process_post(
                &posted.saml_response,
                Some(request.id()),
                now(),
                &replay,
            );
            assert!(verified.is_ok(), "{form}: {verified:?}");
        }
        // The same Response the login page's button produces.
        let context = LoginContext {
            request_id: Some(request.id().to_owned()),
            acs_url: ACS.to_owned(),
            relay_state: Some("/after".to_owned()),
        };
        assert_eq!(
            respond_to(&idp, Some(&url), None, Fault::None).map(|p| p.saml_response),
            login_with_fault(&idp, USER, &context, now(), ids(1), Fault::None)
        );
    }

    #[test]
    fn an_idp_initiated_login_goes_to_the_default_acs() {
        let idp = idp(SignMode::Both, None, None);
        let posted = respond(
            &idp,
            None,
            Some("/home"),
            Some(SP_ID),
            USER,
            Fault::None,
            now(),
            ids(2),
        );
        let Ok(posted) = posted else {
            unreachable!("{posted:?}")
        };
        assert_eq!(
            (posted.acs_url.as_str(), posted.relay_state.as_deref()),
            (ACS, Some("/home"))
        );
        let replay = InMemoryReplayCache::new(10);
        let verified = validator(&idp, true).process_post(&posted.saml_response, None, now(), &replay);
        assert!(verified.is_ok_and(|a| a.in_response_to().is_none()));
        let other = respond(
            &idp,
            None,
            None,
            Some("https://other.test"),
            USER,
            Fault::None,
            now(),
            ids(2),
        );
        assert_eq!(other.err().map(|r| r.code), Some("unknown_sp"));
    }

    #[test]
    fn requests_are_refused_for_the_same_reasons_as_over_http() {
        let idp = idp(SignMode::Response, Some(SP_CERT), None);
        let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [6; 20], now());
        let code = |form: &str, relay: Option<&str>| {
            respond_to(&idp, Some(form), relay, Fault::None)
                .err()
                .map(|r| r.code)
        };
        // This SP must sign: an unsigned Redirect URL, and a bare Redirect value (which
        // cannot carry the query signature), are refused; the signed URL is answered.
        let url = request.redirect_url(None);
        assert_eq!(code(&url, None), Some("unsigned_request"));
        let value = field(
            &split_pairs(redirect_query(&url)).unwrap_or_default(),
            "SAMLRequest",
        )
        .unwrap_or_default();
        assert_eq!(code(&value, None), Some("unsigned_request"));
        let sp_key = SigningKey::from_pem(SP_KEY).unwrap_or_else(|_| unreachable!());
        let signed = request
            .signed_redirect_url(
                Some(RelayState::new("r").unwrap()),
                &sp_key,
                &fedkit_xmldsig::crypto::AwsLcRs,
            )
            .unwrap_or_default();
        assert_eq!(code(&signed, None), None);
        assert_eq!(code(&signed, Some("other")), Some("relay_state_conflict"));
        // Before anything is decoded, an SP that must sign gets the signature refusal.
        assert_eq!(code("not base64 at all", None), Some("unsigned_request"));
        let open = super::super::test_support::idp(SignMode::Response, None, None);
        let garbage = respond_to(&open, Some("not base64 at all"), None, Fault::None);
        assert_eq!(garbage.err().map(|r| r.code), Some("bad_message"));
        let unknown_user = respond(
            &idp,
            Some(&signed),
            None,
            None,
            "mallory@example.com",
            Fault::None,
            now(),
            ids(1),
        );
        assert_eq!(unknown_user.err().map(|r| r.code), Some("unknown_user"));
    }

    #[test]
    fn faults_are_the_login_pages() {
        let idp = idp(SignMode::Response, None, None);
        let posted = respond_to(&idp, None, None, Fault::WrongAudience);
        let Ok(posted) = posted else {
            unreachable!("{posted:?}")
        };
        let replay = InMemoryReplayCache::new(10);
        let verdict = validator(&idp, true).process_post(&posted.saml_response, None, now(), &replay);
        assert_eq!(verdict.err().map(|e| e.code()), Some("audience_mismatch"));
    }
}
