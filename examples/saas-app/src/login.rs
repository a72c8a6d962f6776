//! `/login`: a local account's password login, refused for a verified domain that enforces
//! SSO unless the account is an admin and the bypass is on (`enforcement::password_login`);
//! `/sso?email=`: home-realm discovery through verified domains only
//! (`discovery::discover_by_email`).

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};
use fedkit_saml::NameId;
use fedkit_tenancy::discovery::discover_by_email;
use fedkit_tenancy::enforcement::{password_login, PasswordLogin};
use serde::Deserialize;

use crate::html::{page as html_page, Failure};
use crate::tenancy::OneTenant;
use crate::{refused, App, LoginMethod, Session, SESSION_HOURS};

/// `GET /login`: the password form and the SSO-by-email form.
pub(crate) async fn page() -> Response {
    html_page(
        StatusCode::OK,
        "Sign in",
        "<h2>With your email and password</h2>\
         <form method=\"post\" action=\"/login\"><p><label>Email <input name=\"email\" value=\"\"></label></p>\
         <p><label>Password <input type=\"password\" name=\"password\" value=\"\"></label></p>\
         <p><button id=\"password-login\">Sign in</button></p></form>\
         <h2>With single sign-on</h2>\
         <form method=\"get\" action=\"/sso\"><p><label>Work email <input name=\"email\" value=\"\"></label></p>\
         <p><button id=\"sso-by-email\">Continue with SSO</button></p></form>",
    )
}

/// The password form.
#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`.
pub(crate) async fn password(State(app): State<Arc<App>>, Form(form): Form<PasswordForm>) -> Response {
    // PBKDF2 takes a while: off the async executor.
    let worker = app.clone();
    let outcome = tokio::task::spawn_blocking(move || check_password(&worker, &form)).await;
    match outcome {
        Ok(Ok(session)) => app.open_session(session, "/profile"),
        Ok(Err(failure)) => refused(failure),
        Err(e) => refused(Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Login failed",
            format!("the password check did not finish: {e}"),
            "internal_error",
        )),
    }
}

fn check_password(app: &App, form: &PasswordForm) -> Result<Session, Failure> {
    // PBKDF2 runs without the state's lock held.
    let found = app.tenancy.lock().account_by_email(&form.email).cloned();
    let account = found
        .filter(|a| a.password_matches(&form.password))
        .ok_or_else(|| {
            Failure::new(
                StatusCode::UNAUTHORIZED,
                "Login refused",
                "the email or the password is wrong (local accounts are added on /admin/sso)",
                "invalid_credentials",
            )
        })?;
    let state = app.tenancy.lock();
    let method = match password_login(
        &account.email,
        &state.domains,
        |_| state.enforcement,
        |_| account.admin,
    ) {
        PasswordLogin::Allowed => LoginMethod::Password,
        PasswordLogin::AllowedByAdminBypass => {
            // The emergency door: leave a trace.
            eprintln!(
                "saas-app: admin {} signed in with a password, bypassing SSO enforcement",
                account.email
            );
            LoginMethod::AdminBypass
        }
        PasswordLogin::Refused(refusal) => {
            return Err(Failure::login(
                format!("{} ({refusal})", refusal.user_message()),
                refusal.code(),
            ))
        }
        other => {
            return Err(Failure::login(
                format!("the password login was not allowed: {other:?}"),
                "password_login_refused",
            ))
        }
    };
    Ok(Session {
        email: account.email.clone(),
        name_id: NameId {
            value: account.email.clone(),
            format: None,
            name_qualifier: None,
            sp_name_qualifier: None,
        },
        session_index: None,
        issuer: String::new(),
        attributes: Vec::new(),
        user_id: account.id.clone(),
        created_by_login: false,
        idp_initiated: false,
        method,
        expires: Utc::now() + Duration::hours(SESSION_HOURS),
    })
}

/// `?email=`.
#[derive(Deserialize)]
pub(crate) struct EmailQuery {
    #[serde(default)]
    email: String,
}

/// `GET /sso?email=`: the connection for the email's domain, if a tenant verified it.
pub(crate) async fn discover(State(app): State<Arc<App>>, Query(query): Query<EmailQuery>) -> Response {
    let tenants = OneTenant(app.tenancy_connection());
    let state = app.tenancy.lock();
    match discover_by_email(&query.email, &state.domains, &tenants) {
        Ok(_route) => crate::see_other("/saml/login?next=%2Fprofile"),
        Err(miss) => {
            let status = match miss.code() {
                "not_an_email" => StatusCode::BAD_REQUEST,
                _ => StatusCode::NOT_FOUND,
            };
            refused(Failure::new(
                status,
                "Single sign-on not found",
                miss.to_string(),
                miss.code(),
            ))
        }
    }
}
