//! Property: on random data and random filters, the pushed-down `find` of PgStore never
//! leaves out a match, and what the handler answers over PgStore is exactly what it
//! answers over the in-memory store (whose `find` returns everything and leaves the work
//! to the core crate's evaluator).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod scim_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use fedkit_postgres::scim::PgStore;
use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, EvalContext, Filter};
use fedkit_scim::schema::SchemaRegistry;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{MemoryStore, ResourceKind, Store, StoreError};
use fedkit_scim_service::{Request, RequestContext, ScimService};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use scim_support::{ids, tenant};

/// Short strings over an alphabet with mixed case, LIKE metacharacters, quotes, NUL and
/// characters whose lowercase is special (final sigma, Kelvin sign, dotted I, sharp s).
fn text() -> impl Strategy<Value = String> {
    let alphabet = vec![
        "a", "A", "b", "B", "%", "_", "\\", "'", "\"", "@", " ", "É", "é", "Σ", "σ", "ς", "\u{212a}", "k",
        "İ", "i", "ß", "\0",
    ];
    proptest::collection::vec(proptest::sample::select(alphabet), 0..5).prop_map(|v| v.concat())
}

#[derive(Debug, Clone)]
struct UserSpec {
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
    emails: Vec<(String, String)>,
    /// 0: regular; 1: `emails` a single object; 2: `userName` an array; 3: an email
    /// `value` array; 4: key case changed (`USERNAME`, `Emails`); 5: an email `value`
    /// holding a nested array; 6: a `displayName` longer than the index holds.
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

fn user_json(id: &str, s: &UserSpec) -> Value {
    let mut emails: Vec<Value> = s
        .emails
        .iter()
        .map(|(t, v)| json!({"type": t, "value": v}))
        .collect();
    if let Some(first) = emails.first_mut() {
        match s.shape {
            3 => first["value"] = json!([first["value"].clone(), "Extra@X"]),
            5 => first["value"] = json!([[first["value"].clone()]]),
            _ => {}
        }
    }
    let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id,
                       "userName": s.user_name});
    if s.shape == 2 {
        u["userName"] = json!([s.user_name, "Alt"]);
    }
    if let Some(e) = &s.external_id {
        u["externalId"] = json!(e);
    }
    if let Some(d) = &s.display_name {
        u["displayName"] = json!(d);
    }
    if s.shape == 6 {
        u["displayName"] = json!(format!(
            "{}{}",
            "ab".repeat(600),
            s.display_name.clone().unwrap_or_default()
        ));
    }
    let emails_key = if s.shape == 4 { "Emails" } else { "emails" };
    match (s.shape, emails.first()) {
        (1, Some(one)) => u[emails_key] = one.clone(),
        (_, Some(_)) => u[emails_key] = Value::Array(emails),
        _ => {}
    }
    if s.shape == 4 {
        let obj = u.as_object_mut().unwrap();
        let name = obj.remove("userName").unwrap();
        obj.insert("USERNAME".into(), name);
    }
    u
}

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
        .prop_map(|p| AttrPath::parse(p).unwrap())
}

type Groups = Vec<(Option<String>, Vec<String>)>;

/// Every string stored, in other cases and cut into pieces: filter literals that hit.
fn pool(users: &[UserSpec], groups: &Groups) -> Vec<String> {
    let mut base = vec![
        "Alt".to_owned(),
        "Extra@X".to_owned(),
        "u1".to_owned(),
        "ab".repeat(600),
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
            out.push(chars[..n / 2].iter().collect());
            out.push(chars[n / 2..].iter().collect::<String>().to_uppercase());
            out.push(chars[1..n - 1].iter().collect());
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

/// Users and groups, then filters whose literals are often taken from them.
fn data_and_filters() -> impl Strategy<Value = (Vec<UserSpec>, Groups, Vec<Filter>)> {
    let groups = proptest::collection::vec(
        (
            proptest::option::of(text()),
            proptest::collection::vec(text(), 0..3),
        ),
        0..4,
    );
    (proptest::collection::vec(user_spec(), 0..8), groups).prop_flat_map(|(users, groups)| {
        let pool = pool(&users, &groups);
        (
            Just(users),
            Just(groups),
            proptest::collection::vec(filter(pool), 1..24),
        )
    })
}

fn filter_query(filter: &str) -> String {
    let mut out = String::from("filter=");
    for b in filter.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Status and, for a 200, the ids and `totalResults` of a list request.
fn list(
    service: &ScimService,
    t: &TenantId,
    kind: ResourceKind,
    filter: &Filter,
) -> (u16, Vec<String>, Value) {
    let ctx = RequestContext {
        tenant: t,
        base_url: "https://sp.example/scim/v2",
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    let query = filter_query(&filter.to_string());
    let path = format!("/{}", kind.endpoint());
    let r = service.handle(
        &ctx,
        &Request {
            method: "GET",
            path: &path,
            query: &query,
            headers: &[],
            body: b"",
        },
    );
    if r.status != 200 {
        return (r.status, Vec::new(), Value::Null);
    }
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let found = body["Resources"].as_array().cloned().unwrap_or_default();
    (r.status, ids(&found), body["totalResults"].clone())
}

/// One case: the data in two fresh tenants of `pg` (and a decoy) and of a memory store,
/// then every filter through `find` and through the handler.
fn check(
    pg: &Arc<PgStore>,
    case: usize,
    users: &[UserSpec],
    groups: &Groups,
    filters: &[Filter],
) -> Result<(), TestCaseError> {
    let memory = Arc::new(MemoryStore::new());
    let tn = format!("p{case}");
    let t = tenant(&tn);
    // A decoy tenant with the same data under other ids: it must never show up.
    let decoy = format!("decoy{case}");
    let stores: [(&dyn Store, &str, &str); 3] = [
        (pg.as_ref(), &tn, ""),
        (memory.as_ref(), &tn, ""),
        (pg.as_ref(), &decoy, "decoy-"),
    ];
    for (store, tn, prefix) in stores {
        let mut tx = store.begin(&tenant(tn)).unwrap();
        for (i, u) in users.iter().enumerate() {
            let r = tx.insert(ResourceKind::User, &user_json(&format!("{prefix}u{i}"), u));
            prop_assert!(
                r.is_ok() || matches!(r, Err(StoreError::Conflict { .. })),
                "{r:?}"
            );
        }
        for (i, (display, members)) in groups.iter().enumerate() {
            let mut members = members.clone();
            members.push(format!("{prefix}u{i}"));
            tx.insert(
                ResourceKind::Group,
                &group_json(&format!("{prefix}g{i}"), display, &members),
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    // Through the handler: the same answers as over the memory store. (Before the
    // transactions below: the memory store runs one transaction at a time.)
    let pg_service = ScimService::new(pg.clone());
    let memory_service = ScimService::new(memory.clone());
    for kind in ResourceKind::ALL {
        for f in filters {
            let from_pg = list(&pg_service, &t, kind, f);
            let from_memory = list(&memory_service, &t, kind, f);
            prop_assert_eq!(&from_pg, &from_memory, "{} on {:?}", f, kind);
        }
    }
    let registry = SchemaRegistry::core();
    let mut ptx = pg.begin_read(&t).unwrap();
    let mut mtx = memory.begin_read(&t).unwrap();
    for kind in ResourceKind::ALL {
        let all = mtx.find(kind, None).unwrap();
        prop_assert_eq!(ids(&ptx.find(kind, None).unwrap()), ids(&all));
        let ctx = EvalContext::new(&registry, kind.name());
        for f in filters {
            let Ok(compiled) = f.compile(&ctx) else { continue };
            let exact = |rows: Vec<Value>| -> Vec<String> {
                ids(&rows
                    .into_iter()
                    .filter(|r| compiled.matches(r))
                    .collect::<Vec<_>>())
            };
            let pushed = ptx.find(kind, Some(f)).unwrap();
            let pushed_ids = ids(&pushed);
            prop_assert_eq!(
                &exact(pushed),
                &exact(mtx.find(kind, Some(f)).unwrap()),
                "{} on {:?}",
                f,
                kind
            );
            // Never a match left out: every match among all rows came back.
            for id in exact(all.clone()) {
                prop_assert!(pushed_ids.contains(&id), "{} on {:?}: {} left out", f, kind, id);
            }
            prop_assert!(pushed_ids.iter().all(|id| !id.contains("decoy")));
        }
    }
    Ok(())
}

#[test]
fn pushed_down_find_is_a_superset_and_the_handler_agrees_with_the_memory_store() {
    // One server and database for every case (each case in tenants of its own); the
    // server stops when the test ends.
    let (_server, url) = scim_support::database("props");
    let pg = Arc::new(scim_support::node(&url));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let case = AtomicUsize::new(0);
    let result = runner.run(&data_and_filters(), |(users, groups, filters)| {
        let n = case.fetch_add(1, Ordering::Relaxed);
        check(&pg, n, &users, &groups, &filters)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
