//! An axum app with SAML SSO (SP-initiated and IdP-initiated login, Single Logout) and a
//! SCIM 2.0 service, on fedkit-axum. Only users provisioned over SCIM, and active, may log
//! in. The glue is `Host` and `app`; `main` only reads the configuration.
//!
//! ```text
//! IDP_ENTITY_ID=… IDP_SSO_URL=… IDP_CERT_FILE=idp.crt.pem [IDP_SLO_URL=…] SCIM_TOKEN=… \
//!     cargo run -p fedkit-axum --example app        # serves http://localhost:3000
//! ```
//!
//! The loopback tests (`tests/loopback.rs`) run this `app` against fedkit's test IdP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use fedkit_axum::{
    refusal_response, request_cookie, Connection, Directory, Saml, SamlHost, Scim, SessionRef,
};
use fedkit_saml::logout::LogoutRequest;
use fedkit_saml::Login;
use fedkit_scim_service::ScimService;
use rand_core::{OsRng, RngCore as _};

/// The host's sessions (id → who; a stand-in for the app's own session store).
type Sessions = Mutex<HashMap<String, SessionRef>>;
/// What fedkit-axum calls: the sessions, and the SCIM directory asked at login.
pub struct Host(Sessions, Directory);

impl SamlHost for Host {
    fn logged_in(&self, login: Login, _request: &Parts) -> Response {
        if let Err(refused) = self.1.check_login(&login) {
            return refusal_response(&refused, refused.status());
        }
        let id = format!("{:016x}{:016x}", OsRng.next_u64(), OsRng.next_u64());
        self.sessions().insert(id.clone(), SessionRef::of(&login));
        let cookie = format!("sid={id}; Path=/; HttpOnly; Secure; SameSite=Lax");
        let target = Redirect::to(login.redirect_target(&[]).unwrap_or("/"));
        ([(header::SET_COOKIE, cookie)], target).into_response()
    }

    fn end_session(&self, request: &Parts, _response: &mut HeaderMap) -> Option<SessionRef> {
        self.sessions().remove(request_cookie(&request.headers, "sid")?)
    }

    fn end_sessions_for(&self, request: &LogoutRequest) {
        let user = &request.name_id().value;
        self.sessions().retain(|_, s| &s.name_id.value != user);
    }
}

impl Host {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, SessionRef>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The app: `/saml/*`, `/scim/v2/*` and a home page naming the user.
pub fn app(connection: Connection, scim: Scim, directory: Directory) -> Router {
    let saml = Saml::new(Some(connection), Host(Mutex::default(), directory));
    let host = saml.clone();
    let home = move |headers: HeaderMap| async move {
        let user = request_cookie(&headers, "sid").and_then(|id| host.host().sessions().get(id).cloned());
        format!("user: {:?}", user.map(|s| s.name_id.value))
    };
    Router::new()
        .route("/", get(home))
        .nest("/saml", saml.router())
        .merge(scim.router())
}

#[allow(dead_code)] // The tests include this file for `app`.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let base = var("APP_BASE_URL").unwrap_or_else(|_| "http://localhost:3000".to_owned());
    let setup = fedkit_saml::setup::SsoSetup::from_pasted(
        &var("IDP_ENTITY_ID")?,
        &var("IDP_SSO_URL")?,
        &[&std::fs::read_to_string(var("IDP_CERT_FILE")?)?],
        &format!("{base}/saml/metadata"),
        &format!("{base}/saml/acs"),
    )?
    .with_settings(fedkit_saml::Settings::default().with_idp_initiated(true));
    let idp_slo = std::env::var("IDP_SLO_URL").ok();
    let connection =
        Connection::from_setup(&setup).with_single_logout(&format!("{base}/saml/slo"), idp_slo.as_deref());
    let store = Arc::new(fedkit_scim_service::store::MemoryStore::new());
    let service = Arc::new(ScimService::new(
        store,
        Arc::new(fedkit_scim_service::ids::RandomIds::new()),
    ));
    let tenant = fedkit_scim_service::auth::TenantId::new("default")?;
    let tokens = fedkit_scim_service::auth::TokenRegistry::new();
    tokens.add(&tenant, &var("SCIM_TOKEN")?)?;
    let scim = Scim::new(service.clone(), Arc::new(tokens), &format!("{base}/scim/v2"));
    let router = app(connection, scim, Directory::new(service, tenant));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, router).await?;
    Ok(())
}
