//! Mounting fedkit-scim-service in an axum application (the code `docs/scim.md` shows in "Plug into axum or hyper").
//!
//! ```text
//! SCIM_TOKEN=scim_4f9d2c7e1b8a6d3f0e5c cargo run -p fedkit-cli --example scim_axum
//! curl -H "Authorization: Bearer scim_4f9d2c7e1b8a6d3f0e5c" http://127.0.0.1:8080/scim/v2/ServiceProviderConfig
//! ```
//!
//! `cargo test -p fedkit-cli` compiles it, so the documentation cannot drift from the API.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use fedkit_scim::error::ScimError;
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::store::MemoryStore;
use fedkit_scim_service::{RequestContext, ScimService};

/// What every SCIM request needs.
struct Scim {
    service: ScimService,
    tokens: TokenRegistry,
    /// The public URL of the SCIM base path, for `Location` and `meta.location`.
    base_url: String,
}

/// Answers every request under the base path (axum's `nest` has removed the prefix).
async fn scim(State(scim): State<Arc<Scim>>, request: Request) -> Response {
    // 1. Authenticate: the token decides the tenant.
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal = match scim.tokens.authenticate(authorization) {
        Ok(p) => p,
        Err(e) => {
            let mut response = fedkit_scim_service::http::error_response(&e.into());
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response.map(Body::from);
        }
    };
    // 2. Read the body, with a cap (the service refuses more than 1 MiB anyway).
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let error = ScimError::new(413, None, "the request body is larger than 1 MiB");
            return fedkit_scim_service::http::error_response(&error).map(Body::from);
        }
    };
    let request = Request::from_parts(parts, body);
    // 3. The handler is synchronous (it runs store transactions): keep it off the executor.
    let response = tokio::task::spawn_blocking(move || {
        let ctx = RequestContext {
            tenant: &principal.tenant,
            base_url: &scim.base_url,
            now: chrono::Utc::now(),
        };
        fedkit_scim_service::http::handle(&scim.service, &ctx, &request)
    })
    .await
    .unwrap_or_else(|_| {
        fedkit_scim_service::http::error_response(&ScimError::new(500, None, "internal error"))
    });
    response.map(Body::from)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tokens = TokenRegistry::new();
    tokens.add(&TenantId::new("acme")?, &std::env::var("SCIM_TOKEN")?)?;
    let state = Arc::new(Scim {
        service: ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new())),
        tokens,
        base_url: "http://127.0.0.1:8080/scim/v2".to_owned(),
    });
    let app = axum::Router::new().nest("/scim/v2", axum::Router::new().fallback(scim).with_state(state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
