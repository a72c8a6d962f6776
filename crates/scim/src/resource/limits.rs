//! Limits on request bodies, validation options, and parsing a body under the limits.

use serde_json::Value;

use super::error::ResourceError;
use crate::settings::SettingsError;

/// Resource limits for request bodies. Exceeding one is its own [`ResourceError`]. Both are
/// at least 1.
///
/// ```
/// use fedkit_scim::resource::ResourceLimits;
/// let limits = ResourceLimits::default().with_max_values(1_000)?;
/// assert_eq!(limits.max_values(), 1_000);
/// assert!(ResourceLimits::default().with_max_bytes(0).is_err());
/// # Ok::<(), fedkit_scim::settings::SettingsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceLimits {
    max_bytes: usize,
    max_values: usize,
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
    /// Sets the maximum body size in bytes for [`parse_json`]. Default 8 MiB (a Group with
    /// tens of thousands of members fits). At least 1.
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Result<Self, SettingsError> {
        self.max_bytes = crate::settings::positive("ResourceLimits::max_bytes", max_bytes)?;
        Ok(self)
    }

    /// Sets the maximum number of values of one multi-valued attribute. Default 200 000. At
    /// least 1.
    pub fn with_max_values(mut self, max_values: usize) -> Result<Self, SettingsError> {
        self.max_values = crate::settings::positive("ResourceLimits::max_values", max_values)?;
        Ok(self)
    }

    /// See [`ResourceLimits::with_max_bytes`].
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// See [`ResourceLimits::with_max_values`].
    pub fn max_values(&self) -> usize {
        self.max_values
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
    /// [`ResourceSchema::ignored_schemas`](super::ResourceSchema::ignored_schemas) tells the host which entries were ignored. A URN
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
    unknown_attributes: UnknownAttributes,
    limits: ResourceLimits,
    boolean_strings: bool,
    undefined_schemas: UndefinedSchemas,
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
    /// Sets the policy for unknown attributes and extension URNs (default
    /// [`UnknownAttributes::Reject`]).
    #[must_use]
    pub fn with_unknown_attributes(mut self, policy: UnknownAttributes) -> Self {
        self.unknown_attributes = policy;
        self
    }

    /// Sets the body and value-count limits.
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

    /// Accepts or refuses the strings `"true"`/`"false"` (any case) for boolean attributes
    /// (stored as JSON booleans). Default on: Entra ID sends `"False"`.
    #[must_use]
    pub fn with_boolean_strings(mut self, accept: bool) -> Self {
        self.boolean_strings = accept;
        self
    }

    /// See [`ValidationOptions::with_unknown_attributes`].
    pub fn unknown_attributes(&self) -> UnknownAttributes {
        self.unknown_attributes
    }

    /// See [`ValidationOptions::with_limits`].
    pub fn limits(&self) -> &ResourceLimits {
        &self.limits
    }

    /// See [`ValidationOptions::with_boolean_strings`].
    pub fn boolean_strings(&self) -> bool {
        self.boolean_strings
    }

    /// See [`ValidationOptions::with_undefined_schemas`].
    pub fn undefined_schemas(&self) -> UndefinedSchemas {
        self.undefined_schemas
    }
}

/// Parses a request body under `limits` (size first, then JSON with [`crate::json::parse`]:
/// duplicate member names refused, text normalized to NFC). The result still needs
/// [`ResourceSchema::validate_input`](super::ResourceSchema::validate_input).
pub fn parse_json(bytes: &[u8], limits: &ResourceLimits) -> Result<Value, ResourceError> {
    if bytes.len() > limits.max_bytes {
        return Err(ResourceError::TooLarge {
            max: limits.max_bytes,
            actual: bytes.len(),
        });
    }
    crate::json::parse(bytes).map_err(ResourceError::from)
}
