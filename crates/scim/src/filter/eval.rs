//! Schema-aware evaluation of filters over `serde_json::Value` resources.
//!
//! A filter is first *compiled* against the schema: attribute paths are resolved, literals are
//! checked against the attribute's type (a number for `userName`, `gt` on a boolean, a
//! malformed dateTime are refused with [`FilterError`]) and prepared (dateTime parsed). The
//! compiled filter is then applied to any number of resources without further lookups in the
//! registry. Semantics:
//!
//! * strings compare case-insensitively unless the attribute is `caseExact`; `gt`/`ge`/`lt`/
//!   `le` on strings are lexicographic (on the lowercased text when not caseExact);
//! * `dateTime` values compare chronologically, so `2011-05-13T04:42:34Z` equals
//!   `2011-05-13T06:42:34+02:00`; a stored value that is not a valid dateTime matches nothing;
//! * integers and decimals compare numerically (`1` equals `1.0`);
//! * booleans accept `eq`/`ne` only (stored `"true"`/`"False"` strings are read as booleans);
//! * multi-valued attributes match when **any** value matches; `emails[type eq "work" and
//!   value co "@x"]` requires both conditions to hold for the **same** element;
//! * `emails eq "x"` / `emails co "x"` on a multi-valued complex attribute compare its
//!   `value` sub-attribute;
//! * `pr`: `null`, `""`, `[]` and `{}` (and arrays/objects holding only such values) are not
//!   present;
//! * `ne` is the negation of `eq`: an absent attribute matches `title ne "x"`;
//!   `eq null` matches an absent attribute and `ne null` a present one;
//! * an attribute the schema does not define matches nothing (so `not (unknown eq "x")`
//!   matches everything): clients such as Entra ID probe with filters on attributes a
//!   service provider may not support, and an empty result is the safe answer.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Number, Value};

use crate::resource::get_attr;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::{FilterError, FilterErrorKind as K};
use crate::schema::{AttributeDef, AttributeType, SchemaRegistry};

/// What a filter is evaluated against: the registry and the resource type (e.g. `User`).
#[derive(Debug, Clone, Copy)]
pub struct EvalContext<'r> {
    /// The schemas.
    pub registry: &'r SchemaRegistry,
    /// The resource type's name, e.g. `User` or `Group`.
    pub resource_type: &'r str,
}

impl<'r> EvalContext<'r> {
    /// A context for resources of `resource_type`.
    pub fn new(registry: &'r SchemaRegistry, resource_type: &'r str) -> Self {
        Self {
            registry,
            resource_type,
        }
    }
}

/// A filter bound to a schema, ready to be applied to many resources
/// ([`Filter::compile`]).
#[derive(Debug, Clone)]
pub struct CompiledFilter<'r> {
    node: Node<'r>,
}

impl CompiledFilter<'_> {
    /// Whether the resource matches.
    pub fn matches(&self, resource: &Value) -> bool {
        self.node.eval(resource)
    }
}

#[derive(Debug, Clone)]
enum Node<'r> {
    And(Box<Node<'r>>, Box<Node<'r>>),
    Or(Box<Node<'r>>, Box<Node<'r>>),
    Not(Box<Node<'r>>),
    /// An attribute the schema does not define.
    Never,
    Present(Target<'r>),
    Compare(Target<'r>, Cmp),
    ValuePath(Target<'r>, Box<Node<'r>>),
}

#[derive(Debug, Clone)]
struct Target<'r> {
    /// Extension URN under which the attribute lives, if any.
    ext: Option<&'r str>,
    /// The top-level attribute (or, for element-relative targets, the sub-attribute) name.
    name: &'r str,
    /// The sub-attribute name.
    sub: Option<&'r str>,
    /// The target is the element itself (value filter on a multi-valued simple attribute).
    this: bool,
}

#[derive(Debug, Clone)]
enum Cmp {
    Str {
        op: CompareOp,
        lit: String,
        lower: String,
        case_exact: bool,
    },
    Bool {
        op: CompareOp,
        lit: bool,
    },
    Num {
        op: CompareOp,
        lit: Number,
    },
    Time {
        op: CompareOp,
        lit: DateTime<FixedOffset>,
    },
    Null {
        op: CompareOp,
    },
}

fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.as_object().and_then(|m| get_attr(m, key))
}

/// Calls `f` on `v`, or on each item when `v` is an array; true as soon as `f` is.
fn any_flat<F: FnMut(&Value) -> bool>(v: &Value, f: &mut F) -> bool {
    match v {
        Value::Array(items) => items.iter().any(&mut *f),
        other => f(other),
    }
}

impl Target<'_> {
    fn cost_extra(&self) -> u32 {
        u32::from(self.ext.is_some())
    }

    /// Calls `f` on each leaf value the target designates in `root`.
    /// Generic rather than `dyn` so the test inlines into the walk (a scan calls this for
    /// every resource).
    fn any<F: FnMut(&Value) -> bool>(&self, root: &Value, f: &mut F) -> bool {
        if self.this {
            return f(root);
        }
        let container = match self.ext {
            Some(urn) => match field(root, urn) {
                Some(c) => c,
                None => return false,
            },
            None => root,
        };
        let Some(v) = field(container, self.name) else {
            return false;
        };
        match self.sub {
            None => any_flat(v, f),
            Some(sub) => any_flat(v, &mut |elem| field(elem, sub).is_some_and(|s| any_flat(s, f))),
        }
    }
}

/// Whether a value counts as present for `pr` (RFC 7644 §3.4.2.2: not null, not an empty
/// string, an array or object with a present item or member). Stores that index values use
/// it to keep `pr` answers the same as the evaluator's.
///
/// ```
/// use fedkit_scim::filter::is_present;
/// use serde_json::json;
///
/// assert!(is_present(&json!(false)));
/// assert!(!is_present(&json!(["", null, {"value": ""}])));
/// ```
pub fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(m) => m.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn ordering_holds(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn as_i128(n: &Number) -> Option<i128> {
    n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))
}

fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn ascii_ci_contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

fn str_matches(op: CompareOp, val: &str, lit: &str, lower: &str, case_exact: bool) -> bool {
    if case_exact {
        return match op {
            CompareOp::Co => val.contains(lit),
            CompareOp::Sw => val.starts_with(lit),
            CompareOp::Ew => val.ends_with(lit),
            _ => ordering_holds(op, val.cmp(lit)),
        };
    }
    if val.is_ascii() && lit.is_ascii() {
        let (v, l) = (val.as_bytes(), lit.as_bytes());
        return match op {
            CompareOp::Eq => v.eq_ignore_ascii_case(l),
            CompareOp::Ne => !v.eq_ignore_ascii_case(l),
            CompareOp::Co => ascii_ci_contains(v, l),
            CompareOp::Sw => v.get(..l.len()).is_some_and(|p| p.eq_ignore_ascii_case(l)),
            CompareOp::Ew => {
                v.len() >= l.len()
                    && v.get(v.len() - l.len()..)
                        .is_some_and(|p| p.eq_ignore_ascii_case(l))
            }
            _ => ordering_holds(
                op,
                v.iter()
                    .map(u8::to_ascii_lowercase)
                    .cmp(l.iter().map(u8::to_ascii_lowercase)),
            ),
        };
    }
    let v = val.to_lowercase();
    match op {
        CompareOp::Co => v.contains(lower),
        CompareOp::Sw => v.starts_with(lower),
        CompareOp::Ew => v.ends_with(lower),
        _ => ordering_holds(op, v.as_str().cmp(lower)),
    }
}

fn value_as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

impl Cmp {
    /// Whether one stored value satisfies the comparison (for `ne`, whether it is equal: the
    /// caller negates).
    fn test(&self, v: &Value) -> bool {
        match self {
            Cmp::Str {
                op,
                lit,
                lower,
                case_exact,
            } => {
                let op = if *op == CompareOp::Ne { CompareOp::Eq } else { *op };
                v.as_str()
                    .is_some_and(|s| str_matches(op, s, lit, lower, *case_exact))
            }
            Cmp::Bool { lit, .. } => value_as_bool(v) == Some(*lit),
            Cmp::Num { op, lit } => {
                let op = if *op == CompareOp::Ne { CompareOp::Eq } else { *op };
                match v {
                    Value::Number(n) => cmp_numbers(n, lit).is_some_and(|o| ordering_holds(op, o)),
                    _ => false,
                }
            }
            Cmp::Time { op, lit } => {
                let op = if *op == CompareOp::Ne { CompareOp::Eq } else { *op };
                v.as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .is_some_and(|t| ordering_holds(op, t.cmp(lit)))
            }
            Cmp::Null { .. } => is_present(v),
        }
    }

    fn negated(&self) -> bool {
        match self {
            Cmp::Str { op, .. } | Cmp::Bool { op, .. } | Cmp::Num { op, .. } | Cmp::Time { op, .. } => {
                *op == CompareOp::Ne
            }
            // `eq null` holds when nothing is present.
            Cmp::Null { op } => *op == CompareOp::Eq,
        }
    }
}

impl<'r> Node<'r> {
    /// A rough cost estimate: a value filter walks an array, a sub-attribute or extension
    /// attribute needs one more lookup.
    fn cost(&self) -> u32 {
        match self {
            Node::Never => 0,
            Node::Present(t) | Node::Compare(t, _) => {
                1 + u32::from(t.sub.is_some()) + u32::from(t.ext.is_some())
            }
            Node::ValuePath(t, inner) => 4u32
                .saturating_add(t.cost_extra())
                .saturating_mul(inner.cost().max(1)),
            Node::Not(i) => i.cost(),
            Node::And(l, r) | Node::Or(l, r) => l.cost().saturating_add(r.cost()),
        }
    }

    /// `and` / `or` with the cheaper operand first. Evaluation has no side effects and cannot
    /// fail, so the order does not change the result, only how often the expensive side runs.
    fn and(l: Node<'r>, r: Node<'r>) -> Node<'r> {
        if r.cost() < l.cost() {
            Node::And(Box::new(r), Box::new(l))
        } else {
            Node::And(Box::new(l), Box::new(r))
        }
    }

    fn or(l: Node<'r>, r: Node<'r>) -> Node<'r> {
        if r.cost() < l.cost() {
            Node::Or(Box::new(r), Box::new(l))
        } else {
            Node::Or(Box::new(l), Box::new(r))
        }
    }

    fn eval(&self, v: &Value) -> bool {
        match self {
            Node::And(l, r) => l.eval(v) && r.eval(v),
            Node::Or(l, r) => l.eval(v) || r.eval(v),
            Node::Not(i) => !i.eval(v),
            Node::Never => false,
            Node::Present(t) => t.any(v, &mut |x| is_present(x)),
            Node::Compare(t, c) => {
                let hit = t.any(v, &mut |x| c.test(x));
                hit != c.negated()
            }
            Node::ValuePath(t, inner) => t.any(v, &mut |elem| inner.eval(elem)),
        }
    }
}

fn type_name(t: AttributeType) -> &'static str {
    t.as_str()
}

fn compile_cmp(
    path: &AttrPath,
    def: &AttributeDef,
    op: CompareOp,
    value: &CompValue,
) -> Result<Cmp, FilterError> {
    let attribute = path.to_string();
    let t = def.attr_type;
    let not_allowed = |hint: &'static str| {
        FilterError::schema(K::OperatorNotAllowed {
            attribute: attribute.clone(),
            op,
            attr_type: type_name(t),
            hint,
        })
    };
    let mismatch = |hint: &'static str| {
        FilterError::schema(K::ValueTypeMismatch {
            attribute: attribute.clone(),
            attr_type: type_name(t),
            value: value.to_string(),
            hint,
        })
    };
    if let CompValue::Null = value {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(Cmp::Null { op }),
            _ => Err(mismatch("null can only be used with eq and ne")),
        };
    }
    match t {
        AttributeType::Boolean => {
            if op != CompareOp::Eq && op != CompareOp::Ne {
                return Err(not_allowed(
                    "booleans only support eq and ne, e.g. active eq true",
                ));
            }
            let lit = match value {
                CompValue::Bool(b) => *b,
                CompValue::String(s) if s.eq_ignore_ascii_case("true") => true,
                CompValue::String(s) if s.eq_ignore_ascii_case("false") => false,
                _ => return Err(mismatch("compare with true or false")),
            };
            Ok(Cmp::Bool { op, lit })
        }
        AttributeType::Integer | AttributeType::Decimal => {
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return Err(not_allowed("numbers support eq, ne, gt, ge, lt and le"));
            }
            match value {
                CompValue::Number(n) => Ok(Cmp::Num { op, lit: n.clone() }),
                _ => Err(mismatch("compare with an unquoted number, e.g. 42")),
            }
        }
        AttributeType::DateTime => {
            let CompValue::String(s) = value else {
                return Err(mismatch(
                    "compare with a quoted dateTime, e.g. \"2011-05-13T04:42:34Z\"",
                ));
            };
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return Ok(Cmp::Str {
                    op,
                    lit: s.clone(),
                    lower: s.clone(),
                    case_exact: true,
                });
            }
            let lit = DateTime::parse_from_rfc3339(s)
                .map_err(|_| mismatch("compare with an xsd:dateTime such as \"2011-05-13T04:42:34Z\""))?;
            Ok(Cmp::Time { op, lit })
        }
        AttributeType::Binary if op.is_ordering() => {
            Err(not_allowed("binary values only support eq, ne, co, sw and ew"))
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => match value {
            CompValue::String(s) => Ok(Cmp::Str {
                op,
                lit: s.clone(),
                lower: s.to_lowercase(),
                case_exact: def.case_exact,
            }),
            _ => Err(mismatch("compare with a double-quoted string")),
        },
        AttributeType::Complex => Err(FilterError::schema(K::ComplexComparison {
            attribute,
            example: def
                .sub_attributes
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "value".to_owned()),
        })),
    }
}

struct Compiler<'r> {
    registry: &'r SchemaRegistry,
    resource_type: &'r str,
}

impl<'r> Compiler<'r> {
    /// Resolves a top-level path: the target and the definition compared against.
    fn resolve(&self, path: &AttrPath) -> Option<(Target<'r>, &'r AttributeDef, &'r AttributeDef)> {
        let r = self.registry.resolve(self.resource_type, path)?;
        let ext = if r.extension { Some(r.schema) } else { None };
        let target = Target {
            ext,
            name: r.attribute.name.as_str(),
            sub: r.sub_attribute.map(|s| s.name.as_str()),
            this: false,
        };
        Some((target, r.attribute, r.sub_attribute.unwrap_or(r.attribute)))
    }

    fn compile(&self, f: &Filter) -> Result<Node<'r>, FilterError> {
        Ok(match f {
            Filter::And(l, r) => Node::and(self.compile(l)?, self.compile(r)?),
            Filter::Or(l, r) => Node::or(self.compile(l)?, self.compile(r)?),
            Filter::Not(i) => Node::Not(Box::new(self.compile(i)?)),
            Filter::Present(p) => match self.resolve(p) {
                Some((t, _, _)) => Node::Present(t),
                None => Node::Never,
            },
            Filter::Compare { path, op, value } => match self.resolve(path) {
                None => Node::Never,
                Some((mut t, top, def)) => {
                    let def = implicit_value(&mut t, top, def);
                    Node::Compare(t, compile_cmp(path, def, *op, value)?)
                }
            },
            Filter::ValuePath { attr, filter } => match self.resolve(attr) {
                None => Node::Never,
                Some((t, top, def)) => {
                    if t.sub.is_some() || !(top.attr_type == AttributeType::Complex || top.multi_valued) {
                        return Err(FilterError::schema(K::ValueFilterOnSimpleAttribute {
                            attribute: attr.to_string(),
                        }));
                    }
                    Node::ValuePath(t, Box::new(compile_element(filter, def)?))
                }
            },
        })
    }
}

/// `emails eq "x"`: on a multi-valued complex attribute without a sub-attribute, compare the
/// `value` sub-attribute.
fn implicit_value<'r>(t: &mut Target<'r>, top: &'r AttributeDef, def: &'r AttributeDef) -> &'r AttributeDef {
    if t.sub.is_none() && top.is_multi_valued_complex() {
        if let Some(v) = top.sub_attribute("value") {
            t.sub = Some(v.name.as_str());
            return v;
        }
    }
    def
}

/// Compiles a value filter whose paths are relative to an element of `attribute`.
fn compile_element<'r>(f: &Filter, attribute: &'r AttributeDef) -> Result<Node<'r>, FilterError> {
    Ok(match f {
        Filter::And(l, r) => Node::And(
            Box::new(compile_element(l, attribute)?),
            Box::new(compile_element(r, attribute)?),
        ),
        Filter::Or(l, r) => Node::Or(
            Box::new(compile_element(l, attribute)?),
            Box::new(compile_element(r, attribute)?),
        ),
        Filter::Not(i) => Node::Not(Box::new(compile_element(i, attribute)?)),
        Filter::Present(p) => match resolve_element(p, attribute) {
            Some((t, _)) => Node::Present(t),
            None => Node::Never,
        },
        Filter::Compare { path, op, value } => match resolve_element(path, attribute) {
            Some((t, def)) => Node::Compare(t, compile_cmp(path, def, *op, value)?),
            None => Node::Never,
        },
        Filter::ValuePath { .. } => return Err(FilterError::schema(K::NestedValuePath)),
    })
}

fn resolve_element<'r>(
    path: &AttrPath,
    attribute: &'r AttributeDef,
) -> Option<(Target<'r>, &'r AttributeDef)> {
    if path.urn.is_some() || path.sub_attr.is_some() {
        return None;
    }
    if attribute.attr_type == AttributeType::Complex {
        let sub = attribute.find_sub_attribute(&path.name)?;
        Some((
            Target {
                ext: None,
                name: sub.name.as_str(),
                sub: None,
                this: false,
            },
            sub,
        ))
    } else if path.name.eq_ignore_ascii_case("value") {
        Some((
            Target {
                ext: None,
                name: "",
                sub: None,
                this: true,
            },
            attribute,
        ))
    } else {
        None
    }
}

impl Filter {
    /// Binds the filter to the schema of `ctx.resource_type` for repeated evaluation. Fails
    /// with an `invalidFilter` error when an operator or literal does not fit an attribute's
    /// type; unknown attributes compile to "matches nothing".
    pub fn compile<'r>(&self, ctx: &EvalContext<'r>) -> Result<CompiledFilter<'r>, FilterError> {
        if ctx.registry.resource_type(ctx.resource_type).is_none() {
            return Err(FilterError::schema(K::UnknownResourceType {
                name: ctx.resource_type.to_owned(),
            }));
        }
        let c = Compiler {
            registry: ctx.registry,
            resource_type: ctx.resource_type,
        };
        Ok(CompiledFilter {
            node: c.compile(self)?,
        })
    }

    /// Whether `resource` matches. Compiles on each call; use [`Filter::compile`] to scan
    /// many resources.
    pub fn matches(&self, resource: &Value, ctx: &EvalContext<'_>) -> Result<bool, FilterError> {
        Ok(self.compile(ctx)?.matches(resource))
    }

    /// Evaluates a value filter (the inside of `emails[...]`, as in a PATCH path) against one
    /// element of `attribute`, a complex or multi-valued attribute. Paths in the filter name
    /// sub-attributes of `attribute` (`type`, `value`); for a multi-valued simple attribute
    /// `value` designates the element itself.
    pub fn matches_element(
        &self,
        element: &Value,
        attribute: &AttributeDef,
        _ctx: &EvalContext<'_>,
    ) -> Result<bool, FilterError> {
        Ok(compile_element(self, attribute)?.eval(element))
    }
}
