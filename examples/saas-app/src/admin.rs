//! `/admin`: import the IdP (pasted metadata XML, or entity ID + SSO URL + certificate),
//! checked by fedkit-metadata / fedkit-saml, persisted to `idp-connection.json` in the data
//! directory and used for the next login. Protected by the `--admin-token`.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::html::{escape, page as html_page, Failure};
use crate::{App, IdpConnection};

/// The file the admin page saves the connection to.
pub(crate) const CONNECTION_FILE: &str = "idp-connection.json";

/// The saved connection, if the admin page saved one.
pub(crate) fn load(data_dir: &Path) -> Result<Option<IdpConnection>, String> {
    let path = data_dir.join(CONNECTION_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| format!("{} is not a saved IdP connection: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Writes the connection (to a temporary file first, so a crash never leaves half a file).
fn store(data_dir: &Path, idp: &IdpConnection) -> Result<(), String> {
    let path = data_dir.join(CONNECTION_FILE);
    let temporary = data_dir.join(format!("{CONNECTION_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(idp).map_err(|e| e.to_string())?;
    std::fs::write(&temporary, json)
        .and_then(|()| std::fs::rename(&temporary, &path))
        .map_err(|e| format!("cannot save {}: {e}", path.display()))
}

/// Compares without stopping at the first difference (the length may leak, the content not).
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The page saying the admin pages are off.
pub(crate) fn disabled() -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "Admin page disabled",
        "the admin page is off: start the app with --admin-token",
        "admin_disabled",
    )
}

/// Checks the admin token a form carries.
pub(crate) fn check_token(app: &App, presented: &str) -> Result<(), Failure> {
    let Some(expected) = &app.config.admin_token else {
        return Err(disabled());
    };
    if same_secret(expected, presented) {
        Ok(())
    } else {
        Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "Not allowed",
            "the admin token is wrong: use the value given to --admin-token (SAAS_ADMIN_TOKEN)",
            "admin_token_invalid",
        ))
    }
}

/// `GET /admin`: the current connection and the import forms.
pub(crate) async fn page(State(app): State<Arc<App>>) -> Response {
    if app.config.admin_token.is_none() {
        return disabled().into_response();
    }
    let current = match app.connected() {
        Ok(c) => format!(
            "<table id=\"current\"><tr><th>IdP Entity ID</th><td>{}</td></tr><tr><th>SSO URL</th><td>{}</td></tr>\
             <tr><th>SLO URL</th><td>{}</td></tr></table>",
            escape(&c.entity_id),
            escape(&c.sso_url),
            escape(c.slo_url.as_deref().unwrap_or("(none)")),
        ),
        Err(_) => "<p>No IdP is configured yet.</p>".to_owned(),
    };
    let body = format!(
        "<h2>Current IdP</h2>{current}\
         <h2>Import the IdP's metadata</h2>\
         <form method=\"post\" action=\"/admin\"><p><label>Admin token <input type=\"password\" name=\"token\" value=\"\"></label></p>\
         <p><textarea name=\"metadata_xml\" rows=\"10\" cols=\"80\" placeholder=\"&lt;md:EntityDescriptor ...\"></textarea></p>\
         <p><button>Import metadata</button></p></form>\
         <h2>Or paste what the IdP console shows</h2>\
         <form method=\"post\" action=\"/admin\"><p><label>Admin token <input type=\"password\" name=\"token\" value=\"\"></label></p>\
         <p><label>IdP Entity ID <input name=\"entity_id\" value=\"\" size=\"60\"></label></p>\
         <p><label>IDP URL (SSO) <input name=\"sso_url\" value=\"\" size=\"60\"></label></p>\
         <p><label>SLO URL (optional) <input name=\"slo_url\" value=\"\" size=\"60\"></label></p>\
         <p><textarea name=\"certificate\" rows=\"10\" cols=\"80\" placeholder=\"-----BEGIN CERTIFICATE-----\"></textarea></p>\
         <p><button>Save</button></p></form>\
         <p>SP values for the IdP: Entity ID <code>{}</code>, ACS URL <code>{}</code>.</p>",
        escape(&app.config.sp_entity_id()),
        escape(&app.config.acs_url()),
    );
    html_page(StatusCode::OK, "Admin: single sign-on", &body)
}

/// The admin's form.
#[derive(Deserialize)]
pub(crate) struct AdminForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    metadata_xml: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    sso_url: String,
    #[serde(default)]
    slo_url: String,
    #[serde(default)]
    certificate: String,
}

fn invalid(message: impl Into<String>, code: &str) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, "IdP not saved", message, code)
}

/// What the form describes, checked.
fn connection_from(app: &App, form: &AdminForm) -> Result<IdpConnection, Failure> {
    if !form.metadata_xml.trim().is_empty() {
        return IdpConnection::from_metadata(
            form.metadata_xml.as_bytes(),
            app.config.dangerous_allow_http_idp,
        )
        .map_err(|e| invalid(e, "metadata_refused"));
    }
    let entity_id = form.entity_id.trim();
    let sso_url = form.sso_url.trim();
    let slo_url = form.slo_url.trim();
    if entity_id.is_empty() || sso_url.is_empty() || form.certificate.trim().is_empty() {
        return Err(invalid(
            "paste the IdP metadata XML, or all of IdP Entity ID, IDP URL and the certificate \
             (JumpCloud: the SSO tab of the application, and certificate.pem)",
            "incomplete",
        ));
    }
    for (field, url) in [("IDP URL", sso_url), ("SLO URL", slo_url)] {
        let http_ok = app.config.dangerous_allow_http_idp && url.starts_with("http://");
        if !url.is_empty() && !url.starts_with("https://") && !http_ok {
            return Err(invalid(
                format!("the {field} {url:?} is not an https:// URL"),
                "endpoint_not_https",
            ));
        }
    }
    // fedkit-saml reads what consoles show: a PEM block, or the bare base64 body.
    let certificates_pem = fedkit_saml::connection::normalize_pasted_certificate(&form.certificate);
    Ok(IdpConnection {
        entity_id: entity_id.to_owned(),
        sso_url: sso_url.to_owned(),
        slo_url: (!slo_url.is_empty()).then(|| slo_url.to_owned()),
        certificates_pem,
    })
}

/// `POST /admin`: import, persist, switch.
pub(crate) async fn save(State(app): State<Arc<App>>, Form(form): Form<AdminForm>) -> Response {
    match save_inner(&app, &form) {
        Ok(idp) => html_page(
            StatusCode::OK,
            "IdP saved",
            &format!(
                "<p id=\"saved\">Logins now go to <code>{}</code> (IdP {}).</p><p><a href=\"/admin\">Admin</a></p>",
                escape(&idp.sso_url),
                escape(&idp.entity_id)
            ),
        ),
        Err(failure) => failure.into_response(),
    }
}

fn save_inner(app: &App, form: &AdminForm) -> Result<IdpConnection, Failure> {
    check_token(app, &form.token)?;
    let idp = connection_from(app, form)?;
    // Checked (the certificate parses) before anything is saved.
    crate::IdpConnection::identity_provider(&idp).map_err(|e| invalid(e, "certificate_refused"))?;
    store(&app.config.data_dir, &idp).map_err(|e| {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "IdP not saved",
            e,
            "save_failed",
        )
    })?;
    app.set_idp(idp.clone())
        .map_err(|e| invalid(e, "certificate_refused"))?;
    Ok(idp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(same_secret("admin-token-123", "admin-token-123"));
        assert!(!same_secret("admin-token-123", "admin-token-124"));
        assert!(!same_secret("admin-token-123", "admin-token-12"));
        assert!(!same_secret("admin-token-123", ""));
    }
}
