//! `fedkit scim patch`: the patched resource on success; the SCIM Error document on stdout
//! with exit 1 on failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Run, TempDir};
use serde_json::{json, Value};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Runs `fedkit`; every `scim patch` run prints one JSON document on stdout (`Run::json`
/// panics otherwise).
fn fedkit(args: &[&str]) -> Run {
    let run = common::fedkit(args, None);
    run.json();
    run
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [{"value": "babs@jensen.org", "type": "home"}]
    })
}

fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [{"value": "2819c223-7f76-453a-919d-413861904646"}]
    })
}

fn ops(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

fn run_patch(resource: &Value, patch: &Value, extra: &[&str]) -> Run {
    let dir = TempDir::new("scim-patch");
    let r = dir.write_json("resource.json", resource);
    let p = dir.write_json("patch.json", patch);
    let mut args = vec!["scim", "patch", "--resource", &r, "--patch", &p];
    args.extend_from_slice(extra);
    fedkit(&args)
}

/// Asserts a SCIM Error document (RFC 7644 §3.12) with status "400" and this scimType.
fn assert_scim_error(run: &Run, scim_type: &str) {
    common::assert_scim_error(run, Some(scim_type));
}

#[test]
fn entra_deactivation_prints_the_patched_user() {
    let run = run_patch(
        &user(),
        &ops(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut expected = user();
    expected["active"] = json!(false);
    assert_eq!(run.json(), expected);
    assert_eq!(run.stderr, "");
}

#[test]
fn group_type_is_inferred_from_schemas() {
    let run = run_patch(
        &group(),
        &ops(json!([
            {"op": "add", "path": "members", "value": [{"value": "902c246b-6245-4190-8e05-00816be7344a"}]},
            {"op": "replace", "path": "displayName", "value": "Guides"}
        ])),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["displayName"], "Guides");
    assert_eq!(run.json()["members"].as_array().unwrap().len(), 2);
    // The same request read as a User fails: members is not a User attribute.
    let run = run_patch(
        &group(),
        &ops(json!([{"op": "add", "path": "members", "value": [{"value": "x"}]}])),
        &["--schema", "user"],
    );
    assert_scim_error(&run, "invalidPath");
}

#[test]
fn unmatched_filter_is_no_target_and_exits_1() {
    let run = run_patch(
        &user(),
        &ops(json!([
            {"op": "replace", "path": "displayName", "value": "Babs"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.com"}
        ])),
        &[],
    );
    assert_scim_error(&run, "noTarget");
    assert_eq!(
        run.json()["detail"],
        "operation 2 (replace emails[type eq \"work\"].value): no value of emails has type \"work\""
    );
    assert!(
        run.stderr.contains("error: [scim_patch_failed] operation 2"),
        "{}",
        run.stderr
    );
    // --json: stdout is still exactly the SCIM Error document.
    let dir = TempDir::new("scim-patch");
    let r = dir.write_json("resource.json", &user());
    let p = dir.write_json(
        "patch.json",
        &ops(json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "x@y.example"}])),
    );
    let run = fedkit(&["--json", "scim", "patch", "--resource", &r, "--patch", &p]);
    assert_scim_error(&run, "noTarget");
    assert_eq!(run.stderr, "");
}

#[test]
fn create_on_unmatched_filter_flag() {
    let run = run_patch(
        &user(),
        &ops(
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "bjensen@example.com"}]),
        ),
        &["--create-on-unmatched-filter"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}, {"type": "work", "value": "bjensen@example.com"}])
    );
}

#[test]
fn strict_refuses_client_deviations() {
    let patch = ops(json!([{"op": "Replace", "path": "active", "value": false}]));
    let run = run_patch(&user(), &patch, &["--strict"]);
    assert_scim_error(&run, "invalidSyntax");
    assert!(
        run.json()["detail"].as_str().unwrap().contains("in lowercase"),
        "{}",
        run.stdout
    );
}

#[test]
fn mutability_and_invalid_value() {
    let run = run_patch(
        &user(),
        &ops(json!([{"op": "replace", "path": "id", "value": "x"}])),
        &[],
    );
    assert_scim_error(&run, "mutability");
    let run = run_patch(
        &user(),
        &ops(json!([{"op": "replace", "path": "active", "value": "maybe"}])),
        &[],
    );
    assert_scim_error(&run, "invalidValue");
}

#[test]
fn bad_files() {
    // The PATCH body is not JSON.
    let dir = TempDir::new("scim-patch");
    let r = dir.write_json("resource.json", &user());
    let p = dir.write("broken-patch.json", b"{\"schemas\": [");
    let run = fedkit(&["scim", "patch", "--resource", &r, "--patch", &p]);
    assert_scim_error(&run, "invalidSyntax");
    // Not a PatchOp message.
    let p = dir.write_json("not-patchop.json", &json!({"Operations": []}));
    let run = fedkit(&["scim", "patch", "--resource", &r, "--patch", &p]);
    assert_scim_error(&run, "invalidSyntax");
    // The resource is not an object.
    let bad = dir.write_json("array-resource.json", &json!([user()]));
    let p = dir.write_json("patch.json", &ops(json!([{"op": "remove", "path": "title"}])));
    let run = fedkit(&["scim", "patch", "--resource", &bad, "--patch", &p]);
    assert_scim_error(&run, "invalidSyntax");
    assert!(run.stderr.contains("[invalid_json]"), "{}", run.stderr);
    // A missing file: a SCIM Error document too, without scimType.
    let run = fedkit(&[
        "scim",
        "patch",
        "--resource",
        "/nonexistent/r.json",
        "--patch",
        &p,
    ]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["status"], "400");
    assert!(run.json().get("scimType").is_none());
    assert!(run.stderr.contains("[io_error]"), "{}", run.stderr);
}

#[test]
fn missing_arguments_are_usage_errors() {
    let run = common::fedkit(&["scim", "patch", "--resource", "r.json"], None);
    assert_eq!(run.code, 2);
}
