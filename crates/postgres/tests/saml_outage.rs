//! PgReplayCache and PgRequestStore while the database is down (fail closed) and after it
//! comes back. Own test binary: it stops its server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use fedkit_postgres::saml::{PgReplayCache, PgRequestStore};
use fedkit_postgres::testing::TestServer;
use fedkit_postgres::{Pool, PoolSettings};
use fedkit_saml::replay::StoreError;
use fedkit_saml::{IdentityProvider, ReplayCache, RequestStore, ResponseValidator, ServiceProvider};

fn t(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, min, 0).unwrap()
}

#[test]
fn database_down_refuses_logins_and_recovers_when_it_is_back() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let mut server = TestServer::start().expect("PostgreSQL test server");
    let url = server.create_database("outage").unwrap();
    // The test server runs with synchronous_commit=off, and stop() is a crash (immediate
    // shutdown): commits not yet written out would be lost. This database's sessions wait
    // for the write, as a production server does.
    postgres::Client::connect(&url, postgres::NoTls)
        .unwrap()
        .batch_execute("ALTER DATABASE outage SET synchronous_commit = on")
        .unwrap();
    let pool = Arc::new(Pool::connect(&url, PoolSettings::default()).unwrap());
    let cache = PgReplayCache::new(pool.clone()).unwrap();
    let requests = PgRequestStore::new(pool.clone()).unwrap();
    assert_eq!(cache.check_and_insert("_before", t(30), t(0)), Ok(true));
    requests.remember("_req", t(30), t(0)).unwrap();

    server.stop().unwrap();

    // The replay check fails closed, with an error that says so (never a verdict).
    let err = cache.check_and_insert("_new", t(30), t(1)).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    assert_eq!(err.code(), "store_unavailable");
    assert!(err.to_string().contains("127.0.0.1"), "names the database: {err}");
    // A known ID is not reported as fresh, nor as a replay.
    assert!(matches!(
        cache.check_and_insert("_before", t(30), t(1)),
        Err(StoreError::Unavailable { .. })
    ));

    // The request store: an outage is an outage, never "not outstanding".
    assert!(matches!(
        requests.is_outstanding("_req", t(1)),
        Err(StoreError::Unavailable { .. })
    ));
    assert!(matches!(
        requests.consume("_req", t(1)),
        Err(StoreError::Unavailable { .. })
    ));
    let err = requests.remember("_req2", t(30), t(1)).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");

    // Through the validator: a valid signed Response is refused with the store's error.
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../saml/tests/data");
    let xml = std::fs::read(format!("{data}/signed/both-signed.xml")).expect("fedkit-saml fixture");
    let cert = std::fs::read_to_string(format!("{data}/keys/idp.crt.pem")).expect("fixture cert");
    let validator = ResponseValidator::new(
        ServiceProvider::new(
            "https://app.example.com/saml/metadata",
            ["https://app.example.com/saml/acs"],
        )
        .unwrap(),
        IdentityProvider::from_pasted("https://sso.jumpcloud.com/saml2/fedkit-test", &[cert.as_str()])
            .unwrap(),
    );
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 10, 1, 0).unwrap();
    let err = validator
        .process_xml(&xml, Some("_req-7f3a"), now, &cache)
        .unwrap_err();
    assert_eq!(err.code(), "replay_store_unavailable");
    let text = err.to_string();
    assert!(text.contains("logins are refused"), "{text}");
    assert!(text.contains("127.0.0.1"), "names the database: {text}");
    // With the request store: the login is refused as an outage of the store, not as a
    // Response to an unknown request.
    let local = fedkit_saml::InMemoryReplayCache::new(10);
    let err = validator
        .process_xml_with_store(&xml, &requests, now, &local)
        .unwrap_err();
    assert_eq!(err.code(), "request_store_unavailable", "{err}");

    server.start_again().unwrap();

    // Back up: the first calls succeed even though the pooled connections died with the
    // old server (a dead connection is replaced and the statement retried once).
    validator
        .process_xml(&xml, Some("_req-7f3a"), now, &cache)
        .unwrap();
    assert_eq!(
        validator
            .process_xml(&xml, Some("_req-7f3a"), now, &cache)
            .unwrap_err()
            .code(),
        "replay"
    );
    // What was recorded before the outage is still there.
    assert_eq!(cache.check_and_insert("_before", t(30), t(2)), Ok(false));
    assert_eq!(requests.is_outstanding("_req", t(2)), Ok(true));
    assert_eq!(requests.consume("_req", t(2)), Ok(true));
    assert_eq!(requests.consume("_req", t(2)), Ok(false));
    requests.remember("_req2", t(30), t(2)).unwrap();
}
