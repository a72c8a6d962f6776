//! fedkit-xmldsig's verdict on the same question the oracle answers, and the documented
//! divergences: the only cases where it may refuse what libxmlsec1 accepts.

use fedkit_xmldsig::crypto::{all_providers, CryptoProvider};
use fedkit_xmldsig::{AlgorithmPolicy, C14nError, Document, ParseError, TrustedKeys, Verifier, VerifyError};

use super::libxmlsec::{ElementPath, OracleError, Verdict};

/// fedkit-xmldsig's answer for the signature carried by an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ours {
    /// `verify_enveloped` succeeded.
    Accepted,
    /// The hardened parser refused the document.
    Unparsable(ParseError),
    /// The element path matched nothing.
    NoElement,
    /// `verify_enveloped` refused.
    Rejected(VerifyError),
}

impl Ours {
    pub(crate) fn accepted(&self) -> bool {
        *self == Ours::Accepted
    }
}

/// Runs `verify_enveloped` on `element` with `provider`, pinning the keys in `pem`.
pub(crate) fn ours_with(
    xml: &[u8],
    pem: &str,
    element: ElementPath,
    provider: &'static dyn CryptoProvider,
) -> Ours {
    let keys = TrustedKeys::from_pem(pem).expect("test keys parse");
    let verifier = Verifier::new(keys, AlgorithmPolicy::default()).with_provider(provider);
    let doc = match Document::parse_bytes(xml) {
        Ok(doc) => doc,
        Err(e) => return Ours::Unparsable(e),
    };
    let Some(node) = element.find(&doc) else {
        return Ours::NoElement;
    };
    match verifier.verify_enveloped(&doc, node) {
        Ok(_) => Ours::Accepted,
        Err(e) => Ours::Rejected(e),
    }
}

/// Our verdict with every compiled-in provider; they must all agree (the providers only
/// differ in the primitives, so any disagreement is a provider bug).
pub(crate) fn ours(xml: &[u8], pem: &str, element: ElementPath) -> Ours {
    let mut verdicts = all_providers()
        .into_iter()
        .map(|p| (p.name(), ours_with(xml, pem, element, p)));
    let (first_name, first) = verdicts.next().expect("at least one provider");
    for (name, verdict) in verdicts {
        assert_eq!(
            verdict,
            first,
            "providers {first_name} and {name} disagree on\n{}",
            String::from_utf8_lossy(xml)
        );
    }
    first
}

/// Why fedkit-xmldsig may refuse a signature libxmlsec1 accepts: each is a deliberate,
/// documented strictness of fedkit-xmldsig (see its README, "What a signature must look like
/// to be accepted"). Returns `None` when the refusal is not one of them, which makes
/// "libxmlsec1 accepts, we refuse" a disagreement to investigate.
pub(crate) fn stricter_reason(ours: &Ours) -> Option<&'static str> {
    match ours {
        Ours::Accepted | Ours::NoElement => None,
        // roxmltree refuses what libxml2 merely warns about: unbound prefixes, attributes
        // that collide after namespace expansion, `xmlns:p=""` and other namespace errors
        // are recoverable errors in libxml2 (it builds a tree with the names unresolved).
        Ours::Unparsable(ParseError::Syntax { .. }) => Some("parser: namespace well-formedness"),
        // DTDs are refused outright (entity expansion, parser differentials); libxml2 parses
        // them.
        Ours::Unparsable(ParseError::DtdNotAllowed { .. }) => Some("parser: DTD refused"),
        Ours::Unparsable(ParseError::LimitExceeded { .. }) => Some("parser: limits"),
        Ours::Unparsable(_) => None,
        Ours::Rejected(e) => match e {
            // Any ID value carried twice is refused (signature wrapping begins that way);
            // libxmlsec1 resolves the registered one.
            VerifyError::DuplicateId { .. } => Some("duplicate ID"),
            // SHA-1 (by default), HMAC, XPath/XSLT/Base64 and unknown transforms, C14N 1.1.
            VerifyError::UnsupportedAlgorithm { .. } | VerifyError::AlgorithmRefused { .. } => {
                Some("algorithm allow-list")
            }
            // One Reference, Transforms only enveloped + c14n in that order, no unknown
            // children or attributes, no parameters on SignatureMethod…
            VerifyError::Malformed { .. } => Some("strict signature structure"),
            // Comments, elements or PIs inside DigestValue/SignatureValue, and base64 that is
            // not canonical (libxmlsec1's decoder skips what it does not understand).
            VerifyError::BadBase64 { .. } => Some("strict base64 in DigestValue/SignatureValue"),
            // Only same-document `#ID` references.
            VerifyError::ReferenceUri { .. } => Some("reference URI form"),
            // The signature must cover the element that carries it; libxmlsec1 verifies
            // whatever the reference points to.
            VerifyError::WrongReference { .. } | VerifyError::MultipleSignatures { .. } => {
                Some("signature must cover its parent element")
            }
            // `xmlns:p=""` is a namespace error that libxml2 recovers from.
            VerifyError::C14n(C14nError::EmptyPrefixedNamespace { .. }) => {
                Some("parser: namespace well-formedness")
            }
            _ => None,
        },
    }
}

/// How the two verdicts relate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Both accept.
    BothAccept,
    /// Both refuse.
    BothReject,
    /// libxmlsec1 accepts; we refuse for a documented reason.
    Stricter(&'static str),
    /// A disagreement: we accept what libxmlsec1 refuses, or refuse for an undocumented
    /// reason what it accepts.
    Disagreement,
}

/// Compares the verdicts.
pub(crate) fn compare(ours: &Ours, oracle: &Verdict) -> Outcome {
    match (ours.accepted(), oracle) {
        (true, Ok(true)) => Outcome::BothAccept,
        (true, _) => Outcome::Disagreement,
        (false, Ok(true)) => stricter_reason(ours).map_or(Outcome::Disagreement, Outcome::Stricter),
        (false, Ok(false) | Err(_)) => Outcome::BothReject,
    }
}

/// A short label for statistics.
pub(crate) fn label(ours: &Ours, oracle: &Verdict) -> String {
    let ours = match ours {
        Ours::Accepted => "accept".to_owned(),
        Ours::Unparsable(ParseError::Syntax { .. }) => "parse error".to_owned(),
        Ours::Unparsable(e) => format!("parse: {e}"),
        Ours::NoElement => "no element".to_owned(),
        Ours::Rejected(e) => {
            let debug = format!("{e:?}");
            debug.split([' ', '(', '{']).next().unwrap_or_default().to_owned()
        }
    };
    let oracle = match oracle {
        Ok(true) => "valid",
        Ok(false) => "invalid",
        Err(OracleError::Parse) => "unparsable",
        Err(OracleError::DuplicateId(_)) => "duplicate ID",
        Err(OracleError::NoSignature) => "no signature",
        Err(OracleError::Key) => "key error",
        Err(OracleError::Verify) => "error",
    };
    format!("ours {ours} / libxmlsec1 {oracle}")
}
