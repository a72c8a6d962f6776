//! Shared by the `scim_*` test binaries: one PostgreSQL server per binary, one database per
//! test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex, Weak};

use fedkit_postgres::scim::PgStore;
use fedkit_postgres::testing::TestServer;
use fedkit_postgres::{Pool, PoolSettings};
use fedkit_scim_service::auth::TenantId;
use serde_json::{json, Value};

/// One server for the tests of this binary that run at the same time (it stops when the
/// last of them ends).
pub(crate) fn server() -> Arc<TestServer> {
    static SERVER: Mutex<Weak<TestServer>> = Mutex::new(Weak::new());
    let mut slot = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let s = Arc::new(TestServer::start().expect("PostgreSQL test server"));
    *slot = Arc::downgrade(&s);
    s
}

/// A fresh database on the shared server; its URL.
pub(crate) fn database(name: &str) -> (Arc<TestServer>, String) {
    let server = server();
    let url = server.create_database(name).expect("database");
    (server, url)
}

/// A store on a fresh database (keep the server handle alive as long as the store).
pub(crate) fn store(name: &str) -> (Arc<TestServer>, PgStore) {
    let (server, url) = database(name);
    (server, PgStore::connect(&url).expect("store"))
}

/// A store with its own pool on an existing database: another node.
pub(crate) fn node(url: &str) -> PgStore {
    let pool = Pool::connect(url, PoolSettings::default()).expect("pool");
    PgStore::new(Arc::new(pool)).expect("store")
}

pub(crate) fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

pub(crate) fn user(id: &str, name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": name,
           "emails": [{"value": format!("{name}@example.com"), "type": "work"}]})
}

pub(crate) fn ids(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}
