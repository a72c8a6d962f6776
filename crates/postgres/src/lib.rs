#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod migrate;
mod pool;
pub mod saml;
pub mod scim;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;

pub use pool::{Pool, PoolConfig, PoolError};
pub use tls::TlsMode;
