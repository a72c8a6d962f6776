//! The throwaway test server and the pool survive a database restart.

use fedkit_postgres::testing::TestServer;
use fedkit_postgres::{Pool, PoolError, PoolSettings};

#[test]
fn pool_reconnects_after_the_server_restarts() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let mut server = TestServer::start().expect("test server");
    let url = server.create_database("restart").expect("database");
    let pool = Pool::connect(&url, PoolSettings::default()).expect("pool");
    let one: i32 = pool
        .get()
        .expect("conn")
        .query_one("SELECT 1", &[])
        .expect("query")
        .get(0);
    assert_eq!(one, 1);

    server.stop().expect("stop");
    // The idle connection is dead; the query on it fails with a driver error, and a new
    // connection cannot be made while the server is down.
    let failed = pool.get().map(|mut c| c.query_one("SELECT 1", &[]).is_err());
    assert!(
        matches!(failed, Ok(true) | Err(PoolError::Connect { .. })),
        "{failed:?}"
    );
    assert!(matches!(pool.get().map(|_| ()), Err(PoolError::Connect { .. })));

    server.start_again().expect("start again");
    let two: i32 = pool
        .get()
        .expect("conn")
        .query_one("SELECT 2", &[])
        .expect("query")
        .get(0);
    assert_eq!(two, 2);
}

#[test]
fn connect_errors_name_the_target_not_the_password() {
    let err = Pool::connect("postgres://u:secret@127.0.0.1:1/db", PoolSettings::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(text.contains("refused"), "the cause is kept: {text}");
    assert!(!text.contains("secret"), "{text}");
}

#[test]
fn a_full_pool_waits_as_long_as_its_settings_say() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = TestServer::start().expect("test server");
    let url = server.create_database("full_pool").expect("database");
    let settings = PoolSettings::default()
        .with_max_size(1)
        .and_then(|s| s.with_wait(std::time::Duration::from_millis(300)))
        .expect("settings");
    let pool = Pool::connect(&url, settings).expect("pool");
    let held = pool.get().expect("the one connection");
    let started = std::time::Instant::now();
    let err = pool.get().expect_err("no second connection");
    assert!(
        matches!(err, PoolError::Timeout { max_size: 1, waited_ms } if waited_ms >= 300),
        "{err:?}"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    drop(held);
    pool.get().expect("the connection is free again");
}
