//! The framework-free SCIM protocol handler: bytes in, status + headers + bytes out.
//!
//! The host's HTTP server authenticates the request (see [`crate::auth`]), decides the
//! tenant and the base URL, strips its base path (e.g. `/scim/v2`) and calls
//! [`ScimService::handle`]. Nothing here does I/O except through the [`Store`].

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::TenantId;
use crate::ids::IdSource;
use crate::store::Store;

/// The content type of every SCIM body (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// One HTTP request, as the host's server received it.
#[derive(Debug, Clone, Copy)]
pub struct ScimRequest<'a> {
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

impl ScimRequest<'_> {
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
pub struct ScimResponse {
    /// The HTTP status code.
    pub status: u16,
    /// Response headers (`Content-Type`, `Location`, `ETag`, `Retry-After`, ...).
    pub headers: Vec<(&'static str, String)>,
    /// The body (a SCIM JSON document, or empty).
    pub body: Vec<u8>,
}

impl ScimResponse {
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

mod config;
mod members;
mod ops;
mod route;
mod search;
mod status;

pub use config::{DeleteAction, MeResolver, ScimSettings, UserDeletionPolicy, DEFAULT_MAX_INLINE_MEMBERS};
pub use status::{UserKey, UserStatus, UserStatusError};

/// The old name of [`ScimSettings`].
#[deprecated(note = "renamed to ScimSettings (component configuration is named `…Settings`)")]
pub type ServiceConfig = ScimSettings;

/// The old name of [`ScimRequest`].
#[deprecated(note = "renamed to ScimRequest (no clash with the framework's Request)")]
pub type Request<'a> = ScimRequest<'a>;

/// The old name of [`ScimResponse`].
#[deprecated(note = "renamed to ScimResponse (no clash with the framework's Response)")]
pub type Response = ScimResponse;

use fedkit_scim::discovery::ServiceProviderConfig;
use fedkit_scim::error::ScimError;
use fedkit_scim::schema::SchemaRegistry;

use crate::events::EventSink;

/// The SCIM service provider: schemas, configuration, a [`Store`], an [`IdSource`] and event
/// hooks.
///
/// Cheap to share: wrap it in an `Arc` and call [`ScimService::handle`] from any thread.
///
/// ```
/// use std::sync::Arc;
/// use fedkit_scim_service::auth::TenantId;
/// use fedkit_scim_service::ids::RandomIds;
/// use fedkit_scim_service::store::MemoryStore;
/// use fedkit_scim_service::{ScimRequest, RequestContext, ScimService};
///
/// let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new()));
/// let tenant = TenantId::new("acme")?;
/// let ctx = RequestContext {
///     tenant: &tenant,
///     base_url: "https://app.example.com/scim/v2",
///     now: chrono::DateTime::from_timestamp(1_790_000_000, 0).ok_or("time")?,
/// };
/// let body = br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
///                 "userName": "bjensen@example.com", "active": true}"#;
/// let created = service.handle(&ctx, &ScimRequest {
///     method: "POST", path: "/Users", query: "", headers: &[], body,
/// });
/// assert_eq!(created.status, 201);
/// let location = created.header("Location").unwrap().to_owned();
/// assert!(location.starts_with("https://app.example.com/scim/v2/Users/"));
///
/// let found = service.handle(&ctx, &ScimRequest {
///     method: "GET", path: "/Users",
///     query: "filter=userName%20eq%20%22BJENSEN@example.com%22", headers: &[], body: b"",
/// });
/// let list: serde_json::Value = serde_json::from_slice(&found.body)?;
/// assert_eq!(list["totalResults"], 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ScimService {
    store: Arc<dyn Store>,
    ids: Arc<dyn IdSource>,
    registry: SchemaRegistry,
    config: ScimSettings,
    events: Option<Arc<dyn EventSink>>,
}

impl std::fmt::Debug for ScimService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScimService")
            .field("config", &self.config)
            .field("events", &self.events.is_some())
            .finish_non_exhaustive()
    }
}

impl ScimService {
    /// A service over `store`, naming new resources with ids from `ids` (e.g.
    /// `ids::RandomIds`, feature `getrandom`), with the core schemas
    /// (User with the Enterprise User extension, Group) and the default [`ScimSettings`].
    pub fn new(store: Arc<dyn Store>, ids: Arc<dyn IdSource>) -> Self {
        Self {
            store,
            ids,
            registry: SchemaRegistry::core(),
            config: ScimSettings::default(),
            events: None,
        }
    }

    /// Uses `config`.
    #[must_use]
    pub fn with_config(mut self, config: ScimSettings) -> Self {
        self.config = config;
        self
    }

    /// Uses `registry` (e.g. [`SchemaRegistry::core`] plus a custom User extension). It
    /// must keep the `User` and `Group` resource types.
    #[must_use]
    pub fn with_registry(mut self, registry: SchemaRegistry) -> Self {
        self.registry = registry;
        self
    }

    /// Delivers the events of every successful request to `sink`, after commit.
    #[must_use]
    pub fn with_events(mut self, sink: Arc<dyn EventSink>) -> Self {
        self.events = Some(sink);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ScimSettings {
        &self.config
    }

    /// The schemas.
    pub fn registry(&self) -> &SchemaRegistry {
        &self.registry
    }

    /// The `/ServiceProviderConfig` this service advertises (from its configuration).
    pub fn service_provider_config(&self) -> ServiceProviderConfig {
        let mut spc = ServiceProviderConfig::default();
        spc.bulk = self.config.bulk_enabled();
        if self.config.bulk_enabled() {
            spc.bulk_max_operations = self.config.bulk_limits().max_operations() as u64;
            spc.bulk_max_payload_size = self.config.bulk_limits().max_payload_size() as u64;
        }
        spc.filter_max_results = self.config.list_limits().max_results() as u64;
        spc
    }

    /// Answers one request. Never panics; every failure is a SCIM `Error` document with
    /// the status and `scimType` RFC 7644 gives it. Bad client input never gets a 5xx; a
    /// 5xx means the store failed (503 with `Retry-After` when it was only busy).
    pub fn handle(&self, ctx: &RequestContext<'_>, request: &ScimRequest<'_>) -> ScimResponse {
        match route::dispatch(self, ctx, request) {
            Ok(response) => response,
            Err(error) => error_response(&error),
        }
    }
}

/// The SCIM Error response (RFC 7644 §3.12) for `error`: its status, `Content-Type:
/// application/scim+json`, the error document as body, and `Retry-After: 1` on a 503. What
/// [`ScimService::handle`] answers a failure with, for the failures a host finds before
/// calling it (rate limits, a body over
/// [`ScimSettings::max_request_bytes`](crate::ScimSettings::max_request_bytes)); for
/// authentication see [`crate::host::auth_error_response`].
///
/// ```
/// use fedkit_scim::error::ScimError;
/// let response = fedkit_scim_service::error_response(&ScimError::new(429, None, "slow down"));
/// assert_eq!(response.status, 429);
/// assert_eq!(response.header("Content-Type"), Some("application/scim+json"));
/// let body: serde_json::Value = serde_json::from_slice(&response.body)?;
/// assert_eq!(body["status"], "429");
/// assert_eq!(body["detail"], "slow down");
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn error_response(error: &ScimError) -> ScimResponse {
    let mut headers = vec![("Content-Type", SCIM_CONTENT_TYPE.to_owned())];
    if error.status == 503 {
        headers.push(("Retry-After", "1".to_owned()));
    }
    ScimResponse {
        status: error.status,
        headers,
        body: error.to_json().to_string().into_bytes(),
    }
}

/// A JSON response.
pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> ScimResponse {
    ScimResponse {
        status,
        headers: vec![("Content-Type", SCIM_CONTENT_TYPE.to_owned())],
        body: body.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests;
