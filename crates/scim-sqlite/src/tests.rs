use std::sync::Arc;
use std::time::{Duration, Instant};

use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use fedkit_scim_service::store::conformance;
use fedkit_scim_service::store::MemoryStore;

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

fn user(id: &str, name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": name,
           "emails": [{"value": format!("{name}@example.com"), "type": "work"}]})
}

fn ids(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

fn find(store: &dyn Store, t: &TenantId, kind: ResourceKind, filter: &str) -> Vec<String> {
    let f = Filter::parse(filter).unwrap();
    let mut tx = store.begin(t).unwrap();
    ids(&tx.find(kind, Some(&f)).unwrap())
}

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scim.sqlite3");
    (dir, path)
}

#[test]
fn conformance_in_memory() {
    conformance::run(&SqliteStore::open_in_memory().unwrap());
}

#[test]
fn conformance_on_a_file() {
    let (_dir, path) = temp_db();
    conformance::run(&SqliteStore::open(&path).unwrap());
}

#[test]
fn data_survives_a_restart() {
    let (_dir, path) = temp_db();
    let t = tenant("acme");
    {
        let store = SqliteStore::open(&path).unwrap();
        let mut tx = store.begin(&t).unwrap();
        tx.insert(ResourceKind::User, &user("u1", "Alice")).unwrap();
        tx.insert(
            ResourceKind::Group,
            &json!({"id": "g1", "displayName": "Eng", "members": [{"value": "u1"}]}),
        )
        .unwrap();
        tx.commit().unwrap();
        let mut tx = store.begin(&t).unwrap();
        tx.insert(ResourceKind::User, &user("u2", "never-committed"))
            .unwrap();
        drop(tx);
    }
    let store = SqliteStore::open(&path).unwrap();
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(
        tx.get(ResourceKind::User, "u1").unwrap(),
        Some(user("u1", "Alice"))
    );
    assert_eq!(tx.get(ResourceKind::User, "u2").unwrap(), None);
    assert_eq!(
        tx.memberships(&["u1"]).unwrap(),
        [Membership {
            member_id: "u1".into(),
            group_id: "g1".into(),
            group_display: Some("Eng".into())
        }]
    );
    // The indexes survived too: the unique userName and the pushed-down lookups.
    assert!(matches!(
        tx.insert(ResourceKind::User, &user("u3", "ALICE")),
        Err(StoreError::Conflict {
            attribute: "userName",
            ..
        })
    ));
    drop(tx);
    assert_eq!(
        find(
            &store,
            &t,
            ResourceKind::User,
            r#"emails.value eq "alice@EXAMPLE.com""#
        ),
        ["u1"]
    );
}

#[test]
fn user_name_conflict_reports_the_lowercased_value() {
    let store = SqliteStore::open_in_memory().unwrap();
    let mut tx = store.begin(&tenant("t")).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "BJensen@Example.com"))
        .unwrap();
    assert_eq!(
        tx.insert(ResourceKind::User, &user("u2", "bjensen@example.COM")),
        Err(StoreError::Conflict {
            kind: "User",
            attribute: "userName",
            value: "bjensen@example.com".into()
        })
    );
    // The refused insert left nothing behind, not even index rows.
    assert_eq!(tx.get(ResourceKind::User, "u2").unwrap(), None);
    let f = Filter::parse(r#"userName eq "bjensen@example.com""#).unwrap();
    assert_eq!(ids(&tx.find(ResourceKind::User, Some(&f)).unwrap()), ["u1"]);
}

#[test]
fn a_failed_write_inside_a_transaction_leaves_nothing_half_done() {
    let store = SqliteStore::open_in_memory().unwrap();
    let t = tenant("t");
    let tx = SqliteTransaction {
        store: &store,
        conn: Some(store.checkout().unwrap()),
        tenant: t.as_str().to_owned(),
        committed: false,
        read_only: false,
    };
    tx.conn().unwrap().execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut tx = Box::new(tx);
    tx.insert(ResourceKind::User, &user("keep", "keep")).unwrap();
    let failed = tx.atomically(|tx, conn| {
        conn.execute(
            "INSERT INTO scim_resources (tenant, kind, id, body) VALUES (?1, 'User', 'half', '{}')",
            [&tx.tenant],
        )
        .map_err(db)?;
        Err::<(), _>(StoreError::Backend {
            detail: "boom".into(),
        })
    });
    assert_eq!(
        failed,
        Err(StoreError::Backend {
            detail: "boom".into()
        })
    );
    // The caller goes on and commits (as a bulk request without failOnErrors would).
    tx.commit().unwrap();
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(ids(&tx.find(ResourceKind::User, None).unwrap()), ["keep"]);
}

#[test]
fn find_with_a_filter_never_crosses_tenants() {
    let store = SqliteStore::open_in_memory().unwrap();
    let (a, b) = (tenant("a"), tenant("b"));
    for t in [&a, &b] {
        let mut tx = store.begin(t).unwrap();
        tx.insert(ResourceKind::User, &user(&format!("{}-1", t.as_str()), "same"))
            .unwrap();
        tx.insert(
            ResourceKind::Group,
            &json!({"id": format!("{}-g", t.as_str()), "displayName": "Admins", "members": [{"value": "same"}]}),
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
        assert_eq!(find(&store, &a, ResourceKind::User, filter), ["a-1"], "{filter}");
        assert_eq!(find(&store, &b, ResourceKind::User, filter), ["b-1"], "{filter}");
    }
    for filter in [
        r#"displayName eq "admins""#,
        r#"members[value eq "same"]"#,
        r#"id sw "a""#,
    ] {
        let expect_b: Vec<&str> = if filter.starts_with("id") {
            vec![]
        } else {
            vec!["b-g"]
        };
        assert_eq!(find(&store, &a, ResourceKind::Group, filter), ["a-g"], "{filter}");
        assert_eq!(
            find(&store, &b, ResourceKind::Group, filter),
            expect_b,
            "{filter}"
        );
    }
    let mut tx = store.begin(&a).unwrap();
    assert_eq!(tx.memberships(&["same"]).unwrap().len(), 1);
}

#[test]
fn sql_shaped_and_like_metacharacter_values_are_found_exactly() {
    let store = SqliteStore::open_in_memory().unwrap();
    let t = tenant("t");
    let names = [
        "x' OR 1=1 --",
        "100%",
        "100x",
        "a_b",
        "aXb",
        r"back\slash",
        r"backXslash",
        "plain",
    ];
    let mut tx = store.begin(&t).unwrap();
    for (i, n) in names.iter().enumerate() {
        tx.insert(ResourceKind::User, &user(&format!("u{i}"), n)).unwrap();
    }
    tx.commit().unwrap();
    let q = |filter: &Filter| {
        let mut tx = store.begin(&t).unwrap();
        ids(&tx.find(ResourceKind::User, Some(filter)).unwrap())
    };
    let cmp = |op, v: &str| Filter::compare(AttrPath::new("userName"), op, CompValue::String(v.into()));
    assert_eq!(q(&cmp(CompareOp::Eq, "X' or 1=1 --")), ["u0"]);
    assert_eq!(q(&cmp(CompareOp::Co, "' OR 1=1")), ["u0"]);
    assert_eq!(q(&cmp(CompareOp::Ew, "0%")), ["u1"]);
    assert_eq!(q(&cmp(CompareOp::Co, "a_b")), ["u3"]);
    assert_eq!(q(&cmp(CompareOp::Sw, r"back\")), ["u5"]);
    assert_eq!(q(&cmp(CompareOp::Co, "%")), ["u1"]);
    assert_eq!(q(&cmp(CompareOp::Co, "_")), ["u3"]);
    // The table is still there.
    assert_eq!(q(&cmp(CompareOp::Sw, "")).len(), names.len());

    // NUL: LIKE (`ew`) stops at it, so a value holding one is always returned by `ew` (a
    // superset) and never left out; `co`/`sw` (`instr`) and `=` compare the whole value.
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("nul", "nul\0byte")).unwrap();
    tx.commit().unwrap();
    assert_eq!(q(&cmp(CompareOp::Ew, "byte")), ["nul"]);
    assert_eq!(q(&cmp(CompareOp::Ew, "zzz")), ["nul"]);
    assert_eq!(q(&cmp(CompareOp::Co, "\0b")), ["nul"]);
    assert_eq!(q(&cmp(CompareOp::Co, "byte")), ["nul"]);
    assert_eq!(q(&cmp(CompareOp::Sw, "nul\0")), ["nul"]);
    assert_eq!(q(&cmp(CompareOp::Co, "zzz")), Vec::<String>::new());
    assert_eq!(q(&cmp(CompareOp::Eq, "NUL\0BYTE")), ["nul"]);
    assert_eq!(q(&cmp(CompareOp::Eq, "nul")), Vec::<String>::new());
}

#[test]
fn memberships_come_from_the_members_table() {
    let store = SqliteStore::open_in_memory().unwrap();
    let t = tenant("t");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g1", "displayName": "One", "members": [{"value": "u1"}, {"value": "u1"}]}),
    )
    .unwrap();
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g2", "members": [{"value": "u1"}, {"value": "g1"}]}),
    )
    .unwrap();
    // A user's `members` (not a SCIM attribute of users) is not a membership.
    tx.insert(
        ResourceKind::User,
        &json!({"id": "u9", "userName": "u9", "members": [{"value": "u1"}]}),
    )
    .unwrap();
    let got: Vec<(String, String, Option<String>)> = tx
        .memberships(&["u1", "g1", "u1", "nobody"])
        .unwrap()
        .into_iter()
        .map(|m| (m.member_id, m.group_id, m.group_display))
        .collect();
    assert_eq!(
        got,
        [
            ("g1".to_owned(), "g2".to_owned(), None),
            ("u1".to_owned(), "g1".to_owned(), Some("One".to_owned())),
            ("u1".to_owned(), "g2".to_owned(), None),
        ]
    );
    assert!(tx.memberships(&[]).unwrap().is_empty());
    tx.delete(ResourceKind::Group, "g1").unwrap();
    assert_eq!(tx.memberships(&["u1"]).unwrap().len(), 1);
}

#[test]
fn begin_waits_for_the_running_transaction_then_reports_busy() {
    let store = SqliteStore::open_in_memory()
        .unwrap()
        .with_busy_timeout(Duration::from_millis(50))
        .unwrap();
    let t = tenant("t");
    let held = store.begin(&t).unwrap();
    let started = Instant::now();
    assert!(matches!(store.begin(&t).err(), Some(StoreError::Busy { .. })));
    assert!(started.elapsed() >= Duration::from_millis(50));
    drop(held);
    assert!(store.begin(&t).is_ok());
}

#[test]
fn reads_do_not_wait_for_the_writer_and_see_a_committed_snapshot() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path)
        .unwrap()
        .with_busy_timeout(Duration::from_millis(50))
        .unwrap();
    let t = tenant("t");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "alice")).unwrap();
    tx.commit().unwrap();

    // A writer holds the write transaction with an uncommitted insert.
    let mut writer = store.begin(&t).unwrap();
    writer.insert(ResourceKind::User, &user("u2", "bob")).unwrap();
    // A read starts at once (no Busy after 50 ms) and sees only what was committed.
    let mut reader = store.begin_read(&t).unwrap();
    assert_eq!(ids(&reader.find(ResourceKind::User, None).unwrap()), ["u1"]);
    writer.commit().unwrap();
    // Its snapshot was taken by its first read: the later commit stays invisible to it...
    assert_eq!(reader.get(ResourceKind::User, "u2").unwrap(), None);
    drop(reader);
    // ...and visible to the next read transaction.
    let mut reader = store.begin_read(&t).unwrap();
    assert_eq!(ids(&reader.find(ResourceKind::User, None).unwrap()), ["u1", "u2"]);
    // Tenants stay apart on the read connections too.
    let mut other = store.begin_read(&tenant("other")).unwrap();
    assert!(other.find(ResourceKind::User, None).unwrap().is_empty());
    assert_eq!(other.get(ResourceKind::User, "u1").unwrap(), None);
}

#[test]
fn a_read_transaction_refuses_writes() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).unwrap();
    let t = tenant("t");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "alice")).unwrap();
    tx.commit().unwrap();
    let mut reader = store.begin_read(&t).unwrap();
    for result in [
        reader
            .insert(ResourceKind::User, &user("u2", "bob"))
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
    assert_eq!(
        find(&store, &t, ResourceKind::User, r#"userName eq "alice""#),
        ["u1"]
    );
    assert!(find(&store, &t, ResourceKind::User, r#"userName eq "bob""#).is_empty());
}

#[test]
fn the_read_pool_is_bounded_and_reports_busy() {
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path)
        .unwrap()
        .with_busy_timeout(Duration::from_millis(50))
        .unwrap();
    let t = tenant("t");
    let held: Vec<_> = (0..MAX_READERS).map(|_| store.begin_read(&t).unwrap()).collect();
    let started = Instant::now();
    assert!(matches!(
        store.begin_read(&t).err(),
        Some(StoreError::Busy { .. })
    ));
    assert!(started.elapsed() >= Duration::from_millis(50));
    // Writes are not held up by busy readers.
    assert!(store.begin(&t).is_ok());
    drop(held);
    assert!(store.begin_read(&t).is_ok());
}

#[test]
fn concurrent_writers_lose_nothing() {
    let (_dir, path) = temp_db();
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let t = tenant("t");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(
        ResourceKind::Group,
        &json!({"id": "g", "displayName": "All", "members": []}),
    )
    .unwrap();
    tx.commit().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let store = Arc::clone(&store);
            let t = t.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let id = format!("u{n}-{i}");
                    let mut tx = store.begin(&t).unwrap();
                    tx.insert(ResourceKind::User, &user(&id, &id)).unwrap();
                    // Read-modify-write of the shared group: a lost update would drop members.
                    let mut g = tx.get(ResourceKind::Group, "g").unwrap().unwrap();
                    g["members"].as_array_mut().unwrap().push(json!({"value": id}));
                    tx.update(ResourceKind::Group, &g).unwrap();
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    for th in threads {
        th.join().unwrap();
    }
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.find(ResourceKind::User, None).unwrap().len(), 100);
    let g = tx.get(ResourceKind::Group, "g").unwrap().unwrap();
    assert_eq!(g["members"].as_array().unwrap().len(), 100);
    assert_eq!(tx.memberships(&["u3-24", "u0-0"]).unwrap().len(), 2);
}

#[test]
fn schema_version_is_recorded_and_newer_files_are_refused() {
    let (_dir, path) = temp_db();
    drop(SqliteStore::open(&path).unwrap());
    let conn = Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row("SELECT version FROM scim_schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, i64::from(SCHEMA_VERSION));
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    conn.execute("UPDATE scim_schema_version SET version = 99", [])
        .unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    let StoreError::Backend { detail } = err else {
        panic!("{err:?}")
    };
    assert!(
        detail.contains("schema version 99") && detail.contains("upgrade fedkit"),
        "{detail}"
    );
}

#[test]
fn a_database_of_another_application_is_refused() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE invoices (n INTEGER);").unwrap();
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend { detail } if detail.contains("not a fedkit SCIM database")),
        "{err:?}"
    );
    // A file that is not SQLite at all.
    std::fs::write(
        &path,
        b"definitely not a database, just some text that is long enough",
    )
    .unwrap();
    let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
    assert!(matches!(
        SqliteStore::open(&path),
        Err(StoreError::Backend { .. })
    ));
    // A directory that does not exist.
    let missing = path.with_file_name("no-such-dir").join("x.sqlite3");
    let err = SqliteStore::open(&missing).unwrap_err();
    assert!(
        matches!(&err, StoreError::Backend { detail } if detail.contains("cannot create")),
        "{err:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_new_database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = temp_db();
    let store = SqliteStore::open(&path).unwrap();
    let mut tx = store.begin(&tenant("t")).unwrap();
    tx.insert(ResourceKind::User, &user("u", "u")).unwrap();
    tx.commit().unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let wal = path.with_file_name("scim.sqlite3-wal");
    assert_eq!(
        std::fs::metadata(wal).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// The plan of the pushed-down `find` query for `filter`.
fn plan(store: &SqliteStore, filter: &str) -> String {
    let f = Filter::parse(filter).unwrap();
    let cond = PushDown::translate(ResourceKind::User, "t", &f).unwrap();
    let sql = format!(
        "EXPLAIN QUERY PLAN SELECT r.body FROM scim_resources r WHERE r.tenant = ? AND r.kind = ? AND {} ORDER BY r.seq",
        cond.sql
    );
    let mut params = vec!["t".to_owned(), "User".to_owned()];
    params.extend(cond.params);
    let slot = store.slot.lock().unwrap();
    let conn = slot.as_ref().unwrap();
    let mut stmt = conn.prepare(&sql).unwrap();
    let rows = stmt
        .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
}

#[test]
fn equality_lookups_use_the_indexes() {
    let store = SqliteStore::open_in_memory().unwrap();
    for filter in [
        r#"userName eq "bjensen""#,
        r#"emails.value eq "a@x""#,
        r#"userName eq "a" or externalId eq "b""#,
        r#"userName eq "a" and emails[type eq "work" and value eq "b"]"#,
    ] {
        let p = plan(&store, filter);
        assert!(p.contains("scim_values_lookup"), "{filter}: {p}");
        assert!(!p.contains("SCAN r"), "{filter}: full scan: {p}");
    }
    let p = plan(&store, r#"id eq "u1""#);
    assert!(!p.contains("SCAN r"), "{p}");
}

// ---------------------------------------------------------------------------------------------
// Property: the pushed-down `find`, filtered exactly, gives what the memory store gives, and
// never leaves out a match.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pushed_down_find_is_a_superset_and_agrees_with_the_memory_store(case in conformance::props::cases(40)) {
        let sqlite = SqliteStore::open_in_memory().unwrap();
        let memory = MemoryStore::new();
        let t = tenant("p");
        case.load(&sqlite, &t, "")?;
        case.load(&memory, &t, "")?;
        // A decoy tenant with the same data under other ids: it must never show up.
        case.load(&sqlite, &tenant("decoy"), "decoy-")?;
        case.check_find(&sqlite, &memory, &t)?;
    }
}

#[test]
fn durability_sets_the_synchronous_mode() {
    let (_dir, path) = temp_db();
    let synchronous = |store: &SqliteStore| -> i64 {
        let slot = store.slot.lock().unwrap();
        slot.as_ref()
            .unwrap()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    };
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(synchronous(&store), 2, "FULL by default");
    let store = store.with_durability(Durability::Process).unwrap();
    assert_eq!(synchronous(&store), 1, "NORMAL");
    let store = store.with_durability(Durability::Full).unwrap();
    assert_eq!(synchronous(&store), 2);
}

#[test]
fn a_version_1_file_moves_its_members_into_rows() {
    // A database as fedkit wrote it before schema version 2: members inside the group body,
    // indexed in scim_members and scim_values.
    let (_dir, path) = temp_db();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "CREATE TABLE scim_schema_version (version INTEGER NOT NULL) STRICT;
             INSERT INTO scim_schema_version VALUES (1);",
        )
        .unwrap();
        let group = json!({"id": "g1", "displayName": "Eng",
            "members": [{"value": "u1", "display": "One"}, {"value": "U2"}, {"value": "u1"}, {"display": "no value"}]});
        conn.execute(
            "INSERT INTO scim_resources (tenant, kind, id, display_name, body) VALUES ('acme', 'Group', 'g1', 'Eng', ?1)",
            [group.to_string()],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO scim_members (tenant, group_seq, group_id, member_id) VALUES ('acme', 1, 'g1', 'u1'), ('acme', 1, 'g1', 'U2')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO scim_values (seq, tenant, kind, attr, v) VALUES (1, 'acme', 'Group', 'members.value', 'u1'), (1, 'acme', 'Group', 'members.value', 'u2'), (1, 'acme', 'Group', 'displayName', 'eng')",
            [],
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    let t = tenant("acme");
    let mut tx = store.begin(&t).unwrap();
    let g = tx.get(ResourceKind::Group, "g1").unwrap().unwrap();
    assert_eq!(
        g["members"],
        json!([{"value": "u1", "display": "One"}, {"value": "U2"}, {"display": "no value"}])
    );
    assert_eq!(tx.member_count("g1").unwrap(), Some(2));
    let attrs = tx.get_attributes(ResourceKind::Group, "g1").unwrap().unwrap();
    assert_eq!(attrs["members"], json!([{"display": "no value"}]));
    assert_eq!(tx.memberships(&["U2"]).unwrap().len(), 1);
    drop(tx);
    assert_eq!(
        find(&store, &t, ResourceKind::Group, r#"members.value eq "u2""#),
        ["g1"]
    );
    assert_eq!(
        find(&store, &t, ResourceKind::Group, r#"displayName eq "ENG""#),
        ["g1"]
    );
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.remove_from_all_groups("u1").unwrap(), ["g1"]);
    tx.commit().unwrap();
    drop(store);
    let conn = Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row("SELECT version FROM scim_schema_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 2);
    let old: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'scim_members'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
}
