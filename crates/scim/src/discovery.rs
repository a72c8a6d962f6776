//! Discovery documents (RFC 7644 §4, RFC 7643 §5–§7): `/ServiceProviderConfig`, `/Schemas`
//! and `/ResourceTypes`, generated from the [`SchemaRegistry`] the rest of the crate uses, so
//! what a client discovers is what the service enforces.
//!
//! ```
//! use fedkit_scim::discovery::{self, ServiceProviderConfig};
//! use fedkit_scim::schema::SchemaRegistry;
//!
//! let registry = SchemaRegistry::core();
//! let schemas = discovery::schemas_document(&registry, Some("https://app.example/scim/v2"));
//! assert_eq!(schemas["totalResults"], 3);
//! let spc = ServiceProviderConfig::default().to_json(Some("https://app.example/scim/v2"));
//! assert_eq!(spc["patch"]["supported"], true);
//! ```

use serde_json::{json, Value};

use crate::resource::get_attr;
use crate::schema::{SchemaRegistry, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA};

/// URN of the ListResponse message (RFC 7644 §3.4.2).
const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// An authentication scheme advertised in `/ServiceProviderConfig` (RFC 7643 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationScheme {
    /// `oauthbearertoken`, `httpbasic`, ...
    pub scheme_type: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Specification URI.
    pub spec_uri: Option<String>,
    /// Documentation URI.
    pub documentation_uri: Option<String>,
    /// Whether this is the preferred scheme.
    pub primary: bool,
}

impl AuthenticationScheme {
    /// The OAuth bearer token scheme (RFC 6750), which JumpCloud, Okta and Entra ID use.
    pub fn oauth_bearer_token() -> Self {
        Self {
            scheme_type: "oauthbearertoken".into(),
            name: "OAuth Bearer Token".into(),
            description: "Authentication scheme using the OAuth Bearer Token Standard".into(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".into()),
            documentation_uri: None,
            primary: true,
        }
    }
}

/// The service provider's capabilities (RFC 7643 §5). The defaults describe what this crate
/// implements: PATCH yes, bulk off, filter yes (maxResults 200), change password off, sort
/// yes, ETag yes, OAuth bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceProviderConfig {
    /// Documentation URI.
    pub documentation_uri: Option<String>,
    /// PATCH supported.
    pub patch: bool,
    /// Bulk supported.
    pub bulk: bool,
    /// Bulk: maximum operations.
    pub bulk_max_operations: u64,
    /// Bulk: maximum payload size in bytes.
    pub bulk_max_payload_size: u64,
    /// Filtering supported.
    pub filter: bool,
    /// Maximum resources returned by a filtered query.
    pub filter_max_results: u64,
    /// Password change supported.
    pub change_password: bool,
    /// Sorting supported.
    pub sort: bool,
    /// ETags supported.
    pub etag: bool,
    /// Authentication schemes.
    pub authentication_schemes: Vec<AuthenticationScheme>,
}

impl Default for ServiceProviderConfig {
    fn default() -> Self {
        Self {
            documentation_uri: None,
            patch: true,
            bulk: false,
            bulk_max_operations: 0,
            bulk_max_payload_size: 0,
            filter: true,
            filter_max_results: 200,
            change_password: false,
            sort: true,
            etag: true,
            authentication_schemes: vec![AuthenticationScheme::oauth_bearer_token()],
        }
    }
}

impl ServiceProviderConfig {
    /// The `/ServiceProviderConfig` document; `meta.location` under `base_url` when given.
    pub fn to_json(&self, base_url: Option<&str>) -> Value {
        let schemes: Vec<Value> = self
            .authentication_schemes
            .iter()
            .map(|s| {
                let mut v = json!({
                    "type": s.scheme_type,
                    "name": s.name,
                    "description": s.description,
                    "primary": s.primary,
                });
                if let Some(o) = v.as_object_mut() {
                    if let Some(u) = &s.spec_uri {
                        o.insert("specUri".into(), Value::String(u.clone()));
                    }
                    if let Some(u) = &s.documentation_uri {
                        o.insert("documentationUri".into(), Value::String(u.clone()));
                    }
                }
                v
            })
            .collect();
        let mut doc = json!({
            "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
            "patch": { "supported": self.patch },
            "bulk": {
                "supported": self.bulk,
                "maxOperations": self.bulk_max_operations,
                "maxPayloadSize": self.bulk_max_payload_size,
            },
            "filter": { "supported": self.filter, "maxResults": self.filter_max_results },
            "changePassword": { "supported": self.change_password },
            "sort": { "supported": self.sort },
            "etag": { "supported": self.etag },
            "authenticationSchemes": schemes,
            "meta": { "resourceType": "ServiceProviderConfig" },
        });
        if let Some(o) = doc.as_object_mut() {
            if let Some(u) = &self.documentation_uri {
                o.insert("documentationUri".into(), Value::String(u.clone()));
            }
            if let (Some(base), Some(meta)) = (base_url, o.get_mut("meta").and_then(Value::as_object_mut)) {
                meta.insert(
                    "location".into(),
                    Value::String(format!("{}/ServiceProviderConfig", base.trim_end_matches('/'))),
                );
            }
        }
        doc
    }
}

fn list_response(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// The `/Schemas` ListResponse: every registered schema.
pub fn schemas_document(registry: &SchemaRegistry, base_url: Option<&str>) -> Value {
    list_response(registry.schemas().iter().map(|s| s.to_json(base_url)).collect())
}

/// The `/ResourceTypes` ListResponse: every registered resource type.
pub fn resource_types_document(registry: &SchemaRegistry, base_url: Option<&str>) -> Value {
    list_response(
        registry
            .resource_types()
            .iter()
            .map(|r| r.to_json(base_url))
            .collect(),
    )
}

/// The `/Schemas/{id}` document for one schema (URN compared case-insensitively), `None`
/// when unknown (answer 404).
pub fn schema_document(registry: &SchemaRegistry, urn: &str, base_url: Option<&str>) -> Option<Value> {
    registry.schema(urn).map(|s| s.to_json(base_url))
}

/// The `/ResourceTypes/{name}` document, `None` when unknown (answer 404).
pub fn resource_type_document(
    registry: &SchemaRegistry,
    name: &str,
    base_url: Option<&str>,
) -> Option<Value> {
    registry.resource_type(name).map(|r| r.to_json(base_url))
}

// ---------------------------------------------------------------------------------------------
// Checking responses against published schemas.

/// Checks a response body against the discovery documents a service publishes: the
/// `/Schemas` and `/ResourceTypes` list responses (as JSON, exactly as a client reads them).
/// Returns one line per problem, empty when the body conforms.
///
/// A resource (or each resource of a ListResponse) must use only attributes its resource
/// type's schemas publish: its core schema's attributes and sub-attributes, the common
/// attributes of RFC 7643 §3.1 (`schemas`, `id`, `externalId`, `meta` and its five
/// sub-attributes), and extension objects under a URN the resource type lists in
/// `schemaExtensions` (and the resource lists in `schemas`). Each value must have its
/// attribute's `type` and `multiValued` shape; an attribute published with
/// `returned: never` must not appear. Names compare case-insensitively (RFC 7643 §2.1).
/// Error documents, other messages and the discovery documents themselves
/// (`/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`) are not checked.
///
/// What a strict client that builds its models from `/Schemas` would reject, this reports.
///
/// ```
/// use fedkit_scim::discovery::{resource_types_document, response_problems, schemas_document};
/// use fedkit_scim::schema::SchemaRegistry;
/// use serde_json::json;
///
/// let registry = SchemaRegistry::core();
/// let (schemas, types) = (schemas_document(&registry, None), resource_types_document(&registry, None));
/// let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
///     "displayName": "Tour Guides", "members": [{"value": "u1", "display": "Babs"}],
///     "meta": {"resourceType": "Group"}});
/// assert!(response_problems(&schemas, &types, &group).is_empty());
/// let odd = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
///     "displayName": "x", "members": [{"value": "u1", "weight": 3}], "meta": {"resourceType": "Group"}});
/// assert_eq!(response_problems(&schemas, &types, &odd), ["g1: members[0].weight is not published in /Schemas"]);
/// ```
pub fn response_problems(schemas: &Value, resource_types: &Value, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let is_list = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(LIST_RESPONSE)));
    if is_list {
        for r in body
            .get("Resources")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            check_resource(schemas, resource_types, r, &mut problems);
        }
    } else if body.get("meta").is_some() || body.get("id").is_some() {
        check_resource(schemas, resource_types, body, &mut problems);
    }
    problems
}

fn list_items(doc: &Value) -> &[Value] {
    doc.get("Resources")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn published<'v>(attrs: &'v [Value], name: &str) -> Option<&'v Value> {
    attrs.iter().find(|a| {
        a.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn attributes_of<'v>(doc: Option<&'v Value>, key: &str) -> &'v [Value] {
    doc.and_then(|d| d.get(key))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn check_resource(schemas: &Value, resource_types: &Value, r: &Value, problems: &mut Vec<String>) {
    let id = r
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("(no id)")
        .to_owned();
    let Some(obj) = r.as_object() else {
        problems.push(format!("{id}: a resource is not a JSON object"));
        return;
    };
    let rt_name = obj
        .get("meta")
        .and_then(|m| m.get("resourceType"))
        .and_then(Value::as_str);
    let listed: Vec<&str> = obj
        .get("schemas")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if listed.iter().any(|l| {
        [
            SCHEMA_SCHEMA,
            RESOURCE_TYPE_SCHEMA,
            SERVICE_PROVIDER_CONFIG_SCHEMA,
        ]
        .iter()
        .any(|d| d.eq_ignore_ascii_case(l))
    }) {
        // A discovery document (RFC 7643 §5–§7), described by the RFC, not by /Schemas.
        return;
    }
    let rt = list_items(resource_types).iter().find(|t| {
        let name = t.get("name").and_then(Value::as_str);
        let schema = t.get("schema").and_then(Value::as_str);
        match rt_name {
            Some(n) => name.is_some_and(|x| x.eq_ignore_ascii_case(n)),
            None => schema.is_some_and(|s| listed.iter().any(|l| l.eq_ignore_ascii_case(s))),
        }
    });
    let Some(rt) = rt else {
        problems.push(format!(
            "{id}: resource type {rt_name:?} (schemas {listed:?}) is not published in /ResourceTypes"
        ));
        return;
    };
    let schema_doc = |urn: &str| {
        list_items(schemas).iter().find(|s| {
            s.get("id")
                .and_then(Value::as_str)
                .is_some_and(|i| i.eq_ignore_ascii_case(urn))
        })
    };
    let core_urn = rt.get("schema").and_then(Value::as_str).unwrap_or_default();
    let Some(core) = schema_doc(core_urn) else {
        problems.push(format!("{id}: schema {core_urn} is not published in /Schemas"));
        return;
    };
    let extensions: Vec<&str> = attributes_of(Some(rt), "schemaExtensions")
        .iter()
        .filter_map(|e| e.get("schema").and_then(Value::as_str))
        .collect();
    for urn in &listed {
        if !urn.eq_ignore_ascii_case(core_urn) && !extensions.iter().any(|e| e.eq_ignore_ascii_case(urn)) {
            problems.push(format!(
                "{id}: schemas lists {urn}, which the resource type does not publish"
            ));
        }
    }
    for (key, value) in obj {
        if let Some(ext) = extensions.iter().find(|e| e.eq_ignore_ascii_case(key)) {
            if !listed.iter().any(|l| l.eq_ignore_ascii_case(ext)) {
                problems.push(format!(
                    "{id}: the extension {ext} is present but not listed in schemas"
                ));
            }
            match (value.as_object(), schema_doc(ext)) {
                (Some(inner), Some(doc)) => {
                    let attrs = attributes_of(Some(doc), "attributes");
                    for (k, v) in inner {
                        check_attr(&id, &format!("{ext}:{k}"), published(attrs, k), v, problems);
                    }
                }
                (None, _) => problems.push(format!("{id}: {ext} is not a JSON object")),
                (Some(_), None) => problems.push(format!("{id}: schema {ext} is not published in /Schemas")),
            }
            continue;
        }
        match key.to_ascii_lowercase().as_str() {
            "schemas" => continue,
            "id" | "externalid" => {
                if !value.is_string() {
                    problems.push(format!("{id}: {key} must be a string"));
                }
                continue;
            }
            "meta" => {
                check_meta(&id, value, problems);
                continue;
            }
            _ => {}
        }
        let def = published(attributes_of(Some(core), "attributes"), key);
        check_attr(&id, key, def, value, problems);
    }
}

fn check_meta(id: &str, meta: &Value, problems: &mut Vec<String>) {
    let Some(m) = meta.as_object() else {
        problems.push(format!("{id}: meta must be a JSON object"));
        return;
    };
    for (k, v) in m {
        let known = ["resourceType", "created", "lastModified", "location", "version"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(k));
        if !known {
            problems.push(format!("{id}: meta.{k} is not an RFC 7643 §3.1 meta attribute"));
        } else if !v.is_string() {
            problems.push(format!("{id}: meta.{k} must be a string"));
        }
    }
    if get_attr(m, "resourceType").is_none() {
        problems.push(format!("{id}: meta.resourceType is missing"));
    }
}

fn check_attr(id: &str, path: &str, def: Option<&Value>, value: &Value, problems: &mut Vec<String>) {
    let Some(def) = def else {
        problems.push(format!("{id}: {path} is not published in /Schemas"));
        return;
    };
    if def.get("returned").and_then(Value::as_str) == Some("never") {
        problems.push(format!(
            "{id}: {path} is published with returned \"never\" but was returned"
        ));
    }
    if def.get("multiValued").and_then(Value::as_bool) == Some(true) {
        let Some(items) = value.as_array() else {
            problems.push(format!("{id}: {path} is multi-valued but is not an array"));
            return;
        };
        for (i, item) in items.iter().enumerate() {
            check_single(id, &format!("{path}[{i}]"), def, item, problems);
        }
    } else {
        check_single(id, path, def, value, problems);
    }
}

fn check_single(id: &str, path: &str, def: &Value, value: &Value, problems: &mut Vec<String>) {
    let t = def.get("type").and_then(Value::as_str).unwrap_or_default();
    let ok = match t {
        "string" | "reference" | "binary" => value.is_string(),
        "dateTime" => value
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "decimal" => value.is_number(),
        "complex" => {
            let Some(obj) = value.as_object() else {
                problems.push(format!("{id}: {path} is complex but is not a JSON object"));
                return;
            };
            let subs = attributes_of(Some(def), "subAttributes");
            for (k, v) in obj {
                check_attr(id, &format!("{path}.{k}"), published(subs, k), v, problems);
            }
            true
        }
        other => {
            problems.push(format!(
                "{id}: {path} is published with an unknown type {other:?}"
            ));
            true
        }
    };
    if !ok {
        problems.push(format!("{id}: {path} is not a valid {t} value: {value}"));
    }
}
