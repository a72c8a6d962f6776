//! Type-checking and canonicalizing values against one attribute definition.

use base64::Engine as _;
use chrono::DateTime;
use serde_json::{Map, Value};

use super::equal::is_unassigned;
use super::error::{JsonKind, ResourceError};
use super::limits::{UnknownAttributes, ValidationOptions};
use crate::schema::{AttributeDef, AttributeType, Mutability};

/// The sub-attribute `name` of `def`, including the RFC 7643 §2.4 defaults on multi-valued
/// complex attributes ([`AttributeDef::find_sub_attribute`]).
pub fn sub_attribute<'d>(def: &'d AttributeDef, name: &str) -> Option<&'d AttributeDef> {
    def.find_sub_attribute(name)
}

#[derive(Clone, Copy)]
pub(super) struct Check<'o> {
    pub(super) options: &'o ValidationOptions,
    /// Client input: readOnly (sub-)attributes are dropped.
    pub(super) input: bool,
    pub(super) resource_type: &'o str,
    /// The value may hold TAB, LF and CR ([`allows_line_breaks`]).
    pub(super) multi_line: bool,
}

/// The sub-attributes whose strings may hold TAB, LF and CR, as `attribute.subAttribute`:
/// RFC 7643 §4.1.2 says `addresses.formatted` and `addresses.streetAddress` "MAY contain
/// newlines". Every other string refuses every control character U+0000–U+001F
/// ([`ResourceError::ControlCharacter`]).
pub const MULTI_LINE_ATTRIBUTES: &[&str] = &["addresses.formatted", "addresses.streetAddress"];

/// Whether the sub-attribute `sub` of `parent` may hold TAB, LF and CR
/// ([`MULTI_LINE_ATTRIBUTES`]).
pub(crate) fn allows_line_breaks(parent: &AttributeDef, sub: &AttributeDef) -> bool {
    MULTI_LINE_ATTRIBUTES.iter().any(|p| {
        p.split_once('.')
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(&parent.name) && b.eq_ignore_ascii_case(&sub.name))
    })
}

/// Refuses a control character (U+0000–U+001F) in `text`, except TAB, LF and CR when
/// `multi_line`.
pub(crate) fn check_control_characters(
    path: &str,
    text: &str,
    multi_line: bool,
) -> Result<(), ResourceError> {
    let bad = text
        .chars()
        .enumerate()
        .find(|(_, c)| u32::from(*c) < 0x20 && !(multi_line && matches!(c, '\t' | '\n' | '\r')));
    match bad {
        Some((i, c)) => Err(ResourceError::ControlCharacter {
            attribute: path.to_owned(),
            code: u32::from(c),
            position: i + 1,
        }),
        None => Ok(()),
    }
}

pub(super) fn shorten(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(64).collect();
        out.push('…');
        out
    }
}

/// Checks and canonicalizes the value of one attribute (a whole multi-valued array, or a
/// single value) as client input: type-checks every value, drops `readOnly` sub-attributes,
/// coerces `"true"`/`"false"` strings for booleans when the options allow, renames
/// sub-attributes to their schema case and removes unassigned values. `Ok(None)` means the
/// value is unassigned (`null`, `[]`, `{}` or only unassigned parts). `path` names the
/// attribute in error messages.
///
/// The attribute's own mutability is not checked here: a PATCH engine refuses writes to
/// `readOnly` attributes itself ([`ResourceError::ReadOnly`]).
pub fn check_value(
    def: &AttributeDef,
    path: &str,
    value: &Value,
    options: &ValidationOptions,
) -> Result<Option<Value>, ResourceError> {
    let ck = Check {
        options,
        input: true,
        resource_type: "",
        multi_line: false,
    };
    check_attr(def, path, value, &ck)
}

/// Like [`check_value`] for **one element** of a multi-valued attribute (e.g. one member
/// added to a Group): the element is checked against the attribute's type without the
/// array.
pub fn check_element(
    def: &AttributeDef,
    path: &str,
    element: &Value,
    options: &ValidationOptions,
) -> Result<Option<Value>, ResourceError> {
    let ck = Check {
        options,
        input: true,
        resource_type: "",
        multi_line: false,
    };
    check_single(def, path, element, &ck)
}

pub(super) fn check_attr(
    def: &AttributeDef,
    path: &str,
    v: &Value,
    ck: &Check<'_>,
) -> Result<Option<Value>, ResourceError> {
    if v.is_null() {
        return Ok(None);
    }
    if !def.multi_valued {
        return check_single(def, path, v, ck);
    }
    let Value::Array(items) = v else {
        return Err(ResourceError::WrongType {
            attribute: path.to_owned(),
            expected: def.attr_type,
            multi_valued: true,
            found: JsonKind::of(v),
        });
    };
    if items.len() > ck.options.limits().max_values() {
        return Err(ResourceError::TooManyValues {
            attribute: path.to_owned(),
            max: ck.options.limits().max_values(),
            actual: items.len(),
        });
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(x) = check_single(def, &format!("{path}[{i}]"), item, ck)? {
            out.push(x);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if def.attr_type == AttributeType::Complex {
        let count = out
            .iter()
            .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
            .count();
        if count > 1 {
            return Err(ResourceError::MultiplePrimary {
                attribute: path.to_owned(),
                count,
            });
        }
    }
    Ok(Some(Value::Array(out)))
}

fn check_single(
    def: &AttributeDef,
    path: &str,
    v: &Value,
    ck: &Check<'_>,
) -> Result<Option<Value>, ResourceError> {
    let wrong = || ResourceError::WrongType {
        attribute: path.to_owned(),
        expected: def.attr_type,
        multi_valued: false,
        found: JsonKind::of(v),
    };
    let format = |value: &str, hint: &'static str| ResourceError::InvalidFormat {
        attribute: path.to_owned(),
        expected: def.attr_type,
        value: shorten(value),
        hint,
    };
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(match def.attr_type {
        AttributeType::String => match v {
            Value::String(s) => {
                check_control_characters(path, s, ck.multi_line)?;
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Boolean => match v {
            Value::Bool(_) => v.clone(),
            Value::String(s) if ck.options.boolean_strings() && s.eq_ignore_ascii_case("true") => {
                Value::Bool(true)
            }
            Value::String(s) if ck.options.boolean_strings() && s.eq_ignore_ascii_case("false") => {
                Value::Bool(false)
            }
            _ => return Err(wrong()),
        },
        AttributeType::Decimal => match v {
            Value::Number(_) => v.clone(),
            _ => return Err(wrong()),
        },
        AttributeType::Integer => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            Value::Number(n) => {
                return Err(format(
                    &n.to_string(),
                    "integers have no fractional part or exponent (RFC 7643 §2.3.4)",
                ))
            }
            _ => return Err(wrong()),
        },
        AttributeType::DateTime => match v {
            Value::String(s) => {
                if DateTime::parse_from_rfc3339(s).is_err() {
                    return Err(format(
                        s,
                        "use an xsd:dateTime with a time zone, e.g. \"2024-05-13T04:42:34Z\" (RFC 7643 §2.3.5)",
                    ));
                }
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Reference => match v {
            Value::String(s) => {
                if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(format(s, "a reference is a URI without spaces (RFC 7643 §2.3.7)"));
                }
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Binary => match v {
            Value::String(s) => {
                if base64::engine::general_purpose::STANDARD.decode(s).is_err() {
                    return Err(format(
                        s,
                        "binary values are base64 with padding and no line breaks (RFC 7643 §2.3.6)",
                    ));
                }
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Complex => match v {
            Value::Object(obj) => match check_complex(def, path, obj, ck)? {
                Some(m) => Value::Object(m),
                None => return Ok(None),
            },
            _ => return Err(wrong()),
        },
    }))
}

fn check_complex(
    def: &AttributeDef,
    path: &str,
    obj: &Map<String, Value>,
    ck: &Check<'_>,
) -> Result<Option<Map<String, Value>>, ResourceError> {
    let mut out = Map::new();
    let mut spelled: Vec<(&str, &str)> = Vec::new();
    for (k, val) in obj {
        let Some(sub) = sub_attribute(def, k) else {
            match ck.options.unknown_attributes() {
                UnknownAttributes::Ignore => continue,
                UnknownAttributes::Reject => {
                    return Err(ResourceError::UnknownAttribute {
                        attribute: format!("{}.{k}", strip_index(path)),
                        resource_type: ck.resource_type.to_owned(),
                    })
                }
            }
        };
        if let Some((_, first)) = spelled.iter().find(|(n, _)| *n == sub.name.as_str()) {
            return Err(ResourceError::DuplicateAttribute {
                attribute: format!("{path}.{}", sub.name),
                first: (*first).to_owned(),
                second: k.clone(),
            });
        }
        spelled.push((sub.name.as_str(), k.as_str()));
        if ck.input && sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let sub_ck = Check {
            multi_line: allows_line_breaks(def, sub),
            ..*ck
        };
        if let Some(x) = check_attr(sub, &format!("{path}.{}", sub.name), val, &sub_ck)? {
            out.insert(sub.name.clone(), x);
        }
    }
    for sub in &def.sub_attributes {
        if sub.required
            && !(ck.input && sub.mutability == Mutability::ReadOnly)
            && !has_value(&out, &sub.name)
        {
            return Err(ResourceError::RequiredMissing {
                attribute: format!("{path}.{}", sub.name),
            });
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Whether a canonical map has a value for `name` that satisfies `required`: assigned and not
/// the empty string (RFC 7643 §4.1.1: "a non-empty userName value").
pub(super) fn has_value(map: &Map<String, Value>, name: &str) -> bool {
    map.get(name)
        .is_some_and(|v| !is_unassigned(v) && v.as_str() != Some(""))
}

fn strip_index(path: &str) -> &str {
    match path.find('[') {
        Some(i) => path.get(..i).unwrap_or(path),
        None => path,
    }
}
