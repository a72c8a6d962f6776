//! What the SQLite store indexes, and the filter → SQL translation over those indexes.
//!
//! The indexed values of a resource are exactly the leaf values the core crate's evaluator
//! looks at for the same attribute path (`fedkit_scim::filter`, `eval.rs`): the member is
//! found case-insensitively (an exact match of the name wins), one level of array is
//! flattened, and for `emails.value` / `members.value` every element's `value` is taken
//! the same way. A string leaf is stored (lowercased unless the attribute is caseExact); a
//! non-string leaf that counts as present is stored as `NULL`, so `pr` stays right. That is
//! what makes the translated condition a superset of the evaluator's matches even for
//! documents of an unusual shape (a `userName` array, an `emails` object).

use std::collections::BTreeSet;
use std::convert::Infallible;

use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, Filter, Visitor};
use serde_json::{Map, Value};

use super::super::ResourceKind;

/// Most attribute expressions one pushed-down condition holds. Beyond it, `and` keeps the
/// smaller side and `or` gives up (both still supersets), which keeps the SQL well inside
/// SQLite's expression-depth and parameter limits whatever filter limits the host set.
pub(super) const MAX_PUSHED_TERMS: usize = 64;

/// Longest `LIKE` pattern (bytes) pushed down; SQLite refuses patterns over 50 000 bytes
/// by default, and a refused query would be an error instead of a superset.
pub(super) const MAX_LIKE_PATTERN: usize = 10_000;

/// An attribute whose leaf values live in the `scim_values` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Indexed {
    UserName,
    ExternalId,
    DisplayName,
    EmailValue,
    MemberValue,
}

impl Indexed {
    pub(super) const ALL: [Indexed; 5] = [
        Indexed::UserName,
        Indexed::ExternalId,
        Indexed::DisplayName,
        Indexed::EmailValue,
        Indexed::MemberValue,
    ];

    /// The `attr` column value (a constant, never input).
    pub(super) fn code(self) -> &'static str {
        match self {
            Indexed::UserName => "userName",
            Indexed::ExternalId => "externalId",
            Indexed::DisplayName => "displayName",
            Indexed::EmailValue => "emails.value",
            Indexed::MemberValue => "members.value",
        }
    }

    /// The attribute and sub-attribute names, as the core schema spells them.
    fn path(self) -> (&'static str, Option<&'static str>) {
        match self {
            Indexed::UserName => ("userName", None),
            Indexed::ExternalId => ("externalId", None),
            Indexed::DisplayName => ("displayName", None),
            Indexed::EmailValue => ("emails", Some("value")),
            Indexed::MemberValue => ("members", Some("value")),
        }
    }

    /// Whether the core schema (RFC 7643 §3.1, §4.1, §4.2) marks the attribute caseExact.
    pub(super) fn case_exact(self) -> bool {
        matches!(self, Indexed::ExternalId)
    }

    fn applies_to(self, kind: ResourceKind) -> bool {
        match self {
            Indexed::ExternalId | Indexed::DisplayName => true,
            Indexed::UserName | Indexed::EmailValue => kind == ResourceKind::User,
            Indexed::MemberValue => kind == ResourceKind::Group,
        }
    }

    /// The form stored and compared: lowercased unless caseExact.
    pub(super) fn normalize(self, s: &str) -> String {
        if self.case_exact() {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    }

    /// The multi-valued complex attribute whose `value` this is (`emails`, `members`).
    fn element_of(self) -> Option<&'static str> {
        match self {
            Indexed::EmailValue => Some("emails"),
            Indexed::MemberValue => Some("members"),
            _ => None,
        }
    }
}

/// The member called `key`: an exact match, else the first case-insensitive one (the
/// evaluator's lookup).
fn field<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let m: &Map<String, Value> = v.as_object()?;
    fedkit_scim::resource::get_attr(m, key)
}

/// `v`, or each item when it is an array.
fn flat(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The evaluator's notion of presence (`pr`).
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(m) => m.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// Every `(attribute, value)` row to index for `resource`: string leaves normalized, present
/// non-string leaves as `None`. Deduplicated.
pub(super) fn indexed_values(kind: ResourceKind, resource: &Value) -> BTreeSet<(Indexed, Option<String>)> {
    let mut out = BTreeSet::new();
    for attr in Indexed::ALL.into_iter().filter(|a| a.applies_to(kind)) {
        let (name, sub) = attr.path();
        let Some(top) = field(resource, name) else {
            continue;
        };
        let mut leaves: Vec<&Value> = Vec::new();
        match sub {
            None => leaves.extend(flat(top)),
            Some(sub) => {
                for element in flat(top) {
                    if let Some(v) = field(element, sub) {
                        leaves.extend(flat(v));
                    }
                }
            }
        }
        for leaf in leaves {
            match leaf {
                Value::String(s) => {
                    out.insert((attr, Some(attr.normalize(s))));
                }
                other if is_present(other) => {
                    out.insert((attr, None));
                }
                _ => {}
            }
        }
    }
    out
}

/// A piece of SQL with its `?` parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cond {
    pub(super) sql: String,
    pub(super) params: Vec<String>,
    /// How many attribute expressions it holds.
    terms: usize,
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub(super) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `column op value` for a string literal already normalized, or `None` when the operator is
/// not pushed down. `LIKE` stops at a NUL character on both sides, so a row whose value
/// holds one is always kept (`instr` compares lengths, not C strings).
fn string_test(column: &str, op: CompareOp, value: &str) -> Option<(String, String)> {
    let escaped = like_escape(value);
    let pattern = match op {
        CompareOp::Eq => return Some((format!("{column} = ?"), value.to_owned())),
        CompareOp::Co => format!("%{escaped}%"),
        CompareOp::Sw => format!("{escaped}%"),
        CompareOp::Ew => format!("%{escaped}"),
        _ => return None,
    };
    if pattern.len() > MAX_LIKE_PATTERN {
        return None;
    }
    Some((
        format!("({column} LIKE ? ESCAPE '\\' OR instr({column}, char(0)) > 0)"),
        pattern,
    ))
}

/// Which indexed column a top-level path designates for `kind`.
enum Target {
    Id,
    Value(Indexed),
}

fn is(name: &str, expected: &str) -> bool {
    name.eq_ignore_ascii_case(expected)
}

fn target(kind: ResourceKind, path: &AttrPath) -> Option<Target> {
    // URN-qualified paths are left to the evaluator (a superset, never a miss).
    if path.urn.is_some() {
        return None;
    }
    let name = path.name.as_str();
    let sub = path.sub_attr.as_deref();
    let t = match sub {
        None if is(name, "id") => Target::Id,
        None if is(name, "userName") => Target::Value(Indexed::UserName),
        None if is(name, "externalId") => Target::Value(Indexed::ExternalId),
        None if is(name, "displayName") => Target::Value(Indexed::DisplayName),
        Some(s) if is(name, "emails") && is(s, "value") => Target::Value(Indexed::EmailValue),
        Some(s) if is(name, "members") && is(s, "value") => Target::Value(Indexed::MemberValue),
        _ => return None,
    };
    match t {
        Target::Value(a) if !a.applies_to(kind) => None,
        t => Some(t),
    }
}

/// The filter → SQL translator. Every leaf is `r.seq IN (…)` or a test on `r.id`, over the
/// resource alias `r`; values are always bound parameters.
pub(super) struct PushDown<'a> {
    kind: ResourceKind,
    tenant: &'a str,
    /// Inside `emails[...]` / `members[...]`: the attribute `value` designates.
    element: Option<Indexed>,
}

impl<'a> PushDown<'a> {
    pub(super) fn new(kind: ResourceKind, tenant: &'a str) -> Self {
        Self {
            kind,
            tenant,
            element: None,
        }
    }

    /// The condition for `filter`, or `None` when nothing of it can be pushed down.
    pub(super) fn translate(kind: ResourceKind, tenant: &'a str, filter: &Filter) -> Option<Cond> {
        match filter.accept(&mut PushDown::new(kind, tenant)) {
            Ok(c) => c,
            Err(never) => match never {},
        }
    }

    fn value_leaf(&self, attr: Indexed, test: &str, param: Option<String>) -> Cond {
        let mut params = vec![
            self.tenant.to_owned(),
            self.kind.name().to_owned(),
            attr.code().to_owned(),
        ];
        params.extend(param);
        Cond {
            sql: format!(
                "r.seq IN (SELECT a.seq FROM scim_values a WHERE a.tenant = ? AND a.kind = ? AND a.attr = ? AND {test})"
            ),
            params,
            terms: 1,
        }
    }

    fn compare_target(&self, t: Target, op: CompareOp, value: &CompValue) -> Option<Cond> {
        // Only string literals: anything else is refused by the evaluator for these
        // string attributes, or (`eq null`) is a negation.
        let CompValue::String(s) = value else {
            return None;
        };
        match t {
            Target::Id => {
                let (sql, param) = string_test("r.id", op, s)?;
                Some(Cond {
                    sql,
                    params: vec![param],
                    terms: 1,
                })
            }
            Target::Value(attr) => {
                let (test, param) = string_test("a.v", op, &attr.normalize(s))?;
                Some(self.value_leaf(attr, &test, Some(param)))
            }
        }
    }

    fn present_target(&self, t: Target) -> Cond {
        match t {
            Target::Id => Cond {
                sql: "r.id <> ''".to_owned(),
                params: Vec::new(),
                terms: 1,
            },
            Target::Value(attr) => self.value_leaf(attr, "(a.v IS NULL OR a.v <> '')", None),
        }
    }

    /// Inside a value filter, `value` (and nothing else) designates the indexed leaf.
    fn element_target(attr: Indexed, path: &AttrPath) -> Option<Target> {
        (path.urn.is_none() && path.sub_attr.is_none() && is(&path.name, "value"))
            .then_some(Target::Value(attr))
    }

    fn target(&self, path: &AttrPath) -> Option<Target> {
        match self.element {
            Some(attr) => Self::element_target(attr, path),
            None => target(self.kind, path),
        }
    }
}

fn combine(l: Cond, op: &str, r: Cond) -> Cond {
    let mut params = l.params;
    params.extend(r.params);
    Cond {
        sql: format!("({} {op} {})", l.sql, r.sql),
        params,
        terms: l.terms + r.terms,
    }
}

impl Visitor for PushDown<'_> {
    type Output = Option<Cond>;
    type Error = Infallible;

    fn and(&mut self, left: Option<Cond>, right: Option<Cond>) -> Result<Option<Cond>, Infallible> {
        Ok(match (left, right) {
            (Some(l), Some(r)) if l.terms + r.terms <= MAX_PUSHED_TERMS => Some(combine(l, "AND", r)),
            // Over budget: either side alone is still a superset; keep the cheaper one.
            (Some(l), Some(r)) => Some(if r.terms < l.terms { r } else { l }),
            (Some(one), None) | (None, Some(one)) => Some(one),
            (None, None) => None,
        })
    }

    fn or(&mut self, left: Option<Cond>, right: Option<Cond>) -> Result<Option<Cond>, Infallible> {
        Ok(match (left, right) {
            (Some(l), Some(r)) if l.terms + r.terms <= MAX_PUSHED_TERMS => Some(combine(l, "OR", r)),
            _ => None,
        })
    }

    fn not(&mut self, _inner: Option<Cond>) -> Result<Option<Cond>, Infallible> {
        // The inner condition is itself a superset; its complement would be a subset.
        Ok(None)
    }

    fn present(&mut self, path: &AttrPath) -> Result<Option<Cond>, Infallible> {
        Ok(self.target(path).map(|t| self.present_target(t)))
    }

    fn compare(
        &mut self,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<Option<Cond>, Infallible> {
        // `emails eq "x"` compares `emails.value` (the evaluator's implicit sub-attribute).
        let t = match self.target(path) {
            Some(t) => Some(t),
            None if self.element.is_none() && path.urn.is_none() && path.sub_attr.is_none() => Indexed::ALL
                .into_iter()
                .find(|a| a.applies_to(self.kind) && a.element_of().is_some_and(|e| is(&path.name, e)))
                .map(Target::Value),
            None => None,
        };
        Ok(t.and_then(|t| self.compare_target(t, op, value)))
    }

    fn value_path(&mut self, attr: &AttrPath, inner: &Filter) -> Result<Option<Cond>, Infallible> {
        if self.element.is_some() || attr.urn.is_some() || attr.sub_attr.is_some() {
            return Ok(None);
        }
        let Some(indexed) = Indexed::ALL
            .into_iter()
            .find(|a| a.applies_to(self.kind) && a.element_of().is_some_and(|e| is(&attr.name, e)))
        else {
            return Ok(None);
        };
        let mut element = PushDown {
            kind: self.kind,
            tenant: self.tenant,
            element: Some(indexed),
        };
        inner.accept(&mut element)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fedkit_scim::schema::SchemaRegistry;
    use serde_json::json;

    fn sql(kind: ResourceKind, text: &str) -> Option<(String, Vec<String>)> {
        let f = Filter::parse(text).unwrap();
        PushDown::translate(kind, "t", &f).map(|c| (c.sql, c.params))
    }

    const U: ResourceKind = ResourceKind::User;
    const G: ResourceKind = ResourceKind::Group;

    #[test]
    fn case_rules_match_the_core_schema() {
        let registry = SchemaRegistry::core();
        for attr in Indexed::ALL {
            for kind in ResourceKind::ALL.into_iter().filter(|k| attr.applies_to(*k)) {
                let (name, sub) = attr.path();
                let mut path = AttrPath::new(name);
                if let Some(sub) = sub {
                    path = path.with_sub_attr(sub);
                }
                let r = registry.resolve(kind.name(), &path).unwrap();
                let def = r.sub_attribute.unwrap_or(r.attribute);
                assert_eq!(def.case_exact, attr.case_exact(), "{attr:?} on {kind:?}");
                assert!(!r.extension);
            }
        }
        let id = registry.resolve("User", &AttrPath::new("id")).unwrap();
        assert!(id.attribute.case_exact, "the id column is compared exactly");
    }

    #[test]
    fn leaves_follow_the_evaluator_walk() {
        let user = json!({
            "id": "u1",
            "UserName": "BJensen",
            "externalId": "Ext-1",
            "emails": [{"value": "A@X.com"}, {"VALUE": ["b@x.com", 7]}, {"value": ""}, {"type": "work"}],
            "displayName": null,
            "members": [{"value": "ignored for users"}]
        });
        let got: Vec<(Indexed, Option<String>)> = indexed_values(U, &user).into_iter().collect();
        assert_eq!(
            got,
            [
                (Indexed::UserName, Some("bjensen".to_owned())),
                (Indexed::ExternalId, Some("Ext-1".to_owned())),
                (Indexed::EmailValue, None),
                (Indexed::EmailValue, Some(String::new())),
                (Indexed::EmailValue, Some("a@x.com".to_owned())),
                (Indexed::EmailValue, Some("b@x.com".to_owned())),
            ]
        );
        // A single object is one element, as for the evaluator.
        let group = json!({"id": "g", "members": {"value": "U1"}, "displayName": ["A", "b"]});
        let got: Vec<(Indexed, Option<String>)> = indexed_values(G, &group).into_iter().collect();
        assert_eq!(
            got,
            [
                (Indexed::DisplayName, Some("a".to_owned())),
                (Indexed::DisplayName, Some("b".to_owned())),
                (Indexed::MemberValue, Some("u1".to_owned())),
            ]
        );
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_escape(r"a%b_c\d"), r"a\%b\_c\\d");
        let (_, params) = sql(U, r#"userName co "50%_\\x""#).unwrap();
        assert_eq!(params, ["t", "User", "userName", r"%50\%\_\\x%"]);
    }

    #[test]
    fn values_are_parameters_never_sql() {
        let (text, params) = sql(U, r#"userName eq "x' OR 1=1 --" or id sw "a'b""#).unwrap();
        assert!(!text.contains("OR 1=1") && !text.contains("a'b"), "{text}");
        assert_eq!(params, ["t", "User", "userName", "x' or 1=1 --", "a'b%"]);
    }

    #[test]
    fn what_is_pushed_down() {
        // Case-insensitive attributes are compared lowercased, caseExact ones as written.
        assert_eq!(
            sql(U, r#"userName eq "BJensen""#).unwrap().1.last().unwrap(),
            "bjensen"
        );
        assert_eq!(sql(U, r#"externalId eq "Ext""#).unwrap().1.last().unwrap(), "Ext");
        assert_eq!(
            sql(U, r#"id eq "AbC""#).unwrap(),
            ("r.id = ?".to_owned(), vec!["AbC".to_owned()])
        );
        assert_eq!(sql(U, r#"id pr"#).unwrap().0, "r.id <> ''");
        for text in [
            r#"emails.value eq "a@x""#,
            r#"emails eq "a@x""#,
            r#"emails[value eq "a@x"]"#,
            r#"emails[type eq "work" and value eq "a@x"]"#,
            r#"EMAILS.VALUE eq "a@x""#,
        ] {
            let (text_sql, params) = sql(U, text).unwrap();
            assert_eq!(params, ["t", "User", "emails.value", "a@x"], "{text}");
            assert!(text_sql.contains("a.v = ?"), "{text}");
        }
        for text in [
            r#"members.value eq "u1""#,
            r#"members[value eq "U1"]"#,
            r#"members eq "u1""#,
        ] {
            assert_eq!(
                sql(G, text).unwrap().1,
                ["t", "Group", "members.value", "u1"],
                "{text}"
            );
        }
        // `and` keeps the translatable side; `or` needs both.
        assert_eq!(
            sql(U, r#"userName eq "a" and title eq "b""#).unwrap().1,
            ["t", "User", "userName", "a"]
        );
        assert!(sql(U, r#"userName eq "a" or title eq "b""#).is_none());
        assert!(sql(U, r#"(userName eq "a" or userName eq "b") and active eq true"#).is_some());
    }

    #[test]
    fn what_is_not_pushed_down() {
        for (kind, text) in [
            (U, r#"not (userName eq "a")"#),
            (U, r#"userName ne "a""#),
            (U, r#"userName gt "a""#),
            (U, r#"userName eq null"#),
            (U, r#"title eq "a""#),
            (U, r#"emails pr"#),
            (U, r#"emails.type eq "work""#),
            (U, r#"emails[type eq "work"]"#),
            (U, r#"emails[not (value eq "a")]"#),
            (U, r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#),
            (U, r#"groups.value eq "g1""#),
            (U, r#"members.value eq "u1""#),
            (G, r#"userName eq "a""#),
            (G, r#"emails.value eq "a""#),
            (U, r#"userName eq 5"#),
        ] {
            assert_eq!(sql(kind, text), None, "{text}");
        }
    }

    #[test]
    fn budget_keeps_a_superset() {
        let many_or = (0..=MAX_PUSHED_TERMS)
            .map(|i| format!("userName eq \"u{i}\""))
            .collect::<Vec<_>>();
        assert!(sql(U, &many_or.join(" or ")).is_none());
        let many_and = many_or.join(" and ");
        let (_, params) = sql(U, &many_and).unwrap();
        assert!(params.len() <= 4 * MAX_PUSHED_TERMS);
        let long = CompValue::String("x".repeat(MAX_LIKE_PATTERN));
        let co = Filter::compare(AttrPath::new("userName"), CompareOp::Co, long.clone());
        assert!(PushDown::translate(U, "t", &co).is_none());
        let eq = Filter::compare(AttrPath::new("userName"), CompareOp::Eq, long);
        assert!(PushDown::translate(U, "t", &eq).is_some());
    }
}
