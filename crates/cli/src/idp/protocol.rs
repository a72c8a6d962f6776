//! The SAML side of the test IdP, without I/O: its metadata, reading AuthnRequests and
//! LogoutRequests (HTTP-Redirect and HTTP-POST, signatures checked against the SP
//! certificate), and building signed Responses and LogoutResponses. The server module only
//! moves bytes between HTTP and these functions.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::{AlgorithmPolicy, Document, Limits, SigningKey, Verifier};

use fedkit_saml::bindings::{self, escape as xml_escape, percent_decode, BindingError, RedirectMessage};

use super::html::LoginContext;
use super::sp::{SloBinding, SpConfig, BINDING_POST, BINDING_REDIRECT};
use super::users::User;

pub(crate) const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub(crate) const NAME_ID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
const NAME_ID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// Largest SAML message accepted (decoded, and inflated for the Redirect binding).
pub(crate) const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Longest RelayState accepted, in bytes. (SAML Bindings §3.4.3 asks SPs for at most 80;
/// real SPs send more, so the IdP is lenient but bounded.)
pub(crate) const MAX_RELAY_STATE_BYTES: usize = 1024;
/// Longest request ID accepted, in bytes.
const MAX_ID_BYTES: usize = 256;
/// How long an issued assertion can be used (Conditions and SubjectConfirmationData
/// `NotOnOrAfter`).
pub(crate) const ASSERTION_LIFETIME_SECONDS: i64 = 300;
/// How far `NotBefore` is back-dated, for SPs whose clock is slightly behind.
pub(crate) const NOT_BEFORE_BACKDATE_SECONDS: i64 = 60;

/// Which part of the Response carries the signature: JumpCloud's "Sign" setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SignMode {
    /// The Assertion only (JumpCloud: "Assertion").
    Assertion,
    /// The Response only, covering its assertion (JumpCloud: "Response", its default).
    Response,
    /// The Assertion, then the Response over it (JumpCloud: "Assertion and Response").
    Both,
}

/// The test IdP: its names and URLs, the SP it serves, its users and its key.
#[derive(Debug)]
pub(crate) struct Idp {
    /// `http://host:port`, no trailing slash.
    pub(crate) base_url: String,
    /// The path segment after `/saml2/`.
    pub(crate) app: String,
    /// The IdP entity ID (JumpCloud: "IdP Entity ID").
    pub(crate) entity_id: String,
    pub(crate) sp: SpConfig,
    pub(crate) users: Vec<User>,
    pub(crate) sign: SignMode,
    pub(crate) key: SigningKey,
    pub(crate) certificate_der: Vec<u8>,
}

/// Why the IdP refused a request: a stable code and a message for the developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

/// The `name=value` pairs of a query string or urlencoded form, still encoded. A name given
/// twice is refused (which one would count?).
pub(crate) fn split_pairs(query: &str) -> Result<Vec<(&str, &str)>, Refused> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(refused(
                "duplicate_parameter",
                format!("the parameter {:?} appears twice", percent_decode(name)),
            ));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// The decoded value of `name` among `pairs`.
pub(crate) fn field(pairs: &[(&str, &str)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| percent_decode(v))
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `_` and 32 hex digits from 16 random bytes (fedkit-saml's message IDs).
pub(crate) use fedkit_saml::request::message_id as id_from;

/// 16 bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes() -> [u8; 16] {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Idp {
    /// The SSO URL (JumpCloud: "IDP URL"), for both bindings.
    pub(crate) fn sso_url(&self) -> String {
        format!("{}{}", self.base_url, self.sso_path())
    }

    /// The path of the SSO URL.
    pub(crate) fn sso_path(&self) -> String {
        format!("/saml2/{}", self.app)
    }

    /// The Single Logout URL, for both bindings.
    pub(crate) fn slo_url(&self) -> String {
        format!("{}{}/slo", self.base_url, self.sso_path())
    }

    /// Where the login page's buttons post (a path, so the page works under any host name).
    pub(crate) fn login_path(&self) -> String {
        format!("{}/login", self.sso_path())
    }

    /// The metadata URL.
    pub(crate) fn metadata_url(&self) -> String {
        format!("{}/metadata", self.base_url)
    }

    /// The IdP metadata document, shaped like JumpCloud's "Export Metadata": entity ID, the
    /// signing certificate, SLO and SSO endpoints for HTTP-Redirect and HTTP-POST, and the
    /// emailAddress NameID format.
    pub(crate) fn metadata_xml(&self) -> String {
        let certificate = base64::engine::general_purpose::STANDARD.encode(&self.certificate_der);
        let sso = xml_escape(&self.sso_url());
        let slo = xml_escape(&self.slo_url());
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <md:EntityDescriptor xmlns:md=\"{MD_NS}\" entityID=\"{}\">\n\
             \x20 <md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" protocolSupportEnumeration=\"{SAMLP_NS}\">\n\
             \x20   <md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"{DS_NS}\"><ds:X509Data>\
             <ds:X509Certificate>{certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n\
             \x20   <md:SingleLogoutService Binding=\"{BINDING_REDIRECT}\" Location=\"{slo}\"/>\n\
             \x20   <md:SingleLogoutService Binding=\"{BINDING_POST}\" Location=\"{slo}\"/>\n\
             \x20   <md:NameIDFormat>{NAME_ID_EMAIL}</md:NameIDFormat>\n\
             \x20   <md:SingleSignOnService Binding=\"{BINDING_REDIRECT}\" Location=\"{sso}\"/>\n\
             \x20   <md:SingleSignOnService Binding=\"{BINDING_POST}\" Location=\"{sso}\"/>\n\
             \x20 </md:IDPSSODescriptor>\n\
             </md:EntityDescriptor>\n",
            xml_escape(&self.entity_id),
        )
    }

    /// The user with this email (exact match), if listed.
    pub(crate) fn user(&self, email: &str) -> Option<&User> {
        self.users.iter().find(|u| u.email == email)
    }
}

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
    relay_state: Option<String>,
    binding: Binding,
}

fn check_relay_state(relay_state: Option<String>) -> Result<Option<String>, Refused> {
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
fn read_checked<T>(
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
    let issuer: Option<String> = root
        .children()
        .find(|c| c.tag_name().namespace() == Some(SAML_NS) && c.tag_name().name() == "Issuer")
        .map(|c| {
            c.descendants()
                .filter(|n| n.is_text())
                .filter_map(|n| n.text())
                .collect::<String>()
                .trim()
                .to_owned()
        });
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
        let name_id = root
            .children()
            .find(|c| c.tag_name().namespace() == Some(SAML_NS) && c.tag_name().name() == "NameID")
            .map(|c| {
                c.descendants()
                    .filter(|n| n.is_text())
                    .filter_map(|n| n.text())
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .filter(|v| !v.is_empty())
            .ok_or_else(|| refused("bad_message", "the LogoutRequest has no NameID"))?;
        Ok(LogoutRequest {
            id: id.to_owned(),
            name_id,
            relay_state: incoming.relay_state.clone(),
        })
    })
}

/// The random IDs of one Response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseIds {
    pub(crate) response: [u8; 16],
    pub(crate) assertion: [u8; 16],
    pub(crate) session: [u8; 16],
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
/// can watch the SP refuse a bad Response and check the page it shows. The default is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Fault {
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
}

impl Fault {
    /// Every fault, in the order the login page lists them.
    pub(crate) const ALL: [Fault; 5] = [
        Fault::None,
        Fault::Expired,
        Fault::Tampered,
        Fault::WrongAudience,
        Fault::Unsigned,
    ];

    /// The form value.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::None => "none",
            Fault::Expired => "expired",
            Fault::Tampered => "tampered",
            Fault::WrongAudience => "wrong-audience",
            Fault::Unsigned => "unsigned",
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
        }
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
    random: [u8; 16],
) -> Result<LogoutDelivery, Refused> {
    let Some(slo) = &idp.sp.slo else {
        return Ok(LogoutDelivery::Nowhere);
    };
    let id = id_from(random);
    let xml = format!(
        "<samlp:LogoutResponse xmlns:samlp=\"{SAMLP_NS}\" xmlns:saml=\"{SAML_NS}\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{}\" Destination=\"{}\" InResponseTo=\"{}\"><saml:Issuer>{}</saml:Issuer>\
         <samlp:Status><samlp:StatusCode Value=\"{STATUS_SUCCESS}\"/></samlp:Status></samlp:LogoutResponse>",
        timestamp(now),
        xml_escape(&slo.url),
        xml_escape(&request.id),
        xml_escape(&idp.entity_id),
    );
    match slo.binding {
        SloBinding::Post => Ok(LogoutDelivery::Post {
            url: slo.url.clone(),
            saml_response: base64::engine::general_purpose::STANDARD.encode(sign_element(idp, &xml, &id)?),
            relay_state: request.relay_state.clone(),
        }),
        SloBinding::Redirect => Ok(LogoutDelivery::Redirect(signed_redirect(
            idp,
            &slo.url,
            "SAMLResponse",
            &xml,
            request.relay_state.as_deref(),
        )?)),
    }
}

/// The HTTP-Redirect binding URL for `xml` with the query signature (SAML Bindings
/// §3.4.4.1, RSA-SHA256 for the IdP's RSA key), built by fedkit-saml's bindings module.
fn signed_redirect(
    idp: &Idp,
    destination: &str,
    parameter: &str,
    xml: &str,
    relay_state: Option<&str>,
) -> Result<String, Refused> {
    bindings::signed_redirect_url(destination, parameter, xml, relay_state, &idp.key, &AwsLcRs)
        .map_err(|_| refused("signing_failed", "cannot sign the LogoutResponse"))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use fedkit_saml::bindings::percent_encode;
    use fedkit_saml::request::AuthnRequest;
    use fedkit_saml::{IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider, Settings};
    use fedkit_xmldsig::TrustedKeys;

    use super::super::sp;
    use super::super::users::demo_users;
    use super::*;

    const SP_ID: &str = "https://sp.test/metadata";
    const ACS: &str = "https://sp.test/acs";
    const IDP_KEY: &str = include_str!("../../../saml/tests/data/keys/idp.key.pem");
    const IDP_CERT: &str = include_str!("../../../saml/tests/data/keys/idp.crt.pem");
    const SP_KEY: &str = include_str!("../../../saml/tests/data/keys/sp.key.pem");
    const SP_CERT: &str = include_str!("../../../saml/tests/data/keys/sp.crt.pem");

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn idp(sign: SignMode, sp_cert: Option<&str>, slo: Option<&str>) -> Idp {
        let sp = sp::from_flags(SP_ID, &[ACS.to_owned()], slo, sp_cert.map(|c| ("sp.pem", c)));
        let cert = TrustedKeys::from_pem(IDP_CERT).ok();
        let der = cert
            .as_ref()
            .and_then(|k| k.keys().first())
            .and_then(|k| k.certificate_der())
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let (Ok(sp), Ok(key)) = (sp, SigningKey::from_pem(IDP_KEY)) else {
            unreachable!("test configuration")
        };
        Idp {
            base_url: "http://127.0.0.1:7000".to_owned(),
            app: "fedkit-test".to_owned(),
            entity_id: "http://127.0.0.1:7000/saml2/fedkit-test".to_owned(),
            sp,
            users: demo_users(),
            sign,
            key,
            certificate_der: der,
        }
    }

    fn service_provider() -> ServiceProvider {
        ServiceProvider::new(SP_ID, [ACS]).unwrap_or_else(|_| unreachable!())
    }

    fn validator(idp: &Idp, allow_unsolicited: bool) -> ResponseValidator {
        let keys = TrustedKeys::from_pem(IDP_CERT).unwrap_or_else(|_| unreachable!());
        let identity = IdentityProvider::new(&idp.entity_id, keys).unwrap_or_else(|_| unreachable!());
        let settings = Settings::default().with_idp_initiated(allow_unsolicited);
        ResponseValidator::with_settings(service_provider(), identity, settings)
    }

    fn ids(n: u8) -> ResponseIds {
        ResponseIds {
            response: [n; 16],
            assertion: [n + 1; 16],
            session: [n + 2; 16],
        }
    }

    fn redirect_query(url: &str) -> &str {
        url.split_once('?').map(|(_, q)| q).unwrap_or_default()
    }

    #[test]
    fn an_sp_initiated_login_verifies_at_the_sp_in_every_sign_mode() {
        for mode in [SignMode::Assertion, SignMode::Response, SignMode::Both] {
            let idp = idp(mode, None, None);
            let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [9; 16], now());
            let url = request.redirect_url(Some("/dashboard?tab=2"));
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
            assert_eq!(assertion.session_index(), Some(id_from([3; 16]).as_str()));
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

    #[test]
    fn authn_requests_are_checked_against_the_sp() {
        let idp = idp(SignMode::Response, None, None);
        let check = |sp_id: &str, acs: &str, sso: &str| {
            let sp = ServiceProvider::new(sp_id, [acs]).unwrap_or_else(|_| unreachable!());
            let url = AuthnRequest::new(&sp, sso, [1; 16], now()).redirect_url(None);
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
        let request = AuthnRequest::new(&service_provider(), &sso, [1; 16], now())
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
        let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [4; 16], now());
        let read = |query: &str| {
            from_redirect(&idp.sp, query, "SAMLRequest")
                .and_then(|i| authn_request(&idp, &i))
                .map(|c| c.request_id)
                .map_err(|r| r.code)
        };
        // Redirect: signed by the SP key, by another key, unsigned.
        let signed = request
            .signed_redirect_url(Some("r"), &sp_key, &AwsLcRs)
            .unwrap_or_default();
        assert_eq!(read(redirect_query(&signed)), Ok(Some(request.id().to_owned())));
        let wrong = request
            .signed_redirect_url(Some("r"), &other_key, &AwsLcRs)
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
                Some("_s"),
                [2; 16],
                now(),
            );
            let url = outgoing
                .signed_redirect_url(Some("/bye"), &sp_key, &AwsLcRs)
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
            let answer = logout_response(&idp, &request, now(), [3; 16]);
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
            logout_response(&idp, &request, now(), [1; 16]),
            Ok(LogoutDelivery::Nowhere)
        );
    }

    #[test]
    fn the_metadata_imports_with_fedkit_metadata() {
        use fedkit_metadata::{Binding, IdpMetadata, ImportSettings, SignaturePolicy};
        let idp = idp(SignMode::Response, None, None);
        let options = ImportSettings::new(SignaturePolicy::NotRequired).dangerous_allow_http_endpoints();
        let imported = IdpMetadata::from_xml(idp.metadata_xml().as_bytes(), &options, now());
        let Ok(imported) = imported else {
            unreachable!("{imported:?}")
        };
        assert_eq!(imported.entity_id(), idp.entity_id);
        assert_eq!(
            imported
                .sso_endpoint(&Binding::HttpRedirect)
                .map(|e| e.location.clone()),
            Some(idp.sso_url())
        );
        assert_eq!(
            imported
                .sso_endpoint(&Binding::HttpPost)
                .map(|e| e.location.clone()),
            Some(idp.sso_url())
        );
        assert_eq!(imported.slo().len(), 2);
        assert_eq!(imported.name_id_formats(), &[NAME_ID_EMAIL.to_owned()]);
        assert_eq!(
            imported
                .signing_certificates()
                .map(|c| c.der().to_vec())
                .collect::<Vec<_>>(),
            vec![idp.certificate_der.clone()]
        );
    }

    #[test]
    fn pairs_skip_empty_parts_and_keep_values_encoded() {
        let pairs = split_pairs("a=1&&b=&c").unwrap_or_default();
        assert_eq!(pairs, vec![("a", "1"), ("b", ""), ("c", "")]);
    }

    #[test]
    fn an_overlong_relay_state_is_refused() {
        let idp = idp(SignMode::Response, None, None);
        let request = AuthnRequest::new(&service_provider(), &idp.sso_url(), [1; 16], now());
        let long = "x".repeat(MAX_RELAY_STATE_BYTES + 1);
        let url = request.redirect_url(Some(&long));
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
