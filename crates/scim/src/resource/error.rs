//! [`ResourceError`], why a resource was refused, and [`JsonKind`] for its messages.

use std::fmt;

use serde_json::Value;

use crate::error::{ScimError, ScimType};
use crate::schema::AttributeType;

/// The kind of a JSON value, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonKind {
    /// `null`.
    Null,
    /// `true` / `false`.
    Boolean,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonKind {
    /// The kind of `value`.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(_) => Self::Boolean,
            Value::Number(_) => Self::Number,
            Value::String(_) => Self::String,
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Null => "null",
            Self::Boolean => "a boolean",
            Self::Number => "a number",
            Self::String => "a string",
            Self::Array => "an array",
            Self::Object => "a JSON object",
        })
    }
}

fn expected_text(t: AttributeType, multi_valued: bool) -> String {
    let one = match t {
        AttributeType::String => "a string",
        AttributeType::Boolean => "true or false",
        AttributeType::Decimal => "a number",
        AttributeType::Integer => "a whole number",
        AttributeType::DateTime => "a dateTime string such as \"2024-05-13T04:42:34Z\"",
        AttributeType::Reference => "a URI string",
        AttributeType::Binary => "a base64 string",
        AttributeType::Complex => "a JSON object",
    };
    if multi_valued {
        format!("an array of values, each {one}")
    } else {
        one.to_owned()
    }
}

/// Why a resource was refused. Converts into a [`ScimError`] with the right status and
/// `scimType` (`invalidSyntax`, `invalidValue` or `mutability`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceError {
    /// The body exceeds [`ResourceLimits::max_bytes`](super::ResourceLimits::max_bytes).
    #[error("the request body is {actual} bytes long; the limit is {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
        /// The body's size.
        actual: usize,
    },
    /// The body is not JSON.
    #[error("the request body is not valid JSON (line {line}, column {column}): {reason}")]
    InvalidJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's explanation.
        reason: String,
    },
    /// A JSON object of the body has two members with the same name (RFC 8259 §4 leaves
    /// their meaning open; `invalidSyntax`).
    #[error("the member {key:?} appears twice in the same JSON object (line {line}, column {column}); send each attribute once")]
    DuplicateKey {
        /// The member name.
        key: String,
        /// 1-based line of the second occurrence.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A string holds a control character (U+0000–U+001F) that the attribute does not
    /// allow: none anywhere except TAB, LF and CR in the attributes RFC 7643 says may hold
    /// several lines (`addresses.formatted`, `addresses.streetAddress`).
    #[error("{attribute} contains the control character U+{code:04X} at character {position}; remove it from the value in the IdP (only addresses.formatted and addresses.streetAddress may hold line breaks and tabs)")]
    ControlCharacter {
        /// The attribute path, e.g. `userName` or `addresses[0].locality`.
        attribute: String,
        /// The character's code point.
        code: u32,
        /// Its 1-based position in the value.
        position: usize,
    },
    /// The body (or stored resource) is not a JSON object.
    #[error("a SCIM resource must be a JSON object, but this is {found}")]
    NotAnObject {
        /// What arrived.
        found: JsonKind,
    },
    /// No `schemas` member.
    #[error("the resource has no \"schemas\" member; add \"schemas\": [\"{expected}\"]")]
    MissingSchemas {
        /// The core schema URN of the resource type.
        expected: String,
    },
    /// `schemas` does not list the resource type's core schema.
    #[error("\"schemas\" must list {expected} for this endpoint, but lists {found:?}; check that the request went to the right endpoint (/Users or /Groups)")]
    MissingCoreSchema {
        /// The core schema URN.
        expected: String,
        /// What `schemas` listed.
        found: Vec<String>,
    },
    /// A schema URN (in `schemas`, as a key, or as an attribute prefix) that is neither the
    /// core schema nor a registered extension of the resource type.
    #[error("schema {urn} is not supported for {resource_type} resources; remove it from the IdP's attribute mapping or register it as an extension")]
    UnknownSchema {
        /// The URN.
        urn: String,
        /// The resource type.
        resource_type: String,
    },
    /// A required extension has no attributes.
    #[error("{resource_type} resources must carry the extension {urn}")]
    MissingExtension {
        /// The extension URN.
        urn: String,
        /// The resource type.
        resource_type: String,
    },
    /// A required attribute is missing or unassigned.
    #[error("{attribute} is required but missing or empty; map a value to it in the IdP")]
    RequiredMissing {
        /// The attribute path, e.g. `userName` or `manager.value`.
        attribute: String,
    },
    /// An attribute no schema of the resource type defines.
    #[error("{attribute} is not an attribute of {resource_type} resources; remove it from the IdP's attribute mapping (or the service must register a schema defining it)")]
    UnknownAttribute {
        /// The attribute as written.
        attribute: String,
        /// The resource type.
        resource_type: String,
    },
    /// The same attribute twice (names are case-insensitive; an extension attribute may be
    /// written nested or URN-qualified, not both).
    #[error("{attribute} is given twice (as {first:?} and {second:?}); attribute names are case-insensitive, send it once")]
    DuplicateAttribute {
        /// The canonical attribute path.
        attribute: String,
        /// The first spelling.
        first: String,
        /// The second spelling.
        second: String,
    },
    /// A value of the wrong JSON type.
    #[error("{attribute} must be {}, but is {found}", expected_text(*expected, *multi_valued))]
    WrongType {
        /// The attribute path, e.g. `emails[0].primary`.
        attribute: String,
        /// The attribute's type.
        expected: AttributeType,
        /// Whether an array was expected.
        multi_valued: bool,
        /// What arrived.
        found: JsonKind,
    },
    /// A value of the right JSON type but the wrong format (a malformed dateTime, base64 or
    /// URI, a fractional integer).
    #[error("{attribute}: {value:?} is not a valid {expected} value; {hint}")]
    InvalidFormat {
        /// The attribute path.
        attribute: String,
        /// The attribute's type.
        expected: AttributeType,
        /// The value as received (shortened to 64 characters).
        value: String,
        /// What is expected.
        hint: &'static str,
    },
    /// More than one value of a multi-valued attribute has `"primary": true`.
    #[error("{attribute} has {count} values marked \"primary\": true; at most one may be primary")]
    MultiplePrimary {
        /// The attribute.
        attribute: String,
        /// How many are primary.
        count: usize,
    },
    /// A multi-valued attribute has more values than [`ResourceLimits::max_values`](super::ResourceLimits::max_values).
    #[error("{attribute} has {actual} values; the limit is {max}")]
    TooManyValues {
        /// The attribute.
        attribute: String,
        /// The limit.
        max: usize,
        /// How many arrived.
        actual: usize,
    },
    /// An `immutable` attribute that already has a value was given a different one.
    #[error("{attribute} is immutable: it already has a value and cannot be changed (send the stored value, or leave it out)")]
    Immutable {
        /// The attribute path.
        attribute: String,
    },
    /// A `readOnly` attribute was the target of a modification (used by PATCH).
    #[error("{attribute} is read-only and cannot be modified by clients")]
    ReadOnly {
        /// The attribute path.
        attribute: String,
    },
    /// The resource type is not registered.
    #[error(
        "resource type {name:?} is not registered in the schema registry (use its name, e.g. User or Group)"
    )]
    UnknownResourceType {
        /// The name given.
        name: String,
    },
    /// The host-supplied `id` cannot be used.
    #[error("the resource id {id:?} cannot be used: {reason}")]
    InvalidId {
        /// The id.
        id: String,
        /// Why.
        reason: &'static str,
    },
}

impl ResourceError {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            ResourceError::TooLarge { .. } => "too_large",
            ResourceError::InvalidJson { .. } => "invalid_json",
            ResourceError::DuplicateKey { .. } => "duplicate_key",
            ResourceError::ControlCharacter { .. } => "control_character",
            ResourceError::NotAnObject { .. } => "not_an_object",
            ResourceError::MissingSchemas { .. } => "missing_schemas",
            ResourceError::MissingCoreSchema { .. } => "missing_core_schema",
            ResourceError::UnknownSchema { .. } => "unknown_schema",
            ResourceError::MissingExtension { .. } => "missing_extension",
            ResourceError::RequiredMissing { .. } => "required_missing",
            ResourceError::UnknownAttribute { .. } => "unknown_attribute",
            ResourceError::DuplicateAttribute { .. } => "duplicate_attribute",
            ResourceError::WrongType { .. } => "wrong_type",
            ResourceError::InvalidFormat { .. } => "invalid_format",
            ResourceError::MultiplePrimary { .. } => "multiple_primary",
            ResourceError::TooManyValues { .. } => "too_many_values",
            ResourceError::Immutable { .. } => "immutable",
            ResourceError::ReadOnly { .. } => "read_only",
            ResourceError::UnknownResourceType { .. } => "unknown_resource_type",
            ResourceError::InvalidId { .. } => "invalid_id",
        }
    }
}

impl ResourceError {
    /// The `scimType` a service answers this error with (`None` for non-400 errors).
    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            Self::TooLarge { .. } | Self::UnknownResourceType { .. } | Self::InvalidId { .. } => None,
            Self::InvalidJson { .. } | Self::DuplicateKey { .. } | Self::NotAnObject { .. } => {
                Some(ScimType::InvalidSyntax)
            }
            Self::Immutable { .. } | Self::ReadOnly { .. } => Some(ScimType::Mutability),
            _ => Some(ScimType::InvalidValue),
        }
    }

    /// The HTTP status: 413 for an oversized body, 500 for host misconfiguration (unknown
    /// resource type, unusable id), 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::UnknownResourceType { .. } | Self::InvalidId { .. } => 500,
            _ => 400,
        }
    }
}

impl From<ResourceError> for ScimError {
    fn from(err: ResourceError) -> Self {
        ScimError::new(err.status(), err.scim_type(), err.to_string())
    }
}

impl From<crate::json::JsonError> for ResourceError {
    fn from(err: crate::json::JsonError) -> Self {
        match err {
            crate::json::JsonError::DuplicateKey { key, line, column } => {
                ResourceError::DuplicateKey { key, line, column }
            }
            crate::json::JsonError::Syntax { line, column, reason } => {
                ResourceError::InvalidJson { line, column, reason }
            }
        }
    }
}
