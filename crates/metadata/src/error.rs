//! Errors. Each says what was expected, what arrived, and what the admin should change.

use chrono::{DateTime, Utc};
use fedkit_xmldsig::{KeyError, ParseError, VerifyError};

use crate::limits::MetadataLimit;
use crate::model::{Binding, SkippedCertificate};
use crate::url::UrlProblem;

/// Where in the metadata a problem is: the entity (when known), the element, the attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The `entityID` of the entity, when the problem is inside one.
    pub entity_id: Option<String>,
    /// The element, with its 1-based position among its siblings of the same name when there
    /// can be several (`SingleSignOnService #2`).
    pub element: String,
    /// The attribute, or `None` for the element's text.
    pub attribute: Option<&'static str>,
}

impl Location {
    pub(crate) fn new(
        entity_id: Option<&str>,
        element: impl Into<String>,
        attribute: Option<&'static str>,
    ) -> Self {
        Self {
            entity_id: entity_id.map(str::to_owned),
            element: element.into(),
            attribute,
        }
    }
}

impl core::fmt::Display for Location {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.attribute {
            Some(a) => write!(f, "the {a} attribute of {}", self.element)?,
            None => write!(f, "{}", self.element)?,
        }
        if let Some(id) = &self.entity_id {
            write!(f, " in entity {id:?}")?;
        }
        Ok(())
    }
}

/// What is wrong with a pasted certificate ([`IdpMetadata::from_explicit`](crate::IdpMetadata::from_explicit)).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasteProblem {
    /// Nothing was pasted.
    #[error("it is empty; paste the IdP's signing certificate (JumpCloud: SSO tab, \"IDP Certificate\", download certificate.pem)")]
    Empty,
    /// A private key. It must never leave the IdP; the SP needs the certificate.
    #[error("this looks like a private key ({label}), not a certificate; never paste a private key here: paste the IdP's certificate (-----BEGIN CERTIFICATE-----), and consider that key compromised")]
    PrivateKey {
        /// What it was recognised as (`PRIVATE KEY`, `RSA PRIVATE KEY`, ...).
        label: String,
    },
    /// A certificate signing request, which is not a certificate yet.
    #[error("this is a certificate request (CSR), not a certificate; paste the certificate the IdP shows (-----BEGIN CERTIFICATE-----)")]
    CertificateRequest,
    /// A bare public key: usable by a verifier, but metadata needs the certificate.
    #[error("this is a bare public key; paste the IdP's certificate (-----BEGIN CERTIFICATE-----) instead")]
    PublicKey,
    /// Another PEM label (`PKCS7`, `ENCRYPTED PRIVATE KEY`, `X509 CRL`, ...).
    #[error("a PEM block labelled {label:?} is not a certificate; paste the block that starts with -----BEGIN CERTIFICATE-----")]
    UnexpectedLabel {
        /// The label.
        label: String,
    },
    /// XML was pasted (often the whole metadata file).
    #[error("this is XML (probably the IdP's metadata), not a certificate; upload it as metadata instead, or copy only the text inside <ds:X509Certificate>")]
    Xml,
    /// A BEGIN line without its END line: the paste was cut off.
    #[error("the certificate is cut off: \"-----BEGIN {label}-----\" has no matching \"-----END {label}-----\" line; copy the whole certificate, including the END line")]
    MissingEndLine {
        /// The label.
        label: String,
    },
    /// Characters that cannot be base64.
    #[error("the certificate text contains {found:?}, which cannot appear in base64; copy the certificate again without extra text")]
    NotBase64 {
        /// The first offending character.
        found: char,
    },
    /// Base64 whose length cannot be complete, or whose DER says more bytes follow.
    #[error("the certificate is truncated: {detail}; copy the whole certificate again")]
    Truncated {
        /// What shows it (for example "it announces 1 083 bytes but only 912 are present").
        detail: String,
    },
    /// Decodes, but is not an X.509 certificate.
    #[error("this is not a valid X.509 certificate: {reason}")]
    NotACertificate {
        /// What the parser said.
        reason: String,
    },
    /// A certificate with a key type fedkit cannot verify with.
    #[error("the certificate cannot be used: {0}")]
    Unusable(KeyError),
}

/// Any error of this crate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not acceptable XML (malformed, a DOCTYPE, over a limit).
    #[error("the metadata is not acceptable XML: {0}")]
    Xml(ParseError),
    /// The root element is not `md:EntityDescriptor` or `md:EntitiesDescriptor`.
    #[error("this is not SAML 2.0 metadata: the root element is {found}, expected EntityDescriptor or EntitiesDescriptor in namespace urn:oasis:names:tc:SAML:2.0:metadata{hint}")]
    NotMetadata {
        /// The root element as found (`{namespace}name`).
        found: String,
        /// What it probably is.
        hint: &'static str,
    },
    /// A [`Limits`](crate::Limits) bound was exceeded.
    #[error("the metadata exceeds a limit: the {limit} is over {max}{}", location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default())]
    LimitExceeded {
        /// Which limit.
        limit: MetadataLimit,
        /// The configured maximum.
        max: usize,
        /// Where, when one place is to blame.
        location: Option<Location>,
    },
    /// A signature is required and the root element has none.
    #[error("the metadata is not signed, but a signature by the pinned certificate is required; download the signed metadata (federations publish it signed, MDQ responses are signed) or check the URL")]
    Unsigned,
    /// The root signature did not verify (wrong key, modified content, refused algorithm).
    #[error("the metadata signature is not valid: {0}")]
    Signature(VerifyError),
    /// `validUntil` has passed: the metadata is stale and must not be used.
    #[error("the metadata{} expired at {valid_until} (validUntil), it is now {now}; fetch it again from its source (a stale copy could carry revoked keys)", entity_id.as_ref().map(|e| format!(" of entity {e:?}")).unwrap_or_default())]
    Expired {
        /// The entity, or `None` for the whole document.
        entity_id: Option<String>,
        /// The effective `validUntil`.
        valid_until: DateTime<Utc>,
        /// The `now` given by the caller.
        now: DateTime<Utc>,
    },
    /// A required attribute or element is missing.
    #[error("{location} is missing")]
    Missing {
        /// What is missing.
        location: Location,
    },
    /// A value does not have the form the schema requires.
    #[error("{location} is {value:?}, expected {expected}")]
    InvalidValue {
        /// Where.
        location: Location,
        /// The value found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An endpoint URL is not an acceptable `https://` URL (`javascript:`, `data:`,
    /// `file:`, relative, credentials, ...).
    #[error("{location} is {url:?}, which is refused: {problem}")]
    UnsafeUrl {
        /// Where.
        location: Location,
        /// The URL.
        url: String,
        /// What is wrong.
        problem: UrlProblem,
    },
    /// No entity has this entity ID.
    #[error("no entity has the entity ID {entity_id:?} (the metadata has {entities_total} entities, {idps_total} of them IdPs); check the IdP Entity ID for typos, trailing slashes and http/https")]
    EntityNotFound {
        /// The entity ID asked for.
        entity_id: String,
        /// Entities in the document.
        entities_total: usize,
        /// IdPs among them.
        idps_total: usize,
    },
    /// Several entities carry the same entity ID: none of them is used.
    #[error("{count} entities carry the entity ID {entity_id:?}; an ambiguous entity is never used (report it to the metadata publisher)")]
    DuplicateEntityId {
        /// The entity ID.
        entity_id: String,
        /// How many carry it.
        count: usize,
    },
    /// The entity is not an Identity Provider.
    #[error("entity {entity_id:?} is not an Identity Provider: it has {}; if this is your own application's (SP) metadata, download the IdP's metadata instead (JumpCloud: SSO application, \"Export Metadata\")", if roles.is_empty() { "no role descriptor".to_owned() } else { roles.join(", ") })]
    NotAnIdp {
        /// The entity ID.
        entity_id: String,
        /// The role descriptors it has (`SPSSODescriptor`, ...).
        roles: Vec<String>,
    },
    /// The entity's `IDPSSODescriptor` does not support SAML 2.0.
    #[error("the IDPSSODescriptor of entity {entity_id:?} supports {protocols:?}, not SAML 2.0 (urn:oasis:names:tc:SAML:2.0:protocol)")]
    NoSaml2 {
        /// The entity ID.
        entity_id: String,
        /// Its `protocolSupportEnumeration`.
        protocols: String,
    },
    /// The IdP has no `SingleSignOnService`.
    #[error("the IdP {entity_id:?} has no SingleSignOnService endpoint, so logins cannot be sent to it")]
    NoSsoEndpoint {
        /// The entity ID.
        entity_id: String,
    },
    /// The IdP has no usable signing certificate, so its Responses could not be verified.
    /// Certificates that cannot be used are only warnings while another signing certificate
    /// remains; this error comes when none does, and names each one that failed and why.
    #[error("the IdP {entity_id:?} has no usable signing certificate (KeyDescriptor with use=\"signing\" or without use, holding an X509Certificate){}; export the metadata again after the IdP application has a certificate", if skipped.is_empty() { String::new() } else { format!(": {}", skipped.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")) })]
    NoSigningCertificate {
        /// The entity ID.
        entity_id: String,
        /// The signing certificates that were present but could not be used, and why.
        skipped: Vec<SkippedCertificate>,
    },
    /// A `ds:X509Certificate` is not valid base64 or not a certificate. Metadata import no
    /// longer returns it: an unusable certificate is a
    /// [`ImportWarning::CertificateSkipped`](crate::ImportWarning::CertificateSkipped), or part of
    /// [`Error::NoSigningCertificate`] when no signing key is left.
    #[error("{location} is not a usable certificate: {reason}")]
    BadCertificate {
        /// Where.
        location: Location,
        /// What is wrong.
        reason: String,
    },
    /// [`Metadata::only_idp`](crate::Metadata::only_idp) on a document that does not
    /// describe exactly one IdP.
    #[error("the metadata describes {idps} IdPs among {entities} entities; choose one by its entity ID")]
    NotOneIdp {
        /// IdPs in the document.
        idps: usize,
        /// Entities in the document.
        entities: usize,
    },
    /// An MDQ response describes another entity than the one requested.
    #[error("the MDQ response does not describe {requested:?} but {received:?}; the MDQ service or a cache in between returned the wrong document")]
    MdqWrongEntity {
        /// What was requested.
        requested: String,
        /// The entity IDs the response carries (at most three).
        received: Vec<String>,
    },
    /// A pasted certificate ([`IdpMetadata::from_explicit`](crate::IdpMetadata::from_explicit)) is unusable.
    #[error("certificate #{index} as pasted{}: {problem}", if *block > 1 { format!(" (its PEM block #{block})") } else { String::new() })]
    Pasted {
        /// 1-based position in the list of pasted certificates.
        index: usize,
        /// 1-based PEM block within that paste.
        block: usize,
        /// What is wrong.
        problem: PasteProblem,
    },
    /// [`IdpMetadata::slo_endpoint`](crate::IdpMetadata::slo_endpoint): the IdP's single
    /// logout endpoint for this binding uses plain `http://` (and http was not allowed at
    /// import). Sign-on is unaffected; only sending logout messages there is refused.
    #[error("the IdP {entity_id:?} offers single logout over {binding} only at {element} {url:?}, which uses plain http://: logout messages would cross the network unencrypted and could be read or rewritten in transit, so they are not sent there; ask the IdP admin to publish an https:// SingleLogoutService (SimpleSAMLphp: serve it over https and set baseurlpath to an https:// URL), or, for a local test IdP only, import the metadata with http allowed (ImportSettings::dangerous_allow_http_endpoints, fedkit --allow-http)")]
    SloPlainHttp {
        /// The entity ID.
        entity_id: String,
        /// The binding asked for.
        binding: Binding,
        /// The endpoint (`SingleLogoutService #2`).
        element: String,
        /// Its plain-http URL (`Location`, or `ResponseLocation` when that is the http one).
        url: String,
    },
    /// A typed-in field ([`IdpMetadata::from_explicit`](crate::IdpMetadata::from_explicit)) is empty.
    #[error("the {field} is empty; copy it from the IdP console")]
    EmptyField {
        /// The field (`IdP entity ID`, `SSO URL`, `certificates`).
        field: &'static str,
    },
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::Xml(e)
    }
}

impl Error {
    /// A stable `snake_case` code per variant, for logs, APIs and the CLI's JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Xml(ParseError::LimitExceeded { .. }) => "limit_exceeded",
            Error::Xml(ParseError::DtdNotAllowed { .. }) => "dtd_not_allowed",
            Error::Xml(_) => "malformed_xml",
            Error::NotMetadata { .. } => "not_metadata",
            Error::LimitExceeded { .. } => "limit_exceeded",
            Error::Unsigned => "signature_absent",
            Error::Signature(_) => "signature_invalid",
            Error::Expired { .. } => "expired",
            Error::Missing { .. } => "missing",
            Error::InvalidValue { .. } => "invalid_value",
            Error::UnsafeUrl { .. } => "unsafe_url",
            Error::EntityNotFound { .. } => "entity_not_found",
            Error::DuplicateEntityId { .. } => "duplicate_entity_id",
            Error::NotAnIdp { .. } => "not_an_idp",
            Error::NoSaml2 { .. } => "no_saml2",
            Error::NoSsoEndpoint { .. } => "no_sso_endpoint",
            Error::NoSigningCertificate { .. } => "no_signing_certificate",
            Error::BadCertificate { .. } => "bad_certificate",
            Error::NotOneIdp { .. } => "not_one_idp",
            Error::MdqWrongEntity { .. } => "mdq_wrong_entity",
            Error::Pasted { .. } => "bad_pasted_certificate",
            Error::EmptyField { .. } => "empty_field",
            Error::SloPlainHttp { .. } => "slo_plain_http",
        }
    }
}
