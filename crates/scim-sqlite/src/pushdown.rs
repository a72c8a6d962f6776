//! What the SQLite store indexes, and how pushed-down filters are written in its SQL.
//!
//! The indexed attributes, the leaf values taken from a resource and the walk that decides
//! what a filter pushes down are shared with every SQL store ([`crate::store::pushdown`],
//! which states the superset contract); this module writes them as SQLite rows and SQL.
//! A string leaf is stored lowercased unless the attribute is caseExact; a non-string leaf
//! that counts as present is stored as `NULL`, so `pr` stays right.

use std::collections::BTreeSet;

use fedkit_scim::filter::{CompareOp, Filter};
use serde_json::Value;

use fedkit_scim_service::store::pushdown::{self as shared, like_escape, Dialect, Leaf, Target};
use fedkit_scim_service::store::ResourceKind;

pub(super) use fedkit_scim_service::store::pushdown::IndexedAttr as Indexed;
#[cfg(test)]
pub(super) use fedkit_scim_service::store::pushdown::MAX_PUSHED_TERMS;

/// Longest `LIKE` pattern (bytes) pushed down; SQLite refuses patterns over 50 000 bytes
/// by default, and a refused query would be an error instead of a superset.
pub(super) const MAX_LIKE_PATTERN: usize = 10_000;

/// Every `(attribute, value)` row to index for `resource`: string leaves normalized, present
/// non-string leaves as `None`. Deduplicated.
pub(super) fn indexed_values(kind: ResourceKind, resource: &Value) -> BTreeSet<(Indexed, Option<String>)> {
    shared::leaves(kind, resource)
        .into_iter()
        .map(|(attr, leaf)| match leaf {
            Leaf::Text(s) => (attr, Some(attr.normalize(s))),
            Leaf::Present => (attr, None),
        })
        .collect()
}

/// A piece of SQL with its `?` parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Cond {
    pub(super) sql: String,
    pub(super) params: Vec<String>,
}

/// `column op value` for a string literal already normalized, or `None` when the operator is
/// not pushed down. `LIKE` (`ew`) stops at a NUL character on both sides, so a row whose
/// value holds one is always kept (`instr` compares lengths, not C strings).
fn string_test(column: &str, op: CompareOp, value: &str) -> Option<(String, String)> {
    let escaped = like_escape(value);
    let pattern = match op {
        CompareOp::Eq => return Some((format!("{column} = ?"), value.to_owned())),
        // `instr` compares characters exactly (case included) and past a NUL, so `co` and
        // `sw` are exact: the first occurrence is at 1 exactly when the value starts so.
        CompareOp::Co => return Some((format!("instr({column}, ?) > 0"), value.to_owned())),
        CompareOp::Sw => return Some((format!("instr({column}, ?) = 1"), value.to_owned())),
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

/// SQLite's writing of pushed-down conditions: every leaf is `r.seq IN (…)` or a test on
/// `r.id`, over the resource alias `r`; values are always bound parameters.
pub(super) struct PushDown<'a> {
    kind: ResourceKind,
    tenant: &'a str,
}

impl<'a> PushDown<'a> {
    /// The condition for `filter`, or `None` when nothing of it can be pushed down.
    pub(super) fn translate(kind: ResourceKind, tenant: &'a str, filter: &Filter) -> Option<Cond> {
        shared::push_down(&PushDown { kind, tenant }, kind, filter)
    }

    /// The condition for `filter` when it selects exactly the matches (see
    /// [`shared::push_down_exact`]), else `None`.
    pub(super) fn translate_exact(kind: ResourceKind, tenant: &'a str, filter: &Filter) -> Option<Cond> {
        shared::push_down_exact(&PushDown { kind, tenant }, kind, filter)
            .and_then(|(cond, exact)| exact.then_some(cond))
    }

    fn value_leaf(&self, attr: Indexed, test: &str, param: Option<String>) -> Cond {
        let mut params = vec![
            self.tenant.to_owned(),
            self.kind.name().to_owned(),
            attr.name().to_owned(),
        ];
        params.extend(param.clone());
        let mut sql = format!(
            "r.seq IN (SELECT a.seq FROM scim_values a WHERE a.tenant = ? AND a.kind = ? AND a.attr = ? AND {test})"
        );
        if attr == Indexed::MemberValue {
            // String member values live in scim_group_members (one row per member, its
            // `member_key` normalized like `a.v`); non-string ones stay in scim_values.
            let member_test = test.replace("a.v", "m.member_key");
            sql = format!(
                "({sql} OR r.seq IN (SELECT m.group_seq FROM scim_group_members m WHERE m.tenant = ? AND {member_test}))"
            );
            params.push(self.tenant.to_owned());
            let extra = usize::from(param.is_some()) * member_test.matches('?').count();
            for _ in 0..extra {
                params.extend(param.clone());
            }
        }
        Cond { sql, params }
    }
}

fn combine(l: Cond, op: &str, r: Cond) -> Cond {
    let mut params = l.params;
    params.extend(r.params);
    Cond {
        sql: format!("({} {op} {})", l.sql, r.sql),
        params,
    }
}

impl Dialect for PushDown<'_> {
    type Cond = Cond;

    fn compare(&self, target: Target, op: CompareOp, literal: &str) -> Option<Cond> {
        match target {
            Target::Id => {
                let (sql, param) = string_test("r.id", op, literal)?;
                Some(Cond {
                    sql,
                    params: vec![param],
                })
            }
            Target::Value(attr) => {
                let (test, param) = string_test("a.v", op, &attr.normalize(literal))?;
                Some(self.value_leaf(attr, &test, Some(param)))
            }
        }
    }

    fn present(&self, target: Target) -> Cond {
        match target {
            Target::Id => Cond {
                sql: "r.id <> ''".to_owned(),
                params: Vec::new(),
            },
            Target::Value(attr) => self.value_leaf(attr, "(a.v IS NULL OR a.v <> '')", None),
        }
    }

    fn and(&self, left: Cond, right: Cond) -> Cond {
        combine(left, "AND", right)
    }

    fn or(&self, left: Cond, right: Cond) -> Cond {
        combine(left, "OR", right)
    }

    /// `eq` (`=` on the normalized value), `co` and `sw` (`instr`) and `pr` are exact; `ew`
    /// (`LIKE`, ASCII-case-insensitive and cut at a NUL) is a superset.
    fn is_exact(&self, _target: Target, op: Option<CompareOp>, _literal: &str) -> bool {
        matches!(op, None | Some(CompareOp::Eq | CompareOp::Co | CompareOp::Sw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fedkit_scim::filter::{AttrPath, CompValue};
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
        let (_, params) = sql(U, r#"userName ew "50%_\\x""#).unwrap();
        assert_eq!(params, ["t", "User", "userName", r"%50\%\_\\x"]);
        // `co` and `sw` use `instr`: the literal as it is.
        let (text, params) = sql(U, r#"userName co "50%_\\x""#).unwrap();
        assert!(text.contains("instr(a.v, ?) > 0"), "{text}");
        assert_eq!(params, ["t", "User", "userName", r"50%_\x"]);
    }

    #[test]
    fn values_are_parameters_never_sql() {
        let (text, params) = sql(U, r#"userName eq "x' OR 1=1 --" or id sw "a'b""#).unwrap();
        assert!(!text.contains("OR 1=1") && !text.contains("a'b"), "{text}");
        assert_eq!(params, ["t", "User", "userName", "x' or 1=1 --", "a'b"]);
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
            // Non-string member values in scim_values, string ones in scim_group_members.
            let (text_sql, params) = sql(G, text).unwrap();
            assert_eq!(params, ["t", "Group", "members.value", "u1", "t", "u1"], "{text}");
            assert!(text_sql.contains("m.member_key = ?"), "{text}");
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
        let ew = Filter::compare(AttrPath::new("userName"), CompareOp::Ew, long.clone());
        assert!(PushDown::translate(U, "t", &ew).is_none());
        let co = Filter::compare(AttrPath::new("userName"), CompareOp::Co, long.clone());
        assert!(
            PushDown::translate(U, "t", &co).is_some(),
            "instr has no pattern limit"
        );
        let eq = Filter::compare(AttrPath::new("userName"), CompareOp::Eq, long);
        assert!(PushDown::translate(U, "t", &eq).is_some());
    }
}
