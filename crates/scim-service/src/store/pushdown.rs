//! Filter push-down for SQL stores, shared by fedkit-scim-sqlite's `SqliteStore` and
//! fedkit-postgres's `PgStore`:
//! which attributes a store indexes, which leaf values of a resource it indexes for them, and
//! a walk of a filter that turns what those indexes can answer into the store's own SQL.
//!
//! **The contract** a store relies on: the condition [`push_down`] builds selects a
//! *superset* of the resources the core evaluator (`fedkit_scim::filter`) matches, never
//! fewer; the handler then checks every candidate with the evaluator. So:
//!
//! * the indexed leaves of a resource ([`leaves`]) are exactly the values the evaluator
//!   looks at for the same path: the member found case-insensitively (an exact match of the
//!   name wins), one level of array flattened, every element's `value` for `emails.value` /
//!   `members.value`; a non-string leaf that counts as present is [`Leaf::Present`], so
//!   `pr` stays right;
//! * `not` is never pushed down (the complement of a superset is a subset); `or` only when
//!   both sides are; `and` keeps whichever sides are; URN-qualified paths, non-string
//!   literals and attributes that are not indexed are left to the evaluator;
//! * a condition holds at most [`MAX_PUSHED_TERMS`] leaves: beyond it `and` keeps its smaller
//!   side and `or` gives up, both still supersets, so the SQL stays small whatever filter
//!   limits the host set.
//!
//! A store implements [`Dialect`] (how one leaf and the two connectives are written in its
//! SQL, with every value as a bound parameter) and calls [`push_down`]:
//!
//! ```
//! use fedkit_scim::filter::{CompareOp, Filter};
//! use fedkit_scim_service::store::pushdown::{push_down, Dialect, Target};
//! use fedkit_scim_service::store::ResourceKind;
//!
//! /// SQL over a `vals(res, attr, v)` table, values as `?` parameters.
//! struct Sql;
//! type Cond = (String, Vec<String>);
//!
//! impl Dialect for Sql {
//!     type Cond = Cond;
//!     fn compare(&self, target: Target, op: CompareOp, literal: &str) -> Option<Cond> {
//!         let Target::Value(attr) = target else { return None };
//!         (op == CompareOp::Eq).then(|| (
//!             format!("res IN (SELECT res FROM vals WHERE attr = '{}' AND v = ?)", attr.name()),
//!             vec![attr.normalize(literal)],
//!         ))
//!     }
//!     fn present(&self, _target: Target) -> Cond {
//!         ("TRUE".to_owned(), vec![])
//!     }
//!     fn and(&self, l: Cond, r: Cond) -> Cond {
//!         (format!("({} AND {})", l.0, r.0), [l.1, r.1].concat())
//!     }
//!     fn or(&self, l: Cond, r: Cond) -> Cond {
//!         (format!("({} OR {})", l.0, r.0), [l.1, r.1].concat())
//!     }
//! }
//!
//! let filter = Filter::parse(r#"userName eq "BJensen" and not (title eq "x")"#)?;
//! let (sql, params) = push_down(&Sql, ResourceKind::User, &filter).ok_or("nothing pushed")?;
//! // `not` is left to the evaluator; the value is a parameter, lowercased (caseExact=false).
//! assert_eq!(sql, "res IN (SELECT res FROM vals WHERE attr = 'userName' AND v = ?)");
//! assert_eq!(params, ["bjensen"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::convert::Infallible;

use fedkit_scim::filter::{is_present, AttrPath, CompValue, CompareOp, Filter, Visitor};
use serde_json::Value;

use super::ResourceKind;

/// Most leaves one pushed-down condition holds (see the [module docs](self)).
pub const MAX_PUSHED_TERMS: usize = 64;

/// An attribute whose leaf values a SQL store indexes. Adding one changes what every store
/// must index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexedAttr {
    /// `userName` (Users).
    UserName,
    /// `externalId` (Users and Groups; caseExact).
    ExternalId,
    /// `displayName` (Users and Groups).
    DisplayName,
    /// `emails.value` (Users).
    EmailValue,
    /// `members.value` (Groups).
    MemberValue,
}

impl IndexedAttr {
    /// Every indexed attribute.
    pub const ALL: [IndexedAttr; 5] = [
        IndexedAttr::UserName,
        IndexedAttr::ExternalId,
        IndexedAttr::DisplayName,
        IndexedAttr::EmailValue,
        IndexedAttr::MemberValue,
    ];

    /// The path as the core schema spells it (`userName`, `emails.value`).
    pub fn name(self) -> &'static str {
        match self {
            IndexedAttr::UserName => "userName",
            IndexedAttr::ExternalId => "externalId",
            IndexedAttr::DisplayName => "displayName",
            IndexedAttr::EmailValue => "emails.value",
            IndexedAttr::MemberValue => "members.value",
        }
    }

    /// The attribute and sub-attribute names.
    pub fn path(self) -> (&'static str, Option<&'static str>) {
        match self {
            IndexedAttr::UserName => ("userName", None),
            IndexedAttr::ExternalId => ("externalId", None),
            IndexedAttr::DisplayName => ("displayName", None),
            IndexedAttr::EmailValue => ("emails", Some("value")),
            IndexedAttr::MemberValue => ("members", Some("value")),
        }
    }

    /// Whether the core schema (RFC 7643 §3.1, §4.1, §4.2) marks the attribute caseExact;
    /// the others are indexed and compared lowercased.
    pub fn case_exact(self) -> bool {
        matches!(self, IndexedAttr::ExternalId)
    }

    /// Whether resources of `kind` have this attribute.
    pub fn applies_to(self, kind: ResourceKind) -> bool {
        match self {
            IndexedAttr::ExternalId | IndexedAttr::DisplayName => true,
            IndexedAttr::UserName | IndexedAttr::EmailValue => kind == ResourceKind::User,
            IndexedAttr::MemberValue => kind == ResourceKind::Group,
        }
    }

    /// The multi-valued complex attribute whose `value` this is (`emails`, `members`).
    pub fn element_of(self) -> Option<&'static str> {
        match self {
            IndexedAttr::EmailValue => Some("emails"),
            IndexedAttr::MemberValue => Some("members"),
            _ => None,
        }
    }

    /// A string as indexed and compared: lowercased unless caseExact.
    pub fn normalize(self, s: &str) -> String {
        if self.case_exact() {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    }

    /// The `emails` / `members` attribute called `name` (any case) for `kind`.
    fn element_named(kind: ResourceKind, name: &str) -> Option<IndexedAttr> {
        IndexedAttr::ALL
            .into_iter()
            .find(|a| a.applies_to(kind) && a.element_of().is_some_and(|e| is(name, e)))
    }
}

/// One leaf value of an indexed attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaf<'a> {
    /// A string, as written (not yet [normalized](IndexedAttr::normalize)).
    Text(&'a str),
    /// A non-string value that counts as present (a number, a boolean, an object with a
    /// present member): only `pr` can match it.
    Present,
}

/// The member called `key`: an exact match, else the first case-insensitive one (the
/// evaluator's lookup).
fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    fedkit_scim::resource::get_attr(v.as_object()?, key)
}

/// `v`, or each item when it is an array.
fn flat(v: &Value) -> impl Iterator<Item = &Value> {
    let (items, one) = match v {
        Value::Array(items) => (items.as_slice(), None),
        other => (&[][..], Some(other)),
    };
    items.iter().chain(one)
}

/// Every indexed leaf of `resource`, a resource of `kind`, in document order (duplicates
/// included: stores deduplicate after normalizing).
pub fn leaves(kind: ResourceKind, resource: &Value) -> Vec<(IndexedAttr, Leaf<'_>)> {
    let mut out = Vec::new();
    for attr in IndexedAttr::ALL.into_iter().filter(|a| a.applies_to(kind)) {
        let (name, sub) = attr.path();
        let Some(top) = field(resource, name) else {
            continue;
        };
        let values: Vec<&Value> = match sub {
            None => flat(top).collect(),
            Some(sub) => flat(top)
                .filter_map(|element| field(element, sub))
                .flat_map(flat)
                .collect(),
        };
        for leaf in values {
            match leaf {
                Value::String(s) => out.push((attr, Leaf::Text(s))),
                other if is_present(other) => out.push((attr, Leaf::Present)),
                _ => {}
            }
        }
    }
    out
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a filter leaf designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The resource's `id`.
    Id,
    /// An indexed attribute.
    Value(IndexedAttr),
}

/// How a store writes pushed-down conditions in its SQL. Values must only ever become bound
/// parameters, never SQL text.
pub trait Dialect {
    /// A condition (SQL and its parameters).
    type Cond;

    /// `target op literal`, with the literal as the filter wrote it (normalize it with
    /// [`IndexedAttr::normalize`] for values), or `None` when this operator is not pushed
    /// down (the walk then leaves the leaf to the evaluator).
    fn compare(&self, target: Target, op: CompareOp, literal: &str) -> Option<Self::Cond>;

    /// `target pr`.
    fn present(&self, target: Target) -> Self::Cond;

    /// Both conditions.
    fn and(&self, left: Self::Cond, right: Self::Cond) -> Self::Cond;

    /// Either condition.
    fn or(&self, left: Self::Cond, right: Self::Cond) -> Self::Cond;

    /// Whether the condition [`Dialect::compare`] (`op` is `Some`) or [`Dialect::present`]
    /// (`op` is `None`) writes for `target` and `literal` selects **exactly** the resources
    /// whose leaves the evaluator matches, not merely a superset. The default, `false`, keeps
    /// every query on the superset path; see [`push_down_exact`].
    fn is_exact(&self, target: Target, op: Option<CompareOp>, literal: &str) -> bool {
        let _ = (target, op, literal);
        false
    }
}

/// The condition for the part of `filter` the indexes can answer, on resources of `kind`,
/// or `None` when nothing of it can be pushed down (then every resource is a candidate).
pub fn push_down<D: Dialect>(dialect: &D, kind: ResourceKind, filter: &Filter) -> Option<D::Cond> {
    push_down_exact(dialect, kind, filter).map(|(cond, _exact)| cond)
}

/// [`push_down`], and whether the condition is **exact**: it selects precisely the resources
/// of `kind` the evaluator matches, so a store may count, sort and page in SQL without the
/// evaluator looking at the rows. Exact when every leaf is pushed down and the dialect
/// reports it exact ([`Dialect::is_exact`]), nothing was dropped (no `not`, no leaf left to
/// the evaluator, no side dropped over the [`MAX_PUSHED_TERMS`] budget), and no value filter
/// (`emails[…]`) holds an `and` (the evaluator asks one element to satisfy both sides; the
/// pushed-down condition lets two elements satisfy one side each).
pub fn push_down_exact<D: Dialect>(
    dialect: &D,
    kind: ResourceKind,
    filter: &Filter,
) -> Option<(D::Cond, bool)> {
    let mut walk = Walk {
        dialect,
        kind,
        element: None,
    };
    match filter.accept(&mut walk) {
        Ok(c) => c.map(|p| (p.cond, p.exact)),
        Err(never) => match never {},
    }
}

fn is(name: &str, expected: &str) -> bool {
    name.eq_ignore_ascii_case(expected)
}

/// Which indexed column a top-level path designates for `kind`.
fn target(kind: ResourceKind, path: &AttrPath) -> Option<Target> {
    // URN-qualified paths are left to the evaluator (a superset, never a miss).
    if path.urn.is_some() {
        return None;
    }
    let name = path.name.as_str();
    let t = match path.sub_attr.as_deref() {
        None if is(name, "id") => Target::Id,
        None => Target::Value(
            IndexedAttr::ALL
                .into_iter()
                .find(|a| a.path().1.is_none() && is(name, a.path().0))?,
        ),
        Some(sub) => Target::Value(
            IndexedAttr::ALL
                .into_iter()
                .find(|a| is(name, a.path().0) && a.path().1.is_some_and(|s| is(sub, s)))?,
        ),
    };
    match t {
        Target::Value(a) if !a.applies_to(kind) => None,
        t => Some(t),
    }
}

/// A condition, how many leaves it holds and whether it is exact.
struct Pushed<C> {
    cond: C,
    terms: usize,
    exact: bool,
}

type Counted<C> = Option<Pushed<C>>;

struct Walk<'d, D> {
    dialect: &'d D,
    kind: ResourceKind,
    /// Inside `emails[...]` / `members[...]`: the attribute `value` designates.
    element: Option<IndexedAttr>,
}

impl<D: Dialect> Walk<'_, D> {
    fn target(&self, path: &AttrPath) -> Option<Target> {
        match self.element {
            // Inside a value filter, `value` (and nothing else) designates the indexed leaf.
            Some(attr) => (path.urn.is_none() && path.sub_attr.is_none() && is(&path.name, "value"))
                .then_some(Target::Value(attr)),
            None => target(self.kind, path),
        }
    }
}

impl<D: Dialect> Visitor for Walk<'_, D> {
    type Output = Counted<D::Cond>;
    type Error = Infallible;

    fn and(&mut self, left: Self::Output, right: Self::Output) -> Result<Self::Output, Infallible> {
        Ok(match (left, right) {
            (Some(l), Some(r)) if l.terms + r.terms <= MAX_PUSHED_TERMS => Some(Pushed {
                cond: self.dialect.and(l.cond, r.cond),
                terms: l.terms + r.terms,
                // Inside `emails[…]` both sides must hold for the same element.
                exact: l.exact && r.exact && self.element.is_none(),
            }),
            // Over budget: either side alone is still a superset; keep the cheaper one.
            (Some(l), Some(r)) => Some(Pushed {
                exact: false,
                ..if r.terms < l.terms { r } else { l }
            }),
            (Some(one), None) | (None, Some(one)) => Some(Pushed { exact: false, ..one }),
            (None, None) => None,
        })
    }

    fn or(&mut self, left: Self::Output, right: Self::Output) -> Result<Self::Output, Infallible> {
        Ok(match (left, right) {
            (Some(l), Some(r)) if l.terms + r.terms <= MAX_PUSHED_TERMS => Some(Pushed {
                cond: self.dialect.or(l.cond, r.cond),
                terms: l.terms + r.terms,
                exact: l.exact && r.exact,
            }),
            _ => None,
        })
    }

    fn not(&mut self, _inner: Self::Output) -> Result<Self::Output, Infallible> {
        // The inner condition is itself a superset; its complement would be a subset.
        Ok(None)
    }

    fn present(&mut self, path: &AttrPath) -> Result<Self::Output, Infallible> {
        Ok(self.target(path).map(|t| Pushed {
            cond: self.dialect.present(t),
            terms: 1,
            exact: self.dialect.is_exact(t, None, ""),
        }))
    }

    fn compare(
        &mut self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<Self::Output, Infallible> {
        // Only string literals: anything else is refused by the evaluator for these string
        // attributes, or (`eq null`) is a negation.
        let CompValue::String(literal) = value else {
            return Ok(None);
        };
        // `emails eq "x"` compares `emails.value` (the evaluator's implicit sub-attribute).
        let t = match self.target(path) {
            Some(t) => Some(t),
            None if self.element.is_none() && path.urn.is_none() && path.sub_attr.is_none() => {
                IndexedAttr::element_named(self.kind, &path.name).map(Target::Value)
            }
            None => None,
        };
        Ok(t.and_then(|t| {
            self.dialect.compare(t, op, literal).map(|cond| Pushed {
                cond,
                terms: 1,
                exact: self.dialect.is_exact(t, Some(op), literal),
            })
        }))
    }

    fn value_path(&mut self, attr: &AttrPath, inner: &Filter) -> Result<Self::Output, Infallible> {
        if self.element.is_some() || attr.urn.is_some() || attr.sub_attr.is_some() {
            return Ok(None);
        }
        let Some(indexed) = IndexedAttr::element_named(self.kind, &attr.name) else {
            return Ok(None);
        };
        inner.accept(&mut Walk {
            dialect: self.dialect,
            kind: self.kind,
            element: Some(indexed),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const U: ResourceKind = ResourceKind::User;
    const G: ResourceKind = ResourceKind::Group;

    /// Writes conditions as readable text: `userName eq "a"`, `(… AND …)`.
    struct Text;

    impl Dialect for Text {
        type Cond = String;
        fn compare(&self, target: Target, op: CompareOp, literal: &str) -> Option<String> {
            let name = match target {
                Target::Id => "id",
                Target::Value(a) => a.name(),
            };
            (op != CompareOp::Gt).then(|| format!("{name} {op:?} {literal:?}"))
        }
        fn present(&self, target: Target) -> String {
            format!("{target:?} pr")
        }
        fn and(&self, l: String, r: String) -> String {
            format!("({l} AND {r})")
        }
        fn or(&self, l: String, r: String) -> String {
            format!("({l} OR {r})")
        }
    }

    fn pushed(kind: ResourceKind, text: &str) -> Option<String> {
        push_down(&Text, kind, &Filter::parse(text).unwrap())
    }

    #[test]
    fn leaves_follow_the_evaluator_walk() {
        let user = json!({
            "UserName": "BJensen",
            "externalId": ["Ext-1", null],
            "emails": [{"VALUE": "A@x.com"}, {"value": ["b@x.com", 5]}, {"type": "work"}],
            "displayName": {"nested": ""},
            "members": [{"value": "ignored for users"}],
        });
        assert_eq!(
            leaves(U, &user),
            [
                (IndexedAttr::UserName, Leaf::Text("BJensen")),
                (IndexedAttr::ExternalId, Leaf::Text("Ext-1")),
                (IndexedAttr::EmailValue, Leaf::Text("A@x.com")),
                (IndexedAttr::EmailValue, Leaf::Text("b@x.com")),
                (IndexedAttr::EmailValue, Leaf::Present),
            ]
        );
        let group = json!({"displayName": "Admins", "members": {"value": "u1"}, "userName": "x"});
        assert_eq!(
            leaves(G, &group),
            [
                (IndexedAttr::DisplayName, Leaf::Text("Admins")),
                (IndexedAttr::MemberValue, Leaf::Text("u1")),
            ]
        );
    }

    #[test]
    fn what_is_pushed_down() {
        assert_eq!(pushed(U, r#"USERNAME eq "A""#).unwrap(), r#"userName Eq "A""#);
        assert_eq!(pushed(U, r#"emails eq "a""#).unwrap(), r#"emails.value Eq "a""#);
        assert_eq!(
            pushed(U, r#"emails[type eq "work" and value sw "a"]"#).unwrap(),
            r#"emails.value Sw "a""#
        );
        assert_eq!(
            pushed(G, r#"members.Value eq "u1""#).unwrap(),
            r#"members.value Eq "u1""#
        );
        assert_eq!(pushed(G, "id pr").unwrap(), "Id pr");
        assert_eq!(
            pushed(U, r#"(userName eq "a" or userName eq "b") and title eq "x""#).unwrap(),
            r#"(userName Eq "a" OR userName Eq "b")"#
        );
    }

    #[test]
    fn what_is_left_to_the_evaluator() {
        for (kind, text) in [
            (U, r#"not (userName eq "a")"#),
            (U, r#"userName gt "a""#),
            (U, r#"userName eq "a" or title eq "b""#),
            (U, "userName eq null"),
            (U, "userName eq 5"),
            (U, r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#),
            (U, r#"emails.type eq "work""#),
            (U, r#"emails[not (value eq "a")]"#),
            (U, r#"emails[value.x eq "a"]"#),
            (U, r#"members.value eq "u1""#),
            (G, r#"userName eq "a""#),
            (G, r#"emails[value eq "a"]"#),
        ] {
            assert_eq!(pushed(kind, text), None, "{text}");
        }
    }

    #[test]
    fn the_budget_keeps_a_superset() {
        let terms: Vec<String> = (0..=MAX_PUSHED_TERMS)
            .map(|i| format!("userName eq \"u{i}\""))
            .collect();
        assert_eq!(pushed(U, &terms.join(" or ")), None);
        let kept = pushed(U, &terms.join(" and ")).unwrap();
        let n = kept.matches("userName").count();
        assert!((1..=MAX_PUSHED_TERMS).contains(&n), "{n}");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_escape(r"a%b_c\d"), r"a\%b\_c\\d");
    }
}
