//! Two SCIM handler instances (two `ScimService`s over two `PgStore`s with their own
//! pools) on one database stand for two app servers: concurrent PATCHes with the same
//! `If-Match`, concurrent PATCHes without it, and the database restarting mid-run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod scim_support;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use fedkit_postgres::scim::PgStore;
use fedkit_postgres::testing::TestServer;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::{ResourceKind, Store};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimResponse, ScimService};
use serde_json::{json, Value};

use scim_support::{database, node, tenant};

struct Node {
    service: ScimService,
    tenant: TenantId,
}

impl Node {
    fn new(store: PgStore) -> Self {
        Self {
            service: ScimService::new(Arc::new(store), Arc::new(RandomIds::new())),
            tenant: tenant("acme"),
        }
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &Value) -> ScimResponse {
        let ctx = RequestContext {
            tenant: &self.tenant,
            base_url: "https://sp.example/scim/v2",
            now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        };
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        self.service.handle(
            &ctx,
            &ScimRequest {
                method,
                path,
                query: "",
                headers,
                body: &body,
            },
        )
    }

    fn create_user(&self, name: &str) -> (String, String) {
        let r = self.call(
            "POST",
            "/Users",
            &[],
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}),
        );
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        (
            body["id"].as_str().unwrap().to_owned(),
            r.header("ETag").unwrap().to_owned(),
        )
    }

    fn get(&self, id: &str) -> (u16, Value) {
        let r = self.call("GET", &format!("/Users/{id}"), &[], &Value::Null);
        (r.status, serde_json::from_slice(&r.body).unwrap_or(Value::Null))
    }
}

fn patch_body(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[test]
fn concurrent_patches_with_the_same_if_match_exactly_one_wins() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, url) = database("if_match");
    let a = Node::new(node(&url));
    let b = Node::new(node(&url));
    let (id, _) = a.create_user("race@example.com");
    for round in 0..20 {
        // Both nodes read the same version, then both write against it.
        let (status, before) = b.get(&id);
        assert_eq!(status, 200);
        let etag = before["meta"]["version"].as_str().unwrap().to_owned();
        let barrier = Barrier::new(2);
        let path = format!("/Users/{id}");
        let results: Vec<(u16, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = [(&a, "A"), (&b, "B")]
                .into_iter()
                .map(|(n, label)| {
                    let (barrier, path, etag) = (&barrier, &path, &etag);
                    s.spawn(move || {
                        let body = patch_body(json!([
                            {"op": "replace", "path": "title", "value": format!("{label}{round}")},
                            {"op": "add", "path": "emails", "value": [{"value": format!("{label}{round}@x.example")}]}
                        ]));
                        barrier.wait();
                        let r = n.call("PATCH", path, &[("If-Match", etag)], &body);
                        (r.status, label.to_owned())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "round {round}: {results:?}");
        let winner = &results.iter().find(|(s, _)| *s == 200).unwrap().1;
        // The winner's whole change is there and nothing of the loser's.
        let (_, after) = a.get(&id);
        assert_eq!(after["title"], json!(format!("{winner}{round}")), "round {round}");
        let emails: Vec<&str> = after["emails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["value"].as_str().unwrap())
            .collect();
        assert!(emails.contains(&format!("{winner}{round}@x.example").as_str()));
        let loser = if winner == "A" { "B" } else { "A" };
        assert!(!emails.contains(&format!("{loser}{round}@x.example").as_str()));
        assert_eq!(emails.len(), round + 1, "one email per round: {emails:?}");
        assert_ne!(after["meta"]["version"], before["meta"]["version"]);
    }
}

#[test]
fn concurrent_patches_without_if_match_lose_nothing() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, url) = database("no_lost_update");
    let nodes = [Node::new(node(&url)), Node::new(node(&url))];
    let (id, _) = nodes[0].create_user("many@example.com");
    let path = format!("/Users/{id}");
    std::thread::scope(|s| {
        for (n, node) in nodes.iter().enumerate() {
            for t in 0..3 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..10 {
                        let body = patch_body(json!([
                            {"op": "add", "path": "emails", "value": [{"value": format!("n{n}-t{t}-{i}@x.example")}]}
                        ]));
                        let r = node.call("PATCH", path, &[], &body);
                        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                    }
                });
            }
        }
    });
    let (_, after) = nodes[1].get(&id);
    assert_eq!(after["emails"].as_array().unwrap().len(), 60, "{after}");
}

#[test]
fn the_database_restarting_mid_run_fails_requests_cleanly_and_loses_nothing() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    // A server of its own: this test stops it.
    let mut server = TestServer::start().unwrap();
    let url = server.create_database("restart").unwrap();
    let store_a = node(&url);
    let store_b = node(&url);
    let lock_holder = node(&url);
    let a = Node::new(store_a);
    let b = Node::new(store_b);
    let (id, etag) = a.create_user("steady@example.com");
    let (_, before) = b.get(&id);

    // A PATCH is under way on node A (waiting for a row another request holds) when the
    // database goes down.
    let acme = tenant("acme");
    let mut holder = lock_holder.begin(&acme).unwrap();
    assert!(holder.get(ResourceKind::User, &id).unwrap().is_some());
    let path = format!("/Users/{id}");
    let in_flight = std::thread::scope(|s| {
        let h = s.spawn(|| {
            let body = patch_body(json!([{"op": "replace", "path": "title", "value": "half-done"}]));
            a.call("PATCH", &path, &[("If-Match", &etag)], &body)
        });
        std::thread::sleep(Duration::from_millis(500));
        server.stop().unwrap();
        h.join().unwrap()
    });
    drop(holder);
    let expect_clear_5xx = |r: &ScimResponse, what: &str| {
        assert!(
            (500..600).contains(&r.status),
            "{what}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "{what}"
        );
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("127.0.0.1:{}", server.port())) && detail.contains("PostgreSQL"),
            "{what}: {detail}"
        );
    };
    expect_clear_5xx(&in_flight, "the PATCH in flight");

    // While it is down, every request fails the same way, on both nodes.
    let (status, _) = a.get(&id);
    assert!((500..600).contains(&status));
    expect_clear_5xx(&b.call("GET", &path, &[], &Value::Null), "GET while down");
    expect_clear_5xx(
        &b.call(
            "POST",
            "/Users",
            &[],
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "lost@example.com"}),
        ),
        "POST while down",
    );

    // Back up: the same stores work at once, with every committed change and nothing of
    // the failed requests.
    server.start_again().unwrap();
    let (status, after) = a.get(&id);
    assert_eq!(status, 200, "{after}");
    assert_eq!(after, before);
    let (status, again) = b.get(&id);
    assert_eq!(status, 200);
    assert_eq!(again, before);
    let list = b.call("GET", "/Users", &[], &Value::Null);
    let list: Value = serde_json::from_slice(&list.body).unwrap();
    assert_eq!(list["totalResults"], 1, "{list}");
    // The old ETag still holds, so the PATCH can simply be retried.
    let body = patch_body(json!([{"op": "replace", "path": "title", "value": "done"}]));
    let r = a.call("PATCH", &path, &[("If-Match", &etag)], &body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(b.get(&id).1["title"], "done");
}

#[test]
fn user_deletes_and_member_patches_on_shared_groups_run_concurrently_without_503() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, url) = database("deletes_and_patches");
    let a = Node::new(node(&url));
    let b = Node::new(node(&url));
    let users: Vec<String> = (0..24).map(|i| a.create_user(&format!("m{i}")).0).collect();
    let members: Vec<Value> = users[..16].iter().map(|u| json!({"value": u})).collect();
    let groups: Vec<String> = (0..4)
        .map(|g| {
            let r = a.call(
                "POST",
                "/Groups",
                &[],
                &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                        "displayName": format!("shared{g}"), "members": members}),
            );
            assert_eq!(r.status, 201);
            serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // Node a deletes users 0..8 (each in every group) while node b adds users 16..24 to
    // every group and removes users 8..16 from it, one member per PATCH.
    std::thread::scope(|s| {
        s.spawn(|| {
            for u in &users[..8] {
                let r = a.call("DELETE", &format!("/Users/{u}"), &[], &Value::Null);
                assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
            }
        });
        s.spawn(|| {
            for (add, remove) in users[16..].iter().zip(&users[8..16]) {
                for g in &groups {
                    let ops = json!([
                        {"op": "add", "path": "members", "value": [{"value": add}]},
                        {"op": "remove", "path": format!("members[value eq \"{remove}\"]")}
                    ]);
                    let r = b.call("PATCH", &format!("/Groups/{g}"), &[], &patch_body(ops));
                    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                }
            }
        });
    });
    for g in &groups {
        let r = a.call("GET", &format!("/Groups/{g}"), &[], &Value::Null);
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let mut got: Vec<&str> = body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap())
            .collect();
        got.sort_unstable();
        let mut want: Vec<&str> = users[16..].iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(got, want, "{g}");
    }
}
