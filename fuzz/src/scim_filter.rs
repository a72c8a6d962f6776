//! SCIM filter and PATCH path parsing on arbitrary text. Oracles: parsing never panics; a
//! parsed filter's `Display` re-parses to an equal AST and displays identically (round trip);
//! the same holds for PATCH paths; a filter that compiles against the User or Group schema
//! evaluates without panicking, and `not (f)` matches exactly the resources `f` does not.
//!
//! `Display` normalises spacing and number spelling (`1e3` becomes `1000.0`), so the text it
//! writes can be longer than the input: the re-parse allows any length but keeps the default
//! depth and term limits, which `Display` cannot exceed.

use fedkit_scim::filter::{
    parse_filter, parse_path, parse_path_with_limits, EvalContext, Filter, FilterLimits,
};
use fedkit_scim::schema::SchemaRegistry;
use serde_json::{json, Value};

fn users() -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223", "userName": "bjensen@example.com", "active": true, "title": "",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
            "x509Certificates": [{"value": "aGVsbG8="}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915"}},
            "meta": {"created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T06:42:34+02:00"}
        }),
        json!({"id": "x", "userName": 7, "active": "False", "emails": "not an array", "meta": {"created": "yesterday"}}),
        json!({}),
    ]
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // usize::MAX is in range: the setter cannot refuse it.
    let Ok(any_length) = FilterLimits::default().with_max_length(usize::MAX) else {
        return;
    };
    if let Ok(f) = Filter::parse(text) {
        let shown = f.to_string();
        let again =
            parse_filter(&shown, &any_length).unwrap_or_else(|e| panic!("{shown:?} does not re-parse: {e}"));
        assert_eq!(again, f, "display/parse round trip changed the AST of {shown:?}");
        assert_eq!(again.to_string(), shown, "display is not stable");

        let registry = SchemaRegistry::core();
        for rt in ["User", "Group"] {
            let ctx = EvalContext::new(&registry, rt);
            if let Ok(compiled) = f.compile(&ctx) {
                let negated = Filter::negate(f.clone())
                    .compile(&ctx)
                    .expect("not (f) compiles when f does");
                for u in users() {
                    assert_eq!(negated.matches(&u), !compiled.matches(&u), "not ({shown}) on {u}");
                }
            }
        }
    }
    if let Ok(p) = parse_path(text) {
        let shown = p.to_string();
        let again = parse_path_with_limits(&shown, &any_length)
            .unwrap_or_else(|e| panic!("path {shown:?} does not re-parse: {e}"));
        assert_eq!(again, p, "path display/parse round trip changed {shown:?}");
        assert_eq!(again.to_string(), shown, "path display is not stable");
    }
}
