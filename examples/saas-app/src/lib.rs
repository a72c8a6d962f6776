#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::body::Body;
use axum::extract::{Form, Query, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, Utc};
use fedkit_saml::bindings::percent_encode;
use fedkit_saml::logout::{LogoutMessage, LogoutValidator, OutgoingLogout};
use fedkit_saml::request::{safe_redirect, AuthnRequest};
use fedkit_saml::sp_metadata::{SpMetadata, NAME_ID_EMAIL};
use fedkit_saml::{
    AttributeMapping, EmailDomainAllowlist, IdentityProvider, InMemoryReplayCache, InMemoryRequestStore,
    NameId, RequestStore as _, ResponseValidator, ServiceProvider, Settings,
};
use fedkit_scim::error::ScimError;
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::ScimService;
use fedkit_scim_sqlite::SqliteStore;
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::TrustedKeys;
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};

mod admin;
mod html;
mod users;

use html::{escape, page, Failure};
use users::Directory;
pub use users::Provisioning;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "saas_session";
/// How long an AuthnRequest may stay unanswered.
const REQUEST_LIFETIME_MINUTES: i64 = 10;
/// How long a session lasts (the app has no "remember me").
const SESSION_HOURS: i64 = 8;

/// The IdP connection: what a JumpCloud admin copies from the application's SSO tab, or
/// what the IdP's metadata says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpConnection {
    /// IdP Entity ID.
    pub entity_id: String,
    /// IDP URL: the SSO endpoint (HTTP-Redirect binding).
    pub sso_url: String,
    /// The IdP's Single Logout endpoint (HTTP-Redirect), if it has one.
    pub slo_url: Option<String>,
    /// The IdP signing certificate(s), PEM.
    pub certificates_pem: String,
}

impl IdpConnection {
    /// Reads the IdP from its metadata XML (fedkit-metadata). `allow_http` accepts `http://`
    /// endpoints, as `fedkit idp serve` on loopback has: never for a real IdP.
    pub fn from_metadata(xml: &[u8], allow_http: bool) -> Result<Self, String> {
        let mut options = fedkit_metadata::ImportSettings::new(fedkit_metadata::SignaturePolicy::NotRequired);
        if allow_http {
            options = options.dangerous_allow_http_endpoints();
        }
        let metadata = fedkit_metadata::IdpMetadata::from_xml(xml, &options, Utc::now())
            .map_err(|e| format!("the IdP metadata was refused [{}]: {e}", e.code()))?;
        let redirect = fedkit_metadata::Binding::HttpRedirect;
        let sso_url = metadata
            .sso_endpoint(&redirect)
            .map(|e| e.location.clone())
            .ok_or("the IdP metadata has no SingleSignOnService with the HTTP-Redirect binding")?;
        // This app sends and answers logout messages, so it asks for the SLO endpoint: an
        // http:// one (kept aside by the import with a warning) is refused here, by name.
        let slo_url = metadata
            .slo_endpoint(&redirect)
            .map_err(|e| format!("the IdP's logout endpoint is unusable [{}]: {e}", e.code()))?
            .map(|e| e.location.clone());
        let certificates_pem: String = metadata.signing_certificates().map(|c| c.to_pem()).collect();
        Ok(Self {
            entity_id: metadata.entity_id().to_owned(),
            sso_url,
            slo_url,
            certificates_pem,
        })
    }

    fn identity_provider(&self) -> Result<IdentityProvider, String> {
        let keys = TrustedKeys::from_pem(&self.certificates_pem)
            .map_err(|e| format!("the IdP certificate does not parse: {e}"))?;
        IdentityProvider::new(&self.entity_id, keys).map_err(|e| e.to_string())
    }
}

/// Everything the app is started with.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public base URL browsers use, without a trailing slash (`http://localhost:3000`).
    pub base_url: String,
    /// Where the SQLite database lives (`saas-app.sqlite`).
    pub data_dir: PathBuf,
    /// The IdP from the command line. A connection saved on the admin page
    /// (`idp-connection.json` in the data directory) takes precedence.
    pub idp: Option<IdpConnection>,
    /// Accept `http://` endpoints in IdP metadata (the local test IdP). Never for a real IdP.
    pub dangerous_allow_http_idp: bool,
    /// The token that opens `/admin`; `None` disables the admin page.
    pub admin_token: Option<String>,
    /// Who may log in.
    pub provisioning: Provisioning,
    /// Accept IdP-initiated (unsolicited) logins, as from the JumpCloud user portal.
    pub allow_idp_initiated: bool,
    /// When not empty, only emails in these domains may log in.
    pub allowed_email_domains: Vec<String>,
    /// The SCIM bearer token (JumpCloud's "Token Key"); `None` disables `/scim/v2`.
    pub scim_token: Option<String>,
}

impl Config {
    /// The SP entity ID (JumpCloud's "SP Entity ID"): the metadata URL.
    pub fn sp_entity_id(&self) -> String {
        format!("{}/saml/metadata", self.base_url)
    }

    /// The ACS URL.
    pub fn acs_url(&self) -> String {
        format!("{}/saml/acs", self.base_url)
    }

    /// The SP's Single Logout URL.
    pub fn slo_url(&self) -> String {
        format!("{}/saml/slo", self.base_url)
    }
}

/// A signed-in user.
#[derive(Debug, Clone)]
struct Session {
    email: String,
    name_id: NameId,
    session_index: Option<String>,
    issuer: String,
    attributes: Vec<(String, Vec<String>)>,
    user_id: String,
    created_by_login: bool,
    idp_initiated: bool,
    /// The AuthnRequest this login answered (SP-initiated).
    in_response_to: Option<String>,
    expires: chrono::DateTime<Utc>,
}

/// The IdP in use, with the validator built for it.
struct Connected {
    idp: IdpConnection,
    validator: ResponseValidator,
    /// Checks the IdP's LogoutRequests and LogoutResponses at `/saml/slo`.
    logout: LogoutValidator,
}

/// The app's state.
struct App {
    config: Config,
    sp: ServiceProvider,
    /// Replaced when the admin imports another IdP.
    connection: RwLock<Option<Arc<Connected>>>,
    requests: InMemoryRequestStore,
    replay: InMemoryReplayCache,
    sessions: Mutex<HashMap<String, Session>>,
    /// IDs of the LogoutRequests sent to the IdP, until their LogoutResponse arrives.
    pending_logouts: Mutex<HashMap<String, chrono::DateTime<Utc>>>,
    directory: Directory,
    tokens: Option<TokenRegistry>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update is one insert or remove: a poisoned map is still consistent.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Failure> {
    let mut bytes = [0u8; N];
    OsRng.try_fill_bytes(&mut bytes).map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            format!("the system random number generator failed: {e}"),
            "random_failed",
        )
    })?;
    Ok(bytes)
}

fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location.to_owned())]).into_response()
}

/// Builds the router. Fails when the IdP certificate or the data directory is unusable.
pub fn router(config: Config) -> Result<Router, String> {
    let sp = ServiceProvider::new(&config.sp_entity_id(), [config.acs_url()]).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let idp = match admin::load(&config.data_dir)? {
        Some(saved) => Some(saved),
        None => config.idp.clone(),
    };
    let connection = match idp {
        Some(idp) => Some(Arc::new(connect(&sp, &config, idp)?)),
        None => None,
    };
    let db = config.data_dir.join("saas-app.sqlite");
    let store = SqliteStore::open(&db).map_err(|e| format!("cannot open {}: {e}", db.display()))?;
    let tenant = TenantId::new("default").map_err(|e| e.to_string())?;
    let tokens = match &config.scim_token {
        Some(token) => {
            let registry = TokenRegistry::new();
            registry
                .add(&tenant, token)
                .map_err(|e| format!("--scim-token: {e}"))?;
            Some(registry)
        }
        None => None,
    };
    let directory = Directory {
        service: ScimService::new(Arc::new(store), Arc::new(RandomIds::new())),
        tenant,
        base_url: format!("{}/scim/v2", config.base_url),
    };
    let app = Arc::new(App {
        config,
        sp,
        connection: RwLock::new(connection),
        requests: InMemoryRequestStore::new(100_000),
        replay: InMemoryReplayCache::new(100_000),
        sessions: Mutex::new(HashMap::new()),
        pending_logouts: Mutex::new(HashMap::new()),
        directory,
        tokens,
    });
    let scim = Router::new().fallback(scim).with_state(app.clone());
    Ok(Router::new()
        .route("/", get(home))
        .route("/profile", get(protected))
        .route("/app/{*rest}", get(protected))
        .route("/saml/login", get(login))
        .route("/saml/acs", post(acs))
        .route("/saml/metadata", get(sp_metadata))
        .route("/saml/slo", get(slo_redirect).post(slo_post))
        .route("/logout", post(logout))
        .route("/admin", get(admin::page).post(admin::save))
        .nest("/scim/v2", scim)
        .with_state(app))
}

/// The validator for `idp`: IdP-initiated logins as configured, everything else fedkit's defaults.
fn connect(sp: &ServiceProvider, config: &Config, idp: IdpConnection) -> Result<Connected, String> {
    let settings = Settings::default().with_idp_initiated(config.allow_idp_initiated);
    let identity_provider = idp.identity_provider()?;
    let logout = LogoutValidator::new(
        sp.clone(),
        identity_provider.clone(),
        &config.slo_url(),
        settings.clone(),
    )
    .with_provider(&AwsLcRs);
    let validator =
        ResponseValidator::with_settings(sp.clone(), identity_provider, settings).with_provider(&AwsLcRs);
    Ok(Connected {
        idp,
        validator,
        logout,
    })
}

/// Serves the app on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> Result<(), String> {
    let app = router(config)?;
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

impl App {
    /// The IdP in use, or the page saying there is none.
    fn connected(&self) -> Result<Arc<Connected>, Failure> {
        self.connection
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Single sign-on is not set up",
                    "no IdP is configured: start the app with --idp-metadata (or --idp-entity-id, \
                     --idp-sso-url and --idp-cert), or import the IdP on the admin page (/admin)",
                    "no_idp",
                )
            })
    }

    /// The session of this request, if its cookie names a live one.
    fn session(&self, headers: &HeaderMap) -> Option<(String, Session)> {
        let id = session_cookie(headers)?;
        let mut sessions = lock(&self.sessions);
        match sessions.get(&id) {
            Some(s) if s.expires > Utc::now() => Some((id, s.clone())),
            Some(_) => {
                sessions.remove(&id);
                None
            }
            None => None,
        }
    }

    /// The cookie binding the login of AuthnRequest `id` to this browser (`max_age` 0 clears
    /// it). It must reach the ACS on the IdP's cross-site POST, so over https it is
    /// `SameSite=None; Secure`; over http (a local test IdP on the same site) `SameSite=Lax`.
    fn login_cookie(&self, id: &str, max_age: i64) -> String {
        let same_site = if self.config.base_url.starts_with("https://") {
            "None; Secure"
        } else {
            "Lax"
        };
        format!(
            "{LOGIN_COOKIE_PREFIX}{id}=1; Path=/saml/acs; HttpOnly; SameSite={same_site}; Max-Age={max_age}"
        )
    }

    fn cookie(&self, value: &str, max_age: i64) -> String {
        let secure = if self.config.base_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }

    /// Where a RelayState may send the browser: a local path or this app's own origin.
    fn redirect_target<'a>(&self, relay_state: Option<&'a str>) -> &'a str {
        relay_state
            .and_then(|r| safe_redirect(r, &[self.config.base_url.as_str()]))
            .unwrap_or("/profile")
    }
}

/// The prefix of the cookies that bind an SP-initiated login to the browser that started it:
/// `saas_login_<AuthnRequest ID>=1`, scoped to the ACS path, for the request's lifetime.
pub const LOGIN_COOKIE_PREFIX: &str = "saas_login_";

/// Whether an AuthnRequest ID can be part of a cookie name (fedkit's IDs always can).
fn cookie_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The AuthnRequest IDs whose login cookies this request carries.
fn login_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter_map(|(name, _)| name.strip_prefix(LOGIN_COOKIE_PREFIX))
        .map(str::to_owned)
        .collect()
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

async fn home(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let body = match app.session(&headers) {
        Some((_, s)) => format!(
            "<p id=\"signed-in\">Signed in as <strong>{}</strong>.</p>\
             <p><a href=\"/profile\">Your profile</a> · <a href=\"/app/reports?year=2026\">Reports</a></p>\
             <form method=\"post\" action=\"/logout\"><button>Log out</button></form>",
            escape(&s.email)
        ),
        None => "<p>You are not signed in.</p>\
                 <p><a id=\"sso\" href=\"/saml/login?next=%2Fprofile\">Login with SSO</a></p>\
                 <p>Or open a page that needs a login: <a href=\"/app/reports?year=2026\">Reports</a>.</p>"
            .to_owned(),
    };
    let idp_entity_id = app
        .connected()
        .map(|c| c.idp.entity_id.clone())
        .unwrap_or_else(|_| "(none: set it up on /admin)".to_owned());
    let body = format!(
        "{body}<h2>Setup</h2><table>\
         <tr><th>SP Entity ID</th><td><code>{}</code></td></tr>\
         <tr><th>ACS URL</th><td><code>{}</code></td></tr>\
         <tr><th>SP metadata</th><td><a href=\"/saml/metadata\">/saml/metadata</a></td></tr>\
         <tr><th>IdP Entity ID</th><td><code>{}</code></td></tr>\
         <tr><th>Provisioning</th><td>{}</td></tr>\
         <tr><th>SCIM base URL</th><td><code>{}</code>{}</td></tr></table>",
        escape(&app.config.sp_entity_id()),
        escape(&app.config.acs_url()),
        escape(&idp_entity_id),
        app.config.provisioning,
        escape(&app.directory.base_url),
        if app.tokens.is_some() {
            ""
        } else {
            " (disabled: no --scim-token)"
        },
    );
    page(StatusCode::OK, "Welcome", &body)
}

/// A page that needs a login: without a session, SP-initiated SSO with the page as RelayState.
async fn protected(State(app): State<Arc<App>>, headers: HeaderMap, request: Request) -> Response {
    let asked = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let Some((_, s)) = app.session(&headers) else {
        return see_other(&format!("/saml/login?next={}", percent_encode(&asked)));
    };
    let rows: String = s
        .attributes
        .iter()
        .map(|(name, values)| {
            format!(
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(name),
                values.iter().map(|v| escape(v)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let body = format!(
        "<p id=\"signed-in\">Signed in as <strong id=\"email\">{email}</strong> (page <code id=\"page\">{page}</code>).</p>\
         <h2>Verified by fedkit</h2><table>\
         <tr><th>NameID</th><td id=\"name-id\">{name_id}</td></tr>\
         <tr><th>Issuer</th><td>{issuer}</td></tr>\
         <tr><th>SessionIndex</th><td>{session_index}</td></tr>\
         <tr><th>Login</th><td id=\"login-kind\">{kind}</td></tr>\
         <tr><th>App user (SCIM id)</th><td>{user_id}{created}</td></tr></table>\
         <h2>Attributes</h2><table id=\"attributes\">{rows}</table>\
         <form method=\"post\" action=\"/logout\"><button>Log out</button></form>",
        email = escape(&s.email),
        page = escape(&asked),
        name_id = escape(&s.name_id.value),
        issuer = escape(&s.issuer),
        session_index = escape(s.session_index.as_deref().unwrap_or("(none)")),
        kind = if s.idp_initiated {
            "IdP-initiated"
        } else {
            "SP-initiated"
        },
        user_id = escape(&s.user_id),
        created = if s.created_by_login {
            " (created just in time by this login)"
        } else {
            ""
        },
    );
    page(StatusCode::OK, "Your account", &body)
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// SP-initiated login: an AuthnRequest over HTTP-Redirect, its ID remembered until answered.
async fn login(State(app): State<Arc<App>>, Query(q): Query<LoginQuery>) -> Response {
    let random = match random_bytes::<16>() {
        Ok(r) => r,
        Err(failure) => return failure.into_response(),
    };
    let connected = match app.connected() {
        Ok(c) => c,
        Err(failure) => return failure.into_response(),
    };
    let now = Utc::now();
    let request =
        AuthnRequest::new(&app.sp, &connected.idp.sso_url, random, now).with_name_id_format(NAME_ID_EMAIL);
    if let Err(e) = app.requests.remember(
        request.id(),
        now + Duration::minutes(REQUEST_LIFETIME_MINUTES),
        now,
    ) {
        return Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Login not started",
            e.to_string(),
            e.code(),
        )
        .into_response();
    }
    let next = app.redirect_target(q.next.as_deref());
    let mut response = see_other(&request.redirect_url(Some(next)));
    if cookie_safe(request.id()) {
        if let Ok(cookie) =
            HeaderValue::from_str(&app.login_cookie(request.id(), REQUEST_LIFETIME_MINUTES * 60))
        {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    response
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// The Assertion Consumer Service: the IdP's POSTed Response, checked by fedkit-saml, then
/// the app's policy (email domain, SCIM status, provisioning mode).
async fn acs(State(app): State<Arc<App>>, headers: HeaderMap, Form(form): Form<AcsForm>) -> Response {
    let session_id = match random_bytes::<32>() {
        Ok(r) => base16ct::lower::encode_string(&r),
        Err(failure) => return failure.into_response(),
    };
    let started_here = login_cookies(&headers);
    let worker = app.clone();
    let result = tokio::task::spawn_blocking(move || worker.accept(&form.saml_response, &started_here))
        .await
        .unwrap_or_else(|e| {
            Err(Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                e.to_string(),
                "internal",
            ))
        });
    let session = match result {
        Ok(s) => s,
        Err(failure) => return failure.into_response(),
    };
    let answered = session.in_response_to.clone();
    let target = app.redirect_target(form.relay_state.as_deref()).to_owned();
    let max_age = (session.expires - Utc::now()).num_seconds();
    {
        let mut sessions = lock(&app.sessions);
        let now = Utc::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(session_id.clone(), session);
    }
    let mut response = see_other(&target);
    if let Ok(cookie) = HeaderValue::from_str(&app.cookie(&session_id, max_age)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    if let Some(id) = answered.filter(|id| cookie_safe(id)) {
        if let Ok(cookie) = HeaderValue::from_str(&app.login_cookie(&id, 0)) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    response
}

impl App {
    /// Everything the ACS decides, off the async executor (signature checks, SQLite).
    ///
    /// `started_here`: the AuthnRequest IDs whose login cookies the browser sent. A Response
    /// to a request is accepted only from the browser that started that login, so an attacker
    /// cannot start a login in their own browser and make a victim's browser post the answer
    /// (login CSRF: the victim would work in the attacker's account).
    fn accept(&self, saml_response: &str, started_here: &[String]) -> Result<Session, Failure> {
        let now = Utc::now();
        let connected = self.connected()?;
        let assertion = connected
            .validator
            .process_post_with_store(saml_response, &self.requests, now, &self.replay)
            .map_err(|e| Failure::login(&e, e.code()))?;
        if let Some(id) = assertion.in_response_to() {
            if !started_here.iter().any(|s| s == id) {
                return Err(Failure::new(
                    StatusCode::FORBIDDEN,
                    "Login refused",
                    format!(
                        "this login was not started in this browser: the IdP's Response answers \
                         AuthnRequest {id}, but the browser that posted it did not send that \
                         request (no {LOGIN_COOKIE_PREFIX}{id} cookie; it expires after \
                         {REQUEST_LIFETIME_MINUTES} minutes). Start the login again from this app"
                    ),
                    "login_not_started_here",
                ));
            }
        }
        let profile = AttributeMapping::default()
            .profile_with_email(&assertion)
            .map_err(|e| Failure::login(e, "attribute_mapping"))?;
        let email = profile.email.clone().unwrap_or_default();
        if !self.config.allowed_email_domains.is_empty() {
            EmailDomainAllowlist::new(&self.config.allowed_email_domains)
                .check(&email)
                .map_err(|e| Failure::login(e, "email_domain_not_allowed"))?;
        }
        let user = self
            .directory
            .admit(
                &email,
                profile.first_name.as_deref(),
                profile.last_name.as_deref(),
                self.config.provisioning,
            )
            .map_err(|e| match e {
                users::Refusal::Store { .. } => Failure::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Login failed",
                    e.to_string(),
                    e.code(),
                ),
                _ => Failure::login(&e, e.code()),
            })?;
        let expires = assertion
            .authn()
            .session_not_on_or_after
            .map_or(now + Duration::hours(SESSION_HOURS), |t| {
                t.min(now + Duration::hours(SESSION_HOURS))
            });
        Ok(Session {
            email,
            name_id: assertion.name_id().clone(),
            session_index: assertion.session_index().map(str::to_owned),
            issuer: assertion.issuer().to_owned(),
            attributes: assertion
                .attributes()
                .iter()
                .map(|a| (a.name.clone(), a.values.clone()))
                .collect(),
            user_id: user.id,
            created_by_login: user.created,
            idp_initiated: assertion.in_response_to().is_none(),
            in_response_to: assertion.in_response_to().map(str::to_owned),
            expires,
        })
    }
}

async fn sp_metadata(State(app): State<Arc<App>>) -> Response {
    let xml = SpMetadata::new(&app.sp)
        .name_id_format(NAME_ID_EMAIL)
        .single_logout(&app.config.slo_url())
        .to_xml();
    ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response()
}

/// Ends the local session, then (when the IdP has an SLO endpoint) sends the browser to it.
async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let ended = app
        .session(&headers)
        .and_then(|(id, _)| lock(&app.sessions).remove(&id));
    let slo_url = app.connected().ok().and_then(|c| c.idp.slo_url.clone());
    let target = match (ended, &slo_url) {
        (Some(s), Some(slo)) => match random_bytes::<16>() {
            Ok(random) => {
                let now = Utc::now();
                let request = OutgoingLogout::request(
                    &app.sp,
                    slo,
                    &s.name_id,
                    s.session_index.as_deref(),
                    random,
                    now,
                );
                let mut pending = lock(&app.pending_logouts);
                pending.retain(|_, expires| *expires > now);
                pending.insert(
                    request.id().to_owned(),
                    now + Duration::minutes(REQUEST_LIFETIME_MINUTES),
                );
                // The RelayState names the request the LogoutResponse must answer; only an ID
                // still pending here is used, and the signed InResponseTo must equal it.
                request.redirect_url(Some(request.id()))
            }
            Err(_) => "/saml/slo".to_owned(),
        },
        _ => "/saml/slo".to_owned(),
    };
    let mut response = see_other(&target);
    if let Ok(cookie) = HeaderValue::from_str(&app.cookie("", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

fn signed_out(note: &str) -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        &format!(
            "<p id=\"signed-out\">You are signed out of this application.</p>{note}<p><a href=\"/\">Start page</a></p>"
        ),
    )
}

/// The Single Logout message sent to `/saml/slo`, over either binding.
enum SloMessage {
    Redirect(String),
    Post(String),
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

/// `GET /saml/slo`: HTTP-Redirect binding (or a browser just landing here).
async fn slo_redirect(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let has_message = query
        .split('&')
        .any(|p| p.starts_with("SAMLRequest=") || p.starts_with("SAMLResponse="));
    if !has_message {
        return signed_out("");
    }
    let relay_state = query
        .split('&')
        .find_map(|p| p.strip_prefix("RelayState="))
        .map(str::to_owned);
    slo(&app, SloMessage::Redirect(query), relay_state)
}

/// `POST /saml/slo`: HTTP-POST binding.
async fn slo_post(State(app): State<Arc<App>>, Form(form): Form<SloForm>) -> Response {
    match form.saml_response.or(form.saml_request) {
        Some(value) => slo(&app, SloMessage::Post(value), form.relay_state),
        None => signed_out(""),
    }
}

/// Verifies the IdP's logout message: a LogoutResponse must answer a LogoutRequest this app
/// sent; a LogoutRequest (IdP-initiated logout) ends the user's sessions and is answered.
fn slo(app: &App, message: SloMessage, relay_state: Option<String>) -> Response {
    let connected = match app.connected() {
        Ok(c) => c,
        Err(failure) => return failure.into_response(),
    };
    let now = Utc::now();
    // Only a RelayState naming a pending request selects it (our IDs are URL-safe).
    let expected = relay_state.filter(|id| {
        lock(&app.pending_logouts)
            .get(id)
            .is_some_and(|expires| *expires > now)
    });
    let verified = match &message {
        SloMessage::Redirect(query) => connected.logout.process_redirect(query, expected.as_deref(), now),
        SloMessage::Post(value) => connected.logout.process_post(value, expected.as_deref(), now),
    };
    match verified {
        Ok(LogoutMessage::Response(response)) => {
            lock(&app.pending_logouts).remove(response.in_response_to());
            if response.success() {
                signed_out("<p id=\"idp-confirmed\">The IdP confirmed the logout.</p>")
            } else {
                signed_out(&format!(
                    "<p id=\"idp-partial\">The IdP reported {}: you may still be signed in at the IdP.</p>",
                    escape(response.status())
                ))
            }
        }
        Ok(LogoutMessage::Request(request)) => {
            let ended = {
                let mut sessions = lock(&app.sessions);
                let before = sessions.len();
                sessions.retain(|_, s| {
                    let same_user =
                        s.issuer == connected.idp.entity_id && s.name_id.value == request.name_id().value;
                    let named = request.session_indexes().is_empty()
                        || s.session_index
                            .as_ref()
                            .is_some_and(|i| request.session_indexes().contains(i));
                    !(same_user && named)
                });
                before - sessions.len()
            };
            let (Some(idp_slo), Ok(random)) = (&connected.idp.slo_url, random_bytes::<16>()) else {
                return signed_out(&format!("<p>{ended} session(s) ended.</p>"));
            };
            let answer = OutgoingLogout::response(&app.sp, idp_slo, &request, random, now);
            see_other(&answer.redirect_url(None))
        }
        Ok(_) => signed_out(""),
        Err(e) => Failure::new(
            StatusCode::FORBIDDEN,
            "Logout not verified",
            e.to_string(),
            e.code(),
        )
        .into_response(),
    }
}

/// `/scim/v2`: bearer token, body cap, then fedkit-scim-service's http adapter.
async fn scim(State(app): State<Arc<App>>, request: Request) -> Response {
    let Some(tokens) = &app.tokens else {
        let error = ScimError::not_found("SCIM is disabled: start the app with --scim-token");
        return fedkit_scim_service::http::error_response(&error).map(Body::from);
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(e) = tokens.authenticate(authorization) {
        let response = fedkit_scim_service::host::auth_error_response(&e, "saas-app");
        return fedkit_scim_service::http::into_http_response(response).map(Body::from);
    }
    let (parts, body) = request.into_parts();
    // The cap the service's settings call for (the larger of the body and Bulk limits).
    let cap = app.directory.service.config().max_request_bytes();
    let Ok(body) = axum::body::to_bytes(body, cap).await else {
        let error = ScimError::new(
            413,
            None,
            format!("the request body is larger than {cap} bytes, the most this service accepts"),
        );
        return fedkit_scim_service::http::error_response(&error).map(Body::from);
    };
    let request = Request::from_parts(parts, body);
    let response = tokio::task::spawn_blocking(move || {
        let ctx = fedkit_scim_service::RequestContext {
            tenant: &app.directory.tenant,
            base_url: &app.directory.base_url,
            now: Utc::now(),
        };
        fedkit_scim_service::http::handle(&app.directory.service, &ctx, &request)
    })
    .await
    .unwrap_or_else(|_| {
        fedkit_scim_service::http::error_response(&ScimError::new(500, None, "internal error"))
    });
    response.map(Body::from)
}

#[cfg(test)]
mod tests {
    use super::IdpConnection;

    /// JumpCloud-shaped metadata (https sign-on) with a logout endpoint of the given URL.
    fn metadata_with_logout(url: &str) -> String {
        let xml = include_str!("../../../crates/metadata/tests/data/jumpcloud.xml");
        let slo = format!(
            r#"<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{url}"/><md:NameIDFormat>"#
        );
        xml.replacen("<md:NameIDFormat>", &slo, 1)
    }

    #[test]
    fn an_https_logout_endpoint_is_used() {
        let xml = metadata_with_logout("https://sso.jumpcloud.com/saml2/slo");
        let idp = IdpConnection::from_metadata(xml.as_bytes(), false).unwrap();
        assert_eq!(
            idp.slo_url.as_deref(),
            Some("https://sso.jumpcloud.com/saml2/slo")
        );
    }

    #[test]
    fn an_http_logout_endpoint_is_refused_by_name_when_the_app_needs_it() {
        let xml = metadata_with_logout("http://sso.jumpcloud.com/saml2/slo");
        let err = IdpConnection::from_metadata(xml.as_bytes(), false).unwrap_err();
        assert!(err.contains("[slo_plain_http]"), "{err}");
        assert!(err.contains("http://sso.jumpcloud.com/saml2/slo"), "{err}");
        // The local test IdP's case: http allowed on purpose.
        let idp = IdpConnection::from_metadata(xml.as_bytes(), true).unwrap();
        assert_eq!(idp.slo_url.as_deref(), Some("http://sso.jumpcloud.com/saml2/slo"));
    }
}
