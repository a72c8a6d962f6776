//! An actix-web app with SAML login (SP- and IdP-initiated), Single Logout and SCIM
//! provisioning, refusing SSO to users SCIM deactivated. Run it against the test IdP:
//!
//! ```text
//! fedkit idp serve --sp-metadata http://localhost:8080/saml/metadata   # in another terminal, once the app runs
//! curl -s http://127.0.0.1:8081/metadata > idp.xml
//! IDP_METADATA=idp.xml IDP_SLO_URL=http://127.0.0.1:8081/saml2/fedkit-test/slo \
//!   SCIM_TOKEN=scim_change_me cargo run -p fedkit-actix --example actix_app
//! ```
//!
//! Then open <http://localhost:8080/saml/login?next=/>. Only the users the IdP provisioned
//! (and did not deactivate) through `http://localhost:8080/scim/v2` may log in.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpResponseBuilder, HttpServer};
use fedkit_actix::{HostRefusal, LoggedOut, Scim, Sso, SsoHost};
use fedkit_saml::fedkit_metadata::{ImportSettings, SignaturePolicy};
use fedkit_saml::logout::LogoutRequest;
use fedkit_saml::setup::SsoSetup;
use fedkit_saml::{Login, Settings};
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::{ids::RandomIds, store::MemoryStore, ScimService};
use rand_core::{OsRng, RngCore as _};

const BASE: &str = "http://localhost:8080";

/// The app's own sessions (session cookie → who), and its SCIM directory.
struct Host {
    sessions: Mutex<HashMap<String, LoggedOut>>,
    scim: Scim,
    tenant: TenantId,
}

impl SsoHost for Host {
    fn check(&self, login: &Login) -> Result<(), HostRefusal> {
        self.scim
            .check_login(&self.tenant, login)
            .map(drop)
            .map_err(Into::into)
    }

    fn logged_in(&self, _: &HttpRequest, login: Login) -> HttpResponse {
        let id = format!("{:x}{:x}", OsRng.next_u64(), OsRng.next_u64());
        let to = login.redirect_target(&[]).unwrap_or("/").to_owned();
        self.sessions
            .lock()
            .map(|mut s| s.insert(id.clone(), LoggedOut::of(&login)))
            .ok();
        let cookie = format!("session={id}; Path=/; HttpOnly; Secure; SameSite=Lax");
        HttpResponse::SeeOther()
            .insert_header(("Location", to))
            .insert_header(("Set-Cookie", cookie))
            .finish()
    }

    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut> {
        response.insert_header(("Set-Cookie", "session=; Path=/; Max-Age=0"));
        self.sessions
            .lock()
            .ok()?
            .remove(request.cookie("session")?.value())
    }

    fn idp_logout(&self, request: &LogoutRequest) {
        self.sessions
            .lock()
            .map(|mut s| s.retain(|_, who| who.name_id.value != request.name_id().value))
            .ok();
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let tokens = TokenRegistry::new();
    let tenant = TenantId::new("default")?;
    tokens.add(&tenant, &var("SCIM_TOKEN")?)?;
    let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new()));
    let scim = Scim::new(Arc::new(service), Arc::new(tokens), &format!("{BASE}/scim/v2"))?;

    let metadata = std::fs::read(var("IDP_METADATA")?)?;
    let import = ImportSettings::new(SignaturePolicy::NotRequired); // or pin the metadata signer
    let setup = SsoSetup::from_idp_metadata(
        &metadata,
        &import,
        &format!("{BASE}/saml/metadata"),
        &format!("{BASE}/saml/acs"),
        chrono::Utc::now(),
    )?
    .with_settings(Settings::default().with_idp_initiated(true));
    // Built once, outside HttpServer::new: one request store and replay cache for all workers.
    let sso = Sso::builder(setup.into_flow())
        .with_single_logout(&format!("{BASE}/saml/slo"), &var("IDP_SLO_URL")?)
        .build(Host {
            sessions: Mutex::default(),
            scim: scim.clone(),
            tenant,
        })?;

    let home = || async {
        HttpResponse::Ok().body("<form method=post action=/saml/logout><button>Log out</button></form>")
    };
    HttpServer::new(move || {
        App::new()
            .configure(sso.routes())
            .configure(scim.routes())
            .route("/", web::get().to(home))
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await?;
    Ok(())
}
