#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
pub mod saml;

pub use error::{RouteError, ERROR_HEADER};
pub use saml::{refusal_response, Connection, Saml, SamlHost, SessionRef, SignedOut};
