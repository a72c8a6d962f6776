//! A database as older fedkit versions left it is brought up to date on start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use fedkit_scim::filter::Filter;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::store::{user_name_key, PageQuery, ResourceKind, Store};
use serde_json::json;

use super::rows::holds_nul;
use super::schema::STEPS;
use super::PgStore;
use crate::migrate;
use crate::pool::{Pool, PoolSettings};
use crate::testing::TestServer;

#[test]
fn a_version_1_database_moves_its_members_into_rows() {
    if crate::testing::skip_without_postgres() {
        return;
    }
    let server = TestServer::start().expect("PostgreSQL test server");
    let url = server.create_database("members_v1").unwrap();
    let pool = Arc::new(Pool::connect(&url, PoolSettings::default()).unwrap());
    {
        // The database as fedkit wrote it before step 2: members inside the group body.
        let mut client = pool.get().unwrap();
        migrate::apply(&mut client, "scim", &STEPS[..1]).unwrap();
        let group = json!({"id": "g1", "displayName": "Eng",
            "members": [{"value": "u1", "display": "One"}, {"value": "U2"}, {"value": "u1"}, {"display": "no value"}]});
        client
            .execute(
                "INSERT INTO fedkit_scim_resources (tenant, kind, id, display_name, body) VALUES ('acme', 'Group', 'g1', 'eng', $1)",
                &[&group],
            )
            .unwrap();
        client
            .execute(
                "INSERT INTO fedkit_scim_members (group_seq, tenant, member_key)
                 SELECT seq, 'acme', sha256(convert_to(m, 'UTF8')) FROM fedkit_scim_resources, unnest(ARRAY['u1', 'U2']) AS m",
                &[],
            )
            .unwrap();
        client
            .execute(
                "INSERT INTO fedkit_scim_values (seq, tenant, kind, attr, v, cut)
                 SELECT seq, 'acme', 'Group', 5, v, false FROM fedkit_scim_resources, unnest(ARRAY['u1', 'u2']) AS v",
                &[],
            )
            .unwrap();
    }
    let store = PgStore::new(Arc::clone(&pool)).unwrap();
    // A second start finds nothing left to move.
    let store2 = PgStore::new(Arc::clone(&pool)).unwrap();
    let t = TenantId::new("acme").unwrap();
    let mut tx = store.begin(&t).unwrap();
    let g = tx.get(ResourceKind::Group, "g1").unwrap().unwrap();
    assert_eq!(
        g["members"],
        json!([{"value": "u1", "display": "One"}, {"value": "U2"}, {"display": "no value"}])
    );
    assert_eq!(tx.member_count("g1").unwrap(), Some(2));
    let attrs = tx.get_attributes(ResourceKind::Group, "g1").unwrap().unwrap();
    assert_eq!(attrs["members"], json!([{"display": "no value"}]));
    assert_eq!(tx.memberships(&["U2"]).unwrap().len(), 1);
    let f = Filter::parse(r#"members.value eq "u2""#).unwrap();
    assert_eq!(tx.find(ResourceKind::Group, Some(&f)).unwrap().len(), 1);
    assert_eq!(tx.remove_from_all_groups("u1").unwrap(), ["g1"]);
    tx.commit().unwrap();
    let mut tx = store2.begin_read(&t).unwrap();
    assert_eq!(tx.member_count("g1").unwrap(), Some(1));
    let mut client = pool.get().unwrap();
    let old: bool = client
        .query_one("SELECT to_regclass('fedkit_scim_members') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(old, "the version 1 table is dropped");
}

#[test]
fn a_version_2_database_fills_the_user_name_sort_keys() {
    if crate::testing::skip_without_postgres() {
        return;
    }
    use fedkit_scim_service::store::SortKey;

    let server = TestServer::start().expect("PostgreSQL test server");
    let url = server.create_database("sort_v2").unwrap();
    let pool = Arc::new(Pool::connect(&url, PoolSettings::default()).unwrap());
    let users = [
        json!({"id": "u1", "userName": "bob"}),
        json!({"id": "u2", "USERNAME": "Émile"}),
        json!({"id": "u3", "userName": "alice"}),
        json!({"id": "u4"}),
        json!({"id": "u5", "userName": "Zoë\u{0}x"}),
    ];
    {
        // The database as fedkit wrote it before step 3: no sort column.
        let mut client = pool.get().unwrap();
        migrate::apply(&mut client, "scim", &STEPS[..2]).unwrap();
        for u in &users {
            let name = user_name_key(u).map(String::into_bytes);
            let (jsonb, json) = if holds_nul(u) {
                (None, Some(u))
            } else {
                (Some(u), None)
            };
            client
                .execute(
                    "INSERT INTO fedkit_scim_resources (tenant, kind, id, user_name_key, body, body_json)
                     VALUES ('acme', 'User', $1, sha256($2), $3, $4)",
                    &[&u["id"].as_str().unwrap(), &name, &jsonb, &json],
                )
                .unwrap();
        }
    }
    let store = PgStore::new(Arc::clone(&pool)).unwrap();
    // A second start finds nothing left to fill.
    let store2 = PgStore::new(Arc::clone(&pool)).unwrap();
    let t = TenantId::new("acme").unwrap();
    let mut tx = store2.begin_read(&t).unwrap();
    for (descending, want) in [
        (false, ["u3", "u1", "u5", "u2", "u4"]),
        (true, ["u2", "u5", "u1", "u3", "u4"]),
    ] {
        let mut q = PageQuery::new(0, 10);
        q.sort = Some((SortKey::UserName, descending));
        let page = tx.find_page(ResourceKind::User, &q).unwrap().unwrap();
        let got: Vec<&str> = page.resources.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(got, want, "descending: {descending}");
    }
    drop(tx);
    drop(store);
    let mut client = pool.get().unwrap();
    let key: Vec<u8> = client
        .query_one(
            "SELECT user_name_sort FROM fedkit_scim_resources WHERE id = 'u2'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(key, "émile".as_bytes());
    let gone: bool = client
        .query_one("SELECT to_regclass('fedkit_scim_sort_pending') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(gone, "the pending marker is dropped");
}
