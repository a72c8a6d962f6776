//! The Response the login page posts to the SP: the unsigned XML shaped like JumpCloud's,
//! the signature per `--sign`, and the deliberate faults a developer can ask for.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use fedkit_xmldsig::crypto::AwsLcRs;

use fedkit_saml::bindings::escape as xml_escape;

use super::super::html::LoginContext;
use super::super::users::User;
use super::{id_from, random_bytes, refused, timestamp, Idp, Refused, SignMode, MAX_ID_BYTES};
use super::{
    ASSERTION_LIFETIME_SECONDS, NAME_ID_EMAIL, NOT_BEFORE_BACKDATE_SECONDS, SAMLP_NS, SAML_NS, STATUS_SUCCESS,
};

/// The random IDs of one Response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseIds {
    pub(crate) response: [u8; fedkit_saml::request::ID_RANDOM_BYTES],
    pub(crate) assertion: [u8; fedkit_saml::request::ID_RANDOM_BYTES],
    pub(crate) session: [u8; fedkit_saml::request::ID_RANDOM_BYTES],
}

impl ResponseIds {
    pub(crate) fn random() -> Self {
        Self {
            response: random_bytes(),
            assertion: random_bytes(),
            session: random_bytes(),
        }
    }
}

/// A deliberate defect the login page can ask for, so that a developer (or a browser test)
/// can watch the SP refuse a bad Response and check the page it shows (also asked for by the
/// headless endpoint and [`TestIdp::respond`](crate::idp::TestIdp::respond)). The default is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fault {
    /// A correct Response.
    #[default]
    None,
    /// Signed correctly, but issued an hour ago: every time window has closed.
    Expired,
    /// Signed, then the NameID changed (as an attacker editing a captured Response would).
    Tampered,
    /// Signed correctly, for another audience (as if configured for another SP).
    WrongAudience,
    /// No signature at all.
    Unsigned,
    /// A correct Response whose `AuthnStatement` has no `SessionIndex`, as some IdPs send:
    /// the login is valid, but the SP's LogoutRequest cannot name the session (SAML Profiles
    /// §4.4.4.1), so an SP ends only its own session.
    NoSessionIndex,
}

impl Fault {
    /// Every fault, in the order the login page lists them.
    pub(crate) const ALL: [Fault; 6] = [
        Fault::None,
        Fault::Expired,
        Fault::Tampered,
        Fault::WrongAudience,
        Fault::Unsigned,
        Fault::NoSessionIndex,
    ];

    /// The name the login page's form and the headless endpoint use (`none`, `expired`,
    /// `tampered`, `wrong-audience`, `unsigned`, `no-session-index`).
    pub fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Expired => "expired",
            Fault::Tampered => "tampered",
            Fault::WrongAudience => "wrong-audience",
            Fault::Unsigned => "unsigned",
            Fault::NoSessionIndex => "no-session-index",
        }
    }

    /// What the login page shows.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Fault::None => "a correct Response",
            Fault::Expired => "an expired Response",
            Fault::Tampered => "a tampered Response (NameID changed after signing)",
            Fault::WrongAudience => "a Response for another audience",
            Fault::Unsigned => "an unsigned Response",
            Fault::NoSessionIndex => {
                "a correct Response without a SessionIndex (Single Logout cannot name the session)"
            }
        }
    }

    /// The fault with this [`name`](Self::name), if any.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The fault a form value names; an absent or empty value is [`Fault::None`].
    pub(crate) fn parse(value: Option<&str>) -> Result<Fault, Refused> {
        match value.unwrap_or_default() {
            "" => Ok(Fault::None),
            v => Fault::ALL.into_iter().find(|f| f.name() == v).ok_or_else(|| {
                refused(
                    "bad_fault",
                    format!(
                        "unknown fault {v:?}; one of: {}",
                        Fault::ALL.map(Fault::name).join(", ")
                    ),
                )
            }),
        }
    }
}

/// How far back an expired Response is dated.
const EXPIRED_BY_SECONDS: i64 = 3600;

/// The audience of a [`Fault::WrongAudience`] Response.
pub(crate) const WRONG_AUDIENCE: &str = "https://another-sp.invalid/saml/metadata";

/// Checks the login page's post (it comes back from the browser, so nothing in it is
/// trusted: the user must be listed and the ACS URL registered) and builds the signed
/// Response, base64 for the form.
#[cfg(test)]
pub(crate) fn login(
    idp: &Idp,
    email: &str,
    context: &LoginContext,
    now: DateTime<Utc>,
    ids: ResponseIds,
) -> Result<String, Refused> {
    login_with_fault(idp, email, context, now, ids, Fault::None)
}

/// Checks the login page's post (it comes back from the browser, so nothing in it is
/// trusted: the user must be listed and the ACS URL registered) and builds the signed
/// Response, base64 for the form, with the deliberate defect `fault` (usually none).
pub(crate) fn login_with_fault(
    idp: &Idp,
    email: &str,
    context: &LoginContext,
    now: DateTime<Utc>,
    ids: ResponseIds,
    fault: Fault,
) -> Result<String, Refused> {
    let user = idp.user(email).ok_or_else(|| {
        refused(
            "unknown_user",
            format!("{email:?} is not one of this IdP's users (--users)"),
        )
    })?;
    if !idp.sp.has_acs(&context.acs_url) {
        return Err(refused(
            "acs_url_not_registered",
            format!("{:?} is not an ACS URL of the SP", context.acs_url),
        ));
    }
    if let Some(id) = &context.request_id {
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(refused("bad_message", "the request ID is empty or too long"));
        }
    }
    let issued = match fault {
        Fault::Expired => now - Duration::seconds(EXPIRED_BY_SECONDS),
        _ => now,
    };
    let mut xml = response_xml(idp, user, context, issued, ids);
    if fault == Fault::NoSessionIndex {
        xml = replace_once(&xml, &format!(" SessionIndex=\"{}\"", id_from(ids.session)), "")?;
    }
    if fault == Fault::WrongAudience {
        xml = replace_once(
            &xml,
            &format!(
                "<saml2:Audience>{}</saml2:Audience>",
                xml_escape(&idp.sp.entity_id)
            ),
            &format!("<saml2:Audience>{WRONG_AUDIENCE}</saml2:Audience>"),
        )?;
    }
    let signed = match fault {
        Fault::Unsigned => xml,
        _ => sign_response(idp, &xml, &id_from(ids.response), &id_from(ids.assertion))?,
    };
    let signed = if fault == Fault::Tampered {
        let name_id = format!(">{}</saml2:NameID>", xml_escape(&user.email));
        replace_once(&signed, &name_id, ">admin@tampered.invalid</saml2:NameID>")?
    } else {
        signed
    };
    Ok(base64::engine::general_purpose::STANDARD.encode(signed))
}

/// `text` with the one occurrence of `from` replaced (an internal error when it is missing,
/// rather than a fault that silently did nothing).
fn replace_once(text: &str, from: &str, to: &str) -> Result<String, Refused> {
    if text.matches(from).count() != 1 {
        return Err(refused(
            "fault_failed",
            format!("cannot apply the fault: {from:?} does not occur exactly once"),
        ));
    }
    Ok(text.replacen(from, to, 1))
}

/// The unsigned Response for `user`, shaped like JumpCloud's: email NameID, attributes
/// email/firstName/lastName (and memberOf when the user has groups).
pub(crate) fn response_xml(
    idp: &Idp,
    user: &User,
    context: &LoginContext,
    now: DateTime<Utc>,
    ids: ResponseIds,
) -> String {
    let issuer = xml_escape(&idp.entity_id);
    let acs = xml_escape(&context.acs_url);
    let in_response_to = context
        .request_id
        .as_deref()
        .map(|id| format!(" InResponseTo=\"{}\"", xml_escape(id)))
        .unwrap_or_default();
    let issued = timestamp(now);
    let not_before = timestamp(now - Duration::seconds(NOT_BEFORE_BACKDATE_SECONDS));
    let not_on_or_after = timestamp(now + Duration::seconds(ASSERTION_LIFETIME_SECONDS));
    let attribute = |name: &str, values: &[&str]| {
        let values: String = values
            .iter()
            .map(|v| {
                format!(
                    "<saml2:AttributeValue xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                     xsi:type=\"xs:string\">{}</saml2:AttributeValue>",
                    xml_escape(v)
                )
            })
            .collect();
        format!(
            "<saml2:Attribute Name=\"{name}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified\">\
             {values}</saml2:Attribute>"
        )
    };
    let mut attributes = attribute("email", &[&user.email]);
    attributes.push_str(&attribute("firstName", &[&user.first_name]));
    attributes.push_str(&attribute("lastName", &[&user.last_name]));
    if !user.groups.is_empty() {
        let groups: Vec<&str> = user.groups.iter().map(String::as_str).collect();
        attributes.push_str(&attribute("memberOf", &groups));
    }
    format!(
        "<saml2p:Response xmlns:saml2p=\"{SAMLP_NS}\" Destination=\"{acs}\" ID=\"{response_id}\"{in_response_to} \
         IssueInstant=\"{issued}\" Version=\"2.0\">\
         <saml2:Issuer xmlns:saml2=\"{SAML_NS}\">{issuer}</saml2:Issuer>\
         <saml2p:Status><saml2p:StatusCode Value=\"{STATUS_SUCCESS}\"/></saml2p:Status>\
         <saml2:Assertion xmlns:saml2=\"{SAML_NS}\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" ID=\"{assertion_id}\" \
         IssueInstant=\"{issued}\" Version=\"2.0\">\
         <saml2:Issuer>{issuer}</saml2:Issuer>\
         <saml2:Subject><saml2:NameID Format=\"{NAME_ID_EMAIL}\">{email}</saml2:NameID>\
         <saml2:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
         <saml2:SubjectConfirmationData{in_response_to} NotOnOrAfter=\"{not_on_or_after}\" Recipient=\"{acs}\"/>\
         </saml2:SubjectConfirmation></saml2:Subject>\
         <saml2:Conditions NotBefore=\"{not_before}\" NotOnOrAfter=\"{not_on_or_after}\">\
         <saml2:AudienceRestriction><saml2:Audience>{audience}</saml2:Audience></saml2:AudienceRestriction>\
         </saml2:Conditions>\
         <saml2:AuthnStatement AuthnInstant=\"{issued}\" SessionIndex=\"{session}\">\
         <saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified\
         </saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>\
         <saml2:AttributeStatement>{attributes}</saml2:AttributeStatement>\
         </saml2:Assertion></saml2p:Response>",
        response_id = id_from(ids.response),
        assertion_id = id_from(ids.assertion),
        session = id_from(ids.session),
        email = xml_escape(&user.email),
        audience = xml_escape(&idp.sp.entity_id),
    )
}

fn sign_element(idp: &Idp, xml: &str, id: &str) -> Result<String, Refused> {
    fedkit_xmldsig::sign::sign_enveloped(
        xml,
        id,
        Some((SAML_NS, "Issuer")),
        &idp.key,
        Some(&idp.certificate_der),
        &AwsLcRs,
    )
    .map_err(|e| refused("signing_failed", format!("cannot sign {id}: {e}")))
}

/// Signs a Response per the `--sign` mode: the assertion first, so that with `both` the
/// Response signature covers the signed assertion.
pub(crate) fn sign_response(
    idp: &Idp,
    xml: &str,
    response_id: &str,
    assertion_id: &str,
) -> Result<String, Refused> {
    match idp.sign {
        SignMode::Assertion => sign_element(idp, xml, assertion_id),
        SignMode::Response => sign_element(idp, xml, response_id),
        SignMode::Both => sign_element(idp, &sign_element(idp, xml, assertion_id)?, response_id),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn an_sp_initiated_login_verifies_at_the_sp_in_every_sign_mode() {
        for mode in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
            let idp = idp(mode, None, None);
            let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [9; 20], now());
            let url = request.redirect_url(Some(RelayState::new("/dashboard?tab=2").unwrap()));
            let incoming = from_redirect(&idp.sp, redirect_query(&url), "SAMLRequest");
            let context = incoming.and_then(|i| authn_request(&idp, &i));
            assert_eq!(
                context,
                Ok(LoginContext {
                    request_id: Some(request.id().to_owned()),
                    acs_url: ACS.to_owned(),
                    relay_state: Some("/dashboard?tab=2".to_owned()),
                })
            );
            let Ok(context) = context else { continue };
            let form_value = login(&idp, "jane.doe@example.com", &context, now(), ids(1));
            let Ok(form_value) = form_value else {
                unreachable!("{form_value:?}")
            };
            let replay = InMemoryReplayCache::new(10);
            let verified =
                validator(&idp, false).process_post(&form_value, Some(request.id()), now(), &replay);
            let Ok(assertion) = verified else {
                unreachable!("{mode:?}: {verified:?}")
            };
            assert_eq!(assertion.name_id().value, "jane.doe@example.com");
            assert_eq!(assertion.name_id().format.as_deref(), Some(NAME_ID_EMAIL));
            assert_eq!(assertion.first_value("firstName"), Some("Jane"));
            assert_eq!(assertion.first_value("lastName"), Some("Doe"));
            assert_eq!(
                assertion.attribute("memberOf"),
                Some(&["Engineering".to_owned(), "SSO Admins".to_owned()][..])
            );
            assert_eq!(assertion.in_response_to(), Some(request.id()));
            assert_eq!(assertion.session_index(), Some(id_from([3; 20]).as_str()));
            let signed = assertion.signed();
            let expected: &[fedkit_saml::SignedPart] = match mode {
                SignMode::Assertion => &[fedkit_saml::SignedPart::Assertion],
                SignMode::Response => &[fedkit_saml::SignedPart::Response],
                SignMode::Both => &[
                    fedkit_saml::SignedPart::Response,
                    fedkit_saml::SignedPart::Assertion,
                ],
            };
            let mut sorted = signed.to_vec();
            sorted.sort_by_key(|p| format!("{p:?}"));
            let mut expected = expected.to_vec();
            expected.sort_by_key(|p| format!("{p:?}"));
            assert_eq!(sorted, expected, "{mode:?}");
        }
    }

    #[test]
    fn an_idp_initiated_response_has_no_in_response_to_and_needs_allow_unsolicited() {
        let idp = idp(SignMode::Response, None, None);
        let context = LoginContext {
            request_id: None,
            acs_url: ACS.to_owned(),
            relay_state: None,
        };
        let value = login(&idp, "john.smith@example.com", &context, now(), ids(5)).unwrap_or_default();
        let replay = InMemoryReplayCache::new(10);
        let refused = validator(&idp, false).process_post(&value, None, now(), &replay);
        assert_eq!(refused.err().map(|e| e.code()), Some("unsolicited"));
        let accepted = validator(&idp, true).process_post(&value, None, now(), &replay);
        assert!(
            accepted.is_ok_and(|a| a.name_id().value == "john.smith@example.com"
                && a.in_response_to().is_none()
                && a.attribute("memberOf") == Some(&["Engineering".to_owned()][..]))
        );
    }

    #[test]
    fn the_response_expires_after_its_lifetime() {
        let idp = idp(SignMode::Both, None, None);
        let context = LoginContext {
            request_id: Some("_r1".to_owned()),
            acs_url: ACS.to_owned(),
            relay_state: None,
        };
        let value = login(&idp, "jane.doe@example.com", &context, now(), ids(7)).unwrap_or_default();
        let replay = InMemoryReplayCache::new(10);
        let later = now() + Duration::seconds(ASSERTION_LIFETIME_SECONDS + 121);
        let err = validator(&idp, false).process_post(&value, Some("_r1"), later, &replay);
        assert_eq!(err.err().map(|e| e.code()), Some("expired"));
    }

    #[test]
    fn each_fault_is_refused_by_fedkit_for_its_own_reason() {
        for mode in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
            let idp = idp(mode, None, None);
            let context = LoginContext {
                request_id: None,
                acs_url: ACS.to_owned(),
                relay_state: None,
            };
            for (fault, code) in [
                (Fault::None, None),
                (Fault::Expired, Some("expired")),
                (Fault::Tampered, Some("digest_mismatch")),
                (Fault::WrongAudience, Some("audience_mismatch")),
                (Fault::Unsigned, Some("unsigned")),
                // Not a refusal: a valid login that names no session.
                (Fault::NoSessionIndex, None),
            ] {
                let value = login_with_fault(&idp, "jane.doe@example.com", &context, now(), ids(11), fault);
                let Ok(value) = value else {
                    unreachable!("{fault:?}: {value:?}")
                };
                let replay = InMemoryReplayCache::new(10);
                let verdict = validator(&idp, true).process_post(&value, None, now(), &replay);
                assert_eq!(
                    verdict.as_ref().err().map(|e| e.code()),
                    code,
                    "{mode:?} {fault:?}: {verdict:?}"
                );
                if let Ok(assertion) = &verdict {
                    let expected = (fault != Fault::NoSessionIndex).then(|| id_from(ids(11).session));
                    assert_eq!(
                        assertion.session_index(),
                        expected.as_deref(),
                        "{mode:?} {fault:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn fault_names_round_trip_and_unknown_ones_are_refused() {
        for fault in Fault::ALL {
            assert_eq!(Fault::parse(Some(fault.name())), Ok(fault));
        }
        assert_eq!(Fault::parse(None), Ok(Fault::None));
        assert_eq!(Fault::parse(Some("")), Ok(Fault::None));
        assert_eq!(Fault::parse(Some("evil")).map_err(|r| r.code), Err("bad_fault"));
    }

    #[test]
    fn values_from_users_json_are_escaped_in_the_xml() {
        let mut idp = idp(SignMode::Response, None, None);
        idp.users = vec![User {
            email: "x&y@example.com".to_owned(),
            first_name: "<b>".to_owned(),
            last_name: "\"q\"".to_owned(),
            groups: vec!["a&b".to_owned()],
        }];
        let context = LoginContext {
            request_id: None,
            acs_url: ACS.to_owned(),
            relay_state: None,
        };
        let value = login(&idp, "x&y@example.com", &context, now(), ids(9)).unwrap_or_default();
        let replay = InMemoryReplayCache::new(10);
        let assertion = validator(&idp, true).process_post(&value, None, now(), &replay);
        let Ok(assertion) = assertion else {
            unreachable!("{assertion:?}")
        };
        assert_eq!(assertion.name_id().value, "x&y@example.com");
        assert_eq!(assertion.first_value("firstName"), Some("<b>"));
        assert_eq!(assertion.first_value("lastName"), Some("\"q\""));
        assert_eq!(assertion.first_value("memberOf"), Some("a&b"));
    }

    #[test]
    fn the_login_post_is_not_trusted() {
        let idp = idp(SignMode::Response, None, None);
        let context = LoginContext {
            request_id: None,
            acs_url: "https://evil.test/acs".to_owned(),
            relay_state: None,
        };
        let err = login(&idp, "jane.doe@example.com", &context, now(), ids(1))
            .err()
            .map(|r| r.code);
        assert_eq!(err, Some("acs_url_not_registered"));
        let context = LoginContext {
            acs_url: ACS.to_owned(),
            ..context
        };
        let err = login(&idp, "mallory@example.com", &context, now(), ids(1))
            .err()
            .map(|r| r.code);
        assert_eq!(err, Some("unknown_user"));
    }
}
