//! Differential tests and benchmarks of fedkit against libxmlsec1 and libxml2.
//!
//! This library is empty: the crate exists for its `tests/oracle.rs` and `benches/`, which
//! need the non-default `libxmlsec1` feature (and so libxmlsec1/libxml2 headers, pkg-config
//! and clang). See this crate's README.md.
#![forbid(unsafe_code)]
