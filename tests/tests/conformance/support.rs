//! Shared plumbing: locating the vectors, checking every file against the manifest's SHA-256
//! table, loading the exceptions files, and naming errors so that an exceptions entry can say
//! precisely which refusal it expects.
//!
//! Everything here fails loudly (panics with the file and what to do) rather than skipping:
//! a conformance run on missing or modified data must never look green.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{Debug, Display, Write as _};
use std::path::{Path, PathBuf};

use fedkit_xmldsig::c14n::{self, Method};
use fedkit_xmldsig::{C14nError, Document, KeyError, ParseError, VerifyError};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::Digest as _;

/// The workspace root (the parent of this crate).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The vectors root (`FEDKIT_VECTORS`, `../shared/vectors` or the cache of `scripts/vectors.sh`,
/// see [`fedkit_conformance::vectors`]). Fails with one line saying where it looked and what to
/// run when there is none: missing vectors are a failure, never a skip.
pub(crate) fn vectors_root() -> PathBuf {
    match fedkit_conformance::vectors::locate(&workspace_root()) {
        Ok(found) => found.dir,
        Err(missing) => panic!("{missing}"),
    }
}

/// `tests/data/exceptions/`.
pub(crate) fn exceptions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/exceptions")
}

/// Just the `files` table of a manifest (SHA-256 per file, relative to the folder).
#[derive(Deserialize)]
struct FilesTable {
    #[serde(default)]
    files: Option<BTreeMap<String, String>>,
}

/// One vectors folder: where it is, and the SHA-256 table its manifest carries (if any).
pub(crate) struct Source {
    name: &'static str,
    dir: PathBuf,
    hashes: Option<BTreeMap<String, String>>,
    manifest_text: String,
}

impl Source {
    /// Opens `<vectors root>/<name>/manifest.json`. `require_files_table` makes a manifest
    /// without a `files` table an error (the table is the only integrity check there is).
    pub(crate) fn open(name: &'static str, require_files_table: bool) -> Self {
        let dir = vectors_root().join(name);
        let manifest_path = dir.join("manifest.json");
        let manifest_text = std::fs::read_to_string(&manifest_path).unwrap_or_else(|e| {
            panic!(
                "conformance data missing: cannot read {} ({e}); the vectors folder is incomplete \
                 (a missing vector is a failure, never a skip): run `bash scripts/vectors.sh`, or \
                 check FEDKIT_VECTORS / ../shared/vectors",
                manifest_path.display()
            )
        });
        let table: FilesTable = serde_json::from_str(&manifest_text)
            .unwrap_or_else(|e| panic!("{}: not valid JSON: {e}", manifest_path.display()));
        if require_files_table && table.files.is_none() {
            panic!(
                "{}: the manifest has no `files` table of SHA-256 digests",
                manifest_path.display()
            );
        }
        // Without a `files` table, the SHA-256 digests of scripts/vectors.lock still hold.
        let hashes = table.files.or_else(|| {
            let prefix = format!("{name}/");
            Some(
                Lock::load()
                    .files
                    .into_iter()
                    .filter_map(|f| Some((f.dest.strip_prefix(&prefix)?.to_owned(), f.sha256)))
                    .collect(),
            )
        });
        Self {
            name,
            dir,
            hashes,
            manifest_text,
        }
    }

    /// The manifest, typed.
    pub(crate) fn manifest<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.manifest_text).unwrap_or_else(|e| {
            panic!(
                "{}/manifest.json does not have the shape this harness expects: {e}",
                self.dir.display()
            )
        })
    }

    /// Reads a data file. Panics when it is missing, when the manifest has a `files` table that
    /// does not list it, or when its SHA-256 differs from the table.
    pub(crate) fn read(&self, rel: &str) -> Vec<u8> {
        let path = self.dir.join(rel);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "conformance data missing: {} ({e}); vectors must be complete, a missing file is a failure",
                path.display()
            )
        });
        if let Some(hashes) = &self.hashes {
            let Some(expected) = hashes.get(rel) else {
                panic!(
                    "{}: {rel} is read by the harness but not listed in the manifest's `files` table",
                    self.name
                );
            };
            let actual = sha256_hex(&bytes);
            if !actual.eq_ignore_ascii_case(expected) {
                panic!(
                    "{}: SHA-256 of {rel} is {actual} but the manifest (or scripts/vectors.lock) says {expected}: the vector \
                     was modified or corrupted",
                    self.name
                );
            }
        }
        bytes
    }

    /// Reads a data file as UTF-8 text.
    pub(crate) fn read_text(&self, rel: &str) -> String {
        String::from_utf8(self.read(rel)).unwrap_or_else(|e| panic!("{}: {rel} is not UTF-8: {e}", self.name))
    }

    /// Checks every file of the `files` table; returns how many were checked.
    pub(crate) fn check_files_table(&self) -> usize {
        let Some(hashes) = &self.hashes else {
            return 0;
        };
        let mut problems = Vec::new();
        for (rel, expected) in hashes {
            match std::fs::read(self.dir.join(rel)) {
                Err(e) => problems.push(format!("{rel}: missing ({e})")),
                Ok(bytes) => {
                    let actual = sha256_hex(&bytes);
                    if !actual.eq_ignore_ascii_case(expected) {
                        problems.push(format!("{rel}: SHA-256 {actual}, manifest says {expected}"));
                    }
                }
            }
        }
        assert!(
            problems.is_empty(),
            "{}: {} file(s) missing or modified:\n  {}",
            self.name,
            problems.len(),
            problems.join("\n  ")
        );
        hashes.len()
    }
}

/// `scripts/vectors.lock`: the upstream repositories and commits, and every upstream file
/// with its SHA-256 (the format is described at the top of the file).
pub(crate) struct Lock {
    /// `(owner/name, commit)`, in file order.
    pub(crate) repos: Vec<(String, String)>,
    /// Every upstream file, in file order.
    pub(crate) files: Vec<LockedFile>,
}

/// One file line of `scripts/vectors.lock`.
#[derive(Clone, Debug)]
pub(crate) struct LockedFile {
    pub(crate) sha256: String,
    /// Relative to a vectors root.
    pub(crate) dest: String,
    /// `owner/name`.
    pub(crate) repo: String,
    /// Path inside the upstream repository.
    pub(crate) path: String,
}

impl Lock {
    /// Where the lock is.
    pub(crate) fn path() -> PathBuf {
        workspace_root().join("scripts/vectors.lock")
    }

    /// Reads and parses the lock; any malformed line is a failure naming it.
    pub(crate) fn load() -> Self {
        let path = Self::path();
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut lock = Self {
            repos: Vec::new(),
            files: Vec::new(),
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["repo", repo, commit] => lock.repos.push(((*repo).to_owned(), (*commit).to_owned())),
                [sha256, dest, repo, path] => lock.files.push(LockedFile {
                    sha256: (*sha256).to_owned(),
                    dest: (*dest).to_owned(),
                    repo: (*repo).to_owned(),
                    path: (*path).to_owned(),
                }),
                _ => panic!("{}:{}: malformed line {line:?}", path.display(), n + 1),
            }
        }
        lock
    }
}

/// SHA-256, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// What an exceptions entry expects.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Expect {
    /// The case runs and must fail with the named error.
    Refused,
    /// The case cannot run here; it is not run.
    Skip,
}

/// One entry of `tests/data/exceptions/<source>.json`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Exception {
    /// The manifest's case name.
    pub(crate) case: String,
    /// For sources with several signatures per case (gosaml2): the manifest's `on` of the one
    /// signature this entry is about; absent = the whole case.
    #[serde(default)]
    pub(crate) signature: Option<String>,
    pub(crate) expect: Expect,
    pub(crate) reason: String,
    /// For `refused`: the error, as `Type::Variant` (see [`ErrorName`]).
    #[serde(default)]
    pub(crate) error: Option<String>,
    /// For `refused`: a string the error's `Debug` form must contain.
    #[serde(default)]
    pub(crate) error_contains: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionsFile {
    source: String,
    exceptions: Vec<Exception>,
}

/// The exceptions file of one source, validated for shape.
pub(crate) struct Exceptions {
    file: PathBuf,
    entries: Vec<Exception>,
}

impl Exceptions {
    /// Loads `tests/data/exceptions/<source>.json`; a missing file is a failure.
    pub(crate) fn load(source: &str) -> Self {
        let file = exceptions_dir().join(format!("{source}.json"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read the exceptions file {}: {e}", file.display()));
        let parsed: ExceptionsFile =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(
            parsed.source,
            source,
            "{}: `source` names another vectors folder",
            file.display()
        );
        let mut keys = BTreeSet::new();
        for e in &parsed.exceptions {
            assert!(
                !e.reason.trim().is_empty(),
                "{}: the entry for {} has no reason",
                file.display(),
                e.case
            );
            assert!(
                keys.insert((e.case.clone(), e.signature.clone())),
                "{}: duplicate entry for {} {:?}",
                file.display(),
                e.case,
                e.signature
            );
            if e.expect == Expect::Skip {
                assert!(
                    e.error.is_none() && e.error_contains.is_none(),
                    "{}: the skip entry for {} names an error; only `refused` entries do",
                    file.display(),
                    e.case
                );
            }
            if e.expect == Expect::Refused {
                assert!(
                    e.error.is_some(),
                    "{}: the refused entry for {} must name the expected `error`",
                    file.display(),
                    e.case
                );
            }
        }
        Self {
            file,
            entries: parsed.exceptions,
        }
    }

    /// Where the file is (for messages).
    pub(crate) fn path(&self) -> &Path {
        &self.file
    }

    /// All entries.
    pub(crate) fn entries(&self) -> &[Exception] {
        &self.entries
    }

    /// The whole-case entry for `case`.
    pub(crate) fn for_case(&self, case: &str) -> Option<&Exception> {
        self.entries
            .iter()
            .find(|e| e.case == case && e.signature.is_none())
    }

    /// The entry for one signature of `case` (or the whole-case entry).
    pub(crate) fn for_signature(&self, case: &str, on: &str) -> Option<&Exception> {
        self.entries
            .iter()
            .find(|e| e.case == case && e.signature.as_deref() == Some(on))
            .or_else(|| self.for_case(case))
    }

    /// Fails unless every entry names a real case (and, where it names a signature, a real
    /// signature of that case). `signatures_of` returns the case's signature names, or `None`
    /// when there is no such case.
    pub(crate) fn assert_entries_match(&self, signatures_of: impl Fn(&str) -> Option<Vec<String>>) {
        let mut stale = Vec::new();
        for e in &self.entries {
            match (signatures_of(&e.case), &e.signature) {
                (None, _) => stale.push(format!("{}: no such case in the manifest", e.case)),
                (Some(sigs), Some(sig)) if !sigs.contains(sig) => stale.push(format!(
                    "{} / {sig}: the case has no such signature (has {sigs:?})",
                    e.case
                )),
                _ => {}
            }
        }
        assert!(
            stale.is_empty(),
            "{}: entries that match no case:\n  {}",
            self.file.display(),
            stale.join("\n  ")
        );
    }
}

/// A stable name for an error: `Type::Variant`, nesting shown for wrapped C14N errors
/// (`VerifyError::C14n(C14nError::RelativeNamespaceUri)`). Exceptions files use these names.
pub(crate) trait ErrorName {
    fn error_name(&self) -> String;
}

fn variant_of(debug: &str) -> &str {
    let end = debug
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(debug.len());
    &debug[..end]
}

impl ErrorName for ParseError {
    fn error_name(&self) -> String {
        format!("ParseError::{}", variant_of(&format!("{self:?}")))
    }
}

impl ErrorName for C14nError {
    fn error_name(&self) -> String {
        format!("C14nError::{}", variant_of(&format!("{self:?}")))
    }
}

impl ErrorName for KeyError {
    fn error_name(&self) -> String {
        format!("KeyError::{}", variant_of(&format!("{self:?}")))
    }
}

impl ErrorName for VerifyError {
    fn error_name(&self) -> String {
        match self {
            VerifyError::C14n(inner) => format!("VerifyError::C14n({})", inner.error_name()),
            other => format!("VerifyError::{}", variant_of(&format!("{other:?}"))),
        }
    }
}

/// An error of any of the crate's types, remembered by name and text.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub(crate) name: String,
    pub(crate) debug: String,
    pub(crate) display: String,
}

impl Failure {
    pub(crate) fn of<E: ErrorName + Debug + Display>(e: &E) -> Self {
        Self {
            name: e.error_name(),
            debug: format!("{e:?}"),
            display: e.to_string(),
        }
    }
}

impl Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.debug, self.display)
    }
}

/// Checks that `failure` is the refusal `exception` expects; `Err` explains the mismatch.
pub(crate) fn matches_refusal(exception: &Exception, failure: &Failure) -> Result<(), String> {
    if let Some(name) = &exception.error {
        if &failure.name != name {
            return Err(format!(
                "refused with {} but the exceptions entry expects {name}: {failure}",
                failure.name
            ));
        }
    }
    if let Some(needle) = &exception.error_contains {
        if !failure.debug.contains(needle.as_str()) {
            return Err(format!(
                "refused with {failure}, which does not contain {needle:?} as the exceptions entry expects"
            ));
        }
    }
    Ok(())
}

/// A byte-for-byte comparison with a readable report of the first difference.
pub(crate) fn compare_bytes(expected: &[u8], actual: &[u8]) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let first = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let window = |b: &[u8]| {
        let start = first.saturating_sub(40);
        let end = (first + 60).min(b.len());
        String::from_utf8_lossy(b.get(start..end).unwrap_or_default()).into_owned()
    };
    Err(format!(
        "canonical output differs from the expected bytes (expected {} bytes, got {}; first difference at byte {first})\n\
         --- expected around there: {:?}\n\
         +++ actual around there:   {:?}\n\
         --- expected (full): {:?}\n\
         +++ actual (full):   {:?}",
        expected.len(),
        actual.len(),
        window(expected),
        window(actual),
        String::from_utf8_lossy(expected),
        String::from_utf8_lossy(actual),
    ))
}

/// Whether an algorithm URI involves SHA-1 (rsa-sha1, dsa-sha1, sha1 digest, sha1-rsa-MGF1 ...).
pub(crate) fn is_sha1_uri(uri: &str) -> bool {
    uri.to_ascii_lowercase().contains("sha1")
}

/// Asserts that the list of generated tests and the manifest's case names are the same set.
pub(crate) fn assert_same_cases(what: &str, tests: &[&str], manifest: &[String]) {
    let tests: BTreeSet<&str> = tests.iter().copied().collect();
    let manifest: BTreeSet<&str> = manifest.iter().map(String::as_str).collect();
    let missing: Vec<&&str> = manifest.difference(&tests).collect();
    let extra: Vec<&&str> = tests.difference(&manifest).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: the generated tests and the manifest disagree. Cases without a test: {missing:?}; \
         tests without a case: {extra:?}. Add or remove entries in the test module's case list"
    );
}

/// Generates one `#[test]` per case (named after it) calling `$runner("case-name")`, and a
/// `CASES` list so a separate test can check the list against the manifest.
macro_rules! case_tests {
    ($runner:path; $($test:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $test() {
                $runner($case);
            }
        )*
        /// Every case that has a generated test.
        pub(super) const CASES: &[&str] = &[$($case),*];
    };
}
pub(crate) use case_tests;

/// Canonical XML is a fixed point: canonicalizing the expected canonical bytes (as a whole
/// document, with the same method) must give them back. This also exercises the refused DTD
/// cases, whose expected outputs carry no DOCTYPE.
pub(crate) fn check_fixed_point(expected: &[u8], method: &Method) -> Result<(), String> {
    let text = std::str::from_utf8(expected).map_err(|e| format!("expected output is not UTF-8: {e}"))?;
    let doc = Document::parse(text).map_err(|e| format!("expected output does not parse: {e}"))?;
    let again = c14n::canonicalize_document_to_vec(&doc, method)
        .map_err(|e| format!("expected output does not canonicalize: {e}"))?;
    compare_bytes(expected, &again)
        .map_err(|diff| format!("canonicalizing the expected output again: {diff}"))
}
