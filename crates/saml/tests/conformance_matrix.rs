//! Keeps `docs/conformance.md` honest: every test the matrix cites must exist as a test
//! function, every row must cite tests or say why none apply, every clause-named test of the
//! conformance files must appear in the matrix, and no `TBD` marker may remain.
//!
//! The matrix is every Markdown table whose header row starts with `| Clause |` and has the
//! four columns Clause, Rule, fedkit, Tests. A test reference is a backticked
//! `path/from/the/workspace/root.rs::function_name` in the Tests column.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The matrix, relative to the workspace root.
const MATRIX: &str = "docs/conformance.md";

/// The files whose tests are named after clauses: each of their tests must be cited.
const CONFORMANCE_FILES: [&str; 3] = [
    "crates/saml/tests/conformance_core.rs",
    "crates/saml/tests/conformance_bindings.rs",
    "crates/metadata/tests/conformance_metadata.rs",
];

/// How the fedkit column may start.
const BEHAVIOURS: [&str; 4] = ["enforced", "configurable", "n/a", "NOT ENFORCED"];

/// How many lines above `fn name(` the `#[test]` attribute may be (doc comments,
/// `#[ignore]`, `#[should_panic]` can sit between them).
const ATTRIBUTE_WINDOW: usize = 6;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_matrix() -> String {
    let path = workspace_root().join(MATRIX);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One row of the matrix.
#[derive(Debug)]
struct Row {
    line: usize,
    text: String,
    clause: String,
    behaviour: String,
    tests: String,
}

/// The rows of every matrix table, and the problems met while reading them (a row without
/// exactly four cells).
fn rows(markdown: &str) -> (Vec<Row>, Vec<String>) {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut in_table = false;
    for (i, line) in markdown.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim();
        if !trimmed.starts_with('|') {
            in_table = false;
            continue;
        }
        let cells: Vec<&str> = trimmed.trim_matches('|').split('|').map(str::trim).collect();
        if cells.first().is_some_and(|c| c.eq_ignore_ascii_case("clause")) {
            in_table = true;
            continue;
        }
        if !in_table || cells.iter().all(|c| c.chars().all(|ch| matches!(ch, '-' | ':'))) {
            continue;
        }
        if cells.len() != 4 {
            problems.push(format!(
                "{MATRIX}:{line_no}: a row needs 4 cells (Clause | Rule | fedkit | Tests), found {}",
                cells.len()
            ));
            continue;
        }
        rows.push(Row {
            line: line_no,
            text: trimmed.to_owned(),
            clause: cells[0].to_owned(),
            behaviour: cells[2].trim_start_matches('*').to_owned(),
            tests: cells[3].to_owned(),
        });
    }
    (rows, problems)
}

/// The backticked `path.rs::function` references of a Tests cell.
fn references(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| {
            let (path, name) = code.rsplit_once("::")?;
            path.ends_with(".rs").then(|| (path.to_owned(), name.to_owned()))
        })
        .collect()
}

/// The attribute and comment lines directly above line `i` (at most [`ATTRIBUTE_WINDOW`]),
/// stopping at the first line that is neither.
fn attributes_above<'a>(lines: &[&'a str], i: usize) -> Vec<&'a str> {
    lines[..i]
        .iter()
        .rev()
        .take(ATTRIBUTE_WINDOW)
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("#[") || l.starts_with("//"))
        .collect()
}

/// The line indexes where `fn name(` is defined in `source`.
fn definitions(lines: &[&str], name: &str) -> Vec<usize> {
    let signature = format!("fn {name}(");
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| {
            line.find(&signature)
                .is_some_and(|at| at == 0 || line[..at].chars().last().is_some_and(|c| c.is_whitespace()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether `source` defines `name` as a test: `fn name(` directly under `#[test]` (or another
/// test attribute, such as `#[tokio::test]`), with only attributes and comments between.
fn defines_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    definitions(&lines, name).into_iter().any(|i| {
        attributes_above(&lines, i)
            .iter()
            .any(|l| l.starts_with("#[") && l.contains("test") && !l.contains("cfg("))
    })
}

/// Whether the test `name` in `source` is ignored as a rule fedkit does not enforce.
fn ignored_as_not_enforced(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    definitions(&lines, name).into_iter().any(|i| {
        attributes_above(&lines, i)
            .iter()
            .any(|l| l.starts_with("#[ignore = \"NOT ENFORCED"))
    })
}

/// Everything wrong with `markdown` as a matrix whose test paths are relative to `root`.
fn check(markdown: &str, root: &Path) -> Vec<String> {
    let (rows, mut problems) = rows(markdown);
    if rows.is_empty() {
        problems.push(format!(
            "{MATRIX}: no matrix rows found (a table headed | Clause | Rule | fedkit | Tests |)"
        ));
    }
    for row in &rows {
        let at = format!("{MATRIX}:{} ({})", row.line, row.clause);
        if !BEHAVIOURS.iter().any(|b| row.behaviour.starts_with(b)) {
            problems.push(format!(
                "{at}: the fedkit column must start with one of {BEHAVIOURS:?}, found {:?}",
                row.behaviour
            ));
        }
        let refs = references(&row.tests);
        let not_applicable = row.behaviour.starts_with("n/a");
        if row.tests.trim().is_empty() && !not_applicable {
            problems.push(format!(
                "{at}: no tests named; name them, or say n/a and why in the fedkit column"
            ));
        }
        for (path, name) in refs {
            let file = root.join(&path);
            let Ok(source) = std::fs::read_to_string(&file) else {
                problems.push(format!("{at}: `{path}::{name}`: {path} does not exist"));
                continue;
            };
            if !defines_test(&source, &name) {
                problems.push(format!(
                    "{at}: `{path}::{name}`: {path} has no test function {name}"
                ));
            } else if ignored_as_not_enforced(&source, &name) && !row.behaviour.starts_with("NOT ENFORCED") {
                problems.push(format!(
                    "{at}: `{path}::{name}` is ignored as NOT ENFORCED, but the row says {:?}",
                    row.behaviour
                ));
            }
        }
    }
    problems
}

/// The matrix rows that still carry a `TBD` marker, with their line numbers.
fn tbd_markers(markdown: &str) -> Vec<String> {
    rows(markdown)
        .0
        .into_iter()
        .filter(|r| r.text.contains("TBD"))
        .map(|r| format!("{MATRIX}:{}: {}", r.line, r.text))
        .collect()
}

/// The test functions of `source`.
fn test_names(source: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut names = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "#[test]" {
            continue;
        }
        let Some(fn_line) = lines[i + 1..]
            .iter()
            .take(ATTRIBUTE_WINDOW)
            .find(|l| l.trim_start().starts_with("fn "))
        else {
            continue;
        };
        let rest = fn_line.trim_start().trim_start_matches("fn ");
        if let Some(name) = rest.split('(').next() {
            names.push(name.to_owned());
        }
    }
    names
}

fn report(problems: &[String]) -> String {
    format!("{} problem(s):\n  {}", problems.len(), problems.join("\n  "))
}

#[test]
fn every_cited_test_exists_and_every_row_names_tests_or_says_why_not() {
    let problems = check(&read_matrix(), &workspace_root());
    assert!(problems.is_empty(), "{}", report(&problems));
}

#[test]
fn every_clause_named_test_is_cited_in_the_matrix() {
    let markdown = read_matrix();
    let (rows, _) = rows(&markdown);
    let cited: BTreeSet<(String, String)> = rows.iter().flat_map(|r| references(&r.tests)).collect();
    let mut missing = Vec::new();
    for path in CONFORMANCE_FILES {
        let file = workspace_root().join(path);
        let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let names = test_names(&source);
        assert!(!names.is_empty(), "{path} has no tests");
        for name in names {
            if !cited.contains(&(path.to_owned(), name.clone())) {
                missing.push(format!("`{path}::{name}` is not cited by any row of {MATRIX}"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", report(&missing));
}

#[test]
fn no_row_is_left_to_be_done() {
    let markers = tbd_markers(&read_matrix());
    assert!(markers.is_empty(), "{}", report(&markers));
}

// ---- The checker itself -----------------------------------------------------------------

const THIS_FILE: &str = "crates/saml/tests/conformance_matrix.rs";

#[test]
fn the_checker_reports_a_test_that_does_not_exist() {
    let table = format!(
        "| Clause | Rule | fedkit | Tests |\n|---|---|---|---|\n\
         | Core §9.9 | a rule | enforced | + `{THIS_FILE}::the_checker_reports_a_test_that_does_not_exist` − `{THIS_FILE}::no_such_test_anywhere` |\n"
    );
    let problems = check(&table, &workspace_root());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("no_such_test_anywhere"), "{problems:?}");
    assert!(problems[0].contains(":3 (Core §9.9)"), "{problems:?}");
}

#[test]
fn the_checker_reports_a_missing_file_and_a_function_that_is_not_a_test() {
    let table = format!(
        "| Clause | Rule | fedkit | Tests |\n|---|---|---|---|\n\
         | Core §9.9 | a rule | enforced | `crates/saml/tests/no_such_file.rs::x` `{THIS_FILE}::report` |\n"
    );
    let problems = check(&table, &workspace_root());
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("no_such_file.rs does not exist"),
        "{problems:?}"
    );
    assert!(
        problems[1].contains("has no test function report"),
        "{problems:?}"
    );
}

#[test]
fn the_checker_reports_empty_tests_unless_not_applicable() {
    let table = "| Clause | Rule | fedkit | Tests |\n|---|---|---|---|\n\
                 | Core §9.1 | a rule | enforced: somewhere |  |\n\
                 | Core §9.2 | a rule | n/a: the IdP's job |  |\n\
                 | Core §9.3 | a rule | maybe |  |\n\
                 | Core §9.4 | too | few |\n";
    let problems = check(table, &workspace_root());
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert!(
        problems[0].contains("§9.4") || problems[0].contains("4 cells"),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("(Core §9.1): no tests named")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("(Core §9.3): the fedkit column")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("(Core §9.3): no tests named")),
        "{problems:?}"
    );
    assert!(!problems.iter().any(|p| p.contains("§9.2")), "{problems:?}");
}

#[test]
fn the_checker_reports_an_ignored_test_on_a_row_that_claims_enforcement() {
    // No test of the workspace is ignored as NOT ENFORCED any more: the checker reads a
    // made-up workspace holding one.
    let root = std::env::temp_dir().join(format!("fedkit-matrix-{}", std::process::id()));
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::write(
        root.join("tests/gaps.rs"),
        "#[test]\n#[ignore = \"NOT ENFORCED: not yet\"]\nfn core_9_9_a_rule_refused() {}\n",
    )
    .unwrap();
    let cite = "`tests/gaps.rs::core_9_9_a_rule_refused`";
    let claims = format!(
        "| Clause | Rule | fedkit | Tests |\n|---|---|---|---|\n| Core §9.9 | a rule | enforced | {cite} |\n"
    );
    let admits = claims.replace("| enforced |", "| NOT ENFORCED: not yet |");
    let problems = check(&claims, &root);
    let honest = check(&admits, &root);
    std::fs::remove_dir_all(&root).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("ignored as NOT ENFORCED"), "{problems:?}");
    assert!(honest.is_empty(), "{honest:?}");
}

#[test]
fn the_checker_finds_tbd_markers_and_tests() {
    let table = "TBD in prose is not a row.\n| Clause | Rule | fedkit | Tests |\n|---|---|---|---|\n\
                 | Core §1 | a | enforced | TBD-main |\n| Core §2 | b | n/a: none |  |\n";
    assert_eq!(
        tbd_markers(table),
        [format!("{MATRIX}:4: | Core §1 | a | enforced | TBD-main |")]
    );
    let source =
        "#[test]\n#[ignore = \"x\"]\nfn a_test() {}\nfn helper() {}\n/// doc\n#[test]\nfn b_test() {}\n";
    assert_eq!(test_names(source), ["a_test", "b_test"]);
    assert!(defines_test(source, "a_test"));
    assert!(!defines_test(source, "helper"));
    assert!(!defines_test(source, "a_tes"));
}
