//! The vectors themselves: `scripts/vectors.lock` against the manifests (which name the upstream
//! commits and, where they have them, the SHA-256 of every file), the vectors root a run uses
//! against the lock, the lookup order of [`fedkit_conformance::vectors`], and
//! `scripts/vectors.sh` against throwaway local mirrors (`scripts/vectors-selftest.sh`).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use fedkit_conformance::vectors::{locate_with, Missing, Origin, VERIFIED_MARK};
use serde_json::Value;

use super::support::{sha256_hex, vectors_root, workspace_root, Lock, LockedFile};

/// Where the files written beside the upstream data live (READMEs, manifests with the expected
/// verdicts, derived outputs): the vectors root this run reads. They are not committed here.
fn project_dir() -> PathBuf {
    vectors_root()
}

fn project_manifest(folder: &str) -> Value {
    let path = project_dir().join(folder).join("manifest.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("manifest: no string at {pointer}"))
}

/// Every file under `dir`, relative, with `/` separators.
fn walk(dir: &Path) -> BTreeSet<String> {
    fn go(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                go(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap();
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.insert(rel.join("/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    go(dir, dir, &mut out);
    out
}

/// `github.com/owner/name`, `https://github.com/owner/name` → `owner/name`.
fn repo_name(url: &str) -> &str {
    url.trim_start_matches("https://")
        .trim_start_matches("github.com/")
}

#[test]
fn vectors_lock_is_well_formed() {
    let lock = Lock::load();
    let mut repos = BTreeSet::new();
    for (repo, commit) in &lock.repos {
        assert!(
            repos.insert(repo.as_str()),
            "scripts/vectors.lock: {repo} has two repo lines"
        );
        assert!(
            commit.len() == 40
                && commit
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "scripts/vectors.lock: {repo}: {commit} is not a full lowercase commit id"
        );
    }
    let mut dests = BTreeSet::new();
    // The script splits lines on whitespace and uses upstream paths as sparse-checkout patterns:
    // keep every path to characters that mean nothing to either.
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('/')
            && !s.split('/').any(|c| c.is_empty() || c == "." || c == "..")
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
    };
    for f in &lock.files {
        assert!(
            f.sha256.len() == 64
                && f.sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "scripts/vectors.lock: {}: {} is not a lowercase SHA-256",
            f.dest,
            f.sha256
        );
        assert!(
            dests.insert(f.dest.as_str()),
            "scripts/vectors.lock: {} is listed twice",
            f.dest
        );
        assert!(
            plain(&f.dest) && plain(&f.path),
            "scripts/vectors.lock: unusual path in {f:?}"
        );
        assert!(
            repos.contains(f.repo.as_str()),
            "scripts/vectors.lock: {f:?}: no repo line for {}",
            f.repo
        );
    }
}

/// Checks the lock's files of one folder against a manifest `files` table, whose entries are
/// either upstream files (in the lock, same SHA-256) or files written with the vectors folder.
fn check_files_table(
    folder: &str,
    table: &BTreeMap<String, String>,
    lock: &[LockedFile],
    problems: &mut Vec<String>,
) {
    let prefix = format!("{folder}/");
    let locked: BTreeMap<&str, &LockedFile> = lock
        .iter()
        .filter_map(|f| Some((f.dest.strip_prefix(&prefix)?, f)))
        .collect();
    for (rel, sha) in table {
        match locked.get(rel.as_str()) {
            Some(f) if f.sha256.eq_ignore_ascii_case(sha) => {}
            Some(f) => problems.push(format!("{folder}/{rel}: lock {} but manifest {sha}", f.sha256)),
            None => match std::fs::read(project_dir().join(folder).join(rel)) {
                Ok(bytes) if sha256_hex(&bytes).eq_ignore_ascii_case(sha) => {}
                Ok(_) => problems.push(format!("{folder}/{rel}: SHA-256 differs from the manifest")),
                Err(_) => problems.push(format!(
                    "{folder}/{rel}: in the manifest, neither in the lock nor in the vectors folder"
                )),
            },
        }
    }
    for rel in locked.keys() {
        if !table.contains_key(*rel) {
            problems.push(format!(
                "{folder}/{rel}: in the lock but not in the manifest's files table"
            ));
        }
    }
}

/// The lock says what the manifests say: the same commits, and the same SHA-256 for every file
/// the manifests list (the gosaml2 and xmlsec-c14n `files` tables, idp-metadata's per-document
/// table with its upstream repository and path). Every Santuario case file is in the lock.
#[test]
fn vectors_lock_agrees_with_the_manifests() {
    let lock = Lock::load();
    let commits: BTreeMap<&str, &str> = lock.repos.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
    let mut problems = Vec::new();
    let mut want_repos = BTreeSet::new();

    for folder in ["gosaml2", "xmlsec-c14n", "c14n-santuario"] {
        let m = project_manifest(folder);
        let repo = repo_name(str_at(&m, "/source/repository"));
        let commit = str_at(&m, "/source/commit");
        want_repos.insert(repo.to_owned());
        if commits.get(repo) != Some(&commit) {
            problems.push(format!(
                "{folder}: manifest commit {repo} {commit}, lock {:?}",
                commits.get(repo)
            ));
        }
        for f in lock
            .files
            .iter()
            .filter(|f| f.dest.starts_with(&format!("{folder}/")))
        {
            if f.repo != repo {
                problems.push(format!(
                    "{}: from {} in the lock, {repo} in the manifest",
                    f.dest, f.repo
                ));
            }
        }
        if let Some(table) = m.get("files") {
            let table: BTreeMap<String, String> = serde_json::from_value(table.clone()).unwrap();
            check_files_table(folder, &table, &lock.files, &mut problems);
        }
    }
    // Santuario has no files table: every case file must be locked (so it is verified).
    let santuario = project_manifest("c14n-santuario");
    for case in santuario["cases"].as_array().unwrap() {
        for key in ["input", "expected"] {
            if let Some(rel) = case.get(key).and_then(Value::as_str) {
                let dest = format!("c14n-santuario/{rel}");
                if !lock.files.iter().any(|f| f.dest == dest) {
                    problems.push(format!(
                        "{dest}: a Santuario case reads it, the lock does not list it"
                    ));
                }
            }
        }
    }

    let idp = project_manifest("idp-metadata");
    for (repo, commit) in idp["commits"].as_object().unwrap() {
        want_repos.insert(repo.clone());
        if commits.get(repo.as_str()).copied() != commit.as_str() {
            problems.push(format!(
                "idp-metadata: manifest commit {repo} {commit}, lock {:?}",
                commits.get(repo.as_str())
            ));
        }
    }
    let mut idp_files = BTreeSet::new();
    for case in idp["cases"].as_array().unwrap() {
        let dest = format!("idp-metadata/{}", str_at(case, "/file"));
        let (repo, path, sha) = (
            str_at(case, "/upstream_repo"),
            str_at(case, "/upstream_path"),
            str_at(case, "/sha256"),
        );
        match lock.files.iter().find(|f| f.dest == dest) {
            None => problems.push(format!("{dest}: in the manifest, not in the lock")),
            Some(f) if f.repo != repo || f.path != path || !f.sha256.eq_ignore_ascii_case(sha) => {
                problems.push(format!("{dest}: lock {f:?}, manifest {repo} {path} {sha}"));
            }
            Some(_) => {}
        }
        idp_files.insert(dest);
    }
    for f in lock.files.iter().filter(|f| f.dest.starts_with("idp-metadata/")) {
        if !idp_files.contains(&f.dest) && !f.dest.ends_with("/LICENSE") {
            problems.push(format!(
                "{}: in the lock, not in the idp-metadata manifest",
                f.dest
            ));
        }
    }

    let lock_repos: BTreeSet<String> = lock.repos.iter().map(|(r, _)| r.clone()).collect();
    if lock_repos != want_repos {
        problems.push(format!(
            "repositories: lock {lock_repos:?}, manifests {want_repos:?}"
        ));
    }
    assert!(
        problems.is_empty(),
        "scripts/vectors.lock and the manifests disagree:\n  {}",
        problems.join("\n  ")
    );
}

/// The vectors this run reads hold every upstream file of the lock with its SHA-256, and
/// nothing else beside the READMEs, manifests and derived outputs written with them. When the
/// vectors are `../shared/vectors`, this is what keeps the lock (and the script) true to them.
#[test]
fn vectors_root_matches_the_lock() {
    let root = vectors_root();
    let lock = Lock::load();
    let mut present = walk(&root);
    present.remove(VERIFIED_MARK);
    let mut problems = Vec::new();
    for f in &lock.files {
        match std::fs::read(root.join(&f.dest)) {
            Err(e) => problems.push(format!("{}: missing ({e})", f.dest)),
            Ok(bytes) => {
                let actual = sha256_hex(&bytes);
                if actual != f.sha256 {
                    problems.push(format!(
                        "{}: SHA-256 {actual}, scripts/vectors.lock says {}",
                        f.dest, f.sha256
                    ));
                }
            }
        }
        present.remove(&f.dest);
    }
    for rel in &present {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let written_here = name == "README.md" || name == "manifest.json" || rel.contains("/derived/");
        if !written_here {
            problems.push(format!(
                "{rel}: not an upstream file of scripts/vectors.lock, nor a README, manifest or derived output"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}: {} problem(s) against scripts/vectors.lock:\n  {}",
        root.display(),
        problems.len(),
        problems.join("\n  ")
    );
}

/// A fresh empty directory under the system temporary directory.
fn scratch(what: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "fedkit-vectors-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Lookup order: `FEDKIT_VECTORS` (and nothing else when it is set), then `../shared/vectors`,
/// then a verified cache; otherwise one line naming every place and the command to run.
#[test]
fn vectors_lookup_order() {
    let top = scratch("lookup").canonicalize().unwrap();
    let workspace = top.join("fedkit");
    std::fs::create_dir_all(&workspace).unwrap();
    let explicit = top.join("explicit");
    std::fs::create_dir_all(&explicit).unwrap();
    let cache = workspace.join("target/vectors");
    let os = |p: &Path| Some(OsString::from(p));

    // Nothing anywhere: one line, naming the places and the script.
    let err = locate_with(&workspace, None, None).unwrap_err();
    let line = err.to_string();
    assert!(
        matches!(
            err,
            Missing::NotFound {
                cache_incomplete: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!line.contains('\n'), "{line}");
    assert!(line.contains("FEDKIT_VECTORS is not set"), "{line}");
    assert!(
        line.contains(&top.join("shared/vectors").display().to_string()),
        "{line}"
    );
    assert!(line.contains(&cache.display().to_string()), "{line}");
    assert!(line.contains("run `bash scripts/vectors.sh`"), "{line}");

    // An explicit FEDKIT_VECTORS that does not exist fails loudly, never falls through.
    std::fs::create_dir_all(top.join("shared/vectors")).unwrap();
    let nowhere = top.join("nonexistent");
    let err = locate_with(&workspace, os(&nowhere), None).unwrap_err();
    assert!(
        matches!(&err, Missing::EnvVarNotADirectory(p) if p == &nowhere),
        "{err:?}"
    );
    assert!(err.to_string().contains("FEDKIT_VECTORS="), "{err}");

    // FEDKIT_VECTORS wins over the sibling.
    let found = locate_with(&workspace, os(&explicit), None).unwrap();
    assert_eq!((found.dir, found.origin), (explicit.clone(), Origin::EnvVar));

    // The sibling wins over a verified cache.
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join(VERIFIED_MARK), "x\n").unwrap();
    let found = locate_with(&workspace, None, None).unwrap();
    assert_eq!(found.origin, Origin::Sibling);
    assert_eq!(found.dir, top.join("shared/vectors"));

    // Without the sibling: the verified cache, or FEDKIT_VECTORS_CACHE's.
    std::fs::remove_dir_all(top.join("shared")).unwrap();
    let found = locate_with(&workspace, None, None).unwrap();
    assert_eq!((found.dir, found.origin), (cache.clone(), Origin::Cache));
    let other = top.join("other-cache");
    std::fs::create_dir_all(&other).unwrap();
    let err = locate_with(&workspace, None, os(&other)).unwrap_err();
    assert!(
        matches!(
            err,
            Missing::NotFound {
                cache_incomplete: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("is an incomplete cache"), "{err}");
    std::fs::write(other.join(VERIFIED_MARK), "x\n").unwrap();
    let found = locate_with(&workspace, None, os(&other)).unwrap();
    assert_eq!((found.dir, found.origin), (other, Origin::Cache));

    // A cache without the verified mark (an interrupted fetch) does not count.
    std::fs::remove_file(cache.join(VERIFIED_MARK)).unwrap();
    let err = locate_with(&workspace, None, None).unwrap_err();
    assert!(
        matches!(
            err,
            Missing::NotFound {
                cache_incomplete: true,
                ..
            }
        ),
        "{err:?}"
    );

    let _ = std::fs::remove_dir_all(&top);
}

/// `scripts/vectors.sh` against local `file://` mirrors built from the vectors this run uses:
/// clean fetch, idempotence, a modified cache, a tampered and a missing upstream file, the
/// pinned-commit check and the test-only switch's guard (see `scripts/vectors-selftest.sh`).
/// The real upstream path (GitHub over https) cannot be exercised offline.
#[test]
fn vectors_script_against_local_mirrors() {
    let root = vectors_root();
    let script = workspace_root().join("scripts/vectors-selftest.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg(&root)
        .env_remove("FEDKIT_VECTORS_GIT")
        .env_remove("FEDKIT_VECTORS_CACHE")
        .env_remove("FEDKIT_VECTORS_ANY_COMMIT")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run bash {}: {e} (bash and git are needed)",
                script.display()
            )
        });
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
