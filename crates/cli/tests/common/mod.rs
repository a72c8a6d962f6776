//! Helpers shared by the CLI integration tests (`mod common;` in each): running the built
//! `fedkit` binary, locating test data, temporary directories and the two error documents the
//! binary prints.
//!
//! Each test binary compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Value};

/// What one run of the binary produced.
pub(crate) struct Run {
    /// The exit code.
    pub(crate) code: i32,
    /// Standard output (the binary writes UTF-8).
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

impl Run {
    /// Standard output, owned.
    pub(crate) fn stdout(&self) -> String {
        self.stdout.clone()
    }

    /// Standard output as one JSON document.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", self.stdout))
    }

    /// The code of the generic `{"error": {"code", "message"}}` member of stdout (whose
    /// message must be a string); commands may print other members beside it.
    pub(crate) fn error_code(&self) -> String {
        let json = self.json();
        assert!(json["error"]["message"].is_string(), "{json}");
        json["error"]["code"].as_str().unwrap().to_owned()
    }

    /// Like [`Run::error_code`], for commands whose error output is only that `error` member.
    pub(crate) fn sole_error_code(&self) -> String {
        let json = self.json();
        assert_eq!(json.as_object().unwrap().len(), 1, "{json}");
        self.error_code()
    }
}

/// Runs the `fedkit` binary built for these tests with `args`, feeding `stdin` if given (stdin
/// is closed otherwise).
pub(crate) fn fedkit(args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fedkit"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        // The binary may exit (usage error) before reading its input.
        if let Err(e) = child.stdin.take().unwrap().write_all(input) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("terminated by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// The path of `name` under `dir`, a directory relative to this crate (`crates/cli`), e.g.
/// `tests/data` or `../saml/tests/data`; the file must exist.
pub(crate) fn data_file(dir: &str, name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir).join(name);
    assert!(p.exists(), "missing test data {}", p.display());
    p.to_string_lossy().into_owned()
}

/// A fresh directory under the system's temporary directory, removed with its content when
/// dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// Creates `fedkit-<label>-<process id>-<counter>`.
    pub(crate) fn new(label: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fedkit-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `content` to `name` in the directory and returns the file's path.
    pub(crate) fn write(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// Writes `value` as pretty-printed JSON to `name` and returns the file's path.
    pub(crate) fn write_json(&self, name: &str, value: &Value) -> String {
        self.write(name, serde_json::to_vec_pretty(value).unwrap())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Asserts that the run printed a SCIM Error document (RFC 7644 §3.12) on stdout, not the
/// generic error object, and exited 1: status "400" (a JSON string), this `scimType` (`None`:
/// no scimType), a string `detail`, which is returned.
pub(crate) fn assert_scim_error(run: &Run, scim_type: Option<&str>) -> String {
    assert_eq!(run.code, 1, "stdout: {} stderr: {}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(
        doc["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(doc["status"], "400", "status is a JSON string: {doc}");
    assert_eq!(doc.get("scimType").and_then(Value::as_str), scim_type, "{doc}");
    assert!(doc.get("error").is_none(), "not the generic error object: {doc}");
    doc["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("detail is not a string: {doc}"))
        .to_owned()
}
