//! Cross-crate conformance harness: fedkit against public third-party vectors.
//!
//! The vectors live in `shared/vectors/` beside the workspace root (see
//! `shared/vectors/README.md`); known divergences are listed, with reasons, in
//! `tests/data/exceptions/<source>.json` (see the README there). Missing data, a SHA-256
//! mismatch, an unexpected pass and an unexpected failure all fail the run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod conformance {
    mod gosaml2;
    mod gosaml2_saml;
    mod santuario;
    mod support;
    mod xmlsec_c14n;
}
