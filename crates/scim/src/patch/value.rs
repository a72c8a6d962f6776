//! Checking and normalizing PATCH values against attribute definitions, and comparing
//! values of multi-valued attributes.

use base64::Engine as _;
use chrono::DateTime;
use serde_json::{Map, Value};

use super::error::{snippet, PatchErrorKind as K};
use super::PatchOptions;
pub(super) use crate::resource::{find_key, get_attr};
use crate::schema::{AttributeDef, AttributeType};

/// Normalizes values for one apply call.
pub(super) struct Normalizer<'o> {
    pub(super) opts: &'o PatchOptions,
}

fn invalid(attribute: &str, expected: &'static str, found: &Value) -> K {
    K::InvalidValue {
        attribute: attribute.to_owned(),
        expected,
        found: snippet(found),
    }
}

pub(super) fn known_subs(def: &AttributeDef) -> String {
    let names: Vec<&str> = def.sub_attributes.iter().map(|s| s.name.as_str()).collect();
    if names.is_empty() {
        "no sub-attributes".to_owned()
    } else {
        names.join(", ")
    }
}

fn expected_for(t: AttributeType) -> &'static str {
    match t {
        AttributeType::String => "a string",
        AttributeType::Boolean => "true or false",
        AttributeType::Decimal => "a number",
        AttributeType::Integer => "an integer",
        AttributeType::DateTime => "an xsd:dateTime string such as \"2008-01-23T04:56:22Z\"",
        AttributeType::Reference => "a URI string",
        AttributeType::Binary => "a base64 string",
        AttributeType::Complex => "an object of sub-attributes",
    }
}

/// Whether the attribute `label` names (e.g. `addresses[type eq "work"].formatted`) may hold
/// TAB, LF and CR ([`crate::resource::MULTI_LINE_ATTRIBUTES`]).
fn allows_line_breaks(label: &str) -> bool {
    let mut plain = String::with_capacity(label.len());
    let mut depth = 0usize;
    for c in label.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    crate::resource::MULTI_LINE_ATTRIBUTES
        .iter()
        .any(|p| plain.eq_ignore_ascii_case(p))
}

fn has_control_characters(s: &str, multi_line: bool) -> bool {
    crate::resource::check_control_characters("", s, multi_line).is_err()
}

impl Normalizer<'_> {
    /// A value of a simple (non-complex) attribute. `None` for `null` (unassigned).
    pub(super) fn simple(&self, def: &AttributeDef, label: &str, v: &Value) -> Result<Option<Value>, K> {
        let fail = || invalid(label, expected_for(def.attr_type), v);
        if v.is_null() {
            return Ok(None);
        }
        let ok = match def.attr_type {
            AttributeType::Boolean => match v {
                Value::Bool(_) => v.clone(),
                // Entra ID sends "True"/"False" strings for booleans (a documented bug of its
                // SCIM client).
                Value::String(s) if self.opts.boolean_strings && s.eq_ignore_ascii_case("true") => {
                    Value::Bool(true)
                }
                Value::String(s) if self.opts.boolean_strings && s.eq_ignore_ascii_case("false") => {
                    Value::Bool(false)
                }
                _ => return Err(fail()),
            },
            // Control characters as resource validation refuses them (`resource::
            // check_control_characters`), so a patched resource stays valid.
            AttributeType::String => match v {
                Value::String(s) if !has_control_characters(s, allows_line_breaks(label)) => v.clone(),
                Value::String(_) => {
                    return Err(invalid(
                        label,
                        "a string without control characters (U+0000-U+001F; tabs and line breaks only in addresses.formatted and addresses.streetAddress)",
                        v,
                    ))
                }
                _ => return Err(fail()),
            },
            // The same rules as resource validation (`resource::check_value`), so a patched
            // resource stays valid.
            AttributeType::Reference => match v {
                Value::String(s)
                    if !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control()) =>
                {
                    v.clone()
                }
                _ => return Err(invalid(label, "a URI string without spaces", v)),
            },
            AttributeType::Binary => match v {
                Value::String(s) if base64::engine::general_purpose::STANDARD.decode(s).is_ok() => v.clone(),
                _ => {
                    return Err(invalid(
                        label,
                        "a base64 string (with padding, no line breaks)",
                        v,
                    ))
                }
            },
            AttributeType::Integer => match v {
                Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
                _ => return Err(fail()),
            },
            AttributeType::Decimal => match v {
                Value::Number(_) => v.clone(),
                _ => return Err(fail()),
            },
            AttributeType::DateTime => match v {
                Value::String(s) if DateTime::parse_from_rfc3339(s).is_ok() => v.clone(),
                _ => return Err(fail()),
            },
            AttributeType::Complex => return Err(fail()),
        };
        Ok(Some(ok))
    }

    /// A value of a complex attribute (or one element of a multi-valued complex attribute),
    /// as a map of canonical sub-attribute names to normalized values, where `null` means
    /// "unassign this sub-attribute". `None` when the whole value is `null`.
    pub(super) fn complex(
        &self,
        def: &AttributeDef,
        label: &str,
        v: &Value,
    ) -> Result<Option<Map<String, Value>>, K> {
        let obj = match v {
            Value::Null => return Ok(None),
            Value::Object(obj) => obj,
            // Entra ID sends the manager as a bare id: "value": "26118915-...".
            Value::String(_) | Value::Number(_) | Value::Bool(_)
                if self.opts.bare_value_for_complex && def.find_sub_attribute("value").is_some() =>
            {
                let mut m = Map::new();
                if let Some(sub) = def.find_sub_attribute("value") {
                    let sub_label = format!("{label}.{}", sub.name);
                    let nv = self.simple(sub, &sub_label, v)?;
                    m.insert(sub.name.clone(), nv.unwrap_or(Value::Null));
                }
                return Ok(Some(m));
            }
            _ => return Err(invalid(label, "an object of sub-attributes", v)),
        };
        let mut out = Map::new();
        for (key, sv) in obj {
            let Some(sub) = def.find_sub_attribute(key) else {
                if self.opts.ignore_unknown_sub_attributes {
                    continue;
                }
                return Err(K::UnexpectedSubAttribute {
                    attribute: label.to_owned(),
                    sub_attribute: key.clone(),
                    known: known_subs(def),
                });
            };
            let sub_label = format!("{label}.{}", sub.name);
            let nv = if sub.multi_valued {
                let items = self.multi(sub, &sub_label, sv)?;
                if items.is_empty() {
                    Value::Null
                } else {
                    Value::Array(items)
                }
            } else {
                self.simple(sub, &sub_label, sv)?.unwrap_or(Value::Null)
            };
            out.insert(sub.name.clone(), nv);
        }
        Ok(Some(out))
    }

    /// One element of a multi-valued attribute, ready to store: for complex attributes the
    /// `null` sub-attributes are dropped. `None` when the element is `null` or has no
    /// assigned sub-attribute (e.g. `{"$ref": null}`).
    pub(super) fn element(&self, def: &AttributeDef, label: &str, v: &Value) -> Result<Option<Value>, K> {
        if def.attr_type == AttributeType::Complex {
            Ok(self.complex(def, label, v)?.and_then(|mut m| {
                m.retain(|_, v| !v.is_null());
                (!m.is_empty()).then_some(Value::Object(m))
            }))
        } else {
            self.simple(def, label, v)
        }
    }

    /// The values of a multi-valued attribute: an array, or (when
    /// [`PatchOptions::single_value_for_multi_valued`] is on) one value standing for a
    /// one-element array. `null` elements are dropped.
    pub(super) fn multi(&self, def: &AttributeDef, label: &str, v: &Value) -> Result<Vec<Value>, K> {
        match v {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(e) = self.element(def, label, item)? {
                        out.push(e);
                    }
                }
                Ok(out)
            }
            _ if self.opts.single_value_for_multi_valued => {
                Ok(self.element(def, label, v)?.into_iter().collect())
            }
            _ => Err(invalid(label, "an array of values", v)),
        }
    }
}

/// Case-insensitive string equality as SCIM defines it for `caseExact: false` (RFC 7643
/// §2.2), with an ASCII fast path.
pub(super) fn str_eq(a: &str, b: &str, case_exact: bool) -> bool {
    if case_exact {
        return a == b;
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Whether a stored boolean is true (stored `"true"` strings count, as in filters).
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// How two values of a multi-valued attribute are recognized as "the same value" (RFC 7644
/// §3.5.2.1: adding a value that is already there changes nothing).
///
/// * simple attributes: equal values (strings per `caseExact`);
/// * complex attributes with a `value` sub-attribute (`emails`, `members`, ...): equal
///   `value`, and equal `type` when both carry one — so the same address can be both a
///   `work` and a `home` email, while `{"value": "id"}` matches a stored
///   `{"value": "id", "type": "User"}` member;
/// * other complex attributes (`addresses`): equal sub-attributes.
pub(super) struct Identity<'d> {
    complex: bool,
    value_sub: Option<&'d AttributeDef>,
    type_sub: Option<&'d AttributeDef>,
    case_exact: bool,
}

impl<'d> Identity<'d> {
    pub(super) fn new(def: &'d AttributeDef) -> Self {
        if def.attr_type == AttributeType::Complex {
            Self {
                complex: true,
                value_sub: def.find_sub_attribute("value"),
                type_sub: def.find_sub_attribute("type"),
                case_exact: def.find_sub_attribute("value").is_some_and(|s| s.case_exact),
            }
        } else {
            Self {
                complex: false,
                value_sub: None,
                type_sub: None,
                case_exact: def.case_exact,
            }
        }
    }

    /// Whether values are recognized by a string key (the `value` sub-attribute of a
    /// complex attribute, or the string itself), so a hash index can find them.
    pub(super) fn keyed(&self) -> bool {
        !self.complex || self.value_sub.is_some()
    }

    /// The string key of a value (see [`Identity::keyed`]), when it has one.
    pub(super) fn key_str<'v>(&self, element: &'v Value) -> Option<&'v str> {
        if !self.complex {
            return element.as_str();
        }
        let sub = self.value_sub?;
        let obj = element.as_object()?;
        get_attr(obj, &sub.name)?.as_str()
    }

    pub(super) fn case_exact(&self) -> bool {
        self.case_exact
    }

    /// Whether `candidate` (a normalized element from the request) is the same value as the
    /// stored `element`.
    pub(super) fn same(&self, candidate: &Value, element: &Value) -> bool {
        match self.value_sub {
            None => match (candidate, element) {
                (Value::String(a), Value::String(b)) => str_eq(a, b, self.case_exact),
                (Value::Object(a), Value::Object(b)) => objects_equal(a, b),
                _ => candidate == element,
            },
            Some(vsub) => {
                let (Some(c), Some(e)) = (candidate.as_object(), element.as_object()) else {
                    return candidate == element;
                };
                let (Some(cv), Some(ev)) = (get_attr(c, &vsub.name), get_attr(e, &vsub.name)) else {
                    // No `value` on one side: compare what the candidate specifies.
                    return subset_equal(c, e);
                };
                let value_eq = match (cv, ev) {
                    (Value::String(a), Value::String(b)) => str_eq(a, b, self.case_exact),
                    _ => cv == ev,
                };
                if !value_eq {
                    return false;
                }
                match self.type_sub {
                    Some(tsub) => match (get_attr(c, &tsub.name), get_attr(e, &tsub.name)) {
                        (Some(Value::String(a)), Some(Value::String(b))) => str_eq(a, b, tsub.case_exact),
                        _ => true,
                    },
                    None => true,
                }
            }
        }
    }
}

/// Object equality with case-insensitive keys.
fn objects_equal(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && subset_equal(a, b)
}

/// Whether every member of `a` is in `b` with an equal value (keys case-insensitive).
fn subset_equal(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.iter().all(|(k, v)| get_attr(b, k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{group_schema, user_schema};
    use serde_json::json;

    fn opts() -> PatchOptions {
        PatchOptions::default()
    }

    #[test]
    fn booleans_from_strings_only_when_tolerated() {
        let user = user_schema();
        let active = user.attribute("active").unwrap();
        let o = opts();
        let n = Normalizer { opts: &o };
        assert_eq!(
            n.simple(active, "active", &json!("False")).unwrap(),
            Some(json!(false))
        );
        assert_eq!(
            n.simple(active, "active", &json!("TRUE")).unwrap(),
            Some(json!(true))
        );
        assert!(n.simple(active, "active", &json!("yes")).is_err());
        let strict = PatchOptions::strict();
        let n = Normalizer { opts: &strict };
        assert!(n.simple(active, "active", &json!("False")).is_err());
    }

    #[test]
    fn member_identity_ignores_missing_type_and_case() {
        let group = group_schema();
        let members = group.attribute("members").unwrap();
        let id = Identity::new(members);
        assert!(id.same(&json!({"value": "ABC"}), &json!({"value": "abc", "type": "User"})));
        assert!(!id.same(
            &json!({"value": "abc", "type": "Group"}),
            &json!({"value": "abc", "type": "User"})
        ));
        assert!(!id.same(&json!({"value": "abd"}), &json!({"value": "abc"})));
    }

    #[test]
    fn str_eq_folds_unicode_when_not_case_exact() {
        assert!(str_eq("ÉCOLE", "école", false));
        assert!(!str_eq("ÉCOLE", "école", true));
    }
}
