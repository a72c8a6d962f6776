//! Property: whatever a client sends, the handler answers without a 5xx, and a request that
//! fails leaves every resource of the tenant exactly as it was.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;

use chrono::DateTime;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::MemoryStore;
use fedkit_scim_service::{RequestContext, ScimRequest, ScimResponse, ScimService};
use proptest::prelude::*;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn call(service: &ScimService, method: &str, path: &str, query: &str, body: &[u8]) -> ScimResponse {
    let tenant = TenantId::new("prop").unwrap();
    let ctx = RequestContext {
        tenant: &tenant,
        base_url: "https://sp.example/scim/v2",
        now: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    let r = service.handle(
        &ctx,
        &ScimRequest {
            method,
            path,
            query,
            headers: &[],
            body,
        },
    );
    if r.status < 300 && !r.body.is_empty() && path != "/Schemas" && path != "/ResourceTypes" {
        // Whatever was sent, what is answered holds only what /Schemas publishes.
        let doc =
            |p: &str| -> Value { serde_json::from_slice(&call(service, "GET", p, "", b"").body).unwrap() };
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let problems =
            fedkit_scim::discovery::response_problems(&doc("/Schemas"), &doc("/ResourceTypes"), &body);
        assert!(problems.is_empty(), "{method} {path}: {problems:?}");
    }
    r
}

/// Every resource of the tenant, as the client sees it.
fn snapshot(service: &ScimService) -> (Value, Value) {
    let users = call(service, "GET", "/Users", "count=200", b"");
    let groups = call(service, "GET", "/Groups", "count=200", b"");
    (
        serde_json::from_slice(&users.body).unwrap(),
        serde_json::from_slice(&groups.body).unwrap(),
    )
}

fn seeded() -> (ScimService, String, String) {
    let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new()));
    let user = json!({"schemas": [USER], "userName": "seed@example.com", "active": true,
                      "emails": [{"value": "seed@example.com", "type": "work", "primary": true}]});
    let r = call(&service, "POST", "/Users", "", user.to_string().as_bytes());
    let uid = serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = json!({"schemas": [GROUP], "displayName": "Seed", "members": [{"value": uid}]});
    let r = call(&service, "POST", "/Groups", "", group.to_string().as_bytes());
    let gid = serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (service, uid, gid)
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z@. \"\\[\\]:]{0,12}".prop_map(Value::String),
        Just(json!("False")),
        Just(json!(USER)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("userName".to_owned()),
                        Just("schemas".to_owned()),
                        Just("Operations".to_owned()),
                        Just("op".to_owned()),
                        Just("path".to_owned()),
                        Just("value".to_owned()),
                        Just("members".to_owned()),
                        Just("active".to_owned()),
                        Just("emails".to_owned()),
                        Just("id".to_owned()),
                        "[a-z]{1,6}",
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn patch_body() -> impl Strategy<Value = Value> {
    let path = prop_oneof![
        Just("userName".to_owned()),
        Just("active".to_owned()),
        Just("members".to_owned()),
        Just("emails[type eq \"work\"].value".to_owned()),
        Just("members[value eq \"x\"]".to_owned()),
        Just("displayName".to_owned()),
        Just("id".to_owned()),
        Just("meta.created".to_owned()),
        "[a-zA-Z.\\[\\]\" ]{0,20}",
    ];
    let op = prop_oneof![
        Just("add"),
        Just("Replace"),
        Just("remove"),
        Just("move"),
        Just("")
    ];
    prop::collection::vec((op, prop::option::of(path), prop::option::of(json_value())), 1..4).prop_map(
        |ops| {
            let ops: Vec<Value> = ops
                .into_iter()
                .map(|(op, path, value)| {
                    let mut o = json!({"op": op});
                    if let Some(p) = path {
                        o["path"] = json!(p);
                    }
                    if let Some(v) = value {
                        o["value"] = v;
                    }
                    o
                })
                .collect();
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_5xx_and_failures_change_nothing(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("PATCH"), Just("DELETE"), Just("HEAD")],
        target in 0usize..8,
        query in prop_oneof![Just(String::new()), "filter=[a-zA-Z%2022\\[\\]]{0,30}", "startIndex=-?[0-9]{1,3}&count=[0-9a-z]{1,3}", "attributes=[a-zA-Z.,]{0,20}"],
        body in prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            patch_body().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..64),
        ],
    ) {
        let (service, uid, gid) = seeded();
        let path = match target {
            0 => "/Users".to_owned(),
            1 => format!("/Users/{uid}"),
            2 => "/Groups".to_owned(),
            3 => format!("/Groups/{gid}"),
            4 => "/Users/unknown".to_owned(),
            5 => "/Bulk".to_owned(),
            6 => "/.search".to_owned(),
            _ => format!("/Groups/{gid}/x"),
        };
        let before = snapshot(&service);
        let r = call(&service, method, &path, &query, &body);
        prop_assert!(r.status < 500, "{} {} {} -> {} {}", method, path, query, r.status, String::from_utf8_lossy(&r.body));
        if r.status >= 400 {
            let doc: Value = serde_json::from_slice(&r.body).unwrap();
            prop_assert_eq!(&doc["status"], &json!(r.status.to_string()));
            prop_assert_eq!(snapshot(&service), before);
        }
    }
}
