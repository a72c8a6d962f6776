//! The `saml_response` fuzz target: [`fedkit_fuzz::saml_response`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/saml_response/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::saml_response::run(data));
