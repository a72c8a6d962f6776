//! SP-initiated login: the AuthnRequest, the HTTP-Redirect and HTTP-POST bindings that carry
//! it, inflating received Redirect messages, and RelayState redirects that cannot be turned
//! into open redirects.

use chrono::{DateTime, Utc};

use fedkit_xmldsig::crypto::CryptoProvider;
use fedkit_xmldsig::SigningKey;

use crate::bindings::{self, escape as xml_escape, RelayState};
use crate::config::ServiceProvider;
use crate::response::SAML_NS;
use crate::time::show;

/// How many random bytes a message ID is made from: 20, the 160 bits SAML Core §1.3.4 asks
/// of an identifier that must not collide by chance ("less than or equal to 2^-160").
pub const ID_RANDOM_BYTES: usize = 20;

/// A SAML message ID from [`ID_RANDOM_BYTES`] bytes of a CSPRNG: `_` and 40 lower-case hex
/// digits (an `xs:ID` must not start with a digit; 160 random bits, SAML Core §1.3.4).
///
/// ```
/// use fedkit_saml::request::{message_id, ID_RANDOM_BYTES};
/// assert_eq!(message_id([0xab; ID_RANDOM_BYTES]), format!("_{}", "ab".repeat(20)));
/// ```
pub fn message_id(random: [u8; ID_RANDOM_BYTES]) -> String {
    format!("_{}", base16ct::lower::encode_string(&random))
}

/// `xml` (a request or logout message with this `id`) with an enveloped XML signature after
/// its Issuer: what the HTTP-POST binding carries when the receiver wants signed messages.
pub(crate) fn sign_message(
    xml: &str,
    id: &str,
    key: &SigningKey,
    certificate_der: Option<&[u8]>,
    provider: &dyn CryptoProvider,
) -> Result<String, SignError> {
    fedkit_xmldsig::sign::sign_enveloped(xml, id, Some((SAML_NS, "Issuer")), key, certificate_der, provider)
        .map_err(SignError::from_sign)
}

/// A SAML 2.0 `AuthnRequest` from this SP to an IdP's SSO URL.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use fedkit_saml::bindings::RelayState;
/// use fedkit_saml::{request::AuthnRequest, ServiceProvider};
/// let sp = ServiceProvider::new("https://app.example.com/saml/metadata", ["https://app.example.com/saml/acs"])?;
/// let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
/// // 20 bytes from the host's CSPRNG (e.g. getrandom); keep `request.id()` in the session.
/// let request = AuthnRequest::new(&sp, "https://sso.jumpcloud.com/saml2/acme", [7u8; 20], now);
/// let url = request.redirect_url(Some(RelayState::new("/dashboard")?));
/// assert!(url.starts_with("https://sso.jumpcloud.com/saml2/acme?SAMLRequest="));
/// assert!(url.ends_with("&RelayState=%2Fdashboard"));
/// assert_eq!(request.id(), format!("_{}", "07".repeat(20)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    id: String,
    issue_instant: DateTime<Utc>,
    destination: String,
    sp_entity_id: String,
    acs_url: String,
    name_id_format: Option<String>,
    force_authn: bool,
}

impl AuthnRequest {
    /// A request to `sso_url` (the IdP's SSO URL, JumpCloud's "IDP URL"), asking for a
    /// Response at the SP's first ACS URL over HTTP-POST. `random` must come from a
    /// cryptographically secure generator: the ID is what ties the Response to this login.
    pub fn new(
        sp: &ServiceProvider,
        sso_url: &str,
        random: [u8; ID_RANDOM_BYTES],
        now: DateTime<Utc>,
    ) -> Self {
        let id = message_id(random);
        Self {
            id,
            issue_instant: now,
            destination: sso_url.to_owned(),
            sp_entity_id: sp.entity_id().to_owned(),
            acs_url: sp.acs_urls().first().cloned().unwrap_or_default(),
            name_id_format: None,
            force_authn: false,
        }
    }

    /// Asks for a NameID in this format (e.g. `...:nameid-format:emailAddress`).
    pub fn with_name_id_format(mut self, format: &str) -> Self {
        self.name_id_format = Some(format.to_owned());
        self
    }

    /// Asks the IdP to authenticate the user again even with a session (`ForceAuthn`).
    pub fn with_force_authn(mut self) -> Self {
        self.force_authn = true;
        self
    }

    /// The request ID: keep it with the user's session and pass it to
    /// [`ResponseValidator::process_post`](crate::ResponseValidator::process_post).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The request as XML.
    pub fn to_xml(&self) -> String {
        let mut xml = format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" \
             IssueInstant=\"{}\" Destination=\"{}\" AssertionConsumerServiceURL=\"{}\" \
             ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"",
            xml_escape(&self.id),
            show(self.issue_instant),
            xml_escape(&self.destination),
            xml_escape(&self.acs_url),
        );
        if self.force_authn {
            xml.push_str(" ForceAuthn=\"true\"");
        }
        xml.push_str(&format!(
            "><saml:Issuer>{}</saml:Issuer>",
            xml_escape(&self.sp_entity_id)
        ));
        if let Some(format) = &self.name_id_format {
            xml.push_str(&format!(
                "<samlp:NameIDPolicy Format=\"{}\" AllowCreate=\"true\"/>",
                xml_escape(format)
            ));
        }
        xml.push_str("</samlp:AuthnRequest>");
        xml
    }

    /// The HTTP-Redirect binding URL: the request DEFLATE-compressed (raw), base64- and
    /// URL-encoded into `SAMLRequest`, then `RelayState` if given (at most 80 bytes: see
    /// [`RelayState`]); unsigned (see [`signed_redirect_url`](Self::signed_redirect_url) for
    /// IdPs that want signed requests).
    pub fn redirect_url(&self, relay_state: Option<RelayState<'_>>) -> String {
        bindings::redirect_url(&self.destination, "SAMLRequest", &self.to_xml(), relay_state)
    }

    /// The HTTP-Redirect binding URL with the query-string signature (SAML Bindings
    /// §3.4.4.1): RSA-SHA256 over `SAMLRequest=…&RelayState=…&SigAlg=…` with the SP's signing
    /// key; the IdP verifies it with the SP certificate from the SP metadata.
    pub fn signed_redirect_url(
        &self,
        relay_state: Option<RelayState<'_>>,
        key: &SigningKey,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SignError> {
        bindings::signed_redirect_url(
            &self.destination,
            "SAMLRequest",
            &self.to_xml(),
            relay_state,
            key,
            provider,
        )
    }

    /// The request with an enveloped XML signature (RSA-SHA256, or ECDSA for an EC key;
    /// exclusive c14n; after the Issuer) by the SP's signing key, and its certificate in KeyInfo when given: what the
    /// HTTP-POST binding carries when the IdP wants signed requests.
    pub fn signed_xml(
        &self,
        key: &SigningKey,
        certificate_der: Option<&[u8]>,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SignError> {
        sign_message(&self.to_xml(), &self.id, key, certificate_der, provider)
    }

    /// The HTTP-POST binding: an HTML page with a form that posts `SAMLRequest` (base64, not
    /// compressed) and `RelayState` to the IdP as soon as it loads.
    pub fn post_form(&self, relay_state: Option<RelayState<'_>>) -> String {
        bindings::post_form(&self.destination, "SAMLRequest", &self.to_xml(), relay_state)
    }

    /// [`post_form`](Self::post_form) with the XML-signed request ([`signed_xml`](Self::signed_xml)).
    pub fn signed_post_form(
        &self,
        relay_state: Option<RelayState<'_>>,
        key: &SigningKey,
        certificate_der: Option<&[u8]>,
        provider: &dyn CryptoProvider,
    ) -> Result<String, SignError> {
        Ok(bindings::post_form(
            &self.destination,
            "SAMLRequest",
            &self.signed_xml(key, certificate_der, provider)?,
            relay_state,
        ))
    }
}

/// Why a message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key cannot produce an RSA-SHA256 signature.
    #[error("the SP signing key cannot sign with RSA-SHA256 (it must be an RSA private key)")]
    Failed,
    /// The crypto provider does not make this signature with this key itself (e.g. aws-lc-rs
    /// with an RSA key outside 2048 to 8192 bits); the error names the provider and the
    /// operation.
    #[error("the SP signing key cannot be used: {0}")]
    Provider(fedkit_xmldsig::crypto::CryptoError),
}

impl SignError {
    /// A stable `snake_case` code for logs, metrics and API responses.
    pub fn code(&self) -> &'static str {
        match self {
            // The condition fedkit-xmldsig's `SignError::Key` names: one spelling.
            SignError::Failed => "signing_key_unsuitable",
            SignError::Provider(e) => e.code(),
        }
    }

    /// A provider's refusal as itself; any other failure as [`SignError::Failed`].
    pub(crate) fn from_crypto(error: fedkit_xmldsig::crypto::CryptoError) -> Self {
        match error {
            e @ fedkit_xmldsig::crypto::CryptoError::Unsupported { .. } => SignError::Provider(e),
            _ => SignError::Failed,
        }
    }

    /// A provider's refusal as itself; any other failure as [`SignError::Failed`].
    pub(crate) fn from_sign(error: fedkit_xmldsig::sign::SignError) -> Self {
        match error {
            fedkit_xmldsig::sign::SignError::Crypto(e) => Self::from_crypto(e),
            _ => SignError::Failed,
        }
    }
}

/// Why a Redirect-binding message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InflateError {
    /// Not base64.
    #[error("the message is not valid base64: {0}")]
    Base64(String),
    /// Not raw DEFLATE data.
    #[error("the message is not raw DEFLATE data")]
    Deflate,
    /// Inflates to more than the limit (a compression bomb, or simply too large).
    #[error("the message inflates to more than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
}

impl InflateError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            InflateError::Base64(_) => "bad_base64",
            InflateError::Deflate => "bad_deflate",
            InflateError::TooLarge { .. } => "too_large",
        }
    }
}

/// Decodes a `SAMLRequest`/`SAMLResponse` query value of the HTTP-Redirect binding (already
/// URL-decoded): base64, then raw DEFLATE, stopping at `max` bytes of output so a
/// compression bomb costs nothing. The same as [`bindings::inflate`].
///
/// ```
/// # use fedkit_saml::request::inflate_redirect_message;
/// let bomb = vec![b'a'; 10_000_000];
/// let value = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, miniz_oxide::deflate::compress_to_vec(&bomb, 9));
/// assert!(inflate_redirect_message(&value, 1 << 20).is_err());
/// ```
pub fn inflate_redirect_message(value: &str, max: usize) -> Result<Vec<u8>, InflateError> {
    bindings::inflate(value, max)
}

/// Where to send the user after login, from a `RelayState` value, or `None` when it would be
/// an open redirect. Accepted: a path on this site (`/dashboard?tab=2`, not `//evil.com` or
/// `/\evil.com`), or an absolute `https://` URL whose origin (scheme, host and port) is one
/// of `allowed_origins` (e.g. `https://app.example.com`).
///
/// ```
/// use fedkit_saml::request::safe_redirect;
/// let origins = ["https://app.example.com"];
/// assert_eq!(safe_redirect("/dashboard", &origins), Some("/dashboard"));
/// assert_eq!(safe_redirect("https://app.example.com/x", &origins), Some("https://app.example.com/x"));
/// assert_eq!(safe_redirect("//evil.com/x", &origins), None);
/// assert_eq!(safe_redirect("https://app.example.com.evil.com/", &origins), None);
/// assert_eq!(safe_redirect("javascript:alert(1)", &origins), None);
/// ```
pub fn safe_redirect<'a>(relay_state: &'a str, allowed_origins: &[&str]) -> Option<&'a str> {
    if relay_state.is_empty() || relay_state.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    if let Some(path) = relay_state.strip_prefix('/') {
        return (!path.starts_with('/')).then_some(relay_state);
    }
    let lower = relay_state.to_ascii_lowercase();
    let after_scheme = lower.strip_prefix("https://")?;
    let authority_len = after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len());
    let origin = lower.get(..8 + authority_len)?;
    if origin.contains('@') {
        return None;
    }
    allowed_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
        .then_some(relay_state)
}

/// Renamed [`SignError`], like fedkit-xmldsig's error for the same condition.
#[deprecated(note = "renamed to SignError")]
pub type SigningError = SignError;
