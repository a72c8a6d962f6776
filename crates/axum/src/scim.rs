//! The SCIM service mounted on axum, with every host duty done: bearer authentication (a 401
//! carries `WWW-Authenticate`), the body cap enforced before the body is buffered, the base
//! path stripped, the blocking handler run off the async runtime, SCIM errors as SCIM JSON.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use chrono::Utc;
use fedkit_scim::error::ScimError;
use fedkit_scim_service::auth::TokenRegistry;
use fedkit_scim_service::host::{auth_error_response, strip_base_path};
use fedkit_scim_service::http::into_http_response;
use fedkit_scim_service::{error_response, RequestContext, ScimRequest, ScimResponse, ScimService};

/// A SCIM 2.0 service at a base URL, for axum. Clone it freely (one [`Arc`] inside).
///
/// [`router`](Self::router) answers every method at the base URL's path and below it (merge
/// it into the host's router with `Router::merge`, not `nest`: the adapter strips the base
/// path itself). Per request, in this order:
///
/// 1. `Authorization: Bearer …` is checked against the [`TokenRegistry`]; a refusal is a
///    SCIM 401 with `WWW-Authenticate: Bearer realm="SCIM"` (RFC 6750 §3). The token's tenant
///    is the tenant of the request.
/// 2. The body is capped at [`ScimSettings::max_request_bytes`] of the service's settings
///    (the larger of the normal and the Bulk limit): a `Content-Length` over it is refused
///    with a SCIM 413 before a byte is read, and a body without one stops being read at the
///    cap.
/// 3. [`ScimService::handle`] runs in `spawn_blocking` (it calls the store synchronously).
///
/// [`ScimSettings::max_request_bytes`]: fedkit_scim_service::ScimSettings::max_request_bytes
#[derive(Clone)]
pub struct Scim {
    inner: Arc<ScimInner>,
}

struct ScimInner {
    service: Arc<ScimService>,
    tokens: Arc<TokenRegistry>,
    base_url: String,
    base_path: String,
    realm: String,
}

impl core::fmt::Debug for Scim {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scim")
            .field("base_url", &self.inner.base_url)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

/// The path of an absolute URL, without a trailing `/` (`""` for the root).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or("");
    path.split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_owned()
}

impl Scim {
    /// `service` at `base_url` (absolute, e.g. `https://app.example.com/scim/v2`: the Base
    /// URL the IdP is given, used in `meta.location`; its path is where the routes answer),
    /// authenticating with `tokens`. The `WWW-Authenticate` realm is `SCIM`.
    pub fn new(service: Arc<ScimService>, tokens: Arc<TokenRegistry>, base_url: &str) -> Self {
        let base_url = base_url.trim_end_matches('/').to_owned();
        Self {
            inner: Arc::new(ScimInner {
                service,
                tokens,
                base_path: path_of(&base_url),
                base_url,
                realm: "SCIM".to_owned(),
            }),
        }
    }

    /// Another realm in the `WWW-Authenticate` challenge.
    #[must_use]
    pub fn with_realm(self, realm: &str) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(ScimInner {
                service: inner.service.clone(),
                tokens: inner.tokens.clone(),
                base_url: inner.base_url.clone(),
                base_path: inner.base_path.clone(),
                realm: realm.to_owned(),
            }),
        }
    }

    /// The service.
    pub fn service(&self) -> &Arc<ScimService> {
        &self.inner.service
    }

    /// The routes: every method at the base path and below (see the [type docs](Self)).
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let base = &self.inner.base_path;
        let router = Router::new().route(&format!("{base}/{{*rest}}"), any(handle));
        let router = if base.is_empty() {
            router
        } else {
            router.route(base, any(handle))
        };
        router.with_state(self.clone())
    }
}

fn reply(response: ScimResponse) -> Response {
    into_http_response(response).map(Body::from)
}

async fn handle(State(scim): State<Scim>, request: Request) -> Response {
    let inner = &scim.inner;
    let Some(path) = strip_base_path(&inner.base_path, request.uri().path()).map(str::to_owned) else {
        return reply(error_response(&ScimError::not_found("not a SCIM endpoint")));
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match inner.tokens.authenticate(authorization) {
        Ok(p) => p,
        Err(e) => return reply(auth_error_response(&e, &inner.realm)),
    };
    let max = inner.service.config().max_request_bytes();
    let too_large = || {
        reply(error_response(&ScimError::new(
            413,
            None,
            format!("the request body is larger than this service accepts ({max} bytes); send smaller requests (fewer Bulk operations)"),
        )))
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, max).await else {
        return too_large();
    };
    let worker = scim.clone();
    let answered = tokio::task::spawn_blocking(move || {
        let inner = &worker.inner;
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
            .collect();
        let ctx = RequestContext {
            tenant: &principal.tenant,
            base_url: &inner.base_url,
            now: Utc::now(),
        };
        inner.service.handle(
            &ctx,
            &ScimRequest {
                method: parts.method.as_str(),
                path: &path,
                query: parts.uri.query().unwrap_or(""),
                headers: &headers,
                body: &body,
            },
        )
    })
    .await;
    match answered {
        Ok(response) => reply(response),
        Err(_) => reply(error_response(&ScimError::new(500, None, "internal error"))),
    }
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn the_base_path_is_the_base_urls_path_without_a_trailing_slash() {
        assert_eq!(path_of("https://app.example.com/scim/v2"), "/scim/v2");
        assert_eq!(path_of("https://app.example.com/scim/v2/"), "/scim/v2");
        assert_eq!(path_of("https://app.example.com"), "");
        assert_eq!(path_of("https://app.example.com/?x"), "");
    }
}
