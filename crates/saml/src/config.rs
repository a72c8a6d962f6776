//! The SP's own settings and the IdP it trusts.

use fedkit_xmldsig::{AlgorithmPolicy, TrustedKeys};

use crate::error::{ConfigError, SigningRequirement};

/// This Service Provider, as the IdP knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProvider {
    entity_id: String,
    acs_urls: Vec<String>,
}

fn check_url(field: &'static str, value: &str) -> Result<(), ConfigError> {
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
    /// use fedkit_saml::fedkit_metadata::{IdpMetadata, Options, SignaturePolicy};
    /// let xml = include_bytes!("../../../examples/data/metadata-jumpcloud.xml");
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")?.to_utc();
    /// let metadata = IdpMetadata::from_xml(xml, &Options::new(SignaturePolicy::NotRequired), now)?;
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

/// How strictly Responses are checked. The defaults are the safe ones.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Which signatures are required. Default: [`SigningRequirement::Either`].
    pub signing: SigningRequirement,
    /// Signature and digest algorithms accepted. Default: no SHA-1, RSA ≥ 2048 bits.
    pub algorithms: AlgorithmPolicy,
    /// Clock skew tolerated on every time check, in seconds. Default: 120.
    pub clock_skew_seconds: i64,
    /// Whether IdP-initiated (unsolicited) Responses are accepted. Default: `false`.
    /// A Response counts as solicited only when signed content ties it to the request: the
    /// signed Response's `InResponseTo`, or the signed assertion's bearer
    /// `SubjectConfirmationData/@InResponseTo`.
    pub allow_unsolicited: bool,
    /// How long after its `IssueInstant` a Response (and its assertion) is still accepted, in
    /// seconds, on top of the clock skew. An IdP issues the Response when it posts it, so
    /// this only needs to cover the browser's round trip. Default: 180 (Shibboleth's message
    /// lifetime). An `IssueInstant` further in the future than the clock skew is refused
    /// whatever this is.
    pub message_lifetime_seconds: u32,
    /// Largest accepted message, in bytes of XML (the base64 form may be a third larger).
    /// Default: 256 KiB.
    pub max_message_bytes: usize,
    /// Refuse a signature by a pinned certificate outside its validity period. Default:
    /// `false` — a pinned certificate is a key; the login gets a
    /// [`Warning`](crate::Warning) instead.
    pub enforce_certificate_validity: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            signing: SigningRequirement::Either,
            algorithms: AlgorithmPolicy::default(),
            clock_skew_seconds: 120,
            allow_unsolicited: false,
            message_lifetime_seconds: 180,
            max_message_bytes: 256 * 1024,
            enforce_certificate_validity: false,
        }
    }
}
