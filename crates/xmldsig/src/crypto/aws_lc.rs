//! The aws-lc-rs provider.

use std::sync::Arc;

use aws_lc_rs::signature::KeyPair as _;
use aws_lc_rs::{digest, signature as sig};
use zeroize::Zeroizing;

use pkcs8::der::{Decode as _, Encode as _};

use super::{
    aes_key_bits, BadSignature, CryptoError, CryptoProvider, Hasher, Operation, PrivateKey, PrivateKeyDer,
    Support,
};
#[cfg(feature = "rust-crypto")]
use super::{rust_crypto, RustCrypto};
use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::error::KeyError;
use crate::key::{DecryptionKey, KeyType, PublicKey, SigningKey};

/// aws-lc-rs: AWS-LC's verified, constant-time primitives; several times faster than
/// `RustCrypto` for RSA. Keys are parsed by AWS-LC (`EVP_PKEY`, freed and cleansed by
/// AWS-LC when dropped).
///
/// When the `aws-lc-rs` feature is on, this is the default provider
/// ([`default_provider`](super::default_provider)).
///
/// What AWS-LC does not offer is delegated to `RustCrypto`, and
/// [`supports`](CryptoProvider::supports) says so (`Support::Delegated { to: "rustcrypto" }`)
/// for exactly these operations:
///
/// - verification: RSA keys under 2048 bits with SHA-384, RSA-PSS with SHA-1 or with keys
///   outside 2048 to 8192 bits, RSA keys over 8192 bits, ECDSA P-384 with SHA-1 (only a
///   deliberately weakened [`AlgorithmPolicy`](crate::AlgorithmPolicy) lets these through);
/// - loading, and every operation with, RSA private keys outside 2048 to 8192 bits (only
///   loadable for decryption with `DecryptionKey::from_pem_dangerous_min_rsa_bits`);
/// - RSA-OAEP decryption whose digest and MGF1 hash differ (XML Encryption 1.1 `rsa-oaep`
///   with, e.g., SHA-256 and MGF1-SHA-1): AWS-LC offers OAEP only with one hash for both;
/// - ECDSA signing with a hash other than the curve's own (P-256 with SHA-384/512, P-384 with
///   SHA-256/512);
/// - Triple-DES CBC decryption: aws-lc-rs offers 3DES only behind its `legacy-des` feature,
///   which needs bindgen at build time.
///
/// RSA signing with a key outside 2048 to 8192 bits is refused
/// ([`CryptoError::Unsupported`]). Wrap the provider in [`Strict`](super::Strict) to refuse
/// every delegation of a secret-key or decryption operation instead (verification keeps its
/// delegations: it involves no secret).
///
/// Without the `rust-crypto` feature (an aws-lc-only build: `default-features = false,
/// features = ["aws-lc-rs"]`) `RustCrypto` is not compiled, and the operations above are
/// refused instead: `supports` says [`Support::Unsupported`], and the
/// [`CryptoError::Unsupported`] message says the `rust-crypto` feature is off.
#[derive(Clone, Copy, Debug, Default)]
pub struct AwsLcRs;

pub(super) const NAME: &str = "aws-lc-rs";
/// What AWS-LC does not do itself: delegated to RustCrypto when it is compiled in, else
/// refused.
const RUSTCRYPTO: Support = if cfg!(feature = "rust-crypto") {
    Support::Delegated { to: "rustcrypto" }
} else {
    Support::Unsupported
};

fn rsa_in_range(bits: usize) -> bool {
    (2048..=8192).contains(&bits)
}

/// A private key as AWS-LC holds it.
pub(crate) enum LcKey {
    Rsa {
        decrypting: aws_lc_rs::rsa::PrivateDecryptingKey,
        signing: sig::RsaKeyPair,
        bits: usize,
    },
    Ec {
        pair: sig::EcdsaKeyPair,
        key_type: KeyType,
    },
}

impl PrivateKey for LcKey {
    fn provider(&self) -> &'static str {
        NAME
    }

    fn key_type(&self) -> KeyType {
        match self {
            LcKey::Rsa { bits, .. } => KeyType::Rsa { bits: *bits },
            LcKey::Ec { key_type, .. } => *key_type,
        }
    }

    fn public_key(&self) -> Vec<u8> {
        match self {
            LcKey::Rsa { signing, .. } => signing.public_key().as_ref().to_vec(),
            LcKey::Ec { pair, .. } => pair.public_key().as_ref().to_vec(),
        }
    }

    fn as_any(&self) -> &dyn core::any::Any {
        self
    }
}

/// The modulus size of a PKCS#1 `RSAPrivateKey`, read from its ASN.1 (no key parsing).
fn pkcs1_bits(der: &[u8]) -> Option<usize> {
    let key = pkcs1::RsaPrivateKey::from_der(der).ok()?;
    let n = key.modulus.as_bytes();
    let start = n.iter().position(|&b| b != 0)?;
    let first = *n.get(start)?;
    Some((n.len() - start - 1) * 8 + (8 - first.leading_zeros() as usize))
}

/// Wraps a PKCS#1 `RSAPrivateKey` in a PKCS#8 `PrivateKeyInfo` (AWS-LC's decrypting key reads
/// only PKCS#8). ASN.1 only; zeroized when dropped.
fn pkcs1_to_pkcs8(der: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let algorithm = pkcs8::AlgorithmIdentifierRef {
        oid: pkcs1::ALGORITHM_OID,
        parameters: Some(pkcs8::der::asn1::AnyRef::NULL),
    };
    pkcs8::PrivateKeyInfo::new(algorithm, der)
        .to_der()
        .ok()
        .map(Zeroizing::new)
}

fn load(der: PrivateKeyDer<'_>) -> Result<Arc<dyn PrivateKey>, KeyError> {
    let bad = |what: &str| KeyError::BadPublicKey {
        reason: format!("the private key cannot be parsed: {what}"),
    };
    let rsa = |pkcs1: &[u8], pkcs8: &[u8]| -> Result<Arc<dyn PrivateKey>, KeyError> {
        let bits = pkcs1_bits(pkcs1).ok_or_else(|| bad("the RSA key is malformed"))?;
        if !rsa_in_range(bits) {
            // AWS-LC refuses such keys: delegated, as `supports` says (refused without
            // RustCrypto).
            #[cfg(feature = "rust-crypto")]
            return rust_crypto::load(PrivateKeyDer::Pkcs1(pkcs1));
            #[cfg(not(feature = "rust-crypto"))]
            return Err(KeyError::Crypto(CryptoError::Unsupported {
                provider: NAME,
                operation: Operation::LoadPrivateKey {
                    key: KeyType::Rsa { bits },
                },
                delegate: None,
            }));
        }
        let decrypting = aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(pkcs8)
            .map_err(|e| bad(&format!("AWS-LC refuses the RSA key ({e})")))?;
        let signing = sig::RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|e| bad(&format!("AWS-LC refuses the RSA key ({e})")))?;
        Ok(Arc::new(LcKey::Rsa {
            decrypting,
            signing,
            bits,
        }))
    };
    let ec = |key: &[u8]| -> Result<Arc<dyn PrivateKey>, KeyError> {
        for (alg, key_type) in [
            (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, KeyType::EcP256),
            (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, KeyType::EcP384),
        ] {
            if let Ok(pair) = sig::EcdsaKeyPair::from_private_key_der(alg, key) {
                return Ok(Arc::new(LcKey::Ec { pair, key_type }));
            }
        }
        Err(bad("an EC key that is not on P-256 or P-384"))
    };
    match der {
        PrivateKeyDer::Pkcs1(pkcs1) => {
            let pkcs8 = pkcs1_to_pkcs8(pkcs1).ok_or_else(|| bad("the RSA key is malformed"))?;
            rsa(pkcs1, &pkcs8)
        }
        PrivateKeyDer::Sec1(key) => ec(key),
        PrivateKeyDer::Pkcs8(pkcs8) => {
            let info = pkcs8::PrivateKeyInfo::from_der(pkcs8).map_err(|e| bad(&e.to_string()))?;
            if info.algorithm.oid == pkcs1::ALGORITHM_OID {
                rsa(info.private_key, pkcs8)
            } else {
                ec(pkcs8)
            }
        }
    }
}

/// How AWS-LC verifies `algorithm` with a key of `key_type`.
enum VerifyPlan {
    /// With these parameters; `Some(field length)` when the `r || s` value must be converted
    /// to DER first.
    Lc(&'static dyn sig::VerificationAlgorithm, Option<usize>),
    RustCrypto,
    Refuse,
}

fn verify_plan(algorithm: SignatureAlgorithm, key_type: KeyType) -> VerifyPlan {
    use DigestAlgorithm::*;
    use VerifyPlan::{Lc, Refuse, RustCrypto};
    match (algorithm.scheme(), key_type) {
        (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { bits }) if bits <= 8192 => {
            match (algorithm.hash(), bits >= 2048) {
                (Sha256, true) => Lc(&sig::RSA_PKCS1_2048_8192_SHA256, None),
                (Sha384, true) => Lc(&sig::RSA_PKCS1_2048_8192_SHA384, None),
                (Sha512, true) => Lc(&sig::RSA_PKCS1_2048_8192_SHA512, None),
                (Sha1, true) => Lc(&sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY, None),
                (Sha256, false) => Lc(&sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, None),
                (Sha512, false) => Lc(&sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY, None),
                (Sha1, false) => Lc(&sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY, None),
                (Sha384, false) => RustCrypto,
            }
        }
        (SignatureScheme::RsaPss, KeyType::Rsa { bits }) if rsa_in_range(bits) => match algorithm.hash() {
            Sha256 => Lc(&sig::RSA_PSS_2048_8192_SHA256, None),
            Sha384 => Lc(&sig::RSA_PSS_2048_8192_SHA384, None),
            Sha512 => Lc(&sig::RSA_PSS_2048_8192_SHA512, None),
            Sha1 => RustCrypto,
        },
        (SignatureScheme::RsaPkcs1v15 | SignatureScheme::RsaPss, KeyType::Rsa { .. }) => RustCrypto,
        (SignatureScheme::Ecdsa, KeyType::EcP256) => match algorithm.hash() {
            Sha256 => Lc(&sig::ECDSA_P256_SHA256_FIXED, None),
            Sha384 => Lc(&sig::ECDSA_P256_SHA384_ASN1, Some(32)),
            Sha512 => Lc(&sig::ECDSA_P256_SHA512_ASN1, Some(32)),
            Sha1 => Lc(&sig::ECDSA_P256_SHA1_ASN1, Some(32)),
        },
        (SignatureScheme::Ecdsa, KeyType::EcP384) => match algorithm.hash() {
            Sha384 => Lc(&sig::ECDSA_P384_SHA384_FIXED, None),
            Sha256 => Lc(&sig::ECDSA_P384_SHA256_ASN1, Some(48)),
            Sha512 => Lc(&sig::ECDSA_P384_SHA512_ASN1, Some(48)),
            Sha1 => RustCrypto,
        },
        _ => Refuse,
    }
}

/// Whether AWS-LC lacks `operation` and only RustCrypto could do it: delegated when the
/// `rust-crypto` feature is on, refused (with a message naming the feature) when it is off.
#[cfg_attr(feature = "rust-crypto", allow(dead_code))]
pub(super) fn needs_rust_crypto(operation: Operation) -> bool {
    plan(operation) == Plan::RustCrypto
}

/// Who does an operation asked of aws-lc-rs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// AWS-LC.
    Lc,
    /// RustCrypto, as AWS-LC does not offer it (refused without the `rust-crypto` feature).
    RustCrypto,
    /// Nobody.
    Refuse,
}

fn plan(operation: Operation) -> Plan {
    if super::rust_crypto_supports(operation) == Support::Unsupported {
        // Nothing is delegated that RustCrypto would refuse.
        return Plan::Refuse;
    }
    match operation {
        Operation::Verify { algorithm, key } => match verify_plan(algorithm, key) {
            VerifyPlan::Lc(..) => Plan::Lc,
            VerifyPlan::RustCrypto => Plan::RustCrypto,
            VerifyPlan::Refuse => Plan::Refuse,
        },
        Operation::Sign { algorithm, key } => match (algorithm.scheme(), key, algorithm.hash()) {
            (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { bits }, _) if rsa_in_range(bits) => Plan::Lc,
            (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { .. }, _) => Plan::Refuse,
            (SignatureScheme::Ecdsa, KeyType::EcP256, DigestAlgorithm::Sha256)
            | (SignatureScheme::Ecdsa, KeyType::EcP384, DigestAlgorithm::Sha384) => Plan::Lc,
            _ => Plan::RustCrypto,
        },
        Operation::LoadPrivateKey {
            key: KeyType::Rsa { bits },
        }
        | Operation::RsaPkcs1v15Decrypt { bits }
            if !rsa_in_range(bits) =>
        {
            Plan::RustCrypto
        }
        Operation::RsaOaepDecrypt { digest, mgf1, bits } if !rsa_in_range(bits) || digest != mgf1 => {
            Plan::RustCrypto
        }
        Operation::TripleDesCbcDecrypt => Plan::RustCrypto,
        _ => Plan::Lc,
    }
}

/// What aws-lc-rs does itself, delegates (see [`AwsLcRs`]) or refuses.
fn supports(operation: Operation) -> Support {
    match plan(operation) {
        Plan::Lc => Support::Native,
        Plan::RustCrypto => RUSTCRYPTO,
        Plan::Refuse => Support::Unsupported,
    }
}

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
        NAME
    }

    fn supports(&self, operation: Operation) -> Support {
        supports(operation)
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
        match verify_plan(algorithm, key.key_type()) {
            #[cfg(feature = "rust-crypto")]
            VerifyPlan::RustCrypto => RustCrypto.verify(algorithm, key, message, signature),
            // Refused by `supports` (the verifier asks first): nothing verifies here.
            #[cfg(not(feature = "rust-crypto"))]
            VerifyPlan::RustCrypto => Err(BadSignature),
            VerifyPlan::Refuse => Err(BadSignature),
            VerifyPlan::Lc(params, der) => {
                let field_len = match key.key_type() {
                    KeyType::EcP256 => Some(32),
                    KeyType::EcP384 => Some(48),
                    _ => None,
                };
                if field_len.is_some_and(|n| signature.len() != 2 * n) {
                    return Err(BadSignature);
                }
                match der {
                    None => verify_with(params, key, message, signature),
                    Some(n) => {
                        let der = ecdsa_fixed_to_der(signature, n).ok_or(BadSignature)?;
                        verify_with(params, key, message, &der)
                    }
                }
            }
        }
    }

    fn load_private_key(&self, der: PrivateKeyDer<'_>) -> Result<Arc<dyn PrivateKey>, KeyError> {
        load(der)
    }

    /// RSA-OAEP in AWS-LC, constant-time. AWS-LC offers OAEP with the same hash for the
    /// label and MGF1, with keys of 2048 to 8192 bits; other combinations are delegated to
    /// RustCrypto, as [`supports`](CryptoProvider::supports) says.
    fn rsa_oaep_decrypt(
        &self,
        key: &DecryptionKey,
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<&[u8]>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        use aws_lc_rs::rsa::{
            OaepPrivateDecryptingKey, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384,
            OAEP_SHA512_MGF1SHA512,
        };
        let operation = Operation::RsaOaepDecrypt {
            digest,
            mgf1,
            bits: key.bits(),
        };
        match self.supports(operation) {
            Support::Native => {}
            #[cfg(feature = "rust-crypto")]
            Support::Delegated { .. } => {
                return rust_crypto::oaep_decrypt(&RustCrypto, key, digest, mgf1, label, ciphertext)
            }
            _ => return Err(self.check(operation).err().unwrap_or(CryptoError::Failed)),
        }
        let algorithm = match digest {
            DigestAlgorithm::Sha1 => &OAEP_SHA1_MGF1SHA1,
            DigestAlgorithm::Sha256 => &OAEP_SHA256_MGF1SHA256,
            DigestAlgorithm::Sha384 => &OAEP_SHA384_MGF1SHA384,
            DigestAlgorithm::Sha512 => &OAEP_SHA512_MGF1SHA512,
        };
        key.material().with(self, |k: &LcKey| {
            let LcKey::Rsa { decrypting, .. } = k else {
                return Err(CryptoError::Failed);
            };
            let oaep = OaepPrivateDecryptingKey::new(decrypting.clone()).map_err(|_| CryptoError::Failed)?;
            let mut out = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
            let len = oaep
                .decrypt(algorithm, ciphertext, &mut out, label)
                .map_err(|_| CryptoError::Failed)?
                .len();
            out.truncate(len);
            Ok(out)
        })
    }

    /// RSA PKCS#1 v1.5 decryption in AWS-LC (keys of 2048 to 8192 bits; others delegated).
    fn rsa_pkcs1v15_decrypt(
        &self,
        key: &DecryptionKey,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        use aws_lc_rs::rsa::Pkcs1PrivateDecryptingKey;
        let operation = Operation::RsaPkcs1v15Decrypt { bits: key.bits() };
        match self.supports(operation) {
            Support::Native => {}
            #[cfg(feature = "rust-crypto")]
            Support::Delegated { .. } => return RustCrypto.rsa_pkcs1v15_decrypt(key, ciphertext),
            _ => return Err(self.check(operation).err().unwrap_or(CryptoError::Failed)),
        }
        key.material().with(self, |k: &LcKey| {
            let LcKey::Rsa { decrypting, .. } = k else {
                return Err(CryptoError::Failed);
            };
            let pkcs1 =
                Pkcs1PrivateDecryptingKey::new(decrypting.clone()).map_err(|_| CryptoError::Failed)?;
            let mut out = Zeroizing::new(vec![0u8; pkcs1.min_output_size()]);
            let len = pkcs1
                .decrypt(ciphertext, &mut out)
                .map_err(|_| CryptoError::Failed)?
                .len();
            out.truncate(len);
            Ok(out)
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
        let padding: &'static dyn sig::RsaEncoding = match (algorithm.scheme(), algorithm.hash()) {
            (SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha256) => &sig::RSA_PKCS1_SHA256,
            (SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha384) => &sig::RSA_PKCS1_SHA384,
            (SignatureScheme::RsaPkcs1v15, DigestAlgorithm::Sha512) => &sig::RSA_PKCS1_SHA512,
            _ => return Err(CryptoError::Failed),
        };
        key.material().with(self, |k: &LcKey| {
            let LcKey::Rsa { signing, .. } = k else {
                return Err(CryptoError::Failed);
            };
            let mut out = vec![0u8; signing.public_modulus_len()];
            signing
                .sign(padding, &aws_lc_rs::rand::SystemRandom::new(), message, &mut out)
                .map_err(|_| CryptoError::Failed)?;
            Ok(out)
        })
    }

    /// ECDSA in AWS-LC for P-256 with SHA-256 and P-384 with SHA-384 (random nonces); the
    /// other hashes are delegated to RustCrypto, as [`supports`](CryptoProvider::supports)
    /// says.
    fn ecdsa_sign(
        &self,
        algorithm: SignatureAlgorithm,
        key: &SigningKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let operation = Operation::Sign {
            algorithm,
            key: key.key_type(),
        };
        match self.supports(operation) {
            Support::Native => {}
            #[cfg(feature = "rust-crypto")]
            Support::Delegated { .. } => {
                return rust_crypto::ecdsa_sign(&RustCrypto, algorithm, key, message)
            }
            _ => return Err(self.check(operation).err().unwrap_or(CryptoError::Failed)),
        }
        key.material().with(self, |k: &LcKey| {
            let LcKey::Ec { pair, .. } = k else {
                return Err(CryptoError::Failed);
            };
            pair.sign(&aws_lc_rs::rand::SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| CryptoError::Failed)
        })
    }

    fn aes_gcm_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM, AES_256_GCM};
        if let Some(key_bits) = aes_key_bits(key.len()) {
            self.check(Operation::AesGcmDecrypt { key_bits })?;
        }
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            32 => &AES_256_GCM,
            _ => return Err(CryptoError::Failed),
        };
        if data.len() < 12 + 16 {
            return Err(CryptoError::Failed);
        }
        let (nonce, body) = data.split_at(12);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Failed)?;
        let key = LessSafeKey::new(UnboundKey::new(algorithm, key).map_err(|_| CryptoError::Failed)?);
        let mut in_out = body.to_vec();
        let len = key
            .open_in_place(nonce, Aad::empty(), &mut in_out)
            .map_err(|_| CryptoError::Failed)?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }

    /// AES-CBC in AWS-LC (no padding removal: XML Encryption's padding is not PKCS#7).
    fn aes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use aws_lc_rs::cipher::{
            DecryptingKey, DecryptionContext, UnboundCipherKey, AES_128, AES_192, AES_256,
        };
        use aws_lc_rs::iv::FixedLength;
        let algorithm = match key.len() {
            16 => &AES_128,
            24 => &AES_192,
            32 => &AES_256,
            _ => return Err(CryptoError::Failed),
        };
        if data.len() < 32 || !data.len().is_multiple_of(16) {
            return Err(CryptoError::Failed);
        }
        let (iv, body) = data.split_at(16);
        let iv: [u8; 16] = iv.try_into().map_err(|_| CryptoError::Failed)?;
        let key = UnboundCipherKey::new(algorithm, key).map_err(|_| CryptoError::Failed)?;
        let key = DecryptingKey::cbc(key).map_err(|_| CryptoError::Failed)?;
        let mut in_out = body.to_vec();
        let len = key
            .decrypt(&mut in_out, DecryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(|_| CryptoError::Failed)?
            .len();
        in_out.truncate(len);
        Ok(in_out)
    }

    /// Delegated to RustCrypto's `des` (see [`AwsLcRs`]); refused without the `rust-crypto`
    /// feature.
    fn tdes_cbc_decrypt(&self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.check(Operation::TripleDesCbcDecrypt)?;
        #[cfg(feature = "rust-crypto")]
        return rust_crypto::tdes_cbc_decrypt(key, data);
        #[cfg(not(feature = "rust-crypto"))]
        {
            let _ = (key, data);
            Err(CryptoError::Failed)
        }
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
