//! libxmlsec1 and libxml2, through the `xmlsec` and `libxml` crates, as a test oracle.
//!
//! Nothing here is linked into a published library: these crates are optional dependencies of
//! the unpublished fedkit-xmlsec-oracle crate (feature `libxmlsec1`), used only by its tests,
//! benches and example.
//!
//! libxml2 and libxmlsec1 keep global state (parser initialisation, the xmlsec crypto
//! engine, error callbacks), and the Rust wrappers hand out `Rc`-based, `!Send` documents, so
//! every call into them goes through one process-wide lock ([`with_oracle`]) and nothing
//! created inside it escapes.

use std::sync::{Mutex, MutexGuard, PoisonError};

use fedkit_xmldsig::c14n::Algorithm;
use fedkit_xmldsig::roxmltree;
use libxml::parser::{Parser, ParserOptions};
use libxml::tree::c14n::{CanonicalizationMode, CanonicalizationOptions};
use libxml::tree::{Document as XmlDocument, Node as XmlNode};
use libxml::xpath::Context;
use xmlsec::{XmlSecDocumentExt, XmlSecKey, XmlSecKeyFormat, XmlSecSignatureContext};

pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub(crate) const SAMLP_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub(crate) const SAML_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

static LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` holding the process-wide libxml2/libxmlsec1 lock. A test that panicked while
/// holding it does not poison the oracle for the others: the lock protects no Rust data.
pub(crate) fn with_oracle<R>(f: impl FnOnce() -> R) -> R {
    let _guard: MutexGuard<'_, ()> = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    f()
}

/// An element, named by a path of `(namespace, local name)` steps from the document element:
/// the document element must match the first step, and each further step selects the
/// *first* matching child element. Both verifiers locate the signed element this way, so
/// they are always asked about the same element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ElementPath(pub &'static [(&'static str, &'static str)]);

impl ElementPath {
    /// `/samlp:Response`.
    pub(crate) const RESPONSE: ElementPath = ElementPath(&[(SAMLP_NS, "Response")]);
    /// `/samlp:Response/saml:Assertion[1]`.
    pub(crate) const ASSERTION: ElementPath = ElementPath(&[(SAMLP_NS, "Response"), (SAML_NS, "Assertion")]);

    fn step(ns: &str, local: &str) -> String {
        format!("*[namespace-uri()='{ns}' and local-name()='{local}']")
    }

    /// The equivalent XPath 1.0 expression.
    pub(crate) fn xpath(&self) -> String {
        let mut out = String::new();
        for (i, (ns, local)) in self.0.iter().enumerate() {
            out.push('/');
            out.push_str(&Self::step(ns, local));
            if i > 0 {
                out.push_str("[1]");
            }
        }
        out
    }

    /// The element in a tree parsed by fedkit-xmldsig.
    pub(crate) fn find<'a, 'i>(
        &self,
        doc: &'a fedkit_xmldsig::Document<'i>,
    ) -> Option<roxmltree::Node<'a, 'i>> {
        let is = |n: &roxmltree::Node<'_, '_>, (ns, local): (&str, &str)| {
            n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == local
        };
        let mut steps = self.0.iter();
        let first = steps.next()?;
        let mut node = doc.root_element();
        if !is(&node, *first) {
            return None;
        }
        for step in steps {
            node = node.children().find(|c| is(c, *step))?;
        }
        Some(node)
    }
}

/// Which elements carry which ID attribute. libxmlsec1 resolves `URI="#x"` only through IDs
/// registered with libxml2 (as the `xmlsec1 --id-attr:ID` option does); fedkit-xmldsig
/// needs no registration (it treats `ID`, `Id`, `id` and `xml:id` as IDs).
pub(crate) const SAML_IDS: &[(&str, &str, &str)] =
    &[(SAMLP_NS, "Response", "ID"), (SAML_NS, "Assertion", "ID")];

/// Why libxmlsec1 gave no verdict of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OracleError {
    /// libxml2 refused the document (not well-formed, or not UTF-8/declared encoding).
    Parse,
    /// Registering the ID attributes failed: an ID value is carried twice.
    DuplicateId(String),
    /// The element has no `ds:Signature` child.
    NoSignature,
    /// libxmlsec1 could not load the key PEM.
    Key,
    /// `xmlSecDSigCtxVerify` failed: the signature could not be processed (malformed
    /// structure, unresolvable reference, unsupported algorithm, key of the wrong type…).
    Verify,
}

/// libxmlsec1's verdict: `Ok(true)` valid, `Ok(false)` invalid (digest or signature value
/// mismatch), `Err` when it could not process the signature.
pub(crate) type Verdict = Result<bool, OracleError>;

fn parse(xml: &[u8]) -> Option<XmlDocument> {
    let options = ParserOptions {
        // Strict: malformed input is an error, not a "recovered" tree.
        recover: false,
        no_net: true,
        ..ParserOptions::default()
    };
    Parser::default().parse_string_with_options(xml, options).ok()
}

fn register_ids(doc: &XmlDocument, ids: &[(&str, &str, &str)]) -> Result<(), OracleError> {
    for (ns, local, attr) in ids {
        let search = format!("//{}", ElementPath::step(ns, local));
        if let Err(e) = doc.specify_idattr(&search, attr, None) {
            let message = e.to_string();
            // No such element in this (possibly mutated) document: nothing to register.
            if !message.starts_with("Could not find any nodes") {
                return Err(OracleError::DuplicateId(message));
            }
        }
    }
    Ok(())
}

fn nodes(doc: &XmlDocument, xpath: &str) -> Vec<XmlNode> {
    let context = Context::new(doc).expect("libxml2 XPath context");
    context
        .register_namespace("ds", DSIG_NS)
        .expect("register ds namespace");
    context
        .evaluate(xpath)
        .map(|o| o.get_nodes_as_vec())
        .unwrap_or_default()
}

fn key_format(pem: &str) -> XmlSecKeyFormat {
    if pem.contains("-----BEGIN CERTIFICATE-----") {
        XmlSecKeyFormat::CertPem
    } else {
        // Private keys and `BEGIN PUBLIC KEY`: libxmlsec1 tries the private key first.
        XmlSecKeyFormat::Pem
    }
}

/// libxmlsec1's verdict on the `ds:Signature` that is a child of `element` (the first one,
/// if there are several), trusting only the key in `key_pem`.
///
/// The key is set on the signature context before verification and the context has no keys
/// manager, so libxmlsec1 never reads `KeyInfo` (`xmlSecDSigCtxProcessKeyInfoNode` only
/// consults KeyInfo when no key is set): a certificate in the document cannot become trusted.
pub(crate) fn verify(xml: &[u8], key_pem: &str, element: ElementPath, ids: &[(&str, &str, &str)]) -> Verdict {
    with_oracle(|| {
        let doc = parse(xml).ok_or(OracleError::Parse)?;
        register_ids(&doc, ids)?;
        let xpath = format!("{}/ds:Signature", element.xpath());
        let signature = nodes(&doc, &xpath)
            .into_iter()
            .next()
            .ok_or(OracleError::NoSignature)?;
        let key = XmlSecKey::from_memory(key_pem.as_bytes(), key_format(key_pem), None)
            .map_err(|_| OracleError::Key)?;
        let mut ctx = XmlSecSignatureContext::new();
        ctx.insert_key(key);
        ctx.verify_node(&signature).map_err(|_| OracleError::Verify)
    })
}

fn replace_first_empty(text: &mut String, element: &str, value: &str) {
    let empty = format!("<ds:{element}></ds:{element}>");
    let at = text
        .find(&empty)
        .unwrap_or_else(|| panic!("template lacks a placeholder {empty}"));
    let filled = format!("<ds:{element}>{value}</ds:{element}>");
    text.replace_range(at..at + empty.len(), &filled);
}

/// Signs every `ds:Signature` template in `template` with the private key `key_pem`, using
/// libxmlsec1, and returns the template text with the computed `DigestValue`s and
/// `SignatureValue`s filled in.
///
/// The rest of the document is kept byte for byte as written (quote styles, character
/// references, CDATA sections, whitespace inside tags), so the signed document exercises the
/// verifier's parser and canonicalizer exactly as the template was written; libxml2's
/// re-serialization would normalize much of that away. Signatures are computed in reverse
/// document order, so a signature over an element that contains another signature (a
/// Response around a signed Assertion) covers the final inner values.
///
/// Placeholders are `<ds:DigestValue></ds:DigestValue>` (one per Reference) and
/// `<ds:SignatureValue></ds:SignatureValue>`, with the `ds` prefix; each kind is filled in
/// document order.
pub(crate) fn sign(template: &str, key_pem: &str, ids: &[(&str, &str, &str)]) -> String {
    with_oracle(|| {
        let doc = parse(template.as_bytes()).expect("libxml2 parses the template");
        register_ids(&doc, ids).expect("template IDs are unique");
        let key = XmlSecKey::from_memory(key_pem.as_bytes(), XmlSecKeyFormat::Pem, None)
            .expect("libxmlsec1 loads the private key");
        let signatures = nodes(&doc, "//ds:Signature");
        assert!(!signatures.is_empty(), "template has no ds:Signature");
        for signature in signatures.iter().rev() {
            let mut ctx = XmlSecSignatureContext::new();
            ctx.insert_key(key.clone());
            ctx.sign_node(signature).expect("libxmlsec1 signs the template");
        }
        let digests = nodes(&doc, "//ds:Signature/ds:SignedInfo/ds:Reference/ds:DigestValue");
        let values = nodes(&doc, "//ds:Signature/ds:SignatureValue");
        let mut out = template.to_owned();
        for digest in &digests {
            replace_first_empty(&mut out, "DigestValue", &digest.get_content());
        }
        for value in &values {
            replace_first_empty(&mut out, "SignatureValue", &value.get_content());
        }
        out
    })
}

fn c14n_options(algorithm: Algorithm, prefixes: &[&str]) -> CanonicalizationOptions {
    let (mode, with_comments) = match algorithm {
        Algorithm::Inclusive => (CanonicalizationMode::Canonical1_0, false),
        Algorithm::InclusiveWithComments => (CanonicalizationMode::Canonical1_0, true),
        Algorithm::Exclusive => (CanonicalizationMode::ExclusiveCanonical1_0, false),
        Algorithm::ExclusiveWithComments => (CanonicalizationMode::ExclusiveCanonical1_0, true),
        other => panic!("no libxml2 equivalent for {other:?}"),
    };
    CanonicalizationOptions {
        mode,
        with_comments,
        inclusive_ns_prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// Why libxml2 produced no canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum C14nOracleError {
    /// libxml2 refused the document.
    Parse,
    /// The element path matched nothing.
    NoElement,
    /// `xmlC14NExecute` failed (for example a relative namespace URI).
    C14n,
}

/// libxml2's canonical form (`xmlC14NExecute`, the canonicalizer libxmlsec1 digests with) of
/// the whole document, or of the subtree at `element` (the element, its descendants with
/// comments per `algorithm`, and for inclusive c14n what it inherits from its ancestors).
pub(crate) fn canonicalize(
    xml: &[u8],
    element: Option<ElementPath>,
    algorithm: Algorithm,
    prefixes: &[&str],
) -> Result<String, C14nOracleError> {
    with_oracle(|| {
        let doc = parse(xml).ok_or(C14nOracleError::Parse)?;
        let options = c14n_options(algorithm, prefixes);
        let out = match element {
            None => doc.canonicalize(options, None),
            Some(path) => {
                let mut node = nodes(&doc, &path.xpath())
                    .into_iter()
                    .next()
                    .ok_or(C14nOracleError::NoElement)?;
                node.canonicalize(options)
            }
        };
        out.map_err(|()| C14nOracleError::C14n)
    })
}
