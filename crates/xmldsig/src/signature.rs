//! Strict reading of the `ds:Signature` structure. Everything not needed for an enveloped,
//! same-document signature is refused rather than ignored.

use base64::Engine as _;
use roxmltree::{Node, NodeType};

use crate::c14n::{Algorithm, Method, EXC_C14N_NS};
use crate::error::{AlgorithmRole, VerifyError};

/// The XML-DSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The enveloped-signature transform.
pub const ENVELOPED_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

const TRANSFORMS_ALLOWED: &str = "only enveloped-signature and the Canonical XML 1.0 / Exclusive C14N 1.0 \
transforms are allowed (XPath, XPointer, XSLT, Base64 and others are refused)";
const C14N_ALLOWED: &str =
    "use Exclusive C14N (http://www.w3.org/2001/10/xml-exc-c14n#) or Canonical XML 1.0, \
with or without comments";

/// A `ds:Signature` whose structure passed the checks, with its values decoded.
pub(crate) struct ParsedSignature<'a, 'i> {
    pub(crate) signed_info: Node<'a, 'i>,
    pub(crate) c14n: Method,
    pub(crate) signature_method: &'a str,
    pub(crate) reference: ParsedReference<'a>,
    pub(crate) signature_value: Vec<u8>,
    /// DER of each `KeyInfo/X509Data/X509Certificate` (untrusted hints).
    pub(crate) keyinfo_certificates: Vec<Vec<u8>>,
}

pub(crate) struct ParsedReference<'a> {
    pub(crate) id: &'a str,
    pub(crate) enveloped: bool,
    pub(crate) c14n: Method,
    pub(crate) digest_method: &'a str,
    pub(crate) digest_value: Vec<u8>,
}

fn malformed(reason: impl Into<String>) -> VerifyError {
    VerifyError::Malformed {
        reason: reason.into(),
    }
}

fn is_dsig(node: Node<'_, '_>, local: &str) -> bool {
    node.is_element() && node.tag_name().namespace() == Some(DSIG_NS) && node.tag_name().name() == local
}

/// Whether `node` is a `ds:Signature` element.
pub fn is_signature(node: Node<'_, '_>) -> bool {
    is_dsig(node, "Signature")
}

/// The element children of `node`, refusing non-whitespace text and processing instructions
/// (comments are ignored: they are never part of what is verified here).
fn element_children<'a, 'i>(node: Node<'a, 'i>, context: &str) -> Result<Vec<Node<'a, 'i>>, VerifyError> {
    let mut out = Vec::new();
    for child in node.children() {
        match child.node_type() {
            NodeType::Element => out.push(child),
            NodeType::Text => {
                if !child
                    .text()
                    .unwrap_or_default()
                    .trim_matches([' ', '\t', '\r', '\n'])
                    .is_empty()
                {
                    return Err(malformed(format!("unexpected text inside {context}")));
                }
            }
            NodeType::Comment => {}
            NodeType::PI | NodeType::Root => {
                return Err(malformed(format!(
                    "unexpected processing instruction inside {context}"
                )))
            }
        }
    }
    Ok(out)
}

fn name_of(node: Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(DSIG_NS) => format!("ds:{}", node.tag_name().name()),
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_owned(),
    }
}

fn expect_dsig<'a, 'i>(
    children: &[Node<'a, 'i>],
    index: usize,
    local: &str,
    parent: &str,
) -> Result<Node<'a, 'i>, VerifyError> {
    match children.get(index) {
        Some(&n) if is_dsig(n, local) => Ok(n),
        Some(&n) => Err(malformed(format!(
            "{parent} must contain ds:{local} at position {}, found {}",
            index + 1,
            name_of(n)
        ))),
        None => Err(malformed(format!("{parent} has no ds:{local}"))),
    }
}

fn algorithm_attr<'a>(node: Node<'a, '_>) -> Result<&'a str, VerifyError> {
    node.attribute("Algorithm")
        .ok_or_else(|| malformed(format!("{} has no Algorithm attribute", name_of(node))))
}

/// Only the named attributes may appear on `node`.
fn only_attributes(node: Node<'_, '_>, allowed: &[&str]) -> Result<(), VerifyError> {
    for a in node.attributes() {
        if a.namespace().is_some() || !allowed.contains(&a.name()) {
            return Err(malformed(format!(
                "unexpected attribute {} on {}",
                a.name(),
                name_of(node)
            )));
        }
    }
    Ok(())
}

/// A canonicalization method element (CanonicalizationMethod, or a c14n Transform): the
/// algorithm and, for exclusive c14n, an optional `ec:InclusiveNamespaces` child.
fn c14n_method(node: Node<'_, '_>, uri: &str, role: AlgorithmRole) -> Result<Method, VerifyError> {
    let algorithm = Algorithm::from_uri(uri).ok_or_else(|| VerifyError::UnsupportedAlgorithm {
        role,
        uri: uri.to_owned(),
        allowed: if role == AlgorithmRole::Transform {
            TRANSFORMS_ALLOWED
        } else {
            C14N_ALLOWED
        },
    })?;
    let children = element_children(node, &name_of(node))?;
    match children.as_slice() {
        [] => Ok(Method::new(algorithm)),
        [inc]
            if algorithm.is_exclusive()
                && inc.tag_name().namespace() == Some(EXC_C14N_NS)
                && inc.tag_name().name() == "InclusiveNamespaces" =>
        {
            only_attributes(*inc, &["PrefixList"])?;
            if !element_children(*inc, "ec:InclusiveNamespaces")?.is_empty() {
                return Err(malformed("ec:InclusiveNamespaces must be empty"));
            }
            let list = inc.attribute("PrefixList").unwrap_or_default();
            Ok(Method::with_prefix_list(algorithm, list))
        }
        [other, ..] => Err(malformed(format!(
            "unexpected {} inside {}",
            name_of(*other),
            name_of(node)
        ))),
    }
}

/// Decodes the base64 content of `DigestValue` / `SignatureValue`: text only, no child
/// elements, comments or processing instructions, whitespace allowed anywhere.
fn base64_content(node: Node<'_, '_>, element: &'static str) -> Result<Vec<u8>, VerifyError> {
    let mut text = String::new();
    for child in node.children() {
        match child.node_type() {
            NodeType::Text => text.push_str(child.text().unwrap_or_default()),
            _ => {
                return Err(VerifyError::BadBase64 {
                    element,
                    reason: "it contains markup (an element, comment or processing instruction)".to_owned(),
                })
            }
        }
    }
    let compact: Vec<u8> = text
        .bytes()
        .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .collect();
    if compact.is_empty() {
        return Err(VerifyError::BadBase64 {
            element,
            reason: "it is empty".to_owned(),
        });
    }
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| VerifyError::BadBase64 {
            element,
            reason: e.to_string(),
        })
}

/// The ID a Reference URI names: the exact value after `#`, whatever its characters. IDs
/// are looked up by value (and must be unique in the document), so an ID that is not an
/// XML `NCName`, such as a UUID starting with a digit as some IdPs issue, still resolves;
/// every other URI form is refused, and [`VerifyError::ReferenceUri`] names which one it is.
fn reference_id(uri: Option<&str>) -> Result<&str, VerifyError> {
    let bad = || VerifyError::ReferenceUri {
        uri: uri.map(str::to_owned),
    };
    let id = uri.and_then(|u| u.strip_prefix('#')).ok_or_else(bad)?;
    if id.is_empty() || id.starts_with("xpointer(") {
        return Err(bad());
    }
    Ok(id)
}

fn parse_reference<'a>(reference: Node<'a, '_>) -> Result<ParsedReference<'a>, VerifyError> {
    only_attributes(reference, &["URI", "Id", "Type"])?;
    let id = reference_id(reference.attribute("URI"))?;
    let children = element_children(reference, "ds:Reference")?;
    let mut index = 0;
    let mut enveloped = false;
    let mut c14n: Option<Method> = None;
    if children.first().is_some_and(|&n| is_dsig(n, "Transforms")) {
        let transforms_node = children
            .first()
            .copied()
            .ok_or_else(|| malformed("ds:Transforms vanished"))?;
        only_attributes(transforms_node, &[])?;
        let transforms = element_children(transforms_node, "ds:Transforms")?;
        if transforms.is_empty() {
            return Err(malformed("ds:Transforms is empty"));
        }
        // Named before the order checks, which would otherwise blame the position of one copy.
        let enveloped_count = transforms
            .iter()
            .filter(|t| is_dsig(**t, "Transform") && t.attribute("Algorithm") == Some(ENVELOPED_SIGNATURE))
            .count();
        if enveloped_count > 1 {
            return Err(malformed(format!(
                "the enveloped-signature transform appears {} in ds:Transforms; it must appear exactly once, as the first transform",
                if enveloped_count == 2 { "twice".to_owned() } else { format!("{enveloped_count} times") }
            )));
        }
        for (i, &t) in transforms.iter().enumerate() {
            if !is_dsig(t, "Transform") {
                return Err(malformed(format!(
                    "unexpected {} inside ds:Transforms",
                    name_of(t)
                )));
            }
            only_attributes(t, &["Algorithm"])?;
            let uri = algorithm_attr(t)?;
            if uri == ENVELOPED_SIGNATURE {
                if i != 0 {
                    return Err(malformed(
                        "the enveloped-signature transform must be the first transform",
                    ));
                }
                if !element_children(t, "ds:Transform")?.is_empty() {
                    return Err(malformed("the enveloped-signature transform takes no parameters"));
                }
                enveloped = true;
            } else {
                // An unknown transform (XPath, XSLT, Base64…) is reported as such, wherever it
                // stands.
                let method = c14n_method(t, uri, AlgorithmRole::Transform)?;
                if c14n.is_some() {
                    return Err(malformed("more than one canonicalization transform"));
                }
                if i + 1 != transforms.len() {
                    return Err(malformed(
                        "the canonicalization transform must be the last transform",
                    ));
                }
                c14n = Some(method);
            }
        }
        index = 1;
    }
    let digest_method = expect_dsig(&children, index, "DigestMethod", "ds:Reference")?;
    only_attributes(digest_method, &["Algorithm"])?;
    if !element_children(digest_method, "ds:DigestMethod")?.is_empty() {
        return Err(malformed("ds:DigestMethod takes no parameters"));
    }
    let digest_value = expect_dsig(&children, index + 1, "DigestValue", "ds:Reference")?;
    only_attributes(digest_value, &[])?;
    if let Some(extra) = children.get(index + 2) {
        return Err(malformed(format!(
            "unexpected {} after ds:DigestValue",
            name_of(*extra)
        )));
    }
    Ok(ParsedReference {
        id,
        enveloped,
        // Without a canonicalization transform, the node-set becomes octets by Canonical XML
        // 1.0 without comments (XML-DSig §4.3.3.2).
        c14n: c14n.unwrap_or_else(|| Method::new(Algorithm::Inclusive)),
        digest_method: algorithm_attr(digest_method)?,
        digest_value: base64_content(digest_value, "DigestValue")?,
    })
}

/// Reads a `ds:Signature` element strictly.
pub(crate) fn parse_signature<'a, 'i>(
    signature: Node<'a, 'i>,
) -> Result<ParsedSignature<'a, 'i>, VerifyError> {
    if !is_signature(signature) {
        return Err(malformed(format!(
            "expected ds:Signature, found {}",
            name_of(signature)
        )));
    }
    only_attributes(signature, &["Id"])?;
    let children = element_children(signature, "ds:Signature")?;
    let signed_info = expect_dsig(&children, 0, "SignedInfo", "ds:Signature")?;
    let signature_value_node = expect_dsig(&children, 1, "SignatureValue", "ds:Signature")?;
    let mut keyinfo = None;
    for (i, &child) in children.iter().enumerate().skip(2) {
        if is_dsig(child, "KeyInfo") && i == 2 {
            keyinfo = Some(child);
        } else if !is_dsig(child, "Object") {
            return Err(malformed(format!(
                "unexpected {} inside ds:Signature (allowed: one SignedInfo, one SignatureValue, at most one KeyInfo, then Objects)",
                name_of(child)
            )));
        }
    }

    only_attributes(signed_info, &["Id"])?;
    let si_children = element_children(signed_info, "ds:SignedInfo")?;
    let c14n_node = expect_dsig(&si_children, 0, "CanonicalizationMethod", "ds:SignedInfo")?;
    only_attributes(c14n_node, &["Algorithm"])?;
    let c14n = c14n_method(
        c14n_node,
        algorithm_attr(c14n_node)?,
        AlgorithmRole::Canonicalization,
    )?;
    let sm_node = expect_dsig(&si_children, 1, "SignatureMethod", "ds:SignedInfo")?;
    only_attributes(sm_node, &["Algorithm"])?;
    let signature_method = algorithm_attr(sm_node)?;
    if !element_children(sm_node, "ds:SignatureMethod")?.is_empty() {
        return Err(malformed(
            "ds:SignatureMethod has parameters (such as HMACOutputLength or RSA-PSS parameters); none are accepted",
        ));
    }
    let references: Vec<Node<'a, 'i>> = si_children.iter().skip(2).copied().collect();
    if let Some(other) = references.iter().find(|n| !is_dsig(**n, "Reference")) {
        return Err(malformed(format!(
            "unexpected {} inside ds:SignedInfo",
            name_of(*other)
        )));
    }
    let reference = match references.as_slice() {
        [one] => parse_reference(*one)?,
        [] => return Err(malformed("ds:SignedInfo has no ds:Reference")),
        many => {
            return Err(malformed(format!(
                "ds:SignedInfo has {} ds:Reference elements; exactly one is allowed",
                many.len()
            )))
        }
    };

    only_attributes(signature_value_node, &["Id"])?;
    let signature_value = base64_content(signature_value_node, "SignatureValue")?;

    let mut keyinfo_certificates = Vec::new();
    if let Some(ki) = keyinfo {
        for cert in ki
            .descendants()
            .filter(|n| is_dsig(*n, "X509Certificate") && n.parent().is_some_and(|p| is_dsig(p, "X509Data")))
        {
            // KeyInfo is only a hint; an undecodable certificate is simply not a hint.
            if let Ok(der) = base64_content(cert, "X509Certificate") {
                keyinfo_certificates.push(der);
            }
        }
    }

    Ok(ParsedSignature {
        signed_info,
        c14n,
        signature_method,
        reference,
        signature_value,
        keyinfo_certificates,
    })
}
