//! `/admin/sso`: the tenancy settings (fedkit-tenancy), each form protected by the
//! `--admin-token` like `/admin`:
//! - claim a domain (the TXT record to publish) and check it (the app's [`TxtLookup`]
//!   resolves; the answer says what was found and why it does or does not match);
//! - local password accounts (admins among them);
//! - "Require SSO" with the admin bypass, refused when it would lock every admin out;
//! - `/admin/guide?idp=jumpcloud`: the IdP-side setup guide with this app's values.
//!
//! [`TxtLookup`]: crate::TxtLookup

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use fedkit_tenancy::domain::{describe_check, AppName, ClaimState, DomainName, VerifyError};
use fedkit_tenancy::enforcement::{Enforcement, EnforcementWarning};
use fedkit_tenancy::guide::{GuideInput, IdpVendor, ScimGuide};
use serde::Deserialize;

use crate::admin::{check_token, disabled};
use crate::html::{escape, page as html_page, Failure};
use crate::tenancy::{self, LocalAccount, APP_NAME, CONNECTION};
use crate::{random_bytes, refused, App};

fn app_name() -> AppName {
    AppName::new(APP_NAME).unwrap_or_else(|_| unreachable!("a valid constant"))
}

fn invalid(message: impl Into<String>, code: &str) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, "Not saved", message, code)
}

fn store_failed(e: String) -> Failure {
    Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "Not saved", e, "save_failed")
}

fn token_field() -> &'static str {
    "<p><label>Admin token <input type=\"password\" name=\"token\" value=\"\"></label></p>"
}

/// `GET /admin/sso`: the domains, the enforcement setting and the forms.
pub(crate) async fn page(State(app): State<Arc<App>>) -> Response {
    if app.config.admin_token.is_none() {
        return refused(disabled());
    }
    let state = app.tenancy.lock();
    let rows: String = state
        .domains
        .claims()
        .iter()
        .map(|c| {
            let status = match &c.state {
                ClaimState::Verified { since, .. } => {
                    format!("verified since {}", since.format("%Y-%m-%d %H:%M UTC"))
                }
                ClaimState::Pending => "pending: publish the record, then Check".to_owned(),
                ClaimState::Lost { at } => format!("lost at {}", at.format("%Y-%m-%d %H:%M UTC")),
                _ => "unknown".to_owned(),
            };
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                escape(c.challenge.domain.as_str()),
                escape(&c.challenge.record_name),
                escape(&c.challenge.record_value),
                escape(&status)
            )
        })
        .collect();
    let admins = state.accounts.iter().filter(|a| a.admin).count();
    let enforcement = match (state.enforcement.enabled, state.enforcement.admins_may_bypass) {
        (false, _) => "off",
        (true, true) => "on, admins may bypass with their password",
        (true, false) => "on, no bypass",
    };
    let body = format!(
        "<h2>Domains</h2><table id=\"domains\"><tr><th>Domain</th><th>TXT record name</th><th>Value</th><th>State</th></tr>{rows}</table>\
         <p>Only <strong>verified</strong> domains route logins by email, link IdP logins to existing accounts, and \
         enforce SSO.</p>\
         <form method=\"post\" action=\"/admin/domains/claim\">{token}<p><label>Domain <input name=\"domain\" value=\"\"></label></p>\
         <p><button id=\"claim\">Claim</button></p></form>\
         <form method=\"post\" action=\"/admin/domains/check\">{token}<p><label>Domain <input name=\"domain\" value=\"\"></label></p>\
         <p><button id=\"check\">Check</button></p></form>\
         <h2>Local accounts</h2><p>{accounts} account(s), {admins} admin(s).</p>\
         <form method=\"post\" action=\"/admin/accounts\">{token}<p><label>Email <input name=\"email\" value=\"\"></label></p>\
         <p><label>Password <input type=\"password\" name=\"password\" value=\"\"></label></p>\
         <p><label><input type=\"checkbox\" name=\"admin\" value=\"on\"> Admin</label></p>\
         <p><button id=\"add-account\">Add account</button></p></form>\
         <h2>Require SSO</h2><p id=\"enforcement\">Enforcement: {enforcement}.</p>\
         <form method=\"post\" action=\"/admin/enforcement\">{token}\
         <p><label><input type=\"checkbox\" name=\"enabled\" value=\"on\"> Require SSO for the verified domains</label></p>\
         <p><label><input type=\"checkbox\" name=\"bypass\" value=\"on\"> Admins may bypass with their password</label></p>\
         <p><button id=\"save-enforcement\">Save</button></p></form>\
         <h2>Setup guides</h2><p><a href=\"/admin/guide?idp=jumpcloud\">JumpCloud</a> · <a href=\"/admin/guide?idp=okta\">Okta</a> · \
         <a href=\"/admin/guide?idp=entra\">Entra ID</a> · <a href=\"/admin/guide?idp=google\">Google Workspace</a></p>",
        token = token_field(),
        accounts = state.accounts.len(),
    );
    html_page(StatusCode::OK, "Admin: domains and SSO enforcement", &body)
}

/// A form with the token and a domain.
#[derive(Deserialize)]
pub(crate) struct DomainForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    domain: String,
}

fn parse_domain(input: &str) -> Result<DomainName, Failure> {
    DomainName::parse(input).map_err(|e| invalid(e.to_string(), e.code()))
}

fn verify_failure(e: &VerifyError) -> Failure {
    let status = match e {
        VerifyError::TakenByOther { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match e {
        VerifyError::NotProven {
            check, record_name, ..
        } => describe_check(check, record_name),
        other => other.to_string(),
    };
    Failure::new(status, "Domain not verified", message, e.code())
}

/// `POST /admin/domains/claim`: a challenge, and the record to publish.
pub(crate) async fn claim(State(app): State<Arc<App>>, Form(form): Form<DomainForm>) -> Response {
    match claim_inner(&app, &form) {
        Ok(body) => html_page(StatusCode::OK, "Publish this TXT record", &body),
        Err(f) => refused(f),
    }
}

fn claim_inner(app: &App, form: &DomainForm) -> Result<String, Failure> {
    check_token(app, &form.token)?;
    let domain = parse_domain(&form.domain)?;
    let random = random_bytes::<16>()?;
    let mut state = app.tenancy.lock();
    let challenge = state
        .domains
        .claim(&tenancy::tenant(), domain, &app_name(), &random, Utc::now())
        .map_err(|e| verify_failure(&e))?;
    app.tenancy.save(&state).map_err(store_failed)?;
    Ok(format!(
        "<p>Publish this TXT record in the DNS of <strong>{domain}</strong>, then press Check on \
         <a href=\"/admin/sso\">the admin page</a>.</p><table>\
         <tr><th>Name</th><td><code id=\"record-name\">{name}</code></td></tr>\
         <tr><th>Type</th><td>TXT</td></tr>\
         <tr><th>Value</th><td><code id=\"record-value\">{value}</code></td></tr></table>",
        domain = escape(challenge.domain.as_str()),
        name = escape(&challenge.record_name),
        value = escape(&challenge.record_value),
    ))
}

/// `POST /admin/domains/check`: resolve the TXT record and verify the claim.
pub(crate) async fn check(State(app): State<Arc<App>>, Form(form): Form<DomainForm>) -> Response {
    let worker = app.clone();
    // The lookup may block (a real resolver): off the async executor.
    match tokio::task::spawn_blocking(move || check_inner(&worker, &form)).await {
        Ok(Ok(body)) => html_page(StatusCode::OK, "Domain verified", &body),
        Ok(Err(f)) => refused(f),
        Err(e) => refused(store_failed(format!("the check did not finish: {e}"))),
    }
}

fn check_inner(app: &App, form: &DomainForm) -> Result<String, Failure> {
    check_token(app, &form.token)?;
    let domain = parse_domain(&form.domain)?;
    let tenant = tenancy::tenant();
    let record_name = app
        .tenancy
        .lock()
        .domains
        .claim_of(&tenant, &domain)
        .map(|c| c.challenge.record_name.clone())
        .ok_or_else(|| {
            verify_failure(&VerifyError::NoClaim {
                domain: domain.clone(),
            })
        })?;
    let resolved = app.config.txt_lookup.txt(&record_name).map_err(|e| {
        Failure::new(
            StatusCode::BAD_GATEWAY,
            "Domain not verified",
            format!("the TXT lookup of {record_name} failed: {e}; try again later"),
            "txt_lookup_failed",
        )
    })?;
    let mut state = app.tenancy.lock();
    let answer = match state.domains.verify(&tenant, &domain, &resolved, Utc::now()) {
        Ok(claim) => describe_check(&claim.challenge.check(&resolved), &record_name),
        Err(e) => return Err(verify_failure(&e)),
    };
    app.tenancy.save(&state).map_err(store_failed)?;
    Ok(format!(
        "<p id=\"verified\"><strong>{}</strong> is verified.</p><p id=\"check-answer\">{}</p>\
         <p><a href=\"/admin/sso\">Back</a></p>",
        escape(domain.as_str()),
        escape(&answer)
    ))
}

/// The new local account.
#[derive(Deserialize)]
pub(crate) struct AccountForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
}

/// `POST /admin/accounts`: a local password account.
pub(crate) async fn add_account(State(app): State<Arc<App>>, Form(form): Form<AccountForm>) -> Response {
    let worker = app.clone();
    // PBKDF2 takes a while: off the async executor.
    match tokio::task::spawn_blocking(move || add_account_inner(&worker, &form)).await {
        Ok(Ok(body)) => html_page(StatusCode::OK, "Account added", &body),
        Ok(Err(f)) => refused(f),
        Err(e) => refused(store_failed(format!("adding the account did not finish: {e}"))),
    }
}

fn add_account_inner(app: &App, form: &AccountForm) -> Result<String, Failure> {
    check_token(app, &form.token)?;
    let email = form.email.trim();
    if DomainName::of_email(email).is_none() {
        return Err(invalid(
            format!("{email:?} is not an email address with a usable domain"),
            "invalid_email",
        ));
    }
    if form.password.chars().count() < 12 {
        return Err(invalid(
            "the password must have at least 12 characters",
            "password_too_short",
        ));
    }
    let admin = form.admin.is_some();
    let account = LocalAccount::new(email, &form.password, admin, random_bytes()?, random_bytes()?);
    let mut state = app.tenancy.lock();
    if state.account_by_email(email).is_some() {
        return Err(invalid(
            format!("a local account with the email {email} exists already"),
            "account_exists",
        ));
    }
    state.accounts.push(account);
    app.tenancy.save(&state).map_err(store_failed)?;
    Ok(format!(
        "<p id=\"account-added\">{} can sign in with a password on <a href=\"/login\">/login</a>{}.</p>\
         <p><a href=\"/admin/sso\">Back</a></p>",
        escape(email),
        if admin { " (admin)" } else { "" }
    ))
}

/// The enforcement form.
#[derive(Deserialize)]
pub(crate) struct EnforcementForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    enabled: Option<String>,
    #[serde(default)]
    bypass: Option<String>,
}

/// `POST /admin/enforcement`: "Require SSO", refused when no admin could still sign in.
pub(crate) async fn enforcement(State(app): State<Arc<App>>, Form(form): Form<EnforcementForm>) -> Response {
    match enforcement_inner(&app, &form) {
        Ok(body) => html_page(StatusCode::OK, "SSO enforcement saved", &body),
        Err(f) => refused(f),
    }
}

fn enforcement_inner(app: &App, form: &EnforcementForm) -> Result<String, Failure> {
    check_token(app, &form.token)?;
    let bypass = form.bypass.is_some();
    let enabled_connections: Vec<&str> = if app.connected().is_ok() {
        vec![CONNECTION]
    } else {
        Vec::new()
    };
    let mut state = app.tenancy.lock();
    let admins = state.admins();
    let setting = if form.enabled.is_some() {
        Enforcement::enable(bypass, &admins, &enabled_connections).map_err(|e| {
            Failure::new(
                StatusCode::CONFLICT,
                "SSO enforcement not enabled",
                e.to_string(),
                e.code(),
            )
        })?
    } else {
        Enforcement {
            enabled: false,
            admins_may_bypass: bypass,
        }
    };
    let warning = if setting
        .warnings(&admins)
        .contains(&EnforcementWarning::NoBreakGlassAdmin)
    {
        "<p id=\"warning\"><strong>Warning:</strong> no admin can sign in with a password: if the IdP fails, \
         no one can get in. Keep one admin with a password and the bypass on.</p>"
    } else {
        ""
    };
    state.enforcement = setting;
    app.tenancy.save(&state).map_err(store_failed)?;
    Ok(format!(
        "<p id=\"enforcement-saved\">Require SSO: {}; admin bypass: {}.</p>{warning}<p><a href=\"/admin/sso\">Back</a></p>",
        if setting.enabled { "on" } else { "off" },
        if setting.admins_may_bypass { "on" } else { "off" },
    ))
}

/// `?idp=`.
#[derive(Deserialize)]
pub(crate) struct GuideQuery {
    #[serde(default)]
    idp: String,
}

/// `GET /admin/guide?idp=jumpcloud`: the IdP-side setup with this app's values.
pub(crate) async fn guide(State(app): State<Arc<App>>, Query(query): Query<GuideQuery>) -> Response {
    let vendor: IdpVendor = match query.idp.parse() {
        Ok(v) => v,
        Err(e) => {
            return refused(Failure::new(
                StatusCode::NOT_FOUND,
                "No such guide",
                e.to_string(),
                e.code(),
            ))
        }
    };
    let config = &app.config;
    let mut input = GuideInput::new("fedkit example app", &config.sp_entity_id(), &config.acs_url());
    input.metadata_url = Some(config.sp_entity_id());
    input.slo_url = Some(config.slo_url());
    if config.scim_token.is_some() {
        input.scim = Some(ScimGuide {
            base_url: app.directory.base_url.clone(),
            token_with_bearer_prefix: false,
        });
    }
    let markdown = vendor.guide(&input).to_markdown();
    html_page(
        StatusCode::OK,
        "Setup guide",
        &format!("<pre id=\"guide\">{}</pre>", escape(&markdown)),
    )
    .into_response()
}
