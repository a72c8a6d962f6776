//! Pinned keys: certificates and public keys the host trusts, with SHA-256 fingerprints.

use base64::Engine as _;
use x509_parser::prelude::FromDer as _;

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::algorithm::SignatureAlgorithm;
use crate::crypto::{CryptoError, CryptoProvider, PrivateKey, PrivateKeyDer};
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
    /// SHA-256 of `der` (computed by the [default provider](crate::crypto::default_provider)).
    pub fn of(der: &[u8]) -> Self {
        let digest = crate::crypto::default_provider().digest(crate::DigestAlgorithm::Sha256, der);
        // Both providers return 32 bytes for SHA-256.
        Self(<[u8; 32]>::try_from(digest.as_slice()).unwrap_or([0; 32]))
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// A private key as loaded: its DER (zeroized when the last clone is dropped) and the key
/// parsed by the provider that loaded it.
#[derive(Clone)]
pub(crate) struct KeyMaterial {
    der: Arc<Zeroizing<Vec<u8>>>,
    format: DerFormat,
    loaded: Arc<dyn PrivateKey>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DerFormat {
    Pkcs8,
    Pkcs1,
    Sec1,
}

impl DerFormat {
    fn wrap(self, der: &[u8]) -> PrivateKeyDer<'_> {
        match self {
            DerFormat::Pkcs8 => PrivateKeyDer::Pkcs8(der),
            DerFormat::Pkcs1 => PrivateKeyDer::Pkcs1(der),
            DerFormat::Sec1 => PrivateKeyDer::Sec1(der),
        }
    }
}

impl KeyMaterial {
    /// The first PEM block of `text`, a private key, parsed by `provider`.
    fn from_pem(text: &str, provider: &dyn CryptoProvider) -> Result<Self, KeyError> {
        let blocks = parse_pem(text)?;
        let (label, der) = blocks.into_iter().next().ok_or(KeyError::NoPemBlock)?;
        let format = match label.as_str() {
            "PRIVATE KEY" => DerFormat::Pkcs8,
            "RSA PRIVATE KEY" => DerFormat::Pkcs1,
            "EC PRIVATE KEY" => DerFormat::Sec1,
            _ => return Err(KeyError::UnexpectedPemLabel { label }),
        };
        Self::new(der, format, provider)
    }

    fn from_der(der: PrivateKeyDer<'_>, provider: &dyn CryptoProvider) -> Result<Self, KeyError> {
        let (bytes, format) = match der {
            PrivateKeyDer::Pkcs8(d) => (d, DerFormat::Pkcs8),
            PrivateKeyDer::Pkcs1(d) => (d, DerFormat::Pkcs1),
            PrivateKeyDer::Sec1(d) => (d, DerFormat::Sec1),
        };
        Self::new(Zeroizing::new(bytes.to_vec()), format, provider)
    }

    fn new(
        der: Zeroizing<Vec<u8>>,
        format: DerFormat,
        provider: &dyn CryptoProvider,
    ) -> Result<Self, KeyError> {
        let loaded = provider.load_private_key(format.wrap(&der))?;
        Ok(Self {
            der: Arc::new(der),
            format,
            loaded,
        })
    }

    /// The DER, for a provider to parse.
    pub(crate) fn der(&self) -> PrivateKeyDer<'_> {
        self.format.wrap(&self.der)
    }

    fn key_type(&self) -> KeyType {
        self.loaded.key_type()
    }

    /// Runs `f` with the key as `provider` holds it (type `K`): the loaded key when `provider`
    /// loaded it, else the DER parsed by `provider` now. Never another provider's key.
    pub(crate) fn with<K: 'static, R>(
        &self,
        provider: &dyn CryptoProvider,
        f: impl FnOnce(&K) -> Result<R, CryptoError>,
    ) -> Result<R, CryptoError> {
        if let Some(key) = self.loaded.as_any().downcast_ref::<K>() {
            return f(key);
        }
        let fresh = provider
            .load_private_key(self.der())
            .map_err(|_| CryptoError::Failed)?;
        match fresh.as_any().downcast_ref::<K>() {
            Some(key) => f(key),
            None => Err(CryptoError::Failed),
        }
    }

    /// Whether `public` is this key's public half.
    fn matches(&self, public: &PublicKey) -> bool {
        use pkcs1::der::Decode as _;
        let mine = self.loaded.public_key();
        match (self.key_type(), public.key_type()) {
            (KeyType::Rsa { .. }, KeyType::Rsa { .. }) => {
                let Ok(parsed) = pkcs1::RsaPublicKey::from_der(&mine) else {
                    return false;
                };
                strip_leading_zeros(parsed.modulus.as_bytes()) == public.rsa_modulus()
                    && strip_leading_zeros(parsed.public_exponent.as_bytes()) == public.rsa_exponent()
            }
            (a, b) => a == b && mine == public.subject_public_key(),
        }
    }
}

/// A private key for signing: the SP's signing key (signed AuthnRequests and logout
/// messages, the HTTP-Redirect binding's query signature) or a test IdP's. RSA, or ECDSA on
/// P-256 or P-384. Parsed by a crypto provider (see [`from_pem_with`](Self::from_pem_with));
/// its DER is zeroized when the last clone is dropped. `Debug` never prints it.
#[derive(Clone)]
pub struct SigningKey(KeyMaterial);

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("type", &self.key_type().to_string())
            .field("provider", &self.provider())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8, RSA or EC P-256/P-384),
    /// `BEGIN RSA PRIVATE KEY` (PKCS#1) or `BEGIN EC PRIVATE KEY` (SEC 1), parsed by the
    /// [default provider](crate::crypto::default_provider) (`AwsLcRs` with the `aws-lc-rs`
    /// feature, else `RustCrypto`).
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(text, crate::crypto::default_provider())
    }

    /// [`from_pem`](Self::from_pem), parsed by `provider` into its own key type: the
    /// provider that will sign with it should load it (another provider parses the key again
    /// for itself at each signature).
    pub fn from_pem_with(text: &str, provider: &dyn CryptoProvider) -> Result<Self, KeyError> {
        KeyMaterial::from_pem(text, provider).map(Self)
    }

    /// A private key from DER, parsed by `provider`.
    pub fn from_der(der: PrivateKeyDer<'_>, provider: &dyn CryptoProvider) -> Result<Self, KeyError> {
        KeyMaterial::from_der(der, provider).map(Self)
    }

    /// The key type: RSA with its size, or the curve.
    pub fn key_type(&self) -> KeyType {
        self.0.key_type()
    }

    /// The name of the provider that parsed the key (`rustcrypto`, `aws-lc-rs`).
    pub fn provider(&self) -> &'static str {
        self.0.loaded.provider()
    }

    /// The key size in bits (the RSA modulus, or the curve's field: 256, 384).
    pub fn bits(&self) -> usize {
        match self.key_type() {
            KeyType::Rsa { bits } => bits,
            KeyType::EcP256 => 256,
            KeyType::EcP384 => 384,
        }
    }

    /// The signature algorithm [`sign::sign_enveloped`](crate::sign::sign_enveloped) uses
    /// with this key: RSA-SHA256, ECDSA-SHA256 on P-256, ECDSA-SHA384 on P-384.
    pub fn default_algorithm(&self) -> SignatureAlgorithm {
        match self.key_type() {
            KeyType::EcP256 => SignatureAlgorithm::ECDSA_SHA256,
            KeyType::EcP384 => SignatureAlgorithm::ECDSA_SHA384,
            KeyType::Rsa { .. } => SignatureAlgorithm::RSA_SHA256,
        }
    }

    /// Whether `public` is this key's public half — e.g. that the certificate uploaded to the
    /// IdP belongs to this key, so the IdP will accept what it signs.
    pub fn matches(&self, public: &PublicKey) -> bool {
        self.0.matches(public)
    }

    /// The key material, for providers.
    pub(crate) fn material(&self) -> &KeyMaterial {
        &self.0
    }
}

/// An RSA private key for decrypting XML Encryption key transport (the SP's encryption key,
/// whose certificate the IdP encrypts assertions to). Parsed by a crypto provider (see
/// [`from_pem_with`](Self::from_pem_with)); its DER is zeroized when the last clone is
/// dropped. `Debug` never prints it.
#[derive(Clone)]
pub struct DecryptionKey {
    material: KeyMaterial,
    bits: usize,
}

impl core::fmt::Debug for DecryptionKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecryptionKey")
            .field("bits", &self.bits)
            .field("provider", &self.provider())
            .finish_non_exhaustive()
    }
}

impl DecryptionKey {
    /// The smallest RSA modulus accepted by default, in bits.
    pub const MIN_RSA_BITS: usize = 2048;

    /// An RSA private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY`
    /// (PKCS#1), of at least [`MIN_RSA_BITS`](Self::MIN_RSA_BITS) (2048) bits, parsed by the
    /// [default provider](crate::crypto::default_provider) (`AwsLcRs` with the `aws-lc-rs`
    /// feature, else `RustCrypto`).
    ///
    /// A shorter key is refused here, when it is loaded, with
    /// [`KeyError::WeakDecryptionKey`] naming its size: RSA keys under 2048 bits are within
    /// reach of factoring, and AWS-LC (the aws-lc-rs provider) refuses them.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        Self::from_pem_with(text, crate::crypto::default_provider())
    }

    /// [`from_pem`](Self::from_pem), parsed by `provider` into its own key type: the
    /// provider that will decrypt with it should load it (another provider parses the key
    /// again for itself at each decryption).
    pub fn from_pem_with(text: &str, provider: &dyn CryptoProvider) -> Result<Self, KeyError> {
        Self::from_pem_dangerous_min_rsa_bits_with(text, Self::MIN_RSA_BITS, provider)
    }

    /// [`from_pem`](Self::from_pem) accepting RSA keys down to `bits` (never below 1024).
    /// Dangerous: only for an SP whose encryption certificate the IdP already holds and
    /// cannot replace yet; generate a 2048-bit key and upload its certificate instead.
    pub fn from_pem_dangerous_min_rsa_bits(text: &str, bits: usize) -> Result<Self, KeyError> {
        Self::from_pem_dangerous_min_rsa_bits_with(text, bits, crate::crypto::default_provider())
    }

    /// [`from_pem_dangerous_min_rsa_bits`](Self::from_pem_dangerous_min_rsa_bits), parsed by
    /// `provider`. AWS-LC refuses RSA keys under 2048 bits: the aws-lc-rs provider delegates
    /// such a key, and every operation with it, to RustCrypto (blinded, not constant-time),
    /// as its [`supports`](crate::crypto::CryptoProvider::supports) says;
    /// `crypto::Strict(AwsLcRs)`, and `AwsLcRs` in a build without the `rust-crypto` feature,
    /// refuse it with [`KeyError::Crypto`].
    pub fn from_pem_dangerous_min_rsa_bits_with(
        text: &str,
        bits: usize,
        provider: &dyn CryptoProvider,
    ) -> Result<Self, KeyError> {
        Self::checked(KeyMaterial::from_pem(text, provider), bits)
    }

    /// An RSA private key from DER (PKCS#8 or PKCS#1) of at least
    /// [`MIN_RSA_BITS`](Self::MIN_RSA_BITS), parsed by `provider`.
    pub fn from_der(der: PrivateKeyDer<'_>, provider: &dyn CryptoProvider) -> Result<Self, KeyError> {
        Self::checked(KeyMaterial::from_der(der, provider), Self::MIN_RSA_BITS)
    }

    fn checked(material: Result<KeyMaterial, KeyError>, min: usize) -> Result<Self, KeyError> {
        let floor = min.max(1024);
        let material = match material {
            // A provider that cannot hold a key this short (AWS-LC without RustCrypto): the
            // key is refused for its size first, which is what the admin must change.
            Err(KeyError::Crypto(CryptoError::Unsupported {
                operation:
                    crate::crypto::Operation::LoadPrivateKey {
                        key: KeyType::Rsa { bits },
                    },
                ..
            })) if bits < floor => return Err(KeyError::WeakDecryptionKey { bits, min: floor }),
            other => other?,
        };
        let KeyType::Rsa { bits } = material.key_type() else {
            return Err(KeyError::BadPublicKey {
                reason: format!(
                    "the decryption key is an {} key, but XML Encryption key transport needs an RSA private key",
                    material.key_type()
                ),
            });
        };
        let min = min.max(1024);
        if bits < min {
            return Err(KeyError::WeakDecryptionKey { bits, min });
        }
        Ok(Self { material, bits })
    }

    /// The key size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The name of the provider that parsed the key (`rustcrypto`, `aws-lc-rs`).
    pub fn provider(&self) -> &'static str {
        self.material.loaded.provider()
    }

    /// The key material, for providers.
    pub(crate) fn material(&self) -> &KeyMaterial {
        &self.material
    }
}

/// A PEM block: its label and its DER (zeroized when dropped: it may be a private key).
type PemBlock = (String, Zeroizing<Vec<u8>>);

/// Decodes the PEM blocks of `text` (split by [`crate::pem`]) into `(label, der)` pairs. An
/// unclosed block or bad base64 is an error. The DER is zeroized when dropped (it may be a
/// private key).
fn parse_pem(text: &str) -> Result<Vec<PemBlock>, KeyError> {
    let mut out = Vec::new();
    for block in crate::pem::secret_blocks(text) {
        if !block.closed {
            return Err(KeyError::BadPem {
                reason: format!("no matching -----END {}----- line", block.label),
                label: block.label,
            });
        }
        let body: Zeroizing<String> = Zeroizing::new(block.body.split_whitespace().collect());
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map(Zeroizing::new)
            .map_err(|e| KeyError::BadPem {
                label: block.label.clone(),
                reason: format!("invalid base64 ({e})"),
            })?;
        out.push((block.label, der));
    }
    Ok(out)
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
