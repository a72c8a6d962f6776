//! [`SchemaError`], why a schema or resource type was refused.

/// Why a schema or resource type could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The definition is malformed.
    #[error("invalid schema definition{}: {reason}", if attribute.is_empty() { String::new() } else { format!(" for attribute {attribute:?}") })]
    Invalid {
        /// The attribute concerned, empty for the schema itself.
        attribute: String,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// Two attributes share a name (names are case-insensitive).
    #[error("attribute {name:?} is defined twice (attribute names are case-insensitive)")]
    DuplicateAttribute {
        /// The duplicated name.
        name: String,
    },
    /// A schema with this URN is already registered.
    #[error("schema {id:?} is already registered (schema URNs are case-insensitive)")]
    DuplicateSchema {
        /// The URN.
        id: String,
    },
    /// A resource type with this name is already registered.
    #[error("resource type {name:?} is already registered")]
    DuplicateResourceType {
        /// The name.
        name: String,
    },
    /// A resource type names a schema that has not been registered.
    #[error("schema {id:?} is not registered; register it with register_schema first")]
    UnknownSchema {
        /// The URN.
        id: String,
    },
    /// No resource type has this name.
    #[error("resource type {name:?} is not registered")]
    UnknownResourceType {
        /// The name.
        name: String,
    },
}

impl SchemaError {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            SchemaError::Invalid { .. } => "schema_invalid",
            SchemaError::DuplicateAttribute { .. } => "duplicate_attribute",
            SchemaError::DuplicateSchema { .. } => "duplicate_schema",
            SchemaError::DuplicateResourceType { .. } => "duplicate_resource_type",
            SchemaError::UnknownSchema { .. } => "unknown_schema",
            SchemaError::UnknownResourceType { .. } => "unknown_resource_type",
        }
    }
}
