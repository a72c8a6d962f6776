//! The handler end to end (JSON in, JSON out) over the in-memory store and over SQLite:
//! provisioning 10 000 users (goal ≤ 10 s on SQLite), a `userName eq` lookup and a GET by id
//! among them, and a PATCH of a 10 000-member group.
//!
//! `cargo bench -p fedkit-scim-sqlite --bench handler`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;

use chrono::DateTime;
use criterion::{criterion_group, criterion_main, Criterion};
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::{MemoryStore, Store};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimResponse, ScimService};
use serde_json::{json, Value};

const USERS: usize = 10_000;

fn call(
    service: &ScimService,
    tenant: &TenantId,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> ScimResponse {
    let ctx = RequestContext {
        tenant,
        base_url: "https://sp.example/scim/v2",
        now: DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default(),
    };
    service.handle(
        &ctx,
        &ScimRequest {
            method,
            path,
            query,
            headers: &[],
            body,
        },
    )
}

fn user_body(i: usize) -> Vec<u8> {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("user{i}@example.com"),
        "externalId": format!("ext-{i}"),
        "name": {"givenName": "Given", "familyName": format!("Family{i}")},
        "emails": [{"value": format!("user{i}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
    .to_string()
    .into_bytes()
}

/// Provisions `users` users; returns the id of the middle one.
fn provision(service: &ScimService, tenant: &TenantId, users: usize) -> String {
    let mut last = String::new();
    for i in 0..users {
        let r = call(service, tenant, "POST", "/Users", "", &user_body(i));
        assert_eq!(r.status, 201);
        if i == users / 2 {
            let v: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            last = v["id"].as_str().unwrap_or_default().to_owned();
        }
    }
    last
}

/// Provisioning `users` users, each POST its own transaction, on a fresh store each time.
fn bench_provision(c: &mut Criterion, name: &str, users: usize, make: &dyn Fn() -> Arc<dyn Store>) {
    let tenant = TenantId::new("bench").unwrap_or_else(|_| unreachable!());
    let mut g = c.benchmark_group(format!("handler/{name}"));
    g.sample_size(10);
    g.bench_function(format!("provision {}k users (POST)", users / 1000), |b| {
        b.iter_batched(
            || ScimService::new(make(), Arc::new(RandomIds::new())),
            |service| provision(&service, &tenant, users),
            criterion::BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_store(c: &mut Criterion, name: &str, make: &dyn Fn() -> Arc<dyn Store>) {
    bench_provision(c, name, USERS, make);
    let tenant = TenantId::new("bench").unwrap_or_else(|_| unreachable!());

    let service = ScimService::new(make(), Arc::new(RandomIds::new()));
    let id = provision(&service, &tenant, USERS);
    let mut g = c.benchmark_group(format!("handler/{name}"));
    g.bench_function("GET /Users?filter=userName eq (10k users)", |b| {
        b.iter(|| {
            let r = call(
                &service,
                &tenant,
                "GET",
                "/Users",
                "filter=userName%20eq%20%22user7777%40example.com%22",
                b"",
            );
            assert_eq!(r.status, 200);
        })
    });
    // A group with every user as a member; add and remove one member (nothing quadratic).
    let list = call(&service, &tenant, "GET", "/Users", "count=200&attributes=id", b"");
    let list: Value = serde_json::from_slice(&list.body).unwrap();
    let mut members: Vec<Value> = Vec::new();
    let mut start = 1;
    loop {
        let page = call(
            &service,
            &tenant,
            "GET",
            "/Users",
            &format!("count=200&startIndex={start}&attributes=id"),
            b"",
        );
        let page: Value = serde_json::from_slice(&page.body).unwrap();
        let items = page["Resources"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        start += items.len();
        members.extend(items.into_iter().map(|u| json!({"value": u["id"]})));
    }
    let extra = members.pop().unwrap();
    assert_eq!(list["totalResults"], USERS);
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone", "members": members});
    let r = call(
        &service,
        &tenant,
        "POST",
        "/Groups",
        "",
        group.to_string().as_bytes(),
    );
    assert_eq!(r.status, 201);
    let gid = serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gpath = format!("/Groups/{gid}");
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "add", "path": "members", "value": [extra]}]})
    .to_string();
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "remove", "path": format!("members[value eq \"{}\"]", extra["value"].as_str().unwrap())}]})
    .to_string();
    g.bench_function(
        "PATCH add+remove one member of a 10k-member group (excludedAttributes=members)",
        |b| {
            b.iter(|| {
                let r = call(
                    &service,
                    &tenant,
                    "PATCH",
                    &gpath,
                    "excludedAttributes=members",
                    add.as_bytes(),
                );
                assert_eq!(r.status, 200);
                let r = call(
                    &service,
                    &tenant,
                    "PATCH",
                    &gpath,
                    "excludedAttributes=members",
                    remove.as_bytes(),
                );
                assert_eq!(r.status, 200);
            })
        },
    );
    let path = format!("/Users/{id}");
    g.bench_function("GET /Users/{id} (10k users)", |b| {
        b.iter(|| {
            let r = call(&service, &tenant, "GET", &path, "", b"");
            assert_eq!(r.status, 200);
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_store(c, "memory", &|| Arc::new(MemoryStore::new()));
    sqlite::benches(c);
}

mod sqlite {
    use std::sync::{Arc, Mutex};

    use criterion::Criterion;
    use fedkit_scim_service::store::Store;
    use fedkit_scim_sqlite::{Durability, SqliteStore};
    use tempfile::TempDir;

    /// A store in a fresh file; the directory is removed when the bench ends.
    fn open(dirs: &Mutex<Vec<TempDir>>, durability: Durability) -> Arc<dyn Store> {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("scim.sqlite3"))
            .unwrap()
            .with_durability(durability)
            .unwrap();
        dirs.lock().unwrap().push(dir);
        Arc::new(store)
    }

    pub(super) fn benches(c: &mut Criterion) {
        let dirs = Mutex::new(Vec::new());
        // `fedkit scim serve --durability process`: every benchmark, 10 000 users.
        super::bench_store(c, "sqlite-process", &|| open(&dirs, Durability::Process));
        // The default (an fsync per commit): provisioning only, 1 000 users, as 10 000 take
        // ten times as long and criterion wants ten samples.
        super::bench_provision(c, "sqlite-full", 1_000, &|| open(&dirs, Durability::Full));
    }
}

criterion_group!(handler, benches);
criterion_main!(handler);
