//! The SQLite store on a file with 100 000 users: a `userName eq` lookup (goal ≤ 5 ms), an
//! `emails.value eq` lookup, a GET by id, a scan-shaped `userName co` filter and one
//! committed insert; then committed inserts on a fresh file in both durability modes. Each lookup includes `begin` and the rollback
//! of the read-only transaction, as a request pays them.
//!
//! `cargo bench -p fedkit-scim-sqlite --bench store`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{ResourceKind, Store};
use fedkit_scim_sqlite::{Durability, SqliteStore};
use serde_json::{json, Value};

const USERS: usize = 100_000;

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": format!("2819c223-7f76-453a-{i:012}"),
        "userName": format!("User{i}@Example.com"),
        "externalId": format!("ext-{i}"),
        "displayName": format!("Given Family{i}"),
        "name": {"givenName": "Given", "familyName": format!("Family{i}")},
        "emails": [
            {"value": format!("user{i}@example.com"), "type": "work", "primary": true},
            {"value": format!("u{i}@home.example"), "type": "home"}
        ],
        "active": true,
        "meta": {"resourceType": "User", "version": "W/\"1\""}
    })
}

fn populated(path: &std::path::Path, tenant: &TenantId) -> SqliteStore {
    let store = SqliteStore::open(path).unwrap();
    let started = Instant::now();
    let mut tx = store.begin(tenant).unwrap();
    for i in 0..USERS {
        tx.insert(ResourceKind::User, &user(i)).unwrap();
    }
    tx.commit().unwrap();
    eprintln!(
        "inserted {USERS} users in one transaction in {:.2?}",
        started.elapsed()
    );
    store
}

fn lookups(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let tenant = TenantId::new("bench").unwrap();
    let store = populated(&dir.path().join("bench.sqlite3"), &tenant);
    let mut group = c.benchmark_group("sqlite 100k users");
    group.sample_size(50).measurement_time(Duration::from_secs(4));

    let find = |filter: &Filter, expect: usize| {
        let mut tx = store.begin(&tenant).unwrap();
        let found = tx.find(ResourceKind::User, Some(filter)).unwrap();
        assert_eq!(found.len(), expect);
        found
    };
    let by_name = Filter::parse(r#"userName eq "user54321@example.com""#).unwrap();
    group.bench_function("find userName eq", |b| b.iter(|| find(&by_name, 1)));
    let by_email = Filter::parse(r#"emails.value eq "USER54321@example.com""#).unwrap();
    group.bench_function("find emails.value eq", |b| b.iter(|| find(&by_email, 1)));
    let by_value_filter =
        Filter::parse(r#"emails[type eq "work" and value eq "user54321@example.com"]"#).unwrap();
    group.bench_function("find emails[type eq and value eq]", |b| {
        b.iter(|| find(&by_value_filter, 1))
    });
    group.bench_function("get by id", |b| {
        b.iter(|| {
            let mut tx = store.begin(&tenant).unwrap();
            tx.get(ResourceKind::User, "2819c223-7f76-453a-000000054321")
                .unwrap()
                .unwrap()
        })
    });
    // `co` is a LIKE over the index of the tenant's userNames (no JSON parsed), then the
    // 11 matching rows.
    let co = Filter::parse(r#"userName co "er5432""#).unwrap();
    group.sample_size(10);
    group.bench_function("find userName co (index scan)", |b| b.iter(|| find(&co, 11)));
    let mut next = USERS;
    group.bench_function("insert one user + commit", |b| {
        b.iter(|| {
            let mut tx = store.begin(&tenant).unwrap();
            tx.insert(ResourceKind::User, &user(next)).unwrap();
            tx.commit().unwrap();
            next += 1;
        })
    });
    group.finish();
}

/// One committed insert per iteration, per durability mode, on a fresh file.
fn commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("sqlite commit");
    group.sample_size(30).measurement_time(Duration::from_secs(4));
    for (name, durability) in [("Full", Durability::Full), ("Process", Durability::Process)] {
        let dir = tempfile::tempdir().unwrap();
        let tenant = TenantId::new("bench").unwrap();
        let store = SqliteStore::open(dir.path().join("commit.sqlite3"))
            .unwrap()
            .with_durability(durability)
            .unwrap();
        let mut next = 0;
        group.bench_function(format!("insert one user + commit, Durability::{name}"), |b| {
            b.iter(|| {
                let mut tx = store.begin(&tenant).unwrap();
                tx.insert(ResourceKind::User, &user(next)).unwrap();
                tx.commit().unwrap();
                next += 1;
            })
        });
    }
    group.finish();
}

criterion_group!(benches, lookups, commits);
criterion_main!(benches);
