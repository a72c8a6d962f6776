//! Behaviour every [`Store`] must have (feature `conformance`). Each store's tests call
//! [`run`] on a fresh, empty store; a failed check panics with the reason, like `assert!`.
//!
//! ```
//! fedkit_scim_service::store::conformance::run(&fedkit_scim_service::store::MemoryStore::new());
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod handler;
pub mod props;

use fedkit_scim::filter::Filter;
use serde_json::{json, Value};

use super::{PageQuery, ResourceKind, SortKey, Store, StoreError};
use crate::auth::TenantId;

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

fn user(id: &str, name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": name,
           "emails": [{"value": format!("{name}@example.com"), "type": "work"}],
           "meta": {"resourceType": "User", "version": "W/\"1\""}})
}

fn group(id: &str, display: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": id,
           "displayName": display, "members": members})
}

fn ids(values: &[Value]) -> Vec<&str> {
    values.iter().map(|v| v["id"].as_str().unwrap()).collect()
}

/// Runs every check on `store`, which must be empty.
pub fn run(store: &dyn Store) {
    insert_get_update_delete(store);
    rollback_on_drop(store);
    tenants_are_partitioned(store);
    user_name_unique_case_insensitive(store);
    find_is_a_superset_in_creation_order(store);
    chunks_are_find_in_pieces(store);
    memberships(store);
    member_rows(store);
    pages(store);
    filtered_pages(store);
}

fn insert_get_update_delete(store: &dyn Store) {
    let t = tenant("crud");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "alice")).unwrap();
    assert_eq!(
        tx.insert(ResourceKind::User, &user("u1", "other")),
        Err(StoreError::DuplicateId {
            kind: "User",
            id: "u1".into()
        })
    );
    // Reads in the same transaction see its writes.
    assert_eq!(
        tx.get(ResourceKind::User, "u1").unwrap(),
        Some(user("u1", "alice"))
    );
    // Ids are per kind.
    assert_eq!(tx.get(ResourceKind::Group, "u1").unwrap(), None);
    tx.commit().unwrap();

    let mut tx = store.begin(&t).unwrap();
    let mut changed = user("u1", "alice");
    changed["active"] = json!(false);
    tx.update(ResourceKind::User, &changed).unwrap();
    assert_eq!(
        tx.update(ResourceKind::User, &user("nope", "x")),
        Err(StoreError::NotFound {
            kind: "User",
            id: "nope".into()
        })
    );
    assert_eq!(
        tx.insert(ResourceKind::User, &json!({"userName": "x"})),
        Err(StoreError::MalformedResource)
    );
    tx.commit().unwrap();

    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.get(ResourceKind::User, "u1").unwrap(), Some(changed));
    assert!(tx.delete(ResourceKind::User, "u1").unwrap());
    assert!(!tx.delete(ResourceKind::User, "u1").unwrap());
    tx.commit().unwrap();
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.get(ResourceKind::User, "u1").unwrap(), None);
}

fn rollback_on_drop(store: &dyn Store) {
    let t = tenant("rollback");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("keep", "keep")).unwrap();
    tx.insert(ResourceKind::Group, &group("g", "Engineering", &["keep"]))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("new", "new")).unwrap();
    let mut renamed = user("keep", "renamed");
    renamed["displayName"] = json!("Renamed");
    tx.update(ResourceKind::User, &renamed).unwrap();
    tx.delete(ResourceKind::Group, "g").unwrap();
    drop(tx);

    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.get(ResourceKind::User, "new").unwrap(), None);
    assert_eq!(
        tx.get(ResourceKind::User, "keep").unwrap(),
        Some(user("keep", "keep"))
    );
    assert_eq!(
        tx.get(ResourceKind::Group, "g").unwrap(),
        Some(group("g", "Engineering", &["keep"]))
    );
    // The userName index was rolled back too: "renamed" is free, "keep" is taken.
    tx.insert(ResourceKind::User, &user("other", "renamed")).unwrap();
    assert!(matches!(
        tx.insert(ResourceKind::User, &user("third", "KEEP")),
        Err(StoreError::Conflict {
            attribute: "userName",
            ..
        })
    ));
}

fn tenants_are_partitioned(store: &dyn Store) {
    let a = tenant("tenant-a");
    let b = tenant("tenant-b");
    let mut tx = store.begin(&a).unwrap();
    tx.insert(ResourceKind::User, &user("shared-id", "same-name"))
        .unwrap();
    tx.insert(ResourceKind::Group, &group("ga", "A team", &["shared-id"]))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin(&b).unwrap();
    assert_eq!(tx.get(ResourceKind::User, "shared-id").unwrap(), None);
    assert!(tx.find(ResourceKind::User, None).unwrap().is_empty());
    assert!(tx.find(ResourceKind::Group, None).unwrap().is_empty());
    assert!(tx.memberships(&["shared-id"]).unwrap().is_empty());
    assert!(!tx.delete(ResourceKind::User, "shared-id").unwrap());
    assert!(matches!(
        tx.update(ResourceKind::User, &user("shared-id", "x")),
        Err(StoreError::NotFound { .. })
    ));
    // The same id and userName are free in tenant b.
    tx.insert(ResourceKind::User, &user("shared-id", "same-name"))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin(&a).unwrap();
    assert_eq!(
        tx.get(ResourceKind::User, "shared-id").unwrap(),
        Some(user("shared-id", "same-name"))
    );
    assert_eq!(tx.find(ResourceKind::User, None).unwrap().len(), 1);
}

fn user_name_unique_case_insensitive(store: &dyn Store) {
    let t = tenant("unique");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "Barbara@Example.com"))
        .unwrap();
    assert_eq!(
        tx.insert(ResourceKind::User, &user("u2", "barbara@example.COM")),
        Err(StoreError::Conflict {
            kind: "User",
            attribute: "userName",
            value: "barbara@example.com".into()
        })
    );
    tx.insert(ResourceKind::User, &user("u2", "carol")).unwrap();
    assert!(matches!(
        tx.update(ResourceKind::User, &user("u2", "BARBARA@example.com")),
        Err(StoreError::Conflict { .. })
    ));
    // Changing the case of one's own userName is fine, and frees nothing else.
    tx.update(ResourceKind::User, &user("u1", "barbara@example.com"))
        .unwrap();
    // After a rename, the old name is free.
    tx.update(ResourceKind::User, &user("u2", "caroline")).unwrap();
    tx.insert(ResourceKind::User, &user("u3", "Carol")).unwrap();
    // After a delete, the name is free.
    tx.delete(ResourceKind::User, "u1").unwrap();
    tx.insert(ResourceKind::User, &user("u4", "Barbara@Example.com"))
        .unwrap();
    // Groups have no store-enforced uniqueness.
    tx.insert(ResourceKind::Group, &group("g1", "Same", &[])).unwrap();
    tx.insert(ResourceKind::Group, &group("g2", "Same", &[])).unwrap();
    tx.commit().unwrap();
}

fn find_is_a_superset_in_creation_order(store: &dyn Store) {
    let t = tenant("find");
    let mut tx = store.begin(&t).unwrap();
    let names = ["zed", "amy", "Bob", "carl", "dora"];
    for (i, n) in names.iter().enumerate() {
        tx.insert(ResourceKind::User, &user(&format!("id{i}"), n))
            .unwrap();
    }
    tx.insert(ResourceKind::Group, &group("g1", "Admins", &["id1"]))
        .unwrap();
    // A userName that is not one string (the handler never stores one, a store must still
    // not lose it): the evaluator matches any element, so `userName eq` must return it.
    tx.insert(
        ResourceKind::User,
        &json!({"id": "odd", "userName": ["Eve", "alt"]}),
    )
    .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin(&t).unwrap();
    let all = tx.find(ResourceKind::User, None).unwrap();
    assert_eq!(ids(&all), ["id0", "id1", "id2", "id3", "id4", "odd"]);
    for (text, must) in [
        (r#"userName eq "eve""#, vec!["odd"]),
        (r#"userName eq "BOB""#, vec!["id2"]),
        (r#"userName eq "bob" or userName eq "dora""#, vec!["id2", "id4"]),
        (r#"id eq "id3""#, vec!["id3"]),
        (r#"emails.value eq "amy@example.com""#, vec!["id1"]),
        (r#"emails[type eq "work" and value co "carl"]"#, vec!["id3"]),
        (r#"userName sw "d""#, vec!["id4"]),
        (r#"not (userName eq "zed")"#, vec!["id1", "id2", "id3", "id4"]),
        (r#"userName eq "bob" and active eq true"#, vec![]),
        (r#"userName eq "nobody""#, vec![]),
    ] {
        let filter = Filter::parse(text).unwrap();
        let found = tx.find(ResourceKind::User, Some(&filter)).unwrap();
        let found = ids(&found);
        for id in &must {
            assert!(found.contains(id), "{text}: {id} missing from {found:?}");
        }
        let in_order: Vec<&str> = ids(&all).into_iter().filter(|id| found.contains(id)).collect();
        assert_eq!(found, in_order, "{text}: not in creation order");
    }
    let filter = Filter::parse(r#"displayName eq "admins""#).unwrap();
    assert_eq!(ids(&tx.find(ResourceKind::Group, Some(&filter)).unwrap()), ["g1"]);
    let filter = Filter::parse(r#"members.value eq "id1""#).unwrap();
    assert_eq!(ids(&tx.find(ResourceKind::Group, Some(&filter)).unwrap()), ["g1"]);
}

/// [`super::Transaction::find_chunk`]: the chunks of a read, in order, are exactly what `find`
/// (with members) or `find_attributes` (without) returns, for every chunk size; only the last
/// chunk may be larger than asked.
fn chunks_are_find_in_pieces(store: &dyn Store) {
    let t = tenant("chunks");
    let mut tx = store.begin(&t).unwrap();
    for i in 0..23 {
        let mut u = user(&format!("c{i:02}"), &format!("chunk{i:02}"));
        u["active"] = json!(i % 3 != 0);
        tx.insert(ResourceKind::User, &u).unwrap();
    }
    for g in 0..7 {
        let members: Vec<String> = (0..g).map(|k| format!("c{k:02}")).collect();
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        tx.insert(
            ResourceKind::Group,
            &group(&format!("cg{g}"), &format!("Chunk group {g}"), &members),
        )
        .unwrap();
    }
    // Another tenant's resources never come back.
    tx.commit().unwrap();
    let mut other = store.begin(&tenant("chunks-other")).unwrap();
    other.insert(ResourceKind::User, &user("x1", "chunk99")).unwrap();
    other.commit().unwrap();

    let mut tx = store.begin_read(&t).unwrap();
    let filters = [
        None,
        Some(r#"userName sw "chunk1""#),
        Some("active eq true"),
        Some(r#"not (userName eq "chunk03")"#),
        Some(r#"displayName co "group""#),
        Some(r#"members.value eq "c01""#),
        Some(r#"userName eq "nobody""#),
    ];
    for kind in [ResourceKind::User, ResourceKind::Group] {
        for text in filters {
            let filter = text.map(|f| Filter::parse(f).unwrap());
            for members in [false, true] {
                let whole = if members {
                    tx.find(kind, filter.as_ref()).unwrap()
                } else {
                    tx.find_attributes(kind, filter.as_ref()).unwrap()
                };
                for size in [1, 2, 5, 1000] {
                    let mut pieces = Vec::new();
                    let mut after = None;
                    for _ in 0..100 {
                        let chunk = tx
                            .find_chunk(kind, filter.as_ref(), members, after, size)
                            .unwrap();
                        // Only a last chunk may be larger than asked (the default hands
                        // everything over at once).
                        assert!(
                            chunk.resources.len() <= size || chunk.next.is_none(),
                            "{kind:?} {text:?}: a chunk of {} when {size} were asked, and more to come",
                            chunk.resources.len()
                        );
                        pieces.extend(chunk.resources);
                        match chunk.next {
                            Some(next) => after = Some(next),
                            None => break,
                        }
                    }
                    assert_eq!(
                        pieces, whole,
                        "{kind:?} {text:?} members={members} chunks of {size}"
                    );
                }
            }
        }
    }
}

fn memberships(store: &dyn Store) {
    let t = tenant("members");
    let mut tx = store.begin(&t).unwrap();
    tx.insert(ResourceKind::User, &user("u1", "u1")).unwrap();
    tx.insert(ResourceKind::User, &user("u2", "u2")).unwrap();
    tx.insert(ResourceKind::Group, &group("g1", "One", &["u1", "u2"]))
        .unwrap();
    tx.insert(ResourceKind::Group, &group("g2", "Two", &["u1", "g1"]))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin(&t).unwrap();
    let mut m = tx.memberships(&["u1", "g1", "nobody"]).unwrap();
    m.sort_by(|a, b| (&a.member_id, &a.group_id).cmp(&(&b.member_id, &b.group_id)));
    let got: Vec<(&str, &str, Option<&str>)> = m
        .iter()
        .map(|m| {
            (
                m.member_id.as_str(),
                m.group_id.as_str(),
                m.group_display.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("g1", "g2", Some("Two")),
            ("u1", "g1", Some("One")),
            ("u1", "g2", Some("Two"))
        ]
    );

    // Membership follows updates and deletes of groups, and rolls back with them.
    tx.update(ResourceKind::Group, &group("g1", "One", &["u2"]))
        .unwrap();
    tx.delete(ResourceKind::Group, "g2").unwrap();
    assert!(tx.memberships(&["u1"]).unwrap().is_empty());
    drop(tx);
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.memberships(&["u1"]).unwrap().len(), 2);
}

fn member_values(group: &Value) -> Vec<&str> {
    super::member_ids(group)
}

fn member_rows(store: &dyn Store) {
    let t = tenant("member-rows");
    let mut tx = store.begin(&t).unwrap();
    for u in ["u1", "u2", "u3", "U4"] {
        tx.insert(ResourceKind::User, &user(u, u)).unwrap();
    }
    let mut g = group("g1", "One", &["u1", "u2"]);
    g["members"][0]["display"] = json!("User One");
    tx.insert(ResourceKind::Group, &g).unwrap();
    tx.insert(ResourceKind::Group, &group("g2", "Two", &["u1"]))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin(&t).unwrap();
    // Attributes without members; the count; a full read keeps each member object.
    let attrs = tx.get_attributes(ResourceKind::Group, "g1").unwrap().unwrap();
    assert!(member_values(&attrs).is_empty());
    assert_eq!(attrs["displayName"], "One");
    assert_eq!(tx.member_count("g1").unwrap(), Some(2));
    assert_eq!(tx.member_count("nope").unwrap(), None);
    assert_eq!(tx.get(ResourceKind::Group, "g1").unwrap(), Some(g.clone()));
    // Adding: new values only, the existing one left as it was.
    let added = tx
        .add_members(
            "g1",
            &[
                json!({"value": "u2", "display": "changed"}),
                json!({"value": "u3"}),
            ],
        )
        .unwrap();
    assert_eq!(added, ["u3"]);
    assert_eq!(tx.member_count("g1").unwrap(), Some(3));
    let full = tx.get(ResourceKind::Group, "g1").unwrap().unwrap();
    assert_eq!(member_values(&full), ["u1", "u2", "u3"]);
    assert_eq!(full["members"][1], json!({"value": "u2"}));
    assert!(matches!(
        tx.add_members("nope", &[json!({"value": "u3"})]),
        Err(StoreError::NotFound { .. })
    ));
    // Named members: compared case-insensitively, a superset at most.
    let named = tx.members_named("g1", &["U3", "u4"]).unwrap();
    assert!(named.contains(&json!({"value": "u3"})), "{named:?}");
    assert!(!named.contains(&json!({"value": "u1"})));
    // Removing.
    assert_eq!(tx.remove_members("g1", &["u2", "absent"]).unwrap(), ["u2"]);
    assert_eq!(tx.member_count("g1").unwrap(), Some(2));
    assert_eq!(tx.memberships(&["u2"]).unwrap(), []);
    // Attributes change, members stay.
    let mut renamed = attrs.clone();
    renamed["displayName"] = json!("Uno");
    renamed["members"] = json!([{"value": "ignored"}]);
    tx.update_attributes(ResourceKind::Group, &renamed).unwrap();
    let full = tx.get(ResourceKind::Group, "g1").unwrap().unwrap();
    assert_eq!(full["displayName"], "Uno");
    assert_eq!(member_values(&full), ["u1", "u3"]);
    // Several at once, in the order asked, missing ones left out.
    let many = tx
        .get_attributes_many(ResourceKind::Group, &["g2", "nope", "g1"])
        .unwrap();
    assert_eq!(ids(&many), ["g2", "g1"]);
    assert!(many.iter().all(|g| member_values(g).is_empty()));
    let renamed: Vec<Value> = many
        .into_iter()
        .map(|mut g| {
            g["displayName"] = json!(format!("{}!", g["displayName"].as_str().unwrap()));
            g
        })
        .collect();
    tx.update_attributes_many(ResourceKind::Group, &renamed).unwrap();
    let g2 = tx.get(ResourceKind::Group, "g2").unwrap().unwrap();
    assert_eq!(g2["displayName"], "Two!");
    assert_eq!(member_values(&g2), ["u1"]);
    assert_eq!(
        tx.get(ResourceKind::Group, "g1").unwrap().unwrap()["displayName"],
        "Uno!"
    );
    // A member out of every group at once.
    assert_eq!(tx.remove_from_all_groups("u1").unwrap(), ["g1", "g2"]);
    assert!(tx.memberships(&["u1"]).unwrap().is_empty());
    assert_eq!(tx.member_count("g2").unwrap(), Some(0));
    // `find` (a superset) still finds the group by a member added in place.
    let filter = Filter::parse(r#"members.value eq "U3""#).unwrap();
    assert!(ids(&tx.find(ResourceKind::Group, Some(&filter)).unwrap()).contains(&"g1"));
    drop(tx);
    // All of it rolls back.
    let mut tx = store.begin(&t).unwrap();
    assert_eq!(tx.get(ResourceKind::Group, "g1").unwrap(), Some(g));
    assert_eq!(tx.memberships(&["u1"]).unwrap().len(), 2);
}

fn pages(store: &dyn Store) {
    let t = tenant("pages");
    let mut tx = store.begin(&t).unwrap();
    for (i, n) in ["carol", "Alice", "bob", "dave"].iter().enumerate() {
        tx.insert(ResourceKind::User, &user(&format!("p{i}"), n)).unwrap();
    }
    tx.insert(ResourceKind::Group, &group("pg1", "One", &["p0", "p1", "p2"]))
        .unwrap();
    tx.insert(ResourceKind::Group, &group("pg2", "Two", &["p3"]))
        .unwrap();
    tx.commit().unwrap();

    let mut tx = store.begin_read(&t).unwrap();
    let page = tx
        .find_page(ResourceKind::User, &PageQuery::new(1, 2))
        .unwrap()
        .expect("every store pages an unfiltered, unsorted query");
    assert_eq!(page.total, 4);
    assert_eq!(ids(&page.resources), ["p1", "p2"]);
    let mut q = PageQuery::new(0, 10);
    q.members = false;
    let groups = tx.find_page(ResourceKind::Group, &q).unwrap().unwrap();
    assert_eq!(ids(&groups.resources), ["pg1", "pg2"]);
    assert!(groups.resources.iter().all(|g| g.get("members").is_none()));
    q.members = true;
    q.member_cap = 2;
    let groups = tx.find_page(ResourceKind::Group, &q).unwrap().unwrap();
    assert!(groups.resources[0].get("members").is_none(), "beyond the cap");
    assert_eq!(member_values(&groups.resources[1]), ["p3"]);
    let attrs = tx.find_attributes(ResourceKind::Group, None).unwrap();
    assert!(attrs.iter().all(|g| member_values(g).is_empty()));
    // Optional: sorting and membership paging; a store that answers must answer exactly.
    let mut q = PageQuery::new(0, 3);
    q.sort = Some((SortKey::UserName, false));
    if let Some(sorted) = tx.find_page(ResourceKind::User, &q).unwrap() {
        assert_eq!(sorted.total, 4);
        assert_eq!(ids(&sorted.resources), ["p1", "p2", "p0"]);
    }
    q.sort = Some((SortKey::UserName, true));
    if let Some(sorted) = tx.find_page(ResourceKind::User, &q).unwrap() {
        assert_eq!(ids(&sorted.resources), ["p3", "p0", "p2"]);
    }
    let mut q = PageQuery::new(1, 5);
    q.member_of = Some("PG1");
    if let Some(members) = tx.find_page(ResourceKind::User, &q).unwrap() {
        assert_eq!(members.total, 3);
        assert_eq!(ids(&members.resources), ["p1", "p2"]);
    }
}

/// A filtered page, when the store answers it, is exactly the evaluator's filtering, the
/// list sort and the paging of the whole `find` result.
fn filtered_pages(store: &dyn Store) {
    use fedkit_scim::filter::EvalContext;
    use fedkit_scim::list::{sort_resources, SortOrder, SortSpec};
    use fedkit_scim::resource::ResourceSchema;
    use fedkit_scim::schema::SchemaRegistry;

    let t = tenant("filtered-pages");
    let mut tx = store.begin(&t).unwrap();
    for (i, n) in ["carol", "Alice", "bob", "dave", "alfred", "Bea"]
        .iter()
        .enumerate()
    {
        let mut u = user(&format!("f{i}"), n);
        u["active"] = json!(i % 2 == 0);
        if i % 3 != 0 {
            u["externalId"] = json!(format!("Ext-{i}"));
        }
        tx.insert(ResourceKind::User, &u).unwrap();
    }
    tx.insert(ResourceKind::Group, &group("fg1", "Admins", &["f0", "f1", "f2"]))
        .unwrap();
    tx.insert(ResourceKind::Group, &group("fg2", "admin-two", &["f3"]))
        .unwrap();
    tx.insert(ResourceKind::Group, &group("fg3", "Others", &[]))
        .unwrap();
    tx.commit().unwrap();

    let registry = SchemaRegistry::core();
    let mut tx = store.begin_read(&t).unwrap();
    let user_filters = [
        r#"userName eq "BOB""#,
        r#"userName co "a""#,
        r#"userName sw "al""#,
        r#"userName ew "e""#,
        r#"emails.value co "a@example""#,
        r#"emails[value sw "c"]"#,
        "externalId pr",
        r#"externalId eq "ext-1""#,
        r#"externalId sw "Ext-""#,
        "active eq true",
        r#"userName sw "a" or userName eq "bob""#,
        r#"userName co "a" and externalId pr"#,
        r#"userName co "a" and not (userName eq "alice")"#,
        r#"emails[value sw "a" and value co "x"]"#,
        r#"userName eq "nobody""#,
    ];
    let group_filters = [
        r#"displayName sw "admin""#,
        r#"displayName eq "OTHERS""#,
        r#"members.value eq "f3""#,
        "members pr",
        r#"displayName co "n" and not (displayName eq "admins")"#,
    ];
    let by_name = |descending| SortSpec {
        by: fedkit_scim::filter::AttrPath::new("userName"),
        order: if descending {
            SortOrder::Descending
        } else {
            SortOrder::Ascending
        },
    };
    for (kind, filters) in [
        (ResourceKind::User, &user_filters[..]),
        (ResourceKind::Group, &group_filters[..]),
    ] {
        let schema = ResourceSchema::new(&registry, kind.name()).unwrap();
        let ctx = EvalContext::new(&registry, kind.name());
        let all = tx.find(kind, None).unwrap();
        for text in filters {
            let filter = Filter::parse(text).unwrap();
            let compiled = filter.compile(&ctx).unwrap();
            let hits: Vec<Value> = all.iter().filter(|r| compiled.matches(r)).cloned().collect();
            let sorts: &[Option<bool>] = if kind == ResourceKind::User {
                &[None, Some(false), Some(true)]
            } else {
                &[None]
            };
            for &sort in sorts {
                let mut expected = hits.clone();
                if let Some(descending) = sort {
                    sort_resources(&mut expected, &by_name(descending), &schema);
                }
                for (offset, limit) in [(0, 100), (0, 2), (1, 2), (3, 1), (5, 3), (40, 5), (0, 0)] {
                    let mut q = PageQuery::new(offset, limit);
                    q.filter = Some(&filter);
                    q.sort = sort.map(|d| (SortKey::UserName, d));
                    let Some(page) = tx.find_page(kind, &q).unwrap() else {
                        continue;
                    };
                    let want: Vec<Value> = expected.iter().skip(offset).take(limit).cloned().collect();
                    assert_eq!(page.total, hits.len(), "{text} {sort:?}: total");
                    assert_eq!(
                        ids(&page.resources),
                        ids(&want),
                        "{text} {sort:?} offset {offset} limit {limit}"
                    );
                }
            }
            // Groups without members when not asked, and beyond the inline cap.
            if kind == ResourceKind::Group {
                let mut q = PageQuery::new(0, 10);
                q.filter = Some(&filter);
                q.members = false;
                if let Some(page) = tx.find_page(kind, &q).unwrap() {
                    assert!(
                        page.resources.iter().all(|g| g.get("members").is_none()),
                        "{text}"
                    );
                }
                q.members = true;
                q.member_cap = 1;
                if let Some(page) = tx.find_page(kind, &q).unwrap() {
                    for g in &page.resources {
                        let stored = hits.iter().find(|h| h["id"] == g["id"]).unwrap();
                        let n = member_values(stored).len();
                        if n > 1 {
                            assert!(g.get("members").is_none(), "{text}: beyond the cap");
                        } else {
                            assert_eq!(member_values(g), member_values(stored), "{text}");
                        }
                    }
                }
            }
        }
    }
}
