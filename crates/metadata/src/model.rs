//! The typed description of an Identity Provider, as imported from metadata or typed in.

use chrono::{DateTime, Utc};
use fedkit_xmldsig::{Fingerprint, SignatureAlgorithm, TrustedKey, TrustedKeys};

use crate::time::CacheDuration;
use crate::warning::ImportWarning;

/// A SAML binding (SAML Bindings §3), as named by an endpoint's `Binding` attribute.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Binding {
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect`.
    HttpRedirect,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST`.
    HttpPost,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST-SimpleSign`.
    HttpPostSimpleSign,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact`.
    HttpArtifact,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:SOAP`.
    Soap,
    /// `urn:oasis:names:tc:SAML:2.0:bindings:PAOS`.
    Paos,
    /// Any other binding URI (SAML 1.x and Shibboleth profiles, vendor bindings), kept as
    /// written.
    Other(String),
}

const BINDINGS: [(&str, Binding); 6] = [
    (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
        Binding::HttpRedirect,
    ),
    (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        Binding::HttpPost,
    ),
    (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST-SimpleSign",
        Binding::HttpPostSimpleSign,
    ),
    (
        "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact",
        Binding::HttpArtifact,
    ),
    ("urn:oasis:names:tc:SAML:2.0:bindings:SOAP", Binding::Soap),
    ("urn:oasis:names:tc:SAML:2.0:bindings:PAOS", Binding::Paos),
];

impl Binding {
    /// The binding named by `uri`.
    ///
    /// ```
    /// use fedkit_metadata::Binding;
    /// let b = Binding::from_uri("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
    /// assert_eq!(b, Binding::HttpPost);
    /// assert_eq!(b.uri(), "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST");
    /// assert_eq!(Binding::from_uri("urn:x").uri(), "urn:x");
    /// ```
    pub fn from_uri(uri: &str) -> Self {
        BINDINGS
            .iter()
            .find(|(u, _)| *u == uri)
            .map_or_else(|| Binding::Other(uri.to_owned()), |(_, b)| b.clone())
    }

    /// The binding URI.
    pub fn uri(&self) -> &str {
        match self {
            Binding::Other(uri) => uri,
            known => BINDINGS.iter().find(|(_, b)| b == known).map_or("", |(u, _)| u),
        }
    }

    /// A short name for people: `HTTP-Redirect`, `HTTP-POST`, ..., or the URI.
    pub fn short_name(&self) -> &str {
        let uri = self.uri();
        match self {
            Binding::Other(_) => uri,
            _ => uri.rsplit(':').next().unwrap_or(uri),
        }
    }
}

impl core::fmt::Display for Binding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.short_name())
    }
}

/// An endpoint: where messages of one binding go.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The binding.
    pub binding: Binding,
    /// `Location`: where requests go. Checked to be an `https://` URL (see
    /// [`ImportSettings::dangerous_allow_http_endpoints`](crate::ImportSettings::dangerous_allow_http_endpoints)).
    pub location: String,
    /// `ResponseLocation`: where responses go, when different (Single Logout).
    pub response_location: Option<String>,
    /// `index`, for indexed endpoints (`ArtifactResolutionService`).
    pub index: Option<u16>,
}

/// What a `KeyDescriptor`'s key is for (its `use` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyUse {
    /// `use="signing"`: verifies the IdP's signatures.
    Signing,
    /// `use="encryption"`: the SP encrypts to it (rare for an IdP).
    Encryption,
    /// No `use` attribute: the key serves both purposes (SAML Metadata §2.4.1.1).
    Both,
}

impl KeyUse {
    /// Whether a key with this use may verify signatures.
    pub fn signs(self) -> bool {
        matches!(self, KeyUse::Signing | KeyUse::Both)
    }

    /// Whether a key with this use may be encrypted to.
    pub fn encrypts(self) -> bool {
        matches!(self, KeyUse::Encryption | KeyUse::Both)
    }

    /// `signing`, `encryption` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyUse::Signing => "signing",
            KeyUse::Encryption => "encryption",
            KeyUse::Both => "both",
        }
    }
}

/// A certificate from a `KeyDescriptor`: a key to pin. Its validity period is reported (and
/// an expired one produces a [`ImportWarning`]) but never enforced: SAML uses certificates as
/// key containers, and IdPs routinely sign with expired self-signed certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Certificate {
    /// What the key is for.
    pub usage: KeyUse,
    /// SHA-256 of the DER certificate; displays as `AB:CD:…`, as IdP consoles show it.
    pub sha256: Fingerprint,
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name (the subject again for self-signed certificates).
    pub issuer: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
    /// 1-based position of its `KeyDescriptor` in the `IDPSSODescriptor`, for messages.
    pub key_descriptor: usize,
    key: TrustedKey,
}

impl Certificate {
    pub(crate) fn new(usage: KeyUse, key_descriptor: usize, key: TrustedKey) -> Option<Self> {
        let info = key.certificate()?;
        Some(Self {
            usage,
            sha256: key.fingerprint(),
            subject: info.subject.clone(),
            issuer: info.issuer.clone(),
            not_before: DateTime::from_timestamp(info.not_before, 0)?,
            not_after: DateTime::from_timestamp(info.not_after, 0)?,
            key_descriptor,
            key,
        })
    }

    /// The key, ready to pin in a [`Verifier`](fedkit_xmldsig::Verifier).
    pub fn trusted_key(&self) -> &TrustedKey {
        &self.key
    }

    /// The DER certificate.
    pub fn der(&self) -> &[u8] {
        self.key.certificate_der().unwrap_or_default()
    }

    /// The certificate as PEM text.
    pub fn to_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.der());
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(core::str::from_utf8(chunk).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
        pem
    }
}

/// A certificate of a `KeyDescriptor` that could not be used (its base64 is damaged, its DER
/// does not parse, its key type is not supported), and why. Reported as a
/// [`ImportWarning::CertificateSkipped`] while another signing certificate remains, and listed in
/// [`Error::NoSigningCertificate`](crate::Error::NoSigningCertificate) when none does.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedCertificate {
    /// 1-based position of its `KeyDescriptor` in the `IDPSSODescriptor`.
    pub key_descriptor: usize,
    /// What the `KeyDescriptor` said it is for.
    pub usage: KeyUse,
    /// Why it cannot be used.
    pub reason: fedkit_xmldsig::KeyError,
}

impl core::fmt::Display for SkippedCertificate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "the certificate of KeyDescriptor #{} ", self.key_descriptor)?;
        match self.usage {
            KeyUse::Both => f.write_str("(no use attribute)")?,
            usage => write!(f, "(use=\"{}\")", usage.as_str())?,
        }
        write!(f, " was skipped: {}", self.reason)
    }
}

/// A single logout endpoint kept aside because it uses plain `http://`: not offered by
/// [`IdpMetadata::slo`], refused by [`IdpMetadata::slo_endpoint`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlainHttpEndpoint {
    /// `SingleLogoutService #n`.
    pub(crate) element: String,
    /// The plain-http URL (Location or ResponseLocation).
    pub(crate) url: String,
    pub(crate) endpoint: Endpoint,
}

/// A localized string (`xml:lang`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Localized {
    /// The language tag, when given.
    pub lang: Option<String>,
    /// The text.
    pub value: String,
}

impl Localized {
    pub(crate) fn new(lang: Option<&str>, value: String) -> Self {
        Self {
            lang: lang.map(str::to_owned),
            value,
        }
    }
}

/// Picks the English (or untagged, or first) entry.
pub(crate) fn pick(values: &[Localized]) -> Option<&str> {
    values
        .iter()
        .find(|l| l.lang.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("en")))
        .or_else(|| values.iter().find(|l| l.lang.is_none()))
        .or_else(|| values.first())
        .map(|l| l.value.as_str())
}

/// `md:Organization`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Organization {
    /// `OrganizationName`s.
    pub names: Vec<Localized>,
    /// `OrganizationDisplayName`s.
    pub display_names: Vec<Localized>,
    /// `OrganizationURL`s (http or https only; others are dropped with a warning).
    pub urls: Vec<Localized>,
}

/// `contactType` of a `ContactPerson`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContactType {
    /// `technical`.
    Technical,
    /// `support`.
    Support,
    /// `administrative`.
    Administrative,
    /// `billing`.
    Billing,
    /// `other` (REFEDS security contacts use `other` with an extension attribute).
    Other,
}

impl ContactType {
    pub(crate) fn from_attr(value: &str) -> Option<Self> {
        Some(match value {
            "technical" => ContactType::Technical,
            "support" => ContactType::Support,
            "administrative" => ContactType::Administrative,
            "billing" => ContactType::Billing,
            "other" => ContactType::Other,
            _ => return None,
        })
    }

    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactType::Technical => "technical",
            ContactType::Support => "support",
            ContactType::Administrative => "administrative",
            ContactType::Billing => "billing",
            ContactType::Other => "other",
        }
    }
}

/// `md:ContactPerson`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContactPerson {
    /// `contactType`.
    pub contact_type: ContactType,
    /// `Company`.
    pub company: Option<String>,
    /// `GivenName`.
    pub given_name: Option<String>,
    /// `SurName`.
    pub surname: Option<String>,
    /// `EmailAddress`es (usually `mailto:` URIs).
    pub emails: Vec<String>,
    /// `TelephoneNumber`s.
    pub phones: Vec<String>,
}

/// An `mdui:Logo`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Logo {
    /// The image URL (https/http, or a non-SVG `data:image/` URL).
    pub url: String,
    /// `width` in pixels.
    pub width: Option<u32>,
    /// `height` in pixels.
    pub height: Option<u32>,
    /// `xml:lang`.
    pub lang: Option<String>,
}

/// `mdui:UIInfo` (SAML V2.0 Metadata Extensions for Login and Discovery User Interface):
/// what a discovery page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UiInfo {
    /// `DisplayName`s.
    pub display_names: Vec<Localized>,
    /// `Description`s.
    pub descriptions: Vec<Localized>,
    /// `Logo`s.
    pub logos: Vec<Logo>,
    /// `InformationURL`s.
    pub information_urls: Vec<Localized>,
    /// `PrivacyStatementURL`s.
    pub privacy_statement_urls: Vec<Localized>,
}

/// `mdrpi:RegistrationInfo`: which federation registered the entity.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistrationInfo {
    /// `registrationAuthority`.
    pub authority: String,
    /// `registrationInstant`.
    pub instant: Option<DateTime<Utc>>,
    /// `RegistrationPolicy` URLs.
    pub policies: Vec<Localized>,
}

/// `shibmd:Scope`: a domain the IdP may assert scoped attributes (`user@scope`) for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scope {
    /// The scope (a domain, or a regular expression when `regexp`).
    pub value: String,
    /// `regexp="true"`.
    pub regexp: bool,
}

/// One `saml:Attribute` of `mdattr:EntityAttributes` (entity categories, assurance
/// certifications, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EntityAttribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat`.
    pub name_format: Option<String>,
    /// The `AttributeValue` texts.
    pub values: Vec<String>,
}

/// How the document an IdP description came from was authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureStatus {
    /// The root element's signature verified against a pinned key.
    Verified {
        /// The pinned key that verified it.
        key: Fingerprint,
        /// The signature algorithm.
        algorithm: SignatureAlgorithm,
    },
    /// The document carries no signature on its root element (allowed by
    /// [`SignaturePolicy::IfSigned`](crate::SignaturePolicy::IfSigned) and
    /// [`SignaturePolicy::NotRequired`](crate::SignaturePolicy::NotRequired)).
    Absent,
    /// The document is signed but no key was given to check it
    /// ([`SignaturePolicy::NotRequired`](crate::SignaturePolicy::NotRequired)): its
    /// authenticity rests on how it was obtained.
    NotChecked,
    /// Typed in by an admin ([`IdpMetadata::from_explicit`]): no document, no signature.
    Explicit,
}

impl SignatureStatus {
    /// `verified`, `absent`, `not_checked` or `explicit`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SignatureStatus::Verified { .. } => "verified",
            SignatureStatus::Absent => "absent",
            SignatureStatus::NotChecked => "not_checked",
            SignatureStatus::Explicit => "explicit",
        }
    }
}

/// An Identity Provider as a SAML Service Provider needs it: entity ID, SSO and SLO
/// endpoints, signing certificates, and the rest of what its metadata says.
///
/// Built by [`Metadata::idp`](crate::Metadata::idp) (from an `IDPSSODescriptor` with SAML 2.0
/// in its `protocolSupportEnumeration`) or by [`IdpMetadata::from_explicit`] (entity ID, SSO
/// URL and pasted certificates). Either way it has an entity ID, at least one SSO endpoint
/// and at least one signing certificate, so [`signing_keys`](Self::signing_keys) never fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpMetadata {
    pub(crate) entity_id: String,
    pub(crate) sso: Vec<Endpoint>,
    pub(crate) slo: Vec<Endpoint>,
    pub(crate) slo_plain_http: Vec<PlainHttpEndpoint>,
    pub(crate) artifact_resolution: Vec<Endpoint>,
    pub(crate) name_id_formats: Vec<String>,
    pub(crate) want_authn_requests_signed: bool,
    pub(crate) certificates: Vec<Certificate>,
    pub(crate) signing_keys: TrustedKeys,
    pub(crate) valid_until: Option<DateTime<Utc>>,
    pub(crate) cache_duration: Option<CacheDuration>,
    pub(crate) error_url: Option<String>,
    pub(crate) organization: Option<Organization>,
    pub(crate) contacts: Vec<ContactPerson>,
    pub(crate) ui: Option<UiInfo>,
    pub(crate) registration: Option<RegistrationInfo>,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) entity_attributes: Vec<EntityAttribute>,
    pub(crate) signature: SignatureStatus,
    pub(crate) warnings: Vec<ImportWarning>,
}

impl IdpMetadata {
    /// The entity ID (the `Issuer` of its Responses). Any string, often a URL.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// `SingleSignOnService` endpoints, in document order (never empty). Every SAML 2.0 one
    /// passed the URL checks (an unusable one refuses the IdP); one of another binding (SAML 1,
    /// Shibboleth 1.x `AuthnRequest` profiles) that cannot be used is dropped with a
    /// [`ImportWarning::EndpointIgnored`].
    pub fn sso(&self) -> &[Endpoint] {
        &self.sso
    }

    /// The first SSO endpoint with this binding.
    pub fn sso_endpoint(&self, binding: &Binding) -> Option<&Endpoint> {
        self.sso.iter().find(|e| &e.binding == binding)
    }

    /// `SingleLogoutService` endpoints that may be used, in document order: `https://` (or
    /// `http://` when the import allowed it). An endpoint that cannot be used never refuses
    /// the IdP: a malformed one is dropped with a [`ImportWarning::EndpointIgnored`], a plain
    /// `http://` one is kept aside with a [`ImportWarning::SloPlainHttp`] and explained by
    /// [`slo_endpoint`](Self::slo_endpoint).
    pub fn slo(&self) -> &[Endpoint] {
        &self.slo
    }

    /// The `SingleLogoutService` to send logout messages of this binding to: the first usable
    /// one, `Ok(None)` when the IdP offers single logout over another binding or not at all,
    /// and [`Error::SloPlainHttp`](crate::Error::SloPlainHttp) when the only one of this
    /// binding is plain `http://`, naming it and what to change.
    ///
    /// ```
    /// use fedkit_metadata::{Binding, IdpMetadata, ImportSettings, SignaturePolicy};
    /// # let cert: String = include_str!("../../../examples/data/idp-cert.pem")
    /// #     .lines().filter(|l| !l.starts_with("-----")).collect();
    /// let xml = format!(r#"<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org">
    ///   <IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ///     <KeyDescriptor><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data>
    ///       <X509Certificate>{cert}</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
    ///     <SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    ///         Location="http://idp.example.org/slo"/>
    ///     <SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    ///         Location="https://idp.example.org/sso"/>
    ///   </IDPSSODescriptor>
    /// </EntityDescriptor>"#);
    /// let now = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")?.to_utc();
    /// let idp = IdpMetadata::from_xml(xml.as_bytes(), &ImportSettings::new(SignaturePolicy::NotRequired), now)?;
    /// assert!(idp.slo().is_empty());
    /// let err = idp.slo_endpoint(&Binding::HttpRedirect).unwrap_err();
    /// assert_eq!(err.code(), "slo_plain_http");
    /// assert_eq!(idp.slo_endpoint(&Binding::HttpPost)?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn slo_endpoint(&self, binding: &Binding) -> Result<Option<&Endpoint>, crate::Error> {
        if let Some(e) = self.slo.iter().find(|e| &e.binding == binding) {
            return Ok(Some(e));
        }
        match self
            .slo_plain_http
            .iter()
            .find(|e| &e.endpoint.binding == binding)
        {
            Some(refused) => Err(crate::Error::SloPlainHttp {
                entity_id: self.entity_id.clone(),
                binding: binding.clone(),
                element: refused.element.clone(),
                url: refused.url.clone(),
            }),
            None => Ok(None),
        }
    }

    /// `ArtifactResolutionService` endpoints that may be used (`https://`, or `http://` when
    /// allowed). fedkit does not resolve artifacts; an unusable one is dropped with a
    /// [`ImportWarning::EndpointIgnored`] and never refuses the IdP.
    pub fn artifact_resolution(&self) -> &[Endpoint] {
        &self.artifact_resolution
    }

    /// `NameIDFormat`s the IdP supports, in document order.
    pub fn name_id_formats(&self) -> &[String] {
        &self.name_id_formats
    }

    /// `WantAuthnRequestsSigned` (default `false`).
    pub fn want_authn_requests_signed(&self) -> bool {
        self.want_authn_requests_signed
    }

    /// Every certificate of every `KeyDescriptor`, in document order.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// Certificates that verify signatures (`use="signing"` or no `use`), all of them: during
    /// a rotation the IdP lists the old and the new one.
    pub fn signing_certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.certificates.iter().filter(|c| c.usage.signs())
    }

    /// Certificates to encrypt to (`use="encryption"` or no `use`).
    pub fn encryption_certificates(&self) -> impl Iterator<Item = &Certificate> {
        self.certificates.iter().filter(|c| c.usage.encrypts())
    }

    /// The signing certificates as the keys to pin: pass them to
    /// [`fedkit_xmldsig::Verifier::new`] or fedkit-saml's `IdentityProvider::new`.
    pub fn signing_keys(&self) -> &TrustedKeys {
        &self.signing_keys
    }

    /// The effective `validUntil`: the earliest on the entity, its `IDPSSODescriptor` and
    /// every enclosing `EntitiesDescriptor`. After it, the description must not be used.
    pub fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.valid_until
    }

    /// The effective `cacheDuration`: the shortest up the tree. Fetch the metadata again
    /// after this long (see [`refresh_at`](Self::refresh_at)).
    pub fn cache_duration(&self) -> Option<CacheDuration> {
        self.cache_duration
    }

    /// When to fetch the metadata again, given when it was fetched: the earlier of
    /// `fetched_at + cacheDuration` and `validUntil`; `None` when the metadata says neither
    /// (the host applies its own schedule, typically daily).
    pub fn refresh_at(&self, fetched_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        crate::metadata::refresh_at(self.valid_until, self.cache_duration, fetched_at)
    }

    /// The `errorURL` of the `IDPSSODescriptor`.
    pub fn error_url(&self) -> Option<&str> {
        self.error_url.as_deref()
    }

    /// `md:Organization`.
    pub fn organization(&self) -> Option<&Organization> {
        self.organization.as_ref()
    }

    /// `md:ContactPerson`s.
    pub fn contacts(&self) -> &[ContactPerson] {
        &self.contacts
    }

    /// `mdui:UIInfo` of the `IDPSSODescriptor`.
    pub fn ui_info(&self) -> Option<&UiInfo> {
        self.ui.as_ref()
    }

    /// `mdrpi:RegistrationInfo` (the entity's, or the nearest enclosing
    /// `EntitiesDescriptor`'s).
    pub fn registration(&self) -> Option<&RegistrationInfo> {
        self.registration.as_ref()
    }

    /// `shibmd:Scope`s.
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// `mdattr:EntityAttributes`.
    pub fn entity_attributes(&self) -> &[EntityAttribute] {
        &self.entity_attributes
    }

    /// A name for people: mdui `DisplayName`, else `OrganizationDisplayName`, else
    /// `OrganizationName` (English when there is a choice).
    pub fn display_name(&self) -> Option<&str> {
        self.ui
            .as_ref()
            .and_then(|u| pick(&u.display_names))
            .or_else(|| self.organization.as_ref().and_then(|o| pick(&o.display_names)))
            .or_else(|| self.organization.as_ref().and_then(|o| pick(&o.names)))
    }

    /// How the source document was authenticated.
    pub fn signature(&self) -> &SignatureStatus {
        &self.signature
    }

    /// Things an admin should know that did not prevent the import (an expired certificate,
    /// an ignored display URL, ...), evaluated at the `now` of the lookup.
    pub fn warnings(&self) -> &[ImportWarning] {
        &self.warnings
    }
}
