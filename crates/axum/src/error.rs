//! Refusals the adapter itself makes (before or around fedkit-saml's checks), and the header
//! that names every refusal's code.

use axum::http::StatusCode;
use fedkit_saml::flow::StartError;
use fedkit_saml::render::{Refusal, ASK_ADMIN, TRY_AGAIN_LATER};

/// The response header naming the stable code of a refusal (`X-Fedkit-Error:
/// login_not_started_here`), on every refusal the SAML routes answer, whatever page the host
/// renders: for logs, monitoring and tests.
pub const ERROR_HEADER: &str = "x-fedkit-error";

/// Why a SAML route refused, when the reason is not a fedkit-saml check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// No IdP connection is set up.
    #[error("single sign-on is not set up: no IdP connection was given (Saml::new with a Connection, or Saml::set_connection)")]
    NoConnection,
    /// A logout message arrived but Single Logout is not configured.
    #[error("a Single Logout message arrived, but Single Logout is not configured: call Connection::with_single_logout")]
    NoSingleLogout,
    /// The form could not be read (not `application/x-www-form-urlencoded`, or no
    /// `SAMLResponse`).
    #[error("the posted form could not be read ({0}); the IdP must POST an application/x-www-form-urlencoded form with a SAMLResponse field")]
    Form(String),
    /// The login could not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The request store could not remember a logout request.
    #[error("the request store could not remember the logout request ({0}); check the store")]
    Store(String),
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// A logout message could not be signed.
    #[error("the logout message could not be signed: {0}; check the SP signing key")]
    Signing(String),
    /// A blocking task failed (panicked or was cancelled).
    #[error("internal error: {0}")]
    Internal(String),
}

impl RouteError {
    /// A stable `snake_case` code.
    pub fn code(&self) -> &'static str {
        match self {
            RouteError::NoConnection => "no_idp",
            RouteError::NoSingleLogout => "no_single_logout",
            RouteError::Form(_) => "bad_form",
            RouteError::Start(e) => e.code(),
            RouteError::Store(_) => "request_store_unavailable",
            RouteError::Random(_) => "random_failed",
            RouteError::Signing(_) => "logout_signing_failed",
            RouteError::Internal(_) => "internal",
        }
    }

    /// The HTTP status the routes answer with.
    pub fn status(&self) -> StatusCode {
        match self {
            RouteError::NoConnection | RouteError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            // The stores are full or down: try later; the request could not be signed: a
            // configuration problem.
            RouteError::Start(e) if e.user_message() == TRY_AGAIN_LATER => StatusCode::SERVICE_UNAVAILABLE,
            RouteError::Start(_) => StatusCode::INTERNAL_SERVER_ERROR,
            RouteError::NoSingleLogout => StatusCode::NOT_FOUND,
            RouteError::Form(_) => StatusCode::BAD_REQUEST,
            RouteError::Random(_) | RouteError::Signing(_) | RouteError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl Refusal for RouteError {
    fn code(&self) -> &'static str {
        RouteError::code(self)
    }

    fn user_message(&self) -> &'static str {
        match self {
            RouteError::Start(e) => e.user_message(),
            RouteError::Store(_) | RouteError::Random(_) | RouteError::Internal(_) => TRY_AGAIN_LATER,
            _ => ASK_ADMIN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let full = RouteError::Start(StartError::RequestStoreFull { capacity: 1 });
        assert_eq!(full.code(), "request_store_full");
        assert_eq!(full.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(Refusal::user_message(&full), TRY_AGAIN_LATER);
        assert_eq!(RouteError::NoConnection.code(), "no_idp");
        assert_eq!(RouteError::NoConnection.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(RouteError::Form(String::new()).status(), StatusCode::BAD_REQUEST);
        assert_eq!(RouteError::NoSingleLogout.status(), StatusCode::NOT_FOUND);
    }
}
