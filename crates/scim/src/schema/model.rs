//! The schema model (RFC 7643 §2, §6, §7): attribute characteristics, attribute definitions,
//! schemas and resource types, with the rules a definition must follow.

use std::fmt;

use super::error::SchemaError;

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// A sequence of Unicode characters.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number with at least one digit to the left and right of the period.
    Decimal,
    /// A whole number.
    Integer,
    /// An `xsd:dateTime` such as `2008-01-23T04:56:22Z`.
    DateTime,
    /// A URI for a resource.
    Reference,
    /// Base64-encoded bytes.
    Binary,
    /// A composition of sub-attributes.
    Complex,
}

impl AttributeType {
    /// The name used in schema documents (`"dateTime"`, `"complex"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Binary => "binary",
            Self::Complex => "complex",
        }
    }

    /// Parses a schema-document name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::String,
            Self::Boolean,
            Self::Decimal,
            Self::Integer,
            Self::DateTime,
            Self::Reference,
            Self::Binary,
            Self::Complex,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When an attribute may be written (RFC 7643 §7, "mutability").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Never modified by clients.
    ReadOnly,
    /// Updated and read at any time (the default).
    ReadWrite,
    /// Set on creation or when absent, never changed afterwards.
    Immutable,
    /// Written but never returned.
    WriteOnly,
}

impl Mutability {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }

    /// Parses a schema-document name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::ReadOnly, Self::ReadWrite, Self::Immutable, Self::WriteOnly]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }
}

/// When an attribute is returned in a response (RFC 7643 §7, "returned").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    /// Always returned, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded (the default).
    Default,
    /// Returned only when named in `attributes`.
    Request,
}

impl Returned {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }

    /// Parses a schema-document name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Always, Self::Never, Self::Default, Self::Request]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }
}

/// How unique a value must be (RFC 7643 §7, "uniqueness").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    /// No uniqueness (the default).
    None,
    /// Unique within this service provider (tenant).
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The name used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }

    /// Parses a schema-document name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::None, Self::Server, Self::Global]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(name))
    }
}

/// One attribute definition with every characteristic of RFC 7643 §7. Defaults follow RFC 7643
/// §2.2 (`required` false, `caseExact` false, `mutability` readWrite, `returned` default,
/// `uniqueness` none, no canonical values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDef {
    /// The attribute's name, in its canonical case.
    pub name: String,
    /// The data type.
    pub attr_type: AttributeType,
    /// Whether values are arrays.
    pub multi_valued: bool,
    /// Human-readable description.
    pub description: String,
    /// Whether the attribute is required.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// When the attribute may be written.
    pub mutability: Mutability,
    /// When the attribute is returned.
    pub returned: Returned,
    /// How unique values must be.
    pub uniqueness: Uniqueness,
    /// Suggested values (e.g. `work`, `home`), not enforced.
    pub canonical_values: Vec<String>,
    /// For `reference` attributes: the resource types or `external`/`uri` that may be referenced.
    pub reference_types: Vec<String>,
    /// For `complex` attributes: the sub-attributes.
    pub sub_attributes: Vec<AttributeDef>,
}

impl AttributeDef {
    /// A single-valued attribute with the RFC 7643 §2.2 defaults.
    pub fn new(name: impl Into<String>, attr_type: AttributeType) -> Self {
        Self {
            name: name.into(),
            attr_type,
            multi_valued: false,
            description: String::new(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn describe(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Makes the attribute multi-valued.
    #[must_use]
    pub fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Makes the attribute required.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Makes string comparisons case-sensitive.
    #[must_use]
    pub fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets the mutability.
    #[must_use]
    pub fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// Sets when the attribute is returned.
    #[must_use]
    pub fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    /// Sets the uniqueness.
    #[must_use]
    pub fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// Sets the canonical values.
    #[must_use]
    pub fn canonical_values(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// Sets the reference types.
    #[must_use]
    pub fn reference_types(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// Sets the sub-attributes (for `complex` attributes).
    #[must_use]
    pub fn sub_attributes(mut self, subs: Vec<AttributeDef>) -> Self {
        self.sub_attributes = subs;
        self
    }

    /// The sub-attribute called `name`, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The sub-attribute called `name` (case-insensitive), including, on multi-valued complex
    /// attributes, the sub-attributes RFC 7643 §2.4 defines for every multi-valued attribute
    /// (`type`, `primary`, `display`, `value`, `$ref`) when the schema does not list them:
    /// Okta and Entra ID send `members[].display`, RFC 7643 §8.2 sends `addresses[].primary`.
    ///
    /// `$ref` is not a default where the attribute's own `value` is a reference (User
    /// `photos`, RFC 7643 §4.1.2): §2.4 gives `$ref` to attributes that point at a resource
    /// through it, and there the value already is the URI.
    pub fn find_sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attribute(name).or_else(|| {
            if self.is_multi_valued_complex() {
                default_sub_attributes_for(&self.sub_attributes).find(|s| s.name.eq_ignore_ascii_case(name))
            } else {
                None
            }
        })
    }

    /// Whether this is a multi-valued complex attribute (`emails`, `members`, ...).
    pub fn is_multi_valued_complex(&self) -> bool {
        self.multi_valued && self.attr_type == AttributeType::Complex
    }
}

/// The default sub-attributes of multi-valued attributes (RFC 7643 §2.4).
fn default_sub_attributes() -> &'static [AttributeDef] {
    static DEFAULTS: std::sync::OnceLock<Vec<AttributeDef>> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(|| {
        vec![
            AttributeDef::new("type", AttributeType::String)
                .describe("A label indicating the attribute's function, e.g., \"work\" or \"home\"."),
            AttributeDef::new("primary", AttributeType::Boolean).describe(
                "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.  The primary attribute value 'true' MUST appear no more than once.",
            ),
            AttributeDef::new("display", AttributeType::String)
                .describe("A human-readable name, primarily used for display purposes."),
            AttributeDef::new("value", AttributeType::String)
                .describe("The attribute's significant value, e.g., email address, phone number."),
            AttributeDef::new("$ref", AttributeType::Reference)
                .describe("The reference URI of a target resource, if the attribute is a reference.")
                .reference_types(&["uri"]),
        ]
    })
}

/// The RFC 7643 §2.4 defaults that apply beside `subs`: all of them, except `$ref` when the
/// `value` sub-attribute is itself a reference.
pub(super) fn default_sub_attributes_for(
    subs: &[AttributeDef],
) -> impl Iterator<Item = &'static AttributeDef> + '_ {
    let value_is_reference = subs
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case("value") && s.attr_type == AttributeType::Reference);
    default_sub_attributes()
        .iter()
        .filter(move |d| !(value_is_reference && d.name == "$ref"))
}

/// A schema: an id (URN), a name, a description and attribute definitions (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: String,
    /// Human-readable name, e.g. `User`.
    pub name: String,
    /// Human-readable description.
    pub description: String,
    /// Top-level attributes.
    pub attributes: Vec<AttributeDef>,
}

impl Schema {
    /// An empty schema.
    pub fn new(id: impl Into<String>, name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            description: description.into(),
            attributes: Vec::new(),
        }
    }

    /// Adds an attribute.
    #[must_use]
    pub fn with_attribute(mut self, attribute: AttributeDef) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// The attribute called `name`, compared case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub(super) fn check(&self) -> Result<(), SchemaError> {
        if !self.id.contains(':') {
            return Err(SchemaError::Invalid {
                attribute: String::new(),
                reason: format!(
                    "schema id {:?} is not a URN such as urn:example:schemas:Acme",
                    self.id
                ),
            });
        }
        for (i, a) in self.attributes.iter().enumerate() {
            check_name(&a.name)?;
            if let Some(b) = self
                .attributes
                .iter()
                .skip(i + 1)
                .find(|b| b.name.eq_ignore_ascii_case(&a.name))
            {
                return Err(SchemaError::DuplicateAttribute { name: b.name.clone() });
            }
            for (j, s) in a.sub_attributes.iter().enumerate() {
                check_name(&s.name)?;
                if let Some(b) = a
                    .sub_attributes
                    .iter()
                    .skip(j + 1)
                    .find(|b| b.name.eq_ignore_ascii_case(&s.name))
                {
                    return Err(SchemaError::DuplicateAttribute {
                        name: format!("{}.{}", a.name, b.name),
                    });
                }
            }
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), SchemaError> {
    // ATTRNAME = ALPHA *(nameChar), plus the "$ref" sub-attribute of RFC 7643.
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(SchemaError::Invalid {
            attribute: name.to_owned(),
            reason: "attribute names start with a letter and contain only letters, digits, '-' and '_' (RFC 7643 §2.1)"
                .into(),
        })
    }
}

/// A schema extension of a resource type (RFC 7643 §6, `schemaExtensions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema URN.
    pub schema: String,
    /// Whether resources must carry the extension.
    pub required: bool,
}

/// A resource type (RFC 7643 §6): e.g. `User` at `/Users` with schema
/// `urn:ietf:params:scim:schemas:core:2.0:User` and the Enterprise extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// The resource type's id, e.g. `User`.
    pub id: String,
    /// The name, e.g. `User`; used in `meta.resourceType`.
    pub name: String,
    /// The endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: String,
    /// Human-readable description.
    pub description: String,
    /// The core schema URN.
    pub schema: String,
    /// Extensions.
    pub schema_extensions: Vec<SchemaExtension>,
}
