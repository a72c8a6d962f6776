//! The test IdP's signer in process: [`TestIdp`], the same code as `fedkit idp serve` behind
//! a small API, for tests that want a signed Response without a server or a browser.

use chrono::{DateTime, Utc};

use super::protocol::{self, Fault, Idp, ResponseIds, SignMode};
use super::{keys, sp, users};
use crate::output::Failure;

/// Why a [`TestIdp`] could not be built or refused a login. [`code`](Self::code) is the
/// same stable code `fedkit idp serve` reports (on its pages and in the headless endpoint's
/// JSON).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TestIdpError {
    /// The configuration is unusable: the key or certificate (`bad_key`, `weak_key`,
    /// `bad_certificate`, `key_certificate_mismatch`), the SP settings or metadata
    /// (`bad_sp_settings`, `bad_sp_metadata`), the users (`bad_users_file`), the base URL
    /// (`bad_base_url`).
    #[error("test IdP configuration: {message}")]
    Config {
        /// The stable code.
        code: &'static str,
        /// What was expected, what was found, what to change.
        message: String,
    },
    /// The login was refused, as the server would refuse it: the AuthnRequest (e.g.
    /// `unknown_sp`, `destination_mismatch`, `acs_url_not_registered`, `unsigned_request`,
    /// `bad_signature`, `bad_message`), the user (`unknown_user`), the RelayState
    /// (`relay_state_too_long`).
    #[error("test IdP refused the login: {message}")]
    Refused {
        /// The stable code.
        code: &'static str,
        /// What was expected, what was found, what to change.
        message: String,
    },
}

impl TestIdpError {
    /// The stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config { code, .. } | Self::Refused { code, .. } => code,
        }
    }
}

impl From<Failure> for TestIdpError {
    fn from(f: Failure) -> Self {
        Self::Config {
            code: f.code,
            message: f.message,
        }
    }
}

impl From<protocol::Refused> for TestIdpError {
    fn from(r: protocol::Refused) -> Self {
        Self::Refused {
            code: r.code,
            message: r.message,
        }
    }
}

/// What the test IdP's auto-submitting form would post to the SP.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedResponse {
    /// Where the form posts: the SP's ACS URL.
    pub acs_url: String,
    /// The `SAMLResponse` field: base64 of the signed Response XML.
    pub saml_response: String,
    /// The `RelayState` field, when there is one.
    pub relay_state: Option<String>,
}

/// The `fedkit idp serve` Identity Provider as a value, **for tests and development only**:
/// it signs a Response for any of its users, for whoever asks. It reads AuthnRequests with
/// the same checks, and builds, signs and breaks (see [`Fault`]) Responses with the same
/// code as the server, so a test of an SP can run in one process.
///
/// Like the server, it serves one SP, has three demo users unless given others
/// ([`with_users_json`](Self::with_users_json)), signs the Response (RSA-SHA256) unless
/// told otherwise ([`with_sign`](Self::with_sign)), and is found at `BASE-URL/saml2/fedkit-test`,
/// which is also its entity ID unless [`with_entity_id`](Self::with_entity_id) says otherwise.
///
/// ```
/// use chrono::Utc;
/// use fedkit_cli::idp::{Fault, TestIdp};
/// use fedkit_saml::request::AuthnRequest;
/// use fedkit_saml::{IdentityProvider, InMemoryReplayCache, ResponseValidator, ServiceProvider};
/// use fedkit_xmldsig::TrustedKeys;
///
/// let now = Utc::now();
/// // A fresh RSA-2048 key and self-signed certificate (or PEM files of your own).
/// let (key_pem, certificate_pem) = TestIdp::generate_key(now)?;
/// let idp = TestIdp::new(
///     "http://127.0.0.1:8081",
///     "https://app.example.com/saml/metadata",
///     &["https://app.example.com/saml/acs"],
///     &key_pem,
///     &certificate_pem,
/// )?;
///
/// // The SP under test: its AuthnRequest, and its validator trusting the IdP's certificate.
/// let sp = ServiceProvider::new("https://app.example.com/saml/metadata", ["https://app.example.com/saml/acs"])?;
/// let request = AuthnRequest::new(&sp, &idp.sso_url(), [7; 20], now);
/// let url = request.redirect_url(Some(fedkit_saml::RelayState::new("/dashboard")?));
///
/// let posted = idp.respond(Some(&url), None, "jane.doe@example.com", Fault::None, now)?;
/// assert_eq!(posted.acs_url, "https://app.example.com/saml/acs");
/// assert_eq!(posted.relay_state.as_deref(), Some("/dashboard"));
///
/// let trusted = IdentityProvider::new(idp.entity_id(), TrustedKeys::from_pem(&certificate_pem)?)?;
/// let validator = ResponseValidator::new(sp, trusted);
/// let replay = InMemoryReplayCache::new(100);
/// let assertion = validator.process_post(&posted.saml_response, Some(request.id()), now, &replay)?;
/// assert_eq!(assertion.name_id().value, "jane.doe@example.com");
/// assert_eq!(assertion.first_value("firstName"), Some("Jane"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TestIdp {
    idp: Idp,
}

/// The application name in the SSO URL, as `fedkit idp serve`'s default `--app`.
const APP: &str = "fedkit-test";

impl TestIdp {
    /// A test IdP at `base_url` (an absolute http(s) URL: the SSO URL and the default entity
    /// ID are `base_url/saml2/fedkit-test`) for the SP `sp_entity_id` with these ACS URLs
    /// (the first is the default), signing with `key_pem` (an RSA private key of at least
    /// 2048 bits, PEM) whose certificate is `certificate_pem`. AuthnRequests need not be
    /// signed; use [`from_sp_metadata`](Self::from_sp_metadata) for an SP that signs them.
    pub fn new(
        base_url: &str,
        sp_entity_id: &str,
        acs_urls: &[&str],
        key_pem: &str,
        certificate_pem: &str,
    ) -> Result<Self, TestIdpError> {
        if acs_urls.is_empty() {
            return Err(TestIdpError::Config {
                code: "bad_sp_settings",
                message: "no ACS URL: give at least one, where the SP receives Responses".to_owned(),
            });
        }
        let acs: Vec<String> = acs_urls.iter().map(|u| (*u).to_owned()).collect();
        let sp = sp::from_flags(sp_entity_id, &acs, None, None)?;
        Self::build(base_url, sp, key_pem, certificate_pem)
    }

    /// A test IdP for the SP described by its SAML metadata (entity ID, ACS URLs, SLO URL;
    /// with `AuthnRequestsSigned="true"` and a signing certificate, AuthnRequests must be
    /// signed with its key), as `fedkit idp serve --sp-metadata`. The rest as [`new`](Self::new).
    pub fn from_sp_metadata(
        base_url: &str,
        sp_metadata: &[u8],
        key_pem: &str,
        certificate_pem: &str,
    ) -> Result<Self, TestIdpError> {
        let sp = sp::from_metadata("the SP metadata", sp_metadata)?;
        Self::build(base_url, sp, key_pem, certificate_pem)
    }

    fn build(
        base_url: &str,
        sp: sp::SpConfig,
        key_pem: &str,
        certificate_pem: &str,
    ) -> Result<Self, TestIdpError> {
        let unspecified = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let base_url = super::base_url(Some(base_url), unspecified).map_err(|_| TestIdpError::Config {
            code: "bad_base_url",
            message: format!("base URL {base_url:?}: give an absolute http(s) URL without query or fragment"),
        })?;
        let (key, certificate_der) =
            keys::check_pair(key_pem, "the key", certificate_pem, "the certificate")?;
        Ok(Self {
            idp: Idp {
                entity_id: format!("{base_url}/saml2/{APP}"),
                base_url,
                app: APP.to_owned(),
                sp,
                users: users::demo_users(),
                sign: SignMode::Response,
                key,
                certificate_der,
            },
        })
    }

    /// A new RSA-2048 key (PKCS#8 PEM) and a self-signed certificate for it (PEM), valid from
    /// the start of `now`'s month for ten years: what `fedkit idp serve` generates on its
    /// first start. Returns `(key_pem, certificate_pem)`.
    pub fn generate_key(now: DateTime<Utc>) -> Result<(String, String), TestIdpError> {
        Ok(keys::generate(now)?)
    }

    /// The users, from the JSON of `--users`: an array of `{"email", "firstName", "lastName",
    /// "groups" (optional)}`, instead of the demo users.
    pub fn with_users_json(mut self, json: &[u8]) -> Result<Self, TestIdpError> {
        self.idp.users = users::parse_users("the users JSON", json)?;
        Ok(self)
    }

    /// What to sign, as `--sign` (default: the Response).
    pub fn with_sign(mut self, sign: SignMode) -> Self {
        self.idp.sign = sign;
        self
    }

    /// Another IdP entity ID (the Responses' Issuer), as `--entity-id`.
    pub fn with_entity_id(mut self, entity_id: &str) -> Self {
        entity_id.clone_into(&mut self.idp.entity_id);
        self
    }

    /// The IdP entity ID.
    pub fn entity_id(&self) -> &str {
        &self.idp.entity_id
    }

    /// The SSO URL: AuthnRequests must name it as their Destination.
    pub fn sso_url(&self) -> String {
        self.idp.sso_url()
    }

    /// The IdP metadata XML, as the server's `/metadata` (its endpoints are `base_url`'s).
    pub fn metadata_xml(&self) -> String {
        self.idp.metadata_xml()
    }

    /// The signing certificate (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.idp.certificate_der
    }

    /// Logs `user` (the email of one of the users) in, as the login page's button would, at
    /// time `now`, with the deliberate defect `fault` ([`Fault::None`] for a correct
    /// Response).
    ///
    /// `authn_request` is the SP's AuthnRequest as the SP sent it: the HTTP-Redirect URL or
    /// its query string (the query signature is checked when the SP must sign), the
    /// `SAMLRequest` value of an HTTP-POST form (base64 XML), or a Redirect `SAMLRequest`
    /// value alone (base64 of deflated XML; it carries no query signature). `None` starts an
    /// IdP-initiated login to the SP's default ACS URL. `relay_state` is returned with the
    /// Response (a Redirect URL's own RelayState counts when it is `None`).
    pub fn respond(
        &self,
        authn_request: Option<&str>,
        relay_state: Option<&str>,
        user: &str,
        fault: Fault,
        now: DateTime<Utc>,
    ) -> Result<SignedResponse, TestIdpError> {
        let posted = protocol::respond(
            &self.idp,
            authn_request,
            relay_state,
            None,
            user,
            fault,
            now,
            ResponseIds::random(),
        )?;
        Ok(SignedResponse {
            acs_url: posted.acs_url,
            saml_response: posted.saml_response,
            relay_state: posted.relay_state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("../../../saml/tests/data/keys/idp.key.pem");
    const CERT: &str = include_str!("../../../saml/tests/data/keys/idp.crt.pem");
    const SP_CERT: &str = include_str!("../../../saml/tests/data/keys/sp.crt.pem");
    const SP: &str = "https://sp.test/metadata";
    const ACS: &str = "https://sp.test/acs";

    fn code<T: std::fmt::Debug>(r: Result<T, TestIdpError>) -> Option<&'static str> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn bad_configuration_is_refused_with_its_code() {
        let base = "http://127.0.0.1:7000";
        assert_eq!(
            code(TestIdp::new(base, SP, &[], KEY, CERT)),
            Some("bad_sp_settings")
        );
        assert_eq!(
            code(TestIdp::new("idp.local", SP, &[ACS], KEY, CERT)),
            Some("bad_base_url")
        );
        assert_eq!(code(TestIdp::new(base, SP, &[ACS], CERT, CERT)), Some("bad_key"));
        assert_eq!(
            code(TestIdp::new(base, SP, &[ACS], KEY, SP_CERT)),
            Some("key_certificate_mismatch")
        );
        assert_eq!(
            code(TestIdp::from_sp_metadata(base, b"<x/>", KEY, CERT)),
            Some("bad_sp_metadata")
        );
        let idp = TestIdp::new(base, SP, &[ACS], KEY, CERT).map(|i| i.with_users_json(b"{}"));
        assert_eq!(
            idp.ok().and_then(|r| r.err()).map(|e| e.code()),
            Some("bad_users_file")
        );
    }

    #[test]
    fn logins_are_refused_with_the_servers_codes() {
        let Ok(idp) = TestIdp::new("http://127.0.0.1:7000/", SP, &[ACS], KEY, CERT) else {
            unreachable!("test configuration")
        };
        assert_eq!(idp.entity_id(), "http://127.0.0.1:7000/saml2/fedkit-test");
        assert_eq!(idp.sso_url(), idp.entity_id());
        let idp = idp.with_entity_id("https://idp.test");
        assert_eq!(idp.entity_id(), "https://idp.test");
        assert!(idp.metadata_xml().contains("entityID=\"https://idp.test\""));
        let now = Utc::now();
        assert_eq!(
            code(idp.respond(None, None, "mallory@example.com", Fault::None, now)),
            Some("unknown_user")
        );
        assert_eq!(
            code(idp.respond(
                Some("SAMLRequest=%%%"),
                None,
                "jane.doe@example.com",
                Fault::None,
                now
            )),
            Some("bad_message")
        );
        let posted = idp.respond(None, Some("/x"), "jane.doe@example.com", Fault::Unsigned, now);
        assert!(posted.is_ok_and(|p| p.acs_url == ACS && p.relay_state.as_deref() == Some("/x")));
    }
}
