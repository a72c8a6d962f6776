//! scim2-tester (PyPI, pinned in `.ci/install-deps`; a SCIM conformance checker nobody here
//! wrote) runs every check category it has against the real `fedkit scim serve` binary on
//! loopback, with the default settings except `--rate-limit off` (the tester sends its
//! requests back to back). Every check of every category must pass.
//!
//! Needs `target/scim-tester-venv` (or `FEDKIT_SCIM_TESTER_PYTHON`); without it the test says
//! so and passes, unless `FEDKIT_REQUIRE_INTEROP=1` (set by `.ci/test`), when it fails.
//! The Python side is `tests/data/scim2_tester_run.py`, which prints a JSON summary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

const TOKEN: &str = "scim_7c1e9a4d2b6f8e0a3c5d";

/// The scim2-tester version `.ci/install-deps` installs; the test refuses another, whose
/// checks may differ.
const VERSION: &str = "0.5.2";

/// Statuses scim2-tester counts as conforming: MUST kept (SUCCESS), SHOULD kept (COMPLIANT),
/// an optional feature used reasonably (ACCEPTABLE).
const PASSING: &[&str] = &["SUCCESS", "COMPLIANT", "ACCEPTABLE"];

/// The server, killed when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    fn start(db: &std::path::Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fedkit"))
            .args([
                "scim",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--rate-limit",
                "off",
                "--db",
            ])
            .arg(db)
            .env("FEDKIT_SCIM_TOKEN", TOKEN)
            .env_remove("FEDKIT_SCIM_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let Ok(addr) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("fedkit scim serve did not start");
        };
        Server {
            child,
            base_url: format!("http://{addr}/scim/v2"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python with scim2-tester, or why there is none.
fn python() -> Result<String, String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let python = std::env::var("FEDKIT_SCIM_TESTER_PYTHON")
        .unwrap_or_else(|_| format!("{root}/target/scim-tester-venv/bin/python"));
    let probe = Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m, httpx2, scim2_tester; print(m.version('scim2-tester'))",
        ])
        .output();
    match probe {
        Ok(o) if o.status.success() => {
            let version = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            if version == VERSION {
                Ok(python)
            } else {
                Err(format!(
                    "{python} has scim2-tester {version}, this test is written for {VERSION}"
                ))
            }
        }
        Ok(o) => Err(format!("{python}: {}", String::from_utf8_lossy(&o.stderr))),
        Err(e) => Err(format!("{python}: {e}")),
    }
}

#[test]
fn scim2_tester_every_category_passes() {
    let python = match python() {
        Ok(p) => p,
        Err(why) => {
            let required = std::env::var("FEDKIT_REQUIRE_INTEROP").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "FEDKIT_REQUIRE_INTEROP=1 but scim2-tester {VERSION} is not available: {why}; run .ci/install-deps"
            );
            eprintln!("SKIPPED: scim2-tester {VERSION} is not installed ({why}); run .ci/install-deps");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("scim.sqlite3"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scim2_tester_run.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&server.base_url)
        .arg(TOKEN)
        .output()
        .unwrap();
    drop(server);
    assert!(
        out.status.success(),
        "scim2-tester did not run:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "the summary is not JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(summary["version"], VERSION);

    // Every category scim2-tester registers ran at least one check.
    let set = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    };
    let categories = set(&summary["categories"]);
    let ran = set(&summary["ran"]);
    assert!(categories.len() >= 10, "{categories:?}");
    let missing: Vec<_> = categories.difference(&ran).collect();
    assert!(missing.is_empty(), "categories that ran no check: {missing:?}");

    let results = summary["results"].as_array().unwrap();
    assert!(results.len() > 50, "only {} checks ran", results.len());
    let mut failures = Vec::new();
    for r in results {
        let (title, rt, status, reason) = fields(r);
        if !PASSING.contains(&status) {
            failures.push(format!("{status} {title} ({rt:?}) {:?}: {reason}", r["tags"]));
        }
    }
    assert!(
        failures.is_empty(),
        "scim2-tester {VERSION}: {} of {} checks failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
    eprintln!(
        "scim2-tester {VERSION}: {} checks in {} categories ran, all passed",
        results.len(),
        categories.len()
    );
}

/// (title, resource type, status, reason) of one result of the summary.
fn fields(r: &Value) -> (&str, Option<&str>, &str, &str) {
    (
        r["title"].as_str().unwrap_or(""),
        r["resource_type"].as_str(),
        r["status"].as_str().unwrap(),
        r["reason"].as_str().unwrap_or(""),
    )
}
