//! An actix-web app with SAML login (SP- and IdP-initiated), Single Logout and SCIM
//! provisioning, refusing SSO to users SCIM deactivated. Run it against the test IdP
//! (a development tool: never in production):
//!
//! ```text
//! fedkit idp serve --listen 127.0.0.1:8081 --sp-entity-id http://localhost:8080/saml/metadata \
//!   --acs-url http://localhost:8080/saml/acs --sp-slo-url http://localhost:8080/saml/slo
//! IDP_URL=http://127.0.0.1:8081/saml2/fedkit-test IDP_CERT=fedkit-idp-cert.pem \
//!   SCIM_TOKEN=scim_change_me_0123456789 cargo run -p fedkit-actix --example actix_app
//! curl -X POST http://localhost:8080/scim/v2/Users -H 'Authorization: Bearer scim_change_me_0123456789' \
//!   -H 'Content-Type: application/scim+json' -d '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
//!   "userName": "jane.doe@example.com", "active": true}'
//! ```
//!
//! Then open <http://localhost:8080/saml/login?next=/> and log in as Jane; John, never
//! provisioned, is refused (`user_not_provisioned`), and so is Jane once SCIM deactivates her.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpResponseBuilder, HttpServer};
use fedkit_actix::{LoggedOut, Scim, Sso, SsoHost};
use fedkit_saml::logout::LogoutRequest;
use fedkit_saml::setup::SsoSetup;
use fedkit_saml::{Login, Settings};
use fedkit_scim_service::auth::{TenantId, TokenRegistry};
use fedkit_scim_service::{ids::RandomIds, store::MemoryStore, ScimService};
use rand_core::{OsRng, RngCore as _};

const BASE: &str = "http://localhost:8080";

// ---- The app's own code, there without fedkit: its sessions (cookie value -> who). ----

#[derive(Default)]
struct Sessions(Mutex<HashMap<String, LoggedOut>>);

impl Sessions {
    fn open(&self, who: LoggedOut) -> String {
        let id = format!("{:016x}{:016x}", OsRng.next_u64(), OsRng.next_u64());
        self.0.lock().map(|mut s| s.insert(id.clone(), who)).ok();
        id
    }

    fn close(&self, id: &str) -> Option<LoggedOut> {
        self.0.lock().ok()?.remove(id)
    }

    fn close_user(&self, name_id: &str) {
        self.0
            .lock()
            .map(|mut s| s.retain(|_, who| who.name_id.value != name_id))
            .ok();
    }
}

/// The app's directory: where SCIM users live (MemoryStore here; fedkit-scim-sqlite or
/// fedkit-postgres in production) and the bearer token the IdP provisions with.
fn directory() -> Result<(ScimService, TokenRegistry, TenantId), Box<dyn std::error::Error>> {
    let (tokens, tenant) = (TokenRegistry::new(), TenantId::new("default")?);
    tokens.add(&tenant, &std::env::var("SCIM_TOKEN")?)?;
    let service = ScimService::new(Arc::new(MemoryStore::new()), Arc::new(RandomIds::new()));
    Ok((service, tokens, tenant))
}

async fn home() -> HttpResponse {
    HttpResponse::Ok().body("<form method=post action=/saml/logout><button>Log out</button></form>")
}

// ---- The glue: what fedkit needs from the app, and where it is mounted. ----

impl SsoHost for Sessions {
    fn logged_in(&self, _: &HttpRequest, login: Login, response: &mut HttpResponseBuilder) {
        let id = self.open(LoggedOut::of(&login));
        let cookie = format!("session={id}; Path=/; HttpOnly; Secure; SameSite=Lax");
        response.append_header(("Set-Cookie", cookie));
    }

    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut> {
        response.insert_header(("Set-Cookie", "session=; Path=/; Max-Age=0"));
        self.close(request.cookie("session")?.value())
    }

    fn idp_logout(&self, request: &LogoutRequest) {
        self.close_user(&request.name_id().value);
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (service, tokens, tenant) = directory()?;
    let scim = Scim::new(Arc::new(service), Arc::new(tokens), &format!("{BASE}/scim/v2"))?;

    // The IdP as an admin pastes it (or SsoSetup::from_idp_metadata): its URL and certificate.
    let idp = std::env::var("IDP_URL")?;
    let certificate = std::fs::read_to_string(std::env::var("IDP_CERT")?)?;
    let (entity_id, acs) = (format!("{BASE}/saml/metadata"), format!("{BASE}/saml/acs"));
    let setup = SsoSetup::from_pasted(&idp, &idp, &[&certificate], &entity_id, &acs)?
        .with_settings(Settings::default().with_idp_initiated(true));
    // Built once, outside HttpServer::new: one request store and replay cache for all workers.
    let sso = Sso::builder(setup.into_flow())
        .with_single_logout(&format!("{BASE}/saml/slo"), &format!("{idp}/slo"))
        .with_directory(&scim, tenant) // no login for users SCIM deactivated
        .build(Sessions::default())?;

    let app = move || App::new().configure(sso.routes()).configure(scim.routes());
    HttpServer::new(move || app().route("/", web::get().to(home)))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await?;
    Ok(())
}
