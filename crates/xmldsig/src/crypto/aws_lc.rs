//! The aws-lc-rs provider.

use aws_lc_rs::{digest, signature as sig};

use super::{BadSignature, CryptoProvider, DecryptFailed, Hasher, RustCrypto, SignFailed};
use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::key::{DecryptionKey, KeyType, PublicKey, SigningKey};

/// aws-lc-rs: AWS-LC's verified, constant-time primitives; several times faster than
/// [`RustCrypto`] for RSA. Combinations AWS-LC does not offer for verification (RSA keys
/// under 2048 bits with SHA-384 or PSS, keys over 8192 bits), which only a deliberately
/// weakened policy lets through, are delegated to [`RustCrypto`]; so is RSA-OAEP decryption
/// with an SP key under 2048 bits (only loadable with
/// `DecryptionKey::from_pem_dangerous_min_rsa_bits`). AES-CBC and Triple-DES CBC content
/// decryption are RustCrypto's in both providers (aws-lc-rs has 3DES only behind its
/// `legacy-des` feature, which needs bindgen at build time).
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsLcRs;

/// One lazily parsed AWS-LC key per verification algorithm (see [`slot`]). It compares equal
/// to any other cache: it is derived data, not part of a key's identity.
#[derive(Clone, Default)]
pub(crate) struct ParsedKeyCache([std::sync::OnceLock<Option<sig::ParsedPublicKey>>; SLOTS]);

impl PartialEq for ParsedKeyCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ParsedKeyCache {}

const SLOTS: usize = 16;

/// The cache slot of each verification algorithm this provider uses.
fn slot(params: &'static dyn sig::VerificationAlgorithm) -> Option<usize> {
    let table: [&'static dyn sig::VerificationAlgorithm; 14] = [
        &sig::RSA_PKCS1_2048_8192_SHA256,
        &sig::RSA_PKCS1_2048_8192_SHA384,
        &sig::RSA_PKCS1_2048_8192_SHA512,
        &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        &sig::RSA_PSS_2048_8192_SHA256,
        &sig::RSA_PSS_2048_8192_SHA384,
        &sig::RSA_PSS_2048_8192_SHA512,
        &sig::ECDSA_P256_SHA256_FIXED,
        &sig::ECDSA_P384_SHA384_FIXED,
        &sig::ECDSA_P256_SHA256_ASN1,
        &sig::ECDSA_P384_SHA384_ASN1,
    ];
    // The algorithms are statics: compare addresses, not values.
    table
        .iter()
        .position(|a| core::ptr::addr_eq(*a as *const dyn sig::VerificationAlgorithm, params))
}

/// Verifies with the key parsed once per algorithm and kept in `key`'s cache.
fn verify_with(
    params: &'static dyn sig::VerificationAlgorithm,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), BadSignature> {
    let Some(cell) = slot(params).and_then(|i| key.lc_parsed.0.get(i)) else {
        return sig::UnparsedPublicKey::new(params, key.subject_public_key())
            .verify(message, signature)
            .map_err(|_| BadSignature);
    };
    let parsed = cell.get_or_init(|| sig::ParsedPublicKey::new(params, key.subject_public_key()).ok());
    match parsed {
        Some(p) => p.verify_sig(message, signature).map_err(|_| BadSignature),
        None => Err(BadSignature),
    }
}

struct LcHasher(digest::Context);

impl Hasher for LcHasher {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finish(self: Box<Self>) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// Converts an XML-DSig ECDSA value (`r || s`, fixed width) into a DER `Ecdsa-Sig-Value`.
fn ecdsa_fixed_to_der(signature: &[u8], field_len: usize) -> Option<Vec<u8>> {
    if signature.len() != 2 * field_len {
        return None;
    }
    let (r, s) = signature.split_at(field_len);
    let integer = |v: &[u8]| -> Vec<u8> {
        let start = v
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(v.len().saturating_sub(1));
        let v = v.get(start..).unwrap_or_default();
        let mut out = vec![0x02];
        let pad = v.first().is_some_and(|&b| b & 0x80 != 0);
        out.push(u8::try_from(v.len() + usize::from(pad)).unwrap_or(0));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
        out
    };
    let (r, s) = (integer(r), integer(s));
    let body_len = r.len() + s.len();
    let mut der = vec![0x30];
    if body_len < 0x80 {
        der.push(u8::try_from(body_len).ok()?);
    } else {
        der.push(0x81);
        der.push(u8::try_from(body_len).ok()?);
    }
    der.extend_from_slice(&r);
    der.extend_from_slice(&s);
    Some(der)
}

impl CryptoProvider for AwsLcRs {
    fn name(&self) -> &'static str {
        "aws-lc-rs"
    }

    fn hasher(&self, algorithm: DigestAlgorithm) -> Box<dyn Hasher> {
        let alg = match algorithm {
            DigestAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            DigestAlgorithm::Sha256 => &digest::SHA256,
            DigestAlgorithm::Sha384 => &digest::SHA384,
            DigestAlgorithm::Sha512 => &digest::SHA512,
        };
        Box::new(LcHasher(digest::Context::new(alg)))
    }

    fn verify(
        &self,
        algorithm: SignatureAlgorithm,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), BadSignature> {
        use DigestAlgorithm::*;
        let rsa_bits = match key.key_type() {
            KeyType::Rsa { bits } => bits,
            _ => 0,
        };
        let params: &'static dyn sig::VerificationAlgorithm = match (algorithm.scheme(), key.key_type()) {
            (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { .. }) if rsa_bits <= 8192 => {
                match (algorithm.hash(), rsa_bits >= 2048) {
                    (Sha256, true) => &sig::RSA_PKCS1_2048_8192_SHA256,
                    (Sha384, true) => &sig::RSA_PKCS1_2048_8192_SHA384,
                    (Sha512, true) => &sig::RSA_PKCS1_2048_8192_SHA512,
                    (Sha1, true) => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    (Sha256, false) => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
                    (Sha512, false) => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
                    (Sha1, false) => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    (Sha384, false) => return RustCrypto.verify(algorithm, key, message, signature),
                }
            }
            (SignatureScheme::RsaPss, KeyType::Rsa { .. }) if (2048..=8192).contains(&rsa_bits) => {
                match algorithm.hash() {
                    Sha256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Sha384 => &sig::RSA_PSS_2048_8192_SHA384,
                    Sha512 => &sig::RSA_PSS_2048_8192_SHA512,
                    Sha1 => return RustCrypto.verify(algorithm, key, message, signature),
                }
            }
            (SignatureScheme::RsaPkcs1v15 | SignatureScheme::RsaPss, KeyType::Rsa { .. }) => {
                return RustCrypto.verify(algorithm, key, message, signature)
            }
            (SignatureScheme::Ecdsa, KeyType::EcP256 | KeyType::EcP384) => {
                let p256 = key.key_type() == KeyType::EcP256;
                let field_len = if p256 { 32 } else { 48 };
                let (alg, fixed): (&'static dyn sig::VerificationAlgorithm, bool) =
                    match (p256, algorithm.hash()) {
                        (true, Sha256) => (&sig::ECDSA_P256_SHA256_FIXED, true),
                        (true, Sha384) => (&sig::ECDSA_P256_SHA384_ASN1, false),
                        (true, Sha512) => (&sig::ECDSA_P256_SHA512_ASN1, false),
                        (true, Sha1) => (&sig::ECDSA_P256_SHA1_ASN1, false),
                        (false, Sha384) => (&sig::ECDSA_P384_SHA384_FIXED, true),
                        (false, Sha256) => (&sig::ECDSA_P384_SHA256_ASN1, false),
                        (false, Sha512) => (&sig::ECDSA_P384_SHA512_ASN1, false),
                        (false, Sha1) => return RustCrypto.verify(algorithm, key, message, signature),
                    };
                if signature.len() != 2 * field_len {
                    return Err(BadSignature);
                }
                return if fixed {
                    verify_with(alg, key, message, signature)
                } else {
                    let der = ecdsa_fixed_to_der(signature, field_len).ok_or(BadSignature)?;
                    verify_with(alg, key, message, &der)
                };
            }
            _ => return Err(BadSignature),
        };
        verify_with(params, key, message, signature)
    }

    /// RSA-OAEP in AWS-LC, constant-time. AWS-LC offers OAEP with the same hash for the
    /// label and MGF1, with keys of 2048 to 8192 bits; other combinations use RustCrypto.
    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, DecryptFailed> {
        use aws_lc_rs::rsa::{
            OaepPrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
            OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
        };
        if !(2048..=8192).contains(&key.bits()) {
            return super::rust_crypto::oaep_decrypt(key, digest, mgf1, label, ciphertext);
        }
        let algorithm = match (digest, mgf1) {
            (DigestAlgorithm::Sha1, DigestAlgorithm::Sha1) => &OAEP_SHA1_MGF1SHA1,
            (DigestAlgorithm::Sha256, DigestAlgorithm::Sha256) => &OAEP_SHA256_MGF1SHA256,
            (DigestAlgorithm::Sha384, DigestAlgorithm::Sha384) => &OAEP_SHA384_MGF1SHA384,
            (DigestAlgorithm::Sha512, DigestAlgorithm::Sha512) => &OAEP_SHA512_MGF1SHA512,
            _ => return super::rust_crypto::oaep_decrypt(key, digest, mgf1, label, ciphertext),
        };
        let private = PrivateDecryptingKey::from_pkcs8(key.pkcs8_der()).map_err(|_| DecryptFailed)?;
        let oaep = OaepPrivateDecryptingKey::new(private).map_err(|_| DecryptFailed)?;
        let mut out = vec![0u8; oaep.min_output_size()];
        let len = oaep
            .decrypt(algorithm, ciphertext, &mut out, label)
            .map_err(|_| DecryptFailed)?
            .len();
        out.truncate(len);
        Ok(out)
    }

    fn rsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, SignFailed> {
        let padding: &'static dyn sig::RsaEncoding = match (algorithm.scheme(), algorithm.hash()) {
            (SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha256) => &sig::RSA_PKCS1_SHA256,
            (SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha384) => &sig::RSA_PKCS1_SHA384,
            (SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha512) => &sig::RSA_PKCS1_SHA512,
            _ => return Err(SignFailed),
        };
        let pair =
            sig::RsaKeyPair::from_pkcs8(key.rsa().ok_or(SignFailed)?.pkcs8_der()).map_err(|_| SignFailed)?;
        let mut out = vec![0u8; pair.public_modulus_len()];
        pair.sign(padding, &aws_lc_rs::rand::SystemRandom::new(), message, &mut out)
            .map_err(|_| SignFailed)?;
        Ok(out)
    }

    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, DecryptFailed> {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            32 => &AES_256_GCM,
            _ => return Err(DecryptFailed),
        };
        if data.len() < 12 + 16 {
            return Err(DecryptFailed);
        }
        let (nonce, body) = data.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DecryptFailed)?;
        let key = LessSafeKey::new(UnboundKey::new(algorithm, key).map_err(|_| DecryptFailed)?);
        let mut in_out = body.to_vec();
        let len = key
            .open_in_place(nonce, Aad::empty(), &mut in_out)
            .map_err(|_| DecryptFailed)?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_conversion() {
        let mut raw = vec![0u8; 64];
        raw[31] = 1;
        raw[32] = 0x80;
        let der = ecdsa_fixed_to_der(&raw, 32).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert!(ecdsa_fixed_to_der(&raw[..63], 32).is_none());
    }
}
