//! The `saml_logout` fuzz target: [`fedkit_fuzz::saml_logout`] holds the harness and its oracles, which
//! the regression test (`tests/regressions.rs`) replays on every file in `regressions/saml_logout/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fedkit_fuzz::saml_logout::run(data));
