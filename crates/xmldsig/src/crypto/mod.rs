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

use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use crate::key::PublicKey;

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
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
