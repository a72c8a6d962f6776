//! TLS to the database against a real PostgreSQL server that accepts TLS connections only:
//! what each `sslmode` checks, and the messages an admin gets when the check fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex, Weak};

use fedkit_postgres::scim::PgStore;
use fedkit_postgres::testing::TestServer;
use fedkit_postgres::{Pool, PoolError, PoolSettings, TlsMode};

fn server() -> Arc<TestServer> {
    static SERVER: Mutex<Weak<TestServer>> = Mutex::new(Weak::new());
    let mut slot = SERVER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = slot.upgrade() {
        return s;
    }
    let s = Arc::new(TestServer::start_with_tls().expect("PostgreSQL test server with TLS"));
    *slot = Arc::downgrade(&s);
    s
}

fn ca(server: &TestServer) -> String {
    server.ca_file().unwrap().to_string_lossy().into_owned()
}

fn quick() -> PoolSettings {
    PoolSettings::default().with_max_size(2).unwrap()
}

/// Whether the connection the pool hands out is encrypted, as the server sees it.
fn encrypted(pool: &Pool) -> bool {
    let mut client = pool.get().unwrap();
    client
        .query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[])
        .unwrap()
        .get(0)
}

fn connect_error(url: &str) -> String {
    match Pool::connect(url, quick()) {
        Ok(_) => panic!("{url}: connected"),
        Err(e @ (PoolError::Connect { .. } | PoolError::Config { .. })) => e.to_string(),
        Err(e) => panic!("{url}: unexpected {e:?}"),
    }
}

fn assert_fingerprint(message: &str) {
    let at = message.find("SHA-256 ").expect(message) + "SHA-256 ".len();
    let hex = &message[at..at + 95];
    assert!(
        hex.split(':').count() == 32
            && hex
                .split(':')
                .all(|b| b.len() == 2 && b.bytes().all(|c| c.is_ascii_hexdigit())),
        "{message}"
    );
}

#[test]
fn verify_full_connects_encrypted_and_the_stores_work_over_it() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = server();
    let url = server.create_database("tls_full").unwrap();
    assert!(url.contains("sslmode=verify-full"), "{url}");
    let pool = Pool::connect(&url, quick()).unwrap();
    assert_eq!(pool.tls_mode(), TlsMode::VerifyFull);
    assert!(pool.is_local());
    assert!(encrypted(&pool));
    // Migrations and a store on the same connection string.
    let store = PgStore::connect(&url).unwrap();
    assert!(encrypted(store.pool()));
}

#[test]
fn the_certificate_of_another_ca_is_refused_with_its_fingerprint() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other-ca.pem");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&rcgen::KeyPair::generate().unwrap()).unwrap();
    std::fs::write(&other, cert.pem()).unwrap();
    let url = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
        server.port(),
        other.display()
    );
    let e = connect_error(&url);
    assert!(e.contains(&format!("localhost:{}", server.port())), "{e}");
    assert!(e.contains("UnknownIssuer"), "{e}");
    assert!(
        e.contains(&format!("not issued by a CA in sslrootcert={}", other.display())),
        "{e}"
    );
    assert_fingerprint(&e);
    // The same for the operating system's CAs, which never issued this test certificate.
    let url = format!(
        "postgres://postgres@localhost:{}/postgres?sslmode=verify-ca&sslrootcert=system",
        server.port()
    );
    if let Err(PoolError::Connect { detail, .. }) = Pool::connect(&url, quick()) {
        assert!(detail.contains("the operating system's CA store"), "{detail}");
    } else {
        // A machine without ca-certificates fails before connecting.
        let e = connect_error(&url);
        assert!(e.contains("no CA certificates found"), "{e}");
    }
}

#[test]
fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = server();
    // The certificate names `localhost` only.
    let full = format!(
        "postgres://postgres@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert={}",
        server.port(),
        ca(&server)
    );
    let e = connect_error(&full);
    assert!(e.contains("is not issued for the host connected to"), "{e}");
    assert!(e.contains("127.0.0.1") && e.contains("localhost"), "{e}");
    assert!(e.contains("sslmode=verify-ca"), "{e}");
    assert_fingerprint(&e);

    let chain_only = full.replace("verify-full", "verify-ca");
    let pool = Pool::connect(&chain_only, quick()).unwrap();
    assert_eq!(pool.tls_mode(), TlsMode::VerifyCa);
    assert!(encrypted(&pool));
}

#[test]
fn require_and_prefer_encrypt_without_checking_and_disable_does_not_encrypt() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = server();
    let base = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port());
    for (query, mode) in [("?sslmode=require", TlsMode::Require), ("", TlsMode::Prefer)] {
        let pool = Pool::connect(&format!("{base}{query}"), quick()).unwrap();
        assert_eq!(pool.tls_mode(), mode);
        assert!(encrypted(&pool), "{mode}");
    }
    // This server takes TLS only: a plain connection reaches it and is turned away.
    let e = connect_error(&format!("{base}?sslmode=disable"));
    assert!(e.contains("no encryption"), "{e}");
}

#[test]
fn key_value_connection_strings_take_the_same_keywords() {
    if fedkit_postgres::testing::skip_without_postgres() {
        return;
    }
    let server = server();
    let conn = format!(
        "host=localhost port={} user=postgres dbname=postgres sslmode='verify-full' sslrootcert='{}'",
        server.port(),
        ca(&server)
    );
    let pool = Pool::connect(&conn, quick()).unwrap();
    assert_eq!(pool.tls_mode(), TlsMode::VerifyFull);
    assert!(encrypted(&pool));
}

#[test]
fn a_remote_host_without_sslmode_is_refused_before_connecting() {
    for url in [
        "postgres://fedkit:secret@db.example.com:5432/fedkit",
        "host=10.0.0.5 user=fedkit password=secret dbname=fedkit",
        "postgres://fedkit@localhost,db.example.com/fedkit",
        "host=localhost hostaddr=10.0.0.5 user=fedkit password=secret dbname=fedkit",
    ] {
        let e = connect_error(url);
        assert!(e.contains("has no sslmode"), "{e}");
        assert!(e.contains("sslmode=verify-full&sslrootcert="), "{e}");
        assert!(!e.contains("secret"), "the password leaked: {e}");
    }
}
