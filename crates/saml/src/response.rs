//! Processing a `samlp:Response` into a [`VerifiedAssertion`].

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::roxmltree::Node;
use fedkit_xmldsig::xmlenc::{self, ContentAlgorithm, DecryptionPolicy, XmlEncError, XENC_NS};
use fedkit_xmldsig::{
    is_signature, DecryptionKey, Document, Limits, ParseError, Verified, VerifiedElement, Verifier,
};

use crate::assertion::{Attribute, Authn, LoginWarning, NameId, VerifiedAssertion};
use crate::config::{IdentityProvider, ServiceProvider, Settings};
use crate::error::{Error, SignedPart, SigningRequirement};
use crate::replay::ReplayCache;
use crate::time::parse_instant;

/// The SAML 2.0 protocol namespace.
pub const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace.
pub const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const ENTITY_FORMAT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Checks SAML Responses for one SP and one IdP.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use fedkit_saml::{IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider};
/// use fedkit_xmldsig::TrustedKeys;
///
/// let sp = ServiceProvider::new("https://app.example.com/saml/metadata", ["https://app.example.com/saml/acs"])?;
/// let pem = include_str!("../tests/data/keys/idp.crt.pem"); // the IdP certificate, from its console
/// let idp = IdentityProvider::new("https://sso.jumpcloud.com/saml2/fedkit-test", TrustedKeys::from_pem(pem)?)?;
/// let validator = ResponseValidator::new(sp, idp);
/// let replay = InMemoryReplayCache::new(100_000);
///
/// // The XML the IdP posted (`process_post` takes the base64 form value directly).
/// let xml = include_str!("../tests/data/signed/assertion-signed.xml");
/// let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
/// let assertion = validator.process_xml(xml.as_bytes(), Some("_req-7f3a"), now, &replay)?;
/// assert_eq!(assertion.name_id().value, "jane.doe@example.com");
/// assert_eq!(assertion.first_value("firstName"), Some("Jane"));
///
/// // The same assertion cannot log in twice.
/// let again = validator.process_xml(xml.as_bytes(), Some("_req-7f3a"), now, &replay);
/// assert_eq!(again.unwrap_err().code(), "replay");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ResponseValidator {
    sp: ServiceProvider,
    idp: IdentityProvider,
    settings: Settings,
    verifier: Verifier,
    decryption: Option<(DecryptionKey, DecryptionPolicy)>,
}

impl ResponseValidator {
    /// A validator with the default (strict) [`Settings`].
    pub fn new(sp: ServiceProvider, idp: IdentityProvider) -> Self {
        Self::with_settings(sp, idp, Settings::default())
    }

    /// A validator with the given settings.
    pub fn with_settings(sp: ServiceProvider, idp: IdentityProvider, settings: Settings) -> Self {
        let verifier = Verifier::new(idp.signing_keys().clone(), settings.algorithms().clone());
        Self {
            sp,
            idp,
            settings,
            verifier,
            decryption: None,
        }
    }

    /// Decrypts `EncryptedAssertion`s with the SP's private key (the key of the encryption
    /// certificate uploaded to the IdP). The decrypted assertion must be protected by a
    /// signature: its own, or that of a signed Response which covers the `EncryptedAssertion`
    /// and every `EncryptedKey` that may decrypt it (SAML Profiles §4.1.3.5).
    pub fn with_decryption_key(mut self, key: DecryptionKey) -> Self {
        self.decryption = Some((key, DecryptionPolicy::default()));
        self
    }

    /// Like [`with_decryption_key`](Self::with_decryption_key), with a non-default policy
    /// (e.g. `DecryptionPolicy::default().dangerous_allow_rsa_pkcs1v15()`).
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

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The SP.
    pub fn service_provider(&self) -> &ServiceProvider {
        &self.sp
    }

    /// The IdP.
    pub fn identity_provider(&self) -> &IdentityProvider {
        &self.idp
    }

    /// Processes the `SAMLResponse` value of an HTTP-POST binding form (base64, line breaks
    /// allowed). `request_id` is the ID of the AuthnRequest this login started with, `None`
    /// for an IdP-initiated login; `now` is the current time.
    pub fn process_post(
        &self,
        saml_response: &str,
        request_id: Option<&str>,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedAssertion, Error> {
        let xml = self.decode_post(saml_response)?;
        self.process_xml(&xml, request_id, now, replay)
    }

    pub(crate) fn decode_post(&self, saml_response: &str) -> Result<Vec<u8>, Error> {
        let compact: Vec<u8> = saml_response
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let max_encoded = self.settings.max_message_bytes().div_ceil(3) * 4;
        if compact.len() > max_encoded {
            return Err(Error::TooLarge {
                max: self.settings.max_message_bytes(),
                actual: compact.len() / 4 * 3,
            });
        }
        base64::engine::general_purpose::STANDARD
            .decode(&compact)
            .map_err(|e| {
                // A form value saved or sent as UTF-16 has a NUL byte beside every character.
                let without_nul: Vec<u8> = compact.iter().copied().filter(|&b| b != 0).collect();
                if without_nul.len() < compact.len()
                    && base64::engine::general_purpose::STANDARD
                        .decode(&without_nul)
                        .is_ok()
                {
                    Error::Utf16Encoded { form_value: true }
                } else {
                    Error::Base64 {
                        reason: e.to_string(),
                    }
                }
            })
    }

    /// Like [`process_post`](Self::process_post), for hosts that keep outstanding request
    /// IDs in a [`RequestStore`](crate::RequestStore) rather than in the user's session: the
    /// Response's `InResponseTo` must name an outstanding request (which is then consumed),
    /// or be absent for an IdP-initiated login (if allowed).
    ///
    /// This call does **not** bind the login to the browser: it accepts a Response to *any*
    /// outstanding request, so the host must itself check that the browser posting it is the
    /// one that started that request (a cookie), or another browser's Response logs the user
    /// in (login CSRF, session swapping). [`flow::LoginFlow`](crate::flow::LoginFlow) does
    /// that check, with the store, in one call; use this one when the request ID lives in the
    /// host's own session, which already binds it to the browser.
    ///
    /// A Response whose request is no longer outstanding because that very Response already
    /// logged in is refused as a replay ([`Error::Replay`], `replay`): its request is not
    /// outstanding and its assertion ID is in the replay cache. When the request is unknown
    /// or expired, the refusal is [`Error::RequestNotOutstanding`] and the assertion ID is
    /// recorded as used all the same (the assertion is refused; it answers that one request).
    pub fn process_post_with_store(
        &self,
        saml_response: &str,
        requests: &dyn crate::replay::RequestStore,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedAssertion, Error> {
        let xml = self.decode_post(saml_response)?;
        self.process_xml_with_store(&xml, requests, now, replay)
    }

    /// [`process_post_with_store`](Self::process_post_with_store) for XML bytes.
    pub fn process_xml_with_store(
        &self,
        xml: &[u8],
        requests: &dyn crate::replay::RequestStore,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedAssertion, Error> {
        // Only a signed InResponseTo (the signed Response's, or the signed assertion's bearer
        // SubjectConfirmationData's) is looked up in the store, and only such a binding
        // consumes the request: an unsigned claim never spends another login's request.
        let checked = self.check_for_store(xml, now)?;
        if let Some(id) = checked.assertion.in_response_to() {
            if !requests.is_outstanding(id, now).map_err(Error::request_store)? {
                return Err(self.not_outstanding(&checked, id, now, replay));
            }
        }
        self.accept_for_store(checked, requests, now, replay)
    }

    /// Every check of a Response that answers a request in a store (or none), certificate
    /// validity included; the store is not consulted and nothing is recorded.
    pub(crate) fn check_for_store(&self, xml: &[u8], now: DateTime<Utc>) -> Result<Checked, Error> {
        let doc = self.parse(xml)?;
        let mut checked = self.check(&doc, Expect::Store, now)?;
        self.certificate_validity(&mut checked.assertion, now)?;
        Ok(checked)
    }

    /// The refusal for a checked Response whose `request` is not outstanding: a replay when
    /// its assertion was already used (its request was consumed by that use), else
    /// [`Error::RequestNotOutstanding`] (the assertion ID is recorded either way).
    pub(crate) fn not_outstanding(
        &self,
        checked: &Checked,
        request: &str,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Error {
        match replay.check_and_insert(&checked.id, checked.replay_until, now) {
            Ok(false) => Error::Replay {
                id: checked.id.clone(),
            },
            Ok(true) => Error::RequestNotOutstanding {
                found: request.to_owned(),
            },
            Err(e) => Error::replay_store(e),
        }
    }

    /// Records a checked Response: its assertion ID in the replay cache, then consumes its
    /// request (when it answers one).
    pub(crate) fn accept_for_store(
        &self,
        checked: Checked,
        requests: &dyn crate::replay::RequestStore,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedAssertion, Error> {
        if !replay
            .check_and_insert(&checked.id, checked.replay_until, now)
            .map_err(Error::replay_store)?
        {
            return Err(Error::Replay { id: checked.id });
        }
        let assertion = checked.assertion;
        if let Some(id) = assertion.in_response_to() {
            // Another Response to the same request may have been accepted meanwhile (on this
            // node or, with a shared store, another): only one wins.
            if !requests.consume(id, now).map_err(Error::request_store)? {
                return Err(Error::RequestAlreadyAnswered { id: id.to_owned() });
            }
        }
        Ok(assertion)
    }

    /// The crypto provider in use (for the login flow's binding digest).
    pub(crate) fn provider(&self) -> &'static dyn CryptoProvider {
        self.verifier.provider()
    }

    /// Processes a Response given as XML bytes.
    pub fn process_xml(
        &self,
        xml: &[u8],
        request_id: Option<&str>,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedAssertion, Error> {
        let doc = self.parse(xml)?;
        self.process_parsed(&doc, Expect::Request(request_id), now, replay)
    }

    fn parse<'i>(&self, xml: &'i [u8]) -> Result<Document<'i>, Error> {
        if xml.len() > self.settings.max_message_bytes() {
            return Err(Error::TooLarge {
                max: self.settings.max_message_bytes(),
                actual: xml.len(),
            });
        }
        let limits = Limits::default().with_max_bytes(self.settings.max_message_bytes());
        Document::parse_bytes_with_limits(xml, &limits).map_err(|e| self.explain_parse_error(xml, e))
    }

    /// The refusal for bytes that do not parse: DEFLATE data (the HTTP-Redirect binding's
    /// encoding) and UTF-16 are named as such, anything else is an XML error.
    fn explain_parse_error(&self, bytes: &[u8], error: ParseError) -> Error {
        let starts_like_xml = bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|&b| b == b'<');
        if !starts_like_xml {
            let inflated =
                miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, self.settings.max_message_bytes());
            let inflates_to_xml = inflated.is_ok_and(|xml| {
                let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&xml);
                xml.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
            });
            if inflates_to_xml {
                return Error::RedirectBindingEncoding;
            }
        }
        match error {
            ParseError::Utf16 { .. } => Error::Utf16Encoded { form_value: false },
            other => Error::Xml(other),
        }
    }

    fn process_parsed(
        &self,
        doc: &Document<'_>,
        expect: Expect<'_>,
        now: DateTime<Utc>,
        replay: &dyn ReplayCache,
    ) -> Result<VerifiedAssertion, Error> {
        let mut checked = self.check(doc, expect, now)?;
        self.certificate_validity(&mut checked.assertion, now)?;
        if !replay
            .check_and_insert(&checked.id, checked.replay_until, now)
            .map_err(Error::replay_store)?
        {
            return Err(Error::Replay {
                id: checked.id.clone(),
            });
        }
        Ok(checked.assertion)
    }
    /// Reports (or, when enforced, refuses) a signing certificate outside its validity period.
    fn certificate_validity(
        &self,
        assertion: &mut VerifiedAssertion,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let key = self
            .idp
            .signing_keys()
            .keys()
            .iter()
            .find(|k| k.fingerprint() == assertion.signing_key);
        let Some(info) = key.and_then(|k| k.certificate()) else {
            return Ok(());
        };
        let (Some(not_before), Some(not_after)) = (
            DateTime::from_timestamp(info.not_before, 0),
            DateTime::from_timestamp(info.not_after, 0),
        ) else {
            return Ok(());
        };
        if now >= not_before && now <= not_after {
            return Ok(());
        }
        if self.settings.enforces_certificate_validity() {
            return Err(Error::CertificateOutsideValidity {
                fingerprint: assertion.signing_key,
                not_before,
                not_after,
                now,
            });
        }
        assertion
            .warnings
            .push(crate::assertion::LoginWarning::CertificateOutsideValidity {
                fingerprint: assertion.signing_key,
                not_before,
                not_after,
            });
        Ok(())
    }

    fn skew(&self) -> Duration {
        self.settings.skew()
    }

    fn check(&self, doc: &Document<'_>, expect: Expect<'_>, now: DateTime<Utc>) -> Result<Checked, Error> {
        let response = doc.root_element();
        if !has_name(response, SAMLP_NS, "Response") {
            return Err(Error::NotAResponse {
                found: describe(response),
            });
        }

        // The Response's own fields are read before the signatures only to refuse early;
        // nothing read here is returned or decides an acceptance.
        check_version("Response", response.attribute("Version"))?;
        if response.attribute("ID").is_none_or(str::is_empty) {
            return Err(malformed(
                "Response",
                "the ID attribute is missing (SAML Core §3.2.2)",
            ));
        }
        if let Some(issuer) = child(response, SAML_NS, "Issuer") {
            self.check_issuer(
                SignedPart::Response,
                Some(text_of(issuer)),
                issuer.attribute("Format"),
            )?;
        }
        check_status(response)?;

        let found = the_assertion(response)?;

        // Signatures: each present signature must verify, whatever the requirement.
        let response_verified = self.verify_if_signed(doc, response, SignedPart::Response)?;
        let response_part = ResponsePart {
            node: response,
            signed: response_verified.as_ref().map(Verified::element),
            encrypted_assertion: matches!(found, Found::Encrypted(_)),
        };
        match found {
            Found::Plain(assertion) => {
                let assertion_verified = self.verify_if_signed(doc, assertion, SignedPart::Assertion)?;
                let stray = || misplaced_signature(response, assertion, "");
                self.require_signatures(response_verified.is_some(), assertion_verified.is_some(), &stray)?;
                // From here on, the assertion is read only through a verified element.
                let (signed_assertion, signing_key) = match (&assertion_verified, &response_verified) {
                    (Some(a), _) => (a.element(), a.info().key_fingerprint),
                    (None, Some(r)) => {
                        let element = r
                            .element()
                            .children()
                            .find(|c| c.node_id() == assertion.id())
                            .ok_or_else(|| {
                                malformed("Response", "the signed Response does not contain the assertion")
                            })?;
                        (element, r.info().key_fingerprint)
                    }
                    (None, None) => return Err(self.unsigned(false, false, &stray)),
                };
                self.finish(
                    &response_part,
                    signed_assertion,
                    assertion_verified.is_some(),
                    signing_key,
                    expect,
                    now,
                )
            }
            Found::Encrypted(encrypted) => {
                let (key, policy) = self.decryption.as_ref().ok_or(Error::EncryptedAssertion)?;
                check_key_references(doc, encrypted, response_verified.as_ref())?;
                let stray = |assertion: Node<'_, '_>| {
                    misplaced_signature(response, encrypted, "")
                        .or_else(|| misplaced_signature(assertion, assertion, "/Response/EncryptedAssertion"))
                };
                let limits = Limits::default().with_max_bytes(self.settings.max_message_bytes());
                if let Some(r) = &response_verified {
                    // SAML Profiles §4.1.3.5: the Response signature covers the EncryptedAssertion
                    // (ciphertext and key transport alike). Only verified bytes are decrypted,
                    // so the assertion they decrypt to is what the signature covered.
                    let signed_encrypted = r
                        .element()
                        .children()
                        .find(|c| c.node_id() == encrypted.id())
                        .ok_or_else(|| {
                            malformed(
                                "Response",
                                "the signed Response does not contain the EncryptedAssertion",
                            )
                        })?;
                    let decrypted =
                        decrypt_signed_assertion(self.verifier.provider(), &signed_encrypted, key, policy)?;
                    let legacy = LoginWarning::for_decryption(
                        "EncryptedAssertion",
                        decrypted.algorithm(),
                        decrypted.delegated(),
                    );
                    let inner = decrypted.parse(&limits).map_err(Error::Decryption)?;
                    let mut elements = inner.elements();
                    let covered = match (elements.next(), elements.next()) {
                        (Some(a), None) if a.is(SAML_NS, "Assertion") => a,
                        _ => return Err(Error::Decryption(XmlEncError::DecryptionFailed)),
                    };
                    let assertion = inner
                        .document()
                        .root_element()
                        .children()
                        .find(|c| c.id() == covered.node_id())
                        .ok_or(Error::Decryption(XmlEncError::DecryptionFailed))?;
                    // An assertion signed itself too: that signature must verify as well.
                    let assertion_verified =
                        self.verify_if_signed(inner.document(), assertion, SignedPart::Assertion)?;
                    self.require_signatures(true, assertion_verified.is_some(), &|| stray(assertion))?;
                    let (signed_assertion, signing_key) = match &assertion_verified {
                        Some(a) => (a.element(), a.info().key_fingerprint),
                        None => (covered, r.info().key_fingerprint),
                    };
                    let mut checked = self.finish(
                        &response_part,
                        signed_assertion,
                        assertion_verified.is_some(),
                        signing_key,
                        expect,
                        now,
                    )?;
                    checked.assertion.warnings.extend(legacy);
                    return Ok(checked);
                }
                // An unsigned Response: the decrypted assertion must carry its own signature.
                let (plaintext, content, delegated) =
                    decrypt_assertion(self.verifier.provider(), encrypted, key, policy)?;
                // A plaintext that does not parse, or is not one Assertion, is reported as a
                // decryption failure: distinguishable errors would be a decryption oracle.
                let inner = Document::parse_with_limits(&plaintext, &limits)
                    .map_err(|_| Error::Decryption(XmlEncError::DecryptionFailed))?;
                let mut elements = inner.root_element().children().filter(|c| c.is_element());
                let assertion = match (elements.next(), elements.next()) {
                    (Some(a), None) if has_name(a, SAML_NS, "Assertion") => a,
                    _ => return Err(Error::Decryption(XmlEncError::DecryptionFailed)),
                };
                let assertion_verified = self.verify_if_signed(&inner, assertion, SignedPart::Assertion)?;
                self.require_signatures(false, assertion_verified.is_some(), &|| stray(assertion))?;
                let Some(verified) = assertion_verified else {
                    return Err(self.unsigned(false, false, &|| stray(assertion)));
                };
                let mut checked = self.finish(
                    &response_part,
                    verified.element(),
                    true,
                    verified.info().key_fingerprint,
                    expect,
                    now,
                )?;
                let legacy = LoginWarning::for_decryption("EncryptedAssertion", content, &delegated);
                checked.assertion.warnings.extend(legacy);
                Ok(checked)
            }
        }
    }

    /// The refusal when required signatures are absent: a signature misplaced where none may
    /// be (`stray` finds it) is named, since that is usually why the signature is "missing".
    fn unsigned(
        &self,
        response_signed: bool,
        assertion_signed: bool,
        stray: &dyn Fn() -> Option<String>,
    ) -> Error {
        if let Some(path) = stray() {
            return Error::MisplacedSignature {
                path,
                required: self.settings.signing(),
            };
        }
        Error::Unsigned {
            required: self.settings.signing(),
            response_signed,
            assertion_signed,
        }
    }

    fn require_signatures(
        &self,
        response_signed: bool,
        assertion_signed: bool,
        stray: &dyn Fn() -> Option<String>,
    ) -> Result<(), Error> {
        let satisfied = match self.settings.signing() {
            SigningRequirement::Either => response_signed || assertion_signed,
            SigningRequirement::Assertion => assertion_signed,
            SigningRequirement::Response => response_signed,
            SigningRequirement::Both => response_signed && assertion_signed,
        };
        if satisfied {
            Ok(())
        } else {
            Err(self.unsigned(response_signed, assertion_signed, stray))
        }
    }

    /// The Response-level rules (read from the signed Response when it is signed), then the
    /// assertion's.
    fn finish(
        &self,
        response: &ResponsePart<'_, '_>,
        signed_assertion: VerifiedElement<'_, '_>,
        assertion_signed: bool,
        signing_key: fedkit_xmldsig::Fingerprint,
        expect: Expect<'_>,
        now: DateTime<Utc>,
    ) -> Result<Checked, Error> {
        let response_signed = response.signed.is_some();
        // Issuer: required on a signed Response or one carrying an EncryptedAssertion (SAML
        // Profiles §4.1.4.2); when present it names the IdP (checked above, and again here
        // on the signed view).
        let issuer = response.child(SAML_NS, "Issuer");
        match issuer {
            Some((text, format)) => self.check_issuer(SignedPart::Response, Some(text), format)?,
            None if response_signed || response.encrypted_assertion => {
                return Err(Error::ResponseIssuerMissing {
                    expected: self.idp.entity_id().to_owned(),
                    encrypted: !response_signed,
                })
            }
            None => {}
        }

        // IssueInstant (SAML Core §3.2.2: required) and the message's age.
        let issue_instant = response
            .attribute("IssueInstant")
            .ok_or_else(|| malformed("Response", "the IssueInstant attribute is missing"))?;
        let issue_instant = parse_instant(issue_instant).ok_or_else(|| {
            malformed(
                "Response",
                &format!("IssueInstant {issue_instant:?} is not a time with a time zone"),
            )
        })?;

        // Destination: required on a signed Response (SAML Bindings §3.5.5.2).
        match response.attribute("Destination") {
            Some(d) if self.sp.acs_urls().iter().any(|u| u == d) => {}
            None if !response_signed => {}
            found => {
                return Err(Error::Destination {
                    expected: self.sp.acs_urls().to_vec(),
                    found: found.map(str::to_owned),
                })
            }
        }

        let mut signed = Vec::new();
        if response_signed {
            signed.push(SignedPart::Response);
        }
        if assertion_signed {
            signed.push(SignedPart::Assertion);
        }
        // Only a signed Response's InResponseTo can bind the login to a request; an unsigned
        // one is passed on separately, to refuse (never to accept) with.
        let in_response_to = ResponseInResponseTo {
            signed: response.signed.as_ref().and_then(|r| r.attribute("InResponseTo")),
            unsigned: match response.signed {
                Some(_) => None,
                None => response.node.attribute("InResponseTo"),
            },
        };
        let checked =
            self.check_assertion(signed_assertion, in_response_to, expect, now, signed, signing_key)?;
        // The message age last: a hardening beyond the profile's text, so a Response that
        // breaks one of the profile's rules is refused for that rule.
        self.check_age(SignedPart::Response, issue_instant, now)?;
        self.check_age(SignedPart::Assertion, checked.issue_instant, now)?;
        Ok(checked)
    }

    fn verify_if_signed<'a, 'i>(
        &self,
        doc: &'a Document<'i>,
        element: Node<'a, 'i>,
        part: SignedPart,
    ) -> Result<Option<Verified<'a, 'i>>, Error> {
        if !element.children().any(is_signature) {
            return Ok(None);
        }
        self.verifier
            .verify_enveloped(doc, element)
            .map(Some)
            .map_err(|source| Error::Signature { part, source })
    }

    /// The Issuer names the IdP, with no Format or the entity format (SAML Profiles
    /// §4.1.4.2).
    fn check_issuer(
        &self,
        part: SignedPart,
        found: Option<String>,
        format: Option<&str>,
    ) -> Result<(), Error> {
        if let Some(format) = format.filter(|f| *f != ENTITY_FORMAT) {
            return Err(Error::IssuerFormat {
                part,
                format: format.to_owned(),
            });
        }
        if found.as_deref() == Some(self.idp.entity_id()) {
            Ok(())
        } else {
            Err(Error::Issuer {
                part,
                expected: self.idp.entity_id().to_owned(),
                found,
            })
        }
    }

    fn check_age(
        &self,
        part: SignedPart,
        issue_instant: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        crate::time::check_age(&self.settings, part, issue_instant, now)
    }

    /// The assertion's `Conditions` (SAML Core §2.5.1, Profiles §4.1.4.2): the time window,
    /// an `AudienceRestriction` naming this SP (required), `OneTimeUse` and
    /// `ProxyRestriction` (understood); any other condition makes the assertion
    /// Indeterminate, so it is refused.
    fn check_conditions(
        &self,
        a: &VerifiedElement<'_, '_>,
        now: DateTime<Utc>,
    ) -> Result<CheckedConditions, Error> {
        let skew = self.skew();
        let mut conditions = a.children_named(SAML_NS, "Conditions");
        let (Some(c), None) = (conditions.next(), conditions.next()) else {
            if a.children_named(SAML_NS, "Conditions").next().is_some() {
                return Err(malformed("Assertion", "more than one Conditions element"));
            }
            return Err(Error::NoAudienceRestriction {
                expected: self.sp.entity_id().to_owned(),
                conditions_present: false,
            });
        };
        let not_before = optional_instant(&c, "NotBefore", "Conditions")?;
        let not_on_or_after = optional_instant(&c, "NotOnOrAfter", "Conditions")?;
        if let (Some(nb), Some(end)) = (not_before, not_on_or_after) {
            if nb >= end {
                return Err(malformed(
                    "Conditions",
                    &format!(
                        "NotBefore {} is not earlier than NotOnOrAfter {}: the assertion is never valid",
                        crate::time::show(nb),
                        crate::time::show(end)
                    ),
                ));
            }
        }
        if let Some(nb) = not_before {
            if crate::time::later(now, skew) < nb {
                return Err(Error::NotYetValid {
                    not_before: nb,
                    now,
                    skew_seconds: skew.num_seconds(),
                });
            }
        }
        if let Some(end) = not_on_or_after {
            if crate::time::earlier(now, skew) >= end {
                return Err(Error::Expired {
                    what: "assertion (Conditions NotOnOrAfter)",
                    not_on_or_after: end,
                    now,
                    skew_seconds: skew.num_seconds(),
                });
            }
        }
        let mut audience_restrictions = 0usize;
        let mut checked_audiences = Vec::new();
        let mut one_time_use = false;
        let mut proxy_restriction = false;
        for condition in c.children() {
            if condition.is(SAML_NS, "AudienceRestriction") {
                // Each AudienceRestriction must name this SP (several are a conjunction);
                // within one, any of its Audiences may.
                let audiences: Vec<String> = condition
                    .children_named(SAML_NS, "Audience")
                    .map(|x| x.text().trim().to_owned())
                    .collect();
                if !audiences.iter().any(|x| x == self.sp.entity_id()) {
                    return Err(Error::Audience {
                        expected: self.sp.entity_id().to_owned(),
                        found: audiences,
                    });
                }
                audience_restrictions += 1;
                checked_audiences.extend(audiences);
            } else if condition.is(SAML_NS, "OneTimeUse") {
                // Core §2.5.1.5: at most one. The replay cache already allows each assertion
                // one use, which is what OneTimeUse asks of the SP.
                if one_time_use {
                    return Err(malformed("Conditions", "more than one OneTimeUse element"));
                }
                one_time_use = true;
            } else if condition.is(SAML_NS, "ProxyRestriction") {
                // Core §2.5.1.6: limits what a relying party that issues assertions of its
                // own may do; this SP issues none, so the condition holds.
                if proxy_restriction {
                    return Err(malformed("Conditions", "more than one ProxyRestriction element"));
                }
                proxy_restriction = true;
            } else {
                return Err(Error::ConditionNotUnderstood {
                    condition: describe_condition(&condition),
                });
            }
        }
        if audience_restrictions == 0 {
            return Err(Error::NoAudienceRestriction {
                expected: self.sp.entity_id().to_owned(),
                conditions_present: true,
            });
        }
        Ok(CheckedConditions {
            not_before,
            not_on_or_after,
            one_time_use,
            audiences: checked_audiences,
        })
    }

    fn check_assertion(
        &self,
        a: VerifiedElement<'_, '_>,
        response_in_response_to: ResponseInResponseTo<'_>,
        expect: Expect<'_>,
        now: DateTime<Utc>,
        signed: Vec<SignedPart>,
        signing_key: fedkit_xmldsig::Fingerprint,
    ) -> Result<Checked, Error> {
        let skew = self.skew();
        check_version("Assertion", a.attribute("Version"))?;
        let id = a
            .attribute("ID")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| malformed("Assertion", "the ID attribute is missing"))?
            .to_owned();
        let issue_instant = required_instant(&a, "IssueInstant", "Assertion")?;
        let issuer = a.child(SAML_NS, "Issuer");
        self.check_issuer(
            SignedPart::Assertion,
            issuer.as_ref().map(VerifiedElement::text),
            issuer.as_ref().and_then(|i| i.attribute("Format")),
        )?;

        let CheckedConditions {
            not_before,
            not_on_or_after,
            one_time_use,
            audiences: checked_audiences,
        } = self.check_conditions(&a, now)?;

        // Subject.
        let subject = a
            .child(SAML_NS, "Subject")
            .ok_or_else(|| malformed("Assertion", "the Subject is missing"))?;
        let mut warnings = Vec::new();
        let name_id = match subject.child(SAML_NS, "EncryptedID") {
            Some(encrypted) => self.decrypt_name_id(&encrypted, &mut warnings)?,
            None => {
                let element = subject
                    .child(SAML_NS, "NameID")
                    .ok_or_else(|| malformed("Subject", "the NameID is missing"))?;
                name_id_of(&element)?
            }
        };
        if name_id.value.is_empty() {
            return Err(malformed("NameID", "it is empty"));
        }
        let confirmation_in_response_to;
        let confirmation_until;
        {
            let mut reasons = Vec::new();
            let mut accepted = None;
            for sc in subject.children_named(SAML_NS, "SubjectConfirmation") {
                if sc.attribute("Method") != Some(BEARER) {
                    reasons.push(format!(
                        "method {:?} is not bearer",
                        sc.attribute("Method").unwrap_or("")
                    ));
                    continue;
                }
                match self.check_confirmation(&sc, now) {
                    Ok(found) => {
                        accepted = Some(found);
                        break;
                    }
                    Err(reason) => reasons.push(reason),
                }
            }
            let Some((irt, until)) = accepted else {
                if reasons.is_empty() {
                    reasons.push("the Subject has no SubjectConfirmation".to_owned());
                }
                return Err(Error::SubjectConfirmation { reasons });
            };
            confirmation_in_response_to = irt;
            confirmation_until = until;
        }

        // InResponseTo (Profiles §4.1.4.2–4.1.4.3): only signed values bind the login to a
        // request, and when both signed places carry one they agree.
        let in_response_to = self.check_in_response_to(
            response_in_response_to,
            confirmation_in_response_to.as_deref(),
            expect,
        )?;

        // Authentication statements (Profiles §4.1.4.2: at least one). The first describes
        // the login; the earliest SessionNotOnOrAfter of all of them is the one honoured
        // (Profiles §4.1.4.3).
        let mut authn: Option<Authn> = None;
        for s in a.children_named(SAML_NS, "AuthnStatement") {
            let instant = required_instant(&s, "AuthnInstant", "AuthnStatement")?;
            let session_not_on_or_after = optional_instant(&s, "SessionNotOnOrAfter", "AuthnStatement")?;
            if let Some(end) = session_not_on_or_after {
                if crate::time::earlier(now, skew) >= end {
                    return Err(Error::Expired {
                        what: "IdP session (AuthnStatement SessionNotOnOrAfter)",
                        not_on_or_after: end,
                        now,
                        skew_seconds: skew.num_seconds(),
                    });
                }
            }
            match authn.as_mut() {
                Some(first) => {
                    first.session_not_on_or_after = [first.session_not_on_or_after, session_not_on_or_after]
                        .into_iter()
                        .flatten()
                        .min();
                }
                None => {
                    let context_class = s
                        .child(SAML_NS, "AuthnContext")
                        .and_then(|c| c.child(SAML_NS, "AuthnContextClassRef"))
                        .map(|c| c.text().trim().to_owned());
                    authn = Some(Authn {
                        instant,
                        session_index: s.attribute("SessionIndex").map(str::to_owned),
                        session_not_on_or_after,
                        context_class,
                    });
                }
            }
        }
        let authn = authn.ok_or(Error::NoAuthnStatement)?;
        let mut attributes = Vec::new();
        for statement in a.children_named(SAML_NS, "AttributeStatement") {
            for attr in statement.children_named(SAML_NS, "Attribute") {
                let name = attr
                    .attribute("Name")
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| malformed("Attribute", "the Name attribute is missing"))?;
                attributes.push(Attribute {
                    name: name.to_owned(),
                    name_format: attr.attribute("NameFormat").map(str::to_owned),
                    friendly_name: attr.attribute("FriendlyName").map(str::to_owned),
                    values: attr
                        .children_named(SAML_NS, "AttributeValue")
                        .map(|v| v.text())
                        .collect(),
                });
            }
        }

        // Remember the ID for as long as any part of the assertion could still be accepted.
        let replay_until = [not_on_or_after, Some(confirmation_until)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(confirmation_until);
        let replay_until = crate::time::later(replay_until, skew);
        Ok(Checked {
            id: id.clone(),
            issue_instant,
            replay_until,
            assertion: VerifiedAssertion {
                id,
                issuer: self.idp.entity_id().to_owned(),
                name_id,
                attributes,
                authn,
                not_before,
                not_on_or_after,
                audiences: checked_audiences,
                in_response_to,
                one_time_use,
                signed,
                signing_key,
                warnings,
            },
        })
    }

    /// Checks one bearer `SubjectConfirmationData`; returns its `InResponseTo` and expiry, or
    /// why it is not acceptable.
    fn check_confirmation(
        &self,
        sc: &VerifiedElement<'_, '_>,
        now: DateTime<Utc>,
    ) -> Result<(Option<String>, DateTime<Utc>), String> {
        let skew = self.skew();
        let Some(data) = sc.child(SAML_NS, "SubjectConfirmationData") else {
            return Err("a bearer SubjectConfirmation has no SubjectConfirmationData".to_owned());
        };
        match data.attribute("Recipient") {
            Some(r) if self.sp.acs_urls().iter().any(|u| u == r) => {}
            found => {
                return Err(format!(
                    "Recipient is {}, but this SP's ACS URL is {} (set the ACS URL in the IdP's application settings)",
                    found.map_or_else(|| "absent".to_owned(), |f| format!("{f:?}")),
                    self.sp.acs_urls().join(" or ")
                ))
            }
        }
        let Some(until) = data.attribute("NotOnOrAfter") else {
            return Err("SubjectConfirmationData has no NotOnOrAfter".to_owned());
        };
        let Some(until) = parse_instant(until) else {
            return Err(format!(
                "SubjectConfirmationData NotOnOrAfter {until:?} is not a time"
            ));
        };
        if crate::time::earlier(now, skew) >= until {
            return Err(format!(
                "SubjectConfirmationData expired at {} and it is now {} (clock skew allowed: {} s)",
                crate::time::show(until),
                crate::time::show(now),
                skew.num_seconds()
            ));
        }
        if let Some(nb) = data.attribute("NotBefore") {
            match parse_instant(nb) {
                Some(nb) if crate::time::later(now, skew) >= nb => {}
                _ => return Err(format!("SubjectConfirmationData is not valid before {nb}")),
            }
        }
        Ok((data.attribute("InResponseTo").map(str::to_owned), until))
    }

    /// Decrypts the `EncryptedID` of a signed assertion (SAML Core §2.2.4). The ciphertext was
    /// covered by the assertion's signature, so the NameID it decrypts to is signed content.
    fn decrypt_name_id(
        &self,
        encrypted: &VerifiedElement<'_, '_>,
        warnings: &mut Vec<LoginWarning>,
    ) -> Result<NameId, Error> {
        let (key, policy) = self.decryption.as_ref().ok_or(Error::EncryptedNameId)?;
        let (data, candidates) = encrypted_parts(encrypted, "EncryptedID")?;
        let decrypted = xmlenc::decrypt_verified_with_algorithm(
            self.verifier.provider(),
            &data,
            &candidates,
            key,
            policy,
        )
        .map_err(Error::Decryption)?;
        warnings.extend(LoginWarning::for_decryption(
            "EncryptedID",
            decrypted.algorithm,
            &decrypted.delegated,
        ));
        name_id_from_plaintext(
            decrypted.plaintext,
            encrypted.namespaces(),
            self.settings.max_message_bytes(),
        )
    }

    fn check_in_response_to(
        &self,
        response: ResponseInResponseTo<'_>,
        confirmation: Option<&str>,
        expect: Expect<'_>,
    ) -> Result<Option<String>, Error> {
        if let (Some(r), Some(c)) = (response.signed, confirmation) {
            if r != c {
                return Err(Error::InResponseToDisagree {
                    response: r.to_owned(),
                    confirmation: c.to_owned(),
                });
            }
        }
        if let Some(found) = response.signed.or(confirmation) {
            return match expect {
                Expect::Request(expected) if expected == Some(found) => Ok(Some(found.to_owned())),
                Expect::Request(expected) => Err(Error::InResponseTo {
                    expected: expected.map(str::to_owned),
                    found: Some(found.to_owned()),
                }),
                // Looked up in the store by the caller, once every check has passed.
                Expect::Store => Ok(Some(found.to_owned())),
            };
        }
        // Nothing signed ties this Response to a request: it is IdP-initiated, whatever an
        // unsigned InResponseTo claims. Such a claim may refuse the login, never accept it.
        if let Some(claim) = response.unsigned {
            if !self.settings.allows_idp_initiated() {
                return Err(Error::InResponseToNotSigned {
                    found: claim.to_owned(),
                });
            }
            if let Expect::Request(expected) = expect {
                if expected != Some(claim) {
                    return Err(Error::InResponseTo {
                        expected: expected.map(str::to_owned),
                        found: Some(claim.to_owned()),
                    });
                }
            }
        }
        if self.settings.allows_idp_initiated() {
            Ok(None)
        } else {
            Err(Error::Unsolicited)
        }
    }
}

/// What the InResponseTo of a Response is checked against: the request ID the host kept
/// (`None`: no login was started), or a store of outstanding requests (looked up after the
/// checks).
#[derive(Clone, Copy)]
enum Expect<'r> {
    Request(Option<&'r str>),
    Store,
}

/// The Response's `InResponseTo`, split by whether a signature covers it.
#[derive(Clone, Copy)]
struct ResponseInResponseTo<'a> {
    /// From the signed Response: binds the login to a request.
    signed: Option<&'a str>,
    /// From an unsigned Response: can only refuse.
    unsigned: Option<&'a str>,
}

/// The Response element, read through its signature when it has one.
struct ResponsePart<'a, 'i> {
    node: Node<'a, 'i>,
    signed: Option<VerifiedElement<'a, 'i>>,
    encrypted_assertion: bool,
}

impl<'a> ResponsePart<'a, '_> {
    fn attribute(&self, name: &str) -> Option<&'a str> {
        match &self.signed {
            Some(e) => e.attribute(name),
            None => self.node.attribute(name),
        }
    }

    /// A child's trimmed text and `Format` attribute.
    fn child(&self, namespace: &str, local: &str) -> Option<(String, Option<&'a str>)> {
        match &self.signed {
            Some(e) => e
                .child(namespace, local)
                .map(|c| (c.text().trim().to_owned(), c.attribute("Format"))),
            None => child(self.node, namespace, local).map(|c| (text_of(c), c.attribute("Format"))),
        }
    }
}

/// SAML Core §3.2.1 (protocol messages) and §2.3.3 (assertions): `Version` is `2.0`.
pub(crate) fn check_version(element: &'static str, found: Option<&str>) -> Result<(), Error> {
    if found == Some("2.0") {
        Ok(())
    } else {
        Err(Error::Version {
            element,
            found: found.map(str::to_owned),
        })
    }
}

/// A condition for a message: `{namespace}name`, with the `xsi:type` of a generic
/// `saml:Condition` (resolved through the signed namespace bindings).
fn describe_condition(condition: &VerifiedElement<'_, '_>) -> String {
    let name = match condition.namespace() {
        Some(ns) => format!("{{{ns}}}{}", condition.local_name()),
        None => condition.local_name().to_owned(),
    };
    match condition.attribute_ns(XSI_NS, "type") {
        Some(t) => {
            let (prefix, local) = t.split_once(':').map_or((None, t), |(p, l)| (Some(p), l));
            match condition.lookup_namespace(prefix) {
                Some(ns) => format!("{name} of type {{{ns}}}{local}"),
                None => format!("{name} of type {t:?}"),
            }
        }
        None => name,
    }
}

/// The Response's one assertion, as found.
enum Found<'a, 'i> {
    Plain(Node<'a, 'i>),
    Encrypted(Node<'a, 'i>),
}

/// Decrypts an `EncryptedAssertion` and returns the plaintext wrapped in an element that
/// declares the namespaces in scope at the `EncryptedAssertion`, so that an assertion relying
/// on prefixes declared by the Response still parses.
/// The `NameID` a decrypted `EncryptedID` holds, parsed by the hardened parser in the
/// namespace context of the `EncryptedID`. Anything but exactly one `saml:NameID` without
/// child elements is a decryption failure, like every other failure after decryption (no
/// parse oracle). Its text is every text node concatenated: comments cannot truncate it.
pub(crate) fn name_id_from_plaintext<'n>(
    plaintext: Vec<u8>,
    namespaces: impl Iterator<Item = (Option<&'n str>, &'n str)>,
    max_bytes: usize,
) -> Result<NameId, Error> {
    let failed = || Error::Decryption(XmlEncError::DecryptionFailed);
    let plaintext = String::from_utf8(plaintext).map_err(|_| failed())?;
    let mut wrapped = String::from("<fedkit-decrypted");
    for (prefix, uri) in namespaces {
        let uri = crate::bindings::escape(uri);
        match prefix {
            Some("xml") => {}
            Some(prefix) => wrapped.push_str(&format!(" xmlns:{prefix}=\"{uri}\"")),
            None => wrapped.push_str(&format!(" xmlns=\"{uri}\"")),
        }
    }
    wrapped.push('>');
    wrapped.push_str(&plaintext);
    wrapped.push_str("</fedkit-decrypted>");
    let limits = Limits::default().with_max_bytes(max_bytes);
    let inner = Document::parse_with_limits(&wrapped, &limits).map_err(|_| failed())?;
    let mut elements = inner.root_element().children().filter(|c| c.is_element());
    let element = match (elements.next(), elements.next()) {
        (Some(e), None) if has_name(e, SAML_NS, "NameID") => e,
        _ => return Err(failed()),
    };
    if element.children().any(|c| c.is_element()) {
        return Err(failed());
    }
    let attribute = |name: &str| element.attribute(name).map(str::to_owned);
    let value = element
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_owned();
    if value.is_empty() {
        return Err(malformed("NameID", "it is empty"));
    }
    Ok(NameId {
        value,
        format: attribute("Format"),
        name_qualifier: attribute("NameQualifier"),
        sp_name_qualifier: attribute("SPNameQualifier"),
    })
}

/// Reads a `NameID` element (signed, or decrypted from a signed `EncryptedID`).
fn name_id_of(element: &VerifiedElement<'_, '_>) -> Result<NameId, Error> {
    if element.has_child_elements() {
        return Err(malformed("NameID", "it contains elements"));
    }
    Ok(NameId {
        value: element.text().trim().to_owned(),
        format: element.attribute("Format").map(str::to_owned),
        name_qualifier: element.attribute("NameQualifier").map(str::to_owned),
        sp_name_qualifier: element.attribute("SPNameQualifier").map(str::to_owned),
    })
}

/// The one `xenc:EncryptedData` of a verified SAML encrypted element (`element` names it for
/// the error) and the `xenc:EncryptedKey`s beside it.
fn encrypted_parts<'a, 'input>(
    encrypted: &VerifiedElement<'a, 'input>,
    element: &'static str,
) -> Result<(VerifiedElement<'a, 'input>, Vec<VerifiedElement<'a, 'input>>), Error> {
    let mut data = encrypted.children_named(XENC_NS, "EncryptedData");
    let (Some(data), None) = (data.next(), data.next()) else {
        return Err(malformed(
            element,
            "it must contain exactly one xenc:EncryptedData",
        ));
    };
    Ok((data, encrypted.children_named(XENC_NS, "EncryptedKey").collect()))
}

/// Decrypts an `EncryptedAssertion` read through the Response signature: the
/// `EncryptedData`, and every `EncryptedKey` that may carry its key (inside its `KeyInfo`, or
/// beside it in the `EncryptedAssertion`), are verified elements, so nothing outside the
/// signed subtree takes part.
fn decrypt_signed_assertion(
    provider: &dyn CryptoProvider,
    encrypted: &VerifiedElement<'_, '_>,
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<xmlenc::DecryptedContent, Error> {
    let (data, candidates) = encrypted_parts(encrypted, "EncryptedAssertion")?;
    xmlenc::decrypt_verified_content(provider, &data, &candidates, encrypted, key, policy)
        .map_err(Error::Decryption)
}

/// SAML Core §6.2: the `EncryptedKey` of an `EncryptedAssertion` sits in the `EncryptedData`'s
/// `KeyInfo` or beside it in the `EncryptedAssertion`. A `ds:RetrievalMethod` there must
/// name, by a same-document reference to a unique ID, one of those sibling `EncryptedKey`s;
/// one that names a key elsewhere (inside the Response's own `ds:Signature`, which its
/// signature does not cover, or anywhere outside the `EncryptedAssertion`) is refused by
/// name rather than ignored.
fn check_key_references(
    doc: &Document<'_>,
    encrypted: Node<'_, '_>,
    response: Option<&Verified<'_, '_>>,
) -> Result<(), Error> {
    const ENCRYPTED_KEY_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";
    let retrievals = encrypted
        .children()
        .filter(|c| has_name(*c, XENC_NS, "EncryptedData"))
        .filter_map(|d| child(d, fedkit_xmldsig::DSIG_NS, "KeyInfo"))
        .flat_map(|k| k.children())
        .filter(|r| has_name(*r, fedkit_xmldsig::DSIG_NS, "RetrievalMethod"))
        .filter(|r| r.attribute("Type").is_none_or(|t| t == ENCRYPTED_KEY_TYPE));
    for retrieval in retrievals {
        let uri = retrieval.attribute("URI").unwrap_or_default();
        let refuse = |problem: String| Error::EncryptedKeyReference {
            uri: uri.to_owned(),
            problem,
            response_signed: response.is_some(),
        };
        let Some(id) = uri.strip_prefix('#').filter(|id| !id.is_empty()) else {
            return Err(refuse(
                "is not a same-document reference to the ID of an xenc:EncryptedKey".to_owned(),
            ));
        };
        let carriers: Vec<Node<'_, '_>> = doc
            .tree()
            .descendants()
            .filter(|n| {
                n.is_element()
                    && n.attributes().any(|a| {
                        let id_typed = match a.namespace() {
                            None => matches!(a.name(), "ID" | "Id" | "id"),
                            Some(ns) => ns == XML_NS && a.name() == "id",
                        };
                        id_typed && a.value() == id
                    })
            })
            .collect();
        let target = match carriers.as_slice() {
            [one] => *one,
            [] => {
                return Err(refuse(format!(
                    "names no element: no element carries the ID {id:?}"
                )))
            }
            many => {
                return Err(refuse(format!(
                    "is ambiguous: {} elements carry the ID {id:?}",
                    many.len()
                )))
            }
        };
        let place = path_of(target);
        // The Response's enveloped signature: the one part of a signed Response its
        // signature does not cover.
        let in_response_signature = target
            .ancestors()
            .any(|a| is_signature(a) && a.parent() == Some(doc.root_element()));
        if response.is_some() && in_response_signature {
            return Err(refuse(format!(
                "names {place}, inside a ds:Signature, which the Response signature does not cover"
            )));
        }
        if target.parent() != Some(encrypted) {
            return Err(refuse(format!("names {place}, outside the EncryptedAssertion")));
        }
        if !has_name(target, XENC_NS, "EncryptedKey") {
            return Err(refuse(format!(
                "names {place}, which is not an xenc:EncryptedKey"
            )));
        }
    }
    Ok(())
}

/// `/Response/Signature/Object/EncryptedKey`: an element's local name and its ancestors'.
fn path_of(node: Node<'_, '_>) -> String {
    let mut names: Vec<&str> = node
        .ancestors()
        .filter(Node::is_element)
        .map(|a| a.tag_name().name())
        .collect();
    names.reverse();
    format!("/{}", names.join("/"))
}

fn decrypt_assertion(
    provider: &dyn CryptoProvider,
    encrypted: Node<'_, '_>,
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<(String, ContentAlgorithm, Vec<fedkit_xmldsig::xmlenc::Delegation>), Error> {
    let mut data = encrypted
        .children()
        .filter(|c| has_name(*c, XENC_NS, "EncryptedData"));
    let (Some(data), None) = (data.next(), data.next()) else {
        return Err(malformed(
            "EncryptedAssertion",
            "it must contain exactly one xenc:EncryptedData",
        ));
    };
    let candidates: Vec<Node<'_, '_>> = encrypted
        .children()
        .filter(|c| has_name(*c, XENC_NS, "EncryptedKey"))
        .collect();
    let decrypted = xmlenc::decrypt_with_algorithm(provider, data, &candidates, key, policy)
        .map_err(Error::Decryption)?;
    let plaintext = String::from_utf8(decrypted.plaintext)
        .map_err(|_| Error::Decryption(XmlEncError::DecryptionFailed))?;
    let body = match plaintext.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, after)| after),
        None => plaintext.as_str(),
    };
    let mut wrapped = String::from("<fedkit-decrypted");
    for ns in encrypted.namespaces() {
        let uri = crate::bindings::escape(ns.uri());
        match ns.name() {
            Some("xml") => {}
            Some(prefix) => wrapped.push_str(&format!(" xmlns:{prefix}=\"{uri}\"")),
            None => wrapped.push_str(&format!(" xmlns=\"{uri}\"")),
        }
    }
    wrapped.push('>');
    wrapped.push_str(body);
    wrapped.push_str("</fedkit-decrypted>");
    Ok((wrapped, decrypted.algorithm, decrypted.delegated))
}

/// What `check_conditions` found.
struct CheckedConditions {
    not_before: Option<DateTime<Utc>>,
    not_on_or_after: Option<DateTime<Utc>>,
    one_time_use: bool,
    /// The `Audience` values of every `AudienceRestriction` (each named this SP).
    audiences: Vec<String>,
}

/// The outcome of the checks, before the replay cache records the ID.
pub(crate) struct Checked {
    pub(crate) id: String,
    /// The assertion's `IssueInstant`.
    issue_instant: DateTime<Utc>,
    pub(crate) replay_until: DateTime<Utc>,
    pub(crate) assertion: VerifiedAssertion,
}

fn malformed(element: &'static str, reason: &str) -> Error {
    Error::Malformed {
        element,
        reason: reason.to_owned(),
    }
}

fn has_name(node: Node<'_, '_>, namespace: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(namespace) && node.tag_name().name() == local
}

fn child<'a, 'i>(node: Node<'a, 'i>, namespace: &str, local: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| has_name(*c, namespace, local))
}

fn describe(node: Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_owned(),
    }
}

/// Text content of an unverified element, used only for refusals and status messages.
fn text_of(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<String>()
        .trim()
        .to_owned()
}

fn check_status(response: Node<'_, '_>) -> Result<(), Error> {
    let status =
        child(response, SAMLP_NS, "Status").ok_or_else(|| malformed("Response", "the Status is missing"))?;
    let code = child(status, SAMLP_NS, "StatusCode")
        .ok_or_else(|| malformed("Status", "the StatusCode is missing"))?;
    let value = code.attribute("Value").unwrap_or_default();
    if value == STATUS_SUCCESS {
        return Ok(());
    }
    Err(Error::Status {
        status: value.to_owned(),
        second_level: child(code, SAMLP_NS, "StatusCode")
            .and_then(|c| c.attribute("Value"))
            .map(str::to_owned),
        message: child(status, SAMLP_NS, "StatusMessage").map(text_of),
    })
}

/// The first `ds:Signature` under `top` that is neither a direct child of `top` nor of
/// `assertion` (signatures inside an `Advice` or inside another signature aside), as the path
/// of its parent: `prefix`, then local names from `top` (`/Response/Assertion/Subject`).
fn misplaced_signature(top: Node<'_, '_>, assertion: Node<'_, '_>, prefix: &str) -> Option<String> {
    let stray = top.descendants().find(|n| {
        is_signature(*n)
            && n.parent().is_some_and(|p| p != top && p != assertion)
            && !n
                .ancestors()
                .skip(1)
                .take_while(|a| *a != top)
                .any(|a| has_name(a, SAML_NS, "Advice") || is_signature(a))
    })?;
    let mut names: Vec<&str> = stray
        .ancestors()
        .skip(1)
        .take_while(|a| *a != top)
        .map(|a| a.tag_name().name())
        .collect();
    names.push(top.tag_name().name());
    names.reverse();
    Some(format!("{prefix}/{}", names.join("/")))
}

/// The one assertion of the Response: exactly one `Assertion` or `EncryptedAssertion` in the
/// whole document (those inside an `Advice` do not count), and it must be a direct child of
/// the Response. An assertion hidden in Extensions, an Object or a second copy is refused
/// rather than ignored.
fn the_assertion<'a, 'i>(response: Node<'a, 'i>) -> Result<Found<'a, 'i>, Error> {
    let mut found = Vec::new();
    let mut advice_depth: Vec<fedkit_xmldsig::roxmltree::NodeId> = Vec::new();
    for n in response.descendants() {
        if !n.is_element() {
            continue;
        }
        while let Some(top) = advice_depth.last() {
            if n.ancestors().any(|a| a.id() == *top) {
                break;
            }
            advice_depth.pop();
        }
        if has_name(n, SAML_NS, "Advice") {
            advice_depth.push(n.id());
            continue;
        }
        if advice_depth.is_empty()
            && (has_name(n, SAML_NS, "Assertion") || has_name(n, SAML_NS, "EncryptedAssertion"))
        {
            found.push(n);
        }
    }
    match found.as_slice() {
        [one] if one.parent() == Some(response) => {
            if has_name(*one, SAML_NS, "EncryptedAssertion") {
                Ok(Found::Encrypted(*one))
            } else {
                Ok(Found::Plain(*one))
            }
        }
        [_] => Err(malformed(
            "Response",
            "the assertion is not a direct child of the Response",
        )),
        other => {
            let encrypted = other
                .iter()
                .filter(|n| has_name(**n, SAML_NS, "EncryptedAssertion"))
                .count();
            if encrypted == 0 {
                Err(Error::AssertionCount { found: other.len() })
            } else {
                Err(Error::AssertionKinds {
                    assertions: other.len() - encrypted,
                    encrypted,
                })
            }
        }
    }
}

fn optional_instant(
    element: &VerifiedElement<'_, '_>,
    attribute: &'static str,
    what: &'static str,
) -> Result<Option<DateTime<Utc>>, Error> {
    match element.attribute(attribute) {
        None => Ok(None),
        Some(v) => parse_instant(v)
            .map(Some)
            .ok_or_else(|| malformed(what, &format!("{attribute} {v:?} is not a time with a time zone"))),
    }
}

fn required_instant(
    element: &VerifiedElement<'_, '_>,
    attribute: &'static str,
    what: &'static str,
) -> Result<DateTime<Utc>, Error> {
    optional_instant(element, attribute, what)?
        .ok_or_else(|| malformed(what, &format!("the {attribute} attribute is missing")))
}
