//! The SCIM request handler on arbitrary requests.
//!
//! Oracles: no 5xx for any client input (IdPs retry 5xx forever) except 501 for an optional
//! feature this service does not offer (RFC 7644 §3.11: /Me, §3.12's status table: "Service
//! provider does not support the request operation"); every error is a SCIM
//! Error document whose `status` is the HTTP status; a failed request leaves the tenant's
//! users and groups exactly as they were.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::{uuid_v4, IdError};
use fedkit_scim_service::store::MemoryStore;
use fedkit_scim_service::{RequestContext, ScimRequest, ScimResponse, ScimService};
use serde_json::{json, Value};

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn call(
    service: &ScimService,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> ScimResponse {
    let tenant = TenantId::new("fuzz").unwrap();
    let ctx = RequestContext {
        tenant: &tenant,
        base_url: "https://sp.example/scim/v2",
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    service.handle(
        &ctx,
        &ScimRequest {
            method,
            path,
            query,
            headers,
            body,
        },
    )
}

fn snapshot(service: &ScimService) -> (Vec<u8>, Vec<u8>) {
    (
        call(service, "GET", "/Users", "count=200", &[], b"").body,
        call(service, "GET", "/Groups", "count=200", &[], b"").body,
    )
}

/// One fuzz input through this target, with its oracles (a panic is a finding).
pub fn run(data: &[u8]) {
    let [m, p, rest @ ..] = data else { return };
    // Ids from a counter, so a crash replays exactly (no randomness in the run).
    let counter = AtomicU64::new(0);
    let ids = move || -> Result<String, IdError> {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        Ok(uuid_v4(bytes))
    };
    let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(ids));
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "ignored",
                      "userName": "seed@example.com", "emails": [{"value": "seed@example.com", "type": "work"}]});
    let r = call(&service, "POST", "/Users", "", &[], user.to_string().as_bytes());
    let uid = serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Seed",
                       "members": [{"value": uid}]});
    let r = call(&service, "POST", "/Groups", "", &[], group.to_string().as_bytes());
    let gid = serde_json::from_slice::<Value>(&r.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The rest: query NUL header-value NUL body.
    let mut parts = rest.splitn(3, |b| *b == 0);
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let if_match = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();
    let method = METHODS[usize::from(*m) % METHODS.len()];
    let path = match p % 10 {
        0 => "/Users".to_owned(),
        1 => format!("/Users/{uid}"),
        2 => "/Groups".to_owned(),
        3 => format!("/Groups/{gid}"),
        4 => "/Bulk".to_owned(),
        5 => "/.search".to_owned(),
        6 => "/Users/.search".to_owned(),
        7 => "/Schemas".to_owned(),
        8 => String::from_utf8_lossy(&query.as_bytes()[..query.len().min(40)]).into_owned(),
        _ => "/Users/missing".to_owned(),
    };
    let headers: Vec<(&str, &str)> = if if_match.is_empty() {
        Vec::new()
    } else {
        vec![("If-Match", if_match.as_str())]
    };
    let before = snapshot(&service);
    let r = call(&service, method, &path, &query, &headers, body);
    assert!(
        r.status < 500 || r.status == 501,
        "{method} {path}?{query} -> {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    if r.status >= 400 {
        let doc: Value = serde_json::from_slice(&r.body).expect("error bodies are JSON");
        assert_eq!(doc["status"], json!(r.status.to_string()));
        assert_eq!(
            snapshot(&service),
            before,
            "a failed {method} {path} changed data"
        );
    }
}
