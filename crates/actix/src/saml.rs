//! The SAML routes: login start, ACS, SP metadata, Single Logout, logout start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{Duration, Utc};
use fedkit_saml::crypto::{default_provider, CryptoProvider};
use fedkit_saml::flow::Outgoing;
use fedkit_saml::logout::{LogoutMessage, LogoutRequest, LogoutValidator, OutgoingLogout};
use fedkit_saml::render::{error_html, Detail};
use fedkit_saml::request::{safe_redirect, ID_RANDOM_BYTES};
use fedkit_saml::sp_metadata::SpMetadata;
use fedkit_saml::RelayState;
use fedkit_saml::{
    ConfigError, InMemoryReplayCache, InMemoryRequestStore, Login, LoginFlow, NameId, ReplayCache,
    RequestStore, ServiceProvider, SigningKey,
};
use fedkit_scim_service::auth::TenantId;
use rand_core::{OsRng, RngCore as _};
use serde::Deserialize;

use crate::error::{HostRefusal, SsoError};
use crate::scim::Scim;

/// Capacity of the default in-memory request store and replay cache.
pub const DEFAULT_STORE_CAPACITY: usize = 100_000;

/// The longest return path (`next`) a login keeps in the request store.
const MAX_RETURN_PATH_BYTES: usize = 2048;

/// How long an SP-initiated LogoutRequest waits for the IdP's LogoutResponse.
const LOGOUT_LIFETIME_MINUTES: i64 = 10;

/// What the host does at the moments only it can: open its session after a login, end it at
/// logout, and (optionally) refuse a valid login or draw the error page.
///
/// [`check`](Self::check) and [`idp_logout`](Self::idp_logout) run on actix-web's blocking
/// thread pool (they may query a database); the others on the worker thread, so keep them
/// quick (no blocking I/O).
pub trait SsoHost: Send + Sync + 'static {
    /// A last check of a login fedkit accepted, before [`logged_in`](Self::logged_in): e.g.
    /// [`Scim::check_login`](crate::Scim::check_login) refuses a user SCIM deactivated. The
    /// default accepts every login.
    fn check(&self, login: &Login) -> Result<(), HostRefusal> {
        let _ = login;
        Ok(())
    }

    /// The user logged in: open the host's session and add its cookie to `response`, a `303
    /// See Other` to where the login started from ([`Login::redirect_target`]: a path on this
    /// site) or else to the after-login path ([`SsoBuilder::with_after_login`], default
    /// `/`). Add headers with `append_header` (or `insert_header` to replace the
    /// `Location`); the adapter then appends the `Set-Cookie` that deletes the login cookie.
    fn logged_in(&self, request: &HttpRequest, login: Login, response: &mut HttpResponseBuilder);

    /// The user asked to log out (`POST` to the logout path): end the session of `request`
    /// (add the `Set-Cookie` that deletes the session cookie to `response`), and say who was
    /// logged in, so that the IdP is asked to end its session too (when Single Logout is
    /// configured). `None` when there was no session.
    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut>;

    /// The IdP asked to end the sessions of `request.name_id()` (with one of
    /// `request.session_indexes()`, or all when there is none): a verified, signed
    /// LogoutRequest. The adapter then answers the IdP with a LogoutResponse.
    fn idp_logout(&self, request: &LogoutRequest);

    /// The page for a refusal. The adapter adds the [`ERROR_HEADER`](crate::ERROR_HEADER) header and logs the
    /// admin message (`log::warn!`). The default is [`default_error_page`].
    fn error_page(&self, request: &HttpRequest, error: &SsoError) -> HttpResponse {
        let _ = request;
        default_error_page(error)
    }
}

/// A host shared with the rest of the application (e.g. to reach its sessions elsewhere).
impl<T: SsoHost> SsoHost for Arc<T> {
    fn check(&self, login: &Login) -> Result<(), HostRefusal> {
        T::check(self, login)
    }

    fn logged_in(&self, request: &HttpRequest, login: Login, response: &mut HttpResponseBuilder) {
        T::logged_in(self, request, login, response);
    }

    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut> {
        T::logout(self, request, response)
    }

    fn idp_logout(&self, request: &LogoutRequest) {
        T::idp_logout(self, request);
    }

    fn error_page(&self, request: &HttpRequest, error: &SsoError) -> HttpResponse {
        T::error_page(self, request, error)
    }
}

/// Who logged out, for the LogoutRequest sent to the IdP: the NameID and SessionIndex of the
/// login ([`Login::assertion`]'s `name_id()` and `session_index()`), which the host kept in
/// its session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedOut {
    /// The NameID.
    pub name_id: NameId,
    /// The SessionIndex, when the IdP gave one.
    pub session_index: Option<String>,
}

impl LoggedOut {
    /// The subject of a login.
    pub fn new(name_id: NameId, session_index: Option<String>) -> Self {
        Self {
            name_id,
            session_index,
        }
    }

    /// The subject of `login` (what the host keeps in its session).
    pub fn of(login: &Login) -> Self {
        Self::new(
            login.assertion().name_id().clone(),
            login.assertion().session_index().map(str::to_owned),
        )
    }
}

/// The default error page: status [`SsoError::status`], a minimal HTML page around
/// [`error_html`] with [`Detail::EndUser`] (the end-user message and the code, nothing
/// from the request).
pub fn default_error_page(error: &SsoError) -> HttpResponse {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head><body>{}</body></html>",
        error_html(error, Detail::EndUser)
    );
    HttpResponse::build(error.status())
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// The SAML routes' shared state: the login flow, the request store, the replay cache, the
/// Single Logout settings and the host's callbacks, behind one `Arc`.
///
/// **Build it once, before `HttpServer::new`, and mount it with [`routes`](Self::routes)
/// in the factory closure.** actix-web runs that closure once per worker thread: state built
/// inside it is per worker, so the in-memory request store and replay cache would be split
/// between workers (a login started on one worker refused on another, a replayed Response
/// accepted by another worker). `routes` shares this one state with every worker
/// (`web::Data::from` the same `Arc`), and `Sso` has no other way to be mounted.
///
/// A state built per worker anyway is detected: when two live states with the in-memory
/// stores are mounted for the same ACS URL in one process, every SAML route of both refuses
/// with `state_per_worker` (500) and the log says why, rather than let replays through.
/// States over shared stores ([`SsoBuilder::with_stores`]) may be built per worker.
///
/// ```no_run
/// # use actix_web::{App, HttpServer};
/// # fn demo(sso: fedkit_actix::Sso) -> std::io::Result<()> {
/// // `sso` built once, here, outside the closure:
/// let server = HttpServer::new(move || App::new().configure(sso.routes()));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Sso(Arc<Inner>);

impl std::fmt::Debug for Sso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sso")
            .field("paths", &self.0.paths)
            .field("form_limit", &self.0.form_limit)
            .field("single_logout", &self.0.logout.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner {
    flow: LoginFlow,
    requests: Arc<dyn RequestStore>,
    replay: Arc<dyn ReplayCache>,
    host: Arc<dyn SsoHost>,
    logout: Option<Logout>,
    metadata_xml: String,
    paths: Paths,
    after_login: String,
    after_logout: String,
    form_limit: usize,
    directory: Option<(Scim, TenantId)>,
    /// Whether the stores are this state's own in-memory ones.
    in_memory: bool,
    /// Set when another state with in-memory stores serves the same ACS URL in this process.
    split: AtomicBool,
}

/// Every mounted state with in-memory stores, by ACS URL, to detect a state built per worker.
static MOUNTED: Mutex<Vec<(String, Weak<Inner>)>> = Mutex::new(Vec::new());

impl Inner {
    fn acs_url(&self) -> &str {
        self.flow
            .validator()
            .service_provider()
            .acs_urls()
            .first()
            .map_or("", String::as_str)
    }

    /// Records that `self` is mounted; when another live state with in-memory stores serves
    /// the same ACS URL, both are marked split (their routes then refuse every request).
    fn register(self: &Arc<Self>) {
        if !self.in_memory {
            return;
        }
        let mut mounted = MOUNTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        mounted.retain(|(_, state)| state.strong_count() > 0);
        for (url, other) in mounted.iter() {
            if url != self.acs_url() {
                continue;
            }
            if let Some(other) = other.upgrade().filter(|o| !Arc::ptr_eq(o, self)) {
                other.split.store(true, Ordering::SeqCst);
                self.split.store(true, Ordering::SeqCst);
            }
        }
        if !mounted
            .iter()
            .any(|(_, state)| std::ptr::eq(state.as_ptr(), Arc::as_ptr(self)))
        {
            mounted.push((self.acs_url().to_owned(), Arc::downgrade(self)));
        }
    }

    /// The refusal of a state built per worker, if this one is.
    fn split_error(&self) -> Option<SsoError> {
        self.split
            .load(Ordering::SeqCst)
            .then(|| SsoError::StatePerWorker {
                acs_url: self.acs_url().to_owned(),
            })
    }
}

struct Logout {
    validator: LogoutValidator,
    sp: ServiceProvider,
    idp_slo_url: String,
    signing: Option<(SigningKey, &'static dyn CryptoProvider)>,
}

/// Where the routes are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Paths {
    /// `GET`: starts an SP-initiated login (`?next=/local/path` to come back to).
    pub login: String,
    /// `POST`: the Assertion Consumer Service (the ACS URL's path).
    pub acs: String,
    /// `GET`: the SP metadata document.
    pub metadata: String,
    /// `POST`: the user logs out (locally, then at the IdP when Single Logout is on).
    pub logout: String,
    /// `GET` and `POST`: the IdP's Single Logout messages (the SP SLO URL's path), when
    /// Single Logout is on.
    pub slo: Option<String>,
}

/// The path of an absolute URL (`/` when it has none).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme
        .find('/')
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or_default()
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

/// The largest urlencoded form carrying a base64 message of at most `max_xml` bytes: base64
/// is a third larger than the XML, and percent-encoding may triple it (`+`, `/` and `=`
/// become `%2B`, `%2F`, `%3D`), plus room for the RelayState and the field names.
fn form_limit(max_xml: usize) -> usize {
    let base64 = max_xml.div_ceil(3).saturating_mul(4);
    base64.saturating_mul(3).saturating_add(8 * 1024)
}

/// Builds an [`Sso`]. See [`Sso::builder`].
#[must_use]
pub struct SsoBuilder {
    flow: LoginFlow,
    stores: Option<(Arc<dyn RequestStore>, Arc<dyn ReplayCache>)>,
    single_logout: Option<(String, String)>,
    signing: Option<(SigningKey, String, &'static dyn CryptoProvider)>,
    after_login: String,
    after_logout: String,
    directory: Option<(Scim, TenantId)>,
}

impl std::fmt::Debug for SsoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoBuilder")
            .field("flow", &self.flow)
            .field("custom_stores", &self.stores.is_some())
            .field("single_logout", &self.single_logout)
            .field("signing", &self.signing.is_some())
            .field("after_login", &self.after_login)
            .field("after_logout", &self.after_logout)
            .field("directory", &self.directory)
            .finish()
    }
}

impl Sso {
    /// Starts building the routes over `flow` (e.g. [`SsoSetup::into_flow`](fedkit_saml::setup::SsoSetup::into_flow)).
    ///
    /// The routes are derived from the flow's ACS URL: with `https://app.example.com/saml/acs`
    /// they are `/saml/acs` (ACS), `/saml/login`, `/saml/metadata` and `/saml/logout` (see
    /// [`Paths`]).
    pub fn builder(flow: LoginFlow) -> SsoBuilder {
        SsoBuilder {
            flow,
            stores: None,
            single_logout: None,
            signing: None,
            after_login: "/".to_owned(),
            after_logout: "/".to_owned(),
            directory: None,
        }
    }

    /// Registers the routes, sharing this state with every worker: pass it to
    /// `App::configure` inside `HttpServer::new`'s closure (see the [type docs](Self)).
    pub fn routes(&self) -> impl FnOnce(&mut web::ServiceConfig) + 'static {
        let inner = Arc::clone(&self.0);
        move |config| {
            inner.register();
            let data = web::Data::from(Arc::clone(&inner));
            let limit = inner.form_limit;
            let form = move || {
                web::FormConfig::default()
                    .limit(limit)
                    .error_handler(|error, request| form_error(&error, request))
            };
            let paths = &inner.paths;
            config
                .service(
                    web::resource(paths.login.as_str())
                        .app_data(data.clone())
                        .route(web::get().to(login)),
                )
                .service(
                    web::resource(paths.acs.as_str())
                        .app_data(data.clone())
                        .app_data(form())
                        .route(web::post().to(acs)),
                )
                .service(
                    web::resource(paths.metadata.as_str())
                        .app_data(data.clone())
                        .route(web::get().to(metadata)),
                )
                .service(
                    web::resource(paths.logout.as_str())
                        .app_data(data.clone())
                        .route(web::post().to(logout)),
                );
            if let Some(slo) = &paths.slo {
                config.service(
                    web::resource(slo.as_str())
                        .app_data(data)
                        .app_data(form())
                        .route(web::get().to(slo_redirect))
                        .route(web::post().to(slo_post)),
                );
            }
        }
    }

    /// Where the routes are mounted.
    pub fn paths(&self) -> &Paths {
        &self.0.paths
    }

    /// The largest form the ACS and SLO routes read, in bytes (derived from the flow's
    /// `Settings::max_message_bytes`).
    pub fn form_limit(&self) -> usize {
        self.0.form_limit
    }

    /// The SP metadata document the metadata route serves.
    pub fn metadata_xml(&self) -> &str {
        &self.0.metadata_xml
    }
}

impl SsoBuilder {
    /// Uses these stores instead of the in-memory ones (e.g. fedkit-postgres's, shared by
    /// several processes). The in-memory default holds [`DEFAULT_STORE_CAPACITY`] entries
    /// each and serves one process.
    pub fn with_stores(mut self, requests: Arc<dyn RequestStore>, replay: Arc<dyn ReplayCache>) -> Self {
        self.stores = Some((requests, replay));
        self
    }

    /// Turns Single Logout on: this SP's SLO URL (where the IdP sends LogoutRequests and
    /// LogoutResponses, listed in the SP metadata) and the IdP's SLO URL (HTTP-Redirect:
    /// where this SP sends its own).
    pub fn with_single_logout(mut self, sp_slo_url: &str, idp_slo_url: &str) -> Self {
        self.single_logout = Some((sp_slo_url.to_owned(), idp_slo_url.to_owned()));
        self
    }

    /// Signs the logout messages this SP sends (most IdPs require it) and the AuthnRequests
    /// with `key`, whose certificate (`certificate_pem`) the SP metadata then lists (with
    /// `AuthnRequestsSigned="true"`).
    pub fn with_signing_key(mut self, key: SigningKey, certificate_pem: &str) -> Self {
        self.signing = Some((key, certificate_pem.to_owned(), default_provider()));
        self
    }

    /// Refuses the login of a user the SCIM directory does not have as active in `tenant`
    /// ([`Scim::check_login`]: the NameID as the SCIM `userName`), before
    /// [`SsoHost::check`]: a user the IdP deactivated or deprovisioned through SCIM cannot
    /// log in with an assertion issued before (or despite) that. The refusal's code is
    /// `user_deactivated` or `user_not_provisioned`. For another mapping (e.g. by
    /// `externalId`), call [`Scim::check_user`] from [`SsoHost::check`] instead.
    pub fn with_directory(mut self, scim: &Scim, tenant: TenantId) -> Self {
        self.directory = Some((scim.clone(), tenant));
        self
    }

    /// Where the browser goes after a login that names no return path (IdP-initiated, or
    /// started without `next`; default `/`).
    pub fn with_after_login(mut self, path: &str) -> Self {
        path.clone_into(&mut self.after_login);
        self
    }

    /// Where the browser goes after a logout (default `/`).
    pub fn with_after_logout(mut self, path: &str) -> Self {
        path.clone_into(&mut self.after_logout);
        self
    }

    /// The shared state, calling `host` back. Build it once (see [`Sso`]).
    pub fn build(self, host: impl SsoHost) -> Result<Sso, ConfigError> {
        let validator = self.flow.validator().clone();
        let sp = validator.service_provider().clone();
        let acs_url = sp.acs_urls().first().cloned().unwrap_or_default();
        let acs = path_of(&acs_url);
        let base = acs.rsplit_once('/').map_or("", |(base, _)| base).to_owned();
        for (field, path) in [
            ("after-login path", &self.after_login),
            ("after-logout path", &self.after_logout),
        ] {
            if safe_redirect(path, &[]).is_none() {
                return Err(ConfigError::Invalid {
                    field,
                    value: path.clone(),
                    expected: "a path on this site, starting with a single '/'",
                });
            }
        }
        let mut metadata = SpMetadata::new(&sp);
        let mut flow = self.flow;
        let mut signing = None;
        if let Some((key, certificate_pem, provider)) = self.signing {
            metadata =
                metadata
                    .signing_certificates(&certificate_pem)
                    .map_err(|e| ConfigError::Certificate {
                        index: 0,
                        reason: e.to_string(),
                    })?;
            let der = fedkit_saml::fedkit_xmldsig::TrustedKey::from_pem(&certificate_pem)
                .ok()
                .and_then(|keys| keys.first().and_then(|k| k.certificate_der().map(<[u8]>::to_vec)));
            flow = flow.with_signing_key(key.clone(), der, provider);
            signing = Some((key, provider));
        }
        let mut slo = None;
        let logout = match self.single_logout {
            Some((sp_slo_url, idp_slo_url)) => {
                for (field, url) in [
                    ("SP Single Logout URL", &sp_slo_url),
                    ("IdP Single Logout URL", &idp_slo_url),
                ] {
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        return Err(ConfigError::Url {
                            field,
                            value: url.clone(),
                        });
                    }
                }
                metadata = metadata.single_logout(&sp_slo_url);
                slo = Some(path_of(&sp_slo_url));
                Some(Logout {
                    validator: LogoutValidator::new(
                        sp.clone(),
                        validator.identity_provider().clone(),
                        &sp_slo_url,
                        validator.settings().clone(),
                    ),
                    sp,
                    idp_slo_url,
                    signing,
                })
            }
            None => None,
        };
        let in_memory = self.stores.is_none();
        let (requests, replay) = self.stores.unwrap_or_else(|| {
            (
                Arc::new(InMemoryRequestStore::new(DEFAULT_STORE_CAPACITY)),
                Arc::new(InMemoryReplayCache::new(DEFAULT_STORE_CAPACITY)),
            )
        });
        let form_limit = form_limit(validator.settings().max_message_bytes());
        Ok(Sso(Arc::new(Inner {
            flow,
            requests,
            replay,
            host: Arc::new(host),
            logout,
            metadata_xml: metadata.to_xml(),
            paths: Paths {
                login: format!("{base}/login"),
                acs,
                metadata: format!("{base}/metadata"),
                logout: format!("{base}/logout"),
                slo,
            },
            after_login: self.after_login,
            after_logout: self.after_logout,
            form_limit,
            directory: self.directory,
            in_memory,
            split: AtomicBool::new(false),
        })))
    }
}

/// A request store that could not answer, as the login flow reports it.
fn store_error(e: fedkit_saml::replay::StoreError) -> SsoError {
    SsoError::Saml(match e {
        fedkit_saml::replay::StoreError::Full { capacity } => {
            fedkit_saml::Error::RequestStoreFull { capacity }
        }
        fedkit_saml::replay::StoreError::Unavailable { detail } => {
            fedkit_saml::Error::RequestStoreUnavailable { detail }
        }
        other => fedkit_saml::Error::RequestStoreUnavailable {
            detail: other.to_string(),
        },
    })
}

fn random<const N: usize>() -> Result<[u8; N], SsoError> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| SsoError::Randomness {
            detail: e.to_string(),
        })?;
    Ok(bytes)
}

/// The refusal page, from the host, with the code header; the admin message is logged.
fn refuse(inner: &Inner, request: &HttpRequest, error: &SsoError) -> HttpResponse {
    log::warn!(
        "fedkit: {} {} refused [{}]: {error}",
        request.method(),
        request.path(),
        error.code()
    );
    let mut response = inner.host.error_page(request, error);
    response
        .headers_mut()
        .insert(error_header(), HeaderValue::from_static(error.code()));
    response
}

/// A form the extractor refused (too large, not a form): the default error page.
fn form_error(error: &actix_web::error::UrlencodedError, request: &HttpRequest) -> actix_web::Error {
    use actix_web::error::UrlencodedError;
    let refusal = match error {
        UrlencodedError::Overflow { limit, .. } => SsoError::FormTooLarge { limit: *limit },
        other => SsoError::BadForm {
            reason: other.to_string(),
        },
    };
    let response = match request.app_data::<web::Data<Inner>>() {
        Some(inner) => refuse(inner, request, &refusal),
        None => default_error_page(&refusal),
    };
    actix_web::error::InternalError::from_response(refusal.to_string(), response).into()
}

/// [`ERROR_HEADER`](crate::ERROR_HEADER) as a header name (lower case, as HTTP/2 sends it).
fn error_header() -> header::HeaderName {
    header::HeaderName::from_static("x-fedkit-error")
}

fn see_other(location: &str) -> HttpResponseBuilder {
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, location));
    response
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie<'r>(request: &'r HttpRequest, name: &str) -> Option<&'r str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// `GET login?next=/path`: starts an SP-initiated login.
async fn login(inner: web::Data<Inner>, request: HttpRequest) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let next = match web::Query::<LoginQuery>::from_query(request.query_string()) {
        Ok(q) => q.into_inner().next,
        Err(_) => {
            let error = SsoError::ReturnPath {
                found: request.query_string().to_owned(),
            };
            return refuse(&inner, &request, &error);
        }
    };
    if let Some(next) = &next {
        if next.len() > MAX_RETURN_PATH_BYTES || safe_redirect(next, &[]).is_none() {
            return refuse(&inner, &request, &SsoError::ReturnPath { found: next.clone() });
        }
    }
    let randoms = random::<ID_RANDOM_BYTES>().and_then(|r| Ok((r, random::<32>()?)));
    let started = match randoms {
        Ok((request_random, binding_random)) => {
            let state = Arc::clone(&inner);
            web::block(move || {
                state
                    .flow
                    .start(
                        next.as_deref(),
                        request_random,
                        binding_random,
                        Utc::now(),
                        &*state.requests,
                    )
                    .map_err(SsoError::from)
            })
            .await
            .unwrap_or_else(|e| {
                Err(SsoError::Blocking {
                    detail: e.to_string(),
                })
            })
        }
        Err(e) => Err(e),
    };
    let started = match started {
        Ok(s) => s,
        Err(e) => return refuse(&inner, &request, &e),
    };
    let mut response = match started.outgoing() {
        Outgoing::Redirect(url) => see_other(url),
        Outgoing::PostForm(_) => HttpResponse::Ok(),
        // A future binding: nothing to send, so say so rather than guess.
        _ => HttpResponse::NotImplemented(),
    };
    response.insert_header((header::SET_COOKIE, started.cookie().set_cookie_header()));
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    match started.outgoing() {
        Outgoing::PostForm(html) => response
            .content_type("text/html; charset=utf-8")
            .body(html.clone()),
        _ => response.finish(),
    }
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST acs`: the IdP's Response, checked by `LoginFlow::finish` and the host.
async fn acs(inner: web::Data<Inner>, request: HttpRequest, form: web::Form<AcsForm>) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let AcsForm {
        saml_response,
        relay_state,
    } = form.into_inner();
    let Some(saml_response) = saml_response else {
        return refuse(
            &inner,
            &request,
            &SsoError::MissingField {
                field: "SAMLResponse",
            },
        );
    };
    let cookie = cookie(&request, inner.flow.cookie_name()).map(str::to_owned);
    let state = Arc::clone(&inner);
    let finished = web::block(move || {
        let login = state.flow.finish(
            &saml_response,
            relay_state.as_deref(),
            cookie.as_deref(),
            Utc::now(),
            &*state.requests,
            &*state.replay,
        )?;
        if let Some((scim, tenant)) = &state.directory {
            scim.check_login(tenant, &login)?;
        }
        state.host.check(&login)?;
        Ok::<_, SsoError>(login)
    })
    .await
    .unwrap_or_else(|e| {
        Err(SsoError::Blocking {
            detail: e.to_string(),
        })
    });
    match finished {
        Ok(login) => {
            let target = login
                .redirect_target(&[])
                .unwrap_or(&inner.after_login)
                .to_owned();
            let mut response = see_other(&target);
            response.insert_header((header::CACHE_CONTROL, "no-store"));
            inner.host.logged_in(&request, login, &mut response);
            response.append_header((header::SET_COOKIE, inner.flow.clear_cookie_header()));
            response.finish()
        }
        Err(e) => refuse(&inner, &request, &e),
    }
}

/// `GET metadata`: the SP metadata document.
async fn metadata(inner: web::Data<Inner>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/samlmetadata+xml")
        .body(inner.metadata_xml.clone())
}

/// `POST logout`: ends the host's session, then asks the IdP to end its session.
async fn logout(inner: web::Data<Inner>, request: HttpRequest) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let mut response = HttpResponse::SeeOther();
    let ended = inner.host.logout(&request, &mut response);
    let (Some(slo), Some(who)) = (&inner.logout, ended) else {
        return response
            .insert_header((header::LOCATION, inner.after_logout.as_str()))
            .finish();
    };
    let Some(session_index) = who.session_index.as_deref() else {
        // A LogoutRequest must name the session (Profiles §4.4.4.1); with none to name, only
        // the local session ends.
        log::warn!(
            "fedkit: no LogoutRequest sent to the IdP: the assertion of this session carried no \
             SessionIndex to name (SAML Profiles 4.4.4.1); only the local session ended"
        );
        return response
            .insert_header((header::LOCATION, inner.after_logout.as_str()))
            .finish();
    };
    let now = Utc::now();
    let outgoing = match random::<ID_RANDOM_BYTES>() {
        Ok(r) => OutgoingLogout::request(&slo.sp, &slo.idp_slo_url, &who.name_id, session_index, r, now),
        Err(e) => return refuse(&inner, &request, &e),
    };
    let id = outgoing.id().to_owned();
    let state = Arc::clone(&inner);
    let remembered = web::block(move || {
        state
            .requests
            .remember(&id, now + Duration::minutes(LOGOUT_LIFETIME_MINUTES), now)
            .map_err(store_error)
    })
    .await
    .unwrap_or_else(|e| {
        Err(SsoError::Blocking {
            detail: e.to_string(),
        })
    });
    if let Err(e) = remembered {
        // The local session is over; only the IdP's remains.
        log::warn!(
            "fedkit: the LogoutRequest was not sent to the IdP [{}]: {e}",
            e.code()
        );
        return response
            .insert_header((header::LOCATION, inner.after_logout.as_str()))
            .finish();
    }
    // The RelayState names the request the LogoutResponse answers (a message ID, 41 bytes,
    // always fits in one).
    let relay_state = RelayState::new(outgoing.id()).ok();
    let url = match &slo.signing {
        Some((key, provider)) => outgoing.signed_redirect_url(relay_state, key, *provider),
        None => Ok(outgoing.redirect_url(relay_state)),
    };
    match url {
        Ok(url) => response.insert_header((header::LOCATION, url)).finish(),
        Err(e) => refuse(&inner, &request, &SsoError::from(e)),
    }
}

/// A Single Logout message as it arrived.
enum SloMessage {
    Redirect(String),
    Post(String),
}

/// `GET slo`: HTTP-Redirect binding.
async fn slo_redirect(inner: web::Data<Inner>, request: HttpRequest) -> HttpResponse {
    let query = request.query_string().to_owned();
    let has_message = query
        .split('&')
        .any(|p| p.starts_with("SAMLRequest=") || p.starts_with("SAMLResponse="));
    if !has_message {
        return see_other(&inner.after_logout).finish();
    }
    // The signature covers the raw query; the RelayState is read decoded, as from a form.
    let relay_state = web::Query::<RelayStateQuery>::from_query(&query)
        .ok()
        .and_then(|q| q.into_inner().relay_state);
    slo(inner, request, SloMessage::Redirect(query), relay_state).await
}

#[derive(Deserialize)]
struct RelayStateQuery {
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

#[derive(Deserialize)]
struct SloForm {
    #[serde(rename = "SAMLRequest")]
    saml_request: Option<String>,
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST slo`: HTTP-POST binding.
async fn slo_post(inner: web::Data<Inner>, request: HttpRequest, form: web::Form<SloForm>) -> HttpResponse {
    let form = form.into_inner();
    match form.saml_response.or(form.saml_request) {
        Some(value) => slo(inner, request, SloMessage::Post(value), form.relay_state).await,
        None => see_other(&inner.after_logout).finish(),
    }
}

/// What a verified logout message leads to.
enum SloOutcome {
    /// The IdP answered this SP's LogoutRequest.
    Answered,
    /// The IdP asked to end sessions (done): answer it.
    Request(Box<LogoutRequest>),
}

async fn slo(
    inner: web::Data<Inner>,
    request: HttpRequest,
    message: SloMessage,
    relay_state: Option<String>,
) -> HttpResponse {
    if let Some(e) = inner.split_error() {
        return refuse(&inner, &request, &e);
    }
    let Some(slo) = &inner.logout else {
        return see_other(&inner.after_logout).finish();
    };
    let state = Arc::clone(&inner);
    let relay = relay_state.clone();
    let outcome = web::block(move || {
        let Some(slo) = &state.logout else {
            return Ok(SloOutcome::Answered);
        };
        let now = Utc::now();
        // Only a RelayState naming an outstanding request of ours selects it.
        let expected = match relay {
            Some(id) if state.requests.is_outstanding(&id, now).map_err(store_error)? => Some(id),
            _ => None,
        };
        let verified = match &message {
            SloMessage::Redirect(query) => slo.validator.process_redirect(query, expected.as_deref(), now),
            SloMessage::Post(value) => slo.validator.process_post(value, expected.as_deref(), now),
        }?;
        match verified {
            LogoutMessage::Response(response) => {
                state
                    .requests
                    .consume(response.in_response_to(), now)
                    .map_err(store_error)?;
                Ok(SloOutcome::Answered)
            }
            LogoutMessage::Request(logout) => {
                state.host.idp_logout(&logout);
                Ok(SloOutcome::Request(Box::new(logout)))
            }
            // A future message kind: nothing to do.
            _ => Ok(SloOutcome::Answered),
        }
    })
    .await
    .unwrap_or_else(|e| {
        Err(SsoError::Blocking {
            detail: e.to_string(),
        })
    });
    match outcome {
        Ok(SloOutcome::Answered) => see_other(&inner.after_logout).finish(),
        Ok(SloOutcome::Request(logout)) => {
            let answer = match random::<ID_RANDOM_BYTES>() {
                Ok(r) => OutgoingLogout::response(&slo.sp, &slo.idp_slo_url, &logout, r, Utc::now()),
                Err(e) => return refuse(&inner, &request, &e),
            };
            // The IdP's RelayState goes back exactly as it came (Bindings §3.4.3).
            let relay_state = relay_state.as_deref().map(RelayState::echo);
            let url = match &slo.signing {
                Some((key, provider)) => answer.signed_redirect_url(relay_state, key, *provider),
                None => Ok(answer.redirect_url(relay_state)),
            };
            match url {
                Ok(url) => see_other(&url).finish(),
                Err(e) => refuse(&inner, &request, &SsoError::from(e)),
            }
        }
        Err(e) => refuse(&inner, &request, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_header_is_the_documented_one() {
        assert!(error_header().as_str().eq_ignore_ascii_case(crate::ERROR_HEADER));
    }

    struct Nobody;

    impl SsoHost for Nobody {
        fn logged_in(&self, _: &HttpRequest, _: Login, _: &mut HttpResponseBuilder) {}
        fn logout(&self, _: &HttpRequest, _: &mut HttpResponseBuilder) -> Option<LoggedOut> {
            None
        }
        fn idp_logout(&self, _: &LogoutRequest) {}
    }

    fn flow(acs: &str) -> LoginFlow {
        let sp = ServiceProvider::new("https://app.example.com/sp", [acs]).unwrap();
        let idp = fedkit_saml::IdentityProvider::from_pasted(
            "https://idp.example.org",
            &[include_str!("../../saml/tests/data/keys/idp.crt.pem")],
        )
        .unwrap();
        let validator = fedkit_saml::ResponseValidator::new(sp, idp);
        LoginFlow::new(validator, "https://idp.example.org/sso").unwrap()
    }

    #[test]
    fn the_routes_follow_the_acs_url() {
        let sso = Sso::builder(flow("https://app.example.com/auth/saml/acs"))
            .build(Nobody)
            .unwrap();
        assert_eq!(
            sso.paths(),
            &Paths {
                login: "/auth/saml/login".to_owned(),
                acs: "/auth/saml/acs".to_owned(),
                metadata: "/auth/saml/metadata".to_owned(),
                logout: "/auth/saml/logout".to_owned(),
                slo: None,
            }
        );
        assert!(!sso.metadata_xml().contains("SingleLogoutService"));
        let sso = Sso::builder(flow("https://app.example.com/acs"))
            .with_single_logout("https://app.example.com/slo", "https://idp.example.org/slo")
            .build(Nobody)
            .unwrap();
        assert_eq!(sso.paths().login, "/login");
        assert_eq!(sso.paths().slo.as_deref(), Some("/slo"));
        assert!(sso
            .metadata_xml()
            .contains("Location=\"https://app.example.com/slo\""));
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let flow = || flow("https://app.example.com/saml/acs");
        let err = Sso::builder(flow())
            .with_after_logout("https://evil.example/")
            .build(Nobody)
            .unwrap_err();
        assert_eq!(err.code(), "setting_invalid");
        assert!(err.to_string().contains("after-logout path"), "{err}");
        let err = Sso::builder(flow())
            .with_after_login("//evil.example")
            .build(Nobody)
            .unwrap_err();
        assert!(err.to_string().contains("after-login path"), "{err}");
        let err = Sso::builder(flow())
            .with_single_logout("/saml/slo", "https://idp.example.org/slo")
            .build(Nobody)
            .unwrap_err();
        assert_eq!(err.code(), "bad_url");
    }

    #[test]
    fn paths_of_urls() {
        assert_eq!(path_of("https://app.example.com/saml/acs"), "/saml/acs");
        assert_eq!(path_of("https://app.example.com/saml/slo?x#y"), "/saml/slo");
        assert_eq!(path_of("https://app.example.com"), "/");
    }

    #[test]
    fn the_form_limit_holds_the_largest_message_percent_encoded() {
        let limit = form_limit(256 * 1024);
        assert!(limit >= 256 * 1024 * 4 / 3 * 3, "{limit}");
        assert!(limit < 2 * 1024 * 1024, "{limit}");
        assert!(form_limit(usize::MAX) == usize::MAX);
    }
}
