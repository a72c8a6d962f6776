//! An adapter for the [`http`] crate's `Request` and `Response` types (feature `http`),
//! so a server built on axum, hyper, actix-web (via its `http` conversions) or any other
//! framework using `http` v1 mounts the service in a few lines.
//!
//! The adapter only translates: it splits the URI into the path and the query string, passes
//! the headers and the body bytes to [`ScimService::handle`], and turns its [`ScimResponse`] into
//! an `http::Response<Vec<u8>>`. Authentication, the tenant, the base URL, reading the body
//! (with a size cap) and running the call off the async executor stay with the host, as for
//! the handler itself.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use fedkit_scim_service::auth::{TenantId, TokenRegistry};
//! use fedkit_scim_service::store::MemoryStore;
//! use fedkit_scim_service::{RequestContext, ScimService};
//!
//! let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(fedkit_scim_service::ids::RandomIds::new()));
//! let tokens = TokenRegistry::new();
//! tokens.add(&TenantId::new("acme")?, "scim_4f9d2c7e1b8a6d3f0e5c")?;
//!
//! // What your server received (in axum: the request with its body collected into Bytes).
//! let request = http::Request::builder()
//!     .method("POST")
//!     .uri("/scim/v2/Users?attributes=userName")
//!     .header("Authorization", "Bearer scim_4f9d2c7e1b8a6d3f0e5c")
//!     .header("Content-Type", "application/scim+json")
//!     .body(br#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!               "userName": "jane.doe@example.com"}"#.to_vec())?;
//!
//! let authorization = request
//!     .headers()
//!     .get(http::header::AUTHORIZATION)
//!     .and_then(|v| v.to_str().ok());
//! let principal = match tokens.authenticate(authorization) {
//!     Ok(p) => p,
//!     Err(e) => {
//!         // 401 with a SCIM Error body (add `WWW-Authenticate: Bearer` in a real server).
//!         let _response = fedkit_scim_service::http::error_response(&e.into());
//!         return Ok(());
//!     }
//! };
//! let ctx = RequestContext {
//!     tenant: &principal.tenant,
//!     base_url: "https://app.example.com/scim/v2",
//!     now: chrono::DateTime::from_timestamp(1_790_000_000, 0).ok_or("time")?, // Utc::now()
//! };
//! let response = fedkit_scim_service::http::handle_under(&service, &ctx, "/scim/v2", &request);
//! assert_eq!(response.status(), http::StatusCode::CREATED);
//! assert_eq!(response.headers()["content-type"], "application/scim+json");
//! let location = response.headers()["location"].to_str()?;
//! assert!(location.starts_with("https://app.example.com/scim/v2/Users/"));
//! let user: serde_json::Value = serde_json::from_slice(response.body())?;
//! assert_eq!(user["userName"], "jane.doe@example.com");
//!
//! // A path outside the base path is a SCIM 404, not a panic or an empty answer.
//! let stray = http::Request::get("/admin").body(Vec::new())?;
//! let response = fedkit_scim_service::http::handle_under(&service, &ctx, "/scim/v2", &stray);
//! assert_eq!(response.status(), http::StatusCode::NOT_FOUND);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With axum's `Router::nest("/scim/v2", …)` the router already removes the prefix from the
//! URI: call [`handle`] there (`docs/scim.md` has the whole axum handler).

use ::http::header::{HeaderName, HeaderValue};
use ::http::StatusCode;
use fedkit_scim::error::ScimError;

use crate::handler::{RequestContext, ScimRequest, ScimResponse, ScimService};

/// Answers `request`, whose URI path is the SCIM path itself (`/Users/2819c223`): the base
/// path was already removed, e.g. by axum's `Router::nest`. See [`handle_under`] otherwise.
///
/// Header values that are not visible ASCII (which no SCIM header needs) are not passed on.
pub fn handle<B: AsRef<[u8]>>(
    service: &ScimService,
    ctx: &RequestContext<'_>,
    request: &::http::Request<B>,
) -> ::http::Response<Vec<u8>> {
    call(service, ctx, request, request.uri().path())
}

/// Answers `request`, whose URI path starts with `base_path` (e.g. `/scim/v2`, with or without
/// a trailing slash; `""` or `/` for the root). A path outside `base_path` gets a SCIM 404
/// without reaching the service.
pub fn handle_under<B: AsRef<[u8]>>(
    service: &ScimService,
    ctx: &RequestContext<'_>,
    base_path: &str,
    request: &::http::Request<B>,
) -> ::http::Response<Vec<u8>> {
    match strip_base_path(base_path, request.uri().path()) {
        Some(path) => call(service, ctx, request, path),
        None => error_response(&ScimError::not_found(format!(
            "no SCIM endpoint at {:?}; the SCIM base URL ends in {:?} (check the Base URL in the IdP)",
            request.uri().path(),
            base_path.trim_end_matches('/'),
        ))),
    }
}

pub use crate::host::strip_base_path;

fn call<B: AsRef<[u8]>>(
    service: &ScimService,
    ctx: &RequestContext<'_>,
    request: &::http::Request<B>,
    path: &str,
) -> ::http::Response<Vec<u8>> {
    let headers: Vec<(&str, &str)> = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let response = service.handle(
        ctx,
        &ScimRequest {
            method: request.method().as_str(),
            path,
            query: request.uri().query().unwrap_or(""),
            headers: &headers,
            body: request.body().as_ref(),
        },
    );
    into_http_response(response)
}

/// Converts a handler [`ScimResponse`]. A header the `http` crate refuses (never produced by
/// the handler) is left out; a status outside 100–999 (same) becomes 500.
pub fn into_http_response(response: ScimResponse) -> ::http::Response<Vec<u8>> {
    let mut out = ::http::Response::new(response.body);
    *out.status_mut() = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

/// A SCIM Error response (RFC 7644 §3.12) for a failure the host detects before calling the
/// service: authentication (`AuthError` converts into [`ScimError`]), rate limits, bodies too
/// large to read. Status and body come from `error`; `Content-Type` is
/// `application/scim+json`.
pub fn error_response(error: &ScimError) -> ::http::Response<Vec<u8>> {
    into_http_response(crate::handler::error_response(error))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use std::sync::Arc;

    use serde_json::{json, Value};

    use super::*;
    use crate::auth::TenantId;
    use crate::handler::SCIM_CONTENT_TYPE;
    use crate::store::MemoryStore;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn json_of(r: &::http::Response<Vec<u8>>) -> Value {
        serde_json::from_slice(r.body()).unwrap()
    }

    #[test]
    fn base_paths() {
        assert_eq!(strip_base_path("/scim/v2", "/scim/v2/Users"), Some("/Users"));
        assert_eq!(strip_base_path("/scim/v2/", "/scim/v2/Users"), Some("/Users"));
        assert_eq!(strip_base_path("/scim/v2", "/scim/v2"), Some(""));
        assert_eq!(strip_base_path("/scim/v2", "/scim/v2x/Users"), None);
        assert_eq!(strip_base_path("/scim/v2", "/scim"), None);
        assert_eq!(strip_base_path("/scim/v2", "/Users"), None);
        assert_eq!(strip_base_path("", "/Users"), Some("/Users"));
        assert_eq!(strip_base_path("/", "/Users"), Some("/Users"));
    }

    #[test]
    fn passes_method_path_query_headers_and_body() {
        let service = ScimService::new(
            Arc::new(MemoryStore::new()),
            Arc::new(crate::ids::RandomIds::new()),
        );
        let tenant = TenantId::new("acme").unwrap();
        let ctx = RequestContext {
            tenant: &tenant,
            base_url: "https://sp.example/scim/v2",
            now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        };
        let body = json!({"schemas": [USER], "userName": "bjensen@example.com"}).to_string();
        let created = handle(
            &service,
            &ctx,
            &::http::Request::post("/Users").body(body.as_bytes()).unwrap(),
        );
        assert_eq!(created.status(), StatusCode::CREATED);
        let id = json_of(&created)["id"].as_str().unwrap().to_owned();
        let etag = created.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(
            created.headers()["location"],
            format!("https://sp.example/scim/v2/Users/{id}").as_str()
        );

        // The query string reaches the handler (filter, projection).
        let found = handle_under(
            &service,
            &ctx,
            "/scim/v2",
            &::http::Request::get(
                "/scim/v2/Users?filter=userName%20eq%20%22BJENSEN%40example.com%22&attributes=userName",
            )
            .body(Vec::new())
            .unwrap(),
        );
        assert_eq!(found.status(), StatusCode::OK);
        let list = json_of(&found);
        assert_eq!(list["totalResults"], 1);
        assert!(list["Resources"][0].get("name").is_none());

        // Headers reach the handler: a current If-None-Match is a 304.
        let not_modified = handle_under(
            &service,
            &ctx,
            "/scim/v2",
            &::http::Request::get(format!("/scim/v2/Users/{id}"))
                .header("if-none-match", &etag)
                .body(Vec::new())
                .unwrap(),
        );
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);

        // The method: DELETE, then the user is gone.
        let deleted = handle(
            &service,
            &ctx,
            &::http::Request::delete(format!("/Users/{id}")).body([]).unwrap(),
        );
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        let gone = handle(
            &service,
            &ctx,
            &::http::Request::get(format!("/Users/{id}")).body([]).unwrap(),
        );
        assert_eq!(gone.status(), StatusCode::NOT_FOUND);
        assert_eq!(json_of(&gone)["status"], "404");
    }

    #[test]
    fn outside_the_base_path_is_a_scim_404() {
        let service = ScimService::new(
            Arc::new(MemoryStore::new()),
            Arc::new(crate::ids::RandomIds::new()),
        );
        let tenant = TenantId::new("acme").unwrap();
        let ctx = RequestContext {
            tenant: &tenant,
            base_url: "https://sp.example/scim/v2",
            now: chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
        };
        let r = handle_under(
            &service,
            &ctx,
            "/scim/v2",
            &::http::Request::get("/scim/v1/Users").body([]).unwrap(),
        );
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()["content-type"], SCIM_CONTENT_TYPE);
        let doc = json_of(&r);
        assert_eq!(doc["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");
        assert!(doc["detail"].as_str().unwrap().contains("/scim/v1/Users"));
    }

    #[test]
    fn error_responses_and_conversion() {
        let r = error_response(&ScimError::new(429, None, "slow down"));
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            json_of(&r),
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "429", "detail": "slow down"})
        );
        let r = into_http_response(ScimResponse {
            status: 42,
            headers: vec![("X-Bad", "a\nb".to_owned()), ("ETag", "W/\"1\"".to_owned())],
            body: Vec::new(),
        });
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(r.headers().get("x-bad").is_none());
        assert_eq!(r.headers()["etag"], "W/\"1\"");
    }
}
