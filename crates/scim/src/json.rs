//! Reading request bodies: JSON as RFC 8259 allows it, minus what SCIM cannot give a meaning.
//!
//! [`parse`] reads a body into a [`serde_json::Value`] like `serde_json::from_slice`, with two
//! differences:
//!
//! * **Duplicate member names are refused.** RFC 8259 §4 says names within an object
//!   "SHOULD be unique" and leaves the meaning of duplicates to the implementation;
//!   `serde_json` keeps the last one silently. A SCIM body with `"userName"` twice is a
//!   client bug whose outcome nobody chose, so it is a [`JsonError::DuplicateKey`] naming the
//!   member (the exact spelling: `"userName"` and `"USERNAME"` are two JSON members, which
//!   [`crate::resource`] then refuses as the same attribute given twice).
//! * **Text is normalized to Unicode NFC** (Unicode Standard Annex #15): every string and
//!   member name. `José` sent precomposed (U+00E9) or decomposed (`e` + U+0301) is the same
//!   name to a person, so it is one value here: stored once, found by either spelling
//!   (filter literals are normalized the same way by [`crate::filter`]), and unique
//!   attributes such as `userName` cannot hold both forms. Canonical equivalence never
//!   changes what a text means.
//!
//! ```
//! use fedkit_scim::json::{parse, JsonError};
//!
//! let v = parse(br#"{"userName": "Jose\u0301"}"#).unwrap();
//! assert_eq!(v["userName"], "Jos\u{e9}");
//!
//! let err = parse(br#"{"userName": "a", "userName": "b"}"#).unwrap_err();
//! assert!(matches!(err, JsonError::DuplicateKey { ref key, .. } if key == "userName"));
//! ```

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// Why a body is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// Not JSON (RFC 8259).
    #[error("the request body is not valid JSON (line {line}, column {column}): {reason}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's explanation.
        reason: String,
    },
    /// An object has two members with the same name.
    #[error("the member {key:?} appears twice in the same JSON object (line {line}, column {column}); send each attribute once")]
    DuplicateKey {
        /// The member name, as sent (NFC).
        key: String,
        /// 1-based line of the second occurrence's value.
        line: usize,
        /// 1-based column.
        column: usize,
    },
}

impl JsonError {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            JsonError::Syntax { .. } => "invalid_json",
            JsonError::DuplicateKey { .. } => "duplicate_key",
        }
    }
}

/// Text in Unicode Normalization Form C, without copying text that already is.
pub fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect())
    }
}

fn nfc_owned(text: String) -> String {
    if is_nfc_quick(text.chars()) == IsNormalized::Yes {
        text
    } else {
        text.nfc().collect()
    }
}

/// Parses `bytes` as one JSON value: duplicate member names refused, text normalized to NFC
/// (see the [module documentation](self)). Nesting is limited as `serde_json` limits it
/// (128 levels).
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = ValueSeed {
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match result {
        Ok(v) => Ok(v),
        Err(e) => Err(match duplicate.into_inner() {
            Some(key) => JsonError::DuplicateKey {
                key,
                line: e.line(),
                column: e.column(),
            },
            None => JsonError::Syntax {
                line: e.line(),
                column: e.column(),
                reason: e.to_string(),
            },
        }),
    }
}

#[derive(Clone, Copy)]
struct ValueSeed<'d> {
    /// The first duplicate member name found (the error itself carries only text).
    duplicate: &'d RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(nfc(v).into_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(nfc_owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let key = nfc_owned(key);
            if out.contains_key(&key) {
                let message = format!("duplicate member {key:?}");
                *self.duplicate.borrow_mut() = Some(key);
                return Err(de::Error::custom(message));
            }
            let v = map.next_value_seed(self)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_as_serde_json_for_ordinary_documents() {
        let text =
            br#"{"a": [1, -2, 3.5, 18446744073709551615, true, null, "x\u00e9"], "b": {"c": {}}, "d": []}"#;
        let ours = parse(text).unwrap();
        let theirs: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn duplicate_member_names_are_refused_at_any_depth() {
        for body in [
            &br#"{"userName": "a", "userName": "b"}"#[..],
            br#"{"name": {"givenName": "a", "givenName": "b"}}"#,
            br#"{"emails": [{"value": "a", "value": "b"}]}"#,
        ] {
            match parse(body) {
                Err(JsonError::DuplicateKey { key, .. }) => {
                    assert!(key == "userName" || key == "givenName" || key == "value")
                }
                other => panic!("{other:?}"),
            }
        }
        // Different spellings are different JSON members (the schema layer refuses them).
        assert!(parse(br#"{"userName": "a", "USERNAME": "b"}"#).is_ok());
    }

    #[test]
    fn a_member_name_in_two_spellings_of_one_nfc_form_is_a_duplicate() {
        let err = parse("{\"Jos\u{e9}\": 1, \"Jose\u{301}\": 2}".as_bytes()).unwrap_err();
        assert!(matches!(err, JsonError::DuplicateKey { ref key, .. } if key == "Jos\u{e9}"));
    }

    #[test]
    fn text_is_nfc() {
        let v = parse("[\"Jose\u{301}\", \"Jos\u{e9}\", \"\u{212b}\"]".as_bytes()).unwrap();
        assert_eq!(v, serde_json::json!(["Jos\u{e9}", "Jos\u{e9}", "\u{c5}"]));
    }

    #[test]
    fn syntax_errors_keep_their_position() {
        match parse(b"{\"a\": 1,\n \"b\": }") {
            Err(JsonError::Syntax { line, .. }) => assert_eq!(line, 2),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse(b"{} x"), Err(JsonError::Syntax { .. })));
        assert!(matches!(parse(b""), Err(JsonError::Syntax { .. })));
    }
}
