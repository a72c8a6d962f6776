//! Cryptography behind a provider trait.
//!
//! Two providers ship with the crate, each behind a feature:
//!
//! - `RustCrypto` (feature `rust-crypto`, on by default): pure Rust (`rsa`, `p256`, `p384`,
//!   `sha1`, `sha2`, `aes`, `des`);
//! - `AwsLcRs` (feature `aws-lc-rs`): AWS-LC, several times faster for RSA verification, and
//!   constant-time RSA decryption.
//!
//! # The compiled-in provider is the default
//!
//! [`default_provider`] is `AwsLcRs` when the `aws-lc-rs` feature is on, else `RustCrypto`.
//! Everything that takes a provider uses it unless told otherwise: `Verifier::new`, the
//! validators and metadata import of fedkit-saml and fedkit-metadata, and
//! [`SigningKey::from_pem`] / [`DecryptionKey::from_pem`]. Enabling `aws-lc-rs` selects
//! AWS-LC; it never weakens anything: both providers pass the same test suite
//! ([`all_providers`]), and what AWS-LC lacks is delegated visibly or refused (below). A host
//! that wants RustCrypto while `aws-lc-rs` is on asks for it with `.with_provider(&RustCrypto)`
//! (and `from_pem_with(.., &RustCrypto)`).
//!
//! | features                         | default provider | compiled providers      |
//! |----------------------------------|------------------|-------------------------|
//! | `rust-crypto` (the default)      | `RustCrypto`     | RustCrypto              |
//! | `rust-crypto`, `aws-lc-rs`       | `AwsLcRs`        | AwsLcRs, RustCrypto     |
//! | `aws-lc-rs` only (`default-features = false`) | `AwsLcRs` | AwsLcRs (no `rsa` crate) |
//!
//! At least one of the two features must be on: without a provider the crate does not
//! compile (a `compile_error!` names both features).
//!
//! # Every operation is the chosen provider's, or visibly delegated, or refused
//!
//! A provider does an operation itself, or says in [`CryptoProvider::supports`] that it
//! delegates it to another provider (naming it), or refuses it with
//! [`CryptoError::Unsupported`] naming itself and the operation. The trait has no default
//! implementations that could quietly run another library's code. `AwsLcRs` delegates to
//! `RustCrypto` only what AWS-LC does not offer (listed on `AwsLcRs`); wrap it in
//! [`Strict`] to refuse those instead, e.g. so that no RSA private-key operation ever runs
//! outside AWS-LC's constant-time code (RUSTSEC-2023-0071, the Marvin attack, concerns the
//! `rsa` crate that RustCrypto uses). In a build without the `rust-crypto` feature there is
//! nothing to delegate to: `AwsLcRs` refuses those operations ([`Support::Unsupported`]), and
//! the [`CryptoError::Unsupported`] message says that the `rust-crypto` feature is off.
//!
//! # Keys belong to a provider
//!
//! Private keys are parsed by a provider ([`CryptoProvider::load_private_key`], as rustls's
//! `KeyProvider`): [`SigningKey::from_pem_with`] and [`DecryptionKey::from_pem_with`] parse with
//! the provider given (`from_pem` with the default one). The key also keeps its DER (zeroized
//! when the last clone is dropped), so a provider other than the one that loaded it parses it
//! again for itself when asked to use it: a key is never handed to another library behind the
//! host's back.
//!
//! Providers only do primitive operations on inputs the verifier already checked against the
//! [`AlgorithmPolicy`](crate::AlgorithmPolicy): key/algorithm compatibility and key sizes are
//! decided before a provider is called.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::error::KeyError;
use crate::key::{DecryptionKey, KeyType, PublicKey, SigningKey};

#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
compile_error!(
    "fedkit-xmldsig needs a crypto provider: enable its `rust-crypto` feature (pure Rust, the \
     default) or its `aws-lc-rs` feature (AWS-LC), or both. With `default-features = false`, \
     add `features = [\"aws-lc-rs\"]` (fedkit-saml and fedkit-metadata forward both features)."
);

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "aws-lc-rs")]
pub(crate) use aws_lc::ParsedKeyCache;
#[cfg(feature = "rust-crypto")]
mod rust_crypto;

#[cfg(feature = "aws-lc-rs")]
pub use aws_lc::AwsLcRs;
#[cfg(feature = "rust-crypto")]
pub use rust_crypto::RustCrypto;

/// An incremental hash.
pub trait Hasher: Send {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// Returns the digest.
    fn finish(self: Box<Self>) -> Vec<u8>;
}

/// The signature did not verify. Deliberately without detail: which padding byte was wrong
/// is of no use to an administrator and of some use to an attacker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadSignature;

/// An operation a provider can be asked for, as [`CryptoProvider::supports`] and
/// [`CryptoError::Unsupported`] name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Verifying a signature of `algorithm` with a public key of type `key`.
    Verify {
        /// The signature algorithm.
        algorithm: SignatureAlgorithm,
        /// The public key's type.
        key: KeyType,
    },
    /// Signing with `algorithm` and a private key of type `key`.
    Sign {
        /// The signature algorithm.
        algorithm: SignatureAlgorithm,
        /// The private key's type.
        key: KeyType,
    },
    /// Parsing a private key of type `key` into the provider's own key type.
    LoadPrivateKey {
        /// The key's type.
        key: KeyType,
    },
    /// RSA-OAEP key transport decryption.
    RsaOaepDecrypt {
        /// The OAEP digest (label hash).
        digest: DigestAlgorithm,
        /// The MGF1 hash.
        mgf1: DigestAlgorithm,
        /// The RSA key's modulus size.
        bits: usize,
    },
    /// RSA PKCS#1 v1.5 key transport decryption (XML Encryption `rsa-1_5`).
    RsaPkcs1v15Decrypt {
        /// The RSA key's modulus size.
        bits: usize,
    },
    /// AES-GCM content decryption with a key of `key_bits` bits.
    AesGcmDecrypt {
        /// 128 or 256.
        key_bits: usize,
    },
    /// AES-CBC content decryption with a key of `key_bits` bits.
    AesCbcDecrypt {
        /// 128, 192 or 256.
        key_bits: usize,
    },
    /// Triple-DES (DES-EDE3) CBC content decryption (XML Encryption `tripledes-cbc`).
    TripleDesCbcDecrypt,
}

impl core::fmt::Display for Operation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Operation::Verify { algorithm, key } => {
                write!(f, "{} signature verification with an {key} key", algorithm.name())
            }
            Operation::Sign { algorithm, key } => write!(f, "{} signing with an {key} key", algorithm.name()),
            Operation::LoadPrivateKey { key } => write!(f, "loading an {key} private key"),
            Operation::RsaOaepDecrypt { digest, mgf1, bits } => write!(
                f,
                "RSA-OAEP key transport decryption (digest {}, MGF1 with {}) with an RSA-{bits} key",
                digest.name(),
                mgf1.name()
            ),
            Operation::RsaPkcs1v15Decrypt { bits } => write!(
                f,
                "RSA PKCS#1 v1.5 key transport decryption (rsa-1_5) with an RSA-{bits} key"
            ),
            Operation::AesGcmDecrypt { key_bits } => write!(f, "AES-{key_bits}-GCM decryption"),
            Operation::AesCbcDecrypt { key_bits } => write!(f, "AES-{key_bits}-CBC decryption"),
            Operation::TripleDesCbcDecrypt => f.write_str("Triple-DES CBC decryption (tripledes-cbc)"),
        }
    }
}

/// How a provider handles an [`Operation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Support {
    /// The provider does it with its own code.
    Native,
    /// The provider hands it to another provider, named here (its [`CryptoProvider::name`]).
    Delegated {
        /// The provider that does it.
        to: &'static str,
    },
    /// The provider refuses it with [`CryptoError::Unsupported`].
    Unsupported,
}

/// Why a provider did not complete an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The provider does not do this operation (or, under [`Strict`], would only delegate it).
    /// Decided from the algorithm and key alone, before any secret is used.
    #[error("{}", unsupported_message(provider, operation, *delegate))]
    Unsupported {
        /// The provider asked ([`CryptoProvider::name`]).
        provider: &'static str,
        /// What it was asked for.
        operation: Operation,
        /// The provider it would have delegated to, when [`Strict`] refused the delegation.
        delegate: Option<&'static str>,
    },
    /// The operation ran and failed: wrong key, bad padding, bad tag, malformed input.
    /// Deliberately without detail (distinguishable failures are oracles).
    #[error("the cryptographic operation failed")]
    Failed,
}

fn unsupported_message(provider: &str, operation: &Operation, delegate: Option<&str>) -> String {
    #[cfg(all(feature = "aws-lc-rs", not(feature = "rust-crypto")))]
    if delegate.is_none() && provider == aws_lc::NAME && aws_lc::needs_rust_crypto(*operation) {
        return format!(
            "the {provider} crypto provider cannot do {operation}: AWS-LC does not offer it, and \
             this build has no pure-Rust fallback because fedkit-xmldsig's `rust-crypto` feature is \
             off (default-features = false). Enable the `rust-crypto` feature (fedkit-saml and \
             fedkit-metadata forward it), or configure the IdP (or the key) for what AWS-LC does: \
             AES-GCM or AES-CBC rather than Triple-DES, RSA keys of 2048 to 8192 bits, RSA-OAEP \
             with the same digest and MGF1 hash, ECDSA with the curve's own hash"
        );
    }
    match delegate {
        Some(to) => format!(
            "the {provider} crypto provider does not do {operation} itself, and its delegation to \
             {to} is refused (the provider is wrapped in crypto::Strict): configure the IdP for an \
             algorithm {provider} does, use an RSA key of 2048 to 8192 bits, or drop Strict to \
             accept the delegation"
        ),
        None => format!(
            "the {provider} crypto provider cannot do {operation}: configure the IdP (or the key) \
             for an algorithm it supports, or choose a provider that does it"
        ),
    }
}

impl CryptoError {
    /// A stable `snake_case` code for logs, metrics and API responses.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::Unsupported { .. } => "crypto_unsupported",
            CryptoError::Failed => "crypto_failed",
        }
    }
}

/// A private key's DER, as PEM labels tell them apart. `Debug` never prints the bytes.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub enum PrivateKeyDer<'a> {
    /// PKCS#8 `PrivateKeyInfo` (`BEGIN PRIVATE KEY`): RSA or EC.
    Pkcs8(&'a [u8]),
    /// PKCS#1 `RSAPrivateKey` (`BEGIN RSA PRIVATE KEY`).
    Pkcs1(&'a [u8]),
    /// SEC 1 `ECPrivateKey` (`BEGIN EC PRIVATE KEY`).
    Sec1(&'a [u8]),
}

impl core::fmt::Debug for PrivateKeyDer<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (name, len) = match self {
            PrivateKeyDer::Pkcs8(d) => ("Pkcs8", d.len()),
            PrivateKeyDer::Pkcs1(d) => ("Pkcs1", d.len()),
            PrivateKeyDer::Sec1(d) => ("Sec1", d.len()),
        };
        write!(f, "PrivateKeyDer::{name}({len} bytes)")
    }
}

/// A private key parsed by a provider, in that provider's own representation (an `rsa`
/// `RsaPrivateKey`, an AWS-LC `EVP_PKEY`, ...). Implementations erase their secret when
/// dropped.
pub trait PrivateKey: core::any::Any + Send + Sync {
    /// The [`CryptoProvider::name`] of the provider that parsed it.
    fn provider(&self) -> &'static str;
    /// RSA with its size, or the curve.
    fn key_type(&self) -> KeyType;
    /// The public half as a certificate's `subjectPublicKey` holds it: PKCS#1
    /// `RSAPublicKey` DER for RSA, the uncompressed point for EC.
    fn public_key(&self) -> Vec<u8>;
    /// For the provider to get its own type back.
    fn as_any(&self) -> &dyn core::any::Any;
}

/// A source of digests, signature verification, signing, key loading and decryption.
///
/// Every method is required: a provider states what it does in [`supports`](Self::supports)
/// and either does it, delegates it as `supports` says, or returns
/// [`CryptoError::Unsupported`].
pub trait CryptoProvider: core::fmt::Debug + Send + Sync {
    /// A short name (`rustcrypto`, `aws-lc-rs`).
    fn name(&self) -> &'static str;

    /// Whether this provider does `operation` itself, delegates it (to whom), or refuses it.
    fn supports(&self, operation: Operation) -> Support;

    /// `Ok` when [`supports`](Self::supports) does not say [`Support::Unsupported`]; else the
    /// error naming this provider and the operation.
    fn check(&self, operation: Operation) -> Result<(), CryptoError> {
        match self.supports(operation) {
            Support::Unsupported => Err(CryptoError::Unsupported {
                provider: self.name(),
                operation,
                delegate: None,
            }),
            _ => Ok(()),
        }
    }

    /// A new incremental hash.
    fn hasher(&self, algorithm: DigestAlgorithm) -> Box<dyn Hasher>;

    /// Verifies `signature` over `message` with `key`. The verifier has already checked that
    /// the key type suits the algorithm.
    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature>;

    /// One-shot digest.
    fn digest(&self, algorithm: DigestAlgorithm, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher(algorithm);
        h.update(data);
        h.finish()
    }

    /// Parses a private key into this provider's own key type (rustls's `KeyProvider`).
    fn load_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn PrivateKey>, KeyError>;

    /// RSA-OAEP decryption (key transport) with `digest` for the label hash and `mgf1` for
    /// the mask generation function. The result (a content key) is zeroized when dropped.
    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError>;

    /// RSA PKCS#1 v1.5 decryption (key transport `rsa-1_5`; only called behind
    /// `DecryptionPolicy::dangerous_allow_rsa_pkcs1v15`). Zeroized when dropped.
    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &DecryptionKey,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError>;

    /// Signs `message` with an RSA key: PKCS#1 v1.5 with SHA-256/384/512 (deterministic).
    fn rsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// Signs `message` with an EC key (P-256 or P-384): ECDSA with SHA-256/384/512, the
    /// signature as XML-DSig encodes it (`r || s`). `RustCrypto` signs deterministically
    /// (RFC 6979), AWS-LC with a random nonce. An RSA key or another algorithm is refused.
    fn ecdsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// AES-GCM decryption: `data` is the 12-byte nonce, the ciphertext and the 16-byte tag,
    /// as XML Encryption 1.1 lays them out.
    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// AES-CBC decryption without padding removal: `data` is the 16-byte IV and the
    /// ciphertext.
    fn aes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError>;

    /// Triple-DES (DES-EDE3) CBC decryption without padding removal: `data` is the 8-byte IV
    /// and the ciphertext, `key` the 24-byte key (XML Encryption 1.0 `tripledes-cbc`).
    fn tdes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError>;
}

/// The AES operation for a key of `len` octets; `None` for a length AES does not have
/// (a wrong content key: an ordinary decryption failure).
pub(crate) fn aes_key_bits(len: usize) -> Option<usize> {
    matches!(len, 16 | 24 | 32).then_some(len * 8)
}

/// A provider that refuses what its inner provider would delegate: every operation is the
/// inner provider's own, or [`CryptoError::Unsupported`] (with `delegate` naming where it
/// would have gone). For example `Strict(AwsLcRs)` never runs an RSA private-key operation
/// outside AWS-LC.
///
/// Signature *verification* (public keys only, nothing secret to leak through timing) is
/// passed through unchanged, including the delegations the inner provider lists in
/// `supports`.
///
/// ```
/// # #[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))] {
/// use fedkit_xmldsig::crypto::{AwsLcRs, CryptoProvider, Operation, Strict, Support};
/// // A constant: usable wherever a `&'static dyn CryptoProvider` is asked for.
/// let provider: &'static dyn CryptoProvider = &Strict(AwsLcRs);
/// assert_eq!(AwsLcRs.supports(Operation::TripleDesCbcDecrypt), Support::Delegated { to: "rustcrypto" });
/// assert_eq!(provider.supports(Operation::TripleDesCbcDecrypt), Support::Unsupported);
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Strict<P>(pub P);

impl<P: CryptoProvider> Strict<P> {
    fn own(&self, operation: Operation) -> Result<(), CryptoError> {
        let refuse = |delegate| {
            Err(CryptoError::Unsupported {
                provider: self.0.name(),
                operation,
                delegate,
            })
        };
        match self.0.supports(operation) {
            Support::Native => Ok(()),
            Support::Delegated { to } => refuse(Some(to)),
            _ => refuse(None),
        }
    }
}

impl<P: CryptoProvider> CryptoProvider for Strict<P> {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn supports(&self, operation: Operation) -> Support {
        match (operation, self.0.supports(operation)) {
            (Operation::Verify { .. }, s) | (_, s @ Support::Native) => s,
            _ => Support::Unsupported,
        }
    }

    fn check(&self, operation: Operation) -> Result<(), CryptoError> {
        match operation {
            Operation::Verify { .. } => self.0.check(operation),
            _ => self.own(operation),
        }
    }

    fn hasher(&self, algorithm: DigestAlgorithm) -> Box<dyn Hasher> {
        self.0.hasher(algorithm)
    }

    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        self.0.verify(algorithm, key, message, signature)
    }

    fn load_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn PrivateKey>, KeyError> {
        let key = self.0.load_private_key(der)?;
        if key.provider() != self.0.name() {
            return Err(KeyError::Crypto(CryptoError::Unsupported {
                provider: self.0.name(),
                operation: Operation::LoadPrivateKey { key: key.key_type() },
                delegate: Some(key.provider()),
            }));
        }
        Ok(key)
    }

    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.own(Operation::RsaOaepDecrypt {
            digest,
            mgf1,
            bits: key.bits(),
        })?;
        self.0.rsa_oaep_decrypt(key, digest, mgf1, label, ciphertext)
    }

    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &DecryptionKey,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.own(Operation::RsaPkcs1v15Decrypt { bits: key.bits() })?;
        self.0.rsa_pkcs1v15_decrypt(key, ciphertext)
    }

    fn rsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.own(Operation::Sign {
            algorithm,
            key: key.key_type(),
        })?;
        self.0.rsa_sign(algorithm, key, message)
    }

    fn ecdsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.own(Operation::Sign {
            algorithm,
            key: key.key_type(),
        })?;
        self.0.ecdsa_sign(algorithm, key, message)
    }

    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if let Some(key_bits) = aes_key_bits(key.len()) {
            self.own(Operation::AesGcmDecrypt { key_bits })?;
        }
        self.0.aes_gcm_decrypt(key, data)
    }

    fn aes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if let Some(key_bits) = aes_key_bits(key.len()) {
            self.own(Operation::AesCbcDecrypt { key_bits })?;
        }
        self.0.aes_cbc_decrypt(key, data)
    }

    fn tdes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.own(Operation::TripleDesCbcDecrypt)?;
        self.0.tdes_cbc_decrypt(key, data)
    }
}

/// What `RustCrypto` does: everything fedkit uses, except signing with SHA-1 or RSA-PSS and
/// AES-GCM with 192-bit keys (which XML Encryption does not define). Also the bound of what
/// `AwsLcRs` may delegate. Pure logic: compiled whichever providers are.
pub(crate) fn rust_crypto_supports(operation: Operation) -> Support {
    let ok = match operation {
        Operation::Verify { algorithm, key } => matches!(
            (algorithm.scheme(), key),
            (
                SignatureScheme::RsaPkcs1v15 | SignatureScheme::RsaPss,
                KeyType::Rsa { .. }
            ) | (SignatureScheme::Ecdsa, KeyType::EcP256 | KeyType::EcP384)
        ),
        Operation::Sign { algorithm, key } => {
            algorithm.hash() != DigestAlgorithm::Sha1
                && matches!(
                    (algorithm.scheme(), key),
                    (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { .. })
                        | (SignatureScheme::Ecdsa, KeyType::EcP256 | KeyType::EcP384)
                )
        }
        Operation::LoadPrivateKey { .. }
        | Operation::RsaOaepDecrypt { .. }
        | Operation::RsaPkcs1v15Decrypt { .. }
        | Operation::TripleDesCbcDecrypt => true,
        Operation::AesGcmDecrypt { key_bits } => matches!(key_bits, 128 | 256),
        Operation::AesCbcDecrypt { key_bits } => matches!(key_bits, 128 | 192 | 256),
    };
    if ok {
        Support::Native
    } else {
        Support::Unsupported
    }
}

/// The default provider: the one compiled in, AWS-LC first. `AwsLcRs` when the `aws-lc-rs`
/// feature is on (whether or not `rust-crypto` is), else `RustCrypto`. Every verifier,
/// validator, metadata import and key load uses it unless given another provider.
///
/// ```
/// use fedkit_xmldsig::crypto::default_provider;
/// let expected = if cfg!(feature = "aws-lc-rs") { "aws-lc-rs" } else { "rustcrypto" };
/// assert_eq!(default_provider().name(), expected);
/// ```
pub fn default_provider() -> &'static dyn CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    {
        &AwsLcRs
    }
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    {
        &RustCrypto
    }
    #[cfg(not(any(feature = "rust-crypto", feature = "aws-lc-rs")))]
    {
        unreachable!()
    }
}

/// Every provider compiled into this build, [`default_provider`] first. Test suites iterate
/// over it.
pub fn all_providers() -> Vec<&'static dyn CryptoProvider> {
    vec![
        #[cfg(feature = "aws-lc-rs")]
        &AwsLcRs,
        #[cfg(feature = "rust-crypto")]
        &RustCrypto,
    ]
}
