//! Cross-crate conformance harness: fedkit against public third-party vectors.
//!
//! The vectors have the layout of `shared/vectors/` (see `tests/README.md`). They are
//! found through [`fedkit_conformance::vectors`]: `FEDKIT_VECTORS`, else `../shared/vectors`
//! beside the workspace root, else the cache `bash scripts/vectors.sh` fetches from upstream
//! (`target/vectors` or `FEDKIT_VECTORS_CACHE`), every file checked against
//! `scripts/vectors.lock`. Known divergences are listed, with reasons, in
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
    mod vectors_lock;
    mod xmlsec_c14n;
}
