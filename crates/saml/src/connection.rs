//! SAML connections for a multi-tenant SaaS: one per customer IdP, stored by the host as
//! JSON, each with its own SP URLs, exactly one IdP source, and its login behaviour; and a
//! registry that routes a login to its connection by email domain.

use std::collections::HashMap;

use fedkit_xmldsig::TrustedKeys;
use serde::{Deserialize, Serialize};

use crate::config::{IdentityProvider, ServiceProvider, Settings};
use crate::mapping::EmailDomainAllowlist;
use crate::response::ResponseValidator;

/// Where a connection's IdP settings come from: exactly one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum IdpSource {
    /// Typed in by the admin: entity ID, SSO URL and the signing certificate(s), pasted as
    /// PEM with or without the BEGIN/END lines.
    Explicit {
        /// IdP entity ID (JumpCloud: "IdP Entity ID").
        entity_id: String,
        /// SSO URL (JumpCloud: "IDP URL").
        sso_url: String,
        /// One entry per pasted certificate (a rotation keeps two).
        certificates: Vec<String>,
    },
    /// The IdP's metadata XML, uploaded or pasted (parse it with fedkit-metadata).
    MetadataXml {
        /// The XML.
        xml: String,
    },
    /// A metadata URL the host fetches and refreshes (fedkit never does I/O).
    MetadataUrl {
        /// The https URL.
        url: String,
    },
}

/// What happens around a login on this connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behavior {
    /// Create the user on first login (just-in-time provisioning).
    pub jit_provisioning: bool,
    /// Email domains this connection covers (routing, and refusing other domains).
    pub email_domain_allowlist: Vec<String>,
    /// Link a login to an existing account with the same verified email.
    pub allow_account_merge_by_verified_email: bool,
    /// Where to send users after an IdP-initiated login without RelayState (a path on
    /// this site, or an allowed-origin URL).
    pub default_redirect: Option<String>,
    /// Accept IdP-initiated logins.
    pub allow_idp_initiated: bool,
}

/// One customer's SAML connection, as the host stores it (serde: JSON, TOML...).
///
/// ```
/// use fedkit_saml::connection::Connection;
/// let json = r#"{
///   "id": "acme",
///   "enabled": true,
///   "idp": {"type": "metadata_url", "url": "https://sso.jumpcloud.com/saml2/metadata/acme"},
///   "behavior": {"jit_provisioning": true, "email_domain_allowlist": ["acme.com"]}
/// }"#;
/// let connection: Connection = serde_json::from_str(json)?;
/// connection.validate()?;
/// let urls = connection.sp_urls("https://app.example.com");
/// assert_eq!(urls.acs_url, "https://app.example.com/saml/acme/acs");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// A stable, URL-safe identifier (`[a-z0-9_-]`, 1–64 characters). It is part of the SP
    /// URLs and of every user key, so it never changes.
    pub id: String,
    /// Disabled connections route nothing and accept nothing.
    pub enabled: bool,
    /// The IdP.
    pub idp: IdpSource,
    /// Login behaviour.
    #[serde(default)]
    pub behavior: Behavior,
}

/// The SP-side URLs of one connection, to paste into the IdP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpUrls {
    /// SP entity ID (the IdP's "Audience" / "SP Entity ID"); also the metadata URL.
    pub entity_id: String,
    /// ACS URL.
    pub acs_url: String,
    /// Where the SP metadata is served (same as the entity ID).
    pub metadata_url: String,
}

/// A key for a user that cannot collide across tenants: the connection and the NameID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserKey {
    /// The connection ID.
    pub connection: String,
    /// The IdP's identifier for the user.
    pub name_id: String,
}

/// Why a connection (or a change to one) was refused; `field` names the JSON field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// A field's value is not acceptable.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, as a JSON path (`idp.certificates[1]`).
        field: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// A change would alter the IdP entity ID, which identifies the users' issuer.
    #[error("idp.entity_id: the IdP entity ID cannot change from {old:?} to {new:?}; create a new connection for a different IdP")]
    EntityIdChanged {
        /// The stored entity ID.
        old: String,
        /// The one in the change.
        new: String,
    },
    /// Two connections claim the same email domain.
    #[error(
        "behavior.email_domain_allowlist: the domain {domain:?} already belongs to connection {other:?}"
    )]
    DomainTaken {
        /// The domain.
        domain: String,
        /// The connection that has it.
        other: String,
    },
    /// The IdP source is metadata, which must be resolved by the host first.
    #[error("idp: connection {id:?} takes its IdP from metadata; parse it (fedkit-metadata) and pass the IdentityProvider")]
    NeedsMetadata {
        /// The connection.
        id: String,
    },
}

impl ConnectionError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectionError::Invalid { .. } => "connection_invalid",
            ConnectionError::EntityIdChanged { .. } => "entity_id_changed",
            ConnectionError::DomainTaken { .. } => "domain_taken",
            ConnectionError::NeedsMetadata { .. } => "needs_metadata",
        }
    }
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ConnectionError {
    ConnectionError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_https(field: &str, url: &str) -> Result<(), ConnectionError> {
    let rest = url
        .strip_prefix("https://")
        .ok_or_else(|| invalid(field, format!("{url:?} must be an https:// URL")))?;
    if rest.is_empty() || rest.starts_with('/') || url.chars().any(char::is_whitespace) {
        return Err(invalid(field, format!("{url:?} is not a valid URL")));
    }
    Ok(())
}

/// Turns what an admin pasted into a PEM certificate: accepts a full PEM block, or the bare
/// base64 body (as some consoles show it), with stray whitespace and CRLF line ends.
pub fn normalize_pasted_certificate(pasted: &str) -> String {
    let text = pasted.replace("\r\n", "\n").replace('\r', "\n");
    if text.contains("-----BEGIN") {
        return text.trim().to_owned() + "\n";
    }
    let body: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(chunk));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

impl Connection {
    /// Checks every field; the error names the first wrong one.
    pub fn validate(&self) -> Result<(), ConnectionError> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(invalid(
                "id",
                format!("{:?} must be 1–64 characters of a-z, 0-9, '-' and '_'", self.id),
            ));
        }
        match &self.idp {
            IdpSource::Explicit {
                entity_id,
                sso_url,
                certificates,
            } => {
                if entity_id.trim().is_empty() {
                    return Err(invalid(
                        "idp.entity_id",
                        "is empty; copy the IdP Entity ID from the IdP console",
                    ));
                }
                check_https("idp.sso_url", sso_url)?;
                self.signing_keys()?;
                if certificates.is_empty() {
                    return Err(invalid(
                        "idp.certificates",
                        "paste at least one signing certificate",
                    ));
                }
            }
            IdpSource::MetadataXml { xml } => {
                if !xml.contains("EntityDescriptor") {
                    return Err(invalid(
                        "idp.xml",
                        "does not look like SAML metadata (no EntityDescriptor)",
                    ));
                }
            }
            IdpSource::MetadataUrl { url } => check_https("idp.url", url)?,
        }
        for (i, domain) in self.behavior.email_domain_allowlist.iter().enumerate() {
            let d = domain.trim();
            if d.is_empty() || d.contains('@') || !d.contains('.') || d.chars().any(char::is_whitespace) {
                return Err(invalid(
                    format!("behavior.email_domain_allowlist[{i}]"),
                    format!("{domain:?} is not a domain name like \"acme.com\""),
                ));
            }
        }
        if let Some(target) = &self.behavior.default_redirect {
            if !target.starts_with('/') || target.starts_with("//") {
                return Err(invalid(
                    "behavior.default_redirect",
                    format!("{target:?} must be a path on this site, like \"/dashboard\""),
                ));
            }
        }
        Ok(())
    }

    /// The pinned keys of an explicit IdP source, each pasted certificate checked by
    /// fedkit-metadata (which says precisely what is wrong with a paste: a private key, a
    /// certificate request, a truncated body...).
    fn signing_keys(&self) -> Result<TrustedKeys, ConnectionError> {
        let IdpSource::Explicit {
            entity_id,
            sso_url,
            certificates,
        } = &self.idp
        else {
            return Err(ConnectionError::NeedsMetadata { id: self.id.clone() });
        };
        if certificates.is_empty() {
            return Err(invalid(
                "idp.certificates",
                "paste at least one signing certificate",
            ));
        }
        // `now` only decides certificate-validity warnings, which are not reported here.
        fedkit_metadata::IdpMetadata::from_explicit(
            entity_id,
            sso_url,
            certificates,
            chrono::DateTime::UNIX_EPOCH,
        )
        .map(|idp| idp.signing_keys().clone())
        .map_err(|e| match e {
            fedkit_metadata::Error::Pasted { index, .. } => invalid(
                format!("idp.certificates[{}]", index.saturating_sub(1)),
                format!("{e}; paste the whole certificate as downloaded from the IdP"),
            ),
            other => invalid("idp", other.to_string()),
        })
    }

    /// The SP URLs of this connection under `base_url` (e.g. `https://app.example.com`).
    pub fn sp_urls(&self, base_url: &str) -> SpUrls {
        let base = base_url.trim_end_matches('/');
        let metadata = format!("{base}/saml/{}/metadata", self.id);
        SpUrls {
            entity_id: metadata.clone(),
            acs_url: format!("{base}/saml/{}/acs", self.id),
            metadata_url: metadata,
        }
    }

    /// The SP as this connection's IdP sees it.
    pub fn service_provider(&self, base_url: &str) -> Result<ServiceProvider, ConnectionError> {
        let urls = self.sp_urls(base_url);
        ServiceProvider::new(&urls.entity_id, [urls.acs_url]).map_err(|e| invalid("base_url", e.to_string()))
    }

    /// A validator for an explicit IdP source. For metadata sources, resolve the IdP first
    /// and use [`validator_for`](Self::validator_for).
    pub fn validator(&self, base_url: &str) -> Result<ResponseValidator, ConnectionError> {
        self.validate()?;
        let IdpSource::Explicit { entity_id, .. } = &self.idp else {
            return Err(ConnectionError::NeedsMetadata { id: self.id.clone() });
        };
        let idp = IdentityProvider::new(entity_id, self.signing_keys()?)
            .map_err(|e| invalid("idp.entity_id", e.to_string()))?;
        self.validator_for(base_url, idp)
    }

    /// The IdP this connection trusts, as of `now`: from the explicit fields, or from the
    /// stored metadata XML (imported with fedkit-metadata; an expired `validUntil` or a
    /// metadata document without a usable IdP is an error naming `idp.xml`). A metadata URL
    /// source needs the host to fetch the document first ([`ConnectionError::NeedsMetadata`]).
    pub fn identity_provider(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<IdentityProvider, ConnectionError> {
        self.validate()?;
        match &self.idp {
            IdpSource::Explicit { entity_id, .. } => IdentityProvider::new(entity_id, self.signing_keys()?)
                .map_err(|e| invalid("idp.entity_id", e.to_string())),
            IdpSource::MetadataXml { xml } => {
                let metadata = import_metadata(xml, now)?;
                Ok(IdentityProvider::from_metadata(&metadata))
            }
            IdpSource::MetadataUrl { .. } => Err(ConnectionError::NeedsMetadata { id: self.id.clone() }),
        }
    }

    /// A validator for an explicit or metadata-XML IdP source, as of `now` (see
    /// [`identity_provider`](Self::identity_provider)).
    pub fn validator_at(
        &self,
        base_url: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<ResponseValidator, ConnectionError> {
        let idp = self.identity_provider(now)?;
        self.validator_for(base_url, idp)
    }

    /// A validator for this connection with an IdP the host resolved (from metadata).
    pub fn validator_for(
        &self,
        base_url: &str,
        idp: IdentityProvider,
    ) -> Result<ResponseValidator, ConnectionError> {
        let settings = Settings::default().with_idp_initiated(self.behavior.allow_idp_initiated);
        Ok(ResponseValidator::with_settings(
            self.service_provider(base_url)?,
            idp,
            settings,
        ))
    }

    /// The email-domain allowlist, when the connection has one.
    pub fn allowlist(&self) -> Option<EmailDomainAllowlist> {
        (!self.behavior.email_domain_allowlist.is_empty())
            .then(|| EmailDomainAllowlist::new(&self.behavior.email_domain_allowlist))
    }

    /// The key of the user this NameID names on this connection.
    pub fn user_key(&self, name_id: &str) -> UserKey {
        UserKey {
            connection: self.id.clone(),
            name_id: name_id.to_owned(),
        }
    }

    /// Replaces the IdP settings (e.g. a certificate rotation), refusing a change of IdP
    /// entity ID: users are keyed by the connection, so a connection must keep its issuer.
    pub fn update_idp(&mut self, new: IdpSource) -> Result<(), ConnectionError> {
        if let (Some(old), Some(next)) = (source_entity_id(&self.idp), source_entity_id(&new)) {
            if old != next {
                return Err(ConnectionError::EntityIdChanged { old, new: next });
            }
        }
        let mut candidate = self.clone();
        candidate.idp = new;
        candidate.validate()?;
        *self = candidate;
        Ok(())
    }
}

/// Imports a connection's stored metadata XML. Its authenticity comes from the admin who
/// uploaded it, so the document's signature (if any) is not required.
fn import_metadata(
    xml: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<fedkit_metadata::IdpMetadata, ConnectionError> {
    use fedkit_metadata::{IdpMetadata, ImportSettings, SignaturePolicy};
    IdpMetadata::from_xml(
        xml.as_bytes(),
        &ImportSettings::new(SignaturePolicy::NotRequired),
        now,
    )
    .map_err(|e| invalid("idp.xml", e.to_string()))
}

/// The IdP entity ID a source names, when it names one without I/O: the explicit field, or
/// the metadata's entityID (read ignoring `validUntil`, which does not change the issuer).
fn source_entity_id(source: &IdpSource) -> Option<String> {
    match source {
        IdpSource::Explicit { entity_id, .. } => Some(entity_id.clone()),
        IdpSource::MetadataXml { xml } => import_metadata(xml, chrono::DateTime::UNIX_EPOCH)
            .ok()
            .map(|m| m.entity_id().to_owned()),
        IdpSource::MetadataUrl { .. } => None,
    }
}

/// Connections by ID and by email domain.
///
/// ```
/// use fedkit_saml::connection::{Connection, ConnectionRegistry};
/// let mut registry = ConnectionRegistry::default();
/// registry.insert(serde_json::from_str::<Connection>(r#"{"id": "acme", "enabled": true,
///     "idp": {"type": "metadata_url", "url": "https://idp.acme.com/metadata"},
///     "behavior": {"email_domain_allowlist": ["acme.com"]}}"#)?)?;
/// assert_eq!(registry.route_email("Jane@Acme.com").map(|c| c.id.as_str()), Some("acme"));
/// assert!(registry.route_email("jane@other.com").is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectionRegistry {
    connections: Vec<Connection>,
    by_id: HashMap<String, usize>,
    by_domain: HashMap<String, usize>,
}

impl ConnectionRegistry {
    /// Adds (or replaces, by ID) a validated connection; a domain another connection already
    /// covers is refused.
    pub fn insert(&mut self, connection: Connection) -> Result<(), ConnectionError> {
        connection.validate()?;
        for domain in &connection.behavior.email_domain_allowlist {
            let domain = domain.trim().to_ascii_lowercase();
            if let Some(&other) = self.by_domain.get(&domain) {
                let other = self
                    .connections
                    .get(other)
                    .map(|c| c.id.clone())
                    .unwrap_or_default();
                if other != connection.id {
                    return Err(ConnectionError::DomainTaken { domain, other });
                }
            }
        }
        let index = match self.by_id.get(&connection.id) {
            Some(&i) => {
                self.by_domain.retain(|_, v| *v != i);
                if let Some(slot) = self.connections.get_mut(i) {
                    *slot = connection;
                }
                i
            }
            None => {
                self.connections.push(connection);
                self.connections.len() - 1
            }
        };
        if let Some(c) = self.connections.get(index) {
            self.by_id.insert(c.id.clone(), index);
            for domain in &c.behavior.email_domain_allowlist {
                self.by_domain.insert(domain.trim().to_ascii_lowercase(), index);
            }
        }
        Ok(())
    }

    /// The connection with this ID.
    pub fn get(&self, id: &str) -> Option<&Connection> {
        self.by_id.get(id).and_then(|&i| self.connections.get(i))
    }

    /// The enabled connection covering this email's domain (the "log in with SSO" form).
    pub fn route_email(&self, email: &str) -> Option<&Connection> {
        let (_, domain) = email.trim().rsplit_once('@')?;
        self.by_domain
            .get(&domain.to_ascii_lowercase())
            .and_then(|&i| self.connections.get(i))
            .filter(|c| c.enabled)
    }
}
