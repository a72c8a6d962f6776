// The README's examples use both the SCIM and the SAML stores.
#![cfg_attr(all(feature = "scim", feature = "saml"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "scim", feature = "saml")),
    doc = "PostgreSQL backing for fedkit: a SCIM store (feature `scim`) and a shared SAML \
           replay cache and request-ID store (feature `saml`). See the README."
)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "scim", feature = "saml"))]
mod migrate;
mod pool;
#[cfg(feature = "saml")]
pub mod saml;
#[cfg(feature = "scim")]
pub mod scim;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

#[allow(deprecated)]
pub use pool::PoolConfig;
pub use pool::{Pool, PoolError, PoolSettings, PoolSettingsError};
pub use tls::TlsMode;
