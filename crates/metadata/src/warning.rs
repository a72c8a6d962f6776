//! Findings that do not prevent an import but that an admin should see.

use chrono::{DateTime, Utc};
use fedkit_xmldsig::{Fingerprint, KeyError};

use crate::url::UrlProblem;

/// Something worth telling the admin that did not prevent the import.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportWarning {
    /// A certificate's validity has ended. It is still used: SAML pins keys, and many IdPs
    /// keep signing with expired self-signed certificates. Plan a rotation.
    #[error("certificate {sha256} ({subject}) expired on {not_after}; it is still accepted as a pinned key, but ask the IdP admin to rotate it")]
    CertificateExpired {
        /// The certificate.
        sha256: Fingerprint,
        /// Its subject.
        subject: String,
        /// End of its validity.
        not_after: DateTime<Utc>,
    },
    /// A certificate expires within 30 days.
    #[error("certificate {sha256} ({subject}) expires on {not_after}, in {days} day(s); expect the IdP to publish a new signing certificate soon")]
    CertificateExpiresSoon {
        /// The certificate.
        sha256: Fingerprint,
        /// Its subject.
        subject: String,
        /// End of its validity.
        not_after: DateTime<Utc>,
        /// Whole days left.
        days: i64,
    },
    /// A certificate's validity has not started (a rotation announced in advance, or a clock
    /// problem).
    #[error("certificate {sha256} ({subject}) is valid only from {not_before}; it is accepted as a pinned key already")]
    CertificateNotYetValid {
        /// The certificate.
        sha256: Fingerprint,
        /// Its subject.
        subject: String,
        /// Start of its validity.
        not_before: DateTime<Utc>,
    },
    /// A `KeyDescriptor` has no `ds:X509Certificate` (only a `KeyName` or `KeyValue`); it
    /// was ignored.
    #[error("KeyDescriptor #{key_descriptor} has no X509Certificate and was ignored")]
    KeyDescriptorWithoutCertificate {
        /// 1-based position in the `IDPSSODescriptor`.
        key_descriptor: usize,
    },
    /// A `KeyDescriptor` lists several certificates with different keys (a certificate
    /// chain, or a mistake). A KeyDescriptor describes one key (SAML Metadata
    /// Interoperability Profile §2.5): only the first certificate was used.
    #[error("KeyDescriptor #{key_descriptor} lists {ignored} more certificate(s) with a different key than the first; only the first was used")]
    ExtraCertificatesIgnored {
        /// 1-based position in the `IDPSSODescriptor`.
        key_descriptor: usize,
        /// How many were ignored.
        ignored: usize,
    },
    /// A certificate that cannot be used (damaged base64, a DER that does not parse, an
    /// unsupported key type) was skipped; other signing certificates remain (when none does,
    /// the import fails with [`Error::NoSigningCertificate`](crate::Error::NoSigningCertificate)).
    #[error("the certificate in KeyDescriptor #{key_descriptor} was skipped: {reason}")]
    CertificateSkipped {
        /// 1-based position in the `IDPSSODescriptor`.
        key_descriptor: usize,
        /// Why.
        reason: KeyError,
    },
    /// A URL that is only displayed (mdui `Logo`, `InformationURL`, `OrganizationURL`) was
    /// dropped because it is not http(s).
    #[error("{element} {url:?} was ignored: {problem}")]
    DisplayUrlIgnored {
        /// The element.
        element: &'static str,
        /// The URL.
        url: String,
        /// What is wrong with it.
        problem: UrlProblem,
    },
    /// A `cacheDuration` that is not a valid duration was ignored.
    #[error("cacheDuration {value:?} on {element} was ignored: {reason}")]
    CacheDurationIgnored {
        /// The element carrying it.
        element: &'static str,
        /// The value.
        value: String,
        /// Why.
        reason: crate::time::DurationError,
    },
    /// A known extension (mdrpi, mdattr, shibmd) that breaks its schema was ignored.
    #[error("an extension was ignored: {reason}")]
    ExtensionIgnored {
        /// What is wrong with it.
        reason: String,
    },
    /// No SSO endpoint uses HTTP-Redirect or HTTP-POST, the bindings browsers use: logins
    /// cannot start from this SP.
    #[error("no SingleSignOnService uses the HTTP-Redirect or HTTP-POST binding; SP-initiated login needs one of them")]
    NoBrowserSsoBinding,
    /// The document is signed, but no key was given to verify it: trust rests on how it was
    /// obtained (an admin upload, HTTPS from the IdP's own host).
    #[error(
        "the metadata is signed, but no certificate was given to verify the signature; it was not checked"
    )]
    SignatureNotChecked,
    /// An endpoint that SAML 2.0 sign-on does not use (`SingleLogoutService`,
    /// `ArtifactResolutionService`, a `SingleSignOnService` of a SAML 1 or Shibboleth 1.x
    /// binding) cannot be used: a URL that is not acceptable (see [`UrlProblem`]), a missing
    /// `Binding` or `Location`, a bad `index`. It was dropped and is not offered; the IdP is
    /// still imported.
    #[error("{element} was ignored and is not offered (sign-on does not depend on it): {reason}")]
    EndpointIgnored {
        /// The endpoint (`ArtifactResolutionService #1`).
        element: String,
        /// What is wrong, as the error it would be if the SP needed it.
        reason: Box<crate::Error>,
    },
    /// A `SingleLogoutService` uses plain `http://` while http endpoints are not allowed. The
    /// IdP is imported; the endpoint is not in [`IdpMetadata::slo`](crate::IdpMetadata::slo),
    /// and [`IdpMetadata::slo_endpoint`](crate::IdpMetadata::slo_endpoint) refuses it with
    /// [`Error::SloPlainHttp`](crate::Error::SloPlainHttp).
    #[error("{element} {url:?} uses plain http://; sign-on works, but logout messages will not be sent there: ask the IdP for its https:// logout URL (or allow http for a local test IdP)")]
    SloPlainHttp {
        /// The endpoint (`SingleLogoutService #1`).
        element: String,
        /// The plain-http URL.
        url: String,
    },
}

impl ImportWarning {
    /// A stable `snake_case` code per variant, for logs, APIs and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            ImportWarning::CertificateExpired { .. } => "certificate_expired",
            ImportWarning::CertificateExpiresSoon { .. } => "certificate_expires_soon",
            ImportWarning::CertificateNotYetValid { .. } => "certificate_not_yet_valid",
            ImportWarning::KeyDescriptorWithoutCertificate { .. } => "key_descriptor_without_certificate",
            ImportWarning::ExtraCertificatesIgnored { .. } => "extra_certificates_ignored",
            ImportWarning::CertificateSkipped { .. } => "certificate_skipped",
            ImportWarning::DisplayUrlIgnored { .. } => "display_url_ignored",
            ImportWarning::CacheDurationIgnored { .. } => "cache_duration_ignored",
            ImportWarning::ExtensionIgnored { .. } => "extension_ignored",
            ImportWarning::NoBrowserSsoBinding => "no_browser_sso_binding",
            ImportWarning::SignatureNotChecked => "signature_not_checked",
            ImportWarning::EndpointIgnored { .. } => "endpoint_ignored",
            ImportWarning::SloPlainHttp { .. } => "slo_plain_http",
        }
    }
}

/// Renamed [`ImportWarning`] (fedkit-saml's findings on an accepted login are `LoginWarning`).
#[deprecated(note = "renamed to ImportWarning")]
pub type Warning = ImportWarning;
