//! The `metadata_import` fuzz target: [`fedkit_fuzz::metadata_import`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/metadata_import/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::metadata_import::run(data));
