#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod error;
mod saml;
mod scim;

pub use error::{HostRefusal, SsoError, ERROR_HEADER};
pub use saml::{default_error_page, LoggedOut, Paths, Sso, SsoBuilder, SsoHost, DEFAULT_STORE_CAPACITY};
pub use scim::{DirectoryError, Scim, NO_ACCESS};
