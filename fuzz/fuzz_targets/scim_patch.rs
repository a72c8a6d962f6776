//! The `scim_patch` fuzz target: [`fedkit_fuzz::scim_patch`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/scim_patch/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::scim_patch::run(data));
