//! PgStore against a real PostgreSQL server: the store conformance suite, the push-down
//! with hostile values, storage edge cases, read-only transactions and failures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod scim_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fedkit_postgres::scim::{PgStore, MAX_ID_BYTES};
use fedkit_postgres::{Pool, PoolSettings};
use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use fedkit_scim_service::store::{
    conformance, Membership, PageQuery, ResourceKind, SortKey, Store, StoreError,
};
use serde_json::{json, Value};

use scim_support::{database, ids, node, store, tenant, user};

fn find(store: &dyn Store, t: &str, kind: ResourceKind, filter: &Filter) -> Vec<String> {
    let mut tx = store.begin_read(&tenant(t)).unwrap();
    ids(&tx.find(kind, Some(filter)).unwrap())
}

fn find_text(store: &dyn Store, t: &str, kind: ResourceKind, filter: &str) -> Vec<String> {
    find(store, t, kind, &Filter::parse(filter).unwrap())
}

fn cmp(attr: &str, op: CompareOp, v: &str) -> Filter {
    Filter::compare(AttrPath::parse(attr).unwrap(), op, CompValue::String(v.into()))
}

#[test]
fn conformance_suite() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("conformance");
    conformance::run(&store);
}

#[test]
fn handler_suite() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    // fedkit-scim-service's handler checks, each store on a fresh database.
    let server = scim_support::server();
    let made = std::sync::atomic::AtomicUsize::new(0);
    conformance::handler::run(&|| -> std::sync::Arc<dyn Store> {
        let n = made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let url = server.create_database(&format!("handler_{n}")).expect("database");
        std::sync::Arc::new(fedkit_postgres::scim::PgStore::connect(&url).expect("store"))
    });
}

#[test]
fn two_nodes_start_together_and_see_the_same_data() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, url) = database("two_starts");
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| node(&url));
        let b = s.spawn(|| node(&url));
        (a.join().unwrap(), b.join().unwrap())
    });
    let t = tenant("acme");
    let mut tx = a.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "Alice")).unwrap();
    // Not visible to the other node before commit.
    assert_eq!(
        b.begin_read(&t).unwrap().get(ResourceKind::User, "u1").unwrap(),
        None
    );
    tx.commit().unwrap();
    assert_eq!(
        b.begin_read(&t).unwrap().get(ResourceKind::User, "u1").unwrap(),
        Some(user("u1", "Alice"))
    );
    // The userName index is shared: the other node cannot take the name.
    let mut tx = b.begin(&t).unwrap();
    assert_eq!(
        tx.insert(ResourceKind::User, &user("u2", "ALICE")),
        Err(StoreError::Conflict {
            kind: "User",
            attribute: "userName",
            value: "alice".into()
        })
    );
    // The migration ran once.
    let pool = Pool::connect(&url, PoolSettings::default()).unwrap();
    let steps: i64 = pool
        .get()
        .unwrap()
        .query_one(
            "SELECT count(*) FROM fedkit_migrations WHERE component = 'scim'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(steps, 3);
}

#[test]
fn sql_shaped_and_like_metacharacter_values_are_found_exactly() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("hostile");
    let t = tenant("t");
    let names = [
        "x' OR 1=1 --",
        "100%",
        "100x",
        "a_b",
        "aXb",
        r"back\slash",
        r"backXslash",
        "'; DROP TABLE fedkit_scim_resources; --",
        "plain",
        "$1",
        "é_Ü",
    ];
    let mut tx = store.begin(&t).unwrap();
    for (i, n) in names.iter().enumerate() {
        let mut u = user(&format!("u{i}"), n);
        u["externalId"] = json!(n);
        u["displayName"] = json!(n.to_uppercase());
        tx.insert(ResourceKind::User, &u).unwrap();
    }
    tx.commit().unwrap();
    let q = |f: &Filter| find(&store, "t", ResourceKind::User, f);
    for attr in ["userName", "externalId", "displayName", "emails.value"] {
        assert_eq!(q(&cmp(attr, CompareOp::Co, "' OR 1=1")), ["u0"], "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Co, "0%")), ["u1"], "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Co, "a_b")), ["u3"], "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Sw, r"back\")), ["u5"], "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Co, "%")), ["u1"], "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Co, "_")), ["u3", "u7", "u10"], "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Co, "DROP TABLE")).len(), 1, "{attr}");
        assert_eq!(q(&cmp(attr, CompareOp::Sw, "$1")), ["u9"], "{attr}");
    }
    // userName is case-insensitive, externalId caseExact.
    assert_eq!(q(&cmp("userName", CompareOp::Eq, "X' or 1=1 --")), ["u0"]);
    assert!(q(&cmp("externalId", CompareOp::Eq, "X' or 1=1 --")).is_empty());
    assert_eq!(q(&cmp("externalId", CompareOp::Eq, "x' OR 1=1 --")), ["u0"]);
    assert_eq!(q(&cmp("userName", CompareOp::Ew, "_ü")), ["u10"]);
    assert_eq!(q(&cmp("id", CompareOp::Sw, "u1")), ["u1", "u10"]);
    assert_eq!(
        q(&cmp("id", CompareOp::Eq, "u1' OR '1'='1")),
        Vec::<String>::new()
    );
    // The tables are still there, whole.
    assert_eq!(q(&cmp("userName", CompareOp::Sw, "")).len(), names.len());
    assert_eq!(q(&Filter::Present(AttrPath::new("id"))).len(), names.len());
}

#[test]
fn nul_characters_and_huge_values_are_stored_and_found() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("nul_long");
    let t = tenant("t");
    let long = format!("{}Zé-tail", "a".repeat(3000));
    let mut tx = store.begin(&t).unwrap();
    // JSONB cannot hold U+0000: the document still round-trips exactly.
    let nul = json!({"id": "nul", "userName": "nul\u{0}byte", "displayName": "d\u{0}",
                     "title": "t\u{0}", "x\u{0}key": [1, {"a": "\u{0}"}]});
    tx.insert(ResourceKind::User, &nul).unwrap();
    let huge = json!({"id": "huge", "userName": long, "displayName": long, "externalId": long,
                      "emails": [{"value": long}]});
    tx.insert(ResourceKind::User, &huge).unwrap();
    tx.insert(ResourceKind::User, &user("other", "other")).unwrap();
    // A second user whose name differs only after the indexed prefix is not a clash.
    let mut near = huge.clone();
    near["id"] = json!("near");
    near["userName"] = json!(format!("{}Zé-tall", "a".repeat(3000)));
    tx.insert(ResourceKind::User, &near).unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin_read(&t).unwrap();
    assert_eq!(tx.get(ResourceKind::User, "nul").unwrap(), Some(nul.clone()));
    assert_eq!(tx.get(ResourceKind::User, "huge").unwrap(), Some(huge.clone()));
    drop(tx);
    let q = |f: &Filter| find(&store, "t", ResourceKind::User, f);
    assert_eq!(q(&cmp("userName", CompareOp::Eq, "NUL\0BYTE")), ["nul"]);
    assert_eq!(q(&cmp("userName", CompareOp::Sw, "nul\0")), ["nul"]);
    // `co`/`ew` also return the users whose indexed name was cut (the handler's exact
    // check drops them), never one whose whole name is in the index and does not match.
    assert_eq!(
        q(&cmp("userName", CompareOp::Ew, "\0byte")),
        ["nul", "huge", "near"]
    );
    assert_eq!(
        q(&cmp("userName", CompareOp::Co, "l\0b")),
        ["nul", "huge", "near"]
    );
    // The substitute is only ever a superset: the handler's exact check drops this one.
    assert_eq!(q(&cmp("userName", CompareOp::Eq, "nul\u{FFFD}byte")), ["nul"]);
    for attr in ["userName", "displayName", "externalId", "emails.value"] {
        let both = q(&cmp(attr, CompareOp::Sw, &"a".repeat(2000)));
        assert!(both.contains(&"huge".to_owned()), "{attr}: {both:?}");
        assert!(
            q(&cmp(attr, CompareOp::Ew, "é-tail")).contains(&"huge".to_owned()),
            "{attr}"
        );
        assert!(
            q(&cmp(attr, CompareOp::Co, "Zé-ta")).contains(&"huge".to_owned()),
            "{attr}"
        );
        // Cut values compare on their prefix: both come back, the handler keeps the exact one.
        assert_eq!(q(&cmp(attr, CompareOp::Eq, &long)), ["huge", "near"], "{attr}");
        assert!(
            !q(&cmp(attr, CompareOp::Co, "Zé-ta")).contains(&"other".to_owned()),
            "{attr}"
        );
    }
    // The userName key is exact at any length: the same long name is refused.
    let mut tx = store.begin(&t).unwrap();
    let mut again = huge.clone();
    again["id"] = json!("again");
    assert!(matches!(
        tx.insert(ResourceKind::User, &again),
        Err(StoreError::Conflict { attribute: "userName", ref value, .. }) if *value == long.to_lowercase()
    ));
    // Ids the store cannot keep exactly are refused, and never found.
    let long_id = "i".repeat(MAX_ID_BYTES + 1);
    for bad in [
        json!({"id": long_id, "userName": "x1"}),
        json!({"id": "a\u{0}b", "userName": "x2"}),
    ] {
        assert_eq!(
            tx.insert(ResourceKind::User, &bad),
            Err(StoreError::MalformedResource)
        );
    }
    assert_eq!(tx.get(ResourceKind::User, "a\0b").unwrap(), None);
    assert!(!tx.delete(ResourceKind::User, &long_id).unwrap());
    // The refused writes left the transaction usable.
    tx.insert(ResourceKind::User, &user("fine", "fine")).unwrap();
    tx.commit().unwrap();
}

#[test]
fn memberships_are_exact() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("members");
    let t = tenant("t");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g1", "displayName": "One", "members": [{"value": "u1"}, {"value": "u1"}]}),
    )
    .unwrap();
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g2", "members": [{"value": "u1"}, {"value": "g1"}, {"value": "U1"}]}),
    )
    .unwrap();
    // A display name holding U+0000 (and one holding U+FFFD) come back exactly.
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g3", "displayName": "N\u{0}L", "members": [{"value": "u\u{0}9"}]}),
    )
    .unwrap();
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g4", "displayName": "R\u{FFFD}", "members": [{"value": "u9"}]}),
    )
    .unwrap();
    // A user's `members` (not a SCIM attribute of users) is not a membership.
    tx.insert(
        ResourceKind::User,
        &json!({"id": "u7", "userName": "u7", "members": [{"value": "u1"}]}),
    )
    .unwrap();
    let mut got: Vec<(String, String, Option<String>)> = tx
        .memberships(&["u1", "g1", "u1", "nobody", "u\u{0}9", "u9"])
        .unwrap()
        .into_iter()
        .map(|m| (m.member_id, m.group_id, m.group_display))
        .collect();
    got.sort();
    let s = |v: &str| v.to_owned();
    assert_eq!(
        got,
        [
            (s("g1"), s("g2"), None),
            (s("u\u{0}9"), s("g3"), Some(s("N\u{0}L"))),
            (s("u1"), s("g1"), Some(s("One"))),
            (s("u1"), s("g2"), None),
            (s("u9"), s("g4"), Some(s("R\u{FFFD}"))),
        ]
    );
    assert!(tx.memberships(&[]).unwrap().is_empty());
    tx.delete(ResourceKind::Group, "g1").unwrap();
    assert_eq!(tx.memberships(&["u1"]).unwrap().len(), 1);
    tx.update(
        ResourceKind::Group,
        &json!({"id": "g2", "displayName": "Two", "members": [{"value": "u2"}]}),
    )
    .unwrap();
    assert!(tx.memberships(&["u1"]).unwrap().is_empty());
    assert_eq!(
        tx.memberships(&["u2"]).unwrap(),
        [Membership {
            member_id: "u2".into(),
            group_id: "g2".into(),
            group_display: Some("Two".into())
        }]
    );
    // `members.value eq` follows the update.
    drop(tx);
}

#[test]
fn find_never_crosses_tenants() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("tenants");
    for t in ["a", "b"] {
        let mut tx = store.begin(&tenant(t)).unwrap();
        tx.insert(ResourceKind::User, &user(&format!("{t}-1"), "same"))
            .unwrap();
        tx.insert(
            ResourceKind::Group,
            &json!({"id": format!("{t}-g"), "displayName": "Admins", "members": [{"value": "same"}]}),
        )
        .unwrap();
        tx.commit().unwrap();
    }
    for filter in [
        r#"userName eq "same""#,
        r#"userName sw "s" or userName ew "e""#,
        r#"emails.value co "@""#,
        r#"emails[value pr]"#,
        r#"id pr"#,
        r#"title pr"#,
        r#"not (userName eq "x")"#,
    ] {
        assert_eq!(
            find_text(&store, "a", ResourceKind::User, filter),
            ["a-1"],
            "{filter}"
        );
        assert_eq!(
            find_text(&store, "b", ResourceKind::User, filter),
            ["b-1"],
            "{filter}"
        );
    }
    for filter in [r#"displayName eq "admins""#, r#"members[value eq "same"]"#] {
        assert_eq!(
            find_text(&store, "a", ResourceKind::Group, filter),
            ["a-g"],
            "{filter}"
        );
    }
    assert!(find_text(&store, "b", ResourceKind::Group, r#"id sw "a""#).is_empty());
    let mut tx = store.begin(&tenant("a")).unwrap();
    assert_eq!(tx.memberships(&["same"]).unwrap().len(), 1);
    assert!(!tx.delete(ResourceKind::User, "b-1").unwrap());
}

#[test]
fn a_read_transaction_sees_a_snapshot_and_refuses_writes() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("read_only");
    let t = tenant("t");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "alice")).unwrap();
    tx.commit().unwrap();

    let mut writer = store.begin(&t).unwrap();
    writer.insert(ResourceKind::User, &user("u2", "bob")).unwrap();
    let mut reader = store.begin_read(&t).unwrap();
    assert_eq!(ids(&reader.find(ResourceKind::User, None).unwrap()), ["u1"]);
    writer.commit().unwrap();
    // The snapshot was taken by the first read.
    assert_eq!(reader.get(ResourceKind::User, "u2").unwrap(), None);
    for result in [
        reader
            .insert(ResourceKind::User, &user("u3", "carol"))
            .map(|()| true),
        reader
            .update(ResourceKind::User, &user("u1", "carol"))
            .map(|()| true),
        reader.delete(ResourceKind::User, "u1"),
    ] {
        match result {
            Err(StoreError::Backend { detail }) => assert!(detail.contains("read-only"), "{detail}"),
            other => panic!("a write in a read transaction gave {other:?}"),
        }
    }
    reader.commit().unwrap();
    let mut reader = store.begin_read(&t).unwrap();
    assert_eq!(ids(&reader.find(ResourceKind::User, None).unwrap()), ["u1", "u2"]);
}

#[test]
fn a_locked_resource_makes_the_second_writer_busy_after_the_lock_timeout() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, url) = database("lock_timeout");
    let a = node(&url);
    let b = node(&url).with_lock_timeout(Duration::from_millis(200));
    let t = tenant("t");
    let mut tx = a.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "alice")).unwrap();
    tx.commit().unwrap();

    let mut holder = a.begin(&t).unwrap();
    assert!(holder.get(ResourceKind::User, "u1").unwrap().is_some());
    let mut waiter = b.begin(&t).unwrap();
    let started = Instant::now();
    let err = waiter.get(ResourceKind::User, "u1").unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        matches!(&err, StoreError::Busy { detail } if detail.contains("lock timeout")),
        "{err:?}"
    );
    // The failed statement aborted the transaction: commit says so instead of pretending.
    waiter.insert(ResourceKind::User, &user("u9", "zed")).unwrap_err();
    let err = waiter.commit().unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend { detail } if detail.contains("nothing was committed")),
        "{err:?}"
    );
    // Readers never wait for the lock.
    assert!(b
        .begin_read(&t)
        .unwrap()
        .get(ResourceKind::User, "u1")
        .unwrap()
        .is_some());
    drop(holder);
    let mut tx = b.begin(&t).unwrap();
    assert!(tx.get(ResourceKind::User, "u1").unwrap().is_some());
    assert_eq!(tx.get(ResourceKind::User, "u9").unwrap(), None);
}

#[test]
fn import_writes_many_with_the_same_rules() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("import");
    let t = tenant("t");
    let users: Vec<Value> = (0..2500)
        .map(|i| user(&format!("u{i:04}"), &format!("User{i:04}")))
        .collect();
    assert_eq!(store.import(&t, ResourceKind::User, &users).unwrap(), 2500);
    let mut tx = store.begin_read(&t).unwrap();
    let all = tx.find(ResourceKind::User, None).unwrap();
    assert_eq!(all.len(), 2500);
    assert_eq!(all[0], users[0]);
    assert_eq!(all[2499], users[2499]);
    drop(tx);
    assert_eq!(
        find_text(&store, "t", ResourceKind::User, r#"userName eq "user1234""#),
        ["u1234"]
    );
    assert_eq!(
        find_text(&store, "t", ResourceKind::User, r#"emails.value sw "user249""#).len(),
        10
    );
    // A clash with a stored user, in a later batch, rolls the whole import back.
    let mut more: Vec<Value> = (0..1500)
        .map(|i| user(&format!("n{i:04}"), &format!("new{i:04}")))
        .collect();
    more.push(user("n-clash", "USER0007"));
    assert_eq!(
        store.import(&t, ResourceKind::User, &more),
        Err(StoreError::Conflict {
            kind: "User",
            attribute: "userName",
            value: "user0007".into()
        })
    );
    more.pop();
    more.push(user("u0001", "fresh"));
    assert_eq!(
        store.import(&t, ResourceKind::User, &more),
        Err(StoreError::DuplicateId {
            kind: "User",
            id: "u0001".into()
        })
    );
    assert!(find_text(&store, "t", ResourceKind::User, r#"userName sw "new""#).is_empty());
    // Clashes inside the input are found before anything is written.
    let twice = vec![user("x1", "Same"), user("x2", "same")];
    assert!(matches!(
        store.import(&t, ResourceKind::User, &twice),
        Err(StoreError::Conflict { .. })
    ));
    let groups = vec![json!({"id": "g1", "displayName": "G", "members": [{"value": "u0001"}]})];
    store.import(&t, ResourceKind::Group, &groups).unwrap();
    assert_eq!(
        store
            .begin_read(&t)
            .unwrap()
            .memberships(&["u0001"])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn errors_name_the_server_never_the_password() {
    let err = PgStore::connect("postgres://fedkit:hunter2@127.0.0.1:1/db").unwrap_err();
    let StoreError::Backend { detail } = err else {
        panic!("{err:?}")
    };
    assert!(detail.contains("127.0.0.1:1"), "{detail}");
    assert!(!detail.contains("hunter2"), "{detail}");
}

#[test]
fn a_non_utf8_database_is_refused() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (server, _) = database("placeholder_latin");
    let admin = Pool::connect(&server.url(), PoolSettings::default()).unwrap();
    admin
        .get()
        .unwrap()
        .batch_execute("CREATE DATABASE latin ENCODING 'LATIN1' TEMPLATE template0")
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/latin", server.port());
    let err = PgStore::new(Arc::new(Pool::connect(&url, PoolSettings::default()).unwrap())).unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend { detail } if detail.contains("LATIN1") && detail.contains("UTF8")),
        "{err:?}"
    );
}

#[test]
fn lookups_use_the_indexes() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, url) = database("plans");
    let store = node(&url);
    let t = tenant("bench");
    let users: Vec<Value> = (0..20_000)
        .map(|i| {
            let mut u = user(&format!("u{i}"), &format!("user{i}"));
            u["externalId"] = json!(format!("ext-{i}"));
            u
        })
        .collect();
    store.import(&t, ResourceKind::User, &users).unwrap();
    let pool = Pool::connect(&url, PoolSettings::default()).unwrap();
    pool.get().unwrap().batch_execute("ANALYZE").unwrap();
    for filter in [
        r#"userName eq "user5""#,
        r#"externalId eq "ext-5""#,
        r#"emails.value sw "user1234""#,
        r#"displayName eq "x" or userName eq "user5""#,
        r#"userName eq "user5" and emails[type eq "work" and value eq "user5@example.com"]"#,
        r#"id eq "u7""#,
        r#"id sw "u1999""#,
    ] {
        let f = Filter::parse(filter).unwrap();
        let p = store.explain(&t, ResourceKind::User, Some(&f)).unwrap();
        assert!(
            p.contains("fedkit_scim_values_lookup") || p.contains("fedkit_scim_resources_id"),
            "{filter}:\n{p}"
        );
        assert!(!p.contains("Seq Scan"), "{filter}: full scan:\n{p}");
    }
    // A page sorted by userName reads the sort index in order (`offset + limit` rows), in
    // both directions: no full scan, no sort of every user.
    for descending in [false, true] {
        let p = store
            .explain_page(&t, ResourceKind::User, Some(descending), None, 500, 20)
            .unwrap();
        let named = p.split("\n\n").next().unwrap();
        assert!(named.contains("fedkit_scim_resources_user_name_sort"), "{named}");
        assert!(!p.contains("Seq Scan"), "full scan:\n{p}");
        assert!(
            !named.lines().any(|l| l
                .trim_start()
                .trim_start_matches("->")
                .trim_start()
                .starts_with("Sort  (")),
            "a sort of every user:\n{named}"
        );
        let mut tx = store.begin_read(&t).unwrap();
        let mut q = PageQuery::new(500, 20);
        q.sort = Some((SortKey::UserName, descending));
        let page = tx.find_page(ResourceKind::User, &q).unwrap().unwrap();
        assert_eq!(page.total, 20_000);
        assert_eq!(page.resources.len(), 20);
    }
    // A filtered page, sorted or not, is answered in SQL: the filter through its index, a
    // LIMIT on the rows, and no full scan.
    for (filter, matches) in [
        (r#"emails.value sw "user1234""#, 11),
        (r#"userName sw "user""#, 20_000),
    ] {
        let f = Filter::parse(filter).unwrap();
        for sort in [None, Some(false), Some(true)] {
            let p = store
                .explain_page(&t, ResourceKind::User, sort, Some(&f), 5, 20)
                .unwrap();
            let rows = p.split("\n\n").next().unwrap();
            assert!(rows.contains("Limit"), "{filter} {sort:?}:\n{rows}");
            if matches < 100 {
                // A selective filter reads its matches through the value index.
                assert!(
                    rows.contains("fedkit_scim_values_lookup"),
                    "{filter} {sort:?}:\n{rows}"
                );
            } else {
                // An unselective one reads the page's order from an index, never sorting
                // every match.
                assert!(
                    !rows.lines().any(|l| l
                        .trim_start()
                        .trim_start_matches("->")
                        .trim_start()
                        .starts_with("Sort  (")),
                    "{filter} {sort:?}: a sort of every match:\n{rows}"
                );
            }
            assert!(!p.contains("Seq Scan"), "{filter} {sort:?}: full scan:\n{p}");
            let mut tx = store.begin_read(&t).unwrap();
            let mut q = PageQuery::new(5, 20);
            q.filter = Some(&f);
            q.sort = sort.map(|d| (SortKey::UserName, d));
            let page = tx.find_page(ResourceKind::User, &q).unwrap().unwrap();
            assert_eq!(page.total, matches, "{filter} {sort:?}");
            assert_eq!(page.resources.len(), (matches - 5).min(20), "{filter} {sort:?}");
        }
    }
    // A filter the indexes do not answer exactly is left to the handler: no page statement.
    let f = Filter::parse(r#"userName co "user1""#).unwrap();
    assert_eq!(
        store
            .explain_page(&t, ResourceKind::User, Some(false), Some(&f), 0, 20)
            .unwrap(),
        ""
    );
    // A filter on an attribute the store does not index scans the tenant's resources.
    let f = Filter::parse(r#"title eq "x""#).unwrap();
    let p = store.explain(&t, ResourceKind::User, Some(&f)).unwrap();
    assert!(!p.contains("fedkit_scim_values"), "{p}");
    // And the store answers them.
    assert_eq!(
        find_text(
            &store,
            "bench",
            ResourceKind::User,
            r#"externalId eq "ext-19999""#
        ),
        ["u19999"]
    );
    assert_eq!(
        find_text(
            &store,
            "bench",
            ResourceKind::User,
            r#"userName eq "user7" or externalId eq "ext-8""#
        ),
        ["u7", "u8"]
    );
}

#[test]
fn memberships_read_for_a_page_match_a_direct_lookup() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("member_window");
    let t = tenant("t");
    let users: Vec<Value> = (0..300)
        .map(|i| user(&format!("u{i:03}"), &format!("n{i:03}")))
        .collect();
    store.import(&t, ResourceKind::User, &users).unwrap();
    let groups: Vec<Value> = (0..7)
        .map(|g| {
            let members: Vec<Value> = (0..300)
                .filter(|i| i % (g + 2) == 0)
                .map(|i| json!({"value": format!("u{i:03}")}))
                .collect();
            json!({"id": format!("g{g}"), "displayName": format!("G{g}"), "members": members})
        })
        .collect();
    store.import(&t, ResourceKind::Group, &groups).unwrap();
    // Direct lookups, in a write transaction (never cached).
    let mut writer = store.begin(&t).unwrap();
    let expected: Vec<Vec<Membership>> = (0..300)
        .map(|i| writer.memberships(&[&format!("u{i:03}")]).unwrap())
        .collect();
    drop(writer);
    assert_eq!(expected[0].len(), 7);
    assert_eq!(expected[1].len(), 0);
    // A read transaction renders a filtered page one user at a time, in and out of order,
    // and with ids the find did not return.
    let mut reader = store.begin_read(&t).unwrap();
    let filter = Filter::parse(r#"userName sw "n1" or userName sw "n2""#).unwrap();
    assert_eq!(reader.find(ResourceKind::User, Some(&filter)).unwrap().len(), 200);
    for i in (100..300).chain([299, 5, 0, 150]).chain(0..100) {
        let id = format!("u{i:03}");
        let mut got = reader.memberships(&[&id]).unwrap();
        got.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        assert_eq!(got, expected[i], "{id}");
    }
    let both = reader.memberships(&["u000", "u006", "nobody"]).unwrap();
    assert_eq!(both.len(), expected[0].len() + expected[6].len());
}

/// The order `sort_resources` gives for `sortBy=userName`: lowercased, users without a
/// (non-empty) name last in both directions, ties in creation order.
fn handler_order(users: &[Value], descending: bool) -> Vec<String> {
    let key = |u: &Value| {
        u.get("userName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase)
    };
    let mut named: Vec<&Value> = users.iter().filter(|u| key(u).is_some()).collect();
    named.sort_by(|a, b| {
        let (a, b) = (key(a), key(b));
        if descending {
            b.cmp(&a)
        } else {
            a.cmp(&b)
        }
    });
    named
        .into_iter()
        .chain(users.iter().filter(|u| key(u).is_none()))
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sorted_pages_follow_the_handler_order() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, store) = store("sorted_pages");
    let t = tenant("t");
    let long = "a".repeat(3000);
    let names = [
        "bob",
        "Alice",
        "ÉMILE",
        "emile",
        "Zoë",
        "zoe",
        "straße",
        "STRASSE",
        "Ǆemal",
        "Ωmega",
        "ωmegb",
        "Дмитрий",
        "дима",
        "名前",
        "aLICE2",
        "nul\u{0}a",
        "nul\u{0}",
        "_under",
        "Zed",
    ];
    let mut users: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| user(&format!("u{i:02}"), n))
        .collect();
    // Names longer than the indexed prefix, differing only after it.
    users.push(user("long-b", &format!("{long}b")));
    users.push(user("long-A", &format!("{long}A")));
    // Users without a name (the handler requires one; the store must still place them).
    users.push(json!({"id": "none1"}));
    users.push(json!({"id": "empty", "userName": ""}));
    users.push(json!({"id": "none2", "displayName": "x"}));
    // Written in several ways: imported, inserted, and renamed by an update.
    store.import(&t, ResourceKind::User, &users[..10]).unwrap();
    let mut tx = store.begin(&t).unwrap();
    for u in &users[10..] {
        let mut first = u.clone();
        if first.get("userName").is_some() {
            first["userName"] = json!(format!("placeholder-{}", u["id"].as_str().unwrap()));
        }
        tx.insert(ResourceKind::User, &first).unwrap();
        tx.update(ResourceKind::User, u).unwrap();
    }
    tx.commit().unwrap();
    let n = users.len();
    for descending in [false, true] {
        let expected = handler_order(&users, descending);
        assert_eq!(expected.len(), n);
        for (offset, limit) in [(0, n), (0, 5), (3, 7), (n - 4, 10), (n - 2, 1), (n, 5), (2, 0)] {
            let mut tx = store.begin_read(&t).unwrap();
            let mut q = PageQuery::new(offset, limit);
            q.sort = Some((SortKey::UserName, descending));
            let page = tx.find_page(ResourceKind::User, &q).unwrap().unwrap();
            assert_eq!(page.total, n);
            let want: Vec<String> = expected.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(
                ids(&page.resources),
                want,
                "desc={descending} offset={offset} limit={limit}"
            );
        }
    }
    // A rename moves the user ('!' sorts before every other name here).
    let mut tx = store.begin(&t).unwrap();
    tx.update(ResourceKind::User, &user("u00", "!first")).unwrap();
    tx.commit().unwrap();
    let mut tx = store.begin_read(&t).unwrap();
    let mut q = PageQuery::new(0, 1);
    q.sort = Some((SortKey::UserName, false));
    let page = tx.find_page(ResourceKind::User, &q).unwrap().unwrap();
    assert_eq!(ids(&page.resources), ["u00"]);
}
