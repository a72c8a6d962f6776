#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod assertion;
pub mod bindings;
pub mod config;
pub mod connection;
pub mod error;
pub mod flow;
pub mod logout;
pub mod mapping;
pub mod render;
pub mod replay;
pub mod request;
pub mod response;
pub mod setup;
pub mod sp_metadata;
mod time;

pub use assertion::{Attribute, Authn, LoginWarning, NameId, VerifiedAssertion};
pub use bindings::RelayState;
pub use config::{IdentityProvider, ServiceProvider, Settings};
pub use error::{ConfigError, CookieProblem, Error, SignedPart, SigningRequirement};
/// The metadata import crate this one takes IdP descriptions from.
pub use fedkit_metadata;
/// The XML signature crate this one verifies with: a host that signs users in needs nothing
/// else from it than what is re-exported here.
pub use fedkit_xmldsig;
/// Crypto providers (`crypto::RustCrypto`, `crypto::AwsLcRs` with the `aws-lc-rs` feature,
/// `crypto::Strict`), so a host chooses one without depending on fedkit-xmldsig itself.
pub use fedkit_xmldsig::crypto;
/// Keys: the IdP's pinned certificates, the SP's signing and decryption keys.
pub use fedkit_xmldsig::{DecryptionKey, SigningKey, TrustedKeys};
pub use flow::{Login, LoginFlow};
pub use mapping::{AttributeMapping, EmailDomainAllowlist, MappingError, UniqueId, UserProfile};
pub use replay::{InMemoryReplayCache, InMemoryRequestStore, ReplayCache, RequestStore};
pub use response::ResponseValidator;

/// Renamed [`LoginWarning`] (one name per concept: fedkit-metadata's import findings are
/// `ImportWarning`).
#[deprecated(note = "renamed to LoginWarning")]
pub type Warning = LoginWarning;
