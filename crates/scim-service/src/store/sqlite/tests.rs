use std::sync::Arc;
use std::time::{Duration, Instant};

use fedkit_scim::filter::{AttrPath, CompValue, CompareOp, EvalContext, Filter};
use fedkit_scim::schema::SchemaRegistry;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::super::conformance;
use super::*;
use crate::store::MemoryStore;

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

    // NUL: LIKE stops at it, so a value holding one is always returned by sw/co/ew (a
    // superset) and never left out; `=` compares the whole value.
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("nul", "nul\0byte")).unwrap();
    tx.commit().unwrap();
    assert_eq!(q(&cmp(CompareOp::Ew, "byte")), ["nul"]);
    // A literal holding NUL: the pattern is cut there too, so more rows come back.
    assert!(q(&cmp(CompareOp::Co, "\0b")).contains(&"nul".to_owned()));
    assert_eq!(q(&cmp(CompareOp::Co, "zzz")), ["nul"]);
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
    /// holding a nested array.
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
        prop_oneof![5 => Just(0u8), 1 => 1..=5u8],
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
    let mut u = json!({"id": id, "userName": s.user_name});
    if s.shape == 2 {
        u["userName"] = json!([s.user_name, "Alt"]);
    }
    if let Some(e) = &s.external_id {
        u["externalId"] = json!(e);
    }
    if let Some(d) = &s.display_name {
        u["displayName"] = json!(d);
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
    let mut g = json!({"id": id, "members": members.iter().map(|m| json!({"value": m, "type": "User"})).collect::<Vec<_>>()});
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

/// Every string stored, in other cases and cut into pieces: filter literals that hit.
fn pool(users: &[UserSpec], groups: &Groups) -> Vec<String> {
    let mut base = vec!["Alt".to_owned(), "Extra@X".to_owned()];
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

type Groups = Vec<(Option<String>, Vec<String>)>;

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
            proptest::collection::vec(filter(pool), 1..40),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pushed_down_find_is_a_superset_and_agrees_with_the_memory_store(
        (users, groups, filters) in data_and_filters(),
    ) {
        let sqlite = SqliteStore::open_in_memory().unwrap();
        let memory = MemoryStore::new();
        let t = tenant("p");
        // A decoy tenant with the same data under other ids: it must never show up.
        let decoy = (&sqlite as &dyn Store, "decoy", "decoy-");
        for (store, tn, prefix) in [(&sqlite as &dyn Store, "p", ""), (&memory as &dyn Store, "p", ""), decoy] {
            let mut tx = store.begin(&tenant(tn)).unwrap();
            for (i, u) in users.iter().enumerate() {
                let r = tx.insert(ResourceKind::User, &user_json(&format!("{prefix}u{i}"), u));
                prop_assert!(r.is_ok() || matches!(r, Err(StoreError::Conflict { .. })), "{r:?}");
            }
            for (i, (display, members)) in groups.iter().enumerate() {
                let mut members = members.clone();
                members.push(format!("{prefix}u{i}"));
                tx.insert(ResourceKind::Group, &group_json(&format!("{prefix}g{i}"), display, &members)).unwrap();
            }
            tx.commit().unwrap();
        }
        let registry = SchemaRegistry::core();
        let mut stx = sqlite.begin(&t).unwrap();
        let mut mtx = memory.begin(&t).unwrap();
        for kind in ResourceKind::ALL {
            let all = mtx.find(kind, None).unwrap();
            prop_assert_eq!(ids(&stx.find(kind, None).unwrap()), ids(&all));
            let ctx = EvalContext::new(&registry, kind.name());
            for f in &filters {
                let Ok(compiled) = f.compile(&ctx) else { continue };
                let exact = |rows: Vec<Value>| -> Vec<String> {
                    ids(&rows.into_iter().filter(|r| compiled.matches(r)).collect::<Vec<_>>())
                };
                let pushed = stx.find(kind, Some(f)).unwrap();
                let pushed_ids = ids(&pushed);
                let from_sqlite = exact(pushed);
                prop_assert_eq!(&from_sqlite, &exact(mtx.find(kind, Some(f)).unwrap()), "{} on {:?}", f, kind);
                // Never a match left out: every match among all rows came back.
                for id in exact(all.clone()) {
                    prop_assert!(pushed_ids.contains(&id), "{} on {:?}: {} left out", f, kind, id);
                }
                prop_assert!(pushed_ids.iter().all(|id| !id.contains("decoy")));
            }
        }
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
