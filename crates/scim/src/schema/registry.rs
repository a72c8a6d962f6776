//! The [`SchemaRegistry`]: registered schemas and resource types, and the resolver from
//! attribute paths to definitions.

use crate::filter::AttrPath;

use super::core::{common_attributes, enterprise_user_schema, group_schema, user_schema};
use super::error::SchemaError;
use super::model::{AttributeDef, ResourceType, Schema, SchemaExtension};
use super::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

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
