//! `meta` inputs: the [`MetaContext`] of an operation, resource ids and `meta.location`.

use chrono::{DateTime, Utc};

use super::check::shorten;
use super::error::ResourceError;

/// Request-independent facts for `meta`: the time of the operation (the library never reads a
/// clock) and the service's base URL (e.g. `https://app.example/scim/v2`), under which
/// `meta.location` is built as `{base}{endpoint}/{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaContext {
    /// The time of the operation.
    pub now: DateTime<Utc>,
    /// The SCIM base URL, without a trailing slash (one is removed if present).
    pub base_url: String,
}

impl MetaContext {
    /// A context for an operation at `now` under `base_url`.
    pub fn new(now: DateTime<Utc>, base_url: impl Into<String>) -> Self {
        let mut base_url = base_url.into();
        while base_url.ends_with('/') {
            base_url.pop();
        }
        Self { now, base_url }
    }
}

pub(super) fn check_id(id: &str) -> Result<(), ResourceError> {
    let bad = |reason| {
        Err(ResourceError::InvalidId {
            id: shorten(id),
            reason,
        })
    };
    if id.is_empty() {
        return bad("it is empty");
    }
    if id == "bulkId" {
        return bad("\"bulkId\" is reserved (RFC 7643 §3.1)");
    }
    if id.chars().any(char::is_control) {
        return bad("it contains control characters");
    }
    Ok(())
}

/// RFC 3986 unreserved characters stay, every other byte becomes `%XX`: an id as a path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(super) fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_of_ids() {
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(percent_encode("2819c223-7f76"), "2819c223-7f76");
    }
}
