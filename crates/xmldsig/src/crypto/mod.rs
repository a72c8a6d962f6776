//! Cryptography behind a provider trait.
//!
//! [`RustCrypto`] (pure Rust: `rsa`, `p256`, `p384`, `sha1`, `sha2`) is always available and
//! is the default. With the `aws-lc-rs` feature, [`AwsLcRs`] adds the aws-lc-rs
//! implementation, several times faster for RSA verification. Both are driven by the same
//! test suite; enabling the feature never changes the default.
//!
//! Providers only do primitive operations on inputs the verifier already checked against the
//! [`AlgorithmPolicy`](crate::AlgorithmPolicy): key/algorithm compatibility and key sizes are
//! decided before a provider is called.

use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::key::{DecryptionKey, PublicKey, SigningKey};

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "aws-lc-rs")]
pub(crate) use aws_lc::ParsedKeyCache;
mod rust_crypto;

#[cfg(feature = "aws-lc-rs")]
pub use aws_lc::AwsLcRs;
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

/// A decryption failed. Deliberately without detail, and the same for every cause (wrong
/// key, bad padding, bad tag): distinguishable failures are decryption oracles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecryptFailed;

/// Signing failed (an algorithm this key cannot sign with, or a provider error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignFailed;

/// A source of digests and signature verification.
pub trait CryptoProvider: core::fmt::Debug + Send + Sync {
    /// A short name (`rustcrypto`, `aws-lc-rs`).
    fn name(&self) -> &'static str;

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

    /// RSA-OAEP decryption (key transport) with `digest` for the label hash and `mgf1` for
    /// the mask generation function. The default implementation is RustCrypto's (blinded,
    /// but not constant-time: see `RustCrypto`).
    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, DecryptFailed> {
        rust_crypto::oaep_decrypt(key, digest, mgf1, label, ciphertext)
    }

    /// Signs `message` with an RSA key: PKCS#1 v1.5 with SHA-256/384/512 (deterministic).
    fn rsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, SignFailed> {
        rust_crypto::rsa_sign(algorithm, key, message)
    }

    /// Signs `message` with an EC key (P-256 or P-384): ECDSA with SHA-256/384/512, the
    /// signature as XML-DSig encodes it (`r || s`). Deterministic (RFC 6979). An RSA key or
    /// another algorithm fails.
    fn ecdsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, SignFailed> {
        if algorithm.scheme() != SignatureScheme::Ecdsa {
            return Err(SignFailed);
        }
        key.ecdsa_sign(algorithm.hash(), message).ok_or(SignFailed)
    }

    /// AES-GCM decryption: `data` is the 12-byte nonce, the ciphertext and the 16-byte tag,
    /// as XML Encryption 1.1 lays them out.
    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptFailed> {
        rust_crypto::gcm_decrypt(key, data)
    }

    /// AES-CBC decryption without padding removal: `data` is the 16-byte IV and the
    /// ciphertext. (Shared by both providers: RustCrypto's `aes` uses AES-NI where present.)
    fn aes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptFailed> {
        rust_crypto::cbc_decrypt(key, data)
    }

    /// Triple-DES (DES-EDE3) CBC decryption without padding removal: `data` is the 8-byte IV
    /// and the ciphertext, `key` the 24-byte key (XML Encryption 1.0 `tripledes-cbc`). Shared
    /// by both providers: RustCrypto's `des`. aws-lc-rs offers 3DES only behind its
    /// `legacy-des` feature (which needs bindgen-generated bindings at build time), so the
    /// aws-lc-rs provider delegates it here, as it does AES-CBC.
    fn tdes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptFailed> {
        rust_crypto::tdes_cbc_decrypt(key, data)
    }
}

/// RSA PKCS#1 v1.5 decryption (only behind `DecryptionPolicy::dangerous_allow_rsa_pkcs1v15`),
/// with RustCrypto, blinded.
pub(crate) fn pkcs1v15_decrypt(key: &DecryptionKey, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptFailed> {
    key.rsa()
        .decrypt_blinded(&mut rand_core::OsRng, rsa::Pkcs1v15Encrypt, ciphertext)
        .map_err(|_| DecryptFailed)
}

/// The default provider: [`RustCrypto`].
pub fn default_provider() -> &'static dyn CryptoProvider {
    &RustCrypto
}

/// Every provider compiled into this build, default first. Test suites iterate over it.
pub fn all_providers() -> Vec<&'static dyn CryptoProvider> {
    #[allow(unused_mut)]
    let mut v: Vec<&'static dyn CryptoProvider> = vec![&RustCrypto];
    #[cfg(feature = "aws-lc-rs")]
    v.push(&AwsLcRs);
    v
}
