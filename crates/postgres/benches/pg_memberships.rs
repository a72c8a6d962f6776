//! Memberships at scale on PostgreSQL, through the SCIM handler as a request pays it:
//! `FEDKIT_BENCH_USERS` users (default 1 000 000) and about `FEDKIT_BENCH_MEMBERSHIPS`
//! memberships (default 10 000 000): groups of 1 000 members spread over the users, plus one
//! group of 100 000. Figures:
//!
//! * `DELETE /Users/{id}` of a user in 100 groups of 1 000 (goal ≤ 50 ms; the untimed setup
//!   puts a fresh user into 100 groups each time);
//! * `PATCH` adding, then removing, one member of the 100 000-member group (goal ≤ 5 ms);
//! * `GET /Groups?count=1&excludedAttributes=members` (goal ≤ 10 ms);
//! * `GET /Groups/{id}` of the 100 000-member group (beyond the inline cap) and a page of
//!   its members through `GET /Users?filter=groups.value eq "…"`.
//!
//! ```sh
//! cargo bench -p fedkit-postgres --bench pg_memberships
//! FEDKIT_BENCH_USERS=100000 FEDKIT_BENCH_MEMBERSHIPS=1000000 cargo bench -p fedkit-postgres --bench pg_memberships
//! FEDKIT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:55432/fedkit_bench cargo bench ...
//! ```
//!
//! Loading goes through [`PgStore::import`] (`INSERT … SELECT FROM unnest(…)`, 10 groups of
//! 1 000 members per statement), then `VACUUM ANALYZE`. With `FEDKIT_BENCH_DATABASE_URL`
//! the directory is loaded once (tenant `members`) and reused by runs of the same size.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use fedkit_postgres::scim::PgStore;
use fedkit_postgres::testing::TestServer;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::{ResourceKind, Store};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimService};
use serde_json::{json, Value};

const TENANT: &str = "members";
const GROUP_SIZE: usize = 1_000;
const BIG: usize = 100_000;

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.replace('_', "").parse().expect("a number"))
        .unwrap_or(default)
}

fn user_id(i: usize) -> String {
    format!("2819c223-7f76-453a-919d-{i:012}")
}

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user_id(i),
        "userName": format!("member{i:07}@example.com"),
        "displayName": format!("Member {i}"),
        "emails": [{"value": format!("member{i:07}@example.com"), "type": "work", "primary": true}],
        "active": true,
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z"}
    })
}

fn group_id(g: usize) -> String {
    format!("9c5a1e20-0000-4000-8000-{g:012}")
}

fn group(g: usize, members: impl Iterator<Item = usize>) -> Value {
    let members: Vec<Value> = members.map(|i| json!({"value": user_id(i)})).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": group_id(g),
        "displayName": format!("Group {g}"),
        "members": members,
        "meta": {"resourceType": "Group", "created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z"}
    })
}

/// Group 0 holds the first 100 000 users; groups 1.. hold 1 000 users each, spread (group g
/// starts at a stride through the users, so each user is in about memberships/users groups).
fn load(store: &PgStore, users: usize, groups: usize) {
    let tenant = TenantId::new(TENANT).unwrap();
    let pool = store.pool();
    let count = |kind: &str| -> i64 {
        pool.get()
            .unwrap()
            .query_one(
                "SELECT count(*) FROM fedkit_scim_resources WHERE tenant = $1 AND kind = $2",
                &[&TENANT, &kind],
            )
            .unwrap()
            .get(0)
    };
    if count("User") == users as i64 && count("Group") == groups as i64 + 1 {
        eprintln!("reusing the directory already loaded");
        return;
    }
    pool.get()
        .unwrap()
        .batch_execute(
            "DELETE FROM fedkit_scim_resources WHERE tenant = 'members';
             DELETE FROM fedkit_scim_values WHERE tenant = 'members';
             DELETE FROM fedkit_scim_group_members WHERE tenant = 'members';",
        )
        .unwrap();
    let started = Instant::now();
    let mut next = 0;
    while next < users {
        let end = (next + 10_000).min(users);
        let batch: Vec<Value> = (next..end).map(user).collect();
        store.import(&tenant, ResourceKind::User, &batch).unwrap();
        next = end;
    }
    let users_done = started.elapsed();
    store
        .import(&tenant, ResourceKind::Group, &[group(0, 0..BIG.min(users))])
        .unwrap();
    let stride = 7_919;
    let mut g = 1;
    while g <= groups {
        let end = (g + 10).min(groups + 1);
        let batch: Vec<Value> = (g..end)
            .map(|g| {
                let start = g.wrapping_mul(stride) % users;
                group(g, (0..GROUP_SIZE).map(move |k| (start + k) % users))
            })
            .collect();
        store.import(&tenant, ResourceKind::Group, &batch).unwrap();
        g = end;
        if g % 1_000 < 10 {
            eprintln!("  {g} groups in {:.1?}", started.elapsed());
        }
    }
    let loaded = started.elapsed();
    pool.get()
        .unwrap()
        .batch_execute("VACUUM ANALYZE fedkit_scim_resources, fedkit_scim_values, fedkit_scim_group_members")
        .unwrap();
    let size: String = pool
        .get()
        .unwrap()
        .query_one("SELECT pg_size_pretty(pg_database_size(current_database()))", &[])
        .unwrap()
        .get(0);
    eprintln!(
        "loaded {users} users in {users_done:.1?}, then 1 group of {BIG} and {groups} groups of {GROUP_SIZE} \
         ({} memberships) by {loaded:.1?}; VACUUM ANALYZE done after {:.1?}; database size {size}",
        BIG.min(users) + groups * GROUP_SIZE,
        started.elapsed()
    );
}

fn pg_memberships(c: &mut Criterion) {
    let users = env_size("FEDKIT_BENCH_USERS", 1_000_000);
    let memberships = env_size("FEDKIT_BENCH_MEMBERSHIPS", 10_000_000);
    assert!(users >= BIG, "FEDKIT_BENCH_USERS must be at least {BIG}");
    let groups = memberships.saturating_sub(BIG) / GROUP_SIZE;
    assert!(
        groups >= 100,
        "FEDKIT_BENCH_MEMBERSHIPS must leave at least 100 groups of {GROUP_SIZE}"
    );
    let (_server, url) = match std::env::var("FEDKIT_BENCH_DATABASE_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = TestServer::start().expect("PostgreSQL test server");
            let url = server.create_database("fedkit_bench").unwrap();
            (Some(server), url)
        }
    };
    let store = Arc::new(PgStore::connect(&url).unwrap());
    load(&store, users, groups);
    let service = ScimService::new(store.clone(), Arc::new(RandomIds::new()));
    let tenant = TenantId::new(TENANT).unwrap();
    let ctx = RequestContext {
        tenant: &tenant,
        base_url: "https://sp.example/scim/v2",
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    let call = |method: &str, path: &str, query: &str, body: &Value| {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let r = service.handle(
            &ctx,
            &ScimRequest {
                method,
                path,
                query,
                headers: &[],
                body: &body,
            },
        );
        (r.status, r.body)
    };

    let mut group = c.benchmark_group(format!(
        "postgres memberships, {users} users, {memberships} memberships"
    ));
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    let mut next = users + 1;
    group.bench_function("DELETE user in 100 groups of 1000", |b| {
        b.iter_batched(
            || {
                next += 1;
                let mut tx = store.begin(&tenant).unwrap();
                tx.insert(ResourceKind::User, &user(next)).unwrap();
                let member = [json!({"value": user_id(next)})];
                for g in 1..=100 {
                    tx.add_members(&group_id(g * (groups / 100)), &member).unwrap();
                }
                tx.commit().unwrap();
                user_id(next)
            },
            |id| {
                let (status, body) = call("DELETE", &format!("/Users/{id}"), "", &Value::Null);
                assert_eq!(status, 204, "{}", String::from_utf8_lossy(&body));
            },
            BatchSize::PerIteration,
        )
    });
    let big = format!("/Groups/{}", group_id(0));
    let patch =
        |op: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
    let outsider = user_id(users - 1);
    let add = patch(json!({"op": "add", "path": "members", "value": [{"value": outsider}]}));
    let remove = patch(json!({"op": "remove", "path": format!("members[value eq \"{outsider}\"]")}));
    for (label, first, second) in [("add", &remove, &add), ("remove", &add, &remove)] {
        group.bench_function(format!("PATCH {label} one member of {BIG}"), |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    assert_eq!(call("PATCH", &big, "", first).0, 200);
                    let started = Instant::now();
                    let (status, body) = call("PATCH", &big, "", second);
                    timed += started.elapsed();
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                }
                timed
            })
        });
    }
    group.bench_function("GET /Groups?count=1&excludedAttributes=members", |b| {
        b.iter(|| {
            let (status, body) = call(
                "GET",
                "/Groups",
                "count=1&excludedAttributes=members",
                &Value::Null,
            );
            assert_eq!(status, 200);
            assert!(body.len() < 2_000);
        })
    });
    group.bench_function(
        format!("GET /Groups/{{id}} of {BIG} members (beyond the cap)"),
        |b| {
            b.iter(|| {
                let (status, body) = call("GET", &big, "", &Value::Null);
                assert_eq!(status, 200);
                assert!(body.len() < 2_000);
            })
        },
    );
    let page = format!(
        "filter=groups.value%20eq%20%22{}%22&startIndex=50001&count=100",
        group_id(0)
    );
    group.sample_size(10);
    group.bench_function(
        format!("GET /Users?filter=groups.value eq (page of 100 of {BIG})"),
        |b| {
            b.iter(|| {
                let (status, body) = call("GET", "/Users", &page, &Value::Null);
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
            })
        },
    );
    group.finish();
}

criterion_group!(benches, pg_memberships);
criterion_main!(benches);
