//! Single Logout: building `LogoutRequest`/`LogoutResponse` for the IdP, and verifying the
//! ones the IdP sends, over HTTP-POST (XML signature) or HTTP-Redirect (query signature).

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::xmlenc::{self, DecryptionPolicy, XENC_NS};
use fedkit_xmldsig::{DecryptionKey, Document, Fingerprint, Limits, SigningKey, VerifiedElement, Verifier};

use crate::assertion::NameId;
use crate::config::{IdentityProvider, ServiceProvider, Settings};
use crate::error::{Error, SignedPart};
use crate::request::{inflate_redirect_message, redirect_query, sign_redirect, xml_escape, SigningError};
use crate::response::{SAMLP_NS, SAML_NS};
use crate::time::{parse_instant, show};

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

fn id_from(random: [u8; 16]) -> String {
    random.iter().fold(String::from("_"), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    })
}

/// A message this SP sends to the IdP's Single Logout endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingLogout {
    id: String,
    destination: String,
    xml: String,
    parameter: &'static str,
}

impl OutgoingLogout {
    /// A `LogoutRequest` ending the user's session at the IdP (SP-initiated logout). `random`
    /// must come from a CSPRNG; keep [`id`](Self::id) to match the IdP's LogoutResponse.
    pub fn request(
        sp: &ServiceProvider,
        slo_url: &str,
        name_id: &NameId,
        session_index: Option<&str>,
        random: [u8; 16],
        now: DateTime<Utc>,
    ) -> Self {
        let id = id_from(random);
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
        random: [u8; 16],
        now: DateTime<Utc>,
    ) -> Self {
        let id = id_from(random);
        let xml = format!(
            "<samlp:LogoutResponse xmlns:samlp=\"{SAMLP_NS}\" xmlns:saml=\"{SAML_NS}\" ID=\"{id}\" Version=\"2.0\" \
             IssueInstant=\"{}\" Destination=\"{}\" InResponseTo=\"{}\"><saml:Issuer>{}</saml:Issuer>\
             <samlp:Status><samlp:StatusCode Value=\"{STATUS_SUCCESS}\"/></samlp:Status></samlp:LogoutResponse>",
            show(now),
            xml_escape(slo_url),
            xml_escape(&in_response_to.id),
            xml_escape(sp.entity_id()),
        );
        Self {
            id,
            destination: slo_url.to_owned(),
            xml,
            parameter: "SAMLResponse",
        }
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
    pub fn redirect_url(&self, relay_state: Option<&str>) -> String {
        redirect_query(&self.destination, self.parameter, &self.xml, relay_state)
    }

    /// The message with an enveloped XML signature after its Issuer (HTTP-POST binding).
    pub fn signed_xml(
        &self,
        key: &SigningKey,
        certificate_der: Option<&[u8]>,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SigningError> {
        fedkit_xmldsig::sign::sign_enveloped(
            &self.xml,
            &self.id,
            Some((SAML_NS, "Issuer")),
            key,
            certificate_der,
            provider,
        )
        .map_err(|_| SigningError::Failed)
    }

    /// The HTTP-Redirect binding URL with the RSA-SHA256 query signature (most IdPs require
    /// signed logout messages).
    pub fn signed_redirect_url(
        &self,
        relay_state: Option<&str>,
        key: &SigningKey,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SigningError> {
        sign_redirect(
            &self.destination,
            self.parameter,
            &self.xml,
            relay_state,
            key,
            provider,
        )
    }
}

/// A verified `LogoutRequest` from the IdP: end the sessions it names, then answer with
/// [`OutgoingLogout::response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The request ID.
    pub id: String,
    /// The user whose sessions end.
    pub name_id: NameId,
    /// The sessions to end (all of the user's sessions at this SP when empty).
    pub session_indexes: Vec<String>,
    /// The pinned key that verified the signature.
    pub signing_key: Fingerprint,
}

/// A verified `LogoutResponse` from the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutResponse {
    /// The response ID.
    pub id: String,
    /// The request it answers.
    pub in_response_to: String,
    /// Whether the IdP reports success (`false`: partial logout or failure; the status code
    /// is in `status`).
    pub success: bool,
    /// The top-level status code.
    pub status: String,
    /// The pinned key that verified the signature.
    pub signing_key: Fingerprint,
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

/// Verifies the Single Logout messages an IdP sends to this SP's SLO URL. Every message must
/// be signed: with an XML signature over HTTP-POST, with the query signature over
/// HTTP-Redirect. An unsigned logout request would let anyone log users out.
#[derive(Debug, Clone)]
pub struct LogoutValidator {
    sp: ServiceProvider,
    idp: IdentityProvider,
    slo_url: String,
    settings: Settings,
    verifier: Verifier,
    decryption: Option<(DecryptionKey, DecryptionPolicy)>,
}

impl LogoutValidator {
    /// A validator for messages sent to `slo_url` (this SP's Single Logout URL).
    pub fn new(sp: ServiceProvider, idp: IdentityProvider, slo_url: &str, settings: Settings) -> Self {
        let verifier = Verifier::new(idp.signing_keys().clone(), settings.algorithms.clone());
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

    /// Uses `provider` for signatures and decryption (e.g. aws-lc-rs for constant-time RSA).
    pub fn with_provider(mut self, provider: &'static dyn CryptoProvider) -> Self {
        self.verifier = self.verifier.with_provider(provider);
        self
    }

    /// The `SAMLRequest` or `SAMLResponse` value of an HTTP-POST form (base64).
    /// `request_id` is the ID of the SP's own LogoutRequest when a response is expected.
    pub fn process_post(
        &self,
        value: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LogoutMessage, Error> {
        let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        if compact.len() / 4 * 3 > self.settings.max_message_bytes {
            return Err(Error::TooLarge {
                max: self.settings.max_message_bytes,
                actual: compact.len() / 4 * 3,
            });
        }
        let xml = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| Error::Base64 {
                reason: e.to_string(),
            })?;
        let doc = self.parse(&xml)?;
        let root = doc.root_element();
        let verified = self
            .verifier
            .verify_enveloped(&doc, root)
            .map_err(|source| Error::Signature {
                part: SignedPart::Response,
                source,
            })?;
        let key = verified.info().key_fingerprint;
        self.read(Read::Verified(verified.element()), request_id, now, key)
    }

    /// The raw query string of an HTTP-Redirect request to the SLO URL (everything after
    /// `?`, still URL-encoded). The signature covers `SAMLRequest`/`SAMLResponse`,
    /// `RelayState` and `SigAlg` exactly as they appear in the query.
    pub fn process_redirect(
        &self,
        query: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<LogoutMessage, Error> {
        let mut message = None;
        let mut relay = None;
        let mut sig_alg = None;
        let mut signature = None;
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match k {
                "SAMLRequest" | "SAMLResponse" => &mut message,
                "RelayState" => &mut relay,
                "SigAlg" => &mut sig_alg,
                "Signature" => &mut signature,
                _ => continue,
            };
            if slot.is_some() {
                return Err(malformed("query", &format!("{k} appears twice")));
            }
            *slot = Some((k, v));
        }
        let Some((name, value)) = message else {
            return Err(malformed("query", "no SAMLRequest or SAMLResponse parameter"));
        };
        let (Some((_, alg)), Some((_, sig))) = (sig_alg, signature) else {
            return Err(Error::Unsigned {
                required: crate::error::SigningRequirement::Response,
                response_signed: false,
                assertion_signed: false,
            });
        };
        let mut signed = format!("{name}={value}");
        if let Some((_, r)) = relay {
            signed.push_str(&format!("&RelayState={r}"));
        }
        signed.push_str(&format!("&SigAlg={alg}"));
        let signature = base64::engine::general_purpose::STANDARD
            .decode(percent_decode(sig).as_bytes())
            .map_err(|e| Error::Base64 {
                reason: format!("Signature: {e}"),
            })?;
        let key = self
            .verifier
            .verify_detached(&percent_decode(alg), signed.as_bytes(), &signature)
            .map_err(|source| Error::Signature {
                part: SignedPart::Response,
                source,
            })?;
        let xml = inflate_redirect_message(&percent_decode(value), self.settings.max_message_bytes)
            .map_err(|e| malformed("query", &e.to_string()))?;
        let doc = self.parse(&xml)?;
        self.read(Read::QuerySigned(doc.root_element()), request_id, now, key)
    }

    fn parse<'i>(&self, xml: &'i [u8]) -> Result<Document<'i>, Error> {
        let limits = Limits {
            max_bytes: self.settings.max_message_bytes,
            ..Limits::default()
        };
        Document::parse_bytes_with_limits(xml, &limits).map_err(Error::Xml)
    }

    fn read(
        &self,
        root: Read<'_, '_>,
        request_id: Option<&str>,
        now: DateTime<Utc>,
        signing_key: Fingerprint,
    ) -> Result<LogoutMessage, Error> {
        let skew = Duration::seconds(self.settings.clock_skew_seconds);
        let (ns, found_name) = root.name();
        let name: &'static str = match (ns, found_name) {
            (Some(SAMLP_NS), "LogoutRequest") => "LogoutRequest",
            (Some(SAMLP_NS), "LogoutResponse") => "LogoutResponse",
            _ => {
                return Err(Error::NotAResponse {
                    found: format!("{{{}}}{found_name}", ns.unwrap_or_default()),
                })
            }
        };
        if root.attribute("Version") != Some("2.0") {
            return Err(malformed(name, "Version must be \"2.0\""));
        }
        let issuer = root.child_text(SAML_NS, "Issuer");
        if issuer.as_deref() != Some(self.idp.entity_id()) {
            return Err(Error::Issuer {
                part: SignedPart::Response,
                expected: self.idp.entity_id().to_owned(),
                found: issuer,
            });
        }
        if let Some(d) = root.attribute("Destination") {
            if d != self.slo_url {
                return Err(Error::Destination {
                    expected: vec![self.slo_url.clone()],
                    found: Some(d.to_owned()),
                });
            }
        }
        let id = root
            .attribute("ID")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed(name, "the ID attribute is missing"))?
            .to_owned();
        if name == "LogoutRequest" {
            if let Some(end) = root.attribute("NotOnOrAfter") {
                let end = parse_instant(end).ok_or_else(|| malformed(name, "NotOnOrAfter is not a time"))?;
                if now - skew >= end {
                    return Err(Error::Expired {
                        what: "LogoutRequest (NotOnOrAfter)",
                        not_on_or_after: end,
                        now,
                        skew_seconds: skew.num_seconds(),
                    });
                }
            }
            let name_id = if root.has_child(SAML_NS, "EncryptedID") {
                let (key, policy) = self.decryption.as_ref().ok_or(Error::EncryptedNameId)?;
                let plaintext = root.decrypt_encrypted_id(self.verifier.provider(), key, policy)?;
                crate::response::name_id_from_plaintext(
                    plaintext.0,
                    plaintext.1.iter().map(|(p, u)| (p.as_deref(), u.as_str())),
                    self.settings.max_message_bytes,
                )?
            } else {
                let value = root
                    .child_text(SAML_NS, "NameID")
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| malformed(name, "the NameID is missing"))?;
                NameId {
                    value,
                    format: root.child_attribute(SAML_NS, "NameID", "Format"),
                    name_qualifier: root.child_attribute(SAML_NS, "NameID", "NameQualifier"),
                    sp_name_qualifier: root.child_attribute(SAML_NS, "NameID", "SPNameQualifier"),
                }
            };
            return Ok(LogoutMessage::Request(LogoutRequest {
                id,
                name_id,
                session_indexes: root.children_text(SAMLP_NS, "SessionIndex"),
                signing_key,
            }));
        }
        let found = root.attribute("InResponseTo").map(str::to_owned);
        if found.as_deref() != request_id || found.is_none() {
            return Err(Error::InResponseTo {
                expected: request_id.map(str::to_owned),
                found,
            });
        }
        let status = root.status_code().unwrap_or_default();
        Ok(LogoutMessage::Response(LogoutResponse {
            id,
            in_response_to: found.unwrap_or_default(),
            success: status == STATUS_SUCCESS,
            status,
            signing_key,
        }))
    }

    /// The SP.
    pub fn service_provider(&self) -> &ServiceProvider {
        &self.sp
    }
}

/// The root of a logout message, read through the XML signature's verified view (POST) or
/// directly from a document whose bytes the query signature covered (Redirect).
enum Read<'a, 'i> {
    Verified(VerifiedElement<'a, 'i>),
    QuerySigned(Node<'a, 'i>),
}

impl<'a> Read<'a, '_> {
    fn name(&self) -> (Option<&'a str>, &'a str) {
        match self {
            Read::Verified(e) => (e.namespace(), e.local_name()),
            Read::QuerySigned(n) => (n.tag_name().namespace(), n.tag_name().name()),
        }
    }

    fn attribute(&self, name: &str) -> Option<&'a str> {
        match self {
            Read::Verified(e) => e.attribute(name),
            Read::QuerySigned(n) => n.attribute(name),
        }
    }

    fn children_text(&self, ns: &str, local: &str) -> Vec<String> {
        match self {
            Read::Verified(e) => e
                .children_named(ns, local)
                .map(|c| c.text().trim().to_owned())
                .collect(),
            Read::QuerySigned(n) => n
                .children()
                .filter(|c| {
                    c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
                })
                .map(|c| {
                    c.descendants()
                        .filter(|d| d.is_text())
                        .filter_map(|d| d.text())
                        .collect::<String>()
                        .trim()
                        .to_owned()
                })
                .collect(),
        }
    }

    fn child_text(&self, ns: &str, local: &str) -> Option<String> {
        self.children_text(ns, local).into_iter().next()
    }

    fn child_attribute(&self, ns: &str, local: &str, attr: &str) -> Option<String> {
        match self {
            Read::Verified(e) => e
                .child(ns, local)
                .and_then(|c| c.attribute(attr))
                .map(str::to_owned),
            Read::QuerySigned(n) => n
                .children()
                .find(|c| {
                    c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
                })
                .and_then(|c| c.attribute(attr))
                .map(str::to_owned),
        }
    }

    fn has_child(&self, ns: &str, local: &str) -> bool {
        match self {
            Read::Verified(e) => e.child(ns, local).is_some(),
            Read::QuerySigned(n) => n.children().any(|c| {
                c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local
            }),
        }
    }

    /// Decrypts the root's `EncryptedID`; returns the plaintext and the namespaces in scope
    /// there. For the POST binding only the signed view is read; for the Redirect binding the
    /// whole message is what the query signature covered.
    #[allow(clippy::type_complexity)]
    fn decrypt_encrypted_id(
        &self,
        provider: &dyn CryptoProvider,
        key: &DecryptionKey,
        policy: &DecryptionPolicy,
    ) -> Result<(Vec<u8>, Vec<(Option<String>, String)>), Error> {
        let one_data = || malformed("EncryptedID", "it must contain exactly one xenc:EncryptedData");
        match self {
            Read::Verified(e) => {
                let encrypted = e.child(SAML_NS, "EncryptedID").ok_or_else(one_data)?;
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
            Read::QuerySigned(n) => {
                let named = |node: &Node<'_, '_>, local: &str| {
                    node.is_element()
                        && node.tag_name().name() == local
                        && node.tag_name().namespace()
                            == Some(if local == "EncryptedID" { SAML_NS } else { XENC_NS })
                };
                let encrypted = n
                    .children()
                    .find(|c| named(c, "EncryptedID"))
                    .ok_or_else(one_data)?;
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

    fn status_code(&self) -> Option<String> {
        match self {
            Read::Verified(e) => e
                .child(SAMLP_NS, "Status")?
                .child(SAMLP_NS, "StatusCode")?
                .attribute("Value")
                .map(str::to_owned),
            Read::QuerySigned(n) => n
                .children()
                .find(|c| c.tag_name().namespace() == Some(SAMLP_NS) && c.tag_name().name() == "Status")?
                .children()
                .find(|c| c.tag_name().namespace() == Some(SAMLP_NS) && c.tag_name().name() == "StatusCode")?
                .attribute("Value")
                .map(str::to_owned),
        }
    }
}

fn malformed(element: &'static str, reason: &str) -> Error {
    Error::Malformed {
        element,
        reason: reason.to_owned(),
    }
}

/// Decodes `%XX` escapes and `+` (as space) of a query component; invalid escapes are kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| core::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (other, _) => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
