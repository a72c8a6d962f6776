//! Digest and signature algorithms, and the policy that decides which are acceptable.

use crate::error::{AlgorithmRole, VerifyError};

/// A digest algorithm of `Reference/DigestMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-1: refused unless the policy opts in.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    const ALL: [DigestAlgorithm; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    /// The algorithm identified by `uri`.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// The XML-DSig URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
            Self::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Self::Sha384 => "http://www.w3.org/2001/04/xmldsig-more#sha384",
            Self::Sha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
        }
    }

    /// A display name (`SHA-256`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

/// The public-key scheme of a signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5.
    RsaPkcs1v15,
    /// RSASSA-PSS with MGF1 using the same hash and a salt as long as the hash (RFC 6931).
    RsaPss,
    /// ECDSA; the XML-DSig signature value is `r || s`, each as long as the curve order.
    Ecdsa,
}

/// A signature algorithm of `SignedInfo/SignatureMethod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignatureAlgorithm {
    scheme: SignatureScheme,
    hash: DigestAlgorithm,
}

impl SignatureAlgorithm {
    /// RSA PKCS#1 v1.5 with SHA-256.
    pub const RSA_SHA256: Self = Self::new(SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha256);
    /// RSA PKCS#1 v1.5 with SHA-384.
    pub const RSA_SHA384: Self = Self::new(SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha384);
    /// RSA PKCS#1 v1.5 with SHA-512.
    pub const RSA_SHA512: Self = Self::new(SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha512);
    /// RSA PKCS#1 v1.5 with SHA-1 (refused unless the policy opts in).
    pub const RSA_SHA1: Self = Self::new(SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha1);
    /// RSA-PSS with SHA-256.
    pub const RSA_PSS_SHA256: Self = Self::new(SignatureScheme::RsaPss, DigestAlgorithm::Sha256);
    /// RSA-PSS with SHA-384.
    pub const RSA_PSS_SHA384: Self = Self::new(SignatureScheme::RsaPss, DigestAlgorithm::Sha384);
    /// RSA-PSS with SHA-512.
    pub const RSA_PSS_SHA512: Self = Self::new(SignatureScheme::RsaPss, DigestAlgorithm::Sha512);
    /// ECDSA with SHA-256.
    pub const ECDSA_SHA256: Self = Self::new(SignatureScheme::Ecdsa, DigestAlgorithm::Sha256);
    /// ECDSA with SHA-384.
    pub const ECDSA_SHA384: Self = Self::new(SignatureScheme::Ecdsa, DigestAlgorithm::Sha384);
    /// ECDSA with SHA-512.
    pub const ECDSA_SHA512: Self = Self::new(SignatureScheme::Ecdsa, DigestAlgorithm::Sha512);
    /// ECDSA with SHA-1 (refused unless the policy opts in).
    pub const ECDSA_SHA1: Self = Self::new(SignatureScheme::Ecdsa, DigestAlgorithm::Sha1);

    const ALL: [Self; 11] = [
        Self::RSA_SHA256,
        Self::RSA_SHA384,
        Self::RSA_SHA512,
        Self::RSA_SHA1,
        Self::RSA_PSS_SHA256,
        Self::RSA_PSS_SHA384,
        Self::RSA_PSS_SHA512,
        Self::ECDSA_SHA256,
        Self::ECDSA_SHA384,
        Self::ECDSA_SHA512,
        Self::ECDSA_SHA1,
    ];

    const fn new(scheme: SignatureScheme, hash: DigestAlgorithm) -> Self {
        Self { scheme, hash }
    }

    /// The algorithm identified by `uri`, if implemented.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// The public-key scheme.
    pub fn scheme(self) -> SignatureScheme {
        self.scheme
    }

    /// The hash the scheme is used with.
    pub fn hash(self) -> DigestAlgorithm {
        self.hash
    }

    /// The XML-DSig URI.
    pub fn uri(self) -> &'static str {
        use DigestAlgorithm::*;
        use SignatureScheme::*;
        match (self.scheme, self.hash) {
            (RsaPkcs1v15, Sha1) => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            (RsaPkcs1v15, Sha256) => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            (RsaPkcs1v15, Sha384) => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
            (RsaPkcs1v15, Sha512) => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            (RsaPss, Sha1) => "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1",
            (RsaPss, Sha256) => "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
            (RsaPss, Sha384) => "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
            (RsaPss, Sha512) => "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
            (Ecdsa, Sha1) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1",
            (Ecdsa, Sha256) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
            (Ecdsa, Sha384) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
            (Ecdsa, Sha512) => "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
        }
    }

    /// A display name (`RSA-SHA256`, `RSA-PSS-SHA384`, `ECDSA-SHA256`).
    pub fn name(self) -> &'static str {
        use DigestAlgorithm::*;
        use SignatureScheme::*;
        match (self.scheme, self.hash) {
            (RsaPkcs1v15, Sha1) => "RSA-SHA1",
            (RsaPkcs1v15, Sha256) => "RSA-SHA256",
            (RsaPkcs1v15, Sha384) => "RSA-SHA384",
            (RsaPkcs1v15, Sha512) => "RSA-SHA512",
            (RsaPss, Sha1) => "RSA-PSS-SHA1",
            (RsaPss, Sha256) => "RSA-PSS-SHA256",
            (RsaPss, Sha384) => "RSA-PSS-SHA384",
            (RsaPss, Sha512) => "RSA-PSS-SHA512",
            (Ecdsa, Sha1) => "ECDSA-SHA1",
            (Ecdsa, Sha256) => "ECDSA-SHA256",
            (Ecdsa, Sha384) => "ECDSA-SHA384",
            (Ecdsa, Sha512) => "ECDSA-SHA512",
        }
    }
}

impl core::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which algorithms a verifier accepts.
///
/// The default accepts RSA PKCS#1 v1.5, RSA-PSS and ECDSA with SHA-256/384/512, SHA-256/384/512
/// digests, and RSA keys of at least 2048 bits. SHA-1 and short RSA keys are refused unless a
/// caller opts in with a deliberately named method. HMAC is never accepted: a shared secret
/// cannot be a pinned public key.
///
/// ```
/// use fedkit_xmldsig::AlgorithmPolicy;
/// let strict = AlgorithmPolicy::default();
/// assert!(!strict.sha1_allowed());
/// let legacy = AlgorithmPolicy::default().dangerous_allow_sha1();
/// assert!(legacy.sha1_allowed());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgorithmPolicy {
    allow_sha1: bool,
    min_rsa_bits: usize,
}

impl Default for AlgorithmPolicy {
    fn default() -> Self {
        Self {
            allow_sha1: false,
            min_rsa_bits: 2048,
        }
    }
}

impl AlgorithmPolicy {
    /// Accept SHA-1 digests and SHA-1 signatures. SHA-1 is broken for collision resistance;
    /// allow it only for an IdP that cannot be configured for SHA-256, and plan to turn it off.
    pub fn dangerous_allow_sha1(mut self) -> Self {
        self.allow_sha1 = true;
        self
    }

    /// Accept RSA keys shorter than 2048 bits, down to `bits` (never below 1024).
    pub fn dangerous_min_rsa_bits(mut self, bits: usize) -> Self {
        self.min_rsa_bits = bits.max(1024);
        self
    }

    /// Whether SHA-1 is accepted.
    pub fn sha1_allowed(&self) -> bool {
        self.allow_sha1
    }

    /// The minimum RSA modulus size in bits.
    pub fn min_rsa_bits(&self) -> usize {
        self.min_rsa_bits
    }

    pub(crate) fn check_digest(&self, uri: &str) -> Result<DigestAlgorithm, VerifyError> {
        let alg = DigestAlgorithm::from_uri(uri).ok_or_else(|| VerifyError::UnsupportedAlgorithm {
            role: AlgorithmRole::Digest,
            uri: uri.to_owned(),
            allowed: "use SHA-256 (http://www.w3.org/2001/04/xmlenc#sha256), SHA-384 or SHA-512",
        })?;
        if alg == DigestAlgorithm::Sha1 && !self.allow_sha1 {
            return Err(VerifyError::AlgorithmRefused {
                role: AlgorithmRole::Digest,
                uri: uri.to_owned(),
                reason: SHA1_REASON,
            });
        }
        Ok(alg)
    }

    pub(crate) fn check_signature(&self, uri: &str) -> Result<SignatureAlgorithm, VerifyError> {
        let alg = SignatureAlgorithm::from_uri(uri).ok_or_else(|| VerifyError::UnsupportedAlgorithm {
            role: AlgorithmRole::Signature,
            uri: uri.to_owned(),
            allowed: if uri.contains("hmac") {
                "HMAC signatures are never accepted: they rely on a shared secret, not the IdP's public key"
            } else {
                "use RSA-SHA256 (http://www.w3.org/2001/04/xmldsig-more#rsa-sha256), RSA-SHA384/512, RSA-PSS or ECDSA with SHA-256/384/512"
            },
        })?;
        if alg.hash() == DigestAlgorithm::Sha1 && !self.allow_sha1 {
            return Err(VerifyError::AlgorithmRefused {
                role: AlgorithmRole::Signature,
                uri: uri.to_owned(),
                reason: SHA1_REASON,
            });
        }
        Ok(alg)
    }
}

const SHA1_REASON: &str = "SHA-1 is refused by default; set the IdP to sign with SHA-256 \
(in JumpCloud: the application's SSO settings, Signature Algorithm RSA-SHA256), or opt in with AlgorithmPolicy::dangerous_allow_sha1 (CLI: --allow-sha1)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        for a in SignatureAlgorithm::ALL {
            assert_eq!(SignatureAlgorithm::from_uri(a.uri()), Some(a));
        }
        for d in DigestAlgorithm::ALL {
            assert_eq!(DigestAlgorithm::from_uri(d.uri()), Some(d));
        }
    }

    #[test]
    fn sha1_needs_opt_in() {
        let strict = AlgorithmPolicy::default();
        assert!(matches!(
            strict.check_signature(SignatureAlgorithm::RSA_SHA1.uri()),
            Err(VerifyError::AlgorithmRefused { .. })
        ));
        assert!(matches!(
            strict.check_digest(DigestAlgorithm::Sha1.uri()),
            Err(VerifyError::AlgorithmRefused { .. })
        ));
        let legacy = AlgorithmPolicy::default().dangerous_allow_sha1();
        assert_eq!(
            legacy.check_signature(SignatureAlgorithm::RSA_SHA1.uri()),
            Ok(SignatureAlgorithm::RSA_SHA1)
        );
        assert_eq!(
            legacy.check_digest(DigestAlgorithm::Sha1.uri()),
            Ok(DigestAlgorithm::Sha1)
        );
    }

    #[test]
    fn hmac_is_never_accepted() {
        let legacy = AlgorithmPolicy::default().dangerous_allow_sha1();
        let err = legacy
            .check_signature("http://www.w3.org/2000/09/xmldsig#hmac-sha1")
            .unwrap_err();
        assert!(err.to_string().contains("HMAC"));
    }
}
