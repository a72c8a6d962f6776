//! `xs:dateTime` values as SAML uses them.

use chrono::{DateTime, Duration, Utc};

use crate::config::Settings;
use crate::error::{Error, SignedPart};

/// Parses an `xs:dateTime` with a time zone (SAML Core §1.3.3 requires UTC, written with `Z`;
/// an explicit offset is accepted and converted). A value without a time zone is refused: its
/// instant would be a guess. The same parser as metadata's, with the strict choice.
pub(crate) fn parse_instant(value: &str) -> Option<DateTime<Utc>> {
    fedkit_metadata::parse_datetime(value, fedkit_metadata::MissingZone::Refuse)
}

/// `t + d`, saturating at the latest instant chrono represents: time checks never panic,
/// whatever the input's instants or the settings.
pub(crate) fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t - d`, saturating at the earliest instant chrono represents.
pub(crate) fn earlier(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Formats an instant for messages, to the second, in UTC.
pub(crate) fn show(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The message age of SAML messages (a hardening beyond the text, as OpenSAML's message
/// lifetime): refuses an `IssueInstant` later than `now` plus the clock skew, or older than
/// [`Settings::message_lifetime`] plus the skew.
pub(crate) fn check_age(
    settings: &Settings,
    part: SignedPart,
    issue_instant: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let skew = settings.skew();
    if issue_instant > later(now, skew) {
        return Err(Error::IssuedInTheFuture {
            part,
            issue_instant,
            now,
            skew_seconds: skew.num_seconds(),
        });
    }
    let lifetime = settings.lifetime();
    if earlier(now, skew) > later(issue_instant, lifetime) {
        return Err(Error::MessageTooOld {
            part,
            issue_instant,
            now,
            lifetime_seconds: u32::try_from(settings.message_lifetime().as_secs()).unwrap_or(u32::MAX),
            skew_seconds: skew.num_seconds(),
        });
    }
    Ok(())
}
