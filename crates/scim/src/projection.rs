//! Projection of resources in responses: the `attributes` and `excludedAttributes` parameters
//! (RFC 7644 §3.4.2.5, §3.9) together with each attribute's `returned` characteristic (RFC 7643
//! §7).
//!
//! * `returned: never` attributes (`password`) are **never** in the output, whatever was
//!   requested;
//! * `returned: always` attributes (`id`, `schemas`) are always in it, even when excluded or
//!   not requested;
//! * `returned: request` attributes only when named in `attributes`;
//! * `returned: default` attributes unless `attributes` is given without naming them, or
//!   `excludedAttributes` names them.
//!
//! Names are matched case-insensitively and may be URN-qualified
//! (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`); a
//! sub-attribute (`name.givenName`, `emails.value`) selects or removes just that
//! sub-attribute; a whole extension URN selects or removes the extension. Names no schema
//! defines are ignored (a client may ask for attributes this service does not have). Members
//! of the resource that no schema defines are never returned.
//!
//! ```
//! use fedkit_scim::projection::Projection;
//! use fedkit_scim::resource::ResourceSchema;
//! use fedkit_scim::schema::SchemaRegistry;
//! use serde_json::json;
//!
//! let registry = SchemaRegistry::core();
//! let users = ResourceSchema::new(&registry, "User").unwrap();
//! let user = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "id": "2819c223", "userName": "bjensen", "password": "t1meMa$heen",
//!     "name": {"givenName": "Barbara", "familyName": "Jensen"},
//! });
//! let p = Projection::from_params(Some("name.givenName"), None).unwrap();
//! assert_eq!(p.apply(&user, &users), json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "id": "2819c223", "name": {"givenName": "Barbara"},
//! }));
//! // The password is never returned, even when asked for.
//! let p = Projection::from_params(Some("password,userName"), None).unwrap();
//! assert!(p.apply(&user, &users).get("password").is_none());
//! ```

use serde_json::{Map, Value};

use crate::error::{ScimError, ScimType};
use crate::filter::AttrPath;
use crate::resource::{sub_attribute, ResourceSchema};
use crate::schema::{AttributeDef, AttributeType, Returned};

/// The most attribute names one `attributes` or `excludedAttributes` list may carry.
pub const MAX_PROJECTION_ITEMS: usize = 256;

/// Why an `attributes` / `excludedAttributes` parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectionError {
    /// An entry is not an attribute path.
    #[error("{parameter} lists {item:?}, which is not an attribute name such as userName, name.givenName or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber")]
    InvalidPath {
        /// `attributes` or `excludedAttributes`.
        parameter: &'static str,
        /// The entry.
        item: String,
    },
    /// Both parameters were given.
    #[error("use either attributes or excludedAttributes, not both")]
    Both,
    /// More than [`MAX_PROJECTION_ITEMS`] entries.
    #[error("{parameter} lists more than {max} attributes")]
    TooMany {
        /// `attributes` or `excludedAttributes`.
        parameter: &'static str,
        /// The limit.
        max: usize,
    },
}

impl ProjectionError {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            ProjectionError::InvalidPath { .. } => "invalid_path",
            ProjectionError::Both => "attributes_and_excluded_attributes",
            ProjectionError::TooMany { .. } => "too_many_attributes",
        }
    }
}

impl From<ProjectionError> for ScimError {
    fn from(err: ProjectionError) -> Self {
        ScimError::bad_request(ScimType::InvalidValue, err.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    raw: String,
    path: AttrPath,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Default,
    Attributes,
    Excluded,
}

/// Which attributes a response carries. Build it from the request parameters, then
/// [`Projection::apply`] it to every resource returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    mode: Mode,
    items: Vec<Item>,
}

impl Default for Projection {
    fn default() -> Self {
        Self::all()
    }
}

/// What to keep of one attribute.
enum Sel<'a> {
    All,
    Only(Vec<&'a str>),
    AllExcept(Vec<&'a str>),
}

#[derive(Clone, Copy)]
enum Scope<'a> {
    /// Common or core-schema attribute; the core schema URN.
    Core(&'a str),
    /// Extension attribute; the extension URN.
    Ext(&'a str),
}

impl Scope<'_> {
    fn urn(&self) -> &str {
        match self {
            Scope::Core(u) | Scope::Ext(u) => u,
        }
    }
}

fn split_list(s: Option<&str>) -> Vec<&str> {
    s.map(|s| s.split(',').filter(|x| !x.trim().is_empty()).collect())
        .unwrap_or_default()
}

fn parse_items(parameter: &'static str, list: &[&str]) -> Result<Vec<Item>, ProjectionError> {
    let mut items = Vec::new();
    for raw in list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if items.len() == MAX_PROJECTION_ITEMS {
            return Err(ProjectionError::TooMany {
                parameter,
                max: MAX_PROJECTION_ITEMS,
            });
        }
        let path = AttrPath::parse(raw).map_err(|_| ProjectionError::InvalidPath {
            parameter,
            item: raw.to_owned(),
        })?;
        items.push(Item {
            raw: raw.to_owned(),
            path,
        });
    }
    Ok(items)
}

impl Projection {
    /// No parameters: every `default` and `always` attribute.
    pub fn all() -> Self {
        Self {
            mode: Mode::Default,
            items: Vec::new(),
        }
    }

    /// `attributes`: only these (plus the `always` ones).
    pub fn attributes(names: &[&str]) -> Result<Self, ProjectionError> {
        Ok(Self {
            mode: Mode::Attributes,
            items: parse_items("attributes", names)?,
        })
    }

    /// `excludedAttributes`: everything `default` except these.
    pub fn excluded_attributes(names: &[&str]) -> Result<Self, ProjectionError> {
        Ok(Self {
            mode: Mode::Excluded,
            items: parse_items("excludedAttributes", names)?,
        })
    }

    /// From the query parameters (comma-separated lists, already URL-decoded). Empty or absent
    /// parameters mean "not given".
    pub fn from_params(
        attributes: Option<&str>,
        excluded_attributes: Option<&str>,
    ) -> Result<Self, ProjectionError> {
        Self::from_lists(&split_list(attributes), &split_list(excluded_attributes))
    }

    /// From two lists (as in a SearchRequest body); both non-empty is an error.
    pub fn from_lists(attributes: &[&str], excluded_attributes: &[&str]) -> Result<Self, ProjectionError> {
        let has = |l: &[&str]| l.iter().any(|s| !s.trim().is_empty());
        match (has(attributes), has(excluded_attributes)) {
            (true, true) => Err(ProjectionError::Both),
            (true, false) => Self::attributes(attributes),
            (false, true) => Self::excluded_attributes(excluded_attributes),
            (false, false) => Ok(Self::all()),
        }
    }

    /// Whether this is the default projection.
    pub fn is_default(&self) -> bool {
        self.mode == Mode::Default
    }

    /// The projected copy of `resource`, a resource of `schema`'s type.
    pub fn apply(&self, resource: &Value, schema: &ResourceSchema<'_>) -> Value {
        let Some(obj) = resource.as_object() else {
            return Value::Object(Map::new());
        };
        let core_urn = schema.core_schema().id.as_str();
        let mut out = Map::new();
        for (key, value) in obj {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key.clone(), value.clone());
            } else if let Some(def) = schema.core_attribute(key) {
                if let Some(v) = self.project_attr(Scope::Core(core_urn), def, value) {
                    out.insert(key.clone(), v);
                }
            } else if let Some(ext) = schema.extension_schema(key) {
                let Some(ext_obj) = value.as_object() else {
                    continue;
                };
                let mut inner = Map::new();
                for (k, v) in ext_obj {
                    let Some(def) = ext.attribute(k) else { continue };
                    if let Some(v) = self.project_attr(Scope::Ext(&ext.id), def, v) {
                        inner.insert(k.clone(), v);
                    }
                }
                if !inner.is_empty() {
                    out.insert(key.clone(), Value::Object(inner));
                }
            }
        }
        Value::Object(out)
    }

    fn names_schema(&self, urn: &str) -> bool {
        self.items.iter().any(|i| i.raw.eq_ignore_ascii_case(urn))
    }

    /// The items naming `def` in `scope`: `(whole, subs)`.
    fn named<'s>(&'s self, scope: Scope<'_>, def: &AttributeDef) -> (bool, Vec<&'s str>) {
        let mut whole = self.names_schema(scope.urn());
        let mut subs = Vec::new();
        for item in &self.items {
            let p = &item.path;
            let scope_ok = p
                .urn
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(scope.urn()));
            if !scope_ok || !p.name.eq_ignore_ascii_case(&def.name) {
                continue;
            }
            match &p.sub_attr {
                None => whole = true,
                Some(s) => subs.push(s.as_str()),
            }
        }
        (whole, subs)
    }

    fn select(&self, scope: Scope<'_>, def: &AttributeDef) -> Option<Sel<'_>> {
        match def.returned {
            Returned::Never => None,
            Returned::Always => Some(Sel::All),
            Returned::Request | Returned::Default => match self.mode {
                Mode::Default => (def.returned == Returned::Default).then_some(Sel::All),
                Mode::Attributes => {
                    let (whole, subs) = self.named(scope, def);
                    if whole {
                        Some(Sel::All)
                    } else if subs.is_empty() {
                        None
                    } else {
                        Some(Sel::Only(subs))
                    }
                }
                Mode::Excluded => {
                    if def.returned == Returned::Request {
                        return None;
                    }
                    let (whole, subs) = self.named(scope, def);
                    if whole {
                        None
                    } else {
                        Some(Sel::AllExcept(subs))
                    }
                }
            },
        }
    }

    fn project_attr(&self, scope: Scope<'_>, def: &AttributeDef, value: &Value) -> Option<Value> {
        let sel = self.select(scope, def)?;
        if def.attr_type != AttributeType::Complex {
            return match sel {
                // A sub-attribute of a simple attribute names nothing.
                Sel::Only(_) => None,
                Sel::All | Sel::AllExcept(_) => Some(value.clone()),
            };
        }
        match value {
            Value::Array(items) => {
                let kept: Vec<Value> = items
                    .iter()
                    .filter_map(|e| project_complex(def, e, &sel))
                    .collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            other => project_complex(def, other, &sel),
        }
    }
}

/// One complex value: keeps the sub-attributes `sel` allows, never the `returned: never` ones,
/// and `returned: request` ones only when named.
fn project_complex(def: &AttributeDef, value: &Value, sel: &Sel<'_>) -> Option<Value> {
    let obj = value.as_object()?;
    let mut out = Map::new();
    for (k, v) in obj {
        let Some(sub) = sub_attribute(def, k) else {
            continue;
        };
        let named = |list: &[&str]| list.iter().any(|n| n.eq_ignore_ascii_case(&sub.name));
        let keep = match sub.returned {
            Returned::Never => false,
            Returned::Always => true,
            Returned::Request => matches!(sel, Sel::Only(list) if named(list)),
            Returned::Default => match sel {
                Sel::All => true,
                Sel::Only(list) => named(list),
                Sel::AllExcept(list) => !named(list),
            },
        };
        if keep {
            out.insert(k.clone(), v.clone());
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}
