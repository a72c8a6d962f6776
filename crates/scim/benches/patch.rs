//! PATCH benchmarks. Goals (issue 5): a simple PATCH ≤ 2 µs; adding or removing one member
//! of a 100 000-member group ≤ 20 ms (nothing quadratic).
//!
//! `cargo bench -p fedkit-scim --bench patch`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use fedkit_scim::patch::{apply, PatchOptions, PatchRequest};
use fedkit_scim::schema::SchemaRegistry;
use serde_json::{json, Value};

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs Jensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"}
    })
}

/// A group as a service stores it after Entra ID / Okta provisioning: each member with
/// `value`, `$ref` and `type`.
fn big_group(n: usize) -> Value {
    let members: Vec<Value> = (0..n)
        .map(|i| {
            let id = format!("{i:08x}-7f76-453a-919d-413861904646");
            json!({"value": id, "$ref": format!("https://example.com/v2/Users/{id}"), "type": "User"})
        })
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Everyone",
        "members": members
    })
}

fn body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

fn bench(c: &mut Criterion) {
    let registry = SchemaRegistry::core();
    let options = PatchOptions::default();

    // Simple PATCH: what JumpCloud sends to deactivate a user.
    let deactivate = body(json!([{"op": "replace", "path": "active", "value": false}]));
    let request = PatchRequest::parse(&deactivate).unwrap();
    c.bench_function("scim patch: replace active (parse + apply)", |b| {
        b.iter_batched_ref(
            user,
            |u| {
                let request = PatchRequest::parse(black_box(&deactivate)).unwrap();
                apply(&registry, "User", u, &request, &options).unwrap()
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("scim patch: replace active (apply only)", |b| {
        b.iter_batched_ref(
            user,
            |u| apply(&registry, "User", u, black_box(&request), &options).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let entra = body(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"}
    ]));
    c.bench_function("scim patch: Entra email + familyName (parse + apply)", |b| {
        b.iter_batched_ref(
            user,
            |u| {
                let request = PatchRequest::parse(black_box(&entra)).unwrap();
                apply(&registry, "User", u, &request, &options).unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    let mut large = c.benchmark_group("scim patch: 100 000-member group");
    large.sample_size(10).measurement_time(Duration::from_secs(20));
    let group = big_group(100_000);
    let newcomer = "ffffffff-7f76-453a-919d-413861904646";
    let add = PatchRequest::parse(&body(json!([
        {"op": "add", "path": "members", "value": [{"value": newcomer, "type": "User"}]}
    ])))
    .unwrap();
    // A member in the middle: half the array shifts on removal.
    let middle = format!("{:08x}-7f76-453a-919d-413861904646", 50_000);
    let remove_filter = PatchRequest::parse(&body(
        json!([{"op": "remove", "path": format!("members[value eq \"{middle}\"]")}]),
    ))
    .unwrap();
    let remove_listed = PatchRequest::parse(&body(json!([
        {"op": "remove", "path": "members", "value": [{"value": middle}]}
    ])))
    .unwrap();
    // The floor: one pass over the members reading each `value`, no PATCH. Every operation
    // below must read each member at least once (to find duplicates or matches), so this is
    // the best any implementation over serde_json values can do.
    large.bench_function("floor: read every member's value (no PATCH)", |b| {
        b.iter(|| {
            group["members"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m.get("value").and_then(Value::as_str) == Some(black_box(newcomer)))
                .count()
        })
    });
    large.bench_function("add one member", |b| {
        b.iter_batched_ref(
            || group.clone(),
            |g| apply(&registry, "Group", g, black_box(&add), &options).unwrap(),
            BatchSize::LargeInput,
        )
    });
    large.bench_function("remove one member (members[value eq ...])", |b| {
        b.iter_batched_ref(
            || group.clone(),
            |g| apply(&registry, "Group", g, black_box(&remove_filter), &options).unwrap(),
            BatchSize::LargeInput,
        )
    });
    large.bench_function("remove one member (value list, JumpCloud/Entra)", |b| {
        b.iter_batched_ref(
            || group.clone(),
            |g| apply(&registry, "Group", g, black_box(&remove_listed), &options).unwrap(),
            BatchSize::LargeInput,
        )
    });
    let add_remove = PatchRequest::parse(&body(json!([
        {"op": "add", "path": "members", "value": [{"value": newcomer}]},
        {"op": "remove", "path": format!("members[value eq \"{newcomer}\"]")}
    ])))
    .unwrap();
    let mut g = group.clone();
    large.bench_function("add + remove one member, one request (no clone)", |b| {
        b.iter(|| apply(&registry, "Group", &mut g, black_box(&add_remove), &options).unwrap())
    });
    assert_eq!(g, group);
    large.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
