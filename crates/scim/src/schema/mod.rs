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

use std::fmt;

use serde_json::{json, Map, Value};

use crate::filter::AttrPath;

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

    /// The attribute as it appears in a `/Schemas` document (RFC 7643 §7). `caseExact` is
    /// emitted for every non-complex attribute, `canonicalValues` when there are some,
    /// `referenceTypes` for references and `subAttributes` for complex attributes.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(self.name.clone()));
        m.insert("type".into(), Value::String(self.attr_type.as_str().into()));
        m.insert("multiValued".into(), Value::Bool(self.multi_valued));
        m.insert("description".into(), Value::String(self.description.clone()));
        m.insert("required".into(), Value::Bool(self.required));
        if self.attr_type != AttributeType::Complex {
            m.insert("caseExact".into(), Value::Bool(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.attr_type == AttributeType::Reference {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if self.attr_type == AttributeType::Complex {
            m.insert(
                "subAttributes".into(),
                Value::Array(self.sub_attributes.iter().map(AttributeDef::to_json).collect()),
            );
        }
        m.insert(
            "mutability".into(),
            Value::String(self.mutability.as_str().into()),
        );
        m.insert("returned".into(), Value::String(self.returned.as_str().into()));
        m.insert(
            "uniqueness".into(),
            Value::String(self.uniqueness.as_str().into()),
        );
        Value::Object(m)
    }

    /// Reads an attribute definition from its schema-document form. Absent characteristics
    /// take the RFC 7643 §2.2 defaults; names are matched case-insensitively.
    pub fn from_json(value: &Value) -> Result<Self, SchemaError> {
        from_json_attr(value, 0)
    }
}

const MAX_SCHEMA_DEPTH: usize = 4;

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
fn default_sub_attributes_for(subs: &[AttributeDef]) -> impl Iterator<Item = &'static AttributeDef> + '_ {
    let value_is_reference = subs
        .iter()
        .any(|s| s.name.eq_ignore_ascii_case("value") && s.attr_type == AttributeType::Reference);
    default_sub_attributes()
        .iter()
        .filter(move |d| !(value_is_reference && d.name == "$ref"))
}

fn get_ci<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn from_json_attr(value: &Value, depth: usize) -> Result<AttributeDef, SchemaError> {
    let obj = value.as_object().ok_or(SchemaError::Invalid {
        attribute: String::new(),
        reason: "an attribute definition must be a JSON object".into(),
    })?;
    let name = get_ci(obj, "name")
        .and_then(Value::as_str)
        .ok_or(SchemaError::Invalid {
            attribute: String::new(),
            reason: "an attribute definition needs a \"name\" string".into(),
        })?;
    let bad = |reason: String| SchemaError::Invalid {
        attribute: name.to_owned(),
        reason,
    };
    let text = |key: &str| get_ci(obj, key).and_then(Value::as_str);
    let flag = |key: &str| -> Result<bool, SchemaError> {
        match get_ci(obj, key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("\"{key}\" must be true or false"))),
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, SchemaError> {
        match get_ci(obj, key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| bad(format!("\"{key}\" must list strings")))
                })
                .collect(),
            Some(_) => Err(bad(format!("\"{key}\" must be an array of strings"))),
        }
    };
    let attr_type = match text("type") {
        None => AttributeType::String,
        Some(t) => AttributeType::from_name(t).ok_or_else(|| {
            bad(format!(
                "type {t:?} is not one of string, boolean, decimal, integer, dateTime, reference, binary, complex"
            ))
        })?,
    };
    let mut def = AttributeDef::new(name, attr_type);
    def.description = text("description").unwrap_or_default().to_owned();
    def.multi_valued = flag("multiValued")?;
    def.required = flag("required")?;
    def.case_exact = flag("caseExact")?;
    if let Some(m) = text("mutability") {
        def.mutability = Mutability::from_name(m).ok_or_else(|| {
            bad(format!(
                "mutability {m:?} is not one of readOnly, readWrite, immutable, writeOnly"
            ))
        })?;
    }
    if let Some(r) = text("returned") {
        def.returned = Returned::from_name(r).ok_or_else(|| {
            bad(format!(
                "returned {r:?} is not one of always, never, default, request"
            ))
        })?;
    }
    if let Some(u) = text("uniqueness") {
        def.uniqueness = Uniqueness::from_name(u)
            .ok_or_else(|| bad(format!("uniqueness {u:?} is not one of none, server, global")))?;
    }
    def.canonical_values = strings("canonicalValues")?;
    def.reference_types = strings("referenceTypes")?;
    match get_ci(obj, "subAttributes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if depth >= MAX_SCHEMA_DEPTH {
                return Err(bad("sub-attributes are nested too deeply".into()));
            }
            def.sub_attributes = items
                .iter()
                .map(|v| from_json_attr(v, depth + 1))
                .collect::<Result<_, _>>()?;
        }
        Some(_) => return Err(bad("\"subAttributes\" must be an array".into())),
    }
    if attr_type == AttributeType::Complex && depth > 0 {
        return Err(bad(
            "a sub-attribute cannot itself be complex (RFC 7643 §2.3.8)".into()
        ));
    }
    Ok(def)
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

    /// Reads a schema from its `/Schemas` document form (`id`, `name`, `description`,
    /// `attributes`). This is how a host registers a custom schema described in JSON.
    pub fn from_json(value: &Value) -> Result<Self, SchemaError> {
        let obj = value.as_object().ok_or(SchemaError::Invalid {
            attribute: String::new(),
            reason: "a schema must be a JSON object".into(),
        })?;
        let id = get_ci(obj, "id")
            .and_then(Value::as_str)
            .ok_or(SchemaError::Invalid {
                attribute: String::new(),
                reason: "a schema needs an \"id\" string (its URN)".into(),
            })?;
        let name = get_ci(obj, "name").and_then(Value::as_str).unwrap_or_default();
        let description = get_ci(obj, "description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut schema = Schema::new(id, name, description);
        match get_ci(obj, "attributes") {
            Some(Value::Array(items)) => {
                for item in items {
                    schema.attributes.push(AttributeDef::from_json(item)?);
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(SchemaError::Invalid {
                    attribute: String::new(),
                    reason: "\"attributes\" must be an array".into(),
                })
            }
        }
        schema.check()?;
        Ok(schema)
    }

    fn check(&self) -> Result<(), SchemaError> {
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

    /// The schema's `/Schemas/{id}` document (RFC 7643 §7), `meta.location` under `base_url`
    /// when given.
    pub fn to_json(&self, base_url: Option<&str>) -> Value {
        let mut doc = json!({
            "schemas": [SCHEMA_SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(AttributeDef::to_json).collect::<Vec<_>>(),
        });
        let mut meta = json!({ "resourceType": "Schema" });
        if let (Some(base), Some(m)) = (base_url, meta.as_object_mut()) {
            m.insert(
                "location".into(),
                Value::String(format!("{}/Schemas/{}", base.trim_end_matches('/'), self.id)),
            );
        }
        if let Some(d) = doc.as_object_mut() {
            d.insert("meta".into(), meta);
        }
        doc
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

impl ResourceType {
    /// The `/ResourceTypes/{id}` document, `meta.location` under `base_url` when given.
    pub fn to_json(&self, base_url: Option<&str>) -> Value {
        let mut doc = json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.schema,
        });
        if let Some(d) = doc.as_object_mut() {
            if !self.schema_extensions.is_empty() {
                d.insert(
                    "schemaExtensions".into(),
                    Value::Array(
                        self.schema_extensions
                            .iter()
                            .map(|e| json!({ "schema": e.schema, "required": e.required }))
                            .collect(),
                    ),
                );
            }
            let mut meta = Map::new();
            meta.insert("resourceType".into(), Value::String("ResourceType".into()));
            if let Some(base) = base_url {
                meta.insert(
                    "location".into(),
                    Value::String(format!(
                        "{}/ResourceTypes/{}",
                        base.trim_end_matches('/'),
                        self.id
                    )),
                );
            }
            d.insert("meta".into(), Value::Object(meta));
        }
        doc
    }
}

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

/// The result of [`SchemaRegistry::resolve`]: where an attribute path points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttribute<'a> {
    /// The URN of the schema defining the attribute.
    pub schema: &'a str,
    /// Whether that schema is an extension of the resource type (values live under the
    /// extension URN key of the resource) rather than its core schema or a common attribute.
    pub extension: bool,
    /// The top-level attribute.
    pub attribute: &'a AttributeDef,
    /// The sub-attribute, when the path names one.
    pub sub_attribute: Option<&'a AttributeDef>,
}

/// Registered schemas and resource types. [`SchemaRegistry::core`] holds User (with the
/// Enterprise extension) and Group; hosts add their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRegistry {
    schemas: Vec<Schema>,
    resource_types: Vec<ResourceType>,
    common: Vec<AttributeDef>,
}

impl Default for SchemaRegistry {
    fn default() -> Self {
        Self::core()
    }
}

impl SchemaRegistry {
    /// A registry without schemas or resource types (the common attributes `schemas`, `id`,
    /// `externalId` and `meta` of RFC 7643 §3 are always known).
    pub fn empty() -> Self {
        Self {
            schemas: Vec::new(),
            resource_types: Vec::new(),
            common: common_attributes(),
        }
    }

    /// User (schema `urn:ietf:params:scim:schemas:core:2.0:User`, endpoint `/Users`, the
    /// Enterprise User extension, not required) and Group (`/Groups`), with the RFC 7643
    /// §8.7.1 schemas.
    pub fn core() -> Self {
        Self {
            schemas: vec![user_schema(), enterprise_user_schema(), group_schema()],
            resource_types: vec![
                ResourceType {
                    id: "User".into(),
                    name: "User".into(),
                    endpoint: "/Users".into(),
                    description: "User Account".into(),
                    schema: USER_SCHEMA.into(),
                    schema_extensions: vec![SchemaExtension {
                        schema: ENTERPRISE_USER_SCHEMA.into(),
                        required: false,
                    }],
                },
                ResourceType {
                    id: "Group".into(),
                    name: "Group".into(),
                    endpoint: "/Groups".into(),
                    description: "Group".into(),
                    schema: GROUP_SCHEMA.into(),
                    schema_extensions: Vec::new(),
                },
            ],
            common: common_attributes(),
        }
    }

    /// Registers a schema (core schema of a new resource type, or an extension).
    pub fn register_schema(&mut self, schema: Schema) -> Result<(), SchemaError> {
        schema.check()?;
        if self.schema(&schema.id).is_some() {
            return Err(SchemaError::DuplicateSchema { id: schema.id });
        }
        self.schemas.push(schema);
        Ok(())
    }

    /// Registers a resource type; its schema and extensions must be registered already.
    pub fn register_resource_type(&mut self, resource_type: ResourceType) -> Result<(), SchemaError> {
        if self.resource_type(&resource_type.name).is_some()
            || self.resource_type(&resource_type.id).is_some()
        {
            return Err(SchemaError::DuplicateResourceType {
                name: resource_type.name,
            });
        }
        for urn in std::iter::once(&resource_type.schema)
            .chain(resource_type.schema_extensions.iter().map(|e| &e.schema))
        {
            if self.schema(urn).is_none() {
                return Err(SchemaError::UnknownSchema { id: urn.clone() });
            }
        }
        self.resource_types.push(resource_type);
        Ok(())
    }

    /// Adds a registered extension schema to a registered resource type (e.g. a custom User
    /// extension).
    pub fn add_extension(
        &mut self,
        resource_type: &str,
        schema: &str,
        required: bool,
    ) -> Result<(), SchemaError> {
        if self.schema(schema).is_none() {
            return Err(SchemaError::UnknownSchema {
                id: schema.to_owned(),
            });
        }
        let rt = self
            .resource_types
            .iter_mut()
            .find(|r| r.name.eq_ignore_ascii_case(resource_type) || r.id.eq_ignore_ascii_case(resource_type))
            .ok_or_else(|| SchemaError::UnknownResourceType {
                name: resource_type.to_owned(),
            })?;
        if rt
            .schema_extensions
            .iter()
            .any(|e| e.schema.eq_ignore_ascii_case(schema))
            || rt.schema.eq_ignore_ascii_case(schema)
        {
            return Err(SchemaError::DuplicateSchema {
                id: schema.to_owned(),
            });
        }
        rt.schema_extensions.push(SchemaExtension {
            schema: schema.to_owned(),
            required,
        });
        Ok(())
    }

    /// The schema with this URN (case-insensitive).
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// All schemas, in registration order.
    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    /// The resource type with this name or id (case-insensitive), e.g. `User`.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name) || r.id.eq_ignore_ascii_case(name))
    }

    /// All resource types, in registration order.
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    /// The common attributes of every resource (RFC 7643 §3): `schemas`, `id`, `externalId`,
    /// `meta`.
    pub fn common_attributes(&self) -> &[AttributeDef] {
        &self.common
    }

    /// Resolves an attribute path for a resource type. A URN-qualified path is looked up in
    /// that schema only (the core schema or one of the resource type's extensions). A bare
    /// name is looked up in the common attributes (`schemas`, `id`, `externalId`, `meta`), then the core
    /// schema, then the extensions in order. `None` when the resource type, schema, attribute
    /// or sub-attribute is unknown, or a sub-attribute is named on a non-complex attribute.
    pub fn resolve(&self, resource_type: &str, path: &AttrPath) -> Option<ResolvedAttribute<'_>> {
        let rt = self.resource_type(resource_type)?;
        let (schema, extension, attribute) = match &path.urn {
            Some(urn) => {
                if rt.schema.eq_ignore_ascii_case(urn) {
                    let s = self.schema(&rt.schema)?;
                    let a = s.attribute(&path.name).or_else(|| {
                        self.common
                            .iter()
                            .find(|a| a.name.eq_ignore_ascii_case(&path.name))
                    })?;
                    (s.id.as_str(), false, a)
                } else {
                    let ext = rt
                        .schema_extensions
                        .iter()
                        .find(|e| e.schema.eq_ignore_ascii_case(urn))?;
                    let s = self.schema(&ext.schema)?;
                    (s.id.as_str(), true, s.attribute(&path.name)?)
                }
            }
            None => {
                if let Some(a) = self
                    .common
                    .iter()
                    .find(|a| a.name.eq_ignore_ascii_case(&path.name))
                {
                    (rt.schema.as_str(), false, a)
                } else if let Some((s, a)) = self
                    .schema(&rt.schema)
                    .and_then(|s| s.attribute(&path.name).map(|a| (s, a)))
                {
                    (s.id.as_str(), false, a)
                } else {
                    rt.schema_extensions
                        .iter()
                        .filter_map(|e| self.schema(&e.schema))
                        .find_map(|s| s.attribute(&path.name).map(|a| (s.id.as_str(), true, a)))?
                }
            }
        };
        let sub_attribute = match &path.sub_attr {
            Some(sub) => Some(attribute.find_sub_attribute(sub)?),
            None => None,
        };
        Some(ResolvedAttribute {
            schema,
            extension,
            attribute,
            sub_attribute,
        })
    }
}

fn s(name: &str, description: &str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::String).describe(description)
}

fn b(name: &str, description: &str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::Boolean).describe(description)
}

fn r(name: &str, types: &[&str], description: &str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::Reference)
        .describe(description)
        .reference_types(types)
}

fn c(name: &str, description: &str, subs: Vec<AttributeDef>) -> AttributeDef {
    AttributeDef::new(name, AttributeType::Complex)
        .describe(description)
        .sub_attributes(subs)
}

const DISPLAY_DESC: &str = "A human-readable name, primarily used for display purposes.  READ-ONLY.";

fn primary(what: &str) -> AttributeDef {
    b(
        "primary",
        &format!(
            "A Boolean value indicating the 'primary' or preferred attribute value for this attribute{what}.  The primary attribute value 'true' MUST appear no more than once."
        ),
    )
}

/// The common attributes of RFC 7643 §3 and §3.1 (`schemas`, `id`, `externalId`, `meta`).
/// `schemas` is not marked required here: resource validation checks it separately.
fn common_attributes() -> Vec<AttributeDef> {
    use Mutability::ReadOnly;
    vec![
        AttributeDef::new("schemas", AttributeType::Reference)
            .describe("The schema URIs the resource's attributes are defined by.")
            .multi_valued()
            .reference_types(&["uri"])
            .returned(Returned::Always),
        s("id", "A unique identifier for a SCIM resource as defined by the service provider.")
            .case_exact()
            .mutability(ReadOnly)
            .returned(Returned::Always)
            .uniqueness(Uniqueness::Server),
        s("externalId", "A String that is an identifier for the resource as defined by the provisioning client.")
            .case_exact(),
        c(
            "meta",
            "A complex attribute containing resource metadata.",
            vec![
                s("resourceType", "The name of the resource type of the resource.").case_exact().mutability(ReadOnly),
                AttributeDef::new("created", AttributeType::DateTime)
                    .describe("The \"DateTime\" that the resource was added to the service provider.")
                    .mutability(ReadOnly),
                AttributeDef::new("lastModified", AttributeType::DateTime)
                    .describe("The most recent DateTime that the details of this resource were updated at the service provider.")
                    .mutability(ReadOnly),
                r("location", &["uri"], "The URI of the resource being returned.").case_exact().mutability(ReadOnly),
                s("version", "The version of the resource being returned.").case_exact().mutability(ReadOnly),
            ],
        )
        .mutability(ReadOnly),
    ]
}

/// A multi-valued complex attribute of a core schema: the sub-attributes RFC 7643 §8.7.1
/// lists, then the RFC 7643 §2.4 defaults it does not list (accepted and stored by
/// [`AttributeDef::find_sub_attribute`]), so `/Schemas` publishes every sub-attribute the
/// service stores and returns: `members.display` (sent by Okta and Entra ID),
/// `addresses.primary` (sent in RFC 7643 §8.2), ... (`$ref` only where `value` is not
/// itself a reference: not on `photos`).
fn multi_complex(name: &str, description: &str, mut subs: Vec<AttributeDef>) -> AttributeDef {
    let missing: Vec<AttributeDef> = default_sub_attributes_for(&subs)
        .filter(|d| !subs.iter().any(|s| s.name.eq_ignore_ascii_case(&d.name)))
        .cloned()
        .collect();
    subs.extend(missing);
    c(name, description, subs).multi_valued()
}

/// The core User schema of RFC 7643 §8.7.1.
pub fn user_schema() -> Schema {
    use Mutability::ReadOnly;
    let mut schema = Schema::new(USER_SCHEMA, "User", "User Account");
    schema.attributes = vec![
        s("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider. Each User MUST include a non-empty userName value.  This identifier MUST be unique across the service provider's entire set of Users. REQUIRED.")
            .required()
            .uniqueness(Uniqueness::Server),
        c("name", "The components of the user's real name. Providers MAY return just the full name as a single string in the formatted sub-attribute, or they MAY return just the individual component attributes using the other sub-attributes, or they MAY return both.  If both variants are returned, they SHOULD be describing the same name, with the formatted name indicating how the component attributes should be combined.", vec![
            s("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display (e.g., 'Ms. Barbara J Jensen, III')."),
            s("familyName", "The family name of the User, or last name in most Western languages (e.g., 'Jensen' given the full name 'Ms. Barbara J Jensen, III')."),
            s("givenName", "The given name of the User, or first name in most Western languages (e.g., 'Barbara' given the full name 'Ms. Barbara J Jensen, III')."),
            s("middleName", "The middle name(s) of the User (e.g., 'Jane' given the full name 'Ms. Barbara J Jensen, III')."),
            s("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages (e.g., 'Ms.' given the full name 'Ms. Barbara J Jensen, III')."),
            s("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages (e.g., 'III' given the full name 'Ms. Barbara J Jensen, III')."),
        ]),
        s("displayName", "The name of the User, suitable for display to end-users.  The name SHOULD be the full name of the User being described, if known."),
        s("nickName", "The casual way to address the user in real life, e.g., 'Bob' or 'Bobby' instead of 'Robert'.  This attribute SHOULD NOT be used to represent a User's username (e.g., 'bjensen' or 'mpepperidge')."),
        r("profileUrl", &["external"], "A fully qualified URL pointing to a page representing the User's online profile."),
        s("title", "The user's title, such as \"Vice President.\""),
        s("userType", "Used to identify the relationship between the organization and the user.  Typical values used might be 'Contractor', 'Employee', 'Intern', 'Temp', 'External', and 'Unknown', but any value may be used."),
        s("preferredLanguage", "Indicates the User's preferred written or spoken language.  Generally used for selecting a localized user interface; e.g., 'en_US' specifies the language English and country US."),
        s("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
        s("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
        b("active", "A Boolean value indicating the User's administrative status."),
        s("password", "The User's cleartext password.  This attribute is intended to be used as a means to specify an initial password when creating a new User or to reset an existing User's password.")
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
        multi_complex("emails", "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'.", vec![
            s("value", "Email addresses for the user.  The value SHOULD be canonicalized by the service provider, e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'. Canonical type values of 'work', 'home', and 'other'."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.").canonical_values(&["work", "home", "other"]),
            primary(", e.g., the preferred mailing address or primary email address"),
        ]),
        multi_complex("phoneNumbers", "Phone numbers for the User.  The value SHOULD be canonicalized by the service provider according to the format specified in RFC 3966, e.g., 'tel:+1-201-555-0123'. Canonical type values of 'work', 'home', 'mobile', 'fax', 'pager', and 'other'.", vec![
            s("value", "Phone number of the User."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, e.g., 'work', 'home', 'mobile'.").canonical_values(&["work", "home", "mobile", "fax", "pager", "other"]),
            primary(", e.g., the preferred phone number or primary phone number"),
        ]),
        multi_complex("ims", "Instant messaging addresses for the User.", vec![
            s("value", "Instant messaging address for the User."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, e.g., 'aim', 'gtalk', 'xmpp'.").canonical_values(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
            primary(", e.g., the preferred messenger or primary messenger"),
        ]),
        multi_complex("photos", "URLs of photos of the User.", vec![
            r("value", &["external"], "URL of a photo of the User."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function, i.e., 'photo' or 'thumbnail'.").canonical_values(&["photo", "thumbnail"]),
            primary(", e.g., the preferred photo or thumbnail"),
        ]),
        multi_complex("addresses", "A physical mailing address for this User. Canonical type values of 'work', 'home', and 'other'.  This attribute is a complex type with the following sub-attributes.", vec![
            s("formatted", "The full mailing address, formatted for display or use with a mailing label.  This attribute MAY contain newlines."),
            s("streetAddress", "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information.  This attribute MAY contain newlines."),
            s("locality", "The city or locality component."),
            s("region", "The state or region component."),
            s("postalCode", "The zip code or postal code component."),
            s("country", "The country name component."),
            s("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.").canonical_values(&["work", "home", "other"]),
            // RFC 7643 §8.7.1 lists no "primary" here although §8.2 sends one: it is the §2.4
            // default, added (and published) by multi_complex.
            primary(", e.g., the preferred mailing address or primary address"),
        ]),
        c("groups", "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.", vec![
            s("value", "The identifier of the User's group.").mutability(ReadOnly),
            r("$ref", &["User", "Group"], "The URI of the corresponding 'Group' resource to which the user belongs.").mutability(ReadOnly),
            s("display", DISPLAY_DESC).mutability(ReadOnly),
            s("type", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.").canonical_values(&["direct", "indirect"]).mutability(ReadOnly),
        ])
        // Built by the service (never stored from input): exactly these four sub-attributes.
        .multi_valued()
        .mutability(ReadOnly),
        multi_complex("entitlements", "A list of entitlements for the User that represent a thing the User has.", vec![
            s("value", "The value of an entitlement."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function."),
            primary(""),
        ]),
        multi_complex("roles", "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.", vec![
            s("value", "The value of a role."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function."),
            primary(""),
        ]),
        multi_complex("x509Certificates", "A list of certificates issued to the User.", vec![
            AttributeDef::new("value", AttributeType::Binary).describe("The value of an X.509 certificate."),
            s("display", DISPLAY_DESC),
            s("type", "A label indicating the attribute's function."),
            primary(""),
        ]),
    ];
    schema
}

/// The Enterprise User extension of RFC 7643 §8.7.1 (§4.3).
pub fn enterprise_user_schema() -> Schema {
    let mut schema = Schema::new(ENTERPRISE_USER_SCHEMA, "EnterpriseUser", "Enterprise User");
    schema.attributes = vec![
        s("employeeNumber", "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
        s("costCenter", "Identifies the name of a cost center."),
        s("organization", "Identifies the name of an organization."),
        s("division", "Identifies the name of a division."),
        s("department", "Identifies the name of a department."),
        c("manager", "The User's manager.  A complex type that optionally allows service providers to represent organizational hierarchy by referencing the 'id' attribute of another User.", vec![
            s("value", "The id of the SCIM resource representing the User's manager.  REQUIRED."),
            r("$ref", &["User"], "The URI of the SCIM resource representing the User's manager.  REQUIRED."),
            s("displayName", "The displayName of the User's manager. OPTIONAL and READ-ONLY.").mutability(Mutability::ReadOnly),
        ]),
    ];
    schema
}

/// The core Group schema of RFC 7643 §8.7.1.
pub fn group_schema() -> Schema {
    let mut schema = Schema::new(GROUP_SCHEMA, "Group", "Group");
    schema.attributes = vec![
        s("displayName", "A human-readable name for the Group. REQUIRED."),
        multi_complex(
            "members",
            "A list of members of the Group.",
            vec![
                s("value", "Identifier of the member of this Group.").mutability(Mutability::Immutable),
                r(
                    "$ref",
                    &["User", "Group"],
                    "The URI corresponding to a SCIM resource that is a member of this Group.",
                )
                .mutability(Mutability::Immutable),
                s(
                    "type",
                    "A label indicating the type of resource, e.g., 'User' or 'Group'.",
                )
                .canonical_values(&["User", "Group"])
                .mutability(Mutability::Immutable),
                // Not in RFC 7643 §8.7.1; Okta and Entra ID send it with each member, and it is
                // kept as sent (a client may correct it: readWrite).
                s(
                    "display",
                    "A human-readable name for the member, as the client sent it.",
                ),
            ],
        ),
    ];
    schema
}
