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

pub use fedkit_scim::settings::SettingsError;
pub use handler::{
    error_response, DeleteAction, RequestContext, ScimRequest, ScimResponse, ScimService, ScimSettings,
    UserKey, UserStatus, UserStatusError, DEFAULT_MAX_INLINE_MEMBERS, SCIM_CONTENT_TYPE,
};

#[allow(deprecated)]
pub use handler::{Request, Response, ServiceConfig};
