#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod json;
pub mod list;
pub mod patch;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod settings;
