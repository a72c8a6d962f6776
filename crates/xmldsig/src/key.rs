//! Pinned keys: certificates and public keys the host trusts, with SHA-256 fingerprints.

use base64::Engine as _;
use sha2::Digest as _;
use x509_parser::prelude::FromDer as _;

use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm};
use crate::error::KeyError;

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";

/// A SHA-256 fingerprint, shown as colon-separated upper-case hex (`AB:CD:…`) as IdP
/// consoles show it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// SHA-256 of `der`.
    pub fn of(der: &[u8]) -> Self {
        Self(sha2::Sha256::digest(der).into())
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl core::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// The type of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// Modulus size.
        bits: usize,
    },
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
}

impl core::fmt::Display for KeyType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            KeyType::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyType::EcP256 => f.write_str("EC P-256"),
            KeyType::EcP384 => f.write_str("EC P-384"),
        }
    }
}

/// A parsed public key, as crypto providers consume it.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key_type: KeyType,
    spki_der: Vec<u8>,
    /// RSA: the PKCS#1 RSAPublicKey DER; EC: the uncompressed point.
    subject_public_key: Vec<u8>,
    /// RSA only: big-endian modulus and exponent without leading zeros.
    rsa_modulus: Vec<u8>,
    rsa_exponent: Vec<u8>,
    /// Keys already parsed by AWS-LC, per verification algorithm: parsing an RSA key costs
    /// about as much as verifying with it, and pinned keys verify many logins.
    #[cfg(feature = "aws-lc-rs")]
    pub(crate) lc_parsed: crate::crypto::ParsedKeyCache,
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PublicKey")
            .field("type", &self.key_type)
            .field("spki_sha256", &Fingerprint::of(&self.spki_der))
            .finish()
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b.get(start..).unwrap_or_default()
}

impl PublicKey {
    /// Parses a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let (_, spki) =
            x509_parser::x509::SubjectPublicKeyInfo::from_der(der).map_err(|e| KeyError::BadPublicKey {
                reason: e.to_string(),
            })?;
        Self::from_parsed(&spki)
    }

    fn from_parsed(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Result<Self, KeyError> {
        let oid = spki.algorithm.algorithm.to_id_string();
        let raw = spki.subject_public_key.data.to_vec();
        let bad = |reason: &str| KeyError::BadPublicKey {
            reason: reason.to_owned(),
        };
        match oid.as_str() {
            OID_RSA => {
                let Ok(x509_parser::public_key::PublicKey::RSA(rsa)) = spki.parsed() else {
                    return Err(bad("the RSA public key is malformed"));
                };
                let modulus = strip_leading_zeros(rsa.modulus);
                let exponent = strip_leading_zeros(rsa.exponent);
                let Some(&first) = modulus.first() else {
                    return Err(bad("the RSA modulus is zero"));
                };
                if exponent.is_empty() {
                    return Err(bad("the RSA exponent is zero"));
                }
                let bits = (modulus.len() - 1) * 8 + (8 - first.leading_zeros() as usize);
                Ok(Self {
                    key_type: KeyType::Rsa { bits },
                    spki_der: spki.raw.to_vec(),
                    subject_public_key: raw,
                    rsa_modulus: modulus.to_vec(),
                    rsa_exponent: exponent.to_vec(),
                    #[cfg(feature = "aws-lc-rs")]
                    lc_parsed: Default::default(),
                })
            }
            OID_EC => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.as_oid().ok())
                    .map(|o| o.to_id_string())
                    .ok_or_else(|| bad("the EC key does not name its curve"))?;
                let (key_type, len) = match curve.as_str() {
                    OID_P256 => (KeyType::EcP256, 65),
                    OID_P384 => (KeyType::EcP384, 97),
                    _ => return Err(KeyError::UnsupportedKeyType { oid: curve }),
                };
                if raw.len() != len || raw.first() != Some(&4) {
                    return Err(bad(
                        "the EC point is not an uncompressed point of the named curve",
                    ));
                }
                Ok(Self {
                    key_type,
                    spki_der: spki.raw.to_vec(),
                    subject_public_key: raw,
                    rsa_modulus: Vec::new(),
                    rsa_exponent: Vec::new(),
                    #[cfg(feature = "aws-lc-rs")]
                    lc_parsed: Default::default(),
                })
            }
            _ => Err(KeyError::UnsupportedKeyType { oid }),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The `subjectPublicKey` bits: PKCS#1 `RSAPublicKey` DER for RSA, the uncompressed point
    /// for EC.
    pub fn subject_public_key(&self) -> &[u8] {
        &self.subject_public_key
    }

    /// RSA modulus (big-endian, no leading zeros); empty for EC keys.
    pub fn rsa_modulus(&self) -> &[u8] {
        &self.rsa_modulus
    }

    /// RSA public exponent (big-endian, no leading zeros); empty for EC keys.
    pub fn rsa_exponent(&self) -> &[u8] {
        &self.rsa_exponent
    }
}

/// What a pinned certificate says about itself. Validity is informational here: the
/// signature layer treats a pinned certificate as a bare key; hosts decide whether expiry
/// matters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject distinguished name, RFC 4514 style.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// Serial number, hex.
    pub serial: String,
}

/// A key the host trusts: a pinned certificate or public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    key: PublicKey,
    fingerprint: Fingerprint,
    certificate: Option<CertificateInfo>,
    certificate_der: Option<Vec<u8>>,
}

impl TrustedKey {
    /// A trusted key from a DER X.509 certificate. Its fingerprint is the SHA-256 of the
    /// certificate, as IdP consoles display it.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, KeyError> {
        let (rest, cert) =
            x509_parser::parse_x509_certificate(der).map_err(|e| KeyError::BadCertificate {
                reason: e.to_string(),
            })?;
        if !rest.is_empty() {
            return Err(KeyError::BadCertificate {
                reason: format!("{} unexpected bytes after the certificate", rest.len()),
            });
        }
        let key = PublicKey::from_parsed(cert.public_key())?;
        let validity = cert.validity();
        Ok(Self {
            key,
            fingerprint: Fingerprint::of(der),
            certificate: Some(CertificateInfo {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_before: validity.not_before.timestamp(),
                not_after: validity.not_after.timestamp(),
                serial: cert.raw_serial_as_string(),
            }),
            certificate_der: Some(der.to_vec()),
        })
    }

    /// A trusted key from a bare public key; its fingerprint is the SHA-256 of the DER
    /// `SubjectPublicKeyInfo`.
    pub fn from_public_key(key: PublicKey) -> Self {
        Self {
            fingerprint: Fingerprint::of(key.spki_der()),
            key,
            certificate: None,
            certificate_der: None,
        }
    }

    /// Every certificate and public key in a PEM text (`BEGIN CERTIFICATE`,
    /// `BEGIN PUBLIC KEY`). Fails when there is none, or when any block is unusable.
    pub fn from_pem(text: &str) -> Result<Vec<Self>, KeyError> {
        let blocks = parse_pem(text)?;
        if blocks.is_empty() {
            return Err(KeyError::NoPemBlock);
        }
        blocks
            .into_iter()
            .map(|(label, der)| match label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    Self::from_certificate_der(&der)
                }
                "PUBLIC KEY" => PublicKey::from_spki_der(&der).map(Self::from_public_key),
                _ => Err(KeyError::UnexpectedPemLabel { label }),
            })
            .collect()
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// SHA-256 fingerprint of the certificate (or of the SPKI for a bare key).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// Certificate details, when pinned as a certificate.
    pub fn certificate(&self) -> Option<&CertificateInfo> {
        self.certificate.as_ref()
    }

    /// The DER certificate, when pinned as a certificate.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate_der.as_deref()
    }
}

/// The set of keys a verifier trusts. Never empty: a verifier cannot be built that trusts
/// nothing, or whatever a document's KeyInfo offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// A key set; `None` when `keys` is empty.
    pub fn new(keys: Vec<TrustedKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// Every certificate and public key in a PEM text.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let keys = TrustedKey::from_pem(text)?;
        Self::new(keys).ok_or(KeyError::NoPemBlock)
    }

    /// The keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The fingerprints of all keys.
    pub fn fingerprints(&self) -> Vec<Fingerprint> {
        self.keys.iter().map(TrustedKey::fingerprint).collect()
    }
}

/// A private key for signing: the SP's signing key (signed AuthnRequests and logout
/// messages, the HTTP-Redirect binding's query signature) or a test IdP's. RSA, or ECDSA on
/// P-256 or P-384. `Debug` never prints it.
#[derive(Clone)]
pub struct SigningKey(SigningKeyInner);

#[derive(Clone)]
enum SigningKeyInner {
    Rsa(Box<DecryptionKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("type", &self.key_type().to_string())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8, RSA or EC P-256/P-384),
    /// `BEGIN RSA PRIVATE KEY` (PKCS#1) or `BEGIN EC PRIVATE KEY` (SEC 1).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        use p256::pkcs8::DecodePrivateKey as _;
        let blocks = parse_pem(text)?;
        let (label, der) = blocks.first().ok_or(KeyError::NoPemBlock)?;
        let bad = |e: String| KeyError::BadPublicKey {
            reason: format!("the private key cannot be parsed: {e}"),
        };
        match label.as_str() {
            "RSA PRIVATE KEY" => {
                DecryptionKey::from_pem_any_size(text).map(|k| Self(SigningKeyInner::Rsa(Box::new(k))))
            }
            "EC PRIVATE KEY" => {
                if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
                    return Ok(Self(SigningKeyInner::P256(k.into())));
                }
                p384::SecretKey::from_sec1_der(der)
                    .map(|k| Self(SigningKeyInner::P384(k.into())))
                    .map_err(|_| bad("an EC key that is not on P-256 or P-384".into()))
            }
            "PRIVATE KEY" => {
                if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
                    return Ok(Self(SigningKeyInner::P256(k)));
                }
                if let Ok(k) = p384::ecdsa::SigningKey::from_pkcs8_der(der) {
                    return Ok(Self(SigningKeyInner::P384(k)));
                }
                DecryptionKey::from_pem_any_size(text).map(|k| Self(SigningKeyInner::Rsa(Box::new(k))))
            }
            _ => Err(KeyError::UnexpectedPemLabel { label: label.clone() }),
        }
    }

    /// The key type: RSA with its size, or the curve.
    pub fn key_type(&self) -> KeyType {
        match &self.0 {
            SigningKeyInner::Rsa(k) => KeyType::Rsa { bits: k.bits },
            SigningKeyInner::P256(_) => KeyType::EcP256,
            SigningKeyInner::P384(_) => KeyType::EcP384,
        }
    }

    /// The key size in bits (the RSA modulus, or the curve's field: 256, 384).
    pub fn bits(&self) -> usize {
        match &self.0 {
            SigningKeyInner::Rsa(k) => k.bits,
            SigningKeyInner::P256(_) => 256,
            SigningKeyInner::P384(_) => 384,
        }
    }

    /// The signature algorithm [`sign::sign_enveloped`](crate::sign::sign_enveloped) uses
    /// with this key: RSA-SHA256, ECDSA-SHA256 on P-256, ECDSA-SHA384 on P-384.
    pub fn default_algorithm(&self) -> SignatureAlgorithm {
        match &self.0 {
            SigningKeyInner::Rsa(_) => SignatureAlgorithm::RSA_SHA256,
            SigningKeyInner::P256(_) => SignatureAlgorithm::ECDSA_SHA256,
            SigningKeyInner::P384(_) => SignatureAlgorithm::ECDSA_SHA384,
        }
    }

    /// Whether `public` is this key's public half — e.g. that the certificate uploaded to the
    /// IdP belongs to this key, so the IdP will accept what it signs.
    pub fn matches(&self, public: &PublicKey) -> bool {
        use rsa::traits::PublicKeyParts as _;
        match &self.0 {
            SigningKeyInner::Rsa(k) => {
                matches!(public.key_type(), KeyType::Rsa { .. })
                    && public.rsa_modulus == k.rsa.n().to_bytes_be()
                    && public.rsa_exponent == k.rsa.e().to_bytes_be()
            }
            SigningKeyInner::P256(k) => {
                public.key_type() == KeyType::EcP256
                    && public.subject_public_key == k.verifying_key().to_encoded_point(false).as_bytes()
            }
            SigningKeyInner::P384(k) => {
                public.key_type() == KeyType::EcP384
                    && public.subject_public_key == k.verifying_key().to_encoded_point(false).as_bytes()
            }
        }
    }

    /// The RSA key, if this is one.
    pub(crate) fn rsa(&self) -> Option<&DecryptionKey> {
        match &self.0 {
            SigningKeyInner::Rsa(k) => Some(k),
            _ => None,
        }
    }

    /// ECDSA over `message` hashed with `hash`, as XML-DSig encodes it: `r || s`, each the
    /// size of the curve's field (RFC 4051 §3.3). Deterministic (RFC 6979).
    pub(crate) fn ecdsa_sign(&self, hash: DigestAlgorithm, message: &[u8]) -> Option<Vec<u8>> {
        use sha2::Digest as _;
        use signature::hazmat::PrehashSigner as _;
        let prehash = match hash {
            DigestAlgorithm::Sha256 => sha2::Sha256::digest(message).to_vec(),
            DigestAlgorithm::Sha384 => sha2::Sha384::digest(message).to_vec(),
            DigestAlgorithm::Sha512 => sha2::Sha512::digest(message).to_vec(),
            DigestAlgorithm::Sha1 => return None,
        };
        match &self.0 {
            SigningKeyInner::Rsa(_) => None,
            SigningKeyInner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign_prehash(&prehash).ok()?;
                Some(sig.to_bytes().to_vec())
            }
            SigningKeyInner::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign_prehash(&prehash).ok()?;
                Some(sig.to_bytes().to_vec())
            }
        }
    }
}

/// An RSA private key for decrypting XML Encryption key transport (the SP's encryption key,
/// whose certificate the IdP encrypts assertions to). Held as PKCS#8 DER; `Debug` never
/// prints it.
#[derive(Clone)]
pub struct DecryptionKey {
    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    pkcs8: Vec<u8>,
    rsa: rsa::RsaPrivateKey,
    bits: usize,
}

impl core::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl DecryptionKey {
    /// The smallest RSA modulus accepted by default, in bits.
    pub const MIN_RSA_BITS: usize = 2048;

    /// An RSA private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY`
    /// (PKCS#1), of at least [`MIN_RSA_BITS`](Self::MIN_RSA_BITS) (2048) bits.
    ///
    /// A shorter key is refused here, when it is loaded, with
    /// [`KeyError::WeakDecryptionKey`] naming its size: RSA keys under 2048 bits are within
    /// reach of factoring, and AWS-LC (the aws-lc-rs provider) refuses them.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        Self::from_pem_dangerous_min_rsa_bits(text, Self::MIN_RSA_BITS)
    }

    /// [`from_pem`](Self::from_pem) accepting RSA keys down to `bits` (never below 1024).
    /// Dangerous: only for an SP whose encryption certificate the IdP already holds and
    /// cannot replace yet; generate a 2048-bit key and upload its certificate instead. With
    /// such a key the aws-lc-rs provider decrypts with RustCrypto (AWS-LC refuses RSA keys
    /// under 2048 bits), which is blinded but not constant-time.
    pub fn from_pem_dangerous_min_rsa_bits(text: &str, bits: usize) -> Result<Self, KeyError> {
        let key = Self::from_pem_any_size(text)?;
        let min = bits.max(1024);
        if key.bits < min {
            return Err(KeyError::WeakDecryptionKey { bits: key.bits, min });
        }
        Ok(key)
    }

    /// Parses an RSA private key of any size (signing keys, whose size is checked elsewhere).
    fn from_pem_any_size(text: &str) -> Result<Self, KeyError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
        let blocks = parse_pem(text)?;
        let (label, der) = blocks.into_iter().next().ok_or(KeyError::NoPemBlock)?;
        let bad = |e: String| KeyError::BadPublicKey {
            reason: format!("the private key cannot be parsed: {e}"),
        };
        let rsa = match label.as_str() {
            "PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| bad(e.to_string()))?,
            "RSA PRIVATE KEY" => rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| bad(e.to_string()))?,
            _ => return Err(KeyError::UnexpectedPemLabel { label }),
        };
        let pkcs8 = rsa
            .to_pkcs8_der()
            .map_err(|e| bad(e.to_string()))?
            .as_bytes()
            .to_vec();
        let bits = rsa::traits::PublicKeyParts::n(&rsa).bits();
        Ok(Self { pkcs8, rsa, bits })
    }

    /// The key size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// PKCS#8 DER (for providers that parse the key themselves).
    #[cfg_attr(not(feature = "aws-lc-rs"), allow(dead_code))]
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The parsed key (RustCrypto).
    pub(crate) fn rsa(&self) -> &rsa::RsaPrivateKey {
        &self.rsa
    }
}

/// Parses PEM blocks: `(label, der)` pairs. Tolerates CRLF, indentation and blank lines.
fn parse_pem(text: &str) -> Result<Vec<(String, Vec<u8>)>, KeyError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let label = label.to_owned();
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if line.starts_with("-----") {
                break;
            }
            body.push_str(line);
        }
        if !closed {
            return Err(KeyError::BadPem {
                label,
                reason: format!("no matching {end} line"),
            });
        }
        let body: String = body.split_whitespace().collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|e| KeyError::BadPem {
                label: label.clone(),
                reason: format!("invalid base64 ({e})"),
            })?;
        blocks.push((label, der));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_display() {
        let f = Fingerprint([0xAB; 32]);
        assert!(f.to_string().starts_with("AB:AB:"));
        assert_eq!(f.to_string().len(), 32 * 3 - 1);
    }

    #[test]
    fn pem_errors() {
        assert_eq!(TrustedKey::from_pem("hello").unwrap_err(), KeyError::NoPemBlock);
        assert!(matches!(
            TrustedKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap_err(),
            KeyError::BadPem { .. }
        ));
        assert!(matches!(
            TrustedKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .unwrap_err(),
            KeyError::UnexpectedPemLabel { .. }
        ));
        assert!(matches!(
            TrustedKey::from_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
                .unwrap_err(),
            KeyError::BadPem { .. }
        ));
        assert!(matches!(
            TrustedKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .unwrap_err(),
            KeyError::BadCertificate { .. }
        ));
        assert!(TrustedKeys::new(Vec::new()).is_none());
    }
}
