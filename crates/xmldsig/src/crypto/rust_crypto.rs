//! The pure-Rust provider.

use sha2::Digest as _;
use signature::hazmat::PrehashVerifier as _;

use super::{BadSignature, CryptoProvider, Hasher};
use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::key::{KeyType, PublicKey};

/// RustCrypto: `rsa` 0.9, `p256`/`p384` 0.13, `sha1`/`sha2` 0.10. Pure Rust, the default.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

struct DigestHasher<D>(D);

impl<D: sha2::Digest + Send> Hasher for DigestHasher<D> {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

fn rsa_key(key: &PublicKey) -> Result<rsa::RsaPublicKey, BadSignature> {
    let n = rsa::BigUint::from_bytes_be(key.rsa_modulus());
    let e = rsa::BigUint::from_bytes_be(key.rsa_exponent());
    rsa::RsaPublicKey::new_with_max_size(n, e, 16384).map_err(|_| BadSignature)
}

impl CryptoProvider for RustCrypto {
    fn name(&self) -> &'static str {
        "rustcrypto"
    }

    fn hasher(&self, algorithm: DigestAlgorithm) -> Box<dyn Hasher> {
        match algorithm {
            DigestAlgorithm::Sha1 => Box::new(DigestHasher(sha1::Sha1::new())),
            DigestAlgorithm::Sha256 => Box::new(DigestHasher(sha2::Sha256::new())),
            DigestAlgorithm::Sha384 => Box::new(DigestHasher(sha2::Sha384::new())),
            DigestAlgorithm::Sha512 => Box::new(DigestHasher(sha2::Sha512::new())),
        }
    }

    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        let hashed = self.digest(algorithm.hash(), message);
        match (algorithm.scheme(), key.key_type()) {
            (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { .. }) => {
                let scheme = match algorithm.hash() {
                    DigestAlgorithm::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                rsa_key(key)?
                    .verify(scheme, &hashed, signature)
                    .map_err(|_| BadSignature)
            }
            (SignatureScheme::RsaPss, KeyType::Rsa { .. }) => {
                let scheme = match algorithm.hash() {
                    DigestAlgorithm::Sha1 => rsa::Pss::new::<sha1::Sha1>(),
                    DigestAlgorithm::Sha256 => rsa::Pss::new::<sha2::Sha256>(),
                    DigestAlgorithm::Sha384 => rsa::Pss::new::<sha2::Sha384>(),
                    DigestAlgorithm::Sha512 => rsa::Pss::new::<sha2::Sha512>(),
                };
                rsa_key(key)?
                    .verify(scheme, &hashed, signature)
                    .map_err(|_| BadSignature)
            }
            (SignatureScheme::Ecdsa, KeyType::EcP256) => {
                let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(key.subject_public_key())
                    .map_err(|_| BadSignature)?;
                let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| BadSignature)?;
                vk.verify_prehash(&hashed, &sig).map_err(|_| BadSignature)
            }
            (SignatureScheme::Ecdsa, KeyType::EcP384) => {
                let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key.subject_public_key())
                    .map_err(|_| BadSignature)?;
                let sig = p384::ecdsa::Signature::from_slice(signature).map_err(|_| BadSignature)?;
                vk.verify_prehash(&hashed, &sig).map_err(|_| BadSignature)
            }
            _ => Err(BadSignature),
        }
    }
}
