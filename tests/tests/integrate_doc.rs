//! docs/integrate.md quotes the adapters' example apps, which their loopback tests compile
//! and run: every Rust snippet of the axum section must still be in fedkit-axum's
//! `examples/app.rs`, and of the actix-web section in fedkit-actix's `examples/actix_app.rs`
//! (or its README doctest), line for line (indentation aside; `// ...` elides lines).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

/// The trimmed, non-empty lines of `text`, joined by `\n`.
fn lines(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Rust snippets of the section of `guide` headed `heading`.
fn snippets<'a>(guide: &'a str, heading: &str) -> Vec<&'a str> {
    let start = guide
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("a {heading:?} section"));
    let section = &guide[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    section
        .split("```rust\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").expect("a closed code block")])
        .collect()
}

fn assert_quoted(heading: &str, sources: &[(&str, &str)], at_least: usize) {
    let guide = include_str!("../../docs/integrate.md");
    let found = snippets(guide, heading);
    assert!(
        found.len() >= at_least,
        "{heading}: {} Rust snippets",
        found.len()
    );
    // A `// ...` line elides source lines: each part between elisions is quoted as a whole.
    let parts = found.iter().flat_map(|snippet| snippet.split("// ...\n"));
    for snippet in parts {
        assert!(
            sources
                .iter()
                .any(|(_, text)| lines(text).contains(&lines(snippet))),
            "this snippet of docs/integrate.md ({heading}) is in none of {:?} any more:\n{snippet}",
            sources.iter().map(|(name, _)| *name).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_axum_section_of_integrate_md_quotes_the_compiled_example() {
    assert_quoted(
        "## axum",
        &[(
            "crates/axum/examples/app.rs",
            include_str!("../../crates/axum/examples/app.rs"),
        )],
        4,
    );
}

#[test]
fn the_actix_section_of_integrate_md_quotes_the_compiled_example() {
    assert_quoted(
        "## actix-web",
        &[
            (
                "crates/actix/examples/actix_app.rs",
                include_str!("../../crates/actix/examples/actix_app.rs"),
            ),
            (
                "crates/actix/README.md",
                include_str!("../../crates/actix/README.md"),
            ),
        ],
        3,
    );
}
