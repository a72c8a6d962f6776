//! Replays every committed fuzz finding: each file in `regressions/<target>/` goes through
//! `fedkit_fuzz::<target>::run`, the very function the libFuzzer target calls, with all of
//! the target's oracles. `run-all.sh` copies new crash artifacts there; a file that panics
//! again fails the test of its target, named in the failure message.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return; // no finding of this target yet
    };
    let mut files: Vec<_> = entries.map(|e| e.expect("readable directory").path()).collect();
    files.retain(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"));
    files.sort();
    let mut failed = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("readable regression file");
        if catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} of {} regression inputs fail: {failed:#?}",
        failed.len(),
        files.len()
    );
    eprintln!("{target}: {} regression inputs replayed", files.len());
}

macro_rules! targets {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name), fedkit_fuzz::$name::run);
            }
        )*

        /// Every directory under `regressions/` belongs to a target tested here.
        #[test]
        fn every_regression_directory_is_a_target() {
            let known = [$(stringify!($name)),*];
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
            for entry in std::fs::read_dir(&root).expect("regressions/ exists") {
                let entry = entry.expect("readable directory");
                if entry.path().is_dir() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    assert!(known.contains(&name.as_str()), "regressions/{name}/ is not a fuzz target");
                }
            }
        }
    };
}

targets!(
    metadata_import,
    parse_c14n,
    saml_logout,
    saml_response,
    scim_filter,
    scim_patch,
    scim_resource,
    scim_service,
    tenancy_domain,
    verify,
    verify_mutation,
);
