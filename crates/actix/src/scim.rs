//! The SCIM service mounted on actix-web, and the directory check of the login path.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use fedkit_saml::render::{self, Refusal};
use fedkit_saml::{ConfigError, Login};
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::host::{auth_error_response, strip_base_path};
use fedkit_scim_service::{
    error_response, RequestContext, ScimError, ScimRequest, ScimResponse, ScimService, UserKey, UserStatus,
    UserStatusError,
};

use crate::error::HostRefusal;

/// The end-user message for a login the directory refuses (no such user, or deactivated).
pub const NO_ACCESS: &str = "Your account does not have access to this application. Ask your administrator.";

/// The SCIM service mounted at a base path, with the host's duties done: bearer-token
/// authentication (a 401 carries `WWW-Authenticate`), the body cap of
/// `ScimSettings::max_request_bytes` enforced before the body is buffered (413), the base
/// path stripped, the blocking handler run on actix-web's blocking thread pool, and every
/// refusal answered as a SCIM Error document.
///
/// actix-web 4 uses the `http` crate 0.2, so fedkit-scim-service's `http` feature (for
/// `http` 1) does not apply: this mount converts actix-web's request and response to and from
/// [`ScimRequest`]/[`ScimResponse`] itself.
///
/// Like [`Sso`](crate::Sso), build it once before `HttpServer::new` and mount it with
/// [`routes`](Self::routes) inside the closure (the service and the token registry are then
/// shared by every worker).
#[derive(Clone)]
pub struct Scim(Arc<Inner>);

struct Inner {
    service: Arc<ScimService>,
    tokens: Arc<TokenRegistry>,
    base_url: String,
    base_path: String,
    realm: String,
}

impl std::fmt::Debug for Scim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scim")
            .field("base_url", &self.0.base_url)
            .field("base_path", &self.0.base_path)
            .field("realm", &self.0.realm)
            .field("max_request_bytes", &self.max_request_bytes())
            .finish_non_exhaustive()
    }
}

/// Why [`Scim::check_login`] refuses a login.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// No SCIM user has this userName (or externalId): the IdP has not provisioned the user,
    /// or deleted them.
    #[error("no SCIM user of tenant {tenant:?} has {attribute} {value:?}; the IdP has not provisioned this user (or deleted them): assign the user to the application in the IdP, or check that the NameID is the SCIM {attribute}")]
    NotProvisioned {
        /// The tenant looked in.
        tenant: String,
        /// `userName` or `externalId`.
        attribute: &'static str,
        /// The value looked up (from the assertion).
        value: String,
    },
    /// The SCIM user exists but is deactivated (`active: false`).
    #[error("the SCIM user {user_name:?} (id {id}) of tenant {tenant:?} is deactivated (active=false); the IdP deactivated them, so the login is refused")]
    Deactivated {
        /// The tenant.
        tenant: String,
        /// The SCIM id.
        id: String,
        /// The userName.
        user_name: String,
    },
    /// The directory could not answer (store outage, ambiguous externalId).
    #[error(transparent)]
    Lookup(#[from] UserStatusError),
}

impl DirectoryError {
    /// A stable `snake_case` code: `user_not_provisioned`, `user_deactivated`, or the lookup's.
    pub fn code(&self) -> &'static str {
        match self {
            DirectoryError::NotProvisioned { .. } => "user_not_provisioned",
            DirectoryError::Deactivated { .. } => "user_deactivated",
            DirectoryError::Lookup(e) => e.code(),
        }
    }

    /// A short message for the end user, quoting nothing.
    pub fn user_message(&self) -> &'static str {
        match self {
            DirectoryError::NotProvisioned { .. } | DirectoryError::Deactivated { .. } => NO_ACCESS,
            DirectoryError::Lookup(UserStatusError::Ambiguous { .. }) => render::ASK_ADMIN,
            DirectoryError::Lookup(_) => render::TRY_AGAIN_LATER,
        }
    }
}

impl Refusal for DirectoryError {
    fn code(&self) -> &'static str {
        DirectoryError::code(self)
    }

    fn user_message(&self) -> &'static str {
        DirectoryError::user_message(self)
    }
}

impl From<DirectoryError> for HostRefusal {
    fn from(e: DirectoryError) -> Self {
        HostRefusal::from_refusal(&e)
    }
}

impl Scim {
    /// The service at `base_url` (the absolute URL SCIM clients are given, e.g.
    /// `https://app.example.com/scim/v2`: its path is where the routes are mounted, and it is
    /// the base of `meta.location`), accepting the bearer tokens of `tokens` (each names
    /// its tenant). The URL must have a path (not the site's root).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use fedkit_actix::Scim;
    /// use fedkit_scim_service::{auth::TokenRegistry, ids::RandomIds, store::MemoryStore, ScimService};
    /// let service = Arc::new(ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new())));
    /// let tokens = Arc::new(TokenRegistry::new());
    /// let scim = Scim::new(service.clone(), tokens.clone(), "https://app.example.com/scim/v2/")?;
    /// assert_eq!(scim.base_path(), "/scim/v2");
    /// assert_eq!(scim.max_request_bytes(), service.config().max_request_bytes());
    /// let root = Scim::new(service.clone(), tokens.clone(), "https://app.example.com").unwrap_err();
    /// assert_eq!(root.code(), "setting_invalid");
    /// let relative = Scim::new(service, tokens, "/scim/v2").unwrap_err();
    /// assert_eq!(relative.code(), "bad_url");
    /// # Ok::<(), fedkit_saml::ConfigError>(())
    /// ```
    pub fn new(
        service: Arc<ScimService>,
        tokens: Arc<TokenRegistry>,
        base_url: &str,
    ) -> Result<Self, ConfigError> {
        let base_url = base_url.trim_end_matches('/');
        let rest = base_url
            .strip_prefix("https://")
            .or_else(|| base_url.strip_prefix("http://"))
            .filter(|rest| {
                !rest.is_empty() && !rest.contains(['?', '#']) && !rest.contains(char::is_whitespace)
            })
            .ok_or_else(|| ConfigError::Url {
                field: "SCIM base URL",
                value: base_url.to_owned(),
            })?;
        let base_path = rest
            .find('/')
            .and_then(|i| rest.get(i..))
            .unwrap_or_default()
            .to_owned();
        if base_path.is_empty() {
            // A scope at the root would answer every path of the app with SCIM errors.
            return Err(ConfigError::Invalid {
                field: "SCIM base URL",
                value: base_url.to_owned(),
                expected: "a URL with a path of its own, such as https://app.example.com/scim/v2",
            });
        }
        Ok(Self(Arc::new(Inner {
            service,
            tokens,
            base_url: base_url.to_owned(),
            base_path,
            realm: "SCIM".to_owned(),
        })))
    }

    /// The realm of the `WWW-Authenticate: Bearer realm="…"` challenge (default `SCIM`).
    #[must_use]
    pub fn with_realm(self, realm: &str) -> Self {
        let inner = &self.0;
        Self(Arc::new(Inner {
            service: Arc::clone(&inner.service),
            tokens: Arc::clone(&inner.tokens),
            base_url: inner.base_url.clone(),
            base_path: inner.base_path.clone(),
            realm: realm.to_owned(),
        }))
    }

    /// The service.
    pub fn service(&self) -> &ScimService {
        &self.0.service
    }

    /// The path the routes are mounted at (the base URL's path, e.g. `/scim/v2`).
    pub fn base_path(&self) -> &str {
        &self.0.base_path
    }

    /// The largest body read, in bytes: `ScimSettings::max_request_bytes` (the larger of the
    /// body limit and, when `/Bulk` is on, the Bulk payload limit).
    pub fn max_request_bytes(&self) -> usize {
        self.0.service.config().max_request_bytes()
    }

    /// Registers the routes (every method and path under the base path), sharing this state
    /// with every worker: pass it to `App::configure` inside `HttpServer::new`'s closure.
    pub fn routes(&self) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
        let inner = Arc::clone(&self.0);
        move |config| {
            config.service(
                web::scope(&inner.base_path)
                    .app_data(web::Data::from(inner))
                    .default_service(web::to(handle)),
            );
        }
    }

    /// Whether the user `key` of `tenant` may log in: `Ok` with their status when they are
    /// provisioned and active, a [`DirectoryError`] otherwise. Reads the store (blocking):
    /// call it where blocking is allowed, e.g. [`SsoHost::check`](crate::SsoHost::check).
    pub fn check_user(&self, tenant: &TenantId, key: UserKey<'_>) -> Result<UserStatus, DirectoryError> {
        let (attribute, value) = match key {
            UserKey::UserName(v) => ("userName", v),
            UserKey::ExternalId(v) => ("externalId", v),
            _ => ("key", ""),
        };
        match self.0.service.user_status(tenant, key)? {
            None => Err(DirectoryError::NotProvisioned {
                tenant: tenant.as_str().to_owned(),
                attribute,
                value: value.to_owned(),
            }),
            Some(status) if !status.active => Err(DirectoryError::Deactivated {
                tenant: tenant.as_str().to_owned(),
                id: status.id,
                user_name: status.user_name,
            }),
            Some(status) => Ok(status),
        }
    }

    /// [`check_user`](Self::check_user) for the login's NameID as the SCIM `userName` (the
    /// usual mapping: the IdP sends the email as both). For another mapping, call
    /// `check_user` with the attribute the IdP uses.
    pub fn check_login(&self, tenant: &TenantId, login: &Login) -> Result<UserStatus, DirectoryError> {
        self.check_user(tenant, UserKey::UserName(&login.assertion().name_id().value))
    }
}

/// A [`ScimResponse`] as an actix-web response.
fn into_response(response: ScimResponse) -> HttpResponse {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = HttpResponse::build(status).body(response.body);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

fn refusal(status: u16, detail: String) -> HttpResponse {
    into_response(error_response(&ScimError::new(status, None, detail)))
}

/// Every request under the base path.
async fn handle(inner: web::Data<Inner>, request: HttpRequest, payload: web::Payload) -> HttpResponse {
    let principal = match inner.tokens.authenticate(
        request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(p) => p,
        Err(e) => return into_response(auth_error_response(&e, &inner.realm)),
    };
    let Some(path) = strip_base_path(&inner.base_path, request.path()).map(str::to_owned) else {
        return into_response(error_response(&ScimError::not_found(
            "no SCIM resource at this path",
        )));
    };
    let max = inner.service.config().max_request_bytes();
    let too_large = || {
        refusal(
            413,
            format!("the request body is larger than {max} bytes, the largest this service reads (ScimSettings::max_request_bytes)"),
        )
    };
    // Refused before a byte of the body is read when the client announces its length.
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let body = match payload.to_bytes_limited(max).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return refusal(400, format!("the request body could not be read: {e}")),
        Err(_) => return too_large(),
    };
    let method = request.method().as_str().to_owned();
    let query = request.query_string().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let state = Arc::clone(&inner);
    let answered = web::block(move || {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let ctx = RequestContext {
            tenant: &principal.tenant,
            base_url: &state.base_url,
            now: Utc::now(),
        };
        state.service.handle(
            &ctx,
            &ScimRequest {
                method: &method,
                path: &path,
                query: &query,
                headers: &headers,
                body: &body,
            },
        )
    })
    .await;
    match answered {
        Ok(response) => into_response(response),
        Err(e) => refusal(
            503,
            format!("the blocking thread pool did not run the request: {e}"),
        ),
    }
}
