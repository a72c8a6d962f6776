//! The verified assertion: what a signature covered, and nothing else.

use chrono::{DateTime, Utc};
use fedkit_xmldsig::xmlenc::{ContentAlgorithm, Delegation};
use fedkit_xmldsig::Fingerprint;

use crate::error::SignedPart;

/// The subject's name identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    /// The identifier, read as the full text of the element (a comment or processing
    /// instruction inside it can never truncate it).
    pub value: String,
    /// `Format`, e.g. `urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress`.
    pub format: Option<String>,
    /// `NameQualifier`.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier`.
    pub sp_name_qualifier: Option<String>,
}

/// One `saml:Attribute` with all its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// `Name`, e.g. `email` (JumpCloud) or
    /// `http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress` (Entra ID).
    pub name: String,
    /// `NameFormat`, when given.
    pub name_format: Option<String>,
    /// `FriendlyName`, when given.
    pub friendly_name: Option<String>,
    /// The text of each `AttributeValue`, in order.
    pub values: Vec<String>,
}

/// The authentication statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authn {
    /// When the user authenticated at the IdP.
    pub instant: DateTime<Utc>,
    /// `SessionIndex`, needed for Single Logout.
    pub session_index: Option<String>,
    /// `SessionNotOnOrAfter`: when the IdP wants the SP session to end.
    pub session_not_on_or_after: Option<DateTime<Utc>>,
    /// `AuthnContextClassRef`, e.g. `...:ac:classes:PasswordProtectedTransport`.
    pub context_class: Option<String>,
}

/// Something an administrator should know about an accepted login.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginWarning {
    /// The pinned certificate that verified the signature is outside its validity period.
    /// Pinned certificates are keys, so this does not refuse the login (unless
    /// [`Settings::with_certificate_validity_enforced`](crate::Settings::with_certificate_validity_enforced)), but the IdP will rotate it soon, or should.
    CertificateOutsideValidity {
        /// The certificate's SHA-256 fingerprint.
        fingerprint: Fingerprint,
        /// Its validity period start.
        not_before: DateTime<Utc>,
        /// Its validity period end.
        not_after: DateTime<Utc>,
    },
    /// The IdP encrypted the assertion (or its NameID) with a legacy content-encryption
    /// algorithm: Triple-DES (`tripledes-cbc`), which XML Encryption 1.0 requires and some
    /// IdPs (pysaml2's default) still use. It was decrypted and the login accepted, but the
    /// IdP should be set to encrypt with AES-GCM.
    LegacyEncryption {
        /// What was encrypted: `EncryptedAssertion` or `EncryptedID`.
        element: &'static str,
        /// The content-encryption algorithm.
        algorithm: ContentAlgorithm,
    },
    /// The crypto provider the host chose handed a secret-key operation of this login's
    /// decryption to another provider (e.g. `AwsLcRs`'s Triple-DES, or RSA keys outside
    /// 2048 to 8192 bits, done by RustCrypto). The login is accepted; the host learns that
    /// code other than its chosen provider's touched the key or the plaintext. Wrap the
    /// provider in `fedkit_xmldsig::crypto::Strict` to refuse such logins instead.
    CryptoDelegated {
        /// What was decrypted: `EncryptedAssertion` or `EncryptedID`.
        element: &'static str,
        /// The operation, the provider asked and the one that did it.
        delegation: Delegation,
    },
}

impl LoginWarning {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            LoginWarning::CertificateOutsideValidity { .. } => "certificate_outside_validity",
            LoginWarning::LegacyEncryption { .. } => "legacy_encryption",
            LoginWarning::CryptoDelegated { .. } => "crypto_delegated",
        }
    }

    /// The warnings for content decrypted with `algorithm`: a legacy algorithm, and every
    /// operation the provider delegated.
    pub(crate) fn for_decryption(
        element: &'static str,
        algorithm: ContentAlgorithm,
        delegated: &[Delegation],
    ) -> Vec<Self> {
        let legacy = algorithm
            .is_legacy()
            .then_some(LoginWarning::LegacyEncryption { element, algorithm });
        legacy
            .into_iter()
            .chain(
                delegated
                    .iter()
                    .map(|&delegation| LoginWarning::CryptoDelegated { element, delegation }),
            )
            .collect()
    }
}

impl core::fmt::Display for LoginWarning {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoginWarning::CertificateOutsideValidity {
                fingerprint,
                not_before,
                not_after,
            } => write!(
                f,
                "the IdP signing certificate {fingerprint} is valid from {} to {}: outside that period now; pin the IdP's new certificate when it rotates",
                crate::time::show(*not_before),
                crate::time::show(*not_after)
            ),
            LoginWarning::LegacyEncryption { element, algorithm } => write!(
                f,
                "the IdP encrypted the {} ({element}) with {} ({}), a legacy cipher with 64-bit blocks that NIST no longer allows for encryption: \
                 set the IdP to encrypt with AES-256-GCM (http://www.w3.org/2009/xmlenc11#aes256-gcm), or AES-256-CBC if it offers no GCM",
                if *element == "EncryptedID" {
                    "NameID"
                } else {
                    "assertion"
                },
                algorithm.name(),
                algorithm.uri()
            ),
            LoginWarning::CryptoDelegated { element, delegation } => write!(
                f,
                "decrypting the {element}, {delegation}: the login is accepted; if only the chosen provider may handle \
                 the SP's private key, wrap it in crypto::Strict, or have the IdP use AES-GCM with RSA-OAEP and an SP key of 2048 to 8192 bits"
            ),
        }
    }
}

/// A SAML assertion whose signature verified against a pinned key and whose every condition
/// held at the time given. Only [`ResponseValidator`](crate::ResponseValidator) constructs
/// one, and every value in it was read from the signed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub(crate) id: String,
    pub(crate) issuer: String,
    pub(crate) name_id: NameId,
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) authn: Authn,
    pub(crate) not_before: Option<DateTime<Utc>>,
    pub(crate) not_on_or_after: Option<DateTime<Utc>>,
    pub(crate) audiences: Vec<String>,
    pub(crate) in_response_to: Option<String>,
    pub(crate) one_time_use: bool,
    pub(crate) signed: Vec<SignedPart>,
    pub(crate) signing_key: Fingerprint,
    pub(crate) warnings: Vec<LoginWarning>,
}

impl VerifiedAssertion {
    /// The assertion's `ID` (what the replay cache remembers).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The IdP entity ID (the assertion's `Issuer`, equal to the configured one).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject's `NameID`.
    pub fn name_id(&self) -> &NameId {
        &self.name_id
    }

    /// Every attribute, in document order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The values of the first attribute whose `Name` or `FriendlyName` equals `name`
    /// (case-sensitive, as SAML names are).
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name || a.friendly_name.as_deref() == Some(name))
            .map(|a| a.values.as_slice())
    }

    /// The first value of the attribute `name`.
    pub fn first_value(&self, name: &str) -> Option<&str> {
        self.attribute(name)
            .and_then(<[String]>::first)
            .map(String::as_str)
    }

    /// The authentication statement (the Web SSO profile requires at least one; with
    /// several, the first, with the earliest `SessionNotOnOrAfter` of them all).
    pub fn authn(&self) -> &Authn {
        &self.authn
    }

    /// `SessionIndex` of the authentication statement.
    pub fn session_index(&self) -> Option<&str> {
        self.authn.session_index.as_deref()
    }

    /// `Conditions/@NotBefore`.
    pub fn not_before(&self) -> Option<DateTime<Utc>> {
        self.not_before
    }

    /// `Conditions/@NotOnOrAfter`.
    pub fn not_on_or_after(&self) -> Option<DateTime<Utc>> {
        self.not_on_or_after
    }

    /// The `Audience` values of the assertion's `AudienceRestriction` conditions, in
    /// document order; every restriction named this SP's entity ID (an assertion without one
    /// is refused, so this is never empty).
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The request this assertion answers, as a signature covered it (the signed Response's
    /// `InResponseTo` or the signed bearer `SubjectConfirmationData/@InResponseTo`); `None`
    /// for an IdP-initiated login. An `InResponseTo` that only an unsigned Response carries
    /// never appears here.
    pub fn in_response_to(&self) -> Option<&str> {
        self.in_response_to.as_deref()
    }

    /// Whether the IdP marked the assertion `OneTimeUse` (the replay cache enforces one use
    /// of every assertion anyway).
    pub fn one_time_use(&self) -> bool {
        self.one_time_use
    }

    /// Which elements carried a valid signature, outermost first.
    pub fn signed(&self) -> &[SignedPart] {
        &self.signed
    }

    /// The SHA-256 fingerprint of the pinned key that verified the signature covering the
    /// assertion.
    pub fn signing_key(&self) -> Fingerprint {
        self.signing_key
    }

    /// What an administrator should know about this accepted login (log them).
    pub fn warnings(&self) -> &[LoginWarning] {
        &self.warnings
    }
}
