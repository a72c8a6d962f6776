//! SAML 2.0 IdP metadata import. Sans-IO: bytes in, the caller supplies `now`.
#![forbid(unsafe_code)]
