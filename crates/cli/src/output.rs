//! Human and JSON rendering, and the stable error codes.
//!
//! Every failure the CLI reports carries a stable `snake_case` code. Codes for library errors
//! come from [`error_code`]; the CLI adds [`IO_ERROR`], [`NO_SIGNATURE`], [`BAD_PEM`] (for a
//! PEM file that is not text) and [`USAGE_ERROR`].

use std::io::Write as _;

use fedkit_xmldsig::{C14nError, Error, KeyError, ParseError, VerifyError};
use serde::Serialize;

/// A file could not be read (missing, permission denied, a directory, ...). Exit 1.
pub(crate) const IO_ERROR: &str = "io_error";
/// `dsig verify` found no `ds:Signature` in the document. Exit 1.
pub(crate) const NO_SIGNATURE: &str = "no_signature";
/// A PEM block is damaged, or the PEM file is not text. Exit 1.
pub(crate) const BAD_PEM: &str = "bad_pem";
/// The command line is wrong (unknown flag, missing argument, conflicting options). Exit 2.
pub(crate) const USAGE_ERROR: &str = "usage_error";

/// The stable code of a library error: one code per error variant, never renamed.
///
/// The library's error enums are `#[non_exhaustive]`: a variant added later maps to the
/// generic code of its family (`parse_error`, `c14n_error`, `key_error`, `verify_error`) until
/// it is given its own code here.
pub(crate) fn error_code(error: &Error) -> &'static str {
    match error {
        Error::Parse(e) => match e {
            ParseError::LimitExceeded { .. } => "limit_exceeded",
            ParseError::DtdNotAllowed { .. } => "dtd_not_allowed",
            ParseError::Syntax { .. } => "parse_error",
            ParseError::Utf16 { .. } => "utf16_encoded",
            _ => "parse_error",
        },
        Error::C14n(e) => c14n_code(e),
        Error::Key(e) => match e {
            KeyError::NoPemBlock => "no_pem_block",
            KeyError::BadPem { .. } => BAD_PEM,
            KeyError::UnexpectedPemLabel { .. } => "unexpected_pem_label",
            KeyError::BadCertificate { .. } => "bad_certificate",
            KeyError::BadPublicKey { .. } => "bad_public_key",
            KeyError::UnsupportedKeyType { .. } => "unsupported_key_type",
            KeyError::WeakDecryptionKey { .. } => "weak_decryption_key",
            KeyError::Crypto(e) => e.code(),
            _ => "key_error",
        },
        Error::Verify(e) => match e {
            VerifyError::MissingSignature { .. } => NO_SIGNATURE,
            VerifyError::MultipleSignatures { .. } => "multiple_signatures",
            VerifyError::Malformed { .. } => "malformed_signature",
            VerifyError::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
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
            // Canonicalization failing inside verification is reported as what it is.
            VerifyError::C14n(e) => c14n_code(e),
            _ => "verify_error",
        },
        _ => "error",
    }
}

fn c14n_code(error: &C14nError) -> &'static str {
    match error {
        C14nError::RelativeNamespaceUri { .. } => "relative_namespace_uri",
        C14nError::EmptyPrefixedNamespace { .. } => "empty_prefixed_namespace",
        C14nError::SubtreeNotFound { .. } => "id_not_found",
        C14nError::DuplicateId { .. } => "duplicate_id",
        C14nError::EmptyOutput => "empty_canonical_output",
        C14nError::MalformedName { .. } => "malformed_name",
        _ => "c14n_error",
    }
}

/// Something the input was judged to be wrong about: a stable code and a message for the
/// administrator. Exit status 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Failure {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A library error, its message prefixed with `context` (usually the file name).
    pub(crate) fn from_error(context: &str, error: impl Into<Error>) -> Self {
        let error = error.into();
        Self::new(error_code(&error), format!("{context}: {error}"))
    }

    /// `{"error": {"code": ..., "message": ...}}`, the JSON document of a failed command.
    pub(crate) fn to_json_document(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Document<'a> {
            error: &'a Failure,
        }
        json_bytes(&Document { error: self })
    }
}

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum CommandError {
    /// The input was judged invalid: exit 1.
    Failure(Failure),
    /// The command line is inconsistent in a way clap cannot express: exit 2.
    Usage {
        /// The subcommand path (`["dsig", "c14n"]`), for the usage line.
        command: &'static [&'static str],
        /// What is wrong.
        message: String,
    },
}

impl From<Failure> for CommandError {
    fn from(f: Failure) -> Self {
        CommandError::Failure(f)
    }
}

/// What a command that ran to the end produced: bytes for stdout and, when the input was
/// rejected, the failure (exit 1). A rejected `dsig verify` still prints its report.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) stdout: Vec<u8>,
    pub(crate) failure: Option<Failure>,
}

impl Output {
    pub(crate) fn success(stdout: Vec<u8>) -> Self {
        Self {
            stdout,
            failure: None,
        }
    }
}

/// One JSON document, pretty-printed, with a final newline. Object keys keep the order of
/// the struct fields, which is the order the help text documents.
pub(crate) fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(value).unwrap_or_else(|e| {
        // Plain structs of strings, numbers and booleans always serialize; keep the output a
        // valid JSON document anyway.
        let message = serde_json::Value::String(e.to_string());
        format!(r#"{{"error":{{"code":"internal_error","message":{message}}}}}"#).into_bytes()
    });
    out.push(b'\n');
    out
}

/// The JSON output of `dsig c14n`.
#[derive(Debug, Serialize)]
pub(crate) struct C14nJson<'a> {
    /// The canonical form.
    pub(crate) canonical: &'a str,
    /// Short algorithm name (`exc`, `c14n`, ...).
    pub(crate) algorithm: &'a str,
    /// Length of the canonical form in bytes.
    pub(crate) bytes: usize,
    /// The InclusiveNamespaces PrefixList applied (exclusive algorithms only).
    pub(crate) prefixes: Vec<&'a str>,
    /// The ID of the canonicalized subtree; `null` for the whole document.
    pub(crate) subtree_id: Option<&'a str>,
}

/// The element a signature covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Covers {
    /// Local name of the covered element, when it could be found.
    pub(crate) element: Option<String>,
    /// The ID the signature's Reference points to.
    pub(crate) id: Option<String>,
    /// Where the element is: local names from the root (`/Response/Assertion`). A signed
    /// element in an unexpected place is how signature wrapping shows.
    pub(crate) path: Option<String>,
}

/// The outcome of one `ds:Signature`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SignatureReport {
    /// 1-based, in document order.
    pub(crate) index: usize,
    pub(crate) covers: Covers,
    /// For an invalid signature the algorithms are those the signature *declares* (read from
    /// the unverified document); for a valid one, those that were verified.
    pub(crate) signature_algorithm: Option<String>,
    pub(crate) digest_algorithm: Option<String>,
    pub(crate) c14n: Option<String>,
    pub(crate) reference_c14n: Option<String>,
    pub(crate) key_fingerprint: Option<String>,
    pub(crate) key_subject: Option<String>,
    pub(crate) error: Option<Failure>,
}

impl SignatureReport {
    pub(crate) fn valid(&self) -> bool {
        self.error.is_none()
    }

    fn to_json(&self) -> SignatureJson<'_> {
        SignatureJson {
            index: self.index,
            covers: &self.covers,
            valid: self.valid(),
            signature_algorithm: self.signature_algorithm.as_deref(),
            digest_algorithm: self.digest_algorithm.as_deref(),
            c14n: self.c14n.as_deref(),
            reference_c14n: self.reference_c14n.as_deref(),
            key_fingerprint: self.key_fingerprint.as_deref(),
            key_subject: self.key_subject.as_deref(),
            error: self.error.as_ref(),
        }
    }
}

#[derive(Serialize)]
struct SignatureJson<'a> {
    index: usize,
    covers: &'a Covers,
    valid: bool,
    signature_algorithm: Option<&'a str>,
    digest_algorithm: Option<&'a str>,
    c14n: Option<&'a str>,
    reference_c14n: Option<&'a str>,
    key_fingerprint: Option<&'a str>,
    key_subject: Option<&'a str>,
    error: Option<&'a Failure>,
}

#[derive(Serialize)]
struct VerifyJson<'a> {
    valid: bool,
    file: &'a str,
    signatures: Vec<SignatureJson<'a>>,
    error: Option<Failure>,
}

/// The result of `dsig verify` over a whole document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VerifyReport {
    pub(crate) file: String,
    pub(crate) signatures: Vec<SignatureReport>,
}

impl VerifyReport {
    /// Why the document as a whole is rejected: no signature at all, or the first signature
    /// that failed. `None` when every signature verified.
    pub(crate) fn failure(&self) -> Option<Failure> {
        if self.signatures.is_empty() {
            return Some(Failure::new(
                NO_SIGNATURE,
                format!("{}: the document contains no ds:Signature element", self.file),
            ));
        }
        let failed: Vec<&SignatureReport> = self.signatures.iter().filter(|s| !s.valid()).collect();
        let first = failed.first()?;
        let error = first.error.as_ref()?;
        Some(Failure::new(
            error.code,
            format!(
                "{}: {} of {} signature(s) did not verify; signature {}: {}",
                self.file,
                failed.len(),
                self.signatures.len(),
                first.index,
                error.message
            ),
        ))
    }

    /// The JSON document of `dsig verify`.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let error = self.failure();
        json_bytes(&VerifyJson {
            valid: error.is_none(),
            file: &self.file,
            signatures: self.signatures.iter().map(SignatureReport::to_json).collect(),
            error,
        })
    }

    pub(crate) fn to_human(&self) -> String {
        use core::fmt::Write as _;
        let mut out = String::new();
        let total = self.signatures.len();
        for s in &self.signatures {
            let status = if s.valid() { "valid" } else { "INVALID" };
            let _ = writeln!(out, "Signature {} of {total}: {status}", s.index);
            let element = s.covers.element.as_deref().unwrap_or("(element not found)");
            let id = s
                .covers
                .id
                .as_ref()
                .map(|id| format!(" with ID {id:?}"))
                .unwrap_or_default();
            let path = s
                .covers
                .path
                .as_ref()
                .map(|p| format!(" at {p}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  covers:     {element}{id}{path}");
            let unknown = "?";
            let _ = writeln!(
                out,
                "  algorithms: {}, digest {}, c14n {} (reference: {}){}",
                s.signature_algorithm.as_deref().unwrap_or(unknown),
                s.digest_algorithm.as_deref().unwrap_or(unknown),
                s.c14n.as_deref().unwrap_or(unknown),
                s.reference_c14n.as_deref().unwrap_or(unknown),
                if s.valid() {
                    ""
                } else {
                    " [as declared, not verified]"
                }
            );
            if let Some(fp) = &s.key_fingerprint {
                let _ = writeln!(out, "  key:        SHA-256 {fp}");
            }
            if let Some(subject) = &s.key_subject {
                let _ = writeln!(out, "  subject:    {subject}");
            }
            if let Some(e) = &s.error {
                let _ = writeln!(out, "  error:      [{}] {}", e.code, e.message);
            }
        }
        match self.failure() {
            None => {
                let _ = writeln!(out, "{}: all {total} signature(s) valid", self.file);
            }
            Some(_) if total == 0 => {}
            Some(_) => {
                let bad = self.signatures.iter().filter(|s| !s.valid()).count();
                let _ = writeln!(out, "{}: {bad} of {total} signature(s) INVALID", self.file);
            }
        }
        out
    }
}

/// Prints a failure: the JSON error document on stdout, or a message on stderr.
pub(crate) fn report_failure(failure: &Failure, json: bool) {
    if json {
        let _ = write_stdout(&failure.to_json_document());
    } else {
        eprintln!("error: [{}] {}", failure.code, failure.message);
    }
}

/// Writes to stdout; a closed pipe (`fedkit ... | head`) is not an error worth a message.
pub(crate) fn write_stdout(bytes: &[u8]) -> bool {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => {
            eprintln!("error: [{}] cannot write to stdout: {e}", IO_ERROR);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fedkit_xmldsig::{key::Fingerprint, AlgorithmRole, LimitKind};

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
                    limit: LimitKind::Depth,
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
                "parse_error",
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
                KeyError::Crypto(fedkit_xmldsig::crypto::CryptoError::Unsupported {
                    provider: "aws-lc-rs",
                    operation: fedkit_xmldsig::crypto::Operation::TripleDesCbcDecrypt,
                    delegate: Some("rustcrypto"),
                })
                .into(),
                "crypto_unsupported",
            ),
            (
                VerifyError::MissingSignature {
                    element: "Response".into(),
                    hint: None,
                }
                .into(),
                "no_signature",
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
                "malformed_signature",
            ),
            (
                VerifyError::UnsupportedAlgorithm {
                    role: AlgorithmRole::Signature,
                    uri: String::new(),
                    allowed: "",
                }
                .into(),
                "unsupported_algorithm",
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
            assert_eq!(error_code(error), *expected, "{error:?}");
            assert!(is_snake_case(expected), "{expected}");
        }
        for code in [IO_ERROR, NO_SIGNATURE, BAD_PEM, USAGE_ERROR] {
            assert!(is_snake_case(code), "{code}");
        }
    }

    #[test]
    fn report_failure_names_the_first_bad_signature() {
        let ok = SignatureReport {
            index: 1,
            covers: Covers::default(),
            signature_algorithm: None,
            digest_algorithm: None,
            c14n: None,
            reference_c14n: None,
            key_fingerprint: None,
            key_subject: None,
            error: None,
        };
        let bad = SignatureReport {
            index: 2,
            error: Some(Failure::new("digest_mismatch", "modified")),
            ..ok.clone()
        };
        let report = VerifyReport {
            file: "f.xml".into(),
            signatures: vec![ok.clone(), bad],
        };
        let failure = report.failure().unwrap();
        assert_eq!(failure.code, "digest_mismatch");
        assert!(
            failure.message.contains("signature 2: modified"),
            "{}",
            failure.message
        );

        let empty = VerifyReport {
            file: "f.xml".into(),
            signatures: Vec::new(),
        };
        assert_eq!(empty.failure().unwrap().code, NO_SIGNATURE);
        let good = VerifyReport {
            file: "f.xml".into(),
            signatures: vec![ok],
        };
        assert_eq!(good.failure(), None);
        let json: serde_json::Value = serde_json::from_slice(&good.to_json()).unwrap();
        assert_eq!(json["valid"], true);
        assert_eq!(json["signatures"][0]["error"], serde_json::Value::Null);
    }
}
