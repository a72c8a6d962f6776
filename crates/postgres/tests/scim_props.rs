//! Property: on random data and random filters, the pushed-down `find` of PgStore never
//! leaves out a match, and what the handler answers over PgStore is exactly what it
//! answers over the in-memory store (whose `find` returns everything and leaves the work
//! to the core crate's evaluator).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod scim_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use fedkit_postgres::scim::PgStore;
use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::conformance::props::{cases, Case};
use fedkit_scim_service::store::{MemoryStore, ResourceKind};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimService};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use scim_support::{ids, tenant};

fn filter_query(filter: &str) -> String {
    // The `percent-encoding` crate; every byte but ASCII letters and digits escaped.
    format!(
        "filter={}",
        percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// Status and, for a 200, the ids and `totalResults` of a list request.
fn list(
    service: &ScimService,
    t: &TenantId,
    kind: ResourceKind,
    filter: &Filter,
) -> (u16, Vec<String>, Value) {
    let ctx = RequestContext {
        tenant: t,
        base_url: "https://sp.example/scim/v2",
        now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
    };
    let query = filter_query(&filter.to_string());
    let path = format!("/{}", kind.endpoint());
    let r = service.handle(
        &ctx,
        &ScimRequest {
            method: "GET",
            path: &path,
            query: &query,
            headers: &[],
            body: b"",
        },
    );
    if r.status != 200 {
        return (r.status, Vec::new(), Value::Null);
    }
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    let found = body["Resources"].as_array().cloned().unwrap_or_default();
    (r.status, ids(&found), body["totalResults"].clone())
}

/// One case: the data in a fresh tenant of `pg` (and a decoy tenant) and of a memory
/// store, then every filter through the handler and through `find`.
fn check(pg: &Arc<PgStore>, n: usize, case: &Case) -> Result<(), TestCaseError> {
    let memory = Arc::new(MemoryStore::new());
    let t = tenant(&format!("p{n}"));
    case.load(pg.as_ref(), &t, "")?;
    case.load(memory.as_ref(), &t, "")?;
    // A decoy tenant with the same data under other ids: it must never show up.
    case.load(pg.as_ref(), &tenant(&format!("decoy{n}")), "decoy-")?;
    // Through the handler: the same answers as over the memory store. (Before the
    // transactions of `check_find`: the memory store runs one transaction at a time.)
    let pg_service = ScimService::new(pg.clone(), Arc::new(RandomIds::new()));
    let memory_service = ScimService::new(memory.clone(), Arc::new(RandomIds::new()));
    for kind in ResourceKind::ALL {
        for f in &case.filters {
            let from_pg = list(&pg_service, &t, kind, f);
            let from_memory = list(&memory_service, &t, kind, f);
            prop_assert_eq!(&from_pg, &from_memory, "{} on {:?}", f, kind);
        }
    }
    case.check_find(pg.as_ref(), &memory, &t)
}

#[test]
fn pushed_down_find_is_a_superset_and_the_handler_agrees_with_the_memory_store() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    // One server and database for every case (each case in tenants of its own); the
    // server stops when the test ends.
    let (_server, url) = scim_support::database("props");
    let pg = Arc::new(scim_support::node(&url));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let case = AtomicUsize::new(0);
    let result = runner.run(&cases(24), |generated| {
        let n = case.fetch_add(1, Ordering::Relaxed);
        check(&pg, n, &generated)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
