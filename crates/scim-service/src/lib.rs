#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
pub mod events;
pub mod handler;
#[cfg(feature = "http")]
pub mod http;
pub mod ids;
pub mod store;

pub use handler::{
    DeleteAction, Request, RequestContext, Response, ScimService, ServiceConfig, DEFAULT_MAX_INLINE_MEMBERS,
    SCIM_CONTENT_TYPE,
};
