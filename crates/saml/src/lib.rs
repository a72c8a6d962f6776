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

pub use assertion::{Attribute, Authn, NameId, VerifiedAssertion, Warning};
pub use config::{IdentityProvider, ServiceProvider, Settings};
pub use error::{ConfigError, CookieProblem, Error, SignedPart, SigningRequirement};
/// The metadata import crate this one takes IdP descriptions from.
pub use fedkit_metadata;
pub use flow::{Login, LoginFlow};
pub use mapping::{AttributeMapping, EmailDomainAllowlist, MappingError, UniqueId, UserProfile};
pub use replay::{InMemoryReplayCache, InMemoryRequestStore, ReplayCache, RequestStore};
pub use response::ResponseValidator;
