#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod auth;
pub mod events;
pub mod handler;
pub mod store;

pub use handler::{
    DeleteAction, Request, RequestContext, Response, ScimService, ServiceConfig, SCIM_CONTENT_TYPE,
};
