//! Human and JSON rendering, and the stable error codes.
//!
//! Every failure the CLI reports carries a stable `snake_case` code. Codes for library errors
//! come from the libraries (`code()`, through [`error_code`]); the CLI adds [`IO_ERROR`], [`NO_SIGNATURE`], [`BAD_PEM`] (for a
//! PEM file that is not text) and [`USAGE_ERROR`].

use std::io::Write as _;

use fedkit_xmldsig::Error;
use serde::Serialize;

/// A file could not be read (missing, permission denied, a directory, ...). Exit 1.
pub(crate) const IO_ERROR: &str = "io_error";
/// `dsig verify` found no `ds:Signature` in the document (the code fedkit-xmldsig gives
/// `VerifyError::MissingSignature`). Exit 1.
pub(crate) const NO_SIGNATURE: &str = "unsigned";
/// A PEM block is damaged, or the PEM file is not text. Exit 1.
pub(crate) const BAD_PEM: &str = "bad_pem";
/// The command line is wrong (unknown flag, missing argument, conflicting options). Exit 2.
pub(crate) const USAGE_ERROR: &str = "usage_error";

/// The stable code of a library error: fedkit-xmldsig's own ([`Error::code`]), so the CLI and
/// fedkit-saml spell each condition the same way.
pub(crate) fn error_code(error: &Error) -> &'static str {
    error.code()
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
    use fedkit_xmldsig::{KeyError, VerifyError};

    #[test]
    fn the_cli_codes_are_snake_case_and_the_library_gives_the_rest() {
        for code in [IO_ERROR, NO_SIGNATURE, BAD_PEM, USAGE_ERROR] {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code}"
            );
        }
        // The CLI's own codes for conditions the library also names are the library's.
        let missing: Error = VerifyError::MissingSignature {
            element: "Response".into(),
            hint: None,
        }
        .into();
        assert_eq!(error_code(&missing), NO_SIGNATURE);
        let pem: Error = KeyError::BadPem {
            label: "CERTIFICATE".into(),
            reason: String::new(),
        }
        .into();
        assert_eq!(error_code(&pem), BAD_PEM);
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
