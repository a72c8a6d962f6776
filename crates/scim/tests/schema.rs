//! Schemas, registry, resolver and discovery documents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use fedkit_scim::discovery::{self, ServiceProviderConfig};
use fedkit_scim::filter::AttrPath;
use fedkit_scim::schema::{
    AttributeDef, AttributeType, Mutability, ResourceType, Returned, Schema, SchemaError, SchemaExtension,
    SchemaRegistry, Uniqueness, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA,
};
use serde_json::{json, Value};

const BASE: &str = "https://example.com/v2";

fn attr<'a>(schema_doc: &'a Value, name: &str) -> &'a Value {
    schema_doc["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

fn sub<'a>(attr_doc: &'a Value, name: &str) -> &'a Value {
    attr_doc["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

fn user_doc() -> Value {
    discovery::schema_document(&SchemaRegistry::core(), USER_SCHEMA, Some(BASE)).unwrap()
}

#[test]
fn user_name_has_the_rfc_characteristics() {
    // RFC 7643 §8.7.1, User schema, "userName".
    assert_eq!(
        attr(&user_doc(), "userName"),
        &json!({
            "name": "userName",
            "type": "string",
            "multiValued": false,
            "description": "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value.  This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.",
            "required": true,
            "caseExact": false,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "server"
        })
    );
}

#[test]
fn user_schema_matches_rfc_7643_8_7_1() {
    let doc = user_doc();
    assert_eq!(doc["id"], USER_SCHEMA);
    assert_eq!(doc["name"], "User");
    assert_eq!(doc["description"], "User Account");
    assert_eq!(
        doc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
    );
    assert_eq!(doc["meta"]["location"], format!("{BASE}/Schemas/{USER_SCHEMA}"));
    let names: Vec<&str> = doc["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates"
        ]
    );
    let password = attr(&doc, "password");
    assert_eq!(password["mutability"], "writeOnly");
    assert_eq!(password["returned"], "never");
    let profile = attr(&doc, "profileUrl");
    assert_eq!(profile["type"], "reference");
    assert_eq!(profile["referenceTypes"], json!(["external"]));
    let emails = attr(&doc, "emails");
    assert_eq!(emails["type"], "complex");
    assert_eq!(emails["multiValued"], true);
    assert!(emails.get("caseExact").is_none());
    assert_eq!(
        sub(emails, "type")["canonicalValues"],
        json!(["work", "home", "other"])
    );
    assert_eq!(sub(emails, "primary")["type"], "boolean");
    assert_eq!(
        sub(attr(&doc, "phoneNumbers"), "type")["canonicalValues"],
        json!(["work", "home", "mobile", "fax", "pager", "other"])
    );
    assert_eq!(
        sub(attr(&doc, "ims"), "type")["canonicalValues"],
        json!(["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"])
    );
    assert_eq!(
        sub(attr(&doc, "photos"), "value")["referenceTypes"],
        json!(["external"])
    );
    let groups = attr(&doc, "groups");
    assert_eq!(groups["mutability"], "readOnly");
    assert_eq!(sub(groups, "$ref")["referenceTypes"], json!(["User", "Group"]));
    assert_eq!(
        sub(groups, "type")["canonicalValues"],
        json!(["direct", "indirect"])
    );
    assert_eq!(sub(attr(&doc, "x509Certificates"), "value")["type"], "binary");
    assert_eq!(attr(&doc, "active")["type"], "boolean");
    assert_eq!(
        sub(attr(&doc, "name"), "givenName")["description"],
        "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."
    );
}

#[test]
fn group_and_enterprise_schemas() {
    let registry = SchemaRegistry::core();
    let group = discovery::schema_document(&registry, GROUP_SCHEMA, None).unwrap();
    assert_eq!(group["name"], "Group");
    assert!(group["meta"].get("location").is_none());
    let members = attr(&group, "members");
    assert_eq!(members["multiValued"], true);
    assert_eq!(sub(members, "value")["mutability"], "immutable");
    assert_eq!(sub(members, "$ref")["referenceTypes"], json!(["User", "Group"]));
    assert_eq!(sub(members, "type")["canonicalValues"], json!(["User", "Group"]));
    assert_eq!(attr(&group, "displayName")["required"], false);

    let ent = discovery::schema_document(&registry, ENTERPRISE_USER_SCHEMA, None).unwrap();
    assert_eq!(ent["name"], "EnterpriseUser");
    let manager = attr(&ent, "manager");
    assert_eq!(manager["type"], "complex");
    assert_eq!(sub(manager, "$ref")["referenceTypes"], json!(["User"]));
    assert_eq!(sub(manager, "displayName")["mutability"], "readOnly");
    let names: Vec<&str> = ent["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager"
        ]
    );
}

#[test]
fn list_documents_and_service_provider_config() {
    let registry = SchemaRegistry::core();
    let schemas = discovery::schemas_document(&registry, Some(BASE));
    assert_eq!(
        schemas["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(schemas["totalResults"], 3);
    assert_eq!(schemas["Resources"].as_array().unwrap().len(), 3);

    let rts = discovery::resource_types_document(&registry, Some(BASE));
    assert_eq!(rts["totalResults"], 2);
    // RFC 7643 §8.6 User resource type.
    assert_eq!(
        discovery::resource_type_document(&registry, "user", Some(BASE)).unwrap(),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
            "schemaExtensions": [
                {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}
            ],
            "meta": {"location": "https://example.com/v2/ResourceTypes/User", "resourceType": "ResourceType"}
        })
    );
    assert!(discovery::resource_type_document(&registry, "Device", None).is_none());
    assert!(discovery::schema_document(&registry, "urn:nope", None).is_none());

    let spc = ServiceProviderConfig::default().to_json(Some("https://example.com/v2/"));
    assert_eq!(
        spc["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(spc["patch"], json!({"supported": true}));
    assert_eq!(
        spc["bulk"],
        json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0})
    );
    assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 200}));
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(
        spc["meta"]["location"],
        "https://example.com/v2/ServiceProviderConfig"
    );
}

#[test]
fn schema_json_round_trips_through_from_json() {
    for s in SchemaRegistry::core().schemas() {
        let back = Schema::from_json(&s.to_json(None)).unwrap();
        assert_eq!(&back, s);
    }
}

#[test]
fn from_json_applies_rfc_defaults_and_reports_errors() {
    let s = Schema::from_json(&json!({
        "id": "urn:example:acme:2.0:Device",
        "name": "Device",
        "attributes": [{"name": "serial", "caseExact": true}, {"name": "tags", "multiValued": true}]
    }))
    .unwrap();
    let serial = s.attribute("SERIAL").unwrap();
    assert_eq!(serial.attr_type, AttributeType::String);
    assert!(serial.case_exact);
    assert_eq!(serial.mutability, Mutability::ReadWrite);
    assert_eq!(serial.returned, Returned::Default);
    assert_eq!(serial.uniqueness, Uniqueness::None);
    assert!(s.attribute("tags").unwrap().multi_valued);

    let err = Schema::from_json(&json!({"id": "urn:x:y", "attributes": [{"name": "a", "type": "float"}]}))
        .unwrap_err();
    assert!(err.to_string().contains("\"float\" is not one of"), "{err}");
    let err = Schema::from_json(&json!({"id": "urn:x:y", "attributes": [{"name": "a"}, {"name": "A"}]}))
        .unwrap_err();
    assert_eq!(err, SchemaError::DuplicateAttribute { name: "A".into() });
    let err = Schema::from_json(&json!({"id": "urn:x:y", "attributes": [{"name": "1a"}]})).unwrap_err();
    assert!(matches!(err, SchemaError::Invalid { .. }));
    let err = Schema::from_json(&json!({"id": "x", "attributes": []})).unwrap_err();
    assert!(err.to_string().contains("not a URN"), "{err}");
    let err = Schema::from_json(
        &json!({"id": "urn:x:y", "attributes": [{"name": "c", "type": "complex",
        "subAttributes": [{"name": "d", "type": "complex"}]}]}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot itself be complex"), "{err}");
}

#[test]
fn resolver() {
    let r = SchemaRegistry::core();
    let res = |s: &str| r.resolve("User", &AttrPath::parse(s).unwrap());

    let a = res("USERNAME").unwrap();
    assert_eq!(
        (a.schema, a.extension, a.attribute.name.as_str()),
        (USER_SCHEMA, false, "userName")
    );
    assert!(a.sub_attribute.is_none());

    let a = res("name.GIVENNAME").unwrap();
    assert_eq!(a.sub_attribute.unwrap().name, "givenName");

    let a = res("urn:ietf:params:scim:schemas:core:2.0:user:userName").unwrap();
    assert_eq!(a.attribute.name, "userName");

    let a = res("URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value").unwrap();
    assert_eq!((a.schema, a.extension), (ENTERPRISE_USER_SCHEMA, true));
    assert_eq!(a.sub_attribute.unwrap().name, "value");

    // Bare extension names resolve after the core schema.
    let a = res("employeeNumber").unwrap();
    assert_eq!((a.schema, a.extension), (ENTERPRISE_USER_SCHEMA, true));

    // Common attributes.
    let a = res("meta.lastModified").unwrap();
    assert_eq!(a.sub_attribute.unwrap().attr_type, AttributeType::DateTime);
    let id = res("id").unwrap().attribute;
    assert!(id.case_exact);
    assert_eq!(
        (id.mutability, id.returned),
        (Mutability::ReadOnly, Returned::Always)
    );

    assert!(res("nope").is_none());
    assert!(res("name.nope").is_none());
    assert!(res("userName.x").is_none());
    assert!(res("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName").is_none());
    assert!(r
        .resolve("Group", &AttrPath::parse("userName").unwrap())
        .is_none());
    assert!(r
        .resolve("Group", &AttrPath::parse("members.value").unwrap())
        .is_some());
    assert!(r.resolve("Nope", &AttrPath::parse("id").unwrap()).is_none());
}

#[test]
fn host_registration() {
    let mut r = SchemaRegistry::core();
    let device = Schema::new("urn:example:acme:2.0:Device", "Device", "A managed device").with_attribute(
        AttributeDef::new("serial", AttributeType::String)
            .required()
            .case_exact()
            .uniqueness(Uniqueness::Server),
    );
    r.register_schema(device.clone()).unwrap();
    assert_eq!(
        r.register_schema(device).unwrap_err(),
        SchemaError::DuplicateSchema {
            id: "urn:example:acme:2.0:Device".into()
        }
    );
    let rt = ResourceType {
        id: "Device".into(),
        name: "Device".into(),
        endpoint: "/Devices".into(),
        description: "Devices".into(),
        schema: "urn:example:acme:2.0:Device".into(),
        schema_extensions: vec![SchemaExtension {
            schema: "urn:example:missing".into(),
            required: false,
        }],
    };
    assert_eq!(
        r.register_resource_type(rt.clone()).unwrap_err(),
        SchemaError::UnknownSchema {
            id: "urn:example:missing".into()
        }
    );
    let rt = ResourceType {
        schema_extensions: Vec::new(),
        ..rt
    };
    r.register_resource_type(rt.clone()).unwrap();
    assert_eq!(
        r.register_resource_type(rt).unwrap_err(),
        SchemaError::DuplicateResourceType {
            name: "Device".into()
        }
    );
    assert_eq!(
        r.resolve("device", &AttrPath::parse("Serial").unwrap())
            .unwrap()
            .attribute
            .name,
        "serial"
    );
    assert_eq!(discovery::resource_types_document(&r, None)["totalResults"], 3);
    assert_eq!(
        r.add_extension("Nope", ENTERPRISE_USER_SCHEMA, false)
            .unwrap_err(),
        SchemaError::UnknownResourceType { name: "Nope".into() }
    );
    assert_eq!(
        r.add_extension("User", ENTERPRISE_USER_SCHEMA, false)
            .unwrap_err(),
        SchemaError::DuplicateSchema {
            id: ENTERPRISE_USER_SCHEMA.into()
        }
    );
}

/// Every attribute and sub-attribute of the RFC 7643 §8.7.1 schema JSON, transcribed from the
/// RFC: path, type, multiValued, required, caseExact ("-" where the RFC omits it: booleans and
/// complex attributes), mutability, returned, uniqueness, canonicalValues, referenceTypes.
const RFC_7643_8_7_1: &str = "
User userName string F T F readWrite default server - -
User name complex F F - readWrite default none - -
User name.formatted string F F F readWrite default none - -
User name.familyName string F F F readWrite default none - -
User name.givenName string F F F readWrite default none - -
User name.middleName string F F F readWrite default none - -
User name.honorificPrefix string F F F readWrite default none - -
User name.honorificSuffix string F F F readWrite default none - -
User displayName string F F F readWrite default none - -
User nickName string F F F readWrite default none - -
User profileUrl reference F F F readWrite default none - external
User title string F F F readWrite default none - -
User userType string F F F readWrite default none - -
User preferredLanguage string F F F readWrite default none - -
User locale string F F F readWrite default none - -
User timezone string F F F readWrite default none - -
User active boolean F F - readWrite default none - -
User password string F F F writeOnly never none - -
User emails complex T F - readWrite default none - -
User emails.value string F F F readWrite default none - -
User emails.display string F F F readWrite default none - -
User emails.type string F F F readWrite default none work,home,other -
User emails.primary boolean F F - readWrite default none - -
User phoneNumbers complex T F - readWrite default none - -
User phoneNumbers.value string F F F readWrite default none - -
User phoneNumbers.display string F F F readWrite default none - -
User phoneNumbers.type string F F F readWrite default none work,home,mobile,fax,pager,other -
User phoneNumbers.primary boolean F F - readWrite default none - -
User ims complex T F - readWrite default none - -
User ims.value string F F F readWrite default none - -
User ims.display string F F F readWrite default none - -
User ims.type string F F F readWrite default none aim,gtalk,icq,xmpp,msn,skype,qq,yahoo -
User ims.primary boolean F F - readWrite default none - -
User photos complex T F - readWrite default none - -
User photos.value reference F F F readWrite default none - external
User photos.display string F F F readWrite default none - -
User photos.type string F F F readWrite default none photo,thumbnail -
User photos.primary boolean F F - readWrite default none - -
User addresses complex T F - readWrite default none - -
User addresses.formatted string F F F readWrite default none - -
User addresses.streetAddress string F F F readWrite default none - -
User addresses.locality string F F F readWrite default none - -
User addresses.region string F F F readWrite default none - -
User addresses.postalCode string F F F readWrite default none - -
User addresses.country string F F F readWrite default none - -
User addresses.type string F F F readWrite default none work,home,other -
User groups complex T F - readOnly default none - -
User groups.value string F F F readOnly default none - -
User groups.$ref reference F F F readOnly default none - User,Group
User groups.display string F F F readOnly default none - -
User groups.type string F F F readOnly default none direct,indirect -
User entitlements complex T F - readWrite default none - -
User entitlements.value string F F F readWrite default none - -
User entitlements.display string F F F readWrite default none - -
User entitlements.type string F F F readWrite default none - -
User entitlements.primary boolean F F - readWrite default none - -
User roles complex T F - readWrite default none - -
User roles.value string F F F readWrite default none - -
User roles.display string F F F readWrite default none - -
User roles.type string F F F readWrite default none - -
User roles.primary boolean F F - readWrite default none - -
User x509Certificates complex T F - readWrite default none - -
User x509Certificates.value binary F F F readWrite default none - -
User x509Certificates.display string F F F readWrite default none - -
User x509Certificates.type string F F F readWrite default none - -
User x509Certificates.primary boolean F F - readWrite default none - -
Enterprise employeeNumber string F F F readWrite default none - -
Enterprise costCenter string F F F readWrite default none - -
Enterprise organization string F F F readWrite default none - -
Enterprise division string F F F readWrite default none - -
Enterprise department string F F F readWrite default none - -
Enterprise manager complex F F - readWrite default none - -
Enterprise manager.value string F F F readWrite default none - -
Enterprise manager.$ref reference F F F readWrite default none - User
Enterprise manager.displayName string F F F readOnly default none - -
Group displayName string F F F readWrite default none - -
Group members complex T F - readWrite default none - -
Group members.value string F F F immutable default none - -
Group members.$ref reference F F F immutable default none - User,Group
Group members.type string F F F immutable default none User,Group -
";

#[test]
fn every_characteristic_matches_rfc_7643_8_7_1() {
    let registry = SchemaRegistry::core();
    let schema_of = |name: &str| match name {
        "User" => registry.schema(USER_SCHEMA).unwrap(),
        "Enterprise" => registry.schema(ENTERPRISE_USER_SCHEMA).unwrap(),
        "Group" => registry.schema(GROUP_SCHEMA).unwrap(),
        other => panic!("{other}"),
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    for line in RFC_7643_8_7_1.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 11, "{line}");
        let schema = schema_of(f[0]);
        let (top, sub) = match f[1].split_once('.') {
            Some((t, s)) => (t, Some(s)),
            None => (f[1], None),
        };
        let top_def = schema
            .attribute(top)
            .unwrap_or_else(|| panic!("{line}: no attribute"));
        let def = match sub {
            Some(s) => top_def
                .sub_attribute(s)
                .unwrap_or_else(|| panic!("{line}: no sub-attribute")),
            None => top_def,
        };
        assert_eq!(def.name, f[1].rsplit('.').next().unwrap(), "{line}: name case");
        assert_eq!(def.attr_type.as_str(), f[2], "{line}: type");
        assert_eq!(def.multi_valued, f[3] == "T", "{line}: multiValued");
        assert_eq!(def.required, f[4] == "T", "{line}: required");
        if f[5] != "-" {
            assert_eq!(def.case_exact, f[5] == "T", "{line}: caseExact");
        }
        assert_eq!(def.mutability.as_str(), f[6], "{line}: mutability");
        assert_eq!(def.returned.as_str(), f[7], "{line}: returned");
        assert_eq!(def.uniqueness.as_str(), f[8], "{line}: uniqueness");
        let list = |s: &str| -> Vec<String> {
            if s == "-" {
                Vec::new()
            } else {
                s.split(',').map(str::to_owned).collect()
            }
        };
        assert_eq!(def.canonical_values, list(f[9]), "{line}: canonicalValues");
        assert_eq!(def.reference_types, list(f[10]), "{line}: referenceTypes");
        seen.push((f[0].to_owned(), f[1].to_owned()));
    }
    // Nothing more than the RFC defines.
    for (label, urn) in [
        ("User", USER_SCHEMA),
        ("Enterprise", ENTERPRISE_USER_SCHEMA),
        ("Group", GROUP_SCHEMA),
    ] {
        for a in &registry.schema(urn).unwrap().attributes {
            assert!(
                seen.contains(&(label.to_owned(), a.name.clone())),
                "{label} {} not in the RFC",
                a.name
            );
            for s in &a.sub_attributes {
                let path = format!("{}.{}", a.name, s.name);
                if seen.contains(&(label.to_owned(), path.clone())) {
                    continue;
                }
                // Beyond §8.7.1, only the §2.4 defaults of multi-valued complex attributes
                // (published because the service accepts and returns them) and the
                // `members.display` Okta and Entra ID send.
                assert!(a.is_multi_valued_complex(), "{label} {path} not in the RFC");
                assert!(
                    ["type", "primary", "display", "value", "$ref"].contains(&s.name.as_str()),
                    "{label} {path} not in the RFC"
                );
                assert_eq!(s.mutability.as_str(), "readWrite", "{label} {path}");
                assert!(!s.required, "{label} {path}");
            }
        }
    }
}

#[test]
fn default_sub_attributes_of_multi_valued_attributes() {
    let registry = SchemaRegistry::core();
    let user = registry.schema(USER_SCHEMA).unwrap();
    let addresses = user.attribute("addresses").unwrap();
    // Not in RFC 7643 §8.7.1 but sent by §8.2: published as a sub-attribute.
    assert_eq!(
        addresses.sub_attribute("primary").unwrap().attr_type,
        AttributeType::Boolean
    );
    assert_eq!(
        addresses.find_sub_attribute("PRIMARY").unwrap().attr_type,
        AttributeType::Boolean
    );
    let members = registry
        .schema(GROUP_SCHEMA)
        .unwrap()
        .attribute("members")
        .unwrap();
    assert_eq!(
        members.find_sub_attribute("display").unwrap().attr_type,
        AttributeType::String
    );
    // Only on multi-valued complex attributes.
    assert!(user
        .attribute("name")
        .unwrap()
        .find_sub_attribute("display")
        .is_none());
    let resolved = registry
        .resolve("User", &AttrPath::parse("addresses.primary").unwrap())
        .unwrap();
    assert_eq!(resolved.sub_attribute.unwrap().name, "primary");
    // `$ref` is a default where the value is not itself a reference (RFC 7643 §2.4)...
    let emails = user.attribute("emails").unwrap();
    assert!(emails.sub_attribute("$ref").is_some());
    assert!(emails.find_sub_attribute("$ref").is_some());
    // ...but User photos' value is the URI (§4.1.2): no `$ref`, published or accepted.
    let photos = user.attribute("photos").unwrap();
    assert_eq!(
        photos.find_sub_attribute("value").unwrap().attr_type,
        AttributeType::Reference
    );
    assert!(photos.sub_attribute("$ref").is_none());
    assert!(photos.find_sub_attribute("$ref").is_none());
    assert!(registry
        .resolve("User", &AttrPath::parse("photos.$ref").unwrap())
        .and_then(|r| r.sub_attribute)
        .is_none());
}
