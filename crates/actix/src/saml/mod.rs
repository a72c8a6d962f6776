//! The SAML routes: login start, ACS, SP metadata, Single Logout, logout start.
//!
//! This module holds the shared state ([`Sso`], its `Inner` and the per-worker detection), the
//! route table ([`Sso::routes`]) and the small helpers the routes share; the host's callbacks
//! are in `host`, the builder in `builder`, the login routes in `login` and the logout routes in
//! `logout`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use fedkit_saml::crypto::CryptoProvider;
use fedkit_saml::logout::LogoutValidator;
use fedkit_saml::{LoginFlow, ReplayCache, RequestStore, ServiceProvider, SigningKey};
use fedkit_scim_service::auth::TenantId;
use rand_core::{OsRng, RngCore as _};

use crate::error::SsoError;
use crate::scim::Scim;

mod builder;
mod host;
mod login;
mod logout;

pub use builder::{Paths, SsoBuilder};
pub use host::{default_error_page, LoggedOut, SsoHost};

/// Capacity of the default in-memory request store and replay cache.
pub const DEFAULT_STORE_CAPACITY: usize = 100_000;

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

impl Sso {
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
                        .route(web::get().to(login::login)),
                )
                .service(
                    web::resource(paths.acs.as_str())
                        .app_data(data.clone())
                        .app_data(form())
                        .route(web::post().to(login::acs)),
                )
                .service(
                    web::resource(paths.metadata.as_str())
                        .app_data(data.clone())
                        .route(web::get().to(login::metadata)),
                )
                .service(
                    web::resource(paths.logout.as_str())
                        .app_data(data.clone())
                        .route(web::post().to(logout::logout)),
                );
            if let Some(slo) = &paths.slo {
                config.service(
                    web::resource(slo.as_str())
                        .app_data(data)
                        .app_data(form())
                        .route(web::get().to(logout::slo_redirect))
                        .route(web::post().to(logout::slo_post)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_header_is_the_documented_one() {
        assert!(error_header().as_str().eq_ignore_ascii_case(crate::ERROR_HEADER));
    }
}
