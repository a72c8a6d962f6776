//! Query results: sorting (RFC 7644 §3.4.2.3), pagination (§3.4.2.4), `ListResponse`
//! (§3.4.2) and `SearchRequest` (§3.4.3, and the same parameters in a GET query string).
//!
//! [`SearchRequest::execute`] is a complete in-memory reference: filter, sort, paginate,
//! project. A store that queries a database uses the pieces ([`SearchRequest`]'s fields, the
//! filter [`Visitor`](crate::filter::Visitor), [`sort_resources`], [`Pagination`],
//! [`ListResponse`]).
//!
//! ```
//! use fedkit_scim::list::{ListLimits, SearchRequest};
//! use fedkit_scim::resource::ResourceSchema;
//! use fedkit_scim::schema::SchemaRegistry;
//! use serde_json::json;
//!
//! let registry = SchemaRegistry::core();
//! let users = ResourceSchema::new(&registry, "User").unwrap();
//! let stored = vec![
//!     json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": "carol", "active": true}),
//!     json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "2", "userName": "Alice", "active": true}),
//!     json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "3", "userName": "bob", "active": false}),
//! ];
//! let req = SearchRequest::from_query([
//!     ("filter", "active eq true"), ("sortBy", "userName"), ("attributes", "userName"),
//! ]).unwrap();
//! let page = req.execute(&stored, &users, &registry, &ListLimits::default()).unwrap();
//! let doc = page.to_json();
//! assert_eq!(doc["totalResults"], 2);
//! assert_eq!(doc["Resources"][0]["userName"], "Alice"); // case-insensitive order
//! assert!(doc["Resources"][0].get("active").is_none()); // projected away
//! ```

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{json, Value};

use crate::error::{ScimError, ScimType};
use crate::filter::{parse_filter, AttrPath, EvalContext, Filter, FilterError, FilterLimits};
use crate::projection::{Projection, ProjectionError};
use crate::resource::{get_attr, ResourceSchema};
use crate::schema::{AttributeDef, AttributeType, SchemaRegistry};
use crate::settings::SettingsError;

mod window;
pub use window::PageWindow;

/// URN of the ListResponse message.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// URN of the SearchRequest message.
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// Sort direction (RFC 7644 §3.4.2.3); ascending when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SortOrder {
    /// A to Z, low to high.
    #[default]
    Ascending,
    /// Z to A, high to low.
    Descending,
}

impl SortOrder {
    /// Parses `ascending` / `descending` (case-insensitive).
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("ascending") {
            Some(Self::Ascending)
        } else if text.eq_ignore_ascii_case("descending") {
            Some(Self::Descending)
        } else {
            None
        }
    }

    /// The parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ascending => "ascending",
            Self::Descending => "descending",
        }
    }
}

/// `sortBy` and `sortOrder`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortSpec {
    /// The attribute to sort by.
    pub by: AttrPath,
    /// The direction.
    pub order: SortOrder,
}

#[derive(Debug, Clone, PartialEq)]
enum Key {
    Bool(bool),
    Num(f64),
    Time(DateTime<FixedOffset>),
    Str(String),
}

impl Key {
    fn rank(&self) -> u8 {
        match self {
            Key::Bool(_) => 0,
            Key::Num(_) => 1,
            Key::Time(_) => 2,
            Key::Str(_) => 3,
        }
    }

    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Bool(a), Key::Bool(b)) => a.cmp(b),
            (Key::Num(a), Key::Num(b)) => a.total_cmp(b),
            (Key::Time(a), Key::Time(b)) => a.cmp(b),
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// Where a sort path points: the extension URN (if any), the attribute, the leaf definition
/// and the leaf's name inside a complex value.
struct SortTarget<'r> {
    ext: Option<&'r str>,
    attr: &'r AttributeDef,
    leaf: &'r AttributeDef,
    sub: Option<&'r str>,
}

fn resolve_sort<'r>(schema: &ResourceSchema<'r>, path: &AttrPath) -> Option<SortTarget<'r>> {
    let core = schema.core_schema();
    let (ext, attr) = match &path.urn {
        Some(urn) if urn.eq_ignore_ascii_case(&core.id) => (None, schema.core_attribute(&path.name)?),
        Some(urn) => {
            let s = schema.extension_schema(urn)?;
            (Some(s.id.as_str()), s.attribute(&path.name)?)
        }
        None => match schema.core_attribute(&path.name) {
            Some(a) => (None, a),
            None => schema
                .extension_schemas()
                .find_map(|(s, _)| s.attribute(&path.name).map(|a| (Some(s.id.as_str()), a)))?,
        },
    };
    let (leaf, sub) = match &path.sub_attr {
        Some(name) => {
            let d = attr.find_sub_attribute(name)?;
            (d, Some(d.name.as_str()))
        }
        // `sortBy=emails` sorts by the (primary) email's value.
        None if attr.attr_type == AttributeType::Complex => {
            let d = attr.find_sub_attribute("value")?;
            (d, Some(d.name.as_str()))
        }
        None => (attr, None),
    };
    Some(SortTarget { ext, attr, leaf, sub })
}

fn sort_key(t: &SortTarget<'_>, resource: &Value) -> Option<Key> {
    let obj = resource.as_object()?;
    let container = match t.ext {
        Some(urn) => get_attr(obj, urn)?.as_object()?,
        None => obj,
    };
    let v = get_attr(container, &t.attr.name)?;
    // Multi-valued: the primary value, or else the first (RFC 7644 §3.4.2.3).
    let v = match v {
        Value::Array(items) => items
            .iter()
            .find(|e| e.as_object().and_then(|o| get_attr(o, "primary")) == Some(&Value::Bool(true)))
            .or_else(|| items.iter().find(|e| !e.is_null()))?,
        other => other,
    };
    let leaf = match t.sub {
        Some(sub) => get_attr(v.as_object()?, sub)?,
        None => v,
    };
    match (t.leaf.attr_type, leaf) {
        (_, Value::Bool(b)) => Some(Key::Bool(*b)),
        (_, Value::Number(n)) => n.as_f64().map(Key::Num),
        (AttributeType::DateTime, Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(Key::Time)
            .or_else(|| Some(Key::Str(s.clone()))),
        (_, Value::String(s)) if s.is_empty() => None,
        (_, Value::String(s)) => Some(Key::Str(if t.leaf.case_exact {
            s.clone()
        } else {
            s.to_lowercase()
        })),
        _ => None,
    }
}

/// Sorts resources of `schema`'s type in place: strings case-insensitively unless the
/// attribute is `caseExact`, numbers numerically, dateTimes chronologically, multi-valued
/// attributes by their primary value (or else the first), complex attributes without a
/// sub-attribute by their `value`. Resources without a value sort **last** in both
/// directions. The sort is stable; an attribute no schema defines leaves the order unchanged.
pub fn sort_resources(resources: &mut [Value], sort: &SortSpec, schema: &ResourceSchema<'_>) {
    let Some(target) = resolve_sort(schema, &sort.by) else {
        return;
    };
    let mut keyed: Vec<(Option<Key>, Value)> = resources
        .iter_mut()
        .map(|r| (sort_key(&target, r), std::mem::take(r)))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| match (a, b) {
        (Some(x), Some(y)) => match sort.order {
            SortOrder::Ascending => x.cmp(y),
            SortOrder::Descending => y.cmp(x),
        },
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    for (slot, (_, v)) in resources.iter_mut().zip(keyed) {
        *slot = v;
    }
}

/// Server-side paging limits. Both are at least 1 and the default page size is never above
/// the maximum, whatever the order of the setters.
///
/// ```
/// use fedkit_scim::list::ListLimits;
/// let limits = ListLimits::default().with_max_results(50)?.with_default_count(20)?;
/// assert_eq!((limits.max_results(), limits.default_count()), (50, 20));
/// assert!(limits.with_default_count(51).is_err());
/// # Ok::<(), fedkit_scim::settings::SettingsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListLimits {
    max_results: usize,
    default_count: usize,
}

impl Default for ListLimits {
    fn default() -> Self {
        Self {
            max_results: 200,
            default_count: 100,
        }
    }
}

impl ListLimits {
    /// Sets the most resources one page returns (advertise it as `filter.maxResults`).
    /// Default 200. At least 1 (0 would make every page empty); a default page size above
    /// the new maximum is lowered to it.
    pub fn with_max_results(mut self, max: usize) -> Result<Self, SettingsError> {
        self.max_results = crate::settings::positive("ListLimits::max_results", max)?;
        self.default_count = self.default_count.min(self.max_results);
        Ok(self)
    }

    /// Sets the page size when the client gives no `count`. Default 100. Between 1 and
    /// [`ListLimits::max_results`].
    pub fn with_default_count(mut self, count: usize) -> Result<Self, SettingsError> {
        self.default_count =
            crate::settings::in_range("ListLimits::default_count", count, 1, self.max_results)?;
        Ok(self)
    }

    /// See [`ListLimits::with_max_results`].
    pub fn max_results(&self) -> usize {
        self.max_results
    }

    /// See [`ListLimits::with_default_count`].
    pub fn default_count(&self) -> usize {
        self.default_count
    }
}

/// A page of results after clamping (RFC 7644 §3.4.2.4): `startIndex` below 1 means 1, a
/// negative `count` means 0, a `count` above [`ListLimits::max_results`] means the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// 1-based index of the first result.
    pub start_index: usize,
    /// The page size.
    pub count: usize,
}

impl Pagination {
    /// Clamps the client's `startIndex` and `count`.
    pub fn new(start_index: Option<i64>, count: Option<i64>, limits: &ListLimits) -> Self {
        let start_index = start_index.map_or(1, |s| usize::try_from(s.max(1)).unwrap_or(usize::MAX));
        let count = match count {
            None => limits.default_count.min(limits.max_results),
            Some(c) => usize::try_from(c.max(0))
                .unwrap_or(usize::MAX)
                .min(limits.max_results),
        };
        Self { start_index, count }
    }

    /// The 0-based range of a result list of `total` items this page covers.
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        let start = self.start_index.saturating_sub(1).min(total);
        let end = start.saturating_add(self.count).min(total);
        start..end
    }
}

/// A `ListResponse` (RFC 7644 §3.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListResponse {
    /// Results matching the query, across all pages.
    pub total_results: usize,
    /// 1-based index of the first resource of this page.
    pub start_index: usize,
    /// The resources of this page.
    pub resources: Vec<Value>,
}

impl ListResponse {
    /// A list response. `itemsPerPage` is the number of resources.
    pub fn new(total_results: usize, start_index: usize, resources: Vec<Value>) -> Self {
        Self {
            total_results,
            start_index,
            resources,
        }
    }

    /// The JSON document. `Resources` is always present (empty when there are none).
    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [LIST_RESPONSE_SCHEMA],
            "totalResults": self.total_results,
            "itemsPerPage": self.resources.len(),
            "startIndex": self.start_index,
            "Resources": self.resources,
        })
    }
}

/// Why a search request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The filter does not parse or does not fit the schema (`invalidFilter`).
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// `attributes` / `excludedAttributes` (`invalidValue`).
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    /// A parameter with a value of the wrong form (`invalidValue`).
    #[error("{parameter} is {value:?}; expected {expected}")]
    InvalidParameter {
        /// The parameter.
        parameter: &'static str,
        /// The value as received (shortened).
        value: String,
        /// What is expected.
        expected: &'static str,
    },
    /// A POST body that is not a SearchRequest (`invalidSyntax`).
    #[error("the body must be a JSON object with \"schemas\": [\"{SEARCH_REQUEST_SCHEMA}\"]")]
    NotASearchRequest,
}

impl SearchError {
    /// A stable `snake_case` code for logs and metrics (beside the RFC 7644 `scimType` the
    /// SCIM answer carries): one code per condition, the same in every fedkit crate.
    pub fn code(&self) -> &'static str {
        match self {
            SearchError::Filter(e) => e.code(),
            SearchError::Projection(e) => e.code(),
            SearchError::InvalidParameter { .. } => "invalid_parameter",
            SearchError::NotASearchRequest => "not_a_search_request",
        }
    }
}

impl From<SearchError> for ScimError {
    fn from(err: SearchError) -> Self {
        match err {
            SearchError::Filter(f) => f.into(),
            SearchError::Projection(p) => p.into(),
            SearchError::NotASearchRequest => {
                ScimError::bad_request(ScimType::InvalidSyntax, err.to_string())
            }
            SearchError::InvalidParameter { .. } => {
                ScimError::bad_request(ScimType::InvalidValue, err.to_string())
            }
        }
    }
}

/// A query: `GET /Users?filter=…` or `POST /Users/.search` (RFC 7644 §3.4.2, §3.4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The filter.
    pub filter: Option<Filter>,
    /// `attributes` / `excludedAttributes`.
    pub projection: Projection,
    /// `sortBy` / `sortOrder`.
    pub sort: Option<SortSpec>,
    /// `startIndex` as received (clamped by [`Pagination`]).
    pub start_index: Option<i64>,
    /// `count` as received (clamped by [`Pagination`]).
    pub count: Option<i64>,
}

fn shorten(s: &str) -> String {
    s.chars().take(64).collect()
}

#[derive(Default)]
struct Raw<'a> {
    filter: Option<&'a str>,
    attributes: Vec<&'a str>,
    excluded: Vec<&'a str>,
    sort_by: Option<&'a str>,
    sort_order: Option<&'a str>,
    start_index: Option<i64>,
    count: Option<i64>,
}

fn int_param(parameter: &'static str, text: &str) -> Result<i64, SearchError> {
    text.trim().parse().map_err(|_| SearchError::InvalidParameter {
        parameter,
        value: shorten(text),
        expected: "an integer",
    })
}

impl Raw<'_> {
    fn finish(self, limits: &FilterLimits) -> Result<SearchRequest, SearchError> {
        let filter = match self.filter {
            Some(f) if !f.trim().is_empty() => Some(parse_filter(f, limits)?),
            _ => None,
        };
        let projection = Projection::from_lists(&self.attributes, &self.excluded)?;
        let order = match self.sort_order {
            None => SortOrder::Ascending,
            Some(o) => SortOrder::parse(o.trim()).ok_or_else(|| SearchError::InvalidParameter {
                parameter: "sortOrder",
                value: shorten(o),
                expected: "ascending or descending",
            })?,
        };
        let sort = match self.sort_by {
            Some(by) if !by.trim().is_empty() => Some(SortSpec {
                by: AttrPath::parse(by.trim()).map_err(|_| SearchError::InvalidParameter {
                    parameter: "sortBy",
                    value: shorten(by),
                    expected: "an attribute name such as userName or name.familyName",
                })?,
                order,
            }),
            _ => None,
        };
        Ok(SearchRequest {
            filter,
            projection,
            sort,
            start_index: self.start_index,
            count: self.count,
        })
    }
}

impl SearchRequest {
    /// From query parameters (names case-insensitive, values already URL-decoded; unknown
    /// parameters ignored), with the default [`FilterLimits`].
    pub fn from_query<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, SearchError> {
        Self::from_query_with_limits(params, &FilterLimits::default())
    }

    /// From query parameters under `limits`.
    pub fn from_query_with_limits<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
        limits: &FilterLimits,
    ) -> Result<Self, SearchError> {
        let mut raw = Raw::default();
        for (k, v) in params {
            match k.to_ascii_lowercase().as_str() {
                "filter" => raw.filter = Some(v),
                "attributes" => raw.attributes.extend(v.split(',')),
                "excludedattributes" => raw.excluded.extend(v.split(',')),
                "sortby" => raw.sort_by = Some(v),
                "sortorder" => raw.sort_order = Some(v),
                "startindex" => raw.start_index = Some(int_param("startIndex", v)?),
                "count" => raw.count = Some(int_param("count", v)?),
                _ => {}
            }
        }
        raw.finish(limits)
    }

    /// From a `POST …/.search` body (RFC 7644 §3.4.3), which must list the SearchRequest
    /// schema. Member names are case-insensitive.
    pub fn from_json(body: &Value, limits: &FilterLimits) -> Result<Self, SearchError> {
        let obj = body.as_object().ok_or(SearchError::NotASearchRequest)?;
        let listed = get_attr(obj, "schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter().any(|u| {
                    u.as_str()
                        .is_some_and(|u| u.eq_ignore_ascii_case(SEARCH_REQUEST_SCHEMA))
                })
            });
        if !listed {
            return Err(SearchError::NotASearchRequest);
        }
        let text = |parameter: &'static str| -> Result<Option<&str>, SearchError> {
            match get_attr(obj, parameter) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(other) => Err(SearchError::InvalidParameter {
                    parameter,
                    value: shorten(&other.to_string()),
                    expected: "a string",
                }),
            }
        };
        let list = |parameter: &'static str| -> Result<Vec<&str>, SearchError> {
            match get_attr(obj, parameter) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str().ok_or_else(|| SearchError::InvalidParameter {
                            parameter,
                            value: shorten(&i.to_string()),
                            expected: "an array of attribute names",
                        })
                    })
                    .collect(),
                // Tolerated: a comma-separated string, as in the query form.
                Some(Value::String(s)) => Ok(s.split(',').collect()),
                Some(other) => Err(SearchError::InvalidParameter {
                    parameter,
                    value: shorten(&other.to_string()),
                    expected: "an array of attribute names",
                }),
            }
        };
        let int = |parameter: &'static str| -> Result<Option<i64>, SearchError> {
            match get_attr(obj, parameter) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| SearchError::InvalidParameter {
                    parameter,
                    value: n.to_string(),
                    expected: "an integer",
                }),
                Some(Value::String(s)) => int_param(parameter, s).map(Some),
                Some(other) => Err(SearchError::InvalidParameter {
                    parameter,
                    value: shorten(&other.to_string()),
                    expected: "an integer",
                }),
            }
        };
        Raw {
            filter: text("filter")?,
            attributes: list("attributes")?,
            excluded: list("excludedAttributes")?,
            sort_by: text("sortBy")?,
            sort_order: text("sortOrder")?,
            start_index: int("startIndex")?,
            count: int("count")?,
        }
        .finish(limits)
    }

    /// The clamped page.
    pub fn pagination(&self, limits: &ListLimits) -> Pagination {
        Pagination::new(self.start_index, self.count, limits)
    }

    /// Runs the query over in-memory resources of `schema`'s type: filter (schema-aware),
    /// sort, paginate, project. Fails only when the filter does not fit the schema
    /// (`invalidFilter`).
    pub fn execute(
        &self,
        resources: &[Value],
        schema: &ResourceSchema<'_>,
        registry: &SchemaRegistry,
        limits: &ListLimits,
    ) -> Result<ListResponse, SearchError> {
        let mut matching: Vec<Value> = match &self.filter {
            Some(f) => {
                let ctx = EvalContext::new(registry, &schema.resource_type().name);
                let compiled = f.compile(&ctx)?;
                resources
                    .iter()
                    .filter(|r| compiled.matches(r))
                    .cloned()
                    .collect()
            }
            None => resources.to_vec(),
        };
        if let Some(sort) = &self.sort {
            sort_resources(&mut matching, sort, schema);
        }
        let page = self.pagination(limits);
        let total = matching.len();
        let range = page.range(total);
        let items = matching
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(|r| self.projection.apply(r, schema))
            .collect();
        Ok(ListResponse::new(total, page.start_index, items))
    }
}
