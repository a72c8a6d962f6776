//! Resources (RFC 7643 §3): validation against the [`SchemaRegistry`], the canonical shape,
//! `meta` managed by the library, and PUT semantics (RFC 7644 §3.5.1).
//!
//! A resource is a `serde_json::Value`. [`ResourceSchema`] binds one resource type (`User`,
//! `Group` or one the host registered) and:
//!
//! * [`ResourceSchema::validate_input`] checks a client's POST/PUT body: `schemas`, required
//!   attributes, every value's type (string, boolean, decimal, integer, dateTime, reference,
//!   binary, complex), at most one `primary` value. Attribute names and schema URNs match
//!   case-insensitively; extension attributes may be nested under their schema URN or written
//!   URN-qualified at the top level; `readOnly` attributes (`id`, `meta`, `groups`) are ignored.
//!   The result is the canonical shape: names in their schema case, extension attributes under
//!   their URN, `schemas` listing exactly the schemas in use, unassigned values (`null`, `[]`,
//!   `{}`) removed (RFC 7643 §2.5).
//! * [`ResourceSchema::create`] adds `id` and `meta` (`resourceType`, `created`,
//!   `lastModified`, `location` under a caller-given base URL, `version` as a weak ETag
//!   computed from the content). Time is a parameter, never read from a clock.
//! * [`ResourceSchema::replace`] applies PUT: `readOnly` attributes keep their stored value,
//!   an `immutable` attribute that has a value may not change (`mutability` error), a
//!   `writeOnly` attribute the client leaves out keeps its stored value (a PUT from an IdP
//!   never clears the password), and omitted `readWrite` attributes are cleared.
//! * [`ResourceSchema::finish_update`] recomputes `schemas` and `meta` after any other change
//!   (e.g. a PATCH).
//!
//! Helpers for code that edits resources directly (the PATCH engine): [`get_attr`],
//! [`get_attr_mut`], [`find_key`] for case-insensitive member lookup, [`attribute_container`]
//! and [`attribute_container_mut`] for where a resolved attribute lives, [`check_value`] /
//! [`check_element`] to type-check and canonicalize a value for one attribute definition, and
//! [`values_equal`] for schema-aware equality.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use fedkit_scim::resource::{MetaContext, ResourceSchema};
//! use fedkit_scim::schema::SchemaRegistry;
//! use serde_json::json;
//!
//! let registry = SchemaRegistry::core();
//! let users = ResourceSchema::new(&registry, "User").unwrap();
//! let ctx = MetaContext::new(Utc.with_ymd_and_hms(2024, 5, 13, 4, 42, 34).unwrap(), "https://app.example/scim/v2");
//! let body = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "USERNAME": "bjensen@example.com",
//!     "id": "chosen-by-the-client",          // readOnly: ignored
//!     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
//! });
//! let user = users.create(&body, "2819c223", &ctx).unwrap();
//! assert_eq!(user["userName"], "bjensen@example.com");
//! assert_eq!(user["id"], "2819c223");
//! assert_eq!(user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"], "701984");
//! assert_eq!(user["meta"]["location"], "https://app.example/scim/v2/Users/2819c223");
//! assert!(user["meta"]["version"].as_str().unwrap().starts_with("W/\""));
//! ```

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{ScimError, ScimType};
use crate::schema::{
    AttributeDef, AttributeType, Mutability, ResolvedAttribute, ResourceType, Schema, SchemaRegistry,
};

/// Resource limits for request bodies. Exceeding one is its own [`ResourceError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceLimits {
    /// Maximum body size in bytes for [`parse_json`]. Default 8 MiB (a Group with tens of
    /// thousands of members fits).
    pub max_bytes: usize,
    /// Maximum number of values of one multi-valued attribute. Default 200 000.
    pub max_values: usize,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_values: 200_000,
        }
    }
}

impl ResourceLimits {
    /// Sets the maximum body size in bytes.
    #[must_use]
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Sets the maximum number of values of one multi-valued attribute.
    #[must_use]
    pub fn with_max_values(mut self, max_values: usize) -> Self {
        self.max_values = max_values;
        self
    }
}

/// What to do with an attribute no registered schema defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownAttributes {
    /// Refuse the resource with [`ResourceError::UnknownAttribute`] (or
    /// [`ResourceError::UnknownSchema`] for an unregistered extension URN). The default: an
    /// IdP attribute mapping that names an attribute this service does not have is reported
    /// instead of being silently lost.
    #[default]
    Reject,
    /// Drop it from the canonical resource.
    Ignore,
}

/// What to do with a `schemas` entry that names a schema this service does not define for
/// the resource type (neither its core schema nor a registered extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UndefinedSchemas {
    /// Ignore the entry when no attribute of the body uses it (neither an extension object
    /// under that URN nor an attribute qualified by it): the body means the same without it.
    /// The default, because identity providers list schemas of their own: Microsoft Entra
    /// ID's documented Create Group body lists
    /// `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group`, and a
    /// custom Entra extension URN may be listed with no attribute mapped to it.
    /// [`ResourceSchema::ignored_schemas`] tells the host which entries were ignored. A URN
    /// that attributes of the body use is still refused ([`ResourceError::UnknownSchema`]):
    /// dropping those attributes would lose data silently.
    #[default]
    IgnoreUnused,
    /// Refuse every undefined entry ([`ResourceError::UnknownSchema`]), as RFC 7643 §3 reads
    /// literally ("schemas" lists the schemas of the resource).
    Reject,
}

/// Options for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationOptions {
    /// Unknown attributes and extension URNs.
    pub unknown_attributes: UnknownAttributes,
    /// Body and value-count limits.
    pub limits: ResourceLimits,
    /// Accept the strings `"true"`/`"false"` (any case) for boolean attributes and store them
    /// as JSON booleans. Default on: Entra ID sends `"False"`.
    pub boolean_strings: bool,
    /// Undefined URNs listed in `schemas`.
    pub undefined_schemas: UndefinedSchemas,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        Self {
            unknown_attributes: UnknownAttributes::Reject,
            limits: ResourceLimits::default(),
            boolean_strings: true,
            undefined_schemas: UndefinedSchemas::IgnoreUnused,
        }
    }
}

impl ValidationOptions {
    /// Sets the unknown-attribute policy.
    #[must_use]
    pub fn with_unknown_attributes(mut self, policy: UnknownAttributes) -> Self {
        self.unknown_attributes = policy;
        self
    }

    /// Sets the limits.
    #[must_use]
    pub fn with_limits(mut self, limits: ResourceLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the policy for undefined URNs listed in `schemas`.
    #[must_use]
    pub fn with_undefined_schemas(mut self, policy: UndefinedSchemas) -> Self {
        self.undefined_schemas = policy;
        self
    }

    /// Accepts or refuses boolean values written as strings.
    #[must_use]
    pub fn with_boolean_strings(mut self, accept: bool) -> Self {
        self.boolean_strings = accept;
        self
    }
}

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
    /// The body exceeds [`ResourceLimits::max_bytes`].
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
    /// A multi-valued attribute has more values than [`ResourceLimits::max_values`].
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

/// Parses a request body under `limits` (size first, then JSON with [`crate::json::parse`]:
/// duplicate member names refused, text normalized to NFC). The result still needs
/// [`ResourceSchema::validate_input`].
pub fn parse_json(bytes: &[u8], limits: &ResourceLimits) -> Result<Value, ResourceError> {
    if bytes.len() > limits.max_bytes {
        return Err(ResourceError::TooLarge {
            max: limits.max_bytes,
            actual: bytes.len(),
        });
    }
    crate::json::parse(bytes).map_err(ResourceError::from)
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

// ---------------------------------------------------------------------------------------------
// Case-insensitive lookup helpers.

/// The actual key of `obj` matching `name` case-insensitively (an exact match wins).
pub fn find_key<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v str> {
    if let Some((k, _)) = obj.get_key_value(name) {
        return Some(k.as_str());
    }
    obj.keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(String::as_str)
}

/// The member of `obj` called `name`, compared case-insensitively (an exact match wins).
pub fn get_attr<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Mutable access to the member of `obj` called `name`, compared case-insensitively.
pub fn get_attr_mut<'v>(obj: &'v mut Map<String, Value>, name: &str) -> Option<&'v mut Value> {
    let key = find_key(obj, name)?.to_owned();
    obj.get_mut(&key)
}

/// Removes the member called `name` (case-insensitively) and returns it.
pub fn remove_attr(obj: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let key = find_key(obj, name)?.to_owned();
    obj.remove(&key)
}

/// The object holding a resolved attribute in a resource: the resource itself for core and
/// common attributes, the extension object (`resource["urn:…:enterprise:2.0:User"]`) for
/// extension attributes. `None` when the extension object is absent or not an object.
pub fn attribute_container<'v>(
    resource: &'v Map<String, Value>,
    resolved: &ResolvedAttribute<'_>,
) -> Option<&'v Map<String, Value>> {
    if resolved.extension {
        get_attr(resource, resolved.schema)?.as_object()
    } else {
        Some(resource)
    }
}

/// Mutable [`attribute_container`]; with `create`, an absent extension object is created
/// (under the canonical URN). `None` when the extension member exists but is not an object.
pub fn attribute_container_mut<'v>(
    resource: &'v mut Map<String, Value>,
    resolved: &ResolvedAttribute<'_>,
    create: bool,
) -> Option<&'v mut Map<String, Value>> {
    if !resolved.extension {
        return Some(resource);
    }
    let key = match find_key(resource, resolved.schema) {
        Some(k) => k.to_owned(),
        None if create => {
            resource.insert(resolved.schema.to_owned(), Value::Object(Map::new()));
            resolved.schema.to_owned()
        }
        None => return None,
    };
    resource.get_mut(&key)?.as_object_mut()
}

// ---------------------------------------------------------------------------------------------
// Value checking.

/// The sub-attribute `name` of `def`, including the RFC 7643 §2.4 defaults on multi-valued
/// complex attributes ([`AttributeDef::find_sub_attribute`]).
pub fn sub_attribute<'d>(def: &'d AttributeDef, name: &str) -> Option<&'d AttributeDef> {
    def.find_sub_attribute(name)
}

#[derive(Clone, Copy)]
struct Check<'o> {
    options: &'o ValidationOptions,
    /// Client input: readOnly (sub-)attributes are dropped.
    input: bool,
    resource_type: &'o str,
    /// The value may hold TAB, LF and CR ([`allows_line_breaks`]).
    multi_line: bool,
}

/// The sub-attributes whose strings may hold TAB, LF and CR, as `attribute.subAttribute`:
/// RFC 7643 §4.1.2 says `addresses.formatted` and `addresses.streetAddress` "MAY contain
/// newlines". Every other string refuses every control character U+0000–U+001F
/// ([`ResourceError::ControlCharacter`]).
pub const MULTI_LINE_ATTRIBUTES: &[&str] = &["addresses.formatted", "addresses.streetAddress"];

/// Whether the sub-attribute `sub` of `parent` may hold TAB, LF and CR
/// ([`MULTI_LINE_ATTRIBUTES`]).
pub fn allows_line_breaks(parent: &AttributeDef, sub: &AttributeDef) -> bool {
    MULTI_LINE_ATTRIBUTES.iter().any(|p| {
        p.split_once('.')
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(&parent.name) && b.eq_ignore_ascii_case(&sub.name))
    })
}

/// Refuses a control character (U+0000–U+001F) in `text`, except TAB, LF and CR when
/// `multi_line`.
pub fn check_control_characters(path: &str, text: &str, multi_line: bool) -> Result<(), ResourceError> {
    let bad = text
        .chars()
        .enumerate()
        .find(|(_, c)| u32::from(*c) < 0x20 && !(multi_line && matches!(c, '\t' | '\n' | '\r')));
    match bad {
        Some((i, c)) => Err(ResourceError::ControlCharacter {
            attribute: path.to_owned(),
            code: u32::from(c),
            position: i + 1,
        }),
        None => Ok(()),
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(64).collect();
        out.push('…');
        out
    }
}

/// Checks and canonicalizes the value of one attribute (a whole multi-valued array, or a
/// single value) as client input: type-checks every value, drops `readOnly` sub-attributes,
/// coerces `"true"`/`"false"` strings for booleans when the options allow, renames
/// sub-attributes to their schema case and removes unassigned values. `Ok(None)` means the
/// value is unassigned (`null`, `[]`, `{}` or only unassigned parts). `path` names the
/// attribute in error messages.
///
/// The attribute's own mutability is not checked here: a PATCH engine refuses writes to
/// `readOnly` attributes itself ([`ResourceError::ReadOnly`]).
pub fn check_value(
    def: &AttributeDef,
    path: &str,
    value: &Value,
    options: &ValidationOptions,
) -> Result<Option<Value>, ResourceError> {
    let ck = Check {
        options,
        input: true,
        resource_type: "",
        multi_line: false,
    };
    check_attr(def, path, value, &ck)
}

/// Like [`check_value`] for **one element** of a multi-valued attribute (e.g. one member
/// added to a Group): the element is checked against the attribute's type without the
/// array.
pub fn check_element(
    def: &AttributeDef,
    path: &str,
    element: &Value,
    options: &ValidationOptions,
) -> Result<Option<Value>, ResourceError> {
    let ck = Check {
        options,
        input: true,
        resource_type: "",
        multi_line: false,
    };
    check_single(def, path, element, &ck)
}

fn check_attr(
    def: &AttributeDef,
    path: &str,
    v: &Value,
    ck: &Check<'_>,
) -> Result<Option<Value>, ResourceError> {
    if v.is_null() {
        return Ok(None);
    }
    if !def.multi_valued {
        return check_single(def, path, v, ck);
    }
    let Value::Array(items) = v else {
        return Err(ResourceError::WrongType {
            attribute: path.to_owned(),
            expected: def.attr_type,
            multi_valued: true,
            found: JsonKind::of(v),
        });
    };
    if items.len() > ck.options.limits.max_values {
        return Err(ResourceError::TooManyValues {
            attribute: path.to_owned(),
            max: ck.options.limits.max_values,
            actual: items.len(),
        });
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(x) = check_single(def, &format!("{path}[{i}]"), item, ck)? {
            out.push(x);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if def.attr_type == AttributeType::Complex {
        let count = out
            .iter()
            .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
            .count();
        if count > 1 {
            return Err(ResourceError::MultiplePrimary {
                attribute: path.to_owned(),
                count,
            });
        }
    }
    Ok(Some(Value::Array(out)))
}

fn check_single(
    def: &AttributeDef,
    path: &str,
    v: &Value,
    ck: &Check<'_>,
) -> Result<Option<Value>, ResourceError> {
    let wrong = || ResourceError::WrongType {
        attribute: path.to_owned(),
        expected: def.attr_type,
        multi_valued: false,
        found: JsonKind::of(v),
    };
    let format = |value: &str, hint: &'static str| ResourceError::InvalidFormat {
        attribute: path.to_owned(),
        expected: def.attr_type,
        value: shorten(value),
        hint,
    };
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(match def.attr_type {
        AttributeType::String => match v {
            Value::String(s) => {
                check_control_characters(path, s, ck.multi_line)?;
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Boolean => match v {
            Value::Bool(_) => v.clone(),
            Value::String(s) if ck.options.boolean_strings && s.eq_ignore_ascii_case("true") => {
                Value::Bool(true)
            }
            Value::String(s) if ck.options.boolean_strings && s.eq_ignore_ascii_case("false") => {
                Value::Bool(false)
            }
            _ => return Err(wrong()),
        },
        AttributeType::Decimal => match v {
            Value::Number(_) => v.clone(),
            _ => return Err(wrong()),
        },
        AttributeType::Integer => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            Value::Number(n) => {
                return Err(format(
                    &n.to_string(),
                    "integers have no fractional part or exponent (RFC 7643 §2.3.4)",
                ))
            }
            _ => return Err(wrong()),
        },
        AttributeType::DateTime => match v {
            Value::String(s) => {
                if DateTime::parse_from_rfc3339(s).is_err() {
                    return Err(format(
                        s,
                        "use an xsd:dateTime with a time zone, e.g. \"2024-05-13T04:42:34Z\" (RFC 7643 §2.3.5)",
                    ));
                }
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Reference => match v {
            Value::String(s) => {
                if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(format(s, "a reference is a URI without spaces (RFC 7643 §2.3.7)"));
                }
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Binary => match v {
            Value::String(s) => {
                if base64::engine::general_purpose::STANDARD.decode(s).is_err() {
                    return Err(format(
                        s,
                        "binary values are base64 with padding and no line breaks (RFC 7643 §2.3.6)",
                    ));
                }
                v.clone()
            }
            _ => return Err(wrong()),
        },
        AttributeType::Complex => match v {
            Value::Object(obj) => match check_complex(def, path, obj, ck)? {
                Some(m) => Value::Object(m),
                None => return Ok(None),
            },
            _ => return Err(wrong()),
        },
    }))
}

fn check_complex(
    def: &AttributeDef,
    path: &str,
    obj: &Map<String, Value>,
    ck: &Check<'_>,
) -> Result<Option<Map<String, Value>>, ResourceError> {
    let mut out = Map::new();
    let mut spelled: Vec<(&str, &str)> = Vec::new();
    for (k, val) in obj {
        let Some(sub) = sub_attribute(def, k) else {
            match ck.options.unknown_attributes {
                UnknownAttributes::Ignore => continue,
                UnknownAttributes::Reject => {
                    return Err(ResourceError::UnknownAttribute {
                        attribute: format!("{}.{k}", strip_index(path)),
                        resource_type: ck.resource_type.to_owned(),
                    })
                }
            }
        };
        if let Some((_, first)) = spelled.iter().find(|(n, _)| *n == sub.name.as_str()) {
            return Err(ResourceError::DuplicateAttribute {
                attribute: format!("{path}.{}", sub.name),
                first: (*first).to_owned(),
                second: k.clone(),
            });
        }
        spelled.push((sub.name.as_str(), k.as_str()));
        if ck.input && sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let sub_ck = Check {
            multi_line: allows_line_breaks(def, sub),
            ..*ck
        };
        if let Some(x) = check_attr(sub, &format!("{path}.{}", sub.name), val, &sub_ck)? {
            out.insert(sub.name.clone(), x);
        }
    }
    for sub in &def.sub_attributes {
        if sub.required
            && !(ck.input && sub.mutability == Mutability::ReadOnly)
            && !has_value(&out, &sub.name)
        {
            return Err(ResourceError::RequiredMissing {
                attribute: format!("{path}.{}", sub.name),
            });
        }
    }
    Ok(if out.is_empty() { None } else { Some(out) })
}

/// Whether a canonical map has a value for `name` that satisfies `required`: assigned and not
/// the empty string (RFC 7643 §4.1.1: "a non-empty userName value").
fn has_value(map: &Map<String, Value>, name: &str) -> bool {
    map.get(name)
        .is_some_and(|v| !is_unassigned(v) && v.as_str() != Some(""))
}

fn strip_index(path: &str) -> &str {
    match path.find('[') {
        Some(i) => path.get(..i).unwrap_or(path),
        None => path,
    }
}

// ---------------------------------------------------------------------------------------------
// Equality.

/// Whether two values of `def` are equal for SCIM: strings case-insensitively unless
/// `caseExact`, dateTimes chronologically, numbers numerically, complex values sub-attribute
/// by sub-attribute (unassigned sub-attributes equal absent ones), multi-valued attributes as
/// multisets (order does not matter).
pub fn values_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    if def.multi_valued {
        let (xs, ys) = (as_slice(a), as_slice(b));
        if xs.len() != ys.len() {
            return false;
        }
        let mut used = vec![false; ys.len()];
        return xs.iter().all(|x| {
            let hit = ys
                .iter()
                .enumerate()
                .find(|(j, y)| !used.get(*j).copied().unwrap_or(true) && single_equal(def, x, y));
            match hit.and_then(|(j, _)| used.get_mut(j)) {
                Some(slot) => {
                    *slot = true;
                    true
                }
                None => false,
            }
        });
    }
    single_equal(def, a, b)
}

fn as_slice(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        Value::Null => &[],
        other => std::slice::from_ref(other),
    }
}

/// Equality of one value (an element of a multi-valued attribute, or a single value).
pub fn element_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    single_equal(def, a, b)
}

fn single_equal(def: &AttributeDef, a: &Value, b: &Value) -> bool {
    match (def.attr_type, a, b) {
        (AttributeType::String | AttributeType::Reference, Value::String(x), Value::String(y)) => {
            if def.case_exact {
                x == y
            } else {
                x == y || x.to_lowercase() == y.to_lowercase()
            }
        }
        (AttributeType::DateTime, Value::String(x), Value::String(y)) => {
            match (DateTime::parse_from_rfc3339(x), DateTime::parse_from_rfc3339(y)) {
                (Ok(p), Ok(q)) => p == q,
                _ => x == y,
            }
        }
        (AttributeType::Decimal | AttributeType::Integer, Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64()) {
                (Some(p), Some(q)) => p == q,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (AttributeType::Complex, Value::Object(x), Value::Object(y)) => {
            let subs_x = x.iter().filter(|(_, v)| !is_unassigned(v));
            let count_y = y.values().filter(|v| !is_unassigned(v)).count();
            let mut count_x = 0;
            for (k, vx) in subs_x {
                count_x += 1;
                let Some(vy) = get_attr(y, k) else { return false };
                let equal = match sub_attribute(def, k) {
                    Some(sd) => values_equal(sd, vx, vy),
                    None => vx == vy,
                };
                if !equal {
                    return false;
                }
            }
            count_x == count_y
        }
        _ => a == b,
    }
}

/// RFC 7643 §2.5: `null`, `[]` and `{}` are unassigned.
fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Resource types.

/// Request-independent facts for `meta`: the time of the operation (the library never reads a
/// clock) and the service's base URL (e.g. `https://app.example/scim/v2`), under which
/// `meta.location` is built as `{base}{endpoint}/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaContext {
    /// The time of the operation.
    pub now: DateTime<Utc>,
    /// The SCIM base URL, without a trailing slash (one is removed if present).
    pub base_url: String,
}

impl MetaContext {
    /// A context for an operation at `now` under `base_url`.
    pub fn new(now: DateTime<Utc>, base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Self { now, base_url }
    }
}

/// One resource type's view of the registry: validation, creation, replacement and `meta`.
#[derive(Debug, Clone)]
pub struct ResourceSchema<'r> {
    resource_type: &'r ResourceType,
    core: &'r Schema,
    common: &'r [AttributeDef],
    extensions: Vec<(&'r Schema, bool)>,
    options: ValidationOptions,
}

enum Slot {
    Core,
    Ext(usize),
}

impl<'r> ResourceSchema<'r> {
    /// The view for `resource_type` (its name or id, case-insensitive, e.g. `User`).
    pub fn new(registry: &'r SchemaRegistry, resource_type: &str) -> Result<Self, ResourceError> {
        let unknown = || ResourceError::UnknownResourceType {
            name: resource_type.to_owned(),
        };
        let rt = registry.resource_type(resource_type).ok_or_else(unknown)?;
        let core = registry.schema(&rt.schema).ok_or_else(unknown)?;
        let extensions = rt
            .schema_extensions
            .iter()
            .filter_map(|e| registry.schema(&e.schema).map(|s| (s, e.required)))
            .collect();
        Ok(Self {
            resource_type: rt,
            core,
            common: registry.common_attributes(),
            extensions,
            options: ValidationOptions::default(),
        })
    }

    /// Uses `options` instead of the defaults.
    #[must_use]
    pub fn with_options(mut self, options: ValidationOptions) -> Self {
        self.options = options;
        self
    }

    /// The options in use.
    pub fn options(&self) -> &ValidationOptions {
        &self.options
    }

    /// The resource type.
    pub fn resource_type(&self) -> &'r ResourceType {
        self.resource_type
    }

    /// The resource type's core schema.
    pub fn core_schema(&self) -> &'r Schema {
        self.core
    }

    /// The registered extension schemas of the resource type, with whether each is required.
    pub fn extension_schemas(&self) -> impl Iterator<Item = (&'r Schema, bool)> + '_ {
        self.extensions.iter().copied()
    }

    /// The common attributes (`schemas`, `id`, `externalId`, `meta`).
    pub fn common_attributes(&self) -> &'r [AttributeDef] {
        self.common
    }

    /// The definition of the top-level member `key` of a canonical resource: a common or core
    /// attribute (`None` for `schemas`, extension URN keys and unknown names).
    pub fn core_attribute(&self, key: &str) -> Option<&'r AttributeDef> {
        self.core_attr(key)
    }

    /// The extension schema whose URN is `key` (case-insensitive).
    pub fn extension_schema(&self, key: &str) -> Option<&'r Schema> {
        self.ext_index(key)
            .and_then(|i| self.extensions.get(i))
            .map(|(s, _)| *s)
    }

    /// The definition of a core or common attribute (case-insensitive).
    fn core_attr(&self, name: &str) -> Option<&'r AttributeDef> {
        if name.eq_ignore_ascii_case("schemas") {
            return None;
        }
        self.common
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
            .or_else(|| self.core.attribute(name))
    }

    fn ext_index(&self, urn: &str) -> Option<usize> {
        self.extensions
            .iter()
            .position(|(s, _)| s.id.eq_ignore_ascii_case(urn))
    }

    fn unknown_attribute(&self, attribute: &str) -> Result<(), ResourceError> {
        match self.options.unknown_attributes {
            UnknownAttributes::Ignore => Ok(()),
            UnknownAttributes::Reject => Err(ResourceError::UnknownAttribute {
                attribute: attribute.to_owned(),
                resource_type: self.resource_type.name.clone(),
            }),
        }
    }

    fn unknown_schema(&self, urn: &str) -> Result<(), ResourceError> {
        match self.options.unknown_attributes {
            UnknownAttributes::Ignore => Ok(()),
            UnknownAttributes::Reject => Err(ResourceError::UnknownSchema {
                urn: urn.to_owned(),
                resource_type: self.resource_type.name.clone(),
            }),
        }
    }

    /// Validates a client's POST or PUT body and returns its canonical form (without `id` and
    /// `meta`, which the client cannot set). See the module documentation.
    pub fn validate_input(&self, input: &Value) -> Result<Map<String, Value>, ResourceError> {
        self.validate(input, true)
    }

    /// Validates a stored resource (e.g. the result of a PATCH): like
    /// [`ResourceSchema::validate_input`] but `readOnly` attributes (`id`, `meta`, `groups`)
    /// are kept and checked, and a missing `schemas` is recomputed rather than refused.
    pub fn validate_stored(&self, resource: &Value) -> Result<Map<String, Value>, ResourceError> {
        self.validate(resource, false)
    }

    fn validate(&self, input: &Value, is_input: bool) -> Result<Map<String, Value>, ResourceError> {
        let obj = input.as_object().ok_or(ResourceError::NotAnObject {
            found: JsonKind::of(input),
        })?;
        let ck = Check {
            options: &self.options,
            input: is_input,
            resource_type: &self.resource_type.name,
            multi_line: false,
        };
        self.check_schemas_member(obj, is_input)?;

        let mut core = Map::new();
        let mut exts: Vec<Map<String, Value>> = vec![Map::new(); self.extensions.len()];
        // (slot, canonical name) -> spelling, for duplicate detection.
        let mut seen: Vec<(Option<usize>, &str, String)> = Vec::new();

        for (key, value) in obj {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(ei) = self.ext_index(key) {
                match value {
                    Value::Null => continue,
                    Value::Object(ext_obj) => {
                        for (k, v) in ext_obj {
                            let Some(def) = self.extensions.get(ei).and_then(|(s, _)| s.attribute(k)) else {
                                self.unknown_attribute(&format!("{key}:{k}"))?;
                                continue;
                            };
                            self.place(
                                Slot::Ext(ei),
                                def,
                                &format!("{key}.{k}"),
                                v,
                                &mut core,
                                &mut exts,
                                &mut seen,
                                &ck,
                            )?;
                        }
                    }
                    other => {
                        return Err(ResourceError::WrongType {
                            attribute: key.clone(),
                            expected: AttributeType::Complex,
                            multi_valued: false,
                            found: JsonKind::of(other),
                        })
                    }
                }
                continue;
            }
            if let Some(def) = self.core_attr(key) {
                self.place(Slot::Core, def, key, value, &mut core, &mut exts, &mut seen, &ck)?;
                continue;
            }
            if key.eq_ignore_ascii_case(&self.core.id) {
                // Core attributes are not nested under the core URN (RFC 7643 §3).
                self.unknown_attribute(key)?;
                continue;
            }
            // URN-qualified attribute: "urn:…:User:userName" or "urn:…:enterprise:2.0:User:employeeNumber".
            if let Some(i) = key.rfind(':') {
                let (urn, name) = (
                    key.get(..i).unwrap_or_default(),
                    key.get(i + 1..).unwrap_or_default(),
                );
                if urn.eq_ignore_ascii_case(&self.core.id) {
                    match self.core_attr(name) {
                        Some(def) => {
                            self.place(Slot::Core, def, key, value, &mut core, &mut exts, &mut seen, &ck)?
                        }
                        None => self.unknown_attribute(key)?,
                    }
                    continue;
                }
                if let Some(ei) = self.ext_index(urn) {
                    match self.extensions.get(ei).and_then(|(s, _)| s.attribute(name)) {
                        Some(def) => self.place(
                            Slot::Ext(ei),
                            def,
                            key,
                            value,
                            &mut core,
                            &mut exts,
                            &mut seen,
                            &ck,
                        )?,
                        None => self.unknown_attribute(key)?,
                    }
                    continue;
                }
                if urn.to_ascii_lowercase().starts_with("urn:") || listed_schema(obj, urn) {
                    // Either an extension object under an unknown URN, or an attribute
                    // qualified by one.
                    let unknown = if value.is_object() { key.as_str() } else { urn };
                    self.unknown_schema(unknown)?;
                    continue;
                }
            }
            if value.is_object() && listed_schema(obj, key) {
                // An extension object under a URN `schemas` lists but this service lacks.
                self.unknown_schema(key)?;
                continue;
            }
            self.unknown_attribute(key)?;
        }

        // Required attributes.
        let required_missing = |defs: &[AttributeDef], map: &Map<String, Value>, prefix: &str| {
            defs.iter()
                .find(|d| {
                    d.required
                        && !(is_input && d.mutability == Mutability::ReadOnly)
                        && !has_value(map, &d.name)
                })
                .map(|d| ResourceError::RequiredMissing {
                    attribute: format!("{prefix}{}", d.name),
                })
        };
        if let Some(e) = required_missing(&self.core.attributes, &core, "") {
            return Err(e);
        }
        for ((schema, required), map) in self.extensions.iter().zip(&exts) {
            if map.is_empty() {
                if *required {
                    return Err(ResourceError::MissingExtension {
                        urn: schema.id.clone(),
                        resource_type: self.resource_type.name.clone(),
                    });
                }
                continue;
            }
            if let Some(e) = required_missing(&schema.attributes, map, &format!("{}:", schema.id)) {
                return Err(e);
            }
        }

        let mut out = core;
        for ((schema, _), map) in self.extensions.iter().zip(exts) {
            if !map.is_empty() {
                out.insert(schema.id.clone(), Value::Object(map));
            }
        }
        self.set_schemas(&mut out);
        Ok(out)
    }

    fn check_schemas_member(&self, obj: &Map<String, Value>, is_input: bool) -> Result<(), ResourceError> {
        let Some(schemas) = get_attr(obj, "schemas") else {
            if is_input {
                return Err(ResourceError::MissingSchemas {
                    expected: self.core.id.clone(),
                });
            }
            return Ok(());
        };
        let Value::Array(items) = schemas else {
            return Err(ResourceError::WrongType {
                attribute: "schemas".into(),
                expected: AttributeType::Reference,
                multi_valued: true,
                found: JsonKind::of(schemas),
            });
        };
        let mut urns = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => urns.push(s.as_str()),
                other => {
                    return Err(ResourceError::WrongType {
                        attribute: format!("schemas[{i}]"),
                        expected: AttributeType::Reference,
                        multi_valued: false,
                        found: JsonKind::of(other),
                    })
                }
            }
        }
        if !urns.iter().any(|u| u.eq_ignore_ascii_case(&self.core.id)) {
            return Err(ResourceError::MissingCoreSchema {
                expected: self.core.id.clone(),
                found: urns.iter().map(|u| (*u).to_owned()).collect(),
            });
        }
        for urn in urns {
            if !urn.eq_ignore_ascii_case(&self.core.id) && self.ext_index(urn).is_none() {
                let ignorable = self.options.undefined_schemas == UndefinedSchemas::IgnoreUnused
                    && !uses_schema(obj, urn);
                if !ignorable {
                    self.unknown_schema(urn)?;
                }
            }
        }
        Ok(())
    }

    /// The entries of the body's `schemas` that validation ignores under
    /// [`UndefinedSchemas::IgnoreUnused`]: URNs this service does not define for the resource
    /// type and that no attribute of the body uses. A service reports them (e.g. as an
    /// event or a log line) so an administrator sees what the identity provider sent. Empty
    /// under [`UndefinedSchemas::Reject`] (such a body is refused) and for a body without a
    /// `schemas` array.
    ///
    /// ```
    /// use fedkit_scim::resource::ResourceSchema;
    /// use fedkit_scim::schema::SchemaRegistry;
    /// use serde_json::json;
    ///
    /// let registry = SchemaRegistry::core();
    /// let groups = ResourceSchema::new(&registry, "Group").unwrap();
    /// // Microsoft Entra ID's Create Group body.
    /// let body = json!({
    ///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
    ///                 "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    ///     "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    ///     "displayName": "Group1"
    /// });
    /// assert!(groups.validate_input(&body).is_ok());
    /// assert_eq!(groups.ignored_schemas(&body),
    ///     ["http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"]);
    /// ```
    pub fn ignored_schemas(&self, input: &Value) -> Vec<String> {
        if self.options.undefined_schemas != UndefinedSchemas::IgnoreUnused {
            return Vec::new();
        }
        let Some(obj) = input.as_object() else {
            return Vec::new();
        };
        let Some(Value::Array(items)) = get_attr(obj, "schemas") else {
            return Vec::new();
        };
        items
            .iter()
            .filter_map(Value::as_str)
            .filter(|urn| {
                !urn.eq_ignore_ascii_case(&self.core.id)
                    && self.ext_index(urn).is_none()
                    && !uses_schema(obj, urn)
            })
            .map(str::to_owned)
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn place<'a>(
        &self,
        slot: Slot,
        def: &'a AttributeDef,
        spelling: &str,
        value: &Value,
        core: &mut Map<String, Value>,
        exts: &mut [Map<String, Value>],
        seen: &mut Vec<(Option<usize>, &'a str, String)>,
        ck: &Check<'_>,
    ) -> Result<(), ResourceError> {
        let slot_id = match slot {
            Slot::Core => None,
            Slot::Ext(i) => Some(i),
        };
        let canonical = match slot_id.and_then(|i| self.extensions.get(i)) {
            Some((s, _)) => format!("{}:{}", s.id, def.name),
            None => def.name.clone(),
        };
        if let Some((_, _, first)) = seen
            .iter()
            .find(|(s, n, _)| *s == slot_id && *n == def.name.as_str())
        {
            return Err(ResourceError::DuplicateAttribute {
                attribute: canonical,
                first: first.clone(),
                second: spelling.to_owned(),
            });
        }
        seen.push((slot_id, def.name.as_str(), spelling.to_owned()));
        if ck.input && def.mutability == Mutability::ReadOnly {
            return Ok(());
        }
        let Some(v) = check_attr(def, &canonical, value, ck)? else {
            return Ok(());
        };
        let target = match slot_id {
            None => core,
            Some(i) => match exts.get_mut(i) {
                Some(m) => m,
                None => return Ok(()),
            },
        };
        target.insert(def.name.clone(), v);
        Ok(())
    }

    /// Sets `schemas` to the core schema followed by the extensions that have attributes.
    fn set_schemas(&self, out: &mut Map<String, Value>) {
        let mut schemas = vec![Value::String(self.core.id.clone())];
        for (s, _) in &self.extensions {
            if out.get(&s.id).is_some_and(|v| !is_unassigned(v)) {
                schemas.push(Value::String(s.id.clone()));
            }
        }
        out.insert("schemas".into(), Value::Array(schemas));
    }

    /// Validates a POST body and returns the new resource with `id` (chosen by the host) and
    /// `meta` (`resourceType`, `created` = `lastModified` = `ctx.now`, `location`, `version`).
    pub fn create(&self, input: &Value, id: &str, ctx: &MetaContext) -> Result<Value, ResourceError> {
        check_id(id)?;
        let mut content = self.validate_input(input)?;
        content.insert("id".into(), Value::String(id.to_owned()));
        Ok(Value::Object(self.with_meta(content, None, ctx)))
    }

    /// Applies a PUT (RFC 7644 §3.5.1) of `input` to the stored resource `existing`:
    ///
    /// * `readOnly` attributes (`id`, `groups`, `meta`, `manager.displayName`) keep their
    ///   stored values whatever the body says;
    /// * an `immutable` attribute that has a stored value must be sent unchanged or left out
    ///   (it is kept); a different value is a [`ResourceError::Immutable`] (`mutability`);
    /// * a `writeOnly` attribute (`password`) left out keeps its stored value;
    /// * `readWrite` attributes left out are cleared;
    /// * required attributes are checked on the body.
    ///
    /// `meta.created` is kept, `meta.version` recomputed, and `meta.lastModified` set to
    /// `ctx.now` only when the content changed.
    pub fn replace(
        &self,
        existing: &Value,
        input: &Value,
        ctx: &MetaContext,
    ) -> Result<Value, ResourceError> {
        let stored = existing.as_object().ok_or(ResourceError::NotAnObject {
            found: JsonKind::of(existing),
        })?;
        let new = self.validate_input(input)?;
        let mut out = Map::new();
        merge_attrs(
            self.common.iter().chain(&self.core.attributes),
            Some(stored),
            Some(&new),
            &mut out,
            "",
        )?;
        for (schema, _) in &self.extensions {
            let old_ext = get_attr(stored, &schema.id).and_then(Value::as_object);
            let new_ext = new.get(&schema.id).and_then(Value::as_object);
            let mut ext = Map::new();
            merge_attrs(
                schema.attributes.iter(),
                old_ext,
                new_ext,
                &mut ext,
                &format!("{}:", schema.id),
            )?;
            if !ext.is_empty() {
                out.insert(schema.id.clone(), Value::Object(ext));
            }
        }
        out.remove("meta");
        self.set_schemas(&mut out);
        Ok(Value::Object(self.with_meta(out, Some(stored), ctx)))
    }

    /// Recomputes `schemas` and `meta` of `updated`, the new content of the stored resource
    /// `previous` after a change made outside [`ResourceSchema::replace`] (e.g. a PATCH):
    /// `id` and `meta.created` come from `previous`, `meta.version` is recomputed and
    /// `meta.lastModified` set to `ctx.now` when the content changed.
    pub fn finish_update(&self, previous: &Value, updated: Value, ctx: &MetaContext) -> Value {
        let Value::Object(mut out) = updated else {
            return updated;
        };
        let prev = previous.as_object();
        if let Some(id) = prev.and_then(|p| get_attr(p, "id")) {
            out.insert("id".into(), id.clone());
        }
        if let Some(k) = find_key(&out, "meta").map(str::to_owned) {
            out.remove(&k);
        }
        if let Some(k) = find_key(&out, "schemas").map(str::to_owned) {
            out.remove(&k);
        }
        self.set_schemas(&mut out);
        Value::Object(self.with_meta(out, prev, ctx))
    }

    /// The `meta.location` of the resource with this id: `{base}{endpoint}/{id}`, the id
    /// percent-encoded.
    pub fn location(&self, id: &str, base_url: &str) -> String {
        let base = base_url.trim_end_matches('/');
        let endpoint = self.resource_type.endpoint.trim_end_matches('/');
        let sep = if endpoint.starts_with('/') { "" } else { "/" };
        format!("{base}{sep}{endpoint}/{}", percent_encode(id))
    }

    fn with_meta(
        &self,
        mut content: Map<String, Value>,
        previous: Option<&Map<String, Value>>,
        ctx: &MetaContext,
    ) -> Map<String, Value> {
        content.remove("meta");
        let version = version_of(&content);
        let now = ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        let prev_meta = previous
            .and_then(|p| get_attr(p, "meta"))
            .and_then(Value::as_object);
        let prev_str = |k: &str| {
            prev_meta
                .and_then(|m| get_attr(m, k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let created = prev_str("created").unwrap_or_else(|| now.clone());
        let last_modified = match (prev_str("version"), prev_str("lastModified")) {
            (Some(v), Some(lm)) if v == version => lm,
            _ => now,
        };
        let mut meta = Map::new();
        meta.insert(
            "resourceType".into(),
            Value::String(self.resource_type.name.clone()),
        );
        meta.insert("created".into(), Value::String(created));
        meta.insert("lastModified".into(), Value::String(last_modified));
        if let Some(id) = content.get("id").and_then(Value::as_str) {
            meta.insert("location".into(), Value::String(self.location(id, &ctx.base_url)));
        }
        meta.insert("version".into(), Value::String(version));
        content.insert("meta".into(), Value::Object(meta));
        content
    }
}

fn merge_attrs<'a>(
    defs: impl Iterator<Item = &'a AttributeDef>,
    old: Option<&Map<String, Value>>,
    new: Option<&Map<String, Value>>,
    out: &mut Map<String, Value>,
    prefix: &str,
) -> Result<(), ResourceError> {
    for def in defs {
        if def.name == "schemas" || def.name == "meta" {
            continue;
        }
        let o = old
            .and_then(|m| get_attr(m, &def.name))
            .filter(|v| !is_unassigned(v));
        let n = new.and_then(|m| m.get(&def.name));
        let path = format!("{prefix}{}", def.name);
        let merged = match def.mutability {
            Mutability::ReadOnly => o.cloned(),
            Mutability::Immutable => match (o, n) {
                (Some(o), Some(n)) if !values_equal(def, o, n) => {
                    return Err(ResourceError::Immutable { attribute: path })
                }
                (Some(o), _) => Some(o.clone()),
                (None, n) => n.cloned(),
            },
            Mutability::WriteOnly => n.or(o).cloned(),
            Mutability::ReadWrite => {
                if def.attr_type == AttributeType::Complex && !def.multi_valued {
                    merge_complex(def, o, n, &path)?
                } else {
                    n.cloned()
                }
            }
        };
        if let Some(v) = merged {
            out.insert(def.name.clone(), v);
        }
    }
    Ok(())
}

/// A single-valued complex attribute under PUT: its readOnly/immutable/writeOnly
/// sub-attributes follow the same rules as top-level attributes.
fn merge_complex(
    def: &AttributeDef,
    old: Option<&Value>,
    new: Option<&Value>,
    path: &str,
) -> Result<Option<Value>, ResourceError> {
    let special = def
        .sub_attributes
        .iter()
        .any(|s| s.mutability != Mutability::ReadWrite);
    if !special {
        return Ok(new.cloned());
    }
    let mut out = Map::new();
    merge_attrs(
        def.sub_attributes.iter(),
        old.and_then(Value::as_object),
        new.and_then(Value::as_object),
        &mut out,
        &format!("{path}."),
    )?;
    Ok(if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    })
}

/// Whether the `schemas` member of `obj` lists `urn` (case-insensitively).
fn listed_schema(obj: &Map<String, Value>, urn: &str) -> bool {
    matches!(get_attr(obj, "schemas"), Some(Value::Array(items))
        if items.iter().any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn))))
}

/// Whether a member of `obj` other than `schemas` is the extension object `urn` or an
/// attribute qualified by it (`urn:name`), case-insensitively.
fn uses_schema(obj: &Map<String, Value>, urn: &str) -> bool {
    obj.keys().any(|k| {
        !k.eq_ignore_ascii_case("schemas")
            && k.get(..urn.len()).is_some_and(|p| p.eq_ignore_ascii_case(urn))
            && matches!(k.as_bytes().get(urn.len()), None | Some(b':'))
    })
}

fn check_id(id: &str) -> Result<(), ResourceError> {
    let bad = |reason| {
        Err(ResourceError::InvalidId {
            id: shorten(id),
            reason,
        })
    };
    if id.is_empty() {
        return bad("it is empty");
    }
    if id == "bulkId" {
        return bad("\"bulkId\" is reserved (RFC 7643 §3.1)");
    }
    if id.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    Ok(())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The weak ETag (`W/"…"`) of a resource's content: a SHA-256 over its canonical JSON
/// (object keys sorted, `meta` excluded), so equal content gives equal versions whatever the
/// key order or serializer.
pub fn version_of(resource: &Map<String, Value>) -> String {
    let mut h = Sha256::new();
    h.update(b"{");
    let mut keys: Vec<&String> = resource.keys().filter(|k| k.as_str() != "meta").collect();
    keys.sort();
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            h.update(b",");
        }
        hash_string(&mut h, k);
        h.update(b":");
        if let Some(v) = resource.get(k.as_str()) {
            hash_value(&mut h, v);
        }
    }
    h.update(b"}");
    let digest = h.finalize();
    let mut hex = String::with_capacity(34);
    for b in digest.iter().take(16) {
        hex.push_str(&format!("{b:02x}"));
    }
    format!("W/\"{hex}\"")
}

fn hash_string(h: &mut Sha256, s: &str) {
    h.update(Value::String(s.to_owned()).to_string().as_bytes());
}

fn hash_value(h: &mut Sha256, v: &Value) {
    match v {
        Value::Object(m) => {
            h.update(b"{");
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                hash_string(h, k);
                h.update(b":");
                if let Some(x) = m.get(k.as_str()) {
                    hash_value(h, x);
                }
            }
            h.update(b"}");
        }
        Value::Array(items) => {
            h.update(b"[");
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                hash_value(h, x);
            }
            h.update(b"]");
        }
        other => h.update(other.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percent_encoding_of_ids() {
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(percent_encode("2819c223-7f76"), "2819c223-7f76");
    }

    #[test]
    fn version_ignores_key_order_and_meta() {
        let a = json!({"a": 1, "b": {"x": [1, 2], "y": "z"}, "meta": {"created": "x"}});
        let b = json!({"b": {"y": "z", "x": [1, 2]}, "a": 1});
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            unreachable!()
        };
        assert_eq!(version_of(&a), version_of(&b));
        let c = json!({"b": {"y": "z", "x": [2, 1]}, "a": 1});
        let Value::Object(c) = c else { unreachable!() };
        assert_ne!(version_of(&a), version_of(&c));
    }
}
