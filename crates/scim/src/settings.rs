//! The error of the validating setters of the limit and option types ([`ListLimits`],
//! [`BulkLimits`], [`FilterLimits`], [`ResourceLimits`], [`PatchLimits`]): a value the
//! library could not work with is refused when it is set, so no setting makes a later
//! request misbehave or panic.
//!
//! [`ListLimits`]: crate::list::ListLimits
//! [`BulkLimits`]: crate::bulk::BulkLimits
//! [`FilterLimits`]: crate::filter::FilterLimits
//! [`ResourceLimits`]: crate::resource::ResourceLimits
//! [`PatchLimits`]: crate::patch::PatchLimits
//!
//! ```
//! use fedkit_scim::list::ListLimits;
//! let err = ListLimits::default().with_max_results(0).unwrap_err();
//! assert_eq!(err.code(), "out_of_range");
//! assert!(err.to_string().contains("max_results"));
//! ```

/// A setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A numeric setting is outside the range the library works with.
    #[error(
        "the setting {field} was set to {value}, but it must be between {min} and {max}: \
         choose a value in that range"
    )]
    OutOfRange {
        /// The setting, as its setter names it (e.g. `ListLimits::max_results`).
        field: &'static str,
        /// The value that was refused.
        value: usize,
        /// The smallest accepted value.
        min: usize,
        /// The largest accepted value.
        max: usize,
    },
}

impl SettingsError {
    /// `value` for the setting `field` when it lies in `min..=max`, [`SettingsError::OutOfRange`]
    /// otherwise: the one range check of the SCIM settings, also for settings built on them
    /// (fedkit-scim-service's `ScimSettings`).
    ///
    /// ```
    /// use fedkit_scim::settings::SettingsError;
    /// assert_eq!(SettingsError::check_range("count", 5, 1, 10), Ok(5));
    /// assert_eq!(SettingsError::check_range("count", 0, 1, 10).unwrap_err().code(), "out_of_range");
    /// ```
    pub fn check_range(field: &'static str, value: usize, min: usize, max: usize) -> Result<usize, Self> {
        if (min..=max).contains(&value) {
            Ok(value)
        } else {
            Err(SettingsError::OutOfRange {
                field,
                value,
                min,
                max,
            })
        }
    }

    /// A stable `snake_case` code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::OutOfRange { .. } => "out_of_range",
        }
    }
}

/// `value` when it lies in `min..=max`, [`SettingsError::OutOfRange`] otherwise.
pub(crate) fn in_range(
    field: &'static str,
    value: usize,
    min: usize,
    max: usize,
) -> Result<usize, SettingsError> {
    SettingsError::check_range(field, value, min, max)
}

/// `value` when it is at least 1.
pub(crate) fn positive(field: &'static str, value: usize) -> Result<usize, SettingsError> {
    in_range(field, value, 1, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::SettingsError;
    use crate::bulk::BulkLimits;
    use crate::filter::FilterLimits;
    use crate::list::ListLimits;
    use crate::patch::PatchLimits;
    use crate::resource::ResourceLimits;

    /// `result` is the refusal of `value` for `field` outside `min..=max`.
    fn refused<T: std::fmt::Debug>(
        result: Result<T, SettingsError>,
        field: &str,
        value: usize,
        min: usize,
        max: usize,
    ) {
        let Err(error) = result else {
            panic!("{field} = {value} was accepted");
        };
        assert_eq!(error.code(), "out_of_range");
        let SettingsError::OutOfRange {
            field: named,
            value: got,
            min: low,
            max: high,
        } = &error;
        assert_eq!((*named, *got, *low, *high), (field, value, min, max));
        let text = error.to_string();
        assert!(text.contains(field), "{text}");
        assert!(text.contains(&value.to_string()), "{text}");
    }

    #[test]
    fn list_max_results_is_at_least_one_and_lowers_the_default_count() {
        let limits = ListLimits::default().with_max_results(1).unwrap();
        assert_eq!((limits.max_results(), limits.default_count()), (1, 1));
        refused(
            ListLimits::default().with_max_results(0),
            "ListLimits::max_results",
            0,
            1,
            usize::MAX,
        );
        let big = ListLimits::default().with_max_results(usize::MAX).unwrap();
        assert_eq!((big.max_results(), big.default_count()), (usize::MAX, 100));
    }

    #[test]
    fn list_default_count_lies_between_one_and_max_results() {
        let limits = ListLimits::default().with_max_results(50).unwrap();
        assert_eq!(limits.with_default_count(50).unwrap().default_count(), 50);
        assert_eq!(limits.with_default_count(1).unwrap().default_count(), 1);
        refused(
            limits.with_default_count(51),
            "ListLimits::default_count",
            51,
            1,
            50,
        );
        refused(
            limits.with_default_count(0),
            "ListLimits::default_count",
            0,
            1,
            50,
        );
    }

    #[test]
    fn bulk_limits_are_at_least_one() {
        assert_eq!(
            BulkLimits::default()
                .with_max_operations(1)
                .unwrap()
                .max_operations(),
            1
        );
        assert_eq!(
            BulkLimits::default()
                .with_max_payload_size(1)
                .unwrap()
                .max_payload_size(),
            1
        );
        refused(
            BulkLimits::default().with_max_operations(0),
            "BulkLimits::max_operations",
            0,
            1,
            usize::MAX,
        );
        refused(
            BulkLimits::default().with_max_payload_size(0),
            "BulkLimits::max_payload_size",
            0,
            1,
            usize::MAX,
        );
    }

    #[test]
    fn filter_limits_are_at_least_one_and_the_depth_is_capped() {
        let limits = FilterLimits::default();
        assert_eq!(limits.with_max_length(1).unwrap().max_length(), 1);
        assert_eq!(limits.with_max_terms(1).unwrap().max_terms(), 1);
        assert_eq!(limits.with_max_depth(1).unwrap().max_depth(), 1);
        assert_eq!(
            limits
                .with_max_depth(FilterLimits::MAX_DEPTH)
                .unwrap()
                .max_depth(),
            FilterLimits::MAX_DEPTH
        );
        refused(
            limits.with_max_length(0),
            "FilterLimits::max_length",
            0,
            1,
            usize::MAX,
        );
        refused(
            limits.with_max_terms(0),
            "FilterLimits::max_terms",
            0,
            1,
            usize::MAX,
        );
        refused(
            limits.with_max_depth(0),
            "FilterLimits::max_depth",
            0,
            1,
            FilterLimits::MAX_DEPTH,
        );
        refused(
            limits.with_max_depth(FilterLimits::MAX_DEPTH + 1),
            "FilterLimits::max_depth",
            FilterLimits::MAX_DEPTH + 1,
            1,
            FilterLimits::MAX_DEPTH,
        );
    }

    #[test]
    fn resource_limits_are_at_least_one() {
        assert_eq!(
            ResourceLimits::default().with_max_bytes(1).unwrap().max_bytes(),
            1
        );
        assert_eq!(
            ResourceLimits::default().with_max_values(1).unwrap().max_values(),
            1
        );
        refused(
            ResourceLimits::default().with_max_bytes(0),
            "ResourceLimits::max_bytes",
            0,
            1,
            usize::MAX,
        );
        refused(
            ResourceLimits::default().with_max_values(0),
            "ResourceLimits::max_values",
            0,
            1,
            usize::MAX,
        );
    }

    #[test]
    fn patch_limits_are_at_least_one() {
        assert_eq!(
            PatchLimits::default()
                .with_max_operations(1)
                .unwrap()
                .max_operations(),
            1
        );
        assert_eq!(
            PatchLimits::default()
                .with_max_request_bytes(1)
                .unwrap()
                .max_request_bytes(),
            1
        );
        refused(
            PatchLimits::default().with_max_operations(0),
            "PatchLimits::max_operations",
            0,
            1,
            usize::MAX,
        );
        refused(
            PatchLimits::default().with_max_request_bytes(0),
            "PatchLimits::max_request_bytes",
            0,
            1,
            usize::MAX,
        );
    }
}
