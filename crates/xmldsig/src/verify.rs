//! Signature verification with the verified-output pattern.

use std::collections::HashSet;

use roxmltree::{Node, NodeId, NodeType};

use crate::algorithm::{AlgorithmPolicy, DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::c14n::{self, Algorithm, Sink, SubtreeOptions};
use crate::crypto::{self, CryptoProvider, Hasher};
use crate::document::Document;
use crate::error::VerifyError;
use crate::key::{Fingerprint, KeyType, PublicKey, TrustedKey, TrustedKeys};
use crate::signature::{self, ParsedSignature, ENVELOPED_SIGNATURE};

/// Verifies XML signatures against pinned keys.
///
/// A `Verifier` holds the only source of trust: the [`TrustedKeys`]. A signature's `KeyInfo`
/// can only *select* among them (its certificate is tried first when it matches a pinned
/// key) and is otherwise used for nothing but the error message.
///
/// ```
/// use fedkit_xmldsig::{AlgorithmPolicy, Document, TrustedKeys, Verifier};
/// # let pem = include_str!("../../../examples/data/idp-cert.pem");
/// # let xml = include_str!("../../../examples/data/signed-response.xml");
/// let keys = TrustedKeys::from_pem(pem)?;
/// let verifier = Verifier::new(keys, AlgorithmPolicy::default());
/// let doc = Document::parse(xml)?;
/// let response = doc.root_element();
/// let verified = verifier.verify_enveloped(&doc, response)?;
/// // Signed content is read through the verified view only.
/// let issuer = verified.element().child("urn:oasis:names:tc:SAML:2.0:assertion", "Issuer").unwrap();
/// assert_eq!(issuer.text(), "https://idp.example.com/saml");
/// println!("signed by {}", verified.info().key_fingerprint);
/// # Ok::<(), fedkit_xmldsig::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    keys: TrustedKeys,
    policy: AlgorithmPolicy,
    provider: &'static dyn CryptoProvider,
}

/// What a successful verification established.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureInfo {
    /// The signature algorithm.
    pub signature_algorithm: SignatureAlgorithm,
    /// The reference's digest algorithm.
    pub digest_algorithm: DigestAlgorithm,
    /// The SignedInfo canonicalization algorithm.
    pub signed_info_c14n: Algorithm,
    /// The reference's canonicalization algorithm.
    pub reference_c14n: Algorithm,
    /// The ID the reference points to.
    pub reference_id: String,
    /// Whether the enveloped-signature transform was applied.
    pub enveloped: bool,
    /// Fingerprint of the pinned key that verified the signature.
    pub key_fingerprint: Fingerprint,
    /// Index of that key in the [`TrustedKeys`].
    pub key_index: usize,
    /// Fingerprint of the certificate in `KeyInfo`, if any (informational).
    pub keyinfo_certificate: Option<Fingerprint>,
}

/// The result of a successful verification: the covered element, readable only through a
/// view that shows exactly what the signature covered.
///
/// There is no public constructor: a `Verified` exists only when a signature verified.
#[derive(Clone, Debug)]
pub struct Verified<'a, 'i> {
    element: VerifiedElement<'a, 'i>,
    info: SignatureInfo,
}

impl<'a, 'i> Verified<'a, 'i> {
    /// The element the signature covers.
    pub fn element(&self) -> VerifiedElement<'a, 'i> {
        self.element
    }

    /// How it was signed.
    pub fn info(&self) -> &SignatureInfo {
        &self.info
    }
}

/// A read-only view of signed content: an element inside a verified subtree.
///
/// It can only move *down* (no parent or sibling access beyond the signed subtree), skips the
/// enveloped `ds:Signature` (which the digest did not cover), and its [`text`](Self::text)
/// ignores comments exactly as the canonical form did, so `a<!---->b` reads as `ab`: the value
/// that was signed, never a truncated one.
#[derive(Clone, Copy)]
pub struct VerifiedElement<'a, 'i> {
    node: Node<'a, 'i>,
    excluded: Option<NodeId>,
}

impl core::fmt::Debug for VerifiedElement<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedElement")
            .field("name", &self.node.tag_name())
            .finish()
    }
}

impl<'a, 'i> VerifiedElement<'a, 'i> {
    /// The namespace URI, if any.
    pub fn namespace(&self) -> Option<&'a str> {
        self.node.tag_name().namespace()
    }

    /// The local name.
    pub fn local_name(&self) -> &'a str {
        self.node.tag_name().name()
    }

    /// Whether this element has the given namespace and local name.
    pub fn is(&self, namespace: &str, local_name: &str) -> bool {
        self.namespace() == Some(namespace) && self.local_name() == local_name
    }

    /// An unqualified attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&'a str> {
        self.node
            .attributes()
            .find(|a| a.namespace().is_none() && a.name() == name)
            .map(|a| a.value())
    }

    /// A namespace-qualified attribute's value.
    pub fn attribute_ns(&self, namespace: &str, name: &str) -> Option<&'a str> {
        self.node
            .attributes()
            .find(|a| a.namespace() == Some(namespace) && a.name() == name)
            .map(|a| a.value())
    }

    /// All attributes as `(namespace, local name, value)`.
    pub fn attributes(&self) -> impl Iterator<Item = (Option<&'a str>, &'a str, &'a str)> + 'a {
        self.node
            .attributes()
            .map(|a| (a.namespace(), a.name(), a.value()))
    }

    /// The namespace URI bound to `prefix` here (`None` for the default namespace). Useful for
    /// QName-valued content such as `xsi:type`; the binding is part of what was signed.
    pub fn lookup_namespace(&self, prefix: Option<&str>) -> Option<&'a str> {
        self.node.lookup_namespace_uri(prefix).filter(|u| !u.is_empty())
    }

    /// The namespace declarations in scope here, as `(prefix, uri)` (`None` for the default
    /// namespace), e.g. to parse content decrypted from inside this element in the same
    /// context. Bindings of prefixes that no signed name uses may come from unsigned
    /// ancestors under exclusive canonicalization: use them to resolve names, never as data.
    pub fn namespaces(&self) -> impl Iterator<Item = (Option<&'a str>, &'a str)> + 'a {
        self.node.namespaces().map(|ns| (ns.name(), ns.uri()))
    }

    /// A top-level element of plaintext decrypted from verified ciphertext
    /// ([`DecryptedDocument`](crate::xmlenc::DecryptedDocument)): the signature over the
    /// ciphertext covers all of it, and nothing is excluded.
    pub(crate) fn decrypted(node: Node<'a, 'i>) -> Self {
        Self { node, excluded: None }
    }

    pub(crate) fn node(&self) -> Node<'a, 'i> {
        self.node
    }

    /// Child elements, in document order, without the enveloped signature.
    pub fn children(&self) -> impl Iterator<Item = VerifiedElement<'a, 'i>> + 'a {
        let excluded = self.excluded;
        self.node
            .children()
            .filter(move |n| n.is_element() && Some(n.id()) != excluded)
            .map(move |node| VerifiedElement { node, excluded })
    }

    /// The first child element with this name.
    pub fn child(&self, namespace: &str, local_name: &str) -> Option<VerifiedElement<'a, 'i>> {
        self.children().find(|c| c.is(namespace, local_name))
    }

    /// All child elements with this name.
    pub fn children_named<'s>(
        &'s self,
        namespace: &'s str,
        local_name: &'s str,
    ) -> impl Iterator<Item = VerifiedElement<'a, 'i>> + 's {
        self.children().filter(move |c| c.is(namespace, local_name))
    }

    /// The concatenated text of all descendant text nodes (comments skipped; the enveloped
    /// signature skipped), as the signature covered it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let mut skip_until: Option<NodeId> = None;
        for n in self.node.descendants() {
            if let Some(end) = skip_until {
                if n.ancestors().any(|a| a.id() == end) {
                    continue;
                }
                skip_until = None;
            }
            if Some(n.id()) == self.excluded {
                skip_until = Some(n.id());
                continue;
            }
            if n.node_type() == NodeType::Text {
                out.push_str(n.text().unwrap_or_default());
            }
        }
        out
    }

    /// Whether this element has element children (other than the enveloped signature).
    pub fn has_child_elements(&self) -> bool {
        self.children().next().is_some()
    }

    /// The element's node id in the parsed document: lets a caller confirm that the element it
    /// is about to consume is the one that was verified.
    pub fn node_id(&self) -> NodeId {
        self.node.id()
    }

    /// Byte range of the element in the input (for messages).
    pub fn range(&self) -> core::ops::Range<usize> {
        self.node.range()
    }
}

/// Every `ds:Signature` element in the document, in document order.
pub fn find_signatures<'a, 'i>(doc: &'a Document<'i>) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    doc.tree().descendants().filter(|n| signature::is_signature(*n))
}

/// Buffers canonical output before hashing, so the hash sees large blocks.
struct HashSink {
    hasher: Box<dyn Hasher>,
    buf: Vec<u8>,
    total: usize,
}

impl HashSink {
    const CAPACITY: usize = 64 * 1024;
}

impl Sink for HashSink {
    fn write(&mut self, bytes: &[u8]) {
        self.total += bytes.len();
        if self.buf.len() + bytes.len() > Self::CAPACITY {
            self.hasher.update(&self.buf);
            self.buf.clear();
            if bytes.len() >= Self::CAPACITY {
                self.hasher.update(bytes);
                return;
            }
        }
        self.buf.extend_from_slice(bytes);
    }
}

/// Canonicalizes the subtree and returns its digest and the canonical length, streaming.
pub(crate) fn digest_subtree(
    provider: &dyn CryptoProvider,
    algorithm: DigestAlgorithm,
    apex: Node<'_, '_>,
    method: &c14n::Method,
    options: SubtreeOptions,
) -> Result<(Vec<u8>, usize), VerifyError> {
    let mut sink = HashSink {
        hasher: provider.hasher(algorithm),
        buf: Vec::with_capacity(HashSink::CAPACITY),
        total: 0,
    };
    c14n::canonicalize_subtree(apex, method, options, &mut sink)?;
    let HashSink {
        mut hasher,
        buf,
        total,
    } = sink;
    hasher.update(&buf);
    Ok((hasher.finish(), total))
}

/// Resolves `#id` to the unique element carrying it; any ID value carried twice anywhere in
/// the document is an error, since duplicate IDs are how signature wrapping begins.
fn resolve_reference<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Result<Node<'a, 'i>, VerifyError> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut target = None;
    for node in doc.tree().descendants().filter(Node::is_element) {
        let mut own: Vec<&str> = Vec::new();
        for value in c14n::id_attributes(node) {
            if own.contains(&value) {
                continue;
            }
            own.push(value);
            if !seen.insert(value) {
                let count = doc
                    .tree()
                    .descendants()
                    .filter(|n| n.is_element() && c14n::id_attributes(*n).any(|v| v == value))
                    .count();
                return Err(VerifyError::DuplicateId {
                    id: value.to_owned(),
                    count,
                });
            }
            if value == id {
                target = Some(node);
            }
        }
    }
    target.ok_or_else(|| VerifyError::ReferenceNotFound { id: id.to_owned() })
}

fn key_suits(scheme: SignatureScheme, key: &PublicKey) -> bool {
    matches!(
        (scheme, key.key_type()),
        (
            SignatureScheme::RsaPkcs1v15 | SignatureScheme::RsaPss,
            KeyType::Rsa { .. }
        ) | (SignatureScheme::Ecdsa, KeyType::EcP256 | KeyType::EcP384)
    )
}

impl Verifier {
    /// A verifier trusting exactly `keys`, with the default crypto provider.
    pub fn new(keys: TrustedKeys, policy: AlgorithmPolicy) -> Self {
        Self {
            keys,
            policy,
            provider: crypto::default_provider(),
        }
    }

    /// Uses another crypto provider.
    pub fn with_provider(mut self, provider: &'static dyn CryptoProvider) -> Self {
        self.provider = provider;
        self
    }

    /// The pinned keys.
    pub fn keys(&self) -> &TrustedKeys {
        &self.keys
    }

    /// The algorithm policy.
    pub fn policy(&self) -> &AlgorithmPolicy {
        &self.policy
    }

    /// The crypto provider.
    pub fn provider(&self) -> &'static dyn CryptoProvider {
        self.provider
    }

    /// Verifies the signature that `element` carries as a direct `ds:Signature` child, and
    /// requires it to cover `element` itself (its `ID`/`Id`/`id`) with the
    /// enveloped-signature transform. This is the check a SAML Response, Assertion or
    /// metadata document needs: the signature covers the very element being consumed.
    pub fn verify_enveloped<'a, 'i>(
        &self,
        doc: &'a Document<'i>,
        element: Node<'a, 'i>,
    ) -> Result<Verified<'a, 'i>, VerifyError> {
        let name = element.tag_name().name().to_owned();
        let signatures: Vec<Node<'a, 'i>> = element
            .children()
            .filter(|n| signature::is_signature(*n))
            .collect();
        let signature = match signatures.as_slice() {
            [one] => *one,
            [] => {
                return Err(VerifyError::MissingSignature {
                    element: name,
                    hint: None,
                })
            }
            many => {
                return Err(VerifyError::MultipleSignatures {
                    element: name,
                    count: many.len(),
                })
            }
        };
        let ids: Vec<&str> = c14n::id_attributes(element).collect();
        let verified = self.verify_signature(doc, signature)?;
        if verified.element.node.id() != element.id() {
            return Err(VerifyError::WrongReference {
                expected: match ids.first() {
                    Some(id) => format!("the enclosing {name} (ID {id:?})"),
                    None => format!("the enclosing {name}, which has no ID attribute"),
                },
                covered: verified.info.reference_id,
            });
        }
        if !verified.info.enveloped {
            return Err(VerifyError::Malformed {
                reason: format!("the signature inside {name} does not use the enveloped-signature transform"),
            });
        }
        Ok(verified)
    }

    /// Verifies one `ds:Signature` element and returns the element it covers.
    ///
    /// Checks, in order: the structure (exactly one SignedInfo, SignatureValue, at most one
    /// KeyInfo, exactly one Reference with a `#ID` URI, only enveloped-signature and c14n
    /// transforms); the algorithms against the policy; the SignedInfo signature against the
    /// pinned keys; the referenced element (unique ID in the whole document) and its digest.
    pub fn verify_signature<'a, 'i>(
        &self,
        doc: &'a Document<'i>,
        signature: Node<'a, 'i>,
    ) -> Result<Verified<'a, 'i>, VerifyError> {
        let parsed = signature::parse_signature(signature)?;
        let signature_algorithm = self.policy.check_signature(parsed.signature_method)?;
        let digest_algorithm = self.policy.check_digest(parsed.reference.digest_method)?;

        // The reference must resolve before any crypto: a duplicate ID is refused outright.
        let target = resolve_reference(doc, parsed.reference.id)?;

        // A signature inside the element it signs needs the enveloped-signature transform:
        // without it the digest would cover the signature itself, which no signer can
        // produce. Said before any crypto, so it is not reported as modified content.
        if !parsed.reference.enveloped && signature.ancestors().any(|a| a.id() == target.id()) {
            return Err(VerifyError::Malformed {
                reason: format!(
                    "the signature sits inside the element it signs ({} with ID {:?}), but its Reference has no enveloped-signature transform ({ENVELOPED_SIGNATURE}); the signer must list that transform first in ds:Transforms",
                    target.tag_name().name(),
                    parsed.reference.id
                ),
            });
        }

        let (key_index, keyinfo_certificate) = self.verify_signed_info(&parsed, signature_algorithm)?;

        // The enveloped-signature transform removes this whole Signature element: a reference
        // to content inside it (a ds:Object) then selects nothing at all.
        if parsed.reference.enveloped && target.ancestors().any(|a| a.id() == signature.id()) {
            return Err(VerifyError::C14n(crate::error::C14nError::EmptyOutput));
        }
        let exclude = (parsed.reference.enveloped && signature.ancestors().any(|a| a.id() == target.id()))
            .then(|| signature.id());
        let options = SubtreeOptions::default().excluding(exclude).without_comments();
        let (digest, len) = digest_subtree(
            self.provider,
            digest_algorithm,
            target,
            &parsed.reference.c14n,
            options,
        )?;
        if len == 0 {
            return Err(VerifyError::C14n(crate::error::C14nError::EmptyOutput));
        }
        if digest != parsed.reference.digest_value {
            return Err(VerifyError::DigestMismatch {
                id: parsed.reference.id.to_owned(),
                algorithm: digest_algorithm.name(),
            });
        }
        let key = self.keys.keys().get(key_index).map(TrustedKey::fingerprint);
        let info = SignatureInfo {
            signature_algorithm,
            digest_algorithm,
            signed_info_c14n: parsed.c14n.algorithm(),
            reference_c14n: parsed.reference.c14n.algorithm(),
            reference_id: parsed.reference.id.to_owned(),
            enveloped: exclude.is_some(),
            key_fingerprint: key.unwrap_or(Fingerprint([0; 32])),
            key_index,
            keyinfo_certificate,
        };
        Ok(Verified {
            element: VerifiedElement {
                node: target,
                excluded: exclude,
            },
            info,
        })
    }

    /// Verifies a signature over raw bytes with the pinned keys and the algorithm policy: the
    /// HTTP-Redirect binding's query-string signature (SAML Bindings §3.4.4.1), where the
    /// signed octets are `SAMLRequest=…&RelayState=…&SigAlg=…` as received. `signature_method`
    /// is the `SigAlg` URI. Returns the fingerprint of the pinned key that verified.
    ///
    /// ```
    /// use fedkit_xmldsig::{AlgorithmPolicy, TrustedKeys, Verifier, VerifyError};
    /// let keys = TrustedKeys::from_pem(include_str!("../../../examples/data/idp-cert.pem"))?;
    /// let verifier = Verifier::new(keys, AlgorithmPolicy::default());
    /// let err = verifier
    ///     .verify_detached("http://www.w3.org/2000/09/xmldsig#rsa-sha1", b"SAMLRequest=x", b"sig")
    ///     .unwrap_err();
    /// assert!(matches!(err, VerifyError::AlgorithmRefused { .. }));
    /// # Ok::<(), fedkit_xmldsig::KeyError>(())
    /// ```
    pub fn verify_detached(
        &self,
        signature_method: &str,
        message: &[u8],
        signature: &[u8],
    ) -> Result<Fingerprint, VerifyError> {
        let algorithm = self.policy.check_signature(signature_method)?;
        let (index, _) = self.verify_bytes(algorithm, message, signature, None)?;
        Ok(self
            .keys
            .keys()
            .get(index)
            .map_or(Fingerprint([0; 32]), TrustedKey::fingerprint))
    }

    /// Verifies the SignedInfo signature; returns the index of the pinned key that verified
    /// it and the KeyInfo certificate's fingerprint.
    fn verify_signed_info(
        &self,
        parsed: &ParsedSignature<'_, '_>,
        algorithm: SignatureAlgorithm,
    ) -> Result<(usize, Option<Fingerprint>), VerifyError> {
        let mut signed_info = Vec::with_capacity(1024);
        c14n::canonicalize_subtree(
            parsed.signed_info,
            &parsed.c14n,
            SubtreeOptions::default(),
            &mut signed_info,
        )?;
        self.verify_bytes(
            algorithm,
            &signed_info,
            &parsed.signature_value,
            parsed.keyinfo_certificates.first().map(Vec::as_slice),
        )
    }

    /// Tries the pinned keys (those KeyInfo names first) on `signature` over `message`.
    fn verify_bytes(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
        keyinfo_der: Option<&[u8]>,
    ) -> Result<(usize, Option<Fingerprint>), VerifyError> {
        // KeyInfo may select a pinned key, never add one.
        let keys = self.keys.keys();
        // The common case, the pinned certificate itself in KeyInfo, needs no hashing or
        // certificate parsing: its fingerprint is known.
        let pinned_certificate =
            keyinfo_der.and_then(|d| keys.iter().find(|k| k.certificate_der() == Some(d)));
        let keyinfo_fp = match pinned_certificate {
            Some(k) => Some(k.fingerprint()),
            None => keyinfo_der.map(Fingerprint::of),
        };
        // Otherwise the KeyInfo certificate may still carry a pinned public key (a bare key
        // was pinned, or the certificate was re-issued for the same key).
        let keyinfo_key = match pinned_certificate {
            Some(_) => None,
            None => keyinfo_der.and_then(|d| TrustedKey::from_certificate_der(d).ok()),
        };
        let matches_keyinfo = |k: &TrustedKey| {
            keyinfo_fp == Some(k.fingerprint())
                || keyinfo_key
                    .as_ref()
                    .is_some_and(|ki| ki.public_key().spki_der() == k.public_key().spki_der())
        };
        let keyinfo_trusted = keys.iter().any(matches_keyinfo);

        let mut order: Vec<usize> = (0..keys.len())
            .filter(|&i| {
                keys.get(i)
                    .is_some_and(|k| key_suits(algorithm.scheme(), k.public_key()))
            })
            .collect();
        if order.is_empty() {
            return Err(VerifyError::NoUsableKey {
                algorithm: algorithm.name(),
                pinned: keys.len(),
            });
        }
        // Keys named by KeyInfo first.
        order.sort_by_key(|&i| !keys.get(i).is_some_and(matches_keyinfo));

        let mut weak = None;
        // A key the provider cannot verify with (e.g. aws-lc-rs without the `rust-crypto`
        // feature, for an algorithm AWS-LC lacks): reported as such when no key verifies.
        let mut refused = None;
        for &i in &order {
            let Some(k) = keys.get(i) else { continue };
            let operation = crypto::Operation::Verify {
                algorithm,
                key: k.public_key().key_type(),
            };
            if let Err(e) = self.provider.check(operation) {
                refused.get_or_insert(e);
                continue;
            }
            let verifies = || {
                self.provider
                    .verify(algorithm, k.public_key(), message, signature)
                    .is_ok()
            };
            if let KeyType::Rsa { bits } = k.public_key().key_type() {
                if bits < self.policy.min_rsa_bits() {
                    // A short key is refused, but say so only when it is the one that signed.
                    if weak.is_none() && bits >= 1024 && verifies() {
                        weak = Some(VerifyError::WeakKey {
                            fingerprint: k.fingerprint(),
                            bits,
                            min: self.policy.min_rsa_bits(),
                        });
                    }
                    continue;
                }
            }
            if verifies() {
                return Ok((i, keyinfo_fp));
            }
        }
        if let Some(weak) = weak {
            return Err(weak);
        }
        if let Some(refused) = refused {
            return Err(VerifyError::Crypto(refused));
        }
        Err(VerifyError::SignatureInvalid {
            keyinfo_certificate: keyinfo_fp,
            keyinfo_trusted,
            pinned: order
                .iter()
                .filter_map(|&i| keys.get(i))
                .map(TrustedKey::fingerprint)
                .collect(),
        })
    }
}
