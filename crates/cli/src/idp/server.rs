//! The HTTP side of the test IdP (axum on tokio): routes, form and query decoding, pages.
//! All SAML work is in the protocol module.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use chrono::Utc;
use fedkit_xmldsig::crypto::{AwsLcRs, CryptoProvider as _};
use fedkit_xmldsig::DigestAlgorithm;
use serde::{Deserialize, Serialize};

use super::html::{self, LoginContext};
use super::protocol::{self, field, split_pairs, Idp, LogoutDelivery, Refused, ResponseIds};

/// Largest request body read (a POSTed SAML message is base64 of at most
/// [`protocol::MAX_MESSAGE_BYTES`]).
const MAX_BODY_BYTES: usize = protocol::MAX_MESSAGE_BYTES * 4 / 3 + 16 * 1024;

/// The headless login endpoint: JSON in, JSON out, no HTML (see [`headless_sso`]).
pub(crate) const HEADLESS_SSO_PATH: &str = "/headless/sso";

#[derive(Debug)]
struct AppState {
    idp: Idp,
    csp: HeaderValue,
}

type Shared = Arc<AppState>;

/// The router of the IdP.
pub(crate) fn router(idp: Idp) -> Router {
    let script_hash = base64::engine::general_purpose::STANDARD
        .encode(AwsLcRs.digest(DigestAlgorithm::Sha256, html::AUTO_SUBMIT_SCRIPT.as_bytes()));
    let csp = HeaderValue::from_str(&format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; \
         base-uri 'none'; frame-ancestors 'none'"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let sso = idp.sso_path();
    let state: Shared = Arc::new(AppState { idp, csp });
    Router::new()
        .route("/", get(index))
        .route("/metadata", get(metadata))
        .route(&sso, get(sso_redirect).post(sso_post))
        .route(&state.idp.login_path(), post(login))
        .route(&format!("{sso}/slo"), get(slo_redirect).post(slo_post))
        .route(HEADLESS_SSO_PATH, post(headless_sso))
        .fallback(not_found)
        .layer(axum::middleware::map_response_with_state(state.clone(), headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Security headers on every answer: no caching, no framing, a CSP that allows only the
/// pages' own style and the auto-submit script.
async fn headers(State(state): State<Shared>, mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CONTENT_SECURITY_POLICY, state.csp.clone());
    response
}

fn refusal(what: &str, r: &Refused) -> Response {
    eprintln!("refused {what}: [{}] {}", r.code, r.message);
    (
        StatusCode::BAD_REQUEST,
        Html(html::error_page(r.code, &r.message)),
    )
        .into_response()
}

fn form_pairs(body: &Bytes) -> Result<Vec<(&str, &str)>, Refused> {
    let text = std::str::from_utf8(body).map_err(|_| Refused {
        code: "bad_form",
        message: "the form body is not UTF-8 (application/x-www-form-urlencoded expected)".to_owned(),
    })?;
    split_pairs(text)
}

async fn not_found(State(state): State<Shared>) -> Response {
    let idp = &state.idp;
    (
        StatusCode::NOT_FOUND,
        Html(html::message_page(
            "Not found",
            &format!(
                "This test IdP serves {} (metadata), {} (SSO, HTTP-Redirect and HTTP-POST), {} (SLO) and \
                 {}{HEADLESS_SSO_PATH} (headless login for tests, JSON POST).",
                idp.metadata_url(),
                idp.sso_url(),
                idp.slo_url(),
                idp.base_url
            ),
        )),
    )
        .into_response()
}

fn idp_initiated_page(idp: &Idp, relay_state: Option<String>) -> String {
    let context = LoginContext {
        request_id: None,
        acs_url: idp.sp.default_acs().to_owned(),
        relay_state,
    };
    html::login_page(&idp.sp.entity_id, &idp.users, &context, &idp.login_path())
}

async fn index(State(state): State<Shared>) -> Response {
    let idp = &state.idp;
    let mut page = idp_initiated_page(idp, None);
    let info = format!(
        "<p>Metadata: <a href=\"/metadata\"><code>{}</code></a><br>IdP entity ID: <code>{}</code><br>\
         SSO URL (HTTP-Redirect, HTTP-POST): <code>{}</code><br>SLO URL: <code>{}</code></p>",
        html::escape(&idp.metadata_url()),
        html::escape(&idp.entity_id),
        html::escape(&idp.sso_url()),
        html::escape(&idp.slo_url()),
    );
    if let Some(at) = page.find("</h1>") {
        page.insert_str(at + "</h1>".len(), &info);
    }
    Html(page).into_response()
}

async fn metadata(State(state): State<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        state.idp.metadata_xml(),
    )
        .into_response()
}

fn login_page(idp: &Idp, context: &LoginContext) -> Response {
    eprintln!(
        "AuthnRequest {} from {:?}: showing the login page",
        context.request_id.as_deref().unwrap_or("-"),
        idp.sp.entity_id
    );
    Html(html::login_page(
        &idp.sp.entity_id,
        &idp.users,
        context,
        &idp.login_path(),
    ))
    .into_response()
}

/// GET on the SSO URL: an AuthnRequest over HTTP-Redirect, or — without `SAMLRequest` — the
/// IdP-initiated login page (an optional `RelayState` query parameter is passed on).
async fn sso_redirect(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let idp = &state.idp;
    let query = query.unwrap_or_default();
    let pairs = match split_pairs(&query) {
        Ok(p) => p,
        Err(r) => return refusal("AuthnRequest", &r),
    };
    if field(&pairs, "SAMLRequest").is_none() {
        let relay = field(&pairs, "RelayState").filter(|r| !r.is_empty());
        if relay
            .as_ref()
            .is_some_and(|r| r.len() > protocol::MAX_RELAY_STATE_BYTES)
        {
            let r = Refused {
                code: "relay_state_too_long",
                message: format!(
                    "RelayState is longer than {} bytes",
                    protocol::MAX_RELAY_STATE_BYTES
                ),
            };
            return refusal("IdP-initiated login", &r);
        }
        return Html(idp_initiated_page(idp, relay)).into_response();
    }
    match protocol::from_redirect(&idp.sp, &query, "SAMLRequest")
        .and_then(|i| protocol::authn_request(idp, &i))
    {
        Ok(context) => login_page(idp, &context),
        Err(r) => refusal("AuthnRequest", &r),
    }
}

/// POST on the SSO URL: an AuthnRequest over HTTP-POST.
async fn sso_post(State(state): State<Shared>, body: Bytes) -> Response {
    let idp = &state.idp;
    let context = form_pairs(&body)
        .and_then(|pairs| protocol::from_post(&pairs, "SAMLRequest"))
        .and_then(|i| protocol::authn_request(idp, &i));
    match context {
        Ok(context) => login_page(idp, &context),
        Err(r) => refusal("AuthnRequest", &r),
    }
}

/// The login page's button: issue the Response and post it to the ACS URL.
async fn login(State(state): State<Shared>, body: Bytes) -> Response {
    let idp = &state.idp;
    let pairs = match form_pairs(&body) {
        Ok(p) => p,
        Err(r) => return refusal("login", &r),
    };
    let email = field(&pairs, "user").unwrap_or_default();
    let context = LoginContext {
        request_id: field(&pairs, "request_id").filter(|v| !v.is_empty()),
        acs_url: field(&pairs, "acs").unwrap_or_else(|| idp.sp.default_acs().to_owned()),
        relay_state: field(&pairs, "RelayState").filter(|v| !v.is_empty()),
    };
    if context
        .relay_state
        .as_ref()
        .is_some_and(|r| r.len() > protocol::MAX_RELAY_STATE_BYTES)
    {
        let r = Refused {
            code: "relay_state_too_long",
            message: format!(
                "RelayState is longer than {} bytes",
                protocol::MAX_RELAY_STATE_BYTES
            ),
        };
        return refusal("login", &r);
    }
    let fault = match protocol::Fault::parse(field(&pairs, "fault").as_deref()) {
        Ok(f) => f,
        Err(r) => return refusal("login", &r),
    };
    match protocol::login_with_fault(idp, &email, &context, Utc::now(), ResponseIds::random(), fault) {
        Ok(saml_response) => {
            let fault_note = match fault {
                protocol::Fault::None => String::new(),
                f => format!(", deliberately {}", f.name()),
            };
            eprintln!(
                "login: {email} -> {} ({}{fault_note})",
                context.acs_url,
                context
                    .request_id
                    .as_deref()
                    .map_or_else(|| "IdP-initiated".to_owned(), |id| format!("InResponseTo {id}"))
            );
            let mut fields = vec![("SAMLResponse", saml_response.as_str())];
            if let Some(relay) = &context.relay_state {
                fields.push(("RelayState", relay.as_str()));
            }
            Html(html::auto_post(&context.acs_url, &fields, "SAML Response")).into_response()
        }
        Err(r) => refusal("login", &r),
    }
}

fn deliver_logout(idp: &Idp, request: &protocol::LogoutRequest) -> Response {
    eprintln!("LogoutRequest {} for {}", request.id, request.name_id);
    match protocol::logout_response(idp, request, Utc::now(), protocol::random_bytes()) {
        Ok(LogoutDelivery::Post {
            url,
            saml_response,
            relay_state,
        }) => {
            let mut fields = vec![("SAMLResponse", saml_response.as_str())];
            if let Some(relay) = &relay_state {
                fields.push(("RelayState", relay.as_str()));
            }
            Html(html::auto_post(&url, &fields, "LogoutResponse")).into_response()
        }
        Ok(LogoutDelivery::Redirect(url)) => Redirect::to(&url).into_response(),
        Ok(LogoutDelivery::Nowhere) => Html(html::message_page(
            "Logged out",
            &format!(
                "{} is logged out of the test IdP. The SP has no Single Logout URL (no SingleLogoutService in \
                 its metadata, or no --sp-slo-url), so no LogoutResponse was sent back.",
                request.name_id
            ),
        ))
        .into_response(),
        Err(r) => refusal("LogoutRequest", &r),
    }
}

fn not_a_logout_request(query_or_form: &[(&str, &str)]) -> Option<Refused> {
    field(query_or_form, "SAMLResponse").map(|_| Refused {
        code: "unexpected_message",
        message: "this IdP never sends LogoutRequests to the SP, so it expects no LogoutResponse".to_owned(),
    })
}

/// GET on the SLO URL: a LogoutRequest over HTTP-Redirect.
async fn slo_redirect(State(state): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let idp = &state.idp;
    let query = query.unwrap_or_default();
    if let Some(r) = split_pairs(&query).ok().as_deref().and_then(not_a_logout_request) {
        return refusal("logout", &r);
    }
    match protocol::from_redirect(&idp.sp, &query, "SAMLRequest")
        .and_then(|i| protocol::logout_request(idp, &i))
    {
        Ok(request) => deliver_logout(idp, &request),
        Err(r) => refusal("LogoutRequest", &r),
    }
}

/// POST on the SLO URL: a LogoutRequest over HTTP-POST.
async fn slo_post(State(state): State<Shared>, body: Bytes) -> Response {
    let idp = &state.idp;
    let request = form_pairs(&body).and_then(|pairs| {
        if let Some(r) = not_a_logout_request(&pairs) {
            return Err(r);
        }
        protocol::from_post(&pairs, "SAMLRequest").and_then(|i| protocol::logout_request(idp, &i))
    });
    match request {
        Ok(request) => deliver_logout(idp, &request),
        Err(r) => refusal("LogoutRequest", &r),
    }
}

/// The body of a headless login.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadlessLogin {
    /// The email of a listed user.
    user: String,
    /// A fault name as on the login page (`expired`, `tampered`, `wrong-audience`,
    /// `unsigned`); none or `"none"` for a correct Response.
    #[serde(default)]
    fault: Option<String>,
    /// The AuthnRequest as the SP sent it (a Redirect URL or query, or a `SAMLRequest`
    /// value); none for an IdP-initiated login.
    #[serde(default)]
    saml_request: Option<String>,
    #[serde(default)]
    relay_state: Option<String>,
    /// The SP entity ID, checked to be the one this IdP serves.
    #[serde(default)]
    sp: Option<String>,
}

/// What the auto-submitting form would have posted.
#[derive(Debug, Serialize)]
struct HeadlessAnswer {
    acs_url: String,
    saml_response: String,
    relay_state: Option<String>,
}

fn json_refusal(status: StatusCode, r: &Refused) -> Response {
    eprintln!("refused headless login: [{}] {}", r.code, r.message);
    let body = serde_json::json!({ "error": { "code": r.code, "message": r.message } });
    (status, Json(body)).into_response()
}

/// POST on [`HEADLESS_SSO_PATH`]: a login without a browser, for tests. The JSON body names
/// the user and optionally the AuthnRequest, RelayState, fault and SP; the answer is what the
/// login page's auto-submitting form would post (`acs_url`, `saml_response`, `relay_state`),
/// made by the same code. Refusals are `{"error": {"code", "message"}}` with status 400 (415
/// for a body that is not `application/json`, which also keeps cross-site forms out).
async fn headless_sso(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let idp = &state.idp;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        let r = Refused {
            code: "unsupported_media_type",
            message: format!(
                "send the login as JSON with Content-Type: application/json to {HEADLESS_SSO_PATH}"
            ),
        };
        return json_refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, &r);
    }
    let login: HeadlessLogin = match serde_json::from_slice(&body) {
        Ok(login) => login,
        Err(e) => {
            let r = Refused {
                code: "bad_json",
                message: format!(
                    "the body is not a headless login: {e}. Expected {{\"user\": EMAIL, \"fault\", \"saml_request\", \
                     \"relay_state\", \"sp\" (all optional)}}"
                ),
            };
            return json_refusal(StatusCode::BAD_REQUEST, &r);
        }
    };
    let fault = match protocol::Fault::parse(login.fault.as_deref()) {
        Ok(f) => f,
        Err(r) => return json_refusal(StatusCode::BAD_REQUEST, &r),
    };
    match protocol::respond(
        idp,
        login.saml_request.as_deref(),
        login.relay_state.as_deref(),
        login.sp.as_deref(),
        &login.user,
        fault,
        Utc::now(),
        ResponseIds::random(),
    ) {
        Ok(posted) => {
            eprintln!(
                "headless login: {} -> {} ({}{})",
                login.user,
                posted.acs_url,
                if login.saml_request.is_some() {
                    "SP-initiated"
                } else {
                    "IdP-initiated"
                },
                match fault {
                    protocol::Fault::None => String::new(),
                    f => format!(", deliberately {}", f.name()),
                }
            );
            Json(HeadlessAnswer {
                acs_url: posted.acs_url,
                saml_response: posted.saml_response,
                relay_state: posted.relay_state,
            })
            .into_response()
        }
        Err(r) => json_refusal(StatusCode::BAD_REQUEST, &r),
    }
}
