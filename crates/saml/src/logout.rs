//! Single Logout: building `LogoutRequest`/`LogoutResponse` for the IdP, and verifying the
//! ones the IdP sends, over HTTP-POST (XML signature) or HTTP-Redirect (query signature).

use chrono::{DateTime, Utc};
use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::xmlenc::{self, DecryptionPolicy, XENC_NS};
use fedkit_xmldsig::{
    DecryptionKey, Document, Fingerprint, Limits, SigningKey, VerifiedElement, Verifier, VerifyError,
};

use crate::assertion::NameId;
use crate::bindings::{self, escape as xml_escape, BindingError, RedirectMessage, RelayState};
use crate::config::{IdentityProvider, ServiceProvider, Settings};
use crate::error::{Error, SignedPart};
use crate::request::{message_id, sign_message, SignError, ID_RANDOM_BYTES};
use crate::response::{SAMLP_NS, SAML_NS};
use crate::time::{parse_instant, show};

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// A message this SP sends to the IdP's Single Logout endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingLogout {
    id: String,
    destination: String,
    xml: String,
    parameter: &'static str,
}

impl OutgoingLogout {
    /// A `LogoutRequest` ending the user's session at the IdP (SP-initiated logout), naming
    /// the session by `session_index`: the `SessionIndex` of the assertion that started it
    /// ([`VerifiedAssertion::session_index`](crate::VerifiedAssertion::session_index)), which a
    /// session participant MUST send (SAML Profiles §4.4.4.1). When the IdP's assertion
    /// carried none, end the local session only, or see
    /// [`dangerous_request_without_session_index`](Self::dangerous_request_without_session_index).
    ///
    /// `random` must come from a CSPRNG; keep [`id`](Self::id) to match the IdP's
    /// LogoutResponse.
    pub fn request(
        sp: &ServiceProvider,
        slo_url: &str,
        name_id: &NameId,
        session_index: &str,
        random: [u8; ID_RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Self {
        Self::logout_request(sp, slo_url, name_id, Some(session_index), random, now)
    }

    /// A `LogoutRequest` that names no session, which SAML Profiles §4.4.4.1 forbids a
    /// session participant to send: for an IdP whose assertions carry no `SessionIndex` and
    /// which ends every session of the user when asked this way. The IdP decides what such a
    /// request ends; prefer [`request`](Self::request).
    pub fn dangerous_request_without_session_index(
        sp: &ServiceProvider,
        slo_url: &str,
        name_id: &NameId,
        random: [u8; ID_RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Self {
        Self::logout_request(sp, slo_url, name_id, None, random, now)
    }

    fn logout_request(
        sp: &ServiceProvider,
        slo_url: &str,
        name_id: &NameId,
        session_index: Option<&str>,
        random: [u8; ID_RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Self {
        let id = message_id(random);
        let mut name_id_attrs = String::new();
        for (attr, value) in [
            ("Format", &name_id.format),
            ("NameQualifier", &name_id.name_qualifier),
            ("SPNameQualifier", &name_id.sp_name_qualifier),
        ] {
            if let Some(v) = value {
                name_id_attrs.push_str(&format!(" {attr}=\"{}\"", xml_escape(v)));
            }
        }
        let session = session_index
            .map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", xml_escape(s)))
            .unwrap_or_default();
        let xml = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"{SAMLP_NS}\" xmlns:saml=\"{SAML_NS}\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{}\" Destination=\"{}\"><saml:Issuer>{}</saml:Issuer>\
             <saml:NameID{name_id_attrs}>{}</saml:NameID>{session}</samlp:LogoutRequest>",
            show(now),
            xml_escape(slo_url),
            xml_escape(sp.entity_id()),
            xml_escape(&name_id.value),
        );
        Self {
            id,
            destination: slo_url.to_owned(),
            xml,
            parameter: "SAMLRequest",
        }
    }

    /// The `LogoutResponse` to an IdP-initiated [`LogoutRequest`], after the SP ended the
    /// user's session.
    pub fn response(
        sp: &ServiceProvider,
        slo_url: &str,
        in_response_to: &LogoutRequest,
        random: [u8; ID_RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Self {
        LogoutResponseBuilder::new(sp.entity_id(), slo_url, &in_response_to.id).build(random, now)
    }

    /// The message ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The message XML.
    pub fn xml(&self) -> &str {
        &self.xml
    }

    /// The HTTP-Redirect binding URL (raw DEFLATE, base64, URL-encoded; unsigned).
    pub fn redirect_url(&self, relay_state: Option<RelayState<'_>>) -> String {
        bindings::redirect_url(&self.destination, self.parameter, &self.xml, relay_state)
    }

    /// The message with an enveloped XML signature after its Issuer (HTTP-POST binding).
    pub fn signed_xml(
        &self,
        key: &SigningKey,
        certificate_der: Option<&[u8]>,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SignError> {
        sign_message(&self.xml, &self.id, key, certificate_der, provider)
    }

    /// The HTTP-Redirect binding URL with the RSA-SHA256 query signature (most IdPs require
    /// signed logout messages).
    pub fn signed_redirect_url(
        &self,
        relay_state: Option<RelayState<'_>>,
        key: &SigningKey,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SignError> {
        bindings::signed_redirect_url(
            &self.destination,
            self.parameter,
            &self.xml,
            relay_state,
            key,
            provider,
        )
    }
}

/// A `LogoutResponse` written from its fields, for whichever side answers a LogoutRequest:
/// an SP answering its IdP (what [`OutgoingLogout::response`] does with a verified
/// [`LogoutRequest`]), or an IdP answering an SP (the fedkit CLI's test IdP). The result is
/// an [`OutgoingLogout`], to be signed and sent like any other logout message.
///
/// The status is Success unless [`status`](Self::status) says otherwise.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use fedkit_saml::logout::LogoutResponseBuilder;
///
/// let issued = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
/// // 20 bytes from the host's CSPRNG make the message ID.
/// let response = LogoutResponseBuilder::new(
///     "https://idp.example.org/saml2/acme",  // Issuer: who answers
///     "https://app.example.com/saml/slo",    // Destination: the requester's SLO URL
///     "_sp-logout-1",                        // InResponseTo: the LogoutRequest's ID
/// )
/// .build([0x2a; 20], issued);
/// assert_eq!(response.id(), format!("_{}", "2a".repeat(20)));
/// assert!(response.xml().contains(r#"InResponseTo="_sp-logout-1""#));
/// assert!(response.xml().contains(r#"IssueInstant="2026-11-22T10:00:00Z""#));
/// assert!(response.xml().contains("<saml:Issuer>https://idp.example.org/saml2/acme</saml:Issuer>"));
/// assert!(response.xml().contains("urn:oasis:names:tc:SAML:2.0:status:Success"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutResponseBuilder {
    issuer: String,
    destination: String,
    in_response_to: String,
    status: String,
}

impl LogoutResponseBuilder {
    /// A Success `LogoutResponse` from `issuer` (the answering party's entity ID) to
    /// `destination` (the requester's Single Logout URL), answering the request with ID
    /// `in_response_to`.
    pub fn new(issuer: &str, destination: &str, in_response_to: &str) -> Self {
        Self {
            issuer: issuer.to_owned(),
            destination: destination.to_owned(),
            in_response_to: in_response_to.to_owned(),
            status: STATUS_SUCCESS.to_owned(),
        }
    }

    /// Another top-level status code (a URI, e.g.
    /// `urn:oasis:names:tc:SAML:2.0:status:Requester` when the request could not be honoured).
    pub fn status(mut self, status: &str) -> Self {
        self.status = status.to_owned();
        self
    }

    /// The message, with the ID made from `random` (20 bytes from a CSPRNG, as
    /// [`message_id`]) and `IssueInstant` `issue_instant`.
    pub fn build(&self, random: [u8; ID_RANDOM_BYTES], issue_instant: DateTime<Utc>) -> OutgoingLogout {
        let id = message_id(random);
        let xml = format!(
            "<samlp:LogoutResponse xmlns:samlp=\"{SAMLP_NS}\" xmlns:saml=\"{SAML_NS}\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{}\" Destination=\"{}\" InResponseTo=\"{}\"><saml:Issuer>{}</saml:Issuer>\
             <samlp:Status><samlp:StatusCode Value=\"{}\"/></samlp:Status></samlp:LogoutResponse>",
            show(issue_instant),
            xml_escape(&self.destination),
            xml_escape(&self.in_response_to),
            xml_escape(&self.issuer),
            xml_escape(&self.status),
        );
        OutgoingLogout {
            id,
            destination: self.destination.clone(),
            xml,
            parameter: "SAMLResponse",
        }
    }
}

/// The second-level status code of a logout that did not reach every session participant
/// (SAML Core §3.2.2.2).
const STATUS_PARTIAL_LOGOUT: &str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";
/// The only `Format` an IdP's `Issuer` may carry (SAML Profiles §4.4.4.1, §4.4.4.2).
const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
/// The NameID format whose qualifiers must name its IdP and SP (SAML Core §8.3.7).
const PERSISTENT_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";

/// A verified `LogoutRequest` from the IdP: end the sessions it names, then answer with
/// [`OutgoingLogout::response`]. Only [`LogoutValidator`] makes one, and every value it holds
/// was read from signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutRequest {
    id: String,
    name_id: NameId,
    session_indexes: Vec<String>,
    reason: Option<String>,
    issue_instant: DateTime<Utc>,
    not_on_or_after: Option<DateTime<Utc>>,
    signing_key: Fingerprint,
}

impl LogoutRequest {
    /// The request ID (the `InResponseTo` of the answer).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The user whose sessions end.
    pub fn name_id(&self) -> &NameId {
        &self.name_id
    }

    /// The sessions to end (all of the user's sessions at this SP when empty).
    pub fn session_indexes(&self) -> &[String] {
        &self.session_indexes
    }

    /// Why the user is logged out, when the IdP says (`Reason`, a URI such as
    /// `urn:oasis:names:tc:SAML:2.0:logout:user` or `urn:oasis:names:tc:SAML:2.0:logout:admin`).
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// When the IdP issued the request.
    pub fn issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant
    }

    /// The request's expiry, when given. Until then, an assertion for the same user and
    /// session that arrives after the logout must not start a session (SAML Core §3.7.3.1).
    pub fn not_on_or_after(&self) -> Option<DateTime<Utc>> {
        self.not_on_or_after
    }

    /// The pinned key that verified the signature.
    pub fn signing_key(&self) -> Fingerprint {
        self.signing_key
    }
}

/// A verified `LogoutResponse` from the IdP. Only [`LogoutValidator`] makes one, and every
/// value it holds was read from signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutResponse {
    id: String,
    in_response_to: String,
    success: bool,
    partial_logout: bool,
    status: String,
    second_level_status: Option<String>,
    status_message: Option<String>,
    issue_instant: DateTime<Utc>,
    signing_key: Fingerprint,
}

impl LogoutResponse {
    /// The response ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The request it answers (checked to be one this SP sent and still waits for).
    pub fn in_response_to(&self) -> &str {
        &self.in_response_to
    }

    /// Whether the IdP reports a complete logout: the top-level status is Success and there
    /// is no `PartialLogout` second-level status. When `false`, tell the user they may still
    /// be signed in at the IdP or at other applications.
    pub fn success(&self) -> bool {
        self.success
    }

    /// Whether the IdP reports a partial logout (second-level status `PartialLogout`): it
    /// could not end the session at every application.
    pub fn partial_logout(&self) -> bool {
        self.partial_logout
    }

    /// The top-level status code.
    pub fn status(&self) -> &str {
        &self.status
    }

    /// The second-level status code, when given.
    pub fn second_level_status(&self) -> Option<&str> {
        self.second_level_status.as_deref()
    }

    /// The IdP's `StatusMessage`, when given.
    pub fn status_message(&self) -> Option<&str> {
        self.status_message.as_deref()
    }

    /// When the IdP issued the response.
    pub fn issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant
    }

    /// The pinned key that verified the signature.
    pub fn signing_key(&self) -> Fingerprint {
        self.signing_key
    }
}

/// A verified Single Logout message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogoutMessage {
    /// The IdP asks the SP to end sessions.
    Request(LogoutRequest),
    /// The IdP answers the SP's LogoutRequest.
    Response(LogoutResponse),
}

/// Verifies the Single Logout messages an IdP sends to this SP's SLO URL (SAML Profiles
/// §4.4.4). Every message must be signed: with an XML signature over HTTP-POST, with the
/// query signature over HTTP-Redirect. An unsigned logout request would let anyone log users
/// out. Then, all read from signed content: `Version` 2.0, an `ID`, exactly one `Issuer`
/// naming the IdP (no `Format`, or the entity format), a `Destination` that is this SP's SLO
/// URL, an `IssueInstant` neither in the future nor older than the message lifetime (5
/// minutes) beyond the clock skew; for a LogoutRequest an unexpired `NotOnOrAfter` and exactly
/// one `NameID` or `EncryptedID` (a persistent NameID's qualifiers must name this IdP and SP);
/// for a LogoutResponse an outstanding request it answers and a `Status`.
#[derive(Debug, Clone)]
pub struct LogoutValidator {
    sp: ServiceProvider,
    idp: IdentityProvider,
    slo_url: String,
    settings: Settings,
    verifier: Verifier,
    decryption: Option<(DecryptionKey, DecryptionPolicy)>,
}

/// The logout message a root element is, or the refusal for anything else.
fn message_name(namespace: Option<&str>, local: &str) -> Result<&'static str, Error> {
    match (namespace, local) {
        (Some(SAMLP_NS), "LogoutRequest") => Ok("LogoutRequest"),
        (Some(SAMLP_NS), "LogoutResponse") => Ok("LogoutResponse"),
        _ => Err(Error::NotALogoutMessage {
            found: format!("{{{}}}{local}", namespace.unwrap_or_default()),
        }),
    }
}

fn part_of(name: &str) -> SignedPart {
    if name == "LogoutResponse" {
        SignedPart::LogoutResponse
    } else {
        SignedPart::LogoutRequest
    }
}

impl LogoutValidator {
    /// A validator for messages sent to `slo_url` (this SP's Single Logout URL).
    pub fn new(sp: ServiceProvider, idp: IdentityProvider, slo_url: &str, settings: Settings) -> Self {
        let verifier = Verifier::new(idp.signing_keys().clone(), settings.algorithms().clone());
        Self {
            sp,
            idp,
            slo_url: slo_url.to_owned(),
            settings,
            verifier,
            decryption: None,
        }
    }

    /// Decrypts an encrypted NameID (`EncryptedID`) in the IdP's LogoutRequests with the SP's
    /// private key (the key of the encryption certificate given to the IdP).
    pub fn with_decryption_key(self, key: DecryptionKey) -> Self {
        self.with_decryption_key_and_policy(key, DecryptionPolicy::default())
    }

    /// [`with_decryption_key`](Self::with_decryption_key) with a non-default policy.
    pub fn with_decryption_key_and_policy(mut self, key: DecryptionKey, policy: DecryptionPolicy) -> Self {
        self.decryption = Some((key, policy));
        self
    }

    /// Uses `provider` for signatures and decryption instead of the default one
    /// (`fedkit_xmldsig::crypto::default_provider()`: `AwsLcRs` with the `aws-lc-rs` feature).
    pub fn with_provider(mut self, provider: &'static dyn CryptoProvider) -> Self {
        self.verifier = self.verifier.with_provider(provider);
        self
    }

    /// The `SAMLRequest` or `SAMLResponse` value of an HTTP-POST form (base64).
    /// `request_id` is the ID of the SP's own outstanding LogoutRequest, `None` when there is
    /// none (then a LogoutResponse is refused).
    pub fn process_post(
        &self,
        value: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LogoutMessage, Error> {
        let max = self.settings.max_message_bytes();
        let xml = bindings::decode_post("SAMLRequest/SAMLResponse", value, max).map_err(|e| match e {
            BindingError::TooLarge { max, actual, .. } => Error::TooLarge { max, actual },
            BindingError::Base64 { reason, .. } => Error::LogoutBase64 {
                parameter: "SAMLRequest/SAMLResponse",
                reason,
            },
            other => malformed("form", &other.to_string()),
        })?;
        let doc = self.parse(&xml)?;
        let root = doc.root_element();
        // The unsigned name only selects the refusal's wording; the verified one is used below.
        let name = message_name(root.tag_name().namespace(), root.tag_name().name())?;
        let verified = match self.verifier.verify_enveloped(&doc, root) {
            Ok(verified) => verified,
            Err(VerifyError::MissingSignature { .. }) => {
                return Err(Error::UnsignedLogout {
                    message: name,
                    binding: "HTTP-POST",
                })
            }
            Err(source) => {
                return Err(Error::Signature {
                    part: part_of(name),
                    source,
                })
            }
        };
        let key = verified.info().key_fingerprint;
        self.read(El::Verified(verified.element()), request_id, now, key)
    }

    /// The raw query string of an HTTP-Redirect request to the SLO URL (everything after
    /// `?`, still URL-encoded). The signature covers `SAMLRequest`/`SAMLResponse`,
    /// `RelayState` and `SigAlg` exactly as they appear in the query. The message itself must
    /// not carry an XML signature (SAML Bindings §3.4.4.1).
    pub fn process_redirect(
        &self,
        query: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LogoutMessage, Error> {
        let message = RedirectMessage::parse(query).map_err(|e| malformed("query", &e.to_string()))?;
        let name = message.parameter();
        let expected = if name == "SAMLRequest" {
            "LogoutRequest"
        } else {
            "LogoutResponse"
        };
        let part = part_of(expected);
        let key = message.verify(&self.verifier).map_err(|e| match e {
            BindingError::Unsigned { .. } | BindingError::HalfSigned { .. } => Error::UnsignedLogout {
                message: expected,
                binding: "HTTP-Redirect",
            },
            BindingError::SignatureBase64 { reason } => Error::LogoutBase64 {
                parameter: "Signature",
                reason,
            },
            BindingError::Signature(source) => Error::Signature { part, source },
            other => malformed("query", &other.to_string()),
        })?;
        let xml = message
            .inflate(self.settings.max_message_bytes())
            .map_err(|e| match e {
                BindingError::Inflate { source, .. } => malformed("query", &source.to_string()),
                other => malformed("query", &other.to_string()),
            })?;
        let doc = self.parse(&xml)?;
        let root = doc.root_element();
        let found = message_name(root.tag_name().namespace(), root.tag_name().name())?;
        if found != expected {
            return Err(malformed(
                "query",
                &format!("the {name} parameter carries a {found}"),
            ));
        }
        // The query signature covers the whole message, so an XML signature inside it could
        // only disagree with it: the binding requires it removed, and it is refused.
        if root.children().any(fedkit_xmldsig::is_signature) {
            return Err(Error::RedirectXmlSignature { message: found });
        }
        self.read(El::QuerySigned(root), request_id, now, key)
    }

    fn parse<'i>(&self, xml: &'i [u8]) -> Result<Document<'i>, Error> {
        let limits = Limits::default().with_max_bytes(self.settings.max_message_bytes());
        Document::parse_bytes_with_limits(xml, &limits).map_err(Error::LogoutXml)
    }

    /// The checks common to both messages, then the request's or the response's own; `root`
    /// is signed content only.
    fn read(
        &self,
        root: El<'_, '_>,
        request_id: Option<&str>,
        now: DateTime<Utc>,
        signing_key: Fingerprint,
    ) -> Result<LogoutMessage, Error> {
        let skew = self.settings.skew();
        let name = message_name(root.namespace(), root.local_name())?;
        let part = part_of(name);
        // SAML Core §3.2.1 / §3.2.2: Version and ID are required.
        crate::response::check_version(name, root.attribute("Version"))?;
        let id = root
            .attribute("ID")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed(name, "the ID attribute is missing"))?
            .to_owned();
        // SAML Profiles §4.4.4.1 / §4.4.4.2: one Issuer, the IdP, entity format.
        let issuers = root.children_named(SAML_NS, "Issuer");
        let issuer = match issuers.as_slice() {
            [] => None,
            [one] => Some(*one),
            _ => return Err(malformed(name, "it has more than one Issuer")),
        };
        let issuer_value = issuer.map(|i| i.text().trim().to_owned());
        if issuer_value.as_deref() != Some(self.idp.entity_id()) {
            return Err(Error::Issuer {
                part,
                expected: self.idp.entity_id().to_owned(),
                found: issuer_value,
            });
        }
        if let Some(format) = issuer.and_then(|i| i.attribute("Format")) {
            if format != ENTITY_FORMAT {
                return Err(Error::IssuerFormat {
                    part,
                    format: format.to_owned(),
                });
            }
        }
        // SAML Bindings §3.4.5.2 / §3.5.5.2: a signed message names where it was sent, and
        // that must be here (Core §3.2.1 / §3.2.2).
        match root.attribute("Destination") {
            Some(d) if d == self.slo_url => {}
            found => {
                return Err(Error::LogoutDestination {
                    message: name,
                    expected: self.slo_url.clone(),
                    found: found.map(str::to_owned),
                })
            }
        }
        let issue_instant = root
            .attribute("IssueInstant")
            .ok_or_else(|| malformed(name, "the IssueInstant attribute is missing"))?;
        let issue_instant = parse_instant(issue_instant).ok_or_else(|| {
            malformed(
                name,
                &format!("IssueInstant {issue_instant:?} is not a time with a time zone"),
            )
        })?;
        if name == "LogoutRequest" {
            let not_on_or_after = match root.attribute("NotOnOrAfter") {
                None => None,
                Some(end) => {
                    let end = parse_instant(end).ok_or_else(|| {
                        malformed(
                            name,
                            &format!("NotOnOrAfter {end:?} is not a time with a time zone"),
                        )
                    })?;
                    if crate::time::earlier(now, skew) >= end {
                        return Err(Error::Expired {
                            what: "LogoutRequest (NotOnOrAfter)",
                            not_on_or_after: end,
                            now,
                            skew_seconds: skew.num_seconds(),
                        });
                    }
                    Some(end)
                }
            };
            crate::time::check_age(&self.settings, part, issue_instant, now)?;
            let name_id = self.name_id(root)?;
            return Ok(LogoutMessage::Request(LogoutRequest {
                id,
                name_id,
                session_indexes: root
                    .children_named(SAMLP_NS, "SessionIndex")
                    .iter()
                    .map(|s| s.text().trim().to_owned())
                    .collect(),
                reason: root.attribute("Reason").map(str::to_owned),
                issue_instant,
                not_on_or_after,
                signing_key,
            }));
        }
        crate::time::check_age(&self.settings, part, issue_instant, now)?;
        // SAML Core §3.2.2: InResponseTo names the request answered, which must be the SP's
        // outstanding one.
        let found = root.attribute("InResponseTo").map(str::to_owned);
        let Some(expected) = request_id else {
            return Err(Error::UnexpectedLogoutResponse { found });
        };
        if found.as_deref() != Some(expected) {
            return Err(Error::LogoutInResponseTo {
                expected: expected.to_owned(),
                found,
            });
        }
        // SAML Core §3.2.2: the Status is required, with a top-level StatusCode.
        let status = root
            .child(SAMLP_NS, "Status")
            .ok_or_else(|| malformed(name, "the Status element is missing"))?;
        let code = status
            .child(SAMLP_NS, "StatusCode")
            .ok_or_else(|| malformed("Status", "the StatusCode element is missing"))?;
        let top = code
            .attribute("Value")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed("StatusCode", "the Value attribute is missing"))?
            .to_owned();
        let second_level_status = code
            .child(SAMLP_NS, "StatusCode")
            .and_then(|c| c.attribute("Value"))
            .map(str::to_owned);
        let status_message = status
            .child(SAMLP_NS, "StatusMessage")
            .map(|m| m.text().trim().to_owned());
        let partial_logout = second_level_status.as_deref() == Some(STATUS_PARTIAL_LOGOUT);
        Ok(LogoutMessage::Response(LogoutResponse {
            id,
            in_response_to: expected.to_owned(),
            success: top == STATUS_SUCCESS && !partial_logout,
            partial_logout,
            status: top,
            second_level_status,
            status_message,
            issue_instant,
            signing_key,
        }))
    }

    /// The LogoutRequest's one identifier (SAML Core §3.7.1): a NameID, or an EncryptedID
    /// decrypted with the SP key; a persistent NameID's qualifiers must be this IdP's and
    /// this SP's (Core §8.3.7).
    fn name_id(&self, root: El<'_, '_>) -> Result<NameId, Error> {
        let identifiers: Vec<El<'_, '_>> = root
            .children()
            .into_iter()
            .filter(|c| {
                c.namespace() == Some(SAML_NS)
                    && matches!(c.local_name(), "BaseID" | "NameID" | "EncryptedID")
            })
            .collect();
        let found = || {
            identifiers
                .iter()
                .map(|c| c.local_name().to_owned())
                .collect::<Vec<_>>()
        };
        let [identifier] = identifiers.as_slice() else {
            return Err(Error::LogoutIdentifier { found: found() });
        };
        let name_id = match identifier.local_name() {
            "EncryptedID" => {
                let (key, policy) = self.decryption.as_ref().ok_or(Error::EncryptedNameId)?;
                let (plaintext, namespaces) =
                    identifier.decrypt_encrypted_id(self.verifier.provider(), key, policy)?;
                crate::response::name_id_from_plaintext(
                    plaintext,
                    namespaces.iter().map(|(p, u)| (p.as_deref(), u.as_str())),
                    self.settings.max_message_bytes(),
                )?
            }
            "NameID" => {
                if !identifier.children().is_empty() {
                    return Err(malformed("NameID", "it contains elements"));
                }
                let value = identifier.text().trim().to_owned();
                if value.is_empty() {
                    return Err(malformed("NameID", "it is empty"));
                }
                let attribute = |a: &str| identifier.attribute(a).map(str::to_owned);
                NameId {
                    value,
                    format: attribute("Format"),
                    name_qualifier: attribute("NameQualifier"),
                    sp_name_qualifier: attribute("SPNameQualifier"),
                }
            }
            _ => return Err(Error::LogoutIdentifier { found: found() }),
        };
        if name_id.format.as_deref() == Some(PERSISTENT_FORMAT) {
            for (attribute, found, expected) in [
                ("NameQualifier", &name_id.name_qualifier, self.idp.entity_id()),
                ("SPNameQualifier", &name_id.sp_name_qualifier, self.sp.entity_id()),
            ] {
                if let Some(found) = found.as_deref().filter(|f| *f != expected) {
                    return Err(Error::NameQualifier {
                        attribute,
                        expected: expected.to_owned(),
                        found: found.to_owned(),
                    });
                }
            }
        }
        Ok(name_id)
    }

    /// The SP.
    pub fn service_provider(&self) -> &ServiceProvider {
        &self.sp
    }
}

/// An element of a logout message, read through the XML signature's verified view (POST)
/// or directly from a document whose bytes the query signature covered (Redirect).
#[derive(Clone, Copy)]
enum El<'a, 'i> {
    Verified(VerifiedElement<'a, 'i>),
    QuerySigned(Node<'a, 'i>),
}

impl<'a, 'i> El<'a, 'i> {
    fn namespace(&self) -> Option<&'a str> {
        match self {
            El::Verified(e) => e.namespace(),
            El::QuerySigned(n) => n.tag_name().namespace(),
        }
    }

    fn local_name(&self) -> &'a str {
        match self {
            El::Verified(e) => e.local_name(),
            El::QuerySigned(n) => n.tag_name().name(),
        }
    }

    fn attribute(&self, name: &str) -> Option<&'a str> {
        match self {
            El::Verified(e) => e.attribute(name),
            El::QuerySigned(n) => n
                .attributes()
                .find(|a| a.namespace().is_none() && a.name() == name)
                .map(|a| a.value()),
        }
    }

    /// Child elements, in document order (the verified view skips the enveloped signature).
    fn children(&self) -> Vec<El<'a, 'i>> {
        match self {
            El::Verified(e) => e.children().map(El::Verified).collect(),
            El::QuerySigned(n) => n
                .children()
                .filter(|c| c.is_element())
                .map(El::QuerySigned)
                .collect(),
        }
    }

    fn children_named(&self, ns: &str, local: &str) -> Vec<El<'a, 'i>> {
        self.children()
            .into_iter()
            .filter(|c| c.namespace() == Some(ns) && c.local_name() == local)
            .collect()
    }

    fn child(&self, ns: &str, local: &str) -> Option<El<'a, 'i>> {
        self.children_named(ns, local).into_iter().next()
    }

    /// Every descendant text node concatenated (comments cannot truncate a value).
    fn text(&self) -> String {
        match self {
            El::Verified(e) => e.text(),
            El::QuerySigned(n) => n
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect(),
        }
    }

    /// Decrypts this `EncryptedID`; returns the plaintext and the namespaces in scope there.
    /// For the POST binding only the signed view is read; for the Redirect binding the whole
    /// message is what the query signature covered.
    #[allow(clippy::type_complexity)]
    fn decrypt_encrypted_id(
        &self,
        provider: &dyn CryptoProvider,
        key: &DecryptionKey,
        policy: &DecryptionPolicy,
    ) -> Result<(Vec<u8>, Vec<(Option<String>, String)>), Error> {
        let one_data = || malformed("EncryptedID", "it must contain exactly one xenc:EncryptedData");
        match self {
            El::Verified(encrypted) => {
                let mut data = encrypted.children_named(XENC_NS, "EncryptedData");
                let (Some(data), None) = (data.next(), data.next()) else {
                    return Err(one_data());
                };
                let keys: Vec<VerifiedElement<'_, '_>> =
                    encrypted.children_named(XENC_NS, "EncryptedKey").collect();
                let plaintext = xmlenc::decrypt_verified(provider, &data, &keys, key, policy)
                    .map_err(Error::Decryption)?;
                let namespaces = encrypted
                    .namespaces()
                    .map(|(p, u)| (p.map(str::to_owned), u.to_owned()))
                    .collect();
                Ok((plaintext, namespaces))
            }
            El::QuerySigned(encrypted) => {
                let named = |node: &Node<'_, '_>, local: &str| {
                    node.is_element()
                        && node.tag_name().name() == local
                        && node.tag_name().namespace() == Some(XENC_NS)
                };
                let mut data = encrypted.children().filter(|c| named(c, "EncryptedData"));
                let (Some(data), None) = (data.next(), data.next()) else {
                    return Err(one_data());
                };
                let keys: Vec<Node<'_, '_>> = encrypted
                    .children()
                    .filter(|c| named(c, "EncryptedKey"))
                    .collect();
                let plaintext =
                    xmlenc::decrypt(provider, data, &keys, key, policy).map_err(Error::Decryption)?;
                let namespaces = encrypted
                    .namespaces()
                    .map(|ns| (ns.name().map(str::to_owned), ns.uri().to_owned()))
                    .collect();
                Ok((plaintext, namespaces))
            }
        }
    }
}

fn malformed(element: &'static str, reason: &str) -> Error {
    Error::Malformed {
        element,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use fedkit_xmldsig::TrustedKeys;

    use super::*;

    const IDP: &str = "https://idp.example.org/saml2/acme";
    const SLO: &str = "https://app.example.com/saml/slo";

    #[test]
    fn a_built_logout_response_verifies_with_its_status() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .unwrap_or_default();
        let key = SigningKey::from_pem(include_str!("../tests/data/keys/idp.key.pem"));
        let keys = TrustedKeys::from_pem(include_str!("../tests/data/keys/idp.crt.pem"));
        let sp = ServiceProvider::new(
            "https://app.example.com/saml/metadata",
            ["https://app.example.com/saml/acs"],
        );
        let (Ok(key), Ok(keys), Ok(sp)) = (key, keys, sp) else {
            unreachable!("test keys and configuration")
        };
        let Ok(idp) = IdentityProvider::new(IDP, keys) else {
            unreachable!("test configuration")
        };
        let validator = LogoutValidator::new(sp, idp, SLO, Settings::default());
        let provider = fedkit_xmldsig::crypto::default_provider();
        for (status, success) in [
            (None, true),
            (Some("urn:oasis:names:tc:SAML:2.0:status:Requester"), false),
        ] {
            let mut builder = LogoutResponseBuilder::new(IDP, SLO, "_sp-1");
            if let Some(status) = status {
                builder = builder.status(status);
            }
            let outgoing = builder.build([5; 20], now);
            let url = outgoing.signed_redirect_url(RelayState::new("r").ok(), &key, provider);
            let query = url.as_deref().unwrap_or_default().split_once('?').map(|(_, q)| q);
            let message = validator.process_redirect(query.unwrap_or_default(), Some("_sp-1"), now);
            let Ok(LogoutMessage::Response(response)) = message else {
                unreachable!("{status:?}: {message:?}")
            };
            assert_eq!(response.success(), success);
            assert_eq!(response.status(), status.unwrap_or(STATUS_SUCCESS));
            assert_eq!(response.in_response_to(), "_sp-1");
            assert_eq!(response.id(), outgoing.id());
            assert_eq!(response.issue_instant(), now);
        }
    }
}
