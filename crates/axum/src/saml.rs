//! The SAML routes: login start, ACS, SP metadata, Single Logout, and the SP-initiated logout
//! start, over [`LoginFlow`] and [`LogoutValidator`].

use std::sync::{Arc, PoisonError, RwLock};

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Query, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use chrono::{Duration, Utc};
use fedkit_saml::crypto::CryptoProvider;
use fedkit_saml::flow::{LoginFlow, Outgoing};
use fedkit_saml::logout::{LogoutMessage, LogoutRequest, LogoutResponse, LogoutValidator, OutgoingLogout};
use fedkit_saml::render::{error_html, Detail, Refusal};
use fedkit_saml::request::{safe_redirect, ID_RANDOM_BYTES};
use fedkit_saml::setup::SsoSetup;
use fedkit_saml::RelayState;
use fedkit_saml::{
    InMemoryReplayCache, InMemoryRequestStore, Login, NameId, ReplayCache, RequestStore, SigningKey,
};
use rand_core::{OsRng, RngCore as _};
use serde::Deserialize;

use crate::error::{RouteError, ERROR_HEADER};

/// How many outstanding requests and used assertions the default in-memory stores keep.
const DEFAULT_STORE_CAPACITY: usize = 100_000;

/// How long an SP-initiated logout waits for the IdP's LogoutResponse.
const LOGOUT_LIFETIME_MINUTES: i64 = 10;

/// What the host does at the points only it knows about: its sessions and its pages.
///
/// The methods are called **off the async runtime** (inside `spawn_blocking`), so they may
/// block on a database.
pub trait SamlHost: Send + Sync + 'static {
    /// A login was accepted: start the host's session for `login.assertion().name_id()` and
    /// return the response that sets it (typically a `303` to
    /// `login.redirect_target(&[])`, or the home page, with the session cookie). The adapter
    /// adds the header that clears the login cookie. The host may still refuse (e.g. with
    /// [`refusal_response`] after [`crate::Directory::check_login`]).
    fn logged_in(&self, login: Login, request: &Parts) -> Response;

    /// The user of this request asked to log out (`POST` to the logout route): end the
    /// host's session and return the IdP-side identity of that session (from the assertion
    /// it started with), so the adapter can send a LogoutRequest to the IdP; `None` when
    /// there was no session, or its user should not be logged out at the IdP. Headers put in
    /// `response` (e.g. the `Set-Cookie` that deletes the session cookie) go out with the
    /// answer, whatever it is.
    fn end_session(&self, request: &Parts, response: &mut HeaderMap) -> Option<SessionRef>;

    /// The IdP asks to end the sessions of `request.name_id()` (all of them when
    /// `request.session_indexes()` is empty, else those with one of these SessionIndexes).
    /// The signature and every other check have passed.
    fn end_sessions_for(&self, request: &LogoutRequest);

    /// The page for a refusal. The default: `status`, the end-user page of
    /// [`error_html`] with [`Detail::EndUser`], and the admin message logged (`log` crate,
    /// `warn` level, with the code). The adapter adds the `X-Fedkit-Error` header.
    fn refused(&self, refusal: &dyn Refusal, status: StatusCode) -> Response {
        default_refusal_page(refusal, status)
    }

    /// The page after a logout (a local one, or one the IdP confirmed with a
    /// LogoutResponse, see [`SignedOut`]). The default: a short HTML page.
    fn signed_out(&self, outcome: SignedOut) -> Response {
        let note = match outcome {
            SignedOut::Local => "",
            SignedOut::Confirmed => "<p id=\"idp-confirmed\">The identity provider confirmed the logout.</p>",
            SignedOut::Partial => "<p id=\"idp-partial\">The identity provider reported a partial logout: you may still be signed in there or at other applications.</p>",
        };
        (
            [(header::CACHE_CONTROL, "no-store")],
            Html(format!(
                "<!doctype html><title>Signed out</title><p id=\"signed-out\">You are signed out.</p>{note}"
            )),
        )
            .into_response()
    }
}

/// How a logout ended, for [`SamlHost::signed_out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedOut {
    /// The host's session ended; the IdP was not involved (no SLO configured, no session, or
    /// a session whose assertion carried no `SessionIndex` for a LogoutRequest to name).
    Local,
    /// The IdP answered the SP's LogoutRequest with Success.
    Confirmed,
    /// The IdP answered, but not with a complete logout.
    Partial,
}

/// Who a host session belongs to at the IdP, for an SP-initiated LogoutRequest: the NameID
/// and SessionIndex of the assertion that started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    /// The assertion's NameID.
    pub name_id: NameId,
    /// The assertion's SessionIndex, when it had one.
    pub session_index: Option<String>,
}

impl SessionRef {
    /// The identity of the session a [`Login`] starts (keep it in the session).
    pub fn of(login: &Login) -> Self {
        Self {
            name_id: login.assertion().name_id().clone(),
            session_index: login.assertion().session_index().map(str::to_owned),
        }
    }
}

/// One SP-to-IdP connection, as the routes use it: the login flow, the SP metadata document,
/// and optionally Single Logout.
#[derive(Debug, Clone)]
pub struct Connection {
    flow: LoginFlow,
    metadata_xml: String,
    logout: Option<Slo>,
}

#[derive(Debug, Clone)]
struct Slo {
    validator: LogoutValidator,
    idp_slo_url: Option<String>,
    signing: Option<(SigningKey, &'static dyn CryptoProvider)>,
}

impl Connection {
    /// The connection of an [`SsoSetup`]: its flow and its SP metadata.
    pub fn from_setup(setup: &SsoSetup) -> Self {
        Self::new(setup.flow().clone(), setup.sp_metadata_xml())
    }

    /// A connection over `flow`, serving `sp_metadata_xml` at the metadata route.
    pub fn new(flow: LoginFlow, sp_metadata_xml: String) -> Self {
        Self {
            flow,
            metadata_xml: sp_metadata_xml,
            logout: None,
        }
    }

    /// Turns Single Logout on: the IdP's logout messages arriving at `sp_slo_url` (the SLO
    /// route's absolute URL, e.g. `https://app.example.com/saml/slo`) are verified with the
    /// flow's SP, IdP and settings; LogoutRequests and LogoutResponses go to `idp_slo_url`
    /// (the IdP's HTTP-Redirect SLO endpoint; `None` when it has none: logouts are then
    /// local, and the IdP's LogoutRequests are honoured without an answer). The SP metadata
    /// is rebuilt to name `sp_slo_url`.
    #[must_use]
    pub fn with_single_logout(mut self, sp_slo_url: &str, idp_slo_url: Option<&str>) -> Self {
        let validator = self.flow.validator();
        let sp = validator.service_provider().clone();
        self.logout = Some(Slo {
            validator: LogoutValidator::new(
                sp.clone(),
                validator.identity_provider().clone(),
                sp_slo_url,
                validator.settings().clone(),
            ),
            idp_slo_url: idp_slo_url.map(str::to_owned),
            signing: None,
        });
        self.metadata_xml = fedkit_saml::sp_metadata::SpMetadata::new(&sp)
            .single_logout(sp_slo_url)
            .to_xml();
        self
    }

    /// Turns Single Logout on with this validator (made for the SP's SLO URL; e.g. with a
    /// decryption key for encrypted NameIDs, or another crypto provider); messages go to
    /// `idp_slo_url` as with [`with_single_logout`](Self::with_single_logout). The SP
    /// metadata is left as it is: give it the SLO URL with
    /// [`with_sp_metadata`](Self::with_sp_metadata).
    #[must_use]
    pub fn with_logout_validator(mut self, validator: LogoutValidator, idp_slo_url: Option<&str>) -> Self {
        self.logout = Some(Slo {
            validator,
            idp_slo_url: idp_slo_url.map(str::to_owned),
            signing: None,
        });
        self
    }

    /// Serves this SP metadata document instead (e.g. with a NameID format or certificates:
    /// build it with [`fedkit_saml::sp_metadata::SpMetadata`]).
    #[must_use]
    pub fn with_sp_metadata(mut self, xml: String) -> Self {
        self.metadata_xml = xml;
        self
    }

    /// Signs the LogoutRequests and LogoutResponses sent to the IdP (HTTP-Redirect query
    /// signature) with the SP's key: most IdPs require it. Only with Single Logout on.
    #[must_use]
    pub fn with_logout_signing_key(mut self, key: SigningKey, provider: &'static dyn CryptoProvider) -> Self {
        if let Some(slo) = &mut self.logout {
            slo.signing = Some((key, provider));
        }
        self
    }

    /// The login flow.
    pub fn flow(&self) -> &LoginFlow {
        &self.flow
    }

    /// The URL that sends `message` to the IdP (signed when a key was given).
    fn redirect(
        slo: &Slo,
        message: &OutgoingLogout,
        relay_state: Option<RelayState<'_>>,
    ) -> Result<String, RouteError> {
        match &slo.signing {
            Some((key, provider)) => message
                .signed_redirect_url(relay_state, key, *provider)
                .map_err(|e| RouteError::Signing(e.to_string())),
            None => Ok(message.redirect_url(relay_state)),
        }
    }
}

/// The SAML routes and their shared state: one [`Arc`] holding the host's callbacks, the
/// connection (replaceable at run time), the request store and the replay cache. Clone it
/// freely; every clone shares the state.
///
/// Routes of [`router`](Self::router), relative to where the host nests it (e.g.
/// `Router::new().nest("/saml", saml.router())`, then the ACS URL must be
/// `https://host/saml/acs`):
///
/// | Route | Method | What |
/// |---|---|---|
/// | `/login?next=/path` | GET | SP-initiated login; `next` (a local path only) comes back as [`Login::relay_state`] |
/// | `/acs` | POST | the IdP's Response: [`LoginFlow::finish`], then [`SamlHost::logged_in`] |
/// | `/metadata` | GET | the SP metadata (`application/samlmetadata+xml`) |
/// | `/slo` | GET, POST | the IdP's LogoutRequest (HTTP-Redirect or HTTP-POST), or its LogoutResponse |
/// | `/logout` | POST | SP-initiated logout: [`SamlHost::end_session`], then a LogoutRequest to the IdP |
///
/// Every refusal answers with the header `X-Fedkit-Error: <code>` (the stable code of
/// fedkit-saml's error, e.g. `login_not_started_here`, `replay`; or of [`RouteError`]).
pub struct Saml<H> {
    inner: Arc<Inner<H>>,
}

impl<H> Clone for Saml<H> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<H> {
    host: H,
    connection: RwLock<Option<Arc<Connection>>>,
    requests: Arc<dyn RequestStore>,
    replay: Arc<dyn ReplayCache>,
    metadata_before_setup: RwLock<Option<String>>,
}

impl<H: SamlHost> Saml<H> {
    /// The routes for `connection` (`None`: not set up yet; every route but `/logout`
    /// answers 503 `no_idp` until [`set_connection`](Self::set_connection)), calling `host`,
    /// with in-memory stores of 100 000 entries. A host with several processes passes shared
    /// stores (e.g. fedkit-postgres's) with [`with_stores`](Self::with_stores).
    pub fn new(connection: Option<Connection>, host: H) -> Self {
        Self::with_stores(
            connection,
            host,
            Arc::new(InMemoryRequestStore::new(DEFAULT_STORE_CAPACITY)),
            Arc::new(InMemoryReplayCache::new(DEFAULT_STORE_CAPACITY)),
        )
    }

    /// [`new`](Self::new) with this request store and replay cache.
    pub fn with_stores(
        connection: Option<Connection>,
        host: H,
        requests: Arc<dyn RequestStore>,
        replay: Arc<dyn ReplayCache>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                host,
                connection: RwLock::new(connection.map(Arc::new)),
                requests,
                replay,
                metadata_before_setup: RwLock::new(None),
            }),
        }
    }

    /// Serves `sp_metadata_xml` at the metadata route while no connection is set up: the SP
    /// metadata does not depend on the IdP, and an admin gives it to the IdP before importing
    /// the IdP's.
    #[must_use]
    pub fn with_metadata_before_setup(self, sp_metadata_xml: String) -> Self {
        *self
            .inner
            .metadata_before_setup
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(sp_metadata_xml);
        self
    }

    /// Replaces the connection (an admin imported another IdP); logins in progress with the
    /// old one fail at the ACS and must start again.
    pub fn set_connection(&self, connection: Option<Connection>) {
        *self
            .inner
            .connection
            .write()
            .unwrap_or_else(PoisonError::into_inner) = connection.map(Arc::new);
    }

    /// The current connection.
    pub fn connection(&self) -> Option<Arc<Connection>> {
        self.inner
            .connection
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The host's callbacks.
    pub fn host(&self) -> &H {
        &self.inner.host
    }

    /// The routes (see the [type docs](Self)), for `Router::nest`.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route("/login", get(login::<H>))
            .route("/acs", post(acs::<H>))
            .route("/metadata", get(metadata::<H>))
            .route("/slo", get(slo_redirect::<H>).post(slo_post::<H>))
            .route("/logout", post(logout::<H>))
            .with_state(self.clone())
    }

    /// The logout route alone (`POST`), for a host that wants it elsewhere too, e.g.
    /// `.route("/logout", saml.logout_route())` beside `.nest("/saml", saml.router())`.
    pub fn logout_route<S: Clone + Send + Sync + 'static>(&self) -> MethodRouter<S> {
        post(logout::<H>).with_state(self.clone())
    }

    fn connected(&self) -> Result<Arc<Connection>, RouteError> {
        self.connection().ok_or(RouteError::NoConnection)
    }

    /// The host's refusal page with the `X-Fedkit-Error` header.
    fn refuse(&self, refusal: &dyn Refusal, status: StatusCode) -> Response {
        with_code(self.inner.host.refused(refusal, status), refusal.code())
    }

    fn refuse_route(&self, error: &RouteError) -> Response {
        self.refuse(error, error.status())
    }
}

/// The default refusal page (what [`SamlHost::refused`] does unless overridden), with the
/// `X-Fedkit-Error` header: for a host refusing a login itself, e.g. in
/// [`SamlHost::logged_in`].
pub fn refusal_response(refusal: &dyn Refusal, status: StatusCode) -> Response {
    with_code(default_refusal_page(refusal, status), refusal.code())
}

fn default_refusal_page(refusal: &dyn Refusal, status: StatusCode) -> Response {
    log::warn!("SAML refusal [{}]: {refusal}", refusal.code());
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(format!(
            "<!doctype html><title>Sign-in failed</title>{}",
            error_html(refusal, Detail::EndUser)
        )),
    )
        .into_response()
}

fn with_code(mut response: Response, code: &'static str) -> Response {
    response
        .headers_mut()
        .insert(ERROR_HEADER, HeaderValue::from_static(code));
    response
}

fn random<const N: usize>() -> Result<[u8; N], RouteError> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| RouteError::Random(e.to_string()))?;
    Ok(bytes)
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn append_cookie(response: &mut Response, set_cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(set_cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The value of cookie `name` in the request's `Cookie` headers (the first one): for hosts
/// reading their session cookie.
pub fn request_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, RouteError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RouteError::Internal(e.to_string()))
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login<H: SamlHost>(
    State(saml): State<Saml<H>>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    // Only a path on this site is kept: anything else is dropped, never an open redirect.
    let next = query
        .ok()
        .and_then(|Query(q)| q.next)
        .filter(|n| safe_redirect(n, &[]).is_some());
    let started = (|| {
        let connection = saml.connected()?;
        let (request, binding) = (random::<ID_RANDOM_BYTES>()?, random::<32>()?);
        connection
            .flow
            .start(
                next.as_deref(),
                request,
                binding,
                Utc::now(),
                saml.inner.requests.as_ref(),
            )
            .map_err(RouteError::Start)
    })();
    let started = match started {
        Ok(s) => s,
        Err(e) => return saml.refuse_route(&e),
    };
    let mut response = match started.outgoing() {
        Outgoing::Redirect(location) => see_other(location),
        Outgoing::PostForm(html) => Html(html.clone()).into_response(),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    append_cookie(&mut response, &started.cookie().set_cookie_header());
    response
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

async fn acs<H: SamlHost>(
    State(saml): State<Saml<H>>,
    parts: Parts,
    form: Result<Form<AcsForm>, FormRejection>,
) -> Response {
    let connection = match saml.connected() {
        Ok(c) => c,
        Err(e) => return saml.refuse_route(&e),
    };
    let clear = connection.flow.clear_cookie_header();
    let mut response = match form {
        Err(rejection) => saml.refuse_route(&RouteError::Form(rejection.body_text())),
        Ok(Form(form)) => {
            let worker = saml.clone();
            let done = blocking(move || {
                let cookie = request_cookie(&parts.headers, connection.flow.cookie_name());
                let inner = &worker.inner;
                match connection.flow.finish(
                    &form.saml_response,
                    form.relay_state.as_deref(),
                    cookie,
                    Utc::now(),
                    inner.requests.as_ref(),
                    inner.replay.as_ref(),
                ) {
                    Ok(login) => inner.host.logged_in(login, &parts),
                    Err(e) => {
                        let status = if e.user_message() == fedkit_saml::render::TRY_AGAIN_LATER {
                            StatusCode::SERVICE_UNAVAILABLE
                        } else {
                            StatusCode::FORBIDDEN
                        };
                        worker.refuse(&e, status)
                    }
                }
            })
            .await;
            done.unwrap_or_else(|e| saml.refuse_route(&e))
        }
    };
    // The cookie serves one login, whatever the outcome.
    append_cookie(&mut response, &clear);
    response
}

async fn metadata<H: SamlHost>(State(saml): State<Saml<H>>) -> Response {
    let xml = match saml.connected() {
        Ok(c) => c.metadata_xml.clone(),
        Err(e) => {
            let before = saml.inner.metadata_before_setup.read().map(|m| m.clone());
            match before.unwrap_or_else(|poisoned| poisoned.into_inner().clone()) {
                Some(xml) => xml,
                None => return saml.refuse_route(&e),
            }
        }
    };
    ([(header::CONTENT_TYPE, "application/samlmetadata+xml")], xml).into_response()
}

async fn logout<H: SamlHost>(State(saml): State<Saml<H>>, parts: Parts) -> Response {
    let worker = saml.clone();
    let ended = blocking(move || {
        let mut headers = HeaderMap::new();
        let ended = worker.inner.host.end_session(&parts, &mut headers);
        (ended, headers)
    })
    .await;
    let (ended, headers) = match ended {
        Ok(ended) => ended,
        Err(e) => return saml.refuse_route(&e),
    };
    let mut response = saml.send_logout_request(ended);
    for (name, value) in &headers {
        response.headers_mut().append(name, value.clone());
    }
    response
}

impl<H: SamlHost> Saml<H> {
    /// After the host ended `session`: a LogoutRequest to the IdP when Single Logout is on,
    /// else the signed-out page.
    fn send_logout_request(&self, session: Option<SessionRef>) -> Response {
        let slo = self
            .connection()
            .and_then(|c| c.logout.clone())
            .filter(|slo| slo.idp_slo_url.is_some());
        let (Some(session), Some(slo)) = (session, slo) else {
            return self.inner.host.signed_out(SignedOut::Local);
        };
        let Some(session_index) = session.session_index.as_deref() else {
            // A LogoutRequest must name the session (Profiles §4.4.4.1); with none to name,
            // only the local session ends.
            log::warn!(
                "fedkit: no LogoutRequest sent to the IdP: the assertion of this session carried no \
                 SessionIndex to name (SAML Profiles 4.4.4.1); only the local session ended"
            );
            return self.inner.host.signed_out(SignedOut::Local);
        };
        let sent = (|| {
            let now = Utc::now();
            let idp_slo_url = slo.idp_slo_url.as_deref().unwrap_or_default();
            let request = OutgoingLogout::request(
                slo.validator.service_provider(),
                idp_slo_url,
                &session.name_id,
                session_index,
                random::<ID_RANDOM_BYTES>()?,
                now,
            );
            self.inner
                .requests
                .remember(
                    request.id(),
                    now + Duration::minutes(LOGOUT_LIFETIME_MINUTES),
                    now,
                )
                .map_err(|e| RouteError::Store(e.to_string()))?;
            // The RelayState names the request the LogoutResponse must answer; it is only
            // used while the request is outstanding, and the signed InResponseTo must equal it.
            // (A message ID, 41 bytes, always fits in a RelayState.)
            Connection::redirect(&slo, &request, RelayState::new(request.id()).ok())
        })();
        match sent {
            Ok(url) => see_other(&url),
            Err(e) => self.refuse_route(&e),
        }
    }
}

/// The logout message at `/slo`, over either binding.
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

async fn slo_redirect<H: SamlHost>(State(saml): State<Saml<H>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let pairs = || query.split('&');
    if !pairs().any(|p| p.starts_with("SAMLRequest=") || p.starts_with("SAMLResponse=")) {
        return saml.inner.host.signed_out(SignedOut::Local);
    }
    let relay_state = pairs()
        .find_map(|p| p.strip_prefix("RelayState="))
        .map(fedkit_saml::bindings::percent_decode);
    slo(saml, SloMessage::Redirect(query.clone()), relay_state).await
}

async fn slo_post<H: SamlHost>(
    State(saml): State<Saml<H>>,
    form: Result<Form<SloForm>, FormRejection>,
) -> Response {
    match form {
        Ok(Form(form)) => match form.saml_response.or(form.saml_request) {
            Some(value) => slo(saml, SloMessage::Post(value), form.relay_state).await,
            None => saml.inner.host.signed_out(SignedOut::Local),
        },
        Err(rejection) => saml.refuse_route(&RouteError::Form(rejection.body_text())),
    }
}

/// What the SLO route decided, computed off the runtime.
enum SloOutcome {
    /// The IdP answered the SP's LogoutRequest.
    Answered(LogoutResponse),
    /// The IdP's LogoutRequest was honoured: send the browser back with this URL.
    Ended(String),
    /// Honoured, with no IdP endpoint to answer to.
    Local,
    /// Refused: this page.
    Refused(Response),
}

async fn slo<H: SamlHost>(saml: Saml<H>, message: SloMessage, relay_state: Option<String>) -> Response {
    let Some(slo) = saml.connection().and_then(|c| c.logout.clone()) else {
        return saml.refuse_route(&RouteError::NoSingleLogout);
    };
    let worker = saml.clone();
    let outcome = blocking(move || {
        let now = Utc::now();
        let inner = &worker.inner;
        // Only a RelayState naming an outstanding request of ours selects it.
        let expected = relay_state
            .as_deref()
            .filter(|id| inner.requests.is_outstanding(id, now).unwrap_or(false));
        let verified = match &message {
            SloMessage::Redirect(query) => slo.validator.process_redirect(query, expected, now),
            SloMessage::Post(value) => slo.validator.process_post(value, expected, now),
        };
        match verified {
            Ok(LogoutMessage::Response(response)) => {
                // Answered once: a second copy finds the request no longer outstanding.
                let _ = inner.requests.consume(response.in_response_to(), now);
                SloOutcome::Answered(response)
            }
            Ok(LogoutMessage::Request(request)) => {
                inner.host.end_sessions_for(&request);
                let Some(idp_slo_url) = &slo.idp_slo_url else {
                    return SloOutcome::Local;
                };
                let answer = random::<ID_RANDOM_BYTES>().and_then(|random| {
                    let answer = OutgoingLogout::response(
                        slo.validator.service_provider(),
                        idp_slo_url,
                        &request,
                        random,
                        now,
                    );
                    // The IdP's RelayState goes back exactly as it came (Bindings §3.4.3).
                    Connection::redirect(&slo, &answer, relay_state.as_deref().map(RelayState::echo))
                });
                match answer {
                    Ok(url) => SloOutcome::Ended(url),
                    Err(e) => SloOutcome::Refused(worker.refuse_route(&e)),
                }
            }
            Ok(_) => SloOutcome::Local,
            Err(e) => SloOutcome::Refused(worker.refuse(&e, StatusCode::FORBIDDEN)),
        }
    })
    .await;
    let host = &saml.inner.host;
    match outcome {
        Ok(SloOutcome::Answered(response)) if response.success() => host.signed_out(SignedOut::Confirmed),
        Ok(SloOutcome::Answered(_)) => host.signed_out(SignedOut::Partial),
        Ok(SloOutcome::Ended(url)) => see_other(&url),
        Ok(SloOutcome::Local) => host.signed_out(SignedOut::Local),
        Ok(SloOutcome::Refused(response)) => response,
        Err(e) => saml.refuse_route(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_in_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; sid_x=2"));
        headers.append(header::COOKIE, HeaderValue::from_static(" sid=abc ;b=3"));
        assert_eq!(request_cookie(&headers, "sid"), Some("abc"));
        assert_eq!(request_cookie(&headers, "a"), Some("1"));
        assert_eq!(request_cookie(&headers, "sid_"), None);
        assert_eq!(request_cookie(&HeaderMap::new(), "sid"), None);
    }
}
