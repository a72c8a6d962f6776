//! Refusals: every route answers one with a stable code in the [`ERROR_HEADER`] header.

use actix_web::http::StatusCode;
use fedkit_saml::flow::StartError;
use fedkit_saml::render::{self, Refusal};
use fedkit_saml::request::SignError;

/// The response header every refusal of this crate's SAML routes carries: the refusal's
/// stable `snake_case` code (`login_not_started_here`, `replay`, `user_deactivated`, …), for
/// tests, monitoring and support. It quotes nothing from the request. (SCIM refusals are
/// SCIM Error documents and do not carry it.)
pub const ERROR_HEADER: &str = "X-Fedkit-Error";

/// Why a SAML route refused a request. [`code`](Self::code) is stable,
/// [`user_message`](Self::user_message) quotes nothing from the request, and the `Display`
/// text is the admin message, which may quote attacker-controlled values (escape it before
/// putting it in a page; [`render::error_html`] does).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SsoError {
    /// fedkit refused the SAML message (Response at the ACS, logout message at the SLO URL):
    /// `login_not_started_here`, `replay`, `signature_invalid`, …
    #[error(transparent)]
    Saml(#[from] fedkit_saml::Error),
    /// The login could not start (request store full or down, signing failed).
    #[error(transparent)]
    Start(#[from] StartError),
    /// A logout message could not be signed with the SP key.
    #[error("the logout message could not be signed: {0}")]
    Sign(#[from] SignError),
    /// The host refused an otherwise valid login ([`SsoHost::check`](crate::SsoHost::check)),
    /// e.g. a user SCIM deactivated.
    #[error(transparent)]
    Host(#[from] HostRefusal),
    /// The SCIM directory refused the user ([`SsoBuilder::with_directory`](crate::SsoBuilder::with_directory)):
    /// `user_not_provisioned`, `user_deactivated`, or the lookup failed.
    #[error(transparent)]
    Directory(#[from] crate::DirectoryError),
    /// Two states with in-memory stores serve the same ACS URL in this process: the state was
    /// built inside `HttpServer::new`'s closure, once per worker.
    #[error("the SAML state for {acs_url} was built more than once in this process (inside HttpServer::new's closure, once per worker?), so each worker has its own in-memory request store and replay cache and a replayed Response could be accepted by another worker; build the Sso once, before HttpServer::new, and call sso.routes() inside the closure (or give every state the same shared stores with SsoBuilder::with_stores)")]
    StatePerWorker {
        /// The ACS URL.
        acs_url: String,
    },
    /// A required form or query field is missing.
    #[error("the request has no {field} field; it must come from the IdP's HTTP-POST form (or the HTTP-Redirect query)")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// The posted form is larger than the route's limit (see
    /// [`SsoBuilder`](crate::SsoBuilder): derived from `Settings::max_message_bytes`).
    #[error("the posted form is larger than {limit} bytes, the limit derived from the largest SAML message this SP accepts (Settings::max_message_bytes); raise that setting if the IdP's Responses are this large")]
    FormTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The posted body is not an `application/x-www-form-urlencoded` form.
    #[error("the request body is not a usable HTML form ({reason}); the IdP must post an application/x-www-form-urlencoded form")]
    BadForm {
        /// What was wrong.
        reason: String,
    },
    /// The login start's return path is not a path on this site.
    #[error("the return path {found:?} is not a path on this site of at most 2048 bytes (it must start with a single '/'); the login was not started, so the browser cannot be sent elsewhere after it")]
    ReturnPath {
        /// The value received.
        found: String,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed ({detail}); no login or logout can start until it works")]
    Randomness {
        /// What failed.
        detail: String,
    },
    /// actix-web's blocking thread pool did not run the check (shutting down or full).
    #[error("the blocking thread pool did not run the check ({detail}); retry when the server is not shutting down")]
    Blocking {
        /// What failed.
        detail: String,
    },
}

impl SsoError {
    /// A stable `snake_case` code for logs, metrics and the [`ERROR_HEADER`] header.
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::Saml(e) => e.code(),
            SsoError::Start(e) => e.code(),
            SsoError::Sign(e) => e.code(),
            SsoError::Host(e) => e.code,
            SsoError::Directory(e) => e.code(),
            SsoError::StatePerWorker { .. } => "state_per_worker",
            SsoError::MissingField { .. } => "missing_field",
            SsoError::FormTooLarge { .. } => "form_too_large",
            SsoError::BadForm { .. } => "bad_form",
            SsoError::ReturnPath { .. } => "return_path_not_local",
            SsoError::Randomness { .. } => "randomness_unavailable",
            SsoError::Blocking { .. } => "blocking_pool_unavailable",
        }
    }

    /// A short message for the end user (one of [`render`]'s constants), quoting nothing.
    pub fn user_message(&self) -> &'static str {
        match self {
            SsoError::Saml(e) => e.user_message(),
            SsoError::Start(e) => e.user_message(),
            SsoError::Host(e) => e.user_message,
            SsoError::Directory(e) => e.user_message(),
            SsoError::MissingField { .. } | SsoError::ReturnPath { .. } | SsoError::BadForm { .. } => {
                render::START_AGAIN
            }
            SsoError::FormTooLarge { .. } => render::ASK_ADMIN,
            SsoError::Randomness { .. } | SsoError::Blocking { .. } => render::TRY_AGAIN_LATER,
            SsoError::Sign(_) | SsoError::StatePerWorker { .. } => render::ASK_ADMIN,
        }
    }

    /// The HTTP status the default error page answers with: 400 for a malformed request, 503
    /// when the SP's own stores or threads cannot answer (retry later), 500 for the SP's
    /// signing key or a state built per worker, 403 for every other refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            SsoError::MissingField { .. } | SsoError::ReturnPath { .. } | SsoError::BadForm { .. } => {
                StatusCode::BAD_REQUEST
            }
            SsoError::FormTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            SsoError::Sign(_) | SsoError::StatePerWorker { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ if self.user_message() == render::TRY_AGAIN_LATER => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

impl Refusal for SsoError {
    fn code(&self) -> &'static str {
        SsoError::code(self)
    }

    fn user_message(&self) -> &'static str {
        SsoError::user_message(self)
    }
}

/// The host's reason to refuse a valid login ([`SsoHost::check`](crate::SsoHost::check)):
/// a stable code, an end-user message quoting nothing, and an admin message.
///
/// ```
/// use fedkit_actix::HostRefusal;
/// use fedkit_saml::render::ASK_ADMIN;
/// let refusal = HostRefusal::new("not_licensed", ASK_ADMIN, "jane@example.com has no seat");
/// assert_eq!(refusal.code, "not_licensed");
/// assert_eq!(refusal.to_string(), "jane@example.com has no seat");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{admin_message}")]
#[non_exhaustive]
pub struct HostRefusal {
    /// The stable `snake_case` code.
    pub code: &'static str,
    /// The end-user message (quote nothing from the request).
    pub user_message: &'static str,
    /// The admin message (logged, never shown unescaped).
    pub admin_message: String,
}

impl HostRefusal {
    /// A refusal with this code, end-user message and admin message.
    pub fn new(code: &'static str, user_message: &'static str, admin_message: impl Into<String>) -> Self {
        Self {
            code,
            user_message,
            admin_message: admin_message.into(),
        }
    }

    /// The refusal of any [`Refusal`] (e.g. [`DirectoryError`](crate::DirectoryError)).
    pub fn from_refusal(refusal: &dyn Refusal) -> Self {
        Self::new(refusal.code(), refusal.user_message(), refusal.to_string())
    }
}
