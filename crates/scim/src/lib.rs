//! SCIM 2.0 (RFC 7643/7644) data layer: schemas, resources, filters, PATCH, projection,
//! sorting, pagination and errors. No HTTP, no I/O.
#![forbid(unsafe_code)]

pub mod bulk;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod list;
pub mod patch;
pub mod projection;
pub mod resource;
pub mod schema;
