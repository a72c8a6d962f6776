//! What the PostgreSQL store indexes, and how pushed-down filters are written in its SQL.
//!
//! The indexed attributes, the leaf values taken from a resource and the walk that decides
//! what a filter pushes down are shared with every SQL store
//! (`fedkit_scim_service::store::pushdown`, which states the superset contract); this
//! module writes them as rows of `fedkit_scim_values` and PostgreSQL SQL. A string leaf is
//! stored lowercased unless the attribute is caseExact; a non-string leaf that counts as
//! present is stored as `NULL`, so `pr` stays right.
//!
//! Two transformations make any string fit a `text` column and a B-tree index, and both are
//! applied identically to stored values and to filter literals, so every relation the
//! pushed-down operators test (equality, prefix, substring, suffix) is kept and the result
//! stays a superset of the matches:
//!
//! * U+0000, which PostgreSQL's `text` cannot hold, becomes U+FFFD ([`index_form`]): a
//!   character-for-character substitution, so `a` contains `b` implies the same of the
//!   substituted strings.
//! * A value longer than [`MAX_INDEXED_BYTES`] is cut to its longest prefix of whole
//!   characters within that length and marked `cut`. `eq`/`sw` compare the cut literal
//!   (two strings sharing a prefix longer than the limit have the same cut form); `co`/`ew`
//!   also return every cut value, whose tail the index does not hold.

use std::collections::BTreeSet;

use fedkit_scim::filter::{CompareOp, Filter};
use fedkit_scim_service::store::pushdown::{self as shared, like_escape, Dialect, Leaf, Target};
use fedkit_scim_service::store::ResourceKind;
use serde_json::Value;

pub(crate) use fedkit_scim_service::store::pushdown::IndexedAttr as Indexed;
#[cfg(test)]
pub(crate) use fedkit_scim_service::store::pushdown::MAX_PUSHED_TERMS;

/// Longest indexed value, in bytes (a B-tree entry must stay under PostgreSQL's ~2700-byte
/// limit, with the tenant beside it). Longer values are cut (see the module docs).
pub(crate) const MAX_INDEXED_BYTES: usize = 1024;

/// The `attr` column value of an indexed attribute. A constant of this module, never input:
/// it is the only literal (besides SQL syntax) the translation writes into SQL text.
pub(crate) fn code(attr: Indexed) -> i16 {
    match attr {
        Indexed::UserName => 1,
        Indexed::ExternalId => 2,
        Indexed::DisplayName => 3,
        Indexed::EmailValue => 4,
        Indexed::MemberValue => 5,
    }
}

/// The form compared: lowercased unless caseExact, then [`index_form`].
fn normalize(attr: Indexed, s: &str) -> String {
    index_form(&attr.normalize(s))
}

/// `s` with U+0000 (which `text` cannot hold) replaced by U+FFFD.
pub(crate) fn index_form(s: &str) -> String {
    if s.contains('\0') {
        s.replace('\0', "\u{FFFD}")
    } else {
        s.to_owned()
    }
}

/// The longest prefix of `s` of whole characters within [`MAX_INDEXED_BYTES`], and whether
/// anything was cut.
pub(crate) fn cut(s: &str) -> (&str, bool) {
    if s.len() <= MAX_INDEXED_BYTES {
        return (s, false);
    }
    let mut end = MAX_INDEXED_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (s.get(..end).unwrap_or_default(), true)
}

/// One row of `fedkit_scim_values`: the attribute, the value in index form (`None` for a
/// present non-string leaf) and whether it was cut.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct IndexRow {
    pub(crate) attr: Indexed,
    pub(crate) value: Option<String>,
    pub(crate) cut: bool,
}

/// Every row to index for `resource`. Deduplicated.
pub(crate) fn indexed_values(kind: ResourceKind, resource: &Value) -> BTreeSet<IndexRow> {
    shared::leaves(kind, resource)
        .into_iter()
        .map(|(attr, leaf)| match leaf {
            Leaf::Text(s) => {
                let full = normalize(attr, s);
                let (kept, was_cut) = cut(&full);
                IndexRow {
                    attr,
                    value: Some(kept.to_owned()),
                    cut: was_cut,
                }
            }
            Leaf::Present => IndexRow {
                attr,
                value: None,
                cut: false,
            },
        })
        .collect()
}

/// A query expression yielding `seq`s (a superset of the matching resources), with its
/// `?` placeholders' values in order. `$1` (tenant) and `$2` (kind) are used as such.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cond {
    pub(crate) sql: String,
    pub(crate) params: Vec<String>,
}

impl Cond {
    /// The SQL with each `?` numbered `$3`, `$4`, ... in order (`$1`, `$2` are the tenant
    /// and the kind). The SQL text is built from constants of this module only, none of
    /// which holds a `?`.
    pub(crate) fn numbered(&self) -> String {
        self.numbered_from(3)
    }

    /// The SQL with each `?` numbered `$first`, `$first + 1`, ... in order, for a statement
    /// whose own parameters take `$1` to `$first - 1` (`$1`, `$2` still the tenant and kind).
    pub(crate) fn numbered_from(&self, first: usize) -> String {
        let mut out = String::with_capacity(self.sql.len() + 8);
        let mut n = first.saturating_sub(1);
        for c in self.sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The test of an indexed value (`a.v`, `a.cut`) against a literal already in index form.
fn value_test(op: CompareOp, literal: &str) -> Option<(String, Option<String>)> {
    let (kept, was_cut) = cut(literal);
    let escaped = like_escape(kept);
    Some(match op {
        CompareOp::Eq => ("a.v = ?".to_owned(), Some(kept.to_owned())),
        CompareOp::Sw => ("a.v LIKE ? ESCAPE '\\'".to_owned(), Some(format!("{escaped}%"))),
        // A literal longer than the index holds can only be inside a cut value.
        CompareOp::Co | CompareOp::Ew if was_cut => ("a.cut".to_owned(), None),
        CompareOp::Co => (
            "(a.v LIKE ? ESCAPE '\\' OR a.cut)".to_owned(),
            Some(format!("%{escaped}%")),
        ),
        CompareOp::Ew => (
            "(a.v LIKE ? ESCAPE '\\' OR a.cut)".to_owned(),
            Some(format!("%{escaped}")),
        ),
        _ => return None,
    })
}

/// The test of a resource id (`i.id`, never cut: longer ids are refused) against a literal.
fn id_test(op: CompareOp, literal: &str) -> Option<(String, String)> {
    let literal = index_form(literal);
    let escaped = like_escape(&literal);
    let (sql, param) = match op {
        CompareOp::Eq => ("i.id = ?", literal),
        CompareOp::Sw => ("i.id LIKE ? ESCAPE '\\'", format!("{escaped}%")),
        CompareOp::Co => ("i.id LIKE ? ESCAPE '\\'", format!("%{escaped}%")),
        CompareOp::Ew => ("i.id LIKE ? ESCAPE '\\'", format!("%{escaped}")),
        _ => return None,
    };
    Some((sql.to_owned(), param))
}

/// PostgreSQL's writing of pushed-down conditions: every leaf is a `SELECT … seq` over one
/// index; `and` is `INTERSECT`, `or` is `UNION`; values are always bound parameters.
pub(crate) struct PushDown;

impl PushDown {
    /// The condition for `filter`, or `None` when nothing of it can be pushed down.
    pub(crate) fn translate(kind: ResourceKind, filter: &Filter) -> Option<Cond> {
        shared::push_down(&PushDown, kind, filter)
    }

    /// The condition for `filter` when it selects exactly the matching resources (see
    /// `push_down_exact` and [`Dialect::is_exact`]), else `None`.
    pub(crate) fn translate_exact(kind: ResourceKind, filter: &Filter) -> Option<Cond> {
        shared::push_down_exact(&PushDown, kind, filter).and_then(|(cond, exact)| exact.then_some(cond))
    }

    fn value_leaf(attr: Indexed, test: &str, param: Option<String>) -> Cond {
        let mut sql = format!(
            "SELECT a.seq FROM fedkit_scim_values a WHERE a.tenant = $1 AND a.kind = $2 AND a.attr = {} AND {test}",
            code(attr)
        );
        let mut params: Vec<String> = param.clone().into_iter().collect();
        if attr == Indexed::MemberValue {
            // String member values are rows of fedkit_scim_group_members (`v`, `cut` as
            // here); non-string ones stay in fedkit_scim_values.
            let member_test = test.replace("a.", "m.");
            sql = format!(
                "{sql} UNION SELECT m.group_seq FROM fedkit_scim_group_members m WHERE m.tenant = $1 AND {member_test}"
            );
            params.extend(param.filter(|_| member_test.contains('?')));
        }
        Cond { sql, params }
    }

    fn id_leaf(test: &str, param: Option<String>) -> Cond {
        Cond {
            sql: format!(
                "SELECT i.seq FROM fedkit_scim_resources i WHERE i.tenant = $1 AND i.kind = $2 AND {test}"
            ),
            params: param.into_iter().collect(),
        }
    }
}

fn combine(l: Cond, op: &str, r: Cond) -> Cond {
    let mut params = l.params;
    params.extend(r.params);
    Cond {
        sql: format!("({}) {op} ({})", l.sql, r.sql),
        params,
    }
}

impl Dialect for PushDown {
    type Cond = Cond;

    fn compare(&self, target: Target, op: CompareOp, literal: &str) -> Option<Cond> {
        match target {
            Target::Id => {
                let (test, param) = id_test(op, literal)?;
                Some(Self::id_leaf(&test, Some(param)))
            }
            Target::Value(attr) => {
                let (test, param) = value_test(op, &normalize(attr, literal))?;
                Some(Self::value_leaf(attr, &test, param))
            }
        }
    }

    fn present(&self, target: Target) -> Cond {
        match target {
            Target::Id => Self::id_leaf("i.id <> ''", None),
            Target::Value(attr) => Self::value_leaf(attr, "(a.v IS NULL OR a.v <> '')", None),
        }
    }

    fn and(&self, left: Cond, right: Cond) -> Cond {
        combine(left, "INTERSECT", right)
    }

    fn or(&self, left: Cond, right: Cond) -> Cond {
        combine(left, "UNION", right)
    }

    /// Exact: `pr`; `eq` and `sw` on a value whose normalized literal is shorter than
    /// [`MAX_INDEXED_BYTES`] minus 3 bytes (a value cut to the index length keeps at least
    /// that many bytes, so it can neither equal the literal nor start with it unless the
    /// whole value does) and holds neither U+0000 nor U+FFFD (which [`index_form`] makes
    /// equal); `eq`, `sw`, `co`, `ew` on `id` (never cut, `COLLATE "C"`, and `LIKE` compares
    /// characters case-sensitively as the evaluator compares the caseExact `id`) under the
    /// same U+0000/U+FFFD condition. `co`/`ew` on a value also return every cut value, a
    /// superset.
    fn is_exact(&self, target: Target, op: Option<CompareOp>, literal: &str) -> bool {
        let Some(op) = op else {
            return true;
        };
        let plain = |s: &str| !s.contains('\0') && !s.contains('\u{FFFD}');
        match target {
            Target::Id => {
                matches!(op, CompareOp::Eq | CompareOp::Sw | CompareOp::Co | CompareOp::Ew) && plain(literal)
            }
            Target::Value(attr) => {
                let normalized = attr.normalize(literal);
                matches!(op, CompareOp::Eq | CompareOp::Sw)
                    && normalized.len() < MAX_INDEXED_BYTES - 3
                    && plain(&normalized)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use fedkit_scim::filter::AttrPath;
    use fedkit_scim::schema::SchemaRegistry;
    use serde_json::json;

    fn sql(kind: ResourceKind, text: &str) -> Option<(String, Vec<String>)> {
        let f = Filter::parse(text).unwrap();
        PushDown::translate(kind, &f).map(|c| (c.numbered(), c.params))
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

    fn rows(kind: ResourceKind, v: &Value) -> Vec<(Indexed, Option<String>, bool)> {
        indexed_values(kind, v)
            .into_iter()
            .map(|r| (r.attr, r.value, r.cut))
            .collect()
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
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            rows(U, &user),
            [
                (Indexed::UserName, s("bjensen"), false),
                (Indexed::ExternalId, s("Ext-1"), false),
                (Indexed::EmailValue, None, false),
                (Indexed::EmailValue, s(""), false),
                (Indexed::EmailValue, s("a@x.com"), false),
                (Indexed::EmailValue, s("b@x.com"), false),
            ]
        );
        // A single object is one element, as for the evaluator.
        let group = json!({"id": "g", "members": {"value": "U1"}, "displayName": ["A", "b"]});
        assert_eq!(
            rows(G, &group),
            [
                (Indexed::DisplayName, s("a"), false),
                (Indexed::DisplayName, s("b"), false),
                (Indexed::MemberValue, s("u1"), false),
            ]
        );
    }

    #[test]
    fn nul_and_long_values_fit_the_index() {
        let long = format!("{}é{}", "a".repeat(MAX_INDEXED_BYTES - 1), "tail");
        let user = json!({"userName": "N\u{0}L", "displayName": long});
        let got = rows(U, &user);
        assert_eq!(got[0], (Indexed::UserName, Some("n\u{FFFD}l".to_owned()), false));
        // Cut before the two-byte `é` that straddles the limit, never inside it.
        let (attr, value, was_cut) = &got[1];
        assert_eq!(*attr, Indexed::DisplayName);
        assert!(was_cut);
        assert_eq!(value.as_deref(), Some("a".repeat(MAX_INDEXED_BYTES - 1).as_str()));
        // Literals get the same treatment.
        assert_eq!(sql(U, r#"userName eq "N\u0000L""#).unwrap().1, ["n\u{FFFD}l"]);
        let (text, params) = sql(U, &format!("displayName sw \"{long}\"")).unwrap();
        assert!(text.contains("LIKE $3"), "{text}");
        assert_eq!(params, [format!("{}%", "a".repeat(MAX_INDEXED_BYTES - 1))]);
        let (text, params) = sql(U, &format!("displayName co \"{long}\"")).unwrap();
        assert!(text.ends_with("a.cut"), "{text}");
        assert!(params.is_empty());
        let (text, _) = sql(U, "displayName ew \"tail\"").unwrap();
        assert!(text.contains("OR a.cut"), "{text}");
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(like_escape(r"a%b_c\d"), r"a\%b\_c\\d");
        let (_, params) = sql(U, r#"userName co "50%_\\x""#).unwrap();
        assert_eq!(params, [r"%50\%\_\\x%"]);
        let (_, params) = sql(U, r#"id sw "a%""#).unwrap();
        assert_eq!(params, [r"a\%%"]);
    }

    #[test]
    fn values_are_parameters_never_sql() {
        let hostile = [
            "x' OR 1=1 --",
            "'; DROP TABLE fedkit_scim_resources; --",
            "$1",
            "?",
            "\\",
            "\"",
            "a.cut",
        ];
        // The SQL text never depends on the value: only the parameters do.
        for op in ["eq", "co", "sw", "ew"] {
            for attr in ["userName", "id", "emails.value", "externalId", "emails[value"] {
                let close = if attr.contains('[') { "]" } else { "" };
                let (plain, _) = sql(U, &format!("{attr} {op} \"x\"{close}")).unwrap();
                for v in hostile {
                    let quoted = serde_json::to_string(v).unwrap();
                    let (text, params) = sql(U, &format!("{attr} {op} {quoted}{close}")).unwrap();
                    assert_eq!(text, plain, "{attr} {op} {v}");
                    assert_eq!(params.len(), 1);
                    assert!(params[0].to_lowercase().contains(&like_escape(&v.to_lowercase())) || op == "eq");
                }
            }
        }
        // Placeholders are numbered after the tenant ($1) and kind ($2), in order.
        let (text, params) = sql(U, r#"userName eq "?" or (id sw "a?" and externalId ew "$2")"#).unwrap();
        assert_eq!(params, ["?", "a?%", "%$2"]);
        assert!(
            text.contains("a.v = $3") && text.contains("i.id LIKE $4") && text.contains("a.v LIKE $5"),
            "{text}"
        );
    }

    #[test]
    fn what_is_pushed_down() {
        assert_eq!(sql(U, r#"userName eq "BJensen""#).unwrap().1, ["bjensen"]);
        assert_eq!(sql(U, r#"externalId eq "Ext""#).unwrap().1, ["Ext"]);
        let (text, params) = sql(U, r#"id eq "AbC""#).unwrap();
        assert_eq!(params, ["AbC"]);
        assert!(text.ends_with("i.id = $3"), "{text}");
        assert!(sql(U, "id pr").unwrap().0.ends_with("i.id <> ''"));
        for text in [
            r#"emails.value eq "a@x""#,
            r#"emails eq "a@x""#,
            r#"emails[value eq "a@x"]"#,
            r#"emails[type eq "work" and value eq "a@x"]"#,
            r#"EMAILS.VALUE eq "a@x""#,
        ] {
            let (text_sql, params) = sql(U, text).unwrap();
            assert_eq!(params, ["a@x"], "{text}");
            assert!(text_sql.contains("a.attr = 4 AND a.v = $3"), "{text}: {text_sql}");
        }
        for text in [
            r#"members.value eq "u1""#,
            r#"members[value eq "U1"]"#,
            r#"members eq "u1""#,
        ] {
            // Non-string member values in fedkit_scim_values, string ones in the member rows.
            let (text_sql, params) = sql(G, text).unwrap();
            assert_eq!(params, ["u1", "u1"], "{text}");
            assert!(text_sql.contains("a.attr = 5"), "{text}");
            assert!(
                text_sql.contains("fedkit_scim_group_members m WHERE m.tenant = $1 AND m.v = $4"),
                "{text}: {text_sql}"
            );
        }
        // `and` keeps the translatable side; `or` needs both.
        assert_eq!(sql(U, r#"userName eq "a" and title eq "b""#).unwrap().1, ["a"]);
        assert!(sql(U, r#"userName eq "a" or title eq "b""#).is_none());
        let (text, _) = sql(U, r#"(userName eq "a" or userName eq "b") and externalId pr"#).unwrap();
        assert!(
            text.contains(") UNION (") && text.contains(") INTERSECT ("),
            "{text}"
        );
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
            (U, r#"active eq true"#),
        ] {
            assert_eq!(sql(kind, text), None, "{text}");
        }
    }

    #[test]
    fn exactness_of_pushed_conditions() {
        let exact =
            |kind, text: &str| PushDown::translate_exact(kind, &Filter::parse(text).unwrap()).is_some();
        let short = "a".repeat(MAX_INDEXED_BYTES - 4);
        let edge = "a".repeat(MAX_INDEXED_BYTES - 3);
        for text in [
            r#"userName eq "BJensen""#.to_owned(),
            r#"emails.value sw "b""#.to_owned(),
            r#"userName pr and externalId pr"#.to_owned(),
            r#"id eq "AbC" or id co "x" or id sw "y" or id ew "z""#.to_owned(),
            format!("displayName eq \"{short}\""),
        ] {
            assert!(exact(U, &text), "{text}");
        }
        assert!(exact(G, r#"members.value eq "u1""#));
        for text in [
            r#"userName co "b""#.to_owned(),
            r#"userName ew "b""#.to_owned(),
            r#"userName eq "a\u0000b""#.to_owned(),
            "userName sw \"a\u{FFFD}\"".to_owned(),
            r#"id eq "a\u0000""#.to_owned(),
            "id co \"\u{FFFD}\"".to_owned(),
            format!("displayName eq \"{edge}\""),
            format!("displayName sw \"{edge}\""),
            r#"userName eq "a" and title eq "b""#.to_owned(),
        ] {
            assert!(!exact(U, &text), "{text}");
        }
    }

    #[test]
    fn budget_keeps_a_superset() {
        let many = (0..=MAX_PUSHED_TERMS)
            .map(|i| format!("userName eq \"u{i}\""))
            .collect::<Vec<_>>();
        assert!(sql(U, &many.join(" or ")).is_none());
        let (_, params) = sql(U, &many.join(" and ")).unwrap();
        assert!(params.len() <= MAX_PUSHED_TERMS);
    }
}
