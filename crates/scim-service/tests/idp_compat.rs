//! What real identity providers send, through the whole service: Entra ID's Create Group
//! body and its filtered-path PATCHes, JumpCloud's work-email mapping, request hygiene
//! (duplicate members, control characters, Content-Type, Accept), the Unicode rule for
//! `userName`, and every answer checked against the service's own `/Schemas` — by
//! fedkit-scim's checker and by scim2-models, a strict third-party validator (Python).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Mutex};

use chrono::DateTime;
use fedkit_scim::discovery::response_problems;
use fedkit_scim::resource::UndefinedSchemas;
use fedkit_scim_service::auth::TenantId;
use fedkit_scim_service::events::Event;
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::{MemoryStore, Store};
use fedkit_scim_service::{RequestContext, ScimRequest, ScimService, ScimSettings};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ADSCIM_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// One answer, with the request that produced it (for the external validator).
#[derive(Clone)]
struct Exchange {
    method: String,
    path: String,
    status: u16,
    body: Value,
}

struct Client {
    service: ScimService,
    tenant: TenantId,
    events: Arc<Mutex<Vec<Event>>>,
    log: Mutex<Vec<Exchange>>,
}

struct Reply {
    status: u16,
    body: Value,
}

impl Client {
    fn new(config: ScimSettings) -> Self {
        Self::on(Arc::new(MemoryStore::new()), config)
    }

    fn on(store: Arc<dyn Store>, config: ScimSettings) -> Self {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        Self {
            service: ScimService::new(store, Arc::new(RandomIds::new()))
                .with_config(config)
                .with_events(Arc::new(move |e: &[Event]| {
                    sink.lock().unwrap().extend_from_slice(e)
                })),
            tenant: TenantId::new("contoso").unwrap(),
            events,
            log: Mutex::new(Vec::new()),
        }
    }

    fn raw(&self, method: &str, path_and_query: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let ctx = RequestContext {
            tenant: &self.tenant,
            base_url: "https://app.example.com/scim/v2",
            now: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
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
        let body: Value = if r.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&r.body).unwrap()
        };
        if r.status < 300 && !body.is_null() {
            let problems = response_problems(
                &self.discovery("/Schemas"),
                &self.discovery("/ResourceTypes"),
                &body,
            );
            assert!(problems.is_empty(), "{method} {path_and_query}: {problems:#?}");
        }
        self.log.lock().unwrap().push(Exchange {
            method: method.to_owned(),
            path: path.to_owned(),
            status: r.status,
            body: body.clone(),
        });
        Reply {
            status: r.status,
            body,
        }
    }

    fn discovery(&self, path: &str) -> Value {
        let ctx = RequestContext {
            tenant: &self.tenant,
            base_url: "https://app.example.com/scim/v2",
            now: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        };
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
    }

    fn send(&self, method: &str, path: &str, body: &Value) -> Reply {
        self.raw(
            method,
            path,
            &[("Content-Type", "application/scim+json")],
            body.to_string().as_bytes(),
        )
    }

    fn patch(&self, path: &str, ops: Value) -> Reply {
        self.send("PATCH", path, &json!({"schemas": [PATCH_OP], "Operations": ops}))
    }

    fn create_user(&self, name: &str) -> String {
        let r = self.send(
            "POST",
            "/Users",
            &json!({"schemas": [USER], "userName": name, "active": true}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }

    fn events(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

fn query(filter: &str) -> String {
    // The `percent-encoding` crate; every byte but ASCII letters and digits escaped.
    format!(
        "filter={}",
        percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC)
    )
}

// ------------------------------------------------------------------ schema URN tolerance

/// Microsoft Entra ID's documented Create Group request (learn.microsoft.com, "Tutorial:
/// Develop and plan provisioning for a SCIM endpoint", "Create Group").
fn entra_create_group_body() -> Value {
    json!({
        "schemas": [GROUP, ADSCIM_GROUP],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "displayName",
        "meta": {"resourceType": "Group"}
    })
}

fn entra_group_flow(c: &Client) {
    let r = c.send("POST", "/Groups", &entra_create_group_body());
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["schemas"], json!([GROUP]), "the ignored URN is not stored");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let ignored: Vec<Event> = c
        .events()
        .into_iter()
        .filter(|e| matches!(e, Event::SchemaIgnored { .. }))
        .collect();
    assert_eq!(ignored.len(), 1);
    let Event::SchemaIgnored { urns, id: eid, .. } = &ignored[0] else {
        unreachable!()
    };
    assert_eq!(
        (urns.as_slice(), eid.as_str()),
        ([ADSCIM_GROUP.to_owned()].as_slice(), id.as_str())
    );
    // A PUT with the same schemas is accepted too.
    let r = c.send("PUT", &format!("/Groups/{id}"), &entra_create_group_body());
    assert_eq!(r.status, 200, "{}", r.body);
    // Attributes under the URN are refused, naming the URN and the fix.
    let mut body = entra_create_group_body();
    body[ADSCIM_GROUP] = json!({"objectId": "x"});
    let r = c.send("POST", "/Groups", &body);
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue"))
    );
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains(ADSCIM_GROUP) && detail.contains("register it as an extension"),
        "{detail}"
    );
}

#[test]
fn entra_create_group_with_the_adscim_urn_is_accepted_and_reported() {
    entra_group_flow(&Client::new(ScimSettings::default()));
}

#[test]
fn strict_profile_refuses_an_undefined_schemas_entry() {
    for config in [
        ScimSettings::strict(),
        ScimSettings::default().with_undefined_schemas(UndefinedSchemas::Reject),
    ] {
        let c = Client::new(config);
        let r = c.send("POST", "/Groups", &entra_create_group_body());
        assert_eq!(
            (r.status, r.body["scimType"].as_str()),
            (400, Some("invalidValue")),
            "{}",
            r.body
        );
        assert!(r.body["detail"].as_str().unwrap().contains(ADSCIM_GROUP));
    }
}

// ------------------------------------------------------------------ PATCH as IdPs send it

fn patch_forms_flow(c: &Client) {
    let id = c.create_user("adele.vance@contoso.com");
    let path = format!("/Users/{id}");
    // Entra: add on phoneNumbers[type eq "mobile"].value for a user without phones; replace on
    // addresses[type eq "work"].formatted for a user without a work address; JumpCloud:
    // emails[type eq "work"].value for a user without a work email; an extension object
    // value carrying "schemas". One request: all or nothing.
    let r = c.patch(
        &path,
        json!([
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 425 555 0100"},
            {"op": "Replace", "path": "addresses[type eq \"work\"].formatted", "value": "1 Microsoft Way\nRedmond, WA 98052"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "adele.vance@contoso.com"},
            {"op": "add", "path": ENTERPRISE, "value": {"schemas": [ENTERPRISE], "department": "Retail"}},
            {"op": "add", "path": "addresses[type eq \"work\"].primary", "value": true}
        ]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 425 555 0100"}])
    );
    assert_eq!(
        r.body["addresses"],
        json!([{"type": "work", "formatted": "1 Microsoft Way\nRedmond, WA 98052", "primary": true}])
    );
    assert_eq!(
        r.body["emails"],
        json!([{"type": "work", "value": "adele.vance@contoso.com"}])
    );
    assert_eq!(r.body[ENTERPRISE], json!({"department": "Retail"}));
    // Okta and Entra send members[].display: kept, and published.
    let g = c.send(
        "POST",
        "/Groups",
        &json!({"schemas": [GROUP], "displayName": "Retail", "members": [{"value": id, "display": "Adele Vance"}]}),
    );
    assert_eq!(g.status, 201, "{}", g.body);
    assert_eq!(g.body["members"][0]["display"], "Adele Vance");
    let u = c.raw("GET", &path, &[], b"");
    assert_eq!(u.body["groups"][0]["display"], "Retail");
}

#[test]
fn idp_patch_forms_work_in_the_default_profile() {
    patch_forms_flow(&Client::new(ScimSettings::default()));
}

#[test]
fn strict_profile_answers_no_target_for_an_unmatched_replace_but_adds_on_add() {
    let c = Client::new(ScimSettings::strict());
    let id = c.create_user("adele.vance@contoso.com");
    let path = format!("/Users/{id}");
    let r = c.patch(
        &path,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].formatted", "value": "x"}]),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("noTarget")),
        "{}",
        r.body
    );
    // RFC 7644 §3.5.2.1 holds in strict mode too.
    let r = c.patch(
        &path,
        json!([{"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 425 555 0100"}]),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 425 555 0100"}])
    );
}

// ------------------------------------------------------------------ input hygiene

fn hygiene_flow(c: &Client) {
    // Duplicate member names: 400 invalidSyntax naming the member.
    let r = c.raw(
        "POST",
        "/Users",
        &[],
        format!(r#"{{"schemas": ["{USER}"], "userName": "a@contoso.com", "userName": "b@contoso.com"}}"#)
            .as_bytes(),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidSyntax")),
        "{}",
        r.body
    );
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("\"userName\" appears twice"));
    // Also inside a PATCH and a bulk request.
    let id = c.create_user("dup@contoso.com");
    let r = c.raw(
        "PATCH",
        &format!("/Users/{id}"),
        &[],
        format!(r#"{{"schemas": ["{PATCH_OP}"], "Operations": [{{"op": "replace", "path": "title", "value": "a", "value": "b"}}]}}"#).as_bytes(),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidSyntax")),
        "{}",
        r.body
    );
    let r = c.raw(
        "POST",
        "/Bulk",
        &[],
        br#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [], "Operations": []}"#,
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidSyntax")),
        "{}",
        r.body
    );

    // Control characters: 400 invalidValue, in POST, PUT and PATCH alike.
    let r = c.send(
        "POST",
        "/Users",
        &json!({"schemas": [USER], "userName": "nul\u{0}@contoso.com"}),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{}",
        r.body
    );
    assert!(r.body["detail"].as_str().unwrap().contains("U+0000"));
    let r = c.send(
        "PUT",
        &format!("/Users/{id}"),
        &json!({"schemas": [USER], "userName": "dup@contoso.com", "title": "a\u{1b}[31m"}),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{}",
        r.body
    );
    let r = c.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "displayName", "value": "two\nlines"}]),
    );
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{}",
        r.body
    );

    // Content-Type of writes.
    let body = json!({"schemas": [USER], "userName": "ct@contoso.com"}).to_string();
    for bad in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/scim+json; charset=iso-8859-1",
    ] {
        let r = c.raw("POST", "/Users", &[("Content-Type", bad)], body.as_bytes());
        assert_eq!(r.status, 415, "{bad}: {}", r.body);
        assert_eq!(
            r.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert!(r.body["detail"]
            .as_str()
            .unwrap()
            .contains("application/scim+json"));
    }
    for (i, good) in [
        "application/scim+json",
        "application/json",
        "Application/JSON; charset=UTF-8",
        "application/scim+json;charset=utf-8",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"schemas": [USER], "userName": format!("ct{i}@contoso.com")}).to_string();
        let r = c.raw("POST", "/Users", &[("Content-Type", good)], body.as_bytes());
        assert_eq!(r.status, 201, "{good}: {}", r.body);
    }
    // No Content-Type: read as JSON (documented).
    let r = c.raw(
        "POST",
        "/Users",
        &[],
        json!({"schemas": [USER], "userName": "noct@contoso.com"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // A GET's Content-Type is not looked at.
    assert_eq!(
        c.raw("GET", "/Users", &[("Content-Type", "text/plain")], b"")
            .status,
        200
    );

    // Accept.
    for bad in [
        "text/html",
        "application/xml, text/*",
        "application/scim+json;q=0, application/json;q=0",
        "application/*;q=0",
    ] {
        let r = c.raw("GET", "/Users", &[("Accept", bad)], b"");
        assert_eq!(r.status, 406, "{bad}: {}", r.body);
        assert_eq!(
            r.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    for good in [
        "application/scim+json",
        "application/json",
        "*/*",
        "application/*",
        "text/html, */*;q=0.1",
        "application/scim+json;q=0, application/json",
        "application/xml;q=0.9, application/*;q=0.2",
    ] {
        assert_eq!(
            c.raw("GET", "/Users", &[("Accept", good)], b"").status,
            200,
            "{good}"
        );
    }
}

#[test]
fn input_hygiene_statuses() {
    hygiene_flow(&Client::new(ScimSettings::default()));
}

// ------------------------------------------------------------------ Unicode

/// userName uniqueness and `eq` use one rule on every store: text is NFC-normalized when it
/// is read (bodies and filter literals), then compared with Unicode lowercase mapping
/// (caseExact false); full case folding is not applied (`STRASSE` ≠ `straße`).
fn unicode_flow(c: &Client) {
    let nfc = "Jos\u{e9}@contoso.com";
    let nfd = "Jose\u{301}@contoso.com";
    let r = c.send("POST", "/Users", &json!({"schemas": [USER], "userName": nfd}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["userName"], nfc, "stored in NFC");
    let id = r.body["id"].as_str().unwrap().to_owned();
    for clash in [nfc, nfd, "JOS\u{c9}@CONTOSO.COM", "JOSE\u{301}@contoso.com"] {
        let r = c.send("POST", "/Users", &json!({"schemas": [USER], "userName": clash}));
        assert_eq!(
            (r.status, r.body["scimType"].as_str()),
            (409, Some("uniqueness")),
            "{clash:?}"
        );
    }
    for literal in [nfc, nfd, "jos\u{e9}@CONTOSO.com", "JOSE\u{301}@CONTOSO.COM"] {
        let r = c.raw(
            "GET",
            &format!("/Users?{}", query(&format!("userName eq \"{literal}\""))),
            &[],
            b"",
        );
        assert_eq!(r.body["totalResults"], 1, "{literal:?}");
        assert_eq!(r.body["Resources"][0]["id"], id.as_str());
    }
    // Not full case folding: ß and SS are different user names.
    c.create_user("stra\u{df}e@contoso.com");
    c.create_user("STRASSE@contoso.com");
    let r = c.raw(
        "GET",
        &format!("/Users?{}", query("userName eq \"strasse@contoso.com\"")),
        &[],
        b"",
    );
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["userName"], "STRASSE@contoso.com");
}

#[test]
fn unicode_user_names_memory_store() {
    unicode_flow(&Client::new(ScimSettings::default()));
}

// ------------------------------------------------------------------ a third-party validator

/// Every answer of the flows above, validated by scim2-models (PyPI, pinned in
/// `.ci/install-deps`) in strict mode against models built from the service's own /Schemas
/// and /ResourceTypes. Needs `target/scim-venv` (or `FEDKIT_SCIM_PYTHON`); without it the
/// test says so and passes, unless `FEDKIT_REQUIRE_INTEROP=1`, when it fails.
#[test]
fn scim2_models_accepts_every_answer() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python =
        std::env::var("FEDKIT_SCIM_PYTHON").unwrap_or_else(|_| format!("{root}/target/scim-venv/bin/python"));
    let required = std::env::var("FEDKIT_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
    let probe = std::process::Command::new(&python)
        .args(["-c", "import scim2_models"])
        .output();
    if !probe.as_ref().is_ok_and(|o| o.status.success()) {
        let why = match &probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
            Err(e) => e.to_string(),
        };
        assert!(
            !required,
            "FEDKIT_REQUIRE_INTEROP=1 but scim2-models is not available through {python}: {why}; run .ci/install-deps"
        );
        eprintln!("SKIPPED: scim2-models is not installed ({python}: {why}); run .ci/install-deps");
        return;
    }
    let c = Client::new(ScimSettings::default());
    entra_group_flow(&c);
    patch_forms_flow(&c);
    hygiene_flow(&c);
    unicode_flow(&c);
    // Reads of everything, with and without projection.
    for q in [
        "",
        "?count=2&startIndex=2",
        "?attributes=userName,emails",
        "?excludedAttributes=groups",
    ] {
        c.raw("GET", &format!("/Users{q}"), &[], b"");
        c.raw("GET", &format!("/Groups{q}"), &[], b"");
    }
    let exchanges: Vec<Value> = c
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.status < 300 && !e.body.is_null())
        .map(|e| json!({"method": e.method, "path": e.path, "status": e.status, "body": e.body}))
        .collect();
    assert!(exchanges.len() > 30, "{}", exchanges.len());
    let doc = json!({
        "schemas": c.discovery("/Schemas"),
        "resourceTypes": c.discovery("/ResourceTypes"),
        "exchanges": exchanges,
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exchanges.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scim2_models_check.py");
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scim2-models refused answers:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}
