//! SCIM PATCH (RFC 7644 §3.5.2): parse a `PatchOp` request and apply it to a resource,
//! atomically, with the schema's types and mutability rules, tolerating what real identity
//! providers send.
//!
//! ```
//! use fedkit_scim::patch::{apply, PatchOptions, PatchRequest};
//! use fedkit_scim::schema::SchemaRegistry;
//! use serde_json::json;
//!
//! let registry = SchemaRegistry::core();
//! let mut user = json!({
//!     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!     "id": "2819c223",
//!     "userName": "bjensen@example.com",
//!     "active": true,
//!     "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]
//! });
//!
//! // What Microsoft Entra ID sends to deactivate a user: capitalized op, boolean as a string.
//! let request = PatchRequest::parse(&json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!     "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
//! })).unwrap();
//! let outcome = apply(&registry, "User", &mut user, &request, &PatchOptions::default()).unwrap();
//! assert!(outcome.changed);
//! assert_eq!(user["active"], json!(false));
//!
//! // A failing operation leaves the resource untouched, even after earlier operations ran.
//! let before = user.clone();
//! let request = PatchRequest::parse(&json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!     "Operations": [
//!         {"op": "replace", "path": "displayName", "value": "Babs"},
//!         {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "babs@home.example"}
//!     ]
//! })).unwrap();
//! let err = apply(&registry, "User", &mut user, &request, &PatchOptions::default()).unwrap_err();
//! assert_eq!(err.to_string(),
//!     "operation 2 (replace emails[type eq \"home\"].value): no value of emails has type \"home\"");
//! assert_eq!(user, before);
//!
//! // The SCIM error document a service returns.
//! let doc = fedkit_scim::error::ScimError::from(err).to_json();
//! assert_eq!(doc["status"], "400");
//! assert_eq!(doc["scimType"], "noTarget");
//! ```
//!
//! # Semantics
//!
//! Operations run in order, each on the result of the previous one. The request is atomic
//! (RFC 7644 §3.5.2: "a PATCH request, regardless of the number of operations, SHALL be
//! treated as atomic"): when an operation fails, [`apply`] restores the resource exactly —
//! byte for byte once serialized — and returns the error. Changes are journaled with their
//! moved-out old values instead of copying the resource, so atomicity costs what changed,
//! not the resource's size.
//!
//! * **add** (§3.5.2.1): on a multi-valued attribute, appends the values that are not
//!   already there (a value already present is merged into the stored one, never
//!   duplicated); on a complex attribute, sets the given sub-attributes; on a simple
//!   attribute, sets the value. Without a path, the value is an object of attributes, each
//!   added as with its own path.
//!   `attr[filter]` / `attr[filter].sub` merge into every value the filter matches; when it
//!   matches none, the value the filter describes is added (§3.5.2.1: "If the target
//!   location specifies an attribute that does not exist (has no value), the attribute is
//!   added with the new value"): `add` `phoneNumbers[type eq "mobile"].value` on a user
//!   without phones adds `{"type": "mobile", "value": ...}`. The filter must be
//!   `sub eq literal` conditions joined by `and`; any other unmatched filter is `noTarget`.
//!   An extension object's `schemas` member (`"path": "urn:…:enterprise:2.0:User"`,
//!   `"value": {"schemas": [...], "employeeNumber": "7"}`) is ignored: extensions have no
//!   such attribute, and the resource's `schemas` is kept right by the engine.
//! * **replace** (§3.5.2.3): on a multi-valued attribute without filter, the values replace
//!   all stored ones; on a complex attribute, the given sub-attributes are replaced and the
//!   others kept; `attr[filter]` replaces (merges into) every matching value and
//!   `attr[filter].sub` sets the sub-attribute of every matching value; an absent attribute
//!   is added. A filter that matches nothing is `noTarget` (unless
//!   [`PatchOptions::create_on_unmatched_filter`], below).
//! * **remove** (§3.5.2.2): removes the attribute, the sub-attribute, or the values matching
//!   the filter; an attribute left without values is unassigned. Without a path: `noTarget`.
//!   Removing something that is not there succeeds without change (idempotent, so an
//!   identity provider's retry does not fail) unless
//!   [`PatchOptions::require_remove_target`] is set.
//! * `null` and `[]` mean "unassigned" (RFC 7643 §2.5): `replace` with `null` removes,
//!   `add` with `null` does nothing, and `{"$ref": null, "value": "x"}` stores
//!   `{"value": "x"}`.
//! * **primary** (§3.5.2): an operation that makes one value `primary: true` sets `primary`
//!   to false on the others; making two values primary at once is `invalidValue`.
//! * **same value**: values of `emails`, `members`, ... are the same when their `value`
//!   sub-attributes are equal (case-insensitively unless `caseExact`) and their `type`s do
//!   not differ; simple values when equal; others when all sub-attributes are equal.
//! * **mutability** (§3.5.2, RFC 7643 §2.2): `readOnly` attributes cannot change and
//!   `immutable` ones can only be set while unassigned (`mutability`); writing the value an
//!   attribute already has is not a change, so Okta's group rename that repeats the `id`
//!   succeeds. Required attributes cannot be removed (`mutability`, §3.5.2.2).
//! * **extensions**: attributes of a schema extension live under its URN
//!   (`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {...}`); writing the
//!   first one lists the URN in `schemas`, removing the last one removes the object and the
//!   URN. A path may be a whole extension URN.
//! * **types**: values are checked against the attribute's type; attribute and
//!   sub-attribute names are case-insensitive and stored under their schema spelling (or the
//!   spelling already present in the resource). Multi-valued complex attributes also have
//!   the sub-attributes RFC 7643 §2.4 gives every multi-valued attribute (`type`, `primary`,
//!   `display`, `value`, `$ref`), so Okta's `members[].display` is kept.
//!
//! # Real-client tolerance
//!
//! [`PatchOptions::default`] accepts these deviations, each harmless because its meaning is
//! unambiguous; [`PatchOptions::strict`] refuses them all. Each has its own switch.
//!
//! | Option | Accepts | Sent by |
//! |---|---|---|
//! | [`op_names_any_case`](PatchOptions::op_names_any_case) | `"Replace"`, `"Add"`, `"REMOVE"` | Microsoft Entra ID |
//! | [`boolean_strings`](PatchOptions::boolean_strings) | `"True"`/`"False"` (any case) for boolean attributes | Microsoft Entra ID |
//! | [`path_keys_in_value`](PatchOptions::path_keys_in_value) | path-less value keys that are paths: `"name.givenName"`, `"urn:...:enterprise:2.0:User:department"`, `"emails[type eq \"work\"].value"` | Microsoft Entra ID |
//! | [`remove_with_value`](PatchOptions::remove_with_value) | `{"op": "remove", "path": "members", "value": [{"value": "id"}]}` removes the listed values | Entra ID, JumpCloud |
//! | [`bare_value_for_complex`](PatchOptions::bare_value_for_complex) | a string for a complex attribute with a `value` sub-attribute: `manager: "id"` means `{"value": "id"}` | Microsoft Entra ID |
//! | [`single_value_for_multi_valued`](PatchOptions::single_value_for_multi_valued) | one value (not an array) for a multi-valued attribute | various |
//! | [`ignore_unknown_sub_attributes`](PatchOptions::ignore_unknown_sub_attributes) | sub-attributes the schema lacks are dropped (e.g. a vendor's `members[].operation`) | various |
//!
//! Also accepted in every mode, because the RFCs allow them: member names of the request in
//! any case (`operations`), `"path": ""` or `null` for "no path", `"$ref": null`.
//!
//! # Microsoft Entra ID and unmatched value filters
//!
//! RFC 7644 §3.5.2.3: "If the target location is a multi-valued attribute for which a value
//! selection filter ("valuePath") has been supplied and no record match was made, the
//! service provider SHALL indicate failure by returning HTTP status code 400 and a
//! "scimType" error code of "noTarget"." Entra ID, however, sends
//! `{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x"}` for a user who
//! has no work email yet, and expects the email to be created (JumpCloud's
//! `emails[type eq "work"].value` mapping and Entra's `addresses[type eq "work"].formatted`
//! do the same). This is off in [`PatchOptions::default`] and [`PatchOptions::strict`] (the
//! RFC wins, and the error names what was missing) and on in
//! [`PatchOptions::idp_compatible`], the profile fedkit-scim-service and `fedkit scim serve`
//! use: when the filter is `sub eq literal` conditions joined by `and`, the value they
//! describe is created (`{"type": "work", "value": "x"}`), as `add` always does; other
//! filters remain `noTarget`.
//!
//! # Limits
//!
//! [`PatchLimits`]: at most 1 000 operations per request, a 1 MiB body for
//! [`PatchRequest::from_slice`], and the [`FilterLimits`] for every path. A request over a
//! limit is refused with status 413.
//!
//! # Security considerations
//!
//! A PATCH is applied against the schema: unknown attributes are refused (`invalidPath`),
//! values are type-checked, `readOnly` attributes (`id`, `meta`, `groups`) cannot be set
//! by a client. Atomicity means a half-applied request can never be observed. Nothing in
//! this module is quadratic in the size of the resource or of the request: adding or
//! removing one member of a group of 100 000 is one pass over the members. Uniqueness of
//! `userName` across resources is the store's job.
//!
//! # Limitations
//!
//! The outcome's `changed` flag is true when any operation modified the resource, even if a
//! later one of the same request restored it. `meta` (`lastModified`, `version`) is not
//! updated here: the caller does that when `changed` is true. Values of a sub-attribute path
//! with neither filter nor element (`emails.value` on a user without emails) are
//! `noTarget`.

mod engine;
mod error;
mod journal;
mod value;

use serde_json::Value;

use crate::filter::{parse_path_with_limits, FilterLimits, PatchPath};
use crate::resource::get_attr;
use crate::schema::SchemaRegistry;
use crate::settings::SettingsError;

pub use error::{OperationRef, PatchError, PatchErrorKind};

use error::describe;

/// The URN in the `schemas` of a PATCH request body.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A PATCH operation: `add`, `remove` or `replace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `remove`.
    Remove,
    /// `replace`.
    Replace,
}

impl PatchOpKind {
    /// The keyword as RFC 7644 spells it (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }

    fn parse(text: &str, any_case: bool) -> Option<Self> {
        [Self::Add, Self::Remove, Self::Replace].into_iter().find(|k| {
            if any_case {
                k.as_str().eq_ignore_ascii_case(text)
            } else {
                k.as_str() == text
            }
        })
    }
}

impl std::fmt::Display for PatchOpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resource limits for PATCH requests. Exceeding one is a 413 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchLimits {
    max_operations: usize,
    max_request_bytes: usize,
    path: FilterLimits,
}

impl Default for PatchLimits {
    fn default() -> Self {
        Self {
            max_operations: 1_000,
            max_request_bytes: 1 << 20,
            path: FilterLimits::default(),
        }
    }
}

impl PatchLimits {
    /// Sets the most operations one request may carry. Default 1 000. At least 1.
    ///
    /// ```
    /// use fedkit_scim::patch::PatchLimits;
    /// assert_eq!(PatchLimits::default().with_max_operations(1)?.max_operations(), 1);
    /// assert!(PatchLimits::default().with_max_operations(0).is_err());
    /// # Ok::<(), fedkit_scim::settings::SettingsError>(())
    /// ```
    pub fn with_max_operations(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_operations = crate::settings::positive("PatchLimits::max_operations", max)?;
        Ok(self)
    }

    /// Sets the largest request body [`PatchRequest::from_slice`] reads, in bytes. Default
    /// 1 MiB. At least 1.
    pub fn with_max_request_bytes(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_request_bytes = crate::settings::positive("PatchLimits::max_request_bytes", max)?;
        Ok(self)
    }

    /// Sets the limits for each `path` (and each path used as a key of a path-less value).
    #[must_use]
    pub fn with_path_limits(mut self, path: FilterLimits) -> Self {
        self.path = path;
        self
    }

    /// See [`PatchLimits::with_max_operations`].
    pub fn max_operations(&self) -> usize {
        self.max_operations
    }

    /// See [`PatchLimits::with_max_request_bytes`].
    pub fn max_request_bytes(&self) -> usize {
        self.max_request_bytes
    }

    /// See [`PatchLimits::with_path_limits`].
    pub fn path_limits(&self) -> &FilterLimits {
        &self.path
    }
}

/// How PATCH requests are read and applied: limits, real-client tolerance (see the
/// [module documentation](self#real-client-tolerance)) and the Entra ID compatibility
/// option.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PatchOptions {
    op_names_any_case: bool,
    boolean_strings: bool,
    path_keys_in_value: bool,
    remove_with_value: bool,
    bare_value_for_complex: bool,
    single_value_for_multi_valued: bool,
    ignore_unknown_sub_attributes: bool,
    require_remove_target: bool,
    create_on_unmatched_filter: bool,
    limits: PatchLimits,
}

impl Default for PatchOptions {
    fn default() -> Self {
        Self {
            op_names_any_case: true,
            boolean_strings: true,
            path_keys_in_value: true,
            remove_with_value: true,
            bare_value_for_complex: true,
            single_value_for_multi_valued: true,
            ignore_unknown_sub_attributes: true,
            require_remove_target: false,
            create_on_unmatched_filter: false,
            limits: PatchLimits::default(),
        }
    }
}

impl PatchOptions {
    /// RFC 7644 only: every tolerance off, `remove` of something absent is `noTarget`.
    pub fn strict() -> Self {
        Self {
            op_names_any_case: false,
            boolean_strings: false,
            path_keys_in_value: false,
            remove_with_value: false,
            bare_value_for_complex: false,
            single_value_for_multi_valued: false,
            ignore_unknown_sub_attributes: false,
            require_remove_target: true,
            create_on_unmatched_filter: false,
            limits: PatchLimits::default(),
        }
    }

    /// The "IdP-compatible" profile: [`PatchOptions::default`] plus
    /// [`PatchOptions::with_create_on_unmatched_filter`], so Microsoft Entra ID's
    /// `replace` of `addresses[type eq "work"].formatted` for a user without a work address
    /// creates the address. What `fedkit scim serve` and fedkit-scim-service use unless told
    /// to be strict.
    pub fn idp_compatible() -> Self {
        Self::default().with_create_on_unmatched_filter(true)
    }

    /// Accept `op` in any letter case (`"Replace"`). Default on.
    #[must_use]
    pub fn with_op_names_any_case(mut self, on: bool) -> Self {
        self.op_names_any_case = on;
        self
    }

    /// Accept `"true"`/`"false"` strings (any case) for boolean attributes. Default on.
    #[must_use]
    pub fn with_boolean_strings(mut self, on: bool) -> Self {
        self.boolean_strings = on;
        self
    }

    /// Accept paths (`name.givenName`, URN-qualified names, value filters) as keys of a
    /// path-less value. Default on.
    #[must_use]
    pub fn with_path_keys_in_value(mut self, on: bool) -> Self {
        self.path_keys_in_value = on;
        self
    }

    /// Accept `remove` with a `value` listing the values of a multi-valued attribute to
    /// remove. Default on.
    #[must_use]
    pub fn with_remove_with_value(mut self, on: bool) -> Self {
        self.remove_with_value = on;
        self
    }

    /// Accept a bare string for a complex attribute with a `value` sub-attribute. Default on.
    #[must_use]
    pub fn with_bare_value_for_complex(mut self, on: bool) -> Self {
        self.bare_value_for_complex = on;
        self
    }

    /// Accept one value instead of an array for a multi-valued attribute. Default on.
    #[must_use]
    pub fn with_single_value_for_multi_valued(mut self, on: bool) -> Self {
        self.single_value_for_multi_valued = on;
        self
    }

    /// Drop sub-attributes the schema does not define instead of refusing the value.
    /// Default on.
    #[must_use]
    pub fn with_ignore_unknown_sub_attributes(mut self, on: bool) -> Self {
        self.ignore_unknown_sub_attributes = on;
        self
    }

    /// Make `remove` of something absent (an unmatched filter, an unlisted member) a
    /// `noTarget` error instead of a successful no-op. Default off.
    #[must_use]
    pub fn with_require_remove_target(mut self, on: bool) -> Self {
        self.require_remove_target = on;
        self
    }

    /// Create the value an unmatched `add`/`replace` value filter describes instead of
    /// answering `noTarget`, as Microsoft Entra ID expects. Default off (RFC 7644 §3.5.2.3).
    #[must_use]
    pub fn with_create_on_unmatched_filter(mut self, on: bool) -> Self {
        self.create_on_unmatched_filter = on;
        self
    }

    /// Sets the resource limits.
    #[must_use]
    pub fn with_limits(mut self, limits: PatchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// See [`PatchOptions::with_op_names_any_case`].
    pub fn op_names_any_case(&self) -> bool {
        self.op_names_any_case
    }

    /// See [`PatchOptions::with_boolean_strings`].
    pub fn boolean_strings(&self) -> bool {
        self.boolean_strings
    }

    /// See [`PatchOptions::with_path_keys_in_value`].
    pub fn path_keys_in_value(&self) -> bool {
        self.path_keys_in_value
    }

    /// See [`PatchOptions::with_remove_with_value`].
    pub fn remove_with_value(&self) -> bool {
        self.remove_with_value
    }

    /// See [`PatchOptions::with_bare_value_for_complex`].
    pub fn bare_value_for_complex(&self) -> bool {
        self.bare_value_for_complex
    }

    /// See [`PatchOptions::with_single_value_for_multi_valued`].
    pub fn single_value_for_multi_valued(&self) -> bool {
        self.single_value_for_multi_valued
    }

    /// See [`PatchOptions::with_ignore_unknown_sub_attributes`].
    pub fn ignore_unknown_sub_attributes(&self) -> bool {
        self.ignore_unknown_sub_attributes
    }

    /// See [`PatchOptions::with_require_remove_target`].
    pub fn require_remove_target(&self) -> bool {
        self.require_remove_target
    }

    /// See [`PatchOptions::with_create_on_unmatched_filter`].
    pub fn create_on_unmatched_filter(&self) -> bool {
        self.create_on_unmatched_filter
    }

    /// See [`PatchOptions::with_limits`].
    pub fn limits(&self) -> &PatchLimits {
        &self.limits
    }
}

/// The target of an operation, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParsedPath {
    None,
    Path(PatchPath),
}

/// One parsed operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    op: PatchOpKind,
    path_text: Option<String>,
    path: ParsedPath,
    value: Option<Value>,
}

impl PatchOperation {
    /// Builds an operation, checking it as [`PatchRequest::parse`] would (a path that parses,
    /// a value for add/replace, a path for remove).
    pub fn new(
        op: PatchOpKind,
        path: Option<&str>,
        value: Option<Value>,
        options: &PatchOptions,
    ) -> Result<Self, PatchErrorKind> {
        let path_text = path.filter(|p| !p.trim().is_empty()).map(str::to_owned);
        let parsed = match &path_text {
            None => ParsedPath::None,
            Some(p) => {
                ParsedPath::Path(parse_path_with_limits(p, &options.limits.path).map_err(|error| {
                    PatchErrorKind::InvalidPath {
                        path: p.clone(),
                        error: Box::new(error),
                    }
                })?)
            }
        };
        let value = value.filter(|v| !(op == PatchOpKind::Remove && v.is_null()));
        match op {
            PatchOpKind::Add | PatchOpKind::Replace if value.is_none() => {
                return Err(PatchErrorKind::MissingValue { op })
            }
            PatchOpKind::Remove if path_text.is_none() => return Err(PatchErrorKind::RemoveWithoutPath),
            PatchOpKind::Remove if value.is_some() && !options.remove_with_value => {
                return Err(PatchErrorKind::RemoveWithValue)
            }
            _ => {}
        }
        Ok(Self {
            op,
            path_text,
            path: parsed,
            value,
        })
    }

    /// The operation.
    pub fn op(&self) -> PatchOpKind {
        self.op
    }

    /// The path as written; `None` for a path-less operation.
    pub fn path(&self) -> Option<&str> {
        self.path_text.as_deref()
    }

    /// The parsed path.
    pub fn parsed_path(&self) -> Option<&PatchPath> {
        match &self.path {
            ParsedPath::None => None,
            ParsedPath::Path(p) => Some(p),
        }
    }

    /// The value, as sent.
    pub fn value(&self) -> Option<&Value> {
        self.value.as_ref()
    }

    fn reference(&self, number: usize) -> OperationRef {
        OperationRef {
            number,
            op: Some(self.op),
            path: self.path_text.clone(),
        }
    }
}

/// A parsed PATCH request (`urn:ietf:params:scim:api:messages:2.0:PatchOp`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    operations: Vec<PatchOperation>,
}

impl PatchRequest {
    /// A request from operations built with [`PatchOperation::new`].
    pub fn new(operations: Vec<PatchOperation>) -> Self {
        Self { operations }
    }

    /// The operations, in order.
    pub fn operations(&self) -> &[PatchOperation] {
        &self.operations
    }

    /// Parses a request body with the default [`PatchOptions`].
    pub fn parse(body: &Value) -> Result<Self, PatchError> {
        Self::parse_with_options(body, &PatchOptions::default())
    }

    /// Parses a request body from bytes (at most
    /// [`PatchLimits::max_request_bytes`]).
    pub fn from_slice(bytes: &[u8], options: &PatchOptions) -> Result<Self, PatchError> {
        let max = options.limits.max_request_bytes;
        if bytes.len() > max {
            return Err(PatchError::request(PatchErrorKind::TooLarge {
                max,
                actual: bytes.len(),
            }));
        }
        // Duplicate member names refused, text in NFC, as for resource bodies.
        let body: Value = crate::json::parse(bytes).map_err(|e| {
            PatchError::request(PatchErrorKind::InvalidJson {
                reason: e.to_string(),
            })
        })?;
        Self::parse_with_options(&body, options)
    }

    /// Parses a request body: `schemas` must list [`PATCH_OP_SCHEMA`], `Operations` must hold
    /// one or more operations, each with a known `op`, a path that parses, a `value` for
    /// `add`/`replace` and a `path` for `remove`.
    pub fn parse_with_options(body: &Value, options: &PatchOptions) -> Result<Self, PatchError> {
        let req = |kind| PatchError::request(kind);
        let Value::Object(obj) = body else {
            return Err(req(PatchErrorKind::NotAnObject {
                found: describe(body),
            }));
        };
        let schemas = get_attr(obj, "schemas");
        let listed = matches!(schemas, Some(Value::Array(items))
            if items.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))));
        if !listed {
            return Err(req(PatchErrorKind::MissingPatchOpSchema {
                found: schemas.map_or_else(|| "nothing".to_owned(), error::snippet),
            }));
        }
        let ops = match get_attr(obj, "Operations") {
            None => return Err(req(PatchErrorKind::MissingOperations)),
            Some(Value::Array(ops)) => ops,
            Some(other) => {
                return Err(req(PatchErrorKind::OperationsNotArray {
                    found: describe(other),
                }))
            }
        };
        if ops.is_empty() {
            return Err(req(PatchErrorKind::NoOperations));
        }
        let max = options.limits.max_operations;
        if ops.len() > max {
            return Err(req(PatchErrorKind::TooManyOperations {
                max,
                actual: ops.len(),
            }));
        }
        let mut operations = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            operations.push(Self::parse_operation(op, i + 1, options)?);
        }
        Ok(Self { operations })
    }

    fn parse_operation(
        op: &Value,
        number: usize,
        options: &PatchOptions,
    ) -> Result<PatchOperation, PatchError> {
        let mut at = OperationRef {
            number,
            op: None,
            path: None,
        };
        let fail = |at: &OperationRef, kind| PatchError {
            operation: Some(at.clone()),
            kind,
        };
        let Value::Object(obj) = op else {
            return Err(fail(
                &at,
                PatchErrorKind::OperationNotObject { found: describe(op) },
            ));
        };
        let kind = match get_attr(obj, "op") {
            None | Some(Value::Null) => return Err(fail(&at, PatchErrorKind::MissingOp)),
            Some(Value::String(s)) => match PatchOpKind::parse(s, options.op_names_any_case) {
                Some(k) => k,
                None => {
                    let hint = if PatchOpKind::parse(s, true).is_some() {
                        " (in lowercase, as RFC 7644 spells them)"
                    } else {
                        ""
                    };
                    return Err(fail(
                        &at,
                        PatchErrorKind::UnknownOp {
                            found: error::snippet(&Value::String(s.clone())),
                            hint,
                        },
                    ));
                }
            },
            Some(other) => {
                return Err(fail(
                    &at,
                    PatchErrorKind::UnknownOp {
                        found: error::snippet(other),
                        hint: "",
                    },
                ))
            }
        };
        at.op = Some(kind);
        let path = match get_attr(obj, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                at.path = Some(s.clone());
                Some(s.as_str())
            }
            Some(other) => {
                return Err(fail(
                    &at,
                    PatchErrorKind::PathNotString {
                        found: describe(other),
                    },
                ))
            }
        };
        let value = get_attr(obj, "value").cloned();
        PatchOperation::new(kind, path, value, options).map_err(|k| fail(&at, k))
    }
}

/// What [`apply`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PatchOutcome {
    /// Whether any operation modified the resource. When false the resource is unchanged
    /// (e.g. adding a member that is already there), so a service keeps `meta.version` and
    /// `meta.lastModified` (RFC 7644 §3.5.2.1).
    pub changed: bool,
    /// The top-level attributes that changed, in order of first change: names as the schema
    /// spells them, extension attributes qualified by their URN
    /// (`urn:...:enterprise:2.0:User:manager`). A service can react to e.g. `active`.
    pub changed_attributes: Vec<String>,
}

/// Applies a PATCH request to `resource`, a resource of type `resource_type` (e.g. `User`,
/// `Group`) of `registry`. On success the resource holds the result; on error it is exactly
/// as it was.
pub fn apply(
    registry: &SchemaRegistry,
    resource_type: &str,
    resource: &mut Value,
    request: &PatchRequest,
    options: &PatchOptions,
) -> Result<PatchOutcome, PatchError> {
    let Some(rt) = registry.resource_type(resource_type) else {
        return Err(PatchError::request(PatchErrorKind::UnknownResourceType {
            name: resource_type.to_owned(),
        }));
    };
    if !resource.is_object() {
        return Err(PatchError::request(PatchErrorKind::ResourceNotAnObject));
    }
    let mut engine = engine::Engine::new(registry, rt, options);
    for (i, op) in request.operations.iter().enumerate() {
        if let Err(kind) = engine.operation(resource, op) {
            engine.journal.rollback(resource);
            return Err(PatchError {
                operation: Some(op.reference(i + 1)),
                kind,
            });
        }
    }
    Ok(PatchOutcome {
        changed: !engine.journal.is_empty(),
        changed_attributes: engine.changed,
    })
}
