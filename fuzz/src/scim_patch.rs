//! SCIM PATCH on arbitrary request bodies against fixed resources. The first byte picks the
//! resource and the options; the rest is the request body.
//!
//! Oracles: never panics; a failed PATCH leaves the resource byte-identical (atomicity); an
//! outcome without change means an identical resource; a successful PATCH leaves an object,
//! no two members with the same value and type, at most one `primary` value per attribute,
//! and a resource that resource validation still accepts as stored; every error maps to a SCIM error (400 with a scimType, or 413/500 without).

use fedkit_scim::error::ScimError;
use fedkit_scim::patch::{apply, PatchOptions, PatchRequest};
use fedkit_scim::resource::ResourceSchema;
use fedkit_scim::schema::SchemaRegistry;
use serde_json::{json, Value};

fn resources() -> [(&'static str, Value); 4] {
    [
        (
            "User",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "id": "2819c223", "userName": "bjensen@example.com", "active": true,
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
                "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
                "addresses": [{"streetAddress": "100 Universal City Plaza", "type": "work", "primary": true}],
                "groups": [{"value": "e9e30dba", "display": "Tour Guides"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Tours", "manager": {"value": "26118915", "displayName": "John Smith"}},
                "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "version": "W/\"1\""}
            }),
        ),
        (
            "User",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "u", "userName": "u"}),
        ),
        (
            "Group",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "Tour Guides",
                "members": [{"value": "2819c223", "type": "User", "display": "Babs"}, {"value": "902c246b"}]
            }),
        ),
        (
            "Group",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g", "displayName": "Empty"}),
        ),
    ]
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// No attribute has two values with `primary` true.
fn check_primary(obj: &serde_json::Map<String, Value>) {
    for (name, v) in obj {
        if let Value::Array(items) = v {
            let primaries = items
                .iter()
                .filter(|e| truthy(e.as_object().and_then(|o| o.get("primary"))))
                .count();
            assert!(primaries <= 1, "{name} has {primaries} primary values");
        }
        if let Value::Object(inner) = v {
            if name.starts_with("urn:") {
                check_primary(inner);
            }
        }
    }
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let all = resources();
    let Some((rt, original)) = all.get(usize::from(selector & 3)) else {
        return;
    };
    let mut options = if selector & 4 != 0 {
        PatchOptions::strict()
    } else {
        PatchOptions::default()
    };
    options = options.with_create_on_unmatched_filter(selector & 8 != 0);
    let request = match PatchRequest::from_slice(body, &options) {
        Ok(r) => r,
        Err(e) => {
            let scim = ScimError::from(e);
            assert!(
                scim.status != 400 || scim.scim_type.is_some(),
                "400 without scimType: {scim}"
            );
            return;
        }
    };
    let registry = SchemaRegistry::core();
    let before = serde_json::to_vec(original).expect("serializable");
    let mut resource = original.clone();
    match apply(&registry, rt, &mut resource, &request, &options) {
        Err(e) => {
            assert!(!e.to_string().is_empty());
            let scim = ScimError::from(e);
            assert!(matches!(scim.status, 400 | 413 | 500), "status {}", scim.status);
            assert!(
                scim.status != 400 || scim.scim_type.is_some(),
                "400 without scimType: {scim}"
            );
            assert_eq!(
                serde_json::to_vec(&resource).expect("serializable"),
                before,
                "a failed PATCH modified the resource"
            );
        }
        Ok(outcome) => {
            if !outcome.changed {
                assert_eq!(&resource, original, "unchanged outcome, changed resource");
            }
            let schema = ResourceSchema::new(&registry, rt).expect("core resource type");
            assert!(
                schema.validate_stored(original).is_ok(),
                "seed resource must be valid"
            );
            if let Err(e) = schema.validate_stored(&resource) {
                panic!("a successful PATCH produced an invalid resource: {e}\n{resource:#}");
            }
            let obj = resource.as_object().expect("the resource stays an object");
            check_primary(obj);
            if let Some(Value::Array(members)) = obj.get("members") {
                let mut seen = std::collections::HashSet::new();
                for m in members {
                    let value = m
                        .get("value")
                        .and_then(Value::as_str)
                        .map(str::to_ascii_lowercase);
                    let kind = m.get("type").and_then(Value::as_str).map(str::to_ascii_lowercase);
                    if value.is_some() {
                        assert!(seen.insert((value, kind)), "duplicate member {m}");
                    }
                }
            }
        }
    }
}
