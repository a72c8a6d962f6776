//! The SCIM handler over `SqliteStore`: fedkit-scim-service's store-independent handler
//! checks (`store::conformance::handler`, module `handler_suite` below), then the
//! SQLite-specific ones below, some compared with `MemoryStore` (the reference).
//!
//! Memberships at scale: what an operation reads and writes does not grow with the size of
//! the groups or of the directory. Measured without clocks: resources the store returns (a
//! counting store wrapper) and rows SQLite changes (`SqliteStore::rows_changed`).
//!
//! Unicode user names: the SQLite index answers `userName` lookups as the handler compares
//! them (NFC, Unicode lowercase, no full case folding).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use fedkit_scim_service::store::conformance::handler::{Counting, Harness};
use fedkit_scim_service::store::{MemoryStore, Store};
use fedkit_scim_service::ScimSettings;
use fedkit_scim_sqlite::SqliteStore;
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The most resources the handler asks a store for in one chunk (`handler::search::CHUNK`).
const CHUNK: usize = 256;

fn stores() -> Vec<(&'static str, Arc<dyn Store>)> {
    vec![
        ("memory", Arc::new(MemoryStore::new()) as Arc<dyn Store>),
        ("sqlite", Arc::new(SqliteStore::open_in_memory().unwrap())),
    ]
}

/// A harness over `store` wrapped in [`Counting`]; returns the counts of members loaded
/// and of resources the store returned.
fn counted_reads(
    store: Arc<dyn Store>,
    config: ScimSettings,
) -> (Harness, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (h, loaded, read, _) = counted_all(store, config);
    (h, loaded, read)
}

/// [`counted_reads`], with the most resources one read of the store returned too.
fn counted_all(
    store: Arc<dyn Store>,
    config: ScimSettings,
) -> (Harness, Arc<AtomicUsize>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let wrapper = Counting::new(store);
    let counts = (
        Arc::clone(&wrapper.members_loaded),
        Arc::clone(&wrapper.resources_read),
        Arc::clone(&wrapper.largest_read),
    );
    (
        Harness::on_store(Arc::new(wrapper), config, "acme"),
        counts.0,
        counts.1,
        counts.2,
    )
}

/// `users` users and `groups` groups; group `i` has users `i..i+size` (wrapping), so user 0
/// is in the first group and (with `size > groups`) in every group.
fn directory(h: &Harness, users: usize, groups: usize, size: usize) -> (Vec<String>, Vec<String>) {
    let uids: Vec<String> = (0..users)
        .map(|i| {
            let r = h.post(
                "/Users",
                json!({"schemas": [USER], "userName": format!("user{i}@example.com")}),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let gids = (0..groups)
        .map(|g| {
            let members: Vec<Value> = (0..size)
                .map(|k| json!({"value": uids[(g + k) % users]}))
                .collect();
            let r = h.post(
                "/Groups",
                json!({"schemas": [GROUP], "displayName": format!("group{g}"), "members": members}),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            r.body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    (uids, gids)
}

#[test]
fn sqlite_filtered_lists_read_only_their_page() {
    // 60 users, 40 of them with `userName` starting "user"; a page of 3 reads 3 resources
    // (plus none for the count) whatever the directory, and says how many match in all.
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let (h, _, read) = counted_reads(store, ScimSettings::default());
    for i in 0..60 {
        let name = if i % 3 == 0 {
            format!("other{i}")
        } else {
            format!("user{i}")
        };
        let body = json!({"schemas": [USER], "userName": name, "emails": [{"value": format!("{name}@example.com")}]});
        assert_eq!(h.post("/Users", body).status, 201);
    }
    for (query, total) in [
        ("/Users?filter=userName%20sw%20%22USER%22&count=3&startIndex=5", 40),
        ("/Users?filter=emails.value%20co%20%22r1%22%20or%20userName%20eq%20%22other0%22&count=3&sortBy=userName&sortOrder=descending", 12),
    ] {
        read.store(0, Ordering::SeqCst);
        let r = h.get(query);
        assert_eq!(r.status, 200, "{query}: {}", r.body);
        assert_eq!(r.body["totalResults"], total, "{query}");
        assert_eq!(r.body["Resources"].as_array().unwrap().len(), 3, "{query}");
        assert_eq!(read.load(Ordering::SeqCst), 3, "{query}: read only the page");
    }
    // A filter the indexes answer only in part (`active` is not indexed) is read chunk by
    // chunk and evaluated here: every candidate is read.
    read.store(0, Ordering::SeqCst);
    let r = h.get("/Users?filter=userName%20sw%20%22user%22%20and%20not%20(active%20eq%20true)&count=3");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["totalResults"], 40);
    assert!(read.load(Ordering::SeqCst) >= 40);
}

/// The same directory on every store: 700 users (`user000@example.com` ...; every second one
/// inactive; family names cycling through 17 values) and 40 groups of 5 (group `g` holds
/// users `g*5 .. g*5+5`).
fn chunked_directory(h: &Harness) {
    let mut uids = Vec::new();
    for i in 0..700 {
        let body = json!({
            "schemas": [USER],
            "userName": format!("user{i:03}@example.com"),
            "active": i % 2 == 0,
            "name": {"familyName": format!("family{:02}", i % 17)},
        });
        let r = h.post("/Users", body);
        assert_eq!(r.status, 201, "{}", r.body);
        uids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    for g in 0..40 {
        let members: Vec<Value> = (0..5).map(|k| json!({"value": uids[g * 5 + k]})).collect();
        let body = json!({"schemas": [GROUP], "displayName": format!("group{g:02}"), "members": members});
        assert_eq!(h.post("/Groups", body).status, 201);
    }
}

/// The names on a list answer (`userName` of users, `displayName` of groups) and its total.
fn names_and_total(h: &Harness, query: &str, search: Option<Value>) -> (Vec<String>, u64) {
    let r = match search {
        Some(body) => h.post(query, body),
        None => h.get(query),
    };
    assert_eq!(r.status, 200, "{query}: {}", r.body);
    let names = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            x.get("userName")
                .or_else(|| x.get("displayName"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    (names, r.body["totalResults"].as_u64().unwrap())
}

#[test]
fn lists_the_store_cannot_page_are_read_in_chunks_and_cut_to_the_page() {
    // Filters SQLite's indexes cannot answer exactly (`active` is not indexed; `not`; `ew`;
    // `groups` computed from memberships; members), sorted or not, across chunk boundaries
    // and at the root: the answers equal the in-memory store's (which hands over every
    // candidate at once), and no read of the store returns more than one chunk.
    let (sqlite, _, read, largest) = counted_all(
        Arc::new(SqliteStore::open_in_memory().unwrap()),
        ScimSettings::default(),
    );
    let memory = Harness::on_store(Arc::new(MemoryStore::new()), ScimSettings::default(), "acme");
    chunked_directory(&sqlite);
    chunked_directory(&memory);
    let q = |f: &str| f.replace(' ', "%20").replace('"', "%22");
    let queries: Vec<(String, Option<Value>)> = vec![
        (q("/Users?filter=active eq true&count=5&startIndex=300"), None),
        (q("/Users?filter=active eq false&count=3&startIndex=349"), None),
        (q("/Users?filter=not (userName sw \"user1\")&count=7&startIndex=11&sortBy=name.familyName&sortOrder=descending"), None),
        (q("/Users?filter=userName ew \"7@example.com\"&sortBy=userName&sortOrder=descending&count=4&startIndex=60"), None),
        (q("/Users?filter=groups.display eq \"group01\" and active eq false&count=4"), None),
        (q("/Users?filter=active eq true&sortBy=name.familyName&startIndex=1000"), None),
        (q("/Groups?filter=members.value pr and not (displayName eq \"group00\")&sortBy=displayName&sortOrder=descending&count=3&startIndex=20&excludedAttributes=members"), None),
        ("/.search".to_owned(), Some(json!({"schemas": [fedkit_scim::list::SEARCH_REQUEST_SCHEMA], "startIndex": 696, "count": 10}))),
        ("/.search".to_owned(), Some(json!({"schemas": [fedkit_scim::list::SEARCH_REQUEST_SCHEMA], "filter": "id pr", "sortBy": "meta.created", "startIndex": 699, "count": 4}))),
    ];
    for (query, body) in queries {
        read.store(0, Ordering::SeqCst);
        largest.store(0, Ordering::SeqCst);
        let got = names_and_total(&sqlite, &query, body.clone());
        let want = names_and_total(&memory, &query, body);
        assert_eq!(got, want, "{query}");
        assert!(largest.load(Ordering::SeqCst) <= CHUNK, "{query}");
        assert!(read.load(Ordering::SeqCst) >= 40, "{query}: read the candidates");
    }
    // Independent checks of a few answers.
    let (names, total) = names_and_total(
        &sqlite,
        &q("/Users?filter=active eq true&count=5&startIndex=300"),
        None,
    );
    assert_eq!(total, 350);
    assert_eq!(
        names,
        [
            "user598@example.com",
            "user600@example.com",
            "user602@example.com",
            "user604@example.com",
            "user606@example.com"
        ]
    );
    let (names, total) = names_and_total(
        &sqlite,
        &q("/Users?filter=groups.display eq \"group01\" and active eq false&count=4"),
        None,
    );
    assert_eq!(total, 3);
    assert_eq!(
        names,
        [
            "user005@example.com",
            "user007@example.com",
            "user009@example.com"
        ]
    );
    let (names, total) = names_and_total(
        &sqlite,
        "/.search",
        Some(json!({"schemas": [fedkit_scim::list::SEARCH_REQUEST_SCHEMA], "startIndex": 699, "count": 3})),
    );
    assert_eq!(total, 740);
    assert_eq!(names, ["user698@example.com", "user699@example.com", "group00"]);
}

/// The rows SQLite changes for `op` on a directory whose groups have `size` members.
fn rows_changed(size: usize, op: impl Fn(&Harness, &[String], &[String])) -> u64 {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let h = Harness::on_store(
        Arc::clone(&store) as Arc<dyn Store>,
        ScimSettings::default(),
        "acme",
    );
    let (uids, gids) = directory(&h, size + 1, 4, size);
    let before = store.rows_changed().unwrap();
    op(&h, &uids, &gids);
    store.rows_changed().unwrap() - before
}

#[test]
fn sqlite_writes_of_member_changes_do_not_grow_with_the_groups() {
    // User 0 is in every group of both directories; its deletion, and one member added to
    // and removed from a group, change the same number of rows at 10 and at 200 members.
    let delete = |h: &Harness, uids: &[String], _: &[String]| {
        assert_eq!(h.delete(&format!("/Users/{}", uids[0])).status, 204);
    };
    let small = rows_changed(10, delete);
    assert_eq!(small, rows_changed(200, delete));
    assert!(small <= 20, "{small} rows for a user in 4 groups");
    let add_remove = |h: &Harness, uids: &[String], gids: &[String]| {
        let g = format!("/Groups/{}", gids[0]);
        let last = uids.last().unwrap();
        let r = h.patch(
            &g,
            json!([{"op": "add", "path": "members", "value": [{"value": last}]}]),
        );
        assert_eq!(r.status, 200);
        let r = h.patch(
            &g,
            json!([{"op": "remove", "path": format!("members[value eq \"{last}\"]")}]),
        );
        assert_eq!(r.status, 200);
    };
    let small = rows_changed(10, add_remove);
    assert_eq!(small, rows_changed(200, add_remove));
    assert!(small <= 12, "{small} rows to add and remove one member");
}

#[test]
fn sqlite_deletes_of_users_in_large_groups_never_make_other_writes_busy() {
    // A short busy timeout: a deletion that held the store for long would make the
    // concurrent creates fail with 503.
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("busy.sqlite3"))
        .unwrap()
        .with_busy_timeout(std::time::Duration::from_millis(500))
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let h = Harness::on_store(Arc::clone(&store), ScimSettings::default(), "acme");
    let (uids, _) = directory(&h, 300, 20, 300);
    let other = Harness::on_store(store, ScimSettings::default(), "acme");
    std::thread::scope(|s| {
        s.spawn(|| {
            for u in &uids[..20] {
                assert_eq!(h.delete(&format!("/Users/{u}")).status, 204);
            }
        });
        s.spawn(|| {
            for i in 0..40 {
                let r = other.post(
                    "/Users",
                    json!({"schemas": [USER], "userName": format!("new{i}@example.com")}),
                );
                assert_eq!(r.status, 201, "{}", r.body);
            }
        });
    });
    assert_eq!(h.get("/Users?count=1").body["totalResults"], 320);
}

/// A query string holding `filter`, percent-encoded.
fn filter_query(filter: &str) -> String {
    format!(
        "filter={}",
        percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// RFC 7643 §2.1 / §7 (`caseExact` false) over the store's `userName` index: values are NFC
/// normalised when read (bodies and filter literals), then compared with Unicode lowercase
/// mapping; full case folding is not applied (`STRASSE` ≠ `straße`).
#[test]
fn unicode_user_names_are_found_as_the_handler_compares_them() {
    for (name, store) in stores() {
        let h = Harness::on_store(store, ScimSettings::default(), "acme");
        let nfc = "Jos\u{e9}@contoso.com";
        let nfd = "Jose\u{301}@contoso.com";
        let r = h.post("/Users", json!({"schemas": [USER], "userName": nfd}));
        assert_eq!(r.status, 201, "{name}: {}", r.body);
        assert_eq!(r.body["userName"], nfc, "{name}: stored in NFC");
        let id = r.body["id"].as_str().unwrap().to_owned();
        for clash in [nfc, nfd, "JOS\u{c9}@CONTOSO.COM", "JOSE\u{301}@contoso.com"] {
            let r = h.post("/Users", json!({"schemas": [USER], "userName": clash}));
            assert_eq!(
                (r.status, r.scim_type()),
                (409, Some("uniqueness")),
                "{name}: {clash:?}"
            );
        }
        for literal in [nfc, nfd, "jos\u{e9}@CONTOSO.com", "JOSE\u{301}@CONTOSO.COM"] {
            let q = filter_query(&format!("userName eq \"{literal}\""));
            let r = h.get(&format!("/Users?{q}"));
            assert_eq!(r.body["totalResults"], 1, "{name}: {literal:?}");
            assert_eq!(r.body["Resources"][0]["id"], id.as_str(), "{name}");
        }
        // Not full case folding: ß and SS are different user names.
        for user in ["stra\u{df}e@contoso.com", "STRASSE@contoso.com"] {
            let r = h.post("/Users", json!({"schemas": [USER], "userName": user}));
            assert_eq!(r.status, 201, "{name}: {}", r.body);
        }
        let r = h.get(&format!(
            "/Users?{}",
            filter_query("userName eq \"strasse@contoso.com\"")
        ));
        assert_eq!(r.body["totalResults"], 1, "{name}");
        assert_eq!(
            r.body["Resources"][0]["userName"], "STRASSE@contoso.com",
            "{name}"
        );
    }
}

/// fedkit-scim-service's handler checks, each on a fresh in-memory `SqliteStore`.
mod handler_suite {
    use std::sync::Arc;

    use fedkit_scim_service::store::Store;
    use fedkit_scim_sqlite::SqliteStore;

    fedkit_scim_service::handler_suite!(|| -> Arc<dyn Store> {
        Arc::new(SqliteStore::open_in_memory().unwrap())
    });
}
