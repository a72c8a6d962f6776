//! Creating enveloped XML signatures: what an SP needs to sign its own AuthnRequests and
//! logout messages for the HTTP-POST binding (and what tests need to play an IdP).
//!
//! The signature is always the profile SAML uses and [`Verifier`](crate::Verifier) accepts:
//! one Reference to the element's `ID`, the enveloped-signature transform then Exclusive
//! C14N, SignedInfo canonicalized with Exclusive C14N, and optionally the signer's
//! certificate in KeyInfo. [`sign_enveloped`] picks the algorithm from the key (RSA-SHA256,
//! ECDSA-SHA256 on P-256, ECDSA-SHA384 on P-384); [`sign_enveloped_with`] takes any of
//! RSA-SHA256/384/512 (PKCS#1 v1.5) and ECDSA-SHA256/384/512. The digest uses the
//! signature's hash function. SHA-1 is never produced.

use base64::Engine as _;

use crate::algorithm::{DigestAlgorithm, SignatureAlgorithm, SignatureScheme};
use crate::c14n::{self, Algorithm, Method, SubtreeOptions};
use crate::crypto::{CryptoError, CryptoProvider};
use crate::document::Document;
use crate::error::{C14nError, ParseError};
use crate::key::{KeyType, SigningKey};
use crate::signature::{DSIG_NS, ENVELOPED_SIGNATURE};

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Why a document could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The document does not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The element to sign was not found, or canonicalization failed.
    #[error(transparent)]
    C14n(#[from] C14nError),
    /// The element already carries a signature.
    #[error("the element {id:?} is already signed")]
    AlreadySigned {
        /// Its ID.
        id: String,
    },
    /// The key cannot make signatures of this algorithm (an RSA key asked for ECDSA, SHA-1,
    /// RSA-PSS), or the crypto provider failed to sign.
    #[error("a {key} signing key cannot make {algorithm} signatures (RSA keys sign RSA-SHA256/384/512, EC keys ECDSA-SHA256/384/512)")]
    Key {
        /// The key type, e.g. `RSA-2048` or `EC P-256`.
        key: String,
        /// The algorithm asked for, e.g. `ECDSA-SHA256`.
        algorithm: String,
    },
    /// The crypto provider does not make this signature with this key itself (see
    /// [`CryptoProvider::supports`]): e.g. aws-lc-rs with an RSA key outside 2048 to 8192
    /// bits, or `crypto::Strict(AwsLcRs)` with ECDSA over another hash than the curve's.
    #[error(transparent)]
    Crypto(crate::crypto::CryptoError),
}

impl SignError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::Parse(e) => e.code(),
            SignError::C14n(e) => e.code(),
            SignError::AlreadySigned { .. } => "already_signed",
            SignError::Key { .. } => "signing_key_unsuitable",
            SignError::Crypto(e) => e.code(),
        }
    }
}

/// Signs the element whose `ID` is `id` with an enveloped signature, inserted as the element's
/// first child, or right after its first child named `after` (`(namespace, local name)`,
/// e.g. SAML's `Issuer`, which the schema requires to come first). Returns the new document
/// text; everything outside the inserted `ds:Signature` is byte for byte the input.
///
/// ```
/// use fedkit_xmldsig::{sign, AlgorithmPolicy, Document, SigningKey, TrustedKeys, Verifier};
/// let key = SigningKey::from_pem(include_str!("../tests/data/oracle/key-a.pem"))?;
/// let xml = r#"<r:Request xmlns:r="urn:example" ID="_1"><r:Issuer>sp</r:Issuer><r:Body>hi</r:Body></r:Request>"#;
/// let provider = fedkit_xmldsig::crypto::default_provider();
/// let signed = sign::sign_enveloped(xml, "_1", Some(("urn:example", "Issuer")), &key, None, provider)?;
/// let doc = Document::parse(&signed)?;
/// let keys = TrustedKeys::from_pem(include_str!("../tests/data/oracle/cert-a.pem"))?;
/// let verified = Verifier::new(keys, AlgorithmPolicy::default()).verify_enveloped(&doc, doc.root_element())?;
/// assert_eq!(verified.element().child("urn:example", "Body").unwrap().text(), "hi");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_enveloped(
    xml: &str,
    id: &str,
    after: Option<(&str, &str)>,
    key: &SigningKey,
    certificate_der: Option<&[u8]>,
    provider: &dyn CryptoProvider,
) -> Result<String, SignError> {
    let algorithm = key.default_algorithm();
    sign_enveloped_with(xml, id, after, key, certificate_der, algorithm, provider)
}

/// [`sign_enveloped`] with a chosen signature algorithm, e.g. RSA-SHA512 for an IdP
/// configured that way. The digest method uses the same hash function.
///
/// ```
/// use fedkit_xmldsig::{sign, AlgorithmPolicy, Document, SignatureAlgorithm, SigningKey, TrustedKeys, Verifier};
/// let key = SigningKey::from_pem(include_str!("../tests/data/oracle/key-a.pem"))?;
/// let xml = r#"<r:Request xmlns:r="urn:example" ID="_1"><r:Body>hi</r:Body></r:Request>"#;
/// let provider = fedkit_xmldsig::crypto::default_provider();
/// let signed = sign::sign_enveloped_with(xml, "_1", None, &key, None, SignatureAlgorithm::RSA_SHA512, provider)?;
/// assert!(signed.contains("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"));
/// let doc = Document::parse(&signed)?;
/// let keys = TrustedKeys::from_pem(include_str!("../tests/data/oracle/cert-a.pem"))?;
/// Verifier::new(keys, AlgorithmPolicy::default()).verify_enveloped(&doc, doc.root_element())?;
/// // An RSA key cannot make ECDSA signatures.
/// let refused = sign::sign_enveloped_with(xml, "_1", None, &key, None, SignatureAlgorithm::ECDSA_SHA256, provider);
/// assert!(matches!(refused, Err(sign::SignError::Key { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sign_enveloped_with(
    xml: &str,
    id: &str,
    after: Option<(&str, &str)>,
    key: &SigningKey,
    certificate_der: Option<&[u8]>,
    algorithm: SignatureAlgorithm,
    provider: &dyn CryptoProvider,
) -> Result<String, SignError> {
    let refused = || SignError::Key {
        key: key.key_type().to_string(),
        algorithm: algorithm.name().to_owned(),
    };
    let key_fits = matches!(
        (algorithm.scheme(), key.key_type()),
        (SignatureScheme::RsaPkcs1v15, KeyType::Rsa { .. })
            | (SignatureScheme::Ecdsa, KeyType::EcP256 | KeyType::EcP384)
    );
    if !key_fits || algorithm.hash() == DigestAlgorithm::Sha1 {
        return Err(refused());
    }
    let doc = Document::parse(xml)?;
    let element = c14n::find_by_id(&doc, id)?;
    if element.children().any(crate::is_signature) {
        return Err(SignError::AlreadySigned { id: id.to_owned() });
    }
    // The digest of the element as it is now: the enveloped-signature transform removes the
    // signature again when verifying, so this is what the verifier will digest.
    let method = Method::new(Algorithm::Exclusive);
    let canonical =
        c14n::canonicalize_subtree_to_vec(element, &method, SubtreeOptions::default().without_comments())?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let digest = b64(&provider.digest(algorithm.hash(), &canonical));
    let signature_method = algorithm.uri();
    let digest_method = algorithm.hash().uri();
    // The ID is written back as an attribute value: whatever characters it has (an IdP's
    // UUID may start with a digit), the Reference names exactly the value the element holds.
    let id = id
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    let signed_info = format!(
        "<ds:SignedInfo xmlns:ds=\"{DSIG_NS}\"><ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/>\
         <ds:SignatureMethod Algorithm=\"{signature_method}\"/><ds:Reference URI=\"#{id}\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{ENVELOPED_SIGNATURE}\"/><ds:Transform Algorithm=\"{EXC_C14N}\"/>\
         </ds:Transforms><ds:DigestMethod Algorithm=\"{digest_method}\"/><ds:DigestValue>{digest}</ds:DigestValue>\
         </ds:Reference></ds:SignedInfo>"
    );
    // Exclusive C14N of SignedInfo does not depend on its ancestors (only `ds` is visibly
    // used, and it is declared on SignedInfo's parent the same way), so it can be computed
    // on SignedInfo alone.
    let standalone = Document::parse(&signed_info)?;
    let signed_info_c14n =
        c14n::canonicalize_subtree_to_vec(standalone.root_element(), &method, SubtreeOptions::default())?;
    let value = match algorithm.scheme() {
        SignatureScheme::Ecdsa => provider.ecdsa_sign(algorithm, key, &signed_info_c14n),
        _ => provider.rsa_sign(algorithm, key, &signed_info_c14n),
    }
    .map_err(|e| match e {
        e @ CryptoError::Unsupported { .. } => SignError::Crypto(e),
        _ => refused(),
    })?;
    let key_info = certificate_der
        .map(|der| format!("<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>", b64(der)))
        .unwrap_or_default();
    let signed_info_in_place = signed_info.replacen(&format!(" xmlns:ds=\"{DSIG_NS}\""), "", 1);
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info_in_place}<ds:SignatureValue>{}</ds:SignatureValue>{key_info}</ds:Signature>",
        b64(&value)
    );
    // Where to insert: after the named child, or after the start tag.
    let at = match after.and_then(|(ns, local)| {
        element
            .children()
            .find(|c| c.is_element() && c.tag_name().namespace() == Some(ns) && c.tag_name().name() == local)
    }) {
        Some(child) => child.range().end,
        None => start_tag_end(xml, element.range())?,
    };
    let mut out = String::with_capacity(xml.len() + signature.len());
    out.push_str(xml.get(..at).unwrap_or_default());
    out.push_str(&signature);
    out.push_str(xml.get(at..).unwrap_or_default());
    Ok(out)
}

/// The offset just after the start tag of the element spanning `range`; a self-closing
/// element is refused (there is nothing to sign inside it worth signing).
fn start_tag_end(xml: &str, range: core::ops::Range<usize>) -> Result<usize, SignError> {
    let text = xml.get(range.clone()).unwrap_or_default();
    let mut quote = None;
    for (i, b) in text.bytes().enumerate() {
        match (quote, b) {
            (Some(q), b) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                if text.as_bytes().get(i.wrapping_sub(1)) == Some(&b'/') {
                    break;
                }
                return Ok(range.start + i + 1);
            }
            _ => {}
        }
    }
    Err(SignError::C14n(C14nError::EmptyOutput))
}
