//! Real IdP metadata: the 59 documents of `idp-metadata/` in the conformance vectors (python3-saml,
//! ruby-saml and crewjam/saml test data), each judged against this repository's own
//! expectations in `tests/data/idp-metadata-expectations.json`.
//!
//! For every document and every entity in it the expectations say `imported` (with the number
//! of signing keys and the warning codes) or the error code, with a one-line reason for every
//! refusal. The run fails on any difference: an unexpected import as much as an unexpected
//! refusal, a missing or extra entity, a document or expectation the other does not list. The
//! vectors are read in place (from `FEDKIT_VECTORS`, `../shared/vectors` or the cache of
//! `bash scripts/vectors.sh`); a missing file or one whose SHA-256 differs from the manifest is
//! a failure, never a skip. Dates are fixed (`now` of the file, or of one check), so verdicts
//! that depend on `validUntil` or certificate expiry never change with the calendar.
//!
//! `FEDKIT_PRINT_OBSERVED=1` prints what fedkit concluded for each check, as JSON, to help
//! write expectations (which must still be decided by reading the document).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use fedkit_metadata::{ImportSettings, Metadata, SignaturePolicy};
use serde::Deserialize;
use sha2::Digest as _;

/// The lookup shared with the `fedkit-conformance` tests (`FEDKIT_VECTORS`, then
/// `../shared/vectors`, then the cache of `scripts/vectors.sh`), included as a file so that this
/// published crate does not depend on the unpublished one.
#[path = "../../../tests/src/vectors.rs"]
#[allow(dead_code, unreachable_pub)]
mod vectors;

/// `<vectors root>/idp-metadata`; fails with one line saying where it looked and what to run
/// when there are no vectors (never a skip).
fn vectors_dir() -> PathBuf {
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match vectors::locate(&workspace_root) {
        Ok(found) => found.dir.join("idp-metadata"),
        Err(missing) => panic!("{missing}"),
    }
}

#[derive(Deserialize)]
struct Manifest {
    cases: Vec<ManifestCase>,
}

#[derive(Deserialize)]
struct ManifestCase {
    file: String,
    sha256: String,
    entities: Vec<ManifestEntity>,
}

#[derive(Deserialize)]
struct ManifestEntity {
    entity_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectations {
    source: String,
    /// The instant every check runs at unless it names its own.
    now: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    /// What the document is, in a few words (for people reading the file).
    about: String,
    checks: Vec<Check>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Check {
    /// Overrides the file's `now` (a document judged before its `validUntil`).
    #[serde(default)]
    now: Option<String>,
    /// `Metadata::parse` refuses the whole document with this code.
    #[serde(default)]
    refused: Option<String>,
    /// Why (required with `refused`).
    #[serde(default)]
    reason: Option<String>,
    /// A string the refusal's message must contain.
    #[serde(default)]
    message_contains: Option<String>,
    /// Otherwise: every entity of the document, in document order.
    #[serde(default)]
    entities: Option<Vec<EntityExpect>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityExpect {
    entity_id: String,
    /// `imported`, or the error code of `Metadata::idp`.
    expect: String,
    /// For refusals: why, in one line.
    #[serde(default)]
    reason: Option<String>,
    /// For refusals: a string the error message must contain.
    #[serde(default)]
    message_contains: Option<String>,
    /// For imports: how many distinct signing keys.
    #[serde(default)]
    signing_keys: Option<usize>,
    /// For imports: the warning codes, in order.
    #[serde(default)]
    warnings: Option<Vec<String>>,
}

fn at(t: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t)
        .unwrap_or_else(|e| panic!("{t:?} is not an RFC 3339 instant: {e}"))
        .to_utc()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(64);
    for b in sha2::Sha256::digest(bytes) {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn load_manifest() -> Manifest {
    let path = vectors_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "conformance data missing: cannot read {} ({e}); the vectors folder is incomplete \
             (a missing vector is a failure, never a skip): run `bash scripts/vectors.sh`, or \
             check FEDKIT_VECTORS / ../shared/vectors",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_expectations() -> Expectations {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/idp-metadata-expectations.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let parsed: Expectations =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(parsed.source, "idp-metadata");
    parsed
}

/// Reads a vector, failing when it is missing or its SHA-256 is not the manifest's.
fn read_vector(case: &ManifestCase) -> Vec<u8> {
    let path = vectors_dir().join(&case.file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "conformance data missing: {} ({e}); a missing vector is a failure",
            path.display()
        )
    });
    let actual = sha256_hex(&bytes);
    assert!(
        actual.eq_ignore_ascii_case(&case.sha256),
        "{}: SHA-256 is {actual} but the manifest says {}: the vector was modified",
        case.file,
        case.sha256
    );
    bytes
}

/// What fedkit concluded for one entity.
fn observe_entity(metadata: &Metadata, id: &str, now: DateTime<Utc>) -> serde_json::Value {
    match metadata.idp(id, now) {
        Ok(idp) => serde_json::json!({
            "entity_id": id,
            "expect": "imported",
            "signing_keys": idp.signing_keys().keys().len(),
            "warnings": idp.warnings().iter().map(|w| w.code()).collect::<Vec<_>>(),
        }),
        Err(e) => serde_json::json!({
            "entity_id": id,
            "expect": e.code(),
            "message": e.to_string(),
        }),
    }
}

/// Runs one check; returns the differences.
fn run_check(file: &str, xml: &[u8], check: &Check, default_now: &str, print: bool) -> Vec<String> {
    let now = at(check.now.as_deref().unwrap_or(default_now));
    let options = ImportSettings::new(SignaturePolicy::NotRequired);
    let label = format!("{file} at {}", now.to_rfc3339());
    let mut problems = Vec::new();
    let parsed = Metadata::parse(xml, &options, now);
    if print {
        let observed = match &parsed {
            Err(e) => serde_json::json!({"refused": e.code(), "message": e.to_string()}),
            Ok(m) => serde_json::json!({
                "entities": m.entity_ids().map(|id| observe_entity(m, id, now)).collect::<Vec<_>>()
            }),
        };
        println!(
            "OBSERVED {label}: {}",
            serde_json::to_string_pretty(&observed).unwrap()
        );
    }
    match (&parsed, &check.refused, &check.entities) {
        (_, Some(_), Some(_)) | (_, None, None) => {
            problems.push(format!("{label}: a check has either `refused` or `entities`"));
        }
        (Err(e), Some(code), None) => {
            if e.code() != code {
                problems.push(format!(
                    "{label}: refused with {} ({e}), expected {code}",
                    e.code()
                ));
            }
            if check.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                problems.push(format!("{label}: the expected refusal has no reason"));
            }
            if let Some(needle) = &check.message_contains {
                if !e.to_string().contains(needle.as_str()) {
                    problems.push(format!("{label}: the message {e:?} does not contain {needle:?}"));
                }
            }
        }
        (Ok(_), Some(code), None) => {
            problems.push(format!(
                "{label}: UNEXPECTED PASS: the document loads, expected {code}"
            ));
        }
        (Err(e), None, Some(_)) => {
            problems.push(format!(
                "{label}: UNEXPECTED REFUSAL of the document: {} ({e})",
                e.code()
            ));
        }
        (Ok(metadata), None, Some(expected)) => {
            let ids: Vec<&str> = metadata.entity_ids().collect();
            let listed: Vec<&str> = expected.iter().map(|e| e.entity_id.as_str()).collect();
            if ids != listed {
                problems.push(format!(
                    "{label}: the document's entities are {ids:?}, the expectations list {listed:?}"
                ));
            }
            for exp in expected {
                problems.extend(
                    check_entity(metadata, exp, now)
                        .into_iter()
                        .map(|p| format!("{label}: {}: {p}", exp.entity_id)),
                );
            }
        }
    }
    problems
}

fn check_entity(metadata: &Metadata, exp: &EntityExpect, now: DateTime<Utc>) -> Vec<String> {
    let mut problems = Vec::new();
    match (metadata.idp(&exp.entity_id, now), exp.expect.as_str()) {
        (Ok(idp), "imported") => {
            if exp.reason.is_some() || exp.message_contains.is_some() {
                problems.push("an import has no `reason` or `message_contains`".to_owned());
            }
            let keys = idp.signing_keys().keys().len();
            match exp.signing_keys {
                Some(n) if n == keys => {}
                Some(n) => problems.push(format!("{keys} signing key(s), expected {n}")),
                None => problems.push("an expected import must state `signing_keys`".to_owned()),
            }
            let codes: Vec<&str> = idp.warnings().iter().map(|w| w.code()).collect();
            match &exp.warnings {
                Some(w) if *w == codes => {}
                Some(w) => problems.push(format!(
                    "warnings {codes:?}, expected {w:?}: {:?}",
                    idp.warnings().iter().map(ToString::to_string).collect::<Vec<_>>()
                )),
                None => problems.push("an expected import must state `warnings`".to_owned()),
            }
            // Whatever is imported is usable: SSO endpoints, https only, signing keys.
            if idp.sso().is_empty() || idp.signing_keys().keys().is_empty() {
                problems.push("imported without an SSO endpoint or signing key".to_owned());
            }
        }
        (Ok(_), code) => problems.push(format!("UNEXPECTED IMPORT, expected {code}")),
        (Err(e), "imported") => problems.push(format!("UNEXPECTED REFUSAL: {} ({e})", e.code())),
        (Err(e), code) => {
            if e.code() != code {
                problems.push(format!("refused with {} ({e}), expected {code}", e.code()));
            }
            if exp.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                problems.push("an expected refusal needs a one-line `reason`".to_owned());
            }
            if exp.signing_keys.is_some() || exp.warnings.is_some() {
                problems.push("a refusal has no `signing_keys` or `warnings`".to_owned());
            }
            if let Some(needle) = &exp.message_contains {
                if !e.to_string().contains(needle.as_str()) {
                    problems.push(format!(
                        "the message {:?} does not contain {needle:?}",
                        e.to_string()
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn idp_metadata_vectors_match_the_expectations() {
    let manifest = load_manifest();
    let expectations = load_expectations();
    let print = std::env::var_os("FEDKIT_PRINT_OBSERVED").is_some();
    let manifest_files: BTreeSet<&str> = manifest.cases.iter().map(|c| c.file.as_str()).collect();
    let expected_files: BTreeSet<&str> = expectations.cases.iter().map(|c| c.file.as_str()).collect();
    assert_eq!(
        manifest.cases.len(),
        59,
        "the manifest lists {} documents; this harness was written for 59",
        manifest.cases.len()
    );
    assert_eq!(
        manifest_files, expected_files,
        "the manifest and tests/data/idp-metadata-expectations.json list different documents"
    );
    assert_eq!(
        expected_files.len(),
        expectations.cases.len(),
        "a document is listed twice"
    );
    let mut problems = Vec::new();
    let (mut imported, mut refused) = (0usize, 0usize);
    for case in &manifest.cases {
        let xml = read_vector(case);
        let Some(expected) = expectations.cases.iter().find(|c| c.file == case.file) else {
            continue;
        };
        if expected.about.trim().is_empty() || expected.checks.is_empty() {
            problems.push(format!("{}: needs `about` and at least one check", case.file));
        }
        // Every entity the manifest names is among those the first check lists.
        if let Some(listed) = expected.checks.first().and_then(|c| c.entities.as_ref()) {
            for named in case.entities.iter().filter_map(|e| e.entity_id.as_deref()) {
                if !listed.iter().any(|e| e.entity_id == named) {
                    problems.push(format!(
                        "{}: the manifest names {named:?}, the expectations do not",
                        case.file
                    ));
                }
            }
        }
        for check in &expected.checks {
            problems.extend(run_check(&case.file, &xml, check, &expectations.now, print));
            match &check.entities {
                None => refused += 1,
                Some(list) => {
                    for e in list {
                        if e.expect == "imported" {
                            imported += 1;
                        } else {
                            refused += 1;
                        }
                    }
                }
            }
        }
    }
    println!("idp-metadata: {imported} imports and {refused} refusals as expected");
    assert!(
        problems.is_empty(),
        "{} difference(s) from tests/data/idp-metadata-expectations.json:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
