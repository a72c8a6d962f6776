//! XML Encryption (1.0 and 1.1) decryption of an `xenc:EncryptedData` element: what a SAML
//! `EncryptedAssertion` carries.
//!
//! Supported: key transport with RSA-OAEP (`rsa-oaep-mgf1p`, and XML Encryption 1.1
//! `rsa-oaep` with its DigestMethod and MGF), content encryption with AES-128/192/256-CBC,
//! AES-128/256-GCM and Triple-DES CBC (`tripledes-cbc`, REQUIRED by XML Encryption 1.0 §5.2.1
//! and still the default of some IdPs, e.g. pysaml2: decrypted, and reported by
//! [`ContentAlgorithm::is_legacy`] so the host can ask for AES-GCM). RSA PKCS#1 v1.5 key
//! transport (`rsa-1_5`, open to Bleichenbacher's attack) is refused unless
//! [`DecryptionPolicy::dangerous_allow_rsa_pkcs1v15`] opts in. Key agreement, symmetric key
//! wrap (`kw-aes*`, `kw-tripledes`: the content key is always RSA-transported in SAML) and
//! `CipherReference` are refused by name.
//!
//! Every failure after the first cryptographic operation (wrong key, bad OAEP or CBC padding,
//! bad GCM tag) is the same [`XmlEncError::DecryptionFailed`]: distinguishable failures are
//! decryption oracles (Jager and Somorovsky's attack on XML Encryption's CBC mode). With the
//! aws-lc-rs provider, RSA decryption is constant-time; RustCrypto's `rsa` 0.9 is blinded but
//! not constant-time (RUSTSEC-2023-0071).

use base64::Engine as _;
use roxmltree::Node;

use crate::algorithm::DigestAlgorithm;
use crate::crypto::{CryptoError, CryptoProvider, Operation, Support};
use crate::key::DecryptionKey;
use crate::signature::DSIG_NS;

/// The XML Encryption 1.0 namespace.
pub const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
/// The XML Encryption 1.1 namespace.
pub const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";

const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_OAEP_11: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const ENCRYPTED_KEY_TYPE: &str = "http://www.w3.org/2001/04/xmlenc#EncryptedKey";

/// What decryption accepts beyond the safe defaults.
#[derive(Debug, Clone, Default)]
pub struct DecryptionPolicy {
    allow_rsa_pkcs1v15: bool,
}

impl DecryptionPolicy {
    /// Accepts RSA PKCS#1 v1.5 key transport (`rsa-1_5`). Dangerous: it is the subject of
    /// Bleichenbacher-style attacks; only for IdPs that cannot be configured for RSA-OAEP.
    pub fn dangerous_allow_rsa_pkcs1v15(mut self) -> Self {
        self.allow_rsa_pkcs1v15 = true;
        self
    }
}

/// Why an `EncryptedData` could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum XmlEncError {
    /// The structure is not what XML Encryption prescribes.
    #[error("malformed encrypted data: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// An algorithm fedkit does not implement.
    #[error("unsupported {role} algorithm {uri:?}: use RSA-OAEP key transport and AES-GCM or AES-CBC content encryption")]
    UnsupportedAlgorithm {
        /// `key transport` or `content encryption`.
        role: &'static str,
        /// The URI.
        uri: String,
    },
    /// An algorithm refused by policy.
    #[error("{uri:?} is refused: {reason}")]
    Refused {
        /// The URI.
        uri: String,
        /// Why, and how to change it.
        reason: &'static str,
    },
    /// No `EncryptedKey` for the content key was found.
    #[error(
        "no EncryptedKey carries the content key (looked in KeyInfo, RetrievalMethod targets and siblings)"
    )]
    NoEncryptedKey,
    /// The crypto provider does not do an operation this `EncryptedData` needs (e.g.
    /// `crypto::Strict(AwsLcRs)` asked for `tripledes-cbc`). Decided from the algorithms and
    /// the key size before anything is decrypted.
    #[error(transparent)]
    Provider(crate::crypto::CryptoError),
    /// Decryption failed: wrong SP key, or altered ciphertext. Deliberately one error.
    #[error("the data cannot be decrypted with the configured SP key: the IdP may encrypt to another certificate (check the SP encryption certificate uploaded to the IdP), or the message was altered")]
    DecryptionFailed,
}

fn malformed(reason: impl Into<String>) -> XmlEncError {
    XmlEncError::Malformed {
        reason: reason.into(),
    }
}

fn is(node: Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(ns) && node.tag_name().name() == local
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &str, local: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| is(*c, ns, local))
}

fn base64_text(node: Node<'_, '_>, what: &str) -> Result<Vec<u8>, XmlEncError> {
    if node.children().any(|c| c.is_element()) {
        return Err(malformed(format!("{what} contains elements")));
    }
    let text: String = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .flat_map(|t| t.chars().filter(|c| !c.is_ascii_whitespace()))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|e| malformed(format!("{what} is not base64: {e}")))
}

fn cipher_value(node: Node<'_, '_>) -> Result<Vec<u8>, XmlEncError> {
    let data = child(node, XENC_NS, "CipherData").ok_or_else(|| malformed("CipherData is missing"))?;
    if child(data, XENC_NS, "CipherReference").is_some() {
        return Err(XmlEncError::UnsupportedAlgorithm {
            role: "cipher data",
            uri: "CipherReference".to_owned(),
        });
    }
    let value = child(data, XENC_NS, "CipherValue").ok_or_else(|| malformed("CipherValue is missing"))?;
    base64_text(value, "CipherValue")
}

fn algorithm<'a, 'i>(node: Node<'a, 'i>) -> Result<(Node<'a, 'i>, &'a str), XmlEncError> {
    let method =
        child(node, XENC_NS, "EncryptionMethod").ok_or_else(|| malformed("EncryptionMethod is missing"))?;
    let uri = method
        .attribute("Algorithm")
        .ok_or_else(|| malformed("EncryptionMethod has no Algorithm"))?;
    Ok((method, uri))
}

/// A content-encryption algorithm this module decrypts (the `EncryptionMethod` of an
/// `EncryptedData`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentAlgorithm {
    /// AES-128-CBC (XML Encryption 1.0).
    Aes128Cbc,
    /// AES-192-CBC (XML Encryption 1.0).
    Aes192Cbc,
    /// AES-256-CBC (XML Encryption 1.0).
    Aes256Cbc,
    /// AES-128-GCM (XML Encryption 1.1).
    Aes128Gcm,
    /// AES-256-GCM (XML Encryption 1.1).
    Aes256Gcm,
    /// Triple-DES (DES-EDE3) CBC (XML Encryption 1.0 `tripledes-cbc`): legacy, see
    /// [`is_legacy`](Self::is_legacy).
    TripleDesCbc,
}

impl ContentAlgorithm {
    /// Every algorithm.
    pub const ALL: [ContentAlgorithm; 6] = [
        Self::Aes128Cbc,
        Self::Aes192Cbc,
        Self::Aes256Cbc,
        Self::Aes128Gcm,
        Self::Aes256Gcm,
        Self::TripleDesCbc,
    ];

    /// The algorithm of an `EncryptionMethod` URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.uri() == uri)
    }

    /// The algorithm's URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::Aes128Cbc => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            Self::Aes192Cbc => "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
            Self::Aes256Cbc => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            Self::Aes128Gcm => "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            Self::Aes256Gcm => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Self::TripleDesCbc => "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
        }
    }

    /// A short name for messages (`AES-256-GCM`, `3DES-CBC`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes128Cbc => "AES-128-CBC",
            Self::Aes192Cbc => "AES-192-CBC",
            Self::Aes256Cbc => "AES-256-CBC",
            Self::Aes128Gcm => "AES-128-GCM",
            Self::Aes256Gcm => "AES-256-GCM",
            Self::TripleDesCbc => "3DES-CBC",
        }
    }

    /// Whether the algorithm is legacy: Triple-DES, whose 64-bit blocks make it unfit for
    /// new use (NIST SP 800-131A Rev. 2 disallows it for encryption after 2023; the Sweet32
    /// attack). fedkit decrypts it because XML Encryption 1.0 requires it, but an IdP that
    /// uses it should be moved to AES-GCM.
    pub fn is_legacy(self) -> bool {
        self == Self::TripleDesCbc
    }

    /// The provider operation that decrypts this algorithm.
    pub fn operation(self) -> Operation {
        match self {
            Self::Aes128Gcm | Self::Aes256Gcm => Operation::AesGcmDecrypt {
                key_bits: self.key_len() * 8,
            },
            Self::Aes128Cbc | Self::Aes192Cbc | Self::Aes256Cbc => Operation::AesCbcDecrypt {
                key_bits: self.key_len() * 8,
            },
            Self::TripleDesCbc => Operation::TripleDesCbcDecrypt,
        }
    }

    /// The content key's length in octets.
    fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc | Self::Aes128Gcm => 16,
            Self::Aes192Cbc | Self::TripleDesCbc => 24,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }
}

/// The result of [`decrypt_with_algorithm`]: the plaintext, the content-encryption
/// algorithm it was encrypted with, and the operations the provider delegated.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decrypted {
    /// The plaintext octets.
    pub plaintext: Vec<u8>,
    /// The content-encryption algorithm.
    pub algorithm: ContentAlgorithm,
    /// The secret-key operations of this decryption (key transport, content decryption) that
    /// the provider handed to another provider ([`Support::Delegated`]), e.g. `AwsLcRs`'s
    /// Triple-DES, done by RustCrypto. Empty when the provider did everything itself. A host
    /// that chose a provider for its constant-time code logs these: nothing is delegated
    /// silently.
    pub delegated: Vec<Delegation>,
}

/// One operation a provider handed to another (see [`Decrypted::delegated`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delegation {
    /// What was done.
    pub operation: Operation,
    /// The provider asked ([`CryptoProvider::name`]).
    pub provider: &'static str,
    /// The provider that did it.
    pub to: &'static str,
}

impl core::fmt::Display for Delegation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the {} crypto provider delegated {} to {}",
            self.provider, self.operation, self.to
        )
    }
}

/// The delegation of `operation`, if `provider` delegates it.
fn delegation(provider: &dyn CryptoProvider, operation: Operation) -> Option<Delegation> {
    match provider.supports(operation) {
        Support::Delegated { to } => Some(Delegation {
            operation,
            provider: provider.name(),
            to,
        }),
        _ => None,
    }
}

impl core::fmt::Debug for Decrypted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decrypted")
            .field("plaintext_len", &self.plaintext.len())
            .field("algorithm", &self.algorithm)
            .field("delegated", &self.delegated)
            .finish()
    }
}

/// The key transport of one `EncryptedKey`, checked before any decryption.
enum Transport {
    Oaep {
        digest: DigestAlgorithm,
        mgf1: DigestAlgorithm,
        label: Option<Vec<u8>>,
    },
    Pkcs1v15,
}

impl Transport {
    /// The provider operation, with an SP key of `bits` bits.
    fn operation(&self, bits: usize) -> Operation {
        match self {
            Transport::Oaep { digest, mgf1, .. } => Operation::RsaOaepDecrypt {
                digest: *digest,
                mgf1: *mgf1,
                bits,
            },
            Transport::Pkcs1v15 => Operation::RsaPkcs1v15Decrypt { bits },
        }
    }
}

fn transport(encrypted_key: Node<'_, '_>, policy: &DecryptionPolicy) -> Result<Transport, XmlEncError> {
    let (method, uri) = algorithm(encrypted_key)?;
    let digest = match child(method, DSIG_NS, "DigestMethod").and_then(|d| d.attribute("Algorithm")) {
        None => DigestAlgorithm::Sha1,
        Some(d) => DigestAlgorithm::from_uri(d).ok_or_else(|| XmlEncError::UnsupportedAlgorithm {
            role: "OAEP digest",
            uri: d.to_owned(),
        })?,
    };
    let label = child(method, XENC_NS, "OAEPparams")
        .map(|p| base64_text(p, "OAEPparams"))
        .transpose()?;
    match uri {
        RSA_OAEP_MGF1P => Ok(Transport::Oaep {
            digest,
            mgf1: DigestAlgorithm::Sha1,
            label,
        }),
        RSA_OAEP_11 => {
            let mgf1 = match child(method, XENC11_NS, "MGF").and_then(|m| m.attribute("Algorithm")) {
                None | Some("http://www.w3.org/2009/xmlenc11#mgf1sha1") => DigestAlgorithm::Sha1,
                Some("http://www.w3.org/2009/xmlenc11#mgf1sha256") => DigestAlgorithm::Sha256,
                Some("http://www.w3.org/2009/xmlenc11#mgf1sha384") => DigestAlgorithm::Sha384,
                Some("http://www.w3.org/2009/xmlenc11#mgf1sha512") => DigestAlgorithm::Sha512,
                Some(other) => {
                    return Err(XmlEncError::UnsupportedAlgorithm {
                        role: "OAEP mask generation",
                        uri: other.to_owned(),
                    })
                }
            };
            Ok(Transport::Oaep { digest, mgf1, label })
        }
        RSA_1_5 if policy.allow_rsa_pkcs1v15 => Ok(Transport::Pkcs1v15),
        RSA_1_5 => Err(XmlEncError::Refused {
            uri: uri.to_owned(),
            reason: "RSA PKCS#1 v1.5 key transport is open to padding-oracle attacks; configure the IdP for RSA-OAEP (or opt in with DecryptionPolicy::dangerous_allow_rsa_pkcs1v15)",
        }),
        other => Err(XmlEncError::UnsupportedAlgorithm {
            role: "key transport",
            uri: other.to_owned(),
        }),
    }
}

/// The `EncryptedKey` elements that may carry `encrypted_data`'s key: inside its KeyInfo,
/// those a `RetrievalMethod` names (among `candidates`), or else all `candidates` (SAML puts
/// them beside the `EncryptedData` in the `EncryptedAssertion`).
fn encrypted_keys<'a, 'i>(encrypted_data: Node<'a, 'i>, candidates: &[Node<'a, 'i>]) -> Vec<Node<'a, 'i>> {
    let Some(info) = child(encrypted_data, DSIG_NS, "KeyInfo") else {
        return candidates.to_vec();
    };
    let mut keys: Vec<Node<'a, 'i>> = info
        .children()
        .filter(|c| is(*c, XENC_NS, "EncryptedKey"))
        .collect();
    for retrieval in info.children().filter(|c| is(*c, DSIG_NS, "RetrievalMethod")) {
        let typed = retrieval
            .attribute("Type")
            .is_none_or(|t| t == ENCRYPTED_KEY_TYPE);
        if let (true, Some(id)) = (
            typed,
            retrieval.attribute("URI").and_then(|u| u.strip_prefix('#')),
        ) {
            keys.extend(candidates.iter().filter(|k| k.attribute("Id") == Some(id)));
        }
    }
    if keys.is_empty() {
        candidates.to_vec()
    } else {
        keys
    }
}

/// [`decrypt`] for encrypted content inside a verified subtree (a SAML `EncryptedID` in a
/// signed assertion): the ciphertext and its keys are read only from what the signature
/// covered, so the plaintext is as trustworthy as the signed element. `candidates` are the
/// `EncryptedKey` elements beside the `EncryptedData`.
pub fn decrypt_verified(
    provider: &dyn CryptoProvider,
    encrypted_data: &crate::VerifiedElement<'_, '_>,
    candidates: &[crate::VerifiedElement<'_, '_>],
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<Vec<u8>, XmlEncError> {
    decrypt_verified_with_algorithm(provider, encrypted_data, candidates, key, policy).map(|d| d.plaintext)
}

/// [`decrypt_verified`], also returning the content-encryption algorithm (to report a legacy
/// one, see [`ContentAlgorithm::is_legacy`]).
pub fn decrypt_verified_with_algorithm(
    provider: &dyn CryptoProvider,
    encrypted_data: &crate::VerifiedElement<'_, '_>,
    candidates: &[crate::VerifiedElement<'_, '_>],
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<Decrypted, XmlEncError> {
    let candidates: Vec<Node<'_, '_>> = candidates.iter().map(|c| c.node()).collect();
    decrypt_with_algorithm(provider, encrypted_data.node(), &candidates, key, policy)
}

/// Plaintext decrypted from ciphertext that a verified signature covered, together with its
/// key transport ([`decrypt_verified_content`]): as trustworthy as the signed element it came
/// from. There is no public constructor.
#[derive(Clone)]
pub struct DecryptedContent {
    /// The plaintext inside a `<fedkit-decrypted>` wrapper that declares the namespace
    /// bindings the signature covered at the context element.
    wrapped: String,
    algorithm: ContentAlgorithm,
    delegated: Vec<Delegation>,
}

impl DecryptedContent {
    /// The operations the provider delegated (see [`Decrypted::delegated`]).
    pub fn delegated(&self) -> &[Delegation] {
        &self.delegated
    }

    /// The content-encryption algorithm the ciphertext used (to report a legacy one, see
    /// [`ContentAlgorithm::is_legacy`]).
    pub fn algorithm(&self) -> ContentAlgorithm {
        self.algorithm
    }
}

impl core::fmt::Debug for DecryptedContent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecryptedContent")
            .field("len", &self.wrapped.len())
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

/// A parsed [`DecryptedContent`]: its top-level elements are readable as
/// [`VerifiedElement`](crate::VerifiedElement)s, since the signature over the ciphertext
/// covers them.
#[derive(Debug)]
pub struct DecryptedDocument<'i> {
    doc: crate::Document<'i>,
}

impl DecryptedContent {
    /// Parses the plaintext with the hardened parser. Any failure is
    /// [`XmlEncError::DecryptionFailed`], like every failure after decryption: a
    /// distinguishable parse error would be a decryption oracle.
    pub fn parse(&self, limits: &crate::Limits) -> Result<DecryptedDocument<'_>, XmlEncError> {
        crate::Document::parse_with_limits(&self.wrapped, limits)
            .map(|doc| DecryptedDocument { doc })
            .map_err(|_| XmlEncError::DecryptionFailed)
    }
}

impl<'i> DecryptedDocument<'i> {
    /// The parsed document (the plaintext inside a wrapper element), e.g. to verify a
    /// signature the decrypted content carries itself.
    pub fn document(&self) -> &crate::Document<'i> {
        &self.doc
    }

    /// The plaintext's top-level elements, as verified views.
    pub fn elements(&self) -> impl Iterator<Item = crate::VerifiedElement<'_, 'i>> {
        self.doc
            .root_element()
            .children()
            .filter(Node::is_element)
            .map(crate::VerifiedElement::decrypted)
    }
}

/// [`decrypt_verified`] for content a caller will read as signed: the `EncryptedData`, its
/// `EncryptedKey` candidates and `context` (the element the decrypted content stands in,
/// e.g. a SAML `EncryptedAssertion`) all come from verified subtrees, so the plaintext is
/// what the signature covered, in encrypted form.
///
/// The plaintext is parsed in the namespace context of `context`, restricted to the
/// bindings `context` visibly uses (its own name's and its qualified attributes' prefixes):
/// every canonicalization covers those, while a binding declared on an ancestor and used by
/// no signed name is not covered by Exclusive C14N and could be rebound by anyone. A
/// plaintext relying on such a binding does not parse, and fails like any decryption.
pub fn decrypt_verified_content(
    provider: &dyn CryptoProvider,
    encrypted_data: &crate::VerifiedElement<'_, '_>,
    candidates: &[crate::VerifiedElement<'_, '_>],
    context: &crate::VerifiedElement<'_, '_>,
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<DecryptedContent, XmlEncError> {
    let Decrypted {
        plaintext,
        algorithm,
        delegated,
    } = decrypt_verified_with_algorithm(provider, encrypted_data, candidates, key, policy)?;
    let plaintext = String::from_utf8(plaintext).map_err(|_| XmlEncError::DecryptionFailed)?;
    let body = match plaintext.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, after)| after),
        None => plaintext.as_str(),
    };
    // The prefixes `context` visibly uses, read from its start tag as written (the parsed
    // tree keeps namespace URIs, not prefixes).
    let node = context.node();
    let input = node.document().input_text();
    let prefix_of = |qname: &str| qname.split_once(':').map(|(p, _)| p.to_owned());
    let element_qname: String = input
        .get(node.range().start + 1..)
        .unwrap_or_default()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    let mut used: Vec<Option<String>> = vec![prefix_of(&element_qname)];
    for attribute in node.attributes().filter(|a| a.namespace().is_some()) {
        let qname = input.get(attribute.range_qname()).unwrap_or_default();
        if let Some(prefix) = prefix_of(qname) {
            used.push(Some(prefix));
        }
    }
    let mut bindings: Vec<(Option<String>, &str)> = Vec::new();
    for prefix in used {
        if prefix.as_deref() == Some("xml") || bindings.iter().any(|(p, _)| *p == prefix) {
            continue;
        }
        if let Some(uri) = node
            .lookup_namespace_uri(prefix.as_deref())
            .filter(|u| !u.is_empty())
        {
            bindings.push((prefix, uri));
        }
    }
    let escape = crate::c14n::escape_attribute;
    let mut wrapped = String::from("<fedkit-decrypted");
    for (prefix, uri) in bindings {
        match prefix.as_deref() {
            Some(prefix) => wrapped.push_str(&format!(" xmlns:{prefix}=\"{}\"", escape(uri))),
            None => wrapped.push_str(&format!(" xmlns=\"{}\"", escape(uri))),
        }
    }
    wrapped.push('>');
    wrapped.push_str(body);
    wrapped.push_str("</fedkit-decrypted>");
    Ok(DecryptedContent {
        wrapped,
        algorithm,
        delegated,
    })
}

/// Decrypts `encrypted_data` (an `xenc:EncryptedData`) with `key`, looking for its
/// `EncryptedKey` inside its KeyInfo, among the `candidates` a `RetrievalMethod` names, or
/// else among all `candidates`, and returns the plaintext octets (for a
/// SAML EncryptedAssertion: the `saml:Assertion` element's XML).
///
/// The plaintext is NOT verified by this function: a caller must verify a signature over it
/// (or over the ciphertext) before trusting anything in it.
pub fn decrypt(
    provider: &dyn CryptoProvider,
    encrypted_data: Node<'_, '_>,
    candidates: &[Node<'_, '_>],
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<Vec<u8>, XmlEncError> {
    decrypt_with_algorithm(provider, encrypted_data, candidates, key, policy).map(|d| d.plaintext)
}

/// [`decrypt`], also returning the content-encryption algorithm (to report a legacy one,
/// see [`ContentAlgorithm::is_legacy`]).
pub fn decrypt_with_algorithm(
    provider: &dyn CryptoProvider,
    encrypted_data: Node<'_, '_>,
    candidates: &[Node<'_, '_>],
    key: &DecryptionKey,
    policy: &DecryptionPolicy,
) -> Result<Decrypted, XmlEncError> {
    if !is(encrypted_data, XENC_NS, "EncryptedData") {
        return Err(malformed("expected xenc:EncryptedData"));
    }
    let (_, content_uri) = algorithm(encrypted_data)?;
    let content =
        ContentAlgorithm::from_uri(content_uri).ok_or_else(|| XmlEncError::UnsupportedAlgorithm {
            role: "content encryption",
            uri: content_uri.to_owned(),
        })?;
    let ciphertext = cipher_value(encrypted_data)?;
    let keys = encrypted_keys(encrypted_data, candidates);
    if keys.is_empty() {
        return Err(XmlEncError::NoEncryptedKey);
    }
    // Check every candidate's algorithms, and that the provider does them, before any
    // decryption: a refusal after one would tell whether the key transport succeeded.
    let provider_refuses = |operation| provider.check(operation).map_err(XmlEncError::Provider);
    provider_refuses(content.operation())?;
    let mut prepared = Vec::with_capacity(keys.len());
    for k in &keys {
        let transport = transport(*k, policy)?;
        provider_refuses(transport.operation(key.bits()))?;
        prepared.push((transport, cipher_value(*k)?));
    }
    for (transport, wrapped) in prepared {
        let transport_operation = transport.operation(key.bits());
        let session = match transport {
            Transport::Oaep { digest, mgf1, label } => {
                provider.rsa_oaep_decrypt(key, digest, mgf1, label.as_deref(), &wrapped)
            }
            Transport::Pkcs1v15 => provider.rsa_pkcs1v15_decrypt(key, &wrapped),
        };
        let Ok(session) = session else { continue };
        if session.len() != content.key_len() {
            continue;
        }
        let unpadded = |block: usize| move |p: Vec<u8>| unpad(p, block).ok_or(CryptoError::Failed);
        let plaintext = match content {
            ContentAlgorithm::Aes128Gcm | ContentAlgorithm::Aes256Gcm => {
                provider.aes_gcm_decrypt(&session, &ciphertext)
            }
            ContentAlgorithm::Aes128Cbc | ContentAlgorithm::Aes192Cbc | ContentAlgorithm::Aes256Cbc => {
                provider
                    .aes_cbc_decrypt(&session, &ciphertext)
                    .and_then(unpadded(16))
            }
            ContentAlgorithm::TripleDesCbc => provider
                .tdes_cbc_decrypt(&session, &ciphertext)
                .and_then(unpadded(8)),
        };
        let delegated = [content.operation(), transport_operation]
            .into_iter()
            .filter_map(|operation| delegation(provider, operation))
            .collect();
        return plaintext
            .map(|plaintext| Decrypted {
                plaintext,
                algorithm: content,
                delegated,
            })
            .map_err(|_| XmlEncError::DecryptionFailed);
    }
    Err(XmlEncError::DecryptionFailed)
}

/// XML Encryption's block-cipher padding (§5.2): the last octet says how many octets to drop
/// (1 to the block size: 16 for AES, 8 for Triple-DES); the other padding octets are arbitrary
/// (unlike PKCS#7).
fn unpad(mut plaintext: Vec<u8>, block: usize) -> Option<Vec<u8>> {
    let n = usize::from(*plaintext.last()?);
    if n == 0 || n > block || n > plaintext.len() {
        return None;
    }
    plaintext.truncate(plaintext.len() - n);
    Some(plaintext)
}

impl XmlEncError {
    /// A stable `snake_case` code for logs, metrics and API answers (fedkit-saml reports the
    /// same codes for these errors).
    pub fn code(&self) -> &'static str {
        match self {
            XmlEncError::Malformed { .. } => "encryption_malformed",
            XmlEncError::UnsupportedAlgorithm { .. } => "algorithm_unsupported",
            XmlEncError::Refused { .. } => "algorithm_refused",
            XmlEncError::NoEncryptedKey => "encrypted_key_missing",
            XmlEncError::DecryptionFailed => "decryption_failed",
            XmlEncError::Provider(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::all_providers;

    const SP_KEY: &str = include_str!("../tests/data/oracle/key-a.pem");

    /// The public half of the RSA key in `pem`, read with `rsa` (to encrypt test data).
    fn public_of(pem: &str) -> rsa::RsaPublicKey {
        use rsa::pkcs8::DecodePrivateKey as _;
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        rsa::RsaPublicKey::from(rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap())
    }

    /// Encrypts `plaintext` for the SP key with AES-256-GCM and XML Encryption 1.1 RSA-OAEP
    /// (SHA-256, MGF1 with `mgf`), as an `EncryptedData` with the key inside its KeyInfo.
    fn encrypt_11(plaintext: &[u8], mgf: (&str, DigestAlgorithm)) -> String {
        use aes_gcm::aead::{Aead as _, KeyInit as _};
        let public = public_of(SP_KEY);
        let session = [0x42u8; 32];
        let padding = match mgf.1 {
            DigestAlgorithm::Sha1 => rsa::Oaep::new_with_mgf_hash::<sha2::Sha256, sha1::Sha1>(),
            _ => rsa::Oaep::new_with_mgf_hash::<sha2::Sha256, sha2::Sha256>(),
        };
        let wrapped = public.encrypt(&mut rand_core::OsRng, padding, &session).unwrap();
        let nonce = [7u8; 12];
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(&session).unwrap();
        let mut data = nonce.to_vec();
        data.extend(cipher.encrypt(&aes_gcm::Nonce::from(nonce), plaintext).unwrap());
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        format!(
            r#"<xenc:EncryptedData xmlns:xenc="{XENC_NS}" xmlns:ds="{DSIG_NS}" xmlns:xenc11="{XENC11_NS}">
  <xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>
  <ds:KeyInfo><xenc:EncryptedKey>
    <xenc:EncryptionMethod Algorithm="{RSA_OAEP_11}">
      <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <xenc11:MGF Algorithm="http://www.w3.org/2009/xmlenc11#{}"/>
    </xenc:EncryptionMethod>
    <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
  </xenc:EncryptedKey></ds:KeyInfo>
  <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedData>"#,
            mgf.0,
            b64(&wrapped),
            b64(&data)
        )
    }

    /// Encrypts `body` (already padded to whole 8-octet blocks) with Triple-DES CBC for the SP
    /// key (RSA-OAEP-MGF1P key transport), as `tripledes-cbc` `EncryptedData` XML.
    fn encrypt_3des(body: &[u8]) -> String {
        use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut as _, KeyIvInit as _};
        let public = public_of(SP_KEY);
        let session = *b"0123456789abcdefFEDCBA98";
        let wrapped = public
            .encrypt(&mut rand_core::OsRng, rsa::Oaep::new::<sha1::Sha1>(), &session)
            .unwrap();
        let iv = [9u8; 8];
        let mut data = iv.to_vec();
        data.extend(
            cbc::Encryptor::<des::TdesEde3>::new_from_slices(&session, &iv)
                .unwrap()
                .encrypt_padded_vec_mut::<NoPadding>(body),
        );
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        format!(
            r#"<xenc:EncryptedData xmlns:xenc="{XENC_NS}" xmlns:ds="{DSIG_NS}">
  <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#tripledes-cbc"/>
  <ds:KeyInfo><xenc:EncryptedKey>
    <xenc:EncryptionMethod Algorithm="{RSA_OAEP_MGF1P}"/>
    <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
  </xenc:EncryptedKey></ds:KeyInfo>
  <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedData>"#,
            b64(&wrapped),
            b64(&data)
        )
    }

    fn decrypt_all(xml: &str) -> Vec<Result<Decrypted, XmlEncError>> {
        let key = DecryptionKey::from_pem(SP_KEY).unwrap();
        let doc = crate::Document::parse(xml).unwrap();
        all_providers()
            .into_iter()
            .map(|p| decrypt_with_algorithm(p, doc.root_element(), &[], &key, &DecryptionPolicy::default()))
            .collect()
    }

    #[cfg(feature = "rust-crypto")]
    #[test]
    fn triple_des_cbc_decrypts_with_every_provider_and_is_reported_as_legacy() {
        // "<a>secret</a>" is 13 octets: 3 octets of XML Encryption padding, arbitrary but the last.
        let mut body = b"<a>secret</a>".to_vec();
        body.extend([0xAA, 0x55, 3]);
        for result in decrypt_all(&encrypt_3des(&body)) {
            let d = result.unwrap();
            assert_eq!(d.plaintext, b"<a>secret</a>");
            assert_eq!(d.algorithm, ContentAlgorithm::TripleDesCbc);
            assert!(d.algorithm.is_legacy());
        }
        // A whole block of padding (plaintext a multiple of 8 octets).
        let mut body = b"<a>1</a>".to_vec();
        body.extend([0, 0, 0, 0, 0, 0, 0, 8]);
        for result in decrypt_all(&encrypt_3des(&body)) {
            assert_eq!(result.unwrap().plaintext, b"<a>1</a>");
        }
    }

    #[cfg(feature = "rust-crypto")]
    #[test]
    fn triple_des_bad_padding_and_truncation_fail_uniformly() {
        // The last octet names more padding than one 8-octet block, or none.
        for last in [0u8, 9, 16, 255] {
            let mut body = b"<a>secret</a>xx".to_vec();
            body.push(last);
            for result in decrypt_all(&encrypt_3des(&body)) {
                assert_eq!(result, Err(XmlEncError::DecryptionFailed), "padding {last}");
            }
        }
        // Ciphertext cut to a partial block, to the IV alone, or emptied.
        let mut body = b"<a>secret</a>".to_vec();
        body.extend([1, 2, 3]);
        let xml = encrypt_3des(&body);
        let start = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
        let end = xml.rfind("</xenc:CipherValue>").unwrap();
        let value = base64::engine::general_purpose::STANDARD
            .decode(&xml[start..end])
            .unwrap();
        for cut in [value.len() - 3, 8, 4, 0] {
            let b64 = base64::engine::general_purpose::STANDARD.encode(&value[..cut]);
            let altered = format!("{}{b64}{}", &xml[..start], &xml[end..]);
            for result in decrypt_all(&altered) {
                assert_eq!(result, Err(XmlEncError::DecryptionFailed), "cut to {cut}");
            }
        }
    }

    /// A fresh RSA key of `bits` bits, as PKCS#8 PEM.
    fn rsa_pem(bits: usize) -> String {
        use rsa::pkcs8::EncodePrivateKey as _;
        let key = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits).unwrap();
        let der = key.to_pkcs8_der().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
        format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
    }

    #[test]
    fn sp_keys_under_2048_bits_are_refused_when_loaded_naming_their_size() {
        let pem = rsa_pem(1024);
        let err = DecryptionKey::from_pem(&pem).unwrap_err();
        assert_eq!(
            err,
            crate::KeyError::WeakDecryptionKey {
                bits: 1024,
                min: 2048
            }
        );
        let message = err.to_string();
        for needle in [
            "1024-bit",
            "at least 2048",
            "rsa:2048",
            "from_pem_dangerous_min_rsa_bits",
            "--dangerous-min-sp-key-bits 1024",
        ] {
            assert!(message.contains(needle), "{needle}: {message}");
        }
        // The opt-in has a floor of 1024 bits.
        let err = DecryptionKey::from_pem_dangerous_min_rsa_bits(&pem, 1536).unwrap_err();
        assert_eq!(
            err,
            crate::KeyError::WeakDecryptionKey {
                bits: 1024,
                min: 1536
            }
        );
        let tiny = rsa_pem(768);
        let err = DecryptionKey::from_pem_dangerous_min_rsa_bits(&tiny, 512).unwrap_err();
        assert_eq!(err, crate::KeyError::WeakDecryptionKey { bits: 768, min: 1024 });
        assert!(err.to_string().contains("never accepted"), "{err}");
        // 2048 bits load as before; signing keys are not subject to this check (but an
        // aws-lc-only build cannot hold a 1024-bit key at all).
        assert_eq!(DecryptionKey::from_pem(SP_KEY).unwrap().bits(), 2048);
        #[cfg(feature = "rust-crypto")]
        assert_eq!(crate::SigningKey::from_pem(&pem).unwrap().bits(), 1024);
    }

    /// An aws-lc-only build: Triple-DES and 1024-bit SP keys (which AWS-LC lacks, and
    /// RustCrypto is not compiled) are refused by name, before any decryption.
    #[cfg(not(feature = "rust-crypto"))]
    #[test]
    fn without_rust_crypto_triple_des_and_short_keys_are_refused_naming_the_feature() {
        let mut body = b"<a>secret</a>".to_vec();
        body.extend([0xAA, 0x55, 3]);
        let results = decrypt_all(&encrypt_3des(&body));
        assert_eq!(results.len(), 1);
        for result in results {
            let err = result.unwrap_err();
            assert_eq!(
                err,
                XmlEncError::Provider(CryptoError::Unsupported {
                    provider: "aws-lc-rs",
                    operation: Operation::TripleDesCbcDecrypt,
                    delegate: None,
                })
            );
            assert_eq!(err.code(), "crypto_unsupported");
            assert!(err.to_string().contains("`rust-crypto` feature is off"), "{err}");
        }
        let err = DecryptionKey::from_pem_dangerous_min_rsa_bits(&rsa_pem(1024), 1024).unwrap_err();
        assert_eq!(err.code(), "crypto_unsupported");
        assert!(err.to_string().contains("`rust-crypto` feature is off"), "{err}");
    }

    #[cfg(feature = "rust-crypto")]
    #[test]
    fn a_1024_bit_sp_key_decrypts_with_every_provider_once_allowed() {
        let pem = rsa_pem(1024);
        let key = DecryptionKey::from_pem_dangerous_min_rsa_bits(&pem, 1024).unwrap();
        assert_eq!(key.bits(), 1024);
        let public = public_of(&pem);
        let session = [0x42u8; 24];
        let wrapped = public
            .encrypt(&mut rand_core::OsRng, rsa::Oaep::new::<sha1::Sha1>(), &session)
            .unwrap();
        let mut ciphertext = vec![0u8; 8];
        ciphertext.extend({
            use cbc::cipher::{block_padding::NoPadding, BlockEncryptMut as _, KeyIvInit as _};
            cbc::Encryptor::<des::TdesEde3>::new_from_slices(&session, &[0u8; 8])
                .unwrap()
                .encrypt_padded_vec_mut::<NoPadding>(b"<a>ok</a>\x00\x00\x00\x00\x00\x00\x07")
        });
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        let xml = format!(
            r#"<xenc:EncryptedData xmlns:xenc="{XENC_NS}" xmlns:ds="{DSIG_NS}">
  <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#tripledes-cbc"/>
  <ds:KeyInfo><xenc:EncryptedKey>
    <xenc:EncryptionMethod Algorithm="{RSA_OAEP_MGF1P}"/>
    <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
  </xenc:EncryptedKey></ds:KeyInfo>
  <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>
</xenc:EncryptedData>"#,
            b64(&wrapped),
            b64(&ciphertext)
        );
        let doc = crate::Document::parse(&xml).unwrap();
        for provider in all_providers() {
            let plain = decrypt(
                provider,
                doc.root_element(),
                &[],
                &key,
                &DecryptionPolicy::default(),
            );
            assert_eq!(plain.as_deref(), Ok(&b"<a>ok</a>"[..]), "{}", provider.name());
        }
    }

    #[test]
    fn xml_encryption_11_oaep_variants_decrypt_with_every_provider() {
        let key = DecryptionKey::from_pem(SP_KEY).unwrap();
        for mgf in [
            ("mgf1sha256", DigestAlgorithm::Sha256),
            ("mgf1sha1", DigestAlgorithm::Sha1),
        ] {
            let xml = encrypt_11(b"<a>secret</a>", mgf);
            let doc = crate::Document::parse(&xml).unwrap();
            // aws-lc-rs without RustCrypto refuses OAEP whose MGF1 hash differs from its
            // digest (AWS-LC lacks it), before decrypting: by name, not as a failure.
            let refuses = |provider: &dyn CryptoProvider, mgf1| {
                provider.supports(Operation::RsaOaepDecrypt {
                    digest: DigestAlgorithm::Sha256,
                    mgf1,
                    bits: 2048,
                }) == Support::Unsupported
            };
            for provider in all_providers() {
                let plain = decrypt(
                    provider,
                    doc.root_element(),
                    &[],
                    &key,
                    &DecryptionPolicy::default(),
                );
                if refuses(provider, mgf.1) {
                    assert!(
                        matches!(plain, Err(XmlEncError::Provider(CryptoError::Unsupported { .. }))),
                        "{plain:?}"
                    );
                    continue;
                }
                assert_eq!(
                    plain.as_deref(),
                    Ok(&b"<a>secret</a>"[..]),
                    "{} {}",
                    provider.name(),
                    mgf.0
                );
            }
            // A wrong MGF in the document fails like any other decryption failure.
            let wrong = xml.replace(
                mgf.0,
                if mgf.0 == "mgf1sha1" {
                    "mgf1sha256"
                } else {
                    "mgf1sha1"
                },
            );
            let doc = crate::Document::parse(&wrong).unwrap();
            let wrong_mgf1 = if mgf.1 == DigestAlgorithm::Sha1 {
                DigestAlgorithm::Sha256
            } else {
                DigestAlgorithm::Sha1
            };
            for provider in all_providers().into_iter().filter(|p| !refuses(*p, wrong_mgf1)) {
                assert_eq!(
                    decrypt(
                        provider,
                        doc.root_element(),
                        &[],
                        &key,
                        &DecryptionPolicy::default()
                    ),
                    Err(XmlEncError::DecryptionFailed)
                );
            }
        }
    }

    #[test]
    fn unsupported_and_refused_algorithms_are_named() {
        let key = DecryptionKey::from_pem(SP_KEY).unwrap();
        let xml = encrypt_11(b"<a/>", ("mgf1sha256", DigestAlgorithm::Sha256));
        for (from, to, expected) in [
            ("aes256-gcm", "aes512-cbc", "content encryption"),
            (
                RSA_OAEP_11,
                "http://www.w3.org/2001/04/xmlenc#kw-aes256",
                "key transport",
            ),
            (
                RSA_OAEP_11,
                "http://www.w3.org/2001/04/xmlenc#kw-tripledes",
                "key transport",
            ),
            ("mgf1sha256", "mgf1sha224", "OAEP mask generation"),
        ] {
            let doc_text = xml.replace(from, to);
            let doc = crate::Document::parse(&doc_text).unwrap();
            match decrypt(
                all_providers()[0],
                doc.root_element(),
                &[],
                &key,
                &DecryptionPolicy::default(),
            ) {
                Err(XmlEncError::UnsupportedAlgorithm { role, .. }) => assert_eq!(role, expected),
                other => panic!("{to}: {other:?}"),
            }
        }
        let doc_text = xml.replace(RSA_OAEP_11, RSA_1_5);
        let doc = crate::Document::parse(&doc_text).unwrap();
        assert!(matches!(
            decrypt(
                all_providers()[0],
                doc.root_element(),
                &[],
                &key,
                &DecryptionPolicy::default()
            ),
            Err(XmlEncError::Refused { .. })
        ));
    }

    #[test]
    fn cbc_padding_is_xml_encryption_style() {
        assert_eq!(unpad(vec![1, 2, 3, 9, 9, 2], 16), Some(vec![1, 2, 3, 9]));
        assert_eq!(unpad(vec![7, 7, 7, 7, 1], 16), Some(vec![7, 7, 7, 7]));
        assert_eq!(unpad(vec![1, 2, 0], 16), None);
        assert_eq!(unpad(vec![1, 17], 16), None);
        assert_eq!(unpad(vec![1, 3], 16), None);
        assert_eq!(unpad(vec![], 16), None);
        // Triple-DES: at most one 8-octet block of padding.
        let mut block = vec![0u8; 16];
        block[15] = 8;
        assert_eq!(unpad(block.clone(), 8), Some(vec![0u8; 8]));
        block[15] = 9;
        assert_eq!(unpad(block.clone(), 8), None);
        assert_eq!(unpad(block, 16), Some(vec![0u8; 7]));
    }

    #[test]
    fn content_algorithm_uris_round_trip_and_only_triple_des_is_legacy() {
        for a in ContentAlgorithm::ALL {
            assert_eq!(ContentAlgorithm::from_uri(a.uri()), Some(a));
            assert_eq!(a.is_legacy(), a == ContentAlgorithm::TripleDesCbc, "{a:?}");
        }
        assert_eq!(
            ContentAlgorithm::from_uri("http://www.w3.org/2001/04/xmlenc#kw-tripledes"),
            None
        );
    }
}
