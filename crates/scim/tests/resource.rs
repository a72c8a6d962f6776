//! Resource validation, canonical shape, `meta`, PUT semantics and the helpers for PATCH.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{TimeZone, Utc};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::filter::AttrPath;
use fedkit_scim::resource::{
    self, attribute_container, check_element, check_value, find_key, get_attr, parse_json, values_equal,
    JsonKind, MetaContext, ResourceError, ResourceLimits, ResourceSchema, UndefinedSchemas,
    UnknownAttributes, ValidationOptions,
};
use fedkit_scim::schema::{
    AttributeDef, AttributeType, Mutability, ResourceType, Schema, SchemaRegistry, ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA, USER_SCHEMA,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const BASE: &str = "https://example.com/v2";

fn read(name: &str) -> Value {
    let path = format!("{}/tests/data/rfc7643/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn ctx(h: u32) -> MetaContext {
    MetaContext::new(
        Utc.with_ymd_and_hms(2024, 5, 13, h, 0, 0).unwrap(),
        format!("{BASE}/"),
    )
}

fn users(registry: &SchemaRegistry) -> ResourceSchema<'_> {
    ResourceSchema::new(registry, "User").unwrap()
}

fn user_input(extra: Value) -> Value {
    let mut v = json!({"schemas": [USER_SCHEMA], "userName": "bjensen@example.com"});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

fn validate_user(input: Value) -> Result<Map<String, Value>, ResourceError> {
    let registry = SchemaRegistry::core();
    users(&registry).validate_input(&input)
}

#[test]
fn rfc_full_user_as_post_body() {
    let registry = SchemaRegistry::core();
    let body = read("8.2-full-user.json");
    let user = users(&registry)
        .create(&body, "2819c223-7f76-453a-919d-413861904646", &ctx(4))
        .unwrap();
    // readOnly attributes from the client are ignored: groups are the service's to compute, meta is rebuilt.
    assert!(user.get("groups").is_none());
    assert_eq!(user["meta"]["created"], "2024-05-13T04:00:00Z");
    assert_eq!(user["meta"]["lastModified"], "2024-05-13T04:00:00Z");
    assert_eq!(user["meta"]["resourceType"], "User");
    assert_eq!(
        user["meta"]["location"],
        "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
    );
    assert_eq!(user["schemas"], json!([USER_SCHEMA]));
    // Everything else arrives unchanged, including the writeOnly password (for the host to hash).
    let mut expected = body.clone();
    let obj = expected.as_object_mut().unwrap();
    obj.remove("groups");
    obj.remove("meta");
    let mut got = user.clone();
    got.as_object_mut().unwrap().remove("meta");
    assert_eq!(got, expected);
}

#[test]
fn rfc_enterprise_user_and_group() {
    let registry = SchemaRegistry::core();
    let user = users(&registry)
        .create(&read("8.3-enterprise-user.json"), "2819c223", &ctx(4))
        .unwrap();
    let ext = &user[ENTERPRISE_USER_SCHEMA];
    assert_eq!(ext["employeeNumber"], "701984");
    // manager.displayName is readOnly: ignored on input.
    assert_eq!(
        ext["manager"],
        json!({"value": "26118915-6090-4610-87e4-49d8ca9f808d", "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"})
    );
    assert_eq!(user["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));

    let groups = ResourceSchema::new(&registry, "Group").unwrap();
    let group = groups
        .create(&read("8.4-group.json"), "e9e30dba", &ctx(4))
        .unwrap();
    // members[].display is not in the RFC 7643 §8.7.1 Group schema but is an RFC 7643 §2.4
    // default sub-attribute, which Okta and Entra ID send.
    assert_eq!(group["members"][1]["display"], "Mandy Pepperidge");
    assert_eq!(
        group["meta"]["location"],
        "https://example.com/v2/Groups/e9e30dba"
    );
    assert_eq!(group["schemas"], json!([GROUP_SCHEMA]));

    // The stored RFC examples are valid stored resources as they are (readOnly kept).
    for name in [
        "8.1-minimal-user.json",
        "8.2-full-user.json",
        "8.3-enterprise-user.json",
    ] {
        let doc = read(name);
        let stored = users(&registry).validate_stored(&doc).unwrap();
        assert_eq!(stored.get("meta"), doc.get("meta"), "{name}");
        assert_eq!(stored.get("groups"), doc.get("groups"), "{name}");
    }
}

#[test]
fn names_and_schema_urns_are_case_insensitive() {
    let out = validate_user(json!({
        "SCHEMAS": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],
        "USERNAME": "bjensen",
        "Name": {"GIVENNAME": "Barbara"},
        "emails": [{"VALUE": "b@example.com", "Type": "work", "PRIMARY": true}],
        "urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:User": {"EmployeeNumber": "1"},
    }))
    .unwrap();
    assert_eq!(
        Value::Object(out),
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
            "userName": "bjensen",
            "name": {"givenName": "Barbara"},
            "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
            ENTERPRISE_USER_SCHEMA: {"employeeNumber": "1"},
        })
    );
}

#[test]
fn urn_qualified_attributes() {
    let out = validate_user(json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "urn:ietf:params:scim:schemas:core:2.0:User:userName": "bjensen",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": "26118915"},
    }))
    .unwrap();
    assert_eq!(out["userName"], "bjensen");
    assert_eq!(
        out[ENTERPRISE_USER_SCHEMA],
        json!({"employeeNumber": "701984", "manager": {"value": "26118915"}})
    );

    // Extension data whose URN is missing from "schemas" is accepted and "schemas" completed.
    let out = validate_user(user_input(
        json!({ENTERPRISE_USER_SCHEMA: {"department": "Tour Operations"}}),
    ))
    .unwrap();
    assert_eq!(out["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
}

#[test]
fn duplicates_are_refused() {
    let err = validate_user(user_input(json!({"USERNAME": "other"}))).unwrap_err();
    assert!(
        matches!(err, ResourceError::DuplicateAttribute { ref attribute, .. } if attribute == "userName"),
        "{err:?}"
    );

    let err = validate_user(user_input(json!({
        ENTERPRISE_USER_SCHEMA: {"department": "a"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "b",
    })))
    .unwrap_err();
    assert!(matches!(err, ResourceError::DuplicateAttribute { .. }), "{err:?}");

    let err = validate_user(user_input(json!({"name": {"givenName": "a", "GivenName": "b"}}))).unwrap_err();
    assert_eq!(
        err,
        ResourceError::DuplicateAttribute {
            attribute: "name.givenName".into(),
            first: "GivenName".into(),
            second: "givenName".into()
        }
    );
}

#[test]
fn schemas_member_is_checked() {
    let err = validate_user(json!({"userName": "x"})).unwrap_err();
    assert_eq!(
        err,
        ResourceError::MissingSchemas {
            expected: USER_SCHEMA.into()
        }
    );
    let err = validate_user(json!({"schemas": [GROUP_SCHEMA], "userName": "x"})).unwrap_err();
    assert_eq!(
        err,
        ResourceError::MissingCoreSchema {
            expected: USER_SCHEMA.into(),
            found: vec![GROUP_SCHEMA.into()]
        }
    );
    let err = validate_user(json!({"schemas": USER_SCHEMA, "userName": "x"})).unwrap_err();
    assert!(
        matches!(
            err,
            ResourceError::WrongType {
                found: JsonKind::String,
                ..
            }
        ),
        "{err:?}"
    );
    let err = ResourceSchema::new(&SchemaRegistry::core(), "Users").unwrap_err();
    assert_eq!(err, ResourceError::UnknownResourceType { name: "Users".into() });
}

#[test]
fn unknown_attributes_are_refused_by_default_and_dropped_on_request() {
    let body = user_input(json!({
        "favouriteColour": "green",
        "name": {"givenName": "Barbara", "nickname": "Babs"},
        "urn:example:acme:2.0:User": {"badge": 7},
        "urn:example:acme:2.0:User:badge": 7,
    }));
    let err = validate_user(body.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            ResourceError::UnknownAttribute { .. } | ResourceError::UnknownSchema { .. }
        ),
        "{err:?}"
    );
    let err = validate_user(user_input(json!({"favouriteColour": "green"}))).unwrap_err();
    assert_eq!(
        err,
        ResourceError::UnknownAttribute {
            attribute: "favouriteColour".into(),
            resource_type: "User".into()
        }
    );
    assert!(err
        .to_string()
        .contains("remove it from the IdP's attribute mapping"));
    let err = validate_user(user_input(json!({"name": {"nickname": "Babs"}}))).unwrap_err();
    assert!(
        matches!(err, ResourceError::UnknownAttribute { ref attribute, .. } if attribute == "name.nickname")
    );

    let registry = SchemaRegistry::core();
    let lenient = users(&registry)
        .with_options(ValidationOptions::default().with_unknown_attributes(UnknownAttributes::Ignore));
    let out = lenient.validate_input(&body).unwrap();
    assert_eq!(
        Value::Object(out),
        json!({"schemas": [USER_SCHEMA], "userName": "bjensen@example.com", "name": {"givenName": "Barbara"}})
    );
}

fn custom_registry() -> SchemaRegistry {
    let mut registry = SchemaRegistry::core();
    let ext = Schema::new("urn:example:acme:2.0:User", "AcmeUser", "Acme")
        .with_attribute(AttributeDef::new("badge", AttributeType::Integer))
        .with_attribute(AttributeDef::new("height", AttributeType::Decimal))
        .with_attribute(AttributeDef::new("hired", AttributeType::DateTime))
        .with_attribute(AttributeDef::new("avatar", AttributeType::Binary))
        .with_attribute(
            AttributeDef::new("employeeId", AttributeType::String).mutability(Mutability::Immutable),
        )
        .with_attribute(AttributeDef::new("tags", AttributeType::String).multi_valued());
    registry.register_schema(ext).unwrap();
    registry
        .add_extension("User", "urn:example:acme:2.0:User", false)
        .unwrap();
    registry
}

fn validate_custom(ext: Value) -> Result<Map<String, Value>, ResourceError> {
    let registry = custom_registry();
    users(&registry).validate_input(&user_input(json!({ "urn:example:acme:2.0:User": ext })))
}

#[test]
fn every_type_is_checked() {
    let ok = validate_custom(json!({
        "badge": 42, "height": 1.75, "hired": "2011-05-13T06:42:34+02:00", "avatar": "aGVsbG8=", "tags": ["a", "b"]
    }))
    .unwrap();
    assert_eq!(ok["urn:example:acme:2.0:User"]["badge"], 42);

    let wrong = |ext: Value| validate_custom(ext).unwrap_err();
    assert_eq!(
        wrong(json!({"badge": "42"})),
        ResourceError::WrongType {
            attribute: "urn:example:acme:2.0:User:badge".into(),
            expected: AttributeType::Integer,
            multi_valued: false,
            found: JsonKind::String
        }
    );
    assert!(matches!(
        wrong(json!({"badge": 4.5})),
        ResourceError::InvalidFormat {
            expected: AttributeType::Integer,
            ..
        }
    ));
    assert!(matches!(
        wrong(json!({"height": "tall"})),
        ResourceError::WrongType {
            expected: AttributeType::Decimal,
            ..
        }
    ));
    assert!(matches!(
        wrong(json!({"hired": "13/05/2011"})),
        ResourceError::InvalidFormat {
            expected: AttributeType::DateTime,
            ..
        }
    ));
    // xsd:dateTime without a time zone cannot be ordered against others: refused.
    assert!(matches!(
        wrong(json!({"hired": "2011-05-13T04:42:34"})),
        ResourceError::InvalidFormat { .. }
    ));
    assert!(matches!(
        wrong(json!({"avatar": "not base64!"})),
        ResourceError::InvalidFormat {
            expected: AttributeType::Binary,
            ..
        }
    ));
    assert_eq!(
        wrong(json!({"tags": "a"})),
        ResourceError::WrongType {
            attribute: "urn:example:acme:2.0:User:tags".into(),
            expected: AttributeType::String,
            multi_valued: true,
            found: JsonKind::String
        }
    );
    assert!(
        matches!(wrong(json!({"tags": ["a", 1]})), ResourceError::WrongType { ref attribute, .. } if attribute.ends_with("tags[1]"))
    );

    let core = |extra: Value| validate_user(user_input(extra));
    assert!(matches!(
        core(json!({"displayName": 7})).unwrap_err(),
        ResourceError::WrongType { .. }
    ));
    assert!(matches!(
        core(json!({"active": "yes"})).unwrap_err(),
        ResourceError::WrongType {
            expected: AttributeType::Boolean,
            ..
        }
    ));
    assert!(matches!(
        core(json!({"name": "Barbara"})).unwrap_err(),
        ResourceError::WrongType {
            expected: AttributeType::Complex,
            ..
        }
    ));
    assert!(matches!(
        core(json!({"emails": {"value": "x"}})).unwrap_err(),
        ResourceError::WrongType {
            multi_valued: true,
            ..
        }
    ));
    assert!(matches!(
        core(json!({"profileUrl": "https://x.example/a b"})).unwrap_err(),
        ResourceError::InvalidFormat {
            expected: AttributeType::Reference,
            ..
        }
    ));
    let err = core(json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]}))
        .unwrap_err();
    assert_eq!(
        err,
        ResourceError::MultiplePrimary {
            attribute: "emails".into(),
            count: 2
        }
    );
    let msg = core(json!({"active": 1})).unwrap_err().to_string();
    assert_eq!(msg, "active must be true or false, but is a number");
}

#[test]
fn boolean_strings_are_coerced_unless_disabled() {
    let out = validate_user(user_input(
        json!({"active": "False", "emails": [{"value": "a", "primary": "TRUE"}]}),
    ))
    .unwrap();
    assert_eq!(out["active"], false);
    assert_eq!(out["emails"][0]["primary"], true);
    let registry = SchemaRegistry::core();
    let strict = users(&registry).with_options(ValidationOptions::default().with_boolean_strings(false));
    assert!(strict
        .validate_input(&user_input(json!({"active": "False"})))
        .is_err());
}

#[test]
fn unassigned_values_are_removed_and_required_checked() {
    let out = validate_user(user_input(json!({
        "displayName": null, "emails": [], "name": {}, "phoneNumbers": [null], "addresses": [{"type": null}]
    })))
    .unwrap();
    assert_eq!(
        Value::Object(out),
        json!({"schemas": [USER_SCHEMA], "userName": "bjensen@example.com"})
    );

    for body in [
        json!({"schemas": [USER_SCHEMA]}),
        json!({"schemas": [USER_SCHEMA], "userName": null}),
        json!({"schemas": [USER_SCHEMA], "userName": ""}),
    ] {
        assert_eq!(
            validate_user(body).unwrap_err(),
            ResourceError::RequiredMissing {
                attribute: "userName".into()
            }
        );
    }
}

#[test]
fn limits() {
    let limits = ResourceLimits::default().with_max_bytes(10).unwrap();
    assert_eq!(
        parse_json(br#"{"userName": "x"}"#, &limits).unwrap_err(),
        ResourceError::TooLarge { max: 10, actual: 17 }
    );
    let err = parse_json(b"{\"a\":\n}", &ResourceLimits::default()).unwrap_err();
    assert!(
        matches!(err, ResourceError::InvalidJson { line: 2, .. }),
        "{err:?}"
    );
    assert_eq!(ScimError::from(err).scim_type, Some(ScimType::InvalidSyntax));

    let registry = SchemaRegistry::core();
    let small = users(&registry).with_options(
        ValidationOptions::default().with_limits(ResourceLimits::default().with_max_values(2).unwrap()),
    );
    let err = small
        .validate_input(&user_input(
            json!({"emails": [{"value": "a"}, {"value": "b"}, {"value": "c"}]}),
        ))
        .unwrap_err();
    assert_eq!(
        err,
        ResourceError::TooManyValues {
            attribute: "emails".into(),
            max: 2,
            actual: 3
        }
    );

    let err = users(&registry)
        .validate_input(&json!(["not", "an", "object"]))
        .unwrap_err();
    assert_eq!(
        err,
        ResourceError::NotAnObject {
            found: JsonKind::Array
        }
    );
}

#[test]
fn errors_convert_to_scim_errors() {
    let cases = [
        (
            ResourceError::RequiredMissing {
                attribute: "userName".into(),
            },
            400,
            Some(ScimType::InvalidValue),
        ),
        (
            ResourceError::Immutable {
                attribute: "x".into(),
            },
            400,
            Some(ScimType::Mutability),
        ),
        (
            ResourceError::NotAnObject {
                found: JsonKind::Null,
            },
            400,
            Some(ScimType::InvalidSyntax),
        ),
        (ResourceError::TooLarge { max: 1, actual: 2 }, 413, None),
    ];
    for (err, status, scim_type) in cases {
        let doc = ScimError::from(err.clone()).to_json();
        assert_eq!(doc["status"], status.to_string());
        assert_eq!(
            doc.get("scimType").and_then(Value::as_str),
            scim_type.map(ScimType::as_str)
        );
        assert_eq!(doc["detail"], err.to_string());
    }
}

#[test]
fn ids_and_locations() {
    let registry = SchemaRegistry::core();
    let u = users(&registry);
    let body = user_input(json!({}));
    assert!(matches!(
        u.create(&body, "", &ctx(1)).unwrap_err(),
        ResourceError::InvalidId { .. }
    ));
    assert!(matches!(
        u.create(&body, "bulkId", &ctx(1)).unwrap_err(),
        ResourceError::InvalidId { .. }
    ));
    let user = u.create(&body, "a b/c?d", &ctx(1)).unwrap();
    assert_eq!(user["id"], "a b/c?d");
    assert_eq!(
        user["meta"]["location"],
        "https://example.com/v2/Users/a%20b%2Fc%3Fd"
    );
}

#[test]
fn put_replaces_with_mutability_rules() {
    let registry = custom_registry();
    let u = users(&registry);
    let created = u
        .create(
            &user_input(json!({
                "displayName": "Babs",
                "title": "Tour Guide",
                "password": "t1meMa$heen",
                "urn:example:acme:2.0:User": {"employeeId": "E-1", "badge": 1},
            })),
            "2819c223",
            &ctx(4),
        )
        .unwrap();
    // The service records group membership (readOnly) in the stored resource.
    let mut stored = created.clone();
    stored["groups"] = json!([{"value": "e9e30dba", "display": "Tour Guides"}]);

    // JumpCloud's PUT after a name edit: full representation, no password, no id, title dropped.
    let put = json!({
        "schemas": [USER_SCHEMA, "urn:example:acme:2.0:User"],
        "id": "something-else",
        "userName": "bjensen@example.com",
        "displayName": "Barbara Jensen",
        "groups": [],
        "urn:example:acme:2.0:User": {"badge": 2},
    });
    let replaced = u.replace(&stored, &put, &ctx(5)).unwrap();
    assert_eq!(replaced["id"], "2819c223", "readOnly id kept");
    assert_eq!(replaced["groups"], stored["groups"], "readOnly groups kept");
    assert_eq!(
        replaced["password"], "t1meMa$heen",
        "writeOnly password left out: kept"
    );
    assert_eq!(replaced["displayName"], "Barbara Jensen");
    assert!(replaced.get("title").is_none(), "readWrite left out: cleared");
    assert_eq!(
        replaced["urn:example:acme:2.0:User"],
        json!({"employeeId": "E-1", "badge": 2}),
        "immutable left out: kept"
    );
    assert_eq!(replaced["meta"]["created"], "2024-05-13T04:00:00Z");
    assert_eq!(replaced["meta"]["lastModified"], "2024-05-13T05:00:00Z");
    assert_ne!(replaced["meta"]["version"], created["meta"]["version"]);

    // The same immutable value is fine; a different one is a mutability error.
    let mut same = put.clone();
    same["urn:example:acme:2.0:User"]["employeeId"] = json!("E-1");
    assert!(u.replace(&stored, &same, &ctx(5)).is_ok());
    let mut changed = put.clone();
    changed["urn:example:acme:2.0:User"]["employeeId"] = json!("E-2");
    let err = u.replace(&stored, &changed, &ctx(5)).unwrap_err();
    assert_eq!(
        err,
        ResourceError::Immutable {
            attribute: "urn:example:acme:2.0:User:employeeId".into()
        }
    );
    assert_eq!(ScimError::from(err).scim_type, Some(ScimType::Mutability));

    // Required attributes are checked on the body.
    let err = u
        .replace(&stored, &json!({"schemas": [USER_SCHEMA]}), &ctx(5))
        .unwrap_err();
    assert_eq!(
        err,
        ResourceError::RequiredMissing {
            attribute: "userName".into()
        }
    );

    // A PUT that changes nothing keeps lastModified and version.
    let again = u.replace(&replaced, &put, &ctx(9)).unwrap();
    assert_eq!(again["meta"], replaced["meta"]);
}

#[test]
fn put_keeps_read_only_sub_attributes() {
    let registry = SchemaRegistry::core();
    let u = users(&registry);
    let mut stored = u
        .create(
            &user_input(json!({ENTERPRISE_USER_SCHEMA: {"manager": {"value": "m1"}}})),
            "u1",
            &ctx(1),
        )
        .unwrap();
    stored[ENTERPRISE_USER_SCHEMA]["manager"]["displayName"] = json!("John Smith");
    let out = u
        .replace(
            &stored,
            &user_input(json!({ENTERPRISE_USER_SCHEMA: {"manager": {"value": "m2", "displayName": "X"}}})),
            &ctx(2),
        )
        .unwrap();
    assert_eq!(
        out[ENTERPRISE_USER_SCHEMA]["manager"],
        json!({"value": "m2", "displayName": "John Smith"})
    );
}

#[test]
fn finish_update_recomputes_schemas_and_meta() {
    let registry = SchemaRegistry::core();
    let u = users(&registry);
    let stored = u.create(&user_input(json!({})), "u1", &ctx(1)).unwrap();
    let mut updated = stored.clone();
    updated[ENTERPRISE_USER_SCHEMA] = json!({"department": "Sales"});
    updated["id"] = json!("tampered");
    let out = u.finish_update(&stored, updated, &ctx(2));
    assert_eq!(out["id"], "u1");
    assert_eq!(out["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    assert_eq!(out["meta"]["created"], stored["meta"]["created"]);
    assert_eq!(out["meta"]["lastModified"], "2024-05-13T02:00:00Z");
    let unchanged = u.finish_update(&stored, stored.clone(), &ctx(3));
    assert_eq!(unchanged, stored);
}

#[test]
fn helpers_for_patch() {
    let registry = SchemaRegistry::core();
    let user = read("8.3-enterprise-user.json");
    let obj = user.as_object().unwrap();
    assert_eq!(get_attr(obj, "USERNAME"), Some(&json!("bjensen@example.com")));
    assert_eq!(find_key(obj, "displayname"), Some("displayName"));

    let path =
        AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber").unwrap();
    let resolved = registry.resolve("User", &path).unwrap();
    let container = attribute_container(obj, &resolved).unwrap();
    assert_eq!(
        get_attr(container, &resolved.attribute.name),
        Some(&json!("701984"))
    );

    let mut copy = obj.clone();
    copy.remove(ENTERPRISE_USER_SCHEMA);
    assert!(attribute_container(&copy, &resolved).is_none());
    let c = resource::attribute_container_mut(&mut copy, &resolved, true).unwrap();
    c.insert("employeeNumber".into(), json!("1"));
    assert_eq!(copy[ENTERPRISE_USER_SCHEMA], json!({"employeeNumber": "1"}));

    let members = registry
        .schema(GROUP_SCHEMA)
        .unwrap()
        .attribute("members")
        .unwrap();
    let opts = ValidationOptions::default();
    assert_eq!(
        check_element(
            members,
            "members",
            &json!({"VALUE": "u1", "display": "Babs", "$ref": null}),
            &opts
        )
        .unwrap(),
        Some(json!({"value": "u1", "display": "Babs"}))
    );
    assert!(check_element(members, "members", &json!("u1"), &opts).is_err());
    assert_eq!(
        check_value(members, "members", &json!([{"value": "u1"}]), &opts).unwrap(),
        Some(json!([{"value": "u1"}]))
    );
    assert_eq!(check_value(members, "members", &json!([]), &opts).unwrap(), None);

    let emails = registry.schema(USER_SCHEMA).unwrap().attribute("emails").unwrap();
    assert!(values_equal(
        emails,
        &json!([{"value": "A@example.com", "type": "work"}, {"value": "b@example.com"}]),
        &json!([{"value": "b@example.com"}, {"type": "WORK", "value": "a@example.com"}])
    ));
    assert!(!values_equal(
        emails,
        &json!([{"value": "a"}]),
        &json!([{"value": "a"}, {"value": "a"}])
    ));
    let id = registry
        .common_attributes()
        .iter()
        .find(|a| a.name == "id")
        .unwrap();
    assert!(!values_equal(id, &json!("ABC"), &json!("abc")), "id is caseExact");
    let created = AttributeDef::new("t", AttributeType::DateTime);
    assert!(values_equal(
        &created,
        &json!("2011-05-13T04:42:34Z"),
        &json!("2011-05-13T06:42:34+02:00")
    ));
}

#[test]
fn host_resource_types_work_too() {
    let mut registry = SchemaRegistry::core();
    registry
        .register_schema(
            Schema::new("urn:example:schemas:Device", "Device", "A device").with_attribute(
                AttributeDef::new("serial", AttributeType::String)
                    .required()
                    .case_exact(),
            ),
        )
        .unwrap();
    registry
        .register_resource_type(ResourceType {
            id: "Device".into(),
            name: "Device".into(),
            endpoint: "/Devices".into(),
            description: "Devices".into(),
            schema: "urn:example:schemas:Device".into(),
            schema_extensions: Vec::new(),
        })
        .unwrap();
    let devices = ResourceSchema::new(&registry, "device").unwrap();
    let d = devices
        .create(
            &json!({"schemas": ["urn:example:schemas:Device"], "serial": "X1"}),
            "d1",
            &ctx(1),
        )
        .unwrap();
    assert_eq!(d["meta"]["location"], "https://example.com/v2/Devices/d1");
    assert_eq!(d["meta"]["resourceType"], "Device");
}

fn arb_user() -> impl Strategy<Value = Value> {
    let name = "[a-zA-Z]{1,8}";
    (
        name,
        proptest::option::of(name),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(
            (name, proptest::option::of(any::<bool>()), "(work|home|other)"),
            0..3,
        ),
        proptest::option::of(name),
    )
        .prop_map(|(user_name, display, active, emails, department)| {
            let mut v = json!({"schemas": [USER_SCHEMA], "userName": user_name});
            if let Some(d) = display {
                v["DISPLAYNAME"] = json!(d);
            }
            if let Some(a) = active {
                v["active"] = json!(a);
            }
            let mut primary_used = false;
            let emails: Vec<Value> = emails
                .into_iter()
                .map(|(value, primary, t)| {
                    let p = primary.unwrap_or(false) && !primary_used;
                    primary_used |= p;
                    json!({"value": format!("{value}@example.com"), "type": t, "primary": p})
                })
                .collect();
            v["emails"] = json!(emails);
            if let Some(d) = department {
                v["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"] = json!(d);
            }
            v
        })
}

proptest! {
    /// Validation is idempotent: the canonical form of a canonical resource is itself.
    #[test]
    fn canonical_form_is_a_fixed_point(user in arb_user()) {
        let registry = SchemaRegistry::core();
        let u = users(&registry);
        let once = Value::Object(u.validate_input(&user).unwrap());
        let twice = Value::Object(u.validate_input(&once).unwrap());
        prop_assert_eq!(&once, &twice);
        let created = u.create(&user, "id1", &ctx(1)).unwrap();
        prop_assert_eq!(Value::Object(u.validate_stored(&created).unwrap()), created);
    }
}

#[test]
fn core_attributes_nested_under_the_core_urn_are_unknown() {
    let err = validate_user(user_input(json!({USER_SCHEMA: {"displayName": "Babs"}}))).unwrap_err();
    assert_eq!(
        err,
        ResourceError::UnknownAttribute {
            attribute: USER_SCHEMA.into(),
            resource_type: "User".into()
        }
    );
}

const ENTRA_GROUP_URN: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// RFC 7643 §3 ("schemas" lists the schemas of the resource), read with the tolerance real
/// clients need: an undefined URN that no attribute uses is ignored by default and reported
/// by `ignored_schemas`. Microsoft Entra ID's documented Create Group body passes.
#[test]
fn rfc7643_3_undefined_unused_schema_urn_is_ignored_by_default() {
    let registry = SchemaRegistry::core();
    let groups = ResourceSchema::new(&registry, "Group").unwrap();
    let entra = json!({
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Group1",
        "meta": {"resourceType": "Group"},
        "schemas": [GROUP_SCHEMA, ENTRA_GROUP_URN]
    });
    let out = groups.validate_input(&entra).unwrap();
    assert_eq!(
        out["schemas"],
        json!([GROUP_SCHEMA]),
        "the ignored URN is not stored"
    );
    assert_eq!(groups.ignored_schemas(&entra), [ENTRA_GROUP_URN]);
    // A custom extension URN listed without attributes (Entra's custom attribute schema).
    let body = user_input(json!({}));
    let mut body = body;
    body["schemas"].as_array_mut().unwrap().push(json!(
        "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
    ));
    assert!(validate_user(body.clone()).is_ok());
    assert_eq!(
        users(&registry).ignored_schemas(&body),
        ["urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"]
    );
    // Nothing to report for a body that lists only defined schemas.
    assert!(users(&registry)
        .ignored_schemas(&user_input(json!({})))
        .is_empty());
}

/// The negative side: attributes under an undefined URN (an extension object or a
/// URN-qualified attribute) are refused, naming the URN and the fix; the strict policy
/// refuses every undefined entry.
#[test]
fn rfc7643_3_undefined_schema_urn_with_attributes_or_strict_policy_is_refused() {
    let registry = SchemaRegistry::core();
    let acme = "urn:example:acme:User";
    let expected = ResourceError::UnknownSchema {
        urn: acme.into(),
        resource_type: "User".into(),
    };
    for body in [
        json!({"schemas": [USER_SCHEMA, acme], "userName": "x", acme: {"badge": "1"}}),
        json!({"schemas": [USER_SCHEMA, acme], "userName": "x", format!("{acme}:badge"): "1"}),
    ] {
        let err = validate_user(body).unwrap_err();
        assert_eq!(err, expected);
        assert!(err.to_string().contains(acme));
        assert!(err
            .to_string()
            .contains("remove it from the IdP's attribute mapping or register it as an extension"));
    }
    // A non-URN schema id (Entra's) with attributes: refused as a schema too.
    let groups = ResourceSchema::new(&registry, "Group").unwrap();
    let err = groups
        .validate_input(&json!({"schemas": [GROUP_SCHEMA, ENTRA_GROUP_URN], "displayName": "g", ENTRA_GROUP_URN: {"x": 1}}))
        .unwrap_err();
    assert!(
        matches!(err, ResourceError::UnknownSchema { ref urn, .. } if urn == ENTRA_GROUP_URN),
        "{err:?}"
    );

    let strict = users(&registry)
        .with_options(ValidationOptions::default().with_undefined_schemas(UndefinedSchemas::Reject));
    let body = json!({"schemas": [USER_SCHEMA, acme], "userName": "x"});
    assert_eq!(strict.validate_input(&body).unwrap_err(), expected);
    assert!(strict.ignored_schemas(&body).is_empty());
}

/// Control characters: refused in every string (`invalidValue`) except TAB, LF and CR in the
/// attributes RFC 7643 §4.1.2 says "MAY contain newlines".
#[test]
fn control_characters_are_refused_outside_multi_line_attributes() {
    for (body, attribute, code) in [
        (json!({"userName": "bjensen\u{0}"}), "userName", 0),
        (json!({"userName": "b\tjensen"}), "userName", 9),
        (
            json!({"userName": "x", "name": {"givenName": "Bar\nbara"}}),
            "name.givenName",
            10,
        ),
        (
            json!({"userName": "x", "addresses": [{"locality": "Hollywood\r"}]}),
            "addresses[0].locality",
            13,
        ),
        (
            json!({"userName": "x", "addresses": [{"formatted": "a\u{1b}b"}]}),
            "addresses[0].formatted",
            0x1b,
        ),
        (
            json!({"userName": "x", "emails": [{"value": "a@b\u{1f}"}]}),
            "emails[0].value",
            0x1f,
        ),
    ] {
        let err = validate_user(user_input_with(body)).unwrap_err();
        match &err {
            ResourceError::ControlCharacter {
                attribute: a,
                code: c,
                ..
            } => {
                assert_eq!((a.as_str(), *c), (attribute, code))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(ScimError::from(err).scim_type, Some(ScimType::InvalidValue));
    }
    let ok = validate_user(user_input_with(json!({
        "userName": "bjensen",
        "addresses": [{"formatted": "100 Universal City Plaza\r\nHollywood, CA 91608\tUSA", "streetAddress": "100 Universal City Plaza\nSuite 5"}],
        "displayName": "Babs \u{7f}\u{85}"
    })));
    assert!(ok.is_ok(), "{ok:?}");
}

fn user_input_with(fields: Value) -> Value {
    let mut body = json!({"schemas": [USER_SCHEMA]});
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

/// RFC 8259 §4 leaves duplicate member names undefined: `parse_json` refuses them
/// (`invalidSyntax`, naming the member) instead of keeping the last one.
#[test]
fn duplicate_member_names_are_invalid_syntax() {
    let limits = fedkit_scim::resource::ResourceLimits::default();
    let err = fedkit_scim::resource::parse_json(
        br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a", "userName": "b"}"#,
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(err, ResourceError::DuplicateKey { ref key, .. } if key == "userName"),
        "{err:?}"
    );
    let scim = ScimError::from(err);
    assert_eq!(scim.scim_type, Some(ScimType::InvalidSyntax));
    assert!(
        scim.detail.contains("\"userName\" appears twice"),
        "{}",
        scim.detail
    );
}
