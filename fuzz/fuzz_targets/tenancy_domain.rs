//! The `tenancy_domain` fuzz target: [`fedkit_fuzz::tenancy_domain`] holds the harness and its oracles,
//! which the regression test (`tests/regressions.rs`) replays on every file in `regressions/tenancy_domain/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::tenancy_domain::run(data));
