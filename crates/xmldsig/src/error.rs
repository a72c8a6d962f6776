//! Error types. Every variant speaks to the administrator doing the setup: what was expected,
//! what arrived, and what to change.

use crate::key::Fingerprint;
use crate::limits::XmlLimit;

/// Any error of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not acceptable XML.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The document cannot be canonicalized.
    #[error(transparent)]
    C14n(#[from] C14nError),
    /// A certificate or public key could not be used.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A signature did not verify, or was refused.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Why an XML document was refused by the hardened parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The document exceeds one of the configured [`Limits`](crate::Limits).
    #[error("XML refused at line {line}, column {column}: the {limit} exceeds the limit of {max}")]
    LimitExceeded {
        /// Which limit.
        limit: XmlLimit,
        /// The configured maximum.
        max: usize,
        /// 1-based line where the limit was crossed.
        line: u32,
        /// 1-based column where the limit was crossed.
        column: u32,
    },
    /// The document has a document type declaration. DTDs are refused: they enable entity
    /// expansion attacks and parser differentials, and SAML forbids them.
    #[error("XML refused at line {line}, column {column}: a DOCTYPE declaration is not allowed (SAML messages and metadata never need one)")]
    DtdNotAllowed {
        /// 1-based line of the declaration.
        line: u32,
        /// 1-based column of the declaration.
        column: u32,
    },
    /// The document is not well-formed, namespace-well-formed XML.
    #[error("XML is not well-formed at line {line}, column {column}: {message}")]
    Syntax {
        /// What is wrong.
        message: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
    },
    /// The document is UTF-16 encoded (a byte-order mark, or NUL bytes between ASCII
    /// characters). Only UTF-8 is read: decoding UTF-16 would be a second way to read the
    /// same bytes, and SAML messages and metadata are UTF-8 in practice.
    #[error("XML refused: the document is encoded as UTF-16 ({}), but only UTF-8 is accepted; save or send it as UTF-8", if *big_endian { "big-endian" } else { "little-endian" })]
    Utf16 {
        /// Whether the byte order is big-endian.
        big_endian: bool,
    },
}

/// Why canonicalization failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum C14nError {
    /// A namespace declaration uses a relative URI, which canonical XML cannot represent.
    #[error("{} is bound to the relative URI {uri:?}; canonical XML requires absolute namespace URIs", prefix.as_deref().map(|p| format!("namespace prefix {p:?}")).unwrap_or_else(|| "the default namespace".to_owned()))]
    RelativeNamespaceUri {
        /// The prefix, `None` for the default namespace.
        prefix: Option<String>,
        /// The relative URI.
        uri: String,
    },
    /// A prefixed namespace was bound to the empty URI, which XML Namespaces 1.0 forbids.
    #[error("prefix {prefix:?} is bound to an empty namespace URI, which XML Namespaces 1.0 forbids")]
    EmptyPrefixedNamespace {
        /// The prefix.
        prefix: String,
    },
    /// The subtree to canonicalize was not found.
    #[error("no element has an ID, Id or id attribute equal to {id:?}")]
    SubtreeNotFound {
        /// The ID that was looked up.
        id: String,
    },
    /// More than one element carries the ID.
    #[error("{count} elements carry the ID {id:?}; IDs must be unique")]
    DuplicateId {
        /// The duplicated ID.
        id: String,
        /// How many elements carry it.
        count: usize,
    },
    /// The canonical form of the selected content is empty.
    #[error("the canonical form of the referenced content is empty")]
    EmptyOutput,
    /// A qualified name in the source could not be mapped to the parsed tree.
    #[error("malformed qualified name at byte offset {offset}")]
    MalformedName {
        /// Byte offset in the input.
        offset: usize,
    },
}

/// A certificate or key that cannot be used as a trusted key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM text has no usable block.
    #[error("no PEM block found: expected -----BEGIN CERTIFICATE----- or -----BEGIN PUBLIC KEY-----")]
    NoPemBlock,
    /// A PEM block is damaged (missing END line, bad base64).
    #[error("the PEM block {label:?} is damaged: {reason}")]
    BadPem {
        /// The label after BEGIN.
        label: String,
        /// What is wrong.
        reason: String,
    },
    /// The PEM block is of a kind that cannot be a trusted key (for example a private key).
    #[error("a PEM block labelled {label:?} cannot be a trusted key: paste the IdP's certificate (BEGIN CERTIFICATE) or public key (BEGIN PUBLIC KEY)")]
    UnexpectedPemLabel {
        /// The label after BEGIN.
        label: String,
    },
    /// The certificate's DER could not be parsed.
    #[error("the certificate cannot be parsed: {reason}")]
    BadCertificate {
        /// What is wrong.
        reason: String,
    },
    /// The public key could not be parsed.
    #[error("the public key cannot be parsed: {reason}")]
    BadPublicKey {
        /// What is wrong.
        reason: String,
    },
    /// The key type is not supported (supported: RSA, EC P-256, EC P-384).
    #[error("unsupported public key type {oid}: fedkit verifies RSA, EC P-256 and EC P-384 keys")]
    UnsupportedKeyType {
        /// The algorithm or curve OID, dotted.
        oid: String,
    },
    /// The SP decryption key (the private key of the encryption certificate uploaded to the
    /// IdP) is shorter than the minimum. Refused when the key is loaded.
    #[error("{}", weak_decryption_key_message(*bits, *min))]
    WeakDecryptionKey {
        /// The key's modulus size.
        bits: usize,
        /// The minimum in force.
        min: usize,
    },
    /// The crypto provider asked to load the private key cannot hold it (e.g.
    /// `crypto::Strict(AwsLcRs)` with an RSA key under 2048 bits, which AWS-LC refuses).
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}

/// What kind of algorithm an algorithm error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlgorithmRole {
    /// `SignedInfo/CanonicalizationMethod`.
    Canonicalization,
    /// `SignedInfo/SignatureMethod`.
    Signature,
    /// `Reference/DigestMethod`.
    Digest,
    /// `Reference/Transforms/Transform`.
    Transform,
}

impl core::fmt::Display for AlgorithmRole {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            AlgorithmRole::Canonicalization => "canonicalization method",
            AlgorithmRole::Signature => "signature method",
            AlgorithmRole::Digest => "digest method",
            AlgorithmRole::Transform => "transform",
        })
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `ds:Signature` element where one was required.
    #[error("{element} is not signed: no ds:Signature element found{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
    MissingSignature {
        /// What was expected to be signed.
        element: String,
        /// What to change.
        hint: Option<&'static str>,
    },
    /// More than one signature where exactly one is allowed.
    #[error("{element} carries {count} ds:Signature children; exactly one is allowed")]
    MultipleSignatures {
        /// The signed element.
        element: String,
        /// How many.
        count: usize,
    },
    /// The `ds:Signature` element does not have the structure XML-DSig prescribes, or uses
    /// a construct this verifier refuses.
    #[error("malformed ds:Signature: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// An algorithm that is not implemented (or never allowed, such as HMAC, XPath, XSLT).
    #[error("unsupported {role} {uri:?}: {allowed}")]
    UnsupportedAlgorithm {
        /// Which role the algorithm plays.
        role: AlgorithmRole,
        /// The algorithm URI from the document.
        uri: String,
        /// What is supported instead.
        allowed: &'static str,
    },
    /// An implemented algorithm refused by the [`AlgorithmPolicy`](crate::AlgorithmPolicy).
    #[error("the {role} {uri:?} is refused by policy: {reason}")]
    AlgorithmRefused {
        /// Which role the algorithm plays.
        role: AlgorithmRole,
        /// The algorithm URI.
        uri: String,
        /// Why, and how to allow it.
        reason: &'static str,
    },
    /// The reference URI is not a same-document `#ID` reference; the message says which form
    /// it has instead.
    #[error("{}", reference_uri_refusal(uri.as_deref()))]
    ReferenceUri {
        /// The URI as written.
        uri: Option<String>,
    },
    /// The reference points nowhere.
    #[error("Reference URI \"#{id}\" points to no element: no element carries the ID {id:?} (in an ID, Id or id attribute)")]
    ReferenceNotFound {
        /// The ID.
        id: String,
    },
    /// An ID value is carried by more than one element (a signature-wrapping indicator).
    #[error("{} elements carry the ID {id:?}; an ID must be unique in the document (duplicate IDs are how signature-wrapping attacks start)", count_in_words(*count))]
    DuplicateId {
        /// The duplicated ID value.
        id: String,
        /// How many elements carry it.
        count: usize,
    },
    /// The signature covers a different element than the one being consumed.
    #[error("the signature covers the element with ID {covered:?}, not {expected}")]
    WrongReference {
        /// What was expected.
        expected: String,
        /// The ID the signature references.
        covered: String,
    },
    /// Base64 content of DigestValue or SignatureValue is malformed.
    #[error("{element} is not valid base64 content: {reason}")]
    BadBase64 {
        /// `DigestValue` or `SignatureValue`.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The digest of the referenced content does not match: it was modified after signing.
    #[error("the content of element #{id} was modified after it was signed: its {algorithm} digest does not match the signed DigestValue")]
    DigestMismatch {
        /// The referenced ID.
        id: String,
        /// The digest algorithm name.
        algorithm: &'static str,
    },
    /// No pinned key verifies the signature.
    #[error("{}", bad_signature_message(.keyinfo_certificate.as_ref(), .keyinfo_trusted, .pinned))]
    SignatureInvalid {
        /// SHA-256 fingerprint of the certificate in KeyInfo, if any.
        keyinfo_certificate: Option<Fingerprint>,
        /// Whether that certificate's key is among the pinned keys.
        keyinfo_trusted: bool,
        /// Fingerprints of the pinned keys that were tried.
        pinned: Vec<Fingerprint>,
    },
    /// No pinned key is usable with the signature algorithm (for example only RSA keys are
    /// pinned and the document is signed with ECDSA).
    #[error("{}", key_type_mismatch_message(algorithm, *pinned))]
    NoUsableKey {
        /// Signature algorithm name.
        algorithm: &'static str,
        /// How many keys are pinned.
        pinned: usize,
    },
    /// The key that would verify is too weak for the policy.
    #[error("the pinned RSA key {fingerprint} has {bits} bits; the policy requires at least {min} (regenerate the IdP signing certificate with a 2048-bit or larger key; until the IdP does, AlgorithmPolicy::dangerous_min_rsa_bits accepts it, CLI: --dangerous-min-rsa-bits {bits})")]
    WeakKey {
        /// The key's fingerprint.
        fingerprint: Fingerprint,
        /// Its size.
        bits: usize,
        /// The policy minimum.
        min: usize,
    },
    /// Canonicalization failed.
    #[error("canonicalization failed: {0}")]
    C14n(#[from] C14nError),
    /// The crypto provider does not verify this signature algorithm with the pinned key's
    /// type (for example the aws-lc-rs provider in a build without the `rust-crypto`
    /// feature, for an algorithm AWS-LC lacks): the message names the provider, the
    /// operation and what to change. Code `crypto_unsupported`.
    #[error("{0}")]
    Crypto(crate::crypto::CryptoError),
}

fn weak_decryption_key_message(bits: usize, min: usize) -> String {
    let opt_in = if bits >= 1024 {
        format!(
            "; until then, a {bits}-bit key can be allowed with DecryptionKey::from_pem_dangerous_min_rsa_bits \
             (CLI: --dangerous-min-sp-key-bits {bits})"
        )
    } else {
        " (keys under 1024 bits are never accepted)".to_owned()
    };
    format!(
        "the SP decryption key is a {bits}-bit RSA key, but at least {min} bits are required \
         (RSA keys under 2048 bits can be factored, and the aws-lc-rs provider cannot use them): \
         generate a 2048-bit or larger key (openssl req -x509 -newkey rsa:2048 -nodes -keyout sp.key.pem \
         -out sp.crt.pem -days 730 -subj /CN=sp) and upload its certificate to the IdP as the SP encryption \
         certificate{opt_in}"
    )
}

/// Names the key type a signature algorithm needs and the one the pinned keys have. Only RSA
/// and EC keys can be pinned, so when no pinned key fits an ECDSA signature they are RSA
/// keys, and the other way round.
fn key_type_mismatch_message(algorithm: &str, pinned: usize) -> String {
    let (needed, held, held_signs) = if algorithm.starts_with("ECDSA") {
        ("an EC key", "RSA", "RSA-SHA256")
    } else {
        ("an RSA key", "EC", "ECDSA-SHA256")
    };
    let holds = match pinned {
        0 => "no key is pinned".to_owned(),
        1 => format!("the pinned certificate holds an {held} key"),
        n => format!("all {n} pinned certificates hold {held} keys"),
    };
    format!(
        "the IdP signs with {algorithm}, which needs {needed}, but {holds}: the signature algorithm and the key type disagree. \
         Check the signing algorithm in the IdP's application settings (a certificate with an {held} key signs with {held_signs}, for example), \
         and that the certificate pinned here is the one the IdP signs with"
    )
}

fn bad_signature_message(
    keyinfo: Option<&Fingerprint>,
    keyinfo_trusted: &bool,
    pinned: &[Fingerprint],
) -> String {
    let pins = if pinned.is_empty() {
        "no keys are pinned".to_owned()
    } else {
        let list: Vec<String> = pinned.iter().map(|f| f.to_string()).collect();
        format!("pinned: {}", list.join(", "))
    };
    match keyinfo {
        Some(fp) if !*keyinfo_trusted => format!(
            "the signature was made with a certificate that is not trusted: KeyInfo carries SHA-256 fingerprint {fp}, {pins}. \
             If the IdP rotated its signing certificate, download the new one from the IdP and pin it"
        ),
        Some(fp) => format!(
            "the signature does not verify with the pinned certificate {fp} named in KeyInfo: the SignedInfo was altered or signed with another key"
        ),
        None => format!(
            "the signature does not verify with any pinned key ({pins}); check that the certificate configured for this IdP is its current signing certificate"
        ),
    }
}

/// "two", "three", … for the duplicate-ID message.
fn count_in_words(count: usize) -> String {
    match count {
        2 => "two".to_owned(),
        3 => "three".to_owned(),
        n => n.to_string(),
    }
}

/// Why a Reference URI is refused, by its form: only `#` followed by the ID of one element
/// (any characters, as the IdP wrote it) is a same-document reference to a single element.
fn reference_uri_refusal(uri: Option<&str>) -> String {
    const ALLOWED: &str =
        "only a same-document reference of the form \"#ID\", naming the ID of the signed element, is allowed";
    match uri {
        None => format!("the ds:Reference has no URI attribute (it would name content from outside the document); {ALLOWED}"),
        Some("") => format!(
            "Reference URI=\"\" selects the whole document, not one element; {ALLOWED}"
        ),
        Some("#") => format!("Reference URI \"#\" names no ID (nothing follows the #); {ALLOWED}"),
        Some(u) if u.starts_with("#xpointer(") => format!(
            "Reference URI {u:?} is an XPointer expression, which is not supported; {ALLOWED}"
        ),
        Some(u) => format!(
            "Reference URI {u:?} is not a same-document reference (it does not start with #); {ALLOWED}"
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Stable codes: one `snake_case` code per condition, owned here and never renamed, for logs,
// metrics and API answers. fedkit-saml and the CLI report these same codes for these errors.

impl Error {
    /// A stable `snake_case` code for logs, metrics and API answers (the inner error's).
    ///
    /// ```
    /// let err = fedkit_xmldsig::Document::parse("<a><b></a>").unwrap_err();
    /// assert_eq!(fedkit_xmldsig::Error::from(err).code(), "bad_xml");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Parse(e) => e.code(),
            Error::C14n(e) => e.code(),
            Error::Key(e) => e.code(),
            Error::Verify(e) => e.code(),
        }
    }
}

impl ParseError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::LimitExceeded { .. } => "limit_exceeded",
            ParseError::DtdNotAllowed { .. } => "dtd_not_allowed",
            ParseError::Syntax { .. } => "bad_xml",
            ParseError::Utf16 { .. } => "utf16_encoded",
        }
    }
}

impl C14nError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            C14nError::RelativeNamespaceUri { .. } => "relative_namespace_uri",
            C14nError::EmptyPrefixedNamespace { .. } => "empty_prefixed_namespace",
            C14nError::SubtreeNotFound { .. } => "id_not_found",
            C14nError::DuplicateId { .. } => "duplicate_id",
            C14nError::EmptyOutput => "empty_canonical_output",
            C14nError::MalformedName { .. } => "malformed_name",
        }
    }
}

impl KeyError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::NoPemBlock => "no_pem_block",
            KeyError::BadPem { .. } => "bad_pem",
            KeyError::UnexpectedPemLabel { .. } => "unexpected_pem_label",
            KeyError::BadCertificate { .. } => "bad_certificate",
            KeyError::BadPublicKey { .. } => "bad_public_key",
            KeyError::UnsupportedKeyType { .. } => "unsupported_key_type",
            KeyError::WeakDecryptionKey { .. } => "weak_decryption_key",
            KeyError::Crypto(e) => e.code(),
        }
    }
}

impl VerifyError {
    /// A stable `snake_case` code for logs, metrics and API answers. Canonicalization failing
    /// inside verification is reported as what it is ([`C14nError::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::MissingSignature { .. } => "unsigned",
            VerifyError::MultipleSignatures { .. } => "multiple_signatures",
            VerifyError::Malformed { .. } => "signature_malformed",
            VerifyError::UnsupportedAlgorithm { .. } => "algorithm_unsupported",
            VerifyError::AlgorithmRefused { .. } => "algorithm_refused",
            VerifyError::ReferenceUri { .. } => "reference_uri",
            VerifyError::ReferenceNotFound { .. } => "reference_not_found",
            VerifyError::DuplicateId { .. } => "duplicate_id",
            VerifyError::WrongReference { .. } => "wrong_reference",
            VerifyError::BadBase64 { .. } => "bad_base64",
            VerifyError::DigestMismatch { .. } => "digest_mismatch",
            VerifyError::SignatureInvalid { .. } => "signature_invalid",
            VerifyError::NoUsableKey { .. } => "no_usable_key",
            VerifyError::WeakKey { .. } => "weak_key",
            VerifyError::C14n(e) => e.code(),
            VerifyError::Crypto(e) => e.code(),
        }
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;
    use crate::key::Fingerprint;
    use crate::sign::SignError;
    use crate::xmlenc::XmlEncError;

    fn is_snake_case(code: &str) -> bool {
        code.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !code.contains("__")
            && !code.ends_with('_')
    }

    #[test]
    fn every_variant_has_its_stable_code() {
        let cases: Vec<(Error, &str)> = vec![
            (
                ParseError::LimitExceeded {
                    limit: XmlLimit::Depth,
                    max: 1,
                    line: 1,
                    column: 1,
                }
                .into(),
                "limit_exceeded",
            ),
            (
                ParseError::DtdNotAllowed { line: 1, column: 1 }.into(),
                "dtd_not_allowed",
            ),
            (
                ParseError::Syntax {
                    message: String::new(),
                    line: 1,
                    column: 1,
                }
                .into(),
                "bad_xml",
            ),
            (ParseError::Utf16 { big_endian: false }.into(), "utf16_encoded"),
            (
                C14nError::RelativeNamespaceUri {
                    prefix: None,
                    uri: "x".into(),
                }
                .into(),
                "relative_namespace_uri",
            ),
            (
                C14nError::EmptyPrefixedNamespace { prefix: "p".into() }.into(),
                "empty_prefixed_namespace",
            ),
            (
                C14nError::SubtreeNotFound { id: "x".into() }.into(),
                "id_not_found",
            ),
            (
                C14nError::DuplicateId {
                    id: "x".into(),
                    count: 2,
                }
                .into(),
                "duplicate_id",
            ),
            (C14nError::EmptyOutput.into(), "empty_canonical_output"),
            (C14nError::MalformedName { offset: 0 }.into(), "malformed_name"),
            (KeyError::NoPemBlock.into(), "no_pem_block"),
            (
                KeyError::BadPem {
                    label: "CERTIFICATE".into(),
                    reason: String::new(),
                }
                .into(),
                "bad_pem",
            ),
            (
                KeyError::UnexpectedPemLabel {
                    label: "PRIVATE KEY".into(),
                }
                .into(),
                "unexpected_pem_label",
            ),
            (
                KeyError::BadCertificate {
                    reason: String::new(),
                }
                .into(),
                "bad_certificate",
            ),
            (
                KeyError::BadPublicKey {
                    reason: String::new(),
                }
                .into(),
                "bad_public_key",
            ),
            (
                KeyError::UnsupportedKeyType { oid: "1.2".into() }.into(),
                "unsupported_key_type",
            ),
            (
                KeyError::WeakDecryptionKey {
                    bits: 1024,
                    min: 2048,
                }
                .into(),
                "weak_decryption_key",
            ),
            (
                VerifyError::MissingSignature {
                    element: "Response".into(),
                    hint: None,
                }
                .into(),
                "unsigned",
            ),
            (
                VerifyError::MultipleSignatures {
                    element: "Response".into(),
                    count: 2,
                }
                .into(),
                "multiple_signatures",
            ),
            (
                VerifyError::Malformed {
                    reason: String::new(),
                }
                .into(),
                "signature_malformed",
            ),
            (
                VerifyError::UnsupportedAlgorithm {
                    role: AlgorithmRole::Signature,
                    uri: String::new(),
                    allowed: "",
                }
                .into(),
                "algorithm_unsupported",
            ),
            (
                VerifyError::AlgorithmRefused {
                    role: AlgorithmRole::Digest,
                    uri: String::new(),
                    reason: "",
                }
                .into(),
                "algorithm_refused",
            ),
            (VerifyError::ReferenceUri { uri: None }.into(), "reference_uri"),
            (
                VerifyError::ReferenceNotFound { id: "x".into() }.into(),
                "reference_not_found",
            ),
            (
                VerifyError::DuplicateId {
                    id: "x".into(),
                    count: 2,
                }
                .into(),
                "duplicate_id",
            ),
            (
                VerifyError::WrongReference {
                    expected: String::new(),
                    covered: String::new(),
                }
                .into(),
                "wrong_reference",
            ),
            (
                VerifyError::BadBase64 {
                    element: "DigestValue",
                    reason: String::new(),
                }
                .into(),
                "bad_base64",
            ),
            (
                VerifyError::DigestMismatch {
                    id: "x".into(),
                    algorithm: "SHA-256",
                }
                .into(),
                "digest_mismatch",
            ),
            (
                VerifyError::SignatureInvalid {
                    keyinfo_certificate: None,
                    keyinfo_trusted: false,
                    pinned: Vec::new(),
                }
                .into(),
                "signature_invalid",
            ),
            (
                VerifyError::NoUsableKey {
                    algorithm: "ECDSA-SHA256",
                    pinned: 1,
                }
                .into(),
                "no_usable_key",
            ),
            (
                VerifyError::WeakKey {
                    fingerprint: Fingerprint([0; 32]),
                    bits: 1024,
                    min: 2048,
                }
                .into(),
                "weak_key",
            ),
            (
                VerifyError::C14n(C14nError::RelativeNamespaceUri {
                    prefix: Some("p".into()),
                    uri: "x".into(),
                })
                .into(),
                "relative_namespace_uri",
            ),
        ];
        for (error, expected) in &cases {
            assert_eq!(error.code(), *expected, "{error:?}");
            assert!(is_snake_case(expected), "{expected}");
        }
    }

    #[test]
    fn xml_encryption_and_signing_errors_have_their_codes() {
        let cases: Vec<(&'static str, &str)> = vec![
            (
                XmlEncError::Malformed {
                    reason: String::new(),
                }
                .code(),
                "encryption_malformed",
            ),
            (
                XmlEncError::UnsupportedAlgorithm {
                    role: "key transport",
                    uri: String::new(),
                }
                .code(),
                "algorithm_unsupported",
            ),
            (
                XmlEncError::Refused {
                    uri: String::new(),
                    reason: "",
                }
                .code(),
                "algorithm_refused",
            ),
            (XmlEncError::NoEncryptedKey.code(), "encrypted_key_missing"),
            (XmlEncError::DecryptionFailed.code(), "decryption_failed"),
            (
                SignError::AlreadySigned { id: "x".into() }.code(),
                "already_signed",
            ),
            (
                SignError::Key {
                    key: "RSA-2048".into(),
                    algorithm: "ECDSA-SHA256".into(),
                }
                .code(),
                "signing_key_unsuitable",
            ),
            (
                SignError::C14n(C14nError::EmptyOutput).code(),
                "empty_canonical_output",
            ),
        ];
        for (code, expected) in cases {
            assert_eq!(code, expected);
            assert!(is_snake_case(code), "{code}");
        }
    }
}
