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
//! Helpers for code that edits resources directly (the PATCH engine): [`get_attr`] and
//! [`find_key`] for case-insensitive member lookup, [`attribute_container`]
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

// Where each concern lives: `limits` (limits, options, body parsing), `error`, `lookup`
// (case-insensitive member access), `check` (type-checking values), `equal` (schema-aware
// equality), `meta` (`MetaContext`, ids, locations), `etag` (`meta.version`); this file binds a
// resource type (`ResourceSchema`: validation, create, PUT).
mod check;
mod equal;
mod error;
mod etag;
mod limits;
mod lookup;
mod meta;

pub(crate) use check::check_control_characters;
pub use check::{check_element, check_value, sub_attribute, MULTI_LINE_ATTRIBUTES};
pub use equal::{element_equal, values_equal};
pub use error::{JsonKind, ResourceError};
pub use etag::version_of;
pub use limits::{parse_json, ResourceLimits, UndefinedSchemas, UnknownAttributes, ValidationOptions};
pub use lookup::{attribute_container, attribute_container_mut, find_key, get_attr};
pub use meta::MetaContext;

use chrono::SecondsFormat;
use serde_json::{Map, Value};

use crate::schema::{AttributeDef, AttributeType, Mutability, ResourceType, Schema, SchemaRegistry};
use check::{check_attr, has_value, Check};
use equal::is_unassigned;
use meta::{check_id, percent_encode};

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
        match self.options.unknown_attributes() {
            UnknownAttributes::Ignore => Ok(()),
            UnknownAttributes::Reject => Err(ResourceError::UnknownAttribute {
                attribute: attribute.to_owned(),
                resource_type: self.resource_type.name.clone(),
            }),
        }
    }

    fn unknown_schema(&self, urn: &str) -> Result<(), ResourceError> {
        match self.options.unknown_attributes() {
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
                let ignorable = self.options.undefined_schemas() == UndefinedSchemas::IgnoreUnused
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
        if self.options.undefined_schemas() != UndefinedSchemas::IgnoreUnused {
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
