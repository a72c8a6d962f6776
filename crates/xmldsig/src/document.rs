//! Hardened XML parsing: a linear pre-scan that enforces [`Limits`], then roxmltree with DTDs
//! refused.

use crate::error::ParseError;
use crate::limits::{LimitKind, Limits};

/// A parsed XML document that passed the hardened parser.
///
/// Parsing refuses DTDs (so no entity expansion beyond the five predefined entities and
/// character references), enforces [`Limits`] in a linear pre-scan before any tree is built,
/// and requires namespace-well-formed XML. The same parsed tree is used for canonicalization,
/// signature verification and reading the signed values, so there is no parser differential
/// between what was verified and what is consumed.
///
/// ```
/// use fedkit_xmldsig::Document;
/// let doc = Document::parse("<a xmlns='urn:x'><b/></a>")?;
/// assert_eq!(doc.root_element().tag_name().name(), "a");
///
/// let err = Document::parse("<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>").unwrap_err();
/// assert!(err.to_string().contains("DOCTYPE"));
/// # Ok::<(), fedkit_xmldsig::ParseError>(())
/// ```
pub struct Document<'input> {
    tree: roxmltree::Document<'input>,
}

impl core::fmt::Debug for Document<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Document")
            .field("root", &self.tree.root_element().tag_name())
            .field("bytes", &self.tree.input_text().len())
            .finish()
    }
}

impl<'input> Document<'input> {
    /// Parses `text` with [`Limits::default`].
    pub fn parse(text: &'input str) -> Result<Self, ParseError> {
        Self::parse_with_limits(text, &Limits::default())
    }

    /// Parses UTF-8 bytes with [`Limits::default`]; input that is not UTF-8 is refused.
    pub fn parse_bytes(bytes: &'input [u8]) -> Result<Self, ParseError> {
        Self::parse_bytes_with_limits(bytes, &Limits::default())
    }

    /// Parses UTF-8 bytes with the given limits; input that is not UTF-8 is refused.
    pub fn parse_bytes_with_limits(bytes: &'input [u8], limits: &Limits) -> Result<Self, ParseError> {
        match core::str::from_utf8(bytes) {
            Ok(text) => Self::parse_with_limits(text, limits),
            Err(e) => {
                let (line, column) = text_pos(bytes, e.valid_up_to());
                Err(ParseError::Syntax {
                    message: "the input is not UTF-8".to_owned(),
                    line,
                    column,
                })
            }
        }
    }

    /// Parses `text` with the given limits.
    pub fn parse_with_limits(text: &'input str, limits: &Limits) -> Result<Self, ParseError> {
        prescan(text.as_bytes(), limits)?;
        let options = roxmltree::ParsingOptions {
            allow_dtd: false,
            nodes_limit: limits.max_nodes,
            ..roxmltree::ParsingOptions::default()
        };
        let tree = roxmltree::Document::parse_with_options(text, options)
            .map_err(|e| map_roxmltree_error(text.as_bytes(), limits, e))?;
        Ok(Self { tree })
    }

    /// The underlying read-only tree. Reading it gives *unverified* content: use it to locate
    /// elements and signatures, and read signed values only through
    /// [`Verified`](crate::Verified).
    pub fn tree(&self) -> &roxmltree::Document<'input> {
        &self.tree
    }

    /// The document's root element (unverified).
    pub fn root_element(&self) -> roxmltree::Node<'_, 'input> {
        self.tree.root_element()
    }

    /// The input text this document was parsed from.
    pub fn input_text(&self) -> &'input str {
        self.tree.input_text()
    }

    /// 1-based line and column of a byte offset in the input.
    pub fn text_pos_at(&self, offset: usize) -> (u32, u32) {
        text_pos(self.input_text().as_bytes(), offset)
    }
}

/// 1-based line and column (in characters) of byte `offset`.
pub(crate) fn text_pos(bytes: &[u8], offset: usize) -> (u32, u32) {
    let offset = offset.min(bytes.len());
    let before = bytes.get(..offset).unwrap_or_default();
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |p| p + 1);
    let col = before
        .get(line_start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    )
}

fn limit_error(bytes: &[u8], offset: usize, limit: LimitKind, max: usize) -> ParseError {
    let (line, column) = text_pos(bytes, offset);
    ParseError::LimitExceeded {
        limit,
        max,
        line,
        column,
    }
}

fn map_roxmltree_error(bytes: &[u8], limits: &Limits, e: roxmltree::Error) -> ParseError {
    match e {
        roxmltree::Error::DtdDetected => {
            let offset = memchr::memmem::find(bytes, b"<!DOCTYPE").unwrap_or(0);
            let (line, column) = text_pos(bytes, offset);
            ParseError::DtdNotAllowed { line, column }
        }
        roxmltree::Error::NodesLimitReached => ParseError::LimitExceeded {
            limit: LimitKind::Nodes,
            max: limits.max_nodes as usize,
            line: 0,
            column: 0,
        },
        other => {
            let pos = other.pos();
            let mut message = other.to_string();
            // roxmltree appends " at L:C"; the position is reported separately.
            let suffix = format!(" at {}:{}", pos.row, pos.col);
            if message.ends_with(&suffix) {
                message.truncate(message.len() - suffix.len());
            }
            ParseError::Syntax {
                message,
                line: pos.row,
                column: pos.col,
            }
        }
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A linear scan over the raw bytes that enforces the per-element limits before roxmltree
/// (whose duplicate-attribute and duplicate-namespace checks are quadratic) sees the input.
///
/// For well-formed input its counts are exact; for malformed input it may count differently
/// from the parser, which then reports the syntax error. It never accepts what the parser
/// would refuse: it only refuses earlier.
fn prescan(b: &[u8], limits: &Limits) -> Result<(), ParseError> {
    if b.len() > limits.max_bytes {
        return Err(limit_error(
            b,
            limits.max_bytes,
            LimitKind::Bytes,
            limits.max_bytes,
        ));
    }
    let find = |needle: &[u8], from: usize| -> Option<usize> {
        b.get(from..)
            .and_then(|rest| memchr::memmem::find(rest, needle))
            .map(|p| p + from)
    };
    // Namespace declarations of each open element, for the in-scope limit.
    let mut open_decls: Vec<usize> = Vec::new();
    let mut in_scope = 0usize;
    let mut i = 0usize;
    while let Some(off) = b.get(i..).and_then(|rest| memchr::memchr(b'<', rest)) {
        i += off;
        let rest = b.get(i..).unwrap_or_default();
        if rest.starts_with(b"<!--") {
            match find(b"-->", i + 4) {
                Some(end) => i = end + 3,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"<![CDATA[") {
            match find(b"]]>", i + 9) {
                Some(end) => i = end + 3,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"<?") {
            match find(b"?>", i + 2) {
                Some(end) => i = end + 2,
                None => return Ok(()),
            }
        } else if rest.starts_with(b"<!") {
            let (line, column) = text_pos(b, i);
            return Err(ParseError::DtdNotAllowed { line, column });
        } else if rest.starts_with(b"</") {
            match find(b">", i + 2) {
                Some(end) => i = end + 1,
                None => return Ok(()),
            }
            in_scope -= open_decls.pop().unwrap_or(0);
        } else {
            // A start tag: count attributes and namespace declarations up to the closing '>'.
            let start = i;
            let mut j = i + 1;
            let mut attributes = 0usize;
            let mut decls = 0usize;
            let mut after_space = false;
            loop {
                let Some(&c) = b.get(j) else {
                    return Ok(()); // unterminated; the parser reports it
                };
                match c {
                    b'"' | b'\'' => {
                        match b.get(j + 1..).and_then(|r| memchr::memchr(c, r)) {
                            Some(p) => j += p + 2,
                            None => return Ok(()),
                        }
                        after_space = false;
                        continue;
                    }
                    b'>' => break,
                    c if is_xml_space(c) => after_space = true,
                    b'/' | b'=' => after_space = false,
                    _ => {
                        if after_space {
                            let name = b.get(j..).unwrap_or_default();
                            let is_decl = name.starts_with(b"xmlns")
                                && name
                                    .get(5)
                                    .is_some_and(|&n| n == b':' || n == b'=' || is_xml_space(n));
                            if is_decl {
                                decls += 1;
                                if decls > limits.max_namespace_declarations_per_element {
                                    return Err(limit_error(
                                        b,
                                        j,
                                        LimitKind::NamespaceDeclarationsPerElement,
                                        limits.max_namespace_declarations_per_element,
                                    ));
                                }
                            } else {
                                attributes += 1;
                                if attributes > limits.max_attributes_per_element {
                                    return Err(limit_error(
                                        b,
                                        j,
                                        LimitKind::AttributesPerElement,
                                        limits.max_attributes_per_element,
                                    ));
                                }
                            }
                        }
                        after_space = false;
                    }
                }
                j += 1;
            }
            if in_scope + decls > limits.max_namespaces_in_scope {
                return Err(limit_error(
                    b,
                    start,
                    LimitKind::NamespacesInScope,
                    limits.max_namespaces_in_scope,
                ));
            }
            let self_closing = b.get(j.wrapping_sub(1)) == Some(&b'/') && j > start + 1;
            if open_decls.len() + 1 > limits.max_depth {
                return Err(limit_error(b, start, LimitKind::Depth, limits.max_depth));
            }
            if !self_closing {
                open_decls.push(decls);
                in_scope += decls;
            }
            i = j + 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dtd_with_position() {
        let err =
            Document::parse("<?xml version='1.0'?>\n<!DOCTYPE a [<!ENTITY e 'x'>]>\n<a>&e;</a>").unwrap_err();
        assert_eq!(err, ParseError::DtdNotAllowed { line: 2, column: 1 });
    }

    #[test]
    fn reports_syntax_error_position() {
        let err = Document::parse("<a>\n  <b></c>\n</a>").unwrap_err();
        match err {
            ParseError::Syntax { line, column, .. } => assert_eq!((line, column), (2, 6)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn enforces_depth() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        Document::parse_with_limits("<a><b><c/></b></a>", &limits).unwrap();
        let err = Document::parse_with_limits("<a><b><c><d/></c></b></a>", &limits).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::Depth,
                max: 3,
                ..
            }
        ));
    }

    #[test]
    fn quotes_and_comments_do_not_confuse_the_scan() {
        let limits = Limits {
            max_attributes_per_element: 2,
            ..Limits::default()
        };
        let ok = "<a x='>' y=\"a b=c\"><!-- <b c='1' d='2' e='3'> --><![CDATA[<x a='1' b='2' c='3'>]]></a>";
        assert!(Document::parse_with_limits(ok, &limits).is_ok());
        let err = Document::parse_with_limits("<a x='1'\n y='2'\tz='3'/>", &limits).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::AttributesPerElement,
                line: 2,
                ..
            }
        ));
    }

    #[test]
    fn counts_namespace_declarations_separately() {
        let limits = Limits {
            max_attributes_per_element: 1,
            max_namespace_declarations_per_element: 2,
            ..Limits::default()
        };
        assert!(Document::parse_with_limits("<a xmlns='urn:a' xmlns:b='urn:b' c='1'/>", &limits).is_ok());
        let err = Document::parse_with_limits("<a xmlns='urn:a' xmlns:b='urn:b' xmlns:c='urn:c'/>", &limits)
            .unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::NamespaceDeclarationsPerElement,
                ..
            }
        ));
    }

    #[test]
    fn enforces_namespaces_in_scope() {
        let limits = Limits {
            max_namespaces_in_scope: 2,
            ..Limits::default()
        };
        assert!(Document::parse_with_limits(
            "<a xmlns:x='urn:x'><b xmlns:y='urn:y'/><c xmlns:y='urn:y'/></a>",
            &limits
        )
        .is_ok());
        let err = Document::parse_with_limits(
            "<a xmlns:x='urn:x'><b xmlns:y='urn:y'><c xmlns:z='urn:z'/></b></a>",
            &limits,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::NamespacesInScope,
                ..
            }
        ));
    }

    #[test]
    fn hostile_attribute_floods_are_refused_quickly() {
        let mut doc = String::from("<a");
        for i in 0..50_000 {
            doc.push_str(&format!(" a{i}='v'"));
        }
        doc.push_str("/>");
        let err = Document::parse(&doc).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::AttributesPerElement,
                ..
            }
        ));

        let mut doc = String::from("<a");
        for i in 0..50_000 {
            doc.push_str(&format!(" xmlns:p{i}='urn:{i}'"));
        }
        doc.push_str("/>");
        let err = Document::parse(&doc).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::NamespaceDeclarationsPerElement,
                ..
            }
        ));
    }

    #[test]
    fn refuses_non_utf8() {
        let err = Document::parse_bytes(b"<a>\xff</a>").unwrap_err();
        assert!(matches!(
            err,
            ParseError::Syntax {
                line: 1,
                column: 4,
                ..
            }
        ));
    }

    #[test]
    fn size_limit() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        let err = Document::parse_with_limits("<a>0123456789</a>", &limits).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::Bytes,
                max: 10,
                ..
            }
        ));
    }

    #[test]
    fn node_limit() {
        let limits = Limits {
            max_nodes: 3,
            ..Limits::default()
        };
        let err = Document::parse_with_limits("<a><b/><c/><d/></a>", &limits).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: LimitKind::Nodes,
                ..
            }
        ));
    }
}
