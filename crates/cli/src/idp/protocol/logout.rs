//! Single Logout at the IdP: reading the SP's LogoutRequest and answering it with a signed
//! LogoutResponse over the SP's SLO binding.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use fedkit_xmldsig::crypto::AwsLcRs;

use fedkit_saml::logout::LogoutResponseBuilder;
use fedkit_saml::RelayState;

use super::super::sp::SloBinding;
use super::request::{read_checked, saml_child_text, Incoming};
use super::{refused, Idp, Refused};

/// A LogoutRequest from the SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogoutRequest {
    pub(crate) id: String,
    pub(crate) name_id: String,
    pub(crate) relay_state: Option<String>,
}

/// Reads a LogoutRequest.
pub(crate) fn logout_request(idp: &Idp, incoming: &Incoming) -> Result<LogoutRequest, Refused> {
    read_checked(idp, incoming, "LogoutRequest", &idp.slo_url(), |root, id| {
        let name_id = saml_child_text(root, "NameID")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| refused("bad_message", "the LogoutRequest has no NameID"))?;
        Ok(LogoutRequest {
            id: id.to_owned(),
            name_id,
            relay_state: incoming.relay_state.clone(),
        })
    })
}

/// How the LogoutResponse travels back to the SP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogoutDelivery {
    /// An auto-submitting form to `url` with the XML-signed LogoutResponse (base64).
    Post {
        url: String,
        saml_response: String,
        relay_state: Option<String>,
    },
    /// A redirect to this URL (query-signed LogoutResponse).
    Redirect(String),
    /// The SP has no Single Logout URL: nothing to send.
    Nowhere,
}

/// The signed LogoutResponse (Success) answering `request`, for the SP's SLO endpoint.
pub(crate) fn logout_response(
    idp: &Idp,
    request: &LogoutRequest,
    now: DateTime<Utc>,
    random: [u8; fedkit_saml::request::ID_RANDOM_BYTES],
) -> Result<LogoutDelivery, Refused> {
    let Some(slo) = &idp.sp.slo else {
        return Ok(LogoutDelivery::Nowhere);
    };
    // One LogoutResponse writer for the SP and the IdP side: fedkit-saml's.
    let response = LogoutResponseBuilder::new(&idp.entity_id, &slo.url, &request.id).build(random, now);
    let signing_failed = |e: fedkit_saml::request::SignError| {
        refused("signing_failed", format!("cannot sign the LogoutResponse: {e}"))
    };
    match slo.binding {
        SloBinding::Post => {
            let signed = response
                .signed_xml(&idp.key, Some(&idp.certificate_der), &AwsLcRs)
                .map_err(signing_failed)?;
            Ok(LogoutDelivery::Post {
                url: slo.url.clone(),
                saml_response: base64::engine::general_purpose::STANDARD.encode(signed),
                relay_state: request.relay_state.clone(),
            })
        }
        // The query signature (SAML Bindings §3.4.4.1, RSA-SHA256 for the IdP's RSA key).
        SloBinding::Redirect => Ok(LogoutDelivery::Redirect(
            response
                // The SP's RelayState goes back exactly as it came (Bindings §3.4.3).
                .signed_redirect_url(
                    request.relay_state.as_deref().map(RelayState::echo),
                    &idp.key,
                    &AwsLcRs,
                )
                .map_err(signing_failed)?,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn logout_round_trip_over_both_sp_bindings() {
        use fedkit_saml::logout::{LogoutMessage, LogoutValidator, OutgoingLogout};
        let sp_key = SigningKey::from_pem(SP_KEY).unwrap_or_else(|_| unreachable!());
        for (binding, slo) in [
            (SloBinding::Post, "https://sp.test/slo"),
            (SloBinding::Redirect, "https://sp.test/slo"),
        ] {
            let mut idp = idp(SignMode::Response, Some(SP_CERT), Some(slo));
            if let Some(s) = idp.sp.slo.as_mut() {
                s.binding = binding;
            }
            let name_id = fedkit_saml::NameId {
                value: "jane.doe@example.com".to_owned(),
                format: Some(NAME_ID_EMAIL.to_owned()),
                name_qualifier: None,
                sp_name_qualifier: None,
            };
            let outgoing = OutgoingLogout::request(
                &service_provider(),
                &idp.slo_url(),
                &name_id,
                "_s",
                [2; 20],
                now(),
            );
            let url = outgoing
                .signed_redirect_url(Some(RelayState::new("/bye").unwrap()), &sp_key, &AwsLcRs)
                .unwrap_or_default();
            let request = from_redirect(&idp.sp, redirect_query(&url), "SAMLRequest")
                .and_then(|i| logout_request(&idp, &i));
            assert_eq!(
                request,
                Ok(LogoutRequest {
                    id: outgoing.id().to_owned(),
                    name_id: "jane.doe@example.com".to_owned(),
                    relay_state: Some("/bye".to_owned()),
                })
            );
            let Ok(request) = request else { continue };
            let keys = TrustedKeys::from_pem(IDP_CERT).unwrap_or_else(|_| unreachable!());
            let identity = IdentityProvider::new(&idp.entity_id, keys).unwrap_or_else(|_| unreachable!());
            let validator = LogoutValidator::new(service_provider(), identity, slo, Settings::default());
            let answer = logout_response(&idp, &request, now(), [3; 20]);
            let message = match answer {
                Ok(LogoutDelivery::Post {
                    url,
                    saml_response,
                    relay_state,
                }) => {
                    assert_eq!(
                        (binding, url.as_str(), relay_state.as_deref()),
                        (SloBinding::Post, slo, Some("/bye"))
                    );
                    validator.process_post(&saml_response, Some(outgoing.id()), now())
                }
                Ok(LogoutDelivery::Redirect(url)) => {
                    assert_eq!(binding, SloBinding::Redirect);
                    assert!(url.contains("&RelayState=%2Fbye&SigAlg="));
                    validator.process_redirect(redirect_query(&url), Some(outgoing.id()), now())
                }
                other => unreachable!("{other:?}"),
            };
            assert!(
                matches!(&message, Ok(LogoutMessage::Response(r)) if r.success() && r.in_response_to() == outgoing.id()),
                "{binding:?}: {message:?}"
            );
        }
    }

    #[test]
    fn without_an_sp_slo_url_nothing_is_sent() {
        let idp = idp(SignMode::Response, None, None);
        let request = LogoutRequest {
            id: "_l".to_owned(),
            name_id: "jane.doe@example.com".to_owned(),
            relay_state: None,
        };
        assert_eq!(
            logout_response(&idp, &request, now(), [1; 20]),
            Ok(LogoutDelivery::Nowhere)
        );
    }
}
