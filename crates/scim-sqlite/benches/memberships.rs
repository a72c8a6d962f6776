//! Memberships at scale, through the SCIM handler as a request pays it, on a file-backed
//! SQLite store (default durability), beside `MemoryStore` holding the same directory:
//!
//! * `DELETE /Users/{id}` of a user in 100 groups of 1 000 members (goal ≤ 50 ms);
//! * `PATCH /Groups/{id}` adding, then removing, one member of a 100 000-member group
//!   (goal ≤ 5 ms each), and the whole-list write (`Transaction::update` of the group with
//!   one more member: what every member change cost before members became rows);
//! * `GET /Groups?count=1&excludedAttributes=members` with 500 groups of 1 000 members
//!   (goal ≤ 10 ms and ≤ 10 MB of memory growth; the growth is printed, measured as the
//!   peak resident set during the request minus the resident set before it, with the peak
//!   reset through `/proc/self/clear_refs`, in a fresh process on the loaded file);
//! * `GET /Groups/{id}` of the 100 000-member group (beyond the inline cap) and a page of its
//!   members, `GET /Users?filter=groups.value eq "…"&count=100`;
//! * `GET /Users?filter=active eq true&count=10` over the 100 000 users (a filter no index
//!   answers: read chunk by chunk and cut to the page), unsorted and sorted by
//!   `displayName`; the memory growth of both is printed as above.
//!
//! `cargo bench -p fedkit-scim-sqlite --bench memberships`
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
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::{MemoryStore, ResourceKind, Store};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimService};
use fedkit_scim_sqlite::SqliteStore;
use serde_json::{json, Value};

/// A filter no store index answers (`active` is not indexed), one page of 10.
const SCAN: &str = "filter=active%20eq%20true&count=10";
/// The same, sorted by an attribute no store sorts by.
const SCAN_SORTED: &str = "filter=active%20eq%20true&count=10&sortBy=displayName&sortOrder=descending";

const META: &str = r#"{"created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z"}"#;

fn meta(kind: &str) -> Value {
    let mut m: Value = serde_json::from_str(META).unwrap();
    m["resourceType"] = json!(kind);
    m
}

fn user_id(tenant: &str, i: usize) -> String {
    format!("{tenant}-user-{i:07}")
}

fn user(tenant: &str, i: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": user_id(tenant, i),
        "userName": format!("{tenant}.user{i:07}@example.com"),
        "displayName": format!("User {i}"),
        "emails": [{"value": format!("{tenant}.user{i:07}@example.com"), "type": "work", "primary": true}],
        "active": true,
        "meta": meta("User"),
    })
}

fn group(tenant: &str, g: usize, members: impl Iterator<Item = usize>) -> Value {
    let members: Vec<Value> = members
        .map(|i| json!({"value": user_id(tenant, i), "display": format!("User {i}")}))
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": format!("{tenant}-group-{g:04}"),
        "displayName": format!("{tenant} group {g}"),
        "members": members,
        "meta": meta("Group"),
    })
}

/// `users` users and `groups` groups of the first `size` users each, in tenant `tenant`.
fn load(store: &dyn Store, tenant: &str, users: usize, groups: usize, size: usize) {
    let started = Instant::now();
    let t = TenantId::new(tenant).unwrap();
    let mut tx = store.begin(&t).unwrap();
    for i in 0..users {
        tx.insert(ResourceKind::User, &user(tenant, i)).unwrap();
    }
    for g in 0..groups {
        tx.insert(ResourceKind::Group, &group(tenant, g, 0..size))
            .unwrap();
    }
    tx.commit().unwrap();
    eprintln!(
        "{tenant}: {users} users, {groups} groups of {size} loaded in {:.1?}",
        started.elapsed()
    );
}

fn call(
    service: &ScimService,
    tenant: &TenantId,
    method: &str,
    path: &str,
    query: &str,
    body: &Value,
) -> (u16, Vec<u8>) {
    let ctx = RequestContext {
        tenant,
        base_url: "https://sp.example/scim/v2",
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
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
}

fn proc_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The peak resident-set growth (KiB) while `f` runs, or `None` where the peak cannot be
/// reset.
fn growth(f: impl FnOnce()) -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = proc_kib("VmRSS:");
    f();
    Some(proc_kib("VmHWM:").saturating_sub(before))
}

struct Setup {
    name: &'static str,
    service: ScimService,
    store: Arc<dyn Store>,
}

fn setups(dir: &std::path::Path) -> Vec<Setup> {
    let sqlite: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.join("memberships.sqlite3")).unwrap());
    let memory: Arc<dyn Store> = Arc::new(MemoryStore::new());
    [("sqlite", sqlite), ("memory", memory)]
        .into_iter()
        .map(|(name, store)| {
            load(store.as_ref(), "del", 1_000, 100, 1_000);
            load(store.as_ref(), "list", 1_000, 500, 1_000);
            load(store.as_ref(), "big", 100_000, 1, 100_000);
            Setup {
                name,
                service: ScimService::new(Arc::clone(&store), Arc::new(RandomIds::new())),
                store,
            }
        })
        .collect()
}

/// In a child process on the SQLite file the parent loaded (so the heap holds nothing of
/// the load): the peak resident-set growth of one `GET /Groups?count=1&excludedAttributes=members`
/// after a warm-up request on another tenant. Prints `growth-kib N`.
fn measure_in_child(path: &str) -> ! {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let service_store: Arc<dyn Store> = store.clone();
    let service = ScimService::new(store, Arc::new(RandomIds::new()));
    let warm = TenantId::new("del").unwrap();
    let list = TenantId::new("list").unwrap();
    let query = "count=1&excludedAttributes=members";
    assert_eq!(
        call(&service, &warm, "GET", "/Groups", query, &Value::Null).0,
        200
    );
    // A filter no index answers, over 100 000 users: the handler reads them chunk by chunk
    // and keeps only the page (sorted: the ids of the best 10 so far). Each in a process of
    // its own (FEDKIT_BENCH_MEASURE_PART), since a heap grown by one request hides the next.
    let big = TenantId::new("big").unwrap();
    match std::env::var("FEDKIT_BENCH_MEASURE_PART").as_deref() {
        Ok(part @ ("scan-kib" | "scan-sorted-kib")) => {
            let query = if part == "scan-kib" { SCAN } else { SCAN_SORTED };
            let kib = growth(|| {
                let (status, body) = call(&service, &big, "GET", "/Users", query, &Value::Null);
                assert_eq!(status, 200);
                assert!(body.len() < 20_000);
            });
            println!("{part} {}", kib.map_or(-1, |k| k as i64));
            std::process::exit(0);
        }
        Ok("scan-all-kib") => {
            // What the handler held for the same request before lists were read in chunks:
            // every candidate the store selects (all 100 000 users, `active` being unindexed).
            let kib = growth(|| {
                let filter = fedkit_scim::filter::Filter::parse("active eq true").unwrap();
                let mut tx = service_store.begin_read(&big).unwrap();
                let all = tx.find_attributes(ResourceKind::User, Some(&filter)).unwrap();
                assert_eq!(all.len(), 100_000);
            });
            println!("scan-all-kib {}", kib.map_or(-1, |k| k as i64));
            std::process::exit(0);
        }
        _ => {}
    }
    let kib = growth(|| {
        let (status, body) = call(&service, &list, "GET", "/Groups", query, &Value::Null);
        assert_eq!(status, 200);
        assert!(body.len() < 2_000);
    });
    println!("growth-kib {}", kib.map_or(-1, |k| k as i64));
    // The same measure on a request that does hold members (50 groups of 1 000): what the
    // measure reports when a page is heavy.
    let kib = growth(|| {
        let (status, body) = call(&service, &list, "GET", "/Groups", "count=50", &Value::Null);
        assert_eq!(status, 200);
        assert!(body.len() > 50_000);
    });
    println!("heavy-kib {}", kib.map_or(-1, |k| k as i64));
    std::process::exit(0);
}

fn memberships(c: &mut Criterion) {
    if let Ok(path) = std::env::var("FEDKIT_BENCH_MEASURE_DB") {
        measure_in_child(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let setups = setups(dir.path());
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--bench")
        .env("FEDKIT_BENCH_MEASURE_DB", dir.path().join("memberships.sqlite3"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&child.stdout);
    match out
        .lines()
        .find_map(|l| l.strip_prefix("growth-kib "))
        .and_then(|k| k.trim().parse::<i64>().ok())
    {
        Some(k) if k >= 0 => eprintln!(
            "sqlite: GET /Groups?count=1&excludedAttributes=members (500 x 1000), fresh process: peak memory growth {:.2} MiB",
            k as f64 / 1024.0
        ),
        _ => eprintln!("sqlite: memory growth not measurable here ({out})"),
    }
    if let Some(k) = out
        .lines()
        .find_map(|l| l.strip_prefix("heavy-kib "))
        .and_then(|k| k.trim().parse::<i64>().ok())
    {
        eprintln!(
            "sqlite: GET /Groups?count=50 (50 groups with their 1 000 members each), same process: peak memory growth {:.2} MiB",
            k as f64 / 1024.0
        );
    }
    for (label, what) in [
        (
            "scan-kib",
            "GET /Users?filter=active eq true&count=10 (100 000 users)",
        ),
        (
            "scan-sorted-kib",
            "GET /Users?filter=active eq true&count=10&sortBy=displayName (100 000 users)",
        ),
        (
            "scan-all-kib",
            "reading every candidate of that filter at once (what the handler held before chunks)",
        ),
    ] {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--bench")
            .env("FEDKIT_BENCH_MEASURE_DB", dir.path().join("memberships.sqlite3"))
            .env("FEDKIT_BENCH_MEASURE_PART", label)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&child.stdout);
        if let Some(k) = out
            .lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|k| k.trim().parse::<i64>().ok())
        {
            eprintln!(
                "sqlite: {what}, fresh process: peak memory growth {:.2} MiB",
                k as f64 / 1024.0
            );
        }
    }
    let mut group = c.benchmark_group("memberships");
    group.sample_size(20).measurement_time(Duration::from_secs(6));
    for s in &setups {
        let name = s.name;
        // DELETE a user who is in all 100 groups of 1 000; the setup (untimed) puts a fresh
        // user back into every group, so the directory keeps its size.
        let del = TenantId::new("del").unwrap();
        let mut next = 1_000_000;
        group.bench_function(format!("{name}: DELETE user in 100 groups of 1000"), |b| {
            b.iter_batched(
                || {
                    next += 1;
                    let mut tx = s.store.begin(&del).unwrap();
                    tx.insert(ResourceKind::User, &user("del", next)).unwrap();
                    let member = [json!({"value": user_id("del", next)})];
                    for g in 0..100 {
                        tx.add_members(&format!("del-group-{g:04}"), &member).unwrap();
                    }
                    tx.commit().unwrap();
                    user_id("del", next)
                },
                |id| {
                    let (status, body) = call(
                        &s.service,
                        &del,
                        "DELETE",
                        &format!("/Users/{id}"),
                        "",
                        &Value::Null,
                    );
                    assert_eq!(status, 204, "{}", String::from_utf8_lossy(&body));
                },
                BatchSize::PerIteration,
            )
        });

        // PATCH add / remove one member of the 100 000-member group.
        let big = TenantId::new("big").unwrap();
        let path = "/Groups/big-group-0000";
        let patch = |op: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]});
        let add = patch(json!({"op": "add", "path": "members", "value": [{"value": user_id("big", 0)}]}));
        let remove =
            patch(json!({"op": "remove", "path": format!("members[value eq \"{}\"]", user_id("big", 0))}));
        for (label, first, second) in [("add", &remove, &add), ("remove", &add, &remove)] {
            group.bench_function(format!("{name}: PATCH {label} one member of 100000"), |b| {
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        let (status, _) = call(&s.service, &big, "PATCH", path, "", first);
                        assert_eq!(status, 200);
                        let started = Instant::now();
                        let (status, body) = call(&s.service, &big, "PATCH", path, "", second);
                        timed += started.elapsed();
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    }
                    timed
                })
            });
        }
        // The whole-list write: the group with one more member, written as a document.
        let mut whole = s
            .store
            .begin(&big)
            .unwrap()
            .get(ResourceKind::Group, "big-group-0000")
            .unwrap()
            .unwrap();
        let members = whole["members"].as_array_mut().unwrap();
        members.retain(|m| m["value"] != json!(user_id("big", 0)));
        let without = whole.clone();
        whole["members"]
            .as_array_mut()
            .unwrap()
            .push(json!({"value": user_id("big", 0)}));
        group.sample_size(10);
        group.bench_function(
            format!("{name}: whole-list write of 100000 members (+1/-1)"),
            |b| {
                let mut flip = false;
                b.iter(|| {
                    flip = !flip;
                    let mut tx = s.store.begin(&big).unwrap();
                    tx.update(ResourceKind::Group, if flip { &whole } else { &without })
                        .unwrap();
                    tx.commit().unwrap();
                })
            },
        );
        group.sample_size(20);
        let (status, _) = call(&s.service, &big, "PATCH", path, "", &add);
        assert_eq!(status, 200);

        // Reads.
        let list = TenantId::new("list").unwrap();
        group.bench_function(
            format!("{name}: GET /Groups?count=1&excludedAttributes=members (500 x 1000)"),
            |b| {
                b.iter(|| {
                    let (status, body) = call(
                        &s.service,
                        &list,
                        "GET",
                        "/Groups",
                        "count=1&excludedAttributes=members",
                        &Value::Null,
                    );
                    assert_eq!(status, 200);
                    assert!(body.len() < 2_000);
                })
            },
        );
        group.bench_function(
            format!("{name}: GET /Groups/{{id}} of 100000 members (beyond the cap)"),
            |b| {
                b.iter(|| {
                    let (status, body) = call(&s.service, &big, "GET", path, "", &Value::Null);
                    assert_eq!(status, 200);
                    assert!(body.len() < 2_000);
                })
            },
        );
        for (label, query) in [("", SCAN), (" sortBy=displayName", SCAN_SORTED)] {
            group.bench_function(
                format!("{name}: GET /Users?filter=active eq true&count=10{label} (100000 users)"),
                |b| {
                    b.iter(|| {
                        let (status, body) = call(&s.service, &big, "GET", "/Users", query, &Value::Null);
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    })
                },
            );
        }
        let page = "filter=groups.value%20eq%20%22big-group-0000%22&startIndex=50001&count=100";
        group.bench_function(
            format!("{name}: GET /Users?filter=groups.value eq (page of 100 of 100000)"),
            |b| {
                b.iter(|| {
                    let (status, body) = call(&s.service, &big, "GET", "/Users", page, &Value::Null);
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, memberships);
criterion_main!(benches);
