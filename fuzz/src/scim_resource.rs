//! SCIM resource validation on arbitrary bodies. Oracles: validation never panics; the
//! canonical form is a fixed point (validating it again gives it back); a created resource is
//! a valid stored resource equal to itself; PUT of the canonical body onto the created
//! resource changes nothing but may not fail; the default projection never returns the
//! password; the version depends only on content.

use chrono::{TimeZone, Utc};
use fedkit_scim::projection::Projection;
use fedkit_scim::resource::{parse_json, version_of, MetaContext, ResourceLimits, ResourceSchema};
use fedkit_scim::schema::SchemaRegistry;
use serde_json::Value;

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let Ok(body) = parse_json(data, &ResourceLimits::default()) else {
        return;
    };
    let registry = SchemaRegistry::core();
    let ctx = MetaContext::new(
        Utc.with_ymd_and_hms(2024, 5, 13, 4, 42, 34).unwrap(),
        "https://app.example/scim/v2",
    );
    let later = MetaContext::new(
        Utc.with_ymd_and_hms(2024, 5, 14, 4, 42, 34).unwrap(),
        "https://app.example/scim/v2",
    );
    for rt in ["User", "Group"] {
        let schema = ResourceSchema::new(&registry, rt).expect("core resource type");
        let Ok(canonical) = schema.validate_input(&body) else {
            continue;
        };
        let canonical = Value::Object(canonical);
        let again = schema
            .validate_input(&canonical)
            .expect("the canonical form validates");
        assert_eq!(
            Value::Object(again),
            canonical,
            "canonical form is not a fixed point"
        );

        let created = schema
            .create(&body, "id-1", &ctx)
            .expect("a valid body can be created");
        let stored = schema
            .validate_stored(&created)
            .expect("a created resource is a valid stored resource");
        assert_eq!(Value::Object(stored), created);

        let replaced = schema
            .replace(&created, &canonical, &later)
            .expect("PUT of the same content");
        assert_eq!(
            replaced["meta"], created["meta"],
            "PUT without changes must not touch meta"
        );

        let recreated = schema
            .create(&canonical, "id-1", &later)
            .expect("the canonical form can be created");
        assert_eq!(
            recreated["meta"]["version"], created["meta"]["version"],
            "version depends on the time"
        );
        let content = recreated.as_object().expect("a created resource is an object");
        assert_eq!(
            created["meta"]["version"],
            Value::String(version_of(content)),
            "meta.version is not version_of"
        );

        let shown = Projection::all().apply(&created, &schema);
        assert!(shown.get("password").is_none(), "password returned");
    }
}
