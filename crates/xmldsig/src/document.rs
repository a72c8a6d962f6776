//! Hardened XML parsing: a linear pre-scan that enforces [`Limits`], then roxmltree with DTDs
//! refused.

use crate::error::ParseError;
use crate::limits::{Limits, XmlLimit};

mod prescan;

use prescan::prescan;

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
        if let Some(big_endian) = utf16_byte_order(bytes) {
            return Err(ParseError::Utf16 { big_endian });
        }
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
        if let Some(big_endian) = utf16_byte_order(text.as_bytes()) {
            return Err(ParseError::Utf16 { big_endian });
        }
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

/// Whether `bytes` look like UTF-16 text, and if so whether big-endian: a UTF-16 byte-order
/// mark, or an ASCII character with a NUL byte beside it in the first two bytes. XML never
/// contains a NUL character, so no UTF-8 document is mistaken for UTF-16.
fn utf16_byte_order(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        [c, 0, ..] if *c != 0 && c.is_ascii() => Some(false),
        [0, c, ..] if *c != 0 && c.is_ascii() => Some(true),
        _ => None,
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

fn map_roxmltree_error(bytes: &[u8], limits: &Limits, e: roxmltree::Error) -> ParseError {
    match e {
        roxmltree::Error::DtdDetected => {
            let offset = memchr::memmem::find(bytes, b"<!DOCTYPE").unwrap_or(0);
            let (line, column) = text_pos(bytes, offset);
            ParseError::DtdNotAllowed { line, column }
        }
        roxmltree::Error::NodesLimitReached => ParseError::LimitExceeded {
            limit: XmlLimit::Nodes,
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
    fn node_limit() {
        let limits = Limits {
            max_nodes: 3,
            ..Limits::default()
        };
        let err = Document::parse_with_limits("<a><b/><c/><d/></a>", &limits).unwrap_err();
        assert!(matches!(
            err,
            ParseError::LimitExceeded {
                limit: XmlLimit::Nodes,
                ..
            }
        ));
    }
}
