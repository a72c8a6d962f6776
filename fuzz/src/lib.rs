//! The fuzz harnesses of fedkit, one module per target in `fuzz_targets/`: each module's `run`
//! is exactly what the libFuzzer target calls, so `tests/regressions.rs` replays every
//! committed crash input (`regressions/<target>/`) through the same code and oracles.
//!
//! Panics (`unwrap`, `expect`, `assert!`) are the point here: each one is an oracle.
#![forbid(unsafe_code)]

pub mod metadata_import;
pub mod parse_c14n;
pub mod saml_logout;
pub mod saml_response;
pub mod scim_filter;
pub mod scim_patch;
pub mod scim_resource;
pub mod scim_service;
pub mod tenancy_domain;
pub mod verify;
pub mod verify_mutation;
