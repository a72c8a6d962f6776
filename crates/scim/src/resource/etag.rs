//! The weak ETag (`meta.version`) of a resource's content.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The weak ETag (`W/"…"`) of a resource's content: a SHA-256 over its canonical JSON
/// (object keys sorted, `meta` excluded), so equal content gives equal versions whatever the
/// key order or serializer.
pub fn version_of(resource: &Map<String, Value>) -> String {
    let mut h = Sha256::new();
    h.update(b"{");
    let mut keys: Vec<&String> = resource.keys().filter(|k| k.as_str() != "meta").collect();
    keys.sort();
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            h.update(b",");
        }
        hash_string(&mut h, k);
        h.update(b":");
        if let Some(v) = resource.get(k.as_str()) {
            hash_value(&mut h, v);
        }
    }
    h.update(b"}");
    let digest = h.finalize();
    let half = digest.get(..16).unwrap_or_default();
    format!("W/\"{}\"", base16ct::lower::encode_string(half))
}

fn hash_string(h: &mut Sha256, s: &str) {
    h.update(Value::String(s.to_owned()).to_string().as_bytes());
}

fn hash_value(h: &mut Sha256, v: &Value) {
    match v {
        Value::Object(m) => {
            h.update(b"{");
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                hash_string(h, k);
                h.update(b":");
                if let Some(x) = m.get(k.as_str()) {
                    hash_value(h, x);
                }
            }
            h.update(b"}");
        }
        Value::Array(items) => {
            h.update(b"[");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                hash_value(h, x);
            }
            h.update(b"]");
        }
        other => h.update(other.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn version_ignores_key_order_and_meta() {
        let a = json!({"a": 1, "b": {"x": [1, 2], "y": "z"}, "meta": {"created": "x"}});
        let b = json!({"b": {"y": "z", "x": [1, 2]}, "a": 1});
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            unreachable!()
        };
        assert_eq!(version_of(&a), version_of(&b));
        let c = json!({"b": {"y": "z", "x": [2, 1]}, "a": 1});
        let Value::Object(c) = c else { unreachable!() };
        assert_ne!(version_of(&a), version_of(&c));
    }
}
