//! Schema-aware equality of values (RFC 7644 §3.5.2: comparison by the attribute's rules).

use chrono::DateTime;
use serde_json::Value;

use super::check::sub_attribute;
use super::lookup::get_attr;
use crate::schema::{AttributeDef, AttributeType};

/// Whether two values of `def` are equal for SCIM: strings case-insensitively unless
/// `caseExact`, dateTimes chronologically, numbers numerically, complex values sub-attribute
/// by sub-attribute (unassigned sub-attributes equal absent ones), multi-valued attributes as
/// multisets (order does not matter).
pub fn values_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    if def.multi_valued {
        let (xs, ys) = (as_slice(a), as_slice(b));
        if xs.len() != ys.len() {
            return false;
        }
        let mut used = vec![false; ys.len()];
        return xs.iter().all(|x| {
            let hit = ys
                .iter()
                .enumerate()
                .find(|(j, y)| !used.get(*j).copied().unwrap_or(true) && single_equal(def, x, y));
            match hit.and_then(|(j, _)| used.get_mut(j)) {
                Some(slot) => {
                    *slot = true;
                    true
                }
                None => false,
            }
        });
    }
    single_equal(def, a, b)
}

fn as_slice(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        Value::Null => &[],
        other => std::slice::from_ref(other),
    }
}

/// Equality of one value (an element of a multi-valued attribute, or a single value).
pub fn element_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    single_equal(def, a, b)
}

fn single_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (def.attr_type, a, b) {
        (AttributeType::String | AttributeType::Reference, Value::String(x), Value::String(y)) => {
            if def.case_exact {
                x == y
            } else {
                x == y || x.to_lowercase() == y.to_lowercase()
            }
        }
        (AttributeType::DateTime, Value::String(x), Value::String(y)) => {
            match (DateTime::parse_from_rfc3339(x), DateTime::parse_from_rfc3339(y)) {
                (Ok(p), Ok(q)) => p == q,
                _ => x == y,
            }
        }
        (AttributeType::Decimal | AttributeType::Integer, Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64()) {
                (Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (AttributeType::Complex, Value::Object(x), Value::Object(y)) => {
            let subs_x = x.iter().filter(|(_, v)| !is_unassigned(v));
            let count_y = y.values().filter(|v| !is_unassigned(v)).count();
            let mut count_x = 0;
            for (k, vx) in subs_x {
                count_x += 1;
                let Some(vy) = get_attr(y, k) else { return false };
                let equal = match sub_attribute(def, k) {
                    Some(sd) => values_equal(sd, vx, vy),
                    None => vx == vy,
                };
                if !equal {
                    return false;
                }
            }
            count_x == count_y
        }
        _ => a == b,
    }
}

/// RFC 7643 §2.5: `null`, `[]` and `{}` are unassigned.
pub(super) fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}
