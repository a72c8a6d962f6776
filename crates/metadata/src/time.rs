//! `xs:dateTime` (`validUntil`) and `xs:duration` (`cacheDuration`) values.

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// What [`parse_datetime`] does with an `xs:dateTime` that has no time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MissingZone {
    /// Refuse it: its instant would be a guess. For SAML protocol times (`IssueInstant`,
    /// `NotOnOrAfter`, ...), which SAML Core §1.3.3 requires in UTC form, written with `Z`.
    Refuse,
    /// Read it as UTC, as SAML requires times to be UTC. For metadata's `validUntil`, which
    /// some publishers write without a zone.
    AssumeUtc,
}

/// Parses an `xs:dateTime` (XML Schema Part 2 §3.2.7): `YYYY-MM-DDThh:mm:ss`, an optional
/// fraction (nanosecond precision, further digits truncated), then `Z`, an offset `±hh:mm`
/// (converted to UTC), or nothing, which `missing_zone` decides. `24:00:00` is the end of the
/// day; years beyond 9999 or before 0000 are refused. Surrounding XML white space is allowed
/// (`xs:dateTime` collapses it). The one parser of fedkit-metadata and fedkit-saml.
///
/// ```
/// use fedkit_metadata::{parse_datetime, MissingZone};
/// let t = parse_datetime("2026-05-01T12:00:00Z", MissingZone::Refuse).unwrap();
/// assert_eq!(t.to_rfc3339(), "2026-05-01T12:00:00+00:00");
/// assert_eq!(parse_datetime("2026-05-01T14:00:00+02:00", MissingZone::Refuse), Some(t));
/// assert_eq!(parse_datetime("2026-05-01T12:00:00", MissingZone::Refuse), None);
/// assert_eq!(parse_datetime("2026-05-01T12:00:00", MissingZone::AssumeUtc), Some(t));
/// ```
pub fn parse_datetime(text: &str, missing_zone: MissingZone) -> Option<DateTime<Utc>> {
    let s = text.trim_matches([' ', '\t', '\r', '\n']);
    let b = s.as_bytes();
    // YYYY-MM-DDThh:mm:ss is 19 bytes; xs:dateTime years beyond 9999 or negative are refused.
    if b.len() < 19 || b.get(10) != Some(&b'T') {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = s.get(from..from + len)?;
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-') && sep(7, b'-') && sep(13, b':') && sep(16, b':')) {
        return None;
    }
    let year = i32::try_from(num(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(5, 2)?, num(8, 2)?)?;
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let mut rest = s.get(19..)?;
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let digits = fraction.get(..len)?;
        // Nanosecond precision; further digits are truncated.
        let mut value = 0u32;
        for (i, d) in digits.bytes().take(9).enumerate() {
            value += u32::from(d - b'0') * 10u32.pow(8 - u32::try_from(i).ok()?);
        }
        nanos = value;
        rest = fraction.get(len..)?;
    }
    // xs:dateTime allows 24:00:00 as the end of a day.
    let (time, extra_day) = if hour == 24 && minute == 0 && second == 0 && nanos == 0 {
        (NaiveTime::from_hms_opt(0, 0, 0)?, true)
    } else {
        (NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?, false)
    };
    let mut local = NaiveDateTime::new(date, time);
    if extra_day {
        local = local.checked_add_signed(Duration::days(1))?;
    }
    let offset_minutes: i64 = match rest {
        "" if missing_zone == MissingZone::AssumeUtc => 0,
        "Z" => 0,
        _ => {
            let rb = rest.as_bytes();
            let sign = match rb.first() {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            if rb.len() != 6 || rb.get(3) != Some(&b':') {
                return None;
            }
            let two = |r: Option<&str>| -> Option<i64> {
                r.filter(|d| d.bytes().all(|c| c.is_ascii_digit()))?.parse().ok()
            };
            let hh = two(rest.get(1..3))?;
            let mm = two(rest.get(4..6))?;
            if hh > 14 || mm > 59 {
                return None;
            }
            sign * (hh * 60 + mm)
        }
    };
    let utc = local.checked_sub_signed(Duration::minutes(offset_minutes))?;
    Some(utc.and_utc())
}

/// An `xs:duration` (ISO 8601 `PnYnMnDTnHnMnS`), as `cacheDuration` carries it: how long a
/// consumer may cache the metadata before fetching it again.
///
/// ```
/// use fedkit_metadata::CacheDuration;
/// let six_hours: CacheDuration = "PT6H".parse()?;
/// let start = chrono::DateTime::parse_from_rfc3339("2026-01-31T00:00:00Z")?.to_utc();
/// assert_eq!(six_hours.after(start).map(|t| t.to_rfc3339()), Some("2026-01-31T06:00:00+00:00".into()));
/// // Months and years are calendar months and years.
/// let month: CacheDuration = "P1M".parse()?;
/// assert_eq!(month.after(start).map(|t| t.to_rfc3339()), Some("2026-02-28T00:00:00+00:00".into()));
/// assert!("P".parse::<CacheDuration>().is_err());
/// assert!("-PT1H".parse::<CacheDuration>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CacheDuration {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
    /// Whole seconds.
    pub seconds: u32,
    /// Fraction of a second, in nanoseconds.
    pub nanos: u32,
}

/// Why a text is not an acceptable `cacheDuration`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// Not of the form `PnYnMnDTnHnMnS`.
    #[error("not an ISO 8601 duration of the form PnYnMnDTnHnMnS (for example PT6H or P1D)")]
    Syntax,
    /// A negative duration, which means nothing as a cache lifetime.
    #[error("a negative duration cannot be a cache lifetime")]
    Negative,
    /// A component too large to represent.
    #[error("a component of the duration is too large")]
    Overflow,
}

impl DurationError {
    /// A stable `snake_case` code for logs, metrics and API answers.
    pub fn code(&self) -> &'static str {
        match self {
            DurationError::Syntax => "duration_syntax",
            DurationError::Negative => "duration_negative",
            DurationError::Overflow => "duration_overflow",
        }
    }
}

impl core::str::FromStr for CacheDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let s = text.trim_matches([' ', '\t', '\r', '\n']);
        if s.starts_with('-') {
            return Err(DurationError::Negative);
        }
        let body = s.strip_prefix('P').ok_or(DurationError::Syntax)?;
        let (date, time) = match body.split_once('T') {
            Some((d, t)) if t.is_empty() => (d, Some(t)),
            Some((d, t)) => (d, Some(t)),
            None => (body, None),
        };
        let mut out = Self::default();
        let mut any = false;
        // Date part: Y, M, D in this order, each at most once.
        let mut order = ['Y', 'M', 'D'].as_slice();
        let mut rest = date;
        while !rest.is_empty() {
            let len = rest.bytes().take_while(u8::is_ascii_digit).count();
            let (digits, tail) = rest.split_at(len);
            let mut chars = tail.chars();
            let designator = chars.next().ok_or(DurationError::Syntax)?;
            let pos = order
                .iter()
                .position(|&c| c == designator)
                .ok_or(DurationError::Syntax)?;
            order = order.get(pos + 1..).unwrap_or_default();
            let value = component(digits)?;
            match designator {
                'Y' => out.years = value,
                'M' => out.months = value,
                _ => out.days = value,
            }
            any = true;
            rest = chars.as_str();
        }
        if let Some(time) = time {
            if time.is_empty() {
                return Err(DurationError::Syntax);
            }
            let mut order = ['H', 'M', 'S'].as_slice();
            let mut rest = time;
            while !rest.is_empty() {
                let len = rest
                    .bytes()
                    .take_while(|c| c.is_ascii_digit() || *c == b'.')
                    .count();
                let (digits, tail) = rest.split_at(len);
                let mut chars = tail.chars();
                let designator = chars.next().ok_or(DurationError::Syntax)?;
                let pos = order
                    .iter()
                    .position(|&c| c == designator)
                    .ok_or(DurationError::Syntax)?;
                order = order.get(pos + 1..).unwrap_or_default();
                match designator {
                    'H' => out.hours = component(digits)?,
                    'M' => out.minutes = component(digits)?,
                    _ => {
                        let (whole, fraction) = match digits.split_once('.') {
                            Some((w, f)) => (w, Some(f)),
                            None => (digits, None),
                        };
                        out.seconds = component(whole)?;
                        if let Some(f) = fraction {
                            if f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit()) {
                                return Err(DurationError::Syntax);
                            }
                            let mut nanos = 0u32;
                            for (i, d) in f.bytes().take(9).enumerate() {
                                let scale =
                                    10u32.pow(8 - u32::try_from(i).map_err(|_| DurationError::Overflow)?);
                                nanos += u32::from(d - b'0') * scale;
                            }
                            out.nanos = nanos;
                        }
                    }
                }
                any = true;
                rest = chars.as_str();
            }
        }
        if !any {
            return Err(DurationError::Syntax);
        }
        Ok(out)
    }
}

fn component(digits: &str) -> Result<u32, DurationError> {
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(DurationError::Syntax);
    }
    digits.parse().map_err(|_| DurationError::Overflow)
}

impl CacheDuration {
    /// The instant this duration after `start` (calendar months and years); `None` when it
    /// is out of range.
    pub fn after(&self, start: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let months = u64::from(self.years) * 12 + u64::from(self.months);
        let t = start.checked_add_months(Months::new(u32::try_from(months).ok()?))?;
        let seconds = i64::from(self.days) * 86_400
            + i64::from(self.hours) * 3_600
            + i64::from(self.minutes) * 60
            + i64::from(self.seconds);
        t.checked_add_signed(Duration::try_seconds(seconds)?)?
            .checked_add_signed(Duration::nanoseconds(i64::from(self.nanos)))
    }
}

impl core::fmt::Display for CacheDuration {
    /// The canonical form: `P`, then the non-zero components (`PT0S` for zero).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("P")?;
        for (value, unit) in [(self.years, 'Y'), (self.months, 'M'), (self.days, 'D')] {
            if value > 0 {
                write!(f, "{value}{unit}")?;
            }
        }
        let time = self.hours > 0 || self.minutes > 0 || self.seconds > 0 || self.nanos > 0;
        let date = self.years > 0 || self.months > 0 || self.days > 0;
        if time || !date {
            f.write_str("T")?;
            if self.hours > 0 {
                write!(f, "{}H", self.hours)?;
            }
            if self.minutes > 0 {
                write!(f, "{}M", self.minutes)?;
            }
            if self.seconds > 0 || self.nanos > 0 || !(date || self.hours > 0 || self.minutes > 0) {
                write!(f, "{}", self.seconds)?;
                if self.nanos > 0 {
                    let fraction = format!("{:09}", self.nanos);
                    write!(f, ".{}", fraction.trim_end_matches('0'))?;
                }
                f.write_str("S")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn duration_errors_have_distinct_codes() {
        let codes = [
            DurationError::Syntax.code(),
            DurationError::Negative.code(),
            DurationError::Overflow.code(),
        ];
        assert_eq!(
            codes,
            ["duration_syntax", "duration_negative", "duration_overflow"]
        );
    }

    #[test]
    fn datetimes() {
        let parse_datetime = |t| parse_datetime(t, MissingZone::AssumeUtc);
        assert_eq!(
            parse_datetime("2026-12-06T00:00:00Z"),
            Some(utc("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            parse_datetime(" 2026-12-06T00:00:00 "),
            Some(utc("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            parse_datetime("2025-09-02T18:27:19.710Z"),
            Some(utc("2025-09-02T18:27:19.710Z"))
        );
        assert_eq!(
            parse_datetime("2026-12-06T01:30:00+01:30"),
            Some(utc("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            parse_datetime("2026-12-05T20:00:00-04:00"),
            Some(utc("2026-12-06T00:00:00Z"))
        );
        assert_eq!(
            parse_datetime("2026-12-05T24:00:00Z"),
            Some(utc("2026-12-06T00:00:00Z"))
        );
        for bad in [
            "",
            "2026-12-06",
            "2026-13-06T00:00:00Z",
            "2026-12-06 00:00:00Z",
            "2026-12-06T00:00:00.Z",
            "2026-12-06T00:00:00+1:00",
            "2026-12-06T00:00:00+15:00",
            "2026-02-30T00:00:00Z",
            "+2026-12-06T00:00:00Z",
            "2026-12-06T00:00:00Zjunk",
            "2026-12-06T25:00:00Z",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    /// The strict choice (SAML protocol times) refuses only what lacks a zone; everything
    /// else is read the same under both choices.
    #[test]
    fn a_missing_zone_is_refused_only_when_asked() {
        for text in [
            "2026-12-06T00:00:00",
            " 2026-12-06T00:00:00.5 ",
            "2026-12-05T24:00:00",
        ] {
            assert!(parse_datetime(text, MissingZone::AssumeUtc).is_some(), "{text}");
            assert_eq!(parse_datetime(text, MissingZone::Refuse), None, "{text}");
        }
        for text in [
            "2026-12-06T00:00:00Z",
            "2026-12-06T01:30:00+01:30",
            "2025-09-02T18:27:19.710Z",
        ] {
            assert_eq!(
                parse_datetime(text, MissingZone::Refuse),
                parse_datetime(text, MissingZone::AssumeUtc),
                "{text}"
            );
            assert!(parse_datetime(text, MissingZone::Refuse).is_some(), "{text}");
        }
    }

    #[test]
    fn durations() {
        let d: CacheDuration = "P1Y2M3DT4H5M6.5S".parse().unwrap();
        assert_eq!(
            d,
            CacheDuration {
                years: 1,
                months: 2,
                days: 3,
                hours: 4,
                minutes: 5,
                seconds: 6,
                nanos: 500_000_000
            }
        );
        assert_eq!(d.to_string(), "P1Y2M3DT4H5M6.5S");
        for (text, canonical) in [
            ("PT6H", "PT6H"),
            ("P1D", "P1D"),
            ("PT0S", "PT0S"),
            ("PT360M", "PT360M"),
            ("PT21600S", "PT21600S"),
            ("P0D", "PT0S"),
            ("P1M", "P1M"),
            ("PT1M", "PT1M"),
        ] {
            let d: CacheDuration = text.parse().unwrap();
            assert_eq!(d.to_string(), canonical, "{text}");
            assert_eq!(d.to_string().parse::<CacheDuration>().unwrap(), d);
        }
        for bad in [
            "", "P", "PT", "6H", "P1H", "PT1D", "P1D1Y", "P1.5D", "PT1.S", "P1Y1Y", "PTS", "P-1D",
        ] {
            assert_eq!(bad.parse::<CacheDuration>(), Err(DurationError::Syntax), "{bad}");
        }
        assert_eq!("-P1D".parse::<CacheDuration>(), Err(DurationError::Negative));
        assert_eq!(
            "P99999999999D".parse::<CacheDuration>(),
            Err(DurationError::Overflow)
        );
        let start = utc("2026-01-31T12:00:00Z");
        let d: CacheDuration = "P1M1DT1H".parse().unwrap();
        assert_eq!(d.after(start), Some(utc("2026-03-01T13:00:00Z")));
        let huge: CacheDuration = "P4000000000Y".parse().unwrap();
        assert_eq!(huge.after(start), None);
    }
}
