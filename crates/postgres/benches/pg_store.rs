//! PgStore with many users (`FEDKIT_BENCH_USERS`, default 1 000 000) in one tenant, through
//! the SCIM handler as a request pays it: `userName eq` and `externalId eq` lookups (goal
//! ≤ 5 ms each), a GET by id, and filtered pages of 100 (goal ≤ 50 ms); for comparison a
//! `userName co` filter, which the indexes answer only by scanning.
//!
//! ```sh
//! cargo bench -p fedkit-postgres --bench pg_store
//! FEDKIT_BENCH_USERS=100000 cargo bench -p fedkit-postgres --bench pg_store
//! FEDKIT_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5433/fedkit_bench cargo bench ...
//! ```
//!
//! Without `FEDKIT_BENCH_DATABASE_URL` the bench starts a throwaway server
//! (`fedkit_postgres::testing::TestServer`) and loads the users every run. With it, the
//! users are loaded once into that database (tenant `bench`) and reused by later runs with
//! the same `FEDKIT_BENCH_USERS`.
//!
//! Loading goes through [`PgStore::import`]: the store's own schema and indexing code,
//! 1 000 users per `INSERT … SELECT FROM unnest(…)` statement, 10 000 per transaction, then
//! `VACUUM ANALYZE`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fedkit_postgres::scim::PgStore;
use fedkit_postgres::testing::TestServer;
use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::{ResourceKind, Store};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimService};
use serde_json::{json, Value};

const TENANT: &str = "bench";

fn users_wanted() -> usize {
    std::env::var("FEDKIT_BENCH_USERS")
        .ok()
        .map(|v| {
            v.replace('_', "")
                .parse()
                .expect("FEDKIT_BENCH_USERS is a number")
        })
        .unwrap_or(1_000_000)
}

fn id(i: usize) -> String {
    format!("2819c223-7f76-453a-919d-{i:012}")
}

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id(i),
        "userName": format!("User{i:07}@Example.com"),
        "externalId": format!("ext-{i:07}"),
        "displayName": format!("Given Family{i:07}"),
        "name": {"givenName": "Given", "familyName": format!("Family{i:07}")},
        "emails": [
            {"value": format!("user{i:07}@example.com"), "type": "work", "primary": true},
            {"value": format!("u{i:07}@home.example"), "type": "home"}
        ],
        "active": true,
        "meta": {"resourceType": "User", "created": "2026-01-01T00:00:00Z",
                 "lastModified": "2026-01-01T00:00:00Z", "version": "W/\"1\""}
    })
}

/// Makes the tenant hold exactly `n` users (reusing a previous load when it does).
fn load(store: &PgStore, n: usize) {
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
    let have = count("User");
    if usize::try_from(have).unwrap() == n {
        eprintln!("reusing the {n} users already loaded");
        return;
    }
    if have > 0 {
        eprintln!("replacing {have} users loaded earlier");
        pool.get()
            .unwrap()
            .execute(
                "WITH r AS (DELETE FROM fedkit_scim_resources WHERE tenant = $1 RETURNING seq),
                      v AS (DELETE FROM fedkit_scim_values WHERE tenant = $1)
                 DELETE FROM fedkit_scim_group_members WHERE tenant = $1",
                &[&TENANT],
            )
            .unwrap();
    }
    let started = Instant::now();
    let mut next = 0;
    while next < n {
        let end = (next + 10_000).min(n);
        let batch: Vec<Value> = (next..end).map(user).collect();
        store.import(&tenant, ResourceKind::User, &batch).unwrap();
        next = end;
        if next % 100_000 == 0 {
            eprintln!("  {next} users in {:.1?}", started.elapsed());
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
        "imported {n} users in {loaded:.1?}, VACUUM ANALYZE done after {:.1?}; database size {size}",
        started.elapsed()
    );
    assert_eq!(count("User"), i64::try_from(n).unwrap());
}

fn percent_encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

fn pg_store(c: &mut Criterion) {
    let n = users_wanted();
    assert!(n >= 2_000, "FEDKIT_BENCH_USERS must be at least 2000");
    let (_server, url) = match std::env::var("FEDKIT_BENCH_DATABASE_URL") {
        Ok(url) => (None, url),
        Err(_) => {
            let server = TestServer::start().expect("PostgreSQL test server");
            let url = server.create_database("fedkit_bench").unwrap();
            (Some(server), url)
        }
    };
    let store = Arc::new(PgStore::connect(&url).unwrap());
    load(&store, n);

    let service = ScimService::new(store.clone(), Arc::new(RandomIds::new()));
    let tenant = TenantId::new(TENANT).unwrap();
    let ctx = RequestContext {
        tenant: &tenant,
        base_url: "https://sp.example/scim/v2",
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    // Each request asks for another user (spread over the table), expecting `expect`
    // results in the page and `total` matches.
    let list = |filter: &str, count: Option<usize>, expect: usize, total: usize| {
        let mut query = format!("filter={}", percent_encode(filter));
        if let Some(count) = count {
            query.push_str(&format!("&count={count}"));
        }
        let r = service.handle(
            &ctx,
            &ScimRequest {
                method: "GET",
                path: "/Users",
                query: &query,
                headers: &[],
                body: b"",
            },
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["totalResults"], total, "{filter}");
        assert_eq!(
            body["Resources"].as_array().map_or(0, Vec::len),
            expect,
            "{filter}"
        );
    };
    let spread = |k: usize| (k.wrapping_mul(7919) + 12_345) % n;

    let mut group = c.benchmark_group(format!("postgres {n} users"));
    group.sample_size(50).measurement_time(Duration::from_secs(5));
    let mut k = 0;
    group.bench_function("GET /Users?filter=userName eq", |b| {
        b.iter(|| {
            k += 1;
            list(
                &format!("userName eq \"USER{:07}@example.com\"", spread(k)),
                None,
                1,
                1,
            );
        })
    });
    group.bench_function("GET /Users?filter=externalId eq", |b| {
        b.iter(|| {
            k += 1;
            list(&format!("externalId eq \"ext-{:07}\"", spread(k)), None, 1, 1);
        })
    });
    group.bench_function("GET /Users/{id}", |b| {
        b.iter(|| {
            k += 1;
            let path = format!("/Users/{}", id(spread(k)));
            let r = service.handle(
                &ctx,
                &ScimRequest {
                    method: "GET",
                    path: &path,
                    query: "",
                    headers: &[],
                    body: b"",
                },
            );
            assert_eq!(r.status, 200);
        })
    });
    let find = Filter::parse(&format!("userName eq \"user{:07}@example.com\"", n / 2)).unwrap();
    group.bench_function("store find userName eq", |b| {
        b.iter(|| {
            let mut tx = store.begin_read(&tenant).unwrap();
            assert_eq!(tx.find(ResourceKind::User, Some(&find)).unwrap().len(), 1);
        })
    });
    // Pages of 100: a filter matching exactly 100 users (a 5-digit prefix of the 7-digit
    // numbers), and one matching 1 000 of which the page shows the first 100.
    group.bench_function("GET /Users?filter=emails.value sw (100 matches)&count=100", |b| {
        b.iter(|| {
            k += 1;
            let prefix = (spread(k) / 100).min((n - 100) / 100);
            list(
                &format!("emails.value sw \"user{prefix:05}\""),
                Some(100),
                100,
                100,
            );
        })
    });
    group.bench_function(
        "GET /Users?filter=emails[type eq \"work\" and value sw] (1000 matches)&count=100",
        |b| {
            b.iter(|| {
                k += 1;
                let prefix = (spread(k) / 1000).min((n - 1000) / 1000);
                list(
                    &format!("emails[type eq \"work\" and value sw \"user{prefix:04}\"]"),
                    Some(100),
                    100,
                    1000,
                );
            })
        },
    );
    group.finish();

    // What a filter the indexes cannot narrow costs: `co` reads every userName index entry
    // of the tenant (the documents themselves only for the matches).
    let mut group = c.benchmark_group(format!("postgres {n} users, scan-shaped"));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("GET /Users?filter=userName co (1 match)", |b| {
        b.iter(|| {
            k += 1;
            list(&format!("userName co \"r{:07}@\"", spread(k)), None, 1, 1);
        })
    });
    group.finish();
}

criterion_group!(benches, pg_store);
criterion_main!(benches);
