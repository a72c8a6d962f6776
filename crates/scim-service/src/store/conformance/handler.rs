//! The handler's behaviour over any [`Store`] (feature `conformance`): every check builds a
//! [`ScimService`] on stores from `new_store`, sends it SCIM requests as an IdP would and
//! checks the answers (status, headers, body, events) and that every successful body holds
//! only what the service's own `/Schemas` publishes. Store-specific behaviour (push-down,
//! rows written, locking) stays in each store's own tests.
//!
//! [`run`] runs every check; [`handler_suite!`](crate::handler_suite) makes one `#[test]`
//! per check:
//!
//! ```
//! use std::sync::Arc;
//! use fedkit_scim_service::store::{conformance::handler, MemoryStore, Store};
//! handler::run(&|| -> Arc<dyn Store> { Arc::new(MemoryStore::new()) });
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use fedkit_scim::filter::Filter;
use serde_json::{json, Value};

use crate::auth::TenantId;
use crate::events::Event;
use crate::ids::{IdError, IdSource, RandomIds};
use crate::store::{
    member_ids, Chunk, Membership, Page, PageQuery, ResourceKind, Store, StoreError, Transaction,
};
use crate::{DeleteAction, RequestContext, ScimRequest, ScimService, ScimSettings, SCIM_CONTENT_TYPE};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BASE: &str = "https://app.example.com/scim/v2";

/// A [`ScimService`] on one store, called as an IdP calls it, with every answer checked
/// (SCIM content type, error documents, bodies against the service's own `/Schemas`): what
/// the checks here use, public so a store's own tests can send requests the same way.
///
/// ```
/// use std::sync::Arc;
/// use fedkit_scim_service::store::{conformance::handler::Harness, MemoryStore};
/// use fedkit_scim_service::ScimSettings;
/// let h = Harness::on_store(Arc::new(MemoryStore::new()), ScimSettings::default(), "acme");
/// let created = h.post("/Users", serde_json::json!({
///     "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jane@example.com"}));
/// assert_eq!(created.status, 201);
/// assert_eq!(h.get("/Users?filter=userName eq \"nobody\"").body["totalResults"], 0);
/// ```
pub struct Harness {
    service: ScimService,
    tenant: TenantId,
    events: Arc<Mutex<Vec<Event>>>,
}

/// An answer of the [`Harness`], its body parsed.
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The response headers.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body (`Null` when empty).
    pub body: Value,
}

impl Reply {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The `scimType` of an error answer.
    pub fn scim_type(&self) -> Option<&str> {
        self.body["scimType"].as_str()
    }
}

/// Makes a fresh, empty store for one check (a check may ask for more than one).
pub type NewStore<'a> = &'a dyn Fn() -> Arc<dyn Store>;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_790_000_000, 0).unwrap()
}

impl Harness {
    fn new(new_store: NewStore<'_>) -> Self {
        Self::with_config(new_store, ScimSettings::default())
    }

    fn with_config(new_store: NewStore<'_>, config: ScimSettings) -> Self {
        Self::on_store(new_store(), config, "acme")
    }

    /// A service over `store` with `config`, called as `tenant` (ids from the OS generator).
    pub fn on_store(store: Arc<dyn Store>, config: ScimSettings, tenant: &str) -> Self {
        Self::on_store_with_ids(store, Arc::new(RandomIds::new()), config, tenant)
    }

    fn on_store_with_ids(
        store: Arc<dyn Store>,
        ids: Arc<dyn IdSource>,
        config: ScimSettings,
        tenant: &str,
    ) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink_events = Arc::clone(&events);
        let sink = move |e: &[Event]| sink_events.lock().unwrap().extend_from_slice(e);
        Self {
            service: ScimService::new(store, ids)
                .with_config(config)
                .with_events(Arc::new(sink)),
            tenant: TenantId::new(tenant).unwrap(),
            events,
        }
    }

    /// Sends one request (`path_and_query` relative to the SCIM base URL) and checks the
    /// answer: panics when it breaks the rules above.
    pub fn call(&self, method: &str, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let ctx = RequestContext {
            tenant: &self.tenant,
            base_url: BASE,
            now: now(),
        };
        let r = self.service.handle(
            &ctx,
            &ScimRequest {
                method,
                path,
                query,
                headers,
                body,
            },
        );
        if r.status != 204 && r.status != 304 {
            assert_eq!(
                r.header("Content-Type"),
                Some(SCIM_CONTENT_TYPE),
                "{method} {path_and_query}"
            );
        }
        let body = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).unwrap()
        };
        if r.status < 300 && !body.is_null() {
            // Every answer holds only what the service's own /Schemas publishes (what a
            // strict client building its models from /Schemas accepts).
            let problems = self.schema_problems(&body);
            assert!(
                problems.is_empty(),
                "{method} {path_and_query}: {problems:#?}\n{body:#}"
            );
        }
        if r.status >= 400 {
            // Every failure is a SCIM Error document whose status matches the HTTP status.
            assert_eq!(
                body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
                "{body}"
            );
            assert_eq!(body["status"], r.status.to_string());
        }
        Reply {
            status: r.status,
            headers: r.headers,
            body,
        }
    }

    /// [`fedkit_scim::discovery::response_problems`] against this service's `/Schemas` and
    /// `/ResourceTypes`, read through the handler as a client reads them.
    fn schema_problems(&self, body: &Value) -> Vec<String> {
        let ctx = RequestContext {
            tenant: &self.tenant,
            base_url: BASE,
            now: now(),
        };
        let read = |path: &str| -> Value {
            let r = self.service.handle(
                &ctx,
                &ScimRequest {
                    method: "GET",
                    path,
                    query: "",
                    headers: &[],
                    body: b"",
                },
            );
            serde_json::from_slice(&r.body).unwrap()
        };
        fedkit_scim::discovery::response_problems(&read("/Schemas"), &read("/ResourceTypes"), body)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], b"")
    }
    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, &[], body.to_string().as_bytes())
    }
    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, &[], body.to_string().as_bytes())
    }
    /// `PATCH path` with these `Operations`.
    pub fn patch(&self, path: &str, ops: Value) -> Reply {
        self.call(
            "PATCH",
            path,
            &[],
            json!({"schemas": [PATCH_OP], "Operations": ops})
                .to_string()
                .as_bytes(),
        )
    }
    /// `DELETE path`.
    pub fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, &[], b"")
    }

    fn create_user(&self, name: &str) -> String {
        let r = self.post(
            "/Users",
            json!({"schemas": [USER], "userName": name, "active": true,
                   "name": {"givenName": "Given", "familyName": "Family"},
                   "emails": [{"value": name, "type": "work", "primary": true}]}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let r = self.post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": name, "members": members}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

fn filter_query(filter: &str) -> String {
    // The `percent-encoding` crate; every byte but ASCII letters and digits escaped.
    format!(
        "filter={}",
        percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC)
    )
}

/// RFC 7643: full user round trips.
pub fn rfc_7643_full_user_round_trips(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    // RFC 7643 §8.2 (abridged): the full representation with the enterprise extension.
    let body = json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "active": true,
        "password": "t1meMa$heen",
        ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "version": "W/\"3694e05e9dff591\""}
    });
    let r = h.post("/Users", body);
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap();
    assert_eq!(r.header("Location"), Some(format!("{BASE}/Users/{id}").as_str()));
    assert_eq!(r.header("ETag"), r.body["meta"]["version"].as_str());
    // meta is the service's, not the client's.
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(r.body["meta"]["created"], "2026-09-21T14:13:20Z");
    assert_eq!(r.body["meta"]["location"], format!("{BASE}/Users/{id}"));
    // password is writeOnly: never returned.
    assert!(r.body.get("password").is_none());
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], "701984");

    let got = h.get(&format!("/Users/{id}"));
    assert_eq!(got.status, 200);
    assert_eq!(got.body, r.body);
}

/// JumpCloud flow.
pub fn jumpcloud_flow(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    // Test Connection: discovery probes and a lookup of a user that does not exist yet.
    let spc = h.get("/ServiceProviderConfig");
    assert_eq!(spc.status, 200);
    assert_eq!(spc.body["patch"]["supported"], true);
    assert_eq!(spc.body["bulk"]["supported"], true);
    assert_eq!(spc.body["bulk"]["maxOperations"], 1000);
    assert_eq!(spc.body["filter"]["maxResults"], 200);
    assert_eq!(h.get("/ResourceTypes").body["totalResults"], 2);
    assert_eq!(h.get("/Schemas").body["totalResults"], 3);
    assert_eq!(h.get(&format!("/Schemas/{USER}")).body["id"], USER);
    assert_eq!(h.get("/ResourceTypes/Group").body["endpoint"], "/Groups");
    let probe = h.get(&format!(
        "/Users?{}&startIndex=1&count=1",
        filter_query(r#"userName eq "jc-probe@example.com""#)
    ));
    assert_eq!(probe.status, 200);
    assert_eq!(probe.body["totalResults"], 0);
    assert_eq!(probe.body["Resources"], json!([]));

    // Create, then look up by filter (+ encoded as space, as some clients do).
    let id = h.create_user("jane.doe@example.com");
    assert!(matches!(
        h.take_events().as_slice(),
        [Event::Created {
            kind: crate::store::ResourceKind::User,
            ..
        }]
    ));
    let found = h.get("/Users?filter=userName+eq+%22Jane.Doe%40example.com%22");
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());

    // PUT on edit (JumpCloud sends the whole user).
    let put = h.put(
        &format!("/Users/{id}"),
        json!({"schemas": [USER], "id": id, "userName": "jane.doe@example.com", "active": true,
               "name": {"givenName": "Jane", "familyName": "Doe"}, "title": "Engineer",
               "emails": [{"value": "jane.doe@example.com", "type": "work", "primary": true}]}),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["title"], "Engineer");
    assert_eq!(put.body["name"]["givenName"], "Jane");

    // Group create with the user; User.groups is derived.
    let gid = h.create_group("Engineering", &[&id]);
    let user = h.get(&format!("/Users/{id}"));
    assert_eq!(
        user.body["groups"],
        json!([{"value": gid, "$ref": format!("{BASE}/Groups/{gid}"), "type": "direct", "display": "Engineering"}])
    );
    // The ETag changed with the membership.
    assert_ne!(user.header("ETag"), put.header("ETag"));

    // Deactivation keeps the user.
    h.take_events();
    let off = h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["active"], false);
    assert_eq!(
        h.take_events(),
        [Event::Deactivated {
            tenant: h.tenant.clone(),
            id: id.clone()
        }]
    );
    assert_eq!(h.get(&format!("/Users/{id}")).status, 200);

    // Membership remove / add, rename.
    let rm = h.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]),
    );
    assert_eq!(rm.status, 200, "{}", rm.body);
    assert!(h.get(&format!("/Users/{id}")).body.get("groups").is_none());
    let add = h.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": id}]}]),
    );
    assert_eq!(add.status, 200);
    let rename = h.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "replace", "path": "displayName", "value": "Platform"}]),
    );
    assert_eq!(rename.body["displayName"], "Platform");
    assert_eq!(
        h.get(&format!("/Users/{id}")).body["groups"][0]["display"],
        "Platform"
    );
    let events = h.take_events();
    assert!(events.contains(&Event::MembershipChanged {
        tenant: h.tenant.clone(),
        group_id: gid.clone(),
        added: vec![],
        removed: vec![id.clone()],
    }));
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Updated { attributes, .. } if attributes == &["displayName"])));

    // Delete the user: gone, and gone from the group.
    assert_eq!(h.delete(&format!("/Users/{id}")).status, 204);
    assert_eq!(h.get(&format!("/Users/{id}")).status, 404);
    assert!(h.get(&format!("/Groups/{gid}")).body.get("members").is_none());
    let events = h.take_events();
    assert!(events.contains(&Event::Deleted {
        tenant: h.tenant.clone(),
        kind: crate::store::ResourceKind::User,
        id: id.clone()
    }));
    assert!(events.iter().any(
        |e| matches!(e, Event::MembershipChanged { removed, .. } if removed == std::slice::from_ref(&id))
    ));
    assert_eq!(h.delete(&format!("/Groups/{gid}")).status, 204);
    assert_eq!(h.get(&format!("/Groups/{gid}")).status, 404);
}

/// Okta flow.
pub fn okta_flow(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    for i in 0..5 {
        h.create_user(&format!("user{i}@example.com"));
    }
    // Paged import.
    let page = h.get("/Users?startIndex=2&count=2");
    assert_eq!(page.body["totalResults"], 5);
    assert_eq!(page.body["startIndex"], 2);
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "user1@example.com");
    let lookup = h.get(&format!(
        "/Users?{}&startIndex=1&count=100",
        filter_query(r#"userName eq "user3@example.com""#)
    ));
    assert_eq!(lookup.body["totalResults"], 1);
    let user = lookup.body["Resources"][0].clone();
    let id = user["id"].as_str().unwrap().to_owned();
    let gid = h.create_group("Okta Group", &[&id]);

    // Okta PUTs back what it read, including id, meta and groups (readOnly: ignored).
    let mut back = h.get(&format!("/Users/{id}")).body;
    back["name"]["givenName"] = json!("Changed");
    back["groups"] = json!([{"value": "forged-group"}]);
    let put = h.put(&format!("/Users/{id}"), back);
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["name"]["givenName"], "Changed");
    assert_eq!(put.body["groups"][0]["value"], gid.as_str());
    assert_eq!(put.body["groups"].as_array().unwrap().len(), 1);

    // Path-less replace.
    let r = h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": false, "displayName": "U3"}}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["displayName"], "U3");
}

/// Entra ID flow.
pub fn entra_flow(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    let id = h.create_user("adele@contoso.com");
    // Entra: capitalised ops, string booleans, value filter paths, enterprise URN paths.
    let r = h.patch(
        &format!("/Users/{id}"),
        json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "adele.v@contoso.com"},
            {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Retail"},
            {"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": "mgr-1"},
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.body["emails"][0]["value"], "adele.v@contoso.com");
    assert_eq!(r.body[ENTERPRISE]["department"], "Retail");
    assert_eq!(r.body[ENTERPRISE]["manager"]["value"], "mgr-1");

    let gid = h.create_group("Sales", &[&id]);
    let list = h.get(&format!(
        "/Groups?{}&excludedAttributes=members",
        filter_query(r#"displayName eq "Sales""#)
    ));
    assert_eq!(list.body["totalResults"], 1);
    assert_eq!(list.body["Resources"][0]["id"], gid.as_str());
    assert!(list.body["Resources"][0].get("members").is_none());
    // Entra removes members with a value array.
    let rm = h.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]),
    );
    assert_eq!(rm.status, 200, "{}", rm.body);
    // An emptied multi-valued attribute is unassigned, hence absent (RFC 7643 §2.5).
    assert!(rm.body.get("members").is_none(), "{}", rm.body);
}

/// Failures change nothing.
pub fn failures_change_nothing(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    let id = h.create_user("keep@example.com");
    let before = h.get(&format!("/Users/{id}")).body;
    h.take_events();

    // Second op fails: the first is not applied.
    let r = h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "displayName", "value": "Changed"},
               {"op": "replace", "path": "active", "value": "not-a-boolean"}]),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.scim_type(), Some("invalidValue"));
    // Removing a required attribute.
    let r = h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "remove", "path": "userName"}]),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // readOnly id.
    let r = h.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "id", "value": "x"}]),
    );
    assert_eq!((r.status, r.scim_type()), (400, Some("mutability")));
    // Malformed JSON, empty body, not a PatchOp.
    let r = h.call("PATCH", &format!("/Users/{id}"), &[], b"{\"Operations\": [");
    assert_eq!((r.status, r.scim_type()), (400, Some("invalidSyntax")));
    let r = h.call("PUT", &format!("/Users/{id}"), &[], b"");
    assert_eq!((r.status, r.scim_type()), (400, Some("invalidSyntax")));
    // PUT without userName.
    let r = h.put(
        &format!("/Users/{id}"),
        json!({"schemas": [USER], "displayName": "x"}),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    // A member that does not exist.
    let gid = h.create_group("G", &[&id]);
    let group_before = h.get(&format!("/Groups/{gid}")).body;
    let r = h.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": "no-such-user"}]}]),
    );
    assert_eq!((r.status, r.scim_type()), (400, Some("invalidValue")));
    assert!(r.body["detail"].as_str().unwrap().contains("no-such-user"));
    let r = h.patch(
        &format!("/Groups/{gid}"),
        json!([{"op": "add", "path": "members", "value": [{"value": gid}]}]),
    );
    assert_eq!(r.status, 400);
    h.take_events();

    assert_eq!(
        h.get(&format!("/Users/{id}")).body["displayName"],
        before["displayName"]
    );
    let mut after = h.get(&format!("/Users/{id}")).body;
    // The user joined a group meanwhile: compare without groups/version.
    after.as_object_mut().unwrap().remove("groups");
    after["meta"]["version"] = before["meta"]["version"].clone();
    assert_eq!(after, before);
    assert_eq!(h.get(&format!("/Groups/{gid}")).body, group_before);
    assert!(h.take_events().is_empty(), "failed requests deliver no events");
}

/// Uniqueness and not found.
pub fn uniqueness_and_not_found(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    h.create_user("Dup@Example.com");
    let r = h.post(
        "/Users",
        json!({"schemas": [USER], "userName": "dup@example.COM"}),
    );
    assert_eq!((r.status, r.scim_type()), (409, Some("uniqueness")));
    assert!(r.body["detail"].as_str().unwrap().contains("userName"));
    let other = h.create_user("other@example.com");
    let r = h.patch(
        &format!("/Users/{other}"),
        json!([{"op": "replace", "path": "userName", "value": "DUP@example.com"}]),
    );
    assert_eq!((r.status, r.scim_type()), (409, Some("uniqueness")));

    for (method, path) in [
        ("GET", "/Users/nope"),
        ("PUT", "/Users/nope"),
        ("PATCH", "/Groups/nope"),
        ("DELETE", "/Groups/nope"),
    ] {
        let body = if method == "PATCH" {
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "displayName", "value": "x"}]})
        } else {
            json!({"schemas": [USER], "userName": "x"})
        };
        let r = h.call(method, path, &[], body.to_string().as_bytes());
        assert_eq!(r.status, 404, "{method} {path}: {}", r.body);
    }
    assert_eq!(h.get("/Nope").status, 404);
    assert_eq!(h.get("/").status, 404);
    assert_eq!(h.get("/Users/a/b").status, 404);
    assert_eq!(h.call("DELETE", "/Users", &[], b"").status, 405);
    assert_eq!(h.call("POST", "/ServiceProviderConfig", &[], b"{}").status, 405);
    assert_eq!(h.get("/Me").status, 501);

    // Group displayName uniqueness only when configured.
    h.create_group("Team", &[]);
    h.create_group("team", &[]);
    let strict = Harness::with_config(
        new_store,
        ScimSettings::default().with_unique_group_display_name(true),
    );
    let g = strict.create_group("Team", &[]);
    let r = strict.post("/Groups", json!({"schemas": [GROUP], "displayName": "TEAM"}));
    assert_eq!((r.status, r.scim_type()), (409, Some("uniqueness")));
    // Renaming to itself is fine.
    assert_eq!(
        strict
            .patch(
                &format!("/Groups/{g}"),
                json!([{"op": "replace", "path": "displayName", "value": "TEAM"}])
            )
            .status,
        200
    );
}

/// ETags.
pub fn etags(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    let id = h.create_user("etag@example.com");
    let got = h.get(&format!("/Users/{id}"));
    let etag = got.header("ETag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""));
    // If-None-Match with the current version: 304, no body.
    let r = h.call("GET", &format!("/Users/{id}"), &[("If-None-Match", &etag)], b"");
    assert_eq!(r.status, 304);
    assert_eq!(r.body, Value::Null);
    // Stale If-Match: 412 and nothing changes.
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "A"}]});
    let r = h.call(
        "PATCH",
        &format!("/Users/{id}"),
        &[("If-Match", &etag)],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    let new_etag = r.header("ETag").unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let body = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": "B"}]});
    let r = h.call(
        "PATCH",
        &format!("/Users/{id}"),
        &[("if-match", &etag)],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 412, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains(&new_etag));
    assert_eq!(h.get(&format!("/Users/{id}")).body["displayName"], "A");
    let r = h.call("DELETE", &format!("/Users/{id}"), &[("If-Match", &etag)], b"");
    assert_eq!(r.status, 412);
    // `*` and the strong form of the same tag match.
    let strong = new_etag.trim_start_matches("W/");
    let r = h.call(
        "PATCH",
        &format!("/Users/{id}"),
        &[("If-Match", strong)],
        body.to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        h.call("DELETE", &format!("/Users/{id}"), &[("If-Match", "*")], b"")
            .status,
        204
    );
}

/// Tenants cannot see each other.
pub fn tenants_cannot_see_each_other(new_store: NewStore<'_>) {
    let store = new_store();
    let a = Harness::on_store(Arc::clone(&store), ScimSettings::default(), "tenant-a");
    let b = Harness::on_store(Arc::clone(&store), ScimSettings::default(), "tenant-b");
    let id = a.create_user("shared@example.com");
    let gid = a.create_group("A only", &[&id]);
    assert_eq!(b.get(&format!("/Users/{id}")).status, 404);
    assert_eq!(b.get("/Users").body["totalResults"], 0);
    assert_eq!(
        b.get(&format!(
            "/Users?{}",
            filter_query(r#"userName eq "shared@example.com""#)
        ))
        .body["totalResults"],
        0
    );
    let s = b.call(
        "POST",
        "/.search",
        &[],
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(s.body["totalResults"], 0);
    assert_eq!(b.delete(&format!("/Users/{id}")).status, 404);
    assert_eq!(
        b.patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "replace", "path": "displayName", "value": "x"}])
        )
        .status,
        404
    );
    // Tenant b cannot put tenant a's user into its group.
    let r = b.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "B", "members": [{"value": id}]}),
    );
    assert_eq!(r.status, 400);
    // The same userName is free in tenant b.
    b.create_user("shared@example.com");
    assert_eq!(a.get(&format!("/Groups/{gid}")).body["displayName"], "A only");
    assert_eq!(a.get("/Users").body["totalResults"], 1);
}

/// Search filters sort and projection.
pub fn search_filters_sort_and_projection(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    let ids: Vec<String> = ["carol", "alice", "bob"]
        .iter()
        .map(|n| h.create_user(&format!("{n}@example.com")))
        .collect();
    let gid = h.create_group("Admins", &[&ids[1]]);
    let r = h.get("/Users?sortBy=userName&sortOrder=descending&attributes=userName");
    let names: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["carol@example.com", "bob@example.com", "alice@example.com"]
    );
    // attributes=userName keeps id (returned always) and drops the rest.
    assert!(r.body["Resources"][0].get("id").is_some());
    assert!(r.body["Resources"][0].get("emails").is_none());

    // A filter on the derived groups attribute.
    let r = h.get(&format!(
        "/Users?{}",
        filter_query(&format!(r#"groups.value eq "{gid}""#))
    ));
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    assert_eq!(r.body["Resources"][0]["id"], ids[1].as_str());
    let r = h.get(&format!(
        "/Users?{}",
        filter_query(r#"emails[type eq "work" and value sw "B"]"#)
    ));
    assert_eq!(r.body["totalResults"], 1);

    // POST .search on a type and at the root.
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"a\"", "attributes": ["userName"]});
    let r = h.call("POST", "/Users/.search", &[], body.to_string().as_bytes());
    assert_eq!(r.body["totalResults"], 1);
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq \"Admins\" or userName eq \"bob@example.com\""});
    let r = h.call("POST", "/.search", &[], body.to_string().as_bytes());
    assert_eq!(r.body["totalResults"], 2, "{}", r.body);

    // Invalid filters: 400 invalidFilter with a position.
    let r = h.get("/Users?filter=userName%20eq");
    assert_eq!((r.status, r.scim_type()), (400, Some("invalidFilter")));
    let r = h.get(&format!("/Users?{}", filter_query("active gt true")));
    assert_eq!((r.status, r.scim_type()), (400, Some("invalidFilter")));
    let r = h.get("/Users?count=abc");
    assert_eq!(r.status, 400);
    let r = h.get("/Users?filter=%FF");
    assert_eq!(r.status, 400);
}

/// Bulk with bulk ids and limits.
pub fn bulk_with_bulk_ids_and_limits(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "failOnErrors": 1,
        "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "g1",
             "data": {"schemas": [GROUP], "displayName": "Bulk Group", "members": [{"value": "bulkId:u1"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u1",
             "data": {"schemas": [USER], "userName": "bulk@example.com"}},
        ]
    });
    let r = h.call("POST", "/Bulk", &[], body.to_string().as_bytes());
    assert_eq!(r.status, 200, "{}", r.body);
    let ops = r.body["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2);
    assert!(ops.iter().all(|o| o["status"] == "201"), "{}", r.body);
    let users = h.get("/Users").body;
    let uid = users["Resources"][0]["id"].as_str().unwrap();
    let groups = h.get("/Groups").body;
    assert_eq!(groups["Resources"][0]["members"][0]["value"], uid);

    // failOnErrors: 1 stops after the first error.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "failOnErrors": 1,
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "d", "data": {"schemas": [USER], "userName": "bulk@example.com"}},
            {"method": "POST", "path": "/Users", "bulkId": "e", "data": {"schemas": [USER], "userName": "never@example.com"}},
        ]
    });
    let r = h.call("POST", "/Bulk", &[], body.to_string().as_bytes());
    assert_eq!(r.body["Operations"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["Operations"][0]["status"], "409");
    assert_eq!(h.get("/Users").body["totalResults"], 1);

    // Beyond the advertised limits: 413.
    let small = Harness::with_config(
        new_store,
        ScimSettings::default().with_bulk_limits(
            fedkit_scim::bulk::BulkLimits::default()
                .with_max_operations(1)
                .unwrap(),
        ),
    );
    let r = small.call("POST", "/Bulk", &[], body.to_string().as_bytes());
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(
        small.get("/ServiceProviderConfig").body["bulk"]["maxOperations"],
        1
    );
}

/// Body limits.
pub fn body_limits(new_store: NewStore<'_>) {
    let h = Harness::with_config(
        new_store,
        ScimSettings::default().with_max_body_bytes(1000).unwrap(),
    );
    let big = json!({"schemas": [USER], "userName": "x".repeat(2000)});
    let r = h.post("/Users", big);
    assert_eq!(r.status, 413);
    assert_eq!(h.get("/Users").body["totalResults"], 0);
}

/// Delete policy deactivates.
pub fn delete_policy_deactivates(new_store: NewStore<'_>) {
    let config = ScimSettings::default().with_user_deletion(|_, _| DeleteAction::Deactivate);
    let h = Harness::with_config(new_store, config);
    let id = h.create_user("stay@example.com");
    let gid = h.create_group("G", &[&id]);
    h.take_events();
    assert_eq!(h.delete(&format!("/Users/{id}")).status, 204);
    let user = h.get(&format!("/Users/{id}"));
    assert_eq!(user.status, 200);
    assert_eq!(user.body["active"], false);
    assert_eq!(user.body["groups"][0]["value"], gid.as_str());
    assert_eq!(
        h.take_events(),
        [Event::Deactivated {
            tenant: h.tenant.clone(),
            id
        }]
    );
}

/// Me resolver.
pub fn me_resolver(new_store: NewStore<'_>) {
    let who: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let resolver_who = Arc::clone(&who);
    let config = ScimSettings::default().with_me(move |_, _| resolver_who.lock().unwrap().clone());
    let h = Harness::with_config(new_store, config);
    assert_eq!(h.get("/Me").status, 404);
    let id = h.create_user("me@example.com");
    *who.lock().unwrap() = Some(id.clone());
    let me = h.get("/Me");
    assert_eq!(me.status, 200);
    assert_eq!(me.body["id"], id.as_str());
    let r = h.patch(
        "/Me",
        json!([{"op": "replace", "path": "displayName", "value": "Me"}]),
    );
    assert_eq!(r.body["displayName"], "Me");
}

/// Group deletion removes nested membership.
pub fn group_deletion_removes_nested_membership(new_store: NewStore<'_>) {
    let h = Harness::new(new_store);
    let inner = h.create_group("Inner", &[]);
    let outer = h.create_group("Outer", &[&inner]);
    assert_eq!(h.delete(&format!("/Groups/{inner}")).status, 204);
    assert!(h.get(&format!("/Groups/{outer}")).body.get("members").is_none());
}

// ------------------------------------------------------------------ ids (RFC 7643 §3.1)

/// A harness whose ids come from `ids`, in order (then an error).
fn with_ids(new_store: NewStore<'_>, ids: &[&str]) -> Harness {
    let queue = Mutex::new(ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    let source = move || -> Result<String, IdError> {
        let mut q = queue.lock().unwrap();
        if q.is_empty() {
            return Err(IdError::Unavailable {
                detail: "the test source is empty".into(),
            });
        }
        Ok(q.remove(0))
    };
    Harness::on_store_with_ids(new_store(), Arc::new(source), ScimSettings::default(), "acme")
}

/// RFC 7643 §3.1: ids are the host sources.
pub fn rfc_7643_3_1_ids_are_the_host_sources(new_store: NewStore<'_>) {
    let h = with_ids(new_store, &["u-1", "g.2"]);
    let user = h.post("/Users", json!({"schemas": [USER], "userName": "bjensen"}));
    assert_eq!(user.status, 201, "{}", user.body);
    assert_eq!(user.body["id"], "u-1");
    assert_eq!(
        user.header("Location"),
        Some(format!("{BASE}/Users/u-1").as_str())
    );
    let group = h.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Admins", "members": [{"value": "u-1"}]}),
    );
    assert_eq!(group.status, 201, "{}", group.body);
    assert_eq!(group.body["id"], "g.2");
    assert_eq!(h.get("/Users/u-1").body["groups"][0]["value"], "g.2");
}

/// RFC 7643 §3.1: a failing id source is a 500 that changes nothing.
pub fn rfc_7643_3_1_a_failing_id_source_is_a_500_that_changes_nothing(new_store: NewStore<'_>) {
    let h = with_ids(new_store, &[]);
    let r = h.post("/Users", json!({"schemas": [USER], "userName": "bjensen"}));
    assert_eq!(r.status, 500);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("id source") && detail.contains("the test source is empty"),
        "{detail}"
    );
    assert_eq!(h.get("/Users").body["totalResults"], 0);
    assert!(h.take_events().is_empty());
}

/// RFC 7643 §3.1: an id that cannot be one is refused.
pub fn rfc_7643_3_1_an_id_that_cannot_be_one_is_refused(new_store: NewStore<'_>) {
    for bad in ["bulkId", "a/b", "", "caf\u{e9}", ".."] {
        let h = with_ids(new_store, &[bad]);
        let r = h.post("/Users", json!({"schemas": [USER], "userName": "bjensen"}));
        assert_eq!(r.status, 500, "{bad:?}");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("cannot be a resource id"), "{bad:?}: {detail}");
        assert_eq!(h.get("/Users").body["totalResults"], 0, "{bad:?}");
    }
}

/// RFC 7643 §3.1: a repeated id is the sources fault and overwrites nothing.
pub fn rfc_7643_3_1_a_repeated_id_is_the_sources_fault_and_overwrites_nothing(new_store: NewStore<'_>) {
    let h = with_ids(new_store, &["same", "same"]);
    assert_eq!(
        h.post("/Users", json!({"schemas": [USER], "userName": "first"}))
            .status,
        201
    );
    let r = h.post("/Users", json!({"schemas": [USER], "userName": "second"}));
    assert_eq!(r.status, 500, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("\"same\"") && detail.contains("never repeat"),
        "{detail}"
    );
    assert_eq!(h.get("/Users/same").body["userName"], "first");
    assert_eq!(h.get("/Users").body["totalResults"], 1);
}

/// RFC 7643 §3.1: ids are unique across users and groups.
pub fn rfc_7643_3_1_ids_are_unique_across_users_and_groups(new_store: NewStore<'_>) {
    // A group may not take a user's id (a member `value` would name both), nor the reverse.
    let h = with_ids(new_store, &["u", "u", "g", "g"]);
    assert_eq!(
        h.post("/Users", json!({"schemas": [USER], "userName": "bjensen"}))
            .status,
        201
    );
    let r = h.post("/Groups", json!({"schemas": [GROUP], "displayName": "Admins"}));
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("a User of this tenant"));
    assert_eq!(
        h.post("/Groups", json!({"schemas": [GROUP], "displayName": "Admins"}))
            .status,
        201
    );
    let r = h.post("/Users", json!({"schemas": [USER], "userName": "other"}));
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("a Group of this tenant"));
    assert_eq!(h.get("/Users").body["totalResults"], 1);
    assert_eq!(h.get("/Groups").body["totalResults"], 1);
}

// ------------------------------------------------- members and paging (from fedkit-scim-sqlite)

/// A [`Store`] that passes everything to `inner` and counts what the handler reads through
/// it: the group members it receives, the resources (of any kind) the store returns, and the
/// most one read returned. Stores' own test suites use it to show that a request reads no
/// more than it needs (a page, one chunk), whatever the directory's size.
pub struct Counting {
    /// The store counted.
    pub inner: Arc<dyn Store>,
    /// Group members received, over every read.
    pub members_loaded: Arc<AtomicUsize>,
    /// Resources returned, over every read.
    pub resources_read: Arc<AtomicUsize>,
    /// The most resources one read returned.
    pub largest_read: Arc<AtomicUsize>,
}

impl Counting {
    /// Counts the reads of `inner`, every count at 0.
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            members_loaded: Arc::default(),
            resources_read: Arc::default(),
            largest_read: Arc::default(),
        }
    }
}

struct CountingTx<'s> {
    inner: Box<dyn Transaction + 's>,
    members_loaded: Arc<AtomicUsize>,
    resources_read: Arc<AtomicUsize>,
    largest_read: Arc<AtomicUsize>,
}

impl Store for Counting {
    fn begin(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(CountingTx {
            inner: self.inner.begin(tenant)?,
            members_loaded: Arc::clone(&self.members_loaded),
            resources_read: Arc::clone(&self.resources_read),
            largest_read: Arc::clone(&self.largest_read),
        }))
    }
    fn begin_read(&self, tenant: &TenantId) -> Result<Box<dyn Transaction + '_>, StoreError> {
        Ok(Box::new(CountingTx {
            inner: self.inner.begin_read(tenant)?,
            members_loaded: Arc::clone(&self.members_loaded),
            resources_read: Arc::clone(&self.resources_read),
            largest_read: Arc::clone(&self.largest_read),
        }))
    }
}

impl CountingTx<'_> {
    fn count(&self, kind: ResourceKind, values: &[Value]) {
        self.resources_read.fetch_add(values.len(), Ordering::SeqCst);
        self.largest_read.fetch_max(values.len(), Ordering::SeqCst);
        if kind == ResourceKind::Group {
            let n: usize = values.iter().map(|g| member_ids(g).len()).sum();
            self.members_loaded.fetch_add(n, Ordering::SeqCst);
        }
    }
}

impl Transaction for CountingTx<'_> {
    fn get(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        let r = self.inner.get(kind, id)?;
        self.count(kind, r.as_slice());
        Ok(r)
    }
    fn find(&mut self, kind: ResourceKind, filter: Option<&Filter>) -> Result<Vec<Value>, StoreError> {
        let r = self.inner.find(kind, filter)?;
        self.count(kind, &r);
        Ok(r)
    }
    fn find_attributes(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
    ) -> Result<Vec<Value>, StoreError> {
        let r = self.inner.find_attributes(kind, filter)?;
        self.count(kind, &r);
        Ok(r)
    }
    fn get_attributes(&mut self, kind: ResourceKind, id: &str) -> Result<Option<Value>, StoreError> {
        let r = self.inner.get_attributes(kind, id)?;
        self.count(kind, r.as_slice());
        Ok(r)
    }
    fn find_page(&mut self, kind: ResourceKind, query: &PageQuery<'_>) -> Result<Option<Page>, StoreError> {
        let r = self.inner.find_page(kind, query)?;
        if let Some(p) = &r {
            self.count(kind, &p.resources);
        }
        Ok(r)
    }
    fn find_chunk(
        &mut self,
        kind: ResourceKind,
        filter: Option<&Filter>,
        members: bool,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Chunk, StoreError> {
        let r = self.inner.find_chunk(kind, filter, members, after, limit)?;
        self.count(kind, &r.resources);
        Ok(r)
    }
    fn members_named(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<Value>, StoreError> {
        let r = self.inner.members_named(group_id, values)?;
        self.members_loaded.fetch_add(r.len(), Ordering::SeqCst);
        Ok(r)
    }
    fn member_count(&mut self, group_id: &str) -> Result<Option<usize>, StoreError> {
        self.inner.member_count(group_id)
    }
    fn insert(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.inner.insert(kind, resource)
    }
    fn update(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.inner.update(kind, resource)
    }
    fn update_attributes(&mut self, kind: ResourceKind, resource: &Value) -> Result<(), StoreError> {
        self.inner.update_attributes(kind, resource)
    }
    fn get_attributes_many(&mut self, kind: ResourceKind, ids: &[&str]) -> Result<Vec<Value>, StoreError> {
        let r = self.inner.get_attributes_many(kind, ids)?;
        self.count(kind, &r);
        Ok(r)
    }
    fn update_attributes_many(&mut self, kind: ResourceKind, resources: &[Value]) -> Result<(), StoreError> {
        self.inner.update_attributes_many(kind, resources)
    }
    fn add_members(&mut self, group_id: &str, members: &[Value]) -> Result<Vec<String>, StoreError> {
        self.inner.add_members(group_id, members)
    }
    fn remove_members(&mut self, group_id: &str, values: &[&str]) -> Result<Vec<String>, StoreError> {
        self.inner.remove_members(group_id, values)
    }
    fn remove_from_all_groups(&mut self, member_id: &str) -> Result<Vec<String>, StoreError> {
        self.inner.remove_from_all_groups(member_id)
    }
    fn delete(&mut self, kind: ResourceKind, id: &str) -> Result<bool, StoreError> {
        self.inner.delete(kind, id)
    }
    fn memberships(&mut self, member_ids: &[&str]) -> Result<Vec<Membership>, StoreError> {
        self.inner.memberships(member_ids)
    }
    fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.inner.commit()
    }
}

/// A harness over `store` wrapped in [`Counting`]; returns the counter too.
fn counted(store: Arc<dyn Store>, config: ScimSettings) -> (Harness, Arc<AtomicUsize>) {
    let (h, loaded, _) = counted_reads(store, config);
    (h, loaded)
}

/// [`counted`], with the count of resources the store returned too.
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
    let loaded = Arc::new(AtomicUsize::new(0));
    let read = Arc::new(AtomicUsize::new(0));
    let largest = Arc::new(AtomicUsize::new(0));
    let wrapper = Counting {
        inner: store,
        members_loaded: Arc::clone(&loaded),
        resources_read: Arc::clone(&read),
        largest_read: Arc::clone(&largest),
    };
    (
        Harness::on_store(Arc::new(wrapper), config, "acme"),
        loaded,
        read,
        largest,
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

/// A group list without members loads no member.
pub fn a_group_list_without_members_loads_no_member(new_store: NewStore<'_>) {
    {
        let (name, store) = ("store", new_store());
        let (h, loaded) = counted(store, ScimSettings::default());
        let (_, gids) = directory(&h, 30, 6, 20);
        for query in [
            "/Groups?count=1&excludedAttributes=members",
            "/Groups?excludedAttributes=members",
            "/Groups?attributes=displayName",
            "/Groups?filter=displayName%20eq%20%22group2%22&excludedAttributes=members",
            &format!("/Groups/{}?excludedAttributes=members", gids[1]),
        ] {
            loaded.store(0, Ordering::SeqCst);
            let r = h.get(query);
            assert_eq!(r.status, 200, "{name} {query}: {}", r.body);
            assert_eq!(loaded.load(Ordering::SeqCst), 0, "{name} {query}");
        }
        // A page of one group with members loads that group's members only.
        loaded.store(0, Ordering::SeqCst);
        let r = h.get("/Groups?count=1");
        assert_eq!(r.body["totalResults"], 6, "{name}");
        assert_eq!(r.body["Resources"][0]["members"].as_array().unwrap().len(), 20);
        assert_eq!(loaded.load(Ordering::SeqCst), 20, "{name}");
    }
}

/// Deleting a user and member patches load no member list.
pub fn deleting_a_user_and_member_patches_load_no_member_list(new_store: NewStore<'_>) {
    {
        let (name, store) = ("store", new_store());
        let (h, loaded) = counted(store, ScimSettings::default());
        let (uids, gids) = directory(&h, 30, 6, 20);
        loaded.store(0, Ordering::SeqCst);
        assert_eq!(h.delete(&format!("/Users/{}", uids[0])).status, 204, "{name}");
        assert_eq!(loaded.load(Ordering::SeqCst), 0, "{name}: delete");
        for g in &gids {
            let members = h.get(&format!("/Groups/{g}")).body["members"].clone();
            assert!(
                !members.to_string().contains(&uids[0]),
                "{name}: {g} still lists the deleted user"
            );
        }
        loaded.store(0, Ordering::SeqCst);
        let path = format!("/Groups/{}?excludedAttributes=members", gids[0]);
        let r = h.patch(
            &path,
            json!([{"op": "add", "path": "members", "value": [{"value": uids[29]}]}]),
        );
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        // The member it adds, looked up to see whether the group has it already.
        assert!(loaded.load(Ordering::SeqCst) <= 1, "{name}: add");
        loaded.store(0, Ordering::SeqCst);
        let filter = format!("members[value eq \"{}\"]", uids[29]);
        let r = h.patch(&path, json!([{"op": "remove", "path": filter}]));
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert!(loaded.load(Ordering::SeqCst) <= 1, "{name}: remove");
    }
}

/// Member patches apply like the whole list would.
pub fn member_patches_apply_like_the_whole_list_would(new_store: NewStore<'_>) {
    {
        let (name, store) = ("store", new_store());
        let h = Harness::on_store(store, ScimSettings::default(), "acme");
        let (uids, gids) = directory(&h, 6, 1, 3);
        let g = format!("/Groups/{}", gids[0]);
        let before = h.get(&g);
        // Add two (one already there), remove one by filter, one by value list, rename.
        let r = h.patch(
            &g,
            json!([
                {"op": "add", "path": "members", "value": [{"value": uids[0]}, {"value": uids[4], "display": "Four"}]},
                {"op": "remove", "path": format!("members[value eq \"{}\"]", uids[1])},
                {"op": "remove", "path": "members", "value": [{"value": uids[2]}]},
                {"op": "replace", "path": "displayName", "value": "renamed"}
            ]),
        );
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        let got: Vec<&str> = r.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap())
            .collect();
        assert_eq!(got, [uids[0].as_str(), uids[4].as_str()], "{name}");
        assert_eq!(r.body["members"][1]["display"], "Four", "{name}");
        assert_eq!(r.body["displayName"], "renamed");
        // The version moved, the response's ETag is what a GET reports, with or without members.
        let etag = r.header("ETag").unwrap().to_owned();
        assert_ne!(Some(etag.as_str()), before.header("ETag"));
        assert_eq!(h.get(&g).header("ETag"), Some(etag.as_str()), "{name}");
        assert_eq!(
            h.get(&format!("{g}?excludedAttributes=members")).header("ETag"),
            Some(etag.as_str()),
            "{name}"
        );
        // An If-Match with the old version fails; the user's groups follow.
        let old = before.header("ETag").unwrap().to_owned();
        let stale = h.call(
            "PATCH",
            &g,
            &[("If-Match", old.as_str())],
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": [{"value": uids[5]}]}]})
                .to_string()
                .as_bytes(),
        );
        assert_eq!(stale.status, 412, "{name}");
        let user4 = h.get(&format!("/Users/{}", uids[4]));
        assert_eq!(user4.body["groups"][0]["value"], gids[0].as_str(), "{name}");
        assert!(h.get(&format!("/Users/{}", uids[1])).body.get("groups").is_none());
        // Adding a member that does not exist is refused and changes nothing.
        let r = h.patch(
            &g,
            json!([{"op": "add", "path": "members", "value": [{"value": "nobody"}]}]),
        );
        assert_eq!(r.status, 400, "{name}");
        assert_eq!(h.get(&g).header("ETag"), Some(etag.as_str()), "{name}");
        // A no-op PATCH keeps the version.
        let r = h.patch(
            &g,
            json!([{"op": "add", "path": "members", "value": [{"value": uids[0]}]}]),
        );
        assert_eq!(r.header("ETag"), Some(etag.as_str()), "{name}");
        // The events name exactly what changed.
        let events = h.events.lock().unwrap().clone();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::MembershipChanged { added, removed, .. }
            if added == &vec![uids[4].clone()] && removed.len() == 2)),
            "{name}: {events:?}"
        );
    }
}

/// Groups beyond the inline cap come without members and page through users.
pub fn groups_beyond_the_inline_cap_come_without_members_and_page_through_users(new_store: NewStore<'_>) {
    {
        let (name, store) = ("store", new_store());
        let config = ScimSettings::default().with_max_inline_members(3).unwrap();
        let h = Harness::on_store(store, config, "acme");
        let (uids, gids) = directory(&h, 5, 2, 5);
        let g = format!("/Groups/{}", gids[0]);
        let r = h.get(&g);
        assert_eq!(r.status, 200, "{name}");
        assert!(r.body.get("members").is_none(), "{name}: {}", r.body);
        assert_eq!(r.body["displayName"], "group0");
        let r = h.get(&format!("{g}?attributes=members"));
        assert_eq!(r.status, 400, "{name}");
        assert_eq!(r.scim_type(), Some("tooMany"), "{name}");
        assert!(
            r.body["detail"].as_str().unwrap().contains("groups.value eq"),
            "{name}"
        );
        let list = h.get("/Groups");
        assert!(list.body["Resources"][0].get("members").is_none(), "{name}");
        assert_eq!(h.get("/Groups?attributes=members").status, 400, "{name}");
        let r = h.patch(
            &g,
            json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", uids[0])}]),
        );
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert!(r.body.get("members").is_none(), "{name}");
        // Paging the members through /Users.
        let q = format!("/Users?filter=groups.value%20eq%20%22{}%22&count=2", gids[0]);
        let page = h.get(&q);
        assert_eq!(page.body["totalResults"], 4, "{name}: {}", page.body);
        assert_eq!(page.body["Resources"].as_array().unwrap().len(), 2, "{name}");
        let last = h.get(&format!("{q}&startIndex=4"));
        assert_eq!(last.body["Resources"].as_array().unwrap().len(), 1, "{name}");
        let mut seen: Vec<String> = [page, h.get(&format!("{q}&startIndex=3"))]
            .iter()
            .flat_map(|p| p.body["Resources"].as_array().unwrap().clone())
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect();
        seen.sort();
        let mut want: Vec<String> = uids[1..].to_vec();
        want.sort();
        assert_eq!(seen, want, "{name}");
        // Membership test of one user.
        let q = format!(
            "/Groups?filter=id%20eq%20%22{}%22%20and%20members.value%20eq%20%22{}%22&excludedAttributes=members",
            gids[0], uids[2]
        );
        assert_eq!(h.get(&q).body["totalResults"], 1, "{name}");
    }
}

/// List paging and user name sort happen in the store with the same results.
pub fn list_paging_and_user_name_sort_happen_in_the_store_with_the_same_results(new_store: NewStore<'_>) {
    {
        let (name, store) = ("store", new_store());
        let h = Harness::on_store(store, ScimSettings::default(), "acme");
        for n in ["carol", "Alice", "bob", "dave"] {
            assert_eq!(
                h.post("/Users", json!({"schemas": [USER], "userName": n})).status,
                201
            );
        }
        let names = |q: &str| -> Vec<String> {
            let r = h.get(q);
            assert_eq!(r.status, 200, "{q}: {}", r.body);
            r.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["userName"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            names("/Users?sortBy=userName&count=2"),
            ["Alice", "bob"],
            "{name}"
        );
        assert_eq!(
            names("/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2"),
            ["carol", "bob"],
            "{name}"
        );
        assert_eq!(names("/Users?startIndex=3"), ["bob", "dave"], "{name}");
        assert_eq!(h.get("/Users?count=1").body["totalResults"], 4, "{name}");
    }
}

/// Runs every check, each on stores from `new_store`.
pub fn run(new_store: NewStore<'_>) {
    rfc_7643_full_user_round_trips(new_store);
    jumpcloud_flow(new_store);
    okta_flow(new_store);
    entra_flow(new_store);
    failures_change_nothing(new_store);
    uniqueness_and_not_found(new_store);
    etags(new_store);
    tenants_cannot_see_each_other(new_store);
    search_filters_sort_and_projection(new_store);
    bulk_with_bulk_ids_and_limits(new_store);
    body_limits(new_store);
    delete_policy_deactivates(new_store);
    me_resolver(new_store);
    group_deletion_removes_nested_membership(new_store);
    rfc_7643_3_1_ids_are_the_host_sources(new_store);
    rfc_7643_3_1_a_failing_id_source_is_a_500_that_changes_nothing(new_store);
    rfc_7643_3_1_an_id_that_cannot_be_one_is_refused(new_store);
    rfc_7643_3_1_a_repeated_id_is_the_sources_fault_and_overwrites_nothing(new_store);
    rfc_7643_3_1_ids_are_unique_across_users_and_groups(new_store);
    a_group_list_without_members_loads_no_member(new_store);
    deleting_a_user_and_member_patches_load_no_member_list(new_store);
    member_patches_apply_like_the_whole_list_would(new_store);
    groups_beyond_the_inline_cap_come_without_members_and_page_through_users(new_store);
    list_paging_and_user_name_sort_happen_in_the_store_with_the_same_results(new_store);
}

/// One `#[test]` per check of [`store::conformance::handler`](crate::store::conformance::handler),
/// each on stores made by the closure (`|| -> Arc<dyn Store>`), given as an expression:
///
/// ```
/// mod memory_store {
///     use std::sync::Arc;
///     use fedkit_scim_service::store::{MemoryStore, Store};
///     fedkit_scim_service::handler_suite!(|| -> Arc<dyn Store> { Arc::new(MemoryStore::new()) });
/// }
/// ```
#[macro_export]
macro_rules! handler_suite {
    ($new_store:expr) => {
        #[test]
        fn rfc_7643_full_user_round_trips() {
            $crate::store::conformance::handler::rfc_7643_full_user_round_trips(&$new_store);
        }
        #[test]
        fn jumpcloud_flow() {
            $crate::store::conformance::handler::jumpcloud_flow(&$new_store);
        }
        #[test]
        fn okta_flow() {
            $crate::store::conformance::handler::okta_flow(&$new_store);
        }
        #[test]
        fn entra_flow() {
            $crate::store::conformance::handler::entra_flow(&$new_store);
        }
        #[test]
        fn failures_change_nothing() {
            $crate::store::conformance::handler::failures_change_nothing(&$new_store);
        }
        #[test]
        fn uniqueness_and_not_found() {
            $crate::store::conformance::handler::uniqueness_and_not_found(&$new_store);
        }
        #[test]
        fn etags() {
            $crate::store::conformance::handler::etags(&$new_store);
        }
        #[test]
        fn tenants_cannot_see_each_other() {
            $crate::store::conformance::handler::tenants_cannot_see_each_other(&$new_store);
        }
        #[test]
        fn search_filters_sort_and_projection() {
            $crate::store::conformance::handler::search_filters_sort_and_projection(&$new_store);
        }
        #[test]
        fn bulk_with_bulk_ids_and_limits() {
            $crate::store::conformance::handler::bulk_with_bulk_ids_and_limits(&$new_store);
        }
        #[test]
        fn body_limits() {
            $crate::store::conformance::handler::body_limits(&$new_store);
        }
        #[test]
        fn delete_policy_deactivates() {
            $crate::store::conformance::handler::delete_policy_deactivates(&$new_store);
        }
        #[test]
        fn me_resolver() {
            $crate::store::conformance::handler::me_resolver(&$new_store);
        }
        #[test]
        fn group_deletion_removes_nested_membership() {
            $crate::store::conformance::handler::group_deletion_removes_nested_membership(&$new_store);
        }
        #[test]
        fn rfc_7643_3_1_ids_are_the_host_sources() {
            $crate::store::conformance::handler::rfc_7643_3_1_ids_are_the_host_sources(&$new_store);
        }
        #[test]
        fn rfc_7643_3_1_a_failing_id_source_is_a_500_that_changes_nothing() {
            $crate::store::conformance::handler::rfc_7643_3_1_a_failing_id_source_is_a_500_that_changes_nothing(&$new_store);
        }
        #[test]
        fn rfc_7643_3_1_an_id_that_cannot_be_one_is_refused() {
            $crate::store::conformance::handler::rfc_7643_3_1_an_id_that_cannot_be_one_is_refused(&$new_store);
        }
        #[test]
        fn rfc_7643_3_1_a_repeated_id_is_the_sources_fault_and_overwrites_nothing() {
            $crate::store::conformance::handler::rfc_7643_3_1_a_repeated_id_is_the_sources_fault_and_overwrites_nothing(&$new_store);
        }
        #[test]
        fn rfc_7643_3_1_ids_are_unique_across_users_and_groups() {
            $crate::store::conformance::handler::rfc_7643_3_1_ids_are_unique_across_users_and_groups(&$new_store);
        }
        #[test]
        fn a_group_list_without_members_loads_no_member() {
            $crate::store::conformance::handler::a_group_list_without_members_loads_no_member(&$new_store);
        }
        #[test]
        fn deleting_a_user_and_member_patches_load_no_member_list() {
            $crate::store::conformance::handler::deleting_a_user_and_member_patches_load_no_member_list(&$new_store);
        }
        #[test]
        fn member_patches_apply_like_the_whole_list_would() {
            $crate::store::conformance::handler::member_patches_apply_like_the_whole_list_would(&$new_store);
        }
        #[test]
        fn groups_beyond_the_inline_cap_come_without_members_and_page_through_users() {
            $crate::store::conformance::handler::groups_beyond_the_inline_cap_come_without_members_and_page_through_users(&$new_store);
        }
        #[test]
        fn list_paging_and_user_name_sort_happen_in_the_store_with_the_same_results() {
            $crate::store::conformance::handler::list_paging_and_user_name_sort_happen_in_the_store_with_the_same_results(&$new_store);
        }
    };
}
