//! The SP's own settings and the IdP it trusts.

use std::time::Duration;

use fedkit_xmldsig::{AlgorithmPolicy, TrustedKeys};

use crate::error::{ConfigError, SigningRequirement};

/// This Service Provider, as the IdP knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    entity_id: String,
    acs_urls: Vec<String>,
}

pub(crate) fn check_url(field: &'static str, value: &str) -> Result<(), ConfigError> {
    let lower = value.to_ascii_lowercase();
    let host = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    if host.is_some_and(|h| !h.is_empty()) && !value.chars().any(char::is_whitespace) {
        Ok(())
    } else {
        Err(ConfigError::Url {
            field,
            value: value.to_owned(),
        })
    }
}

impl ServiceProvider {
    /// An SP with its entity ID (the IdP's "Audience" / "SP Entity ID" field; any non-empty
    /// string, often a URL) and its Assertion Consumer Service URL(s) (the IdP's "ACS URL").
    ///
    /// ```
    /// use fedkit_saml::ServiceProvider;
    /// let sp = ServiceProvider::new("https://app.example.com/saml/metadata", ["https://app.example.com/saml/acs"])?;
    /// assert!(ServiceProvider::new("", ["https://app.example.com/saml/acs"]).is_err());
    /// assert!(ServiceProvider::new("app", ["ftp://app.example.com/acs"]).is_err());
    /// assert!(ServiceProvider::new("app", ["/saml/acs"]).is_err());
    /// # Ok::<(), fedkit_saml::ConfigError>(())
    /// ```
    pub fn new<I, S>(entity_id: &str, acs_urls: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if entity_id.trim().is_empty() {
            return Err(ConfigError::Empty {
                field: "SP entity ID",
            });
        }
        let acs_urls: Vec<String> = acs_urls.into_iter().map(Into::into).collect();
        if acs_urls.is_empty() {
            return Err(ConfigError::Empty { field: "ACS URL" });
        }
        for url in &acs_urls {
            check_url("ACS URL", url)?;
        }
        Ok(Self {
            entity_id: entity_id.to_owned(),
            acs_urls,
        })
    }

    /// The SP entity ID.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The ACS URLs.
    pub fn acs_urls(&self) -> &[String] {
        &self.acs_urls
    }
}

/// The Identity Provider this connection trusts: its entity ID and its pinned signing keys.
/// There is no way to build one without a key, so there is no way to accept unsigned or
/// self-signed content by accident.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    entity_id: String,
    signing_keys: TrustedKeys,
}

impl IdentityProvider {
    /// An IdP with its entity ID (JumpCloud: "IdP Entity ID") and its signing certificates or
    /// keys (several during a certificate rotation).
    pub fn new(entity_id: &str, signing_keys: TrustedKeys) -> Result<Self, ConfigError> {
        if entity_id.trim().is_empty() {
            return Err(ConfigError::Empty {
                field: "IdP entity ID",
            });
        }
        Ok(Self {
            entity_id: entity_id.to_owned(),
            signing_keys,
        })
    }

    /// The IdP an imported metadata document describes (fedkit-metadata): its entity ID and
    /// every signing certificate of its `KeyDescriptor`s (use="signing" or no use), so a
    /// rotation published in metadata is accepted without a configuration change.
    ///
    /// ```
    /// use fedkit_saml::IdentityProvider;
    /// use fedkit_saml::fedkit_metadata::{IdpMetadata, ImportSettings, SignaturePolicy};
    /// let xml = include_bytes!("../../../examples/data/metadata-jumpcloud.xml");
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")?.to_utc();
    /// let metadata = IdpMetadata::from_xml(xml, &ImportSettings::new(SignaturePolicy::NotRequired), now)?;
    /// let idp = IdentityProvider::from_metadata(&metadata);
    /// assert_eq!(idp.entity_id(), metadata.entity_id());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_metadata(metadata: &fedkit_metadata::IdpMetadata) -> Self {
        Self {
            entity_id: metadata.entity_id().to_owned(),
            signing_keys: metadata.signing_keys().clone(),
        }
    }

    /// An IdP from what an admin pasted: its entity ID and one or more certificates, each
    /// with or without the BEGIN/END lines, with stray whitespace or CRLF line ends.
    ///
    /// ```
    /// use fedkit_saml::IdentityProvider;
    /// let pem = include_str!("../tests/data/keys/idp.crt.pem");
    /// let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect::<Vec<_>>().join("\r\n");
    /// let idp = IdentityProvider::from_pasted("https://sso.jumpcloud.com/saml2/acme", &[&body])?;
    /// assert_eq!(idp.signing_keys().keys().len(), 1);
    /// # Ok::<(), fedkit_saml::ConfigError>(())
    /// ```
    pub fn from_pasted(entity_id: &str, certificates: &[&str]) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        for (i, pasted) in certificates.iter().enumerate() {
            let pem = crate::connection::normalize_pasted_certificate(pasted);
            let parsed =
                fedkit_xmldsig::TrustedKey::from_pem(&pem).map_err(|e| ConfigError::Certificate {
                    index: i + 1,
                    reason: e.to_string(),
                })?;
            keys.extend(parsed);
        }
        let keys = TrustedKeys::new(keys).ok_or(ConfigError::Empty {
            field: "IdP certificate",
        })?;
        Self::new(entity_id, keys)
    }

    /// The IdP entity ID.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// The pinned signing keys.
    pub fn signing_keys(&self) -> &TrustedKeys {
        &self.signing_keys
    }
}

/// How strictly Responses and logout messages are checked. The defaults are the safe ones;
/// each `with_*` method changes one setting, and the durations are checked when set, so no
/// setting can make a later time computation overflow.
///
/// ```
/// use std::time::Duration;
/// use fedkit_saml::{Settings, SigningRequirement};
/// let settings = Settings::default()
///     .with_signing(SigningRequirement::Both)
///     .with_clock_skew(Duration::from_secs(60))?
///     .with_idp_initiated(true);
/// assert_eq!(settings.clock_skew(), Duration::from_secs(60));
/// assert!(settings.allows_idp_initiated());
/// // A skew of a day is a misconfiguration, not a tolerance.
/// assert!(Settings::default().with_clock_skew(Duration::from_secs(86_400)).is_err());
/// # Ok::<(), fedkit_saml::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    signing: SigningRequirement,
    algorithms: AlgorithmPolicy,
    clock_skew: Duration,
    allow_idp_initiated: bool,
    message_lifetime: Duration,
    max_message_bytes: usize,
    enforce_certificate_validity: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            signing: SigningRequirement::Either,
            algorithms: AlgorithmPolicy::default(),
            clock_skew: Duration::from_secs(120),
            allow_idp_initiated: false,
            message_lifetime: Duration::from_secs(180),
            max_message_bytes: 256 * 1024,
            enforce_certificate_validity: false,
        }
    }
}

impl Settings {
    /// The largest clock skew [`Settings::with_clock_skew`] accepts: one hour. Clocks further
    /// apart need NTP, not a tolerance that lets stale assertions in.
    pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(3600);
    /// The largest message lifetime [`Settings::with_message_lifetime`] accepts: one day.
    pub const MAX_MESSAGE_LIFETIME: Duration = Duration::from_secs(86_400);

    /// Which signatures are required. Default: [`SigningRequirement::Either`].
    #[must_use]
    pub fn with_signing(mut self, signing: SigningRequirement) -> Self {
        self.signing = signing;
        self
    }

    /// Signature and digest algorithms accepted. Default: no SHA-1, RSA ≥ 2048 bits.
    #[must_use]
    pub fn with_algorithms(mut self, algorithms: AlgorithmPolicy) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Clock skew tolerated on every time check. Default: 120 s. More than
    /// [`Settings::MAX_CLOCK_SKEW`] is [`ConfigError::OutOfRange`].
    pub fn with_clock_skew(mut self, skew: Duration) -> Result<Self, ConfigError> {
        if skew > Self::MAX_CLOCK_SKEW {
            return Err(ConfigError::OutOfRange {
                field: "clock skew",
                value: format!("{} s", skew.as_secs()),
                max: format!("{} s", Self::MAX_CLOCK_SKEW.as_secs()),
            });
        }
        self.clock_skew = skew;
        Ok(self)
    }

    /// Whether IdP-initiated (unsolicited) logins are accepted. Default: `false`. A Response
    /// counts as SP-initiated only when signed content ties it to the request: the signed
    /// Response's `InResponseTo`, or the signed assertion's bearer
    /// `SubjectConfirmationData/@InResponseTo`. The same switch as a connection's
    /// `behavior.allow_idp_initiated`.
    #[must_use]
    pub fn with_idp_initiated(mut self, allow: bool) -> Self {
        self.allow_idp_initiated = allow;
        self
    }

    /// How long after its `IssueInstant` a Response (and its assertion) or a logout message is
    /// still accepted, on top of the clock skew. An IdP issues the Response when it posts it,
    /// so this only needs to cover the browser's round trip. Default: 180 s (Shibboleth's
    /// message lifetime). An `IssueInstant` further in the future than the clock skew is
    /// refused whatever this is. More than [`Settings::MAX_MESSAGE_LIFETIME`] is
    /// [`ConfigError::OutOfRange`].
    pub fn with_message_lifetime(mut self, lifetime: Duration) -> Result<Self, ConfigError> {
        if lifetime > Self::MAX_MESSAGE_LIFETIME {
            return Err(ConfigError::OutOfRange {
                field: "message lifetime",
                value: format!("{} s", lifetime.as_secs()),
                max: format!("{} s", Self::MAX_MESSAGE_LIFETIME.as_secs()),
            });
        }
        self.message_lifetime = lifetime;
        Ok(self)
    }

    /// Largest accepted message, in bytes of XML (the base64 form may be a third larger).
    /// Default: 256 KiB.
    #[must_use]
    pub fn with_max_message_bytes(mut self, max: usize) -> Self {
        self.max_message_bytes = max;
        self
    }

    /// Refuse a signature by a pinned certificate outside its validity period. Default:
    /// `false`: a pinned certificate is a key; the login gets a [`LoginWarning`](crate::LoginWarning)
    /// instead.
    #[must_use]
    pub fn with_certificate_validity_enforced(mut self, enforce: bool) -> Self {
        self.enforce_certificate_validity = enforce;
        self
    }

    /// See [`Settings::with_signing`].
    pub fn signing(&self) -> SigningRequirement {
        self.signing
    }

    /// See [`Settings::with_algorithms`].
    pub fn algorithms(&self) -> &AlgorithmPolicy {
        &self.algorithms
    }

    /// See [`Settings::with_clock_skew`].
    pub fn clock_skew(&self) -> Duration {
        self.clock_skew
    }

    /// See [`Settings::with_idp_initiated`].
    pub fn allows_idp_initiated(&self) -> bool {
        self.allow_idp_initiated
    }

    /// See [`Settings::with_message_lifetime`].
    pub fn message_lifetime(&self) -> Duration {
        self.message_lifetime
    }

    /// See [`Settings::with_max_message_bytes`].
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// See [`Settings::with_certificate_validity_enforced`].
    pub fn enforces_certificate_validity(&self) -> bool {
        self.enforce_certificate_validity
    }

    /// The clock skew for chrono arithmetic (never out of range: capped when set).
    pub(crate) fn skew(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.clock_skew).unwrap_or(chrono::Duration::zero())
    }

    /// The message lifetime for chrono arithmetic (never out of range: capped when set).
    pub(crate) fn lifetime(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.message_lifetime).unwrap_or(chrono::Duration::zero())
    }
}
