//! The `verify_mutation` fuzz target: [`fedkit_fuzz::verify_mutation`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/verify_mutation/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::verify_mutation::run(data));
