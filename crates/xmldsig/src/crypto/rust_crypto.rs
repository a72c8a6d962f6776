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

/// RSA-OAEP with RustCrypto's `rsa`, blinded with the OS RNG. `rsa` 0.9 is not constant-time
/// (RUSTSEC-2023-0071, the Marvin attack): prefer the aws-lc-rs provider where an attacker can
/// time many decryptions.
pub(crate) fn oaep_decrypt(
    key: &crate::key::DecryptionKey,
    digest: DigestAlgorithm,
    mgf1: DigestAlgorithm,
    label: Option<&[u8]>,
    ciphertext: &[u8],
) -> Result<Vec<u8>, super::DecryptFailed> {
    fn padding<D, M>(label: Option<&[u8]>) -> rsa::Oaep
    where
        D: 'static + sha2::Digest + sha2::digest::DynDigest + Send + Sync,
        M: 'static + sha2::Digest + sha2::digest::DynDigest + Send + Sync,
    {
        let mut p = rsa::Oaep::new_with_mgf_hash::<D, M>();
        if let Some(l) = label {
            p.label = Some(String::from_utf8_lossy(l).into_owned());
        }
        p
    }
    macro_rules! with_mgf {
        ($d:ty) => {
            match mgf1 {
                DigestAlgorithm::Sha1 => padding::<$d, sha1::Sha1>(label),
                DigestAlgorithm::Sha256 => padding::<$d, sha2::Sha256>(label),
                DigestAlgorithm::Sha384 => padding::<$d, sha2::Sha384>(label),
                DigestAlgorithm::Sha512 => padding::<$d, sha2::Sha512>(label),
            }
        };
    }
    let scheme = match digest {
        DigestAlgorithm::Sha1 => with_mgf!(sha1::Sha1),
        DigestAlgorithm::Sha256 => with_mgf!(sha2::Sha256),
        DigestAlgorithm::Sha384 => with_mgf!(sha2::Sha384),
        DigestAlgorithm::Sha512 => with_mgf!(sha2::Sha512),
    };
    key.rsa()
        .decrypt_blinded(&mut rand_core::OsRng, scheme, ciphertext)
        .map_err(|_| super::DecryptFailed)
}

pub(crate) fn gcm_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, super::DecryptFailed> {
    use aes_gcm::aead::{Aead as _, KeyInit as _};
    if data.len() < 12 + 16 {
        return Err(super::DecryptFailed);
    }
    let (nonce, body) = data.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| super::DecryptFailed)?;
    let nonce = aes_gcm::Nonce::from(nonce);
    match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key)
            .map_err(|_| super::DecryptFailed)?
            .decrypt(&nonce, body)
            .map_err(|_| super::DecryptFailed),
        32 => aes_gcm::Aes256Gcm::new_from_slice(key)
            .map_err(|_| super::DecryptFailed)?
            .decrypt(&nonce, body)
            .map_err(|_| super::DecryptFailed),
        _ => Err(super::DecryptFailed),
    }
}

pub(crate) fn cbc_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, super::DecryptFailed> {
    use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut as _, KeyIvInit as _};
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return Err(super::DecryptFailed);
    }
    let (iv, body) = data.split_at(16);
    let result = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| super::DecryptFailed)?
            .decrypt_padded_vec_mut::<NoPadding>(body),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(|_| super::DecryptFailed)?
            .decrypt_padded_vec_mut::<NoPadding>(body),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| super::DecryptFailed)?
            .decrypt_padded_vec_mut::<NoPadding>(body),
        _ => return Err(super::DecryptFailed),
    };
    result.map_err(|_| super::DecryptFailed)
}

/// Triple-DES (DES-EDE3) CBC decryption without padding removal: `data` is the 8-byte IV and
/// the ciphertext, `key` the 24-byte key. XML Encryption 1.0's `tripledes-cbc`; only ever
/// decrypted, for IdPs that still encrypt with it.
pub(crate) fn tdes_cbc_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, super::DecryptFailed> {
    use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut as _, KeyIvInit as _};
    if key.len() != 24 || data.len() < 16 || !data.len().is_multiple_of(8) {
        return Err(super::DecryptFailed);
    }
    let (iv, body) = data.split_at(8);
    cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
        .map_err(|_| super::DecryptFailed)?
        .decrypt_padded_vec_mut::<NoPadding>(body)
        .map_err(|_| super::DecryptFailed)
}

pub(crate) fn rsa_sign(
    algorithm: SignatureAlgorithm,
    key: &crate::key::SigningKey,
    message: &[u8],
) -> Result<Vec<u8>, super::SignFailed> {
    use signature::{SignatureEncoding as _, Signer as _};
    if algorithm.scheme() != SignatureScheme::RsaPkcs1v15 {
        return Err(super::SignFailed);
    }
    let private = key.rsa().ok_or(super::SignFailed)?.rsa().clone();
    let signature = match algorithm.hash() {
        DigestAlgorithm::Sha256 => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private)
            .try_sign(message)
            .map(|s| s.to_vec()),
        DigestAlgorithm::Sha384 => rsa::pkcs1v15::SigningKey::<sha2::Sha384>::new(private)
            .try_sign(message)
            .map(|s| s.to_vec()),
        DigestAlgorithm::Sha512 => rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new(private)
            .try_sign(message)
            .map(|s| s.to_vec()),
        DigestAlgorithm::Sha1 => return Err(super::SignFailed),
    };
    signature.map_err(|_| super::SignFailed)
}
