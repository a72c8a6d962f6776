//! Projection, sorting, pagination, ListResponse, SearchRequest and Bulk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use fedkit_scim::bulk::{
    BulkError, BulkIds, BulkLimits, BulkMethod, BulkOperationResult, BulkRequest, BulkResponse,
};
use fedkit_scim::error::{ScimError, ScimType};
use fedkit_scim::filter::{AttrPath, FilterLimits};
use fedkit_scim::list::{
    sort_resources, ListLimits, ListResponse, Pagination, SearchError, SearchRequest, SortOrder, SortSpec,
};
use fedkit_scim::projection::{Projection, ProjectionError};
use fedkit_scim::resource::ResourceSchema;
use fedkit_scim::schema::{
    AttributeDef, AttributeType, Returned, Schema, SchemaRegistry, ENTERPRISE_USER_SCHEMA, USER_SCHEMA,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn read(name: &str) -> Value {
    let path = format!("{}/tests/data/rfc7643/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn project(attributes: Option<&str>, excluded: Option<&str>, resource: &Value) -> Value {
    let registry = SchemaRegistry::core();
    let users = ResourceSchema::new(&registry, "User").unwrap();
    Projection::from_params(attributes, excluded)
        .unwrap()
        .apply(resource, &users)
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

// ------------------------------------------------------------------------------------------
// Projection

#[test]
fn default_projection_drops_password_only() {
    let user = read("8.3-enterprise-user.json");
    let out = project(None, None, &user);
    let mut expected = user.clone();
    expected.as_object_mut().unwrap().remove("password");
    assert_eq!(out, expected);
}

#[test]
fn rfc_7644_attributes_user_name() {
    // RFC 7644 §3.4.2 example: GET /Users?attributes=userName returns id and userName (and, in
    // this implementation, "schemas", whose "returned" is always).
    let out = project(Some("userName"), None, &read("8.2-full-user.json"));
    assert_eq!(
        out,
        json!({"schemas": [USER_SCHEMA], "id": "2819c223-7f76-453a-919d-413861904646", "userName": "bjensen@example.com"})
    );
}

#[test]
fn sub_attributes_and_extensions() {
    let user = read("8.3-enterprise-user.json");
    let out = project(Some("name.familyName,EMAILS.value,meta"), None, &user);
    assert_eq!(out["name"], json!({"familyName": "Jensen"}));
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
    );
    assert_eq!(out["meta"], user["meta"]);
    assert_eq!(keys(&out), ["emails", "id", "meta", "name", "schemas"]);

    let out = project(
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value,userName"),
        None,
        &user,
    );
    assert_eq!(
        out[ENTERPRISE_USER_SCHEMA],
        json!({"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})
    );
    let out = project(Some(ENTERPRISE_USER_SCHEMA), None, &user);
    assert_eq!(out[ENTERPRISE_USER_SCHEMA], user[ENTERPRISE_USER_SCHEMA]);
    assert_eq!(keys(&out), ["id", "schemas", ENTERPRISE_USER_SCHEMA]);

    // A core-schema URN prefix restricts the match to core attributes.
    let out = project(
        Some("urn:ietf:params:scim:schemas:core:2.0:User:displayName"),
        None,
        &user,
    );
    assert_eq!(out["displayName"], "Babs Jensen");
}

#[test]
fn excluded_attributes() {
    let user = read("8.3-enterprise-user.json");
    let out = project(
        None,
        Some("emails,name.givenName,id,  ,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
        &user,
    );
    assert!(out.get("emails").is_none());
    assert!(out.get(ENTERPRISE_USER_SCHEMA).is_none());
    assert_eq!(
        out["id"], user["id"],
        "id is returned always and cannot be excluded"
    );
    assert!(out["name"].get("givenName").is_none());
    assert_eq!(out["name"]["familyName"], "Jensen");
    assert!(out.get("password").is_none());
    assert_eq!(out["phoneNumbers"], user["phoneNumbers"]);
}

#[test]
fn projection_errors_and_unknown_names() {
    assert_eq!(
        Projection::from_params(Some("userName"), Some("emails")),
        Err(ProjectionError::Both)
    );
    let err = Projection::from_params(Some("user name"), None).unwrap_err();
    assert!(matches!(
        err,
        ProjectionError::InvalidPath {
            parameter: "attributes",
            ..
        }
    ));
    let scim: ScimError = err.into();
    assert_eq!(scim.scim_type, Some(ScimType::InvalidValue));
    let many = vec!["userName"; 300].join(",");
    assert!(matches!(
        Projection::from_params(Some(&many), None),
        Err(ProjectionError::TooMany { .. })
    ));
    // Names no schema defines select nothing, but are not an error.
    let out = project(Some("favouriteColour"), None, &read("8.2-full-user.json"));
    assert_eq!(keys(&out), ["id", "schemas"]);
    // Members no schema defines are never returned.
    let mut user = read("8.1-minimal-user.json");
    user["internalNote"] = json!("do not leak");
    assert!(project(None, None, &user).get("internalNote").is_none());
}

#[test]
fn returned_request_and_never_in_custom_schemas() {
    let mut registry = SchemaRegistry::core();
    registry
        .register_schema(
            Schema::new("urn:example:acme:2.0:User", "Acme", "")
                .with_attribute(
                    AttributeDef::new("costs", AttributeType::Integer).returned(Returned::Request),
                )
                .with_attribute(AttributeDef::new("secret", AttributeType::String).returned(Returned::Never))
                .with_attribute(AttributeDef::new("badge", AttributeType::String)),
        )
        .unwrap();
    registry
        .add_extension("User", "urn:example:acme:2.0:User", false)
        .unwrap();
    let users = ResourceSchema::new(&registry, "User").unwrap();
    let user = json!({
        "schemas": [USER_SCHEMA, "urn:example:acme:2.0:User"], "id": "1", "userName": "a",
        "urn:example:acme:2.0:User": {"costs": 3, "secret": "s", "badge": "b"}
    });
    let p = |a: Option<&str>, e: Option<&str>| Projection::from_params(a, e).unwrap().apply(&user, &users);
    assert_eq!(p(None, None)["urn:example:acme:2.0:User"], json!({"badge": "b"}));
    assert_eq!(
        p(Some("costs,secret"), None)["urn:example:acme:2.0:User"],
        json!({"costs": 3})
    );
    assert_eq!(p(None, Some("badge")).get("urn:example:acme:2.0:User"), None);
}

fn arb_names() -> impl Strategy<Value = Vec<String>> {
    let names = prop_oneof![
        Just("password".to_owned()),
        Just("PASSWORD".to_owned()),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:password".to_owned()),
        Just("userName".to_owned()),
        Just("emails.value".to_owned()),
        Just("name".to_owned()),
        Just(ENTERPRISE_USER_SCHEMA.to_owned()),
        Just("id".to_owned()),
        "[a-zA-Z]{1,8}",
    ];
    proptest::collection::vec(names, 0..5)
}

proptest! {
    /// Whatever is asked for or excluded, a returned=never attribute is never in the output,
    /// and returned=always ones always are.
    #[test]
    fn never_attributes_are_never_returned(names in arb_names(), excluded in any::<bool>()) {
        let user = read("8.3-enterprise-user.json");
        let list = names.join(",");
        let (a, e) = if excluded { (None, Some(list.as_str())) } else { (Some(list.as_str()), None) };
        let out = project(a, e, &user);
        let text = out.to_string();
        prop_assert!(!text.contains("t1meMa$heen"));
        prop_assert!(out.get("password").is_none());
        prop_assert_eq!(&out["id"], &user["id"]);
        prop_assert_eq!(&out["schemas"], &user["schemas"]);
    }
}

// ------------------------------------------------------------------------------------------
// Sorting and pagination

fn people() -> Vec<Value> {
    vec![
        json!({"id": "1", "userName": "carol", "name": {"familyName": "Zed"}, "emails": [{"value": "z@x", "primary": false}, {"value": "b@x", "primary": true}], "meta": {"created": "2024-01-01T10:00:00+02:00"}}),
        json!({"id": "2", "userName": "Alice", "emails": [{"value": "c@x"}, {"value": "a@x"}], "meta": {"created": "2024-01-01T09:00:00Z"}}),
        json!({"id": "3", "userName": "bob", "name": {"familyName": "adams"}, "meta": {"created": "2024-01-01T08:30:00Z"}}),
        json!({"id": "4", "userName": "Bob", "name": {"familyName": "Baker"}}),
    ]
}

fn sorted(by: &str, order: SortOrder) -> Vec<String> {
    let registry = SchemaRegistry::core();
    let users = ResourceSchema::new(&registry, "User").unwrap();
    let mut list = people();
    sort_resources(
        &mut list,
        &SortSpec {
            by: AttrPath::parse(by).unwrap(),
            order,
        },
        &users,
    );
    list.iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn sorting() {
    // userName is not caseExact: "Alice" < "bob" = "Bob" < "carol"; stable for ties.
    assert_eq!(sorted("userName", SortOrder::Ascending), ["2", "3", "4", "1"]);
    assert_eq!(sorted("userName", SortOrder::Descending), ["1", "3", "4", "2"]);
    // Missing values sort last in both directions.
    assert_eq!(
        sorted("name.familyName", SortOrder::Ascending),
        ["3", "4", "1", "2"]
    );
    assert_eq!(
        sorted("name.familyName", SortOrder::Descending),
        ["1", "4", "3", "2"]
    );
    // Multi-valued: the primary value, else the first ("b@x" for 1, "c@x" for 2).
    assert_eq!(sorted("emails.value", SortOrder::Ascending), ["1", "2", "3", "4"]);
    assert_eq!(sorted("emails", SortOrder::Ascending), ["1", "2", "3", "4"]);
    // dateTime chronologically across offsets: 10:00+02:00 is 08:00Z.
    assert_eq!(sorted("meta.created", SortOrder::Ascending), ["1", "3", "2", "4"]);
    // id is caseExact; unknown attributes leave the order alone.
    assert_eq!(sorted("nickName", SortOrder::Descending), ["1", "2", "3", "4"]);
    assert_eq!(
        sorted("favouriteColour", SortOrder::Ascending),
        ["1", "2", "3", "4"]
    );
}

#[test]
fn pagination_clamps() {
    let limits = ListLimits::default()
        .with_max_results(50)
        .unwrap()
        .with_default_count(20)
        .unwrap();
    assert_eq!(
        Pagination::new(None, None, &limits),
        Pagination {
            start_index: 1,
            count: 20
        }
    );
    assert_eq!(
        Pagination::new(Some(0), Some(-5), &limits),
        Pagination {
            start_index: 1,
            count: 0
        }
    );
    assert_eq!(
        Pagination::new(Some(-3), Some(1000), &limits),
        Pagination {
            start_index: 1,
            count: 50
        }
    );
    let p = Pagination::new(Some(91), Some(10), &limits);
    assert_eq!(p.range(100), 90..100);
    assert_eq!(p.range(95), 90..95);
    assert_eq!(p.range(10), 10..10);
    assert_eq!(
        Pagination::new(Some(i64::MAX), Some(i64::MAX), &limits).range(3),
        3..3
    );
}

#[test]
fn list_response_document() {
    // RFC 7644 §3.4.2.4: a page of 10 out of 100.
    let page = ListResponse::new(100, 1, (0..10).map(|i| json!({"id": i.to_string()})).collect());
    let doc = page.to_json();
    assert_eq!(
        doc["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(doc["totalResults"], 100);
    assert_eq!(doc["itemsPerPage"], 10);
    assert_eq!(doc["startIndex"], 1);
    assert_eq!(doc["Resources"].as_array().unwrap().len(), 10);
    assert_eq!(ListResponse::new(0, 1, vec![]).to_json()["Resources"], json!([]));
}

fn population() -> Vec<Value> {
    (0..25)
        .map(|i| {
            json!({
                "schemas": [USER_SCHEMA], "id": format!("u{i:02}"), "userName": format!("user{i:02}"),
                "displayName": if i % 2 == 0 { format!("Smith, Ann {i}") } else { format!("Bob Jones {i}") },
                "password": "secret", "active": i % 5 != 0,
            })
        })
        .collect()
}

#[test]
fn search_request_from_rfc_body() {
    // RFC 7644 §3.4.3 example body.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["displayName", "userName"],
        "filter": "displayName sw \"smith\"",
        "startIndex": 1,
        "count": 10
    });
    let req = SearchRequest::from_json(&body, &FilterLimits::default()).unwrap();
    assert_eq!(req.count, Some(10));
    let registry = SchemaRegistry::core();
    let users = ResourceSchema::new(&registry, "User").unwrap();
    let doc = req
        .execute(&population(), &users, &registry, &ListLimits::default())
        .unwrap()
        .to_json();
    assert_eq!(doc["totalResults"], 13);
    assert_eq!(doc["itemsPerPage"], 10);
    for r in doc["Resources"].as_array().unwrap() {
        assert_eq!(keys(r), ["displayName", "id", "schemas", "userName"]);
        assert!(r["displayName"].as_str().unwrap().starts_with("Smith, Ann"));
    }
}

#[test]
fn search_request_from_query_with_sort_and_paging() {
    let req = SearchRequest::from_query([
        ("FILTER", "active eq true"),
        ("sortBy", "userName"),
        ("sortOrder", "DESCENDING"),
        ("startIndex", "3"),
        ("count", "2"),
        ("excludedAttributes", "displayName"),
        ("unrelated", "x"),
    ])
    .unwrap();
    let registry = SchemaRegistry::core();
    let users = ResourceSchema::new(&registry, "User").unwrap();
    let doc = req
        .execute(&population(), &users, &registry, &ListLimits::default())
        .unwrap()
        .to_json();
    assert_eq!(doc["totalResults"], 20);
    assert_eq!(doc["startIndex"], 3);
    let ids: Vec<&str> = doc["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["u22", "u21"]);
    assert!(doc["Resources"][0].get("displayName").is_none());
    assert!(doc["Resources"][0].get("password").is_none());
}

#[test]
fn search_request_errors() {
    let err = SearchRequest::from_query([("filter", "userName eq")]).unwrap_err();
    assert!(matches!(err, SearchError::Filter(_)));
    assert_eq!(ScimError::from(err).scim_type, Some(ScimType::InvalidFilter));
    let err = SearchRequest::from_query([("sortOrder", "up")]).unwrap_err();
    assert_eq!(
        err,
        SearchError::InvalidParameter {
            parameter: "sortOrder",
            value: "up".into(),
            expected: "ascending or descending"
        }
    );
    assert_eq!(ScimError::from(err).scim_type, Some(ScimType::InvalidValue));
    assert!(matches!(
        SearchRequest::from_query([("count", "ten")]),
        Err(SearchError::InvalidParameter {
            parameter: "count",
            ..
        })
    ));
    let err =
        SearchRequest::from_json(&json!({"filter": "userName pr"}), &FilterLimits::default()).unwrap_err();
    assert_eq!(err, SearchError::NotASearchRequest);
    assert_eq!(ScimError::from(err).scim_type, Some(ScimType::InvalidSyntax));
    // A filter that does not fit the schema fails at execution with invalidFilter.
    let req = SearchRequest::from_query([("filter", "active gt true")]).unwrap();
    let registry = SchemaRegistry::core();
    let users = ResourceSchema::new(&registry, "User").unwrap();
    let err = req
        .execute(&population(), &users, &registry, &ListLimits::default())
        .unwrap_err();
    assert_eq!(ScimError::from(err).scim_type, Some(ScimType::InvalidFilter));
}

// ------------------------------------------------------------------------------------------
// Bulk

fn rfc_bulk() -> Value {
    // RFC 7644 §3.7.2: a group whose member is a user created in the same request.
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "qwerty",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:User"], "userName": "Alice"}},
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Group"], "displayName": "Tour Guides",
                      "members": [{"type": "User", "value": "bulkId:qwerty"}]}}
        ]
    })
}

#[test]
fn bulk_request_and_bulk_id_resolution() {
    let req = BulkRequest::from_json(&rfc_bulk(), &BulkLimits::default()).unwrap();
    assert_eq!(req.operations.len(), 2);
    assert_eq!(req.operations[0].method, BulkMethod::Post);
    assert_eq!(req.operations[1].references(), ["qwerty"]);
    assert_eq!(req.execution_order().unwrap(), [0, 1]);
    let mut ids = BulkIds::new();
    assert_eq!(
        ids.resolve_data(req.operations[1].data.as_ref().unwrap())
            .unwrap_err(),
        BulkError::UnresolvedBulkId {
            bulk_id: "qwerty".into()
        }
    );
    ids.insert("qwerty", "92b725cd-9465-4e7d-8c16-01f8e146b87a");
    let data = ids
        .resolve_data(req.operations[1].data.as_ref().unwrap())
        .unwrap();
    assert_eq!(
        data["members"][0]["value"],
        "92b725cd-9465-4e7d-8c16-01f8e146b87a"
    );
    assert_eq!(
        ids.resolve_path("/Groups/bulkId:qwerty").unwrap(),
        "/Groups/92b725cd-9465-4e7d-8c16-01f8e146b87a"
    );
    assert_eq!(ids.resolve_path("/Groups/abc").unwrap(), "/Groups/abc");
}

#[test]
fn bulk_circular_references_are_refused() {
    // RFC 7644 §3.7.1: two groups that are members of each other.
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "qwerty",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Group A",
                      "members": [{"type": "Group", "value": "bulkId:ytrewq"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Group B",
                      "members": [{"type": "Group", "value": "bulkId:qwerty"}]}}
        ]
    });
    let req = BulkRequest::from_json(&body, &BulkLimits::default()).unwrap();
    let err = req.execution_order().unwrap_err();
    assert_eq!(
        err,
        BulkError::CircularReference {
            bulk_ids: vec!["qwerty".into(), "ytrewq".into()]
        }
    );
    assert_eq!(ScimError::from(err).status, 409);
}

#[test]
fn bulk_request_checks() {
    let limits = BulkLimits::default();
    let with_ops = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
    let err = |ops: Value| BulkRequest::from_json(&with_ops(ops), &limits).unwrap_err();
    assert!(matches!(
        err(json!([{"method": "GET", "path": "/Users"}])),
        BulkError::InvalidOperation { index: 0, .. }
    ));
    assert!(matches!(
        err(json!([{"method": "POST", "path": "/Users", "data": {}}])),
        BulkError::InvalidOperation { .. }
    ));
    assert!(matches!(
        err(json!([{"method": "PUT", "path": "/Users/1"}])),
        BulkError::InvalidOperation { .. }
    ));
    assert!(matches!(
        err(json!([{"method": "DELETE", "path": "Users/1"}])),
        BulkError::InvalidOperation { .. }
    ));
    assert_eq!(
        err(json!([{"method": "DELETE", "path": "/Users/bulkId:nope"}])),
        BulkError::UnknownBulkId {
            index: 0,
            bulk_id: "nope".into()
        }
    );
    assert_eq!(
        err(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "x"}},
            {"method": "post", "path": "/Users", "bulkId": "a", "data": {"userName": "y"}}
        ])),
        BulkError::DuplicateBulkId { bulk_id: "a".into() }
    );
    let ok = BulkRequest::from_json(
        &with_ops(json!([{"Method": "delete", "PATH": "/Users/1"}])),
        &limits,
    )
    .unwrap();
    assert_eq!(ok.operations[0].method, BulkMethod::Delete);

    let small = BulkLimits::default()
        .with_max_operations(1)
        .unwrap()
        .with_max_payload_size(100)
        .unwrap();
    let two =
        with_ops(json!([{"method": "DELETE", "path": "/Users/1"}, {"method": "DELETE", "path": "/Users/2"}]));
    assert_eq!(
        BulkRequest::from_json(&two, &small).unwrap_err(),
        BulkError::TooManyOperations { max: 1, actual: 2 }
    );
    let bytes = serde_json::to_vec(&rfc_bulk()).unwrap();
    assert!(matches!(
        BulkRequest::parse(&bytes, &small),
        Err(BulkError::TooLarge { max: 100, .. })
    ));
    assert_eq!(
        ScimError::from(BulkError::TooLarge { max: 1, actual: 2 }).status,
        413
    );
    assert!(matches!(
        BulkRequest::parse(b"{", &limits),
        Err(BulkError::InvalidJson { .. })
    ));
    assert_eq!(
        BulkRequest::from_json(&json!({"Operations": []}), &limits).unwrap_err(),
        BulkError::NotABulkRequest
    );

    let mut fail = with_ops(json!([]));
    fail["failOnErrors"] = json!(2);
    let req = BulkRequest::from_json(&fail, &limits).unwrap();
    assert!(!req.should_stop(1));
    assert!(req.should_stop(2));
    fail["failOnErrors"] = json!(0);
    assert!(BulkRequest::from_json(&fail, &limits).is_err());
}

#[test]
fn bulk_response_document() {
    let req = BulkRequest::from_json(&rfc_bulk(), &BulkLimits::default()).unwrap();
    let ok = BulkOperationResult::success(
        &req.operations[0],
        201,
        Some("https://example.com/v2/Users/92b725cd".into()),
        Some("W/\"oY4m4wn58tkVjJxK\"".into()),
    );
    let err = ScimError::new(409, None, "bulkId qwerty could not be resolved");
    let failed = BulkOperationResult::failure(&req.operations[1], &err);
    let doc = BulkResponse {
        operations: vec![ok, failed],
    }
    .to_json();
    assert_eq!(
        doc["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    assert_eq!(
        doc["Operations"][0],
        json!({"method": "POST", "bulkId": "qwerty", "version": "W/\"oY4m4wn58tkVjJxK\"",
               "location": "https://example.com/v2/Users/92b725cd", "status": "201"})
    );
    assert_eq!(doc["Operations"][1]["status"], "409");
    assert_eq!(doc["Operations"][1]["response"]["status"], "409");
}
