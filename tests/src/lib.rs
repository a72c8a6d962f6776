//! Cross-crate conformance tests for fedkit; the tests live in `tests/tests/`.
//!
//! The library holds only what tests share: [`vectors`], the lookup of the public conformance
//! vectors (`FEDKIT_VECTORS`, then `../shared/vectors`, then the cache of `scripts/vectors.sh`).

pub mod vectors;
