//! The SCIM error document (RFC 7644 §3.12): an HTTP status, an optional `scimType` keyword and
//! a human-readable `detail`.
//!
//! Every failure this crate reports (filters, PATCH, resource validation) converts into a
//! [`ScimError`], so a service answers each with the right status and `scimType`, and a CLI can
//! print the same document.

use std::fmt;

use serde_json::{json, Value};

use crate::filter::FilterError;

/// The URN of the SCIM error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` keywords of RFC 7644 §3.12 (Table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScimType {
    /// The filter syntax is invalid, or the filter cannot be applied to the attribute's type.
    InvalidFilter,
    /// The filter yields more results than the server is willing to return.
    TooMany,
    /// One or more attribute values are already in use or reserved.
    Uniqueness,
    /// The request would modify a readOnly or immutable attribute.
    Mutability,
    /// The request body is not valid JSON or does not follow the request schema.
    InvalidSyntax,
    /// The `path` attribute is invalid or malformed.
    InvalidPath,
    /// The path did not yield an attribute or value that could be operated on.
    NoTarget,
    /// A required value is missing, or a value is not compatible with the attribute's type.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because it would reveal sensitive information.
    Sensitive,
}

impl ScimType {
    /// The keyword as it appears in the `scimType` member.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }

    /// Parses a `scimType` keyword (exact spelling, as RFC 7644 defines it).
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        Some(match keyword {
            "invalidFilter" => ScimType::InvalidFilter,
            "tooMany" => ScimType::TooMany,
            "uniqueness" => ScimType::Uniqueness,
            "mutability" => ScimType::Mutability,
            "invalidSyntax" => ScimType::InvalidSyntax,
            "invalidPath" => ScimType::InvalidPath,
            "noTarget" => ScimType::NoTarget,
            "invalidValue" => ScimType::InvalidValue,
            "invalidVers" => ScimType::InvalidVers,
            "sensitive" => ScimType::Sensitive,
            _ => return None,
        })
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM error response: what a service sends back, and what every fallible operation of this
/// crate can be turned into.
///
/// ```
/// use fedkit_scim::error::{ScimError, ScimType};
///
/// let err = ScimError::bad_request(ScimType::InvalidValue, "active must be a boolean");
/// let doc = err.to_json();
/// assert_eq!(doc["status"], "400"); // a JSON string, as RFC 7644 §3.12 shows it
/// assert_eq!(doc["scimType"], "invalidValue");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    /// The HTTP status code.
    pub status: u16,
    /// The `scimType` keyword, for the 400/409/413 errors that define one.
    pub scim_type: Option<ScimType>,
    /// A human-readable explanation for the administrator.
    pub detail: String,
}

impl ScimError {
    /// An error with any status.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// A 400 Bad Request with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// A 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// A 409 Conflict with `scimType` `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }

    /// The error document (`schemas`, `status` as a JSON string, `scimType` when set, `detail`).
    pub fn to_json(&self) -> Value {
        let mut doc = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(obj)) = (self.scim_type, doc.as_object_mut()) {
            obj.insert("scimType".into(), Value::String(t.as_str().into()));
        }
        doc
    }

    /// Reads an error document, e.g. one returned by another SCIM service. `status` may be a
    /// JSON string (as the RFC shows) or a number (as some servers send). Returns `None` when
    /// the document is not a SCIM error.
    pub fn from_json(doc: &Value) -> Option<Self> {
        let obj = doc.as_object()?;
        let status = match obj.get("status")? {
            Value::String(s) => s.trim().parse().ok()?,
            Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
            _ => return None,
        };
        let scim_type = obj
            .get("scimType")
            .and_then(Value::as_str)
            .and_then(ScimType::from_keyword);
        let detail = obj
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Some(Self {
            status,
            scim_type,
            detail,
        })
    }
}

impl From<FilterError> for ScimError {
    fn from(err: FilterError) -> Self {
        ScimError::bad_request(ScimType::InvalidFilter, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_round_trips_and_status_is_a_string() {
        let err = ScimError::uniqueness("userName \"bjensen\" is already taken");
        let doc = err.to_json();
        assert_eq!(doc["status"], Value::String("409".into()));
        assert_eq!(doc["schemas"][0], ERROR_SCHEMA);
        assert_eq!(ScimError::from_json(&doc), Some(err));
    }

    #[test]
    fn no_scim_type_member_when_unset() {
        let doc = ScimError::not_found("no such user").to_json();
        assert!(doc.get("scimType").is_none());
    }

    #[test]
    fn numeric_status_is_accepted_on_input() {
        let doc = json!({"schemas": [ERROR_SCHEMA], "status": 400, "scimType": "invalidPath", "detail": "x"});
        let err = ScimError::from_json(&doc).expect("error document");
        assert_eq!(err.status, 400);
        assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
    }

    #[test]
    fn keywords_round_trip() {
        for t in [
            ScimType::InvalidFilter,
            ScimType::TooMany,
            ScimType::Uniqueness,
            ScimType::Mutability,
            ScimType::InvalidSyntax,
            ScimType::InvalidPath,
            ScimType::NoTarget,
            ScimType::InvalidValue,
            ScimType::InvalidVers,
            ScimType::Sensitive,
        ] {
            assert_eq!(ScimType::from_keyword(t.as_str()), Some(t));
        }
    }
}
