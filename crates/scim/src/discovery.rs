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

use crate::schema::{SchemaRegistry, SERVICE_PROVIDER_CONFIG_SCHEMA};

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
