//! Recursive-descent parser for RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths.
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER        ; "and" binds tighter than "or"
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! PATH      = attrPath / valuePath [subAttr]
//! ```

use serde_json::Number;

use super::ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
use super::{FilterError, FilterErrorKind as K, FilterLimits};

/// Parses a filter under the given limits.
pub fn parse_filter(text: &str, limits: &FilterLimits) -> Result<Filter, FilterError> {
    let mut p = Parser::new(text, limits)?;
    let f = p.or_expr(false)?;
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.unexpected("\"and\", \"or\" or the end of the filter"));
    }
    Ok(f)
}

/// Parses a PATCH `path` (RFC 7644 §3.5.2) with the default limits, e.g. `members`,
/// `name.familyName`, `emails[type eq "work"].value` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
pub fn parse_path(text: &str) -> Result<PatchPath, FilterError> {
    parse_path_with_limits(text, &FilterLimits::default())
}

/// Parses a PATCH `path` under the given limits.
pub fn parse_path_with_limits(text: &str, limits: &FilterLimits) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(text, limits)?;
    p.skip_ws();
    let (start, token) = p.path_token()?;
    let attr = parse_attr_path_text(token, start)?;
    p.skip_ws();
    let result = if p.peek() == Some(b'[') {
        let filter = p.bracket()?;
        let sub_attr = if p.peek() == Some(b'.') {
            p.pos += 1;
            let (sub_start, sub) = p.path_token()?;
            check_name(
                sub,
                sub_start,
                sub,
                "the sub-attribute after ] must be a simple name such as value",
            )?;
            Some(sub.to_owned())
        } else {
            None
        };
        PatchPath::Value {
            attr,
            filter,
            sub_attr,
        }
    } else {
        PatchPath::Attr(attr)
    };
    p.skip_ws();
    if p.pos < p.bytes.len() {
        return Err(p.unexpected("the end of the path"));
    }
    Ok(result)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    terms: usize,
    limits: &'a FilterLimits,
}

fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'.' | b'_' | b'-' | b'$')
}

impl<'a> Parser<'a> {
    fn new(text: &'a str, limits: &'a FilterLimits) -> Result<Self, FilterError> {
        if text.len() > limits.max_length {
            return Err(FilterError::at(
                limits.max_length,
                K::TooLong {
                    max: limits.max_length,
                    actual: text.len(),
                },
            ));
        }
        Ok(Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            depth: 0,
            terms: 0,
            limits,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// Describes what is at the current position, for error messages.
    fn found(&self) -> String {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return "the end of the filter".to_owned();
        }
        let token: String = rest.chars().take_while(|c| !c.is_whitespace()).take(24).collect();
        let token = if token.is_empty() {
            rest.chars().take(1).collect()
        } else {
            token
        };
        format!("{token:?}")
    }

    fn unexpected(&self, expected: &'static str) -> FilterError {
        FilterError::at(
            self.pos,
            K::Unexpected {
                expected,
                found: self.found(),
            },
        )
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(FilterError::at(
                self.pos,
                K::TooDeep {
                    max: self.limits.max_depth,
                },
            ));
        }
        Ok(())
    }

    /// An alphabetic word at the current position, without consuming it.
    fn word(&self) -> &'a str {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        let len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        rest.get(..len).unwrap_or_default()
    }

    fn or_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(in_value)?;
        loop {
            self.skip_ws();
            let w = self.word();
            if w.eq_ignore_ascii_case("or") {
                self.pos += w.len();
                let right = self.and_expr(in_value)?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    #[inline(always)]
    fn and_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        let mut left = self.term(in_value)?;
        loop {
            self.skip_ws();
            let w = self.word();
            if w.eq_ignore_ascii_case("and") {
                self.pos += w.len();
                let right = self.term(in_value)?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn group(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        // At '('.
        self.enter()?;
        self.pos += 1;
        let inner = self.or_expr(in_value)?;
        self.skip_ws();
        if self.peek() != Some(b')') {
            return Err(self.unexpected("\")\" to close the group, \"and\" or \"or\""));
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(inner)
    }

    fn term(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        self.skip_ws();
        match self.peek() {
            Some(b'(') => return self.group(in_value),
            None => {
                return Err(self.unexpected(
                    "an attribute expression such as userName eq \"bjensen\", \"(\" or \"not (\"",
                ))
            }
            _ => {}
        }
        let w = if matches!(self.peek(), Some(b'n' | b'N')) {
            self.word()
        } else {
            ""
        };
        if w.eq_ignore_ascii_case("not") {
            let save = self.pos;
            self.pos += w.len();
            self.skip_ws();
            if self.peek() == Some(b'(') {
                return Ok(Filter::Not(Box::new(self.group(in_value)?)));
            }
            // An attribute called "not" (`not pr`, `not eq "x"`, `not[...]`)?
            let next = self.word();
            let attribute_named_not = self.peek() == Some(b'[')
                || next.eq_ignore_ascii_case("pr")
                || CompareOp::from_keyword(next).is_some();
            if !attribute_named_not {
                return Err(self.unexpected("\"(\" after not, as in not (userName eq \"bjensen\")"));
            }
            self.pos = save;
        }
        self.attr_expr(in_value)
    }

    fn path_token(&mut self) -> Result<(usize, &'a str), FilterError> {
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or_default();
        let len = rest.bytes().take_while(|b| is_path_byte(*b)).count();
        if len == 0 {
            return Err(self.unexpected("an attribute name such as userName or emails.value"));
        }
        self.pos += len;
        Ok((start, rest.get(..len).unwrap_or_default()))
    }

    #[inline(always)]
    fn attr_expr(&mut self, in_value: bool) -> Result<Filter, FilterError> {
        self.terms += 1;
        if self.terms > self.limits.max_terms {
            return Err(FilterError::at(
                self.pos,
                K::TooManyTerms {
                    max: self.limits.max_terms,
                },
            ));
        }
        let (start, token) = self.path_token()?;
        let path = parse_attr_path_text(token, start)?;
        self.skip_ws();
        if self.peek() == Some(b'[') {
            if in_value {
                return Err(FilterError::at(self.pos, K::NestedValuePath));
            }
            let filter = self.bracket()?;
            if self.peek() == Some(b'.') {
                return Err(self.unexpected(
                    "\"and\", \"or\" or the end after ]; a sub-attribute after ] is only allowed in PATCH paths, in a filter write emails[type eq \"work\" and value pr]",
                ));
            }
            return Ok(Filter::ValuePath {
                attr: path,
                filter: Box::new(filter),
            });
        }
        let op_pos = self.pos;
        let w = self.word();
        if w.eq_ignore_ascii_case("pr") {
            self.pos += w.len();
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(w) else {
            return Err(FilterError::at(
                op_pos,
                K::Unexpected {
                    expected: "an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) or \"[\" after the attribute name",
                    found: self.found(),
                },
            ));
        };
        self.pos += w.len();
        if self.peek().is_some() && !matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            return Err(self.unexpected("a space after the operator"));
        }
        self.skip_ws();
        let value = self.comp_value()?;
        Ok(Filter::Compare { path, op, value })
    }

    /// At '[': parses `[valFilter]` and consumes the `]`.
    fn bracket(&mut self) -> Result<Filter, FilterError> {
        self.enter()?;
        self.pos += 1;
        let inner = self.or_expr(true)?;
        self.skip_ws();
        if self.peek() != Some(b']') {
            return Err(self.unexpected("\"]\" to close the value filter, \"and\" or \"or\""));
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(inner)
    }

    fn comp_value(&mut self) -> Result<CompValue, FilterError> {
        match self.peek() {
            // Normalized to NFC like request bodies (`crate::json`), so a literal matches
            // stored text whichever Unicode form the client wrote it in.
            Some(b'"') => self
                .string()
                .map(|s| CompValue::String(crate::json::nfc(&s).into_owned())),
            Some(b'-' | b'0'..=b'9') => self.number().map(CompValue::Number),
            _ => {
                let w = self.word();
                let v = if w.eq_ignore_ascii_case("true") {
                    CompValue::Bool(true)
                } else if w.eq_ignore_ascii_case("false") {
                    CompValue::Bool(false)
                } else if w.eq_ignore_ascii_case("null") {
                    CompValue::Null
                } else {
                    return Err(self.unexpected(
                        "a value: a double-quoted string such as \"bjensen\", a number, true, false or null",
                    ));
                };
                self.pos += w.len();
                Ok(v)
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Number, FilterError> {
        let start = self.pos;
        let bad = |p: &Self| {
            let end = p.pos.max(start + 1).min(p.bytes.len());
            let text = p.text.get(start..end).unwrap_or_default().to_owned();
            FilterError::at(start, K::InvalidNumber { text })
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = self.digits();
        if n == 0 || (n > 1 && self.bytes.get(int_start) == Some(&b'0')) {
            return Err(bad(self));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(bad(self));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(bad(self));
            }
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        // Integers stay integers when they fit; everything else goes through the standard
        // library's correctly rounded f64 parser (so Display/parse round-trips exactly).
        if let Ok(n) = text.parse::<u64>() {
            return Ok(Number::from(n));
        }
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Number::from(n));
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .ok_or_else(|| bad(self))
    }

    fn string(&mut self) -> Result<String, FilterError> {
        // At '"'.
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..).unwrap_or_default();
            // Copy the run of plain characters at once.
            let plain = rest
                .bytes()
                .take_while(|b| *b != b'"' && *b != b'\\' && *b >= 0x20)
                .count();
            let run = rest.get(..plain).unwrap_or_default();
            self.pos += plain;
            if out.is_empty() && self.peek() == Some(b'"') {
                // No escapes (the common case): one allocation of the right size.
                self.pos += 1;
                return Ok(run.to_owned());
            }
            out.push_str(run);
            match self.peek() {
                None => {
                    return Err(FilterError::at(
                        open,
                        K::InvalidString {
                            reason: "the string is not closed; add the closing double quote",
                        },
                    ))
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_pos = self.pos;
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4(esc_pos)?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if self.bytes.get(self.pos) != Some(&b'\\') || self.bytes.get(self.pos + 1) != Some(&b'u') {
                                    return Err(FilterError::at(
                                        esc_pos,
                                        K::InvalidString { reason: "a \\u high surrogate must be followed by a \\u low surrogate" },
                                    ));
                                }
                                self.pos += 2;
                                let lo = self.hex4(esc_pos)?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(FilterError::at(
                                        esc_pos,
                                        K::InvalidString { reason: "a \\u high surrogate must be followed by a \\u low surrogate" },
                                    ));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let c = char::from_u32(code).ok_or(FilterError::at(
                                esc_pos,
                                K::InvalidString { reason: "a \\u escape names a lone surrogate" },
                            ))?;
                            out.push(c);
                            continue;
                        }
                        _ => {
                            return Err(FilterError::at(
                                esc_pos,
                                K::InvalidString {
                                    reason: "unknown escape; JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX",
                                },
                            ))
                        }
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(_) => {
                    return Err(FilterError::at(
                        self.pos,
                        K::InvalidString {
                            reason: "control characters must be escaped (e.g. \\n or \\u0001)",
                        },
                    ))
                }
            }
        }
    }

    fn hex4(&mut self, esc_pos: usize) -> Result<u32, FilterError> {
        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or_default();
        if hex.len() != 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(FilterError::at(
                esc_pos,
                K::InvalidString {
                    reason: "\\u must be followed by four hexadecimal digits",
                },
            ));
        }
        self.pos += 4;
        u32::from_str_radix(hex, 16).map_err(|_| {
            FilterError::at(
                esc_pos,
                K::InvalidString {
                    reason: "\\u must be followed by four hexadecimal digits",
                },
            )
        })
    }
}

fn check_name(name: &str, pos: usize, path: &str, reason: &'static str) -> Result<(), FilterError> {
    let mut bytes = name.bytes();
    let ok = match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'$' => {
            bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(FilterError::at(
            pos,
            K::InvalidAttributePath {
                path: path.to_owned(),
                reason,
            },
        ))
    }
}

/// Whether `urn` can be the `URI` of `attrPath = [URI ":"] ATTRNAME` (RFC 3986: a scheme of
/// a letter then letters, digits, `+`, `-` or `.`, a `:`, then the rest), e.g.
/// `urn:ietf:params:scim:schemas:core:2.0:User`. `a` in `a:b` is not one.
fn is_uri(urn: &str) -> bool {
    let Some((scheme, _)) = urn.split_once(':') else {
        return false;
    };
    let mut bytes = scheme.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Splits `[URN ":"] name ["." sub]`. The URN is everything before the last `:` (URNs contain
/// dots, e.g. `2.0`, so the split on `.` happens after the last `:`).
pub(crate) fn parse_attr_path_text(text: &str, pos: usize) -> Result<AttrPath, FilterError> {
    let (urn, rest) = match text.bytes().rposition(|b| b == b':') {
        Some(i) => {
            let urn = text.get(..i).unwrap_or_default();
            if urn.is_empty() || urn.ends_with(':') {
                return Err(FilterError::at(
                    pos,
                    K::InvalidAttributePath {
                        path: text.to_owned(),
                        reason: "the schema URN before the attribute name is empty",
                    },
                ));
            }
            if !is_uri(urn) {
                return Err(FilterError::at(
                    pos,
                    K::InvalidAttributePath {
                        path: text.to_owned(),
                        reason: "the part before the last ':' is not a schema URI; write the attribute name alone or prefix it with its schema URN, e.g. urn:ietf:params:scim:schemas:core:2.0:User:userName",
                    },
                ));
            }
            (Some(urn.to_owned()), text.get(i + 1..).unwrap_or_default())
        }
        None => (None, text),
    };
    let rest_pos = pos + (text.len() - rest.len());
    let (name, sub) = match rest.bytes().position(|b| b == b'.') {
        Some(i) => (
            rest.get(..i).unwrap_or_default(),
            Some(rest.get(i + 1..).unwrap_or_default()),
        ),
        None => (rest, None),
    };
    if sub.is_some_and(|s| s.bytes().any(|b| b == b'.')) {
        return Err(FilterError::at(
            rest_pos,
            K::InvalidAttributePath {
                path: text.to_owned(),
                reason: "SCIM paths have at most one sub-attribute (attribute.subAttribute)",
            },
        ));
    }
    check_name(
        name,
        rest_pos,
        text,
        "attribute names start with a letter and contain only letters, digits, '-' and '_'",
    )?;
    if let Some(sub) = sub {
        check_name(
            sub,
            rest_pos + name.len() + 1,
            text,
            "sub-attribute names start with a letter and contain only letters, digits, '-' and '_'",
        )?;
    }
    Ok(AttrPath {
        urn,
        name: name.to_owned(),
        sub_attr: sub.map(str::to_owned),
    })
}
