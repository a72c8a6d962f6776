#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
pub mod events;
pub mod handler;
pub mod host;
#[cfg(feature = "http")]
pub mod http;
pub mod ids;
pub mod store;

/// The SCIM data layer this service is built on: schemas, resources, filters, PATCH.
pub use fedkit_scim;
/// A SCIM error (RFC 7644 §3.12), what every refusal of the service is; render it with
/// [`error_response`].
pub use fedkit_scim::error::ScimError;
pub use fedkit_scim::settings::SettingsError;
/// Limits and options [`ScimSettings`] is built from.
pub use fedkit_scim::{
    bulk::BulkLimits, filter::FilterLimits, list::ListLimits, patch::PatchOptions,
    resource::ValidationOptions,
};
pub use handler::{
    error_response, DeleteAction, RequestContext, ScimRequest, ScimResponse, ScimService, ScimSettings,
    UserKey, UserStatus, UserStatusError, DEFAULT_MAX_INLINE_MEMBERS, SCIM_CONTENT_TYPE,
};

#[allow(deprecated)]
pub use handler::{Request, Response, ServiceConfig};
