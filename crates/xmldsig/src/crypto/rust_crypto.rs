//! The pure-Rust provider.

use std::sync::Arc;

use sha2::Digest as _;
use signature::hazmat::PrehashVerifier as _;
use zeroize::Zeroizing;

use super::{
    aes_key_bits, BadSignature, CryptoError, CryptoProvider, Hasher, Operation, PrivateKey, PrivateKeyDer,
    Support,
};
use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::error::KeyError;
use crate::key::{DecryptionKey, KeyType, PublicKey, SigningKey};

/// RustCrypto: `rsa` 0.9, `p256`/`p384` 0.13, `sha1`/`sha2` 0.10, `aes`, `aes-gcm`, `cbc`,
/// `des`. Pure Rust; compiled with the `rust-crypto` feature (on by default), and the default
/// provider unless the `aws-lc-rs` feature is on. Does every operation fedkit uses itself (its
/// [`supports`](CryptoProvider::supports) never says `Delegated`).
///
/// RSA private-key operations use `rsa` 0.9, blinded with the OS RNG but not constant-time
/// (RUSTSEC-2023-0071, the Marvin attack): where an attacker can time many decryptions with
/// the SP key, prefer `Strict(AwsLcRs)`. Keys are `rsa::RsaPrivateKey` and
/// `p256`/`p384` `SigningKey`s, which erase themselves when dropped.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCrypto;

/// A private key as RustCrypto holds it.
pub(crate) enum RcKey {
    Rsa(rsa::RsaPrivateKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl PrivateKey for RcKey {
    fn provider(&self) -> &'static str {
        "rustcrypto"
    }

    fn key_type(&self) -> KeyType {
        match self {
            RcKey::Rsa(k) => KeyType::Rsa {
                bits: rsa::traits::PublicKeyParts::n(k).bits(),
            },
            RcKey::P256(_) => KeyType::EcP256,
            RcKey::P384(_) => KeyType::EcP384,
        }
    }

    fn public_key(&self) -> Vec<u8> {
        use rsa::pkcs1::EncodeRsaPublicKey as _;
        match self {
            RcKey::Rsa(k) => k
                .to_public_key()
                .to_pkcs1_der()
                .map(|d| d.as_bytes().to_vec())
                .unwrap_or_default(),
            RcKey::P256(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
            RcKey::P384(k) => k.verifying_key().to_encoded_point(false).as_bytes().to_vec(),
        }
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// Parses a private key with `rsa`, `p256` and `p384`.
pub(crate) fn load(der: PrivateKeyDer<'_>) -> Result<Arc<dyn PrivateKey>, KeyError> {
    use p256::pkcs8::DecodePrivateKey as _;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    let bad = |e: String| KeyError::BadPublicKey {
        reason: format!("the private key cannot be parsed: {e}"),
    };
    let key = match der {
        PrivateKeyDer::Pkcs1(der) => {
            RcKey::Rsa(rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| bad(e.to_string()))?)
        }
        PrivateKeyDer::Sec1(der) => {
            if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
                RcKey::P256(k.into())
            } else {
                p384::SecretKey::from_sec1_der(der)
                    .map(|k| RcKey::P384(k.into()))
                    .map_err(|_| bad("an EC key that is not on P-256 or P-384".into()))?
            }
        }
        PrivateKeyDer::Pkcs8(der) => {
            if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
                RcKey::P256(k)
            } else if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
                RcKey::P384(k)
            } else {
                RcKey::Rsa(rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| bad(e.to_string()))?)
            }
        }
    };
    Ok(Arc::new(key))
}

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

    fn supports(&self, operation: Operation) -> Support {
        super::rust_crypto_supports(operation)
    }

    fn load_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn PrivateKey>, KeyError> {
        load(der)
    }

    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        oaep_decrypt(self, key, digest, mgf1, label, ciphertext)
    }

    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &DecryptionKey,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        key.material().with(self, |k: &RcKey| match k {
            RcKey::Rsa(k) => k
                .decrypt_blinded(&mut rand_core::OsRng, rsa::Pkcs1v15Encrypt, ciphertext)
                .map(Zeroizing::new)
                .map_err(|_| CryptoError::Failed),
            _ => Err(CryptoError::Failed),
        })
    }

    fn rsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check(Operation::Sign {
            algorithm,
            key: key.key_type(),
        })?;
        rsa_sign(self, algorithm, key, message)
    }

    fn ecdsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check(Operation::Sign {
            algorithm,
            key: key.key_type(),
        })?;
        ecdsa_sign(self, algorithm, key, message)
    }

    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if let Some(key_bits) = aes_key_bits(key.len()) {
            self.check(Operation::AesGcmDecrypt { key_bits })?;
        }
        gcm_decrypt(key, data)
    }

    fn aes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        cbc_decrypt(key, data)
    }

    fn tdes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        tdes_cbc_decrypt(key, data)
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
/// (RUSTSEC-2023-0071, the Marvin attack): prefer `Strict(AwsLcRs)` where an attacker can
/// time many decryptions. `provider` is the provider doing it (RustCrypto, or aws-lc-rs
/// delegating as its `supports` says): the key is RustCrypto's own, parsed for it if needed.
pub(crate) fn oaep_decrypt(
    provider: &dyn CryptoProvider,
    key: &DecryptionKey,
    digest: DigestAlgorithm,
    mgf1: DigestAlgorithm,
    label: Option<&[u8]>,
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
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
    key.material().with(provider, |k: &RcKey| match k {
        RcKey::Rsa(k) => k
            .decrypt_blinded(&mut rand_core::OsRng, scheme, ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Failed),
        _ => Err(CryptoError::Failed),
    })
}

pub(crate) fn gcm_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    use aes_gcm::aead::{Aead as _, KeyInit as _};
    if data.len() < 12 + 16 {
        return Err(CryptoError::Failed);
    }
    let (nonce, body) = data.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| CryptoError::Failed)?;
    let nonce = aes_gcm::Nonce::from(nonce);
    match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key)
            .map_err(|_| CryptoError::Failed)?
            .decrypt(&nonce, body)
            .map_err(|_| CryptoError::Failed),
        32 => aes_gcm::Aes256Gcm::new_from_slice(key)
            .map_err(|_| CryptoError::Failed)?
            .decrypt(&nonce, body)
            .map_err(|_| CryptoError::Failed),
        _ => Err(CryptoError::Failed),
    }
}

pub(crate) fn cbc_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut as _, KeyIvInit as _};
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return Err(CryptoError::Failed);
    }
    let (iv, body) = data.split_at(16);
    let result = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| CryptoError::Failed)?
            .decrypt_padded_vec_mut::<NoPadding>(body),
        24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(|_| CryptoError::Failed)?
            .decrypt_padded_vec_mut::<NoPadding>(body),
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| CryptoError::Failed)?
            .decrypt_padded_vec_mut::<NoPadding>(body),
        _ => return Err(CryptoError::Failed),
    };
    result.map_err(|_| CryptoError::Failed)
}

/// Triple-DES (DES-EDE3) CBC decryption without padding removal: `data` is the 8-byte IV and
/// the ciphertext, `key` the 24-byte key. XML Encryption 1.0's `tripledes-cbc`; only ever
/// decrypted, for IdPs that still encrypt with it.
pub(crate) fn tdes_cbc_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut as _, KeyIvInit as _};
    if key.len() != 24 || data.len() < 16 || !data.len().is_multiple_of(8) {
        return Err(CryptoError::Failed);
    }
    let (iv, body) = data.split_at(8);
    cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
        .map_err(|_| CryptoError::Failed)?
        .decrypt_padded_vec_mut::<NoPadding>(body)
        .map_err(|_| CryptoError::Failed)
}

pub(crate) fn rsa_sign(
    provider: &dyn CryptoProvider,
    algorithm: SignatureAlgorithm,
    key: &SigningKey,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    use signature::{SignatureEncoding as _, Signer as _};
    if algorithm.scheme() != SignatureScheme::RsaPkcs1v15 {
        return Err(CryptoError::Failed);
    }
    key.material().with(provider, |k: &RcKey| {
        let RcKey::Rsa(private) = k else {
            return Err(CryptoError::Failed);
        };
        // The signing key types take the key by value; the clone erases itself when dropped.
        let private = private.clone();
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
            DigestAlgorithm::Sha1 => return Err(CryptoError::Failed),
        };
        signature.map_err(|_| CryptoError::Failed)
    })
}

/// ECDSA over `message` hashed with `algorithm`'s hash, as XML-DSig encodes it: `r || s`,
/// each the size of the curve's field (RFC 4051 §3.3). Deterministic (RFC 6979).
pub(crate) fn ecdsa_sign(
    provider: &dyn CryptoProvider,
    algorithm: SignatureAlgorithm,
    key: &SigningKey,
    message: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    use signature::hazmat::PrehashSigner as _;
    if algorithm.scheme() != SignatureScheme::Ecdsa {
        return Err(CryptoError::Failed);
    }
    let prehash = match algorithm.hash() {
        DigestAlgorithm::Sha256 => sha2::Sha256::digest(message).to_vec(),
        DigestAlgorithm::Sha384 => sha2::Sha384::digest(message).to_vec(),
        DigestAlgorithm::Sha512 => sha2::Sha512::digest(message).to_vec(),
        DigestAlgorithm::Sha1 => return Err(CryptoError::Failed),
    };
    key.material().with(provider, |k: &RcKey| match k {
        RcKey::P256(k) => {
            let sig: p256::ecdsa::Signature = k.sign_prehash(&prehash).map_err(|_| CryptoError::Failed)?;
            Ok(sig.to_bytes().to_vec())
        }
        RcKey::P384(k) => {
            let sig: p384::ecdsa::Signature = k.sign_prehash(&prehash).map_err(|_| CryptoError::Failed)?;
            Ok(sig.to_bytes().to_vec())
        }
        RcKey::Rsa(_) => Err(CryptoError::Failed),
    })
}

#[cfg(test)]
mod tests {
    /// Compiles only while the key types RustCrypto holds erase their secret when dropped
    /// (`ZeroizeOnDrop`): memory after a drop cannot be inspected without `unsafe`, so the
    /// guarantee is checked where it is made, on the types.
    #[test]
    fn rustcrypto_keys_erase_themselves_when_dropped() {
        fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        zeroize_on_drop::<rsa::RsaPrivateKey>();
        zeroize_on_drop::<p256::ecdsa::SigningKey>();
        zeroize_on_drop::<p384::ecdsa::SigningKey>();
        zeroize_on_drop::<zeroize::Zeroizing<Vec<u8>>>();
    }
}
