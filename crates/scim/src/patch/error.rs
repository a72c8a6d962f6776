//! PATCH errors: which operation failed, what was wrong, and the SCIM status and `scimType`
//! each maps to.

use std::fmt;

use crate::error::{ScimError, ScimType};
use crate::filter::FilterError;
use crate::schema::Mutability;

use super::PatchOpKind;

/// A PATCH request that could not be parsed or applied. When it comes from
/// [`apply`](super::apply), the resource is unchanged.
///
/// `Display` names the operation and explains the problem, e.g.
/// `operation 2 (replace emails[type eq "work"].value): no value of emails has type "work"`.
/// Convert it into the SCIM error document with `ScimError::from`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", operation.as_ref().map(|o| format!("{o}: ")).unwrap_or_default())]
pub struct PatchError {
    /// The operation that failed; `None` when the request as a whole is malformed.
    pub operation: Option<OperationRef>,
    /// What is wrong.
    pub kind: PatchErrorKind,
}

impl PatchError {
    /// A stable `snake_case` code for logs and metrics: its kind's ([`PatchErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub(crate) fn request(kind: PatchErrorKind) -> Self {
        Self {
            operation: None,
            kind,
        }
    }

    /// The HTTP status a SCIM service answers with (400 for almost everything; 413 for a
    /// request over the [`PatchLimits`](super::PatchLimits); 500 when the host passed an
    /// unknown resource type or a malformed stored resource).
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The `scimType` keyword (RFC 7644 §3.12), when the status defines one.
    pub fn scim_type(&self) -> Option<ScimType> {
        self.kind.scim_type()
    }
}

/// Names the operation an error is about: its 1-based position in `Operations`, its `op` and
/// its `path` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRef {
    /// 1-based position in the `Operations` array.
    pub number: usize,
    /// The operation, when it could be read.
    pub op: Option<PatchOpKind>,
    /// The `path` as the client wrote it; `None` for a path-less operation.
    pub path: Option<String>,
}

impl fmt::Display for OperationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "operation {}", self.number)?;
        match (self.op, &self.path) {
            (Some(op), Some(path)) => write!(f, " ({op} {path})"),
            (Some(op), None) => write!(f, " ({op}, no path)"),
            (None, _) => Ok(()),
        }
    }
}

/// Why a PATCH request failed. Each variant maps to one status and `scimType`
/// ([`PatchErrorKind::status`], [`PatchErrorKind::scim_type`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatchErrorKind {
    /// The request body is not JSON. `invalidSyntax`.
    #[error("the request body is not valid JSON: {reason}")]
    InvalidJson {
        /// The parser's explanation.
        reason: String,
    },
    /// The request body is larger than [`PatchLimits::max_request_bytes`](super::PatchLimits).
    /// Status 413.
    #[error("the request body is {actual} bytes; this service accepts at most {max}")]
    TooLarge {
        /// The limit.
        max: usize,
        /// The body's size.
        actual: usize,
    },
    /// The body is not a JSON object. `invalidSyntax`.
    #[error("a PATCH request body must be a JSON object with \"schemas\" and \"Operations\", not {found}")]
    NotAnObject {
        /// What arrived (`an array`, `a string`, ...).
        found: String,
    },
    /// `schemas` is missing or does not list the PatchOp URN. `invalidSyntax`.
    #[error(
        "\"schemas\" must list \"{}\" (RFC 7644 §3.5.2); the request has {found}",
        super::PATCH_OP_SCHEMA
    )]
    MissingPatchOpSchema {
        /// What `schemas` holds, as JSON text (`nothing` when absent).
        found: String,
    },
    /// There is no `Operations` member. `invalidSyntax`.
    #[error("the request has no \"Operations\" array")]
    MissingOperations,
    /// `Operations` is not an array. `invalidSyntax`.
    #[error("\"Operations\" must be an array of operations, not {found}")]
    OperationsNotArray {
        /// What arrived.
        found: String,
    },
    /// `Operations` is empty; RFC 7644 requires one or more. `invalidSyntax`.
    #[error("\"Operations\" is empty; a PATCH request needs at least one operation")]
    NoOperations,
    /// More operations than [`PatchLimits::max_operations`](super::PatchLimits). Status 413.
    #[error("the request has {actual} operations; this service accepts at most {max} per request")]
    TooManyOperations {
        /// The limit.
        max: usize,
        /// The number of operations.
        actual: usize,
    },
    /// An element of `Operations` is not an object. `invalidSyntax`.
    #[error("an operation must be an object with \"op\", \"path\" and \"value\", not {found}")]
    OperationNotObject {
        /// What arrived.
        found: String,
    },
    /// The operation has no `op`. `invalidSyntax`.
    #[error("the operation has no \"op\" (expected \"add\", \"remove\" or \"replace\")")]
    MissingOp,
    /// `op` is not `add`, `remove` or `replace`. `invalidSyntax`.
    #[error("\"op\" is {found}; expected \"add\", \"remove\" or \"replace\"{hint}")]
    UnknownOp {
        /// The `op` value as JSON text.
        found: String,
        /// Extra advice (e.g. about letter case), possibly empty.
        hint: &'static str,
    },
    /// `path` is not a string. `invalidPath`.
    #[error("\"path\" must be a string such as \"emails[type eq \\\"work\\\"].value\", not {found}")]
    PathNotString {
        /// What arrived.
        found: String,
    },
    /// The path (or a path used as a key of a path-less value) does not parse, or its value
    /// filter does not fit the attribute's types. `invalidPath`.
    #[error("{path:?} is not a valid attribute path: {error}")]
    InvalidPath {
        /// The path as written.
        path: String,
        /// The parser's or filter compiler's explanation.
        error: Box<FilterError>,
    },
    /// `add` or `replace` without `value`. `invalidValue`.
    #[error("\"{op}\" needs a \"value\"")]
    MissingValue {
        /// The operation.
        op: PatchOpKind,
    },
    /// `remove` without `path` (RFC 7644 §3.5.2.2). `noTarget`.
    #[error(
        "\"remove\" needs a \"path\" naming what to remove, e.g. \"members[value eq \\\"2819c223\\\"]\""
    )]
    RemoveWithoutPath,
    /// `remove` with a `value`, refused because [`PatchOptions::remove_with_value`](super::PatchOptions)
    /// is off. `invalidSyntax`.
    #[error(
        "\"remove\" takes no \"value\"; select the values to remove with a filter in the path, e.g. \"members[value eq \\\"2819c223\\\"]\""
    )]
    RemoveWithValue,
    /// A path-less `add`/`replace` whose value is not an object of attributes. `invalidValue`.
    #[error("without a \"path\", \"value\" must be an object of attributes such as {{\"active\": false}}, not {found}")]
    PathlessValueNotObject {
        /// What arrived.
        found: String,
    },
    /// A key of a path-less value is a path (`name.givenName`, a URN-qualified name or a value
    /// filter), refused because [`PatchOptions::path_keys_in_value`](super::PatchOptions) is
    /// off. `invalidPath`.
    #[error(
        "the key {key:?} of a path-less value is a path, not an attribute name; send it as the \"path\" of its own operation"
    )]
    PathAsKey {
        /// The key.
        key: String,
    },
    /// The resource type is not registered. This is a mistake of the host, status 500.
    #[error(
        "resource type {name:?} is not registered in the schema registry (use its name, e.g. User or Group)"
    )]
    UnknownResourceType {
        /// The name given.
        name: String,
    },
    /// The stored resource is not a JSON object. Status 500.
    #[error("the stored resource is not a JSON object")]
    ResourceNotAnObject,
    /// The stored resource holds a value of the wrong shape where the PATCH must write (e.g.
    /// a string where `name` should be an object). Status 500.
    #[error("the stored resource is malformed at {attribute}: {reason}")]
    MalformedResource {
        /// Where.
        attribute: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The path names a schema URN that is not the resource type's schema or one of its
    /// extensions. `invalidPath`.
    #[error("{urn} is not a schema of the {resource_type} resource type; check the attribute mapping in the identity provider")]
    UnknownSchema {
        /// The URN as written.
        urn: String,
        /// The resource type.
        resource_type: String,
    },
    /// The path names an attribute the schemas do not define. `invalidPath`.
    #[error(
        "the {resource_type} schemas have no attribute {attribute:?}; remove it from the identity provider's attribute mappings or register a schema extension that defines it"
    )]
    UnknownAttribute {
        /// The attribute as written.
        attribute: String,
        /// The resource type.
        resource_type: String,
    },
    /// The path names a sub-attribute the attribute does not have. `invalidPath`.
    #[error("{attribute} has no sub-attribute {sub_attribute:?} (it has {known})")]
    NoSuchSubAttribute {
        /// The attribute.
        attribute: String,
        /// The sub-attribute as written.
        sub_attribute: String,
        /// The sub-attributes it does have.
        known: String,
    },
    /// The path names a sub-attribute of an attribute that is not complex. `invalidPath`.
    #[error(
        "{attribute} is a simple attribute (type {attr_type}) and has no sub-attribute {sub_attribute:?}"
    )]
    SubAttributeOfSimple {
        /// The attribute.
        attribute: String,
        /// The type of the attribute.
        attr_type: &'static str,
        /// The sub-attribute as written.
        sub_attribute: String,
    },
    /// A value filter `[ ]` on a single-valued attribute. `invalidPath`.
    #[error(
        "{attribute} is single-valued, so it cannot take a value filter [ ]; use {attribute}.subAttribute"
    )]
    FilterOnSingleValued {
        /// The attribute.
        attribute: String,
    },
    /// The value filter selects no value (RFC 7644 §3.5.2.3). `noTarget`.
    #[error("no value of {attribute} {condition}")]
    NoTarget {
        /// The multi-valued attribute.
        attribute: String,
        /// The unmet condition, e.g. `has type "work"` or `matches [display co "x"]`.
        condition: String,
    },
    /// A value does not fit the attribute's type. `invalidValue`.
    #[error("{attribute} must be {expected}, but the request has {found}")]
    InvalidValue {
        /// The attribute (`emails.primary`, `active`, ...).
        attribute: String,
        /// What is expected.
        expected: &'static str,
        /// What arrived, as (possibly shortened) JSON text.
        found: String,
    },
    /// A value has a sub-attribute the schema does not define, refused because
    /// [`PatchOptions::ignore_unknown_sub_attributes`](super::PatchOptions) is off.
    /// `invalidValue`.
    #[error("{attribute} has no sub-attribute {sub_attribute:?} (it has {known})")]
    UnexpectedSubAttribute {
        /// The attribute.
        attribute: String,
        /// The unknown key.
        sub_attribute: String,
        /// The sub-attributes it does have.
        known: String,
    },
    /// The operation would leave more than one value with `primary` true. `invalidValue`.
    #[error("more than one value of {attribute} would have \"primary\": true; at most one value may be primary (RFC 7643 §2.4)")]
    MultiplePrimary {
        /// The multi-valued attribute.
        attribute: String,
    },
    /// The operation would modify a readOnly attribute, or modify or remove an immutable one
    /// that already has a value. `mutability`.
    #[error("{attribute} is {} and cannot be {action}", mutability.as_str())]
    Mutability {
        /// The attribute.
        attribute: String,
        /// Its mutability.
        mutability: Mutability,
        /// What the operation tried: `modified`, `removed`.
        action: &'static str,
    },
    /// The operation would remove a required attribute (RFC 7644 §3.5.2.2). `mutability`.
    #[error("{attribute} is required and cannot be removed; replace it with a new value instead")]
    RequiredAttribute {
        /// The attribute.
        attribute: String,
    },
}

impl PatchErrorKind {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            PatchErrorKind::InvalidJson { .. } => "invalid_json",
            PatchErrorKind::TooLarge { .. } => "too_large",
            PatchErrorKind::NotAnObject { .. } => "not_an_object",
            PatchErrorKind::MissingPatchOpSchema { .. } => "missing_patch_op_schema",
            PatchErrorKind::MissingOperations => "missing_operations",
            PatchErrorKind::OperationsNotArray { .. } => "operations_not_array",
            PatchErrorKind::NoOperations => "no_operations",
            PatchErrorKind::TooManyOperations { .. } => "too_many_operations",
            PatchErrorKind::OperationNotObject { .. } => "operation_not_object",
            PatchErrorKind::MissingOp => "missing_op",
            PatchErrorKind::UnknownOp { .. } => "unknown_op",
            PatchErrorKind::PathNotString { .. } => "path_not_string",
            PatchErrorKind::InvalidPath { .. } => "invalid_path",
            PatchErrorKind::MissingValue { .. } => "missing_value",
            PatchErrorKind::RemoveWithoutPath => "remove_without_path",
            PatchErrorKind::RemoveWithValue => "remove_with_value",
            PatchErrorKind::PathlessValueNotObject { .. } => "pathless_value_not_object",
            PatchErrorKind::PathAsKey { .. } => "path_as_key",
            PatchErrorKind::UnknownResourceType { .. } => "unknown_resource_type",
            PatchErrorKind::ResourceNotAnObject => "resource_not_an_object",
            PatchErrorKind::MalformedResource { .. } => "malformed_resource",
            PatchErrorKind::UnknownSchema { .. } => "unknown_schema",
            PatchErrorKind::UnknownAttribute { .. } => "unknown_attribute",
            PatchErrorKind::NoSuchSubAttribute { .. } => "no_such_sub_attribute",
            PatchErrorKind::SubAttributeOfSimple { .. } => "sub_attribute_of_simple",
            PatchErrorKind::FilterOnSingleValued { .. } => "filter_on_single_valued",
            PatchErrorKind::NoTarget { .. } => "no_target",
            PatchErrorKind::InvalidValue { .. } => "invalid_value",
            PatchErrorKind::UnexpectedSubAttribute { .. } => "unexpected_sub_attribute",
            PatchErrorKind::MultiplePrimary { .. } => "multiple_primary",
            PatchErrorKind::Mutability { .. } => "mutability",
            PatchErrorKind::RequiredAttribute { .. } => "required_attribute",
        }
    }
}

impl PatchErrorKind {
    /// The HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } | Self::TooManyOperations { .. } => 413,
            Self::UnknownResourceType { .. } | Self::ResourceNotAnObject | Self::MalformedResource { .. } => {
                500
            }
            _ => 400,
        }
    }

    /// The `scimType` keyword, for 400 errors.
    pub fn scim_type(&self) -> Option<ScimType> {
        Some(match self {
            Self::TooLarge { .. }
            | Self::TooManyOperations { .. }
            | Self::UnknownResourceType { .. }
            | Self::ResourceNotAnObject
            | Self::MalformedResource { .. } => return None,
            Self::InvalidJson { .. }
            | Self::NotAnObject { .. }
            | Self::MissingPatchOpSchema { .. }
            | Self::MissingOperations
            | Self::OperationsNotArray { .. }
            | Self::NoOperations
            | Self::OperationNotObject { .. }
            | Self::MissingOp
            | Self::UnknownOp { .. }
            | Self::RemoveWithValue => ScimType::InvalidSyntax,
            Self::PathNotString { .. }
            | Self::InvalidPath { .. }
            | Self::PathAsKey { .. }
            | Self::UnknownSchema { .. }
            | Self::UnknownAttribute { .. }
            | Self::NoSuchSubAttribute { .. }
            | Self::SubAttributeOfSimple { .. }
            | Self::FilterOnSingleValued { .. } => ScimType::InvalidPath,
            Self::RemoveWithoutPath | Self::NoTarget { .. } => ScimType::NoTarget,
            Self::MissingValue { .. }
            | Self::PathlessValueNotObject { .. }
            | Self::InvalidValue { .. }
            | Self::UnexpectedSubAttribute { .. }
            | Self::MultiplePrimary { .. } => ScimType::InvalidValue,
            Self::Mutability { .. } | Self::RequiredAttribute { .. } => ScimType::Mutability,
        })
    }
}

impl From<PatchError> for ScimError {
    fn from(err: PatchError) -> Self {
        ScimError::new(err.status(), err.scim_type(), err.to_string())
    }
}

/// Describes a JSON value for an error message: its type for containers, shortened JSON text
/// for scalars.
pub(crate) fn describe(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => shorten(&value.to_string()),
    }
}

/// Shortened JSON text of a value (at most about 80 characters).
pub(crate) fn snippet(value: &serde_json::Value) -> String {
    shorten(&value.to_string())
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}
