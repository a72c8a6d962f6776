//! Random data and random filters for property tests of a store's filter push-down: the
//! store's `find`, filtered exactly by the core evaluator, must give what the
//! [`MemoryStore`] gives (whose `find` returns everything), and never leave out a match.
//!
//! The data is made to break push-downs: strings over an alphabet with mixed case, `LIKE`
//! metacharacters, quotes, NUL and characters whose lowercase is special (final sigma,
//! Kelvin sign, dotted I, sharp s); documents of unusual shape (`emails` a single object,
//! `userName` an array, keys in other cases, nested arrays, values longer than an index
//! holds); filter literals mostly cut from the stored values.
//!
//! ```
//! use fedkit_scim_service::store::conformance::props::cases;
//! use fedkit_scim_service::store::MemoryStore;
//! use proptest::test_runner::{Config, TestRunner};
//!
//! let mut runner = TestRunner::new(Config { cases: 8, failure_persistence: None, ..Config::default() });
//! runner.run(&cases(8), |case| {
//!     let tenant = fedkit_scim_service::auth::TenantId::new("p").unwrap();
//!     let store = MemoryStore::new(); // the store under test, e.g. a fresh database
//!     let memory = MemoryStore::new();
//!     case.load(&store, &tenant, "")?;
//!     case.load(&memory, &tenant, "")?;
//!     case.check_find(&store, &memory, &tenant)
//! }).unwrap();
//! ```

use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, EvalContext, Filter};
use fedkit_scim::schema::SchemaRegistry;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::super::{MemoryStore, PageQuery, ResourceKind, Store, StoreError};
use crate::auth::TenantId;

/// Short strings over the alphabet of the [module docs](self).
pub fn text() -> impl Strategy<Value = String> {
    let alphabet = vec![
        "a", "A", "b", "B", "%", "_", "\\", "'", "\"", "@", " ", "É", "é", "Σ", "σ", "ς", "\u{212a}", "k",
        "İ", "i", "ß", "\0",
    ];
    proptest::collection::vec(proptest::sample::select(alphabet), 0..5).prop_map(|v| v.concat())
}

/// A generated user.
#[derive(Debug, Clone)]
pub struct UserSpec {
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
    emails: Vec<(String, String)>,
    /// 0: regular; 1: `emails` a single object; 2: `userName` an array; 3: an email
    /// `value` array; 4: key case changed (`USERNAME`, `Emails`); 5: an email `value`
    /// holding a nested array; 6: a `displayName` longer than an index holds.
    shape: u8,
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (
        text(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::collection::vec(
            (
                proptest::sample::select(vec!["work", "home"]).prop_map(str::to_owned),
                text(),
            ),
            0..3,
        ),
        prop_oneof![5 => Just(0u8), 1 => 1..=6u8],
    )
        .prop_map(|(user_name, external_id, display_name, emails, shape)| UserSpec {
            user_name,
            external_id,
            display_name,
            emails,
            shape,
        })
}

/// The long prefix of shape 6 (1 200 bytes).
fn long_prefix() -> String {
    "ab".repeat(600)
}

impl UserSpec {
    /// The user document with this `id`.
    pub fn to_json(&self, id: &str) -> Value {
        let mut emails: Vec<Value> = self
            .emails
            .iter()
            .map(|(t, v)| json!({"type": t, "value": v}))
            .collect();
        if let Some(first) = emails.first_mut() {
            match self.shape {
                3 => first["value"] = json!([first["value"].clone(), "Extra@X"]),
                5 => first["value"] = json!([[first["value"].clone()]]),
                _ => {}
            }
        }
        let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id,
                           "userName": self.user_name});
        if self.shape == 2 {
            u["userName"] = json!([self.user_name, "Alt"]);
        }
        if let Some(e) = &self.external_id {
            u["externalId"] = json!(e);
        }
        if let Some(d) = &self.display_name {
            u["displayName"] = json!(d);
        }
        if self.shape == 6 {
            u["displayName"] = json!(format!(
                "{}{}",
                long_prefix(),
                self.display_name.clone().unwrap_or_default()
            ));
        }
        let emails_key = if self.shape == 4 { "Emails" } else { "emails" };
        match (self.shape, emails.first()) {
            (1, Some(one)) => u[emails_key] = one.clone(),
            (_, Some(_)) => u[emails_key] = Value::Array(emails),
            _ => {}
        }
        if self.shape == 4 {
            if let Some(obj) = u.as_object_mut() {
                if let Some(name) = obj.remove("userName") {
                    obj.insert("USERNAME".into(), name);
                }
            }
        }
        u
    }
}

/// A generated group: its `displayName` and member values.
pub type GroupSpec = (Option<String>, Vec<String>);

fn group_json(id: &str, display: &Option<String>, members: &[String]) -> Value {
    let mut g = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": id,
                       "members": members.iter().map(|m| json!({"value": m, "type": "User"})).collect::<Vec<_>>()});
    if let Some(d) = display {
        g["displayName"] = json!(d);
    }
    g
}

/// Mostly the pushed-down attributes (in any case), sometimes others.
fn attr_path() -> impl Strategy<Value = AttrPath> {
    let pushed = vec![
        "id",
        "userName",
        "USERNAME",
        "externalId",
        "displayName",
        "emails",
        "emails.value",
        "Emails.VALUE",
        "members",
        "members.value",
    ];
    let other = vec![
        "emails.type",
        "title",
        "members.type",
        "urn:ietf:params:scim:schemas:core:2.0:User:userName",
        "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
    ];
    prop_oneof![3 => proptest::sample::select(pushed), 1 => proptest::sample::select(other)]
        .prop_map(|p| AttrPath::parse(p).unwrap_or_else(|_| AttrPath::new("title")))
}

/// Every string stored, in other cases and cut into pieces: filter literals that hit.
fn pool(users: &[UserSpec], groups: &[GroupSpec]) -> Vec<String> {
    let mut base = vec![
        "Alt".to_owned(),
        "Extra@X".to_owned(),
        "u1".to_owned(),
        long_prefix(),
    ];
    for u in users {
        base.push(u.user_name.clone());
        base.extend(u.external_id.clone());
        base.extend(u.display_name.clone());
        base.extend(u.emails.iter().map(|(_, v)| v.clone()));
    }
    for (display, members) in groups {
        base.extend(display.clone());
        base.extend(members.iter().cloned());
    }
    let mut out = vec![String::new()];
    for s in base {
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        out.push(s.to_uppercase());
        out.push(s.to_lowercase());
        if n > 1 {
            out.push(chars.iter().take(n / 2).collect());
            out.push(chars.iter().skip(n / 2).collect::<String>().to_uppercase());
            out.push(chars.iter().skip(1).take(n - 2).collect());
        }
        out.push(s);
    }
    out
}

fn comp_value(pool: Vec<String>) -> impl Strategy<Value = CompValue> {
    prop_oneof![
        6 => proptest::sample::select(pool).prop_map(CompValue::String),
        3 => text().prop_map(CompValue::String),
        1 => Just(CompValue::Null),
        1 => any::<bool>().prop_map(CompValue::Bool),
    ]
}

/// Mostly the pushed-down operators, sometimes the others.
fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        3 => proptest::sample::select(vec![CompareOp::Eq, CompareOp::Co, CompareOp::Sw, CompareOp::Ew]),
        1 => proptest::sample::select(CompareOp::ALL.to_vec()),
    ]
}

fn element_filter(pool: Vec<String>) -> impl Strategy<Value = Filter> {
    let sub = proptest::sample::select(vec!["value", "VALUE", "type", "display"]);
    let leaf = prop_oneof![
        (sub, op(), comp_value(pool)).prop_map(|(p, op, v)| Filter::compare(AttrPath::new(p), op, v)),
        proptest::sample::select(vec!["value", "type"]).prop_map(|p| Filter::Present(AttrPath::new(p))),
    ];
    leaf.prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
            inner.prop_map(Filter::negate),
        ]
    })
}

fn filter(pool: Vec<String>) -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        4 => (attr_path(), op(), comp_value(pool.clone())).prop_map(|(p, op, v)| Filter::compare(p, op, v)),
        1 => attr_path().prop_map(Filter::Present),
        2 => (proptest::sample::select(vec!["emails", "members"]), element_filter(pool))
            .prop_map(|(a, f)| Filter::value_path(AttrPath::new(a), f)),
    ];
    // Single conditions half of the time: they are what a push-down bug shows up in.
    let tree = leaf.clone().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            2 => (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::and(l, r)),
            2 => (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::or(l, r)),
            1 => inner.prop_map(Filter::negate),
        ]
    });
    prop_oneof![leaf, tree]
}

/// One generated case: users, groups, and filters whose literals are often taken from them.
#[derive(Debug, Clone)]
pub struct Case {
    /// The users.
    pub users: Vec<UserSpec>,
    /// The groups (each also gets the member `u<i>`, the id of the i-th user).
    pub groups: Vec<GroupSpec>,
    /// The filters to check.
    pub filters: Vec<Filter>,
}

/// Cases of up to 8 users, 4 groups and `1..max_filters` filters.
pub fn cases(max_filters: usize) -> impl Strategy<Value = Case> {
    let groups = proptest::collection::vec(
        (
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
        ),
        0..4,
    );
    let max_filters = max_filters.max(2);
    (proptest::collection::vec(user_spec(), 0..8), groups).prop_flat_map(move |(users, groups)| {
        let pool = pool(&users, &groups);
        (
            Just(users),
            Just(groups),
            proptest::collection::vec(filter(pool), 1..max_filters),
        )
            .prop_map(|(users, groups, filters)| Case {
                users,
                groups,
                filters,
            })
    })
}

/// The ids of documents.
pub fn ids(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

impl Case {
    /// Writes the users (`<prefix>u<i>`) and groups (`<prefix>g<i>`) into `tenant` of
    /// `store`, in one transaction. A user refused as a `userName` conflict is skipped (the
    /// memory store refuses the same ones).
    pub fn load(&self, store: &dyn Store, tenant: &TenantId, prefix: &str) -> Result<(), TestCaseError> {
        let mut tx = store
            .begin(tenant)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, u) in self.users.iter().enumerate() {
            let r = tx.insert(ResourceKind::User, &u.to_json(&format!("{prefix}u{i}")));
            prop_assert!(
                r.is_ok() || matches!(r, Err(StoreError::Conflict { .. })),
                "{r:?}"
            );
        }
        for (i, (display, members)) in self.groups.iter().enumerate() {
            let mut members = members.clone();
            members.push(format!("{prefix}u{i}"));
            let r = tx.insert(
                ResourceKind::Group,
                &group_json(&format!("{prefix}g{i}"), display, &members),
            );
            prop_assert!(r.is_ok(), "{r:?}");
        }
        tx.commit().map_err(|e| TestCaseError::fail(e.to_string()))
    }

    /// With the case [loaded](Self::load) into `tenant` of both stores: for every filter and
    /// kind, `store`'s `find` filtered exactly gives what `memory`'s gives, in the same
    /// order; it returns every match; and no id holds `decoy` (load the same case into
    /// another tenant with the prefix `decoy-` to check tenants stay apart).
    pub fn check_find(
        &self,
        store: &dyn Store,
        memory: &MemoryStore,
        tenant: &TenantId,
    ) -> Result<(), TestCaseError> {
        let fail = |e: StoreError| TestCaseError::fail(e.to_string());
        let registry = SchemaRegistry::core();
        let mut stx = store.begin_read(tenant).map_err(fail)?;
        let mut mtx = memory.begin_read(tenant).map_err(fail)?;
        for kind in ResourceKind::ALL {
            let all = mtx.find(kind, None).map_err(fail)?;
            prop_assert_eq!(ids(&stx.find(kind, None).map_err(fail)?), ids(&all));
            let ctx = EvalContext::new(&registry, kind.name());
            for f in &self.filters {
                let Ok(compiled) = f.compile(&ctx) else { continue };
                let exact = |rows: Vec<Value>| -> Vec<String> {
                    ids(&rows
                        .into_iter()
                        .filter(|r| compiled.matches(r))
                        .collect::<Vec<_>>())
                };
                let pushed = stx.find(kind, Some(f)).map_err(fail)?;
                let pushed_ids = ids(&pushed);
                prop_assert_eq!(
                    &exact(pushed),
                    &exact(mtx.find(kind, Some(f)).map_err(fail)?),
                    "{} on {:?}",
                    f,
                    kind
                );
                // Never a match left out: every match among all rows came back.
                for id in exact(all.clone()) {
                    prop_assert!(pushed_ids.contains(&id), "{} on {:?}: {} left out", f, kind, id);
                }
                prop_assert!(pushed_ids.iter().all(|id| !id.contains("decoy")));
                // A filtered page, when the store answers it, is exactly a page of the matches.
                let matches = exact(all.clone());
                for (offset, limit) in [(0, usize::MAX), (1, 2)] {
                    let mut q = PageQuery::new(offset, limit);
                    q.filter = Some(f);
                    if let Some(page) = stx.find_page(kind, &q).map_err(fail)? {
                        prop_assert_eq!(page.total, matches.len(), "{} on {:?}: total", f, kind);
                        let want: Vec<String> = matches.iter().skip(offset).take(limit).cloned().collect();
                        prop_assert_eq!(ids(&page.resources), want, "{} on {:?}: page", f, kind);
                    }
                }
            }
        }
        Ok(())
    }
}
