//! Schema documents (RFC 7643 §7, §6): reading definitions from JSON and writing the
//! `/Schemas` and `/ResourceTypes` documents.

use serde_json::{json, Map, Value};

use super::error::SchemaError;
use super::model::{AttributeDef, AttributeType, Mutability, ResourceType, Returned, Schema, Uniqueness};
use super::{RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA};
use crate::resource::get_attr;

impl AttributeDef {
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

fn from_json_attr(value: &Value, depth: usize) -> Result<AttributeDef, SchemaError> {
    let obj = value.as_object().ok_or(SchemaError::Invalid {
        attribute: String::new(),
        reason: "an attribute definition must be a JSON object".into(),
    })?;
    let name = get_attr(obj, "name")
        .and_then(Value::as_str)
        .ok_or(SchemaError::Invalid {
            attribute: String::new(),
            reason: "an attribute definition needs a \"name\" string".into(),
        })?;
    let bad = |reason: String| SchemaError::Invalid {
        attribute: name.to_owned(),
        reason,
    };
    let text = |key: &str| get_attr(obj, key).and_then(Value::as_str);
    let flag = |key: &str| -> Result<bool, SchemaError> {
        match get_attr(obj, key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(format!("\"{key}\" must be true or false"))),
        }
    };
    let strings = |key: &str| -> Result<Vec<String>, SchemaError> {
        match get_attr(obj, key) {
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
    match get_attr(obj, "subAttributes") {
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

impl Schema {
    /// Reads a schema from its `/Schemas` document form (`id`, `name`, `description`,
    /// `attributes`). This is how a host registers a custom schema described in JSON.
    pub fn from_json(value: &Value) -> Result<Self, SchemaError> {
        let obj = value.as_object().ok_or(SchemaError::Invalid {
            attribute: String::new(),
            reason: "a schema must be a JSON object".into(),
        })?;
        let id = get_attr(obj, "id")
            .and_then(Value::as_str)
            .ok_or(SchemaError::Invalid {
                attribute: String::new(),
                reason: "a schema needs an \"id\" string (its URN)".into(),
            })?;
        let name = get_attr(obj, "name").and_then(Value::as_str).unwrap_or_default();
        let description = get_attr(obj, "description")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut schema = Schema::new(id, name, description);
        match get_attr(obj, "attributes") {
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
