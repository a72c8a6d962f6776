//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).
//!
//! Interface notes for the other half of the crate: the names below are stable. Changes since
//! first publication: none.
//!
//! * [`Filter::parse`] / [`parse_filter`] turn filter text into a typed AST; its `Display`
//!   round-trips (`parse(display(f)) == f`).
//! * [`parse_path`] parses a PATCH `path` into a [`PatchPath`].
//! * [`Filter::matches`] evaluates against a resource (`serde_json::Value`) using the
//!   [`SchemaRegistry`](crate::schema::SchemaRegistry); [`Filter::compile`] binds the filter to the schema once for scans;
//!   [`Filter::matches_element`] evaluates a value filter (the inside of `emails[...]`)
//!   against one element of a multi-valued complex attribute.
//! * [`Visitor`] / [`Filter::accept`] let a store translate a filter into its own query
//!   language.
//!
//! ```
//! use fedkit_scim::filter::{Filter, EvalContext};
//! use fedkit_scim::schema::SchemaRegistry;
//! use serde_json::json;
//!
//! let f = Filter::parse(r#"emails[type eq "work" and value ew "@example.com"] and active eq true"#).unwrap();
//! let registry = SchemaRegistry::core();
//! let ctx = EvalContext::new(&registry, "User");
//! let user = json!({
//!     "userName": "bjensen",
//!     "active": true,
//!     "emails": [{"type": "work", "value": "BJensen@Example.com"}]
//! });
//! assert!(f.matches(&user, &ctx).unwrap());
//! assert_eq!(f.to_string(), r#"emails[type eq "work" and value ew "@example.com"] and active eq true"#);
//! ```

mod ast;
mod eval;
mod parse;
mod visit;

pub use ast::{AttrPath, CompValue, CompareOp, Filter, PatchPath};
pub use eval::{is_present, CompiledFilter, EvalContext};
pub use parse::{parse_filter, parse_path, parse_path_with_limits};
pub use visit::Visitor;

use std::fmt;

use crate::settings::SettingsError;

/// Resource limits for filter and path parsing. Exceeding one is a
/// [`FilterErrorKind::TooLong`] or [`FilterErrorKind::TooDeep`] error.
///
/// ```
/// use fedkit_scim::filter::FilterLimits;
/// let limits = FilterLimits::default().with_max_depth(FilterLimits::MAX_DEPTH)?;
/// assert_eq!(limits.max_depth(), 64);
/// assert!(FilterLimits::default().with_max_depth(65).is_err());
/// # Ok::<(), fedkit_scim::settings::SettingsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterLimits {
    max_length: usize,
    max_depth: usize,
    max_terms: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        Self {
            max_length: 4096,
            max_depth: 16,
            max_terms: 128,
        }
    }
}

impl FilterLimits {
    /// The deepest nesting [`FilterLimits::with_max_depth`] accepts: parsing and evaluation
    /// recurse once per level, and a deeper limit could exhaust a thread's stack.
    pub const MAX_DEPTH: usize = 64;

    /// Sets the maximum filter length in bytes. Default 4096. At least 1.
    pub fn with_max_length(mut self, max_length: usize) -> Result<Self, SettingsError> {
        self.max_length = crate::settings::positive("FilterLimits::max_length", max_length)?;
        Ok(self)
    }

    /// Sets the maximum nesting depth of `( )`, `not ( )` and `[ ]` together. Default 16.
    /// Between 1 and [`FilterLimits::MAX_DEPTH`].
    pub fn with_max_depth(mut self, max_depth: usize) -> Result<Self, SettingsError> {
        self.max_depth = crate::settings::in_range("FilterLimits::max_depth", max_depth, 1, Self::MAX_DEPTH)?;
        Ok(self)
    }

    /// Sets the maximum number of attribute expressions (comparisons and `pr`). Default
    /// 128. At least 1.
    pub fn with_max_terms(mut self, max_terms: usize) -> Result<Self, SettingsError> {
        self.max_terms = crate::settings::positive("FilterLimits::max_terms", max_terms)?;
        Ok(self)
    }

    /// See [`FilterLimits::with_max_length`].
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// See [`FilterLimits::with_max_depth`].
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// See [`FilterLimits::with_max_terms`].
    pub fn max_terms(&self) -> usize {
        self.max_terms
    }
}

/// A filter or path that could not be parsed or evaluated. A SCIM service answers it with
/// status 400 and `scimType` [`FilterError::SCIM_TYPE`] (`invalidFilter`), or `invalidPath`
/// for PATCH paths.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", position.map(|p| format!("invalid filter at byte {p}: ")).unwrap_or_else(|| "invalid filter: ".to_owned()))]
pub struct FilterError {
    /// What is wrong.
    pub kind: FilterErrorKind,
    /// Byte offset in the filter text where the problem was found; `None` for errors found
    /// while evaluating against the schema.
    pub position: Option<usize>,
}

impl FilterError {
    /// A stable `snake_case` code for logs and metrics: its kind's ([`FilterErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The SCIM `scimType` for filter errors (RFC 7644 §3.12).
    pub const SCIM_TYPE: &'static str = "invalidFilter";

    pub(crate) fn at(position: usize, kind: FilterErrorKind) -> Self {
        Self {
            kind,
            position: Some(position),
        }
    }

    pub(crate) fn schema(kind: FilterErrorKind) -> Self {
        Self { kind, position: None }
    }
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterErrorKind {
    /// The filter is longer than [`FilterLimits::max_length`].
    #[error("the filter is {actual} bytes long; the limit is {max}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The filter's length.
        actual: usize,
    },
    /// Parentheses, `not` and `[ ]` are nested deeper than [`FilterLimits::max_depth`].
    #[error("groupings are nested deeper than the limit of {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More attribute expressions than [`FilterLimits::max_terms`].
    #[error("the filter has more than {max} attribute expressions")]
    TooManyTerms {
        /// The limit.
        max: usize,
    },
    /// Something else was expected at this position.
    #[error("expected {expected}, found {found}")]
    Unexpected {
        /// What the grammar allows here.
        expected: &'static str,
        /// What arrived (quoted text, or "the end of the filter").
        found: String,
    },
    /// A malformed attribute path.
    #[error("{path:?} is not a valid attribute path: {reason}")]
    InvalidAttributePath {
        /// The path text.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A malformed JSON string literal.
    #[error("invalid string literal: {reason}")]
    InvalidString {
        /// What is wrong.
        reason: &'static str,
    },
    /// A malformed or out-of-range JSON number.
    #[error("{text:?} is not a valid JSON number")]
    InvalidNumber {
        /// The number text.
        text: String,
    },
    /// `[ ]` inside `[ ]`, which RFC 7644 does not allow.
    #[error("a value filter [ ] cannot contain another value filter")]
    NestedValuePath,
    /// The operator cannot be applied to this attribute's type (e.g. `gt` on a boolean).
    #[error("operator {op} cannot be used on {attribute} (type {attr_type}); {hint}")]
    OperatorNotAllowed {
        /// The attribute path as written.
        attribute: String,
        /// The operator.
        op: CompareOp,
        /// The attribute's type name.
        attr_type: &'static str,
        /// What can be used instead.
        hint: &'static str,
    },
    /// The literal does not fit the attribute's type (e.g. a number for `userName`).
    #[error("{attribute} is of type {attr_type} but was compared with {value}; {hint}")]
    ValueTypeMismatch {
        /// The attribute path as written.
        attribute: String,
        /// The attribute's type name.
        attr_type: &'static str,
        /// The literal as written.
        value: String,
        /// What value is expected.
        hint: &'static str,
    },
    /// A comparison on a complex attribute without a sub-attribute.
    #[error(
        "{attribute} is a complex attribute; compare one of its sub-attributes, e.g. {attribute}.{example}"
    )]
    ComplexComparison {
        /// The attribute path as written.
        attribute: String,
        /// A sub-attribute name to suggest.
        example: String,
    },
    /// The evaluation context names a resource type the registry does not know.
    #[error(
        "resource type {name:?} is not registered in the schema registry (use its name, e.g. User or Group)"
    )]
    UnknownResourceType {
        /// The name given.
        name: String,
    },
    /// `attr[ ... ]` on an attribute that is not complex.
    #[error("{attribute} is not a complex attribute, so it cannot take a value filter [ ]")]
    ValueFilterOnSimpleAttribute {
        /// The attribute path as written.
        attribute: String,
    },
}

impl FilterErrorKind {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            FilterErrorKind::TooLong { .. } => "too_long",
            FilterErrorKind::TooDeep { .. } => "too_deep",
            FilterErrorKind::TooManyTerms { .. } => "too_many_terms",
            FilterErrorKind::Unexpected { .. } => "filter_syntax",
            FilterErrorKind::InvalidAttributePath { .. } => "invalid_attribute_path",
            FilterErrorKind::InvalidString { .. } => "invalid_string",
            FilterErrorKind::InvalidNumber { .. } => "invalid_number",
            FilterErrorKind::NestedValuePath => "nested_value_path",
            FilterErrorKind::OperatorNotAllowed { .. } => "operator_not_allowed",
            FilterErrorKind::ValueTypeMismatch { .. } => "value_type_mismatch",
            FilterErrorKind::ComplexComparison { .. } => "complex_comparison",
            FilterErrorKind::UnknownResourceType { .. } => "unknown_resource_type",
            FilterErrorKind::ValueFilterOnSimpleAttribute { .. } => "value_filter_on_simple_attribute",
        }
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Filter {
    /// Parses a filter with the default [`FilterLimits`].
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        parse_filter(text, &FilterLimits::default())
    }
}
