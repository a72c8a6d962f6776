//! The linear pre-scan that runs before roxmltree builds a tree: it enforces [`Limits`]
//! (size, depth, attributes and namespace declarations per element, namespaces in scope)
//! and checks what roxmltree lets through (character references, QNames, namespace
//! declarations, processing-instruction targets, the XML declaration, content after the
//! root), all in one pass over the bytes.

use super::text_pos;
use crate::error::ParseError;
use crate::limits::{Limits, XmlLimit};

fn limit_error(bytes: &[u8], offset: usize, limit: XmlLimit, max: usize) -> ParseError {
    let (line, column) = text_pos(bytes, offset);
    ParseError::LimitExceeded {
        limit,
        max,
        line,
        column,
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn syntax_error(b: &[u8], offset: usize, message: impl Into<String>) -> ParseError {
    let (line, column) = text_pos(b, offset);
    ParseError::Syntax {
        message: message.into(),
        line,
        column,
    }
}

/// XML 1.0 (fifth edition) `NameStartChar`, without the colon.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`, without the colon.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether `name` is an `NCName` (a name without a colon).
fn is_ncname(name: &[u8]) -> bool {
    // ASCII names (nearly all of them) without decoding.
    let ascii_name_char = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    if let Some((first, rest)) = name.split_first() {
        if first.is_ascii_alphabetic() || *first == b'_' {
            if rest.iter().all(ascii_name_char) {
                return true;
            }
        } else if first.is_ascii() {
            return false;
        }
    }
    let Ok(name) = core::str::from_utf8(name) else {
        return false;
    };
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
}

/// Whether `name` is a `QName`: an `NCName`, or two joined by one colon.
fn is_qname(name: &[u8]) -> bool {
    match memchr::memchr(b':', name) {
        None => is_ncname(name),
        Some(p) => {
            is_ncname(name.get(..p).unwrap_or_default()) && is_ncname(name.get(p + 1..).unwrap_or_default())
        }
    }
}

/// XML 1.0 `Char`: what a character reference may produce.
fn is_xml_char(c: u32) -> bool {
    matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x1_0000..=0x10_FFFF)
}

/// Checks every character reference in `b[from..to]` (character data or an attribute value).
/// roxmltree reads a reference to a surrogate or another non-character as U+FFFD; the XML
/// specification (and libxml2) refuse the document.
fn check_char_refs(b: &[u8], from: usize, to: usize) -> Result<(), ParseError> {
    let region = b.get(from..to).unwrap_or_default();
    for amp in memchr::memchr_iter(b'&', region) {
        let rest = region.get(amp + 1..).unwrap_or_default();
        let Some(digits) = rest.strip_prefix(b"#") else {
            continue;
        };
        let (radix, digits) = match digits.strip_prefix(b"x") {
            Some(hex) => (16, hex),
            None => (10, digits),
        };
        let len = digits.iter().take_while(|d| d.is_ascii_alphanumeric()).count();
        let value = digits
            .get(..len)
            .and_then(|d| core::str::from_utf8(d).ok())
            .filter(|_| digits.get(len) == Some(&b';'))
            .and_then(|d| u32::from_str_radix(d, radix).ok());
        match value {
            Some(c) if is_xml_char(c) => {}
            Some(c) => {
                return Err(syntax_error(
                    b,
                    from + amp,
                    format!("the character reference to U+{c:04X} is not an XML character"),
                ))
            }
            None => return Err(syntax_error(b, from + amp, "malformed character reference")),
        }
    }
    Ok(())
}

/// Decodes an attribute value as the parser will (predefined entities, character references,
/// whitespace normalization); `None` if it contains anything else, which the parser refuses.
fn attribute_value(raw: &[u8]) -> Option<std::borrow::Cow<'_, str>> {
    let raw = core::str::from_utf8(raw).ok()?;
    if !raw.contains(['&', '\t', '\n', '\r']) {
        return Some(std::borrow::Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(p) = rest.find(['&', '\t', '\n', '\r']) {
        out.push_str(rest.get(..p)?);
        let tail = rest.get(p..)?;
        if !tail.starts_with('&') {
            // CRLF is one line break, so one space.
            out.push(' ');
            rest = tail.get(if tail.starts_with("\r\n") { 2 } else { 1 }..)?;
            continue;
        }
        let end = tail.find(';')?;
        let entity = tail.get(1..end)?;
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => entity.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(n)?
            }
        };
        out.push(c);
        rest = tail.get(end + 1..)?;
    }
    out.push_str(rest);
    Some(std::borrow::Cow::Owned(out))
}

/// Whether `uri` can be a namespace name: an absolute URI (a scheme, then URI characters).
/// libxml2 refuses a document with any other namespace name, even one that is never used;
/// canonical XML cannot represent relative ones (C14N 1.0 §2.1). Stricter than RFC 3986 in
/// one place: `[` and `]` (legal only around an IPv6 host) are refused everywhere, as no
/// namespace name uses them and libxml2 refuses them elsewhere. `%` must start a `%XX`
/// escape, and there is at most one `#`.
fn is_namespace_name(uri: &str) -> bool {
    let bytes = uri.as_bytes();
    let escapes_ok = bytes.iter().enumerate().all(|(i, &c)| {
        c != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    });
    crate::c14n::is_absolute_uri(uri)
        && escapes_ok
        && uri.matches('#').count() <= 1
        && uri.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b':'
                        | b'/'
                        | b'?'
                        | b'#'
                        | b'@'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b'%'
                )
        })
}

const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NAMESPACE: &str = "http://www.w3.org/2000/xmlns/";

/// Checks one namespace declaration (`name` is `xmlns` or `xmlns:p`, `raw` its undecoded
/// value).
fn check_namespace_declaration(b: &[u8], at: usize, name: &[u8], raw: &[u8]) -> Result<(), ParseError> {
    let prefix = name.strip_prefix(b"xmlns:");
    let Some(uri) = attribute_value(raw) else {
        return Err(syntax_error(b, at, "malformed namespace declaration value"));
    };
    let shown = String::from_utf8_lossy(name);
    match prefix {
        Some(b"xmlns") => Err(syntax_error(b, at, "the xmlns prefix must not be declared")),
        Some(b"xml") if uri != XML_NAMESPACE => Err(syntax_error(
            b,
            at,
            format!("the xml prefix may only be bound to {XML_NAMESPACE}"),
        )),
        Some(b"xml") => Ok(()),
        _ if uri == XML_NAMESPACE || uri == XMLNS_NAMESPACE => Err(syntax_error(
            b,
            at,
            format!("{shown} binds the reserved namespace {uri}"),
        )),
        None if uri.is_empty() => Ok(()),
        Some(_) if uri.is_empty() => Err(syntax_error(
            b,
            at,
            format!("{shown} binds a prefix to the empty namespace name, which XML Namespaces 1.0 forbids"),
        )),
        _ if is_namespace_name(&uri) => Ok(()),
        _ => Err(syntax_error(
            b,
            at,
            format!("{shown}={uri:?} is not an absolute URI; canonical XML (and libxmlsec1) refuse relative or malformed namespace names"),
        )),
    }
}

/// Reads the XML declaration at `b[at..]` (`<?xml ...?>`) strictly, and returns the offset
/// after it. Only UTF-8 is read; a declaration naming any other encoding is refused rather
/// than silently reinterpreted (libxml2 would decode the bytes differently).
fn xml_declaration(b: &[u8], at: usize) -> Result<usize, ParseError> {
    let bad =
        |offset: usize, what: &str| syntax_error(b, offset, format!("malformed XML declaration: {what}"));
    let end = b
        .get(at..)
        .and_then(|r| memchr::memmem::find(r, b"?>"))
        .map(|p| p + at)
        .ok_or_else(|| bad(at, "no closing ?>"))?;
    let body = b.get(at + 5..end).unwrap_or_default();
    let mut pos = 0usize;
    let mut pseudo: Vec<(&[u8], &[u8])> = Vec::new();
    loop {
        let spaces = body
            .get(pos..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&c| is_xml_space(c))
            .count();
        pos += spaces;
        if pos >= body.len() {
            break;
        }
        if spaces == 0 {
            return Err(bad(
                at + 5 + pos,
                "pseudo-attributes must be separated by whitespace",
            ));
        }
        let rest = body.get(pos..).unwrap_or_default();
        let name_len = rest.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        let name = rest.get(..name_len).unwrap_or_default();
        let mut k = name_len;
        k += rest
            .get(k..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&c| is_xml_space(c))
            .count();
        if rest.get(k) != Some(&b'=') {
            return Err(bad(at + 5 + pos, "expected name=\"value\""));
        }
        k += 1;
        k += rest
            .get(k..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&c| is_xml_space(c))
            .count();
        let quote = match rest.get(k) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(bad(at + 5 + pos + k, "expected a quoted value")),
        };
        let value_len = rest
            .get(k + 1..)
            .and_then(|r| memchr::memchr(quote, r))
            .ok_or_else(|| bad(at + 5 + pos + k, "unterminated value"))?;
        pseudo.push((name, rest.get(k + 1..k + 1 + value_len).unwrap_or_default()));
        pos += k + 2 + value_len;
    }
    let mut expected: &[&[u8]] = &[b"version", b"encoding", b"standalone"];
    for (i, (name, value)) in pseudo.iter().enumerate() {
        let Some(p) = expected.iter().position(|e| e == name) else {
            return Err(bad(
                at,
                &format!("unexpected {:?}", String::from_utf8_lossy(name)),
            ));
        };
        if i == 0 && p != 0 {
            return Err(bad(at, "version must come first"));
        }
        expected = expected.get(p + 1..).unwrap_or_default();
        match *name {
            b"version" => {
                let ok = value
                    .strip_prefix(b"1.")
                    .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit));
                if !ok {
                    return Err(bad(
                        at,
                        &format!("unsupported XML version {:?}", String::from_utf8_lossy(value)),
                    ));
                }
            }
            b"encoding" => {
                // A pure-ASCII document reads the same in every ASCII-compatible encoding.
                let same_reading = value.eq_ignore_ascii_case(b"UTF-8")
                    || (is_ascii_compatible_encoding(value) && b.is_ascii());
                if !same_reading {
                    return Err(syntax_error(
                        b,
                        at,
                        format!(
                            "the XML declaration names the encoding {:?}; only UTF-8 (or pure ASCII) documents are accepted",
                            String::from_utf8_lossy(value)
                        ),
                    ));
                }
            }
            _ => {
                if *value != b"yes" && *value != b"no" {
                    return Err(bad(at, "standalone must be \"yes\" or \"no\""));
                }
            }
        }
    }
    if pseudo.is_empty() {
        return Err(bad(at, "version is missing"));
    }
    Ok(end + 2)
}

/// Single-byte encodings that agree with UTF-8 on ASCII bytes.
fn is_ascii_compatible_encoding(name: &[u8]) -> bool {
    let upper = name.to_ascii_uppercase();
    let digits_after = |prefix: &[u8]| {
        upper
            .strip_prefix(prefix)
            .is_some_and(|d| !d.is_empty() && d.len() <= 2 && d.iter().all(u8::is_ascii_digit))
    };
    matches!(
        upper.as_slice(),
        b"US-ASCII" | b"ASCII" | b"LATIN1" | b"ISO-LATIN-1"
    ) || digits_after(b"ISO-8859-")
        || digits_after(b"WINDOWS-125")
}

/// Checks a processing instruction's target at `b[at..]` (just after `<?`).
fn check_pi_target(b: &[u8], at: usize) -> Result<(), ParseError> {
    let rest = b.get(at..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&c| is_xml_space(c) || c == b'?')
        .unwrap_or(rest.len());
    let target = rest.get(..len).unwrap_or_default();
    if !is_ncname(target) {
        return Err(syntax_error(
            b,
            at,
            "a processing instruction target must be a name followed by whitespace",
        ));
    }
    if target.eq_ignore_ascii_case(b"xml") {
        return Err(syntax_error(
            b,
            at,
            "the processing instruction target xml is reserved (an XML declaration is only allowed at the very start)",
        ));
    }
    if rest.get(len) == Some(&b'?') && rest.get(len + 1) != Some(&b'>') {
        return Err(syntax_error(
            b,
            at + len,
            "a processing instruction target must be followed by whitespace",
        ));
    }
    Ok(())
}

/// A linear scan over the raw bytes that enforces the per-element limits before roxmltree
/// (whose duplicate-attribute and duplicate-namespace checks are quadratic) sees the input,
/// and refuses the well-formedness and namespace errors roxmltree tolerates but libxml2 (and
/// so libxmlsec1) does not: character references to non-characters, names that are not
/// QNames, duplicate namespace declarations, reserved or malformed processing instruction
/// targets, non-absolute namespace names, and XML declarations naming anything but UTF-8.
/// Every such tolerance is a parser differential: two verifiers reading different documents
/// from the same bytes.
///
/// For well-formed input its counts are exact; for malformed input it may count differently
/// from the parser, which then reports the syntax error. It never accepts what the parser
/// would refuse: it only refuses earlier, or refuses more.
pub(super) fn prescan(b: &[u8], limits: &Limits) -> Result<(), ParseError> {
    if b.len() > limits.max_bytes {
        return Err(limit_error(
            b,
            limits.max_bytes,
            XmlLimit::Bytes,
            limits.max_bytes,
        ));
    }
    let find = |needle: &[u8], from: usize| -> Option<usize> {
        b.get(from..)
            .and_then(|rest| memchr::memmem::find(rest, needle))
            .map(|p| p + from)
    };
    let mut i = usize::from(b.starts_with(b"\xEF\xBB\xBF")) * 3;
    if b.get(i..)
        .is_some_and(|r| r.starts_with(b"<?xml") && r.get(5).is_some_and(|&c| is_xml_space(c)))
    {
        i = xml_declaration(b, i)?;
    }
    // Namespace declarations of each open element, for the in-scope limit.
    let mut open_decls: Vec<usize> = Vec::new();
    let mut in_scope = 0usize;
    let mut declared: Vec<&[u8]> = Vec::new();
    // Set once the root element has ended: only comments, processing instructions and
    // whitespace may follow.
    let mut root_ended = false;
    while let Some(off) = b.get(i..).and_then(|rest| memchr::memchr(b'<', rest)) {
        if root_ended {
            after_root_text(b, i, i + off)?;
        }
        check_char_refs(b, i, i + off)?;
        i += off;
        let rest = b.get(i..).unwrap_or_default();
        if root_ended && !rest.starts_with(b"<!--") && !rest.starts_with(b"<?") {
            return Err(after_root_markup(b, i));
        }
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
            check_pi_target(b, i + 2)?;
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
            // An end tag without a start tag pops nothing; the parser reports it.
            if let Some(decls) = open_decls.pop() {
                in_scope -= decls;
                root_ended = open_decls.is_empty();
            }
        } else {
            // A start tag: check its names, count attributes and namespace declarations up to
            // the closing '>'.
            let start = i;
            let name_len = rest
                .iter()
                .skip(1)
                .position(|&c| is_xml_space(c) || c == b'/' || c == b'>')
                .unwrap_or(rest.len() - 1);
            let name = rest.get(1..1 + name_len).unwrap_or_default();
            if !is_qname(name) {
                return Err(syntax_error(
                    b,
                    start + 1,
                    format!(
                        "{:?} is not a valid element name (a name, or prefix:name)",
                        String::from_utf8_lossy(name)
                    ),
                ));
            }
            let mut j = start + 1 + name_len;
            let mut attributes = 0usize;
            declared.clear();
            let self_closing = loop {
                let Some(&c) = b.get(j) else {
                    return Ok(()); // unterminated; the parser reports it
                };
                if is_xml_space(c) {
                    j += 1;
                    continue;
                }
                if c == b'>' {
                    break false;
                }
                if c == b'/' {
                    if b.get(j + 1) == Some(&b'>') {
                        j += 1;
                        break true;
                    }
                    return Ok(()); // malformed; the parser reports it
                }
                // An attribute: name, '=', quoted value.
                let attr = j;
                let len = b
                    .get(j..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&c| is_xml_space(c) || matches!(c, b'=' | b'/' | b'>' | b'"' | b'\''))
                    .unwrap_or(0);
                let name = b.get(j..j + len).unwrap_or_default();
                j += len;
                while b.get(j).is_some_and(|&c| is_xml_space(c)) {
                    j += 1;
                }
                if b.get(j) != Some(&b'=') {
                    return Ok(()); // malformed; the parser reports it
                }
                j += 1;
                while b.get(j).is_some_and(|&c| is_xml_space(c)) {
                    j += 1;
                }
                let quote = match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => q,
                    _ => return Ok(()), // malformed; the parser reports it
                };
                let Some(value_len) = b.get(j + 1..).and_then(|r| memchr::memchr(quote, r)) else {
                    return Ok(());
                };
                let (value_from, value_to) = (j + 1, j + 1 + value_len);
                j = value_to + 1;
                if !is_qname(name) {
                    return Err(syntax_error(
                        b,
                        attr,
                        format!(
                            "{:?} is not a valid attribute name (a name, or prefix:name)",
                            String::from_utf8_lossy(name)
                        ),
                    ));
                }
                check_char_refs(b, value_from, value_to)?;
                if name == b"xmlns" || name.starts_with(b"xmlns:") {
                    if declared.len() >= limits.max_namespace_declarations_per_element {
                        return Err(limit_error(
                            b,
                            attr,
                            XmlLimit::NamespaceDeclarationsPerElement,
                            limits.max_namespace_declarations_per_element,
                        ));
                    }
                    if declared.contains(&name) {
                        return Err(syntax_error(
                            b,
                            attr,
                            format!(
                                "{} is declared twice on one element",
                                String::from_utf8_lossy(name)
                            ),
                        ));
                    }
                    declared.push(name);
                    check_namespace_declaration(
                        b,
                        attr,
                        name,
                        b.get(value_from..value_to).unwrap_or_default(),
                    )?;
                } else {
                    attributes += 1;
                    if attributes > limits.max_attributes_per_element {
                        return Err(limit_error(
                            b,
                            attr,
                            XmlLimit::AttributesPerElement,
                            limits.max_attributes_per_element,
                        ));
                    }
                }
            };
            let decls = declared.len();
            if in_scope + decls > limits.max_namespaces_in_scope {
                return Err(limit_error(
                    b,
                    start,
                    XmlLimit::NamespacesInScope,
                    limits.max_namespaces_in_scope,
                ));
            }
            if open_decls.len() + 1 > limits.max_depth {
                return Err(limit_error(b, start, XmlLimit::Depth, limits.max_depth));
            }
            if self_closing {
                root_ended = open_decls.is_empty();
            } else {
                open_decls.push(decls);
                in_scope += decls;
            }
            i = j + 1;
        }
    }
    if root_ended {
        after_root_text(b, i, b.len())?;
    }
    check_char_refs(b, i, b.len())
}

/// Refuses text other than whitespace in `b[from..to]`, which lies after the root element.
fn after_root_text(b: &[u8], from: usize, to: usize) -> Result<(), ParseError> {
    let text = b.get(from..to).unwrap_or_default();
    match text.iter().position(|&c| !is_xml_space(c)) {
        None => Ok(()),
        Some(p) => Err(syntax_error(
            b,
            from + p,
            "there is content after the root element ends (text after its end tag); a document has exactly one root element: check that the message was not pasted or posted with something after it",
        )),
    }
}

/// The error for markup at `b[at..]` after the root element: a second element, or a CDATA
/// section or declaration.
fn after_root_markup(b: &[u8], at: usize) -> ParseError {
    let rest = b.get(at..).unwrap_or_default();
    if rest.get(1).is_some_and(|&c| c != b'!' && c != b'/') {
        let len = rest
            .iter()
            .skip(1)
            .position(|&c| is_xml_space(c) || c == b'/' || c == b'>')
            .unwrap_or(0);
        let name = String::from_utf8_lossy(rest.get(1..1 + len).unwrap_or_default());
        syntax_error(
            b,
            at,
            format!("the document has more than one root element: <{name}> starts after the root element ended; a document has exactly one root element (check that only one message was pasted or posted)"),
        )
    } else {
        syntax_error(
            b,
            at,
            "there is content after the root element ends; a document has exactly one root element: check that the message was not pasted or posted with something after it",
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::{Document, Limits, ParseError, XmlLimit};

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
                limit: XmlLimit::Depth,
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
                limit: XmlLimit::AttributesPerElement,
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
                limit: XmlLimit::NamespaceDeclarationsPerElement,
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
                limit: XmlLimit::NamespacesInScope,
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
                limit: XmlLimit::AttributesPerElement,
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
                limit: XmlLimit::NamespaceDeclarationsPerElement,
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
                limit: XmlLimit::Bytes,
                max: 10,
                ..
            }
        ));
    }

    fn refused(xml: &str) -> String {
        match Document::parse(xml) {
            Ok(_) => panic!("{xml:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn character_references_must_name_xml_characters() {
        assert!(refused("<a>&#xD800;</a>").contains("U+D800"));
        assert!(refused("<a b='&#57343;'/>").contains("U+DFFF"));
        assert!(refused("<a>&#0;</a>").contains("U+0000"));
        assert!(refused("<a>&#x110000;</a>").contains("not an XML character"));
        assert!(refused("<a>&#xZZ;</a>").contains("malformed character reference"));
        let doc =
            Document::parse("<a b='&#x1F600;'>&#169;<!-- &#xD800; --><![CDATA[&#xD800;]]></a>").unwrap();
        assert_eq!(doc.root_element().attribute("b"), Some("\u{1F600}"));
    }

    #[test]
    fn names_must_be_qnames() {
        assert!(refused("<a xmlns='urn:d'><:b/></a>").contains("element name"));
        assert!(refused("<a:b:c xmlns:a='urn:a'/>").contains("element name"));
        assert!(refused("<a :y='1'/>").contains("attribute name"));
        assert!(refused("<a xmlns:xmlns='urn:x'/>").contains("xmlns prefix"));
        assert!(refused("<a xmlns:xml='urn:x'/>").contains("xml prefix"));
        assert!(refused("<a xmlns:p='http://www.w3.org/2000/xmlns/'/>").contains("reserved"));
        Document::parse("<a xmlns:xml='http://www.w3.org/XML/1998/namespace' xml:lang='en'/>").unwrap();
    }

    #[test]
    fn namespace_declarations_are_unique_and_absolute() {
        assert!(refused("<a xmlns='urn:a' xmlns='urn:b'/>").contains("declared twice"));
        assert!(refused("<a xmlns:p='urn:a' xmlns:p='urn:a'/>").contains("declared twice"));
        assert!(refused("<a><b xmlns:r='relative'/></a>").contains("not an absolute URI"));
        assert!(refused("<a xmlns:r='urn:ex ample'/>").contains("not an absolute URI"));
        assert!(refused("<a xmlns:r='urn:ex&gt;ample'/>").contains("not an absolute URI"));
        // libxml2 refuses these too (found by the c14n differential test).
        assert!(refused("<a xmlns:r='urn:example:ext['/>").contains("not an absolute URI"));
        assert!(refused("<a xmlns:r='urn:ex]'/>").contains("not an absolute URI"));
        assert!(refused("<a xmlns:r='urn:ex%zz'/>").contains("not an absolute URI"));
        assert!(refused("<a xmlns:r='urn:ex%4'/>").contains("not an absolute URI"));
        assert!(refused("<a xmlns:r='urn:a#b#c'/>").contains("not an absolute URI"));
        assert!(Document::parse("<a xmlns:r='urn:ex%41#frag'/>").is_ok());
        assert!(refused("<a xmlns:p=''/>").contains("empty namespace name"));
        Document::parse("<a xmlns='urn:a'><b xmlns=''/><c xmlns:q='https://x.example/p?a=1&amp;b=%20'/></a>")
            .unwrap();
    }

    #[test]
    fn processing_instruction_targets_are_checked() {
        for xml in [
            "<?XmL x?><a/>",
            "<a><?XML x?></a>",
            "<?version=\"1.0\"?><a/>",
            "<a><?p=x?></a>",
            "<a/><?xml version='1.0'?>",
        ] {
            assert!(refused(xml).contains("processing instruction"), "{xml}");
        }
        Document::parse("<?p?><a><?q data?></a>").unwrap();
    }

    #[test]
    fn xml_declaration_is_read_strictly() {
        for decl in [
            "<?xml version='1.0'?>",
            "<?xml version=\"1.1\" encoding=\"utf-8\" standalone='no'?>",
            "\u{FEFF}<?xml version='1.0' encoding='UTF-8'?>",
        ] {
            Document::parse(&format!("{decl}<a>\u{e9}</a>")).unwrap();
        }
        for (decl, why) in [
            ("<?xml version='1.0' encoding='ISO-8859-1'?>", "only UTF-8"),
            ("<?xml version='1.0' encoding='UTF-16'?>", "only UTF-8"),
            ("<?xml version='2.0'?>", "unsupported XML version"),
            ("<?xml encoding='UTF-8'?>", "version must come first"),
            ("<?xml version='1.0' standalone='maybe'?>", "standalone"),
            ("<?xml version='1.0' versionA='1'?>", "unexpected"),
            ("<?xml version='1.0'encoding='UTF-8'?>", "whitespace"),
            ("<?xml ?>", "version is missing"),
        ] {
            let err = refused(&format!("{decl}<a>\u{e9}</a>"));
            assert!(err.contains(why), "{decl}: {err}");
        }
        // A pure-ASCII document reads the same in any ASCII-compatible encoding.
        Document::parse("<?xml version='1.0' encoding='ISO-8859-1'?><a>&#169;</a>").unwrap();
        assert!(refused("<?xml version='1.0' encoding='UTF-16'?><a/>").contains("only UTF-8"));
    }
}
