//! The `parse_c14n` fuzz target: [`fedkit_fuzz::parse_c14n`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/parse_c14n/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::parse_c14n::run(data));
