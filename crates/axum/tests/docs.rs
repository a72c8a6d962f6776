//! docs/integrate.md's axum section quotes `examples/app.rs`, which the loopback tests compile
//! and run: every Rust snippet of the section must still be in that file, line for line
//! (indentation aside).
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

#[test]
fn the_axum_section_of_integrate_md_quotes_the_compiled_example() {
    let guide = include_str!("../../../docs/integrate.md");
    let example = lines(include_str!("../examples/app.rs"));
    let start = guide.find("\n## axum\n").expect("a \"## axum\" section");
    let section = &guide[start + 1..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    let snippets: Vec<&str> = section
        .split("```rust\n")
        .skip(1)
        .map(|rest| &rest[..rest.find("```").expect("a closed code block")])
        .collect();
    assert!(snippets.len() >= 4, "{} Rust snippets", snippets.len());
    for snippet in snippets {
        assert!(
            example.contains(&lines(snippet)),
            "this snippet of docs/integrate.md is not in examples/app.rs any more:\n{snippet}"
        );
    }
}
