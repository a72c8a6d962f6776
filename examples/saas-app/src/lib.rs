#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{Duration, Utc};
use fedkit_axum::{Connection, Saml, SamlHost, Scim, SessionRef, SignedOut, ERROR_HEADER};
use fedkit_saml::bindings::percent_encode;
use fedkit_saml::flow::LoginFlow;
use fedkit_saml::logout::{LogoutRequest, LogoutValidator};
use fedkit_saml::render::Refusal;
use fedkit_saml::sp_metadata::{SpMetadata, NAME_ID_EMAIL};
use fedkit_saml::{
    AttributeMapping, IdentityProvider, Login, NameId, ResponseValidator, ServiceProvider, Settings,
};
use fedkit_scim::error::ScimError;
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::ids::RandomIds;
use fedkit_scim_service::ScimService;
use fedkit_scim_sqlite::SqliteStore;
use fedkit_tenancy::admission::{admit_assertion, AdmissionPolicy, Decision, LoginContext};
use fedkit_tenancy::Provisioning as TenancyProvisioning;
use fedkit_xmldsig::crypto::AwsLcRs;
use fedkit_xmldsig::TrustedKeys;
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};

mod admin;
mod html;
mod login;
mod sso_admin;
mod tenancy;
mod users;

use html::{escape, page, Failure};
pub use tenancy::{InMemoryTxt, TxtLookup, APP_NAME};
use users::Directory;
pub use users::Provisioning;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "saas_session";
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
    /// Link an IdP login to an existing local (password) account with the same email, when
    /// the email's domain is verified (fedkit-tenancy's account linking).
    pub allow_linking: bool,
    /// Create JIT users only when their email's domain is verified (fedkit-tenancy's
    /// default; off lets a single-tenant deployment without a verified domain use JIT).
    pub jit_requires_verified_domain: bool,
    /// How the admin page's "Check" resolves the domain's TXT record.
    pub txt_lookup: Arc<dyn TxtLookup>,
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
    method: LoginMethod,
    expires: chrono::DateTime<Utc>,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoginMethod {
    /// SAML single sign-on.
    Sso,
    /// A local account's password.
    Password,
    /// An admin's password on a domain that enforces SSO (the emergency door).
    AdminBypass,
}

/// Everything the app's pages and its SSO callbacks share.
struct Core {
    config: Config,
    sp: ServiceProvider,
    /// The IdP in use (replaced when the admin imports another); fedkit-axum holds the
    /// login flow and logout validator built for it.
    idp: RwLock<Option<IdpConnection>>,
    sessions: Mutex<HashMap<String, Session>>,
    directory: Directory,
    /// Domains, enforcement, local accounts, identity links (fedkit-tenancy's inputs).
    tenancy: tenancy::TenancyStore,
}

/// The app's state: the shared core and the SAML routes (fedkit-axum), which call back into
/// the core through [`Sso`].
struct App {
    core: Arc<Core>,
    saml: Saml<Sso>,
}

impl Deref for App {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
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

/// The SP metadata: entity ID, ACS URL, the email NameID format, and the SLO URL.
fn sp_metadata(sp: &ServiceProvider, config: &Config) -> String {
    SpMetadata::new(sp)
        .name_id_format(NAME_ID_EMAIL)
        .single_logout(&config.slo_url())
        .to_xml()
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
    let connection = match &idp {
        Some(idp) => Some(connect(&sp, &config, idp)?),
        None => None,
    };
    let db = config.data_dir.join("saas-app.sqlite");
    let store = SqliteStore::open(&db).map_err(|e| format!("cannot open {}: {e}", db.display()))?;
    let tenant = TenantId::new("default").map_err(|e| e.to_string())?;
    let service = Arc::new(ScimService::new(Arc::new(store), Arc::new(RandomIds::new())));
    let scim_base_url = format!("{}/scim/v2", config.base_url);
    let scim = match &config.scim_token {
        Some(token) => {
            let registry = TokenRegistry::new();
            registry
                .add(&tenant, token)
                .map_err(|e| format!("--scim-token: {e}"))?;
            Scim::new(service.clone(), Arc::new(registry), &scim_base_url).router()
        }
        None => Router::new().nest("/scim/v2", Router::new().fallback(scim_disabled)),
    };
    let directory = Directory {
        service,
        tenant,
        base_url: scim_base_url,
    };
    let tenancy = tenancy::TenancyStore::open(&config.data_dir)?;
    let metadata = sp_metadata(&sp, &config);
    let core = Arc::new(Core {
        config,
        sp,
        idp: RwLock::new(idp),
        sessions: Mutex::new(HashMap::new()),
        directory,
        tenancy,
    });
    let saml = Saml::new(connection, Sso(core.clone())).with_metadata_before_setup(metadata);
    let app = Arc::new(App {
        core,
        saml: saml.clone(),
    });
    Ok(Router::new()
        .route("/", get(home))
        .route("/profile", get(protected))
        .route("/app/{*rest}", get(protected))
        .route("/logout", saml.logout_route())
        .route("/admin", get(admin::page).post(admin::save))
        .route("/admin/sso", get(sso_admin::page))
        .route("/admin/domains/claim", post(sso_admin::claim))
        .route("/admin/domains/check", post(sso_admin::check))
        .route("/admin/accounts", post(sso_admin::add_account))
        .route("/admin/enforcement", post(sso_admin::enforcement))
        .route("/admin/guide", get(sso_admin::guide))
        .route("/login", get(login::page).post(login::password))
        .route("/sso", get(login::discover))
        .with_state(app)
        .nest("/saml", saml.router())
        .merge(scim))
}

/// The login flow and Single Logout for `idp`: IdP-initiated logins as configured, the email
/// NameID asked for, aws-lc-rs verifying, everything else fedkit's defaults.
fn connect(sp: &ServiceProvider, config: &Config, idp: &IdpConnection) -> Result<Connection, String> {
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
    let flow = LoginFlow::new(validator, &idp.sso_url)
        .map_err(|e| e.to_string())?
        .with_name_id_format(NAME_ID_EMAIL);
    Ok(Connection::new(flow, sp_metadata(sp, config)).with_logout_validator(logout, idp.slo_url.as_deref()))
}

/// Serves the app on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> Result<(), String> {
    let app = router(config)?;
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

/// The page saying no IdP is set up.
fn no_idp() -> Failure {
    Failure::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Single sign-on is not set up",
        "no IdP is configured: start the app with --idp-metadata (or --idp-entity-id, \
         --idp-sso-url and --idp-cert), or import the IdP on the admin page (/admin)",
        "no_idp",
    )
}

impl Core {
    /// The IdP in use, or the page saying there is none.
    fn connected(&self) -> Result<IdpConnection, Failure> {
        self.idp
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(no_idp)
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

    fn cookie(&self, value: &str, max_age: i64) -> String {
        let secure = if self.config.base_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
    }
}

impl App {
    /// Switches logins to `idp` (the admin page).
    fn set_idp(&self, idp: IdpConnection) -> Result<(), String> {
        let connection = connect(&self.sp, &self.config, &idp)?;
        self.saml.set_connection(Some(connection));
        *self
            .idp
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(idp);
        Ok(())
    }
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
                 <p>Or open a page that needs a login: <a href=\"/app/reports?year=2026\">Reports</a>.</p>\
                 <p><a id=\"login\" href=\"/login\">Sign in with a password, or SSO by email</a></p>"
            .to_owned(),
    };
    let idp_entity_id = app
        .connected()
        .map(|c| c.entity_id.clone())
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
        if app.config.scim_token.is_some() {
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
        kind = match (s.method, s.idp_initiated) {
            (LoginMethod::Sso, true) => "IdP-initiated",
            (LoginMethod::Sso, false) => "SP-initiated",
            (LoginMethod::Password, _) => "password",
            (LoginMethod::AdminBypass, _) => "password (admin bypass of SSO enforcement)",
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

/// fedkit-axum's callbacks: the app's login policy and sessions, and its pages.
struct Sso(Arc<Core>);

impl SamlHost for Sso {
    /// fedkit-saml accepted the login (signature, conditions, request store, browser binding,
    /// replay); then fedkit-tenancy's admission (allowlist, SCIM status, provisioning mode,
    /// account linking on verified domains only), and the session.
    fn logged_in(&self, login: Login, _request: &Parts) -> Response {
        let app = &self.0;
        let session = match app.admit(&login) {
            Ok(s) => s,
            Err(failure) => return refused(failure),
        };
        let target = login
            .redirect_target(&[app.config.base_url.as_str()])
            .unwrap_or("/profile")
            .to_owned();
        app.open_session(session, &target)
    }

    fn end_session(&self, request: &Parts, response: &mut HeaderMap) -> Option<SessionRef> {
        let app = &self.0;
        if let Ok(cookie) = HeaderValue::from_str(&app.cookie("", 0)) {
            response.insert(header::SET_COOKIE, cookie);
        }
        let (id, _) = app.session(&request.headers)?;
        let ended = lock(&app.sessions).remove(&id)?;
        if ended.method != LoginMethod::Sso {
            // A password session: nothing to end at the IdP.
            return None;
        }
        Some(SessionRef {
            name_id: ended.name_id,
            session_index: ended.session_index,
        })
    }

    fn end_sessions_for(&self, request: &LogoutRequest) {
        let app = &self.0;
        let Ok(idp) = app.connected() else { return };
        let mut sessions = lock(&app.sessions);
        sessions.retain(|_, s| {
            let same_user = s.issuer == idp.entity_id && s.name_id.value == request.name_id().value;
            let named = request.session_indexes().is_empty()
                || s.session_index
                    .as_ref()
                    .is_some_and(|i| request.session_indexes().contains(i));
            !(same_user && named)
        });
    }

    fn refused(&self, refusal: &dyn Refusal, status: StatusCode) -> Response {
        if refusal.code() == "no_idp" {
            return no_idp().into_response();
        }
        Failure::new(status, "Login refused", refusal.to_string(), refusal.code()).into_response()
    }

    fn signed_out(&self, outcome: SignedOut) -> Response {
        signed_out(match outcome {
            SignedOut::Confirmed => "<p id=\"idp-confirmed\">The IdP confirmed the logout.</p>",
            SignedOut::Partial => {
                "<p id=\"idp-partial\">The IdP reported a partial logout: you may still be signed in at the IdP.</p>"
            }
            _ => "",
        })
    }
}

/// A refusal of the app's own, with the code header fedkit-axum puts on its refusals.
fn refused(failure: Failure) -> Response {
    let code = HeaderValue::from_str(&failure.code).ok();
    let mut response = failure.into_response();
    if let Some(code) = code {
        response.headers_mut().insert(ERROR_HEADER, code);
    }
    response
}

impl Core {
    /// The app's IdP as the connection fedkit-tenancy reads (`None` without an IdP).
    fn tenancy_connection(&self) -> Option<fedkit_saml::connection::Connection> {
        let idp = self.connected().ok()?;
        Some(tenancy::connection(
            &idp,
            &self.config.allowed_email_domains,
            self.config.provisioning == Provisioning::Jit,
            self.config.allow_linking,
            self.config.allow_idp_initiated,
        ))
    }

    /// The connection's admission policy, from the app's flags.
    fn admission_policy(&self) -> AdmissionPolicy {
        let provisioning = match self.config.provisioning {
            Provisioning::Jit => TenancyProvisioning::Jit,
            Provisioning::InviteOnly => TenancyProvisioning::InviteOnly,
            Provisioning::Scim => TenancyProvisioning::ScimOnly,
        };
        let mut policy = AdmissionPolicy::new(provisioning, "member");
        policy.allow_linking = self.config.allow_linking;
        policy.jit_requires_verified_domain = self.config.jit_requires_verified_domain;
        policy
    }

    /// fedkit-tenancy's admission decision for a login fedkit-saml accepted, applied to the
    /// app's stores (off the async executor: SQLite).
    fn admit(&self, login: &Login) -> Result<Session, Failure> {
        let now = Utc::now();
        let assertion = login.assertion();
        let connection = self.tenancy_connection().ok_or_else(no_idp)?;
        let policy = self.admission_policy();
        let tenant = tenancy::tenant();
        let mapping = AttributeMapping::default();
        let store_failed = |e: String| {
            Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Login failed",
                e,
                "user_store_failed",
            )
        };
        let mut state = self.tenancy.lock();
        let admission = {
            let ctx = LoginContext {
                tenant: &tenant,
                connection: &connection,
                policy: &policy,
                domains: &state.domains,
            };
            let directory = tenancy::AppDirectory {
                state: &state,
                users: &self.directory,
            };
            admit_assertion(ctx, assertion, &mapping, &directory).map_err(|e| store_failed(e.to_string()))?
        };
        // A refused login has no profile to speak of; admission said why.
        let profile = mapping.profile(assertion).ok();
        let email = profile
            .as_ref()
            .and_then(|p| p.email.clone())
            .unwrap_or_else(|| assertion.name_id().value.clone());
        let (user_id, created) = match admission.decision {
            Decision::SignIn { account } | Decision::Update { account, .. } => (account, false),
            Decision::Link {
                account, identity, ..
            } => {
                state.links.insert(identity.to_string(), account.clone());
                (account, false)
            }
            Decision::Create { account } => {
                let id = match account.scim_id {
                    Some(id) => id,
                    None => self
                        .directory
                        .create(
                            &email,
                            account.profile.first_name.as_deref(),
                            account.profile.last_name.as_deref(),
                        )
                        .map_err(store_failed)?,
                };
                state.links.insert(account.identity.to_string(), id.clone());
                state.jit_created.push(id.clone());
                (id, true)
            }
            Decision::Refuse {
                code,
                user_message,
                admin_message,
                ..
            } => {
                return Err(Failure::login(
                    format!("{user_message} For the administrator: {admin_message}"),
                    code,
                ))
            }
            other => {
                return Err(store_failed(format!(
                    "fedkit-tenancy decided something this app does not handle: {other:?}"
                )))
            }
        };
        if let Some(format) = admission.pin_name_id_format {
            state.pinned_name_id_format = Some(format);
        }
        self.tenancy.save(&state).map_err(store_failed)?;
        drop(state);
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
            user_id,
            created_by_login: created,
            idp_initiated: login.is_idp_initiated(),
            method: LoginMethod::Sso,
            expires,
        })
    }

    /// Stores `session` and answers with its cookie and a redirect to `target`.
    fn open_session(&self, session: Session, target: &str) -> Response {
        let session_id = match random_bytes::<32>() {
            Ok(r) => base16ct::lower::encode_string(&r),
            Err(failure) => return refused(failure),
        };
        let max_age = (session.expires - Utc::now()).num_seconds();
        {
            let mut sessions = lock(&self.sessions);
            let now = Utc::now();
            sessions.retain(|_, s| s.expires > now);
            sessions.insert(session_id.clone(), session);
        }
        let mut response = see_other(target);
        if let Ok(cookie) = HeaderValue::from_str(&self.cookie(&session_id, max_age)) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        response
    }
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

/// `/scim/v2` without `--scim-token`.
async fn scim_disabled() -> Response {
    let error = ScimError::not_found("SCIM is disabled: start the app with --scim-token");
    fedkit_scim_service::http::error_response(&error).map(Body::from)
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
