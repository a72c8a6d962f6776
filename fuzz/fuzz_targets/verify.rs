//! The `verify` fuzz target: [`fedkit_fuzz::verify`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/verify/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::verify::run(data));
