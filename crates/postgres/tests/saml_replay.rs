//! PgReplayCache and PgRequestStore against a real PostgreSQL server: two caches on one
//! database stand for two SP nodes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Barrier, Mutex, Weak};

use chrono::{DateTime, TimeZone, Utc};
use fedkit_postgres::saml::{PgReplayCache, PgRequestStore};
use fedkit_postgres::testing::TestServer;
use fedkit_postgres::{Pool, PoolSettings};
use fedkit_saml::replay::StoreError;
use fedkit_saml::{Error, IdentityProvider, ReplayCache, RequestStore, ResponseValidator, ServiceProvider};

/// One server for the tests of this binary that run at the same time (it stops when the last
/// of them ends); one database per test.
fn server() -> Arc<TestServer> {
    static SERVER: Mutex<Weak<TestServer>> = Mutex::new(Weak::new());
    let mut slot = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let s = Arc::new(TestServer::start().expect("PostgreSQL test server"));
    *slot = Arc::downgrade(&s);
    s
}

/// A fresh database on the shared server, and a pool on it.
fn database(name: &str) -> (Arc<TestServer>, Arc<Pool>) {
    let server = server();
    let url = server.create_database(name).expect("database");
    let pool = Pool::connect(&url, PoolSettings::default()).expect("pool");
    (server, Arc::new(pool))
}

/// A second pool on the same database: another SP node.
fn other_node(server: &TestServer, name: &str) -> Arc<Pool> {
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", server.port());
    Arc::new(Pool::connect(&url, PoolSettings::default()).expect("pool"))
}

fn t(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, min, 0).unwrap()
}

fn rows(pool: &Pool, table: &str) -> i64 {
    pool.get()
        .unwrap()
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn second_use_on_another_node_is_refused() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (server, pool) = database("replay_nodes");
    let node1 = PgReplayCache::new(pool.clone()).unwrap();
    let node2 = PgReplayCache::new(other_node(&server, "replay_nodes")).unwrap();

    assert_eq!(node1.check_and_insert("_a1", t(5), t(0)), Ok(true));
    assert_eq!(node2.check_and_insert("_a1", t(5), t(1)), Ok(false));
    assert_eq!(node1.check_and_insert("_a1", t(5), t(4)), Ok(false));
    // Other IDs are independent.
    assert_eq!(node2.check_and_insert("_a2", t(5), t(1)), Ok(true));
    // An ID far longer than an index entry may be is stored by digest.
    let long = "_".repeat(20_000);
    assert_eq!(node1.check_and_insert(&long, t(5), t(1)), Ok(true));
    assert_eq!(node2.check_and_insert(&long, t(5), t(1)), Ok(false));
}

#[test]
fn expired_entries_can_be_used_again_and_live_ones_cannot() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, pool) = database("replay_expiry");
    let cache = PgReplayCache::new(pool.clone()).unwrap();
    assert_eq!(cache.check_and_insert("_a", t(5), t(0)), Ok(true));
    // Live until 10:05 (exclusive): refused at 10:04:59.
    let just_before = t(5) - chrono::Duration::seconds(1);
    assert_eq!(cache.check_and_insert("_a", t(9), just_before), Ok(false));
    // At 10:05 the entry has expired: the ID is taken over with the new expiry...
    assert_eq!(cache.check_and_insert("_a", t(9), t(5)), Ok(true));
    // ...and is live again until 10:09.
    assert_eq!(cache.check_and_insert("_a", t(20), t(8)), Ok(false));
    assert_eq!(rows(&pool, "fedkit_saml_replay"), 1);
}

#[test]
fn namespaces_are_kept_apart() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, pool) = database("replay_namespaces");
    let acme = PgReplayCache::new(pool.clone()).unwrap().with_namespace("acme");
    let globex = PgReplayCache::new(pool.clone()).unwrap().with_namespace("globex");
    let acme_node2 = PgReplayCache::new(pool.clone()).unwrap().with_namespace("acme");
    assert_eq!(acme.check_and_insert("_a", t(5), t(0)), Ok(true));
    assert_eq!(globex.check_and_insert("_a", t(5), t(0)), Ok(true));
    assert_eq!(acme_node2.check_and_insert("_a", t(5), t(0)), Ok(false));
}

#[test]
fn racing_threads_on_two_nodes_exactly_one_wins() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (server, pool) = database("replay_race");
    let nodes = [
        Arc::new(PgReplayCache::new(pool.clone()).unwrap()),
        Arc::new(PgReplayCache::new(other_node(&server, "replay_race")).unwrap()),
    ];
    const THREADS: usize = 16;
    for round in 0..20 {
        let id = format!("_race-{round}");
        let barrier = Arc::new(Barrier::new(THREADS));
        let results: Vec<Result<bool, StoreError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|i| {
                    let node = nodes[i % 2].clone();
                    let barrier = barrier.clone();
                    let id = id.clone();
                    s.spawn(move || {
                        barrier.wait();
                        node.check_and_insert(&id, t(5), t(0))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins = results.iter().filter(|r| **r == Ok(true)).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    }
}

#[test]
fn purge_deletes_expired_rows_in_bounded_batches() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (_server, pool) = database("replay_purge");
    let cache = PgReplayCache::new(pool.clone()).unwrap().with_purge(0, 3);
    for i in 0..7 {
        assert_eq!(cache.check_and_insert(&format!("_old{i}"), t(5), t(0)), Ok(true));
    }
    assert_eq!(cache.check_and_insert("_live", t(30), t(0)), Ok(true));
    assert_eq!(
        rows(&pool, "fedkit_saml_replay"),
        8,
        "no automatic purge when off"
    );
    // Nothing has expired at 10:04.
    assert_eq!(cache.purge(t(4)).unwrap(), 0);
    assert_eq!(cache.purge(t(10)).unwrap(), 3);
    assert_eq!(cache.purge(t(10)).unwrap(), 3);
    assert_eq!(cache.purge(t(10)).unwrap(), 1);
    assert_eq!(cache.purge(t(10)).unwrap(), 0);
    assert_eq!(rows(&pool, "fedkit_saml_replay"), 1);
    // The live entry survived the purge and still refuses.
    assert_eq!(cache.check_and_insert("_live", t(30), t(10)), Ok(false));

    // Automatic purge: one batch after every 4th insertion of this node.
    let auto = PgReplayCache::new(pool.clone()).unwrap().with_purge(4, 100);
    for i in 0..4 {
        assert_eq!(auto.check_and_insert(&format!("_x{i}"), t(12), t(11)), Ok(true));
    }
    // The 4th purged at 10:11, when nothing had expired.
    assert_eq!(rows(&pool, "fedkit_saml_replay"), 1 + 4);
    // At 10:20 the _x entries have expired; the 8th insertion purges them.
    for i in 0..3 {
        assert_eq!(auto.check_and_insert(&format!("_y{i}"), t(40), t(20)), Ok(true));
        assert_eq!(rows(&pool, "fedkit_saml_replay"), 1 + 4 + i64::from(i) + 1);
    }
    assert_eq!(auto.check_and_insert("_y3", t(40), t(20)), Ok(true));
    assert_eq!(rows(&pool, "fedkit_saml_replay"), 1 + 4, "_live and _y0.._y3");
}

#[test]
fn a_request_is_consumed_once_across_nodes() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (server, pool) = database("requests_nodes");
    let node1 = PgRequestStore::new(pool.clone()).unwrap();
    let node2 = PgRequestStore::new(other_node(&server, "requests_nodes")).unwrap();

    node1.remember("_req1", t(10), t(0)).unwrap();
    assert!(node2.is_outstanding("_req1", t(1)).unwrap());
    assert!(!node2.is_outstanding("_unknown", t(1)).unwrap());
    assert!(node2.consume("_req1", t(1)).unwrap());
    assert!(!node1.is_outstanding("_req1", t(1)).unwrap());
    assert!(
        !node1.consume("_req1", t(1)).unwrap(),
        "already consumed on node 2"
    );
    assert!(!node2.consume("_req1", t(1)).unwrap());
    assert!(!node2.consume("_unknown", t(1)).unwrap());

    // Expired requests are neither outstanding nor consumable.
    node1.remember("_req2", t(10), t(0)).unwrap();
    assert!(node2.is_outstanding("_req2", t(9)).unwrap());
    assert!(!node2.is_outstanding("_req2", t(10)).unwrap());
    assert!(!node2.consume("_req2", t(10)).unwrap());

    // Racing consumers: exactly one wins.
    for round in 0..10 {
        let id = format!("_race{round}");
        node1.remember(&id, t(10), t(0)).unwrap();
        let stores = [&node1, &node2];
        let barrier = Barrier::new(8);
        let wins: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let store = stores[i % 2];
                    let barrier = &barrier;
                    let id = &id;
                    s.spawn(move || {
                        barrier.wait();
                        store.consume(id, t(1)).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
        });
        assert_eq!(wins, 1, "round {round}");
    }

    // Purge removes expired requests, answered or not, and nothing else.
    node1.remember("_late", t(50), t(0)).unwrap();
    let before = rows(&pool, "fedkit_saml_requests");
    assert_eq!(node1.purge(t(20)).unwrap() as i64, before - 1);
    assert!(node2.is_outstanding("_late", t(20)).unwrap());
}

#[test]
fn a_signed_response_replayed_to_a_second_node_is_refused() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    // The xmlsec1-signed fixture of fedkit-saml's tests (crates/saml/tests/data/generate.sh).
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../saml/tests/data");
    let xml = std::fs::read(format!("{data}/signed/both-signed.xml")).expect("fedkit-saml fixture");
    let cert = std::fs::read_to_string(format!("{data}/keys/idp.crt.pem")).expect("fixture cert");
    let validator = || {
        let sp = ServiceProvider::new(
            "https://app.example.com/saml/metadata",
            ["https://app.example.com/saml/acs"],
        )
        .unwrap();
        let idp =
            IdentityProvider::from_pasted("https://sso.jumpcloud.com/saml2/fedkit-test", &[cert.as_str()])
                .unwrap();
        ResponseValidator::new(sp, idp)
    };
    let (node1, node2) = (validator(), validator());

    let (server, pool) = database("replay_validator");
    let cache1 = PgReplayCache::new(pool.clone()).unwrap();
    let cache2 = PgReplayCache::new(other_node(&server, "replay_validator")).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();

    let first = node1.process_xml(&xml, Some("_req-7f3a"), now, &cache1).unwrap();
    let again = node2
        .process_xml(&xml, Some("_req-7f3a"), now, &cache2)
        .unwrap_err();
    assert_eq!(again.code(), "replay");
    assert_eq!(
        again,
        Error::Replay {
            id: first.id().to_owned()
        }
    );

    // With the request IDs in a shared PgRequestStore too.
    let (server, pool) = database("replay_validator_store");
    let requests1 = PgRequestStore::new(pool.clone()).unwrap();
    let pool2 = other_node(&server, "replay_validator_store");
    let requests2 = PgRequestStore::new(pool2.clone()).unwrap();
    let cache1 = PgReplayCache::new(pool.clone()).unwrap();
    let cache2 = PgReplayCache::new(pool2).unwrap();
    requests1
        .remember("_req-7f3a", now + chrono::Duration::minutes(5), now)
        .unwrap();
    node2
        .process_xml_with_store(&xml, &requests2, now, &cache2)
        .unwrap();
    let err = node1
        .process_xml_with_store(&xml, &requests1, now, &cache1)
        .unwrap_err();
    // The request was answered on node 2 by this very Response, whose assertion ID is in the
    // shared replay cache: a replay, not a Response to an unknown request.
    assert_eq!(
        err,
        Error::Replay {
            id: first.id().to_owned()
        }
    );
}

#[test]
fn a_browser_bound_login_is_shared_across_nodes() {
    use fedkit_saml::replay::PendingLogin;
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let (server, pool) = database("requests_bound");
    let node1 = PgRequestStore::new(pool.clone()).unwrap();
    let node2 = PgRequestStore::new(other_node(&server, "requests_bound")).unwrap();

    let login = PendingLogin::new([7; 32], Some("/dashboard?tab=2".to_owned()));
    node1.remember_login("_req1", &login, t(10), t(0)).unwrap();
    assert_eq!(node2.pending_login("_req1", t(1)), Ok(Some(login.clone())));
    assert_eq!(node2.pending_login("_unknown", t(1)), Ok(None));
    // No RelayState is kept as none.
    let bare = PendingLogin::new([8; 32], None);
    node1.remember_login("_req2", &bare, t(10), t(0)).unwrap();
    assert_eq!(node2.pending_login("_req2", t(1)), Ok(Some(bare)));
    // Outstanding like any request, consumed once; then no longer pending.
    assert!(node2.is_outstanding("_req1", t(1)).unwrap());
    assert!(node2.consume("_req1", t(1)).unwrap());
    assert_eq!(node1.pending_login("_req1", t(1)), Ok(None));
    assert!(!node1.consume("_req1", t(1)).unwrap());
    // Expired: not pending.
    assert_eq!(node1.pending_login("_req2", t(10)), Ok(None));
    // A request remembered without a login is outstanding but has no binding.
    node1.remember("_req3", t(10), t(0)).unwrap();
    assert!(node2.is_outstanding("_req3", t(1)).unwrap());
    assert_eq!(node2.pending_login("_req3", t(1)), Ok(None));
    // Remembering an ID again as a plain request drops the binding it had.
    node1.remember_login("_req4", &login, t(10), t(0)).unwrap();
    node1.remember("_req4", t(10), t(0)).unwrap();
    assert_eq!(node2.pending_login("_req4", t(1)), Ok(None));
    // The store holds the digest, never a cookie value.
    let stored: Vec<u8> = pool
        .get()
        .unwrap()
        .query_one(
            "SELECT binding_sha256 FROM fedkit_saml_requests WHERE relay_state = '/dashboard?tab=2'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(stored, vec![7; 32]);
}

#[test]
fn setup_errors_are_clear() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    // A database user without the CREATE privilege cannot create the tables.
    let server = server();
    let url = server.create_database("setup").unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "CREATE ROLE fedkit_app LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC; \
             GRANT USAGE ON SCHEMA public TO fedkit_app",
        )
        .unwrap();
    let app_url = format!("postgres://fedkit_app@127.0.0.1:{}/setup", server.port());
    let pool = Arc::new(Pool::connect(&app_url, PoolSettings::default()).unwrap());
    let err = PgReplayCache::new(pool).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, fedkit_postgres::saml::SamlStoreError::Migration { .. }),
        "{err:?}"
    );
    assert!(text.contains("CREATE privilege"), "{text}");
}
