//! `xs:dateTime` values as SAML uses them.

use chrono::{DateTime, Utc};

/// Parses an `xs:dateTime` with a time zone (SAML requires UTC, written with `Z`; an explicit
/// offset is accepted and converted). A value without a time zone is refused: its instant
/// would be a guess.
pub(crate) fn parse_instant(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Formats an instant for messages, to the second, in UTC.
pub(crate) fn show(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
