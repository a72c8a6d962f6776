//! The framework-free SCIM protocol handler: bytes in, status + headers + bytes out.
//!
//! The host's HTTP server authenticates the request (see [`crate::auth`]), decides the
//! tenant and the base URL, strips its base path (e.g. `/scim/v2`) and calls
//! [`ScimService::handle`]. Nothing here does I/O except through the [`Store`].

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::TenantId;
use crate::store::Store;

/// The content type of every SCIM body (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// One HTTP request, as the host's server received it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The method, e.g. `GET` (compared case-insensitively).
    pub method: &'a str,
    /// The path after the base path, e.g. `/Users/2819c223`, still percent-encoded.
    pub path: &'a str,
    /// The raw query string without `?` (empty when there is none), still percent-encoded.
    pub query: &'a str,
    /// The request headers (names compared case-insensitively).
    pub headers: &'a [(&'a str, &'a str)],
    /// The body bytes (empty when there is none).
    pub body: &'a [u8],
}

impl Request<'_> {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }
}

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers (`Content-Type`, `Location`, `ETag`, `Retry-After`, ...).
    pub headers: Vec<(&'static str, String)>,
    /// The body (a SCIM JSON document, or empty).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Who is asking and where the service lives, decided by the host for each request.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The tenant whose data the request reads and changes.
    pub tenant: &'a TenantId,
    /// The absolute base URL of this tenant's SCIM service, e.g.
    /// `https://app.example.com/scim/v2/acme`: used for `meta.location` and `Location`.
    pub base_url: &'a str,
    /// The current time (for `meta.created` / `meta.lastModified`).
    pub now: DateTime<Utc>,
}

/// The SCIM service provider: schemas, configuration, a [`Store`] and event hooks.
pub struct ScimService {
    store: Arc<dyn Store>,
}

impl ScimService {
    /// A service over `store` with the default configuration.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Answers one request.
    pub fn handle(&self, ctx: &RequestContext<'_>, request: &Request<'_>) -> Response {
        let _ = (&self.store, ctx, request);
        Response {
            status: 501,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}
