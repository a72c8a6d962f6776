#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod directory;
mod error;
pub mod saml;
pub mod scim;

pub use directory::{Directory, DirectoryRefusal};
pub use error::{RouteError, ERROR_HEADER};
pub use saml::{refusal_response, request_cookie, Connection, Saml, SamlHost, SessionRef, SignedOut};
pub use scim::Scim;
