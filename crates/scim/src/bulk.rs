//! Bulk operations (RFC 7644 §3.7): the `BulkRequest` and `BulkResponse` messages, limits,
//! and `bulkId` references.
//!
//! The library parses and checks the request, orders the operations so that every operation
//! comes after the POSTs whose `bulkId` it references ([`BulkRequest::execution_order`]), and
//! substitutes the ids of created resources for `bulkId:…` references ([`BulkIds`]). Executing
//! each operation (with [`ResourceSchema`](crate::resource::ResourceSchema), PATCH, the
//! host's store) is the service's job; it reports each result as a [`BulkOperationResult`].
//!
//! ```
//! use fedkit_scim::bulk::{BulkIds, BulkLimits, BulkRequest};
//! use serde_json::json;
//!
//! let body = json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
//!     "Operations": [
//!         {"method": "POST", "path": "/Groups", "bulkId": "g1",
//!          "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides",
//!                   "members": [{"type": "User", "value": "bulkId:u1"}]}},
//!         {"method": "POST", "path": "/Users", "bulkId": "u1",
//!          "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice"}}
//!     ]
//! });
//! let req = BulkRequest::from_json(&body, &BulkLimits::default()).unwrap();
//! assert_eq!(req.execution_order().unwrap(), [1, 0]); // the user first
//! let mut ids = BulkIds::new();
//! ids.insert("u1", "2819c223");
//! let data = ids.resolve_data(req.operations[0].data.as_ref().unwrap()).unwrap();
//! assert_eq!(data["members"][0]["value"], "2819c223");
//! ```

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::error::{ScimError, ScimType};
use crate::resource::get_attr;
use crate::settings::SettingsError;

/// URN of the BulkRequest message.
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// URN of the BulkResponse message.
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// The prefix of a bulkId reference (RFC 7644 §3.7.2).
pub const BULK_ID_PREFIX: &str = "bulkId:";

/// Bulk limits; advertise them in `/ServiceProviderConfig` (`bulk.maxOperations`,
/// `bulk.maxPayloadSize`). Both are at least 1.
///
/// ```
/// use fedkit_scim::bulk::BulkLimits;
/// let limits = BulkLimits::default().with_max_operations(50)?;
/// assert_eq!(limits.max_operations(), 50);
/// assert_eq!(BulkLimits::default().with_max_payload_size(0).unwrap_err().code(), "out_of_range");
/// # Ok::<(), fedkit_scim::settings::SettingsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BulkLimits {
    max_operations: usize,
    max_payload_size: usize,
}

impl Default for BulkLimits {
    fn default() -> Self {
        Self {
            max_operations: 1000,
            max_payload_size: 1024 * 1024,
        }
    }
}

impl BulkLimits {
    /// Sets the most operations one Bulk request may carry. Default 1000. At least 1.
    pub fn with_max_operations(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_operations = crate::settings::positive("BulkLimits::max_operations", max)?;
        Ok(self)
    }

    /// Sets the largest Bulk request body, in bytes. Default 1 MiB. At least 1.
    pub fn with_max_payload_size(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_payload_size = crate::settings::positive("BulkLimits::max_payload_size", max)?;
        Ok(self)
    }

    /// See [`BulkLimits::with_max_operations`].
    pub fn max_operations(&self) -> usize {
        self.max_operations
    }

    /// See [`BulkLimits::with_max_payload_size`].
    pub fn max_payload_size(&self) -> usize {
        self.max_payload_size
    }
}

/// The HTTP method of a bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkMethod {
    /// Create.
    Post,
    /// Replace.
    Put,
    /// Modify.
    Patch,
    /// Delete.
    Delete,
}

impl BulkMethod {
    /// The method name, upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Parses a method name, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Post, Self::Put, Self::Patch, Self::Delete]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
    }
}

/// Why a bulk request was refused, or a bulkId could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BulkError {
    /// The body exceeds [`BulkLimits::max_payload_size`] (413).
    #[error("the bulk request is {actual} bytes long; the limit is {max} bytes (bulk.maxPayloadSize)")]
    TooLarge {
        /// The limit.
        max: usize,
        /// The body's size.
        actual: usize,
    },
    /// More operations than [`BulkLimits::max_operations`] (413).
    #[error("the bulk request has {actual} operations; the limit is {max} (bulk.maxOperations)")]
    TooManyOperations {
        /// The limit.
        max: usize,
        /// How many arrived.
        actual: usize,
    },
    /// The body is not JSON (`invalidSyntax`).
    #[error("the bulk request is not valid JSON (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A JSON object of the body has two members with the same name (`invalidSyntax`).
    #[error("the member {key:?} appears twice in the same JSON object (line {line}, column {column}); send each attribute once")]
    DuplicateKey {
        /// The member name.
        key: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Not a BulkRequest message (`invalidSyntax`).
    #[error("the body must be a JSON object with \"schemas\": [\"{BULK_REQUEST_SCHEMA}\"] and an \"Operations\" array")]
    NotABulkRequest,
    /// An operation is malformed (`invalidSyntax`).
    #[error("Operations[{index}]: {reason}")]
    InvalidOperation {
        /// 0-based index of the operation.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Two operations declare the same bulkId (`invalidValue`).
    #[error("bulkId {bulk_id:?} is declared by more than one operation")]
    DuplicateBulkId {
        /// The bulkId.
        bulk_id: String,
    },
    /// A reference to a bulkId no POST in the request declares (`invalidValue`).
    #[error("Operations[{index}] references bulkId:{bulk_id}, but no POST operation declares that bulkId")]
    UnknownBulkId {
        /// 0-based index of the referencing operation.
        index: usize,
        /// The bulkId.
        bulk_id: String,
    },
    /// Operations reference each other's bulkIds in a cycle (409, RFC 7644 §3.7.1).
    #[error(
        "the operations declaring bulkIds {bulk_ids:?} reference each other in a cycle; split the request"
    )]
    CircularReference {
        /// The bulkIds involved.
        bulk_ids: Vec<String>,
    },
    /// A bulkId whose POST did not succeed (409).
    #[error(
        "bulkId {bulk_id:?} cannot be resolved because the operation declaring it did not create a resource"
    )]
    UnresolvedBulkId {
        /// The bulkId.
        bulk_id: String,
    },
}

impl BulkError {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            BulkError::TooLarge { .. } => "too_large",
            BulkError::TooManyOperations { .. } => "too_many_operations",
            BulkError::InvalidJson { .. } => "invalid_json",
            BulkError::DuplicateKey { .. } => "duplicate_key",
            BulkError::NotABulkRequest => "not_a_bulk_request",
            BulkError::InvalidOperation { .. } => "invalid_operation",
            BulkError::DuplicateBulkId { .. } => "duplicate_bulk_id",
            BulkError::UnknownBulkId { .. } => "unknown_bulk_id",
            BulkError::CircularReference { .. } => "circular_reference",
            BulkError::UnresolvedBulkId { .. } => "unresolved_bulk_id",
        }
    }
}

impl From<BulkError> for ScimError {
    fn from(err: BulkError) -> Self {
        let (status, scim_type) = match &err {
            BulkError::TooLarge { .. } | BulkError::TooManyOperations { .. } => (413, None),
            BulkError::CircularReference { .. } | BulkError::UnresolvedBulkId { .. } => (409, None),
            BulkError::InvalidJson { .. }
            | BulkError::DuplicateKey { .. }
            | BulkError::NotABulkRequest
            | BulkError::InvalidOperation { .. } => (400, Some(ScimType::InvalidSyntax)),
            _ => (400, Some(ScimType::InvalidValue)),
        };
        ScimError::new(status, scim_type, err.to_string())
    }
}

/// One operation of a bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    /// The method.
    pub method: BulkMethod,
    /// The client's temporary id for a POST (required for POST).
    pub bulk_id: Option<String>,
    /// The ETag the resource must have (`If-Match` semantics).
    pub version: Option<String>,
    /// The resource path relative to the base URL, e.g. `/Users` or `/Groups/{id}`.
    pub path: String,
    /// The body: a resource for POST/PUT, a PatchOp message for PATCH, absent for DELETE.
    pub data: Option<Value>,
}

impl BulkOperation {
    /// The bulkIds this operation references (in `path` and anywhere in `data`), in order of
    /// appearance, without duplicates.
    pub fn references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(r) = reference(&self.path) {
            out.push(r);
        }
        if let Some(d) = &self.data {
            collect_refs(d, &mut out);
        }
        let mut seen = Vec::with_capacity(out.len());
        out.retain(|r| {
            if seen.contains(r) {
                false
            } else {
                seen.push(*r);
                true
            }
        });
        out
    }
}

/// `bulkId:xyz` anywhere in a string value or as the last path segment.
fn reference(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix(BULK_ID_PREFIX) {
        return Some(r);
    }
    let seg = s.rsplit('/').next()?;
    seg.strip_prefix(BULK_ID_PREFIX)
}

fn collect_refs<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => {
            if let Some(r) = s.strip_prefix(BULK_ID_PREFIX) {
                out.push(r);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Object(m) => m.values().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// A bulk request.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (`failOnErrors`); `None` means process everything.
    pub fail_on_errors: Option<u32>,
    /// The operations, in request order.
    pub operations: Vec<BulkOperation>,
}

impl BulkRequest {
    /// Parses a request body under `limits` (size first).
    pub fn parse(bytes: &[u8], limits: &BulkLimits) -> Result<Self, BulkError> {
        if bytes.len() > limits.max_payload_size {
            return Err(BulkError::TooLarge {
                max: limits.max_payload_size,
                actual: bytes.len(),
            });
        }
        // Duplicate member names refused, text in NFC, as for resource bodies.
        let v: Value = crate::json::parse(bytes).map_err(|e| match e {
            crate::json::JsonError::DuplicateKey { key, line, column } => {
                BulkError::DuplicateKey { key, line, column }
            }
            crate::json::JsonError::Syntax { line, column, .. } => BulkError::InvalidJson { line, column },
        })?;
        Self::from_json(&v, limits)
    }

    /// Reads and checks a parsed request: every operation has a known method and a path
    /// starting with `/`, POSTs have a unique `bulkId` and `data`, PUT and PATCH have `data`,
    /// and every `bulkId:` reference names a POST of the request. Member names are
    /// case-insensitive.
    pub fn from_json(body: &Value, limits: &BulkLimits) -> Result<Self, BulkError> {
        let obj = body.as_object().ok_or(BulkError::NotABulkRequest)?;
        let listed = get_attr(obj, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(BULK_REQUEST_SCHEMA))
                })
            });
        let Some(Value::Array(ops)) = get_attr(obj, "Operations") else {
            return Err(BulkError::NotABulkRequest);
        };
        if !listed {
            return Err(BulkError::NotABulkRequest);
        }
        if ops.len() > limits.max_operations {
            return Err(BulkError::TooManyOperations {
                max: limits.max_operations,
                actual: ops.len(),
            });
        }
        let fail_on_errors = match get_attr(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) if n >= 1 => Some(n),
                _ => {
                    return Err(BulkError::InvalidOperation {
                        index: 0,
                        reason: format!("failOnErrors is {n}; it must be a whole number of at least 1"),
                    })
                }
            },
            Some(_) => {
                return Err(BulkError::InvalidOperation {
                    index: 0,
                    reason: "failOnErrors must be a whole number".into(),
                })
            }
        };
        let mut operations = Vec::with_capacity(ops.len());
        for (index, op) in ops.iter().enumerate() {
            operations.push(parse_operation(index, op)?);
        }
        let req = Self {
            fail_on_errors,
            operations,
        };
        req.check_bulk_ids()?;
        Ok(req)
    }

    fn check_bulk_ids(&self) -> Result<(), BulkError> {
        let mut declared: HashMap<&str, usize> = HashMap::new();
        for (i, op) in self.operations.iter().enumerate() {
            if let Some(b) = &op.bulk_id {
                if declared.insert(b.as_str(), i).is_some() {
                    return Err(BulkError::DuplicateBulkId { bulk_id: b.clone() });
                }
            }
        }
        for (index, op) in self.operations.iter().enumerate() {
            for r in op.references() {
                let declaring = declared.get(r).map(|i| self.operations.get(*i).map(|o| o.method));
                if declaring != Some(Some(BulkMethod::Post)) {
                    return Err(BulkError::UnknownBulkId {
                        index,
                        bulk_id: r.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The order to execute the operations in: request order, except that an operation
    /// referencing a bulkId comes after the POST declaring it. A cycle of references is a
    /// [`BulkError::CircularReference`] (RFC 7644 §3.7.1 lets a service refuse those with 409).
    pub fn execution_order(&self) -> Result<Vec<usize>, BulkError> {
        let declared: HashMap<&str, usize> = self
            .operations
            .iter()
            .enumerate()
            .filter_map(|(i, op)| op.bulk_id.as_deref().map(|b| (b, i)))
            .collect();
        let deps: Vec<Vec<usize>> = self
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| {
                op.references()
                    .into_iter()
                    .filter_map(|r| declared.get(r).copied())
                    .filter(|d| *d != i)
                    .collect()
            })
            .collect();
        let self_ref: Vec<&str> = self
            .operations
            .iter()
            .enumerate()
            .filter(|(i, op)| op.references().iter().any(|r| declared.get(r) == Some(i)))
            .filter_map(|(_, op)| op.bulk_id.as_deref())
            .collect();
        if !self_ref.is_empty() {
            return Err(BulkError::CircularReference {
                bulk_ids: self_ref.into_iter().map(str::to_owned).collect(),
            });
        }
        let n = self.operations.len();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        while order.len() < n {
            let next = (0..n).find(|i| {
                !done.get(*i).copied().unwrap_or(true)
                    && deps
                        .get(*i)
                        .is_some_and(|d| d.iter().all(|j| done.get(*j).copied().unwrap_or(false)))
            });
            match next.and_then(|i| done.get_mut(i).map(|slot| (i, slot))) {
                Some((i, slot)) => {
                    *slot = true;
                    order.push(i);
                }
                None => {
                    let bulk_ids = (0..n)
                        .filter(|i| !done.get(*i).copied().unwrap_or(true))
                        .filter_map(|i| self.operations.get(i).and_then(|o| o.bulk_id.clone()))
                        .collect();
                    return Err(BulkError::CircularReference { bulk_ids });
                }
            }
        }
        Ok(order)
    }

    /// Whether processing should stop after `errors` failed operations (`failOnErrors`).
    pub fn should_stop(&self, errors: usize) -> bool {
        self.fail_on_errors
            .is_some_and(|max| errors >= usize::try_from(max).unwrap_or(usize::MAX))
    }
}

fn parse_operation(index: usize, op: &Value) -> Result<BulkOperation, BulkError> {
    let bad = |reason: String| BulkError::InvalidOperation { index, reason };
    let obj = op
        .as_object()
        .ok_or_else(|| bad("an operation must be a JSON object".into()))?;
    let text = |name: &str| -> Result<Option<String>, BulkError> {
        match get_attr(obj, name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(format!("\"{name}\" must be a string"))),
        }
    };
    let method_text =
        text("method")?.ok_or_else(|| bad("\"method\" is missing (POST, PUT, PATCH or DELETE)".into()))?;
    let method = BulkMethod::parse(&method_text).ok_or_else(|| {
        bad(format!(
            "method {method_text:?} is not one of POST, PUT, PATCH, DELETE"
        ))
    })?;
    let path = text("path")?.ok_or_else(|| bad("\"path\" is missing, e.g. \"/Users\"".into()))?;
    if !path.starts_with('/') {
        return Err(bad(format!("path {path:?} must start with '/', e.g. \"/Users\"")));
    }
    let bulk_id = text("bulkId")?;
    if bulk_id.as_deref() == Some("") {
        return Err(bad("\"bulkId\" is empty".into()));
    }
    let data = get_attr(obj, "data").filter(|d| !d.is_null()).cloned();
    match method {
        BulkMethod::Post => {
            if bulk_id.is_none() {
                return Err(bad("a POST needs a \"bulkId\" (RFC 7644 §3.7)".into()));
            }
            if data.is_none() {
                return Err(bad("a POST needs \"data\": the resource to create".into()));
            }
        }
        BulkMethod::Put | BulkMethod::Patch => {
            if data.is_none() {
                return Err(bad(format!("a {} needs \"data\"", method.as_str())));
            }
        }
        BulkMethod::Delete => {}
    }
    Ok(BulkOperation {
        method,
        bulk_id,
        version: text("version")?,
        path,
        data,
    })
}

/// The ids of resources created so far in a bulk request, by bulkId.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkIds {
    ids: HashMap<String, String>,
}

impl BulkIds {
    /// No ids yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the POST declaring `bulk_id` created the resource `id`.
    pub fn insert(&mut self, bulk_id: impl Into<String>, id: impl Into<String>) {
        self.ids.insert(bulk_id.into(), id.into());
    }

    /// The id created for `bulk_id`.
    pub fn get(&self, bulk_id: &str) -> Option<&str> {
        self.ids.get(bulk_id).map(String::as_str)
    }

    /// `path` with a `bulkId:…` last segment replaced by the created id.
    pub fn resolve_path(&self, path: &str) -> Result<String, BulkError> {
        match path.rsplit_once('/') {
            Some((head, seg)) => match seg.strip_prefix(BULK_ID_PREFIX) {
                Some(b) => Ok(format!("{head}/{}", self.lookup(b)?)),
                None => Ok(path.to_owned()),
            },
            None => Ok(path.to_owned()),
        }
    }

    /// A copy of `data` with every string `bulkId:…` replaced by the created id.
    pub fn resolve_data(&self, data: &Value) -> Result<Value, BulkError> {
        Ok(match data {
            Value::String(s) => match s.strip_prefix(BULK_ID_PREFIX) {
                Some(b) => Value::String(self.lookup(b)?.to_owned()),
                None => data.clone(),
            },
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.resolve_data(i))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(m) => {
                let mut out = Map::with_capacity(m.len());
                for (k, v) in m {
                    out.insert(k.clone(), self.resolve_data(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn lookup(&self, bulk_id: &str) -> Result<&str, BulkError> {
        self.get(bulk_id).ok_or_else(|| BulkError::UnresolvedBulkId {
            bulk_id: bulk_id.to_owned(),
        })
    }
}

/// The outcome of one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperationResult {
    /// The method.
    pub method: BulkMethod,
    /// The operation's bulkId.
    pub bulk_id: Option<String>,
    /// The resource's new version.
    pub version: Option<String>,
    /// The resource's `meta.location`.
    pub location: Option<String>,
    /// The HTTP status.
    pub status: u16,
    /// For failures, the SCIM error document.
    pub response: Option<Value>,
}

impl BulkOperationResult {
    /// A success: `status` (201 for POST, 200 for PUT/PATCH, 204 for DELETE) with the
    /// resource's location and version.
    pub fn success(
        op: &BulkOperation,
        status: u16,
        location: Option<String>,
        version: Option<String>,
    ) -> Self {
        Self {
            method: op.method,
            bulk_id: op.bulk_id.clone(),
            version,
            location,
            status,
            response: None,
        }
    }

    /// A failure, carrying the SCIM error document.
    pub fn failure(op: &BulkOperation, error: &ScimError) -> Self {
        Self {
            method: op.method,
            bulk_id: op.bulk_id.clone(),
            version: None,
            location: None,
            status: error.status,
            response: Some(error.to_json()),
        }
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("method".into(), Value::String(self.method.as_str().into()));
        if let Some(b) = &self.bulk_id {
            m.insert("bulkId".into(), Value::String(b.clone()));
        }
        if let Some(v) = &self.version {
            m.insert("version".into(), Value::String(v.clone()));
        }
        if let Some(l) = &self.location {
            m.insert("location".into(), Value::String(l.clone()));
        }
        if let Some(r) = &self.response {
            m.insert("response".into(), r.clone());
        }
        m.insert("status".into(), Value::String(self.status.to_string()));
        Value::Object(m)
    }
}

/// A bulk response.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BulkResponse {
    /// One result per processed operation, in processing order.
    pub operations: Vec<BulkOperationResult>,
}

impl BulkResponse {
    /// The JSON document; each `status` is a JSON string, as RFC 7644 §3.7.3 shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [BULK_RESPONSE_SCHEMA],
            "Operations": self.operations.iter().map(BulkOperationResult::to_json).collect::<Vec<_>>(),
        })
    }
}
