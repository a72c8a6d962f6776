//! The host's side: the [`SsoHost`] callbacks, [`LoggedOut`] and the default error page.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use fedkit_saml::logout::LogoutRequest;
use fedkit_saml::render::{error_html, Detail};
use fedkit_saml::{Login, NameId};

use crate::error::{HostRefusal, SsoError};

/// What the host does at the moments only it can: open its session after a login, end it at
/// logout, and (optionally) refuse a valid login or draw the error page.
///
/// [`check`](Self::check) and [`idp_logout`](Self::idp_logout) run on actix-web's blocking
/// thread pool (they may query a database); the others on the worker thread, so keep them
/// quick (no blocking I/O).
pub trait SsoHost: Send + Sync + 'static {
    /// A last check of a login fedkit accepted, before [`logged_in`](Self::logged_in): e.g.
    /// [`Scim::check_login`](crate::Scim::check_login) refuses a user SCIM deactivated. The
    /// default accepts every login.
    fn check(&self, login: &Login) -> Result<(), HostRefusal> {
        let _ = login;
        Ok(())
    }

    /// The user logged in: open the host's session and add its cookie to `response`, a `303
    /// See Other` to where the login started from ([`Login::redirect_target`]: a path on this
    /// site) or else to the after-login path
    /// ([`SsoBuilder::with_after_login`](crate::SsoBuilder::with_after_login), default `/`). Add headers with `append_header` (or `insert_header` to replace the
    /// `Location`); the adapter then appends the `Set-Cookie` that deletes the login cookie.
    fn logged_in(&self, request: &HttpRequest, login: Login, response: &mut HttpResponseBuilder);

    /// The user asked to log out (`POST` to the logout path): end the session of `request`
    /// (add the `Set-Cookie` that deletes the session cookie to `response`), and say who was
    /// logged in, so that the IdP is asked to end its session too (when Single Logout is
    /// configured). `None` when there was no session.
    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut>;

    /// The IdP asked to end the sessions of `request.name_id()` (with one of
    /// `request.session_indexes()`, or all when there is none): a verified, signed
    /// LogoutRequest. The adapter then answers the IdP with a LogoutResponse.
    fn idp_logout(&self, request: &LogoutRequest);

    /// The page for a refusal. The adapter adds the [`ERROR_HEADER`](crate::ERROR_HEADER) header and logs the
    /// admin message (`log::warn!`). The default is [`default_error_page`].
    fn error_page(&self, request: &HttpRequest, error: &SsoError) -> HttpResponse {
        let _ = request;
        default_error_page(error)
    }
}

/// A host shared with the rest of the application (e.g. to reach its sessions elsewhere).
impl<T: SsoHost> SsoHost for Arc<T> {
    fn check(&self, login: &Login) -> Result<(), HostRefusal> {
        T::check(self, login)
    }

    fn logged_in(&self, request: &HttpRequest, login: Login, response: &mut HttpResponseBuilder) {
        T::logged_in(self, request, login, response);
    }

    fn logout(&self, request: &HttpRequest, response: &mut HttpResponseBuilder) -> Option<LoggedOut> {
        T::logout(self, request, response)
    }

    fn idp_logout(&self, request: &LogoutRequest) {
        T::idp_logout(self, request);
    }

    fn error_page(&self, request: &HttpRequest, error: &SsoError) -> HttpResponse {
        T::error_page(self, request, error)
    }
}

/// Who logged out, for the LogoutRequest sent to the IdP: the NameID and SessionIndex of the
/// login ([`Login::assertion`]'s `name_id()` and `session_index()`), which the host kept in
/// its session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedOut {
    /// The NameID.
    pub name_id: NameId,
    /// The SessionIndex, when the IdP gave one.
    pub session_index: Option<String>,
}

impl LoggedOut {
    /// The subject of a login.
    pub fn new(name_id: NameId, session_index: Option<String>) -> Self {
        Self {
            name_id,
            session_index,
        }
    }

    /// The subject of `login` (what the host keeps in its session).
    pub fn of(login: &Login) -> Self {
        Self::new(
            login.assertion().name_id().clone(),
            login.assertion().session_index().map(str::to_owned),
        )
    }
}

/// The default error page: status [`SsoError::status`], a minimal HTML page around
/// [`error_html`] with [`Detail::EndUser`] (the end-user message and the code, nothing
/// from the request).
pub fn default_error_page(error: &SsoError) -> HttpResponse {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head><body>{}</body></html>",
        error_html(error, Detail::EndUser)
    );
    HttpResponse::build(error.status())
        .content_type("text/html; charset=utf-8")
        .body(body)
}
