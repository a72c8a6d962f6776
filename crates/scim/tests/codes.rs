//! Every error enum of fedkit-scim has one distinct, `snake_case` code per variant (the
//! compiler checks that each variant has one; this checks that no two share it), and the
//! same condition has the same code across enums.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};

/// The `(variant, code)` pairs of `impl <enum> { pub fn code … }` in `source`.
fn codes(source: &str, enumeration: &str) -> Vec<(String, String)> {
    let start = source
        .find(&format!(
            "impl {enumeration} {{\n    /// A stable `snake_case` code"
        ))
        .unwrap_or_else(|| panic!("no code() for {enumeration}"));
    let body = &source[start..];
    let body = &body[..body.find("\n    }\n}\n").unwrap()];
    body.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix(&format!("{enumeration}::"))?;
            let variant: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
            let code = line.split("=> \"").nth(1)?.trim_end_matches("\",");
            Some((variant, code.to_owned()))
        })
        .collect()
}

#[test]
fn every_error_variant_has_its_own_stable_code() {
    let files = [
        (include_str!("../src/projection.rs"), "ProjectionError"),
        (include_str!("../src/list.rs"), "SearchError"),
        (include_str!("../src/json.rs"), "JsonError"),
        (include_str!("../src/bulk.rs"), "BulkError"),
        (include_str!("../src/schema/error.rs"), "SchemaError"),
        (include_str!("../src/patch/error.rs"), "PatchErrorKind"),
        (include_str!("../src/resource/error.rs"), "ResourceError"),
        (include_str!("../src/filter/mod.rs"), "FilterErrorKind"),
    ];
    // The same variant name means the same condition in every enum: one code for it.
    let mut by_variant: HashMap<String, String> = HashMap::new();
    for (source, enumeration) in files {
        let pairs = codes(source, enumeration);
        assert!(pairs.len() >= 2, "{enumeration}: {pairs:?}");
        let mut seen = HashSet::new();
        for (variant, code) in pairs {
            assert!(
                code.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{enumeration}::{variant}: {code}"
            );
            assert!(
                seen.insert(code.clone()),
                "{enumeration}: {code} names two conditions"
            );
            let earlier = by_variant.entry(variant.clone()).or_insert_with(|| code.clone());
            assert_eq!(*earlier, code, "{enumeration}::{variant}");
        }
    }
    // Spot checks through the API.
    let filter = fedkit_scim::filter::Filter::parse("userName eq").unwrap_err();
    assert_eq!(filter.code(), "filter_syntax");
    let json = fedkit_scim::json::parse(br#"{"a": 1, "a": 2}"#).unwrap_err();
    assert_eq!(json.code(), "duplicate_key");
}
