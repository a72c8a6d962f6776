//! Schemas as data (RFC 7643 §2, §7, §8.7.1): attribute definitions with every characteristic,
//! the core `User` and `Group` schemas and the `EnterpriseUser` extension exactly as RFC 7643
//! §8.7.1 defines them, schemas and extensions registered by the host, resource types, and a
//! resolver from attribute paths to definitions.
//!
//! Attribute names and schema URNs are compared case-insensitively (RFC 7643 §2.1, RFC 7644
//! §3.10), ASCII case folding only.
//!
//! ```
//! use fedkit_scim::schema::{AttributeDef, AttributeType, Schema, SchemaRegistry, SchemaExtension};
//! use fedkit_scim::filter::AttrPath;
//!
//! let mut registry = SchemaRegistry::core();
//! // A host-specific extension for Users.
//! let ext = Schema::new("urn:example:params:scim:schemas:extension:acme:2.0:User", "AcmeUser",
//!     "Acme specific attributes")
//!     .with_attribute(AttributeDef::new("badgeNumber", AttributeType::Integer)
//!         .describe("Number printed on the badge."));
//! registry.register_schema(ext.clone()).unwrap();
//! registry.add_extension("User", &ext.id, false).unwrap();
//!
//! let path = AttrPath::parse("BADGENUMBER").unwrap();
//! let resolved = registry.resolve("User", &path).unwrap();
//! assert_eq!(resolved.schema, ext.id);
//! assert_eq!(resolved.attribute.attr_type, AttributeType::Integer);
//! ```

// Where each concern lives: `model` (characteristics, `AttributeDef`, `Schema`,
// `ResourceType`), `json` (reading and writing schema documents), `registry` (registration and
// path resolution), `core` (the RFC 7643 §8.7.1 schemas and common attributes), `error`.
mod core;
mod error;
mod json;
mod model;
mod registry;

pub use self::core::{enterprise_user_schema, group_schema, user_schema};
pub use error::SchemaError;
pub use model::{
    AttributeDef, AttributeType, Mutability, ResourceType, Returned, Schema, SchemaExtension, Uniqueness,
};
pub use registry::{ResolvedAttribute, SchemaRegistry};

/// URN of the core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN of the Enterprise User extension.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// URN of the Schema resource type (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
/// URN of the ResourceType resource (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// URN of the ServiceProviderConfig resource (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
