//! `fedkit scim filter`: ids of matching resources, SCIM Error documents on failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Run, TempDir};
use serde_json::{json, Value};

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const MANDY: &str = "902c246b-6245-4190-8e05-00816be7344a";
const JSMITH: &str = "c75ad752-64ae-4823-840d-ffa80929976c";

fn data(name: &str) -> String {
    common::data_file("tests/data/scim", name)
}

fn fedkit(args: &[&str]) -> Run {
    common::fedkit(args, None)
}

fn ids(filter: &str) -> Value {
    let run = fedkit(&["scim", "filter", "--filter", filter, &data("users.json")]);
    assert_eq!(run.code, 0, "{filter}: {}{}", run.stdout, run.stderr);
    run.json()
}

#[test]
fn matching_ids_in_input_order() {
    assert_eq!(ids(r#"userName eq "BJENSEN@example.com""#), json!([BABS]));
    assert_eq!(ids("active eq true"), json!([BABS, JSMITH]));
    assert_eq!(ids(r#"userName ew "@example.com""#), json!([BABS, MANDY]));
    assert_eq!(ids(r#"userName eq "nobody""#), json!([]));
    // The value filter binds both conditions to one element: Mandy's example.com address is
    // her work one, her home one is example.org.
    assert_eq!(
        ids(r#"emails[type eq "work" and value ew "@example.com"]"#),
        json!([BABS, MANDY])
    );
    assert_eq!(
        ids(r#"emails[type eq "home" and value ew "@example.com"]"#),
        json!([])
    );
    // Implicit "value" sub-attribute and case-insensitive keywords and names.
    assert_eq!(
        ids(r#"EMAILS CO "jensen.ORG" Or NAME.GIVENNAME Sw "man""#),
        json!([BABS, MANDY])
    );
    // 2012-03-01T10:00:00+02:00 is 08:00Z.
    assert_eq!(ids(r#"meta.created gt "2012-03-01T08:00:00Z""#), json!([]));
    assert_eq!(ids(r#"meta.created ge "2012-03-01T08:00:00Z""#), json!([MANDY]));
    assert_eq!(
        ids(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr and not (active eq false)"#
        ),
        json!([BABS])
    );
}

#[test]
fn group_schema() {
    let run = fedkit(&[
        "scim",
        "filter",
        "--schema",
        "group",
        "--filter",
        &format!(r#"members[value eq "{JSMITH}"] or displayName sw "tour""#),
        &data("groups.json"),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json(),
        json!([
            "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "fc348aa8-3835-40eb-a20b-c726e15c55b5"
        ])
    );
    // With the User schema, displayName of a Group is still a string attribute, but members is unknown.
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        r#"members[value pr]"#,
        &data("groups.json"),
    ]);
    assert_eq!(run.json(), json!([]));
}

#[test]
fn json_flag_gives_the_same_array() {
    let run = fedkit(&[
        "--json",
        "scim",
        "filter",
        "--filter",
        "active eq false",
        &data("users.json"),
    ]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json(), json!([MANDY]));
}

fn assert_scim_error(run: &Run, scim_type: Option<&str>, detail_contains: &str) {
    let detail = common::assert_scim_error(run, scim_type);
    assert!(detail.contains(detail_contains), "{detail}");
}

#[test]
fn invalid_filter_prints_the_scim_error_document() {
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        r#"userName eq bjensen"#,
        &data("users.json"),
    ]);
    assert_scim_error(&run, Some("invalidFilter"), "at byte 12");
    assert!(run.stderr.contains("invalid_filter"), "{}", run.stderr);

    let run = fedkit(&[
        "--json",
        "scim",
        "filter",
        "--filter",
        "(userName pr",
        &data("users.json"),
    ]);
    assert_scim_error(&run, Some("invalidFilter"), "\")\"");

    // Parses, but does not fit the schema: ordering on a boolean.
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        "active gt false",
        &data("users.json"),
    ]);
    assert_scim_error(&run, Some("invalidFilter"), "booleans only support eq and ne");
}

#[test]
fn bad_input_files() {
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        "userName pr",
        "/nonexistent/users.json",
    ]);
    assert_scim_error(&run, None, "cannot read the file");
    assert!(run.stderr.contains("io_error"));

    let dir = TempDir::new("scim-filter");
    let write = |name: &str, text: &str| dir.write(name, text);
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        "userName pr",
        &write("broken.json", "[{"),
    ]);
    assert_scim_error(&run, Some("invalidSyntax"), "not valid JSON");
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        "userName pr",
        &write("object.json", r#"{"id": "1"}"#),
    ]);
    assert_scim_error(&run, Some("invalidSyntax"), "expected a JSON array");
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        "userName pr",
        &write("noid.json", r#"[{"userName": "x"}]"#),
    ]);
    assert_scim_error(&run, Some("invalidValue"), "no string \"id\"");
    // A resource without an id that does not match is fine.
    let run = fedkit(&[
        "scim",
        "filter",
        "--filter",
        "userName eq \"y\"",
        &write("noid2.json", r#"[{"userName": "x"}]"#),
    ]);
    assert_eq!(run.json(), json!([]));
}

#[test]
fn usage_errors_exit_2() {
    let run = fedkit(&["scim", "filter", &data("users.json")]);
    assert_eq!(run.code, 2);
    let run = fedkit(&[
        "scim",
        "filter",
        "--schema",
        "device",
        "--filter",
        "x pr",
        &data("users.json"),
    ]);
    assert_eq!(run.code, 2);
}
